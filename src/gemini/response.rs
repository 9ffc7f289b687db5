//! The reply side: reads `GenerateContentResponse`, streamed chunks, model info and Google's error JSON.
//! Thought parts are never part of the answer; what ended the answer (`finishReason`) is always kept.

use super::request::Content;
use crate::error::{ApiErrorDetails, Error};
use crate::text::{find, slice};
use crate::json::codec::json_object;
use crate::json::{DecodeError, Value};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsageMetadata {
    pub prompt_token_count: u64,
    pub candidates_token_count: u64,
    pub thoughts_token_count: u64,
    pub cached_content_token_count: u64,
    pub total_token_count: u64,
}

/// Token counts of one or more requests, as Gemini reported them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    pub prompt_tokens: u64,
    pub output_tokens: u64,
    pub thoughts_tokens: u64,
    pub cached_tokens: u64,
    pub total_tokens: u64,
    pub requests: u64,
}

impl Usage {
    pub fn add(&mut self, other: &Usage) {
        self.prompt_tokens += other.prompt_tokens;
        self.output_tokens += other.output_tokens;
        self.thoughts_tokens += other.thoughts_tokens;
        self.cached_tokens += other.cached_tokens;
        self.total_tokens += other.total_tokens;
        self.requests += other.requests;
    }
}

impl From<UsageMetadata> for Usage {
    fn from(u: UsageMetadata) -> Self {
        Usage {
            prompt_tokens: u.prompt_token_count,
            output_tokens: u.candidates_token_count,
            thoughts_tokens: u.thoughts_token_count,
            cached_tokens: u.cached_content_token_count,
            total_tokens: u.total_token_count,
            requests: 0,
        }
    }
}

#[derive(Debug, Default)]
struct Candidate {
    content: Option<Content>,
    finish_reason: Option<String>,
    index: Option<u32>,
}

#[derive(Debug, Default)]
struct PromptFeedback {
    block_reason: Option<String>,
}

#[derive(Debug, Default)]
struct GenerateContentResponse {
    candidates: Option<Vec<Candidate>>,
    prompt_feedback: Option<PromptFeedback>,
    usage_metadata: Option<UsageMetadata>,
    error: Option<Value>,
}

/// One answer: the visible text, why it ended, and what it cost.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reply {
    pub text: String,
    /// `STOP`, `MAX_TOKENS`, `SAFETY`, ...; `None` when a stream ended before Gemini said why.
    pub finish_reason: Option<String>,
    /// `promptFeedback.blockReason`: the prompt was refused and there are no candidates.
    pub block_reason: Option<String>,
    pub candidates: usize,
    /// The last `thoughtSignature` of the answer's parts (Gemini 3 signs every answer, in its last part; streamed,
    /// in an event of its own), to send back with the answer when the conversation goes on.
    pub signature: Option<String>,
    pub usage: Usage,
    /// What broke the stream off after some of it was received (and paid for): `into_result` returns it.
    pub broken_by: Option<Error>,
}

/// `finishReason`s that stop an answer for its content: asking again the same way does not help.
pub const BLOCK_REASONS: [&str; 9] = [
    "SAFETY",
    "RECITATION",
    "BLOCKLIST",
    "PROHIBITED_CONTENT",
    "SPII",
    "LANGUAGE",
    "IMAGE_SAFETY",
    "IMAGE_PROHIBITED_CONTENT",
    "IMAGE_RECITATION",
];

impl Reply {
    pub fn is_truncated(&self) -> bool {
        self.finish_reason.as_deref() == Some("MAX_TOKENS")
    }

