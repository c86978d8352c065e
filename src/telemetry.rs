//! Logging: to stderr only (stdout is the MCP channel in stdio mode), no colours, `RUST_LOG` filters.
//!
//! `RUST_LOG` is read with `tracing_subscriber`'s `Targets` (`info`, `switchboard=debug,rmcp=warn`):
//! the same syntax as `EnvFilter` minus span and field filters, and no regex compiled at start-up.

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the global subscriber; `default` (a level such as `info`) applies when `RUST_LOG` is unset.
pub fn init(default: &str) {
    let from_env = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty());
    let parsed = from_env.as_deref().map(str::parse::<Targets>);
    let filter = match &parsed {
        Some(Ok(targets)) => targets.clone(),
        _ => default.parse().unwrap_or_default(),
    };
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(false);
    let _ = tracing_subscriber::registry()
        .with(layer)
        .with(filter)
        .try_init();
    if let Some(Err(error)) = parsed {
        tracing::warn!(%error, "RUST_LOG is not valid; using `{default}`. Write it like `info` or `switchboard=debug,rmcp=warn`");
    }
}
