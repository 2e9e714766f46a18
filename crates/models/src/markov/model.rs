//! The fitted Markov model: Laplace-smoothed counts turned into probabilities (spec §2.2-2.4).
//!
//! msticpy materialises every smoothed table as nested dicts, including the dense
//! command × command transition table. Here the smoothing is applied in closed form to the
//! sparse raw counts: an entry that was never counted has a smoothed count that depends only
//! on how often its row and column keys occur in the smoothing key lists (once, or twice for a
//! reserved token that was also used as a name, spec Q8). Only counted entries are stored, so
//! the model is as large as the counts, not quadratic in the number of commands, and every
//! probability is still the quotient of the same two integers msticpy divides (spec §6).

use std::collections::BTreeSet;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::counts::{MarkovCounts, END, START, UNK, UNK_CMD};
use super::{MarkovError, SessionType, UNK_TOKEN};

/// Rows of `(column id, smoothed count, probability)` in compressed sparse-row form.
#[derive(Clone, Debug, Default)]
pub(crate) struct SparseRows {
    /// Row `r` is `cols[starts[r]..starts[r + 1]]`.
    starts: Vec<usize>,
    cols: Vec<u32>,
    counts: Vec<u64>,
    probs: Vec<f64>,
}

impl SparseRows {
    fn push_row(&mut self, entries: impl IntoIterator<Item = (u32, u64, f64)>) {
        if self.starts.is_empty() {
            self.starts.push(0);
        }
        for (col, count, prob) in entries {
            self.cols.push(col);
            self.counts.push(count);
            self.probs.push(prob);
        }
        self.starts.push(self.cols.len());
    }

    #[inline]
    pub(crate) fn row(&self, r: u32) -> (&[u32], &[u64], &[f64]) {
        let (lo, hi) = (self.starts[r as usize], self.starts[r as usize + 1]);
        (
            &self.cols[lo..hi],
            &self.counts[lo..hi],
            &self.probs[lo..hi],
        )
    }

    /// Probability of `col` in row `r`, for rows sorted by column.
    #[inline]
    fn find_sorted(&self, r: u32, col: u32) -> Option<f64> {
        let (cols, _, probs) = self.row(r);
        cols.binary_search(&col).ok().map(|i| probs[i])
    }
}

/// A trained model: the smoothed probabilities of spec §2.4 plus the raw counts they came from.
///
/// Serialises as its raw counts and its modellable-param set; loading refits (a few
/// milliseconds per million counts) and so can never disagree with `fit`.
#[derive(Clone, Debug)]
pub struct MarkovModel {
    pub(crate) counts: MarkovCounts,
    pub(crate) modellable: BTreeSet<String>,
    /// `len(C)`: distinct raw command keys + the unknown token (spec §2.3).
    c_len: u64,
    /// Smoothed `seq1` per command id and their total.
    pub(crate) seq1s: Vec<u64>,
    seq1s_total: u64,
    pub(crate) prior: Vec<f64>,
    /// Counted transitions, rows by previous command id, sorted by next command id.
    trans: SparseRows,
    /// Per row: sum of the smoothed row, probability of a never-counted ordinary key, and
    /// the row's unknown-token entry.
    trans_sum: Vec<u64>,
    trans_default: Vec<f64>,
    trans_unk: Vec<f64>,
    /// `pcond` rows by command id, in multiplication order (spec §2.5).
    pub(crate) pcond: SparseRows,
    /// Whether each param id is modellable.
    pub(crate) modellable_flags: Vec<bool>,
    /// `vcond` rows by param id, sorted by value id, plus each row's unknown entry.
    vcond: SparseRows,
    vcond_sum: Vec<u64>,
    vcond_unk: Vec<f64>,
    vcond_unk_count: Vec<u64>,
    /// `trans` as a dense `n × n` table when the vocabulary is small (same values, one load
    /// per lookup); `None` for large vocabularies.
    trans_dense: Option<Vec<f64>>,
}

/// Names per table above which smoothed totals could leave the exact range of binary64.
const MAX_NAMES: usize = 1 << 25;

