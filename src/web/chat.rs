//! The JavaScript side of `GeminiChat`: one queue per chat so calls run one after another, and no
//! `RefCell` borrow is ever held across an `await` (so re-entrant calls from callbacks are safe).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Array, Promise};
use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

use super::convert::{call, callback_of, decode_error, encode, get, json_to_js, option_names, plain_value, signal_of, text_arg};
use super::error::{js_error, to_js};
use super::fetch::{wait_unless_aborted, FetchTransport};
use super::JsTask;
use crate::chat::{read_json, send_request, Chat, ChatConfig, Turn};
use crate::gemini::{Counted, Endpoint, GenerationConfig, Transport, Usage};
use crate::json::codec::json_object;
use crate::json::FromJson;
use crate::retry::{RetryNotice, RetryPolicy};
use crate::roadmap::options::int_in;
use crate::Error;

/// Options of `new GeminiChat(...)`.
#[derive(Default, tsify::Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChatOptions {
    api_key: String,
    #[serde(default)]
    #[tsify(optional, type = "string | null | undefined")]
    model: Option<String>,
    #[serde(default)]
    #[tsify(optional, type = "string | null | undefined")]
    base_url: Option<String>,
    #[serde(default)]
    #[tsify(optional, type = "string | null | undefined")]
    system_instruction: Option<String>,
    /// Gemini's `generationConfig`: `temperature`, `maxOutputTokens`, `responseMimeType`, `responseJsonSchema`, `thinkingConfig`, ...
    #[serde(default)]
    #[tsify(optional, type = "Record<string, unknown> | null | undefined")]
    generation_config: Option<GenerationConfig>,
    /// Per request: the longest wait for the response to start or for its next chunk, in ms (1..=3600000), default
    /// 120000. The chat does not stream (`generateContent`), and Gemini starts such a response only once the answer
    /// is written, thinking included: this bounds the whole answer. A request that times out is retried
    /// (`maxRetries`), and Gemini may bill each one: raise it for long answers.
    #[serde(default)]
    #[tsify(optional, type = "number | null | undefined")]
    timeout_ms: Option<f64>,
    /// Retries of transient failures (408, 499, 500, 502, 503, 504, network, timeout, an answer that ended with no
    /// text). Default 2 (0..=10). A per-minute 429 is waited out as Gemini asks, outside this count: up to 10 times per request until it is answered, whatever else fails in between.
    #[serde(default)]
    #[tsify(optional, type = "number | null | undefined")]
    max_retries: Option<f64>,
    /// Print `generateJsonBatched`'s monitoring lines (the seed's: "Generating batch 2/4", ...) on `console.debug`;
    /// `send` and `sendJson` print none. Default false.
    #[serde(default)]
    #[tsify(optional, type = "boolean | null | undefined")]
    log: Option<bool>,
}

/// One turn of a chat's history.
#[derive(Default, tsify::Tsify)]
#[serde(deny_unknown_fields)]
pub struct ChatTurn {
    #[tsify(type = "\"user\" | \"model\"")]
    role: String,
    text: String,
    /// The opaque signature Gemini gave with a model turn's answer (Gemini 3 signs every answer), sent back with
    /// it as Google asks. Keep it when you store a history for `setHistory`.
    #[serde(rename = "thoughtSignature", default, skip_serializing_if = "Option::is_none")]
    thought_signature: Option<String>,
}

/// What `send` resolves to.
#[derive(Default, tsify::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct SendResult {
    text: String,
    /// `STOP`, `MAX_TOKENS` (the answer was cut and is not kept in the history), ...
    finish_reason: Option<String>,
    usage: Usage,
}

#[wasm_bindgen(typescript_custom_section)]
const CALL_OPTIONS_TS: &'static str = r#"
/** Per-call options of `GeminiChat` methods. */
export interface CallOptions {
    signal?: AbortSignal | null | undefined;
    /** `retry` events ({ type, attempt, delayMs, reason }; `attempt`: the one about to run, so the first retry is 2, as in `generateRoadmap`) and, for `generateJsonBatched`, `batch-start` / `batch-done`. */
    onProgress?: ((event: { type: string; [key: string]: unknown }) => void) | null | undefined;
}
"#;

pub struct ChatHandle {
    chat: RefCell<Chat>,
    /// Settles when the last queued call has finished; the next call waits for it.
    tail: RefCell<Option<Promise>>,
    log: bool,
    /// What every request of every call has cost, failed calls included: a failed call's error carries none.
    spent: Cell<Usage>,
}

