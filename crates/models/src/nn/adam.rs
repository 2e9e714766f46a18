//! The Adam optimiser with Keras' defaults and Keras 3's exact update.
//!
//! Keras 3 (`keras/src/optimizers/adam.py`, `update_step`), all in `float32`:
//!
//! ```text
//! t     = iterations + 1
//! alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
//! m    += (g - m) * (1 - beta_1)
//! v    += (g² - v) * (1 - beta_2)
//! w    -= (m * alpha) / (sqrt(v) + epsilon)
//! ```
//!
//! Note where epsilon sits: outside the bias correction (Keras' "epsilon hat"), which differs
//! from the Adam paper's formulation by a tiny amount; we follow Keras so trained weights match.
//! Gradients are dense: an embedding row that no id in the batch used still gets its moments
//! decayed and a momentum step, as Keras does once the sparse gradient is densified.
//!
//! One Keras quirk is reproduced on purpose. An embedding's gradient reaches the optimiser as
//! `IndexedSlices`, one slice per id occurrence in the batch; `ops.square` squares each slice
//! *before* the slices are summed, so Keras feeds the second moment `Σ_occurrences g²` where
//! textbook Adam uses `(Σ_occurrences g)²` (tf.keras 2's sparse Adam path did the same). An id
//! that occurs many times in a batch with gradients of one sign so gets a smaller second moment,
//! hence a larger step, than textbook Adam would give it. [`Adam::step`] takes those sums of
//! squares for the embedding table so trained weights match Keras (`tests/nn_keras_parity.rs`).

use serde::{Deserialize, Serialize};

/// Adam's hyper-parameters.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdamSettings {
    /// Step size (Keras default 0.001).
    pub learning_rate: f32,
    /// Decay of the first moment (0.9). Kept in `f64` like Keras' Python float, because Keras
    /// forms `1 - beta_1` in double precision before casting it to `float32`.
    pub beta_1: f64,
    /// Decay of the second moment (0.999), `f64` for the same reason.
    pub beta_2: f64,
    /// Added to `sqrt(v)` (Keras default 1e-7, not the paper's 1e-8).
    pub epsilon: f32,
}

impl Default for AdamSettings {
    fn default() -> Self {
        Self {
            learning_rate: 0.001,
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
        }
    }
}

/// Adam state for one flat parameter vector.
#[derive(Clone, Debug)]
pub struct Adam {
    settings: AdamSettings,
    momentums: Vec<f32>,
    velocities: Vec<f32>,
    iterations: u64,
}

impl Adam {
    /// Fresh state (zero moments) for `parameters` values.
    pub fn new(parameters: usize, settings: AdamSettings) -> Self {
        Self {
            settings,
            momentums: vec![0.0; parameters],
            velocities: vec![0.0; parameters],
            iterations: 0,
        }
    }

    /// Steps taken so far.
    pub fn iterations(&self) -> u64 {
        self.iterations
    }

