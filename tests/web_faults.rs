#![cfg(target_arch = "wasm32")]
//! The fault matrix (docs/failure-matrix.md): `generateRoadmap` in headless Chrome and Firefox against
//! the mock Gemini, one test per fault. Each asserts what the caller gets (the roadmap, or the error's
//! `code`/`name` and its `partial` weeks) and exactly which requests the mock received, in order
//! (`describe` in web_support: `model`, `OUTLINE`, `WEEKS 1-3`, `!503`, `WEEKS 1-3 !sse-cut`, ...).
//! Then "nothing lost": a failure in the first, a middle or the last batch keeps exactly the finished
//! weeks, and `resumeFrom` asks only for the others.
//!
//! Scripted steps are used by generate requests only (not by the model lookup): step 0 is the outline,
//! step 1 the first batch request, and so on. Timing assertions are lower bounds only, except for the
//! abort during a 30 s retry wait, which is compared with that delay.

mod web_support;

use gemini_roadmap::exports::generate_roadmap;
use js_sys::{Array, Reflect};
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;
use web_support::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Six weeks in two batches of three, one retry: model lookup, outline, `WEEKS 1-3`, `WEEKS 4-6`.
fn options(k: &str, extra: Value) -> JsValue {
    let mut o = json!({"apiKey": k, "baseUrl": mock_url(), "role": "DevOps Engineer", "weeks": 6, "maxRetries": 1, "log": false});
    for (key, v) in extra.as_object().unwrap() {
        o[key] = v.clone();
    }
    obj(o)
}

struct Run {
    result: Result<Value, JsValue>,
    events: Vec<Value>,
    elapsed_ms: f64,
}

impl Run {
    fn roadmap(&self) -> &Value {
        self.result.as_ref().unwrap_or_else(|e| panic!("rejected: {}", str_field(e, "message").unwrap_or_default()))
    }
    fn error(&self) -> &JsValue {
        self.result.as_ref().err().unwrap_or_else(|| panic!("resolved: {:?}", self.result.as_ref().ok()))
    }
    fn code(&self) -> String {
        let e = self.error();
        str_field(e, "code").unwrap_or_else(|| str_field(e, "name").unwrap_or_default())
    }
    /// The week numbers of the error's `partial`, or `None` when it has none.
    fn partial_weeks(&self) -> Option<Vec<u64>> {
        let p = field(self.error(), "partial");
        (!p.is_undefined()).then(|| week_numbers(&to_json(&p)))
    }
    fn count(&self, kind: &str) -> usize {
        self.events.iter().filter(|e| e["type"] == kind).count()
    }
    fn retries(&self) -> Vec<&Value> {
        self.events.iter().filter(|e| e["type"] == "retry").collect()
    }
    fn warnings(&self) -> String {
        self.roadmap()["warnings"].to_string()
    }
}

fn week_numbers(rm: &Value) -> Vec<u64> {
    rm["weeks"].as_array().map(|w| w.iter().filter_map(|w| w["week"].as_u64()).collect()).unwrap_or_default()
}

fn weeks(range: std::ops::RangeInclusive<u64>) -> Vec<u64> {
    range.collect()
}

/// Runs `generateRoadmap`, collecting every progress event and the time it took.
async fn run(opts: JsValue) -> Run {
    let events = Array::new();
    let sink = events.clone();
    let cb = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
        sink.push(&e);
    });
    Reflect::set(&opts, &"onProgress".into(), cb.as_ref()).unwrap();
    let started = now_ms();
    let result = generate_roadmap(opts).await.map(|v| to_json(&v));
    let elapsed_ms = now_ms() - started;
    let events = to_json(&events.into()).as_array().cloned().unwrap_or_default();
    Run { result, events, elapsed_ms }
}

async fn scripted(name: &str, steps: Value, extra: Value) -> (String, Run) {
    let k = key(name);
    script(&k, steps).await;
    let r = run(options(&k, extra)).await;
    (k, r)
}

/// Weeks 1..=n once each, in order, 7 days each; `fallback` counts the placeholder weeks.
fn assert_complete(rm: &Value, n: u64, fallback: usize) {
    assert_eq!(rm["totalWeeks"], n);
    assert_eq!(week_numbers(rm), weeks(1..=n), "{}", rm["warnings"]);
    for w in rm["weeks"].as_array().unwrap() {
        assert_eq!(w["days"].as_array().unwrap().len(), 7, "week {}", w["week"]);
    }
    let placeholders = rm["weeks"].as_array().unwrap().iter().filter(|w| w["fallback"] == true).count();
    assert_eq!(placeholders, fallback, "placeholder weeks: {}", rm["warnings"]);
}

// ---- transient HTTP faults: retried, then the run completes -----------------------------------------

#[wasm_bindgen_test]
async fn f01_429_with_retry_info_waits_at_least_the_delay() {
    let (k, r) =
        scripted("m-429", json!([{}, {"fault": "status", "status": 429, "retryDelay": "1.2s"}]), json!({})).await;
    assert_complete(r.roadmap(), 6, 0);
    assert_eq!(trace(&k).await, ["model", "OUTLINE", "!429", "WEEKS 1-3", "WEEKS 4-6"]);
    assert_eq!(r.roadmap()["usage"]["requests"], 5);
    let retries = r.retries();
    assert_eq!(retries.len(), 1);
    assert!(retries[0]["delayMs"].as_f64().unwrap() >= 1200.0, "{:?}", retries[0]);
    assert!(r.elapsed_ms >= 1200.0, "Google's RetryInfo of 1.2 s was honoured: the run took {} ms", r.elapsed_ms);
}