/// Decodes options, hiding the key from any decoding error: its message and its `field` (an option
/// named like the key), both as written and as a JSON string literal writes it (`"a\"b"`, escaped).
pub fn decode_redacted<T: FromJson>(options: &JsValue, what: &str, skip: &[&str], names: &[&str]) -> Result<T, Error> {
    super::convert::decode(options, what, skip, names).map_err(|e| redact_error(e, options))
}

/// Hides the key of `options` in a decoding error (kept out of [`decode_redacted`]'s instances).
pub fn redact_error(e: Error, options: &JsValue) -> Error {
    match get(options, "apiKey").as_string() {
        // Trimmed, as the endpoint takes it: a pasted key's line break is dropped.
        Some(key) => e.without_key(key.trim()),
        None => e,
    }
}

pub fn new_chat(options: JsValue) -> Result<ChatHandle, JsValue> {
    let o: ChatOptions = decode_redacted(&options, "options", &[], ChatOptions::FIELD_NAMES).map_err(js_error)?;
    let build = || -> Result<Chat, Error> {
        // The same ranges as `generateRoadmap`'s options of the same names.
        let timeout = o.timeout_ms.map(|t| int_in("timeoutMs", t, 1, 3_600_000)).transpose()?;
        let max_retries = o.max_retries.map(|r| int_in("maxRetries", r, 0, 10)).transpose()?.unwrap_or(2);
        let endpoint = Endpoint::new(&o.api_key, o.model.as_deref(), o.base_url.as_deref(), timeout)?;
        if let Some(g) = &o.generation_config {
            g.check()?;
        }
        let retry = RetryPolicy { max_retries, ..RetryPolicy::default() };
        Ok(Chat::new(ChatConfig {
            endpoint,
            system_instruction: o.system_instruction.clone(),
            generation_config: o.generation_config.clone(),
            retry,
        }))
    };
    let chat = build().map_err(js_error)?;
    Ok(ChatHandle {
        chat: RefCell::new(chat),
        tail: RefCell::new(None),
        log: o.log.unwrap_or(false),
        spent: Cell::new(Usage::default()),
    })
}

impl ChatHandle {
    pub fn history(&self) -> JsValue {
        let turns: Vec<ChatTurn> =
            self.chat.borrow().history().iter().map(|t| ChatTurn { role: t.role.clone(), text: t.text.clone(), thought_signature: t.signature.clone() }).collect();
        encode(&turns)
    }

    pub fn set_history(&self, turns: JsValue) -> Result<(), JsValue> {
        let turns: Vec<ChatTurn> = plain_value(&turns, "history", "must be an array of turns")
            .and_then(|v| Vec::<ChatTurn>::from_json(&v).map_err(|e| decode_error(e, "history")))
            .map_err(|e| js_error(self.without_key(e)))?;
        let turns = turns.into_iter().map(|t| Turn { role: t.role, text: t.text, signature: t.thought_signature }).collect();
        // The chat's borrow ends with this statement: `without_key` borrows it again.
        let set = self.chat.borrow_mut().set_history(turns);
        set.map_err(|e| js_error(self.without_key(e)))
    }

    /// The error with the chat's key hidden: a call's options and `setHistory`'s turns may name it too.
    fn without_key(&self, e: Error) -> Error {
        e.without_key(&self.chat.borrow().config.endpoint.api_key)
    }

    pub fn clear(&self) {
        self.chat.borrow_mut().clear();
    }

    pub fn usage(&self) -> JsValue {
        encode(&self.spent.get())
    }
}

#[wasm_bindgen]
extern "C" {
    /// A promise, to hand `then` a plain function (js_sys's wants a Rust closure).
    type Settling;
    #[wasm_bindgen(method, js_name = then)]
    fn then_forget(this: &Settling, on_settled: &JsValue) -> Promise;
    /// `Function.prototype`, a function that returns `undefined`.
    #[wasm_bindgen(thread_local_v2, js_namespace = Function, js_name = prototype)]
    static NO_VALUE: JsValue;
}

