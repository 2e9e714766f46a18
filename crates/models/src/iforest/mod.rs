//! Isolation Forest (Liu, Ting & Zhou 2008) and Extended Isolation Forest (Hariri et al. 2019).
//!
//! The `dns`, `web`, `exeprev` and generic `iforest` detectors turn their subjects into rows of
//! numeric features; this module learns which rows are easy to isolate by random splits and
//! scores new rows the same way. It reproduces scikit-learn's `IsolationForest`:
//!
//! - each of `n_trees` trees is grown on `max_samples` rows drawn without replacement
//!   (`"auto"` = min(256, rows)), down to `max_depth` = ⌈log₂ max_samples⌉; a node splits on
//!   a feature drawn uniformly among those not constant in it, at a threshold drawn uniformly
//!   between its minimum and maximum there, and becomes a leaf when it holds one row or every
//!   feature is constant in it (details and the two deliberate differences: `grow.rs`);
//! - a row's path length in a tree is the depth of the leaf it falls in plus
//!   [`average_path_length`]`(rows in that leaf)`, the expected depth of the part of the tree the
//!   depth limit cut off;
//! - the anomaly score is `s = 2^(−E[h(x)] / c(max_samples))` in (0, 1], higher = odder
//!   ([`IsolationForest::anomaly_scores`]); scikit-learn's `score_samples` is `−s`
//!   ([`IsolationForest::score_samples`], higher = more normal), `decision_function` is
//!   `score_samples − offset` with `offset = −0.5` for `contamination = "auto"` and otherwise the
//!   `contamination` quantile of the training scores; `predict` flags rows with a negative
//!   decision value.
//!
//! `extension_level > 0` grows Extended Isolation Forest trees instead (random hyperplanes;
//! Bouman et al. 2024 found them strongest on global anomalies); scoring is the same.
//!
//! Implementation: each tree's random stream is derived from `(seed, tree index)` (ChaCha8), so a
//! forest is bit-identical for a seed whatever the number of threads; trees are grown in parallel
//! and rows scored in parallel with rayon. Trees live in flat node arrays, and a block of rows
//! walks a tree in lock-step, a fixed number of steps with no branches (leaves point to
//! themselves), which keeps independent memory loads in flight. That walk indexes without
//! bounds checks (this module's only `unsafe`, a measured quarter of the scoring time); it rests
//! on a structural check every fitted or loaded forest passes (`Forest::walks_stay_in_bounds`).
//!
//! Explanations: [`IsolationForest::explain`] splits a row's isolation among the features that
//! did it (see [`FeatureContribution`]), and [`IsolationForest::percentile_of`] places a value in
//! the training population ("subdomain entropy 4.7, 99.8th percentile").

mod grow;
mod profile;

use crate::scale::{check_matrix, check_row, count_rows, MatrixError};
use grow::{grow_tree, leaf_paths, project_dense, GrowSpec, Node};
use profile::FeatureProfile;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Euler–Mascheroni constant (numpy's `np.euler_gamma`).
const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// Rows walked through a tree together (see the module doc).
const BLOCK_ROWS: usize = 64;
/// Rows per parallel work item when scoring.
const CHUNK_ROWS: usize = 1024;
/// Deepest tree a model may hold (a sub-sample of up to 2⁶⁴ rows needs at most 64 levels).
const MAX_DEPTH_LIMIT: usize = 64;

/// Average path length of an unsuccessful search in a binary search tree of `n` rows, `c(n)`:
/// the expected depth at which a random tree isolates a row among `n`. As scikit-learn's
/// `_average_path_length`: `c(0) = c(1) = 0`, `c(2) = 1`, otherwise
/// `2 (ln(n − 1) + γ) − 2 (n − 1) / n`.
pub fn average_path_length(n: usize) -> f64 {
    match n {
        0 | 1 => 0.0,
        2 => 1.0,
        _ => {
            let n = n as f64;
            2.0 * ((n - 1.0).ln() + EULER_GAMMA) - 2.0 * (n - 1.0) / n
        }
    }
}

/// How many rows each tree is grown on.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MaxSamples {
    /// min(256, rows), scikit-learn's `"auto"`.
    #[default]
    Auto,
    /// A fixed count (reduced to the number of rows when larger, as scikit-learn).
    Count(usize),
    /// A share of the rows in (0, 1]: ⌊share × rows⌋, at least 1.
    Fraction(f64),
}

/// How the decision offset is set.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Contamination {
    /// Offset −0.5: a row is an outlier when its anomaly score exceeds 0.5, the original
    /// paper's rule (scikit-learn's `"auto"`).
    #[default]
    Auto,
    /// Expected share of outliers in the training data, in (0, 0.5]: the offset is that
    /// quantile of the training `score_samples`.
    Fraction(f64),
}

