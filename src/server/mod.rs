//! The rmcp handler: the tools as thin methods that delegate to [`crate::tools`], and the one
//! place where a tool failure becomes an MCP tool error (`isError: true`) with the key redacted;
//! the resources, prompts and completions (modules `resources`, `prompts`, `complete`); the server's
//! name, title and icon.

mod args;
mod complete;
mod health;
mod icon;
mod logging;
mod progress;
mod prompts;
mod published;
mod registry;
mod resources;
mod roots;
#[cfg(test)]
mod schema;
mod tally;
mod usage;

use crate::App;
use crate::tools::ToolError;
use crate::tools::account_status::{self, AccountStatusArgs, AccountStatusOutput};
use crate::tools::ask_model::{self, AskModelArgs, AskModelOutput};
use crate::tools::compare_models::{self, CompareModelsArgs, CompareModelsOutput};
use crate::tools::estimate_cost::{self, EstimateCostArgs, EstimateCostOutput};
use crate::tools::list_models::{self, ListModelsArgs, ListModelsOutput};
use crate::tools::read_answer::{self, ReadAnswerArgs, ReadAnswerOutput};
use args::Parameters;
use logging::LogLevel;
use progress::ProgressReporter;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{
    CompleteRequestParams, CompleteResult, CustomRequest, CustomResult, GetPromptRequestParams,
    GetPromptResponse, Icon, Implementation, ListPromptsResult, ListResourceTemplatesResult,
    ListResourcesResult, PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse,
    RequestMetaObject, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, Json, Peer, RoleServer, ServerHandler, tool, tool_handler};
use std::sync::{Arc, LazyLock};
use tally::Tally;

pub use registry::{TOOLS, ToolSpec};
use tokio_util::sync::CancellationToken;

const INSTRUCTIONS: &str = "Consult other models through OpenRouter. list_models finds ids and prices; \
estimate_cost prices a prompt without sending it; ask_model asks one model (falling back to others on \
failure); compare_models asks 2-8 models side by side; account_status shows spend and budget; read_answer \
reads the rest of a text cut at answer_id. ask_model and compare_models spend credits.";
/// The tools whose results carry long text, which declare how large a result can be.
const PAGED_TOOLS: [&str; 3] = ["ask_model", "compare_models", "read_answer"];
/// Where hosts send people who want to know more (`websiteUrl` in `initialize`).
const WEBSITE: &str = "https://github.com/openrouter-switchboard/openrouter-switchboard";

#[derive(Clone)]
pub struct Switchboard {
    app: Arc<App>,
    tool_router: ToolRouter<Self>,
    log_level: LogLevel,
    /// The client's MCP roots (stdio only; over http attachments use SWITCHBOARD_FILE_ROOTS alone).
    roots: Option<roots::SessionRoots>,
}

/// The tool-call scope ([`crate::consult::scope::instrument`]) reaches the app through this.
impl AsRef<App> for Switchboard {
    fn as_ref(&self) -> &App {
        &self.app
    }
}

impl std::fmt::Debug for Switchboard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Switchboard").finish_non_exhaustive()
    }
}

/// Built once per process: a stateless HTTP server makes a handler for every request.
static ROUTES: LazyLock<ToolRouter<Switchboard>> = LazyLock::new(|| {
    let mut routes = Switchboard::routes();
    crate::consult::scope::instrument(&mut routes);
    routes
});

impl Switchboard {
    pub fn new(app: Arc<App>) -> Self {
        let tool_router = with_result_size(ROUTES.clone(), app.config.max_result_chars);
        Self {
            app,
            tool_router,
            log_level: LogLevel::default(),
            roots: None,
        }
    }

    /// Attachments by path may also come from the client's MCP roots (one client: stdio).
    pub fn with_client_roots(mut self) -> Self {
        self.roots = Some(roots::SessionRoots::default());
        self
    }

