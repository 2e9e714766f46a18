//! Reference tests: every number of msticpy's Markov fixtures (`shared/fixtures/markov/`),
//! layer by layer: raw counts, smoothed counts, probabilities (with row order), modellable
//! params, param-set probabilities, session likelihoods, window likelihoods, rarest windows.
//! Floats are compared bit for bit.

use std::collections::{BTreeMap, BTreeSet};

use oddhunt_models::markov::{
    score_sessions, Command, CountTables, MarkovCounts, MarkovModel, ProbabilityTables,
    ScoreOptions, SessionType,
};
use serde_json::Value;

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/markov/"
);

fn load(name: &str) -> Value {
    let path = format!("{FIXTURES}{name}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {path}: {e}"))
}

fn session_type(name: &str) -> SessionType {
    match name {
        "cmds_only" => SessionType::CmdsOnly,
        "cmds_params_only" => SessionType::CmdsParamsOnly,
        "cmds_params_values" => SessionType::CmdsParamsValues,
        other => panic!("unknown session type {other}"),
    }
}

fn command(v: &Value) -> Command {
    if let Some(name) = v.as_str() {
        return Command::new(name);
    }
    let name = v["name"].as_str().expect("command name");
    let params = v["params"]
        .as_array()
        .expect("params")
        .iter()
        .map(|p| match p {
            Value::String(s) => (s.clone(), None),
            Value::Array(pair) => (
                pair[0].as_str().expect("param name").to_string(),
                pair[1].as_str().map(str::to_string),
            ),
            other => panic!("bad param {other}"),
        })
        .collect();
    Command {
        name: name.to_string(),
        params,
    }
}

fn sessions(v: &Value) -> Vec<Vec<Command>> {
    v.as_array()
        .expect("sessions")
        .iter()
        .map(|s| s.as_array().expect("session").iter().map(command).collect())
        .collect()
}

fn bits(v: &Value) -> Option<u64> {
    v.as_str()
        .map(|s| u64::from_str_radix(s, 16).expect("hex bits"))
}

fn assert_bits(actual: f64, expected: &Value, what: &str) {
    match bits(expected) {
        Some(b) => assert_eq!(
            actual.to_bits(),
            b,
            "{what}: got {actual:e}, expected {:e}",
            f64::from_bits(b)
        ),
        None => assert!(actual.is_nan(), "{what}: got {actual}, expected NaN"),
    }
}

fn assert_float(actual: f64, expected: &Value, what: &str) {
    match expected.as_f64() {
        Some(e) => assert_eq!(
            actual.to_bits(),
            e.to_bits(),
            "{what}: got {actual:e}, expected {e:e}"
        ),
        None => assert!(actual.is_nan(), "{what}: got {actual}, expected NaN"),
    }
}

// ----- table comparisons ---------------------------------------------------------------------

fn int_map(v: &Value) -> BTreeMap<String, u64> {
    v.as_object()
        .expect("object")
        .iter()
        .map(|(k, n)| (k.clone(), n.as_u64().expect("count")))
        .collect()
}

fn int_map2(v: &Value) -> BTreeMap<String, BTreeMap<String, u64>> {
    v.as_object()
        .expect("object")
        .iter()
        .map(|(k, r)| (k.clone(), int_map(r)))
        .collect()
}

fn ordered_int_rows(v: &Value) -> BTreeMap<String, Vec<(String, u64)>> {
    v.as_object()
        .expect("object")
        .iter()
        .map(|(k, r)| {
            let row = r
                .as_array()
                .expect("row")
                .iter()
                .map(|e| {
                    (
                        e[0].as_str().expect("key").to_string(),
                        e[1].as_u64().expect("count"),
                    )
                })
                .collect();
            (k.clone(), row)
        })
        .collect()
}

fn mine_map<T: Clone>(rows: &[(String, T)]) -> BTreeMap<String, T> {
    let map: BTreeMap<String, T> = rows.iter().cloned().collect();
    assert_eq!(map.len(), rows.len(), "duplicate keys in a table");
    map
}

