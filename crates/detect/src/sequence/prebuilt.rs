//! Pre-built sessions (`--sessions FILE.jsonl`): sessions cut elsewhere — KQL
//! `row_window_session`, Spark, another tool — scored without oddhunt's sessionizer.
//!
//! One session per line (blank lines are skipped), in one of two shapes:
//!
//! * a JSON array of commands, the session layout of msticpy's fixtures
//!   (`shared/fixtures/markov/FIXTURES.md`);
//! * an object `{"id": ..., "session": [commands], "user": ..., "source_ip": ..., "host": ...,
//!   "start": ..., "end": ...}` where only `session` is required. `id` (string or number)
//!   becomes the finding's subject (default: `file:line`), `user`/`source_ip`/`host` its
//!   `user.name`/`source.ip`/`host.name` context, `start`/`end` (RFC 3339 or any time oddhunt
//!   reads) its time range. Other members are ignored, so a KQL export with extra columns
//!   (`nCmds`, `duration`) reads as is.
//!
//! A command is either a string (its name) or an object `{"name": str, "params": P}` where `P`
//! is absent or `null` (no params), an array of param names (`["Identity", "Force"]`), an array
//! of `[name, value]` pairs, an array of Exchange-style `{"Name": .., "Value": ..}` objects, or
//! an object `{name: value}`. Values are strings or `null`; other JSON values are taken as
//! their JSON text. What the session type does not use is dropped: names only for `cmds`,
//! param names without values for `params` (a set, as msticpy), values for `values` (a param
//! given without value has none, as msticpy reads a set in the values type, spec Q10).

use oddhunt_core::Timestamp;
use oddhunt_models::markov::{Command, SessionType};
use serde_json::{Map, Value};

/// One pre-built session as read from a line.
#[derive(Clone, Debug, PartialEq)]
pub struct PrebuiltSession {
    /// The id given, if any.
    pub id: Option<String>,
    /// `user` member.
    pub user: Option<String>,
    /// `source_ip` member.
    pub source_ip: Option<String>,
    /// `host` member.
    pub host: Option<String>,
    /// `start` member.
    pub start: Option<Timestamp>,
    /// `end` member.
    pub end: Option<Timestamp>,
    /// The commands (never empty).
    pub commands: Vec<Command>,
}

/// Reads one line of a `--sessions` file for a model of `session_type`. The error says what is
/// wrong (the caller adds the file and line).
pub fn parse_session_line(
    line: &str,
    session_type: SessionType,
) -> Result<PrebuiltSession, String> {
    let value: Value = serde_json::from_str(line).map_err(|e| format!("not a JSON value: {e}"))?;
    let mut session = PrebuiltSession {
        id: None,
        user: None,
        source_ip: None,
        host: None,
        start: None,
        end: None,
        commands: Vec::new(),
    };
    let commands = match value {
        Value::Array(items) => items,
        Value::Object(mut object) => {
            session.id = match object.remove("id") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s),
                Some(Value::Number(n)) => Some(n.to_string()),
                Some(other) => return Err(format!("id must be a string or number, not {other}")),
            };
            session.user = text_member(&mut object, "user")?;
            session.source_ip = text_member(&mut object, "source_ip")?;
            session.host = text_member(&mut object, "host")?;
            session.start = time_member(&mut object, "start")?;
            session.end = time_member(&mut object, "end")?;
            match object.remove("session") {
                Some(Value::Array(items)) => items,
                Some(other) => {
                    return Err(format!(
                        "\"session\" must be an array of commands, not {}",
                        kind_of(&other)
                    ))
                }
                None => {
                    return Err(
                        "an object line needs a \"session\" member (an array of commands)".into(),
                    )
                }
            }
        }
        other => {
            return Err(format!(
                "expected an array of commands or an object with \"session\", not {}",
                kind_of(&other)
            ))
        }
    };
    if commands.is_empty() {
        return Err("empty session: a session needs at least one command".into());
    }
    session.commands = commands
        .into_iter()
        .enumerate()
        .map(|(i, c)| command(c, session_type).map_err(|e| format!("command {}: {e}", i + 1)))
        .collect::<Result<_, _>>()?;
    Ok(session)
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn text_member(object: &mut Map<String, Value>, name: &str) -> Result<Option<String>, String> {
    match object.remove(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(format!(
            "{name:?} must be a string, not {}",
            kind_of(&other)
        )),
    }
}

fn time_member(object: &mut Map<String, Value>, name: &str) -> Result<Option<Timestamp>, String> {
    match object.remove(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Timestamp::parse(&s)
            .map(Some)
            .map_err(|e| format!("{name:?}: {e}")),
        Some(other) => Err(format!(
            "{name:?} must be a time string, not {}",
            kind_of(&other)
        )),
    }
}

/// A value as text: strings as they are, `null` as none, anything else as its JSON text.
fn value_text(value: Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s),
        other => Some(other.to_string()),
    }
}

fn param_name(value: Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s),
        other => Err(format!(
            "a param name must be a string, not {}",
            kind_of(&other)
        )),
    }
}

