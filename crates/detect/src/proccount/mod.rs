//! `proccount`: hours in which an entity ran an odd mix of processes — the feature-hashing
//! autoencoder notebook, made a trainable detector.
//!
//! **Subject**: one (entity, time window): the entity is a host, an account or a host+account
//! pair (`entity`), the window `window_minutes` long (default 60, aligned to the epoch). Subject
//! text `host=wks-1 2024-03-04T10:00:00Z/1h` ([`window_subject`]). What the model sees of a
//! window is a map process name (lower-case file name) → how many times it started, optionally
//! only for executables under `path_prefix` (the seed looked at `\Windows\` binaries, the ones
//! attackers live off the land with; the drive letter is ignored).
//!
//! **Model, as the seed**: the map is hashed into `n_features` (16) signed buckets exactly as
//! scikit-learn's `FeatureHasher(input_type='dict')` ([`oddhunt_models::hashing`]); an
//! autoencoder 16 → 8 → 4 → 8 → 16 with LeakyReLU (Keras' slope 0.3) after each Dense is
//! trained with Adam on MSE; the score is the Euclidean distance between a window's vector and
//! its reconstruction. `counts = log1p` feeds `ln(1 + count)` per name instead of the raw count
//! (busy servers start hundreds of service hosts an hour; raw counts let those dominate the
//! error); the default is the seed's raw counts.
//!
//! **Training state**: the windows (name counts, time range, first records), mergeable by
//! adding counts of the same window. Memory is bounded by `max_windows`: beyond it the state
//! keeps only windows whose key hash falls under a threshold that halves as needed — a sample of
//! whole windows, the same whatever the order of events or split into shards, so merging stays
//! exact. Network weights do not merge: shards merge their windows and the network is trained
//! once. `hunt` reads its input twice (training keeps no per-event data to score).
//!
//! **Explanation**: `entity`, `window_start`, `window_minutes`, `counts` (the window's names and
//! counts), `buckets` (per hashed dimension: the input value, its reconstruction, the squared
//! error, and the window's names that fall in it with their sign), `drivers` (the names in the
//! worst-reconstructed buckets, with their count here and their mean per window for this entity
//! in training), `usual_for_entity` (the entity's most frequent names per window in training),
//! `new_for_entity` (names this entity never ran in a training window). Default threshold
//! `mean+3sd` of the batch.

use crate::cmdline::stats::stable_hash;
use crate::detector::{
    DetectError, Detector, Fitted, IgnoredCounts, Model, Needs, Progress, Scorer, Trainer,
};
use oddhunt_core::modelfile::ModelFile;
use oddhunt_core::{Event, EventKind, Field, Measure, Provenance, Rule, Scored, Timestamp};
use oddhunt_models::hashing::{DictValue, FeatureHasher};
use oddhunt_models::nn::{
    fit, Activation, Architecture, EarlyStopping, EpochReport, History, Input, Loss, Network,
    RowError, TrainConfig, TrainObserver,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};

/// Records kept per window for provenance.
const KEEP_PROVENANCE: usize = 8;
/// Usual names kept per entity for explanations.
const USUAL_PER_ENTITY: usize = 20;

/// Who a window belongs to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    /// The host (`host.name`).
    #[default]
    Host,
    /// The account (`domain\user`).
    User,
    /// Host and account together.
    HostUser,
}

impl Entity {
    /// The label in subjects (`host=...`).
    pub fn label(self) -> &'static str {
        match self {
            Entity::Host => "host",
            Entity::User => "user",
            Entity::HostUser => "host+user",
        }
    }

    /// The entity of an event, lower-case; `None` when a needed field is absent.
    pub fn of(self, event: &Event) -> Option<String> {
        let account = || -> Option<String> {
            let user = event.get(Field::User)?;
            Some(match event.get(Field::Domain) {
                Some(d) if !user.contains('\\') => format!("{d}\\{user}").to_lowercase(),
                _ => user.to_lowercase(),
            })
        };
        match self {
            Entity::Host => event.get(Field::Host).map(str::to_lowercase),
            Entity::User => account(),
            Entity::HostUser => {
                let host = event.get(Field::Host)?.to_lowercase();
                Some(format!("{host}|{}", account()?))
            }
        }
    }
}

