//! Feature matrices and standard scaling.
//!
//! Every numeric model in this crate (Isolation Forest, k-means, the scaler itself) takes its
//! input the same way: a row-major `&[f64]` slice holding `n_rows × n_features` values, one row
//! per scored subject (a registered domain, a client IP, an executable…). [`check_matrix`] and
//! [`count_rows`] are the one place that shape and finiteness are checked, so each model reports
//! a bad matrix with the same message naming the row and feature.
//!
//! [`StandardScaler`] is scikit-learn's `StandardScaler`: per-feature mean and population
//! standard deviation (numpy's `ddof=0`), a constant feature gets scale 1, so
//! `transform(x) = (x - mean) / scale`. It is stored in model files beside the model that uses
//! it (k-means keeps its own, see [`crate::kmeans`]).

use serde::{Deserialize, Serialize};

/// What is wrong with a feature matrix handed to a model.
///
/// Row and feature numbers are 0-based positions in the matrix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MatrixError {
    /// The slice length does not match the stated shape.
    #[error("feature matrix has {len} values, expected {n_rows} rows × {n_features} features = {expected}")]
    Shape {
        /// Values in the slice.
        len: usize,
        /// Stated rows.
        n_rows: usize,
        /// Stated features per row.
        n_features: usize,
        /// `n_rows × n_features` (saturating).
        expected: usize,
    },
    /// The slice is not a whole number of rows.
    #[error(
        "feature matrix has {len} values, not a whole number of rows of {n_features} features"
    )]
    Ragged {
        /// Values in the slice.
        len: usize,
        /// Features per row.
        n_features: usize,
    },
    /// No rows at all.
    #[error("feature matrix has no rows")]
    Empty,
    /// Zero features per row.
    #[error("feature matrix has no features (n_features = 0)")]
    NoFeatures,
    /// A NaN or infinite value.
    #[error("row {row}, feature {feature}: value {value} is not a finite number")]
    NotFinite {
        /// 0-based row.
        row: usize,
        /// 0-based feature.
        feature: usize,
        /// The value.
        value: f64,
    },
    /// Rows of another width than the model was fitted on.
    #[error("rows have {found} features, the model was fitted on {expected}")]
    FeatureCount {
        /// Features in the rows given.
        found: usize,
        /// Features the model knows.
        expected: usize,
    },
}

/// Checks a training matrix: `data.len() == n_rows × n_features`, at least one row and one
/// feature, every value finite.
pub fn check_matrix(data: &[f64], n_rows: usize, n_features: usize) -> Result<(), MatrixError> {
    if n_features == 0 {
        return Err(MatrixError::NoFeatures);
    }
    let expected = n_rows.saturating_mul(n_features);
    if data.len() != expected {
        return Err(MatrixError::Shape {
            len: data.len(),
            n_rows,
            n_features,
            expected,
        });
    }
    if n_rows == 0 {
        return Err(MatrixError::Empty);
    }
    check_finite(data, n_features)
}

/// Number of rows in a matrix of rows `n_features` wide (the width a fitted model knows), after
/// checking it is a whole number of rows of finite values. An empty slice is 0 rows, not an error:
/// scoring nothing returns nothing.
pub fn count_rows(data: &[f64], n_features: usize) -> Result<usize, MatrixError> {
    if n_features == 0 {
        return Err(MatrixError::NoFeatures);
    }
    if !data.len().is_multiple_of(n_features) {
        return Err(MatrixError::Ragged {
            len: data.len(),
            n_features,
        });
    }
    check_finite(data, n_features)?;
    Ok(data.len() / n_features)
}

/// Checks one row of a model `n_features` wide.
pub fn check_row(row: &[f64], n_features: usize) -> Result<(), MatrixError> {
    if row.len() != n_features {
        return Err(MatrixError::FeatureCount {
            found: row.len(),
            expected: n_features,
        });
    }
    check_finite(row, n_features.max(1))
}

fn check_finite(data: &[f64], n_features: usize) -> Result<(), MatrixError> {
    match data.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(i) => Err(MatrixError::NotFinite {
            row: i / n_features,
            feature: i % n_features,
            value: data[i],
        }),
    }
}

/// Errors of [`StandardScaler`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScaleError {
    /// The input matrix is malformed.
    #[error(transparent)]
    Matrix(#[from] MatrixError),
    /// A stored scaler is inconsistent (corrupted model file).
    #[error("standard scaler: {0}")]
    Invalid(String),
}

