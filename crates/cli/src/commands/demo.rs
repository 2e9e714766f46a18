//! `oddhunt demo`: one command from a fresh clone to a full hunt.
//!
//! Generates a small organisation's logs with labelled attacks (`oddhunt generate`), trains
//! every detector on the first days, scores the last day, writes the findings, prints the top
//! findings per detector and the detection quality on the injected labels.

use super::Status;
use crate::args::{FindingArgs, FindingFormat, InputArgs};
use crate::run::{
    report_findings, save_model, score, train, trained_model_record, write_report, RunContext, Ui,
};
use anyhow::{Context, Result};
use clap::Args;
use oddhunt_core::{Finding, Timestamp};
use oddhunt_detect::Detector;
use oddhunt_synth::windows::ProcessOptions;
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
    let last = cmd.days - 1;

    // Generate: the baseline days and the scored day in separate files.
    let mut labels = Vec::new();
    let options = ProcessOptions {
        events_per_host_day: cmd.events_per_host_day,
        masquerade_day: None,
    };
    let baseline_path = logs.join("baseline-security-4688.jsonl");
    let today_path = logs.join("today-security-4688.jsonl");
    let mut baseline = create(&baseline_path)?;
    let mut today = create(&today_path)?;
    let mut events = 0u64;
    for day in 0..cmd.days {
        let mut records = oddhunt_synth::windows::day_records(&env, &mut rng, day, &options);
        if day == last {
            records.extend(oddhunt_synth::windows::masquerade_injection(
                &env,
                &mut rng,
                day,
                &mut labels,
            ));
        }
        records.sort_by_key(|r| r.time_ns);
        let out: &mut dyn Write = if day == last {
            &mut today
        } else {
            &mut baseline
        };
        for r in &records {
            writeln!(out, "{}", r.to_json(&env, &mut rng))?;
        }
        events += records.len() as u64;
    }
    baseline.flush()?;
    today.flush()?;
    let labels_path = cmd.out.join("labels.csv");
    let mut f = create(&labels_path)?;
    oddhunt_synth::write_labels(&labels, &mut f)?;
    f.flush()?;
    if !ui.quiet {
        eprintln!(
            "generated {events} events: {} hosts, {} users, {} days; {} labelled attacks → {}",
            env.hosts.len(),
            env.users.len(),
            cmd.days,
            labels.len(),
            cmd.out.display()
        );
    }

    // Train on the baseline, score the last day, per detector.
    let quiet = Ui { quiet: true, ..ui };
    let detectors: Vec<(Box<dyn Detector>, &Path, &Path)> = vec![(
        Box::new(oddhunt_detect::masquerade::Masquerade::default()),
        &baseline_path,
        &today_path,
    )];
    let findings_path = cmd.out.join("findings.jsonl");
    let mut all_findings: Vec<Finding> = Vec::new();
    let mut runs = Vec::new();
    let mut quality = Vec::new();
    for (detector, train_on, score_on) in &detectors {
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
            limit: 10,
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
        let found = reported
            .iter()
            .filter(|f| injected.contains(f.scored.subject.as_str()))
            .count();
        quality.push(Quality {
            detector: detector.name().to_string(),
            injected: injected.len(),
            findings: reported.len(),
            found,
            precision: if reported.is_empty() {
                0.0
            } else {
                found as f64 / reported.len() as f64
            },
            recall: if injected.is_empty() {
                0.0
            } else {
                found as f64 / injected.len() as f64
            },
        });
        all_findings.extend(reported.into_iter().cloned());
    }
    let mut f = create(&findings_path)?;
    oddhunt_sinks::jsonl::write_findings(&mut f, &all_findings)?;
    oddhunt_sinks::jsonl::write_records(
        &mut f,
        runs.iter().map(|r| r.to_json()).collect::<Vec<_>>().iter(),
    )?;
    f.flush()?;
    let report_path = cmd.out.join("report.html");
    write_report(
        &report_path,
        "oddhunt demo: one day of a generated organisation",
        &all_findings,
        &runs,
    )?;
    let mut q = create(&cmd.out.join("quality.json"))?;
    serde_json::to_writer_pretty(&mut q, &quality)?;
    q.flush()?;

    println!("\nDetection quality on the injected attacks:");
    println!(
        "{:<12} {:>8} {:>8} {:>6} {:>9} {:>7}",
        "detector", "injected", "findings", "found", "precision", "recall"
    );
    for q in &quality {
        println!(
            "{:<12} {:>8} {:>8} {:>6} {:>9.3} {:>7.3}",
            q.detector, q.injected, q.findings, q.found, q.precision, q.recall
        );
    }
    println!(
        "\nreport: {}   findings: {}   labels: {}   models: {}   ({:.1} s)",
        report_path.display(),
        findings_path.display(),
        labels_path.display(),
        models.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(Status::Done)
}
