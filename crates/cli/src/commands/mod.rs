//! One module per subcommand.

pub mod demo;
pub mod detectors;
pub mod eval;
pub mod events;
pub mod generate;
pub mod hunt;
pub mod report;
pub mod score;
pub mod train;

/// How a subcommand ended (errors are `Err`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Success.
    Done,
    /// Success, with findings, and `--fail-on-findings` asked to say so in the exit code.
    Findings,
}

/// The status after reporting `n` findings.
pub fn status(findings: usize, fail_on_findings: bool) -> Status {
    if fail_on_findings && findings > 0 {
        Status::Findings
    } else {
        Status::Done
    }
}
