//! Ingestion benchmark (not a test): generates large inputs from the shared samples and measures
//! events/s, MB/s, CPU time and peak memory per format; for EVTX also the time the `evtx` crate
//! alone takes to iterate the same files with `records_json_bytes()`. Driven by
//! `bench/ingest.sh`, which pins it to one core.
//!
//! ```text
//! ingest_bench generate <data dir> <out dir> <MB per format>
//! ingest_bench run <format> <input dir> [--extra | --threads N]   # one process per run: peak RSS is per run
//! ingest_bench evtx-raw <input dir>
//! ```

use oddhunt_ingest::{read_events, resolve_inputs, IngestOptions, LogFormat};
use std::fs::{self, File};
use std::io::{BufWriter, Read, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

fn read_maybe_gz(path: &Path) -> std::io::Result<Vec<u8>> {
    let raw = fs::read(path)?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..]).read_to_end(&mut out)?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Writes `header` once and then `body` repeatedly until `target` bytes.
fn replicate(out: &Path, header: &[u8], body: &[u8], target: u64) -> std::io::Result<u64> {
    let mut w = BufWriter::with_capacity(1 << 20, File::create(out)?);
    w.write_all(header)?;
    let mut written = header.len() as u64;
    while written < target {
        w.write_all(body)?;
        written += body.len() as u64;
    }
    w.flush()?;
    Ok(written)
}

/// Splits a Zeek log into its leading `#` header lines and its data lines (no `#close`).
fn zeek_parts(text: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut header = Vec::new();
    let mut body = Vec::new();
    for line in text.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b"#close") {
            continue;
        }
        if line.starts_with(b"#") {
            header.extend_from_slice(line);
        } else {
            body.extend_from_slice(line);
        }
    }
    (header, body)
}

fn generate(data: &Path, out: &Path, megabytes: u64) -> std::io::Result<()> {
    let target = megabytes << 20;
    fs::create_dir_all(out)?;
    // JSON lines: Windows process creations (OTRF, NXLog shape, ~3 KB per record).
    let jsonl = read_maybe_gz(&data.join("otrf_security_datasets/process_creation.jsonl.gz"))?;
    let dir = out.join("jsonl");
    fs::create_dir_all(&dir)?;
    let n = replicate(&dir.join("process_creation.jsonl"), b"", &jsonl, target)?;
    println!("generated jsonl {n} bytes");
    // JSON lines with small records: Zeek JSON dns.log (~490 bytes per record).
    let small = read_maybe_gz(&data.join("zeek_dns/otrf_apt29/day2_NEWYORK_dns.log"))?;
    let dir = out.join("jsonl-small");
    fs::create_dir_all(&dir)?;
    let n = replicate(&dir.join("dns.json"), b"", &small, target)?;
    println!("generated jsonl-small {n} bytes");
    // Zeek TSV dns.log.
    let zeek = read_maybe_gz(&data.join("zeek_dns/rita/proxy/dns.16_00_00-17_00_00.log.gz"))?;
    let (header, body) = zeek_parts(&zeek);
    let dir = out.join("zeek");
    fs::create_dir_all(&dir)?;
    let n = replicate(&dir.join("dns.log"), &header, &body, target)?;
    println!("generated zeek {n} bytes");
    // Apache combined access log.
    let access = read_maybe_gz(
        &data.join("web_access_logs/elastic_apache_logs/apache_logs_2015-05-17_18.log.gz"),
    )?;
    let dir = out.join("access");
    fs::create_dir_all(&dir)?;
    let n = replicate(&dir.join("access.log"), b"", &access, target)?;
    println!("generated access {n} bytes");
    // CSV: Log Analytics 4688 export.
    let csv = read_maybe_gz(&data.join("msticpy_demo_data/win_proc_test.csv.gz"))?;
    let split = csv.iter().position(|&b| b == b'\n').map_or(0, |i| i + 1);
    let dir = out.join("csv");
    fs::create_dir_all(&dir)?;
    let n = replicate(
        &dir.join("win_proc.csv"),
        &csv[..split],
        &csv[split..],
        target,
    )?;
    println!("generated csv {n} bytes");
    // EVTX: copies of every sample file (EVTX cannot be concatenated).
    let dir = out.join("evtx");
    fs::create_dir_all(&dir)?;
    let mut samples: Vec<(String, Vec<u8>)> = Vec::new();
    for folder in ["evtx_attack_samples/evtx", "evtx_parser_samples"] {
        let mut entries: Vec<PathBuf> = fs::read_dir(data.join(folder))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.to_string_lossy().contains(".evtx"))
            .collect();
        entries.sort();
        for path in entries {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().trim_end_matches(".gz").to_string())
                .unwrap_or_default();
            // The damaged sysmon.evtx would make the comparison about error paths.
            if name == "sysmon.evtx" {
                continue;
            }
            samples.push((name, read_maybe_gz(&path)?));
        }
    }
    let mut written = 0u64;
    let mut copy = 0;
    while written < target {
        for (name, bytes) in &samples {
            fs::write(dir.join(format!("{copy:03}_{name}")), bytes)?;
            written += bytes.len() as u64;
        }
        copy += 1;
    }
    println!(
        "generated evtx {written} bytes in {} files",
        copy * samples.len()
    );
    Ok(())
}

