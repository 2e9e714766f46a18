//! Cutting an event stream into sessions: the events of one actor (one combination of key
//! values, e.g. user + client IP), ordered by time, split when they are too far apart or the
//! session grows too long. Sessions feed the Markov model in [`crate::markov`].
//!
//! Two ways in, one set of boundaries (spec §4, msticpy's `sessionize_data`):
//!
//! * [`sessionize_all`] takes every event at once and returns the sessions in msticpy's order
//!   (sorted by key values, then time), boundaries identical to msticpy's on the same input.
//! * [`Sessionizer`] is streaming, for logs that arrive roughly in time order: it keeps one
//!   open session per key plus a small reordering buffer, and hands out each session as soon
//!   as no later event can join it. Memory holds open sessions, not the input.
//!
//! Rules, both modes: an event opens a new session when its key values differ from the
//! previous event's, when it comes more than `max_event_separation` after the previous event
//! of the session, or more than `max_session_time` after the session's first event (strictly
//! more: a gap of exactly the limit stays in the session). As in msticpy, a null key value and
//! the literal string `dummy_str` are the same key, sort where `"dummy_str"` sorts and come out
//! as `None` (spec Q5). Times are nanoseconds since the Unix epoch (UTC); an event without a
//! time cannot be expressed and must be dropped (and counted) by the caller (spec Q6).

use std::cmp::{Ordering, Reverse};
use std::collections::hash_map::RandomState;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The string msticpy substitutes for null keys (spec Q5).
pub const NULL_KEY: &str = "dummy_str";

const NANOS_PER_MINUTE: i64 = 60_000_000_000;

/// When a session ends. Durations in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionLimits {
    /// Longest span from a session's first to its last event.
    pub max_session_time: i64,
    /// Longest gap between two consecutive events of a session.
    pub max_event_separation: i64,
}

impl Default for SessionLimits {
    /// msticpy's notebook defaults: 20 minutes per session, 2 minutes between events.
    fn default() -> Self {
        SessionLimits::from_minutes(20, 2)
    }
}

impl SessionLimits {
    /// Limits in whole minutes, as msticpy takes them (saturating).
    pub const fn from_minutes(max_session_time_mins: i64, max_event_separation_mins: i64) -> Self {
        SessionLimits {
            max_session_time: max_session_time_mins.saturating_mul(NANOS_PER_MINUTE),
            max_event_separation: max_event_separation_mins.saturating_mul(NANOS_PER_MINUTE),
        }
    }

    /// Limits from durations (saturating at `i64::MAX` nanoseconds).
    pub fn from_durations(max_session_time: Duration, max_event_separation: Duration) -> Self {
        let nanos = |d: Duration| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
        SessionLimits {
            max_session_time: nanos(max_session_time),
            max_event_separation: nanos(max_event_separation),
        }
    }

    fn check(self) -> Result<(), SessionizeError> {
        if self.max_session_time < 0 || self.max_event_separation < 0 {
            return Err(SessionizeError::NegativeLimit {
                max_session_time: self.max_session_time,
                max_event_separation: self.max_event_separation,
            });
        }
        Ok(())
    }

    /// Whether an event at `time` can still join a session spanning `start..=last`.
    #[inline]
    fn continues(self, start: i64, last: i64, time: i64) -> bool {
        // i128: no overflow at the ends of the i64 range.
        let (t, s, l) = (time as i128, start as i128, last as i128);
        t - l <= self.max_event_separation as i128 && t - s <= self.max_session_time as i128
    }

    /// The last instant an event can join a session spanning `start..=last`.
    #[inline]
    fn deadline(self, start: i64, last: i64) -> i64 {
        last.saturating_add(self.max_event_separation)
            .min(start.saturating_add(self.max_session_time))
    }
}

/// One input event: its key values (one per key column, `None` = null), its time and what the
/// session should carry for it (a command, an event id, ...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionEvent<T> {
    /// Key values, one per key column.
    pub keys: Vec<Option<String>>,
    /// Nanoseconds since the Unix epoch (UTC).
    pub time: i64,
    /// The payload carried into the session.
    pub payload: T,
}

