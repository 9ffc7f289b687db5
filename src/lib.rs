//! gemini-roadmap: long, valid, structured learning roadmaps from Gemini, straight from the browser.
//! This file holds only the JavaScript exports: decode, delegate to the pure core, encode.
// `&s[a..b]` on a `str` links core's slicing panic, whose message drags ~4 KB of Unicode tables into the wasm:
// use `text::slice`.
#![warn(clippy::string_slice)]

// First: its `cat!` and `put!` macros are used throughout.
#[macro_use]
pub mod text;
pub mod chat;
pub mod error;
pub mod gemini;
pub mod json;
pub mod retry;
pub mod roadmap;
#[cfg(target_arch = "wasm32")]
pub mod web;

pub use error::Error;

#[cfg(target_arch = "wasm32")]
pub mod exports {
    use std::rc::Rc;

    use wasm_bindgen::prelude::*;

    use crate::web;

    /// A Gemini chat kept in memory. Calls on one chat run one after another.
    #[wasm_bindgen]
    pub struct GeminiChat {
        handle: Rc<web::chat::ChatHandle>,
    }

    #[wasm_bindgen]
    impl GeminiChat {
        #[wasm_bindgen(constructor)]
        pub fn new(#[wasm_bindgen(unchecked_param_type = "ChatOptions")] options: JsValue) -> Result<GeminiChat, JsValue> {
            Ok(GeminiChat { handle: Rc::new(web::chat::new_chat(options)?) })
        }

        /// Sends one user turn; resolves to `{ text, finishReason, usage }`.
        #[wasm_bindgen(unchecked_return_type = "Promise<SendResult>")]
        pub fn send(
            &self,
            #[wasm_bindgen(unchecked_param_type = "string")] text: JsValue,
            #[wasm_bindgen(unchecked_optional_param_type = "CallOptions | null")] options: JsValue,
        ) -> js_sys::Promise {
            web::chat::send(&self.handle, text, options, false)
        }

        /// Sends one user turn asking for JSON; resolves to the parsed (and if needed repaired) value.
        #[wasm_bindgen(js_name = sendJson, unchecked_return_type = "Promise<unknown>")]
        pub fn send_json(
            &self,
            #[wasm_bindgen(unchecked_param_type = "string")] text: JsValue,
            #[wasm_bindgen(unchecked_optional_param_type = "CallOptions | null")] options: JsValue,
        ) -> js_sys::Promise {
            web::chat::send(&self.handle, text, options, true)
        }

        /// Sends each prompt in order in this chat; resolves to the parsed values.
        #[wasm_bindgen(js_name = generateJsonBatched, unchecked_return_type = "Promise<unknown[]>")]
        pub fn generate_json_batched(
            &self,
            #[wasm_bindgen(unchecked_param_type = "string[]")] prompts: JsValue,
            #[wasm_bindgen(unchecked_optional_param_type = "CallOptions | null")] options: JsValue,
        ) -> js_sys::Promise {
            web::chat::generate_json_batched(&self.handle, prompts, options)
        }

        #[wasm_bindgen(getter, unchecked_return_type = "ChatTurn[]")]
        pub fn history(&self) -> JsValue {
            self.handle.history()
        }

        /// What this chat has cost so far: every request of every call, failed and aborted ones included (Gemini
        /// bills an answer it wrote, also one the chat could not use), added as each call settles. Not reset by `clear()`
        /// or `setHistory()`.
        #[wasm_bindgen(getter, unchecked_return_type = "Usage")]
        pub fn usage(&self) -> JsValue {
            self.handle.usage()
        }

        #[wasm_bindgen(js_name = setHistory)]
        pub fn set_history(
            &self,
            // What `history` gives, or a stored turn whose signature is `null` (none).
            #[wasm_bindgen(unchecked_param_type = "Array<Omit<ChatTurn, \"thoughtSignature\"> & { thoughtSignature?: string | null | undefined }>")]
            history: JsValue,
        ) -> Result<(), JsValue> {
            self.handle.set_history(history)
        }

        pub fn clear(&self) {
            self.handle.clear()
        }
    }

    /// Generates a complete roadmap: outline, then batches of weeks; see the README for the options.
    #[wasm_bindgen(js_name = generateRoadmap, unchecked_return_type = "Promise<Roadmap>")]
    pub fn generate_roadmap(
        #[wasm_bindgen(unchecked_param_type = "GenerateRoadmapOptions")] options: JsValue,
    ) -> js_sys::Promise {
        web::promise(Box::pin(web::roadmap::generate_roadmap(options)))
    }

    /// Returns a new roadmap with `week` written again in keeping with its neighbours.
    #[wasm_bindgen(js_name = regenerateWeek, unchecked_return_type = "Promise<Roadmap>")]
    pub fn regenerate_week(
        #[wasm_bindgen(unchecked_param_type = "StoredRoadmap")] roadmap: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number")] week: JsValue,
        #[wasm_bindgen(unchecked_param_type = "RegenerateWeekOptions")] options: JsValue,
    ) -> js_sys::Promise {
        web::promise(Box::pin(web::roadmap::regenerate_week(roadmap, week, options)))
    }

    /// Repairs model output into valid JSON text (fences, prose, trailing commas, truncation, ...).
    #[wasm_bindgen(js_name = repairJson)]
    pub fn repair_json(#[wasm_bindgen(unchecked_param_type = "string")] text: JsValue) -> Result<String, JsValue> {
        let text = web::convert::text_arg(&text).map_err(web::error::js_error)?;
        crate::json::repair_json(&text).map(|r| r.json).map_err(|e| web::error::js_error(e.in_utf16(&text).into()))
    }
}
