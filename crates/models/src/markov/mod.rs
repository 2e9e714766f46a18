//! First-order Markov chains over sessions: a port of msticpy's `anomalous_sequence` model.
//!
//! A *session* is the ordered list of [`Command`]s one actor ran (see [`crate::sessionize`] for
//! cutting events into sessions). Training counts commands, transitions, params and values
//! ([`MarkovCounts`], mergeable across shards), then [`MarkovModel::fit`] smooths the counts
//! (Laplace, with start/end/unknown tokens) into probabilities. Scoring ranks a session by the
//! likelihood of its rarest sliding window of `window_len` commands: low likelihood = odd.
//!
//! Every number is the one msticpy 3.0.2 computes, bit for bit: the algorithm, its quirks and
//! the floating-point rules are in `shared/specs/markov.md` (cited below as "spec §n"), and the
//! tests compare against fixtures produced by msticpy itself.
//!
//! ```
//! use oddhunt_models::markov::{Command, MarkovCounts, MarkovModel, ScoreOptions, SessionType};
//!
//! let mut counts = MarkovCounts::new(SessionType::CmdsOnly);
//! counts.observe(&[Command::new("Set-User"), Command::new("Set-User")])?;
//! counts.observe(&[Command::new("Set-Mailbox"), Command::new("Set-User"), Command::new("Set-User")])?;
//! let model = MarkovModel::fit(counts, None)?;
//!
//! let usual = [Command::new("Set-User"), Command::new("Set-User")];
//! let odd = [Command::new("Set-Mailbox"), Command::new("New-InboxRule"), Command::new("Set-User")];
//! let opts = ScoreOptions::default(); // windows of 3, start/end tokens, as msticpy
//! let (usual, odd) = (model.score(&usual, &opts)?, model.score(&odd, &opts)?);
//! assert_eq!(odd.rarest.index, Some(0)); // the window starting at Set-Mailbox
//! assert!(odd.rarest.likelihood < usual.rarest.likelihood);
//! # Ok::<(), oddhunt_models::markov::MarkovError>(())
//! ```
//!
//! # Reserved names (spec Q8, Q9)
//!
//! The tokens `##START##`, `##END##` and `##UNK##` are ordinary keys of the tables, as in
//! msticpy, so real names equal to them behave exactly as msticpy's: a training command named
//! `##START##` or `##UNK##` is counted into that token's entries, a param or value named
//! `##UNK##` into the unknown entries, and at scoring a command named like a token looks that
//! key up. The one case msticpy cannot train on — a training command named `##END##` — is
//! rejected with [`MarkovError::ReservedName`].

mod counts;
mod explain;
mod intern;
mod model;
mod score;

pub use counts::MarkovCounts;
pub use explain::{Explanation, Factor, ParamExplanation, StepExplanation, ValueExplanation};
pub use model::{CountTables, MarkovModel, ProbabilityTables};
pub use score::{score_sessions, train_and_score, RarestWindow, ScoreOptions, SessionScore};

use serde::{Deserialize, Serialize};

/// Hash map with foldhash's per-instance random seed: several times faster than SipHash on
/// short names and id pairs, which dominate training and scoring. Names come from logs an
/// attacker may write; the random seed keeps collisions from being precomputed (foldhash's
/// "minimal DoS resistance", the same trade-off as hashbrown's default).
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// The start-of-session token (spec §1.1).
pub const START_TOKEN: &str = "##START##";
/// The end-of-session token.
pub const END_TOKEN: &str = "##END##";
/// The unknown token: the fallback entry of every table.
pub const UNK_TOKEN: &str = "##UNK##";

/// What a command carries, decided once for a whole model (spec §1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionType {
    /// Command names only; params are ignored.
    CmdsOnly,
    /// Names plus the *set* of param names; values are ignored.
    CmdsParamsOnly,
    /// Names plus params with their values.
    CmdsParamsValues,
}

impl SessionType {
    /// msticpy's name for the type (`cmds_only`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            SessionType::CmdsOnly => "cmds_only",
            SessionType::CmdsParamsOnly => "cmds_params_only",
            SessionType::CmdsParamsValues => "cmds_params_values",
        }
    }

    pub(crate) fn has_params(self) -> bool {
        self != SessionType::CmdsOnly
    }

    pub(crate) fn has_values(self) -> bool {
        self == SessionType::CmdsParamsValues
    }
}

impl std::fmt::Display for SessionType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One command of a session: a name and its params in the order the log lists them.
///
/// How params are read depends on the model's [`SessionType`]: ignored for `CmdsOnly`, names
/// only (a set) for `CmdsParamsOnly`, names with values for `CmdsParamsValues`. A value of
/// `None` or `""` counts as "no value", as Python's truthiness does in msticpy (the param is
/// still present). If a name appears twice, the command behaves like the Python dict built
/// from the pairs: one param, at its first position, with the last value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Command {
    /// The command (operation) name, compared as exact bytes.
    pub name: String,
    /// `(param name, value)` pairs in input order.
    pub params: Vec<(String, Option<String>)>,
}

impl Command {
    /// A command without params.
    pub fn new(name: impl Into<String>) -> Self {
        Command {
            name: name.into(),
            params: Vec::new(),
        }
    }

    /// Adds a param without a value (for `CmdsParamsOnly` sessions).
    pub fn param(mut self, name: impl Into<String>) -> Self {
        self.params.push((name.into(), None));
        self
    }

    /// Adds a param with a value.
    pub fn param_value(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push((name.into(), Some(value.into())));
        self
    }
}

/// Why training or scoring refused its input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarkovError {
    /// A session without commands (msticpy's Model refuses them too).
    #[error("{} is empty: a session needs at least one command", describe_session(*.session))]
    EmptySession {
        /// Index of the session among those observed, when known.
        session: Option<u64>,
    },
    /// A training command named like the end token, which msticpy cannot train on (spec Q8).
    #[error(
        "command {position} of {} is named {name:?}, the reserved end-of-session token; \
         rename it before training",
        describe_session(*.session)
    )]
    ReservedName {
        /// The offending name.
        name: String,
        /// Index of the session among those observed.
        session: Option<u64>,
        /// Position of the command in its session.
        position: usize,
    },
    /// A window length below 1.
    #[error("window length must be at least 1, got {window_len}")]
    WindowLength {
        /// The rejected length.
        window_len: usize,
    },
    /// `fit` on counts of zero sessions.
    #[error("cannot fit a Markov model on zero sessions")]
    NoSessions,
    /// Merging counts of different session types.
    #[error("cannot merge {right} counts into {left} counts")]
    SessionTypeMismatch {
        /// Type of the receiving counts.
        left: SessionType,
        /// Type of the counts merged in.
        right: SessionType,
    },
    /// Too many distinct names in one table (2^25 for fitting: smoothing adds about twice
    /// the square of the vocabulary, and every total must stay exact in binary64).
    #[error("too many distinct {table} for one Markov model")]
    TooManyNames {
        /// Which table overflowed.
        table: &'static str,
    },
    /// A serialised model or counts that do not hold together.
    #[error("corrupt Markov counts: {reason}")]
    Corrupt {
        /// What is inconsistent.
        reason: String,
    },
}

fn describe_session(session: Option<u64>) -> String {
    match session {
        Some(i) => format!("session {i}"),
        None => "the session".to_string(),
    }
}
