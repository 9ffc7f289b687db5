#![cfg(not(target_arch = "wasm32"))]
//! Deterministic fuzzing of the reply side (std only): mutations of recorded Gemini bodies
//! (`tests/fixtures/gemini/*.json`, the HTML 502 page, model info, SSE event payloads) — byte flips,
//! truncations, insertions of `{["',:\\`, numbers swapped for huge, negative, fractional or
//! non-numbers — fed to everything that reads what the server sent:
//!
//! * `ReplyBuilder::push_json` (one to three events, as a stream), `finish` and `Reply::into_result`:
//!   never panic, and the deltas returned add up to the reply's text;
//! * `parse_error` with any status, then everything a caller asks of the error (`code`, `status`,
//!   `details`, `Display`, `is_transient`) and the retry policy's wait for it: never panic;
//! * `parse_model_info` and `parse_duration_ms`: never panic.
//!
//! `FUZZ_ITERATIONS=50000000 cargo test --release --test fuzz_response -- --nocapture` runs longer;
//! every file in `tests/fuzz-regressions/response/` is replayed first (`<status>-<name>.txt`).

mod fuzz_support;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::time::Instant;

use gemini_roadmap::gemini::response::{
    parse_duration_ms, parse_error, parse_model_info, ReplyBuilder, MAX_RETRY_DELAY_MS,
};
use gemini_roadmap::retry::RetryPolicy;
use fuzz_support::{iterations, seed, Rng};

const DEFAULT_ITERATIONS: u64 = 150_000;

#[rustfmt::skip]
const TOKENS: &[&str] = &[
    "{", "}", "[", "]", "\"", "'", ":", ",", "\\", "\\u0000", "\\ud800", "null", "true", "[]", "{}", "\"\"", "-",
    "\"error\":", "{\"error\":{\"code\":500}}", "\"candidates\":[]", "\"thought\":true",
    "\"finishReason\":\"SAFETY\"", "\"finishReason\":null", "\"blockReason\":\"OTHER\"",
    "\"parts\":[{\"text\":\"x\"}]", "\"text\":1", "\"@type\":\"type.googleapis.com/google.rpc.RetryInfo\"",
    "\"retryDelay\":\"1e300s\"", "<title>", "</title>", "\u{e9}", "\u{1F600}", "\u{0}", "\n", " ",
];

/// Numbers that break arithmetic: huge, negative, fractional, exponent, not a number at all.
#[rustfmt::skip]
const NUMBERS: &[&str] = &[
    "0", "-1", "1.5", "1e300", "1e-300", "-1e300", "18446744073709551615", "18446744073709551616", "4294967296",
    "65535", "65536", "99999999999999999999999", "NaN", "inf", "\"7\"", "null", "2147483647", "9007199254740993",
];

fn seeds() -> Vec<Vec<u8>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let mut out = Vec::new();
    for sub in ["gemini", "roadmap"] {
        let mut files: Vec<PathBuf> =
            std::fs::read_dir(format!("{dir}/{sub}")).unwrap().flatten().map(|e| e.path()).collect();
        files.sort();
        for f in files {
            let body = std::fs::read(&f).unwrap();
            if f.extension().is_some_and(|e| e == "sse") {
                // Each event payload is one GenerateContentResponse.
                for line in String::from_utf8_lossy(&body).lines() {
                    if let Some(d) = line.strip_prefix("data: ") {
                        out.push(d.as_bytes().to_vec());
                    }
                }
            } else {
                out.push(body);
            }
        }
    }
    let hand: &[&str] = &[
        "[{\"error\":{\"code\":429,\"message\":\"x\",\"status\":\"RESOURCE_EXHAUSTED\",\"details\":[{\"@type\":\"type.googleapis.com/google.rpc.RetryInfo\",\"retryDelay\":\"2s\"}]}}\n]",
        "{\"error\":{\"code\":400,\"message\":\"API key not valid.\",\"status\":\"INVALID_ARGUMENT\",\"details\":[{\"@type\":\"type.googleapis.com/google.rpc.ErrorInfo\",\"reason\":\"API_KEY_INVALID\"}]}}",
        "{\"error\":{\"code\":404,\"message\":\"models/x is not found\",\"status\":\"NOT_FOUND\"}}",
        "{\"candidates\":[],\"usageMetadata\":{\"promptTokenCount\":3}}",
        "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"**Thinking\",\"thought\":true}],\"role\":\"model\"},\"finishReason\":\"MAX_TOKENS\"}]}",
        "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"cut\"}]},\"finishReason\":\"SAFETY\"},{\"content\":{}}]}",
        "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]},\"finishReason\":\"OTHER\"}]}",
        "<html><title>Error 502 (Server Error)!!1</title></html>",
        "",
    ];
    out.extend(hand.iter().map(|s| s.as_bytes().to_vec()));
    out
}

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..rng.below(5) {
        let at = rng.below(v.len() + 1);
        match rng.below(8) {
            0 if !v.is_empty() => {
                let i = at.min(v.len() - 1);
                v[i] ^= 1 << rng.below(8);
            }
            1 | 2 => {
                let t = rng.pick(TOKENS).as_bytes();
                v.splice(at..at, t.iter().copied());
            }
            3 => {
                let end = (at + 1 + rng.below(24)).min(v.len());
                v.drain(at.min(end)..end);
            }
            4 => v.truncate(at),
            _ => {
                // Swap the number at or after `at` for a nasty one.
                if let Some(s) = (at..v.len()).find(|&i| v[i].is_ascii_digit()) {
                    let e = (s..v.len()).find(|&i| !(v[i].is_ascii_digit() || v[i] == b'.')).unwrap_or(v.len());
                    let n = rng.pick(NUMBERS).as_bytes();
                    v.splice(s..e, n.iter().copied());
                }
            }
        }
    }
    v
}

