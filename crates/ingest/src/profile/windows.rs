//! Windows event profiles: Security 4688 and Sysmon 1 (process creation), Sysmon 3 (network
//! connection) and Sysmon 22 (DNS query), whatever shape the record arrived in.
//!
//! The same event reaches us in four shapes, recognised by their keys:
//! - EVTX (our decoder): `System.EventID`, `System.Channel`, `EventData.CommandLine`;
//! - JSON rendered by evtx tools: `Event.System.EventID`, `Event.EventData.CommandLine`;
//! - Winlogbeat/Elastic: `winlog.event_id`, `winlog.channel`, `winlog.event_data.CommandLine`;
//! - flat exports (NXLog as in OTRF Security-Datasets, Sentinel/Log Analytics `SecurityEvent`
//!   rows in JSON or CSV): `EventID`, `Channel`, `CommandLine` side by side.
//!
//! Which user a 4688 event is about: like the Sentinel/msticpy notebooks we take the
//! *subject* (`SubjectDomainName\SubjectUserName`, the account that started the process). When
//! the subject is only the machine account or `-` (the process was created by a service for a
//! logged-on user, e.g. `RuntimeBroker.exe` under DcomLaunch) and the *target*
//! (`TargetUserName`, the account the new process runs as, Windows 10+) is a real user, the
//! analyst means that user, so we take the target. Both stay visible: the unused one is kept
//! among the extra fields.
//!
//! Time: EVTX records use `System.TimeCreated` (100 ns precision). In exports, Sysmon's own
//! `UtcTime` comes first because shippers' `@timestamp` is when the record was shipped
//! (OTRF's 2023 datasets are a day late); other events use `@timestamp`, then
//! `TimeGenerated`, `TimeCreated`, `EventTime`. NXLog writes `TimeCreated`/`EventTime` in the
//! collector's local time without a zone; such values are read as UTC.

use super::{decimal_id, keys, present, Context, Out, Profile, Reject};
use crate::record::{Key, Record};
use oddhunt_core::{EventKind, Field};

/// A profile forced with `--profile`: map every record as this event regardless of its id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Forced {
    Security4688,
    Sysmon(u32),
}

// Indexes into `Shape::data`.
const SUBJECT_USER: usize = 0;
const SUBJECT_DOMAIN: usize = 1;
const TARGET_USER: usize = 2;
const TARGET_DOMAIN: usize = 3;
const NEW_PROCESS_NAME: usize = 4;
const COMMAND_LINE: usize = 5;
const PARENT_PROCESS_NAME: usize = 6;
const NEW_PROCESS_ID: usize = 7;
const PROCESS_ID: usize = 8;
const IMAGE: usize = 9;
const USER: usize = 10;
const PARENT_IMAGE: usize = 11;
const PARENT_COMMAND_LINE: usize = 12;
const PARENT_PROCESS_ID: usize = 13;
const SOURCE_IP: usize = 14;
const SOURCE_PORT: usize = 15;
const DESTINATION_IP: usize = 16;
const DESTINATION_PORT: usize = 17;
const DESTINATION_HOSTNAME: usize = 18;
const PROTOCOL: usize = 19;
const QUERY_NAME: usize = 20;
const QUERY_STATUS: usize = 21;
const QUERY_RESULTS: usize = 22;

