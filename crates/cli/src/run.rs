//! The stages the subcommands wire together: read events into a detector, fit, score, threshold,
//! write findings, and say what happened on stderr.

use crate::args::{FindingArgs, FindingFormat, InputArgs, OnErrorArg};
use crate::progress::{ReadProgress, StageProgress};
use anyhow::{Context, Result};
use oddhunt_core::modelfile::{ModelFile, TrainingSummary};
use oddhunt_core::sanitize::terminal;
use oddhunt_core::Provenance;
use oddhunt_core::{Event, ScoreDistribution};
use oddhunt_core::{Finding, Timestamp};
use oddhunt_detect::pipeline::Outcome;
use oddhunt_detect::{DetectError, Detector, Fitted, Model};
use oddhunt_ingest::lines::{Line, LineReader};
use oddhunt_ingest::IngestSummary;
use oddhunt_sinks::report::ReportInput;
use oddhunt_sinks::run::{
    plot_sample, Histogram, InputRecord, ModelRecord, RunRecord, SkipRecord, ThresholdRecord,
};
use oddhunt_sinks::table::TableStyle;
use std::io::{IsTerminal, Write};
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;

/// Global flags every subcommand sees.
#[derive(Clone, Copy, Debug)]
pub struct Ui {
    /// Draw progress bars.
    pub progress: bool,
    /// Print summaries on stderr.
    pub quiet: bool,
}

/// Reads every event of `inputs` and hands it to `each`.
pub fn read_events(
    ctx: Ui,
    input: &InputArgs,
    keep_extra: bool,
    what: &str,
    mut each: impl FnMut(&Event),
) -> Result<IngestSummary> {
    let options = input.options(keep_extra)?;
    let sources = oddhunt_ingest::resolve_inputs(input.require_inputs()?)?;
    let mut bar = ReadProgress::new(ctx.progress, what);
    let summary = oddhunt_ingest::read_events(&sources, &options, |event| {
        bar.tick();
        each(&event);
        ControlFlow::Continue(())
    });
    bar.finish();
    Ok(summary?)
}

