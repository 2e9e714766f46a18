//! `sequence`: sessions whose sequence of commands is rare — msticpy's `anomalous_sequence`
//! (a first-order Markov chain over sessions, Laplace-smoothed) as a trainable detector.
//!
//! **Subject**: one session — the time-ordered commands of one actor (one combination of the
//! session keys) cut where msticpy's `sessionize_data` cuts: a new session when two events are
//! more than `max_gap_minutes` apart (default 2) or the session would span more than
//! `max_session_minutes` (default 20). Commands come from `Command` events (Exchange/Office
//! admin: `Operation` + `Parameters`; CloudTrail: `eventName` + `requestParameters`) or from
//! process starts (executable name + chosen fields as params, the notebook's VM-process
//! section); see [`session`]. Sessions cut elsewhere (KQL `row_window_session`, Spark) are read
//! one per line with `--sessions` ([`prebuilt`]).
//!
//! **Three session types** (`session_type`): `cmds` (names only), `params` (names + the set of
//! param names; the default: an admin's unusual switches matter as much as the cmdlet) and
//! `values` (names + params + values; values enter for the "modellable" params only: at most 20
//! distinct values, at least 20 uses, at most 10 % distinct, or the `modellable_params` given).
//!
//! **Training** counts commands, transitions, params and values ([`MarkovCounts`]: the
//! mergeable state; merging partial states sharded by session keys equals training on the
//! union). **Scoring** slides a window of `window` commands (default 3) over the session, with
//! start and end tokens, and takes the likelihood of the rarest window: the detector's native
//! measure (`likelihood`), number for number msticpy's `rarest_window3_likelihood`. The score
//! is `-ln(likelihood)` (higher = odder).
//!
//! **Short sessions** (fewer than `window - 1` commands with tokens, `window` without) have no
//! window; msticpy gives them NaN. Here the measure stays NaN (comparable with msticpy row by
//! row) but by default the *score* falls back to the likelihood of the whole session (with the
//! same tokens; to the power `1/window` with `geo_mean`), so a lone never-seen cmdlet still
//! ranks (`short_sessions = session_likelihood`, marked `"scored_by": "session_likelihood"`).
//! `short_sessions = unscored` keeps msticpy's NaN: such sessions are never findings but are
//! listed with `--all`.
//!
//! **Default threshold** `top:20`: msticpy's users sort by likelihood and read the top; twenty
//! sessions is an afternoon's review whatever the batch size, and unlike a quantile it keeps
//! ties at the top (repeated identical odd sessions). With `--threshold-basis train` give a
//! quantile instead (`q0.999`).
//!
//! **Session id** (the finding's subject): the key values joined by `|` (absent as `-`), `@`,
//! and the start time, e.g. `bob|10.0.0.1@2024-03-05T10:12:03Z`; or the `id` of a `--sessions`
//! line (default `file:line`).
//!
//! **Streaming and memory.** Events stream through the [`Sessionizer`]: a session is counted
//! (training) or scored (scoring) as soon as no later event can join it. Events may arrive out
//! of time order by up to the allowed lateness. By default (`auto`) the detector looks at the
//! first 65,536 events: if they are far out of order — a reversed or shuffled export, such as
//! Log Analytics exports and both msticpy demo files — it holds and sorts the whole input, as
//! msticpy sorts it; otherwise it streams with 60 minutes of lateness (or twice the disorder
//! seen). `all` always holds the whole input; a number of minutes always streams. An event
//! later than the lateness is not dropped silently: it is counted under its own reason in the
//! ignored events (shown by `oddhunt train`), is never trained on,
//! and comes out as a NaN-scored one-event subject marked `late`. The lateness, like every
//! setting, is stored in the model and applies when it scores (train with `all` a model meant
//! to score unordered exports). Training memory: the counts,
//! the open sessions, the events within the lateness, and the sessions kept for `hunt` — all
//! of them while their estimated size stays within `keep_sessions_mb` (default 1024 MB), then a
//! sample of 10,000 (training score distribution only). Beyond the budget `hunt` reads its
//! input a second time to score (the CLI keeps a copy of stdin for that). `oddhunt train`
//! keeps only the sample. When every session is kept, they are counted again in msticpy's
//! order before fitting, so a hunt's numbers are msticpy's `score_sessions` bit for bit; a
//! model fitted from the streaming counts (sample only) may differ from it in the last bits
//! of params-type probabilities (the order param factors multiply in, spec §2.5).
//!
//! **Explanation** (`oddhunt.explanation`, what a timeline needs): `session_id`, `keys` (ECS
//! name → value), `start`, `end`, `duration_seconds`, `commands_total`, `commands` (first 200
//! names), `window_length`, `likelihood` (rarest window, null when none),
//! `session_likelihood`, `geomean`, `scored_by` (`rarest_window`, `session_likelihood` or
//! `none`), `rarest_window` (`index`, `end`, `commands`, `likelihood`; null when none), `steps`
//! (per element of the rarest window, the end token included: `position`, `command`,
//! `known_command`, `factor` — `start`, `prior` or `transition` with `from` — and its
//! `probability`, `param_set_probability`, number of `params`). Present only when not empty or
//! false (each scored session holds its explanation in memory to the end of the run):
//! `unseen_commands` (whole session), `unseen_params`, `rare_params`, `unseen_values`,
//! `rare_values`, `missing_usual_params` (rarest window; rare = probability below 0.05),
//! `commands_truncated`, `late`, `error`. Context fields: the
//! session keys under their ECS names (`user.name`, `source.ip`, `host.name`).

