//! A whole organisation's logs at once: Windows process creations, Exchange admin activity,
//! Zeek DNS and the web server's access log, with every attack oddhunt's detectors hunt
//! injected on the last day. `oddhunt generate` and `oddhunt demo` both write it.
//!
//! With `split`, each log is written twice over: the days before the last as the baseline
//! (`baseline-*`) and the last day (`today-*`), which is how a hunt runs (train on the past,
//! score today).

use crate::environment::Environment;
use crate::{dns, exchange, process_attacks, web, windows, Label};
use rand_chacha::ChaCha8Rng;
use std::io::Write;
use std::path::{Path, PathBuf};

/// What to generate.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Mean process creations per host per weekday.
    pub events_per_host_day: f64,
    /// Mean DNS look-ups per host per weekday.
    pub dns_queries_per_host_day: f64,
    /// Admin sessions per Exchange admin per weekday.
    pub admin_sessions_per_day: f64,
    /// Visitors of the web server per day.
    pub web_visitors_per_day: usize,
    /// Inject the attacks on the last day.
    pub attacks: bool,
    /// Write baseline and last day to separate files.
    pub split: bool,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            events_per_host_day: 150.0,
            dns_queries_per_host_day: 200.0,
            admin_sessions_per_day: 2.0,
            web_visitors_per_day: 300,
            attacks: true,
            split: false,
        }
    }
}

/// The log kinds a scenario writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogKind {
    /// Security 4688 as Sentinel `SecurityEvent` JSON lines.
    Process,
    /// Exchange Online admin audit JSON lines.
    Exchange,
    /// Zeek `dns.log` (TSV).
    Dns,
    /// Apache combined access log.
    Web,
}

impl LogKind {
    /// Every kind.
    pub const ALL: [LogKind; 4] = [
        LogKind::Process,
        LogKind::Exchange,
        LogKind::Dns,
        LogKind::Web,
    ];

    fn file_name(self) -> &'static str {
        match self {
            LogKind::Process => "security-4688.jsonl",
            LogKind::Exchange => "exchange-admin.jsonl",
            LogKind::Dns => "dns.log",
            LogKind::Web => "access.log",
        }
    }
}

/// One file written.
#[derive(Clone, Debug)]
pub struct LogFile {
    /// What it holds.
    pub kind: LogKind,
    /// Where.
    pub path: PathBuf,
    /// Baseline days (`false`: the last day, or everything when not split).
    pub baseline: bool,
    /// Records written.
    pub records: u64,
}

/// What [`write`] produced.
#[derive(Clone, Debug, Default)]
pub struct Written {
    /// The files.
    pub files: Vec<LogFile>,
    /// The injected attacks.
    pub labels: Vec<Label>,
    /// Executable paths of the injected look-alike binaries (for detectors whose subject is an
    /// executable, which normalise the path their own way).
    pub dropped_executables: Vec<String>,
}

impl Written {
    /// The file of `kind` for the baseline (`true`) or the last day.
    pub fn file(&self, kind: LogKind, baseline: bool) -> Option<&Path> {
        self.files
            .iter()
            .find(|f| f.kind == kind && f.baseline == baseline)
            .map(|f| f.path.as_path())
    }
}

/// Lines of one day, to go to the baseline or the last-day file.
struct Splitter {
    kind: LogKind,
    baseline: (PathBuf, std::io::BufWriter<std::fs::File>, u64),
    today: Option<(PathBuf, std::io::BufWriter<std::fs::File>, u64)>,
}

impl Splitter {
    fn new(dir: &Path, kind: LogKind, split: bool, header: &str) -> std::io::Result<Splitter> {
        let open =
            |name: String| -> std::io::Result<(PathBuf, std::io::BufWriter<std::fs::File>, u64)> {
                let path = dir.join(name);
                let mut w = std::io::BufWriter::new(std::fs::File::create(&path)?);
                w.write_all(header.as_bytes())?;
                Ok((path, w, 0))
            };
        Ok(if split {
            Splitter {
                kind,
                baseline: open(format!("baseline-{}", kind.file_name()))?,
                today: Some(open(format!("today-{}", kind.file_name()))?),
            }
        } else {
            Splitter {
                kind,
                baseline: open(kind.file_name().to_string())?,
                today: None,
            }
        })
    }

    fn line(&mut self, last_day: bool, line: &str) -> std::io::Result<()> {
        let target = match (&mut self.today, last_day) {
            (Some(today), true) => today,
            _ => &mut self.baseline,
        };
        target.1.write_all(line.as_bytes())?;
        target.1.write_all(b"\n")?;
        target.2 += 1;
        Ok(())
    }

    fn finish(self, out: &mut Vec<LogFile>) -> std::io::Result<()> {
        let (path, mut w, records) = self.baseline;
        w.flush()?;
        out.push(LogFile {
            kind: self.kind,
            path,
            baseline: self.today.is_some(),
            records,
        });
        if let Some((path, mut w, records)) = self.today {
            w.flush()?;
            out.push(LogFile {
                kind: self.kind,
                path,
                baseline: false,
                records,
            });
        }
        Ok(())
    }
}

