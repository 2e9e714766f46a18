//! JSON decoder: JSON lines (the fast path), and everything else JSON through the streaming
//! splitter — arrays, pretty-printed or concatenated objects, CloudTrail `{"Records": [...]}`.
//!
//! A source is read as JSON lines when its first line is a complete object (`{` ... `}`);
//! each line is then parsed on its own, so a malformed line is reported with its number and
//! the next line is read normally. A line that holds an array or a wrapper object is split into
//! its elements. Otherwise the whole source goes through [`Splitter`], which never holds more
//! than one record.

use super::{text, too_large, RecordSink};
use crate::error::{excerpt, Issue, Position};
use crate::json::{parse_object, Piece, Splitter, WRAPPER_KEYS};
use crate::lines::{Line, LineReader};
use crate::record::Record;
use std::io::{self, BufRead};
use std::ops::ControlFlow;

/// Whether the content starting with `head` is JSON lines.
pub(crate) fn is_json_lines(head: &[u8]) -> bool {
    let text = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let start = text
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(text.len());
    let text = &text[start..];
    let Some(end) = memchr::memchr(b'\n', text) else {
        return false;
    };
    let line = text[..end].trim_ascii();
    line.first() == Some(&b'{') && line.last() == Some(&b'}')
}

/// Whether a line is an array or a wrapper object (to be split into elements).
fn needs_splitting(line: &[u8]) -> bool {
    match line.first() {
        Some(b'[') => true,
        Some(b'{') => {
            let rest = line[1..].trim_ascii_start();
            WRAPPER_KEYS.iter().any(|k| {
                rest.len() > k.len() + 2
                    && rest[0] == b'"'
                    && rest[1..].starts_with(k.as_bytes())
                    && rest[k.len() + 1] == b'"'
                    && rest[k.len() + 2..]
                        .trim_ascii_start()
                        .strip_prefix(b":")
                        .is_some_and(|r| r.trim_ascii_start().first() == Some(&b'['))
            })
        }
        _ => false,
    }
}

fn parse_piece(
    bytes: &[u8],
    record: &mut Record,
    position: Position,
    offset: u64,
    sink: &mut dyn RecordSink,
) -> ControlFlow<()> {
    let json = text(bytes, sink, position);
    record.clear();
    match parse_object(&json, record) {
        Ok(()) => sink.record(record, position, Some(offset)),
        Err(e) => sink.issue(
            Issue::new(
                "malformed JSON",
                position,
                format!(
                    "{e} (near {:?})",
                    excerpt(json.get(e.offset..).unwrap_or(""))
                ),
            ),
            true,
        ),
    }
}

/// Splits a stream with the [`Splitter`] and parses each piece.
fn decode_stream<R: BufRead>(
    input: R,
    base_offset: u64,
    record: &mut Record,
    sink: &mut dyn RecordSink,
    max_record: usize,
) -> io::Result<ControlFlow<()>> {
    let mut splitter = Splitter::new(input, max_record);
    let mut buf = Vec::new();
    while let Some(piece) = splitter.next_piece(&mut buf)? {
        let flow = match piece {
            Piece::Value { position, offset } => {
                parse_piece(&buf, record, position, base_offset + offset, sink)
            }
            Piece::TooLarge { position, size } => {
                sink.issue(too_large(position, size, max_record), true)
            }
            Piece::Broken { offset, message } => sink.issue(
                Issue::new(
                    "malformed JSON",
                    Position::Offset(base_offset + offset),
                    format!("{message}; the rest of the source cannot be read as JSON"),
                ),
                false,
            ),
        };
        if flow.is_break() {
            return Ok(flow);
        }
    }
    Ok(ControlFlow::Continue(()))
}

/// Decodes a JSON source whose first bytes are `head`.
pub(crate) fn decode(
    input: Box<dyn BufRead + Send>,
    head: &[u8],
    sink: &mut dyn RecordSink,
    max_record: usize,
) -> io::Result<()> {
    let mut record = Record::new();
    if !is_json_lines(head) {
        let _ = decode_stream(input, 0, &mut record, sink, max_record)?;
        return Ok(());
    }
    let mut lines = LineReader::new(input, max_record);
    while let Some(line) = lines.next_line()? {
        let flow = match line {
            Line::TooLong { number, size, .. } => {
                sink.issue(too_large(Position::Line(number), size, max_record), true)
            }
            Line::Text {
                bytes,
                number,
                offset,
            } => {
                let bytes = bytes.trim_ascii();
                if bytes.is_empty() {
                    continue;
                }
                if needs_splitting(bytes) {
                    let flow = decode_stream(bytes, offset, &mut record, sink, max_record)?;
                    if flow.is_break() {
                        return Ok(());
                    }
                    continue;
                }
                parse_piece(bytes, &mut record, Position::Line(number), offset, sink)
            }
        };
        if flow.is_break() {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_json_lines_and_wrappers() {
        assert!(is_json_lines(b"{\"a\":1}\n{\"a\":2}\n"));
        assert!(!is_json_lines(b"{\n  \"a\": 1\n}\n"));
        assert!(!is_json_lines(b"[{\"a\":1}]\n"));
        assert!(!is_json_lines(b"{\"a\":1}"), "no complete first line");
        assert!(needs_splitting(br#"{"Records": [{"a":1}]}"#));
        assert!(needs_splitting(br#"[{"a":1}]"#));
        assert!(!needs_splitting(br#"{"Records": 3}"#));
        assert!(!needs_splitting(br#"{"eventName": "x", "Records": []}"#));
    }
}