/// CPU seconds of this process (user + system).
fn cpu_seconds() -> f64 {
    let stat = fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// Peak resident set size in MiB (`VmHWM`).
fn peak_rss_mib() -> f64 {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn run(format: &str, dir: &Path, extra: bool, threads: usize) -> Result<(), String> {
    let sources = resolve_inputs(&[dir.display().to_string()]).map_err(|e| e.to_string())?;
    let options = IngestOptions {
        format: Some(
            format
                .parse()
                .map_err(|e: oddhunt_ingest::IngestError| e.to_string())?,
        ),
        keep_extra: extra,
        threads,
        log_format: (format == "access").then(|| LogFormat::COMBINED.to_string()),
        ..IngestOptions::default()
    };
    let start = Instant::now();
    let cpu = cpu_seconds();
    let mut events = 0u64;
    let mut text = 0u64;
    let summary = read_events(&sources, &options, |e| {
        events += 1;
        text += e
            .get(oddhunt_core::Field::Host)
            .map_or(0, |h| h.len() as u64);
        ControlFlow::Continue(())
    })
    .map_err(|e| e.to_string())?;
    let wall = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    let mb = summary.bytes as f64 / 1e6;
    println!(
        "{format:6} threads={threads} extra={:5} files={:5} MB={:8.1} records={:9} events={:9} wall={:6.2}s cpu={:6.2}s \
         events/s={:9.0} MB/s={:6.1} (per cpu-s {:6.1}) peak_rss={:5.1} MiB errors={} [{text}]",
        extra,
        summary.files,
        mb,
        summary.records,
        events,
        wall,
        cpu,
        events as f64 / wall,
        mb / wall,
        mb / cpu.max(1e-9),
        peak_rss_mib(),
        summary.errors(),
    );
    Ok(())
}

/// The evtx crate alone, one thread: iterate `records_json_bytes()` (or, with `xml`,
/// `records_bytes()`, the rendering ingestion uses) over every file.
fn evtx_raw(dir: &Path, xml: bool) -> Result<(), String> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    let start = Instant::now();
    let cpu = cpu_seconds();
    let mut records = 0u64;
    let mut bytes = 0u64;
    let mut out = 0u64;
    for path in &files {
        bytes += fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let Ok(parser) = evtx::EvtxParser::from_path(path) else {
            continue;
        };
        let mut parser =
            parser.with_configuration(evtx::ParserSettings::new().num_threads(1).indent(!xml));
        if xml {
            for record in parser.records_bytes().flatten() {
                records += 1;
                out += record.data.len() as u64;
            }
        } else {
            for record in parser.records_json_bytes().flatten() {
                records += 1;
                out += record.data.len() as u64;
            }
        }
    }
    let wall = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    println!(
        "evtx-raw ({}, 1 thread) files={} MB={:8.1} records={records} wall={wall:6.2}s \
         cpu={cpu:6.2}s records/s={:9.0} MB/s={:6.1} peak_rss={:5.1} MiB [{out}]",
        if xml {
            "records_bytes, XML"
        } else {
            "records_json_bytes"
        },
        files.len(),
        bytes as f64 / 1e6,
        records as f64 / wall,
        bytes as f64 / 1e6 / wall,
        peak_rss_mib(),
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["generate", data, out, mb] => generate(
            Path::new(data),
            Path::new(out),
            mb.parse().unwrap_or(200),
        )
        .map_err(|e| e.to_string()),
        ["run", format, dir] => run(format, Path::new(dir), false, 1),
        ["run", format, dir, "--extra"] => run(format, Path::new(dir), true, 1),
        ["run", format, dir, "--threads", n] => {
            run(format, Path::new(dir), false, n.parse().unwrap_or(1))
        }
        ["evtx-raw", dir] => evtx_raw(Path::new(dir), false),
        ["evtx-raw", dir, "--xml"] => evtx_raw(Path::new(dir), true),
        _ => Err("usage: ingest_bench generate <data> <out> <MB> | run <format> <dir> [--extra] | evtx-raw <dir>".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
