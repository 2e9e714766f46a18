//! Progress bars on stderr, only when stderr is a terminal and not `--quiet`.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

/// Whether bars are drawn.
pub fn enabled(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

fn target(show: bool) -> ProgressDrawTarget {
    if show {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}

/// A spinner counting events while logs are read.
pub struct ReadProgress {
    bar: ProgressBar,
    count: u64,
}

impl ReadProgress {
    /// Starts the spinner.
    pub fn new(show: bool, what: &str) -> Self {
        let bar = ProgressBar::with_draw_target(None, target(show));
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} {pos} events ({per_sec}, {elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(what.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        ReadProgress { bar, count: 0 }
    }

    /// One more event.
    pub fn tick(&mut self) {
        self.count += 1;
        if self.count.is_multiple_of(4096) {
            self.bar.set_position(self.count);
        }
    }

    /// Done.
    pub fn finish(self) {
        self.bar.finish_and_clear();
    }
}

/// The detectors' progress, drawn as one bar per stage.
pub struct StageProgress {
    show: bool,
    bar: Mutex<Option<ProgressBar>>,
}

impl StageProgress {
    /// Progress that draws when `show`.
    pub fn new(show: bool) -> Self {
        StageProgress {
            show,
            bar: Mutex::new(None),
        }
    }

    /// Clears the current bar.
    pub fn finish(&self) {
        if let Ok(mut guard) = self.bar.lock() {
            if let Some(bar) = guard.take() {
                bar.finish_and_clear();
            }
        }
    }
}

impl oddhunt_detect::Progress for StageProgress {
    fn stage(&self, name: &str, total: Option<u64>) {
        let Ok(mut guard) = self.bar.lock() else {
            return;
        };
        if let Some(old) = guard.take() {
            old.finish_and_clear();
        }
        let bar = ProgressBar::with_draw_target(total, target(self.show));
        let style = match total {
            Some(_) => ProgressStyle::with_template(
                "{prefix} [{bar:30}] {pos}/{len} {msg} ({elapsed}, eta {eta})",
            ),
            None => ProgressStyle::with_template("{spinner} {prefix} {msg} ({elapsed})"),
        }
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(name.to_string());
        if total.is_none() {
            bar.enable_steady_tick(Duration::from_millis(120));
        }
        *guard = Some(bar);
    }

    fn advance(&self, n: u64) {
        if let Ok(guard) = self.bar.lock() {
            if let Some(bar) = guard.as_ref() {
                bar.inc(n);
            }
        }
    }

    fn message(&self, text: &str) {
        if let Ok(guard) = self.bar.lock() {
            if let Some(bar) = guard.as_ref() {
                bar.set_message(text.to_string());
            }
        }
    }
}
