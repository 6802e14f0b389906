//! Providers' batch APIs: many chat requests as one job, billed at about half the realtime
//! price and answered within a day.
//!
//! Three protocols, chosen by where a model's requests go ([`Protocol::for_route`]):
//! - **OpenAI's**, which OpenAI-compatible servers copy: the requests as a JSONL file uploaded
//!   to `POST {base}/files`, a job made by `POST {base}/batches`, polled at
//!   `GET {base}/batches/{id}`, answered in the files `output_file_id` and `error_file_id`.
//! - **Anthropic's Message Batches**: `POST {base}/messages/batches` with the requests inline,
//!   polled at `GET {base}/messages/batches/{id}`, answered at its `results_url` (JSONL).
//! - **OpenRouter's**: `POST {base}/batches` with `endpoint`, `model` and the requests inline
//!   (in that key order: it stream-parses the body), polled at `GET {base}/batches/{id}`,
//!   answered at `GET {base}/batches/{id}/results` in cursor pages.
//!
//! A job holds one model's requests (OpenAI and OpenRouter take one model a job). This module
//! builds the requests and reads the answers, and nothing else: the I/O is the host's
//! ([`Llm::send`]); when to submit, poll, resubmit and give up is `lockstep`'s.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::client::parse_completion;
use super::route::{Provider, Route};
use crate::host::{ApiBody, ApiRequest, Auth, ChatRequest, ChatResponse, Llm, Usage};

/// A provider's batch protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// OpenAI's files and batches (and any server that copies them).
    Openai,
    /// Anthropic's Message Batches.
    Anthropic,
    /// OpenRouter's batches.
    Openrouter,
}

impl Protocol {
    /// The batch protocol of the server a route goes to; `None` for the built-in simulator and
    /// local servers (llama.cpp and Ollama have no batch API). A custom base URL on
    /// `api.anthropic.com`, or with an `/anthropic/` path segment, speaks Anthropic's; one that
    /// names `openrouter` speaks OpenRouter's; any other is tried with OpenAI's, and runs
    /// realtime when it answers 404.
    pub fn for_route(r: &Route) -> Option<Protocol> {
        match r.provider {
            Provider::Builtin | Provider::Local | Provider::Human => None,
            Provider::Openrouter => Some(Protocol::Openrouter),
            Provider::Custom => {
                let url = r.base_url.to_ascii_lowercase();
                if url.contains("api.anthropic.com") || url.contains("/anthropic/") {
                    Some(Protocol::Anthropic)
                } else if url.contains("openrouter") {
                    Some(Protocol::Openrouter)
                } else {
                    Some(Protocol::Openai)
                }
            }
        }
    }

    /// Its name in files and messages.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Openai => "openai",
            Protocol::Anthropic => "anthropic",
            Protocol::Openrouter => "openrouter",
        }
    }

    fn auth(self) -> Auth {
        match self {
            Protocol::Anthropic => Auth::Anthropic,
            _ => Auth::Bearer,
        }
    }
}

/// Why a batch request failed.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// The server has no batch API (404, 405 or 501 where one would be).
    Unsupported(String),
    /// The server refused the request for good (another 4xx), in its words.
    Refused(u16, String),
    /// Worth trying again: 408, 429, 5xx, a network failure or an unreadable answer.
    Transient(String),
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Unsupported(m) => write!(f, "no batch API: {m}"),
            ApiError::Refused(s, m) => write!(f, "HTTP {s}: {m}"),
            ApiError::Transient(m) => f.write_str(m),
        }
    }
}

/// Where a job stands.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JobStatus {
    /// The provider's word for it (`in_progress`, `completed`, `ended`, `expired`, ...).
    pub status: String,
    /// Whether it is over (its results, if any, can be read).
    pub ended: bool,
    /// Requests in it.
    pub total: u64,
    /// Requests answered.
    pub succeeded: u64,
    /// Requests that failed, expired or were cancelled.
    pub failed: u64,
    /// Where its answers are: the files (OpenAI) or URLs (Anthropic, OpenRouter) to read.
    pub outputs: Vec<String>,
}

