//! The JavaScript boundary, in Node (`wasm-pack test --node`): error objects, option decoding,
//! exports, and Node's own global `fetch` against the mock.
#![cfg(target_arch = "wasm32")]

mod web_support;

use gemini_roadmap::error::ApiErrorDetails;
use gemini_roadmap::gemini::client::Endpoint;
use gemini_roadmap::gemini::request::{Content, GenerateRequest};
use gemini_roadmap::gemini::transport::{Body, Transport};
use gemini_roadmap::web::fetch::FetchTransport;
use gemini_roadmap::exports::{generate_roadmap, regenerate_week, repair_json, GeminiChat};
use gemini_roadmap::web::error::{abort_error, to_js, ERROR_NAME};
use gemini_roadmap::Error;
use serde_json::json;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_support::*;

fn is_error(v: &JsValue) -> bool {
    v.dyn_ref::<js_sys::Error>().is_some()
}

#[wasm_bindgen_test]
fn every_error_is_a_real_error_with_a_stable_name_and_code() {
    let cases = [
        (Error::invalid("weeks", "must be 1..=52"), "INVALID_INPUT", None),
        (Error::Auth { status: 400, message: "API key not valid".into(), details: Default::default() }, "AUTH", Some(400.0)),
        (Error::RateLimited { message: "quota".into(), details: Default::default() }, "RATE_LIMITED", Some(429.0)),
        (Error::BadRequest { status: 400, message: "bad".into(), details: Default::default() }, "BAD_REQUEST", Some(400.0)),
        (Error::NotFound { message: "models/x".into(), details: Default::default() }, "NOT_FOUND", Some(404.0)),
        (Error::Server { status: 503, message: "overloaded".into(), details: Default::default() }, "SERVER", Some(503.0)),
        (Error::Network { message: "Failed to fetch".into() }, "NETWORK", None),
        (Error::Timeout { ms: 500 }, "TIMEOUT", None),
        (Error::Blocked { reason: "SAFETY".into(), message: "blocked".into() }, "BLOCKED", None),
        (Error::malformed("no JSON"), "MALFORMED", None),
        (Error::Truncated { message: "cut".into() }, "TRUNCATED", None),
    ];
    for (err, code, status) in cases {
        let js = to_js(&err, None, &[]);
        assert!(is_error(&js), "{code} must be an Error instance");
        assert_eq!(str_field(&js, "name").as_deref(), Some(ERROR_NAME));
        assert_eq!(str_field(&js, "code").as_deref(), Some(code));
        assert_eq!(num_field(&js, "status"), status, "{code}");
        assert_eq!(str_field(&js, "message"), Some(err.to_string()));
        assert!(field(&js, "stack").is_string(), "{code} has a stack");
    }
}

#[wasm_bindgen_test]
fn google_details_and_extras_become_fields() {
    let details = ApiErrorDetails {
        status: Some("RESOURCE_EXHAUSTED".into()),
        reason: None,
        quota_ids: vec!["GenerateRequestsPerDayPerProjectPerModel-FreeTier".into()],
        retry_delay_ms: Some(34_400),
        zero_quota: false,
    };
    let err = Error::RateLimited { message: "You exceeded your current quota".into(), details };
    let js = to_js(&err, None, &[("batch", JsValue::from(2)), ("partial", JsValue::from_str("p"))]);
    assert_eq!(num_field(&js, "retryDelayMs"), Some(34_400.0));
    assert_eq!(str_field(&js, "googleStatus").as_deref(), Some("RESOURCE_EXHAUSTED"));
    assert_eq!(to_json(&field(&js, "quotaIds")), json!(["GenerateRequestsPerDayPerProjectPerModel-FreeTier"]));
    assert_eq!(num_field(&js, "batch"), Some(2.0));
    assert_eq!(str_field(&js, "partial").as_deref(), Some("p"));
    assert_eq!(field(&js, "retryable"), JsValue::FALSE, "a per-day quota is not retryable");
    assert!(field(&js, "zeroQuota").is_undefined(), "set only for a quota of 0");
    // Only a 429 is a quota: a 400 whose message reads "limit: 0" is not (found by review).
    let zero = ApiErrorDetails { zero_quota: true, ..ApiErrorDetails::default() };
    let js = to_js(&Error::RateLimited { message: "limit: 0".into(), details: zero.clone() }, None, &[]);
    assert_eq!(field(&js, "zeroQuota"), JsValue::TRUE);
    let js = to_js(&Error::BadRequest { status: 400, message: "limit: 0".into(), details: zero }, None, &[]);
    assert!(field(&js, "zeroQuota").is_undefined());
    let field_err = to_js(&Error::invalid("weeks", "x"), None, &[]);
    assert_eq!(str_field(&field_err, "field").as_deref(), Some("weeks"));
}

