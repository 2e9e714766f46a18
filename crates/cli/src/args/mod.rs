//! Command-line arguments shared by several subcommands.

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use oddhunt_core::{Basis, Exclusions, Rule};
use oddhunt_ingest::{Format, IngestOptions, Mapping, OnError};
use std::path::PathBuf;

/// Where events come from and how to read them.
#[derive(Args, Debug, Clone, Default)]
pub struct InputArgs {
    /// Input logs: files, directories (recursive), globs, or - for stdin. Plain, .gz or .zst.
    #[arg(short = 'i', long = "input", value_name = "INPUT", num_args = 1.., global = true)]
    pub inputs: Vec<String>,

    /// Input format, when detection from content is not wanted:
    /// evtx, json, csv, tsv, zeek, access, w3c, ...
    #[arg(long = "input-format", value_name = "FORMAT", global = true)]
    pub input_format: Option<String>,

    /// Column names of a headerless CSV/TSV, e.g. command_line,parent_process_name,domain_name,username
    #[arg(long, value_name = "A,B,C", global = true)]
    pub columns: Option<String>,

    /// Apache LogFormat (or nginx log_format) of access logs, e.g. '%h %l %u %t "%r" %>s %b'
    #[arg(long = "log-format", value_name = "FORMAT", global = true)]
    pub log_format: Option<String>,

    /// Map any source to events: kind=process,command_line=CmdLine,user=Account,time=TimeGenerated
    #[arg(long, value_name = "SPEC", global = true)]
    pub map: Option<String>,

    /// Force a mapping profile by name (see `oddhunt events --help`)
    #[arg(long, value_name = "NAME", global = true)]
    pub profile: Option<String>,

    /// What to do with malformed records: skip them (counted in the summary) or stop
    #[arg(long = "on-error", value_enum, default_value_t = OnErrorArg::Skip, global = true)]
    pub on_error: OnErrorArg,

    /// Pre-built sessions instead of logs (sequence detector): JSON lines, one session per line, e.g. from KQL row_window_session or Spark; - for stdin
    #[arg(long = "sessions", value_name = "FILE.jsonl", num_args = 1.., global = true, conflicts_with = "inputs")]
    pub sessions: Vec<String>,
}

/// `--on-error`.
#[derive(ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnErrorArg {
    /// Stop at the first malformed record, naming file and line or record.
    Fail,
    /// Skip malformed records, count them and show examples in the summary.
    #[default]
    Skip,
}

impl InputArgs {
    /// The ingest options these flags describe.
    pub fn options(&self, keep_extra: bool) -> Result<IngestOptions> {
        let format = match &self.input_format {
            Some(f) => Some(
                f.parse::<Format>()
                    .map_err(|e| anyhow::anyhow!("--input-format {f:?}: {e}"))?,
            ),
            None => None,
        };
        let mapping = match &self.map {
            Some(spec) => Some(Mapping::parse(spec).map_err(|e| anyhow::anyhow!("--map: {e}"))?),
            None => None,
        };
        Ok(IngestOptions {
            format,
            columns: self.columns.as_ref().map(|c| {
                c.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            }),
            log_format: self.log_format.clone(),
            mapping,
            profile: self.profile.clone(),
            on_error: match self.on_error {
                OnErrorArg::Fail => OnError::Fail,
                OnErrorArg::Skip => OnError::Skip,
            },
            keep_extra,
            ..IngestOptions::default()
        })
    }

    /// The inputs, or an error telling the user how to give them.
    pub fn require_inputs(&self) -> Result<&[String]> {
        if self.inputs.is_empty() {
            bail!("no input given: pass log files, folders or globs with -i (or -i - for stdin)");
        }
        Ok(&self.inputs)
    }
}

/// Output format of findings.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FindingFormat {
    /// A table for people (default on a terminal).
    #[default]
    Table,
    /// JSON lines with ECS-style names.
    Jsonl,
    /// One JSON array.
    Json,
    /// CSV, safe against spreadsheet formula injection.
    Csv,
    /// The seed notebook's Log Analytics record shape (JSON lines).
    Loganalytics,
}

/// How findings are selected and written.
#[derive(Args, Debug, Clone)]
pub struct FindingArgs {
    /// Threshold: mean+6sd, q0.999, top:50, contamination:0.01, score>0.9 (default: the detector's)
    #[arg(long, value_name = "RULE", global = true)]
    pub threshold: Option<String>,

