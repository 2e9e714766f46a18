//! Zeek TSV decoder: the `#` header lines, then one record per line.
//!
//! Headers: `#separator` (written with hex escapes, `\x09`), `#set_separator`, `#empty_field`
//! (`(empty)`), `#unset_field` (`-`), `#path` (the log type), `#fields`, `#types`,
//! `#open`/`#close`. A new `#fields` header (logs concatenated) starts a new schema. Values:
//! the unset marker is absent (null), the empty marker an empty value, `\xHH` escapes are undone,
//! set/vector elements are joined with `,`. Values are checked against their declared type
//! (`port`, `count`, `time`, `bool`, `addr`, ...): a line whose values do not fit, or whose field
//! count differs from `#fields`, is reported with its line number and skipped. Extra trailing
//! columns declared in `#fields` (Stratosphere's `label`, `detailedlabel`) are ordinary fields.

use super::{text, too_large, RecordSink};
use crate::error::{excerpt, Issue, Position};
use crate::lines::{Line, LineReader};
use crate::record::Record;
use std::io::{self, Read};
use std::sync::Arc;

/// A Zeek field type, as far as checking values goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ZeekType {
    Time,
    Count,
    Int,
    Bool,
    Addr,
    Container,
    Other,
}

impl ZeekType {
    fn parse(name: &str) -> ZeekType {
        match name {
            "time" | "interval" | "double" => ZeekType::Time,
            "count" | "port" => ZeekType::Count,
            "int" => ZeekType::Int,
            "bool" => ZeekType::Bool,
            "addr" => ZeekType::Addr,
            t if t.starts_with("set[") || t.starts_with("vector[") || t.starts_with("table[") => {
                ZeekType::Container
            }
            _ => ZeekType::Other,
        }
    }

    fn name(self) -> &'static str {
        match self {
            ZeekType::Time => "a number",
            ZeekType::Count => "a non-negative integer",
            ZeekType::Int => "an integer",
            ZeekType::Bool => "T or F",
            ZeekType::Addr => "an address",
            ZeekType::Container | ZeekType::Other => "text",
        }
    }

    fn accepts(self, value: &[u8]) -> bool {
        match self {
            ZeekType::Time => {
                let v = value.strip_prefix(b"-").unwrap_or(value);
                !v.is_empty()
                    && v.iter().all(|b| {
                        b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-')
                    })
                    && v[0].is_ascii_digit()
            }
            ZeekType::Count => !value.is_empty() && value.iter().all(u8::is_ascii_digit),
            ZeekType::Int => {
                let v = value.strip_prefix(b"-").unwrap_or(value);
                !v.is_empty() && v.iter().all(u8::is_ascii_digit)
            }
            ZeekType::Bool => matches!(value, b"T" | b"F"),
            ZeekType::Addr => {
                !value.is_empty()
                    && value
                        .iter()
                        .all(|b| b.is_ascii_hexdigit() || matches!(b, b'.' | b':' | b'%'))
            }
            ZeekType::Container | ZeekType::Other => true,
        }
    }
}

/// The header state of a Zeek log.
#[derive(Clone, Debug)]
pub(crate) struct Header {
    pub separator: Vec<u8>,
    pub set_separator: Vec<u8>,
    pub empty: Vec<u8>,
    pub unset: Vec<u8>,
    pub fields: Vec<String>,
    pub types: Vec<ZeekType>,
}

impl Default for Header {
    fn default() -> Self {
        Header {
            separator: b"\t".to_vec(),
            set_separator: b",".to_vec(),
            empty: b"(empty)".to_vec(),
            unset: b"-".to_vec(),
            fields: Vec::new(),
            types: Vec::new(),
        }
    }
}

