//! The layers: embedding lookup, dense (fully connected) and the activations that follow it.
//!
//! Each layer is a pair of functions over row-major batch slices, a forward pass and a backward
//! pass that turns the gradient of the loss with respect to the layer's output into gradients
//! for its parameters and (where needed) its input. Initialisation follows Keras' defaults:
//! `Embedding` weights uniform in ±0.05 (`embeddings_initializer="uniform"`), `Dense` kernels
//! Glorot-uniform (limit `sqrt(6 / (fan_in + fan_out))`) and zero biases.

use super::gemm::{gemm, Op};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// The non-linearity applied to a dense layer's output.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Activation {
    /// No activation (Keras `activation=None` / `"linear"`).
    Linear,
    /// Hyperbolic tangent.
    Tanh,
    /// `x` for `x > 0`, `alpha · x` otherwise. Keras' `LeakyReLU` layer defaults to
    /// `alpha = 0.3` in both Keras 2 (`alpha`) and Keras 3 (`negative_slope`); note that the
    /// *function* `keras.activations.leaky_relu` defaults to 0.2.
    LeakyRelu {
        /// Slope for negative inputs, `>= 0` as Keras requires.
        alpha: f32,
    },
}

impl Activation {
    /// Keras' `LeakyReLU()` layer default.
    pub const KERAS_LEAKY_RELU: Activation = Activation::LeakyRelu { alpha: 0.3 };

    /// Applies the activation in place (`z` becomes `y`).
    pub(crate) fn apply(self, values: &mut [f32]) {
        match self {
            Activation::Linear => {}
            Activation::Tanh => values.iter_mut().for_each(|v| *v = tanh(*v)),
            Activation::LeakyRelu { alpha } => values.iter_mut().for_each(|v| {
                if *v <= 0.0 {
                    *v *= alpha;
                }
            }),
        }
    }

    /// Turns `delta = dL/dy` into `dL/dz` in place, given the outputs `y`.
    ///
    /// Derivatives are taken from `y`, which is what the forward pass keeps: tanh' = 1 - y², and
    /// for leaky ReLU `y > 0` exactly when `z > 0` because `alpha >= 0` (validated). At `z == 0`
    /// the slope is `alpha`, as TensorFlow's `LeakyReluGrad` (`features > 0 ? 1 : alpha`).
    pub(crate) fn backprop(self, outputs: &[f32], delta: &mut [f32]) {
        match self {
            Activation::Linear => {}
            Activation::Tanh => delta
                .iter_mut()
                .zip(outputs)
                .for_each(|(d, &y)| *d *= 1.0 - y * y),
            Activation::LeakyRelu { alpha } => delta.iter_mut().zip(outputs).for_each(|(d, &y)| {
                if y <= 0.0 {
                    *d *= alpha;
                }
            }),
        }
    }
}

/// Numerator and denominator of the rational tanh approximation, in `u = x² / 81`, fitted by
/// `bench/nn_tanh_fit.py` (relative error 2.1e-8 on [0, 9]).
const TANH_P: [f64; 5] = [
    1.0,
    10.841032690792133,
    22.95699679117646,
    10.980353811702928,
    0.5776919495785398,
];
const TANH_Q: [f64; 5] = [
    1.0,
    37.84102309269153,
    169.86596150937106,
    174.90038068500127,
    33.597315664490665,
];

/// `tanh`, within 0.86 ulp of the exact float32 value (checked on 20 million points by
/// `bench/nn_tanh_fit.py` and on a grid in the tests), 5-10 times faster than libm's `tanhf`.
///
/// Why: libm's `tanhf` (via `expm1f`) took 42 % of a training epoch; TensorFlow also uses a
/// rational approximation (Eigen's). Branch-free, so the compiler vectorises it: `x · P(u) /
/// Q(u)` with `u = x²/81`, `|x|` clamped to 9 where tanh rounds to ±1, evaluated in `f64` and
/// rounded once. `P(0) = Q(0) = 1` makes tiny inputs come back unchanged, as tanh does.
#[inline]
pub(crate) fn tanh(x: f32) -> f32 {
    let x = f64::from(x).clamp(-9.0, 9.0);
    let u = x * x * (1.0 / 81.0);
    let p = (((TANH_P[4] * u + TANH_P[3]) * u + TANH_P[2]) * u + TANH_P[1]) * u + TANH_P[0];
    let q = (((TANH_Q[4] * u + TANH_Q[3]) * u + TANH_Q[2]) * u + TANH_Q[1]) * u + TANH_Q[0];
    (x * (p / q)) as f32
}

