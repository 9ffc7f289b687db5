//! The one error type of the crate: every failure, from bad options to a cut SSE stream.
//! It is converted into a JavaScript `Error` in exactly one place (`web::error`).

use std::fmt;

/// Google's `ErrorInfo.reason`, `QuotaFailure` ids and `RetryInfo.retryDelay`, when the error body had them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApiErrorDetails {
    /// Google's status string, e.g. `RESOURCE_EXHAUSTED`.
    pub status: Option<String>,
    /// `ErrorInfo.reason`, e.g. `API_KEY_INVALID`.
    pub reason: Option<String>,
    /// `QuotaFailure.violations[].quotaId`.
    pub quota_ids: Vec<String>,
    /// `RetryInfo.retryDelay` in milliseconds (at most a day: `u32` keeps `Error` small).
    pub retry_delay_ms: Option<u32>,
    /// The quota is 0 (`quotaValue: "0"`, or `limit: 0` in the message): the key may not use the model at all
    /// (e.g. a model outside the free tier), so no wait helps, though Gemini still names one.
    pub zero_quota: bool,
}

/// The shortest key looked for inside other text (to hide it, or to refuse it in another option). No real key is
/// that short, and a short (mock) key would be found in every word (`we******s`).
pub const SEARCHABLE_KEY_LEN: usize = 8;

/// Whether `text` holds `key` (the key typed or pasted into another field): equal to it, or containing a key long
/// enough to be looked for.
pub fn holds_key(text: &str, key: &str) -> bool {
    text == key || (key.len() >= SEARCHABLE_KEY_LEN && crate::text::find(text, key).is_some())
}

/// `text` with `key` hidden as [`Error::without_key`] hides it.
pub fn hide_key(text: &str, key: &str) -> String {
    if key.len() < SEARCHABLE_KEY_LEN {
        return text.to_string();
    }
    let quoted = crate::json::quote(key);
    let escaped = crate::text::slice(&quoted, 1..quoted.len() - 1);
    // A key the endpoint would refuse (not ASCII) may still be quoted by an options error: hidden whole only, as
    // a cut run could end inside a char.
    if !key.is_ascii() {
        return crate::text::replace(&crate::text::replace(text, key, "***"), escaped, "***");
    }
    // As written and as a JSON string literal writes it (`"` and `\` escaped).
    crate::text::hide_key_runs(text, &[key, escaped], SEARCHABLE_KEY_LEN, "***")
}

#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// Bad options: nothing was sent.
    InvalidInput { field: String, message: String },
    /// 401/403, or 400 with `API_KEY_INVALID`.
    Auth { status: u16, message: String, details: ApiErrorDetails },
    /// 429: per-minute (retryable), per-day or zero quota.
    RateLimited { message: String, details: ApiErrorDetails },
    /// Any other 4xx: the request itself is wrong (never retried).
    BadRequest { status: u16, message: String, details: ApiErrorDetails },
    /// 404: unknown model or endpoint.
    NotFound { message: String, details: ApiErrorDetails },
    /// 5xx or an `{"error":...}` event inside a stream.
    Server { status: u16, message: String, details: ApiErrorDetails },
    /// `fetch` rejected: offline, DNS, CORS, connection reset.
    Network { message: String },
    /// The per-request timeout fired.
    Timeout { ms: u32 },
    /// The prompt or the answer was blocked (`promptFeedback.blockReason`, `SAFETY`, `RECITATION`, ...).
    Blocked { reason: String, message: String },
    /// The answer could not be read: not JSON, empty, cut, or not the shape we asked for.
    Malformed { message: String, position: Option<usize> },
    /// The answer ended (`STOP`) without any text: `MALFORMED` to callers, but a hiccup another try usually cures.
    EmptyAnswer,
    /// Gemini ended the answer in a way another try usually cures: a `finishReason` other than `STOP`,
    /// `MAX_TOKENS` or a block (`MALFORMED_FUNCTION_CALL`, `UNEXPECTED_TOOL_CALL`, `OTHER`, ...), or no candidates.
    OddEnding { message: String },
    /// The answer was cut at `maxOutputTokens`: what came is incomplete.
    Truncated { message: String },
    /// The user's `AbortSignal` fired.
    Aborted,
}

