//! Isolation Forest against scikit-learn 1.9.1 on the shared fixture
//! `../shared/fixtures/iforest/iforest_blobs.json`: 20,000 × 8 rows (two Gaussian clusters,
//! 200 uniform global outliers, 200 local outliers between the clusters, label 1 = outlier)
//! and scikit-learn's `score_samples` for `random_state` 0–4.
//!
//! Random streams differ between implementations, so the comparison is statistical:
//!
//! - On this data one 100-tree forest's ROC-AUC varies with the seed by σ ≈ 0.032 (scikit-learn
//!   over 200 seeds: mean 0.8890, range 0.7675–0.9532). The fixture's five runs average 0.9026,
//!   an estimate with its own standard error of ≈ 0.014, so "within 0.01 of the five-run mean"
//!   cannot be asserted for any implementation, scikit-learn included. The tests compare with
//!   scikit-learn's distribution over 200 seeds instead, computed once by
//!   `bench/iforest_sklearn_reference.py` (figures in the constants below), and print where our
//!   runs fall in the fixture's spread.
//! - Two independent 100-tree forests' scores correlate at Spearman 0.79–0.92 (scikit-learn
//!   against itself on the fixture), so the ≥ 0.95 rank-correlation check compares 500-tree
//!   averages: ours against the mean of the fixture's five runs.

use oddhunt_models::iforest::{
    average_path_length, Contamination, IsolationForest, IsolationForestParams,
};
use oddhunt_models::metrics::{roc_auc, spearman};
use serde_json::Value;
use std::sync::OnceLock;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/iforest/iforest_blobs.json"
);

// scikit-learn 1.9.1, `IsolationForest(n_estimators=100, max_samples=256)`, random_state
// 0..200 on the fixture (`bench/iforest_sklearn_reference.py 200`):
/// Mean ROC-AUC of one forest.
const SK_AUC_MEAN: f64 = 0.8889615905612245;
/// Standard deviation of one forest's ROC-AUC over the seeds (range 0.7675–0.9532).
const SK_AUC_SD: f64 = 0.03219190396283977;
/// ROC-AUC of the mean score of the 200 forests (a 20,000-tree forest).
const SK_AUC_LARGE_FOREST: f64 = 0.8987994897959183;
/// Fewest and most rows `predict` flags with contamination "auto", over the 200 forests.
const SK_FLAGGED_RANGE: (usize, usize) = (955, 2318);
/// Rows whose mean score over the fixture's five runs is below −0.5.
const SK_FLAGGED_500_TREES: usize = 1423;

struct Fixture {
    x: Vec<f64>,
    labels: Vec<bool>,
    runs: Vec<Run>,
}

struct Run {
    score_samples: Vec<f64>,
    roc_auc: f64,
    offset: f64,
    flagged: usize,
}

const N_FEATURES: usize = 8;

fn fixture() -> &'static Fixture {
    static FX: OnceLock<Fixture> = OnceLock::new();
    FX.get_or_init(|| {
        let text = std::fs::read_to_string(FIXTURE).expect("fixture readable");
        let v: Value = serde_json::from_str(&text).expect("fixture is JSON");
        let num = |v: &Value| v.as_f64().expect("number");
        let x = v["X"]
            .as_array()
            .expect("X")
            .iter()
            .flat_map(|r| r.as_array().expect("row").iter().map(num))
            .collect();
        let labels = v["label"]
            .as_array()
            .expect("label")
            .iter()
            .map(|l| l.as_i64() == Some(1))
            .collect();
        let runs = v["runs"]
            .as_array()
            .expect("runs")
            .iter()
            .map(|r| Run {
                score_samples: r["score_samples"]
                    .as_array()
                    .expect("scores")
                    .iter()
                    .map(num)
                    .collect(),
                roc_auc: num(&r["roc_auc"]),
                offset: num(&r["offset"]),
                flagged: r["flagged_auto"].as_u64().expect("flagged") as usize,
            })
            .collect();
        Fixture { x, labels, runs }
    })
}

fn n_rows() -> usize {
    fixture().labels.len()
}

