//! Explanations and the train-and-score path.

use oddhunt_models::markov::{
    train_and_score, Command, Factor, MarkovCounts, MarkovModel, ScoreOptions, SessionType,
};

/// A small "Exchange admin" world: mailbox changes with usual params and a few values.
fn training() -> Vec<Vec<Command>> {
    let mut sessions = Vec::new();
    for i in 0..60 {
        let who = ["alice", "bob", "carol"][i % 3];
        sessions.push(vec![
            Command::new("Get-Mailbox").param_value("Identity", who),
            Command::new("Set-Mailbox")
                .param_value("Identity", who)
                .param_value("AuditEnabled", "true"),
            Command::new("Get-Mailbox").param_value("Identity", who),
        ]);
    }
    sessions
}

fn model() -> MarkovModel {
    let mut counts = MarkovCounts::new(SessionType::CmdsParamsValues);
    for s in training() {
        counts.observe(&s).expect("observe");
    }
    MarkovModel::fit(counts, None).expect("fit")
}

#[test]
fn explanation_names_every_factor_of_the_rarest_window() {
    let model = model();
    assert!(model.modellable_params().contains("AuditEnabled"));
    let session = vec![
        Command::new("Get-Mailbox").param_value("Identity", "alice"),
        Command::new("New-InboxRule")
            .param_value("ForwardTo", "evil@example.com")
            .param_value("Identity", "alice"),
        Command::new("Set-Mailbox")
            .param_value("Identity", "alice")
            .param_value("AuditEnabled", "false"),
    ];
    let opts = ScoreOptions::default();
    let e = model.explain(&session, &opts).expect("explain");
    let score = model.score(&session, &opts).expect("score");
    assert_eq!(e.rarest, score.rarest);
    assert_eq!(e.session_likelihood, score.likelihood);
    assert_eq!(e.steps.len(), opts.window_len);

    // The factors multiply back to the window likelihood, in msticpy's order and grouping.
    let mut lik = 0.0f64;
    for (i, step) in e.steps.iter().enumerate() {
        let p = match &step.factor {
            Factor::Start { probability } | Factor::Prior { probability } => *probability,
            Factor::Transition { probability, .. } => *probability,
        };
        if i == 0 {
            lik = p * step.param_set_probability;
        } else {
            lik *= p;
            lik *= step.param_set_probability;
        }
    }
    assert_eq!(lik, e.rarest.likelihood);

    let rule = e
        .steps
        .iter()
        .find(|s| s.command == "New-InboxRule")
        .expect("unseen command in window");
    assert!(!rule.known_command);
    assert!(rule
        .params
        .iter()
        .all(|p| !p.seen_with_command && p.presence_probability.is_none()));

    let set = e
        .steps
        .iter()
        .find(|s| s.command == "Set-Mailbox")
        .expect("Set-Mailbox in window");
    assert!(set.known_command);
    assert!(matches!(&set.factor, Factor::Transition { from, .. } if from == "New-InboxRule"));
    let audit = set
        .params
        .iter()
        .find(|p| p.name == "AuditEnabled")
        .expect("param");
    assert!(audit.seen_with_command);
    let value = audit.value.as_ref().expect("modellable value explained");
    assert_eq!(value.value.as_deref(), Some("false"));
    assert!(!value.seen, "false was never seen for AuditEnabled");
    assert!(value.probability < 0.1);

    // Serialisable for findings.
    let json = serde_json::to_value(&e).expect("serialise");
    assert_eq!(json["steps"][1]["factor"]["kind"], "transition");
}

#[test]
fn explanation_reports_missing_usual_params() {
    let model = model();
    let session = vec![
        Command::new("Get-Mailbox").param_value("Identity", "bob"),
        Command::new("Set-Mailbox").param_value("Identity", "bob"),
    ];
    let e = model
        .explain(&session, &ScoreOptions::default())
        .expect("explain");
    let set = e
        .steps
        .iter()
        .find(|s| s.command == "Set-Mailbox")
        .expect("step");
    assert!(set
        .missing_usual_params
        .iter()
        .any(|(p, q)| p == "AuditEnabled" && *q > 0.5));
    // Too short for a window: no steps, NaN likelihood.
    let short = model
        .explain(
            &session[..1],
            &ScoreOptions {
                window_len: 3,
                ..ScoreOptions::default()
            },
        )
        .expect("explain");
    assert!(short.steps.is_empty() && short.rarest.likelihood.is_nan());
}

#[test]
fn train_and_score_equals_observe_fit_score() {
    // Enough sessions for several counting chunks, so the merge and id remapping run.
    let mut sessions = Vec::new();
    for i in 0..12_000 {
        let mut s = training()[i % 60].clone();
        if i % 7 == 0 {
            s.push(Command::new(format!("Cmd-{}", i % 50)).param_value("X", format!("{}", i % 3)));
        }
        sessions.push(s);
    }
    let opts = ScoreOptions::default();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .expect("pool");
    let (model, scores) = pool
        .install(|| train_and_score(&sessions, SessionType::CmdsParamsValues, None, &opts))
        .expect("train and score");
    let mut counts = MarkovCounts::new(SessionType::CmdsParamsValues);
    for s in &sessions {
        counts.observe(s).expect("observe");
    }
    assert_eq!(model.counts(), &counts);
    let reference = MarkovModel::fit(counts, None).expect("fit");
    for (s, got) in sessions.iter().zip(&scores) {
        assert_eq!(&reference.score(s, &opts).expect("score"), got);
    }
    // Errors name the session in the whole input.
    sessions[9_000].clear();
    let err = pool
        .install(|| train_and_score(&sessions, SessionType::CmdsParamsValues, None, &opts))
        .expect_err("empty session");
    assert!(err.to_string().contains("session 9000"), "{err}");
}
