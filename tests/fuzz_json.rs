#![cfg(not(target_arch = "wasm32"))]
//! Deterministic fuzzing of `repair_json` (std only, no fuzzing crate): mutations of real seeds —
//! roadmap JSON as Gemini wrote it, the 419 jsonrepair cases — by byte flips, truncations, windows,
//! deletions, duplications and insertions of `{["',:\\` and friends. For every input:
//!
//! * `repair_json` never panics;
//! * an `Ok` output parses with serde_json, is at most `8 × input + 16` bytes, and repairing it again
//!   gives it back byte for byte with no repairs (it is valid JSON, and valid JSON passes unchanged);
//! * an `Err` points inside the input.
//!
//! The per-input work is bounded by construction (one call per property, no loop over the input), and
//! `repair_time_is_linear_on_pathological_inputs` checks that the time of one call grows linearly.
//! `FUZZ_ITERATIONS=50000000 cargo test --release --test fuzz_json -- --nocapture` runs longer;
//! every file in `tests/fuzz-regressions/json/` is replayed first (crashers found earlier).

mod fuzz_support;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use gemini_roadmap::json::repair_json;
use gemini_roadmap::json::Value as OurValue;
use serde_json::Value;
use fuzz_support::{iterations, same_value, seed, Rng};

const DEFAULT_ITERATIONS: u64 = 800_000;

/// What breaks JSON repair: brackets, quotes of every style, escapes, comments, fences, literals,
/// numbers, wrappers, special whitespace, control characters, and multi-byte characters.
#[rustfmt::skip]
const TOKENS: &[&str] = &[
    "{", "}", "[", "]", "\"", "'", ":", ",", "\\", "\\\"", "\\u", "\\ud83d", "\\udc00", "\\u00", "\\x", "/", "//",
    "/*", "*/", "#", "\n", "\r\n", "\r", "\t", " ", "```", "```json\n", "\n```", "true", "tru", "nul", "None",
    "True", "False", "NaN", "Infinity", "undefined", "...", "-", "1e", "1e400", "-0", ".5", "2.", "007", "0x1F",
    "\u{201c}", "\u{201d}", "\u{2018}", "\u{2019}", "\u{b4}", "`", "\u{a0}", "\u{feff}", "\u{2028}", "\u{1F600}",
    "\u{e9}", "\u{0}", "\u{1f}", "\u{7f}", "+", "(", ")", "callback(", "ObjectId(", ");", "/re/g", "{\"a\":",
    "\"k\":\"v\"", ",,", "::", "\"a\" + \"b\"", "{a:1}", "['x']", "\"\\\"", "Here is the JSON:\n", "```\n{",
];

fn seeds() -> Vec<Vec<u8>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let read = |p: &str| std::fs::read_to_string(format!("{dir}/{p}")).unwrap_or_else(|e| panic!("{p}: {e}"));
    let mut out: Vec<Vec<u8>> = Vec::new();
    // Roadmap JSON as the model wrote it: the text parts of recorded responses and SSE streams.
    for f in ["roadmap/outline-devops-12.json", "roadmap/weeks-7-9-max-tokens.json", "gemini/reply-with-thoughts.json"]
    {
        out.push(model_text(&read(f)).into_bytes());
    }
    let mut streamed = String::new();
    for line in read("roadmap/weeks-4-6-devops-12.sse").lines() {
        if let Some(data) = line.strip_prefix("data: ") {
            streamed.push_str(&model_text(data));
        }
    }
    out.push(streamed.into_bytes());
    // Whole Gemini bodies are JSON too.
    for f in ["gemini/error-429-retry.json", "gemini/blocked-prompt.json", "roadmap/model-info-gemini-2.5-flash.json"] {
        out.push(read(f).into_bytes());
    }
    let cases: Value = serde_json::from_str(&read("jsonrepair-cases.json")).unwrap();
    for c in cases.as_array().unwrap() {
        if let Some(s) = c["input"].as_str() {
            out.push(s.as_bytes().to_vec());
        }
    }
    out.push(
        b"Sure! Here is your plan:\n```json\n{\"weeks\": [{\"week\": 1, \"days\": [],},],}\n```\nGood luck!".to_vec(),
    );
    out.push(b"{'weeks': [{'week': 1, 'title': 'Intro', 'done': True, 'notes': None}]}".to_vec());
    out.push(b"{\"weeks\":[{\"week\":1,/* first */\"title\":\"A\" // x\n}]}".to_vec());
    out
}

