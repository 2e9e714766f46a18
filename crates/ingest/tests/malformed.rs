//! Bad input never panics: each decoder meets truncation, invalid UTF-8, NUL bytes, huge lines,
//! wrong column counts and wrong types, and reports them with the right reason and position
//! (skipped and counted by default, the run's error with `OnError::Fail`).

use oddhunt_core::{EventKind, Field, Locator};
use oddhunt_ingest::{
    decode_bytes, read_events, resolve_inputs, Format, IngestError, IngestOptions, IngestSummary,
    OnError, Source, Sources,
};
use std::io::{Read, Write};
use std::ops::ControlFlow;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

fn decode(bytes: &[u8], name: &str) -> (Vec<oddhunt_core::Event>, IngestSummary) {
    decode_bytes(bytes, name, &IngestOptions::default()).expect("skip mode never fails")
}

fn decode_with(
    bytes: &[u8],
    name: &str,
    options: &IngestOptions,
) -> Result<(Vec<oddhunt_core::Event>, IngestSummary), IngestError> {
    decode_bytes(bytes, name, options)
}

fn fail() -> IngestOptions {
    IngestOptions {
        on_error: OnError::Fail,
        ..IngestOptions::default()
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn gunzip_file(rel: &str) -> Vec<u8> {
    let raw = std::fs::read(format!("{DATA}/{rel}")).unwrap();
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(&raw[..])
        .read_to_end(&mut out)
        .unwrap();
    out
}

const SECURITY_4688: &str = r#"{"EventID": 4688, "Channel": "Security", "Hostname": "WS1", "SubjectUserName": "bob", "SubjectDomainName": "CORP", "NewProcessName": "C:\\Windows\\System32\\cmd.exe", "CommandLine": "cmd /c whoami", "ParentProcessName": "C:\\Windows\\explorer.exe", "@timestamp": "2020-01-01T00:00:00Z"}"#;

// ----- EVTX -----

#[test]
fn truncated_evtx_keeps_the_whole_chunks_before_the_cut() {
    let evtx = gunzip_file("evtx_parser_samples/security.evtx.gz");
    // Cut in the middle of the third chunk (header 4096 + 64 KiB chunks).
    let cut = 4096 + 2 * 65536 + 30000;
    let (_, summary) = decode(&evtx[..cut], "cut.evtx");
    assert!(
        summary.records > 100 && summary.records < 2261,
        "{}",
        summary.records
    );
    assert!(summary.skipped_for("not mapped: Security 4624") > 0);
    // The partial chunk is not silently dropped.
    assert!(summary.errors() > 0, "{:?}", summary.skipped);
    // Only a header, or less.
    for len in [0usize, 10, 4096, 5000] {
        let (events, summary) = decode(&evtx[..len], "short.evtx");
        assert!(events.is_empty());
        assert_eq!(summary.events(), 0);
    }
    let err = decode_with(&evtx[..5000], "short.evtx", &fail()).unwrap_err();
    assert!(err.to_string().starts_with("short.evtx"), "{err}");
}

#[test]
fn damaged_evtx_bytes_do_not_panic() {
    let mut evtx = std::fs::read(format!(
        "{DATA}/evtx_attack_samples/evtx/Lateral_Movement__LM_WMI_4624_4688_TargetHost.evtx"
    ))
    .unwrap();
    let (clean, _) = decode(&evtx, "x.evtx");
    // Overwrite stretches of the first chunk's records with noise.
    let mut state = 0x2545_f491_u32;
    for i in (4096 + 512..4096 + 20000).step_by(97) {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        evtx[i] = state as u8;
    }
    let (events, summary) = decode(&evtx, "x.evtx");
    assert!(events.len() <= clean.len());
    assert_eq!(summary.events(), events.len() as u64);
    // Forced format on garbage: an error, not a panic.
    let options = IngestOptions {
        format: Some(Format::Evtx),
        ..IngestOptions::default()
    };
    let (events, summary) = decode_with(b"not an evtx file at all", "x", &options).unwrap();
    assert!(events.is_empty());
    assert_eq!(summary.skipped_for("corrupt EVTX file"), 1);
}

// ----- JSON -----

#[test]
fn json_lines_with_bad_lines_invalid_utf8_and_nul_bytes() {
    let mut input = Vec::new();
    input.extend_from_slice(SECURITY_4688.as_bytes());
    input.extend_from_slice(b"\n{\"EventID\": 4688, \"CommandLine\": }\n");
    input.extend_from_slice(
        b"{\"EventID\": 4688, \"Channel\": \"Security\", \"CommandLine\": \"caf\xe9 \x00x\"}\n",
    );
    input.extend_from_slice(b"\x00\x00\x00\n");
    input.extend_from_slice(b"\n   \n");
    input.extend_from_slice(SECURITY_4688.as_bytes());
    let (events, summary) = decode(&input, "x.jsonl");
    assert_eq!(events.len(), 3);
    assert_eq!(summary.records, 5);
    let malformed = &summary.skipped["malformed JSON"];
    assert_eq!(malformed.count, 2);
    assert!(
        malformed.examples[0].starts_with("x.jsonl:2: expected a value"),
        "{:?}",
        malformed.examples
    );
    assert!(malformed.examples[1].starts_with("x.jsonl:4:"));
    assert_eq!(summary.warnings["invalid UTF-8 replaced"].count, 1);
    assert_eq!(
        events[1].get(Field::CommandLine),
        Some("caf\u{fffd} \u{0}x")
    );
    assert_eq!(events[2].provenance().locator, Locator::Line(7));

    let err = decode_with(&input, "x.jsonl", &fail()).unwrap_err();
    assert_eq!(err.to_string().split(": ").next(), Some("x.jsonl:2"));
}

#[test]
fn a_10_mb_line_is_read_and_a_limit_reports_it() {
    let big = "A".repeat(10 << 20);
    let line = format!(
        r#"{{"EventID": 4688, "Channel": "Security", "CommandLine": "{big}", "NewProcessName": "x.exe"}}"#
    );
    let input = format!("{line}\n{SECURITY_4688}\n");
    let (events, summary) = decode(input.as_bytes(), "big.jsonl");
    assert_eq!(events.len(), 2);
    assert_eq!(
        events[0].get(Field::CommandLine).map(str::len),
        Some(10 << 20)
    );
    assert_eq!(summary.errors(), 0);

    let limited = IngestOptions {
        max_record_bytes: 1 << 20,
        ..IngestOptions::default()
    };
    let (events, summary) = decode_with(input.as_bytes(), "big.jsonl", &limited).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].provenance().locator, Locator::Line(2));
    let info = &summary.skipped["record too large"];
    assert_eq!(info.count, 1);
    assert!(
        info.examples[0].starts_with("big.jsonl:1: record of 104"),
        "{:?}",
        info.examples
    );
}

