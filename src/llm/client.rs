//! One LLM call, done properly: routed, retried with backoff and jitter on 429, 5xx, time-outs
//! and network errors (honouring `Retry-After`), never retried on 400/401/402/403/404, and
//! costed (the provider's `usage.cost` first, then prices, else zero and flagged unknown).
//!
//! The client returns a [`CallRecord`]: everything the run's call log keeps about the call.
//! Logging and replay are the engine's; rate limits shared across a batch are the batch's.
//!
//! A seat a person plays (model [`HUMAN`](super::route::HUMAN)) is asked through the host
//! instead: no rate limit, no time limit and no retry, and recorded like any call, at $0.
//!
//! Every request carries its output cap, and [`CallSpec::worst_case_tokens`] bounds what it can
//! be billed: the budget's reservations (in the engine and the batch) rest on that bound.

use std::fmt;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use futures_util::future::{select, Either};
use serde::{Deserialize, Serialize};

use super::limiter::Limiter;
use super::route::{route, Endpoints, Provider};
use crate::host::{
    ChatMessage, ChatRequest, ChatResponse, Clock, Llm, LlmError, PersonPrompt, Usage,
};
use crate::plan::Role;
use crate::pricing::{usd_to_nanos, Nanos, PriceBook, Tokens};
use crate::rng::{fnv1a, Rng};

/// One call to make.
#[derive(Debug, Clone)]
pub struct CallSpec {
    /// The call's identity in its run (`t3/actor/council`): replay matches on it.
    pub key: String,
    /// Why the call is made.
    pub role: Role,
    /// The actor it is for, when any.
    pub actor: Option<String>,
    /// The turn.
    pub turn: u32,
    /// The model id as configured.
    pub model: String,
    /// The conversation.
    pub messages: Vec<ChatMessage>,
    /// Sampling temperature.
    pub temperature: Option<f64>,
    /// The output cap sent as `max_tokens`: the most completion tokens (reasoning included)
    /// the call may produce and be billed for.
    pub max_tokens: u32,
    /// Nucleus sampling.
    pub top_p: Option<f64>,
    /// The per-call seed (derived from the run's seed and the key).
    pub seed: u64,
}

/// Tokens a chat template may add around each message (role markers, separators), counted
/// generously: ChatML and Llama 3 add 4-5, Gemma 3-4.
pub const TEMPLATE_TOKENS_PER_MESSAGE: u64 = 16;
/// Tokens a server may add to a whole request (a beginning-of-text token, the assistant's
/// header, a default system preamble such as Llama 3.1's dated one).
pub const TEMPLATE_TOKENS_PER_REQUEST: u64 = 64;

impl CallSpec {
    /// A true upper bound of the (prompt, completion) tokens this call can be billed for.
    ///
    /// Completion: the cap sent. Prompt: the UTF-8 bytes of the messages plus a template
    /// allowance. Every tokenizer in use (byte-level BPE as in GPT, Llama 3, Qwen and Claude;
    /// SentencePiece with byte fallback as in Llama 2, Mistral and Gemma) turns a text into
    /// tokens that each stand for at least one byte of it, so a text of n bytes is at most n
    /// tokens, whatever its script; the characters / 4 rule of thumb is an average that code
    /// and non-Latin text break by 2-4x. SentencePiece may add one word-start marker per text,
    /// well inside the per-message allowance.
    pub fn worst_case_tokens(&self) -> (u64, u64) {
        let prompt = self
            .messages
            .iter()
            .map(|m| (m.content.len() + m.role.len()) as u64 + TEMPLATE_TOKENS_PER_MESSAGE)
            .sum::<u64>()
            + TEMPLATE_TOKENS_PER_REQUEST;
        (prompt, u64::from(self.max_tokens))
    }

    /// A stable hash of what is asked (model, messages, parameters), in hex.
    pub fn request_hash(&self) -> String {
        let params = format!(
            "{:?}|{:?}|{:?}|{}",
            self.temperature, self.max_tokens, self.top_p, self.seed
        );
        let mut parts: Vec<&str> = vec![&self.model, &params];
        for m in &self.messages {
            parts.push(&m.role);
            parts.push(&m.content);
        }
        format!("{:016x}", fnv1a(&parts))
    }
}

