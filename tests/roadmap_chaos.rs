//! Chaos: runs of `generate` over a fake Gemini that, request by request, answers right or with one of the faults
//! the loop must survive (server errors, per-minute quotas, 400s, cut and broken answers, malformed JSON, wrong week
//! numbers, short weeks, empty candidates, safety stops, a failing model lookup), picked from a seed. Whatever
//! happens, the result must hold: a complete roadmap, or a typed error whose `partial` keeps every finished week and
//! finishes with `resumeFrom`. Answers take a few polls to arrive (varied by request), so parallel batches interleave.
//!
//! 256 fixed cases by default (`CHAOS_CASES=100000` draws fresh ones for a long hunt, best with `--release`). A
//! failure prints the `Case` it shrank to, what each run asked and which fault each request got; paste the case
//! into `replay` to see more.
//! Bugs found this way are reproduced on their own at the end of this file.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::rc::Rc;
use std::task::Poll;

use gemini_roadmap::gemini::replay::ReplayBody;
use gemini_roadmap::gemini::transport::Body;
use gemini_roadmap::gemini::Transport;
use gemini_roadmap::roadmap::fallback::fallback_week;
use proptest::prelude::{any, prop, proptest, ProptestConfig, Strategy as _, TestCaseError};
use proptest::test_runner::RngSeed;
use serde_json::{json, Value};
use support::*;

/// splitmix64 of `seed` and `n`: every choice of a run comes from it.
fn mix(seed: u64, n: u64) -> u64 {
    let mut z = seed ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15).wrapping_add(0x632b_e59b_d9b4_e5f5);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Good,
    /// 500, 502, 503 or 504 with Google's error JSON.
    Server(u16),
    /// A per-minute 429 naming a wait of a few milliseconds.
    Quota,
    /// A 400 no retry helps.
    BadRequest,
    /// The 400 Gemini gives a schema with too many item counts.
    SchemaRefused,
    /// `send` fails: connection reset.
    NetworkFail,
    /// The answer cut mid-JSON at `MAX_TOKENS`.
    Cut,
    /// The body breaks off mid-event (streamed) or mid-body.
    Broken,
    /// Prose, no JSON.
    Prose,
    /// The JSON with prose before and after.
    ProseAround,
    /// The JSON in a Markdown fence.
    Fenced,
    /// The JSON with trailing commas.
    TrailingCommas,
    /// The right weeks numbered from 1, or 20 too high.
    Renumbered,
    /// The weeks one earlier than asked for.
    Shifted,
    /// A week of 6 days.
    SixDays,
    /// No candidates at all.
    NoCandidates,
    /// Some of the answer, then a `SAFETY` stop.
    Safety,
}

const FAULTS: [(Fault, u64); 16] = [
    (Fault::Server(503), 4),
    (Fault::Quota, 2),
    (Fault::BadRequest, 1),
    (Fault::SchemaRefused, 1),
    (Fault::NetworkFail, 1),
    (Fault::Cut, 3),
    (Fault::Broken, 3),
    (Fault::Prose, 2),
    (Fault::ProseAround, 2),
    (Fault::Fenced, 2),
    (Fault::TrailingCommas, 2),
    (Fault::Renumbered, 2),
    (Fault::Shifted, 2),
    (Fault::SixDays, 2),
    (Fault::NoCandidates, 2),
    (Fault::Safety, 1),
];

/// The fault of request `n` (1-based) of a transport seeded `seed`, `pct` percent of requests being faulty.
fn pick(seed: u64, pct: u64, n: usize, task: Task) -> Fault {
    let r = mix(seed, n as u64);
    if r % 100 >= pct {
        return Fault::Good;
    }
    let total: u64 = FAULTS.iter().map(|f| f.1).sum();
    let mut k = (r >> 8) % total;
    let mut fault = Fault::Good;
    for (f, w) in FAULTS {
        if k < w {
            fault = f;
            break;
        }
        k -= w;
    }
    let code = [500, 502, 503, 504][((r >> 20) % 4) as usize];
    match (task, fault) {
        // The model lookup fails only transiently.
        (Task::ModelInfo, _) => [Fault::Server(code), Fault::Quota, Fault::NetworkFail][((r >> 24) % 3) as usize],
        (_, Fault::Server(_)) => Fault::Server(code),
        (Task::Weeks { first: 1, .. }, Fault::Shifted) => Fault::Renumbered,
        (Task::Weeks { .. }, f) => f,
        (_, Fault::Renumbered | Fault::Shifted | Fault::SixDays) => Fault::Good,
        (_, f) => f,
    }
}

/// The right answer's JSON for a generate request.
fn right_value(task: Task) -> Value {
    match task {
        Task::ModelInfo => unreachable!(),
        Task::Outline { total } => outline_value(total),
        Task::Weeks { first, last, total } => weeks_value(first, last, total),
        Task::Days { week, first, last, total } => days_value(week, first, last, total),
    }
}

