//! Why a session scored low: the factors of its rarest window, spelled out.
//!
//! The explanation names every factor the rarest window's likelihood multiplies (spec §3.2):
//! how the window starts (START transition or prior), each transition with its probability,
//! each command's param-set probability, and which params or values were unseen or rare. The
//! session's actor, source and time range belong to the sessionizer's
//! [`Session`](crate::sessionize::Session); a detector puts the two side by side.

use serde::{Deserialize, Serialize};

use super::counts::{END, START, UNK};
use super::model::MarkovModel;
use super::score::{RarestWindow, ScoreOptions};
use super::{Command, MarkovError, END_TOKEN};

/// Presence probability above which a param absent from a command is reported as missing.
const USUAL_PARAM: f64 = 0.5;

/// The rarest window of a session and every factor of its likelihood.
///
/// The steps' factors multiply back to the rarest window's likelihood in msticpy's order:
/// the first step's factor times its param-set probability, then for each later step its
/// transition and its param-set probability. With `use_geo_mean` the reported likelihood is
/// that product to the power `1 / window_len`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// The options the session was scored with.
    pub options: ScoreOptions,
    /// Likelihood of the whole session (tokens as in `options`).
    pub session_likelihood: f64,
    /// The rarest window.
    pub rarest: RarestWindow,
    /// One step per element of the rarest window as scored, in order; the last may be the END
    /// token (position = session length), which the returned window itself leaves out.
    pub steps: Vec<StepExplanation>,
}

/// One command of the rarest window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepExplanation {
    /// Position in the session (the session length for the END token).
    pub position: usize,
    /// The command name (`##END##` for the END token).
    pub command: String,
    /// Whether the name was seen in training (unseen names score as the unknown token).
    pub known_command: bool,
    /// The sequence factor that brings this command into the window.
    pub factor: Factor,
    /// Param-set probability (geometric mean, as used in windows); 1.0 without params.
    pub param_set_probability: f64,
    /// The command's params in input order.
    pub params: Vec<ParamExplanation>,
    /// Params usually present with this command (probability ≥ 0.5) that it lacks, with their
    /// presence probability: each contributes `1 - probability`.
    pub missing_usual_params: Vec<(String, f64)>,
}

/// A sequence factor of the window likelihood.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Factor {
    /// First command of the session, from the START token: `trans[START][command]`.
    Start {
        /// The probability.
        probability: f64,
    },
    /// First command of a later window: `prior[command]`.
    Prior {
        /// The probability.
        probability: f64,
    },
    /// `trans[from][command]`.
    Transition {
        /// The previous command.
        from: String,
        /// The probability.
        probability: f64,
    },
}

/// One param of a command.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParamExplanation {
    /// The param name.
    pub name: String,
    /// Whether training saw this param with this command; an unseen param contributes no
    /// factor at all (as in msticpy).
    pub seen_with_command: bool,
    /// Presence probability given the command, when seen with it.
    pub presence_probability: Option<f64>,
    /// The value's factor, for modellable params (values type) seen with the command.
    pub value: Option<ValueExplanation>,
}

/// The value of a modellable param.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ValueExplanation {
    /// The value (`None` for a missing or empty value).
    pub value: Option<String>,
    /// Whether training saw this value for this param.
    pub seen: bool,
    /// `vcond[param][value]` (the unknown entry when unseen).
    pub probability: f64,
}

impl MarkovModel {
    /// Scores `session` and explains its rarest window.
    pub fn explain(
        &self,
        session: &[Command],
        opts: &ScoreOptions,
    ) -> Result<Explanation, MarkovError> {
        let score = self.score(session, opts)?;
        let enc = self.encode(session, opts.use_start_end_tokens)?;
        let mut steps = Vec::new();
        if let Some(start) = score.rarest.index {
            for pos in start..start + opts.window_len {
                let id = enc.names[pos];
                let factor = if pos == start {
                    if opts.use_start_end_tokens && pos == 0 {
                        Factor::Start {
                            probability: self.trans(START, id),
                        }
                    } else {
                        Factor::Prior {
                            probability: self.prior(id),
                        }
                    }
                } else {
                    Factor::Transition {
                        from: session[pos - 1].name.clone(),
                        probability: self.trans(enc.names[pos - 1], id),
                    }
                };
                let step = match session.get(pos) {
                    Some(command) => self.explain_command(pos, command, factor, enc.pp[pos]),
                    None => StepExplanation {
                        position: pos,
                        command: END_TOKEN.to_string(),
                        known_command: true,
                        factor,
                        param_set_probability: 1.0,
                        params: Vec::new(),
                        missing_usual_params: Vec::new(),
                    },
                };
                debug_assert!(pos < session.len() || id == END);
                steps.push(step);
            }
        }
        Ok(Explanation {
            options: *opts,
            session_likelihood: score.likelihood,
            rarest: score.rarest,
            steps,
        })
    }

    fn explain_command(
        &self,
        position: usize,
        command: &Command,
        factor: Factor,
        pp: f64,
    ) -> StepExplanation {
        let id = self.command_id(&command.name);
        let mut step = StepExplanation {
            position,
            command: command.name.clone(),
            known_command: self.knows_command(&command.name),
            factor,
            param_set_probability: pp,
            params: Vec::new(),
            missing_usual_params: Vec::new(),
        };
        if !self.session_type().has_params() {
            return step;
        }
        let with_values = self.session_type().has_values();
        let (cols, _, probs) = self.pcond.row(id);
        let mut encoded = Vec::new();
        self.encode_params(command, &mut encoded);
        let mut listed: Vec<&str> = Vec::new();
        for (name, _) in &command.params {
            if listed.contains(&name.as_str()) {
                continue;
            }
            listed.push(name);
            let known = self.param_id(name);
            let in_row = known.and_then(|p| cols.iter().position(|&c| c == p));
            let value = match (known, in_row) {
                (Some(p), Some(_)) if with_values && self.modellable_flags[p as usize] => {
                    // Dict semantics: the last value given for the name.
                    let raw = command
                        .params
                        .iter()
                        .rev()
                        .find(|(n, _)| n == name)
                        .and_then(|(_, v)| v.clone())
                        .filter(|v| !v.is_empty());
                    let value_id = encoded.iter().find(|e| e.0 == p).and_then(|e| e.1);
                    let seen = value_id.is_some_and(|v| v != UNK && self.vcond_has(p, v));
                    Some(ValueExplanation {
                        value: raw,
                        seen,
                        probability: self.vcond(p, value_id),
                    })
                }
                _ => None,
            };
            step.params.push(ParamExplanation {
                name: name.clone(),
                seen_with_command: in_row.is_some(),
                presence_probability: in_row.map(|i| probs[i]),
                value,
            });
        }
        for (&p, &q) in cols.iter().zip(probs) {
            if p != UNK && q >= USUAL_PARAM && !encoded.iter().any(|e| e.0 == p) {
                step.missing_usual_params
                    .push((self.param_name(p).to_string(), q));
            }
        }
        step
    }
}
