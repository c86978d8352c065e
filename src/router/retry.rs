//! Classifies every upstream outcome (retry the same model, move to the next, or stop) and computes
//! the capped exponential backoff. Pure functions, unit-tested here.

use crate::openrouter::Error;
use std::time::Duration;

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
            ..
        } => match status {
            401 | 402 => Decision::Stop,
            408 | 429 | 500..=599 => Decision::Retry {
                after: *retry_after,
            },
            _ => Decision::NextModel,
        },
        Error::Decode(_) => Decision::NextModel,
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
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 2,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, retry_after: Option<Duration>) -> Error {
        Error::Api {
            status,
            message: String::new(),
            error_type: None,
            retry_after,
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
}