fn fit(params: IsolationForestParams) -> IsolationForest {
    params
        .fit(&fixture().x, n_rows(), N_FEATURES)
        .expect("fit on the fixture")
}

/// ROC-AUC of a model's anomaly scores (higher = odder) against the labels.
fn auc(model: &IsolationForest) -> f64 {
    let s = model.anomaly_scores(&fixture().x).expect("score");
    roc_auc(&s, &fixture().labels).expect("auc")
}

fn flagged(model: &IsolationForest) -> usize {
    model
        .predict(&fixture().x)
        .expect("predict")
        .iter()
        .filter(|&&o| o)
        .count()
}

#[test]
fn fixture_is_what_the_readme_says() {
    let fx = fixture();
    assert_eq!(fx.x.len(), 20_000 * N_FEATURES);
    assert_eq!(fx.labels.iter().filter(|&&l| l).count(), 400);
    assert_eq!(fx.runs.len(), 5);
    for run in &fx.runs {
        // Our metric reproduces the fixture's own ROC-AUC from scikit-learn's scores (the
        // fixture rounds scores to 6 decimals, hence the tolerance).
        let neg: Vec<f64> = run.score_samples.iter().map(|s| -s).collect();
        let ours = roc_auc(&neg, &fx.labels).expect("auc");
        assert!(
            (ours - run.roc_auc).abs() < 1e-3,
            "{ours} vs {}",
            run.roc_auc
        );
    }
}

#[test]
fn roc_auc_matches_sklearn() {
    let fx = fixture();
    // A large forest estimates the algorithm's limiting AUC with little seed noise: compare it
    // with scikit-learn's 20,000-tree figure.
    let large = auc(&fit(IsolationForestParams {
        n_trees: 2000,
        ..Default::default()
    }));
    assert!(
        (large - SK_AUC_LARGE_FOREST).abs() <= 0.01,
        "2000-tree forest AUC {large:.4} vs scikit-learn's large-forest {SK_AUC_LARGE_FOREST:.4}"
    );

    // 100-tree forests, seeds 0..20: mean and spread against scikit-learn's over 200 seeds.
    let aucs: Vec<f64> = (0..20)
        .map(|seed| {
            auc(&fit(IsolationForestParams {
                seed,
                ..Default::default()
            }))
        })
        .collect();
    let mean = aucs.iter().sum::<f64>() / aucs.len() as f64;
    let fixture_mean = fx.runs.iter().map(|r| r.roc_auc).sum::<f64>() / fx.runs.len() as f64;
    let (lo, hi) = fx.runs.iter().fold((1.0f64, 0.0f64), |(l, h), r| {
        (l.min(r.roc_auc), h.max(r.roc_auc))
    });
    let inside = aucs.iter().filter(|&&a| a >= lo && a <= hi).count();
    eprintln!(
        "ROC-AUC, 100 trees: ours seeds 0-4 {:.4?}, seeds 0-19 mean {mean:.4}; \
         fixture runs {:.4?} (mean {fixture_mean:.4}); {inside}/20 of ours inside the fixture's \
         range; scikit-learn 200 seeds mean {SK_AUC_MEAN:.4}; 2000 trees ours {large:.4}",
        &aucs[..5],
        fx.runs.iter().map(|r| r.roc_auc).collect::<Vec<_>>()
    );
    assert!(
        (mean - SK_AUC_MEAN).abs() <= 0.015,
        "mean AUC of 20 seeds {mean:.4} vs scikit-learn's 200-seed mean {SK_AUC_MEAN:.4}"
    );
    // The seed-to-seed spread is scikit-learn's too (σ ≈ 0.032 over 200 seeds).
    let sd = (aucs.iter().map(|a| (a - mean) * (a - mean)).sum::<f64>() / aucs.len() as f64).sqrt();
    assert!(
        (SK_AUC_SD / 2.0..=SK_AUC_SD * 2.0).contains(&sd),
        "AUC standard deviation over 20 seeds {sd:.4} vs scikit-learn's {SK_AUC_SD:.4}"
    );
}

