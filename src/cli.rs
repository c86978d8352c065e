//! Command-line parsing (clap derive). Every setting is a flag with an environment variable, and the
//! same struct reads the TOML config file, so precedence is simply flag > env > file > default.

use clap::{Args, Parser, Subcommand};
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
    /// API root; any OpenAI-compatible server works for chat [default: https://openrouter.ai/api/v1]
    #[arg(long, env = "OPENROUTER_BASE_URL", global = true)]
    pub base_url: Option<String>,
    /// Model used when a call names none [default: openai/gpt-5-mini]
    #[arg(long, env = "SWITCHBOARD_DEFAULT_MODEL", global = true)]
    pub default_model: Option<String>,
    /// Comma-separated models tried after the requested one [default: google/gemini-2.5-flash]
    #[arg(long, env = "SWITCHBOARD_FALLBACK_MODELS", global = true)]
    pub fallback_models: Option<String>,
    /// Response cache: off, memory [default: memory]
    #[arg(long, env = "SWITCHBOARD_CACHE", global = true)]
    pub cache: Option<String>,
    /// How long cached answers are served [default: 24h]
    #[arg(long, env = "SWITCHBOARD_CACHE_TTL", global = true)]
    pub cache_ttl: Option<String>,
    /// Where the saved catalog lives [default: $XDG_CACHE_HOME/openrouter-switchboard]
    #[arg(long, env = "SWITCHBOARD_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Whole-call deadline for one tool call, all attempts together [default: 120s]
    #[arg(long, env = "SWITCHBOARD_TIMEOUT", global = true)]
    pub timeout: Option<String>,
    /// Retries of the same model on 429/5xx/timeouts before falling back [default: 2]
    #[arg(long, env = "SWITCHBOARD_MAX_RETRIES", global = true)]
    pub max_retries: Option<u32>,
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
    #[arg(long, env = "SWITCHBOARD_ROUTING", global = true)]
    pub routing: Option<String>,
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
            retry_base: self.retry_base.or(file.retry_base),
            catalog_ttl: self.catalog_ttl.or(file.catalog_ttl),
            stall_timeout: self.stall_timeout.or(file.stall_timeout),
            cooldown: self.cooldown.or(file.cooldown),
            routing: self.routing.or(file.routing),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve MCP on stdin/stdout (the default; what Claude Desktop spawns)
    Stdio,
    /// Search the catalog (the list_models tool) and print a table or JSON
    Models(ModelsArgs),
    /// Estimate what a prompt costs (the estimate_cost tool)
    Cost(CostArgs),
    /// Ask one model, with fallback (the ask_model tool); prints the answer
    Ask(AskArgs),
    /// Self-test: config, key, catalog, cache; one line each, exit 0 or 1
    Check,
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
    /// tools, reasoning, structured_outputs, response_format, web_search (repeat or comma-separate)
    #[arg(long, value_delimiter = ',')]
    pub supports: Vec<String>,
    /// text, image, audio, file, video
    #[arg(long)]
    pub input_modality: Option<String>,
    #[arg(long)]
    pub free_only: bool,
    /// price, context, newest, name
    #[arg(long)]
    pub sort: Option<String>,
    #[arg(long)]
    pub limit: Option<i64>,
    #[arg(long)]
    pub offset: Option<i64>,
    /// Print the tool's JSON output instead of a table
    #[arg(long)]
    pub json: bool,
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
    /// Print the tool's JSON output (with usage and attempts) instead of the text
    #[arg(long)]
    pub json: bool,
}
