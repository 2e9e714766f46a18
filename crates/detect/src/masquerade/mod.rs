//! `masquerade`: rare process names a small edit away from common ones (`svch0st.exe`,
//! `scvhost.exe`, `lsasss.exe`) — the Microsoft Sentinel "Masquerading Process Name Anomaly"
//! notebook, made a trainable detector.
//!
//! Seed behaviour (kept exactly with `seed_compatible`): lower-case the process file name; count
//! creations per name; percent-rank the counts over the distinct names as Spark's `percent_rank`
//! does (`(rank - 1) / (n - 1)`, ties share the lowest rank); names ranked ≥ `frequent` (0.8) are
//! frequent, < `infrequent` (0.2) infrequent; every infrequent name is compared with every
//! frequent one by normalised Damerau-Levenshtein similarity, dropping the extension when both
//! share it; pairs above `similarity` (0.85) are findings.
//!
//! Default behaviour closes the seed's blind spot for short names (see [`similarity`]): one edit
//! in a stem of up to 7 characters counts; a list of well-known Windows binaries counts as
//! frequent even when rare locally (and is never flagged itself); pairs that differ only in
//! digits are version noise. Beyond the seed, a look-alike that runs from a user-writable folder
//! (Temp, AppData, Users\Public, ProgramData, Downloads, ...) or from folders the normal name
//! never uses gets a higher severity.
//!
//! Training keeps, per name, its creation count, the folders it ran from, hosts and users (first
//! few), time range and the first records (provenance). `score` compares the names of new events
//! with the baseline: a name is rare when its baseline rank is below `infrequent` (unseen names
//! rank 0), and is compared with the baseline's frequent names.

pub mod known;
pub mod similarity;

use crate::detector::{
    DetectError, Detector, Fitted, IgnoredCounts, Model, Needs, Progress, Scorer, Trainer,
};
use crate::features::is_user_writable;
use oddhunt_core::modelfile::ModelFile;
use oddhunt_core::{
    Event, EventKind, Field, Finding, Measure, Provenance, Rule, Scored, Severity, Timestamp,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use similarity::{edit_script, NameKey, NormalIndex, PairScore, ScoreRule};
use std::collections::{BTreeMap, HashMap, HashSet};

/// How many hosts, users and records are kept per name.
const KEEP_PER_NAME: usize = 16;
const KEEP_PROVENANCE: usize = 8;

/// Settings of the masquerade detector.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MasqueradeSettings {
    /// Percent rank at or above which a name is frequent.
    pub frequent: f64,
    /// Percent rank below which a name is infrequent.
    pub infrequent: f64,
    /// Look-alike cut: pairs scoring strictly above it are findings.
    pub similarity: f64,
    /// Effective minimum name length in the score (0 = the seed's plain similarity).
    pub min_length: usize,
    /// Count well-known Windows binaries as frequent even when locally rare.
    pub known_binaries: bool,
    /// Ignore pairs that differ only in digits.
    pub ignore_digit_changes: bool,
    /// Reproduce the notebook exactly, quirks included.
    pub seed_compatible: bool,
    /// Also examine names ranked between `infrequent` and `frequent` when the common name they
    /// resemble ran at least this many times more often (0 = only the infrequent ones, as the
    /// seed). A percent rank is relative: in a small log where most names ran once or twice, a
    /// look-alike started three times ranks in the middle (the msticpy demo data's
    /// `suchost.exe`, 3 starts against `svchost.exe`'s 53, ranks 0.59).
    pub rarer_than: f64,
}

impl Default for MasqueradeSettings {
    fn default() -> Self {
        MasqueradeSettings {
            frequent: 0.8,
            infrequent: 0.2,
            similarity: 0.85,
            min_length: 7,
            known_binaries: true,
            ignore_digit_changes: true,
            seed_compatible: false,
            rarer_than: 10.0,
        }
    }
}