/// Fills an embedding table with Keras' default `uniform` initialiser (±0.05).
pub(crate) fn init_embedding(table: &mut [f32], rng: &mut impl Rng) {
    table
        .iter_mut()
        .for_each(|w| *w = rng.random_range(-0.05f32..0.05));
}

/// Fills a `fan_in × fan_out` kernel with Glorot-uniform values (Keras' `Dense` default).
pub(crate) fn init_glorot_uniform(
    kernel: &mut [f32],
    fan_in: usize,
    fan_out: usize,
    rng: &mut impl Rng,
) {
    let limit = (6.0 / (fan_in + fan_out) as f64).sqrt() as f32;
    kernel
        .iter_mut()
        .for_each(|w| *w = rng.random_range(-limit..limit));
}

/// Embedding forward: row `r`'s output is the concatenation of the `dim`-wide table rows of its
/// ids (Keras `Embedding` followed by `Flatten`). `ids` holds `rows × positions` ids that the
/// caller has checked against the vocabulary.
pub(crate) fn embedding_forward(table: &[f32], dim: usize, ids: &[u32], out: &mut [f32]) {
    // A compile-time width turns each row copy into one vector move instead of a memcpy call
    // (which cost 2 % of a cmdline epoch at dim 4, the byte autoencoder's width).
    fn gather<const D: usize>(table: &[f32], ids: &[u32], out: &mut [f32]) {
        for (slot, &id) in out.chunks_exact_mut(D).zip(ids) {
            let start = id as usize * D;
            slot.copy_from_slice(&table[start..start + D]);
        }
    }
    match dim {
        4 => gather::<4>(table, ids, out),
        8 => gather::<8>(table, ids, out),
        _ => {
            for (slot, &id) in out.chunks_exact_mut(dim).zip(ids) {
                let start = id as usize * dim;
                slot.copy_from_slice(&table[start..start + dim]);
            }
        }
    }
}

/// Embedding backward: scatter-adds each position's output gradient into the row of the table
/// it was read from, and its square into `squares` (what Keras' Adam feeds its second moment,
/// see [`super::adam`]). Both must be zeroed by the caller.
pub(crate) fn embedding_backward(
    dim: usize,
    ids: &[u32],
    delta: &[f32],
    grad: &mut [f32],
    squares: &mut [f32],
) {
    for (slot, &id) in delta.chunks_exact(dim).zip(ids) {
        let start = id as usize * dim;
        grad[start..start + dim]
            .iter_mut()
            .zip(&mut squares[start..start + dim])
            .zip(slot)
            .for_each(|((g, s), d)| {
                *g += d;
                *s += d * d;
            });
    }
}

/// Shapes of one dense layer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DenseShape {
    pub inputs: usize,
    pub units: usize,
    pub activation: Activation,
}

/// Dense forward: `y = act(x · W + b)` for `rows` rows; `x` is `rows × inputs`, the kernel
/// `inputs × units` (Keras' layout), `out` `rows × units`.
pub(crate) fn dense_forward(
    shape: DenseShape,
    rows: usize,
    x: &[f32],
    kernel: &[f32],
    bias: &[f32],
    out: &mut [f32],
) {
    let out = &mut out[..rows * shape.units];
    // Start from the bias and accumulate the product on top: one pass instead of two.
    for row in out.chunks_exact_mut(shape.units) {
        row.copy_from_slice(bias);
    }
    gemm(
        rows,
        shape.inputs,
        shape.units,
        x,
        Op::Plain,
        kernel,
        Op::Plain,
        1.0,
        out,
    );
    shape.activation.apply(out);
}

/// Dense backward. On entry `delta` holds `dL/dy` (`rows × units`); on exit it holds `dL/dz`.
/// Writes `dL/dW = xᵀ · dL/dz` and `dL/db = Σ_rows dL/dz` (overwriting), and, if asked,
/// `dL/dx = dL/dz · Wᵀ` into `delta_in` (`rows × inputs`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn dense_backward(
    shape: DenseShape,
    rows: usize,
    x: &[f32],
    kernel: &[f32],
    outputs: &[f32],
    delta: &mut [f32],
    grad_kernel: &mut [f32],
    grad_bias: &mut [f32],
    delta_in: Option<&mut [f32]>,
) {
    let units = shape.units;
    let delta = &mut delta[..rows * units];
    shape.activation.backprop(&outputs[..rows * units], delta);
    gemm(
        shape.inputs,
        rows,
        units,
        x,
        Op::Transposed,
        delta,
        Op::Plain,
        0.0,
        grad_kernel,
    );
    grad_bias.fill(0.0);
    for row in delta.chunks_exact(units) {
        grad_bias.iter_mut().zip(row).for_each(|(g, d)| *g += d);
    }
    if let Some(delta_in) = delta_in {
        gemm(
            rows,
            units,
            shape.inputs,
            delta,
            Op::Plain,
            kernel,
            Op::Transposed,
            0.0,
            delta_in,
        );
    }
}

