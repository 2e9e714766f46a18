//! `exeprev`: executables with an odd prevalence — the BSides "DCO and Data Science" process
//! hunt: programs from odd folders that ran on one or two machines, talked to the network, or
//! ran as unusual users (features per executable → Isolation Forest).
//!
//! **Input**: `ProcessStart` (Sysmon 1, Security 4688, EDR process events) and
//! `NetworkConnection` events that name their process (Sysmon 3). Connections without a
//! process (Zeek `conn.log`, firewalls) are counted as ignored.
//!
//! **Subject**: one executable by its normalised full path
//! ([`crate::features::normalise_executable`]: lower case, quotes and `\??\` dropped, the profile
//! folder's user name replaced by `*` so a per-user install is one executable).
//!
//! | feature | scale | why |
//! |---|---|---|
//! | distinct hosts | log10(1 + n) | dropped tools run on one or two machines |
//! | distinct users | log10(1 + n) | |
//! | executions per day | log10(1 + n) | |
//! | network connections per host and day | log10(1 + n) | an implant talks, from few hosts; a browser's traffic is spread over many |
//! | distinct destinations per day | log10(1 + n) | |
//! | user-writable folder | 0 / 1 | Temp, AppData, Downloads, Public, ProgramData, `/tmp` … |
//! | hosts running programs from its folder | log10(1 + n) | System32, Program Files, a per-user install folder and even Downloads run programs on many machines; a tool dropped into `C:\Windows\Temp` or `C:\PerfLogs` runs from a folder no other machine ever ran anything from |
//!
//! **Scoring a new day against a model** uses each executable's whole known history: the model
//! keeps, per executable of the baseline, its counts (hosts, users, executions, connections,
//! destinations, days) and, per folder, how many executables ran from it. A day's row of a known
//! program is its baseline and the day together (distinct counts: the larger of the two; volumes:
//! summed, per day), so a program that runs on every host is not "rare" because it ran on three
//! hosts today; an executable the baseline never saw has only today, and its folder's count is
//! the baseline's, so twenty tools dropped into one empty folder today do not make it popular.
//!
//! Executions, connections and distinct destinations are divided by the number of UTC calendar
//! days the executable was seen on (at least one), so a model trained on a month scores a day
//! on the same scale and a tool that ran on one day keeps its daily rate in a month-long hunt
//! (hosts and users are populations that do not grow with time).
//!
//! **Score**: the anomaly score `s` in (0, 1] of an Isolation Forest (scikit-learn's
//! axis-parallel trees on 2,048 executables per tree; higher = odder); native measure: the mean
//! path length. A dropped tool stands out on two or three features (one host, a user-writable
//! folder, its own destinations), which axis-parallel cuts isolate better than hyperplanes over
//! all six: a generated beaconing tool in a user's Temp folder ranks first with them, third
//! among the busiest browsers and services with hyperplanes. No clustering by default (`clusters` turns it on; the analyst names the alarm
//! clusters). A rare executable in a user-writable folder gets its severity raised one step.
//!
//! **Default threshold** `score>0.6`, as the other forest detectors.
//!
//! **Bounded memory**: per executable, counts, its hosts, users and destinations as bottom-k
//! sketches of 1,024 hashes (exact up to 1,024), four sampled hosts, users, destinations and
//! paths as logged, with counts, and eight records. Merging partial states equals reading the
//! union ([`ExePrevState::merge`]).

use crate::detector::{
    DetectError, Detector, Fitted, IgnoredCounts, Model, Needs, Progress, Scorer, Trainer,
};
use crate::features::{
    folder_of, is_user_writable, max_time, min_time, normalise_executable, stable_hash, ActiveDays,
    Distinct, FastMap, Kept, Sample,
};
use crate::iforest_table::forest::{
    detailed_rows, short_number, AlarmRule, FeatureDef, FeatureForest, ForestSettings, Scale,
    Verdict,
};
use oddhunt_core::modelfile::ModelFile;
use oddhunt_core::{Event, EventKind, Field, Measure, Provenance, Rule, Scored, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Distinct hosts, users and destinations counted exactly up to this many per executable.
pub const DISTINCT_CAP: usize = 1024;
const KEEP_PROVENANCE: usize = 8;

/// Settings of the exeprev detector.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExePrevSettings {
    /// Forest, flagging and (optional) clustering.
    pub forest: ForestSettings,
}

