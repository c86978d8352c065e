//! Bad arguments: each gets a tool error that names the field and the fix, nothing is sent
//! upstream, and the server keeps serving.

use crate::support::{FakeOpenRouter, McpServer};
use serde_json::json;

#[tokio::test]
async fn bad_arguments_name_the_field_send_nothing_and_the_server_keeps_serving() {
    let fake = FakeOpenRouter::start().await;
    fake.answer("openai/gpt-5-mini", "still here", 0.0001).await;
    let server = McpServer::start(&fake).await;
    let nine: Vec<String> = (0..9).map(|_| "openai/gpt-5-mini".to_string()).collect();
    let cases = [
        (
            "ask_model",
            json!({"prompt": ""}),
            "`prompt`",
            "write the question",
        ),
        ("ask_model", json!({}), "`prompt`", "give `prompt`"),
        (
            "ask_model",
            json!({"prompt": "hi", "model": "openai/gpt-5-mnii"}),
            "`model`",
            "closest ids: openai/gpt-5-mini",
        ),
        (
            "ask_model",
            json!({"prompt": "hi", "max_tokens": -5}),
            "`max_tokens`",
            "omit it for the default 1024",
        ),
        (
            "ask_model",
            json!({"prompt": "x".repeat(1024 * 1024 + 1)}),
            "`prompt`",
            "over the 1048576-byte limit",
        ),
        (
            "ask_model",
            json!({"prompt": "hi", "temperature": 7}),
            "`temperature`",
            "between 0 and 2",
        ),
        (
            "ask_model",
            json!({"prompt": "hi", "cache": "sometimes"}),
            "`cache`",
            "use, bypass, refresh",
        ),
        (
            "ask_model",
            json!({"prompt": "hi", "max_cost": 1}),
            "max_cost",
            "unknown field",
        ),
        (
            "compare_models",
            json!({"prompt": "hi", "models": ["openai/gpt-5-mini"]}),
            "`models`",
            "between 2 and 8",
        ),
        (
            "compare_models",
            json!({"prompt": "hi", "models": nine}),
            "`models`",
            "between 2 and 8",
        ),
        (
            "compare_models",
            json!({"prompt": "hi", "models": ["openai/gpt-5-mini", "nope/model"]}),
            "`models`",
            "unknown model id `nope/model`",
        ),
        (
            "list_models",
            json!({"limit": 500}),
            "`limit`",
            "between 1 and 200",
        ),
        (
            "list_models",
            json!({"sort": "cheapest"}),
            "`sort`",
            "price, context, newest, name",
        ),
        (
            "list_models",
            json!({"supports": ["telepathy"]}),
            "`supports`",
            "tools, reasoning",
        ),
        (
            "estimate_cost",
            json!({"model": "openai/gpt-5-mini"}),
            "`prompt`",
            "give `prompt`",
        ),
        (
            "estimate_cost",
            json!({"model": "openai/gpt-5-mini", "prompt_tokens": -1}),
            "`prompt_tokens`",
            "0 or more",
        ),
        (
            "estimate_cost",
            json!({"models": [], "prompt_tokens": 1}),
            "`models`",
            "between 1 and 20",
        ),
    ];
    for (tool, args, field, fix) in cases {
        let error = server.call_err(tool, args.clone()).await;
        assert!(
            error.contains(field),
            "{tool} {args}: `{error}` should name {field}"
        );
        assert!(
            error.contains(fix),
            "{tool} {args}: `{error}` should say {fix}"
        );
    }
    assert!(
        fake.chat_requests(None).await.is_empty(),
        "nothing was sent upstream"
    );

    let out = server
        .call_ok("ask_model", json!({"prompt": "are you there?"}))
        .await;
    assert_eq!(out["text"], "still here");
    server.stop().await;
}
