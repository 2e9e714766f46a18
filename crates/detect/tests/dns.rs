//! The dns detector on the real Zeek samples of `shared/data/zeek_dns` (read through oddhunt's
//! ingest as users do), with generated tunnels and a DGA burst mixed in; on a generated network
//! (train on a baseline, score the attack day); merge and model-file invariants; the
//! explanation shape the HTML report reads.

use oddhunt_core::modelfile::ModelFile;
use oddhunt_core::{Basis, Event, Exclusions, Scored};
use oddhunt_detect::dns::{Dns, DnsState};
use oddhunt_detect::{pipeline, Detector, NoProgress};
use oddhunt_ingest::{read_events, resolve_inputs, IngestOptions};
use oddhunt_synth::dns::{
    day_records, dga_injection, tunnel_injection, zeek_header, DnsOptions, DnsRecord, TunnelKind,
};
use oddhunt_synth::{Environment, Label};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::HashSet;
use std::io::Write;
use std::ops::ControlFlow;
use std::sync::OnceLock;

const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/zeek_dns");

/// Every Zeek dns.log of the shared samples (TSV and JSON, plain and gzip).
fn real_inputs() -> Vec<String> {
    [
        "zat/dns.log",
        "zat/json/dns.log",
        "rita/proxy/dns.log.gz",
        "rita/proxy/dns.16_00_00-17_00_00.log.gz",
        "rita/json_with_all_fields/dns.log",
        "stratosphere/005-simda-dga/dns.log.gz",
        "stratosphere/010-mixed/dns.log.labeled",
        "stratosphere/011-mixed/dns.log.labeled",
        "stratosphere/012-mixed/dns.log.labeled",
        "otrf_apt29",
    ]
    .iter()
    .map(|p| format!("{SAMPLES}/{p}"))
    .collect()
}

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

/// The real samples, read once for all tests.
fn real_events() -> &'static [Event] {
    static EVENTS: OnceLock<Vec<Event>> = OnceLock::new();
    EVENTS.get_or_init(|| read(&real_inputs()))
}

/// Writes generated records as a Zeek dns.log in `dir` and returns its path.
fn write_zeek(dir: &tempfile::TempDir, name: &str, records: &[DnsRecord]) -> String {
    let path = dir.path().join(name);
    let mut f = std::fs::File::create(&path).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    f.write_all(zeek_header("2024-04-29-16-00-00").as_bytes())
        .unwrap();
    for r in records {
        writeln!(f, "{}", r.to_zeek_tsv(&mut rng)).unwrap();
    }
    path.display().to_string()
}

fn ranked(mut scored: Vec<Scored>) -> Vec<Scored> {
    scored.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.subject.cmp(&b.subject)));
    scored
}

fn hunt(detector: &Dns, events: &[Event]) -> Vec<Scored> {
    let mut trainer = detector.trainer();
    events.iter().for_each(|e| trainer.observe(e));
    let fitted = trainer.fit(&NoProgress).expect("fits");
    ranked(fitted.scored_training.expect("scores while training"))
}

fn train_then_score(detector: &Dns, baseline: &[Event], today: &[Event]) -> Vec<Scored> {
    let mut trainer = detector.trainer();
    baseline.iter().for_each(|e| trainer.observe(e));
    let fitted = trainer.fit(&NoProgress).expect("fits");
    let mut scorer = fitted.model.scorer();
    today.iter().for_each(|e| scorer.observe(e));
    ranked(scorer.finish(&NoProgress).expect("scores"))
}

fn rank_of(scored: &[Scored], subject: &str) -> usize {
    scored
        .iter()
        .position(|s| s.subject == subject)
        .unwrap_or(usize::MAX)
}

fn show(scored: &[Scored], n: usize) -> String {
    scored
        .iter()
        .take(n)
        .map(|s| format!("{:.3} {}", s.score, s.summary))
        .collect::<Vec<_>>()
        .join("\n")
}

fn tunnel(kind: TunnelKind, queries: usize, seed: u64) -> (Vec<DnsRecord>, Vec<Label>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let start = oddhunt_core::Timestamp::parse("2024-04-29T00:00:00Z").unwrap();
    let env = Environment::new(&mut rng, 30, 40, 1, start);
    let mut labels = Vec::new();
    let records = tunnel_injection(&env, &mut rng, 0, kind, queries, &mut labels);
    (records, labels)
}

