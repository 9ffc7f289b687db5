//! In real headless Chrome and Firefox against the mock Gemini: real fetch, CORS preflight, aborts,
//! every error mapping, SSE streaming and `GeminiChat` history rules.
#![cfg(target_arch = "wasm32")]

mod web_support;

use gemini_roadmap::exports::GeminiChat;
use gemini_roadmap::gemini::{Endpoint, GeminiClient, GenerateRequest, Content};
use gemini_roadmap::web::fetch::FetchTransport;
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;
use web_support::*;

wasm_bindgen_test_configure!(run_in_browser);

fn chat(k: &str, extra: Value) -> GeminiChat {
    GeminiChat::new(chat_options(k, extra)).expect("valid options")
}

async fn send_err(c: &GeminiChat, text: &str) -> JsValue {
    settle(c.send(text.into(), JsValue::UNDEFINED)).await.expect_err("must reject")
}

fn code(e: &JsValue) -> String {
    str_field(e, "code").unwrap_or_else(|| str_field(e, "name").unwrap_or_default())
}

/// Call options whose `onProgress` pushes every event into the returned array; keep the closure alive
/// for as long as the call runs.
fn collecting_progress() -> (js_sys::Array, JsValue, Closure<dyn FnMut(JsValue)>) {
    let events = js_sys::Array::new();
    let ev = events.clone();
    let on_progress = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
        ev.push(&e);
    });
    let opts = js_sys::Object::new();
    js_sys::Reflect::set(&opts, &"onProgress".into(), on_progress.as_ref()).unwrap();
    (events, opts.into(), on_progress)
}

#[wasm_bindgen_test]
async fn multi_turn_history_is_kept_and_resent() {
    let k = key("history");
    let c = chat(&k, json!({"systemInstruction": "You are terse."}));
    settle(c.send("First question".into(), JsValue::UNDEFINED)).await.unwrap();
    settle(c.send("Second question".into(), JsValue::UNDEFINED)).await.unwrap();
    let h = to_json(&c.history());
    assert_eq!(h.as_array().unwrap().len(), 4);
    assert_eq!(h[0], json!({"role": "user", "text": "First question"}));
    assert_eq!(h[1]["role"], "model");
    let reqs = requests(&k).await;
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0]["contentsTurns"], 1);
    assert_eq!(reqs[1]["contentsTurns"], 3, "the second turn resends the first exchange");
    assert!(reqs[1]["systemInstruction"].as_str().unwrap_or("").contains("terse"));
    c.clear();
    assert_eq!(to_json(&c.history()), json!([]));
    c.set_history(obj(json!([{"role": "user", "text": "a"}, {"role": "model", "text": "b"}]))).unwrap();
    assert_eq!(to_json(&c.history()).as_array().unwrap().len(), 2);
    let bad = c.set_history(obj(json!([{"role": "system", "text": "a"}]))).unwrap_err();
    assert_eq!(code(&bad), "INVALID_INPUT");
    // A bad turn is named by its path, and an empty text is refused (Gemini refused every later request that resent
    // it: BAD_REQUEST). A blank one is taken: a model's answer can be one, and the chat keeps it.
    for (turns, field_name) in [
        (json!([{"role": "system", "text": "a"}]), "history[0].role"),
        (json!([{"role": "user", "text": ""}, {"role": "model", "text": "b"}]), "history[0].text"),
        (json!([{"role": "user", "text": "a"}, {"role": "model", "text": ""}]), "history[1].text"),
    ] {
        let bad = c.set_history(obj(turns)).unwrap_err();
        assert_eq!((code(&bad), str_field(&bad, "field")), ("INVALID_INPUT".into(), Some(field_name.into())));
    }
    assert_eq!(to_json(&c.history()).as_array().unwrap().len(), 2, "the history is kept as it was");
}