const DATA_FIELDS: &[&str] = &[
    "SubjectUserName",
    "SubjectDomainName",
    "TargetUserName",
    "TargetDomainName",
    "NewProcessName",
    "CommandLine",
    "ParentProcessName",
    "NewProcessId",
    "ProcessId",
    "Image",
    "User",
    "ParentImage",
    "ParentCommandLine",
    "ParentProcessId",
    "SourceIp",
    "SourcePort",
    "DestinationIp",
    "DestinationPort",
    "DestinationHostname",
    "Protocol",
    "QueryName",
    "QueryStatus",
    "QueryResults",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ShapeKind {
    Evtx,
    EvtxJson,
    Winlogbeat,
    Flat,
}

struct Shape {
    event_id: Vec<Key>,
    channel: Vec<Key>,
    provider: Vec<Key>,
    computer: Vec<Key>,
    time: Vec<Key>,
    /// Time keys for Sysmon events (see the module documentation).
    sysmon_time: Vec<Key>,
    data: Vec<Key>,
}

/// Key paths of a shape: event id, channel, provider, computer, time, event-data prefix.
type ShapeKeys = (
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
    &'static str,
);

impl Shape {
    fn new(kind: ShapeKind) -> Self {
        let (event_id, channel, provider, computer, time, prefix): ShapeKeys = match kind {
            ShapeKind::Evtx => (
                &["System.EventID"],
                &["System.Channel"],
                &["System.Provider.Name"],
                &["System.Computer"],
                &["System.TimeCreated.SystemTime"],
                "EventData.",
            ),
            ShapeKind::EvtxJson => (
                &["Event.System.EventID", "Event.System.EventID.#text"],
                &["Event.System.Channel"],
                &[
                    "Event.System.Provider_attributes.Name",
                    "Event.System.Provider.#attributes.Name",
                ],
                &["Event.System.Computer"],
                &[
                    "Event.System.TimeCreated_attributes.SystemTime",
                    "Event.System.TimeCreated.#attributes.SystemTime",
                ],
                "Event.EventData.",
            ),
            ShapeKind::Winlogbeat => (
                &["winlog.event_id", "event.code"],
                &["winlog.channel"],
                &["winlog.provider_name"],
                &["winlog.computer_name", "host.name", "host.hostname"],
                &["@timestamp"],
                "winlog.event_data.",
            ),
            ShapeKind::Flat => (
                &["EventID", "EventId"],
                &["Channel", "channel"],
                &[
                    "SourceName",
                    "ProviderName",
                    "Provider_Name",
                    "EventSourceName",
                ],
                // Not `host`: in OTRF data that is the log collector, not the event's computer.
                &["Hostname", "Computer", "ComputerName"],
                &[
                    "@timestamp",
                    "TimeGenerated",
                    "TimeCreated",
                    "EventTime",
                    "timestamp",
                ],
                "",
            ),
        };
        let utc_time = format!("{prefix}UtcTime");
        let mut sysmon_time: Vec<&str> = time.to_vec();
        if kind == ShapeKind::Evtx {
            sysmon_time.push(&utc_time);
        } else {
            sysmon_time.insert(0, &utc_time);
        }
        Shape {
            sysmon_time: keys(&sysmon_time),
            event_id: keys(event_id),
            channel: keys(channel),
            provider: keys(provider),
            computer: keys(computer),
            time: keys(time),
            data: DATA_FIELDS
                .iter()
                .map(|name| Key::new(&format!("{prefix}{name}")))
                .collect(),
        }
    }
}

/// The four shapes' keys, built once per process and shared by every mapper and thread (their
/// lookup caches are atomics), so starting a source costs nothing: an EVTX directory is often
/// thousands of small files.
fn shapes() -> &'static [Shape] {
    static SHAPES: std::sync::OnceLock<Vec<Shape>> = std::sync::OnceLock::new();
    SHAPES.get_or_init(|| {
        [
            ShapeKind::Evtx,
            ShapeKind::Flat,
            ShapeKind::Winlogbeat,
            ShapeKind::EvtxJson,
        ]
        .into_iter()
        .map(Shape::new)
        .collect()
    })
}

/// The EVTX element names the profile reads: the `System` ones it looks up and every
/// `EventData` field of [`DATA_FIELDS`] (plus Sysmon's `UtcTime`).
pub(crate) fn wanted_evtx_fields() -> &'static crate::decode::evtx_xml::Wanted {
    static WANTED: std::sync::OnceLock<crate::decode::evtx_xml::Wanted> =
        std::sync::OnceLock::new();
    WANTED.get_or_init(|| {
        let mut names: Vec<&'static str> = vec![
            "Provider",
            "EventID",
            "TimeCreated",
            "Channel",
            "Computer",
            "UtcTime",
        ];
        names.extend_from_slice(DATA_FIELDS);
        crate::decode::evtx_xml::Wanted::new(names)
    })
}