    /// Turns a reply that holds no usable answer into the error that explains why.
    pub fn into_result(mut self) -> Result<Reply, Error> {
        if let Some(e) = self.broken_by.take() {
            return Err(e);
        }
        if let Some(reason) = &self.block_reason {
            return Err(Error::Blocked { reason: reason.clone(), message: "the prompt was blocked".into() });
        }
        match self.finish_reason.as_deref() {
            Some("STOP") | Some("MAX_TOKENS") => {}
            Some(r) if BLOCK_REASONS.contains(&r) => {
                return Err(Error::Blocked { reason: r.to_string(), message: "the answer was stopped".into() })
            }
            Some(other) => return Err(Error::OddEnding { message: cat!("the answer ended with finishReason ", other) }),
            None if self.candidates == 0 => return Err(Error::OddEnding { message: "Gemini returned no candidates".into() }),
            None => {
                return Err(Error::Network { message: "the stream ended before Gemini finished its answer".into() })
            }
        }
        if self.text.is_empty() && self.is_truncated() {
            // Without thinking tokens, blaming thinking would send users to a setting that changes nothing.
            return Err(Error::malformed(if self.usage.thoughts_tokens > 0 {
                "the answer is empty: thinking used the whole output budget (MAX_TOKENS)"
            } else {
                "the answer is empty: maxOutputTokens was reached before any text (MAX_TOKENS)"
            }));
        }
        Ok(self)
    }
}

/// Folds non-streamed bodies and streamed chunks alike into one [`Reply`].
#[derive(Debug, Default)]
pub struct ReplyBuilder {
    reply: Reply,
}

impl ReplyBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn text(&self) -> &str {
        &self.reply.text
    }

    /// Whether an event said how the answer ended, or that the prompt was refused (an answer of its own, whole
    /// and billed, with no `finishReason`).
    pub fn is_finished(&self) -> bool {
        self.reply.finish_reason.is_some() || self.reply.block_reason.is_some()
    }

    /// The stream was broken off by `e` (the first cause is kept): the reply keeps what it cost so far (see
    /// [`Reply::broken_by`]).
    pub fn break_off(&mut self, e: Error) {
        self.reply.broken_by.get_or_insert(e);
    }

    /// Whether something already broke the stream off.
    pub fn is_broken(&self) -> bool {
        self.reply.broken_by.is_some()
    }

    /// Whether an event reported what the answer costs so far.
    pub fn usage_seen(&self) -> bool {
        self.reply.usage != Usage::default()
    }

    /// Adds one `GenerateContentResponse` JSON (a whole body or one SSE event); returns the new text.
    pub fn push_json(&mut self, json: &str) -> Result<&str, Error> {
        let parsed: GenerateContentResponse = crate::json::decode(json).map_err(|e| unreadable("Gemini response", e))?;
        if let Some(err) = parsed.error {
            return Err(stream_error(&err));
        }
        let start = self.reply.text.len();
        if let Some(cands) = parsed.candidates {
            self.reply.candidates = self.reply.candidates.max(cands.len());
            // With `candidateCount` > 1 an event may carry other candidates only: the answer is candidate 0.
            if let Some(first) = cands.into_iter().find(|c| c.index.unwrap_or(0) == 0) {
                for part in first.content.map(|c| c.parts).unwrap_or_default() {
                    if !part.thought {
                        self.reply.text.push_str(&part.text);
                    }
                    if let Some(s) = part.thought_signature.filter(|s| !s.is_empty()) {
                        self.reply.signature = Some(s);
                    }
                }
                if first.finish_reason.is_some() {
                    self.reply.finish_reason = first.finish_reason;
                }
            }
        }
        if let Some(reason) = parsed.prompt_feedback.and_then(|p| p.block_reason) {
            self.reply.block_reason = Some(reason);
        }
        // Streamed chunks carry running totals: the last one is the answer's cost.
        if let Some(u) = parsed.usage_metadata {
            self.reply.usage = u.into();
        }
        Ok(slice(&self.reply.text, start..))
    }

    pub fn finish(mut self) -> Reply {
        self.reply.usage.requests = 1;
        self.reply
    }
}

/// `GET models/{model}`: what we need of it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelInfo {
    pub name: String,
    pub input_token_limit: u64,
    pub output_token_limit: u64,
    pub thinking: bool,
}

pub fn parse_model_info(body: &str) -> Result<ModelInfo, Error> {
    crate::json::decode(body).map_err(|e| unreadable("model info", e))
}

/// Maps a non-2xx response to the error the caller can act on. Survives bodies that are not JSON.
pub fn parse_error(status: u16, body: &str) -> Error {
    match Value::parse(body) {
        Ok(v) => match error_object(&v) {
            Some(err) => error_from_value(status, err),
            None => error_for(status, cat!("HTTP ", status), ApiErrorDetails::default()),
        },
        Err(_) => error_for(status, non_json_message(status, body), ApiErrorDetails::default()),
    }
}

