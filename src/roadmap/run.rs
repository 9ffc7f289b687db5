//! The generation loop: model lookup, outline, then the batches, sequential or parallel, with streaming week
//! events, JSON fallbacks, bounded recovery and retries. Finished weeks are never lost: every failure carries them.
//!
//! Both strategies run the same tasks (the outline, then one task per batch) through [`join_limited`]: one
//! at a time for `sequential`, at most `concurrency` at a time for `parallel`. The tasks share the run's state
//! through a `RefCell` that is only ever borrowed between two awaits, never across one, so tasks interleave
//! freely on one thread (the transport's futures are `!Send` wasm futures).
//!
//! Parallel runs stream the outline and start the first batches as soon as the part of the plan their
//! prompts show has arrived (their events are held until the whole outline is announced). A batch gets the
//! plan and its planned neighbouring weeks instead of the previous batch's days. When a task fails for good,
//! nothing new starts; batches in flight stop at their next request or wait (a wait under way is cut short),
//! keeping the weeks they finished.

use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;

use crate::json::{num, quote, Value};

use super::fallback::fallback_week;
use super::join::{join_limited, LocalFuture};
use super::model::{
    BatchReport, BatchStatus, Day, OutlineWeek, Phase, ProgressEvent, Roadmap, RoadmapError, RoadmapUsage, Week,
};
use super::options::{check_weeks, finished_slots, one_line, outline_is_complete, same_role, RoadmapOptions};
use super::planner::{day_parts, halve, next_range, plan, plan_with_lead, Planned};
use super::prompt::{
    days_prompt, outline_prompt, span, title_window, weeks_prompt_with, DaysRequest, Learner, Neighbours, WeeksRequest,
    SYSTEM_INSTRUCTION,
};
use super::schema::{days_schema, outline_schema, weeks_schema};
use super::stream::WeekDetector;
use super::validate::{
    check_in_plan, finish_week, read_batch, read_days, read_outline, read_outline_prefix, read_week, week_number, week_values,
    Problem,
};
use crate::gemini::{
    Content, Counted, Endpoint, GeminiClient, GenerateRequest, GenerationConfig, Reply, ThinkingConfig, Transport,
    BLOCK_REASONS,
};
use crate::json::repair_json;
use crate::retry::{is_minute_quota, RetryPolicy, Tries};
use crate::Error;

/// A Gemini 3 model, or one of Google's moving aliases (`gemini-flash-latest`, `gemini-flash-lite-latest`,
/// `gemini-pro-latest`), which point at the newest generation: without this they would be sent 2.5's settings, or
/// none, and think at the model's default level.
fn third_generation(model: &str) -> bool {
    model.starts_with("gemini-3") || ["gemini-flash-latest", "gemini-flash-lite-latest", "gemini-pro-latest"].contains(&model)
}

/// Keeps thinking from eating the output budget: the least each model allows. `None` leaves the model's default.
pub fn thinking_for(model: &str) -> Option<ThinkingConfig> {
    let t = ThinkingConfig::default();
    if model.starts_with("gemini-2.5-pro") {
        Some(ThinkingConfig { thinking_budget: Some(128), ..t })
    } else if model.starts_with("gemini-2.5") {
        Some(ThinkingConfig { thinking_budget: Some(0), ..t })
    } else if third_generation(model) {
        // A 3.x Flash-Lite goes down to `minimal` (no thinking); Flash and Pro models refuse it.
        let lite = crate::text::find(model, "flash-lite").is_some();
        Some(ThinkingConfig { thinking_level: Some(if lite { "minimal" } else { "low" }.into()), ..t })
    } else {
        None
    }
}

fn times(n: u32) -> String {
    match n {
        1 => "once".into(),
        2 => "twice".into(),
        n => cat!(n, " times"),
    }
}

fn parse_value(text: &str) -> Option<(Value, bool)> {
    let r = repair_json(text).ok()?;
    Some((Value::parse(&r.json).ok()?, r.truncated))
}

/// An outline answer up to its last complete week entry, closed there: a cut answer's last entry may be half
/// written (a title cut mid-word), and a half-written title must not become the plan of a week.
fn complete_outline(text: &str) -> Option<Value> {
    let mut det = WeekDetector::new();
    let end = det.push(text).last()?.1.end;
    closed_outline(crate::text::slice(det.text(), ..end))
}

/// An outline answer that ends right after a complete week entry, read as if its week list and object closed
/// there: everything before that entry is complete too.
fn closed_outline(prefix: &str) -> Option<Value> {
    parse_value(&cat!(prefix, "]}")).map(|p| p.0)
}

/// The phase a week falls in, by the phase ranges.
fn phase_name(phases: &[Phase], week: u32) -> String {
    phases.iter().find(|p| p.end_week >= week).or(phases.first()).map(|p| p.name.clone()).unwrap_or_default()
}

/// The report of weeks `start_week..=end_week` before any request.
fn new_report(start_week: u32, end_week: u32) -> BatchReport {
    BatchReport { start_week, end_week, attempts: 0, response_chars: 0, status: BatchStatus::Ok }
}

/// Which request of its batch a generate request is, for its retry: a retry announces the number after it.
#[derive(Clone, Copy)]
struct Attempt {
    /// 0: the outline (or the model lookup).
    batch: u32,
    /// The request's number, as the batch's `attempts` count them (a part of the split week counts its own).
    number: u32,
    /// A part of the split week, whose retries stop once the week is asked for whole.
    part: bool,
    /// The weeks a batch's request asks for: once all have streamed in, a stream broken off after them lost nothing.
    weeks: Option<(u32, u32)>,
}

/// The first week of a parallel run, written in parts by concurrent requests (see [`day_parts`]).
struct Split {
    /// The week's place in the plan (and in the reports).
    pos: usize,
    /// Each part's days, once they came.
    parts: Vec<Option<Vec<Day>>>,
    /// The report of the week's batch: every part's requests, and the whole week's once it is asked for (added
    /// when that request ends).
    report: BatchReport,
    started: bool,
    /// A part's answer was unusable: the week is asked whole, like any batch, and the other parts are ignored.
    whole: bool,
}

/// Everything the tasks of a run share. Borrowed only between awaits.
struct State {
    config: GenerationConfig,
    rm: Roadmap,
    slots: Vec<Option<Week>>,
    /// Weeks finished before the run started (`resumeFrom`).
    resumed: Vec<bool>,
    attempts: Vec<u32>,
    /// The last problem of each unfinished week and how many answers in a row had it.
    problems: Vec<Option<(Problem, u32)>>,
    /// Weeks to re-ask alone with a correction.
    correct: Vec<bool>,
    history: Vec<Content>,
    /// Batch reports by position in the plan; `None` for batches that never finished nor failed.
    reports: Vec<Option<BatchReport>>,
    /// `rm.phases` and `rm.outline` are final (generated, or taken from `resumeFrom`).
    outline_ready: bool,
    /// While the outline streams: weeks `1..=known` of `rm.outline` are certain.
    known: u32,
    /// Weeks of the streamed outline that started batches have used: a later outline answer cannot change them.
    pinned: u32,
    /// An outline answer failed after batches started from it: no more starts until the outline is final.
    frozen: bool,
    /// Events of batches that started before the outline was announced, held until it is.
    held: Option<Vec<ProgressEvent>>,
    /// A task failed: nothing new starts, batches in flight stop at their next request or wait.
    stop: bool,
    /// The first failure, and the batch it happened in.
    failure: Option<(Error, Option<u32>)>,
    /// Tasks waiting out a per-minute quota: meanwhile no other task sends, since Gemini would refuse it too.
    quota_waits: u32,
    /// Generate requests in flight, and how many may be once a per-minute quota was hit: one, growing by one
    /// with each answer to a request sent since, so that a freed minute-slot is not raced for by every batch.
    in_flight: u32,
    quota_cap: Option<u32>,
    /// Tasks waiting in `quota_clear` to send a request a per-minute quota refused: they go before the others.
    quota_refused: u32,
    /// Per-minute quota refusals so far, and answers since the cap last grew.
    quota_hits: u32,
    quota_acks: u32,
    split: Option<Split>,
    /// Gemini refused a schema with item counts: they are left out from then on.
    schemas_without_counts: bool,
}

