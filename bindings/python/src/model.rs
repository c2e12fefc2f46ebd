//! `Model`: one model's data now and in the past, its changes, history and events.

use std::future::Future;

use pyo3::prelude::*;
use tandem::api::{
    changes_from_json_value, value_to_json_value, ErrorCode, HistoryEntry, JsonValue,
    ModelPermissionsChange, UndoOutcome, UndoScope, UserId,
};

use crate::aio::{awaitable, OnCancel};
use crate::convert::{input, output, output_pairs, to_json, to_py};
use crate::domain::Domain;
use crate::errors::OrRaise;
use crate::subscription::Subscription;

/// A handle on one model. Like [`Domain`], it holds no engine resources.
#[pyclass(frozen, module = "tandem")]
pub struct Model {
    domain: Domain,
    id: String,
}

fn json<'a>(py: Python<'a>, v: JsonValue) -> PyResult<Bound<'a, PyAny>> {
    to_py(py, &v)
}

fn int(py: Python<'_>, v: u64) -> PyResult<Bound<'_, PyAny>> {
    Ok(v.into_pyobject(py)?.into_any())
}

fn history_entry<'a>(py: Python<'a>, h: &HistoryEntry) -> PyResult<Bound<'a, PyAny>> {
    let dict = output(py, h)?;
    dict.set_item("operation", to_py(py, &h.operation)?)?;
    Ok(dict)
}

/// The author of a change: `{"kind": "normal", "name": "bob"}`, or the host when `None`.
fn author(user: Option<&Bound<'_, PyAny>>) -> PyResult<UserId> {
    match user {
        Some(u) if !u.is_none() => input(u, "user id", ErrorCode::InvalidArgument),
        _ => Ok(UserId::host()),
    }
}

/// An undo scope dict (`{"version": 5}`, `{"last_of": user}`, `{"last_of_session": id}`,
/// `{"since": {"user": user, "version": 3}}`) and its author.
fn undo_args(
    scope: &Bound<'_, PyAny>,
    by: Option<&Bound<'_, PyAny>>,
) -> PyResult<(UndoScope, UserId)> {
    let scope = input(scope, "undo scope", ErrorCode::InvalidArgument)?;
    Ok((scope, author(by)?))
}

async fn undo_or_redo(
    m: &tandem::api::Model,
    scope: UndoScope,
    by: UserId,
    redo: bool,
) -> tandem::api::Result<UndoOutcome> {
    if redo {
        m.redo_as(scope, &by).await
    } else {
        m.undo_as(scope, &by).await
    }
}

impl Model {
    /// A handle on model `id` of `domain`.
    pub fn new(domain: Domain, id: &str) -> Self {
        Model {
            domain,
            id: id.to_string(),
        }
    }

    fn get(&self) -> PyResult<tandem::api::Model> {
        self.domain.get()?.model(&self.id).or_raise()
    }

    /// Runs `f(model)` on the calling thread with the GIL released.
    fn block<T: Send>(
        &self,
        py: Python<'_>,
        f: impl AsyncFnOnce(&tandem::api::Model) -> tandem::api::Result<T> + Send,
    ) -> PyResult<T> {
        let m = self.get()?;
        py.detach(|| m.domain().engine().block(f(&m))).or_raise()
    }

    /// Starts `f(model)` on the engine and returns an asyncio future of its converted result.
    fn spawn<'py, T, F>(
        &self,
        py: Python<'py>,
        f: impl FnOnce(tandem::api::Model) -> F,
        convert: impl for<'a> FnOnce(Python<'a>, T) -> PyResult<Bound<'a, PyAny>> + Send + 'static,
    ) -> PyResult<Bound<'py, PyAny>>
    where
        T: Send + 'static,
        F: Future<Output = tandem::api::Result<T>> + Send + 'static,
    {
        let m = self.get()?;
        let rt = m.domain().engine().runtime().clone();
        awaitable(py, &rt, OnCancel::Finish, f(m), convert)
    }
}

#[pymethods]
impl Model {
    /// The model id.
    #[getter]
    fn id(&self) -> &str {
        &self.id
    }

    /// The domain the model is in.
    #[getter]
    fn domain(&self) -> Domain {
        self.domain.clone()
    }

    fn __repr__(&self) -> String {
        format!("Model({:?})", self.id)
    }

