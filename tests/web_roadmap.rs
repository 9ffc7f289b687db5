//! `generateRoadmap` end to end in headless Chrome and Firefox against the mock Gemini: batching,
//! truncation recovery, retries, faults, abort, resume and `regenerateWeek`, through the JS exports.
#![cfg(target_arch = "wasm32")]

mod web_support;

use gemini_roadmap::exports::{generate_roadmap, regenerate_week};
use js_sys::{Array, Reflect};
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;
use web_support::*;

wasm_bindgen_test_configure!(run_in_browser);

fn options(k: &str, extra: Value) -> JsValue {
    let mut o = json!({"apiKey": k, "baseUrl": mock_url(), "role": "DevOps Engineer", "weeks": 12, "log": false});
    for (key, v) in extra.as_object().unwrap() {
        o[key] = v.clone();
    }
    obj(o)
}

/// Runs `generateRoadmap`, collecting every progress event.
async fn run(opts: JsValue) -> (Result<Value, JsValue>, Vec<Value>) {
    let events = Array::new();
    let sink = events.clone();
    let cb = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
        sink.push(&e);
    });
    Reflect::set(&opts, &"onProgress".into(), cb.as_ref()).unwrap();
    let result = generate_roadmap(opts).await.map(|v| to_json(&v));
    let events = to_json(&events.into()).as_array().cloned().unwrap_or_default();
    (result, events)
}

/// Every week 1..=n once, in order, 7 days numbered 1..=7, titles and tasks present.
fn assert_complete(rm: &Value, n: u64) {
    assert_eq!(rm["totalWeeks"], n);
    let weeks = rm["weeks"].as_array().unwrap();
    assert_eq!(weeks.len() as u64, n, "{}", rm["warnings"]);
    for (i, w) in weeks.iter().enumerate() {
        assert_eq!(w["week"], i as u64 + 1);
        assert!(!w["title"].as_str().unwrap().is_empty());
        let days = w["days"].as_array().unwrap();
        assert_eq!(days.len(), 7, "week {}", i + 1);
        for (d, day) in days.iter().enumerate() {
            assert_eq!(day["day"], d as u64 + 1);
            assert!(!day["tasks"].as_array().unwrap().is_empty());
        }
    }
}

/// What each generate request asked for, as the mock read it: "OUTLINE", "WEEKS 4-6", "WEEK 4".
async fn tasks(k: &str) -> Vec<String> {
    requests(k)
        .await
        .iter()
        .filter(|r| r["path"].as_str().unwrap_or("").contains("enerateContent"))
        .map(|r| {
            let t = &r["task"];
            match (t["kind"].as_str(), t["from"].as_u64(), t["to"].as_u64()) {
                (Some("outline"), _, _) => "TASK: OUTLINE".to_string(),
                (Some("weeks"), Some(a), Some(b)) if a == b => format!("TASK: WEEK {a}"),
                (Some("weeks"), Some(a), Some(b)) => format!("TASK: WEEKS {a}-{b}"),
                (Some("days"), Some(a), _) => format!("TASK: WEEK {a} DAYS {}-{}", t["days"][0], t["days"][1]),
                _ => format!("other: {t}"),
            }
        })
        .collect()
}

fn kinds(events: &[Value]) -> Vec<String> {
    events.iter().map(|e| e["type"].as_str().unwrap().to_string()).collect()
}

