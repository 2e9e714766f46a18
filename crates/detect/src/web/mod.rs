//! `web`: web clients whose requests look like scanning, brute force or exploitation — the
//! BSides "DCO and Data Science" web hunt (features per client → Isolation Forest → k-means
//! over the anomalies, default k = 8), made a trainable detector.
//!
//! **Input**: `HttpRequest` events (Apache/Nginx access logs, IIS W3C, Zeek `http.log`).
//!
//! **Subject**: one client IP (the finding's subject is the address itself). Per-URI and
//! per-user-agent statistics are not subjects of their own: they enter each client's row as
//! the rarity of the paths it asks for and the prevalence of its user agent, so one subject type
//! keeps the ranking and the threshold meaningful (a site has far more paths than clients, and a
//! rare path is only interesting through who asks for it).
//!
//! | feature | scale | why |
//! |---|---|---|
//! | requests per day | log10(1 + n) | volume (a scanner, a brute forcer, a scraper) |
//! | failure share (status ≥ 400) | linear | scanners hit 404/403, brute force 401 |
//! | distinct paths per day | log10(1 + n) | scanners and crawlers walk many paths |
//! | mean URI length | linear | injection payloads, traversal strings |
//! | mean URI entropy (bits/char) | linear | encoded payloads |
//! | mean query parameters | linear | parameter fuzzing |
//! | mean query-value entropy | linear | SQL injection, encoded shells |
//! | distinct user agents | log10(1 + n) | tools rotate agents; people have one or two |
//! | requests per minute | log10(1 + r) | machine speed: requests over the client's active span |
//! | rare-path share | linear | share of its distinct paths no other client asked for |
//! | clients of its user agent | log10(1 + n) | how many clients share its main user agent (a tool's agent is its own) |
//! | failed requests per day | log10(1 + n) | forced browsing and brute force fail by the hundred; a crawler, a monitor or an API client is unique too, but succeeds |
//!
//! Volumes are divided by the number of UTC calendar days the client was seen on (at least
//! one), so a model trained on a month scores a day's log on the same scale and a scanner that
//! came on one day keeps its daily rate in a month-long hunt.
//!
//! **Score**: the anomaly score `s` in (0, 1] of an Isolation Forest (scikit-learn's
//! axis-parallel trees on 2,048 clients per tree; higher = odder); native measure: the mean path
//! length. Unlike DNS tunnels, web attackers stand out on one or two features (volume, failures,
//! paths) rather than on all of them, which axis-parallel cuts isolate and hyperplanes over
//! eleven features dilute: on the real logs (the Tomcat brute force and webshell clients and the
//! Tunna tunnel among 900 clients of a public site) they rank 1st, 2nd and 5th with
//! axis-parallel trees, 6th–8th with 3-feature hyperplanes and 38th–68th fully extended. The `flag_share` (10 %) of training clients with the highest scores are
//! grouped by k-means (k = 8, as the talk); the **alarm cluster** is the one with the highest
//! failure share + rare-path share (a scanner's shape), or the analyst's `alarm_clusters`. A
//! flagged client in an alarm cluster alarms (severity one step up).
//!
//! **Default threshold** `score>0.6`, as the other forest detectors.
//!
//! **Bounded memory**: per client, sums and counts, its distinct paths as a bottom-k sketch of
//! 1,024 hashes (the rare-path share is computed over that sample), four sampled user agents
//! with counts, the longest URI, eight records; per path (by hash) whether one or more clients
//! asked for it (a two-hash sketch); per user agent a 256-hash sketch of its clients. Merging
//! partial states equals reading the union ([`WebState::merge`]).

