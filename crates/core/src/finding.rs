//! What detectors report: scored subjects, and findings (a scored subject past its threshold).
//!
//! A detector scores *subjects* — one process start, one session, one registered domain, one
//! rare process name — and returns a [`Scored`] per subject: score (higher = odder), its native
//! measure (likelihood, reconstruction error, similarity, ...), time range, a one-line summary,
//! a structured explanation, provenance back to the raw records, and context fields with ECS
//! names. The pipeline turns those past the threshold into [`Finding`]s with a stable id and a
//! severity.
//!
//! JSON form (one finding per line): flat dotted keys, ECS-style, so the file can be shipped to a
//! SIEM as is and read back by `oddhunt report`:
//! `@timestamp`, `event.kind` = `alert`, `event.module` = `oddhunt`, `event.dataset`,
//! `event.severity`, `event.risk_score`, the context fields (`process.name`, `user.name`, ...),
//! and `oddhunt.*` for the finding itself.

use crate::event::Provenance;
use crate::time::Timestamp;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;

/// A detector's own measure of a subject, next to the normalised score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Measure {
    /// What it is, e.g. `likelihood`, `reconstruction_error`, `similarity`, `path_length`.
    pub name: String,
    /// Its value (may be NaN for subjects the measure is undefined for).
    #[serde(with = "nan_as_null")]
    pub value: f64,
}

impl Measure {
    /// A named measure.
    pub fn new(name: impl Into<String>, value: f64) -> Self {
        Measure {
            name: name.into(),
            value,
        }
    }
}

/// One scored subject, before thresholding.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    /// What was scored, as the analyst would name it (a process name, a session id, a domain).
    pub subject: String,
    /// Oddness: higher = odder. NaN when the subject cannot be scored (never a finding).
    #[serde(with = "nan_as_null")]
    pub score: f64,
    /// The detector's native measure.
    pub measure: Measure,
    /// First event of the subject.
    pub first_seen: Option<Timestamp>,
    /// Last event of the subject.
    pub last_seen: Option<Timestamp>,
    /// One line for tables.
    pub summary: String,
    /// Structured, detector-specific explanation.
    pub explanation: Value,
    /// Raw records behind the subject (bounded by the detector).
    pub provenance: Vec<Provenance>,
    /// Context fields with ECS names (`host.name`, `process.executable`, ...).
    pub context: BTreeMap<String, String>,
    /// The detector's own base severity, when it knows better than the distance from the
    /// threshold (e.g. a look-alike name is a look-alike whatever its similarity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// Severity steps to add to the base severity (e.g. a look-alike name running from a
    /// user-writable folder).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub severity_boost: i8,
}

fn is_zero(v: &i8) -> bool {
    *v == 0
}

impl Scored {
    /// A scored subject with empty explanation, provenance and context.
    pub fn new(subject: impl Into<String>, score: f64, measure: Measure) -> Self {
        Scored {
            subject: subject.into(),
            score,
            measure,
            first_seen: None,
            last_seen: None,
            summary: String::new(),
            explanation: Value::Null,
            provenance: Vec::new(),
            context: BTreeMap::new(),
            severity: None,
            severity_boost: 0,
        }
    }
}

/// How urgent a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Just past the threshold.
    Low,
    /// Clearly past it.
    Medium,
    /// Far past it.
    High,
    /// Extreme.
    Critical,
}

