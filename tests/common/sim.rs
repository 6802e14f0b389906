//! Simulated time and a scripted LLM, for driving the core deterministically: thousands of
//! calls in milliseconds, no ports, no sleeps.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use scenario_lab::host::{
    ApiBody, ApiRequest, ApiResponse, ChatRequest, ChatResponse, Clock, Llm, LlmError, Usage,
};

/// A clock that only moves when every task waits on it.
#[derive(Default, Clone)]
pub struct VirtualClock {
    inner: Rc<ClockInner>,
}

#[derive(Default)]
struct ClockInner {
    now: Cell<f64>,
    timers: RefCell<Vec<(f64, Waker)>>,
}

impl VirtualClock {
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves to the earliest timer and wakes everything due; false when nothing waits.
    fn advance(&self) -> bool {
        let mut timers = self.inner.timers.borrow_mut();
        let Some(next) = timers.iter().map(|(t, _)| *t).reduce(f64::min) else {
            return false;
        };
        if next > self.inner.now.get() {
            self.inner.now.set(next);
        }
        let now = self.inner.now.get();
        let (due, rest): (Vec<_>, Vec<_>) = timers.drain(..).partition(|(t, _)| *t <= now);
        *timers = rest;
        drop(timers);
        for (_, w) in due {
            w.wake();
        }
        true
    }
}

struct Sleep {
    clock: VirtualClock,
    until: f64,
}

impl Future for Sleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.clock.inner.now.get() >= self.until {
            Poll::Ready(())
        } else {
            self.clock
                .inner
                .timers
                .borrow_mut()
                .push((self.until, cx.waker().clone()));
            Poll::Pending
        }
    }
}

impl Clock for VirtualClock {
    fn now_ms(&self) -> f64 {
        self.inner.now.get()
    }
    async fn sleep(&self, ms: f64) {
        Sleep {
            clock: self.clone(),
            until: self.inner.now.get() + ms.max(0.0),
        }
        .await
    }
}

/// Runs a future to completion in simulated time; panics on a livelock (a future that waits
/// for nothing) instead of hanging.
pub fn drive<F: Future>(clock: &VirtualClock, f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let waker = Waker::noop();
    let mut cx = Context::from_waker(waker);
    for _ in 0..10_000_000 {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        assert!(
            clock.advance(),
            "stalled: the future waits, but no timer is set"
        );
    }
    panic!("did not finish in 10,000,000 steps");
}

/// Runs a future in simulated time until it is done or `kill()` says to stop, whichever comes
/// first; a killed future is dropped where it stands, as a `kill -9` would leave it (its
/// requests in flight are abandoned; what it wrote stays written). `None` when killed.
pub fn drive_until<F: Future>(
    clock: &VirtualClock,
    f: F,
    kill: impl Fn() -> bool,
) -> Option<F::Output> {
    let mut f = std::pin::pin!(f);
    let waker = Waker::noop();
    let mut cx = Context::from_waker(waker);
    for _ in 0..10_000_000 {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return Some(v);
        }
        if kill() {
            return None;
        }
        assert!(
            clock.advance(),
            "stalled: the future waits, but no timer is set"
        );
    }
    panic!("did not finish in 10,000,000 steps");
}

/// What the scripted LLM does with one request.
pub type Responder = dyn Fn(usize, &ChatRequest) -> Result<String, LlmError>;

/// An LLM that answers by a closure, after `latency_ms` of simulated time, reporting usage
/// with `cost_per_call`. Records every request. Like a real server it cuts a reply at the
/// request's `max_tokens` (4 bytes a token) and says `finish_reason: length`, unless
/// `ignore_cap` is set (a bad provider).
pub struct ScriptedLlm {
    pub clock: VirtualClock,
    pub latency_ms: f64,
    pub cost_per_call: Option<f64>,
    pub ignore_cap: bool,
    /// Latency added to a request's `latency_ms` (a slow model for some requests).
    pub extra_latency: Box<dyn Fn(&ChatRequest) -> f64>,
    /// Requests answered (sent and not dropped before their answer).
    pub answered: Cell<usize>,
    pub respond: Box<Responder>,
    pub requests: RefCell<Vec<ChatRequest>>,
    pub in_flight: Cell<usize>,
    pub peak: Cell<usize>,
    pub billed: Cell<f64>,
    /// Whether it offers OpenAI's batch API (`/files`, `/batches`); otherwise those answer 404.
    pub batch_api: bool,
    /// Simulated time from a job's creation to its end.
    pub batch_latency_ms: f64,
    /// Uploaded files by id, and jobs: (id, input file id, when it ends).
    pub files: RefCell<BTreeMap<String, String>>,
    pub jobs: RefCell<Vec<(String, String, f64)>>,
}

