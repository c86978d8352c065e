//! Classifies every upstream outcome (retry the same model, move to the next, or stop) and computes
//! the capped exponential backoff, and reads `Retry-After` (seconds or an HTTP date, absurd values
//! capped). Pure functions, unit-tested here.

use crate::openrouter::Error;
use std::time::{Duration, SystemTime};

/// The longest `Retry-After` believed. Larger values are capped to this, never trusted as is: a
/// wait this long never fits a call's deadline, so the router moves on to the next model.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Transient: try the same model again, after `after` if the upstream said how long.
    Retry { after: Option<Duration> },
    /// This model cannot answer this request: try the next model at once.
    NextModel,
    /// No model can answer (bad key, no credits): stop the whole call.
    Stop,
}

pub fn classify(error: &Error) -> Decision {
    match error {
        Error::MissingKey => Decision::Stop,
        Error::Transport { .. } | Error::MidStream { .. } => Decision::Retry { after: None },
        Error::Api {
            status,
            retry_after,
            limit_reached,
            ..
        } => match status {
            401 | 402 => Decision::Stop,
            403 if *limit_reached => Decision::Stop,
            408 | 429 | 500..=599 => Decision::Retry {
                after: *retry_after,
            },
            _ => Decision::NextModel,
        },
        Error::Decode(_) | Error::ReasoningExhausted { .. } => Decision::NextModel,
    }
}

/// How often and how long to retry one model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries of the same model after its first attempt.
    pub max_retries: u32,
    /// The first backoff delay; each retry doubles it.
    pub base_delay: Duration,
    /// The backoff cap.
    pub max_delay: Duration,
    /// Follow-up requests that complete an answer cut by `max_tokens`.
    pub max_continuations: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 2,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
            max_continuations: crate::config::DEFAULT_MAX_CONTINUATIONS,
        }
    }
}

impl RetryPolicy {
    /// Backoff before retry number `retry` (0-based): `base * 2^retry`, capped at `max_delay`,
    /// with "equal jitter": half fixed, half scaled by `jitter` in `[0, 1)`.
    pub fn delay_for(&self, retry: u32, jitter: f64) -> Duration {
        let exponential = self.base_delay.saturating_mul(2u32.saturating_pow(retry));
        let capped = exponential.min(self.max_delay);
        let half = capped / 2;
        half + half.mul_f64(jitter.clamp(0.0, 1.0))
    }
}

/// A `Retry-After` header value as a wait: delay-seconds (`2`, `0.5`) or an HTTP date (`Wed, 21
/// Oct 2026 07:28:00 GMT`), measured from `now`. A date in the past means no wait. Values over
/// [`MAX_RETRY_AFTER`] are capped. Negative, NaN, infinite, empty or unreadable values are treated
/// as absent (`None`), so the policy's own backoff applies.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if let Ok(seconds) = value.parse::<f64>() {
        return seconds_to_wait(seconds);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let wait = at.duration_since(now).unwrap_or(Duration::ZERO);
    Some(wait.min(MAX_RETRY_AFTER))
}

fn seconds_to_wait(seconds: f64) -> Option<Duration> {
    if !seconds.is_finite() || seconds < 0.0 {
        return None;
    }
    let capped = seconds.min(MAX_RETRY_AFTER.as_secs_f64());
    Duration::try_from_secs_f64(capped).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, retry_after: Option<Duration>) -> Error {
        Error::Api {
            status,
            message: String::new(),
            error_type: None,
            retry_after,
            limit_reached: false,
            param: None,
        }
    }

    #[test]
    fn classifies_statuses() {
        assert_eq!(classify(&api(401, None)), Decision::Stop);
        assert_eq!(classify(&api(402, None)), Decision::Stop);
        let wait = Some(Duration::from_secs(1));
        assert_eq!(classify(&api(429, wait)), Decision::Retry { after: wait });
        assert_eq!(classify(&api(408, None)), Decision::Retry { after: None });
        assert_eq!(classify(&api(503, None)), Decision::Retry { after: None });
        for status in [400, 403, 404, 413] {
            assert_eq!(
                classify(&api(status, None)),
                Decision::NextModel,
                "{status}"
            );
        }
        let budget = Error::from_response(
            403,
            r#"{"error":{"code":403,"message":"Workspace monthly budget of $500.00 exceeded. Contact your workspace admin."}}"#,
            None,
        );
        assert_eq!(classify(&budget), Decision::Stop);
        let moderation = Error::from_response(
            403,
            r#"{"error":{"code":403,"message":"Your input was flagged","metadata":{"reasons":["violence"],"flagged_input":"x"}}}"#,
            None,
        );
        assert_eq!(classify(&moderation), Decision::NextModel);
        let mid = Error::MidStream {
            code: None,
            message: String::new(),
            received_chars: 3,
        };
        assert_eq!(classify(&mid), Decision::Retry { after: None });
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let policy = RetryPolicy {
            max_retries: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(350),
            max_continuations: 0,
        };
        assert_eq!(policy.delay_for(0, 0.0), Duration::from_millis(50));
        assert_eq!(
            policy.delay_for(0, 0.999_999),
            Duration::from_micros(99_999) + Duration::from_nanos(950)
        );
        assert_eq!(policy.delay_for(1, 0.0), Duration::from_millis(100));
        assert_eq!(policy.delay_for(3, 1.0), Duration::from_millis(350));
        assert_eq!(policy.delay_for(40, 1.0), Duration::from_millis(350));
    }

    #[test]
    fn retry_after_reads_seconds_and_caps_absurd_values() {
        let now = SystemTime::now();
        let read = |v: &str| parse_retry_after(v, now);
        assert_eq!(read("2"), Some(Duration::from_secs(2)));
        assert_eq!(read(" 0 "), Some(Duration::ZERO));
        assert_eq!(read("0.5"), Some(Duration::from_millis(500)));
        for absurd in ["1e19", "1e20", "1e308", "18446744073709551616"] {
            assert_eq!(read(absurd), Some(MAX_RETRY_AFTER), "{absurd}");
        }
        for absent in [
            "-1",
            "NaN",
            "nan",
            "inf",
            "-inf",
            "",
            "   ",
            "soon",
            "2 seconds",
        ] {
            assert_eq!(read(absent), None, "{absent:?}");
        }
    }

    #[test]
    fn retry_after_reads_http_dates() {
        let now = httpdate::parse_http_date("Wed, 02 Dec 2026 13:00:00 GMT").unwrap();
        let read = |v: &str| parse_retry_after(v, now);
        assert_eq!(
            read("Wed, 02 Dec 2026 13:00:03 GMT"),
            Some(Duration::from_secs(3))
        );
        assert_eq!(read("Wed, 02 Dec 2026 12:59:00 GMT"), Some(Duration::ZERO));
        assert_eq!(read("Sun, 06 Nov 1994 08:49:37 GMT"), Some(Duration::ZERO));
        assert_eq!(read("Fri, 31 Dec 9999 23:59:59 GMT"), Some(MAX_RETRY_AFTER));
        assert_eq!(read("Wed, 02 Dec 2026 25:00:00 GMT"), None);
    }
}
