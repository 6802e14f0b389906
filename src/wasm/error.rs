//! The only place where Rust errors become JavaScript values: `Error` objects with a stable
//! `kind` (`config_invalid`, `usage`, `refused`, `storage`, `internal`) and the `exitCode` of
//! that kind ([`ErrorKind::exit_code`], the one table), so hosts map them to exit statuses and
//! UI states without parsing messages.

use wasm_bindgen::JsValue;

use crate::config::ConfigErrors;
use crate::error::{ErrorKind, HasKind};

fn error(kind: ErrorKind, message: &str) -> js_sys::Error {
    let e = js_sys::Error::new(message);
    let set = |key: &str, value: JsValue| js_sys::Reflect::set(&e, &JsValue::from_str(key), &value);
    let _ = set("kind", JsValue::from_str(kind.as_str()));
    let _ = set("exitCode", JsValue::from(kind.exit_code()));
    e
}

/// A core error, with its own kind.
pub fn of<E: HasKind>(e: &E) -> JsValue {
    error(e.kind(), &e.to_string()).into()
}

/// An input with errors: the message lists them; `diagnostics` holds every one.
pub fn config_invalid(errors: &ConfigErrors) -> JsValue {
    let e = error(ErrorKind::ConfigInvalid, &errors.to_string());
    if let Ok(list) = super::convert::export(&errors.diagnostics) {
        let _ = js_sys::Reflect::set(&e, &JsValue::from_str("diagnostics"), &list);
    }
    e.into()
}

/// A request that cannot be carried out as given (a bad flag value, a folder that is not a run).
pub fn usage(message: &str) -> JsValue {
    error(ErrorKind::Usage, message).into()
}

/// A size that needs confirming: an invalid config (exit 2) unless confirmed, marked
/// `needsConfirmation` so that a host on a terminal asks and tries again with `yes`.
pub fn needs_confirming(message: &str) -> JsValue {
    let e = error(ErrorKind::ConfigInvalid, message);
    let _ = js_sys::Reflect::set(&e, &JsValue::from_str("needsConfirmation"), &JsValue::TRUE);
    e.into()
}

/// The host's storage failed.
pub fn storage(message: &str) -> JsValue {
    error(ErrorKind::Storage, message).into()
}

/// Something that should not happen (a bug, or a bad argument from the caller).
pub fn internal(message: &str) -> JsValue {
    error(ErrorKind::Internal, message).into()
}
