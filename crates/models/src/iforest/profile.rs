//! Per-feature training distributions, to say where a value stands ("99.8th percentile").
//!
//! Bounded whatever the training size: up to [`PROFILE_ROWS`] rows are profiled (all of them
//! when there are fewer, else a uniform random choice on the model's seed), and each feature
//! keeps at most [`MAX_POINTS`] order statistics (all values when fewer, else evenly spaced
//! quantiles with numpy's linear interpolation).

use super::grow::tree_rng;
use super::quantile_sorted;
use rand::seq::index;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Most training rows looked at.
pub(crate) const PROFILE_ROWS: usize = 65_536;
/// Most points kept per feature.
pub(crate) const MAX_POINTS: usize = 2_048;
/// RNG stream of the row choice; trees use streams 0..n_trees.
const PROFILE_STREAM: u64 = u64::MAX;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ProfileRepr", into = "ProfileRepr")]
pub(crate) struct FeatureProfile {
    /// Sorted points per feature.
    points: Vec<Vec<f64>>,
}

#[derive(Serialize, Deserialize)]
struct ProfileRepr {
    points: Vec<Vec<f64>>,
}

impl From<FeatureProfile> for ProfileRepr {
    fn from(p: FeatureProfile) -> Self {
        ProfileRepr { points: p.points }
    }
}

impl TryFrom<ProfileRepr> for FeatureProfile {
    type Error = String;
    fn try_from(r: ProfileRepr) -> Result<Self, Self::Error> {
        for (f, pts) in r.points.iter().enumerate() {
            if pts.is_empty()
                || pts.len() > MAX_POINTS
                || pts.iter().any(|v| !v.is_finite())
                || pts.windows(2).any(|w| w[0] > w[1])
            {
                return Err(format!(
                    "feature profile {f}: need 1..={MAX_POINTS} sorted finite values"
                ));
            }
        }
        Ok(FeatureProfile { points: r.points })
    }
}

impl FeatureProfile {
    /// Profiles checked, finite `n_rows × n_features` data.
    pub(crate) fn build(data: &[f64], n_rows: usize, n_features: usize, seed: u64) -> Self {
        let rows: Vec<usize> = if n_rows <= PROFILE_ROWS {
            (0..n_rows).collect()
        } else {
            let mut rng = tree_rng(seed, PROFILE_STREAM);
            index::sample(&mut rng, n_rows, PROFILE_ROWS).into_vec()
        };
        let points = (0..n_features)
            .into_par_iter()
            .map(|f| {
                let mut col: Vec<f64> = rows.iter().map(|&r| data[r * n_features + f]).collect();
                col.sort_by(f64::total_cmp);
                if col.len() <= MAX_POINTS {
                    col
                } else {
                    (0..MAX_POINTS)
                        .map(|i| quantile_sorted(&col, i as f64 / (MAX_POINTS - 1) as f64))
                        .collect()
                }
            })
            .collect();
        FeatureProfile { points }
    }

    pub(crate) fn n_features(&self) -> usize {
        self.points.len()
    }

    /// Inverse of the linear-interpolation quantile over the stored points, in percent.
    pub(crate) fn percentile_of(&self, feature: usize, value: f64) -> Option<f64> {
        let pts = self.points.get(feature)?;
        if value.is_nan() || pts.is_empty() {
            return None;
        }
        let last = pts.len() - 1;
        // Points below and at-or-below the value.
        let below = pts.partition_point(|&p| p < value);
        let upto = pts.partition_point(|&p| p <= value);
        let position = if upto > below {
            // Equal to stored points below..upto: the middle of their positions.
            (below + upto - 1) as f64 / 2.0
        } else if below == 0 {
            return Some(0.0);
        } else if below > last {
            return Some(100.0);
        } else {
            let (lo, hi) = (pts[below - 1], pts[below]);
            (below - 1) as f64 + (value - lo) / (hi - lo)
        };
        Some(if last == 0 {
            50.0
        } else {
            100.0 * position / last as f64
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_inverts_numpy_percentile() {
        // numpy.percentile([1, 2, 3, 4, 5], 30) = 2.2, so 2.2 is the 30th percentile.
        let data = [5.0, 3.0, 1.0, 4.0, 2.0];
        let p = FeatureProfile::build(&data, 5, 1, 0);
        assert!((p.percentile_of(0, 2.2).unwrap() - 30.0).abs() < 1e-12);
        assert_eq!(p.percentile_of(0, 3.0), Some(50.0));
        assert_eq!(p.percentile_of(0, 0.0), Some(0.0));
        assert_eq!(p.percentile_of(0, 9.0), Some(100.0));
        assert_eq!(p.percentile_of(0, f64::NAN), None);
        assert_eq!(p.percentile_of(1, 1.0), None);
    }

    #[test]
    fn ties_take_the_middle_and_large_inputs_stay_bounded() {
        let data = [0.0, 0.0, 0.0, 1.0];
        let p = FeatureProfile::build(&data, 4, 1, 0);
        // Positions 0..=2 of 0..=3 hold 0: the middle is 1, i.e. 33.3 %.
        assert!((p.percentile_of(0, 0.0).unwrap() - 100.0 / 3.0).abs() < 1e-12);

        let n = 100_000;
        let data: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let p = FeatureProfile::build(&data, n, 1, 7);
        assert_eq!(p.points[0].len(), MAX_POINTS);
        let pct = p.percentile_of(0, 99_800.0).unwrap();
        assert!((pct - 99.8).abs() < 0.1, "{pct}");
    }
}
