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

/// An options argument as its Rust type: the defaults when it is absent (not an object).
pub fn options<T: DeserializeOwned + Default>(value: &JsValue) -> Result<T, JsValue> {
    if value.is_object() {
        import(value.clone())
    } else {
        Ok(T::default())
    }
}
