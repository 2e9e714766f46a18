//! Invariants of the training state: merging partial counts equals training on the union
//! (first-seen order included), and serialised counts and models load back identical; damaged
//! serialisations are refused.

use oddhunt_models::markov::{
    Command, MarkovCounts, MarkovError, MarkovModel, ScoreOptions, SessionType,
};
use proptest::prelude::*;

const NAMES: &[&str] = &[
    "Set-User",
    "Set-Mailbox",
    "New-InboxRule",
    "Get-User",
    "##START##",
    "##UNK##",
    "é",
    "e\u{301}",
];
const PARAMS: &[&str] = &["Identity", "City", "Force", "##UNK##", "Name"];
const VALUES: &[&str] = &["", "bob", "alice", "true", "##UNK##", "0"];

fn command() -> impl Strategy<Value = Command> {
    let param = (0..PARAMS.len(), proptest::option::of(0..VALUES.len()))
        .prop_map(|(p, v)| (PARAMS[p].to_string(), v.map(|v| VALUES[v].to_string())));
    (0..NAMES.len(), proptest::collection::vec(param, 0..4)).prop_map(|(n, params)| Command {
        name: NAMES[n].to_string(),
        params,
    })
}

fn sessions() -> impl Strategy<Value = Vec<Vec<Command>>> {
    proptest::collection::vec(proptest::collection::vec(command(), 1..6), 1..12)
}

fn session_type() -> impl Strategy<Value = SessionType> {
    prop_oneof![
        Just(SessionType::CmdsOnly),
        Just(SessionType::CmdsParamsOnly),
        Just(SessionType::CmdsParamsValues)
    ]
}

fn count(st: SessionType, sessions: &[Vec<Command>]) -> MarkovCounts {
    let mut counts = MarkovCounts::new(st);
    for s in sessions {
        counts.observe(s).expect("observe");
    }
    counts
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn merge_equals_training_on_the_union(st in session_type(), all in sessions(), split in 0usize..12) {
        let split = split.min(all.len());
        let (a, b) = all.split_at(split);
        let mut merged = count(st, a);
        merged.merge(&count(st, b)).expect("merge");
        let union = count(st, &all);
        prop_assert_eq!(&merged, &union);

        // Same counts, same model, same scores.
        let (m1, m2) = (MarkovModel::fit(merged, None).expect("fit"), MarkovModel::fit(union, None).expect("fit"));
        prop_assert_eq!(m1.probability_tables(), m2.probability_tables());
        for s in &all {
            let opts = ScoreOptions::default();
            prop_assert_eq!(m1.score(s, &opts), m2.score(s, &opts));
        }
    }

    #[test]
    fn counts_survive_serialisation(st in session_type(), all in sessions()) {
        let counts = count(st, &all);
        let json = serde_json::to_string(&counts).expect("serialise");
        let back: MarkovCounts = serde_json::from_str(&json).expect("deserialise");
        prop_assert_eq!(&back, &counts);
        // And the loaded counts keep counting like the original.
        let (mut a, mut b) = (counts, back);
        a.observe(&all[0]).expect("observe");
        b.observe(&all[0]).expect("observe");
        prop_assert_eq!(a, b);
    }
}

#[test]
fn merge_refuses_other_session_types() {
    let mut a = MarkovCounts::new(SessionType::CmdsOnly);
    let b = MarkovCounts::new(SessionType::CmdsParamsOnly);
    assert_eq!(
        a.merge(&b),
        Err(MarkovError::SessionTypeMismatch {
            left: SessionType::CmdsOnly,
            right: SessionType::CmdsParamsOnly
        })
    );
}

#[test]
fn damaged_counts_are_refused() {
    let mut counts = MarkovCounts::new(SessionType::CmdsParamsValues);
    counts
        .observe(&[
            Command::new("Set-User").param_value("Identity", "bob"),
            Command::new("Set-Mailbox").param_value("Identity", "bob"),
        ])
        .expect("observe");
    let good: serde_json::Value = serde_json::to_value(&counts).expect("serialise");
    assert!(serde_json::from_value::<MarkovCounts>(good.clone()).is_ok());
    type Damage = fn(&mut serde_json::Value);
    let damage: [(&str, Damage); 7] = [
        ("version", |v| v["format"] = 99.into()),
        ("tokens", |v| v["commands"][0] = "x".into()),
        ("duplicate name", |v| v["commands"][4] = "Set-User".into()),
        ("seq1 total", |v| v["seq1"][3] = 5.into()),
        ("transition id", |v| v["seq2"][0][1] = 1000.into()),
        ("param sum", |v| v["param"][1] = 7.into()),
        ("value sum", |v| v["value"][1] = 0.into()),
    ];
    for (what, f) in damage {
        let mut bad = good.clone();
        f(&mut bad);
        let err = serde_json::from_value::<MarkovCounts>(bad).expect_err(what);
        assert!(
            err.to_string().contains("corrupt") || err.to_string().contains("layout"),
            "{what}: {err}"
        );
    }
    // A model file's payload goes through the same checks.
    let model = serde_json::json!({"counts": good, "modellable_params": []});
    assert!(serde_json::from_value::<MarkovModel>(model).is_ok());
}

/// Commands with many params switch their row to an index (rows of 16+ params): counting,
/// merging and reloading must behave exactly as for short rows.
#[test]
fn long_param_rows_merge_and_reload() {
    let session = |offset: usize| -> Vec<Command> {
        (0..30)
            .map(|i| {
                let mut c = Command::new(if i % 2 == 0 {
                    "Set-Mailbox"
                } else {
                    "Set-User"
                });
                for k in 0..(i % 25) {
                    c = c.param_value(format!("p{}", (k * 7 + offset) % 40), format!("v{}", k % 3));
                }
                c
            })
            .collect()
    };
    let all: Vec<Vec<Command>> = (0..6).map(session).collect();
    for st in [SessionType::CmdsParamsOnly, SessionType::CmdsParamsValues] {
        let union = count(st, &all);
        let mut merged = count(st, &all[..2]);
        merged.merge(&count(st, &all[2..])).expect("merge");
        assert_eq!(merged, union);
        let json = serde_json::to_string(&union).expect("serialise");
        let mut back: MarkovCounts = serde_json::from_str(&json).expect("deserialise");
        let mut again = union.clone();
        back.observe(&all[5]).expect("observe");
        again.observe(&all[5]).expect("observe");
        assert_eq!(back, again);
        let model = MarkovModel::fit(again, None).expect("fit");
        let rows = model.probability_tables().param_cond_cmd;
        assert!(
            rows.iter().any(|(_, row)| row.len() > 30),
            "a row with 40 params + UNK"
        );
    }
}