#[wasm_bindgen_test]
async fn f02_429_per_day_quota_fails_fast_with_partial() {
    let (k, r) = scripted("m-day", json!([{}, {}, {"fault": "quota-day"}]), json!({"maxRetries": 3})).await;
    assert_eq!(r.code(), "RATE_LIMITED");
    assert_eq!(field(r.error(), "retryable").as_bool(), Some(false));
    assert!(to_json(&field(r.error(), "quotaIds")).to_string().contains("PerDay"));
    assert_eq!(num_field(r.error(), "batch"), Some(2.0));
    assert_eq!(r.partial_weeks(), Some(weeks(1..=3)));
    assert_eq!(trace(&k).await, ["model", "OUTLINE", "WEEKS 1-3", "!quota-day"], "a daily quota is never retried");
    assert_eq!(r.count("retry"), 0);
}

#[wasm_bindgen_test]
async fn f03_503_twice_then_success() {
    let (k, r) =
        scripted("m-503", json!([{}, {"fault": "status", "status": 503, "repeat": 2}]), json!({"maxRetries": 2})).await;
    assert_complete(r.roadmap(), 6, 0);
    assert_eq!(trace(&k).await, ["model", "OUTLINE", "!503", "!503", "WEEKS 1-3", "WEEKS 4-6"]);
    assert_eq!(r.roadmap()["usage"]["requests"], 6);
    assert_eq!(r.count("retry"), 2);
}

#[wasm_bindgen_test]
async fn f04_503_beyond_max_retries_rejects_with_partial() {
    let (k, r) = scripted("m-503x", json!([{}, {}, {"fault": "status", "status": 503, "repeat": 2}]), json!({})).await;
    assert_eq!(r.code(), "SERVER");
    assert_eq!(num_field(r.error(), "status"), Some(503.0));
    assert_eq!(field(r.error(), "retryable").as_bool(), Some(true));
    assert_eq!(r.partial_weeks(), Some(weeks(1..=3)));
    assert_eq!(trace(&k).await, ["model", "OUTLINE", "WEEKS 1-3", "!503", "!503"]);
}

#[wasm_bindgen_test]
async fn f05_500_once() {
    let (k, r) = scripted("m-500", json!([{}, {"fault": "status", "status": 500}]), json!({})).await;
    assert_complete(r.roadmap(), 6, 0);
    assert_eq!(trace(&k).await, ["model", "OUTLINE", "!500", "WEEKS 1-3", "WEEKS 4-6"]);
}

#[wasm_bindgen_test]
async fn f06_html_502_page() {
    let (k, r) = scripted("m-502", json!([{}, {"fault": "html502"}]), json!({})).await;
    assert_complete(r.roadmap(), 6, 0);
    assert_eq!(trace(&k).await, ["model", "OUTLINE", "!html502", "WEEKS 1-3", "WEEKS 4-6"]);
    let reason = r.retries()[0]["reason"].as_str().unwrap().to_string();
    assert!(reason.contains("502"), "{reason}");
}

#[wasm_bindgen_test]
async fn f07_connection_refused() {
    let k = key("m-refused");
    let r = run(options(&k, json!({"baseUrl": "http://127.0.0.1:9"}))).await;
    assert_eq!(r.code(), "NETWORK");
    assert_eq!(field(r.error(), "retryable").as_bool(), Some(true));
    assert_eq!(r.partial_weeks(), None, "nothing was planned yet");
    assert_eq!(r.count("retry"), 1, "the model lookup was tried twice");
    assert!(requests(&k).await.is_empty());
}

#[wasm_bindgen_test]
async fn f08_connection_reset() {
    let (k, r) = scripted("m-reset", json!([{}, {"fault": "reset"}]), json!({})).await;
    assert_complete(r.roadmap(), 6, 0);
    assert_eq!(trace(&k).await, ["model", "OUTLINE", "!reset", "WEEKS 1-3", "WEEKS 4-6"]);
}

#[wasm_bindgen_test]
async fn f09_a_response_that_never_ends_times_out_and_is_retried() {
    let (k, r) = scripted("m-hang", json!([{}, {"fault": "hang"}]), json!({"timeoutMs": 500})).await;
    assert_complete(r.roadmap(), 6, 0);
    assert_eq!(trace(&k).await, ["model", "OUTLINE", "!hang", "WEEKS 1-3", "WEEKS 4-6"]);
    assert_eq!(requests(&k).await[2]["aborted"], true, "the client gave up on the hanging request");
    let reason = r.retries()[0]["reason"].as_str().unwrap().to_string();
    assert!(reason.contains("timed out after 500 ms"), "{reason}");
    assert!(r.elapsed_ms >= 500.0, "{}", r.elapsed_ms);
}

#[wasm_bindgen_test]
async fn f10_hanging_twice_rejects_with_timeout_and_partial() {
    let (k, r) = scripted("m-hang2", json!([{}, {}, {"fault": "hang", "repeat": 2}]), json!({"timeoutMs": 500})).await;
    assert_eq!(r.code(), "TIMEOUT");
    assert_eq!(num_field(r.error(), "timeoutMs"), Some(500.0));
    assert_eq!(r.partial_weeks(), Some(weeks(1..=3)));
    assert_eq!(trace(&k).await, ["model", "OUTLINE", "WEEKS 1-3", "!hang", "!hang"]);
}