use crate::detector::{
    DetectError, Detector, Fitted, IgnoredCounts, Model, Needs, Progress, Scorer, Trainer,
};
use crate::features::{
    max_time, min_time, query_stats, shannon_entropy, split_uri, stable_hash, ActiveDays, Distinct,
    FastMap, Kept, Sample,
};
use crate::iforest_table::forest::{
    detailed_rows, short_number, AlarmRule, FeatureDef, FeatureForest, ForestSettings, Scale,
    Verdict,
};
use oddhunt_core::modelfile::ModelFile;
use oddhunt_core::{Event, EventKind, Field, Measure, Provenance, Rule, Scored, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Distinct paths kept per client (exact count up to this many).
pub const PATH_CAP: usize = 1024;
/// Distinct clients kept per user agent.
pub const AGENT_CLIENT_CAP: usize = 256;
/// Longest URI kept as an example.
const MAX_EXAMPLE: usize = 512;
/// Records kept per client.
const KEEP_PROVENANCE: usize = 8;

/// Settings of the web detector.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebSettings {
    /// Forest, flagging and clustering.
    pub forest: ForestSettings,
}

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            forest: ForestSettings {
                clusters: 8,
                flag_share: 0.1,
                max_samples: 2048,
                ..ForestSettings::default()
            },
        }
    }
}

/// Column order of the web feature table.
pub const FEATURES: [(&str, &str, Scale); 12] = [
    ("requests", "requests per day", Scale::Log),
    (
        "failure_share",
        "failure share (status ≥ 400)",
        Scale::Linear,
    ),
    ("distinct_paths", "distinct paths per day", Scale::Log),
    ("mean_uri_length", "mean URI length", Scale::Linear),
    (
        "mean_uri_entropy",
        "mean URI entropy (bits/char)",
        Scale::Linear,
    ),
    ("mean_query_params", "mean query parameters", Scale::Linear),
    (
        "mean_query_value_entropy",
        "mean query-value entropy (bits/char)",
        Scale::Linear,
    ),
    ("distinct_user_agents", "distinct user agents", Scale::Log),
    ("requests_per_minute", "requests per minute", Scale::Log),
    ("rare_path_share", "rare-path share", Scale::Linear),
    ("agent_clients", "clients of its user agent", Scale::Log),
    ("failures", "failed requests per day", Scale::Log),
];

const FAILURE_SHARE: usize = 1;
const DISTINCT_PATHS: usize = 2;
const RARE_PATH_SHARE: usize = 9;

fn feature_defs() -> Vec<FeatureDef> {
    FEATURES
        .iter()
        .map(|(n, l, s)| FeatureDef::new(n, l, *s))
        .collect()
}

fn clip(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// What one client did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClientStats {
    /// Requests.
    pub requests: u64,
    /// Requests answered with status ≥ 400.
    pub failures: u64,
    /// Responses by class: 1xx-2xx, 3xx, 4xx, 5xx, no status.
    pub status_classes: [u64; 5],
    /// Sum of URI lengths.
    pub uri_length_sum: u64,
    /// Sum of URI entropies, thousandths of a bit (integers: merges in any order).
    pub uri_entropy_milli_sum: u64,
    /// Sum of query-parameter counts.
    pub params_sum: u64,
    /// Sum of query-value entropies, thousandths of a bit.
    pub value_entropy_milli_sum: u64,
    /// Distinct paths (hashes).
    pub paths: Distinct<PATH_CAP>,
    /// Distinct user agents.
    pub agents: Distinct<64>,
    /// Sampled user agents with their request counts.
    pub agent_sample: Sample<4>,
    /// Sampled methods with counts.
    pub methods: Sample<4>,
    /// The longest URI (ties: the smallest).
    pub longest_uri: Option<String>,
    /// First request.
    pub first_seen: Option<Timestamp>,
    /// Last request.
    pub last_seen: Option<Timestamp>,
    /// Days with requests (the divisor of the per-day features).
    pub days: ActiveDays,
    /// First records.
    pub provenance: Kept<Provenance, KEEP_PROVENANCE>,
}

fn status_class(status: Option<u16>) -> usize {
    match status {
        Some(100..=299) => 0,
        Some(300..=399) => 1,
        Some(400..=499) => 2,
        Some(500..=599) => 3,
        _ => 4,
    }
}

