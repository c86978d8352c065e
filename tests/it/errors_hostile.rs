//! Promises kept under hostile input: type errors name the field path, `tools/call` params that
//! are not an object are invalid params, a huge model id is refused without being echoed,
//! `compare_models` reports progress n of total, and an unusable data dir or a mistyped default
//! model is named as such.

use crate::support::mcp::{BIN, env_for, params};
use crate::support::{FakeOpenRouter, McpServer};
use rmcp::model::{
    CallToolRequest, CallToolResult, ClientRequest, CustomRequest, NumberOrString,
    ProgressNotificationParam, ProgressToken, RequestMetaObject,
};
use rmcp::service::{NotificationContext, RunningService, ServiceError};
use rmcp::transport::TokioChildProcess;
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{Value, json};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

/// A client that keeps every progress notification whole (with `total`).
#[derive(Clone, Default)]
pub struct Recorder {
    pub progress: Arc<Mutex<Vec<ProgressNotificationParam>>>,
}

impl ClientHandler for Recorder {
    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _: NotificationContext<RoleClient>,
    ) {
        self.progress.lock().unwrap().push(params);
    }
}

/// The server binary over stdio, with its process id (to read its CPU time) and a recording client.
pub struct Spawned {
    pub client: RunningService<RoleClient, Recorder>,
    pub recorder: Recorder,
    pub pid: u32,
    _data_dir: tempfile::TempDir,
}

impl Spawned {
    pub async fn start(fake: &FakeOpenRouter) -> Self {
        let data_dir = tempfile::tempdir().unwrap();
        let mut command = tokio::process::Command::new(BIN);
        command.arg("stdio").env_clear();
        command.envs(env_for(&fake.base_url(), data_dir.path()));
        command.env("RUST_LOG", "warn");
        let (transport, _) = TokioChildProcess::builder(command)
            .stderr(Stdio::null())
            .spawn()
            .expect("the server binary starts");
        let pid = transport.id().expect("the server has a pid");
        let recorder = Recorder::default();
        let client = recorder.clone().serve(transport).await.expect("handshake");
        Self {
            client,
            recorder,
            pid,
            _data_dir: data_dir,
        }
    }

    pub async fn call(&self, tool: &str, arguments: Value) -> CallToolResult {
        self.client
            .call_tool(params(tool, arguments))
            .await
            .expect("tools/call gets a response")
    }
}

pub fn text(result: &CallToolResult) -> String {
    crate::support::mcp::text(result)
}

