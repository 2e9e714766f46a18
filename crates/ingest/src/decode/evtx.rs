//! EVTX decoder on top of the `evtx` crate.
//!
//! Records are rendered by the crate as XML (cheaper than its JSON, see `evtx_xml`) and mapped
//! to events inside the crate's record callback, so with several threads both rendering and
//! mapping run on its rayon workers, chunk by chunk, while records still come out in file
//! order. A chunk the crate cannot read (the shared `sysmon.evtx` has a corrupt chunk 9) is
//! reported with its number and the records of the other chunks are kept; a record that fails
//! to render is reported with its `EventRecordID`.
//!
//! The crate needs to seek. A plain `.evtx` file is read in place (64 KiB chunk by chunk);
//! compressed input and stdin are decompressed first: into memory up to [`SPOOL_MEMORY`] bytes,
//! beyond that into an anonymous temporary file, so memory stays bounded whatever the size.

use super::evtx_xml;
use super::RecordSink;
use crate::error::{error_chain, Issue, Position};
use crate::profile::{windows, Mapped, Mapper, Reject, Warning};
use crate::record::Record;
use evtx::err::EvtxError;
use evtx::{EvtxParser, ParserSettings};
use memchr::memmem;
use oddhunt_core::Provenance;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::sync::Arc;

/// Decompressed EVTX kept in memory at most; larger input is spooled to a temporary file.
pub const SPOOL_MEMORY: usize = 64 << 20;

/// What the evtx crate reads from.
pub(crate) trait SeekRead: Read + Seek + Send {}
impl<T: Read + Seek + Send> SeekRead for T {}

/// Makes a non-seekable stream seekable. A read error (a truncated gzip) stops the copy: the
/// chunks before it are still decoded, and the error is returned alongside.
pub(crate) fn spool(mut input: impl Read) -> io::Result<(Box<dyn SeekRead>, Option<io::Error>)> {
    let mut memory = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut file: Option<std::fs::File> = None;
    let mut failure = None;
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                failure = Some(e);
                break;
            }
        };
        match file.as_mut() {
            Some(f) => f.write_all(&buf[..n])?,
            None if memory.len() + n > SPOOL_MEMORY => {
                let mut f = tempfile::tempfile()?;
                f.write_all(&memory)?;
                f.write_all(&buf[..n])?;
                memory = Vec::new();
                file = Some(f);
            }
            None => memory.extend_from_slice(&buf[..n]),
        }
    }
    Ok(match file {
        Some(mut f) => {
            f.rewind()?;
            (Box::new(f), failure)
        }
        None => (Box::new(io::Cursor::new(memory)), failure),
    })
}

/// Reads a rendered event's id, channel and provider without parsing the whole event, so the
/// records no profile maps (most of a typical log) cost only their rendering. The `System`
/// element's children come in schema order (`Provider`, `EventID`, ..., `Channel`), so each
/// search starts where the previous one ended; consecutive records usually share their
/// channel and provider, so the last verdict is reused.
#[derive(Clone)]
struct Prefilter {
    channel: memmem::Finder<'static>,
    provider: memmem::Finder<'static>,
}

/// Verdicts per event id for the channel and provider seen last on this thread (a log file is
/// one channel; few providers share it). Kept per thread, not per parser closure, because the
/// evtx crate clones the closure for every chunk.
#[derive(Default)]
struct Verdicts {
    source: Option<(String, String, windows::ChannelFlags)>,
    by_id: Vec<(u32, Option<Reject>)>,
}

thread_local! {
    static VERDICTS: std::cell::RefCell<Verdicts> = std::cell::RefCell::new(Verdicts::default());
}

impl Prefilter {
    fn new() -> Self {
        Prefilter {
            channel: memmem::Finder::new("<Channel>"),
            provider: memmem::Finder::new("<Provider Name=\""),
        }
    }

    /// The text of the element starting at `at` (`<Name ...>text<`) and where it ends.
    fn text_at(xml: &[u8], at: usize) -> Option<(&str, usize)> {
        let open = at + memchr::memchr(b'>', xml.get(at..)?)? + 1;
        let end = open + memchr::memchr(b'<', xml.get(open..)?)?;
        Some((std::str::from_utf8(xml.get(open..end)?).ok()?, end))
    }

