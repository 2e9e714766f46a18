//! Reads the XML the evtx crate renders for one record into a [`Record`].
//!
//! Why XML and not the crate's JSON: in evtx 0.15 rendering a record as XML costs about half
//! of rendering it as JSON (measured on the shared EVTX samples: 210-290k vs 120-200k
//! records/s on one core), and this scanner reads the rendered event in well under a
//! microsecond, so decoding EVTX costs less than the crate's own JSON output alone.
//!
//! The record's top level is the children of `<Event>`: `System` (elements with attributes
//! as children: `System.Provider.Name`, `System.TimeCreated.SystemTime`, `System.EventID`),
//! `EventData` (each `<Data Name="X">` becomes the field `EventData.X`; unnamed `Data`
//! elements are `Data`, `Data[1]`, ...), `UserData` (its elements as they are).

use crate::record::{NodeId, Record, Span, ValueKind};

/// Deepest element nesting accepted.
const MAX_DEPTH: u32 = 64;

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    /// Whether the event contains `&` at all: most do not, and then no text needs decoding.
    entities: bool,
}

type Result<T> = std::result::Result<T, &'static str>;

impl<'a> Scanner<'a> {
    fn rest(&self) -> &'a [u8] {
        &self.bytes[self.pos.min(self.bytes.len())..]
    }

    fn starts_with(&self, s: &[u8]) -> bool {
        self.rest().starts_with(s)
    }

    fn skip_ws(&mut self) {
        while self.pos < self.bytes.len() && self.bytes[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    /// Moves past the next occurrence of `end` (searching for its last byte with `memchr`:
    /// building a `memmem` searcher per tag costs more than the search).
    fn skip_past(&mut self, end: &[u8]) -> Result<()> {
        let (&last, prefix) = end.split_last().ok_or("empty delimiter")?;
        let mut from = self.pos;
        loop {
            let rest = self.bytes.get(from..).ok_or("unterminated markup")?;
            let i = memchr::memchr(last, rest).ok_or("unterminated markup")?;
            let at = from + i;
            if at >= self.pos + prefix.len() && self.bytes[at - prefix.len()..at] == *prefix {
                self.pos = at + 1;
                return Ok(());
            }
            from = at + 1;
        }
    }

    fn slice(&self, start: usize, end: usize) -> Result<&'a str> {
        self.text.get(start..end).ok_or("invalid text boundary")
    }

    /// A tag or attribute name.
    fn name(&mut self) -> Result<&'a str> {
        let start = self.pos;
        while self.pos < self.bytes.len() {
            match self.bytes[self.pos] {
                b' ' | b'\t' | b'\r' | b'\n' | b'/' | b'>' | b'=' => break,
                _ => self.pos += 1,
            }
        }
        if self.pos == start {
            return Err("expected a name");
        }
        self.slice(start, self.pos)
    }

    /// Attributes up to `>` or `/>`; returns whether the element is self-closing.
    fn attributes(&mut self, attrs: &mut Vec<(&'a str, &'a str)>) -> Result<bool> {
        loop {
            self.skip_ws();
            match self.rest().first() {
                Some(b'/') => {
                    if !self.starts_with(b"/>") {
                        return Err("expected '/>'");
                    }
                    self.pos += 2;
                    return Ok(true);
                }
                Some(b'>') => {
                    self.pos += 1;
                    return Ok(false);
                }
                Some(_) => {
                    let name = self.name()?;
                    self.skip_ws();
                    if self.rest().first() != Some(&b'=') {
                        return Err("expected '=' after an attribute name");
                    }
                    self.pos += 1;
                    self.skip_ws();
                    let quote = *self.rest().first().ok_or("unexpected end")?;
                    if quote != b'"' && quote != b'\'' {
                        return Err("expected a quoted attribute value");
                    }
                    self.pos += 1;
                    let len = memchr::memchr(quote, self.rest()).ok_or("unterminated attribute")?;
                    let value = self.slice(self.pos, self.pos + len)?;
                    self.pos += len + 1;
                    attrs.push((name, value));
                }
                None => return Err("unexpected end inside a tag"),
            }
        }
    }
}

