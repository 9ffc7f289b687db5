//! Bugs found by a review, each proven by a failing test first.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use serde_json::json;
use support::*;

fn blocked_prompt() -> Scripted {
    let blocked = json!({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}, "usageMetadata": {"promptTokenCount": 50, "totalTokenCount": 50}});
    Scripted::sse(&[blocked.to_string()])
}

/// A prompt Gemini refuses (`promptFeedback.blockReason`, no candidates, so no `finishReason`) fails at once, as a
/// batch's does: asking the same prompt again is refused again. The outline's was taken for a stream cut on the way
/// and asked again `maxRetries` times with backoff (3 more billed requests, seconds of waiting) before `BLOCKED`.
#[test]
fn a_blocked_outline_prompt_fails_at_once() {
    let t = ReplayTransport::with_responder(vec![], first_times(99, |t| matches!(t, Task::Outline { .. }), |_, _| blocked_prompt()));
    let (e, events) = err(&t, &opts(6));
    assert!(matches!(&e.error, Error::Blocked { reason, .. } if reason == "PROHIBITED_CONTENT"), "{:?}", e.error);
    assert_eq!(asked(&t), ["GET", "OUTLINE"], "the refused prompt is not sent again");
    assert!(t.sleeps.borrow().is_empty(), "no backoff: {:?}", t.sleeps.borrow());
    assert!(retries(&events).is_empty(), "{:?}", retries(&events));
}

/// `regenerateWeek` with a prompt Gemini refuses rejects `BLOCKED` (not retryable) at once. It was taken for a
/// stream cut on the way: asked again with backoff, then rejected `NETWORK`, `retryable: true`, which tells the
/// caller to try again what will be refused again.
#[test]
fn regenerate_week_with_a_blocked_prompt_rejects_blocked() {
    let t = ReplayTransport::with_responder(vec![], gemini());
    let (rm, _) = ok(&t, &opts(6));
    let only_key = RoadmapOptions { api_key: "test-key-123".into(), ..Default::default() };
    let t = ReplayTransport::with_responder(vec![], first_times(99, |t| matches!(t, Task::Weeks { .. }), |_, _| blocked_prompt()));
    let e = block_on(regenerate_week(&t, &rm, 3, &only_key, &mut |_| {})).unwrap_err();
    assert_eq!(e.error.code(), "BLOCKED", "{}", e.error);
    assert_eq!(t.request_count(), 1, "the refused prompt is not sent again");
}
