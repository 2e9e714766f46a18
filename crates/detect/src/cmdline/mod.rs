//! `cmdline`: process starts whose command line is odd for this environment — the QFunction
//! "anomaly finder" notebook's autoencoder (`--model seed`), and a default model that ranks
//! attacks first by asking what an analyst asks: has *this* program been started *this* way, by
//! *this* parent, before?
//!
//! **Subject**: one process start, named `<host> <time> <command line>` ([`subject`]); its
//! provenance is that record. Context fields: `host.name`, `user.name`, `user.domain`,
//! `process.executable`, `process.name`, `process.command_line`, `process.pid`,
//! `process.parent.executable`, `process.parent.name`, `process.parent.pid`.
//!
//! **Models** (`model`):
//!
//! - `default` ([`rarity`]): five rarity measures — the parent→child pair, the executable's
//!   folder for its name, the command's shape for its executable, its template (volatile tokens
//!   as placeholders, [`template`]) for its executable, the template's character 3-grams — each a
//!   surprisal in context, combined as the mean of their percentiles against training. Native measure: `surprisal_bits`. Default
//!   threshold `top:50` (an analyst's review list whatever the batch size; give a quantile such
//!   as `q0.999` with `--threshold-basis train`).
//! - `seed` ([`seed`]): the notebook's byte-level autoencoder (`domain user command_line
//!   parent`, `max_length = int(mean + std)`, Embedding 256×4 → 128-64-32-16-32-64-128 tanh,
//!   MAE), with the notebook's bugs fixed; native measure `reconstruction_error` (the score);
//!   threshold `mean+6sd`, as the notebook.
//! - `ngram` ([`ngram`]): the baseline, mean character 3-gram surprisal of the command line;
//!   threshold `top:50`.
//!
//! **Explanation** (`oddhunt.explanation`), by model. `default`: `executable`, `parent`,
//! `folder`, `usual_folders`, `template`, `shape`, `score`, `surprisal_bits`, `measures` (per measure: `name`, `bits`,
//! `percentile`, `seen` in its context, `context_total`, `context_distinct`), `rare_text` (the
//! stretch of the line around its rarest 3-grams), `words_new_for_executable`,
//! `executable_starts_in_training`, `usual_children_of_parent`, `normal_for_executable` (the
//! most similar usual template of this executable, its count, similarity and a logged example).
//! `seed`: `reconstruction_error`, `max_length`, `input_bytes`, `truncated`, `error_by_part`
//! (mean error over the domain, user, command line and parent bytes), `worst_window` (the part
//! and text of the 12 bytes that reconstruct worst), `worst_positions`, `normal_example`.
//! `ngram`: `mean_bits`, `rare_text`, `rarest_3grams`. The expensive parts (the nearest normal
//! line, per-position errors) are computed for the `explain_top` highest scores of a batch.
//!
//! **Training** reads process starts with a command line; see each model for its state. All
//! states merge (counts add, bottom-k samples merge); the seed's network weights do not — shards
//! merge their samples and the network is trained once. Training keeps no events, so `hunt`
//! reads its input a second time to score (`scores_while_training` is false); the default
//! model's discounted counts make scoring the training events themselves equivalent to scoring
//! them as new after training on the rest.

pub mod nearest;
pub mod ngram;
pub mod rarity;
pub mod seed;
pub mod stats;
pub mod template;
pub mod text;

use crate::detector::{
    DetectError, Detector, Fitted, IgnoredCounts, Model, Needs, Progress, Scorer, Trainer,
};
use ngram::NgramCounts;
use oddhunt_core::modelfile::ModelFile;
use oddhunt_core::{Event, EventKind, Field, Locator, Measure, Rule, Scored, Timestamp};
use oddhunt_models::nn::{Architecture, Network};
use rarity::{Observation, RarityCounts, RarityModel};
use rayon::prelude::*;
use seed::{SeedMeta, SeedModel, SeedState, SeedTraining};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use stats::{stable_hash, BottomK};

