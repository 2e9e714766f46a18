//! A small JSON parser that builds a [`Record`] directly, and the streaming splitter that cuts
//! JSON arrays and wrapper objects (`{"Records": [...]}`) into records without loading them.
//!
//! Why not `serde_json`: records are read into the reusable [`Record`] tape (one text buffer,
//! no per-value allocation, object key order kept), which is what the profiles need; a
//! `serde_json::Value` costs an allocation per string and a map per object, and typed structs
//! cannot describe "any export of any tool". The parser accepts standard JSON and, in lenient
//! mode, the Python literal syntax some exports write into CSV cells (`{'type': 'AWSAccount'}`,
//! `True`, `None`). Raw control characters inside strings are accepted (many log shippers
//! write them); nesting is limited to [`MAX_DEPTH`] so hostile input cannot exhaust the stack.

use crate::record::{NodeId, Record, Span, ValueKind};
use memchr::memchr2;
use std::io::{self, BufRead};

/// Deepest nesting accepted.
pub const MAX_DEPTH: u32 = 128;

/// Why a text is not JSON, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonError {
    /// Byte offset in the text.
    pub offset: usize,
    /// What was expected or found.
    pub message: &'static str,
}

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at byte {}", self.message, self.offset)
    }
}

/// Parses a JSON object into `record` (its members become top-level fields).
pub fn parse_object(text: &str, record: &mut Record) -> Result<(), JsonError> {
    let mut parser = Parser::new(text, false);
    parser.skip_ws();
    if parser.peek() != Some(b'{') {
        return Err(parser.error("a record must be a JSON object"));
    }
    parser.pos += 1;
    parser.members(record, None, 1)?;
    parser.skip_ws();
    if parser.pos < parser.bytes.len() {
        return Err(parser.error("unexpected text after the object"));
    }
    record.seal();
    Ok(())
}