/// Counts a refused request waiting for room in `quota_clear` while it lives; gone (sent, or the run moved on), the
/// others look again.
struct QueuedRefusal<'r, 'a, T: Transport>(&'r Run<'a, T>);

impl<'r, 'a, T: Transport> QueuedRefusal<'r, 'a, T> {
    fn new(run: &'r Run<'a, T>) -> Self {
        run.st_mut().quota_refused += 1;
        QueuedRefusal(run)
    }
}

impl<T: Transport> Drop for QueuedRefusal<'_, '_, T> {
    fn drop(&mut self) {
        self.0.st_mut().quota_refused -= 1;
        self.0.bump();
    }
}

struct Run<'a, T: Transport> {
    t: Counted<'a, T>,
    endpoint: Endpoint,
    opts: &'a RoadmapOptions,
    role: String,
    level: Option<String>,
    total: u32,
    hours_per_day: Option<f64>,
    policy: RetryPolicy,
    /// Regenerating one week: a spent budget is an error, not a placeholder.
    regenerating: bool,
    /// The parallel strategy: neighbours from the plan instead of the previous batch's days.
    parallel: bool,
    on_event: RefCell<&'a mut dyn FnMut(&ProgressEvent)>,
    st: RefCell<State>,
    /// Bumped when something a waiting task looks at changes (see [`join_limited`]).
    tick: Cell<u64>,
}

impl<'a, T: Transport> Run<'a, T> {
    fn new(
        transport: &'a T,
        opts: &'a RoadmapOptions,
        base: Option<&Roadmap>,
        on_event: &'a mut dyn FnMut(&ProgressEvent),
    ) -> Result<Self, Error> {
        let total = opts.total_weeks();
        let role = one_line(&opts.role);
        let level = opts.level.as_deref().or_else(|| base.and_then(|r| r.level.as_deref())).map(one_line);
        let user_id = opts.user_id.clone().or_else(|| base.and_then(|r| r.user_id.clone()));
        let hours_per_day = opts.hours_per_day.or(base.and_then(|r| r.hours_per_day));
        let rm = match base {
            Some(r) => Roadmap { weeks: Vec::new(), user_id, level: level.clone(), hours_per_day, ..r.clone() },
            None => Roadmap {
                role: role.clone(),
                total_weeks: total,
                user_id,
                level: level.clone(),
                hours_per_day,
                phases: Vec::new(),
                outline: Vec::new(),
                weeks: Vec::new(),
                usage: RoadmapUsage::default(),
                batches: Vec::new(),
                warnings: Vec::new(),
            },
        };
        let n = total as usize + 1;
        let slots = finished_slots(total, base);
        let endpoint = opts.endpoint()?;
        let state = State {
            config: GenerationConfig {
                response_mime_type: Some("application/json".into()),
                // Google asks to keep Gemini 3 at its default temperature (1.0): lower values can make it loop.
                temperature: (!third_generation(&endpoint.model)).then_some(0.7),
                ..Default::default()
            },
            resumed: slots.iter().map(Option::is_some).collect(),
            slots,
            outline_ready: !rm.outline.is_empty(),
            known: rm.outline.len() as u32,
            rm,
            attempts: vec![0; n],
            problems: vec![None; n],
            correct: vec![false; n],
            history: Vec::new(),
            reports: Vec::new(),
            pinned: 0,
            frozen: false,
            held: None,
            stop: false,
            failure: None,
            quota_waits: 0,
            in_flight: 0,
            quota_cap: None,
            quota_refused: 0,
            schemas_without_counts: false,
            quota_hits: 0,
            quota_acks: 0,
            split: None,
        };
        Ok(Run {
            t: Counted::new(transport),
            endpoint,
            opts,
            role,
            level,
            total,
            hours_per_day,
            policy: RetryPolicy { max_retries: opts.retries(), ..RetryPolicy::default() },
            regenerating: false,
            parallel: opts.parallel(),
            on_event: RefCell::new(on_event),
            st: RefCell::new(state),
            tick: Cell::new(0),
        })
    }

