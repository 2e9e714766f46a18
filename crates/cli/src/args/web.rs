//! Flags of the web detector.

use super::iforest::ForestArgs;
use anyhow::Result;
use clap::Args;

/// Settings of the web detector.
#[derive(Args, Debug, Clone)]
pub struct WebArgs {
    #[command(flatten)]
    pub forest: ForestArgs,
}

impl WebArgs {
    pub(crate) fn build(&self) -> Result<oddhunt_detect::web::Web> {
        use oddhunt_detect::web::{Web, WebSettings};
        let defaults = WebSettings::default();
        Ok(Web::new(WebSettings {
            forest: self.forest.apply(defaults.forest),
        })?)
    }
}
