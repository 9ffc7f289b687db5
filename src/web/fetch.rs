//! The only module that calls `fetch`. It binds the global `fetch` and `setTimeout` (not `window.*`),
//! so the package works on pages, in workers and in Node 18+.

use std::cell::Cell;
use std::rc::Rc;

use js_sys::{ArrayBuffer, Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, AbortSignal, Headers, Request, RequestInit, Response};

use crate::gemini::transport::{Body, HttpRequest, Transport};
use crate::Error;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch, catch)]
    fn global_fetch(input: &Request) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
}

/// Calls its listener when a signal aborts, until dropped ([`super::convert::on_abort`]).
struct AbortLink {
    forget: Function,
    _listener: Closure<dyn FnMut()>,
}

impl AbortLink {
    fn new(signal: &AbortSignal, listener: Closure<dyn FnMut()>) -> Self {
        AbortLink { forget: super::convert::on_abort(signal, listener.as_ref()), _listener: listener }
    }
}

impl Drop for AbortLink {
    fn drop(&mut self) {
        let _ = self.forget.call0(&JsValue::UNDEFINED);
    }
}

/// Waits until `promise` settles (either way), or fails with `Error::Aborted` as soon as `signal` aborts (at once if
/// it already has). The abort listener is removed when this returns or is dropped.
pub async fn wait_unless_aborted(promise: &Promise, signal: Option<&AbortSignal>) -> Result<(), Error> {
    if aborted(signal) {
        return Err(Error::Aborted);
    }
    let _ = match signal {
        Some(s) => unless_aborted(promise, s).await,
        None => JsFuture::from(promise.clone()).await,
    };
    if aborted(signal) {
        return Err(Error::Aborted);
    }
    Ok(())
}

/// A promise resolved with `undefined` once `signal` aborts (at once if it has), and the listener that resolves it,
/// removed when dropped. Raced with `fetch` and every body read: Node's `fetch` follows a request's signal only while
/// the `Request` lives, and a read pending when the signal aborts may never settle (found by a chaos test: a run
/// aborted, or timed out, then never settled). Resolved, not rejected: a rejection nobody awaits any more would be
/// an unhandled one, which ends a Node process.
fn when_aborted(signal: &AbortSignal) -> (Promise, Option<AbortLink>) {
    let mut link = None;
    let promise = Promise::new(&mut |resolve, _| {
        if super::convert::is_aborted(signal) {
            let _ = resolve.call0(&JsValue::UNDEFINED);
            return;
        }
        let listener = Closure::<dyn FnMut()>::new(move || {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        });
        link = Some(AbortLink::new(signal, listener));
    });
    (promise, link)
}

/// `promise`'s outcome, or `Ok(undefined)` as soon as `signal` aborts ([`when_aborted`]). A stop of its own per call,
/// forgotten once this settles or is dropped: raced with one promise that outlived them, every race left a reaction
/// on it holding what it settled with (each body read's chunk) until that promise went.
async fn unless_aborted(promise: &Promise, signal: &AbortSignal) -> Result<JsValue, JsValue> {
    let (stopped, link) = when_aborted(signal);
    let out = JsFuture::from(Promise::race(&js_sys::Array::of2(promise, &stopped))).await;
    drop(link);
    out
}

/// A `setTimeout` that is cleared when dropped.
struct Timer(JsValue);

impl Drop for Timer {
    fn drop(&mut self) {
        clear_timeout(&self.0);
    }
}

/// A restartable timer that aborts the request when it expires; dropped with the response.
struct Deadline {
    ms: u32,
    id: Cell<JsValue>,
    fire: Closure<dyn FnMut()>,
    fired: Rc<Cell<bool>>,
}

impl Deadline {
    fn new(ms: u32, ctrl: &AbortController) -> Self {
        let fired = Rc::new(Cell::new(false));
        let (flag, ctrl) = (fired.clone(), ctrl.clone());
        let fire = Closure::<dyn FnMut()>::new(move || {
            flag.set(true);
            ctrl.abort();
        });
        let d = Deadline { ms, id: Cell::new(JsValue::UNDEFINED), fire, fired };
        d.restart();
        d
    }