#[test]
fn json_arrays_and_wrappers_report_broken_structure() {
    let ok = format!(r#"{{"Records": [{SECURITY_4688}, {SECURITY_4688}]}}"#);
    let (events, _) = decode(ok.as_bytes(), "trail.json");
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].provenance().locator, Locator::Record(2));

    let broken = format!("[{SECURITY_4688}, {{\"EventID\": 4688,, }}, {SECURITY_4688}");
    let (events, summary) = decode(broken.as_bytes(), "arr.json");
    assert_eq!(events.len(), 2);
    assert_eq!(
        summary.skipped["malformed JSON"].count, 2,
        "{:?}",
        summary.skipped
    );

    let (events, summary) = decode(b"[1, \"two\", null]", "scalars.json");
    assert!(events.is_empty());
    assert_eq!(summary.skipped["malformed JSON"].count, 3);
}

#[test]
fn wrong_json_types_are_malformed_records() {
    let input = concat!(
        r#"{"EventID": "four", "Channel": "Security"}"#,
        "\n",
        r#"{"EventID": 3, "Channel": "Microsoft-Windows-Sysmon/Operational", "Image": "x.exe", "SourcePort": "http", "DestinationIp": "1.2.3.4"}"#,
        "\n",
        r#"{"EventID": {"nested": 1}, "Channel": "Security"}"#,
        "\n"
    );
    let (events, summary) = decode(input.as_bytes(), "types.jsonl");
    assert!(events.is_empty());
    let info = &summary.skipped["wrong field type"];
    assert_eq!(info.count, 2, "{:?}", summary.skipped);
    assert!(info.examples[0].contains("field EventID: expected an event id"));
    assert!(info.examples[1].contains("field SourcePort: expected a port number"));
    // An object where the id should be: no event id at all, so not a Windows record.
    assert_eq!(summary.not_mapped(), 1);
}

// ----- CSV -----