/// Which model scores the command lines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CmdlineModelKind {
    /// The notebook's autoencoder, bugs fixed.
    Seed,
    /// Rarity in context (parent→child, shape, template, text).
    #[default]
    Default,
    /// Character 3-gram rarity, the baseline.
    Ngram,
}

impl CmdlineModelKind {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            CmdlineModelKind::Seed => "seed",
            CmdlineModelKind::Default => "default",
            CmdlineModelKind::Ngram => "ngram",
        }
    }
}

/// Settings of the cmdline detector.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CmdlineSettings {
    /// The model.
    pub model: CmdlineModelKind,
    /// Seed: a fixed `max_length` instead of `int(mean + std)` of the training lengths.
    pub max_length: Option<usize>,
    /// Seed: most epochs (training stops earlier when the validation loss stops improving).
    pub epochs: usize,
    /// Seed: rows per gradient step.
    pub batch_size: usize,
    /// Seed: Adam's learning rate. The notebook used 1e-5 (with 20 epochs); 1e-3 converges.
    pub learning_rate: f32,
    /// Seed: stop when the validation loss stops improving (patience 3, best weights kept).
    pub early_stopping: bool,
    /// Seed: share of the sample held out for the validation loss.
    pub validation_split: f64,
    /// Seed: gradient shards per batch (2 uses both cores of a small machine).
    pub shards: usize,
    /// Seed: texts kept (bottom-k sample) to train the network on.
    pub sample: usize,
    /// Seed of samples, weights and shuffling.
    pub seed: u64,
    /// Default: also score the executable's rarity on its host and for its account.
    pub host_user_context: bool,
    /// Default: most (executable, template) entries kept; the rarest are dropped beyond it.
    pub max_templates: usize,
    /// How many of a batch's highest scores get the expensive explanation parts.
    pub explain_top: usize,
}

impl Default for CmdlineSettings {
    fn default() -> Self {
        CmdlineSettings {
            model: CmdlineModelKind::Default,
            max_length: None,
            epochs: 20,
            batch_size: 256,
            learning_rate: 1e-3,
            early_stopping: true,
            validation_split: 0.1,
            shards: 2,
            sample: 200_000,
            seed: 42,
            host_user_context: false,
            max_templates: 2_000_000,
            explain_top: 10_000,
        }
    }
}

impl CmdlineSettings {
    /// The notebook's own training settings for the seed model: learning rate 1e-5 for 20
    /// epochs, no early stopping.
    pub fn notebook() -> Self {
        CmdlineSettings {
            model: CmdlineModelKind::Seed,
            learning_rate: 1e-5,
            epochs: 20,
            early_stopping: false,
            ..CmdlineSettings::default()
        }
    }

    fn validate(&self) -> Result<(), DetectError> {
        let bad = |m: String| Err(DetectError::Settings(format!("cmdline: {m}")));
        if self.epochs == 0 || self.batch_size == 0 || self.shards == 0 || self.sample == 0 {
            return bad("epochs, batch size, shards and sample must be at least 1".into());
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return bad(format!(
                "learning rate must be positive, got {}",
                self.learning_rate
            ));
        }
        if !(0.0..0.9).contains(&self.validation_split) {
            return bad(format!(
                "validation split must be in [0, 0.9), got {}",
                self.validation_split
            ));
        }
        if let Some(l) = self.max_length {
            if l == 0 || l > seed::MAX_TEXT_BYTES {
                return bad(format!(
                    "max length must be 1..={}, got {l}",
                    seed::MAX_TEXT_BYTES
                ));
            }
        }
        if self.max_templates < 100 {
            return bad(format!(
                "max templates must be at least 100, got {}",
                self.max_templates
            ));
        }
        Ok(())
    }

    fn training(&self) -> SeedTraining {
        SeedTraining {
            max_length: self.max_length,
            epochs: self.epochs,
            batch_size: self.batch_size,
            learning_rate: self.learning_rate,
            early_stopping: self.early_stopping,
            validation_split: self.validation_split,
            shards: self.shards,
            seed: self.seed,
        }
    }
}

