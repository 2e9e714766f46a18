//! Flags of the masquerade detector.

use anyhow::Result;
use clap::Args;

/// Settings of the masquerade detector.
#[derive(Args, Debug, Clone)]
pub struct MasqueradeArgs {
    /// Percent rank at or above which a process name is frequent
    #[arg(long, default_value_t = 0.8)]
    pub frequent: f64,
    /// Percent rank below which a process name is infrequent
    #[arg(long, default_value_t = 0.2)]
    pub infrequent: f64,
    /// Look-alike cut on the similarity score (pairs strictly above it are findings)
    #[arg(long, default_value_t = 0.85)]
    pub similarity: f64,
    /// Effective minimum name length in the score, so one edit in a short name counts (0 = the seed's plain similarity)
    #[arg(long = "min-length", default_value_t = 7)]
    pub min_length: usize,
    /// Do not count well-known Windows binaries as frequent
    #[arg(long = "no-known-binaries")]
    pub no_known_binaries: bool,
    /// Also flag pairs that differ only in digits (vcredist_x64 / vcredist_x86)
    #[arg(long = "keep-digit-changes")]
    pub keep_digit_changes: bool,
    /// Also examine names between the two ranks when the name they resemble ran at least this many times more often (0 = off, as the notebook)
    #[arg(long = "rarer-than", default_value_t = 10.0)]
    pub rarer_than: f64,
    /// Reproduce the Sentinel notebook exactly, quirks included (0.0 without a '.', f32 similarity, no known list)
    #[arg(long = "seed-compatible")]
    pub seed_compatible: bool,
}

impl MasqueradeArgs {
    pub(crate) fn build(&self) -> Result<oddhunt_detect::masquerade::Masquerade> {
        use oddhunt_detect::masquerade::{Masquerade, MasqueradeSettings};
        let settings = if self.seed_compatible {
            MasqueradeSettings {
                frequent: self.frequent,
                infrequent: self.infrequent,
                similarity: self.similarity,
                ..MasqueradeSettings::seed()
            }
        } else {
            MasqueradeSettings {
                frequent: self.frequent,
                infrequent: self.infrequent,
                similarity: self.similarity,
                min_length: self.min_length,
                known_binaries: !self.no_known_binaries,
                ignore_digit_changes: !self.keep_digit_changes,
                seed_compatible: false,
                rarer_than: self.rarer_than,
            }
        };
        Ok(Masquerade::new(settings)?)
    }
}