fn non_json_message(status: u16, body: &str) -> String {
    let title = find(body, "<title>")
        .and_then(|s| find(slice(body, s + 7..), "</title>").map(|e| slice(body, s + 7..s + 7 + e).trim()))
        .filter(|t| !t.is_empty());
    match title {
        Some(t) => cat!("HTTP ", status, ": ", t.chars().take(120).collect::<String>()),
        None if body.trim().is_empty() => cat!("HTTP ", status, " with an empty body"),
        None => cat!("HTTP ", status, " with a non-JSON body"),
    }
}

/// Reads Google's `{"code","message","status","details":[...]}`.
pub fn error_from_value(http_status: u16, err: &Value) -> Error {
    let code = err.get("code").and_then(Value::as_u64).map(|c| c as u16).unwrap_or(http_status);
    let status = if http_status >= 400 { http_status } else { code };
    let message = err.get("message").and_then(Value::as_str).unwrap_or("unknown error").to_string();
    let mut details = ApiErrorDetails {
        status: err.get("status").and_then(Value::as_str).map(str::to_string),
        ..Default::default()
    };
    for d in err.get("details").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default() {
        let kind = d.get("@type").and_then(Value::as_str).unwrap_or("");
        if kind.ends_with("google.rpc.RetryInfo") {
            details.retry_delay_ms = d.get("retryDelay").and_then(Value::as_str).and_then(parse_duration_ms).map(|ms| ms as u32);
        } else if kind.ends_with("google.rpc.ErrorInfo") {
            details.reason = d.get("reason").and_then(Value::as_str).map(str::to_string);
        } else if kind.ends_with("google.rpc.QuotaFailure") {
            for v in d.get("violations").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default() {
                if let Some(id) = v.get("quotaId").and_then(Value::as_str) {
                    details.quota_ids.push(id.to_string());
                }
                details.zero_quota |= v.get("quotaValue").and_then(Value::as_str) == Some("0");
            }
        }
    }
    // `* Quota exceeded for metric: …, limit: 0, model: …` (bodies do not always carry `quotaValue`).
    details.zero_quota |= find(&message, "limit: 0")
        .is_some_and(|i| !message.as_bytes().get(i + 8).is_some_and(|&b| b.is_ascii_digit() || b == b'.'));
    // RetryInfo keeps only the whole seconds of the wait (`"58s"`) while the message names it exactly
    // (`Please retry in 58.934310785s.`): waiting just RetryInfo comes back early and is refused again.
    if let (Some(whole), Some(exact)) = (details.retry_delay_ms, retry_in_message(&message)) {
        if exact > whole.into() && exact < u64::from(whole) + 1000 {
            details.retry_delay_ms = Some(exact as u32);
        }
    }
    error_for(status, message, details)
}

/// An error that broke off a stream whose HTTP status was 200: its own `code` says what it is (a 429 there is a
/// quota, a 503 an overload), 500 when it has none.
fn stream_error(err: &Value) -> Error {
    let code = err.get("code").and_then(Value::as_u64).filter(|c| (400..600).contains(c)).unwrap_or(500);
    error_from_value(code as u16, err)
}

/// The error Gemini sometimes writes into a stream's body unframed (pretty-printed JSON, no `data:`), in place of
/// the events it stops sending: `{"error":{…}}`, or the same in an array. `None` when `text` holds no such error.
pub fn unframed_stream_error(text: &str) -> Option<Error> {
    let value = Value::parse(text.trim()).ok()?;
    error_object(&value).filter(|e| e.as_object().is_some()).map(stream_error)
}

/// Google's error object in a body: `{"error": {…}}`, or the same as the first item of an array, as
/// `streamGenerateContent` without SSE writes it.
fn error_object(body: &Value) -> Option<&Value> {
    match body {
        Value::Array(items) => items.first(),
        other => Some(other),
    }?
    .get("error")
}

