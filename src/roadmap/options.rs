//! `generateRoadmap` options as plain data, and the checks that run before anything is sent.
//! Numbers are `f64` so that `12.5` or `-1` from JavaScript get an error naming the field.

use serde::{Deserialize, Serialize};

use super::model::{OutlineWeek, Phase, Roadmap, Week};
use crate::gemini::Endpoint;
use crate::json::codec::{json_enum, json_object};
use crate::json::quote;
use crate::Error;

/// How the batches written earlier in a run reach the next request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "lowercase")]
pub enum HistoryMode {
    /// Each batch is one self-contained user turn: prompt size stays flat.
    #[default]
    Windowed,
    /// Every earlier turn is resent as chat history (the seed's behaviour; grows quadratically).
    Full,
}

/// How the batches of weeks are scheduled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// One batch after another; each continues from the last days the learner finished (the default).
    #[default]
    Sequential,
    /// The outline first (streamed: the first batches start as soon as their part of the plan has arrived), then
    /// up to `concurrency` batches at once. Each batch gets the plan and its planned neighbouring weeks instead of
    /// the days the previous batch wrote. The first week is written in parts (days 1-3, 4-5, 6-7) at once, so it
    /// arrives sooner; if a part comes back unusable, the whole week is asked for instead.
    Parallel,
}

