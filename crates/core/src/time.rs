//! UTC instants as logs write them.
//!
//! A [`Timestamp`] is nanoseconds since the Unix epoch (UTC), so it keeps whatever precision the
//! source had (Zeek's microseconds, EVTX's 100 ns ticks, Sentinel's 7-digit fractions). Parsing
//! accepts the shapes security logs actually use — ISO 8601 / RFC 3339 with or without zone,
//! with `T` or a space, a trailing ` UTC`; Apache's `10/Oct/2000:13:55:36 -0700`; Zeek's epoch
//! seconds; US-style `4/18/2020 4:50:30 AM` from Log Analytics exports — with a hand-written fast
//! path for ISO (the hot one) and `jiff` for everything else. Values without a zone are UTC.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// An instant in UTC with nanosecond resolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// Why a text could not be read as a timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot read {text:?} as a timestamp: {reason}")]
pub struct TimeError {
    /// The offending text (truncated to 64 characters).
    pub text: String,
    /// What was wrong with it.
    pub reason: &'static str,
}

impl TimeError {
    fn new(text: &str, reason: &'static str) -> Self {
        TimeError {
            text: text.chars().take(64).collect(),
            reason,
        }
    }
}

const NANOS_PER_SEC: i64 = 1_000_000_000;

impl Timestamp {
    /// The instant `nanos` nanoseconds after 1970-01-01T00:00:00Z.
    pub const fn from_unix_nanos(nanos: i64) -> Self {
        Timestamp(nanos)
    }

    /// Nanoseconds since the Unix epoch.
    pub const fn unix_nanos(self) -> i64 {
        self.0
    }

    /// Whole seconds since the Unix epoch (floor).
    pub const fn unix_seconds(self) -> i64 {
        self.0.div_euclid(NANOS_PER_SEC)
    }

    /// Seconds since the Unix epoch as a float (for plots and features).
    pub fn unix_seconds_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }

    /// From whole seconds since the epoch; `None` when out of range.
    pub fn from_unix_seconds(secs: i64) -> Option<Self> {
        secs.checked_mul(NANOS_PER_SEC).map(Timestamp)
    }

    /// Signed difference `self - earlier` in nanoseconds (saturating).
    pub fn nanos_since(self, earlier: Timestamp) -> i64 {
        self.0.saturating_sub(earlier.0)
    }

    /// This instant moved by `nanos` (saturating).
    pub fn add_nanos(self, nanos: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(nanos))
    }

    /// The instant as `jiff` sees it, for calendar arithmetic.
    pub fn to_jiff(self) -> jiff::Timestamp {
        // Every i64 nanosecond count is inside jiff's range (years -9999..=9999).
        jiff::Timestamp::from_nanosecond(self.0 as i128).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
    }

    /// From a `jiff` timestamp; `None` outside the i64-nanosecond range (years 1677-2262).
    pub fn from_jiff(ts: jiff::Timestamp) -> Option<Self> {
        i64::try_from(ts.as_nanosecond()).ok().map(Timestamp)
    }

    /// Parses any of the shapes listed in the module documentation.
    pub fn parse(text: &str) -> Result<Self, TimeError> {
        let trimmed = text.trim();
        let s = trimmed
            .strip_suffix(" UTC")
            .or_else(|| trimmed.strip_suffix(" GMT"))
            .unwrap_or(trimmed)
            .trim_start_matches('[')
            .trim_end_matches(']');
        if s.is_empty() {
            return Err(TimeError::new(text, "empty"));
        }
        if let Some(ts) = parse_iso_fast(s) {
            return ts.ok_or_else(|| TimeError::new(text, "outside the years 1677-2262"));
        }
        if let Some(ts) = parse_epoch(s) {
            return ts.ok_or_else(|| TimeError::new(text, "epoch value out of range"));
        }
        if let Some(ts) = parse_apache(s) {
            return ts.ok_or_else(|| TimeError::new(text, "invalid date in access-log time"));
        }
        if let Ok(ts) = jiff::Timestamp::from_str(s) {
            return Timestamp::from_jiff(ts)
                .ok_or_else(|| TimeError::new(text, "outside the years 1677-2262"));
        }
        for format in [
            "%m/%d/%Y %I:%M:%S %p",
            "%m/%d/%Y %H:%M:%S",
            "%d.%m.%Y %H:%M:%S",
        ] {
            if let Ok(dt) = jiff::civil::DateTime::strptime(format, s) {
                if let Ok(zoned) = dt.to_zoned(jiff::tz::TimeZone::UTC) {
                    return Timestamp::from_jiff(zoned.timestamp())
                        .ok_or_else(|| TimeError::new(text, "outside the years 1677-2262"));
                }
            }
        }
        Err(TimeError::new(text, "unrecognised date/time format"))
    }

    /// Parses Zeek's `ts` field (epoch seconds with a fraction) without going through f64, so
    /// microseconds survive exactly.
    pub fn parse_epoch_seconds(text: &str) -> Result<Self, TimeError> {
        let (int_part, frac_part) = match text.split_once('.') {
            Some((i, f)) => (i, f),
            None => (text, ""),
        };
        let negative = int_part.starts_with('-');
        let digits = int_part.trim_start_matches('-');
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(TimeError::new(text, "not an epoch number"));
        }
        if !frac_part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(TimeError::new(text, "not an epoch number"));
        }
        let secs: i64 = digits
            .parse()
            .map_err(|_| TimeError::new(text, "epoch value out of range"))?;
        let mut frac: i64 = 0;
        let mut scale = 100_000_000;
        for b in frac_part.bytes().take(9) {
            frac += i64::from(b - b'0') * scale;
            scale /= 10;
        }
        let nanos = secs
            .checked_mul(NANOS_PER_SEC)
            .and_then(|n| n.checked_add(frac))
            .ok_or_else(|| TimeError::new(text, "epoch value out of range"))?;
        Ok(Timestamp(if negative { -nanos } else { nanos }))
    }

    /// RFC 3339 text in UTC with as many fraction digits as needed (none for whole seconds).
    pub fn to_rfc3339(self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.to_jiff(), f)
    }
}

