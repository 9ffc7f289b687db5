//! Decoding JavaScript options into Rust types and encoding results back.
//! Unknown or mistyped options are an `INVALID_INPUT` error, never silently ignored.

use js_sys::Reflect;
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::AbortSignal;

use crate::Error;

pub fn decode<T: DeserializeOwned>(value: JsValue, what: &str) -> Result<T, Error> {
    if value.is_undefined() || value.is_null() || !value.is_object() {
        return Err(Error::invalid(what, "an options object is required"));
    }
    serde_wasm_bindgen::from_value(value).map_err(|e| Error::invalid(what, e.to_string()))
}

pub fn encode<T: Serialize>(value: &T) -> JsValue {
    let ser = serde_wasm_bindgen::Serializer::json_compatible();
    value.serialize(&ser).unwrap_or(JsValue::NULL)
}

/// Parses JSON text we produced (already valid) with the engine's own parser: faster than any glue.
pub fn json_to_js(json: &str) -> JsValue {
    js_sys::JSON::parse(json).unwrap_or(JsValue::NULL)
}

pub fn get(obj: &JsValue, key: &str) -> JsValue {
    if obj.is_object() {
        Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

/// Reads `signal` from an options object; anything but an `AbortSignal` is a typed error.
pub fn signal_of(opts: &JsValue) -> Result<Option<AbortSignal>, Error> {
    let s = get(opts, "signal");
    if s.is_undefined() || s.is_null() {
        return Ok(None);
    }
    s.dyn_into::<AbortSignal>().map(Some).map_err(|_| Error::invalid("signal", "must be an AbortSignal"))
}

/// Reads a callback such as `onProgress`.
pub fn callback_of(opts: &JsValue, key: &str) -> Result<Option<js_sys::Function>, Error> {
    let f = get(opts, key);
    if f.is_undefined() || f.is_null() {
        return Ok(None);
    }
    f.dyn_into::<js_sys::Function>().map(Some).map_err(|_| Error::invalid(key, "must be a function"))
}

/// Calls a user callback; an exception thrown by it must not break the run, so it is reported and dropped.
pub fn call(f: &Option<js_sys::Function>, event: &JsValue) {
    if let Some(f) = f {
        if let Err(e) = f.call1(&JsValue::UNDEFINED, event) {
            web_sys::console::error_2(&JsValue::from_str("gemini-roadmap: onProgress threw"), &e);
        }
    }
}
