//! Decoding JavaScript options into Rust types and encoding results back.
//! Unknown or mistyped options are an `INVALID_INPUT` error, never silently ignored.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::AbortSignal;

use crate::json::{DecodeError, FromJson, ToJson, Value};
use crate::Error;

#[wasm_bindgen]
extern "C" {
    /// `String(v)`: the text of any thrown value (a Symbol's throws).
    #[wasm_bindgen(js_name = String, catch)]
    fn js_string(v: &JsValue) -> Result<String, JsValue>;
}

// What the caller's code may throw (getters, Proxy traps, callbacks) is caught in JavaScript here rather than by
// wasm-bindgen's `catch`: on a throw, a `catch` import that returns a JS value still takes a slot of the externref
// table for the value it never returned, and nothing gives that slot back (one per throw, for the page's life).
// These return a marker instead, and the thrown value is handed over on its own. `scripts/shrink.mjs` puts this
// text into the glue, so the package ships no snippet file.
#[wasm_bindgen(inline_js = "const F = {};\nlet t;\n\
export function tryGet(o, k) { try { return o[k]; } catch (e) { t = e; return F; } }\n\
export function tryCall(f, s, a) { try { return f.call(s, a); } catch (e) { t = e; return F; } }\n\
export function tryKeys(o) { try { return Object.keys(o); } catch (e) { t = e; return F; } }\n\
export function threw(v) { return v === F; }\n\
export function takeThrown() { const e = t; t = undefined; return e; }\n\
export function isSignal(s) { try { return typeof s.aborted == \"boolean\" && typeof s.addEventListener == \"function\" && typeof s.removeEventListener == \"function\"; } catch (e) { t = e; return F; } }\n\
export function isAbortError(r) { try { return Object.prototype.toString.call(r) === \"[object DOMException]\" && r.name === \"AbortError\"; } catch { return false; } }\n\
export function tryIsArray(v) { try { return Array.isArray(v); } catch { return false; } }\n\
export function isAborted(s) { try { return s.aborted !== false; } catch { return true; } }\n\
export function watch(p, f) { new Promise((ok) => ok(p)).then(undefined, f); }\n\
const hubs = new WeakMap();\n\
export function onAbort(s, f) { let h = hubs.get(s);\n\
  if (!h) { h = new Set(); h.l = () => { hubs.delete(s); try { s.removeEventListener(\"abort\", h.l); } catch {} const all = [...h]; h.clear(); for (const g of all) try { g(); } catch {} };\n\
    try { s.addEventListener(\"abort\", h.l); hubs.set(s, h); } catch {} }\n\
  h.add(f); return () => { if (h.delete(f) && !h.size && hubs.get(s) === h) { hubs.delete(s); try { s.removeEventListener(\"abort\", h.l); } catch {} } }; }\n\
export function guard(f, x) { const sp = x.$sp, g = sp instanceof WebAssembly.Global;\n\
  return () => { const v = g && sp.value; for (;;) try { return f(); } catch (e) { t = e; if (g) sp.value = v; } }; }\n")]
extern "C" {
    #[wasm_bindgen(js_name = tryGet)]
    fn try_get_js(o: &JsValue, k: &JsValue) -> JsValue;
    #[wasm_bindgen(js_name = tryCall)]
    fn try_call_js(f: &JsValue, this: &JsValue, arg: &JsValue) -> JsValue;
    #[wasm_bindgen(js_name = tryKeys)]
    fn try_keys_js(o: &JsValue) -> JsValue;
    fn threw(v: &JsValue) -> bool;
    /// What the last caught call threw.
    #[wasm_bindgen(js_name = takeThrown)]
    pub fn take_thrown() -> JsValue;
    /// What works as an `AbortSignal`: a boolean `aborted` and the listener methods, which is all the package uses.
    /// Not `instanceof`: a signal from another realm (an iframe's) or a polyfill's fails it, and an object
    /// made from the prototype passes it, then throws when read (as a Proxy's trap may). What a read threw is
    /// caught (see [`threw`]).
    #[wasm_bindgen(js_name = isSignal)]
    fn is_signal(s: &JsValue) -> JsValue;
    /// A `DOMException` named `AbortError`, of any realm (an iframe's signal's reason), read where a throw is
    /// caught (`Object.create(DOMException.prototype)` looks like one, then its `name` getter throws).
    #[wasm_bindgen(js_name = isAbortError)]
    pub fn is_abort_error(reason: &JsValue) -> bool;
    /// `f`, called again after each throw, with what it threw ready for [`take_thrown`], and the shadow stack
    /// pointer (`$sp`, exported by `scripts/optimize.mjs`) put back where it was when the microtask began (no wasm
    /// frame below it): the frames the throw unwound never gave their stack space back. `exports`: the instance's.
    pub fn guard(f: &JsValue, exports: &JsValue) -> js_sys::Function;
    /// `Array.isArray`, false where it throws (a revoked Proxy).
    #[wasm_bindgen(js_name = tryIsArray)]
    pub fn is_array(v: &JsValue) -> bool;
    /// Whether the signal has aborted; a signal that throws when read (a Proxy's trap) counts as aborted, so
    /// that the call ends as an abort does, its requests with it.
    #[wasm_bindgen(js_name = isAborted)]
    pub fn is_aborted(s: &AbortSignal) -> bool;
    /// Reports the rejection of a thenable with `f`, however its `then` (or `constructor`, `catch`) behaves.
    fn watch(p: &JsValue, f: &Closure<dyn FnMut(JsValue)>);
    /// Calls `f` when `signal` aborts; returns the function that forgets it. Every call on one signal shares one
    /// listener: a listener per request or queued call on the caller's signal made Node warn of a leak
    /// (`MaxListenersExceededWarning`) from 11 on (`concurrency` 11-16, or a chat's queued calls). The listener is
    /// removed when the last call forgets it, or when it has run: while it stays, engines keep an `AbortSignal.any()`
    /// or `.timeout()` signal alive (Node, an aborted one too). One that could not be added is tried again by the next
    /// call.
    #[wasm_bindgen(js_name = onAbort)]
    pub fn on_abort(signal: &AbortSignal, f: &JsValue) -> js_sys::Function;
}