impl Default for ExePrevSettings {
    fn default() -> Self {
        ExePrevSettings {
            forest: ForestSettings {
                clusters: 0,
                flag_share: 0.1,
                max_samples: 2048,
                ..ForestSettings::default()
            },
        }
    }
}

/// Column order of the exeprev feature table.
pub const FEATURES: [(&str, &str, Scale); 7] = [
    ("distinct_hosts", "distinct hosts", Scale::Log),
    ("distinct_users", "distinct users", Scale::Log),
    ("executions", "executions per day", Scale::Log),
    (
        "connections_per_host",
        "network connections per host and day",
        Scale::Log,
    ),
    (
        "distinct_destinations",
        "distinct destinations per day",
        Scale::Log,
    ),
    (
        "user_writable",
        "runs from a user-writable folder",
        Scale::Linear,
    ),
    (
        "folder_hosts",
        "hosts running programs from its folder",
        Scale::Log,
    ),
];

const USER_WRITABLE: usize = 5;

const DISTINCT_HOSTS: usize = 0;
const EXECUTIONS: usize = 2;

fn feature_defs() -> Vec<FeatureDef> {
    FEATURES
        .iter()
        .map(|(n, l, s)| FeatureDef::new(n, l, *s))
        .collect()
}

/// What is known about one executable.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ExeStats {
    /// Process starts.
    pub executions: u64,
    /// Network connections it made.
    pub connections: u64,
    /// Distinct hosts.
    pub hosts: Distinct<DISTINCT_CAP>,
    /// Distinct users.
    pub users: Distinct<DISTINCT_CAP>,
    /// Distinct destinations (address, or name when no address).
    pub destinations: Distinct<DISTINCT_CAP>,
    /// Sampled hosts with event counts.
    pub host_sample: Sample<4>,
    /// Sampled users with counts.
    pub user_sample: Sample<4>,
    /// Sampled destinations with counts.
    pub destination_sample: Sample<4>,
    /// Paths as logged, with counts.
    pub paths: Sample<2>,
    /// Sampled parent processes with counts.
    pub parents: Sample<4>,
    /// First event.
    pub first_seen: Option<Timestamp>,
    /// Last event.
    pub last_seen: Option<Timestamp>,
    /// Days with events (the divisor of the per-day features).
    pub days: ActiveDays,
    /// First records.
    pub provenance: Kept<Provenance, KEEP_PROVENANCE>,
}

impl ExeStats {
    fn observe(&mut self, event: &Event, path: &str) {
        if let Some(host) = event.get(Field::Host) {
            let h = stable_hash(host.as_bytes());
            self.hosts.insert_hash(h);
            self.host_sample.add_hashed(h, host, 1);
        }
        if let Some(user) = event.get(Field::User) {
            let u = match event.get(Field::Domain) {
                Some(d) => format!("{d}\\{user}"),
                None => user.to_string(),
            };
            let h = stable_hash(u.as_bytes());
            self.users.insert_hash(h);
            self.user_sample.add_hashed(h, &u, 1);
        }
        match event.kind() {
            EventKind::NetworkConnection => {
                self.connections += 1;
                let dest = event
                    .get(Field::DestinationIp)
                    .or_else(|| event.get(Field::DestinationHost));
                if let Some(d) = dest {
                    let h = stable_hash(d.as_bytes());
                    self.destinations.insert_hash(h);
                    self.destination_sample.add_hashed(h, d, 1);
                }
            }
            _ => {
                self.executions += 1;
                if let Some(p) = event.parent_name() {
                    self.parents.add(p, 1);
                }
            }
        }
        self.paths.add(path, 1);
        self.first_seen = min_time(self.first_seen, event.time());
        self.last_seen = max_time(self.last_seen, event.time());
        self.days.add(event.time());
        self.provenance.offer(event.provenance());
    }

    /// Adds another executable's statistics.
    pub fn merge(&mut self, o: &ExeStats) {
        self.executions += o.executions;
        self.connections += o.connections;
        self.hosts.merge(&o.hosts);
        self.users.merge(&o.users);
        self.destinations.merge(&o.destinations);
        self.host_sample.merge(&o.host_sample);
        self.user_sample.merge(&o.user_sample);
        self.destination_sample.merge(&o.destination_sample);
        self.paths.merge(&o.paths);
        self.parents.merge(&o.parents);
        self.first_seen = min_time(self.first_seen, o.first_seen);
        self.last_seen = max_time(self.last_seen, o.last_seen);
        self.days.merge(&o.days);
        self.provenance.merge(&o.provenance);
    }

