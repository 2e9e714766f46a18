//! Look-alike names: similarity of two process names, the edit that separates them, and the
//! pruned infrequent × frequent join.
//!
//! Similarity is the seed's: Damerau-Levenshtein (true, unrestricted — adjacent transpositions,
//! a substring may be edited more than once) over code points, normalised as
//! `(max(len a, len b) - d) / max(len a, len b)` — with an exact integer numerator, as the Python
//! package `fastDamerauLevenshtein` computes it with its default arguments (`1 - d / max` differs
//! in the last bit for about half of all pairs). `strsim::damerau_levenshtein` computes the same
//! distance; the reference test over 4,509 pairs proves the similarities equal bit for bit.
//! When both names have the same extension it is dropped from
//! both before comparing, as the notebook does.
//!
//! Scores:
//! - seed-compatible: the similarity rounded to a 32-bit float (the notebook's Spark UDF returns
//!   `FloatType`), and 0.0 when either name has no `.` (the notebook's distance function returns
//!   0.0 then);
//! - default: `(m - d) / m` with `m = max(len a, len b, min_length)`. With `min_length = 7`,
//!   one edit in a short stem (`cmd` → `cnd`, similarity 0.67 in the seed) scores 0.857 and passes the 0.85 cut,
//!   while for stems of 7 or more characters the score equals the similarity.
//!
//! The join compares every infrequent name with every frequent one, but only computes the
//! distance for pairs that can pass: frequent names are indexed by their deletion variants
//! ([`NormalIndex`]), so a rare name meets only names within reach, and the bag distance
//! (characters one name has that the other lacks, a lower bound of the edit distance) drops
//! most of those before the distance is computed. [`join_naive`] is the plain cross join the
//! tests compare with.

use std::collections::BTreeMap;

/// How pairs are scored.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoreRule {
    /// Pairs with a score strictly above this are look-alikes.
    pub threshold: f64,
    /// Effective minimum length in the score's denominator (0 = the plain similarity).
    pub min_length: usize,
    /// The notebook's quirks: 0.0 without a `.`, similarity as a 32-bit float.
    pub seed_compatible: bool,
    /// Ignore pairs that differ only in digits (`vcredist_x64`/`vcredist_x86`, versioned
    /// installers, numbered temp files): version noise, not masquerading. A digit that replaces
    /// a letter (`svch0st`) still counts.
    pub ignore_digit_changes: bool,
}

/// A process name prepared for comparison.
#[derive(Clone, Debug)]
pub struct NameKey {
    /// The (lower-case) name.
    pub name: String,
    chars: Vec<char>,
    stem_len: usize,
    ext: Option<String>,
}

impl NameKey {
    /// Prepares a name (already lower-cased by the caller).
    pub fn new(name: &str) -> NameKey {
        let chars: Vec<char> = name.chars().collect();
        let (stem_len, ext) = match name.rfind('.') {
            Some(i) => (name[..i].chars().count(), Some(name[i + 1..].to_string())),
            None => (chars.len(), None),
        };
        NameKey {
            name: name.to_string(),
            chars,
            stem_len,
            ext,
        }
    }

    fn has_dot(&self) -> bool {
        self.ext.is_some()
    }

    fn full_len(&self) -> usize {
        self.chars.len()
    }
}

/// Whether two names are compared without their (shared) extension.
fn same_extension(a: &NameKey, b: &NameKey) -> bool {
    matches!((&a.ext, &b.ext), (Some(x), Some(y)) if x == y)
}

/// The parts of two names that are compared.
fn compared<'a>(a: &'a NameKey, b: &'a NameKey) -> (&'a [char], &'a [char]) {
    if same_extension(a, b) {
        (&a.chars[..a.stem_len], &b.chars[..b.stem_len])
    } else {
        (&a.chars[..], &b.chars[..])
    }
}

/// The score and similarity of a pair.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PairScore {
    /// The seed's similarity (normalised Damerau-Levenshtein of the compared parts).
    pub similarity: f64,
    /// The score compared with the threshold (see the module documentation).
    pub score: f64,
    /// Edit distance of the compared parts.
    pub distance: usize,
}