#[cfg(test)]
mod tests {
    //! Finite-difference checks of every layer's backward pass. Each check uses the scalar
    //! objective `L = Σ r ⊙ layer(x)` with fixed random `r`, so `dL/dy = r`; the numeric
    //! derivative is a central difference evaluated with `f64` sums over `f32` forward passes.
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn random(rng: &mut ChaCha8Rng, n: usize, scale: f32) -> Vec<f32> {
        (0..n).map(|_| rng.random_range(-scale..scale)).collect()
    }

    fn objective(out: &[f32], r: &[f32]) -> f64 {
        out.iter()
            .zip(r)
            .map(|(&o, &w)| f64::from(o) * f64::from(w))
            .sum()
    }

    fn assert_close(analytic: f32, numeric: f64, what: &str) {
        let tolerance = 2e-3 + 1e-2 * numeric.abs();
        assert!(
            (f64::from(analytic) - numeric).abs() <= tolerance,
            "{what}: analytic {analytic}, numeric {numeric}"
        );
    }

    fn check_dense(activation: Activation, seed: u64) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let shape = DenseShape {
            inputs: 5,
            units: 4,
            activation,
        };
        let rows = 3;
        let mut x = random(&mut rng, rows * shape.inputs, 1.0);
        let mut kernel = random(&mut rng, shape.inputs * shape.units, 0.8);
        let mut bias = random(&mut rng, shape.units, 0.3);
        let r = random(&mut rng, rows * shape.units, 1.0);

        let forward = |x: &[f32], k: &[f32], b: &[f32]| {
            let mut out = vec![0.0; rows * shape.units];
            dense_forward(shape, rows, x, k, b, &mut out);
            out
        };
        let outputs = forward(&x, &kernel, &bias);
        if let Activation::LeakyRelu { .. } = activation {
            // Keep clear of the kink, where a finite difference straddles two slopes.
            let mut z = vec![0.0; rows * shape.units];
            dense_forward(
                DenseShape {
                    activation: Activation::Linear,
                    ..shape
                },
                rows,
                &x,
                &kernel,
                &bias,
                &mut z,
            );
            assert!(
                z.iter().all(|v| v.abs() > 0.05),
                "seed {seed} lands on the kink"
            );
        }
        let mut delta = r.clone();
        let mut grad_kernel = vec![0.0; kernel.len()];
        let mut grad_bias = vec![0.0; bias.len()];
        let mut delta_in = vec![0.0; x.len()];
        dense_backward(
            shape,
            rows,
            &x,
            &kernel,
            &outputs,
            &mut delta,
            &mut grad_kernel,
            &mut grad_bias,
            Some(&mut delta_in),
        );

