//! Growing one isolation tree from its sub-sample.
//!
//! Standard trees (`extension_level = 0`) reproduce scikit-learn's `IsolationForest`, which
//! grows `ExtraTreeRegressor(max_features=1, splitter="random")` trees:
//!
//! - the split feature is drawn uniformly among the features that are not constant in the node
//!   (sklearn's random splitter keeps drawing until it meets a non-constant feature); a node in
//!   which every feature is constant becomes a leaf;
//! - the threshold is uniform in `[min, max)` of the node's values on that feature (sklearn's
//!   `rand_uniform(min, max)`, with a draw equal to `max` moved to `min`), rows `<= threshold`
//!   go left, so both children are non-empty;
//! - a node is a leaf when it holds one row or reaches `max_depth`.
//!
//! Two deliberate differences: values are compared in `f64` (sklearn casts to `f32`), and a
//! feature counts as constant only when its minimum equals its maximum (sklearn: when they
//! differ by at most 1e-7, an absolute bound that breaks on small-valued features).
//!
//! Extended trees (`extension_level = e ≥ 1`) are Hariri, Carrasco Kind & Brunner's Extended
//! Isolation Forest (2019, reference package `eif`): a node splits on a random hyperplane through
//! a point `p` drawn uniformly in the bounding box of the node's rows, with a normal vector of
//! `e + 1` standard-normal coordinates on randomly chosen features (the others zero). Rows with
//! `(x − p)·n <= 0` go left (`eif` sends `< 0` left; the two differ only for rows exactly on the
//! plane). As in scikit-learn, and unlike `eif`, a node whose rows are all identical becomes a
//! leaf instead of being split without effect down to the depth limit. A hyperplane may leave
//! one side empty; that child is a leaf with no rows, as in `eif`.

use super::average_path_length;
use rand::seq::index;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One node in a flat array: internal nodes send a row to `left` when its projection is
/// `<= threshold` and to `left + 1` otherwise. A leaf points to itself with an infinite
/// threshold, so a row that has reached it stays there however many more steps are taken —
/// which lets scoring walk every row the same number of steps without a branch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Node {
    pub(crate) threshold: f64,
    /// Split feature (standard trees); 0 in extended trees, whose features are in the
    /// coefficient arrays.
    pub(crate) feature: u32,
    pub(crate) left: u32,
}

/// A grown tree with node indices local to it (0 = root).
pub(crate) struct GrownTree {
    pub(crate) nodes: Vec<Node>,
    /// Sub-sample rows that reached each node.
    pub(crate) samples: Vec<u32>,
    /// Extended trees: `coefs` entries per node (leaves hold weight 0).
    pub(crate) coef_feature: Vec<u32>,
    pub(crate) coef_weight: Vec<f64>,
    pub(crate) coef_point: Vec<f64>,
}

/// What a tree is grown from.
pub(crate) struct GrowSpec<'a> {
    pub(crate) data: &'a [f64],
    pub(crate) n_rows: usize,
    pub(crate) n_features: usize,
    pub(crate) sample_size: usize,
    pub(crate) max_depth: usize,
    /// Non-zero normal coordinates per node: 1 = standard tree.
    pub(crate) coefs: usize,
    pub(crate) bootstrap: bool,
    pub(crate) seed: u64,
}

/// Each tree's random stream is the ChaCha8 stream `tree_index` of the forest seed, so a tree
/// depends on nothing but (seed, index) and a forest is the same whatever the thread count.
pub(crate) fn tree_rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// Standard normal draw (Box–Muller; `1 − u` keeps the logarithm's argument in (0, 1]).
fn standard_normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Uniform draw in `[lo, hi)` that never overflows or leaves the interval (`lo <= hi`).
fn uniform_between(rng: &mut ChaCha8Rng, lo: f64, hi: f64) -> f64 {
    let u: f64 = rng.random();
    let mut t = lo + u * (hi - lo);
    if !t.is_finite() {
        // hi - lo overflowed (values near ±f64::MAX): blend instead.
        t = lo * (1.0 - u) + hi * u;
    }
    // As sklearn: a draw that rounds up to max becomes min, so the max row always goes right.
    if !(t >= lo && t < hi) {
        t = lo;
    }
    t
}

