//! The network: an architecture description, its parameters, and batched forward/backward passes.
//!
//! A network is Keras' `Sequential` in miniature: an input layer (an embedding over categorical
//! ids, or plain numeric values) followed by a stack of dense layers, each with its activation.
//! All parameters live in one flat `f32` vector so the optimiser and gradient sums are one loop;
//! named views (`embedding.embeddings`, `dense_0.kernel`, `dense_0.bias`, ...) give the tensors
//! Keras would show, in Keras' layouts (kernels `inputs × units`).

use super::layers::{
    dense_backward, dense_forward, embedding_backward, embedding_forward, init_embedding,
    init_glorot_uniform, Activation, DenseShape,
};
use super::loss::{Loss, RowError};
use super::NnError;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// Most parameters a network may have (1 GiB of `f32`): far beyond any model here, and a guard
/// against an architecture read from a damaged or hostile model file.
pub const MAX_PARAMETERS: usize = 1 << 28;

/// Rows per work item when predicting or scoring in parallel.
const SCORING_CHUNK: usize = 1024;

/// What the network reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InputLayer {
    /// `positions` categorical ids per row (each `< vocab`), looked up in a `vocab × dim` table
    /// and flattened to `positions · dim` values (Keras `Embedding` + `Flatten`).
    Embedding {
        /// Ids per row.
        positions: usize,
        /// Number of distinct ids.
        vocab: usize,
        /// Values per id.
        dim: usize,
    },
    /// `width` numeric values per row, fed straight to the first dense layer.
    Values {
        /// Values per row.
        width: usize,
    },
}

/// One dense layer: `units` outputs followed by `activation`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DenseSpec {
    /// Output width.
    pub units: usize,
    /// Non-linearity after the affine map.
    pub activation: Activation,
}

/// A network's shape: serialisable, stored beside the weights in a model file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Architecture {
    /// The input layer.
    pub input: InputLayer,
    /// Dense layers, first to last; the last one's width is the output width.
    pub dense: Vec<DenseSpec>,
}

impl Architecture {
    /// The `cmdline` autoencoder over byte strings padded to `max_length`: `Embedding(256, 4)`
    /// → flatten → Dense 128, 64, 32, 16, 32, 64, 128 → Dense `max_length`, all tanh.
    pub fn byte_autoencoder(max_length: usize) -> Self {
        let tanh = |units| DenseSpec {
            units,
            activation: Activation::Tanh,
        };
        let mut dense: Vec<DenseSpec> = [128, 64, 32, 16, 32, 64, 128].map(tanh).to_vec();
        dense.push(tanh(max_length));
        Self {
            input: InputLayer::Embedding {
                positions: max_length,
                vocab: 256,
                dim: 4,
            },
            dense,
        }
    }

    /// A dense autoencoder over `width` values: one dense layer per entry of `hidden`, then one
    /// back to `width`, each followed by `activation`. `proccount` is
    /// `dense_autoencoder(16, &[8, 4, 8], Activation::KERAS_LEAKY_RELU)` (16-8-4-8-16).
    pub fn dense_autoencoder(width: usize, hidden: &[usize], activation: Activation) -> Self {
        let dense = hidden
            .iter()
            .chain(std::iter::once(&width))
            .map(|&units| DenseSpec { units, activation })
            .collect();
        Self {
            input: InputLayer::Values { width },
            dense,
        }
    }

    /// Values per input row: ids for an embedding input, numbers otherwise.
    pub fn input_width(&self) -> usize {
        match self.input {
            InputLayer::Embedding { positions, .. } => positions,
            InputLayer::Values { width } => width,
        }
    }

    /// Values per output row.
    pub fn output_width(&self) -> usize {
        self.dense.last().map_or(0, |layer| layer.units)
    }

    /// Width of the first dense layer's input (after the embedding's flattening).
    fn features(&self) -> Option<usize> {
        match self.input {
            InputLayer::Embedding { positions, dim, .. } => positions.checked_mul(dim),
            InputLayer::Values { width } => Some(width),
        }
    }

