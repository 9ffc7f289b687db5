//! Helpers for the wasm test suites: reading JS fields, awaiting promises, scripting the mock Gemini.
#![allow(dead_code)]

use gemini_roadmap::gemini::transport::{Body, HttpRequest, Transport};
use gemini_roadmap::web::fetch::FetchTransport;
use js_sys::{Promise, Reflect};
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// The mock's URL, fixed when the tests were compiled (scripts/test.sh starts the mock first).
#[allow(clippy::option_env_unwrap)] // env! would stop `cargo check --all-targets` from compiling without the mock
pub fn mock_url() -> &'static str {
    option_env!("MOCK_GEMINI_URL").expect("MOCK_GEMINI_URL must be set when building the wasm tests")
}

pub fn field(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

pub fn str_field(v: &JsValue, key: &str) -> Option<String> {
    field(v, key).as_string()
}

pub fn num_field(v: &JsValue, key: &str) -> Option<f64> {
    field(v, key).as_f64()
}

pub async fn settle(p: Promise) -> Result<JsValue, JsValue> {
    JsFuture::from(p).await
}

pub fn obj(json: Value) -> JsValue {
    js_sys::JSON::parse(&json.to_string()).unwrap()
}

pub fn to_json(v: &JsValue) -> Value {
    let s: String = js_sys::JSON::stringify(v).unwrap().into();
    serde_json::from_str(&s).unwrap()
}

async fn http(method: &'static str, path: &str, body: Option<String>) -> Value {
    let t = FetchTransport::new(None, false);
    let mut headers = vec![];
    if body.is_some() {
        headers.push(("content-type", "application/json".to_string()));
    }
    let req = HttpRequest { method, url: format!("{}{}", mock_url(), path), headers, body, timeout_ms: 10_000 };
    let (status, mut body) = t.send(&req).await.expect("mock reachable");
    let bytes = body.read_all().await.unwrap();
    assert!(status < 300, "mock control call {path} failed with {status}");
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

/// Queues scripted faults for the next generate requests made with `key`.
pub async fn script(key: &str, steps: Value) {
    http("POST", "/__mock/script", Some(serde_json::json!({"key": key, "steps": steps}).to_string())).await;
}

/// Every request the mock received with `key` (preflights excluded).
pub async fn requests(key: &str) -> Vec<Value> {
    let v = http("GET", &format!("/__mock/requests?key={key}"), None).await;
    v["requests"].as_array().cloned().unwrap_or_default().into_iter().filter(|r| r["method"] != "OPTIONS").collect()
}

/// A key unique to one test, so that scripts and request logs never mix.
pub fn key(test: &str) -> String {
    format!("test-key-{test}-{}", (js_sys::Math::random() * 1e9) as u64)
}

pub fn chat_options(key: &str, extra: Value) -> JsValue {
    let mut o = serde_json::json!({"apiKey": key, "baseUrl": mock_url()});
    if let (Some(o), Some(e)) = (o.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            o.insert(k.clone(), v.clone());
        }
    }
    obj(o)
}

// ---- Added for the fault matrix and key-safety suites (web_faults.rs, web_safety.rs) ----

/// Waits `ms` milliseconds on the global `setTimeout` (pages and workers alike).
pub async fn sleep_ms(ms: u32) {
    let global: JsValue = js_sys::global().into();
    let set_timeout: js_sys::Function = Reflect::get(&global, &"setTimeout".into()).unwrap().into();
    let p = Promise::new(&mut |resolve, _| {
        let _ = set_timeout.call2(&JsValue::NULL, &resolve, &JsValue::from(ms));
    });
    let _ = JsFuture::from(p).await;
}

/// Every request the mock logged, for every key (preflights included): to find the preflights, which carry no key.
pub async fn all_requests() -> Vec<Value> {
    let v = http("GET", "/__mock/requests", None).await;
    v["requests"].as_array().cloned().unwrap_or_default()
}

/// One mock log entry in a word: `model` (GET models/{m}), what the prompt asked for (`OUTLINE`,
/// `WEEKS 4-6`, `WEEK 4`) followed by ` !fault` for a content fault, or `!fault` alone for a fault
/// answered before the prompt was read (`!429`, `!quota-day`, `!hang`, ...).
pub fn describe(r: &Value) -> String {
    if r["kind"] == "getModel" {
        return "model".into();
    }
    let fault = match r["fault"].as_str() {
        Some("status") => Some(format!("!{}", r["step"]["status"])),
        Some(f) => Some(format!("!{f}")),
        None => None,
    };
    let t = &r["task"];
    let task = match (t["kind"].as_str(), t["from"].as_u64(), t["to"].as_u64()) {
        (Some("outline"), _, _) => Some("OUTLINE".to_string()),
        (Some("weeks"), Some(a), Some(b)) if a == b => Some(format!("WEEK {a}")),
        (Some("weeks"), Some(a), Some(b)) => Some(format!("WEEKS {a}-{b}")),
        (Some(k), _, _) => Some(k.to_string()),
        _ => None,
    };
    match (task, fault) {
        (Some(t), Some(f)) => format!("{t} {f}"),
        (Some(t), None) => t,
        (None, Some(f)) => f,
        (None, None) => format!("{} {}", r["kind"].as_str().unwrap_or("?"), r["status"]),
    }
}

/// `describe` for every request made with `key`, oldest first.
pub async fn trace(key: &str) -> Vec<String> {
    requests(key).await.iter().map(describe).collect()
}

/// Milliseconds since the epoch (`Date.now()`).
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}