    /// The counts the features are computed from (what a model keeps of the baseline).
    pub fn counts(&self) -> KnownExe {
        KnownExe {
            hosts: self.hosts.count(),
            users: self.users.count(),
            executions: self.executions,
            connections: self.connections,
            destinations: self.destinations.count(),
            days: self.days.count(),
        }
    }
}

/// What a model keeps of one baseline executable: the counts behind its features.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct KnownExe {
    /// Distinct hosts.
    pub hosts: f64,
    /// Distinct users.
    pub users: f64,
    /// Process starts.
    pub executions: u64,
    /// Network connections.
    pub connections: u64,
    /// Distinct destinations.
    pub destinations: f64,
    /// Days with events (at least one).
    pub days: f64,
}

impl KnownExe {
    /// The baseline and a new batch together: distinct counts are at least the larger of the
    /// two (the sets themselves are not kept), volumes and days add up.
    pub fn with(&self, today: &KnownExe) -> KnownExe {
        KnownExe {
            hosts: self.hosts.max(today.hosts),
            users: self.users.max(today.users),
            executions: self.executions + today.executions,
            connections: self.connections + today.connections,
            destinations: self.destinations.max(today.destinations),
            days: self.days + today.days,
        }
    }

    /// The feature row (order of [`FEATURES`]), given the executable's normalised path and on
    /// how many hosts programs ran from its folder.
    pub fn features(&self, normalised: &str, folder_hosts: f64) -> [f64; 7] {
        let days = self.days.max(1.0);
        [
            self.hosts,
            self.users,
            self.executions as f64 / days,
            self.connections as f64 / days / self.hosts.max(1.0),
            self.destinations / days,
            f64::from(u8::from(is_user_writable(folder_of(normalised)))),
            folder_hosts.max(self.hosts),
        ]
    }
}

/// What a model knows of its baseline: every executable's counts and on how many hosts programs
/// ran from each folder.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// Per normalised executable path.
    pub executables: FastMap<String, KnownExe>,
    /// Distinct hosts per normalised folder (exact up to [`DISTINCT_CAP`], then estimated).
    pub folders: FastMap<String, f64>,
}

impl Baseline {
    fn of(exes: &[(String, ExeStats)]) -> Baseline {
        let mut b = Baseline::default();
        let mut folders: FastMap<&str, Distinct<DISTINCT_CAP>> = FastMap::default();
        for (key, stats) in exes {
            b.executables.insert(key.clone(), stats.counts());
            folders
                .entry(folder_of(key))
                .or_default()
                .merge(&stats.hosts);
        }
        b.folders = folders
            .into_iter()
            .map(|(f, hosts)| (f.to_string(), hosts.count()))
            .collect();
        b
    }

    /// The feature row of `key` seen with `today`'s statistics (or of a baseline executable
    /// itself when `today` is its own baseline entry). The folder's hosts are the baseline's
    /// (at least the executable's own), so tools dropped into one folder on many hosts today
    /// do not make that folder common.
    fn row(&self, key: &str, today: &ExeStats, training: bool) -> [f64; 7] {
        let counts = today.counts();
        let counts = match self.executables.get(key) {
            Some(b) if !training => b.with(&counts),
            _ => counts,
        };
        let folder_hosts = self.folders.get(folder_of(key)).copied().unwrap_or(0.0);
        counts.features(key, folder_hosts)
    }
}

/// The mergeable training state: per executable statistics.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ExePrevState {
    /// Per normalised executable path.
    pub executables: FastMap<String, ExeStats>,
    /// Events used.
    pub events: u64,
    /// Events ignored, by reason.
    pub ignored: IgnoredCounts,
}

