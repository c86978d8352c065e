//! The prompts hosts offer as slash commands: `second_opinion` and `cross_check`, listed with
//! their arguments and expanded into instructions that lead the host's model to `ask_model` /
//! `compare_models`, from the real binary over a real MCP client.

use crate::support::{FakeOpenRouter, McpServer};
use rmcp::ServiceError;
use rmcp::model::{
    ArgumentInfo, CompleteRequestParams, GetPromptRequestParams, GetPromptResult, Reference, Role,
};
use serde_json::{Value, json};

async fn get(server: &McpServer, name: &str, args: Value) -> Result<GetPromptResult, ServiceError> {
    let Value::Object(args) = args else {
        panic!("arguments are an object")
    };
    server
        .client
        .get_prompt(GetPromptRequestParams::new(name).with_arguments(args))
        .await
}

/// The one user message a prompt expands to.
async fn expanded(server: &McpServer, name: &str, args: Value) -> String {
    let result = get(server, name, args)
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(result.messages.len(), 1, "{name}");
    assert_eq!(result.messages[0].role, Role::User);
    let content = serde_json::to_value(&result.messages[0].content).unwrap();
    content["text"]
        .as_str()
        .expect("a text message")
        .to_string()
}

async fn refused(server: &McpServer, name: &str, args: Value) -> String {
    match get(server, name, args).await {
        Err(ServiceError::McpError(error)) => {
            assert_eq!(error.code.0, -32602, "{error:?}");
            error.message.to_string()
        }
        other => panic!("{name} should be refused: {other:?}"),
    }
}

#[tokio::test]
async fn both_prompts_are_listed_with_their_arguments() {
    let fake = FakeOpenRouter::start().await;
    let server = McpServer::start(&fake).await;
    let prompts = server.client.list_prompts(None).await.unwrap().prompts;
    let shape: Vec<(String, Vec<(String, bool)>)> = prompts
        .iter()
        .map(|p| {
            assert!(
                p.title.is_some() && p.description.as_ref().is_some_and(|d| d.len() > 30),
                "{}",
                p.name
            );
            let args = p.arguments.clone().unwrap_or_default();
            (
                p.name.clone(),
                args.into_iter()
                    .map(|a| (a.name, a.required == Some(true)))
                    .collect(),
            )
        })
        .collect();
    let expected = |name: &str, args: &[(&str, bool)]| {
        (
            name.to_string(),
            args.iter()
                .map(|(n, r)| (n.to_string(), *r))
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        shape,
        [
            expected(
                "second_opinion",
                &[("question", true), ("context", false), ("model", false)]
            ),
            expected("cross_check", &[("claim", true), ("models", false)]),
        ]
    );
    server.stop().await;
}

#[tokio::test]
async fn prompts_expand_to_the_tool_call_with_the_arguments_given() {
    let fake = FakeOpenRouter::start().await;
    let server = McpServer::start(&fake).await;
    let text = expanded(
        &server,
        "second_opinion",
        json!({"question": "Is this lock-free queue correct?", "context": "fn push(..)", "model": "anthropic/claude-sonnet-4.5"}),
    )
    .await;
    assert!(text.contains("`ask_model`"), "{text}");
    assert!(text.contains("\"anthropic/claude-sonnet-4.5\""), "{text}");
    assert!(
        text.contains("Is this lock-free queue correct?\n\nContext:\nfn push(..)"),
        "{text}"
    );

    let text = expanded(
        &server,
        "second_opinion",
        json!({"question": "Why?", "model": ""}),
    )
    .await;
    assert!(
        text.contains("default model") && text.contains("`list_models`"),
        "blank means default: {text}"
    );

    let text = expanded(
        &server,
        "cross_check",
        json!({"claim": "TCP guarantees message boundaries", "models": "openai/gpt-5-mini, google/gemini-2.5-flash"}),
    )
    .await;
    assert!(text.contains("`compare_models`"), "{text}");
    assert!(
        text.contains(r#"["openai/gpt-5-mini", "google/gemini-2.5-flash"]"#),
        "{text}"
    );
    assert!(
        text.contains("Claim: TCP guarantees message boundaries"),
        "{text}"
    );
    let text = expanded(&server, "cross_check", json!({"claim": "x"})).await;
    assert!(text.contains("`list_models`"), "{text}");
    server.stop().await;
}

#[tokio::test]
async fn bad_prompt_arguments_are_invalid_params_naming_the_field_and_the_fix() {
    let fake = FakeOpenRouter::start().await;
    let server = McpServer::start(&fake).await;
    let message = refused(&server, "second_opinion", json!({"context": "c"})).await;
    assert!(
        message.contains("`question`") && message.contains("required"),
        "{message}"
    );
    let message = refused(
        &server,
        "second_opinion",
        json!({"question": "q", "models": "a/b"}),
    )
    .await;
    assert!(
        message.contains("`models`") && message.contains("question, context, model"),
        "{message}"
    );
    let message = refused(
        &server,
        "cross_check",
        json!({"claim": "c", "models": "only/one"}),
    )
    .await;
    assert!(
        message.contains("`models`") && message.contains("2 to 8"),
        "{message}"
    );
    let message = refused(&server, "summarise", json!({})).await;
    assert!(
        message.contains("second_opinion") && message.contains("cross_check"),
        "{message}"
    );
    server.stop().await;
}

/// The MCP Bundle's manifest lists the same prompts, with the same arguments, as `prompts/list`.
#[tokio::test]
async fn the_bundle_manifest_lists_the_prompts_the_server_serves() {
    let fake = FakeOpenRouter::start().await;
    let server = McpServer::start(&fake).await;
    let served: Vec<(String, Vec<String>)> = server
        .client
        .list_prompts(None)
        .await
        .unwrap()
        .prompts
        .into_iter()
        .map(|p| {
            let args = p
                .arguments
                .unwrap_or_default()
                .into_iter()
                .map(|a| a.name)
                .collect();
            (p.name, args)
        })
        .collect();
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/packaging/manifest.json"
    ))
    .unwrap();
    let manifest: Value = serde_json::from_str(&text).unwrap();
    let declared: Vec<(String, Vec<String>)> = manifest["prompts"]
        .as_array()
        .expect("manifest.json lists prompts")
        .iter()
        .map(|p| {
            let args = p["arguments"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_string())
                .collect();
            (p["name"].as_str().unwrap().to_string(), args)
        })
        .collect();
    assert_eq!(declared, served);
    server.stop().await;
}

