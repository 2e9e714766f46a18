//! Flags of the exeprev detector.

use super::iforest::ForestArgs;
use anyhow::Result;
use clap::Args;

/// Settings of the exeprev detector.
#[derive(Args, Debug, Clone)]
pub struct ExeprevArgs {
    #[command(flatten)]
    pub forest: ForestArgs,
}

impl ExeprevArgs {
    pub(crate) fn build(&self) -> Result<oddhunt_detect::exeprev::ExePrev> {
        use oddhunt_detect::exeprev::{ExePrev, ExePrevSettings};
        let defaults = ExePrevSettings::default();
        Ok(ExePrev::new(ExePrevSettings {
            forest: self.forest.apply(defaults.forest),
        })?)
    }
}
