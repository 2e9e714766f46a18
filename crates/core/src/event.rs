//! Typed security events: what every decoder produces and every detector consumes.
//!
//! An [`Event`] is one of five kinds ([`EventKind`]) with well-known fields ([`Field`], named
//! after Elastic Common Schema so analysts recognise them), optional command parameters
//! ([`Param`], for `Command` events), the source's other fields kept for display, a UTC
//! timestamp and its [`Provenance`].
//!
//! Layout: all strings of an event live in one `String`; fields are `(offset, length)` spans into
//! it, held in a fixed array indexed by `Field`. Building an event therefore costs one string
//! allocation (plus one vector per event for parameters and extra fields when there are any),
//! not one per field, and reading a field is an array index.

use crate::time::Timestamp;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;
use std::sync::Arc;

/// What happened, in the analyst's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A process was created (Windows 4688, Sysmon 1, EDR process events).
    ProcessStart,
    /// A network connection was made (Sysmon 3, Zeek conn.log, firewall logs).
    NetworkConnection,
    /// A DNS question (Zeek dns.log, Sysmon 22, resolver logs).
    DnsQuery,
    /// An HTTP request (web server access logs, Zeek http.log, proxies).
    HttpRequest,
    /// An administrative command or API call with parameters (Exchange/Office admin
    /// operations, CloudTrail calls, shell commands).
    Command,
}

impl EventKind {
    /// Every kind, in display order.
    pub const ALL: [EventKind; 5] = [
        EventKind::ProcessStart,
        EventKind::NetworkConnection,
        EventKind::DnsQuery,
        EventKind::HttpRequest,
        EventKind::Command,
    ];