/// Largest number of command ids for which the dense transition table is built (8 MiB).
const DENSE_TRANS_MAX: usize = 1024;

/// How many times a key occurs in a smoothing key list: once for every seen key, and the
/// unknown token once more when it was also seen as a real name (spec Q8/Q9).
#[inline]
fn multiplicity(id: u32, unk: u32, unk_seen: bool) -> u64 {
    1 + u64::from(id == unk && unk_seen)
}

impl MarkovModel {
    /// Smooths `counts` and computes the probabilities (spec §2.2-2.4).
    ///
    /// `modellable_params` (values type only) is the set of params whose values enter the
    /// likelihood. `None` chooses it with msticpy's heuristic on the raw counts: a param with
    /// at least one value, at most 20 distinct values, at least 20 occurrences and at most
    /// 10 % distinct values per occurrence. A given set, even empty, is used as is.
    pub fn fit(
        counts: MarkovCounts,
        modellable_params: Option<BTreeSet<String>>,
    ) -> Result<MarkovModel, MarkovError> {
        if counts.sessions == 0 {
            return Err(MarkovError::NoSessions);
        }
        // Smoothing adds about 2 * |C|^2 counts: keep every total exact in binary64 (< 2^53).
        for (len, table) in [
            (counts.commands.len(), "command names"),
            (counts.params.len(), "param names"),
            (counts.values.len(), "values"),
        ] {
            if len >= MAX_NAMES {
                return Err(MarkovError::TooManyNames { table });
            }
        }
        let n_cmds = counts.commands.len();
        let unk_cmd_seen = counts.seq1[UNK_CMD as usize] > 0;
        // Every interned command was seen, except UNK which is always in C (spec §2.3).
        let c_len = n_cmds as u64 + u64::from(unk_cmd_seen);
        let m_c = |id: u32| multiplicity(id, UNK_CMD, unk_cmd_seen);

        // seq1s[x] = raw + m(x) * ([x != END] + [x != START]) * (|C| - 1).
        let seq1s: Vec<u64> = (0..n_cmds as u32)
            .map(|x| {
                let sides = u64::from(x != END) + u64::from(x != START);
                counts.seq1[x as usize] + m_c(x) * sides * (c_len - 1)
            })
            .collect();
        let seq1s_total: u64 = seq1s.iter().sum();
        let prior = seq1s
            .iter()
            .map(|&n| n as f64 / seq1s_total as f64)
            .collect();

        // Transitions: gather the counted entries by row.
        let mut entries: Vec<(u32, u32, u64)> =
            counts.seq2.iter().map(|(&(a, b), &n)| (a, b, n)).collect();
        entries.sort_unstable();
        let mut trans = SparseRows::default();
        let mut trans_sum = Vec::with_capacity(n_cmds);
        let mut trans_default = Vec::with_capacity(n_cmds);
        let mut trans_unk = Vec::with_capacity(n_cmds);
        let mut at = 0;
        for a in 0..n_cmds as u32 {
            let lo = at;
            while at < entries.len() && entries[at].0 == a {
                at += 1;
            }
            let row = &entries[lo..at];
            if a == END {
                // No END row (training commands named END are refused): lookups from END fall
                // back to the UNK row.
                trans.push_row(std::iter::empty());
                trans_sum.push(0);
                trans_default.push(0.0);
                trans_unk.push(0.0);
                continue;
            }
            // Smoothing adds m(a) * m(b) for every b in C except START: m(a) * (|C| - 1) in all.
            let sum = row.iter().map(|e| e.2).sum::<u64>() + m_c(a) * (c_len - 1);
            let smoothed = |b: u32, raw: u64| raw + if b == START { 0 } else { m_c(a) * m_c(b) };
            trans.push_row(row.iter().map(|&(_, b, raw)| {
                let n = smoothed(b, raw);
                (b, n, n as f64 / sum as f64)
            }));
            let unk_raw = counts.seq2.get(&(a, UNK_CMD)).copied().unwrap_or(0);
            trans_sum.push(sum);
            trans_default.push(m_c(a) as f64 / sum as f64);
            trans_unk.push(smoothed(UNK_CMD, unk_raw) as f64 / sum as f64);
        }

        let mut model = MarkovModel {
            modellable: BTreeSet::new(),
            c_len,
            seq1s,
            seq1s_total,
            prior,
            trans,
            trans_sum,
            trans_default,
            trans_unk,
            pcond: SparseRows::default(),
            modellable_flags: Vec::new(),
            vcond: SparseRows::default(),
            vcond_sum: Vec::new(),
            vcond_unk: Vec::new(),
            vcond_unk_count: Vec::new(),
            trans_dense: None,
            counts,
        };
        if n_cmds <= DENSE_TRANS_MAX {
            let dense = (0..n_cmds as u32)
                .flat_map(|a| (0..n_cmds as u32).map(move |b| (a, b)))
                .map(|(a, b)| model.trans_sparse(a, b))
                .collect();
            model.trans_dense = Some(dense);
        }
        if model.counts.session_type.has_params() {
            model.fit_params();
        }
        if model.counts.session_type.has_values() {
            model.modellable = match modellable_params {
                Some(given) => given,
                None => model.heuristic_modellable(),
            };
            model.fit_values();
        }
        Ok(model)
    }

