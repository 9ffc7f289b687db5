//! The generation loop: model lookup, outline, then sequential batches with streaming week events,
//! JSON fallbacks, bounded recovery and retries. Finished weeks are never lost: every failure carries them.

use std::cell::Cell;

use serde_json::Value;

use super::fallback::fallback_week;
use super::model::{BatchReport, BatchStatus, ProgressEvent, Roadmap, RoadmapError, RoadmapUsage, Week};
use super::options::{finished_slots, one_line, outline_is_complete, RoadmapOptions};
use super::planner::{halve, next_range, plan, Planned};
use super::prompt::{outline_prompt, weeks_prompt, Learner, WeeksRequest, SYSTEM_INSTRUCTION};
use super::schema::{outline_schema, weeks_schema};
use super::stream::WeekDetector;
use super::validate::{finish_week, read_batch, read_outline, read_week, week_values, Problem};
use crate::gemini::{
    Content, Endpoint, GeminiClient, GenerateRequest, GenerationConfig, HttpRequest, Reply, ThinkingConfig, Transport,
};
use crate::json::repair_json;
use crate::retry::RetryPolicy;
use crate::Error;

const BLOCK_REASONS: [&str; 7] =
    ["SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "LANGUAGE", "IMAGE_SAFETY"];

/// Counts every request handed to the real transport (failed ones too).
struct Counting<'a, T> {
    inner: &'a T,
    sent: Cell<u64>,
}

impl<T: Transport> Transport for Counting<'_, T> {
    type Body = T::Body;
    async fn send(&self, req: &HttpRequest) -> Result<(u16, T::Body), Error> {
        self.sent.set(self.sent.get() + 1);
        self.inner.send(req).await
    }
    async fn sleep(&self, ms: u64) -> Result<(), Error> {
        self.inner.sleep(ms).await
    }
    fn is_aborted(&self) -> bool {
        self.inner.is_aborted()
    }
    fn random(&self) -> f64 {
        self.inner.random()
    }
    fn log(&self, line: &str) {
        self.inner.log(line)
    }
}

/// Keeps thinking from eating the output budget. `None` leaves the model's default.
pub fn thinking_for(model: &str) -> Option<ThinkingConfig> {
    let t = ThinkingConfig::default();
    if model.starts_with("gemini-2.5-pro") {
        Some(ThinkingConfig { thinking_budget: Some(128), ..t })
    } else if model.starts_with("gemini-2.5") {
        Some(ThinkingConfig { thinking_budget: Some(0), ..t })
    } else if model.starts_with("gemini-3") {
        Some(ThinkingConfig { thinking_level: Some("low".into()), ..t })
    } else {
        None
    }
}

fn span(a: u32, b: u32) -> String {
    if a == b {
        a.to_string()
    } else {
        format!("{a}-{b}")
    }
}

fn times(n: u32) -> String {
    match n {
        1 => "once".into(),
        2 => "twice".into(),
        n => format!("{n} times"),
    }
}

fn parse_value(text: &str) -> Option<(Value, bool)> {
    let r = repair_json(text).ok()?;
    Some((serde_json::from_str(&r.json).ok()?, r.truncated))
}

/// Keeps and announces a week the first time it is finished; a week already kept is never replaced,
/// so weeks announced while streaming are the ones in the result.
fn commit(slots: &mut [Option<Week>], on_event: &mut dyn FnMut(&ProgressEvent), week: Week) {
    let slot = &mut slots[week.week as usize];
    if slot.is_none() {
        on_event(&ProgressEvent::Week { week: week.clone() });
        *slot = Some(week);
    }
}