#[wasm_bindgen_test]
async fn only_the_two_allowed_headers_and_no_key_in_the_url() {
    let k = key("headers");
    let c = chat(&k, json!({}));
    settle(c.send("Hi".into(), JsValue::UNDEFINED)).await.unwrap();
    let all = {
        let v = requests(&k).await;
        assert_eq!(v.len(), 1);
        v
    };
    let post = &all[0];
    assert_eq!(post["keyInUrl"], false);
    assert_eq!(post["headers"]["x-goog-api-key"], json!(k.len()), "the key travels in its header");
    assert!(post["headers"]["content-type"].as_str().unwrap().starts_with("application/json"));
    for name in post["headerNames"].as_array().unwrap() {
        let n = name.as_str().unwrap();
        assert!(!n.starts_with("x-") || n == "x-goog-api-key", "unexpected custom header {n}");
        assert_ne!(n, "authorization");
    }
}

#[wasm_bindgen_test]
async fn truncated_and_failed_turns_never_enter_the_history() {
    let k = key("not-kept");
    let c = chat(&k, json!({"maxRetries": 0}));
    script(&k, json!([{"fault": "truncate", "atChars": 40}, {"fault": "status", "status": 503}])).await;
    let r = settle(c.send("Role: DevOps Engineer\nTotal weeks: 3\nTASK: WEEKS 1-3".into(), JsValue::UNDEFINED)).await.unwrap();
    assert_eq!(str_field(&r, "finishReason").as_deref(), Some("MAX_TOKENS"));
    assert_eq!(to_json(&c.history()), json!([]), "a truncated reply is not kept");
    let e = send_err(&c, "again").await;
    assert_eq!(code(&e), "SERVER");
    assert_eq!(num_field(&e, "status"), Some(503.0));
    assert_eq!(to_json(&c.history()), json!([]), "a failed turn is not kept");
    settle(c.send("third".into(), JsValue::UNDEFINED)).await.unwrap();
    assert_eq!(requests(&k).await.last().unwrap()["contentsTurns"], 1, "nothing broken was resent");
}

#[wasm_bindgen_test]
async fn twelve_weeks_in_one_call_is_cut_by_the_mock() {
    let k = key("single-call");
    // 8,192 output tokens, as gemini-2.0-flash allowed (shut down since 2026-06-01).
    let c = chat(&k, json!({"maxRetries": 0, "generationConfig": {"maxOutputTokens": 8192}}));
    let prompt = "Role: DevOps Engineer\nTotal weeks: 12\nTASK: WEEKS 1-12";
    let r = settle(c.send(prompt.into(), JsValue::UNDEFINED)).await.unwrap();
    assert_eq!(str_field(&r, "finishReason").as_deref(), Some("MAX_TOKENS"));
    let text = str_field(&r, "text").unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err(), "the cut JSON does not parse");
    assert!(num_field(&field(&r, "usage"), "outputTokens").unwrap() >= 8000.0);
    let e = settle(c.send_json(prompt.into(), JsValue::UNDEFINED)).await.unwrap_err();
    assert_eq!(code(&e), "TRUNCATED");
    let ok = settle(c.send_json("Role: DevOps Engineer\nTotal weeks: 12\nTASK: WEEKS 1-3".into(), JsValue::UNDEFINED)).await.unwrap();
    assert_eq!(to_json(&ok)["weeks"].as_array().unwrap().len(), 3, "3 weeks fit");
}

#[wasm_bindgen_test]
async fn every_error_maps_to_its_code() {
    let k = key("errors");
    let c = chat(&k, json!({"maxRetries": 0}));
    let cases = [
        // A per-minute wait is waited out even with `maxRetries: 0`; one over five minutes fails at once.
        (json!({"fault": "status", "status": 429, "retryDelay": "400.5s"}), "RATE_LIMITED", Some(429.0)),
        (json!({"fault": "quota-day"}), "RATE_LIMITED", Some(429.0)),
        (json!({"fault": "status", "status": 500}), "SERVER", Some(500.0)),
        (json!({"fault": "status", "status": 503}), "SERVER", Some(503.0)),
        (json!({"fault": "html502"}), "SERVER", Some(502.0)),
        (json!({"fault": "blocked", "reason": "SAFETY"}), "BLOCKED", None),
        (json!({"fault": "safety"}), "BLOCKED", None),
        (json!({"fault": "empty-candidates"}), "MALFORMED", None),
        (json!({"fault": "thoughts-only"}), "MALFORMED", None),
    ];
    script(&k, Value::Array(cases.iter().map(|c| c.0.clone()).collect())).await;
    for (step, want, status) in &cases {
        let e = send_err(&c, "Role: Data Engineer\nTotal weeks: 3\nTASK: WEEKS 1-1").await;
        assert_eq!(&code(&e), want, "{step}");
        assert_eq!(num_field(&e, "status"), *status, "{step}");
        assert!(!str_field(&e, "message").unwrap().contains(&k), "key leaked in {step}");
        match step["fault"].as_str() {
            Some("status") if step["status"] == 429 => assert_eq!(num_field(&e, "retryDelayMs"), Some(400_500.0)),
            Some("quota-day") => {
                let ids = to_json(&field(&e, "quotaIds"));
                assert!(ids.to_string().contains("PerDay"), "{ids}");
            }
            Some("html502") => assert!(str_field(&e, "message").unwrap().contains("502")),
            Some("blocked") => assert_eq!(str_field(&e, "reason").as_deref(), Some("SAFETY")),
            _ => {}
        }
    }
    assert_eq!(requests(&k).await.len(), cases.len(), "no retries with maxRetries 0");
}

