//! End to end against the mock Gemini server (`mock/gemini-mock.mjs`) over real HTTP: our prompts,
//! generationConfig and recovery meet the mock's validation and its scripted faults.
//! Uses `MOCK_GEMINI_URL` when set (as `npm test` does), else starts the mock with `node`.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use gemini_roadmap::gemini::transport::Body;
use gemini_roadmap::gemini::Transport;
use serde_json::{json, Value};
use support::*;

/// The mock for one test: `MOCK_GEMINI_URL`, or a `node` child that is killed when the test ends.
struct Mock {
    url: String,
    child: Option<Child>,
}

impl Mock {
    fn start() -> Mock {
        if let Ok(url) = std::env::var("MOCK_GEMINI_URL") {
            return Mock { url, child: None };
        }
        let mut child = Command::new("node")
            .args(["mock/gemini-mock.mjs", "--port", "0", "--quiet"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node must be installed to run the mock Gemini server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let mut mock = Mock { url: String::new(), child: Some(child) };
        mock.url = line.trim().strip_prefix("MOCK_GEMINI_LISTENING ").expect("mock start line").to_string();
        mock
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// One HTTP/1.0 exchange (no chunked encoding); the body chunks are the socket reads, as they arrive.
fn http(
    method: &str,
    url: &str,
    headers: &[(&str, String)],
    body: Option<&str>,
) -> std::io::Result<(u16, Vec<Vec<u8>>)> {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut s = TcpStream::connect(host)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut req = format!("{method} {path} HTTP/1.0\r\nHost: {host}\r\n");
    for (k, v) in headers {
        req += &format!("{k}: {v}\r\n");
    }
    let body = body.unwrap_or("");
    req += &format!("content-length: {}\r\n\r\n{body}", body.len());
    s.write_all(req.as_bytes())?;
    let mut raw = Vec::new();
    let mut reads = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = s.read(&mut buf)?;
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
        reads.push(raw.len());
    }
    let head_end = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("HTTP head") + 4;
    let status: u16 = String::from_utf8_lossy(&raw[..head_end]).split(' ').nth(1).unwrap().parse().unwrap();
    let mut chunks = Vec::new();
    let mut from = head_end;
    for end in reads.into_iter().filter(|&e| e > head_end) {
        chunks.push(raw[from..end].to_vec());
        from = end;
    }
    Ok((status, chunks))
}

struct Http {
    sent: RefCell<Vec<HttpRequest>>,
    sleeps: RefCell<Vec<u64>>,
}

struct HttpBody(VecDeque<Vec<u8>>);

impl Body for HttpBody {
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, Error> {
        Ok(self.0.pop_front())
    }
}

impl Transport for Http {
    type Body = HttpBody;
    async fn send(&self, req: &HttpRequest) -> Result<(u16, HttpBody), Error> {
        self.sent.borrow_mut().push(req.clone());
        let (status, chunks) = http(req.method, &req.url, &req.headers, req.body.as_deref())
            .map_err(|e| Error::Network { message: e.to_string() })?;
        Ok((status, HttpBody(chunks.into())))
    }
    async fn sleep(&self, ms: u64) -> Result<(), Error> {
        self.sleeps.borrow_mut().push(ms);
        Ok(())
    }
    fn is_aborted(&self) -> bool {
        false
    }
    fn random(&self) -> f64 {
        0.5
    }
    fn log(&self, _: &str) {}
}

fn transport() -> Http {
    Http { sent: RefCell::new(Vec::new()), sleeps: RefCell::new(Vec::new()) }
}

fn key(name: &str) -> String {
    format!("test-key-{name}-{}", std::process::id())
}

fn script(mock: &Mock, key: &str, steps: Value) {
    let body = json!({"key": key, "steps": steps, "replace": true}).to_string();
    let (status, _) = http(
        "POST",
        &format!("{}/__mock/script", mock.url),
        &[("content-type", "application/json".into())],
        Some(&body),
    )
    .unwrap();
    assert_eq!(status, 200);
}

fn mock_log(mock: &Mock, key: &str) -> Vec<Value> {
    let (_, chunks) = http("GET", &format!("{}/__mock/requests?key={key}", mock.url), &[], None).unwrap();
    let v: Value = serde_json::from_slice(&chunks.concat()).unwrap();
    v["requests"].as_array().unwrap().iter().filter(|r| r["kind"] != "preflight").cloned().collect()
}

fn mock_opts(mock: &Mock, name: &str, weeks: u32) -> RoadmapOptions {
    let mut o = RoadmapOptions::new(&key(name), "DevOps Engineer", weeks);
    o.base_url = Some(mock.url.clone());
    o
}

fn generate_on_mock(t: &Http, o: &RoadmapOptions) -> (Result<Roadmap, RoadmapError>, Vec<ProgressEvent>) {
    let mut events = Vec::new();
    let r = block_on(generate(t, o, &mut |e| events.push(e.clone())));
    (r, events)
}

fn tasks(t: &Http) -> Vec<String> {
    asked_in(&t.sent.borrow())
}

#[test]
fn every_model_accepts_our_requests_and_the_roadmap_matches_the_outline() {
    let mock = Mock::start();
    for model in
        ["gemini-3.1-flash-lite", "gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.5-flash-lite", "gemini-3.1-pro-preview"]
    {
        let t = transport();
        let mut o = mock_opts(&mock, model, 12);
        o.model = Some(model.into());
        let (r, events) = generate_on_mock(&t, &o);
        let rm = r.unwrap_or_else(|e| panic!("{model}: {e:?}"));
        assert_complete(&rm, 12);
        assert!(rm.warnings.is_empty() && rm.weeks.iter().all(|w| !w.fallback), "{model}: {:?}", rm.warnings);
        assert_eq!(tasks(&t), ["GET", "OUTLINE", "WEEKS 1-3", "WEEKS 4-6", "WEEKS 7-9", "WEEKS 10-12"], "{model}");
        // The mock's titles are a function of (role, week, total): the weeks agree with the outline.
        for w in &rm.weeks {
            assert_eq!(w.title, rm.outline[w.week as usize - 1].title);
        }
        assert_eq!(rm.phases.len(), 4);
        assert_eq!(week_events(&events), (1..=12).collect::<Vec<_>>());
        let log = mock_log(&mock, &key(model));
        assert_eq!(log.len(), 6, "{model}");
        for r in &log[1..] {
            assert_eq!(r["status"], 200, "{model}: {r}");
            assert_eq!(r["contentsTurns"], 1);
            assert_eq!(r["finishReason"], "STOP");
            assert_eq!(r["task"]["role"], "DevOps Engineer");
            assert_eq!(r["task"]["totalWeeks"], 12);
        }
        assert!(rm.usage.prompt_tokens > 0 && rm.usage.output_tokens > 0 && rm.usage.requests == 6);
    }
}

#[test]
fn full_history_prompts_grow_windowed_ones_stay_flat() {
    let mock = Mock::start();
    let mut per_mode = Vec::new();
    for (name, mode) in [("flat", HistoryMode::Windowed), ("full", HistoryMode::Full)] {
        let t = transport();
        let mut o = mock_opts(&mock, name, 15);
        o.history = Some(mode);
        let rm = generate_on_mock(&t, &o).0.unwrap();
        assert_complete(&rm, 15);
        let log = mock_log(&mock, &key(name));
        let prompts: Vec<u64> = log[2..].iter().map(|r| r["promptTokens"].as_u64().unwrap()).collect();
        let turns: Vec<u64> = log[1..].iter().map(|r| r["contentsTurns"].as_u64().unwrap()).collect();
        // Every answer resent goes back with the signature Gemini 3 gave it (they were dropped).
        let signed: Vec<u64> = log[1..].iter().map(|r| r["signedTurns"].as_u64().unwrap()).collect();
        assert_eq!(signed, turns.iter().map(|t| t / 2).collect::<Vec<_>>(), "{name}");
        per_mode.push((prompts, turns));
    }
    let (flat, flat_turns) = &per_mode[0];
    let (full, full_turns) = &per_mode[1];
    assert!(flat_turns.iter().all(|&n| n == 1));
    assert_eq!(full_turns, &[1, 3, 5, 7, 9, 11]);
    // Batch 1 has no window yet; from batch 2 on, windowed prompts keep one size.
    let rest = &flat[1..];
    assert!(rest.iter().max().unwrap() - rest.iter().min().unwrap() < rest[0] / 10, "{flat:?}");
    assert!(full.windows(2).all(|w| w[1] > w[0] + 1000), "{full:?}");
}

#[test]
fn content_faults_are_recovered_without_losing_weeks() {
    let mock = Mock::start();
    let k = key("faults");
    script(
        &mock,
        &k,
        json!([
            {},                                           // outline
            {"fault": "wrong-week-numbers"},              // 1-3 numbered 2-4: renumbered
            {"fault": "missing-day"},                     // 4-6: week 4 has 6 days
            {},                                           // week 4 again
            {"fault": "truncate", "atChars": 4000},       // 7-9 cut inside week 7
            {},                                           // 7-8
            {},                                           // 9
            {"fault": "sse-cut"},                         // 10-12 cut early
            {"fault": "duplicate-week"},                  // 10-11
            {"fault": "prose"},                           // 12
            {}                                            // 12 again
        ]),
    );
    let t = transport();
    let (r, events) = generate_on_mock(&t, &mock_opts(&mock, "faults", 12));
    let rm = r.unwrap();
    assert_complete(&rm, 12);
    assert!(rm.weeks.iter().all(|w| !w.fallback));
    assert_eq!(
        tasks(&t),
        [
            "GET",
            "OUTLINE",
            "WEEKS 1-3",
            "WEEKS 4-6",
            "WEEK 4",
            "WEEKS 7-9",
            "WEEKS 7-8",
            "WEEK 9",
            "WEEKS 10-12",
            "WEEKS 10-11",
            "WEEK 12",
            "WEEK 12"
        ]
    );
    assert_eq!(rm.warnings, ["Weeks 1-3: renumbered weeks 2, 3, 4 to 1-3", "Weeks 10-12: dropped a duplicate of week 10"]);
    assert!(last_user_text(&t.sent.borrow()[4]).contains("Correction: week 4 in your previous answer had 6 days."));
    assert_eq!(week_events(&events).len(), 12);
    let statuses: Vec<BatchStatus> = rm.batches.iter().map(|b| b.status).collect();
    assert_eq!(statuses, [BatchStatus::Recovered; 4]);
    assert_eq!(rm.usage.requests, 12);
}

#[test]
fn repairable_answers_cost_no_extra_request() {
    let mock = Mock::start();
    let k = key("repair");
    script(
        &mock,
        &k,
        json!([{}, {"fault": "fenced"}, {"fault": "commented"}, {"fault": "trailing-comma"}, {"fault": "python-literals"}, {"fault": "single-quotes"}]),
    );
    let t = transport();
    let rm = generate_on_mock(&t, &mock_opts(&mock, "repair", 15)).0.unwrap();
    assert_complete(&rm, 15);
    assert_eq!(t.sent.borrow().len(), 7);
    assert!(rm.warnings.is_empty(), "{:?}", rm.warnings);
}

#[test]
fn transport_faults_are_retried_or_fail_fast() {
    let mock = Mock::start();
    let k = key("retry");
    script(
        &mock,
        &k,
        json!([
            {},
            {"fault": "status", "status": 429, "retryDelay": "1.5s"},
            {},
            {"fault": "html502"},
            {"fault": "sse-error", "afterChunks": 2},
            {},
            {"fault": "safety"},
            {}
        ]),
    );
    let t = transport();
    let rm = generate_on_mock(&t, &mock_opts(&mock, "retry", 9)).0.unwrap();
    assert_complete(&rm, 9);
    let sleeps = t.sleeps.borrow().clone();
    assert_eq!(sleeps.len(), 3);
    assert!(sleeps[0] >= 1500, "{sleeps:?}");
    assert_eq!(
        tasks(&t),
        ["GET", "OUTLINE", "WEEKS 1-3", "WEEKS 1-3", "WEEKS 4-6", "WEEKS 4-6", "WEEKS 4-6", "WEEKS 7-9", "WEEKS 8-9"]
    );
    assert_eq!(rm.warnings.len(), 1);
    assert!(rm.warnings[0].contains("stopped (SAFETY)"));

    let k = key("daily");
    script(&mock, &k, json!([{}, {}, {"fault": "quota-day"}]));
    let t = transport();
    let e = generate_on_mock(&t, &mock_opts(&mock, "daily", 6)).0.unwrap_err();
    assert!(e.error.is_daily_quota());
    assert!(t.sleeps.borrow().is_empty());
    assert_eq!(week_numbers(e.partial.as_ref().unwrap()), [1, 2, 3]);

    let k = key("blocked");
    script(&mock, &k, json!([{}, {"fault": "blocked", "reason": "PROHIBITED_CONTENT"}]));
    let t = transport();
    let e = generate_on_mock(&t, &mock_opts(&mock, "blocked", 6)).0.unwrap_err();
    assert_eq!(e.error.code(), "BLOCKED");
    assert_eq!(t.sent.borrow().len(), 3);

    let mut o = mock_opts(&mock, "x", 6);
    o.api_key = "bad-key-123".into();
    let t = transport();
    let e = generate_on_mock(&t, &o).0.unwrap_err();
    assert_eq!(e.error.code(), "AUTH");
    assert_eq!(t.sent.borrow().len(), 1);
}

/// Candidate stops other than SAFETY, end to end (the mock could send no other): PROHIBITED_CONTENT is a stop
/// for content like SAFETY, with its warning; OTHER ends an answer that cannot be trusted. Neither loses a week.
#[test]
fn other_content_stops_are_recovered() {
    let mock = Mock::start();
    let k = key("stops");
    script(&mock, &k, json!([{}, {"fault": "safety", "reason": "PROHIBITED_CONTENT"}, {"fault": "other"}]));
    let t = transport();
    let rm = generate_on_mock(&t, &mock_opts(&mock, "stops", 6)).0.unwrap();
    assert_complete(&rm, 6);
    assert!(rm.warnings.iter().any(|w| w.contains("stopped (PROHIBITED_CONTENT)")), "{:?}", rm.warnings);
    let applied: Vec<Value> = mock_log(&mock, &k).iter().filter_map(|e| e.get("finishReason").cloned()).collect();
    assert!(applied.contains(&json!("PROHIBITED_CONTENT")) && applied.contains(&json!("OTHER")), "{applied:?}");
}

/// The bare 400 a 3.x model answers for a schema over its array-bounds budget: the run goes on without the counts.
#[test]
fn a_schema_refused_with_a_bare_400_is_sent_without_its_counts() {
    let mock = Mock::start();
    let k = key("bounds");
    script(&mock, &k, json!([{"fault": "status", "status": 400, "message": "Request contains an invalid argument."}]));
    let t = transport();
    let rm = generate_on_mock(&t, &mock_opts(&mock, "bounds", 6)).0.unwrap();
    assert_complete(&rm, 6);
    assert!(rm.warnings.iter().any(|w| w.contains("refused the response schema")), "{:?}", rm.warnings);
    let log = mock_log(&mock, &k);
    let statuses: Vec<u64> = log.iter().filter_map(|e| e["status"].as_u64()).collect();
    assert_eq!(statuses, [200, 400, 200, 200, 200], "the lookup, the refused outline asked again, two batches");
}

/// A stream Gemini breaks off under load, its 503 written raw into the body: waited out with backoff like any 503
/// (the error was dropped, so the answer looked cut and was asked again at once), and no week is lost.
#[test]
fn a_stream_broken_off_by_a_raw_503_is_retried_with_backoff() {
    let mock = Mock::start();
    let k = key("raw503");
    script(&mock, &k, json!([{}, {"fault": "sse-error", "afterChunks": 3, "code": 503, "raw": true}]));
    let t = transport();
    let (rm, events) = generate_on_mock(&t, &mock_opts(&mock, "raw503", 6));
    let rm = rm.unwrap();
    assert_complete(&rm, 6);
    let retries: Vec<&ProgressEvent> = events.iter().filter(|e| matches!(e, ProgressEvent::Retry { .. })).collect();
    assert!(
        matches!(retries.as_slice(), [ProgressEvent::Retry { batch: 1, delay_ms, reason, .. }] if *delay_ms >= 500 && reason.contains("503")),
        "{retries:?}"
    );
    assert_eq!(t.sleeps.borrow().len(), 1);
}

#[test]
fn a_cut_stream_on_a_small_model_is_recovered() {
    let mock = Mock::start();
    // 8,192 output tokens (what gemini-2.0-flash allowed): a 6-week batch does not fit and comes back cut.
    let t = transport();
    let mut o = mock_opts(&mock, "small", 12);
    o.max_output_tokens = Some(8192.0);
    o.batch_weeks = Some(6.0);
    let rm = generate_on_mock(&t, &o).0.unwrap();
    assert_complete(&rm, 12);
    let asked = tasks(&t);
    assert_eq!(asked[2], "WEEKS 1-6");
    assert!(asked.len() > 4, "the cut batches were finished in smaller requests: {asked:?}");
    assert!(rm.batches.iter().all(|b| b.status == BatchStatus::Recovered));
    assert!(rm.warnings.is_empty());
    assert!(t.sent.borrow()[1..].iter().all(|r| body_json(r)["generationConfig"]["maxOutputTokens"] == 8192));
}

/// The lowest cap the options accept still writes every week: 3-week answers are cut and their missing weeks
/// asked for again, but a week always fits. (Below it, as at 1024, every week came back cut and ended a placeholder.)
#[test]
fn the_lowest_output_cap_still_writes_every_week() {
    let mock = Mock::start();
    let t = transport();
    let mut o = mock_opts(&mock, "cap", 12);
    o.max_output_tokens = Some(4096.0);
    let rm = generate_on_mock(&t, &o).0.unwrap();
    assert_complete(&rm, 12);
    assert!(rm.warnings.is_empty() && rm.weeks.iter().all(|w| !w.fallback), "{:?}", rm.warnings);
    assert!(tasks(&t).len() > 6, "some 3-week answers were cut: {:?}", tasks(&t));
}

/// Google shuts models down: their names then answer 404 (gemini-2.0-flash since 2026-06-01). The run fails on
/// the model lookup, before any generate request, and is not retried.
#[test]
fn a_shut_down_model_fails_on_its_lookup() {
    let mock = Mock::start();
    let t = transport();
    let mut o = mock_opts(&mock, "gone", 12);
    o.model = Some("gemini-2.0-flash".into());
    let e = generate_on_mock(&t, &o).0.unwrap_err();
    assert_eq!(e.error.code(), "NOT_FOUND");
    assert!(e.error.text().contains("models/gemini-2.0-flash is not found"), "{}", e.error.text());
    assert_eq!(tasks(&t), ["GET"]);
}

#[test]
fn parallel_runs_write_the_first_week_in_parts_that_the_mock_accepts_and_recover_a_bad_part() {
    let mock = Mock::start();
    let parallel = |name: &str| RoadmapOptions { strategy: Some(Strategy::Parallel), ..mock_opts(&mock, name, 12) };
    let whole = generate_on_mock(&transport(), &mock_opts(&mock, "whole", 12)).0.unwrap();
    let t = transport();
    let (r, events) = generate_on_mock(&t, &parallel("parts"));
    let rm = r.unwrap();
    assert_complete(&rm, 12);
    assert!(rm.warnings.is_empty(), "{:?}", rm.warnings);
    // Week 1 from its 3 parts is the week the mock writes when asked for it whole.
    assert_eq!(rm.weeks, whole.weeks);
    assert_eq!(week_events(&events)[0], 1);
    let mut asked = tasks(&t);
    asked.sort();
    let parts = ["WEEK 1 DAYS 1-3", "WEEK 1 DAYS 4-5", "WEEK 1 DAYS 6-7"];
    assert_eq!(asked[..2], ["GET", "OUTLINE"]);
    assert_eq!(asked[2..5], parts);
    assert_eq!(asked[5..], ["WEEKS 11-12", "WEEKS 2-4", "WEEKS 5-7", "WEEKS 8-10"]);
    let log = mock_log(&mock, &key("parts"));
    let days: Vec<&Value> = log.iter().filter(|r| r["task"]["kind"] == "days").collect();
    assert_eq!(days.len(), 3);
    for (r, range) in days.iter().zip([[1, 3], [4, 5], [6, 7]]) {
        assert_eq!((r["status"].clone(), r["finishReason"].clone()), (json!(200), json!("STOP")), "{r}");
        assert_eq!((r["task"]["from"].clone(), r["task"]["days"].clone()), (json!(1), json!(range)));
    }

    // A part numbered from 1 is renumbered; a part with a day missing has the week asked whole, once.
    let k = key("bad-part");
    script(&mock, &k, json!([{}, {}, {"fault": "wrong-week-numbers"}, {"fault": "missing-day"}]));
    let t = transport();
    let (r, events) = generate_on_mock(&t, &parallel("bad-part"));
    let rm = r.unwrap();
    assert_eq!(rm.weeks, whole.weeks);
    let asked = tasks(&t);
    assert_eq!(asked[2..5], parts);
    assert_eq!(asked.iter().filter(|a| *a == "WEEK 1").count(), 1, "{asked:?}");
    assert_eq!((rm.batches[0].end_week, rm.batches[0].status), (1, BatchStatus::Recovered));
    assert!(events.iter().any(
        |e| matches!(e, ProgressEvent::Retry { batch: 1, reason, .. } if reason.starts_with("days 6-7 of week 1 were not usable"))
    ));
}
