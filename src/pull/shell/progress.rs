//! The progress bar of `ironclock pull`: on stderr, only when stderr is a terminal.

use std::io::IsTerminal as _;

use indicatif::{ProgressBar, ProgressStyle};

use crate::pull::client::Client;

/// A progress bar, or nothing when not attached to a terminal.
pub struct Bar(Option<ProgressBar>);

impl Bar {
    /// Removes the bar from the screen.
    pub fn finish(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}

/// Hooks a progress bar to the client's long reads and writes.
pub fn attach(client: &mut Client, quiet: bool) -> Bar {
    if quiet || !std::io::stderr().is_terminal() {
        return Bar(None);
    }
    let bar = ProgressBar::new(0);
    let style = ProgressStyle::with_template("{msg:>12} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    let shared = bar.clone();
    client.set_progress(Some(Box::new(move |what: &str, done: u64, total: u64| {
        shared.set_message(what.to_string());
        shared.set_length(total);
        shared.set_position(done);
    })));
    Bar(Some(bar))
}
