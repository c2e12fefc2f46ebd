//! Model services: collections and models, one sequencer task per open model, history.
//!
//! A host's call (through `api`) and a client's frame (through `protocol`) both end up here, so
//! a change made either way is the same thing: an operation in the log and an event to the
//! model's sessions and to the engine's subscribers.

pub mod concurrency;
mod config;
mod events;
mod sequencer;
mod service;

use std::sync::{Arc, OnceLock};

use thiserror::Error;

use crate::ot::json::JsonError;
use crate::ot::{ApplyError, Operation, ReferenceValues, Value, ValueId};
use crate::store::StoreError;

pub use concurrency::ConcurrencyError;
pub use config::ModelsConfig;
pub use events::{ActivityChangeKind, EngineEvent, EventBus, EventFilter, EventSubscription};
pub use sequencer::Change;
pub(crate) use sequencer::HOST_SESSION;
pub use service::{
    ModelInfo, ModelService, OfflineAnswer, OfflineCopy, OfflineKnown, OpenedModel, QueryAnswer,
    QueryHit, SessionModel, SkippedPart, UndoOutcome, UndoScope,
};

/// Errors of the model services.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ModelError {
    /// No model with this id (or one the actor may not read: the answer is the same).
    #[error("model {0:?} not found")]
    NotFound(String),
    /// A user or group a permission change names does not exist.
    #[error("{0} not found")]
    GranteeNotFound(String),
    /// The actor may read the model (or collection) but not do this.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// Something with this name exists already (a model, a domain).
    #[error("{0} already exists")]
    AlreadyExists(String),
    /// No collection with this id, and collections are not created automatically.
    #[error("collection {0:?} does not exist")]
    CollectionNotFound(String),
    /// No domain with this key.
    #[error("domain {0} not found")]
    DomainNotFound(String),
    /// The session already has this model open.
    #[error("session {0:?} already has the model open")]
    AlreadyOpen(String),
    /// The session does not have this model open.
    #[error("session {0:?} does not have the model open")]
    NotOpen(String),
    /// The operation is invalid for the model's data.
    #[error("invalid operation: {0}")]
    Apply(#[from] ApplyError),
    /// The operation could not be ordered against concurrent ones.
    #[error("operation rejected: {0}")]
    Concurrency(#[from] ConcurrencyError),
    /// The JSON given is not valid model data.
    #[error("invalid data: {0}")]
    Json(#[from] JsonError),
    /// A request names something that does not exist or is malformed.
    #[error("invalid request: {0}")]
    Invalid(String),
    /// A query's text is not valid (see [`crate::query`]).
    #[error("invalid query: {message}")]
    Query {
        /// Where the text stops being valid, in UTF-16 code units.
        index: usize,
        /// What was expected there.
        message: String,
    },
    /// A query would examine more models, or run longer, than the configuration allows
    /// (`models.query_max_models`, `models.query_timeout_ms`).
    #[error(
        "query too expensive: {0}; narrow it with a condition on a field (an equality or a range)"
    )]
    QueryBudget(String),
    /// Storage failed; nothing of the failed write was acknowledged.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// The engine is shutting down or the model was closed after a failure.
    #[error("the model is unavailable: {0}")]
    Unavailable(String),
}

/// Result of a model-service call.
pub type ModelResult<T> = Result<T, ModelError>;

/// Who is acting: a connected session and its user.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SessionInfo {
    /// Session id (unique while connected).
    pub session: String,
    /// The user's id.
    pub user: String,
}

/// A committed operation replayed to a session that resynchronises after a reconnect.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplayedOp {
    /// The version it produced (its context version + 1).
    pub version: u64,
    /// When it was applied (epoch ms).
    pub timestamp_ms: i64,
    /// The session that submitted it.
    pub session: String,
    /// That session's user.
    pub user: String,
    /// The submitter's sequence number (none for host changes).
    pub seq: Option<u64>,
    /// The operation as applied.
    pub op: Arc<Operation>,
    /// True when one of the reconnecting client's earlier sessions submitted it: the client
    /// still holds it as unacknowledged and is owed an acknowledgement, not a remote operation.
    pub own: bool,
}

/// Why the engine closed a model for a session without being asked.
///
/// Numbers follow the JavaScript client's enum for 0–6; 7 and 8 are this engine's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForceCloseReason {
    /// Unknown.
    Unknown = 0,
    /// The session may not do what it tried.
    Unauthorized = 1,
    /// The model was deleted.
    Deleted = 2,
    /// An operation from the session could not be applied.
    ErrorApplyingOperation = 3,
    /// A reference event from the session was invalid.
    InvalidReferenceEvent = 4,
    /// Permissions could not be determined.
    PermissionError = 5,
    /// Storage failed; the model is reloaded on next open.
    UnexpectedCommittedVersion = 6,
    /// The engine is shutting down.
    ServerShutdown = 7,
    /// The session lost read permission.
    PermissionsChanged = 8,
}

