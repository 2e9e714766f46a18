//! Metrics against scikit-learn 1.9.1 / scipy 1.17.1 on a small tied data set.
//!
//! The data and expected numbers were computed once in a venv (`/work/venv-iforest`, numpy 2.4.6):
//!
//! ```python
//! rng = np.random.default_rng(7); n = 40
//! labels = rng.random(n) < 0.3
//! scores = np.round(rng.normal(size=n) + labels * 0.8, 1)      # rounded: many ties
//! other = np.round(scores + rng.normal(size=n) * 0.7, 1)
//! roc_auc_score(labels, scores); average_precision_score(labels, scores)
//! roc_auc_score(labels, other); average_precision_score(labels, other)
//! scipy.stats.spearmanr(scores, other).statistic
//! ```

use oddhunt_models::metrics::{
    average_precision, pr_auc, precision_at_k, recall_at_k, roc_auc, spearman,
};

const SCORES: [f64; 40] = [
    -0.1, 0.1, 0.1, -0.4, 0.1, 1.4, -0.7, 0.9, 0.1, -0.6, 2.0, 1.6, -0.4, 0.1, 0.6, -0.2, 0.7,
    -0.1, 0.7, 1.4, 0.1, 1.0, -0.5, 0.9, -0.4, -0.6, -0.2, 0.9, 1.1, -1.3, -0.8, 1.4, -1.2, 0.3,
    -0.1, 2.1, 0.7, 0.5, -0.4, 0.5,
];
const LABELS: [u8; 40] = [
    0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 1,
    1, 1, 0, 1, 0, 1, 0, 1,
];
const OTHER: [f64; 40] = [
    1.0, -0.2, -0.1, -0.2, 0.0, 1.3, -1.5, 0.9, -0.2, 0.2, 2.5, 1.6, 0.1, -0.1, 1.3, -0.2, 1.1,
    -1.0, 0.9, 0.2, -1.3, 0.8, -1.1, 1.0, 1.2, -1.2, -0.6, 1.0, 1.4, -1.4, -0.9, 1.9, -0.8, -0.4,
    -0.2, 2.1, -0.0, 0.7, -1.0, 1.2,
];

fn labels() -> Vec<bool> {
    LABELS.iter().map(|&l| l == 1).collect()
}

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-12, "{a} vs {b}");
}

#[test]
fn roc_auc_matches_sklearn_with_ties() {
    close(roc_auc(&SCORES, &labels()).unwrap(), 0.5467032967032966);
    close(roc_auc(&OTHER, &labels()).unwrap(), 0.5796703296703297);
}

#[test]
fn average_precision_matches_sklearn_with_ties() {
    close(
        average_precision(&SCORES, &labels()).unwrap(),
        0.4689586270468623,
    );
    close(
        average_precision(&OTHER, &labels()).unwrap(),
        0.4732859993315582,
    );
    close(pr_auc(&SCORES, &labels()).unwrap(), 0.4689586270468623);
}

#[test]
fn spearman_matches_scipy_with_ties() {
    close(spearman(&SCORES, &OTHER).unwrap(), 0.779506242508333);
    close(spearman(&OTHER, &SCORES).unwrap(), 0.779506242508333);
}

#[test]
fn precision_and_recall_at_k_count_ties_by_share() {
    // Top 8 by score: 2.1 (+), 2.0, 1.6 (+), 1.4, 1.4, 1.4 (+), 1.1, 1.0 (+): 4 of 14 positives.
    close(precision_at_k(&SCORES, &labels(), 8).unwrap(), 0.5);
    close(recall_at_k(&SCORES, &labels(), 8).unwrap(), 4.0 / 14.0);
    // k = 10 cuts through the three rows scored 0.9, one of them positive: 4 + 2/3 expected.
    close(
        precision_at_k(&SCORES, &labels(), 10).unwrap(),
        (4.0 + 2.0 / 3.0) / 10.0,
    );
    // All rows: precision is the prevalence, recall is 1.
    close(precision_at_k(&SCORES, &labels(), 40).unwrap(), 14.0 / 40.0);
    close(recall_at_k(&SCORES, &labels(), 40).unwrap(), 1.0);
}
