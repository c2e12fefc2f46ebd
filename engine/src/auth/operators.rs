//! Operators of the server: administrators, who log in with a password (argon2) and get a
//! bearer token that expires, and API keys, each of which reaches one domain, read-only or
//! read-write. These are what the REST API and the admin console authenticate.
//!
//! An administrator's token is `ta1.<hex login name>.<expiry ms>.<HMAC-SHA256>`, signed with a
//! secret the engine draws when it starts (a restart logs everyone out) over the name, the
//! expiry and the time the administrator last changed, so a new password or a removal ends the
//! tokens issued before. An API key's token is `tk1.<id>.<secret>`; only the SHA-256 of the
//! secret is stored, and a key is looked up in the one domain a request names.

use std::net::IpAddr;

use hmac::{Hmac, Mac};
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

use super::{check_username, hash_password, verify_password, AuthError, AuthResult, AuthService};
use crate::store::{AdminRecord, ApiKeyRecord, DomainKey, WriteOp};

/// Longest password taken, in bytes (argon2 would take more; nobody types more).
const MAX_PASSWORD_BYTES: usize = 1024;
/// Longest API key name, in UTF-16 units.
const MAX_KEY_NAME: i64 = 200;

/// A server administrator as listed (never the password).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admin {
    /// Login name.
    pub username: String,
    /// Creation time (epoch ms).
    pub created_ms: i64,
    /// Time of the last change (epoch ms).
    pub updated_ms: i64,
}

impl From<&AdminRecord> for Admin {
    fn from(r: &AdminRecord) -> Self {
        Admin {
            username: r.username.clone(),
            created_ms: r.created_ms,
            updated_ms: r.updated_ms,
        }
    }
}

/// A logged-in administrator's bearer token.
#[derive(Clone, PartialEq, Eq)]
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

/// An API key as listed (never its secret).
#[derive(Clone, Debug, PartialEq, Eq)]
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

impl From<&ApiKeyRecord> for ApiKey {
    fn from(r: &ApiKeyRecord) -> Self {
        ApiKey {
            id: r.id.clone(),
            name: r.name.clone(),
            read_only: r.read_only,
            created_ms: r.created_ms,
        }
    }
}

/// A new API key: its listing, and its token, shown this once.
#[derive(Clone, PartialEq, Eq)]
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

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|p| u8::from_str_radix(p, 16).ok()))
        .collect()
}

/// `bytes` random bytes from the operating system, in hex.
pub(crate) fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buf);
    hex(&buf)
}

fn secret_hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

fn check_password(password: &str) -> AuthResult<()> {
    if password.is_empty() || password.len() > MAX_PASSWORD_BYTES {
        return Err(AuthError::Invalid(format!(
            "a password has 1 to {MAX_PASSWORD_BYTES} bytes"
        )));
    }
    Ok(())
}

impl AuthService {
    /// Adds a server administrator.
    pub async fn add_admin(&self, username: &str, password: &str) -> AuthResult<Admin> {
        check_username(username)?;
        check_password(password)?;
        let hash = hash_password(password.to_string()).await?;
        let _guard = self.lock.lock().await;
        if self.store.admin(username)?.is_some() {
            return Err(AuthError::AdminExists(username.to_string()));
        }
        let now = self.clock.now_ms();
        let record = AdminRecord {
            username: username.to_string(),
            password_hash: hash,
            created_ms: now,
            updated_ms: now,
        };
        let admin = Admin::from(&record);
        self.write(vec![WriteOp::PutAdmin(record)]).await?;
        Ok(admin)
    }

    /// Changes an administrator's password; tokens issued before stop working.
    pub async fn set_admin_password(&self, username: &str, password: &str) -> AuthResult<()> {
        check_password(password)?;
        let hash = hash_password(password.to_string()).await?;
        let _guard = self.lock.lock().await;
        let mut record = self
            .store
            .admin(username)?
            .ok_or_else(|| AuthError::AdminNotFound(username.to_string()))?;
        record.password_hash = hash;
        // Strictly later, so that tokens signed over the old time no longer verify.
        record.updated_ms = self.clock.now_ms().max(record.updated_ms + 1);
        self.write(vec![WriteOp::PutAdmin(record)]).await?;
        Ok(())
    }

    /// Removes an administrator; its tokens stop working.
    pub async fn remove_admin(&self, username: &str) -> AuthResult<()> {
        let _guard = self.lock.lock().await;
        if self.store.admin(username)?.is_none() {
            return Err(AuthError::AdminNotFound(username.to_string()));
        }
        let op = WriteOp::DeleteAdmin {
            username: username.to_string(),
        };
        self.write(vec![op]).await?;
        Ok(())
    }

    /// Every administrator, by login name.
    pub fn admins(&self) -> AuthResult<Vec<Admin>> {
        Ok(self.store.admins()?.iter().map(Admin::from).collect())
    }

