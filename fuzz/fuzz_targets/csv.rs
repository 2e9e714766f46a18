//! Fuzzes the csv decoder and its mapping profiles through the public entry point: any bytes,
//! forced to this format, must decode without panicking (malformed input becomes counted issues).
#![no_main]

use libfuzzer_sys::fuzz_target;
use oddhunt_ingest::{decode_bytes, Format, IngestOptions};

fuzz_target!(|data: &[u8]| {
    let options = IngestOptions {
        format: Some(Format::Csv),
        max_record_bytes: 1 << 20,
        ..IngestOptions::default()
    };
    if let Ok((events, summary)) = decode_bytes(data, "fuzz", &options) {
        assert_eq!(events.len() as u64, summary.events());
    }
});
