//! The `TEST_LOG` switch: with `TEST_LOG=1`, tests print the server's logs to stderr as they run
//! (in-process servers through a `tracing` subscriber, spawned binaries by copying their
//! stderr). `RUST_LOG` filters as in the binary; the default is `info,switchboard=debug`.

use std::io::Write;
use std::sync::Once;

/// Whether `TEST_LOG` is set to something other than empty or `0`.
pub fn enabled() -> bool {
    std::env::var("TEST_LOG").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Installs a stderr subscriber once per test binary when [`enabled`]; otherwise logs go nowhere.
pub fn init() {
    static ONCE: Once = Once::new();
    if !enabled() {
        return;
    }
    ONCE.call_once(|| {
        use tracing_subscriber::layer::SubscriberExt;
        use tracing_subscriber::util::SubscriberInitExt;
        let filter = std::env::var("RUST_LOG")
            .ok()
            .and_then(|v| v.parse::<tracing_subscriber::filter::Targets>().ok())
            .unwrap_or_else(|| "info,switchboard=debug".parse().unwrap());
        let layer = tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(false);
        let _ = tracing_subscriber::registry()
            .with(layer)
            .with(filter)
            .try_init();
    });
}

/// Copies a spawned server's stderr to ours when [`enabled`] (past the test harness's capture).
pub fn echo(bytes: &[u8]) {
    if enabled() {
        let _ = std::io::stderr().lock().write_all(bytes);
    }
}
