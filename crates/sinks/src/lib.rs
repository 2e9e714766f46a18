//! oddhunt-sinks: where findings (and, for `oddhunt events`, events) go.
//!
//! Sinks receive findings, never models. Every attacker-controlled string is made safe for its
//! destination here: terminal tables replace control characters, CSV cells that a spreadsheet
//! would evaluate are neutralised, HTML is escaped (see `oddhunt_core::sanitize`).
//!
//! - [`table`]: tables for people on a terminal, fitted to its width;
//! - [`jsonl`]: JSON lines with ECS-style names, ingestible by a SIEM and by `oddhunt report`;
//! - [`csv`]: CSV for spreadsheets, safe against formula injection;
//! - [`run`]: run records (what a detector read, its threshold, a sample of scores);
//! - [`report`]: the self-contained interactive HTML report.

pub mod csv;
pub mod jsonl;
pub mod report;
pub mod run;
pub mod table;

/// Output errors.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// Writing failed.
    #[error("cannot write output: {0}")]
    Io(#[from] std::io::Error),
    /// CSV writer failure.
    #[error("cannot write CSV: {0}")]
    Csv(#[from] ::csv::Error),
    /// JSON encoding failure.
    #[error("cannot encode JSON: {0}")]
    Json(#[from] serde_json::Error),
}
