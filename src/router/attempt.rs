//! The record of one attempt: which model, what happened, how long it took. Every answer lists them.

use crate::openrouter::Error;
use crate::openrouter::types::Usage;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// This attempt answered.
    Ok,
    /// This attempt failed and the same model was tried again.
    Retried,
    /// This attempt failed and the next model in the chain was tried.
    FellBack,
    /// This attempt failed and the call ended with it.
    Failed,
    /// The model was not tried.
    Skipped,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Retried => "retried",
            Outcome::FellBack => "fell_back",
            Outcome::Failed => "failed",
            Outcome::Skipped => "skipped",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub model: String,
    pub outcome: Outcome,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub latency_ms: u64,
    /// What the switchboard changed in the request (a clamped `max_tokens`).
    pub note: Option<String>,
    /// What a failed attempt was billed and is not part of the answer's usage (an answer whose
    /// reasoning used the whole `max_tokens`).
    pub paid: Option<Usage>,
}

impl Attempt {
    pub fn ok(model: &str, latency_ms: u64) -> Self {
        Self {
            model: model.to_string(),
            outcome: Outcome::Ok,
            status: None,
            error: None,
            latency_ms,
            note: None,
            paid: None,
        }
    }

    pub fn failed(model: &str, outcome: Outcome, error: &Error, latency_ms: u64) -> Self {
        Self {
            model: model.to_string(),
            outcome,
            status: error.status(),
            error: Some(error.to_string()),
            latency_ms,
            note: None,
            paid: error.paid_usage().cloned(),
        }
    }

    pub fn skipped(model: &str, reason: impl Into<String>) -> Self {
        Self {
            model: model.to_string(),
            outcome: Outcome::Skipped,
            status: None,
            error: Some(reason.into()),
            latency_ms: 0,
            note: None,
            paid: None,
        }
    }
}

impl Attempt {
    /// The same attempt, carrying `note`.
    #[must_use]
    pub fn with_note(mut self, note: Option<&str>) -> Self {
        self.note = note.map(str::to_string);
        self
    }

    /// The same attempt, its bill counted elsewhere (joined into the answer's usage).
    #[must_use]
    pub fn unpaid(mut self) -> Self {
        self.paid = None;
        self
    }
}

impl fmt::Display for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.model, self.outcome.as_str())?;
        if let Some(error) = &self.error {
            write!(f, " ({error})")?;
        }
        if let Some(note) = &self.note {
            write!(f, " [{note}]")?;
        }
        write!(f, " after {} ms", self.latency_ms)
    }
}

/// Formats attempts one per line, for error messages.
pub fn list(attempts: &[Attempt]) -> String {
    attempts.iter().map(|a| format!("\n- {a}")).collect()
}
