//! Output of `ironclock pull`: aligned text tables or JSON on stdout, statistics on stderr.

use std::io::Write as _;

use crate::pull::transport::{TransportKind, WireStats};

/// Writes `value` as JSON on stdout.
/// A closed pipe (`… | head`) is not an error.
pub fn print_json<T: serde::Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = serde_json::to_writer(&mut out, value)
        .map_err(std::io::Error::from)
        .and_then(|_| writeln!(out))
        .and_then(|_| out.flush());
    match written {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// A plain text table with left-aligned columns.
pub struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers.
    pub fn new(headers: &[&str]) -> Table {
        Table { rows: vec![headers.iter().map(|h| h.to_string()).collect()] }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Prints the table on stdout.
    pub fn print(&self) {
        let columns = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|c| self.rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0))
            .collect();
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        for row in &self.rows {
            let line: Vec<String> = row.iter().zip(&widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
            let _ = writeln!(out, "{}", line.join("  ").trim_end());
        }
    }
}

/// Prints bytes on the wire against payload bytes on stderr (one JSON line).
pub fn print_stats(stats: WireStats, payload: u64, transport: TransportKind) {
    let wire = stats.bytes_sent + stats.bytes_received;
    let overhead = if payload > 0 { (wire as f64 / payload as f64 - 1.0) * 100.0 } else { 0.0 };
    let line = serde_json::json!({
        "transport": transport,
        "bytes_sent": stats.bytes_sent,
        "bytes_received": stats.bytes_received,
        "packets_sent": stats.packets_sent,
        "packets_received": stats.packets_received,
        "payload_bytes": payload,
        "overhead_percent": (overhead * 100.0).round() / 100.0,
    });
    eprintln!("wire stats: {line}");
}
