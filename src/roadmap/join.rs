//! A bounded join for single-threaded (`!Send`) futures, std only: at most `limit` futures started and
//! unfinished at a time, all polled in turn inside one future. No threads, no executor, no new crates:
//! the futures share the caller's task, so a wake-up from any of them polls them all again.
//!
//! Futures that wait on *shared state* (not on I/O) may return `Pending` without keeping a waker, provided
//! every change they wait for bumps `tick`: a pass in which `tick` moved is followed by another pass, so
//! the waiting future sees the change before the join itself returns `Pending`. A future must not bump
//! `tick` without changing anything, or the join would spin.

use std::cell::Cell;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::Poll;

/// A boxed future that may borrow (`'a`) and is not `Send`.
pub type LocalFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Runs every future to completion, starting them in list order with at most `limit` (at least 1) running
/// at once; returns their outputs in list order. A future "starts" when it is first polled; a finished
/// future's slot goes to the next waiting one within the same poll.
/// (The poll function itself is the future: an `async fn` around it would add a state machine to the wasm.)
pub fn join_limited<'a, T: 'a>(
    futures: Vec<LocalFuture<'a, T>>,
    limit: usize,
    tick: &'a Cell<u64>,
) -> impl Future<Output = Vec<T>> + 'a {
    let limit = limit.max(1);
    let mut out: Vec<Option<T>> = futures.iter().map(|_| None).collect();
    // Started in list order, so the waiting ones are simply the rest of the list (no `VecDeque` code in the wasm).
    let mut waiting = futures.into_iter().enumerate();
    let mut running: Vec<(usize, LocalFuture<'a, T>)> = Vec::with_capacity(limit);
    poll_fn(move |cx| loop {
        while running.len() < limit {
            match waiting.next() {
                Some(f) => running.push(f),
                None => break,
            }
        }
        if running.is_empty() {
            return Poll::Ready(out.iter_mut().map(|o| o.take().expect("every future finished")).collect());
        }
        // Every running future is polled in each pass, in list order: earlier futures (earlier batches) are
        // first to act on shared state, and none is starved.
        let before = tick.get();
        let mut done = vec![false; running.len()];
        for (i, (slot, f)) in running.iter_mut().enumerate() {
            if let Poll::Ready(v) = f.as_mut().poll(cx) {
                out[*slot] = Some(v);
                done[i] = true;
            }
        }
        let finished = done.iter().any(|&d| d);
        if finished {
            let mut i = 0;
            running.retain(|_| {
                i += 1;
                !done[i - 1]
            });
        }
        if !finished && tick.get() == before {
            return Poll::Pending;
        }
    })
}
