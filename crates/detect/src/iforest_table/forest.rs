//! The feature-forest recipe shared by the `dns`, `web`, `exeprev` and `iforest` detectors:
//! engineer features per subject → Isolation Forest → k-means over the anomalies → alarm
//! clusters kept for new data (the BSides "DCO and Data Science" recipe), with every row
//! explained.
//!
//! A detector hands over one row of raw feature values per subject, in the analyst's units
//! (a query count, a share, an entropy). [`FeatureForest::fit`]:
//!
//! 1. transforms the features the detector marked [`Scale::Log`] to `log10(1 + x)`, so volume
//!    features stay in the forest without drowning the shape features (a count of 10⁶ is 6, not
//!    a million times a share);
//! 2. grows an Isolation Forest (scikit-learn's algorithm, [`oddhunt_models::iforest`]) and
//!    scores every row: the score is the anomaly score `s = 2^(−E[h]/c(ψ))` in (0, 1], higher =
//!    odder; the native measure is the mean path length `E[h]`;
//! 3. flags the rows whose score lies in the top `flag_share` of the training scores (the
//!    notebook's `contamination`), and clusters the flagged rows with k-means (standard-scaled,
//!    scikit-learn's greedy k-means++), when `clusters > 0` and at least two rows are flagged;
//! 4. picks the alarm clusters: the user's list, or else the one cluster the detector's
//!    [`AlarmRule`] ranks first (for DNS the cluster whose centre has the longest and most
//!    random subdomains).
//!
//! [`FeatureForest::judge`] scores rows of new data the same way: the isolation score, whether
//! the row is past the training flag cut, its nearest cluster and whether it alarms (flagged
//! and in an alarm cluster). [`FeatureForest::explanation`] says why: every feature with its
//! value, its percentile in the training population and its contribution to the isolation
//! (tree levels saved, [`oddhunt_models::iforest::IsolationForest::explain`]), most isolating
//! first, plus the two plot coordinates the HTML report draws.

use crate::detector::DetectError;
use oddhunt_models::iforest::{IsolationForest, IsolationForestParams, MaxSamples};
use oddhunt_models::kmeans::{KMeans, KMeansParams};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// How a feature enters the forest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// As it is.
    Linear,
    /// `log10(1 + x)` (counts: volume without dominance).
    Log,
}

impl Scale {
    /// The forest's value of a raw value.
    pub fn apply(self, raw: f64) -> f64 {
        match self {
            Scale::Linear => raw,
            Scale::Log => (1.0 + raw.max(0.0)).log10(),
        }
    }

    /// The raw value of a forest value.
    pub fn invert(self, value: f64) -> f64 {
        match self {
            Scale::Linear => value,
            Scale::Log => 10f64.powf(value) - 1.0,
        }
    }
}

/// One feature of a table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureDef {
    /// Machine name (`max_subdomain_entropy`).
    pub name: String,
    /// What an analyst calls it (`max subdomain entropy (bits/char)`).
    pub label: String,
    /// How it enters the forest.
    pub scale: Scale,
}

impl FeatureDef {
    /// A feature.
    pub fn new(name: &str, label: &str, scale: Scale) -> Self {
        FeatureDef {
            name: name.to_string(),
            label: label.to_string(),
            scale,
        }
    }

    /// The plot axis label of the forest value.
    fn axis_label(&self) -> String {
        match self.scale {
            Scale::Linear => self.label.clone(),
            Scale::Log => format!("log10(1 + {})", self.label),
        }
    }
}

/// Settings of the forest, the flagging and the clustering (part of each detector's settings).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ForestSettings {
    /// Trees (scikit-learn's `n_estimators`).
    pub trees: usize,
    /// Rows per tree (scikit-learn's `max_samples`; fewer rows than this: all rows).
    pub max_samples: usize,
    /// 0 = axis-parallel trees (scikit-learn); 1.. = Extended Isolation Forest.
    pub extension_level: usize,
    /// Seed of the forest and of k-means.
    pub seed: u64,
    /// Share of training subjects flagged as anomalies and clustered (the notebook's
    /// `contamination`), in (0, 0.5].
    pub flag_share: f64,
    /// k of k-means over the flagged subjects; 0 = no clustering.
    pub clusters: usize,
    /// Clusters that alarm, chosen by the analyst after looking at them (0-based); `None` = the
    /// detector's rule.
    pub alarm_clusters: Option<Vec<usize>>,
    /// How many subjects get the full per-feature explanation (the highest scores and every
    /// alarm); the rest carry their plot coordinates and cluster only, which keeps memory
    /// bounded on tables of 10⁵–10⁶ subjects.
    pub explain_top: usize,
}

