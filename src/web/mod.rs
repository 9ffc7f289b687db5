//! Everything that touches JavaScript: the one `fetch` door, timers, and the conversion of
//! options in and results and errors out. The pure core never sees a `JsValue`.

pub mod chat;
pub mod convert;
pub mod error;
pub mod fetch;
pub mod roadmap;
