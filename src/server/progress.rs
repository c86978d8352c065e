//! `notifications/progress` for long calls: forwards the latest status to the caller at most every
//! 200 ms, and at least every second while upstream is silent, so hosts that reset their timeout on
//! progress keep waiting. Nothing is sent when the caller gave no progress token.

use rmcp::model::{ProgressNotificationParam, ProgressToken};
use rmcp::{Peer, RoleServer};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

const MIN_INTERVAL: Duration = Duration::from_millis(200);
const HEARTBEAT: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub struct ProgressReporter {
    status: Option<watch::Sender<String>>,
    task: Option<JoinHandle<()>>,
}

impl ProgressReporter {
    pub fn start(peer: Peer<RoleServer>, token: Option<ProgressToken>) -> Self {
        let Some(token) = token else {
            return Self {
                status: None,
                task: None,
            };
        };
        let (status, receiver) = watch::channel("waiting for the first model".to_string());
        let task = tokio::spawn(forward(peer, token, receiver));
        Self {
            status: Some(status),
            task: Some(task),
        }
    }

    /// Replaces the status message; only the latest is sent.
    pub fn update(&self, message: String) {
        if let Some(status) = &self.status {
            status.send_replace(message);
        }
    }
}

impl Drop for ProgressReporter {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Sends a notification on every change (throttled) or heartbeat; progress counts up from 1.
async fn forward(
    peer: Peer<RoleServer>,
    token: ProgressToken,
    mut status: watch::Receiver<String>,
) {
    let mut sent: u32 = 0;
    loop {
        tokio::select! {
            changed = status.changed() => if changed.is_err() { return },
            () = tokio::time::sleep(HEARTBEAT) => {}
        }
        let message = status.borrow_and_update().clone();
        sent += 1;
        let param =
            ProgressNotificationParam::new(token.clone(), f64::from(sent)).with_message(message);
        if peer.notify_progress(param).await.is_err() {
            return;
        }
        tokio::time::sleep(MIN_INTERVAL).await;
    }
}
