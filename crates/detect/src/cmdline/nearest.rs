//! "Normal looks like this": the most similar command line seen in training, by character
//! 3-grams, from a small bounded index, so an analyst sees next to an odd line what the usual
//! lines of the same executable look like.
//!
//! Similarity is the Jaccard index of the two lines' sets of byte 3-grams (lower-cased, with
//! start and end marks): cheap, order-insensitive enough for reordered switches, and 1 only for
//! the same line.

/// The sorted, distinct byte 3-grams of a line, packed into `u32`s.
pub fn gram_set(text: &str) -> Vec<u32> {
    let mut grams = byte_grams(text.as_bytes());
    grams.sort_unstable();
    grams.dedup();
    grams
}

/// The byte 3-grams of a line in order, with two start marks (0x02) and one end mark (0x03), so
/// even an empty line has one and short lines have as many grams as bytes + 1.
pub fn byte_grams(bytes: &[u8]) -> Vec<u32> {
    let mut out = Vec::with_capacity(bytes.len() + 1);
    let (mut a, mut b) = (0x02u32, 0x02u32);
    for &c in bytes.iter().chain(std::iter::once(&0x03u8)) {
        let c = u32::from(c.to_ascii_lowercase());
        out.push((a << 16) | (b << 8) | c);
        a = b;
        b = c;
    }
    out
}

/// Jaccard similarity of two sorted, distinct gram sets.
pub fn jaccard(a: &[u32], b: &[u32]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    common as f64 / (a.len() + b.len() - common) as f64
}

/// Candidate lines with their gram sets.
#[derive(Clone, Debug, Default)]
pub struct Candidates {
    items: Vec<(String, u64, Vec<u32>)>,
}

impl Candidates {
    /// An index over `(line, count)` pairs.
    pub fn new(lines: impl IntoIterator<Item = (String, u64)>) -> Self {
        Candidates {
            items: lines
                .into_iter()
                .map(|(line, count)| {
                    let grams = gram_set(&line);
                    (line, count, grams)
                })
                .collect(),
        }
    }

    /// Number of candidates.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The most similar candidate other than `text` itself: `(line, count, similarity)`; ties go
    /// to the more frequent line.
    pub fn nearest(&self, text: &str) -> Option<(&str, u64, f64)> {
        let grams = gram_set(text);
        self.items
            .iter()
            .filter(|(line, _, _)| line != text)
            .map(|(line, count, g)| (line.as_str(), *count, jaccard(&grams, g)))
            .max_by(|a, b| a.2.total_cmp(&b.2).then(a.1.cmp(&b.1)).then(b.0.cmp(a.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grams_and_similarity() {
        assert_eq!(byte_grams(b"").len(), 1);
        assert_eq!(byte_grams(b"ab").len(), 3);
        let a = gram_set("whoami /all");
        assert_eq!(jaccard(&a, &a), 1.0);
        let b = gram_set("whoami /user");
        let c = gram_set("net user /domain");
        assert!(jaccard(&a, &b) > jaccard(&a, &c));
        assert_eq!(jaccard(&[], &[]), 1.0);
    }

    #[test]
    fn nearest_prefers_similar_then_frequent() {
        let index = Candidates::new(vec![
            ("whoami /user".to_string(), 3),
            ("net user /domain".to_string(), 50),
            ("whoami /all".to_string(), 1),
        ]);
        let (line, count, sim) = index.nearest("whoami /all").unwrap();
        assert_eq!((line, count), ("whoami /user", 3), "itself is left out");
        assert!(sim > 0.3 && sim < 1.0);
        assert!(Candidates::default().nearest("x").is_none());
    }
}