    /// Checks that every size is positive, activations are valid and the parameter count is
    /// sane; returns the parameter count.
    pub fn validate(&self) -> Result<usize, NnError> {
        let bad = |message: String| Err(NnError::Architecture(message));
        let mut count: usize = 0;
        match self.input {
            InputLayer::Embedding {
                positions,
                vocab,
                dim,
            } => {
                if positions == 0 || vocab == 0 || dim == 0 {
                    return bad(format!(
                        "embedding needs positive positions, vocab and dim, got {positions}, {vocab}, {dim}"
                    ));
                }
                if vocab > u32::MAX as usize {
                    return bad(format!("embedding vocab {vocab} exceeds 2^32"));
                }
                count = vocab.saturating_mul(dim);
            }
            InputLayer::Values { width } => {
                if width == 0 {
                    return bad("input width must be positive".into());
                }
            }
        }
        if self.dense.is_empty() {
            return bad("a network needs at least one dense layer".into());
        }
        let mut inputs = self.features().unwrap_or(usize::MAX);
        for (i, layer) in self.dense.iter().enumerate() {
            if layer.units == 0 {
                return bad(format!("dense_{i} has zero units"));
            }
            if let Activation::LeakyRelu { alpha } = layer.activation {
                if !(alpha.is_finite() && alpha >= 0.0) {
                    return bad(format!(
                        "dense_{i}: leaky ReLU slope must be finite and >= 0 (as Keras), got {alpha}"
                    ));
                }
            }
            let weights = inputs.saturating_add(1).saturating_mul(layer.units);
            count = count.saturating_add(weights);
            inputs = layer.units;
        }
        if count > MAX_PARAMETERS {
            return bad(format!(
                "{count} parameters exceed the limit of {MAX_PARAMETERS}"
            ));
        }
        Ok(count)
    }
}

/// Where one named tensor lives in the flat parameter vector.
#[derive(Clone, Debug)]
pub(crate) struct TensorSlot {
    pub name: String,
    pub shape: Vec<usize>,
    pub range: Range<usize>,
}

/// Offsets of every layer's parameters (the same for gradients).
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    pub embedding: Option<(Range<usize>, usize)>,
    /// Per dense layer: shape, kernel range, bias range (the bias directly follows the kernel).
    pub dense: Vec<(DenseShape, Range<usize>, Range<usize>)>,
    pub tensors: Vec<TensorSlot>,
    pub parameters: usize,
}

impl Layout {
    fn new(architecture: &Architecture) -> Self {
        let mut offset = 0;
        let mut tensors = Vec::new();
        let mut take = |name: String, shape: Vec<usize>| {
            let len: usize = shape.iter().product();
            let range = offset..offset + len;
            offset += len;
            tensors.push(TensorSlot {
                name,
                shape,
                range: range.clone(),
            });
            range
        };
        let embedding = match architecture.input {
            InputLayer::Embedding { vocab, dim, .. } => {
                Some((take("embedding.embeddings".into(), vec![vocab, dim]), dim))
            }
            InputLayer::Values { .. } => None,
        };
        let mut inputs = architecture.features().unwrap_or(0);
        let mut dense = Vec::new();
        for (i, layer) in architecture.dense.iter().enumerate() {
            let kernel = take(format!("dense_{i}.kernel"), vec![inputs, layer.units]);
            let bias = take(format!("dense_{i}.bias"), vec![layer.units]);
            let shape = DenseShape {
                inputs,
                units: layer.units,
                activation: layer.activation,
            };
            dense.push((shape, kernel, bias));
            inputs = layer.units;
        }
        Self {
            embedding,
            dense,
            tensors,
            parameters: offset,
        }
    }
}

