//! `iforest`: the Isolation Forest over any numeric feature table, for the analyst who
//! engineered features elsewhere (`oddhunt hunt iforest -i features.csv --features a,b,c --id
//! host`), and the feature-forest recipe the `dns`, `web` and `exeprev` detectors share
//! ([`forest`]).
//!
//! **Input**: rows handed over as pre-built subjects ([`Trainer::observe_prebuilt`]), one JSON
//! object per row whose members are the table's columns: the CLI decodes CSV, TSV and JSON
//! inputs into such rows. Feature values are numbers or numeric text; a row with a missing or
//! non-numeric feature is a [`DetectError::BadSubject`] naming the file, line and column (the
//! caller skips it and counts it, or stops). Events work too: a feature is then looked up as an
//! event field (ECS name or alias) or a source field kept with the event.
//!
//! **Subject**: the `id` column's value, else `row N` (N = 1-based data row over all inputs).
//! **Score**: the anomaly score `s` in (0, 1] (higher = odder); native measure: the mean path
//! length. No log scaling: the table's features enter the forest as given. Optional k-means
//! over the flagged rows (`clusters`, default 0 = none); with clusters, the analyst names the
//! alarm clusters (`alarm_clusters`; a generic table has no notion of which direction is bad).
//!
//! **Plot axes**: the two features that isolate the flagged training rows most (largest mean
//! contribution), so the report's scatter shows the plane the anomalies stand out in.
//!
//! **Default threshold** `score>0.6`, as the other forest detectors. **Memory**: the table itself
//! (rows × features × 8 bytes, plus ids): the input is already one row per subject.

pub mod forest;