/// Appends XML text with its entities decoded (`entities`: the text may contain some).
fn push_unescaped(record: &mut Record, raw: &str, entities: bool) -> Span {
    if !entities || !raw.as_bytes().contains(&b'&') {
        return record.push_text(raw);
    }
    let start = record.text_len();
    let out = record.text_mut();
    let mut rest = raw;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(semi) = rest.find(';').filter(|&s| s <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..semi];
        let decoded = match entity {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => {
                let code = if let Some(hex) = entity
                    .strip_prefix("#x")
                    .or_else(|| entity.strip_prefix("#X"))
                {
                    u32::from_str_radix(hex, 16).ok()
                } else if let Some(dec) = entity.strip_prefix('#') {
                    dec.parse().ok()
                } else {
                    None
                };
                code.map(|c| char::from_u32(c).unwrap_or('\u{FFFD}'))
            }
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    record.span_since(start)
}

/// The common `<Data Name="X">text</Data>` (or `<Data Name="X"/>`) as one field, without the
/// general element machinery; `false` (nothing consumed) for anything else.
fn data_element(
    s: &mut Scanner<'_>,
    record: &mut Record,
    parent: Option<NodeId>,
    wanted: Option<&Wanted>,
) -> bool {
    const OPEN: &[u8] = b"<Data Name=\"";
    if !s.starts_with(OPEN) {
        return false;
    }
    let rest = &s.bytes[s.pos + OPEN.len()..];
    let Some(name_len) = memchr::memchr(b'"', rest) else {
        return false;
    };
    let after_name = s.pos + OPEN.len() + name_len + 1;
    let (value_start, value_end, next) = match s.bytes.get(after_name..after_name + 2) {
        Some([b'/', b'>']) => (after_name, after_name, after_name + 2),
        Some([b'>', _]) => {
            let start = after_name + 1;
            let Some(len) = memchr::memchr(b'<', &s.bytes[start..]) else {
                return false;
            };
            let end = start + len;
            if !s.bytes[end..].starts_with(b"</Data>") {
                return false;
            }
            (start, end, end + 7)
        }
        _ => return false,
    };
    let name_bytes = &s.bytes[s.pos + OPEN.len()..s.pos + OPEN.len() + name_len];
    if wanted.is_some_and(|w| !w.contains(name_bytes)) {
        s.pos = next;
        return true;
    }
    let (Ok(name), Ok(value)) = (
        s.slice(s.pos + OPEN.len(), s.pos + OPEN.len() + name_len),
        s.slice(value_start, value_end),
    ) else {
        return false;
    };
    let key = push_unescaped(record, name, s.entities);
    let value = push_unescaped(record, value, s.entities);
    record.push_node(key, value, ValueKind::String, parent);
    s.pos = next;
    true
}

/// A leaf element without attributes, `<Name>text</Name>` (most of `System`), as one field;
/// `false` (nothing consumed) for anything else.
fn leaf_element(
    s: &mut Scanner<'_>,
    record: &mut Record,
    parent: Option<NodeId>,
    wanted: Option<&Wanted>,
) -> bool {
    let start = s.pos + 1;
    let bytes = s.bytes;
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'>' => break,
            b' ' | b'\t' | b'\r' | b'\n' | b'/' | b'<' | b'=' | b'"' | b'\'' | b'!' | b'?' => {
                return false
            }
            _ => i += 1,
        }
    }
    if i == start || i >= bytes.len() {
        return false;
    }
    let name_end = i;
    let text_start = i + 1;
    let mut j = text_start;
    while j < bytes.len() && bytes[j] != b'<' {
        j += 1;
    }
    let name = &bytes[start..name_end];
    let close = j + 2 + name.len();
    if bytes.get(j..j + 2) != Some(b"</")
        || bytes.get(j + 2..close) != Some(name)
        || bytes.get(close) != Some(&b'>')
    {
        return false;
    }
    if wanted.is_some_and(|w| !w.contains(name)) {
        s.pos = close + 1;
        return true;
    }
    let (Ok(name), Ok(text)) = (s.slice(start, name_end), s.slice(text_start, j)) else {
        return false;
    };
    let key = record.push_text(name);
    let value = push_unescaped(record, text, s.entities);
    record.push_node(key, value, ValueKind::String, parent);
    s.pos = close + 1;
    true
}

/// Element names a caller needs; others met on the fast paths are skipped (a profile that
/// keeps no extra fields reads a dozen of an event's forty). Looked up in a small hash table:
/// a linear scan costs more than storing the field.
pub(crate) struct Wanted {
    buckets: Vec<Vec<&'static [u8]>>,
}

impl Wanted {
    const BUCKETS: usize = 256;

    fn bucket(name: &[u8]) -> usize {
        let first = name.first().copied().unwrap_or(0) as usize;
        let last = name.last().copied().unwrap_or(0) as usize;
        let middle = name.get(name.len() / 2).copied().unwrap_or(0) as usize;
        (name.len().wrapping_mul(31) ^ first.wrapping_mul(7) ^ last.wrapping_mul(131) ^ middle)
            % Self::BUCKETS
    }