/// How counts enter the network.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CountScale {
    /// The count itself (the seed).
    #[default]
    Raw,
    /// `ln(1 + count)`.
    Log1p,
}

/// Settings of the proccount detector.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProccountSettings {
    /// Whose windows.
    pub entity: Entity,
    /// Window length in minutes.
    pub window_minutes: u64,
    /// Only executables whose path (drive letter removed, case ignored) starts with this, e.g.
    /// `\windows\`.
    pub path_prefix: Option<String>,
    /// Hashed dimensions.
    pub n_features: usize,
    /// How counts enter the network.
    pub counts: CountScale,
    /// Most epochs (early stopping ends sooner).
    pub epochs: usize,
    /// Rows per gradient step.
    pub batch_size: usize,
    /// Adam's learning rate.
    pub learning_rate: f32,
    /// Stop when the validation loss stops improving.
    pub early_stopping: bool,
    /// Share of windows held out for the validation loss.
    pub validation_split: f64,
    /// Seed of weights, shuffling and window sampling.
    pub seed: u64,
    /// Most windows kept in training (a hash sample of whole windows beyond it).
    pub max_windows: usize,
}

impl Default for ProccountSettings {
    fn default() -> Self {
        ProccountSettings {
            entity: Entity::Host,
            window_minutes: 60,
            path_prefix: None,
            n_features: 16,
            counts: CountScale::Raw,
            epochs: 50,
            batch_size: 32,
            learning_rate: 1e-3,
            early_stopping: true,
            validation_split: 0.1,
            seed: 42,
            max_windows: 1_000_000,
        }
    }
}

impl ProccountSettings {
    fn validate(&self) -> Result<(), DetectError> {
        let bad = |m: String| Err(DetectError::Settings(format!("proccount: {m}")));
        if self.window_minutes == 0 || self.window_minutes > 7 * 24 * 60 {
            return bad(format!(
                "window must be 1 minute to 7 days, got {} minutes",
                self.window_minutes
            ));
        }
        if self.n_features < 4 || self.n_features > 4096 {
            return bad(format!(
                "n_features must be 4..=4096, got {}",
                self.n_features
            ));
        }
        if self.epochs == 0 || self.batch_size == 0 || self.max_windows == 0 {
            return bad("epochs, batch size and max windows must be at least 1".into());
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
        Ok(())
    }

    fn window_nanos(&self) -> i64 {
        self.window_minutes as i64 * 60_000_000_000
    }

    fn hasher(&self) -> Result<FeatureHasher, DetectError> {
        FeatureHasher::new(self.n_features, true)
            .map_err(|e| DetectError::Settings(format!("proccount: {e}")))
    }

    /// The autoencoder: `n` → n/2 → n/4 → n/2 → `n`, LeakyReLU(0.3) (16-8-4-8-16 for 16).
    pub fn architecture(&self) -> Architecture {
        let n = self.n_features;
        Architecture::dense_autoencoder(
            n,
            &[(n / 2).max(1), (n / 4).max(1), (n / 2).max(1)],
            Activation::KERAS_LEAKY_RELU,
        )
    }
}

/// The text of a window length: `1h`, `90m`, `1d`.
pub fn window_text(minutes: u64) -> String {
    if minutes.is_multiple_of(24 * 60) {
        format!("{}d", minutes / (24 * 60))
    } else if minutes.is_multiple_of(60) {
        format!("{}h", minutes / 60)
    } else {
        format!("{minutes}m")
    }
}

/// The subject of a window: `host=wks-1 2024-03-04T10:00:00Z/1h`.
pub fn window_subject(entity: Entity, key: &str, start: Timestamp, minutes: u64) -> String {
    format!("{}={key} {start}/{}", entity.label(), window_text(minutes))
}

/// One window's counts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WindowCounts {
    /// Process name → starts.
    pub names: BTreeMap<String, u64>,
    /// First start.
    pub first_seen: Option<Timestamp>,
    /// Last start.
    pub last_seen: Option<Timestamp>,
    /// The first records (smallest provenance, so merges agree).
    pub provenance: Vec<Provenance>,
}