/// A session: the events of one key, in time order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session<T> {
    /// Key values (`None` for null or `dummy_str`).
    pub keys: Vec<Option<String>>,
    /// Time of the first event (ns).
    pub start: i64,
    /// Time of the last event (ns).
    pub end: i64,
    /// Payloads in session order (time, then input order).
    pub events: Vec<T>,
    /// Input position of each event (0-based order of arrival).
    pub input_indices: Vec<u64>,
    /// Streaming only: the session holds one event that arrived after the allowed lateness
    /// and could not be placed in order.
    pub late: bool,
}

impl<T> Session<T> {
    /// `end - start` in nanoseconds.
    pub fn duration(&self) -> i64 {
        self.end.saturating_sub(self.start)
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether the session has no events (never true for sessions made here).
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

/// Why sessionizing refused its input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionizeError {
    /// An event with the wrong number of key values.
    #[error("event {index} has {found} key values, expected {expected} (one per key column)")]
    KeyCount {
        /// Input position of the event.
        index: u64,
        /// Number of key columns.
        expected: usize,
        /// Number of values the event had.
        found: usize,
    },
    /// A negative limit.
    #[error(
        "session limits must not be negative (max session time {max_session_time} ns, \
         max event separation {max_event_separation} ns)"
    )]
    NegativeLimit {
        /// The given session limit.
        max_session_time: i64,
        /// The given gap limit.
        max_event_separation: i64,
    },
}

/// msticpy's null handling: `dummy_str` is null.
#[inline]
fn normalise(key: Option<&str>) -> Option<&str> {
    key.filter(|k| *k != NULL_KEY)
}

/// Key order of msticpy's sort: by code point, null where `"dummy_str"` would be.
fn compare_keys(a: &[Option<String>], b: &[Option<String>]) -> Ordering {
    fn sort_key(k: &Option<String>) -> &str {
        k.as_deref().unwrap_or(NULL_KEY)
    }
    a.iter().map(sort_key).cmp(b.iter().map(sort_key))
}

/// Sessionizes all `events` at once, exactly as msticpy's `sessionize_data`: sessions in
/// msticpy's order (key values in column order, then time; ties keep input order), each with
/// its events in session order and their input positions.
pub fn sessionize_all<T>(
    events: impl IntoIterator<Item = SessionEvent<T>>,
    key_columns: usize,
    limits: SessionLimits,
) -> Result<Vec<Session<T>>, SessionizeError> {
    limits.check()?;
    let events = events.into_iter();
    // Events are bucketed by key as they come; each bucket is then sorted by time. Logs are
    // nearly time-ordered, so the stable sort mostly finds one run per bucket and the whole
    // thing is close to linear.
    let mut groups: HashMap<Vec<Option<String>>, u32> = HashMap::new();
    let mut buckets: Vec<Vec<(i64, u64)>> = Vec::new();
    let mut payloads: Vec<Option<T>> = Vec::with_capacity(events.size_hint().0);
    for (index, event) in events.enumerate() {
        let index = index as u64;
        if event.keys.len() != key_columns {
            return Err(SessionizeError::KeyCount {
                index,
                expected: key_columns,
                found: event.keys.len(),
            });
        }
        let mut keys = event.keys;
        for key in &mut keys {
            if key.as_deref() == Some(NULL_KEY) {
                *key = None;
            }
        }
        let next = groups.len() as u32;
        let group = *groups.entry(keys).or_insert(next);
        if group == next {
            buckets.push(Vec::new());
        }
        buckets[group as usize].push((event.time, index));
        payloads.push(Some(event.payload));
    }
    let mut keys_by_group: Vec<Vec<Option<String>>> = vec![Vec::new(); groups.len()];
    for (keys, group) in groups {
        keys_by_group[group as usize] = keys;
    }
    // msticpy's order: keys in column order (nulls as "dummy_str"), then time, ties in input
    // order (a stable sort by time of a bucket filled in input order).
    let mut ranked: Vec<u32> = (0..keys_by_group.len() as u32).collect();
    ranked.sort_unstable_by(|&a, &b| {
        compare_keys(&keys_by_group[a as usize], &keys_by_group[b as usize])
    });

    let mut sessions: Vec<Session<T>> = Vec::new();
    for group in ranked {
        let bucket = &mut buckets[group as usize];
        bucket.sort_by_key(|&(time, _)| time);
        let first_of_group = sessions.len();
        for &(time, index) in bucket.iter() {
            let Some(payload) = payloads[index as usize].take() else {
                continue;
            };
            let in_group = sessions.len() > first_of_group;
            match sessions.last_mut() {
                Some(session) if in_group && limits.continues(session.start, session.end, time) => {
                    session.end = time;
                    session.events.push(payload);
                    session.input_indices.push(index);
                }
                _ => sessions.push(Session {
                    keys: keys_by_group[group as usize].clone(),
                    start: time,
                    end: time,
                    events: vec![payload],
                    input_indices: vec![index],
                    late: false,
                }),
            }
        }
        *bucket = Vec::new();
    }
    Ok(sessions)
}