#[test]
fn headerless_csv_reports_rows_with_extra_fields() {
    // The QFunction SIEM export: command_line, parent_process_name, domain_name, username.
    let input = concat!(
        "\"cmd.exe /c dir C:\\,D:\\\",explorer.exe,CORP,bob\n",
        "powershell.exe -c a,b,c,explorer.exe,CORP,bob\n",
        "\"multi\nline\",explorer.exe,CORP,alice\n",
        "short,row\n",
    );
    let options = IngestOptions {
        columns: Some(
            [
                "command_line",
                "parent_process_name",
                "domain_name",
                "username",
            ]
            .map(String::from)
            .to_vec(),
        ),
        ..IngestOptions::default()
    };
    let (events, summary) = decode_with(input.as_bytes(), "siem.csv", &options).unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].kind(), EventKind::ProcessStart);
    assert_eq!(
        events[0].get(Field::CommandLine),
        Some("cmd.exe /c dir C:\\,D:\\")
    );
    assert_eq!(events[0].get(Field::ParentName), Some("explorer.exe"));
    assert_eq!(events[0].get(Field::Domain), Some("CORP"));
    assert_eq!(events[0].get(Field::User), Some("bob"));
    assert_eq!(events[1].provenance().locator, Locator::Line(3));
    let wrong = &summary.skipped["wrong number of fields"];
    assert_eq!(wrong.count, 2);
    assert_eq!(
        wrong.examples[0],
        "siem.csv:2: row has 6 fields, expected 4 (command_line,parent_process_name,domain_name,username)"
    );
    assert!(wrong.examples[1].starts_with("siem.csv:5: row has 2 fields"));

    let options = IngestOptions {
        on_error: OnError::Fail,
        ..options
    };
    let err = decode_with(input.as_bytes(), "siem.csv", &options).unwrap_err();
    assert!(
        err.to_string().starts_with("siem.csv:2: row has 6 fields"),
        "{err}"
    );
}

#[test]
fn csv_with_invalid_utf8_unclosed_quotes_and_nul_bytes() {
    let mut input = b"command_line,user\n".to_vec();
    input.extend_from_slice(b"caf\xe9.exe,bob\n");
    input.extend_from_slice(b"a\x00b.exe,eve\n");
    input.extend_from_slice(b"\"never closed,x\n");
    input.extend_from_slice(b"more,rows\n");
    let (events, summary) = decode(&input, "u.csv");
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].get(Field::CommandLine), Some("caf\u{fffd}.exe"));
    assert_eq!(events[1].get(Field::CommandLine), Some("a\u{0}b.exe"));
    assert_eq!(summary.warnings["invalid UTF-8 replaced"].count, 1);
    // The unclosed quote swallows the rest of the file into one field: one bad row.
    assert_eq!(summary.errors(), 1, "{:?}", summary.skipped);

    let limited = IngestOptions {
        max_record_bytes: 1024,
        ..IngestOptions::default()
    };
    let mut runaway = b"command_line,user\n\"".to_vec();
    runaway.extend(std::iter::repeat_n(b'x', 2 << 20));
    let (events, summary) = decode_with(&runaway, "r.csv", &limited).unwrap();
    assert!(events.is_empty());
    assert!(summary.skipped["malformed CSV"].examples[0].contains("larger than the limit"));
}

// ----- Zeek -----

#[test]
fn zeek_lines_with_wrong_counts_types_and_escapes() {
    let input = concat!(
        "#separator \\x09\n",
        "#set_separator\t,\n",
        "#empty_field\t(empty)\n",
        "#unset_field\t-\n",
        "#path\tdns\n",
        "#fields\tts\tid.orig_h\tid.orig_p\tquery\tqtype_name\tanswers\n",
        "#types\ttime\taddr\tport\tstring\tstring\tvector[string]\n",
        "1.5\t10.0.0.1\t53\ta\\x09b.example\tA\t1.2.3.4,5.6.7.8\n",
        "1.5\t10.0.0.1\t53\tmissing-a-field\n",
        "1.5\t10.0.0.1\tdns\tx.example\tA\t-\n",
        "yesterday\t10.0.0.1\t53\tx.example\tA\t(empty)\n",
        "2.5\t10.0.0.1\t53\tcaf\\xe9.example\tA\t-\n",
        "#close\t2020-01-01-00-00-00\n",
    );
    let (events, summary) = decode(input.as_bytes(), "dns.log");
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].get(Field::Query), Some("a\tb.example"));
    assert_eq!(events[0].get(Field::Answers), Some("1.2.3.4,5.6.7.8"));
    assert_eq!(events[0].provenance().locator, Locator::Line(8));
    assert_eq!(events[1].get(Field::Query), Some("caf\u{fffd}.example"));
    assert_eq!(summary.skipped["wrong number of fields"].count, 1);
    let types = &summary.skipped["wrong field type"];
    assert_eq!(types.count, 2);
    assert_eq!(
        types.examples[0],
        "dns.log:10: field id.orig_p: expected a non-negative integer, got \"dns\""
    );
    assert!(types.examples[1].starts_with("dns.log:11: field ts: expected a number"));
    assert_eq!(summary.warnings["invalid UTF-8 replaced"].count, 1);

    let (_, summary) = decode(b"#separator \\x09\n1.0\tx\n", "nofields.log");
    assert_eq!(summary.skipped["malformed Zeek line"].count, 1);
}

