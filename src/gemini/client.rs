//! Drives one Gemini call over any [`Transport`]: builds the HTTP request, streams or reads the body,
//! and folds it into a [`Reply`] or the [`Error`] Google meant.

use super::request::GenerateRequest;
use super::response::{parse_error, parse_model_info, ModelInfo, Reply, ReplyBuilder};
use super::sse::SseParser;
use super::transport::{Body, HttpRequest, Transport};
use crate::error::hide_key;
use crate::Error;

/// Where and as whom to call: base URL, model, key, per-request timeout.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    pub base_url: String,
    pub model: String,
    pub api_key: String,
    pub timeout_ms: u32,
}

impl Endpoint {
    /// Validates every field so that a bad option fails before any request.
    pub fn new(api_key: &str, model: Option<&str>, base_url: Option<&str>, timeout_ms: Option<u32>) -> Result<Self, Error> {
        let key = api_key.trim();
        if key.is_empty() {
            return Err(Error::invalid("apiKey", "an API key is required"));
        }
        // A header value must be visible ASCII; fetch would otherwise throw a TypeError that looks like a network failure.
        if !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::invalid("apiKey", "the API key contains characters that cannot be sent in a header"));
        }
        // Far above any real one, and below what a server takes in a header or a URL (a longer one came back as an
        // HTTP 431 with an empty body, after a request).
        if key.len() > 1024 {
            return Err(Error::invalid("apiKey", "is longer than any API key (at most 1024 characters)"));
        }
        let model = model.map(str::trim).filter(|m| !m.is_empty()).unwrap_or(super::DEFAULT_MODEL);
        let base = base_url.map(str::trim).filter(|b| !b.is_empty()).unwrap_or(super::DEFAULT_BASE_URL);
        // The key typed in the wrong field (or pasted into a URL) would travel in the URL and show in messages.
        let holds_key = |s: &str| crate::error::holds_key(s, key);
        if holds_key(model) {
            return Err(Error::invalid("model", "holds the API key: pass the key as apiKey only"));
        }
        if holds_key(base) {
            return Err(Error::invalid("baseUrl", "holds the API key: pass the key as apiKey only"));
        }
        let model = model.strip_prefix("models/").unwrap_or(model);
        if crate::text::char_count(model) > 128 {
            return Err(Error::invalid("model", "is longer than any model name (at most 128 characters)"));
        }
        // Starting with a letter or digit, as Google's names do: `.`, `..` and `` (from `models/`) would make
        // `models/{model}` another endpoint.
        if !model.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
            || !model.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
        {
            return Err(Error::invalid("model", cat!(crate::json::quote(model), " is not a model name like \"gemini-3.1-flash-lite\"")));
        }
        // The API's root, also when given with its version (the URLs in Google's docs end in `/v1beta`): the
        // version would be doubled, and Google answers an unknown path without CORS headers, a network error.
        let base = base.trim_end_matches('/');
        let base = base.strip_suffix("/v1beta").unwrap_or(base);
        // A scheme in any case (`HTTPS://`), as URLs and fetch take it.
        let at = crate::text::find(base, "://").map_or(0, |i| i + 3);
        let (head, tail) = (crate::text::slice(base, ..at).to_ascii_lowercase(), crate::text::slice(base, at..));
        // A tab or line break, which the URL parser drops, or a backslash, which it reads as `/`, would send the
        // request to an address other than the one written.
        let stray = |b: u8| b"?# \\".contains(&b) || b.is_ascii_control();
        if !(head == "https://" || head == "http://") || tail.is_empty() || tail.bytes().any(stray) {
            return Err(Error::invalid("baseUrl", "must be an http(s) URL without query, fragment, spaces or backslashes"));
        }
        // fetch refuses a URL with credentials (`user:pw@host`): refused here, a chat's constructor reports it.
        let host = crate::text::find(tail, "/").map_or(tail, |i| crate::text::slice(tail, ..i));
        if crate::text::find(host, "@").is_some() {
            return Err(Error::invalid("baseUrl", "must not hold a user name or password (user:password@)"));
        }
        let base = cat!(&head, tail);
        let timeout_ms = timeout_ms.unwrap_or(super::DEFAULT_TIMEOUT_MS);
        if timeout_ms == 0 {
            return Err(Error::invalid("timeoutMs", "must be a positive number of milliseconds"));
        }
        Ok(Endpoint { base_url: base, model: model.to_string(), api_key: key.to_string(), timeout_ms })
    }

    pub fn generate_url(&self, stream: bool) -> String {
        if stream {
            cat!(&self.base_url, "/v1beta/models/", &self.model, ":streamGenerateContent?alt=sse")
        } else {
            cat!(&self.base_url, "/v1beta/models/", &self.model, ":generateContent")
        }
    }

    pub fn describe_generate(&self, body: &GenerateRequest, stream: bool) -> HttpRequest {
        HttpRequest {
            method: "POST",
            url: self.generate_url(stream),
            headers: vec![("content-type", "application/json".into()), ("x-goog-api-key", self.api_key.clone())],
            body: Some(crate::json::ToJson::to_json(body)),
            timeout_ms: self.timeout_ms,
        }
    }

    pub fn describe_model_info(&self) -> HttpRequest {
        HttpRequest {
            method: "GET",
            url: cat!(&self.base_url, "/v1beta/models/", &self.model),
            headers: vec![("x-goog-api-key", self.api_key.clone())],
            body: None,
            timeout_ms: self.timeout_ms,
        }
    }
}

