//! Server credentials: administrators (who log in to the REST API and the admin console) and
//! API keys (each reaches one domain's REST routes, read-only or read-write). Secrets are kept
//! only as hashes.

use super::DomainKey;

/// A server administrator.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminRecord {
    /// Login name (unique on the server).
    pub username: String,
    /// The password as an argon2 PHC string.
    pub password_hash: String,
    /// Creation time (epoch ms).
    pub created_ms: i64,
    /// Time of the last change (epoch ms).
    pub updated_ms: i64,
}

impl std::fmt::Debug for AdminRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminRecord")
            .field("username", &self.username)
            .field("created_ms", &self.created_ms)
            .field("updated_ms", &self.updated_ms)
            .finish_non_exhaustive()
    }
}

/// An API key of one domain.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// The domain it reaches (and no other).
    pub domain: DomainKey,
    /// Its id (unique within the domain; the public part of the key).
    pub id: String,
    /// What the operator called it.
    pub name: String,
    /// The SHA-256 of its secret, in hex.
    pub secret_hash: String,
    /// Read-only keys may not change anything.
    pub read_only: bool,
    /// Creation time (epoch ms).
    pub created_ms: i64,
}

impl std::fmt::Debug for ApiKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyRecord")
            .field("domain", &self.domain)
            .field("id", &self.id)
            .field("name", &self.name)
            .field("read_only", &self.read_only)
            .field("created_ms", &self.created_ms)
            .finish_non_exhaustive()
    }
}