/// The plain-data options of `generateRoadmap` (`regenerateWeek` takes `role` and `weeks` from its roadmap).
/// An unknown name is rejected with `INVALID_INPUT`, and so is a value out of range: nothing is sent then.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoadmapOptions {
    /// Required: the user's Gemini API key, not empty, at most 1024 characters and visible ASCII only once trimmed (a
    /// pasted key's line break is dropped). Sent only as the `x-goog-api-key` header, never in a URL, a log line or an
    /// error.
    pub api_key: String,
    /// Required: the role or goal, e.g. `"DevOps Engineer"`; 1 to 120 characters once trimmed (runs of whitespace
    /// become one space in the prompts), not holding the API key.
    pub role: String,
    /// Required: the roadmap's length, an integer from 1 to 52 weeks.
    pub weeks: f64,
    /// The Gemini model, default `"gemini-3.1-flash-lite"` (also when empty). A leading `models/` is dropped; the
    /// name (at most 128 characters) starts with an ASCII letter or digit, may hold only those, `-`, `.` and `_`, and
    /// must not hold the API key.
    #[serde(default)]
    #[cfg_attr(target_arch = "wasm32", tsify(optional, type = "string | null | undefined"))]
    pub model: Option<String>,
    /// Where requests go, default `"https://generativelanguage.googleapis.com"` (also when empty): a proxy or the
    /// local mock. An `http://` or `https://` URL without query, fragment, credentials (`user:pass@`), spaces, tabs,
    /// line breaks or backslashes, not holding the API key; a trailing `/v1beta` is dropped (requests go to
    /// `{baseUrl}/v1beta/models/…`).
    #[serde(default)]
    #[cfg_attr(target_arch = "wasm32", tsify(optional, type = "string | null | undefined"))]
    pub base_url: Option<String>,
    /// Weeks asked for per request: an integer from 1 to 52, default 3.
    #[serde(default)]
    #[cfg_attr(target_arch = "wasm32", tsify(optional, type = "number | null | undefined"))]
    pub batch_weeks: Option<f64>,
    /// The sliding window: the last this many days of the week before a batch go into its prompt. An integer
    /// from 0 to 7, default 2. A parallel run takes them only from a week finished before the run or in the batch.
    #[serde(default)]
    #[cfg_attr(target_arch = "wasm32", tsify(optional, type = "number | null | undefined"))]
    pub context_days: Option<f64>,
    /// Retries of transient failures only (408, 499, 500, 502, 503, 504, network, timeout): an integer from 0 to 10,
    /// default 3. A per-minute 429 is waited out outside this count, up to 10 times per request until it is answered, whatever else fails in between.
    #[serde(default)]
    #[cfg_attr(target_arch = "wasm32", tsify(optional, type = "number | null | undefined"))]
    pub max_retries: Option<f64>,
    /// Copied to the result only; never sent to Gemini. Must not hold the API key (the roadmap is what apps save).
    #[serde(default)]
    #[cfg_attr(target_arch = "wasm32", tsify(optional, type = "string | null | undefined"))]
    pub user_id: Option<String>,
    /// The learner's level for the prompts, e.g. `"Beginner"`: 1 to 60 characters once trimmed, not holding the
    /// API key. Unset: the level of `resumeFrom`, if any, else none.
    #[serde(default)]
    #[cfg_attr(target_arch = "wasm32", tsify(optional, type = "string | null | undefined"))]
    pub level: Option<String>,
    /// Study hours per day for the prompts: a number above 0 and at most 16. Unset: the value of `resumeFrom`, if
    /// any, else none (2 is then assumed for a day that comes without hours, and for placeholder days).
    #[serde(default)]
    #[cfg_attr(target_arch = "wasm32", tsify(optional, type = "number | null | undefined"))]
    pub hours_per_day: Option<f64>,
    /// A partial roadmap (`err.partial`) to finish: its weeks are kept and not asked for again. It must be for the
    /// same role (case and spacing aside) with `totalWeeks` equal to `weeks`, and its weeks must be valid.
    #[serde(default)]
    #[cfg_attr(target_arch = "wasm32", tsify(optional, type = "StoredRoadmap | null | undefined"))]
    pub resume_from: Option<Roadmap>,
    /// The seed's monitoring lines (`Generating batch: weeks 4-6`, ...) on `console.debug`; default `true`.
    #[serde(default)]
    #[cfg_attr(target_arch = "wasm32", tsify(optional, type = "boolean | null | undefined"))]
    pub log: Option<bool>,
    /// `"windowed"` (the default) or `"full"` (every earlier turn resent: prompt tokens grow quadratically);
    /// `"full"` cannot be combined with `strategy: "parallel"`.
    #[serde(default)]
    #[cfg_attr(target_arch = "wasm32", tsify(optional, type = "HistoryMode | null | undefined"))]
    pub history: Option<HistoryMode>,
    /// Default `true`: `streamGenerateContent?alt=sse`, so each week is reported as soon as its JSON closes.
    /// `false`: one whole answer per request (a parallel run then waits for the whole outline).
    #[serde(default)]
    #[cfg_attr(target_arch = "wasm32", tsify(optional, type = "boolean | null | undefined"))]
    pub stream: Option<bool>,
    /// Per request, the longest wait in milliseconds for the response to start or for its next chunk: an integer
    /// from 1 to 3600000, default 120000.
    #[serde(default)]
    #[cfg_attr(target_arch = "wasm32", tsify(optional, type = "number | null | undefined"))]
    pub timeout_ms: Option<f64>,
    /// `"sequential"` (the default) or `"parallel"`.
    #[serde(default)]
    #[cfg_attr(target_arch = "wasm32", tsify(optional, type = "Strategy | null | undefined"))]
    pub strategy: Option<Strategy>,
    /// Parallel only: at most this many requests in flight (the outline counts as one). 1 to 16, default 4.
    /// With 3 or more, the first week is written in `concurrency - 1` parts (at most 3).
    #[serde(default)]
    #[cfg_attr(target_arch = "wasm32", tsify(optional, type = "number | null | undefined"))]
    pub concurrency: Option<f64>,
    /// At most this many output tokens per request (thinking included), 4096 to 1048576 (a week must fit in one
    /// answer); the model's own limit (read from `GET models/{model}`) applies when it is lower. A cut answer is
    /// recovered like any other: its complete weeks are kept and the rest asked for in smaller requests.
    #[serde(default)]
    #[cfg_attr(target_arch = "wasm32", tsify(optional, type = "number | null | undefined"))]
    pub max_output_tokens: Option<f64>,
}

const MAX_ROLE_CHARS: usize = 120;
const MAX_CONCURRENCY: u32 = 16;
const DEFAULT_CONCURRENCY: usize = 4;
const MAX_LEVEL_CHARS: usize = 60;
const HOURS_RANGE: &str = "must be a number above 0 and at most 16";

