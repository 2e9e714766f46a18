//! Training losses (MAE, MSE) and the per-row reconstruction errors used for scoring.
//!
//! Losses are Keras' `mean_absolute_error` / `mean_squared_error` with the default
//! `sum_over_batch_size` reduction: the mean over every element of the batch. Scoring an
//! autoencoder instead needs one number per row: the `cmdline` detector ranks by a row's mean
//! absolute error, `proccount` by the Euclidean distance between input and reconstruction.

use serde::{Deserialize, Serialize};

/// A training loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// Mean absolute error (`keras.losses.MeanAbsoluteError`).
    Mae,
    /// Mean squared error (`keras.losses.MeanSquaredError`).
    Mse,
}

impl Loss {
    /// Sum of the element losses of `predicted` against `target` (no mean taken).
    pub(crate) fn sum(self, predicted: &[f32], target: &[f32]) -> f64 {
        let pairs = predicted.iter().zip(target);
        match self {
            Loss::Mae => pairs.map(|(&p, &t)| f64::from((p - t).abs())).sum(),
            Loss::Mse => pairs
                .map(|(&p, &t)| {
                    let d = f64::from(p - t);
                    d * d
                })
                .sum(),
        }
    }

    /// Returns the sum of the element losses and writes the gradient of the *mean* loss,
    /// `d(sum / count)/d predicted`, into `grad`. `count` is the number of elements of the whole
    /// batch (which may span several shards).
    pub(crate) fn sum_and_gradient(
        self,
        predicted: &[f32],
        target: &[f32],
        count: usize,
        grad: &mut [f32],
    ) -> f64 {
        let scale = 1.0 / count as f32;
        let mut sum = 0.0f64;
        // Blocks of 8 float32 lanes, flushed to f64 every block of 1024 elements: the lanes let
        // the compiler vectorise (a single f64 running sum would serialise the loop) and the
        // flush keeps the sum as precise as an f64 one for reporting.
        const LANES: usize = 8;
        const BLOCK: usize = 1024;
        let blocks = predicted
            .chunks(BLOCK)
            .zip(target.chunks(BLOCK))
            .zip(grad.chunks_mut(BLOCK));
        for ((p, t), g) in blocks {
            let mut lanes = [0.0f32; LANES];
            let mut tail = 0.0f32;
            let element = |p: f32, t: f32, g: &mut f32| -> f32 {
                let d = p - t;
                match self {
                    Loss::Mae => {
                        // d|d|/dd = sign(d), and 0 at 0 as TensorFlow's Abs gradient.
                        *g = scale * (f32::from(u8::from(d > 0.0)) - f32::from(u8::from(d < 0.0)));
                        d.abs()
                    }
                    Loss::Mse => {
                        *g = 2.0 * scale * d;
                        d * d
                    }
                }
            };
            let mut pc = p.chunks_exact(LANES);
            let mut tc = t.chunks_exact(LANES);
            let mut gc = g.chunks_exact_mut(LANES);
            for ((p8, t8), g8) in (&mut pc).zip(&mut tc).zip(&mut gc) {
                for j in 0..LANES {
                    lanes[j] += element(p8[j], t8[j], &mut g8[j]);
                }
            }
            let rest = pc.remainder().iter().zip(tc.remainder());
            for ((&p, &t), g) in rest.zip(gc.into_remainder()) {
                tail += element(p, t, g);
            }
            sum += lanes.iter().map(|&v| f64::from(v)).sum::<f64>() + f64::from(tail);
        }
        sum
    }
}

/// How one row's reconstruction is compared with its target when scoring.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowError {
    /// Mean absolute error over the row (`np.mean(np.abs(x - y), axis=1)`).
    Mae,
    /// Mean squared error over the row.
    Mse,
    /// Euclidean distance (`np.linalg.norm(x - y, axis=1)`).
    Euclidean,
}

impl RowError {
    /// The error of one row.
    pub fn row(self, predicted: &[f32], target: &[f32]) -> f32 {
        let n = predicted.len().max(1) as f64;
        let pairs = predicted.iter().zip(target);
        // Accumulate in f64 so long rows do not lose precision; one rounding at the end.
        let value = match self {
            RowError::Mae => pairs.map(|(&p, &t)| f64::from((p - t).abs())).sum::<f64>() / n,
            RowError::Mse | RowError::Euclidean => {
                let squares: f64 = pairs
                    .map(|(&p, &t)| {
                        let d = f64::from(p - t);
                        d * d
                    })
                    .sum();
                if self == RowError::Mse {
                    squares / n
                } else {
                    squares.sqrt()
                }
            }
        };
        value as f32
    }

    /// The error of every row of row-major `predicted` and `target` (`rows × width`).
    pub fn rows(self, predicted: &[f32], target: &[f32], width: usize) -> Vec<f32> {
        if width == 0 {
            return Vec::new();
        }
        predicted
            .chunks_exact(width)
            .zip(target.chunks_exact(width))
            .map(|(p, t)| self.row(p, t))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loss_gradients_match_finite_differences() {
        // Values kept away from p == t, where MAE's derivative jumps.
        let predicted = [0.3f32, -0.7, 1.2, 0.05, -0.4, 0.9];
        let target = [0.1f32, -0.2, 1.5, -0.3, -0.1, 0.2];
        let count = predicted.len();
        for loss in [Loss::Mae, Loss::Mse] {
            let mut grad = [0.0f32; 6];
            let sum = loss.sum_and_gradient(&predicted, &target, count, &mut grad);
            // Element losses are summed in float32 blocks, so agree to float32 precision.
            assert!((sum - loss.sum(&predicted, &target)).abs() < 1e-6);
            let eps = 1e-3f32;
            for i in 0..count {
                let mut p = predicted;
                p[i] += eps;
                let plus = loss.sum(&p, &target) / count as f64;
                p[i] -= 2.0 * eps;
                let minus = loss.sum(&p, &target) / count as f64;
                let numeric = (plus - minus) / (2.0 * f64::from(eps));
                assert!(
                    (f64::from(grad[i]) - numeric).abs() < 1e-4,
                    "{loss:?} element {i}: analytic {}, numeric {numeric}",
                    grad[i]
                );
            }
        }
    }

    #[test]
    fn mae_gradient_is_zero_where_prediction_equals_target() {
        let mut grad = [1.0f32; 2];
        Loss::Mae.sum_and_gradient(&[0.5, 0.5], &[0.5, 0.0], 2, &mut grad);
        assert_eq!(grad, [0.0, 0.5]);
    }

    #[test]
    fn row_errors_match_numpy_formulas() {
        let predicted = [1.0f32, 2.0, 3.0, 0.0, 0.0, 0.0];
        let target = [1.0f32, 0.0, 0.0, 3.0, 4.0, 0.0];
        assert_eq!(
            RowError::Euclidean.rows(&predicted, &target, 3),
            vec![13f32.sqrt(), 5.0]
        );
        assert_eq!(
            RowError::Mae.rows(&predicted, &target, 3),
            vec![5.0 / 3.0, 7.0 / 3.0]
        );
        assert_eq!(
            RowError::Mse.rows(&predicted, &target, 3),
            vec![13.0 / 3.0, 25.0 / 3.0]
        );
    }
}
