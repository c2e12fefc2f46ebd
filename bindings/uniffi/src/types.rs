//! The records and enums Kotlin and Swift see, and their conversions from and to the facade's
//! types. Structured values that may hold any UTF-16 (model data, operations) travel as exact
//! JSON text; everything else is typed.

use tandem::api::{self, JsString, UserType};

use crate::DomainState;

/// One engine error code: its number and its stable names (see [`error_codes`]).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ErrorCodeInfo {
    /// The stable number.
    pub number: i32,
    /// The snake-case name, e.g. `not_found`.
    pub name: String,
    /// The CamelCase name, e.g. `NotFound`: the `TandemException` subclass.
    pub class_name: String,
}

/// Every engine error code, in numeric order: the table `TandemException`'s variants follow.
#[uniffi::export]
pub fn error_codes() -> Vec<ErrorCodeInfo> {
    api::ErrorCode::ALL
        .iter()
        .map(|c| ErrorCodeInfo {
            number: c.as_i32(),
            name: c.as_str().to_string(),
            class_name: c.class_name().to_string(),
        })
        .collect()
}

/// A domain's identity.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DomainId {
    /// Namespace.
    pub namespace: String,
    /// Domain id within the namespace.
    pub id: String,
}

/// Settings of a domain. As input, a `null` `state` or `default_collection_world` takes the
/// engine's default (online; every collection permission); as output both are always set.
/// (UniFFI records cannot default to an enum case or a non-empty list.)
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DomainSettings {
    /// Human-readable name.
    #[uniffi(default = "")]
    pub display_name: String,
    /// Whether anonymous users may connect.
    #[uniffi(default = false)]
    pub anonymous_auth: bool,
    /// Whether creating a model in a missing collection creates the collection.
    #[uniffi(default = true)]
    pub collection_auto_create: bool,
    /// Which logins the domain accepts (`null`: online).
    #[uniffi(default = None)]
    pub state: Option<DomainState>,
    /// How long a reconnect token stays valid after its last use, in minutes (at least 1).
    #[uniffi(default = 1440)]
    pub reconnect_token_minutes: u32,
    /// What everyone may do with a collection created on demand: any of `create`, `read`,
    /// `write`, `remove`, `manage` (`null`: all of them).
    #[uniffi(default = None)]
    pub default_collection_world: Option<Vec<String>>,
    /// When the domain's models take snapshots (`null`: the engine's rule).
    #[uniffi(default = None)]
    pub snapshot_policy: Option<SnapshotPolicy>,
    /// Policies of single collections in place of the domain's.
    #[uniffi(default = [])]
    pub collection_snapshot_policies: Vec<CollectionSnapshotPolicy>,
}

/// When models take snapshots (the original server's rule; see `docs/history.md`): iff enabled,
/// at least the minimum intervals passed where limited, and more than the maximum interval of a
/// trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct SnapshotPolicy {
    /// Whether snapshots are taken by this policy at all.
    #[uniffi(default = true)]
    pub enabled: bool,
    /// Take one after more than `max_version_interval` versions.
    #[uniffi(default = true)]
    pub trigger_by_version: bool,
    /// See `trigger_by_version`.
    #[uniffi(default = 1000)]
    pub max_version_interval: u64,
    /// Never before `min_version_interval` versions.
    #[uniffi(default = false)]
    pub limited_by_version: bool,
    /// See `limited_by_version`.
    #[uniffi(default = 0)]
    pub min_version_interval: u64,
    /// Take one after more than `max_time_interval_ms`.
    #[uniffi(default = true)]
    pub trigger_by_time: bool,
    /// See `trigger_by_time`.
    #[uniffi(default = 600000)]
    pub max_time_interval_ms: u64,
    /// Never before `min_time_interval_ms`.
    #[uniffi(default = false)]
    pub limited_by_time: bool,
    /// See `limited_by_time`.
    #[uniffi(default = 0)]
    pub min_time_interval_ms: u64,
}

/// One collection's snapshot policy.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CollectionSnapshotPolicy {
    /// The collection.
    pub collection: String,
    /// Its policy.
    pub policy: SnapshotPolicy,
}

