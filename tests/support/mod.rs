//! A fake Gemini for the roadmap tests: answers the prompt contract (`TASK: OUTLINE`, `TASK: WEEKS a-b`,
//! `TASK: WEEK n` in the last user turn) like `generateContent` / `streamGenerateContent?alt=sse` would,
//! with usageMetadata, plus builders for the faults the loop must survive.
#![allow(dead_code)]

use std::cell::Cell;
use std::rc::Rc;

use serde_json::{json, Value};

pub use gemini_roadmap::gemini::replay::{block_on, ReplayTransport, Responder, Scripted};
pub use gemini_roadmap::gemini::HttpRequest;
pub use gemini_roadmap::roadmap::*;
#[allow(unused_imports)]
pub use gemini_roadmap::Error;

pub const ROLE: &str = "DevOps Engineer";

/// A `serde_json` value as the crate's own JSON value (tests build values with `json!`).
pub fn ours(v: &Value) -> gemini_roadmap::json::Value {
    gemini_roadmap::json::Value::parse(&v.to_string()).expect("valid JSON")
}

/// The crate's own JSON value as a `serde_json` value, for indexing and comparing in tests.
pub fn theirs(v: &gemini_roadmap::json::Value) -> Value {
    serde_json::from_str(&v.to_json()).expect("valid JSON")
}

pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/roadmap/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// What a request asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    ModelInfo,
    Outline {
        total: u32,
    },
    Weeks {
        first: u32,
        last: u32,
        total: u32,
    },
    /// Days `first..=last` of one week (a week written in parts).
    Days {
        week: u32,
        first: u32,
        last: u32,
        total: u32,
    },
}

pub fn body_json(req: &HttpRequest) -> Value {
    serde_json::from_str(req.body.as_deref().unwrap_or("null")).unwrap()
}