        let eps = 1e-2f32;
        for i in 0..kernel.len() {
            let keep = kernel[i];
            kernel[i] = keep + eps;
            let plus = objective(&forward(&x, &kernel, &bias), &r);
            kernel[i] = keep - eps;
            let minus = objective(&forward(&x, &kernel, &bias), &r);
            kernel[i] = keep;
            assert_close(
                grad_kernel[i],
                (plus - minus) / (2.0 * f64::from(eps)),
                "kernel",
            );
        }
        for i in 0..bias.len() {
            let keep = bias[i];
            bias[i] = keep + eps;
            let plus = objective(&forward(&x, &kernel, &bias), &r);
            bias[i] = keep - eps;
            let minus = objective(&forward(&x, &kernel, &bias), &r);
            bias[i] = keep;
            assert_close(
                grad_bias[i],
                (plus - minus) / (2.0 * f64::from(eps)),
                "bias",
            );
        }
        for i in 0..x.len() {
            let keep = x[i];
            x[i] = keep + eps;
            let plus = objective(&forward(&x, &kernel, &bias), &r);
            x[i] = keep - eps;
            let minus = objective(&forward(&x, &kernel, &bias), &r);
            x[i] = keep;
            assert_close(
                delta_in[i],
                (plus - minus) / (2.0 * f64::from(eps)),
                "input",
            );
        }
    }

    #[test]
    fn dense_linear_gradients_match_finite_differences() {
        check_dense(Activation::Linear, 1);
    }

    #[test]
    fn dense_tanh_gradients_match_finite_differences() {
        check_dense(Activation::Tanh, 2);
    }

    #[test]
    fn dense_leaky_relu_gradients_match_finite_differences() {
        check_dense(Activation::KERAS_LEAKY_RELU, 5);
    }

    #[test]
    fn embedding_gradients_match_finite_differences() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let (vocab, dim, rows, positions) = (6, 3, 4, 5);
        let mut table = random(&mut rng, vocab * dim, 1.0);
        // Repeated ids on purpose: their gradients must add up.
        let ids: Vec<u32> = (0..rows * positions).map(|i| (i * 7 % 5) as u32).collect();
        let r = random(&mut rng, rows * positions * dim, 1.0);
        let forward = |table: &[f32]| {
            let mut out = vec![0.0; rows * positions * dim];
            embedding_forward(table, dim, &ids, &mut out);
            out
        };
        let mut grad = vec![0.0; table.len()];
        let mut squares = vec![0.0; table.len()];
        embedding_backward(dim, &ids, &r, &mut grad, &mut squares);
        let eps = 1e-2f32;
        for i in 0..table.len() {
            let keep = table[i];
            table[i] = keep + eps;
            let plus = objective(&forward(&table), &r);
            table[i] = keep - eps;
            let minus = objective(&forward(&table), &r);
            table[i] = keep;
            assert_close(grad[i], (plus - minus) / (2.0 * f64::from(eps)), "table");
        }
        // Id 5 never occurs, so its row gets no gradient.
        assert!(grad[5 * dim..6 * dim].iter().all(|&g| g == 0.0));
        // Squares are summed per occurrence: at least the square of the sum over occurrences
        // divided by the count, at most the square of the sum when all have one sign.
        let expected: f32 = ids
            .iter()
            .enumerate()
            .filter(|(_, &id)| id == 0)
            .map(|(at, _)| r[at * dim] * r[at * dim])
            .sum();
        assert!((squares[0] - expected).abs() < 1e-6);
    }

    #[test]
    fn embedding_lookup_is_the_same_for_every_width() {
        for dim in [1, 3, 4, 8] {
            let table: Vec<f32> = (0..5 * dim).map(|i| i as f32).collect();
            let ids = [4u32, 0, 2];
            let mut out = vec![0.0; ids.len() * dim];
            embedding_forward(&table, dim, &ids, &mut out);
            let expected: Vec<f32> = ids
                .iter()
                .flat_map(|&id| table[id as usize * dim..(id as usize + 1) * dim].to_vec())
                .collect();
            assert_eq!(out, expected, "dim {dim}");
        }
    }

    #[test]
    fn leaky_relu_slope_at_zero_is_alpha_as_tensorflow() {
        let act = Activation::LeakyRelu { alpha: 0.3 };
        let mut values = vec![-2.0, 0.0, 3.0];
        act.apply(&mut values);
        assert_eq!(values, vec![-0.6, 0.0, 3.0]);
        let mut delta = vec![1.0; 3];
        act.backprop(&values, &mut delta);
        assert_eq!(delta, vec![0.3, 0.3, 1.0]);
    }

    #[test]
    fn tanh_is_within_one_ulp_of_the_exact_value() {
        let mut worst = 0.0f64;
        for i in -2_000_000..=2_000_000 {
            let x = i as f32 * 6e-6; // [-12, 12]
            let exact = f64::from(x).tanh();
            let ours = f64::from(tanh(x));
            // One float32 ulp at |exact|.
            let near = exact.abs() as f32;
            let ulp = f64::from(near.next_up() - near);
            worst = worst.max((ours - exact).abs() / ulp);
        }
        assert!(worst <= 1.0, "{worst} ulp");
        assert!(
            worst > 0.3,
            "the grid reaches the approximation's error ({worst} ulp)"
        );
        for x in [0.0f32, -0.0, 1e-30, -1e-20, 1e-8] {
            assert_eq!(tanh(x), x, "tiny inputs are returned unchanged");
        }
        assert!(
            (1.0 - tanh(9.0)) <= f32::EPSILON / 2.0,
            "at the clamp tanh is 1 within an ulp"
        );
        assert_eq!(tanh(100.0), 1.0);
        assert_eq!(tanh(-1e30), -1.0);
        assert_eq!(tanh(f32::INFINITY), 1.0);
        assert!(tanh(f32::NAN).is_nan());
    }

    #[test]
    fn glorot_uniform_stays_within_its_limit() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let mut kernel = vec![0.0; 128 * 64];
        init_glorot_uniform(&mut kernel, 128, 64, &mut rng);
        let limit = (6.0f32 / 192.0).sqrt();
        assert!(kernel.iter().all(|w| w.abs() <= limit));
        // Uniform on ±limit has standard deviation limit / sqrt(3).
        let std = (kernel.iter().map(|w| w * w).sum::<f32>() / kernel.len() as f32).sqrt();
        assert!(
            (std - limit / 3f32.sqrt()).abs() < 0.01 * limit,
            "std {std}"
        );
    }
}