/// Rows handed to a network: ids for an embedding input, numbers for a values input, row-major.
#[derive(Clone, Copy, Debug)]
pub enum Input<'a> {
    /// Byte ids (`rows × positions`), e.g. padded command lines.
    Bytes(&'a [u8]),
    /// Wider ids (`rows × positions`).
    Ids(&'a [u32]),
    /// Numbers (`rows × width`).
    Values(&'a [f32]),
}

impl Input<'_> {
    fn len(&self) -> usize {
        match self {
            Input::Bytes(ids) => ids.len(),
            Input::Ids(ids) => ids.len(),
            Input::Values(values) => values.len(),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Input::Bytes(_) => "byte ids",
            Input::Ids(_) => "ids",
            Input::Values(_) => "values",
        }
    }
}

/// What the network learns to output for each row.
#[derive(Clone, Copy, Debug)]
pub enum Target<'a> {
    /// Explicit rows (`rows × output width`, row-major); for an autoencoder over values, the
    /// input itself.
    Rows(&'a [f32]),
    /// The input ids scaled per position, `(id - offset[p]) · scale[p]`, computed when needed
    /// instead of stored: the byte autoencoder's min-max-scaled target without 4 bytes per
    /// position of extra memory. scikit-learn's `MinMaxScaler` over positions is `offset` = the
    /// column minimum and `scale` = 1 / (maximum - minimum), or 1 for a constant column; a plain
    /// `bytes / 255` is offset 0, scale 1/255.
    ScaledIds {
        /// Subtracted from each position's id.
        offset: &'a [f32],
        /// Then multiplied with it.
        scale: &'a [f32],
    },
}

impl<'a> From<&'a [f32]> for Target<'a> {
    fn from(rows: &'a [f32]) -> Self {
        Target::Rows(rows)
    }
}

impl<'a> From<&'a Vec<f32>> for Target<'a> {
    fn from(rows: &'a Vec<f32>) -> Self {
        Target::Rows(rows)
    }
}

impl<'a, const N: usize> From<&'a [f32; N]> for Target<'a> {
    fn from(rows: &'a [f32; N]) -> Self {
        Target::Rows(rows)
    }
}

impl Target<'_> {
    /// Appends the target values of input row `row` to `out`.
    fn push_row(
        &self,
        input: Input,
        row: usize,
        in_width: usize,
        out_width: usize,
        out: &mut Vec<f32>,
    ) {
        match (self, input) {
            (Target::Rows(rows), _) => {
                out.extend_from_slice(&rows[row * out_width..(row + 1) * out_width])
            }
            (Target::ScaledIds { offset, scale }, Input::Bytes(ids)) => out.extend(
                ids[row * in_width..(row + 1) * in_width]
                    .iter()
                    .zip(offset.iter().zip(*scale))
                    .map(|(&id, (&o, &s))| (f32::from(id) - o) * s),
            ),
            (Target::ScaledIds { offset, scale }, Input::Ids(ids)) => out.extend(
                ids[row * in_width..(row + 1) * in_width]
                    .iter()
                    .zip(offset.iter().zip(*scale))
                    .map(|(&id, (&o, &s))| (id as f32 - o) * s),
            ),
            // Refused by check_target.
            (Target::ScaledIds { .. }, Input::Values(_)) => {}
        }
    }
}

/// Which rows a pass works on: a contiguous run, or a gathered (shuffled) list.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Rows<'a> {
    Run(usize, usize),
    Picked(&'a [usize]),
}

impl Rows<'_> {
    pub fn len(&self) -> usize {
        match self {
            Rows::Run(start, end) => end - start,
            Rows::Picked(rows) => rows.len(),
        }
    }

    fn for_each(&self, mut f: impl FnMut(usize)) {
        match self {
            Rows::Run(start, end) => (*start..*end).for_each(&mut f),
            Rows::Picked(rows) => rows.iter().copied().for_each(f),
        }
    }
}

/// Buffers for one batch (or shard) of up to `capacity` rows, reused across batches.
pub(crate) struct Workspace {
    capacity: usize,
    ids: Vec<u32>,
    features: Vec<f32>,
    outputs: Vec<Vec<f32>>,
    target: Vec<f32>,
    delta: Vec<f32>,
    delta_in: Vec<f32>,
    /// Gradient of the batch's mean loss, laid out like the parameters.
    pub grads: Vec<f32>,
    /// Per-occurrence sums of squared embedding gradients (Keras' Adam second-moment input).
    pub embedding_squares: Vec<f32>,
}

