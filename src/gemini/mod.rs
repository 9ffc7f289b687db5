//! Gemini v1beta REST client: pure "describe the call / read the reply" mapping plus one generic driver.
//! The network itself is behind the [`transport::Transport`] trait; only `web::fetch` implements it for real.

pub mod client;
pub mod replay;
pub mod request;
pub mod response;
pub mod sse;
pub mod transport;

pub use client::{Endpoint, GeminiClient};
pub use request::{Content, GenerateRequest, GenerationConfig, Part, ThinkingConfig};
pub use response::{ModelInfo, Reply, Usage, BLOCK_REASONS};
pub use transport::{Counted, HttpRequest, Transport};

pub const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com";
pub const DEFAULT_MODEL: &str = "gemini-3.1-flash-lite";
pub const DEFAULT_TIMEOUT_MS: u32 = 120_000;
