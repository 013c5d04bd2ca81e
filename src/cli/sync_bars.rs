//! The progress of `ironclock pull sync` on stderr (stdout keeps only the JSON result): two
//! progress bars (devices through the phase; items written, with the ETA) on a terminal, one
//! line per phase otherwise (logs, CI), nothing with `--quiet`.

use std::io::IsTerminal as _;
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::sync::area::{AreaProgress, Phase, ProgressSink};

/// What the phase is called on screen.
fn phase_name(p: Phase) -> &'static str {
    match p {
        Phase::Counting => "counting",
        Phase::Reading => "reading",
        Phase::Writing => "writing",
        Phase::ReadingBack => "reading back",
        Phase::Done => "done",
    }
}

/// One line of the plain (no terminal) output, e.g. `area sync: writing, 1/3 devices, 40/120 items, ETA 2 s`.
pub fn line(p: &AreaProgress) -> String {
    let mut s = format!("area sync: {}, {}/{} devices", phase_name(p.phase), p.devices_done, p.devices_total);
    if p.items_total > 0 {
        s.push_str(&format!(", {}/{} items", p.items_written, p.items_total));
    }
    if let (Some(eta), false) = (p.eta_seconds, p.phase == Phase::Done) {
        s.push_str(&format!(", ETA {eta} s"));
    }
    s
}

/// The sink drawing a run's progress; `finish` clears the bars.
pub struct Bars {
    pub sink: ProgressSink,
    bars: Option<(ProgressBar, ProgressBar)>,
}

impl Bars {
    pub fn new(quiet: bool) -> Self {
        if quiet {
            return Self { sink: ProgressSink::default(), bars: None };
        }
        if !std::io::stderr().is_terminal() {
            let last = Mutex::new((Phase::Done, usize::MAX));
            let sink = ProgressSink::default().and(move |p| {
                // One line per phase and per device through it (not per item).
                let Ok(mut last) = last.lock() else { return };
                if *last != (p.phase, p.devices_done) {
                    *last = (p.phase, p.devices_done);
                    eprintln!("{}", line(p));
                }
            });
            return Self { sink, bars: None };
        }
        let multi = MultiProgress::new();
        let style = |t: &str| ProgressStyle::with_template(t).unwrap_or_else(|_| ProgressStyle::default_bar());
        let devices = multi.add(ProgressBar::new(0));
        devices.set_style(style("{msg:>12} [{bar:30}] {pos}/{len} devices").progress_chars("=> "));
        let items = multi.add(ProgressBar::new(0));
        items.set_style(style("{msg:>12} [{bar:30}] {pos}/{len} items").progress_chars("=> "));
        let (d, i) = (devices.clone(), items.clone());
        let sink = ProgressSink::default().and(move |p| {
            d.set_message(phase_name(p.phase));
            d.set_length(p.devices_total as u64);
            d.set_position(p.devices_done as u64);
            i.set_message(p.eta_seconds.map(|s| format!("ETA {s} s")).unwrap_or_default());
            i.set_length(p.items_total as u64);
            i.set_position(p.items_written as u64);
        });
        Self { sink, bars: Some((devices, items)) }
    }

    /// Removes the bars from the screen.
    pub fn finish(&self) {
        if let Some((d, i)) = &self.bars {
            d.finish_and_clear();
            i.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_line_names_the_phase_devices_items_and_eta() {
        let p = AreaProgress {
            phase: Phase::Writing,
            devices_done: 1,
            devices_total: 3,
            items_written: 40,
            items_total: 120,
            elapsed_ms: 900,
            eta_seconds: Some(2),
        };
        assert_eq!(line(&p), "area sync: writing, 1/3 devices, 40/120 items, ETA 2 s");
        let counting = AreaProgress { devices_total: 2, ..AreaProgress::default() };
        assert_eq!(line(&counting), "area sync: counting, 0/2 devices");
    }
}