fn caught(v: JsValue) -> Result<JsValue, JsValue> {
    if threw(&v) {
        Err(take_thrown())
    } else {
        Ok(v)
    }
}

/// `o[k]`, or what its getter or a Proxy trap threw.
fn reflect_get(o: &JsValue, k: &JsValue) -> Result<JsValue, JsValue> {
    caught(try_get_js(o, k))
}

/// `f.call(this, arg)`, or what it threw.
fn call_with(f: &js_sys::Function, this: &JsValue, arg: &JsValue) -> Result<JsValue, JsValue> {
    caught(try_call_js(f, this, arg))
}

/// `Object.keys(o)`, or what a Proxy's `ownKeys` trap threw.
fn own_keys(o: &JsValue) -> Result<js_sys::Array, JsValue> {
    caught(try_keys_js(o)).map(JsCast::unchecked_into)
}

/// Decodes plain data read as [`Value`]: strict (an unknown option is an error, which field-by-field readers
/// cannot tell) and small. `skip` names keys holding JS objects read elsewhere. An option JSON cannot carry (a
/// function, `NaN`) is reported unless the options hold an unknown name: a misspelt `onprogress: fn` is unknown.
pub fn decode<T: FromJson>(value: &JsValue, what: &str, skip: &[&str], names: &[&str]) -> Result<T, Error> {
    let (v, problem) = to_value(value, what, skip, names)?;
    settle(T::from_json(&v), problem, what)
}

/// A decoding's outcome, given the first value JSON could not carry ([`to_value`]): an unknown option is named
/// first, then that value, then any other decoding error.
pub fn settle<T>(decoded: Result<T, DecodeError>, problem: Option<Error>, what: &str) -> Result<T, Error> {
    match (decoded, problem) {
        (Err(e), _) if e.message.starts_with("unknown field") => Err(decode_error(e, what)),
        (_, Some(problem)) => Err(problem),
        (decoded, None) => decoded.map_err(|e| decode_error(e, what)),
    }
}

/// The options object as a [`Value`], and the first option JSON cannot carry (kept out of [`decode`]'s instances).
/// `names`: the options' (`FIELD_NAMES`). An unknown one set to `undefined` (a misspelt `signal: maybeSignal`) is
/// refused here: JSON leaves it out, so the decoding never sees it.
pub fn to_value(value: &JsValue, what: &str, skip: &[&str], names: &[&str]) -> Result<(Value, Option<Error>), Error> {
    if !value.is_object() || is_array(value) {
        return Err(Error::invalid(what, "an options object is required"));
    }
    let (v, problem, unset) = walk(value, String::new(), what, skip)?;
    crate::json::codec::only(unset.iter(), names).map_err(|e| decode_error(e, what))?;
    Ok((v, problem))
}

/// `Object.keys(opts)`; a Proxy whose `ownKeys` trap throws is an error naming `what`.
pub fn option_names(opts: &JsValue, what: &str) -> Result<js_sys::Array, Error> {
    own_keys(opts).map_err(|e| unreadable(what, &e))
}

