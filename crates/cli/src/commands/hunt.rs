//! `oddhunt hunt <detector>`: train and score the same logs, as the notebooks do.

use super::{status, Status};
use crate::args::{DetectorArgs, FindingArgs, InputArgs};
use crate::run::{
    report_findings, save_model, score, train, trained_model_record, RunContext, Spool, Ui,
};
use anyhow::Result;
use clap::Args;
use oddhunt_core::ScoreDistribution;
use std::path::PathBuf;

/// Flags of `oddhunt hunt`.
#[derive(Args, Debug)]
pub struct HuntCmd {
    #[command(subcommand)]
    pub detector: DetectorArgs,

    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub findings: FindingArgs,

    /// Also save the trained model here
    #[arg(long = "save-model", value_name = "MODEL.oddhunt", global = true)]
    pub save_model: Option<PathBuf>,
}

/// Runs the subcommand.
pub fn run(ui: Ui, cmd: &HuntCmd) -> Result<Status> {
    cmd.findings.validate()?;
    let detector = cmd.detector.build()?;
    let (input, spool) = Spool::stdin_if_needed(&cmd.input, !detector.scores_while_training())?;
    let (mut fitted, training, inputs) = train(ui, detector.as_ref(), &input)?;
    let distribution = ScoreDistribution::from_scores(&fitted.training_scores);
    let scored = match fitted.scored_training.take() {
        Some(scored) => scored,
        // The detector could not keep what scoring needs: read the input a second time.
        None => {
            let mut scored = score(ui, fitted.model.as_ref(), &input)?.0;
            if let Some(spool) = &spool {
                spool.restore_names(&mut scored);
            }
            scored
        }
    };
    let model = trained_model_record(&fitted, &training, cmd.save_model.as_deref());
    if let Some(path) = &cmd.save_model {
        save_model(detector.as_ref(), &fitted, training, path)?;
        if !ui.quiet {
            eprintln!("model written to {}", path.display());
        }
    }
    let (outcome, _) = report_findings(
        ui,
        detector.as_ref(),
        scored,
        Some(&distribution),
        &cmd.findings,
        RunContext {
            inputs: &inputs,
            model: Some(model),
        },
    )?;
    Ok(status(
        outcome.reported().count(),
        cmd.findings.fail_on_findings,
    ))
}