impl FromStr for Timestamp {
    type Err = TimeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Timestamp::parse(s)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        Timestamp::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Days from 1970-01-01 to the given proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 {
                29
            } else {
                28
            }
        }
    }
}

fn digits(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        bytes
            .iter()
            .fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0')),
    )
}

fn from_civil(
    year: i64,
    month: u32,
    day: u32,
    hms: (u32, u32, u32),
    nanos: i64,
    offset_secs: i64,
) -> Option<Option<Timestamp>> {
    let (hour, minute, second) = hms;
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let secs = days_from_civil(year, month, day) * 86_400
        + i64::from(hour) * 3600
        + i64::from(minute) * 60
        + i64::from(second.min(59))
        - offset_secs;
    Some(
        secs.checked_mul(NANOS_PER_SEC)
            .and_then(|n| n.checked_add(nanos))
            .map(Timestamp),
    )
}

/// `YYYY-MM-DD[T ]HH:MM[:SS[.fffffffff]][Z|±HH[:MM]]`. Outer `None`: not this shape; inner
/// `None`: this shape but outside the representable range.
fn parse_iso_fast(s: &str) -> Option<Option<Timestamp>> {
    let b = s.as_bytes();
    if b.len() < 16 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let year = i64::from(digits(&b[0..4])?);
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    if b[13] != b':' {
        return None;
    }
    let hour = digits(&b[11..13])?;
    let minute = digits(&b[14..16])?;
    let mut i = 16;
    let mut second = 0;
    let mut nanos: i64 = 0;
    if i < b.len() && b[i] == b':' {
        second = digits(b.get(i + 1..i + 3)?)?;
        i += 3;
        if i < b.len() && (b[i] == b'.' || b[i] == b',') {
            i += 1;
            let start = i;
            let mut scale = 100_000_000;
            while i < b.len() && b[i].is_ascii_digit() {
                if i - start < 9 {
                    nanos += i64::from(b[i] - b'0') * scale;
                    scale /= 10;
                }
                i += 1;
            }
            if i == start {
                return None;
            }
        }
    }
    let rest = &b[i..];
    let offset_secs = match rest {
        [] | [b'Z'] | [b'z'] => 0,
        [sign @ (b'+' | b'-'), tail @ ..] => {
            let (h, m) = match tail {
                [h1, h2] => (digits(&[*h1, *h2])?, 0),
                [h1, h2, m1, m2] => (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?),
                [h1, h2, b':', m1, m2] => (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?),
                _ => return None,
            };
            let off = i64::from(h) * 3600 + i64::from(m) * 60;
            if *sign == b'-' {
                -off
            } else {
                off
            }
        }
        _ => return None,
    };
    from_civil(year, month, day, (hour, minute, second), nanos, offset_secs)
}

