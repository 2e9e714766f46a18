//! Evaluation metrics for anomaly scores against labels.
//!
//! Used by the reference tests and benchmarks (how well does a detector rank the known-bad
//! subjects of a labelled data set?) and by anyone evaluating oddhunt on their own labelled
//! data. Scores are oriented "higher = more likely positive" (oddhunt's "higher = odder");
//! labels are `true` for a positive (an anomaly, an attack).
//!
//! Each function reproduces a reference: [`roc_auc`] is scikit-learn's `roc_auc_score` (tied
//! scores form one step of the ROC curve and are integrated by the trapezoid rule, which equals
//! the Mann–Whitney statistic with average ranks), [`average_precision`] is scikit-learn's
//! `average_precision_score` (one threshold per distinct score, no interpolation),
//! [`spearman`] is `scipy.stats.spearmanr` (Pearson correlation of average ranks).
//! [`precision_at_k`] and [`recall_at_k`] have no scikit-learn counterpart; ties at the cut are
//! counted by their expected share so the result never depends on row order.

/// Errors of the metrics.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetricsError {
    /// Scores and labels (or the two series) differ in length.
    #[error("{left} scores but {right} labels/values: they must pair up one to one")]
    LengthMismatch {
        /// Length of the first input.
        left: usize,
        /// Length of the second input.
        right: usize,
    },
    /// Nothing to evaluate.
    #[error("no scores to evaluate")]
    Empty,
    /// A NaN or infinite score.
    #[error("score {index} is {value}: scores must be finite numbers")]
    NotFinite {
        /// 0-based position.
        index: usize,
        /// The value.
        value: f64,
    },
    /// The metric needs both classes (or at least one positive).
    #[error("{positives} positive and {negatives} negative labels: the metric needs {needed}")]
    Classes {
        /// Positives seen.
        positives: usize,
        /// Negatives seen.
        negatives: usize,
        /// What is needed, in words.
        needed: &'static str,
    },
    /// `k` outside `1..=n`.
    #[error("k = {k} is outside 1..={n} (the number of scores)")]
    BadK {
        /// Requested k.
        k: usize,
        /// Number of scores.
        n: usize,
    },
    /// A constant series has no rank correlation.
    #[error("series {which} is constant: rank correlation is undefined")]
    Constant {
        /// 1 or 2.
        which: u8,
    },
}

fn check_scores(scores: &[f64], labels_len: usize) -> Result<(), MetricsError> {
    if scores.len() != labels_len {
        return Err(MetricsError::LengthMismatch {
            left: scores.len(),
            right: labels_len,
        });
    }
    if scores.is_empty() {
        return Err(MetricsError::Empty);
    }
    if let Some(index) = scores.iter().position(|s| !s.is_finite()) {
        return Err(MetricsError::NotFinite {
            index,
            value: scores[index],
        });
    }
    Ok(())
}

/// Tie groups of the scores in descending order: `(positives, negatives)` per distinct score.
fn descending_groups(scores: &[f64], labels: &[bool]) -> Vec<(usize, usize)> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut groups: Vec<(usize, usize)> = Vec::new();
    let mut last: Option<f64> = None;
    for i in order {
        // `==` so that -0.0 and 0.0 tie, as numpy's comparison does.
        if last != Some(scores[i]) {
            groups.push((0, 0));
            last = Some(scores[i]);
        }
        if let Some(g) = groups.last_mut() {
            if labels[i] {
                g.0 += 1;
            } else {
                g.1 += 1;
            }
        }
    }
    groups
}

fn class_counts(labels: &[bool]) -> (usize, usize) {
    let p = labels.iter().filter(|&&l| l).count();
    (p, labels.len() - p)
}

/// Area under the ROC curve, as scikit-learn's `roc_auc_score(labels, scores)`.
pub fn roc_auc(scores: &[f64], labels: &[bool]) -> Result<f64, MetricsError> {
    check_scores(scores, labels.len())?;
    let (p, n) = class_counts(labels);
    if p == 0 || n == 0 {
        return Err(MetricsError::Classes {
            positives: p,
            negatives: n,
            needed: "both positives and negatives",
        });
    }
    // Trapezoids between consecutive thresholds, in counts; normalised at the end.
    let mut area = 0.0;
    let mut tp = 0usize;
    for (gp, gn) in descending_groups(scores, labels) {
        area += gn as f64 * (2 * tp + gp) as f64 / 2.0;
        tp += gp;
    }
    Ok(area / (p as f64 * n as f64))
}

/// Average precision, as scikit-learn's `average_precision_score(labels, scores)`:
/// `Σ (R_i − R_{i−1}) · P_i` over the distinct scores in descending order.
pub fn average_precision(scores: &[f64], labels: &[bool]) -> Result<f64, MetricsError> {
    check_scores(scores, labels.len())?;
    let (p, n) = class_counts(labels);
    if p == 0 {
        return Err(MetricsError::Classes {
            positives: p,
            negatives: n,
            needed: "at least one positive",
        });
    }
    let mut ap = 0.0;
    let (mut tp, mut fp) = (0usize, 0usize);
    for (gp, gn) in descending_groups(scores, labels) {
        tp += gp;
        fp += gn;
        if gp > 0 {
            ap += (gp as f64 / p as f64) * (tp as f64 / (tp + fp) as f64);
        }
    }
    Ok(ap)
}

