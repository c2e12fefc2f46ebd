//! The facade's own data types: what hosts pass in (serde `Deserialize`, every field but the
//! identifying ones defaulted) and what they get back (serde `Serialize`). Store records stay
//! inside the engine.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::model::{ActivityChangeKind, EngineEvent};
use crate::ot::json::{operation_to_json_value, JsonValue};
use crate::session::{SessionId, UserId};
use crate::store::{JwtKeyRecord, UserRecord, UserType};

/// A normal user of a domain, as the host sees it (never the password hash).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct User {
    /// Username (unique among the domain's normal users; case-sensitive).
    pub username: String,
    /// Display name (may be empty).
    pub display_name: String,
    /// First name (may be empty).
    pub first_name: String,
    /// Last name (may be empty).
    pub last_name: String,
    /// E-mail address (may be empty).
    pub email: String,
    /// A disabled user cannot log in.
    pub disabled: bool,
    /// Whether the user can log in with a password.
    pub has_password: bool,
    /// Creation time (epoch ms).
    pub created_ms: i64,
    /// Time of the last successful login (epoch ms; 0 if never).
    pub last_login_ms: i64,
}

impl User {
    /// The user's id.
    pub fn id(&self) -> UserId {
        UserId::new(UserType::Normal, self.username.clone())
    }
}

impl From<UserRecord> for User {
    fn from(r: UserRecord) -> Self {
        User {
            has_password: r.password_hash.is_some(),
            username: r.username,
            display_name: r.display_name,
            first_name: r.first_name,
            last_name: r.last_name,
            email: r.email,
            disabled: r.disabled,
            created_ms: r.created_ms,
            last_login_ms: r.last_login_ms,
        }
    }
}

/// A key that verifies JWT logins. As input only `id` and `public_key_pem` are required.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct JwtKey {
    /// Key id (the `kid` header of tokens signed with the matching private key).
    pub id: String,
    /// Description.
    pub description: String,
    /// The RSA public key in PEM (`-----BEGIN PUBLIC KEY-----`).
    pub public_key_pem: String,
    /// Only enabled keys verify logins.
    pub enabled: bool,
    /// Time of the last change (epoch ms; set by the engine, ignored as input).
    pub updated_ms: i64,
}

impl Default for JwtKey {
    fn default() -> Self {
        JwtKey {
            id: String::new(),
            description: String::new(),
            public_key_pem: String::new(),
            enabled: true,
            updated_ms: 0,
        }
    }
}

impl From<JwtKeyRecord> for JwtKey {
    fn from(r: JwtKeyRecord) -> Self {
        JwtKey {
            id: r.id,
            description: r.description,
            public_key_pem: r.public_key_pem,
            enabled: r.enabled,
            updated_ms: r.updated_ms,
        }
    }
}

impl From<JwtKey> for JwtKeyRecord {
    fn from(k: JwtKey) -> Self {
        JwtKeyRecord {
            id: k.id,
            description: k.description,
            public_key_pem: k.public_key_pem,
            enabled: k.enabled,
            updated_ms: k.updated_ms,
        }
    }
}

/// One entry of a model's history.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HistoryEntry {
    /// The version the operation produced.
    pub version: u64,
    /// When it was applied (epoch ms).
    pub timestamp_ms: i64,
    /// The submitting session.
    pub session: SessionId,
    /// The submitting user.
    pub user: UserId,
    /// The operation as JSON (see [`operation_to_json`](super::operation_to_json)).
    pub operation: JsonValue,
    /// The versions this operation undoes (it is an undo, or a redo when they are undos);
    /// empty for an ordinary change.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub undoes: Vec<u64>,
}

impl HistoryEntry {
    /// The entry as compact JSON text, exactly (see [`Event::to_json_text`]).
    pub fn to_json_text(&self) -> String {
        exact_json(self, &self.operation)
    }
}

/// `value` as JSON text with its `"operation"` written exactly.
fn exact_json(value: &impl Serialize, operation: &JsonValue) -> String {
    let mut v = JsonValue::from(serde_json::to_value(value).unwrap_or_default());
    if let JsonValue::Object(m) = &mut v {
        m.insert("operation".into(), operation.clone());
    }
    v.to_json_string()
}

