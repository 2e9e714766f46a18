//! Benchmark of oddhunt's dense-network core, run by `bench/nn.sh` next to the same networks in
//! TensorFlow/Keras (`bench/nn_keras.py`) on the same data files. Prints figures, asserts
//! nothing.
//!
//! ```text
//! nn_bench generate DIR [--cmdline-rows N] [--max-length L] [--proccount-rows N] [--seed S]
//! nn_bench train DIR cmdline|proccount [--max-length L] [--epochs E] [--batch B] [--shards K]
//!                                      [--score-rows N] [--progress]
//! ```
//!
//! `generate` writes `cmdline_L{L}.u8` (rows × L byte ids: synthetic Windows command lines,
//! zero-padded) and `proccount.f32` (rows × 16 little-endian f32: process-count windows through
//! the sklearn-compatible feature hasher, log1p-scaled). `train` trains one network for the given
//! epochs (batch 256 by default, shuffled, Adam 1e-3), then scores rows, and prints one JSON
//! object: seconds per epoch (wall and process CPU), loss per epoch, scoring rows/s and the peak
//! resident memory (VmHWM) of the process.

use indicatif::{ProgressBar, ProgressStyle};
use oddhunt_models::hashing::{DictValue, FeatureHasher};
use oddhunt_models::nn::{
    fit, Activation, Architecture, BatchProgress, EpochReport, Input, Loss, Network, RowError,
    Target, TrainConfig, TrainObserver,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Process CPU seconds (user + system, all threads) from /proc/self/stat.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may contain spaces).
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after ")"; USER_HZ is
    // 100 on Linux.
    (ticks(11) + ticks(12)) / 100.0
}

