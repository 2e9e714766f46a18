//! Benchmark driver for the Markov model and the sessionizer (run by `bench/markov.sh`).
//!
//! Generates deterministic workloads, runs oddhunt on them and prints figures; the msticpy
//! side lives in `bench/markov_msticpy.py`. Times are CPU time of the measuring thread
//! (`/proc/thread-self/schedstat`) and wall time; memory is the process's peak RSS (VmHWM).
//!
//! ```text
//! markov_bench gen-events N FILE            events as JSON lines (user, ip, ts, eid, command)
//! markov_bench sessionize FILE OUT          sessionize_all + streaming on FILE; boundaries to OUT
//! markov_bench stream N                     streaming sessionizer on N generated events (RSS)
//! markov_bench gen-sessions TYPE N FILE     sessions in the fixture layout
//! markov_bench score FILE OUT               train + score (L=3, tokens, no geo mean) to OUT
//! ```

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::time::Instant;

use oddhunt_models::markov::{
    train_and_score, Command, MarkovCounts, MarkovModel, ScoreOptions, SessionType,
};
use oddhunt_models::sessionize::{sessionize_all, SessionEvent, SessionLimits, Sessionizer};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

type Error = Box<dyn std::error::Error>;

/// CPU time of this thread in seconds.
fn thread_cpu() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .next()
                .and_then(|n| n.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |ns| ns / 1e9)
}

/// CPU time of all threads of this process in seconds (ns resolution, unlike /proc/self/stat).
fn process_cpu() -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return f64::NAN;
    };
    tasks
        .filter_map(|t| t.ok())
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| {
            s.split_whitespace()
                .next()
                .and_then(|n| n.parse::<f64>().ok())
        })
        .sum::<f64>()
        / 1e9
}

/// Peak resident set size in MiB.
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

struct Timer {
    cpu: f64,
    wall: Instant,
}

impl Timer {
    fn start() -> Self {
        Timer {
            cpu: thread_cpu(),
            wall: Instant::now(),
        }
    }
    fn stop(&self) -> (f64, f64) {
        (thread_cpu() - self.cpu, self.wall.elapsed().as_secs_f64())
    }
}

const COMMANDS: &[&str] = &[
    "Set-Mailbox",
    "Set-User",
    "Get-Mailbox",
    "New-InboxRule",
    "Set-InboxRule",
    "Add-MailboxPermission",
    "Remove-MailboxPermission",
    "New-TransportRule",
    "Set-TransportRule",
    "Get-User",
    "Set-CASMailbox",
    "New-ManagementRoleAssignment",
    "Add-RoleGroupMember",
    "Set-OrganizationConfig",
    "Get-InboxRule",
    "Remove-InboxRule",
    "Set-MailboxAutoReplyConfiguration",
    "New-Mailbox",
    "Remove-Mailbox",
    "Enable-Mailbox",
];

/// A bursty, time-ordered event stream: a few actors active at a time, each issuing runs of
/// commands seconds apart, with pauses that split sessions.
struct EventStream {
    rng: ChaCha8Rng,
    time: i64,
    index: u64,
    active: Vec<(u32, u8)>,
}

impl EventStream {
    fn new() -> Self {
        EventStream {
            rng: ChaCha8Rng::seed_from_u64(20240611),
            time: 1_700_000_000_000_000_000,
            index: 0,
            active: Vec::new(),
        }
    }
}

struct GenEvent {
    user: Option<String>,
    ip: Option<String>,
    time: i64,
    eid: u64,
    command: &'static str,
}

