//! Checking model ids against the catalog and building the fallback chain.

use super::error::ToolError;
use crate::App;
use crate::catalog::{Snapshot, suggest};
use crate::openrouter::types::ChatMessage;
use crate::router::Attempt;
use crate::tokens;
use std::collections::BTreeMap;

/// Most models one chain or one call may name.
pub const MAX_CHAIN: usize = 20;
/// Longest model id accepted, in characters (catalog ids are well under 100).
pub const MAX_MODEL_ID_CHARS: usize = 256;

/// Fails with the 3 closest ids when `id` is not in an authoritative catalog. The embedded table is
/// only a sample, so against it every id passes.
pub fn check(snapshot: &Snapshot, field: &'static str, id: &str) -> Result<(), ToolError> {
    if id.trim().is_empty() {
        return Err(ToolError::invalid(
            field,
            "is empty: give a model id such as openai/gpt-5-mini",
        ));
    }
    let chars = id.chars().count();
    if chars > MAX_MODEL_ID_CHARS {
        return Err(ToolError::invalid(
            field,
            format!(
                "is a model id of {chars} characters; ids are at most {MAX_MODEL_ID_CHARS} (e.g. openai/gpt-5-mini), see list_models"
            ),
        ));
    }
    if !snapshot.is_authoritative() || snapshot.find(id).is_some() {
        return Ok(());
    }
    let closest = suggest::closest_ids(snapshot, id, 3);
    Err(ToolError::UnknownModel {
        field,
        id: id.to_string(),
        closest,
    })
}

/// The chain for `ask_model`: the requested (or default) model, then the caller's fallbacks (or the
/// configured ones). A configured fallback missing from the catalog is skipped, not fatal.
pub fn chain(
    app: &App,
    snapshot: &Snapshot,
    model: Option<String>,
    fallbacks: Option<Vec<String>>,
) -> Result<(Vec<String>, Vec<Attempt>), ToolError> {
    let first = match model {
        Some(id) => {
            check(snapshot, "model", &id)?;
            id
        }
        None => configured_default(app, snapshot)?,
    };
    let mut chain = vec![first];
    let mut skipped = Vec::new();
    match fallbacks {
        Some(list) => {
            if list.len() >= MAX_CHAIN {
                return Err(ToolError::invalid(
                    "fallback_models",
                    format!(
                        "names {} models; the limit is {}",
                        list.len(),
                        MAX_CHAIN - 1
                    ),
                ));
            }
            for id in list {
                check(snapshot, "fallback_models", &id)?;
                push_unique(&mut chain, id);
            }
        }
        None => {
            for id in &app.config.fallback_models {
                match check(snapshot, "fallback_models", id) {
                    Ok(()) => push_unique(&mut chain, id.clone()),
                    Err(_) => skipped.push(Attempt::skipped(
                        id,
                        "not in the catalog (SWITCHBOARD_FALLBACK_MODELS)",
                    )),
                }
            }
        }
    }
    Ok((chain, skipped))
}

/// `SWITCHBOARD_DEFAULT_MODEL`, checked: when it is not in the catalog, the error blames the
/// setting, not a `model` argument the host never sent.
fn configured_default(app: &App, snapshot: &Snapshot) -> Result<String, ToolError> {
    let id = &app.config.default_model;
    match check(snapshot, "model", id) {
        Ok(()) => Ok(id.clone()),
        Err(_) => Err(ToolError::Setting {
            setting: "SWITCHBOARD_DEFAULT_MODEL",
            argument: "model",
            id: id.clone(),
            closest: suggest::closest_ids(snapshot, id, 3),
        }),
    }
}

fn push_unique(chain: &mut Vec<String>, id: String) {
    if !chain.contains(&id) {
        chain.push(id);
    }
}

/// The prompt's size as the context pre-check sees it: an upper bound first (every token covers at
/// least one byte, and the chat format adds at most 8 tokens a message), the real count only
/// when the bound does not settle it.
#[derive(Debug)]
pub struct PromptSize<'a> {
    messages: &'a [ChatMessage],
    max_tokens: u32,
    counted: Option<u64>,
    /// The upper bound (computed once: a PDF's estimate decodes it).
    bound: Option<u64>,
}

impl<'a> PromptSize<'a> {
    pub fn new(messages: &'a [ChatMessage], max_tokens: u32) -> Self {
        Self {
            messages,
            max_tokens,
            counted: None,
            bound: None,
        }
    }

    /// A prompt whose token count is already known (or bounded from above): `tokens` stands in
    /// for counting `messages`, e.g. a judge's prompt before the answers it will read exist.
    pub fn with_tokens(messages: &'a [ChatMessage], max_tokens: u32, tokens: u64) -> Self {
        Self {
            messages,
            max_tokens,
            counted: Some(tokens),
            bound: None,
        }
    }

    pub fn max_tokens(&self) -> u32 {
        self.max_tokens
    }

    /// The prompt's real token count (counted once).
    pub fn tokens(&mut self) -> u64 {
        let messages = self.messages;
        *self
            .counted
            .get_or_insert_with(|| tokens::count_messages(messages))
    }

    /// `None` when the prompt plus `max_tokens` fits `model`'s context window (or it is unknown);
    /// otherwise why the model is skipped.
    pub fn misfit(&mut self, snapshot: &Snapshot, model: &str) -> Option<String> {
        let context = snapshot.find(model)?.context_length?;
        let messages = self.messages;
        let bound = *self.bound.get_or_insert_with(|| {
            messages
                .iter()
                .map(|m| tokens::content_bound(&m.content) + 8)
                .sum::<u64>()
                + 3
        });
        let max_tokens = u64::from(self.max_tokens);
        if bound + max_tokens <= context {
            return None;
        }
        let tokens = self.tokens();
        (tokens + max_tokens > context).then(|| {
            format!(
                "context window of {context} tokens is too small for {tokens} prompt tokens + max_tokens {max_tokens}"
            )
        })
    }
}