/// Any JavaScript value as a [`Value`] (no object check), read as `JSON.stringify` would write it, but strict: what
/// JSON would drop or change is an error naming its path (`resumeFrom.weeks[2].days`, or `history[0].text` for
/// another argument). `NaN` and `±Infinity` (`null` in JSON, an option left out: `Number("abc")` from a form field
/// must not quietly become the default), a function or a symbol (left out: a misspelt `onprogress: fn` must not be
/// ignored), a BigInt (which JSON refuses), what throws when read (a getter, a Proxy trap) and nesting deeper than
/// JSON's 128 levels or holding itself. Only own enumerable string keys are read, and `toJSON` is called, as JSON
/// does; a boxed primitive reads as an object (and is refused as mistyped where a value is expected).
pub fn plain_value(value: &JsValue, what: &str, problem: &str) -> Result<Value, Error> {
    if value.is_undefined() {
        return Err(Error::invalid(what, problem));
    }
    let (v, problem, _) = walk(value, String::from(if what == "options" { "" } else { what }), what, &[])?;
    problem.map_or(Ok(v), Err)
}

/// `value` read from `root` (its path), the first value in it JSON cannot carry, and the top-level keys set to
/// `undefined`.
fn walk(value: &JsValue, root: String, what: &str, skip: &[&str]) -> Result<(Value, Option<Error>, Vec<String>), Error> {
    let mut walk = Walk { path: root, what, skip, problem: None, inside: Vec::new(), unset: Vec::new() };
    let v = walk.read(value)?;
    Ok((v, walk.problem, walk.unset))
}

/// A walk over a JavaScript value: where it is, and the first value JSON cannot carry.
struct Walk<'a> {
    path: String,
    what: &'a str,
    /// Keys of the top-level object read elsewhere (`signal`, `onProgress`).
    skip: &'a [&'a str],
    problem: Option<Error>,
    /// The objects being read, outermost first: one met again is a cycle.
    inside: Vec<JsValue>,
    /// Keys of the top-level object set to `undefined`.
    unset: Vec<String>,
}

/// The most items an array (or members an object) may have: a sparse `length` of 2^32 - 1 must not be walked.
const MAX_ITEMS: u32 = 1 << 16;

impl Walk<'_> {
    /// Where the walk is, as an `INVALID_INPUT` names it.
    fn here(&self) -> &str {
        if self.path.is_empty() {
            self.what
        } else {
            &self.path
        }
    }

    fn error(&self, message: String) -> Error {
        Error::invalid(self.here(), message)
    }

    /// Notes the first value JSON cannot carry, read as `null`.
    fn refuse(&mut self, message: &str) -> Value {
        if self.problem.is_none() {
            self.problem = Some(self.error(message.into()));
        }
        Value::Null
    }

    fn read(&mut self, v: &JsValue) -> Result<Value, Error> {
        // An object with a `toJSON` (a `Date`, a `URL`) stands for what it returns, as in JSON.
        let converted;
        let v = match v.is_object() && !v.is_function() {
            true => match reflect_get(v, &"toJSON".into()).map_err(|e| unreadable(self.here(), &e))? {
                f if f.is_function() => {
                    let f: js_sys::Function = f.unchecked_into();
                    converted = call_with(&f, v, &JsValue::UNDEFINED).map_err(|e| unreadable(self.here(), &e))?;
                    &converted
                }
                _ => v,
            },
            false => v,
        };
        if let Some(s) = v.as_string() {
            return Ok(Value::String(s));
        }
        if let Some(n) = v.as_f64() {
            return Ok(if n.is_finite() { Value::Number(n) } else { self.refuse("must be a finite number") });
        }
        if let Some(b) = v.as_bool() {
            return Ok(Value::Bool(b));
        }
        if v.is_null() || v.is_undefined() {
            return Ok(Value::Null);
        }
        if !v.is_object() || v.is_function() {
            return Ok(self.refuse("must be plain data, not a function, a symbol or a BigInt"));
        }
        if self.inside.iter().any(|o| o == v) {
            return Err(self.error("holds itself (an object that contains it)".into()));
        }
        if self.inside.len() as u32 >= crate::json::value::MAX_DEPTH {
            return Err(self.error("is nested too deeply".into()));
        }
        let at = self.path.len();
        let array = is_array(v);
        let keys = if array { None } else { Some(own_keys(v).map_err(|e| unreadable(self.here(), &e))?) };
        let len = match &keys {
            Some(k) => k.length(),
            None => reflect_get(v, &"length".into()).map_err(|e| unreadable(self.here(), &e))?.as_f64().unwrap_or(0.0) as u32,
        };
        if len > MAX_ITEMS {
            return Err(self.error(cat!("has more than ", MAX_ITEMS, " items")));
        }
        self.inside.push(v.clone());
        let mut items = Vec::new();
        let mut members = crate::json::Map::new();
        for i in 0..len {
            let key = match &keys {
                Some(k) => k.get(i).as_string().unwrap_or_default(),
                None => String::new(),
            };
            if self.inside.len() == 1 && self.skip.contains(&key.as_str()) {
                continue;
            }
            match keys {
                Some(_) if at == 0 => self.path.push_str(&key),
                Some(_) => put!(self.path, '.', &key),
                None => put!(self.path, '[', i, ']'),
            }
            let item = if array { reflect_get(v, &i.into()) } else { reflect_get(v, &JsValue::from_str(&key)) };
            let item = item.map_err(|e| unreadable(self.here(), &e))?;
            // JSON leaves out an object's `undefined` members (an option not set) and writes `null` in an array.
            if array {
                items.push(self.read(&item)?);
            } else if !item.is_undefined() {
                let value = self.read(&item)?;
                members.0.push((key, value));
            } else if self.inside.len() == 1 {
                self.unset.push(key);
            }
            self.path.truncate(at);
        }
        self.inside.pop();
        Ok(if array { Value::Array(items) } else { Value::Object(members) })
    }
}

