//! Web server profiles: Apache/Nginx access logs and IIS W3C extended logs → HTTP requests.
//!
//! The access-log decoder names its fields after nginx variables whatever the log format
//! (`remote_addr`, `remote_user`, `time_local`, `request`, `status`, `body_bytes_sent`,
//! `http_referer`, `http_user_agent`, ...; Apache's `%h`, `%u`, `%t`, `%r`, `%>s`, `%b`,
//! `%{Referer}i`, `%{User-agent}i` map to those names), so one profile reads both servers.
//! W3C fields keep their IIS names (`c-ip`, `cs-method`, `cs-uri-stem`, `cs(User-Agent)`, ...).

use super::{keys, Context, Out, Profile, Reject};
use crate::record::{Key, Record};
use oddhunt_core::{EventKind, Field, Timestamp};

fn check_status(status: &str, key: &str) -> Result<(), Reject> {
    let s = status.trim();
    if s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(Reject::Malformed(
            "wrong field type".into(),
            format!(
                "field {key}: expected an HTTP status, got {:?}",
                crate::error::excerpt(status)
            ),
        ))
    }
}

fn check_bytes(bytes: &str, key: &str) -> Result<(), Reject> {
    if bytes.trim().bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(Reject::Malformed(
            "wrong field type".into(),
            format!(
                "field {key}: expected a byte count, got {:?}",
                crate::error::excerpt(bytes)
            ),
        ))
    }
}

/// Apache/Nginx access logs.
#[derive(Clone)]
pub(crate) struct Access {
    remote: Vec<Key>,
    user: Vec<Key>,
    time: Vec<Key>,
    request: Key,
    method: Key,
    uri: Vec<Key>,
    query: Key,
    status: Key,
    bytes: Vec<Key>,
    referrer: Key,
    user_agent: Key,
    host: Vec<Key>,
}

impl Access {
    pub(crate) fn new() -> Self {
        Access {
            remote: keys(&["remote_addr", "client_ip", "http_x_forwarded_for"]),
            user: keys(&["remote_user"]),
            time: keys(&["time_local", "time_iso8601", "msec", "time"]),
            request: Key::new("request"),
            method: Key::new("request_method"),
            uri: keys(&["request_uri", "uri"]),
            query: Key::new("query_string"),
            status: Key::new("status"),
            bytes: keys(&["body_bytes_sent", "bytes_sent", "body_bytes"]),
            referrer: Key::new("http_referer"),
            user_agent: Key::new("http_user_agent"),
            host: keys(&["host", "http_host", "server_name"]),
        }
    }
}

impl Profile for Access {
    fn clone_box(&self) -> Box<dyn Profile> {
        Box::new(self.clone())
    }

    fn matches(&mut self, record: &Record, _context: &Context) -> bool {
        (record.find(&self.request).is_some() || record.find(&self.method).is_some())
            && record.find(&self.status).is_some()
            && self.remote.iter().any(|k| record.find(k).is_some())
    }

    fn map(
        &mut self,
        record: &mut Record,
        _context: &Context,
        out: &mut Out,
    ) -> Result<(), Reject> {
        out.kind(EventKind::HttpRequest);
        out.set_from(record, Field::SourceIp, &self.remote);
        out.set_from(record, Field::User, &self.user);
        if let Some(request) = out.get(record, &self.request) {
            // "GET /path HTTP/1.1"; anything else (garbage sent by scanners) is kept as the URL.
            let mut parts = request.splitn(3, ' ');
            match (parts.next(), parts.next()) {
                (Some(method), Some(url))
                    if !method.is_empty()
                        && method.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-') =>
                {
                    out.set(Field::Method, Some(method));
                    out.set(Field::Url, Some(url));
                    if let Some(protocol) = parts.next() {
                        out.extra_field("protocol", protocol);
                    }
                }
                _ => out.set(Field::Url, Some(request)),
            }
        } else {
            out.set_from(record, Field::Method, std::slice::from_ref(&self.method));
            if let Some(uri) = out.first(record, &self.uri) {
                match out.get(record, &self.query) {
                    Some(q) => out.set(Field::Url, Some(&format!("{uri}?{q}"))),
                    None => out.set(Field::Url, Some(uri)),
                }
            }
        }
        if let Some(status) = out.get(record, &self.status) {
            check_status(status, "status")?;
            out.set(Field::Status, Some(status.trim()));
        }
        if let Some(bytes) = out.first(record, &self.bytes) {
            check_bytes(bytes, "bytes")?;
            out.set(Field::Bytes, Some(bytes.trim()));
        }
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
        out.set_from(record, Field::Host, &self.host);
        out.time_from(record, &self.time);
        Ok(())
    }
}