impl WindowCounts {
    fn add(&mut self, name: &str, time: Timestamp, provenance: &Provenance) {
        match self.names.get_mut(name) {
            Some(n) => *n += 1,
            None => {
                self.names.insert(name.to_string(), 1);
            }
        }
        self.first_seen = Some(self.first_seen.map_or(time, |t| t.min(time)));
        self.last_seen = Some(self.last_seen.map_or(time, |t| t.max(time)));
        keep_provenance(&mut self.provenance, provenance.clone());
    }

    fn merge(&mut self, other: WindowCounts) {
        for (name, n) in other.names {
            *self.names.entry(name).or_insert(0) += n;
        }
        self.first_seen = match (self.first_seen, other.first_seen) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last_seen = match (self.last_seen, other.last_seen) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        for p in other.provenance {
            keep_provenance(&mut self.provenance, p);
        }
    }

    /// The hashed vector of the window.
    pub fn vector(&self, hasher: &FeatureHasher, scale: CountScale, row: &mut [f64]) {
        row.fill(0.0);
        let pairs = self.names.iter().map(|(name, &n)| {
            let v = match scale {
                CountScale::Raw => n as f64,
                CountScale::Log1p => (n as f64).ln_1p(),
            };
            (name.as_str(), DictValue::Num(v))
        });
        // The row has n_features slots, so hashing cannot fail.
        let _ = hasher.hash_dict_into(pairs, row);
    }
}

fn keep_provenance(kept: &mut Vec<Provenance>, p: Provenance) {
    if kept.contains(&p) {
        return;
    }
    let at = kept.partition_point(|q| q < &p);
    if at < KEEP_PROVENANCE {
        kept.insert(at, p);
        kept.truncate(KEEP_PROVENANCE);
    }
}

/// A window's identity: the entity and the window start (nanoseconds since the epoch).
pub type WindowKey = (String, i64);

/// The mergeable training state: the windows, hash-sampled beyond `max_windows`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WindowState {
    /// Windows by (entity, start).
    pub windows: HashMap<WindowKey, WindowCounts>,
    /// Windows are kept when their key hash is at most `u64::MAX >> level`.
    pub level: u32,
    /// Seed of the key hash.
    pub seed: u64,
    /// Bound on windows.
    pub max_windows: usize,
}

impl WindowState {
    /// An empty state.
    pub fn new(max_windows: usize, seed: u64) -> Self {
        WindowState {
            windows: HashMap::new(),
            level: 0,
            seed,
            max_windows: max_windows.max(1),
        }
    }

    fn key_hash(&self, key: &WindowKey) -> u64 {
        stable_hash(self.seed, &[key.0.as_bytes(), &key.1.to_le_bytes()])
    }

    fn admits(&self, key: &WindowKey) -> bool {
        self.level == 0 || self.key_hash(key) <= u64::MAX >> self.level
    }

    /// Counts one start of `name` in the window `key`.
    pub fn add(&mut self, key: WindowKey, name: &str, time: Timestamp, provenance: &Provenance) {
        if let Some(w) = self.windows.get_mut(&key) {
            w.add(name, time, provenance);
            return;
        }
        if !self.admits(&key) {
            return;
        }
        let mut w = WindowCounts::default();
        w.add(name, time, provenance);
        self.windows.insert(key, w);
        self.bound();
    }

    fn bound(&mut self) {
        while self.windows.len() > self.max_windows && self.level < 63 {
            self.level += 1;
            let cut = u64::MAX >> self.level;
            let seed = self.seed;
            self.windows
                .retain(|k, _| stable_hash(seed, &[k.0.as_bytes(), &k.1.to_le_bytes()]) <= cut);
        }
    }

    /// Adds another state: the same window's counts add; the sample level is the union's.
    pub fn merge(&mut self, other: WindowState) {
        self.level = self.level.max(other.level);
        for (key, w) in other.windows {
            match self.windows.get_mut(&key) {
                Some(mine) => mine.merge(w),
                None => {
                    self.windows.insert(key, w);
                }
            }
        }
        if self.level > 0 {
            let cut = u64::MAX >> self.level;
            let seed = self.seed;
            self.windows
                .retain(|k, _| stable_hash(seed, &[k.0.as_bytes(), &k.1.to_le_bytes()]) <= cut);
        }
        self.bound();
    }
}

/// The proccount detector.
#[derive(Clone, Debug, Default)]
pub struct Proccount {
    /// Its settings.
    pub settings: ProccountSettings,
}