/// Counters of a [`Sessionizer`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionizerStats {
    /// Events pushed.
    pub events: u64,
    /// Events that arrived after the allowed lateness (each emitted as a one-event session
    /// with `late: true`).
    pub late_events: u64,
    /// Sessions handed out so far (including late ones).
    pub sessions: u64,
    /// Sessions open now.
    pub open_sessions: usize,
    /// Events waiting in the reordering buffer now.
    pub buffered_events: usize,
}

/// A hasher for keys that are already keyed SipHash outputs.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

struct OpenSession<T> {
    id: u64,
    keys: Vec<Option<String>>,
    start: i64,
    last: i64,
    events: Vec<T>,
    indices: Vec<u64>,
}

impl<T> OpenSession<T> {
    fn into_session(self) -> Session<T> {
        Session {
            keys: self.keys,
            start: self.start,
            end: self.last,
            events: self.events,
            input_indices: self.indices,
            late: false,
        }
    }
}

/// An event waiting in the reordering buffer, ordered by (time, arrival).
struct Pending<T> {
    time: i64,
    index: u64,
    keys: Vec<Option<String>>,
    payload: T,
}

impl<T> PartialEq for Pending<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.index) == (other.time, other.index)
    }
}
impl<T> Eq for Pending<T> {}
impl<T> PartialOrd for Pending<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Pending<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.time, self.index).cmp(&(other.time, other.index))
    }
}

/// Streaming sessionizer with bounded memory.
///
/// Push events as they arrive; closed sessions come out of [`pop_closed`](Self::pop_closed)
/// (or [`drain_closed`](Self::drain_closed)), and [`finish`](Self::finish) flushes the rest.
///
/// Events may arrive out of order by up to `allowed_lateness` (ns): they wait in a buffer until
/// the *watermark* — the latest time seen minus the lateness — passes them, and are then
/// processed in time order (ties in arrival order). A session is closed as soon as the
/// watermark shows no later event can join it. With time-ordered input (or disorder within the
/// lateness) the sessions are exactly [`sessionize_all`]'s, as sets of events.
///
/// An event older than the last event already processed (it arrived later than the allowed
/// lateness) cannot be placed in order; it is **not dropped**: it comes out at once as a
/// one-event session flagged [`Session::late`] and is counted in
/// [`SessionizerStats::late_events`].
///
/// Memory: the open sessions (at most one per active key, each at most `max_session_time`
/// long) plus the events within the lateness window; closed sessions are handed out and keys
/// with no open session are forgotten.
pub struct Sessionizer<T> {
    key_columns: usize,
    limits: SessionLimits,
    lateness: i64,
    hasher: RandomState,
    /// Open sessions by keyed hash of their key values (collisions share a bucket).
    open: HashMap<u64, Vec<OpenSession<T>>, BuildHasherDefault<PassThrough>>,
    open_count: usize,
    /// (deadline, session id, key hash); entries of closed sessions are skipped when popped.
    deadlines: BinaryHeap<Reverse<(i64, u64, u64)>>,
    pending: BinaryHeap<Reverse<Pending<T>>>,
    /// Latest event time seen.
    frontier: Option<i64>,
    /// Time up to which events have been processed in order.
    released: Option<i64>,
    next_index: u64,
    next_session: u64,
    closed: VecDeque<Session<T>>,
    stats: SessionizerStats,
}

