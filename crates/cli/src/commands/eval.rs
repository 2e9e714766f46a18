//! `oddhunt eval`: detection quality against labels.
//!
//! Scores every subject (as `--all`), joins labels, and reports ROC-AUC, PR-AUC (average
//! precision), precision@k and recall@k. Labels come from a file keyed by subject, or from a
//! field of the events (a subject is malicious when any of its recorded events is).

use super::Status;
use crate::args::{DetectorArgs, InputArgs};
use crate::run::{score, Ui};
use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use oddhunt_core::modelfile::ModelFile;
use oddhunt_core::{Provenance, Scored};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

/// Output format of the evaluation.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvalFormat {
    /// A table for people.
    Table,
    /// JSON.
    Json,
}

/// Flags of `oddhunt eval`.
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = false)]
pub struct EvalCmd {
    /// The detector to train and evaluate on the same input (unsupervised, as an analyst would)
    #[command(subcommand)]
    pub detector: Option<DetectorArgs>,

    #[command(flatten)]
    pub input: InputArgs,

    /// Evaluate a trained model instead of training on the input
    #[arg(short = 'm', long, value_name = "MODEL.oddhunt", global = true)]
    pub model: Option<PathBuf>,

    /// Labels by subject: CSV with columns subject,label (and optionally detector)
    #[arg(long, value_name = "FILE.csv", global = true)]
    pub labels: Option<PathBuf>,

    /// Labels from a field of the events (e.g. label): malicious/attack/1/true vs benign/background/0/false
    #[arg(long = "label-field", value_name = "FIELD", global = true)]
    pub label_field: Option<String>,

    /// Cut-offs for precision@k and recall@k
    #[arg(
        long,
        value_name = "K,K,..",
        default_value = "10,50,100",
        global = true
    )]
    pub k: String,

    /// Output format
    #[arg(long, value_enum, default_value_t = EvalFormat::Table, global = true)]
    pub format: EvalFormat,
}

/// A label value read from a file or field: `Some(true)` malicious, `Some(false)` benign,
/// `None` unknown.
pub fn parse_label(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "malicious" | "attack" | "anomaly" | "anomalous" | "bad" => {
            Some(true)
        }
        "0" | "false" | "no" | "benign" | "background" | "normal" | "good" => Some(false),
        _ => None,
    }
}

/// Subject labels from a CSV file. Returns the labels and whether the file lists benign subjects
/// (then unlisted subjects are unknown; otherwise unlisted subjects are benign).
fn read_label_file(path: &PathBuf, detector: &str) -> Result<(HashMap<String, bool>, bool)> {
    let mut reader = csv::Reader::from_path(path)
        .with_context(|| format!("cannot read labels {}", path.display()))?;
    let headers = reader.headers()?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let subject =
        col("subject").with_context(|| format!("{}: no 'subject' column", path.display()))?;
    let label = col("label");
    let det = col("detector");
    let mut labels = HashMap::new();
    let mut has_negatives = false;
    for (i, row) in reader.records().enumerate() {
        let row = row.with_context(|| format!("{}: row {}", path.display(), i + 2))?;
        if let Some(d) = det.and_then(|c| row.get(c)) {
            if !d.trim().is_empty() && d.trim() != detector {
                continue;
            }
        }
        let value = match label.and_then(|c| row.get(c)) {
            Some(text) => parse_label(text),
            None => Some(true),
        };
        if let (Some(s), Some(v)) = (row.get(subject), value) {
            has_negatives |= !v;
            labels.insert(s.to_string(), v);
        }
    }
    Ok((labels, has_negatives))
}

fn parse_ks(text: &str) -> Result<Vec<usize>> {
    text.split(',')
        .map(|k| {
            k.trim()
                .parse::<usize>()
                .ok()
                .filter(|&k| k > 0)
                .with_context(|| format!("--k: {k:?} is not a positive count"))
        })
        .collect()
}

