//! The `oddhunt` binary end to end: generate → hunt/train/score/eval, outputs, exclusions,
//! exit codes, bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn oddhunt(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_oddhunt"))
        .args(args)
        .output()
        .expect("oddhunt runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn shared(path: &str) -> String {
    format!("{}/../../../shared/data/{path}", env!("CARGO_MANIFEST_DIR"))
}

struct Generated {
    _dir: tempfile::TempDir,
    logs: PathBuf,
    labels: PathBuf,
}

impl Generated {
    fn path(&self, name: &str) -> String {
        self._dir.path().join(name).display().to_string()
    }
}

fn generated(days: &str, inject: bool) -> Generated {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs.jsonl");
    let labels = dir.path().join("labels.csv");
    let mut args = vec![
        "generate", "--hosts", "12", "--users", "30", "--days", days, "--seed", "3", "-q", "-o",
    ];
    let logs_s = logs.display().to_string();
    let labels_s = labels.display().to_string();
    args.push(&logs_s);
    args.extend(["--labels", &labels_s]);
    if inject {
        args.extend(["--inject", "masquerade"]);
    }
    let out = oddhunt(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    Generated {
        _dir: dir,
        logs,
        labels,
    }
}

/// Every JSON line of an output (findings and the run record).
fn json_lines(bytes: &[u8]) -> Vec<serde_json::Value> {
    text(bytes)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

/// The findings of a JSON-lines output (without the run record at its end).
fn jsonl(bytes: &[u8]) -> Vec<serde_json::Value> {
    json_lines(bytes)
        .into_iter()
        .filter(|r| r["event.kind"] != "metric")
        .collect()
}

#[test]
fn hunt_finds_the_injected_masquerades_in_every_output_format() {
    let g = generated("4", true);
    let logs = g.logs.display().to_string();
    let out = oddhunt(&["hunt", "masquerade", "-i", &logs, "--format", "jsonl", "-q"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let findings = jsonl(&out.stdout);
    assert_eq!(findings.len(), 42, "40 look-alikes + scvhost + svch0st");
    // The run record closes the output: what was read, the threshold, the counts.
    let all = json_lines(&out.stdout);
    assert_eq!(all.len(), 43);
    let run = all.last().unwrap();
    assert_eq!(run["event.kind"], "metric", "{run}");
    assert_eq!(run["event.dataset"], "oddhunt.run", "{run}");
    for f in &findings {
        assert_eq!(f["event.kind"], "alert");
        assert_eq!(f["event.dataset"], "oddhunt.masquerade");
        assert!(f["oddhunt.id"].as_str().unwrap().len() == 16);
        assert!(f["process.name"].is_string());
        assert!(f["oddhunt.explanation"]["normal_process"].is_string());
        assert!(!f["oddhunt.provenance"].as_array().unwrap().is_empty());
    }
    // Seed shape for Log Analytics.
    let out = oddhunt(&[
        "hunt",
        "masquerade",
        "-i",
        &logs,
        "--format",
        "loganalytics",
        "-q",
    ]);
    let records = jsonl(&out.stdout);
    assert!(records.len() >= 42);
    let keys: Vec<&String> = records[0].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "TimeStamp",
            "NormalProcess",
            "PotentiallyMaliciousProcess",
            "AnomalyScore"
        ]
    );
    // CSV and table.
    let out = oddhunt(&["hunt", "masquerade", "-i", &logs, "--format", "csv", "-q"]);
    let csv = text(&out.stdout);
    assert!(csv.starts_with("id,detector,severity,"), "{csv}");
    assert_eq!(csv.lines().count(), 43);
    let out = oddhunt(&["hunt", "masquerade", "-i", &logs, "--limit", "3"]);
    let table = text(&out.stdout);
    assert!(table.contains("looks like"), "{table}");
    assert!(table.contains("39 more"), "{table}");
    let summary = text(&out.stderr);
    assert!(summary.contains("→ 42 findings"), "{summary}");
    // Top-k thresholds cap the list.
    let out = oddhunt(&[
        "hunt",
        "masquerade",
        "-i",
        &logs,
        "--threshold",
        "top:5",
        "--format",
        "jsonl",
        "-q",
    ]);
    assert_eq!(jsonl(&out.stdout).len(), 5);
}

#[test]
fn train_then_score_with_the_model_file_and_exclusions() {
    let baseline = generated("5", false);
    let today = generated("1", true);
    let model = baseline.path("masq.oddhunt");
    let out = oddhunt(&[
        "train",
        "masquerade",
        "-i",
        &baseline.logs.display().to_string(),
        "-o",
        &model,
        "-q",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let today_logs = today.logs.display().to_string();
    let out = oddhunt(&[
        "score",
        "-m",
        &model,
        "-i",
        &today_logs,
        "--format",
        "jsonl",
        "-q",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let found: Vec<String> = jsonl(&out.stdout)
        .iter()
        .map(|f| f["oddhunt.subject"].as_str().unwrap().to_string())
        .collect();
    assert!(found.contains(&"svch0st.exe".to_string()), "{found:?}");
    assert!(found.len() >= 40, "{found:?}");

    // An exclusion rule as specific as the analyst can write it.
    let rules = baseline.path("rules.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nname = \"lab svch0st\"\ndetector = \"masquerade\"\nignore_case = true\nmatch.\"process.name\" = { equals = \"SVCH0ST.EXE\" }\nmatch.\"process.executable\" = { glob = 'C:\\Windows\\Temp\\*' }\n",
    )
    .unwrap();
    let out = oddhunt(&[
        "score",
        "-m",
        &model,
        "-i",
        &today_logs,
        "--exclude",
        &rules,
        "--format",
        "jsonl",
    ]);
    let after: Vec<String> = jsonl(&out.stdout)
        .iter()
        .map(|f| f["oddhunt.subject"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(after.len(), found.len() - 1);
    assert!(!after.contains(&"svch0st.exe".to_string()));
    assert!(
        text(&out.stderr).contains("excluded by rule \"lab svch0st\": 1"),
        "{}",
        text(&out.stderr)
    );
    let out = oddhunt(&[
        "score",
        "-m",
        &model,
        "-i",
        &today_logs,
        "--exclude",
        &rules,
        "--show-excluded",
        "--format",
        "jsonl",
        "-q",
    ]);
    let shown = jsonl(&out.stdout);
    assert!(shown
        .iter()
        .any(|f| f["oddhunt.excluded_by"] == "lab svch0st"));

    // Training-basis thresholds use the stored distribution.
    let out = oddhunt(&[
        "score",
        "-m",
        &model,
        "-i",
        &today_logs,
        "--threshold",
        "q0.5",
        "--threshold-basis",
        "train",
        "-q",
        "--format",
        "jsonl",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    // --fail-on-findings: exit 3 with findings.
    let out = oddhunt(&[
        "score",
        "-m",
        &model,
        "-i",
        &today_logs,
        "--fail-on-findings",
        "-q",
        "--format",
        "jsonl",
    ]);
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn eval_reports_quality_against_labels() {
    // Enough baseline for benign rare names to exist next to the injected ones.
    let g = generated("10", true);
    let out = oddhunt(&[
        "eval",
        "masquerade",
        "-i",
        &g.logs.display().to_string(),
        "--labels",
        &g.labels.display().to_string(),
        "--format",
        "json",
        "-q",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["malicious"], 42);
    assert!(report["roc_auc"].as_f64().unwrap() > 0.99, "{report}");
    assert!(report["pr_auc"].as_f64().unwrap() > 0.99, "{report}");
}

#[test]
fn damaged_model_files_are_refused_clearly() {
    let g = generated("2", false);
    let model = g.path("m.oddhunt");
    let out = oddhunt(&[
        "train",
        "masquerade",
        "-i",
        &g.logs.display().to_string(),
        "-o",
        &model,
        "-q",
    ]);
    assert!(out.status.success());
    let mut bytes = std::fs::read(&model).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    std::fs::write(&model, &bytes).unwrap();
    let out = oddhunt(&["score", "-m", &model, "-i", &g.logs.display().to_string()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("corrupted"),
        "{}",
        text(&out.stderr)
    );
    std::fs::write(&model, &bytes[..100]).unwrap();
    let out = oddhunt(&["score", "-m", &model, "-i", &g.logs.display().to_string()]);
    assert!(
        text(&out.stderr).contains("truncated"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn events_reads_real_logs_and_reports_bad_input() {
    let out = oddhunt(&[
        "events",
        &shared("otrf_security_datasets/process_creation.jsonl.gz"),
        "--format",
        "none",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("→ 1,678 events (process_start 1,678)"),
        "{}",
        text(&out.stderr)
    );

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"EventID\": 4688, \"CommandLine\": \"a\"}\n{not json\n",
    )
    .unwrap();
    let bad_s = bad.display().to_string();
    // Default: skip and count.
    let out = oddhunt(&["events", &bad_s, "--format", "none"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // --on-error fail: exit 1 naming file and line.
    let out = oddhunt(&["events", &bad_s, "--format", "none", "--on-error", "fail"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("bad.jsonl") && err.contains(":2"), "{err}");
    // Usage errors exit 2.
    let out = oddhunt(&["hunt", "masquerade", "--threshold", "bogus", "-i", &bad_s]);
    assert_eq!(out.status.code(), Some(1), "a bad threshold is reported");
    assert!(text(&out.stderr).contains("threshold"));
    let out = oddhunt(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    // Missing input.
    let out = oddhunt(&["events", &dir.path().join("nope.log").display().to_string()]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn terminal_output_never_carries_escape_sequences() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("evil.jsonl");
    // A Sysmon-1-shaped record whose command line carries escape sequences.
    std::fs::write(
        &log,
        "{\"EventID\":1,\"Channel\":\"Microsoft-Windows-Sysmon/Operational\",\"Image\":\"C:\\\\x\\\\a.exe\",\"CommandLine\":\"a.exe \\u001b[2J\\u001b]0;pwned\\u0007\",\"UtcTime\":\"2024-01-01 00:00:00.000\",\"Computer\":\"h\"}\n",
    )
    .unwrap();
    let out = oddhunt(&["events", &log.display().to_string()]);
    let table = text(&out.stdout);
    assert!(
        !table.contains('\u{1b}') && !table.contains('\u{7}'),
        "{table:?}"
    );
    assert!(table.contains("\\e[2J"), "{table}");
}

#[test]
fn demo_runs_small() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("demo");
    let out = oddhunt(&[
        "demo",
        "--out",
        &out_dir.display().to_string(),
        "--hosts",
        "12",
        "--users",
        "30",
        "--days",
        "5",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let quality: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("quality.json")).unwrap()).unwrap();
    // Floors per detector (recall, precision@k) on this small organisation (12 hosts, 5 days):
    // what each detector must keep finding; a change that loses injected attacks fails here.
    // masquerade: the notebook's validation set, unmistakable look-alikes in Temp. cmdline: 12
    // LOLBin lines among ~1,800 ordinary ones on a day, after only 4 days of baseline. proccount:
    // one discovery burst. exeprev: 42 tools dropped in C:\Windows\Temp, never seen in the
    // baseline (measured 42/42, precision@k 1.00 here; 0.76 at the full 50-host size, where new
    // recon tools and a new System32 set outrank some). sequence: 6 admin intrusions. dns: two
    // tunnels and a DGA burst of 40 (measured 40/42 and 0.95: the two DGA names that resolved
    // look like ordinary one-look-up sites). web: two scanners (measured 2/2; precision@k 0.5
    // here, 1.0 at full size: the uptime monitor's one private path isolates it as well).
    let floors = [
        ("masquerade", 1.0, 1.0),
        ("cmdline", 0.5, 0.05),
        ("proccount", 1.0, 1.0),
        ("exeprev", 1.0, 0.9),
        ("sequence", 1.0, 0.5),
        ("dns", 0.9, 0.9),
        ("web", 1.0, 0.5),
    ];
    let quality = quality.as_array().unwrap();
    assert_eq!(quality.len(), floors.len(), "{quality:?}");
    for (detector, recall, precision_at_k) in floors {
        let q = quality
            .iter()
            .find(|q| q["detector"] == detector)
            .unwrap_or_else(|| panic!("no quality for {detector}"));
        assert!(q["injected"].as_u64().unwrap() > 0, "{q}");
        assert!(q["recall"].as_f64().unwrap() >= recall, "{q}");
        assert!(
            q["precision_at_k"].as_f64().unwrap() >= precision_at_k,
            "{q}"
        );
    }
    assert!(Path::new(&out_dir.join("findings.jsonl")).exists());
}

#[test]
fn dash_as_output_means_standard_output() {
    let g = generated("2", true);
    let logs = g.logs.display().to_string();
    let cwd = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_oddhunt"))
            .args(args)
            .current_dir(cwd.path())
            .output()
            .expect("oddhunt runs")
    };
    let out = run(&[
        "-q",
        "hunt",
        "masquerade",
        "-i",
        &logs,
        "--format",
        "jsonl",
        "-o",
        "-",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(jsonl(&out.stdout).len(), 42);
    let out = run(&["-q", "events", "-i", &logs, "--format", "jsonl", "-o", "-"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!out.stdout.is_empty());
    assert!(!cwd.path().join("-").exists(), "no file named '-'");
}
