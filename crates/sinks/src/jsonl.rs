//! JSON lines: one object per line, flat ECS-style keys (see `oddhunt_core::finding`).

use crate::SinkError;
use oddhunt_core::{Event, Finding};
use std::io::Write;

/// Writes findings, one JSON object per line.
pub fn write_findings<'a>(
    out: &mut dyn Write,
    findings: impl IntoIterator<Item = &'a Finding>,
) -> Result<(), SinkError> {
    for f in findings {
        serde_json::to_writer(&mut *out, f)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Writes arbitrary JSON records (e.g. the seed notebooks' Log Analytics rows), one per line.
pub fn write_records<'a>(
    out: &mut dyn Write,
    records: impl IntoIterator<Item = &'a serde_json::Map<String, serde_json::Value>>,
) -> Result<(), SinkError> {
    for r in records {
        serde_json::to_writer(&mut *out, r)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Writes one event as a JSON line.
pub fn write_event(out: &mut dyn Write, event: &Event) -> Result<(), SinkError> {
    serde_json::to_writer(&mut *out, event)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// What a findings file holds: findings and the run records written after them.
#[derive(Debug, Default)]
pub struct FindingsFile {
    /// Findings, in file order.
    pub findings: Vec<Finding>,
    /// Run records, in file order.
    pub runs: Vec<crate::run::RunRecord>,
}

/// Reads findings and run records written by [`write_findings`] and
/// [`crate::run::RunRecord::to_json`]; errors name the line.
pub fn read_findings(input: impl std::io::BufRead, origin: &str) -> Result<FindingsFile, String> {
    let mut out = FindingsFile::default();
    for (i, line) in input.lines().enumerate() {
        let at = |e: &dyn std::fmt::Display| format!("{origin}:{}: {e}", i + 1);
        let line = line.map_err(|e| at(&e))?;
        if line.trim().is_empty() {
            continue;
        }
        let object: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&line).map_err(|e| at(&e))?;
        if let Some(run) = crate::run::RunRecord::from_json(&object) {
            out.runs.push(run.map_err(|e| at(&e))?);
            continue;
        }
        out.findings
            .push(Finding::from_json(object).map_err(|e| at(&e))?);
    }
    Ok(out)
}
