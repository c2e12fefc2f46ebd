//! Operators (the facade's `api/operators.rs`): the server's administrators on `NativeEngine`
//! (password logins that give an expiring token) and API keys on `NativeDomain` (each reaches
//! one domain, read-only or read-write). They cross as plain JS objects with the engine's field
//! names: `Admin` `{ username, created_ms, updated_ms }`, `AdminToken` `{ token, expires_ms }`,
//! `ApiKey` `{ id, name, read_only, created_ms }`, `NewApiKey` `{ key, token }`.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::{json, Value};
use tandem::api::{Admin, AdminToken, ApiKey, NewApiKey};

use crate::{settle, NativeDomain, NativeEngine};

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

#[napi]
impl NativeEngine {
    /// Adds a server administrator (the password is stored as an argon2 hash); resolves to the
    /// `Admin`.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn add_admin<'e>(
        &self,
        env: &'e Env,
        username: String,
        password: String,
    ) -> Result<PromiseRaw<'e, Value>> {
        let engine = self.engine();
        settle(env, async move {
            let e = engine?;
            let work = e.clone();
            let admin = e
                .spawn(async move { work.add_admin(&username, &password).await })
                .await?;
            Ok(admin_json(&admin))
        })
    }

    /// Changes an administrator's password; its earlier tokens stop working.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn set_admin_password<'e>(
        &self,
        env: &'e Env,
        username: String,
        password: String,
    ) -> Result<PromiseRaw<'e, ()>> {
        let engine = self.engine();
        settle(env, async move {
            let e = engine?;
            let work = e.clone();
            e.spawn(async move { work.set_admin_password(&username, &password).await })
                .await
        })
    }

    /// Removes an administrator; its tokens stop working.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn remove_admin<'e>(&self, env: &'e Env, username: String) -> Result<PromiseRaw<'e, ()>> {
        let engine = self.engine();
        settle(env, async move {
            let e = engine?;
            let work = e.clone();
            e.spawn(async move { work.remove_admin(&username).await })
                .await
        })
    }

    /// The server's administrators (`Admin[]`), by login name.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn admins<'e>(&self, env: &'e Env) -> Result<PromiseRaw<'e, Value>> {
        let engine = self.engine();
        settle(env, async move {
            let e = engine?;
            let work = e.clone();
            let admins = e.spawn(async move { work.admins() }).await?;
            Ok(Value::Array(admins.iter().map(admin_json).collect()))
        })
    }

    /// Logs an administrator in; resolves to an `AdminToken`. A wrong name or password alike
    /// rejects with `unauthenticated`.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn admin_login<'e>(
        &self,
        env: &'e Env,
        username: String,
        password: String,
    ) -> Result<PromiseRaw<'e, Value>> {
        let engine = self.engine();
        settle(env, async move {
            let e = engine?;
            let work = e.clone();
            let token = e
                .spawn(async move { work.admin_login(&username, &password).await })
                .await?;
            Ok(token_json(&token))
        })
    }

    /// The `Admin` whose token this is (`unauthenticated` for an expired, altered or foreign
    /// token, or one issued before the administrator changed).
    #[napi(ts_return_type = "Promise<any>")]
    pub fn verify_admin_token<'e>(
        &self,
        env: &'e Env,
        token: String,
    ) -> Result<PromiseRaw<'e, Value>> {
        let engine = self.engine();
        settle(env, async move {
            let e = engine?;
            let work = e.clone();
            let admin = e
                .spawn(async move { work.verify_admin_token(&token) })
                .await?;
            Ok(admin_json(&admin))
        })
    }
}

#[napi]
impl NativeDomain {
    /// Creates an API key for this domain; resolves to a `NewApiKey`, whose token is shown
    /// only there.
    #[napi]
    pub fn create_api_key<'e>(
        &self,
        env: &'e Env,
        name: String,
        read_only: bool,
    ) -> Result<PromiseRaw<'e, Value>> {
        settle(
            env,
            self.spawn(
                |d| async move { Ok(new_key_json(&d.create_api_key(&name, read_only).await?)) },
            ),
        )
    }

    /// This domain's API keys (`ApiKey[]`), by id (never their secrets).
    #[napi]
    pub fn api_keys<'e>(&self, env: &'e Env) -> Result<PromiseRaw<'e, Value>> {
        settle(
            env,
            self.spawn(|d| async move {
                Ok(Value::Array(d.api_keys()?.iter().map(key_json).collect()))
            }),
        )
    }

    /// Revokes one of this domain's API keys.
    #[napi]
    pub fn revoke_api_key<'e>(&self, env: &'e Env, id: String) -> Result<PromiseRaw<'e, ()>> {
        settle(
            env,
            self.spawn(|d| async move { d.revoke_api_key(&id).await }),
        )
    }

    /// The `ApiKey` of this domain a token is (`unauthenticated` otherwise, also for a key of
    /// another domain).
    #[napi]
    pub fn verify_api_key<'e>(&self, env: &'e Env, token: String) -> Result<PromiseRaw<'e, Value>> {
        settle(
            env,
            self.spawn(|d| async move { Ok(key_json(&d.verify_api_key(&token)?)) }),
        )
    }
}