/// Area under the precision–recall curve; the same number as [`average_precision`] (the
/// step-wise area scikit-learn reports, not the optimistic trapezoid).
pub fn pr_auc(scores: &[f64], labels: &[bool]) -> Result<f64, MetricsError> {
    average_precision(scores, labels)
}

/// Expected positives among the `k` highest scores; a tie group straddling the cut contributes
/// its share of positives in proportion to the places left.
fn positives_in_top(scores: &[f64], labels: &[bool], k: usize) -> Result<f64, MetricsError> {
    check_scores(scores, labels.len())?;
    if k == 0 || k > scores.len() {
        return Err(MetricsError::BadK { k, n: scores.len() });
    }
    let mut left = k;
    let mut hits = 0.0;
    for (gp, gn) in descending_groups(scores, labels) {
        let size = gp + gn;
        if size <= left {
            hits += gp as f64;
            left -= size;
        } else {
            hits += gp as f64 * left as f64 / size as f64;
            left = 0;
        }
        if left == 0 {
            break;
        }
    }
    Ok(hits)
}

/// Share of positives among the `k` highest scores (ties at the cut by expected share).
pub fn precision_at_k(scores: &[f64], labels: &[bool], k: usize) -> Result<f64, MetricsError> {
    Ok(positives_in_top(scores, labels, k)? / k as f64)
}

/// Share of all positives found among the `k` highest scores (ties at the cut by expected share).
pub fn recall_at_k(scores: &[f64], labels: &[bool], k: usize) -> Result<f64, MetricsError> {
    let hits = positives_in_top(scores, labels, k)?;
    let (p, n) = class_counts(labels);
    if p == 0 {
        return Err(MetricsError::Classes {
            positives: p,
            negatives: n,
            needed: "at least one positive",
        });
    }
    Ok(hits / p as f64)
}

/// 1-based ranks with ties given their average rank (scipy's `rankdata(method='average')`).
pub fn average_ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // Positions start..end (0-based) hold ranks start+1..=end: their mean.
        let rank = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        start = end;
    }
    ranks
}

/// Spearman rank correlation, as `scipy.stats.spearmanr(a, b).statistic`.
pub fn spearman(a: &[f64], b: &[f64]) -> Result<f64, MetricsError> {
    check_scores(a, b.len())?;
    if let Some(index) = b.iter().position(|s| !s.is_finite()) {
        return Err(MetricsError::NotFinite {
            index,
            value: b[index],
        });
    }
    let ra = average_ranks(a);
    let rb = average_ranks(b);
    let n = a.len() as f64;
    let ma = ra.iter().sum::<f64>() / n;
    let mb = rb.iter().sum::<f64>() / n;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in ra.iter().zip(&rb) {
        let (dx, dy) = (x - ma, y - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    if saa == 0.0 {
        return Err(MetricsError::Constant { which: 1 });
    }
    if sbb == 0.0 {
        return Err(MetricsError::Constant { which: 2 });
    }
    Ok((sab / (saa.sqrt() * sbb.sqrt())).clamp(-1.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_and_inverted_rankings() {
        let s = [0.1, 0.2, 0.8, 0.9];
        let l = [false, false, true, true];
        assert_eq!(roc_auc(&s, &l).unwrap(), 1.0);
        assert_eq!(average_precision(&s, &l).unwrap(), 1.0);
        let inv: Vec<f64> = s.iter().map(|x| -x).collect();
        assert_eq!(roc_auc(&inv, &l).unwrap(), 0.0);
        assert_eq!(precision_at_k(&s, &l, 2).unwrap(), 1.0);
        assert_eq!(recall_at_k(&s, &l, 1).unwrap(), 0.5);
    }

    #[test]
    fn all_tied_scores_are_chance() {
        let s = [0.5; 6];
        let l = [true, false, false, true, false, false];
        assert_eq!(roc_auc(&s, &l).unwrap(), 0.5);
        // One threshold: precision = prevalence.
        assert!((average_precision(&s, &l).unwrap() - 1.0 / 3.0).abs() < 1e-15);
        // Two of six are positive, so any three places hold one positive on average.
        assert!((precision_at_k(&s, &l, 3).unwrap() - 1.0 / 3.0).abs() < 1e-15);
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert!(matches!(
            roc_auc(&[1.0], &[true, false]),
            Err(MetricsError::LengthMismatch { .. })
        ));
        assert!(matches!(
            roc_auc(&[1.0, 2.0], &[true, true]),
            Err(MetricsError::Classes { .. })
        ));
        assert!(matches!(
            roc_auc(&[1.0, f64::NAN], &[true, false]),
            Err(MetricsError::NotFinite { index: 1, .. })
        ));
        assert!(matches!(
            precision_at_k(&[1.0, 2.0], &[true, false], 3),
            Err(MetricsError::BadK { k: 3, n: 2 })
        ));
        assert!(matches!(
            spearman(&[1.0, 1.0], &[1.0, 2.0]),
            Err(MetricsError::Constant { which: 1 })
        ));
        assert!(matches!(roc_auc(&[], &[]), Err(MetricsError::Empty)));
    }

    #[test]
    fn average_ranks_match_scipy_rankdata() {
        // scipy.stats.rankdata([3, 1, 4, 1, 5, 9, 2, 6, 5]) (method='average').
        let r = average_ranks(&[3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0]);
        assert_eq!(r, vec![4.0, 1.5, 5.0, 1.5, 6.5, 9.0, 3.0, 8.0, 6.5]);
    }
}
