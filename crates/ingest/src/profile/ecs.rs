//! The field-name profile: records whose keys already are oddhunt field names.
//!
//! Keys that are an oddhunt [`Field`] name — its Elastic Common Schema name
//! (`process.command_line`, nested or dotted) or short alias (`command_line`, `user`, `host`,
//! `image`, `parent_process_name`, `domain_name`, `username`, ...) — map to that field. This
//! reads oddhunt's own JSON-lines output back, Elastic documents, and any CSV whose header (or
//! `--columns`) uses these names, such as the QFunction SIEM export
//! (`--columns command_line,parent_process_name,domain_name,username`). The kind comes from an
//! `event.kind` key, else from the fields present (a command line means a process start, a DNS
//! question a DNS query, ...). Time: `@timestamp`, `timestamp`, `time`, `ts`,
//! `TimeGenerated`. Parameters: `params`/`parameters`.

use super::{params_from, parse_time, Context, Out, Profile, Reject};
use crate::record::{NodeId, Record, ValueKind};
use oddhunt_core::{EventKind, Field};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Field(Field),
    Kind,
    Time,
    Params,
}

fn target_of(path: &str) -> Option<Target> {
    let lower = path.to_ascii_lowercase();
    match lower.as_str() {
        "event.kind" | "kind" | "event_kind" => Some(Target::Kind),
        "@timestamp" | "timestamp" | "time" | "ts" | "timegenerated" => Some(Target::Time),
        "params" | "parameters" => Some(Target::Params),
        _ => Field::from_name(&lower).map(Target::Field),
    }
}

/// Per schema: which node (by position) is which target.
#[derive(Clone, Default)]
struct Resolution {
    keys: Vec<String>,
    targets: Vec<(NodeId, Target)>,
    kind: Option<EventKind>,
}

#[derive(Clone)]
pub(crate) struct Ecs {
    resolution: Resolution,
    path: String,
}

impl Ecs {
    pub(crate) fn new() -> Self {
        Ecs {
            resolution: Resolution::default(),
            path: String::new(),
        }
    }

    /// Whether the cached resolution is for this record's schema.
    fn same_schema(&self, record: &Record) -> bool {
        record.len() == self.resolution.keys.len()
            && record
                .ids()
                .zip(&self.resolution.keys)
                .all(|(id, key)| record.key(id) == key)
    }

    fn resolve(&mut self, record: &Record) {
        if self.same_schema(record) {
            return;
        }
        let mut resolution = Resolution {
            keys: record.ids().map(|id| record.key(id).to_string()).collect(),
            ..Resolution::default()
        };
        for id in record.top_level() {
            self.walk(record, id, &mut resolution.targets);
        }
        resolution.kind = infer_kind(&resolution.targets);
        self.resolution = resolution;
    }

    fn walk(&mut self, record: &Record, id: NodeId, targets: &mut Vec<(NodeId, Target)>) {
        let mark = self.path.len();
        if !self.path.is_empty() {
            self.path.push('.');
        }
        self.path.push_str(record.key(id));
        match target_of(&self.path) {
            Some(target) => targets.push((id, target)),
            None if record.kind(id) == ValueKind::Object => {
                for child in record.children(id) {
                    self.walk(record, child, targets);
                }
            }
            None => {}
        }
        self.path.truncate(mark);
    }
}

fn infer_kind(targets: &[(NodeId, Target)]) -> Option<EventKind> {
    let has = |f: Field| targets.iter().any(|(_, t)| *t == Target::Field(f));
    if has(Field::CommandLine) || has(Field::ProcessPath) || has(Field::ProcessName) {
        Some(EventKind::ProcessStart)
    } else if has(Field::Query) {
        Some(EventKind::DnsQuery)
    } else if has(Field::Operation) {
        Some(EventKind::Command)
    } else if has(Field::Method) || (has(Field::Url) && has(Field::Status)) {
        Some(EventKind::HttpRequest)
    } else if has(Field::DestinationIp) || has(Field::DestinationPort) {
        Some(EventKind::NetworkConnection)
    } else {
        None
    }
}

impl Profile for Ecs {
    fn clone_box(&self) -> Box<dyn Profile> {
        Box::new(self.clone())
    }

    fn matches(&mut self, record: &Record, _context: &Context) -> bool {
        self.resolve(record);
        self.resolution.kind.is_some()
            || self
                .resolution
                .targets
                .iter()
                .any(|(_, t)| *t == Target::Kind)
    }

    fn map(
        &mut self,
        record: &mut Record,
        _context: &Context,
        out: &mut Out,
    ) -> Result<(), Reject> {
        self.resolve(record);
        let mut kind = self.resolution.kind;
        let mut time_seen = None;
        for &(id, target) in &self.resolution.targets {
            match target {
                Target::Field(field) => out.set_node(record, field, id),
                Target::Kind => {
                    out.mark_tree(record, id);
                    if let Some(k) = record.value(id).and_then(EventKind::from_name) {
                        kind = Some(k);
                    }
                }
                Target::Time => {
                    out.mark_tree(record, id);
                    if time_seen.is_none() {
                        time_seen = record.value(id).and_then(super::present).map(|v| (id, v));
                    }
                }
                Target::Params => {
                    out.mark_tree(record, id);
                }
            }
        }
        let Some(kind) = kind else {
            return Err(Reject::NotMapped(
                super::not_mapped("unrecognised record"),
                "no kind".into(),
            ));
        };
        out.kind(kind);
        match time_seen {
            Some((id, text)) => match parse_time(text) {
                Some(t) => out.time(Some(t)),
                None => out.warn(
                    "unreadable time",
                    format!(
                        "field {}: cannot read {:?} as a time",
                        record.key(id),
                        crate::error::excerpt(text)
                    ),
                ),
            },
            None => out.warn("no time", "no @timestamp, timestamp or time value".into()),
        }
        let params: Vec<NodeId> = self
            .resolution
            .targets
            .iter()
            .filter(|(_, t)| *t == Target::Params)
            .map(|(id, _)| *id)
            .collect();
        for id in params {
            if let Some(container) = record.expand_json(id) {
                params_from(record, container, out);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve() {
        assert_eq!(
            target_of("command_line"),
            Some(Target::Field(Field::CommandLine))
        );
        assert_eq!(
            target_of("process.command_line"),
            Some(Target::Field(Field::CommandLine))
        );
        assert_eq!(
            target_of("parent_process_name"),
            Some(Target::Field(Field::ParentName))
        );
        assert_eq!(target_of("domain_name"), Some(Target::Field(Field::Domain)));
        assert_eq!(target_of("username"), Some(Target::Field(Field::User)));
        assert_eq!(target_of("@timestamp"), Some(Target::Time));
        assert_eq!(target_of("event.kind"), Some(Target::Kind));
        assert_eq!(target_of("label"), None);
    }
}