/// Something that happened in the engine, as a host sees it. In JSON an event is an object
/// with a `"type"` (`operation_applied`, `model_opened`, `model_closed`, `last_session_left`,
/// `model_created`, `model_deleted`, `user_connected`, `user_disconnected`, `presence_changed`, `activity_changed`,
/// `chat_changed`) beside its fields.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// An operation was applied and is durable.
    OperationApplied {
        /// Namespace.
        namespace: String,
        /// Domain id.
        domain: String,
        /// Model id.
        model: String,
        /// The version the operation produced.
        version: u64,
        /// The submitting session (`host` for host-side changes).
        session: SessionId,
        /// The submitting user.
        user: UserId,
        /// When (epoch ms).
        timestamp_ms: i64,
        /// The operation as JSON (see [`operation_to_json`](super::operation_to_json)).
        operation: JsonValue,
    },
    /// A session opened a model.
    ModelOpened {
        /// Namespace.
        namespace: String,
        /// Domain id.
        domain: String,
        /// Model id.
        model: String,
        /// The session.
        session: SessionId,
        /// Its user.
        user: UserId,
    },
    /// A session closed a model (or went away).
    ModelClosed {
        /// Namespace.
        namespace: String,
        /// Domain id.
        domain: String,
        /// Model id.
        model: String,
        /// The session.
        session: SessionId,
        /// Its user.
        user: UserId,
    },
    /// The last session left a model: everything up to `version` is durable, the moment an
    /// app writes the model back to its own database.
    LastSessionLeft {
        /// Namespace.
        namespace: String,
        /// Domain id.
        domain: String,
        /// Model id.
        model: String,
        /// The model's version at that moment.
        version: u64,
    },
    /// A model was created (by a client, the host or the REST API).
    ModelCreated {
        /// Namespace.
        namespace: String,
        /// Domain id.
        domain: String,
        /// Model id.
        model: String,
        /// Its collection.
        collection: String,
    },
    /// A model was deleted (alone or with its collection).
    ModelDeleted {
        /// Namespace.
        namespace: String,
        /// Domain id.
        domain: String,
        /// Model id.
        model: String,
        /// Its collection.
        collection: String,
    },
    /// A user's session connected to a domain.
    UserConnected {
        /// Namespace.
        namespace: String,
        /// Domain id.
        domain: String,
        /// The session.
        session: SessionId,
        /// The user.
        user: UserId,
    },
    /// A user's session disconnected.
    UserDisconnected {
        /// Namespace.
        namespace: String,
        /// Domain id.
        domain: String,
        /// The session.
        session: SessionId,
        /// The user.
        user: UserId,
    },
    /// A user's presence changed (its availability or its state); the event says what it is
    /// now.
    PresenceChanged {
        /// Namespace.
        namespace: String,
        /// Domain id.
        domain: String,
        /// The user.
        user: UserId,
        /// Whether the user has a connected session.
        available: bool,
        /// The user's whole presence state.
        state: PresenceState,
    },
    /// A session joined or left an activity, changed its state there, or the activity was
    /// deleted.
    ActivityChanged {
        /// Namespace.
        namespace: String,
        /// Domain id.
        domain: String,
        /// The activity's type.
        activity_type: String,
        /// The activity's id.
        activity_id: String,
        /// What happened.
        kind: ActivityChangeKind,
        /// The session (none for a deletion).
        session: Option<SessionId>,
        /// Its user (none for a deletion).
        user: Option<UserId>,
        /// The session's whole state in the activity after the change.
        state: PresenceState,
    },
    /// A chat has a new stored event (a message, a join, a rename, ...), a member marked its
    /// events seen, or it was removed.
    ChatChanged {
        /// Namespace.
        namespace: String,
        /// Domain id.
        domain: String,
        /// The chat's id.
        chat_id: String,
        /// What happened.
        #[serde(flatten)]
        change: super::ChatChange,
    },
}

/// A user's presence state: keys to JSON values.
pub type PresenceState = BTreeMap<String, Json>;

/// A presence state as compact JSON text (an object).
pub fn presence_state_to_json_text(state: &PresenceState) -> String {
    serde_json::to_string(state).unwrap_or_else(|_| "{}".to_string())
}

/// A user's presence: whether it has a connected session, and the state its sessions share.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UserPresence {
    /// The user.
    pub user: UserId,
    /// Whether the user has a connected session.
    pub available: bool,
    /// The user's presence state (empty while unavailable).
    pub state: PresenceState,
}

