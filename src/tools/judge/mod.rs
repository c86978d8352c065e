//! The judge of `compare_models` (`judge_model`): one more call, through the paid-call owner like
//! every other, that sees the answers labelled A, B, C… in a shuffled order with the models' and
//! providers' names withheld, and says where they agree, where they differ and which is best.
//! Its reply (the JSON asked for, or prose) is mapped back from labels to model ids.

use super::ToolError;
use super::models::{self, PromptSize};
use crate::App;
use crate::catalog::Snapshot;
use crate::consult::{self, Answer, Ask, Worst};
use crate::openrouter::types::{ChatMessage, Role};
use crate::pricing;
use crate::router::{CacheMode, Call, clamp};
use rmcp::schemars::{self, JsonSchema};
use serde::Serialize;
use std::collections::BTreeMap;

mod blind;
mod verdict;

use blind::Blind;

/// Tokens each labelled answer adds around its text (label and fences), an upper bound.
const LABEL_TOKENS: u64 = 16;

const INSTRUCTIONS: &str = "You judge answers that different AI models gave to the same question. \
The answers are labelled A, B, C...; their authors are not named and their order is random, so judge \
the content only. Say where the answers agree, where they differ (and which is right where they \
conflict), and which answer is best and why. Reply with one JSON object and nothing else: \
{\"agreement\": a number from 0 (they contradict each other) to 1 (they say the same), \
\"ranking\": every label, best first, e.g. [\"B\", \"A\"], \"text\": your assessment in a few short paragraphs}";

/// The judge's verdict, with its labels mapped back to model ids.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Judgement {
    /// The judge model.
    pub model: String,
    /// Where the answers agree and differ, and which is best (it names them by label).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Model ids, best first; empty when the judge gave no usable ranking.
    pub ranking: Vec<String>,
    /// 0 (the answers contradict each other) to 1 (they agree).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agreement: Option<f64>,
    /// The model behind each label the text uses.
    pub labels: BTreeMap<String, String>,
    /// What the judge's call cost, USD (0 when cached).
    pub cost_usd: f64,
    /// Why there is no verdict (the judge's call failed); the answers stand.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Set when `text` was cut; read the rest with read_answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_chars: Option<usize>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// One answer the judge reads.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    pub model: &'a str,
    /// The provider that served it, as upstream named it (withheld from the judge too).
    pub provider: Option<&'a str>,
    pub text: &'a str,
}

/// `judge_model` must be a catalog id the model policy allows.
///
/// # Errors
/// An unknown id (with the closest ones) or a refused model, naming `judge_model`.
pub fn check(app: &App, snapshot: &Snapshot, id: &str) -> Result<(), ToolError> {
    models::check(snapshot, "judge_model", id)?;
    match app.policy.refusal(id, snapshot.find(id)) {
        None => Ok(()),
        Some(reason) => Err(ToolError::Refused {
            field: "judge_model",
            id: id.to_string(),
            reason,
        }),
    }
}

/// The judge's answer length cap, in tokens: its default (1024, or 4096 for a model that reasons).
fn judge_tokens(snapshot: &Snapshot, judge: &str) -> u32 {
    clamp::resolve(snapshot, &[judge.to_string()], None)
}

/// The judge's worst case before any model is asked: the question (`question_tokens`), each of
/// `answers` at its longest (`answer_tokens`), the instructions, and the judge's max_tokens.
///
/// # Errors
/// A judge with no known price while a cap applies.
pub fn worst(
    app: &App,
    snapshot: &Snapshot,
    judge: &str,
    question_tokens: u64,
    answers: usize,
    answer_tokens: u64,
) -> Result<Option<Worst>, ToolError> {
    let instructions = [ChatMessage::new(Role::System, INSTRUCTIONS)];
    let labelled = u64::try_from(answers).unwrap_or(u64::MAX);
    let prompt = crate::tokens::count_messages(&instructions)
        .saturating_add(question_tokens)
        .saturating_add(labelled.saturating_mul(answer_tokens + LABEL_TOKENS));
    let max_tokens = judge_tokens(snapshot, judge);
    let mut size = PromptSize::with_tokens(&instructions, max_tokens, prompt);
    consult::worst_case(app, snapshot, &[judge.to_string()], &mut size, None).map_err(as_judge)
}

/// With a judge, the whole comparison's worst case (every model of `plans` with its
/// continuations, then the judge reading every answer at its longest) must fit in the budget
/// left, before anything is sent.
///
/// # Errors
/// A refusal that states the figures.
pub async fn fits_budget<T>(
    app: &App,
    snapshot: &Snapshot,
    judge: &str,
    plans: &[Result<(Option<Worst>, T), String>],
    size: &mut PromptSize<'_>,
) -> Result<(), ToolError> {
    let Some(left) = consult::account::budget_left(app).await else {
        return Ok(());
    };
    let continuations = app.config.retry.max_continuations;
    let models_usd: f64 = plans
        .iter()
        .filter_map(|p| p.as_ref().ok()?.0.as_ref())
        .map(|w| w.with_continuations(continuations))
        .sum();
    let asked = plans.iter().filter(|p| p.is_ok()).count();
    let answer_tokens = u64::from(size.max_tokens()) * (u64::from(continuations) + 1);
    let question = size.tokens();
    let Some(worst) = worst(app, snapshot, judge, question, asked, answer_tokens)? else {
        return Ok(());
    };
    let judge_usd = worst.with_continuations(continuations);
    let total = models_usd + judge_usd;
    if total <= left {
        return Ok(());
    }
    Err(ToolError::Budget(format!(
        "the comparison's worst case ${} ({asked} models ${} + judge {judge} ${}, reading every answer at max_tokens) does not fit in the ${left} left of SWITCHBOARD_BUDGET_USD; nothing was sent; lower max_tokens, compare fewer models, or pick a cheaper judge_model or none",
        pricing::usd(total),
        pricing::usd(models_usd),
        pricing::usd(judge_usd),
    )))
}

