//! Scoring sessions against a fitted model (spec §3): param-set probabilities, window and
//! session likelihoods, and the rarest window.
//!
//! A session is encoded once (ids, per-command factors); windows then multiply the cached
//! factors in msticpy's exact order and grouping, in linear space, so overlapping windows cost
//! a few multiplications each and the numbers stay bit-identical to msticpy's.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::ops::Range;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::counts::{push_dict_entry, Corpus, MarkovCounts, END, START};
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

/// A session turned into ids and per-position factors, computed once and shared by every
/// window that covers the position.
#[derive(Default)]
pub(crate) struct Encoded {
    /// Command ids, then END if tokens are on.
    pub(crate) names: Vec<u32>,
    /// Param-set probability (geometric mean) per element; 1.0 for END and for `CmdsOnly`.
    pub(crate) pp: Vec<f64>,
    /// `trans[names[j - 1]][names[j]]` at `j >= 1`; `trans[START][names[0]]` at 0.
    pub(crate) trans: Vec<f64>,
    /// Number of commands of the session (without END).
    pub(crate) len: usize,
    /// Scratch for one command's params.
    params: Vec<(u32, Option<u32>)>,
}

thread_local! {
    /// Per-thread buffers, so scoring a session allocates nothing.
    static SCRATCH: RefCell<Encoded> = RefCell::new(Encoded::default());
}

impl MarkovModel {
    /// Encodes a session into `enc`; with `append_end` the END token follows as an element
    /// with no params (factor exactly 1.0, spec §3.3 step 1).
    pub(crate) fn encode_into(
        &self,
        session: &[Command],
        append_end: bool,
        enc: &mut Encoded,
    ) -> Result<(), MarkovError> {
        if session.is_empty() {
            return Err(MarkovError::EmptySession { session: None });
        }
        enc.names.clear();
        enc.pp.clear();
        enc.trans.clear();
        let with_params = self.session_type().has_params();
        let mut prev = START;
        for command in session {
            let id = self.command_id(&command.name);
            enc.names.push(id);
            enc.trans.push(self.trans(prev, id));
            prev = id;
            let pp = if with_params {
                let nonempty = self.encode_params(command, &mut enc.params);
                self.param_set_prob_ids(id, nonempty, &enc.params, true).0
            } else {
                1.0
            };
            enc.pp.push(pp);
        }
        if append_end {
            enc.names.push(END);
            enc.trans.push(self.trans(prev, END));
            enc.pp.push(1.0);
        }
        enc.len = session.len();
        Ok(())
    }

    /// Encodes session `i` of a training corpus (ids of this model's own counts).
    fn encode_corpus_into(&self, corpus: &Corpus, i: usize, append_end: bool, enc: &mut Encoded) {
        enc.names.clear();
        enc.pp.clear();
        enc.trans.clear();
        let with_params = self.session_type().has_params();
        let mut prev = START;
        let range = corpus.session(i);
        enc.len = range.len();
        for j in range {
            let id = corpus.names[j];
            enc.names.push(id);
            enc.trans.push(self.trans(prev, id));
            prev = id;
            let pp = if with_params {
                let params = corpus.command_params(j);
                self.param_set_prob_ids(id, !params.is_empty(), params, true)
                    .0
            } else {
                1.0
            };
            enc.pp.push(pp);
        }
        if append_end {
            enc.names.push(END);
            enc.trans.push(self.trans(prev, END));
            enc.pp.push(1.0);
        }
    }