/// The projection an extended node routes on, over its features in increasing order.
#[inline]
pub(crate) fn project(row: &[f64], features: &[u32], weights: &[f64]) -> f64 {
    features
        .iter()
        .zip(weights)
        .map(|(&f, &w)| w * row[f as usize])
        .sum()
}

/// The same projection over a dense weight vector (zeros off the node's features): the same
/// products added in the same order plus exact zeros, so the same value — a training row always
/// follows, when scored, the path it was counted on while the tree grew.
#[inline]
pub(crate) fn project_dense(row: &[f64], weights: &[f64]) -> f64 {
    row.iter().zip(weights).map(|(&x, &w)| w * x).sum()
}

/// Appends a leaf (pointing to itself) and returns its index; splitting turns it into an
/// internal node later.
fn push_node(tree: &mut GrownTree, coefs: usize) -> usize {
    let id = tree.nodes.len();
    tree.nodes.push(Node {
        threshold: f64::INFINITY,
        feature: 0,
        left: id as u32,
    });
    tree.samples.push(0);
    if coefs > 1 {
        tree.coef_feature.extend(std::iter::repeat_n(0, coefs));
        tree.coef_weight.extend(std::iter::repeat_n(0.0, coefs));
        tree.coef_point.extend(std::iter::repeat_n(0.0, coefs));
    }
    id
}

struct Pending {
    node: usize,
    start: usize,
    end: usize,
    depth: usize,
}