    pub(crate) fn new(names: Vec<&'static str>) -> Self {
        let mut buckets = vec![Vec::new(); Self::BUCKETS];
        for name in names {
            buckets[Self::bucket(name.as_bytes())].push(name.as_bytes());
        }
        Wanted { buckets }
    }

    fn contains(&self, name: &[u8]) -> bool {
        self.buckets[Self::bucket(name)].contains(&name)
    }
}

/// Parses one rendered event into `record` (cleared first), keeping only `wanted` fields when
/// given.
pub(crate) fn parse_event(xml: &str, record: &mut Record, wanted: Option<&Wanted>) -> Result<()> {
    record.clear();
    let mut s = Scanner {
        text: xml,
        bytes: xml.as_bytes(),
        pos: 0,
        entities: memchr::memchr(b'&', xml.as_bytes()).is_some(),
    };
    let mut attrs = Vec::new();
    loop {
        s.skip_ws();
        if s.starts_with(b"<?") {
            s.skip_past(b"?>")?;
        } else if s.starts_with(b"<!--") {
            s.skip_past(b"-->")?;
        } else {
            break;
        }
    }
    if !s.starts_with(b"<") {
        return Err("expected <Event>");
    }
    s.pos += 1;
    s.name()?;
    if s.attributes(&mut attrs)? {
        record.seal();
        return Ok(());
    }
    content(&mut s, record, None, 1, &mut attrs, false, wanted)?;
    record.seal();
    Ok(())
}

