//! `ModelRouter`: serves a call from the cache, or walks the model chain (requested model, then
//! fallbacks) with classified retries inside one whole-call deadline, and names every attempt.

pub mod attempt;
pub mod clamp;
pub mod complete;
pub mod cooldown;
pub mod deadline;
mod flight;
pub mod retry;
pub mod shape;

pub use attempt::{Attempt, Outcome};
pub use cooldown::Cooldowns;
pub use retry::{Decision, RetryPolicy, classify};

pub use crate::cache::CacheMode;
use crate::cache::{CachedAnswer, KeyMaterial, ResponseCache};
use crate::consult::{Event, Events};
use crate::openrouter::types::{ChatMessage, ChatRequest, Usage};
use crate::openrouter::{Accumulator, Client, Completion, Error};
use complete::{Finished, Gate};
use flight::{Flight, Flights};
use std::time::Duration;
use tokio::time::Instant;

/// Called as streamed text arrives: the model being asked and what it has sent so far.
pub type Progress<'a> = &'a mut (dyn FnMut(&str, &Accumulator) + Send);

/// Who walks the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Routing {
    /// The switchboard tries each model itself, with classified retries and cooldowns.
    #[default]
    Switchboard,
    /// One request carries the chain as OpenRouter's `models` array; OpenRouter falls back.
    Native,
}

/// One routed call.
#[derive(Debug, Clone)]
pub struct Call {
    /// Models to try, in order (catalog ids).
    pub chain: Vec<String>,
    /// Models left out of the chain before the call, reported as `skipped`.
    pub skipped: Vec<Attempt>,
    pub messages: Vec<ChatMessage>,
    pub max_tokens: u32,
    /// Models not sent `max_tokens` (a smaller default, or a completion limit below it), and
    /// what each is sent ([`clamp::limits`]).
    pub completion_limits: std::collections::BTreeMap<String, clamp::Tokens>,
    /// The most each model can be sent ([`clamp::ceilings`]): bounds the larger `max_tokens` of a
    /// retry after reasoning used the whole budget.
    pub ceilings: std::collections::BTreeMap<String, clamp::Ceiling>,
    pub temperature: Option<f64>,
    pub cache: CacheMode,
    /// Follow-up requests allowed to complete an answer cut by `max_tokens`.
    pub max_continuations: u32,
    /// The `reasoning` object each model is sent; a model absent here is sent none.
    pub reasoning: std::collections::BTreeMap<String, serde_json::Value>,
    /// The schema the answer must match (`response_format`), checked before it is accepted.
    pub structured: Option<shape::Structured>,
    /// Provider preferences, sent as they are.
    pub provider: Option<serde_json::Map<String, serde_json::Value>>,
    /// What the switchboard changed for a model (said on its attempts).
    pub notes: std::collections::BTreeMap<String, String>,
}

impl Call {
    /// A call to `chain` with `max_tokens` (what was `asked`, else the chain's default: see
    /// [`clamp::resolve`]), each model's clamp and ceiling read from the catalog, and no
    /// consultation arguments; callers set the rest with struct update syntax.
    pub fn new(
        snapshot: &crate::catalog::Snapshot,
        chain: Vec<String>,
        messages: Vec<ChatMessage>,
        (max_tokens, asked): (u32, Option<u32>),
        cache: CacheMode,
        max_continuations: u32,
    ) -> Self {
        Self {
            completion_limits: clamp::limits(snapshot, &chain, max_tokens, asked),
            ceilings: clamp::ceilings(snapshot, &chain),
            chain,
            skipped: Vec::new(),
            messages,
            max_tokens,
            temperature: None,
            cache,
            max_continuations,
            reasoning: std::collections::BTreeMap::new(),
            structured: None,
            provider: None,
            notes: std::collections::BTreeMap::new(),
        }
    }

    /// The cache and single-flight key.
    pub fn key(&self) -> String {
        let base = KeyMaterial {
            chain: &self.chain,
            messages: &self.messages,
            max_tokens: self.max_tokens,
            temperature: self.temperature,
        }
        .key();
        shape::key(self, base)
    }
}

