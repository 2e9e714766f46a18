//! From events to sessions: which command each event becomes, which key values group it, and
//! the streaming [`Sessionizer`] that cuts the groups into sessions.
//!
//! `Command` events (Exchange/Office admin operations, CloudTrail calls) become their operation
//! name with their parameters; process starts become the executable's file name with the
//! chosen event fields as parameters, as the VM-process section of msticpy's
//! AnomalousSequence notebook does with `DisplayName`, `ProductName`, `path` ... (see
//! [`SessionBuilder::command_of`]). Events are grouped by the values of the session keys
//! (`user.name` + `source.ip` for commands, `host.name` + `user.name` for processes, as the
//! notebook) and cut with msticpy's `sessionize_data` boundaries.

use super::{Lateness, Resolved};
use crate::detector::IgnoredCounts;
use oddhunt_core::{Event, EventKind, Field, Provenance, Timestamp};
use oddhunt_models::markov::{Command, SessionType};
use oddhunt_models::sessionize::{Session, Sessionizer, NULL_KEY};

/// Records kept per session to lead back to the raw log (the first ones).
pub const KEEP_PROVENANCE: usize = 8;

/// One session, ready to be counted or scored.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionRecord {
    /// The session's id: its key values and start time (`alice|10.0.0.1@2024-03-04T09:00:00Z`),
    /// or the id a `--sessions` line gave.
    pub id: String,
    /// The session keys and their values (`None` = absent), in key order.
    pub keys: Vec<(Field, Option<String>)>,
    /// Time of the first event.
    pub start: Option<Timestamp>,
    /// Time of the last event.
    pub end: Option<Timestamp>,
    /// The commands, in time order.
    pub commands: Vec<Command>,
    /// The first records of the session.
    pub provenance: Vec<Provenance>,
    /// One event that arrived later than the allowed lateness: not a real session (never
    /// trained on, never scored).
    pub late: bool,
    /// Read from a `--sessions` line rather than cut from events.
    pub prebuilt: bool,
}

impl SessionRecord {
    /// Approximate heap bytes (for the bound on sessions kept for `hunt`).
    pub fn heap_bytes(&self) -> usize {
        let commands: usize = self
            .commands
            .iter()
            .map(|c| {
                std::mem::size_of::<Command>()
                    + c.name.len()
                    + c.params
                        .iter()
                        .map(|(n, v)| 56 + n.len() + v.as_ref().map_or(0, String::len))
                        .sum::<usize>()
            })
            .sum();
        std::mem::size_of::<SessionRecord>()
            + self.id.len()
            + commands
            + self.provenance.len() * std::mem::size_of::<Provenance>()
            + self
                .keys
                .iter()
                .map(|(_, v)| 40 + v.as_ref().map_or(0, String::len))
                .sum::<usize>()
    }

    /// The value of a key field, if it is one of the session's keys.
    pub fn key(&self, field: Field) -> Option<&str> {
        self.keys
            .iter()
            .find(|(f, _)| *f == field)
            .and_then(|(_, v)| v.as_deref())
    }
}

/// msticpy's order of sessions (the order `sessionize_data` outputs them and `score_sessions`
/// counts them): sessions cut from events by key values — compared by code point, an absent
/// value where the string `dummy_str` sorts (spec Q5) — then start time; pre-built sessions
/// after them, in the order they were read (the rows of the table msticpy is given).
pub fn msticpy_order(a: &SessionRecord, b: &SessionRecord) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a.prebuilt, b.prebuilt) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => {
            fn key(r: &SessionRecord) -> impl Iterator<Item = &str> {
                r.keys.iter().map(|(_, v)| v.as_deref().unwrap_or(NULL_KEY))
            }
            key(a).cmp(key(b)).then(a.start.cmp(&b.start))
        }
    }
}

