//! Every sample under `../shared/data` parses, with the counts its README (or manifest) gives,
//! and the mapped fields agree with the reference extractions made with the Python `evtx`
//! package (pyevtx-rs) that ship with the data.

use oddhunt_core::{Event, EventKind, Field, Locator};
use oddhunt_ingest::{
    read_events, resolve_inputs, IngestOptions, IngestSummary, Mapping, OnError, Sources,
};
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::ops::ControlFlow;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

fn path(rel: &str) -> String {
    format!("{DATA}/{rel}")
}

fn ingest_with(inputs: &[&str], options: &IngestOptions) -> (Vec<Event>, IngestSummary) {
    let inputs: Vec<String> = inputs.iter().map(|p| path(p)).collect();
    let sources = resolve_inputs(&inputs).expect("inputs resolve");
    collect(&sources, options)
}

fn collect(sources: &Sources, options: &IngestOptions) -> (Vec<Event>, IngestSummary) {
    let mut events = Vec::new();
    let summary = read_events(sources, options, |e| {
        events.push(e);
        ControlFlow::Continue(())
    })
    .expect("ingestion succeeds");
    (events, summary)
}

fn ingest(inputs: &[&str]) -> (Vec<Event>, IngestSummary) {
    ingest_with(inputs, &IngestOptions::default())
}

fn kind_count(summary: &IngestSummary, kind: EventKind) -> u64 {
    summary.events_by_kind.get(&kind).copied().unwrap_or(0)
}

