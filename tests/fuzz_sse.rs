#![cfg(not(target_arch = "wasm32"))]
//! Deterministic fuzzing of the SSE parser (std only): mutations of recorded Gemini streams
//! (`tests/fixtures/**/*.sse`) and of hand-made streams using every line end, comments, event names,
//! a BOM, multi-line data, unknown fields and broken UTF-8. For every input:
//!
//! * `SseParser` never panics;
//! * the input pushed whole gives exactly the events of a plain reference reading of the same bytes
//!   (lines split at CRLF, CR or LF; the field rules of the EventSource spec; a last event without
//!   its blank line still delivered by `finish`);
//! * the same input pushed in random pieces (empty pieces, single bytes, cuts inside CRLF and inside
//!   UTF-8 characters) gives the same events.
//!
//! `sse_parser_time_is_linear` checks that a long line arriving in small chunks costs linear time.
//! `FUZZ_ITERATIONS=50000000 cargo test --release --test fuzz_sse -- --nocapture` runs longer;
//! every file in `tests/fuzz-regressions/sse/` (a stream, optionally `.cuts` offsets) is replayed first.

mod fuzz_support;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use gemini_roadmap::gemini::sse::{SseEvent, SseParser};
use fuzz_support::{iterations, seed, Rng};

const DEFAULT_ITERATIONS: u64 = 300_000;

#[rustfmt::skip]
const TOKENS: &[&[u8]] = &[
    b"\r", b"\n", b"\r\n", b"\n\n", b"\r\n\r\n", b"\r\r", b"data:", b"data: ", b"data", b":", b": keep-alive\n",
    b"event: error\n", b"event:", b"id: 7\n", b"retry: 10\n", b"\xEF\xBB\xBF", b"\xFF", b"\xE2\x82",
    b"\xF0\x9F\x98\x80", b" ", b"  ", b"{\"error\":{\"code\":500}}", b"{\"candidates\":[]}", b"Data: x\n",
    b"data:\r\n",
];

fn seeds() -> Vec<Vec<u8>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let mut out: Vec<Vec<u8>> = ["gemini/stream-3-chunks.sse", "roadmap/weeks-4-6-devops-12.sse"]
        .iter()
        .map(|p| std::fs::read(format!("{dir}/{p}")).unwrap_or_else(|e| panic!("{p}: {e}")))
        .collect();
    let hand: &[&[u8]] = &[
        b"data: {\"a\":1}\r\n\r\ndata: {\"b\":2}\r\n\r\n",
        b"data:{\"a\":1}\n\ndata:{\"b\":2}\n\n",
        b"data: x\rdata: y\r\r",
        b"\xEF\xBB\xBFevent: error\ndata: {\"error\":{\"code\":500,\"status\":\"INTERNAL\"}}\n\n",
        b": comment\n\ndata: first\ndata: second\n\nid: 3\nretry: 1000\ndata\n\n",
        b"data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"}]}}]}\r\n\r\ndata: {\"b\":",
        b"data: last without its blank line",
        b"event: a\n\nevent: b\ndata: 1\n\n",
        b"\r\n\r\n\n\r\r\ndata: \r\n",
    ];
    out.extend(hand.iter().map(|s| s.to_vec()));
    out
}

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut v = if seed.len() > 512 && rng.below(256) != 0 {
        let len = 1 + rng.below(512);
        let start = rng.below(seed.len() - len + 1);
        seed[start..start + len].to_vec()
    } else {
        seed.to_vec()
    };
    for _ in 0..rng.below(6) {
        let at = rng.below(v.len() + 1);
        match rng.below(7) {
            0 if !v.is_empty() => {
                let i = at.min(v.len() - 1);
                v[i] ^= 1 << rng.below(8);
            }
            1 if !v.is_empty() => {
                let i = at.min(v.len() - 1);
                v[i] = *rng.pick(b"\r\n: d");
            }
            2 | 3 => {
                let t = rng.pick(TOKENS);
                v.splice(at..at, t.iter().copied());
            }
            4 => {
                let end = (at + 1 + rng.below(16)).min(v.len());
                v.drain(at.min(end)..end);
            }
            5 => v.truncate(at),
            _ => {
                let n = 1 + rng.below(3);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                v.splice(at..at, bytes);
            }
        }
    }
    v
}