/// The finding subject of a process start: `<host> <time> <command line>` (`-` for an absent
/// host or time). The synthetic-attack labels use the same form.
pub fn subject(host: Option<&str>, time: Option<Timestamp>, command_line: &str) -> String {
    let time = time.map(|t| t.to_string()).unwrap_or_else(|| "-".into());
    format!("{} {time} {command_line}", host.unwrap_or("-"))
}

/// The cmdline detector.
#[derive(Clone, Debug, Default)]
pub struct Cmdline {
    /// Its settings.
    pub settings: CmdlineSettings,
}

impl Cmdline {
    /// A detector with `settings`.
    pub fn new(settings: CmdlineSettings) -> Result<Self, DetectError> {
        settings.validate()?;
        Ok(Cmdline { settings })
    }
}

/// The sample key of an event, under the seed: what the event says (time, host, account,
/// executable, parent, command line) and its line or record number, so that distinct events get
/// distinct keys. Not the source's path: the same log read from another folder (or another
/// checkout of the evaluation sets) must give the same sample, hence the same seed network.
fn sample_key(seed: u64, event: &Event, command_line: &str) -> u64 {
    let (kind, n) = match event.provenance().locator {
        Locator::Line(n) => (0u8, n),
        Locator::Record(n) => (1u8, n),
    };
    let mut locator = [0u8; 9];
    locator[0] = kind;
    locator[1..].copy_from_slice(&n.to_le_bytes());
    let time = event
        .time()
        .map_or([0xff; 8], |t| t.unix_nanos().to_le_bytes());
    let field = |f: Field| event.get(f).unwrap_or("").as_bytes();
    stable_hash(
        seed,
        &[
            &locator,
            &time,
            field(Field::Host),
            field(Field::Domain),
            field(Field::User),
            field(Field::ProcessPath),
            field(Field::ParentPath),
            command_line.as_bytes(),
        ],
    )
}

/// Why an event is not used, if it is not.
fn unusable(event: &Event) -> Option<&'static str> {
    if event.kind() != EventKind::ProcessStart {
        return Some("not a process start");
    }
    if event.get(Field::CommandLine).is_none() {
        return Some("no command line");
    }
    None
}

impl Detector for Cmdline {
    fn name(&self) -> &'static str {
        "cmdline"
    }

    fn description(&self) -> &'static str {
        "process command lines that are odd for their executable, parent and this log (rarity in context; the seed's autoencoder with --variant seed)"
    }

    fn subject(&self) -> &'static str {
        "process start"
    }

    fn needs(&self) -> Needs {
        Needs {
            kinds: &[EventKind::ProcessStart],
            required: &[Field::CommandLine],
            optional: &[
                Field::ProcessPath,
                Field::ProcessName,
                Field::ParentPath,
                Field::ParentName,
                Field::Host,
                Field::User,
                Field::Domain,
            ],
        }
    }

    fn default_threshold(&self) -> Rule {
        match self.settings.model {
            CmdlineModelKind::Seed => Rule::MeanPlusSd(6.0),
            CmdlineModelKind::Default | CmdlineModelKind::Ngram => Rule::Top(50),
        }
    }

    fn settings(&self) -> Value {
        serde_json::to_value(&self.settings).unwrap_or_default()
    }

    fn trainer(&self) -> Box<dyn Trainer> {
        let s = &self.settings;
        let state = match s.model {
            CmdlineModelKind::Seed => State::Seed(SeedState::new(s.sample, s.seed)),
            CmdlineModelKind::Default => {
                State::Default(Box::new(RarityCounts::new(s.max_templates, s.seed)))
            }
            CmdlineModelKind::Ngram => State::Ngram {
                counts: NgramCounts::default(),
                sample: BottomK::new(rarity::EVENT_SAMPLE),
            },
        };
        Box::new(CmdlineTrainer {
            settings: s.clone(),
            state,
            events: 0,
            ignored: IgnoredCounts::default(),
        })
    }

    fn load(&self, file: &ModelFile) -> Result<Box<dyn Model>, DetectError> {
        let settings: CmdlineSettings = crate::detector::load_settings(file, "cmdline")?;
        settings.validate()?;
        let fitted = match settings.model {
            CmdlineModelKind::Seed => {
                let meta: SeedMeta = file.get_json("seed")?;
                let architecture: Architecture = file.get_json("architecture")?;
                let expected = Architecture::byte_autoencoder(meta.max_length);
                if architecture != expected
                    || meta.scaler.offset.len() != meta.max_length
                    || meta.scaler.scale.len() != meta.max_length
                {
                    return Err(DetectError::Other(format!(
                        "{}: the stored network and scaler do not fit max_length {}",
                        file.origin(),
                        meta.max_length
                    )));
                }
                let (weights, _) = file.get_bytes("weights")?;
                let network = Network::from_safetensors(weights, &architecture)
                    .map_err(|e| DetectError::Other(format!("{}: {e}", file.origin())))?;
                FittedModel::Seed(Box::new(SeedModel::from_parts(meta, network)))
            }
            CmdlineModelKind::Default => {
                let counts: RarityCounts = file.get_json("counts")?;
                FittedModel::Default(Box::new(RarityModel::new(
                    counts,
                    settings.host_user_context,
                )))
            }
            CmdlineModelKind::Ngram => FittedModel::Ngram(file.get_json("grams")?),
        };
        Ok(Box::new(CmdlineModel { settings, fitted }))
    }
}