impl ExePrevState {
    /// Takes one event.
    pub fn observe(&mut self, event: &Event) {
        match event.kind() {
            EventKind::ProcessStart | EventKind::NetworkConnection => {}
            _ => {
                self.ignored
                    .add("not a process start or network connection");
                return;
            }
        }
        let Some(path) = event.get(Field::ProcessPath) else {
            self.ignored
                .add(if event.kind() == EventKind::NetworkConnection {
                    "network connection without a process"
                } else {
                    "no process path"
                });
            return;
        };
        let key = normalise_executable(path);
        if key.is_empty() {
            self.ignored.add("no process path");
            return;
        }
        self.events += 1;
        match self.executables.get_mut(&key) {
            Some(s) => s.observe(event, path.trim()),
            None => {
                let mut s = ExeStats::default();
                s.observe(event, path.trim());
                self.executables.insert(key, s);
            }
        }
    }

    /// Merges another state (the result equals the state of both inputs read together).
    pub fn merge(&mut self, other: &ExePrevState) {
        self.events += other.events;
        self.ignored.merge(&other.ignored);
        for (k, s) in &other.executables {
            match self.executables.get_mut(k) {
                Some(mine) => mine.merge(s),
                None => {
                    self.executables.insert(k.clone(), s.clone());
                }
            }
        }
    }

    /// The executables in order and their feature rows: against `baseline` when scoring new
    /// data, against themselves (`None`) when training.
    fn table(self, baseline: Option<&Baseline>) -> (Vec<(String, ExeStats)>, Vec<f64>, Baseline) {
        let mut exes: Vec<(String, ExeStats)> = self.executables.into_iter().collect();
        exes.sort_by(|a, b| a.0.cmp(&b.0));
        let (rows, own) = match baseline {
            Some(b) => (
                exes.iter().flat_map(|(k, s)| b.row(k, s, false)).collect(),
                Baseline::default(),
            ),
            None => {
                let own = Baseline::of(&exes);
                let rows = exes.iter().flat_map(|(k, s)| own.row(k, s, true)).collect();
                (rows, own)
            }
        };
        (exes, rows, own)
    }
}

/// The exeprev detector.
#[derive(Clone, Debug, Default)]
pub struct ExePrev {
    /// Its settings.
    pub settings: ExePrevSettings,
}

impl ExePrev {
    /// A detector with `settings`.
    pub fn new(settings: ExePrevSettings) -> Result<Self, DetectError> {
        settings.forest.validate("exeprev")?;
        Ok(ExePrev { settings })
    }
}

impl Detector for ExePrev {
    fn name(&self) -> &'static str {
        "exeprev"
    }

    fn description(&self) -> &'static str {
        "executables with an odd prevalence: rare programs in user-writable folders, on one or two hosts, talking to the network"
    }

    fn subject(&self) -> &'static str {
        "executable"
    }

    fn needs(&self) -> Needs {
        Needs {
            kinds: &[EventKind::ProcessStart, EventKind::NetworkConnection],
            required: &[Field::ProcessPath],
            optional: &[
                Field::Host,
                Field::User,
                Field::Domain,
                Field::DestinationIp,
                Field::ParentPath,
            ],
        }
    }

    fn default_threshold(&self) -> Rule {
        Rule::Above(0.6)
    }

    fn settings(&self) -> Value {
        serde_json::to_value(&self.settings).unwrap_or_default()
    }

    fn trainer(&self) -> Box<dyn Trainer> {
        Box::new(ExePrevTrainer {
            settings: self.settings.clone(),
            state: ExePrevState::default(),
        })
    }

    fn load(&self, file: &ModelFile) -> Result<Box<dyn Model>, DetectError> {
        let settings: ExePrevSettings = crate::detector::load_settings(file, "exeprev")?;
        let forest = FeatureForest::load(file, "exeprev", FEATURES.len())?;
        let baseline: Baseline = file.get_json("baseline")?;

        Ok(Box::new(ExePrevModel {
            settings,
            forest,
            baseline,
        }))
    }

    fn scores_while_training(&self) -> bool {
        true
    }
}

struct ExePrevTrainer {
    settings: ExePrevSettings,
    state: ExePrevState,
}