#[wasm_bindgen_test]
async fn twelve_weeks_with_the_defaults() {
    let k = key("rm-12");
    let (rm, events) = run(options(&k, json!({}))).await;
    let rm = rm.unwrap();
    assert_complete(&rm, 12);
    assert_eq!(rm["usage"]["requests"], 6, "model info + outline + 4 batches");
    assert!(rm["usage"]["promptTokens"].as_u64().unwrap() > 0);
    assert_eq!(rm["batches"].as_array().unwrap().len(), 4);
    assert_eq!(
        tasks(&k).await,
        ["TASK: OUTLINE", "TASK: WEEKS 1-3", "TASK: WEEKS 4-6", "TASK: WEEKS 7-9", "TASK: WEEKS 10-12"]
    );
    let kinds = kinds(&events);
    assert_eq!(kinds.first().map(String::as_str), Some("outline"));
    assert_eq!(kinds.last().map(String::as_str), Some("done"));
    assert_eq!(kinds.iter().filter(|k| *k == "week").count(), 12);
    // Streaming: the first week is announced before its batch is done.
    let first_week = kinds.iter().position(|k| k == "week").unwrap();
    let first_done = kinds.iter().position(|k| k == "batch-done").unwrap();
    assert!(first_week < first_done, "{kinds:?}");
    let reqs = requests(&k).await;
    assert!(reqs.iter().all(|r| r["keyInUrl"] == false));
    let gen: Vec<&Value> = reqs.iter().filter(|r| r["stream"] == true).collect();
    assert_eq!(gen.len(), 5, "outline and batches stream");
    // The default model (a 3.x Flash-Lite): no thinking, and its own temperature.
    assert_eq!(gen[1]["generationConfig"]["thinkingConfig"]["thinkingLevel"], "minimal");
    assert_eq!(gen[1]["generationConfig"]["temperature"], Value::Null);
    assert_eq!(gen[1]["generationConfig"]["responseMimeType"], "application/json");
}

#[wasm_bindgen_test]
async fn parallel_runs_write_the_first_week_in_parts_at_once() {
    let k = key("rm-parallel");
    // The outline streams at 200 tokens/s (~3 s): the parts go out once its first two weeks are in, the other
    // batches only when it ends. The parts take 300 ms to answer, so they are in flight together.
    let part = json!({"latencyMs": 300});
    script(&k, json!([{"tokensPerSecond": 200}, part, part, part])).await;
    let (rm, events) = run(options(&k, json!({"strategy": "parallel"}))).await;
    let rm = rm.unwrap();
    assert_complete(&rm, 12);
    let mut asked = tasks(&k).await;
    asked.sort();
    let parts = ["TASK: WEEK 1 DAYS 1-3", "TASK: WEEK 1 DAYS 4-5", "TASK: WEEK 1 DAYS 6-7"];
    assert_eq!(asked[..4], ["TASK: OUTLINE", parts[0], parts[1], parts[2]]);
    assert_eq!(asked[4..], ["TASK: WEEKS 11-12", "TASK: WEEKS 2-4", "TASK: WEEKS 5-7", "TASK: WEEKS 8-10"]);
    let weeks: Vec<u64> =
        events.iter().filter(|e| e["type"] == "week").map(|e| e["week"]["week"].as_u64().unwrap()).collect();
    assert_eq!(weeks[0], 1, "week 1 comes first: {weeks:?}");
    assert_eq!(rm["batches"][0]["endWeek"], 1);
    assert_eq!(rm["batches"][0]["attempts"], 3);
    // In flight at once, by the mock's clock: the 3 parts together, never more than 4 requests.
    let spans: Vec<(f64, f64)> = requests(&k)
        .await
        .iter()
        .filter(|r| r["path"].as_str().unwrap_or("").contains("enerateContent"))
        .map(|r| (r["startedAt"].as_f64().unwrap(), r["endedAt"].as_f64().unwrap()))
        .collect();
    let most = spans.iter().map(|&(t, _)| spans.iter().filter(|&&(a, b)| a <= t && t < b).count()).max().unwrap();
    assert!((3..=4).contains(&most), "{most} in flight: {spans:?}");
}

#[wasm_bindgen_test]
async fn twelve_weeks_in_one_call_with_a_small_output_limit_is_recovered() {
    let k = key("rm-single");
    // 8,192 output tokens, as gemini-2.0-flash allowed: too few for 12 weeks.
    let (rm, _) = run(options(&k, json!({"maxOutputTokens": 8192, "batchWeeks": 12}))).await;
    let rm = rm.unwrap();
    assert_complete(&rm, 12);
    assert!(rm["weeks"].as_array().unwrap().iter().all(|w| w["fallback"] == false));
    let t = tasks(&k).await;
    assert_eq!(t[1], "TASK: WEEKS 1-12", "the single call was tried");
    assert!(t.len() > 2, "the mock cut it and the missing weeks were requested: {t:?}");
    assert!(rm["warnings"].to_string().contains("trunc") || rm["batches"][0]["status"] == "recovered", "{rm}");
}