/// Standard scaling as scikit-learn's `StandardScaler(with_mean=True, with_std=True)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ScalerRepr", into = "ScalerRepr")]
pub struct StandardScaler {
    mean: Vec<f64>,
    var: Vec<f64>,
    scale: Vec<f64>,
    n_samples: usize,
}

#[derive(Serialize, Deserialize)]
struct ScalerRepr {
    mean: Vec<f64>,
    var: Vec<f64>,
    scale: Vec<f64>,
    n_samples: usize,
}

impl From<StandardScaler> for ScalerRepr {
    fn from(s: StandardScaler) -> Self {
        ScalerRepr {
            mean: s.mean,
            var: s.var,
            scale: s.scale,
            n_samples: s.n_samples,
        }
    }
}

impl TryFrom<ScalerRepr> for StandardScaler {
    type Error = ScaleError;
    fn try_from(r: ScalerRepr) -> Result<Self, Self::Error> {
        let n = r.mean.len();
        if n == 0 || r.var.len() != n || r.scale.len() != n {
            return Err(ScaleError::Invalid(format!(
                "{} means, {} variances, {} scales: expected the same non-zero count",
                r.mean.len(),
                r.var.len(),
                r.scale.len()
            )));
        }
        for f in 0..n {
            if !r.mean[f].is_finite()
                || !r.var[f].is_finite()
                || r.var[f] < 0.0
                || !r.scale[f].is_finite()
                || r.scale[f] <= 0.0
            {
                return Err(ScaleError::Invalid(format!(
                    "feature {f}: mean {}, variance {}, scale {} (need finite values, variance ≥ 0, scale > 0)",
                    r.mean[f], r.var[f], r.scale[f]
                )));
            }
        }
        Ok(StandardScaler {
            mean: r.mean,
            var: r.var,
            scale: r.scale,
            n_samples: r.n_samples,
        })
    }
}

impl StandardScaler {
    /// Learns per-feature mean and standard deviation from `n_rows × n_features` row-major data.
    ///
    /// As scikit-learn: variance with `ddof = 0` by the corrected two-pass algorithm, and a
    /// feature whose variance is within rounding of zero (sklearn's `_is_constant_feature`
    /// bound `n·ε·var + (n·mean·ε)²`) gets scale 1, so it is centred but not blown up.
    pub fn fit(data: &[f64], n_rows: usize, n_features: usize) -> Result<Self, ScaleError> {
        check_matrix(data, n_rows, n_features)?;
        let n = n_rows as f64;
        let mut mean = vec![0.0; n_features];
        for row in data.chunks_exact(n_features) {
            for (m, &x) in mean.iter_mut().zip(row) {
                *m += x;
            }
        }
        for m in &mut mean {
            *m /= n;
        }
        let mut sum_sq = vec![0.0; n_features];
        let mut sum_dev = vec![0.0; n_features];
        for row in data.chunks_exact(n_features) {
            for f in 0..n_features {
                let d = row[f] - mean[f];
                sum_sq[f] += d * d;
                sum_dev[f] += d;
            }
        }
        let eps = f64::EPSILON;
        let mut var = vec![0.0; n_features];
        let mut scale = vec![1.0; n_features];
        for f in 0..n_features {
            // The correction term removes the rounding error of the mean (Chan, Golub & LeVeque),
            // as sklearn's `_incremental_mean_and_var`.
            let v = ((sum_sq[f] - sum_dev[f] * sum_dev[f] / n) / n).max(0.0);
            var[f] = v;
            let bound = n * eps * v + (n * mean[f] * eps).powi(2);
            if v > bound {
                scale[f] = v.sqrt();
            }
        }
        Ok(StandardScaler {
            mean,
            var,
            scale,
            n_samples: n_rows,
        })
    }

    /// Number of features.
    pub fn n_features(&self) -> usize {
        self.mean.len()
    }

    /// Rows the scaler was fitted on.
    pub fn n_samples(&self) -> usize {
        self.n_samples
    }

    /// Per-feature means.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// Per-feature population variances.
    pub fn var(&self) -> &[f64] {
        &self.var
    }

    /// Per-feature divisors (standard deviation, or 1 for a constant feature).
    pub fn scale(&self) -> &[f64] {
        &self.scale
    }

