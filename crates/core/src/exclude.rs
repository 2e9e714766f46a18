//! Exclusion rules: known-benign findings the analyst does not want to see again.
//!
//! Rules live in a TOML file (`--exclude rules.toml`). A rule has a name, an optional detector,
//! and conditions on fields of the finding — all must match. Fields are the finding's context
//! fields by ECS name (`process.name`, `process.parent.name`, `user.name`, `host.name`,
//! `process.command_line`, `dns.question.registered_domain`, ...) and `detector`, `subject`,
//! `summary`, `severity`. A condition is one of `equals` (a string or a list: any of them),
//! `contains`, `regex`, `glob` (`*`, `?`, `[..]`, matched against the whole value), optionally
//! `ignore_case = true` (or `ignore_case = true` on the rule for all its conditions), and
//! optionally `not = true` to invert it. A rule whose field is absent from a finding does not
//! match it (unless the condition is negated).
//!
//! ```toml
//! # The QFunction seed's example: Edge's updater is noisy and benign.
//! [[rule]]
//! name = "edge updater"
//! detector = "cmdline"
//! match."process.command_line" = { contains = "msedge.exe" }
//!
//! # Better: as specific as you can say it — executable, parent and account.
//! [[rule]]
//! name = "edge update task as SYSTEM"
//! ignore_case = true
//! match."process.executable" = { glob = 'C:\Program Files*\Microsoft\EdgeUpdate\*' }
//! match."process.parent.name" = { equals = "svchost.exe" }
//! match."user.name" = { equals = ["SYSTEM", "LOCAL SERVICE"] }
//! ```

use crate::finding::Finding;
use regex::Regex;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Errors reading a rules file.
#[derive(Debug, thiserror::Error)]
pub enum ExcludeError {
    /// The file could not be read.
    #[error("cannot read exclusion rules {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML is malformed.
    #[error("exclusion rules {path}: {message}")]
    Syntax {
        /// The file.
        path: String,
        /// The parser's message (with line and column).
        message: String,
    },
    /// A rule is invalid.
    #[error("exclusion rules {path}, rule {rule:?}: {message}")]
    Rule {
        /// The file.
        path: String,
        /// The rule's name.
        rule: String,
        /// What is wrong.
        message: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    rule: Vec<RuleSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    name: String,
    #[serde(default)]
    detector: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    ignore_case: bool,
    #[serde(rename = "match", default)]
    conditions: BTreeMap<String, ConditionSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConditionSpec {
    equals: Option<OneOrMany>,
    contains: Option<String>,
    regex: Option<String>,
    glob: Option<String>,
    ignore_case: Option<bool>,
    #[serde(default)]
    not: bool,
}

#[derive(Debug, Clone)]
enum Test {
    Equals(Vec<String>),
    Contains(String),
    Pattern(Regex),
    Glob(globset::GlobMatcher),
}

/// One condition on one field.
#[derive(Debug, Clone)]
pub struct Condition {
    field: String,
    test: Test,
    ignore_case: bool,
    negate: bool,
}

impl Condition {
    fn matches(&self, value: Option<&str>) -> bool {
        let hit = match value {
            None => false,
            Some(v) => match &self.test {
                Test::Equals(options) => options.iter().any(|o| {
                    if self.ignore_case {
                        o.to_lowercase() == v.to_lowercase()
                    } else {
                        o == v
                    }
                }),
                Test::Contains(needle) => {
                    if self.ignore_case {
                        v.to_lowercase().contains(&needle.to_lowercase())
                    } else {
                        v.contains(needle.as_str())
                    }
                }
                Test::Pattern(re) => re.is_match(v),
                Test::Glob(g) => g.is_match(v),
            },
        };
        hit != self.negate
    }
}

/// A named exclusion rule.
#[derive(Debug, Clone)]
pub struct Exclusion {
    /// Rule name (reported in summaries).
    pub name: String,
    /// Only findings of this detector, if set.
    pub detector: Option<String>,
    /// Why it is benign (documentation).
    pub reason: Option<String>,
    conditions: Vec<Condition>,
}

impl Exclusion {
    /// Whether the rule suppresses `finding`.
    pub fn matches(&self, finding: &Finding) -> bool {
        if let Some(d) = &self.detector {
            if !d.eq_ignore_ascii_case(&finding.detector) {
                return false;
            }
        }
        self.conditions
            .iter()
            .all(|c| c.matches(finding.field(&c.field)))
    }

    /// The fields this rule looks at.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.conditions.iter().map(|c| c.field.as_str())
    }
}

/// A set of exclusion rules.
#[derive(Debug, Clone, Default)]
pub struct Exclusions {
    rules: Vec<Exclusion>,
}

impl Exclusions {
    /// No rules.
    pub fn none() -> Self {
        Exclusions::default()
    }

