//! Flags of the proccount detector.

use anyhow::Result;
use clap::{Args, ValueEnum};
use oddhunt_detect::proccount::{CountScale, Entity, Proccount, ProccountSettings};

/// `--entity`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntityArg {
    /// One window per host
    Host,
    /// One window per account (domain\user)
    User,
    /// One window per host and account
    HostUser,
}

/// `--counts`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CountsArg {
    /// The number of starts per process name (the seed)
    Raw,
    /// ln(1 + starts): busy service hosts do not drown the rest
    Log1p,
}

/// Settings of the proccount detector.
#[derive(Args, Debug, Clone)]
pub struct ProccountArgs {
    /// Whose process counts make a window
    #[arg(long, value_enum, default_value_t = EntityArg::Host)]
    pub entity: EntityArg,
    /// Window length in minutes
    #[arg(long = "window-minutes", value_name = "MINUTES", default_value_t = 60)]
    pub window_minutes: u64,
    /// Count only executables under this folder (drive letter and case ignored), e.g. '\Windows\' as the seed
    #[arg(long = "path-prefix", value_name = "FOLDER")]
    pub path_prefix: Option<String>,
    /// Hashed dimensions (the seed: 16; the network is n → n/2 → n/4 → n/2 → n)
    #[arg(long = "n-features", default_value_t = 16)]
    pub n_features: usize,
    /// How counts enter the network
    #[arg(long, value_enum, default_value_t = CountsArg::Raw)]
    pub counts: CountsArg,
    /// Most training epochs (early stopping ends sooner)
    #[arg(long, default_value_t = 50)]
    pub epochs: usize,
    /// Windows per gradient step
    #[arg(long = "batch-size", default_value_t = 32)]
    pub batch_size: usize,
    /// Adam learning rate
    #[arg(long = "learning-rate", default_value_t = 1e-3)]
    pub learning_rate: f32,
    /// Train every epoch instead of stopping when the validation loss stops improving
    #[arg(long = "no-early-stopping")]
    pub no_early_stopping: bool,
    /// Random seed of weights, shuffling and window sampling
    #[arg(long = "random-seed", default_value_t = 42)]
    pub random_seed: u64,
    /// Most windows kept in training (a hash sample of whole windows beyond it)
    #[arg(long = "max-windows", value_name = "N", default_value_t = 1_000_000)]
    pub max_windows: usize,
}

impl ProccountArgs {
    pub(crate) fn build(&self) -> Result<Proccount> {
        let settings = ProccountSettings {
            entity: match self.entity {
                EntityArg::Host => Entity::Host,
                EntityArg::User => Entity::User,
                EntityArg::HostUser => Entity::HostUser,
            },
            window_minutes: self.window_minutes,
            path_prefix: self.path_prefix.clone(),
            n_features: self.n_features,
            counts: match self.counts {
                CountsArg::Raw => CountScale::Raw,
                CountsArg::Log1p => CountScale::Log1p,
            },
            epochs: self.epochs,
            batch_size: self.batch_size,
            learning_rate: self.learning_rate,
            early_stopping: !self.no_early_stopping,
            seed: self.random_seed,
            max_windows: self.max_windows,
            ..ProccountSettings::default()
        };
        Ok(Proccount::new(settings)?)
    }
}
