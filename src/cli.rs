//! Command-line parsing (clap derive). Every setting is a flag with an environment variable, and the
//! same struct reads the TOML config file, so precedence is simply flag > env > file > default
//! (the layering is in [`crate::config::layers`]). Settings with a fixed set of values are
//! `ValueEnum`s: clap lists them in `--help` and in its error.

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "openrouter-switchboard",
    version,
    about = "MCP server for consulting any model on OpenRouter"
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Settings shared by every command. Field names are also the TOML keys.
#[derive(Debug, Clone, Default, Args, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// TOML file holding any of these settings (keys as the long flags, with `_` for `-`)
    #[arg(long, env = "SWITCHBOARD_CONFIG", global = true)]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// OpenRouter API key (prefer the environment variable)
    #[arg(
        long,
        env = "OPENROUTER_API_KEY",
        hide = true,
        hide_env_values = true,
        global = true
    )]
    pub api_key: Option<String>,
    #[arg(
        long,
        env = "OPENROUTER_BASE_URL",
        global = true,
        help = "API root; any OpenAI-compatible server works for chat [default: https://openrouter.ai/api/v1]"
    )]
    pub base_url: Option<String>,
    /// Model used when a call names none [default: openai/gpt-5-mini]
    #[arg(long, env = "SWITCHBOARD_DEFAULT_MODEL", global = true)]
    pub default_model: Option<String>,
    /// Comma-separated models tried after the requested one [default: google/gemini-2.5-flash]
    #[arg(long, env = "SWITCHBOARD_FALLBACK_MODELS", global = true)]
    pub fallback_models: Option<String>,
    /// Response cache: sqlite, sqlite:PATH, memory, off [default: sqlite in the data dir]
    #[arg(long, env = "SWITCHBOARD_CACHE", global = true)]
    pub cache: Option<String>,
    /// How long cached answers are served [default: 24h]
    #[arg(long, env = "SWITCHBOARD_CACHE_TTL", global = true)]
    pub cache_ttl: Option<String>,
    /// Where the cache, the spend ledger and the saved catalog live [default: $XDG_CACHE_HOME/openrouter-switchboard]
    #[arg(long, env = "SWITCHBOARD_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Whole-call deadline for one tool call, all attempts together [default: 120s]
    #[arg(long, env = "SWITCHBOARD_TIMEOUT", global = true)]
    pub timeout: Option<String>,
    /// Retries of the same model on 429/5xx/timeouts before falling back [default: 2]
    #[arg(long, env = "SWITCHBOARD_MAX_RETRIES", global = true)]
    pub max_retries: Option<u32>,
    /// Follow-up requests that complete an answer cut by max_tokens [default: 2]
    #[arg(long, env = "SWITCHBOARD_MAX_CONTINUATIONS", global = true)]
    pub max_continuations: Option<u32>,
    /// First retry backoff, doubled each retry, capped at 8s [default: 250ms]
    #[arg(long, env = "SWITCHBOARD_RETRY_BASE", global = true)]
    pub retry_base: Option<String>,
    /// How long the in-memory catalog is fresh before it is fetched again [default: 1h]
    #[arg(long, env = "SWITCHBOARD_CATALOG_TTL", global = true)]
    pub catalog_ttl: Option<String>,
    /// Per-attempt timeout: the longest upstream may stay silent before the attempt is retried [default: 30s]
    #[arg(long, env = "SWITCHBOARD_STALL_TIMEOUT", global = true)]
    pub stall_timeout: Option<String>,
    /// How long a model that keeps failing is skipped by later calls [default: 30s]
    #[arg(long, env = "SWITCHBOARD_COOLDOWN", global = true)]
    pub cooldown: Option<String>,
    /// Who walks the fallback chain: switchboard (retries, cooldowns) or native (OpenRouter's `models`) [default: switchboard]
    #[arg(long, env = "SWITCHBOARD_ROUTING", global = true, value_enum)]
    pub routing: Option<RoutingMode>,
    /// Spend cap in USD per budget period; calls whose worst case would pass it are refused
    #[arg(long, env = "SWITCHBOARD_BUDGET_USD", global = true)]
    pub budget_usd: Option<f64>,
    /// The span the budget covers, UTC [default: day]
    #[arg(long, env = "SWITCHBOARD_BUDGET_PERIOD", global = true, value_enum)]
    pub budget_period: Option<BudgetPeriod>,
    /// Refuse models whose prompt or completion price per 1M tokens is above this (USD)
    #[arg(long, env = "SWITCHBOARD_MAX_PRICE", global = true)]
    pub max_price: Option<f64>,
    /// USD per 1M tokens assumed for models the catalog does not price (a gateway's /models), so a budget can hold their worst case [default: such models are refused under a budget]
    #[arg(long, env = "SWITCHBOARD_UNKNOWN_PRICE", global = true)]
    pub unknown_price: Option<f64>,
    /// Comma-separated model ids or globs that may be used (`anthropic/*`, `*:free`) [default: all]
    #[arg(long, env = "SWITCHBOARD_ALLOWED_MODELS", global = true)]
    pub allowed_models: Option<String>,
    /// Largest answer accepted from upstream, in bytes of text (or with KiB/MiB); a larger one fails that attempt [default: 4MiB]
    #[arg(long, env = "SWITCHBOARD_MAX_ANSWER_BYTES", global = true)]
    pub max_answer_bytes: Option<String>,
    /// Append one JSON line per tool call (models, attempts, tokens, cost, outcome; never prompts or answers) to this file, or `stderr` [default: none]
    #[arg(long, env = "SWITCHBOARD_AUDIT_LOG", global = true)]
    pub audit_log: Option<String>,
    /// Longest answer text returned in one tool result; the rest is read with read_answer [default: 20000]
    #[arg(long, env = "SWITCHBOARD_MAX_RESULT_CHARS", global = true)]
    pub max_result_chars: Option<usize>,
    /// How long a conversation_id (and a stored long answer) can be continued or read [default: 7d]
    #[arg(long, env = "SWITCHBOARD_CONVERSATION_TTL", global = true)]
    pub conversation_ttl: Option<String>,
    /// Comma-separated directories that `files`/`images` may read (besides the client's MCP roots over stdio) [default: none]
    #[arg(long, env = "SWITCHBOARD_FILE_ROOTS", global = true)]
    pub file_roots: Option<String>,
    /// What is masked before anything is sent upstream: secrets, secrets,pii or off [default: secrets]
    #[arg(long, env = "SWITCHBOARD_MASK", global = true)]
    pub mask: Option<String>,
    /// Default OpenRouter provider preferences, a JSON object like the `provider` argument [default: none]
    #[arg(long, env = "SWITCHBOARD_PROVIDER", global = true)]
    pub provider_preferences: Option<String>,
    /// The `http` command's settings: its flags, or the `[http]` table of the config file
    #[arg(skip)]
    #[serde(default)]
    pub http: HttpSettings,
}