fn mine_map2<T: Clone>(
    rows: &[(String, Vec<(String, T)>)],
) -> BTreeMap<String, BTreeMap<String, T>> {
    rows.iter().map(|(k, r)| (k.clone(), mine_map(r))).collect()
}

fn check_counts(mine: &CountTables, model: &Value, suffix: &str, st: SessionType, case: &str) {
    let key = |k: &str| format!("{k}{suffix}");
    assert_eq!(
        mine_map(&mine.seq1),
        int_map(&model[key("seq1_counts")]),
        "{case}: seq1{suffix}"
    );
    assert_eq!(
        mine_map2(&mine.seq2),
        int_map2(&model[key("seq2_counts")]),
        "{case}: seq2{suffix}"
    );
    if st != SessionType::CmdsOnly {
        assert_eq!(
            mine_map(&mine.params),
            int_map(&model[key("param_counts")]),
            "{case}: params{suffix}"
        );
        let rows: BTreeMap<String, Vec<(String, u64)>> = mine.cmd_params.iter().cloned().collect();
        assert_eq!(
            rows,
            ordered_int_rows(&model[key("cmd_param_counts")]),
            "{case}: cmd_params{suffix}"
        );
    }
    if st == SessionType::CmdsParamsValues {
        assert_eq!(
            mine_map(&mine.values),
            int_map(&model[key("value_counts")]),
            "{case}: values{suffix}"
        );
        assert_eq!(
            mine_map2(&mine.param_values),
            int_map2(&model[key("param_value_counts")]),
            "{case}: param_values{suffix}"
        );
    }
}

fn check_float_map(mine: &[(String, f64)], expected: &Value, what: &str) {
    let mine = mine_map(mine);
    let expected = expected.as_object().expect("object");
    assert_eq!(mine.len(), expected.len(), "{what}: number of keys");
    for (k, e) in expected {
        let m = mine
            .get(k)
            .unwrap_or_else(|| panic!("{what}: missing key {k:?}"));
        assert_float(*m, e, &format!("{what}[{k:?}]"));
    }
}

fn check_float_map2(mine: &[(String, Vec<(String, f64)>)], expected: &Value, what: &str) {
    let mine: BTreeMap<String, Vec<(String, f64)>> = mine.iter().cloned().collect();
    let expected = expected.as_object().expect("object");
    assert_eq!(mine.len(), expected.len(), "{what}: number of rows");
    for (k, e) in expected {
        let row = mine
            .get(k)
            .unwrap_or_else(|| panic!("{what}: missing row {k:?}"));
        check_float_map(row, e, &format!("{what}[{k:?}]"));
    }
}

fn check_probabilities(mine: &ProbabilityTables, model: &Value, st: SessionType, case: &str) {
    check_float_map(
        &mine.prior,
        &model["prior_probs"],
        &format!("{case}: prior"),
    );
    check_float_map2(
        &mine.trans,
        &model["trans_probs"],
        &format!("{case}: trans"),
    );
    if st != SessionType::CmdsOnly {
        check_float_map(
            &mine.params,
            &model["param_probs"],
            &format!("{case}: param_probs"),
        );
        // Ordered rows: the multiplication order of the param-set probability.
        let expected = model["param_cond_cmd_probs"].as_object().expect("object");
        let rows: BTreeMap<String, Vec<(String, f64)>> =
            mine.param_cond_cmd.iter().cloned().collect();
        assert_eq!(rows.len(), expected.len(), "{case}: pcond rows");
        for (k, e) in expected {
            let row = &rows[k];
            let e = e.as_array().expect("row");
            assert_eq!(row.len(), e.len(), "{case}: pcond[{k:?}] length");
            for ((name, q), pair) in row.iter().zip(e) {
                assert_eq!(
                    name,
                    pair[0].as_str().expect("param"),
                    "{case}: pcond[{k:?}] order"
                );
                assert_float(*q, &pair[1], &format!("{case}: pcond[{k:?}][{name:?}]"));
            }
        }
    }
    if st == SessionType::CmdsParamsValues {
        check_float_map(
            &mine.values,
            &model["value_probs"],
            &format!("{case}: value_probs"),
        );
        check_float_map2(
            &mine.value_cond_param,
            &model["value_cond_param_probs"],
            &format!("{case}: vcond"),
        );
    }
}