/// The id of a session cut from events: the key values joined by `|` (an absent value as `-`),
/// `@`, and the start time as RFC 3339 at the source's precision. Stable from run to run, so a
/// finding keeps its id.
pub fn session_id(keys: &[Option<String>], start: Timestamp) -> String {
    let mut id = String::new();
    for (i, key) in keys.iter().enumerate() {
        if i > 0 {
            id.push('|');
        }
        id.push_str(key.as_deref().unwrap_or("-"));
    }
    id.push('@');
    id.push_str(&start.to_string());
    id
}

/// One event in a session: its command and where it came from.
pub(crate) struct Step {
    command: Command,
    provenance: Provenance,
}

/// A field's value, with process and parent names derived from paths when absent.
fn field_value(event: &Event, field: Field) -> Option<&str> {
    match field {
        Field::ProcessName => event.process_name(),
        Field::ParentName => event.parent_name(),
        _ => event.get(field),
    }
}

/// Events read before the `auto` lateness is chosen.
pub const AUTO_PREFIX: usize = 65_536;
/// The least lateness `auto` chooses, in minutes.
const AUTO_FLOOR_MINUTES: f64 = 60.0;

/// The lateness `auto` chooses from the times of the first events: the whole input (`i64::MAX`)
/// when they are far out of order — some event lags the latest before it by more than half the
/// span they cover, as in a reversed or shuffled export — else 60 minutes or twice the largest
/// lag seen, whichever is more.
pub fn choose_lateness(times: impl IntoIterator<Item = i64>) -> i64 {
    let (mut min, mut max, mut lag) = (i64::MAX, i64::MIN, 0i64);
    for t in times {
        min = min.min(t);
        max = max.max(t);
        lag = lag.max(max.saturating_sub(t));
    }
    if max < min {
        return i64::MAX;
    }
    let span = max.saturating_sub(min);
    if lag > span / 2 {
        i64::MAX
    } else {
        lag.saturating_mul(2)
            .max(super::minutes_to_nanos(AUTO_FLOOR_MINUTES))
    }
}

/// An event waiting for the `auto` lateness to be chosen.
struct Held {
    keys: Vec<Option<String>>,
    time: i64,
    step: Step,
}

/// Turns events into session steps and cuts them into sessions.
pub(crate) struct SessionBuilder {
    resolved: Resolved,
    sessionizer: Option<Sessionizer<Step>>,
    /// The lateness in force (ns); `None` while `auto` holds the first events.
    lateness: Option<i64>,
    held: Vec<Held>,
    /// Reusable reason texts.
    reasons: Reasons,
}

struct Reasons {
    wrong_kind: String,
    late: String,
}

fn late_reason(lateness: i64, auto: bool) -> String {
    if lateness == i64::MAX {
        return "arrived out of time order".to_string();
    }
    let minutes = lateness as f64 / 60e9;
    let shown = format!("{minutes:.1}");
    let shown = shown.trim_end_matches('0').trim_end_matches('.');
    format!(
        "arrived more than {shown} min behind later events ({}input not in time order: sort it or \
         give --allowed-lateness all)",
        if auto {
            "lateness chosen from the first events; "
        } else {
            ""
        }
    )
}

impl SessionBuilder {
    pub(crate) fn new(resolved: Resolved) -> Self {
        let wrong_kind = format!("not a {} event", resolved.kind);
        let lateness = match resolved.lateness {
            Lateness::Auto => None,
            Lateness::All => Some(i64::MAX),
            Lateness::Minutes(m) => Some(super::minutes_to_nanos(m)),
        };
        let late = late_reason(lateness.unwrap_or(i64::MAX), false);
        SessionBuilder {
            resolved,
            sessionizer: None,
            lateness,
            held: Vec::new(),
            reasons: Reasons { wrong_kind, late },
        }
    }

    /// Chooses the `auto` lateness from the events held and replays them.
    fn settle(&mut self) {
        let lateness = choose_lateness(self.held.iter().map(|h| h.time));
        self.lateness = Some(lateness);
        self.reasons.late = late_reason(lateness, true);
        for held in std::mem::take(&mut self.held) {
            let keys: Vec<Option<&str>> = held.keys.iter().map(|k| k.as_deref()).collect();
            // The key count is the builder's own: this cannot fail.
            let _ = self.push_step(&keys, held.time, held.step);
        }
    }

