#![cfg(target_arch = "wasm32")]
//! The API key in headless Chrome and Firefox: it travels only in the `x-goog-api-key` header and
//! shows up nowhere else — not in a URL, not in any console message at any level (a JS-side hook
//! records `console.debug/log/info/warn/error` during runs with `log: true`, successful and failing),
//! not in `localStorage`/`sessionStorage`, not in any property of a thrown error (own properties walked
//! recursively, `partial` and `cause` included), not in progress events or results. Requests carry no
//! header of ours beyond `content-type` and `x-goog-api-key`: the CORS preflight asks for exactly those.
//! (That what the model returns is rendered inert is tested by the page tests.)

mod web_support;

use gemini_roadmap::exports::{generate_roadmap, GeminiChat};
use js_sys::{Array, Function, Reflect};
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;
use web_support::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Replaces the five console methods with recorders that still call the originals.
/// Returns `{ records: [{level, text}], restore() }`.
fn console_hook() -> JsValue {
    let install = Function::new_no_args(
        r#"
        const levels = ['debug', 'log', 'info', 'warn', 'error'];
        const records = [];
        const original = {};
        const show = (a) => {
            if (typeof a === 'string') return a;
            if (a instanceof Error || (a && typeof a === 'object' && 'message' in a)) {
                return `${a.name}: ${a.message}\n${a.stack || ''}\n${safeJson(a)}`;
            }
            return safeJson(a);
        };
        const safeJson = (a) => { try { return JSON.stringify(a) ?? String(a); } catch (e) { return String(a); } };
        for (const level of levels) {
            original[level] = console[level];
            console[level] = function (...args) {
                records.push({ level, text: args.map(show).join(' ') });
                return original[level].apply(this, args);
            };
        }
        return { records, restore() { for (const level of levels) console[level] = original[level]; } };
        "#,
    );
    install.call0(&JsValue::NULL).unwrap()
}

/// Every string reachable from `value`: own property names and values (non-enumerable ones such as
/// `message` and `stack` included), recursively through `partial`, `cause` and the rest, plus
/// `String(value)`, `name`, `message`, `stack` and `JSON.stringify(value)`.
fn all_text(value: &JsValue) -> String {
    let walk = Function::new_with_args(
        "root",
        r#"
        const out = [];
        const seen = new Set();
        const visit = (v, depth) => {
            if (v === null || v === undefined) return;
            if (typeof v !== 'object' && typeof v !== 'function') { out.push(String(v)); return; }
            if (seen.has(v) || depth > 64) return;
            seen.add(v);
            for (const name of Object.getOwnPropertyNames(v)) {
                out.push(name);
                let x;
                try { x = v[name]; } catch (e) { continue; }
                visit(x, depth + 1);
            }
        };
        visit(root, 0);
        if (root && typeof root === 'object') {
            for (const k of ['name', 'message', 'stack', 'code', 'cause']) { try { out.push(String(root[k])); } catch (e) {} }
        }
        try { out.push(String(root)); } catch (e) {}
        try { out.push(JSON.stringify(root)); } catch (e) {}
        return out.join('\n');
        "#,
    );
    walk.call1(&JsValue::NULL, value).unwrap().as_string().unwrap_or_default()
}

/// Fails if `text` holds the key as it is or as an escaped string literal would show it.
fn assert_no_key(text: &str, k: &str, what: &str) {
    let escaped = serde_json::to_string(k).unwrap();
    let escaped = &escaped[1..escaped.len() - 1];
    assert!(!text.contains(k), "the key leaked in {what}: {text}");
    assert!(!text.contains(escaped), "the key leaked (escaped) in {what}: {text}");
}