pub mod explain;
mod keep;
mod lean;
pub mod prebuilt;
pub mod session;

use crate::detector::{
    DetectError, Detector, Fitted, IgnoredCounts, Model, Needs, Progress, Scorer, Trainer,
};
use keep::Kept;
use lean::ExplainTop;
use oddhunt_core::modelfile::ModelFile;
use oddhunt_core::{Event, EventKind, Field, Finding, Provenance, Rule, Scored};
use oddhunt_models::markov::{
    MarkovCounts, MarkovError, MarkovModel, ScoreOptions, SessionType, END_TOKEN, START_TOKEN,
    UNK_TOKEN,
};
use oddhunt_models::sessionize::SessionLimits;
use prebuilt::parse_session_line;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use session::{SessionBuilder, SessionRecord};
use std::collections::{BTreeSet, HashSet};

pub use oddhunt_models::sessionize::Sessionizer;

/// Sessions scored together on the thread pool.
const SCORE_BATCH: usize = 2048;

/// What a session too short for a window scores.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShortSessions {
    /// The likelihood of the whole session (with the same tokens).
    #[default]
    SessionLikelihood,
    /// No score (NaN), as msticpy: never a finding, listed with `--all`.
    Unscored,
}

/// How far out of time order events may arrive (`--allowed-lateness`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lateness {
    /// Chosen from the first events read ([`session::AUTO_PREFIX`], see
    /// [`session::choose_lateness`]): the whole input is held and sorted when they are far out
    /// of order (a reversed or shuffled export), else 60 minutes or twice the disorder seen,
    /// whichever is more.
    #[default]
    Auto,
    /// Any: the whole input is held and sorted, as msticpy sorts it.
    All,
    /// This many minutes behind the latest event.
    Minutes(f64),
}

/// Settings of the sequence detector (the flags of `oddhunt train sequence`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SequenceSettings {
    /// What a command carries: names, names + param names, or names + params + values.
    pub session_type: SessionType,
    /// Which events make sessions: `command` or `process_start`; `None` = the kind of the first
    /// command or process-start event read.
    pub event_kind: Option<EventKind>,
    /// Fields whose values group events into sessions (ECS names or short aliases); empty =
    /// `user.name`, `source.ip` for commands, `host.name`, `user.name` for processes.
    pub session_keys: Vec<String>,
    /// Longest span of a session, in minutes.
    pub max_session_minutes: f64,
    /// Longest gap between two events of a session, in minutes.
    pub max_gap_minutes: f64,
    /// How far behind the latest event an event may arrive and still be placed in order.
    pub allowed_lateness: Lateness,
    /// Sliding-window length.
    pub window: usize,
    /// Score the first window from a start token and end the session with an end token.
    pub start_end_tokens: bool,
    /// Take each window's likelihood to the power `1/window`.
    pub geo_mean: bool,
    /// Params whose values are modelled (values type); `None` = msticpy's heuristic.
    pub modellable_params: Option<BTreeSet<String>>,
    /// Process events: the fields that become a command's params.
    pub param_fields: Vec<String>,
    /// What sessions too short for a window score.
    pub short_sessions: ShortSessions,
    /// Memory budget for the training sessions kept so `hunt` can score them without a
    /// second read, in MB.
    pub keep_sessions_mb: u64,
}

