//! `openrouter-switchboard models`: the list_models tool as a table.

use super::{print_json, print_lines, usd};
use crate::App;
use crate::cli::{ModelsArgs, value_name};
use crate::tools::list_models::{self, ListModelsArgs};

pub async fn models(app: &App, args: ModelsArgs) -> anyhow::Result<()> {
    let json = args.json;
    let tool_args = ListModelsArgs {
        query: args.query,
        provider: args.provider,
        min_context: args.min_context,
        max_prompt_price: args.max_prompt_price,
        max_completion_price: args.max_completion_price,
        supports: (!args.supports.is_empty())
            .then(|| args.supports.into_iter().map(value_name).collect()),
        input_modality: args.input_modality.map(value_name),
        free_only: Some(args.free_only),
        sort: args.sort.map(value_name),
        limit: args.limit,
        offset: args.offset,
    };
    let output = list_models::run(app, tool_args).await?;
    if json {
        return print_json(&output);
    }
    let mut lines = vec![format!(
        "{:<48} {:>9} {:>12} {:>12}  supports",
        "id", "context", "prompt/1M", "output/1M"
    )];
    lines.extend(output.models.iter().map(|m| {
        let context = m
            .context_length
            .map_or_else(|| "?".into(), |c| c.to_string());
        let (prompt, completion) = (usd(m.prompt_price_per_m), usd(m.completion_price_per_m));
        format!(
            "{:<48} {context:>9} {prompt:>12} {completion:>12}  {}",
            m.id,
            m.supports.join(",")
        )
    }));
    let catalog = &output.catalog;
    lines.push(format!(
        "{} of {} matches; {} catalog of {} models from {}",
        output.models.len(),
        output.total,
        catalog.source,
        catalog.model_count,
        catalog.fetched_at
    ));
    print_lines(&lines)
}