/// The training state, by model.
enum State {
    Seed(SeedState),
    Default(Box<RarityCounts>),
    Ngram {
        counts: NgramCounts,
        sample: BottomK<String>,
    },
}

struct CmdlineTrainer {
    settings: CmdlineSettings,
    state: State,
    events: u64,
    ignored: IgnoredCounts,
}

impl Trainer for CmdlineTrainer {
    fn observe(&mut self, event: &Event) {
        if let Some(reason) = unusable(event) {
            self.ignored.add(reason);
            return;
        }
        let command_line = event.get(Field::CommandLine).unwrap_or("");
        self.events += 1;
        let key = sample_key(self.settings.seed, event, command_line);
        match &mut self.state {
            State::Seed(state) => state.observe(&text::seed_text(event), command_line, key),
            State::Default(counts) => {
                let exe = text::executable(event).unwrap_or_else(|| "-".into());
                let parent = text::parent(event);
                let host = text::host(event);
                let account = text::account(event);
                let folder = text::folder(event);
                let tmpl = template::template(command_line);
                counts.observe(
                    &Observation {
                        executable: &exe,
                        parent: &parent,
                        host: &host,
                        account: &account,
                        folder: &folder,
                        template: &tmpl,
                        command_line,
                    },
                    key,
                );
            }
            State::Ngram { counts, sample } => {
                counts.observe(command_line);
                sample.offer(key, || command_line.to_string());
            }
        }
    }

    fn events_used(&self) -> u64 {
        self.events
    }

    fn events_ignored(&self) -> Vec<(String, u64)> {
        self.ignored.to_vec()
    }

    fn merge(&mut self, other: Box<dyn Trainer>) -> Result<(), DetectError> {
        let other = crate::detector::merge_partner::<CmdlineTrainer>(other, "cmdline", |o| {
            o.settings == self.settings
        })?;
        let other = *other;
        self.events += other.events;
        self.ignored.merge(&other.ignored);
        match (&mut self.state, other.state) {
            (State::Seed(a), State::Seed(b)) => a.merge(b),
            (State::Default(a), State::Default(b)) => a.merge(*b),
            (
                State::Ngram { counts, sample },
                State::Ngram {
                    counts: c,
                    sample: s,
                },
            ) => {
                counts.merge(c);
                sample.merge(s);
            }
            _ => {
                return Err(DetectError::Settings(
                    "cannot merge cmdline states of different models".into(),
                ))
            }
        }
        Ok(())
    }

    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any> {
        self
    }