    pub(crate) fn resolved(&self) -> &Resolved {
        &self.resolved
    }

    /// The reason under which late events are counted.
    pub(crate) fn late_reason(&self) -> &str {
        &self.reasons.late
    }

    /// The command an event stands for, or why it has none.
    ///
    /// Commands: the operation name; params (params types) the event's parameters in source
    /// order, values (values type) as given. Processes: the executable's file name, lower-case
    /// (Windows names are case-insensitive); params (params type) one `field=value` per chosen
    /// field — the notebook uses the bare values; the field name keeps two fields with the same
    /// value apart — and (values type) `field` → `value`, values lower-case.
    pub(crate) fn command_of(&self, event: &Event) -> Result<Command, &'static str> {
        let session_type = self.resolved.session_type;
        match self.resolved.kind {
            EventKind::ProcessStart => {
                let name = event
                    .process_name()
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .ok_or("no process name or path")?;
                let mut command = Command::new(name.to_lowercase());
                if session_type != SessionType::CmdsOnly {
                    for &field in &self.resolved.param_fields {
                        let Some(value) = field_value(event, field) else {
                            continue;
                        };
                        let value = value.to_lowercase();
                        let param = match session_type {
                            SessionType::CmdsParamsOnly => {
                                (format!("{}={value}", field.short_name()), None)
                            }
                            _ => (field.short_name().to_string(), Some(value)),
                        };
                        command.params.push(param);
                    }
                }
                Ok(command)
            }
            _ => {
                let name = event
                    .get(Field::Operation)
                    .ok_or("no operation name (event.action)")?;
                let mut command = Command::new(name);
                match session_type {
                    SessionType::CmdsOnly => {}
                    SessionType::CmdsParamsOnly => command
                        .params
                        .extend(event.params().map(|p| (p.name.to_string(), None))),
                    SessionType::CmdsParamsValues => command.params.extend(
                        event
                            .params()
                            .map(|p| (p.name.to_string(), p.value.map(str::to_string))),
                    ),
                }
                Ok(command)
            }
        }
    }

    /// Adds one event; counts it under a reason in `ignored` when it cannot join a session.
    /// Returns whether it was taken.
    pub(crate) fn push(&mut self, event: &Event, ignored: &mut IgnoredCounts) -> bool {
        if event.kind() != self.resolved.kind {
            ignored.add(&self.reasons.wrong_kind);
            return false;
        }
        let Some(time) = event.time() else {
            // msticpy silently joins such events to the previous session (spec Q6).
            ignored.add("no timestamp (sessions need time order)");
            return false;
        };
        let command = match self.command_of(event) {
            Ok(c) => c,
            Err(reason) => {
                ignored.add(reason);
                return false;
            }
        };
        let keys: Vec<Option<&str>> = self
            .resolved
            .keys
            .iter()
            .map(|&f| field_value(event, f))
            .collect();
        let step = Step {
            command,
            provenance: event.provenance().clone(),
        };
        if self.lateness.is_none() {
            self.held.push(Held {
                keys: keys.iter().map(|k| k.map(str::to_string)).collect(),
                time: time.unix_nanos(),
                step,
            });
            if self.held.len() >= AUTO_PREFIX {
                self.settle();
            }
            return true;
        }
        match self.push_step(&keys, time.unix_nanos(), step) {
            Ok(()) => true,
            Err(reason) => {
                ignored.add(reason);
                false
            }
        }
    }

    /// Hands one step to the sessionizer, made on first use with the lateness in force.
    fn push_step(
        &mut self,
        keys: &[Option<&str>],
        time: i64,
        step: Step,
    ) -> Result<(), &'static str> {
        let resolved = &self.resolved;
        let lateness = self.lateness.unwrap_or(i64::MAX);
        let sessionizer = match &mut self.sessionizer {
            Some(s) => s,
            None => {
                let made = Sessionizer::new(resolved.keys.len(), resolved.limits, lateness);
                // Limits are checked when the settings are validated.
                self.sessionizer
                    .insert(made.map_err(|_| "invalid session limits")?)
            }
        };
        sessionizer
            .push(keys, time, step)
            .map_err(|_| "wrong number of session keys")
    }

    /// Sessions closed so far.
    pub(crate) fn drain(&mut self) -> Vec<SessionRecord> {
        let keys = &self.resolved.keys;
        match &mut self.sessionizer {
            Some(s) => s.drain_closed().map(|s| to_record(keys, s)).collect(),
            None => Vec::new(),
        }
    }

    /// Closes every open session and returns the sessions not yet drained.
    pub(crate) fn finish(&mut self) -> Vec<SessionRecord> {
        if self.lateness.is_none() && !self.held.is_empty() {
            // The whole input was held: it is sorted whatever its order.
            self.lateness = Some(i64::MAX);
            self.reasons.late = late_reason(i64::MAX, true);
            for held in std::mem::take(&mut self.held) {
                let keys: Vec<Option<&str>> = held.keys.iter().map(|k| k.as_deref()).collect();
                let _ = self.push_step(&keys, held.time, held.step);
            }
        }
        let keys = &self.resolved.keys;
        match self.sessionizer.take() {
            Some(s) => s.finish().into_iter().map(|s| to_record(keys, s)).collect(),
            None => Vec::new(),
        }
    }

    /// Whether sessions are open or events buffered.
    pub(crate) fn is_idle(&self) -> bool {
        self.held.is_empty()
            && self.sessionizer.as_ref().is_none_or(|s| {
                let stats = s.stats();
                stats.open_sessions == 0 && stats.buffered_events == 0
            })
    }
}

