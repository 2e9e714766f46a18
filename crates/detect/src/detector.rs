//! The life every detector shares: accumulate → fit → score → explain.
//!
//! A [`Detector`] is a named recipe with settings. Its [`Trainer`] accumulates events into a
//! training state (streaming; mergeable wherever the algorithm allows), then fits a [`Model`].
//! The model persists into a [`ModelFile`] and hands out [`Scorer`]s, which accumulate the events
//! to score and return one [`Scored`] per subject (a process start, a session, a domain, ...),
//! each with its explanation. Thresholds and exclusions are applied afterwards by the pipeline,
//! the same way for every detector.

use oddhunt_core::modelfile::{ModelFile, ModelFileError};
use oddhunt_core::{Event, EventKind, Field, Provenance, Rule, Scored};
use std::any::Any;

/// Detector errors.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    /// The model file could not be used.
    #[error(transparent)]
    ModelFile(#[from] ModelFileError),
    /// The model belongs to another detector.
    #[error("model {origin} was trained by detector {found}, not {expected}")]
    WrongDetector {
        /// Model file.
        origin: String,
        /// Its detector.
        found: String,
        /// The detector asked for.
        expected: String,
    },
    /// Training saw nothing usable.
    #[error("nothing to train on: {0}")]
    NoTrainingData(String),
    /// A setting is invalid.
    #[error("invalid setting: {0}")]
    Settings(String),
    /// A pre-built subject (one line of `--sessions` input) that cannot be read; the caller
    /// may skip it and go on.
    #[error("{at}: {message}")]
    BadSubject {
        /// Where it is (`file:line`).
        at: String,
        /// What is wrong with it.
        message: String,
    },
    /// Any other failure, with context.
    #[error("{0}")]
    Other(String),
}

/// The refusal of detectors that read events only.
fn no_prebuilt() -> DetectError {
    DetectError::Settings(
        "this detector reads events (-i), not pre-built subjects such as --sessions".into(),
    )
}

/// Progress reporting from long stages (the CLI draws bars; libraries may ignore it).
pub trait Progress: Sync {
    /// A new stage starts, with a known total of steps if any.
    fn stage(&self, name: &str, total: Option<u64>);
    /// `n` more steps done.
    fn advance(&self, n: u64);
    /// A status line for the current stage (e.g. the loss after an epoch).
    fn message(&self, text: &str);
}

/// Progress that goes nowhere.
pub struct NoProgress;

impl Progress for NoProgress {
    fn stage(&self, _name: &str, _total: Option<u64>) {}
    fn advance(&self, _n: u64) {}
    fn message(&self, _text: &str) {}
}

/// What a detector reads, for `oddhunt detectors` and for choosing inputs.
#[derive(Clone, Debug)]
pub struct Needs {
    /// Event kinds it uses.
    pub kinds: &'static [EventKind],
    /// Fields it requires (events without them are skipped and counted).
    pub required: &'static [Field],
    /// Fields it uses when present.
    pub optional: &'static [Field],
}

/// A detector: a named recipe with settings.
pub trait Detector: Send + Sync {
    /// Short name used on the command line (`masquerade`, `sequence`, ...).
    fn name(&self) -> &'static str;
    /// One line: what it finds.
    fn description(&self) -> &'static str;
    /// The subject it scores, in the analyst's words (`rare process name`, `session`, ...).
    fn subject(&self) -> &'static str;
    /// What it reads.
    fn needs(&self) -> Needs;
    /// The threshold rule used when the user gives none.
    fn default_threshold(&self) -> Rule;
    /// The detector's settings as JSON (stored in model files, shown in reports).
    fn settings(&self) -> serde_json::Value;
    /// A fresh training state.
    fn trainer(&self) -> Box<dyn Trainer>;
    /// Rebuilds a trained model from a model file written by [`Model::save`].
    fn load(&self, file: &ModelFile) -> Result<Box<dyn Model>, DetectError>;
    /// Whether fitting returns the training subjects scored ([`Fitted::scored_training`]), so a
    /// hunt needs no second read of its input (the CLI keeps a copy of stdin otherwise).
    fn scores_while_training(&self) -> bool {
        false
    }
    /// Whether `-i` inputs are tables of pre-built subjects (CSV, TSV or JSON, one subject per
    /// row) that the caller hands to [`Trainer::observe_prebuilt`] and
    /// [`Scorer::observe_prebuilt`] as one JSON object of columns per row, instead of logs
    /// mapped to events (the generic `iforest` detector).
    fn reads_rows(&self) -> bool {
        false
    }
    /// The record shape the seed notebook published for a finding (`--format loganalytics`),
    /// when the detector has a seed with its own shape.
    fn seed_records(
        &self,
        _finding: &oddhunt_core::Finding,
    ) -> Option<Vec<serde_json::Map<String, serde_json::Value>>> {
        None
    }
}

