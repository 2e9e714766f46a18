//! Flags of the cmdline detector.

use anyhow::Result;
use clap::{Args, ValueEnum};
use oddhunt_detect::cmdline::{Cmdline, CmdlineModelKind, CmdlineSettings};

/// `--variant`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmdlineModelArg {
    /// Rarity in context: parent→child pair, command shape and template for the executable, unusual text
    Default,
    /// The QFunction notebook's byte autoencoder (bugs fixed), for parity and comparison
    Seed,
    /// Character 3-gram rarity of the command line, the baseline
    Ngram,
}

/// Settings of the cmdline detector.
#[derive(Args, Debug, Clone)]
pub struct CmdlineArgs {
    /// Which model scores the command lines (`eval` and `score` use --model/-m for a model file, hence the name)
    #[arg(long = "variant", value_enum, default_value_t = CmdlineModelArg::Default)]
    pub variant: CmdlineModelArg,
    /// Seed: bytes per input text (default: int(mean + std) of the training lengths, the seed's rule)
    #[arg(long = "max-length", value_name = "BYTES")]
    pub max_length: Option<usize>,
    /// Seed: most training epochs (early stopping ends sooner)
    #[arg(long, default_value_t = 20)]
    pub epochs: usize,
    /// Seed: rows per gradient step
    #[arg(long = "batch-size", default_value_t = 256)]
    pub batch_size: usize,
    /// Seed: Adam learning rate (the notebook used 1e-5; 1e-3 converges in a few epochs)
    #[arg(long = "learning-rate", default_value_t = 1e-3)]
    pub learning_rate: f32,
    /// Seed: train every epoch instead of stopping when the validation loss stops improving
    #[arg(long = "no-early-stopping")]
    pub no_early_stopping: bool,
    /// Seed: share of the sample held out for the validation loss
    #[arg(long = "validation-split", default_value_t = 0.1)]
    pub validation_split: f64,
    /// Seed: the notebook's own training (learning rate 1e-5, 20 epochs, no early stopping); implies --variant seed
    #[arg(long = "notebook-training")]
    pub notebook_training: bool,
    /// Seed: gradient shards per batch (part of the arithmetic: keep it to reproduce a model)
    #[arg(long, default_value_t = 2)]
    pub shards: usize,
    /// Seed: command lines kept (uniform sample) to train the network on
    #[arg(long, value_name = "N", default_value_t = 200_000)]
    pub sample: usize,
    /// Random seed of samples, weights and shuffling
    #[arg(long = "random-seed", default_value_t = 42)]
    pub random_seed: u64,
    /// Default: also score how rare the executable is on its host and for its account
    #[arg(long = "host-user-context")]
    pub host_user_context: bool,
    /// Default: most distinct command templates kept in memory (the rarest are dropped beyond it)
    #[arg(long = "max-templates", value_name = "N", default_value_t = 2_000_000)]
    pub max_templates: usize,
    /// Full explanations (nearest normal line, per-position errors) for this many top scores
    #[arg(long = "explain-top", value_name = "N", default_value_t = 10_000)]
    pub explain_top: usize,
}

impl CmdlineArgs {
    pub(crate) fn build(&self) -> Result<Cmdline> {
        let model = if self.notebook_training {
            CmdlineModelKind::Seed
        } else {
            match self.variant {
                CmdlineModelArg::Default => CmdlineModelKind::Default,
                CmdlineModelArg::Seed => CmdlineModelKind::Seed,
                CmdlineModelArg::Ngram => CmdlineModelKind::Ngram,
            }
        };
        let base = if self.notebook_training {
            CmdlineSettings::notebook()
        } else {
            CmdlineSettings {
                epochs: self.epochs,
                learning_rate: self.learning_rate,
                early_stopping: !self.no_early_stopping,
                ..CmdlineSettings::default()
            }
        };
        let settings = CmdlineSettings {
            model,
            max_length: self.max_length,
            batch_size: self.batch_size,
            validation_split: self.validation_split,
            shards: self.shards,
            sample: self.sample,
            seed: self.random_seed,
            host_user_context: self.host_user_context,
            max_templates: self.max_templates,
            explain_top: self.explain_top,
            ..base
        };
        Ok(Cmdline::new(settings)?)
    }
}
