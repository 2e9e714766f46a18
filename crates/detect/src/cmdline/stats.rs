//! Small mergeable statistics the `cmdline` and `proccount` detectors are built from: a stable
//! hash, bottom-k samples, exact length moments, weighted distributions (percentiles against
//! training), and the absolute-discount probability estimate behind every rarity here.
//!
//! Everything that is training state merges exactly: merging the states of two shards gives the
//! same value as training on both, whatever the split and order. That is what lets `oddhunt`
//! train on partial states from many machines.

use serde::{Deserialize, Serialize};
use std::collections::BinaryHeap;

/// A 64-bit hash that is the same on every platform, run and oddhunt version (samples drawn on
/// different machines must agree): FNV-1a over the parts, each followed by a 0xff separator
/// (which never occurs in UTF-8), then the SplitMix64 finaliser so every bit depends on every
/// input bit. Not cryptographic.
pub fn stable_hash(seed: u64, parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for part in parts {
        for &b in part.iter().chain(std::iter::once(&0xffu8)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    splitmix64(h)
}

/// The SplitMix64 output function.
pub fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Keyed<T> {
    key: u64,
    item: T,
}

impl<T> PartialEq for Keyed<T> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl<T> Eq for Keyed<T> {}
impl<T> PartialOrd for Keyed<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Keyed<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key.cmp(&other.key)
    }
}

/// A uniform sample without replacement of at most `capacity` items: every item gets a key from
/// [`stable_hash`] of its content and origin, and the sample keeps the items with the smallest
/// keys (a bottom-k sample). Because the kept set depends only on the keys, merging two samples
/// (keep the smallest keys of both) is exactly the sample of the union, in any order; and a
/// given seed always draws the same sample.
#[derive(Clone, Debug)]
pub struct BottomK<T> {
    capacity: usize,
    heap: BinaryHeap<Keyed<T>>,
    offered: u64,
}

impl<T> BottomK<T> {
    /// An empty sample of at most `capacity` items.
    pub fn new(capacity: usize) -> Self {
        BottomK {
            capacity,
            heap: BinaryHeap::new(),
            offered: 0,
        }
    }

    /// Offers an item with `key`; `make` builds it only when it is kept.
    pub fn offer(&mut self, key: u64, make: impl FnOnce() -> T) {
        self.offered += 1;
        self.insert(key, make);
    }

    fn insert(&mut self, key: u64, make: impl FnOnce() -> T) {
        if self.capacity == 0 {
            return;
        }
        if self.heap.len() < self.capacity {
            self.heap.push(Keyed { key, item: make() });
        } else if self.heap.peek().is_some_and(|top| key < top.key) {
            self.heap.pop();
            self.heap.push(Keyed { key, item: make() });
        }
    }

    /// Merges another sample (the smallest keys of both are kept).
    pub fn merge(&mut self, other: BottomK<T>) {
        self.offered += other.offered;
        for k in other.heap.into_vec() {
            self.insert(k.key, || k.item);
        }
    }

    /// Items offered so far (kept or not).
    pub fn offered(&self) -> u64 {
        self.offered
    }

    /// Items kept.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// The kept items, smallest key first (a deterministic order: a random permutation of the
    /// sample, the same for a given seed).
    pub fn into_sorted(self) -> Vec<(u64, T)> {
        let mut v: Vec<(u64, T)> = self
            .heap
            .into_vec()
            .into_iter()
            .map(|k| (k.key, k.item))
            .collect();
        v.sort_by_key(|(k, _)| *k);
        v
    }

    /// The kept items by key, smallest first, borrowed.
    pub fn sorted(&self) -> Vec<(u64, &T)> {
        let mut v: Vec<(u64, &T)> = self.heap.iter().map(|k| (k.key, &k.item)).collect();
        v.sort_by_key(|(k, _)| *k);
        v
    }
}

impl<T: Clone> BottomK<T> {
    /// A copy of the kept items, smallest key first.
    pub fn to_sorted(&self) -> Vec<(u64, T)> {
        self.sorted()
            .into_iter()
            .map(|(k, t)| (k, t.clone()))
            .collect()
    }
}

impl<T: PartialEq> PartialEq for BottomK<T> {
    fn eq(&self, other: &Self) -> bool {
        self.capacity == other.capacity && self.offered == other.offered && {
            let (a, b) = (self.sorted(), other.sorted());
            a.len() == b.len()
                && a.iter()
                    .zip(&b)
                    .all(|((ka, ta), (kb, tb))| ka == kb && ta == tb)
        }
    }
}

/// The serialised form of a [`BottomK`]: capacity, items offered, and the kept items by key.
#[derive(Serialize, Deserialize)]
struct BottomKWire<T> {
    capacity: usize,
    offered: u64,
    items: Vec<(u64, T)>,
}

