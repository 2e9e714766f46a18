//! Reference test: oddhunt's name similarity equals the seed notebook's library,
//! `fastDamerauLevenshtein.damerauLevenshtein(a, b)` (default arguments), bit for bit, on the
//! 4,509 pairs of `../shared/fixtures/strings/damerau_levenshtein.jsonl` that the package
//! produced (mutated Windows process names, tiny-alphabet strings that force transpositions,
//! edge cases).

use oddhunt_detect::masquerade::similarity::{score_pair, similarity, NameKey, ScoreRule};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/strings/damerau_levenshtein.jsonl"
);

/// Reads Python's `float.hex()` (`0x1.d555555555555p-1`, `0x0.0p+0`) exactly.
fn from_python_hex(text: &str) -> f64 {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text),
    };
    let rest = rest.strip_prefix("0x").expect("hex float");
    let (mantissa, exponent) = rest.split_once('p').expect("exponent");
    let (lead, frac) = mantissa.split_once('.').unwrap_or((mantissa, "0"));
    let mut value = u64::from_str_radix(lead, 16).unwrap() as f64;
    let mut scale = 1.0 / 16.0;
    for digit in frac.chars() {
        value += digit.to_digit(16).unwrap() as f64 * scale;
        scale /= 16.0;
    }
    let exponent: i32 = exponent.parse().unwrap();
    let v = value * 2f64.powi(exponent);
    if negative {
        -v
    } else {
        v
    }
}

#[test]
fn similarity_equals_fast_damerau_levenshtein_bit_for_bit() {
    let text = std::fs::read_to_string(FIXTURE).expect("fixture present (../shared)");
    let plain = ScoreRule {
        threshold: 0.85,
        min_length: 0,
        seed_compatible: false,
        ignore_digit_changes: false,
    };
    let mut checked = 0;
    let mut mismatches = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let row: serde_json::Value = serde_json::from_str(line).unwrap();
        let a = row["a"].as_str().unwrap();
        let b = row["b"].as_str().unwrap();
        let expected = from_python_hex(row["similarity_bits"].as_str().unwrap());
        assert_eq!(
            expected,
            row["similarity"].as_f64().unwrap(),
            "fixture itself: {line}"
        );
        let ours = similarity(a, b);
        if ours.to_bits() != expected.to_bits() {
            mismatches.push(format!("{a:?} vs {b:?}: ours {ours}, reference {expected}"));
        }
        // The detector's own pair scoring computes the same number when whole names are
        // compared (different or no extensions).
        let (ka, kb) = (NameKey::new(a), NameKey::new(b));
        let same_ext = matches!((a.rsplit_once('.'), b.rsplit_once('.')), (Some((_, x)), Some((_, y))) if x == y);
        if !same_ext {
            let pair = score_pair(&ka, &kb, &plain);
            if pair.similarity.to_bits() != expected.to_bits() {
                mismatches.push(format!(
                    "score_pair {a:?} vs {b:?}: {} vs {expected}",
                    pair.similarity
                ));
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 4509);
    assert!(
        mismatches.is_empty(),
        "{} mismatches, e.g. {:?}",
        mismatches.len(),
        &mismatches[..mismatches.len().min(5)]
    );
}