/// The body of a non-2xx response, as far as it arrives. The user's abort and our timeout while it arrives stay
/// what they are (not a `BAD_REQUEST` built from half a body); a connection lost midway keeps what came.
async fn read_error_body<B: Body>(resp: &mut B) -> Result<Vec<u8>, Error> {
    let mut bytes = Vec::new();
    loop {
        match resp.next_chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            Ok(None) => return Ok(bytes),
            Err(e @ (Error::Aborted | Error::Timeout { .. })) => return Err(e),
            Err(_) => return Ok(bytes),
        }
    }
}

pub struct GeminiClient<'a, T: Transport> {
    pub transport: &'a T,
    pub endpoint: &'a Endpoint,
}

impl<'a, T: Transport> GeminiClient<'a, T> {
    pub fn new(transport: &'a T, endpoint: &'a Endpoint) -> Self {
        GeminiClient { transport, endpoint }
    }

    /// One `generateContent` call. With `stream`, text deltas reach `on_delta` as they arrive.
    /// Returns the raw reply (a cut stream has `finish_reason: None`); `Reply::into_result` judges it.
    /// Its errors, and the one that broke off a stream, come with the key hidden ([`Error::without_key`]) in one
    /// place: some of Gemini's messages quote it.
    pub async fn generate(
        &self,
        body: &GenerateRequest,
        stream: bool,
        on_delta: &mut dyn FnMut(&str),
    ) -> Result<Reply, Error> {
        let key = &self.endpoint.api_key;
        match self.generate_keyed(body, stream, on_delta).await {
            Ok(reply) => Ok(Reply {
                broken_by: reply.broken_by.map(|e| e.without_key(key)),
                // Google's enum values, but a proxy's may say anything: they reach messages and results.
                finish_reason: reply.finish_reason.map(|r| hide_key(&r, key)),
                block_reason: reply.block_reason.map(|r| hide_key(&r, key)),
                ..reply
            }),
            Err(e) => Err(e.without_key(key)),
        }
    }