use crate::detector::{
    DetectError, Detector, Fitted, IgnoredCounts, Model, Needs, Progress, Scorer, Trainer,
};
use forest::{
    detailed_rows, short_number, AlarmRule, FeatureDef, FeatureForest, ForestSettings, Scale,
    Verdict,
};
use oddhunt_core::modelfile::ModelFile;
use oddhunt_core::{Event, EventKind, Measure, Provenance, Rule, Scored, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Settings of the generic iforest detector.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IForestSettings {
    /// Forest, flagging and clustering (no clusters by default).
    pub forest: ForestSettings,
    /// The feature columns, in order.
    pub features: Vec<String>,
    /// The column naming each row (the finding's subject); `None` = the row number.
    pub id: Option<String>,
}

impl IForestSettings {
    fn validate(&self) -> Result<(), DetectError> {
        self.forest.validate("iforest")?;
        if self.features.is_empty() {
            return Err(DetectError::Settings(
                "iforest needs the feature columns: --features a,b,c".into(),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for f in &self.features {
            if f.trim().is_empty() {
                return Err(DetectError::Settings(
                    "iforest: an empty feature name in --features".into(),
                ));
            }
            if !seen.insert(f.as_str()) {
                return Err(DetectError::Settings(format!(
                    "iforest: feature {f:?} given twice"
                )));
            }
        }
        Ok(())
    }
}

/// One row of the table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RowInfo {
    /// Its subject (the id column's value or `row N`).
    pub subject: String,
    /// Where it came from.
    pub provenance: Provenance,
    /// Its time, for rows read from events.
    pub time: Option<Timestamp>,
}

/// The training state: the rows (merging appends, as reading both inputs one after the other).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TableState {
    /// Row-major feature values.
    pub values: Vec<f64>,
    /// Per row.
    pub rows: Vec<RowInfo>,
    /// Events ignored, by reason.
    pub ignored: IgnoredCounts,
}

/// Reads a JSON value as a number: numbers, or text that parses as one (CSV cells).
fn numeric(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

impl TableState {
    fn next_row_name(&self) -> String {
        format!("row {}", self.rows.len() + 1)
    }

    /// Adds one row given as a JSON object of columns.
    pub fn observe_row(
        &mut self,
        settings: &IForestSettings,
        line: &str,
        at: &Provenance,
    ) -> Result<(), DetectError> {
        let bad = |message: String| DetectError::BadSubject {
            at: at.to_string(),
            message,
        };
        let value: Value = serde_json::from_str(line)
            .map_err(|e| bad(format!("not a JSON object of columns: {e}")))?;
        let Value::Object(columns) = value else {
            return Err(bad("not a JSON object of columns".into()));
        };
        let mut row = Vec::with_capacity(settings.features.len());
        for name in &settings.features {
            let cell = columns
                .get(name)
                .ok_or_else(|| bad(format!("no column {name:?}")))?;
            let v = numeric(cell)
                .filter(|v| v.is_finite())
                .ok_or_else(|| bad(format!("column {name:?}: {cell} is not a finite number")))?;
            row.push(v);
        }
        let subject = match &settings.id {
            Some(id) => columns
                .get(id)
                .and_then(text_of)
                .ok_or_else(|| bad(format!("no id column {id:?}")))?,
            None => self.next_row_name(),
        };
        self.values.extend(row);
        self.rows.push(RowInfo {
            subject,
            provenance: at.clone(),
            time: None,
        });
        Ok(())
    }

    /// Adds one event as a row, when it has every feature as a number.
    pub fn observe_event(&mut self, settings: &IForestSettings, event: &Event) {
        let mut row = Vec::with_capacity(settings.features.len());
        for name in &settings.features {
            match event
                .lookup(name)
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|v| v.is_finite())
            {
                Some(v) => row.push(v),
                None => {
                    self.ignored.add("a feature is missing or not a number");
                    return;
                }
            }
        }
        let subject = settings
            .id
            .as_deref()
            .and_then(|id| event.lookup(id))
            .map(str::to_string)
            .unwrap_or_else(|| self.next_row_name());
        self.values.extend(row);
        self.rows.push(RowInfo {
            subject,
            provenance: event.provenance().clone(),
            time: event.time(),
        });
    }

    /// Appends another state's rows.
    pub fn merge(&mut self, other: &TableState) {
        let offset = self.rows.len();
        self.values.extend_from_slice(&other.values);
        for r in &other.rows {
            let mut r = r.clone();
            // Row numbers continue across the merged inputs.
            if let Some(n) = r
                .subject
                .strip_prefix("row ")
                .and_then(|n| n.parse::<usize>().ok())
            {
                if r.subject == format!("row {n}") {
                    r.subject = format!("row {}", n + offset);
                }
            }
            self.rows.push(r);
        }
        self.ignored.merge(&other.ignored);
    }
}

/// The generic iforest detector.
#[derive(Clone, Debug, Default)]
pub struct IForest {
    /// Its settings.
    pub settings: IForestSettings,
}

impl IForest {
    /// A detector with `settings`.
    pub fn new(settings: IForestSettings) -> Result<Self, DetectError> {
        settings.validate()?;
        Ok(IForest { settings })
    }
}

impl Detector for IForest {
    fn name(&self) -> &'static str {
        "iforest"
    }

    fn description(&self) -> &'static str {
        "rows of any numeric feature table that an Isolation Forest isolates quickly"
    }

    fn subject(&self) -> &'static str {
        "table row"
    }

    fn needs(&self) -> Needs {
        Needs {
            kinds: &EventKind::ALL,
            required: &[],
            optional: &[],
        }
    }

    fn default_threshold(&self) -> Rule {
        Rule::Above(0.6)
    }

    fn settings(&self) -> Value {
        serde_json::to_value(&self.settings).unwrap_or_default()
    }

    fn trainer(&self) -> Box<dyn Trainer> {
        Box::new(TableTrainer {
            settings: self.settings.clone(),
            state: TableState::default(),
        })
    }

    fn load(&self, file: &ModelFile) -> Result<Box<dyn Model>, DetectError> {
        let settings: IForestSettings = crate::detector::load_settings(file, "iforest")?;
        let forest: FeatureForest = file.get_json("forest")?;
        if forest.features().len() != settings.features.len() {
            return Err(DetectError::Other(format!(
                "{}: the forest has {} features but the settings name {}",
                file.origin(),
                forest.features().len(),
                settings.features.len()
            )));
        }
        Ok(Box::new(TableModel { settings, forest }))
    }

    fn scores_while_training(&self) -> bool {
        true
    }

    fn reads_rows(&self) -> bool {
        true
    }
}

struct TableTrainer {
    settings: IForestSettings,
    state: TableState,
}

impl Trainer for TableTrainer {
    fn observe(&mut self, event: &Event) {
        self.state.observe_event(&self.settings, event);
    }

