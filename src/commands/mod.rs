//! The shell commands (`models`, `cost`, `ask`, `check`): the same tool code as MCP, printed for a
//! terminal. These are the only writers to stdout outside the MCP transport.

mod ask;
mod check;
mod cost;
mod models;

pub use ask::ask;
pub use check::check;
pub use cost::cost;
pub use models::models;

use serde::Serialize;
use std::io::Write;

/// Prints `value` as pretty JSON on stdout.
fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// Prints lines of text on stdout.
fn print_lines(lines: &[String]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    for line in lines {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// A cell for a USD amount (per 1M tokens or total) or `?` when unknown.
fn usd(value: Option<f64>) -> String {
    value.map_or_else(
        || "?".to_string(),
        |v| {
            format!("${v:.6}")
                .trim_end_matches('0')
                .trim_end_matches('.')
                .to_string()
        },
    )
}
