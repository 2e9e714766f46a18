//! Training: mini-batch Adam with shuffling, a validation split, early stopping and progress hooks.
//!
//! The loop follows Keras' `Model.fit` so settings carry over from the seed: the validation rows
//! are the *last* `floor(rows · validation_split)` rows, taken before any shuffling; the training
//! rows are reshuffled every epoch; the reported epoch loss is the running mean over the epoch's
//! batches weighted by batch size; early stopping watches `val_loss` (or `loss` without a
//! validation split) exactly like `keras.callbacks.EarlyStopping`.
//!
//! Determinism: shuffling uses a ChaCha8 stream seeded from [`TrainConfig::seed`]; each batch
//! is split into [`TrainConfig::shards`] fixed shards whose gradients are summed in shard order.
//! The shards run in parallel when rayon has threads to spare, but the arithmetic is the same
//! however many threads there are, so a given seed and shard count always gives the same model.

use super::adam::{Adam, AdamSettings};
use super::loss::Loss;
use super::network::{Input, Network, Rows, Target, Workspace};
use super::NnError;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Stop when the monitored loss stops improving (`keras.callbacks.EarlyStopping`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct EarlyStopping {
    /// Epochs without improvement before stopping.
    pub patience: usize,
    /// An epoch improves only if its loss is below the best by more than this.
    pub min_delta: f64,
    /// Put back the weights of the best epoch when training ends (Keras'
    /// `restore_best_weights=True`).
    pub restore_best_weights: bool,
}

impl Default for EarlyStopping {
    fn default() -> Self {
        Self {
            patience: 3,
            min_delta: 0.0,
            restore_best_weights: true,
        }
    }
}

/// How to train.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Passes over the training rows.
    pub epochs: usize,
    /// Rows per gradient step.
    pub batch_size: usize,
    /// Reshuffle the training rows every epoch.
    pub shuffle: bool,
    /// Seed of the shuffling stream (weights are seeded in [`Network::new`]).
    pub seed: u64,
    /// Fraction of rows, taken from the end, held out to compute `val_loss` (0 for none).
    pub validation_split: f64,
    /// Stop early when the monitored loss stops improving.
    pub early_stopping: Option<EarlyStopping>,
    /// Adam's step size.
    pub learning_rate: f32,
    /// The loss to minimise.
    pub loss: Loss,
    /// Each batch is split into this many shards whose gradients are computed in parallel and
    /// summed in order. Part of the arithmetic (unlike a thread count): keep it fixed to
    /// reproduce a model. 1 computes each batch in one piece.
    pub shards: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 10,
            batch_size: 256,
            shuffle: true,
            seed: 0,
            validation_split: 0.0,
            early_stopping: None,
            learning_rate: AdamSettings::default().learning_rate,
            loss: Loss::Mse,
            shards: 2,
        }
    }
}

/// Progress within an epoch, reported after every batch.
#[derive(Clone, Copy, Debug)]
pub struct BatchProgress {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Epochs planned.
    pub epochs: usize,
    /// Batches done in this epoch, from 1.
    pub batch: usize,
    /// Batches per epoch.
    pub batches: usize,
    /// Running mean loss of this epoch so far.
    pub loss: f64,
}

/// The summary of one finished epoch.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochReport {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Epochs planned.
    pub epochs: usize,
    /// Mean training loss over the epoch (as Keras reports it).
    pub loss: f64,
    /// Loss on the validation rows after the epoch, if there are any.
    pub val_loss: Option<f64>,
    /// Wall-clock seconds the epoch took, validation included.
    pub seconds: f64,
}

/// What training did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// One report per epoch run.
    pub epochs: Vec<EpochReport>,
    /// Epoch (from 1) with the best monitored loss, when early stopping was on.
    pub best_epoch: Option<usize>,
    /// Whether early stopping ended training before `epochs`.
    pub stopped_early: bool,
    /// Whether the best epoch's weights were restored at the end.
    pub restored_best_weights: bool,
}

/// Receives training progress, e.g. to draw a progress bar per epoch. Any
/// `FnMut(&EpochReport)` closure is an observer that only hears about finished epochs; `()` hears
/// nothing.
pub trait TrainObserver {
    /// Called after every batch.
    fn on_batch(&mut self, _progress: &BatchProgress) {}
    /// Called after every epoch.
    fn on_epoch(&mut self, _report: &EpochReport) {}
}

impl<F: FnMut(&EpochReport)> TrainObserver for F {
    fn on_epoch(&mut self, report: &EpochReport) {
        self(report)
    }
}

impl TrainObserver for () {}

impl TrainConfig {
    fn validate(&self) -> Result<(), NnError> {
        let bad = |message: String| Err(NnError::Config(message));
        if self.epochs == 0 {
            return bad("epochs must be at least 1".into());
        }
        if self.batch_size == 0 {
            return bad("batch_size must be at least 1".into());
        }
        if self.shards == 0 {
            return bad("shards must be at least 1".into());
        }
        if !(0.0..1.0).contains(&self.validation_split) {
            return bad(format!(
                "validation_split must be in [0, 1), got {}",
                self.validation_split
            ));
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return bad(format!(
                "learning_rate must be positive, got {}",
                self.learning_rate
            ));
        }
        if let Some(stop) = &self.early_stopping {
            if !(stop.min_delta.is_finite()) {
                return bad("early_stopping.min_delta must be finite".into());
            }
        }
        Ok(())
    }
}

