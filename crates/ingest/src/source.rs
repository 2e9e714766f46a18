//! Where logs come from: resolving inputs, opening them, undoing compression.
//!
//! [`resolve_inputs`] accepts files, directories (walked recursively in name order, skipping
//! hidden files and documentation such as `README.md`), glob patterns and `-` for stdin, and
//! fails clearly for a missing path, a directory without logs or a pattern that matches
//! nothing. Opening a source recognises gzip (`1f 8b`; concatenated members are read, as
//! rotated logs often are) and zstd (`28 b5 2f fd`) by their magic bytes, not by name.

use crate::error::IngestError;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// One input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// Standard input (`-`).
    Stdin,
    /// A file.
    File(PathBuf),
    /// Bytes already in memory (tests, fuzzing, logs pulled from a SIEM).
    Bytes(Arc<[u8]>),
}

/// An input and the name it is reported under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// What to read.
    pub input: Input,
    /// The name used in provenance and messages: the path as given (joined with the relative
    /// path for files found in a directory), or `-`.
    pub name: Arc<str>,
}

impl Source {
    /// A file source named by its path.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        Source {
            name: Arc::from(path.to_string_lossy().as_ref()),
            input: Input::File(path),
        }
    }

    /// Bytes in memory, reported under `name`.
    pub fn bytes(name: &str, bytes: impl Into<Arc<[u8]>>) -> Self {
        Source {
            input: Input::Bytes(bytes.into()),
            name: Arc::from(name),
        }
    }

    /// Standard input.
    pub fn stdin() -> Self {
        Source {
            input: Input::Stdin,
            name: Arc::from("-"),
        }
    }
}

/// The resolved inputs of a run, in reading order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sources(Vec<Source>);

impl Sources {
    /// Sources from a list (no resolution).
    pub fn new(sources: Vec<Source>) -> Self {
        Sources(sources)
    }

    /// Number of sources.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The sources in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Source> {
        self.0.iter()
    }

    /// The sources as a slice.
    pub fn as_slice(&self) -> &[Source] {
        &self.0
    }
}

impl<'a> IntoIterator for &'a Sources {
    type Item = &'a Source;
    type IntoIter = std::slice::Iter<'a, Source>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// File name extensions that are never logs (documentation, images, archives we cannot read):
/// skipped when walking a directory. A file named explicitly is always read.
const NOT_LOGS: &[&str] = &[
    "md", "rst", "pdf", "png", "jpg", "jpeg", "gif", "svg", "html", "htm", "zip", "7z", "tar",
    "rar", "exe", "dll", "py", "rs", "toml", "yml", "yaml", "ini", "cfg", "sh", "ps1", "pcap",
    "pcapng", "xlsx", "docx",
];

fn is_log_candidate(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return true;
    };
    if name.starts_with('.') {
        return false;
    }
    let lower = name.to_ascii_lowercase();
    let stem = lower
        .strip_suffix(".gz")
        .or_else(|| lower.strip_suffix(".zst"))
        .unwrap_or(&lower);
    if stem == "license" || stem.starts_with("license.") || stem.starts_with("readme") {
        return false;
    }
    match stem.rsplit_once('.') {
        Some((_, ext)) => !NOT_LOGS.contains(&ext),
        None => true,
    }
}

fn is_pattern(input: &str) -> bool {
    input.contains(['*', '?', '['])
}

/// Resolves command-line inputs into sources: files, directories (recursive), glob patterns and
/// `-` (stdin). Order: inputs as given; within a directory or pattern, by path.
pub fn resolve_inputs(inputs: &[String]) -> Result<Sources, IngestError> {
    let mut sources = Vec::new();
    for input in inputs {
        if input == "-" {
            sources.push(Source::stdin());
            continue;
        }
        let path = Path::new(input);
        if path.is_dir() {
            let before = sources.len();
            let walker = walkdir::WalkDir::new(path)
                .follow_links(true)
                .sort_by_file_name();
            for entry in walker {
                let entry = entry.map_err(|e| IngestError::Io {
                    path: e
                        .path()
                        .map_or_else(|| input.clone(), |p| p.display().to_string()),
                    source: e
                        .into_io_error()
                        .unwrap_or_else(|| io::Error::other("directory walk failed")),
                })?;
                if entry.file_type().is_file() && is_log_candidate(entry.path()) {
                    sources.push(Source::file(entry.path()));
                }
            }
            if sources.len() == before {
                return Err(IngestError::EmptyDirectory(input.clone()));
            }
        } else if path.exists() {
            sources.push(Source::file(path));
        } else if is_pattern(input) {
            let paths = glob::glob(input).map_err(|e| IngestError::BadPattern {
                pattern: input.clone(),
                message: e.to_string(),
            })?;
            let mut matched: Vec<PathBuf> = paths
                .filter_map(Result::ok)
                .filter(|p| p.is_file())
                .collect();
            matched.sort();
            if matched.is_empty() {
                return Err(IngestError::NoMatch(input.clone()));
            }
            sources.extend(matched.into_iter().map(Source::file));
        } else {
            return Err(IngestError::NotFound(input.clone()));
        }
    }
    Ok(Sources(sources))
}