impl MasqueradeSettings {
    /// The notebook's behaviour: plain similarity, quirks on, no known list.
    pub fn seed() -> Self {
        MasqueradeSettings {
            min_length: 0,
            known_binaries: false,
            ignore_digit_changes: false,
            seed_compatible: true,
            rarer_than: 0.0,
            ..MasqueradeSettings::default()
        }
    }

    fn validate(&self) -> Result<(), DetectError> {
        let in_unit = |v: f64| (0.0..=1.0).contains(&v);
        if !in_unit(self.frequent) || !in_unit(self.infrequent) || self.infrequent > self.frequent {
            return Err(DetectError::Settings(format!(
                "masquerade needs 0 <= infrequent ({}) <= frequent ({}) <= 1",
                self.infrequent, self.frequent
            )));
        }
        if !(self.rarer_than >= 0.0 && self.rarer_than.is_finite()) {
            return Err(DetectError::Settings(format!(
                "masquerade --rarer-than must be a number >= 0 (0 = off), got {}",
                self.rarer_than
            )));
        }
        if !(self.similarity > 0.0 && self.similarity < 1.0) {
            return Err(DetectError::Settings(format!(
                "masquerade similarity must be in (0, 1), got {}",
                self.similarity
            )));
        }
        Ok(())
    }

    fn score_rule(&self) -> ScoreRule {
        ScoreRule {
            threshold: self.similarity,
            min_length: if self.seed_compatible {
                0
            } else {
                self.min_length
            },
            seed_compatible: self.seed_compatible,
            ignore_digit_changes: self.ignore_digit_changes && !self.seed_compatible,
        }
    }
}

/// What is known about one process name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NameStats {
    /// Process creations.
    pub count: u64,
    /// Folders it ran from (lower-case) → (a full path as logged, creations).
    pub folders: BTreeMap<String, (String, u64)>,
    /// First distinct hosts.
    pub hosts: Vec<String>,
    /// First distinct users.
    pub users: Vec<String>,
    /// First creation.
    pub first_seen: Option<Timestamp>,
    /// Last creation.
    pub last_seen: Option<Timestamp>,
    /// First records.
    pub provenance: Vec<Provenance>,
}

fn push_distinct(list: &mut Vec<String>, value: &str) {
    if list.len() < KEEP_PER_NAME && !list.iter().any(|v| v == value) {
        list.push(value.to_string());
    }
}

fn min_time(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

fn max_time(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

impl NameStats {
    fn observe(&mut self, event: &Event, scratch: &mut String) {
        self.count += 1;
        if let Some(path) = event.get(Field::ProcessPath) {
            let folder = lowercase_into(folder_of(path), scratch);
            match self.folders.get_mut(folder) {
                Some(entry) => entry.1 += 1,
                None => {
                    self.folders
                        .insert(folder.to_string(), (path.to_string(), 1));
                }
            }
        }
        if let Some(host) = event.get(Field::Host) {
            push_distinct(&mut self.hosts, host);
        }
        if let Some(user) = event.get(Field::User) {
            push_distinct(&mut self.users, user);
        }
        self.first_seen = min_time(self.first_seen, event.time());
        self.last_seen = max_time(self.last_seen, event.time());
        if self.provenance.len() < KEEP_PROVENANCE {
            self.provenance.push(event.provenance().clone());
        }
    }

    /// Adds `other` as if its events had been observed after this one's.
    fn merge(&mut self, other: &NameStats) {
        self.count += other.count;
        for (folder, (path, n)) in &other.folders {
            let entry = self
                .folders
                .entry(folder.clone())
                .or_insert_with(|| (path.clone(), 0));
            entry.1 += n;
        }
        for h in &other.hosts {
            push_distinct(&mut self.hosts, h);
        }
        for u in &other.users {
            push_distinct(&mut self.users, u);
        }
        self.first_seen = min_time(self.first_seen, other.first_seen);
        self.last_seen = max_time(self.last_seen, other.last_seen);
        for p in &other.provenance {
            if self.provenance.len() < KEEP_PROVENANCE {
                self.provenance.push(p.clone());
            }
        }
    }

    /// The most used full path.
    fn main_path(&self) -> Option<&str> {
        self.folders
            .values()
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
            .map(|(p, _)| p.as_str())
    }
}

/// The lower-case form of `text`, written into `buf` (reused, so the per-event work of
/// training allocates nothing for names and folders already seen).
fn lowercase_into<'b>(text: &str, buf: &'b mut String) -> &'b str {
    buf.clear();
    if text.is_ascii() {
        buf.push_str(text);
        buf.make_ascii_lowercase();
    } else {
        buf.push_str(&text.to_lowercase());
    }
    buf
}