/// Everything in `localStorage` and `sessionStorage`, as `name=value` lines (empty if unavailable).
fn storage_text() -> (String, u32) {
    let read = Function::new_no_args(
        r#"
        let text = '', count = 0;
        for (const name of ['localStorage', 'sessionStorage']) {
            let s;
            try { s = globalThis[name]; } catch (e) { continue; }
            if (!s) continue;
            for (let i = 0; i < s.length; i++) { const k = s.key(i); text += `${name}:${k}=${s.getItem(k)}\n`; count++; }
        }
        return [text, count];
        "#,
    );
    let v: Array = read.call0(&JsValue::NULL).unwrap().into();
    (v.get(0).as_string().unwrap_or_default(), v.get(1).as_f64().unwrap_or(0.0) as u32)
}

fn roadmap_options(k: &str, extra: Value) -> JsValue {
    let mut o = json!({"apiKey": k, "baseUrl": mock_url(), "role": "Security Analyst", "weeks": 6, "maxRetries": 1, "log": true});
    for (key, v) in extra.as_object().unwrap() {
        o[key] = v.clone();
    }
    obj(o)
}

/// `generateRoadmap` with a progress sink: (result or error, the events as JSON text).
async fn roadmap_run(opts: JsValue) -> (Result<JsValue, JsValue>, String) {
    let events = Array::new();
    let sink = events.clone();
    let cb = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
        sink.push(&e);
    });
    Reflect::set(&opts, &"onProgress".into(), cb.as_ref()).unwrap();
    let result = generate_roadmap(opts).await;
    (result, js_sys::JSON::stringify(&events).map(String::from).unwrap_or_default())
}

/// `{ [name]: 1 }`: an option whose name is the key.
fn named(name: &str) -> Value {
    let mut m = serde_json::Map::new();
    m.insert(name.to_string(), json!(1));
    Value::Object(m)
}

/// A key that is easy to find anywhere: long and unlike anything else on the page.
fn distinctive_key(test: &str) -> String {
    format!("AIzaSyLEAKCHECK{}", key(test).replace('-', "_"))
}