/// Reads an element's content after its start tag, through its end tag; child elements are
/// added under `parent` (top level for `None`). Returns the text content if it had no child.
fn content<'a>(
    s: &mut Scanner<'a>,
    record: &mut Record,
    parent: Option<NodeId>,
    depth: u32,
    attrs: &mut Vec<(&'a str, &'a str)>,
    event_data: bool,
    wanted: Option<&Wanted>,
) -> Result<Option<Span>> {
    let mut unnamed = 0usize;
    let mut text: Option<String> = None;
    let mut first_text: Option<(usize, usize)> = None;
    let mut had_child = false;
    loop {
        let lt = memchr::memchr(b'<', s.rest()).ok_or("unterminated element")?;
        if lt > 0 {
            let (start, end) = (s.pos, s.pos + lt);
            if had_child || first_text.is_some() {
                let chunk = s.slice(start, end)?;
                if !chunk.trim().is_empty() {
                    text.get_or_insert_with(String::new).push_str(chunk);
                }
            } else {
                first_text = Some((start, end));
            }
            s.pos = end;
        }
        if s.starts_with(b"</") {
            s.skip_past(b">")?;
            break;
        }
        if s.starts_with(b"<!--") {
            s.skip_past(b"-->")?;
            continue;
        }
        if s.starts_with(b"<![CDATA[") {
            s.pos += 9;
            let end = memchr::memmem::find(s.rest(), b"]]>").ok_or("unterminated CDATA")?;
            let chunk = s.slice(s.pos, s.pos + end)?;
            text.get_or_insert_with(String::new).push_str(chunk);
            s.pos += end + 3;
            continue;
        }
        // A child element.
        if depth >= MAX_DEPTH {
            return Err("elements nested too deep");
        }
        had_child = true;
        // Fast paths for the two shapes nearly every element has. Unnamed `Data` elements are
        // numbered by the general path.
        if event_data {
            if data_element(s, record, parent, wanted) {
                continue;
            }
        } else if leaf_element(s, record, parent, wanted) {
            continue;
        }
        s.pos += 1;
        let name = s.name()?;
        let attrs_start = attrs.len();
        let self_closing = s.attributes(attrs)?;
        let mut key_attr = None;
        let key: std::borrow::Cow<'_, str> = if event_data && name == "Data" {
            match attrs[attrs_start..].iter().position(|(n, _)| *n == "Name") {
                Some(i) => {
                    key_attr = Some(attrs_start + i);
                    std::borrow::Cow::Borrowed(attrs[attrs_start + i].1)
                }
                None => {
                    unnamed += 1;
                    if unnamed == 1 {
                        std::borrow::Cow::Borrowed("Data")
                    } else {
                        std::borrow::Cow::Owned(format!("Data[{}]", unnamed - 1))
                    }
                }
            }
        } else {
            std::borrow::Cow::Borrowed(name)
        };
        let key_span = push_unescaped(record, &key, s.entities);
        let id = record.push_node(key_span, Span::NONE, ValueKind::Object, parent);
        for (i, (attr, value)) in attrs[attrs_start..].iter().enumerate() {
            if Some(attrs_start + i) == key_attr {
                continue;
            }
            let k = record.push_text(attr);
            let v = push_unescaped(record, value, s.entities);
            record.push_node(k, v, ValueKind::String, Some(id));
        }
        attrs.truncate(attrs_start);
        let child_text = if self_closing {
            None
        } else {
            content(
                s,
                record,
                Some(id),
                depth + 1,
                attrs,
                name == "EventData",
                wanted,
            )?
        };
        record.close(id);
        if !record.has_children(id) {
            let span = child_text.unwrap_or(Span::EMPTY);
            record.set_value(id, span, ValueKind::String);
        } else if let Some(span) = child_text {
            record.set_value(id, span, ValueKind::Object);
        }
    }
    if had_child {
        let mut all = String::new();
        if let Some((start, end)) = first_text {
            let chunk = s.slice(start, end)?;
            if !chunk.trim().is_empty() {
                all.push_str(chunk);
            }
        }
        if let Some(t) = text {
            all.push_str(&t);
        }
        return Ok((!all.is_empty()).then(|| push_unescaped(record, &all, s.entities)));
    }
    // A leaf: its text, usually one chunk straight from the input.
    Ok(Some(match (first_text, text) {
        (Some((start, end)), None) => push_unescaped(record, s.slice(start, end)?, s.entities),
        (None, None) => Span::EMPTY,
        (first, Some(rest)) => {
            let mut all = String::new();
            if let Some((start, end)) = first {
                all.push_str(s.slice(start, end)?);
            }
            all.push_str(&rest);
            push_unescaped(record, &all, s.entities)
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Key;

    const SYSMON: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="Microsoft-Windows-Sysmon" Guid="{5770385f}"/><EventID>1</EventID><TimeCreated SystemTime="2017-12-26T13:10:44.5630224Z"/><Correlation/><Channel>Microsoft-Windows-Sysmon/Operational</Channel><Computer>DESKTOP-2KGM189</Computer></System><EventData><Data Name="Image">C:\Windows\SysWOW64\PING.EXE</Data><Data Name="CommandLine">ping &amp; &lt;x&gt; &#x41;&#66;</Data><Data Name="Empty"></Data><Data Name="Self"/></EventData></Event>"#;

    #[test]
    fn reads_system_and_named_data() {
        let mut r = Record::new();
        parse_event(SYSMON, &mut r, None).unwrap();
        assert_eq!(r.get(&Key::new("System.EventID")), Some("1"));
        assert_eq!(
            r.get(&Key::new("System.Provider.Name")),
            Some("Microsoft-Windows-Sysmon")
        );
        assert_eq!(
            r.get(&Key::new("System.TimeCreated.SystemTime")),
            Some("2017-12-26T13:10:44.5630224Z")
        );
        assert_eq!(
            r.get(&Key::new("EventData.Image")),
            Some(r"C:\Windows\SysWOW64\PING.EXE")
        );
        assert_eq!(
            r.get(&Key::new("EventData.CommandLine")),
            Some("ping & <x> AB")
        );
        assert_eq!(r.get(&Key::new("EventData.Empty")), Some(""));
        assert_eq!(r.get(&Key::new("EventData.Self")), Some(""));
        assert_eq!(r.top_level().count(), 2);
    }

    #[test]
    fn unnamed_data_user_data_and_attributes_with_text() {
        let xml = r#"<Event><System><EventID Qualifiers="16384">7036</EventID></System><EventData><Data>a</Data><Data>b</Data><Binary>00</Binary></EventData><UserData><X xmlns="y"><P>1</P></X></UserData></Event>"#;
        let mut r = Record::new();
        parse_event(xml, &mut r, None).unwrap();
        assert_eq!(r.get(&Key::new("System.EventID")), Some("7036"));
        assert_eq!(r.get(&Key::new("System.EventID.Qualifiers")), Some("16384"));
        assert_eq!(r.get(&Key::new("EventData.Data")), Some("a"));
        assert_eq!(r.get(&Key::new("EventData.Data[1]")), Some("b"));
        assert_eq!(r.get(&Key::new("UserData.X.P")), Some("1"));
    }

    #[test]
    fn rejects_broken_xml_without_panicking() {
        for bad in [
            "",
            "<Event><System>",
            "<Event a=b>",
            "<Event><System><EventID>1</EventID>",
            "no xml",
        ] {
            assert!(parse_event(bad, &mut Record::new(), None).is_err(), "{bad}");
        }
        let deep = format!("<Event>{}{}</Event>", "<a>".repeat(100), "</a>".repeat(100));
        assert!(parse_event(&deep, &mut Record::new(), None).is_err());
    }
}