#[wasm_bindgen_test]
async fn fifty_two_weeks_complete() {
    let k = key("rm-52");
    let (rm, _) = run(options(&k, json!({"weeks": 52, "role": "Frontend Developer"}))).await;
    let rm = rm.unwrap();
    assert_complete(&rm, 52);
    let titles: std::collections::HashSet<&str> =
        rm["weeks"].as_array().unwrap().iter().map(|w| w["title"].as_str().unwrap()).collect();
    assert_eq!(titles.len(), 52, "no repeated week titles");
    assert_eq!(rm["usage"]["requests"], 2 + 18);
}

#[wasm_bindgen_test]
async fn transient_faults_are_retried() {
    let k = key("rm-retry");
    script(&k, json!([{}, {"fault": "status", "status": 429, "retryDelay": "0.3s"}, {"fault": "status", "status": 503}, {"fault": "html502"}])).await;
    let (rm, events) = run(options(&k, json!({"weeks": 6}))).await;
    let rm = rm.unwrap();
    assert_complete(&rm, 6);
    assert_eq!(rm["usage"]["requests"], 1 + 1 + 2 + 3, "every retry is a request");
    let retries: Vec<&Value> = events.iter().filter(|e| e["type"] == "retry").collect();
    assert_eq!(retries.len(), 3);
    assert!(retries[0]["delayMs"].as_u64().unwrap() >= 300, "RetryInfo honoured");
}

#[wasm_bindgen_test]
async fn content_faults_are_recovered() {
    let k = key("rm-content");
    script(&k, json!([{}, {"fault": "fenced"}, {"fault": "wrong-week-numbers"}, {"fault": "missing-day"}, {"fault": "truncate", "atChars": 3000}])).await;
    let (rm, _) = run(options(&k, json!({"weeks": 12}))).await;
    let rm = rm.unwrap();
    assert_complete(&rm, 12);
    assert!(rm["weeks"].as_array().unwrap().iter().all(|w| w["fallback"] == false), "{}", rm["warnings"]);
    assert!(!rm["warnings"].as_array().unwrap().is_empty(), "renumbering is reported");
}

#[wasm_bindgen_test]
async fn a_blocked_prompt_fails_with_the_finished_weeks() {
    let k = key("rm-blocked");
    script(&k, json!([{}, {}, {"fault": "blocked", "reason": "SAFETY"}])).await;
    let (err, _) = run(options(&k, json!({"weeks": 9}))).await;
    let err = err.unwrap_err();
    assert_eq!(str_field(&err, "code").as_deref(), Some("BLOCKED"));
    assert_eq!(num_field(&err, "batch"), Some(2.0));
    let partial = to_json(&field(&err, "partial"));
    assert_eq!(partial["weeks"].as_array().unwrap().len(), 3, "the finished batch is kept");
}

#[wasm_bindgen_test]
async fn abort_mid_batch_stops_everything() {
    let k = key("rm-abort");
    script(&k, json!([{}, {}, {"fault": "hang"}])).await;
    let ctrl = web_sys::AbortController::new().unwrap();
    let opts = options(&k, json!({"weeks": 12}));
    Reflect::set(&opts, &"signal".into(), &ctrl.signal()).unwrap();
    let pending = wasm_bindgen_futures::future_to_promise(async move { generate_roadmap(opts).await });
    for _ in 0..200 {
        if tasks(&k).await.len() >= 3 {
            break;
        }
    }
    ctrl.abort();
    let err = settle(pending).await.unwrap_err();
    assert_eq!(str_field(&err, "name").as_deref(), Some("AbortError"));
    let sent = requests(&k).await.len();
    // Anything still in flight settles; nothing new is sent after the abort.
    let _ = requests(&k).await;
    assert_eq!(requests(&k).await.len(), sent);
    assert_eq!(tasks(&k).await.len(), 3, "outline, batch 1, the aborted batch 2");
}

