//! Mapping profiles: from a decoded [`Record`] to an oddhunt [`Event`].
//!
//! A profile recognises one family of sources by its keys (EventID and channel for Windows,
//! `ts`/`uid` for Zeek, `eventName`/`eventSource` for CloudTrail, ...) and knows which of its
//! fields mean what. The [`Mapper`] picks the profile per record (trying the last one that
//! matched first, so a file of one schema costs one check per record), or uses the one the
//! user forced with `--profile`, or the user's `--map` [`Mapping`](crate::Mapping).
//!
//! Records no profile handles (a Security 4624 logon, a Zeek `ssl.log` line, a CSV without
//! recognisable columns) are reported as [`Mapped::NotMapped`] with a reason such as
//! `not mapped: Security 4624`: counted, never errors.

mod cloud;
mod ecs;
mod web;
pub(crate) mod windows;
mod zeek;

use crate::mapping::Mapping;
use crate::record::{Key, NodeId, Record, ValueKind};
use oddhunt_core::{Event, EventBuilder, EventKind, Field, Provenance, Timestamp};
use std::sync::Arc;

/// Names accepted by `--profile`.
pub const PROFILE_NAMES: &[&str] = &[
    "windows",
    "security-4688",
    "sysmon-1",
    "sysmon-3",
    "sysmon-22",
    "zeek",
    "zeek-dns",
    "zeek-http",
    "zeek-conn",
    "access",
    "w3c",
    "cloudtrail",
    "office",
    "aad",
    "ecs",
];

/// What a record became.
// The event is moved once, into its batch; boxing it would cost an allocation per event.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Mapped {
    /// An event.
    Event(Event),
    /// No profile maps this record: the reason (`not mapped: Security 4624`, shared by all
    /// records of that kind) and a detail (may be empty).
    NotMapped(Arc<str>, String),
    /// The record is malformed for its profile: reason (`wrong field type`) and detail.
    Malformed(String, String),
}

/// Why a profile did not produce an event.
#[derive(Clone, Debug)]
pub(crate) enum Reject {
    /// Not a record this profile maps: reason and detail (may be empty).
    NotMapped(Arc<str>, String),
    /// Malformed for this profile: reason and detail.
    Malformed(String, String),
}

impl From<Reject> for Mapped {
    fn from(reject: Reject) -> Mapped {
        match reject {
            Reject::NotMapped(reason, detail) => Mapped::NotMapped(reason, detail),
            Reject::Malformed(reason, detail) => Mapped::Malformed(reason, detail),
        }
    }
}

/// The source family, as the decoder knows it: decides which profiles are tried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    /// EVTX records (`System` + `EventData`).
    Evtx,
    /// A Zeek TSV log; its `#path` decides the log type.
    Zeek,
    /// Apache/Nginx access log.
    Access,
    /// IIS W3C extended log.
    W3c,
    /// JSON, CSV or TSV: any profile.
    Generic,
}

/// A defect of an event that was kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Warning {
    pub reason: &'static str,
    pub detail: String,
}

/// Everything a profile writes while mapping one record.
#[derive(Clone)]
pub(crate) struct Out {
    builder: EventBuilder,
    used: Vec<bool>,
    keep_extra: bool,
    pub(crate) warnings: Vec<Warning>,
    scratch: String,
}

impl Out {
    fn new(keep_extra: bool) -> Self {
        Out {
            builder: EventBuilder::new(EventKind::ProcessStart, Provenance::line(Arc::from(""), 0)),
            used: Vec::new(),
            keep_extra,
            warnings: Vec::new(),
            scratch: String::new(),
        }
    }

    fn begin(&mut self, record: &Record, provenance: Provenance) {
        self.builder.reset();
        self.builder.provenance(provenance);
        if self.keep_extra {
            self.used.clear();
            self.used.resize(record.len(), false);
        }
    }

    pub(crate) fn kind(&mut self, kind: EventKind) {
        self.builder.kind(kind);
    }

