//! Feature hashing, identical to scikit-learn's `FeatureHasher`.
//!
//! The `proccount` detector turns a bag of named counts (process name → how often it ran in a
//! window) into a fixed-width vector for its autoencoder. The seed did this with scikit-learn's
//! `FeatureHasher(n_features=16, input_type='dict', alternate_sign=True)`; models trained there
//! and here must see the same vectors, so this module reproduces sklearn's rule bit for bit
//! (`sklearn/feature_extraction/_hashing_fast.pyx`):
//!
//! - `h = murmurhash3_32(utf8(feature), seed = 0)` read as a **signed** 32-bit integer;
//! - `index = |h| mod n_features`, except `h == i32::MIN`, whose absolute value does not fit:
//!   sklearn maps it to `(i32::MAX - (n_features - 1)) mod n_features`;
//! - with `alternate_sign` the value is multiplied by `+1` when `h >= 0`, else by `-1`;
//! - `input_type='string'`: every string is a feature with value 1;
//! - `input_type='dict'`: a string value `v` under key `k` becomes the feature `"k=v"` with value
//!   1, a numeric value is hashed under `k` itself; zero values are skipped;
//! - duplicates (the same or colliding features) are summed.
//!
//! MurmurHash3 (x86, 32-bit) comes from the `mur3` crate, which matched sklearn on every probe
//! string (`../shared/STACK.md` §7); the index/sign rule above is ours.

use thiserror::Error;

/// Feature-hashing errors.
#[derive(Debug, Error, PartialEq)]
pub enum HashingError {
    /// sklearn accepts `1 <= n_features <= 2^31 - 1`; so do we.
    #[error("feature hashing: n_features must be between 1 and {max}, got {got}", max = i32::MAX)]
    InvalidWidth {
        /// The width asked for.
        got: usize,
    },
    /// A row buffer handed in does not have `n_features` slots.
    #[error("feature hashing: row buffer has {got} slots, n_features is {expected}")]
    RowWidth {
        /// `n_features`.
        expected: usize,
        /// The buffer's length.
        got: usize,
    },
}

/// A value in a `dict`-style sample, as sklearn's `input_type='dict'` accepts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DictValue<'a> {
    /// A categorical value: hashed as the feature `"key=value"` with value 1.
    Str(&'a str),
    /// A numeric value: hashed under `key` with this value (0 is skipped, as sklearn).
    Num(f64),
}

impl From<f64> for DictValue<'_> {
    fn from(value: f64) -> Self {
        DictValue::Num(value)
    }
}

impl From<u64> for DictValue<'_> {
    fn from(value: u64) -> Self {
        // Counts in practice stay far below 2^53, where f64 is exact.
        DictValue::Num(value as f64)
    }
}

impl<'a> From<&'a str> for DictValue<'a> {
    fn from(value: &'a str) -> Self {
        DictValue::Str(value)
    }
}

/// Hashes named features into a fixed number of signed buckets, as sklearn's `FeatureHasher`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeatureHasher {
    n_features: usize,
    alternate_sign: bool,
}

impl Default for FeatureHasher {
    /// The `proccount` setting: 16 buckets, alternating signs.
    fn default() -> Self {
        Self {
            n_features: 16,
            alternate_sign: true,
        }
    }
}

impl FeatureHasher {
    /// A hasher into `n_features` buckets (`1 ..= 2^31 - 1`, as sklearn).
    pub fn new(n_features: usize, alternate_sign: bool) -> Result<Self, HashingError> {
        if n_features == 0 || n_features > i32::MAX as usize {
            return Err(HashingError::InvalidWidth { got: n_features });
        }
        Ok(Self {
            n_features,
            alternate_sign,
        })
    }

    /// Number of output dimensions.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Whether hashed values carry the hash's sign.
    pub fn alternate_sign(&self) -> bool {
        self.alternate_sign
    }

    /// The bucket a feature falls into and the sign its value gets (`+1.0` or `-1.0`; always
    /// `+1.0` without `alternate_sign`). Useful to explain which features share a dimension.
    pub fn bucket(&self, feature: &str) -> (usize, f64) {
        let h = mur3::murmurhash3_x86_32(feature.as_bytes(), 0) as i32;
        // Widths are validated to fit an i32, so these casts are lossless.
        let n = self.n_features as i64;
        let index = if h == i32::MIN {
            // sklearn: abs() of INT_MIN overflows, so it special-cases it this way.
            (i64::from(i32::MAX) - (n - 1)) % n
        } else {
            i64::from(h).abs() % n
        };
        let sign = if self.alternate_sign && h < 0 {
            -1.0
        } else {
            1.0
        };
        (index as usize, sign)
    }

    /// Adds `value` of `feature` to `row` (`n_features` long), as one sklearn feature.
    fn add(&self, row: &mut [f64], feature: &str, value: f64) {
        if value == 0.0 {
            // sklearn skips zero values before hashing; the sum would not change anyway except
            // for the sign of a zero, which we keep as sklearn does.
            return;
        }
        let (index, sign) = self.bucket(feature);
        row[index] += sign * value;
    }

    fn check_row(&self, row: &[f64]) -> Result<(), HashingError> {
        if row.len() != self.n_features {
            return Err(HashingError::RowWidth {
                expected: self.n_features,
                got: row.len(),
            });
        }
        Ok(())
    }

