//! The host traits: the only way the core touches the world.
//!
//! The core decides; a host does. Storage, the network and time are traits so that the native
//! tests drive the core with an in-memory store, a scripted LLM and a virtual clock (thousands of
//! runs in milliseconds, no ports, no sleeps), while the wasm binding implements the same traits
//! over Node's `fs`, the browser's OPFS, `fetch` and `setTimeout`.
//!
//! The traits use `async fn` and are used through generics, never `dyn`: the core runs on one
//! thread (wasm has none), so nothing here needs `Send`.
#![allow(async_fn_in_trait)]

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;

/// Why a storage operation failed. The message is the host's own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageError {
    /// The path the operation was about.
    pub path: String,
    /// What the host said went wrong.
    pub message: String,
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl std::error::Error for StorageError {}

/// Files by `/`-separated path. A relative path is relative to the host's root (the CLI's
/// working directory, the page's origin-private folder); an absolute path is the host's to
/// accept or refuse.
pub trait Storage {
    /// The text of a file, or `None` when there is no such file.
    async fn read(&self, path: &str) -> Result<Option<String>, StorageError>;
    /// Replaces a file as a whole, atomically: a reader sees the old text or the new, never a mix.
    async fn write(&self, path: &str, text: &str) -> Result<(), StorageError>;
    /// Appends to a file, creating it when missing.
    async fn append(&self, path: &str, text: &str) -> Result<(), StorageError>;
    /// The names (not paths) of the entries of a folder, sorted; `None` when it does not exist.
    async fn list(&self, dir: &str) -> Result<Option<Vec<String>>, StorageError>;
    /// Whether a file or folder exists at this path.
    async fn exists(&self, path: &str) -> Result<bool, StorageError>;
    /// Deletes a file (nothing happens when there is none).
    async fn remove(&self, path: &str) -> Result<(), StorageError>;
}

/// A file's bytes as text, for hosts whose storage reads bytes. Text that is not UTF-8 is an
/// error naming the first bad byte, its offset and its line and column, rather than being
/// silently mended with `�` (a name that changes on the way in cannot be found again).
pub fn text_from_bytes(bytes: Vec<u8>) -> Result<String, String> {
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let before = &bytes[..offset];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&before[line_start..])
            .chars()
            .count()
            + 1;
        format!(
            "not UTF-8 text: the byte 0x{:02X} at offset {offset} (line {line}, column {column}) \
             is not valid UTF-8; save the file as UTF-8",
            bytes[offset]
        )
    })
}

/// A [`Storage`] held in memory: the native tests' store, and the page's scratch space.
#[derive(Debug, Default)]
pub struct MemoryStorage {
    files: RefCell<BTreeMap<String, String>>,
}

impl MemoryStorage {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store holding these files, keyed by normalised path.
    pub fn with_files<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let store = Self::new();
        for (path, text) in files {
            store.insert(path, text);
        }
        store
    }

    /// The quick-start scenario (`scenarios/quick-negotiation`: actors `council` and
    /// `swiftride`) under `s/`: the unit tests' valid scenario. Tests add their batch configs.
    #[cfg(test)]
    pub(crate) fn quick_negotiation() -> Self {
        Self::with_files([
            (
                "s/scenario.yaml",
                include_str!("../scenarios/quick-negotiation/scenario.yaml"),
            ),
            (
                "s/actors/council.yaml",
                include_str!("../scenarios/quick-negotiation/actors/council.yaml"),
            ),
            (
                "s/actors/swiftride.yaml",
                include_str!("../scenarios/quick-negotiation/actors/swiftride.yaml"),
            ),
        ])
    }

    /// Puts a file in place at once (for setting up tests).
    pub fn insert(&self, path: &str, text: &str) {
        self.files
            .borrow_mut()
            .insert(crate::paths::normalize(path), text.to_string());
    }

    /// Every path held, sorted.
    pub fn paths(&self) -> Vec<String> {
        self.files.borrow().keys().cloned().collect()
    }
}

impl Storage for MemoryStorage {
    async fn read(&self, path: &str) -> Result<Option<String>, StorageError> {
        Ok(self
            .files
            .borrow()
            .get(&crate::paths::normalize(path))
            .cloned())
    }

