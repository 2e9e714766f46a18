//! oddhunt-core: the vocabulary every other oddhunt crate speaks.
//!
//! oddhunt reads security logs, learns what is normal and ranks what is not. This crate holds
//! the types that flow through that pipeline and nothing about formats or algorithms:
//!
//! - [`event`]: typed security events ([`Event`], [`EventKind`], [`Field`]) and their
//!   [`Provenance`], produced by `oddhunt-ingest`;
//! - [`time`]: UTC [`Timestamp`]s at the source's precision;
//! - [`finding`]: scored subjects and findings, produced by `oddhunt-detect`;
//! - [`threshold`]: the rules that turn scores into findings;
//! - [`exclude`]: analyst-written exclusion rules;
//! - [`modelfile`]: the versioned, checksummed model container;
//! - [`sanitize`]: escaping attacker-controlled text for terminals, spreadsheets and browsers.

pub mod event;
pub mod exclude;
pub mod finding;
pub mod modelfile;
pub mod sanitize;
pub mod threshold;
pub mod time;

pub use event::{file_name, Event, EventBuilder, EventKind, Field, Locator, Param, Provenance};
pub use exclude::{Exclusion, Exclusions};
pub use finding::{Finding, Measure, Scored, Severity};
pub use modelfile::{ModelFile, ModelFileError, TrainingSummary};
pub use threshold::{Basis, Cut, Rule, ScoreDistribution};
pub use time::Timestamp;
