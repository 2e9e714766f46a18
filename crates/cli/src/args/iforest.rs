//! Flags of the generic `iforest` detector, and the forest flags the `dns`, `web` and `exeprev`
//! detectors share ([`ForestArgs`]).

use anyhow::{bail, Result};
use clap::Args;
use oddhunt_detect::iforest_table::forest::ForestSettings;

/// Isolation Forest and clustering flags; each left out keeps the detector's default.
#[derive(Args, Debug, Clone, Default)]
pub struct ForestArgs {
    /// Trees in the forest [default: 100]
    #[arg(long, value_name = "N")]
    pub trees: Option<usize>,
    /// Subjects each tree is grown on (all when fewer) [default: 2048 for dns/web/exeprev, 256 for iforest]
    #[arg(long = "max-samples", value_name = "N")]
    pub max_samples: Option<usize>,
    /// 0 = scikit-learn's axis-parallel trees; 1.. = Extended Isolation Forest hyperplanes over that many extra features [default: all features for dns, 0 for web, exeprev and iforest]
    #[arg(long = "extension-level", value_name = "N")]
    pub extension_level: Option<usize>,
    /// Seed of the forest and of k-means [default: 0]
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Share of training subjects flagged as anomalies and clustered, the notebook's IsolationForest contamination (not the finding threshold) [default: 0.1]
    #[arg(long = "flag-share", value_name = "SHARE")]
    pub flag_share: Option<f64>,
    /// k of k-means over the flagged subjects; 0 = no clustering [default: 4 dns, 8 web, 0 exeprev and iforest]
    #[arg(long, value_name = "K")]
    pub clusters: Option<usize>,
    /// Clusters that alarm, numbered from 0 as the explanations show them (default: the detector's rule)
    #[arg(long = "alarm-clusters", value_name = "C,C,..", value_delimiter = ',')]
    pub alarm_clusters: Option<Vec<usize>>,
    /// Subjects that get the full per-feature explanation (the highest scores and every alarm) [default: 1000]
    #[arg(long = "explain-top", value_name = "N")]
    pub explain_top: Option<usize>,
}

impl ForestArgs {
    /// The detector's defaults with the flags given applied.
    pub fn apply(&self, mut s: ForestSettings) -> ForestSettings {
        if let Some(v) = self.trees {
            s.trees = v;
        }
        if let Some(v) = self.max_samples {
            s.max_samples = v;
        }
        if let Some(v) = self.extension_level {
            s.extension_level = v;
        }
        if let Some(v) = self.seed {
            s.seed = v;
        }
        if let Some(v) = self.flag_share {
            s.flag_share = v;
        }
        if let Some(v) = self.clusters {
            s.clusters = v;
        }
        if let Some(v) = &self.alarm_clusters {
            s.alarm_clusters = Some(v.clone());
        }
        if let Some(v) = self.explain_top {
            s.explain_top = v;
        }
        s
    }
}

/// Settings of the generic iforest detector.
#[derive(Args, Debug, Clone)]
pub struct IforestArgs {
    /// The numeric feature columns of the table, in order
    #[arg(long, value_name = "A,B,C", value_delimiter = ',', required = true)]
    pub features: Vec<String>,
    /// The column naming each row (the finding's subject; default: the row number)
    #[arg(long, value_name = "COLUMN")]
    pub id: Option<String>,
    #[command(flatten)]
    pub forest: ForestArgs,
}

impl IforestArgs {
    pub(crate) fn build(&self) -> Result<oddhunt_detect::iforest_table::IForest> {
        use oddhunt_detect::iforest_table::{IForest, IForestSettings};
        let features: Vec<String> = self
            .features
            .iter()
            .map(|f| f.trim().to_string())
            .filter(|f| !f.is_empty())
            .collect();
        if features.is_empty() {
            bail!("--features: name at least one numeric column");
        }
        let defaults = IForestSettings::default();
        Ok(IForest::new(IForestSettings {
            forest: self.forest.apply(defaults.forest),
            features,
            id: self.id.clone(),
        })?)
    }
}
