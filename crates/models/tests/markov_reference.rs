//! An independent, literal transcription of msticpy's cmds_only training (string-keyed maps,
//! the smoothing loops over every pair of keys) checked against the model, for a small
//! vocabulary (dense transition table) and one above the dense limit (sparse lookups).

use std::collections::HashMap;

use oddhunt_models::markov::{Command, MarkovCounts, MarkovModel, ScoreOptions, SessionType};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const START: &str = "##START##";
const END: &str = "##END##";
const UNK: &str = "##UNK##";

/// msticpy's compute_counts + laplace_smooth_cmd_counts + compute_cmds_probs, key for key.
struct Literal {
    prior: HashMap<String, f64>,
    trans: HashMap<String, HashMap<String, f64>>,
}

impl Literal {
    fn train(sessions: &[Vec<String>]) -> Self {
        let mut keys: Vec<String> = Vec::new();
        let mut seq1: HashMap<String, u64> = HashMap::new();
        let mut seq2: HashMap<String, HashMap<String, u64>> = HashMap::new();
        let mut bump = |seq1: &mut HashMap<String, u64>, k: &str| {
            if !seq1.contains_key(k) {
                keys.push(k.to_string());
            }
            *seq1.entry(k.to_string()).or_insert(0) += 1;
        };
        for s in sessions {
            bump(&mut seq1, START);
            let mut prev = START.to_string();
            for c in s {
                bump(&mut seq1, c);
                *seq2
                    .entry(prev.clone())
                    .or_default()
                    .entry(c.clone())
                    .or_insert(0) += 1;
                prev = c.clone();
            }
            *seq2
                .entry(prev)
                .or_default()
                .entry(END.to_string())
                .or_insert(0) += 1;
            bump(&mut seq1, END);
        }
        let mut cmds = keys.clone();
        cmds.push(UNK.to_string());
        for a in &cmds {
            for b in &cmds {
                if a != END && b != START {
                    *seq1.entry(a.clone()).or_insert(0) += 1;
                    *seq2
                        .entry(a.clone())
                        .or_default()
                        .entry(b.clone())
                        .or_insert(0) += 1;
                    *seq1.entry(b.clone()).or_insert(0) += 1;
                }
            }
        }
        let total: u64 = seq1.values().sum();
        let prior = seq1
            .iter()
            .map(|(k, &n)| (k.clone(), n as f64 / total as f64))
            .collect();
        let trans = seq2
            .iter()
            .map(|(a, row)| {
                let sum: u64 = row.values().sum();
                (
                    a.clone(),
                    row.iter()
                        .map(|(b, &n)| (b.clone(), n as f64 / sum as f64))
                        .collect(),
                )
            })
            .collect();
        Literal { prior, trans }
    }

    fn prior(&self, x: &str) -> f64 {
        *self.prior.get(x).unwrap_or(&self.prior[UNK])
    }

    fn trans(&self, a: &str, b: &str) -> f64 {
        let row = self.trans.get(a).unwrap_or(&self.trans[UNK]);
        *row.get(b).unwrap_or(&row[UNK])
    }

    /// compute_likelihood_windows_in_session with tokens, no geometric mean.
    fn windows(&self, session: &[String], l: usize) -> Vec<f64> {
        let mut seq = session.to_vec();
        seq.push(END.to_string());
        if seq.len() < l {
            return Vec::new();
        }
        (0..=seq.len() - l)
            .map(|i| {
                let w = &seq[i..i + l];
                let mut lik = if i == 0 {
                    self.trans(START, &w[0])
                } else {
                    self.prior(&w[0])
                };
                for j in 1..l {
                    lik *= self.trans(&w[j - 1], &w[j]);
                }
                lik
            })
            .collect()
    }
}

fn check(vocabulary: usize, sessions: usize, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let train: Vec<Vec<String>> = (0..sessions)
        .map(|_| {
            let len = rng.random_range(1..8usize);
            (0..len)
                .map(|_| format!("cmd{}", rng.random_range(0..vocabulary)))
                .collect()
        })
        .collect();
    let literal = Literal::train(&train);
    let mut counts = MarkovCounts::new(SessionType::CmdsOnly);
    let as_commands = |s: &[String]| s.iter().map(Command::new).collect::<Vec<_>>();
    for s in &train {
        counts.observe(&as_commands(s)).expect("observe");
    }
    let model = MarkovModel::fit(counts, None).expect("fit");
    let opts = ScoreOptions {
        window_len: 3,
        use_start_end_tokens: true,
        use_geo_mean: false,
    };
    let mut score = train.clone();
    // Unseen commands and commands named like tokens.
    score.push(vec![
        "never-seen".into(),
        "cmd1".into(),
        START.into(),
        END.into(),
        UNK.into(),
    ]);
    for s in &score {
        let mine = model
            .window_likelihoods(&as_commands(s), &opts)
            .expect("windows");
        let theirs = literal.windows(s, 3);
        assert_eq!(mine.len(), theirs.len());
        for (m, t) in mine.iter().zip(&theirs) {
            assert_eq!(
                m.to_bits(),
                t.to_bits(),
                "vocabulary {vocabulary}, session {s:?}"
            );
        }
    }
}

#[test]
fn small_vocabulary_matches_literal_msticpy() {
    check(40, 300, 1);
}

#[test]
fn large_vocabulary_matches_literal_msticpy() {
    // Above the dense-table limit: the sparse lookups are the ones scored.
    check(1_500, 1_200, 2);
}