impl ClientStats {
    fn observe(&mut self, event: &Event, uri: &str, path_hash: u64) {
        self.requests += 1;
        let status = event.status();
        if status.is_some_and(|s| s >= 400) {
            self.failures += 1;
        }
        self.status_classes[status_class(status)] += 1;
        let uri = clip(uri, MAX_EXAMPLE);
        self.uri_length_sum += uri.len() as u64;
        self.uri_entropy_milli_sum += (shannon_entropy(uri.as_bytes()) * 1000.0).round() as u64;
        let (params, value_entropy) = query_stats(split_uri(uri).query);
        self.params_sum += u64::from(params);
        self.value_entropy_milli_sum += (value_entropy * 1000.0).round() as u64;
        self.paths.insert_hash(path_hash);
        let agent = event.get(Field::UserAgent).unwrap_or("-");
        let agent = clip(agent, MAX_EXAMPLE);
        let h = stable_hash(agent.as_bytes());
        self.agents.insert_hash(h);
        self.agent_sample.add_hashed(h, agent, 1);
        if let Some(m) = event.get(Field::Method) {
            self.methods.add(clip(m, 16), 1);
        }
        let longer = match &self.longest_uri {
            None => true,
            Some(l) => uri.len() > l.len() || (uri.len() == l.len() && uri < l.as_str()),
        };
        if longer && !uri.is_empty() {
            self.longest_uri = Some(uri.to_string());
        }
        self.first_seen = min_time(self.first_seen, event.time());
        self.last_seen = max_time(self.last_seen, event.time());
        self.days.add(event.time());
        self.provenance.offer(event.provenance());
    }

    /// Adds another client's statistics.
    pub fn merge(&mut self, o: &ClientStats) {
        self.requests += o.requests;
        self.failures += o.failures;
        for (a, b) in self.status_classes.iter_mut().zip(o.status_classes) {
            *a += b;
        }
        self.uri_length_sum += o.uri_length_sum;
        self.uri_entropy_milli_sum += o.uri_entropy_milli_sum;
        self.params_sum += o.params_sum;
        self.value_entropy_milli_sum += o.value_entropy_milli_sum;
        self.paths.merge(&o.paths);
        self.agents.merge(&o.agents);
        self.agent_sample.merge(&o.agent_sample);
        self.methods.merge(&o.methods);
        if let Some(u) = &o.longest_uri {
            let longer = match &self.longest_uri {
                None => true,
                Some(l) => u.len() > l.len() || (u.len() == l.len() && u < l),
            };
            if longer {
                self.longest_uri = Some(u.clone());
            }
        }
        self.first_seen = min_time(self.first_seen, o.first_seen);
        self.last_seen = max_time(self.last_seen, o.last_seen);
        self.days.merge(&o.days);
        self.provenance.merge(&o.provenance);
    }

    /// The share of its (sampled) distinct paths that no other client asked for.
    fn rare_path_share(&self, paths: &FastMap<u64, Distinct<2>>) -> f64 {
        let kept = self.paths.hashes();
        if kept.is_empty() {
            return 0.0;
        }
        let rare = kept
            .iter()
            .filter(|h| paths.get(h).is_none_or(|c| c.count() < 2.0))
            .count();
        rare as f64 / kept.len() as f64
    }

    /// The feature row ([`FEATURES`] order).
    fn features(
        &self,
        paths: &FastMap<u64, Distinct<2>>,
        agents: &FastMap<String, Distinct<AGENT_CLIENT_CAP>>,
    ) -> [f64; 12] {
        let n = self.requests.max(1) as f64;
        let days = self.days.count();
        let minutes = match (self.first_seen, self.last_seen) {
            (Some(a), Some(b)) => (b.nanos_since(a) as f64 / 60e9).max(1.0),
            _ => 1.0,
        };
        let agent_clients = self
            .agent_sample
            .most_frequent()
            .and_then(|a| agents.get(a))
            .map_or(1.0, Distinct::count);
        [
            self.requests as f64 / days,
            self.failures as f64 / n,
            self.paths.count() / days,
            self.uri_length_sum as f64 / n,
            self.uri_entropy_milli_sum as f64 / n / 1000.0,
            self.params_sum as f64 / n,
            self.value_entropy_milli_sum as f64 / n / 1000.0,
            self.agents.count(),
            self.requests as f64 / minutes,
            self.rare_path_share(paths),
            agent_clients,
            self.failures as f64 / days,
        ]
    }
}