/// Runs the subcommand.
pub fn run(ui: Ui, cmd: &EvalCmd) -> Result<Status> {
    if cmd.labels.is_none() == cmd.label_field.is_none() {
        bail!("give labels with exactly one of --labels FILE or --label-field FIELD");
    }
    let ks = parse_ks(&cmd.k)?;
    // Per-event labels, keyed by provenance, when they come from a field.
    let mut event_labels: HashMap<Provenance, bool> = HashMap::new();
    let field = cmd.label_field.clone();
    let mut remember = |e: &oddhunt_core::Event| {
        if let Some(f) = &field {
            if let Some(v) = e.lookup(f).and_then(parse_label) {
                event_labels.insert(e.provenance().clone(), v);
            }
        }
    };
    let (detector_name, scored): (String, Vec<Scored>) = match (&cmd.model, &cmd.detector) {
        (Some(path), _) => {
            let file = ModelFile::load(path)?;
            let (detector, model) = oddhunt_detect::load_model(&file)?;
            let mut scorer = model.scorer();
            let summary =
                crate::run::read_events(ui, &cmd.input, field.is_some(), "reading events", |e| {
                    remember(e);
                    scorer.observe(e);
                })?;
            crate::run::print_ingest_summary(ui, &summary);
            let scored = scorer.finish(&oddhunt_detect::NoProgress)?;
            (detector.name().to_string(), scored)
        }
        (None, Some(args)) => {
            let detector = args.build()?;
            let (input, _spool) =
                crate::run::Spool::stdin_if_needed(&cmd.input, !detector.scores_while_training())?;
            let mut trainer = detector.trainer();
            let summary =
                crate::run::read_events(ui, &input, field.is_some(), "reading events", |e| {
                    remember(e);
                    trainer.observe(e);
                })?;
            crate::run::print_ingest_summary(ui, &summary);
            let mut fitted = trainer.fit(&oddhunt_detect::NoProgress)?;
            let scored = match fitted.scored_training.take() {
                Some(s) => s,
                None => score(ui, fitted.model.as_ref(), &input)?.0,
            };
            (detector.name().to_string(), scored)
        }
        (None, None) => bail!(
            "name a detector to train (e.g. `oddhunt eval masquerade ...`) or give a model with -m"
        ),
    };

    let mut scores = Vec::new();
    let mut labels = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut unknown = 0usize;
    let orient = |s: f64| if s.is_nan() { f64::NEG_INFINITY } else { s };
    if let Some(path) = &cmd.labels {
        let (file_labels, closed_world) = read_label_file(path, &detector_name)?;
        for s in &scored {
            seen.insert(s.subject.clone());
            match file_labels.get(&s.subject) {
                Some(&v) => {
                    scores.push(orient(s.score));
                    labels.push(v);
                }
                None if closed_world => unknown += 1,
                None => {
                    scores.push(orient(s.score));
                    labels.push(false);
                }
            }
        }
        // Labelled subjects the detector never scored rank last.
        for (subject, &v) in &file_labels {
            if !seen.contains(subject) {
                scores.push(f64::NEG_INFINITY);
                labels.push(v);
            }
        }
    } else {
        for s in &scored {
            let marks: Vec<bool> = s
                .provenance
                .iter()
                .filter_map(|p| event_labels.get(p).copied())
                .collect();
            if marks.is_empty() {
                unknown += 1;
                continue;
            }
            scores.push(orient(s.score));
            labels.push(marks.iter().any(|&m| m));
        }
    }
    let positives = labels.iter().filter(|&&l| l).count();
    if positives == 0 || positives == labels.len() {
        bail!(
            "the labels give {positives} malicious of {} evaluated subjects: need both classes",
            labels.len()
        );
    }
    use oddhunt_models::metrics;
    let roc = metrics::roc_auc(&scores, &labels)?;
    let ap = metrics::average_precision(&scores, &labels)?;
    let mut at_k = Vec::new();
    for &k in &ks {
        at_k.push((
            k,
            metrics::precision_at_k(&scores, &labels, k)?,
            metrics::recall_at_k(&scores, &labels, k)?,
        ));
    }
    match cmd.format {
        EvalFormat::Json => {
            let report = serde_json::json!({
                "detector": detector_name,
                "subjects": labels.len(),
                "malicious": positives,
                "unlabelled_subjects_skipped": unknown,
                "roc_auc": roc,
                "pr_auc": ap,
                "at_k": at_k.iter().map(|(k, p, r)| serde_json::json!({"k": k, "precision": p, "recall": r})).collect::<Vec<_>>(),
            });
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        EvalFormat::Table => {
            println!(
                "{detector_name}: {} labelled subjects ({positives} malicious){}",
                labels.len(),
                if unknown > 0 {
                    format!(", {unknown} unlabelled skipped")
                } else {
                    String::new()
                }
            );
            println!("ROC-AUC  {roc:.4}");
            println!(
                "PR-AUC   {ap:.4}   (average precision; chance = {:.4})",
                positives as f64 / labels.len() as f64
            );
            for (k, p, r) in at_k {
                println!("k={k:<5} precision {p:.3}  recall {r:.3}");
            }
        }
    }
    Ok(Status::Done)
}
