//! The masquerade detector end to end on generated logs, and its invariants.

use oddhunt_core::{Basis, Event, EventBuilder, EventKind, Exclusions, Field, Provenance};
use oddhunt_detect::masquerade::similarity::{join_naive, join_pruned, NameKey, ScoreRule};
use oddhunt_detect::masquerade::{Masquerade, MasqueradeSettings, MasqueradeState};
use oddhunt_detect::{pipeline, Detector, NoProgress};
use oddhunt_synth::windows::{day_records, masquerade_injection, ProcessOptions, ProcessRecord};
use oddhunt_synth::{Environment, Label};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeSet;
use std::sync::Arc;

fn to_event(env: &Environment, r: &ProcessRecord, line: u64) -> Event {
    let mut b = EventBuilder::new(
        EventKind::ProcessStart,
        Provenance::line(Arc::from("generated.jsonl"), line),
    );
    b.time(Some(oddhunt_core::Timestamp::from_unix_nanos(r.time_ns)))
        .field(Field::Host, &env.hosts[r.host].name)
        .field(Field::User, &r.user)
        .field(Field::ProcessPath, &r.path)
        .field(Field::CommandLine, &r.command_line)
        .field(Field::ParentPath, &r.parent);
    b.finish()
}

/// Seven days of a 30-host organisation, the notebook's validation set on the last day.
fn generated(inject: bool) -> (Vec<Event>, Vec<Label>) {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let start = oddhunt_core::Timestamp::parse("2024-03-04T00:00:00Z").unwrap();
    let env = Environment::new(&mut rng, 30, 60, 7, start);
    let options = ProcessOptions {
        events_per_host_day: 120.0,
        masquerade_day: None,
    };
    let mut records = Vec::new();
    let mut labels = Vec::new();
    for day in 0..env.days {
        records.extend(day_records(&env, &mut rng, day, &options));
    }
    if inject {
        records.extend(masquerade_injection(&env, &mut rng, 6, &mut labels));
    }
    records.sort_by_key(|r| r.time_ns);
    let events = records
        .iter()
        .enumerate()
        .map(|(i, r)| to_event(&env, r, i as u64 + 1))
        .collect();
    (events, labels)
}

fn hunt(detector: &Masquerade, events: &[Event]) -> Vec<String> {
    let mut trainer = detector.trainer();
    events.iter().for_each(|e| trainer.observe(e));
    let fitted = trainer.fit(&NoProgress).unwrap();
    let scored = fitted.scored_training.unwrap();
    let outcome = pipeline::apply(
        detector.name(),
        scored,
        detector.default_threshold(),
        Basis::Batch,
        None,
        &Exclusions::none(),
        false,
    )
    .unwrap();
    outcome
        .reported()
        .map(|f| f.scored.subject.clone())
        .collect()
}

#[test]
fn finds_every_injected_masquerade_and_nothing_on_clean_data() {
    let (events, labels) = generated(true);
    let injected: BTreeSet<String> = labels.iter().map(|l| l.subject.clone()).collect();
    assert_eq!(injected.len(), 42, "40 look-alikes + scvhost + svch0st");
    let found: BTreeSet<String> = hunt(&Masquerade::default(), &events).into_iter().collect();
    let missed: Vec<_> = injected.difference(&found).collect();
    assert!(missed.is_empty(), "missed {missed:?}");
    let false_alarms: Vec<_> = found.difference(&injected).collect();
    assert!(false_alarms.is_empty(), "false alarms {false_alarms:?}");

    let (clean, _) = generated(false);
    let found = hunt(&Masquerade::default(), &clean);
    assert!(found.is_empty(), "clean data gave {found:?}");
}

#[test]
fn seed_mode_misses_the_short_stems_it_is_known_to_miss() {
    let (events, labels) = generated(true);
    let injected: BTreeSet<String> = labels.iter().map(|l| l.subject.clone()).collect();
    let detector = Masquerade::new(MasqueradeSettings::seed()).unwrap();
    let found: BTreeSet<String> = hunt(&detector, &events).into_iter().collect();
    // Every seed finding is a real look-alike.
    assert!(
        found.is_subset(&injected),
        "seed false alarms: {:?}",
        found.difference(&injected).collect::<Vec<_>>()
    );
    // Short stems (one edit in <= 6 characters gives similarity <= 0.83) are invisible to it.
    for name in &injected {
        let stem = name.rsplit_once('.').map_or(name.as_str(), |(s, _)| s);
        if stem.chars().count() <= 6 {
            assert!(!found.contains(name), "seed should miss {name}");
        }
    }
    assert!(found.contains("svch0st.exe") && found.contains("scvhost.exe"));
}

#[test]
fn merged_partial_states_equal_training_on_everything() {
    let (events, _) = generated(true);
    let mut whole = MasqueradeState::default();
    events.iter().for_each(|e| whole.observe(e));
    for cut in [1, events.len() / 3, events.len() - 1] {
        let mut a = MasqueradeState::default();
        events[..cut].iter().for_each(|e| a.observe(e));
        let mut b = MasqueradeState::default();
        events[cut..].iter().for_each(|e| b.observe(e));
        a.merge(&b);
        assert_eq!(a, whole, "split at {cut}");
    }
}