impl Workspace {
    pub fn new(network: &Network, capacity: usize, training: bool) -> Self {
        let arch = &network.architecture;
        let features = arch.features().unwrap_or(0);
        let widest = arch
            .dense
            .iter()
            .map(|layer| layer.units)
            .fold(features, usize::max);
        let ids = match arch.input {
            InputLayer::Embedding { positions, .. } => capacity * positions,
            InputLayer::Values { .. } => 0,
        };
        let sized = |n: usize| if training { vec![0.0; n] } else { Vec::new() };
        Self {
            capacity,
            ids: Vec::with_capacity(ids),
            features: vec![0.0; capacity * features],
            outputs: arch
                .dense
                .iter()
                .map(|layer| vec![0.0; capacity * layer.units])
                .collect(),
            target: Vec::with_capacity(if training {
                capacity * arch.output_width()
            } else {
                0
            }),
            delta: sized(capacity * widest),
            delta_in: sized(capacity * widest),
            grads: sized(network.layout.parameters),
            embedding_squares: sized(
                network
                    .layout
                    .embedding
                    .as_ref()
                    .map_or(0, |(r, _)| r.len()),
            ),
        }
    }
}

/// A dense network with its parameters.
#[derive(Clone, Debug)]
pub struct Network {
    pub(crate) architecture: Architecture,
    pub(crate) layout: Layout,
    pub(crate) parameters: Vec<f32>,
}

impl Network {
    /// A freshly initialised network (Keras' default initialisers), reproducible from `seed`.
    pub fn new(architecture: Architecture, seed: u64) -> Result<Self, NnError> {
        let mut network = Self::zeroed(architecture)?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        if let Some((range, _)) = network.layout.embedding.clone() {
            init_embedding(&mut network.parameters[range], &mut rng);
        }
        for (shape, kernel, _bias) in network.layout.dense.clone() {
            // Biases stay zero, as Keras' `bias_initializer="zeros"`.
            init_glorot_uniform(
                &mut network.parameters[kernel],
                shape.inputs,
                shape.units,
                &mut rng,
            );
        }
        Ok(network)
    }

    /// A network whose parameters are all zero (to be filled by a loader).
    pub(crate) fn zeroed(architecture: Architecture) -> Result<Self, NnError> {
        let count = architecture.validate()?;
        let layout = Layout::new(&architecture);
        debug_assert_eq!(count, layout.parameters);
        Ok(Self {
            parameters: vec![0.0; layout.parameters],
            architecture,
            layout,
        })
    }

    /// The network's shape.
    pub fn architecture(&self) -> &Architecture {
        &self.architecture
    }

    /// Number of trainable values (Keras' `count_params`).
    pub fn parameter_count(&self) -> usize {
        self.layout.parameters
    }

    /// The named tensors, in layer order: `(name, shape, values)`.
    pub fn tensors(&self) -> impl Iterator<Item = (&str, &[usize], &[f32])> {
        self.layout.tensors.iter().map(|slot| {
            (
                slot.name.as_str(),
                slot.shape.as_slice(),
                &self.parameters[slot.range.clone()],
            )
        })
    }

    /// Mutable access to one named tensor, e.g. to load weights from elsewhere.
    pub fn tensor_mut(&mut self, name: &str) -> Option<&mut [f32]> {
        let slot = self.layout.tensors.iter().find(|slot| slot.name == name)?;
        Some(&mut self.parameters[slot.range.clone()])
    }

    /// All parameters as one flat vector, in [`Network::tensors`] order.
    pub fn parameters(&self) -> &[f32] {
        &self.parameters
    }

    /// Mutable flat parameters (for gradient checks and custom loaders).
    pub fn parameters_mut(&mut self) -> &mut [f32] {
        &mut self.parameters
    }

