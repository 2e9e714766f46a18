//! `oddhunt report`: the HTML report of a findings file.

use super::Status;
use crate::run::{write_report, Ui};
use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;

/// Flags of `oddhunt report`.
#[derive(Args, Debug)]
pub struct ReportCmd {
    /// Findings in JSON lines, as written by `score`/`hunt --format jsonl` (with their run records)
    #[arg(value_name = "FINDINGS.jsonl", required = true)]
    pub findings: Vec<PathBuf>,

    /// Where to write the report
    #[arg(
        short = 'o',
        long,
        value_name = "REPORT.html",
        default_value = "oddhunt-report.html"
    )]
    pub output: PathBuf,

    /// Page title
    #[arg(long, default_value = "oddhunt findings")]
    pub title: String,
}

/// Runs the subcommand.
pub fn run(ui: Ui, cmd: &ReportCmd) -> Result<Status> {
    let mut findings = Vec::new();
    let mut runs = Vec::new();
    for path in &cmd.findings {
        let file =
            std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let read = oddhunt_sinks::jsonl::read_findings(
            std::io::BufReader::new(file),
            &path.display().to_string(),
        )
        .map_err(anyhow::Error::msg)?;
        findings.extend(read.findings);
        runs.extend(read.runs);
    }
    write_report(&cmd.output, &cmd.title, &findings, &runs)?;
    if !ui.quiet {
        eprintln!(
            "report of {} findings from {} run{} written to {}",
            findings.len(),
            runs.len(),
            if runs.len() == 1 { "" } else { "s" },
            cmd.output.display()
        );
    }
    Ok(Status::Done)
}
