//! `oddhunt train <detector>`: learn a baseline and save the model.

use super::Status;
use crate::args::{DetectorArgs, InputArgs};
use crate::run::{save_model, train_with, Ui};
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

/// Flags of `oddhunt train`.
#[derive(Args, Debug)]
pub struct TrainCmd {
    #[command(subcommand)]
    pub detector: DetectorArgs,

    #[command(flatten)]
    pub input: InputArgs,

    /// Where to write the model (default: <detector>.oddhunt)
    #[arg(
        short = 'o',
        long = "output",
        value_name = "MODEL.oddhunt",
        global = true
    )]
    pub output: Option<PathBuf>,
}

/// Runs the subcommand.
pub fn run(ui: Ui, cmd: &TrainCmd) -> Result<Status> {
    let detector = cmd.detector.build()?;
    // The model and its score distribution only: no need for every training subject scored.
    let (fitted, training, _) = train_with(ui, detector.as_ref(), &cmd.input, false)?;
    let path = cmd
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{}.oddhunt", detector.name())));
    let subjects = training.subjects;
    save_model(detector.as_ref(), &fitted, training, &path)?;
    if !ui.quiet {
        eprintln!(
            "model written to {} ({} {}s learned)",
            path.display(),
            subjects,
            detector.subject()
        );
    }
    Ok(Status::Done)
}