/// A successful call.
#[derive(Debug, Clone)]
pub struct Routed {
    /// The chain entry (catalog id) that answered.
    pub model: String,
    pub completion: Completion,
    pub attempts: Vec<Attempt>,
    /// Served without a new upstream request of its own: from the cache, or shared with an
    /// identical call in flight. Nothing was paid for it.
    pub cached: bool,
    /// Seconds since the answer was produced (0 when fresh).
    pub age_secs: u64,
    /// What went wrong around a delivered answer (a cache write that failed).
    pub warnings: Vec<String>,
    /// Follow-up requests that completed an answer cut by `max_tokens`.
    pub continuations: u32,
    /// Still cut by `max_tokens` after `SWITCHBOARD_MAX_CONTINUATIONS` follow-ups.
    pub truncated: bool,
}

impl Routed {
    /// What this call paid: nothing when the answer was cached or shared.
    pub fn paid(&self) -> f64 {
        if self.cached {
            0.0
        } else {
            self.completion.usage.cost.unwrap_or(0.0)
        }
    }

    fn from_cache(hit: &CachedAnswer) -> Self {
        Self {
            model: hit.model.clone(),
            completion: hit.completion.clone(),
            attempts: Vec::new(),
            cached: true,
            age_secs: hit.age_secs(),
            warnings: Vec::new(),
            continuations: 0,
            truncated: false,
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum RouteError {
    /// A failure no other model can fix (bad key, no credits).
    #[error("{message}; attempts:{}", attempt::list(.attempts))]
    Stopped {
        message: String,
        attempts: Vec<Attempt>,
    },
    #[error("every model in the chain failed; attempts:{}", attempt::list(.attempts))]
    Exhausted { attempts: Vec<Attempt> },
    #[error(
        "no answer within SWITCHBOARD_TIMEOUT ({}); attempts:{}",
        humantime::format_duration(*.timeout),
        attempt::list(.attempts)
    )]
    Deadline {
        timeout: Duration,
        attempts: Vec<Attempt>,
    },
}

/// Where in the chain walk one model is tried.
#[derive(Clone, Copy)]
struct Walk<'a> {
    deadline: Instant,
    is_last: bool,
    /// Said on every attempt of this request (a clamped `max_tokens`).
    note: Option<&'a str>,
    max_continuations: u32,
    /// Asked before each continuation and before a retry with a larger `max_tokens`.
    gate: &'a dyn Gate,
    /// What this model can be sent at most.
    ceiling: clamp::Ceiling,
}

/// What trying one model came to.
enum ModelResult {
    Answered(Finished),
    Next,
    Stop(Error),
    DeadlinePassed,
}

#[derive(Debug)]
pub struct ModelRouter {
    client: Client,
    cache: ResponseCache,
    policy: RetryPolicy,
    timeout: Duration,
    routing: Routing,
    pub cooldowns: Cooldowns,
    flights: Flights,
    events: Events,
}

impl ModelRouter {
    pub fn new(
        client: Client,
        cache: ResponseCache,
        policy: RetryPolicy,
        timeout: Duration,
        routing: Routing,
        cooldowns: Cooldowns,
        events: Events,
    ) -> Self {
        Self {
            client,
            cache,
            policy,
            timeout,
            routing,
            cooldowns,
            flights: Flights::default(),
            events,
        }
    }

    pub fn cache(&self) -> &ResponseCache {
        &self.cache
    }

    /// The cached answer to `call`, when its cache mode reads and one is stored.
    pub async fn cached(&self, call: &Call) -> Option<Routed> {
        if !call.cache.reads() {
            return None;
        }
        self.cache
            .get(&call.key())
            .await
            .map(|hit| Routed::from_cache(&hit))
    }

    /// Answers `call` from the first model in the chain that can. An identical call already in
    /// flight is joined instead of sent again (except with `cache: bypass`). Callers check
    /// [`ModelRouter::cached`] first.
    ///
    /// # Errors
    /// [`RouteError`] when no model answered; it lists every attempt.
    pub async fn route(
        &self,
        call: &Call,
        gate: &dyn Gate,
        progress: Progress<'_>,
    ) -> Result<Routed, RouteError> {
        let key = call.key();
        if call.cache == CacheMode::Bypass {
            return self.fetch(call, key, gate, progress).await;
        }
        loop {
            match self.flights.join(&key) {
                Flight::Follow(receiver) => {
                    if let Some(shared) = flight::follow(receiver).await {
                        return shared.map(|routed| Routed {
                            cached: true,
                            attempts: Vec::new(),
                            warnings: Vec::new(),
                            ..routed
                        });
                    }
                }
                Flight::Lead(lead) => {
                    // A flight that ended just before this one started has stored its answer.
                    if let Some(hit) = self.cache.peek(&key).await.filter(|_| call.cache.reads()) {
                        return Ok(Routed::from_cache(&hit));
                    }
                    let _lease = match self.across(call, &key).await {
                        flight::Across::Answered(hit) => {
                            let routed = Routed::from_cache(&hit);
                            lead.finish(&Ok(routed.clone()));
                            return Ok(routed);
                        }
                        flight::Across::Lead(lease) => lease,
                    };
                    let result = self.fetch(call, key.clone(), gate, progress).await;
                    lead.finish(&result);
                    return result;
                }
            }
        }
    }

