//! k-means clustering (Lloyd's algorithm with greedy k-means++ seeding), as scikit-learn's
//! `KMeans(init="k-means++", algorithm="lloyd")`.
//!
//! The `dns` and `web` detectors cluster the rows the Isolation Forest flagged, so an analyst
//! triages a handful of groups instead of every row, and keep the alarm clusters to recognise
//! the same kind of row in new data ([`KMeans::predict`]).
//!
//! What is reproduced from scikit-learn:
//! - greedy k-means++: the first centre is a uniformly chosen row; each next centre is the best
//!   (lowest resulting potential) of `2 + ⌊ln k⌋` candidates drawn with probability proportional
//!   to the squared distance to the nearest centre so far;
//! - Lloyd iterations until the labels stop changing, or the summed squared centre shift falls
//!   to `tol × mean feature variance`, or `max_iter`; a cluster left empty is moved onto the row
//!   farthest from its centre (sklearn's `_relocate_empty_clusters`); after a stop on `tol` the
//!   labels are recomputed against the final centres;
//! - `n_init` runs, keeping the one with the lowest inertia (sum of squared distances to the
//!   assigned centres).
//!
//! Runs are seeded per run from `(seed, run index)` and executed in parallel, and per-row work
//! is summed in fixed chunks in a fixed order, so a fit is bit-identical for a seed whatever the
//! thread count. With `standardize` the features are standard-scaled first (the scaler is
//! stored in the model and applied again by `predict`/`transform`), so that no feature dominates
//! the distances by its units alone.
//!
//! Written here rather than taken from `linfa-clustering`: a few hundred lines against a dependency on
//! ndarray 0.16 and rand 0.8 (a second copy of each in the build), and linfa's k-means++ is not
//! scikit-learn's greedy variant, which the reference tests compare against.

use crate::scale::{check_matrix, count_rows, MatrixError, ScaleError, StandardScaler};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Rows per parallel work item; fixed so sums do not depend on the thread count.
const CHUNK_ROWS: usize = 4096;

/// Settings of k-means.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct KMeansParams {
    /// Number of clusters k (default 8, as scikit-learn).
    pub n_clusters: usize,
    /// Independent runs, the lowest inertia kept (default 10: scikit-learn's classic default;
    /// runs are parallel and cheap at the sizes oddhunt clusters).
    pub n_init: usize,
    /// Most Lloyd iterations per run (default 300).
    pub max_iter: usize,
    /// Convergence tolerance, relative to the mean feature variance (default 1e-4).
    pub tol: f64,
    /// Seed (default 0).
    pub seed: u64,
    /// Standard-scale features before clustering (default false, as scikit-learn's `KMeans`).
    pub standardize: bool,
}

impl Default for KMeansParams {
    fn default() -> Self {
        KMeansParams {
            n_clusters: 8,
            n_init: 10,
            max_iter: 300,
            tol: 1e-4,
            seed: 0,
            standardize: false,
        }
    }
}

impl KMeansParams {
    /// Settings with `n_clusters` clusters and the other defaults.
    pub fn new(n_clusters: usize) -> Self {
        KMeansParams {
            n_clusters,
            ..Default::default()
        }
    }
}

