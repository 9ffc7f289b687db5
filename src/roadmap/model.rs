//! The roadmap as JavaScript sees it (camelCase through serde) and the progress events of a run.

use serde::{Deserialize, Serialize};

use crate::gemini::Usage;
use crate::json::codec::{json_enum, json_object};
use crate::json::{Obj, ToJson};
use crate::Error;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct Phase {
    pub name: String,
    pub start_week: u32,
    pub end_week: u32,
    pub goal: String,
}

/// One planned week: the outline entry every batch prompt repeats.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct OutlineWeek {
    pub week: u32,
    pub title: String,
    pub phase: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct Day {
    pub day: u32,
    pub title: String,
    pub tasks: Vec<String>,
    pub resources: Vec<String>,
    pub hours: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct Week {
    pub week: u32,
    pub title: String,
    pub phase: String,
    /// A placeholder built from the outline because the model never delivered this week.
    pub fallback: bool,
    pub days: Vec<Day>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct RoadmapUsage {
    pub prompt_tokens: u64,
    pub output_tokens: u64,
    pub thoughts_tokens: u64,
    pub total_tokens: u64,
    /// Every HTTP request sent: the model lookup, failed ones and retries included.
    pub requests: u64,
}

impl RoadmapUsage {
    pub fn add_reply(&mut self, u: &Usage) {
        self.prompt_tokens += u.prompt_tokens;
        self.output_tokens += u.output_tokens;
        self.thoughts_tokens += u.thoughts_tokens;
        self.total_tokens += u.total_tokens;
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "lowercase")]
pub enum BatchStatus {
    /// Every week came right the first time.
    #[default]
    Ok,
    /// Every week came, after renumbering, dropping, truncation recovery or a correction.
    Recovered,
    /// At least one week is a placeholder.
    Fallback,
    /// The run failed in this batch.
    Failed,
    /// Taken from `resumeFrom`: not requested again.
    Resumed,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct BatchReport {
    pub start_week: u32,
    pub end_week: u32,
    /// Requests sent for this batch (retries and corrections included).
    pub attempts: u32,
    pub response_chars: u64,
    pub status: BatchStatus,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct Roadmap {
    pub role: String,
    pub total_weeks: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(target_arch = "wasm32", tsify(optional, type = "string | undefined"))]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(target_arch = "wasm32", tsify(optional, type = "string | undefined"))]
    pub level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(target_arch = "wasm32", tsify(optional, type = "number | undefined"))]
    pub hours_per_day: Option<f64>,
    pub phases: Vec<Phase>,
    /// The plan: one entry per week, so a resumed run needs no new outline call.
    pub outline: Vec<OutlineWeek>,
    pub weeks: Vec<Week>,
    pub usage: RoadmapUsage,
    pub batches: Vec<BatchReport>,
    pub warnings: Vec<String>,
}

/// What `onProgress` hears, in order. `batch-done`'s `responseChars` is that batch's; its `usage`, like `done`'s, is
/// the call's so far (every request since the call began, batches still running included, plus a resumed roadmap's
/// usage): the latest is the running total, and adding them up counts requests more than once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(tag = "type", rename_all = "kebab-case", rename_all_fields = "camelCase")]
pub enum ProgressEvent {
    Outline {
        phases: Vec<Phase>,
        weeks: Vec<OutlineWeek>,
    },
    BatchStart {
        batch: u32,
        total_batches: u32,
        start_week: u32,
        end_week: u32,
    },
    /// A finished week, sent as soon as its closing `}` arrived. Never sent twice for one week.
    Week {
        week: Week,
    },
    BatchDone {
        batch: u32,
        total_batches: u32,
        response_chars: u64,
        usage: RoadmapUsage,
    },
    /// A request is tried again (`delayMs` 0 for a re-ask after an unusable answer).
    Retry {
        batch: u32,
        attempt: u32,
        delay_ms: u64,
        reason: String,
    },
    Warning {
        message: String,
    },
    Done {
        total_weeks: u32,
        fallback_weeks: u32,
        usage: RoadmapUsage,
    },
}

/// A failed run: the error and, when there is anything to keep, the roadmap so far
/// (finished weeks only), usable as `resumeFrom`.
#[derive(Debug, Clone, PartialEq)]
pub struct RoadmapError {
    pub error: Error,
    pub partial: Option<Roadmap>,
    /// The 1-based batch that failed, if a batch was running.
    pub batch: Option<u32>,
}

impl From<Error> for RoadmapError {
    fn from(error: Error) -> Self {
        RoadmapError { error, partial: None, batch: None }
    }
}

impl std::fmt::Display for RoadmapError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.error.text())
    }
}