/// The Windows profile (all four events; see the module documentation).
#[derive(Clone)]
pub(crate) struct Windows {
    forced: Option<Forced>,
    shapes: &'static [Shape],
    current: usize,
}

impl Windows {
    pub(crate) fn new(forced: Option<Forced>) -> Self {
        Windows {
            forced,
            shapes: shapes(),
            current: 0,
        }
    }

    /// Finds the shape whose event-id key is present (trying the last one first).
    fn shape_of(&mut self, record: &Record) -> Option<usize> {
        let n = self.shapes.len();
        let found = (0..n).map(|i| (self.current + i) % n).find(|&i| {
            self.shapes[i]
                .event_id
                .iter()
                .any(|k| record.find(k).is_some())
        })?;
        self.current = found;
        Some(found)
    }
}

/// The events this profile maps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flavor {
    Security4688,
    /// Sysmon 1, 3 or 22.
    Sysmon(u32),
}

/// Case-insensitive `contains` for ASCII needles, without allocating.
fn contains_ignore_case(haystack: Option<&str>, needle: &str) -> bool {
    haystack.is_some_and(|h| {
        h.as_bytes()
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
    })
}

/// What a record's channel and provider say about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ChannelFlags {
    security: bool,
    sysmon: bool,
    unlabelled: bool,
}

impl ChannelFlags {
    pub(crate) fn of(channel: Option<&str>, provider: Option<&str>) -> Self {
        // The exact names first: they are what nearly every record carries.
        let (security, sysmon) = match (channel, provider) {
            (Some("Security"), _) => (true, false),
            (Some("Microsoft-Windows-Sysmon/Operational"), _) => (false, true),
            _ => (
                channel.is_some_and(|c| c.eq_ignore_ascii_case("security"))
                    || contains_ignore_case(provider, "security-auditing"),
                contains_ignore_case(channel, "sysmon") || contains_ignore_case(provider, "sysmon"),
            ),
        };
        ChannelFlags {
            security,
            sysmon,
            unlabelled: channel.is_none() && provider.is_none(),
        }
    }
}

/// Decides from the event id, channel and provider whether a record is one of ours. `has_image`:
/// the record has Sysmon's `Image` field (used for exports that name no channel).
pub(crate) fn classify(
    event_id: u32,
    channel: Option<&str>,
    provider: Option<&str>,
    has_image: bool,
    forced: Option<Forced>,
) -> Result<Flavor, Reject> {
    match forced {
        Some(Forced::Security4688) => return Ok(Flavor::Security4688),
        Some(Forced::Sysmon(id)) => return Ok(Flavor::Sysmon(id)),
        None => {}
    }
    let flags = ChannelFlags::of(channel, provider);
    classify_flags(event_id, channel, provider, flags, has_image)
}

/// [`classify`] with the channel and provider already read into flags.
pub(crate) fn classify_flags(
    event_id: u32,
    channel: Option<&str>,
    provider: Option<&str>,
    flags: ChannelFlags,
    has_image: bool,
) -> Result<Flavor, Reject> {
    let ChannelFlags {
        security,
        unlabelled,
        ..
    } = flags;
    let sysmon = flags.sysmon || (unlabelled && matches!(event_id, 1 | 3 | 22) && has_image);
    let security = security || (unlabelled && event_id == 4688);
    match (security, sysmon, event_id) {
        (true, _, 4688) => Ok(Flavor::Security4688),
        (false, true, 1 | 3 | 22) => Ok(Flavor::Sysmon(event_id)),
        _ => {
            // Flat exports without a channel (Sentinel `SecurityEvent` rows) name Security
            // events by id alone; 4608-6424 is the Security auditing range.
            let mut what = String::with_capacity(48);
            if security || (unlabelled && (4608..=6424).contains(&event_id)) {
                what.push_str("Security");
            } else if sysmon {
                what.push_str("Sysmon");
            } else {
                match channel.or(provider) {
                    Some(name) => what.push_str(&crate::error::excerpt(name)),
                    None => what.push_str("Windows"),
                }
            }
            what.push(' ');
            what.push_str(itoa(event_id, &mut [0u8; 10]));
            Err(Reject::NotMapped(super::not_mapped(&what), String::new()))
        }
    }
}

