//! Errors of ingestion: what went wrong and where (file, line or record, field).
//!
//! Two levels. [`IngestError`] stops a run: a missing input, a bad option, or — with
//! `--on-error fail` — the first malformed record. [`Issue`] is one problem with one record or
//! one stretch of a file; with `--on-error skip` issues are counted in the summary under their
//! [`Issue::reason`] (a short, stable category) with the first few [`Issue::detail`]s as examples.

use std::fmt;

/// An error that ends an ingestion run. Its message names the input and, for record errors, the
/// line or record number and field.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// An input path does not exist.
    #[error("{0}: no such file or directory")]
    NotFound(String),
    /// A directory held no file that looks like a log.
    #[error("directory {0} contains no log files")]
    EmptyDirectory(String),
    /// A glob pattern matched nothing.
    #[error("pattern {0:?} matched no files")]
    NoMatch(String),
    /// A glob pattern is not valid.
    #[error("invalid pattern {pattern:?}: {message}")]
    BadPattern {
        /// The pattern as given.
        pattern: String,
        /// What is wrong with it.
        message: String,
    },
    /// An input could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The input.
        path: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A record (or a stretch of a file) could not be decoded and `--on-error fail` was given.
    #[error("{location}: {message}")]
    Record {
        /// `file:line` or `file record N` (or just the file for whole-file problems).
        location: String,
        /// Category, as counted in the summary with `--on-error skip`.
        reason: String,
        /// What is wrong, naming the field when known.
        message: String,
    },
    /// A `--format` name is unknown.
    #[error(
        "unknown format {0:?} (expected one of: evtx, json, jsonl, csv, tsv, zeek, access, w3c)"
    )]
    UnknownFormat(String),
    /// A `--map` specification is invalid.
    #[error("invalid mapping {spec:?}: {message}")]
    Mapping {
        /// The specification as given.
        spec: String,
        /// What is wrong with it.
        message: String,
    },
    /// A `--log-format` string is invalid.
    #[error("invalid log format {format:?}: {message}")]
    LogFormat {
        /// The format string as given.
        format: String,
        /// What is wrong with it.
        message: String,
    },
    /// A `--profile` name is unknown.
    #[error("unknown profile {0:?} (expected one of: {names})", names = crate::profile::PROFILE_NAMES.join(", "))]
    UnknownProfile(String),
    /// Other invalid options.
    #[error("invalid options: {0}")]
    Options(String),
}

/// Where inside a source a problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Position {
    /// The source as a whole (it could not be opened, its format is unknown, ...).
    Source,
    /// A 1-based line of a text source.
    Line(u64),
    /// A numbered record (EVTX `EventRecordID`, 1-based JSON array element).
    Record(u64),
    /// An EVTX chunk (0-based, as the evtx crate numbers them).
    Chunk(u64),
    /// A byte offset in the (decompressed) source.
    Offset(u64),
}

impl Position {
    /// `source:line`, `source record N`, ... for messages.
    pub fn describe(self, source: &str) -> String {
        match self {
            Position::Source => source.to_string(),
            Position::Line(n) => format!("{source}:{n}"),
            Position::Record(n) => format!("{source} record {n}"),
            Position::Chunk(n) => format!("{source} chunk {n}"),
            Position::Offset(n) => format!("{source} byte {n}"),
        }
    }
}

/// One problem with a record or a part of a source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issue {
    /// Short, stable category ("malformed JSON", "wrong number of fields", ...): the key under
    /// which the summary counts it.
    pub reason: String,
    /// Where it is.
    pub position: Position,
    /// What exactly is wrong, naming the field when known.
    pub detail: String,
}

impl Issue {
    /// A new issue.
    pub fn new(reason: impl Into<String>, position: Position, detail: impl Into<String>) -> Self {
        Issue {
            reason: reason.into(),
            position,
            detail: detail.into(),
        }
    }

    /// The error this issue becomes with `--on-error fail`.
    pub fn into_error(self, source: &str) -> IngestError {
        IngestError::Record {
            location: self.position.describe(source),
            reason: self.reason,
            message: self.detail,
        }
    }

    /// The example line kept in the summary: `file:line: detail`.
    pub fn example(&self, source: &str) -> String {
        format!("{}: {}", self.position.describe(source), self.detail)
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.reason, self.detail)
    }
}

/// Shortens attacker-controlled text quoted in a message (a 10 MB line must not become a 10 MB
/// error message).
pub(crate) fn excerpt(text: &str) -> String {
    const MAX: usize = 80;
    if text.len() <= MAX {
        return text.to_string();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// The error and its causes on one line (`a: b: c`), as the evtx crate nests them.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_describe_themselves() {
        assert_eq!(Position::Line(3).describe("a.log"), "a.log:3");
        assert_eq!(Position::Record(9).describe("a.evtx"), "a.evtx record 9");
        assert_eq!(Position::Chunk(9).describe("a.evtx"), "a.evtx chunk 9");
        let issue = Issue::new("malformed JSON", Position::Line(2), "expected ':'");
        assert_eq!(issue.example("x.jsonl"), "x.jsonl:2: expected ':'");
        let err = issue.into_error("x.jsonl");
        assert_eq!(err.to_string(), "x.jsonl:2: expected ':'");
    }

    #[test]
    fn excerpts_are_short_and_split_on_characters() {
        let long = "é".repeat(100);
        let short = excerpt(&long);
        assert!(short.len() < 90);
        assert!(short.ends_with('…'));
    }
}
