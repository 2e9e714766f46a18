//! Reference tests for the sessionizer against msticpy's `sessionize_data`
//! (`shared/fixtures/markov/sessionize.json`): boundaries, order, keys (nulls and the literal
//! `dummy_str`), times and input indices, exactly; and the streaming [`Sessionizer`] giving the
//! same sessions as sets of events.

use std::collections::BTreeSet;

use oddhunt_models::sessionize::{
    sessionize_all, Session, SessionEvent, SessionLimits, Sessionizer,
};
use serde_json::Value;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/markov/sessionize.json"
);

/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z` to nanoseconds since the epoch (the fixtures' only shape).
fn parse_time(s: &str) -> i64 {
    let b = s.as_bytes();
    assert!(
        s.len() >= 20 && b[10] == b'T' && s.ends_with('Z'),
        "timestamp {s}"
    );
    let num = |r: std::ops::Range<usize>| s[r].parse::<i64>().expect("digits");
    let (y, m, d) = (num(0..4), num(5..7), num(8..10));
    let (hh, mm, ss) = (num(11..13), num(14..16), num(17..19));
    let mut nanos = 0;
    if b[19] == b'.' {
        let frac = &s[20..s.len() - 1];
        nanos = format!("{frac:0<9}").parse::<i64>().expect("fraction");
    }
    // Days from civil (proleptic Gregorian), H. Hinnant's algorithm.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    ((days * 86_400 + hh * 3600 + mm * 60 + ss) * 1_000_000_000) + nanos
}

struct Run {
    key_cols: Vec<String>,
    limits: SessionLimits,
    expected: Value,
}

fn cases() -> Vec<(String, Vec<Value>, Vec<Run>)> {
    let text = std::fs::read_to_string(FIXTURE).expect("reading sessionize.json");
    let fixture: Value = serde_json::from_str(&text).expect("parsing sessionize.json");
    assert_eq!(fixture["kind"], "sessionize");
    fixture["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| {
            let runs = c["runs"]
                .as_array()
                .expect("runs")
                .iter()
                .map(|r| {
                    let p = &r["params"];
                    assert_eq!(p["time_col"], "timestamp");
                    assert_eq!(p["event_col"], "command");
                    Run {
                        key_cols: p["user_identifier_cols"]
                            .as_array()
                            .expect("keys")
                            .iter()
                            .map(|k| k.as_str().expect("key col").to_string())
                            .collect(),
                        limits: SessionLimits::from_minutes(
                            p["max_session_time_mins"].as_i64().expect("session mins"),
                            p["max_event_separation_mins"].as_i64().expect("sep mins"),
                        ),
                        expected: r["expected"].clone(),
                    }
                })
                .collect();
            (
                c["name"].as_str().expect("name").to_string(),
                c["events"].as_array().expect("events").clone(),
                runs,
            )
        })
        .collect()
}

fn events(raw: &[Value], key_cols: &[String]) -> Vec<SessionEvent<String>> {
    raw.iter()
        .map(|e| SessionEvent {
            keys: key_cols
                .iter()
                .map(|k| e[k].as_str().map(str::to_string))
                .collect(),
            time: parse_time(e["timestamp"].as_str().expect("timestamp")),
            payload: e["command"].as_str().expect("command").to_string(),
        })
        .collect()
}

fn check_exact(name: &str, run: &Run, sessions: &[Session<String>], n_events: usize) {
    let expected = run.expected["sessions"].as_array().expect("sessions");
    assert_eq!(sessions.len(), expected.len(), "{name}: number of sessions");
    let mut event_session = vec![usize::MAX; n_events];
    for (i, (s, e)) in sessions.iter().zip(expected).enumerate() {
        let what = format!("{name} keys {:?} session {i}", run.key_cols);
        for (k, col) in run.key_cols.iter().enumerate() {
            assert_eq!(s.keys[k].as_deref(), e[col].as_str(), "{what}: key {col}");
        }
        assert_eq!(
            s.start,
            parse_time(e["timestamp_min"].as_str().expect("min")),
            "{what}: start"
        );
        assert_eq!(
            s.end,
            parse_time(e["timestamp_max"].as_str().expect("max")),
            "{what}: end"
        );
        assert_eq!(
            s.duration() as f64 / 1e9,
            e["duration_seconds"].as_f64().expect("duration"),
            "{what}"
        );
        assert_eq!(
            s.len() as u64,
            e["number_events"].as_u64().expect("n"),
            "{what}: number_events"
        );
        let commands: Vec<&str> = e["command_list"]
            .as_array()
            .expect("list")
            .iter()
            .map(|c| c.as_str().expect("c"))
            .collect();
        assert_eq!(s.events, commands, "{what}: command list");
        let indices: Vec<u64> = e["event_indices"]
            .as_array()
            .expect("idx")
            .iter()
            .map(|i| i.as_u64().expect("i"))
            .collect();
        assert_eq!(s.input_indices, indices, "{what}: event indices");
        assert!(!s.late);
        for &idx in &s.input_indices {
            event_session[idx as usize] = i;
        }
    }
    let expected_sessions: Vec<usize> = run.expected["event_session"]
        .as_array()
        .expect("event_session")
        .iter()
        .map(|i| i.as_u64().expect("session") as usize)
        .collect();
    assert_eq!(event_session, expected_sessions, "{name}: event_session");
}

#[test]
fn sessionize_all_matches_msticpy() {
    let mut runs = 0;
    for (name, raw, case_runs) in cases() {
        for run in &case_runs {
            let sessions =
                sessionize_all(events(&raw, &run.key_cols), run.key_cols.len(), run.limits)
                    .expect("sessionize");
            check_exact(&name, run, &sessions, raw.len());
            runs += 1;
        }
    }
    assert!(runs >= 11, "only {runs} runs");
}

fn as_sets(sessions: &[Session<String>]) -> BTreeSet<(Vec<Option<String>>, Vec<u64>)> {
    sessions
        .iter()
        .map(|s| (s.keys.clone(), s.input_indices.clone()))
        .collect()
}

/// Streaming with time-ordered input (stable: ties keep input order) gives msticpy's sessions.
#[test]
fn streaming_in_time_order_matches_sessionize_all() {
    for (name, raw, case_runs) in cases() {
        for run in &case_runs {
            let evs = events(&raw, &run.key_cols);
            let expected =
                sessionize_all(evs.clone(), run.key_cols.len(), run.limits).expect("sessionize");
            let mut order: Vec<usize> = (0..evs.len()).collect();
            order.sort_by_key(|&i| evs[i].time);
            let mut streaming =
                Sessionizer::new(run.key_cols.len(), run.limits, 0).expect("sessionizer");
            let mut out = Vec::new();
            for &i in &order {
                let keys: Vec<Option<&str>> = evs[i].keys.iter().map(|k| k.as_deref()).collect();
                streaming.push(&keys, evs[i].time, i as u64).expect("push");
                out.extend(streaming.drain_closed());
            }
            assert_eq!(streaming.stats().late_events, 0);
            out.extend(streaming.finish());
            // Payloads are input indices here, so map them back.
            let got: BTreeSet<(Vec<Option<String>>, Vec<u64>)> = out
                .iter()
                .map(|s| (s.keys.clone(), s.events.clone()))
                .collect();
            assert_eq!(got, as_sets(&expected), "{name} {:?}", run.key_cols);
            assert_eq!(out.len(), expected.len());
        }
    }
}

/// The fixtures' own (shuffled) input order, with enough allowed lateness, is reordered by
/// the buffer into the same sessions.
#[test]
fn streaming_reorders_within_allowed_lateness() {
    for (name, raw, case_runs) in cases() {
        for run in &case_runs {
            let evs = events(&raw, &run.key_cols);
            let expected =
                sessionize_all(evs.clone(), run.key_cols.len(), run.limits).expect("sessionize");
            let span = evs.iter().map(|e| e.time).max().unwrap_or(0)
                - evs.iter().map(|e| e.time).min().unwrap_or(0);
            let mut streaming =
                Sessionizer::new(run.key_cols.len(), run.limits, span).expect("sessionizer");
            for e in &evs {
                let keys: Vec<Option<&str>> = e.keys.iter().map(|k| k.as_deref()).collect();
                streaming
                    .push(&keys, e.time, e.payload.clone())
                    .expect("push");
            }
            assert_eq!(streaming.stats().late_events, 0);
            let out = streaming.finish();
            assert_eq!(
                as_sets(&out),
                as_sets(&expected),
                "{name} {:?}",
                run.key_cols
            );
        }
    }
}

/// Without lateness, the shuffled input's stragglers are not lost: each comes out as a
/// one-event late session, and every event is in exactly one session.
#[test]
fn late_events_are_emitted_and_counted() {
    let (_, raw, case_runs) = cases()
        .into_iter()
        .find(|c| c.0 == "random")
        .expect("random case");
    let run = &case_runs[0];
    let evs = events(&raw, &run.key_cols);
    let mut streaming = Sessionizer::new(run.key_cols.len(), run.limits, 0).expect("sessionizer");
    for e in &evs {
        let keys: Vec<Option<&str>> = e.keys.iter().map(|k| k.as_deref()).collect();
        streaming.push(&keys, e.time, ()).expect("push");
    }
    let late = streaming.stats().late_events;
    let out = streaming.finish();
    assert!(
        late > 100,
        "shuffled input should have many late events, got {late}"
    );
    assert_eq!(out.iter().filter(|s| s.late).count() as u64, late);
    assert!(out.iter().filter(|s| s.late).all(|s| s.len() == 1));
    let mut seen: Vec<u64> = out
        .iter()
        .flat_map(|s| s.input_indices.iter().copied())
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..evs.len() as u64).collect::<Vec<_>>());
}

#[test]
fn time_parser_reads_fractions() {
    assert_eq!(parse_time("1970-01-01T00:00:00Z"), 0);
    assert_eq!(parse_time("1970-01-01T00:00:01.5Z"), 1_500_000_000);
    assert_eq!(
        parse_time("2020-01-03T00:00:00Z"),
        1_578_009_600_000_000_000
    );
    assert_eq!(parse_time("1969-12-31T23:59:59.000000001Z"), -999_999_999);
}