/// Writes the organisation's logs into `dir` (which must exist).
pub fn write(
    env: &Environment,
    rng: &mut ChaCha8Rng,
    scenario: &Scenario,
    dir: &Path,
) -> std::io::Result<Written> {
    let mut written = Written::default();
    let last = env.days.saturating_sub(1);
    let attacks = scenario.attacks;

    // Windows process creations: look-alike binaries, living-off-the-land command lines and an
    // hour of discovery commands on one host.
    let mut process = Splitter::new(dir, LogKind::Process, scenario.split, "")?;
    let options = windows::ProcessOptions {
        events_per_host_day: scenario.events_per_host_day,
        masquerade_day: None,
    };
    for day in 0..env.days {
        let mut records = windows::day_records(env, rng, day, &options);
        if attacks && day == last {
            let masquerades = windows::masquerade_injection(env, rng, day, &mut written.labels);
            written.dropped_executables.extend(
                masquerades
                    .iter()
                    .filter(|r| r.path.to_ascii_lowercase().contains(r"\windows\temp\"))
                    .map(|r| r.path.clone()),
            );
            records.extend(masquerades);
            records.extend(process_attacks::lolbin_injection(
                env,
                rng,
                day,
                &mut written.labels,
            ));
            records.extend(process_attacks::discovery_burst(
                env,
                rng,
                day,
                60,
                &mut written.labels,
            ));
        }
        records.sort_by_key(|r| r.time_ns);
        for r in &records {
            process.line(day == last, &r.to_json(env, rng))?;
        }
    }
    process.finish(&mut written.files)?;

    // Exchange admin sessions, with intrusion sessions on the last day.
    let mut admin = Splitter::new(dir, LogKind::Exchange, scenario.split, "")?;
    let options = exchange::ExchangeOptions {
        sessions_per_admin_day: scenario.admin_sessions_per_day,
        attack_day: None,
    };
    for day in 0..env.days {
        let mut records = exchange::day_records(env, rng, day, &options);
        if attacks && day == last {
            records.extend(exchange::attack_sessions(
                env,
                rng,
                day,
                &mut written.labels,
            ));
        }
        records.sort_by_key(|r| r.time_ns);
        for r in &records {
            admin.line(day == last, &r.to_json(env, rng))?;
        }
    }
    admin.finish(&mut written.files)?;

    // Zeek DNS: an iodine and a dnscat2 tunnel and a DGA burst on the last day.
    let opened = env.start.to_string();
    let opened = opened
        .get(..19)
        .unwrap_or("2024-03-04T00:00:00")
        .replace(['T', ':'], "-");
    let mut dns_log = Splitter::new(
        dir,
        LogKind::Dns,
        scenario.split,
        &dns::zeek_header(&opened),
    )?;
    let options = dns::DnsOptions {
        queries_per_host_day: scenario.dns_queries_per_host_day,
        ..dns::DnsOptions::default()
    };
    for day in 0..env.days {
        let mut records = dns::day_records(env, rng, day, &options);
        if attacks && day == last {
            let labels = &mut written.labels;
            records.extend(dns::tunnel_injection(
                env,
                rng,
                day,
                dns::TunnelKind::Iodine,
                2000,
                labels,
            ));
            records.extend(dns::tunnel_injection(
                env,
                rng,
                day,
                dns::TunnelKind::Dnscat2,
                800,
                labels,
            ));
            records.extend(dns::dga_injection(env, rng, day, 40, labels));
        }
        records.sort_by_key(|r| r.time_ns);
        for r in &records {
            dns_log.line(day == last, &r.to_zeek_tsv(rng))?;
        }
    }
    dns_log.finish(&mut written.files)?;

    // The web server: two vulnerability scanners on the last day.
    let mut access = Splitter::new(dir, LogKind::Web, scenario.split, "")?;
    let options = web::WebOptions {
        visitors_per_day: scenario.web_visitors_per_day,
        scanner_day: None,
    };
    for day in 0..env.days {
        let mut records = web::day_records(env, rng, day, &options);
        if attacks && day == last {
            let labels = &mut written.labels;
            records.extend(web::scanner_injection(env, rng, day, "nikto", 600, labels));
            records.extend(web::scanner_injection(env, rng, day, "sqlmap", 250, labels));
        }
        records.sort_by_key(|r| r.time_ns);
        for r in &records {
            access.line(day == last, &r.to_combined())?;
        }
    }
    access.finish(&mut written.files)?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn writes_every_log_split_by_day_with_labels() {
        let dir = std::env::temp_dir().join(format!("oddhunt-scenario-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let start = oddhunt_core::Timestamp::parse("2024-03-04T00:00:00Z").unwrap();
        let env = Environment::new(&mut rng, 12, 30, 3, start);
        let scenario = Scenario {
            events_per_host_day: 40.0,
            dns_queries_per_host_day: 40.0,
            web_visitors_per_day: 40,
            split: true,
            ..Scenario::default()
        };
        let written = write(&env, &mut rng, &scenario, &dir).unwrap();
        assert_eq!(written.files.len(), 8);
        for kind in LogKind::ALL {
            for baseline in [true, false] {
                let path = written.file(kind, baseline).unwrap();
                assert!(std::fs::metadata(path).unwrap().len() > 0, "{path:?}");
            }
        }
        for detector in [
            "masquerade",
            "cmdline",
            "proccount",
            "sequence",
            "dns",
            "web",
        ] {
            assert!(
                written.labels.iter().any(|l| l.detector == detector),
                "no label for {detector}"
            );
        }
        assert!(!written.dropped_executables.is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