impl std::error::Error for RoadmapError {}

// The JSON mapping JavaScript sees; `tests/json_mapping.rs` checks it against the serde derives above.

json_object!(Phase { name: "name" req, start_week: "startWeek" req, end_week: "endWeek" req, goal: "goal" req });
json_object!(OutlineWeek { week: "week" req, title: "title" req, phase: "phase" req });
json_object!(Day {
    day: "day" req,
    title: "title" req,
    tasks: "tasks" req,
    resources: "resources" req,
    hours: "hours" req,
});
json_object!(Week { week: "week" req, title: "title" req, phase: "phase" req, fallback: "fallback" req, days: "days" req });
json_object!(RoadmapUsage {
    prompt_tokens: "promptTokens" req,
    output_tokens: "outputTokens" req,
    thoughts_tokens: "thoughtsTokens" req,
    total_tokens: "totalTokens" req,
    requests: "requests" req,
});
json_enum!(BatchStatus { Ok: "ok", Recovered: "recovered", Fallback: "fallback", Failed: "failed", Resumed: "resumed" });
json_object!(BatchReport {
    start_week: "startWeek" req,
    end_week: "endWeek" req,
    attempts: "attempts" req,
    response_chars: "responseChars" req,
    status: "status" req,
});
json_object!(Roadmap {
    role: "role" req,
    total_weeks: "totalWeeks" req,
    user_id: "userId" skip,
    level: "level" skip,
    hours_per_day: "hoursPerDay" skip,
    phases: "phases" req,
    outline: "outline" req,
    weeks: "weeks" req,
    usage: "usage" req,
    batches: "batches" req,
    warnings: "warnings" req,
});

impl ToJson for ProgressEvent {
    fn write_json(&self, out: &mut String) {
        let o = Obj::new(out);
        match self {
            ProgressEvent::Outline { phases, weeks } => {
                o.field("type", "outline").field("phases", phases).field("weeks", weeks)
            }
            ProgressEvent::BatchStart { batch, total_batches, start_week, end_week } => o
                .field("type", "batch-start")
                .field("batch", batch)
                .field("totalBatches", total_batches)
                .field("startWeek", start_week)
                .field("endWeek", end_week),
            ProgressEvent::Week { week } => o.field("type", "week").field("week", week),
            ProgressEvent::BatchDone { batch, total_batches, response_chars, usage } => o
                .field("type", "batch-done")
                .field("batch", batch)
                .field("totalBatches", total_batches)
                .field("responseChars", response_chars)
                .field("usage", usage),
            ProgressEvent::Retry { batch, attempt, delay_ms, reason } => o
                .field("type", "retry")
                .field("batch", batch)
                .field("attempt", attempt)
                .field("delayMs", delay_ms)
                .field("reason", reason),
            ProgressEvent::Warning { message } => o.field("type", "warning").field("message", message),
            ProgressEvent::Done { total_weeks, fallback_weeks, usage } => o
                .field("type", "done")
                .field("totalWeeks", total_weeks)
                .field("fallbackWeeks", fallback_weeks)
                .field("usage", usage),
        }
        .end();
    }
}