impl Default for SequenceSettings {
    fn default() -> Self {
        SequenceSettings {
            session_type: SessionType::CmdsParamsOnly,
            event_kind: None,
            session_keys: Vec::new(),
            max_session_minutes: 20.0,
            max_gap_minutes: 2.0,
            allowed_lateness: Lateness::Auto,
            window: 3,
            start_end_tokens: true,
            geo_mean: false,
            modellable_params: None,
            param_fields: vec![
                Field::ParentName.ecs_name().to_string(),
                Field::ProcessPath.ecs_name().to_string(),
            ],
            short_sessions: ShortSessions::SessionLikelihood,
            keep_sessions_mb: 1024,
        }
    }
}

/// Session keys used when none are given.
pub fn default_keys(kind: EventKind) -> Vec<Field> {
    match kind {
        EventKind::ProcessStart => vec![Field::Host, Field::User],
        _ => vec![Field::User, Field::SourceIp],
    }
}

fn field_named(name: &str, flag: &str) -> Result<Field, DetectError> {
    Field::from_name(name).ok_or_else(|| {
        DetectError::Settings(format!(
            "{flag}: {name:?} is not an oddhunt field (ECS names or aliases such as user.name, \
             source_ip, host, parent_name; see `oddhunt events`)"
        ))
    })
}

pub(crate) fn minutes_to_nanos(minutes: f64) -> i64 {
    // `as` saturates: any lateness beyond ~292 years is "any".
    (minutes * 60e9).round() as i64
}

/// Settings turned into what the session builder and the scorer use.
#[derive(Clone, Debug)]
pub(crate) struct Resolved {
    pub(crate) kind: EventKind,
    pub(crate) session_type: SessionType,
    pub(crate) keys: Vec<Field>,
    pub(crate) param_fields: Vec<Field>,
    pub(crate) limits: SessionLimits,
    pub(crate) lateness: Lateness,
    pub(crate) options: ScoreOptions,
}

impl SequenceSettings {
    /// msticpy's behaviour for `session_type` (the AnomalousSequence notebook): NaN for
    /// sessions too short for a window, and the whole input held and sorted (any lateness), as
    /// `sessionize_data` sorts it.
    pub fn msticpy(session_type: SessionType) -> Self {
        SequenceSettings {
            session_type,
            allowed_lateness: Lateness::All,
            short_sessions: ShortSessions::Unscored,
            ..SequenceSettings::default()
        }
    }