    /// Runs one tool call with this session's attachment sources.
    async fn attaching<T>(&self, peer: &Peer<RoleServer>, work: impl Future<Output = T>) -> T {
        match &self.roots {
            Some(roots) => {
                let sources = roots.sources(peer).await;
                crate::tools::attachments::with_sources(sources, work).await
            }
            None => work.await,
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
    /// Ask one model; if it fails, the fallback models are tried in turn (see `attempts`). Spends credits.
    #[tool(
        title = "Ask a model",
        annotations(read_only_hint = true, open_world_hint = true)
    )]
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
        let result = self.attaching(&peer, cancellable(run, cancel)).await;
        if let Ok(out) = &result {
            logging::report_attempts(&self.log_level, &meta, &peer, "ask_model", &out.attempts)
                .await;
        }
        self.finish(result)
    }

    /// Ask 2-8 models the same prompt at once; answers side by side, each failing on its own. Spends credits.
    #[tool(
        title = "Compare models",
        annotations(read_only_hint = true, open_world_hint = true)
    )]
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
        let tally = Tally::start(peer.clone(), meta.get_progress_token(), args.models.len());
        let on_done = |done: usize, _total: usize| tally.finished(done);
        let run = within(&self.app, compare_models::run(&self.app, args, &on_done));
        let result = self.attaching(&peer, cancellable(run, cancel)).await;
        tally.flush().await;
        self.finish(result)
    }

    /// Search the OpenRouter catalog: ids, context windows, prices in USD per 1M tokens, capabilities. Free.
    #[tool(
        title = "Find models",
        annotations(read_only_hint = true, open_world_hint = true)
    )]
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

    /// Estimate a prompt's USD cost on 1-20 models; tokens are counted locally, nothing is sent. Free.
    #[tool(
        title = "Estimate cost",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn estimate_cost(
        &self,
        Parameters(args): Parameters<EstimateCostArgs>,
        peer: Peer<RoleServer>,
    ) -> Result<Json<EstimateCostOutput>, String> {
        let run = within(&self.app, async {
            estimate_cost::run(&self.app, args?).await
        });
        self.finish(self.attaching(&peer, run).await)
    }

    /// Read the rest of a text ask_model or compare_models cut (answer_id), from offset, in characters. Free.
    #[tool(
        title = "Read a long answer",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn read_answer(
        &self,
        Parameters(args): Parameters<ReadAnswerArgs>,
    ) -> Result<Json<ReadAnswerOutput>, String> {
        self.finish(async { read_answer::run(&self.app, args?).await }.await)
    }

    /// Show the key's limit and usage, spend by model this budget period, budget left, cache hits. Free.
    #[tool(
        title = "Account status",
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

/// Declares `_meta["anthropic/maxResultSizeChars"]` on the tools that page at `limit` characters
/// (`SWITCHBOARD_MAX_RESULT_CHARS`), so a host keeps their results whole.
fn with_result_size(mut router: ToolRouter<Switchboard>, limit: usize) -> ToolRouter<Switchboard> {
    let hint = crate::answers::result_size_hint(limit);
    for name in PAGED_TOOLS {
        if let Some(route) = router.map.get_mut(name) {
            let mut meta = route.attr.meta.take().unwrap_or_default();
            meta.0
                .insert("anthropic/maxResultSizeChars".into(), hint.into());
            route.attr.meta = Some(meta);
        }
    }
    router
}

/// Who this server is, as `initialize` says: name, version, title, icon, website.
fn server_info() -> Implementation {
    let icon = Icon::new(icon::data_uri())
        .with_mime_type("image/png")
        .with_sizes(vec![icon::SIZES.to_string()]);
    Implementation::new("openrouter-switchboard", env!("CARGO_PKG_VERSION"))
        .with_title("OpenRouter Switchboard")
        .with_icons(vec![icon])
        .with_website_url(WEBSITE)
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
                .enable_resources()
                .enable_prompts()
                .enable_completions()
                .build(),
        )
        .with_server_info(server_info())
        .with_instructions(INSTRUCTIONS)
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(ListResourcesResult::with_all_items(resources::list()))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Ok(ListResourceTemplatesResult::with_all_items(
            resources::templates(),
        ))
    }

    /// Reads run under the call deadline, like tools: a catalog fetch never outlasts it.
    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let read = resources::read(&self.app, &request.uri);
        within(&self.app, read).await.map(Into::into)
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        Ok(ListPromptsResult::with_all_items(prompts::list()))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        prompts::get(&request.name, request.arguments.as_ref()).map(Into::into)
    }

    /// Catalog ids for the prompt and template arguments that name models.
    async fn complete(
        &self,
        request: CompleteRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, ErrorData> {
        within(&self.app, complete::complete(&self.app, &request)).await
    }

    /// Over stdio, asks the client for its MCP roots (when it declares them).
    async fn on_initialized(&self, context: rmcp::service::NotificationContext<RoleServer>) {
        if let Some(roots) = &self.roots {
            roots.refresh(&context.peer).await;
        }
    }

    async fn on_roots_list_changed(&self, context: rmcp::service::NotificationContext<RoleServer>) {
        if let Some(roots) = &self.roots {
            roots.refresh(&context.peer).await;
        }
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