#[wasm_bindgen_test]
async fn bad_key_and_unknown_model_are_not_retried() {
    let k = format!("bad-{}", key("x"));
    let c = chat(&k, json!({"maxRetries": 3}));
    let e = send_err(&c, "hello").await;
    assert_eq!(code(&e), "AUTH");
    assert_eq!(num_field(&e, "status"), Some(400.0));
    assert_eq!(str_field(&e, "reason").as_deref(), Some("API_KEY_INVALID"));
    assert!(!str_field(&e, "message").unwrap().contains(&k));
    let k2 = key("unknown-model");
    let c = GeminiChat::new(obj(json!({"apiKey": k2, "baseUrl": mock_url(), "model": "gemini-9-ultra", "maxRetries": 3}))).unwrap();
    let e = send_err(&c, "hello").await;
    assert_eq!(code(&e), "NOT_FOUND");
    assert_eq!(requests(&k2).await.len(), 1, "404 is never retried");
}

#[wasm_bindgen_test]
async fn transient_errors_are_retried_then_succeed() {
    let k = key("retry");
    let c = chat(&k, json!({"maxRetries": 2}));
    script(&k, json!([{"fault": "status", "status": 503}, {"fault": "status", "status": 429, "retryDelay": "0.2s"}])).await;
    let (events, opts, _on_progress) = collecting_progress();
    let r = settle(c.send("hello".into(), opts.clone())).await.unwrap();
    assert_eq!(str_field(&r, "finishReason").as_deref(), Some("STOP"));
    assert_eq!(requests(&k).await.len(), 3);
    let ev = to_json(&events.into());
    assert_eq!(ev.as_array().unwrap().len(), 2, "{ev}");
    assert!(ev[1]["delayMs"].as_f64().unwrap() >= 200.0, "RetryInfo's delay is honoured: {ev}");
}

#[wasm_bindgen_test]
async fn an_answer_without_text_is_asked_again_and_never_kept() {
    let k = key("empty-stop");
    let c = chat(&k, json!({"maxRetries": 1}));
    script(&k, json!([{"fault": "empty-stop"}, {}, {"fault": "empty-stop"}, {"fault": "empty-stop"}])).await;
    let (events, opts, _on_progress) = collecting_progress();
    let r = settle(c.send("hello".into(), opts.clone())).await.unwrap();
    assert!(!str_field(&r, "text").unwrap().is_empty(), "the answer of the second try");
    let ev = to_json(&events.into());
    assert_eq!(ev.as_array().unwrap().len(), 1, "one retry: {ev}");
    assert!(ev[0]["reason"].as_str().unwrap().contains("without any text"), "{ev}");
    let e = send_err(&c, "are you there?").await;
    assert_eq!(code(&e), "MALFORMED");
    assert_eq!(field(&e, "retryable"), JsValue::TRUE);
    let h = to_json(&c.history());
    assert_eq!(h.as_array().unwrap().len(), 2, "only the answered turn is kept: {h}");
    assert!(h.as_array().unwrap().iter().all(|t| !t["text"].as_str().unwrap().is_empty()), "{h}");
    settle(c.send("third try".into(), JsValue::UNDEFINED)).await.expect("Gemini accepts the history");
    let reqs = requests(&k).await;
    assert_eq!(reqs.len(), 5);
    assert_eq!(reqs[4]["contentsTurns"], 3, "hello, its answer, third try");
    assert_eq!(reqs[4]["status"], 200);
}

