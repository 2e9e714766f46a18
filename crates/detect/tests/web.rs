//! The web detector on the real access logs of `shared/data/web_access_logs` (read through
//! oddhunt's ingest) and on a generated web server with injected scanners; merge and model-file
//! invariants.

use oddhunt_core::modelfile::ModelFile;
use oddhunt_core::{Event, Scored};
use oddhunt_detect::web::{Web, WebState};
use oddhunt_detect::{Detector, NoProgress};
use oddhunt_ingest::{read_events, resolve_inputs, IngestOptions};
use oddhunt_synth::web::{day_records, scanner_injection, WebOptions, WebRecord};
use oddhunt_synth::{Environment, Label};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::io::Write;
use std::ops::ControlFlow;
use std::sync::OnceLock;

const SAMPLES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/web_access_logs"
);

fn read(inputs: &[String]) -> Vec<Event> {
    let sources = resolve_inputs(inputs).expect("inputs");
    let mut events = Vec::new();
    read_events(&sources, &IngestOptions::default(), |e| {
        events.push(e);
        ControlFlow::Continue(())
    })
    .expect("readable");
    events
}

/// The public site's log, the Tomcat brute force and webshell, the Tunna tunnel through IIS.
fn real_events() -> &'static [Event] {
    static EVENTS: OnceLock<Vec<Event>> = OnceLock::new();
    EVENTS.get_or_init(|| {
        read(&[
            format!("{SAMPLES}/elastic_apache_logs/apache_logs_2015-05-17_18.log.gz"),
            format!(
                "{SAMPLES}/evtx_attack_samples_webshell/web_attack_and_isp_webshell_localhost_access_log.txt.gz"
            ),
            format!("{SAMPLES}/evtx_attack_samples_webshell/Tunna_rdp_tunnel_IIS.log.gz"),
        ])
    })
}

fn ranked(mut scored: Vec<Scored>) -> Vec<Scored> {
    scored.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.subject.cmp(&b.subject)));
    scored
}

fn hunt(detector: &Web, events: &[Event]) -> Vec<Scored> {
    let mut trainer = detector.trainer();
    events.iter().for_each(|e| trainer.observe(e));
    let fitted = trainer.fit(&NoProgress).expect("fits");
    ranked(fitted.scored_training.expect("scores while training"))
}

fn show(scored: &[Scored], n: usize) -> String {
    scored
        .iter()
        .take(n)
        .map(|s| format!("{:.3} {}", s.score, s.summary))
        .collect::<Vec<_>>()
        .join("\n")
}

fn write_log(dir: &tempfile::TempDir, name: &str, records: &mut [WebRecord]) -> String {
    records.sort_by_key(|r| r.time_ns);
    let path = dir.path().join(name);
    let mut f = std::fs::File::create(&path).unwrap();
    for r in records.iter() {
        writeln!(f, "{}", r.to_combined()).unwrap();
    }
    path.display().to_string()
}

#[test]
fn real_logs_rank_the_attackers_high() {
    let events = real_events();
    assert!(events.len() > 11_000, "{}", events.len());
    let scored = hunt(&Web::default(), events);
    assert!(scored.iter().all(|s| s.score > 0.0 && s.score <= 1.0));
    // The Tomcat manager brute force and webshell clients, and the Tunna tunnel, among ~900
    // clients of a public site.
    let top: Vec<&str> = scored.iter().take(10).map(|s| s.subject.as_str()).collect();
    for attacker in ["192.168.105.83", "192.168.105.64", "10.0.2.17"] {
        assert!(
            top.contains(&attacker),
            "{attacker}:\n{}",
            show(&scored, 12)
        );
    }
    let s = scored
        .iter()
        .find(|s| s.subject == "192.168.105.83")
        .unwrap();
    assert_eq!(s.context["source.ip"], "192.168.105.83");
    assert!(s.explanation["statuses"]["4xx"].as_u64().unwrap() > 0);
    assert_eq!(s.explanation["features"].as_array().map(Vec::len), Some(12));
}