/// Errors of k-means.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KMeansError {
    /// The feature matrix is malformed.
    #[error(transparent)]
    Matrix(#[from] MatrixError),
    /// Scaling failed.
    #[error(transparent)]
    Scale(#[from] ScaleError),
    /// A setting is out of range.
    #[error("k-means setting: {0}")]
    Params(String),
    /// A stored model is inconsistent (corrupted model file).
    #[error("k-means model: {0}")]
    Invalid(String),
}

/// A fitted k-means model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "KMeansRepr", into = "KMeansRepr")]
pub struct KMeans {
    params: KMeansParams,
    n_features: usize,
    /// k × n_features, row-major, in the clustering space (scaled when `standardize`).
    centres: Vec<f64>,
    scaler: Option<StandardScaler>,
    labels: Vec<usize>,
    inertia: f64,
    n_iter: usize,
}

/// One run's result.
struct Run {
    centres: Vec<f64>,
    labels: Vec<usize>,
    inertia: f64,
    n_iter: usize,
}

fn sq_dist(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Nearest centre and its squared distance (ties: the lowest index, as numpy's argmin).
fn nearest(row: &[f64], centres: &[f64], nf: usize) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for (c, centre) in centres.chunks_exact(nf).enumerate() {
        let d = sq_dist(row, centre);
        if d < best.1 {
            best = (c, d);
        }
    }
    best
}

/// Sum of a per-row quantity in fixed chunks, added in chunk order.
fn chunked_sum(n: usize, f: impl Fn(usize) -> f64 + Sync) -> f64 {
    let starts: Vec<usize> = (0..n).step_by(CHUNK_ROWS).collect();
    let partial: Vec<f64> = starts
        .par_iter()
        .map(|&s| (s..(s + CHUNK_ROWS).min(n)).map(&f).sum())
        .collect();
    partial.iter().sum()
}

/// scikit-learn's greedy k-means++ (`_kmeans_plusplus`).
fn kmeans_plusplus(data: &[f64], n: usize, nf: usize, k: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
    let trials = 2 + (k as f64).ln() as usize;
    let mut centres = Vec::with_capacity(k * nf);
    let first = rng.random_range(0..n);
    centres.extend_from_slice(&data[first * nf..(first + 1) * nf]);
    let row = |i: usize| &data[i * nf..(i + 1) * nf];
    let mut closest: Vec<f64> = (0..n)
        .into_par_iter()
        .map(|i| sq_dist(row(i), &centres[..nf]))
        .collect();
    let mut potential = chunked_sum(n, |i| closest[i]);
    let mut cumulative = vec![0.0; n];
    for _ in 1..k {
        // Running sum in row order, as numpy's `stable_cumsum`.
        let mut acc = 0.0;
        for (c, &d) in cumulative.iter_mut().zip(&closest) {
            acc += d;
            *c = acc;
        }
        let candidates: Vec<usize> = (0..trials)
            .map(|_| {
                let target = rng.random::<f64>() * potential;
                // numpy's searchsorted (side="left"), clipped to the last row.
                cumulative.partition_point(|&c| c < target).min(n - 1)
            })
            .collect();
        // The candidate leaving the lowest potential wins (first on ties, as argmin).
        let mut best: Option<(usize, f64, Vec<f64>)> = None;
        for &cand in &candidates {
            let dist: Vec<f64> = (0..n)
                .into_par_iter()
                .map(|i| closest[i].min(sq_dist(row(i), row(cand))))
                .collect();
            let pot = chunked_sum(n, |i| dist[i]);
            if best.as_ref().is_none_or(|b| pot < b.1) {
                best = Some((cand, pot, dist));
            }
        }
        if let Some((cand, pot, dist)) = best {
            centres.extend_from_slice(row(cand));
            potential = pot;
            closest = dist;
        }
    }
    centres
}

/// Labels and squared distances of every row against `centres`.
fn assign(data: &[f64], nf: usize, centres: &[f64]) -> (Vec<usize>, Vec<f64>) {
    data.par_chunks(nf)
        .map(|row| nearest(row, centres, nf))
        .unzip()
}

fn lloyd(
    data: &[f64],
    n: usize,
    nf: usize,
    k: usize,
    init: Vec<f64>,
    max_iter: usize,
    tol: f64,
) -> Run {
    let mut centres = init;
    let mut labels_old: Option<Vec<usize>> = None;
    let mut n_iter = 0;
    let mut strict = false;
    let mut labels = Vec::new();
    for it in 0..max_iter {
        n_iter = it + 1;
        let (lab, dist) = assign(data, nf, &centres);
        labels = lab;
        // Cluster sums in fixed chunks, combined in order.
        let starts: Vec<usize> = (0..n).step_by(CHUNK_ROWS).collect();
        let partial: Vec<(Vec<f64>, Vec<usize>)> = starts
            .par_iter()
            .map(|&s| {
                let mut sums = vec![0.0; k * nf];
                let mut counts = vec![0usize; k];
                for i in s..(s + CHUNK_ROWS).min(n) {
                    let c = labels[i];
                    counts[c] += 1;
                    for (acc, &x) in sums[c * nf..(c + 1) * nf]
                        .iter_mut()
                        .zip(&data[i * nf..(i + 1) * nf])
                    {
                        *acc += x;
                    }
                }
                (sums, counts)
            })
            .collect();
        let mut sums = vec![0.0; k * nf];
        let mut counts = vec![0usize; k];
        for (s, c) in partial {
            for (a, b) in sums.iter_mut().zip(s) {
                *a += b;
            }
            for (a, b) in counts.iter_mut().zip(c) {
                *a += b;
            }
        }
        // Empty clusters take the rows farthest from their centres (sklearn's
        // `_relocate_empty_clusters_dense`), which leave their old cluster.
        let empty: Vec<usize> = (0..k).filter(|&c| counts[c] == 0).collect();
        if !empty.is_empty() {
            let mut far: Vec<usize> = (0..n).collect();
            far.sort_by(|&a, &b| dist[b].total_cmp(&dist[a]).then(a.cmp(&b)));
            for (&c, &i) in empty.iter().zip(&far) {
                let old = labels[i];
                let row = &data[i * nf..(i + 1) * nf];
                for f in 0..nf {
                    sums[old * nf + f] -= row[f];
                    sums[c * nf + f] = row[f];
                }
                counts[old] -= 1;
                counts[c] = 1;
            }
        }
        let mut new_centres = sums;
        for c in 0..k {
            if counts[c] > 0 {
                for v in &mut new_centres[c * nf..(c + 1) * nf] {
                    *v /= counts[c] as f64;
                }
            } else {
                // Still empty (fewer rows than clusters cannot happen: checked in fit); keep it.
                new_centres[c * nf..(c + 1) * nf].copy_from_slice(&centres[c * nf..(c + 1) * nf]);
            }
        }
        let shift = sq_dist(&new_centres, &centres);
        centres = new_centres;
        if labels_old.as_ref() == Some(&labels) {
            strict = true;
            break;
        }
        if shift <= tol {
            break;
        }
        labels_old = Some(labels.clone());
    }
    let (labels, dist) = if strict {
        // Labels were computed against centres that the update left unchanged.
        let dist = data
            .par_chunks(nf)
            .zip(labels.par_iter())
            .map(|(row, &c)| sq_dist(row, &centres[c * nf..(c + 1) * nf]))
            .collect::<Vec<f64>>();
        (labels, dist)
    } else {
        assign(data, nf, &centres)
    };
    let inertia = chunked_sum(n, |i| dist[i]);
    Run {
        centres,
        labels,
        inertia,
        n_iter,
    }
}

impl KMeansParams {
    /// Clusters `n_rows × n_features` row-major `data`.
    pub fn fit(
        &self,
        data: &[f64],
        n_rows: usize,
        n_features: usize,
    ) -> Result<KMeans, KMeansError> {
        check_matrix(data, n_rows, n_features)?;
        let k = self.n_clusters;
        if k == 0 || k > n_rows {
            return Err(KMeansError::Params(format!(
                "n_clusters = {k} must be between 1 and the number of rows ({n_rows})"
            )));
        }
        if self.n_init == 0 || self.max_iter == 0 {
            return Err(KMeansError::Params(format!(
                "n_init = {} and max_iter = {} must be at least 1",
                self.n_init, self.max_iter
            )));
        }
        if !(self.tol >= 0.0 && self.tol.is_finite()) {
            return Err(KMeansError::Params(format!(
                "tol = {} must be a finite number ≥ 0",
                self.tol
            )));
        }
        let scaler = if self.standardize {
            Some(StandardScaler::fit(data, n_rows, n_features)?)
        } else {
            None
        };
        let scaled;
        let x: &[f64] = match &scaler {
            Some(s) => {
                scaled = s.transform(data)?;
                &scaled
            }
            None => data,
        };
        // sklearn's `_tolerance`: tol × mean of the per-feature variances.
        let tol = self.tol * mean_variance(x, n_rows, n_features);
        let runs: Vec<Run> = (0..self.n_init)
            .into_par_iter()
            .map(|r| {
                let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
                rng.set_stream(r as u64);
                let init = kmeans_plusplus(x, n_rows, n_features, k, &mut rng);
                lloyd(x, n_rows, n_features, k, init, self.max_iter, tol)
            })
            .collect();
        // Lowest inertia; the earliest run on ties.
        let best = runs
            .into_iter()
            .reduce(|a, b| if b.inertia < a.inertia { b } else { a })
            .ok_or_else(|| KMeansError::Params("no run".into()))?;
        Ok(KMeans {
            params: self.clone(),
            n_features,
            centres: best.centres,
            scaler,
            labels: best.labels,
            inertia: best.inertia,
            n_iter: best.n_iter,
        })
    }
}

fn mean_variance(x: &[f64], n: usize, nf: usize) -> f64 {
    let mut total = 0.0;
    for f in 0..nf {
        let mean = x.iter().skip(f).step_by(nf).sum::<f64>() / n as f64;
        total += x
            .iter()
            .skip(f)
            .step_by(nf)
            .map(|v| (v - mean) * (v - mean))
            .sum::<f64>()
            / n as f64;
    }
    total / nf as f64
}

impl KMeans {
    /// The settings it was fitted with.
    pub fn params(&self) -> &KMeansParams {
        &self.params
    }

    /// Number of clusters.
    pub fn n_clusters(&self) -> usize {
        self.centres.len() / self.n_features
    }

    /// Features per row.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Centres, `k × n_features` row-major, in the clustering space (standard-scaled units when
    /// the model standardizes; see [`KMeans::centres_in_input_units`]).
    pub fn centres(&self) -> &[f64] {
        &self.centres
    }

    /// Centres in the units of the input features.
    pub fn centres_in_input_units(&self) -> Vec<f64> {
        match &self.scaler {
            // Centres are scaled by the same scaler, so the inverse cannot fail.
            Some(s) => s
                .inverse_transform(&self.centres)
                .unwrap_or_else(|_| self.centres.clone()),
            None => self.centres.clone(),
        }
    }

    /// The scaler applied before clustering, when `standardize` was set.
    pub fn scaler(&self) -> Option<&StandardScaler> {
        self.scaler.as_ref()
    }

    /// Cluster of each training row.
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    /// Training inertia: sum of squared distances of the rows to their centres (scikit-learn's
    /// `inertia_`; in scaled units when standardizing).
    pub fn inertia(&self) -> f64 {
        self.inertia
    }

    /// Lloyd iterations of the kept run (scikit-learn's `n_iter_`).
    pub fn n_iter(&self) -> usize {
        self.n_iter
    }

    fn prepare<'a>(&self, data: &'a [f64]) -> Result<std::borrow::Cow<'a, [f64]>, KMeansError> {
        count_rows(data, self.n_features)?;
        Ok(match &self.scaler {
            Some(s) => std::borrow::Cow::Owned(s.transform(data)?),
            None => std::borrow::Cow::Borrowed(data),
        })
    }

    /// Nearest cluster of each row.
    pub fn predict(&self, data: &[f64]) -> Result<Vec<usize>, KMeansError> {
        let x = self.prepare(data)?;
        Ok(assign(&x, self.n_features, &self.centres).0)
    }

    /// Euclidean distance of each row to each centre, `rows × k` row-major (scikit-learn's
    /// `transform`; in scaled units when standardizing).
    pub fn transform(&self, data: &[f64]) -> Result<Vec<f64>, KMeansError> {
        let x = self.prepare(data)?;
        let nf = self.n_features;
        Ok(x.par_chunks(nf)
            .flat_map_iter(|row| {
                self.centres
                    .chunks_exact(nf)
                    .map(move |c| sq_dist(row, c).sqrt())
            })
            .collect())
    }
}