#[wasm_bindgen_test]
async fn abort_mid_request_rejects_with_abort_error() {
    let k = key("abort");
    let c = chat(&k, json!({"maxRetries": 3}));
    script(&k, json!([{"fault": "hang"}])).await;
    let ctrl = web_sys::AbortController::new().unwrap();
    let opts = obj(json!({}));
    js_sys::Reflect::set(&opts, &"signal".into(), &ctrl.signal()).unwrap();
    let pending = c.send("hello".into(), opts.clone());
    // Abort once the mock has the request in hand.
    for _ in 0..100 {
        if !requests(&k).await.is_empty() {
            break;
        }
    }
    ctrl.abort();
    let e = settle(pending).await.unwrap_err();
    assert_eq!(str_field(&e, "name").as_deref(), Some("AbortError"));
    let e = settle(c.send("again".into(), opts)).await.unwrap_err();
    assert_eq!(str_field(&e, "name").as_deref(), Some("AbortError"), "an aborted signal sends nothing");
    assert_eq!(requests(&k).await.len(), 1);
}

#[wasm_bindgen_test]
async fn a_custom_abort_reason_still_rejects_with_abort_error() {
    // fetch rejects with the reason itself (a string here), not an Error: this must not panic.
    let k = key("abort-reason");
    let c = chat(&k, json!({"maxRetries": 3}));
    script(&k, json!([{"fault": "hang"}])).await;
    let ctrl = web_sys::AbortController::new().unwrap();
    let opts = obj(json!({}));
    js_sys::Reflect::set(&opts, &"signal".into(), &ctrl.signal()).unwrap();
    let pending = c.send("hello".into(), opts);
    for _ in 0..100 {
        if !requests(&k).await.is_empty() {
            break;
        }
    }
    ctrl.abort_with_reason(&JsValue::from_str("user navigated away"));
    let e = settle(pending).await.unwrap_err();
    assert_eq!(str_field(&e, "name").as_deref(), Some("AbortError"));
    assert_eq!(str_field(&e, "cause").as_deref(), Some("user navigated away"));
    assert_eq!(requests(&k).await.len(), 1, "an abort is never retried");
}

#[wasm_bindgen_test]
async fn a_hanging_response_times_out() {
    let k = key("timeout");
    let c = chat(&k, json!({"maxRetries": 1, "timeoutMs": 300}));
    script(&k, json!([{"fault": "hang"}, {"fault": "hang"}])).await;
    let e = send_err(&c, "hello").await;
    assert_eq!(code(&e), "TIMEOUT");
    assert_eq!(num_field(&e, "timeoutMs"), Some(300.0));
    assert_eq!(requests(&k).await.len(), 2, "a timeout is retried");
}

#[wasm_bindgen_test]
async fn connection_refused_is_a_network_error() {
    let c = GeminiChat::new(obj(json!({"apiKey": "test-key-refused", "baseUrl": "http://127.0.0.1:9", "maxRetries": 0}))).unwrap();
    let e = send_err(&c, "hello").await;
    assert_eq!(code(&e), "NETWORK");
}

async fn stream(k: &str, prompt: &str) -> (Result<gemini_roadmap::gemini::Reply, gemini_roadmap::Error>, usize) {
    let endpoint = Endpoint::new(k, None, Some(mock_url()), None).unwrap();
    let t = FetchTransport::new(None, false);
    let client = GeminiClient::new(&t, &endpoint);
    let req = GenerateRequest { contents: vec![Content::user(prompt)], ..Default::default() };
    let mut deltas = 0;
    let r = client.generate(&req, true, &mut |d| deltas += usize::from(!d.is_empty())).await;
    (r, deltas)
}