impl<T> Sessionizer<T> {
    /// A sessionizer for events with `key_columns` key values each. `allowed_lateness` (ns,
    /// 0 for time-ordered input) is how far behind the latest event an event may arrive and
    /// still be placed in order.
    pub fn new(
        key_columns: usize,
        limits: SessionLimits,
        allowed_lateness: i64,
    ) -> Result<Self, SessionizeError> {
        limits.check()?;
        Ok(Sessionizer {
            key_columns,
            limits,
            lateness: allowed_lateness.max(0),
            hasher: RandomState::new(),
            open: HashMap::default(),
            open_count: 0,
            deadlines: BinaryHeap::new(),
            pending: BinaryHeap::new(),
            frontier: None,
            released: None,
            next_index: 0,
            next_session: 0,
            closed: VecDeque::new(),
            stats: SessionizerStats::default(),
        })
    }

    /// Adds one event. `keys` has one value per key column (`None` = null).
    pub fn push(
        &mut self,
        keys: &[Option<&str>],
        time: i64,
        payload: T,
    ) -> Result<(), SessionizeError> {
        let index = self.next_index;
        if keys.len() != self.key_columns {
            return Err(SessionizeError::KeyCount {
                index,
                expected: self.key_columns,
                found: keys.len(),
            });
        }
        self.next_index += 1;
        self.stats.events += 1;
        if self.released.is_some_and(|r| time < r) {
            self.stats.late_events += 1;
            self.emit(Session {
                keys: owned_keys(keys),
                start: time,
                end: time,
                events: vec![payload],
                input_indices: vec![index],
                late: true,
            });
            return Ok(());
        }
        let frontier = self.frontier.map_or(time, |f| f.max(time));
        self.frontier = Some(frontier);
        let watermark = frontier.saturating_sub(self.lateness);
        if self.pending.is_empty() && time <= watermark {
            // In order: no copy of the keys unless the key is new.
            let hash = self.key_hash(keys.iter().copied());
            self.process(hash, KeySource::Borrowed(keys), time, index, payload);
        } else {
            self.pending.push(Reverse(Pending {
                time,
                index,
                keys: owned_keys(keys),
                payload,
            }));
        }
        self.release(watermark);
        Ok(())
    }

    /// Moves the watermark to `time - allowed_lateness` without an event (e.g. on a quiet
    /// stream), closing sessions no event at or after it could join. Later events older than
    /// the watermark count as late.
    pub fn advance_to(&mut self, time: i64) {
        let frontier = self.frontier.map_or(time, |f| f.max(time));
        self.frontier = Some(frontier);
        let watermark = frontier.saturating_sub(self.lateness);
        self.release(watermark);
        if self.released.is_none_or(|r| r < watermark) {
            self.released = Some(watermark);
        }
        self.expire();
    }

    /// The next closed session, oldest closure first.
    pub fn pop_closed(&mut self) -> Option<Session<T>> {
        self.closed.pop_front()
    }

