//! The ingestion run: decode several sources in parallel, deliver their events in order.
//!
//! Worker threads take sources in input order from a queue and decode each into batches of
//! events (up to [`BATCH_EVENTS`] events or [`BATCH_BYTES`] bytes of event text) sent through a
//! per-source channel of [`CHANNEL_BATCHES`] batches. The calling thread drains the channels in
//! source order and hands every event to the sink, so the order of events never depends on
//! thread timing: source order, then record order. At most `workers + 1` sources are in
//! flight, so memory is bounded by `(workers + 1) × (CHANNEL_BATCHES + 1)` batches plus one
//! read buffer and one record per worker, whatever the input size.
//!
//! Workers are plain threads, not rayon tasks, because they block on full channels; rayon is
//! used inside the evtx crate, which parses the chunks of one EVTX file on its pool when a
//! single source is read (with several sources, files are the unit of parallelism and each
//! EVTX file is parsed on one thread).

use crate::decode::{self, RecordSink};
use crate::detect::detect_format;
use crate::error::{Issue, Position};
use crate::profile::{Family, Mapped, Mapper, Warning};
use crate::record::Record;
use crate::source::{self, Compression, Input, Source, Sources};
use crate::summary::IngestSummary;
use crate::{Format, IngestError, IngestOptions, LogFormat, OnError};
use oddhunt_core::{Event, Provenance};
use std::collections::VecDeque;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

/// Most events in one batch.
pub const BATCH_EVENTS: usize = 1024;
/// Most event text bytes in one batch.
pub const BATCH_BYTES: usize = 1 << 20;
/// Batches buffered per source.
pub const CHANNEL_BATCHES: usize = 4;

enum Message {
    Events(Vec<Event>),
    Done(Result<IngestSummary, IngestError>),
}

/// What every worker shares.
struct Shared<'a> {
    options: &'a IngestOptions,
    log_format: Option<LogFormat>,
    evtx_threads: usize,
    cancel: AtomicBool,
}

/// Streams every event of every source to `sink`, in source order then record order, decoding
/// up to [`IngestOptions::threads`] sources at a time. Returns the summary of the sources read;
/// stops early when the sink returns `Break` (the summary then covers the sources completed
/// before). With [`OnError::Fail`] the first malformed record (in source order) is the error.
pub fn read_events(
    sources: &Sources,
    options: &IngestOptions,
    mut sink: impl FnMut(Event) -> ControlFlow<()>,
) -> Result<IngestSummary, IngestError> {
    options.validate()?;
    let log_format = options
        .log_format
        .as_deref()
        .map(LogFormat::parse)
        .transpose()?;
    let mut summary = IngestSummary::default();
    if sources.is_empty() {
        return Ok(summary);
    }
    let threads = options.thread_count();
    let workers = threads.min(sources.len()).max(1);
    let shared = Shared {
        options,
        log_format,
        evtx_threads: if sources.len() == 1 { threads } else { 1 },
        cancel: AtomicBool::new(false),
    };
    let sources = sources.as_slice();
    let (job_tx, job_rx) = mpsc::channel::<(usize, SyncSender<Message>)>();
    let job_rx = Mutex::new(job_rx);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let job = match job_rx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => return,
                };
                let Ok((index, tx)) = job else {
                    return;
                };
                let source = &sources[index];
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    run_source(source, &shared, Delivery::Channel(&tx))
                }));
                let result = outcome.unwrap_or_else(|_| {
                    Err(IngestError::Record {
                        location: source.name.to_string(),
                        reason: "decoder failure".into(),
                        message: "the decoder stopped unexpectedly on this source".into(),
                    })
                });
                let _ = tx.send(Message::Done(result));
            });
        }
        let mut pending: VecDeque<Receiver<Message>> = VecDeque::new();
        let mut next = 0;
        let enqueue = |pending: &mut VecDeque<Receiver<Message>>, next: &mut usize| {
            let (tx, rx) = mpsc::sync_channel(CHANNEL_BATCHES);
            if job_tx.send((*next, tx)).is_ok() {
                pending.push_back(rx);
            }
            *next += 1;
        };
        while next < sources.len() && pending.len() <= workers {
            enqueue(&mut pending, &mut next);
        }
        let mut result = Ok(());
        'sources: while let Some(rx) = pending.pop_front() {
            loop {
                match rx.recv() {
                    Ok(Message::Events(batch)) => {
                        for event in batch {
                            if sink(event).is_break() {
                                break 'sources;
                            }
                        }
                    }
                    Ok(Message::Done(Ok(part))) => {
                        summary.merge(part);
                        break;
                    }
                    Ok(Message::Done(Err(error))) => {
                        result = Err(error);
                        break 'sources;
                    }
                    Err(_) => break,
                }
            }
            if next < sources.len() {
                enqueue(&mut pending, &mut next);
            }
        }
        // Stop the workers: no more jobs, and sources in flight stop at their next batch.
        shared.cancel.store(true, Ordering::Relaxed);
        drop(job_tx);
        drop(pending);
        result
    })?;
    Ok(summary)
}

