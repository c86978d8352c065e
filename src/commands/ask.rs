//! `openrouter-switchboard ask`: the ask_model tool from a shell; prints the answer.

use super::{print_json, print_lines};
use crate::App;
use crate::cli::AskArgs;
use crate::tools::ask_model::{self, AskModelArgs};
use crate::tools::attachments::{self, Sources};

pub async fn ask(app: &App, args: AskArgs) -> anyhow::Result<()> {
    let tool_args = AskModelArgs {
        prompt: Some(args.prompt),
        system: args.system,
        model: args.model,
        max_tokens: args.max_tokens,
        temperature: args.temperature,
        files: (!args.files.is_empty()).then_some(args.files),
        images: (!args.images.is_empty()).then_some(args.images),
        ..AskModelArgs::default()
    };
    let here = std::env::current_dir()?;
    let mut quiet = |_: &str, _: &crate::openrouter::Accumulator| {};
    let run = ask_model::run(app, tool_args, &mut quiet);
    let output = attachments::with_sources(Sources::Shell(here), run)
        .await
        .map_err(|e| anyhow::anyhow!(app.redact(&e.to_string())))?;
    if args.json {
        return print_json(&output);
    }
    tracing::info!(model = %output.model, cost_usd = output.usage.cost_usd, latency_ms = output.latency_ms, "answered");
    print_lines(&[output.text])
}