/// The concatenated non-thought text parts of a GenerateContentResponse.
fn model_text(body: &str) -> String {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let parts = v["candidates"][0]["content"]["parts"].as_array().cloned().unwrap_or_default();
    parts.iter().filter(|p| p["thought"] != true).filter_map(|p| p["text"].as_str()).collect()
}

/// One fuzz input: a window of the seed (most seeds are long) with 1 to 6 mutations.
fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut v = if seed.len() > 256 && rng.below(512) != 0 {
        let len = 1 + rng.below(256);
        let start = rng.below(seed.len() - len + 1);
        seed[start..start + len].to_vec()
    } else {
        seed.to_vec()
    };
    for _ in 0..1 + rng.below(6) {
        let at = rng.below(v.len() + 1);
        match rng.below(10) {
            0 if !v.is_empty() => {
                let i = at.min(v.len() - 1);
                v[i] ^= 1 << rng.below(8);
            }
            1 if !v.is_empty() => {
                let i = at.min(v.len() - 1);
                v[i] = *rng.pick(b"{}[]\"':,\\/*#` \n\r\t0-.eE");
            }
            2 | 3 => {
                let t = rng.pick(TOKENS).as_bytes();
                v.splice(at..at, t.iter().copied());
            }
            4 => {
                let end = (at + 1 + rng.below(16)).min(v.len());
                v.drain(at.min(end)..end);
            }
            5 => {
                // A repeated stretch: duplicated text, or a token many times (deep nesting, quote runs).
                let t = if rng.below(2) == 0 && at < v.len() {
                    v[at..(at + 1 + rng.below(32)).min(v.len())].to_vec()
                } else {
                    rng.pick(TOKENS).as_bytes().to_vec()
                };
                let most = if rng.below(8) == 0 { 200 } else { 8 };
                let times = 2 + rng.below(most);
                let rep: Vec<u8> = t.iter().copied().cycle().take(t.len() * times).collect();
                v.splice(at..at, rep);
            }
            6 => v.truncate(at),
            7 => {
                let n = 1 + rng.below(4);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                v.splice(at..at, bytes);
            }
            _ => {
                // Splice in a window of another part of the same seed.
                if !v.is_empty() {
                    let a = rng.below(v.len());
                    let b = (a + 1 + rng.below(64)).min(v.len());
                    let piece = v[a..b].to_vec();
                    v.splice(at..at, piece);
                }
            }
        }
    }
    v
}

/// Every property for one input: the output length when repaired, else a description of the first
/// property broken.
fn check(input: &str) -> Result<Option<usize>, String> {
    strict_parsers_agree(input)?;
    match repair_json(input) {
        Ok(r) => {
            match serde_json::from_str::<Value>(&r.json) {
                Ok(v) if !same_value(&OurValue::parse(&r.json).map_err(|e| format!("{e:?}"))?, &v) => {
                    return Err(format!("the crate's parser reads the output otherwise: {:?}", preview(&r.json)))
                }
                Ok(_) => {}
                // By design (tests/json_repair.rs) nesting is not limited; serde_json stops at 128 levels.
                Err(e) if e.to_string().starts_with("recursion limit exceeded") && deep_json_is_valid(&r.json) => {}
                Err(e) => return Err(format!("output does not parse ({e}): {:?}", preview(&r.json))),
            }
            let bound = 8 * input.len() + 16;
            if r.json.len() > bound {
                return Err(format!("output of {} bytes for {} bytes of input", r.json.len(), input.len()));
            }
            match repair_json(&r.json) {
                Ok(again) if again.json == r.json && again.repairs.is_empty() => Ok(Some(r.json.len())),
                Ok(again) => Err(format!(
                    "the valid output {:?} was changed again: {:?} {:?}",
                    preview(&r.json),
                    again.repairs,
                    preview(&again.json)
                )),
                Err(e) => Err(format!("the valid output was rejected: {e}")),
            }
        }
        Err(e) if e.position <= input.len() => Ok(None),
        Err(e) => Err(format!("error position {} beyond the input ({} bytes)", e.position, input.len())),
    }
}