    /// `Some` when the record is certainly not mapped; `None` when it may be (or the quick read
    /// failed: the full parse then decides).
    fn reject(&self, bytes: &[u8]) -> Option<Reject> {
        let start = self.provider.find(bytes)? + self.provider.needle().len();
        let provider_len = memchr::memchr(b'"', bytes.get(start..)?)?;
        let provider = std::str::from_utf8(bytes.get(start..start + provider_len)?).ok()?;
        // `EventID` follows `Provider` in the System schema.
        let mut at = start + provider_len;
        let event_id_at = loop {
            at += memchr::memchr(b'<', bytes.get(at..)?)?;
            if bytes[at..].starts_with(b"<EventID") {
                break at;
            }
            if bytes[at..].starts_with(b"</System") {
                return None;
            }
            at += 1;
        };
        let (id_text, after_id) = Self::text_at(bytes, event_id_at)?;
        let event_id: u32 = id_text.trim().parse().ok()?;
        let channel = self
            .channel
            .find(bytes.get(after_id..)?)
            .and_then(|i| Self::text_at(bytes, after_id + i))
            .map(|(c, _)| c);
        if channel.is_some_and(|c| c.as_bytes().contains(&b'&'))
            || provider.as_bytes().contains(&b'&')
        {
            return None;
        }
        VERDICTS.with(|cell| {
            let mut verdicts = cell.borrow_mut();
            let same = matches!(&verdicts.source, Some((c, p, _)) if channel == Some(c.as_str()) && p == provider);
            if !same {
                let flags = windows::ChannelFlags::of(channel, Some(provider));
                verdicts.source = Some((
                    channel.unwrap_or_default().to_string(),
                    provider.to_string(),
                    flags,
                ));
                verdicts.by_id.clear();
            }
            if let Some((_, verdict)) = verdicts.by_id.iter().find(|(id, _)| *id == event_id) {
                return verdict.clone();
            }
            let flags = verdicts.source.as_ref().map(|(_, _, f)| *f)?;
            let verdict =
                windows::classify_flags(event_id, channel, Some(provider), flags, true).err();
            if verdicts.by_id.len() < 64 {
                verdicts.by_id.push((event_id, verdict.clone()));
            }
            verdict
        })
    }
}

/// One record as it leaves the crate's worker. Kept small (the event is boxed): the crate
/// collects a chunk's items and they are moved several times on their way to the sink.
struct Item {
    position: Position,
    outcome: Outcome,
}

enum Outcome {
    Event(Box<(oddhunt_core::Event, Vec<Warning>)>),
    Rejected(Reject),
}

impl Item {
    fn rejected(position: Position, reject: Reject) -> Self {
        Item {
            position,
            outcome: Outcome::Rejected(reject),
        }
    }
}

/// Where an evtx error is.
fn position_of(error: &EvtxError) -> (Position, bool) {
    match error {
        EvtxError::FailedToParseChunk { chunk_id, .. } => (Position::Chunk(*chunk_id), false),
        EvtxError::FailedToParseRecord { record_id, .. } => (Position::Record(*record_id), true),
        EvtxError::FailedToReadRecordAt { chunk: Some(c), .. } => (Position::Chunk(*c), true),
        _ => (Position::Source, false),
    }
}

