//! The auth service: realtime authentication (password, JWT, anonymous, reconnect token) and
//! the management of a domain's users and JWT keys.
//!
//! Behaviour follows the original server (`convergence-server.md` §1.4) with two of its bugs
//! fixed: reconnect tokens log in users of every type (not only convergence users), and their
//! lifetime is [`AuthConfig::reconnect_token_minutes`] instead of a hard-coded 24 hours.
//!
//! Every failure to prove an identity — unknown user, wrong password, disabled user, bad JWT
//! signature, unknown or disabled key, expired token, ... — is the same
//! [`AuthError::AuthenticationFailed`], so a client cannot tell which part was wrong. The
//! reason is logged at debug level.
//!
//! Writes that read a user before replacing it are serialised by one lock per service, so two
//! concurrent logins or edits of the same user never lose each other's changes. Password
//! hashing runs on tokio's blocking pool, outside that lock.

use std::net::IpAddr;
use std::sync::{Arc, LazyLock};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rand_core::OsRng;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use thiserror::Error;
use tokio::sync::Mutex;

use crate::ident::{self, IdKind};

mod admin_key;
mod groups;
mod operators;
mod throttle;
use crate::sources::{Clock, IdSource};
use crate::store::{
    DomainKey, DomainRecord, DomainState, JwtKeyRecord, ReconnectTokenRecord, Store, StoreError,
    UserRecord, UserType, WriteOp,
};
pub use admin_key::ADMIN_KEY_ID;
pub use groups::{UserField, UserSearch};
pub(crate) use operators::{hex, random_hex};
pub use operators::{Admin, AdminToken, ApiKey, NewApiKey};
use throttle::LoginThrottle;
pub use throttle::{LoginLimits, Throttled};

/// The audience every domain JWT must name.
pub const JWT_AUDIENCE: &str = "Convergence";

/// Length of a reconnect token.
pub const RECONNECT_TOKEN_LEN: usize = 32;

/// How many fresh ids are tried before giving up on finding an unused token or username.
const FRESH_ID_ATTEMPTS: usize = 8;

/// Auth settings (the `auth` section of the engine configuration).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Lifetime of a reconnect token, in minutes; every use extends it by this much again.
    pub reconnect_token_minutes: u64,
    /// Clock skew allowed when checking a JWT's `exp` and `nbf`, in seconds.
    pub jwt_leeway_secs: u64,
    /// Limits on failed and anonymous logins.
    pub limits: LoginLimits,
    /// Lifetime of a server administrator's login token, in minutes.
    pub admin_token_minutes: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            reconnect_token_minutes: 1440,
            jwt_leeway_secs: 30,
            limits: LoginLimits::default(),
            admin_token_minutes: 60,
        }
    }
}

impl AuthConfig {
    /// The reconnect-token lifetime in milliseconds.
    pub fn reconnect_token_ms(&self) -> i64 {
        i64::try_from(self.reconnect_token_minutes.saturating_mul(60_000)).unwrap_or(i64::MAX)
    }
}

/// What a client offers to prove who it is.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// A normal user's username and password.
    Password {
        /// Username (case-sensitive).
        username: String,
        /// Clear password.
        password: String,
    },
    /// A compact JWS signed with one of the domain's JWT keys.
    Jwt(String),
    /// A new anonymous user (only where the domain allows it).
    Anonymous {
        /// The display name to give the new user.
        display_name: Option<String>,
    },
    /// A reconnect token issued by an earlier login.
    Reconnect(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Password { username, .. } => f
                .debug_struct("Password")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
            Credentials::Jwt(_) => f.write_str("Jwt(<redacted>)"),
            Credentials::Anonymous { display_name } => f
                .debug_struct("Anonymous")
                .field("display_name", display_name)
                .finish(),
            Credentials::Reconnect(_) => f.write_str("Reconnect(<redacted>)"),
        }
    }
}

/// How a login was authenticated (recorded with the session).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuthMethod {
    /// Username and password.
    Password,
    /// A JWT.
    Jwt,
    /// A new anonymous user.
    Anonymous,
    /// A reconnect token.
    Reconnect,
}

impl AuthMethod {
    /// The original server's name for the method (`password`, `jwt`, `anonymous`, `reconnect`).
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::Password => "password",
            AuthMethod::Jwt => "jwt",
            AuthMethod::Anonymous => "anonymous",
            AuthMethod::Reconnect => "reconnect",
        }
    }
}

/// A successful login.
#[derive(Clone, PartialEq, Eq)]
pub struct Authenticated {
    /// The user, as stored after the login.
    pub user: UserRecord,
    /// How it was authenticated.
    pub method: AuthMethod,
    /// The reconnect token to hand to the client (the same one for a reconnect login).
    pub reconnect_token: String,
    /// For a reconnect login: the earlier sessions that logged in with the same token, oldest
    /// first (the client's previous connections; at most [`TOKEN_SESSIONS_KEPT`]).
    pub earlier_sessions: Vec<String>,
}

