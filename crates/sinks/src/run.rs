//! Run records: what one detector's run read, how its threshold was derived, what it found, and
//! a bounded sample of its scores for plots.
//!
//! A run record travels with the findings: JSON-lines output ends with one record per detector
//! (`event.kind: metric`, `event.dataset: oddhunt.run`, the record under `oddhunt.run`), so a
//! SIEM sees the run's telemetry and `oddhunt report findings.jsonl` can draw the whole report
//! from the file alone.

use oddhunt_core::{Finding, Scored};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Records skipped while reading, for one reason.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SkipRecord {
    /// Why.
    pub reason: String,
    /// How many.
    pub count: u64,
    /// First examples (`file:line: why`).
    pub examples: Vec<String>,
    /// Malformed input (true) or merely not mapped (false).
    pub error: bool,
}

/// What the run read.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct InputRecord {
    /// Sources, as given.
    pub sources: Vec<String>,
    /// Decompressed bytes.
    pub bytes: u64,
    /// Records decoded.
    pub records: u64,
    /// Events by kind.
    pub events_by_kind: BTreeMap<String, u64>,
    /// Records not turned into events.
    pub skipped: Vec<SkipRecord>,
    /// Earliest event.
    pub first_seen: Option<String>,
    /// Latest event.
    pub last_seen: Option<String>,
}

/// The model that scored.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelRecord {
    /// Model file, when there is one.
    pub path: Option<String>,
    /// The oddhunt version that trained it.
    pub oddhunt_version: String,
    /// Training events.
    pub events: u64,
    /// Subjects learned.
    pub subjects: u64,
    /// Training time range.
    pub first_seen: Option<String>,
    /// Training time range.
    pub last_seen: Option<String>,
    /// Training sources.
    pub sources: Vec<String>,
    /// Settings.
    pub settings: serde_json::Value,
}

/// How the threshold was derived.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ThresholdRecord {
    /// The rule as written.
    pub rule: String,
    /// `batch` or `train`.
    pub basis: String,
    /// The cut value.
    #[serde(with = "oddhunt_core::finding::nan_as_null")]
    pub value: f64,
    /// How it was computed.
    pub derivation: String,
}

/// A histogram of the batch's scores.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// Bin edges (`counts.len() + 1` of them).
    pub edges: Vec<f64>,
    /// Subjects per bin.
    pub counts: Vec<u64>,
}

impl Histogram {
    /// Bins finite scores into at most `bins` equal-width bins.
    pub fn of(scores: &[f64], bins: usize) -> Histogram {
        let finite: Vec<f64> = scores.iter().copied().filter(|s| s.is_finite()).collect();
        if finite.is_empty() || bins == 0 {
            return Histogram::default();
        }
        let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if lo == hi {
            return Histogram {
                edges: vec![lo, lo + 1.0],
                counts: vec![finite.len() as u64],
            };
        }
        let width = (hi - lo) / bins as f64;
        let edges = (0..=bins).map(|i| lo + width * i as f64).collect();
        let mut counts = vec![0u64; bins];
        for s in finite {
            let i = (((s - lo) / width) as usize).min(bins - 1);
            counts[i] += 1;
        }
        Histogram { edges, counts }
    }
}

/// One scored subject in the plot sample.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlotPoint {
    /// The subject.
    pub subject: String,
    /// Its score.
    #[serde(with = "oddhunt_core::finding::nan_as_null")]
    pub score: f64,
    /// Its native measure.
    #[serde(with = "oddhunt_core::finding::nan_as_null")]
    pub measure: f64,
    /// Past the threshold.
    pub alert: bool,
    /// First seen.
    pub time: Option<String>,
    /// Detector-specific plot coordinates (`explanation.plot`), when the detector gives them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plot: Option<serde_json::Value>,
}

impl PlotPoint {
    /// The plot point of a scored subject.
    pub fn of(scored: &Scored, alert: bool) -> PlotPoint {
        PlotPoint {
            subject: scored.subject.clone(),
            score: scored.score,
            measure: scored.measure.value,
            alert,
            time: scored.first_seen.map(|t| t.to_string()),
            plot: scored.explanation.get("plot").cloned(),
        }
    }
}