impl Proccount {
    /// A detector with `settings`.
    pub fn new(settings: ProccountSettings) -> Result<Self, DetectError> {
        settings.validate()?;
        Ok(Proccount { settings })
    }
}

/// Reads one event into a window: `(key, name)` or the reason it is not used.
fn window_of(
    settings: &ProccountSettings,
    event: &Event,
) -> Result<(WindowKey, String, Timestamp), &'static str> {
    if event.kind() != EventKind::ProcessStart {
        return Err("not a process start");
    }
    let Some(time) = event.time() else {
        return Err("no time");
    };
    let Some(name) = event.process_name() else {
        return Err("no process name or path");
    };
    if let Some(prefix) = &settings.path_prefix {
        let Some(path) = event.get(Field::ProcessPath) else {
            return Err("no process path (needed by the path prefix)");
        };
        if !under_prefix(path, prefix) {
            return Err("outside the path prefix");
        }
    }
    let Some(entity) = settings.entity.of(event) else {
        return Err("no entity field (host or user)");
    };
    let w = settings.window_nanos();
    let start = time.unix_nanos().div_euclid(w) * w;
    Ok(((entity, start), name.trim().to_lowercase(), time))
}

/// Whether `path` lies under `prefix`: both lower-cased, `/` read as `\`, the drive letter of
/// `path` ignored.
pub fn under_prefix(path: &str, prefix: &str) -> bool {
    let norm = |s: &str| s.to_lowercase().replace('/', "\\");
    let path = norm(path);
    let prefix = norm(prefix);
    let without_drive = match path.as_bytes() {
        [d, b':', ..] if d.is_ascii_alphabetic() => &path[2..],
        _ => path.as_str(),
    };
    without_drive.starts_with(&prefix) || path.starts_with(&prefix)
}

impl Detector for Proccount {
    fn name(&self) -> &'static str {
        "proccount"
    }

    fn description(&self) -> &'static str {
        "hours in which a host or account ran an odd mix of processes (feature hashing + autoencoder)"
    }

    fn subject(&self) -> &'static str {
        "entity window"
    }

    fn needs(&self) -> Needs {
        Needs {
            kinds: &[EventKind::ProcessStart],
            required: &[Field::ProcessPath, Field::Host],
            optional: &[Field::ProcessName, Field::User, Field::Domain],
        }
    }

    fn default_threshold(&self) -> Rule {
        Rule::MeanPlusSd(3.0)
    }

    fn settings(&self) -> Value {
        serde_json::to_value(&self.settings).unwrap_or_default()
    }

    fn trainer(&self) -> Box<dyn Trainer> {
        Box::new(ProccountTrainer {
            settings: self.settings.clone(),
            state: WindowState::new(self.settings.max_windows, self.settings.seed),
            events: 0,
            ignored: IgnoredCounts::default(),
        })
    }

    fn load(&self, file: &ModelFile) -> Result<Box<dyn Model>, DetectError> {
        let settings: ProccountSettings = crate::detector::load_settings(file, "proccount")?;
        settings.validate()?;
        let architecture: Architecture = file.get_json("architecture")?;
        if architecture != settings.architecture() {
            return Err(DetectError::Other(format!(
                "{}: the stored network does not match n_features {}",
                file.origin(),
                settings.n_features
            )));
        }
        let (weights, _) = file.get_bytes("weights")?;
        let network = Network::from_safetensors(weights, &architecture)
            .map_err(|e| DetectError::Other(format!("{}: {e}", file.origin())))?;
        let meta: ProccountMeta = file.get_json("proccount")?;
        let hasher = settings.hasher()?;
        Ok(Box::new(ProccountModel {
            settings,
            network,
            meta,
            hasher,
        }))
    }
}

struct ProccountTrainer {
    settings: ProccountSettings,
    state: WindowState,
    events: u64,
    ignored: IgnoredCounts,
}

impl Trainer for ProccountTrainer {
    fn observe(&mut self, event: &Event) {
        match window_of(&self.settings, event) {
            Ok((key, name, time)) => {
                self.events += 1;
                self.state.add(key, &name, time, event.provenance());
            }
            Err(reason) => self.ignored.add(reason),
        }
    }

    fn events_used(&self) -> u64 {
        self.events
    }

