//! The client's MCP roots for one stdio session: asked with `roots/list` once the client is
//! initialized (when it declares the `roots` capability), asked again on
//! `notifications/roots/list_changed`, and handed to each tool call as its attachment sources.
#![allow(deprecated)] // roots are SEP-2577-deprecated in rmcp 3.x but served to peers before 2026-07-28

use crate::tools::attachments::Sources;
use rmcp::{Peer, RoleServer};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, watch};

/// How long the client may take to answer `roots/list`.
const LIST_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Not asked yet.
    Unknown,
    /// A `roots/list` is under way.
    Loading,
    /// The directories of the last answer (none when the client shares none or failed to answer).
    Ready(Vec<PathBuf>),
}

/// One session's roots; clones share them.
#[derive(Debug, Clone)]
pub struct SessionRoots {
    state: Arc<watch::Sender<State>>,
    /// One `roots/list` at a time, so an older answer never replaces a newer one.
    asking: Arc<Mutex<()>>,
}

impl Default for SessionRoots {
    fn default() -> Self {
        Self {
            state: Arc::new(watch::Sender::new(State::Unknown)),
            asking: Arc::new(Mutex::new(())),
        }
    }
}

impl SessionRoots {
    /// Asks the client for its roots when it declares the capability (on `initialized` and on
    /// `list_changed`).
    pub async fn refresh(&self, peer: &Peer<RoleServer>) {
        if !declares_roots(peer) {
            return;
        }
        let _one = self.asking.lock().await;
        self.state.send_replace(State::Loading);
        let dirs = match tokio::time::timeout(LIST_TIMEOUT, peer.list_roots()).await {
            Ok(Ok(list)) => list
                .roots
                .iter()
                .filter_map(|r| file_path(&r.uri))
                .collect(),
            Ok(Err(error)) => {
                tracing::warn!(%error, "roots/list failed; attachments by path use SWITCHBOARD_FILE_ROOTS only");
                Vec::new()
            }
            Err(_) => {
                tracing::warn!(
                    "roots/list got no answer in time; attachments by path use SWITCHBOARD_FILE_ROOTS only"
                );
                Vec::new()
            }
        };
        tracing::debug!(roots = dirs.len(), "client roots");
        self.state.send_replace(State::Ready(dirs));
    }

    /// The sources of one tool call: the client's roots, waiting for an answer under way.
    pub async fn sources(&self, peer: &Peer<RoleServer>) -> Sources {
        if *self.state.borrow() == State::Unknown {
            self.refresh(peer).await;
        }
        let mut seen = self.state.subscribe();
        let ready = seen.wait_for(|s| matches!(s, State::Ready(_) | State::Unknown));
        match tokio::time::timeout(LIST_TIMEOUT, ready).await {
            Ok(Ok(state)) => match &*state {
                State::Ready(dirs) => Sources::Client(dirs.clone()),
                _ => Sources::Client(Vec::new()),
            },
            _ => Sources::Client(Vec::new()),
        }
    }
}

fn declares_roots(peer: &Peer<RoleServer>) -> bool {
    peer.peer_info()
        .is_some_and(|info| info.capabilities.roots.is_some())
}

/// The directory a `file://` root URI names (percent-decoded); other schemes name none.
fn file_path(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    let path = rest.strip_prefix("localhost").unwrap_or(rest);
    if !path.starts_with('/') {
        return None;
    }
    let bytes = percent_decode(path)?;
    Some(PathBuf::from(String::from_utf8(bytes).ok()?))
}

fn percent_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_uris_become_paths() {
        assert_eq!(
            file_path("file:///home/me/my%20project"),
            Some(PathBuf::from("/home/me/my project"))
        );
        assert_eq!(
            file_path("file://localhost/srv"),
            Some(PathBuf::from("/srv"))
        );
        assert_eq!(file_path("https://example.com/x"), None);
        assert_eq!(file_path("file:///bad%zz"), None);
    }
}