/// A bounded sample of the scored subjects for plots: every alert (up to `max_alerts`) and an
/// evenly spaced sample of the rest (up to `max_others`), in the order given.
pub fn plot_sample<'a>(
    findings: impl IntoIterator<Item = &'a Finding>,
    max_alerts: usize,
    max_others: usize,
) -> Vec<PlotPoint> {
    let (alerts, others): (Vec<&Finding>, Vec<&Finding>) =
        findings.into_iter().partition(|f| f.alert);
    let alerts: Vec<&Finding> = alerts.into_iter().take(max_alerts).collect();
    let stride = others.len().div_ceil(max_others.max(1)).max(1);
    alerts
        .into_iter()
        .map(|f| PlotPoint::of(&f.scored, true))
        .chain(
            others
                .into_iter()
                .step_by(stride)
                .map(|f| PlotPoint::of(&f.scored, false)),
        )
        .collect()
}

/// One detector's run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Detector name.
    pub detector: String,
    /// What it finds.
    pub description: String,
    /// The subject it scores.
    pub subject: String,
    /// The scoring score's native measure name.
    pub measure: String,
    /// When the run ended.
    pub finished: Option<String>,
    /// What it read.
    pub inputs: InputRecord,
    /// The model.
    pub model: Option<ModelRecord>,
    /// The threshold.
    pub threshold: ThresholdRecord,
    /// Subjects scored.
    pub scored: usize,
    /// Past the threshold.
    pub alerts: usize,
    /// Reported (alerts not excluded).
    pub reported: usize,
    /// Suppressed per exclusion rule.
    pub excluded: Vec<(String, usize)>,
    /// Score distribution of the batch.
    pub histogram: Histogram,
    /// Bounded sample of scored subjects for plots.
    pub points: Vec<PlotPoint>,
}

impl RunRecord {
    /// The JSON-lines form: flat ECS-style keys around the record.
    pub fn to_json(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut m = serde_json::Map::new();
        if let Some(t) = &self.finished {
            m.insert("@timestamp".into(), t.clone().into());
        }
        m.insert("event.kind".into(), "metric".into());
        m.insert("event.module".into(), "oddhunt".into());
        m.insert("event.dataset".into(), "oddhunt.run".into());
        m.insert(
            "oddhunt.run".into(),
            serde_json::to_value(self).unwrap_or(serde_json::Value::Null),
        );
        m
    }

    /// Reads the JSON-lines form; `None` when the object is not a run record.
    pub fn from_json(
        m: &serde_json::Map<String, serde_json::Value>,
    ) -> Option<Result<Self, String>> {
        if m.get("event.dataset").and_then(|v| v.as_str()) != Some("oddhunt.run") {
            return None;
        }
        Some(
            m.get("oddhunt.run")
                .cloned()
                .ok_or_else(|| "run record without oddhunt.run".to_string())
                .and_then(|v| serde_json::from_value(v).map_err(|e| e.to_string())),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_bins_every_finite_score() {
        let h = Histogram::of(&[0.0, 0.1, 0.5, 1.0, f64::NAN], 4);
        assert_eq!(h.counts.iter().sum::<u64>(), 4);
        assert_eq!(h.edges.len(), 5);
        assert_eq!(h.counts, vec![2, 0, 1, 1]);
        assert_eq!(Histogram::of(&[2.0, 2.0], 10).counts, vec![2]);
        assert!(Histogram::of(&[], 10).counts.is_empty());
    }

    #[test]
    fn run_records_round_trip_through_json_lines() {
        let r = RunRecord {
            detector: "masquerade".into(),
            scored: 3,
            ..RunRecord::default()
        };
        let m = r.to_json();
        assert_eq!(m["event.kind"], "metric");
        assert_eq!(RunRecord::from_json(&m).unwrap().unwrap(), r);
        let mut other = serde_json::Map::new();
        other.insert("event.kind".into(), "alert".into());
        assert!(RunRecord::from_json(&other).is_none());
    }
}
