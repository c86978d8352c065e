//! The rmcp handler: the tools as thin methods that delegate to [`crate::tools`], and the one
//! place where a tool failure becomes an MCP tool error (`isError: true`) with the key redacted.

mod args;
mod logging;
mod progress;
mod published;
mod registry;
#[cfg(test)]
mod schema;
mod tally;

use crate::App;
use crate::tools::ToolError;
use crate::tools::account_status::{self, AccountStatusArgs, AccountStatusOutput};
use crate::tools::ask_model::{self, AskModelArgs, AskModelOutput};
use crate::tools::compare_models::{self, CompareModelsArgs, CompareModelsOutput};
use crate::tools::estimate_cost::{self, EstimateCostArgs, EstimateCostOutput};
use crate::tools::list_models::{self, ListModelsArgs, ListModelsOutput};
use args::Parameters;
use logging::LogLevel;
use progress::ProgressReporter;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{
    CustomRequest, CustomResult, Implementation, RequestMetaObject, ServerCapabilities,
    ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, Json, Peer, RoleServer, ServerHandler, tool, tool_handler};
use std::sync::{Arc, LazyLock};
use tally::Tally;

pub use registry::{TOOLS, ToolSpec};
use tokio_util::sync::CancellationToken;

const INSTRUCTIONS: &str = "Consult other models through OpenRouter. list_models finds ids and prices; \
estimate_cost prices a prompt without sending it; ask_model asks one model (falling back to others on \
failure); compare_models asks 2-8 models side by side; account_status shows spend and budget. \
ask_model and compare_models spend credits.";

#[derive(Clone)]
pub struct Switchboard {
    app: Arc<App>,
    tool_router: ToolRouter<Self>,
    log_level: LogLevel,
}

impl std::fmt::Debug for Switchboard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Switchboard").finish_non_exhaustive()
    }
}

/// Built once per process: a stateless HTTP server makes a handler for every request.
static ROUTES: LazyLock<ToolRouter<Switchboard>> = LazyLock::new(|| {
    let mut routes = Switchboard::routes();
    crate::metrics::instrument(&mut routes);
    routes
});

impl Switchboard {
    pub fn new(app: Arc<App>) -> Self {
        Self {
            app,
            tool_router: ROUTES.clone(),
            log_level: LogLevel::default(),
        }
    }

    /// Each tool's handler with its published definition. Start-up generates no schema: the
    /// definitions come from `tools.json`, which a test keeps equal to what the types generate.
    /// Which handler serves which tool is [`TOOLS`], the one list of tools.
    fn routes() -> ToolRouter<Self> {
        let mut router = ToolRouter::new();
        for tool in published::tools() {
            let Some(spec) = registry::find(&tool.name) else {
                panic!(
                    "src/server/tools.json names {}, which is not in TOOLS",
                    tool.name
                )
            };
            router.add_route(spec.route(tool));
        }
        router
    }
}

/// The tools. `#[tool]` derives each definition from the doc comment and the argument and output
/// types; a test compacts those into `tools.json` (see `schema`).
#[cfg_attr(test, rmcp::tool_router(router = generated_router))]
impl Switchboard {
    /// Ask one model; on failure the fallback models are tried in order (`attempts` lists each try). Spends credits.
    #[tool(annotations(read_only_hint = true, open_world_hint = true))]
    async fn ask_model(
        &self,
        Parameters(args): Parameters<AskModelArgs>,
        meta: RequestMetaObject,
        peer: Peer<RoleServer>,
        cancel: CancellationToken,
    ) -> Result<Json<AskModelOutput>, String> {
        let reporter = ProgressReporter::start(peer.clone(), meta.get_progress_token());
        let mut on_text = |model: &str, acc: &crate::openrouter::Accumulator| {
            reporter.update(format!("{model}: {} characters received", acc.chars()));
        };
        let run = within(&self.app, async {
            ask_model::run(&self.app, args?, &mut on_text).await
        });
        let result = cancellable(run, cancel).await;
        if let Ok(out) = &result {
            logging::report_attempts(&self.log_level, &meta, &peer, "ask_model", &out.attempts)
                .await;
        }
        self.finish(result)
    }

