//! Operators (the facade's `api/operators.rs`): the server's administrators on `Engine`
//! (password logins that give an expiring token) and API keys on `Domain` (each reaches one
//! domain, read-only or read-write). Each waiting call has an awaitable `_async` twin. They
//! cross as dicts: an administrator is `{"username", "created_ms", "updated_ms"}`, a token
//! `{"token", "expires_ms"}`, an API key `{"id", "name", "read_only", "created_ms"}` (never
//! its secret), a new API key `{"key": key, "token"}`.

use pyo3::prelude::*;
use serde_json::{json, Value};
use tandem::api::{Admin, AdminToken, ApiKey, NewApiKey};

use crate::aio::{awaitable, OnCancel};
use crate::convert::output;
use crate::domain::{none, Domain};
use crate::engine::Engine;
use crate::errors::OrRaise;

fn admin_json(a: &Admin) -> Value {
    json!({"username": a.username, "created_ms": a.created_ms, "updated_ms": a.updated_ms})
}

fn token_json(t: &AdminToken) -> Value {
    json!({"token": t.token, "expires_ms": t.expires_ms})
}

fn key_json(k: &ApiKey) -> Value {
    json!({"id": k.id, "name": k.name, "read_only": k.read_only, "created_ms": k.created_ms})
}

fn new_key_json(k: &NewApiKey) -> Value {
    json!({"key": key_json(&k.key), "token": k.token})
}

#[pymethods]
impl Engine {
    /// Adds a server administrator (the password is stored as an argon2 hash); returns it.
    /// `AlreadyExistsError` if there is one of that name.
    fn add_admin<'py>(
        &self,
        py: Python<'py>,
        username: &str,
        password: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let core = self.core()?;
        let admin = py
            .detach(|| core.block(core.add_admin(username, password)))
            .or_raise()?;
        output(py, &admin_json(&admin))
    }

    /// Awaitable [`Engine::add_admin`].
    fn add_admin_async<'py>(
        &self,
        py: Python<'py>,
        username: String,
        password: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let core = self.core()?;
        let rt = core.runtime().clone();
        awaitable(
            py,
            &rt,
            OnCancel::Finish,
            async move { core.add_admin(&username, &password).await },
            |py, admin| output(py, &admin_json(&admin)),
        )
    }

    /// Changes an administrator's password; its earlier tokens stop working.
    fn set_admin_password(&self, py: Python<'_>, username: &str, password: &str) -> PyResult<()> {
        let core = self.core()?;
        py.detach(|| core.block(core.set_admin_password(username, password)))
            .or_raise()
    }

    /// Awaitable [`Engine::set_admin_password`].
    fn set_admin_password_async<'py>(
        &self,
        py: Python<'py>,
        username: String,
        password: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let core = self.core()?;
        let rt = core.runtime().clone();
        awaitable(
            py,
            &rt,
            OnCancel::Finish,
            async move { core.set_admin_password(&username, &password).await },
            none,
        )
    }

    /// Removes an administrator; its tokens stop working.
    fn remove_admin(&self, py: Python<'_>, username: &str) -> PyResult<()> {
        let core = self.core()?;
        py.detach(|| core.block(core.remove_admin(username)))
            .or_raise()
    }

    /// Awaitable [`Engine::remove_admin`].
    fn remove_admin_async<'py>(
        &self,
        py: Python<'py>,
        username: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let core = self.core()?;
        let rt = core.runtime().clone();
        awaitable(
            py,
            &rt,
            OnCancel::Finish,
            async move { core.remove_admin(&username).await },
            none,
        )
    }

    /// The server's administrators, by login name.
    fn admins<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let admins: Vec<Value> = self
            .core()?
            .admins()
            .or_raise()?
            .iter()
            .map(admin_json)
            .collect();
        output(py, &admins)
    }

    /// Logs an administrator in; returns `{"token", "expires_ms"}`. A wrong name or password
    /// alike raises `UnauthenticatedError`.
    fn admin_login<'py>(
        &self,
        py: Python<'py>,
        username: &str,
        password: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let core = self.core()?;
        let token = py
            .detach(|| core.block(core.admin_login(username, password)))
            .or_raise()?;
        output(py, &token_json(&token))
    }

    /// Awaitable [`Engine::admin_login`].
    fn admin_login_async<'py>(
        &self,
        py: Python<'py>,
        username: String,
        password: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let core = self.core()?;
        let rt = core.runtime().clone();
        awaitable(
            py,
            &rt,
            OnCancel::Finish,
            async move { core.admin_login(&username, &password).await },
            |py, token| output(py, &token_json(&token)),
        )
    }

    /// The administrator whose token this is (`UnauthenticatedError` for an expired, altered
    /// or foreign token, or one issued before the administrator changed).
    fn verify_admin_token<'py>(&self, py: Python<'py>, token: &str) -> PyResult<Bound<'py, PyAny>> {
        output(
            py,
            &admin_json(&self.core()?.verify_admin_token(token).or_raise()?),
        )
    }
}

#[pymethods]
impl Domain {
    /// Creates an API key for this domain (read-write unless `read_only`); returns `{"key",
    /// "token"}`, the token for the `Authorization: Bearer` header shown only there.
    #[pyo3(signature = (name, read_only=false))]
    fn create_api_key<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        read_only: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let key = self.block(py, async move |d| d.create_api_key(name, read_only).await)?;
        output(py, &new_key_json(&key))
    }

    /// Awaitable [`Domain::create_api_key`].
    #[pyo3(signature = (name, read_only=false))]
    fn create_api_key_async<'py>(
        &self,
        py: Python<'py>,
        name: String,
        read_only: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.spawn(
            py,
            move |d| async move { d.create_api_key(&name, read_only).await },
            |py, key| output(py, &new_key_json(&key)),
        )
    }

    /// This domain's API keys, by id (never their secrets).
    fn api_keys<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let keys: Vec<Value> = self
            .get()?
            .api_keys()
            .or_raise()?
            .iter()
            .map(key_json)
            .collect();
        output(py, &keys)
    }

    /// Revokes one of this domain's API keys (`NotFoundError` if it has none of that id).
    fn revoke_api_key(&self, py: Python<'_>, id: &str) -> PyResult<()> {
        self.block(py, async move |d| d.revoke_api_key(id).await)
    }

    /// Awaitable [`Domain::revoke_api_key`].
    fn revoke_api_key_async<'py>(
        &self,
        py: Python<'py>,
        id: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.spawn(
            py,
            move |d| async move { d.revoke_api_key(&id).await },
            none,
        )
    }

    /// The key of this domain a token is (`UnauthenticatedError` otherwise, also for a key of
    /// another domain).
    fn verify_api_key<'py>(&self, py: Python<'py>, token: &str) -> PyResult<Bound<'py, PyAny>> {
        output(
            py,
            &key_json(&self.get()?.verify_api_key(token).or_raise()?),
        )
    }
}
