//! The proccount detector: the seed notebook's own check, a generated discovery burst, merges,
//! model files and explanations.

use oddhunt_core::modelfile::ModelFile;
use oddhunt_core::{Event, EventBuilder, EventKind, Field, Provenance, Scored, Timestamp};
use oddhunt_detect::proccount::{CountScale, Entity, Proccount, ProccountSettings, WindowState};
use oddhunt_detect::{Detector, NoProgress};
use oddhunt_synth::process_attacks::discovery_burst;
use oddhunt_synth::windows::{day_records, ProcessOptions, ProcessRecord};
use oddhunt_synth::Environment;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;

const HOUR: i64 = 3_600_000_000_000;

fn start(event_line: u64, host: &str, name: &str, time_ns: i64) -> Event {
    let mut b = EventBuilder::new(
        EventKind::ProcessStart,
        Provenance::line(Arc::from("test.jsonl"), event_line),
    );
    b.time(Some(Timestamp::from_unix_nanos(time_ns)))
        .field(Field::Host, host)
        .field(Field::User, "alice")
        .field(Field::ProcessPath, &format!(r"C:\Windows\System32\{name}"));
    b.build()
}

/// Events of one window: `counts` of each name, spread over the hour.
fn window_events(line: &mut u64, host: &str, hour: i64, counts: &[(&str, usize)]) -> Vec<Event> {
    let mut out = Vec::new();
    for (name, n) in counts {
        for k in 0..*n {
            *line += 1;
            out.push(start(
                *line,
                host,
                name,
                hour * HOUR + (k as i64 + 1) * 60_000_000_000,
            ));
        }
    }
    out
}

fn train_and_score(
    settings: ProccountSettings,
    train: &[Event],
    test: &[Event],
) -> (Box<dyn oddhunt_detect::Model>, Vec<Scored>) {
    let detector = Proccount::new(settings).unwrap();
    let mut trainer = detector.trainer();
    train.iter().for_each(|e| trainer.observe(e));
    let fitted = trainer.fit(&NoProgress).unwrap();
    let mut scorer = fitted.model.scorer();
    test.iter().for_each(|e| scorer.observe(e));
    let scored = scorer.finish(&NoProgress).unwrap();
    (fitted.model, scored)
}

const NORMAL: [&str; 4] = ["cmd.exe", "conhost.exe", "svchost.exe", "werfault.exe"];
const BURST: [(&str, usize); 5] = [
    ("whoami.exe", 1),
    ("net.exe", 3),
    ("ver.exe", 1),
    ("query.exe", 2),
    ("sc.exe", 5),
];

/// The seed notebook's check: train on windows of cmd, conhost, svchost and werfault, each 0–5
/// times; normal test windows score small, the discovery burst far above them.
#[test]
fn seed_check_discovery_burst_scores_far_above_normal_windows() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut line = 0;
    let normal_window = |rng: &mut ChaCha8Rng, line: &mut u64, host: &str, hour: i64| {
        let counts: Vec<(&str, usize)> = NORMAL
            .iter()
            .map(|n| (*n, rng.random_range(0..=5usize)))
            .collect();
        window_events(line, host, hour, &counts)
    };
    let mut train = Vec::new();
    for h in 0..500 {
        train.extend(normal_window(
            &mut rng,
            &mut line,
            &format!("h{}", h % 5),
            h,
        ));
    }
    let mut test = Vec::new();
    for h in 0..100 {
        test.extend(normal_window(&mut rng, &mut line, "t1", 10_000 + h));
    }
    test.extend(window_events(&mut line, "t2", 20_000, &BURST));
    let (_, scored) = train_and_score(ProccountSettings::default(), &train, &test);
    let burst = scored
        .iter()
        .find(|s| s.subject.starts_with("host=t2 "))
        .unwrap();
    let normal: Vec<f64> = scored
        .iter()
        .filter(|s| s.subject.starts_with("host=t1 "))
        .map(|s| s.score)
        .collect();
    let max_normal = normal.iter().copied().fold(f64::MIN, f64::max);
    let mean_normal = normal.iter().sum::<f64>() / normal.len() as f64;
    eprintln!(
        "seed check: {} normal windows score mean {mean_normal:.3}, max {max_normal:.3}; the burst scores {:.3}",
        normal.len(),
        burst.score
    );
    assert_eq!(normal.len(), 100);
    assert!(
        burst.score > 2.0 * max_normal && burst.score > 5.0 * mean_normal,
        "burst {} vs normal max {max_normal}",
        burst.score
    );
    // The explanation names the discovery tools as what the window cannot reconstruct.
    let drivers: Vec<&str> = burst.explanation["drivers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["name"].as_str())
        .collect();
    assert!(drivers.contains(&"sc.exe"), "{drivers:?}");
    assert!(burst.summary.contains("sc.exe"), "{}", burst.summary);
}

fn events_of(env: &Environment, records: &[ProcessRecord], first_line: u64) -> Vec<Event> {
    records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut b = EventBuilder::new(
                EventKind::ProcessStart,
                Provenance::line(Arc::from("synth.jsonl"), first_line + i as u64),
            );
            let ms = r.time_ns - r.time_ns.rem_euclid(1_000_000);
            b.time(Some(Timestamp::from_unix_nanos(ms)))
                .field(Field::Host, &env.hosts[r.host].fqdn)
                .field(Field::User, &r.user)
                .field(Field::Domain, &r.domain)
                .field(Field::ProcessPath, &r.path)
                .field(Field::CommandLine, &r.command_line)
                .field(Field::ParentPath, &r.parent);
            b.build()
        })
        .collect()
}