    /// `pcond[c][p] = cmd_params[c][p] / seq1s[c]`, rows in first-seen order with UNK last
    /// unless a real param named `##UNK##` put it earlier (spec §2.3-2.5).
    fn fit_params(&mut self) {
        let c = &self.counts;
        let unk_cmd_seen = c.seq1[UNK_CMD as usize] > 0;
        let unk_param_seen = c.param[UNK as usize] > 0;
        let m_p_unk = multiplicity(UNK, UNK, unk_param_seen);
        let mut pcond = SparseRows::default();
        for cmd in 0..c.commands.len() as u32 {
            let m_cmd = multiplicity(cmd, UNK_CMD, unk_cmd_seen);
            let denominator = self.seq1s[cmd as usize] as f64;
            let row = &c.cmd_param[cmd as usize];
            let smoothed = |p: u32, raw: u64| raw + m_cmd * if p == UNK { m_p_unk } else { 1 };
            let unk_in_row = row.iter().any(|&(p, _)| p == UNK);
            let tail = (!unk_in_row).then_some((UNK, 0));
            pcond.push_row(row.iter().copied().chain(tail).map(|(p, raw)| {
                let n = smoothed(p, raw);
                (p, n, n as f64 / denominator)
            }));
        }
        self.pcond = pcond;
    }

    /// msticpy's `get_params_to_model_values` on the raw counts (spec §2.2).
    fn heuristic_modellable(&self) -> BTreeSet<String> {
        let c = &self.counts;
        let mut distinct = vec![0u64; c.params.len()];
        for &(p, _) in c.param_value.keys() {
            distinct[p as usize] += 1;
        }
        (0..c.params.len())
            .filter(|&p| {
                let (d, n) = (distinct[p], c.param[p]);
                // `100 * d / n <= 10` as Python's true division.
                d > 0 && d <= 20 && n >= 20 && (100 * d) as f64 / n as f64 <= 10.0
            })
            .map(|p| c.params.name(p as u32).to_string())
            .collect()
    }