/// Settings of an Isolation Forest; the defaults are scikit-learn's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IsolationForestParams {
    /// Number of trees (default 100).
    pub n_trees: usize,
    /// Rows per tree (default `Auto` = min(256, rows)).
    pub max_samples: MaxSamples,
    /// Depth limit; `None` = ⌈log₂ max(max_samples, 2)⌉ as scikit-learn.
    pub max_depth: Option<usize>,
    /// How the decision offset is set (default `Auto` = −0.5).
    pub contamination: Contamination,
    /// 0 = standard (axis-parallel) trees; 1..=n_features−1 = Extended Isolation Forest with that
    /// many extra non-zero coordinates in each split's normal vector (n_features−1 = fully
    /// extended).
    pub extension_level: usize,
    /// Seed of every random choice (default 0).
    pub seed: u64,
    /// Draw each tree's rows with replacement (default false). Duplicates count as rows, so a
    /// tree sees `max_samples` rows as the paper defines it; scikit-learn instead grows the tree
    /// on the distinct rows drawn (about 63 % of them), weighted by count.
    pub bootstrap: bool,
}

impl Default for IsolationForestParams {
    fn default() -> Self {
        IsolationForestParams {
            n_trees: 100,
            max_samples: MaxSamples::Auto,
            max_depth: None,
            contamination: Contamination::Auto,
            extension_level: 0,
            seed: 0,
            bootstrap: false,
        }
    }
}

/// Errors of the Isolation Forest.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IForestError {
    /// The feature matrix is malformed.
    #[error(transparent)]
    Matrix(#[from] MatrixError),
    /// A setting is out of range.
    #[error("isolation forest setting: {0}")]
    Params(String),
    /// A stored model is inconsistent (corrupted or hand-edited model file).
    #[error("isolation forest model: {0}")]
    Invalid(String),
}

/// How much one feature did to isolate a row: see [`IsolationForest::explain`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeatureContribution {
    /// 0-based feature (column) index.
    pub feature: usize,
    /// Expected path length, in tree levels, that splits on this feature saved the row
    /// compared with a typical row (negative: they kept it with the crowd).
    pub contribution: f64,
}

/// The trees of a forest, in flat arrays over all trees.
#[derive(Clone, Debug, PartialEq)]
struct Forest {
    /// Non-zero normal coordinates per split: 1 = standard trees.
    coefs: usize,
    /// First node of each tree, then the total node count.
    tree_start: Vec<u32>,
    /// Lock-step walk length of each tree: its deepest leaf.
    tree_depth: Vec<u32>,
    /// Global node indices.
    nodes: Vec<Node>,
    samples: Vec<u32>,
    /// `depth + c(samples)` at leaves, 0 at internal nodes.
    leaf_path: Vec<f64>,
    /// Extended trees only: `coefs` entries per node, in increasing feature order.
    coef_feature: Vec<u32>,
    coef_weight: Vec<f64>,
    coef_point: Vec<f64>,
    /// Extended trees only, derived: each node's normal vector as `n_features` weights (zeros
    /// off its features). Summing `wᵢ xᵢ` over all features in order gives exactly the sparse
    /// sum over the node's features in increasing order (the zero terms add exact zeros), so
    /// routing is identical; the dense loop is just faster (contiguous, no index loads).
    dense_weight: Vec<f64>,
    n_features: usize,
}

/// A fitted Isolation Forest (or Extended Isolation Forest).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ForestRepr", into = "ForestRepr")]
pub struct IsolationForest {
    params: IsolationForestParams,
    n_features: usize,
    max_samples: usize,
    max_depth: usize,
    offset: f64,
    forest: Forest,
    profile: FeatureProfile,
}

impl IsolationForestParams {
    /// Grows the forest on `n_rows × n_features` row-major `data`.
    pub fn fit(
        &self,
        data: &[f64],
        n_rows: usize,
        n_features: usize,
    ) -> Result<IsolationForest, IForestError> {
        check_matrix(data, n_rows, n_features)?;
        let max_samples = self.effective_max_samples(n_rows)?;
        let max_depth = match self.max_depth {
            Some(d) if d > MAX_DEPTH_LIMIT => {
                return Err(IForestError::Params(format!(
                    "max_depth {d} is above the limit of {MAX_DEPTH_LIMIT}"
                )))
            }
            Some(d) => d,
            // ⌈log₂ max(psi, 2)⌉ in integers.
            None => (usize::BITS - (max_samples.max(2) - 1).leading_zeros()) as usize,
        };
        if self.n_trees == 0 {
            return Err(IForestError::Params("n_trees must be at least 1".into()));
        }
        if self.extension_level >= n_features {
            return Err(IForestError::Params(format!(
                "extension_level {} needs more features: at most n_features − 1 = {}",
                self.extension_level,
                n_features - 1
            )));
        }
        if let Contamination::Fraction(c) = self.contamination {
            if !(c > 0.0 && c <= 0.5) {
                return Err(IForestError::Params(format!(
                    "contamination {c} is outside (0, 0.5]"
                )));
            }
        }
        // Each tree has at most 2·psi − 1 nodes (and at most 2^(depth+1) − 1): the forest's node
        // indices must fit in u32.
        let per_tree = (2 * max_samples - 1).min(
            1usize
                .checked_shl(max_depth as u32 + 1)
                .map_or(usize::MAX, |v| v - 1),
        );
        if per_tree.saturating_mul(self.n_trees) > u32::MAX as usize {
            return Err(IForestError::Params(format!(
                "{} trees of up to {per_tree} nodes do not fit in one model; use fewer trees or rows per tree",
                self.n_trees
            )));
        }

        let spec = GrowSpec {
            data,
            n_rows,
            n_features,
            sample_size: max_samples,
            max_depth,
            coefs: self.extension_level + 1,
            bootstrap: self.bootstrap,
            seed: self.seed,
        };
        let trees: Vec<_> = (0..self.n_trees)
            .into_par_iter()
            .map(|t| grow_tree(&spec, t as u64))
            .collect();
        let forest = Forest::assemble(trees, self.extension_level + 1, n_features);
        if !forest.walks_stay_in_bounds() {
            return Err(IForestError::Invalid(
                "a grown tree is malformed (a bug: please report it)".into(),
            ));
        }
        let profile = FeatureProfile::build(data, n_rows, n_features, self.seed);
        let mut model = IsolationForest {
            params: self.clone(),
            n_features,
            max_samples,
            max_depth,
            offset: -0.5,
            forest,
            profile,
        };
        if let Contamination::Fraction(c) = self.contamination {
            // As scikit-learn: the offset is the contamination percentile of the training
            // scores (numpy's linear interpolation).
            let mut scores = model.score_samples(data)?;
            scores.sort_by(f64::total_cmp);
            model.offset = quantile_sorted(&scores, c);
        }
        Ok(model)
    }