    /// The snake_case name used on the command line and in JSON (`process_start`, ...).
    pub fn name(self) -> &'static str {
        match self {
            EventKind::ProcessStart => "process_start",
            EventKind::NetworkConnection => "network_connection",
            EventKind::DnsQuery => "dns_query",
            EventKind::HttpRequest => "http_request",
            EventKind::Command => "command",
        }
    }

    /// Reads a kind from its name or a common alias (`process`, `network`, `dns`, `http`, `web`).
    pub fn from_name(name: &str) -> Option<EventKind> {
        Some(match name.to_ascii_lowercase().replace('-', "_").as_str() {
            "process_start" | "process" | "process_creation" => EventKind::ProcessStart,
            "network_connection" | "network" | "connection" | "conn" => {
                EventKind::NetworkConnection
            }
            "dns_query" | "dns" => EventKind::DnsQuery,
            "http_request" | "http" | "web" => EventKind::HttpRequest,
            "command" | "cmd" | "operation" | "api_call" => EventKind::Command,
            _ => return None,
        })
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

macro_rules! fields {
    ($( $(#[$doc:meta])* $variant:ident => $ecs:literal, $short:literal; )*) => {
        /// A well-known event field. `ecs_name` is its Elastic Common Schema name (used in JSON
        /// output, exclusion rules and `--map`); `short_name` is the snake_case alias.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Field {
            $( $(#[$doc])* $variant, )*
        }

        impl Field {
            /// Every field, in display order.
            pub const ALL: &'static [Field] = &[ $( Field::$variant, )* ];
            /// Number of fields.
            pub const COUNT: usize = Field::ALL.len();

            /// The Elastic Common Schema name, e.g. `process.command_line`.
            pub const fn ecs_name(self) -> &'static str {
                match self { $( Field::$variant => $ecs, )* }
            }

            /// The short alias, e.g. `command_line`.
            pub const fn short_name(self) -> &'static str {
                match self { $( Field::$variant => $short, )* }
            }
        }
    };
}

fields! {
    /// Host (computer) name.
    Host => "host.name", "host";
    /// The user's domain (Windows `SubjectDomainName`).
    Domain => "user.domain", "domain";
    /// User or actor name.
    User => "user.name", "user";
    /// Full path of the process executable.
    ProcessPath => "process.executable", "process_path";
    /// File name of the process executable.
    ProcessName => "process.name", "process_name";
    /// Process command line.
    CommandLine => "process.command_line", "command_line";
    /// Process id.
    ProcessId => "process.pid", "pid";
    /// Full path of the parent process executable.
    ParentPath => "process.parent.executable", "parent_path";
    /// File name of the parent executable.
    ParentName => "process.parent.name", "parent_name";
    /// Parent process command line.
    ParentCommandLine => "process.parent.command_line", "parent_command_line";
    /// Parent process id.
    ParentProcessId => "process.parent.pid", "ppid";
    /// Source (client) IP address.
    SourceIp => "source.ip", "source_ip";
    /// Source port.
    SourcePort => "source.port", "source_port";
    /// Destination IP address.
    DestinationIp => "destination.ip", "destination_ip";
    /// Destination port.
    DestinationPort => "destination.port", "destination_port";
    /// Destination host name when the source resolved it.
    DestinationHost => "destination.domain", "destination_host";
    /// Transport protocol (tcp, udp, ...).
    Transport => "network.transport", "transport";
    /// DNS question name.
    Query => "dns.question.name", "query";
    /// DNS question type (A, AAAA, TXT, ... or the number).
    QueryType => "dns.question.type", "query_type";
    /// DNS response code (NOERROR, NXDOMAIN, ...).
    ResponseCode => "dns.response_code", "rcode";
    /// DNS answers, comma-separated.
    Answers => "dns.answers", "answers";
    /// HTTP method.
    Method => "http.request.method", "method";
    /// Requested URI (path and query).
    Url => "url.original", "uri";
    /// HTTP status code.
    Status => "http.response.status_code", "status";
    /// Response body bytes.
    Bytes => "http.response.body.bytes", "bytes";
    /// HTTP referrer.
    Referrer => "http.request.referrer", "referrer";
    /// User agent string.
    UserAgent => "user_agent.original", "user_agent";
    /// Operation or API call name (Exchange cmdlet, CloudTrail eventName).
    Operation => "event.action", "operation";
    /// Service or provider that logged the operation (CloudTrail eventSource, Office workload).
    Provider => "event.provider", "provider";
    /// Source event code (4688, Sysmon 1, ...).
    EventCode => "event.code", "event_code";
    /// Outcome or error code of the operation.
    Outcome => "event.outcome", "outcome";
}

impl Field {
    /// Looks a field up by ECS name or short alias (case-insensitive).
    pub fn from_name(name: &str) -> Option<Field> {
        let lower = name.trim().to_ascii_lowercase();
        Field::ALL
            .iter()
            .copied()
            .find(|f| f.ecs_name() == lower || f.short_name() == lower)
            .or(match lower.as_str() {
                "computer" | "hostname" => Some(Field::Host),
                "username" | "account" | "actor" => Some(Field::User),
                "image" | "executable" | "new_process_name" => Some(Field::ProcessPath),
                "parent_image" | "parent_executable" => Some(Field::ParentPath),
                "parent_process_name" => Some(Field::ParentName),
                "domain_name" => Some(Field::Domain),
                "url" | "url.path" => Some(Field::Url),
                "client_ip" | "src_ip" | "ip" => Some(Field::SourceIp),
                "dst_ip" => Some(Field::DestinationIp),
                "qtype" => Some(Field::QueryType),
                _ => None,
            })
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.ecs_name())
    }
}

/// Where an event came from, so every finding leads back to the raw log.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Provenance {
    /// Source name: a file path, `-` for stdin, or a query description.
    pub source: Arc<str>,
    /// Position inside the source.
    pub locator: Locator,
    /// Byte offset of the record in the (decompressed) source, where cheap to know.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
}

/// Position of a record inside its source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Locator {
    /// 1-based line number of a text source (the record's first line).
    Line(u64),
    /// Record number: EVTX `EventRecordID`, or the 1-based index of an element in a JSON array.
    Record(u64),
}

impl Provenance {
    /// Provenance of a line of a text source.
    pub fn line(source: Arc<str>, line: u64) -> Self {
        Provenance {
            source,
            locator: Locator::Line(line),
            offset: None,
        }
    }

    /// Provenance of a numbered record.
    pub fn record(source: Arc<str>, record: u64) -> Self {
        Provenance {
            source,
            locator: Locator::Record(record),
            offset: None,
        }
    }

    /// The same provenance with a byte offset.
    pub fn with_offset(mut self, offset: u64) -> Self {
        self.offset = Some(offset);
        self
    }
}

impl fmt::Display for Provenance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.locator {
            Locator::Line(n) => write!(f, "{}:{}", self.source, n),
            Locator::Record(n) => write!(f, "{} record {}", self.source, n),
        }
    }
}

/// A byte range inside an event's text buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Span {
    start: u32,
    len: u32,
}

impl Span {
    const NONE: Span = Span {
        start: u32::MAX,
        len: 0,
    };