#[wasm_bindgen_test]
async fn sse_streams_in_chunks_and_matches_the_whole_answer() {
    let k = key("sse");
    let prompt = "Role: DevOps Engineer\nTotal weeks: 6\nTASK: WEEKS 1-2";
    let (streamed, deltas) = stream(&k, prompt).await;
    let streamed = streamed.unwrap();
    assert!(deltas > 3, "text arrived in {deltas} pieces");
    assert_eq!(streamed.finish_reason.as_deref(), Some("STOP"));
    let c = chat(&k, json!({}));
    let whole = settle(c.send(prompt.into(), JsValue::UNDEFINED)).await.unwrap();
    assert_eq!(str_field(&whole, "text").unwrap(), streamed.text);
    assert!(streamed.usage.output_tokens > 0 && streamed.usage.prompt_tokens > 0);
}

#[wasm_bindgen_test]
async fn errors_and_cuts_inside_a_stream() {
    let k = key("sse-faults");
    // Gemini reports a stream's usage in one of three forms (see mock/README.md): a running total in every event, the
    // prompt first, or only in the last event, which a broken stream never sends.
    let steps = ["running", "prompt-first", "last-only"].map(|form| json!({"fault": "sse-error", "usageForm": form}));
    script(&k, json!([steps[0], steps[1], steps[2], {"fault": "sse-cut"}])).await;
    let (r, _) = stream(&k, "Role: DevOps Engineer\nTotal weeks: 6\nTASK: WEEKS 1-2").await;
    // The reply keeps what the stream cost before the error; `into_result` gives the error.
    let broken = r.unwrap();
    assert!(broken.usage.output_tokens > 0, "{:?}", broken.usage);
    assert_eq!(broken.into_result().unwrap_err().code(), "SERVER");
    // With less usage reported, less is kept, and the error is the same.
    let (r, _) = stream(&k, "Role: DevOps Engineer\nTotal weeks: 6\nTASK: WEEKS 1-2").await;
    let broken = r.unwrap();
    assert!(broken.usage.prompt_tokens > 0 && broken.usage.output_tokens == 0, "{:?}", broken.usage);
    assert_eq!(broken.into_result().unwrap_err().code(), "SERVER");
    let (r, _) = stream(&k, "Role: DevOps Engineer\nTotal weeks: 6\nTASK: WEEKS 1-2").await;
    assert_eq!(r.and_then(|b| b.into_result()).unwrap_err().code(), "SERVER");
    let (r, _) = stream(&k, "Role: DevOps Engineer\nTotal weeks: 6\nTASK: WEEKS 1-2").await;
    let cut = r.unwrap();
    assert_eq!(cut.finish_reason, None, "a cut stream has no finishReason");
    assert!(!cut.text.is_empty(), "the text so far is kept for salvage");
    assert_eq!(cut.into_result().unwrap_err().code(), "NETWORK");
}

#[wasm_bindgen_test]
async fn send_json_reads_fenced_answers_and_keeps_clean_json() {
    let k = key("json");
    let c = chat(&k, json!({}));
    script(&k, json!([{"fault": "fenced"}, {"fault": "trailing-comma"}])).await;
    let v = settle(c.send_json("Role: DevOps Engineer\nTotal weeks: 3\nTASK: WEEKS 1-1".into(), JsValue::UNDEFINED)).await.unwrap();
    assert_eq!(to_json(&v)["weeks"][0]["week"], 1);
    let v = settle(c.send_json("Role: DevOps Engineer\nTotal weeks: 3\nTASK: WEEKS 2-2".into(), JsValue::UNDEFINED)).await.unwrap();
    assert_eq!(to_json(&v)["weeks"][0]["days"].as_array().unwrap().len(), 7);
    let h = to_json(&c.history());
    let kept: Value = serde_json::from_str(h[1]["text"].as_str().unwrap()).expect("history holds valid JSON");
    assert_eq!(kept["weeks"][0]["week"], 1);
}

