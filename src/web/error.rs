//! The single place where a Rust [`Error`] becomes a JavaScript value: a real `Error` with a stable
//! `name` and `code`, or, for a user abort, the browser's own `AbortError` `DOMException`.

use js_sys::{Array, Reflect};
use wasm_bindgen::prelude::*;
use web_sys::{AbortSignal, DomException};

use crate::Error;

pub const ERROR_NAME: &str = "GeminiRoadmapError";

#[wasm_bindgen(typescript_custom_section)]
const ERROR_TS: &'static str = r#"
/**
 * The stable `code` of a `GeminiRoadmapError` (a user abort is the platform's own `AbortError` instead).
 * `NOT_INITIALIZED`: a function of the `web` entry was called before `init()` had resolved; `FREED`: a method of a
 * `GeminiChat` after its `free()` (both thrown at once).
 */
export type GeminiRoadmapErrorCode =
    | "INVALID_INPUT" | "AUTH" | "RATE_LIMITED" | "BAD_REQUEST" | "NOT_FOUND" | "SERVER"
    | "NETWORK" | "TIMEOUT" | "BLOCKED" | "MALFORMED" | "TRUNCATED" | "NOT_INITIALIZED" | "FREED";

/**
 * What every function of the package rejects or throws with, apart from a user abort:
 * `if (e instanceof Error && e.name === "GeminiRoadmapError") { const err = e as GeminiRoadmapError; ... }`.
 */
export interface GeminiRoadmapError extends Error {
    name: "GeminiRoadmapError";
    code: GeminiRoadmapErrorCode;
    /** Whether the same call may succeed later (a per-day quota, a bad key or bad options: never). */
    retryable: boolean;
    /** The HTTP status, where one was received. */
    status?: number;
    /** `INVALID_INPUT`: the option's path (`weeks`, `resumeFrom.weeks[2].days`). */
    field?: string;
    /** `BLOCKED`: Gemini's block reason; otherwise Google's `ErrorInfo.reason` (`API_KEY_INVALID`). */
    reason?: string;
    /** Google's status name (`RESOURCE_EXHAUSTED`, `FAILED_PRECONDITION`). */
    googleStatus?: string;
    /** `RATE_LIMITED`: the wait Google asked for. */
    retryDelayMs?: number;
    /** `RATE_LIMITED`: the quotas Google named (`GenerateRequestsPerDayPerProjectPerModel-FreeTier`). */
    quotaIds?: string[];
    /**
     * `RATE_LIMITED`: the key has a quota of 0 for this model (its tier does not include it), so no wait helps.
     * Its `quotaIds` name per-day quotas too: check this first.
     */
    zeroQuota?: boolean;
    /** `MALFORMED` from `repairJson` or the chat's JSON calls: where the JSON could not be read, in UTF-16 code units of the text. */
    position?: number;
    /** `TIMEOUT`: the limit that passed. */
    timeoutMs?: number;
    /** The weeks finished before the failure: pass it back as `resumeFrom` to continue. */
    partial?: Roadmap;
    /** `GeminiChat.generateJsonBatched`: the values of the prompts answered before the failure, in order. */
    results?: unknown[];
    /**
     * The batch that was being generated (1-based), numbered as the `batch-start` events of this call number it:
     * a resumed run counts only the batches it generates, so look the batch up in `partial.batches` by its weeks. For
     * `generateRoadmap` and `regenerateWeek`, an abort noticed between two batches names the next one, although its
     * `batch-start` was not sent; with batches running at once (`strategy: "parallel"`), it names the first of them.
     */
    batch?: number;
}

/**
 * What a user abort rejects with: the platform's own `AbortError`, which carries what was finished:
 * `if (e instanceof DOMException && e.name === "AbortError") { const err = e as RoadmapAbortError; ... }`.
 * Without anything to carry it is the signal's reason when that is an `AbortError`; otherwise a new one, with the
 * reason as `cause`.
 */