/// The events of `bytes`, read the plain way: split the whole text into lines first.
fn reference(bytes: &[u8]) -> Vec<SseEvent> {
    let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut lines: Vec<&[u8]> = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < b.len() {
        if b[i] == b'\n' || b[i] == b'\r' {
            lines.push(&b[start..i]);
            if b[i] == b'\r' && b.get(i + 1) == Some(&b'\n') {
                i += 1;
            }
            start = i + 1;
        }
        i += 1;
    }
    if start < b.len() {
        lines.push(&b[start..]);
    }
    let mut events = Vec::new();
    let (mut data, mut has_data, mut event): (String, bool, Option<String>) = (String::new(), false, None);
    let mut dispatch = |data: &mut String, has_data: &mut bool, event: &mut Option<String>| {
        let name = event.take();
        if std::mem::replace(has_data, false) {
            events.push(SseEvent { event: name, data: std::mem::take(data) });
        }
    };
    for line in lines {
        if line.is_empty() {
            dispatch(&mut data, &mut has_data, &mut event);
            continue;
        }
        if line[0] == b':' {
            continue;
        }
        let (name, value) = match line.iter().position(|&c| c == b':') {
            Some(p) => (&line[..p], line[p + 1..].strip_prefix(b" ").unwrap_or(&line[p + 1..])),
            None => (line, &b""[..]),
        };
        let value = String::from_utf8_lossy(value);
        match name {
            b"data" => {
                if has_data {
                    data.push('\n');
                }
                data.push_str(&value);
                has_data = true;
            }
            b"event" => event = Some(value.into_owned()),
            _ => {}
        }
    }
    dispatch(&mut data, &mut has_data, &mut event);
    events
}

fn parse(chunks: &[&[u8]]) -> Vec<SseEvent> {
    let mut p = SseParser::new();
    let mut out: Vec<SseEvent> = chunks.iter().flat_map(|c| p.push(c)).collect();
    out.extend(p.finish());
    out
}

/// Cut offsets: a few random ones (repeats give empty chunks), every byte, or around each CR/LF.
fn cuts(rng: &mut Rng, input: &[u8]) -> Vec<usize> {
    let n = input.len();
    let mut cuts: Vec<usize> = match rng.below(8) {
        0 if n <= 64 => (0..=n).collect(),
        1 => {
            input.iter().enumerate().filter(|(_, &c)| c == b'\r' || c == b'\n').map(|(i, _)| i + rng.below(2)).collect()
        }
        _ => (0..1 + rng.below(8)).map(|_| rng.below(n + 1)).collect(),
    };
    if rng.below(4) == 0 {
        // Empty chunks: a cut repeated, and at the very ends.
        let extra = [0, n, cuts.first().copied().unwrap_or(0)];
        cuts.extend(extra);
    }
    cuts.sort_unstable();
    cuts
}

fn split<'a>(input: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut out = Vec::with_capacity(cuts.len() + 1);
    let mut at = 0;
    for &c in cuts {
        let c = c.min(input.len()).max(at);
        out.push(&input[at..c]);
        at = c;
    }
    out.push(&input[at..]);
    out
}

fn check(input: &[u8], cuts: &[usize]) -> Result<usize, String> {
    let want = reference(input);
    let whole = parse(&[input]);
    if whole != want {
        return Err(format!("pushed whole: {whole:?}\nreference:    {want:?}"));
    }
    let pieces = split(input, cuts);
    let got = parse(&pieces);
    if got != want {
        return Err(format!("pushed in {} pieces {cuts:?}: {got:?}\nwhole: {want:?}", pieces.len()));
    }
    Ok(want.len())
}

fn run_one(input: &[u8], cuts: &[usize], what: &str) -> Result<usize, String> {
    catch_unwind(AssertUnwindSafe(|| check(input, cuts)))
        .unwrap_or_else(|p| {
            let msg = p.downcast_ref::<String>().map(String::as_str).or(p.downcast_ref::<&str>().copied());
            Err(format!("panic: {}", msg.unwrap_or("?")))
        })
        .map_err(|e| {
            let path = save_crasher(input, cuts);
            format!(
                "{what}: {e}\ninput {:?}\nsaved to {} (move it to tests/fuzz-regressions/sse/ once fixed)",
                String::from_utf8_lossy(&input[..input.len().min(300)]),
                path.display()
            )
        })
}