    fn validate(&self) -> Result<(), DetectError> {
        let minutes = |v: f64, flag: &str| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(DetectError::Settings(format!(
                    "{flag} must be a non-negative number of minutes, got {v}"
                )))
            }
        };
        minutes(self.max_session_minutes, "--max-session-minutes")?;
        minutes(self.max_gap_minutes, "--max-gap-minutes")?;
        if let Lateness::Minutes(l) = self.allowed_lateness {
            minutes(l, "--allowed-lateness")?;
        }
        if self.window == 0 {
            return Err(DetectError::Settings("--window must be at least 1".into()));
        }
        if let Some(kind) = self.event_kind {
            if !matches!(kind, EventKind::Command | EventKind::ProcessStart) {
                return Err(DetectError::Settings(format!(
                    "sequence sessions are made of command or process_start events, not {kind}"
                )));
            }
        }
        if self.session_keys.len() > 16 {
            return Err(DetectError::Settings("at most 16 session keys".into()));
        }
        for k in &self.session_keys {
            field_named(k, "--session-keys")?;
        }
        for p in &self.param_fields {
            field_named(p, "--param-fields")?;
        }
        Ok(())
    }

    pub(crate) fn resolve(&self, kind: EventKind) -> Resolved {
        let keys = if self.session_keys.is_empty() {
            default_keys(kind)
        } else {
            // Names were checked by `validate`.
            self.session_keys
                .iter()
                .filter_map(|k| Field::from_name(k))
                .collect()
        };
        Resolved {
            kind,
            session_type: self.session_type,
            keys,
            param_fields: self
                .param_fields
                .iter()
                .filter_map(|p| Field::from_name(p))
                .collect(),
            limits: SessionLimits {
                max_session_time: minutes_to_nanos(self.max_session_minutes),
                max_event_separation: minutes_to_nanos(self.max_gap_minutes),
            },
            lateness: self.allowed_lateness,
            options: ScoreOptions {
                window_len: self.window,
                use_start_end_tokens: self.start_end_tokens,
                use_geo_mean: self.geo_mean,
            },
        }
    }

    /// These settings with the event kind and the keys made explicit (stored in the model).
    fn resolved_for(&self, resolved: &Resolved) -> SequenceSettings {
        SequenceSettings {
            event_kind: Some(resolved.kind),
            session_keys: resolved
                .keys
                .iter()
                .map(|f| f.ecs_name().to_string())
                .collect(),
            param_fields: resolved
                .param_fields
                .iter()
                .map(|f| f.ecs_name().to_string())
                .collect(),
            ..self.clone()
        }
    }
}

/// The sequence detector.
#[derive(Clone, Debug, Default)]
pub struct Sequence {
    /// Its settings.
    pub settings: SequenceSettings,
}

impl Sequence {
    /// A detector with `settings`.
    pub fn new(settings: SequenceSettings) -> Result<Self, DetectError> {
        settings.validate()?;
        Ok(Sequence { settings })
    }

    /// A fresh training state (the concrete type, for callers that merge or inspect it).
    pub fn sequence_trainer(&self) -> SequenceTrainer {
        SequenceTrainer {
            settings: self.settings.clone(),
            builder: None,
            counts: MarkovCounts::new(self.settings.session_type),
            events: 0,
            ignored: IgnoredCounts::default(),
            kept: Kept::new(
                usize::try_from(self.settings.keep_sessions_mb.saturating_mul(1 << 20))
                    .unwrap_or(usize::MAX),
            ),
        }
    }
}

impl Detector for Sequence {
    fn name(&self) -> &'static str {
        "sequence"
    }

    fn description(&self) -> &'static str {
        "sessions of admin commands or processes whose sequence is rare (Markov chain, msticpy anomalous_sequence)"
    }

    fn subject(&self) -> &'static str {
        "session"
    }

    fn needs(&self) -> Needs {
        Needs {
            kinds: &[EventKind::Command, EventKind::ProcessStart],
            required: &[],
            optional: &[
                Field::Operation,
                Field::User,
                Field::SourceIp,
                Field::Host,
                Field::ProcessPath,
                Field::ParentName,
            ],
        }
    }

    fn default_threshold(&self) -> Rule {
        Rule::Top(20)
    }

    fn settings(&self) -> serde_json::Value {
        serde_json::to_value(&self.settings).unwrap_or_default()
    }

    fn trainer(&self) -> Box<dyn Trainer> {
        Box::new(self.sequence_trainer())
    }

    fn load(&self, file: &ModelFile) -> Result<Box<dyn Model>, DetectError> {
        Ok(Box::new(SequenceModel::load(file)?))
    }

    fn scores_while_training(&self) -> bool {
        // Usually it does, but not beyond `keep_sessions_mb`: then the hunt must read its input
        // again, so stdin has to be kept.
        false
    }

    fn seed_records(
        &self,
        finding: &Finding,
    ) -> Option<Vec<serde_json::Map<String, serde_json::Value>>> {
        Some(explain::seed_records(finding))
    }
}