/// The answer to one request of a job.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemResult {
    /// Answered.
    Answer(ChatResponse),
    /// Not answered (an error, an expiry, a cancellation), in the provider's words.
    Failed(String),
}

/// One request of a job.
#[derive(Debug, Clone)]
pub struct JobItem {
    /// Its id in the job (`^[a-zA-Z0-9_-]{1,64}$`, as Anthropic requires).
    pub custom_id: String,
    /// The request.
    pub request: ChatRequest,
}

fn url(base: &str, path: &str) -> String {
    format!("{}{path}", base.trim_end_matches('/'))
}

fn error_message(body: &str) -> String {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    v.pointer("/error/message")
        .or_else(|| v.pointer("/error/error/message"))
        .or_else(|| v.get("message"))
        .and_then(|m| m.as_str())
        .map(str::to_string)
        .unwrap_or_else(|| body.chars().take(200).collect())
}

async fn send<L: Llm>(
    llm: &L,
    base: &str,
    protocol: Protocol,
    method: &'static str,
    url: String,
    body: ApiBody,
) -> Result<Value, ApiError> {
    let request = ApiRequest {
        method,
        url,
        auth: protocol.auth(),
        body,
    };
    let answer = llm
        .send(base, &request)
        .await
        .map_err(|e| ApiError::Transient(format!("{e:?}")))?;
    match answer.status {
        200..=299 => serde_json::from_str(&answer.body)
            .or_else(|_| {
                // A JSONL body (a results file) is returned as one string.
                Ok::<Value, serde_json::Error>(Value::String(answer.body.clone()))
            })
            .map_err(|e| ApiError::Transient(e.to_string())),
        404 | 405 | 501 => Err(ApiError::Unsupported(format!(
            "{method} {} answered {}",
            request.url, answer.status
        ))),
        408 | 429 | 500..=599 => Err(ApiError::Transient(format!(
            "HTTP {}: {}",
            answer.status,
            error_message(&answer.body)
        ))),
        s => Err(ApiError::Refused(s, error_message(&answer.body))),
    }
}

/// Anthropic's Messages parameters for a chat request: the system messages as `system` (one
/// text block, marked as a cache breakpoint when the request asks for one), the others as
/// `messages`.
fn anthropic_params(r: &ChatRequest) -> Value {
    let system: Vec<&str> = r
        .messages
        .iter()
        .filter(|m| m.role == "system")
        .map(|m| m.content.as_str())
        .collect();
    let messages: Vec<Value> = r
        .messages
        .iter()
        .filter(|m| m.role != "system")
        .map(|m| json!({"role": m.role, "content": m.content}))
        .collect();
    let mut p = json!({
        "model": r.model,
        "max_tokens": r.max_tokens.or(r.max_completion_tokens).unwrap_or(1024),
        "messages": messages,
    });
    if !system.is_empty() {
        let mut block = json!({"type": "text", "text": system.join("\n\n")});
        if r.cache_breakpoint {
            block["cache_control"] = json!({"type": "ephemeral"});
        }
        p["system"] = json!([block]);
    }
    if let Some(t) = r.temperature {
        p["temperature"] = json!(t);
    }
    if let Some(t) = r.top_p {
        p["top_p"] = json!(t);
    }
    p
}