/// Every way a call can fail, with `log: true`: each thrown value and every console line is searched.
#[wasm_bindgen_test]
async fn the_key_never_leaks_into_console_errors_events_or_storage() {
    let (_, stored_before) = storage_text();
    let hook = console_hook();
    let k = distinctive_key("s-leak");
    let mut thrown: Vec<(String, JsValue)> = Vec::new();
    let mut texts: Vec<(String, String)> = Vec::new();

    // A run that retries, re-asks and warns, then completes.
    script(&k, json!([{}, {"fault": "status", "status": 503}, {"fault": "prose"}, {}, {"fault": "extra-week"}])).await;
    let (ok, events) = roadmap_run(roadmap_options(&k, json!({}))).await;
    let ok = ok.expect("the retried run completes");
    texts.push(("a roadmap".into(), all_text(&ok)));
    texts.push(("progress events".into(), events));

    // Google quotes the key in some refusals (a suspended key's 403): in a retried 503, then in a final 403.
    let quoted = format!("Permission denied: Consumer 'api_key:{k}' has been suspended.");
    script(&k, json!([{}, {"fault": "status", "status": 503, "message": quoted}])).await;
    let (ok, events) = roadmap_run(roadmap_options(&k, json!({}))).await;
    texts.push(("a roadmap after a 503 quoting the key".into(), all_text(&ok.expect("completes after the retry"))));
    assert!(events.contains("api_key:***"), "the retry event says why, key hidden: {events}");
    texts.push(("the retry event of a 503 quoting the key".into(), events));
    script(&k, json!([{"fault": "status", "status": 403, "message": quoted}])).await;
    let (err, _) = roadmap_run(roadmap_options(&k, json!({}))).await;
    thrown.push(("AUTH quoting the key".into(), err.expect_err("suspended")));

    // Fails in batch 2: RATE_LIMITED with partial.
    script(&k, json!([{}, {}, {"fault": "quota-day"}])).await;
    let (err, events) = roadmap_run(roadmap_options(&k, json!({}))).await;
    thrown.push(("RATE_LIMITED with partial".into(), err.expect_err("quota")));
    texts.push(("progress events of a failed run".into(), events));

    // Retries spent on a hanging answer: TIMEOUT with partial.
    script(&k, json!([{}, {}, {"fault": "hang", "repeat": 2}])).await;
    let (err, _) = roadmap_run(roadmap_options(&k, json!({"timeoutMs": 300}))).await;
    thrown.push(("TIMEOUT".into(), err.expect_err("timeout")));

    // An in-stream error with no retries left: SERVER.
    script(&k, json!([{}, {"fault": "sse-error"}])).await;
    let (err, _) = roadmap_run(roadmap_options(&k, json!({"maxRetries": 0}))).await;
    thrown.push(("SERVER from the stream".into(), err.expect_err("sse-error")));

    // Aborted while waiting: AbortError with partial.
    script(&k, json!([{}, {}, {"fault": "hang"}])).await;
    let ctrl = web_sys::AbortController::new().unwrap();
    let opts = roadmap_options(&k, json!({}));
    Reflect::set(&opts, &"signal".into(), &ctrl.signal()).unwrap();
    let pending = wasm_bindgen_futures::future_to_promise(async move { generate_roadmap(opts).await });
    let before = requests(&k).await.len();
    for _ in 0..400 {
        if requests(&k).await.len() >= before + 4 {
            break;
        }
        sleep_ms(10).await;
    }
    ctrl.abort();
    thrown.push(("AbortError".into(), settle(pending).await.expect_err("aborted")));

    // Nothing to connect to: NETWORK, saying where and what it may be (it said only "Failed to fetch").
    let (err, _) = roadmap_run(roadmap_options(&k, json!({"baseUrl": "http://127.0.0.1:9", "maxRetries": 0}))).await;
    let err = err.expect_err("refused");
    let message = str_field(&err, "message").unwrap_or_default();
    assert!(message.ends_with("(http://127.0.0.1:9: offline, refused, or the answer blocked by CORS)"), "{message}");
    thrown.push(("NETWORK".into(), err));

    // The key where another option belongs, or as an option's name: INVALID_INPUT.
    for (i, extra) in [json!({"weeks": k}), json!({"history": k}), named(&k)].into_iter().enumerate() {
        let (err, _) = roadmap_run(roadmap_options(&k, extra)).await;
        thrown.push((format!("INVALID_INPUT #{i}"), err.expect_err("invalid")));
    }
    let err = GeminiChat::new(obj(json!({"apiKey": k, "timeoutMs": k}))).err().expect("invalid chat options");
    thrown.push(("GeminiChat INVALID_INPUT".into(), err));

    // The chat API: a failed send, a truncated sendJson, a batched call failing half-way.
    let chat = GeminiChat::new(obj(
        json!({"apiKey": k, "baseUrl": mock_url(), "maxRetries": 0, "log": true}),
    ))
    .unwrap();
    script(&k, json!([{"fault": "status", "status": 500}, {"fault": "truncate", "atChars": 50}, {}, {"fault": "status", "status": 429, "retryDelay": "400s"}])).await;
    thrown.push(("chat SERVER".into(), settle(chat.send("hello".into(), JsValue::UNDEFINED)).await.expect_err("500")));
    let prompt = "Role: Security Analyst\nTotal weeks: 3\nTASK: WEEKS 1-2";
    thrown.push((
        "chat TRUNCATED".into(),
        settle(chat.send_json(prompt.into(), JsValue::UNDEFINED)).await.expect_err("cut"),
    ));
    let prompts = obj(json!([
        "Role: Security Analyst\nTotal weeks: 3\nTASK: WEEK 1",
        "Role: Security Analyst\nTotal weeks: 3\nTASK: WEEK 2"
    ]));
    thrown.push((
        "generateJsonBatched RATE_LIMITED".into(),
        settle(chat.generate_json_batched(prompts, JsValue::UNDEFINED)).await.expect_err("429"),
    ));
    texts.push(("chat history".into(), all_text(&chat.history())));
    // A call's option and a turn's field named like the key: checked apart from the chat's options, they kept it.
    thrown.push((
        "chat call option named like the key".into(),
        settle(chat.send("hello".into(), obj(named(&k)))).await.expect_err("not a call option"),
    ));
    let mut turn = named(&k);
    turn["role"] = json!("user");
    turn["text"] = json!("hi");
    thrown.push(("setHistory field named like the key".into(), chat.set_history(obj(json!([turn]))).expect_err("unknown field")));

    // A bad key is a key too.
    let bad = format!("bad{}", distinctive_key("s-bad"));
    let (err, _) = roadmap_run(roadmap_options(&bad, json!({}))).await;
    let err = err.expect_err("bad key");
    assert_eq!(str_field(&err, "code").as_deref(), Some("AUTH"));
    assert_no_key(&all_text(&err), &bad, "the AUTH error");

    Reflect::get(&hook, &"restore".into()).map(|f| Function::from(f).call0(&hook)).unwrap().unwrap();
    let records = to_json(&Reflect::get(&hook, &"records".into()).unwrap());
    let records = records.as_array().unwrap();

    let codes: Vec<String> = thrown
        .iter()
        .map(|(_, e)| str_field(e, "code").unwrap_or_else(|| str_field(e, "name").unwrap_or_default()))
        .collect();
    assert_eq!(
        codes,
        [
            "AUTH",
            "RATE_LIMITED",
            "TIMEOUT",
            "SERVER",
            "AbortError",
            "NETWORK",
            "INVALID_INPUT",
            "INVALID_INPUT",
            "INVALID_INPUT",
            "INVALID_INPUT",
            "SERVER",
            "TRUNCATED",
            "RATE_LIMITED",
            "INVALID_INPUT",
            "INVALID_INPUT"
        ],
        "every failure happened as scripted"
    );
    for (what, e) in &thrown {
        assert_no_key(&all_text(e), &k, what);
    }
    for (what, text) in &texts {
        assert_no_key(text, &k, what);
    }
    let levels: Vec<&str> = records.iter().filter_map(|r| r["level"].as_str()).collect();
    assert!(levels.iter().filter(|l| **l == "debug").count() >= 10, "log: true wrote monitoring lines: {levels:?}");
    for r in records {
        let text = r["text"].as_str().unwrap_or("");
        assert_no_key(text, &k, &format!("console.{}", r["level"]));
        assert_no_key(text, &bad, &format!("console.{}", r["level"]));
    }
    let (stored, count) = storage_text();
    assert_eq!(count, stored_before, "the library stores nothing");
    assert_no_key(&stored, &k, "web storage");

    // The key only ever travelled in its header.
    let reqs = requests(&k).await;
    assert!(reqs.len() > 20, "{}", reqs.len());
    for r in &reqs {
        assert_eq!(r["keyInUrl"], false, "{}", r["path"]);
        assert_eq!(r["query"].as_object().map(|q| q.contains_key("key")), Some(false), "{}", r["query"]);
        assert_no_key(r["path"].as_str().unwrap_or(""), &k, "a URL path");
        assert_eq!(r["headers"]["x-goog-api-key"], json!(k.len()), "sent as the x-goog-api-key header");
    }
}