// ---- faults inside a stream ---------------------------------------------------------------------------

#[wasm_bindgen_test]
async fn f11_sse_stream_cut_mid_event() {
    let (k, r) = scripted("m-cut", json!([{}, {"fault": "sse-cut"}]), json!({})).await;
    assert_complete(r.roadmap(), 6, 0);
    // Nothing complete arrived before the cut: the weeks are asked again, in halves like any cut answer.
    assert_eq!(trace(&k).await, ["model", "OUTLINE", "WEEKS 1-3 !sse-cut", "WEEKS 1-2", "WEEK 3", "WEEKS 4-6"]);
    assert_eq!(r.roadmap()["batches"][0]["status"], "recovered");
}

#[wasm_bindgen_test]
async fn f12_error_event_inside_the_stream() {
    let (k, r) = scripted("m-sse-error", json!([{}, {"fault": "sse-error"}]), json!({})).await;
    assert_complete(r.roadmap(), 6, 0);
    assert_eq!(trace(&k).await, ["model", "OUTLINE", "WEEKS 1-3 !sse-error", "WEEKS 1-3", "WEEKS 4-6"]);
    let reason = r.retries()[0]["reason"].as_str().unwrap().to_string();
    assert!(reason.contains("500"), "an in-stream error is a server error, retried: {reason}");
}

// ---- what the model answers -----------------------------------------------------------------------------

#[wasm_bindgen_test]
async fn f13_blocked_prompt_rejects_with_partial() {
    let (k, r) =
        scripted("m-blocked", json!([{}, {}, {"fault": "blocked", "reason": "SAFETY"}]), json!({"maxRetries": 3}))
            .await;
    assert_eq!(r.code(), "BLOCKED");
    assert_eq!(str_field(r.error(), "reason").as_deref(), Some("SAFETY"));
    assert_eq!(r.partial_weeks(), Some(weeks(1..=3)));
    assert_eq!(
        trace(&k).await,
        ["model", "OUTLINE", "WEEKS 1-3", "WEEKS 4-6 !blocked"],
        "a refused prompt is not asked again"
    );
}

#[wasm_bindgen_test]
async fn f14_safety_stop_mid_batch_keeps_the_finished_week_and_asks_for_the_rest() {
    let (k, r) = scripted("m-safety", json!([{}, {"fault": "safety"}]), json!({})).await;
    assert_complete(r.roadmap(), 6, 0);
    assert_eq!(trace(&k).await, ["model", "OUTLINE", "WEEKS 1-3 !safety", "WEEKS 2-3", "WEEKS 4-6"]);
    assert!(r.warnings().contains("stopped (SAFETY)"), "{}", r.warnings());
}

#[wasm_bindgen_test]
async fn f15_safety_stop_twice_rejects_with_partial() {
    let (k, r) =
        scripted("m-safety2", json!([{}, {}, {"fault": "safety", "repeat": 2}]), json!({"maxRetries": 3})).await;
    assert_eq!(r.code(), "BLOCKED");
    assert_eq!(str_field(r.error(), "reason").as_deref(), Some("SAFETY"));
    assert_eq!(r.partial_weeks(), Some(weeks(1..=4)), "week 4 was complete before the first stop");
    assert_eq!(trace(&k).await, ["model", "OUTLINE", "WEEKS 1-3", "WEEKS 4-6 !safety", "WEEKS 5-6 !safety"]);
}

#[wasm_bindgen_test]
async fn f16_empty_candidates() {
    let (k, r) = scripted("m-empty", json!([{}, {"fault": "empty-candidates"}]), json!({})).await;
    assert_complete(r.roadmap(), 6, 0);
    assert_eq!(
        trace(&k).await,
        ["model", "OUTLINE", "WEEKS 1-3 !empty-candidates", "WEEKS 1-2", "WEEK 3", "WEEKS 4-6"]
    );
}

#[wasm_bindgen_test]
async fn f17_thought_parts_only() {
    let (k, r) = scripted("m-thoughts", json!([{}, {"fault": "thoughts-only"}]), json!({})).await;
    assert_complete(r.roadmap(), 6, 0);
    assert_eq!(trace(&k).await, ["model", "OUTLINE", "WEEKS 1-3 !thoughts-only", "WEEKS 1-2", "WEEK 3", "WEEKS 4-6"]);
}

async fn read_as_is(fault: &str) {
    let (k, r) = scripted(&format!("m-{fault}"), json!([{}, {"fault": fault}]), json!({})).await;
    assert_complete(r.roadmap(), 6, 0);
    let answer = format!("WEEKS 1-3 !{fault}");
    assert_eq!(
        trace(&k).await,
        ["model", "OUTLINE", answer.as_str(), "WEEKS 4-6"],
        "read through the JSON fallbacks, not asked again"
    );
    assert_eq!(r.count("retry"), 0);
}

#[wasm_bindgen_test]
async fn f18_fenced_json() {
    read_as_is("fenced").await;
}

#[wasm_bindgen_test]
async fn f19_commented_json() {
    read_as_is("commented").await;
}

#[wasm_bindgen_test]
async fn f20_trailing_comma_json() {
    read_as_is("trailing-comma").await;
}

