//! The parallel strategy: the outline, then up to `concurrency` batches at once, each given the planned
//! neighbouring weeks. Runs over `Slow`, a transport whose answers take a number of polls to arrive (and
//! whose SSE chunks do too), so batches really interleave in one thread; it measures requests in flight.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::rc::Rc;
use std::task::Poll;

use gemini_roadmap::gemini::replay::ReplayBody;
use gemini_roadmap::gemini::transport::Body;
use gemini_roadmap::gemini::Transport;
use gemini_roadmap::roadmap::join::{join_limited, LocalFuture};
use serde_json::json;
use support::*;

/// Returns `Pending` `n` times (waking itself, counting each in `spent`), failing with `Aborted` as soon as
/// the abort flag is set.
async fn polls_counted(n: usize, aborted: &Cell<bool>, spent: &Cell<usize>) -> Result<(), Error> {
    let mut left = n;
    poll_fn(|cx| {
        if aborted.get() {
            return Poll::Ready(Err(Error::Aborted));
        }
        if left == 0 {
            return Poll::Ready(Ok(()));
        }
        left -= 1;
        spent.set(spent.get() + 1);
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}

async fn polls(n: usize, aborted: &Cell<bool>) -> Result<(), Error> {
    polls_counted(n, aborted, &Cell::new(0)).await
}

/// How long request `n` takes: polls before the response, and polls before each body chunk.
type Timing = Box<dyn Fn(&HttpRequest, usize) -> (usize, usize)>;

/// A request in flight from `send` until its body is dropped.
struct Flight {
    n: usize,
    in_flight: Rc<Cell<usize>>,
    trace: Rc<RefCell<Vec<(bool, usize)>>>,
}

impl Drop for Flight {
    fn drop(&mut self) {
        self.in_flight.set(self.in_flight.get() - 1);
        self.trace.borrow_mut().push((false, self.n));
    }
}

struct Slow {
    inner: ReplayTransport,
    timing: Timing,
    aborted: Rc<Cell<bool>>,
    in_flight: Rc<Cell<usize>>,
    max_in_flight: Cell<usize>,
    /// Requests in flight when each request started (itself included), by request number - 1.
    at_start: RefCell<Vec<usize>>,
    /// `(true, n)` when request `n` started, `(false, n)` when it ended.
    trace: Rc<RefCell<Vec<(bool, usize)>>>,
    /// Polls a retry wait takes, and the polls all waits took.
    sleep_polls: Cell<usize>,
    slept: Cell<usize>,
    /// Each wait as the span of `trace` it lasted: (trace length when it began, when it ended).
    sleep_spans: RefCell<Vec<(usize, usize)>>,
    /// Requests already sent finish as if the abort had not come, as an answer that had arrived in full before it,
    /// not yet read, does in a browser.
    deaf: Cell<bool>,
}

struct SlowBody {
    inner: ReplayBody,
    per_chunk: usize,
    aborted: Rc<Cell<bool>>,
    _flight: Flight,
}

impl Body for SlowBody {
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, Error> {
        polls(self.per_chunk, &self.aborted).await?;
        self.inner.next_chunk().await
    }
}

impl Slow {
    fn new(responder: Responder, timing: Timing) -> Self {
        Slow {
            inner: ReplayTransport::with_responder(vec![], responder),
            timing,
            aborted: Rc::default(),
            in_flight: Rc::default(),
            max_in_flight: Cell::new(0),
            at_start: RefCell::default(),
            trace: Rc::default(),
            sleep_polls: Cell::new(3),
            slept: Cell::new(0),
            sleep_spans: RefCell::default(),
            deaf: Cell::new(false),
        }
    }

    /// Request numbers in the order they ended.
    fn finished(&self) -> Vec<usize> {
        self.trace.borrow().iter().filter(|e| !e.0).map(|e| e.1).collect()
    }

    /// Whether request `a` started before request `b` ended.
    fn started_before_end(&self, a: usize, b: usize) -> bool {
        let trace = self.trace.borrow();
        let start = trace.iter().position(|&e| e == (true, a)).expect("started");
        trace.iter().position(|&e| e == (false, b)).is_none_or(|end| start < end)
    }

    /// The number of the request that asked for `task` ("WEEKS 1-3").
    fn number_of(&self, task: &str) -> usize {
        self.asked().iter().position(|a| a == task).unwrap_or_else(|| panic!("{task} never asked")) + 1
    }

    /// Answers that take 2-8 polls to start and 1-3 polls per chunk, varying by request.
    fn varied(responder: Responder) -> Self {
        Slow::new(responder, Box::new(|_, n| (2 + (n * 5) % 7, 1 + n % 3)))
    }

    fn abort(&self) {
        self.aborted.set(true);
        self.inner.abort();
    }

    fn asked(&self) -> Vec<String> {
        asked(&self.inner)
    }
}

impl Transport for Slow {
    type Body = SlowBody;

    async fn send(&self, req: &HttpRequest) -> Result<(u16, SlowBody), Error> {
        if self.aborted.get() {
            return Err(Error::Aborted);
        }
        let answer = self.inner.send(req).await;
        let n = self.inner.request_count();
        let (wait, per_chunk) = (self.timing)(req, n);
        self.in_flight.set(self.in_flight.get() + 1);
        self.max_in_flight.set(self.max_in_flight.get().max(self.in_flight.get()));
        self.at_start.borrow_mut().push(self.in_flight.get());
        self.trace.borrow_mut().push((true, n));
        let flight = Flight { n, in_flight: self.in_flight.clone(), trace: self.trace.clone() };
        let aborted = if self.deaf.get() { Rc::default() } else { self.aborted.clone() };
        polls(wait, &aborted).await?;
        let (status, inner) = answer?;
        Ok((status, SlowBody { inner, per_chunk, aborted, _flight: flight }))
    }

    async fn sleep(&self, ms: u64) -> Result<(), Error> {
        if self.aborted.get() {
            return Err(Error::Aborted);
        }
        self.inner.sleep(ms).await?;
        let began = self.trace.borrow().len();
        // A wait takes a few polls too, so other batches move meanwhile.
        polls_counted(self.sleep_polls.get(), &self.aborted, &self.slept).await?;
        self.sleep_spans.borrow_mut().push((began, self.trace.borrow().len()));
        Ok(())
    }

    fn is_aborted(&self) -> bool {
        self.aborted.get()
    }

    fn random(&self) -> f64 {
        0.5
    }

    fn log(&self, line: &str) {
        self.inner.log(line)
    }
}

fn parallel(weeks: u32, concurrency: u32) -> RoadmapOptions {
    RoadmapOptions { strategy: Some(Strategy::Parallel), concurrency: Some(concurrency as f64), ..opts(weeks) }
}

/// The outline's SSE chunks take `polls` polls each; everything else is quick.
fn slow_outline(polls: usize) -> Timing {
    Box::new(move |req, _| if last_user_text(req).contains("TASK: OUTLINE") { (1, polls) } else { (1, 2) })
}

/// One SSE event carrying `text`, with `finish` as its finishReason.
fn sse_text(text: &str, finish: Option<&str>) -> String {
    let mut cand = json!({"content": {"parts": [{"text": text}], "role": "model"}, "index": 0});
    if let Some(f) = finish {
        cand["finishReason"] = json!(f);
    }
    json!({ "candidates": [cand] }).to_string()
}

fn run_slow(t: &Slow, o: &RoadmapOptions) -> (Result<Roadmap, RoadmapError>, Vec<ProgressEvent>) {
    let mut events = Vec::new();
    let r = block_on(generate(t, o, &mut |e| events.push(e.clone())));
    (r, events)
}

fn ok_slow(t: &Slow, o: &RoadmapOptions) -> (Roadmap, Vec<ProgressEvent>) {
    let (r, e) = run_slow(t, o);
    (r.unwrap_or_else(|e| panic!("run failed: {e:?}")), e)
}

fn is_weeks(first: u32, last: u32) -> impl Fn(Task) -> bool {
    move |t| matches!(t, Task::Weeks { first: f, last: l, .. } if f == first && l == last)
}

fn week_posts(t: &Slow) -> Vec<String> {
    posts(&t.inner).iter().filter(|r| last_user_text(r).contains("TASK: WEEK")).map(last_user_text).collect()
}

fn prompt_for(t: &Slow, task: &str) -> String {
    week_posts(t).into_iter().find(|p| p.ends_with(&format!("TASK: {task}"))).unwrap_or_else(|| panic!("no {task}"))
}

/// Complete (weeks 1..=n once, 7 days numbered 1..7), no week title twice, phases in plan order, no placeholders.
fn assert_valid(rm: &Roadmap, n: u32) {
    assert_complete(rm, n);
    let mut titles: Vec<&str> = rm.weeks.iter().map(|w| w.title.as_str()).collect();
    titles.sort_unstable();
    titles.dedup();
    assert_eq!(titles.len(), n as usize, "repeated week titles");
    let order: Vec<usize> =
        rm.weeks.iter().map(|w| rm.phases.iter().position(|p| p.name == w.phase).expect("a planned phase")).collect();
    assert!(order.windows(2).all(|p| p[0] <= p[1]), "phases out of order: {order:?}");
    for w in &rm.weeks {
        let p = rm.phases.iter().find(|p| p.name == w.phase).unwrap();
        assert!((p.start_week..=p.end_week).contains(&w.week), "week {} outside its phase", w.week);
        assert!(!w.fallback);
    }
}

/// The weeks that `asked` entries ("WEEKS a-b", "WEEK n DAYS a-b") ask for, ascending, each once.
fn weeks_asked(asked: &[String]) -> Vec<u32> {
    let mut weeks: Vec<u32> = Vec::new();
    for a in asked {
        let rest = a.trim_start_matches("WEEKS ").trim_start_matches("WEEK ");
        let range = rest.split(' ').next().unwrap();
        let (x, y) = range.split_once('-').unwrap_or((range, range));
        weeks.extend(x.parse::<u32>().unwrap()..=y.parse().unwrap());
    }
    weeks.sort_unstable();
    weeks.dedup();
    weeks
}

fn kinds(events: &[ProgressEvent]) -> Vec<&'static str> {
    events
        .iter()
        .map(|e| match e {
            ProgressEvent::Outline { .. } => "outline",
            ProgressEvent::BatchStart { .. } => "batch-start",
            ProgressEvent::Week { .. } => "week",
            ProgressEvent::BatchDone { .. } => "batch-done",
            ProgressEvent::Retry { .. } => "retry",
            ProgressEvent::Warning { .. } => "warning",
            ProgressEvent::Done { .. } => "done",
        })
        .collect()
}

#[test]
fn join_limited_runs_everything_with_a_bounded_number_in_flight_and_keeps_the_order() {
    let (running, most) = (Cell::new(0), Cell::new(0));
    let tick = Cell::new(0);
    let task = |i: usize| {
        let (running, most) = (&running, &most);
        async move {
            running.set(running.get() + 1);
            most.set(most.get().max(running.get()));
            polls(1 + (i * 7) % 5, &Cell::new(false)).await.unwrap();
            running.set(running.get() - 1);
            i * 10
        }
    };
    for limit in [1, 3, 16] {
        most.set(0);
        let futures: Vec<LocalFuture<'_, usize>> =
            (0..10).map(|i| Box::pin(task(i)) as LocalFuture<'_, usize>).collect();
        let out = block_on(join_limited(futures, limit, &tick));
        assert_eq!(out, (0..10).map(|i| i * 10).collect::<Vec<_>>());
        assert_eq!(most.get(), limit.min(10), "limit {limit}");
    }
    assert!(block_on(join_limited(Vec::<LocalFuture<'_, ()>>::new(), 4, &tick)).is_empty());
}

#[test]
fn join_limited_wakes_a_task_waiting_on_shared_state_through_the_tick() {
    // The waiter keeps no waker: with a waker that does nothing, only the tick can get it polled again.
    let (flag, tick) = (Cell::new(false), Cell::new(0));
    let waiter: LocalFuture<'_, &str> =
        Box::pin(poll_fn(|_| if flag.get() { Poll::Ready("seen") } else { Poll::Pending }));
    let setter: LocalFuture<'_, &str> = Box::pin(async {
        flag.set(true);
        tick.set(tick.get() + 1);
        "set"
    });
    let mut join = std::pin::pin!(join_limited(vec![waiter, setter], 2, &tick));
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    assert_eq!(join.as_mut().poll(&mut cx), Poll::Ready(vec!["seen", "set"]), "one poll is enough");
}

#[test]
fn twelve_weeks_in_parallel_are_as_valid_as_sequential_and_identical() {
    let t = Slow::varied(gemini());
    let (rm, events) = ok_slow(&t, &parallel(12, 4));
    assert_valid(&rm, 12);
    assert!(rm.warnings.is_empty(), "{:?}", rm.warnings);
    let mut asked = t.asked();
    assert_eq!(asked[..2], ["GET", "OUTLINE"]);
    asked[2..].sort();
    // Week 1 in 3 parts at once (one request stays free for the next batch), then batches of 3.
    let parts = ["WEEK 1 DAYS 1-3", "WEEK 1 DAYS 4-5", "WEEK 1 DAYS 6-7"];
    assert_eq!(asked[2..5], parts);
    assert_eq!(asked[5..], ["WEEKS 11-12", "WEEKS 2-4", "WEEKS 5-7", "WEEKS 8-10"]);
    assert_eq!(rm.usage.requests, 9);
    let batches: Vec<(u32, u32, BatchStatus)> =
        rm.batches.iter().map(|b| (b.start_week, b.end_week, b.status)).collect();
    let fine = BatchStatus::Ok;
    assert_eq!(batches, [(1, 1, fine), (2, 4, fine), (5, 7, fine), (8, 10, fine), (11, 12, fine)]);
    assert_eq!(rm.batches[0].attempts, 3, "the week's batch counts its parts");
    // Events: the outline first, every week once, a start and a done per batch, done last.
    let kinds = kinds(&events);
    assert_eq!(kinds[0], "outline");
    assert_eq!(kinds.last(), Some(&"done"));
    let mut weeks = week_events(&events);
    assert_ne!(weeks, (1..=12).collect::<Vec<_>>(), "batches interleave, so weeks close out of order");
    weeks.sort_unstable();
    assert_eq!(weeks, (1..=12).collect::<Vec<_>>());
    assert_eq!(kinds.iter().filter(|k| **k == "batch-start").count(), 5);
    assert_eq!(kinds.iter().filter(|k| **k == "batch-done").count(), 5);
    // Same content as a sequential run (the fake's weeks are a function of the week).
    let seq = ReplayTransport::with_responder(vec![], gemini());
    let (srm, _) = ok(&seq, &opts(12));
    assert_eq!(srm.weeks, rm.weeks);
    assert_eq!(srm.outline, rm.outline);
    let logs = t.inner.logs.borrow();
    assert_eq!(logs.last().unwrap(), "Completed all 5 batches successfully");
    assert!(logs.iter().any(|l| l == "Batch 1: week 1 in 3 parts at once"), "{logs:?}");
}

#[test]
fn fifty_two_weeks_in_parallel_are_complete_and_valid() {
    for (weeks, concurrency) in [(52, 4), (26, 16), (13, 2)] {
        let t = Slow::varied(gemini());
        let (rm, events) = ok_slow(&t, &parallel(weeks, concurrency));
        assert_valid(&rm, weeks);
        // With 3 or more requests in flight, week 1 goes in up to 3 parts, alone in its batch.
        let parts = (concurrency - 1).min(3);
        let requests = if parts > 1 { parts + (weeks - 1).div_ceil(3) } else { weeks.div_ceil(3) };
        assert_eq!(rm.usage.requests, 2 + requests as u64, "{weeks} weeks, concurrency {concurrency}");
        assert_eq!(week_events(&events).len(), weeks as usize);
        assert!(t.max_in_flight.get() <= concurrency as usize);
        let seq = ReplayTransport::with_responder(vec![], gemini());
        assert_eq!(ok(&seq, &opts(weeks)).0.weeks, rm.weeks);
    }
}

#[test]
fn at_most_concurrency_requests_are_in_flight_and_the_outline_counts() {
    for concurrency in [1, 2, 4, 16] {
        let t = Slow::varied(gemini());
        ok_slow(&t, &parallel(26, concurrency));
        let cap = concurrency as usize;
        assert!(t.max_in_flight.get() <= cap, "concurrency {concurrency}: {} in flight", t.max_in_flight.get());
        // 9 batches: the cap is reached (with 16, all 9 batches and maybe the outline run together).
        assert!(t.max_in_flight.get() >= cap.min(9), "concurrency {concurrency}");
        assert_eq!(t.in_flight.get(), 0, "every request ended");
    }
    // One at a time: each request starts after the previous one ended, in plan order.
    let t = Slow::varied(gemini());
    ok_slow(&t, &parallel(12, 1));
    assert!(t.at_start.borrow().iter().all(|&n| n == 1));
    assert_eq!(t.asked(), ["GET", "OUTLINE", "WEEKS 1-3", "WEEKS 4-6", "WEEKS 7-9", "WEEKS 10-12"]);
    // The default is 4.
    let t = Slow::varied(gemini());
    ok_slow(&t, &RoadmapOptions { concurrency: None, ..parallel(26, 1) });
    assert_eq!(t.max_in_flight.get(), 4);
}

#[test]
fn batch_prompts_carry_the_planned_neighbours_instead_of_the_previous_days() {
    let t = Slow::varied(gemini());
    ok_slow(&t, &parallel(12, 4));
    let first = prompt_for(&t, "WEEKS 2-4");
    let middle = prompt_for(&t, "WEEKS 5-7");
    let last = prompt_for(&t, "WEEKS 11-12");
    for p in [&first, &middle, &last] {
        assert!(!p.contains("has just finished"), "no generated days from another batch: {p}");
        assert!(!p.contains("W3D"), "no day content at all");
        for w in 1..=12 {
            assert!(p.contains(&format!("\n{w}. {}\n", week_title(w))), "the whole plan at 12 weeks");
        }
    }
    assert!(middle.contains(&format!(
        "Week 4 ({}, phase Containers) comes just before and is written separately",
        week_title(4)
    )));
    assert!(middle.contains(&format!("Week 8 ({}, phase Automation) comes just after", week_title(8))), "{middle}");
    assert!(first.contains("Week 1 (") && first.contains("Week 5 ("));
    assert!(last.contains("Week 10 (") && !last.contains("comes just after"));
    // The parts of week 1 know the week, the next one and which days the other parts write.
    let part = prompt_for(&t, "WEEK 1 DAYS 4-5");
    assert!(part.contains(&format!("Week 1 ({}, phase Foundations) is written in parts", week_title(1))), "{part}");
    assert!(part.contains("Days 1-3 come before") && part.contains("Days 6-7 come after"), "{part}");
    assert!(part.contains(&format!("Week 2 ({}) comes after this week", week_title(2))));
    assert!(part.contains("Return {\"days\":[...]} with exactly 2 days numbered 4 to 5"), "{part}");
    assert!(!part.contains(&week_title(3)), "only the weeks it needs, so it can start early");
    assert!(!part.contains("has just finished"));
    let opening = prompt_for(&t, "WEEK 1 DAYS 1-3");
    assert!(!opening.contains("come before") && opening.contains("Days 4-7 come after"), "{opening}");
    // Sequential prompts keep the window of the days just finished and name no neighbours.
    let seq = ReplayTransport::with_responder(vec![], gemini());
    ok(&seq, &opts(12));
    let p = last_user_text(&posts(&seq)[2]);
    assert!(p.contains("has just finished these days of week 3") && !p.contains("comes just"));
}

#[test]
fn long_roadmaps_list_the_titles_around_each_batch_and_prompts_stay_flat() {
    let t = Slow::varied(gemini());
    ok_slow(&t, &parallel(52, 4));
    let p = prompt_for(&t, "WEEKS 26-28");
    assert!(p.contains(&format!("\n20. {}\n", week_title(20))) && p.contains(&format!("\n31. {}\n", week_title(31))));
    assert!(!p.contains(&format!("\n19. {}\n", week_title(19))) && !p.contains(&format!("\n32. {}\n", week_title(32))));
    assert!(p.contains("the phases show the rest of the plan"));
    // Prompt size does not grow with the roadmap: the largest prompt at 52 weeks is about that at 24.
    let largest = |t: &Slow| week_posts(t).iter().map(String::len).max().unwrap();
    let short = Slow::varied(gemini());
    ok_slow(&short, &parallel(24, 4));
    let (at24, at52) = (largest(&short), largest(&t));
    assert!(at52 < at24 + at24 / 20, "{at24} chars at 24 weeks, {at52} at 52");
}

#[test]
fn a_truncated_batch_recovers_its_missing_weeks_and_continues_from_its_own_days() {
    let full = pretty(&weeks_value(5, 7, 12));
    let cut = full[..full.find("W6D3 title").unwrap()].to_string();
    let t = Slow::varied(first_times(1, is_weeks(5, 7), move |req, _| answer(req, &cut, "MAX_TOKENS")));
    let (rm, _) = ok_slow(&t, &parallel(12, 4));
    assert_valid(&rm, 12);
    assert!(t.asked().contains(&"WEEKS 6-7".to_string()));
    assert_eq!(rm.batches[2].status, BatchStatus::Recovered);
    assert_eq!(rm.batches[2].attempts, 2);
    // The follow-up continues from week 5, which this batch wrote.
    let follow = prompt_for(&t, "WEEKS 6-7");
    assert!(follow.contains("The learner has just finished these days of week 5"), "{follow}");
    assert!(follow.contains("Week 8 (") && follow.contains("comes just after"));
    assert!(t.inner.logs.borrow().iter().any(|l| l == "Batch 3: recovered weeks 6-7 after truncation"));
}

#[test]
fn corrections_retries_and_placeholders_work_per_batch() {
    // Week 5 comes with 6 days once; batch 4 gets a 429 with RetryInfo, then a 503; week 11 never comes right.
    let short = {
        let mut v = weeks_value(5, 7, 12);
        v["weeks"][0]["days"].as_array_mut().unwrap().pop();
        pretty(&v)
    };
    let (seen5, seen8) = (Cell::new(0), Cell::new(0));
    let t = Slow::varied(gemini_with(move |req, _, task| match task {
        Task::Weeks { first: 5, last: 7, .. } if seen5.replace(1) == 0 => Some(answer(req, &short, "STOP")),
        Task::Weeks { first: 8, .. } => match seen8.replace(seen8.get() + 1) {
            0 => Some(rate_limited("2s")),
            1 => Some(unavailable()),
            _ => None,
        },
        Task::Weeks { first, last, total } if (first..=last).contains(&11) => {
            let mut v = weeks_value(first, last, total);
            v["weeks"][(11 - first) as usize]["days"].as_array_mut().unwrap().truncate(5);
            Some(answer(req, &pretty(&v), "STOP"))
        }
        _ => None,
    }));
    let (rm, events) = ok_slow(&t, &parallel(12, 4));
    assert_complete(&rm, 12);
    let correction = prompt_for(&t, "WEEK 5");
    assert!(correction.contains("Correction: week 5 in your previous answer had 6 days"));
    assert!(t.inner.sleeps.borrow().iter().any(|&ms| ms >= 2000), "RetryInfo honoured: {:?}", t.inner.sleeps.borrow());
    let retry_of = |e: &ProgressEvent| if let ProgressEvent::Retry { batch, .. } = e { Some(*batch) } else { None };
    let retries: Vec<u32> = events.iter().filter_map(retry_of).collect();
    assert!(retries.iter().filter(|&&b| b == 4).count() >= 2, "{retries:?}");
    assert!(rm.weeks[10].fallback, "week 11 became a placeholder");
    assert!(rm.weeks.iter().filter(|w| w.fallback).count() == 1);
    let statuses: Vec<BatchStatus> = rm.batches.iter().map(|b| b.status).collect();
    use BatchStatus::{Fallback, Recovered};
    assert_eq!(statuses, [BatchStatus::Ok, BatchStatus::Ok, Recovered, BatchStatus::Ok, Fallback]);
    assert!(rm.warnings.iter().any(|w| w.starts_with("Week 11: placeholder")), "{:?}", rm.warnings);
}

/// Gemini's per-minute quota counts the whole project: while one batch waits out a 429, a request from
/// another batch would only be refused too, spending one of its retries (found with the mock's `--rpm`: a
/// 52-week parallel run at 5 requests per minute failed RATE_LIMITED).
#[test]
fn while_a_batch_waits_out_a_per_minute_quota_no_other_request_is_sent() {
    let t = Slow::varied(first_times(1, is_weeks(2, 4), |_, _| rate_limited("30s")));
    t.sleep_polls.set(40);
    let (rm, _) = ok_slow(&t, &parallel(26, 4));
    assert_complete(&rm, 26);
    let spans = t.sleep_spans.borrow().clone();
    assert_eq!(spans.len(), 1, "the quota wait is the only wait");
    let (began, ended) = spans[0];
    let trace = t.trace.borrow();
    let started: Vec<usize> = trace[began..ended].iter().filter(|e| e.0).map(|e| e.1).collect();
    assert!(started.is_empty(), "requests {started:?} were sent during the quota wait");
    // Requests already in flight when the 429 came were not held back: they finished during the wait.
    assert!(trace[began..ended].iter().any(|e| !e.0), "something was in flight meanwhile");
    assert!(t.inner.sleeps.borrow()[0] >= 30_000);
    // Then one request at a time, so that the batches do not race for the one freed minute-slot; one more may
    // go with each answer to a request sent since, until the batches go on at full concurrency again.
    let after: Vec<usize> = trace[ended..].iter().filter(|e| e.0).map(|e| e.1).collect();
    assert!(after.len() >= 4, "{after:?}");
    assert_eq!(t.at_start.borrow()[after[0] - 1], 1, "the first request after the wait goes alone");
    // It is the refused one: a later batch polled after the slot freed could take it (a review saw the first week,
    // refused once, come last).
    assert_eq!(t.asked()[after[0] - 1], "WEEKS 2-4", "{:?}", t.asked());
    assert!(!t.started_before_end(after[1], after[0]), "the second waits for the first answer");
    assert!(t.max_in_flight.get() >= 3);
    let in_flight_after: Vec<usize> = after.iter().map(|&n| t.at_start.borrow()[n - 1]).collect();
    assert!(in_flight_after.iter().any(|&n| n >= 2), "concurrency grows back: {in_flight_after:?}");
}

/// After a per-minute quota's wait the refused request goes first, also when the slot frees only after the wait,
/// in the middle of a pass over the batches: a batch later in the list, waiting for room too, took it, and the
/// refused one waited for that answer (a review saw the first week, refused once, come last).
#[test]
fn after_a_quota_wait_the_refused_request_goes_first() {
    for (polls, wait, chunk) in [(1, 6, 2), (1, 12, 3), (3, 8, 1), (2, 20, 2)] {
        let t = Slow::new(first_times(1, is_weeks(2, 4), |_, _| rate_limited("30s")), Box::new(move |_, n| (wait + n % 5, chunk)));
        t.sleep_polls.set(polls);
        let (rm, _) = ok_slow(&t, &parallel(26, 4));
        assert_complete(&rm, 26);
        let asked = t.asked();
        let refused = t.number_of("WEEKS 2-4");
        let trace = t.trace.borrow();
        let came = trace.iter().position(|&e| e == (false, refused)).unwrap();
        let next = trace[came..].iter().find(|e| e.0).expect("a request after the refusal").1;
        assert_eq!(asked[next - 1], "WEEKS 2-4", "the first request sent after the refusal ({polls}, {wait}, {chunk}): {asked:?}");
    }
}

/// A batch that keeps losing the race for a freed minute-slot is refused more often than `maxRetries` allows
/// failures: refusals have a budget of their own, and the run completes. Past that budget it fails, with `partial`.
#[test]
fn per_minute_quota_refusals_do_not_use_up_the_retries() {
    let t = Slow::varied(first_times(6, is_weeks(2, 4), |_, _| rate_limited("30s")));
    let (rm, events) = ok_slow(&t, &parallel(12, 4));
    assert_complete(&rm, 12);
    let attempts: Vec<u32> =
        events.iter().filter_map(|e| if let ProgressEvent::Retry { batch: 2, attempt, .. } = e { Some(*attempt) } else { None }).collect();
    assert_eq!(attempts, [2, 3, 4, 5, 6, 7], "six refusals with maxRetries 3");

    let t = Slow::varied(first_times(11, is_weeks(2, 4), |_, _| rate_limited("30s")));
    let (r, _) = run_slow(&t, &parallel(12, 4));
    let e = r.unwrap_err();
    assert_eq!((e.error.code(), e.batch), ("RATE_LIMITED", Some(2)));
    assert!(e.partial.is_some());
}

/// A 503 is not a quota: the other batches go on while one batch waits to try again.
#[test]
fn a_wait_after_a_server_error_does_not_hold_the_other_batches() {
    let t = Slow::varied(first_times(1, is_weeks(2, 4), |_, _| unavailable()));
    t.sleep_polls.set(40);
    let (rm, _) = ok_slow(&t, &parallel(12, 4));
    assert_complete(&rm, 12);
    let (began, ended) = t.sleep_spans.borrow()[0];
    assert!(t.trace.borrow()[began..ended].iter().any(|e| e.0), "other batches sent requests during the wait");
}

/// A batch begun (`batch-start`) while another waited out a per-minute quota sends nothing until the wait ends; when
/// the run fails meanwhile (here the refused request, asked again, meets a 401), it is in `partial.batches` all the
/// same, failed with 0 attempts. Such batches were left out (found by an exploratory test): the README lists only the
/// batches that had not begun as missing there.
#[test]
fn batches_begun_during_a_quota_wait_are_reported_when_the_run_fails() {
    let refused = Rc::new(Cell::new(0));
    let seen = refused.clone();
    let t = Slow::varied(gemini_with(move |_, _, task| {
        if !is_weeks(2, 4)(task) {
            return None;
        }
        seen.set(seen.get() + 1);
        Some(match seen.get() {
            1 => rate_limited("30s"),
            _ => Scripted::status(401, error_body(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.", json!([]))),
        })
    }));
    t.sleep_polls.set(40);
    let (r, events) = run_slow(&t, &parallel(26, 4));
    let e = r.unwrap_err();
    assert_eq!(e.error.code(), "AUTH", "{:?}", e.error);
    assert_eq!(refused.get(), 2, "{:?}", t.asked());
    let p = e.partial.expect("a partial roadmap");
    let begun = batch_starts(&events);
    let listed: Vec<(u32, u32)> = p.batches.iter().map(|b| (b.start_week, b.end_week)).collect();
    assert_eq!(listed, begun, "every batch begun is reported: {:?}", p.batches);
    let asked = t.asked();
    let silent: Vec<_> = p.batches.iter().filter(|b| !asked.contains(&format!("WEEKS {}-{}", b.start_week, b.end_week))).collect();
    assert!(silent.iter().any(|b| b.start_week > 1), "a batch began during the wait: {:?} {asked:?}", p.batches);
    for b in silent.iter().filter(|b| b.start_week > 1) {
        assert_eq!((b.status, b.attempts), (BatchStatus::Failed, 0), "{b:?}");
    }
    assert_eq!(p.batches[1].status, BatchStatus::Failed);
}

/// The same for the first week written in parts: a part in a quota wait when the run fails never finishes the week,
/// which is reported failed with every part's request (it was missing).
#[test]
fn a_first_week_in_parts_stopped_by_the_runs_failure_is_reported() {
    // Days 1-3 are refused by the quota only after the 401 to weeks 2-4 came: their retry then never goes.
    let refused = Rc::new(Cell::new(false));
    let once = refused.clone();
    let responder = gemini_with(move |_, _, task| match task {
        Task::Days { first: 1, .. } if !once.replace(true) => Some(rate_limited("30s")),
        t if is_weeks(2, 4)(t) => {
            Some(Scripted::status(401, error_body(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.", json!([]))))
        }
        _ => None,
    });
    let t = Slow::new(
        responder,
        Box::new(|req, _| if matches!(task_of(req), Task::Days { first: 1, .. }) { (60, 1) } else { (2, 1) }),
    );
    t.sleep_polls.set(40);
    let (r, events) = run_slow(&t, &parallel(12, 4));
    let e = r.unwrap_err();
    assert_eq!(e.error.code(), "AUTH", "{:?}", e.error);
    assert!(events.iter().any(|e| matches!(e, ProgressEvent::BatchStart { batch: 1, .. })));
    let p = e.partial.expect("a partial roadmap");
    assert!(!week_numbers(&p).contains(&1), "week 1 never came whole");
    let first = p.batches.first().expect("week 1 is reported");
    assert_eq!((first.start_week, first.end_week, first.status), (1, 1, BatchStatus::Failed), "{:?}", p.batches);
    let parts = t.asked().iter().filter(|a| a.starts_with("WEEK 1 DAYS")).count() as u32;
    assert_eq!(first.attempts, parts, "{:?}", t.asked());
}

/// An abort that stops a batch waiting for room under a per-minute quota names it when it is the first stopped: it
/// took the "stopped by the run's end" path, and the abort named the later batch that noticed it in its retry wait
/// while the earlier one was reported failed (found by a review).
#[test]
fn an_abort_during_a_quota_wait_names_the_first_batch_it_stopped() {
    let (prose, refused) = (Rc::new(Cell::new(false)), Rc::new(Cell::new(false)));
    let responder = gemini_with(move |req, _, task| {
        if is_weeks(1, 3)(task) && !prose.replace(true) {
            return Some(answer(req, "Sorry, here is some prose.", "STOP"));
        }
        if is_weeks(4, 6)(task) && !refused.replace(true) {
            return Some(rate_limited("30s"));
        }
        None
    });
    // Weeks 1-3 answer slowly: their prose comes while weeks 4-6 wait out the quota.
    let t = Slow::new(
        responder,
        Box::new(|req, _| if matches!(task_of(req), Task::Weeks { first: 1, .. }) { (30, 2) } else { (2, 1) }),
    );
    t.sleep_polls.set(200);
    let mut events = Vec::new();
    let r = block_on(generate(&t, &RoadmapOptions { stream: Some(false), ..parallel(12, 2) }, &mut |e| {
        events.push(e.clone());
        if matches!(e, ProgressEvent::Retry { batch: 1, .. }) && events.iter().any(|x| matches!(x, ProgressEvent::Retry { batch: 2, .. })) {
            t.abort();
        }
    }));
    let e = r.unwrap_err();
    assert_eq!(e.error, Error::Aborted);
    let p = e.partial.expect("a partial roadmap");
    let failed: Vec<u32> = p.batches.iter().filter(|b| b.status == BatchStatus::Failed).map(|b| b.start_week).collect();
    assert_eq!(failed, [1, 4], "{:?}", p.batches);
    assert_eq!(e.batch, Some(1), "the first batch the abort stopped");
}

#[test]
fn a_failed_batch_fails_the_run_with_every_week_the_others_finished() {
    // Batch 2 hits the daily quota at once: week 1's parts and the batches that started meanwhile finish
    // their answers; the batches after them never start.
    let t = Slow::varied(first_times(1, is_weeks(2, 4), |_, _| daily_quota()));
    let (r, events) = run_slow(&t, &parallel(12, 4));
    let e = r.unwrap_err();
    assert!(e.error.is_daily_quota(), "{:?}", e.error);
    assert_eq!(e.batch, Some(2));
    let p = e.partial.expect("a partial roadmap");
    let asked = t.asked();
    assert!(asked.len() < 9 && asked.contains(&"WEEK 1 DAYS 6-7".to_string()), "{asked:?}");
    let started: Vec<u32> = weeks_asked(&asked[2..]).into_iter().filter(|w| !(2..=4).contains(w)).collect();
    assert_eq!(week_numbers(&p), started, "every request in flight finished its weeks");
    let statuses: Vec<(u32, BatchStatus)> = p.batches.iter().map(|b| (b.start_week, b.status)).collect();
    assert_eq!(statuses[..2], [(1, BatchStatus::Ok), (2, BatchStatus::Failed)]);
    assert!(statuses[2..].iter().all(|s| s.1 == BatchStatus::Ok));
    assert_eq!(p.usage.requests, asked.len() as u64);
    assert!(!events.iter().any(|e| matches!(e, ProgressEvent::Done { .. })));
    assert_eq!(t.in_flight.get(), 0);

    // With fewer slots than batches: what never started never starts, what was in flight finishes.
    let t = Slow::varied(first_times(1, is_weeks(4, 6), |_, _| daily_quota()));
    let (r, _) = run_slow(&t, &parallel(26, 2));
    let e = r.unwrap_err();
    let p = e.partial.unwrap();
    assert_eq!(e.batch, Some(2));
    let failed = t.number_of("WEEKS 4-6");
    let asked = t.asked();
    for (i, a) in asked.iter().enumerate().skip(2).filter(|(_, a)| *a != "WEEKS 4-6") {
        assert!(t.started_before_end(i + 1, failed), "{a} started after batch 2 failed: {asked:?}");
    }
    assert!(asked.len() < 2 + 9, "the batches after it never started: {asked:?}");
    let expected: Vec<u32> = weeks_asked(&asked[2..]).into_iter().filter(|w| !(4..=6).contains(w)).collect();
    assert_eq!(week_numbers(&p), expected, "every batch in flight finished its weeks");

    // The partial resumes, in parallel, asking only for the missing weeks.
    let mut o = parallel(26, 4);
    o.resume_from = Some(p);
    let t = Slow::varied(gemini());
    let (rm, _) = ok_slow(&t, &o);
    assert_valid(&rm, 26);
    assert_eq!(t.asked()[0], "GET");
    assert!(!t.asked().contains(&"OUTLINE".to_string()) && !t.asked().iter().any(|a| a == "WEEKS 1-3"));
    assert_eq!(rm.batches[0].status, BatchStatus::Resumed);
}

#[test]
fn a_batch_that_runs_out_of_retries_stops_the_others_at_their_next_request() {
    // Batch 1 (week 1's parts) fails for good after its retries; batch 2 is cut and would need a follow-up,
    // which never goes out.
    let full = pretty(&weeks_value(2, 4, 6));
    let cut = full[..full.find("W3D3 title").unwrap()].to_string();
    let t = Slow::new(
        gemini_with(move |req, _, task| match task {
            Task::Days { .. } => Some(unavailable()),
            Task::Weeks { first: 2, last: 4, .. } => Some(answer(req, &cut, "MAX_TOKENS")),
            _ => None,
        }),
        // Batch 2's answer is slow; batch 1 fails fast.
        Box::new(|req, _| if last_user_text(req).ends_with("WEEKS 2-4") { (60, 20) } else { (1, 1) }),
    );
    let (r, _) = run_slow(&t, &RoadmapOptions { max_retries: Some(1.0), ..parallel(6, 4) });
    let e = r.unwrap_err();
    assert_eq!(e.error.code(), "SERVER");
    assert_eq!(e.batch, Some(1));
    assert_eq!(week_numbers(e.partial.as_ref().unwrap()), [2], "what batch 2's answer finished is kept");
    assert!(!t.asked().contains(&"WEEKS 3-4".to_string()), "no new request after the failure: {:?}", t.asked());
    let p = e.partial.unwrap();
    // Batch 2, stopped by the failure after its first answer, is reported too: it began (`batch-start`).
    let reports: Vec<(u32, u32, BatchStatus)> = p.batches.iter().map(|b| (b.start_week, b.attempts, b.status)).collect();
    assert_eq!(reports, [(1, 6, BatchStatus::Failed), (2, 1, BatchStatus::Failed)]);
}

#[test]
fn once_the_run_has_failed_no_retry_wait_starts_and_one_under_way_ends() {
    let refused = || Scripted::status(400, error_body(400, "INVALID_ARGUMENT", "bad", json!([])));
    let faults = move |_: &HttpRequest, _, task| match task {
        Task::Weeks { first: 1, .. } => Some(refused()),
        Task::Weeks { first: 4, .. } => Some(unavailable()),
        _ => None,
    };
    let retries = |events: &[ProgressEvent]| events.iter().filter(|e| matches!(e, ProgressEvent::Retry { .. })).count();
    // Batch 2 is waiting to retry (a wait of 10000 polls) when batch 1 is refused: the wait ends there.
    let t = Slow::new(
        gemini_with(faults),
        Box::new(|req, _| if last_user_text(req).ends_with("WEEKS 1-3") { (30, 1) } else { (1, 1) }),
    );
    t.sleep_polls.set(10_000);
    let (r, events) = run_slow(&t, &parallel(6, 2));
    let e = r.unwrap_err();
    assert_eq!((e.error.code(), e.batch), ("BAD_REQUEST", Some(1)));
    assert_eq!(retries(&events), 1, "batch 2 was waiting to retry");
    assert!(t.slept.get() < 100, "the wait went on for {} polls after the run failed", t.slept.get());
    assert_eq!(t.asked().iter().filter(|a| *a == "WEEKS 4-6").count(), 1);
    // Batch 2's 503 comes after batch 1 was refused: no retry is announced, no wait starts.
    let t = Slow::new(
        gemini_with(faults),
        Box::new(|req, _| if last_user_text(req).ends_with("WEEKS 4-6") { (60, 1) } else { (1, 1) }),
    );
    let (r, events) = run_slow(&t, &parallel(6, 2));
    assert_eq!(r.unwrap_err().batch, Some(1));
    assert!(t.started_before_end(t.number_of("WEEKS 4-6"), t.number_of("WEEKS 1-3")));
    assert_eq!(retries(&events), 0);
    assert!(t.inner.sleeps.borrow().is_empty());
}

#[test]
fn a_part_failing_after_the_whole_week_was_asked_for_does_not_fail_the_run() {
    // Days 4-5 come back as prose, so week 1 is asked for whole; days 6-7, a part now ignored, get a 503 later,
    // with no retry left. The run goes on.
    let t = Slow::new(
        gemini_with(|req, _, task| match task {
            Task::Days { first: 4, .. } => Some(answer(req, "Days 4 and 5 are all about practice.", "STOP")),
            Task::Days { first: 6, .. } => Some(unavailable()),
            _ => None,
        }),
        Box::new(|req, _| if last_user_text(req).ends_with("DAYS 6-7") { (40, 1) } else { (1, 1) }),
    );
    let (rm, _) = ok_slow(&t, &RoadmapOptions { max_retries: Some(0.0), ..parallel(6, 4) });
    assert_valid(&rm, 6);
    assert!(t.started_before_end(t.number_of("WEEK 1"), t.number_of("WEEK 1 DAYS 6-7")), "{:?}", t.asked());
    assert_eq!(rm.batches[0].status, BatchStatus::Recovered);
}

#[test]
fn a_refusal_every_request_would_get_fails_the_run_also_from_a_part_no_longer_needed() {
    // As above, but days 6-7 are refused for the key, the day's quota or the model: every later request would be
    // refused alike, so the run fails at once, as it does when no part was cut (found by an exploratory test:
    // the run went on sending requests with the bad key and resolved).
    type Refusal = (&'static str, fn() -> Scripted, &'static str);
    let refusals: [Refusal; 3] = [
        ("a bad key", || Scripted::status(403, error_body(403, "PERMISSION_DENIED", "API key not valid.", json!([]))), "AUTH"),
        ("the day's quota", daily_quota, "RATE_LIMITED"),
        ("an unknown model", || Scripted::status(404, error_body(404, "NOT_FOUND", "models/x is not found.", json!([]))), "NOT_FOUND"),
    ];
    // The refusal after the whole week's answer, or before it (then that answer, already on its way, is read and
    // kept, and the batch is still reported failed: the chaos test found its report overwritten as recovered).
    for ((name, refusal, code), refused_first) in refusals.into_iter().flat_map(|r| [(r, false), (r, true)]) {
        let name = &format!("{name}, refused first: {refused_first}");
        let t = Slow::new(
            gemini_with(move |req, _, task| match task {
                Task::Days { first: 4, .. } => Some(answer(req, "Days 4 and 5 are all about practice.", "STOP")),
                Task::Days { first: 6, .. } => Some(refusal()),
                _ => None,
            }),
            Box::new(move |req, _| match last_user_text(req) {
                t if t.ends_with("DAYS 6-7") => (if refused_first { 8 } else { 40 }, 1),
                t if t.ends_with("WEEK 1") && refused_first => (40, 1),
                _ => (1, 1),
            }),
        );
        let (r, _) = run_slow(&t, &parallel(6, 4));
        let e = r.expect_err(name);
        assert_eq!((e.error.code(), e.batch), (code, Some(1)), "{name}: {:?}", t.asked());
        let refused = t.number_of("WEEK 1 DAYS 6-7");
        assert!(t.started_before_end(t.number_of("WEEK 1"), refused), "{name}: week 1 asked whole first: {:?}", t.asked());
        let trace = t.trace.borrow();
        let heard = trace.iter().position(|&e| e == (false, refused)).expect("the refusal was read");
        assert!(trace[heard..].iter().all(|e| !e.0), "{name}: a request started after the refusal: {:?}", t.asked());
        let partial = e.partial.expect("partial");
        assert!(partial.weeks.iter().all(|w| !w.fallback), "{name}: only finished weeks kept");
        assert!(partial.weeks.iter().any(|w| w.week == 1), "{name}: week 1, answered, is kept");
        let first = partial.batches.iter().find(|b| b.start_week == 1).expect("week 1's batch");
        assert_eq!(first.status, BatchStatus::Failed, "{name}");
        // It counts every request of the week, the whole week's too (a review found that one left out when the
        // refusal came after it: the report was the parts' alone).
        let week1 = t.asked().iter().filter(|a| a.starts_with("WEEK 1")).count() as u32;
        assert_eq!((first.attempts, week1), (4, 4), "{name}: {:?}", t.asked());
    }
}

/// The outline streams weeks 1-20, then an in-stream error; batches start from that plan meanwhile. Its
/// retry is refused for good.
fn outline_cut_then_refused() -> Slow {
    let served = Cell::new(0);
    Slow::new(
        gemini_with(move |_, _, task| match task {
            Task::Outline { total } if served.replace(served.get() + 1) == 0 => {
                let text = pretty(&outline_value(total));
                let head = text[..text.find("\"week\": 21").unwrap()].to_string();
                let mid = head.len() / 2;
                let err = json!({"error": {"code": 500, "message": "Internal error", "status": "INTERNAL"}});
                Some(Scripted::sse(&[sse_text(&head[..mid], None), sse_text(&head[mid..], None), err.to_string()]))
            }
            Task::Outline { .. } => Some(Scripted::status(400, error_body(400, "INVALID_ARGUMENT", "bad", json!([])))),
            _ => None,
        }),
        slow_outline(40),
    )
}

#[test]
fn an_abort_while_the_weeks_held_for_a_failed_outline_are_announced_rejects_as_an_abort() {
    // The held week events are sent as the run fails; the caller aborts on the first. It rejected with the
    // outline's BAD_REQUEST, as if the abort had not been heard (found by the chaos test, seed 3).
    let t = outline_cut_then_refused();
    let mut heard_after = Vec::new();
    let mut announced = Vec::new();
    let r = block_on(generate(&t, &parallel(40, 4), &mut |e| {
        if t.is_aborted() {
            heard_after.push(e.clone());
        } else if let ProgressEvent::Week { week } = e {
            announced.push(week.week);
            t.abort();
        }
    }));
    let e = r.unwrap_err();
    assert_eq!(e.error, Error::Aborted);
    assert_eq!(e.batch, None);
    assert_eq!(heard_after, [], "no event after the abort");
    assert_eq!(announced.len(), 1);
    let p = e.partial.expect("the finished weeks are kept");
    assert!(week_numbers(&p).starts_with(&[1, 2, 3, 4]), "{:?}", week_numbers(&p));
    assert!(p.outline.is_empty(), "an unfinished plan is not passed on");
}

#[test]
fn weeks_finished_before_the_outline_fails_for_good_are_kept_announced_and_resumable() {
    let t = outline_cut_then_refused();
    let (r, events) = run_slow(&t, &parallel(40, 4));
    let e = r.unwrap_err();
    assert_eq!((e.error.code(), e.batch), ("BAD_REQUEST", None));
    let p = e.partial.expect("the weeks finished from the streamed plan");
    let done = week_numbers(&p);
    assert!(done.starts_with(&[1, 2, 3, 4]), "{done:?}");
    let mut announced = week_events(&events);
    announced.sort_unstable();
    assert_eq!(announced, done, "their events, held for the outline, are sent");
    assert!(p.outline.is_empty() && p.phases.is_empty(), "an unfinished plan is not passed on");
    // Resumed: a new outline, and only the weeks not finished are asked for.
    let mut o = parallel(40, 4);
    o.resume_from = Some(p.clone());
    let t = Slow::varied(gemini());
    let (rm, _) = ok_slow(&t, &o);
    assert_valid(&rm, 40);
    let asked = weeks_asked(&t.asked().into_iter().filter(|a| a.starts_with("WEEK")).collect::<Vec<_>>());
    assert!(asked.iter().all(|w| !done.contains(w)), "{asked:?}");
    assert_eq!(asked.len() + done.len(), 40);
    // A model rarely plans the same way twice: the new plan named other phases and titles, and the finished weeks
    // kept the old ones, so the roadmap contradicted its own plan (found by review). The prompt now lists them; the
    // plan keeps their titles, and they take its phases.
    let t = Slow::varied(gemini_with(|req, _, task| match task {
        Task::Outline { total } => {
            let mut v = outline_value(total);
            for p in v["phases"].as_array_mut().unwrap() {
                p["name"] = json!(format!("New {}", p["name"].as_str().unwrap()));
            }
            for w in v["weeks"].as_array_mut().unwrap() {
                w["title"] = json!(format!("New {}", w["title"].as_str().unwrap()));
                w["phase"] = json!(format!("New {}", w["phase"].as_str().unwrap()));
            }
            Some(answer(req, &pretty(&v), "STOP"))
        }
        _ => None,
    }));
    let (rm, _) = ok_slow(&t, &RoadmapOptions { resume_from: Some(p.clone()), ..parallel(40, 4) });
    assert_valid(&rm, 40);
    let outline_prompt = posts(&t.inner).iter().map(last_user_text).find(|p| p.ends_with("TASK: OUTLINE")).unwrap();
    for w in &p.weeks {
        assert!(outline_prompt.contains(&format!("\n{}. {}\n", w.week, w.title)), "{outline_prompt}");
        assert_eq!(rm.outline[w.week as usize - 1].title, w.title);
        assert!(rm.weeks[w.week as usize - 1].phase.starts_with("New "));
    }
}

/// The caller aborts on week 1, written in parts, while another batch's refusal (a 503, no retries left) has already
/// come in: the run rejected with that `SERVER`, not the `AbortError` of the abort that came first (found by the
/// Node chaos test, seeds 8, 11, 13 and 15). A batch of whole weeks saw the abort; the parts' assembly did not.
#[test]
fn an_abort_on_the_first_week_with_a_failure_already_on_its_way_rejects_as_the_abort() {
    let t = Slow::new(
        gemini_with(|_, _, task| match task {
            Task::Weeks { .. } => Some(Scripted::status(503, error_body(503, "UNAVAILABLE", "overloaded", json!([])))),
            _ => None,
        }),
        // The parts and batch 2 answer together: the refusal comes in the pass in which week 1 is assembled.
        Box::new(|req, _| if last_user_text(req).contains("TASK: WEEK") { (5, 1) } else { (1, 1) }),
    );
    t.deaf.set(true);
    let o = RoadmapOptions { stream: Some(false), max_retries: Some(0.0), ..parallel(6, 3) };
    let mut announced = Vec::new();
    let r = block_on(generate(&t, &o, &mut |e| {
        if let ProgressEvent::Week { week } = e {
            announced.push(week.week);
            t.abort();
        }
    }));
    let e = r.unwrap_err();
    assert!(t.asked().iter().any(|a| a.starts_with("WEEK 1 DAYS")), "{:?}", t.asked());
    assert_eq!(announced, [1]);
    assert_eq!(e.error, Error::Aborted);
    assert_eq!(week_numbers(&e.partial.unwrap()), [1]);
    assert_eq!(t.finished().len(), t.asked().len(), "every request ended");
}

#[test]
fn abort_stops_every_batch_in_flight() {
    let t = Slow::varied(gemini());
    let mut events = Vec::new();
    let at_abort = Cell::new(0);
    let mut heard_after = Vec::new();
    let r = block_on(generate(&t, &parallel(26, 4), &mut |e| {
        if t.is_aborted() {
            heard_after.push(e.clone());
        }
        if matches!(e, ProgressEvent::Week { .. }) && !t.is_aborted() {
            t.abort();
            at_abort.set(t.inner.request_count());
        }
        events.push(e.clone());
    }));
    let e = r.unwrap_err();
    assert_eq!(e.error, Error::Aborted);
    // The week's `batch-done` (and at times a next `batch-start`) still came after the abort.
    assert_eq!(heard_after, [], "no event after the abort");
    assert_eq!(t.inner.request_count(), at_abort.get(), "nothing is sent after the abort");
    assert!(t.max_in_flight.get() >= 3, "batches were running together");
    assert_eq!(t.in_flight.get(), 0, "every request in flight ended");
    let p = e.partial.unwrap();
    assert_eq!(week_events(&events), week_numbers(&p), "the partial holds exactly the weeks announced");
    assert!(!week_numbers(&p).is_empty() && week_numbers(&p).len() < 26);
    assert!(p.batches.iter().any(|b| b.status == BatchStatus::Failed));
    assert!(!events.iter().any(|e| matches!(e, ProgressEvent::Done { .. })));

    // Aborted when week 1, written in parts, is announced: its `batch-done` came after the abort, and at times
    // the `batch-start` of a batch whose request was already on its way.
    let t = Slow::varied(gemini());
    let mut heard_after = Vec::new();
    let r = block_on(generate(&t, &parallel(12, 4), &mut |e| {
        if t.is_aborted() {
            heard_after.push(e.clone());
        } else if matches!(e, ProgressEvent::Week { week } if week.week == 1) {
            t.abort();
        }
    }));
    assert_eq!(r.unwrap_err().error, Error::Aborted);
    assert!(t.asked().iter().any(|a| a.contains("WEEK 1 DAYS")), "week 1 was written in parts: {:?}", t.asked());
    assert_eq!(heard_after, [], "no event after the abort");

    // An abort while batches wait for a retry stops at once too.
    let t = Slow::varied(first_times(9, is_weeks(2, 4), |_, _| unavailable()));
    let at_abort = Cell::new(0);
    let r = block_on(generate(&t, &parallel(12, 4), &mut |e| {
        if matches!(e, ProgressEvent::Retry { .. }) && !t.is_aborted() {
            t.abort();
            at_abort.set(t.inner.request_count());
        }
    }));
    assert_eq!(r.unwrap_err().error, Error::Aborted);
    assert_eq!(t.inner.request_count(), at_abort.get(), "no request after the abort");
    assert_eq!(t.in_flight.get(), 0);
}

#[test]
fn long_roadmaps_start_the_first_batches_while_the_outline_streams() {
    // The outline's 4 SSE chunks take 10 polls each: week 1's parts go out before it has ended.
    let t = Slow::new(gemini(), slow_outline(10));
    let (rm, events) = ok_slow(&t, &parallel(52, 4));
    assert_valid(&rm, 52);
    for batch in ["WEEK 1 DAYS 1-3", "WEEK 1 DAYS 4-5", "WEEK 1 DAYS 6-7"] {
        let early = t.started_before_end(t.number_of(batch), 2);
        assert!(early, "{batch} before the outline ended: {:?}", t.trace.borrow());
    }
    assert!(t.max_in_flight.get() <= 4);
    // Nothing is announced before the outline: events of early batches are held, then sent in order.
    let kinds = kinds(&events);
    assert_eq!(kinds[0], "outline");
    assert_eq!(kinds.iter().filter(|k| **k == "week").count(), 52);
}

#[test]
fn an_outline_retried_after_batches_started_keeps_the_plan_they_use() {
    // The first outline answer streams phases and weeks 1-20, then an in-stream error, or it just ends there (a
    // connection cut on the way: no finishReason); the second answer titles every week differently. Weeks already
    // being written keep their first plan.
    for error_event in [true, false] {
        let served = Cell::new(0);
        let t = Slow::new(
            gemini_with(move |_, _, task| match task {
                Task::Outline { total } => {
                    let n = served.replace(served.get() + 1);
                    let v = outline_value(total);
                    if n == 0 {
                        let text = pretty(&v);
                        let cut = text.find("\"week\": 21").unwrap();
                        let head = text[..cut].to_string();
                        let chunk = |s: &str| sse_text(s, None);
                        let mid = head.len() / 2;
                        let err = json!({"error": {"code": 500, "message": "Internal error", "status": "INTERNAL"}});
                        let err = err.to_string();
                        let mut events = vec![chunk(&head[..mid]), chunk(&head[mid..])];
                        events.extend(error_event.then_some(err));
                        Some(Scripted::sse(&events))
                    } else {
                        let mut v = v;
                        for w in v["weeks"].as_array_mut().unwrap() {
                            w["title"] = json!(format!("Second {}", w["title"].as_str().unwrap()));
                        }
                        Some(Scripted::sse(&[sse_text(&pretty(&v), Some("STOP"))]))
                    }
                }
                _ => None,
            }),
            slow_outline(8),
        );
        let (rm, events) = ok_slow(&t, &parallel(40, 4));
        assert_complete(&rm, 40);
        // The outline's retry is announced at once; the early batches' events wait for the outline.
        assert!(matches!(events[0], ProgressEvent::Retry { batch: 0, .. }), "{:?}", &events[0]);
        assert_eq!(kinds(&events)[1], "outline");
        let asked = t.asked();
        assert_eq!(asked.iter().filter(|a| *a == "OUTLINE").count(), 2, "{asked:?}");
        let second_outline = asked.iter().rposition(|a| a == "OUTLINE").unwrap();
        assert!(asked[..second_outline].contains(&"WEEK 1 DAYS 1-3".to_string()), "a part started from the first answer");
        assert_eq!(rm.outline[0].title, week_title(1), "started weeks keep the first plan");
        assert_eq!(rm.outline[39].title, format!("Second {}", week_title(40)), "the rest comes from the new answer");
        assert!(rm.warnings.iter().any(|w| w.contains("kept their plan")), "{:?}", rm.warnings);
    }
}

#[test]
fn parallel_without_streaming_waits_for_the_outline() {
    let t = Slow::varied(gemini());
    let (rm, _) = ok_slow(&t, &RoadmapOptions { stream: Some(false), ..parallel(26, 4) });
    assert_valid(&rm, 26);
    assert!(posts(&t.inner).iter().all(|r| !r.url.contains("alt=sse")));
    assert_eq!(t.finished()[..2], [1, 2]);
}

#[test]
fn options_are_checked_before_anything_is_sent() {
    let t = ReplayTransport::with_responder(vec![], gemini());
    let bad = |o: RoadmapOptions| run(&t, &o).0.unwrap_err().error;
    let e = bad(RoadmapOptions { history: Some(HistoryMode::Full), ..parallel(12, 4) });
    let why = |field: &str, e: &Error| matches!(e, Error::InvalidInput { field: f, .. } if f == field);
    assert!(why("strategy", &e) && e.to_string().contains("history"), "{e:?}");
    for c in [0.0, 17.0, 2.5, -1.0] {
        let e = bad(RoadmapOptions { concurrency: Some(c), ..parallel(12, 4) });
        assert!(why("concurrency", &e), "{c}: {e:?}");
    }
    assert_eq!(t.request_count(), 0);
    // camelCase from JSON; unknown strategies are refused by the decoder.
    let o = json!({"apiKey": "k-1234", "role": "r", "weeks": 4, "strategy": "parallel", "concurrency": 2});
    let o: RoadmapOptions = serde_json::from_value(o).unwrap();
    assert_eq!((o.strategy, o.concurrency), (Some(Strategy::Parallel), Some(2.0)));
    let fast = json!({"apiKey": "k", "role": "r", "weeks": 4, "strategy": "fast"});
    assert!(serde_json::from_value::<RoadmapOptions>(fast).is_err());
    // Sequential ignores concurrency.
    let t = Slow::varied(gemini());
    ok_slow(&t, &RoadmapOptions { concurrency: Some(8.0), ..opts(12) });
    assert_eq!(t.max_in_flight.get(), 1);
}

#[test]
fn a_cut_answer_uses_up_attempts_only_of_the_weeks_it_reached() {
    // Like gemini-2.0-flash's 8,192 tokens: every answer is cut in its sixth week. 52 weeks asked in one
    // request come back about 5 at a time. Weeks an answer never reached are not charged for it: charged,
    // weeks 21-22 would have used up their 4 attempts in cut answers and become placeholders.
    let responder = || {
        gemini_with(|req, _, task| match task {
            Task::Weeks { first, last, total } if last - first >= 5 => {
                let full = pretty(&weeks_value(first, last, total));
                let cut = full[..full.find(&format!("W{}D3 title", first + 5)).unwrap()].to_string();
                Some(answer(req, &cut, "MAX_TOKENS"))
            }
            _ => None,
        })
    };
    let one_call = |o: RoadmapOptions| RoadmapOptions { batch_weeks: Some(52.0), ..o };
    for (o, batch, asked) in [
        (one_call(opts(52)), 0, ["WEEKS 1-52", "WEEKS 6-31", "WEEKS 11-23"]),
        // Parallel: week 1 in parts, then weeks 2-52 in one batch.
        (one_call(parallel(52, 4)), 1, ["WEEKS 2-52", "WEEKS 7-32", "WEEKS 12-24"]),
    ] {
        let t = Slow::varied(responder());
        let (rm, _) = ok_slow(&t, &o);
        assert_valid(&rm, 52);
        assert!(rm.warnings.is_empty(), "{:?}", rm.warnings);
        assert_eq!(rm.batches[batch].status, BatchStatus::Recovered);
        let weeks: Vec<String> = t.asked().into_iter().filter(|a| a.starts_with("WEEKS")).collect();
        assert_eq!(weeks[..3], asked);
    }
}

fn is_days(first: u32, last: u32) -> impl Fn(Task) -> bool {
    move |t| matches!(t, Task::Days { first: f, last: l, .. } if f == first && l == last)
}

/// Answers take polls in proportion to the days they hold, like a model writing at a steady rate.
fn by_output() -> Timing {
    Box::new(|req, _| match task_of(req) {
        Task::Weeks { first, last, .. } => (2, 7 * (last - first + 1) as usize),
        Task::Days { first, last, .. } => (2, (last - first + 1) as usize),
        _ => (2, 2),
    })
}

#[test]
fn the_first_week_is_written_in_parts_and_arrives_before_any_whole_batch() {
    let t = Slow::new(gemini(), by_output());
    let whole_batches_done = Cell::new(None);
    let mut events = Vec::new();
    let r = block_on(generate(&t, &parallel(12, 4), &mut |e| {
        if matches!(e, ProgressEvent::Week { .. }) && whole_batches_done.get().is_none() {
            let asked = t.asked();
            let done = t.finished().iter().filter(|&&n| asked[n - 1].starts_with("WEEKS")).count();
            whole_batches_done.set(Some(done));
        }
        events.push(e.clone());
    }));
    let rm = r.unwrap();
    assert_valid(&rm, 12);
    assert_eq!(week_events(&events)[0], 1, "week 1 is the first week announced");
    assert_eq!(whole_batches_done.get(), Some(0), "before any batch of whole weeks has its answer");
    // Assembled from its parts, week 1 is the week the model writes when asked for it whole.
    let seq = ReplayTransport::with_responder(vec![], gemini());
    assert_eq!(ok(&seq, &opts(12)).0.weeks, rm.weeks);
    // Concurrency 3 leaves room for 2 parts; 2 for none.
    let t = Slow::varied(gemini());
    ok_slow(&t, &parallel(12, 3));
    assert!(t.asked().contains(&"WEEK 1 DAYS 1-4".to_string()) && t.asked().contains(&"WEEK 1 DAYS 5-7".to_string()));
    assert!(t.max_in_flight.get() <= 3);
    let t = Slow::varied(gemini());
    ok_slow(&t, &parallel(12, 2));
    assert!(t.asked().iter().all(|a| !a.contains("DAYS")) && t.asked().contains(&"WEEKS 1-3".to_string()));
}

#[test]
fn an_unusable_part_has_the_whole_week_asked_for_instead() {
    let prose = "Days 4 and 5 are all about practice.".to_string();
    let short = pretty(&days_value(1, 4, 4, 12));
    let cut = {
        let full = pretty(&days_value(1, 4, 5, 12));
        // In the middle of day 5's title, its last key: repaired, it would pass for a complete day.
        full[..full.find("W1D5 title").unwrap() + 7].to_string()
    };
    type Fault = Box<dyn Fn(&HttpRequest) -> Scripted>;
    let faults: Vec<(&str, Fault)> = vec![
        ("prose", Box::new(move |req| answer(req, &prose, "STOP"))),
        ("a day short", Box::new(move |req| answer(req, &short, "STOP"))),
        ("cut", Box::new(move |req| answer(req, &cut, "MAX_TOKENS"))),
        ("stopped", Box::new(|req| answer(req, &pretty(&days_value(1, 4, 5, 12)), "SAFETY"))),
        ("unreadable body", Box::new(|_| Scripted::ok("{\"candidates\": [{\"content\""))),
    ];
    for (name, fault) in faults {
        let t = Slow::varied(first_times(1, is_days(4, 5), move |req, _| fault(req)));
        let (rm, events) = ok_slow(&t, &parallel(12, 4));
        assert_valid(&rm, 12);
        let asked = t.asked();
        assert_eq!(asked.iter().filter(|a| *a == "WEEK 1").count(), 1, "{name}: {asked:?}");
        let seq = ReplayTransport::with_responder(vec![], gemini());
        assert_eq!(ok(&seq, &opts(12)).0.weeks, rm.weeks, "{name}");
        let b = &rm.batches[0];
        assert_eq!((b.start_week, b.end_week, b.status), (1, 1, BatchStatus::Recovered), "{name}");
        assert_eq!(b.attempts, 4, "{name}: 3 parts and the whole week");
        let retry = events.iter().find_map(|e| match e {
            ProgressEvent::Retry { batch: 1, reason, .. } => Some(reason.clone()),
            _ => None,
        });
        assert_eq!(retry.as_deref(), Some("days 4-5 of week 1 were not usable; asking for the whole week"), "{name}");
        let starts = events.iter().filter(|e| matches!(e, ProgressEvent::BatchStart { batch: 1, .. })).count();
        let dones = events.iter().filter(|e| matches!(e, ProgressEvent::BatchDone { batch: 1, .. })).count();
        assert_eq!((starts, dones), (1, 1), "{name}: one start and one done for the week's batch");
    }
}

#[test]
fn parts_retry_transient_errors_and_keep_their_own_day_numbers() {
    // Days 6-7 get a 503 first; days 4-5 come numbered 1-2, as a model may number them.
    let renumbered = {
        let mut v = days_value(1, 4, 5, 12);
        v["days"][0]["day"] = json!(1);
        v["days"][1]["day"] = json!(2);
        pretty(&v)
    };
    let t = Slow::varied(gemini_with(move |req, n, task| match task {
        Task::Days { first: 6, .. } if n < 8 => Some(unavailable()),
        Task::Days { first: 4, .. } => Some(answer(req, &renumbered, "STOP")),
        _ => None,
    }));
    let (rm, events) = ok_slow(&t, &parallel(12, 4));
    assert_valid(&rm, 12);
    let seq = ReplayTransport::with_responder(vec![], gemini());
    assert_eq!(ok(&seq, &opts(12)).0.weeks[0], rm.weeks[0]);
    assert_eq!(t.asked().iter().filter(|a| *a == "WEEK 1 DAYS 6-7").count(), 2);
    assert!(!t.asked().contains(&"WEEK 1".to_string()), "transient errors are retried, not given up on");
    assert!(events.iter().any(|e| matches!(e, ProgressEvent::Retry { batch: 1, delay_ms, .. } if *delay_ms > 0)));
    assert_eq!((rm.batches[0].status, rm.batches[0].attempts), (BatchStatus::Ok, 4));
}

/// A part of week 1 starts once the outline has streamed its first two weeks. When a part came back unusable, the
/// whole week was asked for at once, its prompt listing the titles of weeks not streamed yet: the placeholders a
/// partial outline holds ("4. Containers (week 1)"), not the plan's (found by review).
#[test]
fn the_whole_first_week_asked_for_after_an_unusable_part_lists_the_plans_titles() {
    let t = Slow::new(first_times(1, is_days(1, 3), |r, _| answer(r, "Sorry, prose.", "STOP")), slow_outline(30));
    let (rm, _) = ok_slow(&t, &parallel(12, 4));
    assert_valid(&rm, 12);
    let whole = prompt_for(&t, "WEEK 1");
    for o in &rm.outline {
        assert!(whole.contains(&format!("{}. {}", o.week, o.title)), "week {} of the plan is missing from:\n{whole}", o.week);
    }
}

/// A resumed parallel run has no outline request to learn on: its first requests all go out at once with the
/// thinking settings. The first refusal dropped them; the others, refused for the same settings, were then taken
/// for other 400s and failed the run, on every resume (found by review).
#[test]
fn concurrent_requests_refused_for_the_thinking_settings_are_all_asked_again() {
    let t = Slow::varied(first_times(1, is_weeks(1, 3), |_, _| daily_quota()));
    let partial = run_slow(&t, &opts(12)).0.unwrap_err().partial.unwrap();
    assert!(partial.weeks.is_empty() && partial.outline.len() == 12);
    let refuses_thinking = gemini_with(|req, _, _| {
        body_json(req)["generationConfig"].get("thinkingConfig").map(|_| {
            Scripted::status(400, error_body(400, "INVALID_ARGUMENT", "Budget 0 is invalid. This model only works in thinking mode.", json!([])))
        })
    });
    let t = Slow::varied(refuses_thinking);
    let o = RoadmapOptions { resume_from: Some(partial), model: Some("gemini-2.5-flash".into()), ..parallel(12, 4) };
    let (rm, _) = ok_slow(&t, &o);
    assert_valid(&rm, 12);
    assert_eq!(rm.warnings.iter().filter(|w| w.contains("refused the thinking settings")).count(), 1, "{:?}", rm.warnings);
}

#[test]
fn a_resumed_run_writes_its_first_missing_week_in_parts_after_the_finished_days() {
    let t = Slow::varied(first_times(1, is_weeks(4, 6), |_, _| daily_quota()));
    let partial = run_slow(&t, &opts(12)).0.unwrap_err().partial.unwrap();
    assert_eq!(week_numbers(&partial), [1, 2, 3]);
    let t = Slow::varied(gemini());
    let (rm, _) = ok_slow(&t, &RoadmapOptions { resume_from: Some(partial), ..parallel(12, 4) });
    assert_valid(&rm, 12);
    assert_eq!(t.asked()[1..4], ["WEEK 4 DAYS 1-3", "WEEK 4 DAYS 4-5", "WEEK 4 DAYS 6-7"]);
    let part = prompt_for(&t, "WEEK 4 DAYS 4-5");
    assert!(part.contains("The learner has just finished these days of week 3"), "{part}");
    let spans: Vec<(u32, u32, BatchStatus)> = rm.batches.iter().map(|b| (b.start_week, b.end_week, b.status)).collect();
    assert_eq!(spans[..3], [(1, 3, BatchStatus::Resumed), (4, 4, BatchStatus::Ok), (5, 7, BatchStatus::Ok)]);
}

/// Contract (README, Progress events / What happens when things fail): a `retry` event announces "the batch's
/// request about to run"; once a batch of a parallel run fails for good, "nothing new starts" and "the others
/// send nothing more". A batch in flight whose (unreadable) answer arrives after the failure still announces a
/// retry that is never sent.
#[test]
fn no_retry_is_announced_after_a_parallel_run_has_failed() {
    let responder = gemini_with(|req, _, task| match task {
        Task::Weeks { first: 1, .. } => Some(Scripted::status(400, error_body(400, "INVALID_ARGUMENT", "bad", json!([])))),
        Task::Weeks { first: 4, .. } => Some(answer(req, "Sorry, I cannot write that as JSON.", "STOP")),
        _ => None,
    });
    let timing: Timing = Box::new(|req, _| if last_user_text(req).contains("TASK: WEEKS 4-6") { (30, 1) } else { (1, 1) });
    let t = Slow::new(responder, timing);
    let o = RoadmapOptions { batch_weeks: Some(3.0), stream: Some(false), ..parallel(6, 2) };
    let (r, events) = run_slow(&t, &o);
    let e = r.expect_err("the 400 fails the run");
    assert_eq!(e.error.code(), "BAD_REQUEST");
    let asked = t.asked();
    let sent_for_2 = asked.iter().filter(|a| a.starts_with("WEEKS 4-6") || a.starts_with("WEEK 4") || a.starts_with("WEEK 5") || a.starts_with("WEEK 6")).count() as u32;
    let retries_2: Vec<u32> = events
        .iter()
        .filter_map(|e| match e {
            ProgressEvent::Retry { batch: 2, attempt, .. } => Some(*attempt),
            _ => None,
        })
        .collect();
    assert!(
        retries_2.iter().all(|&a| a <= sent_for_2),
        "batch 2 announced retries {retries_2:?} but only {sent_for_2} request(s) were sent for it (asked {asked:?})"
    );
}

/// A batch whose answer came in full while another batch waits out a per-minute quota ends then: its
/// `batch-done` waited for the end of that wait (40 s and more), as if the batch were still running (found by an
/// exploratory test of the demo).
#[test]
fn a_batch_finished_during_another_batchs_quota_wait_is_done_at_once() {
    let t = Slow::varied(first_times(1, is_weeks(5, 7), |_, _| rate_limited("40s")));
    t.sleep_polls.set(400);
    let mut done_at = Vec::new();
    let r = block_on(generate(&t, &parallel(12, 4), &mut |e| {
        if let ProgressEvent::BatchDone { batch, .. } = e {
            done_at.push((*batch, t.slept.get()));
        }
    }));
    assert_complete(&r.unwrap(), 12);
    assert_eq!(t.sleep_spans.borrow().len(), 1, "one quota wait");
    // Batch 2 (weeks 2-4) was in flight when batch 3 was refused, and finished long before the wait ended.
    let two = t.number_of("WEEKS 2-4");
    let (began, ended) = t.sleep_spans.borrow()[0];
    assert!(t.trace.borrow()[began..ended].contains(&(false, two)), "batch 2's answer came during the wait");
    let (_, at) = done_at.iter().find(|d| d.0 == 2).copied().expect("batch 2 done");
    assert!(at < 400, "batch 2 was announced done only after the wait: {done_at:?}");
}