/// Parses JSON text (object or array) held in a string node; returns the new container, which
/// has no parent and is not part of the record's top level.
pub(crate) fn parse_nested(
    text: &str,
    record: &mut Record,
    _holder: NodeId,
    lenient: bool,
) -> Result<NodeId, JsonError> {
    let mut parser = Parser::new(text, lenient);
    parser.skip_ws();
    let id = parser.value(record, Span::EMPTY, None, 1)?;
    parser.skip_ws();
    if parser.pos < parser.bytes.len() {
        return Err(parser.error("unexpected text after the value"));
    }
    match record.kind(id) {
        ValueKind::Object | ValueKind::Array => Ok(id),
        _ => Err(parser.error("not an object or array")),
    }
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    lenient: bool,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str, lenient: bool) -> Self {
        Parser {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            lenient,
        }
    }

    fn error(&self, message: &'static str) -> JsonError {
        JsonError {
            offset: self.pos,
            message,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8, message: &'static str) -> Result<(), JsonError> {
        self.skip_ws();
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(message))
        }
    }

    /// Object members after `{`, up to and including `}`.
    fn members(
        &mut self,
        record: &mut Record,
        parent: Option<NodeId>,
        depth: u32,
    ) -> Result<(), JsonError> {
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.skip_ws();
            let key = match self.peek() {
                Some(b'"') => self.string(record, b'"')?,
                Some(b'\'') if self.lenient => self.string(record, b'\'')?,
                Some(b'}') if self.lenient => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.error("expected a key string")),
            };
            self.expect(b':', "expected ':' after a key")?;
            self.skip_ws();
            self.value(record, key, parent, depth)?;
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.error("expected ',' or '}' in an object")),
            }
        }
    }

    fn value(
        &mut self,
        record: &mut Record,
        key: Span,
        parent: Option<NodeId>,
        depth: u32,
    ) -> Result<NodeId, JsonError> {
        match self.peek() {
            Some(b'"') => {
                let value = self.string(record, b'"')?;
                Ok(record.push_node(key, value, ValueKind::String, parent))
            }
            Some(b'\'') if self.lenient => {
                let value = self.string(record, b'\'')?;
                Ok(record.push_node(key, value, ValueKind::String, parent))
            }
            Some(open @ (b'{' | b'[')) => {
                if depth >= MAX_DEPTH {
                    return Err(self.error("nesting too deep"));
                }
                self.pos += 1;
                let kind = if open == b'{' {
                    ValueKind::Object
                } else {
                    ValueKind::Array
                };
                let id = record.push_node(key, Span::NONE, kind, parent);
                if open == b'{' {
                    self.members(record, Some(id), depth + 1)?;
                } else {
                    self.elements(record, id, depth + 1)?;
                }
                record.close(id);
                Ok(id)
            }
            Some(b't') => self.literal(record, key, parent, "true", "true", ValueKind::Bool),
            Some(b'f') => self.literal(record, key, parent, "false", "false", ValueKind::Bool),
            Some(b'n') => self.literal(record, key, parent, "null", "", ValueKind::Null),
            Some(b'T') if self.lenient => {
                self.literal(record, key, parent, "True", "true", ValueKind::Bool)
            }
            Some(b'F') if self.lenient => {
                self.literal(record, key, parent, "False", "false", ValueKind::Bool)
            }
            Some(b'N') if self.lenient => {
                self.literal(record, key, parent, "None", "", ValueKind::Null)
            }
            Some(b'-' | b'0'..=b'9') => {
                let start = self.pos;
                while let Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') = self.peek() {
                    self.pos += 1;
                }
                let number = self
                    .text
                    .get(start..self.pos)
                    .ok_or_else(|| self.error("invalid number"))?;
                if !number.bytes().any(|b| b.is_ascii_digit()) {
                    return Err(self.error("invalid number"));
                }
                let value = record.push_text(number);
                Ok(record.push_node(key, value, ValueKind::Number, parent))
            }
            None => Err(self.error("unexpected end of input")),
            _ => Err(self.error("expected a value")),
        }
    }

    fn literal(
        &mut self,
        record: &mut Record,
        key: Span,
        parent: Option<NodeId>,
        word: &str,
        text: &str,
        kind: ValueKind,
    ) -> Result<NodeId, JsonError> {
        if !self.bytes[self.pos..].starts_with(word.as_bytes()) {
            return Err(self.error("expected a value"));
        }
        self.pos += word.len();
        let value = if kind == ValueKind::Null {
            Span::NONE
        } else {
            record.push_text(text)
        };
        Ok(record.push_node(key, value, kind, parent))
    }

    /// Array elements after `[`, up to and including `]`.
    fn elements(&mut self, record: &mut Record, id: NodeId, depth: u32) -> Result<(), JsonError> {
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.skip_ws();
            self.value(record, Span::EMPTY, Some(id), depth)?;
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    if self.lenient {
                        self.skip_ws();
                        if self.peek() == Some(b']') {
                            self.pos += 1;
                            return Ok(());
                        }
                    }
                }
                Some(b']') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.error("expected ',' or ']' in an array")),
            }
        }
    }

    /// A string starting at the current quote; its unescaped text is appended to the record.
    fn string(&mut self, record: &mut Record, quote: u8) -> Result<Span, JsonError> {
        self.pos += 1;
        let start = record.text_len();
        loop {
            let rest = &self.bytes[self.pos..];
            let Some(i) = memchr2(quote, b'\\', rest) else {
                return Err(JsonError {
                    offset: self.bytes.len(),
                    message: "unterminated string",
                });
            };
            let chunk = self
                .text
                .get(self.pos..self.pos + i)
                .ok_or_else(|| self.error("invalid string"))?;
            record.text_mut().push_str(chunk);
            self.pos += i;
            if rest[i] == quote {
                self.pos += 1;
                return Ok(record.span_since(start));
            }
            // A backslash escape.
            let escape = self
                .bytes
                .get(self.pos + 1)
                .copied()
                .ok_or_else(|| self.error("unterminated escape"))?;
            self.pos += 2;
            let c = match escape {
                b'"' => '"',
                b'\\' => '\\',
                b'/' => '/',
                b'\'' => '\'',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                b'u' => self.unicode_escape()?,
                _ if self.lenient => {
                    // Python writes unknown escapes through unchanged.
                    record.text_mut().push('\\');
                    self.pos -= 1;
                    continue;
                }
                _ => return Err(self.error("invalid escape")),
            };
            record.text_mut().push(c);
        }
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let digits = self
            .bytes
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.error("truncated \\u escape"))?;
        let mut value = 0u32;
        for &d in digits {
            let v = (d as char)
                .to_digit(16)
                .ok_or_else(|| self.error("invalid \\u escape"))?;
            value = value * 16 + v;
        }
        self.pos += 4;
        Ok(value)
    }

    /// `\uXXXX`, pairing surrogates; a lone surrogate becomes U+FFFD.
    fn unicode_escape(&mut self) -> Result<char, JsonError> {
        let first = self.hex4()?;
        if (0xD800..0xDC00).contains(&first) && self.bytes[self.pos..].starts_with(b"\\u") {
            let save = self.pos;
            self.pos += 2;
            let second = self.hex4()?;
            if (0xDC00..0xE000).contains(&second) {
                let code = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                return Ok(char::from_u32(code).unwrap_or('\u{FFFD}'));
            }
            self.pos = save;
        }
        Ok(char::from_u32(first).unwrap_or('\u{FFFD}'))
    }
}