#[wasm_bindgen_test]
async fn f21_truncated_json_keeps_the_complete_weeks() {
    let (k, r) = scripted("m-trunc", json!([{}, {"fault": "truncate", "atChars": 9000}]), json!({})).await;
    assert_complete(r.roadmap(), 6, 0);
    assert_eq!(trace(&k).await, ["model", "OUTLINE", "WEEKS 1-3 !truncate", "WEEKS 2-3", "WEEKS 4-6"]);
    assert_eq!(r.roadmap()["batches"][0]["status"], "recovered");
}

#[wasm_bindgen_test]
async fn f22_wrong_week_numbers_are_renumbered() {
    let (k, r) = scripted("m-renum", json!([{}, {}, {"fault": "wrong-week-numbers"}]), json!({})).await;
    assert_complete(r.roadmap(), 6, 0);
    assert_eq!(trace(&k).await, ["model", "OUTLINE", "WEEKS 1-3", "WEEKS 4-6 !wrong-week-numbers"]);
    assert!(r.warnings().contains("renumbered weeks 1, 2, 3 to 4-6"), "{}", r.warnings());
}

#[wasm_bindgen_test]
async fn f23_a_missing_day_is_asked_again_with_a_correction() {
    let (k, r) = scripted("m-day7", json!([{}, {"fault": "missing-day"}]), json!({})).await;
    assert_complete(r.roadmap(), 6, 0);
    // Weeks 2 and 3 are kept; week 1 alone is asked again, with a correction.
    assert_eq!(trace(&k).await, ["model", "OUTLINE", "WEEKS 1-3 !missing-day", "WEEK 1", "WEEKS 4-6"]);
}

#[wasm_bindgen_test]
async fn f24_a_duplicate_week_is_dropped() {
    let (k, r) = scripted("m-dup", json!([{}, {"fault": "duplicate-week"}]), json!({})).await;
    assert_complete(r.roadmap(), 6, 0);
    assert_eq!(trace(&k).await, ["model", "OUTLINE", "WEEKS 1-3 !duplicate-week", "WEEKS 4-6"]);
    assert!(r.warnings().contains("dropped a duplicate of week 1"), "{}", r.warnings());
}

#[wasm_bindgen_test]
async fn f25_an_extra_unrequested_week_is_dropped() {
    let (k, r) = scripted("m-extra", json!([{}, {"fault": "extra-week"}]), json!({})).await;
    assert_complete(r.roadmap(), 6, 0);
    assert_eq!(trace(&k).await, ["model", "OUTLINE", "WEEKS 1-3 !extra-week", "WEEKS 4-6"]);
    assert!(r.warnings().contains("dropped week 4, which was not requested"), "{}", r.warnings());
    assert_eq!(r.count("week"), 6, "the extra week is never announced");
}

#[wasm_bindgen_test]
async fn f26_prose_instead_of_json_is_asked_again() {
    let (k, r) = scripted("m-prose", json!([{}, {"fault": "prose"}]), json!({})).await;
    assert_complete(r.roadmap(), 6, 0);
    assert_eq!(trace(&k).await, ["model", "OUTLINE", "WEEKS 1-3 !prose", "WEEKS 1-3", "WEEKS 4-6"]);
    assert_eq!(r.retries()[0]["delayMs"], 0);
}

#[wasm_bindgen_test]
async fn f27_prose_every_time_gives_placeholder_weeks_and_warnings() {
    let (k, r) = scripted("m-prose2", json!([{}, {"fault": "prose", "repeat": 2}]), json!({})).await;
    let rm = r.roadmap();
    assert_complete(rm, 6, 3);
    assert_eq!(trace(&k).await, ["model", "OUTLINE", "WEEKS 1-3 !prose", "WEEKS 1-3 !prose", "WEEKS 4-6"]);
    assert_eq!(rm["batches"][0]["status"], "fallback");
    for w in 1..=3 {
        assert!(r.warnings().contains(&format!("Week {w}: placeholder")), "{}", r.warnings());
    }
}

// ---- errors that are never retried ----------------------------------------------------------------------

#[wasm_bindgen_test]
async fn f28_bad_key_is_not_retried() {
    let k = format!("bad-{}", key("m-badkey"));
    let r = run(options(&k, json!({"maxRetries": 3}))).await;
    assert_eq!(r.code(), "AUTH");
    assert_eq!(num_field(r.error(), "status"), Some(400.0));
    assert_eq!(str_field(r.error(), "reason").as_deref(), Some("API_KEY_INVALID"));
    assert_eq!(r.partial_weeks(), None);
    assert_eq!(trace(&k).await, ["model"]);
}

#[wasm_bindgen_test]
async fn f29_unknown_model_is_not_retried() {
    let k = key("m-nomodel");
    let r = run(options(&k, json!({"model": "gemini-9-ultra", "maxRetries": 3}))).await;
    assert_eq!(r.code(), "NOT_FOUND");
    assert_eq!(num_field(r.error(), "status"), Some(404.0));
    assert_eq!(r.partial_weeks(), None);
    assert_eq!(trace(&k).await, ["model"]);
}

