//! Thresholds: which scored subjects become findings.
//!
//! Rules, as written on the command line (`--threshold`):
//!
//! | rule | meaning |
//! |---|---|
//! | `mean+6sd` | mean + 6 standard deviations (population, as numpy's `std`): the QFunction seed's rule; `mean+3σ` also reads |
//! | `q0.999` | the 0.999 quantile (linear interpolation, as numpy's default) |
//! | `top:50` | the 50 highest scores (ties at the cut are broken by order) |
//! | `contamination:0.01` | the top 1 %, as scikit-learn's `contamination` (= quantile 0.99) |
//! | `score>0.9` | a fixed cut on the score |
//!
//! A score is a finding when it is strictly greater than the cut (for `top:K`, when it is among
//! the K highest). NaN scores are never findings and are left out of the statistics.
//!
//! The cut is computed on the scored batch (`--threshold-basis batch`, the notebooks' way) or on
//! the training score distribution stored in the model ([`ScoreDistribution`], `train`), which
//! keeps the cut stable from one day's batch to the next.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A threshold rule.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// mean + k · standard deviation.
    MeanPlusSd(f64),
    /// A quantile in (0, 1).
    Quantile(f64),
    /// The k highest scores.
    Top(usize),
    /// The given share of subjects (scikit-learn's contamination).
    Contamination(f64),
    /// A fixed score.
    Above(f64),
}

/// Where a cut is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// On the scores of the batch being scored.
    #[default]
    Batch,
    /// On the training score distribution stored in the model.
    Train,
}

impl FromStr for Basis {
    type Err = ThresholdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "batch" => Ok(Basis::Batch),
            "train" | "training" => Ok(Basis::Train),
            _ => Err(ThresholdError::Syntax(format!(
                "threshold basis {s:?}: expected batch or train"
            ))),
        }
    }
}

impl fmt::Display for Basis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Basis::Batch => "batch",
            Basis::Train => "train",
        })
    }
}

/// Threshold errors.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ThresholdError {
    /// The rule text could not be read.
    #[error("{0}")]
    Syntax(String),
    /// The rule cannot be computed on this basis.
    #[error("{0}")]
    Basis(String),
}

impl FromStr for Rule {
    type Err = ThresholdError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let s: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase()
            .replace('σ', "sd")
            .replace("std", "sd")
            .replace("sigma", "sd");
        let bad = |why: &str| {
            ThresholdError::Syntax(format!(
                "threshold {text:?}: {why} (expected one of mean+6sd, q0.999, top:50, contamination:0.01, score>0.9)"
            ))
        };
        let number = |t: &str| -> Result<f64, ThresholdError> {
            t.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| bad(&format!("{t:?} is not a number")))
        };
        if let Some(rest) = s.strip_prefix("mean+") {
            let k = rest.strip_suffix("sd").ok_or_else(|| bad("missing 'sd'"))?;
            let k = if k.is_empty() {
                1.0
            } else {
                number(k.trim_end_matches('*'))?
            };
            if k < 0.0 {
                return Err(bad("k must not be negative"));
            }
            return Ok(Rule::MeanPlusSd(k));
        }
        if let Some(rest) = s.strip_prefix("quantile:").or_else(|| s.strip_prefix("q")) {
            let q = number(rest)?;
            if !(0.0..1.0).contains(&q) || q == 0.0 {
                return Err(bad("the quantile must be in (0, 1)"));
            }
            return Ok(Rule::Quantile(q));
        }
        if let Some(rest) = s.strip_prefix("top:").or_else(|| s.strip_prefix("top")) {
            let k: usize = rest
                .parse()
                .map_err(|_| bad(&format!("{rest:?} is not a count")))?;
            if k == 0 {
                return Err(bad("top:K needs K >= 1"));
            }
            return Ok(Rule::Top(k));
        }
        if let Some(rest) = s.strip_prefix("contamination:") {
            let c = number(rest.trim_end_matches('%'))?;
            let c = if rest.ends_with('%') { c / 100.0 } else { c };
            if !(c > 0.0 && c < 0.5) {
                return Err(bad("contamination must be in (0, 0.5)"));
            }
            return Ok(Rule::Contamination(c));
        }
        if let Some(rest) = s.strip_prefix("score>") {
            return Ok(Rule::Above(number(rest)?));
        }
        Err(bad("unknown rule"))
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::MeanPlusSd(k) => write!(f, "mean+{k}sd"),
            Rule::Quantile(q) => write!(f, "q{q}"),
            Rule::Top(k) => write!(f, "top:{k}"),
            Rule::Contamination(c) => write!(f, "contamination:{c}"),
            Rule::Above(v) => write!(f, "score>{v}"),
        }
    }
}

