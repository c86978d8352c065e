//! The shared state every tool and command works with: config, client, catalog, router.

use crate::cache::ResponseCache;
use crate::catalog::Catalog;
use crate::config::{CacheBackend, Config};
use crate::openrouter::Client;
use crate::router::{Cooldowns, ModelRouter};
use std::sync::Arc;
use std::time::Duration;

/// How long to wait for OpenRouter to accept a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Failed attempts in a row that put a model in cooldown.
const COOLDOWN_AFTER_FAILURES: u32 = 3;
/// How long a live catalog fetch may take before the saved copy is used.
const CATALOG_FETCH_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Debug)]
pub struct App {
    pub config: Config,
    pub client: Client,
    pub catalog: Catalog,
    pub router: ModelRouter,
}

impl App {
    /// Builds the parts; nothing touches the network or the disk until first used.
    pub fn new(config: Config) -> Arc<App> {
        let client = Client::new(
            &config.base_url,
            config.api_key.clone(),
            CONNECT_TIMEOUT,
            config.stall_timeout,
        );
        let catalog = Catalog::new(
            client.clone(),
            config.catalog_path(),
            config.catalog_ttl,
            CATALOG_FETCH_TIMEOUT,
        );
        let cache = ResponseCache::new(config.cache == CacheBackend::Memory, config.cache_ttl);
        let cooldowns = Cooldowns::new(COOLDOWN_AFTER_FAILURES, config.cooldown);
        let router = ModelRouter::new(
            client.clone(),
            cache,
            config.retry,
            config.timeout,
            config.routing,
            cooldowns,
        );
        Arc::new(App {
            config,
            client,
            catalog,
            router,
        })
    }

    /// Removes the API key from text that is about to leave the process.
    pub fn redact(&self, text: &str) -> String {
        match self.client.key_text() {
            Some(key) if !key.is_empty() => text.replace(key, "[redacted]"),
            _ => text.to_string(),
        }
    }
}