/// Compression of a source, from its magic bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Compression {
    None,
    Gzip,
    Zstd,
}

/// Counts the bytes read through it (decompressed bytes, for the summary).
pub(crate) struct Counted<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// A reader that first replays bytes already read (and an error met while reading them).
pub(crate) struct Replay<R> {
    prefix: Cursor<Vec<u8>>,
    error: Option<io::Error>,
    inner: R,
}

impl<R: Read> Read for Replay<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.prefix.read(buf)?;
        if n > 0 || buf.is_empty() {
            return Ok(n);
        }
        if let Some(error) = self.error.take() {
            return Err(error);
        }
        self.inner.read(buf)
    }
}

/// Reads up to `n` bytes without losing them: returns them and a reader that yields them again.
/// A read error (a truncated gzip member) is not returned here but replayed after the bytes that
/// could be read, so the records before the damage are still decoded.
pub(crate) fn peek<R: Read>(mut input: R, n: usize) -> (Vec<u8>, Replay<R>) {
    let mut prefix = vec![0u8; n];
    let mut filled = 0;
    let mut error = None;
    while filled < n {
        match input.read(&mut prefix[filled..]) {
            Ok(0) => break,
            Ok(k) => filled += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    prefix.truncate(filled);
    let head = prefix.clone();
    (
        head,
        Replay {
            prefix: Cursor::new(prefix),
            error,
            inner: input,
        },
    )
}

/// An opened source: decompressed content with its first bytes available for detection.
pub(crate) struct Opened {
    /// The first bytes of the (decompressed) content.
    pub head: Vec<u8>,
    /// The whole (decompressed) content, from its first byte.
    pub reader: Box<dyn BufRead + Send>,
    pub compression: Compression,
    /// Decompressed bytes read so far.
    pub bytes: Arc<AtomicU64>,
}

/// How many decompressed bytes format detection looks at.
pub(crate) const HEAD_BYTES: usize = 64 * 1024;

/// Opens a source, undoing gzip/zstd compression.
pub(crate) fn open(source: &Source) -> io::Result<Opened> {
    let raw: Box<dyn Read + Send> = match &source.input {
        Input::Stdin => Box::new(io::stdin()),
        Input::File(path) => Box::new(File::open(path)?),
        Input::Bytes(bytes) => Box::new(Cursor::new(Arc::clone(bytes))),
    };
    let (magic, raw) = peek(raw, 4);
    let (compression, decoded): (Compression, Box<dyn Read + Send>) = match magic.as_slice() {
        [0x1f, 0x8b, ..] => (
            Compression::Gzip,
            Box::new(flate2::read::MultiGzDecoder::new(BufReader::with_capacity(
                1 << 16,
                raw,
            ))),
        ),
        [0x28, 0xb5, 0x2f, 0xfd] => (
            Compression::Zstd,
            Box::new(zstd::stream::read::Decoder::new(raw)?),
        ),
        _ => (Compression::None, Box::new(raw)),
    };
    let bytes = Arc::new(AtomicU64::new(0));
    let counted = Counted {
        inner: decoded,
        count: Arc::clone(&bytes),
    };
    // EVTX is recognised by its first 8 bytes and read by the evtx crate itself: do not read
    // (and buffer) the 64 KiB a text format's detection needs.
    let (magic, reader) = peek(counted, 8);
    if magic.starts_with(b"ElfFile\0") {
        return Ok(Opened {
            head: magic,
            reader: Box::new(BufReader::with_capacity(64 * 1024, reader)),
            compression,
            bytes,
        });
    }
    let (head, reader) = peek(reader, HEAD_BYTES);
    Ok(Opened {
        head,
        reader: Box::new(BufReader::with_capacity(256 * 1024, reader)),
        compression,
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_documentation_and_hidden_files() {
        assert!(is_log_candidate(Path::new("a/dns.log")));
        assert!(is_log_candidate(Path::new("a/x.evtx.gz")));
        assert!(is_log_candidate(Path::new("a/access_log")));
        assert!(is_log_candidate(Path::new("a/web.txt.gz")));
        assert!(!is_log_candidate(Path::new("a/README.md")));
        assert!(!is_log_candidate(Path::new("a/.hidden.log")));
        assert!(!is_log_candidate(Path::new("a/notes.md.gz")));
        assert!(!is_log_candidate(Path::new("a/LICENSE")));
    }

    #[test]
    fn peek_keeps_the_bytes() {
        let (head, mut rest) = peek(&b"hello world"[..], 5);
        assert_eq!(head, b"hello");
        let mut all = String::new();
        rest.read_to_string(&mut all).unwrap();
        assert_eq!(all, "hello world");
    }
}
