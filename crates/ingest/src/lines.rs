//! Reading a text source line by line with bounded memory.
//!
//! Lines are returned as byte slices into one reusable buffer (no allocation per line), with
//! their 1-based number and byte offset; `\n` and `\r\n` endings are removed. A line longer
//! than the record size limit is not buffered: it is skipped and reported as
//! [`Line::TooLong`], so a 10 GB file without a newline costs at most the limit in memory.

use std::io::{self, Read};

/// Size of each read from the source.
const CHUNK: usize = 256 * 1024;

/// One line of a text source.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// A line's bytes without its ending.
    Text {
        /// The bytes.
        bytes: &'a [u8],
        /// 1-based line number.
        number: u64,
        /// Byte offset of its first byte.
        offset: u64,
    },
    /// A line longer than the limit; its bytes were skipped.
    TooLong {
        /// 1-based line number.
        number: u64,
        /// Byte offset of its first byte.
        offset: u64,
        /// Its length in bytes.
        size: u64,
    },
}

/// Splits a byte stream into lines. See the module documentation.
pub struct LineReader<R> {
    input: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    line: u64,
    /// Stream offset of `buf[start]`.
    offset: u64,
    max_line: usize,
}

impl<R: Read> LineReader<R> {
    /// A reader refusing lines longer than `max_line` bytes.
    pub fn new(input: R, max_line: usize) -> Self {
        LineReader {
            input,
            buf: Vec::new(),
            start: 0,
            end: 0,
            eof: false,
            line: 0,
            offset: 0,
            max_line: max_line.max(1),
        }
    }

    /// Bytes consumed from the source so far (the offset after the last line returned).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Number of the last line returned.
    pub fn line_number(&self) -> u64 {
        self.line
    }

    /// Reads more data, keeping unconsumed bytes; returns the number of bytes read.
    fn fill(&mut self) -> io::Result<usize> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() < self.end + CHUNK {
            self.buf.resize(self.end + CHUNK, 0);
        }
        loop {
            match self.input.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(0);
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// The next line, `None` at the end of the source.
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        let mut searched = 0;
        loop {
            let pending = &self.buf[self.start + searched..self.end];
            if let Some(i) = memchr::memchr(b'\n', pending) {
                let line_end = self.start + searched + i;
                return Ok(Some(self.take(line_end, line_end + 1)));
            }
            searched = self.end - self.start;
            if self.eof {
                if self.start == self.end {
                    return Ok(None);
                }
                let end = self.end;
                return Ok(Some(self.take(end, end)));
            }
            if searched >= self.max_line {
                return self.skip_long_line().map(Some);
            }
            self.fill()?;
        }
    }

    /// Returns `buf[start..line_end]` as the next line and moves past `next`.
    fn take(&mut self, line_end: usize, next: usize) -> Line<'_> {
        self.line += 1;
        let offset = self.offset;
        let start = self.start;
        self.offset += (next - start) as u64;
        self.start = next;
        let mut bytes = &self.buf[start..line_end];
        if let Some(stripped) = bytes.strip_suffix(b"\r") {
            bytes = stripped;
        }
        if bytes.len() > self.max_line {
            return Line::TooLong {
                number: self.line,
                offset,
                size: bytes.len() as u64,
            };
        }
        Line::Text {
            bytes,
            number: self.line,
            offset,
        }
    }

    /// Discards the rest of an over-long line.
    fn skip_long_line(&mut self) -> io::Result<Line<'static>> {
        self.line += 1;
        let offset = self.offset;
        let mut size = 0u64;
        loop {
            let pending = &self.buf[self.start..self.end];
            if let Some(i) = memchr::memchr(b'\n', pending) {
                size += i as u64;
                self.offset += size + 1;
                self.start += i + 1;
                return Ok(Line::TooLong {
                    number: self.line,
                    offset,
                    size,
                });
            }
            size += pending.len() as u64;
            self.start = self.end;
            if self.eof || self.fill()? == 0 {
                self.offset += size;
                return Ok(Line::TooLong {
                    number: self.line,
                    offset,
                    size,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &[u8], max: usize) -> Vec<String> {
        let mut r = LineReader::new(text, max);
        let mut out = Vec::new();
        while let Some(line) = r.next_line().unwrap() {
            out.push(match line {
                Line::Text {
                    bytes,
                    number,
                    offset,
                } => format!("{number}@{offset}:{}", String::from_utf8_lossy(bytes)),
                Line::TooLong {
                    number,
                    offset,
                    size,
                } => format!("{number}@{offset}:too long {size}"),
            });
        }
        out
    }

    #[test]
    fn splits_lines_with_numbers_and_offsets() {
        assert_eq!(
            lines(b"a\r\nbb\n\nccc", 100),
            vec!["1@0:a", "2@3:bb", "3@6:", "4@7:ccc"]
        );
        assert!(lines(b"", 100).is_empty());
        assert_eq!(lines(b"x\n", 100), vec!["1@0:x"]);
    }

    #[test]
    fn skips_over_long_lines_without_buffering_them() {
        let mut text = vec![b'a'; 3 * CHUNK + 17];
        text.extend_from_slice(b"\nok\n");
        let out = lines(&text, 1000);
        assert_eq!(out[0], format!("1@0:too long {}", 3 * CHUNK + 17));
        assert_eq!(out[1], format!("2@{}:ok", 3 * CHUNK + 18));
        // A long last line without a newline.
        let out = lines(&vec![b'b'; 5000], 100);
        assert_eq!(out, vec!["1@0:too long 5000"]);
    }

    #[test]
    fn long_lines_within_the_limit_are_kept() {
        let mut text = vec![b'z'; 2 * CHUNK];
        text.push(b'\n');
        let mut r = LineReader::new(&text[..], 4 * CHUNK);
        match r.next_line().unwrap().unwrap() {
            Line::Text { bytes, .. } => assert_eq!(bytes.len(), 2 * CHUNK),
            other => panic!("{other:?}"),
        }
    }
}
