//! The training state of the Markov model: raw counts, mergeable across shards.
//!
//! Counting follows spec §2.1 (msticpy's `compute_counts`): per session one START and one END,
//! every command name, every transition including START → first and last → END, and (params
//! types) every param per command and (values type) every truthy value per param. Key order is
//! first-seen order, as msticpy's dicts keep it; it matters only for the order of each
//! command's params (spec §2.5), which is why `cmd_param` rows are ordered lists.
//!
//! Counts add: [`MarkovCounts::merge`] of the counts of A and of B equals the counts of A's
//! sessions followed by B's, first-seen order included, so shards can be trained apart.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::intern::Interner;
use super::{Command, FastMap, MarkovError, SessionType, END_TOKEN, START_TOKEN, UNK_TOKEN};

/// Command id of the start token.
pub(crate) const START: u32 = 0;
/// Command id of the end token.
pub(crate) const END: u32 = 1;
/// Command id of the unknown token.
pub(crate) const UNK_CMD: u32 = 2;
/// Param id (and value id) of the unknown token.
pub(crate) const UNK: u32 = 0;

/// Rows of `cmd_param` shorter than this are searched linearly and not indexed.
const SHORT_ROW: usize = 16;

/// Bound on the total of a count table (2^50), leaving room for smoothing below 2^53.
const MAX_TOTAL: u64 = 1 << 50;

/// Version of the serialised layout.
const COUNTS_FORMAT: u32 = 1;

/// Raw (unsmoothed) counts of the training sessions: the mergeable training state.
///
/// Strings are interned: each table is a vector or an integer-keyed map, and the serialised
/// form lists every name once.
#[derive(Clone, Debug)]
pub struct MarkovCounts {
    pub(crate) session_type: SessionType,
    pub(crate) sessions: u64,
    /// Command names; ids 0, 1, 2 are START, END, UNK.
    pub(crate) commands: Interner,
    /// Param names; id 0 is UNK.
    pub(crate) params: Interner,
    /// Values; id 0 is UNK.
    pub(crate) values: Interner,
    /// `seq1[command]`.
    pub(crate) seq1: Vec<u64>,
    /// `seq2[(prev, next)]`.
    pub(crate) seq2: FastMap<(u32, u32), u64>,
    /// `param[param]`.
    pub(crate) param: Vec<u64>,
    /// `cmd_param[command]`: `(param, count)` in first-seen order.
    pub(crate) cmd_param: Vec<Vec<(u32, u64)>>,
    /// Position of `(command, param)` in `cmd_param[command]` for rows of at least
    /// `SHORT_ROW` params (derived).
    cmd_param_pos: FastMap<(u32, u32), u32>,
    /// `value[value]`.
    pub(crate) value: Vec<u64>,
    /// `param_value[(param, value)]`.
    pub(crate) param_value: FastMap<(u32, u32), u64>,
    /// Reused per-command buffer of `(param, value)` ids.
    scratch: Vec<(u32, Option<u32>)>,
}

impl PartialEq for MarkovCounts {
    fn eq(&self, other: &Self) -> bool {
        // `cmd_param_pos` and `scratch` are derived / transient.
        self.session_type == other.session_type
            && self.sessions == other.sessions
            && self.commands == other.commands
            && self.params == other.params
            && self.values == other.values
            && self.seq1 == other.seq1
            && self.seq2 == other.seq2
            && self.param == other.param
            && self.cmd_param == other.cmd_param
            && self.value == other.value
            && self.param_value == other.param_value
    }
}

impl MarkovCounts {
    /// Empty counts for sessions of `session_type`.
    pub fn new(session_type: SessionType) -> Self {
        MarkovCounts {
            session_type,
            sessions: 0,
            commands: Interner::with_reserved(&[START_TOKEN, END_TOKEN, UNK_TOKEN]),
            params: Interner::with_reserved(&[UNK_TOKEN]),
            values: Interner::with_reserved(&[UNK_TOKEN]),
            seq1: vec![0; 3],
            seq2: FastMap::default(),
            param: vec![0],
            cmd_param: vec![Vec::new(); 3],
            cmd_param_pos: FastMap::default(),
            value: vec![0],
            param_value: FastMap::default(),
            scratch: Vec::new(),
        }
    }