fn hours_in_range(h: f64) -> bool {
    h > 0.0 && h <= 16.0
}

pub(crate) fn int_in(field: &str, v: f64, lo: u32, hi: u32) -> Result<u32, Error> {
    if v.fract() == 0.0 && v >= lo as f64 && v <= hi as f64 {
        Ok(v as u32)
    } else {
        Err(Error::invalid(field, cat!("must be an integer from ", lo, " to ", hi)))
    }
}

fn text(field: &str, v: &str, max: usize) -> Result<(), Error> {
    let n = crate::text::char_count(v.trim());
    // Format characters that show nothing (zero-width space and joiners, word joiner, BOM, soft hyphen) are
    // no more a role than spaces are: the roadmap's title would be invisible.
    let invisible = |c: char| c.is_whitespace() || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{AD}');
    if v.chars().all(invisible) {
        Err(Error::invalid(field, "must not be empty"))
    } else if n > max {
        Err(Error::invalid(field, cat!("must be at most ", max, " characters")))
    } else {
        Ok(())
    }
}

/// Collapses whitespace (newlines included) so a value cannot break the prompt's line structure.
pub fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// The first of `fields` (name, value if given) that holds `key`, refused as `{prefix}{name}`.
fn key_in(fields: &[(&str, Option<&String>)], key: &str, prefix: &str) -> Result<(), Error> {
    match fields.iter().find(|(_, v)| v.is_some_and(|v| crate::error::holds_key(v, key))) {
        Some((field, _)) => Err(Error::invalid(&cat!(prefix, *field), "holds the API key: pass the key as apiKey only")),
        None => Ok(()),
    }
}

/// Whether two roles are the same one, case and spacing aside (a roadmap stays its role's however it is typed).
pub fn same_role(a: &str, b: &str) -> bool {
    one_line(a).eq_ignore_ascii_case(&one_line(b))
}

impl RoadmapOptions {
    pub fn new(api_key: &str, role: &str, weeks: u32) -> Self {
        RoadmapOptions { api_key: api_key.into(), role: role.into(), weeks: weeks as f64, ..Default::default() }
    }

    /// Every check, in field order; the first problem wins. Nothing is sent when this fails.
    pub fn validate(&self) -> Result<(), Error> {
        self.endpoint()?;
        // The key typed in the wrong field would travel in every prompt and stay in the roadmap (which apps save).
        let key = self.api_key.trim();
        let fields = [("role", Some(&self.role)), ("level", self.level.as_ref()), ("userId", self.user_id.as_ref())];
        key_in(&fields, key, "")?;
        text("role", &self.role, MAX_ROLE_CHARS)?;
        int_in("weeks", self.weeks, 1, 52)?;
        if let Some(v) = self.batch_weeks {
            int_in("batchWeeks", v, 1, 52)?;
        }
        if let Some(v) = self.context_days {
            int_in("contextDays", v, 0, 7)?;
        }
        if let Some(v) = self.max_retries {
            int_in("maxRetries", v, 0, 10)?;
        }
        if let Some(l) = &self.level {
            text("level", l, MAX_LEVEL_CHARS)?;
        }
        if let Some(h) = self.hours_per_day {
            if !hours_in_range(h) {
                return Err(Error::invalid("hoursPerDay", HOURS_RANGE));
            }
        }
        if let Some(r) = &self.resume_from {
            self.check_resume(r)?;
        }
        if let Some(v) = self.concurrency {
            int_in("concurrency", v, 1, MAX_CONCURRENCY)?;
        }
        if let Some(v) = self.max_output_tokens {
            int_in("maxOutputTokens", v, 1 << 12, 1 << 20)?;
        }
        if self.parallel() && self.full_history() {
            // Full history resends every earlier batch's answer, so each batch must wait for the one before it:
            // there is nothing left to run at the same time.
            return Err(Error::invalid(
                "strategy",
                "\"parallel\" cannot be combined with history: \"full\": full history sends every earlier batch's \
                 answer with the next request, so batches cannot run at the same time; use history \"windowed\"",
            ));
        }
        Ok(())
    }

