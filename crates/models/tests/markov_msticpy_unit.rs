//! msticpy's own unit tests for `anomalous_sequence` (tests/analysis/test_anom_seq_*.py,
//! msticpy 3.0.2), ported as cases with the values they assert.
//!
//! msticpy's tests build their probability tables by hand; every hand-made table there is the
//! model trained on one of their small session lists, so here the model is trained on that list
//! and the same expectations are checked. Cases on empty sessions (accepted by msticpy's
//! low-level helpers, refused by its `Model`) are checked as refusals: oddhunt refuses empty
//! sessions everywhere (spec Q13).

use std::collections::{BTreeMap, BTreeSet};

use oddhunt_models::markov::{
    score_sessions, Command, MarkovCounts, MarkovError, MarkovModel, ScoreOptions, SessionType,
    END_TOKEN, START_TOKEN, UNK_TOKEN,
};

const START: &str = START_TOKEN;
const END: &str = END_TOKEN;
const UNK: &str = UNK_TOKEN;

fn cmds(names: &[&str]) -> Vec<Command> {
    names.iter().map(|n| Command::new(*n)).collect()
}

fn train(st: SessionType, sessions: &[Vec<Command>], modellable: Option<&[&str]>) -> MarkovModel {
    let mut counts = MarkovCounts::new(st);
    for s in sessions {
        counts.observe(s).expect("observe");
    }
    MarkovModel::fit(
        counts,
        modellable.map(|m| m.iter().map(|p| p.to_string()).collect()),
    )
    .expect("fit")
}

fn map<T: Clone>(rows: &[(String, T)]) -> BTreeMap<String, T> {
    rows.iter().cloned().collect()
}

fn map2<T: Clone>(rows: &[(String, Vec<(String, T)>)]) -> BTreeMap<String, BTreeMap<String, T>> {
    rows.iter().map(|(k, r)| (k.clone(), map(r))).collect()
}

