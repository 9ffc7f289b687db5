//! Everything that touches JavaScript: the one `fetch` door, timers, and the conversion of
//! options in and results and errors out. The pure core never sees a `JsValue`.

pub mod chat;
pub mod convert;
pub mod error;
pub mod fetch;
pub mod roadmap;

/// Talc instead of the default dlmalloc: about 6 KB less wasm, and faster for our many short-lived strings.
#[cfg(not(target_feature = "atomics"))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
