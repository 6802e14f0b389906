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
        for name in ["read", "write", "append", "list", "exists"] {
            let f = Reflect::get(&object, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED);
            if !f.is_function() {
                return Err(super::error::internal(&format!(
                    "the storage object has no `{name}` method (expected read, write, append, list, exists)"
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
    async fn read(&self, path: &str) -> Result<Option<String>, StorageError> {
        Ok(self.call("read", &[path]).await?.as_string())
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
}
