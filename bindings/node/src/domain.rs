//! `NativeDomain`: a handle on one domain.

use std::future::Future;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::Value;
use tandem::api::{
    parse_json, Domain, DomainSettings, Error as CoreError, ErrorCode, JwtKey, NewUser, Pending,
    UserId,
};

use crate::{input, output, settle, NativeModel, NativeSubscription};

/// A handle on one domain.
#[napi]
pub struct NativeDomain {
    inner: Domain,
}

impl From<Domain> for NativeDomain {
    fn from(inner: Domain) -> Self {
        NativeDomain { inner }
    }
}

impl NativeDomain {
    /// Runs `work` with the domain on the engine's runtime.
    pub(crate) fn spawn<T, F>(&self, work: impl FnOnce(Domain) -> F) -> Pending<T>
    where
        T: Send + 'static,
        F: Future<Output = tandem::api::Result<T>> + Send + 'static,
    {
        self.inner.engine().spawn(work(self.inner.clone()))
    }
}

#[napi]
impl NativeDomain {
    /// The namespace.
    #[napi(getter)]
    pub fn namespace(&self) -> String {
        self.inner.namespace().to_string()
    }

    /// The domain id.
    #[napi(getter)]
    pub fn id(&self) -> String {
        self.inner.id().to_string()
    }

    /// The domain's settings (`DomainSettings`).
    #[napi]
    pub fn settings<'e>(&self, env: &'e Env) -> Result<PromiseRaw<'e, Value>> {
        settle(env, self.spawn(|d| async move { output(&d.settings()?) }))
    }

    /// Replaces the domain's settings.
    #[napi]
    pub fn set_settings<'e>(&self, env: &'e Env, settings: Value) -> Result<PromiseRaw<'e, ()>> {
        settle(
            env,
            self.spawn(|d| async move {
                let settings: DomainSettings = input(Some(settings), "domain settings")?;
                d.set_settings(settings).await
            }),
        )
    }

    /// Allows or refuses anonymous logins.
    #[napi]
    pub fn set_anonymous_auth<'e>(
        &self,
        env: &'e Env,
        allowed: bool,
    ) -> Result<PromiseRaw<'e, ()>> {
        settle(
            env,
            self.spawn(|d| async move { d.set_anonymous_auth(allowed).await }),
        )
    }

    /// Creates a collection (no-op if it exists).
    #[napi]
    pub fn create_collection<'e>(&self, env: &'e Env, id: String) -> Result<PromiseRaw<'e, ()>> {
        settle(
            env,
            self.spawn(|d| async move { d.create_collection(&id).await }),
        )
    }

    /// Ids of the domain's collections.
    #[napi]
    pub fn collections<'e>(&self, env: &'e Env) -> Result<PromiseRaw<'e, Vec<String>>> {
        settle(env, self.spawn(|d| async move { d.collections() }))
    }

    /// Deletes a collection and its models.
    #[napi]
    pub fn delete_collection<'e>(&self, env: &'e Env, id: String) -> Result<PromiseRaw<'e, ()>> {
        settle(
            env,
            self.spawn(|d| async move { d.delete_collection(&id).await }),
        )
    }

    /// Creates a model from JSON text (an object) in `collection`, with `id` or a new UUID.
    #[napi]
    pub fn create_model<'e>(
        &self,
        env: &'e Env,
        collection: String,
        data_json: String,
        id: Option<String>,
    ) -> Result<PromiseRaw<'e, NativeModel>> {
        settle(
            env,
            self.spawn(|d| async move {
                let data = parse_json(&data_json).map_err(|e| {
                    CoreError::new(ErrorCode::InvalidArgument, format!("data is not JSON: {e}"))
                })?;
                let m = d
                    .create_model_json(&collection, id.as_deref(), &data)
                    .await?;
                Ok(NativeModel::from(m))
            }),
        )
    }

    /// Metadata (`ModelInfo`) of the domain's models, or of one collection's.
    #[napi]
    pub fn models<'e>(
        &self,
        env: &'e Env,
        collection: Option<String>,
    ) -> Result<PromiseRaw<'e, Value>> {
        settle(
            env,
            self.spawn(|d| async move { output(&d.models(collection.as_deref())?) }),
        )
    }

    /// Runs a model query (`SELECT … FROM …`); resolves to a `QueryPage`. With a user
    /// (`UserId`), only the models it may read count.
    #[napi]
    pub fn query<'e>(
        &self,
        env: &'e Env,
        query: String,
        user: Option<Value>,
    ) -> Result<PromiseRaw<'e, Value>> {
        settle(
            env,
            self.spawn(|d| async move {
                let page = match user {
                    Some(Value::Null) | None => d.query(&query)?,
                    Some(u) => d.query_as(&input::<UserId>(Some(u), "user id")?, &query)?,
                };
                output(&page)
            }),
        )
    }

    /// A handle on an existing model.
    #[napi]
    pub fn model<'e>(&self, env: &'e Env, id: String) -> Result<PromiseRaw<'e, NativeModel>> {
        settle(
            env,
            self.spawn(|d| async move { d.model(&id).map(NativeModel::from) }),
        )
    }

    /// Creates a normal user (`NewUser`); resolves to the `User`.
    #[napi]
    pub fn create_user<'e>(&self, env: &'e Env, user: Value) -> Result<PromiseRaw<'e, Value>> {
        settle(
            env,
            self.spawn(|d| async move {
                let user: NewUser = input(Some(user), "user")?;
                output(&d.create_user(user).await?)
            }),
        )
    }

    /// The domain's normal users (`User`), ordered by username.
    #[napi]
    pub fn users<'e>(&self, env: &'e Env) -> Result<PromiseRaw<'e, Value>> {
        settle(env, self.spawn(|d| async move { output(&d.users()?) }))
    }

    /// Replaces a normal user's password.
    #[napi]
    pub fn set_password<'e>(
        &self,
        env: &'e Env,
        username: String,
        password: String,
    ) -> Result<PromiseRaw<'e, ()>> {
        settle(
            env,
            self.spawn(|d| async move { d.set_password(&username, &password).await }),
        )
    }

    /// Deletes a normal user.
    #[napi]
    pub fn delete_user<'e>(&self, env: &'e Env, username: String) -> Result<PromiseRaw<'e, ()>> {
        settle(
            env,
            self.spawn(|d| async move { d.delete_user(&username).await }),
        )
    }

    /// Adds a JWT verification key (`JwtKey`); resolves to the stored key.
    #[napi]
    pub fn add_jwt_key<'e>(&self, env: &'e Env, key: Value) -> Result<PromiseRaw<'e, Value>> {
        settle(
            env,
            self.spawn(|d| async move {
                let key: JwtKey = input(Some(key), "JWT key")?;
                output(&d.add_jwt_key(key).await?)
            }),
        )
    }

    /// The domain's JWT keys, ordered by id.
    #[napi]
    pub fn jwt_keys<'e>(&self, env: &'e Env) -> Result<PromiseRaw<'e, Value>> {
        settle(env, self.spawn(|d| async move { output(&d.jwt_keys()?) }))
    }

    /// Removes a JWT key.
    #[napi]
    pub fn remove_jwt_key<'e>(&self, env: &'e Env, id: String) -> Result<PromiseRaw<'e, ()>> {
        settle(
            env,
            self.spawn(|d| async move { d.remove_jwt_key(&id).await }),
        )
    }

    /// The events of this domain.
    #[napi]
    pub fn subscribe(&self) -> NativeSubscription {
        NativeSubscription::from(self.inner.subscribe())
    }
}
