//! `oddhunt demo`: one command from a fresh clone to a full hunt.
//!
//! Generates a small organisation's logs with labelled attacks (the same code as `oddhunt
//! generate --out-dir`): Windows process creations, Exchange admin sessions, Zeek DNS and a web
//! server's access log. Trains every detector on all days but the last, scores the last day,
//! writes the findings, the models and the HTML report, prints the top findings per detector
//! and the detection quality on the injected labels.

use super::Status;
use crate::args::{FindingArgs, FindingFormat, InputArgs};
use crate::run::{
    report_findings, save_model, score, train, trained_model_record, write_report, RunContext, Ui,
};
use anyhow::{Context, Result};
use clap::Args;
use oddhunt_core::{Finding, Timestamp};
use oddhunt_detect::Detector;
use oddhunt_synth::scenario::{LogKind, Scenario};
use rand::SeedableRng;
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Flags of `oddhunt demo`.
#[derive(Args, Debug)]
pub struct DemoCmd {
    /// Folder for the generated logs, models, findings and report
    #[arg(long, value_name = "DIR", default_value = "oddhunt-demo")]
    pub out: PathBuf,
    /// Hosts in the generated organisation
    #[arg(long, default_value_t = 50)]
    pub hosts: usize,
    /// Users in the generated organisation
    #[arg(long, default_value_t = 200)]
    pub users: usize,
    /// Days of logs: all but the last are the baseline, the last is scored
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    /// Mean process creations per host per weekday
    #[arg(long = "events-per-host-day", default_value_t = 150.0)]
    pub events_per_host_day: f64,
    /// Random seed
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

/// Detection quality of one detector on the injected labels.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Quality {
    /// Detector.
    pub detector: String,
    /// Injected attacks it is meant to find.
    pub injected: usize,
    /// Findings reported.
    pub findings: usize,
    /// Injected attacks among the findings.
    pub found: usize,
    /// found / findings.
    pub precision: f64,
    /// found / injected.
    pub recall: f64,
    /// Share of injected attacks among the `injected` highest-scored findings (R-precision).
    pub precision_at_k: f64,
}

fn create(path: &Path) -> Result<std::io::BufWriter<std::fs::File>> {
    Ok(std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
    ))
}

fn input_of(path: &Path) -> InputArgs {
    InputArgs {
        inputs: vec![path.display().to_string()],
        ..InputArgs::default()
    }
}

/// Which log each detector reads.
const PLAN: &[(&str, LogKind)] = &[
    ("masquerade", LogKind::Process),
    ("cmdline", LogKind::Process),
    ("proccount", LogKind::Process),
    ("exeprev", LogKind::Process),
    ("sequence", LogKind::Exchange),
    ("dns", LogKind::Dns),
    ("web", LogKind::Web),
];