/// Normalised similarity as `fastDamerauLevenshtein.damerauLevenshtein(a, b)` computes it.
pub fn similarity(a: &str, b: &str) -> f64 {
    let longest = a.chars().count().max(b.chars().count());
    normalise(strsim::damerau_levenshtein(a, b), longest)
}

/// `(longest - distance) / longest`, 1.0 for two empty strings (the package's convention).
fn normalise(distance: usize, longest: usize) -> f64 {
    if longest == 0 {
        return 1.0;
    }
    longest.saturating_sub(distance) as f64 / longest as f64
}

fn distance_chars(a: &[char], b: &[char]) -> usize {
    let a: String = a.iter().collect();
    let b: String = b.iter().collect();
    strsim::damerau_levenshtein(&a, &b)
}

/// Scores one pair by `rule` (no pruning).
pub fn score_pair(a: &NameKey, b: &NameKey, rule: &ScoreRule) -> PairScore {
    if rule.seed_compatible && (!a.has_dot() || !b.has_dot()) {
        return PairScore {
            similarity: 0.0,
            score: 0.0,
            distance: usize::MAX,
        };
    }
    let (ca, cb) = compared(a, b);
    let distance = distance_chars(ca, cb);
    let longest = ca.len().max(cb.len());
    let similarity = normalise(distance, longest);
    let score = if rule.seed_compatible {
        f64::from(similarity as f32)
    } else {
        normalise(distance, longest.max(rule.min_length))
    };
    PairScore {
        similarity,
        score,
        distance,
    }
}

/// Whether two compared parts differ only where both have digits.
fn only_digit_changes(a: &[char], b: &[char]) -> bool {
    fn template(s: &[char]) -> String {
        let mut out = String::with_capacity(s.len());
        let mut in_digits = false;
        for &c in s {
            if c.is_ascii_digit() {
                if !in_digits {
                    out.push('#');
                }
                in_digits = true;
            } else {
                out.push(c);
                in_digits = false;
            }
        }
        out
    }
    a != b && template(a) == template(b)
}

/// Whether a scored pair is a look-alike under `rule`.
pub fn is_look_alike(a: &NameKey, b: &NameKey, pair: &PairScore, rule: &ScoreRule) -> bool {
    if pair.score <= rule.threshold || a.name == b.name {
        return false;
    }
    if rule.ignore_digit_changes && !rule.seed_compatible {
        let (ca, cb) = compared(a, b);
        if only_digit_changes(ca, cb) {
            return false;
        }
    }
    true
}

/// A look-alike pair found by the join.
#[derive(Clone, Debug, PartialEq)]
pub struct Match {
    /// Index into the infrequent names.
    pub rare: usize,
    /// Index into the frequent names.
    pub normal: usize,
    /// Its score.
    pub pair: PairScore,
}

/// The plain infrequent × frequent cross join (the reference for [`join_pruned`]).
pub fn join_naive(rare: &[NameKey], normal: &[NameKey], rule: &ScoreRule) -> Vec<Match> {
    let mut out = Vec::new();
    for (i, a) in rare.iter().enumerate() {
        for (j, b) in normal.iter().enumerate() {
            let pair = score_pair(a, b, rule);
            if is_look_alike(a, b, &pair, rule) {
                out.push(Match {
                    rare: i,
                    normal: j,
                    pair,
                });
            }
        }
    }
    out
}