#[tokio::test]
async fn type_errors_name_the_field_path_and_what_is_accepted() {
    let fake = FakeOpenRouter::start().await;
    let server = McpServer::start(&fake).await;
    let roles = json!([{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
        {"role": "wizard", "content": "c"}]);
    let cases = [
        (
            "estimate_cost",
            json!({"model": "openai/gpt-5-mini", "prompt_tokens": "lots"}),
            "`prompt_tokens`",
            "an integer",
        ),
        (
            "compare_models",
            json!({"prompt": "hi", "models": "openai/gpt-5-mini"}),
            "`models`",
            "an array",
        ),
        (
            "ask_model",
            json!({"prompt": "hi", "temperature": "hot"}),
            "`temperature`",
            "a number",
        ),
        (
            "ask_model",
            json!({"prompt": "hi", "max_tokens": 1.5}),
            "`max_tokens`",
            "an integer",
        ),
        (
            "ask_model",
            json!({"messages": roles}),
            "`messages[2].role`",
            "system, user, assistant",
        ),
        (
            "list_models",
            json!({"free_only": "yes"}),
            "`free_only`",
            "true or false",
        ),
        (
            "account_status",
            json!({"verbose": true}),
            "`verbose`",
            "takes no arguments",
        ),
    ];
    for (tool, args, field, fix) in cases {
        let error = server.call_err(tool, args.clone()).await;
        assert!(
            error.contains(field) && error.contains(fix),
            "{tool} {args}: {error}"
        );
        assert!(!error.contains("failed to deserialize"), "{error}");
    }
    assert!(fake.chat_requests(None).await.is_empty());
    server.stop().await;
}

async fn raw_call(server: &McpServer, params: Value) -> rmcp::ErrorData {
    let request = ClientRequest::CustomRequest(CustomRequest::new("tools/call", Some(params)));
    match server.client.send_request(request).await {
        Err(ServiceError::McpError(error)) => error,
        other => panic!("expected a JSON-RPC error, got {other:?}"),
    }
}

#[tokio::test]
async fn call_params_that_do_not_parse_are_invalid_params_naming_the_field() {
    let fake = FakeOpenRouter::start().await;
    let server = McpServer::start(&fake).await;
    let error = raw_call(
        &server,
        json!({"name": "list_models", "arguments": "limit=1"}),
    )
    .await;
    assert_eq!(error.code.0, -32602, "{error:?}");
    assert!(
        error.message.contains("`arguments` must be an object"),
        "{error:?}"
    );
    let error = raw_call(&server, json!({"name": 42, "arguments": {}})).await;
    assert_eq!(error.code.0, -32602, "{error:?}");
    assert!(error.message.contains("`name`"), "{error:?}");
    let out = server.call_ok("list_models", json!({"limit": 1})).await;
    assert_eq!(out["total"], 9, "still serving");
    server.stop().await;
}

#[tokio::test]
async fn a_huge_model_id_is_refused_by_length_and_never_echoed() {
    let fake = FakeOpenRouter::start().await;
    let server = McpServer::start(&fake).await;
    let huge = format!("openai/{}", "g".repeat(300_000));
    for (tool, args) in [
        ("ask_model", json!({"prompt": "hi", "model": huge})),
        (
            "ask_model",
            json!({"prompt": "hi", "fallback_models": [huge]}),
        ),
        (
            "compare_models",
            json!({"prompt": "hi", "models": [huge, huge]}),
        ),
        ("estimate_cost", json!({"model": huge, "prompt_tokens": 1})),
    ] {
        let error = server.call_err(tool, args).await;
        assert!(
            error.contains("at most 256"),
            "{tool}: {}",
            &error[..error.len().min(300)]
        );
        assert!(
            error.len() < 400,
            "{tool}: the error is {} bytes",
            error.len()
        );
    }
    // An unknown id of normal length is shown, but a long unknown value only as a short prefix.
    let error = server
        .call_err(
            "ask_model",
            json!({"prompt": "hi", "cache": "c".repeat(100_000)}),
        )
        .await;
    assert!(
        error.contains("`cache`") && error.contains("100000 characters") && error.len() < 300,
        "{error}"
    );
    assert!(fake.chat_requests(None).await.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn compare_progress_counts_every_finished_model_out_of_the_total() {
    let fake = FakeOpenRouter::start().await;
    let models = [
        "x-ai/grok-4",
        "openai/gpt-5-mini",
        "google/gemini-2.5-flash",
    ];
    for model in models {
        fake.answer(model, "an answer", 0.001).await;
    }
    let server = Spawned::start(&fake).await;
    let mut call = params("compare_models", json!({"prompt": "go", "models": models}));
    call.meta = Some(RequestMetaObject::with_progress_token(ProgressToken(
        NumberOrString::Number(3),
    )));
    let request = ClientRequest::CallToolRequest(CallToolRequest::new(call));
    let response = server.client.send_request(request).await.unwrap();
    assert!(
        format!("{response:?}").contains("an answer"),
        "{response:?}"
    );
    let mut seen = Vec::new();
    for _ in 0..100 {
        seen = server.recorder.progress.lock().unwrap().clone();
        if seen.iter().any(|p| p.progress == 3.0) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let counts: Vec<f64> = seen
        .iter()
        .map(|p| p.progress)
        .filter(|p| p.fract() == 0.0)
        .collect();
    assert_eq!(
        counts,
        [1.0, 2.0, 3.0],
        "one per finished model, the last included: {seen:?}"
    );
    assert!(seen.iter().all(|p| p.total == Some(3.0)), "{seen:?}");
    assert!(
        seen.windows(2).all(|w| w[1].progress > w[0].progress),
        "{seen:?}"
    );
    let _ = server.client.cancel().await;
}

async fn mount_key(fake: &FakeOpenRouter) {
    Mock::given(method("GET"))
        .and(path("/api/v1/key"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"label": "sk-or-v1-abc...xyz", "limit": 10.0, "limit_remaining": 7.5, "usage": 2.5, "is_free_tier": false}
        })))
        .mount(&fake.server)
        .await;
}

#[tokio::test]
async fn account_status_reports_the_key_when_the_data_dir_is_unusable() {
    let fake = FakeOpenRouter::start().await;
    mount_key(&fake).await;
    let not_a_dir = tempfile::NamedTempFile::new().unwrap();
    let dir = not_a_dir.path().to_str().unwrap();
    let server = McpServer::start_with(&fake, &[("SWITCHBOARD_DATA_DIR", dir)]).await;
    let out = server.call_ok("account_status", json!({})).await;
    assert_eq!(out["key"]["limit_usd"], 10.0, "{out}");
    let ledger = out["ledger_error"].as_str().expect("ledger_error says why");
    assert!(
        ledger.contains(dir) && ledger.contains("SWITCHBOARD_DATA_DIR"),
        "{ledger}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_call_on_a_mistyped_default_model_blames_the_setting() {
    let fake = FakeOpenRouter::start().await;
    let server =
        McpServer::start_with(&fake, &[("SWITCHBOARD_DEFAULT_MODEL", "openai/gpt-5-mnii")]).await;
    let error = server.call_err("ask_model", json!({"prompt": "hi"})).await;
    assert!(error.contains("SWITCHBOARD_DEFAULT_MODEL"), "{error}");
    assert!(error.contains("closest ids: openai/gpt-5-mini"), "{error}");
    assert!(!error.contains("invalid argument `model`"), "{error}");
    assert!(fake.chat_requests(None).await.is_empty());
    server.stop().await;
}