pub(crate) fn grow_tree(spec: &GrowSpec<'_>, tree_index: u64) -> GrownTree {
    let mut rng = tree_rng(spec.seed, tree_index);
    let nf = spec.n_features;
    let psi = spec.sample_size;

    // Copy the sub-sample into a local, contiguous block: splitting then touches only
    // psi × n_features values that stay in cache.
    let picked: Vec<usize> = if spec.bootstrap {
        (0..psi).map(|_| rng.random_range(0..spec.n_rows)).collect()
    } else {
        index::sample(&mut rng, spec.n_rows, psi).into_vec()
    };
    let mut x = Vec::with_capacity(psi * nf);
    for &r in &picked {
        x.extend_from_slice(&spec.data[r * nf..(r + 1) * nf]);
    }

    let k = spec.coefs;
    let extended = k > 1;
    let mut tree = GrownTree {
        nodes: Vec::with_capacity(2 * psi.min(1 << spec.max_depth.min(20))),
        samples: Vec::new(),
        coef_feature: Vec::new(),
        coef_weight: Vec::new(),
        coef_point: Vec::new(),
    };
    let mut order: Vec<u32> = (0..psi as u32).collect();
    let mut features: Vec<u32> = (0..nf as u32).collect();
    let mut lows = vec![0.0; nf];
    let mut highs = vec![0.0; nf];
    let mut projections: Vec<f64> = Vec::new();
    let mut scratch: Vec<u32> = Vec::new();
    let root = push_node(&mut tree, k);
    let mut stack = vec![Pending {
        node: root,
        start: 0,
        end: psi,
        depth: 0,
    }];

    while let Some(Pending {
        node,
        start,
        end,
        depth,
    }) = stack.pop()
    {
        let n = end - start;
        tree.samples[node] = n as u32;
        if n <= 1 || depth >= spec.max_depth {
            continue;
        }
        let rows = &mut order[start..end];
        let mid = if extended {
            // Bounding box of the node's rows.
            lows.fill(f64::INFINITY);
            highs.fill(f64::NEG_INFINITY);
            for &r in rows.iter() {
                let row = &x[r as usize * nf..(r as usize + 1) * nf];
                for f in 0..nf {
                    lows[f] = lows[f].min(row[f]);
                    highs[f] = highs[f].max(row[f]);
                }
            }
            if lows.iter().zip(&highs).all(|(l, h)| l == h) {
                continue; // all rows identical: nothing can be isolated here
            }
            // k distinct features by a partial Fisher–Yates shuffle, then in increasing order:
            // the projection sums its terms in feature order (see `project`).
            for s in 0..k {
                let j = rng.random_range(s..nf);
                features.swap(s, j);
            }
            features[..k].sort_unstable();
            let base = node * k;
            let mut threshold = 0.0;
            for (s, &f) in features[..k].iter().enumerate() {
                let w = standard_normal(&mut rng);
                let (lo, hi) = (lows[f as usize], highs[f as usize]);
                let p = if hi > lo {
                    uniform_between(&mut rng, lo, hi)
                } else {
                    lo
                };
                tree.coef_feature[base + s] = f;
                tree.coef_weight[base + s] = w;
                tree.coef_point[base + s] = p;
                threshold += w * p;
            }
            let cf = &tree.coef_feature[base..base + k];
            let cw = &tree.coef_weight[base..base + k];
            projections.clear();
            projections.extend(
                rows.iter()
                    .map(|&r| project(&x[r as usize * nf..(r as usize + 1) * nf], cf, cw)),
            );
            tree.nodes[node].threshold = threshold;
            partition(rows, &projections, threshold, &mut scratch)
        } else {
            // Uniform among the non-constant features: draw, and set aside a constant one.
            let mut remaining = nf;
            let mut split = None;
            while remaining > 0 {
                let j = rng.random_range(0..remaining);
                let f = features[j] as usize;
                let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
                for &r in rows.iter() {
                    let v = x[r as usize * nf + f];
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
                if hi > lo {
                    split = Some((f, lo, hi));
                    break;
                }
                features.swap(j, remaining - 1);
                remaining -= 1;
            }
            let Some((f, lo, hi)) = split else {
                continue; // every feature constant: a leaf, as sklearn
            };
            let threshold = uniform_between(&mut rng, lo, hi);
            projections.clear();
            projections.extend(rows.iter().map(|&r| x[r as usize * nf + f]));
            tree.nodes[node].threshold = threshold;
            tree.nodes[node].feature = f as u32;
            partition(rows, &projections, threshold, &mut scratch)
        };
        let left = push_node(&mut tree, k);
        let right = push_node(&mut tree, k);
        tree.nodes[node].left = left as u32;
        stack.push(Pending {
            node: right,
            start: start + mid,
            end,
            depth: depth + 1,
        });
        stack.push(Pending {
            node: left,
            start,
            end: start + mid,
            depth: depth + 1,
        });
    }
    tree
}

/// Moves rows with `value <= threshold` to the front, keeping their order on both sides
/// (`values` parallel to `rows`; `scratch` is reused between nodes); returns how many go left.
fn partition(rows: &mut [u32], values: &[f64], threshold: f64, scratch: &mut Vec<u32>) -> usize {
    scratch.clear();
    let mut mid = 0;
    for i in 0..rows.len() {
        if values[i] <= threshold {
            // mid <= i: the slot was already read.
            rows[mid] = rows[i];
            mid += 1;
        } else {
            scratch.push(rows[i]);
        }
    }
    rows[mid..].copy_from_slice(scratch);
    mid
}

/// Depth of every node and the expected path length `depth + c(samples)` at leaves.
pub(crate) fn leaf_paths(nodes: &[Node], samples: &[u32], offset: usize) -> (Vec<f64>, u32) {
    let mut depth = vec![0u32; nodes.len()];
    let mut path = vec![0.0; nodes.len()];
    let mut deepest = 0;
    for i in 0..nodes.len() {
        let left = nodes[i].left as usize - offset;
        if left == i {
            path[i] = depth[i] as f64 + average_path_length(samples[i] as usize);
            deepest = deepest.max(depth[i]);
        } else {
            depth[left] = depth[i] + 1;
            depth[left + 1] = depth[i] + 1;
        }
    }
    (path, deepest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_between_stays_in_range_even_at_the_extremes() {
        let mut rng = tree_rng(1, 0);
        for _ in 0..1000 {
            let t = uniform_between(&mut rng, -f64::MAX, f64::MAX);
            assert!(t.is_finite() && t < f64::MAX);
            let t = uniform_between(&mut rng, 1.0, 1.0 + f64::EPSILON);
            assert!((1.0..1.0 + f64::EPSILON).contains(&t));
        }
    }

    #[test]
    fn dense_projection_equals_sparse_projection_exactly() {
        let mut rng = tree_rng(5, 1);
        for _ in 0..2000 {
            let nf = rng.random_range(2..12);
            let row: Vec<f64> = (0..nf)
                .map(|_| standard_normal(&mut rng) * 10f64.powi(rng.random_range(-3..4)))
                .collect();
            let mut feats: Vec<u32> = (0..nf as u32).collect();
            let k = rng.random_range(1..=nf);
            for s in 0..k {
                let j = rng.random_range(s..nf);
                feats.swap(s, j);
            }
            feats.truncate(k);
            feats.sort_unstable();
            let weights: Vec<f64> = (0..k).map(|_| standard_normal(&mut rng)).collect();
            let mut dense = vec![0.0; nf];
            for (&f, &w) in feats.iter().zip(&weights) {
                dense[f as usize] = w;
            }
            let a = project(&row, &feats, &weights);
            let b = project_dense(&row, &dense);
            assert!(a == b, "{a} vs {b}");
        }
    }

    #[test]
    fn partition_is_stable_and_counts_left_rows() {
        let mut rows = vec![10, 11, 12, 13, 14];
        let mid = partition(&mut rows, &[5.0, 1.0, 3.0, 0.0, 9.0], 3.0, &mut Vec::new());
        assert_eq!(mid, 3);
        assert_eq!(rows, vec![11, 12, 13, 10, 14]);
    }

    #[test]
    fn standard_tree_isolates_every_distinct_row_without_depth_limit() {
        // 8 distinct rows, one feature constant: every leaf holds one row, no split uses
        // the constant feature.
        let data: Vec<f64> = (0..8).flat_map(|i| [i as f64, 7.0]).collect();
        let spec = GrowSpec {
            data: &data,
            n_rows: 8,
            n_features: 2,
            sample_size: 8,
            max_depth: 64,
            coefs: 1,
            bootstrap: false,
            seed: 3,
        };
        let tree = grow_tree(&spec, 0);
        assert_eq!(tree.samples[0], 8);
        let mut leaves = 0;
        for (i, n) in tree.nodes.iter().enumerate() {
            if n.left as usize == i {
                assert_eq!(tree.samples[i], 1);
                leaves += 1;
            } else {
                assert_eq!(n.feature, 0, "the constant feature is never split on");
                let l = n.left as usize;
                assert_eq!(tree.samples[l] + tree.samples[l + 1], tree.samples[i]);
                assert!(tree.samples[l] > 0 && tree.samples[l + 1] > 0);
            }
        }
        assert_eq!(leaves, 8);
    }

    #[test]
    fn identical_rows_make_a_single_leaf() {
        let data = vec![2.5; 5 * 3];
        for coefs in [1, 3] {
            let spec = GrowSpec {
                data: &data,
                n_rows: 5,
                n_features: 3,
                sample_size: 5,
                max_depth: 8,
                coefs,
                bootstrap: false,
                seed: 0,
            };
            let tree = grow_tree(&spec, 0);
            assert_eq!(tree.nodes.len(), 1);
            assert_eq!(tree.samples[0], 5);
        }
    }
}
