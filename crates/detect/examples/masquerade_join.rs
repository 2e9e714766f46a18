//! Benchmark: the masquerade detector's pruned infrequent × frequent join against the naive
//! cross join, on the names of a process-creation CSV (column `NewProcessName`). Both joins run
//! on all cores; the results must be identical. Prints figures.
//!
//! `cargo run --release -p oddhunt-detect --example masquerade_join -- FILE.csv`

use oddhunt_detect::masquerade::percent_ranks;
use oddhunt_detect::masquerade::similarity::{
    is_look_alike, join_pruned, score_pair, Match, NameKey, ScoreRule,
};
use rayon::prelude::*;
use std::collections::HashMap;
use std::time::Instant;

fn naive_parallel(rare: &[NameKey], normal: &[NameKey], rule: &ScoreRule) -> Vec<Match> {
    rare.par_iter()
        .enumerate()
        .flat_map_iter(|(i, a)| {
            normal.iter().enumerate().filter_map(move |(j, b)| {
                let pair = score_pair(a, b, rule);
                is_look_alike(a, b, &pair, rule).then_some(Match {
                    rare: i,
                    normal: j,
                    pair,
                })
            })
        })
        .collect()
}

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: masquerade_join FILE.csv");
    let mut reader = csv::Reader::from_path(&path).expect("readable CSV");
    let column = reader
        .headers()
        .expect("header")
        .iter()
        .position(|h| h == "NewProcessName")
        .expect("a NewProcessName column");
    // The same split as the Python reference: read the column first, then time the method.
    let t = Instant::now();
    let paths: Vec<String> = reader
        .records()
        .map(|row| {
            row.expect("valid row")
                .get(column)
                .unwrap_or("")
                .to_string()
        })
        .collect();
    let _read_s = t.elapsed().as_secs_f64();
    let method = Instant::now();
    let mut counts: HashMap<String, u64> = HashMap::new();
    for path in &paths {
        let name = oddhunt_core::file_name(path).to_lowercase();
        *counts.entry(name).or_default() += 1;
    }
    let mut names: Vec<(String, u64)> = counts.into_iter().collect();
    names.sort();
    let ranks = percent_ranks(&names.iter().map(|(_, c)| *c).collect::<Vec<_>>());
    let count_rank_s = method.elapsed().as_secs_f64();
    let frequent: Vec<NameKey> = names
        .iter()
        .zip(&ranks)
        .filter(|(_, r)| **r >= 0.8)
        .map(|((n, _), _)| NameKey::new(n))
        .collect();
    let rare: Vec<NameKey> = names
        .iter()
        .zip(&ranks)
        .filter(|(_, r)| **r < 0.2)
        .map(|((n, _), _)| NameKey::new(n))
        .collect();
    println!(
        "{} names: {} infrequent × {} frequent = {} pairs",
        names.len(),
        rare.len(),
        frequent.len(),
        rare.len() * frequent.len()
    );
    for (label, rule) in [
        (
            "seed-compatible",
            ScoreRule {
                threshold: 0.85,
                min_length: 0,
                seed_compatible: true,
                ignore_digit_changes: false,
            },
        ),
        (
            "default",
            ScoreRule {
                threshold: 0.85,
                min_length: 7,
                seed_compatible: false,
                ignore_digit_changes: true,
            },
        ),
    ] {
        let t = Instant::now();
        let mut pruned: Vec<_> = join_pruned(&rare, &frequent, &rule)
            .into_iter()
            .map(|m| (m.rare, m.normal))
            .collect();
        let pruned_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let mut naive: Vec<_> = naive_parallel(&rare, &frequent, &rule)
            .into_iter()
            .map(|m| (m.rare, m.normal))
            .collect();
        let naive_s = t.elapsed().as_secs_f64();
        pruned.sort();
        naive.sort();
        println!(
            "{label:>16}: method (count + rank + pruned join) {:.2}s; pruned join {pruned_s:.3}s, naive join {naive_s:.2}s, ratio {:.0}x; {} pairs found, identical: {}",
            count_rank_s + pruned_s,
            naive_s / pruned_s,
            pruned.len(),
            pruned == naive
        );
    }
}
