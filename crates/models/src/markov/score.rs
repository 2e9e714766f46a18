//! Scoring sessions against a fitted model (spec §3): param-set probabilities, window and
//! session likelihoods, and the rarest window.
//!
//! A session is encoded once (ids, per-command factors); windows then multiply the cached
//! factors in msticpy's exact order and grouping, in linear space, so overlapping windows cost
//! a few multiplications each and the numbers stay bit-identical to msticpy's.

use std::ops::Range;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::counts::{push_dict_entry, MarkovCounts, END, START};
use super::model::MarkovModel;
use super::{Command, MarkovError, SessionType};

/// Settings of the sliding-window score. Defaults are msticpy's `score_sessions`: windows of
/// 3, start/end tokens on, no geometric mean.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoreOptions {
    /// Window length `L` (at least 1).
    pub window_len: usize,
    /// Score the first window from START and append END as a last element (spec §3.3).
    pub use_start_end_tokens: bool,
    /// Take each window's likelihood to the power `1/L` before the minimum is searched.
    pub use_geo_mean: bool,
}

impl Default for ScoreOptions {
    fn default() -> Self {
        ScoreOptions {
            window_len: 3,
            use_start_end_tokens: true,
            use_geo_mean: false,
        }
    }
}

/// The least likely window of a session (spec §3.3).
///
/// Equality treats two NaN likelihoods (no window) as equal.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RarestWindow {
    /// Index of the first window with the minimal likelihood; `None` when the session is too
    /// short to have a window (tokens on: fewer than `L - 1` commands; off: fewer than `L`).
    pub index: Option<usize>,
    /// The minimal likelihood; NaN when there is no window (JSON `null`).
    pub likelihood: f64,
    /// The commands of the window as positions in the session, cut at the session's end: the
    /// END token is never part of it, so the last window with tokens has `L - 1` commands.
    /// Empty when there is no window.
    pub window: Range<usize>,
}

impl PartialEq for RarestWindow {
    fn eq(&self, other: &Self) -> bool {
        self.index == other.index
            && self.window == other.window
            && (self.likelihood == other.likelihood
                || (self.likelihood.is_nan() && other.likelihood.is_nan()))
    }
}

/// All scores of one session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionScore {
    /// Likelihood of the whole session (spec §3.4), with tokens as in the options.
    pub likelihood: f64,
    /// `likelihood^(1/len)`, comparable across session lengths.
    pub geomean: f64,
    /// The rarest window.
    pub rarest: RarestWindow,
}

/// A session turned into ids and per-command factors.
pub(crate) struct Encoded {
    /// Command ids, then END if tokens are on.
    pub(crate) names: Vec<u32>,
    /// Param-set probability (geometric mean) per element; 1.0 for END and for `CmdsOnly`.
    pub(crate) pp: Vec<f64>,
    /// Number of commands of the session (without END).
    pub(crate) len: usize,
}

impl MarkovModel {
    /// Encodes a session; with `append_end` the END token follows as an element with no
    /// params (factor exactly 1.0, spec §3.3 step 1).
    pub(crate) fn encode(
        &self,
        session: &[Command],
        append_end: bool,
    ) -> Result<Encoded, MarkovError> {
        if session.is_empty() {
            return Err(MarkovError::EmptySession { session: None });
        }
        let mut names = Vec::with_capacity(session.len() + 1);
        let mut pp = Vec::with_capacity(session.len() + 1);
        let mut params = Vec::new();
        for command in session {
            let id = self.command_id(&command.name);
            names.push(id);
            pp.push(if self.session_type().has_params() {
                self.param_set_prob_encoded(id, command, true, &mut params)
            } else {
                1.0
            });
        }
        if append_end {
            names.push(END);
            pp.push(1.0);
        }
        Ok(Encoded {
            names,
            pp,
            len: session.len(),
        })
    }

    /// Interns a command's params into `params` (known params only, dict semantics) and
    /// returns whether it had any param at all.
    pub(crate) fn encode_params(
        &self,
        command: &Command,
        params: &mut Vec<(u32, Option<u32>)>,
    ) -> bool {
        params.clear();
        let with_values = self.session_type().has_values();
        for (name, value) in &command.params {
            // A param never seen in training contributes no factor (spec §3.1), so it needs
            // no id; it still makes the param collection non-empty.
            if let Some(p) = self.param_id(name) {
                let v = match value {
                    Some(v) if with_values && !v.is_empty() => self.value_id(v),
                    _ => None,
                };
                push_dict_entry(params, p, v);
            }
        }
        !command.params.is_empty()
    }

