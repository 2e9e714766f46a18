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
use crate::profile::{Mapped, Mapper, Warning};
use crate::record::Record;
use evtx::err::EvtxError;
use evtx::{EvtxParser, ParserSettings};
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

/// One record as it leaves the crate's worker.
struct Item {
    position: Position,
    mapped: Mapped,
    warnings: Vec<Warning>,
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
    let mut record = Record::new();
    let source = Arc::clone(source);
    let items = parser.serialized_records(move |result| {
        let evtx_record = result?;
        let id = evtx_record.event_record_id;
        let position = Position::Record(id);
        let rendered = match evtx_record.into_xml_bytes() {
            Ok(r) => r,
            Err(e) => {
                return Ok(Item {
                    position,
                    mapped: Mapped::Malformed("corrupt EVTX record".into(), error_chain(&e)),
                    warnings: Vec::new(),
                })
            }
        };
        let xml = String::from_utf8_lossy(&rendered.data);
        if let Err(why) = evtx_xml::parse_event(&xml, &mut record) {
            return Ok(Item {
                position,
                mapped: Mapped::Malformed(
                    "corrupt EVTX record".into(),
                    format!("rendered XML could not be read: {why}"),
                ),
                warnings: Vec::new(),
            });
        }
        let mapped = mapper.map(&mut record, Provenance::record(Arc::clone(&source), id));
        let warnings = mapper.take_warnings().collect();
        Ok(Item {
            position,
            mapped,
            warnings,
        })
    });
    for item in items {
        let flow = match item {
            Ok(item) => sink.mapped(item.mapped, item.warnings, item.position),
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
                match evtx_xml::parse_event(&xml, &mut record) {
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
