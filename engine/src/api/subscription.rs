//! A stream of [`Event`]s a host reads: awaited, received with a timeout from a thread of its
//! own, or delivered to a callback on the engine's callback thread.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc as std_mpsc, Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::sync::{oneshot, Notify};
use tracing::warn;

use super::error::{Error, ErrorCode, Result};
use super::types::Event;
use crate::model::EventSubscription;

struct Shared {
    rx: tokio::sync::Mutex<EventSubscription>,
    closed: AtomicBool,
    wake: Notify,
    runtime: Handle,
    callbacks: Arc<Callbacks>,
}

/// Events matching a filter, in the order they happened. Cloning gives another handle on the
/// same stream (each event goes to one reader). Ends (`None`) once closed or when the engine
/// shuts down.
#[derive(Clone)]
pub struct Subscription {
    shared: Arc<Shared>,
}

impl Subscription {
    pub(super) fn new(rx: EventSubscription, runtime: Handle, callbacks: Arc<Callbacks>) -> Self {
        Subscription {
            shared: Arc::new(Shared {
                rx: tokio::sync::Mutex::new(rx),
                closed: AtomicBool::new(false),
                wake: Notify::new(),
                runtime,
                callbacks,
            }),
        }
    }

    /// The next event; `None` once the subscription is closed or the engine shut down. Any
    /// executor may await it.
    pub async fn next(&self) -> Option<Event> {
        let closed = self.shared.wake.notified();
        tokio::pin!(closed);
        closed.as_mut().enable();
        if self.is_closed() {
            return None;
        }
        tokio::select! {
            _ = closed => None,
            e = async { self.shared.rx.lock().await.recv().await } => e.map(Event::from),
        }
    }

    /// The next event if one is waiting.
    pub fn try_next(&self) -> Option<Event> {
        if self.is_closed() {
            return None;
        }
        let mut rx = self.shared.rx.try_lock().ok()?;
        rx.try_recv().map(Event::from)
    }

    /// Waits for the next event on the calling thread, at most `timeout` (forever when
    /// `None`): `Ok(None)` when the time passed, the subscription was closed (also from
    /// another thread while this one waits) or the engine shut down. Refused inside an async
    /// runtime, where [`Subscription::next`] is the call.
    pub fn next_blocking(&self, timeout: Option<Duration>) -> Result<Option<Event>> {
        if Handle::try_current().is_ok() {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                "next_blocking was called inside an async runtime; await next() instead",
            ));
        }
        Ok(self.shared.runtime.block_on(async {
            match timeout {
                None => self.next().await,
                Some(t) => tokio::time::timeout(t, self.next()).await.ok().flatten(),
            }
        }))
    }

    /// Ends the subscription: a reader waiting now gets `None`, and so does every later read.
    pub fn close(&self) {
        self.shared.closed.store(true, Ordering::SeqCst);
        self.shared.wake.notify_waiters();
    }

    /// True once [`Subscription::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::SeqCst)
    }

    /// Delivers every event to `callback`, one at a time, on the engine's callback thread
    /// (never on the caller's thread, never while the engine holds a lock), until the
    /// subscription ends or the returned [`EventCallback`] is cancelled. A callback that
    /// panics is dropped with a warning; the others go on.
    pub fn on_event(&self, callback: impl FnMut(Event) + Send + 'static) -> Result<EventCallback> {
        let id = self.shared.callbacks.register(Box::new(callback))?;
        let sub = self.clone();
        let callbacks = self.shared.callbacks.clone();
        let cancelled = Arc::new(Notify::new());
        let stop = cancelled.clone();
        self.shared.runtime.spawn(async move {
            let stopped = stop.notified();
            tokio::pin!(stopped);
            stopped.as_mut().enable();
            loop {
                tokio::select! {
                    _ = &mut stopped => return,
                    e = sub.next() => match e {
                        Some(event) => {
                            if !callbacks.send(Job::Deliver(id, event)) {
                                break;
                            }
                        }
                        None => break,
                    },
                }
            }
            callbacks.send(Job::Remove(id, None));
        });
        Ok(EventCallback {
            id,
            callbacks: self.shared.callbacks.clone(),
            cancelled,
        })
    }
}

/// A callback registered with [`Subscription::on_event`].
pub struct EventCallback {
    id: u64,
    callbacks: Arc<Callbacks>,
    cancelled: Arc<Notify>,
}