#[wasm_bindgen_test]
async fn f30_400_on_a_batch_is_not_retried() {
    let step = json!({"fault": "status", "status": 400, "message": EMPTY_TEXT_400});
    let (k, r) = scripted("m-400", json!([{}, {}, step]), json!({"maxRetries": 3})).await;
    assert_eq!(r.code(), "BAD_REQUEST");
    assert_eq!(r.partial_weeks(), Some(weeks(1..=3)));
    assert_eq!(trace(&k).await, ["model", "OUTLINE", "WEEKS 1-3", "!400"]);
    // The bare "Request contains an invalid argument." may be Gemini refusing the schema's array bounds: asked
    // once more without them, then the same.
    let (k, r) = scripted("m-400-bare", json!([{}, {}, {"fault": "status", "status": 400, "repeat": 2}]), json!({"maxRetries": 3})).await;
    assert_eq!(r.code(), "BAD_REQUEST");
    assert_eq!(r.partial_weeks(), Some(weeks(1..=3)));
    assert_eq!(trace(&k).await, ["model", "OUTLINE", "WEEKS 1-3", "!400", "!400"]);
}

/// A 400 that names its cause (Gemini's answer to an empty text part).
const EMPTY_TEXT_400: &str = "Unable to submit request because it has an empty text parameter. Add a value to the parameter and try again. Learn more: https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/gemini";

// ---- aborts ---------------------------------------------------------------------------------------------

/// Starts `generateRoadmap` with an `AbortController`; returns the pending promise, the controller
/// and the progress events so far.
fn start(opts: JsValue) -> (js_sys::Promise, web_sys::AbortController, Array) {
    let ctrl = web_sys::AbortController::new().unwrap();
    Reflect::set(&opts, &"signal".into(), &ctrl.signal()).unwrap();
    let events = Array::new();
    let sink = events.clone();
    let cb = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
        sink.push(&e);
    });
    Reflect::set(&opts, &"onProgress".into(), cb.as_ref()).unwrap();
    cb.forget();
    let pending = wasm_bindgen_futures::future_to_promise(async move { generate_roadmap(opts).await });
    (pending, ctrl, events)
}

#[wasm_bindgen_test]
async fn f31_abort_during_a_request() {
    let k = key("m-abort");
    script(&k, json!([{}, {}, {"fault": "hang"}])).await;
    let (pending, ctrl, _) = start(options(&k, json!({"maxRetries": 3})));
    for _ in 0..400 {
        if requests(&k).await.len() >= 4 {
            break;
        }
        sleep_ms(10).await;
    }
    assert_eq!(trace(&k).await, ["model", "OUTLINE", "WEEKS 1-3", "!hang"]);
    let aborted_at = now_ms();
    ctrl.abort();
    let err = settle(pending).await.unwrap_err();
    let took = now_ms() - aborted_at;
    assert_eq!(str_field(&err, "name").as_deref(), Some("AbortError"));
    assert!(took < 5_000.0, "settled {took} ms after the abort");
    assert_eq!(
        week_numbers(&to_json(&field(&err, "partial"))),
        weeks(1..=3),
        "the AbortError carries the finished weeks"
    );
    sleep_ms(300).await;
    assert_eq!(trace(&k).await, ["model", "OUTLINE", "WEEKS 1-3", "!hang"], "nothing is sent after the abort");
    assert_eq!(requests(&k).await[3]["aborted"], true, "the request in flight was cancelled");
}

#[wasm_bindgen_test]
async fn f32_abort_during_a_retry_wait() {
    const DELAY_MS: f64 = 30_000.0;
    let k = key("m-abort-wait");
    script(&k, json!([{}, {"fault": "status", "status": 429, "retryDelay": "30s"}])).await;
    let (pending, ctrl, events) = start(options(&k, json!({"maxRetries": 3})));
    // Abort once the 429 is in and the run announced its 30 s wait.
    let mut waiting = false;
    for _ in 0..500 {
        waiting = to_json(&events.clone().into()).as_array().unwrap().iter().any(|e| e["type"] == "retry");
        if waiting {
            break;
        }
        sleep_ms(10).await;
    }
    assert!(waiting, "the retry wait began");
    assert_eq!(trace(&k).await, ["model", "OUTLINE", "!429"]);
    let aborted_at = now_ms();
    ctrl.abort();
    let err = settle(pending).await.unwrap_err();
    let took = now_ms() - aborted_at;
    assert_eq!(str_field(&err, "name").as_deref(), Some("AbortError"));
    assert!(took < DELAY_MS / 10.0, "the abort ended the {DELAY_MS} ms wait after {took} ms");
    sleep_ms(300).await;
    assert_eq!(trace(&k).await, ["model", "OUTLINE", "!429"], "no request after the abort");
}