    /// The shared state, borrowed through one function each way: `RefCell`'s own are inlined with a panic
    /// location per call site.
    #[inline(never)]
    fn st(&self) -> std::cell::Ref<'_, State> {
        self.st.borrow()
    }

    #[inline(never)]
    fn st_mut(&self) -> std::cell::RefMut<'_, State> {
        self.st.borrow_mut()
    }

    fn log(&self, line: &str) {
        if self.opts.logging() {
            self.t.log(line);
        }
    }

    fn bump(&self) {
        self.tick.set(self.tick.get() + 1);
    }

    /// Sends an event, or holds it while batches run ahead of the outline announcement (the outline's own
    /// retries are never held).
    fn emit(&self, e: ProgressEvent) {
        // After an abort the caller hears nothing more: what a parallel run's answers already delivered is kept (in
        // `partial`), but its events would follow the abort.
        if self.t.is_aborted() {
            return;
        }
        if !matches!(e, ProgressEvent::Retry { batch: 0, .. }) {
            if let Some(held) = &mut self.st_mut().held {
                held.push(e);
                return;
            }
        }
        (self.on_event.borrow_mut())(&e);
    }

    fn warn(&self, message: String) {
        self.log(&message);
        self.st_mut().rm.warnings.push(message.clone());
        self.emit(ProgressEvent::Warning { message });
    }

    fn usage(&self) -> RoadmapUsage {
        let u = self.st().rm.usage;
        RoadmapUsage { requests: u.requests + self.t.sent(), ..u }
    }

    fn hours(&self) -> f64 {
        self.hours_per_day.unwrap_or(2.0)
    }

    fn learner(&self) -> Learner<'_> {
        Learner {
            role: &self.role,
            total_weeks: self.total,
            level: self.level.as_deref(),
            hours_per_day: self.hours_per_day,
        }
    }

    fn check_abort(&self) -> Result<(), Error> {
        if self.t.is_aborted() {
            Err(Error::Aborted)
        } else {
            Ok(())
        }
    }

    fn stopped(&self) -> bool {
        self.st().stop
    }

    /// Records a failure (the first one wins) and stops the run.
    fn fail_run(&self, error: Error, batch: Option<u32>) {
        let mut st = self.st_mut();
        match &mut st.failure {
            None => st.failure = Some((error, batch)),
            // One abort stops every request in flight, and each notices it in turn: a batch that checks the signal
            // before its first request does at once, one waiting on fetch only when its promise rejects. The abort
            // names the first batch (or the outline, `None`) that was under way, not the first to notice.
            Some((Error::Aborted, first)) if error == Error::Aborted && batch < *first => *first = batch,
            Some(_) => {}
        }
        st.stop = true;
        drop(st);
        self.bump();
    }

    /// Keeps and announces a week the first time it is finished; a week already kept is never replaced,
    /// so weeks announced while streaming are the ones in the result.
    fn commit(&self, week: Week) {
        let fresh = {
            let mut st = self.st_mut();
            let slot = &mut st.slots[week.week as usize];
            slot.is_none().then(|| *slot = Some(week.clone())).is_some()
        };
        if fresh {
            self.emit(ProgressEvent::Week { week });
        }
    }

    /// After the failed request `at`: waits and returns `Ok` to try again, or the error to fail with. Once the run
    /// has stopped, or for a part of the split week once the week is asked for whole, returns `Ok` at once (or as
    /// soon as it is so, mid-wait): the caller's loop sees it. A per-minute quota is waited out all the same, unheard:
    /// while that wait lasts no task sends (`quota_clear`), or the whole week's request would meet the quota again.
    async fn after_failure(&self, at: Attempt, what: &str, tries: &mut Tries, err: Error) -> Result<(), Error> {
        let Some(delay_ms) = self.policy.next_delay_ms(tries, &err, self.t.random()) else { return Err(err) };
        let quota = is_minute_quota(&err);
        let needless = || at.part && self.with_split(|s, _| s.whole);
        let moot = || self.stopped() || (!quota && needless());
        if moot() {
            return Ok(());
        }
        if !needless() {
            self.announce_retry(at.batch, what, at.number + 1, delay_ms, err.text());
        }
        self.st_mut().quota_waits += quota as u32;
        // `fail_run` and asking for the split week whole bump the tick, so the join polls this wait again then.
        let mut sleep = pin!(self.t.sleep(delay_ms));
        let slept = poll_fn(|cx| if moot() { Poll::Ready(Ok(())) } else { sleep.as_mut().poll(cx) }).await;
        if quota {
            self.st_mut().quota_waits -= 1;
            self.bump();
        }
        slept?;
        self.check_abort()
    }

    /// Waits while a request sent now would meet a full per-minute quota: while a task waits one out, and,
    /// once one was hit, while the requests in flight fill the cap. Returns at once when the run stops.
    /// `tries.refusals > 0`: the quota refused this request, which then goes before any other waiting for room.
    /// Else a later batch, polled after the slot freed in the same pass, could take it (the first week, refused
    /// once, came last: found by a review).
    async fn quota_clear(&self, tries: &Tries) {
        let refused = tries.refusals > 0;
        let _queued = refused.then(|| QueuedRefusal::new(self));
        poll_fn(|_| {
            let st = self.st();
            let room = st.quota_waits == 0
                && st.quota_cap.is_none_or(|cap| st.in_flight < cap)
                && (refused || st.quota_refused == 0);
            if st.stop || room {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await
    }

    /// Asks once: the run's one door for generate requests (callers pass `quota_clear` first, with no await
    /// between). `at` says which request this is (batch 0: the outline). A failure worth trying again is waited
    /// out here and comes back as `Ok(None)`, for the caller's loop to ask again (or to see the stop); an unreadable
    /// answer comes back as `Err(Malformed)`, for the caller to judge. The outline, the batches and the parts share
    /// this one await: each await of a future adds its polling and drop code to the caller's state machine.
    async fn ask(
        &self,
        at: Attempt,
        prompt: &str,
        schema: Value,
        on_delta: &mut dyn FnMut(&str),
        tries: &mut Tries,
    ) -> Result<Option<Reply>, Error> {
        let req = self.request(prompt, schema);
        let sent_thinking = req.generation_config.as_ref().is_some_and(|c| c.thinking_config.is_some());
        let (hits, sent_counts) = {
            let mut st = self.st_mut();
            st.in_flight += 1;
            (st.quota_hits, !st.schemas_without_counts)
        };
        let result = GeminiClient::new(&self.t, &self.endpoint).generate(&req, self.opts.streaming(), on_delta).await;
        // A 400 that breaks off a stream Gemini had begun to answer cannot be the refusal of what the request asked;
        // one in place of the stream's first event can (a proxy writes it so on a 200).
        let refusal = result.as_ref().map_or(true, |r| r.text.is_empty() && r.candidates == 0 && r.usage.prompt_tokens == 0);
        // Every reply's cost is counted, a stream broken off after some events included; that one then fails like
        // any request.
        let result = result.and_then(|mut reply| {
            self.st_mut().rm.usage.add_reply(&reply.usage);
            // An answer whose JSON closed before the stream broke off is whole: taken like one whose closing event
            // was merely lost (read only then: every other answer is read once, by its caller). So is one whose
            // weeks all streamed in before it broke off: asking again would ask for nothing.
            match reply.broken_by.take() {
                Some(e)
                    if e == Error::Aborted
                        || (parse_value(&reply.text).is_none_or(|p| p.1)
                            && at.weeks.is_none_or(|(a, b)| !self.unfinished(a, b, &|_| false).is_empty())) =>
                {
                    Err(e)
                }
                _ => Ok(reply),
            }
        });
        {
            let mut st = self.st_mut();
            st.in_flight -= 1;
            match &result {
                Err(e) if is_minute_quota(e) => {
                    st.quota_hits += 1;
                    st.quota_cap = Some(1);
                    st.quota_acks = 0;
                }
                // Answers to requests sent before the last refusal say nothing about the room there is now. The
                // cap grows by one per `cap` answers (one round of requests), not per answer: answers much faster
                // than the quota's minute would otherwise bring back full concurrency within that minute.
                Ok(_) if hits == st.quota_hits => {
                    if let Some(cap) = st.quota_cap {
                        st.quota_acks += 1;
                        if st.quota_acks >= cap {
                            st.quota_acks = 0;
                            st.quota_cap = Some(cap + 1).filter(|&cap| (cap as usize) < self.opts.concurrency());
                        }
                    }
                }
                _ => {}
            }
        }
        self.bump();
        match result {
            // An outline stream cut on the way (no finishReason: not Gemini's own cut at MAX_TOKENS, which asking
            // again repeats) is asked again while retries are left: completing it from its phases would make up
            // the missing weeks' titles, where the same request usually brings the whole plan. So is the one week
            // `regenerateWeek` asks for: a cut answer holds no complete week to keep, and asking again at once
            // would spend its attempts without a pause. After the retries, the outline uses what came (or fails as
            // the cut when nothing in it is usable); the week fails as the transport failure it is.
            // A refused prompt (`blockReason`) has no finishReason either: it is no cut, and fails. Nor is an answer
            // with no candidates at all, which came whole (with its usage): it is read as the empty answer it is. A
            // stream that ended before its first event is a cut.
            // Nor is an answer that closed before the cut (only the closing event lost): the outline's JSON closed, or
            // the week, which was taken while it streamed.
            Ok(reply)
                if ((at.batch == 0 && parse_value(&reply.text).is_none_or(|p| p.1))
                    || (self.regenerating && self.st().slots[1..].iter().any(Option::is_none)))
                    && reply.finish_reason.is_none()
                    && reply.block_reason.is_none()
                    && (reply.candidates > 0 || reply.usage.prompt_tokens == 0) =>
            {
                let what = if at.batch == 0 {
                    self.outline_attempt_failed();
                    "outline".to_string()
                } else {
                    cat!("batch ", at.batch)
                };
                let cut = Error::Network { message: "the answer's stream was cut off".into() };
                match self.after_failure(at, &what, tries, cut).await {
                    Ok(()) => Ok(None),
                    // Marked with the cut, so that an outline with nothing usable in it fails as the cut it is.
                    Err(e @ Error::Network { .. }) if at.batch == 0 => Ok(Some(Reply { broken_by: Some(e), ..reply })),
                    Err(e) => Err(e),
                }
            }
            Ok(reply) => {
                *tries = Tries::default();
                Ok(Some(reply))
            }
            Err(e @ Error::Malformed { .. }) => {
                *tries = Tries::default();
                Err(e)
            }
            Err(Error::BadRequest { message, .. })
                if refusal
                    && ((sent_thinking && self.refused_thinking(&message)) || (sent_counts && self.refused_schema(&message))) =>
            {
                if at.batch == 0 {
                    self.outline_attempt_failed();
                }
                Ok(None)
            }
            Err(e) => {
                let what = if at.batch == 0 {
                    // What it streamed must be forgotten before the wait, while batches may look at it.
                    self.outline_attempt_failed();
                    "outline".to_string()
                } else {
                    cat!("batch ", at.batch)
                };
                self.after_failure(at, &what, tries, e).await?;
                Ok(None)
            }
        }
    }

    /// Whether a 400 to a request sent with thinking settings refused them: they are then dropped (once, for every
    /// request after) and the model's own used, so that a model whose rules changed under its name (Google retires
    /// a model by routing its name to a newer one) still answers. The request is asked again without costing an
    /// attempt; so are the concurrent ones sent with the same settings before the first refusal came back.
    fn refused_thinking(&self, message: &str) -> bool {
        if crate::text::find(&message.to_ascii_lowercase(), "thinking").is_none() {
            return false;
        }
        if self.st_mut().config.thinking_config.take().is_some() {
            self.warn_refused("thinking settings", message, "with the model's own");
        }
        true
    }

    /// Whether a 400 to a request sent with item counts in its schema may have refused them: Gemini refuses some
    /// schemas with array bounds with no more than "Request contains an invalid argument." (3.x models) or "…too
    /// many states for serving…" (2.5). The counts are then left out (once, for every request after) and checked
    /// on the answers alone; the request is asked again without costing an attempt. Any other 400, or the same one
    /// again, fails as before.
    fn refused_schema(&self, message: &str) -> bool {
        let lower = message.to_ascii_lowercase();
        if !(lower.trim_end_matches('.') == "request contains an invalid argument"
            || crate::text::find(&lower, "too many states").is_some())
        {
            return false;
        }
        if !std::mem::replace(&mut self.st_mut().schemas_without_counts, true) {
            self.warn_refused("response schema", message, "without its item counts, which are checked on the answers");
        }
        true
    }

    /// Warns, once per setting, that the model refused `what` of our request and how it is asked again.
    fn warn_refused(&self, what: &str, message: &str, instead: &str) {
        self.warn(cat!(&self.endpoint.model, " refused the ", what, " (", message, "); asking again ", instead));
    }

    /// Logs and reports that `what` is tried again (attempt number `attempt`) after `delay_ms`.
    fn announce_retry(&self, batch: u32, what: &str, attempt: u32, delay_ms: u64, reason: String) {
        self.log(&cat!("Retrying ", what, " in ", num::seconds_1dp(delay_ms), "s (attempt ", attempt, "): ", &reason));
        self.emit(ProgressEvent::Retry { batch, attempt, delay_ms, reason });
    }

    fn request(&self, prompt: &str, mut schema: Value) -> GenerateRequest {
        let st = self.st();
        if st.schemas_without_counts {
            super::schema::without_counts(&mut schema);
        }
        let mut contents = if self.opts.full_history() { st.history.clone() } else { Vec::new() };
        contents.push(Content::user(prompt));
        GenerateRequest {
            contents,
            system_instruction: Some(Content { role: None, ..Content::user(SYSTEM_INSTRUCTION) }),
            generation_config: Some(GenerationConfig { response_json_schema: Some(schema), ..st.config.clone() }),
        }
    }

    /// Only answers that completed and parsed enter the chat history.
    fn remember(&self, prompt: &str, answer: &Reply) {
        let mut st = self.st_mut();
        st.history.push(Content::user(prompt));
        st.history.push(Content::signed("model", answer.text.clone(), answer.signature.clone()));
    }

    async fn model_lookup(&self) -> Result<(), Error> {
        let mut tries = Tries::default();
        let info = loop {
            self.check_abort()?;
            match GeminiClient::new(&self.t, &self.endpoint).model_info().await {
                Ok(info) => break info,
                Err(e) => {
                    let at = Attempt { batch: 0, number: tries.next_attempt(), part: false, weeks: None };
                    self.after_failure(at, "model lookup", &mut tries, e).await?
                }
            }
        };
        let mut st = self.st_mut();
        st.config.max_output_tokens = self.opts.output_cap(info.output_token_limit);
        st.config.thinking_config = if info.thinking { thinking_for(&self.endpoint.model) } else { None };
        Ok(())
    }

    /// A streamed outline grew by a complete week entry: makes the newly certain weeks available to batches.
    fn outline_prefix(&self, prefix: &str) {
        {
            let st = self.st();
            if st.outline_ready || st.frozen || st.known >= self.total {
                return;
            }
        }
        let Some(v) = closed_outline(prefix) else { return };
        let Some((phases, outline, known)) = read_outline_prefix(&v, self.total) else { return };
        let mut st = self.st_mut();
        if known > st.known {
            (st.rm.phases, st.rm.outline, st.known) = (phases, outline, known);
            drop(st);
            self.bump();
        }
    }

    /// An outline answer was unusable: what it streamed is forgotten, unless batches already use it.
    fn outline_attempt_failed(&self) {
        let mut st = self.st_mut();
        if st.pinned > 0 {
            st.frozen = true;
            st.known = st.pinned;
        } else {
            st.known = 0;
            st.rm.phases.clear();
            st.rm.outline.clear();
        }
    }

    /// Installs the final outline (keeping the plan of weeks batches already started from), announces it,
    /// then releases the events of those batches.
    fn finish_outline(&self, phases: Vec<Phase>, outline: Vec<OutlineWeek>, notes: Vec<String>) {
        let total = self.total;
        let (kept, held, event) = {
            let mut st = self.st_mut();
            let p = st.pinned as usize;
            let kept = p > 0 && (st.rm.phases != phases || st.rm.outline[..p] != outline[..p]);
            if kept {
                // A retried answer planned differently: the weeks already being written keep their plan.
                let first = std::mem::take(&mut st.rm.outline);
                st.rm.outline = outline
                    .into_iter()
                    .map(|o| match first.get(o.week as usize - 1) {
                        Some(f) if (o.week as usize) <= p => f.clone(),
                        _ => OutlineWeek { phase: phase_name(&st.rm.phases, o.week), ..o },
                    })
                    .collect();
            } else {
                (st.rm.phases, st.rm.outline) = (phases, outline);
            }
            // Weeks written before there was a plan (resumed) keep their titles; they take the plan's phase for their week.
            let State { slots, rm, resumed, .. } = &mut *st;
            for w in slots.iter_mut().zip(resumed.iter()).filter_map(|(w, &r)| w.as_mut().filter(|_| r)) {
                if let Some(o) = rm.outline.get_mut(w.week as usize - 1) {
                    o.title.clone_from(&w.title);
                    w.phase.clone_from(&o.phase);
                }
            }
            st.outline_ready = true;
            st.known = total;
            let event = ProgressEvent::Outline { phases: st.rm.phases.clone(), weeks: st.rm.outline.clone() };
            (kept.then_some(p), st.held.take(), event)
        };
        self.bump();
        let phases = if let ProgressEvent::Outline { phases, .. } = &event { phases.len() } else { 0 };
        self.log(&cat!("Outline: ", phases, " phases, ", total, " weeks"));
        self.emit(event);
        for n in notes {
            self.warn(n);
        }
        if let Some(p) = kept {
            self.warn(cat!("Outline: weeks 1-", p, " were already being written from an earlier answer; kept their plan"));
        }
        for e in held.into_iter().flatten() {
            self.emit(e);
        }
    }

    async fn outline(&self) -> Result<(), Error> {
        let total = self.total;
        let prompt = {
            let st = self.st();
            let written: Vec<&Week> = st.slots.iter().zip(&st.resumed).filter_map(|(w, &r)| w.as_ref().filter(|_| r)).collect();
            outline_prompt(&self.learner(), &written)
        };
        let early = self.parallel && self.opts.streaming();
        let (mut failed, mut tries, mut sent) = (Tries::default(), 0, 0);
        loop {
            self.quota_clear(&failed).await;
            self.check_abort()?;
            if self.stopped() {
                return Ok(());
            }
            let mut det = WeekDetector::new();
            let result = {
                let mut on_delta = |d: &str| {
                    if early {
                        if let Some((_, range)) = det.push(d).pop() {
                            self.outline_prefix(crate::text::slice(det.text(), ..range.end));
                        }
                    }
                };
                sent += 1;
                let at = Attempt { batch: 0, number: sent, part: false, weeks: None };
                self.ask(at, &prompt, outline_schema(total), &mut on_delta, &mut failed).await
            };
            let reply = match result {
                Ok(Some(r)) => r,
                Ok(None) => continue,
                // An unreadable response body is an unusable answer: asked again like prose.
                Err(Error::Malformed { .. }) => Reply::default(),
                Err(e) => return Err(e),
            };
            tries += 1;
            blocked(&reply, true)?;
            let value = match parse_value(&reply.text) {
                Some((_, true)) => complete_outline(&reply.text),
                parsed => parsed.map(|p| p.0),
            };
            if let Some((phases, outline, notes)) = value.and_then(|v| read_outline(&v, total)) {
                if reply.finish_reason.as_deref() == Some("STOP") {
                    self.remember(&prompt, &reply);
                }
                self.finish_outline(phases, outline, notes);
                return Ok(());
            }
            self.outline_attempt_failed();
            // A stream cut every time, its retries spent, and nothing usable came: the connection failed, not the
            // model, and asking again (at once, the backoff spent) would only bill more requests.
            if let Some(e) = reply.broken_by {
                return Err(e);
            }
            let reason = "the outline was not readable JSON".to_string();
            if tries > self.opts.retries() {
                return Err(Error::malformed(cat!(reason, " after ", tries, " attempts")));
            }
            self.announce_retry(0, "outline", sent + 1, 0, reason);
        }
    }

    fn note_problem(&self, week: u32, p: Problem) {
        let mut st = self.st_mut();
        let same = match &st.problems[week as usize] {
            Some((old, n)) if *old == p => *n + 1,
            _ => 1,
        };
        st.correct[week as usize] = p.correctable();
        st.problems[week as usize] = Some((p, same));
    }

    /// Weeks whose attempts are spent become placeholders (or, when regenerating, an error).
    fn spend(&self, missing: &[u32]) -> Result<bool, Error> {
        let mut any = false;
        for &w in missing {
            let n = self.st().attempts[w as usize];
            if n <= self.opts.retries() {
                continue;
            }
            let problem = self.st().problems[w as usize].clone();
            let (p, same) = problem.unwrap_or((Problem::Missing, n));
            let why = if same >= n {
                cat!(p.model_did(), ' ', times(n))
            } else {
                cat!(p.model_did(), " (last of ", n, " attempts)")
            };
            if self.regenerating {
                return Err(Error::malformed(cat!(week_prefix(w), ' ', &why)));
            }
            let placeholder = fallback_week(&self.st().rm.outline[w as usize - 1], self.hours());
            self.commit(placeholder);
            self.warn(cat!(week_prefix(w), " placeholder — ", why));
            any = true;
        }
        Ok(any)
    }

    /// The weeks of `a..=b` not finished yet, except those `skip` names (one filter loop in the wasm for all).
    fn unfinished(&self, a: u32, b: u32, skip: &dyn Fn(u32) -> bool) -> Vec<u32> {
        let st = self.st();
        (a..=b).filter(|&w| st.slots[w as usize].is_none() && !skip(w)).collect()
    }

    /// The prompt for weeks `first..=last` of the batch starting at week `start`.
    fn weeks_prompt(&self, start: u32, first: u32, last: u32, correction: Option<&str>) -> String {
        let st = self.st();
        let outline = &st.rm.outline;
        let previous = if self.parallel {
            // Only a week of this batch, or one finished before the run: other batches finish in any order,
            // so their days are never part of a prompt. The plan names the neighbours instead.
            (first > 1)
                .then(|| first - 1)
                .filter(|&w| w >= start || st.resumed[w as usize])
                .and_then(|w| st.slots[w as usize].as_ref())
        } else {
            // The last finished week before `first`: the sliding window comes from it.
            st.slots[1..first as usize].iter().rev().flatten().next()
        };
        let neighbours = if self.parallel {
            let before = if first > 1 { outline.get(first as usize - 2) } else { None };
            Neighbours { before, after: outline.get(last as usize) }
        } else {
            Neighbours::default()
        };
        weeks_prompt_with(
            &self.learner(),
            &WeeksRequest {
                phases: &st.rm.phases,
                outline,
                first,
                last,
                previous,
                context_days: self.opts.context_days(),
                next: if self.regenerating { st.slots.get(last as usize + 1).and_then(Option::as_ref) } else { None },
                correction,
            },
            &neighbours,
        )
    }

    /// Runs one batch until each of its weeks is finished or a placeholder. `Ok(false)`: the run stopped
    /// (another task failed) before the batch was done.
    async fn batch(
        &self,
        index: u32,
        total_batches: u32,
        p: Planned,
        scope: &str,
        report: &mut BatchReport,
    ) -> Result<bool, Error> {
        let (a, b) = (p.start, p.end);
        let mut recovered = false;
        let (mut size, mut failed, mut stops) = (b - a + 1, Tries::default(), 0);
        let mut cut_weeks: Vec<u32> = Vec::new();
        loop {
            // A batch whose last week has come needs no room under the quota to end: its `batch-done` waited for
            // another batch's quota wait (found by an exploratory test of the demo).
            if !self.unfinished(a, b, &|_| false).is_empty() {
                self.quota_clear(&failed).await;
            }
            let missing = self.unfinished(a, b, &|_| false);
            if self.spend(&missing)? {
                continue;
            }
            if missing.is_empty() {
                break;
            }
            if self.stopped() {
                // Stopped by an abort, it fails as one, so that the abort names the first batch it stopped.
                self.check_abort()?;
                return Ok(false);
            }
            let (first, last, correction) = {
                let st = self.st();
                let (first, mut last) = next_range(&missing, size);
                if st.correct[first as usize] {
                    last = first;
                } else if let Some(w) = (first + 1..=last).find(|&w| st.correct[w as usize]) {
                    last = w - 1;
                }
                let correction = st.correct[first as usize]
                    .then(|| {
                        st.problems[first as usize]
                            .as_ref()
                            .map(|(p, _)| cat!("week ", first, " in your previous answer ", p.had()))
                    })
                    .flatten();
                (first, last, correction)
            };
            self.check_abort()?;
            let prompt = self.weeks_prompt(a, first, last, correction.as_deref());
            report.attempts += 1;
            let hours = self.hours();
            let mut det = WeekDetector::new();
            let mut complete = Vec::new();
            let result = {
                let mut on_delta = |d: &str| {
                    for (i, range) in det.push(d) {
                        let n = first + i as u32;
                        let v = parse_value(crate::text::slice(det.text(), range)).map(|p| p.0);
                        let c = v.as_ref().filter(|_| n <= last).map(|v| {
                            let mut c = read_week(v, hours);
                            check_in_plan(&mut c, n, &self.st().rm.outline);
                            c
                        });
                        complete.extend(v);
                        if let Some(c) = c.filter(|c| c.number == Some(n) && c.problem.is_none()) {
                            let week = finish_week(c.week, n, &self.st().rm.outline);
                            self.commit(week);
                        }
                    }
                };
                let at = Attempt { batch: index, number: report.attempts, part: false, weeks: Some((first, last)) };
                self.ask(at, &prompt, weeks_schema(last - first + 1), &mut on_delta, &mut failed).await
            };
            let reply = match result {
                Ok(Some(r)) => r,
                Ok(None) => continue,
                Err(Error::Malformed { .. }) => Reply { finish_reason: Some("STOP".into()), ..Reply::default() },
                Err(e) => return Err(e),
            };
            report.response_chars += crate::text::char_count(&reply.text) as u64;
            let stopped = blocked(&reply, false)?;
            let parsed = parse_value(&reply.text);
            let cut = reply.finish_reason.as_deref() != Some("STOP") || parsed.as_ref().is_some_and(|p| p.1);
            {
                // An answer uses up an attempt of each week it reached: a cut answer never reached the weeks
                // after the one it was cut in, so they keep their attempts for the smaller requests that follow.
                // The week it was cut in follows the highest requested week it completed: counting the complete
                // objects instead would count a repeated week, or one before the range, as progress.
                let highest = complete.iter().filter_map(week_number).filter(|n| (first..=last).contains(n)).max();
                let reached = if cut { last.min(highest.map_or(first + complete.len() as u32, |n| n + 1)) } else { last };
                let mut st = self.st_mut();
                for w in first..=reached {
                    st.attempts[w as usize] += 1;
                }
            }
            // A cut answer is read from its complete week objects only: the last one may be half written.
            let items: Option<Vec<Value>> = if cut {
                Some(complete)
            } else {
                parsed.as_ref().and_then(|(v, _)| week_values(v)).map(|v| v.into_iter().cloned().collect())
            };
            let Some(items) = items.filter(|i| !i.is_empty() || cut) else {
                for w in first..=last {
                    if self.st().slots[w as usize].is_none() {
                        self.note_problem(w, Problem::Unreadable);
                    }
                }
                // Announced only when some week of the batch has an attempt left; otherwise placeholders follow.
                let more = {
                    let st = self.st();
                    (a..=b).any(|w| st.slots[w as usize].is_none() && st.attempts[w as usize] <= self.opts.retries())
                };
                // Not once the run has failed: nothing more is sent.
                if more && !self.st().stop {
                    let reason = "the answer was not readable JSON".to_string();
                    self.announce_retry(index, &cat!("batch ", index), report.attempts + 1, 0, reason);
                }
                recovered = true;
                continue;
            };
            let refs: Vec<&Value> = items.iter().collect();
            let read = read_batch(&refs, first, last, &self.st().rm.outline, hours);
            recovered |= !read.notes.is_empty() || !read.problems.is_empty();
            for n in read.notes {
                self.warn(cat!(scope, ": ", n));
            }
            for w in read.weeks {
                self.commit(w);
            }
            let lost = self.unfinished(first, last, &|w| read.problems.iter().any(|p| p.0 == w));
            for (w, p) in read.problems {
                self.note_problem(w, p);
            }
            for &w in &lost {
                self.note_problem(w, if cut { Problem::Cut } else { Problem::Missing });
            }
            if let Some(reason) = stopped {
                stops += 1;
                if stops > 1 {
                    return Err(Error::Blocked { reason, message: "the answer was stopped twice".into() });
                }
                self.warn(cat!(scope, ": the answer was stopped (", &reason, "); asking again for weeks it lacks"));
            } else if cut && !lost.is_empty() {
                size = halve(last - first + 1);
                cut_weeks.extend(&lost);
            } else if !cut {
                self.remember(&prompt, &reply);
            }
            recovered |= cut || !lost.is_empty();
        }
        {
            let st = self.st();
            let is = |w: u32, fallback: bool| st.slots[w as usize].as_ref().is_some_and(|w| w.fallback == fallback);
            report.status = if (a..=b).any(|w| is(w, true)) {
                BatchStatus::Fallback
            } else if recovered {
                BatchStatus::Recovered
            } else {
                BatchStatus::Ok
            };
            cut_weeks.retain(|&w| is(w, false));
        }
        if let (Some(&x), Some(&y)) = (cut_weeks.iter().min(), cut_weeks.iter().max()) {
            self.log(&cat!("Batch ", index, ": recovered weeks ", span(x, y), " after truncation"));
        }
        // An abort while the batch's last answer was read (from `onProgress` on its last week, say) fails the batch
        // as any abort does: it has not announced its end, and the run neither resolves without `done` nor rejects
        // after the batch's (or `regenerateWeek`'s) last event.
        self.check_abort()?;
        self.batch_done(index, total_batches, report);
        Ok(true)
    }

    fn batch_start(&self, index: u32, total_batches: u32, a: u32, b: u32) {
        self.emit(ProgressEvent::BatchStart { batch: index, total_batches, start_week: a, end_week: b });
        self.log(&cat!("Generating batch: weeks ", a, '-', b));
    }

    fn batch_done(&self, index: u32, total_batches: u32, report: &BatchReport) {
        self.log(&cat!("Batch ", index, " response length: ", report.response_chars, " chars"));
        self.emit(ProgressEvent::BatchDone {
            batch: index,
            total_batches,
            response_chars: report.response_chars,
            usage: self.usage(),
        });
    }

    /// Writes days `a..=b` of the split week. `Ok(None)`: the answer was not usable, or the run stopped or
    /// went on to ask for the whole week. Only transport failures are retried here; anything else the
    /// whole-week request, with all a batch's recovery, deals with.
    async fn part(&self, index: u32, week: u32, (a, b): (u32, u32)) -> Result<Option<Vec<Day>>, Error> {
        let (mut failed, mut sent) = (Tries::default(), 0);
        loop {
            self.quota_clear(&failed).await;
            if self.with_split(|s, stop| stop || s.whole) {
                return Ok(None);
            }
            self.check_abort()?;
            let prompt = {
                let st = self.st();
                let w = week as usize;
                days_prompt(
                    &self.learner(),
                    &DaysRequest {
                        phases: &st.rm.phases,
                        week: &st.rm.outline[w - 1],
                        next: st.rm.outline.get(w),
                        previous: st.slots[w - 1].as_ref(),
                        context_days: self.opts.context_days(),
                        from: a,
                        to: b,
                    },
                )
            };
            self.with_split(|s, _| s.report.attempts += 1);
            // A part numbers its own requests: they run side by side, each with its own retries.
            sent += 1;
            let at = Attempt { batch: index, number: sent, part: true, weeks: None };
            let reply = match self.ask(at, &prompt, days_schema(b - a + 1), &mut |_| {}, &mut failed).await {
                Ok(Some(r)) => r,
                Ok(None) => continue,
                Err(Error::Malformed { .. }) => return Ok(None),
                Err(e) => return Err(e),
            };
            // An answer that came after the week was asked whole is ignored, and not counted: `batch-done` has
            // told the size of the answers the week was made of.
            self.with_split(|s, _| {
                if !s.whole {
                    s.report.response_chars += crate::text::char_count(&reply.text) as u64
                }
            });
            if blocked(&reply, false)?.is_some() || !matches!(reply.finish_reason.as_deref(), Some("STOP") | None) {
                return Ok(None);
            }
            let hours = self.hours();
            return Ok(parse_value(&reply.text).filter(|p| !p.1).and_then(|(v, _)| read_days(&v, a, b, hours)));
        }
    }

    /// Runs `f` on the split week (there is one whenever a part task runs).
    fn with_split<R: Default>(&self, f: impl FnOnce(&mut Split, bool) -> R) -> R {
        let mut st = self.st_mut();
        let stop = st.stop;
        st.split.as_mut().map(|s| f(s, stop)).unwrap_or_default()
    }

    /// Waits until the plan of weeks `1..=needed` is certain (the whole outline, for sequential runs).
    /// `false` when the run stopped first. Wakes through the join's `tick` (see [`join_limited`]).
    /// (The `poll_fn` itself is the future: an `async fn` around it would add a state machine to the wasm.)
    fn wait_for_plan(&self, needed: u32) -> impl Future<Output = bool> + use<'_, 'a, T> {
        poll_fn(move |_| {
            let mut st = self.st_mut();
            if st.stop {
                Poll::Ready(false)
            } else if st.outline_ready {
                Poll::Ready(true)
            } else if st.known >= needed {
                st.pinned = st.pinned.max(needed);
                Poll::Ready(true)
            } else {
                Poll::Pending
            }
        })
    }

    async fn outline_task(&self) {
        if let Err(e) = self.outline().await {
            self.fail_run(e, None);
        }
    }

    /// A batch, or one part of the split week (`part`: its index and days), from the plan's arrival to its
    /// report. The last part to finish assembles the week; the first unusable part has it asked for whole.
    async fn batch_task(
        &self,
        pos: usize,
        index: u32,
        total_batches: u32,
        p: Planned,
        part: Option<(usize, (u32, u32))>,
    ) {
        // Parallel batches start once the titles their prompts list have streamed in; a part's prompt lists
        // only the phases, its week and the next.
        let needed = match part {
            Some(_) => (p.start + 1).min(self.total),
            None if self.parallel => title_window(p.start, p.end, self.total).1,
            None => u32::MAX,
        };
        if !self.wait_for_plan(needed).await {
            return;
        }
        let mut report = new_report(p.start, p.end);
        let mut result = Ok(true);
        if let Some((k, days)) = part {
            if let Some(parts) =
                self.with_split(|s, _| (!std::mem::replace(&mut s.started, true)).then_some(s.parts.len()))
            {
                self.batch_start(index, total_batches, p.start, p.end);
                self.log(&cat!("Batch ", index, ": week ", p.start, " in ", parts, " parts at once"));
            }
            match self.part(index, p.start, days).await {
                Ok(Some(d)) => {
                    let assembled = self.with_split(|s, _| {
                        if s.whole {
                            return None;
                        }
                        s.parts[k] = Some(d);
                        let done = s.parts.iter().all(Option::is_some);
                        done.then(|| {
                            // Appended part by part: a `flat_map` collect compiles its own iterator and drop code.
                            let mut days = Vec::new();
                            for p in &mut s.parts {
                                days.append(&mut p.take().unwrap_or_default());
                            }
                            (days, s.report.clone())
                        })
                    });
                    let Some((days, report)) = assembled else { return };
                    let w = finish_week(Week { days, ..Week::default() }, p.start, &self.st().rm.outline);
                    self.commit(w);
                    self.batch_done(index, total_batches, &report);
                    self.st_mut().reports[pos] = Some(report);
                    return;
                }
                // The first unusable part (while the run goes on) has the whole week asked for, like any batch.
                Ok(None) => {
                    let Some(r) = self.with_split(|s, stop| {
                        (!stop && !std::mem::replace(&mut s.whole, true)).then(|| s.report.clone())
                    }) else {
                        return;
                    };
                    // The other parts' retry waits end now (see `after_failure`).
                    self.bump();
                    report = r;
                    let reason = cat!("days ", span(days.0, days.1), " of week ", p.start, " were not usable; asking for the whole week");
                    self.announce_retry(index, &cat!("batch ", index), report.attempts + 1, 0, reason);
                }
                Err(e) => {
                    // Once the whole week is asked for, the other parts no longer matter, nor do their transient
                    // failures: that request retries on its own. A refusal (the key, the day's quota, the model)
                    // would meet every later request too, so it still ends the run.
                    let fatal = !e.is_transient() && !matches!(e, Error::Aborted);
                    let Some(r) = self.with_split(|s, _| (!s.whole || fatal).then(|| s.report.clone())) else { return };
                    report = r;
                    result = Err(e);
                }
            }
        } else {
            self.batch_start(index, total_batches, p.start, p.end);
        }
        if result.is_ok() {
            let whole = part.is_some();
            // The whole week's prompt lists the plan's titles around it, which the parts did not wait for.
            if whole && !self.wait_for_plan(title_window(p.start, p.end, self.total).1).await {
                return;
            }
            // Warnings name the batch by its weeks: its number is this call's, which a resumed run restarts.
            let scope = cat!(if p.start == p.end { "Week " } else { "Weeks " }, span(p.start, p.end));
            let before = (report.attempts, report.response_chars);
            result = self.batch(index, total_batches, p, &scope, &mut report).await;
            if whole {
                if report.status == BatchStatus::Ok {
                    report.status = BatchStatus::Recovered;
                }
                // The whole week's requests join the parts', also in the report of a part that failed the run
                // meanwhile.
                let mut st = self.st_mut();
                let st = &mut *st;
                if let Some(s) = st.split.as_mut() {
                    s.report.attempts += report.attempts - before.0;
                    s.report.response_chars += report.response_chars - before.1;
                    if let Some(r) = st.reports[pos].as_mut() {
                        (r.attempts, r.response_chars) = (s.report.attempts, s.report.response_chars);
                    }
                }
            }
        }
        match result {
            // Unless a part of this week, refused for good meanwhile, failed the run here.
            Ok(true) => {
                let mut st = self.st_mut();
                if !st.reports[pos].as_ref().is_some_and(|r| r.status == BatchStatus::Failed) {
                    st.reports[pos] = Some(report);
                }
            }
            // Stopped by the run's failure after its `batch-start` (in a quota wait, say): it began, so it is
            // reported, failed, with the requests it made.
            Ok(false) => {
                let mut st = self.st_mut();
                if st.reports[pos].is_none() {
                    report.status = BatchStatus::Failed;
                    st.reports[pos] = Some(report);
                }
            }
            Err(e) => {
                report.status = BatchStatus::Failed;
                self.st_mut().reports[pos] = Some(report);
                self.fail_run(e, Some(index));
            }
        }
    }

    async fn all(&self) -> Result<(), (Error, Option<u32>)> {
        let total = self.total;
        let need_outline = !outline_is_complete(&self.st().rm.outline, total);
        // A resumed roadmap with nothing left to write needs no request, not even the lookup.
        if need_outline || self.st().slots[1..].iter().any(Option::is_none) {
            self.model_lookup().await.map_err(|e| (e, None))?;
        }
        if need_outline {
            let mut st = self.st_mut();
            st.outline_ready = false;
            st.known = 0;
            st.held = (self.parallel && self.opts.streaming()).then(Vec::new);
        }
        // The first week in parts, as long as one request stays free for the next batch.
        let parts = if self.parallel { (self.opts.concurrency() as u32).saturating_sub(1).min(3) } else { 1 };
        let planned = {
            let st = self.st();
            let finished = |w: u32| st.slots[w as usize].is_some();
            if parts > 1 {
                plan_with_lead(total, self.opts.batch_size(), &finished)
            } else {
                plan(total, self.opts.batch_size(), &finished)
            }
        };
        let total_batches = planned.iter().filter(|p| !p.resumed).count() as u32;
        let mut tasks: Vec<LocalFuture<'_, ()>> = Vec::new();
        if need_outline {
            tasks.push(Box::pin(self.outline_task()));
        }
        let mut reports = Vec::new();
        let mut index = 0;
        for (pos, &p) in planned.iter().enumerate() {
            if p.resumed {
                reports.push(Some(BatchReport { status: BatchStatus::Resumed, ..new_report(p.start, p.end) }));
                continue;
            }
            reports.push(None);
            index += 1;
            if parts > 1 && index == 1 {
                let ranges = day_parts(parts);
                self.st_mut().split = Some(Split {
                    pos,
                    parts: vec![None; ranges.len()],
                    report: new_report(p.start, p.end),
                    started: false,
                    whole: false,
                });
                for part in ranges.into_iter().enumerate() {
                    tasks.push(Box::pin(self.batch_task(pos, index, total_batches, p, Some(part))));
                }
                continue;
            }
            tasks.push(Box::pin(self.batch_task(pos, index, total_batches, p, None)));
        }
        self.st_mut().reports = reports;
        join_limited(tasks, self.opts.concurrency(), &self.tick).await;
        let failure = {
            let mut st = self.st_mut();
            let st = &mut *st;
            // A split first week whose parts all stopped with the run, after its `batch-start`.
            if let Some(s) = st.split.as_ref().filter(|s| s.started) {
                st.reports[s.pos].get_or_insert_with(|| BatchReport { status: BatchStatus::Failed, ..s.report.clone() });
            }
            st.rm.batches = st.reports.iter().flatten().cloned().collect();
            st.failure.take()
        };
        if let Some(f) = failure {
            return Err(f);
        }
        let fallbacks = self.st().slots.iter().flatten().filter(|w| w.fallback).count();
        if fallbacks == 0 {
            self.log(&cat!("Completed all ", total_batches, " batches successfully"));
        } else {
            self.log(&cat!("Completed all ", total_batches, " batches with ", fallbacks, " placeholder weeks"));
        }
        Ok(())
    }

    /// The roadmap with every finished week, in order.
    fn snapshot(&self) -> Roadmap {
        let st = self.st();
        Roadmap { weeks: st.slots.iter().flatten().cloned().collect(), usage: self.usage(), ..st.rm.clone() }
    }

    /// The error, with every finished week. Weeks finished from a streamed outline that never became final are
    /// announced now (their events were held for it), and come without that unfinished plan, so `resumeFrom`
    /// plans the roadmap again around them.
    fn fail(self, error: Error, batch: Option<u32>) -> RoadmapError {
        self.log(&cat!("Roadmap generation failed: ", error.text()));
        let held = self.st_mut().held.take();
        for e in held.into_iter().flatten() {
            self.emit(e);
        }
        // A run aborted before it settles rejects as an abort, whatever failed meanwhile: a batch's refusal that had
        // come in before the abort was read after it, or the abort came from `onProgress` on one of those events.
        let error = if self.t.is_aborted() { Error::Aborted } else { error };
        let (ready, any) = {
            let st = self.st();
            (st.outline_ready, st.slots.iter().any(Option::is_some))
        };
        let partial = match (ready, any) {
            (true, _) => Some(self.snapshot()),
            (false, true) => Some(Roadmap { phases: Vec::new(), outline: Vec::new(), ..self.snapshot() }),
            (false, false) => None,
        };
        RoadmapError { error, partial, batch }
    }
}

/// A refused prompt fails at once. A stopped answer (`SAFETY`, ...) returns its reason: the outline
/// fails, a batch keeps the complete weeks and asks once more for the rest.
fn blocked(reply: &Reply, fail_on_stop: bool) -> Result<Option<String>, Error> {
    if let Some(reason) = &reply.block_reason {
        return Err(Error::Blocked { reason: reason.clone(), message: "the prompt was blocked".into() });
    }
    match reply.finish_reason.as_deref() {
        Some(r) if BLOCK_REASONS.contains(&r) => {
            if fail_on_stop {
                Err(Error::Blocked { reason: r.into(), message: "the answer was stopped".into() })
            } else {
                Ok(Some(r.into()))
            }
        }
        _ => Ok(None),
    }
}

/// Generates a whole roadmap. `on_event` sees progress as it happens (weeks as soon as they close).
pub async fn generate<T: Transport>(
    transport: &T,
    opts: &RoadmapOptions,
    on_event: &mut dyn FnMut(&ProgressEvent),
) -> Result<Roadmap, RoadmapError> {
    // Messages quote values (a role, a resumed roadmap's role) where the key may have been pasted.
    opts.validate().map_err(|e| e.without_key(opts.api_key.trim()))?;
    let resume = opts.resume_from.as_ref().map(without_placeholders);
    let run = Run::new(transport, opts, resume.as_ref(), on_event)?;
    // An abort after the last batch's end (from `onProgress` on its `batch-done`) rejects as any abort does: the
    // caller has heard nothing since, not even `done` (found by a chaos test: such a run resolved without one).
    let result = match run.all().await {
        Ok(()) => run.check_abort().map_err(|e| (e, None)),
        failed => failed,
    };
    match result {
        Ok(()) => {
            let rm = run.snapshot();
            let fallback_weeks = rm.weeks.iter().filter(|w| w.fallback).count() as u32;
            run.emit(ProgressEvent::Done { total_weeks: rm.total_weeks, fallback_weeks, usage: rm.usage });
            Ok(rm)
        }
        Err((e, batch)) => {
            let mut err = run.fail(e, batch);
            if let (Some(partial), Some(from)) = (err.partial.as_mut(), opts.resume_from.as_ref()) {
                keep_placeholders(partial, from);
            }
            Err(err)
        }
    }
}

/// How the warnings about one week begin (`Week 5: placeholder — ...`): they are dropped and restored with it.
fn week_prefix(week: u32) -> String {
    cat!("Week ", week, ':')
}

/// A failed resumed run gives back the placeholder weeks it had not written again yet, with their warnings: its
/// `partial` loses nothing the run was given.
fn keep_placeholders(partial: &mut Roadmap, from: &Roadmap) {
    for w in from.weeks.iter().filter(|w| w.fallback) {
        if partial.weeks.iter().any(|p| p.week == w.week) {
            continue;
        }
        let at = partial.weeks.iter().position(|p| p.week > w.week).unwrap_or(partial.weeks.len());
        partial.weeks.insert(at, w.clone());
        let prefix = week_prefix(w.week);
        partial.warnings.extend(from.warnings.iter().filter(|m| m.starts_with(&prefix)).cloned());
    }
}

/// What a resumed run starts from: the finished weeks, without the placeholders (`fallback`) and their warnings, so
/// that those weeks are asked for again like any unfinished one.
fn without_placeholders(r: &Roadmap) -> Roadmap {
    let mut r = r.clone();
    for w in r.weeks.iter().filter(|w| w.fallback) {
        let prefix = week_prefix(w.week);
        r.warnings.retain(|m| !m.starts_with(&prefix));
    }
    r.weeks.retain(|w| !w.fallback);
    r
}

/// Writes one week again (one request, plus retries and corrections) from its outline entry and both
/// neighbours; replaces it, clears its fallback flag and its warnings, adds the usage, and marks its batch
/// `recovered` when it no longer holds a placeholder. `on_event` sees it as a run of one batch (no `done`).
/// On failure, `partial` is the roadmap unchanged.
pub async fn regenerate_week<T: Transport>(
    transport: &T,
    roadmap: &Roadmap,
    week: u32,
    opts: &RoadmapOptions,
    on_event: &mut dyn FnMut(&ProgressEvent),
) -> Result<Roadmap, RoadmapError> {
    let opts = regenerate_options(roadmap, week, opts).map_err(|e| e.without_key(opts.api_key.trim()))?;
    let mut run = Run::new(transport, &opts, Some(roadmap), on_event)?;
    run.regenerating = true;
    run.parallel = false;
    {
        let mut st = run.st_mut();
        st.slots[week as usize] = None;
        st.resumed[week as usize] = false;
        st.config.thinking_config = thinking_for(&run.endpoint.model);
        let prefix = week_prefix(week);
        st.rm.warnings.retain(|w| !w.starts_with(&prefix));
    }
    run.batch_start(1, 1, week, week);
    // One request, no lookup, unless `maxOutputTokens` is set: a cap above the model's own limit is refused with a
    // 400, so the limit is read first, as a run does (inside the one batch: its retries are batch 0's, as a run's).
    let result = match opts.max_output_tokens {
        Some(_) => run.model_lookup().await,
        None => Ok(()),
    };
    let mut report = new_report(week, week);
    let result = match result {
        Ok(()) => {
            let one = Planned { start: week, end: week, resumed: false };
            run.batch(1, 1, one, &cat!("Week ", week), &mut report).await.map(|_| ())
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => {
            let mut rm = run.snapshot();
            // The week's batch sent these requests too. It is `recovered` when it held a placeholder, or failed
            // without the week (a partial roadmap short of it), and holds none now; other batches stay as they were.
            if let Some(i) = rm.batches.iter().position(|b| (b.start_week..=b.end_week).contains(&week)) {
                let range = rm.batches[i].start_week..=rm.batches[i].end_week;
                let placeholder = rm.weeks.iter().any(|w| w.fallback && range.contains(&w.week));
                let b = &mut rm.batches[i];
                b.attempts += report.attempts;
                b.response_chars += report.response_chars;
                if !placeholder && matches!(b.status, BatchStatus::Fallback | BatchStatus::Failed) {
                    b.status = BatchStatus::Recovered;
                }
            }
            Ok(rm)
        }
        Err(error) => {
            let usage = run.usage();
            // `batch` as its `batch-start` numbered it: a run of one batch.
            Err(RoadmapError { error, partial: Some(Roadmap { usage, ..roadmap.clone() }), batch: Some(1) })
        }
    }
}

/// The options of a `regenerateWeek` call, checked against the roadmap it rewrites a week of.
fn regenerate_options(roadmap: &Roadmap, week: u32, opts: &RoadmapOptions) -> Result<RoadmapOptions, Error> {
    // The roadmap states the role, length, level and pace it was written for; one week written for others would make
    // it say wrong, so any given must be the roadmap's (never silently replaced). Compared as the roadmap stores them
    // (on one line): the options of its `generateRoadmap` call pass as they are, minus any `resumeFrom`. An empty
    // role and 0 weeks (`Default`) are left out.
    if !opts.role.trim().is_empty() && !same_role(&opts.role, &roadmap.role) {
        return Err(Error::invalid("role", cat!("must be the roadmap's (", quote(&roadmap.role), ") or left out")));
    }
    if opts.weeks != 0.0 && opts.weeks != f64::from(roadmap.total_weeks) {
        return Err(Error::invalid("weeks", cat!("must be the roadmap's (", roadmap.total_weeks, ") or left out")));
    }
    if opts.level.as_deref().is_some_and(|l| Some(one_line(l)) != roadmap.level.as_deref().map(one_line)) {
        return Err(Error::invalid("level", "must be the roadmap's or left out"));
    }
    if opts.hours_per_day.is_some_and(|h| Some(h) != roadmap.hours_per_day) {
        return Err(Error::invalid("hoursPerDay", "must be the roadmap's or left out"));
    }
    let given_user_id = opts.user_id.is_some();
    let opts = RoadmapOptions {
        role: roadmap.role.clone(),
        weeks: roadmap.total_weeks as f64,
        resume_from: None,
        hours_per_day: opts.hours_per_day.or(roadmap.hours_per_day),
        level: opts.level.clone().or_else(|| roadmap.level.clone()),
        user_id: opts.user_id.clone().or_else(|| roadmap.user_id.clone()),
        ..opts.clone()
    };
    // Any of these given equals the roadmap's: out of range, it is the roadmap's, named as the roadmap names it. A
    // userId given may differ from the roadmap's, so it is the roadmap's only when none is given.
    let theirs =
        |field: &str| ["role", "weeks", "level", "hoursPerDay"].contains(&field) || (field == "userId" && !given_user_id);
    opts.validate().map_err(|e| match e {
        Error::InvalidInput { field, message } if theirs(&field) => {
            let name = if field == "weeks" { "totalWeeks" } else { &field };
            Error::invalid("roadmap", cat!("`", name, "` ", message))
        }
        e => e,
    })?;
    if week == 0 || week > roadmap.total_weeks {
        return Err(Error::invalid("week", cat!("must be from 1 to ", roadmap.total_weeks)));
    }
    if !outline_is_complete(&roadmap.outline, roadmap.total_weeks) {
        return Err(Error::invalid("roadmap", "has no complete outline to regenerate from"));
    }
    // What comes back must be a whole roadmap: a partial one is finished with `resumeFrom`, and the other weeks are
    // kept as they are, so they must be usable.
    check_weeks(roadmap, week).map_err(|(at, m)| Error::invalid(&cat!("roadmap.", &at), m))?;
    // The week being written again may be missing too (a partial roadmap short of that week alone).
    if let Some(missing) = (1..=roadmap.total_weeks).find(|&w| w != week && !roadmap.weeks.iter().any(|x| x.week == w)) {
        let m = cat!("has no week ", missing, ": finish it with `generateRoadmap`'s `resumeFrom` first");
        return Err(Error::invalid("roadmap", m));
    }
    Ok(opts)
}