    fn is_none(self) -> bool {
        self.start == u32::MAX
    }
}

/// A parameter of a `Command` event: a name and, when the source gives one, a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Param<'a> {
    /// Parameter name.
    pub name: &'a str,
    /// Parameter value; `None` when the source gave none (or null).
    pub value: Option<&'a str>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct ParamSpan {
    name: Span,
    value: Span,
}

/// One security event. Build it with [`EventBuilder`].
#[derive(Clone, PartialEq, Eq)]
pub struct Event {
    kind: EventKind,
    time: Option<Timestamp>,
    provenance: Provenance,
    text: String,
    fields: [Span; Field::COUNT],
    params: Vec<ParamSpan>,
    extra: Vec<(Span, Span)>,
}

impl Event {
    /// The event's kind.
    pub fn kind(&self) -> EventKind {
        self.kind
    }

    /// When it happened (UTC), if the source said.
    pub fn time(&self) -> Option<Timestamp> {
        self.time
    }

    /// Where it came from.
    pub fn provenance(&self) -> &Provenance {
        &self.provenance
    }

    fn slice(&self, span: Span) -> Option<&str> {
        if span.is_none() {
            return None;
        }
        let start = span.start as usize;
        self.text.get(start..start + span.len as usize)
    }

    /// A well-known field, `None` when absent. Empty values are stored as absent.
    pub fn get(&self, field: Field) -> Option<&str> {
        self.slice(self.fields[field as usize])
    }

    /// Every present well-known field, in [`Field::ALL`] order.
    pub fn fields(&self) -> impl Iterator<Item = (Field, &str)> + '_ {
        Field::ALL
            .iter()
            .filter_map(move |&f| self.get(f).map(|v| (f, v)))
    }

    /// The command's parameters, in source order (empty for other kinds).
    pub fn params(&self) -> impl ExactSizeIterator<Item = Param<'_>> + '_ {
        self.params.iter().map(move |p| Param {
            name: self.slice(p.name).unwrap_or(""),
            value: self.slice(p.value),
        })
    }

    /// Number of parameters.
    pub fn param_count(&self) -> usize {
        self.params.len()
    }

    /// The source's other fields, in source order, kept for display.
    pub fn extra(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        self.extra
            .iter()
            .map(move |&(k, v)| (self.slice(k).unwrap_or(""), self.slice(v).unwrap_or("")))
    }

    /// One of the source's other fields by exact name.
    pub fn extra_field(&self, name: &str) -> Option<&str> {
        self.extra().find(|(k, _)| *k == name).map(|(_, v)| v)
    }

    /// Looks up a field by ECS name, short alias, or the name of an extra source field.
    pub fn lookup(&self, name: &str) -> Option<&str> {
        match Field::from_name(name) {
            Some(field) => self.get(field),
            None => self.extra_field(name),
        }
    }

    /// The process file name: the `process.name` field, else the last component of
    /// `process.executable` (Windows or POSIX separators).
    pub fn process_name(&self) -> Option<&str> {
        self.get(Field::ProcessName)
            .or_else(|| self.get(Field::ProcessPath).map(file_name))
    }

    /// The parent's file name, derived like [`Event::process_name`].
    pub fn parent_name(&self) -> Option<&str> {
        self.get(Field::ParentName)
            .or_else(|| self.get(Field::ParentPath).map(file_name))
    }

    /// HTTP status as a number.
    pub fn status(&self) -> Option<u16> {
        self.get(Field::Status).and_then(|s| s.trim().parse().ok())
    }

    /// Response bytes as a number (`-` reads as absent).
    pub fn bytes(&self) -> Option<u64> {
        self.get(Field::Bytes).and_then(|s| s.trim().parse().ok())
    }

    /// Approximate heap bytes held by this event (for memory accounting).
    pub fn heap_size(&self) -> usize {
        self.text.capacity()
            + self.params.capacity() * std::mem::size_of::<ParamSpan>()
            + self.extra.capacity() * std::mem::size_of::<(Span, Span)>()
    }
}

/// The last path component of a Windows or POSIX path.
pub fn file_name(path: &str) -> &str {
    let trimmed = path.trim_end_matches(['\\', '/']);
    match trimmed.rfind(['\\', '/']) {
        Some(i) => &trimmed[i + 1..],
        None => trimmed,
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Event");
        d.field("kind", &self.kind)
            .field("time", &self.time)
            .field("provenance", &self.provenance.to_string());
        for (field, value) in self.fields() {
            d.field(field.ecs_name(), &value);
        }
        if !self.params.is_empty() {
            let params: Vec<_> = self.params().map(|p| (p.name, p.value)).collect();
            d.field("params", &params);
        }
        if !self.extra.is_empty() {
            let extra: Vec<_> = self.extra().collect();
            d.field("extra", &extra);
        }
        d.finish()
    }
}