/// Reads a (gzip-compressed) CSV of the data folder into header-keyed rows.
fn csv_rows(rel: &str) -> Vec<HashMap<String, String>> {
    let raw = std::fs::read(path(rel)).expect("reference file");
    let mut text = Vec::new();
    if raw.starts_with(&[0x1f, 0x8b]) {
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut text)
            .expect("gzip");
    } else {
        text = raw;
    }
    let mut reader = csv::Reader::from_reader(&text[..]);
    let headers = reader.headers().expect("header").clone();
    reader
        .records()
        .map(|r| {
            let r = r.expect("row");
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn record_of(event: &Event) -> u64 {
    match event.provenance().locator {
        Locator::Record(n) | Locator::Line(n) => n,
    }
}

/// The user as the reference extractions write it: `DOMAIN\user`.
fn account(event: &Event) -> String {
    match (event.get(Field::Domain), event.get(Field::User)) {
        (Some(d), Some(u)) => format!("{d}\\{u}"),
        (None, Some(u)) => u.to_string(),
        _ => String::new(),
    }
}

#[test]
fn evtx_attack_samples_match_the_manifest() {
    let manifest = csv_rows("evtx_attack_samples/manifest.csv");
    assert_eq!(manifest.len(), 163);
    let options = IngestOptions {
        keep_extra: false,
        threads: 2,
        ..IngestOptions::default()
    };
    let mut total_records = 0;
    let mut total_process = 0;
    for row in &manifest {
        let file = &row["file"];
        let (events, summary) = ingest_with(&[&format!("evtx_attack_samples/{file}")], &options);
        let records: u64 = row["records"].parse().unwrap();
        let process: u64 = row["process_creation_events"].parse().unwrap();
        assert_eq!(summary.records, records, "{file}: records");
        assert_eq!(summary.errors(), 0, "{file}: {:?}", summary.skipped);
        assert_eq!(
            kind_count(&summary, EventKind::ProcessStart),
            process,
            "{file}: process creations"
        );
        assert_eq!(summary.events(), events.len() as u64);
        total_records += records;
        total_process += process;
    }
    // README: 1,533 process-creation events (1,491 Sysmon 1, 42 Security 4688).
    assert_eq!(total_records, 3160);
    assert_eq!(total_process, 1533);
}

#[test]
fn evtx_attack_samples_agree_with_the_reference_extraction() {
    let (events, summary) = ingest(&["evtx_attack_samples/evtx"]);
    assert_eq!(summary.files, 163);
    assert_eq!(summary.records, 3160);
    assert_eq!(kind_count(&summary, EventKind::ProcessStart), 1533);
    let sysmon1 = events
        .iter()
        .filter(|e| e.get(Field::EventCode) == Some("1"))
        .count();
    assert_eq!(sysmon1, 1491);
    // Sysmon 3 network connections: every one becomes an event.
    assert_eq!(kind_count(&summary, EventKind::NetworkConnection), 164);
    assert!(summary.skipped_for("not mapped: Sysmon 7") > 0);

    // The reference names files by their original path; index ours by (file stem, record id).
    let ours: HashMap<(String, u64), &Event> = events
        .iter()
        .filter(|e| e.kind() == EventKind::ProcessStart)
        .map(|e| {
            let source = e.provenance().source.to_string();
            let name = source
                .rsplit('/')
                .next()
                .unwrap_or("")
                .trim_end_matches(".gz")
                .to_string();
            ((name, record_of(e)), e)
        })
        .collect();
    let reference = csv_rows("evtx_attack_samples/process_creation_extracted.csv.gz");
    assert_eq!(reference.len(), 1533);
    for row in &reference {
        let name = row["source_file"].replace('/', "__").replace(' ', "_");
        let id: u64 = row["record_id"].parse().unwrap();
        let event = ours
            .get(&(name.clone(), id))
            .unwrap_or_else(|| panic!("no event for {name} record {id}"));
        let text = |f: Field| event.get(f).unwrap_or("").to_string();
        // Ingestion reads Windows' `-` ("no value") as absent.
        let theirs = |column: &str| match row[column].as_str() {
            "-" => String::new(),
            other => other.to_string(),
        };
        assert_eq!(
            text(Field::ProcessPath),
            theirs("image"),
            "{name} {id} image"
        );
        assert_eq!(
            text(Field::CommandLine),
            theirs("command_line"),
            "{name} {id}"
        );
        assert_eq!(
            text(Field::ParentPath),
            theirs("parent_image"),
            "{name} {id} parent"
        );
        assert_eq!(
            text(Field::Host),
            theirs("computer"),
            "{name} {id} computer"
        );
        assert_eq!(text(Field::EventCode), theirs("event_id"), "{name} {id} id");
        if row["event_id"] == "1" {
            assert_eq!(account(event), theirs("user"), "{name} {id} user");
            assert_eq!(
                text(Field::ParentCommandLine),
                theirs("parent_command_line")
            );
        } else {
            // 4688: the subject, unless it is a machine account and the target a real user.
            let target = row["target_user"].rsplit('\\').next().unwrap_or("");
            let subject_is_machine = row["user"].ends_with('$');
            let target_is_person = !target.is_empty() && target != "-" && !target.ends_with('$');
            let expected = if subject_is_machine && target_is_person {
                row["target_user"].clone()
            } else {
                row["user"].clone()
            };
            assert_eq!(account(event), expected, "{name} {id} 4688 user");
        }
    }
}

#[test]
fn evtx_parser_samples_keep_records_before_the_corrupt_chunk() {
    for (file, records) in [
        ("Security_short_selected.evtx", 7),
        ("new-user-security.evtx", 4),
        ("security.evtx.gz", 2261),
        ("system.evtx.gz", 1881),
    ] {
        let (_, summary) = ingest(&[&format!("evtx_parser_samples/{file}")]);
        assert_eq!(summary.records, records, "{file}");
        assert_eq!(summary.errors(), 0, "{file}");
        assert_eq!(summary.events(), 0, "{file}: no 4688/Sysmon in these logs");
    }
    let (_, summary) = ingest(&["evtx_parser_samples/security.evtx.gz"]);
    assert_eq!(summary.skipped_for("not mapped: Security 4624"), 583);
    assert_eq!(summary.skipped_for("not mapped: Security 4907"), 620);

    let (events, summary) = ingest(&["evtx_parser_samples/sysmon.evtx.gz"]);
    assert_eq!(summary.records, 358);
    assert_eq!(kind_count(&summary, EventKind::ProcessStart), 227);
    // Chunk 9 and the seven after it are not EVTX chunks (see the report): each is reported.
    let corrupt = &summary.skipped["corrupt EVTX chunk"];
    assert_eq!(corrupt.count, 8);
    assert!(
        corrupt.examples[0].contains("sysmon.evtx.gz chunk 9"),
        "{:?}",
        corrupt.examples
    );
    assert_eq!(summary.bytes, 1_118_208);

    let reference = csv_rows("evtx_parser_samples/sysmon_process_creation_extracted.csv.gz");
    let by_id: HashMap<u64, &Event> = events
        .iter()
        .filter(|e| e.kind() == EventKind::ProcessStart)
        .map(|e| (record_of(e), e))
        .collect();
    assert_eq!(reference.len(), 227);
    for row in &reference {
        let id: u64 = row["record_id"].parse().unwrap();
        let e = by_id[&id];
        assert_eq!(e.get(Field::CommandLine).unwrap_or(""), row["command_line"]);
        assert_eq!(e.get(Field::ProcessPath).unwrap_or(""), row["image"]);
        assert_eq!(account(e), row["user"]);
        assert_eq!(e.get(Field::ProcessId).unwrap_or(""), row["process_id"]);
        let reference_time = row["timestamp"].trim_end_matches(" UTC");
        assert_eq!(e.time().unwrap().to_string(), reference_time, "record {id}");
    }
}

#[test]
fn otrf_security_datasets() {
    let (events, summary) = ingest(&["otrf_security_datasets/process_creation.jsonl.gz"]);
    assert_eq!(summary.records, 1678);
    assert_eq!(kind_count(&summary, EventKind::ProcessStart), 1678);
    assert_eq!(summary.errors(), 0);
    let by_code = |code: &str| {
        events
            .iter()
            .filter(|e| e.get(Field::EventCode) == Some(code))
            .count()
    };
    assert_eq!(by_code("4688"), 632);
    assert_eq!(by_code("1"), 1046);
    assert!(events.iter().all(|e| e.time().is_some()));
    assert!(events.iter().all(|e| e.get(Field::ProcessPath).is_some()));

    // The heuristic-label view lists the same events (dataset order): same command lines.
    let labels = csv_rows("otrf_security_datasets/process_creation_heuristic_labels.csv.gz");
    let mut ours: Vec<&str> = events
        .iter()
        .map(|e| e.get(Field::CommandLine).unwrap_or(""))
        .collect();
    let mut theirs: Vec<&str> = labels.iter().map(|r| r["command_line"].as_str()).collect();
    ours.sort_unstable();
    theirs.sort_unstable();
    assert_eq!(ours, theirs);

    // 4688 user choice: a machine-account subject with a real target means the target.
    let runtime_broker = events
        .iter()
        .find(|e| {
            e.get(Field::EventCode) == Some("4688")
                && e.extra_field("SubjectUserName") == Some("WORKSTATION5$")
                && e.get(Field::User) == Some("wardog")
        })
        .expect("a 4688 whose subject is the machine account and target a user");
    assert_eq!(runtime_broker.get(Field::Domain), Some("WORKSTATION5"));

    let (events, summary) = ingest(&["otrf_security_datasets/sysmon3_network.jsonl.gz"]);
    assert_eq!(kind_count(&summary, EventKind::NetworkConnection), 3614);
    assert_eq!(summary.records, 3614);
    let e = &events[0];
    assert_eq!(
        e.get(Field::ProcessPath),
        Some(r"C:\Windows\System32\dns.exe")
    );
    assert_eq!(e.get(Field::SourcePort), Some("53"));
    assert_eq!(e.get(Field::Transport), Some("udp"));
    assert_eq!(e.get(Field::DestinationHost), None, "`-` is no host");
}

#[test]
fn msticpy_demo_data() {
    let (events, summary) = ingest(&["msticpy_demo_data/demo_exchange_data.csv.gz"]);
    assert_eq!(summary.records, 1334);
    assert_eq!(kind_count(&summary, EventKind::Command), 1334);
    let first = &events[0];
    assert_eq!(
        first.get(Field::Operation),
        Some("Set-ConditionalAccessPolicy")
    );
    let names: Vec<&str> = first.params().map(|p| p.name).collect();
    assert_eq!(
        names,
        vec![
            "Identity",
            "PolicyDetails",
            "PolicyLastUpdatedTime",
            "TenantDefaultPolicy",
            "DisplayName",
            "PolicyIdentifierString"
        ]
    );
    assert_eq!(first.provenance().locator, Locator::Line(2));
    // Multi-line rows: each event names the line its row starts on.
    assert!(matches!(events[1].provenance().locator, Locator::Line(n) if n > 20));
    let operations: std::collections::BTreeSet<&str> = events
        .iter()
        .filter_map(|e| e.get(Field::Operation))
        .collect();
    assert_eq!(operations.len(), 22, "README: 22 distinct cmdlets");
    assert!(events
        .iter()
        .filter_map(|e| e.get(Field::SourceIp))
        .all(|ip| !ip.contains("]:") && !ip.starts_with('[')));

    for (file, n) in [
        ("processes_on_host.csv.gz", 363),
        ("process_tree.csv.gz", 117),
        ("win_proc_test.csv.gz", 1000),
    ] {
        let (events, summary) = ingest(&[&format!("msticpy_demo_data/{file}")]);
        assert_eq!(kind_count(&summary, EventKind::ProcessStart), n, "{file}");
        assert_eq!(summary.records, n, "{file}");
        assert!(events
            .iter()
            .all(|e| e.get(Field::Host) == Some("MSTICAlertsWin1")));
        assert!(events.iter().all(|e| e.get(Field::ProcessPath).is_some()));
    }
    let (events, _) = ingest(&["msticpy_demo_data/processes_on_host.csv.gz"]);
    let e = &events[0];
    assert_eq!(e.get(Field::User), Some("MSTICAlertsWin1$"));
    assert_eq!(e.get(Field::Domain), Some("WORKGROUP"));
    assert_eq!(e.get(Field::ProcessId), Some("5648"), "0x1610");
    assert_eq!(e.time().unwrap().to_string(), "2019-01-15T05:24:24.01Z");

    let (_, summary) = ingest(&["msticpy_demo_data/host_logons.csv.gz"]);
    assert_eq!(summary.records, 14);
    assert_eq!(summary.skipped_for("not mapped: Security 4624"), 14);
    assert_eq!(summary.errors(), 0);
}

#[test]
fn commandline_labelled_by_map_and_by_field_names() {
    let mapping = Mapping::parse(
        "kind=process,command_line=command_line,user=user,host=host,process_path=image,\
         parent_path=parent_image,parent_command_line=parent_command_line,time=timestamp",
    )
    .unwrap();
    let options = IngestOptions {
        mapping: Some(mapping),
        ..IngestOptions::default()
    };
    let (mapped, summary) = ingest_with(
        &["commandline_labelled/cmdline_dev_labelled.csv.gz"],
        &options,
    );
    assert_eq!(summary.records, 4211);
    assert_eq!(kind_count(&summary, EventKind::ProcessStart), 4211);
    let labels: BTreeMap<&str, usize> = mapped.iter().fold(BTreeMap::new(), |mut m, e| {
        *m.entry(e.extra_field("label").unwrap_or("")).or_default() += 1;
        m
    });
    // README: 1,577 benign, 1,689 malicious, 945 unknown.
    assert_eq!(labels.get("benign"), Some(&1577));
    assert_eq!(labels.get("malicious"), Some(&1689));
    assert_eq!(labels.get("unknown"), Some(&945));

    // Without a mapping, the columns already are oddhunt field names.
    let (auto, summary) = ingest(&["commandline_labelled/cmdline_dev_labelled.csv.gz"]);
    assert_eq!(kind_count(&summary, EventKind::ProcessStart), 4211);
    for (a, b) in auto.iter().zip(&mapped) {
        assert_eq!(a.get(Field::CommandLine), b.get(Field::CommandLine));
        assert_eq!(a.get(Field::ProcessPath), b.get(Field::ProcessPath));
        assert_eq!(a.time(), b.time());
    }

    let (_, summary) = ingest(&["commandline_labelled/lolbas_commands.csv.gz"]);
    assert_eq!(summary.records, 482);
    assert_eq!(summary.events(), 0);
    assert_eq!(summary.not_mapped(), 482);
}

#[test]
fn zeek_logs() {
    for (file, kind, n) in [
        ("zat/dns.log", EventKind::DnsQuery, 54),
        ("zat/json/dns.log", EventKind::DnsQuery, 50),
        ("zat/http.log", EventKind::HttpRequest, 150),
        ("zat/conn.log", EventKind::NetworkConnection, 360),
        ("rita/proxy/dns.log.gz", EventKind::DnsQuery, 942),
        (
            "rita/proxy/dns.16_00_00-17_00_00.log.gz",
            EventKind::DnsQuery,
            3189,
        ),
        ("rita/json_with_all_fields/dns.log", EventKind::DnsQuery, 34),
        (
            "stratosphere/005-simda-dga/dns.log.gz",
            EventKind::DnsQuery,
            992,
        ),
        (
            "stratosphere/010-mixed/dns.log.labeled",
            EventKind::DnsQuery,
            8,
        ),
        (
            "stratosphere/011-mixed/dns.log.labeled",
            EventKind::DnsQuery,
            4,
        ),
        (
            "stratosphere/012-mixed/dns.log.labeled",
            EventKind::DnsQuery,
            12,
        ),
        ("otrf_apt29/day1_NASHUA_dns.log", EventKind::DnsQuery, 21),
        ("otrf_apt29/day1_SCRANTON_dns.log", EventKind::DnsQuery, 32),
        ("otrf_apt29/day2_NEWYORK_dns.log", EventKind::DnsQuery, 153),
        ("otrf_apt29/day2_SCRANTON_dns.log", EventKind::DnsQuery, 18),
        ("otrf_apt29/day2_UTICA-A_dns.log", EventKind::DnsQuery, 58),
        ("otrf_apt29/day2_UTICA-D_dns.log", EventKind::DnsQuery, 13),
    ] {
        let (events, summary) = ingest(&[&format!("zeek_dns/{file}")]);
        assert_eq!(summary.records, n, "{file}");
        assert_eq!(kind_count(&summary, kind), n, "{file}");
        assert_eq!(summary.errors(), 0, "{file}");
        assert!(events.iter().all(|e| e.time().is_some()), "{file}");
        assert!(
            events.iter().all(|e| e.get(Field::SourceIp).is_some()),
            "{file}"
        );
    }

    let (events, _) = ingest(&["zeek_dns/zat/dns.log"]);
    let e = &events[1];
    assert_eq!(e.get(Field::Query), Some("www.guyspy.com"));
    assert_eq!(e.get(Field::QueryType), Some("A"));
    assert_eq!(e.get(Field::ResponseCode), Some("NOERROR"));
    assert_eq!(e.get(Field::Answers), Some("guyspy.com,54.245.228.191"));
    assert_eq!(e.time().unwrap().to_string(), "2013-09-15T23:44:27.696869Z");
    assert_eq!(e.provenance().locator, Locator::Line(10));

    let (events, _) = ingest(&["zeek_dns/otrf_apt29/day1_NASHUA_dns.log"]);
    assert_eq!(
        events[0].get(Field::SourceIp),
        Some("10.0.1.6"),
        "id_orig_h spelling"
    );
    assert_eq!(events[0].get(Field::Answers), Some("10.0.0.4"));

    let (events, _) = ingest(&["zeek_dns/stratosphere/010-mixed/dns.log.labeled"]);
    assert_eq!(events[0].extra_field("label"), Some("Malicious"));
    assert_eq!(
        events[0].extra_field("detailedlabel"),
        Some("External-Attack-to-Device")
    );
    assert_eq!(events[0].get(Field::ResponseCode), None, "unset rcode");

    let (events, _) = ingest(&["zeek_dns/zat/http.log"]);
    assert_eq!(events[0].get(Field::Host), Some("guyspy.com"));
    assert_eq!(events[0].status(), Some(301));
    assert_eq!(events[0].bytes(), Some(184));

    let (_, summary) =
        ingest(&["zeek_dns/netrack_labelled_dns_messages/dns_messages_labelled.csv.gz"]);
    assert_eq!(summary.records, 10545);
    assert_eq!(
        summary.not_mapped(),
        10545,
        "not Zeek: per-message features"
    );
}

#[test]
fn web_access_logs() {
    let (events, summary) =
        ingest(&["web_access_logs/elastic_apache_logs/apache_logs_2015-05-17_18.log.gz"]);
    assert_eq!(summary.records, 4525);
    assert_eq!(kind_count(&summary, EventKind::HttpRequest), 4525);
    assert_eq!(summary.formats.get("access"), Some(&1));
    let e = &events[0];
    assert_eq!(e.get(Field::SourceIp), Some("83.149.9.216"));
    assert_eq!(e.get(Field::Method), Some("GET"));
    assert_eq!(
        e.get(Field::Url),
        Some("/presentations/logstash-monitorama-2013/images/kibana-search.png")
    );
    assert_eq!(e.status(), Some(200));
    assert_eq!(e.bytes(), Some(203023));
    assert_eq!(e.time().unwrap().to_string(), "2015-05-17T10:05:03Z");
    assert!(e
        .get(Field::UserAgent)
        .unwrap()
        .starts_with("Mozilla/5.0 (Macintosh"));

    let (events, summary) =
        ingest(&["web_access_logs/evtx_attack_samples_webshell/web_attack_and_isp_webshell_localhost_access_log.txt.gz"]);
    assert_eq!(summary.records, 2661);
    assert_eq!(kind_count(&summary, EventKind::HttpRequest), 2661);
    assert_eq!(summary.errors(), 0);
    // One request line holds raw TLS bytes: kept, with its invalid UTF-8 replaced and counted.
    assert_eq!(summary.warnings["invalid UTF-8 replaced"].count, 1);
    assert!(
        events.iter().all(|e| e.get(Field::UserAgent).is_none()),
        "common format"
    );

    // IIS: 4,308 lines = 9 directive/comment lines + 1 blank line + 4,298 requests.
    let (events, summary) =
        ingest(&["web_access_logs/evtx_attack_samples_webshell/Tunna_rdp_tunnel_IIS.log.gz"]);
    assert_eq!(summary.formats.get("w3c"), Some(&1));
    assert_eq!(summary.records, 4298);
    assert_eq!(kind_count(&summary, EventKind::HttpRequest), 4298);
    assert_eq!(
        events[0].get(Field::Url),
        Some("/erp/conn.aspx?proxy&port=3389&ip=127.0.0.1")
    );
    assert_eq!(events[0].get(Field::SourceIp), Some("10.0.2.17"));
    assert_eq!(events[0].provenance().locator, Locator::Line(7));
}

#[test]
fn cloudtrail_and_office() {
    let (events, summary) =
        ingest(&["cloudtrail_office/otrf_aws_ec2_proxy_s3_exfiltration/ec2_proxy_s3_exfiltration_2020-09-14011940.json.gz"]);
    assert_eq!(summary.records, 103);
    assert_eq!(kind_count(&summary, EventKind::Command), 103);
    let users: BTreeMap<&str, usize> = events.iter().fold(BTreeMap::new(), |mut m, e| {
        *m.entry(e.get(Field::User).unwrap_or("")).or_default() += 1;
        m
    });
    assert_eq!(users.get("pedro"), Some(&87));
    // Assumed-role sessions are named by the arn's last part (the instance id).
    assert_eq!(users.get("i-0317f6c6b66ae9c40"), Some(&11));
    assert_eq!(users.values().sum::<usize>(), 103);
    let first = &events[0];
    assert_eq!(first.get(Field::Operation), Some("DescribeInstanceTypes"));
    assert_eq!(first.get(Field::Provider), Some("ec2.amazonaws.com"));
    let params: Vec<_> = first.params().collect();
    assert_eq!(params.len(), 1);
    assert_eq!(params[0].name, "DescribeInstanceTypesRequest");
    assert!(params[0].value.unwrap().starts_with("{\"NextToken\":"));

    let (events, summary) =
        ingest(&["cloudtrail_office/otrf_aws_s3_honeybucketlogs/AWS_S3_HoneyBucketLogs.csv.gz"]);
    assert_eq!(summary.records, 301);
    assert_eq!(kind_count(&summary, EventKind::Command), 301);
    let e = &events[0];
    assert_eq!(e.get(Field::Operation), Some("ListObjects"));
    assert_eq!(e.get(Field::User), Some("ANONYMOUS_PRINCIPAL"));
    assert_eq!(e.get(Field::SourceIp), Some("177.131.167.145"));
    let params: Vec<_> = e.params().map(|p| (p.name, p.value)).collect();
    assert_eq!(
        params,
        vec![
            ("bucketName", Some("microsoft-devtest")),
            ("Host", Some("microsoft-devtest.s3-eu-west-1.amazonaws.com"))
        ]
    );

    let (events, summary) = ingest(&["cloudtrail_office/otrf_goldensaml_adfs_mail_access"]);
    assert_eq!(summary.files, 3);
    assert_eq!(summary.records, 14);
    assert_eq!(kind_count(&summary, EventKind::Command), 5);
    assert_eq!(
        summary.not_mapped(),
        9,
        "Microsoft 365 Defender hunting rows"
    );
    let office = events
        .iter()
        .find(|e| e.get(Field::Operation) == Some("MailItemsAccessed"))
        .unwrap();
    assert_eq!(office.get(Field::User), Some("pgustavo@simulandlabs.com"));
    assert_eq!(office.get(Field::Provider), Some("Exchange"));
    assert!(events
        .iter()
        .filter(|e| e.get(Field::Operation) != Some("MailItemsAccessed"))
        .all(|e| e.get(Field::User) == Some("pgustavo@simulandlabs.com")));
}

#[test]
fn the_whole_data_folder_reads_with_only_the_known_damage() {
    let sources = resolve_inputs(&[DATA.to_string()]).unwrap();
    assert!(
        sources.iter().all(|s| !s.name.ends_with(".md")),
        "documentation is skipped"
    );
    let options = IngestOptions {
        keep_extra: false,
        ..IngestOptions::default()
    };
    let (events, summary) = collect(&sources, &options);
    assert_eq!(summary.files, sources.len() as u64);
    assert_eq!(summary.events(), events.len() as u64);
    let errors: Vec<&String> = summary
        .skipped
        .iter()
        .filter(|(_, s)| s.error)
        .map(|(r, _)| r)
        .collect();
    assert_eq!(errors, vec!["corrupt EVTX chunk"]);
    // Stable order: the same run with one thread gives the same events.
    let single = IngestOptions {
        threads: 1,
        ..options.clone()
    };
    let (again, _) = collect(&sources, &single);
    assert_eq!(again.len(), events.len());
    assert!(again.iter().zip(&events).all(|(a, b)| a == b));
    // And with --on-error fail the corrupt chunk is the error, naming file and chunk.
    let fail = IngestOptions {
        on_error: OnError::Fail,
        ..options
    };
    let err = read_events(&sources, &fail, |_| ControlFlow::Continue(())).unwrap_err();
    assert!(err.to_string().contains("sysmon.evtx.gz chunk 9"), "{err}");
}