impl Severity {
    /// All severities, lowest first.
    pub const ALL: [Severity; 4] = [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// Severity from how far a score lies beyond the threshold, in units of the score spread
    /// (`margin = (score - threshold) / spread`): < 0.5 low, < 1.5 medium, < 3 high, else
    /// critical.
    pub fn from_margin(margin: f64) -> Severity {
        if margin.is_nan() || margin < 0.5 {
            Severity::Low
        } else if margin < 1.5 {
            Severity::Medium
        } else if margin < 3.0 {
            Severity::High
        } else {
            Severity::Critical
        }
    }

    /// Moves the severity by `steps`, staying within low..=critical.
    pub fn bumped(self, steps: i8) -> Severity {
        let index = (self as i8 + steps).clamp(0, 3);
        Severity::ALL[index as usize]
    }

    /// ECS `event.risk_score` (0-100) in the Elastic detection-rule convention.
    pub fn risk_score(self) -> u8 {
        match self {
            Severity::Low => 21,
            Severity::Medium => 47,
            Severity::High => 73,
            Severity::Critical => 99,
        }
    }

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Reads a severity name.
    pub fn from_name(name: &str) -> Option<Severity> {
        Severity::ALL
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(name.trim()))
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A scored subject past its threshold (or, with `--all`, any scored subject).
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// Stable id: a hash of detector and subject, the same in every run (for deduplication).
    pub id: String,
    /// Detector name.
    pub detector: String,
    /// The scored subject.
    pub scored: Scored,
    /// The threshold it was compared with.
    pub threshold: f64,
    /// Whether the score is past the threshold (false only for `--all` output).
    pub alert: bool,
    /// Severity.
    pub severity: Severity,
    /// Name of the exclusion rule that suppressed it, if any.
    pub excluded_by: Option<String>,
}

/// The stable finding id of a detector's subject: 16 hex digits of SHA-256.
pub fn finding_id(detector: &str, subject: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(detector.as_bytes());
    hasher.update([0]);
    hasher.update(subject.as_bytes());
    let digest = hasher.finalize();
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

impl Finding {
    /// A finding from a scored subject.
    pub fn new(
        detector: &str,
        scored: Scored,
        threshold: f64,
        alert: bool,
        severity: Severity,
    ) -> Self {
        Finding {
            id: finding_id(detector, &scored.subject),
            detector: detector.to_string(),
            scored,
            threshold,
            alert,
            severity,
            excluded_by: None,
        }
    }

    /// A field of the finding by name, for exclusion rules and tables: `detector`, `subject`,
    /// `summary`, `severity`, or any context key (`process.name`, ...).
    pub fn field(&self, name: &str) -> Option<&str> {
        match name {
            "detector" => Some(&self.detector),
            "subject" => Some(&self.scored.subject),
            "summary" => Some(&self.scored.summary),
            "severity" => Some(self.severity.name()),
            "id" => Some(&self.id),
            _ => self.scored.context.get(name).map(String::as_str),
        }
    }

    /// The flat ECS-style JSON object (see the module documentation).
    pub fn to_json(&self) -> Map<String, Value> {
        let mut m = Map::new();
        let s = &self.scored;
        if let Some(t) = s.first_seen {
            m.insert("@timestamp".into(), Value::String(t.to_string()));
        }
        m.insert("event.kind".into(), "alert".into());
        m.insert("event.module".into(), "oddhunt".into());
        m.insert(
            "event.dataset".into(),
            format!("oddhunt.{}", self.detector).into(),
        );
        m.insert("event.severity".into(), (self.severity as u8 + 1).into());
        m.insert("event.risk_score".into(), self.severity.risk_score().into());
        for (k, v) in &s.context {
            m.insert(k.clone(), Value::String(v.clone()));
        }
        m.insert("oddhunt.id".into(), self.id.clone().into());
        m.insert("oddhunt.detector".into(), self.detector.clone().into());
        m.insert("oddhunt.subject".into(), s.subject.clone().into());
        m.insert("oddhunt.score".into(), float(s.score));
        m.insert("oddhunt.threshold".into(), float(self.threshold));
        m.insert("oddhunt.alert".into(), self.alert.into());
        m.insert("oddhunt.severity".into(), self.severity.name().into());
        m.insert(
            "oddhunt.measure".into(),
            serde_json::json!({"name": s.measure.name, "value": float(s.measure.value)}),
        );
        m.insert("oddhunt.summary".into(), s.summary.clone().into());
        m.insert("oddhunt.explanation".into(), s.explanation.clone());
        if let Some(t) = s.first_seen {
            m.insert("oddhunt.first_seen".into(), t.to_string().into());
        }
        if let Some(t) = s.last_seen {
            m.insert("oddhunt.last_seen".into(), t.to_string().into());
        }
        m.insert(
            "oddhunt.provenance".into(),
            serde_json::to_value(&s.provenance).unwrap_or(Value::Null),
        );
        if s.severity_boost != 0 {
            m.insert("oddhunt.severity_boost".into(), s.severity_boost.into());
        }
        if let Some(rule) = &self.excluded_by {
            m.insert("oddhunt.excluded_by".into(), rule.clone().into());
        }
        m
    }

    /// Reads the JSON object written by [`Finding::to_json`].
    pub fn from_json(mut m: Map<String, Value>) -> Result<Finding, String> {
        fn take_str(m: &mut Map<String, Value>, key: &str) -> Result<String, String> {
            match m.remove(key) {
                Some(Value::String(s)) => Ok(s),
                Some(other) => Err(format!("field {key} should be a string, found {other}")),
                None => Err(format!("missing field {key}")),
            }
        }
        fn take_f64(m: &mut Map<String, Value>, key: &str) -> Result<f64, String> {
            match m.remove(key) {
                Some(Value::Number(n)) => Ok(n.as_f64().unwrap_or(f64::NAN)),
                Some(Value::Null) => Ok(f64::NAN),
                Some(other) => Err(format!("field {key} should be a number, found {other}")),
                None => Err(format!("missing field {key}")),
            }
        }
        fn take_time(m: &mut Map<String, Value>, key: &str) -> Result<Option<Timestamp>, String> {
            match m.remove(key) {
                Some(Value::String(s)) => Timestamp::parse(&s)
                    .map(Some)
                    .map_err(|e| format!("field {key}: {e}")),
                Some(Value::Null) | None => Ok(None),
                Some(other) => Err(format!("field {key} should be a timestamp, found {other}")),
            }
        }
        let id = take_str(&mut m, "oddhunt.id")?;
        let detector = take_str(&mut m, "oddhunt.detector")?;
        let subject = take_str(&mut m, "oddhunt.subject")?;
        let score = take_f64(&mut m, "oddhunt.score")?;
        let threshold = take_f64(&mut m, "oddhunt.threshold")?;
        let alert = m
            .remove("oddhunt.alert")
            .and_then(|v| v.as_bool())
            .unwrap_or(true);
        let severity_name = take_str(&mut m, "oddhunt.severity")?;
        let severity = Severity::from_name(&severity_name)
            .ok_or_else(|| format!("unknown severity {severity_name:?}"))?;
        let measure: Measure = match m.remove("oddhunt.measure") {
            Some(v) => serde_json::from_value(v).map_err(|e| format!("oddhunt.measure: {e}"))?,
            None => Measure::new("score", score),
        };
        let summary = take_str(&mut m, "oddhunt.summary").unwrap_or_default();
        let explanation = m.remove("oddhunt.explanation").unwrap_or(Value::Null);
        let first_seen = take_time(&mut m, "oddhunt.first_seen")?;
        let last_seen = take_time(&mut m, "oddhunt.last_seen")?;
        let provenance: Vec<Provenance> = match m.remove("oddhunt.provenance") {
            Some(Value::Null) | None => Vec::new(),
            Some(v) => serde_json::from_value(v).map_err(|e| format!("oddhunt.provenance: {e}"))?,
        };
        let severity_boost = m
            .remove("oddhunt.severity_boost")
            .and_then(|v| v.as_i64())
            .unwrap_or(0)
            .clamp(-3, 3) as i8;
        let excluded_by = match m.remove("oddhunt.excluded_by") {
            Some(Value::String(s)) => Some(s),
            _ => None,
        };
        let mut context = BTreeMap::new();
        for (k, v) in m {
            if k == "@timestamp" || k.starts_with("event.") || k.starts_with("oddhunt.") {
                continue;
            }
            let text = match v {
                Value::String(s) => s,
                Value::Null => continue,
                other => other.to_string(),
            };
            context.insert(k, text);
        }
        Ok(Finding {
            id,
            detector,
            scored: Scored {
                subject,
                score,
                measure,
                first_seen,
                last_seen,
                summary,
                explanation,
                provenance,
                context,
                severity: None,
                severity_boost,
            },
            threshold,
            alert,
            severity,
            excluded_by,
        })
    }
}

fn float(v: f64) -> Value {
    serde_json::Number::from_f64(v)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

impl Serialize for Finding {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Finding {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let m = Map::deserialize(deserializer)?;
        Finding::from_json(m).map_err(D::Error::custom)
    }
}

/// Serde helper: NaN as `null`, since JSON has no NaN.
pub mod nan_as_null {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes NaN and infinities as `null`.
    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_f64(*v)
        } else {
            s.serialize_none()
        }
    }

    /// Reads `null` as NaN.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn sample() -> Finding {
        let mut s = Scored::new("svch0st.exe", 0.91, Measure::new("similarity", 0.91));
        s.summary = "looks like svchost.exe".into();
        s.first_seen = Some(Timestamp::parse("2024-01-01T10:00:00Z").unwrap());
        s.last_seen = Some(Timestamp::parse("2024-01-01T11:00:00Z").unwrap());
        s.context
            .insert("process.name".into(), "svch0st.exe".into());
        s.provenance
            .push(Provenance::record(Arc::from("a.evtx"), 42));
        s.explanation = serde_json::json!({"normal": "svchost.exe"});
        s.severity_boost = 1;
        Finding::new("masquerade", s, 0.85, true, Severity::High)
    }

    #[test]
    fn json_round_trip() {
        let f = sample();
        let text = serde_json::to_string(&f).unwrap();
        assert!(text.contains("\"process.name\":\"svch0st.exe\""));
        assert!(text.contains("\"event.kind\":\"alert\""));
        let back: Finding = serde_json::from_str(&text).unwrap();
        assert_eq!(back, f);
    }

    #[test]
    fn ids_are_stable_and_distinct() {
        assert_eq!(finding_id("dns", "a.com"), finding_id("dns", "a.com"));
        assert_ne!(finding_id("dns", "a.com"), finding_id("web", "a.com"));
        assert_eq!(finding_id("dns", "a.com").len(), 16);
    }

    #[test]
    fn severity_scale() {
        assert_eq!(Severity::from_margin(0.1), Severity::Low);
        assert_eq!(Severity::from_margin(1.0), Severity::Medium);
        assert_eq!(Severity::from_margin(2.0), Severity::High);
        assert_eq!(Severity::from_margin(10.0), Severity::Critical);
        assert_eq!(Severity::Low.bumped(5), Severity::Critical);
        assert_eq!(Severity::High.bumped(-5), Severity::Low);
    }
}