    /// `(x - mean) / scale` for every row, into a new matrix.
    pub fn transform(&self, data: &[f64]) -> Result<Vec<f64>, ScaleError> {
        let mut out = data.to_vec();
        self.transform_in_place(&mut out)?;
        Ok(out)
    }

    /// `(x - mean) / scale` for every row, in place.
    pub fn transform_in_place(&self, data: &mut [f64]) -> Result<(), ScaleError> {
        count_rows(data, self.n_features())?;
        for row in data.chunks_exact_mut(self.n_features()) {
            for ((x, m), s) in row.iter_mut().zip(&self.mean).zip(&self.scale) {
                *x = (*x - m) / s;
            }
        }
        Ok(())
    }

    /// `x · scale + mean` for every row: back to input units.
    pub fn inverse_transform(&self, data: &[f64]) -> Result<Vec<f64>, ScaleError> {
        count_rows(data, self.n_features())?;
        let mut out = data.to_vec();
        for row in out.chunks_exact_mut(self.n_features()) {
            for ((x, m), s) in row.iter_mut().zip(&self.mean).zip(&self.scale) {
                *x = *x * s + m;
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_checks_name_the_problem() {
        assert_eq!(
            check_matrix(&[1.0, 2.0, 3.0], 2, 2),
            Err(MatrixError::Shape {
                len: 3,
                n_rows: 2,
                n_features: 2,
                expected: 4
            })
        );
        assert_eq!(check_matrix(&[], 0, 2), Err(MatrixError::Empty));
        assert_eq!(check_matrix(&[], 0, 0), Err(MatrixError::NoFeatures));
        let err = check_matrix(&[1.0, 2.0, 3.0, f64::NAN], 2, 2).unwrap_err();
        assert_eq!(
            err.to_string(),
            "row 1, feature 1: value NaN is not a finite number"
        );
        assert_eq!(count_rows(&[1.0; 6], 3), Ok(2));
        assert_eq!(count_rows(&[], 3), Ok(0));
        assert!(matches!(
            count_rows(&[1.0; 5], 3),
            Err(MatrixError::Ragged { .. })
        ));
        assert!(matches!(
            check_row(&[1.0; 2], 3),
            Err(MatrixError::FeatureCount {
                found: 2,
                expected: 3
            })
        ));
    }

    // Expected values: numpy `X.mean(0)`, `X.std(0)` (ddof=0) on the same matrix; sklearn's
    // StandardScaler gives the same `mean_`, `var_`, and `scale_` = std with 1 for the constant
    // column.
    #[test]
    fn scaler_matches_numpy_population_std_and_constant_feature_rule() {
        let data = [1.0, 5.0, 10.0, 2.0, 5.0, 20.0, 4.0, 5.0, 60.0];
        let s = StandardScaler::fit(&data, 3, 3).unwrap();
        assert!((s.mean()[0] - 7.0 / 3.0).abs() < 1e-15);
        assert!((s.var()[0] - 14.0 / 9.0).abs() < 1e-14);
        assert_eq!(s.scale()[1], 1.0, "constant feature keeps scale 1");
        assert!((s.scale()[2] - (1400.0f64 / 3.0).sqrt()).abs() < 1e-12);
        let t = s.transform(&data).unwrap();
        let back = s.inverse_transform(&t).unwrap();
        for (a, b) in back.iter().zip(&data) {
            assert!((a - b).abs() < 1e-12);
        }
        // The constant column is centred to 0, not divided by 0.
        assert_eq!(t[1], 0.0);
        // Transformed columns have mean 0 and population std 1.
        let col: Vec<f64> = t.chunks(3).map(|r| r[0]).collect();
        let m = col.iter().sum::<f64>() / 3.0;
        let v = col.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / 3.0;
        assert!(m.abs() < 1e-15 && (v - 1.0).abs() < 1e-12);
    }

    #[test]
    fn scaler_round_trips_through_serde_and_rejects_corruption() {
        let s = StandardScaler::fit(&[1.0, 2.0, 3.0, 4.0], 2, 2).unwrap();
        let json = serde_json::to_string(&s).unwrap();
        let back: StandardScaler = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
        let bad = json.replace("\"scale\":[1.0,1.0]", "\"scale\":[0.0,1.0]");
        assert_ne!(bad, json);
        let err = serde_json::from_str::<StandardScaler>(&bad).unwrap_err();
        assert!(err.to_string().contains("feature 0"), "{err}");
        assert!(s.transform(&[1.0, 2.0, 3.0]).is_err());
    }
}