struct Run<'a, T: Transport> {
    t: Counting<'a, T>,
    endpoint: Endpoint,
    opts: &'a RoadmapOptions,
    role: String,
    level: Option<String>,
    on_event: &'a mut dyn FnMut(&ProgressEvent),
    config: GenerationConfig,
    policy: RetryPolicy,
    rm: Roadmap,
    slots: Vec<Option<Week>>,
    attempts: Vec<u32>,
    /// The last problem of each unfinished week and how many answers in a row had it.
    problems: Vec<Option<(Problem, u32)>>,
    /// Weeks to re-ask alone with a correction.
    correct: Vec<bool>,
    history: Vec<Content>,
    /// The running batch (1-based) and its report.
    active: Option<(u32, BatchReport)>,
    /// Warnings prefix: "Batch 2" or "Week 5".
    scope: String,
    /// Regenerating one week: a spent budget is an error, not a placeholder.
    regenerating: bool,
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
        let level = opts.level.as_deref().map(one_line).or_else(|| base.and_then(|r| r.level.clone()));
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
        Ok(Run {
            t: Counting { inner: transport, sent: Cell::new(0) },
            endpoint: opts.endpoint()?,
            opts,
            role,
            level,
            on_event,
            config: GenerationConfig {
                response_mime_type: Some("application/json".into()),
                temperature: Some(0.7),
                ..Default::default()
            },
            policy: RetryPolicy { max_retries: opts.retries(), ..RetryPolicy::default() },
            slots: finished_slots(total, base),
            rm,
            attempts: vec![0; n],
            problems: vec![None; n],
            correct: vec![false; n],
            history: Vec::new(),
            active: None,
            scope: String::new(),
            regenerating: false,
        })
    }

    fn log(&self, line: &str) {
        if self.opts.logging() {
            self.t.log(line);
        }
    }

    fn emit(&mut self, e: ProgressEvent) {
        (self.on_event)(&e);
    }

    fn warn(&mut self, message: String) {
        self.log(&message);
        self.emit(ProgressEvent::Warning { message: message.clone() });
        self.rm.warnings.push(message);
    }

    fn usage(&self) -> RoadmapUsage {
        RoadmapUsage { requests: self.rm.usage.requests + self.t.sent.get(), ..self.rm.usage }
    }

    fn hours(&self) -> f64 {
        self.rm.hours_per_day.unwrap_or(2.0)
    }

    fn learner(&self) -> Learner<'_> {
        Learner {
            role: &self.role,
            total_weeks: self.rm.total_weeks,
            level: self.level.as_deref(),
            hours_per_day: self.rm.hours_per_day,
        }
    }

    fn check_abort(&self) -> Result<(), Error> {
        if self.t.is_aborted() {
            Err(Error::Aborted)
        } else {
            Ok(())
        }
    }

    /// After a failed request: waits and returns `Ok` to try again, or the error to fail with.
    async fn after_failure(&mut self, batch: u32, what: &str, failures: &mut u32, err: Error) -> Result<(), Error> {
        *failures += 1;
        let Some(delay_ms) = self.policy.delay_ms(*failures, &err, self.t.random()) else { return Err(err) };
        let (attempt, reason) = (*failures + 1, err.to_string());
        self.log(&format!("Retrying {what} in {:.1}s (attempt {attempt}): {reason}", delay_ms as f64 / 1000.0));
        self.emit(ProgressEvent::Retry { batch, attempt, delay_ms, reason });
        self.t.sleep(delay_ms).await?;
        self.check_abort()
    }

    fn request(&self, prompt: &str, schema: Value) -> GenerateRequest {
        let mut contents = if self.opts.full_history() { self.history.clone() } else { Vec::new() };
        contents.push(Content::user(prompt));
        GenerateRequest {
            contents,
            system_instruction: Some(Content { role: None, ..Content::user(SYSTEM_INSTRUCTION) }),
            generation_config: Some(GenerationConfig { response_json_schema: Some(schema), ..self.config.clone() }),
        }
    }

    /// Only answers that completed and parsed enter the chat history.
    fn remember(&mut self, prompt: &str, answer: &str) {
        self.history.push(Content::user(prompt));
        self.history.push(Content::model(answer));
    }

    async fn model_lookup(&mut self) -> Result<(), Error> {
        let mut failures = 0;
        let info = loop {
            self.check_abort()?;
            match GeminiClient::new(&self.t, &self.endpoint).model_info().await {
                Ok(info) => break info,
                Err(e) => self.after_failure(0, "model lookup", &mut failures, e).await?,
            }
        };
        if info.output_token_limit > 0 {
            self.config.max_output_tokens = Some(info.output_token_limit.min(u32::MAX as u64) as u32);
        }
        self.config.thinking_config = if info.thinking { thinking_for(&self.endpoint.model) } else { None };
        Ok(())
    }

    async fn outline(&mut self) -> Result<(), Error> {
        let total = self.rm.total_weeks;
        let prompt = outline_prompt(&self.learner());
        let (mut failures, mut tries) = (0, 0);
        loop {
            self.check_abort()?;
            let req = self.request(&prompt, outline_schema(total));
            let reply = match GeminiClient::new(&self.t, &self.endpoint)
                .generate(&req, self.opts.streaming(), &mut |_| {})
                .await
            {
                Ok(r) => r,
                // An unreadable response body is an unusable answer: asked again like prose.
                Err(Error::Malformed { .. }) => Reply::default(),
                Err(e) => {
                    self.after_failure(0, "outline", &mut failures, e).await?;
                    continue;
                }
            };
            failures = 0;
            tries += 1;
            self.rm.usage.add_reply(&reply.usage);
            blocked(&reply, true)?;
            if let Some((phases, outline, notes)) = parse_value(&reply.text).and_then(|(v, _)| read_outline(&v, total))
            {
                if reply.finish_reason.as_deref() == Some("STOP") {
                    self.remember(&prompt, &reply.text);
                }
                self.rm.phases = phases;
                self.rm.outline = outline;
                self.log(&format!("Outline: {} phases, {total} weeks", self.rm.phases.len()));
                self.emit(ProgressEvent::Outline { phases: self.rm.phases.clone(), weeks: self.rm.outline.clone() });
                for n in notes {
                    self.warn(n);
                }
                return Ok(());
            }
            let reason = "the outline was not readable JSON".to_string();
            if tries > self.opts.retries() {
                return Err(Error::malformed(format!("{reason} after {tries} attempts")));
            }
            self.log(&format!("Retrying outline in 0.0s (attempt {}): {reason}", tries + 1));
            self.emit(ProgressEvent::Retry { batch: 0, attempt: tries + 1, delay_ms: 0, reason });
        }
    }

    fn note_problem(&mut self, week: u32, p: Problem) {
        let slot = &mut self.problems[week as usize];
        let same = match slot {
            Some((old, n)) if *old == p => *n + 1,
            _ => 1,
        };
        self.correct[week as usize] = p.correctable();
        *slot = Some((p, same));
    }

    /// Weeks whose attempts are spent become placeholders (or, when regenerating, an error).
    fn spend(&mut self, missing: &[u32]) -> Result<bool, Error> {
        let mut any = false;
        for &w in missing {
            let n = self.attempts[w as usize];
            if n <= self.opts.retries() {
                continue;
            }
            let (p, same) = self.problems[w as usize].clone().unwrap_or((Problem::Missing, n));
            let why = if same >= n {
                format!("{} {}", p.model_did(), times(n))
            } else {
                format!("{} (last of {n} attempts)", p.model_did())
            };
            if self.regenerating {
                return Err(Error::malformed(format!("Week {w}: {why}")));
            }
            let week = fallback_week(&self.rm.outline[w as usize - 1], self.hours());
            commit(&mut self.slots, &mut *self.on_event, week);
            self.warn(format!("Week {w}: placeholder — {why}"));
            any = true;
        }
        Ok(any)
    }

    /// The last finished week before `week`: the sliding window comes from it.
    fn previous(&self, week: u32) -> Option<&Week> {
        self.slots[1..week as usize].iter().rev().flatten().next()
    }

    /// Runs one batch until each of its weeks is finished or a placeholder.
    async fn batch(&mut self, index: u32, total_batches: u32, p: Planned) -> Result<(), Error> {
        let (a, b) = (p.start, p.end);
        self.emit(ProgressEvent::BatchStart { batch: index, total_batches, start_week: a, end_week: b });
        self.log(&format!("Generating batch: weeks {a}-{b}"));
        let report =
            BatchReport { start_week: a, end_week: b, attempts: 0, response_chars: 0, status: BatchStatus::Ok };
        self.active = Some((index, report));
        let mut recovered = false;
        let (mut size, mut failures, mut stops) = (b - a + 1, 0, 0);
        let mut cut_weeks: Vec<u32> = Vec::new();
        loop {
            let missing: Vec<u32> = (a..=b).filter(|&w| self.slots[w as usize].is_none()).collect();
            if self.spend(&missing)? {
                continue;
            }
            if missing.is_empty() {
                break;
            }
            let (first, mut last) = next_range(&missing, size);
            if self.correct[first as usize] {
                last = first;
            } else if let Some(w) = (first + 1..=last).find(|&w| self.correct[w as usize]) {
                last = w - 1;
            }
            let correction = self.correct[first as usize]
                .then(|| {
                    self.problems[first as usize]
                        .as_ref()
                        .map(|(p, _)| format!("week {first} in your previous answer {}", p.had()))
                })
                .flatten();
            self.check_abort()?;
            let prompt = weeks_prompt(
                &self.learner(),
                &WeeksRequest {
                    phases: &self.rm.phases,
                    outline: &self.rm.outline,
                    first,
                    last,
                    previous: self.previous(first),
                    context_days: self.opts.context_days(),
                    next: if self.regenerating {
                        self.slots.get(last as usize + 1).and_then(Option::as_ref)
                    } else {
                        None
                    },
                    correction: correction.as_deref(),
                },
            );
            let req = self.request(&prompt, weeks_schema(last - first + 1));
            if let Some((_, r)) = &mut self.active {
                r.attempts += 1;
            }
            let hours = self.hours();
            let mut det = WeekDetector::new();
            let mut complete = Vec::new();
            let result = {
                let (slots, on_event, outline) = (&mut self.slots, &mut *self.on_event, &self.rm.outline);
                let mut on_delta = |d: &str| {
                    for (i, range) in det.push(d) {
                        let n = first + i as u32;
                        let v = parse_value(&det.text()[range]).map(|p| p.0);
                        let c = v.as_ref().filter(|_| n <= last).map(|v| read_week(v, hours));
                        complete.extend(v);
                        if let Some(c) = c.filter(|c| c.number == Some(n) && c.problem.is_none()) {
                            commit(slots, on_event, finish_week(c.week, n, outline));
                        }
                    }
                };
                GeminiClient::new(&self.t, &self.endpoint).generate(&req, self.opts.streaming(), &mut on_delta).await
            };
            let reply = match result {
                Ok(r) => r,
                Err(Error::Malformed { .. }) => Reply { finish_reason: Some("STOP".into()), ..Reply::default() },
                Err(e) => {
                    self.after_failure(index, &format!("batch {index}"), &mut failures, e).await?;
                    continue;
                }
            };
            failures = 0;
            if let Some((_, r)) = &mut self.active {
                r.response_chars += reply.text.chars().count() as u64;
            }
            self.rm.usage.add_reply(&reply.usage);
            for w in first..=last {
                self.attempts[w as usize] += 1;
            }
            let stopped = blocked(&reply, false)?;
            let parsed = parse_value(&reply.text);
            let cut = reply.finish_reason.as_deref() != Some("STOP") || parsed.as_ref().is_some_and(|p| p.1);
            // A cut answer is read from its complete week objects only: the last one may be half written.
            let items: Option<Vec<Value>> = if cut {
                Some(complete)
            } else {
                parsed.as_ref().and_then(|(v, _)| week_values(v)).map(|v| v.into_iter().cloned().collect())
            };
            let Some(items) = items.filter(|i| !i.is_empty() || cut) else {
                for w in first..=last {
                    if self.slots[w as usize].is_none() {
                        self.note_problem(w, Problem::Unreadable);
                    }
                }
                let reason = "the answer was not readable JSON weeks".to_string();
                let attempt = self.active.as_ref().map_or(0, |(_, r)| r.attempts) + 1;
                self.log(&format!("Retrying batch {index} in 0.0s (attempt {attempt}): {reason}"));
                self.emit(ProgressEvent::Retry { batch: index, attempt, delay_ms: 0, reason });
                recovered = true;
                continue;
            };
            let refs: Vec<&Value> = items.iter().collect();
            let read = read_batch(&refs, first, last, &self.rm.outline, hours);
            recovered |= !read.notes.is_empty() || !read.problems.is_empty();
            for n in read.notes {
                self.warn(format!("{}: {n}", self.scope));
            }
            for w in read.weeks {
                commit(&mut self.slots, &mut *self.on_event, w);
            }
            let lost: Vec<u32> = (first..=last)
                .filter(|&w| self.slots[w as usize].is_none() && !read.problems.iter().any(|p| p.0 == w))
                .collect();
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
                self.warn(format!(
                    "{}: the answer was stopped ({reason}); asking again for weeks it lacks",
                    self.scope
                ));
            } else if cut && !lost.is_empty() {
                size = halve(last - first + 1);
                cut_weeks.extend(&lost);
            } else if !cut {
                self.remember(&prompt, &reply.text);
            }
            recovered |= cut || !lost.is_empty();
        }
        let status = if (a..=b).any(|w| self.slots[w as usize].as_ref().is_some_and(|w| w.fallback)) {
            BatchStatus::Fallback
        } else if recovered {
            BatchStatus::Recovered
        } else {
            BatchStatus::Ok
        };
        cut_weeks.retain(|&w| self.slots[w as usize].as_ref().is_some_and(|w| !w.fallback));
        if let (Some(&x), Some(&y)) = (cut_weeks.iter().min(), cut_weeks.iter().max()) {
            self.log(&format!("{}: recovered weeks {} after truncation", self.scope, span(x, y)));
        }
        let (_, mut report) = self.active.take().expect("active batch");
        report.status = status;
        self.log(&format!("Batch {index} response length: {} chars", report.response_chars));
        self.emit(ProgressEvent::BatchDone {
            batch: index,
            total_batches,
            response_chars: report.response_chars,
            usage: self.usage(),
        });
        self.rm.batches.push(report);
        Ok(())
    }

    async fn all(&mut self) -> Result<(), Error> {
        self.model_lookup().await?;
        if !outline_is_complete(&self.rm.outline, self.rm.total_weeks) {
            self.outline().await?;
        }
        let slots = &self.slots;
        let planned = plan(self.rm.total_weeks, self.opts.batch_size(), &|w| slots[w as usize].is_some());
        let total_batches = planned.iter().filter(|p| !p.resumed).count() as u32;
        self.rm.batches.clear();
        let mut index = 0;
        for p in planned {
            if p.resumed {
                let r = BatchReport {
                    start_week: p.start,
                    end_week: p.end,
                    attempts: 0,
                    response_chars: 0,
                    status: BatchStatus::Resumed,
                };
                self.rm.batches.push(r);
                continue;
            }
            index += 1;
            self.scope = format!("Batch {index}");
            self.batch(index, total_batches, p).await?;
        }
        let fallbacks = self.slots.iter().flatten().filter(|w| w.fallback).count();
        if fallbacks == 0 {
            self.log(&format!("Completed all {total_batches} batches successfully"));
        } else {
            self.log(&format!("Completed all {total_batches} batches with {fallbacks} placeholder weeks"));
        }
        Ok(())
    }

    /// The roadmap with every finished week, in order.
    fn snapshot(&self) -> Roadmap {
        Roadmap { weeks: self.slots.iter().flatten().cloned().collect(), usage: self.usage(), ..self.rm.clone() }
    }

    fn fail(mut self, error: Error) -> RoadmapError {
        let batch = self.active.take().map(|(i, mut r)| {
            r.status = BatchStatus::Failed;
            self.rm.batches.push(r);
            i
        });
        self.log(&format!("Roadmap generation failed: {error}"));
        let partial = (!self.rm.outline.is_empty()).then(|| self.snapshot());
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
    opts.validate()?;
    let mut run = Run::new(transport, opts, opts.resume_from.as_ref(), on_event)?;
    match run.all().await {
        Ok(()) => {
            let rm = run.snapshot();
            let fallback_weeks = rm.weeks.iter().filter(|w| w.fallback).count() as u32;
            run.emit(ProgressEvent::Done { total_weeks: rm.total_weeks, fallback_weeks, usage: rm.usage });
            Ok(rm)
        }
        Err(e) => Err(run.fail(e)),
    }
}

