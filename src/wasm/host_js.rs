//! The host traits implemented over JavaScript: a `Storage` is any JS object with async
//! `read`, `write`, `append`, `list` and `exists` methods (Node's `fs`, OPFS, a `Map`).

use std::cell::RefCell;

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::host::{Storage, StorageError};

/// A JS storage object.
pub struct JsStorage {
    object: JsValue,
    /// The first exception a method threw, reported to the caller after the core finishes
    /// (the core sees it as a `StorageError`).
    failure: RefCell<Option<JsValue>>,
}

impl JsStorage {
    /// Wraps `object`, checking that it has every method.
    pub fn new(object: JsValue) -> Result<Self, JsValue> {
        for name in ["read", "write", "append", "list", "exists", "remove"] {
            let f = Reflect::get(&object, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED);
            if !f.is_function() {
                return Err(super::error::internal(&format!(
                    "the storage object has no `{name}` method (expected read, write, append, list, exists, remove)"
                )));
            }
        }
        Ok(JsStorage {
            object,
            failure: RefCell::new(None),
        })
    }

    /// The first storage failure as a JS error, if any.
    pub fn take_error(&self) -> Result<(), JsValue> {
        match self.failure.borrow_mut().take() {
            Some(e) => {
                let msg = e
                    .dyn_ref::<js_sys::Error>()
                    .map(|e| String::from(e.message()))
                    .or_else(|| e.as_string())
                    .unwrap_or_else(|| "storage failed".into());
                Err(super::error::storage(&msg))
            }
            None => Ok(()),
        }
    }

    async fn call(&self, method: &str, args: &[&str]) -> Result<JsValue, StorageError> {
        let path = args.first().copied().unwrap_or_default().to_string();
        let fail = |e: JsValue| {
            let message = e
                .dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
                .or_else(|| e.as_string())
                .unwrap_or_else(|| format!("{method} failed"));
            self.failure.borrow_mut().get_or_insert(e);
            StorageError {
                path: path.clone(),
                message,
            }
        };
        let f: Function = Reflect::get(&self.object, &JsValue::from_str(method))
            .map_err(fail)?
            .unchecked_into();
        let result = match args {
            [a] => f.call1(&self.object, &JsValue::from_str(a)),
            [a, b] => f.call2(&self.object, &JsValue::from_str(a), &JsValue::from_str(b)),
            _ => f.call0(&self.object),
        }
        .map_err(fail)?;
        let value = if result.is_instance_of::<Promise>() {
            JsFuture::from(result.unchecked_into::<Promise>())
                .await
                .map_err(fail)?
        } else {
            result
        };
        Ok(value)
    }
}

impl Storage for JsStorage {
    /// `read` may answer text or UTF-8 bytes (a `Uint8Array`, such as a Node `Buffer`): bytes
    /// skip building a JS string only to copy it out again, which for the analysis of a large
    /// folder was a third of the time (bench/README.md), and bytes that are not UTF-8 are
    /// refused with their offset instead of being mended with `�` on the way in.
    async fn read(&self, path: &str) -> Result<Option<String>, StorageError> {
        let v = self.call("read", &[path]).await?;
        if let Some(text) = v.as_string() {
            return Ok(Some(text));
        }
        match v.dyn_into::<js_sys::Uint8Array>() {
            Ok(bytes) => crate::host::text_from_bytes(bytes.to_vec())
                .map(Some)
                .map_err(|message| StorageError {
                    path: path.to_string(),
                    message,
                }),
            Err(_) => Ok(None),
        }
    }

    async fn write(&self, path: &str, text: &str) -> Result<(), StorageError> {
        self.call("write", &[path, text]).await.map(|_| ())
    }

    async fn append(&self, path: &str, text: &str) -> Result<(), StorageError> {
        self.call("append", &[path, text]).await.map(|_| ())
    }

    async fn list(&self, dir: &str) -> Result<Option<Vec<String>>, StorageError> {
        let v = self.call("list", &[dir]).await?;
        if v.is_null() || v.is_undefined() {
            return Ok(None);
        }
        let array: js_sys::Array = v.dyn_into().map_err(|_| StorageError {
            path: dir.to_string(),
            message: "list() must return an array of names or null".into(),
        })?;
        Ok(Some(array.iter().filter_map(|n| n.as_string()).collect()))
    }

    async fn exists(&self, path: &str) -> Result<bool, StorageError> {
        Ok(self.call("exists", &[path]).await?.is_truthy())
    }

    async fn remove(&self, path: &str) -> Result<(), StorageError> {
        self.call("remove", &[path]).await.map(|_| ())
    }
}