/// A comma before every closing bracket that follows a value on the line before.
fn trailing_commas(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let t = line.trim_start();
        if (t.starts_with('}') || t.starts_with(']')) && !out.ends_with("{\n") && !out.ends_with("[\n") {
            out.pop();
            out.push_str(",\n");
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn cut_at(text: &str, r: u64) -> String {
    let n = text.chars().count();
    text.chars().take(1 + (r as usize) % (n - 1)).collect()
}

/// A status and Google's error JSON.
fn server_error(code: u16) -> Scripted {
    let status = match code {
        500 => "INTERNAL",
        502 | 503 => "UNAVAILABLE",
        _ => "DEADLINE_EXCEEDED",
    };
    Scripted::status(code, error_body(code, status, "The model is overloaded. Please try again later.", json!([])))
}

/// What Gemini answers to `req` under `fault`; `r` picks the details (where to cut, how to renumber).
fn respond(req: &HttpRequest, task: Task, fault: Fault, r: u64) -> Scripted {
    let stream = req.url.contains("alt=sse");
    let mut v = match task {
        Task::ModelInfo => Value::Null,
        t => right_value(t),
    };
    match fault {
        Fault::Good => good(req),
        Fault::Server(code) => server_error(code),
        Fault::Quota => rate_limited("0.005s"),
        Fault::BadRequest => Scripted::status(400, error_body(400, "INVALID_ARGUMENT", "bad", json!([]))),
        Fault::SchemaRefused => Scripted::status(
            400,
            error_body(400, "INVALID_ARGUMENT", "Request contains an invalid argument.", json!([])),
        ),
        Fault::NetworkFail => Scripted::Fail(Error::Network { message: "connection reset".into() }),
        Fault::Cut => answer(req, &cut_at(&pretty(&v), r), "MAX_TOKENS"),
        Fault::Broken => {
            let full = pretty(&v);
            if stream {
                let Scripted::Respond { chunks, .. } =
                    Scripted::sse(&sse_events(&full, Some("STOP"), prompt_tokens(req), 5))
                else {
                    unreachable!()
                };
                let k = (r % chunks.len() as u64) as usize;
                let mut kept: Vec<Vec<u8>> = chunks[..k].to_vec();
                kept.push(chunks[k][..chunks[k].len() / 2].to_vec());
                if r & 256 == 0 {
                    Scripted::Respond { status: 200, chunks: kept }
                } else {
                    Scripted::Broken { status: 200, chunks: kept, error: Error::Network { message: "reset".into() } }
                }
            } else {
                let whole = body(&full, "STOP", prompt_tokens(req)).into_bytes();
                let half = whole[..whole.len() / 2].to_vec();
                Scripted::Broken { status: 200, chunks: vec![half], error: Error::Network { message: "reset".into() } }
            }
        }
        Fault::Prose => answer(req, "I am sorry, I cannot write that plan as JSON right now.", "STOP"),
        Fault::ProseAround => {
            answer(req, &format!("Sure! Here is the plan:\n{}\nLet me know if you need more.", pretty(&v)), "STOP")
        }
        Fault::Fenced => answer(req, &format!("```json\n{}\n```", pretty(&v)), "STOP"),
        Fault::TrailingCommas => answer(req, &trailing_commas(&pretty(&v)), "STOP"),
        Fault::Renumbered => {
            // From 1 only where that is off: numbered from 1, weeks 1-3 are right.
            let from_one = r % 2 == 0 && !matches!(task, Task::Weeks { first: 1, .. });
            for (i, w) in v["weeks"].as_array_mut().unwrap().iter_mut().enumerate() {
                let n = w["week"].as_u64().unwrap();
                w["week"] = json!(if from_one { i as u64 + 1 } else { n + 20 });
            }
            answer(req, &pretty(&v), "STOP")
        }
        Fault::Shifted => {
            let Task::Weeks { first, last, total } = task else { unreachable!() };
            answer(req, &pretty(&weeks_value(first - 1, last - 1, total)), "STOP")
        }
        Fault::SixDays => {
            let weeks = v["weeks"].as_array_mut().unwrap();
            let i = (r as usize) % weeks.len();
            weeks[i]["days"].as_array_mut().unwrap().pop();
            answer(req, &pretty(&v), "STOP")
        }
        Fault::NoCandidates => {
            let event = json!({"usageMetadata": usage(prompt_tokens(req), 0), "modelVersion": "gemini-2.5-flash"});
            if stream {
                Scripted::sse(&[event.to_string()])
            } else {
                Scripted::ok(event.to_string())
            }
        }
        Fault::Safety => answer(req, &cut_at(&pretty(&v), r), "SAFETY"),
    }
}

/// Token counts as the crate adds them up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Tokens {
    prompt: u64,
    output: u64,
    thoughts: u64,
    total: u64,
}

impl Tokens {
    fn of_usage(u: &RoadmapUsage) -> Self {
        Tokens { prompt: u.prompt_tokens, output: u.output_tokens, thoughts: u.thoughts_tokens, total: u.total_tokens }
    }

    fn of_json(v: &Value) -> Option<Self> {
        let u = v.get("usageMetadata")?;
        let n = |k: &str| u[k].as_u64().unwrap_or(0);
        Some(Tokens {
            prompt: n("promptTokenCount"),
            output: n("candidatesTokenCount"),
            thoughts: n("thoughtsTokenCount"),
            total: n("totalTokenCount"),
        })
    }

    fn add(&mut self, o: Tokens) {
        self.prompt += o.prompt;
        self.output += o.output;
        self.thoughts += o.thoughts;
        self.total += o.total;
    }
}

/// What the usageMetadata of a scripted answer adds to the run's usage: nothing for an error status or a body that
/// breaks off (not streamed); the last readable event's counts (running totals) for a stream.
fn served_tokens(req: &HttpRequest, s: &Scripted) -> Tokens {
    let (status, chunks, broken) = match s {
        Scripted::Respond { status, chunks } => (*status, chunks, false),
        Scripted::Broken { status, chunks, .. } => (*status, chunks, true),
        Scripted::Fail(_) => return Tokens::default(),
    };
    if !(200..300).contains(&status) || req.method == "GET" {
        return Tokens::default();
    }
    let bytes: Vec<u8> = chunks.concat();
    let text = String::from_utf8_lossy(&bytes);
    if !req.url.contains("alt=sse") {
        return match broken {
            true => Tokens::default(),
            false => serde_json::from_str(&text).ok().and_then(|v: Value| Tokens::of_json(&v)).unwrap_or_default(),
        };
    }
    let mut last = Tokens::default();
    for event in text.split("\r\n\r\n") {
        let data = event.strip_prefix("data: ").unwrap_or(event);
        if let Some(t) = serde_json::from_str::<Value>(data).ok().and_then(|v| Tokens::of_json(&v)) {
            last = t;
        }
    }
    last
}

/// Everything the fake served in a run.
#[derive(Debug, Default)]
struct Served {
    tokens: Tokens,
    /// Each request's task and fault, in order.
    log: Vec<(Task, Fault)>,
}

/// Returns `Pending` `n` times, waking itself each time.
fn polls(n: u64) -> impl Future<Output = ()> {
    let mut left = n;
    poll_fn(move |cx| {
        if left == 0 {
            return Poll::Ready(());
        }
        left -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
}

/// The fake Gemini of one run: picks each request's fault from the seed, and takes a few polls to answer.
struct Chaos {
    inner: ReplayTransport,
    seed: u64,
    served: Rc<RefCell<Served>>,
    sleeps: Cell<u32>,
    /// `(true, n)` when request `n` was sent, `(false, n)` when its body was read to the end (or failed).
    trace: Rc<RefCell<Vec<(bool, usize)>>>,
    /// Per-minute quota waits under way, and the requests sent during one.
    quota_waits: Rc<Cell<u32>>,
    sent_in_quota_wait: RefCell<Vec<usize>>,
}

/// The wait a per-minute 429 of [`Fault::Quota`] asks for, with the jitter `random` 0.5 adds.
const QUOTA_WAIT_MS: u64 = 5 + 125;

/// Ends a quota wait however it ends (a wait cut short by the run's stop is dropped).
struct QuotaWait(Rc<Cell<u32>>);

impl Drop for QuotaWait {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}

struct ChaosBody {
    inner: ReplayBody,
    per_chunk: u64,
    n: usize,
    trace: Rc<RefCell<Vec<(bool, usize)>>>,
}

impl Body for ChaosBody {
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, Error> {
        polls(self.per_chunk).await;
        let chunk = self.inner.next_chunk().await;
        if !matches!(chunk, Ok(Some(_))) {
            self.trace.borrow_mut().push((false, self.n));
        }
        chunk
    }
}

impl Chaos {
    fn new(seed: u64, pct: u64) -> Self {
        let served = Rc::new(RefCell::new(Served::default()));
        let log = served.clone();
        let responder: Responder = Box::new(move |req, n| {
            let task = task_of(req);
            let fault = pick(seed, pct, n, task);
            let s = respond(req, task, fault, mix(seed ^ 0x5eed, n as u64));
            let mut served = log.borrow_mut();
            let tokens = served_tokens(req, &s);
            served.tokens.add(tokens);
            served.log.push((task, fault));
            s
        });
        let inner = ReplayTransport::with_responder(vec![], responder);
        Chaos {
            inner,
            seed,
            served,
            sleeps: Cell::new(0),
            trace: Rc::default(),
            quota_waits: Rc::default(),
            sent_in_quota_wait: RefCell::default(),
        }
    }

    fn requests(&self) -> u64 {
        self.inner.request_count() as u64
    }

    fn faults(&self) -> Vec<Fault> {
        self.served.borrow().log.iter().map(|l| l.1).collect()
    }

    fn asked(&self) -> Vec<String> {
        asked(&self.inner)
    }
}

impl Transport for Chaos {
    type Body = ChaosBody;

    async fn send(&self, req: &HttpRequest) -> Result<(u16, ChaosBody), Error> {
        let answer = self.inner.send(req).await;
        let n = self.inner.request_count();
        self.trace.borrow_mut().push((true, n));
        if self.quota_waits.get() > 0 {
            self.sent_in_quota_wait.borrow_mut().push(n);
        }
        let r = mix(self.seed ^ 0x7111, n as u64);
        polls(r % 5).await;
        let (status, inner) = answer.inspect_err(|_| self.trace.borrow_mut().push((false, n)))?;
        Ok((status, ChaosBody { inner, per_chunk: (r >> 8) % 3, n, trace: self.trace.clone() }))
    }

    async fn sleep(&self, ms: u64) -> Result<(), Error> {
        assert!(ms <= 35_000, "a wait of {ms} ms");
        self.inner.sleep(ms).await?;
        self.sleeps.set(self.sleeps.get() + 1);
        let _quota = (ms == QUOTA_WAIT_MS).then(|| {
            self.quota_waits.set(self.quota_waits.get() + 1);
            QuotaWait(self.quota_waits.clone())
        });
        polls(mix(self.seed ^ 0x51ee, self.sleeps.get() as u64) % 3).await;
        Ok(())
    }

    fn is_aborted(&self) -> bool {
        false
    }

    fn random(&self) -> f64 {
        0.5
    }

    fn log(&self, line: &str) {
        self.inner.log(line)
    }
}

/// One chaos scenario: the options and how faulty the fake is.
#[derive(Debug, Clone)]
struct Case {
    seed: u64,
    weeks: u32,
    batch_weeks: u32,
    full_history: bool,
    parallel: bool,
    concurrency: u32,
    stream: bool,
    max_retries: u32,
    /// Percent of requests answered with a fault.
    pct: u64,
    /// After a failure, run again with faults from its `partial` (up to twice) before the clean resume.
    chain: bool,
}

impl Case {
    fn options(&self, resume_from: Option<Roadmap>) -> RoadmapOptions {
        RoadmapOptions {
            batch_weeks: Some(self.batch_weeks as f64),
            history: Some(if self.full_history { HistoryMode::Full } else { HistoryMode::Windowed }),
            strategy: Some(if self.parallel { Strategy::Parallel } else { Strategy::Sequential }),
            concurrency: Some(self.concurrency as f64),
            stream: Some(self.stream),
            max_retries: Some(self.max_retries as f64),
            resume_from,
            ..opts(self.weeks)
        }
    }
}

fn case() -> impl proptest::strategy::Strategy<Value = Case> {
    (
        any::<u64>(),
        1..=20u32,
        1..=4u32,
        any::<bool>(),
        any::<bool>(),
        1..=6u32,
        any::<bool>(),
        0..=3u32,
        prop::sample::select(vec![0u64, 5, 15, 30, 50]),
        any::<bool>(),
    )
        .prop_map(|(seed, weeks, batch_weeks, full, parallel, concurrency, stream, max_retries, pct, chain)| Case {
            seed,
            weeks,
            batch_weeks,
            // `history: "full"` cannot be combined with the parallel strategy (INVALID_INPUT).
            full_history: full && !parallel,
            parallel,
            concurrency,
            stream,
            max_retries,
            pct,
            chain,
        })
}

macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

type Check = Result<(), String>;

fn chaos_run(t: &Chaos, o: &RoadmapOptions) -> (Result<Roadmap, RoadmapError>, Vec<ProgressEvent>) {
    let mut events = Vec::new();
    let r = block_on(generate(t, o, &mut |e| events.push(e.clone())));
    (r, events)
}

/// The week whose content `w` holds, as the fake writes weeks (days titled `W{n}D{d} title`).
fn content_of(w: &Week) -> Option<u32> {
    w.days.first()?.title.strip_prefix('W')?.split_once('D')?.0.parse().ok()
}

/// A finished week as the fake writes it, or a placeholder built from the outline, named by a warning. A week's
/// content is its own week's, unless the plan had not the fake's title for the week the content is of: an answer
/// numbered off is renumbered then, as nothing tells it is another week's.
fn check_week(w: &Week, rm: &Roadmap) -> Check {
    let n = w.week;
    ensure!(
        w.days.iter().map(|d| d.day).collect::<Vec<_>>() == (1..=7).collect::<Vec<_>>(),
        "week {n}: days {:?}",
        w.days.iter().map(|d| d.day).collect::<Vec<_>>()
    );
    for d in &w.days {
        ensure!(!d.title.trim().is_empty(), "week {n} day {}: no title", d.day);
        ensure!(d.tasks.iter().any(|t| !t.trim().is_empty()), "week {n} day {}: no task", d.day);
    }
    ensure!(!w.title.trim().is_empty(), "week {n}: no title");
    let planned = |m: u32| rm.outline.get(m as usize - 1).map(|o| o.title.as_str());
    if w.fallback {
        let prefix = format!("Week {n}: placeholder");
        ensure!(rm.warnings.iter().any(|m| m.starts_with(&prefix)), "placeholder week {n} without a warning");
        if let Some(o) = rm.outline.get(n as usize - 1) {
            ensure!(*w == fallback_week(o, 2.0), "week {n}: not the outline's placeholder");
        }
        return Ok(());
    }
    let Some(m) = content_of(w).filter(|m| (1..=rm.total_weeks).contains(m)) else {
        return Err(format!("week {n}: days of no week {:?}", w.days[0].title));
    };
    for d in &w.days {
        ensure!(d.title == format!("W{m}D{} title", d.day), "week {n} day {}: days of two weeks {:?}", d.day, d.title);
    }
    // The fake's title, or the plan's for a week written in parts (their answers hold only days).
    ensure!(w.title == week_title(m) || planned(n) == Some(&w.title), "week {n} is titled {:?}", w.title);
    if m != n {
        let known = planned(m).is_some_and(|t| t == week_title(m));
        ensure!(!known, "week {n} holds week {m}, whose planned title {:?} it carries", week_title(m));
    }
    Ok(())
}

/// The weeks of a roadmap (complete or partial): in order, in range, each once and each valid; placeholder
/// warnings name exactly the placeholder weeks.
fn check_weeks(rm: &Roadmap, total: u32) -> Check {
    ensure!(rm.total_weeks == total, "totalWeeks {}", rm.total_weeks);
    let numbers: Vec<u32> = rm.weeks.iter().map(|w| w.week).collect();
    ensure!(numbers.windows(2).all(|p| p[0] < p[1]), "weeks out of order or repeated: {numbers:?}");
    ensure!(numbers.iter().all(|&w| (1..=total).contains(&w)), "weeks out of range: {numbers:?}");
    for w in &rm.weeks {
        check_week(w, rm)?;
    }
    // No title twice, but for weeks renumbered from another's content (see `check_week`).
    let own: Vec<&Week> = rm.weeks.iter().filter(|w| w.fallback || content_of(w) == Some(w.week)).collect();
    let mut titles: Vec<&str> = own.iter().map(|w| w.title.as_str()).collect();
    titles.sort_unstable();
    titles.dedup();
    ensure!(titles.len() == own.len(), "a week title twice");
    let mut named: Vec<u32> = rm
        .warnings
        .iter()
        .filter_map(|m| m.strip_prefix("Week ")?.split_once(": placeholder")?.0.parse().ok())
        .collect();
    named.sort_unstable();
    let fallbacks: Vec<u32> = rm.weeks.iter().filter(|w| w.fallback).map(|w| w.week).collect();
    ensure!(named == fallbacks, "placeholder warnings for weeks {named:?}, placeholders {fallbacks:?}");
    if !rm.outline.is_empty() {
        ensure!(
            rm.outline.iter().map(|o| o.week).collect::<Vec<_>>() == (1..=total).collect::<Vec<_>>(),
            "outline weeks {:?}",
            rm.outline.iter().map(|o| o.week).collect::<Vec<_>>()
        );
    }
    Ok(())
}

/// Batch reports in plan order, none overlapping another, each at most `batchWeeks` long; statuses that say what
/// their weeks are. With `complete`, they cover weeks 1..=total without gaps.
fn check_batches(rm: &Roadmap, c: &Case, complete: bool) -> Check {
    let spans: Vec<(u32, u32)> = rm.batches.iter().map(|b| (b.start_week, b.end_week)).collect();
    let mut next = 1;
    for b in &rm.batches {
        let (s, e) = (b.start_week, b.end_week);
        ensure!(s <= e && e <= c.weeks, "batch {s}-{e} out of range: {spans:?}");
        ensure!(e - s < c.batch_weeks, "batch {s}-{e} longer than batchWeeks: {spans:?}");
        ensure!(if complete { s == next } else { s >= next }, "batches with a gap or overlap: {spans:?}");
        next = e + 1;
        let weeks: Vec<&Week> = rm.weeks.iter().filter(|w| (s..=e).contains(&w.week)).collect();
        let any_fallback = weeks.iter().any(|w| w.fallback);
        match b.status {
            BatchStatus::Fallback => ensure!(any_fallback, "batch {s}-{e} is fallback without a placeholder"),
            BatchStatus::Failed => ensure!(!complete, "a failed batch {s}-{e} in a complete roadmap"),
            BatchStatus::Ok | BatchStatus::Recovered => {
                ensure!(!any_fallback, "batch {s}-{e} is {:?} with a placeholder", b.status);
                ensure!(weeks.len() as u32 == e - s + 1, "batch {s}-{e} is {:?} without all its weeks", b.status);
            }
            BatchStatus::Resumed => {
                ensure!(weeks.len() as u32 == e - s + 1, "resumed batch {s}-{e} without all its weeks");
                ensure!(!any_fallback, "resumed batch {s}-{e} with a placeholder");
            }
        }
        // A batch begun (`batch-start`) and stopped by the run's end before its first request (in a quota wait, say)
        // is reported failed with no attempt; any other made at least one.
        if !matches!(b.status, BatchStatus::Resumed | BatchStatus::Failed) {
            ensure!(b.attempts >= 1, "batch {s}-{e} with no attempt");
        }
    }
    if complete {
        ensure!(next == c.weeks + 1, "batches end at week {}: {spans:?}", next - 1);
    }
    Ok(())
}

/// Usage: every request the fake saw, and the tokens it served, on top of those of the roadmap resumed from.
fn check_usage(u: &RoadmapUsage, base: Option<&Roadmap>, t: &Chaos) -> Check {
    let before = base.map(|b| b.usage).unwrap_or_default();
    ensure!(
        u.requests == before.requests + t.requests(),
        "usage.requests {} but {} + {} requests were sent",
        u.requests,
        before.requests,
        t.requests()
    );
    let mut want = Tokens::of_usage(&before);
    want.add(t.served.borrow().tokens);
    ensure!(Tokens::of_usage(u) == want, "usage tokens {:?}, served {want:?}", Tokens::of_usage(u));
    Ok(())
}

/// Events, whatever the outcome: batches start once and end once after they start, weeks are announced once
/// inside a started batch, retries are attempt 2 or later, `done` is last and only on success.
fn check_events(events: &[ProgressEvent], ok: bool, total: u32) -> Check {
    let mut started: Vec<(u32, u32, u32)> = Vec::new();
    let mut done: Vec<u32> = Vec::new();
    let mut weeks: Vec<u32> = Vec::new();
    let mut totals: Vec<u32> = Vec::new();
    let mut outlines = 0;
    let mut requests = 0;
    for (i, e) in events.iter().enumerate() {
        match e {
            ProgressEvent::Outline { weeks: o, .. } => {
                outlines += 1;
                ensure!(started.is_empty(), "the outline announced after a batch started");
                ensure!(o.len() as u32 == total, "an outline of {} weeks", o.len());
            }
            ProgressEvent::BatchStart { batch, total_batches, start_week, end_week } => {
                ensure!(!started.iter().any(|s| s.0 == *batch), "batch {batch} started twice");
                ensure!(*batch >= 1 && batch <= total_batches, "batch {batch} of {total_batches}");
                ensure!(start_week <= end_week && *end_week <= total, "batch {batch}: weeks {start_week}-{end_week}");
                started.push((*batch, *start_week, *end_week));
                totals.push(*total_batches);
            }
            ProgressEvent::Week { week } => {
                let n = week.week;
                ensure!(!weeks.contains(&n), "week {n} announced twice");
                weeks.push(n);
                let open = started.iter().any(|&(b, s, e)| (s..=e).contains(&n) && !done.contains(&b));
                ensure!(open, "week {n} announced outside a running batch (started {started:?}, done {done:?})");
            }
            ProgressEvent::BatchDone { batch, total_batches, usage, .. } => {
                ensure!(started.iter().any(|s| s.0 == *batch), "batch {batch} done before it started");
                ensure!(!done.contains(batch), "batch {batch} done twice");
                ensure!(usage.requests >= requests, "batch-done usage went down");
                requests = usage.requests;
                done.push(*batch);
                totals.push(*total_batches);
            }
            ProgressEvent::Retry { attempt, batch, .. } => {
                ensure!(*attempt >= 2, "retry event with attempt {attempt}");
                let known = *batch == 0 || started.iter().any(|s| s.0 == *batch);
                ensure!(known, "retry of batch {batch} before it started");
            }
            ProgressEvent::Warning { message } => ensure!(!message.is_empty(), "an empty warning"),
            ProgressEvent::Done { .. } => {
                ensure!(ok, "done on a failed run");
                ensure!(i + 1 == events.len(), "an event after done");
            }
        }
    }
    ensure!(outlines <= 1, "{outlines} outline events");
    totals.dedup();
    ensure!(totals.len() <= 1, "totalBatches changed: {totals:?}");
    if ok {
        ensure!(matches!(events.last(), Some(ProgressEvent::Done { .. })), "a successful run without done last");
        let mut s: Vec<u32> = started.iter().map(|s| s.0).collect();
        s.sort_unstable();
        done.sort_unstable();
        let all: Vec<u32> = (1..=totals.first().copied().unwrap_or(0)).collect();
        ensure!(s == all && done == all, "batches started {s:?}, done {done:?}, of {all:?}");
    }
    Ok(())
}

fn announced(events: &[ProgressEvent]) -> Vec<&Week> {
    events
        .iter()
        .filter_map(|e| match e {
            ProgressEvent::Week { week } => Some(week),
            _ => None,
        })
        .collect()
}

/// The weeks of `rm` that came from `base` as they were (a resumed run does not announce them).
fn from_base(w: &Week, base: Option<&Roadmap>) -> bool {
    base.is_some_and(|b| b.weeks.iter().any(|x| x == w))
}

/// Announced weeks are the result's, unchanged; the result's other weeks are the resumed roadmap's.
fn check_announced(rm: &Roadmap, events: &[ProgressEvent], base: Option<&Roadmap>) -> Check {
    for w in announced(events) {
        let kept = rm.weeks.iter().find(|x| x.week == w.week);
        ensure!(kept == Some(w), "week {} announced but {}", w.week, if kept.is_some() { "changed" } else { "lost" });
    }
    for w in &rm.weeks {
        let said = announced(events).iter().any(|x| x.week == w.week);
        ensure!(said || from_base(w, base), "week {} neither announced nor resumed", w.week);
    }
    if let Some(b) = base {
        for w in b.weeks.iter().filter(|w| !w.fallback) {
            ensure!(rm.weeks.contains(w), "resumed week {} lost or changed", w.week);
        }
    }
    Ok(())
}

fn check_ok(rm: &Roadmap, events: &[ProgressEvent], base: Option<&Roadmap>, t: &Chaos, c: &Case) -> Check {
    check_weeks(rm, c.weeks)?;
    ensure!(
        rm.weeks.iter().map(|w| w.week).collect::<Vec<_>>() == (1..=c.weeks).collect::<Vec<_>>(),
        "weeks {:?}",
        rm.weeks.iter().map(|w| w.week).collect::<Vec<_>>()
    );
    ensure!(rm.outline.len() as u32 == c.weeks, "an outline of {} weeks", rm.outline.len());
    check_batches(rm, c, true)?;
    check_usage(&rm.usage, base, t)?;
    check_announced(rm, events, base)?;
    let fallbacks = rm.weeks.iter().filter(|w| w.fallback).count() as u32;
    let Some(ProgressEvent::Done { total_weeks, fallback_weeks, usage }) = events.last() else { unreachable!() };
    ensure!(*total_weeks == c.weeks && *fallback_weeks == fallbacks, "done says {total_weeks}, {fallback_weeks}");
    ensure!(*usage == rm.usage, "done's usage {usage:?}, the roadmap's {:?}", rm.usage);
    // Each batch generated in this run is the one its batch-start named, in order.
    let generated: Vec<(u32, u32)> =
        rm.batches.iter().filter(|b| b.status != BatchStatus::Resumed).map(|b| (b.start_week, b.end_week)).collect();
    let started = batch_starts(events);
    let mut sorted = started.clone();
    sorted.sort_unstable();
    ensure!(sorted == generated, "batch-start ranges {started:?}, reports {generated:?}");
    // Warnings: those of the resumed roadmap (bar its placeholders' when they were written again), then this run's.
    let mut said: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            ProgressEvent::Warning { message } => Some(message.as_str()),
            _ => None,
        })
        .collect();
    let mut kept: Vec<&str> = rm.warnings.iter().map(String::as_str).collect();
    if let Some(b) = base {
        // Less those of its placeholders: they are dropped when the run starts, and written again.
        let placeholder = |m: &str| b.weeks.iter().any(|w| w.fallback && m.starts_with(&format!("Week {}:", w.week)));
        for m in b.warnings.iter().filter(|m| !placeholder(m)) {
            if let Some(i) = kept.iter().position(|k| k == m) {
                kept.remove(i);
            }
        }
    }
    said.sort_unstable();
    kept.sort_unstable();
    ensure!(said == kept, "warning events {said:?}, new warnings {kept:?}");
    // Requests for weeks are their batches' attempts.
    let posts = t.inner.requests.borrow().iter().filter(|r| r.method == "POST").count() as u32;
    let outlines = t.asked().iter().filter(|a| *a == "OUTLINE").count() as u32;
    let attempts: u32 = rm.batches.iter().filter(|b| b.status != BatchStatus::Resumed).map(|b| b.attempts).sum();
    let sent = posts - outlines;
    ensure!(attempts == sent, "batch attempts add up to {attempts}, {sent} week requests sent");
    // Each batch-done reports its batch's answer size.
    let generated: Vec<&BatchReport> = rm.batches.iter().filter(|b| b.status != BatchStatus::Resumed).collect();
    for e in events {
        if let ProgressEvent::BatchDone { batch, response_chars, .. } = e {
            let report = generated[*batch as usize - 1];
            let same = report.response_chars == *response_chars;
            ensure!(same, "batch {batch} done with {response_chars} chars, report {report:?}");
        }
    }
    // A batch `ok` got no answer that had to be recovered from.
    let log = t.served.borrow();
    for b in generated.iter().filter(|b| b.status == BatchStatus::Ok) {
        let range = b.start_week..=b.end_week;
        let seen: Vec<Fault> = log
            .log
            .iter()
            .filter(|(task, _)| match *task {
                Task::Weeks { first, .. } | Task::Days { week: first, .. } => range.contains(&first),
                _ => false,
            })
            .map(|l| l.1)
            .filter(|f| recovered_from(*f))
            .collect();
        ensure!(seen.is_empty(), "batch {range:?} is ok after {seen:?}");
    }
    check_retries(rm, events, c)
}

/// Faults a batch must recover from, rather than read through: it is `recovered` (or `fallback`) after them. (A
/// broken body is either: a failed request, retried, when no text came before the break.)
fn recovered_from(f: Fault) -> bool {
    matches!(
        f,
        Fault::Cut
            | Fault::Prose
            | Fault::Renumbered
            | Fault::Shifted
            | Fault::SixDays
            | Fault::NoCandidates
            | Fault::Safety
    )
}

/// A batch's retries number the request about to run as its `attempts` count them: from 2, increasing, up to its
/// attempts; none after the batch is done. The first week of a parallel run, written in parts, is held only to the
/// last: each part numbers its own requests, side by side.
fn check_retries(rm: &Roadmap, events: &[ProgressEvent], c: &Case) -> Check {
    let generated: Vec<&BatchReport> = rm.batches.iter().filter(|b| b.status != BatchStatus::Resumed).collect();
    let split = c.parallel && c.concurrency >= 3;
    for (i, report) in generated.iter().enumerate() {
        let b = i as u32 + 1;
        let parts = split && b == 1;
        let (mut done, mut last) = (false, 1);
        for e in events {
            match e {
                ProgressEvent::BatchDone { batch, .. } if *batch == b => done = true,
                ProgressEvent::Retry { batch, attempt, reason, .. } if *batch == b => {
                    ensure!(!done, "batch {b}: a retry after it was done ({reason})");
                    if parts {
                        continue;
                    }
                    ensure!(*attempt <= report.attempts, "batch {b}: retry attempt {attempt} of {}", report.attempts);
                    ensure!(*attempt > last, "batch {b}: retry attempt {attempt} after {last}");
                    last = *attempt;
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// The error codes the faults served can explain.
fn explained(code: &str, t: &Chaos) -> bool {
    let log = t.served.borrow();
    let any = |f: &dyn Fn(Task, Fault) -> bool| log.log.iter().any(|&(t, x)| f(t, x));
    match code {
        "SERVER" => any(&|_, f| matches!(f, Fault::Server(_))),
        "NETWORK" => any(&|_, f| matches!(f, Fault::NetworkFail | Fault::Broken)),
        "RATE_LIMITED" => any(&|_, f| f == Fault::Quota),
        "BAD_REQUEST" => any(&|_, f| matches!(f, Fault::BadRequest | Fault::SchemaRefused)),
        "BLOCKED" => any(&|_, f| f == Fault::Safety),
        // Only the outline fails for answers it cannot use (batches put in placeholders).
        "MALFORMED" => any(&|t, f| matches!(t, Task::Outline { .. }) && !matches!(f, Fault::Good | Fault::Server(_))),
        _ => false,
    }
}

fn check_err(e: &RoadmapError, events: &[ProgressEvent], base: Option<&Roadmap>, t: &Chaos, c: &Case) -> Check {
    let code = e.error.code();
    ensure!(explained(code, t), "{code} ({}) after faults {:?}", e.error.text(), t.faults());
    if let Some(b) = e.batch {
        let started = events.iter().any(|x| matches!(x, ProgressEvent::BatchStart { batch, .. } if *batch == b));
        ensure!(started, "failed in batch {b}, which never started");
    }
    let outline_said = events.iter().find_map(|x| match x {
        ProgressEvent::Outline { weeks, .. } => Some(weeks),
        _ => None,
    });
    let Some(p) = &e.partial else {
        ensure!(announced(events).is_empty(), "weeks announced, but no partial");
        ensure!(outline_said.is_none(), "the outline was announced, but no partial");
        ensure!(base.is_none(), "a resumed run failed without a partial");
        return Ok(());
    };
    check_weeks(p, c.weeks)?;
    check_batches(p, c, false)?;
    // Every batch begun is reported, and only those (besides the resumed ones): batches begun during another's quota
    // wait were left out when the run failed meanwhile (found by an exploratory test).
    let mut begun = batch_starts(events);
    begun.sort_unstable();
    let listed: Vec<(u32, u32)> =
        p.batches.iter().filter(|b| b.status != BatchStatus::Resumed).map(|b| (b.start_week, b.end_week)).collect();
    // (A resumed run that failed before its plan hands back the partial it was given, with that run's batches.)
    ensure!(base.is_some() || listed == begun, "batches begun {begun:?}, reported {listed:?}");
    if let Some(b) = e.batch {
        let failed: Vec<(u32, u32)> =
            p.batches.iter().filter(|b| b.status == BatchStatus::Failed).map(|b| (b.start_week, b.end_week)).collect();
        let named = events.iter().find_map(|x| match x {
            ProgressEvent::BatchStart { batch, start_week, end_week, .. } if *batch == b => {
                Some((*start_week, *end_week))
            }
            _ => None,
        });
        // Another batch in flight may fail for good too before it sees the stop: it is reported failed as well.
        let reported = named.is_some_and(|n| failed.contains(&n));
        ensure!(reported, "failed in batch {b} ({named:?}), reports failed {failed:?}");
    }
    // A 400 ends the run: nothing is sent after it arrived (but to a part of a week asked for whole meanwhile).
    if code == "BAD_REQUEST" {
        let trace = t.trace.borrow();
        let log = t.served.borrow();
        let fatal = |n: usize| log.log[n - 1].1 == Fault::BadRequest && !matches!(log.log[n - 1].0, Task::Days { .. });
        let fatal = trace.iter().position(|&(sent, n)| !sent && fatal(n));
        if let Some(at) = fatal {
            let after: Vec<usize> = trace[at..].iter().filter(|x| x.0).map(|x| x.1).collect();
            ensure!(after.is_empty(), "requests {after:?} sent after the 400 to request {}", trace[at].1);
        }
    }
    if let Some(o) = outline_said {
        ensure!(p.outline == *o, "partial's outline is not the one announced");
    }
    check_usage(&p.usage, base, t)?;
    check_announced(p, events, base)?;
    Ok(())
}

/// The weeks that requests for weeks asked for, each as often as a request asked for it (a week in parts once).
fn weeks_asked(asked: &[String]) -> Vec<u32> {
    let mut weeks: Vec<u32> = Vec::new();
    let mut parts: Vec<u32> = Vec::new();
    for a in asked.iter().filter(|a| a.starts_with("WEEK")) {
        let rest = a.trim_start_matches("WEEKS ").trim_start_matches("WEEK ");
        let range = rest.split(' ').next().unwrap();
        let (x, y) = range.split_once('-').unwrap_or((range, range));
        let (x, y) = (x.parse::<u32>().unwrap(), y.parse::<u32>().unwrap());
        if a.contains("DAYS") {
            parts.push(x);
        } else {
            weeks.extend(x..=y);
        }
    }
    parts.dedup();
    weeks.extend(parts);
    weeks.sort_unstable();
    weeks
}

/// Resuming from a partial with a Gemini that answers right finishes the roadmap, asking only for the weeks the
/// partial lacks or holds as placeholders (and for the outline only when it has none), keeping the rest as it was.
fn check_resume(p: &Roadmap, c: &Case) -> Check {
    let t = Chaos::new(c.seed ^ 0x900d, 0);
    let (r, events) = chaos_run(&t, &c.options(Some(p.clone())));
    check_events(&events, r.is_ok(), c.weeks).map_err(|m| format!("clean resume: {m}"))?;
    let rm = r.map_err(|e| format!("clean resume failed: {e:?}"))?;
    check_ok(&rm, &events, Some(p), &t, c).map_err(|m| format!("clean resume: {m}"))?;
    ensure!(rm.weeks.iter().all(|w| !w.fallback), "clean resume left a placeholder");
    let missing: Vec<u32> =
        (1..=c.weeks).filter(|&n| !p.weeks.iter().any(|w| w.week == n && !w.fallback)).collect();
    let asked = t.asked();
    ensure!(weeks_asked(&asked) == missing, "clean resume asked {asked:?}, missing weeks {missing:?}");
    let outlines = asked.iter().filter(|a| *a == "OUTLINE").count();
    let want = usize::from(p.outline.len() as u32 != c.weeks);
    let planned = p.outline.len();
    ensure!(outlines == want, "clean resume asked for the outline {outlines} times (partial outline {planned})");
    Ok(())
}

/// Runs a case: a faulty run; after a failure with a partial, maybe more faulty runs resumed from it, and a clean
/// resume from each partial.
fn run_case(c: &Case) -> Check {
    let mut base: Option<Roadmap> = None;
    for round in 0..3u64 {
        let t = Chaos::new(mix(c.seed, round), c.pct);
        let (r, events) = chaos_run(&t, &c.options(base.clone()));
        let context = |m: String| format!("run {round}: {m}\nasked {:?}\nfaults {:?}", t.asked(), t.faults());
        if std::env::var_os("CHAOS_DEBUG").is_some() {
            let rm = r.as_ref().map_or_else(|e| e.partial.as_ref(), Some);
            eprintln!("run {round}: {:?}", r.as_ref().err().map(|e| (&e.error, e.batch)));
            eprintln!("asked {:?}\nfaults {:?}", t.asked(), t.faults());
            if let Some(rm) = rm {
                eprintln!("outline {:?}", rm.outline.iter().map(|o| &o.title).collect::<Vec<_>>());
                eprintln!("weeks {:?}", rm.weeks.iter().map(|w| (w.week, &w.title, w.fallback)).collect::<Vec<_>>());
                eprintln!("warnings {:?}", rm.warnings);
            }
        }
        check_events(&events, r.is_ok(), c.weeks).map_err(context)?;
        // While a task waits out a per-minute quota, the others send nothing: Gemini would refuse them too.
        let sent = t.sent_in_quota_wait.borrow().clone();
        ensure!(sent.is_empty(), "{}", context(format!("requests {sent:?} sent during a per-minute quota wait")));
        match r {
            Ok(rm) => return check_ok(&rm, &events, base.as_ref(), &t, c).map_err(context),
            Err(e) => {
                check_err(&e, &events, base.as_ref(), &t, c).map_err(context)?;
                let Some(p) = e.partial else { return Ok(()) };
                check_resume(&p, c).map_err(context)?;
                if !c.chain {
                    return Ok(());
                }
                base = Some(p);
            }
        }
    }
    Ok(())
}

/// Replays one case with what each run asked, served and gave on stderr: `CHAOS_DEBUG=1 cargo test --test
/// roadmap_chaos replay -- --ignored --nocapture`, with the case pasted in.
#[test]
#[ignore = "a tool for investigating a failing case"]
fn replay() {
    let c = Case {
        seed: 6702943137271816708,
        weeks: 20,
        batch_weeks: 1,
        full_history: false,
        parallel: false,
        concurrency: 1,
        stream: true,
        max_retries: 0,
        pct: 30,
        chain: true,
    };
    run_case(&c).unwrap();
}

fn chaos_cases() -> Option<u32> {
    std::env::var("CHAOS_CASES").ok().and_then(|n| n.parse().ok())
}

proptest! {
    // The default 256 cases are the same on every run, so that CI never fails on a case it never met before;
    // `CHAOS_CASES=100000` draws fresh ones for a long hunt.
    #![proptest_config(ProptestConfig {
        cases: chaos_cases().unwrap_or(256),
        rng_seed: if chaos_cases().is_some() { RngSeed::Random } else { RngSeed::Fixed(0x5eed_c4a0) },
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_mix_of_faults_ends_in_a_valid_roadmap_or_a_resumable_error(c in case()) {
        if let Err(m) = run_case(&c) {
            return Err(TestCaseError::fail(format!("{c:?}\n{m}")));
        }
    }
}

/// The fake itself: each fault answers with the status it should, and the tokens it serves are seen.
#[test]
fn the_fake_serves_every_fault() {
    let req = |url: &str, body: &str| HttpRequest {
        method: "POST",
        url: url.into(),
        headers: vec![],
        body: Some(json!({"contents": [{"role": "user", "parts": [{"text": body}]}]}).to_string()),
        timeout_ms: 1,
    };
    let task_text = "Total weeks: 6\nTASK: WEEKS 4-6";
    for stream in [false, true] {
        let url = if stream { "x:streamGenerateContent?alt=sse" } else { "x:generateContent" };
        let r = req(url, task_text);
        let task = task_of(&r);
        for (fault, _) in FAULTS {
            let s = respond(&r, task, fault, 12345);
            let tokens = served_tokens(&r, &s);
            let ok_status = matches!(&s, Scripted::Respond { status: 200, .. } | Scripted::Broken { status: 200, .. });
            if fault != Fault::Broken {
                assert_eq!(tokens != Tokens::default(), ok_status, "{fault:?}");
            }
        }
    }
    assert_eq!(trailing_commas("{\n  \"a\": [\n    1\n  ]\n}"), "{\n  \"a\": [\n    1,\n  ],\n}\n");
}


// Bugs the chaos test found, each reproduced on its own.

/// The first request whose task matches `when` is answered in prose (no JSON), the second meets a 503; every other
/// request is answered right.
fn prose_then_503(when: fn(Task) -> bool) -> Responder {
    let n = Cell::new(0);
    gemini_with(move |req, _, task| {
        if !when(task) {
            return None;
        }
        n.set(n.get() + 1);
        match n.get() {
            1 => Some(answer(req, "No JSON today, sorry.", "STOP")),
            2 => Some(unavailable()),
            _ => None,
        }
    })
}

/// README: a `retry` event's `attempt` is "the batch's request about to run, counted as its `attempts` count them".
/// A batch whose first answer is prose and whose second request meets a 503 sent its third request announced as
/// attempt 2 again: the backoff path numbered failures in a row since the last answer (`Tries`, reset by any
/// answer), the re-ask path the batch's requests (found by the chaos test; failed before the fix).
#[test]
fn a_retry_after_a_re_ask_numbers_the_batch_request_about_to_run() {
    let t = ReplayTransport::with_responder(vec![], prose_then_503(|task| matches!(task, Task::Weeks { .. })));
    let (rm, events) = ok(&t, &opts(3));
    assert_eq!(asked(&t), ["GET", "OUTLINE", "WEEKS 1-3", "WEEKS 1-3", "WEEKS 1-3"]);
    assert_eq!(rm.batches[0].attempts, 3);
    assert_eq!(retries(&events), [(1, 2, 0), (1, 3, 750)]);
}

/// The first week of a parallel run is written in parts; when one part is unusable the whole week is asked for and
/// "the other parts no longer matter, nor do their failures". A part whose 503 arrived after the whole week was done
/// still announced a retry of the finished batch and waited out its backoff (750 ms here, up to 30 s), and the run
/// resolved only after that wait, for a request it then never sent (found by the chaos test; failed before the fix).
#[test]
fn a_part_failing_after_its_week_was_asked_whole_neither_retries_nor_waits() {
    let t = Clocked::new(
        ReplayTransport::with_responder(
            vec![],
            gemini_with(|req, _, task| match task {
                Task::Days { first: 1, .. } => Some(answer(req, "No JSON, sorry.", "STOP")),
                Task::Days { .. } => Some(unavailable()),
                _ => None,
            }),
        ),
        // Days 1-4 come (unusable) while days 5-7 are asked; their 503 comes after the whole week.
        |task| match task {
            t if t.ends_with("DAYS 1-4") => 50,
            t if t.ends_with("DAYS 5-7") => 500,
            _ => 0,
        },
    );
    let o = RoadmapOptions { strategy: Some(Strategy::Parallel), concurrency: Some(3.0), ..opts(1) };
    let mut events = Vec::new();
    let rm = block_on(generate(&t, &o, &mut |e| events.push(e.clone()))).unwrap();
    assert_complete(&rm, 1);
    assert_eq!(asked(&t.inner), ["GET", "OUTLINE", "WEEK 1 DAYS 1-4", "WEEK 1 DAYS 5-7", "WEEK 1"]);
    let done = events.iter().position(|e| matches!(e, ProgressEvent::BatchDone { .. })).unwrap();
    let late: Vec<&ProgressEvent> =
        events[done..].iter().filter(|e| matches!(e, ProgressEvent::Retry { .. })).collect();
    assert!(late.is_empty(), "retries after the batch was done: {late:?}");
    assert!(!t.log.borrow().iter().any(|(_, l)| l.starts_with("wait")), "waited for a part no longer needed: {:?}", t.log.borrow());
}

/// A replay on a clock of its own: every poll of an answer or a wait is 10 ms, each request is answered the time
/// `answer_ms` gives its task (as `asked` names it) after it was asked, and the log says when each request went out
/// and when each wait began and how it ended.
struct Clocked {
    inner: ReplayTransport,
    answer_ms: fn(&str) -> u64,
    now: Cell<u64>,
    log: RefCell<Vec<(u64, String)>>,
}

impl Clocked {
    fn new(inner: ReplayTransport, answer_ms: fn(&str) -> u64) -> Self {
        Clocked { inner, answer_ms, now: Cell::new(0), log: RefCell::new(Vec::new()) }
    }

    fn note(&self, what: String) {
        self.log.borrow_mut().push((self.now.get(), what));
    }

    async fn tick(&self, ms: u64) {
        for _ in 0..ms / 10 {
            polls(1).await;
            self.now.set(self.now.get() + 10);
        }
    }

    /// When the log first said `what`.
    fn at(&self, what: &str) -> Option<u64> {
        self.log.borrow().iter().find(|(_, l)| l == what).map(|(t, _)| *t)
    }
}

impl Transport for Clocked {
    type Body = ReplayBody;

    async fn send(&self, req: &HttpRequest) -> Result<(u16, ReplayBody), Error> {
        let task = asked_in(std::slice::from_ref(req)).remove(0);
        self.note(format!("send {task}"));
        let answer = self.inner.send(req).await;
        self.tick((self.answer_ms)(&task)).await;
        answer
    }

    async fn sleep(&self, ms: u64) -> Result<(), Error> {
        /// Notes a wait dropped before its end.
        struct Cut<'a>(&'a Clocked, bool);
        impl Drop for Cut<'_> {
            fn drop(&mut self) {
                if !self.1 {
                    self.0.note("wait cut short".into());
                }
            }
        }
        self.note("wait from".into());
        let mut cut = Cut(self, false);
        self.tick(ms).await;
        cut.1 = true;
        self.note("wait over".into());
        Ok(())
    }

    fn is_aborted(&self) -> bool {
        false
    }

    fn random(&self) -> f64 {
        0.0
    }

    fn log(&self, line: &str) {
        self.inner.log(line)
    }
}

/// The first week in two parts: days 1-4 answer prose after 50 ms (so the week is asked whole), days 5-7 meet
/// `failure` at once.
fn split_week_run(failure: fn() -> Scripted) -> (Clocked, Roadmap) {
    let t = Clocked::new(
        ReplayTransport::with_responder(
            vec![],
            gemini_with(move |req, _, task| match task {
                Task::Days { first: 1, .. } => Some(answer(req, "No JSON, sorry.", "STOP")),
                Task::Days { .. } => Some(failure()),
                _ => None,
            }),
        ),
        |task| if task.ends_with("DAYS 1-4") { 50 } else { 0 },
    );
    let o = RoadmapOptions { strategy: Some(Strategy::Parallel), concurrency: Some(3.0), ..opts(1) };
    let rm = block_on(generate(&t, &o, &mut |_| {})).unwrap();
    assert_complete(&rm, 1);
    (t, rm)
}

/// A part waiting out its backoff stops waiting once the week is asked whole: the run does not wait for a
/// request it will never send (the wait ran to its end, 500 ms here, up to 30 s).
#[test]
fn a_parts_backoff_ends_when_its_week_is_asked_whole() {
    let (t, _) = split_week_run(unavailable);
    assert_eq!(t.at("wait cut short"), Some(t.at("send WEEK 1").unwrap()), "{:?}", t.log.borrow());
    assert_eq!(t.at("wait over"), None);
}

/// But a part waiting out a per-minute quota keeps waiting it out: while it does, no request is sent, so the
/// whole week's request is not sent inside the minute Gemini asked to wait (found by review: cutting the wait
/// short opened the quota gate, and the week was asked at once, to meet the quota again).
#[test]
fn a_parts_quota_wait_holds_the_whole_weeks_request_back() {
    let (t, _) = split_week_run(|| rate_limited("20s"));
    let whole = t.at("send WEEK 1").unwrap();
    assert!(whole >= 20_000, "the whole week was asked at {whole} ms, inside the 20 s wait: {:?}", t.log.borrow());
    assert_eq!(t.at("wait cut short"), None);
}

/// The outline's retries number its requests too: a 503 after an unreadable outline is attempt 3, not 2 again.
#[test]
fn the_outlines_retries_number_its_requests() {
    let t = ReplayTransport::with_responder(vec![], prose_then_503(|task| matches!(task, Task::Outline { .. })));
    let (_, events) = ok(&t, &opts(3));
    assert_eq!(retries(&events).iter().map(|r| (r.0, r.1)).collect::<Vec<_>>(), [(0, 2), (0, 3)]);
}

/// `regenerateWeek` with `maxOutputTokens` looks the model up inside its one batch: `batch-start` comes first, so
/// the lookup's retry and a failed lookup's `batch: 1` belong to a batch that started (found by review).
#[test]
fn regenerating_with_a_cap_looks_the_model_up_inside_its_batch() {
    let (rm, _) = ok(&ReplayTransport::with_responder(vec![], gemini()), &opts(6));
    let o = RoadmapOptions { max_output_tokens: Some(4096.0), ..opts(6) };
    let n = Cell::new(0);
    let t = ReplayTransport::with_responder(
        vec![],
        gemini_with(move |_, _, task| match task {
            Task::ModelInfo => {
                n.set(n.get() + 1);
                (n.get() == 1).then(unavailable)
            }
            _ => None,
        }),
    );
    let mut events = Vec::new();
    block_on(regenerate_week(&t, &rm, 3, &o, &mut |e| events.push(e.clone()))).unwrap();
    assert!(matches!(events[0], ProgressEvent::BatchStart { .. }), "{events:?}");
    assert_eq!(retries(&events).iter().map(|r| (r.0, r.1)).collect::<Vec<_>>(), [(0, 2)]);

    let t = ReplayTransport::with_responder(vec![], gemini_with(|_, _, task| matches!(task, Task::ModelInfo).then(unavailable)));
    let mut events = Vec::new();
    let o = RoadmapOptions { max_retries: Some(0.0), ..o };
    let e = block_on(regenerate_week(&t, &rm, 3, &o, &mut |e| events.push(e.clone()))).unwrap_err();
    assert_eq!((e.error.code(), e.batch), ("SERVER", Some(1)));
    assert!(matches!(events[..], [ProgressEvent::BatchStart { .. }]), "{events:?}");
}
