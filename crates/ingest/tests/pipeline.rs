//! The run as a whole: stable order whatever the thread count, early stop, forced formats and
//! profiles, `--map`, and extras on or off.

use oddhunt_core::{Event, EventKind, Field, Locator};
use oddhunt_ingest::{
    read_events, resolve_inputs, Format, IngestOptions, IngestSummary, Mapping, Sources,
};
use std::ops::ControlFlow;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

fn run(sources: &Sources, options: &IngestOptions) -> (Vec<Event>, IngestSummary) {
    let mut events = Vec::new();
    let summary = read_events(sources, options, |e| {
        events.push(e);
        ControlFlow::Continue(())
    })
    .unwrap();
    (events, summary)
}

fn line(event: &Event) -> u64 {
    match event.provenance().locator {
        Locator::Line(n) | Locator::Record(n) => n,
    }
}

#[test]
fn order_is_source_then_record_whatever_the_threads() {
    let dir = tempfile::tempdir().unwrap();
    let mut names = Vec::new();
    for i in 0..40 {
        let name = dir.path().join(format!("f{i:02}.jsonl"));
        let lines: String = (0..(i * 37 % 300 + 1))
            .map(|j| {
                format!(
                    "{{\"ts\": {}.5, \"uid\": \"C{j}\", \"id.orig_h\": \"10.0.0.{i}\", \"query\": \"q{j}.f{i}.example\", \"qtype_name\": \"A\"}}\n",
                    1_600_000_000 + j
                )
            })
            .collect();
        std::fs::write(&name, lines).unwrap();
        names.push(name.display().to_string());
    }
    let sources = resolve_inputs(&names).unwrap();
    let one = IngestOptions {
        threads: 1,
        ..IngestOptions::default()
    };
    let four = IngestOptions {
        threads: 4,
        ..IngestOptions::default()
    };
    let (a, summary_a) = run(&sources, &one);
    let (b, summary_b) = run(&sources, &four);
    assert_eq!(a, b);
    assert_eq!(summary_a, summary_b);
    assert_eq!(summary_a.files, 40);
    // Grouped by source in input order, lines ascending within each.
    let mut previous: Option<(String, u64)> = None;
    for event in &a {
        let source = event.provenance().source.to_string();
        let n = line(event);
        if let Some((ps, pn)) = &previous {
            if *ps == source {
                assert!(n > *pn);
            } else {
                assert!(source > *ps, "{source} after {ps}");
            }
        }
        previous = Some((source, n));
    }
    assert_eq!(a.len() as u64, summary_a.events());
    assert_eq!(
        summary_a.events_by_kind[&EventKind::DnsQuery],
        a.len() as u64
    );
}

#[test]
fn a_single_evtx_file_parsed_on_several_threads_gives_the_same_events() {
    let sources = resolve_inputs(&[format!("{DATA}/evtx_parser_samples/sysmon.evtx.gz")]).unwrap();
    let (a, sa) = run(
        &sources,
        &IngestOptions {
            threads: 1,
            ..IngestOptions::default()
        },
    );
    let (b, sb) = run(
        &sources,
        &IngestOptions {
            threads: 3,
            ..IngestOptions::default()
        },
    );
    assert_eq!(a.len(), 229);
    assert_eq!(a, b);
    assert_eq!(sa, sb);
}

#[test]
fn the_sink_can_stop_the_run() {
    let sources = resolve_inputs(&[
        format!("{DATA}/zeek_dns/rita/proxy"),
        format!("{DATA}/evtx_attack_samples/evtx"),
    ])
    .unwrap();
    let mut seen = 0;
    let summary = read_events(&sources, &IngestOptions::default(), |_| {
        seen += 1;
        if seen == 10 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .unwrap();
    assert_eq!(seen, 10);
    assert!(summary.files < sources.len() as u64);
}

#[test]
fn extras_can_be_left_out() {
    let sources = resolve_inputs(&[format!("{DATA}/zeek_dns/zat/dns.log")]).unwrap();
    let (with, _) = run(&sources, &IngestOptions::default());
    let (without, _) = run(
        &sources,
        &IngestOptions {
            keep_extra: false,
            ..IngestOptions::default()
        },
    );
    assert!(with[0].extra().len() > 5);
    assert_eq!(with[0].extra_field("uid"), Some("CZGShC2znK1sV7jdI7"));
    assert_eq!(without[0].extra().len(), 0);
    assert_eq!(with[0].get(Field::Query), without[0].get(Field::Query));
}

#[test]
fn forced_profile_format_and_mapping() {
    let dir = tempfile::tempdir().unwrap();
    // A SIEM export without EventID: force the 4688 profile.
    let csv = dir.path().join("export.txt");
    std::fs::write(
        &csv,
        "Computer;SubjectUserName;NewProcessName;CommandLine;TimeGenerated\n\
         WS1;bob;C:\\x.exe;x.exe /y;4/18/2020 4:50:30 AM\n",
    )
    .unwrap();
    let sources = resolve_inputs(&[csv.display().to_string()]).unwrap();
    let options = IngestOptions {
        format: Some(Format::Csv),
        profile: Some("security-4688".into()),
        ..IngestOptions::default()
    };
    let (events, _) = run(&sources, &options);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].get(Field::CommandLine), Some("x.exe /y"));
    assert_eq!(events[0].get(Field::User), Some("bob"));
    assert_eq!(
        events[0].time().unwrap().to_string(),
        "2020-04-18T04:50:30Z"
    );

    // --map with nested JSON paths and parameters held as JSON text.
    let json = dir.path().join("custom.json");
    std::fs::write(
        &json,
        r#"[{"actor": {"name": "alice", "ip": "10.1.1.1"}, "op": "Set-Mailbox", "when": "2020-01-02T03:04:05Z", "args": "[{\"Name\": \"Identity\", \"Value\": \"bob\"}, {\"Name\": \"Force\"}]"},
            {"actor": {"name": "bob"}, "op": "Get-Mailbox", "when": "garbage"}]"#,
    )
    .unwrap();
    let sources = resolve_inputs(&[json.display().to_string()]).unwrap();
    let options = IngestOptions {
        mapping: Some(
            Mapping::parse(
                "kind=command,user=actor.name,source_ip=actor.ip,operation=op,time=when,params=args",
            )
            .unwrap(),
        ),
        ..IngestOptions::default()
    };
    let (events, summary) = run(&sources, &options);
    assert_eq!(events.len(), 2);
    let e = &events[0];
    assert_eq!(e.kind(), EventKind::Command);
    assert_eq!(e.get(Field::User), Some("alice"));
    assert_eq!(e.get(Field::SourceIp), Some("10.1.1.1"));
    let params: Vec<_> = e.params().map(|p| (p.name, p.value)).collect();
    assert_eq!(params, vec![("Identity", Some("bob")), ("Force", None)]);
    assert_eq!(events[1].provenance().locator, Locator::Record(2));
    assert_eq!(events[1].time(), None);
    assert_eq!(summary.warnings["unreadable time"].count, 1);
    assert!(summary.warnings["unreadable time"].examples[0]
        .contains("custom.json record 2: field when"));
}