/// JSON shape: `{"@timestamp", "event.kind", <ECS fields>..., "params": [{name, value}],
/// "extra": {..}, "provenance": {..}}` — flat ECS keys so the output is easy to load into a SIEM.
impl Serialize for Event {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Params<'a>(&'a Event);
        impl Serialize for Params<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut seq = serializer.serialize_seq(Some(self.0.params.len()))?;
                for p in self.0.params() {
                    seq.serialize_element(&ParamJson {
                        name: p.name,
                        value: p.value,
                    })?;
                }
                seq.end()
            }
        }
        #[derive(Serialize)]
        struct ParamJson<'a> {
            name: &'a str,
            value: Option<&'a str>,
        }
        struct Extra<'a>(&'a Event);
        impl Serialize for Extra<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(self.0.extra.len()))?;
                for (k, v) in self.0.extra() {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }

        let mut map = serializer.serialize_map(None)?;
        if let Some(t) = self.time {
            map.serialize_entry("@timestamp", &t)?;
        }
        map.serialize_entry("event.kind", &self.kind)?;
        for (field, value) in self.fields() {
            map.serialize_entry(field.ecs_name(), value)?;
        }
        if !self.params.is_empty() {
            map.serialize_entry("params", &Params(self))?;
        }
        if !self.extra.is_empty() {
            map.serialize_entry("extra", &Extra(self))?;
        }
        map.serialize_entry("provenance", &self.provenance)?;
        map.end()
    }
}

/// Builds an [`Event`], appending every string to one buffer.
///
/// A builder can be reused with [`EventBuilder::reset`] to keep its buffer's capacity.
#[derive(Clone, Debug)]
pub struct EventBuilder {
    event: Event,
}

impl EventBuilder {
    /// Starts an event of `kind` from `provenance`.
    pub fn new(kind: EventKind, provenance: Provenance) -> Self {
        EventBuilder {
            event: Event {
                kind,
                time: None,
                provenance,
                text: String::new(),
                fields: [Span::NONE; Field::COUNT],
                params: Vec::new(),
                extra: Vec::new(),
            },
        }
    }

    /// Starts an event with room for `capacity` bytes of text.
    pub fn with_capacity(kind: EventKind, provenance: Provenance, capacity: usize) -> Self {
        let mut builder = EventBuilder::new(kind, provenance);
        builder.event.text.reserve(capacity);
        builder
    }

    fn push(&mut self, value: &str) -> Span {
        let start = self.event.text.len();
        // Events larger than 4 GiB cannot be represented; such a value is dropped (a decoder
        // limits record size far below this).
        if start + value.len() > u32::MAX as usize - 1 {
            return Span::NONE;
        }
        self.event.text.push_str(value);
        Span {
            start: start as u32,
            len: value.len() as u32,
        }
    }

    /// Sets the kind (a mapping may only know it after reading the record).
    pub fn kind(&mut self, kind: EventKind) -> &mut Self {
        self.event.kind = kind;
        self
    }

    /// Sets the timestamp.
    pub fn time(&mut self, time: Option<Timestamp>) -> &mut Self {
        self.event.time = time;
        self
    }

    /// Sets a well-known field. Empty values (after trimming) are treated as absent; a second
    /// call for the same field replaces the first.
    pub fn field(&mut self, field: Field, value: &str) -> &mut Self {
        if value.trim().is_empty() {
            self.event.fields[field as usize] = Span::NONE;
        } else {
            let span = self.push(value);
            self.event.fields[field as usize] = span;
        }
        self
    }

    /// Sets a field only if it is not yet set.
    pub fn field_if_absent(&mut self, field: Field, value: &str) -> &mut Self {
        if self.event.fields[field as usize].is_none() {
            self.field(field, value);
        }
        self
    }

    /// Whether a field is set.
    pub fn has(&self, field: Field) -> bool {
        !self.event.fields[field as usize].is_none()
    }

    /// Appends a command parameter.
    pub fn param(&mut self, name: &str, value: Option<&str>) -> &mut Self {
        let name = self.push(name);
        let value = match value {
            Some(v) => self.push(v),
            None => Span::NONE,
        };
        self.event.params.push(ParamSpan { name, value });
        self
    }