// ----- access logs and W3C -----

#[test]
fn access_log_lines_that_do_not_match_or_have_wrong_types() {
    let input = concat!(
        "1.2.3.4 - - [17/May/2015:10:05:03 +0000] \"GET / HTTP/1.1\" 200 10 \"-\" \"ua\"\n",
        "this is not an access log line\n",
        "1.2.3.4 - - [17/May/2015:10:05:03 +0000] \"GET / HTTP/1.1\" abc 10\n",
        "1.2.3.4 - - [17/May/2015:10:05:03 +0000] \"GET /unterminated HTTP/1.1 200 10\n",
        "1.2.3.4 - - [99/Foo/2015:10:05:03 +0000] \"GET / HTTP/1.1\" 200 -\n",
    );
    let (events, summary) = decode(input.as_bytes(), "access.log");
    assert_eq!(events.len(), 2, "{:?}", summary.skipped);
    assert_eq!(events[1].time(), None);
    assert_eq!(summary.warnings["unreadable time"].count, 1);
    assert_eq!(summary.skipped["malformed access-log line"].count, 2);
    assert_eq!(summary.skipped["wrong field type"].count, 1);
    assert!(
        summary.skipped["wrong field type"].examples[0].starts_with("access.log:3: field status")
    );

    let custom = IngestOptions {
        log_format: Some("%h %u %>s".into()),
        ..IngestOptions::default()
    };
    let (events, summary) = decode_with(
        b"10.0.0.1 bob 404\n10.0.0.1 bob 404 extra\n",
        "c.log",
        &custom,
    )
    .unwrap();
    assert_eq!(events.len(), 1, "{:?}", summary.skipped);
    assert_eq!(events[0].status(), Some(404));
}

#[test]
fn w3c_lines_with_wrong_counts() {
    let input = concat!(
        "#Software: Microsoft Internet Information Services 10.0\r\n",
        "#Fields: date time c-ip cs-method cs-uri-stem cs-uri-query sc-status cs(User-Agent)\r\n",
        "2019-09-03 10:13:36 10.0.2.17 GET /a.aspx q=1 200 Mozilla/5.0+(Windows)\r\n",
        "2019-09-03 10:13:36 10.0.2.17 GET /a.aspx\r\n",
        "2019-09-03 10:13:36 10.0.2.17 GET /a.aspx - two-hundred -\r\n",
    );
    let (events, summary) = decode(input.as_bytes(), "u_ex.log");
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].get(Field::UserAgent),
        Some("Mozilla/5.0 (Windows)")
    );
    assert_eq!(events[0].get(Field::Url), Some("/a.aspx?q=1"));
    assert_eq!(summary.skipped["wrong number of fields"].count, 1);
    assert_eq!(summary.skipped["wrong field type"].count, 1);
}

// ----- compression, empty input, missing input -----

