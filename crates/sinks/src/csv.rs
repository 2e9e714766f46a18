//! CSV for spreadsheets. Every cell goes through `sanitize::csv_cell`, so a command line such as
//! `=cmd|' /C calc'!A0` is shown, not evaluated.

use crate::SinkError;
use oddhunt_core::sanitize::csv_cell;
use oddhunt_core::{Event, Field, Finding};
use std::collections::BTreeSet;
use std::io::Write;

fn text(v: f64) -> String {
    if v.is_nan() {
        String::new()
    } else {
        format!("{v}")
    }
}

/// Writes findings: fixed columns, then every context field that occurs, then provenance.
pub fn write_findings(out: &mut dyn Write, findings: &[Finding]) -> Result<(), SinkError> {
    let context: BTreeSet<&str> = findings
        .iter()
        .flat_map(|f| f.scored.context.keys().map(String::as_str))
        .collect();
    let mut w = ::csv::Writer::from_writer(out);
    let mut header: Vec<String> = [
        "id",
        "detector",
        "severity",
        "alert",
        "excluded_by",
        "score",
        "threshold",
        "measure",
        "measure_value",
        "subject",
        "summary",
        "first_seen",
        "last_seen",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    header.extend(context.iter().map(|s| s.to_string()));
    header.push("provenance".into());
    w.write_record(&header)?;
    for f in findings {
        let s = &f.scored;
        let mut row: Vec<String> = vec![
            f.id.clone(),
            f.detector.clone(),
            f.severity.to_string(),
            f.alert.to_string(),
            f.excluded_by.clone().unwrap_or_default(),
            text(s.score),
            text(f.threshold),
            s.measure.name.clone(),
            text(s.measure.value),
            s.subject.clone(),
            s.summary.clone(),
            s.first_seen.map(|t| t.to_string()).unwrap_or_default(),
            s.last_seen.map(|t| t.to_string()).unwrap_or_default(),
        ];
        for key in &context {
            row.push(s.context.get(*key).cloned().unwrap_or_default());
        }
        row.push(
            s.provenance
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        );
        w.write_record(row.iter().map(|c| csv_cell(c).into_owned()))?;
    }
    w.flush()?;
    Ok(())
}

/// Streams events as CSV: time, kind, every well-known field, params, provenance.
pub struct EventCsv<W: Write> {
    writer: ::csv::Writer<W>,
}

impl<W: Write> EventCsv<W> {
    /// Starts the CSV (writes the header).
    pub fn new(out: W) -> Result<Self, SinkError> {
        let mut writer = ::csv::Writer::from_writer(out);
        let mut header = vec!["@timestamp".to_string(), "event.kind".to_string()];
        header.extend(Field::ALL.iter().map(|f| f.ecs_name().to_string()));
        header.push("params".into());
        header.push("provenance".into());
        writer.write_record(&header)?;
        Ok(EventCsv { writer })
    }

    /// Writes one event.
    pub fn write(&mut self, e: &Event) -> Result<(), SinkError> {
        let mut row: Vec<String> = vec![
            e.time().map(|t| t.to_string()).unwrap_or_default(),
            e.kind().to_string(),
        ];
        row.extend(
            Field::ALL
                .iter()
                .map(|&f| e.get(f).unwrap_or("").to_string()),
        );
        row.push(
            e.params()
                .map(|p| match p.value {
                    Some(v) => format!("{}={}", p.name, v),
                    None => p.name.to_string(),
                })
                .collect::<Vec<_>>()
                .join("; "),
        );
        row.push(e.provenance().to_string());
        self.writer
            .write_record(row.iter().map(|c| csv_cell(c).into_owned()))?;
        Ok(())
    }

    /// Flushes the output and gives the writer back.
    pub fn finish(mut self) -> Result<W, SinkError> {
        self.writer.flush()?;
        self.writer
            .into_inner()
            .map_err(|e| SinkError::Io(e.into_error()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oddhunt_core::{Measure, Scored, Severity};

    #[test]
    fn formula_cells_are_neutralised() {
        let mut s = Scored::new("=cmd|' /C calc'!A0", 1.0, Measure::new("m", 1.0));
        s.context
            .insert("process.command_line".into(), "+HYPERLINK(\"x\")".into());
        let f = Finding::new("cmdline", s, 0.5, true, Severity::High);
        let mut out = Vec::new();
        write_findings(&mut out, &[f]).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("'=cmd|"), "{text}");
        assert!(text.contains("'+HYPERLINK"), "{text}");
        assert!(!text.contains(",=cmd"), "{text}");
    }
}
