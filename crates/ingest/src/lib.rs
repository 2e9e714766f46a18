//! oddhunt-ingest: streaming ingestion of security logs into oddhunt events.
//!
//! This crate is the first stage of the oddhunt pipeline (source → decode → map → [`Event`]):
//!
//! - [`resolve_inputs`] turns command-line inputs (files, directories walked recursively, glob
//!   patterns, `-` for stdin) into [`Sources`]; gzip and zstd are recognised by their magic
//!   bytes and decompressed on the fly;
//! - decoders read EVTX (through the `evtx` crate), JSON lines and JSON arrays (streamed,
//!   including CloudTrail's `{"Records": [...]}`), CSV/TSV, Zeek TSV logs, Apache/Nginx access
//!   logs (any `LogFormat`/`log_format`) and IIS W3C logs into [`Record`]s, each with its file and
//!   line or record number; the format is detected from the content (file name as a hint) or
//!   forced with [`IngestOptions::format`];
//! - mapping profiles turn records into typed events: Security 4688, Sysmon 1/3/22, Zeek
//!   dns/http/conn, web access logs, CloudTrail, Office/Exchange and Azure AD audit, plus
//!   records already named with oddhunt field names, or the user's [`Mapping`] (`--map`);
//! - [`read_events`] streams every event of every source to a sink in a stable order (source
//!   order, then record order) while decoding several sources in parallel, with bounded memory,
//!   and returns an [`IngestSummary`] that accounts for every record: events by kind, records
//!   not mapped (other event ids: counted, never errors) and malformed records (skipped and
//!   counted with `OnError::Skip`, the run's error with `OnError::Fail`), and counts events kept
//!   with a defect (an unreadable time, replaced invalid UTF-8) as warnings.
//!
//! Lower layers are public for tests, fuzzing and new sources: [`decode_bytes`] runs the whole
//! path on bytes in memory on the calling thread; [`decode_records`] shows one decoder's
//! [`Record`]s before mapping; [`json`], [`lines`] and [`record`] are the building blocks.
//!
//! Speed and memory (release build, one core, see `bench/ingest.sh`): JSON lines, Zeek TSV, CSV
//! and access logs are read at roughly 200-1000 MB/s of input; EVTX costs the evtx crate's
//! rendering plus the reading of the records a profile maps (records of other event ids are
//! rejected from their id, channel and provider alone). Memory stays flat (a few MiB) whatever
//! the input size: sources are streamed, a record larger than
//! [`IngestOptions::max_record_bytes`] is reported rather than buffered, and compressed EVTX is
//! spooled to a temporary file beyond 64 MiB.
//!
//! ```no_run
//! use oddhunt_ingest::{read_events, resolve_inputs, IngestOptions};
//! use std::ops::ControlFlow;
//!
//! let sources = resolve_inputs(&["logs/".to_string()])?;
//! let mut count = 0;
//! let summary = read_events(&sources, &IngestOptions::default(), |event| {
//!     count += 1;
//!     let _ = event.get(oddhunt_core::Field::CommandLine);
//!     ControlFlow::Continue(())
//! })?;
//! println!("{count} events, {} malformed records", summary.errors());
//! # Ok::<(), oddhunt_ingest::IngestError>(())
//! ```

mod decode;
mod detect;
pub mod error;
pub mod json;
pub mod lines;
mod mapping;
mod pipeline;
mod profile;
pub mod record;
mod source;
mod summary;

pub use decode::access::LogFormat;
pub use detect::detect_format;
pub use error::{IngestError, Issue, Position};
pub use mapping::Mapping;
pub use pipeline::{decode_bytes, decode_records, read_events, Decoded};
pub use profile::{Mapped, PROFILE_NAMES};
pub use record::{Key, Record, ValueKind};
pub use source::{resolve_inputs, Input, Source, Sources};
pub use summary::{IngestSummary, SkipInfo};

use std::fmt;
use std::str::FromStr;

pub use oddhunt_core::Event;

