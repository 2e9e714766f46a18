//! oddhunt-synth: realistic synthetic security logs with labelled attacks.
//!
//! Users have no labelled logs at hand and the project's tests and demo must not depend on
//! anything outside the repository, so oddhunt generates its own: a small organisation
//! ([`environment`]) whose hosts and users produce the logs a SOC would collect, with known
//! attacks injected and written to a labels file. Everything is deterministic for a seed.
//!
//! - [`windows`]: process creations as Sentinel `SecurityEvent` 4688 rows (JSON lines).
//! - [`dns`]: DNS look-ups as a Zeek `dns.log` with injected tunnels and a DGA burst.
//! - [`web`]: a web server's Apache combined access log with injected vulnerability scanners.
//! - [`exchange`]: Exchange Online admin cmdlets as Office 365 audit records (JSON lines).
//! - [`process_attacks`]: LOLBin command lines and a discovery burst to add to [`windows`] logs.

pub mod dns;
pub mod environment;
pub mod exchange;
pub mod process_attacks;
pub mod scenario;
pub mod web;
pub mod windows;

pub use environment::Environment;

use serde::{Deserialize, Serialize};

/// One injected attack: which detector should find it and under which subject.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    /// The detector meant to find it.
    pub detector: String,
    /// The subject that detector scores (process name, session id, domain, ...).
    pub subject: String,
    /// ATT&CK technique.
    pub technique: String,
    /// What was injected.
    pub description: String,
}

/// Writes labels as CSV (`detector,subject,label,technique,description`; label is always
/// `malicious`: subjects not listed are benign).
pub fn write_labels(labels: &[Label], out: &mut dyn std::io::Write) -> std::io::Result<()> {
    writeln!(out, "detector,subject,label,technique,description")?;
    for l in labels {
        let quote = |s: &str| {
            if s.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_string()
            }
        };
        writeln!(
            out,
            "{},{},malicious,{},{}",
            quote(&l.detector),
            quote(&l.subject),
            quote(&l.technique),
            quote(&l.description)
        )?;
    }
    Ok(())
}
