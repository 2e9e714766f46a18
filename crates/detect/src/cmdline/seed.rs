//! The seed model (`--model seed`): the QFunction notebook's command-line autoencoder, with its
//! bugs fixed.
//!
//! As the seed: the input text is `domain user command_line parent` ([`super::text::seed_text`])
//! as UTF-8 bytes, cut or zero-padded to `max_length = int(mean + std)` of the training texts'
//! byte lengths; the network is `Embedding(256, 4)` → flatten → Dense 128, 64, 32, 16, 32, 64,
//! 128 → Dense `max_length`, all tanh, trained with Adam on MAE against the min-max-scaled byte
//! vector; the score is each event's MAE; the threshold `mean+6sd`.
//!
//! Not as the seed, on purpose (the research's rerun found each of these in its code):
//!
//! - the seed min-max-scaled the bytes *before* the embedding, so the embedding looked up rows
//!   0 and 1 only; here the embedding reads the raw byte values and only the *target* is scaled;
//! - it refitted the scaler on the data being scored; here the training scaler is stored in the
//!   model and reused;
//! - it cast scaled values to `uint8` when scoring (all zeros and ones); here they stay `f32`.
//!
//! Training keeps a bottom-k sample of `sample` texts (default 200,000) for the network and
//! exact length moments of all texts, so `max_length` follows the seed's rule over everything
//! read while memory stays bounded; the scaler is fitted on the sample (exactly the seed's when
//! the sample holds every event). Network weights do not merge: shards merge their samples and
//! moments, and the network is trained once on the merged sample.

use super::nearest::Candidates;
use super::stats::{BottomK, LengthMoments};
use super::text::{max_length_rule, push_padded};
use crate::detector::{DetectError, Progress};
use oddhunt_models::nn::{
    fit, Architecture, EarlyStopping, EpochReport, History, Input, Loss, Network, RowError, Target,
    TrainConfig, TrainObserver,
};
use serde::{Deserialize, Serialize};

/// Longest text kept per sampled event; `max_length` is capped at this.
pub const MAX_TEXT_BYTES: usize = 4096;
/// Sampled command lines kept in the model for "normal looks like".
const EXAMPLES: usize = 2_000;

/// One sampled training text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedRow {
    /// The seed text, cut at [`MAX_TEXT_BYTES`].
    pub text: String,
    /// The command line as logged.
    pub command_line: String,
}

/// The mergeable training state of the seed model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedState {
    /// Byte lengths of every training text.
    pub lengths: LengthMoments,
    /// The texts the network trains on.
    pub sample: BottomK<SeedRow>,
    /// Seed of the sample keys.
    pub seed: u64,
}

/// How the network is trained.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedTraining {
    /// Fixed `max_length` instead of the seed's rule.
    pub max_length: Option<usize>,
    /// Epochs (an upper bound with early stopping).
    pub epochs: usize,
    /// Rows per step.
    pub batch_size: usize,
    /// Adam's step size.
    pub learning_rate: f32,
    /// Stop when the validation loss stops improving (patience 3, best weights restored).
    pub early_stopping: bool,
    /// Share of the sample held out for the validation loss.
    pub validation_split: f64,
    /// Gradient shards per batch (part of the arithmetic; see `oddhunt_models::nn`).
    pub shards: usize,
    /// Seed of the weights and shuffling.
    pub seed: u64,
}

fn cut_at_char(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while end > 0 && !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

impl SeedState {
    /// An empty state keeping up to `sample` texts.
    pub fn new(sample: usize, seed: u64) -> Self {
        SeedState {
            lengths: LengthMoments::default(),
            sample: BottomK::new(sample),
            seed,
        }
    }

    /// Takes one event's seed text; `key` is its sample key.
    pub fn observe(&mut self, text: &str, command_line: &str, key: u64) {
        self.lengths.add(text.len());
        self.sample.offer(key, || SeedRow {
            text: cut_at_char(text, MAX_TEXT_BYTES).to_string(),
            command_line: command_line.to_string(),
        });
    }

    /// Adds another state.
    pub fn merge(&mut self, other: SeedState) {
        self.lengths.merge(&other.lengths);
        self.sample.merge(other.sample);
    }
}

/// The min-max scaler of the byte vectors, per position (scikit-learn's `MinMaxScaler`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scaler {
    /// Per-position minimum (`data_min_`).
    pub offset: Vec<f32>,
    /// Per-position `1 / (max − min)`, 1 for a constant position (sklearn's zero-range rule).
    pub scale: Vec<f32>,
}