    fn observe_prebuilt(&mut self, line: &str, at: &Provenance) -> Result<(), DetectError> {
        self.state.observe_row(&self.settings, line, at)
    }

    fn events_used(&self) -> u64 {
        self.state.rows.len() as u64
    }

    fn events_ignored(&self) -> Vec<(String, u64)> {
        self.state.ignored.to_vec()
    }

    fn merge(&mut self, other: Box<dyn Trainer>) -> Result<(), DetectError> {
        let other = crate::detector::merge_partner::<TableTrainer>(other, "iforest", |o| {
            o.settings == self.settings
        })?;
        self.state.merge(&other.state);
        Ok(())
    }

    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any> {
        self
    }

    fn fit(self: Box<Self>, progress: &dyn Progress) -> Result<Fitted, DetectError> {
        let n = self.state.rows.len();
        if n == 0 {
            return Err(DetectError::NoTrainingData(format!(
                "no row with every feature ({}) as a number",
                self.settings.features.join(", ")
            )));
        }
        progress.stage("growing the isolation forest", None);
        let defs: Vec<FeatureDef> = self
            .settings
            .features
            .iter()
            .map(|f| FeatureDef::new(f, f, Scale::Linear))
            .collect();
        let (mut forest, verdicts) = FeatureForest::fit(
            &self.settings.forest,
            defs,
            &self.state.values,
            n,
            &AlarmRule { features: vec![] },
            (0, 1),
        )?;
        let (x, y) = most_isolating_pair(&forest, &self.state.values, &verdicts);
        forest.set_plot_axes(x, y);
        let model = TableModel {
            settings: self.settings,
            forest,
        };
        let scored = model.scored(self.state.rows, &self.state.values, &verdicts);
        Ok(Fitted {
            subjects: n as u64,
            training_scores: verdicts.iter().map(|v| v.score).collect(),
            model: Box::new(model),
            scored_training: Some(scored),
        })
    }
}

/// The two features with the largest mean contribution over the highest-scored training rows
/// (the flagged ones, at least 20).
fn most_isolating_pair(
    forest: &FeatureForest,
    values: &[f64],
    verdicts: &[Verdict],
) -> (usize, usize) {
    let nf = forest.features().len();
    if nf < 2 {
        return (0, 0);
    }
    let mut order: Vec<usize> = (0..verdicts.len()).collect();
    order.sort_by(|&a, &b| {
        verdicts[b]
            .score
            .total_cmp(&verdicts[a].score)
            .then(a.cmp(&b))
    });
    let flagged = verdicts.iter().filter(|v| v.flagged).count();
    let mut total = vec![0.0; nf];
    for &i in order.iter().take(flagged.max(20)) {
        for f in forest.feature_explanations(&values[i * nf..(i + 1) * nf]) {
            total[f.index] += f.contribution;
        }
    }
    let mut idx: Vec<usize> = (0..nf).collect();
    idx.sort_by(|&a, &b| total[b].total_cmp(&total[a]).then(a.cmp(&b)));
    (idx[0], idx[1])
}

/// A trained generic model.
pub struct TableModel {
    settings: IForestSettings,
    forest: FeatureForest,
}

impl TableModel {
    /// The feature forest.
    pub fn forest(&self) -> &FeatureForest {
        &self.forest
    }

    fn scored(&self, rows: Vec<RowInfo>, values: &[f64], verdicts: &[Verdict]) -> Vec<Scored> {
        use rayon::prelude::*;
        let nf = self.settings.features.len();
        let detailed = detailed_rows(verdicts, self.settings.forest.explain_top);
        rows.into_par_iter()
            .enumerate()
            .map(|(i, info)| {
                let row = &values[i * nf..(i + 1) * nf];
                let v = &verdicts[i];
                let mut s = Scored::new(
                    info.subject.clone(),
                    v.score,
                    Measure::new("path_length", v.path_length),
                );
                let explanation = self.forest.explanation(row, v, detailed[i]);
                let reasons = if detailed[i] {
                    self.forest
                        .top_reasons(&self.forest.feature_explanations(row), 2)
                } else {
                    String::new()
                };
                s.summary = format!(
                    "{}: score {}{}{}",
                    info.subject,
                    short_number(v.score),
                    if reasons.is_empty() {
                        String::new()
                    } else {
                        format!("; {reasons}")
                    },
                    match (v.cluster, v.flagged) {
                        (Some(c), true) if v.alarm => format!("; cluster {c} (alarm)"),
                        (Some(c), true) => format!("; cluster {c}"),
                        _ => String::new(),
                    }
                );
                s.explanation = Value::Object(explanation);
                if let Some(id) = &self.settings.id {
                    s.context.insert(id.clone(), info.subject.clone());
                }
                if v.alarm {
                    s.severity_boost = 1;
                }
                s.first_seen = info.time;
                s.last_seen = info.time;
                s.provenance = vec![info.provenance];
                s
            })
            .collect()
    }
}

