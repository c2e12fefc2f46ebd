//! `tandem_subscription`: the facade's `Subscription`, read with a blocking, cancellable
//! receive or delivered to a callback on the engine's callback thread.

use std::ffi::{c_char, c_int, c_void, CString};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tandem::api::{Engine, Error, ErrorCode, Subscription};

use crate::{free_handle, guard, handle, invalid, put_opt, put_string};

/// Called with each event as JSON text (valid only during the call; see the facade's event
/// format: an object with a `"type"` such as `"operation_applied"`) and the `user_data` given
/// to [`tandem_subscription_on_event`]. Runs on the engine's callback thread, one event at a
/// time, never while the engine holds a lock; it may call this library (but not free its own
/// subscription).
pub type TandemEventCallback =
    Option<unsafe extern "C" fn(event_json: *const c_char, user_data: *mut c_void)>;

/// A stream of events (of the engine, a domain or a model), in the order they happened.
pub struct TandemSubscription {
    sub: Subscription,
    engine: Engine,
    /// The callback registered with `tandem_subscription_on_event`, if any; emptied (after any
    /// call in progress returns) when the subscription is freed.
    callback: Mutex<Option<Arc<Mutex<Option<Target>>>>>,
}

struct Target {
    callback: unsafe extern "C" fn(*const c_char, *mut c_void),
    user_data: *mut c_void,
}

// SAFETY: `user_data` is only handed back to the host's callback, on the engine's callback
// thread; the host promises (see `tandem_subscription_on_event`) that this is allowed.
unsafe impl Send for Target {}

impl TandemSubscription {
    pub(crate) fn new(sub: Subscription, engine: Engine) -> Self {
        TandemSubscription {
            sub,
            engine,
            callback: Mutex::new(None),
        }
    }
}

impl Drop for TandemSubscription {
    fn drop(&mut self) {
        self.sub.close();
        let target = self.callback.lock().ok().and_then(|mut c| c.take());
        if let Some(target) = target {
            // Waits for a callback in progress to return; none is called afterwards.
            if let Ok(mut t) = target.lock() {
                *t = None;
            }
        }
    }
}

/// Closes (if not closed yet) and frees a subscription; once it returns the callback is not
/// called again. NULL is ignored.
///
/// # Safety
/// `sub` must be NULL or from this library, not freed before, not in use by another thread
/// (close it and let a reader blocked in [`tandem_subscription_next`] return first), and not
/// freed from inside its own callback.
#[no_mangle]
pub unsafe extern "C" fn tandem_subscription_free(sub: *mut TandemSubscription) {
    // SAFETY: forwarded contract.
    unsafe { free_handle(sub) }
}

/// Waits for the next event at most `timeout_ms` milliseconds (forever when negative). On an
/// event, writes its JSON text (exact: unpaired surrogates as `\uXXXX` escapes) to
/// `*out_event_json` and returns `TANDEM_OK`; when the time passed, writes NULL and returns
/// `TANDEM_OK`; once the subscription is closed (also by [`tandem_subscription_close`] from
/// another thread while this one waits) or the engine shut down, writes NULL and returns
/// `TANDEM_ERR_UNAVAILABLE`. Do not call it from inside an event callback.
///
/// # Safety
/// `sub` must be a live subscription; `out_event_json` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_subscription_next(
    sub: *const TandemSubscription,
    timeout_ms: i64,
    out_event_json: *mut *mut c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let s = unsafe { handle(sub, "subscription") }?;
        if out_event_json.is_null() {
            return Err(invalid("out_event_json must not be NULL"));
        }
        // SAFETY: forwarded contract.
        unsafe { put_opt(out_event_json, std::ptr::null_mut()) };
        let timeout = u64::try_from(timeout_ms).ok().map(Duration::from_millis);
        match s.sub.next_blocking(timeout)? {
            // SAFETY: forwarded contract.
            Some(event) => unsafe { put_string(out_event_json, event.to_json_text()) },
            None if s.sub.is_closed() || s.engine.is_shut_down() => Err(Error::new(
                ErrorCode::Unavailable,
                "the subscription has ended",
            )),
            None => Ok(()),
        }
    })
}

/// Closes the subscription from any thread: a reader waiting in [`tandem_subscription_next`]
/// returns at once, later reads end, and the callback gets no more events.
///
/// # Safety
/// `sub` must be NULL or a live subscription.
#[no_mangle]
pub unsafe extern "C" fn tandem_subscription_close(sub: *const TandemSubscription) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        unsafe { handle(sub, "subscription") }?.sub.close();
        Ok(())
    })
}

/// Delivers every event, as JSON text, to `callback` with `user_data`, on the engine's
/// callback thread, until the subscription is closed or freed or the engine shuts down. One
/// callback per subscription (`TANDEM_ERR_ALREADY_EXISTS` for a second); while it is
/// registered, [`tandem_subscription_next`] competes with it for events.
///
/// # Safety
/// `sub` must be a live subscription; `user_data` must stay valid, and usable from the
/// engine's callback thread, until the subscription is freed.
#[no_mangle]
pub unsafe extern "C" fn tandem_subscription_on_event(
    sub: *const TandemSubscription,
    callback: TandemEventCallback,
    user_data: *mut c_void,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let s = unsafe { handle(sub, "subscription") }?;
        let callback = callback.ok_or_else(|| invalid("callback must not be NULL"))?;
        let mut slot = s
            .callback
            .lock()
            .map_err(|_| Error::new(ErrorCode::Internal, "callback lock poisoned"))?;
        if slot.is_some() {
            return Err(Error::new(
                ErrorCode::AlreadyExists,
                "the subscription already has a callback",
            ));
        }
        let target = Arc::new(Mutex::new(Some(Target {
            callback,
            user_data,
        })));
        let delivery = target.clone();
        s.sub.on_event(move |event| {
            let text = CString::new(event.to_json_text()).unwrap_or_default();
            if let Ok(t) = delivery.lock() {
                if let Some(t) = &*t {
                    // SAFETY: the host registered this callback and `user_data` for exactly
                    // this call; the text lives until the call returns.
                    unsafe { (t.callback)(text.as_ptr(), t.user_data) };
                }
            }
        })?;
        *slot = Some(target);
        Ok(())
    })
}