/// Submits one job of `items` (all for `model`); returns its id.
pub async fn submit<L: Llm>(
    llm: &L,
    base: &str,
    protocol: Protocol,
    model: &str,
    items: &[JobItem],
) -> Result<String, ApiError> {
    let job = match protocol {
        Protocol::Openai => {
            let mut text = String::new();
            for i in items {
                let line = json!({
                    "custom_id": i.custom_id,
                    "method": "POST",
                    "url": "/v1/chat/completions",
                    "body": i.request.body(),
                });
                text.push_str(&line.to_string());
                text.push('\n');
            }
            let file = send(
                llm,
                base,
                protocol,
                "POST",
                url(base, "/files"),
                ApiBody::Upload {
                    purpose: "batch".into(),
                    file_name: "scenario-lab-batch.jsonl".into(),
                    text,
                },
            )
            .await?;
            let file_id = file["id"]
                .as_str()
                .ok_or_else(|| ApiError::Transient("the uploaded file has no id".into()))?;
            send(
                llm,
                base,
                protocol,
                "POST",
                url(base, "/batches"),
                ApiBody::Json(
                    json!({
                        "input_file_id": file_id,
                        "endpoint": "/v1/chat/completions",
                        "completion_window": "24h",
                    })
                    .to_string(),
                ),
            )
            .await?
        }
        Protocol::Anthropic => {
            let requests: Vec<Value> = items
                .iter()
                .map(|i| json!({"custom_id": i.custom_id, "params": anthropic_params(&i.request)}))
                .collect();
            send(
                llm,
                base,
                protocol,
                "POST",
                url(base, "/messages/batches"),
                ApiBody::Json(json!({ "requests": requests }).to_string()),
            )
            .await?
        }
        Protocol::Openrouter => {
            let requests: Vec<Value> = items
                .iter()
                .map(|i| json!({"custom_id": i.custom_id, "body": i.request.body()}))
                .collect();
            // `endpoint` and `model` before `requests`: OpenRouter stream-parses the body.
            let body = format!(
                r#"{{"endpoint":"/v1/chat/completions","model":{},"requests":{}}}"#,
                Value::String(model.to_string()),
                Value::Array(requests)
            );
            send(
                llm,
                base,
                protocol,
                "POST",
                url(base, "/batches"),
                ApiBody::Json(body),
            )
            .await?
        }
    };
    job["id"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| ApiError::Transient("the new job has no id".into()))
}

/// Where job `id` stands.
pub async fn status<L: Llm>(
    llm: &L,
    base: &str,
    protocol: Protocol,
    id: &str,
) -> Result<JobStatus, ApiError> {
    let path = match protocol {
        Protocol::Anthropic => format!("/messages/batches/{id}"),
        _ => format!("/batches/{id}"),
    };
    let v = send(llm, base, protocol, "GET", url(base, &path), ApiBody::None).await?;
    let n = |p: &str| v.pointer(p).and_then(|x| x.as_u64()).unwrap_or(0);
    let word = |k: &str| v[k].as_str().unwrap_or_default().to_string();
    Ok(match protocol {
        // The same batch object; OpenAI's answers are in files, OpenRouter's in result pages.
        Protocol::Openai | Protocol::Openrouter => {
            let status = word("status");
            let ended = matches!(
                status.as_str(),
                "completed" | "failed" | "expired" | "cancelled"
            );
            let outputs = match protocol {
                Protocol::Openai => ["output_file_id", "error_file_id"]
                    .iter()
                    .filter_map(|k| v[*k].as_str())
                    .map(|f| url(base, &format!("/files/{f}/content")))
                    .collect(),
                _ if ended => vec![url(base, &format!("/batches/{id}/results"))],
                _ => Vec::new(),
            };
            JobStatus {
                ended,
                total: n("/request_counts/total"),
                succeeded: n("/request_counts/completed"),
                failed: n("/request_counts/failed"),
                outputs,
                status,
            }
        }
        Protocol::Anthropic => {
            let status = word("processing_status");
            let counts = ["succeeded", "errored", "canceled", "expired", "processing"]
                .map(|k| n(&format!("/request_counts/{k}")));
            JobStatus {
                ended: status == "ended",
                total: counts.iter().sum(),
                succeeded: counts[0],
                failed: counts[1] + counts[2] + counts[3],
                outputs: v["results_url"]
                    .as_str()
                    .map(str::to_string)
                    .into_iter()
                    .collect(),
                status,
            }
        }
    })
}