/// Scratch buffers of a training state: never serialised, never part of its equality.
#[derive(Clone, Debug, Default)]
struct Scratch {
    name: String,
    folder: String,
}

impl PartialEq for Scratch {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// The folder part of a Windows or POSIX path (without the trailing separator).
fn folder_of(path: &str) -> &str {
    match path.rfind(['\\', '/']) {
        Some(i) => &path[..i],
        None => "",
    }
}

/// The mergeable training state: per-name statistics.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MasqueradeState {
    /// Per lower-case process name.
    pub names: HashMap<String, NameStats>,
    /// Events used.
    pub events: u64,
    /// Events ignored, by reason.
    pub ignored: IgnoredCounts,
    #[serde(skip)]
    scratch: Scratch,
}

impl MasqueradeState {
    /// Takes one event.
    pub fn observe(&mut self, event: &Event) {
        if event.kind() != EventKind::ProcessStart {
            self.ignored.add("not a process start");
            return;
        }
        let Some(name) = event.process_name() else {
            self.ignored.add("no process name or path");
            return;
        };
        let name = name.trim();
        if name.is_empty() {
            self.ignored.add("no process name or path");
            return;
        }
        self.events += 1;
        let Scratch {
            name: name_buf,
            folder,
        } = &mut self.scratch;
        let lower = lowercase_into(name, name_buf);
        match self.names.get_mut(lower) {
            Some(stats) => stats.observe(event, folder),
            None => {
                let mut stats = NameStats::default();
                stats.observe(event, folder);
                self.names.insert(lower.to_string(), stats);
            }
        }
    }

    /// Merges another state (as if its events came after this one's).
    pub fn merge(&mut self, other: &MasqueradeState) {
        self.events += other.events;
        self.ignored.merge(&other.ignored);
        for (name, stats) in &other.names {
            match self.names.get_mut(name) {
                Some(mine) => mine.merge(stats),
                None => {
                    self.names.insert(name.clone(), stats.clone());
                }
            }
        }
    }
}

/// Spark's `percent_rank` over counts, ascending: `(rank - 1) / (n - 1)`, where rank is one plus
/// the number of strictly smaller counts; a single name ranks 0.
pub fn percent_ranks(counts: &[u64]) -> Vec<f64> {
    let n = counts.len();
    if n <= 1 {
        return vec![0.0; n];
    }
    let mut sorted = counts.to_vec();
    sorted.sort_unstable();
    counts
        .iter()
        .map(|c| {
            let smaller = sorted.partition_point(|x| x < c);
            smaller as f64 / (n - 1) as f64
        })
        .collect()
}

/// The masquerade detector.
#[derive(Clone, Debug, Default)]
pub struct Masquerade {
    /// Its settings.
    pub settings: MasqueradeSettings,
}

impl Masquerade {
    /// A detector with `settings`.
    pub fn new(settings: MasqueradeSettings) -> Result<Self, DetectError> {
        settings.validate()?;
        Ok(Masquerade { settings })
    }
}

