//! Decoding JavaScript options into Rust types and encoding results back.
//! Unknown or mistyped options are an `INVALID_INPUT` error, never silently ignored.

use js_sys::Reflect;
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::AbortSignal;

use crate::Error;

/// Decodes plain data through `JSON.stringify` + serde_json: strict (`deny_unknown_fields` works,
/// unlike field-by-field readers) and small. `skip` names keys holding JS objects read elsewhere.
pub fn decode<T: DeserializeOwned>(value: &JsValue, what: &str, skip: &[&str]) -> Result<T, Error> {
    decode_json(&to_json(value, what, skip)?, what)
}

/// The part of [`decode`] that does not depend on `T` (kept out of its instances).
fn to_json(value: &JsValue, what: &str, skip: &[&str]) -> Result<String, Error> {
    if !value.is_object() || js_sys::Array::is_array(value) {
        return Err(Error::invalid(what, "an options object is required"));
    }
    let copy = js_sys::Object::assign(&js_sys::Object::new(), value.unchecked_ref());
    for key in skip {
        let _ = Reflect::delete_property(&copy, &JsValue::from_str(key));
    }
    let json: String = js_sys::JSON::stringify(&copy)
        .map_err(|_| Error::invalid(what, "must be plain data (no cycles or BigInt)"))?
        .into();
    Ok(json)
}

/// Decodes JSON text, naming the offending option in the error.
pub fn decode_json<T: DeserializeOwned>(json: &str, what: &str) -> Result<T, Error> {
    serde_json::from_str(json).map_err(|e| json_error(e, what))
}

/// A serde_json error as an `INVALID_INPUT` naming the option (kept out of [`decode_json`]'s instances).
fn json_error(e: serde_json::Error, what: &str) -> Error {
    let msg = e.to_string();
    // "unknown field `temprature`, expected one of ..." → name the field the user got wrong.
    let field = msg.split('`').nth(1).filter(|_| msg.starts_with("unknown field") || msg.starts_with("missing field"));
    let field = field.map_or_else(|| what.to_string(), str::to_string);
    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
    Error::InvalidInput { field, message: msg }
}

/// Encodes through serde_json + `JSON.parse`: plain objects and arrays, no Maps.
pub fn encode<T: Serialize>(value: &T) -> JsValue {
    serde_json::to_string(value).map(|s| json_to_js(&s)).unwrap_or(JsValue::NULL)
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
