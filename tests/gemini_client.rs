//! The Gemini mapping, natively: request bodies and headers, reply and error parsing from recorded
//! bodies in tests/fixtures/gemini, the client over a replaying transport, retries and chat history rules.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use gemini_roadmap::chat::{read_json, send_request, Chat, ChatConfig, Turn};
use gemini_roadmap::gemini::replay::{block_on, ReplayTransport, Scripted};
use gemini_roadmap::gemini::response::{parse_duration_ms, parse_error};
use gemini_roadmap::gemini::*;
use gemini_roadmap::retry::{RetryPolicy, Tries, MAX_QUOTA_REFUSALS};
use gemini_roadmap::Error;
use serde_json::{json, Value};
use support::ours;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/fixtures/gemini/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn endpoint() -> Endpoint {
    Endpoint::new("AIzaTestKey123", None, None, None).unwrap()
}

fn user_request(text: &str) -> GenerateRequest {
    GenerateRequest { contents: vec![Content::user(text)], ..Default::default() }
}

#[test]
fn endpoint_defaults_and_urls() {
    let e = endpoint();
    assert_eq!(e.model, "gemini-3.1-flash-lite");
    assert_eq!(
        e.generate_url(false),
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-3.1-flash-lite:generateContent"
    );
    assert_eq!(
        e.generate_url(true),
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-3.1-flash-lite:streamGenerateContent?alt=sse"
    );
    let e = Endpoint::new("k1234567", Some("models/gemini-2.0-flash"), Some("http://127.0.0.1:8787/"), Some(500)).unwrap();
    assert_eq!(e.describe_model_info().url, "http://127.0.0.1:8787/v1beta/models/gemini-2.0-flash");
    assert_eq!(e.timeout_ms, 500);
    // Given with its version, as Google's docs write the API's URL: not doubled (a path Google does not serve).
    for base in ["https://generativelanguage.googleapis.com/v1beta", "https://generativelanguage.googleapis.com/v1beta/"] {
        let e = Endpoint::new("k1234567", None, Some(base), None).unwrap();
        assert_eq!(e.describe_model_info().url, "https://generativelanguage.googleapis.com/v1beta/models/gemini-3.1-flash-lite");
    }
    let proxy = Endpoint::new("k1234567", None, Some("https://proxy.example/gemini"), None).unwrap();
    assert_eq!(proxy.generate_url(false), "https://proxy.example/gemini/v1beta/models/gemini-3.1-flash-lite:generateContent");
    // A scheme in capitals is a scheme (it was refused as no http(s) URL).
    let upper = Endpoint::new("k1234567", None, Some("HTTP://127.0.0.1:8787"), None).unwrap();
    assert_eq!(upper.describe_model_info().url, "http://127.0.0.1:8787/v1beta/models/gemini-3.1-flash-lite");
}

/// Key, model, base URL, timeout, and the field the error must name.
type EndpointCase = (&'static str, Option<&'static str>, Option<&'static str>, Option<u32>, &'static str);

#[test]
fn endpoint_rejects_bad_input_naming_the_field() {
    let cases: [EndpointCase; 16] = [
        ("", None, None, None, "apiKey"),
        ("  ", None, None, None, "apiKey"),
        ("key with space", None, None, None, "apiKey"),
        ("k1234567", Some("gemini 2.5/../x"), None, None, "model"),
        // Names that steer the URL off `models/{model}` (found by an exploratory test): `models/..` is `/v1beta/`,
        // and `models/` or `models/.` the ListModels endpoint, whose answer was read as the model's.
        ("k1234567", Some("."), None, None, "model"),
        ("k1234567", Some(".."), None, None, "model"),
        ("k1234567", Some("models/.."), None, None, "model"),
        ("k1234567", Some("models/"), None, None, "model"),
        ("k1234567", Some("-x"), None, None, "model"),
        ("k1234567", None, Some("ftp://host"), None, "baseUrl"),
        // What the URL parser drops or turns into `/` (a tab, a line break, a backslash): the request went out, to an
        // address other than the one written (found by an exploratory test).
        ("k1234567", None, Some("http://127.0.\t0.1:8787"), None, "baseUrl"),
        ("k1234567", None, Some("https://example.com/pro\nxy"), None, "baseUrl"),
        ("k1234567", None, Some("https://example.com\\proxy"), None, "baseUrl"),
        // Credentials, which fetch refuses: a chat's constructor accepted them, its first call failed.
        ("k1234567", None, Some("http://user:pw@127.0.0.1:8787"), None, "baseUrl"),
        ("k1234567", None, Some("http://user@127.0.0.1:8787/a"), None, "baseUrl"),
        ("k1234567", None, None, Some(0), "timeoutMs"),
    ];
    for (key, model, base, timeout, field) in cases {
        match Endpoint::new(key, model, base, timeout) {
            Err(Error::InvalidInput { field: f, message }) => {
                assert_eq!(f, field);
                assert!(key.trim().is_empty() || !message.contains(key), "message must not echo the key");
            }
            other => panic!("{field}: expected InvalidInput, got {other:?}"),
        }
    }
}

#[test]
fn the_key_travels_only_in_its_header() {
    let e = endpoint();
    for req in [e.describe_generate(&user_request("hi"), true), e.describe_model_info()] {
        assert!(!req.url.contains("AIzaTestKey123") && !req.url.contains("key="));
        assert!(!req.body.clone().unwrap_or_default().contains("AIzaTestKey123"));
        let names: Vec<&str> = req.headers.iter().map(|h| h.0).collect();
        assert!(names.iter().all(|n| *n == "content-type" || *n == "x-goog-api-key"), "{names:?}");
        assert!(req.headers.contains(&("x-goog-api-key", "AIzaTestKey123".into())));
    }
}

#[test]
fn request_body_matches_v1beta() {
    let req = GenerateRequest {
        contents: vec![Content::user("a"), Content::model("b"), Content::user("c")],
        system_instruction: Some(Content { role: None, ..Content::user("be brief") }),
        generation_config: Some(GenerationConfig {
            response_mime_type: Some("application/json".into()),
            response_json_schema: Some(ours(&json!({"type": "object"}))),
            max_output_tokens: Some(8192),
            temperature: Some(0.7),
            thinking_config: Some(ThinkingConfig { thinking_budget: Some(0), ..Default::default() }),
            ..Default::default()
        }),
    };
    let v: Value = serde_json::from_str(&gemini_roadmap::json::ToJson::to_json(&req)).unwrap();
    assert_eq!(
        v,
        json!({
            "contents": [
                {"role": "user", "parts": [{"text": "a"}]},
                {"role": "model", "parts": [{"text": "b"}]},
                {"role": "user", "parts": [{"text": "c"}]}
            ],
            "systemInstruction": {"parts": [{"text": "be brief"}]},
            "generationConfig": {
                "responseMimeType": "application/json",
                "responseJsonSchema": {"type": "object"},
                "maxOutputTokens": 8192,
                "temperature": 0.7,
                "thinkingConfig": {"thinkingBudget": 0}
            }
        })
    );
}