/// How a call's cost was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum CostSource {
    /// The provider's `usage.cost`.
    Provider,
    /// Tokens times the model's price.
    Price,
    /// A model that costs nothing.
    Free,
    /// No price known: counted as 0 and flagged.
    Unknown,
}

/// What the call log keeps of one call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct CallRecord {
    /// The call's identity in its run.
    pub key: String,
    /// The turn.
    pub turn: u32,
    /// Why it was made.
    pub role: Role,
    /// The actor, when any.
    pub actor: Option<String>,
    /// The model id as configured.
    pub model: String,
    /// The server kind.
    pub provider: Provider,
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Completion tokens.
    pub completion_tokens: u64,
    /// Cost in nano-dollars.
    pub cost_nanos: Nanos,
    /// How the cost was found.
    pub cost_source: CostSource,
    /// Milliseconds from first send to answer, retries included.
    pub latency_ms: f64,
    /// The provider's generation id.
    pub generation_id: Option<String>,
    /// Hash of the request.
    pub request_hash: String,
    /// Attempts made (1 = no retry).
    pub attempts: u32,
    /// Attempts abandoned at their time limit: a server may have gone on and billed them.
    #[serde(default)]
    pub timeouts: u32,
    /// The output cap sent.
    #[serde(default)]
    pub max_tokens: u32,
    /// The provider's `finish_reason` (`stop`; `length` when the reply was cut at its cap).
    #[serde(default)]
    pub finish_reason: Option<String>,
    /// Of the prompt tokens, those the provider served from its prefix cache.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cached_tokens: u64,
    /// Of the prompt tokens, those written to the provider's cache.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cache_write_tokens: u64,
    /// Nano-dollars the cache saved against the same tokens uncached, at the model's price
    /// (negative when writing to the cache cost more than it read).
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub cache_saved_nanos: i64,
    /// Nano-dollars the batch price saved against the realtime price.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub batch_saved_nanos: u64,
    /// The provider's batch job that answered the call (none: sent realtime).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_job: Option<String>,
    /// Bytes of the reply dropped because it passed `limits::MAX_STORED_REPLY_BYTES` (a server
    /// that ignored the output cap); `reply` is what was kept, and what the run went on with.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub reply_cut_bytes: u64,
    /// The reply text.
    pub reply: String,
}

/// `reply` cut to at most `max` bytes at a character boundary, and the bytes dropped.
pub fn bounded_reply(mut reply: String, max: usize) -> (String, u64) {
    if reply.len() <= max {
        return (reply, 0);
    }
    let mut end = max;
    while !reply.is_char_boundary(end) {
        end -= 1;
    }
    let cut = (reply.len() - end) as u64;
    reply.truncate(end);
    (reply, cut)
}

impl CallRecord {
    /// Whether the reply was cut at its output cap.
    pub fn truncated(&self) -> bool {
        cut_at_cap(self.finish_reason.as_deref())
    }

    /// Whether the provider returned more completion tokens than the cap it was sent.
    pub fn over_cap(&self) -> bool {
        past_cap(self.max_tokens, self.completion_tokens)
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn is_zero_i64(n: &i64) -> bool {
    *n == 0
}

/// Whether a reply that ended with this `finish_reason` was cut at its output cap (`length`).
/// Shared by [`CallRecord`] and the call log's usage reader (`schema::run::CallUsage`).
pub fn cut_at_cap(finish_reason: Option<&str>) -> bool {
    finish_reason == Some("length")
}

/// Whether a provider returned more completion tokens than the cap it was sent: it ignored
/// `max_tokens`, and the call's cost was not bounded. A cap of 0 is no cap (calls recorded
/// before caps existed).
pub fn past_cap(max_tokens: u32, completion_tokens: u64) -> bool {
    max_tokens > 0 && completion_tokens > u64::from(max_tokens)
}

/// Retry and time-out settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff, ms (doubled each retry, with jitter).
    pub base_delay_ms: f64,
    /// Longest wait between attempts, ms (a longer `Retry-After` is still honoured).
    pub max_delay_ms: f64,
    /// Per-attempt time limit, ms, for every call (`call_timeout`, `--call-timeout`); `None`:
    /// from the call's cap ([`RetryPolicy::timeout_ms_for`]).
    pub timeout_ms: Option<f64>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 4,
            base_delay_ms: 1000.0,
            max_delay_ms: 60_000.0,
            timeout_ms: None,
        }
    }
}