/// Decodes bytes in memory on the calling thread: every event, and the summary. `name` is the
/// source name (used in provenance, and as a format hint). For tests and fuzzing.
pub fn decode_bytes(
    bytes: &[u8],
    name: &str,
    options: &IngestOptions,
) -> Result<(Vec<Event>, IngestSummary), IngestError> {
    options.validate()?;
    let log_format = options
        .log_format
        .as_deref()
        .map(LogFormat::parse)
        .transpose()?;
    let shared = Shared {
        options,
        log_format,
        evtx_threads: 1,
        cancel: AtomicBool::new(false),
    };
    let source = Source::bytes(name, bytes.to_vec());
    let mut events = Vec::new();
    // No worker thread: events go straight into the vector (fuzzing runs this per input).
    let summary = run_source(&source, &shared, Delivery::Collect(&mut events))?;
    Ok((events, summary))
}

/// Where a source's events go: a channel to the ordering thread, or a vector.
enum Delivery<'a> {
    Channel(&'a SyncSender<Message>),
    Collect(&'a mut Vec<Event>),
}

/// One thing a decoder produced, as seen by [`decode_records`].
#[derive(Debug)]
pub enum Decoded<'a> {
    /// A record and where it starts.
    Record(&'a Record, Position),
    /// A malformed record or unreadable stretch of input.
    Issue(&'a Issue),
    /// A defect repaired while decoding (invalid UTF-8 replaced).
    Warning(&'static str, Position, &'a str),
}

struct Visitor<F> {
    visit: F,
}

impl<F: FnMut(Decoded<'_>) -> ControlFlow<()>> RecordSink for Visitor<F> {
    fn record(
        &mut self,
        record: &mut Record,
        position: Position,
        _offset: Option<u64>,
    ) -> ControlFlow<()> {
        (self.visit)(Decoded::Record(record, position))
    }

    fn mapped(
        &mut self,
        _mapped: Mapped,
        _warnings: Vec<Warning>,
        _position: Position,
    ) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }

    fn issue(&mut self, issue: Issue, _is_record: bool) -> ControlFlow<()> {
        (self.visit)(Decoded::Issue(&issue))
    }

    fn warning(&mut self, reason: &'static str, position: Position, detail: String) {
        let _ = (self.visit)(Decoded::Warning(reason, position, &detail));
    }

    fn zeek_path(&mut self, _path: Option<Arc<str>>) {}
}

/// Runs one decoder over bytes in memory and shows its records before any mapping: the layer
/// below [`read_events`], for tests, fuzzing and inspecting a new source. The format is
/// `options.format`, else detected (`name` is the hint); returns the format used, `None` when
/// none fits.
pub fn decode_records(
    bytes: &[u8],
    name: &str,
    options: &IngestOptions,
    visit: impl FnMut(Decoded<'_>) -> ControlFlow<()>,
) -> Result<Option<Format>, IngestError> {
    options.validate()?;
    let log_format = options
        .log_format
        .as_deref()
        .map(LogFormat::parse)
        .transpose()?;
    let source = Source::bytes(name, bytes.to_vec());
    let opened = source::open(&source).map_err(|e| IngestError::Io {
        path: name.to_string(),
        source: e,
    })?;
    let format = options
        .format
        .or_else(|| detect_format(&opened.head, name))
        .or_else(|| options.log_format.as_ref().map(|_| Format::AccessLog))
        .or_else(|| options.columns.as_ref().map(|_| Format::Csv));
    let Some(format) = format else {
        return Ok(None);
    };
    let mut sink = Visitor { visit };
    let max = options.max_record_bytes;
    let read = match format {
        Format::Json => decode::json::decode(opened.reader, &opened.head, &mut sink, max),
        Format::Csv | Format::Tsv => {
            let table = decode::csv::Table {
                delimiter: if format == Format::Tsv {
                    b'\t'
                } else {
                    csv_delimiter(&opened.head)
                },
                quoting: format == Format::Csv,
                columns: options.columns.as_deref(),
                max_record: max,
            };
            decode::csv::decode(opened.reader, &opened.head, &table, &mut sink)
        }
        Format::ZeekTsv => decode::zeek::decode(opened.reader, &mut sink, max),
        Format::AccessLog => {
            decode::access::decode(opened.reader, log_format.as_ref(), &mut sink, max)
        }
        Format::W3c => decode::w3c::decode(opened.reader, &mut sink, max),
        Format::Evtx => decode::evtx::spool(opened.reader).and_then(|(data, failure)| {
            decode::evtx::decode_records(data, &mut sink);
            failure.map_or(Ok(()), Err)
        }),
    };
    if let Err(e) = read {
        let issue = Issue::new("read error", Position::Source, e.to_string());
        let _ = sink.issue(issue, false);
    }
    Ok(Some(format))
}

/// The state of one source being decoded: implements the decoders' sink.
struct SourceRun<'a> {
    name: Arc<str>,
    mapper: Mapper,
    summary: IngestSummary,
    batch: Vec<Event>,
    batch_bytes: usize,
    delivery: Delivery<'a>,
    on_error: OnError,
    error: Option<IngestError>,
    cancel: &'a AtomicBool,
    disconnected: bool,
    /// Not-mapped counts per reason, with examples (see `handle`).
    not_mapped: Vec<(Arc<str>, u64, Vec<String>)>,
}

impl SourceRun<'_> {
    fn flush(&mut self) -> ControlFlow<()> {
        if self.batch.is_empty() {
            return ControlFlow::Continue(());
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH_EVENTS));
        self.batch_bytes = 0;
        match &mut self.delivery {
            Delivery::Channel(tx) => {
                if tx.send(Message::Events(batch)).is_err() {
                    self.disconnected = true;
                    return ControlFlow::Break(());
                }
            }
            Delivery::Collect(events) => events.extend(batch),
        }
        if self.cancel.load(Ordering::Relaxed) {
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }

    fn handle(
        &mut self,
        mapped: Mapped,
        warnings: Vec<Warning>,
        position: Position,
    ) -> ControlFlow<()> {
        if self.cancel.load(Ordering::Relaxed) {
            return ControlFlow::Break(());
        }
        self.summary.records += 1;
        for warning in &warnings {
            let name = &self.name;
            self.summary.count_warning(warning.reason, || {
                format!("{}: {}", position.describe(name), warning.detail)
            });
        }
        match mapped {
            Mapped::Event(event) => {
                self.summary.count_event(&event);
                self.batch_bytes += event.heap_size();
                self.batch.push(event);
                if self.batch.len() >= BATCH_EVENTS || self.batch_bytes >= BATCH_BYTES {
                    return self.flush();
                }
                ControlFlow::Continue(())
            }
            Mapped::NotMapped(reason, detail) => {
                // Counted here first: reasons are interned, so a pointer comparison finds the
                // entry of most records; merged into the summary when the source ends.
                let index = match self
                    .not_mapped
                    .iter()
                    .position(|(r, _, _)| Arc::ptr_eq(r, &reason) || **r == *reason)
                {
                    Some(i) => i,
                    None => {
                        self.not_mapped.push((Arc::clone(&reason), 0, Vec::new()));
                        self.not_mapped.len() - 1
                    }
                };
                let (_, count, examples) = &mut self.not_mapped[index];
                *count += 1;
                if examples.len() < crate::summary::MAX_EXAMPLES {
                    let why = if detail.is_empty() { &*reason } else { &detail };
                    examples.push(format!("{}: {why}", position.describe(&self.name)));
                }
                ControlFlow::Continue(())
            }
            Mapped::Malformed(reason, detail) => {
                self.summary.records -= 1;
                self.issue(Issue::new(reason, position, detail), true)
            }
        }
    }
}