/// Runs `work` after every earlier call on the same chat has settled. While it waits its turn, `signal` still
/// counts: an abort rejects it at once (with `on_abort` on its error, as `work` would have it), and the calls
/// queued behind it keep waiting for the ones ahead.
fn enqueue(handle: &Rc<ChatHandle>, signal: Option<AbortSignal>, on_abort: Vec<(&'static str, JsValue)>, work: JsTask) -> Promise {
    let prev = handle.tail.borrow_mut().take();
    let ahead = prev.clone();
    let promise = super::promise(Box::pin(async move {
        if let Some(p) = ahead {
            wait_unless_aborted(&p, signal.as_ref()).await.map_err(|e| to_js(&e, signal.as_ref(), &on_abort))?;
        }
        work.await
    }));
    // The next call waits for this one and for the one ahead of it, which is still running if this one left early.
    // `allSettled` needs no handler of ours: a Rust closure owned by the chat would be dropped by `free()` (or the
    // garbage collector) while a call is still running, and calling it then throws. Its values (each call's result,
    // and the tail before, and so on) are dropped by `then(Function.prototype)`, which returns `undefined`: kept, they
    // held every result a chat ever gave for as long as it lived.
    let settled = Promise::all_settled(&match prev {
        Some(p) => Array::of2(&p, &promise),
        None => Array::of1(&promise),
    }.into());
    let tail = NO_VALUE.with(|no_value| settled.unchecked_into::<Settling>().then_forget(no_value));
    *handle.tail.borrow_mut() = Some(tail);
    promise
}

struct CallOptions {
    signal: Option<AbortSignal>,
    on_progress: Option<js_sys::Function>,
}

/// Reads a call's options: `undefined`, or an object with no keys but `signal` and `onProgress` (a misspelt one is an
/// error here as in every other options object).
fn call_options(opts: &JsValue) -> Result<CallOptions, Error> {
    if !opts.is_undefined() && !opts.is_null() {
        if !opts.is_object() || super::convert::is_array(opts) {
            return Err(Error::invalid("options", "must be an object ({ signal, onProgress })"));
        }
        if let Some(key) = option_names(opts, "options")?.iter().filter_map(|k| k.as_string()).find(|k| k != "signal" && k != "onProgress") {
            return Err(Error::invalid(&key, "is not a call option (signal, onProgress)"));
        }
    }
    Ok(CallOptions { signal: signal_of(opts)?, on_progress: callback_of(opts, "onProgress")? })
}

fn retry_event(n: &RetryNotice) -> JsValue {
    let obj = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&obj, &"type".into(), &"retry".into());
    let _ = js_sys::Reflect::set(&obj, &"attempt".into(), &n.attempt.into());
    let _ = js_sys::Reflect::set(&obj, &"delayMs".into(), &(n.delay_ms as f64).into());
    let _ = js_sys::Reflect::set(&obj, &"reason".into(), &n.reason.as_str().into());
    obj.into()
}

/// One turn. `json` asks for `application/json` and returns the parsed value instead of the reply; the length is
/// the answer's, in chars. The exchange is kept only if the history it was sent with is still the chat's: a
/// `clear()` or `setHistory()` while it runs starts a conversation it is not part of.
async fn turn(handle: &ChatHandle, text: &str, json: bool, opts: &CallOptions) -> Result<(JsValue, usize), Error> {
    let (req, config, era) = {
        let chat = handle.chat.borrow();
        (chat.request_for(text, json)?, chat.config.clone(), chat.era())
    };
    let fetch = FetchTransport::new(opts.signal.clone(), handle.log);
    // Counted, like the roadmap's transport, so both share one copy of the client in the wasm.
    let transport = Counted::new(&fetch);
    let spent = Cell::new(Usage::default());
    let reply = send_request(&transport, &config, &req, &spent, &mut |n| call(&opts.on_progress, &retry_event(n))).await;
    let mut total = handle.spent.get();
    total.add(&Usage { requests: transport.sent(), ..spent.get() });
    handle.spent.set(total);
    let reply = reply?;
    if json {
        let parsed = read_json(reply)?;
        handle.chat.borrow_mut().record(era, text, &parsed.repaired.json, parsed.reply.signature.clone());
        return Ok((json_to_js(&parsed.repaired.json), crate::text::char_count(&parsed.repaired.json)));
    }
    if !reply.is_truncated() {
        handle.chat.borrow_mut().record(era, text, &reply.text, reply.signature.clone());
    }
    let chars = crate::text::char_count(&reply.text);
    Ok((encode(&SendResult { text: reply.text, finish_reason: reply.finish_reason, usage: reply.usage }), chars))
}

pub fn send(handle: &Rc<ChatHandle>, text: JsValue, opts: JsValue, json: bool) -> Promise {
    let h = handle.clone();
    // Bad input rejects at once: it need not wait for the calls ahead of it (a minute or more, with retries).
    // So does one the chat's own settings refuse (a `responseJsonSchema` without JSON, for `send`).
    let message = |t: &JsValue| text_arg(t).and_then(|t| handle.chat.borrow().request_for(&t, json).map(|_| t));
    let (opts, text) = match call_options(&opts).and_then(|o| Ok((o, message(&text)?))) {
        Ok(checked) => checked,
        Err(e) => return Promise::reject(&js_error(handle.without_key(e))),
    };
    let signal = opts.signal.clone();
    enqueue(handle, signal, Vec::new(), Box::pin(async move {
        turn(&h, &text, json, &opts).await.map(|(v, _)| v).map_err(|e| to_js(&e, opts.signal.as_ref(), &[]))
    }))
}