    /// Send one prompt to 2-8 models at once and return the answers side by side; each model fails on its own. Spends credits.
    #[tool(annotations(read_only_hint = true, open_world_hint = true))]
    async fn compare_models(
        &self,
        Parameters(args): Parameters<CompareModelsArgs>,
        meta: RequestMetaObject,
        peer: Peer<RoleServer>,
        cancel: CancellationToken,
    ) -> Result<Json<CompareModelsOutput>, String> {
        let args = match args {
            Ok(args) => args,
            Err(error) => return self.finish(Err(error)),
        };
        let tally = Tally::start(peer, meta.get_progress_token(), args.models.len());
        let on_done = |done: usize, _total: usize| tally.finished(done);
        let run = within(&self.app, compare_models::run(&self.app, args, &on_done));
        let result = cancellable(run, cancel).await;
        tally.flush().await;
        self.finish(result)
    }

    /// Search the OpenRouter catalog: ids, context windows, prices in USD per 1M tokens, capabilities. Free.
    #[tool(annotations(read_only_hint = true, open_world_hint = true))]
    async fn list_models(
        &self,
        Parameters(args): Parameters<ListModelsArgs>,
    ) -> Result<Json<ListModelsOutput>, String> {
        self.finish(
            within(&self.app, async {
                list_models::run(&self.app, args?).await
            })
            .await,
        )
    }

    /// Estimate a prompt's USD cost on 1-20 models before sending it; tokens are counted locally, nothing is sent. Free.
    #[tool(annotations(read_only_hint = true, open_world_hint = false))]
    async fn estimate_cost(
        &self,
        Parameters(args): Parameters<EstimateCostArgs>,
    ) -> Result<Json<EstimateCostOutput>, String> {
        self.finish(
            within(&self.app, async {
                estimate_cost::run(&self.app, args?).await
            })
            .await,
        )
    }

    /// Show the key's limit and usage, spend by model this budget period, budget left, cache hits. Free.
    #[tool(
        annotations(read_only_hint = true, open_world_hint = true),
        input_schema = rmcp::handler::server::common::schema_for_empty_input()
    )]
    async fn account_status(
        &self,
        Parameters(args): Parameters<AccountStatusArgs>,
    ) -> Result<Json<AccountStatusOutput>, String> {
        self.finish(async { account_status::run(&self.app, args?).await }.await)
    }
}

impl Switchboard {
    /// The one mapping from a tool's result to MCP: errors become `isError` text, key redacted.
    fn finish<T>(&self, result: Result<T, ToolError>) -> Result<Json<T>, String> {
        result.map(Json).map_err(|error| {
            let text = self.app.redact(&error.to_string());
            tracing::debug!(error = %text, "tool call failed");
            text
        })
    }
}

/// Runs one tool call under the whole-call deadline (`SWITCHBOARD_TIMEOUT`, catalog fetch included).
fn within<'a, T>(app: &App, work: impl Future<Output = T> + 'a) -> impl Future<Output = T> + 'a {
    crate::router::deadline::within(app.config.timeout, work)
}

/// Runs `work` until it finishes or the caller cancels; cancelling drops the upstream request.
async fn cancellable<T>(
    work: impl Future<Output = Result<T, ToolError>>,
    cancel: CancellationToken,
) -> Result<T, ToolError> {
    tokio::select! {
        result = work => result,
        () = cancel.cancelled() => Err(ToolError::invalid("request", "cancelled by the client")),
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Switchboard {
    #[allow(deprecated)] // logging serves peers before 2026-07-28
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_logging()
                .build(),
        )
        .with_server_info(Implementation::new(
            "openrouter-switchboard",
            env!("CARGO_PKG_VERSION"),
        ))
        .with_instructions(INSTRUCTIONS)
    }

    #[allow(deprecated)] // logging serves peers before 2026-07-28
    async fn set_level(
        &self,
        request: rmcp::model::SetLevelRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.log_level.set(request.level);
        Ok(())
    }

    /// rmcp hands over a `tools/call` whose params do not parse (arguments not an object, a name
    /// that is not a string) as a custom request; it is invalid params (-32602), not an unknown
    /// method.
    async fn on_custom_request(
        &self,
        request: CustomRequest,
        _context: RequestContext<RoleServer>,
    ) -> Result<CustomResult, ErrorData> {
        match request.method.as_str() {
            "tools/call" => Err(ErrorData::invalid_params(
                args::call_params_problem(request.params.as_ref()),
                None,
            )),
            other => Err(ErrorData::new(
                rmcp::model::ErrorCode::METHOD_NOT_FOUND,
                format!("unknown method `{}`", crate::tools::input::shown(other)),
                None,
            )),
        }
    }
}
