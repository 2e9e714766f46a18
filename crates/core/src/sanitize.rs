//! Making attacker-controlled text safe for where analysts read it.
//!
//! Command lines, URIs, user agents and DNS names are written by attackers. Each destination has
//! its own danger: a terminal obeys escape sequences (an attacker can recolour, hide or rewrite
//! lines, or set the window title), a spreadsheet evaluates cells that start with `=`, `+`, `-`,
//! `@` (CSV formula injection), and a browser runs markup. One function per destination.

use std::borrow::Cow;

/// Whether a character must not reach a terminal as is: C0 and C1 controls (except none: tab and
/// newline are replaced too, so one record stays one table row), DEL, and the Unicode bidi
/// overrides and isolates that can reorder what the analyst sees ("Trojan Source").
fn is_unsafe_for_terminal(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
        )
}

/// Text safe to print on a terminal: control characters, DEL and bidi controls are shown as
/// visible escapes (`\e`, `\n`, `\t`, `\x07`, `\u{202e}`), so nothing is hidden and nothing is
/// obeyed.
pub fn terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe_for_terminal) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !is_unsafe_for_terminal(c) {
            out.push(c);
            continue;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{1b}' => out.push_str("\\e"),
            c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    Cow::Owned(out)
}

/// A CSV cell that a spreadsheet will not evaluate: a value starting with `=`, `+`, `-`, `@`, tab
/// or carriage return gets a leading apostrophe (OWASP's recommendation). Quoting is the CSV
/// writer's job.
pub fn csv_cell(text: &str) -> Cow<'_, str> {
    match text.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => Cow::Owned(format!("'{text}")),
        _ => Cow::Borrowed(text),
    }
}

/// Text safe inside HTML element content and quoted attribute values.
pub fn html(text: &str) -> Cow<'_, str> {
    if !text
        .bytes()
        .any(|b| matches!(b, b'<' | b'>' | b'&' | b'"' | b'\''))
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// JSON text safe to embed in an HTML `<script>` element: `<`, `>`, `&` and the JavaScript line
/// separators are written as `\u` escapes, so no value can close the script element or open a
/// comment, and the data still parses to the same strings.
pub fn json_for_script(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// Truncates to at most `max` characters, marking the cut with `…`.
pub fn truncate(text: &str, max: usize) -> Cow<'_, str> {
    if text.chars().count() <= max {
        return Cow::Borrowed(text);
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes_are_shown_not_obeyed() {
        let evil = "cmd.exe /c \x1b[2J\x1b]0;owned\x07 echo\r\nhidden\u{202e}txt.exe";
        let safe = terminal(evil);
        assert!(!safe.chars().any(|c| c.is_control()));
        assert!(!safe.contains('\u{202e}'));
        assert_eq!(
            safe,
            "cmd.exe /c \\e[2J\\e]0;owned\\x07 echo\\r\\nhidden\\u{202e}txt.exe"
        );
        assert!(matches!(terminal("plain"), Cow::Borrowed(_)));
        // C1 control (CSI as one character).
        assert_eq!(terminal("a\u{9b}b"), "a\\x9bb");
    }

    #[test]
    fn csv_formulas_are_neutralised() {
        for evil in ["=cmd|' /C calc'!A0", "+1", "-2+3", "@SUM(1)", "\tx", "\rx"] {
            assert!(csv_cell(evil).starts_with('\''), "{evil}");
        }
        assert_eq!(csv_cell("cmd.exe"), "cmd.exe");
    }

    #[test]
    fn html_and_script_json() {
        assert_eq!(
            html(r#"<img src=x onerror="alert('1')">&"#),
            "&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;"
        );
        let json = serde_json::to_string("</script><script>alert(1)</script>").unwrap();
        let safe = json_for_script(&json);
        assert!(!safe.contains("</script"));
        let back: String = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, "</script><script>alert(1)</script>");
    }

    #[test]
    fn truncates_by_characters() {
        assert_eq!(truncate("héllo", 10), "héllo");
        assert_eq!(truncate("héllo wörld", 6), "héllo…");
    }
}
