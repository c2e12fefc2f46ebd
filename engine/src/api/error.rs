//! The facade's error: a stable numeric code plus a message, mapped 1:1 by every binding.

use thiserror::Error;

use crate::auth::AuthError;
use crate::model::{ConcurrencyError, ModelError};
use crate::store::StoreError;

/// Stable error codes. Numbers never change meaning; new codes are only added.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum ErrorCode {
    /// An argument is malformed (bad JSON, empty id, bad path, bad config).
    InvalidArgument = 1,
    /// The named domain, collection or model does not exist.
    NotFound = 2,
    /// Something with that id exists already.
    AlreadyExists = 3,
    /// An operation does not fit the model's data (bad index, wrong type, ...).
    InvalidOperation = 4,
    /// A submission could not be ordered against concurrent ones.
    Conflict = 5,
    /// Storage failed; nothing of the failed write was acknowledged.
    Storage = 6,
    /// The data directory was written with another format version.
    FormatVersion = 7,
    /// The engine is shut down or the model is unavailable.
    Unavailable = 8,
    /// The configuration is invalid.
    Config = 9,
    /// A bug: please report it.
    Internal = 10,
    /// Credentials were refused (wrong password, bad token, anonymous login disabled, ...).
    Unauthenticated = 11,
    /// The caller may see the thing but not do this with it.
    PermissionDenied = 12,
}

impl ErrorCode {
    /// Every code, in numeric order: the one table each binding's error types follow (the C
    /// constants, the JS `code`, the Python exception classes, the Kotlin/Swift variants).
    pub const ALL: [ErrorCode; 12] = [
        ErrorCode::InvalidArgument,
        ErrorCode::NotFound,
        ErrorCode::AlreadyExists,
        ErrorCode::InvalidOperation,
        ErrorCode::Conflict,
        ErrorCode::Storage,
        ErrorCode::FormatVersion,
        ErrorCode::Unavailable,
        ErrorCode::Config,
        ErrorCode::Internal,
        ErrorCode::Unauthenticated,
        ErrorCode::PermissionDenied,
    ];

    /// The code with number `n`, if any.
    pub fn from_i32(n: i32) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.as_i32() == n)
    }

    /// The code's name in CamelCase (e.g. `"NotFound"`): bindings name their error types
    /// after it (`NotFoundError` in JavaScript and Python, `TandemException.NotFound` in
    /// Kotlin).
    pub fn class_name(self) -> &'static str {
        match self {
            ErrorCode::InvalidArgument => "InvalidArgument",
            ErrorCode::NotFound => "NotFound",
            ErrorCode::AlreadyExists => "AlreadyExists",
            ErrorCode::InvalidOperation => "InvalidOperation",
            ErrorCode::Conflict => "Conflict",
            ErrorCode::Storage => "Storage",
            ErrorCode::FormatVersion => "FormatVersion",
            ErrorCode::Unavailable => "Unavailable",
            ErrorCode::Config => "Config",
            ErrorCode::Internal => "Internal",
            ErrorCode::Unauthenticated => "Unauthenticated",
            ErrorCode::PermissionDenied => "PermissionDenied",
        }
    }

    /// The code's stable name (e.g. `"not_found"`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidArgument => "invalid_argument",
            ErrorCode::NotFound => "not_found",
            ErrorCode::AlreadyExists => "already_exists",
            ErrorCode::InvalidOperation => "invalid_operation",
            ErrorCode::Conflict => "conflict",
            ErrorCode::Storage => "storage",
            ErrorCode::FormatVersion => "format_version",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Config => "config",
            ErrorCode::Internal => "internal",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::PermissionDenied => "permission_denied",
        }
    }

    /// The numeric value.
    pub fn as_i32(self) -> i32 {
        self as i32
    }
}

/// An error from the engine facade.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct Error {
    /// What kind of failure.
    pub code: ErrorCode,
    /// Human-readable detail.
    pub message: String,
}

impl Error {
    /// Builds an error.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Result of a facade call.
pub type Result<T> = std::result::Result<T, Error>;

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        let code = match &e {
            StoreError::FormatVersion { .. } => ErrorCode::FormatVersion,
            StoreError::NotFound(_) => ErrorCode::NotFound,
            StoreError::AlreadyExists(_) => ErrorCode::AlreadyExists,
            StoreError::Closed => ErrorCode::Unavailable,
            StoreError::Invalid(_) => ErrorCode::InvalidArgument,
            StoreError::Corrupt(_) | StoreError::Io(_) => ErrorCode::Storage,
        };
        Error::new(code, e.to_string())
    }
}

impl From<ModelError> for Error {
    fn from(e: ModelError) -> Self {
        let code = match &e {
            ModelError::NotFound(_)
            | ModelError::CollectionNotFound(_)
            | ModelError::DomainNotFound(_)
            | ModelError::NotOpen(_)
            | ModelError::GranteeNotFound(_) => ErrorCode::NotFound,
            ModelError::AlreadyExists(_) | ModelError::AlreadyOpen(_) => ErrorCode::AlreadyExists,
            ModelError::Unauthorized(_) => ErrorCode::PermissionDenied,
            ModelError::Apply(_) => ErrorCode::InvalidOperation,
            ModelError::Concurrency(ConcurrencyError::Transform(_)) => ErrorCode::Conflict,
            ModelError::Concurrency(_) => ErrorCode::Conflict,
            ModelError::Json(_)
            | ModelError::Invalid(_)
            | ModelError::Query { .. }
            | ModelError::QueryBudget(_) => ErrorCode::InvalidArgument,
            ModelError::Store(s) => return Error::from(s.clone()),
            ModelError::Unavailable(_) => ErrorCode::Unavailable,
        };
        Error::new(code, e.to_string())
    }
}