impl From<SnapshotPolicy> for api::SnapshotPolicy {
    fn from(p: SnapshotPolicy) -> Self {
        api::SnapshotPolicy {
            enabled: p.enabled,
            trigger_by_version: p.trigger_by_version,
            max_version_interval: p.max_version_interval,
            limited_by_version: p.limited_by_version,
            min_version_interval: p.min_version_interval,
            trigger_by_time: p.trigger_by_time,
            max_time_interval_ms: p.max_time_interval_ms,
            limited_by_time: p.limited_by_time,
            min_time_interval_ms: p.min_time_interval_ms,
        }
    }
}

impl From<api::SnapshotPolicy> for SnapshotPolicy {
    fn from(p: api::SnapshotPolicy) -> Self {
        SnapshotPolicy {
            enabled: p.enabled,
            trigger_by_version: p.trigger_by_version,
            max_version_interval: p.max_version_interval,
            limited_by_version: p.limited_by_version,
            min_version_interval: p.min_version_interval,
            trigger_by_time: p.trigger_by_time,
            max_time_interval_ms: p.max_time_interval_ms,
            limited_by_time: p.limited_by_time,
            min_time_interval_ms: p.min_time_interval_ms,
        }
    }
}

impl From<DomainSettings> for api::DomainSettings {
    fn from(s: DomainSettings) -> Self {
        let defaults = api::DomainSettings::default();
        api::DomainSettings {
            display_name: s.display_name,
            anonymous_auth: s.anonymous_auth,
            collection_auto_create: s.collection_auto_create,
            state: s.state.map_or(defaults.state, Into::into),
            reconnect_token_minutes: s.reconnect_token_minutes,
            default_collection_world: s
                .default_collection_world
                .unwrap_or(defaults.default_collection_world),
            snapshot_policy: s.snapshot_policy.map(Into::into),
            collection_snapshot_policies: s
                .collection_snapshot_policies
                .into_iter()
                .map(|c| (c.collection, c.policy.into()))
                .collect(),
        }
    }
}

impl From<api::DomainSettings> for DomainSettings {
    fn from(s: api::DomainSettings) -> Self {
        DomainSettings {
            display_name: s.display_name,
            anonymous_auth: s.anonymous_auth,
            collection_auto_create: s.collection_auto_create,
            state: Some(s.state.into()),
            reconnect_token_minutes: s.reconnect_token_minutes,
            default_collection_world: Some(s.default_collection_world),
            snapshot_policy: s.snapshot_policy.map(Into::into),
            collection_snapshot_policies: s
                .collection_snapshot_policies
                .into_iter()
                .map(|(collection, p)| CollectionSnapshotPolicy {
                    collection,
                    policy: p.into(),
                })
                .collect(),
        }
    }
}

/// The kind of a domain user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum UserKind {
    /// An application end user.
    Normal,
    /// A server user acting inside the domain (the host, the admin console).
    Convergence,
    /// A user created afresh for each anonymous login.
    Anonymous,
}

/// A domain user: its kind and name.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct UserId {
    /// The kind of user.
    pub kind: UserKind,
    /// The username (unique per kind within a domain).
    pub name: String,
}

impl From<api::UserId> for UserId {
    fn from(u: api::UserId) -> Self {
        let kind = match u.kind {
            UserType::Normal => UserKind::Normal,
            UserType::Convergence => UserKind::Convergence,
            UserType::Anonymous => UserKind::Anonymous,
        };
        UserId { kind, name: u.name }
    }
}

impl From<UserId> for api::UserId {
    fn from(u: UserId) -> Self {
        let kind = match u.kind {
            UserKind::Normal => UserType::Normal,
            UserKind::Convergence => UserType::Convergence,
            UserKind::Anonymous => UserType::Anonymous,
        };
        api::UserId::new(kind, u.name)
    }
}

/// A normal user to create; only `username` is required.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NewUser {
    /// Username (non-empty, case-sensitive, unique among the domain's normal users).
    pub username: String,
    /// Clear password, or `null` for a user who cannot log in with a password.
    #[uniffi(default = None)]
    pub password: Option<String>,
    /// Display name.
    #[uniffi(default = "")]
    pub display_name: String,
    /// First name.
    #[uniffi(default = "")]
    pub first_name: String,
    /// Last name.
    #[uniffi(default = "")]
    pub last_name: String,
    /// E-mail address.
    #[uniffi(default = "")]
    pub email: String,
}