    /// Checks `input` against the architecture and returns its row count. Ids must be inside
    /// the vocabulary and values finite: a NaN would silently poison training and scores.
    pub fn check_input(&self, input: Input) -> Result<usize, NnError> {
        let width = self.architecture.input_width();
        let len = input.len();
        if !len.is_multiple_of(width) {
            return Err(NnError::RaggedInput { len, width });
        }
        let expected = match self.architecture.input {
            InputLayer::Embedding { .. } => "ids (bytes or u32)",
            InputLayer::Values { .. } => "values",
        };
        let mismatch = || NnError::InputKind {
            expected,
            got: input.kind(),
        };
        match (self.architecture.input, input) {
            (InputLayer::Embedding { vocab, .. }, Input::Bytes(ids)) => {
                if vocab < 256 {
                    if let Some(at) = ids.iter().position(|&id| usize::from(id) >= vocab) {
                        return Err(NnError::IdOutOfRange {
                            row: at / width,
                            position: at % width,
                            id: u64::from(ids[at]),
                            vocab,
                        });
                    }
                }
            }
            (InputLayer::Embedding { vocab, .. }, Input::Ids(ids)) => {
                if let Some(at) = ids.iter().position(|&id| id as usize >= vocab) {
                    return Err(NnError::IdOutOfRange {
                        row: at / width,
                        position: at % width,
                        id: u64::from(ids[at]),
                        vocab,
                    });
                }
            }
            (InputLayer::Values { .. }, Input::Values(values)) => {
                if let Some(at) = values.iter().position(|v| !v.is_finite()) {
                    return Err(NnError::NonFinite {
                        what: "input",
                        row: at / width,
                        column: at % width,
                        value: values[at],
                    });
                }
            }
            _ => return Err(mismatch()),
        }
        Ok(len / width)
    }

    /// Checks a target against the architecture and `input` (already checked, `rows` rows):
    /// explicit rows must be `rows × output width` and finite; scaled ids need an id input
    /// whose positions match the output width, and finite per-position factors.
    pub fn check_target(&self, target: Target, input: Input, rows: usize) -> Result<(), NnError> {
        let width = self.architecture.output_width();
        match target {
            Target::Rows(values) => {
                if values.len() != rows * width {
                    return Err(NnError::TargetShape {
                        len: values.len(),
                        rows,
                        width,
                    });
                }
                if let Some(at) = values.iter().position(|v| !v.is_finite()) {
                    return Err(NnError::NonFinite {
                        what: "target",
                        row: at / width,
                        column: at % width,
                        value: values[at],
                    });
                }
            }
            Target::ScaledIds { offset, scale } => {
                if matches!(input, Input::Values(_)) {
                    return Err(NnError::Target(
                        "scaled ids need ids as input, got values".into(),
                    ));
                }
                let positions = self.architecture.input_width();
                if width != positions || offset.len() != positions || scale.len() != positions {
                    return Err(NnError::Target(format!(
                        "scaled ids need {positions} offsets and scales and an output as wide as \
                         the input; got {} offsets, {} scales, output width {width}",
                        offset.len(),
                        scale.len()
                    )));
                }
                if let Some(p) = offset
                    .iter()
                    .zip(scale)
                    .position(|(o, s)| !(o.is_finite() && s.is_finite()))
                {
                    return Err(NnError::Target(format!(
                        "position {p}: offset {} or scale {} is not finite",
                        offset[p], scale[p]
                    )));
                }
            }
        }
        Ok(())
    }