impl ScriptedLlm {
    pub fn new(
        clock: &VirtualClock,
        respond: impl Fn(usize, &ChatRequest) -> Result<String, LlmError> + 'static,
    ) -> Self {
        ScriptedLlm {
            clock: clock.clone(),
            latency_ms: 100.0,
            cost_per_call: Some(0.001),
            ignore_cap: false,
            extra_latency: Box::new(|_| 0.0),
            answered: Cell::new(0),
            respond: Box::new(respond),
            requests: RefCell::new(Vec::new()),
            in_flight: Cell::new(0),
            peak: Cell::new(0),
            billed: Cell::new(0.0),
            batch_api: false,
            batch_latency_ms: 1000.0,
            files: RefCell::new(BTreeMap::new()),
            jobs: RefCell::new(Vec::new()),
        }
    }

    /// The answer to request number `n`: the responder's reply, cut at the cap unless
    /// `ignore_cap`, with usage.
    fn answer(&self, n: usize, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        self.answered.set(self.answered.get() + 1);
        let mut content = (self.respond)(n, request)?;
        let mut finish_reason = "stop";
        if let Some(cap) = request.max_tokens.filter(|_| !self.ignore_cap) {
            let mut end = (cap as usize * 4).min(content.len());
            while !content.is_char_boundary(end) {
                end -= 1;
            }
            if end < content.len() {
                content.truncate(end);
                finish_reason = "length";
            }
        }
        if let Some(c) = self.cost_per_call {
            self.billed.set(self.billed.get() + c);
        }
        let chars: usize = request.messages.iter().map(|m| m.content.len()).sum();
        Ok(ChatResponse {
            usage: Some(Usage {
                prompt_tokens: (chars / 4) as u64,
                completion_tokens: content.len().div_ceil(4) as u64,
                cost: self.cost_per_call,
                ..Usage::default()
            }),
            content,
            generation_id: Some(format!("gen-{n}")),
            finish_reason: Some(finish_reason.to_string()),
        })
    }

    /// The output file of a job: every request of its input file answered, as OpenAI writes.
    fn job_output(&self, input: &str) -> String {
        let mut out = String::new();
        for line in input.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let request = chat_request(&v["body"]);
            let n = {
                let mut r = self.requests.borrow_mut();
                r.push(request.clone());
                r.len() - 1
            };
            let body = match self.answer(n, &request) {
                Ok(a) => {
                    let u = a.usage.unwrap();
                    let mut usage = serde_json::json!({"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens});
                    if let Some(c) = u.cost {
                        usage["cost"] = serde_json::json!(c);
                    }
                    serde_json::json!({"status_code": 200, "body": {"id": a.generation_id, "choices": [{"message": {"role": "assistant", "content": a.content}, "finish_reason": a.finish_reason}], "usage": usage}})
                }
                Err(_) => {
                    serde_json::json!({"status_code": 500, "body": {"error": {"message": "failed"}}})
                }
            };
            out.push_str(
                &serde_json::json!({"custom_id": v["custom_id"], "response": body, "error": null})
                    .to_string(),
            );
            out.push('\n');
        }
        out
    }
}

/// A chat request read back from its JSON body (a system message given as text parts, with a
/// cache breakpoint, is joined).
fn chat_request(v: &serde_json::Value) -> ChatRequest {
    let text = |c: &serde_json::Value| match c {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    };
    ChatRequest {
        model: v["model"].as_str().unwrap_or_default().to_string(),
        messages: v["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| scenario_lab::host::ChatMessage {
                role: m["role"].as_str().unwrap_or_default().to_string(),
                content: text(&m["content"]),
            })
            .collect(),
        temperature: v["temperature"].as_f64(),
        max_tokens: v["max_tokens"].as_u64().map(|x| x as u32),
        max_completion_tokens: v["max_completion_tokens"].as_u64().map(|x| x as u32),
        seed: v["seed"].as_u64(),
        top_p: v["top_p"].as_f64(),
        cache_breakpoint: v["messages"][0]["content"].is_array(),
    }
}