impl Scaler {
    /// Fits the scaler on `rows` (`rows.len() / width` rows of `width` byte ids).
    pub fn fit(rows: &[u8], width: usize) -> Scaler {
        let mut min = vec![u8::MAX; width];
        let mut max = vec![0u8; width];
        for row in rows.chunks_exact(width) {
            for (p, &b) in row.iter().enumerate() {
                min[p] = min[p].min(b);
                max[p] = max[p].max(b);
            }
        }
        if rows.is_empty() {
            min.fill(0);
        }
        let offset = min.iter().map(|&m| f32::from(m)).collect();
        let scale = min
            .iter()
            .zip(&max)
            .map(|(&lo, &hi)| {
                if hi > lo {
                    1.0 / f32::from(hi - lo)
                } else {
                    1.0
                }
            })
            .collect();
        Scaler { offset, scale }
    }

    /// The network target for these rows.
    pub fn target(&self) -> Target<'_> {
        Target::ScaledIds {
            offset: &self.offset,
            scale: &self.scale,
        }
    }
}

/// What is stored beside the weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedMeta {
    /// Bytes per row.
    pub max_length: usize,
    /// Mean training text length (bytes).
    pub mean_length: f64,
    /// Its population standard deviation.
    pub std_length: f64,
    /// Texts the network trained on.
    pub rows: usize,
    /// The training scaler.
    pub scaler: Scaler,
    /// Training history (loss per epoch).
    pub history: History,
    /// Sampled training command lines for "normal looks like".
    pub examples: Vec<String>,
}

/// The fitted seed model.
pub struct SeedModel {
    /// Scaler, lengths, history, examples.
    pub meta: SeedMeta,
    /// The autoencoder.
    pub network: Network,
    examples: Candidates,
}

/// Maps training epochs to the detector's progress (the CLI's bar shows epochs and loss).
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
            "epoch {}/{}: loss {:.5}{val} ({:.1} s)",
            report.epoch, report.epochs, report.loss, report.seconds
        ));
    }
}

fn nn_error(e: oddhunt_models::nn::NnError) -> DetectError {
    DetectError::Other(format!("cmdline seed network: {e}"))
}

impl SeedModel {
    /// Trains the network on the sampled texts; returns the model and the sample's scores.
    pub fn fit(
        state: SeedState,
        training: &SeedTraining,
        progress: &dyn Progress,
    ) -> Result<(SeedModel, Vec<f64>), DetectError> {
        if state.sample.is_empty() {
            return Err(DetectError::NoTrainingData(
                "no process starts with a command line".into(),
            ));
        }
        let (mean, std) = (state.lengths.mean(), state.lengths.std());
        let max_length = training
            .max_length
            .unwrap_or_else(|| max_length_rule(mean, std))
            .clamp(1, MAX_TEXT_BYTES);
        let sample = state.sample.into_sorted();
        let mut rows = Vec::with_capacity(sample.len() * max_length);
        for (_, row) in &sample {
            push_padded(row.text.as_bytes(), max_length, &mut rows);
        }
        let scaler = Scaler::fit(&rows, max_length);
        let mut network = Network::new(Architecture::byte_autoencoder(max_length), training.seed)
            .map_err(nn_error)?;
        let n = sample.len();
        // Keras refuses a split that leaves no validation row; so do we, by not splitting.
        let validation_split = if (n as f64 * training.validation_split).floor() >= 1.0
            && (n as f64 * (1.0 - training.validation_split)).floor() >= 1.0
        {
            training.validation_split
        } else {
            0.0
        };
        let config = TrainConfig {
            epochs: training.epochs.max(1),
            batch_size: training.batch_size.max(1),
            shuffle: true,
            seed: training.seed,
            validation_split,
            early_stopping: training.early_stopping.then(EarlyStopping::default),
            learning_rate: training.learning_rate,
            loss: Loss::Mae,
            shards: training.shards.max(1),
        };
        progress.stage(
            &format!("training the seed autoencoder on {n} texts of {max_length} bytes"),
            Some(config.epochs as u64),
        );
        let history = fit(
            &mut network,
            Input::Bytes(&rows),
            scaler.target(),
            &config,
            &mut EpochProgress { progress },
        )
        .map_err(nn_error)?;
        let scores = network
            .row_errors(Input::Bytes(&rows), scaler.target(), RowError::Mae)
            .map_err(nn_error)?;
        let examples: Vec<String> = sample
            .iter()
            .take(EXAMPLES)
            .map(|(_, r)| r.command_line.clone())
            .collect();
        let meta = SeedMeta {
            max_length,
            mean_length: mean,
            std_length: std,
            rows: n,
            scaler,
            history,
            examples,
        };
        let model = SeedModel::from_parts(meta, network);
        Ok((model, scores.into_iter().map(f64::from).collect()))
    }

