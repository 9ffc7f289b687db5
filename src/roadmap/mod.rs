//! Roadmap generation: options, outline, batched week requests with streaming, validation, recovery,
//! retries and resume. Pure Rust over the `Transport` trait; the JS facade only converts types.

pub mod fallback;
pub mod join;
pub mod model;
pub mod options;
pub mod planner;
pub mod prompt;
pub mod run;
pub mod schema;
pub mod stream;
pub mod validate;

pub use model::{
    BatchReport, BatchStatus, Day, OutlineWeek, Phase, ProgressEvent, Roadmap, RoadmapError, RoadmapUsage, Week,
};
pub use options::{HistoryMode, RoadmapOptions, Strategy};
pub use run::{generate, regenerate_week};