    /// The fleet-wide single flight (Redis): only for calls that read the cache, within the
    /// call's deadline.
    async fn across(&self, call: &Call, key: &str) -> flight::Across {
        if !call.cache.reads() {
            return flight::Across::Lead(None);
        }
        let give_up = deadline::earliest(deadline::after(self.timeout));
        flight::across(&self.cache, key, give_up).await
    }

    /// Walks the chain: the one place that sends requests upstream.
    async fn fetch(
        &self,
        call: &Call,
        key: String,
        gate: &dyn Gate,
        progress: Progress<'_>,
    ) -> Result<Routed, RouteError> {
        let deadline = deadline::earliest(deadline::after(self.timeout));
        let mut attempts = call.skipped.clone();
        let chain = self.warm_chain(&call.chain, &mut attempts).await;
        for attempt in &attempts {
            self.events.emit(&Event::Attempt(attempt));
        }
        let requests: Vec<ChatRequest> = match self.routing {
            Routing::Switchboard => chain
                .iter()
                .map(|model| request(call, model, None))
                .collect(),
            Routing::Native => vec![request(call, &chain[0], Some(chain.clone()))],
        };
        let last = requests.len() - 1;
        for (position, request) in requests.iter().enumerate() {
            let (asked, limit) = call
                .completion_limits
                .get(&request.model)
                .map_or((call.max_tokens, clamp::Limit::Completion), |t| {
                    (t.asked, t.limit)
                });
            let clamped = clamp::note(asked, request.max_tokens, limit);
            let note = shape::note(clamped, call, &request.model);
            let walk = Walk {
                deadline,
                is_last: position == last,
                note: note.as_deref(),
                max_continuations: call.max_continuations,
                gate,
                ceiling: call
                    .ceilings
                    .get(&request.model)
                    .copied()
                    .unwrap_or_default(),
            };
            let outcome = self
                .try_model(request, &walk, &mut attempts, progress)
                .await;
            let outcome = self
                .checked(call, request, &walk, &mut attempts, progress, outcome)
                .await;
            match outcome {
                ModelResult::Answered(Finished {
                    completion,
                    continuations,
                    truncated,
                }) => {
                    let model = match self.routing {
                        Routing::Switchboard => request.model.clone(),
                        Routing::Native => completion
                            .model
                            .clone()
                            .unwrap_or_else(|| request.model.clone()),
                    };
                    let mut warnings = Vec::new();
                    // Only a complete answer is stored.
                    if call.cache.writes() && !truncated {
                        warnings.extend(self.cache.put(key, &model, &completion).await);
                    }
                    return Ok(Routed {
                        model,
                        completion,
                        attempts,
                        cached: false,
                        age_secs: 0,
                        warnings,
                        continuations,
                        truncated,
                    });
                }
                ModelResult::Next => {}
                ModelResult::Stop(error) => {
                    return Err(RouteError::Stopped {
                        message: stop_message(&error),
                        attempts,
                    });
                }
                ModelResult::DeadlinePassed => {
                    return Err(RouteError::Deadline {
                        timeout: self.timeout,
                        attempts,
                    });
                }
            }
        }
        Err(RouteError::Exhausted { attempts })
    }

    /// The chain without the models cooling down (each reported as `skipped`). When every model
    /// is cooling down, all are tried anyway: a call must never fail without asking anyone.
    async fn warm_chain(&self, chain: &[String], attempts: &mut Vec<Attempt>) -> Vec<String> {
        let left = self.cooldowns.remaining_each(chain).await;
        let cooling: Vec<(&String, Duration)> = chain
            .iter()
            .zip(left)
            .filter_map(|(m, left)| Some((m, left?)))
            .collect();
        if cooling.len() == chain.len() {
            return chain.to_vec();
        }
        for (model, left) in &cooling {
            let reason = format!(
                "cooling down after repeated failures; retried in {}s",
                left.as_secs().max(1)
            );
            attempts.push(Attempt::skipped(model, reason));
        }
        chain
            .iter()
            .filter(|m| !cooling.iter().any(|(c, _)| c == m))
            .cloned()
            .collect()
    }

