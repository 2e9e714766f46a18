//! `--map`: the user's own mapping from a source's fields to an event, for sources no built-in
//! profile knows.
//!
//! Syntax: `kind=<kind>,<field>=<path>,...` where `<kind>` is `process`, `network`, `dns`,
//! `http` or `command` (or a full kind name), `<field>` an oddhunt field name (ECS name or
//! short alias, see [`Field::from_name`]), `time`, or `params`, and `<path>` a column name or a
//! dotted JSON path (`winlog.event_data.CommandLine`). Example:
//! `kind=process,command_line=CmdLine,user=Account,host=Computer,time=TimeGenerated`.
//! `params` names a JSON object (members become parameters) or a `[{Name, Value}]` array, also
//! when held as JSON text in a CSV cell. A mapping replaces the automatic profiles.

use crate::profile::{params_from, parse_time, Out, Reject};
use crate::record::{Key, Record};
use crate::IngestError;
use oddhunt_core::{EventKind, Field};

/// A parsed `--map` specification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// The kind of every event.
    pub kind: EventKind,
    /// `(field, source path)` pairs in the order given.
    pub fields: Vec<(Field, String)>,
    /// Source path of the time, if mapped.
    pub time: Option<String>,
    /// Source path of the parameters, if mapped.
    pub params: Option<String>,
}

impl Mapping {
    /// Parses `kind=process,command_line=CmdLine,...`.
    pub fn parse(spec: &str) -> Result<Mapping, IngestError> {
        let error = |message: String| IngestError::Mapping {
            spec: spec.to_string(),
            message,
        };
        let mut kind = None;
        let mut fields: Vec<(Field, String)> = Vec::new();
        let mut time = None;
        let mut params = None;
        for item in spec.split(',') {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            let (name, path) = item
                .split_once('=')
                .ok_or_else(|| error(format!("{item:?} is not name=path")))?;
            let (name, path) = (name.trim(), path.trim());
            if path.is_empty() {
                return Err(error(format!("{name} has no source path")));
            }
            match name.to_ascii_lowercase().as_str() {
                "kind" => {
                    let k = EventKind::from_name(path).ok_or_else(|| {
                        error(format!(
                            "unknown kind {path:?} (expected process, network, dns, http or command)"
                        ))
                    })?;
                    if kind.replace(k).is_some() {
                        return Err(error("kind given twice".into()));
                    }
                }
                "time" | "@timestamp" | "timestamp" => {
                    if time.replace(path.to_string()).is_some() {
                        return Err(error("time given twice".into()));
                    }
                }
                "params" | "parameters" => {
                    if params.replace(path.to_string()).is_some() {
                        return Err(error("params given twice".into()));
                    }
                }
                _ => {
                    let field = Field::from_name(name)
                        .ok_or_else(|| error(format!("unknown field {name:?}")))?;
                    if fields.iter().any(|(f, _)| *f == field) {
                        return Err(error(format!("field {name} given twice")));
                    }
                    fields.push((field, path.to_string()));
                }
            }
        }
        let kind = kind
            .ok_or_else(|| error("kind=<process|network|dns|http|command> is required".into()))?;
        if fields.is_empty() && params.is_none() {
            return Err(error("no field is mapped".into()));
        }
        Ok(Mapping {
            kind,
            fields,
            time,
            params,
        })
    }
}

impl std::str::FromStr for Mapping {
    type Err = IngestError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Mapping::parse(s)
    }
}

/// A mapping with its lookup keys (one per worker thread).
#[derive(Clone)]
pub(crate) struct MappingProfile {
    kind: EventKind,
    fields: Vec<(Field, Key)>,
    time: Option<Key>,
    params: Option<Key>,
}

impl MappingProfile {
    pub(crate) fn new(mapping: &Mapping) -> Self {
        MappingProfile {
            kind: mapping.kind,
            fields: mapping
                .fields
                .iter()
                .map(|(f, p)| (*f, Key::new(p)))
                .collect(),
            time: mapping.time.as_deref().map(Key::new),
            params: mapping.params.as_deref().map(Key::new),
        }
    }

    pub(crate) fn map(&mut self, record: &mut Record, out: &mut Out) -> Result<(), Reject> {
        out.kind(self.kind);
        let mut found = 0;
        for (field, key) in &self.fields {
            if let Some(id) = record.find_deep(key) {
                out.set_node(record, *field, id);
                found += 1;
            }
        }
        if let Some(key) = &self.params {
            if let Some(id) = record.find_deep(key) {
                out.mark_tree(record, id);
                if let Some(container) = record.expand_json(id) {
                    params_from(record, container, out);
                    found += 1;
                }
            }
        }
        if found == 0 {
            return Err(Reject::NotMapped(
                crate::profile::not_mapped("no mapped field present"),
                format!("record has fields {}", record.describe_keys(8)),
            ));
        }
        if let Some(key) = &self.time {
            match record.find_deep(key) {
                Some(id) => {
                    out.mark_tree(record, id);
                    match record.value(id).map(|v| (v, parse_time(v))) {
                        Some((_, Some(t))) => out.time(Some(t)),
                        Some((text, None)) => {
                            let detail = format!(
                                "field {}: cannot read {:?} as a time",
                                key.path(),
                                crate::error::excerpt(text)
                            );
                            out.warn("unreadable time", detail)
                        }
                        None => out.warn("no time", format!("field {} is empty", key.path())),
                    }
                }
                None => out.warn("no time", format!("no field {}", key.path())),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let m = Mapping::parse(
            "kind=process,command_line=CmdLine,user=Account,host=Computer,time=TimeGenerated",
        )
        .unwrap();
        assert_eq!(m.kind, EventKind::ProcessStart);
        assert_eq!(
            m.fields,
            vec![
                (Field::CommandLine, "CmdLine".to_string()),
                (Field::User, "Account".to_string()),
                (Field::Host, "Computer".to_string()),
            ]
        );
        assert_eq!(m.time.as_deref(), Some("TimeGenerated"));
        let m = Mapping::parse("kind=command, operation = Event Name , params=Request Parameters")
            .unwrap();
        assert_eq!(m.fields, vec![(Field::Operation, "Event Name".to_string())]);
        assert_eq!(m.params.as_deref(), Some("Request Parameters"));
    }

    #[test]
    fn rejects_bad_specs_with_a_reason() {
        for (spec, needle) in [
            ("command_line=CmdLine", "kind"),
            ("kind=banana,user=x", "unknown kind"),
            ("kind=process,colour=x", "unknown field"),
            ("kind=process,user", "not name=path"),
            ("kind=process,user=a,user=b", "twice"),
            ("kind=process", "no field"),
            ("kind=process,user=", "no source path"),
        ] {
            let err = Mapping::parse(spec).unwrap_err().to_string();
            assert!(err.contains(needle), "{spec}: {err}");
        }
    }
}