#[test]
fn requests_google_would_reject_are_refused_locally() {
    let mut bad_role = user_request("x");
    bad_role.contents.insert(0, Content::text("system", "x"));
    let ends_with_model = GenerateRequest { contents: vec![Content::user("a"), Content::model("b")], ..Default::default() };
    let both_thinking = GenerateRequest {
        generation_config: Some(GenerationConfig {
            thinking_config: Some(ThinkingConfig {
                thinking_budget: Some(0),
                thinking_level: Some("low".into()),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..user_request("x")
    };
    let schema_without_mime = GenerateRequest {
        generation_config: Some(GenerationConfig { response_json_schema: Some(ours(&json!({}))), ..Default::default() }),
        ..user_request("x")
    };
    // Found by a differential fuzz against the mock: each was sent, and Gemini answered 400.
    let with = |g: Value| GenerateRequest {
        generation_config: Some(gemini_roadmap::json::decode::<GenerationConfig>(&g.to_string()).unwrap()),
        ..user_request("x")
    };
    let refused_settings = [
        json!({"maxOutputTokens": 2147483648u64}),
        json!({"temperature": 2.5}),
        json!({"temperature": -0.1}),
        json!({"thinkingConfig": {"thinkingLevel": "extreme"}}),
        json!({"thinkingConfig": {"thinkingLevel": ""}}),
        json!({"responseMimeType": "text/html"}),
        json!({"responseMimeType": "APPLICATION/JSON"}),
        json!({"responseSchema": {"type": "OBJECT"}}),
        json!({"response_schema": {"type": "OBJECT"}, "responseMimeType": "text/plain"}),
        json!({"responseMimeType": "application/json", "responseSchema": {"type": "OBJECT"}, "responseJsonSchema": {"type": "object"}}),
        json!({"responseMimeType": "application/json", "responseSchema": "x"}),
    ]
    .map(with);
    for req in [GenerateRequest::default(), bad_role, ends_with_model, both_thinking, schema_without_mime].into_iter().chain(refused_settings) {
        let t = ReplayTransport::new(vec![]);
        let err = block_on(GeminiClient::new(&t, &endpoint()).generate(&req, false, &mut |_| {})).unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT", "{req:?}");
        assert_eq!(t.request_count(), 0, "nothing is sent");
    }
    // What Gemini takes stays taken: the bounds themselves, every level in any case, enum answers with a schema.
    for g in [
        json!({"maxOutputTokens": 2147483647u64, "temperature": 2.0}),
        json!({"temperature": 0, "thinkingConfig": {"thinkingLevel": "MEDIUM"}}),
        json!({"responseMimeType": "text/x.enum", "responseSchema": {"type": "STRING", "enum": ["a", "b"]}}),
        json!({"responseMimeType": "application/yaml"}),
        // `null` is not set, in Google's JSON as in ours (a review found these refused by the new checks).
        json!({"responseSchema": null}),
        json!({"response_schema": null, "responseMimeType": "text/plain"}),
        json!({"responseSchema": null, "responseMimeType": "application/json", "responseJsonSchema": {"type": "object"}}),
        json!({"responseMimeType": "application/json", "responseSchema": null, "response_schema": {"type": "STRING"}}),
    ] {
        assert!(with(g.clone()).validate().is_ok(), "{g}");
    }
    // `response_schema` is `responseSchema`, as every snake_case name of a member the package reads: sent under its
    // JSON name, and refused beside it (it was sent as given, both names at once; found by an exploratory test).
    let snake = gemini_roadmap::json::decode::<GenerationConfig>(r#"{"responseMimeType": "application/json", "response_schema": {"type": "STRING"}}"#);
    let sent = gemini_roadmap::json::ToJson::to_json(&snake.unwrap());
    assert_eq!(sent, r#"{"responseMimeType":"application/json","responseSchema":{"type":"STRING"}}"#);
    let both = r#"{"responseSchema": {"type": "STRING"}, "response_schema": {"type": "STRING"}}"#;
    assert!(gemini_roadmap::json::decode::<GenerationConfig>(both).is_err(), "one field under both names");
}

#[test]
fn thought_parts_are_not_part_of_the_answer() {
    let t = ReplayTransport::new(vec![Scripted::ok(fixture("reply-with-thoughts.json"))]);
    let r = block_on(GeminiClient::new(&t, &endpoint()).generate(&user_request("hi"), false, &mut |_| {})).unwrap();
    assert_eq!(r.text, "Hello! How can I help?");
    assert_eq!(r.finish_reason.as_deref(), Some("STOP"));
    assert_eq!(
        r.usage,
        Usage { prompt_tokens: 12, output_tokens: 7, thoughts_tokens: 42, cached_tokens: 0, total_tokens: 61, requests: 1 }
    );
}

/// With `candidateCount` > 1 (a chat's `generationConfig` passes it through) each streamed event carries the
/// candidates that have something new, each with its `index`: the answer is candidate 0's text alone. The first
/// candidate of each event was taken, so an event holding only candidate 1 mixed its text into the answer.
#[test]
fn only_candidate_0_is_the_answer_when_several_are_streamed() {
    use gemini_roadmap::gemini::response::ReplyBuilder;
    let cand = |index: u32, text: &str, finish: Option<&str>| {
        let mut c = json!({"content": {"parts": [{"text": text}], "role": "model"}, "index": index});
        if let Some(f) = finish {
            c["finishReason"] = json!(f);
        }
        c
    };
    let events = [
        json!({"candidates": [cand(1, "B1 ", None), cand(0, "A1 ", None)]}),
        json!({"candidates": [cand(1, "B2 ", None)]}),
        json!({"candidates": [cand(0, "A2", Some("STOP")), cand(1, "B3", Some("MAX_TOKENS"))]}),
    ];
    let mut b = ReplyBuilder::new();
    for e in &events {
        b.push_json(&e.to_string()).unwrap();
    }
    let reply = b.finish();
    assert_eq!(reply.text, "A1 A2");
    assert_eq!(reply.finish_reason.as_deref(), Some("STOP"));
    // Without an index (one candidate, as Gemini often sends it) the candidate is candidate 0.
    let mut b = ReplyBuilder::new();
    b.push_json(r#"{"candidates":[{"content":{"parts":[{"text":"only"}]},"finishReason":"STOP"}]}"#).unwrap();
    assert_eq!(b.finish().text, "only");
}

#[test]
fn finish_reasons_and_block_reasons_become_the_right_outcome() {
    let read = |body: &str| {
        let t = ReplayTransport::new(vec![Scripted::ok(body)]);
        block_on(GeminiClient::new(&t, &endpoint()).generate(&user_request("hi"), false, &mut |_| {})).unwrap()
    };
    let cut = read(&fixture("max-tokens.json"));
    assert!(cut.is_truncated());
    assert_eq!(cut.clone().into_result().unwrap().text, cut.text, "a truncated answer is still an answer");
    let ate = read(&fixture("thinking-ate-budget.json")).into_result().unwrap_err();
    assert_eq!(ate.code(), "MALFORMED");
    assert!(ate.to_string().contains("thinking used the whole output budget"), "{ate}");
    // Cut before any text with no thinking (a tiny cap on a model that does not think): thinking is not to blame.
    let tiny = read(r#"{"candidates":[{"content":{"role":"model"},"finishReason":"MAX_TOKENS","index":0}],
        "usageMetadata":{"promptTokenCount":9,"totalTokenCount":9}}"#)
    .into_result()
    .unwrap_err();
    assert_eq!(tiny.code(), "MALFORMED");
    assert!(!tiny.to_string().contains("thinking"), "{tiny}");
    assert!(tiny.to_string().contains("maxOutputTokens"), "{tiny}");
    let blocked = read(&fixture("blocked-prompt.json"));
    assert_eq!(blocked.block_reason.as_deref(), Some("SAFETY"));
    assert!(matches!(blocked.into_result(), Err(Error::Blocked { reason, .. }) if reason == "SAFETY"));
    let safety = read(r#"{"candidates":[{"content":{"parts":[{"text":"{\"a\":"}]},"finishReason":"SAFETY"}]}"#);
    assert_eq!(safety.into_result().unwrap_err().code(), "BLOCKED");
    let empty = read(r#"{"candidates":[],"usageMetadata":{"promptTokenCount":3}}"#).into_result().unwrap_err();
    assert_eq!(empty.code(), "MALFORMED");
    assert!(empty.is_transient(), "a hiccup worth another try");
    // Every stop for content, as the roadmap loop also treats them.
    for reason in ["RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT"] {
        let body = format!(r#"{{"candidates":[{{"content":{{"parts":[{{"text":"x"}}]}},"finishReason":"{reason}"}}]}}"#);
        assert!(matches!(read(&body).into_result(), Err(Error::Blocked { reason: r, .. }) if r == reason), "{reason}");
    }
}

#[test]
fn google_error_bodies_are_read_in_full() {
    match parse_error(429, &fixture("error-429-retry.json")) {
        Error::RateLimited { details, message } => {
            assert_eq!(details.retry_delay_ms, Some(34_400));
            assert_eq!(details.status.as_deref(), Some("RESOURCE_EXHAUSTED"));
            assert_eq!(details.quota_ids, ["GenerateRequestsPerMinutePerProjectPerModel-FreeTier"]);
            assert!(message.starts_with("You exceeded your current quota"));
        }
        other => panic!("{other:?}"),
    }
    let per_day = parse_error(429, &fixture("error-429-per-day.json"));
    assert!(per_day.is_daily_quota() && !per_day.is_transient());
    let key = parse_error(400, &fixture("error-400-api-key.json"));
    assert_eq!(key.code(), "AUTH");
    assert_eq!(key.details().unwrap().reason.as_deref(), Some("API_KEY_INVALID"));
    let html = parse_error(502, &fixture("error-502.html"));
    assert_eq!(html.code(), "SERVER");
    assert_eq!(html.status(), Some(502));
    assert!(html.to_string().contains("Error 502 (Server Error)"), "{html}");
    assert!(html.is_transient());
    let wrapped = parse_error(503, r#"[{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}]"#);
    assert!(wrapped.to_string().contains("overloaded"));
    let not_found = parse_error(404, r#"{"error":{"code":404,"message":"models/x is not found","status":"NOT_FOUND"}}"#);
    assert_eq!(not_found.code(), "NOT_FOUND");
    // its Google status reaches JavaScript as `googleStatus`, as every other error's does
    assert_eq!(not_found.details().and_then(|d| d.status.as_deref()), Some("NOT_FOUND"));
    assert_eq!(parse_error(403, "").code(), "AUTH");
    assert_eq!(parse_error(400, r#"{"error":{"code":400,"message":"bad","status":"INVALID_ARGUMENT"}}"#).code(), "BAD_REQUEST");
    assert_eq!(parse_error(504, "").code(), "SERVER");
    assert!(parse_error(408, "").is_transient());
    for status in [400, 401, 403, 404] {
        assert!(!parse_error(status, "{}").is_transient(), "{status} must never be retried");
    }
}

/// Gemini's RetryInfo holds only the whole seconds of a quota wait; the message names it exactly. Waiting the
/// whole seconds alone came back up to a second early and was refused again (found with the mock's `--rpm`).
#[test]
fn a_quota_wait_is_the_exact_one_of_the_message_not_the_whole_seconds_of_retry_info() {
    let err = parse_error(429, &fixture("error-429-per-minute-whole-seconds.json"));
    assert!(err.is_transient() && !err.is_daily_quota());
    // 58.934310785 s, rounded up: to the nearest millisecond, the retry came back 0.3 ms early (found by a review).
    assert_eq!(err.retry_delay_ms(), Some(58_935));
    let body = |message: &str, delay: &str| {
        format!(
            r#"{{"error":{{"code":429,"message":"{message}","status":"RESOURCE_EXHAUSTED","details":[{{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"{delay}"}}]}}}}"#
        )
    };
    let delay = |message: &str, retry_delay: &str| parse_error(429, &body(message, retry_delay)).retry_delay_ms();
    assert_eq!(delay("limit: 5\\nPlease retry in 2.05s.", "2s"), Some(2_050));
    assert_eq!(delay("Please retry in 0.6s.", "0s"), Some(600));
    assert_eq!(delay("Please retry in 34.4s.", "34.4s"), Some(34_400), "the same wait in both");
    // The message only refines RetryInfo within its lost fraction of a second; otherwise RetryInfo stands.
    assert_eq!(delay("Please retry in 1.5s.", "2s"), Some(2_000));
    assert_eq!(delay("Please retry in 3.5s.", "2s"), Some(2_000));
    // Under a second the message names milliseconds (Go's duration format), and RetryInfo says "0s".
    assert_eq!(delay("Please retry in 393.337641ms.", "0s"), Some(394));
    assert_eq!(delay("Please retry in 900.2ms.", "0s"), Some(901));
    assert_eq!(delay("Please retry in 1500ms.", "1s"), Some(1_500));
    assert_eq!(delay("Please retry in 2500ms.", "1s"), Some(1_000), "beyond RetryInfo's lost fraction");
    // From a minute, Go's format names minutes: RetryInfo's "60s" alone came back half a second early.
    assert_eq!(delay("Please retry in 1m0.5s.", "60s"), Some(60_500));
    assert_eq!(delay("Please retry in 1m30s.", "90s"), Some(90_000));
    assert_eq!(delay("Please retry in 1h0m0.25s.", "3600s"), Some(3_600_250));
    assert_eq!(delay("Please retry in 1m.", "60s"), Some(60_000), "no number after the unit: the wait ends there");
    assert_eq!(delay("Please retry in 1x0.5s.", "60s"), Some(60_000), "an unknown unit: RetryInfo stands");
    assert_eq!(delay("Please retry in soon.", "7s"), Some(7_000));
    assert_eq!(delay("no hint", "34.4s"), Some(34_400));
    // No RetryInfo: the message alone is not taken as a wait.
    let bare = r#"{"error":{"code":429,"message":"Please retry in 5.5s.","status":"RESOURCE_EXHAUSTED"}}"#;
    assert_eq!(parse_error(429, bare).retry_delay_ms(), None);
}

/// A model outside the key's tier answers every call with a per-minute 429 of `limit: 0` and a RetryInfo;
/// waiting never helps, so it is not retried (it used to be waited out `maxRetries` times, about a minute each).
#[test]
fn a_zero_quota_is_not_worth_a_retry() {
    let quota = |message: &str, quota_value: Option<&str>| {
        let mut violation = serde_json::json!({"quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"});
        if let Some(v) = quota_value {
            violation["quotaValue"] = v.into();
        }
        let body = serde_json::json!({"error": {"code": 429, "message": message, "status": "RESOURCE_EXHAUSTED", "details": [
            {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [violation]},
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "54s"}]}});
        parse_error(429, &body.to_string())
    };
    let zero = "* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 0, model: gemini-2.5-pro\nPlease retry in 54.396583285s.";
    for e in [quota(zero, None), quota("You exceeded your current quota.", Some("0")), quota("..., limit: 0", None)] {
        assert_eq!(e.code(), "RATE_LIMITED");
        assert!(!e.is_transient() && !e.is_daily_quota(), "{e:?}");
        assert!(RetryPolicy::default().delay_ms(1, &e, 0.5).is_none());
        assert!(e.to_string().starts_with("Rate limited (no quota for this model): "), "no wait is named: {e}");
    }
    for e in [quota(&zero.replace("limit: 0", "limit: 5"), Some("5")), quota("limit: 05 is not zero", None), quota("limit: 0.5", None), quota("limit: 10", Some("10"))] {
        assert!(e.is_transient(), "{e:?}");
    }
}

/// A per-day quota names a wait too: up to midnight Pacific (`"65205s"`), or, in other captures, a few seconds
/// that do not help. The error must not promise either as the time to retry.
#[test]
fn a_per_day_quota_promises_no_retry_time() {
    for delay in ["65205s", "38s"] {
        let body = serde_json::json!({"error": {"code": 429, "status": "RESOURCE_EXHAUSTED",
            "message": format!("* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 20, model: gemini-2.5-flash\nPlease retry in {delay}."),
            "details": [
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier", "quotaValue": "20"}]},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}]}});
        let e = parse_error(429, &body.to_string());
        assert!(e.is_daily_quota() && !e.is_transient(), "{e:?}");
        let shown = e.to_string();
        assert!(shown.starts_with("Rate limited (daily quota used up; it resets at midnight Pacific time): "), "{shown}");
        assert!(!shown.starts_with("Rate limited (retry in"), "{shown}");
    }
}

#[test]
fn an_abort_or_timeout_while_an_error_body_arrives_is_not_a_bad_request() {
    let generate = |t: &ReplayTransport| block_on(GeminiClient::new(t, &endpoint()).generate(&user_request("hi"), false, &mut |_| {}));
    for error in [Error::Aborted, Error::Timeout { ms: 500 }] {
        let t = ReplayTransport::new(vec![Scripted::Broken {
            status: 400,
            chunks: vec![br#"{"error": {"#.to_vec()],
            error: error.clone(),
        }]);
        assert_eq!(generate(&t).unwrap_err(), error, "not BAD_REQUEST from half a body");
    }
    // The connection lost midway: what came is still Google's error.
    let body = fixture("error-429-retry.json").into_bytes();
    let t = ReplayTransport::new(vec![Scripted::Broken {
        status: 429,
        chunks: vec![body],
        error: Error::Network { message: "connection reset".into() },
    }]);
    let err = generate(&t).unwrap_err();
    assert_eq!(err.code(), "RATE_LIMITED");
    assert_eq!(err.retry_delay_ms(), Some(34_400));
}

#[test]
fn protobuf_durations() {
    assert_eq!(parse_duration_ms("34.4s"), Some(34_400));
    assert_eq!(parse_duration_ms("34s"), Some(34_000));
    assert_eq!(parse_duration_ms("0.250s"), Some(250));
    assert_eq!(parse_duration_ms("5"), None);
    assert_eq!(parse_duration_ms("-1s"), None);
    assert_eq!(parse_duration_ms("abc s"), None);
}

#[test]
fn a_recorded_sse_stream_split_anywhere_gives_the_same_reply() {
    let body = fixture("stream-3-chunks.sse").into_bytes();
    for split in [1, 2, 7, 64, 333, body.len()] {
        let chunks: Vec<Vec<u8>> = body.chunks(split).map(<[u8]>::to_vec).collect();
        let t = ReplayTransport::new(vec![Scripted::Respond { status: 200, chunks }]);
        let mut deltas = Vec::new();
        let r = block_on(GeminiClient::new(&t, &endpoint()).generate(&user_request("hi"), true, &mut |d| {
            deltas.push(d.to_string())
        }))
        .unwrap();
        assert_eq!(r.text, r#"{"reply": "Hello, world"}"#, "split {split}");
        assert_eq!(deltas.concat(), r.text);
        assert_eq!(r.finish_reason.as_deref(), Some("STOP"));
        assert_eq!(r.usage.total_tokens, 14, "the last chunk's usage wins");
        assert!(t.requests.borrow()[0].url.ends_with(":streamGenerateContent?alt=sse"));
    }
}

/// Gemini 3 signs its answers: streamed, the last event's part holds only a `thoughtSignature`, no text.
#[test]
fn a_signed_gemini_3_stream_ends_with_a_part_without_text() {
    let t = ReplayTransport::new(vec![Scripted::sse(&[
        r#"{"candidates":[{"content":{"parts":[{"text":"{\"a\": "}],"role":"model"},"index":0}]}"#,
        r#"{"candidates":[{"content":{"parts":[{"text":"1}"}],"role":"model"},"index":0}]}"#,
        r#"{"candidates":[{"content":{"parts":[{"thoughtSignature":"EjQKMgEMOdbHJ9"}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":3,"totalTokenCount":8},"modelVersion":"gemini-3.8-flash"}"#,
    ])]);
    let r = block_on(GeminiClient::new(&t, &endpoint()).generate(&user_request("hi"), true, &mut |_| {})).unwrap();
    assert_eq!(r.text, r#"{"a": 1}"#);
    assert_eq!(r.finish_reason.as_deref(), Some("STOP"));
    assert_eq!(r.usage.total_tokens, 8);
    assert_eq!(r.signature.as_deref(), Some("EjQKMgEMOdbHJ9"), "kept, to be sent back with the answer");
}

/// Google: "if you receive a thought signature in a model response, you should pass it back exactly as received
/// when sending the conversation history in the next turn" (Gemini 3 signs every answer). The chat dropped it.
#[test]
fn a_model_turn_goes_back_with_its_thought_signature() {
    let signed = json!({"candidates":[{"content":{"parts":[{"text":"Paris."},{"text":"","thoughtSignature":"EnoKeAG+Pvb7"}],
        "role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":5,"totalTokenCount":8}});
    let t = ReplayTransport::new(vec![Scripted::ok(signed.to_string()), Scripted::ok(reply_body("Lyon.", "STOP"))]);
    let mut chat = Chat::new(chat_config(0));
    turn(&mut chat, &t, "capital?").unwrap();
    turn(&mut chat, &t, "and then?").unwrap();
    let second: Value = serde_json::from_str(&t.request_bodies()[1]).unwrap();
    assert_eq!(second["contents"][1], json!({"role": "model", "parts": [{"text": "Paris.", "thoughtSignature": "EnoKeAG+Pvb7"}]}));
    assert_eq!(second["contents"][0]["parts"][0].get("thoughtSignature"), None, "a user turn has none");
    let h = chat.history();
    assert_eq!((h[1].signature.as_deref(), h[3].signature.as_deref()), (Some("EnoKeAG+Pvb7"), None));
    // `setHistory` takes what `history` gave, and refuses what Gemini would (400): not base64, or on a user turn.
    chat.set_history(h.to_vec()).unwrap();
    let with = |role: &str, sig: &str| vec![Turn { role: role.into(), text: "x".into(), signature: Some(sig.into()) }];
    for sig in ["QUJDRA==", "QUJDRA", "a-_b"] {
        assert!(chat.set_history(with("model", sig)).is_ok(), "{sig}");
    }
    // As Google's parser reads a bytes field (the mock's `isBase64`): padding alone or misplaced, both alphabets
    // at once, set bits past the last whole byte (found by a review: taken, then every later request was a 400).
    let refused = ["not base64!", "", "QUJDR", "====", "A===", "ab+/-_==", "QR", "QUJD=="];
    for (role, sig) in refused.iter().map(|s| ("model", *s)).chain([("user", "QUJDRA==")]) {
        let e = chat.set_history(with(role, sig)).unwrap_err();
        assert_eq!((e.code(), e.to_string().contains("history[0].thoughtSignature")), ("INVALID_INPUT", true), "{role} {sig}: {e}");
    }
}

#[test]
fn an_error_inside_the_stream_and_a_cut_stream() {
    let first = r#"{"candidates":[{"content":{"parts":[{"text":"{\"a\":"}]}}]}"#;
    let t = ReplayTransport::new(vec![Scripted::sse(&[first, r#"{"error":{"code":500,"message":"Internal error","status":"INTERNAL"}}"#])]);
    let err = block_on(GeminiClient::new(&t, &endpoint()).generate(&user_request("hi"), true, &mut |_| {}))
        .and_then(Reply::into_result)
        .unwrap_err();
    assert_eq!(err.code(), "SERVER");
    let cut = format!("data: {first}\r\n\r\ndata: {{\"candidates\":[{{\"content\":{{\"par");
    let t = ReplayTransport::new(vec![Scripted::Respond { status: 200, chunks: vec![cut.into_bytes()] }]);
    let r = block_on(GeminiClient::new(&t, &endpoint()).generate(&user_request("hi"), true, &mut |_| {})).unwrap();
    assert_eq!(r.text, "{\"a\":");
    assert_eq!(r.finish_reason, None);
    assert_eq!(r.into_result().unwrap_err().code(), "NETWORK");
}

/// Gemini breaks off streams under load with the error's own code (503, or a 429 with its quota details), framed
/// as an event or written raw into the body. The event's code was ignored (every one a 500), and the raw body
/// was dropped with the lines that are no SSE field: the answer looked cut and was asked again with no wait.
#[test]
fn an_error_that_breaks_off_a_stream_keeps_its_code_framed_or_raw() {
    let first = r#"{"candidates":[{"content":{"parts":[{"text":"{\"a\":"}]}}]}"#;
    let run = |chunks: Vec<u8>| {
        let t = ReplayTransport::new(vec![Scripted::Respond { status: 200, chunks: vec![chunks] }]);
        // `into_result` judges it, as the chat and the roadmap do.
        block_on(GeminiClient::new(&t, &endpoint()).generate(&user_request("hi"), true, &mut |_| {})).and_then(Reply::into_result)
    };
    let quota = r#"{"error":{"code":429,"message":"You exceeded your current quota.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaId":"GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}]},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"7s"}]}}"#;
    let err = run(format!("data: {first}\r\n\r\ndata: {quota}\r\n\r\n").into_bytes()).unwrap_err();
    assert_eq!((err.code(), err.retry_delay_ms()), ("RATE_LIMITED", Some(7_000)), "{err:?}");
    let overloaded = "{\n  \"error\": {\n    \"code\": 503,\n    \"message\": \"This model is currently experiencing high demand. Spikes in demand are usually temporary. Please try again later.\",\n    \"status\": \"UNAVAILABLE\"\n  }\n}\n";
    let err = run(format!("data: {first}\r\n\r\n{overloaded}").into_bytes()).unwrap_err();
    assert!(matches!(err, Error::Server { status: 503, .. }) && err.is_transient(), "{err:?}");
    let err = run(format!("data: {first}\r\n\r\n[{overloaded}]").into_bytes()).unwrap_err();
    assert!(matches!(err, Error::Server { status: 503, .. }), "in an array too: {err:?}");
    // After a finished answer, stray text changes nothing; nor does stray text that is no error.
    let done = r#"{"candidates":[{"content":{"parts":[{"text":"1"}]},"finishReason":"STOP"}]}"#;
    assert_eq!(run(format!("data: {done}\r\n\r\n{overloaded}").into_bytes()).unwrap().text, "1");
    // Framed as an event too: the finished answer was thrown away for it, asked again and billed twice.
    let framed = format!("data: {done}\r\n\r\ndata: {quota}\r\n\r\ndata: {{\"candidates\":[{{\"content\":{{\"parts\":[{{\"text\":\"2\"}}]}}}}]}}\r\n\r\n");
    assert_eq!(run(framed.into_bytes()).unwrap().text, "1", "the stream is read no further");
    let cut = run(format!("data: {first}\r\n\r\nnot json\nid: 4\n").into_bytes()).unwrap_err();
    assert_eq!(cut, Error::Network { message: "the stream ended before Gemini finished its answer".into() }, "a cut stream, as before");
}

/// Gemini's own 499 CANCELLED is its side giving up and usually answers when asked again (it was a BAD_REQUEST).
#[test]
fn gemini_cancelling_on_its_side_is_retried() {
    let e = parse_error(499, r#"{"error":{"code":499,"message":"The operation was cancelled.","status":"CANCELLED"}}"#);
    assert_eq!(e.code(), "SERVER");
    assert!(e.is_transient());
}

#[test]
fn model_info_reads_the_output_limit() {
    let t = ReplayTransport::new(vec![Scripted::ok(fixture("model-2.0-flash.json"))]);
    let info = block_on(GeminiClient::new(&t, &endpoint()).model_info()).unwrap();
    assert_eq!(info.output_token_limit, 8192);
    assert_eq!(t.requests.borrow()[0].method, "GET");
}

fn chat_config(max_retries: u32) -> ChatConfig {
    ChatConfig {
        endpoint: endpoint(),
        system_instruction: Some("be brief".into()),
        generation_config: None,
        retry: RetryPolicy { max_retries, ..RetryPolicy::default() },
    }
}

/// One chat turn the way `GeminiChat` does it: prepare, send with retries, record on success.
fn turn(chat: &mut Chat, t: &ReplayTransport, text: &str) -> Result<Reply, Error> {
    let req = chat.request_for(text, false)?;
    let reply = block_on(send_request(t, &chat.config, &req, &Default::default(), &mut |_| {}))?;
    if !reply.is_truncated() {
        chat.record(chat.era(), text, &reply.text, reply.signature.clone());
    }
    Ok(reply)
}

fn reply_body(text: &str, finish: &str) -> String {
    json!({"candidates":[{"content":{"parts":[{"text":text}],"role":"model"},"finishReason":finish}],
           "usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":3,"totalTokenCount":8}})
    .to_string()
}

#[test]
fn only_completed_turns_enter_the_history() {
    let t = ReplayTransport::new(vec![
        Scripted::ok(reply_body("one", "STOP")),
        Scripted::ok(fixture("max-tokens.json")),
        Scripted::ok(fixture("blocked-prompt.json")),
        Scripted::status(400, fixture("error-400-api-key.json")),
        Scripted::ok(reply_body("two", "STOP")),
    ]);
    let mut chat = Chat::new(chat_config(0));
    turn(&mut chat, &t, "q1").unwrap();
    assert!(turn(&mut chat, &t, "q2").unwrap().is_truncated());
    assert_eq!(turn(&mut chat, &t, "q3").unwrap_err().code(), "BLOCKED");
    assert_eq!(turn(&mut chat, &t, "q4").unwrap_err().code(), "AUTH");
    turn(&mut chat, &t, "q5").unwrap();
    let texts: Vec<&str> = chat.history().iter().map(|t| t.text.as_str()).collect();
    assert_eq!(texts, ["q1", "one", "q5", "two"]);
    let last: Value = serde_json::from_str(t.request_bodies().last().unwrap()).unwrap();
    assert_eq!(last["contents"].as_array().unwrap().len(), 3, "q1, one, q5: nothing broken is resent");
    assert_eq!(last["systemInstruction"]["parts"][0]["text"], "be brief");
}

#[test]
fn an_answer_without_text_is_asked_again_and_never_kept() {
    // What Gemini really sends now and then: STOP, and a content with a role but no parts.
    let empty = || {
        Scripted::ok(
            r#"{"candidates":[{"content":{"role":"model"},"finishReason":"STOP","index":0}],
                "usageMetadata":{"promptTokenCount":5,"totalTokenCount":5}}"#,
        )
    };
    let t = ReplayTransport::new(vec![empty(), Scripted::ok(reply_body("hello", "STOP"))]);
    let mut chat = Chat::new(chat_config(1));
    assert_eq!(turn(&mut chat, &t, "hi").unwrap().text, "hello");
    assert_eq!(t.request_count(), 2, "the empty answer was asked again");
    assert_eq!(t.sleeps.borrow().len(), 1, "after a backoff, like a transient failure");
    let t = ReplayTransport::new(vec![empty(), empty()]);
    let err = turn(&mut chat, &t, "again").unwrap_err();
    assert_eq!(err.code(), "MALFORMED", "retries spent: {err}");
    assert!(err.is_transient(), "another try may answer");
    assert_eq!(t.request_count(), 2);
    let texts: Vec<&str> = chat.history().iter().map(|t| t.text.as_str()).collect();
    assert_eq!(texts, ["hi", "hello"], "the empty turn is not kept");
    // A JSON turn asks again too, instead of failing on an empty text at once.
    let t = ReplayTransport::new(vec![empty(), Scripted::ok(reply_body("[1]", "STOP"))]);
    let req = chat.request_for("json", true).unwrap();
    let parsed = read_json(block_on(send_request(&t, &chat.config, &req, &Default::default(), &mut |_| {})).unwrap()).unwrap();
    assert_eq!(parsed.repaired.json, "[1]");
    // Nothing empty is ever recorded, even when asked to.
    chat.record(chat.era(), "q", "", None);
    assert_eq!(chat.history().len(), 2);
}

/// An answer Gemini ended with a `finishReason` other than `STOP`, `MAX_TOKENS` or a block (`UNEXPECTED_TOOL_CALL`
/// with a `functionCall` part the chat never asked for, `MALFORMED_FUNCTION_CALL`, `OTHER`, ...), or a body with no
/// candidates, failed the chat at once as `MALFORMED` with `retryable: false`, where the roadmap asks again.
#[test]
fn an_answer_that_ended_oddly_is_asked_again() {
    let odd = |reason: &str| {
        Scripted::ok(
            json!({"candidates":[{"content":{"parts":[{"functionCall":{"name":"search","args":{}}}],"role":"model"},
                   "finishReason":reason,"finishMessage":"Unexpected tool call.","index":0}],
                   "usageMetadata":{"promptTokenCount":5,"totalTokenCount":5}})
            .to_string(),
        )
    };
    let none = || Scripted::ok(r#"{"candidates":[],"usageMetadata":{"promptTokenCount":3}}"#);
    let mut chat = Chat::new(chat_config(2));
    for first in [odd("UNEXPECTED_TOOL_CALL"), odd("MALFORMED_FUNCTION_CALL"), odd("OTHER"), none()] {
        let t = ReplayTransport::new(vec![first, Scripted::ok(reply_body("hello", "STOP"))]);
        assert_eq!(turn(&mut chat, &t, "hi").unwrap().text, "hello");
        assert_eq!(t.request_count(), 2, "asked again");
    }
    let t = ReplayTransport::new(vec![odd("OTHER"), odd("UNEXPECTED_TOOL_CALL"), odd("OTHER")]);
    let err = turn(&mut chat, &t, "again").unwrap_err();
    assert_eq!(err.code(), "MALFORMED", "retries spent: {err}");
    assert!(err.to_string().contains("finishReason OTHER"), "{err}");
    assert!(err.is_transient(), "another try may answer");
    assert_eq!(t.request_count(), 3);
    assert_eq!(chat.history().len(), 8, "the four answered turns, nothing of the odd ones");
}

/// A turn asked before `clear()` or `setHistory()` (a chat's calls run while the page goes on) came back into the
/// new conversation when it finished: the next request resent it.
#[test]
fn a_turn_asked_before_the_history_was_replaced_is_not_kept() {
    let mut chat = Chat::new(chat_config(0));
    let asked = chat.era();
    chat.clear();
    chat.record(asked, "old question", "old answer", None);
    assert!(chat.history().is_empty(), "{:?}", chat.history());
    let asked = chat.era();
    let turns = vec![Turn { role: "user".into(), text: "q".into(), signature: None }, Turn { role: "model".into(), text: "a".into(), signature: None }];
    chat.set_history(turns.clone()).unwrap();
    chat.record(asked, "old question", "old answer", None);
    assert_eq!(chat.history(), turns.as_slice());
    chat.record(chat.era(), "new question", "new answer", None);
    assert_eq!(chat.history().len(), 4);
}

#[test]
fn transient_failures_retry_with_backoff_and_retry_info() {
    let t = ReplayTransport::new(vec![
        Scripted::status(503, r#"{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}"#),
        Scripted::Fail(Error::Network { message: "Failed to fetch".into() }),
        Scripted::status(429, fixture("error-429-retry.json")),
        Scripted::ok(reply_body("done", "STOP")),
    ]);
    let mut chat = Chat::new(chat_config(3));
    let reply = turn(&mut chat, &t, "q").unwrap();
    assert_eq!(reply.text, "done");
    assert_eq!(t.request_count(), 4);
    assert_eq!(reply.usage.requests, 4, "the failed requests count, as in a roadmap's usage (it said 1)");
    let sleeps = t.sleeps.borrow().clone();
    assert_eq!(sleeps.len(), 3);
    assert!((500..=1000).contains(&sleeps[0]), "first backoff ~1s with jitter: {sleeps:?}");
    assert!((1000..=2000).contains(&sleeps[1]), "then ~2s: {sleeps:?}");
    assert!(sleeps[2] >= 34_400, "RetryInfo wins: {sleeps:?}");
}

/// Refusals by a per-minute quota only say "later": they do not use up `maxRetries` (found with the mock's
/// `--rpm`: concurrent requests losing the race for a freed minute-slot failed the run), within a budget of their own.
#[test]
fn per_minute_quota_refusals_have_a_budget_of_their_own() {
    let refused = || Scripted::status(429, fixture("error-429-per-minute-whole-seconds.json"));
    let mut script: Vec<Scripted> = (0..5).map(|_| refused()).collect();
    script.push(Scripted::status(503, "{}"));
    script.push(Scripted::ok(reply_body("done", "STOP")));
    let t = ReplayTransport::new(script);
    let mut chat = Chat::new(chat_config(1));
    assert_eq!(turn(&mut chat, &t, "q").unwrap().text, "done", "5 refusals and 1 failure, with maxRetries 1");
    assert_eq!(t.request_count(), 7);
    assert!(t.sleeps.borrow()[..5].iter().all(|&ms| ms >= 58_934));

    let t = ReplayTransport::new((0..=MAX_QUOTA_REFUSALS).map(|_| refused()).collect());
    let err = turn(&mut Chat::new(chat_config(3)), &t, "q").unwrap_err();
    assert_eq!(err.code(), "RATE_LIMITED");
    assert_eq!(t.request_count() as u32, MAX_QUOTA_REFUSALS + 1, "the budget is spent");

    // The failures keep their own count: a refusal between two failures does not reset it.
    let policy = RetryPolicy { max_retries: 1, ..RetryPolicy::default() };
    let (mut tries, overloaded) = (Tries::default(), Error::Server { status: 503, message: String::new(), details: Default::default() });
    assert!(policy.next_delay_ms(&mut tries, &overloaded, 0.5).is_some());
    assert!(policy.next_delay_ms(&mut tries, &parse_error(429, &fixture("error-429-per-minute-whole-seconds.json")), 0.5).is_some());
    assert_eq!(tries, Tries { failures: 1, refusals: 1 });
    assert_eq!(tries.next_attempt(), 3);
    assert!(policy.next_delay_ms(&mut tries, &overloaded, 0.5).is_none(), "the second failure is one too many");
}

/// The chat's `retry` events numbered the failed attempt (first retry: 1), the roadmap's the one about to run
/// (first retry: 2); and with `maxRetries: 0` a per-minute quota was not waited out, though outside that count.
#[test]
fn a_chat_retry_names_the_attempt_about_to_run_and_no_retries_still_waits_out_a_minute_quota() {
    let t = ReplayTransport::new(vec![Scripted::status(503, "{}"), Scripted::status(503, "{}"), Scripted::ok(reply_body("done", "STOP"))]);
    let chat = Chat::new(chat_config(2));
    let req = chat.request_for("q", false).unwrap();
    let mut attempts = vec![];
    block_on(send_request(&t, &chat.config, &req, &Default::default(), &mut |n| attempts.push(n.attempt))).unwrap();
    assert_eq!(attempts, [2, 3], "as in generateRoadmap's retry events");

    let t = ReplayTransport::new(vec![
        Scripted::status(429, fixture("error-429-per-minute-whole-seconds.json")),
        Scripted::ok(reply_body("done", "STOP")),
    ]);
    let mut chat = Chat::new(chat_config(0));
    assert_eq!(turn(&mut chat, &t, "q").unwrap().text, "done");
    assert_eq!(t.request_count(), 2);
    assert!(t.sleeps.borrow()[0] >= 58_934);
}

#[test]
fn permanent_failures_and_daily_quota_are_not_retried() {
    for body in [(400, fixture("error-400-api-key.json")), (429, fixture("error-429-per-day.json")), (404, "{}".into())] {
        let t = ReplayTransport::new(vec![Scripted::status(body.0, body.1.clone()), Scripted::ok(reply_body("x", "STOP"))]);
        let mut chat = Chat::new(chat_config(3));
        assert!(turn(&mut chat, &t, "q").is_err());
        assert_eq!(t.request_count(), 1, "status {}", body.0);
        assert!(t.sleeps.borrow().is_empty());
    }
}

#[test]
fn retries_stop_when_spent_and_abort_stops_the_wait() {
    let overloaded = || Scripted::status(503, "{}");
    let t = ReplayTransport::new(vec![overloaded(), overloaded(), overloaded()]);
    let mut chat = Chat::new(chat_config(2));
    assert_eq!(turn(&mut chat, &t, "q").unwrap_err().code(), "SERVER");
    assert_eq!(t.request_count(), 3, "1 try + 2 retries");
    let t = ReplayTransport::new(vec![overloaded(), overloaded()]);
    t.abort_after_requests.set(Some(1));
    assert_eq!(turn(&mut chat, &t, "q").unwrap_err(), Error::Aborted);
}

#[test]
fn json_turns_go_through_the_fallbacks_and_truncation_is_an_error() {
    let fenced = reply_body("Here you go:\n```json\n{\"weeks\": [1, 2,],}\n```", "STOP");
    let t = ReplayTransport::new(vec![Scripted::ok(fenced), Scripted::ok(fixture("max-tokens.json"))]);
    let chat = Chat::new(chat_config(0));
    let req = chat.request_for("q", true).unwrap();
    assert_eq!(req.generation_config.as_ref().unwrap().response_mime_type.as_deref(), Some("application/json"));
    let parsed = read_json(block_on(send_request(&t, &chat.config, &req, &Default::default(), &mut |_| {})).unwrap()).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&parsed.repaired.json).unwrap(), json!({"weeks": [1, 2]}));
    let cut = read_json(block_on(send_request(&t, &chat.config, &req, &Default::default(), &mut |_| {})).unwrap()).unwrap_err();
    assert_eq!(cut.code(), "TRUNCATED");
}

#[test]
fn history_roles_are_checked() {
    let mut chat = Chat::new(chat_config(0));
    let bad = vec![Turn { role: "assistant".into(), text: "x".into(), signature: None }];
    assert_eq!(chat.set_history(bad).unwrap_err().code(), "INVALID_INPUT");
    // Each bad turn is named by its path; an empty text (which Gemini refuses in every later request) is bad as in
    // `send`, and nothing is kept.
    let turn = |role: &str, text: &str| Turn { role: role.into(), text: text.into(), signature: None };
    for (turns, field) in [
        (vec![turn("user", "a"), turn("system", "b")], "history[1].role"),
        (vec![turn("user", ""), turn("model", "b")], "history[0].text"),
        (vec![turn("user", "a"), turn("model", "")], "history[1].text"),
    ] {
        match chat.set_history(turns) {
            Err(Error::InvalidInput { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }
    assert!(chat.history().is_empty());
    assert_eq!(chat.request_for("  ", false).unwrap_err().code(), "INVALID_INPUT");
    // A blank answer the chat kept is given back as it is: `setHistory(chat.history)` took it (it was refused).
    let t = ReplayTransport::new(vec![Scripted::ok(r#"{"candidates":[{"content":{"parts":[{"text":"\n"}]},"finishReason":"STOP"}]}"#)]);
    crate::turn(&mut chat, &t, "hi").unwrap();
    let kept = chat.history().to_vec();
    assert_eq!(kept[1].text, "\n");
    chat.set_history(kept).unwrap();
}

#[test]
fn a_retry_info_longer_than_five_minutes_is_not_waited_out() {
    use gemini_roadmap::error::ApiErrorDetails;
    let policy = RetryPolicy::default();
    let limited = |ms| Error::RateLimited {
        message: "quota".into(),
        details: ApiErrorDetails { retry_delay_ms: Some(ms), ..Default::default() },
    };
    assert_eq!(policy.delay_ms(1, &limited(34_400), 0.0), Some(34_400));
    assert_eq!(policy.delay_ms(1, &limited(3_600_000), 0.5), None, "an hour-long wait fails fast");
    assert!(policy.delay_ms(1, &limited(u32::MAX), 1.0).is_none());
}

/// Google quotes the key in some refusals (a suspended key's 403: google/generative-ai-docs#356). The message
/// reached `err.message`, `retry` reasons and the log with the key in it.
#[test]
fn a_key_quoted_by_google_is_hidden_in_every_error() {
    let key = "AIzaTestKey123";
    let suspended = format!(
        r#"{{"error":{{"code":403,"message":"Permission denied: Consumer 'api_key:{key}' has been suspended.","status":"PERMISSION_DENIED","details":[{{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"CONSUMER_SUSPENDED","domain":"googleapis.com"}}]}}}}"#
    );
    let generate = |scripted: Scripted, stream: bool| {
        let t = ReplayTransport::new(vec![scripted]);
        block_on(GeminiClient::new(&t, &endpoint()).generate(&user_request("hi"), stream, &mut |_| {})).and_then(Reply::into_result)
    };
    let refused = generate(Scripted::status(403, suspended.clone()), false).unwrap_err();
    assert_eq!(refused.code(), "AUTH");
    assert_eq!(refused.text(), "Authentication failed (403): Permission denied: Consumer 'api_key:***' has been suspended.");
    // Quoted inside a 500's message, as a JSON string escapes it, and in an error that breaks off a stream.
    let escaped_key = "AIzaTest\"Key/123";
    let t = ReplayTransport::new(vec![Scripted::status(500, r#"{"error":{"code":500,"message":"bad key AIzaTest\"Key/123 and AIzaTest\\\"Key/123"}}"#)]);
    let ep = Endpoint::new(escaped_key, None, None, None).unwrap();
    let err = block_on(GeminiClient::new(&t, &ep).generate(&user_request("hi"), false, &mut |_| {})).unwrap_err();
    assert_eq!(err.text(), "Gemini server error (500): bad key *** and ***");
    let first = r#"{"candidates":[{"content":{"parts":[{"text":"{\"a\":"}]}}],"usageMetadata":{"promptTokenCount":3}}"#;
    let quota = format!(r#"{{"error":{{"code":429,"message":"Quota exceeded for consumer api_key:{key}.","status":"RESOURCE_EXHAUSTED"}}}}"#);
    let broken = generate(Scripted::Respond { status: 200, chunks: vec![format!("data: {first}\r\n\r\ndata: {quota}\r\n\r\n").into_bytes()] }, true);
    assert_eq!(broken.unwrap_err().text(), "Rate limited: Quota exceeded for consumer api_key:***.");
    let t = ReplayTransport::new(vec![Scripted::status(403, suspended)]);
    let lookup = block_on(GeminiClient::new(&t, &endpoint()).model_info()).unwrap_err();
    assert!(!lookup.text().contains(key) && lookup.text().contains("api_key:***"), "{}", lookup.text());

    // A proxy's HTML page whose title quotes the key, shortened to 120 chars inside it: the part of the key that
    // was left showed (found by a security review). Here 16 of its 39 chars would stay.
    let long_key = "AIzaSyD3mOkEyF0rTesting-0123456789_abcd";
    let ep = Endpoint::new(long_key, None, None, None).unwrap();
    let title = format!("502 Bad Gateway - upstream {} refused key header value {long_key}", "x".repeat(51));
    let page = format!("<html><head><title>{title}</title></head><body>bad gateway</body></html>");
    let t = ReplayTransport::new(vec![Scripted::status(502, page)]);
    let err = block_on(GeminiClient::new(&t, &ep).generate(&user_request("hi"), false, &mut |_| {})).unwrap_err();
    assert!(err.text().ends_with("key header value ***"), "{}", err.text());
    // Every field an error body gives is hidden, not only its message: a proxy may put the key in any of them.
    let body = format!(
        r#"{{"error":{{"code":429,"message":"no","status":"EXHAUSTED {long_key}","details":[{{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_{long_key}"}},{{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{{"quotaId":"PerMinute-{long_key}"}}]}}]}}}}"#
    );
    let t = ReplayTransport::new(vec![Scripted::status(429, body)]);
    let err = block_on(GeminiClient::new(&t, &ep).generate(&user_request("hi"), false, &mut |_| {})).unwrap_err();
    let d = err.details().unwrap();
    assert_eq!(
        (d.status.as_deref(), d.reason.as_deref(), d.quota_ids.as_slice()),
        (Some("EXHAUSTED ***"), Some("API_KEY_***"), ["PerMinute-***".to_string()].as_slice())
    );
    // So are a block reason and a finish reason, which reach `BLOCKED` errors and the chat's `finishReason`.
    let blocked = format!(r#"{{"promptFeedback":{{"blockReason":"BLOCKED_FOR_{long_key}"}},"usageMetadata":{{"promptTokenCount":3}}}}"#);
    let stopped = format!(r#"{{"candidates":[{{"content":{{"parts":[{{"text":"a"}}]}},"finishReason":"ODD_{long_key}"}}]}}"#);
    let t = ReplayTransport::new(vec![Scripted::ok(blocked), Scripted::ok(stopped)]);
    let client = GeminiClient::new(&t, &ep);
    let err = block_on(client.generate(&user_request("hi"), false, &mut |_| {})).and_then(Reply::into_result).unwrap_err();
    assert_eq!(err.text(), "Blocked by Gemini (BLOCKED_FOR_***): the prompt was blocked");
    let reply = block_on(client.generate(&user_request("hi"), false, &mut |_| {})).unwrap();
    assert_eq!(reply.finish_reason.as_deref(), Some("ODD_***"));

    // A key that starts again inside a cut copy of itself: the search went on after the cut copy's run, past the
    // whole key's start, and left 27 of its 39 chars (found by a review).
    let echo = "AIzaSyAIzaSyQQQQQQQQQQQQQQQQQQQQQQQQQQQ";
    let e = Error::Network { message: format!("[AIzaSy{echo}] and [{}]", &echo[..20]) }.without_key(echo);
    assert_eq!(e.text(), "Network error: [***] and [***]");
    // A key the endpoint refuses (not ASCII) named by an options error: a cut run ended inside a char and the rest
    // of the message was lost (a panic in a debug build).
    let odd = "AIzaSyXé0123456789abcdefghijklmnopqrstu";
    let e = Error::invalid("apiKey", format!("got {}è and more text", &odd[..9])).without_key(odd);
    assert_eq!(e.text(), format!("Invalid option `apiKey`: got {}è and more text", &odd[..9]));
    let e = Error::invalid("apiKey", format!("got {odd} here")).without_key(odd);
    assert_eq!(e.text(), "Invalid option `apiKey`: got *** here");
}

/// A whole (not streamed) body cut inside its JSON before the usage closed, or empty, is a cut transfer, retried like a reset
/// connection: it was `MALFORMED`, final. A body that is whole but not Gemini's, or not JSON at all, stays `MALFORMED`.
#[test]
fn a_whole_body_cut_before_its_usage_is_a_network_failure() {
    let whole = fixture("reply-with-thoughts.json");
    let body = whole.trim_end();
    let generate = |text: &str| {
        let t = ReplayTransport::new(vec![Scripted::ok(text)]);
        block_on(GeminiClient::new(&t, &endpoint()).generate(&user_request("hi"), false, &mut |_| {}))
    };
    let cuts: Vec<usize> = (0..body.len()).filter(|&i| body.is_char_boundary(i)).collect();
    assert!(cuts.len() > 100);
    let answer = generate(&whole).unwrap();
    assert_eq!(answer.text, "Hello! How can I help?");
    // A cut only after the answer and its usage, inside the fields Gemini writes last, left a whole answer that
    // was paid for: it is taken, not asked (and billed) again. Before that, every cut is a network failure.
    let usage_end = body.find(r#""modelVersion""#).unwrap();
    let after_usage = body.find(r#""modelVersion": ""#).unwrap() + r#""modelVersion": ""#.len();
    let mut taken = 0;
    for i in cuts {
        match generate(&body[..i]) {
            Ok(reply) => {
                assert!(i >= usage_end, "cut at {i} taken as an answer");
                assert_eq!((reply.text.as_str(), reply.usage), (answer.text.as_str(), answer.usage), "cut at {i}");
                assert_eq!(reply.finish_reason, answer.finish_reason);
                taken += 1;
            }
            Err(err) => {
                assert!(i < after_usage, "cut at {i} after the usage: {err}");
                assert_eq!(err.code(), "NETWORK", "cut at {i}: {err}");
                assert!(err.is_transient());
            }
        }
    }
    assert!(taken >= body.len() - after_usage, "{taken}");
    // Not Gemini's whatever brackets it leaves open: a proxy's page, prose, an array.
    for other in [
        "<html>502</html>",
        "{\"candidates\": 5}",
        "{} x",
        "{\"a\": tru}",
        "[1,]",
        "<html><body><pre>{\"error\": \"upstream\"</pre></body></html>",
        "<html><script>window.x = {\"a\": [1, 2, 3</script></html>",
        "Error: {code: 503",
        "[{\"candidates\": [",
    ] {
        assert_eq!(generate(other).unwrap_err().code(), "MALFORMED", "{other}");
    }
    for empty in ["", " \n"] {
        let err = generate(empty).unwrap_err();
        assert_eq!(err.code(), "NETWORK");
        assert!(err.to_string().contains("body was empty"), "{err}");
    }
    // The chat asks again (after a backoff) and gets the whole answer.
    let t = ReplayTransport::new(vec![Scripted::ok(&body[..body.len() / 2]), Scripted::ok(body)]);
    let mut chat = Chat::new(chat_config(1));
    assert_eq!(turn(&mut chat, &t, "hi").unwrap().text, "Hello! How can I help?");
    assert_eq!(t.request_count(), 2);
    let t = ReplayTransport::new(vec![Scripted::ok(&body[..body.len() - 5]), Scripted::ok(body)]);
    let mut chat = Chat::new(chat_config(1));
    assert_eq!(turn(&mut chat, &t, "hi").unwrap().text, "Hello! How can I help?");
    assert_eq!(t.request_count(), 1, "a whole answer cut in its responseId asked again");
}

/// An answer that ended (`STOP`) without text is asked again, but Gemini billed it: its prompt (the whole history,
/// resent every turn) and any thinking. `send`'s `usage` counted the retry in `requests` and left its tokens out,
/// where a roadmap's usage counts every reply's cost.
#[test]
fn the_tokens_of_an_empty_answer_asked_again_are_counted() {
    let empty = Scripted::ok(
        r#"{"candidates":[{"content":{"role":"model"},"finishReason":"STOP","index":0}],
            "usageMetadata":{"promptTokenCount":500,"thoughtsTokenCount":40,"totalTokenCount":540}}"#,
    );
    let good = Scripted::ok(
        r#"{"candidates":[{"content":{"parts":[{"text":"hello"}],"role":"model"},"finishReason":"STOP","index":0}],
            "usageMetadata":{"promptTokenCount":500,"candidatesTokenCount":2,"totalTokenCount":502}}"#,
    );
    let t = ReplayTransport::new(vec![empty, good]);
    let c = Chat::new(chat_config(2));
    let req = c.request_for("hi", false).unwrap();
    let reply = block_on(send_request(&t, &c.config, &req, &Default::default(), &mut |_| {})).unwrap();
    assert_eq!(reply.text, "hello");
    assert_eq!(reply.usage.requests, 2);
    assert_eq!(
        (reply.usage.prompt_tokens, reply.usage.thoughts_tokens, reply.usage.total_tokens),
        (1000, 40, 1042),
        "both answers were billed: {:?}",
        reply.usage
    );
}

/// A whole (not streamed) body that arrived in full, or past its usage, before its connection was reset or timed out
/// (its end never came): the answer is whole and paid for. It was thrown away for the error, asked again and billed
/// twice (every `GeminiChat` call is such a request), or with `maxRetries: 0` a `NETWORK` / `TIMEOUT` rejection.
#[test]
fn a_whole_body_whose_connection_broke_after_it_is_taken() {
    let whole = fixture("reply-with-thoughts.json");
    let body = whole.trim_end();
    let after_usage = body.find(r#""modelVersion": ""#).unwrap() + r#""modelVersion": ""#.len();
    let broken = |text: &str, error: &Error| Scripted::Broken {
        status: 200,
        chunks: vec![text.as_bytes().to_vec()],
        error: error.clone(),
    };
    let generate = |s: Scripted| {
        let t = ReplayTransport::new(vec![s]);
        block_on(GeminiClient::new(&t, &endpoint()).generate(&user_request("hi"), false, &mut |_| {}))
    };
    let answer = generate(Scripted::ok(&whole)).unwrap();
    for error in [Error::Network { message: "connection reset".into() }, Error::Timeout { ms: 500 }] {
        for text in [&whole[..], body, &body[..after_usage + 2]] {
            let reply = generate(broken(text, &error)).unwrap_or_else(|e| panic!("{error}, {} chars: {e}", text.len()));
            assert_eq!((reply.text.as_str(), reply.usage), (answer.text.as_str(), answer.usage));
            assert_eq!(reply.finish_reason.as_deref(), Some("STOP"));
        }
        // Cut before its end: the error it is, as before.
        assert_eq!(generate(broken(&body[..body.len() / 2], &error)).unwrap_err(), error);
        let mut chat = Chat::new(chat_config(0));
        let t = ReplayTransport::new(vec![broken(&whole, &error)]);
        assert_eq!(turn(&mut chat, &t, "hi").unwrap().text, "Hello! How can I help?");
        assert_eq!(t.request_count(), 1, "{error}: not asked (and billed) again");
    }
    // The user's abort stays one.
    assert_eq!(generate(broken(&whole, &Error::Aborted)).unwrap_err(), Error::Aborted);
}

const E1_RUNNING: &str = r#"{"candidates": [{"content": {"parts": [{"text": "{\"a\": "}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 8,"candidatesTokenCount": 2,"totalTokenCount": 10},"modelVersion": "gemini-2.5-flash"}"#;
const E1_NO_USAGE: &str = r#"{"candidates": [{"content": {"parts": [{"text": "{\"a\": "}],"role": "model"},"index": 0}],"modelVersion": "gemini-2.5-flash"}"#;
const E_LAST: &str = r#"{"candidates": [{"content": {"parts": [{"text": "1}"}],"role": "model"},"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 8,"candidatesTokenCount": 4,"totalTokenCount": 12},"modelVersion": "gemini-2.5-flash"}"#;

/// The last event (`finishReason` and the final usage) has come whole but for its closing blank line when the
/// connection resets or the idle timeout fires: the answer is whole and paid for, and kept (a review found it
/// thrown away and asked again: the parser still held the event when the break was judged).
#[test]
fn a_finished_last_event_missing_only_its_blank_line_is_kept_through_a_reset_or_timeout() {
    let mut lost = Vec::new();
    for (name, first) in [("running usage", Some(E1_RUNNING)), ("last-only usage", Some(E1_NO_USAGE)), ("one-event answer", None)] {
        let head = first.map(|f| format!("data: {f}\r\n\r\n")).unwrap_or_default();
        let text = if first.is_some() { "{\"a\": 1}" } else { "1}" };
        let bytes = format!("{head}data: {E_LAST}\r\n").into_bytes();
        // Reference: the same bytes then a clean end are taken as the whole answer.
        let clean = ReplayTransport::new(vec![Scripted::Respond { status: 200, chunks: vec![bytes.clone()] }]);
        let r = stream(&clean).unwrap().into_result().unwrap();
        assert_eq!((r.text.as_str(), r.finish_reason.as_deref()), (text, Some("STOP")));
        for error in [Error::Network { message: "connection reset".into() }, Error::Timeout { ms: 120_000 }] {
            let t = ReplayTransport::new(vec![Scripted::Broken { status: 200, chunks: vec![bytes.clone()], error: error.clone() }]);
            let got = stream(&t).and_then(Reply::into_result);
            if !matches!(&got, Ok(r) if r.text == text && r.finish_reason.as_deref() == Some("STOP") && r.usage.total_tokens == 12) {
                lost.push(format!("{name}, then {}: {got:?}", error.code()));
            }
        }
    }
    assert!(lost.is_empty(), "a whole, paid-for answer thrown away for an error after its last line:\n{}", lost.join("\n"));
}

const BLOCKED: &str = r#"{"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},"usageMetadata": {"promptTokenCount": 9,"totalTokenCount": 9},"modelVersion": "gemini-2.5-flash"}"#;

/// A refused prompt (`promptFeedback.blockReason`, its usage, no `finishReason`) is a whole answer: a reset or the
/// idle timeout after it leaves it `BLOCKED`, never retried (it became a retryable NETWORK/TIMEOUT, sent again).
#[test]
fn a_whole_refused_prompt_followed_by_a_broken_connection_is_blocked_not_retried() {
    let mut wrong = Vec::new();
    for streamed in [false, true] {
        let body = if streamed { format!("data: {BLOCKED}\r\n\r\n") } else { BLOCKED.to_string() };
        for error in [Error::Network { message: "connection reset".into() }, Error::Timeout { ms: 120_000 }] {
            let t = ReplayTransport::new(vec![Scripted::Broken { status: 200, chunks: vec![body.clone().into_bytes()], error: error.clone() }]);
            let got = block_on(GeminiClient::new(&t, &endpoint()).generate(&user_request("hi"), streamed, &mut |_| {}))
                .and_then(Reply::into_result);
            match got {
                Err(Error::Blocked { ref reason, .. }) if reason == "PROHIBITED_CONTENT" => {}
                other => wrong.push(format!("streamed {streamed}, then {}: {other:?}", error.code())),
            }
        }
        // Reference: the same whole body with a clean end is BLOCKED.
        let t = ReplayTransport::new(vec![Scripted::Respond { status: 200, chunks: vec![body.into_bytes()] }]);
        let clean = block_on(GeminiClient::new(&t, &endpoint()).generate(&user_request("hi"), streamed, &mut |_| {}));
        assert_eq!(clean.and_then(Reply::into_result).unwrap_err().code(), "BLOCKED");
    }
    assert!(wrong.is_empty(), "a whole refused-prompt answer became a retryable failure:\n{}", wrong.join("\n"));
}

const MODEL: &str = r#"{
  "name": "models/gemini-2.5-flash",
  "version": "2.5",
  "displayName": "Gemini 2.5 Flash",
  "inputTokenLimit": 1048576,
  "outputTokenLimit": 65536,
  "supportedGenerationMethods": ["generateContent", "countTokens"],
  "thinking": true
}"#;

/// A model lookup whose 200 body is empty or ends inside its JSON was cut on the way: retried like the same cut
/// by a reset (it was a final MALFORMED that ended the run).
#[test]
fn a_model_lookup_body_cut_on_the_way_is_asked_again() {
    let info = |s: Scripted| block_on(GeminiClient::new(&ReplayTransport::new(vec![s]), &endpoint()).model_info());
    assert_eq!(info(Scripted::ok(MODEL)).unwrap().output_token_limit, 65536);
    let half = &MODEL[..MODEL.len() / 2];
    let reset = info(Scripted::Broken { status: 200, chunks: vec![half.into()], error: Error::Network { message: "reset".into() } });
    assert_eq!(reset.as_ref().map_err(Error::code).unwrap_err(), "NETWORK");
    for body in [half, ""] {
        let err = info(Scripted::ok(body)).unwrap_err();
        assert!(err.is_transient(), "body {body:?} cut on the way: {err:?} is final, the same cut as a reset is retried");
    }
}

/// A 404 to the model lookup whose body is cut by a reset is still NOT_FOUND, as for a generate request (it
/// became a NETWORK failure, retried).
#[test]
fn a_model_lookup_error_body_cut_by_a_reset_keeps_its_status() {
    let not_found = r#"{"error":{"code":404,"message":"models/xyz is not found for API version v1beta, or is not supported for get. Call ListModels to see the list of available models and their supported methods.","status":"NOT_FOUND"}}"#;
    let t = ReplayTransport::new(vec![Scripted::Broken {
        status: 404,
        chunks: vec![not_found[..60].into()],
        error: Error::Network { message: "reset".into() },
    }]);
    let err = block_on(GeminiClient::new(&t, &endpoint()).model_info()).unwrap_err();
    // generate() keeps the status of a cut error body (read_error_body); the lookup turns it into a NETWORK retry.
    let t2 = ReplayTransport::new(vec![Scripted::Broken {
        status: 404,
        chunks: vec![not_found[..60].into()],
        error: Error::Network { message: "reset".into() },
    }]);
    assert_eq!(whole(&t2).unwrap_err().code(), "NOT_FOUND");
    assert_eq!(err.code(), "NOT_FOUND", "{err:?}");
}

fn stream(t: &ReplayTransport) -> Result<Reply, Error> {
    block_on(GeminiClient::new(t, &endpoint()).generate(&user_request("hi"), true, &mut |_| {}))
}

fn whole(t: &ReplayTransport) -> Result<Reply, Error> {
    block_on(GeminiClient::new(t, &endpoint()).generate(&user_request("hi"), false, &mut |_| {}))
}

/// `sendJson` on an answer that ended (`STOP`) inside its JSON: the repair closed it, with a made-up last item,
/// and the value was resolved and kept in the history (found by a review). It is `TRUNCATED` now, as a
/// `MAX_TOKENS` answer is, and not kept; a complete answer that needed other repairs still is.
#[test]
fn a_json_turn_that_ended_inside_its_json_is_truncated_and_not_kept() {
    let json_turn = |chat: &mut Chat, t: &ReplayTransport| -> Result<String, Error> {
        let era = chat.era();
        let req = chat.request_for("topics?", true)?;
        let parsed = read_json(block_on(send_request(t, &chat.config, &req, &Default::default(), &mut |_| {}))?)?;
        chat.record(era, "topics?", &parsed.repaired.json, None);
        Ok(parsed.repaired.json)
    };
    let t = ReplayTransport::new(vec![
        Scripted::ok(reply_body("{\"topics\": [\"Rust\", \"Go\", \"Zi", "STOP")),
        Scripted::ok(reply_body("```json\n{\"topics\": [\"Rust\", \"Go\",],}\n```", "STOP")),
    ]);
    let mut chat = Chat::new(chat_config(0));
    let err = json_turn(&mut chat, &t).unwrap_err();
    assert_eq!(err.code(), "TRUNCATED", "{err:?}");
    assert!(chat.history().is_empty(), "{:?}", chat.history());
    assert_eq!(json_turn(&mut chat, &t).unwrap(), r#"{"topics": ["Rust", "Go"]}"#);
    assert_eq!(chat.history().len(), 2);
}

/// `systemInstruction: ""` (an empty form field) was sent as an empty text, which Gemini refuses (400) on every
/// request: every call of the chat failed. An empty or blank one is no instruction.
#[test]
fn an_empty_system_instruction_is_not_sent() {
    for empty in ["", " \n"] {
        let chat = Chat::new(ChatConfig { system_instruction: Some(empty.into()), ..chat_config(0) });
        let req = chat.request_for("hi", false).unwrap();
        assert!(req.system_instruction.is_none(), "{empty:?}");
    }
    let req = Chat::new(chat_config(0)).request_for("hi", false).unwrap();
    assert!(req.system_instruction.is_some());
}

fn stream_bytes(bytes: &str, then: Option<Error>) -> Result<Reply, Error> {
    let chunks = vec![bytes.as_bytes().to_vec()];
    let scripted = match then {
        None => Scripted::Respond { status: 200, chunks },
        Some(error) => Scripted::Broken { status: 200, chunks, error },
    };
    let t = ReplayTransport::new(vec![scripted]);
    let req = GenerateRequest { contents: vec![Content::user("hi")], ..Default::default() };
    block_on(GeminiClient::new(&t, &endpoint()).generate(&req, true, &mut |_| {})).and_then(Reply::into_result)
}

const FIRST_EVENT: &str = r#"{"candidates":[{"content":{"parts":[{"text":"{\"a\":"}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":8,"totalTokenCount":8}}"#;
const QUOTA_EVENT: &str = r#"{"error":{"code":429,"message":"You exceeded your current quota.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaId":"GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}]},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"7s"}]}}"#;

fn is_quota(got: &Result<Reply, Error>) -> bool {
    matches!(got, Err(e) if e.code() == "RATE_LIMITED" && e.retry_delay_ms() == Some(7_000))
}

/// Gemini's error written into a 200 stream (a per-minute 429) was lost when its event's closing blank line never
/// came (then the body ended, or reset, or went silent), and, written raw, when a reset or the idle timeout
/// followed it: the call failed `NETWORK`/`TIMEOUT`, so the 429 was not waited out as its RetryInfo asks and used up
/// `maxRetries` (found by a review).
#[test]
fn a_last_error_event_missing_its_blank_line_is_not_lost() {
    let mut lost = Vec::new();
    for tail in ["", "\r\n", "\n"] {
        for then in [None, Some(Error::Network { message: "connection reset".into() }), Some(Error::Timeout { ms: 120_000 })] {
            let what = format!("tail {tail:?}, then {:?}", then.as_ref().map(Error::code));
            let got = stream_bytes(&format!("data: {FIRST_EVENT}\r\n\r\ndata: {QUOTA_EVENT}{tail}"), then);
            if !is_quota(&got) {
                lost.push(format!("{what}: {got:?}"));
            }
        }
    }
    // Reference: with its blank line the same event is read.
    assert!(is_quota(&stream_bytes(&format!("data: {FIRST_EVENT}\r\n\r\ndata: {QUOTA_EVENT}\r\n\r\n"), None)));
    assert!(lost.is_empty(), "Gemini's 429 lost:\n{}", lost.join("\n"));
}

#[test]
fn a_raw_error_followed_by_a_reset_or_the_idle_timeout_keeps_its_code() {
    let raw = "{\n  \"error\": {\n    \"code\": 429,\n    \"message\": \"You exceeded your current quota.\",\n    \"status\": \"RESOURCE_EXHAUSTED\",\n    \"details\": [\n      {\n        \"@type\": \"type.googleapis.com/google.rpc.RetryInfo\",\n        \"retryDelay\": \"7s\"\n      }\n    ]\n  }\n}\n";
    let mut lost = Vec::new();
    for (name, head) in [("no event before", String::new()), ("an event before", format!("data: {FIRST_EVENT}\r\n\r\n"))] {
        // Reference: a clean end after the raw error keeps its code.
        assert!(is_quota(&stream_bytes(&format!("{head}{raw}"), None)), "{name}, clean end");
        for then in [Error::Network { message: "connection reset".into() }, Error::Timeout { ms: 120_000 }] {
            let what = format!("{name}, then {}", then.code());
            let got = stream_bytes(&format!("{head}{raw}"), Some(then));
            if !is_quota(&got) {
                lost.push(format!("{what}: {got:?}"));
            }
        }
    }
    assert!(lost.is_empty(), "Gemini's raw 429 lost:\n{}", lost.join("\n"));
}
