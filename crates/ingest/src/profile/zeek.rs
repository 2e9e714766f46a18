//! Zeek profiles: `dns.log` → DNS queries, `http.log` → HTTP requests, `conn.log` → network
//! connections, from TSV or JSON logs.
//!
//! The log type comes from the TSV `#path` header, from `@stream`/`_path` in JSON (the
//! json-streaming-logs package, OTRF's APT29 data), or else from the fields present. Field names
//! are Zeek's (`id.orig_h`); the `id_orig_h` spelling of json-streaming-logs is accepted too.
//! Other Zeek logs (`ssl`, `files`, `x509`, ...) are counted as not mapped.

use super::{keys, parse_time, Context, Out, Profile, Reject};
use crate::record::{Key, Record};
use oddhunt_core::{EventKind, Field};

/// A Zeek log type this profile maps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LogType {
    Dns,
    Http,
    Conn,
}

#[derive(Clone)]
pub(crate) struct Zeek {
    forced: Option<LogType>,
    ts: Vec<Key>,
    uid: Vec<Key>,
    stream: Vec<Key>,
    orig_h: Vec<Key>,
    orig_p: Vec<Key>,
    resp_h: Vec<Key>,
    resp_p: Vec<Key>,
    proto: Vec<Key>,
    query: Vec<Key>,
    qtype: Vec<Key>,
    rcode: Vec<Key>,
    answers: Key,
    method: Key,
    host: Key,
    uri: Key,
    referrer: Key,
    user_agent: Key,
    status: Key,
    body_len: Key,
    username: Key,
    conn_state: Vec<Key>,
}

impl Zeek {
    pub(crate) fn new(forced: Option<LogType>) -> Self {
        Zeek {
            forced,
            ts: keys(&["ts"]),
            uid: keys(&["uid", "id.orig_h", "id_orig_h"]),
            stream: keys(&["@stream", "_path", "path"]),
            orig_h: keys(&["id.orig_h", "id_orig_h"]),
            orig_p: keys(&["id.orig_p", "id_orig_p"]),
            resp_h: keys(&["id.resp_h", "id_resp_h"]),
            resp_p: keys(&["id.resp_p", "id_resp_p"]),
            proto: keys(&["proto"]),
            query: keys(&["query"]),
            qtype: keys(&["qtype_name", "qtype"]),
            rcode: keys(&["rcode_name", "rcode"]),
            answers: Key::new("answers"),
            method: Key::new("method"),
            host: Key::new("host"),
            uri: Key::new("uri"),
            referrer: Key::new("referrer"),
            user_agent: Key::new("user_agent"),
            status: Key::new("status_code"),
            body_len: Key::new("response_body_len"),
            username: Key::new("username"),
            conn_state: keys(&["conn_state", "history", "duration"]),
        }
    }

    fn log_type(&self, record: &Record, context: &Context) -> Result<LogType, String> {
        if let Some(forced) = self.forced {
            return Ok(forced);
        }
        let named = context
            .zeek_path
            .as_deref()
            .or_else(|| self.stream.iter().find_map(|k| record.get(k)));
        if let Some(name) = named {
            return match name {
                "dns" => Ok(LogType::Dns),
                "http" => Ok(LogType::Http),
                "conn" => Ok(LogType::Conn),
                other => Err(crate::error::excerpt(other)),
            };
        }
        let has = |keys: &[Key]| keys.iter().any(|k| record.find(k).is_some());
        if has(&self.query) {
            Ok(LogType::Dns)
        } else if record.find(&self.method).is_some() || record.find(&self.uri).is_some() {
            Ok(LogType::Http)
        } else if has(&self.conn_state) {
            Ok(LogType::Conn)
        } else {
            Err("unknown".into())
        }
    }

    fn port(
        &self,
        record: &Record,
        out: &mut Out,
        keys: &[Key],
        field: Field,
    ) -> Result<(), Reject> {
        if let Some(port) = out.first(record, keys) {
            if port.trim().parse::<u32>().is_err() {
                return Err(Reject::Malformed(
                    "wrong field type".into(),
                    format!(
                        "field {}: expected a port number, got {:?}",
                        keys[0].path(),
                        crate::error::excerpt(port)
                    ),
                ));
            }
            out.set(field, Some(port.trim()));
        }
        Ok(())
    }
}

impl Profile for Zeek {
    fn clone_box(&self) -> Box<dyn Profile> {
        Box::new(self.clone())
    }

    fn matches(&mut self, record: &Record, context: &Context) -> bool {
        context.zeek_path.is_some()
            || (self.ts.iter().any(|k| record.find(k).is_some())
                && self.uid.iter().any(|k| record.find(k).is_some()))
    }

    fn map(&mut self, record: &mut Record, context: &Context, out: &mut Out) -> Result<(), Reject> {
        let log_type = self.log_type(record, context).map_err(|name| {
            Reject::NotMapped(super::not_mapped(&format!("zeek {name}")), String::new())
        })?;
        out.set_from(record, Field::SourceIp, &self.orig_h);
        self.port(record, out, &self.orig_p, Field::SourcePort)?;
        out.set_from(record, Field::DestinationIp, &self.resp_h);
        self.port(record, out, &self.resp_p, Field::DestinationPort)?;
        match log_type {
            LogType::Dns => {
                out.kind(EventKind::DnsQuery);
                out.set_from(record, Field::Transport, &self.proto);
                out.set_from(record, Field::Query, &self.query);
                out.set_from(record, Field::QueryType, &self.qtype);
                out.set_from(record, Field::ResponseCode, &self.rcode);
                if let Some(id) = record.find(&self.answers) {
                    out.set_node(record, Field::Answers, id);
                }
            }
            LogType::Http => {
                out.kind(EventKind::HttpRequest);
                out.set_from(record, Field::Method, std::slice::from_ref(&self.method));
                out.set_from(record, Field::Host, std::slice::from_ref(&self.host));
                out.set_from(record, Field::Url, std::slice::from_ref(&self.uri));
                out.set_from(
                    record,
                    Field::Referrer,
                    std::slice::from_ref(&self.referrer),
                );
                out.set_from(
                    record,
                    Field::UserAgent,
                    std::slice::from_ref(&self.user_agent),
                );
                out.set_from(record, Field::Status, std::slice::from_ref(&self.status));
                out.set_from(record, Field::Bytes, std::slice::from_ref(&self.body_len));
                out.set_from(record, Field::User, std::slice::from_ref(&self.username));
            }
            LogType::Conn => {
                out.kind(EventKind::NetworkConnection);
                out.set_from(record, Field::Transport, &self.proto);
            }
        }
        match out.first(record, &self.ts) {
            Some(ts) => match parse_time(ts) {
                Some(t) => out.time(Some(t)),
                None => out.warn(
                    "unreadable time",
                    format!(
                        "field ts: cannot read {:?} as a time",
                        crate::error::excerpt(ts)
                    ),
                ),
            },
            None => out.warn("no time", "no ts field".into()),
        }
        Ok(())
    }
}
