//! `oddhunt`: learns what is normal in security logs and ranks what is not.
//!
//! This binary only parses flags and wires the stages of the other crates together:
//! ingest (`oddhunt-ingest`) → detector (`oddhunt-detect`) → thresholds and exclusions →
//! sinks (`oddhunt-sinks`).

mod args;
mod commands;
mod progress;
mod run;

use clap::{CommandFactory, Parser, Subcommand};
use std::process::ExitCode;

/// oddhunt learns what is normal for your users, hosts and networks from security logs, and
/// ranks what is not.
#[derive(Parser, Debug)]
#[command(name = "oddhunt", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// No progress bars or summaries on stderr
    #[arg(short, long, global = true)]
    quiet: bool,

    /// More detail on stderr (repeat for even more)
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,

    /// Worker threads (default: all cores)
    #[arg(long, value_name = "N", global = true)]
    threads: Option<usize>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Generate a small organisation's logs with attacks, hunt them with every detector, show what was found
    #[command(after_help = "Example:\n  oddhunt demo --out /tmp/oddhunt-demo")]
    Demo(commands::demo::DemoCmd),
    /// Print the events oddhunt reads from logs: check a mapping before training
    #[command(
        after_help = "Examples:\n  oddhunt events Security.evtx\n  oddhunt events dns.log.gz --format jsonl\n  oddhunt events export.csv --map kind=process,command_line=CmdLine,user=Account,time=TimeGenerated"
    )]
    Events(commands::events::EventsCmd),
    /// List the detectors, what they find, and which events and fields each needs
    #[command(after_help = "Example:\n  oddhunt detectors")]
    Detectors,
    /// Train a detector on a baseline and save the model
    #[command(
        after_help = "Example:\n  oddhunt train masquerade -i baseline/*.evtx -o masquerade.oddhunt"
    )]
    Train(commands::train::TrainCmd),
    /// Score new logs with a trained model
    #[command(
        after_help = "Example:\n  oddhunt score -m masquerade.oddhunt -i today.evtx --threshold top:20"
    )]
    Score(commands::score::ScoreCmd),
    /// Train and score the same logs in one go, as the notebooks do
    #[command(
        after_help = "Example:\n  oddhunt hunt masquerade -i security-4688.jsonl --format jsonl -o findings.jsonl"
    )]
    Hunt(commands::hunt::HuntCmd),
    /// Measure detection quality against labels: ROC-AUC, PR-AUC, precision@k, recall@k
    #[command(
        after_help = "Example:\n  oddhunt eval masquerade -i logs.jsonl --labels labels.csv"
    )]
    Eval(commands::eval::EvalCmd),
    /// Write the self-contained HTML report of a findings file
    #[command(after_help = "Example:\n  oddhunt report findings.jsonl -o report.html")]
    Report(commands::report::ReportCmd),
    /// Generate realistic synthetic logs with labelled attacks
    #[command(
        after_help = "Example:\n  oddhunt generate --hosts 20 --days 7 --inject masquerade -o logs.jsonl --labels labels.csv"
    )]
    Generate(commands::generate::GenerateCmd),
    /// Print shell completions
    #[command(
        after_help = "Example:\n  oddhunt completions bash > /etc/bash_completion.d/oddhunt"
    )]
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    init_logging(cli.verbose, cli.quiet);
    if let Some(n) = cli.threads {
        if let Err(e) = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
        {
            eprintln!("oddhunt: --threads {n}: {e}");
            return ExitCode::from(2);
        }
    }
    let ui = run::Ui {
        progress: progress::enabled(cli.quiet),
        quiet: cli.quiet,
    };
    let result = match &cli.command {
        Command::Demo(c) => commands::demo::run(ui, c),
        Command::Events(c) => commands::events::run(ui, c),
        Command::Detectors => commands::detectors::run(),
        Command::Train(c) => commands::train::run(ui, c),
        Command::Score(c) => commands::score::run(ui, c),
        Command::Hunt(c) => commands::hunt::run(ui, c),
        Command::Eval(c) => commands::eval::run(ui, c),
        Command::Generate(c) => commands::generate::run(ui, c),
        Command::Report(c) => commands::report::run(ui, c),
        Command::Completions { shell } => {
            clap_complete::generate(
                *shell,
                &mut Cli::command(),
                "oddhunt",
                &mut std::io::stdout(),
            );
            Ok(commands::Status::Done)
        }
    };
    match result {
        Ok(commands::Status::Done) => ExitCode::SUCCESS,
        Ok(commands::Status::Findings) => ExitCode::from(3),
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!(
                "oddhunt: error: {}",
                oddhunt_core::sanitize::terminal(&format!("{e:#}"))
            );
            ExitCode::from(1)
        }
    }
}

/// `oddhunt ... | head` closes the pipe early: not an error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            // serde_json keeps the I/O error inside, without exposing it as a source.
            || c.downcast_ref::<serde_json::Error>()
                .is_some_and(|j| j.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe))
    })
}

fn init_logging(verbose: u8, quiet: bool) {
    use tracing_subscriber::EnvFilter;
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_env("ODDHUNT_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