    /// `vcond[p][v] = param_values[p][v] / sum(param_values[p])` (spec §2.3-2.4).
    fn fit_values(&mut self) {
        let c = &self.counts;
        let unk_param_seen = c.param[UNK as usize] > 0;
        let unk_value_seen = c.value[UNK as usize] > 0;
        let m_v_unk = multiplicity(UNK, UNK, unk_value_seen);
        let n_params = c.params.len();
        let mut entries: Vec<(u32, u32, u64)> = c
            .param_value
            .iter()
            .map(|(&(p, v), &n)| (p, v, n))
            .collect();
        entries.sort_unstable();
        let mut at = 0;
        let mut vcond = SparseRows::default();
        let (mut sums, mut unk_probs, mut unk_counts) = (Vec::new(), Vec::new(), Vec::new());
        for p in 0..n_params as u32 {
            let lo = at;
            while at < entries.len() && entries[at].0 == p {
                at += 1;
            }
            let row = &entries[lo..at];
            let m_param = multiplicity(p, UNK, unk_param_seen);
            let smoothed = |v: u32, raw: u64| raw + m_param * if v == UNK { m_v_unk } else { 1 };
            let unk_raw = row.iter().find(|e| e.1 == UNK).map_or(0, |e| e.2);
            let unk_count = smoothed(UNK, unk_raw);
            let sum = row
                .iter()
                .filter(|e| e.1 != UNK)
                .map(|e| smoothed(e.1, e.2))
                .sum::<u64>()
                + unk_count;
            vcond.push_row(row.iter().map(|&(_, v, raw)| {
                let n = smoothed(v, raw);
                (v, n, n as f64 / sum as f64)
            }));
            sums.push(sum);
            unk_probs.push(unk_count as f64 / sum as f64);
            unk_counts.push(unk_count);
        }
        self.modellable_flags = c
            .params
            .names()
            .map(|name| self.modellable.contains(name))
            .collect();
        self.vcond = vcond;
        self.vcond_sum = sums;
        self.vcond_unk = unk_probs;
        self.vcond_unk_count = unk_counts;
    }

    /// The session type of the training data.
    pub fn session_type(&self) -> SessionType {
        self.counts.session_type
    }

    /// The raw counts the model was fitted on (to merge more training data and refit).
    pub fn counts(&self) -> &MarkovCounts {
        &self.counts
    }

    /// The params whose values enter the likelihood (values type; empty otherwise).
    pub fn modellable_params(&self) -> &BTreeSet<String> {
        &self.modellable
    }

    // ----- lookups with msticpy's unknown-token fallback (spec §1.2) -----------------------

    /// Command id for scoring: unseen names look up the UNK entries, which is exactly where
    /// every fallback of spec §3.5 lands.
    #[inline]
    pub(crate) fn command_id(&self, name: &str) -> u32 {
        self.counts.command_id(name).unwrap_or(UNK_CMD)
    }

    /// `prior[x]`.
    #[inline]
    pub(crate) fn prior(&self, x: u32) -> f64 {
        self.prior[x as usize]
    }

    /// `trans[a][b]`.
    #[inline]
    pub(crate) fn trans(&self, a: u32, b: u32) -> f64 {
        match &self.trans_dense {
            // Ids come from this model's interner, so the index is in range.
            Some(dense) => dense[a as usize * self.prior.len() + b as usize],
            None => self.trans_sparse(a, b),
        }
    }

    /// `trans[a][b]` from the sparse rows.
    fn trans_sparse(&self, a: u32, b: u32) -> f64 {
        // Every command but END has a row; END's lookups use the UNK row.
        let row = if a == END { UNK_CMD } else { a };
        if let Some(p) = self.trans.find_sorted(row, b) {
            return p;
        }
        // Every key of C except START is in every row; START only where it was counted.
        if b == START || b == UNK_CMD {
            self.trans_unk[row as usize]
        } else {
            self.trans_default[row as usize]
        }
    }

    /// `vcond[p][v]` for a param id and a value id (`None`/unseen value: the row's UNK entry).
    #[inline]
    pub(crate) fn vcond(&self, p: u32, v: Option<u32>) -> f64 {
        v.and_then(|v| self.vcond.find_sorted(p, v))
            .unwrap_or(self.vcond_unk[p as usize])
    }

    /// Whether value `v` was counted for param `p`.
    pub(crate) fn vcond_has(&self, p: u32, v: u32) -> bool {
        self.vcond.find_sorted(p, v).is_some()
    }

    pub(crate) fn param_id(&self, name: &str) -> Option<u32> {
        self.counts.params.get(name)
    }

    pub(crate) fn value_id(&self, value: &str) -> Option<u32> {
        self.counts.values.get(value)
    }