impl Settings {
    /// Fills every unset field from `file`.
    pub fn or(self, file: Settings) -> Settings {
        Settings {
            config: self.config,
            api_key: self.api_key.or(file.api_key),
            base_url: self.base_url.or(file.base_url),
            default_model: self.default_model.or(file.default_model),
            fallback_models: self.fallback_models.or(file.fallback_models),
            cache: self.cache.or(file.cache),
            cache_ttl: self.cache_ttl.or(file.cache_ttl),
            data_dir: self.data_dir.or(file.data_dir),
            timeout: self.timeout.or(file.timeout),
            max_retries: self.max_retries.or(file.max_retries),
            max_continuations: self.max_continuations.or(file.max_continuations),
            retry_base: self.retry_base.or(file.retry_base),
            catalog_ttl: self.catalog_ttl.or(file.catalog_ttl),
            stall_timeout: self.stall_timeout.or(file.stall_timeout),
            cooldown: self.cooldown.or(file.cooldown),
            routing: self.routing.or(file.routing),
            budget_usd: self.budget_usd.or(file.budget_usd),
            budget_period: self.budget_period.or(file.budget_period),
            max_price: self.max_price.or(file.max_price),
            unknown_price: self.unknown_price.or(file.unknown_price),
            allowed_models: self.allowed_models.or(file.allowed_models),
            max_answer_bytes: self.max_answer_bytes.or(file.max_answer_bytes),
            audit_log: self.audit_log.or(file.audit_log),
            max_result_chars: self.max_result_chars.or(file.max_result_chars),
            conversation_ttl: self.conversation_ttl.or(file.conversation_ttl),
            file_roots: self.file_roots.or(file.file_roots),
            mask: self.mask.or(file.mask),
            provider_preferences: self.provider_preferences.or(file.provider_preferences),
            http: self.http.or(file.http),
        }
    }
}

/// `--routing`: who walks the fallback chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RoutingMode {
    /// This server: retries, backoff, cooldowns, one request per attempt
    Switchboard,
    /// OpenRouter: the whole chain as one request with `models`
    Native,
}