    /// Tries one request, retrying transient failures while the policy and the deadline allow,
    /// and once with a larger `max_tokens` when reasoning used the whole budget.
    async fn try_model(
        &self,
        request: &ChatRequest,
        walk: &Walk<'_>,
        attempts: &mut Vec<Attempt>,
        progress: Progress<'_>,
    ) -> ModelResult {
        let Walk {
            deadline, is_last, ..
        } = *walk;
        let model = request.model.as_str();
        let mut note = walk.note.map(str::to_string);
        let give_up = if is_last {
            Outcome::Failed
        } else {
            Outcome::FellBack
        };
        let mut current = std::borrow::Cow::Borrowed(request);
        // The bill of an answer whose reasoning used the whole budget, joined into the retry's.
        let mut exhausted: Option<Usage> = None;
        let mut enlarged = false;
        let mut retry = 0;
        loop {
            let started = Instant::now();
            let mut on_chunk = |acc: &Accumulator| progress(model, acc);
            let result =
                tokio::time::timeout_at(deadline, self.client.chat(&current, &mut on_chunk)).await;
            let elapsed = millis(started.elapsed());
            let error = match result {
                Ok(Ok(mut completion)) => {
                    self.push(
                        attempts,
                        Attempt::ok(model, elapsed).with_note(note.as_deref()),
                    );
                    self.cooldowns.record_success(model).await;
                    if let Some(usage) = exhausted.take() {
                        completion.usage = complete::add(&usage, &completion.usage);
                    }
                    let finished = self
                        .complete(&current, completion, walk, attempts, progress)
                        .await;
                    return ModelResult::Answered(finished);
                }
                Ok(Err(error)) => error,
                Err(_) => {
                    let timeout = Error::Transport {
                        kind: crate::openrouter::error::TransportKind::Timeout,
                        detail: "the call's deadline passed during this attempt".into(),
                    };
                    let attempt = Attempt::failed(model, Outcome::Failed, &timeout, elapsed);
                    self.push(attempts, attempt.with_note(note.as_deref()));
                    return ModelResult::DeadlinePassed;
                }
            };
            tracing::debug!(model, error = %error, "attempt failed");
            if !enlarged && let Some(usage) = error.paid_usage() {
                match self.larger(&current, walk, usage).await {
                    Ok(larger) => {
                        let attempt = Attempt::failed(model, Outcome::Retried, &error, elapsed);
                        self.push(attempts, attempt.with_note(note.as_deref()).unpaid());
                        note = Some(format!(
                            "retried with max_tokens {larger}: reasoning used the whole {}",
                            current.max_tokens
                        ));
                        exhausted = Some(usage.clone());
                        enlarged = true;
                        current.to_mut().max_tokens = larger;
                        continue;
                    }
                    Err(why) => {
                        let mut attempt = Attempt::failed(model, give_up, &error, elapsed);
                        attempt.error = attempt.error.map(|e| format!("{e}; {why}"));
                        self.push(attempts, attempt.with_note(note.as_deref()));
                        return ModelResult::Next;
                    }
                }
            }
            // The exhausted answer's bill goes with the first attempt that does not answer.
            let billed = exhausted.take();
            let attempt = |outcome| {
                let mut attempt = Attempt::failed(model, outcome, &error, elapsed);
                attempt.paid = match (&billed, attempt.paid.take()) {
                    (Some(first), Some(this)) => Some(complete::add(first, &this)),
                    (first, this) => this.or_else(|| first.clone()),
                };
                attempt.with_note(note.as_deref())
            };
            let decision = classify(&error);
            if counts_against_model(&error, decision) {
                self.cooldowns.record_failure(model).await;
            }
            match decision {
                Decision::Stop => {
                    self.push(attempts, attempt(Outcome::Failed));
                    return ModelResult::Stop(error);
                }
                Decision::NextModel => {
                    self.push(attempts, attempt(give_up));
                    return ModelResult::Next;
                }
                Decision::Retry { after } => {
                    let delay =
                        after.unwrap_or_else(|| self.policy.delay_for(retry, fastrand::f64()));
                    let left = deadline.saturating_duration_since(Instant::now());
                    if retry >= self.policy.max_retries || delay >= left {
                        self.push(attempts, attempt(give_up));
                        return ModelResult::Next;
                    }
                    self.push(attempts, attempt(Outcome::Retried));
                    tokio::time::sleep(delay).await;
                    retry += 1;
                }
            }
        }
    }