impl Detector for Masquerade {
    fn name(&self) -> &'static str {
        "masquerade"
    }

    fn description(&self) -> &'static str {
        "rare process names a small edit away from common ones (svch0st.exe, scvhost.exe)"
    }

    fn subject(&self) -> &'static str {
        "rare process name"
    }

    fn needs(&self) -> Needs {
        Needs {
            kinds: &[EventKind::ProcessStart],
            required: &[Field::ProcessPath],
            optional: &[Field::Host, Field::User, Field::ProcessName],
        }
    }

    fn default_threshold(&self) -> Rule {
        Rule::Above(self.settings.similarity)
    }

    fn settings(&self) -> serde_json::Value {
        serde_json::to_value(&self.settings).unwrap_or_default()
    }

    fn trainer(&self) -> Box<dyn Trainer> {
        Box::new(MasqueradeTrainer {
            settings: self.settings.clone(),
            state: MasqueradeState::default(),
        })
    }

    fn load(&self, file: &ModelFile) -> Result<Box<dyn Model>, DetectError> {
        let settings: MasqueradeSettings = crate::detector::load_settings(file, "masquerade")?;
        let names: Vec<(String, NameStats)> = file.get_json("names")?;
        Ok(Box::new(MasqueradeModel::new(
            settings,
            names.into_iter().collect(),
        )))
    }

    fn scores_while_training(&self) -> bool {
        true
    }

    fn seed_records(
        &self,
        finding: &Finding,
    ) -> Option<Vec<serde_json::Map<String, serde_json::Value>>> {
        Some(seed_records(finding))
    }
}

struct MasqueradeTrainer {
    settings: MasqueradeSettings,
    state: MasqueradeState,
}

impl Trainer for MasqueradeTrainer {
    fn observe(&mut self, event: &Event) {
        self.state.observe(event);
    }

    fn events_used(&self) -> u64 {
        self.state.events
    }

    fn events_ignored(&self) -> Vec<(String, u64)> {
        self.state.ignored.to_vec()
    }

    fn merge(&mut self, other: Box<dyn Trainer>) -> Result<(), DetectError> {
        let other =
            crate::detector::merge_partner::<MasqueradeTrainer>(other, "masquerade", |o| {
                o.settings == self.settings
            })?;
        self.state.merge(&other.state);
        Ok(())
    }

    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any> {
        self
    }

    fn fit(self: Box<Self>, progress: &dyn Progress) -> Result<Fitted, DetectError> {
        if self.state.names.is_empty() {
            return Err(DetectError::NoTrainingData(
                "no process-start events with a process name".into(),
            ));
        }
        let subjects = self.state.names.len() as u64;
        let model = MasqueradeModel::new(self.settings, self.state.names);
        progress.stage("comparing rare names with common ones", None);
        // The baseline itself, scored: the hunt's findings and the training distribution.
        let scored = model.score_batch(&model.baseline);
        let training_scores = scored.iter().map(|s| s.score).collect();
        Ok(Fitted {
            model: Box::new(model),
            training_scores,
            subjects,
            scored_training: Some(scored),
        })
    }
}

/// A trained masquerade model: the baseline's per-name statistics and ranks.
pub struct MasqueradeModel {
    settings: MasqueradeSettings,
    baseline: HashMap<String, NameStats>,
    ranks: HashMap<String, f64>,
    /// Frequent names (baseline rank ≥ frequent, plus known binaries), sorted.
    frequent: Vec<NameKey>,
    known: HashSet<&'static str>,
}