/// Frequent names indexed for the pruned join.
///
/// A deletion-neighbourhood index (the idea of SymSpell): every frequent name is stored under
/// each string obtained by deleting up to `k` of its characters. Two strings within
/// Damerau-Levenshtein distance `d` share such a string with at most `d` deletions on each side
/// (a substitution: delete it on both sides; an insertion: on one; a transposition: one of the
/// two on each side), so looking up the deletion variants of a rare name finds every frequent
/// name that can pass, and nothing far away. `k` is the largest distance that can still pass the
/// cut for a name of that length (against a partner of any length the cut allows). Candidates
/// are then checked with the bag distance and finally the true distance.
///
/// The number of variants grows as `len^k`, so names that may differ by more than
/// [`INDEXED_EDITS`] edits (long names) are not indexed: they are checked against every rare
/// name of similar length (there are few of them), and rare long names against every frequent
/// name of similar length.
/// Variants are kept as a sorted list of `(hash, name)` pairs, not a map of vectors.
pub struct NormalIndex<'a> {
    names: &'a [NameKey],
    bags: Vec<Vec<char>>,
    stem_bags: Vec<Vec<char>>,
    /// Variants of whole names (for names compared whole: different or no extensions).
    whole: Vec<(u64, u32)>,
    /// Variants of stems, salted with the extension (names compared without it).
    stems: Vec<(u64, u32)>,
    /// Names too long to index, by length (compared with the rare names of similar length).
    long: BTreeMap<usize, Vec<u32>>,
    /// Every name by length (for rare names too long to query the index).
    by_len: BTreeMap<usize, Vec<u32>>,
    threshold: f64,
    min_length: usize,
}

/// The most edits the deletion index covers; longer reach falls back to a scan.
pub const INDEXED_EDITS: usize = 2;

fn bag(chars: &[char]) -> Vec<char> {
    let mut v = chars.to_vec();
    v.sort_unstable();
    v
}

/// max(|A \ B|, |B \ A|) for sorted multisets: a lower bound of any edit distance in which
/// each operation changes one character (a transposition changes none).
fn bag_distance(a: &[char], b: &[char]) -> usize {
    let (mut i, mut j, mut only_a, mut only_b) = (0, 0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Equal => {
                i += 1;
                j += 1;
            }
            std::cmp::Ordering::Less => {
                only_a += 1;
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                only_b += 1;
                j += 1;
            }
        }
    }
    only_a += a.len() - i;
    only_b += b.len() - j;
    only_a.max(only_b)
}

/// The most edits a pair involving a string of `len` characters can have and still pass:
/// `d < (1 - t) · m` (or `<=` with the seed's f32 rounding) where `m`, the score's denominator,
/// is at most `max(len / t, len + (1 - t) · min_length, min_length)` — a longer partner can
/// only be that much longer and still pass.
fn max_edits(len: usize, threshold: f64, min_length: usize) -> usize {
    let slack = (1.0 - threshold).max(0.0);
    let len = len as f64;
    let min_length = min_length as f64;
    let longest = if threshold > 0.0 {
        (len / threshold)
            .max(len + slack * min_length)
            .max(min_length)
    } else {
        f64::INFINITY
    };
    // The small margin admits the equality the seed's f32 rounding lets through; the final
    // check decides.
    (slack * longest + 1e-6).floor().min(len).min(64.0) as usize
}

/// Hashes of every string obtained from `chars` by deleting up to `k` characters (duplicates
/// removed), salted.
fn deletion_variants(chars: &[char], k: usize, salt: u64) -> Vec<u64> {
    use std::hash::{Hash, Hasher};
    // Deleting positions in increasing order enumerates each combination once.
    fn walk(from: usize, k: usize, current: &mut Vec<char>, out: &mut Vec<Vec<char>>) {
        out.push(current.clone());
        if k == 0 {
            return;
        }
        for i in from..current.len() {
            let removed = current.remove(i);
            walk(i, k - 1, current, out);
            current.insert(i, removed);
        }
    }
    let mut variants = Vec::new();
    let mut current = chars.to_vec();
    walk(0, k, &mut current, &mut variants);
    let mut hashes: Vec<u64> = variants
        .iter()
        .map(|v| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            salt.hash(&mut h);
            v.hash(&mut h);
            h.finish()
        })
        .collect();
    hashes.sort_unstable();
    hashes.dedup();
    hashes
}

fn extension_salt(ext: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    ext.hash(&mut h);
    h.finish() | 1
}