    fn mark(&mut self, id: NodeId) {
        if let Some(flag) = self.used.get_mut(id as usize) {
            *flag = true;
        }
    }

    /// A scalar value by key, marking it used; `None` when absent, null, empty or `-`.
    pub(crate) fn get<'r>(&mut self, record: &'r Record, key: &Key) -> Option<&'r str> {
        let id = record.find(key)?;
        self.mark(id);
        present(record.value(id)?)
    }

    /// The first present value among keys.
    pub(crate) fn first<'r>(&mut self, record: &'r Record, keys: &[Key]) -> Option<&'r str> {
        keys.iter().find_map(|k| self.get(record, k))
    }

    /// Sets a field from a value (absent, empty and `-` leave it unset).
    pub(crate) fn set(&mut self, field: Field, value: Option<&str>) {
        if let Some(v) = value.and_then(present) {
            self.builder.field(field, v);
        }
    }

    /// Sets a field from the first present key.
    pub(crate) fn set_from(&mut self, record: &Record, field: Field, keys: &[Key]) -> bool {
        match self.first(record, keys) {
            Some(v) => {
                self.builder.field(field, v);
                true
            }
            None => false,
        }
    }

    /// Sets a field from any node: scalars as text, arrays of scalars joined with `,`,
    /// containers as compact JSON.
    pub(crate) fn set_node(&mut self, record: &Record, field: Field, id: NodeId) {
        self.mark(id);
        self.scratch.clear();
        if record.text_of(id, &mut self.scratch) {
            let value = std::mem::take(&mut self.scratch);
            self.set(field, Some(&value));
            self.scratch = value;
        }
    }

    /// Adds an extra field the profile derived (only when extras are kept).
    pub(crate) fn extra_field(&mut self, key: &str, value: &str) {
        if self.keep_extra {
            self.builder.extra(key, value);
        }
    }

    pub(crate) fn param(&mut self, name: &str, value: Option<&str>) {
        self.builder.param(name, value);
    }

    /// Adds a parameter from a node: scalars as text, containers as compact JSON, null as none.
    pub(crate) fn param_node(&mut self, record: &Record, name: &str, id: NodeId) {
        self.scratch.clear();
        match record.kind(id) {
            ValueKind::Null => {
                self.builder.param(name, None);
            }
            ValueKind::Object | ValueKind::Array => {
                record.write_json(id, &mut self.scratch);
                let value = std::mem::take(&mut self.scratch);
                self.builder.param(name, Some(&value));
                self.scratch = value;
            }
            _ => {
                self.builder
                    .param(name, Some(record.value(id).unwrap_or("")));
            }
        }
    }

    /// Marks a node and its descendants used (not repeated in extra fields).
    pub(crate) fn mark_tree(&mut self, record: &Record, id: NodeId) {
        self.mark(id);
        let children: Vec<NodeId> = record.children(id).collect();
        for child in children {
            self.mark_tree(record, child);
        }
    }

    /// Sets the time from the first key whose value parses; warns when a value is present but
    /// unreadable, or when no key is present.
    pub(crate) fn time_from(&mut self, record: &Record, keys: &[Key]) {
        let mut bad: Option<String> = None;
        for key in keys {
            let Some(text) = self.get(record, key) else {
                continue;
            };
            match parse_time(text) {
                Some(t) => {
                    self.builder.time(Some(t));
                    return;
                }
                None => {
                    if bad.is_none() {
                        bad = Some(format!(
                            "field {}: cannot read {:?} as a time",
                            key.path(),
                            crate::error::excerpt(text)
                        ));
                    }
                }
            }
        }
        match bad {
            Some(detail) => self.warn("unreadable time", detail),
            None => {
                let names: Vec<&str> = keys.iter().map(Key::path).take(4).collect();
                self.warn("no time", format!("none of {} present", names.join(", ")))
            }
        }
    }

    pub(crate) fn time(&mut self, time: Option<Timestamp>) {
        self.builder.time(time);
    }

    pub(crate) fn warn(&mut self, reason: &'static str, detail: String) {
        self.warnings.push(Warning { reason, detail });
    }

    /// Finishes the event, adding unused source fields as extras when asked.
    fn finish(&mut self, record: &Record) -> Event {
        if self.keep_extra {
            let used = &self.used;
            let builder = &mut self.builder;
            record.for_each_leaf(
                &|id| used.get(id as usize).copied().unwrap_or(false),
                &mut |k, v| {
                    // Empty values (`<Correlation/>`, Zeek's `(empty)`) say nothing worth showing.
                    if !k.is_empty() && !v.is_empty() {
                        builder.extra(k, v);
                    }
                },
            );
        }
        self.builder.build()
    }
}