/// Asks the provider to cancel job `id` (its finished requests stay answered).
pub async fn cancel<L: Llm>(
    llm: &L,
    base: &str,
    protocol: Protocol,
    id: &str,
) -> Result<(), ApiError> {
    let path = match protocol {
        Protocol::Anthropic => format!("/messages/batches/{id}/cancel"),
        _ => format!("/batches/{id}/cancel"),
    };
    send(llm, base, protocol, "POST", url(base, &path), ApiBody::None)
        .await
        .map(|_| ())
}

/// The answers of an ended job, by custom id. A request with no line was not answered.
pub async fn results<L: Llm>(
    llm: &L,
    base: &str,
    protocol: Protocol,
    job: &JobStatus,
) -> Result<Vec<(String, ItemResult)>, ApiError> {
    let mut out = Vec::new();
    for output in &job.outputs {
        match protocol {
            Protocol::Openai | Protocol::Anthropic => {
                let v = send(llm, base, protocol, "GET", output.clone(), ApiBody::None).await?;
                let text = match &v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                for line in text.lines().filter(|l| !l.trim().is_empty()) {
                    if let Some(item) = parse_line(protocol, line) {
                        out.push(item);
                    }
                }
            }
            Protocol::Openrouter => {
                let mut cursor: Option<String> = None;
                loop {
                    let page_url = match &cursor {
                        Some(c) => format!("{output}?cursor={c}"),
                        None => output.clone(),
                    };
                    let v = send(llm, base, protocol, "GET", page_url, ApiBody::None).await?;
                    let rows = v
                        .get("data")
                        .or_else(|| v.get("results"))
                        .and_then(|d| d.as_array())
                        .cloned()
                        .unwrap_or_default();
                    out.extend(rows.iter().filter_map(openai_item));
                    match v["next_cursor"].as_str() {
                        Some(c) if !c.is_empty() && !rows.is_empty() => {
                            cursor = Some(c.to_string())
                        }
                        _ => break,
                    }
                }
            }
        }
    }
    Ok(out)
}

/// One line of a results file.
fn parse_line(protocol: Protocol, line: &str) -> Option<(String, ItemResult)> {
    let v: Value = serde_json::from_str(line).ok()?;
    match protocol {
        Protocol::Anthropic => anthropic_item(&v),
        _ => openai_item(&v),
    }
}

/// An OpenAI- or OpenRouter-shaped result: `{custom_id, response: {status_code, body}, error}`.
fn openai_item(v: &Value) -> Option<(String, ItemResult)> {
    let id = v["custom_id"].as_str()?.to_string();
    let code = v.pointer("/response/status_code").and_then(|c| c.as_u64());
    let result = match (code, v.pointer("/response/body")) {
        (Some(200), Some(body)) if v["error"].is_null() => {
            match parse_completion(&body.to_string()) {
                Ok(r) => ItemResult::Answer(r),
                Err(e) => ItemResult::Failed(format!("{e:?}")),
            }
        }
        (code, body) => {
            let why = v
                .pointer("/error/message")
                .or_else(|| body.and_then(|b| b.pointer("/error/message")))
                .and_then(|m| m.as_str())
                .unwrap_or("no answer");
            ItemResult::Failed(match code {
                Some(c) => format!("HTTP {c}: {why}"),
                None => why.to_string(),
            })
        }
    };
    Some((id, result))
}