/// Asks `judge` about `entries` (at least two), the answers to `question`. Never fails: a failed
/// call is the judgement's `error`.
pub async fn judge(
    app: &App,
    snapshot: &Snapshot,
    judge: &str,
    question: &[ChatMessage],
    entries: &[Entry<'_>],
    cache: CacheMode,
) -> Judgement {
    let mut order: Vec<usize> = (0..entries.len()).collect();
    fastrand::shuffle(&mut order);
    let labelled: Vec<(String, &str)> = order
        .iter()
        .enumerate()
        .map(|(i, &e)| (label(i), entries[e].model))
        .collect();
    let blind = Blind::new(snapshot, entries);
    let shown: Vec<(String, String)> = order
        .iter()
        .zip(&labelled)
        .map(|(&e, (label, _))| (label.clone(), blind.apply(entries[e].text)))
        .collect();
    let messages = prompt(question, &shown);
    let mut judgement = Judgement {
        model: judge.to_string(),
        text: None,
        ranking: Vec::new(),
        agreement: None,
        labels: labelled
            .iter()
            .map(|(l, m)| (l.clone(), (*m).to_string()))
            .collect(),
        cost_usd: 0.0,
        error: None,
        answer_id: None,
        total_chars: None,
        warnings: Vec::new(),
    };
    match ask(app, snapshot, judge, messages, cache).await {
        Ok(Answer { routed, charge }) => {
            judgement.cost_usd = if routed.cached { 0.0 } else { charge.usd };
            judgement.warnings = charge.warnings;
            verdict::read(&mut judgement, &routed.completion.text, &labelled);
        }
        Err(error) => judgement.error = Some(app.redact(&error.to_string())),
    }
    judgement
}

/// `A`, `B`, … for the first 26 answers (a comparison has at most 8).
fn label(index: usize) -> String {
    let letter = u8::try_from(index % 26).map_or('?', |i| char::from(b'A' + i));
    letter.to_string()
}

/// The instructions, then the question and the labelled answers.
fn prompt(question: &[ChatMessage], answers: &[(String, String)]) -> Vec<ChatMessage> {
    let question = match question {
        [only] if only.role == Role::User => only.text().into_owned(),
        _ => question
            .iter()
            .map(|m| format!("[{}] {}", m.role.as_str(), m.text()))
            .collect::<Vec<_>>()
            .join("\n\n"),
    };
    let mut body = format!("The question:\n<<<\n{question}\n>>>\n");
    for (label, text) in answers {
        body.push_str(&format!("\nAnswer {label}:\n<<<\n{text}\n>>>\n"));
    }
    body.push_str("\nReply with the JSON object only.");
    vec![
        ChatMessage::new(Role::System, INSTRUCTIONS),
        ChatMessage::new(Role::User, body),
    ]
}

/// The judge's call, admitted and settled by [`consult::answer`] like any other.
async fn ask(
    app: &App,
    snapshot: &Snapshot,
    judge: &str,
    messages: Vec<ChatMessage>,
    cache: CacheMode,
) -> Result<Answer, ToolError> {
    let chain = vec![judge.to_string()];
    let max_tokens = judge_tokens(snapshot, judge);
    let worst = {
        let mut size = PromptSize::new(&messages, max_tokens);
        if let Some(reason) = size.misfit(snapshot, judge) {
            return Err(ToolError::invalid(
                "judge_model",
                format!(
                    "cannot read the answers: {reason}; pick a judge with a larger context or lower max_tokens"
                ),
            ));
        }
        consult::worst_case(app, snapshot, &chain, &mut size, None).map_err(as_judge)?
    };
    let continuations = app.config.retry.max_continuations;
    let call = Call {
        // The configured preferences (data collection, ZDR...) hold for the judge too.
        provider: app.config.provider.clone(),
        ..Call::new(
            snapshot,
            chain,
            messages,
            (max_tokens, None),
            cache,
            continuations,
        )
    };
    let ask = Ask {
        tool: "compare_models",
        requested_model: judge.to_string(),
        snapshot,
        call,
        worst,
        max_cost: None,
        progress: &mut |_, _| {},
    };
    consult::answer(app, ask).await
}

/// A problem with the judge's price is `judge_model`'s, not `model`'s.
fn as_judge(error: ToolError) -> ToolError {
    match error {
        ToolError::Invalid { problem, .. } => ToolError::invalid("judge_model", problem),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn labels_run_from_a() {
        assert_eq!((0..8).map(super::label).collect::<String>(), "ABCDEFGH");
    }
}