/// A generated organisation: the discovery burst's window is the top finding of its day.
#[test]
fn generated_discovery_burst_is_the_top_window() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let start = Timestamp::parse("2024-03-04T00:00:00Z").unwrap();
    let env = Environment::new(&mut rng, 12, 20, 8, start);
    let options = ProcessOptions::default();
    let mut train = Vec::new();
    for day in 0..7 {
        let records = day_records(&env, &mut rng, day, &options);
        train.extend(events_of(&env, &records, train.len() as u64 + 1));
    }
    let mut labels = Vec::new();
    let mut today = day_records(&env, &mut rng, 7, &options);
    today.extend(discovery_burst(&env, &mut rng, 7, 60, &mut labels));
    let test = events_of(&env, &today, 1_000_000);
    for counts in [CountScale::Raw, CountScale::Log1p] {
        let settings = ProccountSettings {
            counts,
            ..ProccountSettings::default()
        };
        let (_, mut scored) = train_and_score(settings, &train, &test);
        scored.sort_by(|a, b| b.score.total_cmp(&a.score));
        let rank = scored
            .iter()
            .position(|s| s.subject == labels[0].subject)
            .unwrap();
        eprintln!(
            "{counts:?}: the burst window ranks {} of {} (score {:.3}; next {:.3})",
            rank + 1,
            scored.len(),
            scored[rank].score,
            scored.get(1).map_or(0.0, |s| s.score)
        );
        assert_eq!(rank, 0, "{counts:?}: {}", scored[0].summary);
        let new: Vec<&str> = scored[0].explanation["new_for_entity"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        assert!(new.contains(&"nltest.exe"), "{new:?}");
    }
}

#[test]
fn path_prefix_and_entities() {
    let mut line = 0;
    let mut events = window_events(&mut line, "h1", 0, &[("cmd.exe", 2)]);
    let mut b = EventBuilder::new(
        EventKind::ProcessStart,
        Provenance::line(Arc::from("t"), 99),
    );
    b.time(Some(Timestamp::from_unix_nanos(60_000_000_000)))
        .field(Field::Host, "h1")
        .field(Field::User, "alice")
        .field(Field::ProcessPath, r"C:\Users\alice\Downloads\tool.exe");
    events.push(b.build());
    let settings = ProccountSettings {
        path_prefix: Some(r"\Windows\".into()),
        epochs: 2,
        ..ProccountSettings::default()
    };
    let detector = Proccount::new(settings).unwrap();
    let mut trainer = detector.trainer();
    events.iter().for_each(|e| trainer.observe(e));
    assert_eq!(trainer.events_used(), 2);
    assert_eq!(
        trainer.events_ignored(),
        vec![("outside the path prefix".to_string(), 1)]
    );
    let user = ProccountSettings {
        entity: Entity::HostUser,
        epochs: 2,
        ..ProccountSettings::default()
    };
    let (_, scored) = train_and_score(user, &events, &events);
    assert_eq!(scored.len(), 1);
    assert_eq!(
        scored[0].subject,
        "host+user=h1|alice 1970-01-01T00:00:00Z/1h"
    );
    assert_eq!(scored[0].context["host.name"], "h1");
    assert!(Proccount::new(ProccountSettings {
        window_minutes: 0,
        ..ProccountSettings::default()
    })
    .is_err());
}

#[test]
fn model_file_round_trip_scores_the_same() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut line = 0;
    let mut events = Vec::new();
    for h in 0..60 {
        let counts: Vec<(&str, usize)> = NORMAL
            .iter()
            .map(|n| (*n, rng.random_range(0..=5usize)))
            .collect();
        events.extend(window_events(&mut line, "h1", h, &counts));
    }
    let settings = ProccountSettings {
        epochs: 5,
        ..ProccountSettings::default()
    };
    let detector = Proccount::new(settings).unwrap();
    let (model, scored) = train_and_score(detector.settings.clone(), &events, &events);
    let mut file = ModelFile::new("proccount", model.settings());
    model.save(&mut file).unwrap();
    let loaded = ModelFile::from_bytes(&file.to_bytes(), "mem").unwrap();
    let model2 = detector.load(&loaded).unwrap();
    let mut scorer = model2.scorer();
    events.iter().for_each(|e| scorer.observe(e));
    let again = scorer.finish(&NoProgress).unwrap();
    let a: Vec<(String, f64)> = scored
        .iter()
        .map(|s| (s.subject.clone(), s.score))
        .collect();
    let b: Vec<(String, f64)> = again.iter().map(|s| (s.subject.clone(), s.score)).collect();
    assert_eq!(a, b);
    // A model of another detector is refused.
    let other = ModelFile::new("cmdline", serde_json::json!({}));
    assert!(detector.load(&other).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Merging the window states of any split of the events equals the state of all of them,
    /// also when the bound samples windows.
    #[test]
    fn window_states_merge_exactly(
        events in prop::collection::vec((0u8..6, 0i64..40, 0u8..4), 1..300),
        split in prop::collection::vec(any::<bool>(), 300),
        max_windows in 5usize..60,
    ) {
        let names = ["cmd.exe", "net.exe", "whoami.exe", "svchost.exe"];
        let t = Timestamp::from_unix_nanos(0);
        let mut whole = WindowState::new(max_windows, 9);
        let mut a = WindowState::new(max_windows, 9);
        let mut b = WindowState::new(max_windows, 9);
        for (i, (host, hour, name)) in events.iter().enumerate() {
            let key = (format!("h{host}"), hour * HOUR);
            let p = Provenance::line(Arc::from("x"), i as u64);
            let n = names[*name as usize];
            whole.add(key.clone(), n, t, &p);
            if split[i] { a.add(key, n, t, &p) } else { b.add(key, n, t, &p) }
        }
        a.merge(b);
        prop_assert_eq!(a, whole);
    }
}