    /// Reassembles a model from its stored parts.
    pub fn from_parts(meta: SeedMeta, network: Network) -> SeedModel {
        let mut counts: std::collections::HashMap<&str, u64> = std::collections::HashMap::new();
        for e in &meta.examples {
            *counts.entry(e.as_str()).or_insert(0) += 1;
        }
        let examples = Candidates::new(counts.into_iter().map(|(l, n)| (l.to_string(), n)));
        SeedModel {
            meta,
            network,
            examples,
        }
    }

    /// The architecture.
    pub fn architecture(&self) -> &Architecture {
        self.network.architecture()
    }

    /// MAE per row of `rows` (`max_length` byte ids each).
    pub fn errors(&self, rows: &[u8]) -> Result<Vec<f32>, DetectError> {
        self.network
            .row_errors(Input::Bytes(rows), self.meta.scaler.target(), RowError::Mae)
            .map_err(nn_error)
    }

    /// Absolute error per position of one row.
    pub fn position_errors(&self, row: &[u8]) -> Result<Vec<f32>, DetectError> {
        let out = self.network.predict(Input::Bytes(row)).map_err(nn_error)?;
        let s = &self.meta.scaler;
        Ok(out
            .iter()
            .zip(row)
            .zip(s.offset.iter().zip(&s.scale))
            .map(|((&o, &b), (&off, &sc))| (o - (f32::from(b) - off) * sc).abs())
            .collect())
    }

    /// The most similar sampled training command line.
    pub fn nearest(&self, command_line: &str) -> Option<(&str, u64, f64)> {
        self.examples.nearest(command_line)
    }
}

/// The window of `width` bytes with the largest error sum within `range` of the row: its start.
pub fn worst_window(errors: &[f32], range: std::ops::Range<usize>, width: usize) -> Option<usize> {
    let end = range.end.min(errors.len());
    if range.start >= end {
        return None;
    }
    let width = width.min(end - range.start).max(1);
    let mut best = (range.start, f32::MIN);
    let mut sum: f32 = errors[range.start..range.start + width].iter().sum();
    for start in range.start..=end - width {
        if start > range.start {
            sum += errors[start + width - 1] - errors[start - 1];
        }
        if sum > best.1 {
            best = (start, sum);
        }
    }
    Some(best.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaler_as_sklearn() {
        // MinMaxScaler().fit([[0, 5, 7], [10, 5, 9]]): data_min_ [0, 5, 7], scale_ [0.1, 1, 0.5]
        let s = Scaler::fit(&[0, 5, 7, 10, 5, 9], 3);
        assert_eq!(s.offset, vec![0.0, 5.0, 7.0]);
        assert_eq!(s.scale, vec![0.1, 1.0, 0.5]);
    }

    #[test]
    fn worst_window_finds_the_peak() {
        let e = [0.0, 0.1, 0.9, 0.8, 0.0, 0.0];
        assert_eq!(worst_window(&e, 0..6, 2), Some(2));
        assert_eq!(worst_window(&e, 4..6, 2), Some(4));
        assert_eq!(worst_window(&e, 6..6, 2), None);
    }
}