    /// Copies the chosen input rows (and target rows, if given) into the workspace.
    pub(crate) fn load(
        &self,
        input: Input,
        target: Option<Target>,
        rows: Rows,
        ws: &mut Workspace,
    ) {
        debug_assert!(rows.len() <= ws.capacity);
        let width = self.architecture.input_width();
        ws.ids.clear();
        match input {
            Input::Bytes(ids) => rows.for_each(|r| {
                ws.ids.extend(
                    ids[r * width..(r + 1) * width]
                        .iter()
                        .map(|&b| u32::from(b)),
                )
            }),
            Input::Ids(ids) => {
                rows.for_each(|r| ws.ids.extend_from_slice(&ids[r * width..(r + 1) * width]))
            }
            Input::Values(values) => {
                let mut at = 0;
                rows.for_each(|r| {
                    ws.features[at..at + width]
                        .copy_from_slice(&values[r * width..(r + 1) * width]);
                    at += width;
                })
            }
        }
        if let Some(target) = target {
            let out = self.architecture.output_width();
            ws.target.clear();
            rows.for_each(|r| target.push_row(input, r, width, out, &mut ws.target));
        }
    }

    /// Forward pass over the first `rows` loaded rows; the result is the last entry of
    /// `ws.outputs`.
    pub(crate) fn forward(&self, ws: &mut Workspace, rows: usize) {
        if let Some((range, dim)) = &self.layout.embedding {
            let n = ws.ids.len().min(rows * self.architecture.input_width());
            embedding_forward(
                &self.parameters[range.clone()],
                *dim,
                &ws.ids[..n],
                &mut ws.features[..n * dim],
            );
        }
        for (i, (shape, kernel, bias)) in self.layout.dense.iter().enumerate() {
            let (before, after) = ws.outputs.split_at_mut(i);
            let x = if i == 0 { &ws.features } else { &before[i - 1] };
            dense_forward(
                *shape,
                rows,
                x,
                &self.parameters[kernel.clone()],
                &self.parameters[bias.clone()],
                &mut after[0],
            );
        }
    }

    /// Backward pass after [`Network::forward`]: writes the gradient of the loss summed over
    /// these rows and divided by `count` (the element count of the whole batch) into
    /// `ws.grads`, and returns the loss sum over these rows.
    pub(crate) fn backward(
        &self,
        ws: &mut Workspace,
        rows: usize,
        loss: Loss,
        count: usize,
    ) -> f64 {
        let out = self.architecture.output_width();
        let Workspace {
            ids,
            features,
            outputs,
            target,
            delta,
            delta_in,
            grads,
            embedding_squares,
            ..
        } = ws;
        let last = outputs.len() - 1;
        let sum = loss.sum_and_gradient(
            &outputs[last][..rows * out],
            &target[..rows * out],
            count,
            &mut delta[..rows * out],
        );
        let needs_input_gradient = self.layout.embedding.is_some();
        for (i, (shape, kernel, bias)) in self.layout.dense.iter().enumerate().rev() {
            let x = if i == 0 {
                &features[..]
            } else {
                &outputs[i - 1][..]
            };
            let (grad_kernel, grad_bias) = grads[kernel.start..bias.end].split_at_mut(kernel.len());
            let want_input = i > 0 || needs_input_gradient;
            dense_backward(
                *shape,
                rows,
                x,
                &self.parameters[kernel.clone()],
                &outputs[i],
                delta,
                grad_kernel,
                grad_bias,
                want_input.then_some(&mut delta_in[..rows * shape.inputs]),
            );
            std::mem::swap(delta, delta_in);
        }
        if let Some((range, dim)) = &self.layout.embedding {
            let grad = &mut grads[range.clone()];
            grad.fill(0.0);
            embedding_squares.fill(0.0);
            let n = rows * self.architecture.input_width();
            embedding_backward(*dim, &ids[..n], &delta[..n * dim], grad, embedding_squares);
        }
        sum
    }