    fn fit(self: Box<Self>, progress: &dyn Progress) -> Result<Fitted, DetectError> {
        if self.events == 0 {
            return Err(DetectError::NoTrainingData(
                "no process starts with a command line".into(),
            ));
        }
        let settings = self.settings;
        let (fitted, training_scores) = match self.state {
            State::Seed(state) => {
                let (model, scores) = SeedModel::fit(state, &settings.training(), progress)?;
                (FittedModel::Seed(Box::new(model)), scores)
            }
            State::Default(counts) => {
                progress.stage("deriving rarity tables and training distributions", None);
                let model = RarityModel::new(*counts, settings.host_user_context);
                let scores = model.sample_scores();
                (FittedModel::Default(Box::new(model)), scores)
            }
            State::Ngram { counts, sample } => {
                let scores = sample
                    .sorted()
                    .into_iter()
                    .map(|(_, line)| counts.score(line).0)
                    .collect();
                (FittedModel::Ngram(counts), scores)
            }
        };
        Ok(Fitted {
            model: Box::new(CmdlineModel { settings, fitted }),
            training_scores,
            subjects: self.events,
            scored_training: None,
        })
    }
}

/// The fitted model, by kind.
enum FittedModel {
    Seed(Box<SeedModel>),
    Default(Box<RarityModel>),
    Ngram(NgramCounts),
}

/// A trained cmdline model.
pub struct CmdlineModel {
    settings: CmdlineSettings,
    fitted: FittedModel,
}

impl CmdlineModel {
    /// The seed network's `max_length`, for the seed model.
    pub fn max_length(&self) -> Option<usize> {
        match &self.fitted {
            FittedModel::Seed(m) => Some(m.meta.max_length),
            _ => None,
        }
    }

    /// The seed model's stored metadata (scaler, lengths, history).
    pub fn seed_meta(&self) -> Option<&SeedMeta> {
        match &self.fitted {
            FittedModel::Seed(m) => Some(&m.meta),
            _ => None,
        }
    }
}

impl Model for CmdlineModel {
    fn detector(&self) -> &'static str {
        "cmdline"
    }

    fn settings(&self) -> Value {
        serde_json::to_value(&self.settings).unwrap_or_default()
    }

    fn save(&self, file: &mut ModelFile) -> Result<(), DetectError> {
        match &self.fitted {
            FittedModel::Seed(m) => {
                file.put_json("seed", &m.meta)?;
                file.put_json("architecture", m.architecture())?;
                let weights = m
                    .network
                    .to_safetensors()
                    .map_err(|e| DetectError::Other(format!("cmdline seed network: {e}")))?;
                file.put_bytes("weights", "safetensors", &weights);
            }
            FittedModel::Default(m) => file.put_json("counts", m.counts())?,
            FittedModel::Ngram(c) => file.put_json("grams", c)?,
        }
        Ok(())
    }

    fn scorer(&self) -> Box<dyn Scorer + '_> {
        Box::new(CmdlineScorer {
            model: self,
            scored: Vec::new(),
            pending: Vec::new(),
            top: std::collections::BinaryHeap::new(),
            error: None,
        })
    }
}

/// Events scored per batch while they stream in (in parallel for the count models, one network
/// call for the seed).
const CHUNK: usize = 16_384;

/// A kept candidate for the full explanation: higher scores first, earlier events on ties.
struct Candidate {
    score: f64,
    index: usize,
    event: Event,
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}
impl Eq for Candidate {}
impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Candidate {
    /// "Greater" = a better candidate, so the heap's minimum is the one to drop.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.score
            .total_cmp(&other.score)
            .then(other.index.cmp(&self.index))
    }
}

/// Scores events in chunks as they arrive: every event becomes a lean [`Scored`] at once
/// (score, measure, summary, context, provenance; no explanation), and only the `explain_top`
/// best candidates keep their event for the full explanation at the end. Memory is therefore
/// one lean record per event plus `explain_top` events.
struct CmdlineScorer<'a> {
    model: &'a CmdlineModel,
    scored: Vec<Scored>,
    pending: Vec<Event>,
    top: std::collections::BinaryHeap<std::cmp::Reverse<Candidate>>,
    error: Option<DetectError>,
}