    /// All sessions closed so far.
    pub fn drain_closed(&mut self) -> impl Iterator<Item = Session<T>> + '_ {
        self.closed.drain(..)
    }

    /// Current counters.
    pub fn stats(&self) -> SessionizerStats {
        SessionizerStats {
            open_sessions: self.open_count,
            buffered_events: self.pending.len(),
            ..self.stats
        }
    }

    /// Processes the buffered events, closes every open session and returns all sessions not
    /// yet handed out; the ones closed at the end are ordered by start time, then arrival.
    pub fn finish(mut self) -> Vec<Session<T>> {
        self.release(i64::MAX);
        let mut rest: Vec<OpenSession<T>> =
            self.open.drain().flat_map(|(_, bucket)| bucket).collect();
        rest.sort_unstable_by_key(|s| (s.start, s.indices.first().copied()));
        self.open_count = 0;
        for session in rest {
            self.emit(session.into_session());
        }
        self.closed.into_iter().collect()
    }

    /// Processes buffered events up to `watermark` in (time, arrival) order, then closes what
    /// expired.
    fn release(&mut self, watermark: i64) {
        while self.pending.peek().is_some_and(|p| p.0.time <= watermark) {
            if let Some(Reverse(p)) = self.pending.pop() {
                let hash = self.key_hash(p.keys.iter().map(|k| k.as_deref()));
                self.process(hash, KeySource::Owned(p.keys), p.time, p.index, p.payload);
            }
        }
        self.expire();
    }

    /// Keyed hash of normalised key values (the same for borrowed and owned keys).
    fn key_hash<'k>(&self, keys: impl Iterator<Item = Option<&'k str>>) -> u64 {
        let mut h = self.hasher.build_hasher();
        for key in keys {
            normalise(key).hash(&mut h);
        }
        h.finish()
    }

    /// Adds one event, in order, to its key's session.
    fn process(&mut self, hash: u64, keys: KeySource<'_>, time: i64, index: u64, payload: T) {
        self.released = Some(time);
        let limits = self.limits;
        let bucket = self.open.entry(hash).or_default();
        let found = bucket.iter().position(|s| keys.matches(&s.keys));
        match found {
            Some(pos) if limits.continues(bucket[pos].start, bucket[pos].last, time) => {
                let session = &mut bucket[pos];
                session.last = time;
                session.events.push(payload);
                session.indices.push(index);
            }
            Some(pos) => {
                // Same key, but the gap or the duration is exceeded: close and reopen.
                let id = self.next_session;
                self.next_session += 1;
                let keys = bucket[pos].keys.clone();
                let old = std::mem::replace(
                    &mut bucket[pos],
                    OpenSession {
                        id,
                        keys,
                        start: time,
                        last: time,
                        events: vec![payload],
                        indices: vec![index],
                    },
                );
                self.deadlines
                    .push(Reverse((limits.deadline(time, time), id, hash)));
                self.emit(old.into_session());
            }
            None => {
                let id = self.next_session;
                self.next_session += 1;
                bucket.push(OpenSession {
                    id,
                    keys: keys.into_owned(),
                    start: time,
                    last: time,
                    events: vec![payload],
                    indices: vec![index],
                });
                self.open_count += 1;
                self.deadlines
                    .push(Reverse((limits.deadline(time, time), id, hash)));
            }
        }
    }

    /// Closes the sessions no future event can join: those whose deadline is before the time
    /// processed so far (future events are never earlier than it).
    fn expire(&mut self) {
        let Some(now) = self.released else { return };
        while let Some(&Reverse((deadline, id, hash))) = self.deadlines.peek() {
            if deadline >= now {
                break;
            }
            self.deadlines.pop();
            let Some(bucket) = self.open.get_mut(&hash) else {
                continue;
            };
            let Some(pos) = bucket.iter().position(|s| s.id == id) else {
                continue;
            };
            let current = self.limits.deadline(bucket[pos].start, bucket[pos].last);
            if current >= now {
                // It grew since this entry was queued: check again at its new deadline.
                self.deadlines.push(Reverse((current, id, hash)));
                continue;
            }
            let session = bucket.swap_remove(pos);
            if bucket.is_empty() {
                self.open.remove(&hash);
            }
            self.open_count -= 1;
            self.emit(session.into_session());
        }
    }

    fn emit(&mut self, session: Session<T>) {
        self.stats.sessions += 1;
        self.closed.push_back(session);
    }
}

/// Key values of an event being processed: borrowed from the caller or owned by the buffer.
enum KeySource<'a> {
    Borrowed(&'a [Option<&'a str>]),
    Owned(Vec<Option<String>>),
}

impl KeySource<'_> {
    fn matches(&self, stored: &[Option<String>]) -> bool {
        match self {
            KeySource::Borrowed(keys) => keys
                .iter()
                .map(|k| normalise(*k))
                .eq(stored.iter().map(|k| k.as_deref())),
            KeySource::Owned(keys) => keys.as_slice() == stored,
        }
    }

    fn into_owned(self) -> Vec<Option<String>> {
        match self {
            KeySource::Borrowed(keys) => owned_keys(keys),
            KeySource::Owned(keys) => keys,
        }
    }
}

