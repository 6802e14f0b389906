//! The only place where Rust errors become JavaScript values: `Error` objects with a stable
//! `kind` (`config_invalid`, `usage`, `refused`, `storage`, `internal`), so hosts map them to exit codes and UI
//! states without parsing messages.

use wasm_bindgen::JsValue;

use crate::config::ConfigErrors;

fn error(kind: &str, message: &str) -> js_sys::Error {
    let e = js_sys::Error::new(message);
    let _ = js_sys::Reflect::set(&e, &JsValue::from_str("kind"), &JsValue::from_str(kind));
    e
}

/// An input with errors: the message lists them; `diagnostics` holds every one.
pub fn config_invalid(errors: &ConfigErrors) -> JsValue {
    let e = error("config_invalid", &errors.to_string());
    if let Ok(list) = super::convert::export(&errors.diagnostics) {
        let _ = js_sys::Reflect::set(&e, &JsValue::from_str("diagnostics"), &list);
    }
    e.into()
}

/// A request that cannot be carried out as given (a bad flag value, a folder that is not a run).
pub fn usage(message: &str) -> JsValue {
    error("usage", message).into()
}

/// A batch that will not start as asked (unknown prices with a budget, a changed config, an
/// output folder that already holds the batch).
pub fn refused(message: &str) -> JsValue {
    error("refused", message).into()
}

/// The host's storage failed.
pub fn storage(message: &str) -> JsValue {
    error("storage", message).into()
}

/// Something that should not happen (a bug, or a bad argument from the caller).
pub fn internal(message: &str) -> JsValue {
    error("internal", message).into()
}