    async fn generate_keyed(
        &self,
        body: &GenerateRequest,
        stream: bool,
        on_delta: &mut dyn FnMut(&str),
    ) -> Result<Reply, Error> {
        body.validate()?;
        if self.transport.is_aborted() {
            return Err(Error::Aborted);
        }
        let req = self.endpoint.describe_generate(body, stream);
        let (status, mut resp) = self.transport.send(&req).await?;
        if !(200..300).contains(&status) {
            let bytes = read_error_body(&mut resp).await?;
            return Err(parse_error(status, &crate::text::lossy(&bytes)));
        }
        let mut reply = ReplyBuilder::new();
        if !stream {
            // A connection reset, or the timeout, after the body came is judged with it below: an answer that came
            // whole (or past its usage) before the body's end went missing is paid for and kept. A user's abort
            // stays one.
            let mut bytes = Vec::new();
            let mut broke = loop {
                match resp.next_chunk().await {
                    Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
                    Ok(None) => break None,
                    Err(Error::Aborted) => return Err(Error::Aborted),
                    Err(e) => break Some(e),
                }
            };
            let body = crate::text::lossy(&bytes);
            // A body that stops inside its JSON was cut on the way (a proxy, a connection ended early), not by
            // Gemini (an answer cut at MAX_TOKENS comes whole and says so): asked again like after a connection reset,
            // the same request may well come whole. Read as a cut answer, a cut outline would keep made-up titles.
            // Cut only after the answer and its usage were closed (inside `modelVersion` or `responseId`, which
            // come last): the answer is whole and paid for, and asking again would bill it twice.
            if let Err(e) = reply.push_json(&body) {
                match (cut_short(&body), broke.take()) {
                    (Some(Ok(closed)), _) => _ = reply.push_json(&closed)?,
                    (_, Some(broke)) => return Err(broke),
                    (Some(Err(how)), None) => return Err(Error::Network { message: how.into() }),
                    (None, None) => return Err(e),
                }
            }
            if let Some(broke) = broke.filter(|_| !reply.is_finished()) {
                return Err(broke);
            }
            // Not streamed: the whole text is the one delta.
            on_delta(reply.text());
            return Ok(reply.finish());
        }
        let mut sse = SseParser::new();
        // A stream broken off after events arrived comes back as a reply carrying the error (`broken_by`), so
        // that what the events cost is counted; the caller sees the error through `Reply::into_result`.
        // What broke the transport off (a reset, the idle timeout), judged once the text received is read.
        let mut broke = None;
        'read: loop {
            match resp.next_chunk().await {
                Ok(Some(c)) => {
                    for event in sse.push(&c) {
                        // As for stray text: a finished answer is whole and paid for, whatever breaks the stream off.
                        let finished = reply.is_finished();
                        match reply.push_json(&event.data) {
                            Ok(delta) => on_delta(delta),
                            Err(_) if finished => break 'read,
                            Err(e) => {
                                reply.break_off(e);
                                break 'read;
                            }
                        }
                    }
                }
                Ok(None) => break,
                // What the events so far cost is handed over all the same: the caller counts it, then fails as
                // aborted (`Reply::into_result`).
                Err(e @ Error::Aborted) if reply.usage_seen() => {
                    reply.break_off(e);
                    return Ok(reply.finish());
                }
                Err(e @ Error::Aborted) => return Err(e),
                Err(e) => {
                    broke = Some(e);
                    break;
                }
            }
        }
        // The last event may have come whole but for its closing blank line; half an event is not an answer, and the
        // reply stays without finishReason.
        if let Some(event) = sse.finish() {
            last_event(&mut reply, &event.data, on_delta);
        }
        // What Gemini wrote raw before the stream ended or broke (its error JSON) is the cause, not the break; after a
        // finished answer, anything stray is ignored.
        if let Some(err) = super::response::unframed_stream_error(&sse.take_stray()).filter(|_| !reply.is_finished()) {
            reply.break_off(err);
        }
        match broke {
            None => {}
            // An answer that said how it ended is whole and paid for: the idle timeout (or a reset) while the
            // connection stayed open after it is no reason to ask again. Nor is one broken off by Gemini's own error.
            Some(_) if reply.is_finished() || reply.is_broken() => {}
            // A stream cut mid-answer still carries the text so far: let the caller salvage it.
            Some(Error::Network { .. }) if !reply.text().is_empty() => {}
            Some(e) if reply.usage_seen() => reply.break_off(e),
            Some(e) => return Err(e),
        }
        Ok(reply.finish())
    }

    pub async fn model_info(&self) -> Result<ModelInfo, Error> {
        if self.transport.is_aborted() {
            return Err(Error::Aborted);
        }
        let (status, mut resp) = self.transport.send(&self.endpoint.describe_model_info()).await?;
        if !(200..300).contains(&status) {
            // As for a generate request: a status whose body was cut is still that status.
            let body = crate::text::lossy(&read_error_body(&mut resp).await?);
            return Err(parse_error(status, &body).without_key(&self.endpoint.api_key));
        }
        let body = crate::text::lossy(&resp.read_all().await?);
        // A body cut on the way (empty, or ending inside its JSON) is asked again, like one cut by a reset.
        parse_model_info(&body).map_err(|e| match cut_short(&body) {
            Some(Err(how)) => Error::Network { message: how.into() },
            _ => e,
        })
    }
}

/// The last event, whose closing blank line never came: half an event (unreadable) is dropped, a whole error is kept.
fn last_event(reply: &mut ReplyBuilder, data: &str, on_delta: &mut dyn FnMut(&str)) {
    let finished = reply.is_finished();
    match reply.push_json(data) {
        Ok(delta) => on_delta(delta),
        Err(e) if !finished && !matches!(e, Error::Malformed { .. }) => reply.break_off(e),
        Err(_) => {}
    }
}

/// How a whole body that could not be read was cut short, if it was: empty, or an object (as every Gemini answer is)
/// that ran out inside a value. Anything else (an HTML page, prose) is not Gemini's, whatever brackets it holds.
/// `Ok` holds the body closed when it was cut after a `finishReason` and a closed usage: the field that follows the
/// usage had begun. Keys are found as text: a quote inside a string value is escaped, so none matches there.
fn cut_short(text: &str) -> Option<Result<String, &'static str>> {
    let body = text.trim_ascii();
    if body.is_empty() {
        return Some(Err("the answer's body was empty"));
    }
    let repaired = crate::json::repair_json(body).ok().filter(|r| r.truncated && body.starts_with('{'))?;
    // In the order Gemini writes them: once `modelVersion` has begun, the answer and its usage were closed.
    let closed = ["\"finishReason\"", "\"usageMetadata\"", "\"modelVersion\""]
        .iter()
        .try_fold(body, |rest, key| crate::text::find(rest, key).map(|at| crate::text::slice(rest, at..)));
    if closed.is_some() {
        return Some(Ok(repaired.json));
    }
    Some(Err("the answer's body ended inside its JSON"))
}