/// Seconds any request gets before its first token (queueing, prompt processing).
const TIMEOUT_BASE_S: f64 = 60.0;
/// The slowest generation speed a call is given time for, tokens/s: a hosted API streams at
/// 30-150; a CPU-only local server at 5-60 (a 135M model on one core: ~50; a 7B one: ~5).
const HOSTED_TOKENS_PER_S: f64 = 20.0;
const LOCAL_TOKENS_PER_S: f64 = 5.0;

impl RetryPolicy {
    /// The time limit of one attempt of a call with this cap on this kind of server: long
    /// enough for the whole capped reply at the slowest speed the server may have, so that a
    /// slow reply is not abandoned (and sent, and maybe billed, again) while it is still coming.
    pub fn timeout_ms_for(&self, provider: Provider, max_tokens: u32) -> f64 {
        self.timeout_ms.unwrap_or_else(|| {
            let rate = match provider {
                Provider::Local => LOCAL_TOKENS_PER_S,
                _ => HOSTED_TOKENS_PER_S,
            };
            (TIMEOUT_BASE_S + f64::from(max_tokens) / rate) * 1000.0
        })
    }
}

/// Why a call failed for good.
#[derive(Debug, Clone, PartialEq)]
pub enum CallError {
    /// A status that retrying cannot fix (400, 401, 402, 403, 404): says what is wrong.
    Refused {
        /// The HTTP status.
        status: u16,
        /// What to do about it.
        message: String,
    },
    /// Retries exhausted on a retryable failure.
    Exhausted {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
    /// The person in a seat gave no reply: the host's reason.
    Person(String),
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Refused { status, message } => write!(f, "HTTP {status}: {message}"),
            CallError::Exhausted { attempts, last } => {
                write!(f, "gave up after {attempts} attempts: {last}")
            }
            CallError::Person(why) => write!(f, "the person in the seat gave no reply: {why}"),
        }
    }
}

/// Says what a non-retryable status means, without echoing any credential.
fn refusal(status: u16, body: &str, provider: Provider, model: &str) -> String {
    let detail = provider_message(body);
    match status {
        401 => match provider {
            Provider::Openrouter => {
                "the API key is missing or wrong: set OPENROUTER_API_KEY to a valid OpenRouter key"
                    .to_string()
            }
            _ => "the server refused the credentials: check the API key for this base URL"
                .to_string(),
        },
        402 => format!("the account has no credit left for `{model}`{detail}"),
        403 => format!(
            "the provider refused the request for `{model}` (moderation or permissions){detail}"
        ),
        404 => format!("the model `{model}` was not found on this server{detail}"),
        _ => format!("the server rejected the request for `{model}`{detail}"),
    }
}

fn provider_message(body: &str) -> String {
    let msg = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.pointer("/error/message")
                .and_then(|m| m.as_str())
                .map(str::to_string)
        })
        .unwrap_or_else(|| body.chars().take(200).collect());
    if msg.trim().is_empty() {
        String::new()
    } else {
        format!(" ({})", msg.trim())
    }
}

