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

/// The week `regenerateWeek` asks for, streamed whole, with only the closing event lost (Gemini 3 ends a stream with
/// an event of its own: the `thoughtSignature` part and the `finishReason`). The week closed and was taken while it
/// streamed; the missing `finishReason` made the request count as cut all the same: a retry was announced and waited
/// for although nothing was asked again, and with `maxRetries: 0` the call rejected `NETWORK`, the week it had
/// received (and paid for) thrown away.
#[test]
fn regenerate_week_keeps_a_week_that_closed_before_the_stream_was_cut() {
    let t = ReplayTransport::with_responder(vec![], gemini());
    let (rm, _) = ok(&t, &opts(6));
    let closed_then_cut = |req: &HttpRequest, _: Task| {
        let mut v = weeks_value(3, 3, 6);
        v["weeks"][0]["title"] = json!("Fresh week three");
        Scripted::sse(&sse_events(&pretty(&v), None, prompt_tokens(req), 3))
    };
    let only_key = RoadmapOptions { api_key: "test-key-123".into(), ..Default::default() };
    for retries in [0.0, 3.0] {
        let t = ReplayTransport::with_responder(vec![], first_times(99, |t| matches!(t, Task::Weeks { .. }), closed_then_cut));
        let o = RoadmapOptions { max_retries: Some(retries), ..only_key.clone() };
        let mut events = vec![];
        let r = block_on(regenerate_week(&t, &rm, 3, &o, &mut |e| events.push(e.clone())));
        let new = r.unwrap_or_else(|e| panic!("maxRetries {retries}: rejected {} although week 3 came whole", e.error));
        assert_eq!(new.weeks[2].title, "Fresh week three");
        assert_eq!(asked(&t), ["WEEK 3"]);
        assert!(retries_of(&events).is_empty(), "maxRetries {retries}: a retry announced for nothing: {events:?}");
        assert!(t.sleeps.borrow().is_empty(), "maxRetries {retries}: waited {:?} for nothing", t.sleeps.borrow());
    }
}

fn retries_of(events: &[ProgressEvent]) -> Vec<(u32, u32, u64)> {
    retries(events)
}

/// An outline streamed whole whose closing event was lost (Gemini 3 sends its `finishReason` in an event of its own)
/// holds the whole plan: nothing in it is made up. It was asked again after a backoff all the same, billed twice.
#[test]
fn an_outline_that_closed_before_its_stream_was_cut_is_not_asked_again() {
    for parallel in [false, true] {
        let closed_then_cut =
            |req: &HttpRequest, t: Task| Scripted::sse(&sse_events(&pretty(&outline_value(match t { Task::Outline { total } => total, _ => 0 })), None, prompt_tokens(req), 3));
        let t = ReplayTransport::with_responder(vec![], first_times(1, |t| matches!(t, Task::Outline { .. }), closed_then_cut));
        let mut o = opts(6);
        if parallel {
            o.strategy = Some(Strategy::Parallel);
        }
        let (rm, events) = ok(&t, &o);
        assert_complete(&rm, 6);
        assert_eq!(asked(&t).iter().filter(|a| *a == "OUTLINE").count(), 1, "parallel {parallel}: {:?}", asked(&t));
        assert!(t.sleeps.borrow().is_empty(), "parallel {parallel}: waited {:?}", t.sleeps.borrow());
        assert!(retries(&events).is_empty(), "parallel {parallel}: {:?}", retries(&events));
    }
}