/// The interned reason `not mapped: <what>`. A log of millions of Security 4624 records repeats
/// one reason; building it once per thread saves a formatted string per record.
pub(crate) fn not_mapped(what: &str) -> Arc<str> {
    thread_local! {
        static REASONS: std::cell::RefCell<Vec<(Box<str>, Arc<str>)>> =
            const { std::cell::RefCell::new(Vec::new()) };
    }
    REASONS.with(|cell| {
        let mut reasons = cell.borrow_mut();
        if let Some((_, reason)) = reasons.iter().find(|(w, _)| **w == *what) {
            return Arc::clone(reason);
        }
        let reason: Arc<str> = if what.starts_with("not mapped") {
            Arc::from(what)
        } else {
            Arc::from(format!("not mapped: {what}"))
        };
        if reasons.len() >= 256 {
            reasons.clear();
        }
        reasons.push((what.into(), Arc::clone(&reason)));
        reason
    })
}

/// `None` for empty text and the `-` that Windows, Zeek and web servers write for "no value".
pub(crate) fn present(value: &str) -> Option<&str> {
    // Nearly every value starts and ends with a visible ASCII character.
    if let (Some(&first), Some(&last)) = (value.as_bytes().first(), value.as_bytes().last()) {
        if first.is_ascii_graphic() && last.is_ascii_graphic() && value != "-" {
            return Some(value);
        }
    }
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed == "-" {
        None
    } else {
        Some(value)
    }
}

/// Reads a time as logs write it; epoch seconds keep their full precision.
pub(crate) fn parse_time(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if text.bytes().all(|b| b.is_ascii_digit() || b == b'.') && text.contains('.') {
        if let Ok(t) = Timestamp::parse_epoch_seconds(text) {
            return Some(t);
        }
    }
    Timestamp::parse(text).ok()
}

/// A decimal process id from decimal or `0x` hex text (4688 writes hex, Sysmon decimal).
pub(crate) fn decimal_id(text: &str) -> Option<String> {
    let text = text.trim();
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        return u64::from_str_radix(hex, 16).ok().map(|v| v.to_string());
    }
    text.parse::<u64>().ok().map(|v| v.to_string())
}

/// Parameters from `[{Name, Value}]` (either key case; `key`/`value` too) or from an object's
/// members, in source order.
pub(crate) fn params_from(record: &Record, container: NodeId, out: &mut Out) {
    match record.kind(container) {
        ValueKind::Array => {
            for element in record.children(container) {
                if record.kind(element) != ValueKind::Object {
                    continue;
                }
                let name = record
                    .child_ignore_case(element, "Name")
                    .or_else(|| record.child_ignore_case(element, "key"))
                    .and_then(|id| record.value(id));
                let Some(name) = name else {
                    continue;
                };
                match record.child_ignore_case(element, "Value") {
                    Some(value) => out.param_node(record, name, value),
                    None => out.param(name, None),
                }
            }
        }
        ValueKind::Object => {
            for child in record.children(container) {
                out.param_node(record, record.key(child), child);
            }
        }
        _ => {}
    }
}