#[wasm_bindgen_test]
async fn f33_one_signal_aborting_two_runs_gives_each_its_own_partial() {
    // One "Cancel" button for two runs: each rejection must carry its own finished weeks.
    let (a, b) = (key("m-abort-a"), key("m-abort-b"));
    script(&a, json!([{}, {}, {"fault": "hang"}])).await;
    script(&b, json!([{}, {}, {}, {"fault": "hang"}])).await;
    let ctrl = web_sys::AbortController::new().unwrap();
    let start_with = |k: &str, weeks: u32| {
        let opts = options(k, json!({"weeks": weeks}));
        Reflect::set(&opts, &"signal".into(), &ctrl.signal()).unwrap();
        wasm_bindgen_futures::future_to_promise(async move { generate_roadmap(opts).await })
    };
    let (pa, pb) = (start_with(&a, 6), start_with(&b, 9));
    for _ in 0..400 {
        if requests(&a).await.len() >= 4 && requests(&b).await.len() >= 5 {
            break;
        }
        sleep_ms(10).await;
    }
    assert_eq!(trace(&a).await, ["model", "OUTLINE", "WEEKS 1-3", "!hang"]);
    assert_eq!(trace(&b).await, ["model", "OUTLINE", "WEEKS 1-3", "WEEKS 4-6", "!hang"]);
    ctrl.abort();
    let (ea, eb) = (settle(pa).await.unwrap_err(), settle(pb).await.unwrap_err());
    assert_eq!(str_field(&ea, "name").as_deref(), Some("AbortError"));
    assert_eq!(str_field(&eb, "name").as_deref(), Some("AbortError"));
    assert_eq!(week_numbers(&to_json(&field(&ea, "partial"))), weeks(1..=3), "run A keeps its own weeks");
    assert_eq!(week_numbers(&to_json(&field(&eb, "partial"))), weeks(1..=6), "run B keeps its own weeks");
    assert!(field(&ctrl.signal().reason(), "partial").is_undefined(), "the caller's abort reason is not written to");
}

// ---- more of the mock's faults ----------------------------------------------------------------------------

#[wasm_bindgen_test]
async fn f34_sse_connection_destroyed_mid_event() {
    // Paced (2000 tokens/s) so that the first events reach the page before the socket is destroyed.
    let step = json!({"fault": "sse-cut", "mode": "destroy", "tokensPerSecond": 2000});
    let (k, r) = scripted("m-cut-destroy", json!([{}, step]), json!({})).await;
    assert_complete(r.roadmap(), 6, 0);
    // The text so far is salvaged like a clean cut (same requests as f11), not thrown away as a network error.
    assert_eq!(trace(&k).await, ["model", "OUTLINE", "WEEKS 1-3 !sse-cut", "WEEKS 1-2", "WEEK 3", "WEEKS 4-6"]);
}

#[wasm_bindgen_test]
async fn f35_a_stream_that_stalls_times_out_and_is_retried() {
    let (k, r) =
        scripted("m-stall", json!([{}, {"fault": "stall", "afterChunks": 2}]), json!({"timeoutMs": 500})).await;
    assert_complete(r.roadmap(), 6, 0);
    assert_eq!(trace(&k).await, ["model", "OUTLINE", "WEEKS 1-3 !stall", "WEEKS 1-3", "WEEKS 4-6"]);
    let reason = r.retries()[0]["reason"].as_str().unwrap().to_string();
    assert!(reason.contains("timed out after 500 ms"), "the timeout also runs between chunks: {reason}");
}

#[wasm_bindgen_test]
async fn f36_recitation_stop_mid_batch() {
    let (k, r) = scripted("m-recitation", json!([{}, {"fault": "recitation"}]), json!({})).await;
    assert_complete(r.roadmap(), 6, 0);
    assert_eq!(trace(&k).await, ["model", "OUTLINE", "WEEKS 1-3 !recitation", "WEEKS 2-3", "WEEKS 4-6"]);
    assert!(r.warnings().contains("stopped (RECITATION)"), "{}", r.warnings());
}

#[wasm_bindgen_test]
async fn f37_python_literals() {
    read_as_is("python-literals").await;
}

#[wasm_bindgen_test]
async fn f38_single_quotes() {
    read_as_is("single-quotes").await;
}

// ---- nothing lost: a failure at each position, then resumeFrom ------------------------------------------

/// Twelve weeks in four batches; `steps` fail it somewhere (with a fault that is never retried).
/// Checks the requests (`before`) and the partial weeks, then resumes from `partial` and checks that
/// only `after` was requested and every finished week came back unchanged. One retry, so that weeks
/// lost to a cut answer are asked again rather than turned into placeholders at once.
async fn fail_then_resume(name: &str, steps: Value, code: &str, finished: Vec<u64>, before: &[&str], after: &[&str]) {
    let k = key(name);
    script(&k, steps).await;
    let r = run(options(&k, json!({"weeks": 12, "maxRetries": 1}))).await;
    assert_eq!(trace(&k).await, before);
    assert_eq!(r.code(), code);
    assert_eq!(r.partial_weeks().as_ref(), Some(&finished), "partial holds exactly the finished weeks");
    let partial = field(r.error(), "partial");
    let kept = to_json(&partial);
    assert_eq!(kept["outline"].as_array().unwrap().len(), 12, "the plan is kept for the resume");
    // Every week announced before the failure is in partial.
    let announced: Vec<u64> =
        r.events.iter().filter(|e| e["type"] == "week").filter_map(|e| e["week"]["week"].as_u64()).collect();
    assert_eq!(announced, finished);

    let opts = options(&k, json!({"weeks": 12, "maxRetries": 1}));
    Reflect::set(&opts, &"resumeFrom".into(), &partial).unwrap();
    let resumed = run(opts).await;
    let rm = resumed.roadmap();
    assert_complete(rm, 12, 0);
    assert_eq!(trace(&k).await.split_off(before.len()), after, "only the missing weeks are requested");
    for w in kept["weeks"].as_array().unwrap() {
        let n = w["week"].as_u64().unwrap() as usize;
        assert_eq!(&rm["weeks"][n - 1], w, "finished week {n} is kept as it was");
    }
}