impl<'a> NormalIndex<'a> {
    /// Indexes the frequent names for pairs scored by `rule`.
    pub fn new(names: &'a [NameKey], rule: &ScoreRule) -> Self {
        let min_length = if rule.seed_compatible {
            0
        } else {
            rule.min_length
        };
        let mut whole = Vec::new();
        let mut stems = Vec::new();
        let mut long: BTreeMap<usize, Vec<u32>> = BTreeMap::new();
        let mut by_len: BTreeMap<usize, Vec<u32>> = BTreeMap::new();
        for (j, n) in names.iter().enumerate() {
            let id = j as u32;
            by_len.entry(n.full_len()).or_default().push(id);
            let k = max_edits(n.full_len(), rule.threshold, min_length);
            if k > INDEXED_EDITS {
                long.entry(n.full_len()).or_default().push(id);
                continue;
            }
            whole.extend(
                deletion_variants(&n.chars, k, 0)
                    .into_iter()
                    .map(|h| (h, id)),
            );
            if let Some(ext) = &n.ext {
                let k = max_edits(n.stem_len, rule.threshold, min_length);
                let salt = extension_salt(ext);
                stems.extend(
                    deletion_variants(&n.chars[..n.stem_len], k, salt)
                        .into_iter()
                        .map(|h| (h, id)),
                );
            }
        }
        whole.sort_unstable();
        stems.sort_unstable();
        NormalIndex {
            names,
            bags: names.iter().map(|n| bag(&n.chars)).collect(),
            stem_bags: names.iter().map(|n| bag(&n.chars[..n.stem_len])).collect(),
            whole,
            stems,
            long,
            by_len,
            threshold: rule.threshold,
            min_length,
        }
    }

    /// The best score the pair could reach given a lower bound of its distance.
    fn score_bound(rule: &ScoreRule, la: usize, lb: usize, min_distance: usize) -> f64 {
        let longest = la.max(lb);
        let denominator = if rule.seed_compatible {
            longest
        } else {
            longest.max(rule.min_length)
        };
        if denominator == 0 {
            return 1.0;
        }
        let bound = normalise(min_distance, denominator);
        // The seed rounds to f32, which can round up: leave room for it.
        if rule.seed_compatible {
            bound + 1e-6
        } else {
            bound
        }
    }

    /// The whole-name lengths a partner of a name of `len` characters can have and still
    /// pass: the length difference is a lower bound of the distance.
    fn length_window(&self, len: usize) -> std::ops::RangeInclusive<usize> {
        let slack = (1.0 - self.threshold).max(0.0);
        let reach = slack * (len as f64 / self.threshold.max(1e-9)).max(self.min_length as f64);
        let lo = (len as f64 - reach - 1.0).floor().max(0.0) as usize;
        let hi = (len as f64 + reach + 1.0).ceil() as usize;
        lo..=hi
    }