fn command(value: Value, session_type: SessionType) -> Result<Command, String> {
    let (name, params) = match value {
        Value::String(name) => (name, Value::Null),
        Value::Object(mut object) => {
            let name = match object.remove("name") {
                Some(Value::String(name)) => name,
                Some(other) => {
                    return Err(format!("name must be a string, not {}", kind_of(&other)))
                }
                None => return Err("an object command needs a \"name\"".into()),
            };
            (name, object.remove("params").unwrap_or(Value::Null))
        }
        other => {
            return Err(format!(
                "expected a string or {{\"name\", \"params\"}}, not {}",
                kind_of(&other)
            ))
        }
    };
    let mut pairs: Vec<(String, Option<String>)> = Vec::new();
    match params {
        Value::Null => {}
        Value::Array(items) => {
            for item in items {
                match item {
                    Value::String(name) => pairs.push((name, None)),
                    Value::Array(pair) => {
                        let mut pair = pair.into_iter();
                        let (Some(name), Some(value), None) =
                            (pair.next(), pair.next(), pair.next())
                        else {
                            return Err("a param pair must be [name, value]".into());
                        };
                        pairs.push((param_name(name)?, value_text(value)));
                    }
                    Value::Object(mut object) => {
                        let name = object
                            .remove("Name")
                            .or_else(|| object.remove("name"))
                            .ok_or("a param object needs \"Name\"")?;
                        let value = object.remove("Value").or_else(|| object.remove("value"));
                        pairs.push((param_name(name)?, value.and_then(value_text)));
                    }
                    other => {
                        return Err(format!(
                            "a param must be a name, a [name, value] pair or {{\"Name\", \"Value\"}}, not {}",
                            kind_of(&other)
                        ))
                    }
                }
            }
        }
        Value::Object(object) => {
            pairs.extend(object.into_iter().map(|(k, v)| (k, value_text(v))));
        }
        other => {
            return Err(format!(
                "params must be an array or an object, not {}",
                kind_of(&other)
            ))
        }
    }
    let mut command = Command::new(name);
    match session_type {
        SessionType::CmdsOnly => {}
        SessionType::CmdsParamsOnly => {
            command.params = pairs.into_iter().map(|(n, _)| (n, None)).collect();
        }
        SessionType::CmdsParamsValues => command.params = pairs,
    }
    Ok(command)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_shapes_and_every_command_layout() {
        let s = parse_session_line(r#"["Set-User", "Set-Mailbox"]"#, SessionType::CmdsOnly)
            .expect("array");
        assert_eq!(
            s.commands,
            vec![Command::new("Set-User"), Command::new("Set-Mailbox")]
        );
        assert_eq!(s.id, None);

        let line = r#"{"id": 7, "user": "bob", "start": "2024-03-04T09:00:00Z", "nCmds": 3,
            "session": [
              {"name": "A", "params": ["x", "y"]},
              {"name": "B", "params": [["x", "1"], ["y", null], ["z", 2]]},
              {"name": "C", "params": [{"Name": "Identity", "Value": "bob"}]},
              {"name": "D", "params": {"k": "v", "n": null}},
              {"name": "E"}
            ]}"#;
        let s = parse_session_line(line, SessionType::CmdsParamsValues).expect("object");
        assert_eq!(s.id.as_deref(), Some("7"));
        assert_eq!(s.user.as_deref(), Some("bob"));
        assert!(s.start.is_some() && s.end.is_none());
        assert_eq!(
            s.commands,
            vec![
                Command::new("A").param("x").param("y"),
                Command::new("B")
                    .param_value("x", "1")
                    .param("y")
                    .param_value("z", "2"),
                Command::new("C").param_value("Identity", "bob"),
                Command::new("D").param_value("k", "v").param("n"),
                Command::new("E"),
            ]
        );
        // The params type keeps names only; the cmds type names only.
        let p = parse_session_line(line, SessionType::CmdsParamsOnly).expect("params");
        assert_eq!(
            p.commands[1],
            Command::new("B").param("x").param("y").param("z")
        );
        let c = parse_session_line(line, SessionType::CmdsOnly).expect("cmds");
        assert_eq!(c.commands[1], Command::new("B"));
    }

    #[test]
    fn bad_lines_say_what_is_wrong() {
        let cases = [
            ("not json", "not a JSON value"),
            ("[]", "empty session"),
            ("\"Set-User\"", "expected an array of commands"),
            (r#"{"id": "x"}"#, "needs a \"session\""),
            (r#"{"session": "Set-User"}"#, "must be an array of commands"),
            (r#"[1]"#, "command 1: expected a string"),
            (
                r#"["a", {"params": []}]"#,
                "command 2: an object command needs a \"name\"",
            ),
            (r#"[{"name": "a", "params": [["x"]]}]"#, "[name, value]"),
            (r#"[{"name": "a", "params": 3}]"#, "params must be"),
            (r#"{"session": ["a"], "start": "yesterday"}"#, "\"start\""),
            (r#"{"session": ["a"], "id": [1]}"#, "id must be"),
        ];
        for (line, expected) in cases {
            let err = parse_session_line(line, SessionType::CmdsParamsValues).expect_err(line);
            assert!(err.contains(expected), "{line}: {err}");
        }
    }
}