/// A session from a `--sessions` line.
fn prebuilt_record(
    line: &str,
    at: &Provenance,
    session_type: SessionType,
) -> Result<SessionRecord, DetectError> {
    let p = parse_session_line(line, session_type).map_err(|message| DetectError::BadSubject {
        at: at.to_string(),
        message,
    })?;
    let keys: Vec<(Field, Option<String>)> = [
        (Field::User, p.user),
        (Field::SourceIp, p.source_ip),
        (Field::Host, p.host),
    ]
    .into_iter()
    .filter(|(_, v)| v.is_some())
    .collect();
    Ok(SessionRecord {
        id: p.id.unwrap_or_else(|| at.to_string()),
        keys,
        start: p.start,
        end: p.end.or(p.start),
        commands: p.commands,
        provenance: vec![at.clone()],
        late: false,
        prebuilt: true,
    })
}

/// The training state: the Markov counts (mergeable) plus the sessions kept for `hunt`.
pub struct SequenceTrainer {
    settings: SequenceSettings,
    /// Set by the first usable event.
    builder: Option<SessionBuilder>,
    counts: MarkovCounts,
    events: u64,
    ignored: IgnoredCounts,
    kept: Kept,
}

const RESERVED_REASON: &str =
    "in sessions with a command named ##END## (msticpy's reserved end token): scored, not trained on";

impl SequenceTrainer {
    /// The counts so far (sessions still open are not counted yet).
    pub fn counts(&self) -> &MarkovCounts {
        &self.counts
    }

    fn close(&mut self, record: SessionRecord) {
        let n = record.commands.len() as u64;
        if record.late {
            self.events = self.events.saturating_sub(n);
            if let Some(b) = &self.builder {
                self.ignored.add_n(b.late_reason(), n);
            }
            self.kept.push(record);
            return;
        }
        match self.counts.observe(&record.commands) {
            Ok(()) => {}
            Err(MarkovError::ReservedName { .. }) => self.ignored.add_n(RESERVED_REASON, n),
            Err(e) => self.ignored.add_n(&format!("not trained on: {e}"), n),
        }
        self.kept.push(record);
    }

    /// Closes every open session (before merging or fitting).
    fn flush(&mut self) {
        let rest = match &mut self.builder {
            Some(b) => {
                let mut rest = b.drain();
                rest.extend(b.finish());
                rest
            }
            None => Vec::new(),
        };
        for record in rest {
            self.close(record);
        }
    }

    fn resolved(&self) -> Resolved {
        match &self.builder {
            Some(b) => b.resolved().clone(),
            None => self
                .settings
                .resolve(self.settings.event_kind.unwrap_or(EventKind::Command)),
        }
    }
}

impl Trainer for SequenceTrainer {
    fn observe(&mut self, event: &Event) {
        if self.builder.is_none() {
            let kind = match (self.settings.event_kind, event.kind()) {
                (Some(kind), _) => kind,
                (None, kind @ (EventKind::Command | EventKind::ProcessStart)) => kind,
                (None, _) => {
                    self.ignored.add("not a command or process start");
                    return;
                }
            };
            self.builder = Some(SessionBuilder::new(self.settings.resolve(kind)));
        }
        let Some(builder) = &mut self.builder else {
            return;
        };
        if builder.push(event, &mut self.ignored) {
            self.events += 1;
        }
        for record in builder.drain() {
            self.close(record);
        }
    }

    fn observe_prebuilt(&mut self, line: &str, at: &Provenance) -> Result<(), DetectError> {
        let record = prebuilt_record(line, at, self.settings.session_type)?;
        self.events += record.commands.len() as u64;
        self.close(record);
        Ok(())
    }

    fn set_scored_training_wanted(&mut self, wanted: bool) {
        if !wanted {
            self.kept.sample_only();
        }
    }

    fn events_used(&self) -> u64 {
        self.events
    }

    fn events_ignored(&self) -> Vec<(String, u64)> {
        self.ignored.to_vec()
    }