    /// Frequent names sharing a deletion variant with `chars`, plus the unindexed long names of
    /// similar length (sorted, distinct); every frequent name of similar length when `chars`
    /// itself is too long to query. `whole_len` is the rare name's whole length.
    fn candidates(
        &self,
        variants: &[(u64, u32)],
        chars: &[char],
        salt: u64,
        whole_len: usize,
    ) -> Vec<u32> {
        let window = self.length_window(whole_len);
        let k = max_edits(chars.len(), self.threshold, self.min_length);
        let mut out: Vec<u32> = Vec::new();
        if k > INDEXED_EDITS {
            for ids in self.by_len.range(window).map(|(_, ids)| ids) {
                out.extend_from_slice(ids);
            }
            return out;
        }
        for ids in self.long.range(window).map(|(_, ids)| ids) {
            out.extend_from_slice(ids);
        }
        for h in deletion_variants(chars, k, salt) {
            let start = variants.partition_point(|(v, _)| *v < h);
            out.extend(
                variants[start..]
                    .iter()
                    .take_while(|(v, _)| *v == h)
                    .map(|(_, id)| *id),
            );
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Look-alikes of one infrequent name, and the best score among the pairs examined (a lower
    /// bound of its best score over all frequent names when no pair passes).
    pub fn matches_of(
        &self,
        rare_index: usize,
        a: &NameKey,
        rule: &ScoreRule,
    ) -> (Vec<Match>, f64) {
        let mut found = Vec::new();
        let mut best = 0.0f64;
        if rule.seed_compatible && !a.has_dot() {
            return (found, best);
        }
        let a_bag = bag(&a.chars);
        let a_stem_bag = bag(&a.chars[..a.stem_len]);
        let mut consider = |j: usize, same_ext: bool| {
            let b = &self.names[j];
            if rule.seed_compatible && !b.has_dot() {
                return;
            }
            let (la, lb, lower) = if same_ext {
                (
                    a.stem_len,
                    b.stem_len,
                    bag_distance(&a_stem_bag, &self.stem_bags[j]),
                )
            } else {
                (
                    a.full_len(),
                    b.full_len(),
                    bag_distance(&a_bag, &self.bags[j]),
                )
            };
            if Self::score_bound(rule, la, lb, lower) <= rule.threshold {
                return;
            }
            let pair = score_pair(a, b, rule);
            best = best.max(pair.score);
            if is_look_alike(a, b, &pair, rule) {
                found.push(Match {
                    rare: rare_index,
                    normal: j,
                    pair,
                });
            }
        };
        if let Some(ext) = &a.ext {
            let stem = &a.chars[..a.stem_len];
            for j in self.candidates(&self.stems, stem, extension_salt(ext), a.full_len()) {
                // The salt makes collisions across extensions unlikely, not impossible.
                if same_extension(a, &self.names[j as usize]) {
                    consider(j as usize, true);
                }
            }
        }
        for j in self.candidates(&self.whole, &a.chars, 0, a.full_len()) {
            if !same_extension(a, &self.names[j as usize]) {
                consider(j as usize, false);
            }
        }
        found.sort_by(|x, y| {
            y.pair
                .score
                .total_cmp(&x.pair.score)
                .then(x.normal.cmp(&y.normal))
        });
        (found, best)
    }
}

/// The infrequent × frequent join with pruning; returns the same look-alike pairs as
/// [`join_naive`] (in rare-name order, best match first).
pub fn join_pruned(rare: &[NameKey], normal: &[NameKey], rule: &ScoreRule) -> Vec<Match> {
    use rayon::prelude::*;
    let index = NormalIndex::new(normal, rule);
    rare.par_iter()
        .enumerate()
        .map(|(i, a)| index.matches_of(i, a, rule).0)
        .collect::<Vec<_>>()
        .into_iter()
        .flatten()
        .collect()
}

/// One step of the edit that turns one name into the other.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Edit {
    /// A character replaced.
    Substitute {
        /// 0-based position in the normal name.
        at: usize,
        /// Character in the normal name.
        normal: char,
        /// Character in the rare name.
        rare: char,
    },
    /// A character the rare name adds.
    Insert {
        /// Position in the normal name before which it is inserted.
        at: usize,
        /// The character.
        rare: char,
    },
    /// A character the rare name lacks.
    Delete {
        /// Position in the normal name.
        at: usize,
        /// The character.
        normal: char,
    },
    /// Two adjacent characters swapped.
    Transpose {
        /// Position of the first in the normal name.
        at: usize,
        /// The two characters as the normal name has them.
        normal: String,
    },
}

impl std::fmt::Display for Edit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Edit::Substitute { at, normal, rare } => write!(f, "'{normal}'→'{rare}' at {at}"),
            Edit::Insert { at, rare } => write!(f, "+'{rare}' at {at}"),
            Edit::Delete { at, normal } => write!(f, "-'{normal}' at {at}"),
            Edit::Transpose { at, normal } => write!(f, "swapped '{normal}' at {at}"),
        }
    }
}