fn expect<T: Clone>(entries: &[(&str, T)]) -> BTreeMap<String, T> {
    entries
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn expect2<T: Clone>(rows: &[(&str, &[(&str, T)])]) -> BTreeMap<String, BTreeMap<String, T>> {
    rows.iter()
        .map(|(k, r)| (k.to_string(), expect(r)))
        .collect()
}

fn opts(window_len: usize, tokens: bool, geo: bool) -> ScoreOptions {
    ScoreOptions {
        window_len,
        use_start_end_tokens: tokens,
        use_geo_mean: geo,
    }
}

// ----- test_anom_seq_cmds_only.py ----------------------------------------------------------

/// msticpy's cmds_only fixture tables are the model of `[["Set-User"]]`.
fn cmds_only_model() -> MarkovModel {
    train(SessionType::CmdsOnly, &[cmds(&["Set-User"])], None)
}

#[test]
fn cmds_only_compute_counts() {
    let model = cmds_only_model();
    let raw = model.raw_tables();
    assert_eq!(
        map(&raw.seq1),
        expect(&[(START, 1), ("Set-User", 1), (END, 1)])
    );
    assert_eq!(
        map2(&raw.seq2),
        expect2(&[(START, &[("Set-User", 1)]), ("Set-User", &[(END, 1)])])
    );
    // msticpy's low-level counter also accepts `[[]]`; the Model (and oddhunt) refuse it.
    let mut counts = MarkovCounts::new(SessionType::CmdsOnly);
    assert_eq!(
        counts.observe(&[]),
        Err(MarkovError::EmptySession { session: Some(0) })
    );
    assert_eq!(counts.sessions(), 0);
}

#[test]
fn cmds_only_laplace_smooth_counts() {
    let smoothed = cmds_only_model().smoothed_tables();
    assert_eq!(
        map(&smoothed.seq1),
        expect(&[(START, 4), ("Set-User", 7), (END, 4), (UNK, 6)])
    );
    assert_eq!(
        map2(&smoothed.seq2),
        expect2(&[
            (START, &[("Set-User", 2), (END, 1), (UNK, 1)]),
            ("Set-User", &[(END, 2), ("Set-User", 1), (UNK, 1)]),
            (UNK, &[("Set-User", 1), (END, 1), (UNK, 1)]),
        ])
    );
}

#[test]
fn cmds_only_probabilities_are_msticpys_fixture_tables() {
    let p = cmds_only_model().probability_tables();
    assert_eq!(
        map(&p.prior),
        expect(&[
            (START, 0.19047619047619047),
            ("Set-User", 0.3333333333333333),
            (END, 0.19047619047619047),
            (UNK, 0.2857142857142857),
        ])
    );
    assert_eq!(
        map2(&p.trans),
        expect2(&[
            (START, &[("Set-User", 0.5), (END, 0.25), (UNK, 0.25)]),
            ("Set-User", &[(END, 0.5), ("Set-User", 0.25), (UNK, 0.25)]),
            (
                UNK,
                &[
                    ("Set-User", 0.3333333333333333),
                    (END, 0.3333333333333333),
                    (UNK, 0.3333333333333333)
                ]
            ),
        ])
    );
}

#[test]
fn cmds_only_compute_likelihood_window() {
    let m = cmds_only_model();
    let w = cmds(&["Set-User"]);
    assert_eq!(m.window_likelihood_of(&w, false, false), Ok(1.0 / 3.0));
    assert_eq!(m.window_likelihood_of(&w, true, false), Ok(0.5));
    assert_eq!(
        m.window_likelihood_of(&w, false, true),
        Ok((1.0 / 3.0) * 0.5)
    );
    assert_eq!(m.window_likelihood_of(&w, true, true), Ok(0.5 * 0.5));
    assert_eq!(
        m.window_likelihood_of(&cmds(&["dfre"]), false, false),
        Ok(0.2857142857142857)
    );
    // msticpy returns NaN for an empty window; oddhunt refuses it.
    assert_eq!(
        m.window_likelihood_of(&[], false, false),
        Err(MarkovError::EmptySession { session: None })
    );
}

#[test]
fn cmds_only_compute_likelihood_windows_in_session() {
    let m = cmds_only_model();
    let session = cmds(&["Set-User", "dfgg", "Set-User", "Set-User"]);
    let n = session.len();
    let non_geo = m
        .window_likelihoods(&session, &opts(n, false, false))
        .expect("windows");
    assert_eq!(non_geo.len(), 1);
    let geo = m
        .window_likelihoods(&session, &opts(n, false, true))
        .expect("windows");
    assert_eq!(geo[0], non_geo[0].powf(1.0 / n as f64));
    assert_eq!(
        m.window_likelihoods(&session, &opts(n, true, false))
            .expect("w")
            .len(),
        2
    );
    assert_eq!(
        m.window_likelihoods(&session, &opts(n + 1, false, false))
            .expect("w")
            .len(),
        0
    );
    assert_eq!(
        m.window_likelihoods(&session, &opts(n + 1, true, false))
            .expect("w")
            .len(),
        1
    );
    // msticpy: session [] gives [] without tokens and [0.25] (trans[START][END]) with them.
    assert!(m.window_likelihoods(&[], &opts(1, true, false)).is_err());
    assert_eq!(
        m.probability_tables().trans[0]
            .1
            .iter()
            .find(|e| e.0 == END)
            .map(|e| e.1),
        Some(0.25)
    );
}

#[test]
fn cmds_only_rarest_window_session() {
    let m = cmds_only_model();
    let session = cmds(&["Set-User", "Set-User"]);
    let none = m
        .rarest_window(&session, &opts(3, false, false))
        .expect("rarest");
    assert!(none.likelihood.is_nan());
    assert_eq!((none.index, none.window.len()), (None, 0));
    let some = m
        .rarest_window(&session, &opts(3, true, false))
        .expect("rarest");
    assert_eq!(&session[some.window.clone()], &session[..]);
    assert_eq!(some.likelihood, 0.0625);
    assert_eq!(
        m.rarest_window(&session, &opts(0, true, false)),
        Err(MarkovError::WindowLength { window_len: 0 })
    );
}

// ----- test_anom_seq_cmds_params_only.py / _values.py / laplace_smooth / probabilities ----

/// msticpy's "data3": one session `Set-User{City, Identity}`, `Set-User{Identity}`.
fn data3(st: SessionType, modellable: Option<&[&str]>) -> MarkovModel {
    let session = vec![
        Command::new("Set-User")
            .param_value("City", "york")
            .param_value("Identity", "blah"),
        Command::new("Set-User").param_value("Identity", "blah"),
    ];
    train(st, &[session], modellable)
}

#[test]
fn data3_compute_counts() {
    for st in [SessionType::CmdsParamsOnly, SessionType::CmdsParamsValues] {
        let raw = data3(st, None).raw_tables();
        assert_eq!(
            map(&raw.seq1),
            expect(&[(START, 1), (END, 1), ("Set-User", 2)])
        );
        assert_eq!(
            map2(&raw.seq2),
            expect2(&[
                (START, &[("Set-User", 1)]),
                ("Set-User", &[(END, 1), ("Set-User", 1)])
            ])
        );
        assert_eq!(map(&raw.params), expect(&[("Identity", 2), ("City", 1)]));
        assert_eq!(
            map2(&raw.cmd_params),
            expect2(&[("Set-User", &[("Identity", 2), ("City", 1)])])
        );
        if st == SessionType::CmdsParamsValues {
            assert_eq!(map(&raw.values), expect(&[("york", 1), ("blah", 2)]));
            assert_eq!(
                map2(&raw.param_values),
                expect2(&[("City", &[("york", 1)]), ("Identity", &[("blah", 2)])])
            );
        } else {
            assert!(raw.values.is_empty() && raw.param_values.is_empty());
        }
    }
}

#[test]
fn data3_laplace_smooth_counts() {
    for st in [SessionType::CmdsParamsOnly, SessionType::CmdsParamsValues] {
        let s = data3(st, None).smoothed_tables();
        assert_eq!(
            map(&s.seq1),
            expect(&[(UNK, 6), (START, 4), (END, 4), ("Set-User", 8)])
        );
        assert_eq!(
            map2(&s.seq2),
            expect2(&[
                (START, &[(END, 1), (UNK, 1), ("Set-User", 2)]),
                (UNK, &[(END, 1), (UNK, 1), ("Set-User", 1)]),
                ("Set-User", &[("Set-User", 2), (END, 2), (UNK, 1)]),
            ])
        );
        assert_eq!(
            map(&s.params),
            expect(&[(UNK, 4), ("City", 2), ("Identity", 3)])
        );
        assert_eq!(
            map2(&s.cmd_params),
            expect2(&[
                (START, &[(UNK, 1)]),
                (END, &[(UNK, 1)]),
                (UNK, &[(UNK, 1)]),
                ("Set-User", &[("City", 2), ("Identity", 3), (UNK, 1)]),
            ])
        );
        if st == SessionType::CmdsParamsValues {
            assert_eq!(
                map(&s.values),
                expect(&[("york", 2), ("blah", 3), (UNK, 3)])
            );
            assert_eq!(
                map2(&s.param_values),
                expect2(&[
                    ("City", &[("york", 2), (UNK, 1)]),
                    ("Identity", &[("blah", 3), (UNK, 1)]),
                    (UNK, &[(UNK, 1)]),
                ])
            );
        }
    }
}

#[test]
fn data3_probabilities() {
    for st in [SessionType::CmdsParamsOnly, SessionType::CmdsParamsValues] {
        let p = data3(st, None).probability_tables();
        assert_eq!(
            map(&p.prior),
            expect(&[
                (START, 0.18181818181818182),
                (END, 0.18181818181818182),
                (UNK, 0.2727272727272727),
                ("Set-User", 0.36363636363636365),
            ])
        );
        assert_eq!(
            map2(&p.trans),
            expect2(&[
                (START, &[(END, 0.25), (UNK, 0.25), ("Set-User", 0.5)]),
                (
                    UNK,
                    &[(END, 1.0 / 3.0), (UNK, 1.0 / 3.0), ("Set-User", 1.0 / 3.0)]
                ),
                ("Set-User", &[(END, 0.4), (UNK, 0.2), ("Set-User", 0.4)]),
            ])
        );
        assert_eq!(
            map(&p.params),
            expect(&[
                (UNK, 0.18181818181818182),
                ("Identity", 0.13636363636363635),
                ("City", 0.09090909090909091)
            ])
        );
        assert_eq!(
            map2(&p.param_cond_cmd),
            expect2(&[
                (START, &[(UNK, 0.25)]),
                (END, &[(UNK, 0.25)]),
                (UNK, &[(UNK, 0.16666666666666666)]),
                (
                    "Set-User",
                    &[("City", 0.25), ("Identity", 0.375), (UNK, 0.125)]
                ),
            ])
        );
        if st == SessionType::CmdsParamsValues {
            assert_eq!(
                map(&p.values),
                expect(&[("york", 0.25), ("blah", 0.375), (UNK, 0.375)])
            );
            assert_eq!(
                map2(&p.value_cond_param),
                expect2(&[
                    (
                        "City",
                        &[("york", 0.6666666666666666), (UNK, 0.3333333333333333)]
                    ),
                    ("Identity", &[("blah", 0.75), (UNK, 0.25)]),
                    (UNK, &[(UNK, 1.0)]),
                ])
            );
        }
    }
}

#[test]
fn data3_compute_prob_setofparams_given_cmd() {
    let only = data3(SessionType::CmdsParamsOnly, None);
    assert_eq!(only.param_set_prob(&Command::new("Set-User"), false), 1.0);
    let identity = Command::new("Set-User").param("Identity");
    assert_eq!(only.param_set_prob(&identity, false), 0.24609375);
    assert_eq!(only.param_set_prob(&identity, true), 0.6266622418705731);

    let values = data3(SessionType::CmdsParamsValues, Some(&[]));
    let identity = Command::new("Set-User").param_value("Identity", "blah");
    assert_eq!(values.param_set_prob(&Command::new("Set-User"), false), 1.0);
    assert_eq!(values.param_set_prob(&identity, false), 0.24609375);
    let modelled = data3(SessionType::CmdsParamsValues, Some(&["Identity"]));
    assert_eq!(modelled.param_set_prob(&identity, false), 0.1845703125);
}

#[test]
fn data3_compute_likelihood_window() {
    let only = data3(SessionType::CmdsParamsOnly, None);
    let values = data3(SessionType::CmdsParamsValues, Some(&[]));
    let modelled = data3(SessionType::CmdsParamsValues, Some(&["Identity"]));
    let w_only = vec![Command::new("Set-User").param("Identity")];
    let w_values = vec![Command::new("Set-User").param_value("Identity", "blah")];
    for (m, w) in [(&only, &w_only), (&values, &w_values)] {
        assert_eq!(
            m.window_likelihood_of(w, false, false),
            Ok(0.22787717886202657)
        );
        assert_eq!(
            m.window_likelihood_of(w, true, false),
            Ok(0.31333112093528653)
        );
        assert_eq!(
            m.window_likelihood_of(w, false, true),
            Ok(0.09115087154481064)
        );
        assert_eq!(
            m.window_likelihoods(w, &opts(1, false, false)),
            Ok(vec![0.22787717886202657])
        );
    }
    assert_eq!(
        modelled.window_likelihood_of(&w_values, false, false),
        Ok(0.23834594522854924)
    );
}

#[test]
fn data3_rarest_window_session() {
    let only = data3(SessionType::CmdsParamsOnly, None);
    let values = data3(SessionType::CmdsParamsValues, Some(&[]));
    let s_only = vec![
        Command::new("Set-User").param("City"),
        Command::new("drfjh"),
    ];
    let s_values = vec![
        Command::new("Set-User").param_value("City", "york"),
        Command::new("drfjh"),
    ];
    for (m, s) in [(&only, &s_only), (&values, &s_values)] {
        let none = m.rarest_window(s, &opts(3, false, false)).expect("rarest");
        assert!(none.likelihood.is_nan() && none.window.is_empty());
        let some = m.rarest_window(s, &opts(3, true, false)).expect("rarest");
        assert_eq!(some.window.len(), 2);
        assert!(!some.likelihood.is_nan());
    }
}

// ----- get_params_to_model_values (and the spec §2.2 boundaries) ---------------------------

/// A values-type model whose param `p` occurs `n` times with `d` distinct values (the first
/// occurrences carry the distinct values, the rest repeat the first value).
fn modellable_for(n: usize, d: usize) -> BTreeSet<String> {
    let session: Vec<Command> = (0..n)
        .map(|i| {
            Command::new("Set-User").param_value("p", format!("v{}", i.min(d.saturating_sub(1))))
        })
        .collect();
    train(SessionType::CmdsParamsValues, &[session], None)
        .modellable_params()
        .clone()
}

#[test]
fn get_params_to_model_values() {
    // msticpy's own case: Identity 50 occurrences, 2 values; city 2 occurrences.
    let mut session = Vec::new();
    for i in 0..50 {
        session.push(
            Command::new("Set-User")
                .param_value("Identity", if i % 2 == 0 { "haha" } else { "hehe" }),
        );
    }
    session.push(Command::new("Set-User").param_value("city", "york"));
    session.push(Command::new("Set-User").param("city"));
    let model = train(SessionType::CmdsParamsValues, &[session], None);
    assert_eq!(
        model.modellable_params(),
        &BTreeSet::from(["Identity".to_string()])
    );

    let p = BTreeSet::from(["p".to_string()]);
    assert_eq!(modellable_for(20, 2), p, "n=20, d=2 (exactly 10 %)");
    assert!(modellable_for(20, 3).is_empty(), "n=20, d=3");
    assert!(modellable_for(19, 1).is_empty(), "n=19, d=1");
    assert_eq!(modellable_for(200, 20), p, "n=200, d=20");
    assert!(
        modellable_for(210, 21).is_empty(),
        "n=210, d=21: more than 20 values"
    );
    let empty_values: Vec<Command> = (0..30)
        .map(|_| Command::new("Set-User").param_value("p", ""))
        .collect();
    assert!(train(SessionType::CmdsParamsValues, &[empty_values], None)
        .modellable_params()
        .is_empty());
}

// ----- test_anom_seq_data_structures.py: lookups fall back to the unknown token ------------

#[test]
fn unseen_keys_fall_back_to_unknown_entries() {
    let m = cmds_only_model();
    let p = m.probability_tables();
    let prior_unk = map(&p.prior)[UNK];
    let trans = map2(&p.trans);
    // states_matrix["kidhf"]["kfji"] == states_matrix[UNK][UNK]
    assert_eq!(
        m.window_likelihood_of(&cmds(&["kidhf", "kfji"]), false, false),
        Ok(prior_unk * trans[UNK][UNK])
    );
    // states_matrix["haha"]["kjdff"] == states_matrix["haha"][UNK]
    assert_eq!(
        m.window_likelihood_of(&cmds(&["Set-User", "kjdff"]), false, false),
        Ok(map(&p.prior)["Set-User"] * trans["Set-User"][UNK])
    );
}

// ----- test_anom_seq_model.py and test_anom_seq.py ------------------------------------------

fn sessions1() -> Vec<Vec<Command>> {
    vec![
        cmds(&["Set-User", "Set-User"]),
        cmds(&["Set-Mailbox", "Set-User", "Set-User"]),
    ]
}

fn sessions2() -> Vec<Vec<Command>> {
    vec![
        vec![
            Command::new("Set-User").param("Identity"),
            Command::new("Set-User")
                .param("Identity")
                .param("City")
                .param("Name"),
        ],
        vec![
            Command::new("Set-Mailbox").param("Identity"),
            Command::new("Set-User").param("Identity").param("City"),
            Command::new("Set-User").param("Identity"),
        ],
    ]
}

fn sessions3() -> Vec<Vec<Command>> {
    vec![
        vec![
            Command::new("Set-User").param_value("Identity", "blah"),
            Command::new("Set-User")
                .param_value("Identity", "haha")
                .param_value("City", "york")
                .param_value("Name", "bob"),
        ],
        vec![
            Command::new("Set-Mailbox").param_value("Identity", "blah"),
            Command::new("Set-User")
                .param_value("Identity", "blah")
                .param_value("City", "london"),
            Command::new("Set-User").param_value("Identity", "haha"),
        ],
    ]
}

#[test]
fn model_init_refuses_bad_sessions() {
    assert_eq!(
        MarkovModel::fit(MarkovCounts::new(SessionType::CmdsOnly), None).err(),
        Some(MarkovError::NoSessions)
    );
    let mut counts = MarkovCounts::new(SessionType::CmdsOnly);
    counts.observe(&cmds(&["Set-User"])).expect("observe");
    assert_eq!(
        counts.observe(&[]),
        Err(MarkovError::EmptySession { session: Some(1) })
    );
    let err = counts
        .observe(&cmds(&["Set-User", END]))
        .expect_err("END is reserved");
    assert!(
        matches!(err, MarkovError::ReservedName { position: 1, .. }),
        "{err}"
    );
    assert_eq!(
        counts.sessions(),
        1,
        "refused sessions leave the counts unchanged"
    );
}

#[test]
fn model_train_and_scores() {
    for (st, sessions) in [
        (SessionType::CmdsOnly, sessions1()),
        (SessionType::CmdsParamsOnly, sessions2()),
        (SessionType::CmdsParamsValues, sessions3()),
    ] {
        let model = train(st, &sessions, None);
        let p = model.probability_tables();
        assert!(!p.prior.is_empty() && !p.trans.is_empty());
        assert_eq!(p.param_cond_cmd.is_empty(), st == SessionType::CmdsOnly);
        assert_eq!(
            p.value_cond_param.is_empty(),
            st != SessionType::CmdsParamsValues
        );
        for s in &sessions {
            for l in [2, 3] {
                let score = model.score(s, &opts(l, true, false)).expect("score");
                assert!(score.likelihood > 0.0 && score.geomean >= score.likelihood);
                assert!(score.rarest.index.is_some());
            }
        }
    }
}

#[test]
fn anomalous_score_sessions() {
    let r = score_sessions(&sessions1(), SessionType::CmdsOnly, 3).expect("score");
    assert_eq!(r.len(), 2);
    assert!(!r[0].window.is_empty());
    let r = score_sessions(&sessions2(), SessionType::CmdsParamsOnly, 3).expect("score");
    assert!(!r[0].window.is_empty());
    let r = score_sessions(&sessions3(), SessionType::CmdsParamsValues, 3).expect("score");
    assert!(!r[0].window.is_empty());
    let r = score_sessions(&sessions3(), SessionType::CmdsParamsValues, 5).expect("score");
    assert!(r[0].window.is_empty() && r[0].likelihood.is_nan());
}
