//! Errors of the pure OT layer.

use thiserror::Error;

use super::jsstring::JsString;
use super::value::ValueKind;

/// Why an operation could not be applied. The document is left unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ApplyError {
    /// The root of a model must be an object.
    #[error("the root of a model must be an object")]
    RootNotObject,
    /// The operation does not fit the type of its target.
    #[error("{op} cannot apply to a {found} value (needs a {expected})")]
    WrongType {
        /// Operation type name.
        op: &'static str,
        /// The kind it needs.
        expected: ValueKind,
        /// The kind it found.
        found: ValueKind,
    },
    /// An index or range end lies outside the target.
    #[error("index {index} is out of bounds (length {len})")]
    IndexOutOfBounds {
        /// The offending index.
        index: i64,
        /// The target's length.
        len: i64,
    },
    /// A negative delete count.
    #[error("negative count {0}")]
    NegativeCount(i64),
    /// Adding a property that already exists.
    #[error("property {0:?} already exists")]
    PropertyExists(JsString),
    /// Setting or removing a property that does not exist.
    #[error("property {0:?} does not exist")]
    PropertyMissing(JsString),
    /// A new value reuses an id already in the model (or repeats one).
    #[error("value id {0:?} is already in use")]
    DuplicateId(String),
    /// No value has this id.
    #[error("no value has id {0:?}")]
    UnknownValue(String),
    /// The operation would nest values deeper than the model allows.
    #[error("values would be nested {depth} levels deep; at most {max} are allowed")]
    TooDeep {
        /// The depth the operation would reach.
        depth: u32,
        /// The limit.
        max: u32,
    },
    /// The operation would make the model larger than allowed.
    #[error("the model would weigh {bytes} bytes; at most {max} are allowed")]
    TooLarge {
        /// The weight the operation would reach.
        bytes: u64,
        /// The limit.
        max: u64,
    },
}

/// Why two operations cannot be transformed against each other.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TransformError {
    /// The pair cannot have been made concurrently against one state.
    #[error("{server} and {client} cannot target the same property {key:?} concurrently")]
    ImpossiblePair {
        /// Server-side operation type.
        server: &'static str,
        /// Client-side operation type.
        client: &'static str,
        /// The property both name.
        key: String,
    },
    /// Two operations on the same id apply to different value types.
    #[error("{server} and {client} target the same value but need different value types")]
    TypeMismatch {
        /// Server-side operation type.
        server: &'static str,
        /// Client-side operation type.
        client: &'static str,
    },
}