#[wasm_bindgen_test]
async fn generate_json_batched_runs_prompts_in_one_chat() {
    let k = key("batched");
    let c = chat(&k, json!({}));
    let prompts = obj(json!([
        "Role: Frontend Developer\nTotal weeks: 6\nTASK: WEEKS 1-3",
        "Role: Frontend Developer\nTotal weeks: 6\nTASK: WEEKS 4-6"
    ]));
    let (events, opts, _on_progress) = collecting_progress();
    let out = to_json(&settle(c.generate_json_batched(prompts, opts.clone())).await.unwrap());
    assert_eq!(out.as_array().unwrap().len(), 2);
    assert_eq!(out[1]["weeks"][2]["week"], 6);
    let ev = to_json(&events.into());
    let kinds: Vec<&str> = ev.as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["batch-start", "batch-done", "batch-start", "batch-done"]);
    assert!(ev[1]["responseChars"].as_f64().unwrap() > 1000.0);
    // Characters, as generateRoadmap counts them: it gave UTF-8 bytes (the mock writes `yesterday’s`).
    let h = to_json(&c.history());
    let answers = [h[1]["text"].as_str().unwrap(), h[3]["text"].as_str().unwrap()];
    assert!(answers.iter().any(|a| !a.is_ascii()), "a test that can tell bytes from characters");
    for (i, a) in answers.iter().enumerate() {
        assert_eq!(ev[2 * i + 1]["responseChars"], a.chars().count(), "batch {}", i + 1);
    }
    let reqs = requests(&k).await;
    assert_eq!(reqs[1]["contentsTurns"], 3, "one chat: the second prompt sees the first answer");

    // The prompts are read when called: an array the caller empties while the call waits its turn was read late,
    // and the call failed INVALID_INPUT (found by a review).
    let c = chat(&key("batched-reuse"), json!({}));
    let first = c.send("Hello".into(), JsValue::UNDEFINED);
    let reused = obj(json!(["Role: Frontend Developer\nTotal weeks: 6\nTASK: WEEKS 1-3"]));
    let queued = c.generate_json_batched(reused.clone(), JsValue::UNDEFINED);
    js_sys::Reflect::set(&reused, &"length".into(), &0.into()).unwrap();
    settle(first).await.unwrap();
    let out = to_json(&settle(queued).await.expect("the prompts as they were when called"));
    assert_eq!(out[0]["weeks"][0]["week"], 1);

    // A failure keeps the values answered so far as `results` (an array; `partial` is a roadmap's, typed so).
    let k = key("batched-failure");
    script(&k, json!([{}, {"fault": "status", "status": 400}])).await;
    let c = chat(&k, json!({}));
    let prompts = obj(json!(["Role: Frontend Developer\nTotal weeks: 6\nTASK: WEEKS 1-3", "Role: Frontend Developer\nTotal weeks: 6\nTASK: WEEKS 4-6"]));
    let e = settle(c.generate_json_batched(prompts, JsValue::UNDEFINED)).await.unwrap_err();
    assert_eq!(num_field(&e, "batch"), Some(2.0));
    let results = to_json(&field(&e, "results"));
    assert_eq!(results.as_array().map(Vec::len), Some(1), "{results}");
    assert_eq!(results[0]["weeks"][0]["week"], 1);
    assert!(field(&e, "partial").is_undefined());
}

/// An abort from `onProgress` on a batch's `batch-done` (or a signal aborted before the call) ends
/// `generateJsonBatched` before the next batch: its `batch-start` was sent after the abort, just before the rejection.
/// One on the last batch's `batch-done` rejects too, as in `generateRoadmap` (the call resolved as if not aborted).
#[wasm_bindgen_test]
async fn generate_json_batched_sends_no_event_after_an_abort() {
    let prompts = |n: usize| {
        let all = ["Role: Frontend Developer\nTotal weeks: 6\nTASK: WEEKS 1-3", "Role: Frontend Developer\nTotal weeks: 6\nTASK: WEEKS 4-6"];
        obj(json!(all[..n]))
    };
    for (before, n) in [(false, 2), (true, 2), (false, 1)] {
        let k = key("batched-abort");
        let c = chat(&k, json!({}));
        let ctrl = web_sys::AbortController::new().unwrap();
        if before {
            ctrl.abort();
        }
        let events = js_sys::Array::new();
        let (ev, stop) = (events.clone(), ctrl.clone());
        let on_progress = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            ev.push(&e);
            if str_field(&e, "type").as_deref() == Some("batch-done") {
                stop.abort();
            }
        });
        let opts = with_signal(&ctrl.signal());
        js_sys::Reflect::set(&opts, &"onProgress".into(), on_progress.as_ref()).unwrap();
        let e = settle(c.generate_json_batched(prompts(n), opts)).await.unwrap_err();
        assert_eq!(str_field(&e, "name").as_deref(), Some("AbortError"), "aborted before: {before}, prompts: {n}");
        let kinds: Vec<String> = events.iter().map(|e| str_field(&e, "type").unwrap()).collect();
        let want: &[&str] = if before { &[] } else { &["batch-start", "batch-done"] };
        assert_eq!(kinds, want, "aborted before: {before}, prompts: {n}");
        let results = to_json(&field(&e, "results"));
        assert_eq!(results.as_array().map(Vec::len), Some(if before { 0 } else { 1 }), "{results}");
        assert_eq!(requests(&k).await.len(), if before { 0 } else { 1 });
    }
}