#[test]
fn real_samples_run_clean_with_a_sensible_top() {
    let events = real_events();
    assert!(events.len() >= 5500, "{}", events.len());
    let detector = Dns::default();
    let scored = hunt(&detector, events);
    assert!(scored.len() > 900, "{}", scored.len());
    assert!(scored.iter().all(|s| s.score > 0.0 && s.score <= 1.0));
    // No volume outlier at the top: the address zones, the big sites, the lab's own AD domain.
    let top: Vec<&str> = scored.iter().take(10).map(|s| s.subject.as_str()).collect();
    for volume in ["in-addr.arpa", "ip6.arpa", "google.com", "microsoft.com"] {
        assert!(
            !top.contains(&volume),
            "{volume} in the top 10:\n{}",
            show(&scored, 10)
        );
    }
    // The default threshold reports a reviewable handful.
    let findings = scored.iter().filter(|s| s.score > 0.7).count();
    assert!(
        (1..=scored.len() / 20).contains(&findings),
        "{findings} findings of {}",
        scored.len()
    );
    // NetBIOS and mDNS never reach the table.
    assert!(scored.iter().all(|s| !s.subject.ends_with(".local")));
}

#[test]
fn generated_tunnels_mixed_into_real_samples_rank_first() {
    let dir = tempfile::tempdir().unwrap();
    for (kind, file) in [
        (TunnelKind::Iodine, "iodine_dns.log"),
        (TunnelKind::Dnscat2, "dnscat2_dns.log"),
    ] {
        let (records, labels) = tunnel(kind, 300, 11);
        let mut inputs = real_inputs();
        inputs.push(write_zeek(&dir, file, &records));
        let events = read(&inputs);
        let scored = hunt(&Dns::default(), &events);
        assert_eq!(
            scored[0].subject,
            labels[0].subject,
            "{kind:?} hunt:\n{}",
            show(&scored, 5)
        );
        // It alarms: flagged, in the alarm cluster of long, random subdomains.
        assert_eq!(scored[0].explanation["cluster_alarms"], true);
        assert_eq!(scored[0].severity_boost, 1);
        // A model trained on the real samples alone ranks it first in new data too.
        let tunnel_events = read(&[dir.path().join(file).display().to_string()]);
        let mut today = real_events().to_vec();
        today.extend(tunnel_events);
        let scored = train_then_score(&Dns::default(), real_events(), &today);
        assert_eq!(
            scored[0].subject,
            labels[0].subject,
            "{kind:?} score:\n{}",
            show(&scored, 5)
        );
    }
}

#[test]
fn generated_network_finds_the_tunnel_and_the_dga_burst() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let start = oddhunt_core::Timestamp::parse("2024-03-04T00:00:00Z").unwrap();
    let env = Environment::new(&mut rng, 60, 80, 3, start);
    let options = DnsOptions::default();
    let mut baseline = Vec::new();
    for day in 0..2 {
        baseline.extend(day_records(&env, &mut rng, day, &options));
    }
    let mut today = day_records(&env, &mut rng, 2, &options);
    let mut labels = Vec::new();
    today.extend(tunnel_injection(
        &env,
        &mut rng,
        2,
        TunnelKind::Iodine,
        500,
        &mut labels,
    ));
    today.extend(dga_injection(&env, &mut rng, 2, 40, &mut labels));
    let dir = tempfile::tempdir().unwrap();
    let baseline = read(&[write_zeek(&dir, "baseline.log", &baseline)]);
    let today = read(&[write_zeek(&dir, "today.log", &today)]);
    let detector = Dns::default();
    let dga: HashSet<&str> = labels[1..].iter().map(|l| l.subject.as_str()).collect();
    let mut all = baseline.clone();
    all.extend(today.iter().cloned());
    for (mode, scored) in [
        ("hunt", hunt(&detector, &all)),
        ("score", train_then_score(&detector, &baseline, &today)),
    ] {
        assert_eq!(
            rank_of(&scored, &labels[0].subject),
            0,
            "{mode}:\n{}",
            show(&scored, 5)
        );
        // The DGA names rank in the top 2 % of about 3,000 domains (many are findings at the
        // default threshold; the rest just below it).
        let found = scored
            .iter()
            .filter(|s| s.score > 0.6 && dga.contains(s.subject.as_str()))
            .count();
        let mut ranks: Vec<usize> = dga.iter().map(|d| rank_of(&scored, d)).collect();
        ranks.sort_unstable();
        let median = ranks[ranks.len() / 2];
        assert!(
            median * 50 <= scored.len() && found >= dga.len() / 4,
            "{mode}: {found} of {} DGA names are findings; ranks {ranks:?} of {}",
            dga.len(),
            scored.len()
        );
    }
}