#[wasm_bindgen_test]
fn abort_is_the_platforms_own_abort_error() {
    let js = to_js(&Error::Aborted, None, &[]);
    assert!(js.dyn_ref::<web_sys::DomException>().is_some(), "a DOMException");
    assert_eq!(str_field(&js, "name").as_deref(), Some("AbortError"));

    let ctrl = web_sys::AbortController::new().unwrap();
    ctrl.abort_with_reason(&JsValue::from_str("user left"));
    let js = abort_error(Some(&ctrl.signal()));
    assert_eq!(str_field(&js, "name").as_deref(), Some("AbortError"), "a custom reason still gives an AbortError");
    assert_eq!(str_field(&js, "cause").as_deref(), Some("user left"));

    let ctrl = web_sys::AbortController::new().unwrap();
    ctrl.abort();
    let reason = ctrl.signal().reason();
    assert_eq!(abort_error(Some(&ctrl.signal())), reason, "the signal's own AbortError is passed through");
}

#[wasm_bindgen_test]
fn chat_options_are_validated_and_never_echo_the_key() {
    let bad = [
        (json!({}), "apiKey"),
        (json!({"apiKey": ""}), "apiKey"),
        (json!({"apiKey": "k e y"}), "apiKey"),
        (json!({"apiKey": "secret-key-123", "baseUrl": "ftp://x"}), "baseUrl"),
        (json!({"apiKey": "secret-key-123", "model": "gemini 2.5"}), "model"),
        (json!({"apiKey": "secret-key-123", "temprature": 1}), "temprature"),
        (json!({"apiKey": "secret-key-123", "timeoutMs": "soon"}), "timeoutMs"),
        (json!({"apiKey": "secret-key-123", "generationConfig": {"maxOutputTokens": -1}}), "generationConfig.maxOutputTokens"),
        // Refused by every call, so refused by the constructor (found by an exploratory test: `0` was accepted).
        (json!({"apiKey": "secret-key-123", "generationConfig": {"maxOutputTokens": 0}}), "generationConfig.maxOutputTokens"),
        (json!({"apiKey": "secret-key-123", "generationConfig": {"thinkingConfig": {"thinkingBudget": 0, "thinkingLevel": "low"}}}), "generationConfig.thinkingConfig"),
        // A short mock key (no real key is under 39 characters) was "hidden" inside the names: `we******s`.
        (json!({"apiKey": "k", "wekks": 1}), "wekks"),
        (json!({"apiKey": "secret-key-123", "model": "secret-key-123"}), "model"),
    ];
    for (opts, field_name) in bad {
        let Err(err) = GeminiChat::new(obj(opts.clone())) else { panic!("{opts} must be rejected") };
        assert_eq!(str_field(&err, "code").as_deref(), Some("INVALID_INPUT"), "{opts}");
        assert_eq!(str_field(&err, "field").as_deref(), Some(field_name), "{opts}");
        assert!(!str_field(&err, "message").unwrap().contains("secret-key-123"), "key leaked: {opts}");
        assert!(!str_field(&err, "message").unwrap().contains("***"), "nothing to hide: {opts}");
    }
    let err = GeminiChat::new(JsValue::from_str("not an object")).err().unwrap();
    assert_eq!(str_field(&err, "code").as_deref(), Some("INVALID_INPUT"));
}

#[wasm_bindgen_test]
fn repair_json_export_repairs_and_throws_positioned_errors() {
    let fixed = repair_json("Sure!\n```json\n{\"weeks\": [1, 2,],}\n```".into()).unwrap();
    assert_eq!(serde_json::from_str::<serde_json::Value>(&fixed).unwrap(), json!({"weeks": [1, 2]}));
    let truncated = repair_json("{\"weeks\":[{\"week\":1,\"title\":\"Linux fund".into()).unwrap();
    assert_eq!(serde_json::from_str::<serde_json::Value>(&truncated).unwrap()["weeks"][0]["week"], json!(1));
    let err = repair_json("no json here at all".into()).unwrap_err();
    assert_eq!(str_field(&err, "code").as_deref(), Some("MALFORMED"));
    assert!(num_field(&err, "position").is_some());
    // Positions count UTF-16 code units, as JavaScript indexes the string (they were UTF-8 bytes: 9 here).
    let err = repair_json("// ééé".into()).unwrap_err();
    assert_eq!(num_field(&err, "position"), Some(6.0), "the end of a 6-unit string");
    assert!(str_field(&err, "message").unwrap().contains("at position 6"), "{err:?}");
    // Not a string: a typed error, not the glue's TypeError.
    for not_text in [JsValue::NULL, JsValue::from(5), obj(json!(["a"]))] {
        let err = repair_json(not_text).unwrap_err();
        assert_eq!((str_field(&err, "code").as_deref(), str_field(&err, "field").as_deref()), (Some("INVALID_INPUT"), Some("text")));
    }
}

