//! The seam between pure logic and the network: one trait, implemented by `web::fetch` in the
//! browser and by replaying fakes in native tests.
#![allow(async_fn_in_trait)]

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