/// Parses an OpenAI-compatible chat-completions body.
pub fn parse_completion(body: &str) -> Result<ChatResponse, LlmError> {
    let v: serde_json::Value = serde_json::from_str(body)
        .map_err(|e| LlmError::InvalidResponse(format!("not JSON: {e}")))?;
    let content = v
        .pointer("/choices/0/message/content")
        .and_then(|c| c.as_str())
        .ok_or_else(|| LlmError::InvalidResponse("no choices[0].message.content".into()))?;
    let usage = v.get("usage").map(parse_usage);
    Ok(ChatResponse {
        content: content.to_string(),
        usage,
        generation_id: v.get("id").and_then(|i| i.as_str()).map(str::to_string),
        finish_reason: v
            .pointer("/choices/0/finish_reason")
            .and_then(|f| f.as_str())
            .map(str::to_string),
    })
}

/// Reads an OpenAI-shaped `usage`: `prompt_tokens` (every prompt token), with the cached ones
/// in `prompt_tokens_details.cached_tokens` and the ones written to the cache in
/// `prompt_tokens_details.cache_write_tokens` (OpenRouter) or `cache_creation_input_tokens`;
/// `cost` when the provider bills in the answer (OpenRouter).
pub fn parse_usage(u: &serde_json::Value) -> crate::host::Usage {
    let n = |p: &str| u.pointer(p).and_then(|x| x.as_u64());
    crate::host::Usage {
        prompt_tokens: n("/prompt_tokens").unwrap_or(0),
        completion_tokens: n("/completion_tokens").unwrap_or(0),
        cached_tokens: n("/prompt_tokens_details/cached_tokens")
            .or_else(|| n("/cache_read_input_tokens"))
            .unwrap_or(0),
        cache_write_tokens: n("/prompt_tokens_details/cache_write_tokens")
            .or_else(|| n("/cache_creation_input_tokens"))
            .unwrap_or(0),
        cost: u.get("cost").and_then(|x| x.as_f64()),
    }
}

/// Makes calls. One client serves a whole batch, so that its rate limiters (one per endpoint)
/// are shared by every run.
pub struct Client<'a, L: Llm, C: Clock> {
    llm: &'a L,
    clock: &'a C,
    endpoints: Endpoints,
    prices: PriceBook,
    retry: RetryPolicy,
    limiters: RefCell<BTreeMap<String, Rc<Limiter>>>,
    max_in_flight: usize,
}

/// Retries after 429s are counted apart from other failures, and allowed far more often: being
/// rate-limited is a reason to slow down, not to fail a run.
const MAX_RATE_LIMIT_RETRIES: u32 = 60;

impl<'a, L: Llm, C: Clock> Client<'a, L, C> {
    /// A client over a transport and a clock.
    pub fn new(
        llm: &'a L,
        clock: &'a C,
        endpoints: Endpoints,
        prices: PriceBook,
        retry: RetryPolicy,
    ) -> Self {
        Client {
            llm,
            clock,
            endpoints,
            prices,
            retry,
            limiters: RefCell::new(BTreeMap::new()),
            max_in_flight: 64,
        }
    }

    /// Sets the most requests in flight per endpoint (what the rate limiter grows back to).
    pub fn with_max_in_flight(mut self, max: usize) -> Self {
        self.max_in_flight = max.max(1);
        self
    }

    fn limiter(&self, base: &str) -> Rc<Limiter> {
        self.limiters
            .borrow_mut()
            .entry(base.to_string())
            .or_insert_with(|| Rc::new(Limiter::new(self.max_in_flight)))
            .clone()
    }

    /// Each endpoint's limiter state: (base URL, current limit, in flight, 429s seen).
    pub fn limiter_stats(&self) -> Vec<(String, usize, usize, u64)> {
        self.limiters
            .borrow()
            .iter()
            .map(|(b, l)| (b.clone(), l.limit(), l.in_flight(), l.rate_limited()))
            .collect()
    }