/// Something a model tells one of its sessions. Per session and model, operations (acks and
/// remote operations) arrive in gap-free version order.
#[derive(Clone, Debug, PartialEq)]
pub enum ModelEvent {
    /// The session's operations `seq .. seq + count` were applied at context versions
    /// `version .. version + count` (one after another, at `timestamp_ms`) and are durable.
    /// Consecutive acknowledgements come as one event.
    Ack {
        /// Model id.
        model: Arc<str>,
        /// The first submission's sequence number.
        seq: u64,
        /// The context version the first was applied at.
        version: u64,
        /// When they were applied (epoch ms).
        timestamp_ms: i64,
        /// How many operations (at least 1).
        count: u64,
    },
    /// Another participant's operation, applied at `context_version`.
    Remote {
        /// Model id.
        model: Arc<str>,
        /// Submitting session (shared by the copies sent to every other session).
        session: Arc<str>,
        /// Submitting user (shared by the copies sent to every other session).
        user: Arc<str>,
        /// The context version it was applied at.
        context_version: u64,
        /// When it was applied (epoch ms).
        timestamp_ms: i64,
        /// The operation as applied.
        op: Arc<Operation>,
        /// Shared by the copies of this event sent to every other session: the protocol layer
        /// keeps the encoded operation here, so that it is encoded once, not once per session.
        encoded: EncodedOnce,
    },
    /// Another session opened the model.
    RemoteOpened {
        /// Model id.
        model: Arc<str>,
        /// The session.
        session: String,
        /// Its user.
        user: String,
    },
    /// Another session closed the model.
    RemoteClosed {
        /// Model id.
        model: Arc<str>,
        /// The session.
        session: String,
    },
    /// A reference was shared, set, cleared or unshared by another session.
    Reference {
        /// Model id.
        model: Arc<str>,
        /// The session that owns the reference.
        session: String,
        /// The value it is on (`None` for model-level element references).
        target: Option<ValueId>,
        /// The app-chosen key.
        key: String,
        /// What happened.
        change: ReferenceChange,
    },
    /// The session's rights on the model changed (it can still read it).
    PermissionsChanged {
        /// Model id.
        model: Arc<str>,
        /// The new rights.
        rights: crate::perm::ModelRights,
    },
    /// The engine closed the model for this session.
    ForceClosed {
        /// Model id.
        model: Arc<str>,
        /// Why.
        reason: ForceCloseReason,
        /// Human-readable detail.
        message: String,
    },
}

/// A slot shared by every copy of one event, in which a layer above keeps an encoded form of
/// it (the protocol layer: the wire bytes of a remote operation), made on first use and reused
/// for every other recipient. The model services only create it; they never look inside. Two
/// slots always compare equal: the slot is a cache, not part of the event.
#[derive(Clone, Default)]
pub struct EncodedOnce(Arc<OnceLock<Vec<u8>>>);

impl EncodedOnce {
    /// The encoded form, made by `encode` if no copy of the event has made it yet.
    pub fn get_or_init(&self, encode: impl FnOnce() -> Vec<u8>) -> &[u8] {
        self.0.get_or_init(encode)
    }
}

impl PartialEq for EncodedOnce {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for EncodedOnce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EncodedOnce")
    }
}

/// A change to a shared reference.
#[derive(Clone, Debug, PartialEq)]
pub enum ReferenceChange {
    /// Newly shared, with its values.
    Shared(ReferenceValues),
    /// Values replaced.
    Set(ReferenceValues),
    /// Values cleared.
    Cleared,
    /// No longer shared.
    Unshared,
}

/// A reference currently shared on a model.
#[derive(Clone, Debug, PartialEq)]
pub struct SharedReference {
    /// Owning session.
    pub session: String,
    /// The value it is on (`None` for model level).
    pub target: Option<ValueId>,
    /// App-chosen key.
    pub key: String,
    /// Current values (`None` when cleared).
    pub values: Option<ReferenceValues>,
}

/// Where a session's model events go.
pub type EventSink = tokio::sync::mpsc::UnboundedSender<ModelEvent>;

/// A model's data as of one version.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelData {
    /// The version.
    pub version: u64,
    /// The root object with ids.
    pub data: Value,
    /// Creation time (epoch ms).
    pub created_ms: i64,
    /// Time of the last change at or before this version (epoch ms).
    pub modified_ms: i64,
    /// The collection.
    pub collection: String,
}
