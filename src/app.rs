//! The shared state every tool and command works with: config, client, catalog, router, budget,
//! model policy, and the event sink that metrics and the audit log are fed from.

use crate::budget::Budget;
use crate::cache::{ResponseCache, Tier};
use crate::catalog::Catalog;
use crate::config::{CacheBackend, Config};
use crate::consult::Events;
use crate::openrouter::Client;
use crate::policy::ModelPolicy;
use crate::router::{Cooldowns, ModelRouter};
use crate::store::Store;
use std::sync::Arc;
use std::time::Duration;

/// How long to wait for OpenRouter to accept a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Failed attempts in a row that put a model in cooldown.
const COOLDOWN_AFTER_FAILURES: u32 = 3;
/// How long a live catalog fetch may take before the saved copy is used.
const CATALOG_FETCH_TIMEOUT: Duration = Duration::from_secs(15);

/// A reservation that is never settled (its process died) becomes a charge of its worst case
/// this long beyond the call deadline (see `store::ledger`).
const RESERVATION_GRACE: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub struct App {
    pub config: Config,
    pub client: Client,
    pub catalog: Catalog,
    pub router: ModelRouter,
    pub budget: Budget,
    pub policy: ModelPolicy,
    pub events: Events,
    /// Conversations and stored long answers (`store::Kind`); the cache and ledger share it.
    pub store: Store,
}

impl App {
    /// Builds the parts; nothing touches the network or the disk until first used.
    pub fn new(config: Config) -> Arc<App> {
        let client = Client::new(
            &config.base_url,
            config.api_key.clone(),
            CONNECT_TIMEOUT,
            config.stall_timeout,
        )
        .with_max_answer_bytes(config.max_answer_bytes);
        let catalog = Catalog::new(
            client.clone(),
            config.catalog_path(),
            config.catalog_ttl,
            CATALOG_FETCH_TIMEOUT,
        );
        let (store, tier) = match &config.cache {
            CacheBackend::Redis(url) => (Store::redis(url.clone()), Tier::Redis),
            other => {
                let tier = match other {
                    CacheBackend::Off => Tier::Off,
                    CacheBackend::Memory => Tier::Memory,
                    _ => Tier::Sqlite,
                };
                (Store::new(config.store_path()), tier)
            }
        };
        let cache = ResponseCache::new(tier, config.cache_ttl, store.clone());
        let hold = config.timeout + RESERVATION_GRACE;
        let budget = Budget::new(store.clone(), config.budget_usd, config.budget_period, hold);
        let policy = ModelPolicy::new(&config.allowed_models, config.max_price);
        let cooldowns = Cooldowns::new(COOLDOWN_AFTER_FAILURES, config.cooldown)
            .shared(store.shared().cloned());
        let events = Events::new(config.audit_log.as_ref());
        let router = ModelRouter::new(
            client.clone(),
            cache,
            config.retry,
            config.timeout,
            config.routing,
            cooldowns,
            events.clone(),
        );
        Arc::new(App {
            config,
            client,
            catalog,
            router,
            budget,
            policy,
            events,
            store,
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