/// The mergeable training state.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WebState {
    /// Per client address.
    pub clients: FastMap<String, ClientStats>,
    /// Per path (by hash): which clients asked for it (one, or two or more).
    pub paths: FastMap<u64, Distinct<2>>,
    /// Per user agent: its clients.
    pub agents: FastMap<String, Distinct<AGENT_CLIENT_CAP>>,
    /// Events used.
    pub events: u64,
    /// Events ignored, by reason.
    pub ignored: IgnoredCounts,
}

impl WebState {
    /// Takes one event.
    pub fn observe(&mut self, event: &Event) {
        if event.kind() != EventKind::HttpRequest {
            self.ignored.add("not an HTTP request");
            return;
        }
        let Some(client) = event.get(Field::SourceIp).map(str::trim) else {
            self.ignored.add("no client address");
            return;
        };
        let uri = event.get(Field::Url).unwrap_or("");
        self.events += 1;
        let path = clip(split_uri(uri).path, MAX_EXAMPLE);
        let path_hash = stable_hash(path.as_bytes());
        let client_hash = stable_hash(client.as_bytes());
        self.paths
            .entry(path_hash)
            .or_default()
            .insert_hash(client_hash);
        let agent = clip(event.get(Field::UserAgent).unwrap_or("-"), MAX_EXAMPLE);
        match self.agents.get_mut(agent) {
            Some(d) => d.insert_hash(client_hash),
            None => {
                let mut d = Distinct::default();
                d.insert_hash(client_hash);
                self.agents.insert(agent.to_string(), d);
            }
        }
        match self.clients.get_mut(client) {
            Some(c) => c.observe(event, uri, path_hash),
            None => {
                let mut c = ClientStats::default();
                c.observe(event, uri, path_hash);
                self.clients.insert(client.to_string(), c);
            }
        }
    }

    /// Merges another state (the result equals the state of both inputs read together).
    pub fn merge(&mut self, other: &WebState) {
        self.events += other.events;
        self.ignored.merge(&other.ignored);
        for (ip, c) in &other.clients {
            match self.clients.get_mut(ip) {
                Some(mine) => mine.merge(c),
                None => {
                    self.clients.insert(ip.clone(), c.clone());
                }
            }
        }
        for (h, d) in &other.paths {
            self.paths.entry(*h).or_default().merge(d);
        }
        for (a, d) in &other.agents {
            match self.agents.get_mut(a) {
                Some(mine) => mine.merge(d),
                None => {
                    self.agents.insert(a.clone(), d.clone());
                }
            }
        }
    }

    /// Clients in address order with their rows (and each one's main agent's client count).
    fn table(self) -> (Vec<(String, ClientStats)>, Vec<f64>) {
        let mut clients: Vec<(String, ClientStats)> = self.clients.into_iter().collect();
        clients.sort_by(|a, b| a.0.cmp(&b.0));
        let rows = clients
            .iter()
            .flat_map(|(_, c)| c.features(&self.paths, &self.agents))
            .collect();
        (clients, rows)
    }
}

/// The web detector.
#[derive(Clone, Debug, Default)]
pub struct Web {
    /// Its settings.
    pub settings: WebSettings,
}

impl Web {
    /// A detector with `settings`.
    pub fn new(settings: WebSettings) -> Result<Self, DetectError> {
        settings.forest.validate("web")?;
        Ok(Web { settings })
    }
}

impl Detector for Web {
    fn name(&self) -> &'static str {
        "web"
    }

    fn description(&self) -> &'static str {
        "web clients whose requests look like scanning, brute force or exploitation (failures, rare paths, odd URIs, tool agents)"
    }

    fn subject(&self) -> &'static str {
        "client IP"
    }

    fn needs(&self) -> Needs {
        Needs {
            kinds: &[EventKind::HttpRequest],
            required: &[Field::SourceIp],
            optional: &[Field::Url, Field::Status, Field::UserAgent, Field::Method],
        }
    }

    fn default_threshold(&self) -> Rule {
        Rule::Above(0.6)
    }

    fn settings(&self) -> Value {
        serde_json::to_value(&self.settings).unwrap_or_default()
    }

    fn trainer(&self) -> Box<dyn Trainer> {
        Box::new(WebTrainer {
            settings: self.settings.clone(),
            state: WebState::default(),
        })
    }

    fn load(&self, file: &ModelFile) -> Result<Box<dyn Model>, DetectError> {
        let settings: WebSettings = crate::detector::load_settings(file, "web")?;
        let forest = FeatureForest::load(file, "web", FEATURES.len())?;

        Ok(Box::new(WebModel { settings, forest }))
    }

    fn scores_while_training(&self) -> bool {
        true
    }
}