#[wasm_bindgen_test]
async fn bad_input_costs_no_request() {
    let k = key("node-bad-input");
    let chat = GeminiChat::new(chat_options(&k, json!({}))).unwrap();
    let err = settle(chat.send("   ".into(), JsValue::UNDEFINED)).await.unwrap_err();
    assert_eq!(str_field(&err, "code").as_deref(), Some("INVALID_INPUT"));
    let err = settle(chat.send("hi".into(), obj(json!({"signal": 5})))).await.unwrap_err();
    assert_eq!(str_field(&err, "field").as_deref(), Some("signal"));
    // The prompt at fault is named, as `setHistory` names the turn (it was `prompts` alone).
    let err = settle(chat.generate_json_batched(obj(json!(["a", 7])), JsValue::UNDEFINED)).await.unwrap_err();
    assert_eq!(str_field(&err, "field").as_deref(), Some("prompts[1]"));
    let err = settle(chat.generate_json_batched(obj(json!({"a": 1})), JsValue::UNDEFINED)).await.unwrap_err();
    assert_eq!(str_field(&err, "field").as_deref(), Some("prompts"));
    // A text that is not a string, and call options that are not `{ signal, onProgress }`.
    let bad_calls = [
        (JsValue::from(5), JsValue::UNDEFINED, "text"),
        (JsValue::UNDEFINED, JsValue::UNDEFINED, "text"),
        ("hi".into(), obj(json!({"sigal": 1})), "sigal"),
        ("hi".into(), JsValue::from(5), "options"),
    ];
    for (text, opts, field_name) in bad_calls {
        let err = settle(chat.send_json(text, opts)).await.unwrap_err();
        assert_eq!((str_field(&err, "code").as_deref(), str_field(&err, "field").as_deref()), (Some("INVALID_INPUT"), Some(field_name)));
    }
    // `NaN` and `Infinity` (what `Number("abc")` from a form field gives) are not "left out": JSON.stringify writes
    // them as null, which read as the default and sent the request.
    let with = |base: serde_json::Value, name: &str, n: f64| {
        let o = obj(base);
        js_sys::Reflect::set(&o, &name.into(), &n.into()).unwrap();
        o
    };
    let run = json!({"apiKey": k, "baseUrl": mock_url(), "role": "DevOps Engineer", "weeks": 3});
    for (name, n) in [("hoursPerDay", f64::NAN), ("maxRetries", f64::NAN), ("maxOutputTokens", f64::INFINITY), ("weeks", f64::NEG_INFINITY)] {
        let err = settle(generate_roadmap(with(run.clone(), name, n))).await.unwrap_err();
        assert_eq!((str_field(&err, "code").as_deref(), str_field(&err, "field").as_deref()), (Some("INVALID_INPUT"), Some(name)));
        assert_eq!(str_field(&err, "message").as_deref(), Some(&*format!("Invalid option `{name}`: must be a finite number")));
    }
    // Deeper down, the field is the number's path, as for any other bad option.
    let nested = obj(run.clone());
    js_sys::Reflect::set(&nested, &"history".into(), &js_sys::Array::of1(&f64::NAN.into())).unwrap();
    let err = settle(generate_roadmap(nested)).await.unwrap_err();
    assert_eq!(str_field(&err, "field").as_deref(), Some("history[0]"));
    assert_eq!(str_field(&err, "message").as_deref(), Some("Invalid option `history[0]`: must be a finite number"));
    let chat_base = json!({"apiKey": k, "baseUrl": mock_url()});
    for (opts, name) in [(with(chat_base.clone(), "timeoutMs", f64::NAN), "timeoutMs"), (obj(json!({"apiKey": k, "maxRetries": 1e9})), "maxRetries")] {
        let err = GeminiChat::new(opts).err().unwrap();
        assert_eq!(str_field(&err, "field").as_deref(), Some(name));
    }
    assert_eq!(requests(&k).await.len(), 0, "nothing reached the server");
}

#[wasm_bindgen_test]
async fn nodes_global_fetch_runs_a_chat_turn() {
    let k = key("node-turn");
    let chat = GeminiChat::new(chat_options(&k, json!({}))).unwrap();
    let reply = settle(chat.send("Hello there".into(), JsValue::UNDEFINED)).await.unwrap();
    assert_eq!(str_field(&reply, "finishReason").as_deref(), Some("STOP"));
    assert!(!str_field(&reply, "text").unwrap().is_empty());
    assert!(num_field(&field(&reply, "usage"), "promptTokens").unwrap() > 0.0);
    assert_eq!(requests(&k).await.len(), 1);
}

