//! The n-gram baseline (`--model ngram`): how unusual a command line's characters are.
//!
//! Counts byte 3-grams of the lower-cased command lines (with two start marks and an end mark)
//! and scores a line by the mean surprisal of its 3-grams with add-one smoothing,
//! `−log2((count + 1) / (total + distinct))`. It knows nothing of executables, parents or
//! volatile tokens: the simple baseline the research compared the seed with (it did as well or
//! better at a twentieth of the cost), kept for the evaluation table and for users who want a
//! context-free text score. The mean makes it independent of length.

use super::nearest::byte_grams;
use super::stats::bits;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The mergeable training state (and the whole model).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NgramCounts {
    /// Packed 3-gram → occurrences.
    pub grams: HashMap<u32, u64>,
    /// All occurrences.
    pub total: u64,
}

impl NgramCounts {
    /// Counts the 3-grams of one command line.
    pub fn observe(&mut self, command_line: &str) {
        for g in byte_grams(command_line.as_bytes()) {
            *self.grams.entry(g).or_insert(0) += 1;
            self.total += 1;
        }
    }

    /// Adds another state.
    pub fn merge(&mut self, other: NgramCounts) {
        for (g, n) in other.grams {
            *self.grams.entry(g).or_insert(0) += n;
        }
        self.total += other.total;
    }

    /// Per-3-gram surprisals of a line.
    pub fn gram_bits(&self, command_line: &str) -> Vec<f64> {
        let denominator = (self.total + self.grams.len() as u64) as f64;
        byte_grams(command_line.as_bytes())
            .into_iter()
            .map(|g| {
                let c = self.grams.get(&g).copied().unwrap_or(0);
                bits((c + 1) as f64 / denominator.max(1.0))
            })
            .collect()
    }

    /// The score: mean surprisal per 3-gram.
    pub fn score(&self, command_line: &str) -> (f64, Vec<f64>) {
        let per = self.gram_bits(command_line);
        let mean = per.iter().sum::<f64>() / per.len().max(1) as f64;
        (mean, per)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unusual_characters_score_higher() {
        let mut c = NgramCounts::default();
        for _ in 0..50 {
            c.observe("c:\\windows\\system32\\svchost.exe -k netsvcs");
        }
        let (usual, _) = c.score("c:\\windows\\system32\\svchost.exe -k netsvcs");
        let (odd, per) = c.score("powershell -enc sqbmacgajabqafmavgbf");
        assert!(odd > usual);
        assert_eq!(per.len(), "powershell -enc sqbmacgajabqafmavgbf".len() + 1);
        // Same text, longer: the mean does not grow with length.
        let (twice, _) = c.score("c:\\windows\\system32\\svchost.exe -k netsvcs c:\\windows\\system32\\svchost.exe -k netsvcs");
        assert!((twice - usual).abs() < 1.0);
    }

    #[test]
    fn merge_adds() {
        let mut a = NgramCounts::default();
        a.observe("abc");
        let mut b = NgramCounts::default();
        b.observe("abd");
        let mut whole = NgramCounts::default();
        whole.observe("abc");
        whole.observe("abd");
        a.merge(b);
        assert_eq!(a, whole);
    }
}
