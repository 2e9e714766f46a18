//! What the `cmdline` detector reads from a process start: the executable and parent names it
//! counts, and the seed's input text for the autoencoder.

use oddhunt_core::{Event, Field};

/// The seed's input text: `domain_name + ' ' + username + ' ' + command_line + ' ' +
/// parent_process_name` (absent fields as empty strings, as a pandas column of empty strings
/// would be). `parent_process_name` is the parent's full path when the source has it (Windows
/// 4688's `ParentProcessName` is a path), else its file name.
pub fn seed_text(event: &Event) -> String {
    let domain = event.get(Field::Domain).unwrap_or("");
    let user = event.get(Field::User).unwrap_or("");
    let command_line = event.get(Field::CommandLine).unwrap_or("");
    let parent = event
        .get(Field::ParentPath)
        .or_else(|| event.get(Field::ParentName))
        .unwrap_or("");
    let mut text =
        String::with_capacity(domain.len() + user.len() + command_line.len() + parent.len() + 3);
    text.push_str(domain);
    text.push(' ');
    text.push_str(user);
    text.push(' ');
    text.push_str(command_line);
    text.push(' ');
    text.push_str(parent);
    text
}

/// Byte ranges of the four parts of [`seed_text`], to say which part an error lies in.
pub fn seed_parts(event: &Event) -> [(&'static str, std::ops::Range<usize>); 4] {
    let domain = event.get(Field::Domain).unwrap_or("").len();
    let user = event.get(Field::User).unwrap_or("").len();
    let command_line = event.get(Field::CommandLine).unwrap_or("").len();
    let parent = event
        .get(Field::ParentPath)
        .or_else(|| event.get(Field::ParentName))
        .unwrap_or("")
        .len();
    let u = domain + 1;
    let c = u + user + 1;
    let p = c + command_line + 1;
    [
        ("user.domain", 0..domain),
        ("user.name", u..u + user),
        ("process.command_line", c..c + command_line),
        ("process.parent", p..p + parent),
    ]
}

/// The seed's `max_length`: `int(mean + std)` of the training texts' lengths (numpy's
/// population std), at least 1.
pub fn max_length_rule(mean: f64, std: f64) -> usize {
    let v = (mean + std).floor();
    if v.is_finite() && v >= 1.0 {
        v as usize
    } else {
        1
    }
}

/// Appends `text` as byte ids cut or zero-padded to `max_length` (the seed pads with 0 and cuts
/// at the end).
pub fn push_padded(text: &[u8], max_length: usize, out: &mut Vec<u8>) {
    let n = text.len().min(max_length);
    out.extend_from_slice(&text[..n]);
    out.resize(out.len() + (max_length - n), 0);
}

/// The lower-cased executable file name: `process.name`, else the file name of
/// `process.executable`, else of the command line's program token.
pub fn executable(event: &Event) -> Option<String> {
    if let Some(name) = event.process_name() {
        let name = name.trim().trim_matches('"');
        if !name.is_empty() {
            return Some(name.to_lowercase());
        }
    }
    let command_line = event.get(Field::CommandLine)?;
    let (program, _) = super::template::program_token(command_line.trim());
    let name = oddhunt_core::file_name(program.trim_matches('"'));
    (!name.is_empty()).then(|| name.to_lowercase())
}

/// The executable's folder, normalised like a command template (lower case, user profiles as
/// `<user>`, numbers as `<n>`): from `process.executable`, else from a command line that starts
/// with a path; `-` when neither says.
pub fn folder(event: &Event) -> String {
    let path = match event.get(Field::ProcessPath) {
        Some(p) => p.trim().trim_matches('"').to_string(),
        None => {
            let command_line = event.get(Field::CommandLine).unwrap_or("");
            let (program, _) = super::template::program_token(command_line.trim());
            program.to_string()
        }
    };
    match path.rfind(['\\', '/']) {
        Some(i) => {
            let f = super::template::template(&path[..i]);
            if f.is_empty() {
                "-".to_string()
            } else {
                f
            }
        }
        None => "-".to_string(),
    }
}

/// The lower-cased parent file name, `-` when the source has none.
pub fn parent(event: &Event) -> String {
    event
        .parent_name()
        .map(|p| p.trim().to_lowercase())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "-".to_string())
}

/// The lower-cased host name, `-` when absent.
pub fn host(event: &Event) -> String {
    event
        .get(Field::Host)
        .map(str::to_lowercase)
        .unwrap_or_else(|| "-".to_string())
}

/// The lower-cased account (`domain\user` when the domain is separate), `-` when absent.
pub fn account(event: &Event) -> String {
    match (event.get(Field::Domain), event.get(Field::User)) {
        (Some(d), Some(u)) if !u.contains('\\') => format!("{d}\\{u}").to_lowercase(),
        (_, Some(u)) => u.to_lowercase(),
        (Some(d), None) => format!("{d}\\-").to_lowercase(),
        (None, None) => "-".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oddhunt_core::{EventBuilder, EventKind, Provenance};
    use std::sync::Arc;

    fn event() -> Event {
        let mut b = EventBuilder::new(EventKind::ProcessStart, Provenance::line(Arc::from("t"), 1));
        b.field(Field::Domain, "CORP")
            .field(Field::User, "alice")
            .field(Field::CommandLine, "cmd.exe /c whoami")
            .field(Field::ParentPath, r"C:\Windows\explorer.exe")
            .field(Field::ProcessPath, r"C:\Windows\System32\CMD.EXE");
        b.build()
    }

    #[test]
    fn seed_text_is_domain_user_command_parent() {
        let e = event();
        let text = seed_text(&e);
        assert_eq!(
            text,
            r"CORP alice cmd.exe /c whoami C:\Windows\explorer.exe"
        );
        let parts = seed_parts(&e);
        assert_eq!(&text[parts[0].1.clone()], "CORP");
        assert_eq!(&text[parts[1].1.clone()], "alice");
        assert_eq!(&text[parts[2].1.clone()], "cmd.exe /c whoami");
        assert_eq!(&text[parts[3].1.clone()], r"C:\Windows\explorer.exe");
        assert_eq!(executable(&e).as_deref(), Some("cmd.exe"));
        assert_eq!(parent(&e), "explorer.exe");
        assert_eq!(account(&e), r"corp\alice");
        assert_eq!(folder(&e), r"c:\windows\system<n>");
    }

    #[test]
    fn max_length_and_padding() {
        // numpy: int(np.mean([10, 20, 30]) + np.std([10, 20, 30])) == int(28.16...) == 28
        assert_eq!(max_length_rule(20.0, 8.16496580927726), 28);
        assert_eq!(max_length_rule(0.0, 0.0), 1);
        let mut out = Vec::new();
        push_padded(b"abc", 5, &mut out);
        push_padded(b"abcdefg", 5, &mut out);
        assert_eq!(out, b"abc\0\0abcde");
    }
}