impl std::fmt::Debug for Authenticated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticated")
            .field("user", &self.user)
            .field("method", &self.method)
            .field("reconnect_token", &"<redacted>")
            .field("earlier_sessions", &self.earlier_sessions)
            .finish()
    }
}

/// How many of the sessions that logged in with one reconnect token are remembered.
pub const TOKEN_SESSIONS_KEPT: usize = 16;

/// A normal user to create. As input only `username` is required.
#[derive(Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewUser {
    /// Username (non-empty, case-sensitive, unique among the domain's normal users).
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// E-mail address.
    pub email: String,
    /// Clear password (at least one character), or `None` for a user who cannot log in with
    /// a password.
    pub password: Option<String>,
}

/// A change to a user's profile; absent fields stay as they are.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UserProfile {
    /// New display name.
    pub display_name: Option<String>,
    /// New first name.
    pub first_name: Option<String>,
    /// New last name.
    pub last_name: Option<String>,
    /// New e-mail address.
    pub email: Option<String>,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("username", &self.username)
            .field("display_name", &self.display_name)
            .field("first_name", &self.first_name)
            .field("last_name", &self.last_name)
            .field("email", &self.email)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Errors of the auth service.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum AuthError {
    /// The credentials do not prove an identity (which part was wrong is not revealed).
    #[error("authentication failed")]
    AuthenticationFailed,
    /// Anonymous login is not allowed in this domain.
    #[error("anonymous authentication is disabled for this domain")]
    AnonymousAuthDisabled,
    /// The request carries no usable authentication method.
    #[error("invalid authentication method: {0}")]
    InvalidAuthMethod(String),
    /// No domain with this key (or an offline one).
    #[error("domain {0} not found")]
    DomainNotFound(String),
    /// The domain is in maintenance: only admin logins are taken.
    #[error("domain {0} is in maintenance")]
    DomainUnavailable(String),
    /// No group with this id.
    #[error("group {0:?} not found")]
    GroupNotFound(String),
    /// A group with this id exists already.
    #[error("group {0:?} already exists")]
    GroupExists(String),
    /// No such user.
    #[error("user {0:?} not found")]
    UserNotFound(String),
    /// A user with this username exists already.
    #[error("user {0:?} already exists")]
    UserExists(String),
    /// No JWT key with this id.
    #[error("JWT key {0:?} not found")]
    KeyNotFound(String),
    /// A JWT key with this id exists already.
    #[error("JWT key {0:?} already exists")]
    KeyExists(String),
    /// No server administrator with this name.
    #[error("administrator {0:?} not found")]
    AdminNotFound(String),
    /// A server administrator with this name exists already.
    #[error("administrator {0:?} already exists")]
    AdminExists(String),
    /// No API key with this id in the domain.
    #[error("API key {0:?} not found")]
    ApiKeyNotFound(String),
    /// The JWT key given is not a usable RSA public key.
    #[error("invalid JWT key: {0}")]
    InvalidKey(String),
    /// An argument is malformed (empty username or password, ...).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// Something failed inside the service (password hashing, ...).
    #[error("internal error: {0}")]
    Internal(String),
    /// Storage failed; nothing of the failed write happened.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// Too many failed logins for the user or from the address.
    #[error("too many failed logins; try again in {retry_after_secs} s")]
    TooManyFailures {
        /// Seconds until logins are taken again.
        retry_after_secs: u64,
    },
    /// Too many anonymous logins from the address.
    #[error("too many anonymous logins from this address; try again in {retry_after_secs} s")]
    TooManyAnonymous {
        /// Seconds until anonymous logins are taken again.
        retry_after_secs: u64,
    },
}

impl From<Throttled> for AuthError {
    fn from(t: Throttled) -> Self {
        match t {
            Throttled::Failures { retry_after_secs } => {
                AuthError::TooManyFailures { retry_after_secs }
            }
            Throttled::Anonymous { retry_after_secs } => {
                AuthError::TooManyAnonymous { retry_after_secs }
            }
        }
    }
}