    fn events_ignored(&self) -> Vec<(String, u64)> {
        self.ignored.to_vec()
    }

    fn merge(&mut self, other: Box<dyn Trainer>) -> Result<(), DetectError> {
        let other = crate::detector::merge_partner::<ProccountTrainer>(other, "proccount", |o| {
            o.settings == self.settings
        })?;
        let other = *other;
        self.events += other.events;
        self.ignored.merge(&other.ignored);
        self.state.merge(other.state);
        Ok(())
    }

    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any> {
        self
    }

    fn fit(self: Box<Self>, progress: &dyn Progress) -> Result<Fitted, DetectError> {
        let subjects = self.state.windows.len() as u64;
        let (model, scores) = ProccountModel::fit(self.settings, self.state, progress)?;
        Ok(Fitted {
            model: Box::new(model),
            training_scores: scores,
            subjects,
            scored_training: None,
        })
    }
}

/// A name's usual count for an entity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Usual {
    /// Process name.
    pub name: String,
    /// Mean starts per training window of the entity (windows without it count 0).
    pub per_window: f64,
    /// Training windows of the entity that ran it.
    pub windows: u64,
}

/// What is stored beside the weights.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProccountMeta {
    /// Training windows per entity.
    pub entity_windows: HashMap<String, u64>,
    /// The most frequent names per entity.
    pub usual: HashMap<String, Vec<Usual>>,
    /// Every name an entity ran in training (for "new for this entity"), at most 1,000 each.
    pub known_names: HashMap<String, Vec<String>>,
    /// Windows trained on.
    pub windows: usize,
    /// The window sample level at the end of training (0 = every window kept).
    pub sample_level: u32,
    /// Training history.
    pub history: History,
}

/// A trained proccount model.
pub struct ProccountModel {
    settings: ProccountSettings,
    network: Network,
    meta: ProccountMeta,
    hasher: FeatureHasher,
}

struct EpochProgress<'a> {
    progress: &'a dyn Progress,
}

impl TrainObserver for EpochProgress<'_> {
    fn on_epoch(&mut self, report: &EpochReport) {
        self.progress.advance(1);
        let val = report
            .val_loss
            .map(|v| format!(", val_loss {v:.5}"))
            .unwrap_or_default();
        self.progress.message(&format!(
            "epoch {}/{}: loss {:.5}{val}",
            report.epoch, report.epochs, report.loss
        ));
    }
}

fn nn_error(e: oddhunt_models::nn::NnError) -> DetectError {
    DetectError::Other(format!("proccount network: {e}"))
}

