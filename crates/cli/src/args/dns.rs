//! Flags of the dns detector.

use super::iforest::ForestArgs;
use anyhow::Result;
use clap::Args;

/// Settings of the dns detector.
#[derive(Args, Debug, Clone)]
pub struct DnsArgs {
    /// Also score NetBIOS, mDNS and LLMNR look-ups (ignored by default: they never leave the LAN)
    #[arg(long = "include-local-names")]
    pub local_names: bool,
    #[command(flatten)]
    pub forest: ForestArgs,
}

impl DnsArgs {
    pub(crate) fn build(&self) -> Result<oddhunt_detect::dns::Dns> {
        use oddhunt_detect::dns::{Dns, DnsSettings};
        let defaults = DnsSettings::default();
        Ok(Dns::new(DnsSettings {
            forest: self.forest.apply(defaults.forest),
            local_names: self.local_names,
        })?)
    }
}