/// Decodes an EVTX file, mapping records with `mapper` on `threads` threads.
pub(crate) fn decode(
    mut data: Box<dyn SeekRead>,
    mapper: &Mapper,
    source: &Arc<str>,
    threads: usize,
    sink: &mut dyn RecordSink,
) {
    // The evtx crate treats a partial last chunk as the end of the file; say that the file was
    // cut short instead of dropping its records silently.
    let length = data
        .seek(SeekFrom::End(0))
        .and_then(|len| data.rewind().map(|_| len));
    if let Ok(length) = length {
        let header = 4096u64;
        let chunk = 65536u64;
        if length > header && !(length - header).is_multiple_of(chunk) {
            let _ = sink.issue(
                Issue::new(
                    "truncated EVTX file",
                    Position::Offset(header + (length - header) / chunk * chunk),
                    format!(
                        "the last {} bytes are an incomplete 64 KiB chunk (the file was cut short); \
                         its records are lost",
                        (length - header) % chunk
                    ),
                ),
                false,
            );
        }
    }
    let settings = ParserSettings::new()
        .num_threads(threads.max(1))
        .indent(false);
    let mut parser = match EvtxParser::from_read_seek(data) {
        Ok(p) => p.with_configuration(settings),
        Err(e) => {
            let _ = sink.issue(
                Issue::new("corrupt EVTX file", Position::Source, error_chain(&e)),
                false,
            );
            return;
        }
    };
    let mut mapper = mapper.clone();
    let mut record = Record::with_capacity(4096, 64);
    let source = Arc::clone(source);
    let prefilter = mapper
        .windows_prefilter()
        .then(|| Arc::new(Prefilter::new()));
    let wanted = mapper.evtx_fields();
    let items = parser.serialized_records(move |result| {
        let evtx_record = result?;
        let id = evtx_record.event_record_id;
        let position = Position::Record(id);
        let rendered = match evtx_record.into_xml_bytes() {
            Ok(r) => r,
            Err(e) => {
                return Ok(Item::rejected(
                    position,
                    Reject::Malformed("corrupt EVTX record".into(), error_chain(&e)),
                ))
            }
        };
        // Most records are rejected from three values: do that before validating the UTF-8 of
        // the whole rendering.
        if let Some(reject) = prefilter.as_ref().and_then(|p| p.reject(&rendered.data)) {
            return Ok(Item::rejected(position, reject));
        }
        let xml = match std::str::from_utf8(&rendered.data) {
            Ok(text) => std::borrow::Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(&rendered.data),
        };
        if let Err(why) = evtx_xml::parse_event(&xml, &mut record, wanted) {
            return Ok(Item::rejected(
                position,
                Reject::Malformed(
                    "corrupt EVTX record".into(),
                    format!("rendered XML could not be read: {why}"),
                ),
            ));
        }
        let outcome = match mapper.map(&mut record, Provenance::record(Arc::clone(&source), id)) {
            Mapped::Event(event) => {
                Outcome::Event(Box::new((event, mapper.take_warnings().collect())))
            }
            Mapped::NotMapped(reason, detail) => {
                Outcome::Rejected(Reject::NotMapped(reason, detail))
            }
            Mapped::Malformed(reason, detail) => {
                Outcome::Rejected(Reject::Malformed(reason, detail))
            }
        };
        Ok(Item { position, outcome })
    });
    for item in items {
        let flow = match item {
            Ok(Item {
                position,
                outcome: Outcome::Event(boxed),
            }) => {
                let (event, warnings) = *boxed;
                sink.mapped(Mapped::Event(event), warnings, position)
            }
            Ok(Item {
                position,
                outcome: Outcome::Rejected(reject),
            }) => sink.mapped(reject.into(), Vec::new(), position),
            Err(e) => {
                let (position, is_record) = position_of(&e);
                let reason = if is_record {
                    "corrupt EVTX record"
                } else {
                    "corrupt EVTX chunk"
                };
                sink.issue(Issue::new(reason, position, error_chain(&e)), is_record)
            }
        };
        if flow.is_break() {
            break;
        }
    }
}

/// Decodes an EVTX file into records without mapping them (one thread; for
/// [`decode_records`](crate::decode_records)).
pub(crate) fn decode_records(data: Box<dyn SeekRead>, sink: &mut dyn RecordSink) {
    let settings = ParserSettings::new().num_threads(1).indent(false);
    let mut parser = match EvtxParser::from_read_seek(data) {
        Ok(p) => p.with_configuration(settings),
        Err(e) => {
            let _ = sink.issue(
                Issue::new("corrupt EVTX file", Position::Source, error_chain(&e)),
                false,
            );
            return;
        }
    };
    let mut record = Record::new();
    for item in parser.records_bytes() {
        let flow = match item {
            Ok(rendered) => {
                let position = Position::Record(rendered.event_record_id);
                let xml = String::from_utf8_lossy(&rendered.data);
                match evtx_xml::parse_event(&xml, &mut record, None) {
                    Ok(()) => sink.record(&mut record, position, None),
                    Err(why) => sink.issue(
                        Issue::new(
                            "corrupt EVTX record",
                            position,
                            format!("rendered XML could not be read: {why}"),
                        ),
                        true,
                    ),
                }
            }
            Err(e) => {
                let (position, is_record) = position_of(&e);
                sink.issue(
                    Issue::new("corrupt EVTX chunk", position, error_chain(&e)),
                    is_record,
                )
            }
        };
        if flow.is_break() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYSMON_7: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="Microsoft-Windows-Sysmon" Guid="{5770385f-c22a-43e0-bf4c-06f5698ffbd9}"/><EventID>7</EventID><Version>3</Version><Channel>Microsoft-Windows-Sysmon/Operational</Channel><Computer>PC</Computer></System><EventData><Data Name="Image">C:\x.exe</Data></EventData></Event>"#;

    #[test]
    fn prefilter_rejects_unmapped_events_only() {
        let p = Prefilter::new();
        match p.reject(SYSMON_7.as_bytes()) {
            Some(Reject::NotMapped(reason, _)) => assert_eq!(&*reason, "not mapped: Sysmon 7"),
            other => panic!("{other:?}"),
        }
        assert!(p
            .reject(SYSMON_7.replace(">7<", ">1<").as_bytes())
            .is_none());
        assert!(p
            .reject(
                SYSMON_7
                    .replace("<EventID>7", "<EventID Qualifiers=\"0\">3")
                    .as_bytes()
            )
            .is_none());
        assert!(p.reject(b"<Event><System></System></Event>").is_none());
    }
}