    fn effective_max_samples(&self, n_rows: usize) -> Result<usize, IForestError> {
        match self.max_samples {
            MaxSamples::Auto => Ok(n_rows.min(256)),
            MaxSamples::Count(0) => Err(IForestError::Params(
                "max_samples must be at least 1 row".into(),
            )),
            MaxSamples::Count(k) => Ok(k.min(n_rows)),
            MaxSamples::Fraction(f) if f > 0.0 && f <= 1.0 => {
                Ok(((f * n_rows as f64) as usize).clamp(1, n_rows))
            }
            MaxSamples::Fraction(f) => Err(IForestError::Params(format!(
                "max_samples share {f} is outside (0, 1]"
            ))),
        }
    }
}

/// Quantile of sorted values, numpy's default linear interpolation.
fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

impl Forest {
    fn assemble(trees: Vec<grow::GrownTree>, coefs: usize, n_features: usize) -> Forest {
        let total: usize = trees.iter().map(|t| t.nodes.len()).sum();
        let mut forest = Forest {
            coefs,
            tree_start: Vec::with_capacity(trees.len() + 1),
            tree_depth: Vec::with_capacity(trees.len()),
            nodes: Vec::with_capacity(total),
            samples: Vec::with_capacity(total),
            leaf_path: Vec::with_capacity(total),
            coef_feature: Vec::new(),
            coef_weight: Vec::new(),
            coef_point: Vec::new(),
            dense_weight: Vec::new(),
            n_features,
        };
        for tree in trees {
            let start = forest.nodes.len();
            forest.tree_start.push(start as u32);
            forest.nodes.extend(tree.nodes.iter().map(|n| Node {
                left: n.left + start as u32,
                ..*n
            }));
            forest.samples.extend_from_slice(&tree.samples);
            let (path, deepest) = leaf_paths(&forest.nodes[start..], &tree.samples, start);
            forest.leaf_path.extend(path);
            forest.tree_depth.push(deepest);
            forest.coef_feature.extend(tree.coef_feature);
            forest.coef_weight.extend(tree.coef_weight);
            forest.coef_point.extend(tree.coef_point);
        }
        forest.tree_start.push(forest.nodes.len() as u32);
        forest.densify();
        forest
    }

    /// Builds `dense_weight` from the coefficient arrays (extended trees).
    fn densify(&mut self) {
        if self.coefs == 1 {
            return;
        }
        let (k, nf) = (self.coefs, self.n_features);
        self.dense_weight = vec![0.0; self.nodes.len() * nf];
        for i in 0..self.nodes.len() {
            for j in i * k..(i + 1) * k {
                self.dense_weight[i * nf + self.coef_feature[j] as usize] = self.coef_weight[j];
            }
        }
    }

    fn n_trees(&self) -> usize {
        self.tree_depth.len()
    }

    /// Whether every walk stays inside the arrays, which the scoring kernel relies on for its
    /// unchecked indexing: tree boundaries increase from 0 to the node count; an internal node's
    /// children `left` and `left + 1` lie after it and inside its tree, a leaf points to itself
    /// with an infinite threshold (so a walk from a tree's root never leaves the tree); every
    /// split feature is a column
    /// of the rows; the derived arrays cover every node. Checked once per forest, on fit and on
    /// load, independently of how the forest was produced.
    fn walks_stay_in_bounds(&self) -> bool {
        let n = self.nodes.len();
        let ts = &self.tree_start;
        if ts.len() != self.tree_depth.len() + 1
            || ts.first() != Some(&0)
            || ts.last().map(|&e| e as usize) != Some(n)
            || ts.windows(2).any(|w| w[0] >= w[1])
            || self.leaf_path.len() != n
            || self.samples.len() != n
            || (self.coefs > 1 && self.dense_weight.len() != n * self.n_features)
        {
            return false;
        }
        ts.windows(2).all(|w| {
            (w[0] as usize..w[1] as usize).all(|i| {
                let node = &self.nodes[i];
                let left = node.left as usize;
                // A leaf's infinite threshold keeps every row (`value > ∞` is false, even
                // for NaN) on it instead of stepping to `left + 1`.
                let stays = left == i && node.threshold == f64::INFINITY;
                (stays || (left > i && left + 1 < w[1] as usize))
                    && (node.feature as usize) < self.n_features
            })
        })
    }