impl Model for TableModel {
    fn detector(&self) -> &'static str {
        "iforest"
    }

    fn settings(&self) -> Value {
        serde_json::to_value(&self.settings).unwrap_or_default()
    }

    fn save(&self, file: &mut ModelFile) -> Result<(), DetectError> {
        file.put_json("forest", &self.forest)?;
        Ok(())
    }

    fn scorer(&self) -> Box<dyn Scorer + '_> {
        Box::new(TableScorer {
            model: self,
            batch: TableState::default(),
        })
    }
}

struct TableScorer<'a> {
    model: &'a TableModel,
    batch: TableState,
}

impl Scorer for TableScorer<'_> {
    fn observe(&mut self, event: &Event) {
        self.batch.observe_event(&self.model.settings, event);
    }

    fn observe_prebuilt(&mut self, line: &str, at: &Provenance) -> Result<(), DetectError> {
        self.batch.observe_row(&self.model.settings, line, at)
    }

    fn events_used(&self) -> u64 {
        self.batch.rows.len() as u64
    }

    fn finish(self: Box<Self>, progress: &dyn Progress) -> Result<Vec<Scored>, DetectError> {
        progress.stage("scoring rows", None);
        if self.batch.rows.is_empty() {
            return Ok(Vec::new());
        }
        let verdicts = self.model.forest.judge(&self.batch.values)?;
        Ok(self
            .model
            .scored(self.batch.rows, &self.batch.values, &verdicts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn settings() -> IForestSettings {
        IForestSettings {
            features: vec!["a".into(), "b".into()],
            id: Some("name".into()),
            ..IForestSettings::default()
        }
    }

    #[test]
    fn rows_are_read_and_bad_ones_named() {
        let s = settings();
        let mut t = TableState::default();
        let at = |l| Provenance::line(Arc::from("f.csv"), l);
        t.observe_row(&s, r#"{"a": "1.5", "b": 2, "name": "x"}"#, &at(2))
            .unwrap();
        let err = t
            .observe_row(&s, r#"{"a": "one", "b": 2, "name": "y"}"#, &at(3))
            .unwrap_err();
        assert!(err.to_string().contains("f.csv:3"), "{err}");
        assert!(err.to_string().contains("\"a\""), "{err}");
        assert!(t
            .observe_row(&s, r#"{"b": 2, "name": "y"}"#, &at(4))
            .is_err());
        assert!(t.observe_row(&s, "[1, 2]", &at(5)).is_err());
        assert_eq!(t.values, vec![1.5, 2.0]);
        assert_eq!(t.rows[0].subject, "x");
        assert!(IForest::new(IForestSettings::default()).is_err());
    }

    #[test]
    fn merged_tables_number_rows_on() {
        let s = IForestSettings {
            id: None,
            ..settings()
        };
        let at = Provenance::line(Arc::from("f.csv"), 2);
        let mut a = TableState::default();
        let mut b = TableState::default();
        let mut whole = TableState::default();
        for (i, line) in [r#"{"a":1,"b":2}"#, r#"{"a":3,"b":4}"#, r#"{"a":5,"b":6}"#]
            .iter()
            .enumerate()
        {
            whole.observe_row(&s, line, &at).unwrap();
            if i < 1 { &mut a } else { &mut b }
                .observe_row(&s, line, &at)
                .unwrap();
        }
        a.merge(&b);
        assert_eq!(a, whole);
        assert_eq!(a.rows[2].subject, "row 3");
    }
}