#[test]
fn score_distribution_matches_sklearn() {
    let fx = fixture();
    let n = n_rows();
    let sk_mean: Vec<f64> = (0..n)
        .map(|i| fx.runs.iter().map(|r| r.score_samples[i]).sum::<f64>() / fx.runs.len() as f64)
        .collect();
    let ours = fit(IsolationForestParams {
        n_trees: 500,
        ..Default::default()
    })
    .score_samples(&fx.x)
    .expect("score");
    let rho = spearman(&ours, &sk_mean).expect("spearman");
    let single = fit(IsolationForestParams::default())
        .score_samples(&fx.x)
        .expect("score");
    let single_rho: Vec<f64> = fx
        .runs
        .iter()
        .map(|r| spearman(&single, &r.score_samples).expect("spearman"))
        .collect();
    eprintln!(
        "Spearman: 500 trees vs scikit-learn's 5-run mean {rho:.4}; one 100-tree forest vs each \
         scikit-learn run {single_rho:.4?}"
    );
    assert!(rho >= 0.95, "Spearman {rho:.4}");
    // Same scale as scikit-learn: score_samples in [-1, 0), centred near −0.45 here.
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    assert!(
        (mean(&ours) - mean(&sk_mean)).abs() < 0.01,
        "mean score {} vs {}",
        mean(&ours),
        mean(&sk_mean)
    );
}

#[test]
fn offset_and_predict_counts_match_sklearn() {
    let fx = fixture();
    let model = fit(IsolationForestParams::default());
    assert_eq!(model.offset(), -0.5);
    assert!(fx.runs.iter().all(|r| r.offset == -0.5));
    let counts: Vec<usize> = (0..5)
        .map(|seed| {
            flagged(&fit(IsolationForestParams {
                seed,
                ..Default::default()
            }))
        })
        .collect();
    let large = flagged(&fit(IsolationForestParams {
        n_trees: 500,
        ..Default::default()
    }));
    eprintln!(
        "flagged with contamination auto: ours seeds 0-4 {counts:?}, scikit-learn runs {:?}; \
         500 trees ours {large}, scikit-learn {SK_FLAGGED_500_TREES}",
        fx.runs.iter().map(|r| r.flagged).collect::<Vec<_>>()
    );
    for c in counts {
        assert!(
            (SK_FLAGGED_RANGE.0..=SK_FLAGGED_RANGE.1).contains(&c),
            "{c} flagged"
        );
    }
    let rel = (large as f64 - SK_FLAGGED_500_TREES as f64).abs() / SK_FLAGGED_500_TREES as f64;
    assert!(
        rel < 0.15,
        "500 trees flag {large}, scikit-learn {SK_FLAGGED_500_TREES}"
    );

    // With a contamination share the offset is that quantile of the training scores, so the
    // share flagged is the contamination (strictly below an interpolated quantile: 399 or 400).
    let model = fit(IsolationForestParams {
        contamination: Contamination::Fraction(0.02),
        ..Default::default()
    });
    let c = flagged(&model);
    assert!((399..=400).contains(&c), "{c} flagged at 2 %");
    let d = model.decision_function(&fx.x).expect("decision");
    let s = model.score_samples(&fx.x).expect("score");
    assert!(d.iter().zip(&s).all(|(d, s)| d == &(s - model.offset())));
}

/// Global outliers (uniform in [-6, 6]^8) lie far from the origin; local ones (N(0, 0.5))
/// close to it.
fn outlier_kinds() -> (Vec<bool>, Vec<bool>) {
    let fx = fixture();
    let norm = |i: usize| {
        fx.x[i * N_FEATURES..(i + 1) * N_FEATURES]
            .iter()
            .map(|v| v * v)
            .sum::<f64>()
            .sqrt()
    };
    let global = (0..n_rows())
        .map(|i| fx.labels[i] && norm(i) > 4.0)
        .collect();
    let local = (0..n_rows())
        .map(|i| fx.labels[i] && norm(i) <= 4.0)
        .collect();
    (global, local)
}