    /// The session type these counts were made for.
    pub fn session_type(&self) -> SessionType {
        self.session_type
    }

    /// Number of sessions counted.
    pub fn sessions(&self) -> u64 {
        self.sessions
    }

    /// Number of distinct command names seen (reserved tokens excluded unless used as names).
    pub fn distinct_commands(&self) -> usize {
        self.commands.len() - 3 + usize::from(self.seq1[UNK_CMD as usize] > 0)
    }

    /// Counts one session (spec §2.1).
    ///
    /// Refuses an empty session and a command named `##END##` (spec Q8) without changing the
    /// counts.
    pub fn observe(&mut self, session: &[Command]) -> Result<(), MarkovError> {
        self.observe_recording(session, None)
    }

    /// [`observe`](Self::observe), also appending the session's ids to `corpus` so it can be
    /// scored later without looking its strings up again.
    pub(crate) fn observe_recording(
        &mut self,
        session: &[Command],
        mut corpus: Option<&mut Corpus>,
    ) -> Result<(), MarkovError> {
        if session.is_empty() {
            return Err(MarkovError::EmptySession {
                session: Some(self.sessions),
            });
        }
        if let Some(position) = session.iter().position(|c| c.name == END_TOKEN) {
            return Err(MarkovError::ReservedName {
                name: END_TOKEN.to_string(),
                session: Some(self.sessions),
                position,
            });
        }
        self.seq1[START as usize] += 1;
        let mut prev = START;
        for command in session {
            let name = self.commands.intern(&command.name, "command names")?;
            self.grow_commands();
            self.seq1[name as usize] += 1;
            *self.seq2.entry((prev, name)).or_insert(0) += 1;
            prev = name;
            if self.session_type.has_params() && !command.params.is_empty() {
                self.observe_params(name, command, corpus.as_deref_mut())?;
            }
            if let Some(corpus) = corpus.as_deref_mut() {
                corpus.names.push(name);
                corpus.param_ends.push(corpus.params.len());
            }
        }
        *self.seq2.entry((prev, END)).or_insert(0) += 1;
        self.seq1[END as usize] += 1;
        self.sessions += 1;
        if let Some(corpus) = corpus {
            corpus.session_ends.push(corpus.names.len());
        }
        Ok(())
    }

    /// Counts the params (and values) of one command.
    fn observe_params(
        &mut self,
        name: u32,
        command: &Command,
        corpus: Option<&mut Corpus>,
    ) -> Result<(), MarkovError> {
        let with_values = self.session_type.has_values();
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        // First the dict: (param id, position of the pair whose value counts). Values are
        // interned only once known to count, so no value ends up with a zero count.
        for (position, (param, value)) in command.params.iter().enumerate() {
            let param = self.params.intern(param, "param names")?;
            // Python truthiness: None and "" are no value (spec §2.1).
            let truthy = with_values && value.as_deref().is_some_and(|v| !v.is_empty());
            // Positions fit in u32: a command has fewer params than there are ids.
            push_dict_entry(&mut scratch, param, truthy.then_some(position as u32));
        }
        self.param.resize(self.params.len(), 0);
        for entry in scratch.iter_mut() {
            let (param, position) = *entry;
            self.param[param as usize] += 1;
            self.add_cmd_param(name, param, 1);
            let value = position.and_then(|i| command.params[i as usize].1.as_deref());
            entry.1 = None;
            if let Some(value) = value {
                let value = self.values.intern(value, "values")?;
                self.value.resize(self.values.len(), 0);
                self.value[value as usize] += 1;
                *self.param_value.entry((param, value)).or_insert(0) += 1;
                entry.1 = Some(value);
            }
        }
        if let Some(corpus) = corpus {
            corpus.params.extend_from_slice(&scratch);
        }
        self.scratch = scratch;
        Ok(())
    }

