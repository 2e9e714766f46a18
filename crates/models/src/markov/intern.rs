//! String interning for the Markov tables: every command name, param name and value becomes a
//! dense `u32` id, so the tables are vectors and integer-keyed maps instead of string maps.
//!
//! Ids are handed out in first-seen order, which is the key order msticpy's dicts have (the
//! reserved tokens are pre-seeded, see [`super::counts`]). Lookups hash with the standard
//! library's keyed SipHash: names come from attacker-controlled logs, so a hash that can be
//! flooded with collisions is not an option.

use super::{FastMap, MarkovError};

/// A table of distinct strings, each with a dense id (its position).
#[derive(Clone, Debug, Default)]
pub(crate) struct Interner {
    names: Vec<Box<str>>,
    ids: FastMap<Box<str>, u32>,
}

impl PartialEq for Interner {
    fn eq(&self, other: &Self) -> bool {
        // `ids` is derived from `names`.
        self.names == other.names
    }
}

impl Interner {
    /// An interner holding `reserved` at ids 0, 1, ...
    pub(crate) fn with_reserved(reserved: &[&str]) -> Self {
        let mut interner = Interner::default();
        for name in reserved {
            // Cannot fail: a handful of names.
            let _ = interner.intern(name, "reserved");
        }
        interner
    }

    /// Rebuilds an interner from its names (ids = positions); `None` if a name repeats.
    pub(crate) fn from_names(names: Vec<String>) -> Option<Self> {
        let mut ids = FastMap::with_capacity_and_hasher(names.len(), Default::default());
        let mut boxed = Vec::with_capacity(names.len());
        for (i, name) in names.into_iter().enumerate() {
            let id = u32::try_from(i).ok()?;
            let name: Box<str> = name.into_boxed_str();
            if ids.insert(name.clone(), id).is_some() {
                return None;
            }
            boxed.push(name);
        }
        Some(Interner { names: boxed, ids })
    }

    /// The id of `name`, if it has one.
    #[inline]
    pub(crate) fn get(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }

    /// The id of `name`, giving it the next id if it is new. `table` names the table for the
    /// (theoretical) error of running out of 32-bit ids.
    #[inline]
    pub(crate) fn intern(&mut self, name: &str, table: &'static str) -> Result<u32, MarkovError> {
        if let Some(id) = self.ids.get(name) {
            return Ok(*id);
        }
        let id =
            u32::try_from(self.names.len()).map_err(|_| MarkovError::TooManyNames { table })?;
        let name: Box<str> = name.into();
        self.ids.insert(name.clone(), id);
        self.names.push(name);
        Ok(id)
    }

    /// The name with id `id` (ids come from this interner).
    #[inline]
    pub(crate) fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", |n| n)
    }

    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }

    pub(crate) fn names(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.names.iter().map(|n| &**n)
    }
}