/// A log format. Detected from content when not given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// Windows binary event log (`.evtx`).
    Evtx,
    /// JSON: one object per line, a JSON array, concatenated (pretty-printed) objects, or a
    /// wrapper object such as CloudTrail's `{"Records": [...]}`. Zeek JSON logs are JSON too.
    Json,
    /// Comma-separated values with a header row (or headerless with
    /// [`IngestOptions::columns`]).
    Csv,
    /// Tab-separated values with a header row (or [`IngestOptions::columns`]); no quoting.
    Tsv,
    /// Zeek TSV log with `#separator`/`#fields` headers.
    ZeekTsv,
    /// Apache/Nginx access log: combined or common, or [`IngestOptions::log_format`].
    AccessLog,
    /// IIS W3C extended log (`#Fields:` header).
    W3c,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 7] = [
        Format::Evtx,
        Format::Json,
        Format::Csv,
        Format::Tsv,
        Format::ZeekTsv,
        Format::AccessLog,
        Format::W3c,
    ];

    /// The name used by `--format` and in summaries.
    pub fn name(self) -> &'static str {
        match self {
            Format::Evtx => "evtx",
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::ZeekTsv => "zeek",
            Format::AccessLog => "access",
            Format::W3c => "w3c",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = IngestError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "evtx" => Format::Evtx,
            "json" | "jsonl" | "ndjson" | "json-lines" | "cloudtrail" | "zeek-json" => Format::Json,
            "csv" => Format::Csv,
            "tsv" => Format::Tsv,
            "zeek" | "zeek-tsv" | "bro" => Format::ZeekTsv,
            "access" | "apache" | "nginx" | "combined" | "common" | "clf" => Format::AccessLog,
            "w3c" | "iis" => Format::W3c,
            _ => return Err(IngestError::UnknownFormat(s.to_string())),
        })
    }
}

/// What to do with a malformed record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnError {
    /// Stop and return an error naming the file and line or record.
    Fail,
    /// Count it in the summary (with examples) and go on.
    #[default]
    Skip,
}

impl FromStr for OnError {
    type Err = IngestError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "fail" => Ok(OnError::Fail),
            "skip" => Ok(OnError::Skip),
            _ => Err(IngestError::Options(format!(
                "--on-error must be fail or skip, not {s:?}"
            ))),
        }
    }
}

/// Default largest record (line, JSON value, CSV row) accepted: 64 MiB.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 64 << 20;

/// Largest record size limit that can be set: 1 GiB (a record's text is addressed with 31 bits).
pub const MAX_RECORD_LIMIT: usize = 1 << 30;

/// How to read the inputs.
#[derive(Clone, Debug)]
pub struct IngestOptions {
    /// Format of every input; `None` detects it per input from its content (name as a hint).
    pub format: Option<Format>,
    /// Column names of headerless CSV/TSV input (`--columns a,b,c`); the first row is data.
    pub columns: Option<Vec<String>>,
    /// Apache `LogFormat` or nginx `log_format` string (`--log-format`) for access logs.
    pub log_format: Option<String>,
    /// The user's mapping (`--map`); replaces the automatic profiles.
    pub mapping: Option<Mapping>,
    /// Force one mapping profile by name (see [`PROFILE_NAMES`]); `None` picks per record.
    pub profile: Option<String>,
    /// What to do with malformed records.
    pub on_error: OnError,
    /// Keep the source's other fields in each event's extras (for display). Detectors that only
    /// need the well-known fields turn it off for speed.
    pub keep_extra: bool,
    /// Decoding threads; 0 = one per core.
    pub threads: usize,
    /// Largest record accepted, in bytes; larger ones are reported, not buffered.
    pub max_record_bytes: usize,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            format: None,
            columns: None,
            log_format: None,
            mapping: None,
            profile: None,
            on_error: OnError::Skip,
            keep_extra: true,
            threads: 0,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
        }
    }
}

impl IngestOptions {
    /// Checks the options that can be checked before reading (profile name, log format).
    pub fn validate(&self) -> Result<(), IngestError> {
        if let Some(profile) = &self.profile {
            if !PROFILE_NAMES.contains(&profile.to_ascii_lowercase().as_str()) {
                return Err(IngestError::UnknownProfile(profile.clone()));
            }
        }
        if let Some(format) = &self.log_format {
            LogFormat::parse(format)?;
        }
        if let Some(columns) = &self.columns {
            if columns.is_empty() || columns.iter().all(|c| c.trim().is_empty()) {
                return Err(IngestError::Options("--columns names no column".into()));
            }
        }
        if self.max_record_bytes == 0 || self.max_record_bytes > MAX_RECORD_LIMIT {
            return Err(IngestError::Options(format!(
                "the record size limit must be between 1 byte and {MAX_RECORD_LIMIT} bytes"
            )));
        }
        Ok(())
    }

    /// Number of decoding threads to use.
    pub fn thread_count(&self) -> usize {
        if self.threads > 0 {
            self.threads
        } else {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.name().parse::<Format>().unwrap(), f);
        }
        assert_eq!("jsonl".parse::<Format>().unwrap(), Format::Json);
        assert_eq!("nginx".parse::<Format>().unwrap(), Format::AccessLog);
        assert!("xml".parse::<Format>().is_err());
        assert_eq!("FAIL".parse::<OnError>().unwrap(), OnError::Fail);
    }

    #[test]
    fn options_are_validated() {
        let mut o = IngestOptions::default();
        assert!(o.validate().is_ok());
        o.profile = Some("nope".into());
        assert!(o
            .validate()
            .unwrap_err()
            .to_string()
            .contains("security-4688"));
        o.profile = Some("security-4688".into());
        o.log_format = Some("%h %{Referer".into());
        assert!(o.validate().is_err());
    }
}