/// An edit script from `normal` to `rare` (optimal string alignment with a backtrace; equal to
/// the Damerau-Levenshtein distance for the one- and two-edit pairs that matter here, and at
/// worst a slightly longer but valid script).
pub fn edit_script(normal: &str, rare: &str) -> Vec<Edit> {
    let a: Vec<char> = normal.chars().collect();
    let b: Vec<char> = rare.chars().collect();
    let (n, m) = (a.len(), b.len());
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    let mut edits = Vec::new();
    let (mut i, mut j) = (n, m);
    while i > 0 || j > 0 {
        if i > 1
            && j > 1
            && a[i - 1] == b[j - 2]
            && a[i - 2] == b[j - 1]
            && a[i - 1] != a[i - 2]
            && d[i][j] == d[i - 2][j - 2] + 1
        {
            edits.push(Edit::Transpose {
                at: i - 2,
                normal: [a[i - 2], a[i - 1]].iter().collect(),
            });
            i -= 2;
            j -= 2;
        } else if i > 0 && j > 0 && d[i][j] == d[i - 1][j - 1] + usize::from(a[i - 1] != b[j - 1]) {
            if a[i - 1] != b[j - 1] {
                edits.push(Edit::Substitute {
                    at: i - 1,
                    normal: a[i - 1],
                    rare: b[j - 1],
                });
            }
            i -= 1;
            j -= 1;
        } else if i > 0 && d[i][j] == d[i - 1][j] + 1 {
            edits.push(Edit::Delete {
                at: i - 1,
                normal: a[i - 1],
            });
            i -= 1;
        } else {
            edits.push(Edit::Insert {
                at: i,
                rare: b[j - 1],
            });
            j -= 1;
        }
    }
    edits.reverse();
    edits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(seed: bool) -> ScoreRule {
        ScoreRule {
            threshold: 0.85,
            min_length: if seed { 0 } else { 7 },
            seed_compatible: seed,
            ignore_digit_changes: !seed,
        }
    }

    fn key(s: &str) -> NameKey {
        NameKey::new(s)
    }

    #[test]
    fn seed_scores_and_quirks() {
        let r = rule(true);
        let p = score_pair(&key("svch0st.exe"), &key("svchost.exe"), &r);
        assert_eq!(p.distance, 1);
        assert!((p.similarity - 6.0 / 7.0).abs() < 1e-15);
        assert_eq!(p.score, f64::from((6.0f64 / 7.0) as f32));
        // No dot: the notebook returns 0.0.
        assert_eq!(score_pair(&key("svchost"), &key("svch0st"), &r).score, 0.0);
        // Different extensions: full names compared.
        let p = score_pair(&key("svchost.com"), &key("svchost.exe"), &r);
        assert_eq!(p.distance, 3);
        // Short stems are the seed's blind spot.
        assert!(score_pair(&key("cnd.exe"), &key("cmd.exe"), &r).score < 0.85);
    }

    #[test]
    fn default_closes_the_short_stem_blind_spot() {
        let r = rule(false);
        for (rare, normal) in [
            ("cnd.exe", "cmd.exe"),
            ("nett.exe", "net.exe"),
            ("scvhost.exe", "svchost.exe"),
        ] {
            let (a, b) = (key(rare), key(normal));
            let p = score_pair(&a, &b, &r);
            assert!(is_look_alike(&a, &b, &p, &r), "{rare} vs {normal}: {p:?}");
        }
        // Two edits in a short stem are not a look-alike; digit-only changes are version noise.
        let (a, b) = (key("cxx.exe"), key("cmd.exe"));
        assert!(!is_look_alike(&a, &b, &score_pair(&a, &b, &r), &r));
        let (a, b) = (key("vcredist_x64.exe"), key("vcredist_x86.exe"));
        assert!(!is_look_alike(&a, &b, &score_pair(&a, &b, &r), &r));
        let (a, b) = (key("svch0st.exe"), key("svchost.exe"));
        assert!(is_look_alike(&a, &b, &score_pair(&a, &b, &r), &r));
    }

    #[test]
    fn bag_distance_bounds_edit_distance() {
        for (a, b) in [
            ("abc", "acb"),
            ("svchost", "scvhost"),
            ("", "abc"),
            ("kitten", "sitting"),
        ] {
            let (ca, cb): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
            assert!(bag_distance(&bag(&ca), &bag(&cb)) <= distance_chars(&ca, &cb));
        }
    }

    #[test]
    fn edit_scripts_read_well() {
        let show = |a, b| {
            edit_script(a, b)
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        assert_eq!(show("svchost", "svch0st"), "'o'→'0' at 4");
        assert_eq!(show("svchost", "scvhost"), "swapped 'vc' at 1");
        assert_eq!(show("lsass", "lsasss"), "+'s' at 3");
        assert_eq!(show("explorer", "explrer"), "-'o' at 4");
        assert!(edit_script("same", "same").is_empty());
    }
}