    /// The network's output for every row (`rows × output width`, row-major). Runs in parallel
    /// over chunks of rows; each row's result does not depend on the others or on threads.
    pub fn predict(&self, input: Input) -> Result<Vec<f32>, NnError> {
        let rows = self.check_input(input)?;
        let width = self.architecture.output_width();
        let mut out = vec![0.0f32; rows * width];
        out.par_chunks_mut(SCORING_CHUNK * width)
            .enumerate()
            .for_each_init(
                || Workspace::new(self, SCORING_CHUNK, false),
                |ws, (chunk, slot)| {
                    let start = chunk * SCORING_CHUNK;
                    let n = slot.len() / width;
                    self.load(input, None, Rows::Run(start, start + n), ws);
                    self.forward(ws, n);
                    slot.copy_from_slice(&ws.outputs[ws.outputs.len() - 1][..n * width]);
                },
            );
        Ok(out)
    }

    /// One reconstruction error per row between the network's output and `target`, without
    /// keeping all outputs in memory. For an autoencoder over values, `target` is the input
    /// itself (`&values`); for the byte autoencoder, [`Target::ScaledIds`].
    pub fn row_errors<'t>(
        &self,
        input: Input,
        target: impl Into<Target<'t>>,
        metric: RowError,
    ) -> Result<Vec<f32>, NnError> {
        let target = target.into();
        let rows = self.check_input(input)?;
        self.check_target(target, input, rows)?;
        let width = self.architecture.output_width();
        let mut errors = vec![0.0f32; rows];
        errors
            .par_chunks_mut(SCORING_CHUNK)
            .enumerate()
            .for_each_init(
                || Workspace::new(self, SCORING_CHUNK, false),
                |ws, (chunk, slot)| {
                    let start = chunk * SCORING_CHUNK;
                    let n = slot.len();
                    self.load(input, Some(target), Rows::Run(start, start + n), ws);
                    self.forward(ws, n);
                    let predicted = &ws.outputs[ws.outputs.len() - 1][..n * width];
                    slot.copy_from_slice(&metric.rows(predicted, &ws.target, width));
                },
            );
        Ok(errors)
    }

    /// The mean loss over all rows (Keras' `evaluate`). Summed per chunk in `f64`, then over
    /// chunks in order, so the result does not depend on the thread count.
    pub fn loss<'t>(
        &self,
        input: Input,
        target: impl Into<Target<'t>>,
        loss: Loss,
    ) -> Result<f64, NnError> {
        let target = target.into();
        let rows = self.check_input(input)?;
        self.check_target(target, input, rows)?;
        Ok(self.loss_sum(input, target, 0..rows, loss)
            / (rows * self.architecture.output_width()).max(1) as f64)
    }

    /// Sum of element losses over `rows` (already checked).
    pub(crate) fn loss_sum(
        &self,
        input: Input,
        target: Target,
        rows: Range<usize>,
        loss: Loss,
    ) -> f64 {
        let width = self.architecture.output_width();
        let starts: Vec<usize> = rows.clone().step_by(SCORING_CHUNK).collect();
        let sums: Vec<f64> = starts
            .par_iter()
            .map_init(
                || Workspace::new(self, SCORING_CHUNK, false),
                |ws, &start| {
                    let end = (start + SCORING_CHUNK).min(rows.end);
                    let n = end - start;
                    self.load(input, Some(target), Rows::Run(start, end), ws);
                    self.forward(ws, n);
                    loss.sum(&ws.outputs[ws.outputs.len() - 1][..n * width], &ws.target)
                },
            )
            .collect();
        sums.iter().sum()
    }

    /// The mean loss over all rows and its gradient with respect to every parameter (flat, in
    /// [`Network::tensors`] order), computed in one batch. For gradient checks and diagnostics.
    pub fn gradients<'t>(
        &self,
        input: Input,
        target: impl Into<Target<'t>>,
        loss: Loss,
    ) -> Result<(f64, Vec<f32>), NnError> {
        let target = target.into();
        let rows = self.check_input(input)?;
        self.check_target(target, input, rows)?;
        let mut ws = Workspace::new(self, rows, true);
        self.load(input, Some(target), Rows::Run(0, rows), &mut ws);
        self.forward(&mut ws, rows);
        let count = rows * self.architecture.output_width();
        let sum = self.backward(&mut ws, rows, loss, count);
        Ok((sum / count.max(1) as f64, ws.grads))
    }
}