    fn merge(&mut self, other: Box<dyn Trainer>) -> Result<(), DetectError> {
        let mut other =
            crate::detector::merge_partner::<SequenceTrainer>(other, "sequence", |o| {
                o.settings == self.settings
            })?;
        if let (Some(a), Some(b)) = (&self.builder, &other.builder) {
            if a.resolved().kind != b.resolved().kind {
                return Err(DetectError::Settings(format!(
                    "cannot merge sessions of {} events with sessions of {} events",
                    a.resolved().kind,
                    b.resolved().kind
                )));
            }
        }
        // Sessions still open are closed: shard by the session keys so none straddles shards.
        self.flush();
        other.flush();
        self.counts
            .merge(&other.counts)
            .map_err(|e| DetectError::Other(format!("merging sequence counts: {e}")))?;
        self.events += other.events;
        self.ignored.merge(&other.ignored);
        self.kept.merge(other.kept);
        if self.builder.is_none() {
            self.builder = other.builder.take();
        }
        Ok(())
    }

    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any> {
        self
    }

    fn fit(mut self: Box<Self>, progress: &dyn Progress) -> Result<Fitted, DetectError> {
        self.flush();
        let resolved = self.resolved();
        if self.counts.sessions() == 0 {
            let ignored = self
                .ignored
                .to_vec()
                .iter()
                .map(|(r, n)| format!("{n} {r}"))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(DetectError::NoTrainingData(format!(
                "no sessions of {} events{}",
                resolved.kind,
                if ignored.is_empty() {
                    String::new()
                } else {
                    format!(" (ignored: {ignored})")
                }
            )));
        }
        let subjects = self.counts.sessions();
        let settings = self.settings.resolved_for(&resolved);
        let mut counts = std::mem::replace(
            &mut self.counts,
            MarkovCounts::new(self.settings.session_type),
        );
        let kept = std::mem::replace(&mut self.kept, Kept::new(0));
        let complete = kept.complete();
        let sessions = kept.into_sessions();
        if complete {
            // Every session is at hand: count them again in msticpy's order. Same counts; only
            // the order of each command's params changes (the order param factors multiply in,
            // spec §2.5), which makes the probabilities bit-identical to msticpy's and to any
            // other split of the same sessions into merged shards.
            let mut ordered: Vec<&SessionRecord> = sessions.iter().filter(|s| !s.late).collect();
            ordered.sort_by(|a, b| session::msticpy_order(a, b));
            let mut again = MarkovCounts::new(self.settings.session_type);
            for s in ordered {
                // Refused sessions (##END##) were counted under their reason already.
                let _ = again.observe(&s.commands);
            }
            if again.sessions() == counts.sessions() {
                counts = again;
            }
        }
        progress.stage("fitting the Markov model", None);
        let markov = MarkovModel::fit(counts, self.settings.modellable_params.clone())
            .map_err(|e| DetectError::Other(format!("sequence: {e}")))?;
        let model = SequenceModel::new(settings, resolved, markov);
        let n = sessions.len() as u64;
        progress.stage("scoring the training sessions", Some(n));
        // In batches, each session dropped once scored, and full explanations kept for the
        // highest-scored only: the commands and the scored subjects are not both held in full.
        let mut explained = ExplainTop::default();
        let mut sessions = sessions.into_iter();
        loop {
            let batch: Vec<SessionRecord> = sessions.by_ref().take(SCORE_BATCH).collect();
            if batch.is_empty() {
                break;
            }
            let k = batch.len() as u64;
            let scored: Vec<Scored> = batch
                .into_par_iter()
                .map(|s| model.score_session(&s))
                .collect();
            scored.into_iter().for_each(|s| explained.push(s));
            progress.advance(k);
        }
        let scored = explained.into_scored();
        let training_scores = scored.iter().map(|s| s.score).collect();
        Ok(Fitted {
            model: Box::new(model),
            training_scores,
            subjects,
            scored_training: complete.then_some(scored),
        })
    }
}

/// A trained sequence model: the Markov model and the settings it was trained with.
pub struct SequenceModel {
    settings: SequenceSettings,
    resolved: Resolved,
    markov: MarkovModel,
    /// Command names seen in training (for `unseen_commands`).
    known_commands: HashSet<String>,
}

impl SequenceModel {
    fn new(settings: SequenceSettings, resolved: Resolved, markov: MarkovModel) -> Self {
        let known_commands = markov
            .raw_tables()
            .seq1
            .into_iter()
            .map(|(name, _)| name)
            .filter(|n| n != START_TOKEN && n != END_TOKEN && n != UNK_TOKEN)
            .collect();
        SequenceModel {
            settings,
            resolved,
            markov,
            known_commands,
        }
    }