    pub(crate) fn param_name(&self, id: u32) -> &str {
        self.counts.params.name(id)
    }

    /// Whether `name` was seen as a training command name (a token's name counts only if a
    /// training command carried it, spec Q8).
    pub(crate) fn knows_command(&self, name: &str) -> bool {
        let c = &self.counts;
        match c.command_id(name) {
            None | Some(END) => false,
            Some(START) => c.seq1[START as usize] > c.sessions,
            Some(id) => c.seq1[id as usize] > 0,
        }
    }

    // ----- tables for inspection and reference tests ---------------------------------------

    /// The raw counts as named tables (msticpy's `_seq1_counts`, ...).
    pub fn raw_tables(&self) -> CountTables {
        let c = &self.counts;
        let cmd = |id: u32| c.commands.name(id).to_string();
        let param = |id: u32| c.params.name(id).to_string();
        let value = |id: u32| c.values.name(id).to_string();
        let seq1 = (0..c.commands.len() as u32)
            .filter(|&x| c.seq1[x as usize] > 0)
            .map(|x| (cmd(x), c.seq1[x as usize]))
            .collect();
        let mut seq2: Vec<(String, Vec<(String, u64)>)> = Vec::new();
        let mut entries: Vec<(u32, u32, u64)> =
            c.seq2.iter().map(|(&(a, b), &n)| (a, b, n)).collect();
        entries.sort_unstable();
        for (a, b, n) in entries {
            if seq2.last().map(|r| r.0.as_str()) != Some(c.commands.name(a)) {
                seq2.push((cmd(a), Vec::new()));
            }
            if let Some(last) = seq2.last_mut() {
                last.1.push((cmd(b), n));
            }
        }
        let params = (0..c.params.len() as u32)
            .filter(|&p| c.param[p as usize] > 0)
            .map(|p| (param(p), c.param[p as usize]))
            .collect();
        let cmd_params = (0..c.commands.len() as u32)
            .filter(|&x| !c.cmd_param[x as usize].is_empty())
            .map(|x| {
                let row = c.cmd_param[x as usize]
                    .iter()
                    .map(|&(p, n)| (param(p), n))
                    .collect();
                (cmd(x), row)
            })
            .collect();
        let values = (0..c.values.len() as u32)
            .filter(|&v| c.value[v as usize] > 0)
            .map(|v| (value(v), c.value[v as usize]))
            .collect();
        let mut param_values: Vec<(String, Vec<(String, u64)>)> = Vec::new();
        let mut entries: Vec<(u32, u32, u64)> = c
            .param_value
            .iter()
            .map(|(&(p, v), &n)| (p, v, n))
            .collect();
        entries.sort_unstable();
        for (p, v, n) in entries {
            if param_values.last().map(|r| r.0.as_str()) != Some(c.params.name(p)) {
                param_values.push((param(p), Vec::new()));
            }
            if let Some(last) = param_values.last_mut() {
                last.1.push((value(v), n));
            }
        }
        CountTables {
            seq1,
            seq2,
            params,
            cmd_params,
            values,
            param_values,
        }
    }