impl Default for ForestSettings {
    fn default() -> Self {
        ForestSettings {
            trees: 100,
            max_samples: 256,
            extension_level: 0,
            seed: 0,
            flag_share: 0.1,
            clusters: 0,
            alarm_clusters: None,
            explain_top: 1000,
        }
    }
}

impl ForestSettings {
    /// Checks ranges; `who` names the detector in the message.
    pub fn validate(&self, who: &str) -> Result<(), DetectError> {
        let bad = |m: String| Err(DetectError::Settings(format!("{who}: {m}")));
        if self.trees == 0 || self.trees > 10_000 {
            return bad(format!("trees must be in 1..=10000, got {}", self.trees));
        }
        if self.max_samples < 2 {
            return bad(format!(
                "max samples must be at least 2, got {}",
                self.max_samples
            ));
        }
        if !(self.flag_share > 0.0 && self.flag_share <= 0.5) {
            return bad(format!(
                "the flagged share (contamination) must be in (0, 0.5], got {}",
                self.flag_share
            ));
        }
        if self.clusters > 64 {
            return bad(format!("at most 64 clusters, got {}", self.clusters));
        }
        if let Some(list) = &self.alarm_clusters {
            if let Some(&c) = list.iter().find(|&&c| c >= self.clusters.max(1)) {
                return bad(format!(
                    "alarm cluster {c} does not exist with {} clusters (they are numbered from 0)",
                    self.clusters
                ));
            }
        }
        Ok(())
    }
}

/// How a detector picks its alarm cluster when the analyst did not: clusters are ranked by the
/// sum of their centres' standard scores over these features, in the units k-means clustered
/// in (the flagged subjects, standard-scaled); the top cluster alarms. (Ranked against all
/// subjects instead, every cluster of anomalies is high on something and several would alarm;
/// the analyst who wants more names them.)
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlarmRule {
    /// Feature indices whose high values make a cluster alarming.
    pub features: Vec<usize>,
}

/// The clusters of the flagged training subjects.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Clustering {
    /// k-means over the flagged rows (forest units, standard-scaled inside).
    pub kmeans: KMeans,
    /// Whether each cluster alarms.
    pub alarm: Vec<bool>,
    /// Flagged training subjects per cluster.
    pub sizes: Vec<usize>,
    /// Each cluster's rank value under the alarm rule (sum of standard scores), for reports.
    pub shape: Vec<f64>,
    /// How the alarm clusters were chosen.
    pub chosen_by: String,
}

/// A fitted feature forest (see the module doc).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeatureForest {
    features: Vec<FeatureDef>,
    forest: IsolationForest,
    /// Anomaly score above which a row is flagged (the `1 − flag_share` training quantile).
    flag_cut: f64,
    clustering: Option<Clustering>,
    /// Feature indices of the plot's x and y axes.
    plot_axes: (usize, usize),
}

/// What the forest says about one row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Verdict {
    /// Anomaly score in (0, 1], higher = odder.
    pub score: f64,
    /// Mean path length over the trees (the native measure: shorter = odder).
    pub path_length: f64,
    /// Past the training flag cut.
    pub flagged: bool,
    /// Nearest cluster centre, when the model clusters.
    pub cluster: Option<usize>,
    /// Flagged and in an alarm cluster.
    pub alarm: bool,
}