/// Decimal text of a number without `format!`.
fn itoa(mut n: u32, buf: &mut [u8; 10]) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[i..]).unwrap_or("")
}

/// Splits Sysmon's `DOMAIN\user`.
fn split_account(account: &str) -> (Option<&str>, &str) {
    match account.split_once('\\') {
        Some((domain, user)) => (present(domain), user),
        None => (None, account),
    }
}

/// A real user account: not empty, not `-`, not a machine account (`HOST$`).
fn is_person(name: Option<&str>) -> bool {
    name.and_then(present)
        .is_some_and(|n| !n.trim_end().ends_with('$'))
}

/// Sysmon 22 `QueryStatus` is a Win32 DNS status; the common ones as DNS response codes.
fn dns_status_name(status: &str) -> &str {
    match status.trim() {
        "0" => "NOERROR",
        "9001" => "FORMERR",
        "9002" => "SERVFAIL",
        "9003" => "NXDOMAIN",
        "9004" => "NOTIMP",
        "9005" => "REFUSED",
        "9501" => "NOERROR",
        other => other,
    }
}

impl Profile for Windows {
    fn clone_box(&self) -> Box<dyn Profile> {
        Box::new(self.clone())
    }

    fn matches(&mut self, record: &Record, _context: &Context) -> bool {
        self.shape_of(record).is_some()
    }