/// Windows in a deterministic order: by entity, then start.
fn sorted_windows(windows: HashMap<WindowKey, WindowCounts>) -> Vec<(WindowKey, WindowCounts)> {
    let mut v: Vec<(WindowKey, WindowCounts)> = windows.into_iter().collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

impl ProccountModel {
    /// Trains on the windows of `state`; returns the model and the training windows' scores.
    pub fn fit(
        settings: ProccountSettings,
        state: WindowState,
        progress: &dyn Progress,
    ) -> Result<(ProccountModel, Vec<f64>), DetectError> {
        if state.windows.is_empty() {
            return Err(DetectError::NoTrainingData(
                "no process starts with a time and an entity".into(),
            ));
        }
        let hasher = settings.hasher()?;
        let level = state.level;
        let windows = sorted_windows(state.windows);
        let n = windows.len();
        let width = settings.n_features;
        let mut x = vec![0.0f32; n * width];
        let mut row = vec![0.0f64; width];
        for (i, (_, w)) in windows.iter().enumerate() {
            w.vector(&hasher, settings.counts, &mut row);
            for (slot, v) in x[i * width..(i + 1) * width].iter_mut().zip(&row) {
                *slot = *v as f32;
            }
        }
        // Shuffle the row order by key hash, so Keras' "last rows validate" split is not the
        // last entities alphabetically.
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&i| {
            stable_hash(
                settings.seed,
                &[windows[i].0 .0.as_bytes(), &windows[i].0 .1.to_le_bytes()],
            )
        });
        let shuffled: Vec<f32> = order
            .iter()
            .flat_map(|&i| x[i * width..(i + 1) * width].iter().copied())
            .collect();
        let validation_split = if (n as f64 * settings.validation_split).floor() >= 1.0
            && (n as f64 * (1.0 - settings.validation_split)).floor() >= 1.0
        {
            settings.validation_split
        } else {
            0.0
        };
        let config = TrainConfig {
            epochs: settings.epochs,
            batch_size: settings.batch_size,
            shuffle: true,
            seed: settings.seed,
            validation_split,
            early_stopping: settings.early_stopping.then(EarlyStopping::default),
            learning_rate: settings.learning_rate,
            loss: Loss::Mse,
            shards: 1,
        };
        let mut network = Network::new(settings.architecture(), settings.seed).map_err(nn_error)?;
        progress.stage(
            &format!("training the window autoencoder on {n} windows"),
            Some(config.epochs as u64),
        );
        let history = fit(
            &mut network,
            Input::Values(&shuffled),
            &shuffled,
            &config,
            &mut EpochProgress { progress },
        )
        .map_err(nn_error)?;
        let scores = network
            .row_errors(Input::Values(&x), &x, RowError::Euclidean)
            .map_err(nn_error)?;
        // Per-entity usual names.
        let mut entity_windows: HashMap<String, u64> = HashMap::new();
        let mut sums: HashMap<String, HashMap<String, (u64, u64)>> = HashMap::new();
        for ((entity, _), w) in &windows {
            *entity_windows.entry(entity.clone()).or_insert(0) += 1;
            let per = sums.entry(entity.clone()).or_default();
            for (name, &c) in &w.names {
                let e = per.entry(name.clone()).or_insert((0, 0));
                e.0 += c;
                e.1 += 1;
            }
        }
        let mut usual = HashMap::new();
        let mut known_names = HashMap::new();
        for (entity, per) in sums {
            let total = entity_windows.get(&entity).copied().unwrap_or(1).max(1) as f64;
            let mut list: Vec<Usual> = per
                .iter()
                .map(|(name, &(sum, wins))| Usual {
                    name: name.clone(),
                    per_window: sum as f64 / total,
                    windows: wins,
                })
                .collect();
            list.sort_by(|a, b| {
                b.per_window
                    .total_cmp(&a.per_window)
                    .then(a.name.cmp(&b.name))
            });
            let mut names: Vec<String> = per.into_keys().collect();
            names.sort();
            names.truncate(1_000);
            known_names.insert(entity.clone(), names);
            list.truncate(USUAL_PER_ENTITY);
            usual.insert(entity, list);
        }
        let meta = ProccountMeta {
            entity_windows,
            usual,
            known_names,
            windows: n,
            sample_level: level,
            history,
        };
        Ok((
            ProccountModel {
                settings,
                network,
                meta,
                hasher,
            },
            scores.into_iter().map(f64::from).collect(),
        ))
    }

    /// Euclidean reconstruction errors of hashed windows (`rows × n_features`).
    pub fn errors(&self, x: &[f32]) -> Result<Vec<f32>, DetectError> {
        self.network
            .row_errors(Input::Values(x), x, RowError::Euclidean)
            .map_err(nn_error)
    }

    /// Scores name → count maps directly (the seed's check works on such maps).
    pub fn score_maps(&self, maps: &[BTreeMap<String, u64>]) -> Result<Vec<f64>, DetectError> {
        let width = self.settings.n_features;
        let mut x = Vec::with_capacity(maps.len() * width);
        let mut row = vec![0.0f64; width];
        for names in maps {
            let w = WindowCounts {
                names: names.clone(),
                ..WindowCounts::default()
            };
            w.vector(&self.hasher, self.settings.counts, &mut row);
            x.extend(row.iter().map(|&v| v as f32));
        }
        Ok(self.errors(&x)?.into_iter().map(f64::from).collect())
    }

    /// The training metadata.
    pub fn meta(&self) -> &ProccountMeta {
        &self.meta
    }

    fn scored(
        &self,
        key: &WindowKey,
        w: &WindowCounts,
        input: &[f32],
        output: &[f32],
        error: f32,
    ) -> Scored {
        let (entity, start) = key;
        let start = Timestamp::from_unix_nanos(*start);
        let subject = window_subject(
            self.settings.entity,
            entity,
            start,
            self.settings.window_minutes,
        );
        let mut s = Scored::new(
            subject,
            f64::from(error),
            Measure::new("reconstruction_error", f64::from(error)),
        );
        // Per bucket: value, reconstruction, squared error, names in it.
        let mut buckets: Vec<(usize, f32, f32, f32, Vec<Value>)> = (0..input.len())
            .map(|b| {
                let d = input[b] - output[b];
                (b, input[b], output[b], d * d, Vec::new())
            })
            .collect();
        for (name, &count) in &w.names {
            let (b, sign) = self.hasher.bucket(name);
            if let Some(slot) = buckets.get_mut(b) {
                slot.4
                    .push(json!({"name": name, "count": count, "sign": sign}));
            }
        }
        buckets.sort_by(|a, b| b.3.total_cmp(&a.3).then(a.0.cmp(&b.0)));
        let usual = self.meta.usual.get(entity);
        let usual_of = |name: &str| -> f64 {
            usual
                .and_then(|u| u.iter().find(|x| x.name == name))
                .map_or(0.0, |x| x.per_window)
        };
        let known = self.meta.known_names.get(entity);
        let trained_entity = self.meta.entity_windows.contains_key(entity);
        let mut drivers: Vec<Value> = Vec::new();
        let total_error: f32 = buckets.iter().map(|b| b.3).sum();
        let mut covered = 0.0f32;
        for (b, _, _, err, names) in &buckets {
            if covered >= 0.8 * total_error || drivers.len() >= 8 {
                break;
            }
            covered += err;
            for n in names {
                let name = n["name"].as_str().unwrap_or("");
                drivers.push(json!({
                    "name": name,
                    "count": n["count"],
                    "usual_per_window": usual_of(name),
                    "bucket": b,
                    "share_of_error": if total_error > 0.0 { f64::from(err / total_error) } else { 0.0 },
                }));
            }
        }
        let new_names: Vec<&String> = w
            .names
            .keys()
            .filter(|n| trained_entity && known.is_none_or(|k| k.binary_search(n).is_err()))
            .take(20)
            .collect();
        let driver_names: Vec<String> = drivers
            .iter()
            .filter_map(|d| {
                let name = d["name"].as_str()?;
                Some(format!(
                    "{name} ×{} (usual {:.1})",
                    d["count"],
                    d["usual_per_window"].as_f64().unwrap_or(0.0)
                ))
            })
            .take(5)
            .collect();
        let total: u64 = w.names.values().sum();
        s.summary = format!(
            "{} {} process starts in {}; {}{}",
            self.settings.entity.label(),
            entity,
            window_text(self.settings.window_minutes),
            if driver_names.is_empty() {
                format!("{total} starts")
            } else {
                format!("error from {}", driver_names.join(", "))
            },
            if new_names.is_empty() {
                String::new()
            } else {
                format!(
                    "; new for this {}: {}",
                    self.settings.entity.label(),
                    new_names
                        .iter()
                        .take(5)
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        );
        s.first_seen = w.first_seen;
        s.last_seen = w.last_seen;
        s.provenance = w.provenance.clone();
        match self.settings.entity {
            Entity::Host => {
                s.context.insert("host.name".into(), entity.clone());
            }
            Entity::User => {
                s.context.insert("user.name".into(), entity.clone());
            }
            Entity::HostUser => {
                if let Some((h, u)) = entity.split_once('|') {
                    s.context.insert("host.name".into(), h.to_string());
                    s.context.insert("user.name".into(), u.to_string());
                }
            }
        }
        s.explanation = json!({
            "entity": entity,
            "entity_kind": self.settings.entity.label(),
            "window_start": start,
            "window_minutes": self.settings.window_minutes,
            "reconstruction_error": error,
            "total_starts": total,
            "counts": w.names,
            "buckets": buckets.iter().map(|(b, x, y, e, names)| json!({
                "bucket": b, "value": x, "reconstruction": y, "squared_error": e, "names": names,
            })).collect::<Vec<_>>(),
            "drivers": drivers,
            "usual_for_entity": usual.map(|u| u.iter().take(10).map(|x| json!({
                "name": x.name, "per_window": x.per_window, "windows": x.windows,
            })).collect::<Vec<_>>()),
            "entity_training_windows": self.meta.entity_windows.get(entity).copied().unwrap_or(0),
            "new_for_entity": new_names,
        });
        s
    }
}

impl Model for ProccountModel {
    fn detector(&self) -> &'static str {
        "proccount"
    }

    fn settings(&self) -> Value {
        serde_json::to_value(&self.settings).unwrap_or_default()
    }

    fn save(&self, file: &mut ModelFile) -> Result<(), DetectError> {
        file.put_json("architecture", self.network.architecture())?;
        let weights = self
            .network
            .to_safetensors()
            .map_err(|e| DetectError::Other(format!("proccount network: {e}")))?;
        file.put_bytes("weights", "safetensors", &weights);
        file.put_json("proccount", &self.meta)?;
        Ok(())
    }

    fn scorer(&self) -> Box<dyn Scorer + '_> {
        Box::new(ProccountScorer {
            model: self,
            windows: HashMap::new(),
            events: 0,
        })
    }
}

