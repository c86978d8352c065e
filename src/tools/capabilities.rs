//! Which chain models can honour a call's `reasoning` and `response_format`, from the catalog's
//! `supported_parameters` and `reasoning` object: the others are `skipped` with the reason, and
//! each kept model gets the `reasoning` object it can take (never a disable when its reasoning is
//! mandatory).

use super::consult_args::{Consultation, Level, Reasoning};
use super::error::ToolError;
use crate::catalog::{ModelInfo, Snapshot};
use crate::router::Attempt;
use serde_json::Value;
use std::collections::BTreeMap;

/// What the kept models are sent: `reasoning` per model, and notes on what was changed.
#[derive(Debug, Default)]
pub struct Fitted {
    pub chain: Vec<String>,
    pub reasoning: BTreeMap<String, Value>,
    pub notes: BTreeMap<String, String>,
}

/// Leaves out the models that cannot honour `consultation`, reporting each as `skipped`.
///
/// # Errors
/// When no model in the chain can, naming the argument and the reason.
pub fn fit(
    snapshot: &Snapshot,
    chain: Vec<String>,
    skipped: &mut Vec<Attempt>,
    consultation: &Consultation,
) -> Result<Fitted, ToolError> {
    let mut fitted = Fitted::default();
    let mut last = None;
    for model in chain {
        let info = snapshot.find(&model);
        if let Some((field, reason)) = refusal(info, consultation) {
            skipped.push(Attempt::skipped(&model, reason.clone()));
            last = Some((field, reason));
            continue;
        }
        if let Some(reasoning) = &consultation.reasoning {
            let (wire, note) = reasoning_for(info, reasoning);
            if let Some(wire) = wire {
                fitted.reasoning.insert(model.clone(), wire);
            }
            if let Some(note) = note {
                fitted.notes.insert(model.clone(), note);
            }
        }
        fitted.chain.push(model);
    }
    match (fitted.chain.is_empty(), last) {
        (true, Some((field, reason))) => Err(ToolError::invalid(
            field,
            format!(
                "no model in the chain can honour it (last: {reason}); pick one that can, see list_models `supports`"
            ),
        )),
        _ => Ok(fitted),
    }
}

/// Why `model` cannot honour the call (the argument, the reason), or `None` when it can or the
/// catalog does not say.
pub fn refusal(
    model: Option<&ModelInfo>,
    consultation: &Consultation,
) -> Option<(&'static str, String)> {
    let model = model?;
    if consultation.structured.is_some() && model.takes("structured_outputs") == Some(false) {
        return Some((
            "response_format",
            "does not support structured_outputs (response_format)".into(),
        ));
    }
    let reasoning = consultation.reasoning.as_ref()?;
    reasoning_refusal(model, reasoning).map(|reason| ("reasoning", reason))
}

fn reasoning_refusal(model: &ModelInfo, reasoning: &Reasoning) -> Option<String> {
    let asks_for_reasoning = matches!(reasoning.level, Level::Effort(_) | Level::Budget(_));
    if asks_for_reasoning && reasons(model) == Some(false) {
        return Some("does not support reasoning (not in its supported_parameters)".into());
    }
    let catalog = model.reasoning.as_ref()?;
    match reasoning.level {
        Level::Effort(effort) => {
            let efforts = catalog
                .supported_efforts
                .as_ref()
                .filter(|e| !e.is_empty())?;
            (!efforts.iter().any(|e| e == effort)).then(|| {
                format!(
                    "takes reasoning.effort {} only, not {effort}",
                    efforts.join(", ")
                )
            })
        }
        Level::Budget(_) => (catalog.supports_max_tokens == Some(false))
            .then(|| "does not take reasoning.max_tokens; use reasoning.effort".into()),
        Level::Off | Level::Default => None,
    }
}

/// Whether the model reasons at all, by its `supported_parameters`; `None` when unknown.
fn reasons(model: &ModelInfo) -> Option<bool> {
    let listed = ["reasoning", "include_reasoning", "reasoning_effort"]
        .iter()
        .map(|p| model.takes(p))
        .collect::<Option<Vec<bool>>>()?;
    Some(listed.into_iter().any(|b| b) || model.reasoning.is_some())
}

/// The `reasoning` object `model` is sent, and a note when the switchboard changed it.
fn reasoning_for(
    model: Option<&ModelInfo>,
    reasoning: &Reasoning,
) -> (Option<Value>, Option<String>) {
    let mandatory = model.is_some_and(ModelInfo::is_mandatory);
    let silent = model.and_then(reasons) == Some(false);
    if silent {
        // A model that does not reason honours "off" and "exclude" as it is.
        return (None, None);
    }
    let note = (mandatory && reasoning.level == Level::Off).then(|| {
        "reasoning is mandatory for this model: reasoning.max_tokens 0 (off) was not sent"
            .to_string()
    });
    (reasoning.wire(mandatory), note)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openrouter::types::ApiModel;

    fn model(value: serde_json::Value) -> ModelInfo {
        ModelInfo::from_api(serde_json::from_value::<ApiModel>(value).unwrap())
    }

    fn consult(level: Level) -> Consultation {
        Consultation {
            reasoning: Some(Reasoning {
                level,
                exclude: None,
            }),
            ..Consultation::default()
        }
    }

    #[test]
    fn skips_what_a_model_cannot_do_and_never_disables_mandatory_reasoning() {
        let plain =
            model(serde_json::json!({"id": "a/plain", "supported_parameters": ["max_tokens"]}));
        let thinker = model(serde_json::json!({"id": "a/think",
            "supported_parameters": ["reasoning"],
            "reasoning": {"mandatory": true, "supported_efforts": ["low", "high"], "supports_max_tokens": false}}));
        let high = consult(Level::Effort("high"));
        assert!(
            refusal(Some(&plain), &high)
                .unwrap()
                .1
                .contains("does not support reasoning")
        );
        assert_eq!(refusal(Some(&thinker), &high), None);
        let minimal = consult(Level::Effort("minimal"));
        assert!(
            refusal(Some(&thinker), &minimal)
                .unwrap()
                .1
                .contains("low, high")
        );
        assert!(refusal(Some(&thinker), &consult(Level::Budget(100))).is_some());
        let off = consult(Level::Off);
        assert_eq!(refusal(Some(&thinker), &off), None);
        let (wire, note) = reasoning_for(Some(&thinker), off.reasoning.as_ref().unwrap());
        assert_eq!(wire, None, "no disable for a mandatory reasoner");
        assert!(note.unwrap().contains("mandatory"));
        assert_eq!(
            refusal(None, &high),
            None,
            "not in the catalog: tried as asked"
        );
    }
}
