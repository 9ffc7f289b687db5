//! Chat bugs found by a review, each proven by a failing test first.
#![cfg(not(target_arch = "wasm32"))]

use gemini_roadmap::chat::{send_request, Chat, ChatConfig};
use gemini_roadmap::gemini::replay::{block_on, ReplayTransport, Scripted};
use gemini_roadmap::gemini::*;
use gemini_roadmap::retry::RetryPolicy;

fn chat() -> Chat {
    Chat::new(ChatConfig {
        endpoint: Endpoint::new("AIzaTestKey123", None, None, None).unwrap(),
        system_instruction: None,
        generation_config: None,
        retry: RetryPolicy { max_retries: 2, ..RetryPolicy::default() },
    })
}

/// An answer that ended (`STOP`) without text is asked again, but Gemini billed it: its prompt (the whole history,
/// resent every turn) and any thinking. `send`'s `usage` counted the retry in `requests` and left its tokens out,
/// where a roadmap's usage counts every reply's cost.
#[test]
fn the_tokens_of_an_empty_answer_asked_again_are_counted() {
    let empty = Scripted::ok(
        r#"{"candidates":[{"content":{"role":"model"},"finishReason":"STOP","index":0}],
            "usageMetadata":{"promptTokenCount":500,"thoughtsTokenCount":40,"totalTokenCount":540}}"#,
    );
    let good = Scripted::ok(
        r#"{"candidates":[{"content":{"parts":[{"text":"hello"}],"role":"model"},"finishReason":"STOP","index":0}],
            "usageMetadata":{"promptTokenCount":500,"candidatesTokenCount":2,"totalTokenCount":502}}"#,
    );
    let t = ReplayTransport::new(vec![empty, good]);
    let c = chat();
    let req = c.request_for("hi", false).unwrap();
    let reply = block_on(send_request(&t, &c.config, &req, &mut |_| {})).unwrap();
    assert_eq!(reply.text, "hello");
    assert_eq!(reply.usage.requests, 2);
    assert_eq!(
        (reply.usage.prompt_tokens, reply.usage.thoughts_tokens, reply.usage.total_tokens),
        (1000, 40, 1042),
        "both answers were billed: {:?}",
        reply.usage
    );
}