/// Owned, normalised key values.
fn owned_keys(keys: &[Option<&str>]) -> Vec<Option<String>> {
    keys.iter()
        .map(|k| normalise(*k).map(str::to_string))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = NANOS_PER_MINUTE;

    fn ev(user: Option<&str>, time: i64) -> SessionEvent<i64> {
        SessionEvent {
            keys: vec![user.map(str::to_string)],
            time,
            payload: time,
        }
    }

    #[test]
    fn limits_are_inclusive() {
        let limits = SessionLimits::from_minutes(20, 2);
        // A gap of exactly the limit stays; one nanosecond more splits.
        assert!(limits.continues(0, 0, 2 * MIN));
        assert!(!limits.continues(0, 0, 2 * MIN + 1));
        // A span of exactly the session limit stays.
        assert!(limits.continues(0, 19 * MIN, 20 * MIN));
        assert!(!limits.continues(0, 19 * MIN, 20 * MIN + 1));
        assert_eq!(limits.deadline(0, 19 * MIN), 20 * MIN);
        // No overflow at the ends of the range.
        assert!(!SessionLimits::default().continues(i64::MIN, i64::MIN, i64::MAX));
    }

    #[test]
    fn nulls_sort_where_dummy_str_sorts() {
        let keys = |k: Option<&str>| vec![k.map(str::to_string)];
        assert_eq!(
            compare_keys(&keys(None), &keys(Some("bob"))),
            Ordering::Greater
        );
        assert_eq!(
            compare_keys(&keys(None), &keys(Some("eve"))),
            Ordering::Less
        );
        assert_eq!(
            compare_keys(&keys(None), &keys(Some(NULL_KEY))),
            Ordering::Equal
        );
        let sessions = sessionize_all(
            vec![
                ev(Some("eve"), 0),
                ev(None, 1),
                ev(Some("bob"), 2),
                ev(Some(NULL_KEY), 3),
            ],
            1,
            SessionLimits::default(),
        )
        .expect("sessionize");
        let order: Vec<Option<&str>> = sessions.iter().map(|s| s.keys[0].as_deref()).collect();
        assert_eq!(order, [Some("bob"), None, Some("eve")]);
        assert_eq!(
            sessions[1].input_indices,
            [1, 3],
            "null and dummy_str are one key"
        );
    }

    #[test]
    fn refuses_bad_input() {
        assert_eq!(
            sessionize_all(vec![ev(Some("a"), 0)], 2, SessionLimits::default()),
            Err(SessionizeError::KeyCount {
                index: 0,
                expected: 2,
                found: 1
            })
        );
        let negative = SessionLimits {
            max_session_time: -1,
            max_event_separation: 0,
        };
        assert!(sessionize_all(Vec::<SessionEvent<()>>::new(), 1, negative).is_err());
        assert!(Sessionizer::<()>::new(1, negative, 0).is_err());
        let mut s = Sessionizer::new(1, SessionLimits::default(), 0).expect("new");
        assert!(s.push(&[Some("a"), Some("b")], 0, ()).is_err());
        assert_eq!(s.stats().events, 0);
    }

    #[test]
    fn streaming_closes_sessions_as_time_passes() {
        let mut s = Sessionizer::new(1, SessionLimits::from_minutes(20, 2), 0).expect("new");
        s.push(&[Some("alice")], 0, 'a').expect("push");
        s.push(&[Some("bob")], MIN, 'b').expect("push");
        assert!(s.pop_closed().is_none());
        // At 3 min + 1 ns alice's session (last event at 0) can no longer grow.
        s.push(&[Some("carol")], 2 * MIN + 1, 'c').expect("push");
        let closed = s.pop_closed().expect("alice closed");
        assert_eq!(
            (closed.keys[0].as_deref(), closed.events.as_slice()),
            (Some("alice"), &['a'][..])
        );
        assert_eq!(s.stats().open_sessions, 2);
        // A quiet stream: advancing the watermark closes the rest.
        s.advance_to(10 * MIN);
        let rest: Vec<char> = s.drain_closed().flat_map(|x| x.events).collect();
        assert_eq!(rest, ['b', 'c']);
        assert_eq!(s.stats().open_sessions, 0);
        // An event before the watermark is late: emitted alone, counted, not lost.
        s.push(&[Some("alice")], 5 * MIN, 'x').expect("push");
        let late = s.pop_closed().expect("late session");
        assert!(late.late);
        assert_eq!(s.stats().late_events, 1);
        assert!(s.finish().is_empty());
    }

    #[test]
    fn lateness_buffer_reorders() {
        let mut s = Sessionizer::new(1, SessionLimits::from_minutes(20, 2), 5 * MIN).expect("new");
        for (t, c) in [(MIN, 'b'), (0, 'a'), (3 * MIN, 'd'), (2 * MIN, 'c')] {
            s.push(&[Some("alice")], t, c).expect("push");
        }
        assert_eq!(s.stats().buffered_events, 4);
        let out = s.finish();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].events, ['a', 'b', 'c', 'd']);
        assert_eq!(out[0].input_indices, [1, 0, 3, 2]);
    }
}