/// Numbers for messages: 3 significant decimals, integers without decimals.
pub(crate) fn short_number(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    if v == v.round() && v.abs() < 1e15 {
        return format!("{}", v as i64);
    }
    let s = if v.abs() >= 100.0 {
        format!("{v:.1}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    };
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn ordinal_suffix(p: f64) -> String {
    // One decimal only where it matters (the 99th–100th), never "100.0".
    let rounded = if (99.0..99.95).contains(&p) {
        format!("{p:.1}")
    } else {
        format!("{}", p.round() as i64)
    };
    let last = rounded.chars().last().unwrap_or('0');
    let teen = !rounded.contains('.')
        && (rounded.ends_with("11") || rounded.ends_with("12") || rounded.ends_with("13"));
    let suffix = if teen {
        "th"
    } else {
        match last {
            '1' => "st",
            '2' => "nd",
            '3' => "rd",
            _ => "th",
        }
    };
    format!("{rounded}{suffix} percentile")
}

impl FeatureForest {
    /// The forest section of `detector`'s model file, refused when it was built over another
    /// number of features than this oddhunt computes.
    pub fn load(
        file: &oddhunt_core::modelfile::ModelFile,
        detector: &str,
        features: usize,
    ) -> Result<FeatureForest, DetectError> {
        let forest: FeatureForest = file.get_json("forest")?;
        if forest.features().len() != features {
            return Err(DetectError::Other(format!(
                "{}: the {detector} model has {} features, this oddhunt computes {features}",
                file.origin(),
                forest.features().len(),
            )));
        }
        Ok(forest)
    }

    /// Fits the forest on `raw` rows (`n_rows × features.len()`, row-major, analyst units) and
    /// clusters the flagged rows. `plot_axes` are the feature indices of the report's scatter.
    pub fn fit(
        settings: &ForestSettings,
        features: Vec<FeatureDef>,
        raw: &[f64],
        n_rows: usize,
        alarm_rule: &AlarmRule,
        plot_axes: (usize, usize),
    ) -> Result<(FeatureForest, Vec<Verdict>), DetectError> {
        let nf = features.len();
        if n_rows == 0 || nf == 0 {
            return Err(DetectError::NoTrainingData(
                "no subjects with features to learn from".into(),
            ));
        }
        let data = transform(&features, raw);
        let params = IsolationForestParams {
            n_trees: settings.trees,
            max_samples: MaxSamples::Count(settings.max_samples),
            extension_level: settings.extension_level.min(nf - 1),
            seed: settings.seed,
            ..IsolationForestParams::default()
        };
        let forest = params
            .fit(&data, n_rows, nf)
            .map_err(|e| DetectError::Other(format!("isolation forest: {e}")))?;
        let sums = forest
            .mean_path_lengths(&data)
            .map_err(|e| DetectError::Other(format!("isolation forest: {e}")))?;
        let scores = forest
            .anomaly_scores(&data)
            .map_err(|e| DetectError::Other(format!("isolation forest: {e}")))?;
        let mut sorted = scores.clone();
        sorted.sort_by(f64::total_cmp);
        let flag_cut = oddhunt_core::threshold::quantile_sorted(&sorted, 1.0 - settings.flag_share);
        let flagged: Vec<usize> = (0..n_rows).filter(|&i| scores[i] > flag_cut).collect();
        let clustering = if settings.clusters > 0 && flagged.len() >= 2 {
            Some(cluster(settings, &features, &data, &flagged, alarm_rule)?)
        } else {
            None
        };
        let model = FeatureForest {
            features,
            forest,
            flag_cut,
            clustering,
            plot_axes: (plot_axes.0.min(nf - 1), plot_axes.1.min(nf - 1)),
        };
        let verdicts = model.verdicts(&data, scores, sums)?;
        Ok((model, verdicts))
    }

    /// The features, in column order.
    pub fn features(&self) -> &[FeatureDef] {
        &self.features
    }

    /// The clustering, when the model clusters.
    pub fn clustering(&self) -> Option<&Clustering> {
        self.clustering.as_ref()
    }

    /// The flag cut (an anomaly score).
    pub fn flag_cut(&self) -> f64 {
        self.flag_cut
    }

    /// The underlying forest.
    pub fn forest(&self) -> &IsolationForest {
        &self.forest
    }

    /// Feature indices of the plot's x and y axes.
    pub fn plot_axes(&self) -> (usize, usize) {
        self.plot_axes
    }

    /// Sets the plot axes (generic tables choose them after fitting, from the contributions).
    pub fn set_plot_axes(&mut self, x: usize, y: usize) {
        let last = self.features.len().saturating_sub(1);
        self.plot_axes = (x.min(last), y.min(last));
    }

    /// Scores rows of new data (`features().len()` raw values each).
    pub fn judge(&self, raw: &[f64]) -> Result<Vec<Verdict>, DetectError> {
        let data = transform(&self.features, raw);
        let err = |e: oddhunt_models::iforest::IForestError| {
            DetectError::Other(format!("isolation forest: {e}"))
        };
        let scores = self.forest.anomaly_scores(&data).map_err(err)?;
        let sums = self.forest.mean_path_lengths(&data).map_err(err)?;
        self.verdicts(&data, scores, sums)
    }

    fn verdicts(
        &self,
        data: &[f64],
        scores: Vec<f64>,
        paths: Vec<f64>,
    ) -> Result<Vec<Verdict>, DetectError> {
        let clusters: Option<Vec<usize>> = match &self.clustering {
            Some(c) => Some(
                c.kmeans
                    .predict(data)
                    .map_err(|e| DetectError::Other(format!("k-means: {e}")))?,
            ),
            None => None,
        };
        Ok(scores
            .iter()
            .zip(&paths)
            .enumerate()
            .map(|(i, (&score, &path_length))| {
                let flagged = score > self.flag_cut;
                let cluster = clusters.as_ref().map(|c| c[i]);
                let alarm = flagged
                    && match (cluster, &self.clustering) {
                        (Some(c), Some(cl)) => cl.alarm.get(c).copied().unwrap_or(false),
                        _ => false,
                    };
                Verdict {
                    score,
                    path_length,
                    flagged,
                    cluster,
                    alarm,
                }
            })
            .collect())
    }

    /// The report's plot coordinates of a raw row: `{"x", "y", "x_label", "y_label",
    /// "cluster"}` (forest units; the cluster only for flagged rows, null otherwise, so the
    /// normal population is one colour).
    pub fn plot(&self, raw_row: &[f64], verdict: &Verdict) -> Value {
        let (ix, iy) = self.plot_axes;
        let fx = &self.features[ix];
        let fy = &self.features[iy];
        let x = raw_row.get(ix).map_or(0.0, |&v| fx.scale.apply(v));
        let y = raw_row.get(iy).map_or(0.0, |&v| fy.scale.apply(v));
        json!({
            "x": x,
            "y": y,
            "x_label": fx.axis_label(),
            "y_label": fy.axis_label(),
            "cluster": if verdict.flagged { verdict.cluster } else { None },
        })
    }

    /// Every feature of a raw row with value, percentile (0–100, among the training rows) and
    /// contribution (tree levels its splits saved), most isolating first.
    pub fn feature_explanations(&self, raw_row: &[f64]) -> Vec<FeatureExplanation> {
        let row: Vec<f64> = self
            .features
            .iter()
            .zip(raw_row)
            .map(|(f, &v)| f.scale.apply(v))
            .collect();
        let contributions = match self.forest.explain(&row) {
            Ok(c) => c,
            Err(_) => return Vec::new(),
        };
        contributions
            .into_iter()
            .filter_map(|c| {
                let def = self.features.get(c.feature)?;
                Some(FeatureExplanation {
                    index: c.feature,
                    name: def.name.clone(),
                    label: def.label.clone(),
                    value: raw_row.get(c.feature).copied().unwrap_or(f64::NAN),
                    percentile: self.forest.percentile_of(c.feature, row[c.feature]),
                    contribution: c.contribution,
                })
            })
            .collect()
    }

    /// The shared part of a subject's explanation: plot, verdict, and (when `detailed`) the
    /// per-feature list and the cluster's centre. Detectors add their own members.
    pub fn explanation(
        &self,
        raw_row: &[f64],
        verdict: &Verdict,
        detailed: bool,
    ) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("plot".into(), self.plot(raw_row, verdict));
        m.insert("flagged".into(), verdict.flagged.into());
        m.insert("flag_cut".into(), number(self.flag_cut));
        m.insert("mean_path_length".into(), number(verdict.path_length));
        if let Some(cl) = &self.clustering {
            m.insert(
                "cluster".into(),
                verdict.cluster.map_or(Value::Null, Value::from),
            );
            m.insert("cluster_alarms".into(), verdict.alarm.into());
            if detailed {
                if let Some(c) = verdict.cluster {
                    m.insert("cluster_centre".into(), self.centre_json(cl, c));
                    m.insert(
                        "cluster_is_alarm_cluster".into(),
                        cl.alarm.get(c).copied().unwrap_or(false).into(),
                    );
                }
            }
        }
        if detailed {
            let features: Vec<Value> = self
                .feature_explanations(raw_row)
                .iter()
                .map(|f| {
                    json!({
                        "name": f.name,
                        "label": f.label,
                        "value": number(f.value),
                        "percentile": f.percentile.map_or(Value::Null, number),
                        "contribution": number(f.contribution),
                    })
                })
                .collect();
            m.insert("features".into(), Value::Array(features));
        } else {
            m.insert("features".into(), Value::Array(Vec::new()));
            m.insert(
                "detail".into(),
                "omitted (not among the highest scores)".into(),
            );
        }
        m
    }

    /// A cluster's centre in the analyst's units, by feature name.
    fn centre_json(&self, cl: &Clustering, c: usize) -> Value {
        let nf = self.features.len();
        let centres = cl.kmeans.centres_in_input_units();
        let mut centre = Map::new();
        if let Some(row) = centres.get(c * nf..(c + 1) * nf) {
            for (f, &v) in self.features.iter().zip(row) {
                centre.insert(f.name.clone(), number(f.scale.invert(v)));
            }
        }
        Value::Object(centre)
    }

    /// One phrase for summaries: the two most isolating features with values and percentiles
    /// ("max subdomain entropy 4.7 (99.8th percentile), distinct subdomains 3012 (100th
    /// percentile)").
    pub fn top_reasons(&self, explained: &[FeatureExplanation], n: usize) -> String {
        explained
            .iter()
            .filter(|f| f.contribution > 0.0)
            .take(n)
            .map(|f| {
                format!(
                    "{} {}{}",
                    f.label,
                    short_number(f.value),
                    f.percentile
                        .map(|p| format!(" ({})", ordinal_suffix(p)))
                        .unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One feature of one row, explained.
#[derive(Clone, Debug, PartialEq)]
pub struct FeatureExplanation {
    /// Column index.
    pub index: usize,
    /// Machine name.
    pub name: String,
    /// Analyst's name.
    pub label: String,
    /// Raw value.
    pub value: f64,
    /// Percentile among the training rows.
    pub percentile: Option<f64>,
    /// Tree levels saved by splits on it (positive = isolating).
    pub contribution: f64,
}

/// Which rows get the full explanation: the `top` highest scores and every alarm.
pub fn detailed_rows(verdicts: &[Verdict], top: usize) -> Vec<bool> {
    let mut order: Vec<usize> = (0..verdicts.len()).collect();
    order.sort_by(|&a, &b| {
        verdicts[b]
            .score
            .total_cmp(&verdicts[a].score)
            .then(a.cmp(&b))
    });
    let mut detailed: Vec<bool> = verdicts.iter().map(|v| v.alarm).collect();
    for &i in order.iter().take(top) {
        detailed[i] = true;
    }
    detailed
}

/// JSON number, null when not finite.
pub(crate) fn number(v: f64) -> Value {
    serde_json::Number::from_f64(v)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// Raw rows to forest units (non-finite values become 0, which only generic tables can hold:
/// the detectors compute finite features).
fn transform(features: &[FeatureDef], raw: &[f64]) -> Vec<f64> {
    let nf = features.len().max(1);
    raw.chunks(nf)
        .flat_map(|row| {
            row.iter().zip(features).map(|(&v, f)| {
                let t = f.scale.apply(v);
                if t.is_finite() {
                    t
                } else {
                    0.0
                }
            })
        })
        .collect()
}

fn cluster(
    settings: &ForestSettings,
    features: &[FeatureDef],
    data: &[f64],
    flagged: &[usize],
    rule: &AlarmRule,
) -> Result<Clustering, DetectError> {
    let nf = features.len();
    let mut rows = Vec::with_capacity(flagged.len() * nf);
    for &i in flagged {
        rows.extend_from_slice(&data[i * nf..(i + 1) * nf]);
    }
    let k = settings.clusters.min(flagged.len());
    let params = KMeansParams {
        n_clusters: k,
        seed: settings.seed,
        standardize: true,
        ..KMeansParams::default()
    };
    let kmeans = params
        .fit(&rows, flagged.len(), nf)
        .map_err(|e| DetectError::Other(format!("k-means: {e}")))?;
    let mut sizes = vec![0usize; kmeans.n_clusters()];
    for &l in kmeans.labels() {
        if let Some(s) = sizes.get_mut(l) {
            *s += 1;
        }
    }
    // Alarm ranking in the clustering's own standard units (the flagged rows): "high entropy"
    // means high among the anomalies, so only the clusters that stand out among them alarm
    // (against all subjects every anomaly cluster is high on something).
    let centres = kmeans.centres();
    let shape: Vec<f64> = (0..kmeans.n_clusters())
        .map(|c| {
            rule.features
                .iter()
                .filter(|&&f| f < nf)
                .map(|&f| centres[c * nf + f])
                .sum()
        })
        .collect();
    let (alarm, chosen_by) = match &settings.alarm_clusters {
        Some(list) => (
            (0..kmeans.n_clusters())
                .map(|c| list.contains(&c))
                .collect(),
            format!(
                "chosen by the analyst: {}",
                list.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        None if rule.features.is_empty() => (
            vec![false; kmeans.n_clusters()],
            "none chosen (this detector has no alarm rule; set alarm clusters)".to_string(),
        ),
        None => {
            let top =
                (0..shape.len()).max_by(|&a, &b| shape[a].total_cmp(&shape[b]).then(b.cmp(&a)));
            let names: Vec<&str> = rule
                .features
                .iter()
                .filter_map(|&f| features.get(f).map(|d| d.label.as_str()))
                .collect();
            (
                (0..shape.len()).map(|c| Some(c) == top).collect(),
                format!(
                    "the cluster with the highest {} among the flagged subjects",
                    names.join(" + ")
                ),
            )
        }
    };
    Ok(Clustering {
        kmeans,
        alarm,
        sizes,
        shape,
        chosen_by,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features() -> Vec<FeatureDef> {
        vec![
            FeatureDef::new("count", "count", Scale::Log),
            FeatureDef::new("entropy", "entropy", Scale::Linear),
        ]
    }

    #[test]
    fn flags_clusters_and_explains_the_odd_rows() {
        // 300 ordinary rows and 6 odd ones: three with high entropy, three with huge counts.
        let mut raw = Vec::new();
        for i in 0..300 {
            raw.push(10.0 + (i % 7) as f64);
            raw.push(2.0 + (i % 5) as f64 * 0.1);
        }
        for i in 0..3 {
            raw.extend([12.0, 4.6 + i as f64 * 0.05]);
        }
        for i in 0..3 {
            raw.extend([1e6 + i as f64, 2.1]);
        }
        let settings = ForestSettings {
            clusters: 2,
            flag_share: 0.02,
            ..ForestSettings::default()
        };
        let rule = AlarmRule { features: vec![1] };
        let (model, verdicts) =
            FeatureForest::fit(&settings, features(), &raw, 306, &rule, (1, 0)).unwrap();
        assert!(verdicts[300..].iter().all(|v| v.flagged), "{verdicts:?}");
        let cl = model.clustering().unwrap();
        assert_eq!(cl.kmeans.n_clusters(), 2);
        // The high-entropy rows alarm, the volume rows do not.
        assert!(verdicts[300..303].iter().all(|v| v.alarm));
        assert!(verdicts[303..].iter().all(|v| !v.alarm));
        let ex = model.feature_explanations(&raw[300 * 2..301 * 2]);
        assert_eq!(ex[0].name, "entropy");
        assert!(ex[0].percentile.unwrap() > 99.0);
        let text = model.top_reasons(&ex, 1);
        assert!(text.starts_with("entropy 4.6 (99"), "{text}");
        // New data: the same shapes judge the same way.
        let v = model.judge(&[11.0, 4.65, 12.0, 2.2]).unwrap();
        assert!(v[0].alarm && !v[1].flagged);
        let m = model.explanation(&[11.0, 4.65], &v[0], true);
        assert_eq!(m["plot"]["x_label"], "entropy");
        assert_eq!(m["plot"]["y_label"], "log10(1 + count)");
        assert!(m["features"].as_array().unwrap().len() == 2);
        // Round trip.
        let json = serde_json::to_string(&model).unwrap();
        let back: FeatureForest = serde_json::from_str(&json).unwrap();
        assert_eq!(back.judge(&raw).unwrap(), model.judge(&raw).unwrap());
    }

    #[test]
    fn settings_are_checked_and_numbers_read_well() {
        assert!(ForestSettings::default().validate("t").is_ok());
        let bad = ForestSettings {
            flag_share: 0.0,
            ..ForestSettings::default()
        };
        assert!(bad.validate("t").is_err());
        let bad = ForestSettings {
            clusters: 4,
            alarm_clusters: Some(vec![4]),
            ..ForestSettings::default()
        };
        assert!(bad.validate("t").is_err());
        assert_eq!(short_number(3.0), "3");
        assert_eq!(short_number(4.6789), "4.68");
        assert_eq!(short_number(0.25), "0.25");
        assert_eq!(ordinal_suffix(99.84), "99.8th percentile");
        assert_eq!(ordinal_suffix(99.32), "99.3rd percentile");
        assert_eq!(ordinal_suffix(99.97), "100th percentile");
        assert_eq!(ordinal_suffix(100.0), "100th percentile");
        assert_eq!(ordinal_suffix(21.0), "21st percentile");
        assert_eq!(ordinal_suffix(12.0), "12th percentile");
    }
}