fn session_layout_matches(window: &[Command], expected: &Value) -> bool {
    let expected: Vec<Command> = expected
        .as_array()
        .expect("window")
        .iter()
        .map(command)
        .collect();
    expected.as_slice() == window
}

/// Runs every check of one model case; returns the number of numbers compared.
fn check_case(st: SessionType, case: &Value) -> usize {
    let name = case["name"].as_str().expect("case name");
    let train = sessions(&case["train_sessions"]);
    let score = sessions(&case["score_sessions"]);
    let mut counts = MarkovCounts::new(st);
    for s in &train {
        counts.observe(s).expect("observe");
    }
    let given: Option<BTreeSet<String>> = case["modellable_params_given"].as_array().map(|a| {
        a.iter()
            .map(|p| p.as_str().expect("param").to_string())
            .collect()
    });
    let model = MarkovModel::fit(counts, given).expect("fit");
    let m = &case["model"];
    let mut checked = 0;

    check_counts(&model.raw_tables(), m, "_raw", st, name);
    check_counts(&model.smoothed_tables(), m, "", st, name);
    check_probabilities(&model.probability_tables(), m, st, name);
    if st == SessionType::CmdsParamsValues {
        let expected: Vec<String> = m["modellable_params"]
            .as_array()
            .expect("modellable")
            .iter()
            .map(|p| p.as_str().expect("param").to_string())
            .collect();
        let mine: Vec<String> = model.modellable_params().iter().cloned().collect();
        assert_eq!(mine, expected, "{name}: modellable params");
    }

    if st != SessionType::CmdsOnly {
        for (si, (session, expected)) in score
            .iter()
            .zip(case["param_set_probs"].as_array().expect("pp"))
            .enumerate()
        {
            for (ci, (cmd, e)) in session
                .iter()
                .zip(expected.as_array().expect("pp row"))
                .enumerate()
            {
                assert_bits(
                    model.param_set_prob(cmd, true),
                    &e["geo_bits"],
                    &format!("{name}: pp geo s{si} c{ci}"),
                );
                assert_float(
                    model.param_set_prob(cmd, false),
                    &e["raw"],
                    &format!("{name}: pp raw s{si} c{ci}"),
                );
                checked += 2;
            }
        }
    }

    for (tokens, key) in [(true, "with_tokens"), (false, "without_tokens")] {
        let rows = case["session_likelihoods"][key]
            .as_array()
            .expect("likelihood rows");
        assert_eq!(rows.len(), score.len());
        for (si, (session, row)) in score.iter().zip(rows).enumerate() {
            let what = format!("{name}: session {si} {key}");
            assert_bits(
                model.session_likelihood(session, tokens).expect("lik"),
                &row["likelihood_bits"],
                &what,
            );
            assert_bits(
                model.geomean(session, tokens).expect("geo"),
                &row["geomean_bits"],
                &what,
            );
            let s = model
                .score(
                    session,
                    &ScoreOptions {
                        window_len: 2,
                        use_start_end_tokens: tokens,
                        use_geo_mean: false,
                    },
                )
                .expect("score");
            assert_bits(s.likelihood, &row["likelihood_bits"], &what);
            assert_bits(s.geomean, &row["geomean_bits"], &what);
            checked += 2;
        }
    }

    for config in case["rarest_windows"].as_array().expect("configs") {
        let opts = ScoreOptions {
            window_len: config["window_len"].as_u64().expect("L") as usize,
            use_start_end_tokens: config["use_start_end_tokens"].as_bool().expect("tokens"),
            use_geo_mean: config["use_geo_mean"].as_bool().expect("geo"),
        };
        let results = config["results"].as_array().expect("results");
        assert_eq!(results.len(), score.len());
        for (si, (session, r)) in score.iter().zip(results).enumerate() {
            let what = format!("{name}: {opts:?} session {si}");
            let liks = model.window_likelihoods(session, &opts).expect("windows");
            let expected = r["window_likelihoods"]
                .as_array()
                .expect("window likelihoods");
            assert_eq!(liks.len(), expected.len(), "{what}: number of windows");
            for (i, (l, e)) in liks.iter().zip(expected).enumerate() {
                assert_float(*l, e, &format!("{what} window {i}"));
            }
            let rarest = model.rarest_window(session, &opts).expect("rarest");
            assert_eq!(
                rarest.index,
                r["rarest_index"].as_u64().map(|i| i as usize),
                "{what}: rarest index"
            );
            assert_bits(rarest.likelihood, &r["rarest_likelihood_bits"], &what);
            assert!(
                session_layout_matches(&session[rarest.window.clone()], &r["rarest_window"]),
                "{what}: rarest window {:?}",
                rarest.window
            );
            let scored = model.score(session, &opts).expect("score");
            assert_eq!(
                scored.rarest, rarest,
                "{what}: score() and rarest_window() disagree"
            );
            checked += liks.len() + 2;
        }
    }
    checked
}