#[test]
fn explanations_carry_plot_features_and_context() {
    let scored = hunt(&Dns::default(), real_events());
    let top = &scored[0];
    let e = &top.explanation;
    for key in ["x", "y", "x_label", "y_label", "cluster"] {
        assert!(e["plot"].get(key).is_some(), "plot.{key} missing: {e}");
    }
    assert_eq!(e["plot"]["x_label"], "max subdomain entropy (bits/char)");
    let features = e["features"].as_array().unwrap();
    assert_eq!(features.len(), 10);
    let contributions: Vec<f64> = features
        .iter()
        .map(|f| f["contribution"].as_f64().unwrap())
        .collect();
    assert!(
        contributions.windows(2).all(|w| w[0] >= w[1]),
        "{contributions:?}"
    );
    for f in features {
        let p = f["percentile"].as_f64().unwrap();
        assert!((0.0..=100.0).contains(&p));
        assert!(f["name"].is_string() && f["value"].is_number());
    }
    assert!(e["cluster"].is_u64() && e["cluster_alarms"].is_boolean());
    assert_eq!(top.measure.name, "path_length");
    assert_eq!(
        top.context["dns.question.registered_domain"], top.subject,
        "{:?}",
        top.context
    );
    assert!(top.context["dns.question.name"].ends_with(&top.subject));
    assert!(top.context.contains_key("source.ip"));
    assert!(!top.provenance.is_empty());
    // Subjects outside the explained top keep their plot point and cluster only.
    let settings = oddhunt_detect::dns::DnsSettings {
        forest: oddhunt_detect::iforest_table::forest::ForestSettings {
            explain_top: 3,
            ..oddhunt_detect::dns::DnsSettings::default().forest
        },
        ..Default::default()
    };
    let few = hunt(&Dns::new(settings).unwrap(), real_events());
    let last = few.last().unwrap();
    assert!(last.explanation["features"].as_array().unwrap().is_empty());
    assert!(last.explanation["plot"]["x"].is_number());
    // The pipeline turns alarms into findings with raised severity.
    let outcome = pipeline::apply(
        "dns",
        scored,
        Dns::default().default_threshold(),
        Basis::Batch,
        None,
        &Exclusions::none(),
        false,
    )
    .unwrap();
    assert!(outcome.reported().count() > 0);
}

#[test]
fn model_file_round_trip_scores_the_same() {
    let (records, _) = tunnel(TunnelKind::Iodine, 100, 4);
    let dir = tempfile::tempdir().unwrap();
    let today = read(&[write_zeek(&dir, "t.log", &records)]);
    let detector = Dns::default();
    let mut trainer = detector.trainer();
    real_events().iter().for_each(|e| trainer.observe(e));
    let fitted = trainer.fit(&NoProgress).unwrap();
    let mut file = ModelFile::new("dns", fitted.model.settings());
    fitted.model.save(&mut file).unwrap();
    let loaded = ModelFile::from_bytes(&file.to_bytes(), "dns.oddhunt").unwrap();
    let (det, model) = oddhunt_detect::load_model(&loaded).unwrap();
    assert_eq!(det.name(), "dns");
    let score = |m: &dyn oddhunt_detect::Model| {
        let mut scorer = m.scorer();
        real_events()
            .iter()
            .chain(&today)
            .for_each(|e| scorer.observe(e));
        scorer.finish(&NoProgress).unwrap()
    };
    assert_eq!(score(fitted.model.as_ref()), score(model.as_ref()));
    // A model of another detector is refused.
    let mut other = ModelFile::new("web", fitted.model.settings());
    fitted.model.save(&mut other).unwrap();
    assert!(detector.load(&other).is_err());
}

fn state_of(events: &[Event]) -> DnsState {
    let mut s = DnsState::default();
    events.iter().for_each(|e| s.observe(e, false));
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]
    /// Training states merge exactly: merge(A, B) = state(A ∪ B), whatever the split and order.
    #[test]
    fn merge_equals_training_on_the_union(cut1 in 0usize..6000, cut2 in 0usize..6000, swap in any::<bool>()) {
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
        // Ignored counts keep first-seen order of reasons; compare them as sets.
        let mut merged_ignored = first.ignored.to_vec();
        let mut whole_ignored = whole.ignored.to_vec();
        merged_ignored.sort();
        whole_ignored.sort();
        prop_assert_eq!(merged_ignored, whole_ignored);
        first.ignored = whole.ignored.clone();
        prop_assert!(first == whole);
    }
}
