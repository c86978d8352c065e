//! `openrouter-switchboard ask`: the ask_model tool from a shell; prints the answer.

use super::{print_json, print_lines};
use crate::App;
use crate::cli::AskArgs;
use crate::tools::ask_model::{self, AskModelArgs};

pub async fn ask(app: &App, args: AskArgs) -> anyhow::Result<()> {
    let tool_args = AskModelArgs {
        prompt: Some(args.prompt),
        system: args.system,
        model: args.model,
        max_tokens: args.max_tokens,
        temperature: args.temperature,
        conversation_id: args.conversation,
        ..AskModelArgs::default()
    };
    let output = ask_model::run(app, tool_args, &mut |_, _| {})
        .await
        .map_err(|e| anyhow::anyhow!(app.redact(&e.to_string())))?;
    if args.json {
        return print_json(&output);
    }
    tracing::info!(model = %output.model, cost_usd = output.usage.cost_usd, latency_ms = output.latency_ms, "answered");
    // The answer alone goes to stdout; how to continue it goes beside it, to stderr.
    eprintln!("continue with: --conversation {}", output.conversation_id);
    print_lines(&[output.text])
}