    fn is_leaf(&self, i: usize) -> bool {
        self.nodes[i].left as usize == i
    }

    /// Child a row goes to from internal node `i`.
    #[inline]
    fn child(&self, i: usize, row: &[f64]) -> usize {
        let node = &self.nodes[i];
        let value = if self.coefs == 1 {
            row[node.feature as usize]
        } else {
            let nf = self.n_features;
            project_dense(row, &self.dense_weight[i * nf..(i + 1) * nf])
        };
        node.left as usize + usize::from(value > node.threshold)
    }

    /// Adds each row's path length in every tree to `sums` (rows of `nf` values, at most
    /// [`BLOCK_ROWS`] of them). Trees are added in order, so the sum does not depend on
    /// how rows were split among threads.
    fn block_path_sums(&self, rows: &[f64], nf: usize, sums: &mut [f64]) {
        let m = sums.len();
        // The unchecked reads below need every row of the block present (see SAFETY).
        assert!(m <= BLOCK_ROWS && rows.len() >= m * nf && nf == self.n_features);
        let mut at = [0u32; BLOCK_ROWS];
        let at = &mut at[..m];
        for t in 0..self.n_trees() {
            at.fill(self.tree_start[t]);
            let steps = self.tree_depth[t];
            if self.coefs == 1 {
                for _ in 0..steps {
                    for (r, a) in at.iter_mut().enumerate() {
                        // SAFETY: `*a` starts at a tree's root and only ever moves to a child
                        // of an internal node or stays on a leaf, all inside the tree
                        // (`walks_stay_in_bounds`, checked when the forest was fitted or
                        // loaded), so it indexes `nodes`. `r < m` and `feature < nf`, so
                        // `r * nf + feature < m * nf <= rows.len()` (asserted above). Measured:
                        // the two bounds checks cost a quarter of the scoring time (1M × 8 rows,
                        // 100 trees, one thread, interleaved runs: 0.78–0.83 vs 0.60–0.66 CPU
                        // s), and scoring is the bulk of fit + score.
                        let node = unsafe { self.nodes.get_unchecked(*a as usize) };
                        let value = unsafe { *rows.get_unchecked(r * nf + node.feature as usize) };
                        *a = node.left + u32::from(value > node.threshold);
                    }
                }
            } else {
                for _ in 0..steps {
                    for (r, a) in at.iter_mut().enumerate() {
                        let i = *a as usize;
                        let node = &self.nodes[i];
                        let value = project_dense(
                            &rows[r * nf..(r + 1) * nf],
                            &self.dense_weight[i * nf..(i + 1) * nf],
                        );
                        *a = node.left + u32::from(value > node.threshold);
                    }
                }
            }
            for (s, &a) in sums.iter_mut().zip(at.iter()) {
                *s += self.leaf_path[a as usize];
            }
        }
    }
}

impl IsolationForest {
    /// The settings the forest was grown with.
    pub fn params(&self) -> &IsolationForestParams {
        &self.params
    }

    /// Features per row.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Rows each tree was grown on (scikit-learn's `max_samples_`).
    pub fn max_samples(&self) -> usize {
        self.max_samples
    }

    /// Depth limit the trees were grown with.
    pub fn max_depth(&self) -> usize {
        self.max_depth
    }

    /// Number of trees.
    pub fn n_trees(&self) -> usize {
        self.forest.n_trees()
    }

    /// Total number of nodes over all trees.
    pub fn n_nodes(&self) -> usize {
        self.forest.nodes.len()
    }

    /// Decision offset (scikit-learn's `offset_`).
    pub fn offset(&self) -> f64 {
        self.offset
    }

    /// Mean path length `E[h(x)]` of each row over the trees (the native measure: shorter =
    /// easier to isolate = odder).
    pub fn mean_path_lengths(&self, data: &[f64]) -> Result<Vec<f64>, IForestError> {
        let n_trees = self.forest.n_trees() as f64;
        let mut sums = self.path_sums(data)?;
        for s in &mut sums {
            *s /= n_trees;
        }
        Ok(sums)
    }

    /// Sum over trees of each row's path length, computed in parallel over blocks of rows.
    fn path_sums(&self, data: &[f64]) -> Result<Vec<f64>, IForestError> {
        let nf = self.n_features;
        let n = count_rows(data, nf)?;
        let mut sums = vec![0.0; n];
        sums.par_chunks_mut(CHUNK_ROWS)
            .zip(data.par_chunks(CHUNK_ROWS * nf))
            .for_each(|(sums, rows)| {
                for (s, r) in sums
                    .chunks_mut(BLOCK_ROWS)
                    .zip(rows.chunks(BLOCK_ROWS * nf))
                {
                    self.forest.block_path_sums(r, nf, s);
                }
            });
        Ok(sums)
    }

    /// `E[h] → s = 2^(−E[h]/c(ψ))` from the per-tree sum, dividing once as scikit-learn does
    /// (`depths / (n_trees · c(ψ))`); with one row per tree `c(ψ) = 0` and sklearn's ratio 1.
    fn anomaly_from_sum(&self, sum: f64) -> f64 {
        let denominator = self.forest.n_trees() as f64 * average_path_length(self.max_samples);
        let ratio = if denominator != 0.0 {
            sum / denominator
        } else {
            1.0
        };
        (-ratio).exp2()
    }

