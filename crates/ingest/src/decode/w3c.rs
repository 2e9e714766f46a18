//! IIS W3C extended log decoder: `#Fields:` names the space-separated columns; other `#`
//! directives (`#Software`, `#Version`, `#Date`, comments) are skipped; a new `#Fields:` (IIS
//! restarts append one) replaces the schema. `-` is an absent value. A line whose field count
//! differs from `#Fields:` is reported with its line number.

use super::{text, too_large, RecordSink};
use crate::error::{Issue, Position};
use crate::lines::{Line, LineReader};
use crate::record::Record;
use std::io::{self, Read};

/// Decodes a W3C extended log.
pub(crate) fn decode(
    input: impl Read,
    sink: &mut dyn RecordSink,
    max_record: usize,
) -> io::Result<()> {
    let mut lines = LineReader::new(input, max_record);
    let mut fields: Vec<String> = Vec::new();
    let mut record = Record::new();
    let mut columns_changed = false;
    while let Some(line) = lines.next_line()? {
        let (bytes, number, offset) = match line {
            Line::TooLong { number, size, .. } => {
                if sink
                    .issue(too_large(Position::Line(number), size, max_record), true)
                    .is_break()
                {
                    return Ok(());
                }
                continue;
            }
            Line::Text {
                bytes,
                number,
                offset,
            } => (bytes, number, offset),
        };
        let position = Position::Line(number);
        let line = text(bytes, sink, position);
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(directive) = line.strip_prefix('#') {
            if let Some(names) = directive.strip_prefix("Fields:") {
                fields = names.split_whitespace().map(str::to_string).collect();
                columns_changed = true;
            }
            continue;
        }
        if fields.is_empty() {
            if sink
                .issue(
                    Issue::new(
                        "malformed W3C line",
                        position,
                        "data line before the #Fields: directive",
                    ),
                    true,
                )
                .is_break()
            {
                return Ok(());
            }
            continue;
        }
        let count = line.split(' ').count();
        if count != fields.len() {
            let flow = sink.issue(
                Issue::new(
                    "wrong number of fields",
                    position,
                    format!(
                        "line has {count} fields, #Fields: declares {}",
                        fields.len()
                    ),
                ),
                true,
            );
            if flow.is_break() {
                return Ok(());
            }
            continue;
        }
        if columns_changed {
            record.set_columns(&fields);
            columns_changed = false;
        }
        record.clear();
        for (i, value) in line.split(' ').enumerate() {
            record.push_column(i, (value != "-").then_some(value));
        }
        record.seal();
        if sink.record(&mut record, position, Some(offset)).is_break() {
            return Ok(());
        }
    }
    Ok(())
}