    fn grow_commands(&mut self) {
        if self.seq1.len() < self.commands.len() {
            self.seq1.resize(self.commands.len(), 0);
            self.cmd_param.resize(self.commands.len(), Vec::new());
        }
    }

    fn add_cmd_param(&mut self, name: u32, param: u32, count: u64) {
        let row = &mut self.cmd_param[name as usize];
        // Most commands take a handful of params: scanning the row beats hashing. Long rows
        // (and their index) switch to the map.
        if row.len() <= SHORT_ROW {
            if let Some(entry) = row.iter_mut().find(|e| e.0 == param) {
                entry.1 += count;
                return;
            }
            if row.len() < SHORT_ROW {
                row.push((param, count));
                return;
            }
            // The row is about to outgrow scanning: index it.
            for (pos, &(p, _)) in row.iter().enumerate() {
                self.cmd_param_pos.insert((name, p), pos as u32);
            }
        }
        match self.cmd_param_pos.get(&(name, param)) {
            Some(&pos) => row[pos as usize].1 += count,
            None => {
                // Row length is bounded by the number of params (< 2^32).
                self.cmd_param_pos.insert((name, param), row.len() as u32);
                row.push((param, count));
            }
        }
    }

    /// Adds `other`'s counts to these, as if `other`'s sessions had been observed after this
    /// one's: names new to `self` get ids in `other`'s first-seen order and params new to a
    /// command's row are appended in `other`'s row order, so the result equals counting the
    /// concatenated sessions.
    pub fn merge(&mut self, other: &MarkovCounts) -> Result<(), MarkovError> {
        self.merge_mapped(other).map(|_| ())
    }

    /// [`merge`](Self::merge), returning where `other`'s ids went.
    pub(crate) fn merge_mapped(&mut self, other: &MarkovCounts) -> Result<IdMaps, MarkovError> {
        if self.session_type != other.session_type {
            return Err(MarkovError::SessionTypeMismatch {
                left: self.session_type,
                right: other.session_type,
            });
        }
        let commands = other
            .commands
            .names()
            .map(|n| self.commands.intern(n, "command names"))
            .collect::<Result<Vec<u32>, _>>()?;
        let params = other
            .params
            .names()
            .map(|n| self.params.intern(n, "param names"))
            .collect::<Result<Vec<u32>, _>>()?;
        let values = other
            .values
            .names()
            .map(|n| self.values.intern(n, "values"))
            .collect::<Result<Vec<u32>, _>>()?;
        self.grow_commands();
        self.param.resize(self.params.len(), 0);
        self.value.resize(self.values.len(), 0);

        self.sessions += other.sessions;
        for (id, &count) in other.seq1.iter().enumerate() {
            self.seq1[commands[id] as usize] += count;
        }
        for (&(prev, next), &count) in &other.seq2 {
            *self
                .seq2
                .entry((commands[prev as usize], commands[next as usize]))
                .or_insert(0) += count;
        }
        for (id, &count) in other.param.iter().enumerate() {
            self.param[params[id] as usize] += count;
        }
        for (cmd, row) in other.cmd_param.iter().enumerate() {
            for &(param, count) in row {
                self.add_cmd_param(commands[cmd], params[param as usize], count);
            }
        }
        for (id, &count) in other.value.iter().enumerate() {
            self.value[values[id] as usize] += count;
        }
        for (&(param, value), &count) in &other.param_value {
            *self
                .param_value
                .entry((params[param as usize], values[value as usize]))
                .or_insert(0) += count;
        }
        Ok(IdMaps {
            commands,
            params,
            values,
        })
    }

    /// Looks a command name up.
    pub(crate) fn command_id(&self, name: &str) -> Option<u32> {
        self.commands.get(name)
    }

    /// Rebuilds the derived index after deserialising.
    fn rebuild_index(&mut self) {
        self.cmd_param_pos.clear();
        for (cmd, row) in self.cmd_param.iter().enumerate() {
            if row.len() < SHORT_ROW {
                continue;
            }
            for (pos, &(param, _)) in row.iter().enumerate() {
                self.cmd_param_pos.insert((cmd as u32, param), pos as u32);
            }
        }
    }
}