impl From<NewUser> for api::NewUser {
    fn from(u: NewUser) -> Self {
        api::NewUser {
            username: u.username,
            display_name: u.display_name,
            first_name: u.first_name,
            last_name: u.last_name,
            email: u.email,
            password: u.password,
        }
    }
}

/// A normal user as the host sees it (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct User {
    /// Username.
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

impl From<api::User> for User {
    fn from(u: api::User) -> Self {
        User {
            username: u.username,
            display_name: u.display_name,
            first_name: u.first_name,
            last_name: u.last_name,
            email: u.email,
            disabled: u.disabled,
            has_password: u.has_password,
            created_ms: u.created_ms,
            last_login_ms: u.last_login_ms,
        }
    }
}

/// A key that verifies JWT logins; as input only `id` and `public_key_pem` are required.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct JwtKey {
    /// Key id (the `kid` header of tokens signed with the matching private key).
    pub id: String,
    /// The RSA public key in PEM (`-----BEGIN PUBLIC KEY-----`).
    pub public_key_pem: String,
    /// Description.
    #[uniffi(default = "")]
    pub description: String,
    /// Only enabled keys verify logins.
    #[uniffi(default = true)]
    pub enabled: bool,
    /// Time of the last change (epoch ms; set by the engine, ignored as input).
    #[uniffi(default = 0)]
    pub updated_ms: i64,
}

impl From<JwtKey> for api::JwtKey {
    fn from(k: JwtKey) -> Self {
        api::JwtKey {
            id: k.id,
            description: k.description,
            public_key_pem: k.public_key_pem,
            enabled: k.enabled,
            updated_ms: k.updated_ms,
        }
    }
}

impl From<api::JwtKey> for JwtKey {
    fn from(k: api::JwtKey) -> Self {
        JwtKey {
            id: k.id,
            public_key_pem: k.public_key_pem,
            description: k.description,
            enabled: k.enabled,
            updated_ms: k.updated_ms,
        }
    }
}

/// A model's metadata.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ModelInfo {
    /// Model id.
    pub id: String,
    /// Collection id.
    pub collection: String,
    /// Current durable version.
    pub version: u64,
    /// Creation time (epoch ms).
    pub created_ms: i64,
    /// Last change (epoch ms).
    pub modified_ms: i64,
}

impl From<api::ModelInfo> for ModelInfo {
    fn from(m: api::ModelInfo) -> Self {
        ModelInfo {
            id: m.id,
            collection: m.collection,
            version: m.version,
            created_ms: m.created_ms,
            modified_ms: m.modified_ms,
        }
    }
}

/// One entry of a model's history.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HistoryEntry {
    /// The version the operation produced.
    pub version: u64,
    /// When it was applied (epoch ms).
    pub timestamp_ms: i64,
    /// The submitting session.
    pub session: String,
    /// The submitting user.
    pub user: UserId,
    /// The operation as exact JSON text.
    pub operation_json: String,
    /// The versions an undo (or redo) undoes; empty for an ordinary change.
    pub undoes: Vec<u64>,
}

impl From<api::HistoryEntry> for HistoryEntry {
    fn from(h: api::HistoryEntry) -> Self {
        HistoryEntry {
            version: h.version,
            timestamp_ms: h.timestamp_ms,
            session: h.session.to_string(),
            user: h.user.into(),
            operation_json: h.operation.to_json_string(),
            undoes: h.undoes,
        }
    }
}

/// One step of a path from a model's root to a value.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum PathSegment {
    /// An object property.
    Key {
        /// The property name.
        name: String,
    },
    /// An array position.
    Index {
        /// The position.
        index: u64,
    },
}

