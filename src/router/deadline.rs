//! The whole-call deadline: set once when a tool call starts and read by everything the call
//! waits on (the catalog fetch, the chain walk), so that together they never outlast
//! `SWITCHBOARD_TIMEOUT`.

use std::time::Duration;
use tokio::time::Instant;

tokio::task_local! {
    static CALL_DEADLINE: Instant;
}

/// Runs `work` under a deadline `timeout` from now (or the enclosing call's, if that is sooner).
/// Whatever `work` awaits in this task sees it through [`current`].
pub async fn within<F: Future>(timeout: Duration, work: F) -> F::Output {
    let deadline = earliest(after(timeout));
    CALL_DEADLINE.scope(deadline, work).await
}

/// The deadline of the call this task is serving, when one was set.
pub fn current() -> Option<Instant> {
    CALL_DEADLINE.try_with(|deadline| *deadline).ok()
}

/// `deadline`, or the current call's deadline when that comes first.
pub fn earliest(deadline: Instant) -> Instant {
    current().map_or(deadline, |call| call.min(deadline))
}

/// `timeout` from now, without overflowing on absurd timeouts.
pub fn after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
}

/// Time left until the current call's deadline (`None` outside a call).
pub fn remaining() -> Option<Duration> {
    current().map(|deadline| deadline.saturating_duration_since(Instant::now()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_call_deadline_is_seen_inside_and_nested_ones_never_extend_it() {
        assert_eq!(current(), None);
        let outer = within(Duration::from_secs(5), async {
            let outer = current().expect("set inside the call");
            let inner = within(Duration::from_secs(60), async { current() }).await;
            assert_eq!(
                inner,
                Some(outer),
                "a nested scope never extends the deadline"
            );
            outer
        })
        .await;
        assert!(outer <= Instant::now() + Duration::from_secs(5));
        assert_eq!(current(), None);
        let _ = after(Duration::MAX);
    }
}