/// Makes the keys for a list of paths.
pub(crate) fn keys(paths: &[&str]) -> Vec<Key> {
    paths.iter().map(|p| Key::new(p)).collect()
}

/// One profile: recognises records and maps them.
pub(crate) trait Profile: Send + Sync {
    /// A copy for another worker thread.
    fn clone_box(&self) -> Box<dyn Profile>;
    /// Whether this profile handles the record (cheap: a few key lookups).
    fn matches(&mut self, record: &Record, context: &Context) -> bool;
    /// Maps the record (after `matches`, or forced).
    /// Maps the record (after `matches`, or forced): `Ok` when the event in `out` is ready.
    fn map(&mut self, record: &mut Record, context: &Context, out: &mut Out) -> Result<(), Reject>;
}

/// What the decoder knows about the source beyond the record.
#[derive(Clone, Debug, Default)]
pub(crate) struct Context {
    /// Zeek `#path` (`dns`, `http`, `conn`), when the decoder read one.
    pub zeek_path: Option<Arc<str>>,
}

impl Clone for Box<dyn Profile> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// Maps records of one source to events. Each worker thread owns one (its lookup keys cache
/// per-schema positions).
#[derive(Clone)]
pub struct Mapper {
    family: Family,
    profiles: Vec<Box<dyn Profile>>,
    last: usize,
    forced: bool,
    forced_by_user: bool,
    mapping: Option<crate::mapping::MappingProfile>,
    out: Out,
    pub(crate) context: Context,
}

impl Mapper {
    /// A mapper for a source family with the run's options.
    pub(crate) fn new(
        family: Family,
        mapping: Option<&Mapping>,
        profile: Option<&str>,
        keep_extra: bool,
    ) -> Result<Self, crate::IngestError> {
        let mut profiles: Vec<Box<dyn Profile>> = Vec::new();
        let mut forced;
        if let Some(name) = profile {
            forced = true;
            let name = name.to_ascii_lowercase();
            let p: Box<dyn Profile> = match name.as_str() {
                "windows" => {
                    forced = false;
                    Box::new(windows::Windows::new(None))
                }
                "security-4688" => {
                    Box::new(windows::Windows::new(Some(windows::Forced::Security4688)))
                }
                "sysmon-1" => Box::new(windows::Windows::new(Some(windows::Forced::Sysmon(1)))),
                "sysmon-3" => Box::new(windows::Windows::new(Some(windows::Forced::Sysmon(3)))),
                "sysmon-22" => Box::new(windows::Windows::new(Some(windows::Forced::Sysmon(22)))),
                "zeek" => {
                    forced = false;
                    Box::new(zeek::Zeek::new(None))
                }
                "zeek-dns" => Box::new(zeek::Zeek::new(Some(zeek::LogType::Dns))),
                "zeek-http" => Box::new(zeek::Zeek::new(Some(zeek::LogType::Http))),
                "zeek-conn" => Box::new(zeek::Zeek::new(Some(zeek::LogType::Conn))),
                "access" => Box::new(web::Access::new()),
                "w3c" => Box::new(web::W3c::new()),
                "cloudtrail" => Box::new(cloud::CloudTrail::new()),
                "office" => Box::new(cloud::Office::new()),
                "aad" => Box::new(cloud::Aad::new()),
                "ecs" => Box::new(ecs::Ecs::new()),
                _ => return Err(crate::IngestError::UnknownProfile(name)),
            };
            profiles.push(p);
        } else {
            // A family with one profile maps every record with it (an access log in a custom
            // format may lack the fields `matches` looks for).
            forced = family != Family::Generic;
            match family {
                Family::Evtx => profiles.push(Box::new(windows::Windows::new(None))),
                Family::Zeek => profiles.push(Box::new(zeek::Zeek::new(None))),
                Family::Access => profiles.push(Box::new(web::Access::new())),
                Family::W3c => profiles.push(Box::new(web::W3c::new())),
                Family::Generic => {
                    profiles.push(Box::new(windows::Windows::new(None)));
                    profiles.push(Box::new(zeek::Zeek::new(None)));
                    profiles.push(Box::new(cloud::CloudTrail::new()));
                    profiles.push(Box::new(cloud::Office::new()));
                    profiles.push(Box::new(cloud::Aad::new()));
                    profiles.push(Box::new(web::Access::new()));
                    profiles.push(Box::new(web::W3c::new()));
                    profiles.push(Box::new(ecs::Ecs::new()));
                }
            }
        }
        Ok(Mapper {
            family,
            profiles,
            last: 0,
            forced_by_user: profile.is_some(),
            forced,
            mapping: mapping.map(crate::mapping::MappingProfile::new),
            out: Out::new(keep_extra),
            context: Context::default(),
        })
    }