#[wasm_bindgen_test]
async fn n1_failure_in_the_outline_has_nothing_to_keep() {
    let (k, r) = scripted("n-outline", json!([{"fault": "quota-day"}]), json!({"weeks": 12})).await;
    assert_eq!(r.code(), "RATE_LIMITED");
    assert_eq!(r.partial_weeks(), None);
    assert_eq!(trace(&k).await, ["model", "!quota-day"]);
}

#[wasm_bindgen_test]
async fn n2_failure_in_the_first_batch_keeps_the_outline() {
    fail_then_resume(
        "n-first",
        json!([{}, {"fault": "quota-day"}]),
        "RATE_LIMITED",
        vec![],
        &["model", "OUTLINE", "!quota-day"],
        &["model", "WEEKS 1-3", "WEEKS 4-6", "WEEKS 7-9", "WEEKS 10-12"],
    )
    .await;
}

#[wasm_bindgen_test]
async fn n3_failure_in_a_middle_batch() {
    fail_then_resume(
        "n-middle",
        json!([{}, {}, {"fault": "status", "status": 400, "message": EMPTY_TEXT_400}]),
        "BAD_REQUEST",
        weeks(1..=3),
        &["model", "OUTLINE", "WEEKS 1-3", "!400"],
        &["model", "WEEKS 4-6", "WEEKS 7-9", "WEEKS 10-12"],
    )
    .await;
}

#[wasm_bindgen_test]
async fn n4_failure_in_the_last_batch() {
    fail_then_resume(
        "n-last",
        json!([{}, {}, {}, {}, {"fault": "quota-day"}]),
        "RATE_LIMITED",
        weeks(1..=9),
        &["model", "OUTLINE", "WEEKS 1-3", "WEEKS 4-6", "WEEKS 7-9", "!quota-day"],
        &["model", "WEEKS 10-12"],
    )
    .await;
}

#[wasm_bindgen_test]
async fn n5_failure_after_part_of_a_batch_keeps_its_finished_weeks() {
    // Batch 2 is cut after week 4; asking for weeks 5-6 then fails: week 4 is kept too.
    fail_then_resume(
        "n-part",
        json!([{}, {}, {"fault": "truncate", "atChars": 9000}, {"fault": "quota-day"}]),
        "RATE_LIMITED",
        weeks(1..=4),
        &["model", "OUTLINE", "WEEKS 1-3", "WEEKS 4-6 !truncate", "!quota-day"],
        &["model", "WEEKS 5-7", "WEEKS 8-10", "WEEKS 11-12"],
    )
    .await;
}

#[wasm_bindgen_test]
async fn n6_weeks_streamed_before_an_error_event_are_kept() {
    let k = key("n-stream");
    script(&k, json!([{}, {}, {"fault": "sse-error", "afterChunks": 30}])).await;
    let r = run(options(&k, json!({"weeks": 12, "maxRetries": 0}))).await;
    assert_eq!(r.code(), "SERVER");
    let announced: Vec<u64> =
        r.events.iter().filter(|e| e["type"] == "week").filter_map(|e| e["week"]["week"].as_u64()).collect();
    assert!(announced.len() > 3, "a week of batch 2 was announced while streaming: {announced:?}");
    assert_eq!(r.partial_weeks(), Some(announced.clone()), "every announced week is in partial");
    assert_eq!(trace(&k).await, ["model", "OUTLINE", "WEEKS 1-3", "WEEKS 4-6 !sse-error"]);
}

#[wasm_bindgen_test]
async fn f39_429_with_a_zero_quota_fails_fast() {
    // A model outside the key's tier: every call is refused with `limit: 0`, and Gemini still names a wait.
    let step = json!({"fault": "status", "status": 429, "limit": 0, "retryDelay": "54s"});
    let (k, r) = scripted("m-zero", json!([{}, {}, step]), json!({"maxRetries": 3})).await;
    assert_eq!(r.code(), "RATE_LIMITED");
    assert_eq!(field(r.error(), "retryable").as_bool(), Some(false));
    assert!(str_field(r.error(), "message").unwrap().contains("limit: 0"));
    // Google's body names per-day quotas too (as the mock's does), so `zeroQuota` tells it from a daily quota.
    assert_eq!(field(r.error(), "zeroQuota").as_bool(), Some(true));
    assert!(to_json(&field(r.error(), "quotaIds")).to_string().contains("PerDay"));
    assert_eq!(r.partial_weeks(), Some(weeks(1..=3)));
    assert_eq!(trace(&k).await, ["model", "OUTLINE", "WEEKS 1-3", "!429"], "waiting for a quota of 0 never helps");
    assert_eq!(r.count("retry"), 0);
}

/// Every answer as a network may deliver it: reads of 1-200 bytes, cut inside multi-byte characters and between
/// `\r` and `\n` (`fragmented`), or several SSE events to a read (`coalesced`). The role is non-ASCII, and the mock
/// writes it into tasks and phase goals, so a character decoded from half its bytes would show.
async fn read_across_reads(fault: &str) {
    let role = "Ingénieur·e DevOps — SRE ✓";
    let (k, r) = scripted(&format!("m-{fault}"), json!([{"fault": fault, "repeat": 3}]), json!({"role": role})).await;
    assert_complete(r.roadmap(), 6, 0);
    let step = format!("!{fault}");
    let asked: Vec<String> = ["OUTLINE", "WEEKS 1-3", "WEEKS 4-6"].iter().map(|t| format!("{t} {step}")).collect();
    assert_eq!(trace(&k).await, ["model", asked[0].as_str(), asked[1].as_str(), asked[2].as_str()]);
    assert_eq!(r.count("retry"), 0);
    assert_eq!(r.count("week"), 6, "every week streamed as it closed");
    let rm = r.roadmap();
    let goals = rm["phases"].as_array().unwrap().iter().filter(|p| p["goal"].as_str().unwrap().contains(role)).count();
    assert!(goals > 0, "the role arrives intact in the phase goals: {}", rm["phases"]);
    let text = rm["weeks"].to_string();
    assert!(text.contains(role), "and in the tasks");
    assert!(!text.contains('\u{FFFD}'), "no character was decoded from half its bytes");
}