#[wasm_bindgen_test]
async fn resume_after_a_failure_requests_only_missing_weeks() {
    let k = key("rm-resume");
    script(&k, json!([{}, {}, {}, {"fault": "quota-day"}])).await;
    let (err, _) = run(options(&k, json!({"weeks": 12}))).await;
    let err = err.unwrap_err();
    assert_eq!(str_field(&err, "code").as_deref(), Some("RATE_LIMITED"));
    let partial = field(&err, "partial");
    assert_eq!(to_json(&partial)["weeks"].as_array().unwrap().len(), 6);
    let before = tasks(&k).await.len();
    let opts = options(&k, json!({"weeks": 12}));
    Reflect::set(&opts, &"resumeFrom".into(), &partial).unwrap();
    let (rm, _) = run(opts).await;
    let rm = rm.unwrap();
    assert_complete(&rm, 12);
    let after: Vec<String> = tasks(&k).await.split_off(before);
    assert_eq!(after, ["TASK: WEEKS 7-9", "TASK: WEEKS 10-12"], "no outline, no finished week requested again");
}

#[wasm_bindgen_test]
async fn regenerate_week_replaces_one_week() {
    let k = key("rm-regen");
    let (rm, _) = run(options(&k, json!({"weeks": 6}))).await;
    let rm = rm.unwrap();
    let before = tasks(&k).await.len();
    let events = Array::new();
    let sink = events.clone();
    let cb = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
        sink.push(&e);
    });
    let opts = obj(json!({"apiKey": k, "baseUrl": mock_url(), "log": false}));
    Reflect::set(&opts, &"onProgress".into(), cb.as_ref()).unwrap();
    let out = regenerate_week(obj(rm.clone()), JsValue::from(4), opts).await;
    let out = to_json(&out.unwrap());
    // `onProgress` was taken and never called.
    let types: Vec<Value> = to_json(&events.into()).as_array().unwrap().iter().map(|e| e["type"].clone()).collect();
    assert_eq!(types, ["batch-start", "week", "batch-done"]);
    assert_complete(&out, 6);
    assert_eq!(tasks(&k).await.split_off(before), ["TASK: WEEK 4"]);
    assert_eq!(out["weeks"][2], rm["weeks"][2], "other weeks untouched");
    let bad =
        regenerate_week(obj(rm.clone()), JsValue::from(9), obj(json!({"apiKey": k, "baseUrl": mock_url()}))).await.unwrap_err();
    assert_eq!(str_field(&bad, "code").as_deref(), Some("INVALID_INPUT"));
    // The options of the roadmap's own call can be passed as they are (its role however spelt, its weeks); another
    // role or length, or a `resumeFrom`, is an error, not silently replaced by the roadmap's.
    let asked = tasks(&k).await.len();
    for (extra, name) in [
        (json!({"role": "Pastry Chef"}), "role"),
        (json!({"weeks": 9}), "weeks"),
        (json!({"role": "devops  ENGINEER", "weeks": 6, "resumeFrom": rm.clone()}), "resumeFrom"),
    ] {
        let mut o = json!({"apiKey": k, "baseUrl": mock_url()});
        o.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let bad = regenerate_week(obj(rm.clone()), JsValue::from(4), obj(o)).await.unwrap_err();
        assert_eq!((str_field(&bad, "code").as_deref(), str_field(&bad, "field").as_deref()), (Some("INVALID_INPUT"), Some(name)));
    }
    // A misspelt option holding a function, and options that throw when read: INVALID_INPUT naming them, before any
    // request (the function was dropped by JSON and ignored; a throw left the promise pending forever).
    for (source, name) in [
        ("{ apiKey: k, baseUrl: u, onprogress: () => {} }", "onprogress"),
        ("{ apiKey: k, baseUrl: u, get maxRetries() { throw new Error('x') } }", "maxRetries"),
        ("new Proxy({ apiKey: k, baseUrl: u }, { ownKeys() { throw new Error('x') } })", "options"),
    ] {
        let opts = js_sys::Function::new_with_args("k, u", &format!("return {source}"))
            .call2(&JsValue::NULL, &JsValue::from_str(&k), &mock_url().into())
            .unwrap();
        let bad = regenerate_week(obj(rm.clone()), JsValue::from(4), opts).await.expect_err(source);
        assert_eq!((str_field(&bad, "code").as_deref(), str_field(&bad, "field").as_deref()), (Some("INVALID_INPUT"), Some(name)));
    }
    // A roadmap's own empty role or 0 weeks, with none given, is the roadmap's to answer for: they were reported as
    // the `role` or `weeks` option, which the caller never gave (found by an exploratory test). Week 0 is out of
    // the roadmap's range as week 9 is, and says so alike.
    let given = || obj(json!({"apiKey": k, "baseUrl": mock_url()}));
    for (broken, says) in [(json!({"role": " "}), "`role` must not be empty"), (json!({"totalWeeks": 0}), "`totalWeeks` must be")] {
        let mut r = rm.clone();
        r.as_object_mut().unwrap().extend(broken.as_object().unwrap().clone());
        let bad = regenerate_week(obj(r), JsValue::from(4), given()).await.unwrap_err();
        assert_eq!(str_field(&bad, "field").as_deref(), Some("roadmap"), "{bad:?}");
        assert!(str_field(&bad, "message").unwrap_or_default().contains(says), "{bad:?}");
    }
    for week in [0, 9] {
        let bad = regenerate_week(obj(rm.clone()), JsValue::from(week), given()).await.unwrap_err();
        assert_eq!(str_field(&bad, "message").as_deref(), Some("Invalid option `week`: must be from 1 to 6"), "{week}");
    }
    assert_eq!(tasks(&k).await.len(), asked, "nothing sent");
    let same = json!({"apiKey": k, "baseUrl": mock_url(), "role": "devops  ENGINEER", "weeks": 6, "log": false});
    regenerate_week(obj(rm), JsValue::from(4), obj(same)).await.expect("the roadmap's own role and length");
}