    /// Anomaly score `s(x) = 2^(−E[h(x)]/c(max_samples))` in (0, 1]: higher = odder; about 0.5
    /// and below for ordinary rows, towards 1 for rows isolated in a few splits.
    pub fn anomaly_scores(&self, data: &[f64]) -> Result<Vec<f64>, IForestError> {
        let mut v = self.path_sums(data)?;
        for s in &mut v {
            *s = self.anomaly_from_sum(*s);
        }
        Ok(v)
    }

    /// Anomaly score of one row (see [`IsolationForest::anomaly_scores`]).
    pub fn anomaly_score(&self, row: &[f64]) -> Result<f64, IForestError> {
        check_row(row, self.n_features)?;
        let mut sum = [0.0];
        self.forest.block_path_sums(row, self.n_features, &mut sum);
        Ok(self.anomaly_from_sum(sum[0]))
    }

    /// scikit-learn's `score_samples`: `−s(x)`, higher = more normal.
    pub fn score_samples(&self, data: &[f64]) -> Result<Vec<f64>, IForestError> {
        let mut v = self.anomaly_scores(data)?;
        for s in &mut v {
            *s = -*s;
        }
        Ok(v)
    }

    /// scikit-learn's `decision_function`: `score_samples − offset`; negative = outlier.
    pub fn decision_function(&self, data: &[f64]) -> Result<Vec<f64>, IForestError> {
        let mut v = self.score_samples(data)?;
        for s in &mut v {
            *s -= self.offset;
        }
        Ok(v)
    }

    /// scikit-learn's `predict`, as booleans: `true` = outlier (sklearn's −1), i.e. a negative
    /// decision value.
    pub fn predict(&self, data: &[f64]) -> Result<Vec<bool>, IForestError> {
        Ok(self
            .decision_function(data)?
            .into_iter()
            .map(|d| d < 0.0)
            .collect())
    }

    /// Which features isolate `row`, most isolating first (all features, ties by index).
    ///
    /// Every split on the row's path in a tree changes the row's expected remaining path: before
    /// the split a row among `n` training rows expects `c(n)` more levels, after it `1 + c(n′)`
    /// where `n′` is the number of training rows that went the same way. The split's feature is
    /// credited with the difference `c(n) − 1 − c(n′)`: large when the split cut the row off
    /// from most others (isolating it: `n′ = 1` gives `c(n) − 1`), small or negative when the
    /// row went with the majority. Extended-forest splits share the credit among their
    /// features in proportion to `|nᵢ (xᵢ − pᵢ)|`, each feature's part of the row's offset from
    /// the hyperplane. Contributions are averaged over trees.
    ///
    /// Along a path the differences telescope, so the contributions add up exactly to
    /// `c(max_samples) − E[h(x)]`: how much shorter than a typical row's path this row's path
    /// is. A row with a positive total has an anomaly score above 0.5. This is the additive,
    /// per-row analogue of DIFFI's depth-weighted split counts (Carletti et al. 2020) and is
    /// deterministic.
    pub fn explain(&self, row: &[f64]) -> Result<Vec<FeatureContribution>, IForestError> {
        check_row(row, self.n_features)?;
        let f = &self.forest;
        let mut credit = vec![0.0; self.n_features];
        let mut shares = vec![0.0; f.coefs];
        for t in 0..f.n_trees() {
            let mut i = f.tree_start[t] as usize;
            while !f.is_leaf(i) {
                let next = f.child(i, row);
                let gain = average_path_length(f.samples[i] as usize)
                    - 1.0
                    - average_path_length(f.samples[next] as usize);
                if f.coefs == 1 {
                    credit[f.nodes[i].feature as usize] += gain;
                } else {
                    let k = f.coefs;
                    let feats = &f.coef_feature[i * k..(i + 1) * k];
                    let weights = &f.coef_weight[i * k..(i + 1) * k];
                    let points = &f.coef_point[i * k..(i + 1) * k];
                    for (s, ((&ft, &w), &p)) in
                        shares.iter_mut().zip(feats.iter().zip(weights).zip(points))
                    {
                        *s = (w * (row[ft as usize] - p)).abs();
                    }
                    let mut total: f64 = shares.iter().sum();
                    if !(total > 0.0 && total.is_finite()) {
                        // The row sits on the plane's anchor: fall back to the plane's tilt.
                        for (s, &w) in shares.iter_mut().zip(weights) {
                            *s = w.abs();
                        }
                        total = shares.iter().sum();
                    }
                    for (&ft, &s) in feats.iter().zip(&shares) {
                        credit[ft as usize] += if total > 0.0 {
                            gain * s / total
                        } else {
                            gain / k as f64
                        };
                    }
                }
                i = next;
            }
        }
        let n_trees = f.n_trees() as f64;
        let mut out: Vec<FeatureContribution> = credit
            .into_iter()
            .enumerate()
            .map(|(feature, c)| FeatureContribution {
                feature,
                contribution: c / n_trees,
            })
            .collect();
        out.sort_by(|a, b| {
            b.contribution
                .total_cmp(&a.contribution)
                .then(a.feature.cmp(&b.feature))
        });
        Ok(out)
    }