    /// The transport (the lock-step sends providers' batch jobs through it).
    pub fn llm(&self) -> &'a L {
        self.llm
    }

    /// The prices in use.
    pub fn prices(&self) -> &PriceBook {
        &self.prices
    }

    /// The request `spec` makes, and where it goes.
    pub fn request_for(&self, spec: &CallSpec) -> (super::route::Route, ChatRequest) {
        let r = route(&spec.model, &self.endpoints);
        // OpenAI's own API takes the cap as `max_completion_tokens` (its reasoning models
        // refuse `max_tokens`); every other server takes `max_tokens`. Both bound reasoning
        // tokens too, which are billed as completion.
        let openai = r.base_url.starts_with("https://api.openai.com/");
        // Anthropic caches a prefix only up to a marked breakpoint; the system message holds
        // every part of a prompt that does not change across turns (see `engine::prompts`).
        let anthropic = spec.model.starts_with("anthropic/") || r.model.starts_with("claude");
        let request = ChatRequest {
            model: r.model.clone(),
            messages: spec.messages.clone(),
            temperature: spec.temperature,
            max_tokens: (!openai).then_some(spec.max_tokens),
            max_completion_tokens: openai.then_some(spec.max_tokens),
            seed: Some(spec.seed),
            top_p: spec.top_p,
            cache_breakpoint: anthropic && r.provider != Provider::Builtin,
        };
        (r, request)
    }

    /// Sends one call, retrying what can be retried.
    pub async fn call(&self, spec: &CallSpec) -> Result<CallRecord, CallError> {
        let (r, request) = self.request_for(spec);
        self.send(spec, &r, &request).await
    }

    /// Sends `request`, built for `spec` by [`Client::request_for`], retrying what can be
    /// retried.
    pub async fn send(
        &self,
        spec: &CallSpec,
        r: &super::route::Route,
        request: &ChatRequest,
    ) -> Result<CallRecord, CallError> {
        if r.provider == Provider::Human {
            return self.ask_person(spec, r).await;
        }
        let timeout_ms = self.retry.timeout_ms_for(r.provider, spec.max_tokens);
        let start = self.clock.now_ms();
        let mut jitter = Rng::new(spec.seed ^ 0x5eed);
        let mut attempts = 0;
        let mut timeouts = 0;
        let mut rate_limited = 0;
        loop {
            attempts += 1;
            let outcome = if r.provider == Provider::Builtin {
                Ok(super::builtin::respond(request))
            } else {
                let limiter = self.limiter(&r.base_url);
                // Released when dropped too: a call abandoned mid-request (its run past its
                // time, a stop) gives its slot back.
                let permit = limiter.acquire(self.clock).await;
                let outcome = self
                    .with_timeout(self.llm.complete(&r.base_url, request), timeout_ms)
                    .await;
                let pause = match &outcome {
                    Err(LlmError::Status {
                        status: 429,
                        retry_after,
                        ..
                    }) => Some(retry_after.map_or(self.retry.base_delay_ms, |s| s * 1000.0)),
                    _ => None,
                };
                permit.release(self.clock, pause);
                outcome
            };
            let retry_after = match outcome {
                Ok(resp) => {
                    let mut record =
                        self.record(spec, r, resp, attempts, self.clock.now_ms() - start, None);
                    record.timeouts = timeouts;
                    return Ok(record);
                }
                Err(LlmError::Status {
                    status,
                    body,
                    retry_after,
                }) => {
                    if matches!(status, 400..=499) && status != 408 && status != 429 {
                        return Err(CallError::Refused {
                            status,
                            message: refusal(status, &body, r.provider, &spec.model),
                        });
                    }
                    (
                        format!("HTTP {status}{}", provider_message(&body)),
                        retry_after,
                    )
                }
                Err(LlmError::Timeout) => {
                    timeouts += 1;
                    let why = match self.retry.timeout_ms {
                        Some(_) => "the `call_timeout` set".to_string(),
                        None => format!(
                            "the limit for a reply of up to {} tokens from a {} server",
                            spec.max_tokens,
                            if r.provider == Provider::Local {
                                "local"
                            } else {
                                "hosted"
                            }
                        ),
                    };
                    (
                        format!(
                            "no answer within {:.0} s ({why}; raise it with `call_timeout: SECONDS` in the batch config or --call-timeout SECONDS)",
                            timeout_ms / 1000.0
                        ),
                        None,
                    )
                }
                Err(LlmError::Network(e)) => (format!("network error: {e}"), None),
                Err(LlmError::InvalidResponse(e)) => (format!("invalid response: {e}"), None),
            };
            let (last, retry_after) = retry_after;
            let is_429 = last.starts_with("HTTP 429");
            rate_limited += u32::from(is_429);
            let other_failures = attempts - rate_limited;
            if other_failures > self.retry.max_retries || rate_limited > MAX_RATE_LIMIT_RETRIES {
                return Err(CallError::Exhausted { attempts, last });
            }
            let backoff = (self.retry.base_delay_ms * 2f64.powi(attempts as i32 - 1))
                .min(self.retry.max_delay_ms);
            let wait = match retry_after {
                Some(s) => s * 1000.0 + jitter.next_f64() * 250.0,
                None => backoff * (0.5 + jitter.next_f64() * 0.5),
            };
            self.clock.sleep(wait).await;
        }
    }

    /// Asks the person in the seat what a model would be asked, and waits as long as they take
    /// (a time limit would abandon someone thinking, and asking again repeats the question).
    /// The messages are shown without terminal control sequences (they hold other models'
    /// replies, which must not recolour or retitle the person's terminal). The reply counts no
    /// tokens (nothing was tokenised) and costs nothing.
    async fn ask_person(
        &self,
        spec: &CallSpec,
        r: &super::route::Route,
    ) -> Result<CallRecord, CallError> {
        let start = self.clock.now_ms();
        let prompt = PersonPrompt {
            key: spec.key.clone(),
            actor: spec.actor.clone(),
            turn: spec.turn,
            role: spec.role,
            messages: spec
                .messages
                .iter()
                .map(|m| ChatMessage {
                    role: m.role.clone(),
                    content: crate::engine::files::printable(&m.content).into_owned(),
                })
                .collect(),
        };
        let reply = self
            .llm
            .ask_person(&prompt)
            .await
            .map_err(CallError::Person)?;
        let response = ChatResponse {
            content: reply,
            usage: Some(Usage::default()),
            generation_id: None,
            finish_reason: Some("stop".into()),
        };
        Ok(self.record(spec, r, response, 1, self.clock.now_ms() - start, None))
    }

    async fn with_timeout<F: std::future::Future<Output = Result<ChatResponse, LlmError>>>(
        &self,
        f: F,
        timeout_ms: f64,
    ) -> Result<ChatResponse, LlmError> {
        let f = std::pin::pin!(f);
        let t = std::pin::pin!(self.clock.sleep(timeout_ms));
        match select(f, t).await {
            Either::Left((r, _)) => r,
            Either::Right(_) => Err(LlmError::Timeout),
        }
    }

    /// What the log keeps of the answer `resp` to `spec`: tokens, cost (the provider's bill
    /// first, else the price, at the batch price when `batch_job` names the provider job that
    /// answered it, with cached prompt tokens at the cache prices) and what a cache and a batch
    /// saved against the realtime price with nothing cached.
    pub fn record(
        &self,
        spec: &CallSpec,
        r: &super::route::Route,
        resp: ChatResponse,
        attempts: u32,
        latency_ms: f64,
        batch_job: Option<String>,
    ) -> CallRecord {
        let usage = resp.usage.clone().unwrap_or_default();
        let (prompt_tokens, completion_tokens) = if resp.usage.is_some() {
            (usage.prompt_tokens, usage.completion_tokens)
        } else {
            // No usage reported: estimate at 4 characters a token so prices still apply.
            let chars: usize = spec
                .messages
                .iter()
                .map(|m| m.content.chars().count())
                .sum();
            (
                (chars as u64).div_ceil(4),
                (resp.content.chars().count() as u64).div_ceil(4),
            )
        };
        let (reply, reply_cut_bytes) =
            bounded_reply(resp.content, crate::limits::MAX_STORED_REPLY_BYTES);
        let tokens = Tokens {
            prompt: prompt_tokens,
            cached: usage.cached_tokens,
            cache_write: usage.cache_write_tokens,
            completion: completion_tokens,
        };
        let batch = batch_job.is_some();
        let price = self.prices.price(&spec.model);
        let (cost_nanos, cost_source) = match (usage.cost, price) {
            (Some(c), _) => (usd_to_nanos(c), CostSource::Provider),
            (None, Some(p)) if p.prompt == 0.0 && p.completion == 0.0 => (0, CostSource::Free),
            (None, Some(p)) => (usd_to_nanos(p.cost_of(&tokens, batch)), CostSource::Price),
            (None, None)
                if matches!(
                    r.provider,
                    Provider::Local | Provider::Builtin | Provider::Human
                ) =>
            {
                (0, CostSource::Free)
            }
            (None, None) => (0, CostSource::Unknown),
        };
        CallRecord {
            key: spec.key.clone(),
            turn: spec.turn,
            role: spec.role,
            actor: spec.actor.clone(),
            model: spec.model.clone(),
            provider: r.provider,
            prompt_tokens,
            completion_tokens,
            cost_nanos,
            cost_source,
            latency_ms,
            generation_id: resp.generation_id,
            request_hash: spec.request_hash(),
            attempts,
            timeouts: 0,
            max_tokens: spec.max_tokens,
            finish_reason: resp.finish_reason,
            cached_tokens: tokens.cached,
            cache_write_tokens: tokens.cache_write,
            cache_saved_nanos: price.map_or(0, |p| {
                let plain = Tokens {
                    cached: 0,
                    cache_write: 0,
                    ..tokens
                };
                usd_to_nanos(p.cost_of(&plain, batch)) as i64
                    - usd_to_nanos(p.cost_of(&tokens, batch)) as i64
            }),
            batch_saved_nanos: match (price, batch) {
                (Some(p), true) => usd_to_nanos(p.cost_of(&tokens, false))
                    .saturating_sub(usd_to_nanos(p.cost_of(&tokens, true))),
                _ => 0,
            },
            batch_job,
            reply_cut_bytes,
            reply,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_reply_is_cut_at_a_character_boundary() {
        assert_eq!(bounded_reply("short".into(), 10), ("short".into(), 0));
        let (kept, cut) = bounded_reply("aé".repeat(4), 5);
        assert_eq!((kept.as_str(), cut), ("aéa", 8));
    }

    fn spec(text: &str, max_tokens: u32) -> CallSpec {
        CallSpec {
            key: "t1/world".into(),
            role: Role::World,
            actor: None,
            turn: 1,
            model: "m".into(),
            messages: vec![
                ChatMessage {
                    role: "system".into(),
                    content: "You narrate.".into(),
                },
                ChatMessage {
                    role: "user".into(),
                    content: text.into(),
                },
            ],
            temperature: None,
            max_tokens,
            top_p: None,
            seed: 1,
        }
    }

    /// The prompt bound counts bytes, not characters: Chinese text is 3 bytes a character, and
    /// a tokenizer may spend a token on each byte of it.
    #[test]
    fn the_prompt_bound_counts_bytes_and_the_template() {
        let chinese = "谈判在继续。".repeat(100);
        let (prompt, completion) = spec(&chinese, 700).worst_case_tokens();
        let bytes = ("system".len() + "You narrate.".len() + "user".len() + chinese.len()) as u64;
        assert_eq!(chinese.len(), 3 * chinese.chars().count());
        assert_eq!(
            prompt,
            bytes + 2 * TEMPLATE_TOKENS_PER_MESSAGE + TEMPLATE_TOKENS_PER_REQUEST
        );
        assert_eq!(completion, 700);
    }

    #[test]
    fn time_limits_fit_the_cap_and_the_server() {
        let p = RetryPolicy::default();
        assert_eq!(p.timeout_ms_for(Provider::Openrouter, 800), 100_000.0);
        assert_eq!(p.timeout_ms_for(Provider::Local, 1000), 260_000.0);
        let set = RetryPolicy {
            timeout_ms: Some(5_000.0),
            ..p
        };
        assert_eq!(set.timeout_ms_for(Provider::Local, 1000), 5_000.0);
    }
}