    fn param_set_prob_encoded(
        &self,
        id: u32,
        command: &Command,
        use_geo_mean: bool,
        params: &mut Vec<(u32, Option<u32>)>,
    ) -> f64 {
        let nonempty = self.encode_params(command, params);
        self.param_set_prob_ids(id, nonempty, params, use_geo_mean)
            .0
    }

    /// Spec §3.1 on ids: returns the probability and the geometric-mean exponent's `k`.
    pub(crate) fn param_set_prob_ids(
        &self,
        id: u32,
        nonempty: bool,
        params: &[(u32, Option<u32>)],
        use_geo_mean: bool,
    ) -> (f64, usize) {
        // As msticpy: a command without params scores exactly 1 (Quirk Q2).
        if !nonempty {
            return (1.0, 0);
        }
        let with_values = self.session_type().has_values();
        let (cols, _, probs) = self.pcond.row(id);
        let mut lik = 1.0f64;
        let mut extra = 0usize;
        for (&p, &q) in cols.iter().zip(probs) {
            match params.iter().find(|e| e.0 == p) {
                Some(&(_, value)) => {
                    lik *= q;
                    if with_values && self.modellable_flags[p as usize] {
                        extra += 1;
                        lik *= self.vcond(p, value);
                    }
                }
                None => lik *= 1.0 - q,
            }
        }
        let k = cols.len() + extra;
        if use_geo_mean {
            // `x ** (1 / k)` as CPython computes it: the exponent rounded first, then libm pow
            // (spec §6).
            lik = lik.powf(1.0 / k as f64);
        }
        (lik, k)
    }

    /// Probability of a command's param set given its name (spec §3.1); 1.0 for `CmdsOnly`
    /// and for a command without params.
    pub fn param_set_prob(&self, command: &Command, use_geo_mean: bool) -> f64 {
        if !self.session_type().has_params() {
            return 1.0;
        }
        let id = self.command_id(&command.name);
        let mut params = Vec::new();
        self.param_set_prob_encoded(id, command, use_geo_mean, &mut params)
    }

    /// Likelihood of the window `enc.names[start..start + len]` (spec §3.2).
    #[inline]
    pub(crate) fn window_likelihood(
        &self,
        enc: &Encoded,
        start: usize,
        len: usize,
        use_start: bool,
    ) -> f64 {
        let first = enc.names[start];
        let lead = if use_start {
            self.trans(START, first)
        } else {
            self.prior(first)
        };
        // `prior_or_start * pp` rounds first; later commands apply the transition and the param
        // factor as two separate roundings (spec §3.2).
        let mut lik = lead * enc.pp[start];
        for j in start + 1..start + len {
            lik *= self.trans(enc.names[j - 1], enc.names[j]);
            lik *= enc.pp[j];
        }
        lik
    }

    fn session_likelihood_encoded(&self, enc: &Encoded, use_tokens: bool) -> f64 {
        let mut lik = self.window_likelihood(enc, 0, enc.len, use_tokens);
        if use_tokens {
            lik *= self.trans(enc.names[enc.len - 1], END);
        }
        lik
    }

    fn window_likelihoods_encoded(&self, enc: &Encoded, opts: &ScoreOptions) -> Vec<f64> {
        let (l, seq_len) = (opts.window_len, enc.names.len());
        if seq_len < l {
            return Vec::new();
        }
        let root = 1.0 / l as f64;
        (0..=seq_len - l)
            .map(|i| {
                let lik = self.window_likelihood(enc, i, l, opts.use_start_end_tokens && i == 0);
                if opts.use_geo_mean {
                    lik.powf(root)
                } else {
                    lik
                }
            })
            .collect()
    }

    fn rarest_encoded(&self, enc: &Encoded, opts: &ScoreOptions) -> RarestWindow {
        let likelihoods = self.window_likelihoods_encoded(enc, opts);
        rarest_of(&likelihoods, opts.window_len, enc.len)
    }

    /// Likelihood of the whole session (spec §3.4): with tokens it includes START → first and
    /// last → END.
    pub fn session_likelihood(
        &self,
        session: &[Command],
        use_start_end_tokens: bool,
    ) -> Result<f64, MarkovError> {
        let enc = self.encode(session, false)?;
        Ok(self.session_likelihood_encoded(&enc, use_start_end_tokens))
    }

