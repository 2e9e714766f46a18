//! `oddhunt generate`: realistic synthetic logs with labelled attacks.

use super::Status;
use crate::run::Ui;
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use oddhunt_core::Timestamp;
use oddhunt_synth::windows::ProcessOptions;
use rand::SeedableRng;
use std::io::Write;
use std::path::PathBuf;

/// Attacks to inject.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inject {
    /// The Sentinel notebook's masquerade validation set on the last day: 40 System32 names
    /// 20 times each, a one-letter look-alike of each in C:\Windows\Temp, scvhost.exe, svch0st.exe.
    Masquerade,
}

/// Flags of `oddhunt generate`.
#[derive(Args, Debug)]
pub struct GenerateCmd {
    /// Hosts in the organisation
    #[arg(long, default_value_t = 20)]
    pub hosts: usize,
    /// Users in the organisation
    #[arg(long, default_value_t = 50)]
    pub users: usize,
    /// Days of logs
    #[arg(long, default_value_t = 7)]
    pub days: u32,
    /// First day (UTC)
    #[arg(long, default_value = "2024-03-04")]
    pub start: String,
    /// Random seed: the same seed gives the same logs
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Mean process creations per host per weekday
    #[arg(long = "events-per-host-day", default_value_t = 150.0)]
    pub events_per_host_day: f64,
    /// Attacks to inject (repeatable)
    #[arg(long, value_enum)]
    pub inject: Vec<Inject>,
    /// Write Windows process creations here (default: standard output)
    #[arg(short = 'o', long, value_name = "FILE", conflicts_with = "out_dir")]
    pub output: Option<PathBuf>,
    /// Write the whole organisation instead: process creations, Exchange admin activity, Zeek
    /// DNS and the web server's access log, every attack injected on the last day, labels in
    /// DIR/labels.csv
    #[arg(long = "out-dir", value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// With --out-dir: write the days before the last and the last day to separate files
    #[arg(long, requires = "out_dir")]
    pub split: bool,
    /// Write the labels of injected attacks here (CSV: detector,subject,label,technique,description)
    #[arg(long, value_name = "FILE")]
    pub labels: Option<PathBuf>,
}

fn start_of(text: &str) -> Result<Timestamp> {
    let full = if text.len() == 10 {
        format!("{text}T00:00:00Z")
    } else {
        text.to_string()
    };
    Timestamp::parse(&full).with_context(|| format!("--start {text:?}"))
}

/// Labels for the `exeprev` detector, whose subject is the normalised executable path, of
/// dropped look-alike binaries.
pub fn executable_labels(paths: &[String]) -> Vec<oddhunt_synth::Label> {
    let mut seen = std::collections::HashSet::new();
    paths
        .iter()
        .map(|p| oddhunt_detect::features::normalise_executable(p))
        .filter(|p| seen.insert(p.clone()))
        .map(|subject| oddhunt_synth::Label {
            detector: "exeprev".into(),
            description: format!("look-alike binary dropped in {subject}"),
            subject,
            technique: "T1036.005".into(),
        })
        .collect()
}

/// Runs the subcommand.
pub fn run(ui: Ui, cmd: &GenerateCmd) -> Result<Status> {
    let start = start_of(&cmd.start)?;
    if cmd.days == 0 {
        anyhow::bail!("--days must be at least 1");
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(cmd.seed);
    let env = oddhunt_synth::Environment::new(&mut rng, cmd.hosts, cmd.users, cmd.days, start);
    if let Some(dir) = &cmd.out_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let scenario = oddhunt_synth::scenario::Scenario {
            events_per_host_day: cmd.events_per_host_day,
            split: cmd.split,
            ..Default::default()
        };
        let written = oddhunt_synth::scenario::write(&env, &mut rng, &scenario, dir)?;
        let mut labels = written.labels.clone();
        labels.extend(executable_labels(&written.dropped_executables));
        let path = cmd.labels.clone().unwrap_or_else(|| dir.join("labels.csv"));
        let mut f = std::io::BufWriter::new(
            std::fs::File::create(&path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        );
        oddhunt_synth::write_labels(&labels, &mut f)?;
        f.flush()?;
        if !ui.quiet {
            for file in &written.files {
                eprintln!("{:>9} records → {}", file.records, file.path.display());
            }
            eprintln!("{} labelled attacks → {}", labels.len(), path.display());
        }
        return Ok(Status::Done);
    }
    let options = ProcessOptions {
        events_per_host_day: cmd.events_per_host_day,
        masquerade_day: cmd
            .inject
            .contains(&Inject::Masquerade)
            .then_some(cmd.days - 1),
    };
    let mut out = crate::run::output_writer(cmd.output.as_deref())?;
    let mut labels = Vec::new();
    let written =
        oddhunt_synth::windows::generate(&env, &mut rng, &options, &mut out, &mut labels)?;
    out.flush()?;
    if let Some(path) = &cmd.labels {
        let mut f = std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        );
        oddhunt_synth::write_labels(&labels, &mut f)?;
        f.flush()?;
    }
    if !ui.quiet {
        eprintln!(
            "generated {written} process creations on {} hosts for {} users over {} days; {} labelled attacks",
            env.hosts.len(),
            env.users.len(),
            env.days,
            labels.len()
        );
    }
    Ok(Status::Done)
}
