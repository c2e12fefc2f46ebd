//! `NativeModel`: a handle on one model.

use std::future::Future;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::Value;
use tandem::api::{changes_from_str, HistoryEntry, Model, Pending, UndoScope, UserId};

use crate::{input, number, output, settle, unsigned, NativeSubscription};

/// A handle on one model.
#[napi]
pub struct NativeModel {
    inner: Model,
}

impl From<Model> for NativeModel {
    fn from(inner: Model) -> Self {
        NativeModel { inner }
    }
}

impl NativeModel {
    /// Runs `work` with the model on the engine's runtime.
    pub(crate) fn spawn<T, F>(&self, work: impl FnOnce(Model) -> F) -> Pending<T>
    where
        T: Send + 'static,
        F: Future<Output = tandem::api::Result<T>> + Send + 'static,
    {
        self.inner.domain().engine().spawn(work(self.inner.clone()))
    }
}

#[napi]
impl NativeModel {
    /// The model id.
    #[napi(getter)]
    pub fn id(&self) -> String {
        self.inner.id().to_string()
    }

    /// Metadata (`ModelInfo`).
    #[napi]
    pub fn info<'e>(&self, env: &'e Env) -> Result<PromiseRaw<'e, Value>> {
        settle(env, self.spawn(|m| async move { output(&m.info()?) }))
    }

    /// The current data as exact JSON text.
    #[napi]
    pub fn json_text<'e>(&self, env: &'e Env) -> Result<PromiseRaw<'e, String>> {
        settle(env, self.spawn(|m| async move { m.json_text().await }))
    }

    /// The data at a past version (1 ..= current) as exact JSON text.
    #[napi]
    pub fn json_text_at<'e>(&self, env: &'e Env, version: i64) -> Result<PromiseRaw<'e, String>> {
        settle(
            env,
            self.spawn(move |m| async move { m.json_text_at(unsigned(version, "version")?) }),
        )
    }

    /// Applies changes (JSON text of a change or an array of them) as one operation, by
    /// `user` (a `UserId`) or the host; resolves to the version it produced.
    #[napi]
    pub fn apply<'e>(
        &self,
        env: &'e Env,
        changes_json: String,
        user: Option<Value>,
    ) -> Result<PromiseRaw<'e, i64>> {
        settle(
            env,
            self.spawn(|m| async move {
                let changes = changes_from_str(&changes_json)?;
                let version = match user {
                    Some(u) => {
                        m.apply_as(changes, &input::<UserId>(Some(u), "user id")?)
                            .await?
                    }
                    None => m.apply(changes).await?,
                };
                Ok(number(version))
            }),
        )
    }

    /// Undoes (or with `redo`, redoes) what `scope` (an `UndoScope`) names as one new operation
    /// by `by` (a `UserId`) or the host; resolves to the `UndoOutcome`.
    #[napi]
    pub fn undo<'e>(
        &self,
        env: &'e Env,
        scope: Value,
        by: Option<Value>,
        redo: bool,
    ) -> Result<PromiseRaw<'e, Value>> {
        settle(
            env,
            self.spawn(move |m| async move {
                let scope: UndoScope = input(Some(scope), "undo scope")?;
                let by = match by {
                    Some(u) => input::<UserId>(Some(u), "user id")?,
                    None => UserId::host(),
                };
                let out = if redo {
                    m.redo_as(scope, &by).await?
                } else {
                    m.undo_as(scope, &by).await?
                };
                output(&out)
            }),
        )
    }

    /// History entries with `first <= version <= last`, as exact JSON text (an array).
    #[napi]
    pub fn history_json<'e>(
        &self,
        env: &'e Env,
        first: i64,
        last: i64,
    ) -> Result<PromiseRaw<'e, String>> {
        settle(
            env,
            self.spawn(move |m| async move {
                let entries = m.history(unsigned(first, "first")?, unsigned(last, "last")?)?;
                let list: Vec<String> = entries.iter().map(HistoryEntry::to_json_text).collect();
                Ok(format!("[{}]", list.join(",")))
            }),
        )
    }

    /// The version the model had at a wall-clock time (epoch ms).
    #[napi]
    pub fn version_at<'e>(&self, env: &'e Env, time_ms: i64) -> Result<PromiseRaw<'e, i64>> {
        settle(
            env,
            self.spawn(move |m| async move { m.version_at(time_ms).map(number) }),
        )
    }

    /// Deletes the model.
    #[napi]
    pub fn delete<'e>(&self, env: &'e Env) -> Result<PromiseRaw<'e, ()>> {
        settle(env, self.spawn(|m| async move { m.delete().await }))
    }

    /// The model's events.
    #[napi]
    pub fn subscribe(&self) -> NativeSubscription {
        NativeSubscription::from(self.inner.subscribe())
    }
}