#[wasm_bindgen_test]
async fn f40_answers_fragmented_across_reads() {
    read_across_reads("fragmented").await;
}

#[wasm_bindgen_test]
async fn f41_several_events_in_one_read() {
    read_across_reads("coalesced").await;
}

#[wasm_bindgen_test]
async fn f42_thinking_settings_refused_after_a_model_is_rerouted() {
    // Google retires a model by routing its name to a newer one with other parameter rules: our thinking
    // settings are refused once, dropped with a warning, and the outline asked again.
    let step = json!({"fault": "status", "status": 400, "message": "Budget 0 is invalid. This model only works in thinking mode."});
    let (k, r) = scripted("m-thinking", json!([step]), json!({"maxRetries": 0})).await;
    assert_complete(r.roadmap(), 6, 0);
    assert_eq!(trace(&k).await, ["model", "!400", "OUTLINE", "WEEKS 1-3", "WEEKS 4-6"]);
    assert_eq!(r.count("retry"), 0);
    let warnings = r.roadmap()["warnings"].to_string();
    assert!(warnings.contains("refused the thinking settings"), "{warnings}");
}

#[wasm_bindgen_test]
async fn f43_bare_429_is_retried_with_backoff() {
    // Gemini's generic 429, with no details: no wait named, so our backoff; the run completes.
    let (k, r) = scripted("m-bare429", json!([{}, {"fault": "status", "status": 429, "bare": true}]), json!({})).await;
    assert_complete(r.roadmap(), 6, 0);
    assert_eq!(trace(&k).await, ["model", "OUTLINE", "!429", "WEEKS 1-3", "WEEKS 4-6"]);
    let retries = r.retries();
    assert_eq!(retries.len(), 1);
    let delay = retries[0]["delayMs"].as_f64().unwrap();
    assert!((500.0..=1000.0).contains(&delay), "the first backoff step, not a quota wait: {delay}");
}

#[wasm_bindgen_test]
async fn f44_429_naming_a_daily_quota_among_others_fails_fast() {
    // Several quotas exhausted at once, the day's among them, with a RetryInfo: waiting a minute would not help.
    let step = json!({"fault": "status", "status": 429, "quotas": ["minute", "day", "tokens"], "retryDelay": "47s"});
    let (k, r) = scripted("m-several429", json!([{}, {}, step]), json!({"maxRetries": 3})).await;
    assert_eq!(r.code(), "RATE_LIMITED");
    assert_eq!(field(r.error(), "retryable").as_bool(), Some(false));
    assert!(to_json(&field(r.error(), "quotaIds")).to_string().contains("PerDay"));
    assert_eq!(r.partial_weeks(), Some(weeks(1..=3)));
    assert_eq!(trace(&k).await, ["model", "OUTLINE", "WEEKS 1-3", "!429"]);
    assert_eq!(r.count("retry"), 0);
}

#[wasm_bindgen_test]
async fn f45_a_leaked_blocked_refused_or_out_of_region_key_fails_at_the_first_request_with_its_own_error() {
    // Refused on every call, the model lookup first: one request, no retry, the reason kept for the app to explain.
    let cases = [
        ("leaked", "AUTH", 403_u16, "PERMISSION_DENIED", None),
        ("blocked", "AUTH", 403, "PERMISSION_DENIED", Some("API_KEY_SERVICE_BLOCKED")),
        ("region", "BAD_REQUEST", 400, "FAILED_PRECONDITION", None),
        ("unsupported", "AUTH", 401, "UNAUTHENTICATED", Some("ACCESS_TOKEN_TYPE_UNSUPPORTED")),
    ];
    for (state, code, status, google_status, reason) in cases {
        let k = format!("{state}-{}", key("f45"));
        let r = run(options(&k, json!({"maxRetries": 3}))).await;
        assert_eq!(r.code(), code, "{state}");
        let e = r.error();
        assert_eq!(field(e, "retryable").as_bool(), Some(false), "{state}");
        assert_eq!(num_field(e, "status"), Some(f64::from(status)), "{state}");
        assert_eq!(str_field(e, "googleStatus").as_deref(), Some(google_status), "{state}");
        assert_eq!(str_field(e, "reason").as_deref(), reason, "{state}");
        assert!(!str_field(e, "message").unwrap_or_default().contains(&k), "{state}: the key is not in the message");
        let log = requests(&k).await;
        assert_eq!(log.len(), 1, "{state}: {log:?}");
        assert_eq!((log[0]["kind"].as_str(), log[0]["status"].as_u64()), (Some("getModel"), Some(u64::from(status))), "{state}");
        assert_eq!(r.count("retry"), 0, "{state}");
    }
}