pub fn turns(req: &HttpRequest) -> Vec<(String, String)> {
    body_json(req)["contents"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| {
                    (
                        c["role"].as_str().unwrap_or("").to_string(),
                        c["parts"][0]["text"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

pub fn last_user_text(req: &HttpRequest) -> String {
    turns(req).pop().map(|t| t.1).unwrap_or_default()
}

fn after<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.find(key).map(|i| &text[i + key.len()..])
}

fn leading_number(s: &str) -> Option<u32> {
    let d: String = s.trim_start().chars().take_while(char::is_ascii_digit).collect();
    d.parse().ok()
}

pub fn task_of(req: &HttpRequest) -> Task {
    if req.method == "GET" {
        return Task::ModelInfo;
    }
    let text = last_user_text(req);
    let total = after(&text, "Total weeks:").and_then(leading_number).expect("Total weeks line");
    if text.contains("TASK: OUTLINE") {
        return Task::Outline { total };
    }
    if let Some(rest) = after(&text, "TASK: WEEKS ") {
        let (a, b) = rest.trim().split_once('-').expect("WEEKS a-b");
        return Task::Weeks { first: a.parse().unwrap(), last: b.parse().unwrap(), total };
    }
    let n = after(&text, "TASK: WEEK ").and_then(leading_number).expect("a TASK line");
    if let Some(rest) = after(&text, " DAYS ") {
        let (a, b) = rest.trim().split_once('-').expect("DAYS a-b");
        return Task::Days { week: n, first: a.parse().unwrap(), last: b.parse().unwrap(), total };
    }
    if let Some(d) = after(&text, &format!("TASK: WEEK {n} DAY ")).and_then(leading_number) {
        return Task::Days { week: n, first: d, last: d, total };
    }
    Task::Weeks { first: n, last: n, total }
}

/// The `TASK:` line of each request, `GET` for the model lookup: what was asked, in order.
pub fn asked(t: &ReplayTransport) -> Vec<String> {
    asked_in(&t.requests.borrow())
}

/// [`asked`] for any list of sent requests.
pub fn asked_in(requests: &[HttpRequest]) -> Vec<String> {
    requests
        .iter()
        .map(|r| match task_of(r) {
            Task::ModelInfo => "GET".to_string(),
            Task::Outline { .. } => "OUTLINE".to_string(),
            Task::Weeks { first, last, .. } if first == last => format!("WEEK {first}"),
            Task::Weeks { first, last, .. } => format!("WEEKS {first}-{last}"),
            Task::Days { week, first, last, .. } => format!("WEEK {week} DAYS {first}-{last}"),
        })
        .collect()
}

pub fn phase_of(week: u32, total: u32) -> (u32, String) {
    let n = total.clamp(1, 4);
    let size = total.div_ceil(n);
    let p = (week - 1) / size;
    (p, ["Foundations", "Containers", "Automation", "Reliability"][p as usize].to_string())
}

pub fn week_title(week: u32) -> String {
    format!("Topic {week}: Skill {week}")
}

pub fn outline_value(total: u32) -> Value {
    let n = total.clamp(1, 4);
    let size = total.div_ceil(n);
    let phases: Vec<Value> = (0..n)
        .filter(|i| i * size < total)
        .map(|i| {
            let name = phase_of(i * size + 1, total).1;
            json!({"name": name, "startWeek": i * size + 1, "endWeek": ((i + 1) * size).min(total), "goal": format!("Goal of {name}")})
        })
        .collect();
    let weeks: Vec<Value> =
        (1..=total).map(|w| json!({"week": w, "title": week_title(w), "phase": phase_of(w, total).1})).collect();
    json!({"phases": phases, "weeks": weeks})
}

pub fn week_value(week: u32, total: u32) -> Value {
    let days: Vec<Value> = (1..=7)
        .map(|d| {
            json!({
                "day": d,
                "title": format!("W{week}D{d} title"),
                "tasks": [format!("W{week}D{d} task one"), format!("W{week}D{d} task two \"quoted\" {{braces}}")],
                "resources": [format!("W{week}D{d} docs")],
                "hours": 2
            })
        })
        .collect();
    json!({"week": week, "title": week_title(week), "phase": phase_of(week, total).1, "days": days})
}

/// `{"days":[..]}`: days `first..=last` of [`week_value`].
pub fn days_value(week: u32, first: u32, last: u32, total: u32) -> Value {
    let all = week_value(week, total)["days"].as_array().unwrap().clone();
    json!({"days": all[first as usize - 1..last as usize]})
}

pub fn weeks_value(first: u32, last: u32, total: u32) -> Value {
    json!({"weeks": (first..=last).map(|w| week_value(w, total)).collect::<Vec<_>>()})
}

pub fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap()
}

pub fn usage(prompt: u64, output: u64) -> Value {
    json!({"promptTokenCount": prompt, "candidatesTokenCount": output, "thoughtsTokenCount": 3, "totalTokenCount": prompt + output + 3})
}

/// A whole `generateContent` body.
pub fn body(text: &str, finish: &str, prompt_tokens: u64) -> String {
    let out = text.chars().count() as u64 / 4;
    json!({
        "candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": finish, "index": 0}],
        "usageMetadata": usage(prompt_tokens, out),
        "modelVersion": "gemini-2.5-flash"
    })
    .to_string()
}

/// SSE events of `text` in `pieces` parts; the last carries `finish` (none when `None`: a cut stream).
pub fn sse_events(text: &str, finish: Option<&str>, prompt_tokens: u64, pieces: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let step = chars.len().div_ceil(pieces.max(1)).max(1);
    let parts: Vec<String> = chars.chunks(step).map(|c| c.iter().collect()).collect();
    let n = parts.len();
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut cand = json!({"content": {"parts": [{"text": p}], "role": "model"}, "index": 0});
            if i + 1 == n {
                if let Some(f) = finish {
                    cand["finishReason"] = json!(f);
                }
            }
            json!({"candidates": [cand], "usageMetadata": usage(prompt_tokens, (i as u64 + 1) * 50)}).to_string()
        })
        .collect()
}

/// Prompt tokens as the fake charges them: a quarter of the request body.
pub fn prompt_tokens(req: &HttpRequest) -> u64 {
    req.body.as_ref().map_or(0, |b| b.len() as u64 / 4)
}

/// Answers `req` with `text`, streamed (4 events) when the URL asks for SSE.
pub fn answer(req: &HttpRequest, text: &str, finish: &str) -> Scripted {
    if req.url.contains("alt=sse") {
        Scripted::sse(&sse_events(text, Some(finish), prompt_tokens(req), 4))
    } else {
        Scripted::ok(body(text, finish, prompt_tokens(req)))
    }
}

/// The right answer to any request.
pub fn good(req: &HttpRequest) -> Scripted {
    match task_of(req) {
        Task::ModelInfo => {
            let model = req.url.rsplit('/').next().unwrap();
            let name = if model.starts_with("gemini-2.0") { "gemini-2.0-flash" } else { "gemini-2.5-flash" };
            let info: Value = serde_json::from_str(&fixture(&format!("model-info-{name}.json"))).unwrap();
            let mut info = info;
            info["name"] = json!(format!("models/{model}"));
            Scripted::ok(info.to_string())
        }
        Task::Outline { total } => answer(req, &pretty(&outline_value(total)), "STOP"),
        Task::Weeks { first, last, total } => answer(req, &pretty(&weeks_value(first, last, total)), "STOP"),
        Task::Days { week, first, last, total } => answer(req, &pretty(&days_value(week, first, last, total)), "STOP"),
    }
}

pub fn gemini() -> Responder {
    Box::new(|req, _| good(req))
}

