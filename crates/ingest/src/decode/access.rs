//! Apache/Nginx access logs: any Apache `LogFormat` or nginx `log_format` string.
//!
//! A format string is compiled once into literals and fields; a line is matched left to right.
//! A field between double quotes is read up to the closing quote that is followed by the
//! format's next literal (so a request line containing a stray `"` still parses), and its
//! escapes are undone (`\"`, `\\`, `\xHH` as Apache and nginx write them). An unquoted field
//! ends where the next literal starts; `%t`'s `[...]` is one field. Fields are named after nginx
//! variables whatever the server (`%h` → `remote_addr`, `%u` → `remote_user`, `%t` →
//! `time_local`, `%r` → `request`, `%>s` → `status`, `%b` → `body_bytes_sent`,
//! `%{Referer}i` → `http_referer`, `%{User-agent}i` → `http_user_agent`, `%{X-Foo}i` →
//! `http_x_foo`, ...), so one profile maps both.
//!
//! Without `--log-format`, each line is tried as *combined* (extra trailing fields allowed, as
//! many nginx setups append some), then as *common* (Tomcat, older Apache).

use super::{text, too_large, RecordSink};
use crate::error::{excerpt, Issue, Position};
use crate::lines::{Line, LineReader};
use crate::record::Record;
use crate::IngestError;
use std::fmt::Write as _;
use std::io::{self, Read};

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Literal(String),
    Field { name: String, quoted: bool },
}

/// A compiled access-log format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogFormat {
    text: String,
    tokens: Vec<Token>,
}

/// Apache's name for a `%` directive, as the nginx variable it corresponds to.
fn apache_name(directive: char, argument: Option<&str>) -> Option<String> {
    let header =
        |prefix: &str, arg: &str| format!("{prefix}{}", arg.to_ascii_lowercase().replace('-', "_"));
    Some(match (directive, argument) {
        ('h', _) => "remote_addr".into(),
        ('a', _) => "client_ip".into(),
        ('A', _) => "server_addr".into(),
        ('l', _) => "remote_logname".into(),
        ('u', _) => "remote_user".into(),
        ('t', _) => "time_local".into(),
        ('r', _) => "request".into(),
        ('s', _) => "status".into(),
        ('b', _) | ('B', _) => "body_bytes_sent".into(),
        ('O', _) => "bytes_sent".into(),
        ('I', _) => "bytes_received".into(),
        ('S', _) => "bytes_transferred".into(),
        ('D', _) => "request_time_us".into(),
        ('T', _) => "request_time".into(),
        ('v', _) => "server_name".into(),
        ('V', _) => "host".into(),
        ('p', _) => "server_port".into(),
        ('U', _) => "uri".into(),
        ('q', _) => "query_string".into(),
        ('m', _) => "request_method".into(),
        ('H', _) => "server_protocol".into(),
        ('f', _) => "request_filename".into(),
        ('P', _) => "pid".into(),
        ('k', _) => "keepalive_requests".into(),
        ('L', _) => "log_id".into(),
        ('X', _) => "connection_status".into(),
        ('R', _) => "handler".into(),
        ('i', Some(arg)) => header("http_", arg),
        ('o', Some(arg)) => header("sent_http_", arg),
        ('C', Some(arg)) => header("cookie_", arg),
        ('e', Some(arg)) => header("env_", arg),
        ('n', Some(arg)) => header("note_", arg),
        _ => return None,
    })
}

impl LogFormat {
    /// Apache/nginx *combined* log format.
    pub const COMBINED: &'static str = r#"%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i""#;
    /// Apache *common* log format.
    pub const COMMON: &'static str = r#"%h %l %u %t "%r" %>s %b"#;

    /// The combined format.
    pub fn combined() -> LogFormat {
        LogFormat::parse(Self::COMBINED).unwrap_or_else(|_| LogFormat {
            text: String::new(),
            tokens: Vec::new(),
        })
    }

    /// The common format.
    pub fn common() -> LogFormat {
        LogFormat::parse(Self::COMMON).unwrap_or_else(|_| LogFormat {
            text: String::new(),
            tokens: Vec::new(),
        })
    }