/// The crate's strict parser (`json::Value::parse`, used for Gemini's replies and the options) accepts exactly
/// what serde_json accepts and reads the same value, except past serde_json's nesting limit and for lone
/// surrogate escapes, which it reads as U+FFFD as `JSON.parse` + `TextEncoder` would (serde_json refuses them).
fn strict_parsers_agree(input: &str) -> Result<(), String> {
    match (OurValue::parse(input), serde_json::from_str::<Value>(input)) {
        (Ok(a), Ok(b)) if same_value(&a, &b) => Ok(()),
        (Err(_), Err(_)) => Ok(()),
        (_, Err(e)) if e.to_string().starts_with("recursion limit exceeded") => Ok(()),
        (Ok(_), Err(e)) if input.contains("\\ud") && (e.to_string().contains("surrogate") || e.to_string().contains("hex escape")) => Ok(()),
        (a, b) => Err(format!("strict parsers disagree on {:?}: ours {a:?}, serde_json {b:?}", preview(input))),
    }
}

/// A strict RFC 8259 check without recursion, for outputs nested deeper than serde_json reads: the
/// same grammar, strings without raw control characters, escapes valid and surrogates paired,
/// numbers finite as f64 (as serde_json requires).
fn deep_json_is_valid(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let mut stack: Vec<u8> = Vec::new();
    let skip_ws = |i: &mut usize| {
        while *i < b.len() && matches!(b[*i], b' ' | b'\t' | b'\n' | b'\r') {
            *i += 1;
        }
    };
    let hex4 = |i: usize| -> Option<u32> { s.get(i..i + 4).and_then(|h| u32::from_str_radix(h, 16).ok()) };
    let string = |i: &mut usize| -> bool {
        if b.get(*i) != Some(&b'"') {
            return false;
        }
        *i += 1;
        loop {
            match b.get(*i) {
                None => return false,
                Some(b'"') => {
                    *i += 1;
                    return true;
                }
                Some(c) if *c < 0x20 => return false,
                Some(b'\\') => match b.get(*i + 1) {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => *i += 2,
                    Some(b'u') => match hex4(*i + 2) {
                        Some(0xD800..=0xDBFF) if b.get(*i + 6) == Some(&b'\\') && b.get(*i + 7) == Some(&b'u') => {
                            if !matches!(hex4(*i + 8), Some(0xDC00..=0xDFFF)) {
                                return false;
                            }
                            *i += 12;
                        }
                        Some(0xD800..=0xDFFF) | None => return false,
                        Some(_) => *i += 6,
                    },
                    _ => return false,
                },
                Some(_) => *i += 1,
            }
        }
    };
    let key = |i: &mut usize| -> bool {
        skip_ws(i);
        if !string(i) {
            return false;
        }
        skip_ws(i);
        if b.get(*i) != Some(&b':') {
            return false;
        }
        *i += 1;
        true
    };
    'value: loop {
        skip_ws(&mut i);
        match b.get(i) {
            Some(&c @ (b'[' | b'{')) => {
                i += 1;
                skip_ws(&mut i);
                if b.get(i) == Some(&(c + 2)) {
                    i += 1;
                } else {
                    stack.push(c);
                    if c == b'{' && !key(&mut i) {
                        return false;
                    }
                    continue 'value;
                }
            }
            Some(b'"') => {
                if !string(&mut i) {
                    return false;
                }
            }
            Some(b't' | b'f' | b'n') => {
                match ["true", "false", "null"].iter().find(|w| b[i..].starts_with(w.as_bytes())) {
                    Some(w) => i += w.len(),
                    None => return false,
                }
            }
            Some(b'-' | b'0'..=b'9') => {
                let start = i;
                i += usize::from(b[i] == b'-');
                let digits = |i: &mut usize| {
                    let s = *i;
                    while *i < b.len() && b[*i].is_ascii_digit() {
                        *i += 1;
                    }
                    *i - s
                };
                let int_start = i;
                let n = digits(&mut i);
                if n == 0 || (n > 1 && b[int_start] == b'0') {
                    return false;
                }
                if b.get(i) == Some(&b'.') {
                    i += 1;
                    if digits(&mut i) == 0 {
                        return false;
                    }
                }
                if matches!(b.get(i), Some(b'e' | b'E')) {
                    i += 1;
                    if matches!(b.get(i), Some(b'+' | b'-')) {
                        i += 1;
                    }
                    if digits(&mut i) == 0 {
                        return false;
                    }
                }
                if !s[start..i].parse::<f64>().is_ok_and(f64::is_finite) {
                    return false;
                }
            }
            _ => return false,
        }
        loop {
            skip_ws(&mut i);
            let Some(&open) = stack.last() else { return i == b.len() };
            match b.get(i) {
                Some(b',') => {
                    i += 1;
                    if open == b'{' && !key(&mut i) {
                        return false;
                    }
                    continue 'value;
                }
                Some(&c) if c == open + 2 => {
                    i += 1;
                    stack.pop();
                }
                _ => return false,
            }
        }
    }
}