    /// The Laplace-smoothed counts as named, dense tables (msticpy's `seq1_counts`, ...).
    ///
    /// Materialises the full command × command transition table: for inspection and tests,
    /// not for large vocabularies.
    pub fn smoothed_tables(&self) -> CountTables {
        let c = &self.counts;
        let n_cmds = c.commands.len() as u32;
        let cmd = |id: u32| c.commands.name(id).to_string();
        let seq1 = (0..n_cmds)
            .map(|x| (cmd(x), self.seq1s[x as usize]))
            .collect();
        let seq2 = (0..n_cmds)
            .filter(|&a| a != END)
            .map(|a| {
                let row = self
                    .dense_trans_row(a)
                    .into_iter()
                    .map(|(b, n, _)| (cmd(b), n))
                    .collect();
                (cmd(a), row)
            })
            .collect();
        let mut tables = CountTables {
            seq1,
            seq2,
            ..CountTables::default()
        };
        if c.session_type.has_params() {
            let unk_param_seen = c.param[UNK as usize] > 0;
            let unk_cmd_seen = c.seq1[UNK_CMD as usize] > 0;
            // params[p] = raw + sum over commands p was counted with of m(c); params[UNK] adds
            // m(UNK) * |C| (spec §2.3 closed forms, with multiplicities).
            let mut params: Vec<u64> = c.param.clone();
            for (x, row) in c.cmd_param.iter().enumerate() {
                for &(p, _) in row {
                    if p != UNK {
                        params[p as usize] += multiplicity(x as u32, UNK_CMD, unk_cmd_seen);
                    }
                }
            }
            params[UNK as usize] += multiplicity(UNK, UNK, unk_param_seen) * self.c_len;
            tables.params = (0..c.params.len() as u32)
                .map(|p| (c.params.name(p).to_string(), params[p as usize]))
                .collect();
            tables.cmd_params = (0..n_cmds)
                .map(|x| {
                    let (cols, counts, _) = self.pcond.row(x);
                    let row = cols
                        .iter()
                        .zip(counts)
                        .map(|(&p, &n)| (c.params.name(p).to_string(), n))
                        .collect();
                    (cmd(x), row)
                })
                .collect();
        }
        if c.session_type.has_values() {
            let unk_param_seen = c.param[UNK as usize] > 0;
            let unk_value_seen = c.value[UNK as usize] > 0;
            let p_len = c.params.len() as u64 + u64::from(unk_param_seen);
            let mut values: Vec<u64> = c.value.clone();
            for &(p, v) in c.param_value.keys() {
                if v != UNK {
                    values[v as usize] += multiplicity(p, UNK, unk_param_seen);
                }
            }
            values[UNK as usize] += multiplicity(UNK, UNK, unk_value_seen) * p_len;
            tables.values = (0..c.values.len() as u32)
                .map(|v| (c.values.name(v).to_string(), values[v as usize]))
                .collect();
            tables.param_values = (0..c.params.len() as u32)
                .map(|p| {
                    let (cols, counts, _) = self.vcond.row(p);
                    let mut row: Vec<(String, u64)> = cols
                        .iter()
                        .zip(counts)
                        .filter(|(&v, _)| v != UNK)
                        .map(|(&v, &n)| (c.values.name(v).to_string(), n))
                        .collect();
                    row.push((UNK_TOKEN.to_string(), self.vcond_unk_count[p as usize]));
                    (c.params.name(p).to_string(), row)
                })
                .collect();
        }
        tables
    }

    /// Every key of transition row `a` with its smoothed count and probability: the counted
    /// entries plus every key of C except START.
    fn dense_trans_row(&self, a: u32) -> Vec<(u32, u64, f64)> {
        let c = &self.counts;
        let (cols, counts, probs) = self.trans.row(a);
        let mut row: Vec<(u32, u64, f64)> = cols
            .iter()
            .zip(counts)
            .zip(probs)
            .map(|((&b, &n), &p)| (b, n, p))
            .collect();
        let unk_cmd_seen = c.seq1[UNK_CMD as usize] > 0;
        let m_a = multiplicity(a, UNK_CMD, unk_cmd_seen);
        for b in 0..c.commands.len() as u32 {
            if b == START || cols.binary_search(&b).is_ok() {
                continue;
            }
            let n = m_a * multiplicity(b, UNK_CMD, unk_cmd_seen);
            row.push((b, n, self.trans(a, b)));
        }
        debug_assert_eq!(
            row.iter().map(|e| e.1).sum::<u64>(),
            self.trans_sum[a as usize]
        );
        row
    }