    /// The format string as given.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Compiles an Apache `LogFormat` (`%h %l %u %t \"%r\" %>s %b`) or nginx `log_format`
    /// (`$remote_addr - $remote_user [$time_local] "$request" ...`) string. Backslash escapes
    /// as written in server configuration (`\"`, `\t`) are undone.
    pub fn parse(format: &str) -> Result<LogFormat, IngestError> {
        let error = |message: String| IngestError::LogFormat {
            format: format.to_string(),
            message,
        };
        let mut tokens: Vec<Token> = Vec::new();
        let mut literal = String::new();
        let mut names: Vec<String> = Vec::new();
        let mut push_field = |tokens: &mut Vec<Token>, literal: &mut String, name: String| {
            if !literal.is_empty() {
                tokens.push(Token::Literal(std::mem::take(literal)));
            }
            let mut unique = name.clone();
            let mut n = 2;
            while names.contains(&unique) {
                unique = format!("{name}_{n}");
                n += 1;
            }
            names.push(unique.clone());
            tokens.push(Token::Field {
                name: unique,
                quoted: false,
            });
        };
        let mut chars = format.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('t') => literal.push('\t'),
                    Some('n') => literal.push('\n'),
                    Some(other) => literal.push(other),
                    None => literal.push('\\'),
                },
                '%' => {
                    if chars.peek() == Some(&'%') {
                        chars.next();
                        literal.push('%');
                        continue;
                    }
                    // Status conditions (`%!200,304{...}i`) and `<`/`>` (original/final request).
                    while let Some(&c) = chars.peek() {
                        if c == '!' || c == ',' || c == '<' || c == '>' || c.is_ascii_digit() {
                            chars.next();
                        } else {
                            break;
                        }
                    }
                    let mut argument = None;
                    if chars.peek() == Some(&'{') {
                        chars.next();
                        let mut arg = String::new();
                        loop {
                            match chars.next() {
                                Some('}') => break,
                                Some(c) => arg.push(c),
                                None => return Err(error("unclosed %{...}".into())),
                            }
                        }
                        argument = Some(arg);
                    }
                    let Some(directive) = chars.next() else {
                        return Err(error("% at the end of the format".into()));
                    };
                    let name = apache_name(directive, argument.as_deref())
                        .ok_or_else(|| error(format!("unsupported directive %{directive}")))?;
                    push_field(&mut tokens, &mut literal, name);
                }
                '$' => {
                    let mut name = String::new();
                    if chars.peek() == Some(&'{') {
                        chars.next();
                        loop {
                            match chars.next() {
                                Some('}') => break,
                                Some(c) => name.push(c),
                                None => return Err(error("unclosed ${...}".into())),
                            }
                        }
                    } else {
                        while let Some(&c) = chars.peek() {
                            if c.is_ascii_alphanumeric() || c == '_' {
                                name.push(c);
                                chars.next();
                            } else {
                                break;
                            }
                        }
                    }
                    if name.is_empty() {
                        literal.push('$');
                    } else {
                        push_field(&mut tokens, &mut literal, name.to_ascii_lowercase());
                    }
                }
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            tokens.push(Token::Literal(literal));
        }
        if !tokens.iter().any(|t| matches!(t, Token::Field { .. })) {
            return Err(error("no field in the format".into()));
        }
        // A field is quoted when the literals around it end and start with a double quote.
        for i in 0..tokens.len() {
            let before = i
                .checked_sub(1)
                .and_then(|j| tokens.get(j))
                .is_some_and(|t| matches!(t, Token::Literal(l) if l.ends_with('"')));
            let after = tokens
                .get(i + 1)
                .is_some_and(|t| matches!(t, Token::Literal(l) if l.starts_with('"')));
            if let Some(Token::Field { quoted, .. }) = tokens.get_mut(i) {
                *quoted = before && after;
            }
        }
        Ok(LogFormat {
            text: format.to_string(),
            tokens,
        })
    }

    /// The field names, in format order.
    pub fn field_names(&self) -> Vec<&str> {
        self.tokens
            .iter()
            .filter_map(|t| match t {
                Token::Field { name, .. } => Some(name.as_str()),
                Token::Literal(_) => None,
            })
            .collect()
    }

    /// Matches a line, appending its fields to `record`. `allow_trailing` accepts text after
    /// the last field (kept as the field `trailing`).
    pub fn parse_line(
        &self,
        line: &str,
        record: &mut Record,
        allow_trailing: bool,
    ) -> Result<(), &'static str> {
        let mut pos = 0;
        let mut value = String::new();
        for (i, token) in self.tokens.iter().enumerate() {
            let rest = line
                .get(pos..)
                .ok_or("line does not match the log format")?;
            match token {
                Token::Literal(l) => {
                    if !rest.starts_with(l.as_str()) {
                        return Err("line does not match the log format");
                    }
                    pos += l.len();
                }
                Token::Field { name, quoted } => {
                    let next = match self.tokens.get(i + 1) {
                        Some(Token::Literal(l)) => Some(l.as_str()),
                        _ => None,
                    };
                    let end = if *quoted {
                        quoted_end(rest, next.unwrap_or("\"")).ok_or("unterminated quoted field")?
                    } else if rest.starts_with('[') && name.starts_with("time") {
                        rest.find(']').map(|j| j + 1).ok_or("unterminated [time]")?
                    } else {
                        match next {
                            Some(l) => rest.find(l).ok_or("line does not match the log format")?,
                            None if i + 1 == self.tokens.len() => {
                                if allow_trailing {
                                    rest.find(' ').unwrap_or(rest.len())
                                } else {
                                    rest.len()
                                }
                            }
                            None => rest.find(' ').unwrap_or(rest.len()),
                        }
                    };
                    let raw = &rest[..end];
                    if *quoted && raw.contains('\\') {
                        unescape(raw, &mut value);
                        record.push_field(name, Some(&value));
                    } else {
                        record.push_field(name, Some(raw));
                    }
                    pos += end;
                }
            }
        }
        let rest = line.get(pos..).unwrap_or("").trim();
        if !rest.is_empty() {
            if !allow_trailing {
                return Err("unexpected text after the last field");
            }
            record.push_field("trailing", Some(rest));
        }
        Ok(())
    }

    /// Writes a line as a server would, from values in field order (quoted fields escaped as
    /// Apache does). For generating test and benchmark data.
    pub fn format_line(&self, values: &[&str]) -> String {
        let mut out = String::new();
        let mut values = values.iter();
        for token in &self.tokens {
            match token {
                Token::Literal(l) => out.push_str(l),
                Token::Field { quoted, .. } => {
                    let v = values.next().copied().unwrap_or("-");
                    if *quoted {
                        for c in v.chars() {
                            match c {
                                '"' => out.push_str("\\\""),
                                '\\' => out.push_str("\\\\"),
                                c if (c as u32) < 0x20 || c == '\u{7f}' => {
                                    let _ = write!(out, "\\x{:02x}", c as u32);
                                }
                                c => out.push(c),
                            }
                        }
                    } else {
                        out.push_str(v);
                    }
                }
            }
        }
        out
    }
}

