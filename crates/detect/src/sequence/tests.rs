//! Unit tests of the sequence detector: merge of partial states, model-file round trip,
//! streaming scorer = hunt, short sessions, process events, pre-built sessions.

use super::*;
use crate::NoProgress;
use oddhunt_core::{EventBuilder, Timestamp};
use oddhunt_models::markov::{Command, CountTables};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;

const MIN: i64 = 60_000_000_000;

/// An Exchange-style command event.
fn command(user: &str, ip: Option<&str>, minute: i64, op: &str, params: &[(&str, &str)]) -> Event {
    let mut b = EventBuilder::new(
        EventKind::Command,
        Provenance::line(Arc::from("t.jsonl"), (minute + 1) as u64),
    );
    b.time(Some(Timestamp::from_unix_nanos(
        1_700_000_000_000_000_000 + minute * MIN,
    )))
    .field(Field::User, user)
    .field(Field::Operation, op);
    if let Some(ip) = ip {
        b.field(Field::SourceIp, ip);
    }
    for (n, v) in params {
        b.param(n, Some(v));
    }
    b.finish()
}

fn settings(session_type: SessionType) -> SequenceSettings {
    SequenceSettings {
        session_type,
        ..SequenceSettings::default()
    }
}

fn hunt(events: &[Event], settings: SequenceSettings) -> (Fitted, Vec<(String, u64)>) {
    let mut trainer = Sequence::new(settings).expect("settings").trainer();
    events.iter().for_each(|e| trainer.observe(e));
    let ignored = trainer.events_ignored();
    (trainer.fit(&NoProgress).expect("fit"), ignored)
}

fn by_id(scored: Vec<Scored>) -> BTreeMap<String, Scored> {
    scored.into_iter().map(|s| (s.subject.clone(), s)).collect()
}

/// Count tables with every row sorted: equal whatever order sessions were counted in.
fn canonical(mut t: CountTables) -> CountTables {
    for rows in [&mut t.seq2, &mut t.cmd_params, &mut t.param_values] {
        for (_, row) in rows.iter_mut() {
            row.sort();
        }
        rows.sort();
    }
    for list in [&mut t.seq1, &mut t.params, &mut t.values] {
        list.sort();
    }
    t
}

const OPS: &[&str] = &[
    "Get-Mailbox",
    "Set-Mailbox",
    "Set-User",
    "New-InboxRule",
    "Add-MailboxPermission",
];
const PARAMS: &[&str] = &["Identity", "Force", "ForwardTo", "AccessRights"];

/// One generated event: (user, minute, operation, [(param, value)]).
type Row = (usize, i64, usize, Vec<(usize, u8)>);

prop_compose! {
    /// Events of up to 6 users.
    fn activity()(rows in prop::collection::vec(
        (0..6usize, 0..600i64, 0..OPS.len(), prop::collection::vec((0..PARAMS.len(), 0..3u8), 0..3)),
        1..120,
    )) -> Vec<Row> {
        rows
    }
}