    /// Appends one of the source's other fields.
    pub fn extra(&mut self, key: &str, value: &str) -> &mut Self {
        let key = self.push(key);
        let value = self.push(value);
        self.event.extra.push((key, value));
        self
    }

    /// Replaces the provenance.
    pub fn provenance(&mut self, provenance: Provenance) -> &mut Self {
        self.event.provenance = provenance;
        self
    }

    /// Finishes the event, leaving the builder empty (same kind and provenance) for reuse.
    pub fn build(&mut self) -> Event {
        let mut text = String::with_capacity(self.event.text.len());
        text.push_str(&self.event.text);
        let event = Event {
            kind: self.event.kind,
            time: self.event.time,
            provenance: self.event.provenance.clone(),
            text,
            fields: self.event.fields,
            params: self.event.params.clone(),
            extra: self.event.extra.clone(),
        };
        self.reset();
        event
    }

    /// Finishes the event, giving its buffers away (no copy; the builder cannot be reused).
    pub fn finish(self) -> Event {
        self.event
    }

    /// Clears fields, params, extras and time, keeping the buffers' capacity.
    pub fn reset(&mut self) -> &mut Self {
        self.event.text.clear();
        self.event.fields = [Span::NONE; Field::COUNT];
        self.event.params.clear();
        self.event.extra.clear();
        self.event.time = None;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prov() -> Provenance {
        Provenance::line(Arc::from("test.log"), 7)
    }

    #[test]
    fn builds_and_reads_fields() {
        let mut b = EventBuilder::new(EventKind::ProcessStart, prov());
        b.time(Some(Timestamp::parse("2020-01-01T00:00:00Z").unwrap()))
            .field(Field::ProcessPath, r"C:\Windows\System32\cmd.exe")
            .field(Field::CommandLine, "cmd /c whoami")
            .field(Field::User, "")
            .extra("Channel", "Security");
        let e = b.build();
        assert_eq!(e.kind(), EventKind::ProcessStart);
        assert_eq!(e.get(Field::CommandLine), Some("cmd /c whoami"));
        assert_eq!(e.get(Field::User), None, "empty values are absent");
        assert_eq!(e.process_name(), Some("cmd.exe"));
        assert_eq!(e.extra_field("Channel"), Some("Security"));
        assert_eq!(e.lookup("process.command_line"), Some("cmd /c whoami"));
        assert_eq!(e.lookup("Channel"), Some("Security"));
        assert_eq!(e.provenance().to_string(), "test.log:7");
        // The builder is reusable and starts empty.
        b.field(Field::User, "bob");
        let e2 = b.build();
        assert_eq!(e2.get(Field::CommandLine), None);
        assert_eq!(e2.get(Field::User), Some("bob"));
    }

    #[test]
    fn params_keep_order_and_missing_values() {
        let mut b = EventBuilder::new(EventKind::Command, prov());
        b.field(Field::Operation, "Set-Mailbox")
            .param("Identity", Some("bob"))
            .param("Force", None)
            .param("Note", Some(""));
        let e = b.finish();
        let params: Vec<_> = e.params().map(|p| (p.name, p.value)).collect();
        assert_eq!(
            params,
            vec![
                ("Identity", Some("bob")),
                ("Force", None),
                ("Note", Some(""))
            ]
        );
    }

    #[test]
    fn json_uses_ecs_names() {
        let mut b = EventBuilder::new(EventKind::DnsQuery, prov());
        b.field(Field::Query, "a.example.com")
            .field(Field::SourceIp, "10.0.0.1");
        let json = serde_json::to_value(b.finish()).unwrap();
        assert_eq!(json["event.kind"], "dns_query");
        assert_eq!(json["dns.question.name"], "a.example.com");
        assert_eq!(json["source.ip"], "10.0.0.1");
        assert_eq!(json["provenance"]["locator"]["line"], 7);
    }

    #[test]
    fn field_names_resolve() {
        for &f in Field::ALL {
            assert_eq!(Field::from_name(f.ecs_name()), Some(f));
            assert_eq!(Field::from_name(f.short_name()), Some(f));
        }
        assert_eq!(Field::from_name("Image"), Some(Field::ProcessPath));
        assert_eq!(file_name("/usr/bin/curl"), "curl");
        assert_eq!(file_name("svchost.exe"), "svchost.exe");
    }
}