/// A change to a model's data; a list of them applies as one operation. Values are JSON text
/// (exact: `\uXXXX` escapes of unpaired surrogates are kept).
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum Change {
    /// Sets a property (added if missing) or array element; an empty path replaces the data.
    Set {
        /// Where.
        path: Vec<PathSegment>,
        /// The new value as JSON text.
        value_json: String,
    },
    /// Inserts into an array.
    Insert {
        /// The array.
        path: Vec<PathSegment>,
        /// The position.
        index: i64,
        /// The value as JSON text.
        value_json: String,
    },
    /// Removes a property or array element.
    Remove {
        /// What.
        path: Vec<PathSegment>,
    },
    /// Moves an array element.
    Move {
        /// The array.
        path: Vec<PathSegment>,
        /// From this position.
        from: i64,
        /// To this one.
        to: i64,
    },
    /// Edits text (UTF-16 positions).
    Splice {
        /// The string.
        path: Vec<PathSegment>,
        /// First position.
        index: i64,
        /// Code units deleted there.
        delete: i64,
        /// Text inserted there.
        insert: String,
    },
    /// Adds to a number.
    Add {
        /// The number.
        path: Vec<PathSegment>,
        /// The amount.
        delta: f64,
    },
}

pub(crate) fn parse(text: &str, what: &str) -> Result<api::JsonValue, api::Error> {
    api::parse_json(text).map_err(|e| {
        api::Error::new(
            api::ErrorCode::InvalidArgument,
            format!("{what} is not valid JSON: {e}"),
        )
    })
}

fn path(p: Vec<PathSegment>) -> Result<Vec<api::PathSegment>, api::Error> {
    p.into_iter()
        .map(|s| match s {
            PathSegment::Key { name } => Ok(api::PathSegment::Key(JsString::from(name))),
            PathSegment::Index { index } => usize::try_from(index)
                .map(api::PathSegment::Index)
                .map_err(|_| {
                    api::Error::new(
                        api::ErrorCode::InvalidArgument,
                        format!("bad path index {index}"),
                    )
                }),
        })
        .collect()
}

impl TryFrom<Change> for api::Change {
    type Error = api::Error;

    fn try_from(c: Change) -> Result<Self, api::Error> {
        Ok(match c {
            Change::Set {
                path: p,
                value_json,
            } => api::Change::Set {
                path: path(p)?,
                value: parse(&value_json, "the value")?,
            },
            Change::Insert {
                path: p,
                index,
                value_json,
            } => api::Change::Insert {
                path: path(p)?,
                index,
                value: parse(&value_json, "the value")?,
            },
            Change::Remove { path: p } => api::Change::Remove { path: path(p)? },
            Change::Move { path: p, from, to } => api::Change::Move {
                path: path(p)?,
                from,
                to,
            },
            Change::Splice {
                path: p,
                index,
                delete,
                insert,
            } => api::Change::Splice {
                path: path(p)?,
                index,
                delete,
                insert: JsString::from(insert),
            },
            Change::Add { path: p, delta } => api::Change::Add {
                path: path(p)?,
                delta,
            },
        })
    }
}

pub(crate) fn changes(list: Vec<Change>) -> Result<Vec<api::Change>, api::Error> {
    list.into_iter().map(api::Change::try_from).collect()
}

/// Something that happened in the engine.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
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
        session: String,
        /// The submitting user.
        user: UserId,
        /// When (epoch ms).
        timestamp_ms: i64,
        /// The operation as exact JSON text.
        operation_json: String,
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
        session: String,
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
        session: String,
        /// Its user.
        user: UserId,
    },
    /// The last session left a model: everything up to `version` is durable.
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
    /// A model was created.
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
    /// A model was deleted.
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
        session: String,
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
        session: String,
        /// The user.
        user: UserId,
    },
    /// A user's presence changed; the event says what it is now.
    PresenceChanged {
        /// Namespace.
        namespace: String,
        /// Domain id.
        domain: String,
        /// The user.
        user: UserId,
        /// Whether the user has a connected session.
        available: bool,
        /// The user's whole presence state as JSON text (an object).
        state_json: String,
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
        session: Option<String>,
        /// Its user (none for a deletion).
        user: Option<UserId>,
        /// The session's whole state in the activity after the change, as JSON text (an object).
        state_json: String,
    },
    /// A chat has a new stored event, a member marked its events seen, or it was removed.
    ChatChanged {
        /// Namespace.
        namespace: String,
        /// Domain id.
        domain: String,
        /// The chat's id.
        chat_id: String,
        /// What happened.
        change: crate::chats::ChatChange,
    },
}