    /// Metadata: `id`, `collection`, `version`, `created_ms`, `modified_ms`.
    fn info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        output(py, &self.get()?.info().or_raise()?)
    }

    /// The current data as Python values.
    fn json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let data = self.block(py, async |m| m.data().await)?;
        to_py(py, &value_to_json_value(&data.data))
    }

    /// Awaitable [`Model::json`].
    fn json_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.spawn(
            py,
            |m| async move { Ok(value_to_json_value(&m.data().await?.data)) },
            json,
        )
    }

    /// The data at a past version (1 ..= current).
    fn json_at<'py>(&self, py: Python<'py>, version: u64) -> PyResult<Bound<'py, PyAny>> {
        let data = self.get()?.data_at(version).or_raise()?;
        to_py(py, &value_to_json_value(&data.data))
    }

    /// Applies a change (dict) or changes (list) as one operation; returns the version it
    /// produced once durable. `user` (`{"kind": "normal", "name": "bob"}`) is the recorded
    /// author, the host when omitted.
    #[pyo3(signature = (changes, user=None))]
    fn apply(
        &self,
        py: Python<'_>,
        changes: &Bound<'_, PyAny>,
        user: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<u64> {
        let changes = changes_from_json_value(&to_json(changes)?).or_raise()?;
        let user = author(user)?;
        self.block(py, async move |m| m.apply_as(changes, &user).await)
    }

    /// Awaitable [`Model::apply`].
    #[pyo3(signature = (changes, user=None))]
    fn apply_async<'py>(
        &self,
        py: Python<'py>,
        changes: &Bound<'py, PyAny>,
        user: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let changes = changes_from_json_value(&to_json(changes)?).or_raise()?;
        let user = author(user)?;
        self.spawn(
            py,
            move |m| async move { m.apply_as(changes, &user).await },
            int,
        )
    }

    /// History entries with `first <= version <= last`.
    fn history<'py>(&self, py: Python<'py>, first: u64, last: u64) -> PyResult<Bound<'py, PyAny>> {
        let entries = self.get()?.history(first, last).or_raise()?;
        let list = pyo3::types::PyList::empty(py);
        for h in &entries {
            list.append(history_entry(py, h)?)?;
        }
        Ok(list.into_any())
    }

    /// Undoes what `scope` names as one new operation by `by` (the host when omitted);
    /// returns the outcome: `{"outcome": "undone", "version", "undid"}`, `"partial"`,
    /// `"conflict"` (`"versions"`), `"nothing_to_undo"` or `"not_undoable"`.
    #[pyo3(signature = (scope, by=None))]
    fn undo<'py>(
        &self,
        py: Python<'py>,
        scope: &Bound<'py, PyAny>,
        by: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (scope, by) = undo_args(scope, by)?;
        let out = self.block(py, async move |m| undo_or_redo(m, scope, by, false).await)?;
        output(py, &out)
    }

    /// Awaitable [`Model::undo`].
    #[pyo3(signature = (scope, by=None))]
    fn undo_async<'py>(
        &self,
        py: Python<'py>,
        scope: &Bound<'py, PyAny>,
        by: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (scope, by) = undo_args(scope, by)?;
        self.spawn(
            py,
            move |m| async move { undo_or_redo(&m, scope, by, false).await },
            |py, out| output(py, &out),
        )
    }

    /// Redoes: undoes the undo `scope` names (`last_of` takes the user's newest undo not
    /// redone yet).
    #[pyo3(signature = (scope, by=None))]
    fn redo<'py>(
        &self,
        py: Python<'py>,
        scope: &Bound<'py, PyAny>,
        by: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (scope, by) = undo_args(scope, by)?;
        let out = self.block(py, async move |m| undo_or_redo(m, scope, by, true).await)?;
        output(py, &out)
    }

    /// Awaitable [`Model::redo`].
    #[pyo3(signature = (scope, by=None))]
    fn redo_async<'py>(
        &self,
        py: Python<'py>,
        scope: &Bound<'py, PyAny>,
        by: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (scope, by) = undo_args(scope, by)?;
        self.spawn(
            py,
            move |m| async move { undo_or_redo(&m, scope, by, true).await },
            |py, out| output(py, &out),
        )
    }

    /// The version the model had at a wall-clock time (epoch ms).
    fn version_at(&self, time_ms: i64) -> PyResult<u64> {
        self.get()?.version_at(time_ms).or_raise()
    }

    /// Deletes the model; sessions that have it open are closed.
    fn delete(&self, py: Python<'_>) -> PyResult<()> {
        self.block(py, async |m| m.delete().await)
    }

    /// Awaitable [`Model::delete`].
    fn delete_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.spawn(
            py,
            |m| async move { m.delete().await },
            |py, ()| Ok(py.None().into_bound(py)),
        )
    }

    /// The model's stored permissions: `override_world`, its own `world` rights and its
    /// `users` as (user, rights) tuples.
    fn permissions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        output_pairs(py, &self.get()?.permissions().or_raise()?, &["users"])
    }

    /// Changes the model's permissions (`override_world`, `world`, `replace_users`,
    /// `set_users`, `remove_users`; absent keys stay as they are). Sessions with the model
    /// open get their new rights at once, and are closed if they lost read.
    fn set_permissions(&self, py: Python<'_>, change: &Bound<'_, PyAny>) -> PyResult<()> {
        let change: ModelPermissionsChange =
            input(change, "permissions change", ErrorCode::InvalidArgument)?;
        self.block(py, async move |m| m.set_permissions(change).await)
    }

    /// Awaitable [`Model::set_permissions`].
    fn set_permissions_async<'py>(
        &self,
        py: Python<'py>,
        change: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let change: ModelPermissionsChange =
            input(change, "permissions change", ErrorCode::InvalidArgument)?;
        self.spawn(
            py,
            move |m| async move { m.set_permissions(change).await },
            |py, ()| Ok(py.None().into_bound(py)),
        )
    }

    /// What a user may do with the model (`read`, `write`, `remove`, `manage`), resolved as
    /// the engine checks it.
    fn rights_of<'py>(
        &self,
        py: Python<'py>,
        user: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let user: UserId = input(user, "user id", ErrorCode::InvalidArgument)?;
        output(py, &self.get()?.rights_of(&user).or_raise()?)
    }

    /// The model's events.
    fn subscribe(&self) -> PyResult<Subscription> {
        let m = self.get()?;
        Ok(Subscription::new(
            m.subscribe(),
            m.domain().engine().runtime().clone(),
        ))
    }
}
