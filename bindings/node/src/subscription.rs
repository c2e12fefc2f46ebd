//! `NativeSubscription`: a stream of events, awaited or pushed to a JS callback.

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use tandem::api::Subscription;

use crate::{js_error, settle};

/// The JS callback events are pushed to: called with the event's exact JSON text.
type EventCallback = ThreadsafeFunction<String, Unknown<'static>, String, Status, false>;

/// Events matching a filter, in order; each event goes to one reader.
#[napi]
pub struct NativeSubscription {
    inner: Subscription,
}

impl From<Subscription> for NativeSubscription {
    fn from(inner: Subscription) -> Self {
        NativeSubscription { inner }
    }
}

#[napi]
impl NativeSubscription {
    /// The next event as exact JSON text; `null` once closed or the engine shut down.
    #[napi]
    pub fn next<'e>(&self, env: &'e Env) -> Result<PromiseRaw<'e, Option<String>>> {
        let sub = self.inner.clone();
        settle(env, async move {
            Ok(sub.next().await.map(|e| e.to_json_text()))
        })
    }

    /// Ends the subscription; a pending `next()` resolves to `null`.
    #[napi]
    pub fn close(&self) {
        self.inner.close();
    }

    /// True once closed.
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Pushes every event (exact JSON text) to `callback` on the JS thread until the
    /// subscription ends; the callback keeps the process alive until then.
    #[napi(ts_args_type = "callback: (eventJson: string) => void")]
    pub fn on_event(&self, env: &Env, callback: EventCallback) -> Result<()> {
        self.inner
            .on_event(move |event| {
                callback.call(
                    event.to_json_text(),
                    ThreadsafeFunctionCallMode::NonBlocking,
                );
            })
            .map(|_| ())
            .map_err(|e| js_error(env, e))
    }
}