impl ScriptedLlm {
    /// The last user message of every request, in order.
    pub fn prompts(&self) -> Vec<String> {
        self.requests
            .borrow()
            .iter()
            .map(|r| {
                r.messages
                    .last()
                    .map(|m| m.content.clone())
                    .unwrap_or_default()
            })
            .collect()
    }
}

impl Llm for ScriptedLlm {
    async fn complete(&self, _base: &str, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        let n = {
            let mut r = self.requests.borrow_mut();
            r.push(request.clone());
            r.len() - 1
        };
        self.in_flight.set(self.in_flight.get() + 1);
        self.peak.set(self.peak.get().max(self.in_flight.get()));
        // Leaves the count of requests in flight even when the request is dropped mid-wait.
        struct Leave<'a>(&'a Cell<usize>);
        impl Drop for Leave<'_> {
            fn drop(&mut self) {
                self.0.set(self.0.get() - 1);
            }
        }
        let leave = Leave(&self.in_flight);
        self.clock
            .sleep(self.latency_ms + (self.extra_latency)(request))
            .await;
        drop(leave);
        self.answer(n, request)
    }

    /// OpenAI's batch API, in simulated time: a job ends `batch_latency_ms` after it is made.
    async fn send(&self, _base: &str, request: &ApiRequest) -> Result<ApiResponse, LlmError> {
        let ok = |body: serde_json::Value| {
            Ok(ApiResponse {
                status: 200,
                body: body.to_string(),
            })
        };
        if !self.batch_api {
            return Ok(ApiResponse {
                status: 404,
                body: String::new(),
            });
        }
        let path = request
            .url
            .split("/v1")
            .nth(1)
            .unwrap_or_default()
            .to_string();
        let now = self.clock.now_ms();
        match (request.method, path.as_str(), &request.body) {
            ("POST", "/files", ApiBody::Upload { text, .. }) => {
                let id = format!("file-{}", self.files.borrow().len());
                self.files.borrow_mut().insert(id.clone(), text.clone());
                ok(serde_json::json!({ "id": id }))
            }
            ("POST", "/batches", ApiBody::Json(body)) => {
                let v: serde_json::Value = serde_json::from_str(body).unwrap();
                let id = format!("batch-{}", self.jobs.borrow().len());
                let file = v["input_file_id"].as_str().unwrap().to_string();
                self.jobs
                    .borrow_mut()
                    .push((id.clone(), file, now + self.batch_latency_ms));
                ok(serde_json::json!({ "id": id, "status": "in_progress" }))
            }
            ("GET", p, _) if p.starts_with("/batches/") => {
                let id = &p["/batches/".len()..];
                let jobs = self.jobs.borrow();
                let (_, file, end) = jobs.iter().find(|j| j.0 == id).unwrap();
                let n = self.files.borrow()[file].lines().count();
                if now >= *end {
                    ok(
                        serde_json::json!({"id": id, "status": "completed", "output_file_id": format!("out-{file}"), "request_counts": {"total": n, "completed": n, "failed": 0}}),
                    )
                } else {
                    ok(
                        serde_json::json!({"id": id, "status": "in_progress", "request_counts": {"total": n, "completed": 0, "failed": 0}}),
                    )
                }
            }
            ("GET", p, _) if p.starts_with("/files/out-") => {
                let file = p["/files/out-".len()..].trim_end_matches("/content");
                let input = self.files.borrow()[file].clone();
                Ok(ApiResponse {
                    status: 200,
                    body: self.job_output(&input),
                })
            }
            _ => Ok(ApiResponse {
                status: 400,
                body: format!(
                    "{{\"error\":{{\"message\":\"unexpected {} {path}\"}}}}",
                    request.method
                ),
            }),
        }
    }
}