/// The network: `fetch` through gloo-net (the global `fetch`, so it works in Node 20 and in
/// browsers). Holds the API key, and sends it only to the base URL it belongs to. The person in
/// a seat is the host's `askPerson` function, when it has one.
pub struct FetchLlm {
    /// (base URL, key) pairs.
    keys: Vec<(String, String)>,
    /// `askPerson(prompt) -> Promise<string>`.
    person: Option<Function>,
}

impl FetchLlm {
    /// A transport that sends `key` (when given) to `base` only.
    pub fn new(key: Option<String>, base: &str) -> Self {
        FetchLlm {
            keys: key
                .filter(|k| !k.is_empty())
                .map(|k| vec![(base.trim_end_matches('/').to_string(), k)])
                .unwrap_or_default(),
            person: None,
        }
    }

    /// Asks a person through `ask` (a function, else nobody is asked).
    pub fn with_person(mut self, ask: &JsValue) -> Self {
        self.person = ask.dyn_ref::<Function>().cloned();
        self
    }

    /// Whether there is a person to ask.
    pub fn has_person(&self) -> bool {
        self.person.is_some()
    }
}

/// A thrown JS value's message.
fn message_of(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "the host's askPerson failed".into())
}

impl crate::host::Llm for FetchLlm {
    async fn complete(
        &self,
        base_url: &str,
        request: &crate::host::ChatRequest,
    ) -> Result<crate::host::ChatResponse, crate::host::LlmError> {
        use crate::host::LlmError;
        let body = serde_json::to_string(&request.body())
            .map_err(|e| LlmError::InvalidResponse(e.to_string()))?;
        // Aborted when this future is dropped before the answer is read: a call abandoned at
        // its time limit, or by a run past `timeout_per_run`, must not go on at the server
        // (holding a slot there, and being billed) with nobody to record it.
        let controller = web_sys::AbortController::new()
            .map_err(|_| LlmError::Network("AbortController is not available".into()))?;
        let mut abort = AbortOnDrop(Some(controller.clone()));
        let mut req = gloo_net::http::Request::post(&format!("{base_url}/chat/completions"))
            .abort_signal(Some(&controller.signal()))
            .header("Content-Type", "application/json");
        if let Some((_, key)) = self.keys.iter().find(|(b, _)| b == base_url) {
            req = req.header("Authorization", &format!("Bearer {key}"));
        }
        if base_url == crate::llm::route::OPENROUTER_BASE {
            // OpenRouter's app attribution headers.
            req = req
                .header("HTTP-Referer", "https://www.npmjs.com/package/scenario-lab")
                .header("X-Title", "Scenario Lab");
        }
        let resp = req
            .body(body)
            .map_err(|e| LlmError::Network(e.to_string()))?
            .send()
            .await
            .map_err(|e| LlmError::Network(e.to_string()))?;
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.trim().parse::<f64>().ok());
        let text = resp
            .text()
            .await
            .map_err(|e| LlmError::Network(e.to_string()))?;
        abort.0 = None;
        if (200..300).contains(&status) {
            crate::llm::parse_completion(&text)
        } else {
            Err(LlmError::Status {
                status,
                body: text.chars().take(2000).collect(),
                retry_after,
            })
        }
    }

    async fn send(
        &self,
        base_url: &str,
        request: &crate::host::ApiRequest,
    ) -> Result<crate::host::ApiResponse, crate::host::LlmError> {
        self.send_api(base_url, request).await
    }

    async fn ask_person(&self, prompt: &crate::host::PersonPrompt) -> Result<String, String> {
        let ask = self
            .person
            .as_ref()
            .ok_or("this host has no way to ask a person")?;
        let text = serde_json::to_string(prompt).map_err(|e| e.to_string())?;
        let arg = js_sys::JSON::parse(&text).map_err(|e| message_of(&e))?;
        let result = ask
            .call1(&JsValue::NULL, &arg)
            .map_err(|e| message_of(&e))?;
        let reply = match result.dyn_into::<Promise>() {
            Ok(p) => JsFuture::from(p).await.map_err(|e| message_of(&e))?,
            Err(v) => v,
        };
        reply
            .as_string()
            .ok_or_else(|| "askPerson must resolve to the reply's text".into())
    }
}

impl FetchLlm {
    /// The key for a URL: only one under the base URL the key belongs to.
    fn key_for(&self, base_url: &str, url: &str) -> Option<&str> {
        self.keys
            .iter()
            .find(|(b, _)| b == base_url && (url == b || url.starts_with(&format!("{b}/"))))
            .map(|(_, k)| k.as_str())
    }

