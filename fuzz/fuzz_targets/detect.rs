//! Fuzzes format detection and whatever decoder it picks (gzip/zstd included), with every
//! profile and extra fields on: the path an unknown file takes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oddhunt_ingest::{decode_bytes, IngestOptions};

fuzz_target!(|data: &[u8]| {
    let options = IngestOptions {
        max_record_bytes: 1 << 20,
        ..IngestOptions::default()
    };
    let _ = decode_bytes(data, "fuzz.log", &options);
});
