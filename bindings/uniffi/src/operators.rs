//! Operators (the facade's `api/operators.rs`): the server's administrators on [`Engine`]
//! (password logins that give an expiring token) and API keys on [`Domain`] (each reaches one
//! domain, read-only or read-write).

use tandem::api;

use crate::{run, Domain, Engine, Result};

/// A server administrator as listed (never the password).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Admin {
    /// Login name.
    pub username: String,
    /// Creation time (epoch ms).
    pub created_ms: i64,
    /// Time of the last change (epoch ms).
    pub updated_ms: i64,
}

impl From<api::Admin> for Admin {
    fn from(a: api::Admin) -> Self {
        Admin {
            username: a.username,
            created_ms: a.created_ms,
            updated_ms: a.updated_ms,
        }
    }
}

/// A logged-in administrator's bearer token.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct AdminToken {
    /// The token for the `Authorization: Bearer` header.
    pub token: String,
    /// When it stops being accepted (epoch ms).
    pub expires_ms: i64,
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminToken")
            .field("expires_ms", &self.expires_ms)
            .finish_non_exhaustive()
    }
}

impl From<api::AdminToken> for AdminToken {
    fn from(t: api::AdminToken) -> Self {
        AdminToken {
            token: t.token,
            expires_ms: t.expires_ms,
        }
    }
}

/// An API key as listed (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ApiKey {
    /// Its id (the public part of its token).
    pub id: String,
    /// What the operator called it.
    pub name: String,
    /// Read-only keys may not change anything.
    pub read_only: bool,
    /// Creation time (epoch ms).
    pub created_ms: i64,
}

impl From<api::ApiKey> for ApiKey {
    fn from(k: api::ApiKey) -> Self {
        ApiKey {
            id: k.id,
            name: k.name,
            read_only: k.read_only,
            created_ms: k.created_ms,
        }
    }
}

/// A new API key: its listing, and its token, shown this once.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct NewApiKey {
    /// The key as listed.
    pub key: ApiKey,
    /// The token for the `Authorization: Bearer` header.
    pub token: String,
}

impl std::fmt::Debug for NewApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewApiKey")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl From<api::NewApiKey> for NewApiKey {
    fn from(k: api::NewApiKey) -> Self {
        NewApiKey {
            key: k.key.into(),
            token: k.token,
        }
    }
}

#[uniffi::export]
impl Engine {
    /// Adds a server administrator (the password is stored as an argon2 hash).
    /// `AlreadyExists` if there is one of that name.
    pub async fn add_admin(&self, username: String, password: String) -> Result<Admin> {
        let e = self.core()?;
        let c = e.clone();
        let admin = run(&e, async move { c.add_admin(&username, &password).await });
        Ok(admin.await?.into())
    }

    /// Changes an administrator's password; its earlier tokens stop working.
    pub async fn set_admin_password(&self, username: String, password: String) -> Result<()> {
        let e = self.core()?;
        let c = e.clone();
        run(&e, async move {
            c.set_admin_password(&username, &password).await
        })
        .await
    }

    /// Removes an administrator; its tokens stop working.
    pub async fn remove_admin(&self, username: String) -> Result<()> {
        let e = self.core()?;
        let c = e.clone();
        run(&e, async move { c.remove_admin(&username).await }).await
    }

    /// The server's administrators, by login name.
    pub fn admins(&self) -> Result<Vec<Admin>> {
        let list = self.core()?.admins()?;
        Ok(list.into_iter().map(Admin::from).collect())
    }

    /// Logs an administrator in; a wrong name or password alike is `Unauthenticated`.
    pub async fn admin_login(&self, username: String, password: String) -> Result<AdminToken> {
        let e = self.core()?;
        let c = e.clone();
        let token = run(&e, async move { c.admin_login(&username, &password).await });
        Ok(token.await?.into())
    }

    /// The administrator whose token this is (`Unauthenticated` for an expired, altered or
    /// foreign token, or one issued before the administrator changed).
    pub fn verify_admin_token(&self, token: String) -> Result<Admin> {
        Ok(self.core()?.verify_admin_token(&token)?.into())
    }
}

#[uniffi::export]
impl Domain {
    /// Creates an API key for this domain; the token in the answer is shown only there.
    #[uniffi::method(default(read_only = false))]
    pub async fn create_api_key(&self, name: String, read_only: bool) -> Result<NewApiKey> {
        let d = self.inner.clone();
        let e = d.engine().clone();
        let key = run(&e, async move { d.create_api_key(&name, read_only).await });
        Ok(key.await?.into())
    }

    /// This domain's API keys, by id (never their secrets).
    pub fn api_keys(&self) -> Result<Vec<ApiKey>> {
        let keys = self.inner.api_keys()?;
        Ok(keys.into_iter().map(ApiKey::from).collect())
    }

    /// Revokes one of this domain's API keys (`NotFound` if it has none of that id).
    pub async fn revoke_api_key(&self, id: String) -> Result<()> {
        let d = self.inner.clone();
        let e = d.engine().clone();
        run(&e, async move { d.revoke_api_key(&id).await }).await
    }

    /// The key of this domain a token is (`Unauthenticated` otherwise, also for a key of
    /// another domain).
    pub fn verify_api_key(&self, token: String) -> Result<ApiKey> {
        Ok(self.inner.verify_api_key(&token)?.into())
    }
}