/// Writes one week again (one request, plus retries and corrections) from its outline entry and both
/// neighbours; replaces it, clears its fallback flag and its warnings, and adds the usage.
/// On failure, `partial` is the roadmap unchanged.
pub async fn regenerate_week<T: Transport>(
    transport: &T,
    roadmap: &Roadmap,
    week: u32,
    opts: &RoadmapOptions,
) -> Result<Roadmap, RoadmapError> {
    let opts = RoadmapOptions {
        role: roadmap.role.clone(),
        weeks: roadmap.total_weeks as f64,
        resume_from: None,
        hours_per_day: opts.hours_per_day.or(roadmap.hours_per_day),
        level: opts.level.clone().or_else(|| roadmap.level.clone()),
        user_id: opts.user_id.clone().or_else(|| roadmap.user_id.clone()),
        ..opts.clone()
    };
    opts.validate()?;
    if week == 0 || week > roadmap.total_weeks {
        return Err(Error::invalid("week", format!("must be from 1 to {}", roadmap.total_weeks)).into());
    }
    if !outline_is_complete(&roadmap.outline, roadmap.total_weeks) {
        return Err(Error::invalid("roadmap", "has no complete outline to regenerate from").into());
    }
    let mut quiet = |_: &ProgressEvent| {};
    let mut run = Run::new(transport, &opts, Some(roadmap), &mut quiet)?;
    run.regenerating = true;
    run.slots[week as usize] = None;
    run.config.thinking_config = thinking_for(&run.endpoint.model);
    run.scope = format!("Week {week}");
    let prefix = format!("Week {week}:");
    run.rm.warnings.retain(|w| !w.starts_with(&prefix));
    let batches = std::mem::take(&mut run.rm.batches);
    let result = run.batch(1, 1, Planned { start: week, end: week, resumed: false }).await;
    run.rm.batches = batches;
    match result {
        Ok(()) => Ok(run.snapshot()),
        Err(error) => {
            let usage = run.usage();
            Err(RoadmapError { error, partial: Some(Roadmap { usage, ..roadmap.clone() }), batch: None })
        }
    }
}
