//! An in-memory Gemini chat: the history of user/model turns and the rules for what enters it.
//! Only answers that completed (`STOP`, with text, readable) are kept, so a truncated, empty or failed turn is never
//! resent.

use crate::gemini::{Content, Endpoint, GeminiClient, GenerateRequest, GenerationConfig, Reply, Transport, Usage};
use crate::json::{repair_json, Repaired};
use crate::retry::{with_retries, RetryNotice, RetryPolicy};
use crate::Error;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn {
    pub role: String,
    pub text: String,
    /// A model turn's `thoughtSignature`, sent back with it: Google asks for every signature to be returned
    /// as received (Gemini 3 signs every answer; without it the model loses its reasoning from that turn).
    pub signature: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChatConfig {
    pub endpoint: Endpoint,
    pub system_instruction: Option<String>,
    pub generation_config: Option<GenerationConfig>,
    pub retry: RetryPolicy,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Chat {
    pub config: ChatConfig,
    history: Vec<Turn>,
    /// Counts `setHistory`/`clear` calls: a turn that began before one of them is not kept (it belongs to the
    /// conversation that was replaced).
    era: u32,
}

/// A JSON turn's outcome: the value's text (repaired if needed) and what the repair did.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonReply {
    pub reply: Reply,
    pub repaired: Repaired,
}

/// A `thoughtSignature` Gemini would take (400 otherwise) on a model turn: base64 as Google's parser reads a bytes
/// field, in the standard alphabet (`+/`) or the URL-safe one (`-_`), not both, padded or not; no length of 4n + 1
/// and no set bits past the last whole byte.
fn check_signature(s: &str, role: &str) -> Result<(), &'static str> {
    if role != "model" {
        return Err("only a model turn carries one");
    }
    let body = s.trim_end_matches('=');
    let pad = s.len() - body.len();
    let in_alphabet = |extra: [u8; 2]| body.bytes().all(|b| b.is_ascii_alphanumeric() || extra.contains(&b));
    let rest = body.len() % 4;
    let sextet = |b: u8| match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'+' | b'-' => 62,
        _ => 63,
    };
    let unused_bits = if rest == 2 { 0b1111 } else { 0b11 };
    let canonical = rest == 0 || body.bytes().last().is_some_and(|b| (sextet(b) & unused_bits) == 0);
    let padded = pad == 0 || (pad <= 2 && (body.len() + pad) % 4 == 0);
    match !body.is_empty() && (in_alphabet(*b"+/") || in_alphabet(*b"-_")) && rest != 1 && padded && canonical {
        true => Ok(()),
        false => Err("must be the base64 text Gemini gave"),
    }
}

/// A user message the chat sends. Gemini refuses (400) an empty one only; a blank one is refused here too: it asks
/// nothing, and costs a request. Checked again where a call is accepted, so that a busy chat refuses it at once
/// rather than after the calls ahead of it.
pub fn check_message(text: &str) -> Result<(), Error> {
    match text.trim().is_empty() {
        true => Err(Error::invalid("text", "the message is empty or blank")),
        false => Ok(()),
    }
}

impl Chat {
    pub fn new(config: ChatConfig) -> Self {
        Chat { config, history: Vec::new(), era: 0 }
    }

    pub fn history(&self) -> &[Turn] {
        &self.history
    }

    pub fn set_history(&mut self, turns: Vec<Turn>) -> Result<(), Error> {
        // Gemini refuses (400) every request holding an empty text. Only empty: a blank one (`"\n"`) may be a model's
        // own answer that the chat kept, and `setHistory(chat.history)` must take what `history` gave.
        for (i, t) in turns.iter().enumerate() {
            if t.role != "user" && t.role != "model" {
                return Err(Error::invalid(&cat!("history[", i, "].role"), "must be \"user\" or \"model\""));
            }
            if t.text.is_empty() {
                return Err(Error::invalid(&cat!("history[", i, "].text"), "the message is empty"));
            }
            if let Some(s) = &t.signature {
                check_signature(s, &t.role).map_err(|m| Error::invalid(&cat!("history[", i, "].thoughtSignature"), m))?;
            }
        }
        self.history = turns;
        self.era += 1;
        Ok(())
    }