impl AuthError {
    /// The failure code of the protocol's `ConnectionFailureData` for this error.
    pub fn wire_code(&self) -> &'static str {
        match self {
            AuthError::AuthenticationFailed => "authentication_failed",
            AuthError::AnonymousAuthDisabled => "anonymous_auth_disabled",
            AuthError::InvalidAuthMethod(_) => "invalid_auth_method",
            AuthError::DomainNotFound(_) => "domain_not_found",
            AuthError::DomainUnavailable(_) => "domain_unavailable",
            AuthError::UserNotFound(_)
            | AuthError::UserExists(_)
            | AuthError::KeyNotFound(_)
            | AuthError::KeyExists(_)
            | AuthError::AdminNotFound(_)
            | AuthError::AdminExists(_)
            | AuthError::ApiKeyNotFound(_)
            | AuthError::GroupNotFound(_)
            | AuthError::GroupExists(_)
            | AuthError::InvalidKey(_)
            | AuthError::Invalid(_) => "authentication_error",
            AuthError::Internal(_) | AuthError::Store(_) => "server_error",
            AuthError::TooManyFailures { .. } => "too_many_login_attempts",
            AuthError::TooManyAnonymous { .. } => "too_many_anonymous_logins",
        }
    }

    /// The `retryOk` hint sent with the failure: true only for failures that may pass on a
    /// later attempt with the same credentials (storage trouble, the engine shutting down).
    pub fn retry_ok(&self) -> bool {
        matches!(
            self,
            AuthError::Store(StoreError::Io(_) | StoreError::Closed)
        )
    }
}

/// Result of an auth-service call.
pub type AuthResult<T> = Result<T, AuthError>;

/// A PHC hash of a fixed password, verified against when the user has no usable hash so that
/// unknown users cost as much time as known ones.
static DUMMY_HASH: LazyLock<Option<String>> = LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(b"tandem-dummy-password", &salt)
        .ok()
        .map(|h| h.to_string())
});

/// Hashes a password into an argon2id PHC string with a fresh random salt.
async fn hash_password(password: String) -> AuthResult<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AuthError::Internal(format!("password hashing: {e}")))
    })
    .await
    .map_err(|e| AuthError::Internal(format!("password hashing task: {e}")))?
}

/// Whether `password` matches `hash` (always false, after the same work, without a hash).
async fn verify_password(password: String, hash: Option<String>) -> AuthResult<bool> {
    tokio::task::spawn_blocking(move || {
        let Some(target) = hash.as_deref().or(DUMMY_HASH.as_deref()) else {
            return false;
        };
        let Ok(parsed) = PasswordHash::new(target) else {
            tracing::warn!("a stored password hash is not a valid PHC string");
            return false;
        };
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        ok && hash.is_some()
    })
    .await
    .map_err(|e| AuthError::Internal(format!("password check task: {e}")))
}

/// Parses a PEM RSA public key (SubjectPublicKeyInfo, or PKCS#1 `RSA PUBLIC KEY`).
fn parse_rsa_public_key(pem: &str) -> AuthResult<()> {
    use rsa::pkcs1::DecodeRsaPublicKey;
    use rsa::pkcs8::DecodePublicKey;
    let pem = pem.trim();
    let parsed = rsa::RsaPublicKey::from_public_key_pem(pem)
        .map(|_| ())
        .or_else(|_| rsa::RsaPublicKey::from_pkcs1_pem(pem).map(|_| ()));
    if parsed.is_err() {
        return Err(AuthError::InvalidKey(
            "public_key_pem must be an RSA public key in PEM (-----BEGIN PUBLIC KEY-----, \
             X.509 SubjectPublicKeyInfo)"
                .into(),
        ));
    }
    DecodingKey::from_rsa_pem(pem.as_bytes())
        .map(|_| ())
        .map_err(|e| AuthError::InvalidKey(format!("the key cannot verify RS256 tokens: {e}")))
}

/// A JWT `NumericDate` as whole seconds.
fn numeric_date(v: &Json) -> Option<i64> {
    v.as_i64().or_else(|| {
        v.as_f64()
            .filter(|f| f.is_finite())
            .map(|f| f.floor() as i64)
    })
}

/// The verified claims of a domain JWT that the service uses.
pub(crate) struct JwtClaims {
    /// The subject: the username.
    pub(crate) sub: String,
    first_name: Option<String>,
    last_name: Option<String>,
    display_name: Option<String>,
    email: Option<String>,
    /// The `groups` claim: the user's exact group memberships (unknown ids are ignored).
    groups: Option<Vec<String>>,
}

impl JwtClaims {
    fn from_map(claims: &Map<String, Json>) -> Option<JwtClaims> {
        let text = |k: &str| claims.get(k).and_then(Json::as_str).map(str::to_string);
        Some(JwtClaims {
            sub: text("sub").filter(|s| !s.is_empty())?,
            first_name: text("firstName"),
            last_name: text("lastName"),
            display_name: text("displayName"),
            email: text("email"),
            groups: claims.get("groups").and_then(Json::as_array).map(|a| {
                a.iter()
                    .filter_map(Json::as_str)
                    .map(str::to_string)
                    .collect()
            }),
        })
    }