    /// Percentile (0–100) of `value` among the training values of `feature`: the inverse of
    /// numpy's linear-interpolation percentile over the stored profile (all training values
    /// when at most 2,048 rows were profiled, else 2,048 evenly spaced order statistics of up
    /// to 65,536 randomly chosen training rows). Tied values get the middle of their range;
    /// below the minimum is 0, above the maximum 100. `None` for an unknown feature or NaN.
    pub fn percentile_of(&self, feature: usize, value: f64) -> Option<f64> {
        self.profile.percentile_of(feature, value)
    }
}

/// Serialised form: flat arrays, leaves marked by pointing to themselves (their threshold is
/// stored as 0 because JSON has no infinity); derived arrays are rebuilt and everything is
/// checked on load, so a damaged model file is refused instead of causing a panic.
#[derive(Serialize, Deserialize)]
struct ForestRepr {
    format: u32,
    params: IsolationForestParams,
    n_features: usize,
    max_samples: usize,
    max_depth: usize,
    offset: f64,
    coefs_per_node: usize,
    tree_start: Vec<u32>,
    left: Vec<u32>,
    feature: Vec<u32>,
    threshold: Vec<f64>,
    samples: Vec<u32>,
    coef_feature: Vec<u32>,
    coef_weight: Vec<f64>,
    coef_point: Vec<f64>,
    profile: FeatureProfile,
}

const FORMAT: u32 = 1;

impl From<IsolationForest> for ForestRepr {
    fn from(m: IsolationForest) -> Self {
        let f = m.forest;
        let leaf = |i: usize| f.nodes[i].left as usize == i;
        ForestRepr {
            format: FORMAT,
            params: m.params,
            n_features: m.n_features,
            max_samples: m.max_samples,
            max_depth: m.max_depth,
            offset: m.offset,
            coefs_per_node: f.coefs,
            tree_start: f.tree_start.clone(),
            left: f.nodes.iter().map(|n| n.left).collect(),
            feature: f.nodes.iter().map(|n| n.feature).collect(),
            threshold: (0..f.nodes.len())
                .map(|i| if leaf(i) { 0.0 } else { f.nodes[i].threshold })
                .collect(),
            samples: f.samples.clone(),
            coef_feature: f.coef_feature.clone(),
            coef_weight: f.coef_weight.clone(),
            coef_point: f.coef_point.clone(),
            profile: m.profile,
        }
    }
}

impl TryFrom<ForestRepr> for IsolationForest {
    type Error = IForestError;

