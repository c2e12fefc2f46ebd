//! Who did something: a user of a domain and the session it acted through.

use std::fmt;

use serde::{Deserialize, Serialize};

pub use crate::store::UserId;
#[cfg(test)]
use crate::store::UserType;

/// The user the engine records for host-side changes unless another is given.
/// A session id: one connection's (or the host's) presence in a domain, unique while it lasts.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionId(String);

impl SessionId {
    /// A session id from its text.
    pub fn new(id: impl Into<String>) -> Self {
        SessionId(id.into())
    }

    /// The session that host-side changes are recorded under.
    pub fn host() -> Self {
        SessionId(crate::model::HOST_SESSION.to_string())
    }

    /// The id's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for SessionId {
    fn from(s: &str) -> Self {
        SessionId::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_forms_read_back() {
        for u in [
            UserId::normal("bob"),
            UserId::new(UserType::Anonymous, "a:b"),
            UserId::host(),
        ] {
            assert_eq!(UserId::from_key(&u.to_key()), u);
        }
        assert_eq!(UserId::host().to_key(), "tandem-host");
        assert_eq!(
            UserId::from_key("convergence:admin"),
            UserId::new(UserType::Convergence, "admin")
        );
        assert_eq!(
            serde_json::to_value(UserId::normal("bob")).unwrap(),
            serde_json::json!({"kind": "normal", "name": "bob"})
        );
    }
}
