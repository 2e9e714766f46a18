//! Property tests: what a writer writes, the decoder reads back unchanged — Zeek TSV (values
//! escaped as Zeek escapes them), Apache/nginx access logs (quoted fields escaped as Apache
//! does), and JSON objects as `serde_json` writes them.

use oddhunt_ingest::{decode_records, Decoded, Format, IngestOptions, LogFormat, Record};
use proptest::prelude::*;
use std::ops::ControlFlow;

/// Decodes bytes and returns each record's top-level `(key, value)` pairs (`None` = unset),
/// failing on any issue or warning.
fn records(bytes: &[u8], options: &IngestOptions) -> Vec<Vec<(String, Option<String>)>> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    decode_records(bytes, "generated", options, |item| {
        match item {
            Decoded::Record(record, _) => out.push(fields(record)),
            Decoded::Issue(issue) => problems.push(issue.to_string()),
            Decoded::Warning(reason, _, detail) => problems.push(format!("{reason}: {detail}")),
        }
        ControlFlow::Continue(())
    })
    .expect("decodes");
    assert!(problems.is_empty(), "{problems:?}");
    out
}

fn fields(record: &Record) -> Vec<(String, Option<String>)> {
    record
        .top_level()
        .map(|id| {
            (
                record.key(id).to_string(),
                record.value(id).map(str::to_string),
            )
        })
        .collect()
}

/// Escapes a string value as Zeek's ASCII writer does.
fn zeek_escape(value: &str) -> String {
    if value.is_empty() {
        return "(empty)".into();
    }
    if value == "-" {
        return "\\x2d".into();
    }
    let mut out = String::new();
    for (i, c) in value.chars().enumerate() {
        match c {
            '\\' => out.push_str("\\x5c"),
            '\t' => out.push_str("\\x09"),
            '(' if i == 0 && value == "(empty)" => out.push_str("\\x28"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

fn zeek_value() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        1 => Just(None),
        1 => Just(Some(String::new())),
        1 => Just(Some("-".to_string())),
        1 => Just(Some("(empty)".to_string())),
        8 => "[a-z0-9.\\-_ \t,\\\\é☃\u{1}\n]{1,16}".prop_map(Some),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn zeek_tsv_round_trips(
        rows in prop::collection::vec(
            (0u64..4_000_000_000, 0u32..65536, prop::collection::vec(zeek_value(), 3)),
            1..20,
        )
    ) {
        let mut text = String::from(
            "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n\
             #path\ttest\n#fields\tts\tid.orig_p\ta\tb\tc\n#types\ttime\tport\tstring\tstring\tstring\n",
        );
        for (ts, port, values) in &rows {
            text.push_str(&format!("{ts}.{:06}\t{port}", port % 1_000_000));
            for v in values {
                text.push('\t');
                match v {
                    None => text.push('-'),
                    Some(v) => text.push_str(&zeek_escape(v)),
                }
            }
            text.push('\n');
        }
        text.push_str("#close\t2020-01-01-00-00-00\n");
        let decoded = records(text.as_bytes(), &IngestOptions::default());
        prop_assert_eq!(decoded.len(), rows.len());
        for (got, (ts, port, values)) in decoded.iter().zip(&rows) {
            prop_assert_eq!(got.len(), 5);
            let want_ts = format!("{ts}.{:06}", port % 1_000_000);
            let want_port = port.to_string();
            prop_assert_eq!(got[0].1.as_deref(), Some(want_ts.as_str()));
            prop_assert_eq!(got[1].1.as_deref(), Some(want_port.as_str()));
            for (i, v) in values.iter().enumerate() {
                prop_assert_eq!(&got[2 + i].1, v);
            }
        }
    }

    #[test]
    fn combined_access_log_round_trips(
        rows in prop::collection::vec(
            (
                (any::<[u8; 4]>(), "[a-z]{1,8}|-", 1u32..29, 0usize..12, 1990u32..2037),
                (0u32..24, 0u32..60, 0u32..60, -12i32..14),
                "[ -~é☃\"\\\\\u{1}\n]{0,40}",
                100u32..600,
                prop_oneof![Just("-".to_string()), (0u64..10_000_000).prop_map(|b| b.to_string())],
                "[ -~é\"\\\\]{0,30}",
                "[ -~é\"\\\\]{0,60}",
            ),
            1..20,
        )
    ) {
        const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
        let format = LogFormat::combined();
        let mut text = String::new();
        let mut expected = Vec::new();
        for ((ip, user, day, month, year), (h, m, s, zone), request, status, bytes, referer, agent) in &rows {
            let ip = format!("{}.{}.{}.{}", ip[0], ip[1], ip[2], ip[3]);
            let time = format!(
                "[{day:02}/{}/{year}:{h:02}:{m:02}:{s:02} {}{:02}00]",
                MONTHS[*month],
                if *zone < 0 { '-' } else { '+' },
                zone.abs()
            );
            let status = status.to_string();
            let values = [ip.as_str(), "-", user, &time, request, &status, bytes, referer, agent];
            text.push_str(&format.format_line(&values));
            text.push('\n');
            expected.push(values.iter().map(|v| v.to_string()).collect::<Vec<_>>());
        }
        let options = IngestOptions { format: Some(Format::AccessLog), ..IngestOptions::default() };
        let decoded = records(text.as_bytes(), &options);
        prop_assert_eq!(decoded.len(), expected.len());
        for (got, want) in decoded.iter().zip(&expected) {
            let got: Vec<String> = got.iter().map(|(_, v)| v.clone().unwrap_or_default()).collect();
            prop_assert_eq!(&got, want);
        }
        // The same lines through an explicit nginx format string.
        let nginx = IngestOptions {
            log_format: Some(
                r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#.into(),
            ),
            ..IngestOptions::default()
        };
        let decoded = records(text.as_bytes(), &nginx);
        prop_assert_eq!(decoded.len(), expected.len());
        for (got, want) in decoded.iter().zip(&expected) {
            prop_assert_eq!(got[2].1.as_deref(), Some(want[3].trim_start_matches('[').trim_end_matches(']')));
            prop_assert_eq!(got[3].1.as_deref(), Some(want[4].as_str()));
            prop_assert_eq!(got[7].1.as_deref(), Some(want[8].as_str()));
        }
    }

    #[test]
    fn json_lines_written_by_serde_json_read_back(
        objects in prop::collection::vec(
            prop::collection::btree_map("[A-Za-z_.@ é]{1,8}", "\\PC{0,20}", 1..8),
            1..10,
        )
    ) {
        let text: String = objects
            .iter()
            .map(|o| serde_json::to_string(o).unwrap() + "\n")
            .collect();
        let options = IngestOptions { format: Some(Format::Json), ..IngestOptions::default() };
        let decoded = records(text.as_bytes(), &options);
        prop_assert_eq!(decoded.len(), objects.len());
        for (got, want) in decoded.iter().zip(&objects) {
            let want: Vec<(String, Option<String>)> =
                want.iter().map(|(k, v)| (k.clone(), Some(v.clone()))).collect();
            prop_assert_eq!(got, &want);
        }
    }
}