#[test]
fn the_deep_json_check_agrees_with_serde_json_where_serde_json_can_tell() {
    let cases = [
        "[1, -0, 2.5e-3, \"a\\u00e9\\ud83d\\ude00\", true, false, null, {}, [], {\"k\": {\"l\": []}}]",
        "[1,]",
        "{\"a\" 1}",
        "[01]",
        "[1.]",
        "[1e]",
        "\"\\ud800\"",
        "\"\\udc00\"",
        "[\"\t\"]",
        "[tru]",
        "{}{}",
        "[1e400]",
        "{\"a\":1,}",
        "[\"\\x\"]",
        "  [1]  ",
        "{\"a\":[{\"b\":null}]}",
    ];
    for c in cases {
        assert_eq!(deep_json_is_valid(c), serde_json::from_str::<Value>(c).is_ok(), "{c}");
    }
    let deep = format!("{}1{}", "{\"a\":[".repeat(200), "]}".repeat(200));
    assert!(deep_json_is_valid(&deep));
    assert!(!deep_json_is_valid(&deep[..deep.len() - 1]));
}

fn preview(s: &str) -> String {
    s.chars().take(300).collect()
}

/// Runs `check` and turns a panic into an error; a failing input is saved for `tests/fuzz-regressions/`.
fn run_one(input: &[u8], what: &str) -> Result<Option<usize>, String> {
    let text = String::from_utf8_lossy(input);
    let result = catch_unwind(AssertUnwindSafe(|| check(&text))).unwrap_or_else(|p| {
        Err(format!(
            "panic: {}",
            p.downcast_ref::<String>().map(String::as_str).or(p.downcast_ref::<&str>().copied()).unwrap_or("?")
        ))
    });
    result.map_err(|e| {
        let path = save_crasher(input);
        format!(
            "{what}: {e}\ninput {:?}\nsaved to {} (move it to tests/fuzz-regressions/json/ once fixed)",
            preview(&text),
            path.display()
        )
    })
}

fn save_crasher(input: &[u8]) -> PathBuf {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target/fuzz-crashers/json"));
    let _ = std::fs::create_dir_all(&dir);
    let hash = input.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
    let path = dir.join(format!("{hash:016x}.txt"));
    let _ = std::fs::write(&path, input);
    path
}

fn regressions() -> Vec<(String, Vec<u8>)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fuzz-regressions/json");
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap()))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

#[test]
fn regressions_are_replayed() {
    let files = regressions();
    assert!(!files.is_empty(), "tests/fuzz-regressions/json/ holds the crashers found so far");
    for (name, input) in &files {
        if let Err(e) = run_one(input, name) {
            panic!("{e}");
        }
    }
}