#[wasm_bindgen_test]
async fn bad_options_are_typed_errors_and_send_nothing() {
    let k = key("rm-invalid");
    let cases = [
        (json!({"weeks": 0}), "weeks"),
        (json!({"weeks": 53}), "weeks"),
        (json!({"weeks": 2.5}), "weeks"),
        (json!({"role": "  "}), "role"),
        (json!({"batchWeeks": 0}), "batchWeeks"),
        (json!({"contextDays": 9}), "contextDays"),
        (json!({"hoursPerDay": -1}), "hoursPerDay"),
        (json!({"baseUrl": "file:///etc"}), "baseUrl"),
        (json!({"history": "everything"}), "history"),
        (json!({"stream": "yes"}), "stream"),
        (json!({"resumeFrom": {"role": "x"}}), "resumeFrom.totalWeeks"),
        (json!({"wekks": 3}), "wekks"),
    ];
    for (extra, field_name) in cases {
        let (err, _) = run(options(&k, extra.clone())).await;
        let err = err.unwrap_err();
        assert_eq!(str_field(&err, "code").as_deref(), Some("INVALID_INPUT"), "{extra}");
        assert_eq!(str_field(&err, "field").as_deref(), Some(field_name), "{extra}");
        assert!(!str_field(&err, "message").unwrap().contains(&k), "the key leaked");
    }
    let opts = options(&k, json!({}));
    Reflect::set(&opts, &"signal".into(), &JsValue::from(3)).unwrap();
    let err = generate_roadmap(opts).await.unwrap_err();
    assert_eq!(str_field(&err, "field").as_deref(), Some("signal"));
    // A misspelt option is rejected whatever it holds: a function was dropped by JSON, and the run went ahead.
    for name in ["onprogress", "onProgres", "signa1"] {
        let opts = options(&k, json!({}));
        Reflect::set(&opts, &name.into(), &js_sys::Function::new_no_args("")).unwrap();
        let err = generate_roadmap(opts).await.unwrap_err();
        assert_eq!((str_field(&err, "code").as_deref(), str_field(&err, "field").as_deref()), (Some("INVALID_INPUT"), Some(name)));
    }
    assert_eq!(requests(&k).await.len(), 0);
}