    /// The validated endpoint (apiKey, model, baseUrl, timeoutMs).
    pub fn endpoint(&self) -> Result<Endpoint, Error> {
        let timeout = match self.timeout_ms {
            Some(t) => Some(int_in("timeoutMs", t, 1, 3_600_000)?),
            None => None,
        };
        Endpoint::new(&self.api_key, self.model.as_deref(), self.base_url.as_deref(), timeout)
    }

    fn check_resume(&self, r: &Roadmap) -> Result<(), Error> {
        // Named by their path in it (`resumeFrom.weeks[2].title`), so that a form can point at what is wrong.
        let bad = |at: &str, m: String| Err(Error::invalid(&cat!("resumeFrom.", at), m));
        // Its level goes into the prompts and its userId stays in the new roadmap, as the options' own would, unless
        // those options replace them.
        let key = self.api_key.trim();
        let own = [
            ("role", Some(&r.role)),
            ("level", r.level.as_ref().filter(|_| self.level.is_none())),
            ("userId", r.user_id.as_ref().filter(|_| self.user_id.is_none())),
        ];
        key_in(&own, key, "resumeFrom.")?;
        if !same_role(&r.role, &self.role) {
            return bad("role", cat!("was made for role ", quote(&r.role), ", not ", quote(&self.role)));
        }
        if r.total_weeks != self.total_weeks() {
            return bad("totalWeeks", cat!("has ", r.total_weeks, " weeks, not ", self.total_weeks()));
        }
        if !r.outline.is_empty() && !outline_is_complete(&r.outline, r.total_weeks) {
            return bad("outline", "its outline must list weeks 1 to totalWeeks once each, with titles".into());
        }
        // The plan's phases are taken as they are when its outline is: a stored roadmap edited by hand may lack them.
        if !r.outline.is_empty() && !phases_cover(&r.phases, r.total_weeks) {
            return bad("phases", "its phases must cover weeks 1 to totalWeeks in order, without gaps".into());
        }
        // What the prompts take from it is checked like the options of the same name.
        if r.hours_per_day.is_some_and(|h| !hours_in_range(h)) {
            return bad("hoursPerDay", HOURS_RANGE.into());
        }
        if let Some(l) = &r.level {
            if let Err(Error::InvalidInput { message, .. }) = text("level", l, MAX_LEVEL_CHARS) {
                return bad("level", message);
            }
        }
        check_weeks(r, 0).map_err(|(at, m)| Error::invalid(&cat!("resumeFrom.", &at), m))
    }

    pub fn total_weeks(&self) -> u32 {
        self.weeks as u32
    }
    pub fn batch_size(&self) -> u32 {
        self.batch_weeks.map_or(3, |v| v as u32)
    }
    pub fn context_days(&self) -> usize {
        self.context_days.map_or(2, |v| v as usize)
    }
    pub fn retries(&self) -> u32 {
        self.max_retries.map_or(3, |v| v as u32)
    }
    pub fn logging(&self) -> bool {
        self.log.unwrap_or(true)
    }
    pub fn streaming(&self) -> bool {
        self.stream.unwrap_or(true)
    }
    pub fn full_history(&self) -> bool {
        self.history == Some(HistoryMode::Full)
    }
    pub fn parallel(&self) -> bool {
        self.strategy == Some(Strategy::Parallel)
    }
    /// The output cap of every request: the model's limit (0: unknown), lowered to `maxOutputTokens` if set.
    pub fn output_cap(&self, model_limit: u64) -> Option<u32> {
        let model = (model_limit > 0).then(|| model_limit.min(u32::MAX as u64) as u32);
        match (model, self.max_output_tokens.map(|v| v as u32)) {
            (Some(m), Some(c)) => Some(m.min(c)),
            (m, c) => m.or(c),
        }
    }
    /// Requests in flight at once: `concurrency` in parallel mode, else 1.
    pub fn concurrency(&self) -> usize {
        if self.parallel() {
            self.concurrency.map_or(DEFAULT_CONCURRENCY, |v| v as usize)
        } else {
            1
        }
    }
}