/// Runs the subcommand.
pub fn run(ui: Ui, cmd: &DemoCmd) -> Result<Status> {
    anyhow::ensure!(
        cmd.days >= 2,
        "--days must be at least 2 (a baseline and a day to score)"
    );
    let started = std::time::Instant::now();
    let logs = cmd.out.join("logs");
    let models = cmd.out.join("models");
    for dir in [&logs, &models] {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let start = Timestamp::parse("2024-03-04T00:00:00Z")?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(cmd.seed);
    let env = oddhunt_synth::Environment::new(&mut rng, cmd.hosts, cmd.users, cmd.days, start);
    let scenario = Scenario {
        events_per_host_day: cmd.events_per_host_day,
        split: true,
        ..Scenario::default()
    };
    let written = oddhunt_synth::scenario::write(&env, &mut rng, &scenario, &logs)?;
    let mut labels = written.labels.clone();
    labels.extend(super::generate::executable_labels(
        &written.dropped_executables,
    ));
    let labels_path = cmd.out.join("labels.csv");
    let mut f = create(&labels_path)?;
    oddhunt_synth::write_labels(&labels, &mut f)?;
    f.flush()?;
    if !ui.quiet {
        let records: u64 = written.files.iter().map(|f| f.records).sum();
        eprintln!(
            "generated {records} log records (process creations, Exchange admin, DNS, web): {} hosts, {} users, {} days; {} labelled attacks on the last day → {}",
            env.hosts.len(),
            env.users.len(),
            cmd.days,
            labels.len(),
            cmd.out.display()
        );
    }

    // Train on the baseline, score the last day, per detector.
    let quiet = Ui { quiet: true, ..ui };
    let findings_path = cmd.out.join("findings.jsonl");
    let mut all_findings: Vec<Finding> = Vec::new();
    let mut runs = Vec::new();
    let mut quality = Vec::new();
    for &(name, kind) in PLAN {
        let detector: Box<dyn Detector> = oddhunt_detect::by_name(name)
            .with_context(|| format!("detector {name} is missing from this build"))?;
        let (Some(train_on), Some(score_on)) =
            (written.file(kind, true), written.file(kind, false))
        else {
            anyhow::bail!("no {kind:?} log was generated");
        };
        let (fitted, training, _) = train(quiet, detector.as_ref(), &input_of(train_on))?;
        let model_path = models.join(format!("{}.oddhunt", detector.name()));
        let model = trained_model_record(&fitted, &training, Some(&model_path));
        save_model(detector.as_ref(), &fitted, training, &model_path)?;
        let (scored, inputs) = score(quiet, fitted.model.as_ref(), &input_of(score_on))?;
        let args = FindingArgs {
            threshold: None,
            threshold_basis: crate::args::BasisArg::Batch,
            exclude: None,
            show_excluded: false,
            all: false,
            format: Some(FindingFormat::Table),
            output: None,
            limit: 5,
            report: None,
            fail_on_findings: false,
        };
        if !ui.quiet {
            println!("\n== {}: {} ==", detector.name(), detector.description());
        }
        let (outcome, run) = report_findings(
            quiet,
            detector.as_ref(),
            scored,
            None,
            &args,
            RunContext {
                inputs: &inputs,
                model: Some(model),
            },
        )?;
        runs.push(run);
        let injected: HashSet<&str> = labels
            .iter()
            .filter(|l| l.detector == detector.name())
            .map(|l| l.subject.as_str())
            .collect();
        let reported: Vec<&Finding> = outcome.reported().collect();
        let hit = |f: &&&Finding| injected.contains(f.scored.subject.as_str());
        let found = reported.iter().filter(hit).count();
        let k = injected.len();
        let top_k = reported.iter().take(k).filter(hit).count();
        quality.push(Quality {
            detector: detector.name().to_string(),
            injected: k,
            findings: reported.len(),
            found,
            precision: if reported.is_empty() {
                0.0
            } else {
                found as f64 / reported.len() as f64
            },
            recall: if k == 0 { 0.0 } else { found as f64 / k as f64 },
            precision_at_k: if k == 0 { 0.0 } else { top_k as f64 / k as f64 },
        });
        all_findings.extend(reported.into_iter().cloned());
    }
    let mut f = create(&findings_path)?;
    oddhunt_sinks::jsonl::write_findings(&mut f, &all_findings)?;
    let records: Vec<_> = runs.iter().map(|r| r.to_json()).collect();
    oddhunt_sinks::jsonl::write_records(&mut f, records.iter())?;
    f.flush()?;
    let report_path = cmd.out.join("report.html");
    write_report(
        &report_path,
        "oddhunt demo: the last day of a generated organisation",
        &all_findings,
        &runs,
    )?;
    let mut q = create(&cmd.out.join("quality.json"))?;
    serde_json::to_writer_pretty(&mut q, &quality)?;
    q.flush()?;

    println!(
        "\nDetection quality on the injected attacks (trained on days 1-{}, scored day {}):",
        cmd.days - 1,
        cmd.days
    );
    println!(
        "{:<11} {:>8} {:>8} {:>6} {:>9} {:>7} {:>13}",
        "detector", "injected", "findings", "found", "precision", "recall", "precision@k"
    );
    for q in &quality {
        println!(
            "{:<11} {:>8} {:>8} {:>6} {:>9.3} {:>7.3} {:>13.3}",
            q.detector, q.injected, q.findings, q.found, q.precision, q.recall, q.precision_at_k
        );
    }
    println!(
        "\nreport: {}\nfindings: {}   labels: {}   models: {}   ({:.1} s)",
        report_path.display(),
        findings_path.display(),
        labels_path.display(),
        models.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(Status::Done)
}