fn to_record(fields: &[Field], session: Session<Step>) -> SessionRecord {
    let start = Timestamp::from_unix_nanos(session.start);
    let mut id = session_id(&session.keys, start);
    if session.late {
        // A late event may share its key and time with a real session.
        let index = session.input_indices.first().copied().unwrap_or(0);
        id.push_str(&format!(" (late event {})", index + 1));
    }
    let mut commands = Vec::with_capacity(session.events.len());
    let mut provenance = Vec::new();
    for step in session.events {
        commands.push(step.command);
        if provenance.len() < KEEP_PROVENANCE {
            provenance.push(step.provenance);
        }
    }
    SessionRecord {
        id,
        keys: fields.iter().copied().zip(session.keys).collect(),
        start: Some(start),
        end: Some(Timestamp::from_unix_nanos(session.end)),
        commands,
        provenance,
        late: session.late,
        prebuilt: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_lateness_holds_reversed_or_shuffled_input_and_streams_ordered_input() {
        const MIN: i64 = 60_000_000_000;
        let ordered: Vec<i64> = (0..1000).map(|i| i * MIN).collect();
        assert_eq!(choose_lateness(ordered.iter().copied()), 60 * MIN);
        let reversed = ordered.iter().rev().copied();
        assert_eq!(choose_lateness(reversed), i64::MAX);
        // An event every 7 minutes logged 45 minutes early (44 behind the one before): twice
        // the lag.
        let jittered = ordered
            .iter()
            .map(|&t| if t % (7 * MIN) == 0 { t - 45 * MIN } else { t });
        assert_eq!(choose_lateness(jittered), 88 * MIN);
        assert_eq!(choose_lateness(std::iter::empty()), i64::MAX);
    }

    #[test]
    fn ids_name_keys_and_start() {
        let start = Timestamp::parse("2024-03-04T09:00:00.250Z").expect("time");
        assert_eq!(
            session_id(&[Some("alice".into()), None], start),
            "alice|-@2024-03-04T09:00:00.25Z"
        );
        assert_eq!(session_id(&[], start), "@2024-03-04T09:00:00.25Z");
    }
}