    /// Sends a batch-API request (see [`crate::host::Llm::send`]).
    async fn send_api(
        &self,
        base_url: &str,
        request: &crate::host::ApiRequest,
    ) -> Result<crate::host::ApiResponse, crate::host::LlmError> {
        use crate::host::{ApiBody, Auth, LlmError};
        use gloo_net::http::Request;
        let net = |e: gloo_net::Error| LlmError::Network(e.to_string());
        let mut req = match request.method {
            "GET" => Request::get(&request.url),
            "DELETE" => Request::delete(&request.url),
            _ => Request::post(&request.url),
        };
        if let Some(key) = self.key_for(base_url, &request.url) {
            req = match request.auth {
                Auth::Bearer => req.header("Authorization", &format!("Bearer {key}")),
                Auth::Anthropic => req.header("x-api-key", key),
            };
        }
        if request.auth == Auth::Anthropic {
            req = req.header("anthropic-version", "2023-06-01");
        }
        let resp = match &request.body {
            ApiBody::None => req.send().await.map_err(net)?,
            ApiBody::Json(text) => req
                .header("Content-Type", "application/json")
                .body(text.as_str())
                .map_err(net)?
                .send()
                .await
                .map_err(net)?,
            ApiBody::Upload {
                purpose,
                file_name,
                text,
            } => {
                let form = web_sys::FormData::new()
                    .map_err(|_| LlmError::Network("FormData is not available".into()))?;
                let parts = js_sys::Array::of1(&JsValue::from_str(text));
                let options = web_sys::BlobPropertyBag::new();
                options.set_type("application/jsonl");
                let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)
                    .map_err(|_| LlmError::Network("Blob is not available".into()))?;
                form.append_with_str("purpose", purpose)
                    .and_then(|_| form.append_with_blob_and_filename("file", &blob, file_name))
                    .map_err(|_| LlmError::Network("could not build the upload".into()))?;
                req.body(form).map_err(net)?.send().await.map_err(net)?
            }
        };
        let status = resp.status();
        let body = resp.text().await.map_err(net)?;
        Ok(crate::host::ApiResponse { status, body })
    }
}

/// Aborts a request when dropped, unless its answer was read.
struct AbortOnDrop(Option<web_sys::AbortController>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(c) = self.0.take() {
            c.abort();
        }
    }
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    #[wasm_bindgen::prelude::wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(f: &Function, ms: f64) -> JsValue;
    #[wasm_bindgen::prelude::wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
}

/// A `setTimeout` as a future. Dropping it clears the timer and settles its promise at once:
/// a per-call time limit races a sleep against the request, and the losing sleep must neither
/// keep Node's event loop alive nor leave its promise pending, because a `JsFuture` frees its
/// callbacks only when its promise settles (bench/README.md measured the leak: 16 closures a run).
struct Sleep {
    promise: JsFuture,
    id: JsValue,
    resolve: Function,
}

impl std::future::Future for Sleep {
    type Output = ();
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        std::pin::Pin::new(&mut self.promise).poll(cx).map(|_| ())
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        clear_timeout(&self.id);
        let _ = self.resolve.call0(&JsValue::UNDEFINED);
    }
}

/// Time: `Date.now()` and `setTimeout`, both globals in Node and browsers.
pub struct JsClock;

impl crate::host::Clock for JsClock {
    fn now_ms(&self) -> f64 {
        js_sys::Date::now()
    }

    async fn sleep(&self, ms: f64) {
        let mut id = JsValue::UNDEFINED;
        let mut resolver = None;
        let p = Promise::new(&mut |resolve, _| {
            id = set_timeout(&resolve, ms.max(0.0));
            resolver = Some(resolve);
        });
        Sleep {
            promise: JsFuture::from(p),
            id,
            // The executor runs at once, so the resolver is always there.
            resolve: resolver.unwrap_or_else(|| Function::new_no_args("")),
        }
        .await
    }
}

/// A batch's events and stop requests, over the host's `onEvent` and `shouldStop` functions.
pub struct JsControl {
    on_event: Option<Function>,
    should_stop: Option<Function>,
}

impl JsControl {
    /// Reads `onEvent` and `shouldStop` from `options`.
    pub fn new(options: &JsValue) -> Self {
        let f = |name: &str| {
            Reflect::get(options, &JsValue::from_str(name))
                .ok()
                .and_then(|v| v.dyn_into::<Function>().ok())
        };
        JsControl {
            on_event: f("onEvent"),
            should_stop: f("shouldStop"),
        }
    }
}

impl crate::batch::Control for JsControl {
    fn emit(&self, event: crate::schema::BatchEvent) {
        if let Some(f) = &self.on_event {
            let text = serde_json::to_string(&event).unwrap_or_default();
            if let Ok(v) = js_sys::JSON::parse(&text) {
                // An exception in the host's handler must not stop the batch.
                let _ = f.call1(&JsValue::NULL, &v);
            }
        }
    }

    fn stop_requested(&self) -> bool {
        self.should_stop
            .as_ref()
            .is_some_and(|f| f.call0(&JsValue::NULL).is_ok_and(|v| v.is_truthy()))
    }
}
