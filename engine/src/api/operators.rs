//! Operators: the server's administrators (password logins that give an expiring token) and
//! API keys (each reaches one domain, read-only or read-write), for the REST API, the admin
//! console and the server-host's CLI.

use super::{Domain, Engine, Result};
pub use crate::auth::{Admin, AdminToken, ApiKey, NewApiKey};

impl Engine {
    /// Adds a server administrator (the password is stored as an argon2 hash).
    pub async fn add_admin(&self, username: &str, password: &str) -> Result<Admin> {
        self.check()?;
        Ok(self.inner.auth.add_admin(username, password).await?)
    }

    /// Changes an administrator's password; its earlier tokens stop working.
    pub async fn set_admin_password(&self, username: &str, password: &str) -> Result<()> {
        self.check()?;
        Ok(self
            .inner
            .auth
            .set_admin_password(username, password)
            .await?)
    }

    /// Removes an administrator; its tokens stop working.
    pub async fn remove_admin(&self, username: &str) -> Result<()> {
        self.check()?;
        Ok(self.inner.auth.remove_admin(username).await?)
    }

    /// The server's administrators, by login name.
    pub fn admins(&self) -> Result<Vec<Admin>> {
        self.check()?;
        Ok(self.inner.auth.admins()?)
    }

    /// Logs an administrator in; fails with `Unauthenticated` for a wrong name or password
    /// alike.
    pub async fn admin_login(&self, username: &str, password: &str) -> Result<AdminToken> {
        self.admin_login_from(username, password, None).await
    }

    /// [`Engine::admin_login`] from a client at `address`: failures are also counted per
    /// address (`auth.limits.failed_per_address`).
    pub async fn admin_login_from(
        &self,
        username: &str,
        password: &str,
        address: Option<std::net::IpAddr>,
    ) -> Result<AdminToken> {
        self.check()?;
        Ok(self
            .inner
            .auth
            .admin_login(username, password, address)
            .await?)
    }

    /// The administrator whose token this is (`Unauthenticated` for an expired, altered or
    /// foreign token, or one issued before the administrator changed).
    pub fn verify_admin_token(&self, token: &str) -> Result<Admin> {
        self.check()?;
        Ok(self.inner.auth.verify_admin_token(token)?)
    }
}

impl Domain {
    /// Creates an API key for this domain; the token in the answer is shown only there.
    pub async fn create_api_key(&self, name: &str, read_only: bool) -> Result<NewApiKey> {
        self.engine.check()?;
        let auth = &self.engine.inner.auth;
        Ok(auth.create_api_key(&self.key, name, read_only).await?)
    }

    /// This domain's API keys, by id (never their secrets).
    pub fn api_keys(&self) -> Result<Vec<ApiKey>> {
        self.engine.check()?;
        Ok(self.engine.inner.auth.api_keys(&self.key)?)
    }

    /// Revokes one of this domain's API keys.
    pub async fn revoke_api_key(&self, id: &str) -> Result<()> {
        self.engine.check()?;
        Ok(self.engine.inner.auth.revoke_api_key(&self.key, id).await?)
    }

    /// The key of this domain a token is (`Unauthenticated` otherwise, also for a key of
    /// another domain).
    pub fn verify_api_key(&self, token: &str) -> Result<ApiKey> {
        self.engine.check()?;
        Ok(self.engine.inner.auth.verify_api_key(&self.key, token)?)
    }
}