impl MasqueradeModel {
    fn new(settings: MasqueradeSettings, baseline: HashMap<String, NameStats>) -> Self {
        let mut names: Vec<&String> = baseline.keys().collect();
        names.sort();
        let counts: Vec<u64> = names.iter().map(|n| baseline[*n].count).collect();
        let pr = percent_ranks(&counts);
        let ranks: HashMap<String, f64> = names
            .iter()
            .zip(&pr)
            .map(|(n, r)| ((*n).clone(), *r))
            .collect();
        let known: HashSet<&'static str> = if settings.known_binaries && !settings.seed_compatible {
            known::KNOWN_WINDOWS_BINARIES.iter().copied().collect()
        } else {
            HashSet::new()
        };
        let mut frequent_names: Vec<String> = names
            .iter()
            .zip(&pr)
            .filter(|(_, r)| **r >= settings.frequent)
            .map(|(n, _)| (*n).clone())
            .collect();
        frequent_names.extend(known.iter().map(|k| k.to_string()));
        frequent_names.sort();
        frequent_names.dedup();
        let frequent = frequent_names.iter().map(|n| NameKey::new(n)).collect();
        MasqueradeModel {
            settings,
            baseline,
            ranks,
            frequent,
            known,
        }
    }

    /// Whether names between the infrequent and frequent ranks are examined too.
    fn relative_rarity(&self) -> bool {
        self.settings.rarer_than > 0.0 && !self.settings.seed_compatible
    }

    /// Baseline creations of a name (0 for names never seen).
    fn baseline_count(&self, name: &str) -> u64 {
        self.baseline.get(name).map_or(0, |s| s.count)
    }

    /// Baseline percent rank of a name (0 for names never seen).
    pub fn rank(&self, name: &str) -> f64 {
        self.ranks.get(name).copied().unwrap_or(0.0)
    }

    /// Scores every name of a batch (per-name statistics of the events to score): rare names by
    /// their best look-alike score, the others 0 (a common or well-known name cannot be a
    /// masquerade by this method; they are scored so that `--all` and `eval` see every name).
    fn score_batch(&self, batch: &HashMap<String, NameStats>) -> Vec<Scored> {
        use rayon::prelude::*;
        let rule = self.settings.score_rule();
        let mut names: Vec<(&String, &NameStats)> = batch.iter().collect();
        names.sort_by(|a, b| a.0.cmp(b.0));
        let index = NormalIndex::new(&self.frequent, &rule);
        names
            .par_iter()
            .enumerate()
            .map(|(i, (name, stats))| {
                let rank = self.rank(name);
                let relative = self.relative_rarity() && rank < self.settings.frequent;
                if (rank >= self.settings.infrequent && !relative)
                    || self.known.contains(name.as_str())
                {
                    return self.not_rare(name, stats, rank);
                }
                let key = NameKey::new(name);
                let (mut matches, best) = index.matches_of(i, &key, &rule);
                if rank >= self.settings.infrequent {
                    // Between the ranks: a look-alike only of names that ran far more often.
                    let own = self.baseline_count(name).max(1) as f64;
                    matches.retain(|m| {
                        self.baseline_count(&self.frequent[m.normal].name) as f64
                            >= self.settings.rarer_than * own
                    });
                    if matches.is_empty() {
                        return self.not_rare(name, stats, rank);
                    }
                }
                self.scored(name, stats, &key, &matches, best)
            })
            .collect()
    }

    fn not_rare(&self, name: &str, stats: &NameStats, rank: f64) -> Scored {
        let mut s = Scored::new(name, 0.0, Measure::new("similarity", f64::NAN));
        s.summary = if self.known.contains(name) {
            format!("{name}: a well-known Windows binary")
        } else {
            format!("{name}: not rare (percent rank {rank:.2})")
        };
        s.first_seen = stats.first_seen;
        s.last_seen = stats.last_seen;
        s.context.insert("process.name".into(), name.to_string());
        s
    }

    fn scored(
        &self,
        name: &str,
        stats: &NameStats,
        key: &NameKey,
        matches: &[similarity::Match],
        best_examined: f64,
    ) -> Scored {
        let Some(top) = matches.first() else {
            let mut s = Scored::new(
                name,
                best_examined,
                Measure::new("similarity", best_examined),
            );
            s.summary = format!("{name}: rare, resembles no common process name");
            s.first_seen = stats.first_seen;
            s.last_seen = stats.last_seen;
            s.context.insert("process.name".into(), name.to_string());
            return s;
        };
        let normal = &self.frequent[top.normal];
        let normal_stats = self.baseline.get(&normal.name);
        let pair: PairScore = top.pair;
        let edits = edit_script(&normal.name, &key.name);
        let rare_folders: Vec<&String> = stats.folders.keys().collect();
        let normal_folders: Vec<String> = normal_stats
            .map(|n| n.folders.keys().cloned().collect())
            .unwrap_or_default();
        let writable: Vec<&String> = rare_folders
            .iter()
            .copied()
            .filter(|f| is_user_writable(f))
            .collect();
        let foreign_folder = !normal_folders.is_empty()
            && !rare_folders.is_empty()
            && rare_folders.iter().all(|f| !normal_folders.contains(f));
        let mut reasons = Vec::new();
        let mut boost = 0i8;
        if !writable.is_empty() {
            boost += 1;
            reasons.push(format!(
                "runs from a user-writable folder ({})",
                writable
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if foreign_folder {
            boost += 1;
            reasons.push(format!("never runs where {} does", normal.name));
        }
        let known_normal = self.known.contains(normal.name.as_str());
        let edit_text = edits
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let mut s = Scored::new(
            name,
            pair.score,
            Measure::new("similarity", pair.similarity),
        );
        s.summary = format!(
            "{name} looks like {} (similarity {:.3}; {}){}",
            normal.name,
            pair.similarity,
            if edit_text.is_empty() {
                "same stem".to_string()
            } else {
                edit_text.clone()
            },
            if reasons.is_empty() {
                String::new()
            } else {
                format!("; {}", reasons.join("; "))
            }
        );
        s.first_seen = stats.first_seen;
        s.last_seen = stats.last_seen;
        s.provenance = stats.provenance.clone();
        // A look-alike is a look-alike whatever its similarity: medium, raised by where it runs.
        s.severity = Some(Severity::Medium);
        s.severity_boost = boost;
        s.context.insert("process.name".into(), name.to_string());
        if let Some(p) = stats.main_path() {
            s.context.insert("process.executable".into(), p.to_string());
        }
        if let Some(h) = stats.hosts.first() {
            s.context.insert("host.name".into(), h.clone());
        }
        if let Some(u) = stats.users.first() {
            s.context.insert("user.name".into(), u.clone());
        }
        s.context
            .insert("masquerade.normal_process".into(), normal.name.clone());
        let path_list = |st: Option<&NameStats>| -> Vec<serde_json::Value> {
            st.map(|st| {
                st.folders
                    .values()
                    .map(|(p, n)| json!({"path": p, "count": n}))
                    .collect()
            })
            .unwrap_or_default()
        };
        s.explanation = json!({
            "normal_process": normal.name,
            "similarity": pair.similarity,
            "score": pair.score,
            "distance": pair.distance,
            "edits": edits,
            "edit_text": edit_text,
            "rare_count": stats.count,
            "rare_rank": self.rank(name),
            "normal_count": normal_stats.map(|n| n.count),
            "normal_rank": normal_stats.map(|_| self.rank(&normal.name)),
            "normal_is_known_windows_binary": known_normal,
            "rare_paths": path_list(Some(stats)),
            "normal_paths": path_list(normal_stats),
            "hosts": stats.hosts,
            "users": stats.users,
            "reasons": reasons,
            "matches": matches.iter().map(|m| json!({
                "normal_process": self.frequent[m.normal].name,
                "similarity": m.pair.similarity,
                "score": m.pair.score,
            })).collect::<Vec<_>>(),
        });
        s
    }
}

impl Model for MasqueradeModel {
    fn detector(&self) -> &'static str {
        "masquerade"
    }

    fn settings(&self) -> serde_json::Value {
        serde_json::to_value(&self.settings).unwrap_or_default()
    }

    fn save(&self, file: &mut ModelFile) -> Result<(), DetectError> {
        let mut names: Vec<(&String, &NameStats)> = self.baseline.iter().collect();
        names.sort_by(|a, b| a.0.cmp(b.0));
        file.put_json("names", &names)?;
        Ok(())
    }

    fn scorer(&self) -> Box<dyn Scorer + '_> {
        Box::new(MasqueradeScorer {
            model: self,
            batch: MasqueradeState::default(),
        })
    }
}

