//! `openrouter-switchboard cost`: the estimate_cost tool from a shell.

use super::{print_json, print_lines, usd};
use crate::App;
use crate::cli::CostArgs;
use crate::tools::estimate_cost::{self, EstimateCostArgs};

pub async fn cost(app: &App, args: CostArgs) -> anyhow::Result<()> {
    let prompt =
        match &args.prompt_file {
            Some(path) => Some(std::fs::read_to_string(path).map_err(|e| {
                anyhow::anyhow!("cannot read --prompt-file {}: {e}", path.display())
            })?),
            None if args.prompt_tokens.is_none() => {
                anyhow::bail!("give --prompt-file FILE or --prompt-tokens N")
            }
            None => None,
        };
    let tool_args = EstimateCostArgs {
        models: Some(args.model),
        prompt,
        prompt_tokens: args.prompt_tokens,
        completion_tokens: args.completion_tokens,
        calls: args.calls,
        ..EstimateCostArgs::default()
    };
    let output = estimate_cost::run(app, tool_args).await?;
    if args.json {
        return print_json(&output);
    }
    let mut lines = vec![format!(
        "{:<44} {:>9} {:>9} {:>12}  fits",
        "model", "prompt", "output", "total"
    )];
    lines.extend(output.estimates.iter().map(|e| {
        let fits = e.fits_context.map_or("?", |f| if f { "yes" } else { "no" });
        format!(
            "{:<44} {:>9} {:>9} {:>12}  {fits}",
            e.model,
            e.prompt_tokens,
            e.completion_tokens,
            usd(e.total_cost_usd)
        )
    }));
    lines.push(format!("tokens counted by {}", output.token_counter));
    print_lines(&lines)
}
