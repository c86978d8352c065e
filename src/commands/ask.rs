//! `openrouter-switchboard ask`: the ask_model tool from a shell; prints the whole answer (paging
//! is for MCP hosts), and on stderr whether it took continuations or is still cut.

use super::{print_json, print_lines};
use crate::App;
use crate::answers;
use crate::cli::AskArgs;
use crate::tools::ask_model::{self, AskModelArgs, AskModelOutput};
use crate::tools::attachments::{self, Sources};
use std::io::Write;

pub async fn ask(app: &App, args: AskArgs) -> anyhow::Result<()> {
    let tool_args = AskModelArgs {
        prompt: Some(args.prompt),
        system: args.system,
        model: args.model,
        max_tokens: args.max_tokens,
        temperature: args.temperature,
        files: (!args.files.is_empty()).then_some(args.files),
        images: (!args.images.is_empty()).then_some(args.images),
        conversation_id: args.conversation,
        ..AskModelArgs::default()
    };
    let here = std::env::current_dir()?;
    let mut quiet = |_: &str, _: &crate::openrouter::Accumulator| {};
    let run = ask_model::run(app, tool_args, &mut quiet);
    let mut output = attachments::with_sources(Sources::Shell(here), run)
        .await
        .map_err(|e| anyhow::anyhow!(app.redact(&e.to_string())))?;
    whole(app, &mut output).await;
    notes(&output)?;
    if args.json {
        return print_json(&output);
    }
    tracing::info!(model = %output.model, cost_usd = output.usage.cost_usd, latency_ms = output.latency_ms, "answered");
    // The answer alone goes to stdout; how to continue it goes beside it, to stderr.
    eprintln!("continue with: --conversation {}", output.conversation_id);
    print_lines(&[output.text])
}

/// Puts the whole answer back in place of its first page.
async fn whole(app: &App, output: &mut AskModelOutput) {
    let Some(id) = &output.answer_id else { return };
    match answers::load(app, id).await {
        Ok(stored) => output.text = stored.text,
        Err(error) => tracing::warn!(%error, "only the first page of the answer can be printed"),
    }
}

/// What a reader of the answer must know: it was completed by continuations, or is still cut,
/// or something went wrong around it.
fn notes(output: &AskModelOutput) -> anyhow::Result<()> {
    let mut err = std::io::stderr().lock();
    if output.truncated {
        writeln!(
            err,
            "truncated: the answer is still cut by max_tokens after {} continuations; raise --max-tokens or SWITCHBOARD_MAX_CONTINUATIONS",
            output.continuations
        )?;
    } else if output.continuations > 0 {
        writeln!(
            err,
            "continuations: {} (the answer was cut by max_tokens and completed)",
            output.continuations
        )?;
    }
    for warning in &output.warnings {
        writeln!(err, "warning: {warning}")?;
    }
    Ok(())
}
