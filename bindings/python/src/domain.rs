//! `Domain`: settings, collections, models, users and JWT keys of one domain.

use std::future::Future;
use std::sync::Arc;

use pyo3::prelude::*;
use tandem::api::{DomainSettings, ErrorCode, HostedEngine, JwtKey, NewUser};

use crate::aio::{awaitable, OnCancel};
use crate::convert::{input, output, outputs, to_json};
use crate::errors::OrRaise;
use crate::model::Model;
use crate::subscription::Subscription;

/// A handle on one domain. It holds no engine resources: after the engine's shutdown its
/// calls raise `UnavailableError` and the data directory is released.
#[pyclass(frozen, module = "tandem")]
#[derive(Clone)]
pub struct Domain {
    hosted: Arc<HostedEngine>,
    namespace: String,
    id: String,
}

fn none(py: Python<'_>, _: ()) -> PyResult<Bound<'_, PyAny>> {
    Ok(py.None().into_bound(py))
}

impl Domain {
    /// A handle on the domain `namespace`/`id` of `hosted`.
    pub fn new(hosted: Arc<HostedEngine>, namespace: &str, id: &str) -> Self {
        Domain {
            hosted,
            namespace: namespace.to_string(),
            id: id.to_string(),
        }
    }

    /// The facade's handle.
    pub fn get(&self) -> PyResult<tandem::api::Domain> {
        self.hosted
            .engine()
            .or_raise()?
            .domain(&self.namespace, &self.id)
            .or_raise()
    }

    /// Runs `f(domain)` on the calling thread with the GIL released.
    fn block<T: Send>(
        &self,
        py: Python<'_>,
        f: impl AsyncFnOnce(&tandem::api::Domain) -> tandem::api::Result<T> + Send,
    ) -> PyResult<T> {
        let d = self.get()?;
        py.detach(|| d.engine().block(f(&d))).or_raise()
    }

    /// Starts `f(domain)` on the engine and returns an asyncio future of its converted result.
    fn spawn<'py, T, F>(
        &self,
        py: Python<'py>,
        f: impl FnOnce(tandem::api::Domain) -> F,
        convert: impl for<'a> FnOnce(Python<'a>, T) -> PyResult<Bound<'a, PyAny>> + Send + 'static,
    ) -> PyResult<Bound<'py, PyAny>>
    where
        T: Send + 'static,
        F: Future<Output = tandem::api::Result<T>> + Send + 'static,
    {
        let d = self.get()?;
        let rt = d.engine().runtime().clone();
        awaitable(py, &rt, OnCancel::Finish, f(d), convert)
    }

    fn model_handle(&self, id: &str) -> Model {
        Model::new(self.clone(), id)
    }
}

#[pymethods]
impl Domain {
    /// The namespace.
    #[getter]
    fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The domain id.
    #[getter]
    fn id(&self) -> &str {
        &self.id
    }

    fn __repr__(&self) -> String {
        format!("Domain({:?}, {:?})", self.namespace, self.id)
    }