impl From<crate::presence::UserPresence> for UserPresence {
    fn from(p: crate::presence::UserPresence) -> Self {
        UserPresence {
            user: p.user,
            available: p.available,
            state: p.state,
        }
    }
}

impl Event {
    /// The event as compact JSON text, exactly: an unpaired surrogate in the operation's text
    /// is written as a `\uXXXX` escape (serde forms show U+FFFD instead).
    pub fn to_json_text(&self) -> String {
        match self {
            Event::OperationApplied { operation, .. } => exact_json(self, operation),
            _ => JsonValue::from(serde_json::to_value(self).unwrap_or_default()).to_json_string(),
        }
    }

    /// The model the event concerns, if any.
    pub fn model(&self) -> Option<&str> {
        match self {
            Event::OperationApplied { model, .. }
            | Event::ModelOpened { model, .. }
            | Event::ModelClosed { model, .. }
            | Event::LastSessionLeft { model, .. }
            | Event::ModelCreated { model, .. }
            | Event::ModelDeleted { model, .. } => Some(model),
            Event::UserConnected { .. }
            | Event::UserDisconnected { .. }
            | Event::PresenceChanged { .. }
            | Event::ActivityChanged { .. }
            | Event::ChatChanged { .. } => None,
        }
    }
}

impl From<EngineEvent> for Event {
    fn from(e: EngineEvent) -> Self {
        let user = |u: String| UserId::from_key(&u);
        match e {
            EngineEvent::OperationApplied {
                domain,
                model,
                version,
                session,
                user: u,
                timestamp_ms,
                op,
            } => Event::OperationApplied {
                namespace: domain.namespace,
                domain: domain.id,
                model,
                version,
                session: SessionId::new(session),
                user: user(u),
                timestamp_ms,
                operation: operation_to_json_value(&op),
            },
            EngineEvent::ModelOpened {
                domain,
                model,
                session,
                user: u,
            } => Event::ModelOpened {
                namespace: domain.namespace,
                domain: domain.id,
                model,
                session: SessionId::new(session),
                user: user(u),
            },
            EngineEvent::ModelClosed {
                domain,
                model,
                session,
                user: u,
            } => Event::ModelClosed {
                namespace: domain.namespace,
                domain: domain.id,
                model,
                session: SessionId::new(session),
                user: user(u),
            },
            EngineEvent::LastSessionLeft {
                domain,
                model,
                version,
            } => Event::LastSessionLeft {
                namespace: domain.namespace,
                domain: domain.id,
                model,
                version,
            },
            EngineEvent::ModelCreated {
                domain,
                model,
                collection,
            } => Event::ModelCreated {
                namespace: domain.namespace,
                domain: domain.id,
                model,
                collection,
            },
            EngineEvent::ModelDeleted {
                domain,
                model,
                collection,
            } => Event::ModelDeleted {
                namespace: domain.namespace,
                domain: domain.id,
                model,
                collection,
            },
            EngineEvent::UserConnected {
                domain,
                session,
                user: u,
            } => Event::UserConnected {
                namespace: domain.namespace,
                domain: domain.id,
                session: SessionId::new(session),
                user: user(u),
            },
            EngineEvent::UserDisconnected {
                domain,
                session,
                user: u,
            } => Event::UserDisconnected {
                namespace: domain.namespace,
                domain: domain.id,
                session: SessionId::new(session),
                user: user(u),
            },
            EngineEvent::PresenceChanged {
                domain,
                user,
                available,
                state,
            } => Event::PresenceChanged {
                namespace: domain.namespace,
                domain: domain.id,
                user,
                available,
                state,
            },
            EngineEvent::ActivityChanged {
                domain,
                activity_type,
                id,
                kind,
                session,
                user,
                state,
            } => Event::ActivityChanged {
                namespace: domain.namespace,
                domain: domain.id,
                activity_type,
                activity_id: id,
                kind,
                session: session.map(SessionId::new),
                user,
                state,
            },
            EngineEvent::ChatChanged { domain, chat, push } => Event::ChatChanged {
                namespace: domain.namespace,
                domain: domain.id,
                chat_id: chat.to_string(),
                change: (&push).into(),
            },
        }
    }
}