impl<T: Serialize + Clone> Serialize for BottomK<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        BottomKWire {
            capacity: self.capacity,
            offered: self.offered,
            items: self.to_sorted(),
        }
        .serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for BottomK<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = BottomKWire::<T>::deserialize(deserializer)?;
        let mut sample = BottomK::new(wire.capacity);
        for (key, item) in wire.items {
            sample.insert(key, || item);
        }
        sample.offered = wire.offered;
        Ok(sample)
    }
}

/// Exact moments of integer lengths: integer sums, so merging is exact (floating-point running
/// means would differ in the last bits depending on the split).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LengthMoments {
    /// How many lengths.
    pub count: u64,
    /// Their sum.
    pub sum: u128,
    /// The sum of their squares.
    pub sum_squares: u128,
}

impl LengthMoments {
    /// Adds one length.
    pub fn add(&mut self, length: usize) {
        let l = length as u128;
        self.count += 1;
        self.sum += l;
        self.sum_squares += l * l;
    }

    /// Adds another set.
    pub fn merge(&mut self, other: &LengthMoments) {
        self.count += other.count;
        self.sum += other.sum;
        self.sum_squares += other.sum_squares;
    }

    /// The mean (0 when empty).
    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum as f64 / self.count as f64
        }
    }

    /// The population standard deviation (numpy's `std`, ddof 0), from the exact integer
    /// variance `(n·Σx² − (Σx)²) / n²`.
    pub fn std(&self) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let n = self.count as u128;
        let numerator = (n * self.sum_squares).saturating_sub(self.sum * self.sum);
        (numerator as f64 / (n as f64 * n as f64)).sqrt()
    }
}

/// The absolute-discount estimate of `P(value | context)` with discount 1, interpolated with a
/// lower-order estimate: `(max(count − 1, 0) + distinct · lower) / total`, where `count` is how
/// often the value was seen in the context, `total` how many observations the context has and
/// `distinct` how many different values. A value seen once is as surprising as one never seen,
/// and the probability left for novelty is `distinct / total`: large where a context is diverse
/// (a service host starting yet another service), tiny where it never changes (`conhost.exe
/// 0xffffffff -ForceV1`). Because it discounts the event's own observation, scoring the training
/// events themselves (a hunt) gives what scoring them as new events after training on the rest
/// would — no leave-one-out bookkeeping needed. Empty contexts fall back to `lower`.
pub fn discounted(count: u64, total: u64, distinct: u64, lower: f64) -> f64 {
    if total == 0 {
        return lower;
    }
    (count.saturating_sub(1) as f64 + distinct as f64 * lower) / total as f64
}

/// Surprisal in bits of a probability (capped at 1e-300 so it stays finite).
pub fn bits(p: f64) -> f64 {
    -(p.max(1e-300)).log2()
}

/// A weighted distribution of a measure over the training events, for percentiles: sorted
/// values with the cumulative weight below each; at most [`WeightedDistribution::MAX_KNOTS`]
/// knots (quantiles in between are interpolated).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WeightedDistribution {
    /// Distinct values (or quantile knots), ascending.
    pub values: Vec<f64>,
    /// Weight strictly below each value.
    pub below: Vec<f64>,
    /// Weight at each value.
    pub at: Vec<f64>,
    /// Total weight.
    pub total: f64,
}

impl WeightedDistribution {
    /// Most knots kept.
    pub const MAX_KNOTS: usize = 4096;

    /// The distribution of `(value, weight)` pairs (non-finite values and weights ≤ 0 skipped).
    pub fn new(mut pairs: Vec<(f64, f64)>) -> Self {
        pairs.retain(|(v, w)| v.is_finite() && *w > 0.0);
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut values = Vec::new();
        let mut at: Vec<f64> = Vec::new();
        for (v, w) in pairs {
            if values.last() == Some(&v) {
                if let Some(last) = at.last_mut() {
                    *last += w;
                }
            } else {
                values.push(v);
                at.push(w);
            }
        }
        let mut below = Vec::with_capacity(values.len());
        let mut run = 0.0;
        for w in &at {
            below.push(run);
            run += w;
        }
        let total = run;
        if values.len() > Self::MAX_KNOTS {
            // Keep evenly spaced knots, always the first and last.
            let n = values.len();
            let keep: Vec<usize> = (0..Self::MAX_KNOTS)
                .map(|i| i * (n - 1) / (Self::MAX_KNOTS - 1))
                .collect();
            values = keep.iter().map(|&i| values[i]).collect();
            let new_below: Vec<f64> = keep.iter().map(|&i| below[i]).collect();
            at = keep.iter().map(|&i| at[i]).collect();
            below = new_below;
        }
        WeightedDistribution {
            values,
            below,
            at,
            total,
        }
    }