/// A memory figure of this process from /proc/self/status (`VmHWM` = peak, `VmRSS` = now), MiB.
fn memory_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|v| {
            v.trim_start_matches(':')
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// Resets the kernel's peak-RSS mark to the current RSS (Linux `clear_refs` value 5), so the
/// peak measured after training is the training's, not the data loading's.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

const PROGRAMS: &[&str] = &[
    "C:\\Windows\\System32\\svchost.exe -k netsvcs -p -s",
    "C:\\Windows\\System32\\conhost.exe 0xffffffff -ForceV1",
    "\"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe\" --type=renderer",
    "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe -NoProfile -ExecutionPolicy Bypass -File",
    "C:\\Windows\\system32\\cmd.exe /c",
    "C:\\Windows\\System32\\taskhostw.exe",
    "C:\\Windows\\System32\\rundll32.exe",
    "\"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe\" --single-argument",
    "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe -Embedding",
    "C:\\Windows\\System32\\schtasks.exe /query /fo LIST",
];
const WORDS: &[&str] = &[
    "C:\\Users\\alice\\AppData\\Local\\Temp\\setup.log",
    "--field-trial-handle=1712,i,3341",
    "/v",
    "-s",
    "Schedule",
    "D:\\shares\\finance\\q3.xlsx",
    "shell32.dll,Control_RunDLL",
    "--lang=en-US",
    "\\\\fileserver\\scripts\\logon.ps1",
    "0x4",
];

/// Synthetic command lines (domain, user, command line, parent), zero-padded to `max_length`.
fn command_lines(rows: usize, max_length: usize, rng: &mut ChaCha8Rng) -> Vec<u8> {
    let mut out = Vec::with_capacity(rows * max_length);
    let mut line = String::new();
    for _ in 0..rows {
        line.clear();
        line.push_str(["CORP", "WORKGROUP", "LAB"][rng.random_range(0..3)]);
        line.push(' ');
        line.push_str(["alice", "bob", "SYSTEM", "svc_backup"][rng.random_range(0..4)]);
        line.push(' ');
        line.push_str(PROGRAMS[rng.random_range(0..PROGRAMS.len())]);
        for _ in 0..rng.random_range(0..4) {
            line.push(' ');
            line.push_str(WORDS[rng.random_range(0..WORDS.len())]);
        }
        line.push_str(" C:\\Windows\\explorer.exe");
        let bytes = line.as_bytes();
        let n = bytes.len().min(max_length);
        out.extend_from_slice(&bytes[..n]);
        out.resize(out.len() + max_length - n, 0);
    }
    out
}

/// Windows of process counts hashed into 16 signed buckets (sklearn FeatureHasher), log1p-scaled.
fn process_windows(rows: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let names: Vec<String> = (0..200).map(|i| format!("process{i}.exe")).collect();
    let hasher = FeatureHasher::default();
    let mut out = Vec::with_capacity(rows * 16);
    let mut row = vec![0.0f64; 16];
    for _ in 0..rows {
        row.fill(0.0);
        let profile = rng.random_range(0..20) * 10;
        let pairs: Vec<(&str, DictValue)> = (0..rng.random_range(3..12))
            .map(|_| {
                let name = &names[profile + rng.random_range(0..10)];
                (
                    name.as_str(),
                    DictValue::Num(f64::from(rng.random_range(1u32..50))),
                )
            })
            .collect();
        // The row has 16 slots, so hashing cannot fail.
        let _ = hasher.hash_dict_into(pairs, &mut row);
        out.extend(row.iter().map(|&v| (v.signum() * v.abs().ln_1p()) as f32));
    }
    out
}

fn generate(dir: &Path, args: &[String]) -> std::io::Result<()> {
    let cmdline_rows = arg(args, "--cmdline-rows", 200_000usize);
    let max_length = arg(args, "--max-length", 100usize);
    let proccount_rows = arg(args, "--proccount-rows", 1_000_000usize);
    let mut rng = ChaCha8Rng::seed_from_u64(arg(args, "--seed", 1u64));
    std::fs::create_dir_all(dir)?;
    let ids = command_lines(cmdline_rows, max_length, &mut rng);
    std::fs::write(dir.join(format!("cmdline_L{max_length}.u8")), &ids)?;
    let windows = process_windows(proccount_rows, &mut rng);
    let bytes: Vec<u8> = windows.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(dir.join("proccount.f32"), bytes)?;
    eprintln!(
        "wrote {cmdline_rows} command lines × {max_length} and {proccount_rows} windows × 16 to {}",
        dir.display()
    );
    Ok(())
}

/// Records CPU time at every epoch end and draws a progress bar per epoch if asked.
struct Timer {
    last_cpu: f64,
    cpu: Vec<f64>,
    bar: Option<ProgressBar>,
}

impl TrainObserver for Timer {
    fn on_batch(&mut self, progress: &BatchProgress) {
        if let Some(bar) = &self.bar {
            if progress.batch == 1 {
                bar.reset();
                bar.set_length(progress.batches as u64);
                bar.set_prefix(format!("epoch {}/{}", progress.epoch, progress.epochs));
            }
            bar.set_position(progress.batch as u64);
            if progress.batch.is_multiple_of(16) || progress.batch == progress.batches {
                bar.set_message(format!("loss {:.5}", progress.loss));
            }
        }
    }

    fn on_epoch(&mut self, report: &EpochReport) {
        let now = cpu_seconds();
        self.cpu.push(now - self.last_cpu);
        self.last_cpu = now;
        if let Some(bar) = &self.bar {
            bar.println(format!(
                "epoch {}/{}: loss {:.5} ({:.1} s)",
                report.epoch, report.epochs, report.loss, report.seconds
            ));
        }
    }
}

fn train(dir: &Path, which: &str, args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let max_length = arg(args, "--max-length", 100usize);
    let epochs = arg(args, "--epochs", 2usize);
    let batch_size = arg(args, "--batch", 256usize);
    let shards = arg(args, "--shards", 2usize);
    let score_rows = arg(args, "--score-rows", usize::MAX);
    let progress = args.iter().any(|a| a == "--progress");

    let load_started = Instant::now();
    // Input and target as a detector holds them: for cmdline the byte ids, with the target
    // (bytes / 255) computed on the fly from them; for proccount the windows, which are both
    // input and target (one copy).
    let (architecture, loss, metric) = match which {
        "cmdline" => (
            Architecture::byte_autoencoder(max_length),
            Loss::Mae,
            RowError::Mae,
        ),
        "proccount" => (
            Architecture::dense_autoencoder(16, &[8, 4, 8], Activation::KERAS_LEAKY_RELU),
            Loss::Mse,
            RowError::Euclidean,
        ),
        other => return Err(format!("unknown network {other}: cmdline or proccount").into()),
    };
    let offset = vec![0.0f32; max_length];
    let scale = vec![1.0f32 / 255.0; max_length];
    let (ids, values) = if which == "cmdline" {
        (
            std::fs::read(dir.join(format!("cmdline_L{max_length}.u8")))?,
            Vec::new(),
        )
    } else {
        let bytes = std::fs::read(dir.join("proccount.f32"))?;
        let values: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        (Vec::new(), values)
    };
    let (input, target) = if which == "cmdline" {
        let scaled = Target::ScaledIds {
            offset: &offset,
            scale: &scale,
        };
        (Input::Bytes(&ids), scaled)
    } else {
        (Input::Values(&values), Target::Rows(&values))
    };
    let load_seconds = load_started.elapsed().as_secs_f64();
    let peak_loading = memory_mib("VmHWM");
    let peak_reset = reset_peak_rss();
    let rss_before_training = memory_mib("VmRSS");

    let mut network = Network::new(architecture, 1)?;
    let rows = network.check_input(input)?;
    let config = TrainConfig {
        epochs,
        batch_size,
        shuffle: true,
        seed: 1,
        loss,
        shards,
        ..TrainConfig::default()
    };
    let bar = progress.then(|| {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    let mut timer = Timer {
        last_cpu: cpu_seconds(),
        cpu: Vec::new(),
        bar,
    };
    let history = fit(&mut network, input, target, &config, &mut timer)?;
    if let Some(bar) = &timer.bar {
        bar.finish_and_clear();
    }
    let peak_training = memory_mib("VmHWM");

    // Scoring: per-row errors over (up to) score_rows rows, as a detector scores new events.
    let score_n = rows.min(score_rows);
    let (score_input, score_target) = match (input, target) {
        (Input::Values(v), _) => {
            let v = &v[..score_n * 16];
            (Input::Values(v), Target::Rows(v))
        }
        (Input::Bytes(ids), target) => (Input::Bytes(&ids[..score_n * max_length]), target),
        (Input::Ids(ids), target) => (Input::Ids(&ids[..score_n * max_length]), target),
    };
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let scores = network.row_errors(score_input, score_target, metric)?;
    let score_seconds = started.elapsed().as_secs_f64();
    let score_cpu = cpu_seconds() - cpu_before;
    let mean_score = scores.iter().map(|&s| f64::from(s)).sum::<f64>() / score_n.max(1) as f64;

    let report = serde_json::json!({
        "implementation": "oddhunt",
        "network": which,
        "rows": rows,
        "max_length": if which == "cmdline" { Some(max_length) } else { None },
        "parameters": network.parameter_count(),
        "batch_size": batch_size,
        "shards": shards,
        "threads": rayon::current_num_threads(),
        "load_seconds": load_seconds,
        "epoch_wall_seconds": history.epochs.iter().map(|e| e.seconds).collect::<Vec<_>>(),
        "epoch_cpu_seconds": timer.cpu,
        "epoch_loss": history.epochs.iter().map(|e| e.loss).collect::<Vec<_>>(),
        "score_rows": score_n,
        "score_wall_seconds": score_seconds,
        "score_cpu_seconds": score_cpu,
        "score_rows_per_second": score_n as f64 / score_seconds.max(1e-9),
        "mean_score": mean_score,
        "rss_mib_before_training": rss_before_training,
        "peak_rss_mib_training": if peak_reset { Some(peak_training) } else { None },
        "peak_rss_mib_loading": peak_loading,
        "peak_rss_mib_end": memory_mib("VmHWM"),
    });
    println!("{report}");
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: nn_bench generate DIR [...] | nn_bench train DIR cmdline|proccount [...]";
    let dir = PathBuf::from(args.get(1).ok_or(usage)?);
    match args.first().map(String::as_str) {
        Some("generate") => generate(&dir, &args)?,
        Some("train") => train(&dir, args.get(2).ok_or(usage)?, &args)?,
        _ => return Err(usage.into()),
    }
    Ok(())
}