    /// The probabilities as named, dense tables (msticpy's `prior_probs`, ...).
    pub fn probability_tables(&self) -> ProbabilityTables {
        let c = &self.counts;
        let n_cmds = c.commands.len() as u32;
        let cmd = |id: u32| c.commands.name(id).to_string();
        let mut tables = ProbabilityTables {
            prior: (0..n_cmds).map(|x| (cmd(x), self.prior(x))).collect(),
            trans: (0..n_cmds)
                .filter(|&a| a != END)
                .map(|a| {
                    let row = self
                        .dense_trans_row(a)
                        .into_iter()
                        .map(|(b, _, p)| (cmd(b), p))
                        .collect();
                    (cmd(a), row)
                })
                .collect(),
            ..ProbabilityTables::default()
        };
        if c.session_type.has_params() {
            let smoothed = self.smoothed_tables();
            let total = self.seq1s_total as f64;
            tables.params = smoothed
                .params
                .iter()
                .map(|(p, n)| (p.clone(), *n as f64 / total))
                .collect();
            tables.param_cond_cmd = (0..n_cmds)
                .map(|x| {
                    let (cols, _, probs) = self.pcond.row(x);
                    let row = cols
                        .iter()
                        .zip(probs)
                        .map(|(&p, &q)| (c.params.name(p).to_string(), q))
                        .collect();
                    (cmd(x), row)
                })
                .collect();
            if c.session_type.has_values() {
                let total: u64 = smoothed.values.iter().map(|v| v.1).sum();
                tables.values = smoothed
                    .values
                    .iter()
                    .map(|(v, n)| (v.clone(), *n as f64 / total as f64))
                    .collect();
                tables.value_cond_param = smoothed
                    .param_values
                    .iter()
                    .enumerate()
                    .map(|(p, (name, row))| {
                        let sum = self.vcond_sum[p] as f64;
                        (
                            name.clone(),
                            row.iter()
                                .map(|(v, n)| (v.clone(), *n as f64 / sum))
                                .collect(),
                        )
                    })
                    .collect();
            }
        }
        tables
    }
}

/// Count tables with names, rows in first-seen order where msticpy's order matters
/// (`cmd_params`), else in id order. Rows are `(key, [(key, count)])`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountTables {
    /// Command counts.
    pub seq1: Vec<(String, u64)>,
    /// Transition counts by previous command.
    pub seq2: Vec<(String, Vec<(String, u64)>)>,
    /// Param counts (params types).
    pub params: Vec<(String, u64)>,
    /// Param counts per command, in multiplication order (params types).
    pub cmd_params: Vec<(String, Vec<(String, u64)>)>,
    /// Value counts (values type).
    pub values: Vec<(String, u64)>,
    /// Value counts per param (values type).
    pub param_values: Vec<(String, Vec<(String, u64)>)>,
}

/// Probability tables with names, laid out like [`CountTables`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProbabilityTables {
    /// `prior[x]`, over all keys including the tokens.
    pub prior: Vec<(String, f64)>,
    /// `trans[a][b]`.
    pub trans: Vec<(String, Vec<(String, f64)>)>,
    /// `param_probs[p]` (not used by scores).
    pub params: Vec<(String, f64)>,
    /// `pcond[c][p]`, in multiplication order.
    pub param_cond_cmd: Vec<(String, Vec<(String, f64)>)>,
    /// `value_probs[v]` (not used by scores).
    pub values: Vec<(String, f64)>,
    /// `vcond[p][v]`.
    pub value_cond_param: Vec<(String, Vec<(String, f64)>)>,
}

// ----- serialisation: counts + modellable set, refit on load ---------------------------------

#[derive(Serialize)]
struct ModelReprRef<'a> {
    counts: &'a MarkovCounts,
    modellable_params: &'a BTreeSet<String>,
}

#[derive(Deserialize)]
struct ModelRepr {
    counts: MarkovCounts,
    modellable_params: BTreeSet<String>,
}

impl Serialize for MarkovModel {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ModelReprRef {
            counts: &self.counts,
            modellable_params: &self.modellable,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for MarkovModel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let repr = ModelRepr::deserialize(deserializer)?;
        // The stored set is the one in force (given or chosen by the heuristic at training).
        MarkovModel::fit(repr.counts, Some(repr.modellable_params))
            .map_err(serde::de::Error::custom)
    }
}