fn events_of(rows: &[Row]) -> Vec<Event> {
    let mut rows = rows.to_vec();
    rows.sort_by_key(|r| r.1);
    rows.iter()
        .map(|(u, m, op, params)| {
            let values: Vec<(String, String)> = params
                .iter()
                .map(|&(p, v)| (PARAMS[p].to_string(), format!("v{v}")))
                .collect();
            let pairs: Vec<(&str, &str)> = values
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            command(&format!("user{u}"), Some("10.0.0.1"), *m, OPS[*op], &pairs)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Partial states sharded by session key, merged, equal the state trained on everything:
    /// the same counts, the same sessions kept, and the same scores bit for bit (the kept
    /// sessions are counted again in msticpy's order, so even the order params multiply in
    /// agrees).
    #[test]
    fn merged_shards_equal_training_on_the_union(rows in activity(), type_index in 0..3usize, shard in 1..6usize) {
        let session_type = [SessionType::CmdsOnly, SessionType::CmdsParamsOnly, SessionType::CmdsParamsValues][type_index];
        let events = events_of(&rows);
        let detector = Sequence::new(SequenceSettings {
            modellable_params: Some(["Force".to_string()].into()),
            ..settings(session_type)
        }).expect("settings");
        let mut whole = detector.sequence_trainer();
        events.iter().for_each(|e| whole.observe(e));
        let mut a = detector.sequence_trainer();
        let mut b = detector.sequence_trainer();
        for e in &events {
            let user = e.get(Field::User).unwrap_or_default();
            if user < format!("user{shard}").as_str() { a.observe(e) } else { b.observe(e) }
        }
        a.merge(Box::new(b)).expect("merge");
        whole.flush();
        prop_assert_eq!(whole.events_used(), a.events_used());
        prop_assert_eq!(whole.counts().sessions(), a.counts().sessions());
        if whole.counts().sessions() == 0 {
            return Ok(());
        }
        let tables = |t: &SequenceTrainer| {
            canonical(MarkovModel::fit(t.counts().clone(), None).expect("fit").raw_tables())
        };
        prop_assert_eq!(tables(&whole), tables(&a));
        let x = by_id(Box::new(whole).fit(&NoProgress).expect("fit").scored_training.expect("kept"));
        let y = by_id(Box::new(a).fit(&NoProgress).expect("fit").scored_training.expect("kept"));
        prop_assert_eq!(x.keys().collect::<Vec<_>>(), y.keys().collect::<Vec<_>>());
        for (id, s) in &x {
            let t = &y[id];
            prop_assert_eq!(s.score.to_bits(), t.score.to_bits(), "{}", id);
            prop_assert_eq!(s.measure.value.to_bits(), t.measure.value.to_bits(), "{}", id);
            prop_assert_eq!(&s.explanation["commands"], &t.explanation["commands"]);
        }
    }
}

fn admin_day(user: &str, ip: &str, start: i64) -> Vec<Event> {
    let mut out = Vec::new();
    for (i, op) in ["Get-Mailbox", "Set-Mailbox", "Get-Mailbox", "Set-Mailbox"]
        .iter()
        .enumerate()
    {
        out.push(command(
            user,
            Some(ip),
            start + i as i64,
            op,
            &[("Identity", "bob")],
        ));
    }
    out
}

fn baseline() -> Vec<Event> {
    let mut events = Vec::new();
    for day in 0..30 {
        events.extend(admin_day("alice", "10.0.0.1", day * 1440 + 540));
        events.extend(admin_day("carol", "10.0.0.2", day * 1440 + 600));
    }
    events.sort_by_key(|e| e.time());
    events
}

#[test]
fn the_model_file_round_trip_scores_the_same() {
    let (fitted, _) = hunt(&baseline(), settings(SessionType::CmdsParamsValues));
    let mut file = ModelFile::new("sequence", fitted.model.settings());
    fitted.model.save(&mut file).expect("save");
    let bytes = file.to_bytes();
    let loaded = ModelFile::from_bytes(&bytes, "m.oddhunt").expect("read");
    let model = Sequence::default().load(&loaded).expect("load");
    assert_eq!(model.settings(), fitted.model.settings());
    let stored = model.settings();
    assert_eq!(stored["event_kind"], "command");
    assert_eq!(
        stored["session_keys"],
        serde_json::json!(["user.name", "source.ip"])
    );

    let today = {
        let mut e = admin_day("alice", "10.0.0.1", 31 * 1440 + 540);
        e.push(command(
            "mallory",
            Some("203.0.113.9"),
            31 * 1440 + 700,
            "Add-MailboxPermission",
            &[("Identity", "ceo"), ("AccessRights", "FullAccess")],
        ));
        e.push(command(
            "mallory",
            Some("203.0.113.9"),
            31 * 1440 + 701,
            "New-InboxRule",
            &[("ForwardTo", "x@evil.example")],
        ));
        e
    };
    let score = |m: &dyn Model| {
        let mut scorer = m.scorer();
        today.iter().for_each(|e| scorer.observe(e));
        by_id(scorer.finish(&NoProgress).expect("score"))
    };
    let (a, b) = (score(fitted.model.as_ref()), score(model.as_ref()));
    assert_eq!(a, b);
    assert_eq!(a.len(), 2);
    let odd = a
        .values()
        .max_by(|x, y| x.score.total_cmp(&y.score))
        .expect("two");
    assert!(
        odd.subject.starts_with("mallory|203.0.113.9@"),
        "{}",
        odd.subject
    );
    assert_eq!(
        odd.context.get("user.name").map(String::as_str),
        Some("mallory")
    );
    assert_eq!(
        odd.context.get("source.ip").map(String::as_str),
        Some("203.0.113.9")
    );
    assert_eq!(
        odd.explanation["unseen_commands"],
        serde_json::json!(["Add-MailboxPermission", "New-InboxRule"])
    );
    assert_eq!(odd.explanation["scored_by"], "rarest_window");
    assert_eq!(odd.explanation["rarest_window"]["index"], 0);
    assert_eq!(odd.provenance.len(), 2);

    // A model file of another detector, or with a broken section, is refused by name.
    let other = ModelFile::new("masquerade", serde_json::json!({}));
    assert!(Sequence::default().load(&other).is_err());
}

#[test]
fn streaming_scorer_equals_scoring_the_kept_training_sessions() {
    let events = baseline();
    let (fitted, ignored) = hunt(&events, settings(SessionType::CmdsParamsOnly));
    assert!(ignored.is_empty(), "{ignored:?}");
    let hunted = by_id(fitted.scored_training.expect("kept"));
    assert_eq!(hunted.len(), 60);
    let mut scorer = fitted.model.scorer();
    events.iter().for_each(|e| scorer.observe(e));
    assert_eq!(scorer.events_used(), events.len() as u64);
    let streamed = by_id(scorer.finish(&NoProgress).expect("score"));
    assert_eq!(hunted, streamed);
}

#[test]
fn short_sessions_fall_back_to_the_session_likelihood_or_stay_unscored() {
    let mut events = baseline();
    events.push(command(
        "dave",
        Some("10.9.9.9"),
        40 * 1440,
        "New-TransportRule",
        &[],
    ));
    let lone = "dave|10.9.9.9@";
    let (fitted, _) = hunt(&events, settings(SessionType::CmdsOnly));
    let scored = by_id(fitted.scored_training.expect("kept"));
    let s = scored
        .values()
        .find(|s| s.subject.starts_with(lone))
        .expect("lone session");
    assert!(s.measure.value.is_nan(), "no window of 3 in one command");
    assert_eq!(s.explanation["scored_by"], "session_likelihood");
    let lik = s.explanation["session_likelihood"]
        .as_f64()
        .expect("likelihood");
    assert_eq!(s.score, -lik.ln());
    // The unseen lone cmdlet outranks every ordinary session.
    assert!(scored
        .values()
        .filter(|x| x.subject != s.subject)
        .all(|x| x.score < s.score));

    let (fitted, _) = hunt(
        &events,
        SequenceSettings {
            short_sessions: ShortSessions::Unscored,
            ..settings(SessionType::CmdsOnly)
        },
    );
    let scored = by_id(fitted.scored_training.expect("kept"));
    let s = scored
        .values()
        .find(|s| s.subject.starts_with(lone))
        .expect("lone session");
    assert!(s.score.is_nan() && s.measure.value.is_nan());
    assert_eq!(s.explanation["scored_by"], "none");
}

#[test]
fn sessions_follow_the_gap_and_duration_limits() {
    // Gaps of 2 minutes stay (inclusive), 3 minutes split; 20 minutes of 1-minute steps split
    // after the 21st event.
    let mut events: Vec<Event> = [0, 2, 5]
        .iter()
        .map(|&m| command("u", None, m, "A", &[]))
        .collect();
    events.extend((100..125).map(|m| command("v", None, m, "B", &[])));
    let (fitted, _) = hunt(&events, settings(SessionType::CmdsOnly));
    let mut sizes: Vec<u64> = fitted
        .scored_training
        .expect("kept")
        .iter()
        .map(|s| s.explanation["commands_total"].as_u64().expect("n"))
        .collect();
    sizes.sort();
    assert_eq!(sizes, vec![1, 2, 4, 21]);
    assert_eq!(fitted.subjects, 4);
}

#[test]
fn process_events_become_executables_with_field_params() {
    let process = |host: &str, path: &str, parent: &str| {
        let mut b = EventBuilder::new(EventKind::ProcessStart, Provenance::line(Arc::from("p"), 1));
        b.time(Some(Timestamp::from_unix_nanos(0)))
            .field(Field::Host, host)
            .field(Field::User, "bob")
            .field(Field::ProcessPath, path)
            .field(Field::ParentPath, parent);
        b.finish()
    };
    let e = process(
        "WKS1",
        r"C:\Windows\System32\CMD.EXE",
        r"C:\Windows\explorer.exe",
    );
    let resolved = |t| settings(t).resolve(EventKind::ProcessStart);
    let params = SessionBuilder::new(resolved(SessionType::CmdsParamsOnly));
    assert_eq!(
        params.command_of(&e),
        Ok(Command::new("cmd.exe")
            .param("parent_name=explorer.exe")
            .param(r"process_path=c:\windows\system32\cmd.exe"))
    );
    let values = SessionBuilder::new(resolved(SessionType::CmdsParamsValues));
    assert_eq!(
        values.command_of(&e),
        Ok(Command::new("cmd.exe")
            .param_value("parent_name", "explorer.exe")
            .param_value("process_path", r"c:\windows\system32\cmd.exe"))
    );
    // Keys default to host + user; commands are ignored in a process model.
    let (fitted, ignored) = hunt(
        &[
            e.clone(),
            process("WKS1", r"C:\x\a.exe", r"C:\x\cmd.exe"),
            command("bob", None, 0, "Set-User", &[]),
        ],
        settings(SessionType::CmdsOnly),
    );
    assert_eq!(ignored, vec![("not a process_start event".to_string(), 1)]);
    let scored = fitted.scored_training.expect("kept");
    assert_eq!(scored.len(), 1);
    assert_eq!(
        scored[0].context.get("host.name").map(String::as_str),
        Some("WKS1")
    );
    assert_eq!(
        scored[0].explanation["commands"],
        serde_json::json!(["cmd.exe", "a.exe"])
    );
}

#[test]
fn prebuilt_sessions_train_and_score_and_bad_lines_name_their_place() {
    let detector = Sequence::new(settings(SessionType::CmdsParamsOnly)).expect("settings");
    let mut trainer = detector.trainer();
    let at = |line| Provenance::line(Arc::from("sessions.jsonl"), line);
    for i in 0..20u64 {
        trainer
            .observe_prebuilt(
                r#"["Get-Mailbox", {"name": "Set-Mailbox", "params": ["Identity"]}]"#,
                &at(i + 1),
            )
            .expect("line");
    }
    let err = trainer.observe_prebuilt("[]", &at(21)).expect_err("empty");
    match &err {
        DetectError::BadSubject { at, message } => {
            assert_eq!(at, "sessions.jsonl:21");
            assert!(message.contains("empty session"), "{message}");
        }
        other => panic!("expected a bad subject, got {other:?}"),
    }
    trainer
        .observe_prebuilt(
            r#"{"id": "kql-7", "user": "eve", "start": "2024-03-05T10:00:00Z", "session": ["Get-Mailbox", "New-InboxRule", "Set-Mailbox"]}"#,
            &at(22),
        )
        .expect("object line");
    assert_eq!(trainer.events_used(), 43);
    let fitted = trainer.fit(&NoProgress).expect("fit");
    let scored = by_id(fitted.scored_training.expect("kept"));
    assert_eq!(scored.len(), 21);
    let odd = &scored["kql-7"];
    assert_eq!(
        odd.context.get("user.name").map(String::as_str),
        Some("eve")
    );
    assert_eq!(
        odd.first_seen,
        Some(Timestamp::parse("2024-03-05T10:00:00Z").expect("t"))
    );
    assert!(
        scored.contains_key("sessions.jsonl:1"),
        "default ids name the line"
    );
    assert!(scored.values().all(|s| s.score <= odd.score));

    // Seed rows read like msticpy's score_sessions output.
    let finding = Finding::new(
        "sequence",
        odd.clone(),
        0.0,
        true,
        oddhunt_core::Severity::High,
    );
    let rows = explain::seed_records(&finding);
    assert_eq!(rows[0]["UserId"], "eve");
    assert_eq!(
        rows[0]["rarest_window3"],
        serde_json::json!(["Get-Mailbox", "New-InboxRule", "Set-Mailbox"])
    );
    assert!(rows[0]["rarest_window3_likelihood"].as_f64().is_some());

    // A detector of events refuses pre-built lines with a clear message.
    let mut masq = crate::masquerade::Masquerade::default().trainer();
    assert!(matches!(
        masq.observe_prebuilt("[]", &at(1)),
        Err(DetectError::Settings(_))
    ));
}

#[test]
fn settings_are_checked() {
    let bad = [
        SequenceSettings {
            window: 0,
            ..SequenceSettings::default()
        },
        SequenceSettings {
            max_gap_minutes: -1.0,
            ..SequenceSettings::default()
        },
        SequenceSettings {
            max_session_minutes: f64::NAN,
            ..SequenceSettings::default()
        },
        SequenceSettings {
            session_keys: vec!["no_such_field".into()],
            ..SequenceSettings::default()
        },
        SequenceSettings {
            param_fields: vec!["nope".into()],
            ..SequenceSettings::default()
        },
        SequenceSettings {
            event_kind: Some(EventKind::DnsQuery),
            ..SequenceSettings::default()
        },
    ];
    for s in bad {
        assert!(Sequence::new(s.clone()).is_err(), "{s:?}");
    }
    assert!(Sequence::new(SequenceSettings {
        session_keys: vec!["user".into(), "client_ip".into()],
        allowed_lateness: Lateness::All,
        ..SequenceSettings::default()
    })
    .is_ok());
}

#[test]
fn a_hunt_beyond_the_memory_budget_keeps_a_sample_and_asks_for_a_second_read() {
    let events = baseline();
    let (fitted, _) = hunt(
        &events,
        SequenceSettings {
            keep_sessions_mb: 0,
            ..settings(SessionType::CmdsOnly)
        },
    );
    assert!(fitted.scored_training.is_none());
    assert_eq!(
        fitted.training_scores.len(),
        60,
        "the sample (all 60 here) scores the training distribution"
    );
}

#[test]
fn oddness_is_minus_log_likelihood_and_never_infinite() {
    assert_eq!(explain::oddness(1.0), 0.0);
    assert!((explain::oddness(1e-3) - 6.907_755_278_982_137).abs() < 1e-12);
    assert!(explain::oddness(0.0).is_finite());
    assert!(explain::oddness(f64::NAN).is_nan());
}

#[test]
fn explanations_name_unseen_params_and_values_in_the_rarest_window() {
    let (fitted, _) = hunt(
        &baseline(),
        SequenceSettings {
            modellable_params: Some(["Identity".to_string()].into()),
            ..settings(SessionType::CmdsParamsValues)
        },
    );
    let odd = [
        command(
            "alice",
            Some("10.0.0.1"),
            50 * 1440,
            "Get-Mailbox",
            &[("Identity", "ceo")],
        ),
        command(
            "alice",
            Some("10.0.0.1"),
            50 * 1440 + 1,
            "Set-Mailbox",
            &[
                ("Identity", "ceo"),
                ("ForwardingSmtpAddress", "x@evil.example"),
            ],
        ),
    ];
    let mut scorer = fitted.model.scorer();
    odd.iter().for_each(|e| scorer.observe(e));
    let scored = scorer.finish(&NoProgress).expect("score");
    let e = &scored[0].explanation;
    assert_eq!(
        e["unseen_params"],
        serde_json::json!([{"command": "Set-Mailbox", "param": "ForwardingSmtpAddress"}])
    );
    let values = e["unseen_values"].as_array().expect("values");
    assert_eq!(values.len(), 2, "{values:?}");
    assert!(values
        .iter()
        .all(|v| v["param"] == "Identity" && v["value"] == "ceo"));
    // Steps: START → Get-Mailbox, → Set-Mailbox, → END, each with its factor.
    let steps = e["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 3);
    assert_eq!(steps[0]["factor"], "start");
    assert_eq!(steps[1]["factor"], "transition");
    assert_eq!(steps[1]["from"], "Get-Mailbox");
    assert_eq!(steps[2]["command"], "##END##");
}

#[test]
fn a_train_that_wants_no_scored_sessions_keeps_only_the_sample() {
    let events = baseline();
    let mut trainer = Sequence::default().trainer();
    trainer.set_scored_training_wanted(false);
    events.iter().for_each(|e| trainer.observe(e));
    let fitted = trainer.fit(&NoProgress).expect("fit");
    assert!(fitted.scored_training.is_none());
    assert_eq!(fitted.training_scores.len(), 60);
    // The same model as a hunt's (these commands list their params in one order).
    let (hunted, _) = hunt(&events, SequenceSettings::default());
    let score = |m: &dyn Model| {
        let mut s = m.scorer();
        events.iter().for_each(|e| s.observe(e));
        by_id(s.finish(&NoProgress).expect("score"))
    };
    assert_eq!(score(fitted.model.as_ref()), score(hunted.model.as_ref()));
}
