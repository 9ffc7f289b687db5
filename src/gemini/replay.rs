//! A [`Transport`] that replays recorded Gemini bodies instead of calling the network, and records
//! every request and wait. Native tests drive the chat and the batch loop with it.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use super::transport::{Body, HttpRequest, Transport};
use crate::Error;

/// One scripted outcome of a request.
#[derive(Debug, Clone)]
pub enum Scripted {
    /// A status and the body in chunks (for SSE, split wherever you like).
    Respond { status: u16, chunks: Vec<Vec<u8>> },
    /// `send` fails: network error, timeout, ...
    Fail(Error),
    /// A status and the first chunks of the body, then reading the rest fails with `error` (abort, timeout, cut).
    Broken { status: u16, chunks: Vec<Vec<u8>>, error: Error },
}

impl Scripted {
    pub fn ok(body: impl Into<String>) -> Self {
        Scripted::Respond { status: 200, chunks: vec![body.into().into_bytes()] }
    }
    pub fn status(status: u16, body: impl Into<String>) -> Self {
        Scripted::Respond { status, chunks: vec![body.into().into_bytes()] }
    }
    /// An SSE body: one `data:` event per JSON, each its own chunk.
    pub fn sse<S: AsRef<str>>(events: &[S]) -> Self {
        let chunks = events.iter().map(|e| cat!("data: ", e.as_ref(), "\r\n\r\n").into_bytes()).collect();
        Scripted::Respond { status: 200, chunks }
    }
}

/// Builds the script for a request from what was asked: lets a fake answer "the weeks requested".
pub type Responder = Box<dyn Fn(&HttpRequest, usize) -> Scripted>;

#[derive(Default)]
pub struct ReplayTransport {
    script: RefCell<VecDeque<Scripted>>,
    responder: Option<Responder>,
    pub requests: RefCell<Vec<HttpRequest>>,
    pub sleeps: RefCell<Vec<u64>>,
    pub logs: RefCell<Vec<String>>,
    /// Abort (as the user would) once this many requests have been sent.
    pub abort_after_requests: Cell<Option<usize>>,
    aborted: Cell<bool>,
}

impl ReplayTransport {
    pub fn new(script: Vec<Scripted>) -> Self {
        ReplayTransport { script: RefCell::new(script.into()), ..Default::default() }
    }

    /// Answers every request not covered by the script with `responder`.
    pub fn with_responder(script: Vec<Scripted>, responder: Responder) -> Self {
        ReplayTransport { script: RefCell::new(script.into()), responder: Some(responder), ..Default::default() }
    }

    pub fn abort(&self) {
        self.aborted.set(true);
    }

    pub fn request_count(&self) -> usize {
        self.requests.borrow().len()
    }

    pub fn request_bodies(&self) -> Vec<String> {
        self.requests.borrow().iter().map(|r| r.body.clone().unwrap_or_default()).collect()
    }
}

pub struct ReplayBody {
    chunks: VecDeque<Vec<u8>>,
    /// What reading past the last chunk gives instead of the end of the body.
    then: Option<Error>,
}

impl Body for ReplayBody {
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, Error> {
        match self.chunks.pop_front() {
            Some(chunk) => Ok(Some(chunk)),
            None => self.then.take().map_or(Ok(None), Err),
        }
    }
}

impl Transport for ReplayTransport {
    type Body = ReplayBody;

    async fn send(&self, req: &HttpRequest) -> Result<(u16, ReplayBody), Error> {
        if self.aborted.get() {
            return Err(Error::Aborted);
        }
        let n = {
            let mut reqs = self.requests.borrow_mut();
            reqs.push(req.clone());
            reqs.len()
        };
        if self.abort_after_requests.get().is_some_and(|limit| n > limit) {
            self.aborted.set(true);
            return Err(Error::Aborted);
        }
        let next = self.script.borrow_mut().pop_front();
        let scripted = match (next, &self.responder) {
            (Some(s), _) => s,
            (None, Some(r)) => r(req, n),
            (None, None) => panic!("ReplayTransport: no scripted response for request {n} to {}", req.url),
        };
        match scripted {
            Scripted::Respond { status, chunks } => Ok((status, ReplayBody { chunks: chunks.into(), then: None })),
            Scripted::Broken { status, chunks, error } => {
                Ok((status, ReplayBody { chunks: chunks.into(), then: Some(error) }))
            }
            Scripted::Fail(e) => Err(e),
        }
    }

    async fn sleep(&self, ms: u64) -> Result<(), Error> {
        if self.aborted.get() {
            return Err(Error::Aborted);
        }
        self.sleeps.borrow_mut().push(ms);
        Ok(())
    }

    fn is_aborted(&self) -> bool {
        self.aborted.get()
    }

    fn random(&self) -> f64 {
        0.5
    }

    fn log(&self, line: &str) {
        self.logs.borrow_mut().push(line.to_string());
    }
}

/// Records whether it was woken.
struct Flag(std::sync::atomic::AtomicBool);

impl std::task::Wake for Flag {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Runs a future that never waits on anything outside itself (all replay futures are ready at once, or wake
/// themselves). Like a browser's executor, it polls again only when woken: a future that returns `Pending`
/// without arranging a wake-up would hang there, and panics here.
pub fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let flag = std::sync::Arc::new(Flag(std::sync::atomic::AtomicBool::new(false)));
    let waker = Waker::from(flag.clone());
    let mut cx = Context::from_waker(&waker);
    for _ in 0..1_000_000 {
        flag.0.store(false, std::sync::atomic::Ordering::SeqCst);
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        assert!(
            flag.0.load(std::sync::atomic::Ordering::SeqCst),
            "block_on: the future returned Pending and nothing will wake it (a browser would hang here)"
        );
    }
    panic!("block_on: the future never completed (it waits on something a replay cannot provide)");
}
