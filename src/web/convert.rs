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

#[wasm_bindgen]
extern "C" {
    /// `Object.keys`, catching what a Proxy's `ownKeys` trap throws (js_sys's would escape the wasm).
    #[wasm_bindgen(js_namespace = Object, js_name = keys, catch)]
    fn own_keys(o: &JsValue) -> Result<js_sys::Array, JsValue>;
}

/// Decodes plain data through `JSON.stringify` + [`Value`]: strict (an unknown option is an error, which
/// field-by-field readers cannot tell) and small. `skip` names keys holding JS objects read elsewhere.
pub fn decode<T: FromJson>(value: &JsValue, what: &str, skip: &[&str]) -> Result<T, Error> {
    let v = to_value(value, what, skip)?;
    T::from_json(&v).map_err(|e| decode_error(e, what))
}

/// The options object as a [`Value`] (kept out of [`decode`]'s instances). Copied one option at a time, not with
/// `Object.assign`, whose exception (a getter's, a Proxy trap's) escaped the wasm: an option that throws when read
/// is an error naming it.
pub fn to_value(value: &JsValue, what: &str, skip: &[&str]) -> Result<Value, Error> {
    if !value.is_object() || js_sys::Array::is_array(value) {
        return Err(Error::invalid(what, "an options object is required"));
    }
    let copy = js_sys::Object::new();
    for key in option_names(value, what)?.iter() {
        let name = key.as_string().unwrap_or_default();
        if !skip.contains(&name.as_str()) {
            let _ = Reflect::set(&copy, &key, &try_get(value, &name)?);
        }
    }
    plain_value(&copy.into(), what, "must be plain data")
}

/// `Object.keys(opts)`; a Proxy whose `ownKeys` trap throws is an error naming `what`.
pub fn option_names(opts: &JsValue, what: &str) -> Result<js_sys::Array, Error> {
    own_keys(opts).map_err(|e| unreadable(what, &e))
}

/// An object being written by `JSON.stringify`: its path and how many of its members the replacer has yet to see.
struct Frame {
    path: String,
    array: bool,
    left: u32,
}

/// The objects being written, and the first value JSON cannot hold: its path and what is wrong with it.
type Walk = (Vec<Frame>, Option<(String, &'static str)>);

/// Any JavaScript value through `JSON.stringify` (no object check). What JSON would drop or change is an error
/// naming its path (`resumeFrom.weeks[2].days`, or `history[0].text` for another argument): `NaN` and `±Infinity`,
/// written as `null` (an option left out: `Number("abc")` from a form field must not quietly become the default),
/// a function or a symbol, left out (a misspelt `onprogress: fn` must not be ignored), and a BigInt, which throws. So is a
/// value that throws when read (a getter, a Proxy trap, a cycle), named by the object being read.
///
/// The replacer gets only `(key, value)`, so the path is tracked on a stack: `JSON.stringify` visits an object's
/// members (its `Object.keys`, or an array's indices) right after the replacer returned the object, depth first.
pub fn plain_value(value: &JsValue, what: &str, problem: &str) -> Result<Value, Error> {
    // The root's path: option names stand alone, another argument's members start with its name.
    let root = if what == "options" { "" } else { what };
    // A `Cell` taken and put back (nothing in between calls JS): a `RefCell` would ship its borrow panics.
    let state: Rc<Cell<Walk>> = Rc::default();
    let top = String::from(root);
    let seen = state.clone();
    let replacer = Closure::<dyn FnMut(JsValue, JsValue) -> JsValue>::new(move |key: JsValue, v: JsValue| {
        // The members to come (catching reads: no JS exception may cross the replacer).
        let members = if !v.is_object() {
            None
        } else if js_sys::Array::is_array(&v) {
            Some((true, Reflect::get(&v, &"length".into()).ok().and_then(|n| n.as_f64()).unwrap_or(0.0) as u32))
        } else {
            Some((false, own_keys(&v).map_or(u32::MAX, |k| k.length())))
        };
        let (mut frames, mut found) = seen.take();
        let path = match finished(&mut frames) {
            None => top.clone(),
            Some(parent) => {
                parent.left -= 1;
                let key = key.as_string().unwrap_or_default();
                match (parent.array, parent.path.is_empty()) {
                    (true, _) => cat!(&parent.path, '[', key, ']'),
                    (false, true) => key,
                    (false, false) => cat!(&parent.path, '.', key),
                }
            }
        };
        let problem = if v.as_f64().is_some_and(|n| !n.is_finite()) {
            "must be a finite number"
        } else if v.is_function() || v.is_symbol() || v.is_bigint() {
            "must be plain data, not a function, a symbol or a BigInt"
        } else {
            ""
        };
        let v = if !problem.is_empty() {
            found.get_or_insert((path, problem));
            // `JSON.stringify` throws on a BigInt: reported above instead.
            JsValue::NULL
        } else {
            if let Some((array, left)) = members {
                frames.push(Frame { path, array, left });
            }
            v
        };
        seen.set((frames, found));
        v
    });
    let json = js_sys::JSON::stringify_with_replacer(value, replacer.as_ref());
    let (mut frames, found) = state.take();
    let field = |path: &str| String::from(if path.is_empty() { what } else { path });
    if let Some((path, problem)) = found {
        return Err(Error::invalid(&field(&path), problem));
    }
    match json {
        Ok(j) => j.as_string().and_then(|j| Value::parse(&j).ok()).ok_or_else(|| Error::invalid(what, problem)),
        Err(thrown) => {
            let at = finished(&mut frames).map_or(root, |f| &f.path);
            Err(unreadable(&field(at), &thrown))
        }
    }
}

/// The innermost object with members still to be read, once those read in full are dropped.
fn finished(frames: &mut Vec<Frame>) -> Option<&mut Frame> {
    while frames.last().is_some_and(|f| f.left == 0) {
        frames.pop();
    }
    frames.last_mut()
}

/// What a getter or a Proxy trap threw while `field` was read, as an `INVALID_INPUT` naming it.
fn unreadable(field: &str, thrown: &JsValue) -> Error {
    Error::invalid(field, cat!("could not be read: ", thrown_text(thrown).unwrap_or_default()))
}

/// The message of a thrown value: an `Error`'s `message`, or a thrown string.
pub fn thrown_text(thrown: &JsValue) -> Option<String> {
    thrown.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).or_else(|| thrown.as_string())
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
    try_get(obj, key).unwrap_or_default()
}

/// An option (`undefined` if `obj` is no object); one that throws when read (a getter, a Proxy trap) is an error
/// naming it.
pub fn try_get(obj: &JsValue, key: &str) -> Result<JsValue, Error> {
    if !obj.is_object() {
        return Ok(JsValue::UNDEFINED);
    }
    Reflect::get(obj, &JsValue::from_str(key)).map_err(|e| unreadable(key, &e))
}

/// Reads `signal` from an options object; anything but an `AbortSignal` is a typed error.
pub fn signal_of(opts: &JsValue) -> Result<Option<AbortSignal>, Error> {
    let s = try_get(opts, "signal")?;
    if s.is_undefined() || s.is_null() {
        return Ok(None);
    }
    s.dyn_into::<AbortSignal>().map(Some).map_err(|_| Error::invalid("signal", "must be an AbortSignal"))
}

/// Reads a callback such as `onProgress`.
pub fn callback_of(opts: &JsValue, key: &str) -> Result<Option<js_sys::Function>, Error> {
    let f = try_get(opts, key)?;
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