impl Trainer for ExePrevTrainer {
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
        let other = crate::detector::merge_partner::<ExePrevTrainer>(other, "exeprev", |o| {
            o.settings == self.settings
        })?;
        self.state.merge(&other.state);
        Ok(())
    }

    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any> {
        self
    }

    fn fit(self: Box<Self>, progress: &dyn Progress) -> Result<Fitted, DetectError> {
        if self.state.executables.is_empty() {
            return Err(DetectError::NoTrainingData(
                "no process-start or network-connection events with a process path".into(),
            ));
        }
        progress.stage("growing the isolation forest over executables", None);
        let (exes, rows, baseline) = self.state.table(None);
        let (forest, verdicts) = FeatureForest::fit(
            &self.settings.forest,
            feature_defs(),
            &rows,
            exes.len(),
            &AlarmRule { features: vec![] },
            (DISTINCT_HOSTS, EXECUTIONS),
        )?;
        let model = ExePrevModel {
            settings: self.settings,
            forest,
            baseline,
        };
        let scored = model.scored(exes, &rows, &verdicts);
        Ok(Fitted {
            subjects: scored.len() as u64,
            training_scores: verdicts.iter().map(|v| v.score).collect(),
            model: Box::new(model),
            scored_training: Some(scored),
        })
    }
}

/// A trained exeprev model.
pub struct ExePrevModel {
    settings: ExePrevSettings,
    forest: FeatureForest,
    baseline: Baseline,
}

impl ExePrevModel {
    /// The feature forest.
    pub fn forest(&self) -> &FeatureForest {
        &self.forest
    }

    fn scored(
        &self,
        exes: Vec<(String, ExeStats)>,
        rows: &[f64],
        verdicts: &[Verdict],
    ) -> Vec<Scored> {
        use rayon::prelude::*;
        let nf = FEATURES.len();
        let detailed = detailed_rows(verdicts, self.settings.forest.explain_top);
        exes.into_par_iter()
            .enumerate()
            .map(|(i, (key, stats))| {
                let row = &rows[i * nf..(i + 1) * nf];
                self.scored_exe(key, stats, row, &verdicts[i], detailed[i])
            })
            .collect()
    }

    fn scored_exe(
        &self,
        key: String,
        stats: ExeStats,
        row: &[f64],
        verdict: &Verdict,
        detailed: bool,
    ) -> Scored {
        let mut s = Scored::new(
            key.clone(),
            verdict.score,
            Measure::new("path_length", verdict.path_length),
        );
        let mut explanation = self.forest.explanation(row, verdict, detailed);
        let reasons = if detailed {
            self.forest
                .top_reasons(&self.forest.feature_explanations(row), 2)
        } else {
            String::new()
        };
        let writable = row.get(USER_WRITABLE).is_some_and(|&w| w > 0.5);
        let known = self.baseline.executables.contains_key(&key);
        let hosts = stats.hosts.count();
        s.summary = format!(
            "{key}: {}{} executions on {} host{}, {} connections{}{}",
            if reasons.is_empty() {
                String::new()
            } else {
                format!("{reasons}; ")
            },
            stats.executions,
            short_number(hosts.round()),
            if hosts == 1.0 { "" } else { "s" },
            stats.connections,
            if writable {
                "; user-writable folder"
            } else {
                ""
            },
            if known { "" } else { "; not in the baseline" }
        );
        let list = |sample: &Sample<4>, what: &str| -> Value {
            Value::Array(
                sample
                    .by_count()
                    .iter()
                    .map(|(v, n)| json!({what: v, "events": n}))
                    .collect(),
            )
        };
        explanation.insert("hosts".into(), list(&stats.host_sample, "host"));
        explanation.insert("users".into(), list(&stats.user_sample, "user"));
        explanation.insert(
            "destinations".into(),
            list(&stats.destination_sample, "destination"),
        );
        explanation.insert("parents".into(), list(&stats.parents, "parent"));
        explanation.insert("user_writable".into(), writable.into());
        explanation.insert("seen_in_baseline".into(), known.into());
        s.explanation = Value::Object(explanation);
        let path = stats.paths.most_frequent().unwrap_or(&key).to_string();
        s.context.insert(
            "process.name".into(),
            oddhunt_core::file_name(&path).to_string(),
        );
        s.context.insert("process.executable".into(), path);
        if let Some(h) = stats.host_sample.most_frequent() {
            s.context.insert("host.name".into(), h.to_string());
        }
        if let Some(u) = stats.user_sample.most_frequent() {
            s.context.insert("user.name".into(), u.to_string());
        }
        if let Some(d) = stats.destination_sample.most_frequent() {
            s.context.insert("destination.ip".into(), d.to_string());
        }
        // A rare program running from where users write is worth a closer look.
        if writable && verdict.flagged {
            s.severity_boost = 1;
        }
        s.first_seen = stats.first_seen;
        s.last_seen = stats.last_seen;
        s.provenance = stats.provenance.items().to_vec();
        s
    }
}