    /// Whether records can be rejected from their event id, channel and provider alone (EVTX
    /// with the automatic Windows profile): lets the EVTX decoder skip reading records no
    /// profile maps.
    pub(crate) fn windows_prefilter(&self) -> bool {
        self.family == Family::Evtx && self.mapping.is_none() && !self.forced_by_user
    }

    /// The EVTX fields the automatic Windows profile reads, when it keeps no extra fields: the
    /// EVTX decoder then skips the others.
    pub(crate) fn evtx_fields(&self) -> Option<&'static crate::decode::evtx_xml::Wanted> {
        (self.windows_prefilter() && !self.out.keep_extra).then(windows::wanted_evtx_fields)
    }

    /// Warnings about the last mapped record (drained by the caller).
    pub(crate) fn take_warnings(&mut self) -> std::vec::Drain<'_, Warning> {
        self.out.warnings.drain(..)
    }

    /// Maps one record.
    pub fn map(&mut self, record: &mut Record, provenance: Provenance) -> Mapped {
        self.out.warnings.clear();
        self.out.begin(record, provenance);
        if let Some(mapping) = self.mapping.as_mut() {
            return match mapping.map(record, &mut self.out) {
                Ok(()) => Mapped::Event(self.out.finish(record)),
                Err(reject) => reject.into(),
            };
        }
        let chosen = if self.forced {
            Some(0)
        } else {
            let n = self.profiles.len();
            let last = self.last;
            (0..n)
                .map(|i| (last + i) % n)
                .find(|&i| self.profiles[i].matches(record, &self.context))
        };
        let Some(index) = chosen else {
            return self.unrecognised(record);
        };
        self.last = index;
        match self.profiles[index].map(record, &self.context, &mut self.out) {
            Ok(()) => Mapped::Event(self.out.finish(record)),
            Err(reject) => reject.into(),
        }
    }

    fn unrecognised(&self, record: &Record) -> Mapped {
        let what = match self.family {
            Family::Evtx => "not mapped: unrecognised EVTX record",
            Family::Zeek => "not mapped: unrecognised Zeek log",
            Family::Access => "not mapped: unrecognised access-log line",
            Family::W3c => "not mapped: unrecognised W3C line",
            Family::Generic => "not mapped: unrecognised record",
        };
        Mapped::NotMapped(
            not_mapped(what),
            format!("no profile matches fields {}", record.describe_keys(8)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(present(" - "), None);
        assert_eq!(present("x"), Some("x"));
        assert_eq!(decimal_id("0x7d8").as_deref(), Some("2008"));
        assert_eq!(decimal_id("2008").as_deref(), Some("2008"));
        assert_eq!(decimal_id("zz"), None);
        assert_eq!(
            parse_time("1331901000.123456").map(|t| t.to_string()),
            Some("2012-03-16T12:30:00.123456Z".to_string())
        );
        assert_eq!(
            parse_time("13.184015").map(|t| t.unix_nanos()),
            Some(13_184_015_000)
        );
        assert!(parse_time("yesterday").is_none());
    }
}
