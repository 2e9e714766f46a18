//! CSV and TSV decoder: a header row (or `--columns`), quoted fields with embedded commas and
//! newlines (CSV), one record per row.
//!
//! A row with more or fewer fields than there are columns is reported with its line number
//! (`wrong number of fields`) and skipped, never shifted into the wrong columns: the QFunction
//! seed's SIEM export is a headerless 4-column CSV whose command lines contain commas, and a
//! command line that lost its quotes must not become a user name. A pandas index column
//! (an unnamed first column) is kept under an empty name and left out of extra fields. TSV is
//! read without quoting: command lines and URLs contain `"` freely.

use super::{text, RecordSink};
use crate::error::{Issue, Position};
use crate::record::Record;
use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

/// Refuses to read more than `limit` bytes since the last `reset`: bounds the memory one CSV
/// row can take (a quote that is never closed would otherwise swallow the whole file).
struct Limited<R> {
    inner: R,
    since_reset: Rc<Cell<usize>>,
    limit: usize,
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.since_reset.get() > self.limit {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("a row is larger than the limit of {} bytes", self.limit),
            ));
        }
        let n = self.inner.read(buf)?;
        self.since_reset.set(self.since_reset.get() + n);
        Ok(n)
    }
}

/// How to read the table.
pub(crate) struct Table<'a> {
    pub delimiter: u8,
    pub quoting: bool,
    pub columns: Option<&'a [String]>,
    pub max_record: usize,
}

/// Decodes a CSV/TSV source.
pub(crate) fn decode(
    input: impl Read,
    head: &[u8],
    table: &Table<'_>,
    sink: &mut dyn RecordSink,
) -> io::Result<()> {
    // The csv crate starts a record's position before the `\n` of a `\r\n` ending is consumed,
    // so with Windows line endings every record after the first is one line (and byte) early.
    let crlf = memchr::memchr(b'\n', head).is_some_and(|i| i > 0 && head[i - 1] == b'\r');
    let mut first = true;
    let since_reset = Rc::new(Cell::new(0));
    let limited = Limited {
        inner: input,
        since_reset: Rc::clone(&since_reset),
        limit: table.max_record,
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(table.delimiter)
        .quoting(table.quoting)
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(256 * 1024)
        .from_reader(limited);
    let mut columns: Option<Vec<String>> = table
        .columns
        .map(|c| c.iter().map(|s| s.trim().to_string()).collect());
    let mut columns_changed = columns.is_some();
    let mut row = csv::ByteRecord::new();
    let mut record = Record::new();
    loop {
        match reader.read_byte_record(&mut row) {
            Ok(true) => {}
            Ok(false) => return Ok(()),
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                let position = if line > 0 {
                    Position::Line(line)
                } else {
                    Position::Source
                };
                let detail = match e.kind() {
                    csv::ErrorKind::Io(io) => io.to_string(),
                    _ => e.to_string(),
                };
                let _ = sink.issue(
                    Issue::new(
                        "malformed CSV",
                        position,
                        format!("{detail}; the rest of the source is not read"),
                    ),
                    false,
                );
                return Ok(());
            }
        }
        // A position the reader always has after a successful read.
        let (mut line, mut offset) = row.position().map_or((0, 0), |p| (p.line(), p.byte()));
        if crlf && !first {
            line += 1;
            offset += 1;
        }
        first = false;
        let position = Position::Line(line);
        since_reset.set(0);
        let Some(names) = columns.as_ref() else {
            // The header row.
            let mut names = Vec::with_capacity(row.len());
            for (i, field) in row.iter().enumerate() {
                let mut name = text(field, sink, position).trim().to_string();
                if i == 0 {
                    name = name.trim_start_matches('\u{feff}').to_string();
                }
                names.push(name);
            }
            columns = Some(names);
            columns_changed = true;
            continue;
        };
        if row.len() == 1 && row.get(0).is_some_and(|f| f.is_empty()) {
            continue;
        }
        if row.len() != names.len() {
            let flow = sink.issue(
                Issue::new(
                    "wrong number of fields",
                    position,
                    format!(
                        "row has {} fields, expected {} ({})",
                        row.len(),
                        names.len(),
                        crate::error::excerpt(&names.join(","))
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
            record.set_columns(names);
            columns_changed = false;
        }
        record.clear();
        // The row's fields sit back to back in one buffer: copy it once and point into it.
        match std::str::from_utf8(row.as_slice()) {
            Ok(all) => {
                let base = record.push_line(all);
                let mut start = 0u32;
                for i in 0..row.len() {
                    let len = row.get(i).map_or(0, |f| f.len() as u32);
                    record.push_column_at(i, base + start, len);
                    start += len;
                }
            }
            Err(_) => {
                for (i, field) in row.iter().enumerate() {
                    let value = text(field, sink, position);
                    record.push_column(i, Some(&value));
                }
            }
        }
        record.seal();
        if sink.record(&mut record, position, Some(offset)).is_break() {
            return Ok(());
        }
    }
}
