//! `oddhunt events`: print mapped events, so a user can check a mapping before training.

use super::Status;
use crate::args::InputArgs;
use crate::run::{print_ingest_summary, read_events, Ui};
use anyhow::Result;
use clap::{Args, ValueEnum};
use oddhunt_core::Event;
use oddhunt_sinks::table::TableStyle;
use std::io::{IsTerminal, Write};

/// Output format of events.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventFormat {
    /// A table for people (at most --limit rows).
    Table,
    /// JSON lines with ECS field names.
    Jsonl,
    /// CSV, one column per field.
    Csv,
    /// Nothing: only the summary (to count or to validate).
    None,
}

/// Flags of `oddhunt events`.
#[derive(Args, Debug)]
pub struct EventsCmd {
    /// Input logs (same as -i)
    #[arg(value_name = "INPUT")]
    pub positional: Vec<String>,

    #[command(flatten)]
    pub input: InputArgs,

    /// Output format
    #[arg(long, value_enum, default_value_t = EventFormat::Table)]
    pub format: EventFormat,

    /// Rows of the table (other formats write every event)
    #[arg(long, default_value_t = 100)]
    pub limit: usize,

    /// Write to this file instead of standard output
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,

    /// Leave out the source's other fields (JSON output)
    #[arg(long = "no-extra")]
    pub no_extra: bool,
}

/// Where events go while they are read; owns the output.
enum Sink {
    Table(Vec<Event>, Box<dyn Write>),
    Jsonl(Box<dyn Write>),
    Csv(Box<oddhunt_sinks::csv::EventCsv<Box<dyn Write>>>),
    Nothing(Box<dyn Write>),
}

impl Sink {
    fn take(&mut self, e: &Event, limit: usize) -> Result<()> {
        match self {
            Sink::Table(rows, _) => {
                if rows.len() < limit {
                    rows.push(e.clone());
                }
            }
            Sink::Jsonl(out) => oddhunt_sinks::jsonl::write_event(out.as_mut(), e)?,
            Sink::Csv(w) => w.write(e)?,
            Sink::Nothing(_) => {}
        }
        Ok(())
    }
}

/// Runs the subcommand.
pub fn run(ui: Ui, cmd: &EventsCmd) -> Result<Status> {
    let mut input = cmd.input.clone();
    input.inputs.extend(cmd.positional.iter().cloned());
    let out = crate::run::output_writer(cmd.output.as_deref())?;
    let keep_extra = !cmd.no_extra && cmd.format == EventFormat::Jsonl;
    let mut sink = match cmd.format {
        EventFormat::Table => Sink::Table(Vec::new(), out),
        EventFormat::Jsonl => Sink::Jsonl(out),
        EventFormat::Csv => Sink::Csv(Box::new(oddhunt_sinks::csv::EventCsv::new(out)?)),
        EventFormat::None => Sink::Nothing(out),
    };
    let mut failure: Option<anyhow::Error> = None;
    let summary = read_events(ui, &input, keep_extra, "reading events", |e| {
        if failure.is_none() {
            failure = sink.take(e, cmd.limit).err();
        }
    })?;
    if let Some(err) = failure {
        return Err(err);
    }
    let mut out = match sink {
        Sink::Table(rows, mut out) => {
            let to_terminal =
                crate::run::is_stdout(cmd.output.as_deref()) && std::io::stdout().is_terminal();
            let style = TableStyle {
                width: if to_terminal { None } else { Some(160) },
                color: to_terminal,
            };
            if rows.is_empty() {
                writeln!(out, "no events")?;
            } else {
                writeln!(out, "{}", oddhunt_sinks::table::events(&rows, style))?;
                let total = summary.events();
                if total > rows.len() as u64 {
                    writeln!(
                        out,
                        "… showing {} of {} events (use --limit, or --format jsonl|csv for all)",
                        rows.len(),
                        total
                    )?;
                }
            }
            out
        }
        Sink::Csv(w) => w.finish()?,
        Sink::Jsonl(out) | Sink::Nothing(out) => out,
    };
    out.flush()?;
    print_ingest_summary(ui, &summary);
    Ok(Status::Done)
}
