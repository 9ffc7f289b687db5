//! The JavaScript side of `generateRoadmap` and `regenerateWeek`: options in, progress events out
//! through `onProgress`, and a `Roadmap` (or an error carrying `partial`) back.

use wasm_bindgen::prelude::*;

use super::chat::{decode_redacted, redact_error};
use super::convert::{call, callback_of, decode_error, encode, plain_value, settle, signal_of, to_value};
use super::error::{js_error, to_js};
use super::fetch::FetchTransport;
use crate::json::{FromJson, Value};
use crate::roadmap::{self, Roadmap, RoadmapError, RoadmapOptions};

const JS_ONLY: &[&str] = &["signal", "onProgress"];

#[wasm_bindgen(typescript_custom_section)]
const OPTIONS_TS: &'static str = r#"
/** Options of `generateRoadmap`: the plain-data `RoadmapOptions` plus what only JavaScript can hold. */
export interface GenerateRoadmapOptions extends RoadmapOptions {
    /** Aborts every request and wait; the promise rejects with an `AbortError`. */
    signal?: AbortSignal | null | undefined;
    /** Called for every progress event, in order. An exception thrown here is logged and ignored. */
    onProgress?: ((event: ProgressEvent) => void) | null | undefined;
}

/** A `Roadmap` as stored and given back (`resumeFrom`, `regenerateWeek`): its optional fields may be `null` too. */
export type StoredRoadmap = Omit<Roadmap, "userId" | "level" | "hoursPerDay"> & {
    userId?: string | null | undefined;
    level?: string | null | undefined;
    hoursPerDay?: number | null | undefined;
};

/** Options of `regenerateWeek`: role and length come from the roadmap. */
export type RegenerateWeekOptions = Omit<GenerateRoadmapOptions, "role" | "weeks" | "resumeFrom"> & {
    role?: string | null | undefined;
    weeks?: number | null | undefined;
};
"#;

fn reject(e: RoadmapError, signal: Option<&web_sys::AbortSignal>) -> JsValue {
    let mut extra = Vec::new();
    if let Some(p) = &e.partial {
        extra.push(("partial", encode(p)));
    }
    if let Some(b) = e.batch {
        extra.push(("batch", JsValue::from(b)));
    }
    to_js(&e.error, signal, &extra)
}

pub async fn generate_roadmap(options: JsValue) -> Result<JsValue, JsValue> {
    // The options' keys first: an object whose keys cannot be listed (a revoked Proxy) is named as `options`.
    let opts: RoadmapOptions =
        decode_redacted(&options, "options", JS_ONLY, RoadmapOptions::FIELD_NAMES).map_err(js_error)?;
    let (signal, on_progress) = js_options(&options)?;
    let transport = FetchTransport::new(signal.clone(), opts.logging());
    roadmap::generate(&transport, &opts, &mut |event| call(&on_progress, &encode(event)))
        .await
        .map(|r| encode(&r))
        .map_err(|e| reject(e, signal.as_ref()))
}

/// `signal` and `onProgress`, read with the key hidden from what a getter of theirs throws, as from every option.
fn js_options(options: &JsValue) -> Result<(Option<web_sys::AbortSignal>, Option<js_sys::Function>), JsValue> {
    signal_of(options)
        .and_then(|s| Ok((s, callback_of(options, "onProgress")?)))
        .map_err(|e| js_error(redact_error(e, options)))
}

pub async fn regenerate_week(roadmap: JsValue, week: JsValue, options: JsValue) -> Result<JsValue, JsValue> {
    let invalid = |field: &str, msg: &str| js_error(crate::Error::invalid(field, msg));
    let rm = plain_value(&roadmap, "roadmap", "must be a roadmap object")
        .and_then(|v| Roadmap::from_json(&v).map_err(|e| decode_error(e, "roadmap")))
        .map_err(js_error)?;
    // A whole number here; its range is the roadmap's, which the core names.
    let week = week.as_f64().filter(|w| w.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(w));
    let week = week.ok_or_else(|| invalid("week", "must be a week number"))?;
    // Role and length come from the roadmap, so the caller need not repeat them (`regenerate_week` checks any given).
    let (mut value, problem) = to_value(&options, "options", JS_ONLY, RoadmapOptions::FIELD_NAMES)
        .map_err(|e| js_error(redact_error(e, &options)))?;
    let mut given = (true, true);
    if let Value::Object(o) = &mut value {
        // `null` is not given, as for every option.
        let is_given = |o: &crate::json::Map, k: &str| o.get(k).is_some_and(|v| !matches!(v, Value::Null));
        if is_given(o, "resumeFrom") {
            return Err(invalid("resumeFrom", "is not an option of regenerateWeek: the roadmap is its first argument"));
        }
        // Left out, they are what the core reads as left out (Rust's `Default`): a roadmap's own bad role or length
        // is then reported as the roadmap's, not as an option the caller never gave.
        given = (is_given(o, "role"), is_given(o, "weeks"));
        if !given.0 {
            o.insert("role", Value::String(String::new()));
        }
        if !given.1 {
            o.insert("weeks", Value::Number(0.0));
        }
    }
    let opts = settle(RoadmapOptions::from_json(&value), problem, "options").map_err(|e| js_error(redact_error(e, &options)))?;
    let (signal, on_progress) = js_options(&options)?;
    // Given, they must be the roadmap's; an empty role or 0 weeks written would read as left out in the core.
    if given.0 && opts.role.trim().is_empty() {
        return Err(invalid("role", "must be the roadmap's or left out"));
    }
    if given.1 && opts.weeks == 0.0 {
        return Err(invalid("weeks", "must be the roadmap's or left out"));
    }
    let transport = FetchTransport::new(signal.clone(), opts.logging());
    roadmap::regenerate_week(&transport, &rm, week as u32, &opts, &mut |event| call(&on_progress, &encode(event)))
        .await
        .map(|r| encode(&r))
        .map_err(|e| reject(e, signal.as_ref()))
}
