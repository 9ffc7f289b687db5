//! Everything that touches JavaScript: the one `fetch` door, timers, and the conversion of
//! options in and results and errors out. The pure core never sees a `JsValue`.

pub mod chat;
pub mod convert;
pub mod error;
pub mod fetch;
pub mod roadmap;

use std::cell::{Cell, OnceCell, RefCell};
use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use wasm_bindgen::prelude::*;

/// Work that settles a promise. Every promise the package returns comes from one boxed type, so the
/// wasm holds one copy of the promise driver instead of one per async function (~0.5 KB each).
pub type JsTask = Pin<Box<dyn Future<Output = Result<JsValue, JsValue>>>>;

/// `future_to_promise` with the scheduling of wasm-bindgen-futures (its queue: the woken tasks are polled in order
/// from one microtask, and a task woken meanwhile waits for the next one), without what the package never uses:
/// its JSPI path, its lookup of `queueMicrotask` on the global object (every supported engine has it) and its
/// generic wrapper future. About 2 KB less wasm.
pub fn promise(task: JsTask) -> js_sys::Promise {
    let mut task = Some(task);
    js_sys::Promise::new(&mut |resolve, reject| {
        let future = RefCell::new(task.take());
        schedule(Rc::new(Task { future, resolve, reject, queued: Cell::new(true) }));
    })
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = queueMicrotask)]
    fn queue_microtask(f: &js_sys::Function);
    // `catch`: a page's (or a test setup's) console that throws must not unwind through the wasm, which would
    // leave the promise driver's queue half run and other calls' promises pending for ever.
    #[wasm_bindgen(js_namespace = console, js_name = error, catch)]
    fn console_error(label: &str, value: &JsValue) -> Result<(), JsValue>;
    #[wasm_bindgen(js_namespace = console, js_name = debug, catch)]
    fn console_debug(line: &str) -> Result<(), JsValue>;
}

/// `console.error(label, value)`; a console that throws is ignored.
pub fn report(label: &str, value: &JsValue) {
    let _ = console_error(label, value);
}

/// `console.debug(line)`; a console that throws is ignored.
pub fn debug(line: &str) {
    let _ = console_debug(line);
}

struct Task {
    future: RefCell<Option<JsTask>>,
    resolve: js_sys::Function,
    reject: js_sys::Function,
    /// Whether it waits in the queue (a wake then does nothing).
    queued: Cell<bool>,
}

/// The tasks to poll in the next microtask, and the function that polls them.
struct Queue {
    tasks: RefCell<Vec<Rc<Task>>>,
    /// What is left of the batch being polled, last first.
    batch: RefCell<Vec<Rc<Task>>>,
    /// The task being polled: set while its poll runs, so that a throw out of it is known to be its.
    polling: Cell<Option<Rc<Task>>>,
    /// Set while `run_all` runs: found set on entry, its last call threw.
    running: Cell<bool>,
    run: OnceCell<js_sys::Function>,
}

// wasm32 without atomics: one thread.
unsafe impl Sync for Queue {}

static QUEUE: Queue = Queue {
    tasks: RefCell::new(Vec::new()),
    batch: RefCell::new(Vec::new()),
    polling: Cell::new(None),
    running: Cell::new(false),
    run: OnceCell::new(),
};

fn schedule(task: Rc<Task>) {
    let mut tasks = QUEUE.tasks.borrow_mut();
    tasks.push(task);
    if tasks.len() == 1 {
        drop(tasks);
        let run = QUEUE.run.get_or_init(|| {
            convert::guard(&Closure::<dyn FnMut()>::new(run_all).into_js_value(), &wasm_bindgen::exports())
        });
        queue_microtask(run);
    }
}

/// Polls the tasks queued before this microtask, in order.
///
/// A JavaScript exception that escapes an import during a poll unwinds through the wasm without running a drop: the
/// rest of the batch would never be polled, and every promise in it would stay pending. The JavaScript `guard` around
/// this function catches it and calls again: the task that threw is rejected with what it threw and never polled again
/// (its future was left mid-change, still borrowed), and the batch goes on.
fn run_all() {
    if QUEUE.running.replace(true) {
        let thrown = convert::take_thrown();
        let Some(task) = QUEUE.polling.take() else {
            // Not out of a poll but out of the driver itself (a trap): its own state is in doubt, and going on
            // could throw again, for ever. Stop here; the next wake tries again.
            report("gemini-roadmap: internal error", &thrown);
            QUEUE.running.set(false);
            return;
        };
        let _ = task.reject.call1(&JsValue::UNDEFINED, &thrown);
    }
    {
        let mut batch = QUEUE.batch.borrow_mut();
        if batch.is_empty() {
            *batch = std::mem::take(&mut *QUEUE.tasks.borrow_mut());
            batch.reverse();
        }
    }
    loop {
        let next = QUEUE.batch.borrow_mut().pop();
        let Some(task) = next else { break };
        let Ok(mut slot) = task.future.try_borrow_mut() else { continue };
        let Some(future) = slot.as_mut() else { continue };
        task.queued.set(false);
        // SAFETY: the vtable's functions treat the pointer as the `Rc<Task>` it was made from.
        let waker = unsafe { Waker::from_raw(raw_waker(task.clone())) };
        QUEUE.polling.set(Some(task.clone()));
        let poll = future.as_mut().poll(&mut Context::from_waker(&waker));
        QUEUE.polling.set(None);
        if let Poll::Ready(result) = poll {
            let _ = match &result {
                Ok(v) => task.resolve.call1(&JsValue::UNDEFINED, v),
                Err(e) => task.reject.call1(&JsValue::UNDEFINED, e),
            };
            *slot = None;
        }
    }
    QUEUE.running.set(false);
}

fn wake(task: &Rc<Task>) {
    if !task.queued.replace(true) {
        schedule(task.clone());
    }
}

fn raw_waker(task: Rc<Task>) -> RawWaker {
    unsafe fn clone(p: *const ()) -> RawWaker {
        let task = ManuallyDrop::new(Rc::from_raw(p as *const Task));
        raw_waker(Rc::clone(&task))
    }
    unsafe fn wake_owned(p: *const ()) {
        wake(&Rc::from_raw(p as *const Task));
    }
    unsafe fn wake_by_ref(p: *const ()) {
        wake(&ManuallyDrop::new(Rc::from_raw(p as *const Task)));
    }
    unsafe fn drop_waker(p: *const ()) {
        drop(Rc::from_raw(p as *const Task));
    }
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake_owned, wake_by_ref, drop_waker);
    RawWaker::new(Rc::into_raw(task) as *const (), &VTABLE)
}

/// Talc instead of the default dlmalloc: about 6 KB less wasm, and faster for our many short-lived strings.
#[cfg(not(target_feature = "atomics"))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