struct ProccountScorer<'a> {
    model: &'a ProccountModel,
    windows: HashMap<WindowKey, WindowCounts>,
    events: u64,
}

impl Scorer for ProccountScorer<'_> {
    fn observe(&mut self, event: &Event) {
        if let Ok((key, name, time)) = window_of(&self.model.settings, event) {
            self.events += 1;
            self.windows
                .entry(key)
                .or_default()
                .add(&name, time, event.provenance());
        }
    }

    fn events_used(&self) -> u64 {
        self.events
    }

    fn finish(self: Box<Self>, progress: &dyn Progress) -> Result<Vec<Scored>, DetectError> {
        let model = self.model;
        let windows = sorted_windows(self.windows);
        progress.stage("scoring windows", Some(windows.len() as u64));
        let width = model.settings.n_features;
        let mut x = vec![0.0f32; windows.len() * width];
        let mut row = vec![0.0f64; width];
        for (i, (_, w)) in windows.iter().enumerate() {
            w.vector(&model.hasher, model.settings.counts, &mut row);
            for (slot, v) in x[i * width..(i + 1) * width].iter_mut().zip(&row) {
                *slot = *v as f32;
            }
        }
        if windows.is_empty() {
            return Ok(Vec::new());
        }
        let output = model.network.predict(Input::Values(&x)).map_err(nn_error)?;
        let errors = model.errors(&x)?;
        let scored = windows
            .iter()
            .enumerate()
            .map(|(i, (key, w))| {
                let r = i * width..(i + 1) * width;
                model.scored(key, w, &x[r.clone()], &output[r], errors[i])
            })
            .collect();
        progress.advance(windows.len() as u64);
        Ok(scored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_ignore_drive_and_case() {
        assert!(under_prefix(
            r"C:\Windows\System32\whoami.exe",
            r"\windows\"
        ));
        assert!(under_prefix(r"c:/windows/system32/net.exe", r"\Windows\"));
        assert!(!under_prefix(r"C:\Users\bob\whoami.exe", r"\windows\"));
    }

    #[test]
    fn subjects_and_window_texts() {
        let t = Timestamp::parse("2024-03-04T10:00:00Z").unwrap();
        assert_eq!(
            window_subject(Entity::Host, "wks-1", t, 60),
            "host=wks-1 2024-03-04T10:00:00Z/1h"
        );
        assert_eq!(window_text(90), "90m");
        assert_eq!(window_text(1440), "1d");
    }

    fn key(i: u64) -> WindowKey {
        (format!("h{}", i % 7), (i / 7) as i64 * 3_600_000_000_000)
    }

    fn prov(i: u64) -> Provenance {
        Provenance::line(std::sync::Arc::from("t"), i)
    }

    #[test]
    fn window_sample_merges_exactly() {
        let t = Timestamp::parse("2024-03-04T10:00:00Z").unwrap();
        let mut whole = WindowState::new(20, 3);
        let mut a = WindowState::new(20, 3);
        let mut b = WindowState::new(20, 3);
        for i in 0..400u64 {
            let name = ["cmd.exe", "net.exe", "svchost.exe"][(i % 3) as usize];
            whole.add(key(i), name, t, &prov(i));
            if i % 5 < 2 {
                a.add(key(i), name, t, &prov(i));
            } else {
                b.add(key(i), name, t, &prov(i));
            }
        }
        assert!(whole.level > 0 && whole.windows.len() <= 20);
        a.merge(b);
        assert_eq!(a, whole);
    }
}
