//! Reference test: `FeatureHasher` against scikit-learn 1.9.1's `FeatureHasher(n_features=N,
//! input_type='string', alternate_sign=True)` on every row of the shared fixture (1004 strings ×
//! N in 16, 1000, 7, 2^20; see `../shared/fixtures/strings/README.md`).

use oddhunt_models::hashing::{DictValue, FeatureHasher};
use serde::Deserialize;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/strings/feature_hashing.jsonl"
);

#[derive(Deserialize)]
struct Row {
    n_features: usize,
    feature: String,
    indices: Vec<usize>,
    values: Vec<f64>,
}

fn rows() -> Vec<Row> {
    let text = std::fs::read_to_string(FIXTURE)
        .unwrap_or_else(|e| panic!("{FIXTURE}: {e} (the shared fixtures live beside the repo)"));
    text.lines()
        .enumerate()
        .map(|(n, line)| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{FIXTURE}:{}: {e}", n + 1))
        })
        .collect()
}

#[test]
fn every_fixture_row_matches_sklearn() {
    let rows = rows();
    assert_eq!(rows.len(), 4016, "fixture row count changed");
    let mut mismatches = Vec::new();
    for (n, row) in rows.iter().enumerate() {
        let hasher = FeatureHasher::new(row.n_features, true).expect("fixture widths are valid");
        // Sparse view of our dense row, to compare with sklearn's non-zero entries.
        let (index, sign) = hasher.bucket(&row.feature);
        let ours: Vec<(usize, f64)> = vec![(index, sign)];
        let theirs: Vec<(usize, f64)> = row
            .indices
            .iter()
            .copied()
            .zip(row.values.iter().copied())
            .collect();
        if ours != theirs {
            mismatches.push(format!(
                "line {}: {:?} n={}: ours {ours:?}, sklearn {theirs:?}",
                n + 1,
                row.feature,
                row.n_features
            ));
        }
        // The dense transform for small widths must agree too.
        if row.n_features <= 1000 {
            let dense = hasher.transform_strings([[row.feature.as_str()]]);
            let mut expected = vec![0.0f32; row.n_features];
            for (&i, &v) in row.indices.iter().zip(&row.values) {
                expected[i] += v as f32;
            }
            if dense != expected {
                mismatches.push(format!("line {}: dense row differs", n + 1));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches, first: {:#?}",
        mismatches.len(),
        &mismatches[..mismatches.len().min(5)]
    );
}

#[test]
fn dict_numeric_values_equal_weighted_string_features() {
    // sklearn: {k: c} hashes k with value c, so it equals the string sample with k repeated c times.
    let rows = rows();
    let hasher = FeatureHasher::default();
    let names: Vec<&str> = rows
        .iter()
        .filter(|r| r.n_features == 16)
        .map(|r| r.feature.as_str())
        .take(50)
        .collect();
    let mut repeated = Vec::new();
    let mut counts = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let count = (i % 4 + 1) as u64;
        counts.push((*name, DictValue::from(count)));
        for _ in 0..count {
            repeated.push(*name);
        }
    }
    assert_eq!(
        hasher.transform_dict([counts]),
        hasher.transform_strings([repeated])
    );
}

#[test]
fn dict_input_matches_sklearn() {
    // scikit-learn 1.9.1:
    //   samples = [{'svchost.exe': 3, 'user': 'alice', 'cmd.exe': 2.5, 'zero': 0, 'user=alice': 1},
    //              {'powershell.exe': 12, 'conhost.exe': 12, 'host': 'WS01'}, {}]
    //   FeatureHasher(n_features=n, input_type='dict', alternate_sign=True)
    //       .transform(samples).toarray()
    // Covers numeric and string values, a zero value, a collision with opposite signs
    // (svchost.exe and cmd.exe at n = 16) and a string value equal to another key ('user=alice').
    let samples = || {
        vec![
            vec![
                ("svchost.exe", DictValue::Num(3.0)),
                ("user", DictValue::Str("alice")),
                ("cmd.exe", DictValue::Num(2.5)),
                ("zero", DictValue::Num(0.0)),
                ("user=alice", DictValue::Num(1.0)),
            ],
            vec![
                ("powershell.exe", DictValue::Num(12.0)),
                ("conhost.exe", DictValue::Num(12.0)),
                ("host", DictValue::Str("WS01")),
            ],
            vec![],
        ]
    };
    let mut expected_16 = vec![0.0f32; 48];
    expected_16[1] = 0.5;
    expected_16[6] = 2.0;
    expected_16[16] = -12.0;
    expected_16[18] = -12.0;
    expected_16[20] = -1.0;
    let expected_7: Vec<f32> = vec![
        0.0, 0.0, 0.0, 2.0, 0.0, 3.0, -2.5, //
        -1.0, 0.0, -12.0, 0.0, -12.0, 0.0, 0.0, //
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    ];
    let hasher = FeatureHasher::default();
    assert_eq!(hasher.transform_dict(samples()), expected_16);
    let hasher = FeatureHasher::new(7, true).expect("valid width");
    assert_eq!(hasher.transform_dict(samples()), expected_7);
}
