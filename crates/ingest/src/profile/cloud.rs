//! Cloud and Office profiles → `Command` events: AWS CloudTrail, Office 365 / Exchange admin
//! audit (management API JSON, Sentinel `OfficeActivity`, msticpy's Exchange CSV) and Azure AD
//! audit logs.
//!
//! CloudTrail: operation = `eventName`, provider = `eventSource`, user from `userIdentity`
//! (`userName`, else the last part of the `arn`, else `principalId`, `invokedBy`, `accountId`,
//! `type`), source IP = `sourceIPAddress`, outcome = `errorCode`, parameters = the top-level
//! keys of `requestParameters` in source order, each value a scalar as text or compact JSON
//! (null → no value). CSV exports with title-case columns (`Event Name`, `User ID`,
//! `Request Parameters` holding a Python dict, as OTRF's honey-bucket alerts) read the same.
//!
//! Office/Exchange: operation = `Operation`, user = `UserId`, source IP = `ClientIP` (the port
//! that Exchange appends, `1.2.3.4:5678` or `[2001:db8::1]:5678`, is removed), time =
//! `CreationTime` or `TimeGenerated`, provider = `Workload`, outcome = `ResultStatus`,
//! parameters = `Parameters` as `[{Name, Value}]` (an array, or JSON text inside a CSV cell).

use super::{keys, params_from, Context, Out, Profile, Reject};
use crate::record::{Key, NodeId, Record, ValueKind};
use oddhunt_core::{EventKind, Field};

/// Removes the port from `1.2.3.4:5678` and `[2001:db8::1]:5678`; plain IPv6 stays.
pub(crate) fn strip_port(ip: &str) -> &str {
    let ip = ip.trim();
    if let Some(rest) = ip.strip_prefix('[') {
        return rest.split_once(']').map_or(rest, |(addr, _)| addr);
    }
    match ip.split_once(':') {
        Some((addr, port))
            if !port.contains(':')
                && port.bytes().all(|b| b.is_ascii_digit())
                && addr.contains('.') =>
        {
            addr
        }
        _ => ip,
    }
}

#[derive(Clone)]
pub(crate) struct CloudTrail {
    event_name: Vec<Key>,
    event_source: Vec<Key>,
    identity: Vec<Key>,
    identity_flat: Vec<Key>,
    source_ip: Vec<Key>,
    user_agent: Vec<Key>,
    error: Vec<Key>,
    time: Vec<Key>,
    params: Vec<Key>,
}

impl CloudTrail {
    pub(crate) fn new() -> Self {
        CloudTrail {
            event_name: keys(&["eventName", "Event Name", "EventName"]),
            event_source: keys(&["eventSource", "Event Source", "EventSource"]),
            identity: keys(&["userIdentity", "User ID", "UserIdentity", "User Identity"]),
            identity_flat: keys(&[
                "userIdentity.userName",
                "userIdentity.arn",
                "userIdentity.principalId",
                "userIdentity.type",
            ]),
            source_ip: keys(&[
                "sourceIPAddress",
                "Source IP",
                "SourceIpAddress",
                "Source IP Address",
            ]),
            user_agent: keys(&["userAgent", "Request User Agent", "UserAgent", "User Agent"]),
            error: keys(&["errorCode", "Error Code", "ErrorCode"]),
            time: keys(&[
                "eventTime",
                "Event DateTime",
                "EventTime",
                "Event Time",
                "@timestamp",
            ]),
            params: keys(&[
                "requestParameters",
                "Request Parameters",
                "RequestParameters",
            ]),
        }
    }

    fn user_from_identity(&self, record: &mut Record, id: NodeId) -> Option<String> {
        let container = record.expand_json(id)?;
        let child = |name: &str| {
            record
                .find_below(container, name)
                .and_then(|c| record.value(c))
                .and_then(super::present)
        };
        if let Some(name) = child("userName") {
            return Some(name.to_string());
        }
        if let Some(arn) = child("arn") {
            let tail = arn.rsplit(['/', ':']).next().unwrap_or(arn);
            if !tail.is_empty() {
                return Some(tail.to_string());
            }
        }
        ["principalId", "invokedBy", "accountId", "type"]
            .into_iter()
            .find_map(|k| child(k).map(str::to_string))
    }
}

impl Profile for CloudTrail {
    fn clone_box(&self) -> Box<dyn Profile> {
        Box::new(self.clone())
    }

    fn matches(&mut self, record: &Record, _context: &Context) -> bool {
        self.event_name.iter().any(|k| record.find(k).is_some())
            && (self.event_source.iter().any(|k| record.find(k).is_some())
                || self.identity.iter().any(|k| record.find(k).is_some()))
    }

    fn map(
        &mut self,
        record: &mut Record,
        _context: &Context,
        out: &mut Out,
    ) -> Result<(), Reject> {
        out.kind(EventKind::Command);
        out.set_from(record, Field::Operation, &self.event_name);
        out.set_from(record, Field::Provider, &self.event_source);
        out.set_from(record, Field::SourceIp, &self.source_ip);
        out.set_from(record, Field::UserAgent, &self.user_agent);
        out.set_from(record, Field::Outcome, &self.error);
        let identity = self.identity.iter().find_map(|k| record.find(k));
        let user = match identity {
            Some(id) => {
                out.mark_tree(record, id);
                self.user_from_identity(record, id)
            }
            None => out
                .first(record, &self.identity_flat)
                .map(|u| u.rsplit(['/', ':']).next().unwrap_or(u).to_string()),
        };
        out.set(Field::User, user.as_deref());
        if let Some(id) = self.params.iter().find_map(|k| record.find(k)) {
            out.mark_tree(record, id);
            if let Some(container) = record.expand_json(id) {
                if record.kind(container) == ValueKind::Object {
                    let children: Vec<NodeId> = record.children(container).collect();
                    for child in children {
                        let name = record.key(child).to_string();
                        out.param_node(record, &name, child);
                    }
                }
            }
        }
        out.time_from(record, &self.time);
        Ok(())
    }
}

