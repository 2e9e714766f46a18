//! From scored subjects to findings: threshold, severity, exclusions — the same for every
//! detector.

use oddhunt_core::{Basis, Cut, Exclusions, Finding, Rule, ScoreDistribution, Scored, Severity};

/// What the pipeline produced from one detector's scores.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Detector name.
    pub detector: String,
    /// Findings, highest score first. With `all`, every scored subject (alert or not).
    pub findings: Vec<Finding>,
    /// The cut that was applied.
    pub cut: Cut,
    /// Subjects scored.
    pub scored: usize,
    /// Subjects past the threshold (before exclusions).
    pub alerts: usize,
    /// Findings suppressed by each exclusion rule, in rule order.
    pub excluded: Vec<(String, usize)>,
    /// All finite scores of the batch (for distribution plots).
    pub scores: Vec<f64>,
    /// Without `all`: an evenly spaced sample (by score) of the subjects that are not findings,
    /// at most [`BACKGROUND_SAMPLE`], so plots can show the findings against the rest.
    pub background: Vec<Finding>,
}

/// Most non-alert subjects kept for plots when not writing `--all`.
pub const BACKGROUND_SAMPLE: usize = 2_000;

impl Outcome {
    /// Findings that are alerts and not excluded.
    pub fn reported(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.alert && f.excluded_by.is_none())
    }

    /// Findings suppressed by exclusions.
    pub fn suppressed(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.excluded_by.is_some())
    }
}

/// Thresholds `scored`, marks exclusions, and orders the findings (highest score first; NaN
/// scores last).
pub fn apply(
    detector: &str,
    scored: Vec<Scored>,
    rule: Rule,
    basis: Basis,
    training: Option<&ScoreDistribution>,
    exclusions: &Exclusions,
    all: bool,
) -> Result<Outcome, oddhunt_core::threshold::ThresholdError> {
    let scores: Vec<f64> = scored.iter().map(|s| s.score).collect();
    let cut = Cut::compute(rule, basis, &scores, training)?;
    let selected = cut.select(&scores);
    let mut is_alert = vec![false; scored.len()];
    for &i in &selected {
        is_alert[i] = true;
    }
    let alerts = selected.len();
    let total = scored.len();
    let mut order: Vec<usize> = if all {
        (0..scored.len()).collect()
    } else {
        selected.clone()
    };
    order.sort_by(|&a, &b| {
        let (sa, sb) = (scores[a], scores[b]);
        match (sa.is_nan(), sb.is_nan()) {
            (true, false) => std::cmp::Ordering::Greater,
            (false, true) => std::cmp::Ordering::Less,
            _ => sb.total_cmp(&sa),
        }
        .then(a.cmp(&b))
    });
    let background_order: Vec<usize> = if all {
        Vec::new()
    } else {
        let mut rest: Vec<usize> = (0..scored.len()).filter(|&i| !is_alert[i]).collect();
        rest.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
        let stride = rest.len().div_ceil(BACKGROUND_SAMPLE).max(1);
        rest.into_iter().step_by(stride).collect()
    };
    let mut slots: Vec<Option<Scored>> = scored.into_iter().map(Some).collect();
    let background: Vec<Finding> = background_order
        .into_iter()
        .filter_map(|i| {
            let s = slots[i].take()?;
            Some(Finding::new(detector, s, cut.value, false, Severity::Low))
        })
        .collect();
    let mut findings: Vec<Finding> = order
        .into_iter()
        .filter_map(|i| {
            let s = slots[i].take()?;
            let alert = is_alert[i];
            let severity = if alert {
                s.severity
                    .unwrap_or_else(|| Severity::from_margin(cut.margin(s.score)))
                    .bumped(s.severity_boost)
            } else {
                Severity::Low
            };
            Some(Finding::new(detector, s, cut.value, alert, severity))
        })
        .collect();
    let excluded = exclusions.apply(&mut findings);
    Ok(Outcome {
        detector: detector.to_string(),
        findings,
        cut,
        scored: total,
        alerts,
        excluded,
        scores: scores.into_iter().filter(|s| s.is_finite()).collect(),
        background,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use oddhunt_core::Measure;

    fn scored(subject: &str, score: f64) -> Scored {
        let mut s = Scored::new(subject, score, Measure::new("m", score));
        s.context.insert("user.name".into(), subject.into());
        s
    }

    #[test]
    fn thresholds_orders_and_excludes() {
        let input = vec![
            scored("a", 0.1),
            scored("b", 0.95),
            scored("c", f64::NAN),
            scored("d", 0.9),
        ];
        let rules = Exclusions::parse(
            "[[rule]]\nname='d is fine'\nmatch.\"user.name\" = { equals = 'd' }\n",
            "t",
        )
        .unwrap();
        let out = apply(
            "x",
            input.clone(),
            Rule::Above(0.5),
            Basis::Batch,
            None,
            &rules,
            false,
        )
        .unwrap();
        let subjects: Vec<_> = out
            .findings
            .iter()
            .map(|f| f.scored.subject.as_str())
            .collect();
        assert_eq!(subjects, vec!["b", "d"]);
        assert_eq!(out.alerts, 2);
        assert_eq!(out.excluded, vec![("d is fine".to_string(), 1)]);
        assert_eq!(out.reported().count(), 1);

        let everything = apply(
            "x",
            input,
            Rule::Above(0.5),
            Basis::Batch,
            None,
            &Exclusions::none(),
            true,
        )
        .unwrap();
        let subjects: Vec<_> = everything
            .findings
            .iter()
            .map(|f| (f.scored.subject.as_str(), f.alert))
            .collect();
        assert_eq!(
            subjects,
            vec![("b", true), ("d", true), ("a", false), ("c", false)]
        );
    }
}