/// `--budget-period`: the span a budget covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BudgetPeriod {
    /// From 00:00 UTC
    Day,
    /// From the first of the month, 00:00 UTC
    Month,
    /// Since the ledger began
    Total,
}

/// Settings of the `http` command (TOML: the `[http]` table, same keys).
#[derive(Clone, Default, Args, Deserialize)]
#[serde(deny_unknown_fields)]
#[command(next_help_heading = "HTTP")]
pub struct HttpSettings {
    /// Address to listen on; a non-loopback address needs a token [default: 127.0.0.1:8787]
    #[arg(long, env = "SWITCHBOARD_BIND")]
    pub bind: Option<String>,
    /// Serve Streamable HTTP without sessions (each POST stands alone), for replicas behind a load balancer
    #[arg(long, env = "SWITCHBOARD_STATELESS", value_parser = clap::builder::BoolishValueParser::new())]
    #[serde(default)]
    pub stateless: bool,
    /// Bearer token every MCP request must carry, at least 16 characters (prefer the environment variable)
    #[arg(long, env = "SWITCHBOARD_HTTP_TOKEN", hide_env_values = true)]
    pub http_token: Option<String>,
    /// Comma-separated Host names (or host:port) accepted, `*` for any [default: localhost, 127.0.0.1, ::1 and the bind address]
    #[arg(long, env = "SWITCHBOARD_ALLOWED_HOSTS")]
    pub allowed_hosts: Option<String>,
    /// Comma-separated browser Origins accepted (scheme://host[:port|:*]), `*` for any; requests without Origin pass [default: http(s) on localhost, 127.0.0.1 and ::1, any port]
    #[arg(long, env = "SWITCHBOARD_ALLOWED_ORIGINS")]
    pub allowed_origins: Option<String>,
    /// How long calls in flight may run on after SIGTERM or ctrl-c before they are cancelled [default: 25s]
    #[arg(long, env = "SWITCHBOARD_SHUTDOWN_GRACE")]
    pub shutdown_grace: Option<String>,
    /// Largest request body accepted: bytes, or with KiB/MiB [default: 4MiB]
    #[arg(long, env = "SWITCHBOARD_MAX_BODY")]
    pub max_body: Option<String>,
    /// Streamable HTTP sessions at once; `initialize` past this gets 503 with Retry-After [default: 1000]
    #[arg(long, env = "SWITCHBOARD_MAX_SESSIONS")]
    pub max_sessions: Option<usize>,
    /// How long a session or legacy SSE stream may go without a message before it is closed [default: 10m]
    #[arg(long, env = "SWITCHBOARD_SESSION_IDLE")]
    pub session_idle: Option<String>,
    /// Legacy SSE streams (GET /sse) open at once, and separately standalone GET /mcp streams; more get 503 with Retry-After [default: 100]
    #[arg(long, env = "SWITCHBOARD_MAX_SSE_STREAMS")]
    pub max_sse_streams: Option<usize>,
    /// Open TCP connections at once; past it the oldest idle one is closed, or the new one gets 503 [default: 512]
    #[arg(long, env = "SWITCHBOARD_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// How long a connection may take to send a request's headers, and may stay idle between requests [default: 10s]
    #[arg(long, env = "SWITCHBOARD_HEADER_TIMEOUT")]
    pub header_timeout: Option<String>,
    /// Bearer token for GET /metrics, instead of or besides SWITCHBOARD_HTTP_TOKEN (prefer the environment variable)
    #[arg(long, env = "SWITCHBOARD_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
}

impl HttpSettings {
    /// Fills every unset field from `file`.
    pub fn or(self, file: HttpSettings) -> HttpSettings {
        HttpSettings {
            bind: self.bind.or(file.bind),
            stateless: self.stateless || file.stateless,
            http_token: self.http_token.or(file.http_token),
            allowed_hosts: self.allowed_hosts.or(file.allowed_hosts),
            allowed_origins: self.allowed_origins.or(file.allowed_origins),
            shutdown_grace: self.shutdown_grace.or(file.shutdown_grace),
            max_body: self.max_body.or(file.max_body),
            max_sessions: self.max_sessions.or(file.max_sessions),
            session_idle: self.session_idle.or(file.session_idle),
            max_sse_streams: self.max_sse_streams.or(file.max_sse_streams),
            max_connections: self.max_connections.or(file.max_connections),
            header_timeout: self.header_timeout.or(file.header_timeout),
            metrics_token: self.metrics_token.or(file.metrics_token),
        }
    }
}