#[wasm_bindgen_test]
async fn concurrent_calls_on_one_chat_are_serialised() {
    let k = key("serial");
    let c = chat(&k, json!({}));
    let a = c.send("one".into(), JsValue::UNDEFINED);
    let b = c.send("two".into(), JsValue::UNDEFINED);
    let _ = c.history(); // re-entrant read while both are pending
    settle(a).await.unwrap();
    settle(b).await.unwrap();
    let h = to_json(&c.history());
    let roles: Vec<&str> = h.as_array().unwrap().iter().map(|t| t["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["user", "model", "user", "model"]);
    assert_eq!(h[2]["text"], "two");
    assert_eq!(requests(&k).await[1]["contentsTurns"], 3);
}

/// Call options holding `signal`.
fn with_signal(signal: &web_sys::AbortSignal) -> JsValue {
    let opts = obj(json!({}));
    js_sys::Reflect::set(&opts, &"signal".into(), signal).unwrap();
    opts
}

#[wasm_bindgen_test]
async fn a_call_waiting_its_turn_still_hears_its_signal() {
    const TIMEOUT_MS: f64 = 20_000.0;
    let k = key("queued-abort");
    script(&k, json!([{"fault": "hang"}])).await;
    let c = chat(&k, json!({"maxRetries": 0, "timeoutMs": TIMEOUT_MS}));
    let first_ctrl = web_sys::AbortController::new().unwrap();
    let first = c.send("first".into(), with_signal(&first_ctrl.signal()));
    for _ in 0..200 {
        if !requests(&k).await.is_empty() {
            break;
        }
        sleep_ms(10).await;
    }
    // A signal aborted before the call rejects at once, though a call is ahead of it.
    let gone = web_sys::AbortController::new().unwrap();
    gone.abort();
    let started = now_ms();
    let e = settle(c.send("never".into(), with_signal(&gone.signal()))).await.unwrap_err();
    let took = now_ms() - started;
    assert_eq!(str_field(&e, "name").as_deref(), Some("AbortError"));
    assert!(took < TIMEOUT_MS / 10.0, "rejected {took} ms later, not when the call ahead settles");
    // A signal that aborts while its call waits in the queue: rejects then, with the signal's own AbortError.
    let ctrl = web_sys::AbortController::new().unwrap();
    let second = c.send("second".into(), with_signal(&ctrl.signal()));
    let third = c.send("third".into(), JsValue::UNDEFINED);
    sleep_ms(100).await;
    let aborted_at = now_ms();
    ctrl.abort();
    let e = settle(second).await.unwrap_err();
    let took = now_ms() - aborted_at;
    assert_eq!(str_field(&e, "name").as_deref(), Some("AbortError"));
    assert!(e.loose_eq(&ctrl.signal().reason()), "the same AbortError as an abort during a request");
    assert!(took < TIMEOUT_MS / 10.0, "rejected {took} ms after the abort, not when the call ahead settles");
    // The call behind it still waits for the first one.
    sleep_ms(300).await;
    assert_eq!(requests(&k).await.len(), 1, "nothing is sent while the first call runs");
    first_ctrl.abort();
    assert_eq!(str_field(&settle(first).await.unwrap_err(), "name").as_deref(), Some("AbortError"));
    settle(third).await.unwrap();
    let reqs = requests(&k).await;
    assert_eq!(reqs.len(), 2, "the aborted calls sent nothing");
    assert_eq!(reqs[1]["lastUserText"], "third");
    let h = to_json(&c.history());
    assert_eq!(h.as_array().unwrap().len(), 2);
    assert_eq!(h[0]["text"], "third");
}

#[wasm_bindgen_test]
async fn two_chats_never_share_state() {
    let (k1, k2) = (key("iso-a"), key("iso-b"));
    let (a, b) = (chat(&k1, json!({})), chat(&k2, json!({})));
    settle(a.send("alpha".into(), JsValue::UNDEFINED)).await.unwrap();
    settle(b.send("beta".into(), JsValue::UNDEFINED)).await.unwrap();
    assert_eq!(to_json(&a.history())[0]["text"], "alpha");
    assert_eq!(to_json(&b.history())[0]["text"], "beta");
    assert_eq!(requests(&k2).await[0]["contentsTurns"], 1);
}

/// A signal that is not `instanceof AbortSignal` here yet is one: an iframe's (another realm) or a polyfill's. They were refused as `INVALID_INPUT`; the package only reads `aborted` and `reason` and
/// listens for `abort`, which they all do. The iframe's `AbortError` reason is the rejection, as this realm's would be.
#[wasm_bindgen_test]
async fn a_signal_from_another_realm_or_a_polyfill_is_heard() {
    let k = key("foreign-signal");
    script(&k, json!([{"fault": "hang"}, {}, {"fault": "hang"}])).await;
    let c = chat(&k, json!({"maxRetries": 3}));
    let ctrl = js_sys::Function::new_no_args(
        "const f = document.createElement('iframe'); document.body.appendChild(f); return new f.contentWindow.AbortController()",
    )
    .call0(&JsValue::NULL)
    .unwrap();
    let signal = field(&ctrl, "signal");
    assert!(!signal.is_instance_of::<web_sys::AbortSignal>(), "the iframe's signal is of another realm");
    let pending = c.send("hello".into(), with_signal(signal.unchecked_ref()));
    for _ in 0..200 {
        if !requests(&k).await.is_empty() {
            break;
        }
        sleep_ms(10).await;
    }
    js_sys::Reflect::get(&ctrl, &"abort".into()).unwrap().unchecked_into::<js_sys::Function>().call0(&ctrl).unwrap();
    let e = settle(pending).await.expect_err("the abort must reject the call");
    assert_eq!(str_field(&e, "name").as_deref(), Some("AbortError"), "{}", code(&e));
    // The iframe's own AbortError is its reason, returned as is, as one of this realm's is (it was wrapped in a new one).
    assert!(js_sys::Object::is(&e, &field(&signal, "reason")), "the signal's reason is the error");
    assert_eq!(requests(&k).await.len(), 1, "an abort is never retried");

    // A polyfill's signal (as `abort-controller`'s: an EventTarget with `aborted`, no `reason`).
    let polyfill = js_sys::Function::new_no_args(
        "return class extends EventTarget { aborted = false; abort() { this.aborted = true; this.dispatchEvent(new Event('abort')) } }",
    )
    .call0(&JsValue::NULL)
    .unwrap();
    let new_signal = || js_sys::Reflect::construct(polyfill.unchecked_ref::<js_sys::Function>(), &js_sys::Array::new()).unwrap();
    let answered = settle(c.send("again".into(), with_signal(new_signal().unchecked_ref()))).await;
    assert!(answered.is_ok(), "a polyfill's signal that never aborts: {:?}", answered.map_err(|e| code(&e)));
    let s = new_signal();
    let pending = c.send("once more".into(), with_signal(s.unchecked_ref()));
    for _ in 0..200 {
        if requests(&k).await.len() == 3 {
            break;
        }
        sleep_ms(10).await;
    }
    js_sys::Reflect::get(&s, &"abort".into()).unwrap().unchecked_into::<js_sys::Function>().call0(&s).unwrap();
    let e = settle(pending).await.expect_err("the polyfill's abort must reject the call");
    assert_eq!(str_field(&e, "name").as_deref(), Some("AbortError"), "{}", code(&e));
    assert_eq!(requests(&k).await.len(), 3);
    // Still refused: what has no listener methods.
    let opts = obj(json!({"signal": {"aborted": false}}));
    let e = settle(c.send("no".into(), opts)).await.expect_err("a bare object is no signal");
    assert_eq!(code(&e), "INVALID_INPUT");
}