/// AUC of one kind of outlier against the inliers (other outliers left out).
fn auc_of_kind(scores: &[f64], kind: &[bool]) -> f64 {
    let fx = fixture();
    let (s, l): (Vec<f64>, Vec<bool>) = (0..n_rows())
        .filter(|&i| kind[i] || !fx.labels[i])
        .map(|i| (scores[i], kind[i]))
        .unzip();
    roc_auc(&s, &l).expect("auc")
}

#[test]
fn extended_forest_ranks_outliers() {
    let fx = fixture();
    let (global, local) = outlier_kinds();
    assert_eq!(global.iter().filter(|&&g| g).count(), 200);
    let mut report = Vec::new();
    for ext in [0, 3, 7] {
        let model = fit(IsolationForestParams {
            extension_level: ext,
            n_trees: 500,
            ..Default::default()
        });
        let s = model.anomaly_scores(&fx.x).expect("score");
        let all = roc_auc(&s, &fx.labels).expect("auc");
        let g = auc_of_kind(&s, &global);
        let l = auc_of_kind(&s, &local);
        report.push(format!(
            "extension {ext}: all {all:.4}, global {g:.4}, local {l:.4}"
        ));
        assert!(all > 0.85, "extension {ext}: AUC {all}");
        assert!(g > 0.99, "extension {ext}: global AUC {g}");
    }
    eprintln!("ROC-AUC, 500 trees: {}", report.join("; "));
}

#[test]
fn scores_are_bit_identical_with_one_or_two_threads() {
    let fx = fixture();
    for ext in [0, 7] {
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool")
                .install(|| {
                    let m = fit(IsolationForestParams {
                        extension_level: ext,
                        seed: 42,
                        ..Default::default()
                    });
                    let s = m.score_samples(&fx.x).expect("score");
                    (m, s)
                })
        };
        let (m1, s1) = run(1);
        let (m2, s2) = run(2);
        assert_eq!(m1, m2, "extension {ext}: models differ");
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&s1), bits(&s2), "extension {ext}: scores differ");
        let other = fit(IsolationForestParams {
            extension_level: ext,
            seed: 43,
            ..Default::default()
        })
        .score_samples(&fx.x)
        .expect("score");
        assert_ne!(bits(&s1), bits(&other), "another seed grows another forest");
    }
}

#[test]
fn explanation_of_the_oddest_row_names_its_extreme_features() {
    let fx = fixture();
    let model = fit(IsolationForestParams::default());
    let s = model.anomaly_scores(&fx.x).expect("score");
    let top = (0..n_rows())
        .max_by(|&a, &b| s[a].total_cmp(&s[b]))
        .expect("rows");
    let row = &fx.x[top * N_FEATURES..(top + 1) * N_FEATURES];
    let ex = model.explain(row).expect("explain");
    assert_eq!(ex.len(), N_FEATURES);
    let total: f64 = ex.iter().map(|c| c.contribution).sum();
    let mean_h = model.mean_path_lengths(row).expect("paths")[0];
    assert!((total - (average_path_length(256) - mean_h)).abs() < 1e-9);
    // The most isolating feature is one where the row is far out in the training population.
    let pct = model
        .percentile_of(ex[0].feature, row[ex[0].feature])
        .expect("percentile");
    eprintln!(
        "oddest row {top} (score {:.3}): top feature {} = {:.2} at percentile {pct:.2}; {ex:?}",
        s[top], ex[0].feature, row[ex[0].feature]
    );
    assert!(!(1.0..=99.0).contains(&pct), "percentile {pct}");
}

#[test]
fn model_file_round_trip_scores_the_same() {
    let fx = fixture();
    let model = fit(IsolationForestParams {
        extension_level: 2,
        n_trees: 50,
        ..Default::default()
    });
    let json = serde_json::to_vec(&model).expect("serialise");
    let back: IsolationForest = serde_json::from_slice(&json).expect("deserialise");
    assert_eq!(
        back.score_samples(&fx.x).expect("score"),
        model.score_samples(&fx.x).expect("score")
    );
    assert_eq!(back.percentile_of(3, 0.0), model.percentile_of(3, 0.0));
}