#[test]
fn trained_model_survives_the_model_file_and_scores_new_days() {
    let (events, labels) = generated(true);
    let detector = Masquerade::default();
    // Baseline: days 1-6 (everything before the injection day); score: day 7.
    let split = events
        .iter()
        .position(|e| {
            e.time().unwrap().unix_nanos()
                >= oddhunt_core::Timestamp::parse("2024-03-10T00:00:00Z")
                    .unwrap()
                    .unix_nanos()
        })
        .unwrap();
    let mut trainer = detector.trainer();
    events[..split].iter().for_each(|e| trainer.observe(e));
    let fitted = trainer.fit(&NoProgress).unwrap();
    let mut file = oddhunt_core::ModelFile::new("masquerade", fitted.model.settings());
    fitted.model.save(&mut file).unwrap();
    let bytes = file.to_bytes();
    let loaded = oddhunt_core::ModelFile::from_bytes(&bytes, "m.oddhunt").unwrap();
    let (_, model) = oddhunt_detect::load_model(&loaded).unwrap();
    let mut scorer = model.scorer();
    events[split..].iter().for_each(|e| scorer.observe(e));
    let scored = scorer.finish(&NoProgress).unwrap();
    let outcome = pipeline::apply(
        "masquerade",
        scored,
        detector.default_threshold(),
        Basis::Batch,
        None,
        &Exclusions::none(),
        false,
    )
    .unwrap();
    let found: BTreeSet<String> = outcome
        .reported()
        .map(|f| f.scored.subject.clone())
        .collect();
    let injected: BTreeSet<String> = labels.iter().map(|l| l.subject.clone()).collect();
    assert_eq!(found, injected);
    // Explanations name the normal process, the edit, and raise severity for Temp.
    let svch0st = outcome
        .findings
        .iter()
        .find(|f| f.scored.subject == "svch0st.exe")
        .unwrap();
    assert_eq!(svch0st.scored.explanation["normal_process"], "svchost.exe");
    assert_eq!(svch0st.scored.explanation["edit_text"], "'o'→'0' at 4");
    assert!(svch0st.scored.severity_boost >= 1);
    assert!(
        svch0st.scored.summary.contains("user-writable"),
        "{}",
        svch0st.scored.summary
    );
}

fn name_strategy() -> impl Strategy<Value = String> {
    // Small alphabets force near-misses, transpositions and shared extensions.
    (
        "[abcsvh0o]{1,22}",
        prop::option::of(prop::sample::select(vec!["exe", "dll", "com"])),
    )
        .prop_map(|(stem, ext)| match ext {
            Some(e) => format!("{stem}.{e}"),
            None => stem,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn pruned_join_equals_naive_join(
        rare in prop::collection::vec(name_strategy(), 0..40),
        normal in prop::collection::vec(name_strategy(), 0..40),
        threshold in prop::sample::select(vec![0.5, 0.7, 0.85, 0.9]),
        min_length in prop::sample::select(vec![0usize, 7]),
        seed in any::<bool>(),
    ) {
        let rule = ScoreRule { threshold, min_length: if seed { 0 } else { min_length }, seed_compatible: seed, ignore_digit_changes: !seed };
        let rare: Vec<NameKey> = rare.iter().map(|s| NameKey::new(s)).collect();
        let normal: Vec<NameKey> = normal.iter().map(|s| NameKey::new(s)).collect();
        let mut naive: Vec<_> = join_naive(&rare, &normal, &rule).into_iter().map(|m| (m.rare, m.normal, m.pair.score.to_bits())).collect();
        let mut pruned: Vec<_> = join_pruned(&rare, &normal, &rule).into_iter().map(|m| (m.rare, m.normal, m.pair.score.to_bits())).collect();
        naive.sort();
        pruned.sort();
        prop_assert_eq!(naive, pruned);
    }
}

/// A small log where most names ran once or twice: a look-alike started three times ranks in
/// the middle (as `suchost.exe` in the msticpy demo data), not below `infrequent`.
#[test]
fn a_look_alike_of_a_far_more_common_name_counts_even_ranked_in_the_middle() {
    let mut events = Vec::new();
    let mut line = 0;
    let mut start = |path: String, n: usize, events: &mut Vec<Event>| {
        for _ in 0..n {
            line += 1;
            let mut b = EventBuilder::new(
                EventKind::ProcessStart,
                Provenance::line(Arc::from("t.jsonl"), line),
            );
            b.field(Field::ProcessPath, &path).field(Field::Host, "ws1");
            events.push(b.build());
        }
    };
    start(r"C:\Windows\System32\svchost.exe".into(), 53, &mut events);
    start(r"C:\Users\Public\suchost.exe".into(), 3, &mut events);
    for i in 0..40 {
        start(
            format!(r"C:\Program Files\Tool{i}\unrelatedprogram{i}.exe"),
            1 + i % 2,
            &mut events,
        );
    }
    for i in 0..10 {
        start(
            format!(r"C:\Program Files\App{i}\busyapplication{i}.exe"),
            20,
            &mut events,
        );
    }
    let default = Masquerade::new(MasqueradeSettings::default()).unwrap();
    assert_eq!(hunt(&default, &events), ["suchost.exe"]);
    // The notebook's rule (and --rarer-than 0) only looks below the infrequent rank.
    let seed = Masquerade::new(MasqueradeSettings::seed()).unwrap();
    assert!(hunt(&seed, &events).is_empty());
    let off = MasqueradeSettings {
        rarer_than: 0.0,
        ..MasqueradeSettings::default()
    };
    assert!(hunt(&Masquerade::new(off).unwrap(), &events).is_empty());
    // A name only five times rarer than the one it resembles is not enough.
    let mut fewer: Vec<Event> = events
        .iter()
        .filter(|e| e.get(Field::ProcessPath) != Some(r"C:\Windows\System32\svchost.exe"))
        .cloned()
        .collect();
    start(r"C:\Windows\System32\svchost.exe".into(), 15, &mut fewer);
    assert!(hunt(&default, &fewer).is_empty());
}
