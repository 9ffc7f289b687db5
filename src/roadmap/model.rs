//! The roadmap as JavaScript sees it (camelCase through serde) and the progress events of a run.

use serde::{Deserialize, Serialize};

use crate::gemini::Usage;
use crate::Error;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct Phase {
    pub name: String,
    pub start_week: u32,
    pub end_week: u32,
    pub goal: String,
}

/// One planned week: the outline entry every batch prompt repeats.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct OutlineWeek {
    pub week: u32,
    pub title: String,
    pub phase: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct Day {
    pub day: u32,
    pub title: String,
    pub tasks: Vec<String>,
    pub resources: Vec<String>,
    pub hours: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "lowercase")]
pub enum BatchStatus {
    /// Every week came right the first time.
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct Roadmap {
    pub role: String,
    pub total_weeks: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours_per_day: Option<f64>,
    pub phases: Vec<Phase>,
    /// The plan: one entry per week, so a resumed run needs no new outline call.
    pub outline: Vec<OutlineWeek>,
    pub weeks: Vec<Week>,
    pub usage: RoadmapUsage,
    pub batches: Vec<BatchReport>,
    pub warnings: Vec<String>,
}

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
        self.error.fmt(f)
    }
}

impl std::error::Error for RoadmapError {}