struct WebTrainer {
    settings: WebSettings,
    state: WebState,
}

impl Trainer for WebTrainer {
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
        let other = crate::detector::merge_partner::<WebTrainer>(other, "web", |o| {
            o.settings == self.settings
        })?;
        self.state.merge(&other.state);
        Ok(())
    }

    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any> {
        self
    }

    fn fit(self: Box<Self>, progress: &dyn Progress) -> Result<Fitted, DetectError> {
        if self.state.clients.is_empty() {
            return Err(DetectError::NoTrainingData(
                "no HTTP request events with a client address".into(),
            ));
        }
        progress.stage("growing the isolation forest over web clients", None);
        let (clients, rows) = self.state.table();
        let rule = AlarmRule {
            features: vec![FAILURE_SHARE, RARE_PATH_SHARE],
        };
        let (forest, verdicts) = FeatureForest::fit(
            &self.settings.forest,
            feature_defs(),
            &rows,
            clients.len(),
            &rule,
            (FAILURE_SHARE, DISTINCT_PATHS),
        )?;
        let model = WebModel {
            settings: self.settings,
            forest,
        };
        progress.stage("explaining the clients", None);
        let scored = model.scored(clients, &rows, &verdicts);
        Ok(Fitted {
            subjects: scored.len() as u64,
            training_scores: verdicts.iter().map(|v| v.score).collect(),
            model: Box::new(model),
            scored_training: Some(scored),
        })
    }
}

/// A trained web model.
pub struct WebModel {
    settings: WebSettings,
    forest: FeatureForest,
}

impl WebModel {
    /// The feature forest.
    pub fn forest(&self) -> &FeatureForest {
        &self.forest
    }

    fn scored(
        &self,
        clients: Vec<(String, ClientStats)>,
        rows: &[f64],
        verdicts: &[Verdict],
    ) -> Vec<Scored> {
        use rayon::prelude::*;
        let nf = FEATURES.len();
        let detailed = detailed_rows(verdicts, self.settings.forest.explain_top);
        clients
            .into_par_iter()
            .enumerate()
            .map(|(i, (ip, stats))| {
                let row = &rows[i * nf..(i + 1) * nf];
                self.scored_client(ip, stats, row, &verdicts[i], detailed[i])
            })
            .collect()
    }