/// Every reader on one input (and on a stream of `events`); returns what broke.
fn check(status: u16, events: &[String]) -> Result<(), String> {
    let mut reply = ReplyBuilder::new();
    let mut streamed = String::new();
    for e in events {
        match reply.push_json(e) {
            Ok(delta) => streamed.push_str(delta),
            // The client stops at an unreadable event or an in-stream error.
            Err(err) => {
                let _ = (err.code(), err.to_string(), err.is_transient());
                break;
            }
        }
    }
    if reply.text() != streamed {
        return Err(format!("the deltas {streamed:?} do not add up to the text {:?}", reply.text()));
    }
    let done = reply.finish();
    let text = done.text.clone();
    match done.into_result() {
        Ok(r) if r.text != text => return Err("into_result changed the text".into()),
        Ok(_) => {}
        Err(e) => {
            let _ = (e.code(), e.to_string());
        }
    }
    let body = events.first().map(String::as_str).unwrap_or("");
    let err = parse_error(status, body);
    let _ = (err.code(), err.status(), err.details().cloned(), err.to_string(), err.is_daily_quota());
    let policy = RetryPolicy::default();
    for attempt in [1, 2, 3, 40] {
        let _ = policy.delay_ms(attempt, &err, 0.999);
    }
    let _ = parse_model_info(body);
    for word in body.split(['"', ' ']).filter(|w| w.ends_with('s')).take(4) {
        let _ = parse_duration_ms(word);
    }
    Ok(())
}

fn run_one(status: u16, events: &[String], what: &str) -> Result<(), String> {
    catch_unwind(AssertUnwindSafe(|| check(status, events)))
        .unwrap_or_else(|p| {
            let msg = p.downcast_ref::<String>().map(String::as_str).or(p.downcast_ref::<&str>().copied());
            Err(format!("panic: {}", msg.unwrap_or("?")))
        })
        .map_err(|e| {
            let path = save_crasher(status, events);
            format!("{what}: {e}\nstatus {status}, events {events:?}\nsaved to {} (move it to tests/fuzz-regressions/response/ once fixed)", path.display())
        })
}

/// `<status>-<hash>.txt`, events separated by a line holding only `\u{1e}` (record separator).
fn save_crasher(status: u16, events: &[String]) -> PathBuf {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target/fuzz-crashers/response"));
    let _ = std::fs::create_dir_all(&dir);
    let body = events.join("\n\u{1e}\n");
    let hash = body.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
    let path = dir.join(format!("{status}-{hash:016x}.txt"));
    let _ = std::fs::write(&path, body);
    path
}

#[test]
fn regressions_are_replayed() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fuzz-regressions/response");
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(dir).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    files.sort();
    assert!(!files.is_empty(), "tests/fuzz-regressions/response/ holds the crashers found so far");
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let status: u16 = name.split('-').next().and_then(|s| s.parse().ok()).unwrap_or(500);
        let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap()).into_owned();
        let events: Vec<String> = text.split("\n\u{1e}\n").map(str::to_string).collect();
        run_one(status, &events, &name).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn response_readers_survive_mutated_gemini_bodies() {
    let seeds = seeds();
    let n = iterations(DEFAULT_ITERATIONS);
    let mut rng = Rng(seed(0xA076_1D64_78BD_642F));
    const STATUSES: &[u16] = &[0, 200, 204, 400, 401, 403, 404, 408, 429, 500, 502, 503, 504, 599, 600, 999, u16::MAX];
    let mut count = 0u64;
    let started = Instant::now();
    for s in &seeds {
        let events = [String::from_utf8_lossy(s).into_owned()];
        run_one(400, &events, "seed").unwrap_or_else(|e| panic!("{e}"));
        count += 1;
    }
    while count < n {
        let status = if rng.below(4) == 0 { rng.next() as u16 } else { *rng.pick(STATUSES) };
        let events: Vec<String> = (0..1 + rng.below(3))
            .map(|_| {
                let seed = rng.pick(&seeds);
                String::from_utf8_lossy(&mutate(&mut rng, seed)).into_owned()
            })
            .collect();
        run_one(status, &events, &format!("input #{count}")).unwrap_or_else(|e| panic!("{e}"));
        count += 1;
    }
    println!("fuzz_response: {count} inputs in {:.1?}", started.elapsed());
    assert_eq!(count, n.max(seeds.len() as u64));
}

/// Found by this fuzzer: `RetryInfo.retryDelay: "1e300s"` became `u64::MAX` ms, and the retry policy's
/// `delay + jitter` overflowed (a panic in debug builds, a wrapped tiny delay in release ones).
#[test]
fn an_absurd_retry_delay_is_clamped() {
    assert_eq!(parse_duration_ms("1e300s"), Some(MAX_RETRY_DELAY_MS));
    assert_eq!(parse_duration_ms("86400.001s"), Some(MAX_RETRY_DELAY_MS));
    assert_eq!(parse_duration_ms("34.4s"), Some(34_400));
    let body = r#"{"error":{"code":429,"message":"x","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1e300s"}]}}"#;
    let err = parse_error(429, body);
    assert_eq!(err.retry_delay_ms(), Some(MAX_RETRY_DELAY_MS));
    // A wait that long is a quota, not a hiccup: the policy fails fast instead of overflowing.
    assert_eq!(RetryPolicy::default().delay_ms(1, &err, 0.999), None);
}
