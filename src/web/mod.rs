//! Everything that touches JavaScript: the one `fetch` door, timers, and the conversion of
//! options in and results and errors out. The pure core never sees a `JsValue`.

pub mod chat;
pub mod convert;
pub mod error;
pub mod fetch;
pub mod roadmap;

use std::future::Future;
use std::pin::Pin;

use wasm_bindgen::JsValue;

/// Work that settles a promise. Every promise the package returns comes from one boxed type, so the
/// wasm holds one copy of the promise driver instead of one per async function (~0.5 KB each).
pub type JsTask = Pin<Box<dyn Future<Output = Result<JsValue, JsValue>>>>;

pub fn promise(task: JsTask) -> js_sys::Promise {
    wasm_bindgen_futures::future_to_promise(task)
}

/// Talc instead of the default dlmalloc: about 6 KB less wasm, and faster for our many short-lived strings.
#[cfg(not(target_feature = "atomics"))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