/// End of a quoted field's text in `rest`: the first unescaped `"` where `next` (the literal
/// after the field, starting with that quote) matches.
fn quoted_end(rest: &str, next: &str) -> Option<usize> {
    let bytes = rest.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => {
                let tail = &rest[i..];
                if tail.starts_with(next) || (next == "\"" && tail.len() == 1) {
                    return Some(i);
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    None
}

/// Undoes `\"`, `\\` and `\xHH` (Apache and nginx escapes).
fn unescape(raw: &str, out: &mut String) {
    out.clear();
    let bytes = raw.as_bytes();
    let mut decoded: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            match bytes.get(i + 1) {
                Some(b'"') => {
                    decoded.push(b'"');
                    i += 2;
                    continue;
                }
                Some(b'\\') => {
                    decoded.push(b'\\');
                    i += 2;
                    continue;
                }
                Some(b'x') => {
                    let hex = bytes.get(i + 2..i + 4);
                    if let Some(v) = hex
                        .and_then(|h| std::str::from_utf8(h).ok())
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                    {
                        decoded.push(v);
                        i += 4;
                        continue;
                    }
                }
                _ => {}
            }
        }
        decoded.push(bytes[i]);
        i += 1;
    }
    out.push_str(&String::from_utf8_lossy(&decoded));
}