    /// Writes the claims present into `user`'s profile.
    fn apply(&self, user: &mut UserRecord) {
        let fields = [
            (&self.first_name, &mut user.first_name),
            (&self.last_name, &mut user.last_name),
            (&self.display_name, &mut user.display_name),
            (&self.email, &mut user.email),
        ];
        for (claim, field) in fields {
            if let Some(v) = claim {
                field.clone_from(v);
            }
        }
    }
}

fn failed(why: &str) -> AuthError {
    tracing::debug!("authentication failed: {why}");
    AuthError::AuthenticationFailed
}

fn check_username(username: &str) -> AuthResult<()> {
    ident::check(IdKind::User, username).map_err(|e| AuthError::Invalid(e.to_string()))
}

fn check_password(password: &str) -> AuthResult<()> {
    if password.is_empty() {
        return Err(AuthError::Invalid(
            "the password must have at least one character".into(),
        ));
    }
    Ok(())
}

/// Authenticates clients and manages a domain's users and JWT keys.
#[derive(Clone)]
pub struct AuthService {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
    config: AuthConfig,
    /// Serialises read-modify-write sequences on users, keys and tokens.
    lock: Arc<Mutex<()>>,
    throttle: Arc<LoginThrottle>,
    /// Signs administrators' tokens; drawn at start, so a restart ends every login.
    operator_secret: Arc<[u8; 32]>,
}