    pub fn clear(&mut self) {
        self.history.clear();
        self.era += 1;
    }

    /// What [`Chat::record`] is given by a turn: the history it was asked against.
    pub fn era(&self) -> u32 {
        self.era
    }

    /// The request for one more user turn: the whole kept history, then `text`.
    pub fn request_for(&self, text: &str, json: bool) -> Result<GenerateRequest, Error> {
        check_message(text)?;
        let mut contents: Vec<Content> =
            self.history.iter().map(|t| Content::signed(&t.role, t.text.clone(), t.signature.clone())).collect();
        contents.push(Content::user(text));
        let mut generation_config = self.config.generation_config.clone();
        if json {
            let g = generation_config.get_or_insert_with(GenerationConfig::default);
            g.response_mime_type.get_or_insert_with(|| "application/json".into());
        }
        let req = GenerateRequest {
            contents,
            // An empty one is no instruction: Gemini refuses (400) a request holding an empty text.
            system_instruction: (self.config.system_instruction.as_ref())
                .filter(|s| !s.trim().is_empty())
                .map(|s| Content { role: None, ..Content::user(s.clone()) }),
            generation_config,
        };
        req.validate()?;
        Ok(req)
    }

    /// Keeps one exchange asked in `era`. An empty answer is never kept: Gemini refuses (400) every later request
    /// that resends it; nor is one asked against a history since replaced or cleared.
    pub fn record(&mut self, era: u32, user: &str, model: &str, signature: Option<String>) {
        if model.is_empty() || era != self.era {
            return;
        }
        self.history.push(Turn { role: "user".into(), text: user.into(), signature: None });
        self.history.push(Turn { role: "model".into(), text: model.into(), signature });
    }
}

/// Sends one prepared request with retries. Never touches the history: the caller records success.
/// An answer that ended (`STOP`) without any text is no answer: it is asked again like a transient failure, and once
/// the retries are spent it is a `MALFORMED` error, so `send` never resolves to a turn it could not keep. So is one
/// that ended oddly ([`Error::OddEnding`]).
/// `spent` sums what every answer cost, those asked again included (an empty one was billed all the same), also when
/// the call fails: the caller counts it either way.
pub async fn send_request<T: Transport>(
    transport: &T,
    config: &ChatConfig,
    req: &GenerateRequest,
    spent: &std::cell::Cell<Usage>,
    on_retry: &mut dyn FnMut(&RetryNotice),
) -> Result<Reply, Error> {
    let client = &GeminiClient::new(transport, &config.endpoint);
    with_retries(
        transport,
        &config.retry,
        |attempt| async move {
            let reply = client.generate(req, false, &mut |_| {}).await?;
            let mut sum = spent.get();
            sum.add(&reply.usage);
            spent.set(sum);
            let mut reply = reply.into_result()?;
            if reply.text.is_empty() {
                return Err(Error::EmptyAnswer);
            }
            // Every request this answer took, the failed ones included, as a roadmap's usage counts them.
            reply.usage = Usage { requests: attempt.into(), ..sum };
            Ok(reply)
        },
        on_retry,
    )
    .await
}

/// Reads a JSON answer through the fallbacks. A truncated answer is an error: its value is incomplete.
pub fn read_json(reply: Reply) -> Result<JsonReply, Error> {
    if reply.is_truncated() {
        return Err(Error::Truncated {
            message: cat!("the answer was cut at maxOutputTokens after ", crate::text::utf16_offset(&reply.text, reply.text.len()), " characters"),
        });
    }
    let repaired = repair_json(&reply.text).map_err(|e| e.in_utf16(&reply.text))?;
    // Ended (`STOP`) inside its JSON: closing it would make up the end of a value that was never written.
    if repaired.truncated {
        return Err(Error::Truncated {
            message: cat!("the answer ended inside its JSON after ", crate::text::utf16_offset(&reply.text, reply.text.len()), " characters"),
        });
    }
    Ok(JsonReply { reply, repaired })
}