impl CmdlineScorer<'_> {
    fn flush(&mut self) {
        if self.pending.is_empty() || self.error.is_some() {
            return;
        }
        let model = self.model;
        let events = std::mem::take(&mut self.pending);
        let scores: Vec<f64> = match &model.fitted {
            FittedModel::Seed(m) => {
                let mut rows = Vec::with_capacity(events.len() * m.meta.max_length);
                for e in &events {
                    text::push_padded(text::seed_text(e).as_bytes(), m.meta.max_length, &mut rows);
                }
                match m.errors(&rows) {
                    Ok(errors) => errors.into_iter().map(f64::from).collect(),
                    Err(e) => {
                        self.error = Some(e);
                        return;
                    }
                }
            }
            FittedModel::Default(m) => events
                .par_iter()
                .map(|e| {
                    let parts = DefaultParts::of(e);
                    m.assess(&parts.observation(e)).score
                })
                .collect(),
            FittedModel::Ngram(c) => events
                .par_iter()
                .map(|e| c.score(e.get(Field::CommandLine).unwrap_or("")).0)
                .collect(),
        };
        let lean: Result<Vec<Scored>, DetectError> = events
            .par_iter()
            .zip(&scores)
            .map(|(e, &score)| model.scored(e, score, false))
            .collect();
        match lean {
            Ok(lean) => {
                let first = self.scored.len();
                self.scored.extend(lean);
                let keep = model.settings.explain_top;
                for (k, (event, score)) in events.into_iter().zip(scores).enumerate() {
                    if keep == 0 {
                        break;
                    }
                    let candidate = Candidate {
                        score,
                        index: first + k,
                        event,
                    };
                    if self.top.len() < keep {
                        self.top.push(std::cmp::Reverse(candidate));
                    } else if self.top.peek().is_some_and(|worst| candidate > worst.0) {
                        self.top.pop();
                        self.top.push(std::cmp::Reverse(candidate));
                    }
                }
            }
            Err(e) => self.error = Some(e),
        }
    }
}

impl Scorer for CmdlineScorer<'_> {
    fn observe(&mut self, event: &Event) {
        if unusable(event).is_some() {
            return;
        }
        self.pending.push(event.clone());
        if self.pending.len() >= CHUNK {
            self.flush();
        }
    }

    fn events_used(&self) -> u64 {
        (self.scored.len() + self.pending.len()) as u64
    }

    fn finish(mut self: Box<Self>, progress: &dyn Progress) -> Result<Vec<Scored>, DetectError> {
        self.flush();
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let model = self.model;
        let top: Vec<Candidate> = std::mem::take(&mut self.top)
            .into_vec()
            .into_iter()
            .map(|c| c.0)
            .collect();
        progress.stage(
            &format!("explaining the {} highest scores", top.len()),
            Some(top.len() as u64),
        );
        let deep: Result<Vec<(usize, Scored)>, DetectError> = top
            .par_iter()
            .map(|c| Ok((c.index, model.scored(&c.event, c.score, true)?)))
            .collect();
        let mut scored = std::mem::take(&mut self.scored);
        for (index, s) in deep? {
            scored[index] = s;
        }
        progress.advance(top.len() as u64);
        Ok(scored)
    }
}

/// The default model's per-event strings.
struct DefaultParts {
    exe: String,
    parent: String,
    host: String,
    account: String,
    folder: String,
    template: String,
}

impl DefaultParts {
    fn of(e: &Event) -> Self {
        let command_line = e.get(Field::CommandLine).unwrap_or("");
        DefaultParts {
            exe: text::executable(e).unwrap_or_else(|| "-".into()),
            parent: text::parent(e),
            host: text::host(e),
            account: text::account(e),
            folder: text::folder(e),
            template: template::template(command_line),
        }
    }