impl RecordSink for SourceRun<'_> {
    fn record(
        &mut self,
        record: &mut Record,
        position: Position,
        offset: Option<u64>,
    ) -> ControlFlow<()> {
        let provenance = match position {
            Position::Record(n) => Provenance::record(Arc::clone(&self.name), n),
            Position::Line(n) => Provenance::line(Arc::clone(&self.name), n),
            _ => Provenance::line(Arc::clone(&self.name), 0),
        };
        let provenance = match offset {
            Some(o) => provenance.with_offset(o),
            None => provenance,
        };
        let mapped = self.mapper.map(record, provenance);
        let warnings: Vec<Warning> = self.mapper.take_warnings().collect();
        self.handle(mapped, warnings, position)
    }

    fn mapped(
        &mut self,
        mapped: Mapped,
        warnings: Vec<Warning>,
        position: Position,
    ) -> ControlFlow<()> {
        self.handle(mapped, warnings, position)
    }

    fn issue(&mut self, issue: Issue, is_record: bool) -> ControlFlow<()> {
        if is_record {
            self.summary.records += 1;
        }
        match self.on_error {
            OnError::Skip => {
                self.summary.count_issue(&issue, &self.name);
                ControlFlow::Continue(())
            }
            OnError::Fail => {
                if self.error.is_none() {
                    self.error = Some(issue.into_error(&self.name));
                }
                ControlFlow::Break(())
            }
        }
    }

    fn warning(&mut self, reason: &'static str, position: Position, detail: String) {
        let name = &self.name;
        self.summary
            .count_warning(reason, || format!("{}: {detail}", position.describe(name)));
    }

    fn zeek_path(&mut self, path: Option<Arc<str>>) {
        self.mapper.context.zeek_path = path;
    }
}

