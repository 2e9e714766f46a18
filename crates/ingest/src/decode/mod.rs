//! Decoders: from a source's bytes to [`Record`]s, each with its position.
//!
//! Every decoder streams: it holds one record (and its read buffer) at a time and pushes
//! records, malformed-record issues and warnings into a [`RecordSink`], which maps, counts and
//! batches them (see `pipeline`). A sink returning `Break` stops the decoder early.

pub mod access;
pub(crate) mod csv;
pub(crate) mod evtx;
pub(crate) mod evtx_xml;
pub(crate) mod json;
pub(crate) mod w3c;
pub(crate) mod zeek;

use crate::error::{Issue, Position};
use crate::profile::{Mapped, Warning};
use crate::record::Record;
use std::borrow::Cow;
use std::ops::ControlFlow;
use std::sync::Arc;

/// Receives what a decoder produces.
pub(crate) trait RecordSink {
    /// A decoded record.
    fn record(
        &mut self,
        record: &mut Record,
        position: Position,
        offset: Option<u64>,
    ) -> ControlFlow<()>;
    /// A record the decoder mapped itself (EVTX maps on the evtx crate's worker threads).
    fn mapped(
        &mut self,
        mapped: Mapped,
        warnings: Vec<Warning>,
        position: Position,
    ) -> ControlFlow<()>;
    /// A problem: a malformed record (`is_record`), or a stretch of the source that could not be
    /// read (a corrupt EVTX chunk, a truncated gzip stream).
    fn issue(&mut self, issue: Issue, is_record: bool) -> ControlFlow<()>;
    /// A defect repaired while decoding (invalid UTF-8 replaced).
    fn warning(&mut self, reason: &'static str, position: Position, detail: String);
    /// The Zeek `#path` of the records that follow.
    fn zeek_path(&mut self, path: Option<Arc<str>>);
}

/// Text from bytes, replacing invalid UTF-8 (and saying so).
pub(crate) fn text<'a>(
    bytes: &'a [u8],
    sink: &mut dyn RecordSink,
    position: Position,
) -> Cow<'a, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(e) => {
            sink.warning(
                "invalid UTF-8 replaced",
                position,
                format!("invalid UTF-8 at byte {}", e.valid_up_to()),
            );
            String::from_utf8_lossy(bytes)
        }
    }
}

/// The issue for a record larger than the limit.
pub(crate) fn too_large(position: Position, size: u64, limit: usize) -> Issue {
    Issue::new(
        "record too large",
        position,
        format!("record of {size} bytes is larger than the limit of {limit} bytes"),
    )
}