fn progress(kind: &str, index: usize, total: usize, extra: Option<(&str, JsValue)>) -> JsValue {
    let obj = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&obj, &"type".into(), &kind.into());
    let _ = js_sys::Reflect::set(&obj, &"batch".into(), &((index + 1) as u32).into());
    let _ = js_sys::Reflect::set(&obj, &"totalBatches".into(), &(total as u32).into());
    if let Some((k, v)) = extra {
        let _ = js_sys::Reflect::set(&obj, &k.into(), &v);
    }
    obj.into()
}

/// The seed's `generate_json_batched`: prompts in order, one chat, each answer parsed through the fallbacks.
pub fn generate_json_batched(handle: &Rc<ChatHandle>, prompts: JsValue, opts: JsValue) -> Promise {
    let h = handle.clone();
    // Read now, as the options are: the caller may reuse its array while the call waits its turn. Bad input rejects
    // at once, without waiting for the calls ahead.
    let checked = call_options(&opts).and_then(|o| {
        let prompts = plain_value(&prompts, "prompts", "must be an array of strings")
            .and_then(|v| Vec::<String>::from_json(&v).map_err(|e| decode_error(e, "prompts")))?;
        if let Some(i) = prompts.iter().position(|p| p.trim().is_empty()) {
            return Err(Error::invalid(&cat!("prompts[", i, "]"), "the prompt is empty"));
        }
        match prompts.is_empty() {
            true => Err(Error::invalid("prompts", "must be a non-empty array of non-empty strings")),
            false => Ok((o, prompts)),
        }
    });
    let (opts, prompts) = match checked {
        Ok(checked) => checked,
        Err(e) => return Promise::reject(&js_error(handle.without_key(e))),
    };
    let signal = opts.signal.clone();
    // Aborted while it waits its turn, it rejects as it would before its first batch.
    let on_abort = vec![("batch", JsValue::from(1)), ("results", Array::new().into())];
    enqueue(handle, signal, on_abort, Box::pin(async move {
        let transport = FetchTransport::new(None, h.log);
        let results = Array::new();
        let total = prompts.len();
        for (i, prompt) in prompts.iter().enumerate() {
            // An abort (from `onProgress` on the batch before, say) ends the call before the next batch: no event
            // follows it, as none follows one in `generateRoadmap`.
            let result = if super::fetch::aborted(opts.signal.as_ref()) {
                Err(Error::Aborted)
            } else {
                transport.log(&cat!("Generating batch ", i + 1, '/', total));
                call(&opts.on_progress, &progress("batch-start", i, total, None));
                turn(&h, prompt, true, &opts).await
            };
            match result {
                Ok((v, chars)) => {
                    transport.log(&cat!("Batch ", i + 1, " response length: ", chars, " chars"));
                    call(&opts.on_progress, &progress("batch-done", i, total, Some(("responseChars", (chars as u32).into()))));
                    results.push(&v);
                }
                Err(e) => {
                    // `results`, not `partial`: these are the parsed answers so far, not a roadmap to resume from.
                    let extra = [("batch", JsValue::from((i + 1) as u32)), ("results", results.clone().into())];
                    return Err(to_js(&e, opts.signal.as_ref(), &extra));
                }
            }
        }
        // One from `onProgress` on the last `batch-done` rejects too, as in `generateRoadmap`: nothing was heard since.
        if super::fetch::aborted(opts.signal.as_ref()) {
            return Err(to_js(&Error::Aborted, opts.signal.as_ref(), &[("results", results.into())]));
        }
        transport.log(&cat!("Completed all ", total, " batches successfully"));
        Ok(results.into())
    }))
}

json_object!(deny ChatOptions {
    api_key: "apiKey" req,
    model: "model" skip,
    base_url: "baseUrl" skip,
    system_instruction: "systemInstruction" skip,
    generation_config: "generationConfig" skip,
    timeout_ms: "timeoutMs" skip,
    max_retries: "maxRetries" skip,
    log: "log" skip,
});
json_object!(deny ChatTurn { role: "role" req, text: "text" req, thought_signature: "thoughtSignature" skip });
json_object!(SendResult { text: "text" req, finish_reason: "finishReason" opt, usage: "usage" req });