impl Iterator for EventStream {
    type Item = GenEvent;
    fn next(&mut self) -> Option<GenEvent> {
        let r = &mut self.rng;
        // Mean 0.5 s between events overall, in whole milliseconds (ties happen).
        self.time += r.random_range(0..1000) * 1_000_000;
        if self.active.len() < 40 || r.random_bool(0.02) {
            let user = r.random_range(0..20_000u32);
            let ip = r.random_range(0..4u8);
            if self.active.len() >= 40 {
                let i = r.random_range(0..self.active.len());
                self.active.swap_remove(i);
            }
            self.active.push((user, ip));
        }
        let (user, ip) = self.active[r.random_range(0..self.active.len())];
        let command = COMMANDS[(user as usize
            + r.random_range(0..6usize) * r.random_range(0..4usize))
            % COMMANDS.len()];
        let event = GenEvent {
            // Nulls in both key columns, as real logs have.
            user: (user % 97 != 0).then(|| format!("user{user}")),
            ip: (ip != 3).then(|| format!("10.{}.{}.{}", user / 256 % 256, user % 256, ip)),
            time: self.time,
            eid: self.index,
            command,
        };
        self.index += 1;
        Some(event)
    }
}

fn gen_events(n: usize, path: &str) -> Result<(), Error> {
    let mut out = BufWriter::new(File::create(path)?);
    for e in EventStream::new().take(n) {
        serde_json::to_writer(
            &mut out,
            &json!({"user": e.user, "ip": e.ip, "ts": e.time, "eid": e.eid.to_string(), "command": e.command}),
        )?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

fn read_events(path: &str) -> Result<Vec<SessionEvent<u64>>, Error> {
    let mut events = Vec::new();
    for line in BufReader::new(File::open(path)?).lines() {
        let v: Value = serde_json::from_str(&line?)?;
        events.push(SessionEvent {
            keys: vec![
                v["user"].as_str().map(str::to_string),
                v["ip"].as_str().map(str::to_string),
            ],
            time: v["ts"].as_i64().ok_or("ts")?,
            payload: v["eid"].as_str().ok_or("eid")?.parse()?,
        });
    }
    Ok(events)
}

fn sessionize(path: &str, out: &str) -> Result<(), Error> {
    let events = read_events(path)?;
    let n = events.len();
    let limits = SessionLimits::default();

    let input = events.clone();
    let t = Timer::start();
    let sessions = sessionize_all(input, 2, limits)?;
    let (cpu_all, wall_all) = t.stop();

    let t = Timer::start();
    let mut streaming = Sessionizer::new(2, limits, 0)?;
    let mut streamed = 0usize;
    for e in &events {
        let keys = [e.keys[0].as_deref(), e.keys[1].as_deref()];
        streaming.push(&keys, e.time, e.payload)?;
        streamed += streaming.drain_closed().count();
    }
    streamed += streaming.finish().len();
    let (cpu_stream, wall_stream) = t.stop();

    let boundaries: Vec<Value> = sessions
        .iter()
        .map(|s| json!({"keys": s.keys, "events": s.events, "start": s.start, "end": s.end}))
        .collect();
    serde_json::to_writer(
        BufWriter::new(File::create(out)?),
        &json!({"events": n, "cpu_all": cpu_all, "cpu_stream": cpu_stream, "sessions": boundaries}),
    )?;
    println!(
        "oddhunt sessionize_all: {n} events -> {} sessions in {cpu_all:.3} s CPU ({wall_all:.3} s wall) = {:.2} M events/s",
        sessions.len(),
        n as f64 / cpu_all / 1e6
    );
    println!(
        "oddhunt streaming:      {n} events -> {streamed} sessions in {cpu_stream:.3} s CPU ({wall_stream:.3} s wall) = {:.2} M events/s",
        n as f64 / cpu_stream / 1e6
    );
    Ok(())
}

fn stream(n: usize) -> Result<(), Error> {
    let t = Timer::start();
    let mut streaming = Sessionizer::new(2, SessionLimits::default(), 0)?;
    let (mut sessions, mut events_out, mut max_open) = (0usize, 0usize, 0usize);
    for e in EventStream::new().take(n) {
        let keys = [e.user.as_deref(), e.ip.as_deref()];
        streaming.push(&keys, e.time, e.command)?;
        for s in streaming.drain_closed() {
            sessions += 1;
            events_out += s.len();
        }
        max_open = max_open.max(streaming.stats().open_sessions);
    }
    for s in streaming.finish() {
        sessions += 1;
        events_out += s.len();
    }
    let (cpu, wall) = t.stop();
    assert_eq!(events_out, n, "every event in one session");
    println!(
        "oddhunt streaming (generated on the fly): {n} events -> {sessions} sessions, at most {max_open} open, \
         {cpu:.3} s CPU ({wall:.3} s wall, incl. generation), peak RSS {:.1} MiB",
        peak_rss_mib()
    );
    Ok(())
}

fn session_type(name: &str) -> Result<SessionType, Error> {
    Ok(match name {
        "cmds_only" => SessionType::CmdsOnly,
        "cmds_params_only" => SessionType::CmdsParamsOnly,
        "cmds_params_values" => SessionType::CmdsParamsValues,
        other => return Err(format!("unknown session type {other}").into()),
    })
}

const PARAMS: &[&str] = &[
    "Identity",
    "Force",
    "City",
    "Name",
    "DeliverToMailboxAndForward",
    "ForwardingSmtpAddress",
    "AccessRights",
    "User",
    "Confirm",
    "ErrorAction",
];

/// Sessions from a random first-order "world": per command a preferred successor table, a
/// param set and values drawn from small (modellable) or large (free-text) vocabularies.
fn gen_sessions(st: SessionType, n: usize, path: &str) -> Result<(), Error> {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut out = BufWriter::new(File::create(path)?);
    write!(
        out,
        "{{\"session_type\": \"{}\", \"sessions\": [",
        st.as_str()
    )?;
    for i in 0..n {
        if i > 0 {
            out.write_all(b",")?;
        }
        let len = 1 + rng.random_range(0..6usize) + rng.random_range(0..6usize);
        let mut cmd = rng.random_range(0..COMMANDS.len());
        let mut session = Vec::with_capacity(len);
        for _ in 0..len {
            cmd = (cmd
                + [1, 1, 2, 3, rng.random_range(0..COMMANDS.len())][rng.random_range(0..5usize)])
                % COMMANDS.len();
            let name = COMMANDS[cmd];
            let element = match st {
                SessionType::CmdsOnly => json!(name),
                _ => {
                    let mut params = Vec::new();
                    for (k, p) in PARAMS.iter().enumerate() {
                        if (cmd + k) % 3 == 0 && rng.random_bool(0.8) || rng.random_bool(0.05) {
                            let value = match k % 3 {
                                0 => format!("v{}", rng.random_range(0..3u32)),
                                1 => format!("user{}@contoso.com", rng.random_range(0..5000u32)),
                                _ => ["", "true", "false"][rng.random_range(0..3usize)].to_string(),
                            };
                            params.push((p.to_string(), value));
                        }
                    }
                    if st == SessionType::CmdsParamsOnly {
                        json!({"name": name, "params": params.iter().map(|p| &p.0).collect::<Vec<_>>()})
                    } else {
                        json!({"name": name, "params": params})
                    }
                }
            };
            session.push(element);
        }
        serde_json::to_writer(&mut out, &session)?;
    }
    out.write_all(b"]}")?;
    out.flush()?;
    Ok(())
}

fn parse_command(v: &Value) -> Result<Command, Error> {
    if let Some(name) = v.as_str() {
        return Ok(Command::new(name));
    }
    let mut c = Command::new(v["name"].as_str().ok_or("name")?);
    for p in v["params"].as_array().ok_or("params")? {
        match p {
            Value::String(s) => c.params.push((s.clone(), None)),
            Value::Array(pair) => c.params.push((
                pair[0].as_str().ok_or("param")?.to_string(),
                pair[1].as_str().map(str::to_string),
            )),
            _ => return Err("bad param".into()),
        }
    }
    Ok(c)
}

fn score(path: &str, out: &str) -> Result<(), Error> {
    let v: Value = serde_json::from_reader(BufReader::new(File::open(path)?))?;
    let st = session_type(v["session_type"].as_str().ok_or("session_type")?)?;
    let sessions: Vec<Vec<Command>> = v["sessions"]
        .as_array()
        .ok_or("sessions")?
        .iter()
        .map(|s| {
            s.as_array()
                .ok_or("session")
                .map(|s| s.iter().map(parse_command).collect::<Result<Vec<_>, _>>())
        })
        .collect::<Result<Result<Vec<_>, _>, _>>()??;
    let opts = ScoreOptions::default();

    // The estimator path a detector uses: observe, fit, score (one thread).
    let t = Timer::start();
    let mut counts = MarkovCounts::new(st);
    for s in &sessions {
        counts.observe(s)?;
    }
    let model = MarkovModel::fit(counts, None)?;
    let (cpu_train, _) = t.stop();
    let t = Timer::start();
    let scores = sessions
        .iter()
        .map(|s| model.score(s, &opts))
        .collect::<Result<Vec<_>, _>>()?;
    let (cpu_score, _) = t.stop();

    // msticpy's workflow (train on the sessions, score the same sessions): train_and_score,
    // on one thread and on the whole rayon pool.
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    let (cpu0, wall0) = (process_cpu(), Instant::now());
    let (_, single) = one.install(|| train_and_score(&sessions, st, None, &opts))?;
    let (cpu_single, wall_single) = (process_cpu() - cpu0, wall0.elapsed().as_secs_f64());
    let (cpu0, wall0) = (process_cpu(), Instant::now());
    let (_, pooled) = train_and_score(&sessions, st, None, &opts)?;
    let (cpu_pool, wall_pool) = (process_cpu() - cpu0, wall0.elapsed().as_secs_f64());
    let identical = single == scores && pooled == scores;

    let results: Vec<Value> = scores
        .iter()
        .map(|s| {
            json!({
                "lik": format!("{:016x}", s.likelihood.to_bits()),
                "rarest": s.rarest.index.map(|_| format!("{:016x}", s.rarest.likelihood.to_bits())),
                "start": s.rarest.window.start,
                "end": s.rarest.window.end,
            })
        })
        .collect();
    serde_json::to_writer(
        BufWriter::new(File::create(out)?),
        &json!({
            "observe_fit_score_cpu": cpu_train + cpu_score,
            "train_and_score_1_thread_cpu": cpu_single,
            "train_and_score_pool_wall": wall_pool,
            "results": results,
        }),
    )?;
    let commands: usize = sessions.iter().map(Vec::len).sum();
    println!(
        "oddhunt {st}: {} sessions ({commands} commands), {} modellable params, model file {} KiB",
        sessions.len(),
        model.modellable_params().len(),
        serde_json::to_vec(&model)?.len() / 1024,
    );
    println!(
        "  observe+fit {cpu_train:.3} s CPU, score {cpu_score:.3} s CPU (strings looked up twice, one thread)"
    );
    println!(
        "  train_and_score: 1 thread {cpu_single:.3} s CPU ({wall_single:.3} s wall); {} threads {wall_pool:.3} s wall \
         ({cpu_pool:.3} s CPU); {}",
        rayon::current_num_threads(),
        if identical { "results identical on all paths" } else { "RESULTS DIFFER between paths" },
    );
    if !identical {
        return Err("train_and_score differs from observe/fit/score".into());
    }
    Ok(())
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| {
        args.get(i)
            .map(String::as_str)
            .ok_or_else(|| format!("missing argument {i}; see the module doc"))
    };
    match arg(0)? {
        "gen-events" => gen_events(arg(1)?.parse()?, arg(2)?),
        "sessionize" => sessionize(arg(1)?, arg(2)?),
        "stream" => stream(arg(1)?.parse()?),
        "gen-sessions" => gen_sessions(session_type(arg(1)?)?, arg(2)?.parse()?, arg(3)?),
        "score" => score(arg(1)?, arg(2)?),
        other => Err(format!("unknown command {other}").into()),
    }
}