/// An Anthropic result: `{custom_id, result: {type: succeeded, message}}` or another type.
fn anthropic_item(v: &Value) -> Option<(String, ItemResult)> {
    let id = v["custom_id"].as_str()?.to_string();
    let r = &v["result"];
    let result = match r["type"].as_str() {
        Some("succeeded") => {
            let m = &r["message"];
            let content: String = m["content"]
                .as_array()
                .map(|parts| {
                    parts
                        .iter()
                        .filter_map(|p| p["text"].as_str())
                        .collect::<Vec<_>>()
                        .join("")
                })
                .unwrap_or_default();
            let u = &m["usage"];
            let n = |k: &str| u[k].as_u64().unwrap_or(0);
            let (read, write) = (
                n("cache_read_input_tokens"),
                n("cache_creation_input_tokens"),
            );
            ItemResult::Answer(ChatResponse {
                content,
                usage: u.is_object().then(|| Usage {
                    prompt_tokens: n("input_tokens") + read + write,
                    completion_tokens: n("output_tokens"),
                    cached_tokens: read,
                    cache_write_tokens: write,
                    cost: None,
                }),
                generation_id: m["id"].as_str().map(str::to_string),
                finish_reason: m["stop_reason"].as_str().map(|s| match s {
                    "max_tokens" => "length".to_string(),
                    _ => "stop".to_string(),
                }),
            })
        }
        Some(other) => ItemResult::Failed(
            r.pointer("/error/error/message")
                .and_then(|m| m.as_str())
                .map_or_else(|| other.to_string(), |m| format!("{other}: {m}")),
        ),
        None => ItemResult::Failed("no result".into()),
    };
    Some((id, result))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::ChatMessage;

    fn request(cache: bool) -> ChatRequest {
        ChatRequest {
            model: "claude-x".into(),
            messages: vec![
                ChatMessage {
                    role: "system".into(),
                    content: "static".into(),
                },
                ChatMessage {
                    role: "user".into(),
                    content: "turn 3".into(),
                },
            ],
            temperature: Some(0.5),
            max_tokens: Some(300),
            max_completion_tokens: None,
            seed: Some(1),
            top_p: None,
            cache_breakpoint: cache,
        }
    }

    #[test]
    fn anthropic_params_put_the_system_apart_with_its_breakpoint() {
        let p = anthropic_params(&request(true));
        assert_eq!(p["system"][0]["text"], "static");
        assert_eq!(p["system"][0]["cache_control"]["type"], "ephemeral");
        assert_eq!(p["messages"].as_array().unwrap().len(), 1);
        assert_eq!(p["max_tokens"], 300);
        assert!(anthropic_params(&request(false))["system"][0]
            .get("cache_control")
            .is_none());
        // The chat body marks the same breakpoint, as OpenRouter takes it.
        let body = request(true).body();
        assert_eq!(
            body["messages"][0]["content"][0]["cache_control"]["type"],
            "ephemeral"
        );
        assert_eq!(request(false).body()["messages"][0]["content"], "static");
    }

    #[test]
    fn result_lines_of_each_protocol() {
        let ok = r#"{"id":"r1","custom_id":"c1","response":{"status_code":200,"body":{"id":"g","choices":[{"message":{"content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":2000,"completion_tokens":5,"prompt_tokens_details":{"cached_tokens":1536}}}},"error":null}"#;
        let (id, r) = parse_line(Protocol::Openai, ok).unwrap();
        assert_eq!(id, "c1");
        let ItemResult::Answer(a) = r else { panic!() };
        assert_eq!(a.usage.unwrap().cached_tokens, 1536);
        let bad = r#"{"id":"r2","custom_id":"c2","response":null,"error":{"code":"batch_expired","message":"expired"}}"#;
        assert_eq!(
            parse_line(Protocol::Openai, bad).unwrap().1,
            ItemResult::Failed("expired".into())
        );
        let anth = r#"{"custom_id":"c3","result":{"type":"succeeded","message":{"id":"m","content":[{"type":"text","text":"yo"}],"stop_reason":"max_tokens","usage":{"input_tokens":10,"output_tokens":7,"cache_read_input_tokens":1200,"cache_creation_input_tokens":30}}}}"#;
        let ItemResult::Answer(a) = parse_line(Protocol::Anthropic, anth).unwrap().1 else {
            panic!()
        };
        assert_eq!(a.finish_reason.as_deref(), Some("length"));
        let u = a.usage.unwrap();
        assert_eq!(
            (u.prompt_tokens, u.cached_tokens, u.cache_write_tokens),
            (1240, 1200, 30)
        );
        let expired = r#"{"custom_id":"c4","result":{"type":"expired"}}"#;
        assert_eq!(
            parse_line(Protocol::Anthropic, expired).unwrap().1,
            ItemResult::Failed("expired".into())
        );
    }
}