struct MasqueradeScorer<'a> {
    model: &'a MasqueradeModel,
    batch: MasqueradeState,
}

impl Scorer for MasqueradeScorer<'_> {
    fn observe(&mut self, event: &Event) {
        self.batch.observe(event);
    }

    fn events_used(&self) -> u64 {
        self.batch.events
    }

    fn finish(self: Box<Self>, progress: &dyn Progress) -> Result<Vec<Scored>, DetectError> {
        progress.stage("comparing rare names with common ones", None);
        Ok(self.model.score_batch(&self.batch.names))
    }
}

/// The record the notebook publishes to Log Analytics, one per look-alike pair:
/// `{TimeStamp, NormalProcess, PotentiallyMaliciousProcess, AnomalyScore}`.
pub fn seed_records(finding: &Finding) -> Vec<serde_json::Map<String, serde_json::Value>> {
    let time = finding
        .scored
        .first_seen
        .map(|t| t.to_string())
        .unwrap_or_default();
    finding
        .scored
        .explanation
        .get("matches")
        .and_then(|m| m.as_array())
        .map(|matches| {
            matches
                .iter()
                .filter_map(|m| {
                    let mut r = serde_json::Map::new();
                    r.insert("TimeStamp".into(), time.clone().into());
                    r.insert("NormalProcess".into(), m.get("normal_process")?.clone());
                    r.insert(
                        "PotentiallyMaliciousProcess".into(),
                        finding.scored.subject.clone().into(),
                    );
                    r.insert("AnomalyScore".into(), m.get("similarity")?.clone());
                    Some(r)
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use oddhunt_core::EventBuilder;
    use std::sync::Arc;

    #[test]
    fn percent_rank_as_spark() {
        // Spark: percent_rank over (1, 1, 2, 5) ascending = 0, 0, 2/3, 1.
        assert_eq!(percent_ranks(&[5, 1, 2, 1]), vec![1.0, 0.0, 2.0 / 3.0, 0.0]);
        assert_eq!(percent_ranks(&[7]), vec![0.0]);
        assert!(percent_ranks(&[]).is_empty());
    }

    #[test]
    fn folders_and_writability() {
        assert_eq!(
            folder_of(r"C:\Windows\Temp\svch0st.exe"),
            r"C:\Windows\Temp"
        );
        assert!(is_user_writable(r"c:\windows\temp"));
        assert!(is_user_writable(r"c:\users\bob\appdata\local\x"));
        assert!(!is_user_writable(r"c:\windows\system32"));
    }

    fn process(path: &str, line: u64) -> Event {
        let mut b = EventBuilder::new(
            EventKind::ProcessStart,
            Provenance::line(Arc::from("t.jsonl"), line),
        );
        b.field(Field::ProcessPath, path).field(Field::Host, "h1");
        b.build()
    }

    #[test]
    fn merge_equals_training_on_the_union() {
        let paths = [
            r"C:\Windows\System32\svchost.exe",
            r"C:\Windows\Temp\svch0st.exe",
            r"C:\Windows\System32\cmd.exe",
        ];
        let events: Vec<Event> = (0..30)
            .map(|i| process(paths[i % 3], i as u64 + 1))
            .collect();
        let mut whole = MasqueradeState::default();
        events.iter().for_each(|e| whole.observe(e));
        let (a, b) = events.split_at(11);
        let mut left = MasqueradeState::default();
        a.iter().for_each(|e| left.observe(e));
        let mut right = MasqueradeState::default();
        b.iter().for_each(|e| right.observe(e));
        left.merge(&right);
        assert_eq!(left, whole);
    }
}