fn save_crasher(input: &[u8], cuts: &[usize]) -> PathBuf {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target/fuzz-crashers/sse"));
    let _ = std::fs::create_dir_all(&dir);
    let hash = input.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
    let path = dir.join(format!("{hash:016x}.sse"));
    let _ = std::fs::write(&path, input);
    let list: Vec<String> = cuts.iter().map(|c| c.to_string()).collect();
    let _ = std::fs::write(path.with_extension("cuts"), list.join(" "));
    path
}

#[test]
fn regressions_are_replayed() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fuzz-regressions/sse");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "sse")).collect())
        .unwrap_or_default();
    files.sort();
    assert!(!files.is_empty(), "tests/fuzz-regressions/sse/ holds the crashers found so far");
    for f in files {
        let input = std::fs::read(&f).unwrap();
        let cuts: Vec<usize> = std::fs::read_to_string(f.with_extension("cuts"))
            .unwrap_or_default()
            .split_whitespace()
            .map(|c| c.parse().unwrap())
            .collect();
        // The recorded cuts, then one byte at a time.
        run_one(&input, &cuts, &f.display().to_string()).unwrap_or_else(|e| panic!("{e}"));
        let every: Vec<usize> = (0..=input.len()).collect();
        run_one(&input, &every, &f.display().to_string()).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn sse_parser_survives_mutated_streams_in_random_pieces() {
    let seeds = seeds();
    let n = iterations(DEFAULT_ITERATIONS);
    let mut rng = Rng(seed(0xD1B5_4A32_D192_ED03));
    let (mut count, mut events) = (0u64, 0usize);
    let started = Instant::now();
    for s in &seeds {
        events += run_one(s, &[], "seed").unwrap_or_else(|e| panic!("{e}"));
        count += 1;
    }
    while count < n {
        let seed = rng.pick(&seeds);
        let input = mutate(&mut rng, seed);
        let cuts = cuts(&mut rng, &input);
        events += run_one(&input, &cuts, &format!("input #{count}")).unwrap_or_else(|e| panic!("{e}"));
        count += 1;
    }
    println!("fuzz_sse: {count} inputs, {events} events, in {:.1?}", started.elapsed());
    assert_eq!(count, n.max(seeds.len() as u64));
}

fn best_of_5(f: &dyn Fn()) -> Duration {
    (0..5)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap()
}

/// One long event arriving in 64-byte chunks, many tiny events, and long runs of line ends: 16× the
/// bytes must cost well under 4 × 16 the time (rescanning the buffer on every chunk would be 256×).
#[test]
fn sse_parser_time_is_linear() {
    type Shape = (&'static str, fn(usize) -> Vec<u8>);
    let shapes: [Shape; 4] = [
        ("one long line", |n| [b"data: ".to_vec(), vec![b'x'; n], b"\n\n".to_vec()].concat()),
        ("many small events", |n| b"data: {\"a\":1}\r\n\r\n".repeat(n / 17)),
        ("bare CRs", |n| b"\r".repeat(n)),
        ("one long comment", |n| [b":".to_vec(), vec![b' '; n], b"\n".to_vec()].concat()),
    ];
    let small = 16 * 1024;
    for (name, make) in shapes {
        let time = |n: usize| {
            let input = make(n);
            best_of_5(&|| {
                let mut p = SseParser::new();
                let mut events = 0;
                for c in input.chunks(64) {
                    events += p.push(std::hint::black_box(c)).len();
                }
                std::hint::black_box((events, p.finish()));
            })
        };
        let (ta, tb) = (time(small), time(16 * small));
        let ratio = tb.as_secs_f64() / ta.as_secs_f64().max(0.001);
        println!("{name}: {ta:?} for {} KiB, {tb:?} for {} KiB (×{ratio:.1})", small / 1024, 16 * small / 1024);
        assert!(ratio < 64.0, "the SSE parser looks superlinear on {name}: {ta:?} -> {tb:?} for 16x the bytes");
    }
}

/// Found by this fuzzer: an empty chunk between a `\r` and its `\n` made them two line ends (an
/// extra blank line, so one event became two).
#[test]
fn an_empty_chunk_between_cr_and_lf_is_still_one_line_end() {
    let whole = parse(&[b"data: a\r\ndata: b\r\n\r\n"]);
    assert_eq!(whole, [SseEvent { event: None, data: "a\nb".into() }]);
    assert_eq!(parse(&[b"data: a\r", b"", b"\ndata: b\r\n\r\n"]), whole);
    assert_eq!(parse(&[b"data: a\r", b"", b"", b"\n", b"data: b\r", b"", b"\n\r", b"", b"\n"]), whole);
}