/// A Gemini 3 answer's `thoughtSignature` goes back with it in the next request (Google asks for every signature
/// to be passed back as received); `history` shows it and `setHistory` takes it back. It was dropped.
#[wasm_bindgen_test]
async fn a_chat_sends_each_answer_back_with_its_thought_signature() {
    let k = key("node-signatures");
    let chat = GeminiChat::new(chat_options(&k, json!({"model": "gemini-3.1-flash-lite"}))).unwrap();
    settle(chat.send("Hello there".into(), JsValue::UNDEFINED)).await.unwrap();
    settle(chat.send_json("Three topics as a JSON array".into(), JsValue::UNDEFINED)).await.unwrap();
    settle(chat.send("And then?".into(), JsValue::UNDEFINED)).await.unwrap();
    let signed: Vec<u64> = requests(&k).await.iter().map(|r| r["signedTurns"].as_u64().unwrap()).collect();
    assert_eq!(signed, [0, 1, 2], "send's and sendJson's answers went back signed");
    let history = chat.history();
    let turns = js_sys::Array::from(&history);
    let sigs: Vec<Option<String>> = turns.iter().map(|t| str_field(&t, "thoughtSignature")).collect();
    assert!(sigs.iter().step_by(2).all(Option::is_none) && sigs.iter().skip(1).step_by(2).all(Option::is_some), "{sigs:?}");
    // What `history` gave, `setHistory` takes, signatures included (a stored conversation resumed).
    let chat2 = GeminiChat::new(chat_options(&k, json!({"model": "gemini-3.1-flash-lite"}))).unwrap();
    chat2.set_history(history).unwrap();
    settle(chat2.send("Once more".into(), JsValue::UNDEFINED)).await.unwrap();
    assert_eq!(requests(&k).await.last().unwrap()["signedTurns"], 3);
    let bad = obj(json!([{"role": "user", "text": "q", "thoughtSignature": "QUJDRA=="}]));
    let e = chat2.set_history(bad).unwrap_err();
    assert_eq!(invalid_at(&e), (Some("INVALID_INPUT".into()), Some("history[0].thoughtSignature".into())));
}

