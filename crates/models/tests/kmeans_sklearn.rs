//! k-means against scikit-learn 1.9.1 `KMeans(n_clusters=4, n_init=10)` on the shared fixture
//! `../shared/fixtures/iforest/kmeans_blobs.json` (1,200 points in four well-separated 2-D blobs):
//! the same partition up to a renaming of the clusters, the same inertia and centres.

use oddhunt_models::kmeans::{KMeans, KMeansParams};
use serde_json::Value;
use std::collections::HashMap;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/iforest/kmeans_blobs.json"
);

struct Fixture {
    x: Vec<f64>,
    labels: Vec<usize>,
    inertia: f64,
    centres: Vec<[f64; 2]>,
}

fn load() -> Fixture {
    let text = std::fs::read_to_string(FIXTURE).expect("fixture readable");
    let v: Value = serde_json::from_str(&text).expect("fixture is JSON");
    let num = |v: &Value| v.as_f64().expect("number");
    let x = v["X"]
        .as_array()
        .expect("X")
        .iter()
        .flat_map(|r| r.as_array().expect("row").iter().map(num))
        .collect();
    let labels = v["labels"]
        .as_array()
        .expect("labels")
        .iter()
        .map(|l| l.as_u64().expect("label") as usize)
        .collect();
    let centres = v["centers"]
        .as_array()
        .expect("centers")
        .iter()
        .map(|c| [num(&c[0]), num(&c[1])])
        .collect();
    Fixture {
        x,
        labels,
        inertia: num(&v["inertia"]),
        centres,
    }
}

/// The one-to-one renaming of our cluster ids to scikit-learn's, if the partitions agree.
fn renaming(ours: &[usize], theirs: &[usize]) -> Option<HashMap<usize, usize>> {
    let mut map = HashMap::new();
    let mut back = HashMap::new();
    for (&a, &b) in ours.iter().zip(theirs) {
        if *map.entry(a).or_insert(b) != b || *back.entry(b).or_insert(a) != a {
            return None;
        }
    }
    Some(map)
}

fn check(model: &KMeans, fx: &Fixture) {
    let map = renaming(model.labels(), &fx.labels).expect("same partition as scikit-learn");
    assert_eq!(map.len(), 4);
    let rel = (model.inertia() - fx.inertia).abs() / fx.inertia;
    assert!(
        rel < 1e-6,
        "inertia {} vs sklearn {} (relative {rel:e})",
        model.inertia(),
        fx.inertia
    );
    for (ours, theirs) in map {
        let c = &model.centres()[ours * 2..ours * 2 + 2];
        let s = fx.centres[theirs];
        // The fixture stores centres rounded to 6 decimals.
        assert!(
            (c[0] - s[0]).abs() < 1e-5 && (c[1] - s[1]).abs() < 1e-5,
            "{c:?} vs {s:?}"
        );
    }
}

#[test]
fn same_clustering_as_sklearn_for_several_seeds() {
    let fx = load();
    let n = fx.labels.len();
    for seed in 0..3 {
        let model = KMeansParams {
            n_clusters: 4,
            n_init: 10,
            seed,
            ..Default::default()
        }
        .fit(&fx.x, n, 2)
        .expect("fit");
        check(&model, &fx);
        // Predicting the training rows gives the training labels.
        assert_eq!(model.predict(&fx.x).expect("predict"), model.labels());
    }
}

#[test]
fn a_single_init_also_finds_the_blobs() {
    let fx = load();
    let model = KMeansParams {
        n_clusters: 4,
        n_init: 1,
        ..Default::default()
    }
    .fit(&fx.x, fx.labels.len(), 2)
    .expect("fit");
    check(&model, &fx);
}

#[test]
fn fit_is_bit_identical_with_one_or_two_threads() {
    let fx = load();
    let n = fx.labels.len();
    let fit = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool")
            .install(|| {
                KMeansParams {
                    n_clusters: 6,
                    n_init: 4,
                    seed: 11,
                    ..Default::default()
                }
                .fit(&fx.x, n, 2)
                .expect("fit")
            })
    };
    let (one, two) = (fit(1), fit(2));
    assert_eq!(one, two);
    assert_eq!(one.inertia().to_bits(), two.inertia().to_bits());
}
