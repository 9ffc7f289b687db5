//! The seam between pure logic and the network: one trait, implemented by `web::fetch` in the
//! browser and by replaying fakes in native tests.
#![allow(async_fn_in_trait)]

use std::cell::Cell;
use std::future::Future;

use crate::Error;

#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    pub method: &'static str,
    pub url: String,
    /// Exactly `content-type` (with a body) and `x-goog-api-key`: Google's CORS preflight rejects anything else.
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<String>,
    pub timeout_ms: u32,
}

/// A response whose body arrives in chunks.
pub trait Body {
    /// The next chunk, or `None` at the end of the body.
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, Error>;

    async fn read_all(&mut self) -> Result<Vec<u8>, Error> {
        let mut all = Vec::new();
        while let Some(chunk) = self.next_chunk().await? {
            all.extend_from_slice(&chunk);
        }
        Ok(all)
    }
}

/// Everything the core needs from the outside world: HTTP, waiting, the abort state, and time.
pub trait Transport {
    type Body: Body;
    /// Sends one request. `Err` only for a failure to get a response at all (network, timeout, abort).
    async fn send(&self, req: &HttpRequest) -> Result<(u16, Self::Body), Error>;
    /// Waits `ms` milliseconds; `Err(Error::Aborted)` as soon as the user aborts.
    async fn sleep(&self, ms: u64) -> Result<(), Error>;
    fn is_aborted(&self) -> bool;
    /// A number in [0, 1) for retry jitter.
    fn random(&self) -> f64;
    /// Monitoring lines (the seed's `console.debug` lines).
    fn log(&self, line: &str);
}

/// Counts every request handed to the inner transport (failed ones too). The chat wraps its transport in it
/// as well, so the wasm holds one copy of the client's code, not one per transport type.
pub struct Counted<'a, T> {
    inner: &'a T,
    sent: Cell<u64>,
}

impl<'a, T> Counted<'a, T> {
    pub fn new(inner: &'a T) -> Self {
        Counted { inner, sent: Cell::new(0) }
    }

    pub fn sent(&self) -> u64 {
        self.sent.get()
    }
}

// `send` and `sleep` hand back the inner transport's future rather than `async` wrappers around it: one state
// machine less each in the wasm. The count is taken when the request is made (callers await it at once).
impl<T: Transport> Transport for Counted<'_, T> {
    type Body = T::Body;
    fn send(&self, req: &HttpRequest) -> impl Future<Output = Result<(u16, T::Body), Error>> {
        self.sent.set(self.sent.get() + 1);
        self.inner.send(req)
    }
    fn sleep(&self, ms: u64) -> impl Future<Output = Result<(), Error>> {
        self.inner.sleep(ms)
    }
    fn is_aborted(&self) -> bool {
        self.inner.is_aborted()
    }
    fn random(&self) -> f64 {
        self.inner.random()
    }
    fn log(&self, line: &str) {
        self.inner.log(line)
    }
}