    /// Compute the threshold on the scored batch or on the model's training scores
    #[arg(long = "threshold-basis", value_enum, default_value_t = BasisArg::Batch, global = true)]
    pub threshold_basis: BasisArg,

    /// Exclusion rules (TOML) for known-benign findings
    #[arg(long, value_name = "RULES.toml", global = true)]
    pub exclude: Option<PathBuf>,

    /// List findings suppressed by exclusion rules too (marked)
    #[arg(long = "show-excluded", global = true)]
    pub show_excluded: bool,

    /// Write every scored subject, not only findings (for plots and reference checks)
    #[arg(long, global = true)]
    pub all: bool,

    /// Output format
    #[arg(long, value_enum, global = true)]
    pub format: Option<FindingFormat>,

    /// Write findings to this file instead of standard output
    #[arg(short = 'o', long, value_name = "FILE", global = true)]
    pub output: Option<PathBuf>,

    /// Also write the self-contained HTML report here
    #[arg(long, value_name = "REPORT.html", global = true)]
    pub report: Option<PathBuf>,

    /// Show at most this many findings in the table (all are written in other formats)
    #[arg(long, value_name = "N", default_value_t = 50, global = true)]
    pub limit: usize,

    /// Exit with status 3 when there are findings (for pipelines)
    #[arg(long = "fail-on-findings", global = true)]
    pub fail_on_findings: bool,
}

/// `--threshold-basis`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum BasisArg {
    /// The scores of the batch being scored.
    #[default]
    Batch,
    /// The training score distribution stored in the model.
    Train,
}

impl FindingArgs {
    /// The threshold rule: the user's, else the detector's default.
    pub fn rule(&self, default: Rule) -> Result<Rule> {
        match &self.threshold {
            Some(t) => t
                .parse::<Rule>()
                .map_err(|e| anyhow::anyhow!("--threshold: {e}")),
            None => Ok(default),
        }
    }

    /// Checks the threshold and the exclusion rules before any input is read, so a typo fails
    /// at once instead of after a long read.
    pub fn validate(&self) -> Result<()> {
        self.rule(Rule::Top(1))?;
        self.exclusions()?;
        Ok(())
    }

    /// The threshold basis.
    pub fn basis(&self) -> Basis {
        match self.threshold_basis {
            BasisArg::Batch => Basis::Batch,
            BasisArg::Train => Basis::Train,
        }
    }

    /// The exclusion rules (none when no file was given).
    pub fn exclusions(&self) -> Result<Exclusions> {
        match &self.exclude {
            Some(p) => Exclusions::load(p).context("--exclude"),
            None => Ok(Exclusions::none()),
        }
    }
}

mod cmdline;
mod dns;
mod exeprev;
mod iforest;
mod masquerade;
mod proccount;
mod sequence;
mod web;

pub use cmdline::CmdlineArgs;
pub use dns::DnsArgs;
pub use exeprev::ExeprevArgs;
pub use iforest::IforestArgs;
pub use masquerade::MasqueradeArgs;
pub use proccount::ProccountArgs;
pub use sequence::SequenceArgs;
pub use web::WebArgs;