/// Never prints the token.
impl std::fmt::Debug for HttpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSettings")
            .field("bind", &self.bind)
            .field("stateless", &self.stateless)
            .field(
                "http_token",
                &self.http_token.as_ref().map(|_| "[redacted]"),
            )
            .field("allowed_hosts", &self.allowed_hosts)
            .field("allowed_origins", &self.allowed_origins)
            .field("shutdown_grace", &self.shutdown_grace)
            .field("max_body", &self.max_body)
            .field("max_sessions", &self.max_sessions)
            .field("session_idle", &self.session_idle)
            .field("max_sse_streams", &self.max_sse_streams)
            .field("max_connections", &self.max_connections)
            .field("header_timeout", &self.header_timeout)
            .field(
                "metrics_token",
                &self.metrics_token.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve MCP on stdin/stdout (the default; what Claude Desktop spawns)
    Stdio,
    /// Serve MCP over HTTP: Streamable HTTP at /mcp, legacy SSE at /sse, /healthz, /metrics
    Http(HttpSettings),
    /// Search the catalog (the list_models tool) and print a table or JSON
    Models(ModelsArgs),
    /// Estimate what a prompt costs (the estimate_cost tool)
    Cost(CostArgs),
    /// Ask one model, with fallback (the ask_model tool); prints the answer
    Ask(AskArgs),
    /// Self-test: config, key, catalog, cache; one line each, exit 0 or 1
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Also send one short chat request to the default model (costs a few tokens)
    #[arg(long)]
    pub chat: bool,
}

#[derive(Debug, Args)]
pub struct ModelsArgs {
    /// Matches id and name, case-insensitive
    pub query: Option<String>,
    #[arg(long)]
    pub provider: Option<String>,
    #[arg(long)]
    pub min_context: Option<i64>,
    /// USD per 1M prompt tokens
    #[arg(long)]
    pub max_prompt_price: Option<f64>,
    /// USD per 1M completion tokens
    #[arg(long)]
    pub max_completion_price: Option<f64>,
    /// Capabilities every model must have (repeat or comma-separate)
    #[arg(long, value_delimiter = ',', value_enum)]
    pub supports: Vec<Capability>,
    /// A kind of input every model must take
    #[arg(long, value_enum)]
    pub input_modality: Option<Modality>,
    #[arg(long)]
    pub free_only: bool,
    /// Order of the list [default: price]
    #[arg(long, value_enum)]
    pub sort: Option<SortOrder>,
    #[arg(long)]
    pub limit: Option<i64>,
    #[arg(long)]
    pub offset: Option<i64>,
    /// Print the tool's JSON output instead of a table
    #[arg(long)]
    pub json: bool,
}

/// `models --supports`: the capabilities `list_models` filters on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum Capability {
    Tools,
    Reasoning,
    StructuredOutputs,
    ResponseFormat,
    WebSearch,
}

/// `models --input-modality`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Modality {
    Text,
    Image,
    Audio,
    File,
    Video,
}

/// `models --sort`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SortOrder {
    /// Prompt + completion price, cheapest first, unknown prices last
    Price,
    /// Largest context window first
    Context,
    /// Most recently added first
    Newest,
    /// By name, A to Z
    Name,
}

/// The name clap (and the `list_models` tool) knows a `ValueEnum` value by.
pub fn value_name(value: impl ValueEnum) -> String {
    value
        .to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default()
}

