//! Flags of the sequence detector.

use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use oddhunt_detect::sequence::{Lateness, Sequence, SequenceSettings, ShortSessions};
use oddhunt_models::markov::SessionType;

/// `--session-type`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionTypeArg {
    /// Command names only
    Cmds,
    /// Command names and the set of their parameter names
    Params,
    /// Command names, parameters and their values (values of "modellable" parameters count)
    Values,
}

/// `--event-kind`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKindArg {
    /// The kind of the first command or process-start event read
    Auto,
    /// Command events: Exchange/Office admin operations, CloudTrail calls
    Command,
    /// Process starts: the executable name, with --param-fields as parameters
    Process,
}

/// `--short-sessions`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShortSessionsArg {
    /// Score them by the likelihood of the whole session
    Session,
    /// Leave them unscored, as msticpy (listed with --all, never findings)
    Skip,
}

/// Settings of the sequence detector.
#[derive(Args, Debug, Clone)]
pub struct SequenceArgs {
    /// What a command carries
    #[arg(long = "session-type", value_enum, default_value_t = SessionTypeArg::Params)]
    pub session_type: SessionTypeArg,
    /// Fields whose values group events into sessions (default: user,source_ip for commands; host,user for processes)
    #[arg(
        long = "session-keys",
        value_name = "FIELD,FIELD",
        value_delimiter = ','
    )]
    pub session_keys: Vec<String>,
    /// Which events make sessions
    #[arg(long = "event-kind", value_enum, default_value_t = EventKindArg::Auto)]
    pub event_kind: EventKindArg,
    /// Longest span of a session, in minutes
    #[arg(
        long = "max-session-minutes",
        value_name = "MINUTES",
        default_value_t = 20.0
    )]
    pub max_session_minutes: f64,
    /// Longest gap between two events of a session, in minutes
    #[arg(
        long = "max-gap-minutes",
        value_name = "MINUTES",
        default_value_t = 2.0
    )]
    pub max_gap_minutes: f64,
    /// How far (minutes) an event may arrive behind later ones and still join its session: a number, 'all' (hold and sort the whole input), or 'auto' (all when the first 65,536 events are far out of order, as in reversed or shuffled exports; else 60, or twice the disorder seen)
    #[arg(
        long = "allowed-lateness",
        value_name = "MINUTES|all|auto",
        default_value = "auto"
    )]
    pub allowed_lateness: String,
    /// Length of the sliding window whose rarest likelihood scores a session
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub window: usize,
    /// Do not add start and end tokens to sessions
    #[arg(long = "no-start-end-tokens")]
    pub no_start_end_tokens: bool,
    /// Take each window's likelihood to the power 1/window (compares windows of different param counts)
    #[arg(long = "geo-mean")]
    pub geo_mean: bool,
    /// Parameters whose values are modelled (values type; default: msticpy's heuristic). Give '' for none
    #[arg(long = "modellable-params", value_name = "NAME,NAME")]
    pub modellable_params: Option<String>,
    /// Process events: the fields that become a command's parameters
    #[arg(
        long = "param-fields",
        value_name = "FIELD,FIELD",
        value_delimiter = ',',
        default_value = "parent_name,process_path"
    )]
    pub param_fields: Vec<String>,
    /// What sessions too short for a window score
    #[arg(long = "short-sessions", value_enum, default_value_t = ShortSessionsArg::Session)]
    pub short_sessions: ShortSessionsArg,
    /// Memory for the training sessions a hunt scores without reading its input again, in MB (beyond it the input is read twice)
    #[arg(long = "keep-sessions-mb", value_name = "MB", default_value_t = 1024)]
    pub keep_sessions_mb: u64,
}

impl SequenceArgs {
    pub(crate) fn build(&self) -> Result<Sequence> {
        let lateness = self.allowed_lateness.trim();
        let allowed_lateness = if lateness.eq_ignore_ascii_case("all") {
            Lateness::All
        } else if lateness.eq_ignore_ascii_case("auto") {
            Lateness::Auto
        } else {
            match lateness.parse::<f64>() {
                Ok(m) if m.is_finite() && m >= 0.0 => Lateness::Minutes(m),
                _ => bail!(
                    "--allowed-lateness: {lateness:?} is neither a number of minutes, 'all' nor 'auto'"
                ),
            }
        };
        let settings = SequenceSettings {
            session_type: match self.session_type {
                SessionTypeArg::Cmds => SessionType::CmdsOnly,
                SessionTypeArg::Params => SessionType::CmdsParamsOnly,
                SessionTypeArg::Values => SessionType::CmdsParamsValues,
            },
            event_kind: match self.event_kind {
                EventKindArg::Auto => None,
                EventKindArg::Command => Some(oddhunt_core::EventKind::Command),
                EventKindArg::Process => Some(oddhunt_core::EventKind::ProcessStart),
            },
            session_keys: self
                .session_keys
                .iter()
                .map(|k| k.trim().to_string())
                .filter(|k| !k.is_empty())
                .collect(),
            max_session_minutes: self.max_session_minutes,
            max_gap_minutes: self.max_gap_minutes,
            allowed_lateness,
            window: self.window,
            start_end_tokens: !self.no_start_end_tokens,
            geo_mean: self.geo_mean,
            modellable_params: self.modellable_params.as_ref().map(|list| {
                list.split(',')
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty())
                    .collect()
            }),
            param_fields: self
                .param_fields
                .iter()
                .map(|k| k.trim().to_string())
                .filter(|k| !k.is_empty())
                .collect(),
            short_sessions: match self.short_sessions {
                ShortSessionsArg::Session => ShortSessions::SessionLikelihood,
                ShortSessionsArg::Skip => ShortSessions::Unscored,
            },
            keep_sessions_mb: self.keep_sessions_mb,
        };
        Ok(Sequence::new(settings)?)
    }
}