    /// Logs an administrator in: a token valid for `auth.admin_token_minutes`. A wrong name
    /// and a wrong password fail alike, after the same work; after `auth.limits.failed_per_user`
    /// failures in a window the name is refused until the window ends, and likewise the
    /// client's `address` after `auth.limits.failed_per_address`.
    pub async fn admin_login(
        &self,
        username: &str,
        password: &str,
        address: Option<IpAddr>,
    ) -> AuthResult<AdminToken> {
        // Administrators are counted apart from every domain (no domain has an empty key).
        let server = DomainKey::new("", "");
        let now = self.clock.now_ms();
        self.throttle.check(&server, Some(username), address, now)?;
        let record = match check_username(username) {
            Ok(()) => self.store.admin(username)?,
            Err(_) => None,
        };
        let hash = record.as_ref().map(|r| r.password_hash.clone());
        let verified = verify_password(password.to_string(), hash).await?;
        let Some(record) = record.filter(|_| verified) else {
            self.throttle.failed(&server, Some(username), address, now);
            return Err(AuthError::AuthenticationFailed);
        };
        let minutes = i64::try_from(self.config.admin_token_minutes).unwrap_or(i64::MAX);
        let expires_ms = self
            .clock
            .now_ms()
            .saturating_add(minutes.saturating_mul(60_000));
        let name = hex(record.username.as_bytes());
        let mac = self.admin_mac(&record.username, expires_ms, record.updated_ms);
        Ok(AdminToken {
            token: format!("ta1.{name}.{expires_ms}.{mac}"),
            expires_ms,
        })
    }

    /// The administrator a token belongs to, if it is one this engine issued, unexpired, for
    /// an administrator unchanged since.
    pub fn verify_admin_token(&self, token: &str) -> AuthResult<Admin> {
        let fail = || AuthError::AuthenticationFailed;
        let mut parts = token.split('.');
        let (Some("ta1"), Some(name), Some(expiry), Some(mac), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(fail());
        };
        let username = unhex(name)
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(fail)?;
        let expires_ms: i64 = expiry.parse().map_err(|_| fail())?;
        if expires_ms <= self.clock.now_ms() || check_username(&username).is_err() {
            return Err(fail());
        }
        let record = self.store.admin(&username)?.ok_or_else(fail)?;
        let given = unhex(mac).ok_or_else(fail)?;
        let mut expected = self.mac();
        expected.update(&admin_message(&username, expires_ms, record.updated_ms));
        // Constant-time comparison.
        expected.verify_slice(&given).map_err(|_| fail())?;
        Ok(Admin::from(&record))
    }

    fn mac(&self) -> Hmac<Sha256> {
        match Hmac::<Sha256>::new_from_slice(&self.operator_secret[..]) {
            Ok(m) => m,
            // HMAC takes a key of any length.
            Err(_) => unreachable!("HMAC-SHA256 accepts every key length"),
        }
    }

    fn admin_mac(&self, username: &str, expires_ms: i64, updated_ms: i64) -> String {
        let mut mac = self.mac();
        mac.update(&admin_message(username, expires_ms, updated_ms));
        hex(&mac.finalize().into_bytes())
    }

    /// Creates an API key for `domain`; its token is in the answer and nowhere else.
    pub async fn create_api_key(
        &self,
        domain: &DomainKey,
        name: &str,
        read_only: bool,
    ) -> AuthResult<NewApiKey> {
        if crate::ot::utf16_len(name) > MAX_KEY_NAME {
            return Err(AuthError::Invalid(format!(
                "an API key's name has at most {MAX_KEY_NAME} characters"
            )));
        }
        if self.store.domain(domain)?.is_none() {
            return Err(AuthError::DomainNotFound(domain.to_string()));
        }
        let id = random_hex(8);
        let secret = random_hex(32);
        let record = ApiKeyRecord {
            domain: domain.clone(),
            id: id.clone(),
            name: name.to_string(),
            secret_hash: secret_hash(&secret),
            read_only,
            created_ms: self.clock.now_ms(),
        };
        let key = ApiKey::from(&record);
        self.write(vec![WriteOp::PutApiKey(record)]).await?;
        Ok(NewApiKey {
            key,
            token: format!("tk1.{id}.{secret}"),
        })
    }

    /// The API keys of `domain`, by id.
    pub fn api_keys(&self, domain: &DomainKey) -> AuthResult<Vec<ApiKey>> {
        Ok(self
            .store
            .api_keys(domain)?
            .iter()
            .map(ApiKey::from)
            .collect())
    }

    /// Revokes an API key of `domain`.
    pub async fn revoke_api_key(&self, domain: &DomainKey, id: &str) -> AuthResult<()> {
        let _guard = self.lock.lock().await;
        if self.store.api_key(domain, id)?.is_none() {
            return Err(AuthError::ApiKeyNotFound(id.to_string()));
        }
        let op = WriteOp::DeleteApiKey {
            domain: domain.clone(),
            id: id.to_string(),
        };
        self.write(vec![op]).await?;
        Ok(())
    }

    /// The key of `domain` a token is, if it is one (a key of another domain is not).
    pub fn verify_api_key(&self, domain: &DomainKey, token: &str) -> AuthResult<ApiKey> {
        let fail = || AuthError::AuthenticationFailed;
        let mut parts = token.split('.');
        let (Some("tk1"), Some(id), Some(secret), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(fail());
        };
        if id.len() != 16 || unhex(id).is_none() {
            return Err(fail());
        }
        let record = self.store.api_key(domain, id)?.ok_or_else(fail)?;
        // Both sides are digests: comparing them reveals nothing about the secret.
        if record.secret_hash != secret_hash(secret) {
            return Err(fail());
        }
        Ok(ApiKey::from(&record))
    }
}

/// What an administrator's token signs.
fn admin_message(username: &str, expires_ms: i64, updated_ms: i64) -> Vec<u8> {
    format!("admin\u{0}{username}\u{0}{expires_ms}\u{0}{updated_ms}").into_bytes()
}
