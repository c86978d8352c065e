//! The audit log (`SWITCHBOARD_AUDIT_LOG`): one JSON line per tool call, made from the call's
//! events: time, tool, transport, client, session, each paid call's models, attempts, tokens and
//! cost, the outcome class, latency and the budget left. Never a prompt, an answer, a file's
//! content or name, a key or a token. Lines are appended whole, even with several processes on one
//! file: it is opened with `O_APPEND` and each line goes out in one `write`.

use crate::consult::scope::Consultation;
use serde::Serialize;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::SystemTime;

/// Longest client name, version or session id kept, in characters.
const MAX_SHOWN: usize = 64;

/// Where audit lines go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditTarget {
    Stderr,
    File(PathBuf),
}

impl AuditTarget {
    /// `stderr`, or a file path.
    pub fn parse(text: &str) -> Self {
        match text.trim() {
            "stderr" => AuditTarget::Stderr,
            path => AuditTarget::File(PathBuf::from(path)),
        }
    }
}

/// Who made a tool call.
#[derive(Debug, Clone, Serialize)]
pub struct Caller {
    pub transport: &'static str,
    /// (name, version) from `initialize`, when the client sent one.
    #[serde(skip)]
    pub client: Option<(String, String)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
}

/// One tool call's line.
#[derive(Debug, Serialize)]
pub struct Line<'a> {
    /// RFC 3339, UTC, milliseconds.
    pub time: String,
    pub tool: &'a str,
    pub transport: &'static str,
    pub client_name: Option<String>,
    pub client_version: Option<String>,
    pub session: Option<String>,
    /// ok, invalid, refused, failed, cancelled or error.
    pub outcome: &'static str,
    pub latency_ms: u64,
    /// What the call paid, USD (cached answers cost nothing).
    pub cost_usd: f64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Every paid call was served from the cache (false when there was none).
    pub cached: bool,
    /// Left in the budget period after the call, when a budget is set.
    pub budget_left_usd: Option<f64>,
    /// Each paid call: requested and answering model, attempts, tokens, cost and its source.
    pub consultations: Vec<Consultation>,
}

impl<'a> Line<'a> {
    pub fn new(
        tool: &'a str,
        caller: Caller,
        outcome: &'static str,
        latency_ms: u64,
        consultations: Vec<Consultation>,
    ) -> Self {
        let (client_name, client_version) = caller.client.unzip();
        Self {
            time: humantime::format_rfc3339_millis(SystemTime::now()).to_string(),
            tool,
            transport: caller.transport,
            client_name,
            client_version,
            session: caller.session,
            outcome,
            latency_ms,
            cost_usd: crate::pricing::usd(consultations.iter().map(|c| c.cost_usd).sum()),
            prompt_tokens: consultations.iter().map(|c| c.prompt_tokens).sum(),
            completion_tokens: consultations.iter().map(|c| c.completion_tokens).sum(),
            cached: !consultations.is_empty() && consultations.iter().all(|c| c.cached),
            budget_left_usd: None,
            consultations,
        }
    }

    pub fn with_budget_left(mut self, left: Option<f64>) -> Self {
        self.budget_left_usd = left;
        self
    }
}

/// The open audit log. The file is opened on the first line, so start-up touches no disk.
#[derive(Debug)]
pub struct AuditLog {
    target: AuditTarget,
    file: OnceLock<Option<File>>,
}

impl AuditLog {
    pub fn new(target: AuditTarget) -> Self {
        Self {
            target,
            file: OnceLock::new(),
        }
    }

    /// Appends `line` as one JSON line in one write. A failure is logged, never fatal.
    pub fn write(&self, line: &Line<'_>) {
        let Ok(mut bytes) = serde_json::to_vec(line) else {
            return;
        };
        bytes.push(b'\n');
        let result = match &self.target {
            AuditTarget::Stderr => std::io::stderr().lock().write_all(&bytes),
            AuditTarget::File(path) => match self.file(path) {
                Some(mut file) => file.write(&bytes).and_then(|n| whole(n, bytes.len())),
                None => return,
            },
        };
        if let Err(error) = result {
            tracing::error!(%error, "could not append to SWITCHBOARD_AUDIT_LOG");
        }
    }

    fn file(&self, path: &PathBuf) -> Option<&File> {
        self.file
            .get_or_init(|| {
                OpenOptions::new()
                    .append(true)
                    .create(true)
                    .open(path)
                    .inspect_err(|error| {
                        tracing::error!(
                            %error,
                            path = %path.display(),
                            "cannot open SWITCHBOARD_AUDIT_LOG; no audit lines are written: make its directory writable or set another path"
                        );
                    })
                    .ok()
            })
            .as_ref()
    }
}

/// A short write would split a line; it is reported rather than finished by a second write.
fn whole(written: usize, len: usize) -> std::io::Result<()> {
    if written == len {
        Ok(())
    } else {
        Err(std::io::Error::other(format!(
            "wrote {written} of {len} bytes of an audit line"
        )))
    }
}

/// `text` cut to `MAX_SHOWN` characters.
pub fn shown(text: &str) -> String {
    text.chars().take(MAX_SHOWN).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller() -> Caller {
        Caller {
            transport: "stdio",
            client: Some(("host".into(), "1.0".into())),
            session: None,
        }
    }

    #[test]
    fn concurrent_writers_append_whole_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let (threads, lines) = (8, 200);
        std::thread::scope(|scope| {
            for _ in 0..threads {
                // Each writer opens the file itself, as a separate process would.
                let log = AuditLog::new(AuditTarget::File(path.clone()));
                scope.spawn(move || {
                    for _ in 0..lines {
                        let notes = vec![Consultation::new("a/".repeat(2000))];
                        log.write(&Line::new("ask_model", caller(), "ok", 1, notes));
                    }
                });
            }
        });
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), threads * lines);
        for line in text.lines() {
            let value: serde_json::Value = serde_json::from_str(line).expect("a whole JSON line");
            assert_eq!(value["client_name"], "host");
        }
    }

    #[test]
    fn stderr_or_a_path() {
        assert_eq!(AuditTarget::parse("stderr"), AuditTarget::Stderr);
        assert_eq!(
            AuditTarget::parse("/var/log/a.jsonl"),
            AuditTarget::File(PathBuf::from("/var/log/a.jsonl"))
        );
    }
}