impl From<crate::presence::PresenceError> for Error {
    fn from(e: crate::presence::PresenceError) -> Self {
        use crate::presence::PresenceError;
        let code = match e {
            PresenceError::TooDeep { .. } | PresenceError::TooLarge { .. } => {
                ErrorCode::InvalidArgument
            }
            PresenceError::Stopped => ErrorCode::Unavailable,
        };
        Error::new(code, e.to_string())
    }
}

impl From<crate::activity::ActivityError> for Error {
    fn from(e: crate::activity::ActivityError) -> Self {
        use crate::activity::ActivityError as A;
        let code = match &e {
            A::NotFound | A::NotJoined | A::GranteeNotFound(_) => ErrorCode::NotFound,
            A::AlreadyExists | A::AlreadyJoined => ErrorCode::AlreadyExists,
            A::Unauthorized(_) => ErrorCode::PermissionDenied,
            A::InvalidType(_)
            | A::InvalidId(_)
            | A::TooDeep { .. }
            | A::TooLarge { .. }
            | A::Permission(_) => ErrorCode::InvalidArgument,
            A::Store(_) => ErrorCode::Storage,
            A::Stopped => ErrorCode::Unavailable,
        };
        Error::new(code, e.to_string())
    }
}

impl From<crate::chat::ChatError> for Error {
    fn from(e: crate::chat::ChatError) -> Self {
        use crate::chat::ChatError as C;
        let code = match &e {
            C::NotFound | C::NotJoined | C::NotMember | C::UserNotFound(_) => ErrorCode::NotFound,
            C::AlreadyExists | C::AlreadyJoined | C::AlreadyMember => ErrorCode::AlreadyExists,
            C::Unauthorized(_) => ErrorCode::PermissionDenied,
            C::CantRemoveSelf
            | C::NotSupported(_)
            | C::Invalid(_)
            | C::TooLarge { .. }
            | C::Permission(_) => ErrorCode::InvalidArgument,
            C::Store(_) => ErrorCode::Storage,
            C::Stopped => ErrorCode::Unavailable,
        };
        Error::new(code, e.to_string())
    }
}

impl From<crate::webhook::WebhookError> for Error {
    fn from(e: crate::webhook::WebhookError) -> Self {
        use crate::webhook::WebhookError as W;
        let code = match &e {
            W::Invalid(_) => ErrorCode::InvalidArgument,
            W::NotFound(_) => ErrorCode::NotFound,
            W::TooMany(_) => ErrorCode::InvalidOperation,
            W::Store(_) => ErrorCode::Storage,
            W::Closed => ErrorCode::Unavailable,
        };
        Error::new(code, e.to_string())
    }
}

impl From<AuthError> for Error {
    fn from(e: AuthError) -> Self {
        let code = match &e {
            AuthError::AuthenticationFailed
            | AuthError::AnonymousAuthDisabled
            | AuthError::InvalidAuthMethod(_)
            | AuthError::TooManyFailures { .. }
            | AuthError::TooManyAnonymous { .. } => ErrorCode::Unauthenticated,
            AuthError::DomainUnavailable(_) => ErrorCode::Unavailable,
            AuthError::DomainNotFound(_)
            | AuthError::UserNotFound(_)
            | AuthError::GroupNotFound(_)
            | AuthError::KeyNotFound(_)
            | AuthError::AdminNotFound(_)
            | AuthError::ApiKeyNotFound(_) => ErrorCode::NotFound,
            AuthError::UserExists(_)
            | AuthError::KeyExists(_)
            | AuthError::GroupExists(_)
            | AuthError::AdminExists(_) => ErrorCode::AlreadyExists,
            AuthError::InvalidKey(_) | AuthError::Invalid(_) => ErrorCode::InvalidArgument,
            AuthError::Internal(_) => ErrorCode::Internal,
            AuthError::Store(s) => return Error::from(s.clone()),
        };
        Error::new(code, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_numbered_in_order_and_names_are_unique() {
        for (i, c) in ErrorCode::ALL.iter().enumerate() {
            assert_eq!(c.as_i32(), i as i32 + 1);
            assert_eq!(ErrorCode::from_i32(c.as_i32()), Some(*c));
            let snake: String = c
                .class_name()
                .chars()
                .enumerate()
                .flat_map(|(j, ch)| {
                    let lower = ch.to_ascii_lowercase();
                    let sep = (j > 0 && ch.is_ascii_uppercase()).then_some('_');
                    sep.into_iter().chain(std::iter::once(lower))
                })
                .collect();
            assert_eq!(snake, c.as_str());
        }
        assert_eq!(ErrorCode::from_i32(0), None);
    }
}