/// A fault hook: returns `Some` to answer differently. Gets the request, its 1-based number and its task.
pub fn gemini_with(fault: impl Fn(&HttpRequest, usize, Task) -> Option<Scripted> + 'static) -> Responder {
    Box::new(move |req, n| fault(req, n, task_of(req)).unwrap_or_else(|| good(req)))
}

/// Answers with a fault the first `times` times a request matches `when`.
pub fn first_times(
    times: usize,
    when: impl Fn(Task) -> bool + 'static,
    fault: impl Fn(&HttpRequest, Task) -> Scripted + 'static,
) -> Responder {
    let seen = Rc::new(Cell::new(0));
    gemini_with(move |req, _, task| {
        if when(task) && seen.get() < times {
            seen.set(seen.get() + 1);
            Some(fault(req, task))
        } else {
            None
        }
    })
}

pub fn error_body(code: u16, status: &str, message: &str, details: Value) -> String {
    json!({"error": {"code": code, "message": message, "status": status, "details": details}}).to_string()
}

/// Google's 429 for an exhausted quota, naming the quota and how long to wait.
fn quota_exceeded(quota_id: &str, retry_delay: &str) -> Scripted {
    Scripted::status(
        429,
        error_body(
            429,
            "RESOURCE_EXHAUSTED",
            "You exceeded your current quota.",
            json!([
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaId": quota_id}]},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay}
            ]),
        ),
    )
}

pub fn rate_limited(retry_delay: &str) -> Scripted {
    quota_exceeded("GenerateRequestsPerMinutePerProjectPerModel-FreeTier", retry_delay)
}

pub fn daily_quota() -> Scripted {
    quota_exceeded("GenerateRequestsPerDayPerProjectPerModel-FreeTier", "7s")
}

pub fn unavailable() -> Scripted {
    Scripted::status(503, error_body(503, "UNAVAILABLE", "The model is overloaded. Please try again later.", json!([])))
}

pub fn opts(weeks: u32) -> RoadmapOptions {
    RoadmapOptions::new("test-key-123", ROLE, weeks)
}

/// The weeks of each `batch-start` event, in the order they came.
pub fn batch_starts(events: &[ProgressEvent]) -> Vec<(u32, u32)> {
    events
        .iter()
        .filter_map(|e| match e {
            ProgressEvent::BatchStart { start_week, end_week, .. } => Some((*start_week, *end_week)),
            _ => None,
        })
        .collect()
}

/// The `retry` events as (batch, attempt, delay_ms).
pub fn retries(events: &[ProgressEvent]) -> Vec<(u32, u32, u64)> {
    events
        .iter()
        .filter_map(|e| match e {
            ProgressEvent::Retry { batch, attempt, delay_ms, .. } => Some((*batch, *attempt, *delay_ms)),
            _ => None,
        })
        .collect()
}

pub fn run(t: &ReplayTransport, o: &RoadmapOptions) -> (Result<Roadmap, RoadmapError>, Vec<ProgressEvent>) {
    let mut events = Vec::new();
    let r = block_on(generate(t, o, &mut |e| events.push(e.clone())));
    (r, events)
}

pub fn ok(t: &ReplayTransport, o: &RoadmapOptions) -> (Roadmap, Vec<ProgressEvent>) {
    let (r, e) = run(t, o);
    (r.unwrap_or_else(|e| panic!("run failed: {e:?}")), e)
}

pub fn err(t: &ReplayTransport, o: &RoadmapOptions) -> (RoadmapError, Vec<ProgressEvent>) {
    let (r, e) = run(t, o);
    (r.expect_err("the run should fail"), e)
}

/// Weeks 1..=total, each once, in order, each with 7 days numbered 1..7, titles and tasks.
pub fn assert_complete(rm: &Roadmap, total: u32) {
    assert_eq!(rm.total_weeks, total);
    assert_eq!(rm.weeks.iter().map(|w| w.week).collect::<Vec<_>>(), (1..=total).collect::<Vec<_>>());
    for w in &rm.weeks {
        assert_eq!(w.days.iter().map(|d| d.day).collect::<Vec<_>>(), (1..=7).collect::<Vec<_>>(), "week {}", w.week);
        assert!(!w.title.is_empty());
        assert!(w.days.iter().all(|d| !d.title.is_empty() && !d.tasks.is_empty()));
    }
    assert_eq!(rm.outline.len(), total as usize);
}

pub fn week_numbers(rm: &Roadmap) -> Vec<u32> {
    rm.weeks.iter().map(|w| w.week).collect()
}

pub fn week_events(events: &[ProgressEvent]) -> Vec<u32> {
    events
        .iter()
        .filter_map(|e| match e {
            ProgressEvent::Week { week } => Some(week.week),
            _ => None,
        })
        .collect()
}

pub fn posts(t: &ReplayTransport) -> Vec<HttpRequest> {
    t.requests.borrow().iter().filter(|r| r.method == "POST").cloned().collect()
}