    /// Likelihood of `window` as one window (msticpy's `compute_likelihood_window`, spec
    /// §3.2): its first command from START (`use_start_token`) or from the prior, and a final
    /// transition to END if `use_end_token`.
    pub fn window_likelihood_of(
        &self,
        window: &[Command],
        use_start_token: bool,
        use_end_token: bool,
    ) -> Result<f64, MarkovError> {
        let enc = self.encode(window, false)?;
        let mut lik = self.window_likelihood(&enc, 0, enc.len, use_start_token);
        if use_end_token {
            lik *= self.trans(enc.names[enc.len - 1], END);
        }
        Ok(lik)
    }

    /// `session_likelihood ^ (1 / number of commands)` (spec §3.4).
    pub fn geomean(
        &self,
        session: &[Command],
        use_start_end_tokens: bool,
    ) -> Result<f64, MarkovError> {
        let lik = self.session_likelihood(session, use_start_end_tokens)?;
        Ok(lik.powf(1.0 / session.len() as f64))
    }

    /// Likelihood of every sliding window, in order (spec §3.3); empty when the session is too
    /// short.
    pub fn window_likelihoods(
        &self,
        session: &[Command],
        opts: &ScoreOptions,
    ) -> Result<Vec<f64>, MarkovError> {
        check_window(opts.window_len)?;
        let enc = self.encode(session, opts.use_start_end_tokens)?;
        Ok(self.window_likelihoods_encoded(&enc, opts))
    }

    /// The rarest window (spec §3.3).
    pub fn rarest_window(
        &self,
        session: &[Command],
        opts: &ScoreOptions,
    ) -> Result<RarestWindow, MarkovError> {
        check_window(opts.window_len)?;
        let enc = self.encode(session, opts.use_start_end_tokens)?;
        Ok(self.rarest_encoded(&enc, opts))
    }

    /// Session likelihood, its geometric mean and the rarest window in one pass.
    pub fn score(
        &self,
        session: &[Command],
        opts: &ScoreOptions,
    ) -> Result<SessionScore, MarkovError> {
        check_window(opts.window_len)?;
        let enc = self.encode(session, opts.use_start_end_tokens)?;
        let likelihood = self.session_likelihood_encoded(&enc, opts.use_start_end_tokens);
        Ok(SessionScore {
            likelihood,
            geomean: likelihood.powf(1.0 / enc.len as f64),
            rarest: self.rarest_encoded(&enc, opts),
        })
    }

    /// [`score`](Self::score) for many sessions on the rayon pool; results in input order and
    /// identical to scoring one by one.
    pub fn score_many<S>(
        &self,
        sessions: &[S],
        opts: &ScoreOptions,
    ) -> Vec<Result<SessionScore, MarkovError>>
    where
        S: AsRef<[Command]> + Sync,
    {
        sessions
            .par_iter()
            .map(|s| self.score(s.as_ref(), opts))
            .collect()
    }
}

fn check_window(window_len: usize) -> Result<(), MarkovError> {
    if window_len == 0 {
        return Err(MarkovError::WindowLength { window_len });
    }
    Ok(())
}

/// The first minimal window (spec §3.3 step 4).
pub(crate) fn rarest_of(
    likelihoods: &[f64],
    window_len: usize,
    session_len: usize,
) -> RarestWindow {
    let mut best: Option<(usize, f64)> = None;
    for (i, &lik) in likelihoods.iter().enumerate() {
        // Strict `<`: the first index wins ties, as Python's `list.index(min(...))`.
        if best.is_none_or(|(_, b)| lik < b) {
            best = Some((i, lik));
        }
    }
    match best {
        Some((i, lik)) => RarestWindow {
            index: Some(i),
            likelihood: lik,
            window: i..(i + window_len).min(session_len),
        },
        None => RarestWindow {
            index: None,
            likelihood: f64::NAN,
            window: 0..0,
        },
    }
}

/// msticpy's `score_sessions`: trains on `sessions` (heuristic modellable params) and scores
/// the same sessions with tokens on and no geometric mean; one rarest window per session.
pub fn score_sessions<S>(
    sessions: &[S],
    session_type: SessionType,
    window_len: usize,
) -> Result<Vec<RarestWindow>, MarkovError>
where
    S: AsRef<[Command]> + Sync,
{
    check_window(window_len)?;
    let mut counts = MarkovCounts::new(session_type);
    for session in sessions {
        counts.observe(session.as_ref())?;
    }
    let model = MarkovModel::fit(counts, None)?;
    let opts = ScoreOptions {
        window_len,
        use_start_end_tokens: true,
        use_geo_mean: false,
    };
    sessions
        .par_iter()
        .map(|s| model.rarest_window(s.as_ref(), &opts))
        .collect()
}