#[derive(Serialize, Deserialize)]
struct KMeansRepr {
    params: KMeansParams,
    n_features: usize,
    centres: Vec<f64>,
    scaler: Option<StandardScaler>,
    labels: Vec<usize>,
    inertia: f64,
    n_iter: usize,
}

impl From<KMeans> for KMeansRepr {
    fn from(m: KMeans) -> Self {
        KMeansRepr {
            params: m.params,
            n_features: m.n_features,
            centres: m.centres,
            scaler: m.scaler,
            labels: m.labels,
            inertia: m.inertia,
            n_iter: m.n_iter,
        }
    }
}

impl TryFrom<KMeansRepr> for KMeans {
    type Error = KMeansError;
    fn try_from(r: KMeansRepr) -> Result<Self, Self::Error> {
        let nf = r.n_features;
        if nf == 0 || r.centres.is_empty() || !r.centres.len().is_multiple_of(nf) {
            return Err(KMeansError::Invalid(format!(
                "{} centre values for {nf} features",
                r.centres.len()
            )));
        }
        let k = r.centres.len() / nf;
        if r.centres.iter().any(|v| !v.is_finite()) || !r.inertia.is_finite() {
            return Err(KMeansError::Invalid("non-finite centre or inertia".into()));
        }
        if let Some(bad) = r.labels.iter().find(|&&l| l >= k) {
            return Err(KMeansError::Invalid(format!(
                "label {bad} but only {k} clusters"
            )));
        }
        if let Some(s) = &r.scaler {
            if s.n_features() != nf {
                return Err(KMeansError::Invalid(format!(
                    "scaler has {} features, the model {nf}",
                    s.n_features()
                )));
            }
        }
        Ok(KMeans {
            params: r.params,
            n_features: nf,
            centres: r.centres,
            scaler: r.scaler,
            labels: r.labels,
            inertia: r.inertia,
            n_iter: r.n_iter,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blobs() -> Vec<f64> {
        // Three tight groups of 30 rows at (0,0), (10,0), (0,10).
        let mut v = Vec::new();
        for (cx, cy) in [(0.0, 0.0), (10.0, 0.0), (0.0, 10.0)] {
            for i in 0..30 {
                let a = i as f64 * 0.7;
                v.push(cx + 0.3 * a.sin());
                v.push(cy + 0.3 * a.cos());
            }
        }
        v
    }

    #[test]
    fn finds_three_groups_and_predicts_them() {
        let data = blobs();
        let m = KMeansParams::new(3).fit(&data, 90, 2).unwrap();
        for g in 0..3 {
            let l = m.labels()[g * 30];
            assert!(m.labels()[g * 30..(g + 1) * 30].iter().all(|&x| x == l));
        }
        assert_eq!(m.predict(&[9.0, 1.0]).unwrap()[0], m.labels()[30]);
        let d = m.transform(&[9.0, 1.0]).unwrap();
        assert_eq!(d.len(), 3);
        let c = m.labels()[30];
        assert!(d[c] < 1.5 && d.iter().all(|&x| x >= d[c]));
    }

    #[test]
    fn duplicate_rows_and_more_clusters_than_distinct_points_do_not_panic() {
        let data = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0];
        let m = KMeansParams::new(3).fit(&data, 4, 2).unwrap();
        assert_eq!(m.n_clusters(), 3);
        assert!(m.inertia() >= 0.0);
        assert!(KMeansParams::new(5).fit(&data, 4, 2).is_err());
    }

    #[test]
    fn standardize_stores_the_scaler_and_round_trips() {
        let mut data = blobs();
        for v in data.iter_mut().skip(1).step_by(2) {
            *v *= 1000.0; // second feature in other units
        }
        let m = KMeansParams {
            standardize: true,
            ..KMeansParams::new(3)
        }
        .fit(&data, 90, 2)
        .unwrap();
        assert!(m.scaler().is_some());
        let back: KMeans = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.predict(&data).unwrap(), m.labels());
        let centres = m.centres_in_input_units();
        assert!(centres.iter().skip(1).step_by(2).any(|&y| y > 5000.0));
    }
}
