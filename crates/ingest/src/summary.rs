//! What an ingestion run read: files, bytes, records, events per kind, and every record it did
//! not turn into an event, counted by reason with a few examples.
//!
//! Nothing is dropped silently: a record is either an event, or counted under a reason in
//! [`IngestSummary::skipped`] (records no profile maps, such as Security 4624, and malformed
//! records), and an event kept with a defect (an unreadable time, replaced invalid UTF-8) is
//! counted in [`IngestSummary::warnings`].

use crate::error::Issue;
use oddhunt_core::{Event, EventKind, Timestamp};
use serde::Serialize;
use std::collections::BTreeMap;

/// How many examples each reason keeps.
pub const MAX_EXAMPLES: usize = 3;

/// Why records were skipped (or kept with a warning): a count and the first examples.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SkipInfo {
    /// Number of records (or stretches of input) with this reason.
    pub count: u64,
    /// Up to three examples: `file:line: why` or `file record N: why`.
    pub examples: Vec<String>,
    /// `false` for records that are merely of a kind no profile maps (`not mapped: ...`): those
    /// are expected and never errors, even with `--on-error fail`.
    pub error: bool,
}

impl SkipInfo {
    fn add(&mut self, count: u64, examples: impl IntoIterator<Item = String>) {
        self.count += count;
        for example in examples {
            if self.examples.len() >= MAX_EXAMPLES {
                break;
            }
            self.examples.push(example);
        }
    }
}

/// The summary of an ingestion run (or of one source).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct IngestSummary {
    /// Sources read (files, or stdin).
    pub files: u64,
    /// Decompressed bytes read.
    pub bytes: u64,
    /// Records decoded (lines, rows, array elements, EVTX records), whether they became events,
    /// were not mapped, or were malformed.
    pub records: u64,
    /// Events produced, by kind.
    pub events_by_kind: BTreeMap<EventKind, u64>,
    /// Records not turned into events, by reason.
    pub skipped: BTreeMap<String, SkipInfo>,
    /// Events kept with a defect (time unreadable, invalid UTF-8 replaced), by reason.
    pub warnings: BTreeMap<String, SkipInfo>,
    /// Earliest event time seen.
    pub first_seen: Option<Timestamp>,
    /// Latest event time seen.
    pub last_seen: Option<Timestamp>,
    /// The sources, in reading order, as given (`-` for stdin).
    pub sources: Vec<String>,
    /// Number of sources per detected (or forced) format name.
    pub formats: BTreeMap<String, u64>,
}

impl IngestSummary {
    /// Total events produced.
    pub fn events(&self) -> u64 {
        self.events_by_kind.values().sum()
    }

    /// Records skipped because they were malformed (excludes `not mapped` ones).
    pub fn errors(&self) -> u64 {
        self.skipped
            .values()
            .filter(|s| s.error)
            .map(|s| s.count)
            .sum()
    }

    /// Records skipped because no profile maps them.
    pub fn not_mapped(&self) -> u64 {
        self.skipped
            .values()
            .filter(|s| !s.error)
            .map(|s| s.count)
            .sum()
    }

    /// Count of one skip reason (0 when absent).
    pub fn skipped_for(&self, reason: &str) -> u64 {
        self.skipped.get(reason).map_or(0, |s| s.count)
    }

    pub(crate) fn count_event(&mut self, event: &Event) {
        *self.events_by_kind.entry(event.kind()).or_default() += 1;
        if let Some(time) = event.time() {
            if self.first_seen.is_none_or(|t| time < t) {
                self.first_seen = Some(time);
            }
            if self.last_seen.is_none_or(|t| time > t) {
                self.last_seen = Some(time);
            }
        }
    }

    /// Adds `count` records no profile maps, with examples.
    pub(crate) fn add_not_mapped(&mut self, reason: &str, count: u64, examples: Vec<String>) {
        let info = match self.skipped.get_mut(reason) {
            Some(info) => info,
            None => self.skipped.entry(reason.to_string()).or_default(),
        };
        info.error = false;
        info.add(count, examples);
    }

    /// Counts a malformed record (or stretch of input).
    pub(crate) fn count_issue(&mut self, issue: &Issue, source: &str) {
        let info = self.skipped.entry(issue.reason.clone()).or_default();
        info.error = true;
        let example = (info.examples.len() < MAX_EXAMPLES).then(|| issue.example(source));
        info.add(1, example);
    }

    /// Counts a defect of an event that was kept.
    pub(crate) fn count_warning(&mut self, reason: &str, example: impl FnOnce() -> String) {
        let info = self.warnings.entry(reason.to_string()).or_default();
        info.error = true;
        let example = (info.examples.len() < MAX_EXAMPLES).then(example);
        info.add(1, example);
    }

    /// Adds another summary (of a later source) to this one.
    pub fn merge(&mut self, other: IngestSummary) {
        self.files += other.files;
        self.bytes += other.bytes;
        self.records += other.records;
        for (kind, n) in other.events_by_kind {
            *self.events_by_kind.entry(kind).or_default() += n;
        }
        for (target, source) in [
            (&mut self.skipped, other.skipped),
            (&mut self.warnings, other.warnings),
        ] {
            for (reason, info) in source {
                let entry = target.entry(reason).or_default();
                entry.error |= info.error;
                entry.add(info.count, info.examples);
            }
        }
        self.first_seen = match (self.first_seen, other.first_seen) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last_seen = match (self.last_seen, other.last_seen) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.sources.extend(other.sources);
        for (format, n) in other.formats {
            *self.formats.entry(format).or_default() += n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Position;

    #[test]
    fn keeps_three_examples_and_merges_in_order() {
        let mut a = IngestSummary::default();
        for line in 1..=5 {
            a.count_issue(
                &Issue::new("malformed JSON", Position::Line(line), "bad"),
                "a.jsonl",
            );
        }
        a.add_not_mapped(
            "not mapped: Security 4624",
            1,
            vec!["a.jsonl:9: 4624".into()],
        );
        let mut b = IngestSummary::default();
        b.count_issue(
            &Issue::new("malformed JSON", Position::Line(1), "bad"),
            "b.jsonl",
        );
        a.merge(b);
        let info = &a.skipped["malformed JSON"];
        assert_eq!(info.count, 6);
        assert_eq!(
            info.examples,
            vec!["a.jsonl:1: bad", "a.jsonl:2: bad", "a.jsonl:3: bad"]
        );
        assert_eq!(a.errors(), 6);
        assert_eq!(a.not_mapped(), 1);
        assert!(!a.skipped["not mapped: Security 4624"].error);
    }
}