    fn restart(&self) {
        clear_timeout(&self.id.take());
        self.id.set(set_timeout(self.fire.as_ref().unchecked_ref(), self.ms as f64));
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        clear_timeout(&self.id.take());
    }
}

/// `fetch` with the user's `AbortSignal` and a per-request idle timeout.
pub struct FetchTransport {
    signal: Option<AbortSignal>,
    log: bool,
}

impl FetchTransport {
    pub fn new(signal: Option<AbortSignal>, log: bool) -> Self {
        FetchTransport { signal, log }
    }
}

/// Whether the caller's signal, if any, has aborted ([`super::convert::is_aborted`]).
pub fn aborted(signal: Option<&AbortSignal>) -> bool {
    signal.is_some_and(super::convert::is_aborted)
}

/// Why a fetch or a body read was rejected: the user's abort, our deadline, or the network.
fn classify(err: &JsValue, signal: &Option<AbortSignal>, deadline: &Deadline, context: &str) -> Error {
    if aborted(signal.as_ref()) {
        return Error::Aborted;
    }
    if deadline.fired.get() {
        return Error::Timeout { ms: deadline.ms };
    }
    // fetch may reject with anything (a custom abort reason is any value): never assume an `Error`.
    let message = super::convert::thrown_text(err).unwrap_or_else(|| "fetch failed".into());
    Error::Network { message: cat!(context, message) }
}

/// A fetch that rejects says only "Failed to fetch" (or the like): the error says what that may be, and where the
/// request went (its origin; no URL holds the key).
#[inline(never)]
fn unreached(e: Error, url: &str) -> Error {
    let Error::Network { message } = e else { return e };
    let host = crate::text::find(url, "://").map_or(0, |i| i + 3);
    let end = crate::text::find(crate::text::slice(url, host..), "/").map_or(url.len(), |i| host + i);
    let origin = crate::text::slice(url, ..end);
    Error::Network { message: cat!(message, " (", origin, ": offline, refused, or the answer blocked by CORS)") }
}

pub struct FetchBody {
    reader: Option<web_sys::ReadableStreamDefaultReader>,
    deadline: Deadline,
    signal: Option<AbortSignal>,
    // Held for its Drop, or to stay alive, as long as the body is read: the caller's signal's link, the controller,
    // and the request (Node's fetch stops following its signal once it is collected).
    _link: Option<AbortLink>,
    ctrl: AbortController,
    _request: Request,
}

impl Drop for FetchBody {
    /// A body given up before its end (the run settled, a finished answer read no further) ends its request: left
    /// open, a stream goes on being written, and billed, and keeps Node's event loop alive.
    fn drop(&mut self) {
        if self.reader.is_some() {
            self.ctrl.abort();
        }
    }
}

impl Body for FetchBody {
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, Error> {
        let Some(reader) = &self.reader else { return Ok(None) };
        match unless_aborted(&reader.read(), &self.ctrl.signal()).await {
            Ok(result) if result.is_undefined() => {
                self.reader = None;
                Err(classify(&result, &self.signal, &self.deadline, ""))
            }
            Ok(result) => {
                self.deadline.restart();
                let done = Reflect::get(&result, &"done".into()).map(|d| d.is_truthy()).unwrap_or(true);
                if done {
                    self.reader = None;
                    return Ok(None);
                }
                let value = Reflect::get(&result, &"value".into()).unwrap_or(JsValue::UNDEFINED);
                Ok(Some(chunk_bytes(&value)))
            }
            Err(err) => {
                self.reader = None;
                Err(classify(&err, &self.signal, &self.deadline, "connection lost while reading the answer: "))
            }
        }
    }
}