impl Model for ExePrevModel {
    fn detector(&self) -> &'static str {
        "exeprev"
    }

    fn settings(&self) -> Value {
        serde_json::to_value(&self.settings).unwrap_or_default()
    }

    fn save(&self, file: &mut ModelFile) -> Result<(), DetectError> {
        file.put_json("forest", &self.forest)?;
        file.put_json("baseline", &self.baseline)?;
        Ok(())
    }

    fn scorer(&self) -> Box<dyn Scorer + '_> {
        Box::new(ExePrevScorer {
            model: self,
            batch: ExePrevState::default(),
        })
    }
}

struct ExePrevScorer<'a> {
    model: &'a ExePrevModel,
    batch: ExePrevState,
}

impl Scorer for ExePrevScorer<'_> {
    fn observe(&mut self, event: &Event) {
        self.batch.observe(event);
    }

    fn events_used(&self) -> u64 {
        self.batch.events
    }

    fn finish(self: Box<Self>, progress: &dyn Progress) -> Result<Vec<Scored>, DetectError> {
        progress.stage("scoring executables", None);
        let (exes, rows, _) = self.batch.table(Some(&self.model.baseline));
        if exes.is_empty() {
            return Ok(Vec::new());
        }
        let verdicts = self.model.forest.judge(&rows)?;
        Ok(self.model.scored(exes, &rows, &verdicts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oddhunt_core::EventBuilder;
    use std::sync::Arc;

    fn event(kind: EventKind, path: &str, host: &str, dest: Option<&str>, line: u64) -> Event {
        let mut b = EventBuilder::new(kind, Provenance::line(Arc::from("sysmon.jsonl"), line));
        b.field(Field::ProcessPath, path)
            .field(Field::Host, host)
            .field(Field::User, "bob");
        if let Some(d) = dest {
            b.field(Field::DestinationIp, d);
        }
        b.build()
    }

    #[test]
    fn per_executable_features() {
        let mut state = ExePrevState::default();
        let tool = r"C:\Users\Bob\AppData\Local\Temp\t.exe";
        state.observe(&event(EventKind::ProcessStart, tool, "h1", None, 1));
        state.observe(&event(
            EventKind::NetworkConnection,
            tool,
            "h1",
            Some("1.2.3.4"),
            2,
        ));
        state.observe(&event(
            EventKind::NetworkConnection,
            tool,
            "h1",
            Some("1.2.3.5"),
            3,
        ));
        state.observe(&event(
            EventKind::ProcessStart,
            r"C:\Windows\System32\cmd.exe",
            "h2",
            None,
            4,
        ));
        let mut zeek = EventBuilder::new(
            EventKind::NetworkConnection,
            Provenance::line(Arc::from("conn.log"), 1),
        );
        zeek.field(Field::DestinationIp, "8.8.8.8");
        state.observe(&zeek.build());
        assert_eq!(state.events, 4);
        let key = r"c:\users\*\appdata\local\temp\t.exe";
        let f = state.executables[key].counts().features(key, 0.0);
        assert_eq!(f, [1.0, 1.0, 1.0, 2.0, 2.0, 1.0, 1.0]);
        // Connections are per host: cmd.exe-like programs on many hosts do not look busy.
        let mut two = state.executables[key].clone();
        two.hosts.insert(b"h2");
        assert_eq!(two.counts().features(key, 0.0)[3], 1.0);
        let cmd = r"c:\windows\system32\cmd.exe";
        assert_eq!(state.executables[cmd].counts().features(cmd, 0.0)[5], 0.0);
        // Scored against a baseline: a known program keeps its history, a new one in an empty
        // folder has nothing but today.
        let (_, _, baseline) = state.clone().table(None);
        let today = &state.executables[cmd];
        let known = baseline.row(cmd, today, false);
        // Two executions over two days.
        assert_eq!((known[0], known[2]), (1.0, 1.0));
        let new = r"c:\windows\temp\x.exe";
        assert_eq!(baseline.row(new, today, false)[6], 1.0);
        assert_eq!(baseline.row(cmd, today, true)[6], 1.0);
        assert!(state
            .ignored
            .to_vec()
            .iter()
            .any(|(r, _)| r == "network connection without a process"));
    }
}