#[derive(Debug, Args)]
pub struct CostArgs {
    /// Model id; repeat for several
    #[arg(long, required = true)]
    pub model: Vec<String>,
    /// File whose text is the prompt
    #[arg(long, conflicts_with = "prompt_tokens")]
    pub prompt_file: Option<PathBuf>,
    #[arg(long)]
    pub prompt_tokens: Option<i64>,
    #[arg(long)]
    pub completion_tokens: Option<i64>,
    #[arg(long)]
    pub calls: Option<i64>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct AskArgs {
    /// The prompt
    pub prompt: String,
    #[arg(long)]
    pub model: Option<String>,
    #[arg(long)]
    pub system: Option<String>,
    #[arg(long)]
    pub max_tokens: Option<i64>,
    #[arg(long)]
    pub temperature: Option<f64>,
    /// Continue an earlier exchange: the conversation_id an earlier answer printed
    #[arg(long)]
    pub conversation: Option<String>,
    /// Print the tool's JSON output (with usage and attempts) instead of the text
    #[arg(long)]
    pub json: bool,
    /// Attach a text file, PDF or glob (repeatable); read inside SWITCHBOARD_FILE_ROOTS, else the current directory
    #[arg(long = "file", value_name = "PATH")]
    pub files: Vec<String>,
    /// Attach an image: a path, https:// URL or data: URI (repeatable)
    #[arg(long = "image", value_name = "IMAGE")]
    pub images: Vec<String>,
}

impl Cli {
    /// Parses the command line and the environment. An environment variable that is set but empty
    /// counts as unset: hosts fill unset optional settings with "" (an MCP bundle's empty
    /// `user_config` field, `-e VAR=` in a config file), and that must mean "the default".
    pub fn parse_env_aware() -> Self {
        let command = ignore_empty_env(<Self as clap::CommandFactory>::command());
        let matches = command
            .clone()
            .try_get_matches()
            .unwrap_or_else(|error| with_env_tip(&command, error).exit());
        <Self as clap::FromArgMatches>::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
    }
}

fn ignore_empty_env(command: clap::Command) -> clap::Command {
    command
        .mut_args(|arg| {
            let empty = arg
                .get_env()
                .and_then(std::env::var_os)
                .is_some_and(|value| value.is_empty());
            if empty { arg.env(None::<&str>) } else { arg }
        })
        .mut_subcommands(ignore_empty_env)
}

/// A value clap refuses may have come from the environment: say which variable, so the error
/// names the setting however it was given.
fn with_env_tip(command: &clap::Command, mut error: clap::Error) -> clap::Error {
    use clap::error::{ContextKind, ContextValue};
    let Some(ContextValue::String(arg)) = error.get(ContextKind::InvalidArg) else {
        return error;
    };
    let long = arg
        .strip_prefix("--")
        .and_then(|rest| rest.split([' ', '=']).next());
    let env = long.and_then(|long| env_of(command, long));
    if let Some(env) = env {
        let tip = format!("the value may come from the environment variable {env}");
        error.insert(
            ContextKind::Suggested,
            ContextValue::StyledStrs(vec![tip.into()]),
        );
    }
    error
}

/// The environment variable of the flag `--long`, in `command` or its subcommands.
fn env_of(command: &clap::Command, long: &str) -> Option<String> {
    let own = command
        .get_arguments()
        .find(|arg| arg.get_long() == Some(long))
        .and_then(|arg| arg.get_env())
        .map(|env| env.to_string_lossy().into_owned());
    own.or_else(|| command.get_subcommands().find_map(|sub| env_of(sub, long)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::list_models::{ListModelsArgs, filter};
    use clap::CommandFactory;

    fn names<T: ValueEnum>() -> Vec<String> {
        T::value_variants()
            .iter()
            .cloned()
            .map(value_name)
            .collect()
    }

    #[test]
    fn the_models_flags_offer_exactly_what_list_models_accepts() {
        assert_eq!(names::<Capability>(), crate::catalog::model::CAPABILITIES);
        for modality in names::<Modality>() {
            let args = ListModelsArgs {
                input_modality: Some(modality.clone()),
                ..Default::default()
            };
            assert!(filter(args).is_ok(), "{modality}");
        }
        for sort in names::<SortOrder>() {
            let args = ListModelsArgs {
                sort: Some(sort.clone()),
                ..Default::default()
            };
            assert!(filter(args).is_ok(), "{sort}");
        }
        let cli = Cli::try_parse_from(["x", "models", "--supports", "tools,web_search"]).unwrap();
        let Some(Command::Models(args)) = cli.command else {
            panic!("models")
        };
        assert_eq!(args.supports, [Capability::Tools, Capability::WebSearch]);
    }

    #[test]
    fn a_refused_value_names_its_environment_variable_and_the_choices() {
        let command = Cli::command();
        let error = command
            .clone()
            .try_get_matches_from(["x", "--budget-period", "week"])
            .unwrap_err();
        let text = with_env_tip(&command, error).to_string();
        assert!(text.contains("SWITCHBOARD_BUDGET_PERIOD"), "{text}");
        assert!(text.contains("day, month, total"), "{text}");
        let error = command
            .clone()
            .try_get_matches_from(["x", "http", "--max-sessions", "many"])
            .unwrap_err();
        let text = with_env_tip(&command, error).to_string();
        assert!(text.contains("SWITCHBOARD_MAX_SESSIONS"), "{text}");
    }
}