    /// Reads a rules file.
    pub fn load(path: &Path) -> Result<Self, ExcludeError> {
        let text = std::fs::read_to_string(path).map_err(|source| ExcludeError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Exclusions::parse(&text, &path.display().to_string())
    }

    /// Reads rules from TOML text; `origin` names the text in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, ExcludeError> {
        let file: RulesFile = toml::from_str(text).map_err(|e| ExcludeError::Syntax {
            path: origin.to_string(),
            message: e.to_string().trim().to_string(),
        })?;
        let mut rules = Vec::with_capacity(file.rule.len());
        for spec in file.rule {
            let fail = |message: String| ExcludeError::Rule {
                path: origin.to_string(),
                rule: spec.name.clone(),
                message,
            };
            if spec.conditions.is_empty() {
                return Err(fail(
                    "has no conditions; a rule without `match` would suppress everything".into(),
                ));
            }
            let mut conditions = Vec::new();
            for (field, c) in &spec.conditions {
                let ignore_case = c.ignore_case.unwrap_or(spec.ignore_case);
                let given = [
                    c.equals.is_some(),
                    c.contains.is_some(),
                    c.regex.is_some(),
                    c.glob.is_some(),
                ]
                .iter()
                .filter(|&&b| b)
                .count();
                if given != 1 {
                    return Err(fail(format!(
                        "field {field:?}: give exactly one of equals, contains, regex, glob"
                    )));
                }
                let test = if let Some(e) = &c.equals {
                    Test::Equals(match e {
                        OneOrMany::One(s) => vec![s.clone()],
                        OneOrMany::Many(v) => v.clone(),
                    })
                } else if let Some(s) = &c.contains {
                    Test::Contains(s.clone())
                } else if let Some(r) = &c.regex {
                    let re = regex::RegexBuilder::new(r)
                        .case_insensitive(ignore_case)
                        .build()
                        .map_err(|e| fail(format!("field {field:?}: bad regex: {e}")))?;
                    Test::Pattern(re)
                } else if let Some(g) = &c.glob {
                    let glob = globset::GlobBuilder::new(g)
                        .case_insensitive(ignore_case)
                        .literal_separator(false)
                        .backslash_escape(false)
                        .build()
                        .map_err(|e| fail(format!("field {field:?}: bad glob: {e}")))?;
                    Test::Glob(glob.compile_matcher())
                } else {
                    unreachable!("exactly one test is present")
                };
                conditions.push(Condition {
                    field: field.clone(),
                    test,
                    ignore_case,
                    negate: c.not,
                });
            }
            rules.push(Exclusion {
                name: spec.name.clone(),
                detector: spec.detector.clone(),
                reason: spec.reason.clone(),
                conditions,
            });
        }
        Ok(Exclusions { rules })
    }

    /// The rules.
    pub fn rules(&self) -> &[Exclusion] {
        &self.rules
    }

    /// The first rule that suppresses `finding`.
    pub fn first_match(&self, finding: &Finding) -> Option<&Exclusion> {
        self.rules.iter().find(|r| r.matches(finding))
    }