    /// Scores session `i` of the corpus this model was trained on.
    fn score_corpus_session(&self, corpus: &Corpus, i: usize, opts: &ScoreOptions) -> SessionScore {
        let score = |enc: &Encoded| {
            let likelihood = self.session_likelihood_encoded(enc, opts.use_start_end_tokens);
            SessionScore {
                likelihood,
                geomean: likelihood.powf(1.0 / enc.len as f64),
                rarest: self.rarest_encoded(enc, opts),
            }
        };
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut enc) => {
                self.encode_corpus_into(corpus, i, opts.use_start_end_tokens, &mut enc);
                score(&enc)
            }
            Err(_) => {
                let mut enc = Encoded::default();
                self.encode_corpus_into(corpus, i, opts.use_start_end_tokens, &mut enc);
                score(&enc)
            }
        })
    }

    /// [`encode_into`](Self::encode_into) a fresh buffer.
    pub(crate) fn encode(
        &self,
        session: &[Command],
        append_end: bool,
    ) -> Result<Encoded, MarkovError> {
        let mut enc = Encoded::default();
        self.encode_into(session, append_end, &mut enc)?;
        Ok(enc)
    }

    /// Runs `f` on the thread's scratch encoding of `session`.
    fn with_encoded<R>(
        &self,
        session: &[Command],
        append_end: bool,
        f: impl FnOnce(&Encoded) -> R,
    ) -> Result<R, MarkovError> {
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut enc) => {
                self.encode_into(session, append_end, &mut enc)?;
                Ok(f(&enc))
            }
            // Re-entered on this thread (cannot happen today): use a fresh buffer.
            Err(_) => Ok(f(&self.encode(session, append_end)?)),
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
                // Only modellable params' values enter the score: skip the others' lookups.
                let v = match value {
                    Some(v)
                        if with_values && self.modellable_flags[p as usize] && !v.is_empty() =>
                    {
                        self.value_id(v)
                    }
                    _ => None,
                };
                push_dict_entry(params, p, v);
            }
        }
        !command.params.is_empty()
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
        let nonempty = self.encode_params(command, &mut params);
        self.param_set_prob_ids(id, nonempty, &params, use_geo_mean)
            .0
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
        let lead = if use_start {
            enc.trans[0]
        } else {
            self.prior(enc.names[start])
        };
        // `prior_or_start * pp` rounds first; later commands apply the transition and the param
        // factor as two separate roundings (spec §3.2).
        let mut lik = lead * enc.pp[start];
        for j in start + 1..start + len {
            lik *= enc.trans[j];
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

    /// Calls `each(index, likelihood)` for every sliding window, in order (spec §3.3).
    #[inline]
    fn for_each_window(
        &self,
        enc: &Encoded,
        opts: &ScoreOptions,
        mut each: impl FnMut(usize, f64),
    ) {
        let (l, seq_len) = (opts.window_len, enc.names.len());
        if seq_len < l {
            return;
        }
        let root = 1.0 / l as f64;
        for i in 0..=seq_len - l {
            let lik = self.window_likelihood(enc, i, l, opts.use_start_end_tokens && i == 0);
            // Root first, then the minimum (spec §3.3).
            each(
                i,
                if opts.use_geo_mean {
                    lik.powf(root)
                } else {
                    lik
                },
            );
        }
    }

    fn rarest_encoded(&self, enc: &Encoded, opts: &ScoreOptions) -> RarestWindow {
        let mut best: Option<(usize, f64)> = None;
        self.for_each_window(enc, opts, |i, lik| {
            // Strict `<`: the first index wins ties, as Python's `list.index(min(...))`.
            if best.is_none_or(|(_, b)| lik < b) {
                best = Some((i, lik));
            }
        });
        rarest_from(best, opts.window_len, enc.len)
    }

    /// Likelihood of the whole session (spec §3.4): with tokens it includes START → first and
    /// last → END.
    pub fn session_likelihood(
        &self,
        session: &[Command],
        use_start_end_tokens: bool,
    ) -> Result<f64, MarkovError> {
        self.with_encoded(session, false, |enc| {
            self.session_likelihood_encoded(enc, use_start_end_tokens)
        })
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
        self.with_encoded(window, use_end_token, |enc| {
            let mut lik = self.window_likelihood(enc, 0, enc.len, use_start_token);
            if use_end_token {
                lik *= enc.trans[enc.len];
            }
            lik
        })
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
        self.with_encoded(session, opts.use_start_end_tokens, |enc| {
            let mut likelihoods = Vec::new();
            self.for_each_window(enc, opts, |_, lik| likelihoods.push(lik));
            likelihoods
        })
    }

    /// The rarest window (spec §3.3).
    pub fn rarest_window(
        &self,
        session: &[Command],
        opts: &ScoreOptions,
    ) -> Result<RarestWindow, MarkovError> {
        check_window(opts.window_len)?;
        self.with_encoded(session, opts.use_start_end_tokens, |enc| {
            self.rarest_encoded(enc, opts)
        })
    }

    /// Session likelihood, its geometric mean and the rarest window in one pass.
    pub fn score(
        &self,
        session: &[Command],
        opts: &ScoreOptions,
    ) -> Result<SessionScore, MarkovError> {
        check_window(opts.window_len)?;
        self.with_encoded(session, opts.use_start_end_tokens, |enc| {
            let likelihood = self.session_likelihood_encoded(enc, opts.use_start_end_tokens);
            SessionScore {
                likelihood,
                geomean: likelihood.powf(1.0 / enc.len as f64),
                rarest: self.rarest_encoded(enc, opts),
            }
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

/// The rarest-window result for the first minimal window `best` (spec §3.3 step 4).
fn rarest_from(best: Option<(usize, f64)>, window_len: usize, session_len: usize) -> RarestWindow {
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

/// Trains a model on `sessions` and scores the same sessions, as msticpy's `score_sessions`
/// and `Model.compute_scores` do (the hunting workflow: what is rare within this batch).
///
/// Counting runs on the rayon pool in chunks whose partial counts are merged in order (equal
/// to counting sequentially), and each session's strings are looked up once: the ids recorded
/// while counting are scored directly. Results are in input order and identical to
/// [`MarkovCounts::observe`] + [`MarkovModel::fit`] + [`MarkovModel::score`].
pub fn train_and_score<S>(
    sessions: &[S],
    session_type: SessionType,
    modellable_params: Option<BTreeSet<String>>,
    opts: &ScoreOptions,
) -> Result<(MarkovModel, Vec<SessionScore>), MarkovError>
where
    S: AsRef<[Command]> + Sync,
{
    check_window(opts.window_len)?;
    // Chunks big enough that merging the partial tables is cheap next to counting them.
    let chunk = sessions
        .len()
        .div_ceil(rayon::current_num_threads().max(1))
        .max(4096);
    let parts: Vec<Result<(MarkovCounts, Corpus), MarkovError>> = sessions
        .par_chunks(chunk)
        .enumerate()
        .map(|(k, part)| {
            let mut counts = MarkovCounts::new(session_type);
            let mut corpus = Corpus::default();
            for session in part {
                counts
                    .observe_recording(session.as_ref(), Some(&mut corpus))
                    .map_err(|e| at_session(e, (k * chunk) as u64))?;
            }
            Ok((counts, corpus))
        })
        .collect();
    let mut parts = parts.into_iter();
    let (mut counts, mut corpus) = match parts.next() {
        Some(first) => first?,
        None => (MarkovCounts::new(session_type), Corpus::default()),
    };
    for part in parts {
        let (other, mut other_corpus) = part?;
        let maps = counts.merge_mapped(&other)?;
        other_corpus.remap(&maps);
        corpus.append(other_corpus);
    }
    let model = MarkovModel::fit(counts, modellable_params)?;
    let scores = (0..corpus.sessions())
        .into_par_iter()
        .map(|i| model.score_corpus_session(&corpus, i, opts))
        .collect();
    Ok((model, scores))
}

/// Shifts the session index of an error from a chunk to the whole input.
fn at_session(error: MarkovError, base: u64) -> MarkovError {
    match error {
        MarkovError::EmptySession { session } => MarkovError::EmptySession {
            session: session.map(|s| s + base),
        },
        MarkovError::ReservedName {
            name,
            session,
            position,
        } => MarkovError::ReservedName {
            name,
            session: session.map(|s| s + base),
            position,
        },
        other => other,
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
    let opts = ScoreOptions {
        window_len,
        use_start_end_tokens: true,
        use_geo_mean: false,
    };
    let (_, scores) = train_and_score(sessions, session_type, None, &opts)?;
    Ok(scores.into_iter().map(|s| s.rarest).collect())
}