async fn completions(
    server: &McpServer,
    reference: Reference,
    argument: &str,
    value: &str,
) -> Vec<String> {
    let params = CompleteRequestParams::new(reference, ArgumentInfo::new(argument, value));
    let result = server
        .client
        .complete(params)
        .await
        .unwrap_or_else(|e| panic!("{argument}={value}: {e}"));
    result.completion.values
}

/// While the user types a model id, the host offers the catalog ids that match (and only the ones
/// the policy allows), for both prompts and the model template.
#[tokio::test]
async fn model_arguments_complete_to_catalog_ids() {
    let fake = FakeOpenRouter::start().await;
    let server = McpServer::start_with(
        &fake,
        &[(
            "SWITCHBOARD_ALLOWED_MODELS",
            "openai/*,google/*,anthropic/*",
        )],
    )
    .await;
    let opinion = || Reference::for_prompt("second_opinion");
    assert_eq!(
        completions(&server, opinion(), "model", "anthropic/").await,
        ["anthropic/claude-sonnet-4.5"]
    );
    assert_eq!(
        completions(&server, opinion(), "model", "GEMINI").await,
        ["google/gemini-2.5-flash"]
    );
    assert_eq!(
        completions(&server, opinion(), "model", "grok").await,
        Vec::<String>::new(),
        "not allowed"
    );
    assert_eq!(
        completions(&server, opinion(), "question", "Why").await,
        Vec::<String>::new()
    );
    assert_eq!(
        completions(
            &server,
            Reference::for_prompt("cross_check"),
            "models",
            "openai/gpt-5-mini,goo"
        )
        .await,
        ["openai/gpt-5-mini, google/gemini-2.5-flash"],
        "the last id of the list is completed, the others kept"
    );
    let template = Reference::for_resource("openrouter://models/{id}");
    assert_eq!(
        completions(&server, template, "id", "open").await,
        ["openai/gpt-5-mini"]
    );
    let unknown =
        CompleteRequestParams::new(Reference::for_prompt("nope"), ArgumentInfo::new("x", ""));
    match server.client.complete(unknown).await {
        Err(ServiceError::McpError(error)) => {
            assert!(error.message.contains("second_opinion"), "{error:?}")
        }
        other => panic!("an unknown prompt is an error: {other:?}"),
    }
    server.stop().await;
}