    /// The larger `max_tokens` to retry `request` with after reasoning used all of it, when the
    /// model can send more and the call's caps let the retry through; else why not.
    async fn larger(
        &self,
        request: &ChatRequest,
        walk: &Walk<'_>,
        usage: &Usage,
    ) -> Result<u32, String> {
        let sent = request.max_tokens;
        let Some(larger) = clamp::larger(sent, walk.ceiling, usage.prompt_tokens) else {
            return Err(format!(
                "max_tokens {sent} is already the most this model can send after the prompt; lower the reasoning effort or pick another model"
            ));
        };
        if walk.gate.retry(&request.model, larger).await {
            Ok(larger)
        } else {
            Err(format!(
                "a retry with max_tokens {larger} was not sent: its worst case does not fit max_cost_usd or SWITCHBOARD_BUDGET_USD; raise the one that applies, or lower the reasoning effort"
            ))
        }
    }
}

impl ModelRouter {
    /// Completes an answer cut by `max_tokens` with up to `SWITCHBOARD_MAX_CONTINUATIONS`
    /// follow-up requests, each an attempt of its own. A follow-up that fails leaves the answer
    /// as far as it got, `truncated`.
    async fn complete(
        &self,
        request: &ChatRequest,
        first: Completion,
        walk: &Walk<'_>,
        attempts: &mut Vec<Attempt>,
        progress: Progress<'_>,
    ) -> Finished {
        let model = request.model.as_str();
        let mut whole = first;
        let mut continuations = 0;
        let deadline = walk.deadline;
        while complete::is_cut(&whole)
            && continuations < walk.max_continuations
            && walk.gate.allow(model, continuations + 1).await
        {
            let next = complete::follow_up(request, &whole.text);
            let note = format!(
                "continuation {} of an answer cut by max_tokens",
                continuations + 1
            );
            let started = Instant::now();
            let mut on_chunk = |acc: &Accumulator| progress(model, acc);
            let result =
                tokio::time::timeout_at(deadline, self.client.chat(&next, &mut on_chunk)).await;
            let elapsed = millis(started.elapsed());
            let error = match result {
                Ok(Ok(part)) => {
                    let attempt = Attempt::ok(model, elapsed).with_note(Some(&note));
                    self.push(attempts, attempt);
                    complete::join(&mut whole, part);
                    continuations += 1;
                    continue;
                }
                Ok(Err(error)) => error,
                Err(_) => Error::Transport {
                    kind: crate::openrouter::error::TransportKind::Timeout,
                    detail: "the call's deadline passed during this continuation".into(),
                },
            };
            let attempt = Attempt::failed(model, Outcome::Failed, &error, elapsed);
            self.push(attempts, attempt.with_note(Some(&note)));
            break;
        }
        Finished {
            truncated: complete::is_cut(&whole),
            completion: whole,
            continuations,
        }
    }

    /// Records an attempt as it finishes: in the call's list and as an event.
    fn push(&self, attempts: &mut Vec<Attempt>, attempt: Attempt) {
        self.events.emit(&Event::Attempt(&attempt));
        attempts.push(attempt);
    }
}

fn request(call: &Call, model: &str, models: Option<Vec<String>>) -> ChatRequest {
    let mut request = ChatRequest {
        model: model.to_string(),
        models,
        messages: call.messages.clone(),
        max_tokens: call
            .completion_limits
            .get(model)
            .map_or(call.max_tokens, |t| t.sent),
        temperature: call.temperature,
        stream: true,
        ..ChatRequest::default()
    };
    shape::apply(call, model, &mut request);
    request
}

/// Failures that say the model (not the request, not the account) is unwell: transient errors,
/// and "no endpoints" for it.
fn counts_against_model(error: &Error, decision: Decision) -> bool {
    matches!(decision, Decision::Retry { .. }) || error.status() == Some(404)
}

/// What the user should do about a failure that stops the call.
fn stop_message(error: &Error) -> String {
    match error.status() {
        Some(401) => format!(
            "OpenRouter rejected the API key ({error}): check OPENROUTER_API_KEY, or create a new key at https://openrouter.ai/keys"
        ),
        Some(402) => format!(
            "OpenRouter credits are exhausted or the key's spend limit is reached ({error}): add credits at https://openrouter.ai/settings/credits, or lower max_tokens"
        ),
        _ => error.to_string(),
    }
}

pub fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