    /// Reads a model written by [`Model::save`].
    pub fn load(file: &ModelFile) -> Result<SequenceModel, DetectError> {
        let settings: SequenceSettings = crate::detector::load_settings(file, "sequence")?;
        settings.validate()?;
        let kind = settings.event_kind.ok_or_else(|| {
            DetectError::Other(format!("{}: settings name no event kind", file.origin()))
        })?;
        let markov: MarkovModel = file.get_json("markov")?;
        if markov.session_type() != settings.session_type {
            return Err(DetectError::Other(format!(
                "{}: the Markov model holds {} sessions but the settings say {}",
                file.origin(),
                markov.session_type(),
                settings.session_type
            )));
        }
        let resolved = settings.resolve(kind);
        Ok(SequenceModel::new(settings, resolved, markov))
    }

    /// The Markov model.
    pub fn markov(&self) -> &MarkovModel {
        &self.markov
    }

    /// The settings it was trained with (event kind and keys explicit).
    pub fn sequence_settings(&self) -> &SequenceSettings {
        &self.settings
    }

    /// A scorer with the concrete type.
    pub fn sequence_scorer(&self) -> SequenceScorer<'_> {
        SequenceScorer {
            model: self,
            builder: SessionBuilder::new(self.resolved.clone()),
            ignored: IgnoredCounts::default(),
            events: 0,
            pending: Vec::new(),
            scored: ExplainTop::default(),
        }
    }
}

impl Model for SequenceModel {
    fn detector(&self) -> &'static str {
        "sequence"
    }

    fn settings(&self) -> serde_json::Value {
        serde_json::to_value(&self.settings).unwrap_or_default()
    }

    fn save(&self, file: &mut ModelFile) -> Result<(), DetectError> {
        file.put_json("markov", &self.markov)?;
        Ok(())
    }

    fn scorer(&self) -> Box<dyn Scorer + '_> {
        Box::new(self.sequence_scorer())
    }
}

/// Scores the sessions of a batch of events (or of `--sessions` lines) with a trained model.
pub struct SequenceScorer<'a> {
    model: &'a SequenceModel,
    builder: SessionBuilder,
    ignored: IgnoredCounts,
    events: u64,
    pending: Vec<SessionRecord>,
    scored: ExplainTop,
}

impl SequenceScorer<'_> {
    /// Events not used, by reason.
    pub fn events_ignored(&self) -> Vec<(String, u64)> {
        self.ignored.to_vec()
    }

    fn score_pending(&mut self) {
        let model = self.model;
        let batch = std::mem::take(&mut self.pending);
        let scored: Vec<Scored> = batch.par_iter().map(|s| model.score_session(s)).collect();
        scored.into_iter().for_each(|s| self.scored.push(s));
    }
}

impl Scorer for SequenceScorer<'_> {
    fn observe(&mut self, event: &Event) {
        if self.builder.push(event, &mut self.ignored) {
            self.events += 1;
        }
        self.pending.extend(self.builder.drain());
        if self.pending.len() >= SCORE_BATCH {
            self.score_pending();
        }
    }

    fn observe_prebuilt(&mut self, line: &str, at: &Provenance) -> Result<(), DetectError> {
        let record = prebuilt_record(line, at, self.model.resolved.session_type)?;
        self.events += record.commands.len() as u64;
        self.pending.push(record);
        if self.pending.len() >= SCORE_BATCH {
            self.score_pending();
        }
        Ok(())
    }

    fn events_used(&self) -> u64 {
        self.events
    }

    fn finish(mut self: Box<Self>, progress: &dyn Progress) -> Result<Vec<Scored>, DetectError> {
        progress.stage("scoring sessions", None);
        let rest = self.builder.finish();
        self.pending.extend(rest);
        debug_assert!(self.builder.is_idle());
        self.score_pending();
        Ok(self.scored.into_scored())
    }
}

#[cfg(test)]
mod tests;
