//! The training sessions kept after counting: all of them while they fit in a memory budget
//! (so `oddhunt hunt` scores them without reading the input again), then a fixed-size sample
//! (for the training score distribution, `--threshold-basis train`).
//!
//! The sample is a bottom-k sample by a hash of the session id: the [`SAMPLE`] sessions whose
//! hashes are smallest. It does not depend on the order sessions arrive in, so the sample of
//! merged partial states is the sample of the union (up to sessions with equal ids).

use super::session::SessionRecord;

/// Sessions in the sample once the budget is exceeded.
pub const SAMPLE: usize = 10_000;

/// 64-bit FNV-1a of the id, finished with the SplitMix64 mixer: a fixed, portable hash (the
/// sample must be the same on every machine of a cluster).
fn sample_key(id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// Sessions kept for scoring after training.
#[derive(Clone, Debug)]
pub(crate) struct Kept {
    budget: usize,
    bytes: usize,
    /// `(sample key, session)`; every session while `sampled` is false.
    sessions: Vec<(u64, SessionRecord)>,
    /// The budget was exceeded: `sessions` holds (at least) the sample.
    sampled: bool,
    /// Sessions offered.
    seen: u64,
}

impl Kept {
    pub(crate) fn new(budget_bytes: usize) -> Self {
        Kept {
            budget: budget_bytes,
            bytes: 0,
            sessions: Vec::new(),
            sampled: false,
            seen: 0,
        }
    }

    pub(crate) fn push(&mut self, session: SessionRecord) {
        self.seen += 1;
        let key = sample_key(&session.id);
        if !self.sampled {
            self.bytes = self.bytes.saturating_add(session.heap_bytes());
            self.sessions.push((key, session));
            if self.bytes > self.budget {
                self.start_sampling();
            }
            return;
        }
        self.sessions.push((key, session));
        if self.sessions.len() >= 2 * SAMPLE {
            self.reduce();
        }
    }

    /// Keeps the sample only from now on (nobody wants every session scored).
    pub(crate) fn sample_only(&mut self) {
        self.budget = 0;
        self.start_sampling();
    }

    /// Whether every session offered is kept.
    pub(crate) fn complete(&self) -> bool {
        !self.sampled
    }

    fn start_sampling(&mut self) {
        self.sampled = true;
        self.reduce();
    }

    /// Keeps the `SAMPLE` smallest keys (ties by id, so the choice is deterministic).
    fn reduce(&mut self) {
        if self.sessions.len() > SAMPLE {
            self.sessions
                .select_nth_unstable_by(SAMPLE, |a, b| (a.0, &a.1.id).cmp(&(b.0, &b.1.id)));
            self.sessions.truncate(SAMPLE);
        }
        self.bytes = self.sessions.iter().map(|(_, s)| s.heap_bytes()).sum();
    }

    /// Adds `other`'s sessions (after this one's).
    pub(crate) fn merge(&mut self, other: Kept) {
        self.seen += other.seen;
        self.bytes = self.bytes.saturating_add(other.bytes);
        self.sessions.extend(other.sessions);
        if self.sampled || other.sampled || self.bytes > self.budget {
            self.start_sampling();
        }
    }

    /// The sessions: all of them (in arrival order), or the sample.
    pub(crate) fn into_sessions(mut self) -> Vec<SessionRecord> {
        if self.sampled {
            self.reduce();
            self.sessions
                .sort_by(|a, b| (a.0, &a.1.id).cmp(&(b.0, &b.1.id)));
        }
        self.sessions.into_iter().map(|(_, s)| s).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oddhunt_models::markov::Command;

    fn session(i: usize) -> SessionRecord {
        SessionRecord {
            id: format!("user{i}@2024-01-01T00:00:00Z"),
            keys: Vec::new(),
            start: None,
            end: None,
            commands: vec![Command::new("Get-Mailbox")],
            provenance: Vec::new(),
            late: false,
            prebuilt: false,
        }
    }

    #[test]
    fn keeps_everything_within_budget_then_an_order_free_sample() {
        let mut all = Kept::new(usize::MAX);
        (0..10).for_each(|i| all.push(session(i)));
        assert!(all.complete());
        assert_eq!(all.into_sessions().len(), 10);

        let n = SAMPLE + 2_500;
        let mut one = Kept::new(10_000);
        (0..n).for_each(|i| one.push(session(i)));
        assert!(!one.complete());
        let mut a = Kept::new(10_000);
        let mut b = Kept::new(10_000);
        (0..n)
            .rev()
            .filter(|i| i % 3 == 0)
            .for_each(|i| a.push(session(i)));
        (0..n)
            .filter(|i| i % 3 != 0)
            .for_each(|i| b.push(session(i)));
        a.merge(b);
        let ids =
            |k: Kept| -> Vec<String> { k.into_sessions().into_iter().map(|s| s.id).collect() };
        let (x, y) = (ids(one), ids(a));
        assert_eq!(x.len(), SAMPLE);
        assert_eq!(x, y, "the sample of the merge is the sample of the union");
    }
}
