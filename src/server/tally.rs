//! Progress for `compare_models`: one `notifications/progress` per finished model (`progress` n of
//! `total`, the last one included), all delivered before the answer. While models are still
//! running, a heartbeat every second keeps hosts that reset their timeout on progress waiting;
//! it counts a fraction above the last finished model, so progress keeps increasing.

use rmcp::model::{ProgressNotificationParam, ProgressToken};
use rmcp::{Peer, RoleServer};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

const HEARTBEAT: Duration = Duration::from_secs(1);
/// How long the answer waits for the last notifications to go out.
const FLUSH: Duration = Duration::from_secs(2);

#[derive(Debug)]
pub struct Tally {
    finished: Option<mpsc::UnboundedSender<usize>>,
    task: Option<JoinHandle<()>>,
}

impl Tally {
    /// Nothing is sent when the caller gave no progress token.
    pub fn start(peer: Peer<RoleServer>, token: Option<ProgressToken>, total: usize) -> Self {
        let Some(token) = token else {
            return Self {
                finished: None,
                task: None,
            };
        };
        let (sender, receiver) = mpsc::unbounded_channel();
        let task = tokio::spawn(forward(peer, token, total, receiver));
        Self {
            finished: Some(sender),
            task: Some(task),
        }
    }

    /// `done` models have finished.
    pub fn finished(&self, done: usize) {
        if let Some(sender) = &self.finished {
            let _ = sender.send(done);
        }
    }

    /// Waits until every notification is sent, so none arrives after the answer.
    pub async fn flush(mut self) {
        self.finished = None;
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(FLUSH, task).await.is_err() {
                abort.abort();
            }
        }
    }
}

impl Drop for Tally {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

async fn forward(
    peer: Peer<RoleServer>,
    token: ProgressToken,
    total: usize,
    mut finished: mpsc::UnboundedReceiver<usize>,
) {
    let (mut done, mut beats) = (0usize, 0u32);
    loop {
        let progress = tokio::select! {
            next = finished.recv() => match next {
                Some(n) => {
                    (done, beats) = (n, 0);
                    n as f64
                }
                None => return,
            },
            () = tokio::time::sleep(HEARTBEAT) => {
                beats += 1;
                heartbeat(done, beats)
            }
        };
        let param = ProgressNotificationParam::new(token.clone(), progress)
            .with_total(total as f64)
            .with_message(format!("{done} of {total} models finished"));
        if peer.notify_progress(param).await.is_err() {
            return;
        }
    }
}

/// Between `done` and `done + 1`, rising with every beat.
fn heartbeat(done: usize, beats: u32) -> f64 {
    done as f64 + 1.0 - 1.0 / f64::from(beats + 1)
}

#[cfg(test)]
mod tests {
    use super::heartbeat;

    #[test]
    fn heartbeats_rise_but_stay_below_the_next_model() {
        let beats: Vec<f64> = (1..50).map(|b| heartbeat(2, b)).collect();
        assert!(beats.windows(2).all(|w| w[1] > w[0]));
        assert!(beats.iter().all(|&p| p > 2.0 && p < 3.0));
    }
}