/// In wasm, floats are read and written by the engine (`Number`, `String`), not by Rust's float code:
/// the results must be what `JSON.parse`/`JSON.stringify` give, and round-trip exactly.
#[wasm_bindgen_test]
fn numbers_go_through_the_engine_and_round_trip() {
    use gemini_roadmap::json::num::{f64_to_string, parse_f64};
    use gemini_roadmap::json::Value;
    for (n, text) in [(0.1, "0.1"), (1.5, "1.5"), (-2.25, "-2.25"), (1e21, "1e+21"), (1e-7, "1e-7"), (5e-324, "5e-324"), (7.0, "7")] {
        assert_eq!(f64_to_string(n), text);
        assert_eq!(js_sys::JSON::stringify(&JsValue::from(n)).unwrap().as_string().unwrap(), text, "as JSON.stringify");
        assert_eq!(parse_f64(text), Some(n));
    }
    for (text, n) in [("5.", 5.0), (".5", 0.5), ("+5", 5.0), ("1.5E-2", 0.015), ("0.30000000000000004", 0.30000000000000004)] {
        assert_eq!(parse_f64(text), Some(n), "{text}");
    }
    assert_eq!([parse_f64(""), parse_f64("0x10"), parse_f64("Infinity"), parse_f64(" 1")], [None, None, None, None]);
    // A value written and read again is the same value, as JSON.parse reads it.
    let v = Value::parse(r#"{"a":[0.1,1e300,-0,123456789012345680000,2.5e-8]}"#).unwrap();
    let again = js_sys::JSON::parse(&v.to_json()).unwrap();
    let theirs = js_sys::JSON::parse(r#"{"a":[0.1,1e300,-0,123456789012345680000,2.5e-8]}"#).unwrap();
    assert_eq!(js_sys::JSON::stringify(&again).unwrap(), js_sys::JSON::stringify(&theirs).unwrap());
}

/// A JS value from `source`, an expression of `k` (the key) and `u` (the mock's URL): getters, Proxies, functions,
/// symbols and BigInts, which JSON cannot carry.
fn js(source: &str, k: &str) -> JsValue {
    js_sys::Function::new_with_args("k, u", &format!("return {source}")).call2(&JsValue::NULL, &k.into(), &mock_url().into()).unwrap()
}

/// `p` settled, or a rejection "still pending" after 5 s (an options object that threw left the promise pending).
async fn settle_soon(p: js_sys::Promise) -> Result<JsValue, JsValue> {
    let race = js_sys::Function::new_with_args(
        "p",
        "return Promise.race([p, new Promise((_, reject) => setTimeout(() => reject('still pending'), 5000))])",
    );
    settle(race.call1(&JsValue::NULL, &p).unwrap().into()).await
}

fn invalid_at(err: &JsValue) -> (Option<String>, Option<String>) {
    (str_field(err, "code"), str_field(err, "field"))
}

#[wasm_bindgen_test]
async fn options_json_cannot_carry_or_that_throw_are_invalid_input_at_their_path() {
    let k = key("node-unreadable");
    let run = "{ apiKey: k, baseUrl: u, role: 'DevOps Engineer', weeks: 1, log: false";
    let cases = [
        // A misspelt option holding a function (or a symbol) was dropped by JSON.stringify, so never reported.
        (format!("{run}, onprogress: () => {{}} }}"), "onprogress"),
        (format!("{run}, onProgres: function () {{}} }}"), "onProgres"),
        (format!("{run}, level: Symbol('x') }}"), "level"),
        (format!("{run}, resumeFrom: {{ role: 'x', toJSON: undefined, weeks: [() => 1] }} }}"), "resumeFrom.weeks[0]"),
        (format!("{run}, hoursPerDay: 2n }}"), "hoursPerDay"),
        // NaN deep down: named by its path, not `options`.
        (format!("{run}, resumeFrom: {{ role: 'x', usage: {{ promptTokens: NaN }} }} }}"), "resumeFrom.usage.promptTokens"),
        (format!("{run}, resumeFrom: {{ weeks: [{{}}, {{ week: 2, days: [{{ hours: Infinity }}] }}] }} }}"), "resumeFrom.weeks[1].days[0].hours"),
        // What throws when read: the promise rejects (it stayed pending, and the exception was uncaught).
        ("{ get apiKey() { throw new Error('x') }, role: 'r', weeks: 1 }".into(), "apiKey"),
        (format!("{run}, get signal() {{ throw new Error('x') }} }}"), "signal"),
        (format!("{run}, get onProgress() {{ throw new Error('x') }} }}"), "onProgress"),
        (format!("new Proxy({run} }}, {{ get() {{ throw new Error('x') }} }})"), "options"),
        (format!("new Proxy({run} }}, {{ ownKeys() {{ throw new Error('x') }} }})"), "options"),
        // Keys that cannot be listed are the options' own fault, before any option is read (a revoked Proxy was
        // reported as a bad `signal`, because `signal` was read first).
        ("(() => { const p = Proxy.revocable({}, {}); p.revoke(); return p.proxy })()".into(), "options"),
        (format!("{run}, resumeFrom: {{ role: 'x', get weeks() {{ throw new Error('x') }} }} }}"), "resumeFrom.weeks"),
        (format!("{run}, resumeFrom: {{ usage: {{ get promptTokens() {{ throw 'x' }} }} }} }}"), "resumeFrom.usage.promptTokens"),
        // What passes `instanceof AbortSignal` yet throws when its `aborted` is read (in a browser, a Proxy of a signal
        // too; Node's getters take one), and a thrown value whose
        // `message` throws or that is a revoked Proxy: these unwound through the wasm uncaught (Node exited), and
        // every call begun in the same tick stayed pending (found by an exploratory test).
        (format!("{run}, signal: Object.create(AbortSignal.prototype) }}"), "signal"),
        (format!("{run}, get level() {{ const e = new Error('x'); Object.defineProperty(e, 'message', {{ get() {{ throw e }} }}); throw e }} }}"), "level"),
        (format!("{run}, get level() {{ const p = Proxy.revocable({{}}, {{}}); p.revoke(); throw p.proxy }} }}"), "level"),
        // Boxed values read as objects (JSON unboxes them): mistyped at their own path, and the path of what follows
        // them is theirs (a boxed string's indices were counted as members, naming `role.hoursPerDay`).
        (format!("{run}, level: new String('x'), hoursPerDay: NaN }}"), "hoursPerDay"),
        (format!("{run}, hoursPerDay: new Number(NaN) }}"), "hoursPerDay"),
        // A key JSON.parse made own, which copying into a new object turned into its prototype (so never reported).
        (format!("Object.assign(JSON.parse('{{\"__proto__\": {{\"x\": 1}}}}'), {run} }})"), "__proto__"),
        // An unknown name set to `undefined` (a misspelt `signal: maybeSignal`), which JSON leaves out, is still
        // unknown (found by an exploratory test: it was ignored, while the chat's call options refused it).
        (format!("{run}, signall: undefined }}"), "signall"),
        (format!("{run}, onProgres: undefined, level: NaN }}"), "onProgres"),
    ];
    for (source, name) in cases {
        let err = settle_soon(generate_roadmap(js(&source, &k))).await.expect_err(&source);
        assert_eq!(invalid_at(&err), (Some("INVALID_INPUT".into()), Some(name.into())), "{source}: {err:?}");
    }
    let err = settle_soon(generate_roadmap(js("{ get apiKey() { throw new Error('no key here') }, role: 'r', weeks: 1 }", &k))).await.unwrap_err();
    assert_eq!(str_field(&err, "message").as_deref(), Some("Invalid option `apiKey`: could not be read: no key here"));
    // A misspelt callback is an unknown option, as with any other value; a thrown value that is no Error is named.
    let messages = [
        (format!("{run}, onprogress: () => {{}} }}"), "Invalid option `onprogress`: unknown field; expected one of "),
        (format!("{run}, level: () => {{}} }}"), "Invalid option `level`: must be plain data, not a function, a symbol or a BigInt"),
        (format!("{run}, get level() {{ throw 42 }} }}"), "Invalid option `level`: could not be read: 42"),
        // A signal that throws already when the call reads it is refused as an option that throws when read, with
        // what it threw (it said "must be an AbortSignal"); one that starts throwing later counts as aborted.
        (format!("{run}, signal: new Proxy(new AbortController().signal, {{ get() {{ throw new Error('trap') }} }}) }}"), "Invalid option `signal`: could not be read: trap"),
        // A required option set to `null` is missing, as `undefined` is ("invalid type: expected a string, got null").
        ("{ apiKey: null, role: 'r', weeks: 1 }".into(), "Invalid option `apiKey`: missing field"),
        (format!("{run}, role: null }}"), "Invalid option `role`: missing field"),
        (format!("{run}, weeks: null }}"), "Invalid option `weeks`: missing field"),
    ];
    for (source, message) in messages {
        let err = settle_soon(generate_roadmap(js(&source, &k))).await.expect_err(&source);
        assert!(str_field(&err, "message").unwrap_or_default().starts_with(message), "{source}: {err:?}");
    }
    // Nesting deeper than JSON's 128 levels, or an object that holds itself, is refused before the stack runs out
    // (it ran out inside JSON.stringify, and each such call kept ~34 MB of wasm memory); so is a sparse array
    // of 2^32 - 1 items (walked for ~20 s, then out of memory) and an array whose `length` throws (read as []).
    for (source, field, message) in [
        (format!("(() => {{ const o = {run} }}; let r = {{}}; o.resumeFrom = r; for (let i = 0; i < 5000; i++) r = r.a = {{}}; return o; }})()"), "", "is nested too deeply"),
        (format!("(() => {{ const o = {run} }}; o.resumeFrom = {{ role: 'x' }}; o.resumeFrom.self = o.resumeFrom; return o; }})()"), "resumeFrom.self", "holds itself (an object that contains it)"),
        (format!("(() => {{ const w = []; w.length = 2 ** 32 - 1; return {{ ...{run} }}, resumeFrom: {{ warnings: w }} }}; }})()"), "resumeFrom.warnings", "has more than 65536 items"),
        (format!("{run}, resumeFrom: {{ warnings: new Proxy([], {{ get(t, p) {{ if (p === 'length') throw new Error('no length'); return t[p]; }} }}) }} }}"), "resumeFrom.warnings", "could not be read: no length"),
    ] {
        let err = settle_soon(generate_roadmap(js(&source, &k))).await.expect_err(&source);
        assert_eq!(str_field(&err, "code").as_deref(), Some("INVALID_INPUT"));
        let (at, said) = (str_field(&err, "field").unwrap_or_default(), str_field(&err, "message").unwrap_or_default());
        assert!(at.starts_with("resumeFrom") && (field.is_empty() || at == field) && said.ends_with(message), "{at}: {said}");
    }
    // What has a `toJSON` stands for what it returns, as in JSON: a `URL` as `baseUrl` (it was refused as an object).
    let k2 = key("node-unreadable-regenerate");
    let rm = settle(generate_roadmap(js("{ apiKey: k, baseUrl: new URL(u), role: 'DevOps Engineer', weeks: 1, log: false }", &k2))).await;
    let rm = rm.expect("a URL as baseUrl");
    // regenerateWeek names an unknown option first too (it reported the function it holds).
    let asked = requests(&k2).await.len();
    let err = settle_soon(regenerate_week(rm.clone(), 1.into(), js("{ apiKey: k, baseUrl: u, onprogress: () => {} }", &k2))).await.unwrap_err();
    assert_eq!(invalid_at(&err), (Some("INVALID_INPUT".into()), Some("onprogress".into())));
    assert!(str_field(&err, "message").unwrap_or_default().contains("unknown field"), "{err:?}");
    let err = settle_soon(regenerate_week(rm.clone(), 1.into(), js("{ apiKey: k, baseUrl: u, sigal: undefined }", &k2))).await.unwrap_err();
    assert_eq!(invalid_at(&err), (Some("INVALID_INPUT".into()), Some("sigal".into())));
    assert_eq!(requests(&k2).await.len(), asked, "nothing sent");
    // The arguments in order: the roadmap is checked before the options.
    let err = settle_soon(regenerate_week(JsValue::NULL, 1.into(), js("{ apiKey: k, get signal() { throw new Error('x') } }", &k))).await;
    assert_eq!(invalid_at(&err.unwrap_err()), (Some("INVALID_INPUT".into()), Some("roadmap".into())));
    let err = settle_soon(regenerate_week(rm.clone(), 1.into(), js("{ apiKey: k, get signal() { throw new Error('x') } }", &k))).await;
    assert_eq!(invalid_at(&err.unwrap_err()), (Some("INVALID_INPUT".into()), Some("signal".into())));
    let revoked = js("(() => { const p = Proxy.revocable({}, {}); p.revoke(); return p.proxy })()", &k);
    let err = settle_soon(regenerate_week(rm.clone(), 1.into(), revoked)).await;
    assert_eq!(invalid_at(&err.unwrap_err()), (Some("INVALID_INPUT".into()), Some("options".into())));
    // Options set to `null` are not given, as `undefined` (role and weeks then come from the roadmap): they were
    // refused as missing, and `resumeFrom: null` as an option regenerateWeek does not take (found by a review).
    let week = settle(regenerate_week(rm, 1.into(), js("{ apiKey: k, baseUrl: u, log: false, role: null, weeks: null, resumeFrom: null }", &k2))).await;
    assert_eq!(num_field(&week.expect("null options are not given"), "totalWeeks"), Some(1.0));

    // The chat's constructor throws (synchronously) the same errors.
    let chat_cases = [
        ("{ apiKey: k, onProgress: () => {} }", "onProgress"),
        ("{ apiKey: k, generationConfig: { maxOutputTokens: NaN } }", "generationConfig.maxOutputTokens"),
        ("{ apiKey: k, generationConfig: { stopSequences: ['a', () => 1] } }", "generationConfig.stopSequences[1]"),
        ("{ apiKey: k, generationConfig: { temperature: new Number(NaN) } }", "generationConfig.temperature"),
        ("{ apiKey: k, get model() { throw new Error('x') } }", "model"),
        ("{ apiKey: k, timeout: undefined }", "timeout"),
        ("new Proxy({ apiKey: k }, { ownKeys() { throw new Error('x') } })", "options"),
    ];
    for (source, name) in chat_cases {
        let err = GeminiChat::new(js(source, &k)).err().expect(source);
        assert_eq!(invalid_at(&err), (Some("INVALID_INPUT".into()), Some(name.into())), "{source}");
    }
    // Its call options: a rejection, not an exception thrown by `send` or a signal silently left out.
    let chat = GeminiChat::new(chat_options(&k, json!({}))).unwrap();
    for (source, name) in [
        ("{ get signal() { throw new Error('x') } }", "signal"),
        ("{ get onProgress() { throw new Error('x') } }", "onProgress"),
        ("new Proxy({}, { ownKeys() { throw new Error('x') } })", "options"),
        ("{ onprogress: () => {} }", "onprogress"),
    ] {
        let err = settle_soon(chat.send("hi".into(), js(source, &k))).await.expect_err(source);
        assert_eq!(invalid_at(&err), (Some("INVALID_INPUT".into()), Some(name.into())), "{source}");
    }
    assert_eq!(requests(&k).await.len(), 0, "nothing reached the server");
}

/// A call with bad input waited for the calls ahead of it on the same chat before it rejected (a minute or more with
/// a slow answer and retries), and one with an aborted signal then rejected as an abort rather than as the mistake.
#[wasm_bindgen_test]
async fn bad_input_on_a_busy_chat_rejects_without_waiting_its_turn() {
    let k = key("node-busy-chat-bad-input");
    let chat = GeminiChat::new(chat_options(&k, json!({"maxRetries": 0}))).unwrap();
    script(&k, json!([{"fault": "hang"}])).await;
    let ctrl = web_sys::AbortController::new().unwrap();
    let with_signal = js_sys::Object::new();
    js_sys::Reflect::set(&with_signal, &"signal".into(), &ctrl.signal()).unwrap();
    let first = chat.send("first".into(), with_signal.clone().into());
    let aborted = js("{ signal: AbortSignal.abort() }", &k);
    let bad = [
        (chat.send(42.into(), JsValue::UNDEFINED), "text"),
        (chat.send(42.into(), aborted.clone()), "text"),
        (chat.send_json("x".into(), obj(json!({"signl": 1}))), "signl"),
        (chat.send("  ".into(), JsValue::UNDEFINED), "text"),
        (chat.send_json("".into(), JsValue::UNDEFINED), "text"),
        (chat.generate_json_batched(obj(json!(["a", ""])), JsValue::UNDEFINED), "prompts[1]"),
        (chat.generate_json_batched(obj(json!([])), JsValue::UNDEFINED), "prompts"),
        (chat.generate_json_batched(obj(json!(["a"])), obj(json!({"onprogress": 1}))), "onprogress"),
    ];
    for (p, field) in bad {
        let err = settle_soon(p).await.expect_err(field);
        assert_eq!(invalid_at(&err), (Some("INVALID_INPUT".into()), Some(field.into())), "{err:?}");
    }
    ctrl.abort();
    let err = settle_soon(first).await.unwrap_err();
    assert_eq!(str_field(&err, "name").as_deref(), Some("AbortError"));
    assert_eq!(requests(&k).await.len(), 1, "only the first call was sent");
}

/// A `send` that the chat's own settings make impossible (a `responseJsonSchema` without JSON: only `sendJson` adds
/// `application/json`) waited for the calls ahead of it before it rejected (found by an exploratory test).
#[wasm_bindgen_test]
async fn a_send_the_chats_settings_refuse_rejects_without_waiting_its_turn() {
    let k = key("node-busy-chat-schema");
    let schema = json!({"type": "object", "properties": {"a": {"type": "string"}}});
    let chat = GeminiChat::new(chat_options(&k, json!({"maxRetries": 0, "generationConfig": {"responseJsonSchema": schema}}))).unwrap();
    script(&k, json!([{"fault": "hang"}])).await;
    let ctrl = web_sys::AbortController::new().unwrap();
    let with_signal = js_sys::Object::new();
    js_sys::Reflect::set(&with_signal, &"signal".into(), &ctrl.signal()).unwrap();
    let first = chat.send_json("first".into(), with_signal.into());
    for _ in 0..200 {
        if !requests(&k).await.is_empty() {
            break;
        }
        sleep_ms(5).await;
    }
    let err = settle_soon(chat.send("second".into(), JsValue::UNDEFINED)).await.expect_err("send cannot succeed");
    assert_eq!(invalid_at(&err), (Some("INVALID_INPUT".into()), Some("generationConfig.responseJsonSchema".into())));
    ctrl.abort();
    let err = settle_soon(first).await.unwrap_err();
    assert_eq!(str_field(&err, "name").as_deref(), Some("AbortError"));
    assert_eq!(requests(&k).await.len(), 1, "only the JSON call was sent");
}

/// `clear()` or `setHistory()` while a call runs: the call's exchange belonged to the conversation replaced, and
/// came back into the new one when it settled (the next request resent it).
#[wasm_bindgen_test]
async fn a_call_running_when_the_history_is_replaced_is_not_kept() {
    let k = key("node-replaced-history");
    let chat = GeminiChat::new(chat_options(&k, json!({}))).unwrap();
    script(&k, json!([{"delayMs": 300}, {"delayMs": 300}])).await;
    // Once the request has reached Gemini (the mock), its answer takes 300 ms.
    let sent = |n: usize| {
        let k = k.clone();
        async move {
            for _ in 0..200 {
                if requests(&k).await.len() >= n {
                    return;
                }
                sleep_ms(5).await;
            }
            panic!("request {n} was not sent");
        }
    };
    let pending = chat.send("old question".into(), JsValue::UNDEFINED);
    sent(1).await;
    chat.clear();
    settle(pending).await.expect("the call itself succeeds");
    assert_eq!(js_sys::Array::from(&chat.history()).length(), 0, "cleared while it ran");
    let pending = chat.send("old question".into(), JsValue::UNDEFINED);
    sent(2).await;
    chat.set_history(obj(json!([{"role": "user", "text": "q"}, {"role": "model", "text": "a"}]))).unwrap();
    settle(pending).await.unwrap();
    let texts: Vec<String> =
        js_sys::Array::from(&chat.history()).iter().map(|t| str_field(&t, "text").unwrap_or_default()).collect();
    assert_eq!(texts, ["q", "a"], "replaced while it ran");
    // A call still waiting its turn is sent with the new history, and kept in it.
    let first = chat.send("first".into(), JsValue::UNDEFINED);
    let queued = chat.send("queued".into(), JsValue::UNDEFINED);
    chat.clear();
    settle(first).await.unwrap();
    settle(queued).await.unwrap();
    let texts: Vec<String> =
        js_sys::Array::from(&chat.history()).iter().map(|t| str_field(&t, "text").unwrap_or_default()).collect();
    assert_eq!(texts.len(), 4, "{texts:?}");
}

/// A body dropped before its end (the caller stopped reading: the run settled, a finished answer's stream was read no
/// further) aborts its request. It stayed open, a stalled stream until the server gave up, with Node kept running and
/// Gemini left writing (and billing) an answer nobody reads.
#[wasm_bindgen_test]
async fn a_body_dropped_before_its_end_ends_its_request() {
    let k = key("node-dropped-body");
    script(&k, json!([{"fault": "stall", "afterChunks": 1}])).await;
    let t = FetchTransport::new(None, false);
    let endpoint = Endpoint::new(&k, None, Some(mock_url()), None).unwrap();
    let ask = GenerateRequest { contents: vec![Content::user("TASK: WEEKS 1-3")], ..Default::default() };
    let (status, mut body) = t.send(&endpoint.describe_generate(&ask, true)).await.unwrap();
    assert_eq!(status, 200);
    assert!(body.next_chunk().await.unwrap().is_some(), "the first event came");
    drop(body);
    // The mock logs the request as aborted once the client's side of the connection closes.
    let mut ended = false;
    for _ in 0..100 {
        let log = requests(&k).await;
        if log.first().is_some_and(|r| r["aborted"] == true) {
            ended = true;
            break;
        }
        t.sleep(20).await.unwrap();
    }
    assert!(ended, "the request stayed open: {:?}", requests(&k).await);
}