impl AuthService {
    /// A service over `store`, with time and ids from `clock` and `ids`.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdSource>,
        config: AuthConfig,
    ) -> Self {
        AuthService {
            store,
            clock,
            ids,
            throttle: Arc::new(LoginThrottle::new(config.limits.clone())),
            config,
            lock: Arc::new(Mutex::new(())),
            operator_secret: Arc::new({
                let mut secret = [0u8; 32];
                rand_core::RngCore::fill_bytes(&mut OsRng, &mut secret);
                secret
            }),
        }
    }

    /// The settings the service runs with.
    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    async fn write(&self, batch: Vec<WriteOp>) -> AuthResult<()> {
        self.store.commit(batch).await.map_err(AuthError::Store)
    }

    fn domain(&self, key: &DomainKey) -> AuthResult<DomainRecord> {
        self.store
            .domain(key)?
            .ok_or_else(|| AuthError::DomainNotFound(key.to_string()))
    }

    /// `count` alphanumeric characters from the id source.
    fn random_alphanumeric(&self, count: usize) -> AuthResult<String> {
        let mut out = String::with_capacity(count);
        // Each UUID gives 32 hex digits (122 random bits for a random UUID).
        for _ in 0..count.div_ceil(16) + 4 {
            out.extend(self.ids.uuid().chars().filter(char::is_ascii_alphanumeric));
            if out.len() >= count {
                out.truncate(count);
                return Ok(out);
            }
        }
        Err(AuthError::Internal(
            "the id source yields too few alphanumeric characters".into(),
        ))
    }

    /// A reconnect token not in use in `domain`.
    fn fresh_token(&self, domain: &DomainKey) -> AuthResult<String> {
        for _ in 0..FRESH_ID_ATTEMPTS {
            let token = self.random_alphanumeric(RECONNECT_TOKEN_LEN)?;
            if self.store.reconnect_token(domain, &token)?.is_none() {
                return Ok(token);
            }
        }
        Err(AuthError::Internal(
            "could not find an unused reconnect token".into(),
        ))
    }

    /// Records a login of `user` (lock held by the caller): sets its last-login time, issues
    /// a reconnect token and writes both.
    async fn complete_login(
        &self,
        domain: &DomainKey,
        mut user: UserRecord,
        method: AuthMethod,
        now: i64,
        session: &str,
    ) -> AuthResult<Authenticated> {
        user.last_login_ms = now;
        let token = self.fresh_token(domain)?;
        let record = ReconnectTokenRecord {
            token: token.clone(),
            user_type: user.user_type,
            username: user.username.clone(),
            expires_ms: now.saturating_add(self.token_lifetime_ms(domain)),
            sessions: vec![session.to_string()],
        };
        self.write(vec![
            WriteOp::PutUser {
                domain: domain.clone(),
                record: user.clone(),
            },
            WriteOp::PutReconnectToken {
                domain: domain.clone(),
                record,
            },
        ])
        .await?;
        Ok(Authenticated {
            user,
            method,
            reconnect_token: token,
            earlier_sessions: Vec::new(),
        })
    }

    /// Authenticates a client connecting to `domain`.
    ///
    /// Every successful login other than by reconnect token updates the user's last-login
    /// time and issues a new reconnect token valid for the configured lifetime; a reconnect
    /// login extends its token by that lifetime and returns it again. `session` is the id of
    /// the session being opened; the token remembers the sessions that used it, so that a
    /// reconnecting client's earlier connections are known ([`Authenticated::earlier_sessions`]).
    pub async fn authenticate(
        &self,
        domain: &DomainKey,
        credentials: Credentials,
        session: &str,
    ) -> AuthResult<Authenticated> {
        self.authenticate_from(domain, credentials, session, None)
            .await
    }

    /// [`AuthService::authenticate`] for a client at `address`: failed logins are counted per
    /// username and per address, anonymous logins per address, and past the configured
    /// [`LoginLimits`] attempts are refused until the window ends.
    pub async fn authenticate_from(
        &self,
        domain: &DomainKey,
        credentials: Credentials,
        session: &str,
        address: Option<IpAddr>,
    ) -> AuthResult<Authenticated> {
        let record = self.domain(domain)?;
        self.admit(&record, &credentials)?;
        let now = self.clock.now_ms();
        // Only names that could be a user's are counted (the rest fail at the address).
        let username = match &credentials {
            Credentials::Password { username, .. }
                if ident::check(IdKind::User, username).is_ok() =>
            {
                Some(username.clone())
            }
            _ => None,
        };
        if let Err(t) = self
            .throttle
            .check(domain, username.as_deref(), address, now)
        {
            tracing::warn!(domain = %domain, ?address, user = username.as_deref().unwrap_or("-"), "login refused: too many failed attempts");
            return Err(t.into());
        }
        let result = match credentials {
            Credentials::Password { username, password } => {
                self.login_password(domain, username, password, session)
                    .await
            }
            Credentials::Jwt(token) => self.login_jwt(domain, &token, session).await,
            Credentials::Anonymous { display_name } => {
                if !record.anonymous_auth {
                    return Err(AuthError::AnonymousAuthDisabled);
                }
                if let Err(t) = self.throttle.anonymous(address, now) {
                    tracing::warn!(domain = %domain, ?address, "anonymous login refused: too many from this address");
                    return Err(t.into());
                }
                self.login_anonymous(domain, display_name.unwrap_or_default(), session)
                    .await
            }
            Credentials::Reconnect(token) => self.login_reconnect(domain, &token, session).await,
        };
        if let Err(AuthError::AuthenticationFailed) = &result {
            self.throttle
                .failed(domain, username.as_deref(), address, now);
        }
        result
    }

    /// Refuses logins the domain's state does not take: an offline domain answers as if it
    /// did not exist; one in maintenance takes only admin-key tokens and reconnects of
    /// convergence users.
    fn admit(&self, record: &DomainRecord, credentials: &Credentials) -> AuthResult<()> {
        match record.state {
            DomainState::Online => Ok(()),
            DomainState::Offline => Err(AuthError::DomainNotFound(record.key.to_string())),
            DomainState::Maintenance => {
                let allowed = match credentials {
                    Credentials::Jwt(token) => jsonwebtoken::decode_header(token)
                        .ok()
                        .and_then(|h| h.kid)
                        .is_some_and(|k| k == ADMIN_KEY_ID),
                    Credentials::Reconnect(token) => self
                        .store
                        .reconnect_token(&record.key, token)?
                        .is_some_and(|t| t.user_type == UserType::Convergence),
                    _ => false,
                };
                if allowed {
                    Ok(())
                } else {
                    Err(AuthError::DomainUnavailable(record.key.to_string()))
                }
            }
        }
    }

    /// How long a reconnect token of `domain` lives: the domain's own setting, at most the
    /// engine's.
    fn token_lifetime_ms(&self, domain: &DomainKey) -> i64 {
        let engine = self.config.reconnect_token_ms();
        self.store
            .domain(domain)
            .ok()
            .flatten()
            .map(|d| engine.min(i64::from(d.reconnect_token_minutes).saturating_mul(60_000)))
            .unwrap_or(engine)
    }

    async fn login_password(
        &self,
        domain: &DomainKey,
        username: String,
        password: String,
        session: &str,
    ) -> AuthResult<Authenticated> {
        // A name that could not be a user's is an unknown user (it still costs a check).
        let user = match ident::check(IdKind::User, &username) {
            Ok(()) => self.store.user(domain, UserType::Normal, &username)?,
            Err(_) => None,
        };
        let hash = user
            .as_ref()
            .filter(|u| !u.disabled)
            .and_then(|u| u.password_hash.clone());
        if !verify_password(password, hash.clone()).await? {
            return Err(failed("unknown or disabled user, or wrong password"));
        }
        let _guard = self.lock.lock().await;
        let now = self.clock.now_ms();
        // The user may have changed while the password was checked.
        match self.store.user(domain, UserType::Normal, &username)? {
            Some(user) if !user.disabled && user.password_hash == hash => {
                self.complete_login(domain, user, AuthMethod::Password, now, session)
                    .await
            }
            _ => Err(failed("the user changed during the login")),
        }
    }

    /// Verifies a domain JWT and returns its claims.
    pub(crate) fn verify_jwt(&self, domain: &DomainKey, token: &str) -> AuthResult<JwtClaims> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| failed("malformed JWT"))?;
        let kid = header.kid.ok_or_else(|| failed("JWT without kid"))?;
        if ident::check(IdKind::JwtKey, &kid).is_err() {
            return Err(failed("JWT with a kid no key can have"));
        }
        let key = self
            .store
            .jwt_key(domain, &kid)?
            .ok_or_else(|| failed("unknown JWT key id"))?;
        if !key.enabled {
            return Err(failed("disabled JWT key"));
        }
        let decoding = DecodingKey::from_rsa_pem(key.public_key_pem.as_bytes())
            .map_err(|_| failed("stored JWT key does not parse"))?;
        self.validate_jwt(token, &decoding, Validation::new(Algorithm::RS256))
    }

    /// Checks a token's signature with `decoding`, its audience, `sub` and time claims.
    fn validate_jwt(
        &self,
        token: &str,
        decoding: &DecodingKey,
        mut validation: Validation,
    ) -> AuthResult<JwtClaims> {
        // Time claims are checked below against the engine's clock.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.set_required_spec_claims(&["exp", "sub", "aud"]);
        validation.set_audience(&[JWT_AUDIENCE]);
        let data = jsonwebtoken::decode::<Map<String, Json>>(token, decoding, &validation)
            .map_err(|e| failed(&format!("JWT rejected: {e}")))?;
        let claims = data.claims;
        let now = self.clock.now_ms().div_euclid(1000);
        let leeway = i64::try_from(self.config.jwt_leeway_secs).unwrap_or(i64::MAX);
        let exp = claims
            .get("exp")
            .and_then(numeric_date)
            .ok_or_else(|| failed("JWT without a numeric exp"))?;
        if exp.saturating_add(leeway) < now {
            return Err(failed("expired JWT"));
        }
        if let Some(nbf) = claims.get("nbf") {
            let nbf = numeric_date(nbf).ok_or_else(|| failed("JWT with a malformed nbf"))?;
            if nbf > now.saturating_add(leeway) {
                return Err(failed("JWT not yet valid"));
            }
        }
        JwtClaims::from_map(&claims).ok_or_else(|| failed("JWT without a string sub"))
    }

    async fn login_jwt(
        &self,
        domain: &DomainKey,
        token: &str,
        session: &str,
    ) -> AuthResult<Authenticated> {
        let admin = jsonwebtoken::decode_header(token)
            .ok()
            .and_then(|h| h.kid)
            .is_some_and(|k| k == ADMIN_KEY_ID);
        let claims = if admin {
            self.verify_admin_jwt(&self.domain(domain)?, token)?
        } else {
            self.verify_jwt(domain, token)?
        };
        let user_type = if admin {
            UserType::Convergence
        } else {
            UserType::Normal
        };
        if let Err(e) = ident::check(IdKind::User, &claims.sub) {
            // A validly signed token the engine cannot take: the issuer is misconfigured.
            tracing::warn!(domain = %domain, "JWT login refused: its sub is not a valid username: {e}");
            return Err(AuthError::AuthenticationFailed);
        }
        let _guard = self.lock.lock().await;
        let now = self.clock.now_ms();
        let mut user = match self.store.user(domain, user_type, &claims.sub)? {
            Some(user) if user.disabled => return Err(failed("disabled user")),
            Some(user) => user,
            None => UserRecord {
                user_type,
                username: claims.sub.clone(),
                display_name: if admin {
                    claims.sub.clone()
                } else {
                    String::new()
                },
                first_name: String::new(),
                last_name: String::new(),
                email: String::new(),
                disabled: false,
                password_hash: None,
                created_ms: now,
                last_login_ms: 0,
            },
        };
        claims.apply(&mut user);
        let memberships = match &claims.groups {
            Some(groups) if !admin => self.membership_writes(domain, &user, groups)?,
            _ => Vec::new(),
        };
        let done = self
            .complete_login(domain, user, AuthMethod::Jwt, now, session)
            .await?;
        if !memberships.is_empty() {
            self.write(memberships).await?;
        }
        Ok(done)
    }

    async fn login_anonymous(
        &self,
        domain: &DomainKey,
        display_name: String,
        session: &str,
    ) -> AuthResult<Authenticated> {
        let _guard = self.lock.lock().await;
        let now = self.clock.now_ms();
        let mut username = None;
        for _ in 0..FRESH_ID_ATTEMPTS {
            let candidate = self.random_alphanumeric(RECONNECT_TOKEN_LEN)?;
            if self
                .store
                .user(domain, UserType::Anonymous, &candidate)?
                .is_none()
            {
                username = Some(candidate);
                break;
            }
        }
        let username = username
            .ok_or_else(|| AuthError::Internal("could not find an unused username".into()))?;
        let user = UserRecord {
            user_type: UserType::Anonymous,
            username,
            display_name,
            first_name: String::new(),
            last_name: String::new(),
            email: String::new(),
            disabled: false,
            password_hash: None,
            created_ms: now,
            last_login_ms: 0,
        };
        self.complete_login(domain, user, AuthMethod::Anonymous, now, session)
            .await
    }

    async fn login_reconnect(
        &self,
        domain: &DomainKey,
        token: &str,
        session: &str,
    ) -> AuthResult<Authenticated> {
        if token.is_empty() {
            return Err(failed("empty reconnect token"));
        }
        let _guard = self.lock.lock().await;
        let now = self.clock.now_ms();
        let mut record = self
            .store
            .reconnect_token(domain, token)?
            .ok_or_else(|| failed("unknown reconnect token"))?;
        if now >= record.expires_ms {
            self.write(vec![WriteOp::DeleteReconnectToken {
                domain: domain.clone(),
                token: token.to_string(),
            }])
            .await?;
            return Err(failed("expired reconnect token"));
        }
        let user = match self
            .store
            .user(domain, record.user_type, &record.username)?
        {
            Some(user) if !user.disabled => user,
            _ => return Err(failed("the token's user is gone or disabled")),
        };
        record.expires_ms = now.saturating_add(self.token_lifetime_ms(domain));
        let earlier_sessions = record.sessions.clone();
        record.sessions.push(session.to_string());
        let excess = record.sessions.len().saturating_sub(TOKEN_SESSIONS_KEPT);
        record.sessions.drain(..excess);
        self.write(vec![WriteOp::PutReconnectToken {
            domain: domain.clone(),
            record,
        }])
        .await?;
        Ok(Authenticated {
            user,
            method: AuthMethod::Reconnect,
            reconnect_token: token.to_string(),
            earlier_sessions,
        })
    }

    /// Revokes a reconnect token (no-op if unknown).
    pub async fn revoke_reconnect_token(&self, domain: &DomainKey, token: &str) -> AuthResult<()> {
        self.domain(domain)?;
        self.write(vec![WriteOp::DeleteReconnectToken {
            domain: domain.clone(),
            token: token.to_string(),
        }])
        .await
    }

    // -----------------------------------------------------------------------------------------
    // Users.
    // -----------------------------------------------------------------------------------------

    /// Creates a normal user; fails with [`AuthError::UserExists`] if the username is taken.
    pub async fn create_user(&self, domain: &DomainKey, new: NewUser) -> AuthResult<UserRecord> {
        self.domain(domain)?;
        check_username(&new.username)?;
        if let Some(p) = &new.password {
            check_password(p)?;
        }
        if self
            .store
            .user(domain, UserType::Normal, &new.username)?
            .is_some()
        {
            return Err(AuthError::UserExists(new.username));
        }
        let password_hash = match new.password {
            Some(p) => Some(hash_password(p).await?),
            None => None,
        };
        let _guard = self.lock.lock().await;
        if self
            .store
            .user(domain, UserType::Normal, &new.username)?
            .is_some()
        {
            return Err(AuthError::UserExists(new.username));
        }
        let record = UserRecord {
            user_type: UserType::Normal,
            username: new.username,
            display_name: new.display_name,
            first_name: new.first_name,
            last_name: new.last_name,
            email: new.email,
            disabled: false,
            password_hash,
            created_ms: self.clock.now_ms(),
            last_login_ms: 0,
        };
        self.write(vec![WriteOp::PutUser {
            domain: domain.clone(),
            record: record.clone(),
        }])
        .await?;
        Ok(record)
    }

    /// Replaces a normal user's password.
    pub async fn set_password(
        &self,
        domain: &DomainKey,
        username: &str,
        password: &str,
    ) -> AuthResult<()> {
        self.domain(domain)?;
        check_password(password)?;
        self.existing_user(domain, username)?;
        let hash = hash_password(password.to_string()).await?;
        self.update_user(domain, username, move |u| u.password_hash = Some(hash))
            .await
            .map(|_| ())
    }

    /// Enables or disables a normal user; a disabled user cannot log in by any method.
    pub async fn set_user_disabled(
        &self,
        domain: &DomainKey,
        username: &str,
        disabled: bool,
    ) -> AuthResult<UserRecord> {
        self.domain(domain)?;
        self.update_user(domain, username, move |u| u.disabled = disabled)
            .await
    }

    fn existing_user(&self, domain: &DomainKey, username: &str) -> AuthResult<UserRecord> {
        self.store
            .user(domain, UserType::Normal, username)?
            .ok_or_else(|| AuthError::UserNotFound(username.to_string()))
    }

    /// Changes a normal user's profile: each field given replaces the stored one.
    pub async fn update_profile(
        &self,
        domain: &DomainKey,
        username: &str,
        profile: UserProfile,
    ) -> AuthResult<UserRecord> {
        self.domain(domain)?;
        self.update_user(domain, username, move |u| {
            let fields = [
                (profile.display_name, &mut u.display_name),
                (profile.first_name, &mut u.first_name),
                (profile.last_name, &mut u.last_name),
                (profile.email, &mut u.email),
            ];
            for (new, field) in fields {
                if let Some(v) = new {
                    *field = v;
                }
            }
        })
        .await
    }

    async fn update_user(
        &self,
        domain: &DomainKey,
        username: &str,
        change: impl FnOnce(&mut UserRecord),
    ) -> AuthResult<UserRecord> {
        let _guard = self.lock.lock().await;
        let mut user = self.existing_user(domain, username)?;
        change(&mut user);
        self.write(vec![WriteOp::PutUser {
            domain: domain.clone(),
            record: user.clone(),
        }])
        .await?;
        Ok(user)
    }

    /// A user of any type, if it exists.
    pub fn user(
        &self,
        domain: &DomainKey,
        user_type: UserType,
        username: &str,
    ) -> AuthResult<Option<UserRecord>> {
        self.domain(domain)?;
        Ok(self.store.user(domain, user_type, username)?)
    }

    /// The domain's normal users, ordered by username.
    pub fn users(&self, domain: &DomainKey) -> AuthResult<Vec<UserRecord>> {
        self.domain(domain)?;
        let mut users = self.store.users(domain)?;
        users.retain(|u| u.user_type == UserType::Normal);
        Ok(users)
    }

    /// Deletes a normal user and revokes its reconnect tokens.
    pub async fn delete_user(&self, domain: &DomainKey, username: &str) -> AuthResult<()> {
        self.domain(domain)?;
        let _guard = self.lock.lock().await;
        self.existing_user(domain, username)?;
        self.write(vec![WriteOp::DeleteUser {
            domain: domain.clone(),
            user_type: UserType::Normal,
            username: username.to_string(),
        }])
        .await
    }

    // -----------------------------------------------------------------------------------------
    // JWT keys.
    // -----------------------------------------------------------------------------------------

    /// Adds a JWT key after checking that its PEM is an RSA public key; `updated_ms` is set to
    /// now. Fails with [`AuthError::KeyExists`] if the id is taken.
    pub async fn add_jwt_key(
        &self,
        domain: &DomainKey,
        key: JwtKeyRecord,
    ) -> AuthResult<JwtKeyRecord> {
        self.domain(domain)?;
        ident::check(IdKind::JwtKey, &key.id).map_err(|e| AuthError::Invalid(e.to_string()))?;
        parse_rsa_public_key(&key.public_key_pem)?;
        let _guard = self.lock.lock().await;
        if self.store.jwt_key(domain, &key.id)?.is_some() {
            return Err(AuthError::KeyExists(key.id));
        }
        let record = JwtKeyRecord {
            updated_ms: self.clock.now_ms(),
            ..key
        };
        self.write(vec![WriteOp::PutJwtKey {
            domain: domain.clone(),
            record: record.clone(),
        }])
        .await?;
        Ok(record)
    }

    /// Enables or disables a JWT key.
    pub async fn set_jwt_key_enabled(
        &self,
        domain: &DomainKey,
        id: &str,
        enabled: bool,
    ) -> AuthResult<JwtKeyRecord> {
        self.domain(domain)?;
        let _guard = self.lock.lock().await;
        let mut record = self
            .store
            .jwt_key(domain, id)?
            .ok_or_else(|| AuthError::KeyNotFound(id.to_string()))?;
        record.enabled = enabled;
        record.updated_ms = self.clock.now_ms();
        self.write(vec![WriteOp::PutJwtKey {
            domain: domain.clone(),
            record: record.clone(),
        }])
        .await?;
        Ok(record)
    }

    /// The domain's JWT keys, ordered by id.
    pub fn jwt_keys(&self, domain: &DomainKey) -> AuthResult<Vec<JwtKeyRecord>> {
        self.domain(domain)?;
        Ok(self.store.jwt_keys(domain)?)
    }

    /// Removes a JWT key.
    pub async fn remove_jwt_key(&self, domain: &DomainKey, id: &str) -> AuthResult<()> {
        self.domain(domain)?;
        let _guard = self.lock.lock().await;
        if self.store.jwt_key(domain, id)?.is_none() {
            return Err(AuthError::KeyNotFound(id.to_string()));
        }
        self.write(vec![WriteOp::DeleteJwtKey {
            domain: domain.clone(),
            id: id.to_string(),
        }])
        .await
    }
}
