//! Reads logs and prints what ingestion made of them: the summary as JSON, and the first
//! events with `--show N`. A quick way to check a new source:
//!
//! ```text
//! cargo run --release -p oddhunt-ingest --example ingest_stats -- [--format F] [--map SPEC]
//!     [--columns a,b] [--log-format FMT] [--profile P] [--fail] [--show N] INPUT...
//! ```

use oddhunt_ingest::{read_events, resolve_inputs, IngestOptions, Mapping, OnError};
use std::io::Write;
use std::ops::ControlFlow;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut options = IngestOptions::default();
    let mut inputs = Vec::new();
    let mut show = 0usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_default();
        let parsed = match arg.as_str() {
            "--format" => value().parse().map(|f| options.format = Some(f)),
            "--map" => Mapping::parse(&value()).map(|m| options.mapping = Some(m)),
            "--columns" => {
                options.columns = Some(value().split(',').map(str::to_string).collect());
                Ok(())
            }
            "--log-format" => {
                options.log_format = Some(value());
                Ok(())
            }
            "--profile" => {
                options.profile = Some(value());
                Ok(())
            }
            "--fail" => {
                options.on_error = OnError::Fail;
                Ok(())
            }
            "--show" => {
                show = value().parse().unwrap_or(0);
                Ok(())
            }
            _ => {
                inputs.push(arg);
                Ok(())
            }
        };
        if let Err(e) = parsed {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    }
    let mut stdout = std::io::stdout().lock();
    let result = resolve_inputs(&inputs).and_then(|sources| {
        let mut shown = 0;
        read_events(&sources, &options, |event| {
            if shown < show {
                shown += 1;
                let json = serde_json::to_string(&event).unwrap_or_default();
                if writeln!(stdout, "{json}").is_err() {
                    return ControlFlow::Break(());
                }
            }
            ControlFlow::Continue(())
        })
    });
    match result {
        Ok(summary) => {
            let json = serde_json::to_string_pretty(&summary).unwrap_or_default();
            let _ = writeln!(stdout, "{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