/// What a getter or a Proxy trap threw while `field` was read, as an `INVALID_INPUT` naming it.
fn unreadable(field: &str, thrown: &JsValue) -> Error {
    Error::invalid(field, cat!("could not be read: ", thrown_text(thrown).unwrap_or_default()))
}

/// The message of a thrown value: its `message`, or the value as `String()` writes it. Read through [`reflect_get`], which
/// catches: a `message` getter that throws would otherwise unwind through the wasm, leaving its state mid-change.
pub fn thrown_text(thrown: &JsValue) -> Option<String> {
    let message = if thrown.is_object() { reflect_get(thrown, &JsValue::from_str("message")).ok() } else { None };
    message.and_then(|m| m.as_string()).or_else(|| js_string(thrown).ok())
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
    reflect_get(obj, &JsValue::from_str(key)).map_err(|e| unreadable(key, &e))
}

/// The signal's `reason`; `undefined` where reading it throws.
pub fn abort_reason(s: &AbortSignal) -> JsValue {
    reflect_get(s, &JsValue::from_str("reason")).unwrap_or(JsValue::UNDEFINED)
}

/// Reads `signal` from an options object; anything but an `AbortSignal` ([`is_signal`]) is a typed error.
pub fn signal_of(opts: &JsValue) -> Result<Option<AbortSignal>, Error> {
    let s = try_get(opts, "signal")?;
    if s.is_undefined() || s.is_null() {
        return Ok(None);
    }
    // A signal that throws already when its call begins is refused like any option that throws when read; one
    // that starts throwing later counts as aborted ([`is_aborted`]).
    match caught(is_signal(&s)) {
        Ok(v) if v.is_truthy() => Ok(Some(s.unchecked_into())),
        Ok(_) => Err(Error::invalid("signal", "must be an AbortSignal")),
        Err(thrown) => Err(unreadable("signal", &thrown)),
    }
}

/// Reads a callback such as `onProgress`.
pub fn callback_of(opts: &JsValue, key: &str) -> Result<Option<js_sys::Function>, Error> {
    let f = try_get(opts, key)?;
    if f.is_undefined() || f.is_null() {
        return Ok(None);
    }
    // `typeof`, not `instanceof`: a Proxy's `getPrototypeOf` trap may throw.
    if f.is_function() {
        Ok(Some(f.unchecked_into()))
    } else {
        Err(Error::invalid(key, "must be a function"))
    }
}

/// Calls a user callback; an exception thrown by it must not break the run, so it is reported and dropped. So is
/// the rejection of a promise it returns (an `async` callback): left unhandled, it would end a Node process.
pub fn call(f: &Option<js_sys::Function>, event: &JsValue) {
    let Some(f) = f else { return };
    match call_with(f, &JsValue::UNDEFINED, event) {
        Err(e) => super::report("gemini-roadmap: onProgress threw", &e),
        Ok(returned) => {
            if returned.is_object() && reflect_get(&returned, &"then".into()).is_ok_and(|t| t.is_function()) {
                // `try_with`: `with` would link a panic (and its message) that a single-threaded module never meets.
                let _ = REPORT_REJECTION.try_with(|report| watch(&returned, report));
            }
        }
    }
}

thread_local! {
    /// One handler for every callback's rejected promise, so none is allocated (or leaked) per event.
    static REPORT_REJECTION: Closure<dyn FnMut(JsValue)> = Closure::new(|e: JsValue| {
        super::report("gemini-roadmap: onProgress rejected", &e);
    });
}