#[derive(Clone)]
pub(crate) struct Office {
    operation: Key,
    marker: Vec<Key>,
    user: Vec<Key>,
    client_ip: Vec<Key>,
    time: Vec<Key>,
    workload: Vec<Key>,
    result: Vec<Key>,
    params: Vec<Key>,
}

impl Office {
    pub(crate) fn new() -> Self {
        Office {
            operation: Key::new("Operation"),
            marker: keys(&[
                "UserId",
                "Workload",
                "OfficeWorkload",
                "RecordType",
                "ClientIP",
                "Client_IPAddress",
                "CreationTime",
                "Parameters",
            ]),
            user: keys(&["UserId", "UserKey"]),
            client_ip: keys(&[
                "ClientIP",
                "ClientIPAddress",
                "Client_IPAddress",
                "ActorIpAddress",
            ]),
            time: keys(&["CreationTime", "TimeGenerated"]),
            workload: keys(&["Workload", "OfficeWorkload"]),
            result: keys(&["ResultStatus"]),
            params: keys(&["Parameters"]),
        }
    }
}

impl Profile for Office {
    fn clone_box(&self) -> Box<dyn Profile> {
        Box::new(self.clone())
    }

    fn matches(&mut self, record: &Record, _context: &Context) -> bool {
        record.find(&self.operation).is_some()
            && self.marker.iter().any(|k| record.find(k).is_some())
    }

    fn map(
        &mut self,
        record: &mut Record,
        _context: &Context,
        out: &mut Out,
    ) -> Result<(), Reject> {
        out.kind(EventKind::Command);
        out.set_from(
            record,
            Field::Operation,
            std::slice::from_ref(&self.operation),
        );
        out.set_from(record, Field::User, &self.user);
        if let Some(ip) = out.first(record, &self.client_ip) {
            out.set(Field::SourceIp, Some(strip_port(ip)));
        }
        out.set_from(record, Field::Provider, &self.workload);
        out.set_from(record, Field::Outcome, &self.result);
        if let Some(id) = self.params.iter().find_map(|k| record.find(k)) {
            out.mark_tree(record, id);
            if let Some(container) = record.expand_json(id) {
                params_from(record, container, out);
            } else if record.value(id).and_then(super::present).is_some() {
                return Err(Reject::Malformed(
                    "wrong field type".into(),
                    "field Parameters: expected a JSON array of {Name, Value}".into(),
                ));
            }
        }
        out.time_from(record, &self.time);
        Ok(())
    }
}

#[derive(Clone)]
pub(crate) struct Aad {
    operation: Vec<Key>,
    marker: Vec<Key>,
    service: Vec<Key>,
    result: Vec<Key>,
    time: Vec<Key>,
    user: Vec<Key>,
    ip: Key,
}

impl Aad {
    pub(crate) fn new() -> Self {
        Aad {
            operation: keys(&[
                "OperationName",
                "ActivityDisplayName",
                "activityDisplayName",
            ]),
            marker: keys(&[
                "InitiatedBy",
                "initiatedBy",
                "LoggedByService",
                "loggedByService",
            ]),
            service: keys(&["LoggedByService", "loggedByService"]),
            result: keys(&["Result", "result"]),
            time: keys(&["TimeGenerated", "ActivityDateTime", "activityDateTime"]),
            user: keys(&[
                "InitiatedBy.user.userPrincipalName",
                "initiatedBy.user.userPrincipalName",
                "InitiatedBy.app.displayName",
                "initiatedBy.app.displayName",
            ]),
            ip: Key::new("InitiatedBy.user.ipAddress"),
        }
    }
}

impl Profile for Aad {
    fn clone_box(&self) -> Box<dyn Profile> {
        Box::new(self.clone())
    }

    fn matches(&mut self, record: &Record, _context: &Context) -> bool {
        self.operation.iter().any(|k| record.find(k).is_some())
            && self.marker.iter().any(|k| record.find(k).is_some())
    }

    fn map(
        &mut self,
        record: &mut Record,
        _context: &Context,
        out: &mut Out,
    ) -> Result<(), Reject> {
        out.kind(EventKind::Command);
        out.set_from(record, Field::Operation, &self.operation);
        out.set_from(record, Field::Provider, &self.service);
        out.set_from(record, Field::Outcome, &self.result);
        for key in &self.user {
            if let Some(id) = record.find_deep(key) {
                if let Some(user) = record.value(id).and_then(super::present) {
                    let user = user.to_string();
                    out.set(Field::User, Some(&user));
                    break;
                }
            }
        }
        if let Some(id) = record.find_deep(&self.ip) {
            if let Some(ip) = record.value(id).and_then(super::present) {
                let ip = strip_port(ip).to_string();
                out.set(Field::SourceIp, Some(&ip));
            }
        }
        out.time_from(record, &self.time);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_stripped() {
        assert_eq!(strip_port("1.2.3.4:5678"), "1.2.3.4");
        assert_eq!(strip_port("[2001:db8::1]:5678"), "2001:db8::1");
        assert_eq!(strip_port("2001:db8::1"), "2001:db8::1");
        assert_eq!(strip_port("10.0.0.1"), "10.0.0.1");
    }
}