    /// The mid-rank percentile of `value` in (0, 1): the share of training weight below it plus
    /// half the share equal to it (as `scipy.stats.rankdata(..., 'average') / n` for the
    /// training events themselves). Between knots the weight below is interpolated; beyond the
    /// largest value it is 1, below the smallest 0.
    pub fn percentile(&self, value: f64) -> f64 {
        if self.total <= 0.0 || self.values.is_empty() || value.is_nan() {
            return 0.5;
        }
        let i = self.values.partition_point(|&v| v < value);
        let below = if i == self.values.len() {
            self.total
        } else if self.values[i] == value {
            return (self.below[i] + 0.5 * self.at[i]) / self.total;
        } else if i == 0 {
            0.0
        } else {
            // Strictly between knot i-1 and knot i.
            let (v0, v1) = (self.values[i - 1], self.values[i]);
            let lo = self.below[i - 1] + self.at[i - 1];
            let hi = self.below[i];
            let f = if v1 > v0 {
                (value - v0) / (v1 - v0)
            } else {
                0.0
            };
            lo + (hi - lo).max(0.0) * f
        };
        below / self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_stable_and_separates_parts() {
        assert_eq!(
            stable_hash(1, &[b"ab", b"c"]),
            stable_hash(1, &[b"ab", b"c"])
        );
        assert_ne!(
            stable_hash(1, &[b"ab", b"c"]),
            stable_hash(1, &[b"a", b"bc"])
        );
        assert_ne!(stable_hash(1, &[b"x"]), stable_hash(2, &[b"x"]));
        // A fixed value, so a change of the function (which would change every sample) is seen.
        assert_eq!(stable_hash(0, &[b"oddhunt"]), 0x18ab_ca56_d3f8_fd9c);
    }

    #[test]
    fn bottom_k_merge_is_the_sample_of_the_union() {
        let keys: Vec<u64> = (0..500u64)
            .map(|i| stable_hash(7, &[&i.to_le_bytes()]))
            .collect();
        let mut whole = BottomK::new(50);
        keys.iter().for_each(|&k| whole.offer(k, || k));
        let mut a = BottomK::new(50);
        let mut b = BottomK::new(50);
        for (i, &k) in keys.iter().enumerate() {
            if i % 3 == 0 {
                a.offer(k, || k)
            } else {
                b.offer(k, || k)
            }
        }
        b.merge(a);
        assert_eq!(b, whole);
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        let kept: Vec<u64> = whole.into_sorted().into_iter().map(|(k, _)| k).collect();
        assert_eq!(kept, sorted[..50]);
    }

    #[test]
    fn moments_as_numpy() {
        let mut m = LengthMoments::default();
        for l in [3usize, 5, 8, 100] {
            m.add(l);
        }
        // numpy: np.mean([3,5,8,100]) = 29.0, np.std = 41.030476477857285
        assert_eq!(m.mean(), 29.0);
        assert!((m.std() - 41.030_476_477_857_285).abs() < 1e-12);
        assert_eq!(LengthMoments::default().std(), 0.0);
    }

    #[test]
    fn discount_treats_singletons_as_new() {
        // Seen once = never seen; the novelty mass is distinct/total.
        assert_eq!(discounted(1, 10, 5, 0.01), discounted(0, 10, 5, 0.01));
        assert!((discounted(0, 10, 5, 1.0) - 0.5).abs() < 1e-12);
        assert!((discounted(6, 10, 5, 0.0) - 0.5).abs() < 1e-12);
        assert_eq!(discounted(3, 0, 0, 0.25), 0.25);
        // Probabilities over the values of a context sum to one when `lower` does.
        let counts = [5u64, 3, 1, 1];
        let (n, t) = (10u64, 4u64);
        let lower = [0.4, 0.3, 0.2, 0.1];
        let sum: f64 = counts
            .iter()
            .zip(lower)
            .map(|(&c, l)| discounted(c, n, t, l))
            .sum();
        assert!((sum - 1.0).abs() < 1e-12);
    }

    #[test]
    fn percentiles_are_mid_ranks() {
        let d = WeightedDistribution::new(vec![(1.0, 1.0), (2.0, 2.0), (3.0, 1.0)]);
        assert_eq!(d.percentile(1.0), 0.5 / 4.0);
        assert_eq!(d.percentile(2.0), 2.0 / 4.0);
        assert_eq!(d.percentile(3.0), 3.5 / 4.0);
        assert_eq!(d.percentile(10.0), 1.0);
        assert_eq!(d.percentile(0.0), 0.0);
        assert!((d.percentile(2.5) - 3.0 / 4.0).abs() < 1e-12);
        // Many values: knots, still monotone and within [0, 1].
        let big = WeightedDistribution::new((0..20_000).map(|i| (i as f64, 1.0)).collect());
        assert_eq!(big.values.len(), WeightedDistribution::MAX_KNOTS);
        let p = |v: f64| big.percentile(v);
        assert!(p(100.0) < p(5_000.0) && p(5_000.0) < p(19_000.0));
        assert!((p(10_000.0) - 0.5).abs() < 0.01);
    }
}