#[test]
fn repair_json_survives_mutated_model_output() {
    let seeds = seeds();
    let n = iterations(DEFAULT_ITERATIONS);
    let mut rng = Rng(seed(0x9E37_79B9_7F4A_7C15));
    let (mut count, mut ok, mut max_ratio) = (0u64, 0u64, 0f64);
    let started = Instant::now();
    // Every seed as it is, then mutations.
    for s in &seeds {
        run_one(s, "seed").unwrap_or_else(|e| panic!("{e}"));
        count += 1;
    }
    while count < n {
        let seed = rng.pick(&seeds);
        let input = mutate(&mut rng, seed);
        match run_one(&input, &format!("input #{count}")) {
            Err(e) => panic!("{e}"),
            Ok(Some(out)) => {
                ok += 1;
                max_ratio = max_ratio.max(out as f64 / input.len().max(1) as f64);
            }
            Ok(None) => {}
        }
        count += 1;
    }
    println!(
        "fuzz_json: {count} inputs ({ok} repaired, {} rejected) in {:.1?}; largest output/input ratio {max_ratio:.2}",
        count - ok,
        started.elapsed()
    );
    assert_eq!(count, n.max(seeds.len() as u64));
}

/// Linear time: 16× the input takes well under 4 × 16 the time (quadratic would be 256×). Each size is
/// timed as the best of 5 runs, and a ratio over the bound measured again, so that a busy machine does not fail
/// the test.
fn best_of_5(input: &str) -> Duration {
    (0..5)
        .map(|_| {
            let t = Instant::now();
            let _ = std::hint::black_box(repair_json(std::hint::black_box(input)));
            t.elapsed()
        })
        .min()
        .unwrap()
}

#[test]
fn repair_time_is_linear_on_pathological_inputs() {
    let patterns: &[&str] = &[
        "\"",
        "\"a,",
        "'a\"b",
        "\"\\",
        "\\\"a",
        "[",
        "{\"a\":[",
        "{a:",
        "{",
        "/",
        "/*",
        "```",
        "x(",
        "\u{201c}a",
        "-",
        "1e",
        "[\"a\" \"b\" ",
        "[],",
        "{\"a\":[1]},",
        "{\"a\":1,",
        "[1] ",
        "{\"a\" \"b\" ",
        " ",
        "\u{a0}",
        "...",
        "\"a\" + ",
    ];
    let small = 16 * 1024;
    for p in patterns {
        let make = |n: usize| -> String { p.repeat(n / p.len()) };
        let (a, b) = (make(small), make(16 * small));
        // Below ~1 ms timing noise dominates: compare against at least that. A stall on a busy machine (both
        // cores taken) can still land on every run of one size, so a failing ratio is measured again, up to 5
        // times: quadratic time fails every try.
        let measure = || {
            let (ta, tb) = (best_of_5(&a), best_of_5(&b));
            (ta, tb, tb.as_secs_f64() / ta.as_secs_f64().max(0.001))
        };
        let (ta, tb, ratio) = (1..5).fold(measure(), |m, _| if m.2 < 64.0 { m } else { measure() });
        println!(
            "pattern {p:?}: {:?} for {} KiB, {:?} for {} KiB (×{ratio:.1})",
            ta,
            small / 1024,
            tb,
            16 * small / 1024
        );
        assert!(ratio < 64.0, "repair_json looks superlinear on {p:?}: {ta:?} -> {tb:?} for 16x the input");
        let _ = check(&a).map_err(|e| panic!("{p:?}: {e}"));
    }
}

/// Found by this fuzzer: whitespace between `...` (or a `name(` wrapper) and a top-level value was
/// kept, so the output was valid JSON but not trimmed, and repairing it again changed it.
#[test]
fn whitespace_before_a_top_level_value_is_not_kept() {
    for (input, want) in
        [("...  \"x\"", "\"x\""), ("ObjectId(  \"x\"  )", "\"x\""), ("... \n 12 ", "12"), ("callback( [1] );", "[1]")]
    {
        let r = repair_json(input).unwrap();
        assert_eq!(r.json, want, "{input:?}");
        assert_eq!(repair_json(&r.json).unwrap().json, want);
    }
}