/// The detectors and their own settings (one variant per detector; each detector's flags live
/// in a module of its own).
#[derive(Subcommand, Debug, Clone)]
pub enum DetectorArgs {
    /// Rare process names a small edit away from common ones (svch0st.exe, scvhost.exe)
    #[command(
        after_help = "Example:\n  oddhunt hunt masquerade -i security-4688.jsonl\n  oddhunt train masquerade -i baseline/ -o masq.oddhunt"
    )]
    Masquerade(MasqueradeArgs),
    /// Sessions of admin commands or processes whose sequence is rare (Markov chain, msticpy anomalous_sequence)
    #[command(
        after_help = "Examples:\n  oddhunt hunt sequence -i exchange-admin.jsonl --format jsonl -o sessions.jsonl\n  oddhunt train sequence -i baseline/ --session-type values -o sequence.oddhunt\n  oddhunt score -m sequence.oddhunt --sessions kql-sessions.jsonl --threshold top:10\n  oddhunt hunt sequence -i msticpy_demo.csv --short-sessions skip\n\nA --sessions line is a JSON array of commands (\"Set-User\", {\"name\": .., \"params\": [..]}) or\n{\"id\": .., \"session\": [..], \"user\": .., \"source_ip\": .., \"start\": .., \"end\": ..}."
    )]
    Sequence(SequenceArgs),
    /// Process command lines odd for their executable, parent and log (rarity in context; --variant seed: the QFunction autoencoder)
    #[command(
        after_help = "Examples:\n  oddhunt hunt cmdline -i security-4688.jsonl\n  oddhunt hunt cmdline --variant seed -i security-4688.jsonl --threshold mean+6sd\n  oddhunt eval cmdline -i labelled.csv --map kind=process,host=host,user=user,process_path=image,parent_path=parent_image,command_line=command_line,time=timestamp --label-field label"
    )]
    Cmdline(CmdlineArgs),
    /// Hours in which a host or account ran an odd mix of processes (feature hashing + autoencoder)
    #[command(
        after_help = "Examples:\n  oddhunt hunt proccount -i security-4688.jsonl\n  oddhunt train proccount -i baseline/ --path-prefix '\\Windows\\' -o proccount.oddhunt\n  oddhunt score -m proccount.oddhunt -i today.jsonl --threshold top:10\n\nSubject: host=<host> <window start>/1h (or user=, host+user= with --entity)."
    )]
    Proccount(ProccountArgs),
    /// Registered domains looked up like DNS tunnelling, DGA or C2 (Isolation Forest + k-means over Zeek dns.log)
    #[command(
        after_help = "Examples:\n  oddhunt hunt dns -i dns.log.gz\n  oddhunt train dns -i baseline/dns.*.log.gz -o dns.oddhunt\n  oddhunt score -m dns.oddhunt -i today/dns.log --format jsonl -o dns-findings.jsonl\n  oddhunt hunt dns -i dns.log --clusters 6 --alarm-clusters 2,5\n\nSubject: the registered domain (public suffix list). Explanations name the features that\nisolate it, with percentiles, its cluster and whether the cluster alarms."
    )]
    Dns(DnsArgs),
    /// Web clients that scan, brute-force or exploit (Isolation Forest + k-means over access logs)
    #[command(
        after_help = "Examples:\n  oddhunt hunt web -i access.log.gz\n  oddhunt train web -i logs/access.log.* -o web.oddhunt\n  oddhunt score -m web.oddhunt -i access.log --threshold top:20\n\nSubject: the client IP. Per-path and per-user-agent statistics enter as the client's rare-path\nshare and the number of clients sharing its user agent."
    )]
    Web(WebArgs),
    /// Executables with an odd prevalence: rare, in user-writable folders, talking to the network (Sysmon 1/3, 4688)
    #[command(
        after_help = "Examples:\n  oddhunt hunt exeprev -i sysmon.evtx\n  oddhunt hunt exeprev -i process_creation.jsonl.gz sysmon3_network.jsonl.gz\n\nSubject: the executable's normalised path (lower case, the profile folder's user name as *)."
    )]
    Exeprev(ExeprevArgs),
    /// Rows of any numeric feature table that an Isolation Forest isolates (CSV, TSV or JSON)
    #[command(
        after_help = "Examples:\n  oddhunt hunt iforest -i features.csv --features bytes_out,sessions,ports --id host\n  oddhunt train iforest -i baseline.csv --features a,b,c -o table.oddhunt\n  oddhunt score -m table.oddhunt -i today.csv\n\nRows with a missing or non-numeric feature are skipped and counted (--on-error fail stops)."
    )]
    Iforest(IforestArgs),
}

impl DetectorArgs {
    /// Builds the detector these flags describe.
    pub fn build(&self) -> Result<Box<dyn oddhunt_detect::Detector>> {
        match self {
            DetectorArgs::Masquerade(a) => Ok(Box::new(a.build()?)),
            DetectorArgs::Cmdline(a) => Ok(Box::new(a.build()?)),
            DetectorArgs::Proccount(a) => Ok(Box::new(a.build()?)),
            DetectorArgs::Sequence(a) => Ok(Box::new(a.build()?)),
            DetectorArgs::Dns(a) => Ok(Box::new(a.build()?)),
            DetectorArgs::Web(a) => Ok(Box::new(a.build()?)),
            DetectorArgs::Exeprev(a) => Ok(Box::new(a.build()?)),
            DetectorArgs::Iforest(a) => Ok(Box::new(a.build()?)),
        }
    }
}
