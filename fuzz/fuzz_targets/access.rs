//! Fuzzes access-log parsing: the first line of the input is an Apache `LogFormat` or nginx
//! `log_format` string, the rest is the log. Compiling any format string and matching any line
//! must not panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oddhunt_ingest::{decode_bytes, Format, IngestOptions, LogFormat};

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let format = String::from_utf8_lossy(&data[..split]).into_owned();
    let body = data.get(split + 1..).unwrap_or_default();
    let log_format = LogFormat::parse(&format).is_ok().then_some(format);
    let options = IngestOptions {
        format: Some(Format::AccessLog),
        log_format,
        max_record_bytes: 1 << 20,
        ..IngestOptions::default()
    };
    if let Ok((events, summary)) = decode_bytes(body, "fuzz", &options) {
        assert_eq!(events.len() as u64, summary.events());
    }
});