fn check_model_file(file: &str) {
    let fixture = load(file);
    let st = session_type(fixture["session_type"].as_str().expect("session type"));
    assert_eq!(fixture["tokens"]["start"], "##START##");
    let mut names = Vec::new();
    let mut checked = 0;
    for case in fixture["cases"].as_array().expect("cases") {
        names.push(case["name"].as_str().expect("name").to_string());
        checked += check_case(st, case);
    }
    assert!(
        names.iter().any(|n| n == "synthetic"),
        "{file}: cases {names:?}"
    );
    assert!(checked > 1000, "{file}: only {checked} numbers compared");
}

#[test]
fn model_cmds_only_matches_msticpy() {
    check_model_file("model_cmds_only.json");
}

#[test]
fn model_cmds_params_only_matches_msticpy() {
    check_model_file("model_cmds_params_only.json");
}

#[test]
fn model_cmds_params_values_matches_msticpy() {
    check_model_file("model_cmds_params_values.json");
}

/// A model survives a serde round trip (the model-file payload) with identical numbers.
#[test]
fn serialised_model_scores_identically() {
    for file in [
        "model_cmds_only.json",
        "model_cmds_params_only.json",
        "model_cmds_params_values.json",
    ] {
        let fixture = load(file);
        let st = session_type(fixture["session_type"].as_str().expect("type"));
        for case in fixture["cases"].as_array().expect("cases") {
            let mut counts = MarkovCounts::new(st);
            for s in sessions(&case["train_sessions"]) {
                counts.observe(&s).expect("observe");
            }
            let model = MarkovModel::fit(counts, None).expect("fit");
            let json = serde_json::to_string(&model).expect("serialise");
            let back: MarkovModel = serde_json::from_str(&json).expect("deserialise");
            assert_eq!(back.counts(), model.counts());
            assert_eq!(back.probability_tables(), model.probability_tables());
            for s in sessions(&case["score_sessions"]) {
                let opts = ScoreOptions::default();
                assert_eq!(back.score(&s, &opts), model.score(&s, &opts));
            }
        }
    }
}

#[test]
fn score_sessions_matches_msticpy() {
    let fixture = load("score_sessions.json");
    let mut checked = 0;
    for case in fixture["cases"].as_array().expect("cases") {
        let st = session_type(case["session_type"].as_str().expect("type"));
        let sessions = sessions(&case["sessions"]);
        for run in case["runs"].as_array().expect("runs") {
            let l = run["window_length"].as_u64().expect("L") as usize;
            let results = score_sessions(&sessions, st, l).expect("score_sessions");
            let liks = run["rarest_likelihood_bits"].as_array().expect("bits");
            let windows = run["rarest_window"].as_array().expect("windows");
            assert_eq!(results.len(), sessions.len());
            for (i, r) in results.iter().enumerate() {
                let what = format!("{st} L={l} row {i}");
                assert_bits(r.likelihood, &liks[i], &what);
                assert_float(r.likelihood, &run["rarest_likelihood"][i], &what);
                assert!(
                    session_layout_matches(&sessions[i][r.window.clone()], &windows[i]),
                    "{what}: window"
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 3 * 3 * 41);
}