/// Reads the `--sessions` files (pre-built subjects, one JSON value per line) and hands each
/// non-blank line to `each` with its `file:line`. A line the detector cannot read is skipped and
/// counted (or stops the run with `--on-error fail`); any other refusal stops the run. Prints a
/// one-line summary; the returned summary counts lines as records.
pub fn read_prebuilt(
    ctx: Ui,
    input: &InputArgs,
    what: &str,
    mut each: impl FnMut(&str, &Provenance) -> std::result::Result<(), DetectError>,
) -> Result<IngestSummary> {
    const REASON: &str = "unreadable pre-built line";
    const EXAMPLES: usize = 3;
    let mut summary = IngestSummary::default();
    let mut bar = ReadProgress::new(ctx.progress, what);
    let mut accepted = 0u64;
    for name in &input.sessions {
        let reader: Box<dyn std::io::Read> = if name == "-" {
            Box::new(std::io::stdin().lock())
        } else {
            Box::new(
                std::fs::File::open(name)
                    .with_context(|| format!("--sessions: cannot open {name}"))?,
            )
        };
        let source: Arc<str> = Arc::from(name.as_str());
        let mut lines = LineReader::new(reader, oddhunt_ingest::DEFAULT_MAX_RECORD_BYTES);
        summary.files += 1;
        summary.sources.push(name.clone());
        while let Some(line) = lines
            .next_line()
            .with_context(|| format!("--sessions: cannot read {name}"))?
        {
            bar.tick();
            summary.records += 1;
            let (at, text) = match line {
                Line::Text { bytes, number, .. } => {
                    let at = Provenance::line(source.clone(), number);
                    match std::str::from_utf8(bytes) {
                        Ok(t) if t.trim().is_empty() => {
                            summary.records -= 1;
                            continue;
                        }
                        Ok(t) => (at, Ok(t)),
                        Err(_) => (at, Err("not UTF-8 text".to_string())),
                    }
                }
                Line::TooLong { number, size, .. } => (
                    Provenance::line(source.clone(), number),
                    Err(format!("a line of {size} bytes is longer than the limit")),
                ),
            };
            let outcome = match text {
                Ok(t) => each(t, &at),
                Err(message) => Err(DetectError::BadSubject {
                    at: at.to_string(),
                    message,
                }),
            };
            match outcome {
                Ok(()) => accepted += 1,
                Err(e @ DetectError::BadSubject { .. }) => {
                    if input.on_error == OnErrorArg::Fail {
                        return Err(anyhow::Error::new(e).context("--on-error fail"));
                    }
                    let info = summary.skipped.entry(REASON.to_string()).or_default();
                    info.count += 1;
                    info.error = true;
                    if info.examples.len() < EXAMPLES {
                        info.examples.push(e.to_string());
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        summary.bytes += lines.offset();
    }
    bar.finish();
    if !ctx.quiet {
        print_read_summary(
            &summary,
            ("session file", "lines", "sessions"),
            accepted,
            REASON,
        );
    }
    Ok(summary)
}

/// Reads the `-i` tables of a detector that scores the rows of a feature table
/// ([`Detector::reads_rows`], the generic `iforest`): each source is decoded by content (CSV,
/// TSV, JSON lines or a JSON array; gzip and zstd too; `--input-format`, `--columns` apply) but
/// not mapped to events, and each record goes to `each` as one JSON object of its columns
/// (values as text) with its `file:line`. Rows the detector cannot read are skipped and counted
/// (or stop the run with `--on-error fail`), as `--sessions` lines are. One file is held in
/// memory at a time (a feature table is one row per subject, already aggregated).
pub fn read_rows(
    ctx: Ui,
    input: &InputArgs,
    what: &str,
    mut each: impl FnMut(&str, &Provenance) -> std::result::Result<(), DetectError>,
) -> Result<IngestSummary> {
    use oddhunt_ingest::{Decoded, Input, Position};
    const REASON: &str = "unreadable table row";
    const EXAMPLES: usize = 3;
    let options = input.options(false)?;
    let sources = oddhunt_ingest::resolve_inputs(input.require_inputs()?)?;
    let mut summary = IngestSummary::default();
    let mut bar = ReadProgress::new(ctx.progress, what);
    let mut accepted = 0u64;
    for source in sources.iter() {
        let name = source.name.to_string();
        let bytes: Vec<u8> = match &source.input {
            Input::File(path) => {
                std::fs::read(path).with_context(|| format!("cannot read {name}"))?
            }
            Input::Stdin => {
                let mut buf = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut buf)
                    .context("cannot read standard input")?;
                buf
            }
            Input::Bytes(b) => b.to_vec(),
        };
        summary.files += 1;
        summary.bytes += bytes.len() as u64;
        summary.sources.push(name.clone());
        let mut fatal: Option<anyhow::Error> = None;
        let mut row = serde_json::Map::new();
        let mut text = String::new();
        let skip = |summary: &mut IngestSummary, message: String| {
            let info = summary.skipped.entry(REASON.to_string()).or_default();
            info.count += 1;
            info.error = true;
            if info.examples.len() < EXAMPLES {
                info.examples.push(message);
            }
        };
        let format = oddhunt_ingest::decode_records(&bytes, &name, &options, |decoded| {
            match decoded {
                Decoded::Record(record, position) => {
                    bar.tick();
                    summary.records += 1;
                    row.clear();
                    for id in record.top_level() {
                        text.clear();
                        if record.text_of(id, &mut text) {
                            row.insert(record.key(id).to_string(), text.clone().into());
                        }
                    }
                    let at = match position {
                        Position::Record(n) => Provenance::record(source.name.clone(), n),
                        Position::Line(n) => Provenance::line(source.name.clone(), n),
                        _ => Provenance::record(source.name.clone(), summary.records),
                    };
                    let line = serde_json::Value::Object(std::mem::take(&mut row)).to_string();
                    match each(&line, &at) {
                        Ok(()) => accepted += 1,
                        Err(e @ DetectError::BadSubject { .. }) => {
                            if input.on_error == OnErrorArg::Fail {
                                fatal = Some(anyhow::Error::new(e).context("--on-error fail"));
                                return ControlFlow::Break(());
                            }
                            skip(&mut summary, e.to_string());
                        }
                        Err(e) => {
                            fatal = Some(e.into());
                            return ControlFlow::Break(());
                        }
                    }
                }
                Decoded::Issue(issue) => {
                    if input.on_error == OnErrorArg::Fail {
                        fatal = Some(anyhow::anyhow!(
                            "{}: {}: {}",
                            issue.position.describe(&name),
                            issue.reason,
                            issue.detail
                        ));
                        return ControlFlow::Break(());
                    }
                    skip(
                        &mut summary,
                        format!("{}: {}", issue.position.describe(&name), issue.reason),
                    );
                }
                Decoded::Warning(..) => {}
            }
            ControlFlow::Continue(())
        })?;
        if let Some(e) = fatal {
            return Err(e);
        }
        if format.is_none() {
            anyhow::bail!(
                "{name}: not a table oddhunt can read (CSV, TSV or JSON); say which with --input-format"
            );
        }
    }
    bar.finish();
    if !ctx.quiet {
        print_read_summary(&summary, ("table", "rows", "used"), accepted, REASON);
    }
    Ok(summary)
}

/// The stderr summary of reading pre-built subjects or table rows: files, lines read, lines
/// used, and the skipped lines with examples (escaped for the terminal).
fn print_read_summary(
    summary: &IngestSummary,
    (file, read, used): (&str, &str, &str),
    accepted: u64,
    reason: &str,
) {
    eprintln!(
        "read {} {file}{}: {} {read} → {} {used}",
        summary.files,
        if summary.files == 1 { "" } else { "s" },
        thousands(summary.records),
        thousands(accepted),
    );
    if let Some(info) = summary.skipped.get(reason) {
        eprintln!("skipped {} {reason}s:", thousands(info.count));
        for example in &info.examples {
            eprintln!("  {}", terminal(example));
        }
    }
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// The ingest summary for people (stderr).
pub fn print_ingest_summary(ctx: Ui, summary: &IngestSummary) {
    if ctx.quiet {
        return;
    }
    let kinds = summary
        .events_by_kind
        .iter()
        .map(|(k, n)| format!("{k} {}", thousands(*n)))
        .collect::<Vec<_>>()
        .join(", ");
    eprintln!(
        "read {} source{} ({}): {} records → {} events{}",
        summary.files,
        if summary.files == 1 { "" } else { "s" },
        megabytes(summary.bytes),
        thousands(summary.records),
        thousands(summary.events()),
        if kinds.is_empty() {
            String::new()
        } else {
            format!(" ({kinds})")
        }
    );
    if let (Some(a), Some(b)) = (summary.first_seen, summary.last_seen) {
        eprintln!("time range {a} … {b}");
    }
    let show = |title: &str, map: &std::collections::BTreeMap<String, oddhunt_ingest::SkipInfo>| {
        if map.is_empty() {
            return;
        }
        let total: u64 = map.values().map(|s| s.count).sum();
        eprintln!("{title} {}:", thousands(total));
        // Errors first, then the most frequent reasons; a long tail is summarised.
        let mut reasons: Vec<_> = map.iter().collect();
        reasons.sort_by(|a, b| b.1.error.cmp(&a.1.error).then(b.1.count.cmp(&a.1.count)));
        const SHOWN: usize = 8;
        for (reason, info) in reasons.iter().take(SHOWN) {
            let example = info
                .examples
                .first()
                .map(|e| format!(" e.g. {}", terminal(e)))
                .unwrap_or_default();
            eprintln!(
                "  {} × {}{}",
                thousands(info.count),
                terminal(reason),
                example
            );
        }
        if reasons.len() > SHOWN {
            let rest: u64 = reasons[SHOWN..].iter().map(|(_, i)| i.count).sum();
            eprintln!(
                "  {} × for {} other reasons ({})",
                thousands(rest),
                reasons.len() - SHOWN,
                reasons[SHOWN..]
                    .iter()
                    .map(|(r, i)| format!("{} {}", terminal(r), i.count))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    };
    show("skipped records", &summary.skipped);
    show("events kept with warnings", &summary.warnings);
}

/// A copy of standard input on disk, for detectors that read their input twice (train, then
/// score) in one `hunt`. Findings name `-` again, not the copy.
pub struct Spool {
    file: tempfile::TempPath,
}

impl Spool {
    /// Copies stdin to a temporary file when `input` reads `-` and `needed`; returns the input
    /// arguments to use.
    pub fn stdin_if_needed(input: &InputArgs, needed: bool) -> Result<(InputArgs, Option<Spool>)> {
        let reads_stdin = input.inputs.iter().chain(&input.sessions).any(|i| i == "-");
        if !needed || !reads_stdin {
            return Ok((input.clone(), None));
        }
        let mut tmp =
            tempfile::NamedTempFile::new().context("cannot create a temporary file for stdin")?;
        std::io::copy(&mut std::io::stdin().lock(), &mut tmp).context("cannot copy stdin")?;
        let file = tmp.into_temp_path();
        let mut copy = input.clone();
        for i in copy.inputs.iter_mut().chain(copy.sessions.iter_mut()) {
            if i == "-" {
                *i = file.display().to_string();
            }
        }
        Ok((copy, Some(Spool { file })))
    }

    /// Renames the copy back to `-` in the provenance of scored subjects.
    pub fn restore_names(&self, scored: &mut [oddhunt_core::Scored]) {
        let copy = self.file.display().to_string();
        let stdin: std::sync::Arc<str> = std::sync::Arc::from("-");
        for s in scored {
            for p in &mut s.provenance {
                if *p.source == *copy {
                    p.source = stdin.clone();
                }
            }
        }
    }
}

/// Reads training events into the detector's trainer and fits it.
pub fn train(
    ctx: Ui,
    detector: &dyn Detector,
    input: &InputArgs,
) -> Result<(Fitted, TrainingSummary, IngestSummary)> {
    train_with(ctx, detector, input, true)
}

/// [`train`], saying whether the scored training subjects ([`Fitted::scored_training`]) will be
/// used: `oddhunt train` does not need them, and a detector may then keep much less.
pub fn train_with(
    ctx: Ui,
    detector: &dyn Detector,
    input: &InputArgs,
    scored_training: bool,
) -> Result<(Fitted, TrainingSummary, IngestSummary)> {
    let mut trainer = detector.trainer();
    trainer.set_scored_training_wanted(scored_training);
    let summary = if detector.reads_rows() && input.sessions.is_empty() {
        read_rows(ctx, input, "reading training rows", |line, at| {
            trainer.observe_prebuilt(line, at)
        })
        .with_context(|| format!("training {}", detector.name()))?
    } else if input.sessions.is_empty() {
        let summary = read_events(ctx, input, false, "reading training events", |e| {
            trainer.observe(e)
        })?;
        print_ingest_summary(ctx, &summary);
        summary
    } else {
        read_prebuilt(ctx, input, "reading training sessions", |line, at| {
            trainer.observe_prebuilt(line, at)
        })
        .with_context(|| format!("training {}", detector.name()))?
    };
    let used = trainer.events_used();
    let ignored = trainer.events_ignored();
    if !ctx.quiet {
        let ignored_text = ignored
            .iter()
            .map(|(r, n)| format!("{} {r}", thousands(*n)))
            .collect::<Vec<_>>()
            .join(", ");
        eprintln!(
            "{}: {} events used{}",
            detector.name(),
            thousands(used),
            if ignored_text.is_empty() {
                String::new()
            } else {
                format!(", ignored: {ignored_text}")
            }
        );
    }
    let started = std::time::Instant::now();
    let progress = StageProgress::new(ctx.progress);
    let fitted = trainer
        .fit(&progress)
        .with_context(|| format!("training {}", detector.name()))?;
    progress.finish();
    let training = TrainingSummary {
        events: used,
        subjects: fitted.subjects,
        first_seen: summary.first_seen,
        last_seen: summary.last_seen,
        sources: summary.sources.iter().take(50).cloned().collect(),
        skipped_records: summary.skipped.values().map(|s| s.count).sum(),
        fit_seconds: started.elapsed().as_secs_f64(),
    };
    Ok((fitted, training, summary))
}

/// Writes a fitted model to `path`.
pub fn save_model(
    detector: &dyn Detector,
    fitted: &Fitted,
    training: TrainingSummary,
    path: &Path,
) -> Result<()> {
    let mut file = ModelFile::new(detector.name(), fitted.model.settings());
    fitted.model.save(&mut file)?;
    file.manifest.training = training;
    file.manifest.score_distribution =
        Some(ScoreDistribution::from_scores(&fitted.training_scores));
    file.save(path)?;
    Ok(())
}

/// Scores `input` with `model`.
pub fn score(
    ctx: Ui,
    model: &dyn Model,
    input: &InputArgs,
) -> Result<(Vec<oddhunt_core::Scored>, IngestSummary)> {
    let mut scorer = model.scorer();
    let reads_rows = oddhunt_detect::by_name(model.detector()).is_some_and(|d| d.reads_rows());
    let summary = if reads_rows && input.sessions.is_empty() {
        read_rows(ctx, input, "reading rows to score", |line, at| {
            scorer.observe_prebuilt(line, at)
        })
        .with_context(|| format!("scoring with {}", model.detector()))?
    } else if input.sessions.is_empty() {
        let summary = read_events(ctx, input, false, "reading events to score", |e| {
            scorer.observe(e)
        })?;
        print_ingest_summary(ctx, &summary);
        summary
    } else {
        read_prebuilt(ctx, input, "reading sessions to score", |line, at| {
            scorer.observe_prebuilt(line, at)
        })
        .with_context(|| format!("scoring with {}", model.detector()))?
    };
    let progress = StageProgress::new(ctx.progress);
    let scored = scorer.finish(&progress)?;
    progress.finish();
    Ok((scored, summary))
}

/// What a run knew besides its scores, for run records and reports.
pub struct RunContext<'a> {
    /// What was read.
    pub inputs: &'a IngestSummary,
    /// The model that scored (and where it came from).
    pub model: Option<ModelRecord>,
}

/// The run record of a model file's manifest.
pub fn model_record(file: &ModelFile, path: Option<&Path>) -> ModelRecord {
    let m = &file.manifest;
    ModelRecord {
        path: path.map(|p| p.display().to_string()),
        oddhunt_version: m.oddhunt_version.clone(),
        events: m.training.events,
        subjects: m.training.subjects,
        first_seen: m.training.first_seen.map(|t| t.to_string()),
        last_seen: m.training.last_seen.map(|t| t.to_string()),
        sources: m.training.sources.clone(),
        settings: m.settings.clone(),
    }
}

/// The run record of a model trained in this run.
pub fn trained_model_record(
    fitted: &Fitted,
    training: &TrainingSummary,
    path: Option<&Path>,
) -> ModelRecord {
    ModelRecord {
        path: path.map(|p| p.display().to_string()),
        oddhunt_version: env!("CARGO_PKG_VERSION").to_string(),
        events: training.events,
        subjects: training.subjects,
        first_seen: training.first_seen.map(|t| t.to_string()),
        last_seen: training.last_seen.map(|t| t.to_string()),
        sources: training.sources.clone(),
        settings: fitted.model.settings(),
    }
}

fn input_record(summary: &IngestSummary) -> InputRecord {
    let mut skipped: Vec<SkipRecord> = summary
        .skipped
        .iter()
        .map(|(reason, info)| SkipRecord {
            reason: reason.clone(),
            count: info.count,
            examples: info.examples.clone(),
            error: info.error,
        })
        .collect();
    skipped.sort_by(|a, b| b.error.cmp(&a.error).then(b.count.cmp(&a.count)));
    InputRecord {
        sources: summary.sources.iter().take(200).cloned().collect(),
        bytes: summary.bytes,
        records: summary.records,
        events_by_kind: summary
            .events_by_kind
            .iter()
            .map(|(k, n)| (k.to_string(), *n))
            .collect(),
        skipped,
        first_seen: summary.first_seen.map(|t| t.to_string()),
        last_seen: summary.last_seen.map(|t| t.to_string()),
    }
}

/// The run record of one detector's outcome.
pub fn run_record(detector: &dyn Detector, outcome: &Outcome, run: RunContext<'_>) -> RunRecord {
    let measure = outcome
        .findings
        .iter()
        .chain(&outcome.background)
        .next()
        .map(|f| f.scored.measure.name.clone())
        .unwrap_or_default();
    RunRecord {
        detector: detector.name().to_string(),
        description: detector.description().to_string(),
        subject: detector.subject().to_string(),
        measure,
        finished: Some(now().to_string()),
        inputs: input_record(run.inputs),
        model: run.model,
        threshold: ThresholdRecord {
            rule: outcome.cut.rule.to_string(),
            basis: outcome.cut.basis.to_string(),
            value: outcome.cut.value,
            derivation: outcome.cut.derivation.clone(),
        },
        scored: outcome.scored,
        alerts: outcome.alerts,
        reported: outcome.reported().count(),
        excluded: outcome.excluded.clone(),
        histogram: Histogram::of(&outcome.scores, 50),
        points: plot_sample(
            outcome.findings.iter().chain(&outcome.background),
            10_000,
            2_000,
        ),
    }
}

/// The current time.
pub fn now() -> Timestamp {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_nanos()).ok())
        .map(|n| Timestamp::from_unix_nanos(n - n.rem_euclid(1_000_000)))
        .unwrap_or(Timestamp::from_unix_nanos(0))
}

/// Writes the HTML report of `findings` and `runs` to `path`.
pub fn write_report(
    path: &Path,
    title: &str,
    findings: &[Finding],
    runs: &[RunRecord],
) -> Result<()> {
    let page = oddhunt_sinks::report::render(&ReportInput {
        title,
        generated: now().to_string(),
        findings,
        runs,
    });
    std::fs::write(path, page).with_context(|| format!("cannot write {}", path.display()))
}

/// Thresholds, excludes and writes findings (and, in JSON lines, the run record after them; with
/// `--report`, the HTML report); returns the outcome and its run record.
pub fn report_findings(
    ctx: Ui,
    detector: &dyn Detector,
    scored: Vec<oddhunt_core::Scored>,
    training: Option<&ScoreDistribution>,
    args: &FindingArgs,
    run: RunContext<'_>,
) -> Result<(Outcome, RunRecord)> {
    let rule = args.rule(detector.default_threshold())?;
    let exclusions = args.exclusions()?;
    let outcome = oddhunt_detect::pipeline::apply(
        detector.name(),
        scored,
        rule,
        args.basis(),
        training,
        &exclusions,
        args.all,
    )?;
    if !ctx.quiet {
        let reported = outcome.reported().count();
        eprintln!(
            "{}: {} {}s scored; threshold {} ({}) → {} finding{}",
            detector.name(),
            thousands(outcome.scored as u64),
            detector.subject(),
            outcome.cut.rule,
            outcome.cut.derivation,
            thousands(reported as u64),
            if reported == 1 { "" } else { "s" },
        );
        for (rule, n) in &outcome.excluded {
            eprintln!("  excluded by rule {:?}: {n}", terminal(rule));
        }
    }
    let record = run_record(detector, &outcome, run);
    let chosen = chosen_findings(&outcome, args);
    write_findings(detector, &chosen, &record, args)?;
    if let Some(path) = &args.report {
        let owned: Vec<Finding> = chosen.into_iter().cloned().collect();
        write_report(
            path,
            &format!("oddhunt {} findings", detector.name()),
            &owned,
            std::slice::from_ref(&record),
        )?;
        if !ctx.quiet {
            eprintln!("report written to {}", path.display());
        }
    }
    Ok((outcome, record))
}

/// The findings a run writes: alerts (and excluded ones with `--show-excluded`), or everything
/// with `--all`.
fn chosen_findings<'a>(outcome: &'a Outcome, args: &FindingArgs) -> Vec<&'a Finding> {
    outcome
        .findings
        .iter()
        .filter(|f| args.all || (f.alert && (f.excluded_by.is_none() || args.show_excluded)))
        .collect()
}

fn output_format(args: &FindingArgs) -> FindingFormat {
    if let Some(f) = args.format {
        return f;
    }
    match args
        .output
        .as_ref()
        .and_then(|p| p.extension())
        .and_then(|e| e.to_str())
    {
        Some("jsonl") | Some("ndjson") => FindingFormat::Jsonl,
        Some("json") => FindingFormat::Json,
        Some("csv") => FindingFormat::Csv,
        _ => FindingFormat::Table,
    }
}

/// Whether `-o PATH` means standard output (no path, or `-`).
pub fn is_stdout(path: Option<&Path>) -> bool {
    path.is_none_or(|p| p.as_os_str() == "-")
}

/// The writer for `-o PATH`: the file, or standard output for no path or `-`.
pub fn output_writer(path: Option<&Path>) -> Result<Box<dyn Write>> {
    Ok(match path {
        Some(p) if !is_stdout(Some(p)) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        _ => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    })
}

fn write_findings(
    detector: &dyn Detector,
    chosen: &[&Finding],
    record: &RunRecord,
    args: &FindingArgs,
) -> Result<()> {
    let mut out = output_writer(args.output.as_deref())?;
    match output_format(args) {
        FindingFormat::Table => {
            if chosen.is_empty() {
                writeln!(out, "no findings")?;
            } else {
                let to_terminal =
                    is_stdout(args.output.as_deref()) && std::io::stdout().is_terminal();
                let style = TableStyle {
                    width: if to_terminal { None } else { Some(160) },
                    color: to_terminal,
                };
                let shown = chosen.iter().take(args.limit).copied();
                write!(out, "{}", oddhunt_sinks::table::findings(shown, style))?;
                writeln!(out)?;
                if chosen.len() > args.limit {
                    writeln!(
                        out,
                        "… {} more (use --limit, or --format jsonl|csv for all)",
                        chosen.len() - args.limit
                    )?;
                }
            }
        }
        FindingFormat::Jsonl => {
            oddhunt_sinks::jsonl::write_findings(&mut out, chosen.iter().copied())?;
            oddhunt_sinks::jsonl::write_records(&mut out, [&record.to_json()])?;
        }
        FindingFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &chosen)?;
            writeln!(out)?;
        }
        FindingFormat::Csv => {
            let owned: Vec<oddhunt_core::Finding> = chosen.iter().map(|f| (*f).clone()).collect();
            oddhunt_sinks::csv::write_findings(&mut out, &owned)?;
        }
        FindingFormat::Loganalytics => {
            for f in chosen.iter().copied() {
                let records = detector
                    .seed_records(f)
                    .unwrap_or_else(|| vec![generic_record(f)]);
                oddhunt_sinks::jsonl::write_records(&mut out, &records)?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

/// A Log Analytics custom-log record for detectors without a seed shape: PascalCase columns
/// (Log Analytics column names cannot contain dots).
fn generic_record(f: &oddhunt_core::Finding) -> serde_json::Map<String, serde_json::Value> {
    let mut r = serde_json::Map::new();
    let s = &f.scored;
    r.insert(
        "TimeStamp".into(),
        s.first_seen
            .map(|t| t.to_string())
            .unwrap_or_default()
            .into(),
    );
    r.insert("Detector".into(), f.detector.clone().into());
    r.insert("FindingId".into(), f.id.clone().into());
    r.insert("Subject".into(), s.subject.clone().into());
    r.insert(
        "AnomalyScore".into(),
        serde_json::Number::from_f64(s.score)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
    );
    r.insert("Severity".into(), f.severity.name().into());
    r.insert("Summary".into(), s.summary.clone().into());
    for (k, v) in &s.context {
        let column: String = k
            .split(['.', '_'])
            .map(|part| {
                let mut c = part.chars();
                match c.next() {
                    Some(first) => first.to_uppercase().collect::<String>() + c.as_str(),
                    None => String::new(),
                }
            })
            .collect();
        r.insert(column, v.clone().into());
    }
    r
}