    async fn write(&self, path: &str, text: &str) -> Result<(), StorageError> {
        self.insert(path, text);
        Ok(())
    }

    async fn append(&self, path: &str, text: &str) -> Result<(), StorageError> {
        let mut files = self.files.borrow_mut();
        files
            .entry(crate::paths::normalize(path))
            .or_default()
            .push_str(text);
        Ok(())
    }

    async fn list(&self, dir: &str) -> Result<Option<Vec<String>>, StorageError> {
        let dir = crate::paths::normalize(dir);
        let prefix = if dir.is_empty() || dir == "." {
            String::new()
        } else {
            format!("{dir}/")
        };
        let files = self.files.borrow();
        let mut names: Vec<String> = files
            .keys()
            .filter_map(|p| p.strip_prefix(&prefix))
            .map(|rest| rest.split('/').next().unwrap_or(rest).to_string())
            .collect();
        names.dedup();
        Ok(if names.is_empty() { None } else { Some(names) })
    }

    async fn exists(&self, path: &str) -> Result<bool, StorageError> {
        let path = crate::paths::normalize(path);
        let files = self.files.borrow();
        let prefix = format!("{path}/");
        Ok(files.contains_key(&path) || files.keys().any(|p| p.starts_with(&prefix)))
    }

    async fn remove(&self, path: &str) -> Result<(), StorageError> {
        self.files
            .borrow_mut()
            .remove(&crate::paths::normalize(path));
        Ok(())
    }
}

/// One chat message of an OpenAI-compatible request.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ChatMessage {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// The text.
    pub content: String,
}

/// One OpenAI-compatible chat-completions request, as sent.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ChatRequest {
    /// The provider's model id (routing prefixes such as `ollama/` already stripped).
    pub model: String,
    /// The conversation.
    pub messages: Vec<ChatMessage>,
    /// Sampling temperature, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// The most completion tokens the provider may produce (and bill), when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// The same cap under OpenAI's newer name (its API only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u32>,
    /// A sampling seed, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Nucleus sampling, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Mark the end of the system message as a prompt-cache breakpoint (Anthropic's
    /// `cache_control`, which OpenRouter passes on): set for Anthropic models only, since
    /// other servers may refuse a message whose content is a list. See [`ChatRequest::body`].
    #[serde(skip)]
    pub cache_breakpoint: bool,
}

impl ChatRequest {
    /// The request as sent: its JSON, with the system message's content as one text part
    /// carrying `cache_control: {type: ephemeral}` when [`ChatRequest::cache_breakpoint`] is set.
    pub fn body(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if self.cache_breakpoint {
            if let Some(messages) = v.get_mut("messages").and_then(|m| m.as_array_mut()) {
                if let Some(system) = messages.iter_mut().find(|m| m["role"] == "system") {
                    let text = system["content"].take();
                    system["content"] = serde_json::json!([
                        {"type": "text", "text": text, "cache_control": {"type": "ephemeral"}}
                    ]);
                }
            }
        }
        v
    }
}

/// Token counts and the provider's bill for one call.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Usage {
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Completion tokens.
    pub completion_tokens: u64,
    /// Of the prompt tokens, those served from the provider's prefix cache
    /// (`prompt_tokens_details.cached_tokens`, Anthropic's `cache_read_input_tokens`).
    #[serde(default)]
    pub cached_tokens: u64,
    /// Of the prompt tokens, those written to the cache (Anthropic's
    /// `cache_creation_input_tokens`, OpenRouter's `cache_write_tokens`).
    #[serde(default)]
    pub cache_write_tokens: u64,
    /// What the provider says it billed, in USD (OpenRouter's `usage.cost`), when it says.
    pub cost: Option<f64>,
}

/// A chat-completions response, reduced to what the core reads.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatResponse {
    /// `choices[0].message.content`.
    pub content: String,
    /// `usage`, when present.
    pub usage: Option<Usage>,
    /// The provider's id of this generation, when present.
    pub generation_id: Option<String>,
    /// `choices[0].finish_reason` (`length`: cut at the cap), when present.
    pub finish_reason: Option<String>,
}