/// A deterministic, shape-aware reply: a function of the request alone (never of call
/// order), so that a resumed run sees the same answers as an uninterrupted one.
pub fn shaped(request: &ChatRequest) -> String {
    let all: String = request
        .messages
        .iter()
        .map(|m| m.content.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    // The answer format is in the system message, the turn's material in the user message
    // (prompts.rs): read them together.
    let user = all.as_str();
    let tag =
        scenario_lab::rng::fnv1a(&[&all, &request.seed.unwrap_or(0).to_string()]) % 1_000_000_007;
    if request.messages[0].content.contains("metrics extraction") {
        return format!("{}", tag % 11);
    }
    if user.contains("**PASSED:**") {
        return format!(
            "**PASSED:** Yes\n**ISSUES:**\n- None\n**SEVERITY:** low\n**EXPLANATION:** fine {tag}"
        );
    }
    if user.contains("**UPDATED STATE:**") {
        return format!("**UPDATED STATE:**\nThe world moves on (w{tag}). Data sharing level: {}\n\n**KEY CHANGES:**\n- one\n- two\n- three\n\n**CONSEQUENCES:**\n- a\n- b", tag % 11);
    }
    if user.contains("**INITIATE_BILATERAL:**") {
        let others = user
            .lines()
            .find_map(|l| l.strip_prefix("Other actors: "))
            .unwrap_or("");
        let first = others.split(',').next().unwrap_or("").trim();
        return format!("**INITIATE_BILATERAL:** yes\n**TARGET_ACTOR:** {first}\n**PROPOSED_MESSAGE:** private note m{tag}\n**REASONING:** because");
    }
    if user.contains("**DECISION:**") {
        return format!("**DECISION:** accept\n**RESPONSE:** ok {tag}");
    }
    if user.contains("**ACTION:**") {
        return format!("**LONG-TERM GOALS:**\n- goal g{tag}\n\n**SHORT-TERM PRIORITIES:**\n- p{tag}\n\n**REASONING:**\nreason r{tag}\n\n**ACTION:**\naction a{tag}");
    }
    if user.contains("**RESPONSE:**") {
        return format!("**RESPONSE:** reply r{tag}");
    }
    if user.contains("**MESSAGE:**") {
        return format!("**MESSAGE:** coalition note c{tag}");
    }
    format!("A summary s{tag}.")
}

/// Every file of a store under `dir`, by name, except the ones named.
pub fn files_under(
    store: &scenario_lab::host::MemoryStorage,
    dir: &str,
    except: &[&str],
) -> BTreeMap<String, String> {
    let prefix = format!("{dir}/");
    store
        .paths()
        .into_iter()
        .filter_map(|p| p.strip_prefix(&prefix).map(str::to_string))
        .filter(|name| !except.contains(&name.as_str()))
        .map(|name| {
            let text = super::block_on(scenario_lab::host::Storage::read(
                store,
                &format!("{prefix}{name}"),
            ))
            .unwrap()
            .unwrap();
            (name, text)
        })
        .collect()
}

/// Where the tests' clients send every hosted model: the `ScriptedLlm` answers whatever base URL
/// it is given, so this only has to be one.
pub fn fake_endpoints() -> scenario_lab::llm::Endpoints {
    scenario_lab::llm::Endpoints {
        base_url: Some("http://fake/v1".into()),
        ollama_base_url: None,
    }
}

/// A batch config as loaded from `b.yaml` in `store`, with its text.
pub fn batch_config(
    store: &scenario_lab::host::MemoryStorage,
) -> (scenario_lab::config::BatchConfig, String) {
    let cfg = super::block_on(scenario_lab::config::load_batch(store, "b.yaml"))
        .unwrap_or_else(|e| panic!("{e}"))
        .value;
    let text = super::block_on(scenario_lab::host::Storage::read(store, "b.yaml"))
        .unwrap()
        .unwrap();
    (cfg, text)
}

/// Runs the batch of `b.yaml` in `store` against `llm`, in simulated time, priced by the
/// config's `prices:`.
pub fn run_sim_batch(
    store: &scenario_lab::host::MemoryStorage,
    llm: &ScriptedLlm,
    opts: &scenario_lab::batch::BatchOptions,
    control: &dyn scenario_lab::batch::Control,
) -> scenario_lab::batch::BatchOutcome {
    try_sim_batch(store, llm, opts, control).unwrap_or_else(|e| panic!("{e}"))
}

/// [`run_sim_batch`], with the error of a batch that is refused.
pub fn try_sim_batch(
    store: &scenario_lab::host::MemoryStorage,
    llm: &ScriptedLlm,
    opts: &scenario_lab::batch::BatchOptions,
    control: &dyn scenario_lab::batch::Control,
) -> Result<scenario_lab::batch::BatchOutcome, scenario_lab::batch::BatchError> {
    let (cfg, text) = batch_config(store);
    let clock = llm.clock.clone();
    let client = scenario_lab::llm::Client::new(
        llm,
        &clock,
        fake_endpoints(),
        scenario_lab::pricing::PriceBook::new(&cfg.prices),
        scenario_lab::llm::RetryPolicy::default(),
    )
    .with_max_in_flight(64);
    drive(
        &clock,
        scenario_lab::batch::run_batch(store, &client, &clock, &cfg, &text, opts, control),
    )
}
