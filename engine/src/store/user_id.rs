//! A domain user's identity: its type and username, and the form the store records.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::UserType;

const HOST_USERNAME: &str = "tandem-host";

/// A domain user: its kind and name. Normal users are the application's end users;
/// convergence users act for the server (the host and the admin console); anonymous users
/// are created for each anonymous login.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UserId {
    /// The kind of user.
    pub kind: UserType,
    /// The username (unique per kind within a domain).
    pub name: String,
}

impl UserId {
    /// A user of the given kind.
    pub fn new(kind: UserType, name: impl Into<String>) -> Self {
        UserId {
            kind,
            name: name.into(),
        }
    }

    /// A normal (application) user.
    pub fn normal(name: impl Into<String>) -> Self {
        UserId::new(UserType::Normal, name)
    }

    /// The user recorded for changes a host makes without naming one.
    pub fn host() -> Self {
        UserId::new(UserType::Convergence, HOST_USERNAME)
    }

    /// The form recorded with operations in the store: `normal:bob`, `anonymous:x`; a
    /// convergence user is recorded by its bare name, as the host user always was.
    pub fn to_key(&self) -> String {
        match self.kind {
            UserType::Normal => format!("normal:{}", self.name),
            UserType::Anonymous => format!("anonymous:{}", self.name),
            UserType::Convergence => self.name.clone(),
        }
    }

    /// Reads the recorded form back (see [`UserId::to_key`]); `convergence:x` is read as
    /// well, and a key without a known prefix is a convergence user.
    pub fn from_key(key: &str) -> Self {
        for (prefix, kind) in [
            ("normal:", UserType::Normal),
            ("convergence:", UserType::Convergence),
            ("anonymous:", UserType::Anonymous),
        ] {
            if let Some(rest) = key.strip_prefix(prefix) {
                return UserId::new(kind, rest);
            }
        }
        UserId::new(UserType::Convergence, key)
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_key())
    }
}