    fn observation<'a>(&'a self, e: &'a Event) -> Observation<'a> {
        Observation {
            executable: &self.exe,
            parent: &self.parent,
            host: &self.host,
            account: &self.account,
            folder: &self.folder,
            template: &self.template,
            command_line: e.get(Field::CommandLine).unwrap_or(""),
        }
    }
}

/// Shortens a text for summaries (on a character boundary).
fn short(text: &str, max: usize) -> String {
    oddhunt_core::sanitize::truncate(text, max).into_owned()
}

impl CmdlineModel {
    /// One scored process start.
    fn scored(&self, e: &Event, score: f64, deep: bool) -> Result<Scored, DetectError> {
        let command_line = e.get(Field::CommandLine).unwrap_or("");
        let (measure, summary, explanation) = match &self.fitted {
            FittedModel::Default(m) => {
                let parts = DefaultParts::of(e);
                let o = parts.observation(e);
                let a = m.assess(&o);
                let reasons = m.reasons(&o, &a);
                let summary = format!(
                    "{} → {}: {}",
                    o.parent,
                    o.executable,
                    if reasons.is_empty() {
                        "usual".to_string()
                    } else {
                        reasons.join("; ")
                    }
                );
                let explanation = if deep {
                    m.explain(&o, &a, true)
                } else {
                    Value::Null
                };
                (
                    Measure::new("surprisal_bits", a.surprisal),
                    summary,
                    explanation,
                )
            }
            FittedModel::Ngram(c) => {
                let (mean, per) = c.score(command_line);
                let rare = rarity::highlight(command_line, &per);
                let summary = match &rare {
                    Some(r) => format!(
                        "mean 3-gram surprisal {mean:.2} bits; rarest text {:?}",
                        short(r, 60)
                    ),
                    None => format!("mean 3-gram surprisal {mean:.2} bits"),
                };
                let explanation = if deep {
                    let mut grams: Vec<(usize, f64)> = per.iter().copied().enumerate().collect();
                    grams.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                    let bytes = command_line.as_bytes();
                    let rarest: Vec<Value> = grams
                        .iter()
                        .take(5)
                        .map(|&(i, b)| {
                            let lo = i.saturating_sub(2);
                            let hi = (i + 1).min(bytes.len());
                            let gram = String::from_utf8_lossy(bytes.get(lo..hi).unwrap_or(b""));
                            json!({"gram": gram, "bits": b})
                        })
                        .collect();
                    json!({"model": "ngram", "mean_bits": mean, "rare_text": rare, "rarest_3grams": rarest})
                } else {
                    Value::Null
                };
                (
                    Measure::new("mean_3gram_surprisal_bits", mean),
                    summary,
                    explanation,
                )
            }
            FittedModel::Seed(m) => self.seed_explanation(m, e, score, deep)?,
        };
        let mut s = Scored::new(
            subject(e.get(Field::Host), e.time(), command_line),
            score,
            measure,
        );
        s.summary = summary;
        s.explanation = explanation;
        s.first_seen = e.time();
        s.last_seen = e.time();
        s.provenance.push(e.provenance().clone());
        // Lean records (below the `explain_top` highest scores) keep the short identity fields
        // only: the command line is in the subject, and a million full records would cost
        // gigabytes.
        let fields: &[(Field, &str)] = if deep {
            &[
                (Field::Host, "host.name"),
                (Field::User, "user.name"),
                (Field::Domain, "user.domain"),
                (Field::ProcessPath, "process.executable"),
                (Field::CommandLine, "process.command_line"),
                (Field::ProcessId, "process.pid"),
                (Field::ParentPath, "process.parent.executable"),
                (Field::ParentProcessId, "process.parent.pid"),
            ]
        } else {
            &[
                (Field::Host, "host.name"),
                (Field::User, "user.name"),
                (Field::Domain, "user.domain"),
            ]
        };
        for &(field, key) in fields {
            if let Some(v) = e.get(field) {
                s.context.insert(key.into(), v.to_string());
            }
        }
        if let Some(n) = e.process_name() {
            s.context.insert("process.name".into(), n.to_string());
        }
        if let Some(n) = e.parent_name() {
            s.context
                .insert("process.parent.name".into(), n.to_string());
        }
        Ok(s)
    }