#[test]
fn gzip_cut_short_keeps_what_was_read() {
    let lines: String = (0..20000).map(|_| format!("{SECURITY_4688}\n")).collect();
    let compressed = gzip(lines.as_bytes());
    let cut = &compressed[..compressed.len() / 2];
    let (events, summary) = decode(cut, "cut.jsonl.gz");
    assert!(
        events.len() > 1000 && events.len() < 20000,
        "{}",
        events.len()
    );
    let info = &summary.skipped["corrupt compressed stream"];
    assert_eq!(info.count, 1);
    assert!(
        info.examples[0].starts_with("cut.jsonl.gz byte "),
        "{:?}",
        info.examples
    );

    let err = decode_with(cut, "cut.jsonl.gz", &fail()).unwrap_err();
    assert!(err.to_string().contains("cut.jsonl.gz byte"), "{err}");

    // A compressed EVTX cut short: the chunks before the cut are read.
    let evtx = std::fs::read(format!("{DATA}/evtx_parser_samples/security.evtx.gz")).unwrap();
    let (_, summary) = decode(&evtx[..evtx.len() / 2], "s.evtx.gz");
    assert!(summary.records > 0);
    assert_eq!(summary.skipped_for("corrupt compressed stream"), 1);
}

#[test]
fn zstd_input_is_recognised() {
    let compressed = zstd::encode_all(SECURITY_4688.as_bytes(), 3).unwrap();
    let (events, summary) = decode(&compressed, "a.log");
    assert_eq!(events.len(), 1);
    assert_eq!(summary.bytes, SECURITY_4688.len() as u64);
}

#[test]
fn empty_inputs_are_not_errors() {
    for (bytes, name) in [
        (Vec::new(), "empty.log"),
        (b"\n\n  \n".to_vec(), "blank.jsonl"),
        (gzip(b""), "empty.json.gz"),
    ] {
        let (events, summary) = decode_with(&bytes, name, &fail()).unwrap();
        assert!(events.is_empty(), "{name}");
        assert_eq!(summary.files, 1);
        assert_eq!(summary.records, 0, "{name}");
    }
    // Binary noise is not guessed at.
    let (_, summary) = decode(b"\x00\x01\x02\x03binary", "blob");
    assert_eq!(summary.skipped_for("unrecognised format"), 1);
    let err = decode_with(b"\x00\x01\x02\x03binary", "blob", &fail()).unwrap_err();
    assert!(err.to_string().starts_with("blob: not EVTX"), "{err}");
}

#[test]
fn missing_inputs_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("README.md"), "docs").unwrap();
    std::fs::write(dir.path().join(".hidden.log"), "x").unwrap();
    let name = dir.path().display().to_string();
    let err = resolve_inputs(std::slice::from_ref(&name)).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("directory {name} contains no log files")
    );
    let pattern = format!("{name}/*.evtx");
    let err = resolve_inputs(std::slice::from_ref(&pattern)).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("pattern {pattern:?} matched no files")
    );
    let err = resolve_inputs(&[format!("{name}/nope.log")]).unwrap_err();
    assert!(err
        .to_string()
        .ends_with("nope.log: no such file or directory"));

    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("sub/b.jsonl"), format!("{SECURITY_4688}\n")).unwrap();
    std::fs::write(dir.path().join("a.jsonl"), format!("{SECURITY_4688}\n")).unwrap();
    let sources = resolve_inputs(&[name.clone(), format!("{name}/*.jsonl")]).unwrap();
    let names: Vec<String> = sources.iter().map(|s| s.name.replace(&name, "")).collect();
    assert_eq!(names, vec!["/a.jsonl", "/sub/b.jsonl", "/a.jsonl"]);

    // A file that disappears between resolution and reading.
    let gone = Sources::new(vec![Source::file(dir.path().join("gone.log"))]);
    let mut n = 0;
    let summary = read_events(&gone, &IngestOptions::default(), |_| {
        n += 1;
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(summary.skipped_for("unreadable file"), 1);
    assert!(read_events(&gone, &fail(), |_| ControlFlow::Continue(())).is_err());
}

#[test]
fn not_mapped_records_are_never_errors() {
    let input = concat!(
        r#"{"EventID": 4624, "Channel": "Security", "TargetUserName": "bob"}"#,
        "\n",
        r#"{"EventID": 11, "Channel": "Microsoft-Windows-Sysmon/Operational"}"#,
        "\n",
        r#"{"something": "else"}"#,
        "\n"
    );
    let (events, summary) = decode_with(input.as_bytes(), "x.jsonl", &fail()).unwrap();
    assert!(events.is_empty());
    assert_eq!(summary.skipped_for("not mapped: Security 4624"), 1);
    assert_eq!(summary.skipped_for("not mapped: Sysmon 11"), 1);
    assert_eq!(summary.skipped_for("not mapped: unrecognised record"), 1);
    assert_eq!(summary.errors(), 0);
}