fn family(format: Format) -> Family {
    match format {
        Format::Evtx => Family::Evtx,
        Format::ZeekTsv => Family::Zeek,
        Format::AccessLog => Family::Access,
        Format::W3c => Family::W3c,
        Format::Json | Format::Csv | Format::Tsv => Family::Generic,
    }
}

/// The CSV delimiter of a header line: `,` unless `;` or `|` is clearly what separates it.
fn csv_delimiter(head: &[u8]) -> u8 {
    let line = head.split(|&b| b == b'\n').next().unwrap_or(head);
    let count = |d: u8| line.iter().filter(|&&b| b == d).count();
    let commas = count(b',');
    [b';', b'|']
        .into_iter()
        .find(|&d| count(d) > commas)
        .unwrap_or(b',')
}

/// Decodes one source, sending its events; returns its summary.
fn run_source(
    source: &Source,
    shared: &Shared<'_>,
    delivery: Delivery<'_>,
) -> Result<IngestSummary, IngestError> {
    let options = shared.options;
    let mut summary = IngestSummary {
        files: 1,
        sources: vec![source.name.to_string()],
        ..IngestSummary::default()
    };
    let fail_or_count = |mut summary: IngestSummary, issue: Issue| {
        if options.on_error == OnError::Fail {
            Err(issue.into_error(&source.name))
        } else {
            summary.count_issue(&issue, &source.name);
            Ok(summary)
        }
    };
    let opened = match source::open(source) {
        Ok(o) => o,
        Err(e) => {
            return fail_or_count(
                summary,
                Issue::new("unreadable file", Position::Source, e.to_string()),
            )
        }
    };
    let format = options
        .format
        .or_else(|| detect_format(&opened.head, &source.name))
        .or_else(|| options.log_format.as_ref().map(|_| Format::AccessLog))
        .or_else(|| options.columns.as_ref().map(|_| Format::Csv));
    let Some(format) = format else {
        if opened.head.iter().all(u8::is_ascii_whitespace) {
            // An empty file: nothing to read, nothing wrong.
            return Ok(summary);
        }
        return fail_or_count(
            summary,
            Issue::new(
                "unrecognised format",
                Position::Source,
                "not EVTX, JSON, CSV/TSV, Zeek, access or W3C log text (give --format to force one)",
            ),
        );
    };
    *summary
        .formats
        .entry(format.name().to_string())
        .or_default() += 1;
    let mapper = Mapper::new(
        family(format),
        options.mapping.as_ref(),
        options.profile.as_deref(),
        options.keep_extra,
    )?;
    let mut run = SourceRun {
        name: Arc::clone(&source.name),
        mapper,
        summary,
        batch: Vec::with_capacity(BATCH_EVENTS),
        batch_bytes: 0,
        delivery,
        on_error: options.on_error,
        error: None,
        cancel: &shared.cancel,
        disconnected: false,
        not_mapped: Vec::new(),
    };
    let max = options.max_record_bytes;
    let bytes = Arc::clone(&opened.bytes);
    let compression = opened.compression;
    let read = match format {
        Format::Json => decode::json::decode(opened.reader, &opened.head, &mut run, max),
        Format::Csv | Format::Tsv => {
            let table = decode::csv::Table {
                delimiter: if format == Format::Tsv {
                    b'\t'
                } else {
                    csv_delimiter(&opened.head)
                },
                quoting: format == Format::Csv,
                columns: options.columns.as_deref(),
                max_record: max,
            };
            decode::csv::decode(opened.reader, &opened.head, &table, &mut run)
        }
        Format::ZeekTsv => decode::zeek::decode(opened.reader, &mut run, max),
        Format::AccessLog => {
            decode::access::decode(opened.reader, shared.log_format.as_ref(), &mut run, max)
        }
        Format::W3c => decode::w3c::decode(opened.reader, &mut run, max),
        Format::Evtx => {
            let plain_file = match (&source.input, compression) {
                (Input::File(path), Compression::None) => std::fs::File::open(path).ok(),
                _ => None,
            };
            let plain_size = plain_file
                .as_ref()
                .and_then(|f| f.metadata().ok())
                .map(|m| m.len());
            let (data, failure): (Box<dyn decode::evtx::SeekRead>, Option<std::io::Error>) =
                match plain_file {
                    Some(file) => (Box::new(file), None),
                    None => match decode::evtx::spool(opened.reader) {
                        Ok(spooled) => spooled,
                        Err(e) => (Box::new(std::io::Cursor::new(Vec::new())), Some(e)),
                    },
                };
            let mapper = run.mapper.clone();
            decode::evtx::decode(data, &mapper, &source.name, shared.evtx_threads, &mut run);
            if let Some(size) = plain_size {
                // Read in place by the evtx crate, not through the byte counter.
                bytes.store(size, Ordering::Relaxed);
            }
            match failure {
                Some(e) => Err(e),
                None => Ok(()),
            }
        }
    };
    if let Err(e) = read {
        if !run.disconnected && run.error.is_none() {
            let reason = if compression == Compression::None {
                "read error"
            } else {
                "corrupt compressed stream"
            };
            let _ = run.issue(
                Issue::new(
                    reason,
                    Position::Offset(bytes.load(Ordering::Relaxed)),
                    format!("{e}; the rest of the source could not be read"),
                ),
                false,
            );
        }
    }
    if let Some(error) = run.error.take() {
        return Err(error);
    }
    let _ = run.flush();
    for (reason, count, examples) in std::mem::take(&mut run.not_mapped) {
        run.summary.add_not_mapped(&reason, count, examples);
    }
    run.summary.bytes = bytes.load(Ordering::Relaxed);
    Ok(run.summary)
}
