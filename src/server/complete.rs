//! `completion/complete`: catalog ids for the arguments that name models, as a host offers them
//! while the user types: `model` of `second_opinion`, the last id of `cross_check`'s `models`,
//! and `{id}` of `openrouter://models/{id}`. Only ids the policy allows are offered.

use super::prompts::{self, CROSS_CHECK, SECOND_OPINION};
use super::resources::MODEL_TEMPLATE;
use crate::App;
use crate::tools::input::shown;
use rmcp::ErrorData;
use rmcp::model::{CompleteRequestParams, CompleteResult, CompletionInfo, Reference};

/// Longest value looked at, as model ids are bounded in the tools.
const MAX_VALUE_CHARS: usize = 256;

/// What an argument completes to.
enum Kind {
    /// One catalog id.
    Id,
    /// A comma-separated list of ids: the last one is completed, the ones before kept.
    IdList,
    /// Free text: nothing to offer.
    Nothing,
}

pub async fn complete(
    app: &App,
    params: &CompleteRequestParams,
) -> Result<CompleteResult, ErrorData> {
    let kind = kind(&params.r#ref, &params.argument.name)?;
    let value: String = params
        .argument
        .value
        .chars()
        .take(MAX_VALUE_CHARS)
        .collect();
    let (kept, partial) = match kind {
        Kind::Nothing => return Ok(CompleteResult::default()),
        Kind::Id => (String::new(), value.trim().to_string()),
        Kind::IdList => match value.rsplit_once(',') {
            Some((before, last)) => (format!("{before}, "), last.trim().to_string()),
            None => (String::new(), value.trim().to_string()),
        },
    };
    let already: Vec<&str> = kept.split(',').map(str::trim).collect();
    let snapshot = app.catalog.snapshot().await;
    let ids = snapshot
        .models
        .iter()
        .filter(|m| app.policy.refusal(&m.id, Some(m)).is_none())
        .map(|m| m.id.as_str())
        .filter(|id| !already.contains(id));
    let matches = matching(ids, &partial);
    let total = matches.len();
    let values: Vec<String> = matches
        .into_iter()
        .take(CompletionInfo::MAX_VALUES)
        .map(|id| format!("{kept}{id}"))
        .collect();
    let info = CompletionInfo::with_pagination(
        values,
        u32::try_from(total).ok(),
        total > CompletionInfo::MAX_VALUES,
    )
    .map_err(|e| ErrorData::internal_error(e, None))?;
    Ok(CompleteResult::new(info))
}

fn kind(reference: &Reference, argument: &str) -> Result<Kind, ErrorData> {
    match reference {
        Reference::Prompt(prompt) => match (prompt.name.as_str(), argument) {
            (SECOND_OPINION, "model") => Ok(Kind::Id),
            (CROSS_CHECK, "models") => Ok(Kind::IdList),
            (SECOND_OPINION | CROSS_CHECK, _) => Ok(Kind::Nothing),
            (other, _) => Err(ErrorData::invalid_params(
                format!(
                    "no prompt `{}` to complete; the prompts are {}",
                    shown(other),
                    prompts::NAMES.join(", ")
                ),
                None,
            )),
        },
        Reference::Resource(template) if template.uri == MODEL_TEMPLATE => match argument {
            "id" => Ok(Kind::Id),
            _ => Ok(Kind::Nothing),
        },
        Reference::Resource(template) => Err(ErrorData::invalid_params(
            format!(
                "no resource template `{}` to complete; the one template is {MODEL_TEMPLATE}",
                shown(&template.uri)
            ),
            None,
        )),
        _ => Err(ErrorData::invalid_params(
            "completion/complete takes a ref/prompt or a ref/resource",
            None,
        )),
    }
}

/// Ids that start with `partial` (case-insensitive), then ids that contain it, each group sorted.
fn matching<'a>(ids: impl Iterator<Item = &'a str>, partial: &str) -> Vec<&'a str> {
    let wanted = partial.to_lowercase();
    let (mut starts, mut contains): (Vec<&str>, Vec<&str>) = (Vec::new(), Vec::new());
    for id in ids {
        let lower = id.to_lowercase();
        if lower.starts_with(&wanted) {
            starts.push(id);
        } else if lower.contains(&wanted) {
            contains.push(id);
        }
    }
    starts.sort_unstable();
    contains.sort_unstable();
    starts.extend(contains);
    starts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_come_before_substrings() {
        let ids = [
            "z/gemini",
            "google/gemini-2.5-flash",
            "gemini/pro-x",
            "google/gemma",
            "openai/gpt-5-mini",
        ];
        assert_eq!(
            matching(ids.into_iter(), "GOOGLE/GEM"),
            ["google/gemini-2.5-flash", "google/gemma"]
        );
        assert_eq!(
            matching(ids.into_iter(), "gem"),
            [
                "gemini/pro-x",
                "google/gemini-2.5-flash",
                "google/gemma",
                "z/gemini"
            ]
        );
        assert_eq!(matching(ids.into_iter(), "").len(), 5);
    }
}
