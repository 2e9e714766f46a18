//! One session, scored and explained: the finding's score, summary, context and the
//! explanation JSON a timeline and an analyst need (see the module documentation of
//! [`super`] for its fields), and msticpy's `score_sessions` row for `--format loganalytics`.

use super::session::SessionRecord;
use super::{SequenceModel, ShortSessions};
use oddhunt_core::{Field, Finding, Measure, Scored};
use oddhunt_models::markov::{Command, Factor, StepExplanation};
use serde_json::{json, Map, Value};

/// Commands listed in an explanation (the first ones).
pub const MAX_LISTED_COMMANDS: usize = 200;
/// Longest param value shown, in characters.
const MAX_VALUE_CHARS: usize = 200;
/// Presence or value probability below which a param or value is called rare.
pub const RARE: f64 = 0.05;
/// Distinct unseen commands listed.
const MAX_UNSEEN: usize = 50;

/// `-ln(likelihood)`; a likelihood that underflowed to 0 scores as the smallest subnormal.
pub fn oddness(likelihood: f64) -> f64 {
    if likelihood.is_nan() {
        return f64::NAN;
    }
    -likelihood.max(f64::from_bits(1)).ln()
}

fn number(v: f64) -> Value {
    serde_json::Number::from_f64(v)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

fn shorten(text: &str) -> String {
    if text.chars().count() <= MAX_VALUE_CHARS {
        return text.to_string();
    }
    let mut s: String = text.chars().take(MAX_VALUE_CHARS).collect();
    s.push('…');
    s
}

fn key_text(record: &SessionRecord) -> String {
    let shown: Vec<&str> = record
        .keys
        .iter()
        .map(|(_, v)| v.as_deref().unwrap_or("-"))
        .collect();
    if shown.is_empty() {
        "session".to_string()
    } else {
        shown.join(" | ")
    }
}

/// Findings about params and values of the rarest window's commands.
#[derive(Default)]
struct ParamNotes {
    unseen_params: Vec<Value>,
    rare_params: Vec<Value>,
    unseen_values: Vec<Value>,
    rare_values: Vec<Value>,
    missing_params: Vec<Value>,
}

/// One step of the rarest window: its factors. Its params are not listed one by one (a
/// session's explanation stays small, as every scored session carries one); the unseen, rare
/// and missing ones go to `notes`.
fn step_json(step: &StepExplanation, notes: &mut ParamNotes) -> Value {
    for p in &step.params {
        if !p.seen_with_command {
            notes
                .unseen_params
                .push(json!({"command": step.command, "param": p.name}));
        } else if let Some(q) = p.presence_probability.filter(|&q| q < RARE) {
            notes.rare_params.push(json!({
                "command": step.command,
                "param": p.name,
                "probability": number(q),
            }));
        }
        if let Some(v) = &p.value {
            let note = json!({
                "command": step.command,
                "param": p.name,
                "value": v.value.as_deref().map(shorten),
                "probability": number(v.probability),
            });
            if !v.seen {
                notes.unseen_values.push(note);
            } else if v.probability < RARE {
                notes.rare_values.push(note);
            }
        }
    }
    for (name, q) in &step.missing_usual_params {
        notes.missing_params.push(json!({
            "command": step.command,
            "param": name,
            "usual_probability": number(*q),
        }));
    }
    // One flat object per step: every JSON object held in memory costs a map node.
    let mut out = Map::new();
    out.insert("position".into(), step.position.into());
    out.insert("command".into(), step.command.clone().into());
    out.insert("known_command".into(), step.known_command.into());
    let (kind, probability) = match &step.factor {
        Factor::Start { probability } => ("start", *probability),
        Factor::Prior { probability } => ("prior", *probability),
        Factor::Transition { from, probability } => {
            out.insert("from".into(), from.clone().into());
            ("transition", *probability)
        }
    };
    out.insert("factor".into(), kind.into());
    out.insert("probability".into(), number(probability));
    out.insert(
        "param_set_probability".into(),
        number(step.param_set_probability),
    );
    out.insert("params".into(), step.params.len().into());
    Value::Object(out)
}

fn names(commands: &[Command]) -> Vec<&str> {
    commands.iter().map(|c| c.name.as_str()).collect()
}

impl SequenceModel {
    /// Scores and explains one session.
    pub fn score_session(&self, record: &SessionRecord) -> Scored {
        let opts = self.resolved.options;
        let total = record.commands.len();
        let listed = &record.commands[..total.min(MAX_LISTED_COMMANDS)];
        let mut explanation = Map::new();
        explanation.insert("session_id".into(), record.id.clone().into());
        explanation.insert(
            "keys".into(),
            Value::Object(
                record
                    .keys
                    .iter()
                    .map(|(f, v)| (f.ecs_name().to_string(), json!(v)))
                    .collect(),
            ),
        );
        explanation.insert("start".into(), json!(record.start.map(|t| t.to_string())));
        explanation.insert("end".into(), json!(record.end.map(|t| t.to_string())));
        explanation.insert(
            "duration_seconds".into(),
            match (record.start, record.end) {
                (Some(a), Some(b)) => number(b.nanos_since(a) as f64 / 1e9),
                _ => Value::Null,
            },
        );
        explanation.insert("commands_total".into(), total.into());
        explanation.insert("commands".into(), json!(names(listed)));
        // Flags and lists that are usually false or empty are left out then: every scored
        // session carries its explanation in memory until the run ends.
        if total > listed.len() {
            explanation.insert("commands_truncated".into(), true.into());
        }
        explanation.insert("window_length".into(), opts.window_len.into());
        if record.late {
            explanation.insert("late".into(), true.into());
        }

        let mut scored = Scored::new(
            record.id.clone(),
            f64::NAN,
            Measure::new("likelihood", f64::NAN),
        );
        scored.first_seen = record.start;
        scored.last_seen = record.end.or(record.start);
        scored.provenance = record.provenance.clone();
        for (field, value) in &record.keys {
            if let Some(v) = value {
                scored
                    .context
                    .insert(field.ecs_name().to_string(), v.clone());
            }
        }
        let who = key_text(record);
        let count = format!("{total} command{}", if total == 1 { "" } else { "s" });

        if record.late {
            explanation.insert("scored_by".into(), "none".into());
            scored.summary = format!(
                "{who}: an event that arrived out of time order beyond the allowed lateness; not scored"
            );
            scored.explanation = Value::Object(explanation);
            return scored;
        }
        let explained = match self.markov.explain(&record.commands, &opts) {
            Ok(e) => e,
            Err(e) => {
                explanation.insert("scored_by".into(), "none".into());
                explanation.insert("error".into(), e.to_string().into());
                scored.summary = format!("{who}: {count}; not scored: {e}");
                scored.explanation = Value::Object(explanation);
                return scored;
            }
        };
        let geomean = explained.session_likelihood.powf(1.0 / total.max(1) as f64);
        explanation.insert("likelihood".into(), number(explained.rarest.likelihood));
        explanation.insert(
            "session_likelihood".into(),
            number(explained.session_likelihood),
        );
        explanation.insert("geomean".into(), number(geomean));
        scored.measure = Measure::new("likelihood", explained.rarest.likelihood);

        let unseen: Vec<&str> = {
            let mut seen_here: Vec<&str> = Vec::new();
            for c in &record.commands {
                if !self.known_commands.contains(&c.name) && !seen_here.contains(&c.name.as_str()) {
                    seen_here.push(&c.name);
                    if seen_here.len() >= MAX_UNSEEN {
                        break;
                    }
                }
            }
            seen_here
        };
        if !unseen.is_empty() {
            explanation.insert("unseen_commands".into(), json!(unseen));
        }
        let unseen_note = if unseen.is_empty() {
            String::new()
        } else {
            format!(
                "; {} command{} never seen in training ({})",
                unseen.len(),
                if unseen.len() == 1 { "" } else { "s" },
                unseen
                    .iter()
                    .take(3)
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };

        match explained.rarest.index {
            Some(index) => {
                let window = &record.commands[explained.rarest.window.clone()];
                let mut notes = ParamNotes::default();
                let steps: Vec<Value> = explained
                    .steps
                    .iter()
                    .map(|s| step_json(s, &mut notes))
                    .collect();
                explanation.insert("scored_by".into(), "rarest_window".into());
                explanation.insert(
                    "rarest_window".into(),
                    json!({
                        "index": index,
                        "end": explained.rarest.window.end,
                        "commands": names(window),
                        "likelihood": number(explained.rarest.likelihood),
                    }),
                );
                explanation.insert("steps".into(), Value::Array(steps));
                for (name, list) in [
                    ("unseen_params", notes.unseen_params),
                    ("rare_params", notes.rare_params),
                    ("unseen_values", notes.unseen_values),
                    ("rare_values", notes.rare_values),
                    ("missing_usual_params", notes.missing_params),
                ] {
                    if !list.is_empty() {
                        explanation.insert(name.into(), Value::Array(list));
                    }
                }
                scored.score = oddness(explained.rarest.likelihood);
                scored.summary = format!(
                    "{who}: {count}; rarest window {} (likelihood {:.3e}){unseen_note}",
                    names(window).join(" → "),
                    explained.rarest.likelihood
                );
            }
            None => {
                explanation.insert("rarest_window".into(), Value::Null);
                match self.settings.short_sessions {
                    ShortSessions::SessionLikelihood => {
                        // As comparable as it gets with windows: same root when geo-mean is on.
                        let mut lik = explained.session_likelihood;
                        if opts.use_geo_mean {
                            lik = lik.powf(1.0 / opts.window_len as f64);
                        }
                        explanation.insert("scored_by".into(), "session_likelihood".into());
                        scored.score = oddness(lik);
                        scored.summary = format!(
                            "{who}: {count}, shorter than a window of {}; whole-session likelihood {:.3e}{unseen_note}",
                            opts.window_len, explained.session_likelihood
                        );
                    }
                    ShortSessions::Unscored => {
                        explanation.insert("scored_by".into(), "none".into());
                        scored.summary = format!(
                            "{who}: {count}, shorter than a window of {}; not scored{unseen_note}",
                            opts.window_len
                        );
                    }
                }
            }
        }
        scored.explanation = Value::Object(explanation);
        scored
    }
}

/// msticpy's column name for a key field (the notebook's `OfficeActivity` / `SecurityEvent`
/// names), else the ECS name.
fn seed_column(ecs: &str) -> String {
    match Field::from_name(ecs) {
        Some(Field::User) => "UserId".into(),
        Some(Field::SourceIp) => "ClientIP".into(),
        Some(Field::Host) => "Computer".into(),
        _ => ecs.to_string(),
    }
}

/// The row msticpy's `score_sessions` returns for the session (the notebook's
/// `sessionize_data` columns plus the two score columns): `UserId`, `ClientIP` (the keys),
/// `TimeGenerated_min`, `TimeGenerated_max`, `Operation_list` (first 200), `duration` (seconds),
/// `number_events`, `rarest_window{L}_likelihood`, `rarest_window{L}`.
pub fn seed_records(finding: &Finding) -> Vec<Map<String, Value>> {
    let e = &finding.scored.explanation;
    let mut r = Map::new();
    if let Some(keys) = e.get("keys").and_then(Value::as_object) {
        for (k, v) in keys {
            r.insert(seed_column(k), v.clone());
        }
    }
    let get = |k: &str| e.get(k).cloned().unwrap_or(Value::Null);
    let window = e.get("window_length").and_then(Value::as_u64).unwrap_or(3);
    r.insert("SessionId".into(), finding.scored.subject.clone().into());
    r.insert("TimeGenerated_min".into(), get("start"));
    r.insert("TimeGenerated_max".into(), get("end"));
    r.insert("Operation_list".into(), get("commands"));
    r.insert("duration".into(), get("duration_seconds"));
    r.insert("number_events".into(), get("commands_total"));
    r.insert(
        format!("rarest_window{window}_likelihood"),
        get("likelihood"),
    );
    r.insert(
        format!("rarest_window{window}"),
        e.get("rarest_window")
            .and_then(|w| w.get("commands"))
            .cloned()
            .unwrap_or_else(|| json!([])),
    );
    vec![r]
}