/// Decodes an access log with one format, or combined-then-common when `format` is `None`.
pub(crate) fn decode(
    input: impl Read,
    format: Option<&LogFormat>,
    sink: &mut dyn RecordSink,
    max_record: usize,
) -> io::Result<()> {
    let formats: Vec<(LogFormat, bool)> = match format {
        Some(f) => vec![(f.clone(), false)],
        None => vec![(LogFormat::combined(), true), (LogFormat::common(), true)],
    };
    let mut lines = LineReader::new(input, max_record);
    let mut record = Record::new();
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
                if bytes.trim_ascii().is_empty() {
                    continue;
                }
                let position = Position::Line(number);
                let line_text = text(bytes, sink, position);
                let mut why = "line does not match the log format";
                let mut matched = false;
                for (format, trailing) in &formats {
                    record.clear();
                    match format.parse_line(&line_text, &mut record, *trailing) {
                        Ok(()) => {
                            matched = true;
                            break;
                        }
                        Err(e) => why = e,
                    }
                }
                if matched {
                    record.seal();
                    sink.record(&mut record, position, Some(offset))
                } else {
                    sink.issue(
                        Issue::new(
                            "malformed access-log line",
                            position,
                            format!("{why}: {:?}", excerpt(&line_text)),
                        ),
                        true,
                    )
                }
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
    use crate::record::Key;

    fn fields(format: &LogFormat, line: &str) -> Vec<(String, String)> {
        let mut r = Record::new();
        format.parse_line(line, &mut r, false).unwrap();
        r.top_level()
            .map(|id| (r.key(id).to_string(), r.value(id).unwrap_or("").to_string()))
            .collect()
    }

    #[test]
    fn combined_lines_parse() {
        let f = LogFormat::combined();
        assert_eq!(
            f.field_names(),
            vec![
                "remote_addr",
                "remote_logname",
                "remote_user",
                "time_local",
                "request",
                "status",
                "body_bytes_sent",
                "http_referer",
                "http_user_agent"
            ]
        );
        let line = r#"83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /a\"b HTTP/1.1" 200 203023 "http://x/" "Mozilla/5.0 (X11)""#;
        let got = fields(&f, line);
        assert_eq!(got[3].1, "[17/May/2015:10:05:03 +0000]");
        assert_eq!(got[4].1, "GET /a\"b HTTP/1.1");
        assert_eq!(got[8].1, "Mozilla/5.0 (X11)");
    }

    #[test]
    fn stray_quotes_and_nginx_formats() {
        let f = LogFormat::combined();
        let line = r#"1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET /a"b HTTP/1.1" 404 - "-" "x""#;
        assert_eq!(fields(&f, line)[4].1, "GET /a\"b HTTP/1.1");
        let nginx = LogFormat::parse(
            r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time"#,
        )
        .unwrap();
        let line = r#"10.0.0.1 - bob [10/Oct/2000:13:55:36 -0700] "POST /login HTTP/2.0" 302 0 "-" "curl/8\x22" 0.003"#;
        let mut r = Record::new();
        nginx.parse_line(line, &mut r, false).unwrap();
        assert_eq!(
            r.get(&Key::new("time_local")),
            Some("10/Oct/2000:13:55:36 -0700")
        );
        assert_eq!(r.get(&Key::new("http_user_agent")), Some("curl/8\""));
        assert_eq!(r.get(&Key::new("request_time")), Some("0.003"));
        assert_eq!(r.get(&Key::new("remote_user")), Some("bob"));
    }

    #[test]
    fn apache_directives_and_errors() {
        let f = LogFormat::parse(r#"%v %h %{X-Forwarded-For}i %!200,304{Referer}i \"%r\" %<s %D"#)
            .unwrap();
        assert_eq!(
            f.field_names(),
            vec![
                "server_name",
                "remote_addr",
                "http_x_forwarded_for",
                "http_referer",
                "request",
                "status",
                "request_time_us"
            ]
        );
        assert!(LogFormat::parse("%h %{Referer").is_err());
        assert!(LogFormat::parse("%h %Z").is_err());
        assert!(LogFormat::parse("no fields").is_err());
        let mut r = Record::new();
        assert!(LogFormat::common()
            .parse_line("garbage", &mut r, false)
            .is_err());
    }
}