/// Why one request failed, typed so that retries and rate limits can be decided by the core.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum LlmError {
    /// The server answered with an error status. `retry_after` is its `Retry-After`, in seconds.
    Status {
        /// The HTTP status.
        status: u16,
        /// The response body (never holds the API key: the key is only in our request).
        body: String,
        /// `Retry-After`, in seconds, when given.
        retry_after: Option<f64>,
    },
    /// No answer within the per-call time limit.
    Timeout,
    /// The connection failed or was dropped.
    Network(String),
    /// A 2xx answer that is not a chat completion.
    InvalidResponse(String),
}

/// How a request to a provider's API proves who sends it. The host holds the key and puts it
/// in the header named here, and only for a URL under the base URL the key belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// `Authorization: Bearer <key>` (OpenAI, OpenRouter and most servers).
    Bearer,
    /// `x-api-key: <key>` with `anthropic-version: 2023-06-01` (Anthropic's own API).
    Anthropic,
}

/// The body of an [`ApiRequest`].
#[derive(Debug, Clone, PartialEq)]
pub enum ApiBody {
    /// No body (a `GET`).
    None,
    /// A JSON text.
    Json(String),
    /// A file upload (`multipart/form-data` with a `purpose` field and a `file` part), as
    /// OpenAI's `POST /files` takes a batch's JSONL.
    Upload {
        /// The `purpose` field (`batch`).
        purpose: String,
        /// The file's name.
        file_name: String,
        /// The file's text.
        text: String,
    },
}

/// One request to a provider's API beyond chat completions: its batch endpoints.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiRequest {
    /// `GET`, `POST` or `DELETE`.
    pub method: &'static str,
    /// The full URL.
    pub url: String,
    /// How the key is sent.
    pub auth: Auth,
    /// The body.
    pub body: ApiBody,
}

/// A provider's answer: its status and its body text, whatever the status.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiResponse {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: String,
}

/// What a person playing an actor is asked: exactly the messages a model in the seat would be
/// sent, and which call of the run it is (to head the question with).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct PersonPrompt {
    /// The call's identity in its run (`t3/decision/council`).
    pub key: String,
    /// The actor's short name.
    pub actor: Option<String>,
    /// The turn.
    pub turn: u32,
    /// What the call is for: `actor` (a decision) or `communication`.
    pub role: crate::plan::Role,
    /// The conversation a model would get.
    pub messages: Vec<ChatMessage>,
}

/// The network: chat-completions requests, and the other requests of providers' batch APIs;
/// and the person at the host, for a seat a person plays.
pub trait Llm {
    /// Sends one request to `base_url` (`{base_url}/chat/completions`) and waits for its answer.
    async fn complete(
        &self,
        base_url: &str,
        request: &ChatRequest,
    ) -> Result<ChatResponse, LlmError>;

    /// Sends `request` (a URL under `base_url`, which says which key to send) and returns the
    /// answer whatever its status; `Err` only when no answer came. A transport that reaches no
    /// batch API answers 404, as a server without one does: batch mode then runs realtime.
    async fn send(&self, base_url: &str, request: &ApiRequest) -> Result<ApiResponse, LlmError> {
        let _ = (base_url, request);
        Ok(ApiResponse {
            status: 404,
            body: String::new(),
        })
    }

    /// Shows a person `prompt` and waits for their reply, for as long as they take: a person
    /// thinking is not a server that hung, so no time limit applies. `Err` says why no reply
    /// will come (no one to ask here, the person gave up). A host with no person answers `Err`.
    async fn ask_person(&self, prompt: &PersonPrompt) -> Result<String, String> {
        let _ = prompt;
        Err("this host has no way to ask a person".into())
    }
}

/// Time: milliseconds since some fixed origin, and a way to wait.
pub trait Clock {
    /// Milliseconds since the clock's origin; never goes backwards.
    fn now_ms(&self) -> f64;
    /// Resolves after `ms` milliseconds of this clock's time.
    async fn sleep(&self, ms: f64);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_that_are_not_utf8_are_an_error_at_their_offset() {
        let bytes = b"name: ok\nrole: caf\xc3\xa9 \xff x\n".to_vec();
        let err = text_from_bytes(bytes).unwrap_err();
        assert!(
            err.contains("0xFF at offset 21 (line 2, column 12)"),
            "{err}"
        );
        assert_eq!(text_from_bytes("é".into()).unwrap(), "é");
    }
}