/// Where the ids of merged-in counts went: `commands[old id] = new id`, and so on.
pub(crate) struct IdMaps {
    commands: Vec<u32>,
    params: Vec<u32>,
    values: Vec<u32>,
}

/// Training sessions as ids, recorded while counting, for scoring them without a second
/// round of string lookups (train-and-score workloads such as msticpy's `score_sessions`).
#[derive(Default)]
pub(crate) struct Corpus {
    /// Command ids of all sessions, concatenated.
    pub(crate) names: Vec<u32>,
    /// End of each session in `names`.
    pub(crate) session_ends: Vec<usize>,
    /// End of each command's params in `params`.
    pub(crate) param_ends: Vec<usize>,
    /// `(param, truthy value)` ids of every command, dict semantics.
    pub(crate) params: Vec<(u32, Option<u32>)>,
}

impl Corpus {
    /// Rewrites the ids after the counts they refer to were merged into others.
    pub(crate) fn remap(&mut self, maps: &IdMaps) {
        for id in &mut self.names {
            *id = maps.commands[*id as usize];
        }
        for (param, value) in &mut self.params {
            *param = maps.params[*param as usize];
            if let Some(v) = value {
                *v = maps.values[*v as usize];
            }
        }
    }

    /// Appends `other` (sessions after this corpus's).
    pub(crate) fn append(&mut self, other: Corpus) {
        let (names, params) = (self.names.len(), self.params.len());
        self.names.extend(other.names);
        self.session_ends
            .extend(other.session_ends.into_iter().map(|e| e + names));
        self.param_ends
            .extend(other.param_ends.into_iter().map(|e| e + params));
        self.params.extend(other.params);
    }

    pub(crate) fn sessions(&self) -> usize {
        self.session_ends.len()
    }

    /// Command range of session `i` in `names` / `param_ends`.
    pub(crate) fn session(&self, i: usize) -> std::ops::Range<usize> {
        let start = if i == 0 { 0 } else { self.session_ends[i - 1] };
        start..self.session_ends[i]
    }

    /// Params of command `j` (index into `names`).
    pub(crate) fn command_params(&self, j: usize) -> &[(u32, Option<u32>)] {
        let start = if j == 0 { 0 } else { self.param_ends[j - 1] };
        &self.params[start..self.param_ends[j]]
    }
}

/// Adds `(param, value)` to a command's params with Python-dict semantics: a repeated name
/// keeps its first position and takes the last value.
#[inline]
pub(crate) fn push_dict_entry(
    entries: &mut Vec<(u32, Option<u32>)>,
    param: u32,
    value: Option<u32>,
) {
    // Commands have a handful of params; a linear scan beats hashing. A pathological command
    // with thousands of params costs quadratic time in its own length only.
    if let Some(entry) = entries.iter_mut().find(|(p, _)| *p == param) {
        entry.1 = value;
    } else {
        entries.push((param, value));
    }
}

// ----- serialisation -----------------------------------------------------------------------

/// Serialised layout: every name once, tables as id-indexed vectors and sorted triples.
#[derive(Serialize)]
struct CountsReprRef<'a> {
    format: u32,
    session_type: SessionType,
    sessions: u64,
    commands: Vec<&'a str>,
    params: Vec<&'a str>,
    values: Vec<&'a str>,
    seq1: &'a [u64],
    seq2: Vec<(u32, u32, u64)>,
    param: &'a [u64],
    cmd_param: &'a [Vec<(u32, u64)>],
    value: &'a [u64],
    param_value: Vec<(u32, u32, u64)>,
}

#[derive(Deserialize)]
struct CountsRepr {
    format: u32,
    session_type: SessionType,
    sessions: u64,
    commands: Vec<String>,
    params: Vec<String>,
    values: Vec<String>,
    seq1: Vec<u64>,
    seq2: Vec<(u32, u32, u64)>,
    param: Vec<u64>,
    cmd_param: Vec<Vec<(u32, u64)>>,
    value: Vec<u64>,
    param_value: Vec<(u32, u32, u64)>,
}

