//! Values across the boundary: `import` brings JS values in, `export` sends Rust values out,
//! both as plain JSON-compatible objects.
//!
//! Both go through JSON text (`serde_json` on our side, the engine's `JSON` on theirs) rather
//! than serde-wasm-bindgen: the core needs serde_json anyway for its files, and a second
//! serialiser cost about 45 KB of wasm for no gain.

use serde::{de::DeserializeOwned, Serialize};
use wasm_bindgen::JsValue;

use super::error::internal;

/// A Rust value as a plain JS object.
pub fn export<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    let text = serde_json::to_string(value)
        .map_err(|e| internal(&format!("could not convert a result for JavaScript: {e}")))?;
    js_sys::JSON::parse(&text)
}

/// A JS value as a Rust value.
pub fn import<T: DeserializeOwned>(value: JsValue) -> Result<T, JsValue> {
    let text: String = js_sys::JSON::stringify(&value)?.into();
    serde_json::from_str(&text).map_err(|e| internal(&format!("unexpected argument: {e}")))
}

/// `options[name]` when it is a string.
pub fn string_field(options: &JsValue, name: &str) -> Option<String> {
    if !options.is_object() {
        return None;
    }
    js_sys::Reflect::get(options, &JsValue::from_str(name))
        .ok()
        .and_then(|v| v.as_string())
}

/// `options[name]` when it is a boolean.
pub fn bool_field(options: &JsValue, name: &str) -> Option<bool> {
    if !options.is_object() {
        return None;
    }
    js_sys::Reflect::get(options, &JsValue::from_str(name))
        .ok()
        .and_then(|v| v.as_bool())
}
