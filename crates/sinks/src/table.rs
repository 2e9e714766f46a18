//! Tables for people: findings and events on a terminal, fitted to its width, with every value
//! passed through `sanitize::terminal` (an attacker can put escape sequences into a command
//! line; the analyst sees them spelled out, the terminal never obeys them).

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, Color, ContentArrangement, Table};
use oddhunt_core::sanitize::{terminal, truncate};
use oddhunt_core::{Event, Field, Finding, Severity};

/// Table settings.
#[derive(Clone, Copy, Debug, Default)]
pub struct TableStyle {
    /// Total width in columns; `None` = the terminal's width (120 when not a terminal).
    pub width: Option<u16>,
    /// Colour severities (only on a terminal).
    pub color: bool,
}

fn new_table(style: TableStyle) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    let width = style.width.or_else(|| t.width()).unwrap_or(120);
    t.set_width(width);
    if style.color {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    t
}

fn safe(text: &str, max: usize) -> String {
    truncate(&terminal(text), max).into_owned()
}

fn severity_cell(s: Severity) -> Cell {
    let cell = Cell::new(s.name());
    match s {
        Severity::Critical => cell.fg(Color::Magenta),
        Severity::High => cell.fg(Color::Red),
        Severity::Medium => cell.fg(Color::Yellow),
        Severity::Low => cell.fg(Color::Green),
    }
}

/// A number with 4 significant digits.
pub fn short_number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v != 0.0 && (v.abs() < 1e-3 || v.abs() >= 1e5) {
        format!("{v:.3e}")
    } else {
        format!("{v:.4}")
    }
}

/// Findings as a table: severity, score, subject, who/where, summary, first seen.
pub fn findings<'a>(findings: impl IntoIterator<Item = &'a Finding>, style: TableStyle) -> String {
    let mut t = new_table(style);
    t.set_header(vec![
        "severity",
        "score",
        "subject",
        "host / user",
        "why",
        "first seen",
    ]);
    for f in findings {
        let ctx = &f.scored.context;
        let who = [
            ctx.get("host.name"),
            ctx.get("user.name"),
            ctx.get("source.ip"),
        ]
        .into_iter()
        .flatten()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" / ");
        let mut summary = safe(&f.scored.summary, 400);
        if let Some(rule) = &f.excluded_by {
            summary = format!("[excluded by {}] {summary}", safe(rule, 80));
        }
        t.add_row(vec![
            severity_cell(f.severity),
            Cell::new(short_number(f.scored.score)),
            Cell::new(safe(&f.scored.subject, 120)),
            Cell::new(safe(&who, 60)),
            Cell::new(summary),
            Cell::new(
                f.scored
                    .first_seen
                    .map(|t| t.to_string())
                    .unwrap_or_default(),
            ),
        ]);
    }
    t.to_string()
}

/// The main field of an event for a one-line view.
fn headline(e: &Event) -> String {
    let get = |f| e.get(f).unwrap_or("");
    match e.kind() {
        oddhunt_core::EventKind::ProcessStart => e
            .get(Field::CommandLine)
            .or(e.get(Field::ProcessPath))
            .unwrap_or("")
            .to_string(),
        oddhunt_core::EventKind::NetworkConnection => format!(
            "{}:{} → {}:{} {}",
            get(Field::SourceIp),
            get(Field::SourcePort),
            get(Field::DestinationIp),
            get(Field::DestinationPort),
            get(Field::Transport)
        ),
        oddhunt_core::EventKind::DnsQuery => format!(
            "{} {} {}",
            get(Field::Query),
            get(Field::QueryType),
            get(Field::ResponseCode)
        ),
        oddhunt_core::EventKind::HttpRequest => format!(
            "{} {} {} {}",
            get(Field::Method),
            get(Field::Url),
            get(Field::Status),
            get(Field::UserAgent)
        ),
        oddhunt_core::EventKind::Command => {
            let params = e
                .params()
                .map(|p| match p.value {
                    Some(v) => format!("-{} {}", p.name, v),
                    None => format!("-{}", p.name),
                })
                .collect::<Vec<_>>()
                .join(" ");
            format!("{} {}", get(Field::Operation), params)
        }
    }
}

/// Events as a table: time, kind, host, user, source, the main field, provenance.
pub fn events<'a>(events: impl IntoIterator<Item = &'a Event>, style: TableStyle) -> String {
    let mut t = new_table(style);
    t.set_header(vec![
        "time",
        "kind",
        "host",
        "user",
        "source ip",
        "what",
        "from",
    ]);
    for e in events {
        t.add_row(vec![
            e.time().map(|t| t.to_string()).unwrap_or_default(),
            e.kind().to_string(),
            safe(e.get(Field::Host).unwrap_or(""), 40),
            safe(e.get(Field::User).unwrap_or(""), 40),
            safe(e.get(Field::SourceIp).unwrap_or(""), 40),
            safe(&headline(e), 300),
            safe(&e.provenance().to_string(), 80),
        ]);
    }
    t.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use oddhunt_core::{EventBuilder, EventKind, Measure, Provenance, Scored};
    use std::sync::Arc;

    #[test]
    fn control_characters_never_reach_the_terminal() {
        let mut b = EventBuilder::new(
            EventKind::ProcessStart,
            Provenance::line(Arc::from("x.log"), 1),
        );
        b.field(Field::CommandLine, "cmd /c echo \x1b[31mred\x1b[0m\x07");
        let e = b.finish();
        let out = events([&e], TableStyle::default());
        assert!(!out.contains('\x1b'), "{out:?}");
        assert!(!out.contains('\x07'));
        assert!(out.contains("\\e[31mred"));

        let mut s = Scored::new("evil\x1b]0;title\x07", 1.0, Measure::new("m", 1.0));
        s.summary = "line\nbreak".into();
        let f = Finding::new("x", s, 0.5, true, Severity::High);
        let out = findings([&f], TableStyle::default());
        assert!(!out.contains('\x1b') && !out.contains('\x07'));
        assert!(out.contains("line\\nbreak"));
    }
}