export interface RoadmapAbortError extends DOMException {
    readonly name: "AbortError";
    /** `generateRoadmap` and `regenerateWeek`: the weeks finished before the abort, to pass back as `resumeFrom`. */
    partial?: Roadmap;
    /** The batch that was being generated, numbered as for `GeminiRoadmapError`. */
    batch?: number;
    /** `GeminiChat.generateJsonBatched`: the values of the prompts answered before the abort, in order. */
    results?: unknown[];
}

/** `ProgressEvent` under a name that cannot be confused with the DOM's own `ProgressEvent`. */
export type RoadmapProgressEvent = ProgressEvent;
"#;

fn set(target: &JsValue, key: &str, value: JsValue) {
    let _ = Reflect::set(target, &JsValue::from_str(key), &value);
}

/// The `AbortError` for a user abort: the signal's own reason when it is one, else a fresh one.
pub fn abort_error(signal: Option<&AbortSignal>) -> JsValue {
    if let Some(reason) = signal.map(super::convert::abort_reason) {
        if super::convert::is_abort_error(&reason) {
            return reason;
        }
    }
    new_abort_error(signal)
}

/// A new `AbortError`, with the signal's reason (if any) as its `cause`.
fn new_abort_error(signal: Option<&AbortSignal>) -> JsValue {
    let err: JsValue = DomException::new_with_message_and_name("The operation was aborted.", "AbortError")
        .map(Into::into)
        .unwrap_or_else(|_| js_sys::Error::new("The operation was aborted.").into());
    if let Some(reason) = signal.map(super::convert::abort_reason).filter(|r| !r.is_undefined()) {
        set(&err, "cause", reason);
    }
    err
}

/// Converts an error raised before any request (no signal, no extra fields). Taken by value and used as
/// `.map_err(js_error)`: one call per site instead of an inlined closure that converts, then drops the error.
pub fn js_error(err: Error) -> JsValue {
    to_js(&err, None, &[])
}

/// Converts an error; `extra` adds fields such as `batch` or `partial`.
pub fn to_js(err: &Error, signal: Option<&AbortSignal>, extra: &[(&str, JsValue)]) -> JsValue {
    let js: JsValue = if matches!(err, Error::Aborted) {
        // One signal may cancel several calls, and its reason is the caller's object: what belongs to
        // this call (`partial`, `batch`) goes on an AbortError of its own, never on the shared reason.
        if extra.is_empty() {
            abort_error(signal)
        } else {
            new_abort_error(signal)
        }
    } else {
        let e = js_sys::Error::new(&err.text());
        e.set_name(ERROR_NAME);
        let js: JsValue = e.into();
        set(&js, "code", err.code().into());
        set(&js, "retryable", err.is_transient().into());
        if let Some(status) = err.status() {
            set(&js, "status", status.into());
        }
        match err {
            Error::InvalidInput { field, .. } => set(&js, "field", field.as_str().into()),
            Error::Blocked { reason, .. } => set(&js, "reason", reason.as_str().into()),
            Error::Malformed { position: Some(p), .. } => set(&js, "position", (*p as u32).into()),
            Error::Timeout { ms } => set(&js, "timeoutMs", (*ms).into()),
            _ => {}
        }
        if let Some(d) = err.details() {
            if let Some(s) = &d.status {
                set(&js, "googleStatus", s.as_str().into());
            }
            if let Some(r) = &d.reason {
                set(&js, "reason", r.as_str().into());
            }
            if let Some(ms) = d.retry_delay_ms {
                set(&js, "retryDelayMs", (ms as f64).into());
            }
            if !d.quota_ids.is_empty() {
                let ids: Array = d.quota_ids.iter().map(|q| JsValue::from_str(q)).collect();
                set(&js, "quotaIds", ids.into());
            }
            if d.zero_quota && matches!(err, Error::RateLimited { .. }) {
                set(&js, "zeroQuota", true.into());
            }
        }
        js
    };
    for (k, v) in extra {
        set(&js, k, v.clone());
    }
    js
}
