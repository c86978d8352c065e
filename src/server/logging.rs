//! MCP logging (`notifications/message`). After a call that needed retries, fallbacks or skips,
//! one warning says what happened, so a host's log shows a flaky provider even when the user got
//! an answer. Sent only at or above the level the client chose, with `logging/setLevel` (protocols
//! before 2026-07-28) or per request in `_meta` (2026-07-28); nothing until it has chosen.
#![allow(deprecated)] // SEP-2577 deprecates logging in rmcp 3.x; it still serves peers before 2026-07-28.

use crate::tools::AttemptOutput;
use rmcp::model::{LoggingLevel, LoggingMessageNotificationParam, RequestMetaObject};
use rmcp::{Peer, RoleServer};
use std::sync::{Arc, Mutex};

/// The level this session's client chose with `logging/setLevel`.
#[derive(Debug, Clone, Default)]
pub struct LogLevel(Arc<Mutex<Option<LoggingLevel>>>);

impl LogLevel {
    pub fn set(&self, level: LoggingLevel) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(level);
    }

    /// Whether a message at `level` is wanted for this request.
    fn wants(&self, meta: &RequestMetaObject, level: LoggingLevel) -> bool {
        let chosen = meta
            .log_level()
            .or(*self.0.lock().unwrap_or_else(|e| e.into_inner()));
        chosen.is_some_and(|chosen| rank(level) >= rank(chosen))
    }
}

fn rank(level: LoggingLevel) -> u8 {
    match level {
        LoggingLevel::Debug => 0,
        LoggingLevel::Info => 1,
        LoggingLevel::Notice => 2,
        LoggingLevel::Warning => 3,
        LoggingLevel::Error => 4,
        LoggingLevel::Critical => 5,
        LoggingLevel::Alert => 6,
        LoggingLevel::Emergency => 7,
    }
}

/// Warns about the attempts of `tool` that did not answer, if there were any and the client wants
/// warnings.
pub async fn report_attempts(
    level: &LogLevel,
    meta: &RequestMetaObject,
    peer: &Peer<RoleServer>,
    tool: &str,
    attempts: &[AttemptOutput],
) {
    let troubled: Vec<&AttemptOutput> = attempts.iter().filter(|a| a.outcome != "ok").collect();
    if troubled.is_empty() || !level.wants(meta, LoggingLevel::Warning) {
        return;
    }
    let data = serde_json::json!({
        "message": format!("{tool}: {} attempt(s) did not answer", troubled.len()),
        "attempts": troubled,
    });
    let param = LoggingMessageNotificationParam::new(LoggingLevel::Warning, data).with_logger(tool);
    let _ = peer.notify_logging_message(param).await;
}