    fn scored_client(
        &self,
        ip: String,
        stats: ClientStats,
        row: &[f64],
        verdict: &Verdict,
        detailed: bool,
    ) -> Scored {
        let mut s = Scored::new(
            ip.clone(),
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
        let agents = stats.agent_sample.by_count();
        s.summary = format!(
            "{ip}: {}{} requests, {}% failed, {} paths{}",
            if reasons.is_empty() {
                String::new()
            } else {
                format!("{reasons}; ")
            },
            stats.requests,
            short_number((100.0 * stats.failures as f64 / stats.requests.max(1) as f64).round()),
            short_number(stats.paths.count().round()),
            match (verdict.cluster, verdict.flagged) {
                (Some(c), true) if verdict.alarm => format!("; cluster {c} (alarm)"),
                (Some(c), true) => format!("; cluster {c}"),
                _ => String::new(),
            }
        );
        explanation.insert(
            "statuses".into(),
            json!({
                "2xx": stats.status_classes[0],
                "3xx": stats.status_classes[1],
                "4xx": stats.status_classes[2],
                "5xx": stats.status_classes[3],
                "none": stats.status_classes[4],
            }),
        );
        explanation.insert(
            "user_agents".into(),
            Value::Array(
                agents
                    .iter()
                    .map(|(a, n)| json!({"user_agent": a, "requests": n}))
                    .collect(),
            ),
        );
        explanation.insert(
            "methods".into(),
            Value::Array(
                stats
                    .methods
                    .by_count()
                    .iter()
                    .map(|(m, n)| json!({"method": m, "requests": n}))
                    .collect(),
            ),
        );
        explanation.insert("longest_uri".into(), json!(stats.longest_uri));
        explanation.insert(
            "distinct_paths_estimated".into(),
            stats.paths.is_estimate().into(),
        );
        s.explanation = Value::Object(explanation);
        s.context.insert("source.ip".into(), ip);
        if let Some((agent, _)) = agents.first() {
            s.context
                .insert("user_agent.original".into(), (*agent).to_string());
        }
        if let Some(uri) = &stats.longest_uri {
            s.context.insert("url.original".into(), uri.clone());
            s.context
                .insert("url.path".into(), split_uri(uri).path.to_string());
        }
        if verdict.alarm {
            s.severity_boost = 1;
        }
        s.first_seen = stats.first_seen;
        s.last_seen = stats.last_seen;
        s.provenance = stats.provenance.items().to_vec();
        s
    }
}

impl Model for WebModel {
    fn detector(&self) -> &'static str {
        "web"
    }

    fn settings(&self) -> Value {
        serde_json::to_value(&self.settings).unwrap_or_default()
    }

    fn save(&self, file: &mut ModelFile) -> Result<(), DetectError> {
        file.put_json("forest", &self.forest)?;
        Ok(())
    }

    fn scorer(&self) -> Box<dyn Scorer + '_> {
        Box::new(WebScorer {
            model: self,
            batch: WebState::default(),
        })
    }
}

struct WebScorer<'a> {
    model: &'a WebModel,
    batch: WebState,
}

impl Scorer for WebScorer<'_> {
    fn observe(&mut self, event: &Event) {
        self.batch.observe(event);
    }

    fn events_used(&self) -> u64 {
        self.batch.events
    }

    fn finish(self: Box<Self>, progress: &dyn Progress) -> Result<Vec<Scored>, DetectError> {
        progress.stage("scoring web clients", None);
        let (clients, rows) = self.batch.table();
        if clients.is_empty() {
            return Ok(Vec::new());
        }
        let verdicts = self.model.forest.judge(&rows)?;
        Ok(self.model.scored(clients, &rows, &verdicts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oddhunt_core::EventBuilder;
    use std::sync::Arc;

    fn request(ip: &str, uri: &str, status: &str, agent: &str, line: u64) -> Event {
        let mut b = EventBuilder::new(
            EventKind::HttpRequest,
            Provenance::line(Arc::from("access.log"), line),
        );
        b.field(Field::SourceIp, ip)
            .field(Field::Url, uri)
            .field(Field::Status, status)
            .field(Field::UserAgent, agent)
            .field(Field::Method, "GET");
        b.build()
    }

    #[test]
    fn per_client_features() {
        let mut state = WebState::default();
        state.observe(&request("1.1.1.1", "/", "200", "Mozilla", 1));
        state.observe(&request("1.1.1.1", "/a?x=1&y=2", "404", "Mozilla", 2));
        state.observe(&request("2.2.2.2", "/", "200", "curl/8", 3));
        state.observe(&request("2.2.2.2", "/.env", "404", "curl/8", 4));
        assert_eq!(state.events, 4);
        let c = &state.clients["1.1.1.1"];
        let f = c.features(&state.paths, &state.agents);
        assert_eq!(f[0], 2.0);
        assert_eq!(f[1], 0.5);
        assert_eq!(f[2], 2.0);
        assert_eq!(f[3], (1.0 + 10.0) / 2.0);
        assert_eq!(f[5], 1.0, "two parameters over two requests");
        assert_eq!(f[7], 1.0);
        // "/" is shared, "/a" is only this client's.
        assert_eq!(f[9], 0.5);
        assert_eq!(f[10], 1.0);
    }
}
