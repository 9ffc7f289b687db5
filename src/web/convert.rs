//! Decoding JavaScript options into Rust types and encoding results back.
//! Unknown or mistyped options are an `INVALID_INPUT` error, never silently ignored.

use std::cell::Cell;
use std::rc::Rc;

use js_sys::Reflect;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::AbortSignal;

use crate::json::{DecodeError, FromJson, ToJson, Value};
use crate::Error;

/// Decodes plain data through `JSON.stringify` + [`Value`]: strict (an unknown option is an error, which
/// field-by-field readers cannot tell) and small. `skip` names keys holding JS objects read elsewhere.
pub fn decode<T: FromJson>(value: &JsValue, what: &str, skip: &[&str]) -> Result<T, Error> {
    let v = to_value(value, what, skip)?;
    T::from_json(&v).map_err(|e| decode_error(e, what))
}

/// The options object as a [`Value`] (kept out of [`decode`]'s instances).
pub fn to_value(value: &JsValue, what: &str, skip: &[&str]) -> Result<Value, Error> {
    if !value.is_object() || js_sys::Array::is_array(value) {
        return Err(Error::invalid(what, "an options object is required"));
    }
    let copy = js_sys::Object::assign(&js_sys::Object::new(), value.unchecked_ref());
    for key in skip {
        let _ = Reflect::delete_property(&copy, &JsValue::from_str(key));
    }
    plain_value(&copy.into(), what, "must be plain data (no cycles or BigInt)")
}

/// Any JavaScript value through `JSON.stringify` (no object check). `NaN` and `±Infinity`, which `JSON.stringify`
/// writes as `null` (an option left out), are an error naming their key: `Number("abc")` from a form field must not
/// quietly become the default.
pub fn plain_value(value: &JsValue, what: &str, problem: &str) -> Result<Value, Error> {
    let not_finite: Rc<Cell<Option<JsValue>>> = Rc::default();
    let seen = not_finite.clone();
    let replacer = Closure::<dyn FnMut(JsValue, JsValue) -> JsValue>::new(move |key: JsValue, v: JsValue| {
        if v.as_f64().is_some_and(|n| !n.is_finite()) {
            seen.set(Some(key));
        }
        v
    });
    let json = js_sys::JSON::stringify_with_replacer(value, replacer.as_ref()).ok().and_then(|s| s.as_string());
    if let Some(key) = not_finite.take() {
        // The replacer sees only the innermost key: an option names itself, anything deeper names the argument.
        let top = Reflect::get(value, &key).ok().and_then(|v| v.as_f64()).is_some_and(|n| !n.is_finite());
        return Err(match key.as_string().filter(|k| top && !k.is_empty()) {
            Some(k) => Error::invalid(&k, "must be a finite number"),
            None => Error::invalid(what, cat!("must not hold NaN or Infinity (found at `", key.as_string().unwrap_or_default(), "`)")),
        });
    }
    json.and_then(|j| Value::parse(&j).ok()).ok_or_else(|| Error::invalid(what, problem))
}

/// A text argument (`chat.send(text)`, `repairJson(text)`): anything but a string is a typed error, not the glue's
/// `TypeError`. Inlined: as a call of its own it made the wasm 0.15 KB bigger.
#[inline(always)]
pub fn text_arg(value: &JsValue) -> Result<String, Error> {
    value.as_string().ok_or_else(|| Error::invalid("text", "must be a string"))
}

/// A decoding error as an `INVALID_INPUT` naming the option: `weeks`, `resumeFrom.weeks[2].days`,
/// or, for another argument, `roadmap.weeks[0]`.
pub fn decode_error(e: DecodeError, what: &str) -> Error {
    // Option names stand alone; another argument's path starts with the argument's name.
    let e = if what == "options" { e } else { e.in_key(what) };
    let field = if e.path.is_empty() { what.to_string() } else { e.path };
    Error::InvalidInput { field, message: e.message }
}

/// Encodes through our JSON writer + `JSON.parse`: plain objects and arrays, no Maps.
pub fn encode<T: ToJson + ?Sized>(value: &T) -> JsValue {
    json_to_js(&value.to_json())
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