/// Summary statistics of finite scores.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Moments {
    /// Number of finite scores.
    pub count: usize,
    /// Mean.
    pub mean: f64,
    /// Population standard deviation.
    pub sd: f64,
}

/// Mean and population standard deviation of the finite values (two-pass, stable).
pub fn moments(values: &[f64]) -> Moments {
    let finite = || values.iter().copied().filter(|v| v.is_finite());
    let count = finite().count();
    if count == 0 {
        return Moments {
            count: 0,
            mean: f64::NAN,
            sd: f64::NAN,
        };
    }
    let mean = finite().sum::<f64>() / count as f64;
    let var = finite().map(|v| (v - mean) * (v - mean)).sum::<f64>() / count as f64;
    Moments {
        count,
        mean,
        sd: var.sqrt(),
    }
}

/// Quantile of sorted finite values with linear interpolation (numpy's default method).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let frac = pos - lo as f64;
    sorted[lo] + (sorted[hi] - sorted[lo]) * frac
}

fn sorted_finite(values: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v
}

/// The training score distribution kept in a model, for `--threshold-basis train`.
///
/// Keeps exact moments and up to [`ScoreDistribution::MAX_POINTS`] order statistics (all scores
/// when fewer), so quantiles are exact for small training sets and within one order-statistic
/// step for large ones.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoreDistribution {
    /// Number of finite training scores.
    pub count: usize,
    /// Their mean.
    pub mean: f64,
    /// Their population standard deviation.
    pub sd: f64,
    /// Order statistics at evenly spaced ranks, first = min, last = max.
    pub sorted_sample: Vec<f64>,
}

impl ScoreDistribution {
    /// Most order statistics kept.
    pub const MAX_POINTS: usize = 10_001;

    /// Summarises training scores.
    pub fn from_scores(scores: &[f64]) -> Self {
        let m = moments(scores);
        let sorted = sorted_finite(scores);
        let sorted_sample = if sorted.len() <= Self::MAX_POINTS {
            sorted
        } else {
            (0..Self::MAX_POINTS)
                .map(|i| quantile_sorted(&sorted, i as f64 / (Self::MAX_POINTS - 1) as f64))
                .collect()
        };
        ScoreDistribution {
            count: m.count,
            mean: if m.count == 0 { 0.0 } else { m.mean },
            sd: if m.count == 0 { 0.0 } else { m.sd },
            sorted_sample,
        }
    }

    /// Quantile of the training scores.
    pub fn quantile(&self, q: f64) -> f64 {
        quantile_sorted(&self.sorted_sample, q)
    }
}

/// A computed cut.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cut {
    /// The rule it came from.
    pub rule: Rule,
    /// Where it was computed.
    pub basis: Basis,
    /// The cut value: findings score strictly above it (for `top:K`, at or above it).
    pub value: f64,
    /// For `top:K`: at most this many findings.
    pub max_count: Option<usize>,
    /// Spread of the scores (standard deviation; falls back to the cut's distance from the
    /// median), the unit of the severity margin.
    pub spread: f64,
    /// How the cut was derived, for reports (e.g. "mean 0.012 + 6 × sd 0.004 on 10,000 batch
    /// scores = 0.036").
    pub derivation: String,
}