/// Accumulates training events.
pub trait Trainer: Send {
    /// Takes one event (events the detector does not use are counted and ignored).
    fn observe(&mut self, event: &Event);
    /// Takes one pre-built subject: a line of a file of subjects assembled elsewhere (sessions
    /// cut by KQL `row_window_session` or Spark, `--sessions`), found at `at`. A line that
    /// cannot be read is a [`DetectError::BadSubject`] (the caller skips or stops); detectors
    /// that read events only refuse every line.
    fn observe_prebuilt(&mut self, line: &str, at: &Provenance) -> Result<(), DetectError> {
        let _ = (line, at);
        Err(no_prebuilt())
    }
    /// Says whether the caller will use [`Fitted::scored_training`] (`hunt` does, `train`
    /// does not), so a trainer need not keep what scoring all its training subjects takes.
    /// Called before the first event; ignored by default.
    fn set_scored_training_wanted(&mut self, wanted: bool) {
        let _ = wanted;
    }
    /// Events used so far.
    fn events_used(&self) -> u64;
    /// Events ignored so far, by reason (wrong kind, missing field ...).
    fn events_ignored(&self) -> Vec<(String, u64)>;
    /// Merges another partial state of the same detector and settings into this one.
    fn merge(&mut self, other: Box<dyn Trainer>) -> Result<(), DetectError>;
    /// For [`Trainer::merge`]: the concrete state.
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
    /// Fits the model.
    fn fit(self: Box<Self>, progress: &dyn Progress) -> Result<Fitted, DetectError>;
}

/// For [`Trainer::merge`]: `other` as this detector's own trainer type `T`, refusing a state
/// of another detector, or one trained with other settings (`same_settings` compares them).
pub fn merge_partner<T: Trainer + 'static>(
    other: Box<dyn Trainer>,
    detector: &str,
    same_settings: impl FnOnce(&T) -> bool,
) -> Result<Box<T>, DetectError> {
    let other = other
        .into_any()
        .downcast::<T>()
        .map_err(|_| DetectError::Other("cannot merge a state of another detector".into()))?;
    if !same_settings(&other) {
        return Err(DetectError::Settings(format!(
            "cannot merge {detector} states trained with different settings"
        )));
    }
    Ok(other)
}

/// A fitted model and what fitting learned about the training data.
pub struct Fitted {
    /// The model.
    pub model: Box<dyn Model>,
    /// Scores of the training subjects (for `--threshold-basis train`).
    pub training_scores: Vec<f64>,
    /// Number of subjects the model learned from.
    pub subjects: u64,
    /// The training subjects, scored, when the detector kept everything needed to score them
    /// without reading the input again (`oddhunt hunt` uses them instead of a second pass).
    pub scored_training: Option<Vec<Scored>>,
}

/// A trained model.
pub trait Model: Send + Sync {
    /// The detector that made it.
    fn detector(&self) -> &'static str;
    /// Settings it was trained with.
    fn settings(&self) -> serde_json::Value;
    /// Writes its payload sections into `file` (the caller fills the manifest's summary).
    fn save(&self, file: &mut ModelFile) -> Result<(), DetectError>;
    /// A scorer for a batch of events.
    fn scorer(&self) -> Box<dyn Scorer + '_>;
}

/// Accumulates the events to score, then scores their subjects.
pub trait Scorer {
    /// Takes one event.
    fn observe(&mut self, event: &Event);
    /// Takes one pre-built subject, as [`Trainer::observe_prebuilt`].
    fn observe_prebuilt(&mut self, line: &str, at: &Provenance) -> Result<(), DetectError> {
        let _ = (line, at);
        Err(no_prebuilt())
    }
    /// Events used so far.
    fn events_used(&self) -> u64;
    /// Scores every subject seen.
    fn finish(self: Box<Self>, progress: &dyn Progress) -> Result<Vec<Scored>, DetectError>;
}

/// Checks that a model file belongs to `expected`.
pub fn check_detector(file: &ModelFile, expected: &str) -> Result<(), DetectError> {
    if file.manifest.detector != expected {
        return Err(DetectError::WrongDetector {
            origin: file.origin().to_string(),
            found: file.manifest.detector.clone(),
            expected: expected.to_string(),
        });
    }
    Ok(())
}

/// The settings a model file was trained with, after checking it is `expected`'s.
pub fn load_settings<T: serde::de::DeserializeOwned>(
    file: &ModelFile,
    expected: &str,
) -> Result<T, DetectError> {
    check_detector(file, expected)?;
    serde_json::from_value(file.manifest.settings.clone())
        .map_err(|e| DetectError::Other(format!("{}: settings: {e}", file.origin())))
}

/// Counts events a detector ignores, by reason, without allocating per event.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IgnoredCounts {
    counts: Vec<(String, u64)>,
}

impl IgnoredCounts {
    /// Counts one ignored event under `reason`.
    pub fn add(&mut self, reason: &str) {
        self.add_n(reason, 1);
    }

    /// Counts `n` ignored events under `reason`.
    pub fn add_n(&mut self, reason: &str, n: u64) {
        if let Some(entry) = self.counts.iter_mut().find(|(r, _)| r == reason) {
            entry.1 += n;
        } else {
            self.counts.push((reason.to_string(), n));
        }
    }

    /// Adds another set of counts.
    pub fn merge(&mut self, other: &IgnoredCounts) {
        for (reason, n) in &other.counts {
            self.add_n(reason, *n);
        }
    }

    /// The counts, in first-seen order.
    pub fn to_vec(&self) -> Vec<(String, u64)> {
        self.counts.clone()
    }
}