    fn seed_explanation(
        &self,
        m: &SeedModel,
        e: &Event,
        score: f64,
        deep: bool,
    ) -> Result<(Measure, String, Value), DetectError> {
        let text = text::seed_text(e);
        let max_length = m.meta.max_length;
        let measure = Measure::new("reconstruction_error", score);
        if !deep {
            return Ok((
                measure,
                format!("reconstruction error {score:.4}"),
                Value::Null,
            ));
        }
        let mut explanation = json!({
            "model": "seed",
            "reconstruction_error": score,
            "max_length": max_length,
            "input_bytes": text.len(),
            "truncated": text.len() > max_length,
        });
        let mut row = Vec::with_capacity(max_length);
        text::push_padded(text.as_bytes(), max_length, &mut row);
        let errors = m.position_errors(&row)?;
        let parts = text::seed_parts(e);
        let mut by_part = serde_json::Map::new();
        for (name, range) in &parts {
            let r = range.start.min(max_length)..range.end.min(max_length);
            let v = if r.is_empty() {
                Value::Null
            } else {
                json!(errors[r.clone()].iter().map(|&x| f64::from(x)).sum::<f64>() / r.len() as f64)
            };
            by_part.insert((*name).into(), v);
        }
        let padding = text.len().min(max_length)..max_length;
        if !padding.is_empty() {
            by_part.insert(
                "padding".into(),
                json!(
                    errors[padding.clone()]
                        .iter()
                        .map(|&x| f64::from(x))
                        .sum::<f64>()
                        / padding.len() as f64
                ),
            );
        }
        let within = text.len().min(max_length);
        let window = seed::worst_window(&errors, 0..within, 12).map(|start| {
            let end = (start + 12).min(within);
            let part = parts
                .iter()
                .find(|(_, r)| r.contains(&start))
                .map(|(n, _)| *n)
                .unwrap_or("separator");
            let mut s = start;
            while s > 0 && !text.is_char_boundary(s) {
                s -= 1;
            }
            let mut t = end.max(s);
            while t < text.len() && !text.is_char_boundary(t) {
                t += 1;
            }
            json!({"part": part, "start": start, "end": end, "text": text.get(s..t).unwrap_or("")})
        });
        let mut positions: Vec<(usize, f32)> =
            errors[..within].iter().copied().enumerate().collect();
        positions.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let worst: Vec<Value> = positions
            .iter()
            .take(8)
            .map(|&(p, err)| {
                let part = parts
                    .iter()
                    .find(|(_, r)| r.contains(&p))
                    .map(|(n, _)| *n)
                    .unwrap_or("separator");
                json!({"position": p, "byte": text.as_bytes()[p], "char": (text.as_bytes()[p] as char).to_string(), "error": err, "part": part})
            })
            .collect();
        let command_line = e.get(Field::CommandLine).unwrap_or("");
        let nearest = m.nearest(command_line).map(
            |(line, count, sim)| json!({"command_line": line, "count_in_sample": count, "similarity": sim}),
        );
        let summary = match &window {
            Some(w) => format!(
                "reconstruction error {score:.4}; worst in {}: {:?}",
                w["part"].as_str().unwrap_or(""),
                w["text"].as_str().unwrap_or("")
            ),
            None => format!("reconstruction error {score:.4}"),
        };
        if let Some(obj) = explanation.as_object_mut() {
            obj.insert("error_by_part".into(), Value::Object(by_part));
            obj.insert("worst_window".into(), window.unwrap_or(Value::Null));
            obj.insert("worst_positions".into(), Value::Array(worst));
            obj.insert("normal_example".into(), nearest.unwrap_or(Value::Null));
        }
        Ok((measure, summary, explanation))
    }
}