impl Error {
    /// The stable `code` JavaScript callers switch on.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidInput { .. } => "INVALID_INPUT",
            Error::Auth { .. } => "AUTH",
            Error::RateLimited { .. } => "RATE_LIMITED",
            Error::BadRequest { .. } => "BAD_REQUEST",
            Error::NotFound { .. } => "NOT_FOUND",
            Error::Server { .. } => "SERVER",
            Error::Network { .. } => "NETWORK",
            Error::Timeout { .. } => "TIMEOUT",
            Error::Blocked { .. } => "BLOCKED",
            Error::Malformed { .. } | Error::EmptyAnswer | Error::OddEnding { .. } => "MALFORMED",
            Error::Truncated { .. } => "TRUNCATED",
            Error::Aborted => "ABORTED",
        }
    }

    /// The HTTP status, where one was received.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Auth { status, .. } | Error::BadRequest { status, .. } | Error::Server { status, .. } => {
                Some(*status)
            }
            Error::RateLimited { .. } => Some(429),
            Error::NotFound { .. } => Some(404),
            _ => None,
        }
    }

    pub fn details(&self) -> Option<&ApiErrorDetails> {
        match self {
            Error::Auth { details, .. }
            | Error::RateLimited { details, .. }
            | Error::BadRequest { details, .. }
            | Error::Server { details, .. }
            | Error::NotFound { details, .. } => Some(details),
            _ => None,
        }
    }

    /// A per-day quota will not refill within any sensible wait: retrying only burns requests.
    pub fn is_daily_quota(&self) -> bool {
        match self {
            Error::RateLimited { details, .. } => details.quota_ids.iter().any(|q| crate::text::find(q, "PerDay").is_some()),
            _ => false,
        }
    }

    /// Only 408, 429 (per-minute), 500, 502, 503, 504, network failures, timeouts and an answer that ended without
    /// any text or oddly (hiccups of Gemini's that another try usually cures) are worth another try.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::RateLimited { details, .. } => !self.is_daily_quota() && !details.zero_quota,
            Error::Server { status, .. } => matches!(status, 408 | 499 | 500 | 502 | 503 | 504) || *status == 0,
            Error::Network { .. } | Error::Timeout { .. } => true,
            Error::EmptyAnswer | Error::OddEnding { .. } => true,
            _ => false,
        }
    }

    pub fn retry_delay_ms(&self) -> Option<u64> {
        self.details().and_then(|d| d.retry_delay_ms).map(u64::from)
    }

    /// The same error with `key` hidden (`***`) wherever it is quoted, as written and as a JSON string literal
    /// writes it, whole or cut short after its first [`SEARCHABLE_KEY_LEN`] characters (a title shortened to 120):
    /// in an option's name or value (`INVALID_INPUT`), and in everything Google's error bodies give (messages,
    /// some of which quote the key: `Permission denied: Consumer 'api_key:AIza…' has been suspended.`; a block
    /// reason, status, `ErrorInfo` reason, quota ids, which a proxy may fill with anything). These reach `err.message`
    /// and the error's fields, `retry` events, warnings and the log.
    pub fn without_key(self, key: &str) -> Error {
        let hide = |text: &mut String| *text = hide_key(text, key);
        let mut e = self;
        match &mut e {
            Error::InvalidInput { field: a, message: b } | Error::Blocked { reason: a, message: b } => {
                hide(a);
                hide(b);
            }
            Error::Auth { message, details, .. }
            | Error::RateLimited { message, details }
            | Error::BadRequest { message, details, .. }
            | Error::NotFound { message, details }
            | Error::Server { message, details, .. } => {
                hide(message);
                details.status.iter_mut().chain(details.reason.iter_mut()).chain(details.quota_ids.iter_mut()).for_each(&hide);
            }
            Error::Network { message }
            | Error::Malformed { message, .. }
            | Error::OddEnding { message }
            | Error::Truncated { message } => hide(message),
            Error::Timeout { .. } | Error::EmptyAnswer | Error::Aborted => {}
        }
        e
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Error::InvalidInput { field: field.to_string(), message: message.into() }
    }

    pub fn malformed(message: impl Into<String>) -> Self {
        Error::Malformed { message: message.into(), position: None }
    }

    /// The message (what `Display` prints), built without `core::fmt`.
    pub fn text(&self) -> String {
        match self {
            Error::InvalidInput { field, message } => cat!("Invalid option `", field, "`: ", message),
            Error::Auth { status, message, .. } => cat!("Authentication failed (", status, "): ", message),
            Error::RateLimited { message, details } => match details.retry_delay_ms {
                // Gemini names a wait even then, but none helps.
                _ if details.zero_quota => cat!("Rate limited (no quota for this model): ", message),
                _ if self.is_daily_quota() => {
                    cat!("Rate limited (daily quota used up; it resets at midnight Pacific time): ", message)
                }
                Some(ms) => cat!("Rate limited (retry in ", crate::json::num::seconds_1dp(ms.into()), "s): ", message),
                None => cat!("Rate limited: ", message),
            },
            Error::BadRequest { status, message, .. } => cat!("Request rejected (", status, "): ", message),
            Error::NotFound { message, .. } => cat!("Not found (404): ", message),
            Error::Server { status, message, .. } => cat!("Gemini server error (", status, "): ", message),
            Error::Network { message } => cat!("Network error: ", message),
            Error::Timeout { ms } => cat!("Request timed out after ", ms, " ms"),
            Error::Blocked { reason, message } => cat!("Blocked by Gemini (", reason, "): ", message),
            Error::Malformed { message, position: Some(p) } => cat!("Malformed answer at position ", p, ": ", message),
            Error::Malformed { message, position: None } | Error::OddEnding { message } => cat!("Malformed answer: ", message),
            Error::EmptyAnswer => "Malformed answer: Gemini ended its turn (STOP) without any text".into(),
            Error::Truncated { message } => cat!("Truncated answer: ", message),
            Error::Aborted => "The operation was aborted.".into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

impl std::error::Error for Error {}

impl From<crate::json::RepairError> for Error {
    fn from(e: crate::json::RepairError) -> Self {
        Error::Malformed { message: e.message, position: Some(e.position) }
    }
}
