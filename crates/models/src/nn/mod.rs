//! A small dense-network core: autoencoders for the `cmdline` and `proccount` detectors.
//!
//! The seed trained two Keras autoencoders; this module reproduces them on CPU without a
//! framework, on `matrixmultiply`'s GEMM: `f32`, row-major, batch-major, in layers:
//!
//! - [`layers`]: `Embedding`, `Dense` with `Linear`, `Tanh` or `LeakyRelu` activation, and
//!   Keras' default initialisers;
//! - [`loss`]: MAE and MSE as Keras computes them, and per-row errors for scoring;
//! - [`adam`]: Adam with Keras' defaults and Keras 3's update formula;
//! - [`network`]: the [`Architecture`] (serialisable) and the [`Network`] with batched,
//!   parallel `predict` and `row_errors`;
//! - [`train`]: [`fit`] with shuffling, a validation split, early stopping and progress hooks;
//! - safetensors persistence ([`Network::to_safetensors`], [`Network::from_safetensors`]).
//!
//! Why hand-written: measured on this project's 2-core machine (`bench/nn.sh`, figures in
//! `bench/nn.md`), an epoch of the cmdline network costs a quarter to a third of TensorFlow/Keras'
//! CPU time (1.0 against 4.2 CPU-s for 200k rows of 100 bytes) and the proccount network's a
//! tenth, with a twelfth to a fortieth of the memory; and the research probe of this design built
//! in 23 CPU-s where candle and burn took 454 and 886 (`../shared/STACK.md` §4). Every layer's
//! gradients are checked against finite differences, and forward passes and Adam steps against
//! Keras (`tests/nn_keras_parity.rs`).
//!
//! ```
//! use oddhunt_models::nn::{fit, Architecture, Input, Loss, Network, RowError, TrainConfig};
//!
//! // proccount-style: 16 hashed counts per window, 16-8-4-8-16 leaky ReLU, MSE.
//! let windows: Vec<f32> = (0..64 * 16).map(|i| ((i * 7) % 5) as f32 / 5.0).collect();
//! let architecture = Architecture::dense_autoencoder(
//!     16, &[8, 4, 8], oddhunt_models::nn::Activation::KERAS_LEAKY_RELU);
//! let mut network = Network::new(architecture.clone(), 42)?;
//! let config = TrainConfig { epochs: 2, batch_size: 16, loss: Loss::Mse, ..TrainConfig::default() };
//! let history = fit(&mut network, Input::Values(&windows), &windows, &config, &mut ())?;
//! assert_eq!(history.epochs.len(), 2);
//! let scores = network.row_errors(Input::Values(&windows), &windows, RowError::Euclidean)?;
//! assert_eq!(scores.len(), 64);
//! let saved = network.to_safetensors()?;
//! let loaded = Network::from_safetensors(&saved, &architecture)?;
//! assert_eq!(loaded.parameters(), network.parameters());
//! # Ok::<(), oddhunt_models::nn::NnError>(())
//! ```
//!
//! ```
//! use oddhunt_models::nn::{fit, Architecture, Input, Loss, Network, RowError, Target, TrainConfig};
//!
//! // cmdline-style: byte strings cut or zero-padded to max_length; the target is the byte
//! // vector min-max scaled per position, computed from the ids (here plain bytes / 255).
//! let max_length = 12;
//! let mut ids = Vec::new();
//! for line in ["CORP alice cmd.exe /c dir", "CORP bob whoami", "LAB svc net user"] {
//!     let mut bytes = line.as_bytes().to_vec();
//!     bytes.resize(max_length, 0);
//!     ids.extend(bytes);
//! }
//! let (offset, scale) = (vec![0.0; max_length], vec![1.0 / 255.0; max_length]);
//! let target = Target::ScaledIds { offset: &offset, scale: &scale };
//! let mut network = Network::new(Architecture::byte_autoencoder(max_length), 7)?;
//! let config = TrainConfig { epochs: 2, batch_size: 2, loss: Loss::Mae, ..TrainConfig::default() };
//! fit(&mut network, Input::Bytes(&ids), target, &config, &mut ())?;
//! let scores = network.row_errors(Input::Bytes(&ids), target, RowError::Mae)?;
//! assert_eq!(scores.len(), 3);
//! # Ok::<(), oddhunt_models::nn::NnError>(())
//! ```

pub mod adam;
mod gemm;
pub mod layers;
pub mod loss;
pub mod network;
mod persist;
pub mod train;

pub use adam::{Adam, AdamSettings};
pub use layers::Activation;
pub use loss::{Loss, RowError};
pub use network::{Architecture, DenseSpec, Input, InputLayer, Network, Target, MAX_PARAMETERS};
pub use train::{
    fit, BatchProgress, EarlyStopping, EpochReport, History, TrainConfig, TrainObserver,
};

use thiserror::Error;

/// Network errors: each names the input, row and position or the tensor at fault.
#[derive(Debug, Error, PartialEq)]
pub enum NnError {
    /// The architecture is unusable.
    #[error("network architecture: {0}")]
    Architecture(String),
    /// The training settings are unusable.
    #[error("training settings: {0}")]
    Config(String),
    /// The input is not a whole number of rows.
    #[error("input has {len} values, not a multiple of the row width {width}")]
    RaggedInput {
        /// Values given.
        len: usize,
        /// Values per row.
        width: usize,
    },
    /// Ids given to a values network or the reverse.
    #[error("network expects {expected} as input, got {got}")]
    InputKind {
        /// What the architecture reads.
        expected: &'static str,
        /// What was given.
        got: &'static str,
    },
    /// An id the embedding has no row for.
    #[error("input row {row}, position {position}: id {id} is outside the embedding's vocabulary of {vocab}")]
    IdOutOfRange {
        /// Row (from 0).
        row: usize,
        /// Position in the row (from 0).
        position: usize,
        /// The id.
        id: u64,
        /// Vocabulary size.
        vocab: usize,
    },
    /// A NaN or infinity in the input or target.
    #[error("{what} row {row}, column {column}: value {value} is not finite")]
    NonFinite {
        /// `input` or `target`.
        what: &'static str,
        /// Row (from 0).
        row: usize,
        /// Column (from 0).
        column: usize,
        /// The value.
        value: f32,
    },
    /// Target shape does not match the rows and the output width.
    #[error("target has {len} values, expected {rows} rows × {width} outputs")]
    TargetShape {
        /// Values given.
        len: usize,
        /// Input rows.
        rows: usize,
        /// Output width.
        width: usize,
    },
    /// Training produced a non-finite loss.
    #[error("training diverged: loss is {loss} after epoch {epoch}; lower the learning rate or scale the inputs")]
    Diverged {
        /// Epoch (from 1).
        epoch: usize,
        /// The loss.
        loss: f64,
    },
    /// A target that does not fit the network or its input.
    #[error("target: {0}")]
    Target(String),
    /// Stored weights do not fit.
    #[error("network weights: {0}")]
    Weights(String),
}