/// The wait in Gemini's quota message, in milliseconds: `Please retry in 58.934310785s.`, in Go's duration format,
/// which names milliseconds under a second (`393.337641ms`) and minutes from one (`1m0.5s`).
#[inline(never)]
fn retry_in_message(message: &str) -> Option<u64> {
    let mut rest = crate::text::slice(message, crate::text::find(message, "Please retry in ")? + 16..);
    let mut ms = 0.0;
    loop {
        let end = rest.bytes().take_while(|b| b.is_ascii_digit() || *b == b'.').count();
        let amount = crate::json::num::parse_f64(rest.get(..end)?)?;
        rest = rest.get(end..)?;
        let (unit, scale) = [("ms", 1.0), ("h", 3.6e6), ("m", 6e4), ("s", 1e3)].into_iter().find(|(u, _)| rest.starts_with(u))?;
        ms += amount * scale;
        rest = rest.get(unit.len()..)?;
        if !rest.starts_with(|c: char| c.is_ascii_digit()) {
            return whole_ms_up(ms);
        }
    }
}

fn error_for(status: u16, message: String, details: ApiErrorDetails) -> Error {
    let bad_key = details.reason.as_deref().is_some_and(|r| r.starts_with("API_KEY"));
    match status {
        401 | 403 => Error::Auth { status, message, details },
        400 if bad_key => Error::Auth { status, message, details },
        404 => Error::NotFound { message, details },
        429 => Error::RateLimited { message, details },
        // 499 CANCELLED from Gemini is its own side giving up, and usually answers when asked again.
        408 | 499 | 500..=599 => Error::Server { status, message, details },
        400..=499 => Error::BadRequest { status, message, details },
        _ => Error::Server { status, message, details },
    }
}

/// The longest wait a `RetryInfo` can ask for: one day. A longer or absurd value (`"1e300s"`) is clamped,
/// so that adding jitter cannot overflow and no JavaScript timer is asked for more than it can wait
/// (beyond 2^31 − 1 ms, `setTimeout` fires at once).
pub const MAX_RETRY_DELAY_MS: u64 = 86_400_000;

/// A protobuf `Duration` in JSON form (`"34s"`, `"34.4s"`, `"0.250s"`) in milliseconds, at most
/// [`MAX_RETRY_DELAY_MS`].
pub fn parse_duration_ms(s: &str) -> Option<u64> {
    let secs = crate::json::num::parse_f64(s.trim().strip_suffix('s')?)?;
    whole_ms_up(secs * 1000.0).map(|ms| ms.min(MAX_RETRY_DELAY_MS))
}

/// A wait in milliseconds, rounded up, not to the nearest: a wait a fraction of a millisecond short comes back early
/// and is refused again. (Less a hair, so that a decimal's binary error never adds a millisecond to "34.4s".)
fn whole_ms_up(ms: f64) -> Option<u64> {
    (ms.is_finite() && ms >= 0.0).then(|| (ms - 1e-6).ceil().max(0.0) as u64)
}

fn unreadable(what: &str, e: DecodeError) -> Error {
    let mut m = cat!("unreadable ", what, ": ", &e.message);
    if !e.path.is_empty() {
        m.push_str(" at ");
        m.push_str(&e.path);
    }
    Error::malformed(m)
}

// Every field may be missing or `null`: Gemini leaves out what does not apply.
json_object!(UsageMetadata {
    prompt_token_count: "promptTokenCount" opt,
    candidates_token_count: "candidatesTokenCount" opt,
    thoughts_token_count: "thoughtsTokenCount" opt,
    cached_content_token_count: "cachedContentTokenCount" opt,
    total_token_count: "totalTokenCount" opt,
});
json_object!(Candidate { content: "content" skip, finish_reason: "finishReason" skip, index: "index" skip });
json_object!(PromptFeedback { block_reason: "blockReason" skip });
json_object!(GenerateContentResponse {
    candidates: "candidates" skip,
    prompt_feedback: "promptFeedback" skip,
    usage_metadata: "usageMetadata" skip,
    error: "error" skip,
});
json_object!(ModelInfo {
    name: "name" opt,
    input_token_limit: "inputTokenLimit" opt,
    output_token_limit: "outputTokenLimit" opt,
    thinking: "thinking" opt,
});
json_object!(Usage {
    prompt_tokens: "promptTokens" req,
    output_tokens: "outputTokens" req,
    thoughts_tokens: "thoughtsTokens" req,
    cached_tokens: "cachedTokens" req,
    total_tokens: "totalTokens" req,
    requests: "requests" req,
});