    fn try_from(r: ForestRepr) -> Result<Self, Self::Error> {
        let bad = |msg: String| Err(IForestError::Invalid(msg));
        if r.format != FORMAT {
            return bad(format!(
                "forest format {} is not the supported {FORMAT}",
                r.format
            ));
        }
        let nf = r.n_features;
        let k = r.coefs_per_node;
        if nf == 0 || k == 0 || k > nf || k != r.params.extension_level + 1 {
            return bad(format!(
                "{nf} features with {k} coefficients per split (extension level {})",
                r.params.extension_level
            ));
        }
        if r.max_depth > MAX_DEPTH_LIMIT || r.max_samples == 0 || !r.offset.is_finite() {
            return bad(format!(
                "max_depth {}, max_samples {}, offset {}",
                r.max_depth, r.max_samples, r.offset
            ));
        }
        let n = r.left.len();
        if r.feature.len() != n || r.threshold.len() != n || r.samples.len() != n {
            return bad("node arrays differ in length".into());
        }
        let coef_len = if k > 1 { n * k } else { 0 };
        if r.coef_feature.len() != coef_len
            || r.coef_weight.len() != coef_len
            || r.coef_point.len() != coef_len
        {
            return bad("coefficient arrays do not match the node count".into());
        }
        let ts = &r.tree_start;
        if ts.len() < 2
            || ts[0] != 0
            || ts.windows(2).any(|w| w[0] >= w[1])
            || ts[ts.len() - 1] as usize != n
        {
            return bad("tree boundaries are not increasing from 0 to the node count".into());
        }
        if r.profile.n_features() != nf {
            return bad(format!(
                "feature profile has {} features, the model {nf}",
                r.profile.n_features()
            ));
        }
        let mut nodes = Vec::with_capacity(n);
        let mut has_parent = vec![false; n];
        for t in 0..ts.len() - 1 {
            let (start, end) = (ts[t] as usize, ts[t + 1] as usize);
            if r.samples[start] as usize != r.max_samples {
                return bad(format!(
                    "tree {t}: root holds {} rows, not max_samples {}",
                    r.samples[start], r.max_samples
                ));
            }
            for i in start..end {
                let left = r.left[i] as usize;
                if left == i {
                    nodes.push(Node {
                        threshold: f64::INFINITY,
                        feature: 0,
                        left: left as u32,
                    });
                    continue;
                }
                // Children come after their parent and inside the tree: the walk always ends.
                if left <= i || left + 1 >= end || has_parent[left] || has_parent[left + 1] {
                    return bad(format!("tree {t}, node {i}: child index {left} is invalid"));
                }
                has_parent[left] = true;
                has_parent[left + 1] = true;
                if r.samples[left] as u64 + r.samples[left + 1] as u64 != r.samples[i] as u64 {
                    return bad(format!(
                        "tree {t}, node {i}: children hold {} + {} rows, the node {}",
                        r.samples[left],
                        r.samples[left + 1],
                        r.samples[i]
                    ));
                }
                if !r.threshold[i].is_finite() || (k == 1 && r.feature[i] as usize >= nf) {
                    return bad(format!(
                        "tree {t}, node {i}: split on feature {} at {}",
                        r.feature[i], r.threshold[i]
                    ));
                }
                if k > 1 {
                    let feats = &r.coef_feature[i * k..(i + 1) * k];
                    let invalid = feats.windows(2).any(|w| w[0] >= w[1])
                        || feats.iter().any(|&f| f as usize >= nf)
                        || r.coef_weight[i * k..(i + 1) * k]
                            .iter()
                            .chain(&r.coef_point[i * k..(i + 1) * k])
                            .any(|v| !v.is_finite());
                    if invalid {
                        return bad(format!("tree {t}, node {i}: hyperplane is invalid"));
                    }
                }
                nodes.push(Node {
                    threshold: r.threshold[i],
                    feature: r.feature[i],
                    left: left as u32,
                });
            }
            if let Some(orphan) = (start + 1..end).find(|&i| !has_parent[i]) {
                return bad(format!("tree {t}, node {orphan}: no parent"));
            }
        }
        let mut forest = Forest {
            coefs: k,
            tree_start: r.tree_start,
            tree_depth: Vec::new(),
            nodes,
            samples: r.samples,
            leaf_path: Vec::with_capacity(n),
            coef_feature: r.coef_feature,
            coef_weight: r.coef_weight,
            coef_point: r.coef_point,
            dense_weight: Vec::new(),
            n_features: nf,
        };
        forest.densify();
        for t in 0..forest.tree_start.len() - 1 {
            let (start, end) = (
                forest.tree_start[t] as usize,
                forest.tree_start[t + 1] as usize,
            );
            let (path, deepest) = leaf_paths(
                &forest.nodes[start..end],
                &forest.samples[start..end],
                start,
            );
            if deepest as usize > r.max_depth {
                return bad(format!(
                    "tree {t} is {deepest} levels deep, above max_depth {}",
                    r.max_depth
                ));
            }
            forest.leaf_path.extend(path);
            forest.tree_depth.push(deepest);
        }
        if !forest.walks_stay_in_bounds() {
            return bad("trees do not stay within their node arrays".into());
        }
        Ok(IsolationForest {
            params: r.params,
            n_features: nf,
            max_samples: r.max_samples,
            max_depth: r.max_depth,
            offset: r.offset,
            forest,
            profile: r.profile,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_path_length_matches_sklearn() {
        // sklearn 1.9.1: sklearn.ensemble._iforest._average_path_length([0, 1, 2, 3, 256, 100000])
        assert_eq!(average_path_length(0), 0.0);
        assert_eq!(average_path_length(1), 0.0);
        assert_eq!(average_path_length(2), 1.0);
        let expected = [
            (3, 1.207392357589623),
            (256, 10.244770920119917),
            (100_000, 22.180282259643523),
        ];
        for (n, c) in expected {
            assert!((average_path_length(n) - c).abs() < 1e-12, "c({n})");
        }
    }

    fn grid(n: usize) -> Vec<f64> {
        // A dense 2-D cloud plus one far row at the end.
        let mut v = Vec::new();
        for i in 0..n {
            v.push((i % 17) as f64 * 0.1);
            v.push((i % 13) as f64 * 0.1);
        }
        v.extend([25.0, -30.0]);
        v
    }

    #[test]
    fn far_row_scores_highest_and_is_explained_by_both_features() {
        let data = grid(500);
        for ext in [0, 1] {
            let params = IsolationForestParams {
                extension_level: ext,
                ..Default::default()
            };
            let m = params.fit(&data, 501, 2).unwrap();
            let s = m.anomaly_scores(&data).unwrap();
            let top = (0..s.len()).max_by(|&a, &b| s[a].total_cmp(&s[b])).unwrap();
            assert_eq!(top, 500, "extension {ext}");
            assert!(s[500] > 0.7, "extension {ext}: {}", s[500]);
            assert_eq!(m.anomaly_score(&data[1000..]).unwrap(), s[500]);
            let ex = m.explain(&data[1000..]).unwrap();
            let total: f64 = ex.iter().map(|c| c.contribution).sum();
            let mean_h = m.mean_path_lengths(&data[1000..]).unwrap()[0];
            // Contributions add up to c(psi) − E[h].
            assert!(
                (total - (average_path_length(256) - mean_h)).abs() < 1e-9,
                "{total} vs {}",
                average_path_length(256) - mean_h
            );
            assert!(ex.iter().all(|c| c.contribution > 0.0));
        }
    }

    #[test]
    fn explanation_names_the_feature_that_isolates() {
        // Feature 1 is ordinary for the last row; feature 0 is far out.
        let mut data = grid(600);
        let n = data.len();
        data[n - 2] = 40.0;
        data[n - 1] = 0.5;
        let m = IsolationForestParams::default().fit(&data, 601, 2).unwrap();
        let ex = m.explain(&data[n - 2..]).unwrap();
        assert_eq!(ex[0].feature, 0);
        assert!(
            ex[0].contribution > 3.0 * ex[1].contribution.abs(),
            "{ex:?}"
        );
        assert_eq!(m.percentile_of(0, 40.0), Some(100.0));
        assert_eq!(m.percentile_of(0, -1.0), Some(0.0));
        assert_eq!(m.percentile_of(2, 1.0), None);
    }

    #[test]
    fn settings_are_checked() {
        let data = grid(10);
        let fit = |p: IsolationForestParams| p.fit(&data, 11, 2);
        assert!(matches!(
            fit(IsolationForestParams {
                extension_level: 2,
                ..Default::default()
            }),
            Err(IForestError::Params(_))
        ));
        assert!(matches!(
            fit(IsolationForestParams {
                contamination: Contamination::Fraction(0.6),
                ..Default::default()
            }),
            Err(IForestError::Params(_))
        ));
        assert!(matches!(
            fit(IsolationForestParams {
                n_trees: 0,
                ..Default::default()
            }),
            Err(IForestError::Params(_))
        ));
        assert!(matches!(
            fit(IsolationForestParams {
                max_samples: MaxSamples::Fraction(0.0),
                ..Default::default()
            }),
            Err(IForestError::Params(_))
        ));
        let m = fit(IsolationForestParams {
            max_samples: MaxSamples::Count(1000),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            m.max_samples(),
            11,
            "reduced to the number of rows, as sklearn"
        );
        assert_eq!(m.max_depth(), 4);
        assert!(matches!(
            m.anomaly_scores(&[1.0, 2.0, 3.0]),
            Err(IForestError::Matrix(MatrixError::Ragged { .. }))
        ));
        assert!(matches!(
            m.anomaly_scores(&[1.0, f64::INFINITY]),
            Err(IForestError::Matrix(MatrixError::NotFinite { .. }))
        ));
        assert_eq!(m.anomaly_scores(&[]).unwrap(), Vec::<f64>::new());
    }

    #[test]
    fn single_row_forest_scores_one_half_as_sklearn() {
        let m = IsolationForestParams::default()
            .fit(&[1.0, 2.0], 1, 2)
            .unwrap();
        assert_eq!(
            m.anomaly_scores(&[1.0, 2.0, 9.0, 9.0]).unwrap(),
            vec![0.5, 0.5]
        );
    }

    #[test]
    fn contamination_sets_the_offset_to_the_training_quantile() {
        let data = grid(400);
        let m = IsolationForestParams {
            contamination: Contamination::Fraction(0.1),
            ..Default::default()
        }
        .fit(&data, 401, 2)
        .unwrap();
        let flagged = m.predict(&data).unwrap().iter().filter(|&&o| o).count();
        // Strictly below the 10th percentile of 401 scores: at most 40 rows (ties may lower it).
        assert!((30..=40).contains(&flagged), "{flagged}");
    }

    #[test]
    fn bounds_invariant_catches_walks_that_could_leave_the_arrays() {
        let data = grid(200);
        let m = IsolationForestParams {
            n_trees: 3,
            ..Default::default()
        }
        .fit(&data, 201, 2)
        .unwrap();
        assert!(m.forest.walks_stay_in_bounds());
        let internal = (0..m.forest.nodes.len())
            .find(|&i| !m.forest.is_leaf(i))
            .unwrap();
        let mut f = m.forest.clone();
        f.nodes[internal].feature = 2;
        assert!(!f.walks_stay_in_bounds(), "feature outside the row");
        let mut f = m.forest.clone();
        let end = f.tree_start[1];
        f.nodes[internal].left = end - 1;
        assert!(!f.walks_stay_in_bounds(), "right child past the tree's end");
        let mut f = m.forest.clone();
        f.nodes[internal].left = internal as u32;
        f.nodes[internal + 1].left = internal as u32;
        assert!(!f.walks_stay_in_bounds(), "a pointer back up the tree");
        let mut f = m.forest.clone();
        let leaf = (0..f.nodes.len()).find(|&i| f.is_leaf(i)).unwrap();
        f.nodes[leaf].threshold = 0.0;
        assert!(
            !f.walks_stay_in_bounds(),
            "a leaf that lets rows step off it"
        );
        let mut f = m.forest.clone();
        f.leaf_path.pop();
        assert!(!f.walks_stay_in_bounds());
    }

    #[test]
    fn serde_round_trip_is_exact_and_damage_is_refused() {
        let data = grid(300);
        for ext in [0, 1] {
            let m = IsolationForestParams {
                extension_level: ext,
                n_trees: 20,
                ..Default::default()
            }
            .fit(&data, 301, 2)
            .unwrap();
            let json = serde_json::to_string(&m).unwrap();
            let back: IsolationForest = serde_json::from_str(&json).unwrap();
            assert_eq!(back, m);
            assert_eq!(
                back.anomaly_scores(&data).unwrap(),
                m.anomaly_scores(&data).unwrap()
            );
            // A child pointer aimed back at the root must be refused, not loop or panic.
            let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
            v["left"][1] = serde_json::json!(0);
            v["left"][0] = serde_json::json!(0);
            v["left"][2] = serde_json::json!(1);
            let err = serde_json::from_value::<IsolationForest>(v).unwrap_err();
            assert!(err.to_string().contains("isolation forest model"), "{err}");
            let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
            v["n_features"] = serde_json::json!(5);
            assert!(serde_json::from_value::<IsolationForest>(v).is_err());
        }
    }
}