/// Fewest answer tokens a model is sent: a model whose context window the prompt fills closer
/// than this is skipped rather than clamped.
pub const MIN_ANSWER_TOKENS: u64 = 256;

/// What a model's context window leaves for the answer.
#[derive(Debug, PartialEq, Eq)]
pub enum Room {
    /// The prompt and `max_tokens` fit (or the window is unknown).
    Fits,
    /// Only this many answer tokens fit: `max_tokens` is clamped to it.
    Clamped(u32),
    /// Not even [`MIN_ANSWER_TOKENS`] fit; why.
    TooSmall(String),
}

impl PromptSize<'_> {
    /// What `model`'s context window leaves for the answer. Another tokenizer may count the
    /// prompt higher than o200k_base does, so a clamp keeps a margin of a sixteenth of it.
    pub fn room(&mut self, snapshot: &Snapshot, model: &str) -> Room {
        let Some(reason) = self.misfit(snapshot, model) else {
            return Room::Fits;
        };
        let context = snapshot
            .find(model)
            .and_then(|m| m.context_length)
            .unwrap_or(0);
        let tokens = self.tokens();
        let left = context.saturating_sub(tokens + tokens / 16 + 16);
        match u32::try_from(left) {
            Ok(left) if u64::from(left) >= MIN_ANSWER_TOKENS => Room::Clamped(left),
            _ => Room::TooSmall(reason),
        }
    }
}

/// Why `model` cannot take attachments that need `needs` (`image`, `file`), from its catalog
/// `input_modalities`; `None` when it can, or when the catalog does not say.
pub fn modality_misfit(snapshot: &Snapshot, model: &str, needs: &[&str]) -> Option<String> {
    let known = &snapshot.find(model)?.input_modalities;
    let missing: Vec<&str> = needs
        .iter()
        .copied()
        .filter(|need| !known.is_empty() && !known.iter().any(|k| k == need))
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "takes no {} input (input_modalities: {}), which the attachments need",
            missing.join(" or "),
            known.join(", ")
        )
    })
}

/// Leaves out the models that cannot take the attachments (`needs`), reporting each as `skipped`.
///
/// # Errors
/// When no model in the chain can take them.
pub fn fit_modalities(
    snapshot: &Snapshot,
    chain: Vec<String>,
    skipped: &mut Vec<Attempt>,
    needs: &[&str],
) -> Result<Vec<String>, ToolError> {
    if needs.is_empty() {
        return Ok(chain);
    }
    let mut kept = Vec::with_capacity(chain.len());
    let mut last_reason = String::new();
    for model in chain {
        match modality_misfit(snapshot, &model, needs) {
            None => kept.push(model),
            Some(reason) => {
                skipped.push(Attempt::skipped(&model, reason.clone()));
                last_reason = reason;
            }
        }
    }
    if kept.is_empty() {
        let field = if needs.contains(&"image") {
            "images"
        } else {
            "files"
        };
        return Err(ToolError::invalid(
            field,
            format!(
                "no model in the chain can take them ({last_reason}); add a model with {} input (list_models with input_modality)",
                needs.join(" and ")
            ),
        ));
    }
    Ok(kept)
}

/// Leaves out the models too small for the prompt, reporting each as `skipped`, and says what
/// `max_tokens` the models whose window the prompt nearly fills are clamped to.
///
/// # Errors
/// When no model in the chain can hold the prompt.
pub fn fit_context(
    snapshot: &Snapshot,
    chain: Vec<String>,
    skipped: &mut Vec<Attempt>,
    size: &mut PromptSize<'_>,
) -> Result<(Vec<String>, BTreeMap<String, u32>), ToolError> {
    let mut fitting = Vec::with_capacity(chain.len());
    let mut clamped = BTreeMap::new();
    let mut last_reason = String::new();
    for model in chain {
        match size.room(snapshot, &model) {
            Room::Fits => fitting.push(model),
            Room::Clamped(left) => {
                clamped.insert(model.clone(), left);
                fitting.push(model);
            }
            Room::TooSmall(reason) => {
                skipped.push(Attempt::skipped(&model, reason.clone()));
                last_reason = reason;
            }
        }
    }
    if fitting.is_empty() {
        return Err(ToolError::invalid(
            "prompt",
            format!(
                "no model in the chain can take it ({last_reason}); shorten the prompt, lower max_tokens or add a model with a larger context"
            ),
        ));
    }
    Ok((fitting, clamped))
}

/// Leaves out the models `SWITCHBOARD_ALLOWED_MODELS` / `SWITCHBOARD_MAX_PRICE` refuse, reporting
/// each as `skipped` with the reason.
///
/// # Errors
/// When every model in the chain is refused.
pub fn allowed(
    app: &App,
    snapshot: &Snapshot,
    chain: Vec<String>,
    skipped: &mut Vec<Attempt>,
) -> Result<Vec<String>, ToolError> {
    let mut kept = Vec::with_capacity(chain.len());
    let mut refused = None;
    for id in chain {
        match app.policy.refusal(&id, snapshot.find(&id)) {
            None => kept.push(id),
            Some(reason) => {
                skipped.push(Attempt::skipped(&id, format!("refused: {reason}")));
                refused.get_or_insert((id, reason));
            }
        }
    }
    match (kept.is_empty(), refused) {
        (true, Some((id, reason))) => Err(ToolError::Refused {
            field: "model",
            id,
            reason,
        }),
        _ => Ok(kept),
    }
}
