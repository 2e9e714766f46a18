//! `oddhunt score -m MODEL`: score new logs with a trained model.

use super::{status, Status};
use crate::args::{FindingArgs, InputArgs};
use crate::run::{model_record, report_findings, score, RunContext, Ui};
use anyhow::Result;
use clap::Args;
use oddhunt_core::modelfile::ModelFile;
use std::path::PathBuf;

/// Flags of `oddhunt score`.
#[derive(Args, Debug)]
pub struct ScoreCmd {
    /// The model, written by `oddhunt train`
    #[arg(short = 'm', long, value_name = "MODEL.oddhunt")]
    pub model: PathBuf,

    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub findings: FindingArgs,
}

/// Runs the subcommand.
pub fn run(ui: Ui, cmd: &ScoreCmd) -> Result<Status> {
    cmd.findings.validate()?;
    let file = ModelFile::load(&cmd.model)?;
    let (detector, model) = oddhunt_detect::load_model(&file)?;
    if !ui.quiet {
        let t = &file.manifest.training;
        eprintln!(
            "model {}: {} trained by oddhunt {} on {} events ({} {}s){}",
            cmd.model.display(),
            detector.name(),
            file.manifest.oddhunt_version,
            t.events,
            t.subjects,
            detector.subject(),
            match (t.first_seen, t.last_seen) {
                (Some(a), Some(b)) => format!(", {a} … {b}"),
                _ => String::new(),
            }
        );
    }
    let (scored, inputs) = score(ui, model.as_ref(), &cmd.input)?;
    let (outcome, _) = report_findings(
        ui,
        detector.as_ref(),
        scored,
        file.manifest.score_distribution.as_ref(),
        &cmd.findings,
        RunContext {
            inputs: &inputs,
            model: Some(model_record(&file, Some(&cmd.model))),
        },
    )?;
    Ok(status(
        outcome.reported().count(),
        cmd.findings.fail_on_findings,
    ))
}