/// Keys whose array value holds the records of a wrapper object (AWS CloudTrail log files
/// `{"Records": [...]}`, Microsoft Graph `{"value": [...]}`). Only a wrapper's first key is
/// considered, so an ordinary record that happens to have such a key stays one record.
pub const WRAPPER_KEYS: &[&str] = &["Records", "records", "value"];

/// One value cut out of a JSON stream.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece {
    /// A record's bytes: an element of a top-level array (or of a wrapper's array), numbered
    /// from 1, or a top-level object starting at a line.
    Value {
        /// Where it came from.
        position: crate::error::Position,
        /// Byte offset of its first byte.
        offset: u64,
    },
    /// A value that is larger than the record size limit (its bytes were skipped).
    TooLarge {
        /// Where it came from.
        position: crate::error::Position,
        /// Its size so far.
        size: u64,
    },
    /// The stream is not JSON at this point; the rest of the source cannot be split.
    Broken {
        /// Byte offset of the problem.
        offset: u64,
        /// What was found.
        message: &'static str,
    },
}

/// Cuts a JSON text stream into records without holding more than one record: top-level
/// arrays are split into their elements, wrapper objects (see [`WRAPPER_KEYS`]) into their
/// array's elements, and any other top-level value is one record. Values may be pretty-printed
/// and follow each other with any whitespace (concatenated JSON).
pub struct Splitter<R> {
    input: R,
    max_record: usize,
    offset: u64,
    line: u64,
    /// Nesting of the arrays whose elements are records: 0 at top level, 1 inside a top-level
    /// array, and inside a wrapper the object's depth plus one.
    state: SplitState,
    element: u64,
    done: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SplitState {
    /// Between top-level values.
    Top,
    /// Inside a top-level array (`wrapper` when it is the array of a wrapper object, which has
    /// to be closed after the array ends).
    InArray { wrapper: bool, first: bool },
}

impl<R: BufRead> Splitter<R> {
    /// A splitter reading `input`, refusing records larger than `max_record` bytes.
    pub fn new(input: R, max_record: usize) -> Self {
        Splitter {
            input,
            max_record,
            offset: 0,
            line: 1,
            state: SplitState::Top,
            element: 0,
            done: false,
        }
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    fn peek_byte(&mut self) -> io::Result<Option<u8>> {
        Ok(self.input.fill_buf()?.first().copied())
    }

    fn bump(&mut self, n: usize) {
        self.input.consume(n);
        self.offset += n as u64;
    }

    /// Skips whitespace, counting lines.
    fn skip_ws(&mut self) -> io::Result<()> {
        loop {
            let buf = self.input.fill_buf()?;
            if buf.is_empty() {
                return Ok(());
            }
            let n = buf
                .iter()
                .take_while(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
                .count();
            let lines = buf[..n].iter().filter(|&&b| b == b'\n').count();
            let whole = n == buf.len();
            self.line += lines as u64;
            self.bump(n);
            if !whole {
                return Ok(());
            }
        }
    }

    /// Copies one complete JSON value into `out` (or skips it when it grows beyond the limit);
    /// returns whether it was kept, or an error message when the stream ends inside it.
    fn take_value(&mut self, out: &mut Vec<u8>) -> io::Result<Result<bool, &'static str>> {
        let mut depth = 0u32;
        let mut in_string = false;
        let mut escaped = false;
        let mut keep = true;
        let mut started = false;
        loop {
            let buf = self.input.fill_buf()?;
            if buf.is_empty() {
                return Ok(if started && depth == 0 && !in_string {
                    Ok(keep)
                } else {
                    Err("unexpected end of input inside a value")
                });
            }
            let mut i = 0;
            let mut finished = false;
            while i < buf.len() {
                let b = buf[i];
                if in_string {
                    if escaped {
                        escaped = false;
                    } else if b == b'\\' {
                        escaped = true;
                    } else if b == b'"' {
                        in_string = false;
                        if depth == 0 {
                            i += 1;
                            finished = true;
                            break;
                        }
                    } else {
                        // Jump to the next quote or backslash.
                        if let Some(j) = memchr::memchr2(b'"', b'\\', &buf[i..]) {
                            i += j;
                            continue;
                        }
                        i = buf.len();
                        continue;
                    }
                    i += 1;
                    continue;
                }
                match b {
                    b'"' => {
                        in_string = true;
                        started = true;
                    }
                    b'{' | b'[' => {
                        depth += 1;
                        started = true;
                    }
                    b'}' | b']' => {
                        if depth == 0 {
                            // The end of the enclosing container: the value (a scalar) ended.
                            finished = true;
                            break;
                        }
                        depth -= 1;
                        if depth == 0 {
                            i += 1;
                            finished = true;
                            break;
                        }
                    }
                    b',' | b' ' | b'\t' | b'\r' | b'\n' if depth == 0 && started => {
                        finished = true;
                        break;
                    }
                    _ => started = true,
                }
                i += 1;
            }
            let consumed = &buf[..i];
            self.line += consumed.iter().filter(|&&b| b == b'\n').count() as u64;
            if keep {
                if out.len() + consumed.len() > self.max_record {
                    keep = false;
                    out.clear();
                } else {
                    out.extend_from_slice(consumed);
                }
            }
            let n = consumed.len();
            self.bump(n);
            if finished {
                return Ok(Ok(keep));
            }
        }
    }

    /// Reads the next record into `out` (cleared first). `Ok(None)` at the end of the stream.
    pub fn next_piece(&mut self, out: &mut Vec<u8>) -> io::Result<Option<Piece>> {
        use crate::error::Position;
        loop {
            if self.done {
                return Ok(None);
            }
            out.clear();
            self.skip_ws()?;
            match self.state {
                SplitState::Top => {
                    let Some(first) = self.peek_byte()? else {
                        self.done = true;
                        return Ok(None);
                    };
                    match first {
                        b'[' => {
                            self.bump(1);
                            self.state = SplitState::InArray {
                                wrapper: false,
                                first: true,
                            };
                            continue;
                        }
                        b'{' => {
                            let line = self.line;
                            let offset = self.offset;
                            // Look at the first key: a wrapper's array holds the records.
                            self.bump(1);
                            out.push(b'{');
                            self.skip_ws()?;
                            if self.peek_byte()? == Some(b'"') {
                                let mut key = Vec::new();
                                match self.take_value(&mut key)? {
                                    Ok(true) => {}
                                    _ => {
                                        self.done = true;
                                        return Ok(Some(Piece::Broken {
                                            offset: self.offset,
                                            message: "unterminated key",
                                        }));
                                    }
                                }
                                self.skip_ws()?;
                                let is_wrapper_key = WRAPPER_KEYS.iter().any(|k| {
                                    key.len() == k.len() + 2
                                        && &key[1..key.len() - 1] == k.as_bytes()
                                });
                                if self.peek_byte()? == Some(b':') {
                                    self.bump(1);
                                    self.skip_ws()?;
                                    if is_wrapper_key && self.peek_byte()? == Some(b'[') {
                                        self.bump(1);
                                        self.state = SplitState::InArray {
                                            wrapper: true,
                                            first: true,
                                        };
                                        continue;
                                    }
                                    out.extend_from_slice(&key);
                                    out.push(b':');
                                } else {
                                    out.extend_from_slice(&key);
                                }
                            }
                            // An ordinary object: copy the rest of it.
                            let kept = self.take_object_rest(out)?;
                            let position = Position::Line(line);
                            return Ok(Some(match kept {
                                Ok(true) => Piece::Value { position, offset },
                                Ok(false) => {
                                    out.clear();
                                    Piece::TooLarge {
                                        position,
                                        size: self.offset - offset,
                                    }
                                }
                                Err(message) => {
                                    self.done = true;
                                    Piece::Broken {
                                        offset: self.offset,
                                        message,
                                    }
                                }
                            }));
                        }
                        _ => {
                            self.done = true;
                            return Ok(Some(Piece::Broken {
                                offset: self.offset,
                                message: "expected a JSON object or array",
                            }));
                        }
                    }
                }
                SplitState::InArray { wrapper, first } => {
                    let Some(b) = self.peek_byte()? else {
                        self.done = true;
                        return Ok(Some(Piece::Broken {
                            offset: self.offset,
                            message: "unexpected end of input inside an array",
                        }));
                    };
                    if b == b']' {
                        self.bump(1);
                        self.state = SplitState::Top;
                        if wrapper {
                            // Skip the wrapper object's other members.
                            let mut ignored = Vec::new();
                            let saved = self.max_record;
                            self.max_record = 0;
                            let r = self.take_object_rest(&mut ignored)?;
                            self.max_record = saved;
                            if r.is_err() {
                                self.done = true;
                                return Ok(Some(Piece::Broken {
                                    offset: self.offset,
                                    message: "unterminated wrapper object",
                                }));
                            }
                        }
                        continue;
                    }
                    if !first {
                        if b != b',' {
                            self.done = true;
                            return Ok(Some(Piece::Broken {
                                offset: self.offset,
                                message: "expected ',' or ']' in an array",
                            }));
                        }
                        self.bump(1);
                        self.skip_ws()?;
                    }
                    self.state = SplitState::InArray {
                        wrapper,
                        first: false,
                    };
                    self.element += 1;
                    let position = Position::Record(self.element);
                    let offset = self.offset;
                    return Ok(Some(match self.take_value(out)? {
                        Ok(true) if !out.is_empty() => Piece::Value { position, offset },
                        Ok(true) => {
                            self.done = true;
                            Piece::Broken {
                                offset: self.offset,
                                message: "expected a value in an array",
                            }
                        }
                        Ok(false) => Piece::TooLarge {
                            position,
                            size: self.offset - offset,
                        },
                        Err(message) => {
                            self.done = true;
                            Piece::Broken {
                                offset: self.offset,
                                message,
                            }
                        }
                    }));
                }
            }
        }
    }

    /// Copies the rest of an object whose `{` was consumed, through its closing `}`.
    fn take_object_rest(&mut self, out: &mut Vec<u8>) -> io::Result<Result<bool, &'static str>> {
        let mut keep = true;
        let mut depth = 1u32;
        let mut in_string = false;
        let mut escaped = false;
        loop {
            let buf = self.input.fill_buf()?;
            if buf.is_empty() {
                return Ok(Err("unexpected end of input inside an object"));
            }
            let mut i = 0;
            let mut finished = false;
            while i < buf.len() {
                let b = buf[i];
                if in_string {
                    if escaped {
                        escaped = false;
                    } else if b == b'\\' {
                        escaped = true;
                    } else if b == b'"' {
                        in_string = false;
                    } else if let Some(j) = memchr::memchr2(b'"', b'\\', &buf[i..]) {
                        i += j;
                        continue;
                    } else {
                        i = buf.len();
                        continue;
                    }
                    i += 1;
                    continue;
                }
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            i += 1;
                            finished = true;
                            break;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            let consumed = &buf[..i];
            self.line += consumed.iter().filter(|&&b| b == b'\n').count() as u64;
            if keep {
                if out.len() + consumed.len() > self.max_record {
                    keep = false;
                    out.clear();
                } else {
                    out.extend_from_slice(consumed);
                }
            }
            let n = consumed.len();
            self.bump(n);
            if finished {
                return Ok(Ok(keep));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Position;
    use crate::record::Key;

    fn parse(text: &str) -> Record {
        let mut r = Record::new();
        parse_object(text, &mut r).unwrap();
        r
    }

    #[test]
    fn parses_nested_objects_arrays_and_escapes() {
        let r = parse(
            r#"{"a": "C:\\Windows\\x.exe", "n": 12.5e3, "b": true, "z": null,
                "o": {"k": "\u00e9\ud83d\ude00", "arr": [1, "two", {"x": "y"}]}}"#,
        );
        assert_eq!(r.get(&Key::new("a")), Some(r"C:\Windows\x.exe"));
        assert_eq!(r.get(&Key::new("n")), Some("12.5e3"));
        assert_eq!(r.get(&Key::new("b")), Some("true"));
        assert_eq!(r.get(&Key::new("z")), None);
        assert_eq!(r.get(&Key::new("o.k")), Some("é😀"));
        assert_eq!(r.get(&Key::new("o.arr.1")), Some("two"));
        assert_eq!(r.get(&Key::new("o.arr.2.x")), Some("y"));
        let arr = r.find(&Key::new("o.arr")).unwrap();
        let mut json = String::new();
        r.write_json(arr, &mut json);
        assert_eq!(json, r#"[1,"two",{"x":"y"}]"#);
    }

    #[test]
    fn rejects_malformed_json() {
        for bad in [
            r#"{"a": }"#,
            r#"{"a": "x""#,
            r#"{"a" "x"}"#,
            r#"{"a": tru}"#,
            r#"["not", "an object"]"#,
            r#"{"a": 1} trailing"#,
            r#"{"a": "\q"}"#,
            "",
        ] {
            let mut r = Record::new();
            assert!(parse_object(bad, &mut r).is_err(), "{bad}");
        }
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(500), "]".repeat(500));
        assert!(parse_object(&deep, &mut Record::new()).is_err());
    }

    #[test]
    fn lenient_mode_reads_python_literals() {
        let mut r = Record::new();
        r.push_field(
            "p",
            Some("{'bucketName': 'x', 'ok': True, 'none': None, 'list': ['a',]}"),
        );
        r.seal();
        let id = r.find(&Key::new("p")).unwrap();
        let obj = r.expand_json(id).unwrap();
        assert_eq!(r.value(r.find_below(obj, "bucketName").unwrap()), Some("x"));
        assert_eq!(r.value(r.find_below(obj, "ok").unwrap()), Some("true"));
        assert_eq!(
            r.find_below(obj, "list.0").and_then(|i| r.value(i)),
            Some("a")
        );
    }

    fn split(text: &str, max: usize) -> Vec<(Piece, String)> {
        let mut s = Splitter::new(text.as_bytes(), max);
        let mut out = Vec::new();
        let mut pieces = Vec::new();
        while let Some(p) = s.next_piece(&mut out).unwrap() {
            pieces.push((p, String::from_utf8_lossy(&out).into_owned()));
        }
        pieces
    }

    #[test]
    fn splits_arrays_wrappers_and_concatenated_objects() {
        let pieces = split(r#"[ {"a": "]"}, {"b": [1,2]} ]"#, 1000);
        assert_eq!(pieces.len(), 2);
        assert_eq!(pieces[0].1, r#"{"a": "]"}"#);
        assert!(matches!(
            pieces[1].0,
            Piece::Value {
                position: Position::Record(2),
                ..
            }
        ));
        let pieces = split(
            "{\"Records\": [{\"x\":1},\n{\"y\":\"\\\"}\"}], \"z\": 1}\n{\"c\": 3}",
            1000,
        );
        let texts: Vec<_> = pieces.iter().map(|p| p.1.as_str()).collect();
        assert_eq!(texts, vec![r#"{"x":1}"#, r#"{"y":"\"}"}"#, r#"{"c":3}"#]);
        assert!(matches!(
            pieces[2].0,
            Piece::Value {
                position: Position::Line(3),
                ..
            }
        ));
        let pieces = split("{\n  \"Name\": \"a\",\n  \"v\": {\"x\": 1}\n}\n", 1000);
        assert_eq!(pieces.len(), 1);
        let mut r = Record::new();
        parse_object(&pieces[0].1, &mut r).unwrap();
        assert_eq!(r.get(&Key::new("v.x")), Some("1"));
    }

    #[test]
    fn oversized_and_broken_streams_are_reported() {
        let pieces = split(r#"[{"a": "0123456789"}, {"b": 1}]"#, 10);
        assert!(matches!(pieces[0].0, Piece::TooLarge { .. }));
        assert!(matches!(pieces[1].0, Piece::Value { .. }));
        let pieces = split(r#"[{"a": 1} {"b": 2}]"#, 100);
        assert!(matches!(pieces.last().unwrap().0, Piece::Broken { .. }));
        let pieces = split(r#"[{"a": "#, 100);
        assert!(matches!(pieces.last().unwrap().0, Piece::Broken { .. }));
        let pieces = split("garbage", 100);
        assert!(matches!(pieces[0].0, Piece::Broken { .. }));
    }
}