impl EventCallback {
    /// Stops delivery: once this returns, the callback is not running and never runs again
    /// (called from inside the callback, it takes effect when the callback returns). Events
    /// not delivered stay in the subscription for its other readers. Idempotent.
    pub fn cancel(&self) {
        self.cancelled.notify_one();
        if self.callbacks.on_callback_thread() {
            self.callbacks.send(Job::Remove(self.id, None));
            return;
        }
        let (tx, rx) = std_mpsc::channel();
        if self.callbacks.send(Job::Remove(self.id, Some(tx))) {
            let _ = rx.recv();
        }
    }
}

type Callback = Box<dyn FnMut(Event) + Send>;

pub(super) enum Job {
    Register(u64, Callback),
    Deliver(u64, Event),
    Remove(u64, Option<std_mpsc::Sender<()>>),
}

/// The engine's callback thread: started with the first callback, it owns every callback and
/// calls them in turn; it ends when the engine and its subscriptions are gone.
#[derive(Default)]
pub(super) struct Callbacks {
    tx: OnceLock<Mutex<Option<std_mpsc::Sender<Job>>>>,
    thread: OnceLock<std::thread::ThreadId>,
    next_id: AtomicU64,
}

impl Callbacks {
    fn register(&self, cb: Callback) -> Result<u64> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let tx = self.tx.get_or_init(|| {
            let (tx, rx) = std_mpsc::channel();
            let started = std::thread::Builder::new()
                .name("tandem-callbacks".into())
                .spawn(move || run_callbacks(rx));
            let started = started.ok().map(|handle| {
                let _ = self.thread.set(handle.thread().id());
            });
            Mutex::new(started.map(|_| tx))
        });
        let started = tx.lock().map(|t| t.is_some()).unwrap_or(false);
        if started && self.send(Job::Register(id, cb)) {
            Ok(id)
        } else {
            Err(Error::new(
                ErrorCode::Internal,
                "the engine's callback thread could not be started",
            ))
        }
    }

    fn on_callback_thread(&self) -> bool {
        self.thread.get() == Some(&std::thread::current().id())
    }

    fn send(&self, job: Job) -> bool {
        // The lock is held only to clone the sender; no callback runs under it.
        let tx = match self.tx.get().map(|t| t.lock()) {
            Some(Ok(tx)) => tx.clone(),
            _ => None,
        };
        tx.is_some_and(|tx| tx.send(job).is_ok())
    }
}

fn run_callbacks(rx: std_mpsc::Receiver<Job>) {
    let mut callbacks: HashMap<u64, Callback> = HashMap::new();
    while let Ok(job) = rx.recv() {
        match job {
            Job::Register(id, cb) => {
                callbacks.insert(id, cb);
            }
            Job::Remove(id, ack) => {
                callbacks.remove(&id);
                if let Some(ack) = ack {
                    let _ = ack.send(());
                }
            }
            Job::Deliver(id, event) => {
                let Some(cb) = callbacks.get_mut(&id) else {
                    continue;
                };
                let run = std::panic::AssertUnwindSafe(|| cb(event));
                if std::panic::catch_unwind(run).is_err() {
                    warn!(
                        callback = id,
                        "an event callback panicked; it gets no more events"
                    );
                    callbacks.remove(&id);
                }
            }
        }
    }
}

/// The result of work started with [`Engine::spawn`](super::Engine::spawn): a future any
/// executor can await (it needs no tokio context), resolving when the work is done.
pub struct Pending<T> {
    rx: oneshot::Receiver<Result<T>>,
}

impl<T> Pending<T> {
    pub(super) fn new(rx: oneshot::Receiver<Result<T>>) -> Self {
        Pending { rx }
    }

    /// Waits on the calling thread (outside any async runtime).
    pub fn wait(self) -> Result<T> {
        self.rx.blocking_recv().unwrap_or_else(|_| Err(lost()))
    }
}

fn lost() -> Error {
    Error::new(
        ErrorCode::Internal,
        "the engine task doing this work ended without an answer (it panicked or the engine stopped)",
    )
}

impl<T> Future for Pending<T> {
    type Output = Result<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        Pin::new(&mut self.rx)
            .poll(cx)
            .map(|r| r.unwrap_or_else(|_| Err(lost())))
    }
}