/// A chunk's bytes, read through its buffer: not `instanceof Uint8Array`, which a chunk from another realm fails
/// (jsdom's test environment puts its own `Uint8Array` on the global object, while `fetch` still yields Node's).
fn chunk_bytes(value: &JsValue) -> Vec<u8> {
    if !ArrayBuffer::is_view(value) {
        return Vec::new();
    }
    let view: &Uint8Array = value.unchecked_ref();
    // Also a detached one (a fetch wrapper's that transferred it), which no view can be made over.
    if view.byte_length() == 0 {
        return Vec::new();
    }
    Uint8Array::new_with_byte_offset_and_length(&view.buffer(), view.byte_offset(), view.byte_length()).to_vec()
}

impl Transport for FetchTransport {
    type Body = FetchBody;

    async fn send(&self, req: &HttpRequest) -> Result<(u16, FetchBody), Error> {
        if self.is_aborted() {
            return Err(Error::Aborted);
        }
        let ctrl = AbortController::new().map_err(|_| Error::Network { message: "AbortController unavailable".into() })?;
        let link = self.signal.as_ref().map(|s| {
            let c = ctrl.clone();
            AbortLink::new(s, Closure::<dyn FnMut()>::new(move || c.abort()))
        });
        let deadline = Deadline::new(req.timeout_ms, &ctrl);

        let headers = Headers::new().map_err(|_| Error::Network { message: "Headers unavailable".into() })?;
        for (name, value) in &req.headers {
            headers.set(name, value).map_err(|_| Error::invalid("apiKey", "cannot be sent as a header"))?;
        }
        let init = RequestInit::new();
        init.set_method(req.method);
        init.set_headers(&headers);
        init.set_signal(Some(&ctrl.signal()));
        if let Some(body) = &req.body {
            init.set_body(&JsValue::from_str(body));
        }
        let request = Request::new_with_str_and_init(&req.url, &init)
            .or_else(|_| {
                // Node 24's `Request` refuses another realm's signal (jsdom's `AbortController` on the global object,
                // in a test environment). Sent without it, an abort or a timeout still ends the wait and the body
                // read (`unless_aborted`), but the transfer runs on to its end.
                init.set_signal(None);
                Request::new_with_str_and_init(&req.url, &init)
            })
            .map_err(|_| Error::invalid("baseUrl", "the request URL is not valid"))?;
        let promise = global_fetch(&request).map_err(|e| unreached(classify(&e, &self.signal, &deadline, ""), &req.url))?;
        let resp: Response = match unless_aborted(&promise, &ctrl.signal()).await {
            Ok(r) if !r.is_undefined() => r.unchecked_into(),
            Ok(r) | Err(r) => return Err(unreached(classify(&r, &self.signal, &deadline, ""), &req.url)),
        };
        deadline.restart();
        let reader = resp.body().map(|b| b.get_reader().unchecked_into::<web_sys::ReadableStreamDefaultReader>());
        Ok((
            resp.status(),
            FetchBody {
                reader,
                deadline,
                signal: self.signal.clone(),
                _link: link,
                ctrl,
                _request: request,
            },
        ))
    }

    async fn sleep(&self, ms: u64) -> Result<(), Error> {
        if self.is_aborted() {
            return Err(Error::Aborted);
        }
        // Held across the await: the timer is cleared on an abort and if this future is dropped mid-wait, so a
        // wait given up on never keeps Node's event loop alive.
        let mut timer: Option<Timer> = None;
        let elapsed = Promise::new(&mut |resolve, _| timer = Some(Timer(set_timeout(&resolve, ms as f64))));
        let result = wait_unless_aborted(&elapsed, self.signal.as_ref()).await;
        drop(timer);
        result
    }

    fn is_aborted(&self) -> bool {
        aborted(self.signal.as_ref())
    }

    fn random(&self) -> f64 {
        js_sys::Math::random()
    }

    fn log(&self, line: &str) {
        if self.log {
            super::debug(line);
        }
    }
}