/// IIS W3C extended logs.
#[derive(Clone)]
pub(crate) struct W3c {
    date: Key,
    time: Key,
    client: Key,
    user: Key,
    method: Key,
    stem: Key,
    query: Key,
    status: Key,
    bytes: Key,
    user_agent: Key,
    referrer: Key,
    host: Vec<Key>,
    server_ip: Key,
    server_port: Key,
}

impl W3c {
    pub(crate) fn new() -> Self {
        W3c {
            date: Key::new("date"),
            time: Key::new("time"),
            client: Key::new("c-ip"),
            user: Key::new("cs-username"),
            method: Key::new("cs-method"),
            stem: Key::new("cs-uri-stem"),
            query: Key::new("cs-uri-query"),
            status: Key::new("sc-status"),
            bytes: Key::new("sc-bytes"),
            user_agent: Key::new("cs(User-Agent)"),
            referrer: Key::new("cs(Referer)"),
            host: keys(&["cs-host", "s-computername", "s-sitename"]),
            server_ip: Key::new("s-ip"),
            server_port: Key::new("s-port"),
        }
    }
}

/// IIS writes spaces in W3C fields as `+`.
fn unplus(text: &str) -> String {
    text.replace('+', " ")
}

impl Profile for W3c {
    fn clone_box(&self) -> Box<dyn Profile> {
        Box::new(self.clone())
    }

    fn matches(&mut self, record: &Record, _context: &Context) -> bool {
        record.find(&self.stem).is_some() && record.find(&self.status).is_some()
    }

    fn map(
        &mut self,
        record: &mut Record,
        _context: &Context,
        out: &mut Out,
    ) -> Result<(), Reject> {
        out.kind(EventKind::HttpRequest);
        out.set_from(record, Field::SourceIp, std::slice::from_ref(&self.client));
        out.set_from(record, Field::User, std::slice::from_ref(&self.user));
        out.set_from(record, Field::Method, std::slice::from_ref(&self.method));
        if let Some(stem) = out.get(record, &self.stem) {
            match out.get(record, &self.query) {
                Some(q) => out.set(Field::Url, Some(&format!("{stem}?{q}"))),
                None => out.set(Field::Url, Some(stem)),
            }
        }
        if let Some(status) = out.get(record, &self.status) {
            check_status(status, "sc-status")?;
            out.set(Field::Status, Some(status.trim()));
        }
        if let Some(bytes) = out.get(record, &self.bytes) {
            check_bytes(bytes, "sc-bytes")?;
            out.set(Field::Bytes, Some(bytes.trim()));
        }
        if let Some(ua) = out.get(record, &self.user_agent) {
            out.set(Field::UserAgent, Some(&unplus(ua)));
        }
        if let Some(referrer) = out.get(record, &self.referrer) {
            out.set(Field::Referrer, Some(referrer));
        }
        out.set_from(record, Field::Host, &self.host);
        out.set_from(
            record,
            Field::DestinationIp,
            std::slice::from_ref(&self.server_ip),
        );
        out.set_from(
            record,
            Field::DestinationPort,
            std::slice::from_ref(&self.server_port),
        );
        match (out.get(record, &self.date), out.get(record, &self.time)) {
            (Some(date), Some(time)) => {
                let text = format!("{date} {time}");
                match Timestamp::parse(&text) {
                    Ok(t) => out.time(Some(t)),
                    Err(_) => out.warn(
                        "unreadable time",
                        format!(
                            "fields date, time: cannot read {:?}",
                            crate::error::excerpt(&text)
                        ),
                    ),
                }
            }
            _ => out.warn("no time", "no date and time fields".into()),
        }
        Ok(())
    }
}
