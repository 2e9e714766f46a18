//! msticpy's own sessionize tests (tests/analysis/test_anom_sessionize.py, msticpy 3.0.2),
//! ported with the values they assert. User ids 1, 2, 3 become the strings "1", "2", "3".

use oddhunt_models::sessionize::{sessionize_all, SessionEvent, SessionLimits};

const MINUTE: i64 = 60_000_000_000;
/// 2020-01-03T00:00:00Z.
const JAN3: i64 = 1_578_009_600_000_000_000;
const DAY: i64 = 24 * 60 * MINUTE;

fn event(user: Option<&str>, time: i64, op: &str) -> SessionEvent<String> {
    SessionEvent {
        keys: vec![user.map(str::to_string)],
        time,
        payload: op.to_string(),
    }
}

fn df2() -> Vec<SessionEvent<String>> {
    vec![
        event(Some("1"), JAN3, "A"),
        event(Some("1"), JAN3 + MINUTE, "B"),
        event(Some("2"), JAN3 + 2 * DAY, "C"),
        event(
            Some("3"),
            JAN3 + 3 * DAY + 11 * 60 * MINUTE + 6 * MINUTE,
            "A",
        ),
        event(Some("1"), JAN3 + 60 * MINUTE, "A"),
        event(Some("2"), JAN3 + 2 * DAY + 21 * MINUTE, "B"),
        event(Some("2"), JAN3 + 2 * DAY + 25 * MINUTE, "C"),
    ]
}

type Row = (&'static str, i64, i64, Vec<&'static str>, i64);

fn check(events: Vec<SessionEvent<String>>, sep: i64, expected: &[Row]) {
    let sessions =
        sessionize_all(events, 1, SessionLimits::from_minutes(20, sep)).expect("sessionize");
    assert_eq!(sessions.len(), expected.len());
    for (s, (user, min, max, ops, duration_mins)) in sessions.iter().zip(expected) {
        let user = if user.is_empty() {
            None
        } else {
            Some(user.to_string())
        };
        assert_eq!(s.keys, vec![user]);
        assert_eq!((s.start, s.end), (*min, *max));
        assert_eq!(&s.events, ops);
        assert_eq!(s.duration(), duration_mins * MINUTE);
        assert_eq!(s.len(), ops.len());
    }
}

#[test]
fn sessionize_data_df1_empty() {
    let sessions = sessionize_all(
        Vec::<SessionEvent<String>>::new(),
        1,
        SessionLimits::default(),
    )
    .expect("empty");
    assert!(sessions.is_empty());
}

#[test]
fn sessionize_data_df2_gap_2() {
    check(
        df2(),
        2,
        &[
            ("1", JAN3, JAN3 + MINUTE, vec!["A", "B"], 1),
            ("1", JAN3 + 60 * MINUTE, JAN3 + 60 * MINUTE, vec!["A"], 0),
            ("2", JAN3 + 2 * DAY, JAN3 + 2 * DAY, vec!["C"], 0),
            (
                "2",
                JAN3 + 2 * DAY + 21 * MINUTE,
                JAN3 + 2 * DAY + 21 * MINUTE,
                vec!["B"],
                0,
            ),
            (
                "2",
                JAN3 + 2 * DAY + 25 * MINUTE,
                JAN3 + 2 * DAY + 25 * MINUTE,
                vec!["C"],
                0,
            ),
            (
                "3",
                JAN3 + 3 * DAY + 666 * MINUTE,
                JAN3 + 3 * DAY + 666 * MINUTE,
                vec!["A"],
                0,
            ),
        ],
    );
}

#[test]
fn sessionize_data_df2_gap_5() {
    check(
        df2(),
        5,
        &[
            ("1", JAN3, JAN3 + MINUTE, vec!["A", "B"], 1),
            ("1", JAN3 + 60 * MINUTE, JAN3 + 60 * MINUTE, vec!["A"], 0),
            ("2", JAN3 + 2 * DAY, JAN3 + 2 * DAY, vec!["C"], 0),
            (
                "2",
                JAN3 + 2 * DAY + 21 * MINUTE,
                JAN3 + 2 * DAY + 25 * MINUTE,
                vec!["B", "C"],
                4,
            ),
            (
                "3",
                JAN3 + 3 * DAY + 666 * MINUTE,
                JAN3 + 3 * DAY + 666 * MINUTE,
                vec!["A"],
                0,
            ),
        ],
    );
}

#[test]
fn sessionize_data_df3_null_user() {
    check(
        vec![event(None, JAN3, "A"), event(None, JAN3 + MINUTE, "B")],
        2,
        &[("", JAN3, JAN3 + MINUTE, vec!["A", "B"], 1)],
    );
}
