//! Full explanations for the highest-scored sessions only.
//!
//! A session's full explanation (its first 200 commands, every step's probabilities, the rare
//! and unseen parameters and values) takes about 15 kB in memory, and every scored session is
//! held until the batch threshold is known: 1M events made 2 GB. Only the sessions an analyst
//! reads need all of it, so [`ExplainTop`] keeps full explanations for the [`EXPLAIN_TOP`]
//! highest-scored sessions and a lean one for the rest — session id, keys, times, counts,
//! likelihoods, the rarest window and the unseen commands: what the timeline, the `--all`
//! output and a row-by-row comparison with msticpy read.

use oddhunt_core::Scored;
use serde_json::Value;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Sessions with a full explanation (far more than any threshold reports).
pub const EXPLAIN_TOP: usize = 10_000;

/// Parts of an explanation only the full one carries.
const DETAIL: [&str; 7] = [
    "commands",
    "steps",
    "unseen_params",
    "rare_params",
    "unseen_values",
    "rare_values",
    "missing_usual_params",
];

/// A score ordered totally; NaN (unscored) lowest.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Key(f64);

impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Key {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let v = |k: &Key| if k.0.is_nan() { f64::NEG_INFINITY } else { k.0 };
        v(self).total_cmp(&v(other))
    }
}

/// Scored sessions in arrival order, the `limit` highest with full explanations.
pub struct ExplainTop {
    limit: usize,
    scored: Vec<Scored>,
    /// The sessions holding a full explanation, lowest score (then latest arrival) on top.
    full: BinaryHeap<Reverse<(Key, Reverse<usize>)>>,
}

impl Default for ExplainTop {
    fn default() -> Self {
        ExplainTop::new(EXPLAIN_TOP)
    }
}

impl ExplainTop {
    /// Keeps full explanations for the `limit` highest scores (earlier sessions win ties).
    pub fn new(limit: usize) -> Self {
        ExplainTop {
            limit,
            scored: Vec::new(),
            full: BinaryHeap::new(),
        }
    }

    /// Takes the next scored session.
    pub fn push(&mut self, mut scored: Scored) {
        let index = self.scored.len();
        let key = (Key(scored.score), Reverse(index));
        if self.full.len() < self.limit {
            self.full.push(Reverse(key));
        } else if self.full.peek().is_some_and(|Reverse(low)| key > *low) {
            if let Some(Reverse((_, Reverse(dropped)))) = self.full.pop() {
                slim(&mut self.scored[dropped]);
            }
            self.full.push(Reverse(key));
        } else {
            slim(&mut scored);
        }
        self.scored.push(scored);
    }

    /// The scored sessions, in the order they came.
    pub fn into_scored(self) -> Vec<Scored> {
        self.scored
    }
}

/// Drops the detail of an explanation and says so (`"detail": "lean"`).
fn slim(scored: &mut Scored) {
    if let Value::Object(map) = &mut scored.explanation {
        for key in DETAIL {
            map.remove(key);
        }
        map.insert("detail".into(), "lean".into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oddhunt_core::Measure;
    use serde_json::json;

    fn session(id: usize, score: f64) -> Scored {
        let mut s = Scored::new(format!("s{id}"), score, Measure::new("likelihood", 0.1));
        s.explanation = json!({"session_id": id, "commands": ["a", "b"], "steps": [1, 2],
            "rarest_window": {"commands": ["a"]}});
        s
    }

    #[test]
    fn only_the_highest_keep_their_detail_whatever_the_order() {
        let scores = [0.5, 3.0, f64::NAN, 2.0, 9.0, 2.0, 0.1];
        let mut top = ExplainTop::new(3);
        for (i, &s) in scores.iter().enumerate() {
            top.push(session(i, s));
        }
        let scored = top.into_scored();
        assert_eq!(scored.len(), scores.len());
        let full: Vec<&str> = scored
            .iter()
            .filter(|s| s.explanation.get("steps").is_some())
            .map(|s| s.subject.as_str())
            .collect();
        // 9.0, 3.0 and the first of the two 2.0s.
        assert_eq!(full, ["s1", "s3", "s4"]);
        for s in &scored {
            let lean = s.explanation.get("detail") == Some(&json!("lean"));
            assert_eq!(lean, !full.contains(&s.subject.as_str()), "{}", s.subject);
            // The rarest window stays in every explanation.
            assert_eq!(s.explanation["rarest_window"]["commands"], json!(["a"]));
        }
    }
}
