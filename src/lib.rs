//! openrouter-switchboard: an MCP server that lets any AI host ask, compare, browse and price the
//! models on OpenRouter, with a fallback router and a response cache behind the tools.
//!
//! # Layout
//! - [`config`]: the one typed, validated configuration (flags > env > TOML file > defaults).
//! - [`openrouter`]: the HTTP client for OpenRouter (`/models`, `/chat/completions` plain and
//!   streamed, `/key`), its wire types and its error type.
//! - [`catalog`]: the model catalog (live, saved to disk, or the embedded table) and its search.
//! - [`pricing`] and [`tokens`]: exact USD arithmetic over catalog prices, and BPE token counting.
//! - [`router`]: the `ModelRouter` that walks the fallback chain with classified retries, cooldowns,
//!   single-flight and a whole-call deadline; [`cache`] holds complete answers (memory over
//!   [`store`], the SQLite file shared by every process).
//! - [`budget`] and [`policy`]: what a call may spend and which models may be used.
//! - [`consult`]: the one owner of a paid call (cache, budget, routing, settlement, events);
//!   [`audit`]: the JSON line per tool call made from those events.
//! - [`answers`]: long answers paged at `SWITCHBOARD_MAX_RESULT_CHARS`, kept whole for
//!   `read_answer`.
//! - [`conversation`]: the transcripts behind `conversation_id`, kept in the data store.
//! - [`tools`]: the MCP tools, each in its own file, and [`server`], the rmcp handler (its
//!   [`server::TOOLS`] is the one list of tools).
//! - [`mask`] and [`attach`]: masking secrets and PII, and reading attachments inside the allowed
//!   roots (building blocks for consultations, not yet wired into the tools).
//! - [`transport`]: stdio and HTTP serving; [`metrics`]: the counters behind `GET /metrics`;
//!   [`commands`]: the `models`, `cost`, `ask`, `check` shell commands.

pub mod answers;
pub mod app;
pub mod attach;
pub mod audit;
pub mod budget;
pub mod cache;
pub mod catalog;
pub mod cli;
pub mod commands;
pub mod config;
pub mod consult;
pub mod conversation;
pub mod mask;
pub mod metrics;
pub mod openrouter;
pub mod policy;
pub mod pricing;
pub mod router;
pub mod server;
pub mod store;
pub mod telemetry;
pub mod tokens;
pub mod tools;
pub mod transport;

pub use app::App;
pub use config::Config;
pub use server::Switchboard;