fn sorted_triples(map: &FastMap<(u32, u32), u64>) -> Vec<(u32, u32, u64)> {
    let mut triples: Vec<(u32, u32, u64)> = map.iter().map(|(&(a, b), &n)| (a, b, n)).collect();
    triples.sort_unstable();
    triples
}

impl Serialize for MarkovCounts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        CountsReprRef {
            format: COUNTS_FORMAT,
            session_type: self.session_type,
            sessions: self.sessions,
            commands: self.commands.names().collect(),
            params: self.params.names().collect(),
            values: self.values.names().collect(),
            seq1: &self.seq1,
            seq2: sorted_triples(&self.seq2),
            param: &self.param,
            cmd_param: &self.cmd_param,
            value: &self.value,
            param_value: sorted_triples(&self.param_value),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for MarkovCounts {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let repr = CountsRepr::deserialize(deserializer)?;
        MarkovCounts::try_from(repr).map_err(serde::de::Error::custom)
    }
}

fn corrupt(reason: impl Into<String>) -> MarkovError {
    MarkovError::Corrupt {
        reason: reason.into(),
    }
}

impl TryFrom<CountsRepr> for MarkovCounts {
    type Error = MarkovError;

    /// Checks every invariant the model relies on, so a damaged file is refused here rather
    /// than producing wrong numbers or a panic later.
    fn try_from(r: CountsRepr) -> Result<Self, MarkovError> {
        if r.format != COUNTS_FORMAT {
            return Err(corrupt(format!(
                "layout version {} is not the supported version {COUNTS_FORMAT}",
                r.format
            )));
        }
        if r.commands.get(..3)
            != Some(&[START_TOKEN.into(), END_TOKEN.into(), UNK_TOKEN.into()][..])
            || r.params.first().map(String::as_str) != Some(UNK_TOKEN)
            || r.values.first().map(String::as_str) != Some(UNK_TOKEN)
        {
            return Err(corrupt("reserved tokens missing from the name tables"));
        }
        let commands =
            Interner::from_names(r.commands).ok_or_else(|| corrupt("a command name repeats"))?;
        let params =
            Interner::from_names(r.params).ok_or_else(|| corrupt("a param name repeats"))?;
        let values = Interner::from_names(r.values).ok_or_else(|| corrupt("a value repeats"))?;
        let (nc, np, nv) = (commands.len(), params.len(), values.len());
        if r.seq1.len() != nc
            || r.cmd_param.len() != nc
            || r.param.len() != np
            || r.value.len() != nv
        {
            return Err(corrupt("table lengths do not match the name tables"));
        }
        // Every interned name was seen in training (the model relies on it: spec §2.3's key
        // lists are exactly the seen names).
        let unseen =
            |counts: &[u64], first_real: usize| counts.iter().skip(first_real).any(|&n| n == 0);
        if unseen(&r.seq1, 3) || unseen(&r.param, 1) || unseen(&r.value, 1) {
            return Err(corrupt("a name has a zero count"));
        }
        // Probabilities are exact quotients of counts below 2^53 (spec §6); larger totals can
        // only come from a damaged or forged file.
        let bounded = |counts: &[u64]| {
            counts
                .iter()
                .try_fold(0u64, |total, &n| total.checked_add(n))
                .is_some_and(|total| total < MAX_TOTAL)
        };
        if !bounded(&r.seq1) || !bounded(&r.param) || !bounded(&r.value) {
            return Err(corrupt("counts too large"));
        }
        if r.seq1[END as usize] != r.sessions || r.seq1[START as usize] < r.sessions {
            return Err(corrupt(
                "start/end counts do not match the number of sessions",
            ));
        }
        let in_range = |id: u32, n: usize| (id as usize) < n;
        let mut row_sums = vec![0u64; nc];
        let mut col_sums = vec![0u64; nc];
        let mut seq2 = FastMap::with_capacity_and_hasher(r.seq2.len(), Default::default());
        for &(a, b, n) in &r.seq2 {
            if !in_range(a, nc) || !in_range(b, nc) || n == 0 || seq2.insert((a, b), n).is_some() {
                return Err(corrupt("bad transition entry"));
            }
            row_sums[a as usize] = row_sums[a as usize].saturating_add(n);
            col_sums[b as usize] = col_sums[b as usize].saturating_add(n);
        }
        for x in 0..nc {
            let occurrences = r.seq1[x];
            let expected_row = if x == END as usize { 0 } else { occurrences };
            let expected_col = if x == START as usize {
                occurrences - r.sessions
            } else {
                occurrences
            };
            if row_sums[x] != expected_row || col_sums[x] != expected_col {
                return Err(corrupt(format!(
                    "transition counts of {:?} do not add up to its count",
                    commands.name(x as u32)
                )));
            }
        }
        let mut param_sums = vec![0u64; np];
        for row in &r.cmd_param {
            let mut seen = std::collections::HashSet::with_capacity(row.len());
            for &(p, n) in row {
                if !in_range(p, np) || n == 0 || !seen.insert(p) {
                    return Err(corrupt("bad command-param entry"));
                }
                param_sums[p as usize] = param_sums[p as usize].saturating_add(n);
            }
        }
        if param_sums != r.param {
            return Err(corrupt("param counts do not add up"));
        }
        let mut value_sums = vec![0u64; nv];
        let mut per_param = vec![0u64; np];
        let mut param_value =
            FastMap::with_capacity_and_hasher(r.param_value.len(), Default::default());
        for &(p, v, n) in &r.param_value {
            if !in_range(p, np)
                || !in_range(v, nv)
                || n == 0
                || param_value.insert((p, v), n).is_some()
            {
                return Err(corrupt("bad param-value entry"));
            }
            value_sums[v as usize] = value_sums[v as usize].saturating_add(n);
            per_param[p as usize] = per_param[p as usize].saturating_add(n);
        }
        if value_sums != r.value || per_param.iter().zip(&r.param).any(|(v, p)| v > p) {
            return Err(corrupt("value counts do not add up"));
        }
        if (!r.session_type.has_params() && (np > 1 || r.param[0] > 0))
            || (!r.session_type.has_values() && (nv > 1 || r.value[0] > 0))
        {
            return Err(corrupt(
                "params or values present for a session type without them",
            ));
        }
        let mut counts = MarkovCounts {
            session_type: r.session_type,
            sessions: r.sessions,
            commands,
            params,
            values,
            seq1: r.seq1,
            seq2,
            param: r.param,
            cmd_param: r.cmd_param,
            cmd_param_pos: FastMap::default(),
            value: r.value,
            param_value,
            scratch: Vec::new(),
        };
        counts.rebuild_index();
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dict_entries_keep_first_position_and_last_value() {
        let mut entries = Vec::new();
        push_dict_entry(&mut entries, 3, Some(1));
        push_dict_entry(&mut entries, 5, None);
        push_dict_entry(&mut entries, 3, Some(2));
        assert_eq!(entries, [(3, Some(2)), (5, None)]);
    }

    #[test]
    fn repeated_param_counts_once_with_its_last_value() {
        let mut counts = MarkovCounts::new(SessionType::CmdsParamsValues);
        let command = Command::new("Set-User")
            .param_value("Identity", "bob")
            .param("Force")
            .param_value("Identity", "");
        counts.observe(&[command]).expect("observe");
        let identity = counts.params.get("Identity").expect("interned");
        assert_eq!(counts.param[identity as usize], 1);
        // The last value ("") is falsy: no value is counted, and "bob" is not even interned.
        assert_eq!(counts.values.len(), 1);
        assert!(counts.param_value.is_empty());
    }

    #[test]
    fn reserved_tokens_have_fixed_ids() {
        let counts = MarkovCounts::new(SessionType::CmdsOnly);
        assert_eq!(counts.commands.get(START_TOKEN), Some(START));
        assert_eq!(counts.commands.get(END_TOKEN), Some(END));
        assert_eq!(counts.commands.get(UNK_TOKEN), Some(UNK_CMD));
        assert_eq!(counts.params.get(UNK_TOKEN), Some(UNK));
        assert_eq!(counts.distinct_commands(), 0);
    }
}