    fn map(
        &mut self,
        record: &mut Record,
        _context: &Context,
        out: &mut Out,
    ) -> Result<(), Reject> {
        let shape_index = self.shape_of(record).unwrap_or(1);
        let shape = &self.shapes[shape_index];
        let id_text = out.first(record, &shape.event_id);
        let event_id: u32 = match (self.forced, id_text) {
            (Some(Forced::Security4688), _) => 4688,
            (Some(Forced::Sysmon(id)), _) => id,
            (None, Some(text)) => text.trim().parse().map_err(|_| {
                Reject::Malformed(
                    "wrong field type".into(),
                    format!(
                        "field {}: expected an event id, got {:?}",
                        shape.event_id[0].path(),
                        crate::error::excerpt(text)
                    ),
                )
            })?,
            (None, None) => {
                return Err(Reject::NotMapped(
                    super::not_mapped("unrecognised record"),
                    "no EventID".into(),
                ))
            }
        };
        let channel = out.first(record, &shape.channel);
        let provider = out.first(record, &shape.provider);
        let has_image = record.find(&shape.data[IMAGE]).is_some();
        let flavor = classify(event_id, channel, provider, has_image, self.forced)?;
        let data = &shape.data;
        let security = flavor == Flavor::Security4688;
        let kind = match flavor {
            Flavor::Security4688 | Flavor::Sysmon(1) => EventKind::ProcessStart,
            Flavor::Sysmon(3) => EventKind::NetworkConnection,
            Flavor::Sysmon(_) => EventKind::DnsQuery,
        };
        out.kind(kind);
        out.set(Field::EventCode, Some(&event_id.to_string()));
        out.set_from(record, Field::Host, &shape.computer);

        if security {
            // Security 4688.
            let subject = record.get(&data[SUBJECT_USER]).and_then(present);
            let target = record.get(&data[TARGET_USER]).and_then(present);
            let (user_key, domain_key) = if !is_person(subject) && is_person(target) {
                (TARGET_USER, TARGET_DOMAIN)
            } else {
                (SUBJECT_USER, SUBJECT_DOMAIN)
            };
            let user = out.get(record, &data[user_key]);
            let domain = out.get(record, &data[domain_key]);
            out.set(Field::User, user);
            out.set(Field::Domain, domain);
            out.set_from(
                record,
                Field::ProcessPath,
                &data[NEW_PROCESS_NAME..=NEW_PROCESS_NAME],
            );
            out.set_from(
                record,
                Field::CommandLine,
                &data[COMMAND_LINE..=COMMAND_LINE],
            );
            out.set_from(
                record,
                Field::ParentPath,
                &data[PARENT_PROCESS_NAME..=PARENT_PROCESS_NAME],
            );
            // In 4688, `ProcessId` is the creator's (parent's) id.
            let pid = out.get(record, &data[NEW_PROCESS_ID]).and_then(decimal_id);
            out.set(Field::ProcessId, pid.as_deref());
            let ppid = out.get(record, &data[PROCESS_ID]).and_then(decimal_id);
            out.set(Field::ParentProcessId, ppid.as_deref());
            out.time_from(record, &shape.time);
            return Ok(());
        }

        // Sysmon.
        if let Some(account) = out.get(record, &data[USER]) {
            let (domain, user) = split_account(account);
            out.set(Field::Domain, domain);
            out.set(Field::User, Some(user));
        }
        out.set_from(record, Field::ProcessPath, &data[IMAGE..=IMAGE]);
        let pid = out.get(record, &data[PROCESS_ID]).and_then(decimal_id);
        out.set(Field::ProcessId, pid.as_deref());
        match event_id {
            1 => {
                out.set_from(
                    record,
                    Field::CommandLine,
                    &data[COMMAND_LINE..=COMMAND_LINE],
                );
                out.set_from(
                    record,
                    Field::ParentPath,
                    &data[PARENT_IMAGE..=PARENT_IMAGE],
                );
                out.set_from(
                    record,
                    Field::ParentCommandLine,
                    &data[PARENT_COMMAND_LINE..=PARENT_COMMAND_LINE],
                );
                let ppid = out
                    .get(record, &data[PARENT_PROCESS_ID])
                    .and_then(decimal_id);
                out.set(Field::ParentProcessId, ppid.as_deref());
            }
            3 => {
                out.set_from(record, Field::Transport, &data[PROTOCOL..=PROTOCOL]);
                out.set_from(record, Field::SourceIp, &data[SOURCE_IP..=SOURCE_IP]);
                out.set_from(
                    record,
                    Field::DestinationIp,
                    &data[DESTINATION_IP..=DESTINATION_IP],
                );
                out.set_from(
                    record,
                    Field::DestinationHost,
                    &data[DESTINATION_HOSTNAME..=DESTINATION_HOSTNAME],
                );
                for (index, field) in [
                    (SOURCE_PORT, Field::SourcePort),
                    (DESTINATION_PORT, Field::DestinationPort),
                ] {
                    if let Some(port) = out.get(record, &data[index]) {
                        if port.trim().parse::<u16>().is_err() {
                            return Err(Reject::Malformed(
                                "wrong field type".into(),
                                format!(
                                    "field {}: expected a port number, got {:?}",
                                    data[index].path(),
                                    crate::error::excerpt(port)
                                ),
                            ));
                        }
                        out.set(field, Some(port.trim()));
                    }
                }
            }
            _ => {
                out.set_from(record, Field::Query, &data[QUERY_NAME..=QUERY_NAME]);
                if let Some(status) = out.get(record, &data[QUERY_STATUS]) {
                    out.set(Field::ResponseCode, Some(dns_status_name(status)));
                }
                out.set_from(record, Field::Answers, &data[QUERY_RESULTS..=QUERY_RESULTS]);
            }
        }
        out.time_from(record, &shape.sysmon_time);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_and_statuses() {
        assert_eq!(
            split_account(r"NT AUTHORITY\SYSTEM"),
            (Some("NT AUTHORITY"), "SYSTEM")
        );
        assert_eq!(split_account("bob"), (None, "bob"));
        assert!(is_person(Some("wardog")));
        assert!(!is_person(Some("WORKSTATION5$")));
        assert!(!is_person(Some("-")));
        assert!(!is_person(None));
        assert_eq!(dns_status_name("9003"), "NXDOMAIN");
        assert_eq!(dns_status_name("1460"), "1460");
    }
}