    /// One update of `parameters` with `gradients` (same length as at construction).
    ///
    /// `sparse_squares`, if given, is `(start, squares)`: for the parameters from `start` on,
    /// `squares.len()` of them (an embedding table), the second moment is fed `squares` (the
    /// per-occurrence sums of squared gradients, as Keras) instead of `g²`.
    pub fn step(
        &mut self,
        parameters: &mut [f32],
        gradients: &[f32],
        sparse_squares: Option<(usize, &[f32])>,
    ) {
        let s = self.settings;
        self.iterations += 1;
        // Keras casts the step to float32 and raises float32 betas to it.
        let t = self.iterations as f32;
        let beta_1_power = (s.beta_1 as f32).powf(t);
        let beta_2_power = (s.beta_2 as f32).powf(t);
        let alpha = s.learning_rate * (1.0 - beta_2_power).sqrt() / (1.0 - beta_1_power);
        let keep_1 = (1.0 - s.beta_1) as f32;
        let keep_2 = (1.0 - s.beta_2) as f32;
        let epsilon = s.epsilon;
        let n = parameters.len().min(gradients.len());
        let (start, squares) = sparse_squares.unwrap_or((n, &[]));
        let start = start.min(n);
        let end = (start + squares.len()).min(n);
        // Three runs (before, inside and after the embedding table), each a zip of slices that
        // the compiler vectorises.
        let run = |range: std::ops::Range<usize>,
                   squares: Option<&[f32]>,
                   parameters: &mut [f32],
                   momentums: &mut [f32],
                   velocities: &mut [f32]| {
            let w = &mut parameters[range.clone()];
            let g = &gradients[range.clone()];
            let m = &mut momentums[range.clone()];
            let v = &mut velocities[range];
            match squares {
                None => {
                    for (((w, &g), m), v) in w.iter_mut().zip(g).zip(m).zip(v) {
                        *m += (g - *m) * keep_1;
                        *v += (g * g - *v) * keep_2;
                        *w -= (*m * alpha) / (v.sqrt() + epsilon);
                    }
                }
                Some(squares) => {
                    for ((((w, &g), &g2), m), v) in w.iter_mut().zip(g).zip(squares).zip(m).zip(v) {
                        *m += (g - *m) * keep_1;
                        *v += (g2 - *v) * keep_2;
                        *w -= (*m * alpha) / (v.sqrt() + epsilon);
                    }
                }
            }
        };
        let (momentums, velocities) = (&mut self.momentums, &mut self.velocities);
        run(0..start, None, parameters, momentums, velocities);
        run(
            start..end,
            Some(&squares[..end - start]),
            parameters,
            momentums,
            velocities,
        );
        run(end..n, None, parameters, momentums, velocities);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_step_moves_each_weight_by_about_the_learning_rate() {
        // At t = 1 the bias-corrected m/sqrt(v) is g/|g|, so each weight moves by ~lr·sign(g).
        let mut adam = Adam::new(3, AdamSettings::default());
        let mut w = [1.0f32, 1.0, 1.0];
        adam.step(&mut w, &[0.5, -2.0, 1e-3], None);
        assert!((w[0] - 0.999).abs() < 1e-6);
        assert!((w[1] - 1.001).abs() < 1e-6);
        assert!((w[2] - 0.999).abs() < 1e-5);
        assert_eq!(adam.iterations(), 1);
    }

    #[test]
    fn minimises_a_quadratic() {
        let mut adam = Adam::new(
            1,
            AdamSettings {
                learning_rate: 0.05,
                ..AdamSettings::default()
            },
        );
        let mut w = [3.0f32];
        for _ in 0..2000 {
            let g = [2.0 * (w[0] - 1.0)];
            adam.step(&mut w, &g, None);
        }
        assert!((w[0] - 1.0).abs() < 1e-3, "w = {}", w[0]);
    }

    #[test]
    fn sparse_squares_replace_g_squared_only_in_their_range() {
        let mut dense = Adam::new(4, AdamSettings::default());
        let mut sparse = Adam::new(4, AdamSettings::default());
        let grads = [0.2f32, -0.4, 0.6, -0.8];
        let mut a = [0.0f32; 4];
        let mut b = [0.0f32; 4];
        dense.step(&mut a, &grads, None);
        // Same squares as g² except element 2, whose gradient came from two occurrences.
        sparse.step(&mut b, &grads, Some((1, &[0.16, 0.2])));
        assert_eq!(a[0], b[0]);
        assert_eq!(a[1], b[1]);
        // t = 1: m = 0.1·g, v = 0.001·g2, alpha = lr·sqrt(0.001)/0.1.
        let alpha = 0.001 * 0.001f32.sqrt() / 0.1;
        let expected = -(0.1 * 0.6 * alpha) / ((0.001f32 * 0.2).sqrt() + 1e-7);
        assert!((b[2] - expected).abs() < 1e-7, "{} vs {expected}", b[2]);
        assert!(b[2].abs() > a[2].abs(), "smaller v, larger step");
        assert_eq!(a[3], b[3]);
    }
}