impl Cut {
    /// Computes the cut of `rule` on the batch `scores`, or on the training distribution.
    pub fn compute(
        rule: Rule,
        basis: Basis,
        batch_scores: &[f64],
        training: Option<&ScoreDistribution>,
    ) -> Result<Cut, ThresholdError> {
        let (sorted, m) = match basis {
            Basis::Batch => {
                let sorted = sorted_finite(batch_scores);
                let m = moments(&sorted);
                (sorted, m)
            }
            Basis::Train => {
                let dist = training.ok_or_else(|| {
                    ThresholdError::Basis(
                        "--threshold-basis train needs a model with a training score distribution"
                            .into(),
                    )
                })?;
                if matches!(rule, Rule::Top(_)) {
                    return Err(ThresholdError::Basis(
                        "top:K ranks the scored batch; it cannot be computed on the training basis"
                            .into(),
                    ));
                }
                (
                    dist.sorted_sample.clone(),
                    Moments {
                        count: dist.count,
                        mean: dist.mean,
                        sd: dist.sd,
                    },
                )
            }
        };
        let n = m.count;
        let on = format!("{n} {basis} scores");
        let (value, max_count, derivation) = match rule {
            Rule::MeanPlusSd(k) => {
                let v = m.mean + k * m.sd;
                (
                    v,
                    None,
                    format!(
                        "mean {} + {k} × sd {} on {on} = {}",
                        fmt_num(m.mean),
                        fmt_num(m.sd),
                        fmt_num(v)
                    ),
                )
            }
            Rule::Quantile(q) => {
                let v = quantile_sorted(&sorted, q);
                (v, None, format!("quantile {q} of {on} = {}", fmt_num(v)))
            }
            Rule::Contamination(c) => {
                let v = quantile_sorted(&sorted, 1.0 - c);
                (
                    v,
                    None,
                    format!(
                        "contamination {c}: quantile {} of {on} = {}",
                        1.0 - c,
                        fmt_num(v)
                    ),
                )
            }
            Rule::Top(k) => {
                let v = if sorted.is_empty() {
                    f64::NAN
                } else {
                    sorted[sorted.len().saturating_sub(k)]
                };
                (
                    v,
                    Some(k),
                    format!("the {k} highest of {on} (cut {})", fmt_num(v)),
                )
            }
            Rule::Above(v) => (v, None, format!("fixed cut {}", fmt_num(v))),
        };
        let median = quantile_sorted(&sorted, 0.5);
        let mut spread = m.sd;
        if !(spread.is_finite() && spread > 0.0) {
            spread = (value - median).abs();
        }
        if !(spread.is_finite() && spread > 0.0) {
            spread = value.abs().max(1e-12);
        }
        Ok(Cut {
            rule,
            basis,
            value,
            max_count,
            spread,
            derivation,
        })
    }

    /// Whether a score passes the cut (ignoring the `top:K` count limit, applied by
    /// [`Cut::select`]).
    pub fn passes(&self, score: f64) -> bool {
        if score.is_nan() || self.value.is_nan() {
            return false;
        }
        match self.rule {
            Rule::Top(_) => score >= self.value,
            _ => score > self.value,
        }
    }

    /// Indices of the scores that are findings, highest score first (ties keep input order).
    pub fn select(&self, scores: &[f64]) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..scores.len())
            .filter(|&i| self.passes(scores[i]))
            .collect();
        idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
        if let Some(k) = self.max_count {
            idx.truncate(k);
        }
        idx
    }

    /// How far past the cut a score is, in units of spread.
    pub fn margin(&self, score: f64) -> f64 {
        (score - self.value) / self.spread
    }
}