    /// The domain's settings as a dict.
    fn settings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        output(py, &self.get()?.settings().or_raise()?)
    }

    /// Replaces the domain's settings (missing fields take their defaults).
    fn set_settings(&self, py: Python<'_>, settings: &Bound<'_, PyAny>) -> PyResult<()> {
        let s: DomainSettings = input(settings, "domain settings", ErrorCode::InvalidArgument)?;
        self.block(py, async move |d| d.set_settings(s).await)
    }

    /// Awaitable [`Domain::set_settings`].
    fn set_settings_async<'py>(
        &self,
        py: Python<'py>,
        settings: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let s: DomainSettings = input(settings, "domain settings", ErrorCode::InvalidArgument)?;
        self.spawn(py, move |d| async move { d.set_settings(s).await }, none)
    }

    /// Allows or refuses anonymous logins.
    fn set_anonymous_auth(&self, py: Python<'_>, allowed: bool) -> PyResult<()> {
        self.block(py, async move |d| d.set_anonymous_auth(allowed).await)
    }

    /// Awaitable [`Domain::set_anonymous_auth`].
    fn set_anonymous_auth_async<'py>(
        &self,
        py: Python<'py>,
        allowed: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.spawn(
            py,
            move |d| async move { d.set_anonymous_auth(allowed).await },
            none,
        )
    }

    /// Creates a collection (no-op if it exists).
    fn create_collection(&self, py: Python<'_>, id: &str) -> PyResult<()> {
        self.block(py, async move |d| d.create_collection(id).await)
    }

    /// Awaitable [`Domain::create_collection`].
    fn create_collection_async<'py>(
        &self,
        py: Python<'py>,
        id: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.spawn(
            py,
            move |d| async move { d.create_collection(&id).await },
            none,
        )
    }

    /// Ids of the domain's collections.
    fn collections(&self) -> PyResult<Vec<String>> {
        self.get()?.collections().or_raise()
    }

    /// Deletes a collection and its models.
    fn delete_collection(&self, py: Python<'_>, id: &str) -> PyResult<()> {
        self.block(py, async move |d| d.delete_collection(id).await)
    }

    /// Awaitable [`Domain::delete_collection`].
    fn delete_collection_async<'py>(
        &self,
        py: Python<'py>,
        id: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.spawn(
            py,
            move |d| async move { d.delete_collection(&id).await },
            none,
        )
    }

    /// Creates a model from a dict in `collection`, with the given id or a new UUID.
    #[pyo3(signature = (collection, data, id=None))]
    fn create_model(
        &self,
        py: Python<'_>,
        collection: &str,
        data: &Bound<'_, PyAny>,
        id: Option<&str>,
    ) -> PyResult<Model> {
        let data = to_json(data)?;
        let m = self.block(py, async move |d| {
            d.create_model_json(collection, id, &data).await
        })?;
        Ok(self.model_handle(m.id()))
    }

    /// Awaitable [`Domain::create_model`].
    #[pyo3(signature = (collection, data, id=None))]
    fn create_model_async<'py>(
        &self,
        py: Python<'py>,
        collection: String,
        data: &Bound<'py, PyAny>,
        id: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let data = to_json(data)?;
        let this = self.clone();
        self.spawn(
            py,
            move |d| async move {
                let m = d
                    .create_model_json(&collection, id.as_deref(), &data)
                    .await?;
                Ok(m.id().to_string())
            },
            move |py, id| Ok(Bound::new(py, this.model_handle(&id))?.into_any()),
        )
    }

    /// Metadata of the domain's models, or of one collection's.
    #[pyo3(signature = (collection=None))]
    fn models<'py>(
        &self,
        py: Python<'py>,
        collection: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        outputs(py, &self.get()?.models(collection).or_raise()?)
    }

    /// A handle on an existing model (`NotFoundError` if there is none).
    fn model(&self, id: &str) -> PyResult<Model> {
        self.get()?.model(id).or_raise()?;
        Ok(self.model_handle(id))
    }

    /// Creates a normal user from a dict (`username`, optional `password`, `display_name`,
    /// `first_name`, `last_name`, `email`); returns the user.
    fn create_user<'py>(
        &self,
        py: Python<'py>,
        user: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let user: NewUser = input(user, "user", ErrorCode::InvalidArgument)?;
        output(
            py,
            &self.block(py, async move |d| d.create_user(user).await)?,
        )
    }

    /// Awaitable [`Domain::create_user`].
    fn create_user_async<'py>(
        &self,
        py: Python<'py>,
        user: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let user: NewUser = input(user, "user", ErrorCode::InvalidArgument)?;
        self.spawn(
            py,
            move |d| async move { d.create_user(user).await },
            |py, u| output(py, &u),
        )
    }

    /// Replaces a normal user's password.
    fn set_password(&self, py: Python<'_>, username: &str, password: &str) -> PyResult<()> {
        self.block(py, async move |d| d.set_password(username, password).await)
    }

    /// Awaitable [`Domain::set_password`].
    fn set_password_async<'py>(
        &self,
        py: Python<'py>,
        username: String,
        password: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.spawn(
            py,
            move |d| async move { d.set_password(&username, &password).await },
            none,
        )
    }

    /// The domain's normal users, ordered by username.
    fn users<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        outputs(py, &self.get()?.users().or_raise()?)
    }

    /// Deletes a normal user and revokes its reconnect tokens.
    fn delete_user(&self, py: Python<'_>, username: &str) -> PyResult<()> {
        self.block(py, async move |d| d.delete_user(username).await)
    }

    /// Awaitable [`Domain::delete_user`].
    fn delete_user_async<'py>(
        &self,
        py: Python<'py>,
        username: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.spawn(
            py,
            move |d| async move { d.delete_user(&username).await },
            none,
        )
    }

    /// Adds a key verifying JWT logins (`id`, `public_key_pem`, optional `description`,
    /// `enabled`); returns the stored key.
    fn add_jwt_key<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let key: JwtKey = input(key, "JWT key", ErrorCode::InvalidArgument)?;
        output(
            py,
            &self.block(py, async move |d| d.add_jwt_key(key).await)?,
        )
    }

    /// Awaitable [`Domain::add_jwt_key`].
    fn add_jwt_key_async<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let key: JwtKey = input(key, "JWT key", ErrorCode::InvalidArgument)?;
        self.spawn(
            py,
            move |d| async move { d.add_jwt_key(key).await },
            |py, k| output(py, &k),
        )
    }

    /// The domain's JWT keys, ordered by id.
    fn jwt_keys<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        outputs(py, &self.get()?.jwt_keys().or_raise()?)
    }

    /// Removes a JWT key.
    fn remove_jwt_key(&self, py: Python<'_>, id: &str) -> PyResult<()> {
        self.block(py, async move |d| d.remove_jwt_key(id).await)
    }

    /// Awaitable [`Domain::remove_jwt_key`].
    fn remove_jwt_key_async<'py>(
        &self,
        py: Python<'py>,
        id: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.spawn(
            py,
            move |d| async move { d.remove_jwt_key(&id).await },
            none,
        )
    }

    /// The events of this domain (its models' and its sessions').
    fn subscribe(&self) -> PyResult<Subscription> {
        let d = self.get()?;
        Ok(Subscription::new(
            d.subscribe(),
            d.engine().runtime().clone(),
        ))
    }
}
