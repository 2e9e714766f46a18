//! Format detection from a source's first bytes, with its name as a hint.
//!
//! Content decides whenever it is unambiguous: the EVTX file magic `ElfFile\0`, Zeek's
//! `#separator` header, IIS's `#Software:`/`#Fields:` directives, a leading `{` or `[` for JSON,
//! the `host ident user [date] "request"` shape of access logs; a first line with commas or tabs
//! is CSV or TSV. The name only breaks ties (an empty file, a one-column text) — a `.log` file
//! can be anything.

use crate::Format;

/// Detects the format of content starting with `head` (decompressed), named `name`.
/// `None` when nothing fits (binary data, UTF-16 text, ...).
pub fn detect_format(head: &[u8], name: &str) -> Option<Format> {
    if head.starts_with(b"ElfFile\0") {
        return Some(Format::Evtx);
    }
    if head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff]) {
        // UTF-16 text (PowerShell exports): not supported, say so rather than guess.
        return None;
    }
    let text = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let start = text
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(text.len());
    let text = &text[start..];
    if text.is_empty() {
        return name_hint(name);
    }
    if text.starts_with(b"#separator") || text.starts_with(b"#fields\t") {
        return Some(Format::ZeekTsv);
    }
    if [
        b"#Software:".as_slice(),
        b"#Version:",
        b"#Fields:",
        b"#Date:",
    ]
    .iter()
    .any(|d| text.starts_with(d))
    {
        return Some(Format::W3c);
    }
    if matches!(text[0], b'{' | b'[') {
        return Some(Format::Json);
    }
    let first_line = text.split(|&b| b == b'\n').next().unwrap_or(text);
    // Binary data is not a text log (a UTF-8 sequence cut by the head's end is fine).
    let valid_utf8 = match std::str::from_utf8(first_line) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    };
    if !valid_utf8 || first_line.contains(&0) {
        return None;
    }
    if looks_like_access_log(first_line) {
        return Some(Format::AccessLog);
    }
    if let Some(format) = name_hint(name) {
        if matches!(
            format,
            Format::Csv | Format::Tsv | Format::Json | Format::AccessLog
        ) {
            return Some(format);
        }
    }
    let tabs = first_line.iter().filter(|&&b| b == b'\t').count();
    let commas = first_line.iter().filter(|&&b| b == b',').count();
    if tabs > 0 && tabs >= commas {
        Some(Format::Tsv)
    } else if commas > 0 {
        Some(Format::Csv)
    } else {
        None
    }
}

/// `host ident user [dd/Mon/yyyy:hh:mm:ss zone] "...`: the common/combined shape.
fn looks_like_access_log(line: &[u8]) -> bool {
    let Ok(line) = std::str::from_utf8(line) else {
        return false;
    };
    let mut parts = line.splitn(4, ' ');
    let (Some(_host), Some(_ident), Some(_user), Some(rest)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let b = rest.as_bytes();
    b.len() > 22
        && b[0] == b'['
        && b[3] == b'/'
        && b[7] == b'/'
        && b[12] == b':'
        && rest.contains("] \"")
}

fn name_hint(name: &str) -> Option<Format> {
    let lower = name.to_ascii_lowercase();
    let stem = lower
        .strip_suffix(".gz")
        .or_else(|| lower.strip_suffix(".zst"))
        .unwrap_or(&lower);
    let ext = stem.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    match ext {
        "evtx" => Some(Format::Evtx),
        "json" | "jsonl" | "ndjson" => Some(Format::Json),
        "csv" => Some(Format::Csv),
        "tsv" => Some(Format::Tsv),
        _ if stem.contains("access") && stem.contains("log") => Some(Format::AccessLog),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_content() {
        assert_eq!(detect_format(b"ElfFile\0rest", "x"), Some(Format::Evtx));
        assert_eq!(
            detect_format(b"#separator \\x09\n#fields\tts", "x"),
            Some(Format::ZeekTsv)
        );
        assert_eq!(
            detect_format(b"#Software: Microsoft IIS\r\n", "x"),
            Some(Format::W3c)
        );
        assert_eq!(detect_format(b"  {\"a\":1}", "x.csv"), Some(Format::Json));
        assert_eq!(detect_format(b"[{\"a\":1}]", "x"), Some(Format::Json));
        assert_eq!(
            detect_format(
                b"1.2.3.4 - - [17/May/2015:10:05:03 +0000] \"GET / HTTP/1.1\" 200 1",
                "x"
            ),
            Some(Format::AccessLog)
        );
        assert_eq!(detect_format(b"a,b,c\n1,2,3", "x"), Some(Format::Csv));
        assert_eq!(detect_format(b"a\tb\tc\n1\t2\t3", "x"), Some(Format::Tsv));
        assert_eq!(detect_format(b"", "x.jsonl"), Some(Format::Json));
        assert_eq!(detect_format(b"", "x"), None);
        assert_eq!(detect_format(b"\xff\xfe{\0", "x.json"), None);
        assert_eq!(detect_format(b"\x00\x01\x02binary", "x"), None);
        assert_eq!(detect_format(b"just words", "x"), None);
    }
}