pub fn outline_is_complete(outline: &[OutlineWeek], total: u32) -> bool {
    outline.len() == total as usize
        && outline.iter().enumerate().all(|(i, o)| o.week == i as u32 + 1 && !o.title.trim().is_empty())
}

/// Phases one after another from week 1 to `total`, each at least a week long, as `read_outline` leaves them.
fn phases_cover(phases: &[Phase], total: u32) -> bool {
    let mut next = 1;
    phases.iter().all(|p| {
        let follows = p.start_week == next && p.end_week >= p.start_week;
        next = p.end_week.saturating_add(1);
        follows
    }) && next == total + 1
}

/// The roadmap's weeks numbered from 1 to `totalWeeks` once each, and each as a finished week must be (seven days
/// with tasks, ...), but for week `except` (one about to be written again): the error says which is not.
pub fn check_weeks(r: &Roadmap, except: u32) -> Result<(), (String, String)> {
    check_week_numbers(r)?;
    for (i, w) in r.weeks.iter().enumerate().filter(|(_, w)| w.week != except) {
        if let Some(p) = super::validate::week_problem(w) {
            return Err((cat!("weeks[", i, ']'), cat!("week ", w.week, ' ', p.had())));
        }
        // No run writes these (a week's title comes from the plan when the answer has none; hours outside 0-24
        // are read as the default), so the week was not finished by one.
        if w.title.trim().is_empty() {
            return Err((cat!("weeks[", i, "].title"), cat!("week ", w.week, " has no title")));
        }
        if let Some((j, d)) = w.days.iter().enumerate().find(|(_, d)| !(0.0..=super::validate::DAY_HOURS).contains(&d.hours)) {
            return Err((cat!("weeks[", i, "].days[", j, "].hours"), cat!("week ", w.week, " has hours outside 0-24 on day ", d.day)));
        }
    }
    Ok(())
}

/// Each week of the roadmap numbered from 1 to `totalWeeks`, and only once: the error says which is not.
fn check_week_numbers(r: &Roadmap) -> Result<(), (String, String)> {
    let mut seen = vec![false; r.total_weeks as usize + 1];
    for (i, w) in r.weeks.iter().enumerate() {
        if w.week == 0 || w.week > r.total_weeks || std::mem::replace(&mut seen[w.week as usize], true) {
            return Err((cat!("weeks[", i, "].week"), cat!("week ", w.week, " is out of range or repeated")));
        }
    }
    Ok(())
}

/// Weeks already finished in a resumed roadmap, indexed by week number (index 0 unused; weeks out of range
/// are left out, though callers check them first).
pub fn finished_slots(total: u32, from: Option<&Roadmap>) -> Vec<Option<Week>> {
    let mut slots = vec![None; total as usize + 1];
    for w in from.map(|r| r.weeks.as_slice()).unwrap_or_default() {
        if let Some(slot) = slots.get_mut(w.week as usize).filter(|_| w.week > 0) {
            *slot = Some(w.clone());
        }
    }
    slots
}

json_enum!(HistoryMode { Windowed: "windowed", Full: "full" });
json_enum!(Strategy { Sequential: "sequential", Parallel: "parallel" });
json_object!(deny RoadmapOptions {
    api_key: "apiKey" req,
    role: "role" req,
    weeks: "weeks" req,
    model: "model" skip,
    base_url: "baseUrl" skip,
    batch_weeks: "batchWeeks" skip,
    context_days: "contextDays" skip,
    max_retries: "maxRetries" skip,
    user_id: "userId" skip,
    level: "level" skip,
    hours_per_day: "hoursPerDay" skip,
    resume_from: "resumeFrom" skip,
    log: "log" skip,
    history: "history" skip,
    stream: "stream" skip,
    timeout_ms: "timeoutMs" skip,
    strategy: "strategy" skip,
    concurrency: "concurrency" skip,
    max_output_tokens: "maxOutputTokens" skip,
});