/// A number for derivation texts: 4 significant digits, no exponent for ordinary magnitudes.
pub fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    let a = v.abs();
    if a != 0.0 && !(1e-4..1e6).contains(&a) {
        format!("{v:.3e}")
    } else {
        let s = format!("{v:.4}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s.is_empty() || s == "-" {
            "0".into()
        } else {
            s.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rules() {
        assert_eq!("mean+6sd".parse::<Rule>().unwrap(), Rule::MeanPlusSd(6.0));
        assert_eq!("mean + 3σ".parse::<Rule>().unwrap(), Rule::MeanPlusSd(3.0));
        assert_eq!("q0.999".parse::<Rule>().unwrap(), Rule::Quantile(0.999));
        assert_eq!("top:50".parse::<Rule>().unwrap(), Rule::Top(50));
        assert_eq!(
            "contamination:0.01".parse::<Rule>().unwrap(),
            Rule::Contamination(0.01)
        );
        assert_eq!(
            "contamination:1%".parse::<Rule>().unwrap(),
            Rule::Contamination(0.01)
        );
        assert_eq!("score>0.9".parse::<Rule>().unwrap(), Rule::Above(0.9));
        for bad in [
            "",
            "mean",
            "q1.5",
            "top:0",
            "contamination:0.7",
            "score>x",
            "p99",
        ] {
            assert!(bad.parse::<Rule>().is_err(), "{bad}");
        }
        for r in [
            "mean+6sd",
            "q0.999",
            "top:50",
            "contamination:0.01",
            "score>0.9",
        ] {
            let rule: Rule = r.parse().unwrap();
            assert_eq!(rule.to_string().parse::<Rule>().unwrap(), rule);
        }
    }

    #[test]
    fn numpy_quantile_and_std() {
        let v = [1.0, 2.0, 3.0, 4.0, 10.0];
        // numpy.quantile(v, 0.9) == 7.6 ; numpy.std(v) == 3.1622776601683795
        assert!((quantile_sorted(&v, 0.9) - 7.6).abs() < 1e-12);
        let m = moments(&v);
        assert!((m.sd - 3.1622776601683795).abs() < 1e-12);
        assert_eq!(m.mean, 4.0);
    }

    #[test]
    fn cuts_select_the_right_subjects() {
        let scores = [0.1, 0.2, f64::NAN, 0.15, 5.0, 0.12, 0.11, 4.0];
        let cut = Cut::compute(Rule::MeanPlusSd(1.0), Basis::Batch, &scores, None).unwrap();
        assert_eq!(cut.select(&scores), vec![4, 7]);
        let top = Cut::compute(Rule::Top(1), Basis::Batch, &scores, None).unwrap();
        assert_eq!(top.select(&scores), vec![4]);
        let fixed = Cut::compute(Rule::Above(0.15), Basis::Batch, &scores, None).unwrap();
        assert_eq!(fixed.select(&scores), vec![4, 7, 1]);
        // Ties at a top-k cut: exactly k, earliest first.
        let tied = [1.0, 3.0, 3.0, 3.0];
        let top2 = Cut::compute(Rule::Top(2), Basis::Batch, &tied, None).unwrap();
        assert_eq!(top2.select(&tied), vec![1, 2]);
    }

    #[test]
    fn training_basis_uses_the_stored_distribution() {
        let train: Vec<f64> = (0..1000).map(|i| i as f64 / 1000.0).collect();
        let dist = ScoreDistribution::from_scores(&train);
        let cut = Cut::compute(Rule::Quantile(0.99), Basis::Train, &[], Some(&dist)).unwrap();
        assert!((cut.value - 0.98901).abs() < 1e-9);
        assert!(Cut::compute(Rule::Top(3), Basis::Train, &[], Some(&dist)).is_err());
        assert!(Cut::compute(Rule::Quantile(0.9), Basis::Train, &[], None).is_err());
        // Large distributions are summarised but keep min, max and moments exactly.
        let big: Vec<f64> = (0..100_000).map(|i| i as f64).collect();
        let d = ScoreDistribution::from_scores(&big);
        assert_eq!(d.sorted_sample.len(), ScoreDistribution::MAX_POINTS);
        assert_eq!(d.sorted_sample[0], 0.0);
        assert_eq!(*d.sorted_sample.last().unwrap(), 99_999.0);
        assert!((d.quantile(0.5) - 49_999.5).abs() < 10.0);
    }
}