/// Trains `network` to map `input` rows to `target` (explicit rows, `&[f32]` of `rows × output
/// width`, for an autoencoder over values the input itself; or [`Target::ScaledIds`]) and
/// returns the history. `observer` hears about every batch and epoch.
pub fn fit<'t>(
    network: &mut Network,
    input: Input,
    target: impl Into<Target<'t>>,
    config: &TrainConfig,
    observer: &mut impl TrainObserver,
) -> Result<History, NnError> {
    let target = target.into();
    config.validate()?;
    let rows = network.check_input(input)?;
    network.check_target(target, input, rows)?;
    // Keras: split_at = floor(rows * (1 - validation_split)); validation = rows[split_at..].
    let train_rows = (rows as f64 * (1.0 - config.validation_split)).floor() as usize;
    let train_rows = train_rows.min(rows);
    if train_rows == 0 {
        return Err(NnError::Config(format!(
            "no training rows: {rows} rows with validation_split {}",
            config.validation_split
        )));
    }
    let validation = train_rows..rows;
    if config.validation_split > 0.0 && validation.is_empty() {
        return Err(NnError::Config(format!(
            "validation_split {} leaves no validation rows out of {rows}",
            config.validation_split
        )));
    }

    let width = network.architecture.output_width();
    let batch_size = config.batch_size.min(train_rows);
    let shard_capacity = batch_size.div_ceil(config.shards);
    let mut workspaces: Vec<Workspace> = (0..config.shards.min(batch_size))
        .map(|_| Workspace::new(network, shard_capacity, true))
        .collect();
    let mut summed = vec![0.0f32; network.parameter_count()];
    let embedding_start = network
        .layout
        .embedding
        .as_ref()
        .map(|(range, _)| range.start);
    let mut summed_squares = workspaces[0].embedding_squares.clone();
    let mut adam = Adam::new(
        network.parameter_count(),
        AdamSettings {
            learning_rate: config.learning_rate,
            ..AdamSettings::default()
        },
    );
    let mut order: Vec<usize> = (0..train_rows).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let batches = train_rows.div_ceil(batch_size);

    let mut history = History::default();
    let mut best: Option<(f64, usize, Option<Vec<f32>>)> = None;
    let mut wait = 0usize;

    for epoch in 1..=config.epochs {
        let started = Instant::now();
        if config.shuffle {
            order.shuffle(&mut rng);
        }
        let mut loss_sum = 0.0f64;
        let mut elements = 0usize;
        for (b, batch) in order.chunks(batch_size).enumerate() {
            let count = batch.len() * width;
            let per_shard = batch.len().div_ceil(workspaces.len());
            let net = &*network;
            let step = |(ws, rows): (&mut Workspace, &[usize])| {
                net.load(input, Some(target), Rows::Picked(rows), ws);
                net.forward(ws, rows.len());
                net.backward(ws, rows.len(), config.loss, count)
            };
            let used = batch.len().div_ceil(per_shard);
            let sums: Vec<f64> = if used == 1 {
                vec![step((&mut workspaces[0], batch))]
            } else {
                workspaces[..used]
                    .par_iter_mut()
                    .zip(batch.par_chunks(per_shard))
                    .map(step)
                    .collect()
            };
            let (gradient, squares): (&[f32], &[f32]) = if used == 1 {
                (&workspaces[0].grads, &workspaces[0].embedding_squares)
            } else {
                summed.copy_from_slice(&workspaces[0].grads);
                summed_squares.copy_from_slice(&workspaces[0].embedding_squares);
                for ws in &workspaces[1..used] {
                    summed.iter_mut().zip(&ws.grads).for_each(|(s, g)| *s += g);
                    summed_squares
                        .iter_mut()
                        .zip(&ws.embedding_squares)
                        .for_each(|(s, g)| *s += g);
                }
                (&summed, &summed_squares)
            };
            adam.step(
                &mut network.parameters,
                gradient,
                embedding_start.map(|start| (start, squares)),
            );
            loss_sum += sums.iter().sum::<f64>();
            elements += count;
            observer.on_batch(&BatchProgress {
                epoch,
                epochs: config.epochs,
                batch: b + 1,
                batches,
                loss: loss_sum / elements as f64,
            });
        }
        let loss = loss_sum / elements.max(1) as f64;
        let val_loss = (!validation.is_empty()).then(|| {
            network.loss_sum(input, target, validation.clone(), config.loss)
                / (validation.len() * width) as f64
        });
        let report = EpochReport {
            epoch,
            epochs: config.epochs,
            loss,
            val_loss,
            seconds: started.elapsed().as_secs_f64(),
        };
        history.epochs.push(report);
        observer.on_epoch(&report);
        let monitored = val_loss.unwrap_or(loss);
        if !monitored.is_finite() {
            return Err(NnError::Diverged {
                epoch,
                loss: monitored,
            });
        }

        if let Some(stop) = &config.early_stopping {
            // keras.callbacks.EarlyStopping.on_epoch_end, mode "min".
            wait += 1;
            let improved = best
                .as_ref()
                .is_none_or(|(best_loss, _, _)| monitored + stop.min_delta.abs() < *best_loss);
            if improved {
                let weights = stop
                    .restore_best_weights
                    .then(|| network.parameters.clone());
                best = Some((monitored, epoch, weights));
                wait = 0;
            } else if wait >= stop.patience && epoch > 1 {
                history.stopped_early = true;
                break;
            }
        }
    }
    if let Some((_, epoch, weights)) = best {
        history.best_epoch = Some(epoch);
        if let Some(weights) = weights {
            // Keras restores at the end of training whether or not it stopped early.
            network.parameters = weights;
            history.restored_best_weights = true;
        }
    }
    Ok(history)
}