/// Three days of the generated site, two scanners on the last.
fn generated() -> (Vec<WebRecord>, Vec<WebRecord>, Vec<Label>) {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let start = oddhunt_core::Timestamp::parse("2024-03-04T00:00:00Z").unwrap();
    let env = Environment::new(&mut rng, 40, 60, 3, start);
    let options = WebOptions::default();
    let mut baseline = Vec::new();
    for day in 0..2 {
        baseline.extend(day_records(&env, &mut rng, day, &options));
    }
    let mut today = day_records(&env, &mut rng, 2, &options);
    let mut labels = Vec::new();
    today.extend(scanner_injection(
        &env,
        &mut rng,
        2,
        "nikto",
        600,
        &mut labels,
    ));
    today.extend(scanner_injection(
        &env,
        &mut rng,
        2,
        "sqlmap",
        250,
        &mut labels,
    ));
    (baseline, today, labels)
}

#[test]
fn generated_scanners_are_findings() {
    let (mut baseline, mut today, labels) = generated();
    let dir = tempfile::tempdir().unwrap();
    let baseline = read(&[write_log(&dir, "base.log", &mut baseline)]);
    let today = read(&[write_log(&dir, "today.log", &mut today)]);
    let detector = Web::default();
    let mut all = baseline.clone();
    all.extend(today.iter().cloned());
    let hunted = hunt(&detector, &all);
    let mut trainer = detector.trainer();
    baseline.iter().for_each(|e| trainer.observe(e));
    let fitted = trainer.fit(&NoProgress).unwrap();
    let mut scorer = fitted.model.scorer();
    today.iter().for_each(|e| scorer.observe(e));
    let scored = ranked(scorer.finish(&NoProgress).unwrap());
    for (mode, list) in [("hunt", &hunted), ("score", &scored)] {
        for label in &labels {
            let rank = list
                .iter()
                .position(|s| s.subject == label.subject)
                .unwrap();
            // Ahead of them at most the site's own automation: the uptime monitor.
            assert!(
                rank < 3 && list[rank].score > 0.6,
                "{mode}: {} at {rank}:\n{}",
                label.description,
                show(list, 6)
            );
        }
    }
}

#[test]
fn model_file_round_trip_scores_the_same() {
    let (mut baseline, mut today, _) = generated();
    let dir = tempfile::tempdir().unwrap();
    let baseline = read(&[write_log(&dir, "base.log", &mut baseline)]);
    let today = read(&[write_log(&dir, "today.log", &mut today)]);
    let detector = Web::default();
    let mut trainer = detector.trainer();
    baseline.iter().for_each(|e| trainer.observe(e));
    let fitted = trainer.fit(&NoProgress).unwrap();
    let mut file = ModelFile::new("web", fitted.model.settings());
    fitted.model.save(&mut file).unwrap();
    let loaded = ModelFile::from_bytes(&file.to_bytes(), "web.oddhunt").unwrap();
    let (_, model) = oddhunt_detect::load_model(&loaded).unwrap();
    let score = |m: &dyn oddhunt_detect::Model| {
        let mut scorer = m.scorer();
        today.iter().for_each(|e| scorer.observe(e));
        scorer.finish(&NoProgress).unwrap()
    };
    assert_eq!(score(fitted.model.as_ref()), score(model.as_ref()));
}

fn state_of(events: &[Event]) -> WebState {
    let mut s = WebState::default();
    events.iter().for_each(|e| s.observe(e));
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, failure_persistence: None, ..ProptestConfig::default() })]
    /// Training states merge exactly: merge(A, B) = state(A ∪ B), whatever the split and order.
    #[test]
    fn merge_equals_training_on_the_union(cut1 in 0usize..12_000, cut2 in 0usize..12_000, swap in any::<bool>()) {
        let events = real_events();
        let (a, b) = (cut1.min(cut2).min(events.len()), cut1.max(cut2).min(events.len()));
        let whole = state_of(events);
        let mut parts = [state_of(&events[..a]), state_of(&events[a..b]), state_of(&events[b..])];
        if swap {
            parts.reverse();
        }
        let [mut first, second, third] = parts;
        first.merge(&second);
        first.merge(&third);
        let mut merged_ignored = first.ignored.to_vec();
        let mut whole_ignored = whole.ignored.to_vec();
        merged_ignored.sort();
        whole_ignored.sort();
        prop_assert_eq!(merged_ignored, whole_ignored);
        first.ignored = whole.ignored.clone();
        prop_assert!(first == whole);
    }
}