/// Undoes Zeek's `\xHH` escapes (other backslashes are kept as they are).
pub(crate) fn unescape(value: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut i = 0;
    while i < value.len() {
        if value[i] == b'\\' && value.get(i + 1) == Some(&b'x') {
            if let Some(hex) = value.get(i + 2..i + 4) {
                if let Ok(byte) = u8::from_str_radix(std::str::from_utf8(hex).unwrap_or("zz"), 16) {
                    out.push(byte);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(value[i]);
        i += 1;
    }
}

/// Splits `line` by `separator` (one or more bytes).
fn split<'a>(line: &'a [u8], separator: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
    let mut rest = Some(line);
    std::iter::from_fn(move || {
        let current = rest?;
        let found = if separator.len() == 1 {
            memchr::memchr(separator[0], current)
        } else {
            memchr::memmem::find(current, separator)
        };
        match found {
            Some(i) => {
                rest = Some(&current[i + separator.len()..]);
                Some(&current[..i])
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

/// Applies a header line to the state; returns the new `#path`, if the line was one.
fn header_line(line: &[u8], header: &mut Header) -> Option<Option<String>> {
    if let Some(rest) = line.strip_prefix(b"#separator") {
        let mut raw = Vec::new();
        unescape(rest.trim_ascii(), &mut raw);
        if !raw.is_empty() {
            header.separator = raw;
        }
        return None;
    }
    let mut parts = split(line, &header.separator);
    let directive = parts.next().unwrap_or_default();
    let values: Vec<&[u8]> = parts.collect();
    let one = || {
        let mut raw = Vec::new();
        unescape(values.first().copied().unwrap_or_default(), &mut raw);
        raw
    };
    match directive {
        b"#set_separator" => header.set_separator = one(),
        b"#empty_field" => header.empty = one(),
        b"#unset_field" => header.unset = one(),
        b"#path" => return Some(Some(String::from_utf8_lossy(&one()).into_owned())),
        b"#fields" => {
            header.fields = values
                .iter()
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .collect();
            header.types.clear();
        }
        b"#types" => {
            header.types = values
                .iter()
                .map(|v| ZeekType::parse(&String::from_utf8_lossy(v)))
                .collect();
        }
        _ => {}
    }
    None
}

/// Byte slices compared without a `memcmp` call (the markers are one to seven bytes).
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// Decodes a Zeek TSV source.
pub(crate) fn decode(
    input: impl Read,
    sink: &mut dyn RecordSink,
    max_record: usize,
) -> io::Result<()> {
    let mut lines = LineReader::new(input, max_record);
    let mut header = Header::default();
    let mut record = Record::new();
    let mut value = Vec::new();
    let mut joined = Vec::new();
    let mut bounds: Vec<(usize, usize)> = Vec::new();
    let mut columns_set = false;
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
        if bytes.first() == Some(&b'#') {
            if let Some(path) = header_line(bytes, &mut header) {
                sink.zeek_path(path.map(|p| Arc::from(p.as_str())));
            }
            if bytes.starts_with(b"#fields") {
                columns_set = false;
            }
            continue;
        }
        if bytes.is_empty() {
            continue;
        }
        if header.fields.is_empty() {
            if sink
                .issue(
                    Issue::new(
                        "malformed Zeek line",
                        position,
                        "data line before the #fields header",
                    ),
                    true,
                )
                .is_break()
            {
                return Ok(());
            }
            continue;
        }
        if !columns_set {
            record.set_columns(&header.fields);
            columns_set = true;
        }
        // Field boundaries in one pass.
        bounds.clear();
        let mut start = 0;
        if header.separator.len() == 1 {
            for i in memchr::memchr_iter(header.separator[0], bytes) {
                bounds.push((start, i));
                start = i + 1;
            }
        } else {
            for i in memchr::memmem::find_iter(bytes, &header.separator) {
                bounds.push((start, i));
                start = i + header.separator.len();
            }
        }
        bounds.push((start, bytes.len()));
        if bounds.len() != header.fields.len() {
            let flow = sink.issue(
                Issue::new(
                    "wrong number of fields",
                    position,
                    format!(
                        "line has {} fields, #fields declares {}",
                        bounds.len(),
                        header.fields.len()
                    ),
                ),
                true,
            );
            if flow.is_break() {
                return Ok(());
            }
            continue;
        }
        // One UTF-8 check for the line; fields split at an ASCII separator stay valid.
        let line_text = if header.separator.is_ascii() {
            std::str::from_utf8(bytes).ok()
        } else {
            None
        };
        // Zeek escapes only separators and non-printable bytes: most lines have no backslash.
        let line_escaped = memchr::memchr(b'\\', bytes).is_some();
        let set_separator_is_comma = same(&header.set_separator, b",");
        record.clear();
        let line_start = line_text.map(|t| record.push_line(t));
        let mut bad: Option<Issue> = None;
        for (i, &(from, to)) in bounds.iter().enumerate() {
            let raw = &bytes[from..to];
            if same(raw, &header.unset) {
                record.push_column(i, None);
                continue;
            }
            if same(raw, &header.empty) {
                record.push_column(i, Some(""));
                continue;
            }
            let kind = header.types.get(i).copied().unwrap_or(ZeekType::Other);
            let escaped = line_escaped && raw.contains(&b'\\');
            let raw_value: &[u8] = if escaped {
                unescape(raw, &mut value);
                &value
            } else {
                raw
            };
            let container = kind == ZeekType::Container && !set_separator_is_comma;
            let raw_value: &[u8] = if container {
                joined.clear();
                for (j, part) in split(raw_value, &header.set_separator).enumerate() {
                    if j > 0 {
                        joined.push(b',');
                    }
                    joined.extend_from_slice(part);
                }
                &joined
            } else {
                raw_value
            };
            if !kind.accepts(raw_value) {
                let name = &header.fields[i];
                bad = Some(Issue::new(
                    "wrong field type",
                    position,
                    format!(
                        "field {name}: expected {}, got {:?}",
                        kind.name(),
                        excerpt(&String::from_utf8_lossy(raw_value))
                    ),
                ));
                break;
            }
            match line_start {
                Some(base) if !escaped && !container => {
                    record.push_column_at(i, base + from as u32, (to - from) as u32);
                }
                _ => {
                    let value_text = text(raw_value, sink, position);
                    record.push_column(i, Some(&value_text));
                }
            }
        }
        if let Some(issue) = bad {
            if sink.issue(issue, true).is_break() {
                return Ok(());
            }
            continue;
        }
        record.seal();
        if sink.record(&mut record, position, Some(offset)).is_break() {
            return Ok(());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescapes_hex_only() {
        let mut out = Vec::new();
        unescape(br"a\x09b\x5cc\d\x", &mut out);
        assert_eq!(out, b"a\tb\\c\\d\\x");
    }

    #[test]
    fn types_check_values() {
        assert!(ZeekType::Time.accepts(b"1379288667.631940"));
        assert!(!ZeekType::Time.accepts(b"yesterday"));
        assert!(ZeekType::Count.accepts(b"53"));
        assert!(!ZeekType::Count.accepts(b"-1"));
        assert!(ZeekType::Addr.accepts(b"fe80::1"));
        assert!(!ZeekType::Addr.accepts(b"not-an-ip"));
        assert!(ZeekType::Bool.accepts(b"T"));
        assert!(!ZeekType::Bool.accepts(b"true"));
    }

    #[test]
    fn reads_headers() {
        let mut h = Header::default();
        header_line(br"#separator \x2c", &mut h);
        assert_eq!(h.separator, b",");
        header_line(b"#fields,ts,uid", &mut h);
        assert_eq!(h.fields, vec!["ts", "uid"]);
        assert_eq!(header_line(b"#path,dns", &mut h), Some(Some("dns".into())));
    }
}