/// What happened in an activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ActivityChangeKind {
    /// A visible session joined.
    Joined,
    /// A visible session left (or was made to).
    Left,
    /// A participant's state changed.
    StateChanged,
    /// The activity was deleted.
    Deleted,
}

impl From<api::ActivityChangeKind> for ActivityChangeKind {
    fn from(k: api::ActivityChangeKind) -> Self {
        match k {
            api::ActivityChangeKind::Joined => ActivityChangeKind::Joined,
            api::ActivityChangeKind::Left => ActivityChangeKind::Left,
            api::ActivityChangeKind::StateChanged => ActivityChangeKind::StateChanged,
            api::ActivityChangeKind::Deleted => ActivityChangeKind::Deleted,
        }
    }
}

/// A user's presence: whether it has a connected session, and the state its sessions share.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct UserPresence {
    /// The user.
    pub user: UserId,
    /// Whether the user has a connected session.
    pub available: bool,
    /// The user's presence state as JSON text (an object; empty while unavailable).
    pub state_json: String,
}

use api::presence_state_to_json_text as state_text;

impl From<api::UserPresence> for UserPresence {
    fn from(p: api::UserPresence) -> Self {
        UserPresence {
            state_json: state_text(&p.state),
            user: p.user.into(),
            available: p.available,
        }
    }
}

impl From<api::Event> for Event {
    fn from(e: api::Event) -> Self {
        match e {
            api::Event::OperationApplied {
                namespace,
                domain,
                model,
                version,
                session,
                user,
                timestamp_ms,
                operation,
            } => Event::OperationApplied {
                namespace,
                domain,
                model,
                version,
                session: session.to_string(),
                user: user.into(),
                timestamp_ms,
                operation_json: operation.to_json_string(),
            },
            api::Event::ModelOpened {
                namespace,
                domain,
                model,
                session,
                user,
            } => Event::ModelOpened {
                namespace,
                domain,
                model,
                session: session.to_string(),
                user: user.into(),
            },
            api::Event::ModelClosed {
                namespace,
                domain,
                model,
                session,
                user,
            } => Event::ModelClosed {
                namespace,
                domain,
                model,
                session: session.to_string(),
                user: user.into(),
            },
            api::Event::LastSessionLeft {
                namespace,
                domain,
                model,
                version,
            } => Event::LastSessionLeft {
                namespace,
                domain,
                model,
                version,
            },
            api::Event::ModelCreated {
                namespace,
                domain,
                model,
                collection,
            } => Event::ModelCreated {
                namespace,
                domain,
                model,
                collection,
            },
            api::Event::ModelDeleted {
                namespace,
                domain,
                model,
                collection,
            } => Event::ModelDeleted {
                namespace,
                domain,
                model,
                collection,
            },
            api::Event::UserConnected {
                namespace,
                domain,
                session,
                user,
            } => Event::UserConnected {
                namespace,
                domain,
                session: session.to_string(),
                user: user.into(),
            },
            api::Event::UserDisconnected {
                namespace,
                domain,
                session,
                user,
            } => Event::UserDisconnected {
                namespace,
                domain,
                session: session.to_string(),
                user: user.into(),
            },
            api::Event::PresenceChanged {
                namespace,
                domain,
                user,
                available,
                state,
            } => Event::PresenceChanged {
                namespace,
                domain,
                user: user.into(),
                available,
                state_json: state_text(&state),
            },
            api::Event::ActivityChanged {
                namespace,
                domain,
                activity_type,
                activity_id,
                kind,
                session,
                user,
                state,
            } => Event::ActivityChanged {
                namespace,
                domain,
                activity_type,
                activity_id,
                kind: kind.into(),
                session: session.map(|s| s.to_string()),
                user: user.map(Into::into),
                state_json: state_text(&state),
            },
            api::Event::ChatChanged {
                namespace,
                domain,
                chat_id,
                change,
            } => Event::ChatChanged {
                namespace,
                domain,
                chat_id,
                change: change.into(),
            },
        }
    }
}