    /// Adds one `input_type='string'` sample (each string counts 1) into `row`.
    pub fn hash_strings_into<S: AsRef<str>>(
        &self,
        features: impl IntoIterator<Item = S>,
        row: &mut [f64],
    ) -> Result<(), HashingError> {
        self.check_row(row)?;
        for feature in features {
            self.add(row, feature.as_ref(), 1.0);
        }
        Ok(())
    }

    /// Adds one `input_type='dict'` sample into `row`: string values hash as `"key=value"` with
    /// value 1, numeric values hash under `key`; repeated keys are summed.
    pub fn hash_dict_into<'v, K: AsRef<str>>(
        &self,
        pairs: impl IntoIterator<Item = (K, DictValue<'v>)>,
        row: &mut [f64],
    ) -> Result<(), HashingError> {
        self.check_row(row)?;
        let mut joined = String::new();
        for (key, value) in pairs {
            match value {
                DictValue::Str(text) => {
                    joined.clear();
                    joined.push_str(key.as_ref());
                    joined.push('=');
                    joined.push_str(text);
                    self.add(row, &joined, 1.0);
                }
                DictValue::Num(number) => self.add(row, key.as_ref(), number),
            }
        }
        Ok(())
    }

    /// `FeatureHasher(input_type='string').transform(samples).toarray()` as `f32`, row-major
    /// (`samples × n_features`), ready for the network. Sums are formed in `f64`, as sklearn.
    pub fn transform_strings<S, I>(&self, samples: impl IntoIterator<Item = I>) -> Vec<f32>
    where
        S: AsRef<str>,
        I: IntoIterator<Item = S>,
    {
        let mut out = Vec::new();
        let mut row = vec![0.0f64; self.n_features];
        for sample in samples {
            row.fill(0.0);
            for feature in sample {
                self.add(&mut row, feature.as_ref(), 1.0);
            }
            out.extend(row.iter().map(|&v| v as f32));
        }
        out
    }

    /// `FeatureHasher(input_type='dict').transform(samples).toarray()` as `f32`, row-major.
    pub fn transform_dict<'v, K, I>(&self, samples: impl IntoIterator<Item = I>) -> Vec<f32>
    where
        K: AsRef<str>,
        I: IntoIterator<Item = (K, DictValue<'v>)>,
    {
        let mut out = Vec::new();
        let mut row = vec![0.0f64; self.n_features];
        for sample in samples {
            row.fill(0.0);
            // The row always has n_features slots here, so this cannot fail.
            if self.hash_dict_into(sample, &mut row).is_ok() {
                out.extend(row.iter().map(|&v| v as f32));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_widths_sklearn_rejects() {
        assert!(FeatureHasher::new(0, true).is_err());
        assert!(FeatureHasher::new(i32::MAX as usize + 1, true).is_err());
        assert!(FeatureHasher::new(i32::MAX as usize, true).is_ok());
    }

    #[test]
    fn known_buckets_from_sklearn() {
        // From ../shared/fixtures/strings/feature_hashing.jsonl (n_features = 16).
        let hasher = FeatureHasher::default();
        assert_eq!(hasher.bucket("sihost"), (4, 1.0));
        assert_eq!(hasher.bucket("taskhostw"), (1, -1.0));
        assert_eq!(hasher.bucket("services.exe"), (0, -1.0));
    }

    #[test]
    fn hash_of_i32_min_takes_sklearn_special_case() {
        // murmurhash3_32("p1627902942", seed=0) == -2^31 (found by search); buckets and signs
        // below are scikit-learn 1.9.1's FeatureHasher output for it.
        assert_eq!(mur3::murmurhash3_x86_32(b"p1627902942", 0) as i32, i32::MIN);
        for (n, index) in [(16, 0), (7, 2), (1000, 648), (1 << 20, 0), (3, 2), (1, 0)] {
            let hasher = FeatureHasher::new(n, true).expect("valid width");
            assert_eq!(
                hasher.bucket("p1627902942"),
                (index, -1.0),
                "n_features {n}"
            );
        }
    }

    #[test]
    fn dict_semantics_match_sklearn() {
        let hasher = FeatureHasher::default();
        let rows = hasher.transform_dict([vec![
            ("svchost.exe", DictValue::Num(3.0)),
            ("svchost.exe", DictValue::Num(2.0)),
            ("user", DictValue::Str("alice")),
            ("zero", DictValue::Num(0.0)),
        ]]);
        let mut expected = vec![0.0f32; 16];
        let (i, s) = hasher.bucket("svchost.exe");
        expected[i] += (s * 5.0) as f32;
        let (i, s) = hasher.bucket("user=alice");
        expected[i] += s as f32;
        assert_eq!(rows, expected);
    }

    #[test]
    fn without_alternate_sign_values_stay_positive() {
        let hasher = FeatureHasher::new(7, false).expect("valid width");
        let rows = hasher.transform_strings([["a", "b", "c", "taskhostw"]]);
        assert_eq!(rows.iter().sum::<f32>(), 4.0);
        assert!(rows.iter().all(|&v| v >= 0.0));
    }

    #[test]
    fn row_width_is_checked() {
        let hasher = FeatureHasher::default();
        let mut row = vec![0.0; 8];
        assert_eq!(
            hasher.hash_strings_into(["a"], &mut row),
            Err(HashingError::RowWidth {
                expected: 16,
                got: 8
            })
        );
    }
}
