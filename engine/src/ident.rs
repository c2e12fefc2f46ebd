//! Limits on identifiers that become part of store keys: namespaces, domains, collections,
//! models, users, groups, JWT key ids, chats and activities. Each has a documented maximum
//! (`docs/limits.md`) checked where it enters, in the services, so that the wire, the facade,
//! the C ABI, the bindings and the CLI all refuse the same things with the same message, and
//! nothing accepted can later fail to be stored.

use std::fmt;

use thiserror::Error;

/// What an identifier names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdKind {
    /// A namespace (the first half of a domain's key).
    Namespace,
    /// A domain id.
    Domain,
    /// A collection id.
    Collection,
    /// A model id.
    Model,
    /// A username.
    User,
    /// A JWT key id (`kid`).
    JwtKey,
    /// A user group id.
    Group,
    /// An activity's type.
    ActivityType,
    /// An activity's id.
    Activity,
    /// A chat's id.
    Chat,
}

impl IdKind {
    /// The longest identifier of this kind, in bytes of UTF-8.
    pub const fn max_bytes(self) -> usize {
        match self {
            IdKind::Namespace | IdKind::Domain => 64,
            _ => 128,
        }
    }

    fn name(self) -> &'static str {
        match self {
            IdKind::Namespace => "namespace",
            IdKind::Domain => "domain id",
            IdKind::Collection => "collection id",
            IdKind::Model => "model id",
            IdKind::User => "username",
            IdKind::JwtKey => "JWT key id",
            IdKind::Group => "group id",
            IdKind::ActivityType => "activity type",
            IdKind::Activity => "activity id",
            IdKind::Chat => "chat id",
        }
    }
}

impl fmt::Display for IdKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why an identifier was refused.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum IdError {
    /// The identifier is empty.
    #[error("{0} must not be empty")]
    Empty(IdKind),
    /// The identifier is longer than its kind allows.
    #[error("{kind} is {len} bytes long; at most {} bytes are allowed", kind.max_bytes())]
    TooLong {
        /// What it names.
        kind: IdKind,
        /// Its length in bytes of UTF-8.
        len: usize,
    },
    /// The identifier holds a control character (U+0000 to U+001F, or U+007F).
    #[error("{0} must not contain control characters")]
    Control(IdKind),
    /// A namespace or domain id with a character outside `A-Z a-z 0-9 - _ . ~`.
    #[error("{0} may only hold the characters A-Z a-z 0-9 - _ . ~")]
    Charset(IdKind),
}

/// Checks an identifier of `kind`: not empty, at most [`IdKind::max_bytes`] bytes, no control
/// characters; namespaces and domain ids also keep to `A-Z a-z 0-9 - _ . ~` (they appear in URLs).
pub fn check(kind: IdKind, id: &str) -> Result<(), IdError> {
    if id.is_empty() {
        return Err(IdError::Empty(kind));
    }
    if id.len() > kind.max_bytes() {
        return Err(IdError::TooLong {
            kind,
            len: id.len(),
        });
    }
    if matches!(kind, IdKind::Namespace | IdKind::Domain) {
        let url_safe = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~');
        if !id.chars().all(url_safe) {
            return Err(IdError::Charset(kind));
        }
    }
    if id.chars().any(|c| c.is_ascii_control()) {
        return Err(IdError::Control(kind));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_checked_for_length_emptiness_and_characters() {
        assert_eq!(check(IdKind::User, "bob"), Ok(()));
        assert_eq!(check(IdKind::User, &"é".repeat(64)), Ok(()));
        assert_eq!(
            check(IdKind::User, &"é".repeat(65)),
            Err(IdError::TooLong {
                kind: IdKind::User,
                len: 130
            })
        );
        assert_eq!(check(IdKind::Model, ""), Err(IdError::Empty(IdKind::Model)));
        assert_eq!(
            check(IdKind::Collection, "a\0b"),
            Err(IdError::Control(IdKind::Collection))
        );
        assert_eq!(check(IdKind::Domain, &"d".repeat(64)), Ok(()));
        assert!(check(IdKind::Domain, &"d".repeat(65)).is_err());
        assert_eq!(
            check(IdKind::Namespace, "a b"),
            Err(IdError::Charset(IdKind::Namespace))
        );
        let message = check(IdKind::User, &"x".repeat(500))
            .unwrap_err()
            .to_string();
        assert_eq!(
            message,
            "username is 500 bytes long; at most 128 bytes are allowed"
        );
    }
}