    /// Marks suppressed findings (`excluded_by`) and returns how many each rule suppressed,
    /// in rule order.
    pub fn apply(&self, findings: &mut [Finding]) -> Vec<(String, usize)> {
        let mut counts = vec![0usize; self.rules.len()];
        for f in findings.iter_mut() {
            if let Some(i) = self.rules.iter().position(|r| r.matches(f)) {
                f.excluded_by = Some(self.rules[i].name.clone());
                counts[i] += 1;
            }
        }
        self.rules
            .iter()
            .zip(counts)
            .map(|(r, n)| (r.name.clone(), n))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Measure, Scored, Severity};

    fn finding(detector: &str, fields: &[(&str, &str)]) -> Finding {
        let mut s = Scored::new("x", 1.0, Measure::new("m", 1.0));
        for (k, v) in fields {
            s.context.insert(k.to_string(), v.to_string());
        }
        Finding::new(detector, s, 0.5, true, Severity::Low)
    }

    const RULES: &str = r#"
[[rule]]
name = "edge updater"
detector = "cmdline"
match."process.command_line" = { contains = "msedge.exe" }

[[rule]]
name = "specific"
ignore_case = true
match."process.executable" = { glob = 'C:\Program Files*\Tool\*.exe' }
match."process.parent.name" = { equals = "svchost.exe" }
match."user.name" = { equals = ["SYSTEM", "LOCAL SERVICE"] }

[[rule]]
name = "not admins"
match."user.name" = { regex = "^adm", not = true }
match."host.name" = { equals = "lab-1" }
"#;

    #[test]
    fn rules_match_as_written() {
        let rules = Exclusions::parse(RULES, "test").unwrap();
        let edge = finding(
            "cmdline",
            &[(
                "process.command_line",
                r#""C:\x\msedge.exe" --type=renderer"#,
            )],
        );
        assert_eq!(rules.first_match(&edge).unwrap().name, "edge updater");
        // Same command line, other detector: the rule is scoped.
        let other = finding("masquerade", &[("process.command_line", "msedge.exe")]);
        assert!(rules.first_match(&other).is_none());

        let specific = finding(
            "cmdline",
            &[
                ("process.executable", r"c:\program files (x86)\tool\run.exe"),
                ("process.parent.name", "SVCHOST.EXE"),
                ("user.name", "system"),
            ],
        );
        assert_eq!(rules.first_match(&specific).unwrap().name, "specific");
        // One condition off (another user) and the specific rule no longer applies.
        let mut by_user = specific.clone();
        by_user
            .scored
            .context
            .insert("user.name".into(), "alice".into());
        assert!(rules.first_match(&by_user).is_none());

        let negated = finding("dns", &[("user.name", "bob"), ("host.name", "lab-1")]);
        assert_eq!(rules.first_match(&negated).unwrap().name, "not admins");
        let admin = finding("dns", &[("user.name", "admin1"), ("host.name", "lab-1")]);
        assert!(rules.first_match(&admin).is_none());

        let mut all = vec![edge, specific, admin];
        let counts = rules.apply(&mut all);
        assert_eq!(
            counts,
            vec![
                ("edge updater".to_string(), 1),
                ("specific".to_string(), 1),
                ("not admins".to_string(), 0)
            ]
        );
        assert!(all[2].excluded_by.is_none());
    }

    #[test]
    fn bad_rules_are_reported() {
        for (text, needle) in [
            ("[[rule]]\nname='a'\n", "no conditions"),
            (
                "[[rule]]\nname='a'\nmatch.x = { regex = '(' }\n",
                "bad regex",
            ),
            (
                "[[rule]]\nname='a'\nmatch.x = { equals = 'a', contains = 'b' }\n",
                "exactly one",
            ),
            (
                "[[rule]]\nname='a'\nmatch.x = { eq = 'a' }\n",
                "unknown field",
            ),
            ("[[rule]\n", "exclusion rules"),
        ] {
            let err = Exclusions::parse(text, "rules.toml")
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{err}");
        }
    }
}
