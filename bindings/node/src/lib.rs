//! Node.js bindings: type conversion over the `tandem::api` facade, nothing more.
//!
//! The native classes mirror the facade's handles (`NativeEngine` → `NativeDomain` →
//! `NativeModel` → `NativeSubscription`); `tandem.js` wraps them in the public JS classes.
//! Every engine call returns a Promise: facade futures run on the engine's own runtime
//! through [`Engine::spawn`](tandem::api::Engine::spawn), and the few blocking calls of
//! [`HostedEngine`](tandem::api::HostedEngine) run as napi async tasks on libuv's pool.
//! Model data, changes, history and events cross as JSON text so that unpaired surrogates
//! survive; metadata crosses as plain JS objects. A failed call rejects with a JS `Error`
//! carrying `code` (the stable name) and `errno` (the number) from [`ErrorCode::ALL`],
//! which `tandem.js` turns into the matching `Error` subclass.

mod access;
mod activities;
mod chats;
mod domain;
mod engine;
mod model;
mod operators;
mod sessions;
mod subscription;
mod webhooks;

use std::future::Future;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tandem::api::{Error as CoreError, ErrorCode, Result as CoreResult};

pub use domain::NativeDomain;
pub use engine::NativeEngine;
pub use model::NativeModel;
pub use subscription::NativeSubscription;

/// One row of the engine's error-code table.
#[napi(object)]
pub struct ErrorCodeInfo {
    /// The stable number (`errno` of the JS error).
    pub errno: i32,
    /// The stable snake_case name (`code` of the JS error), e.g. `"not_found"`.
    pub code: String,
    /// The CamelCase name the JS error class is named after, e.g. `"NotFound"`.
    pub class_name: String,
}

/// The engine's error-code table ([`ErrorCode::ALL`]), in numeric order: `tandem.js`
/// derives one `Error` subclass per row from it at load time.
#[napi]
pub fn error_codes() -> Vec<ErrorCodeInfo> {
    ErrorCode::ALL
        .iter()
        .map(|c| ErrorCodeInfo {
            errno: c.as_i32(),
            code: c.as_str().to_string(),
            class_name: c.class_name().to_string(),
        })
        .collect()
}

/// A JS `Error` with the facade error's message, `code` and `errno`.
fn js_error(env: &Env, e: CoreError) -> Error {
    let build = || -> Result<Object<'_>> {
        let mut obj = env.create_error(Error::new(Status::GenericFailure, e.message.clone()))?;
        obj.set_named_property("code", e.code.as_str())?;
        obj.set_named_property("errno", e.code.as_i32())?;
        Ok(obj)
    };
    match build() {
        Ok(obj) => Error::from(obj.to_unknown()),
        Err(failed) => failed,
    }
}

/// A Promise settled by a facade future, which runs wherever it is polled (facade work is
/// started on the engine's runtime by `Engine::spawn` before it gets here).
fn settle<'e, T>(
    env: &'e Env,
    work: impl Future<Output = CoreResult<T>> + Send + 'static,
) -> Result<PromiseRaw<'e, T>>
where
    T: ToNapiValue + Send + 'static,
{
    env.spawn_future_with_callback(async move { Ok(work.await) }, |env, r| {
        r.map_err(|e| js_error(env, e))
    })
}

/// A napi async task for a blocking [`HostedEngine`](tandem::api::HostedEngine) call: it
/// runs on libuv's thread pool (outside any async runtime, where blocking is allowed).
pub struct Blocking<T: Send + 'static> {
    work: Option<Box<dyn FnOnce() -> CoreResult<T> + Send>>,
    failed: Option<CoreError>,
}

impl<T: Send + 'static> Blocking<T> {
    fn new(work: impl FnOnce() -> CoreResult<T> + Send + 'static) -> AsyncTask<Self>
    where
        Self: Task,
    {
        AsyncTask::new(Blocking {
            work: Some(Box::new(work)),
            failed: None,
        })
    }
}

impl<T: ToNapiValue + TypeName + Send + 'static> Task for Blocking<T> {
    type Output = T;
    type JsValue = T;

    fn compute(&mut self) -> Result<T> {
        let work = self
            .work
            .take()
            .ok_or_else(|| Error::from_reason("ran twice"))?;
        work().map_err(|e| {
            let reason = e.message.clone();
            self.failed = Some(e);
            Error::from_reason(reason)
        })
    }

    fn resolve(&mut self, _env: Env, output: T) -> Result<T> {
        Ok(output)
    }

    fn reject(&mut self, env: Env, err: Error) -> Result<T> {
        Err(match self.failed.take() {
            Some(e) => js_error(&env, e),
            None => err,
        })
    }
}

/// Reads a facade input type from a JS object (missing fields take their defaults).
fn input<T: DeserializeOwned>(value: Option<Value>, what: &str) -> CoreResult<T> {
    serde_json::from_value(value.unwrap_or_else(|| Value::Object(Default::default())))
        .map_err(|e| CoreError::new(ErrorCode::InvalidArgument, format!("invalid {what}: {e}")))
}

/// A facade output type as a JS object.
fn output<T: serde::Serialize>(value: &T) -> CoreResult<Value> {
    serde_json::to_value(value).map_err(|e| CoreError::new(ErrorCode::Internal, e.to_string()))
}

/// A JS number as a version or count (non-negative integer).
fn unsigned(n: i64, what: &str) -> CoreResult<u64> {
    u64::try_from(n).map_err(|_| {
        CoreError::new(
            ErrorCode::InvalidArgument,
            format!("{what} must not be negative"),
        )
    })
}

/// A version or count as a JS number.
fn number(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