/// Epoch seconds (9-11 integer digits, as Zeek and many JSON exports write them) or epoch
/// milliseconds (13 digits, as Java-based exporters do).
fn parse_epoch(s: &str) -> Option<Option<Timestamp>> {
    let int_part = s.split_once('.').map_or(s, |(i, _)| i);
    if !s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        || s.bytes().filter(|&b| b == b'.').count() > 1
    {
        return None;
    }
    match int_part.len() {
        9..=11 => Some(Timestamp::parse_epoch_seconds(s).ok()),
        13 if !s.contains('.') => Some(
            s.parse::<i64>()
                .ok()
                .and_then(|ms| ms.checked_mul(1_000_000))
                .map(Timestamp),
        ),
        _ => None,
    }
}

/// Apache/Nginx `%t`: `10/Oct/2000:13:55:36 -0700` (brackets already removed).
fn parse_apache(s: &str) -> Option<Option<Timestamp>> {
    let b = s.as_bytes();
    if b.len() < 20 || b[2] != b'/' || b[6] != b'/' || b[11] != b':' {
        return None;
    }
    let day = digits(&b[0..2])?;
    let month = match &b[3..6] {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    };
    let year = i64::from(digits(&b[7..11])?);
    let hour = digits(&b[12..14])?;
    let minute = digits(&b[15..17])?;
    let second = digits(&b[18..20])?;
    let mut offset = 0;
    let rest = s[20..].trim();
    if !rest.is_empty() {
        let rb = rest.as_bytes();
        if rb.len() != 5 || !matches!(rb[0], b'+' | b'-') {
            return None;
        }
        let h = i64::from(digits(&rb[1..3])?);
        let m = i64::from(digits(&rb[3..5])?);
        offset = h * 3600 + m * 60;
        if rb[0] == b'-' {
            offset = -offset;
        }
    }
    Some(from_civil(year, month, day, (hour, minute, second), 0, offset).unwrap_or(None))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> String {
        Timestamp::parse(s).unwrap().to_string()
    }

    #[test]
    fn iso_shapes() {
        assert_eq!(ts("2020-06-10T02:51:05.723Z"), "2020-06-10T02:51:05.723Z");
        assert_eq!(ts("2019-01-15 05:15:15.677"), "2019-01-15T05:15:15.677Z");
        assert_eq!(
            ts("2020-10-05T20:43:58.4505228Z UTC"),
            "2020-10-05T20:43:58.4505228Z"
        );
        assert_eq!(ts("2020-04-18T04:50:30Z"), "2020-04-18T04:50:30Z");
        assert_eq!(ts("2020-04-18T06:50:30+02:00"), "2020-04-18T04:50:30Z");
        assert_eq!(
            ts("2022-02-18T17:39:28.127636+00:00"),
            "2022-02-18T17:39:28.127636Z"
        );
        assert_eq!(ts("2020-04-18 04:50"), "2020-04-18T04:50:00Z");
    }

    #[test]
    fn other_shapes() {
        assert_eq!(ts("[10/Oct/2000:13:55:36 -0700]"), "2000-10-10T20:55:36Z");
        assert_eq!(ts("1331901000.000000"), "2012-03-16T12:30:00Z");
        assert_eq!(ts("1331901000.123456"), "2012-03-16T12:30:00.123456Z");
        assert_eq!(ts("1587185430000"), "2020-04-18T04:50:30Z");
        assert_eq!(ts("4/18/2020 4:50:30 AM"), "2020-04-18T04:50:30Z");
        assert_eq!(ts("4/18/2020 4:50:30 PM"), "2020-04-18T16:50:30Z");
    }

    #[test]
    fn rejects_garbage_and_impossible_dates() {
        assert!(Timestamp::parse("").is_err());
        assert!(Timestamp::parse("yesterday").is_err());
        assert!(Timestamp::parse("2021-02-30T00:00:00Z").is_err());
        assert!(Timestamp::parse("2021-13-01T00:00:00Z").is_err());
        // Zero FILETIME as EVTX writes it: outside the i64 nanosecond range.
        assert!(Timestamp::parse("1601-01-01T00:00:00Z").is_err());
    }

    #[test]
    fn fast_path_agrees_with_jiff() {
        for s in [
            "1970-01-01T00:00:00Z",
            "2000-02-29T23:59:59.999999999Z",
            "2262-04-11T23:47:16Z",
            "1900-03-01T00:00:00Z",
        ] {
            let ours = Timestamp::parse(s).unwrap();
            let theirs: jiff::Timestamp = s.parse().unwrap();
            assert_eq!(ours.unix_nanos() as i128, theirs.as_nanosecond(), "{s}");
        }
    }

    #[test]
    fn serde_round_trip() {
        let t = Timestamp::parse("2020-06-10T02:51:05.723Z").unwrap();
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, "\"2020-06-10T02:51:05.723Z\"");
        let back: Timestamp = serde_json::from_str(&json).unwrap();
        assert_eq!(back, t);
    }
}