/// The exact header list: the preflight asks for `content-type,x-goog-api-key` on POST and
/// `x-goog-api-key` on GET, and the requests carry no other header of ours.
#[wasm_bindgen_test]
async fn requests_carry_only_content_type_and_the_key_header() {
    // gemini-2.5-flash-lite is used by no other test in this file, so its first requests need a preflight.
    let k = distinctive_key("s-headers");
    let opts = roadmap_options(&k, json!({"model": "gemini-2.5-flash-lite", "weeks": 3, "log": false}));
    let (rm, _) = roadmap_run(opts).await;
    rm.expect("generated");
    let chat =
        GeminiChat::new(obj(json!({"apiKey": k, "baseUrl": mock_url(), "model": "gemini-2.5-flash-lite"}))).unwrap();
    settle(chat.send("hello".into(), JsValue::UNDEFINED)).await.unwrap();

    let reqs = requests(&k).await;
    let kinds: Vec<&str> = reqs.iter().filter_map(|r| r["kind"].as_str()).collect();
    assert_eq!(kinds, ["getModel", "stream", "stream", "generate"]);
    for r in &reqs {
        let names: Vec<&str> = r["headerNames"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
        let post = r["method"] == "POST";
        assert!(names.contains(&"x-goog-api-key"), "{names:?}");
        assert_eq!(names.contains(&"content-type"), post, "{names:?}");
        if post {
            assert_eq!(r["headers"]["content-type"], "application/json");
        }
        for n in &names {
            assert!(!n.starts_with("x-") || *n == "x-goog-api-key", "a custom header {n} was sent: {names:?}");
            assert!(!["authorization", "cookie", "content-language"].contains(n), "{n} was sent: {names:?}");
        }
        assert_eq!(r["headers"]["accept"], "*/*", "fetch's default Accept, not ours");
        assert_eq!(r["keyInUrl"], false);
    }

    let global: JsValue = js_sys::global().into();
    let origin = Reflect::get(&Reflect::get(&global, &"location".into()).unwrap(), &"origin".into())
        .unwrap()
        .as_string()
        .unwrap();
    let preflights: Vec<Value> = all_requests()
        .await
        .into_iter()
        .filter(|r| r["kind"] == "preflight" && r["origin"].as_str() == Some(origin.as_str()))
        .collect();
    let requested = |path_part: &str| -> Vec<Value> {
        preflights.iter().filter(|p| p["path"].as_str().unwrap_or("").contains(path_part)).cloned().collect()
    };
    let post = requested("gemini-2.5-flash-lite:streamGenerateContent");
    let get: Vec<Value> =
        requested("models/gemini-2.5-flash-lite").into_iter().filter(|p| p["requestedMethod"] == "GET").collect();
    assert!(!post.is_empty() && !get.is_empty(), "the browser asked before sending: {preflights:?}");
    for p in &post {
        assert_eq!(p["requestedMethod"], "POST");
        assert_eq!(p["requestedHeaders"], json!(["content-type", "x-goog-api-key"]));
    }
    for p in &get {
        assert_eq!(p["requestedHeaders"], json!(["x-goog-api-key"]));
    }
    // Every preflight this page ever caused (other tests in this file included) asked for nothing else.
    for p in &preflights {
        let h = p["requestedHeaders"].as_array().unwrap();
        let expected = if p["requestedMethod"] == "POST" {
            json!(["content-type", "x-goog-api-key"])
        } else {
            json!(["x-goog-api-key"])
        };
        assert_eq!(json!(h), expected, "{p}");
        assert_eq!(p["status"], 200);
    }
}

/// A key with characters a string literal escapes (`"`, `\`) is hidden in messages in both forms.
#[wasm_bindgen_test]
async fn an_escaped_key_is_hidden_too() {
    let k = format!("{}\"q\\x", distinctive_key("s-escaped"));
    for extra in [json!({"weeks": k}), json!({"batchWeeks": k}), named(&k)] {
        let (err, _) = roadmap_run(roadmap_options(&k, extra.clone())).await;
        let err = err.expect_err("invalid");
        assert_eq!(str_field(&err, "code").as_deref(), Some("INVALID_INPUT"), "{extra}");
        assert_no_key(&all_text(&err), &k, &format!("the error for {extra}"));
    }
    assert!(requests(&k).await.is_empty(), "nothing was sent");
}
