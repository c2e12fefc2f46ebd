//! Durable storage: the [`Store`] trait, its records (domains, collections, models, logs,
//! snapshots, users, JWT keys, reconnect tokens), and two implementations — LMDB through
//! heed (the embedded default: one data directory, no other process) and an in-memory store
//! for ephemeral engines and tests.
//!
//! Writes from every model go to one writer, which makes whatever has queued up durable at
//! once (group commit), so durability costs one device flush per batch, not per operation. The
//! LMDB store logs each batch to a write-ahead log (one sync) and applies it to the database in
//! the background; reads run concurrently and always see every acknowledged write.

mod acl;
mod activity;
pub(crate) mod batch;
mod chat;
pub mod codec;
mod credentials;
mod encoded;
pub mod index;
mod lmdb;
mod memory;
mod snapshot_policy;
mod splice_codec;
mod user_id;
mod wal;
mod webhooks;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;

use crate::ot::{AppliedOperation, Value};

pub use acl::{
    DomainState, Grantee, GranteeKind, GroupRecord, PermissionRow, PermissionTarget,
    OVERRIDE_MARKER,
};
pub use activity::ActivityRecord;
pub use chat::{ChatEvent, ChatEventKind, ChatKind, ChatMember, ChatRecord};
pub use credentials::{AdminRecord, ApiKeyRecord};
pub use encoded::EncodedOps;
pub use lmdb::LmdbStore;
pub use memory::MemoryStore;
pub use snapshot_policy::{SnapshotPolicies, SnapshotPolicy};
pub use user_id::UserId;
pub use webhooks::{DeliveryRecord, DeliveryStatus, WebhookRecord};

/// Every write-ahead log record in `dir` above `applied` (what opening the store applies);
/// for [`crate::fuzzing`].
pub(crate) fn recover_log(dir: &std::path::Path, applied: u64) -> StoreResult<Vec<(u64, Vec<u8>)>> {
    wal::recover(dir, applied)
}

/// The on-disk format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 4;

/// Errors of the storage layer.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StoreError {
    /// The data directory was written by a build with another format.
    #[error("store format version {found} is not supported (this build reads format version {expected}); migrate or use a matching build")]
    FormatVersion {
        /// Version found on disk.
        found: u32,
        /// Version this build supports.
        expected: u32,
    },
    /// A record that must exist does not.
    #[error("not found: {0}")]
    NotFound(String),
    /// A record that must not exist does.
    #[error("already exists: {0}")]
    AlreadyExists(String),
    /// A stored record could not be decoded.
    #[error("corrupt record: {0}")]
    Corrupt(String),
    /// The underlying database or file system failed.
    #[error("storage failure: {0}")]
    Io(String),
    /// The store has been closed.
    #[error("the store is closed")]
    Closed,
    /// A write the store cannot hold (refused before anything of it was logged).
    #[error("invalid write: {0}")]
    Invalid(String),
}

/// Result of a storage call.
pub type StoreResult<T> = Result<T, StoreError>;

/// Called by the writer once a batch is durable (or has failed). Never called while a store
/// lock is held.
pub type CommitCallback = Box<dyn FnOnce(StoreResult<()>) + Send + 'static>;

/// Names a domain: `(namespace, domain id)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DomainKey {
    /// The namespace.
    pub namespace: String,
    /// The domain id within the namespace.
    pub id: String,
}

impl DomainKey {
    /// Builds a domain key.
    pub fn new(namespace: impl Into<String>, id: impl Into<String>) -> Self {
        DomainKey {
            namespace: namespace.into(),
            id: id.into(),
        }
    }
}

impl std::fmt::Display for DomainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.id)
    }
}

/// A domain and its settings.
#[derive(Clone, Debug, PartialEq)]
pub struct DomainRecord {
    /// Its key.
    pub key: DomainKey,
    /// Human-readable name.
    pub display_name: String,
    /// Creation time (epoch ms).
    pub created_ms: i64,
    /// Whether anonymous users may connect.
    pub anonymous_auth: bool,
    /// Whether creating a model in a missing collection creates the collection.
    pub collection_auto_create: bool,
    /// Whether the domain accepts logins.
    pub state: DomainState,
    /// How long a reconnect token stays valid after its last use, in minutes.
    pub reconnect_token_minutes: u32,
    /// The collection permissions (`create`, `read`, `write`, `remove`, `manage`) everyone gets
    /// on a collection created on demand.
    pub default_collection_world: Vec<String>,
    /// The domain admin key's private half (PKCS#8 PEM, Ed25519); empty until generated.
    pub admin_private_key_pem: String,
    /// The domain admin key's public half (SubjectPublicKeyInfo PEM); empty until generated.
    pub admin_public_key_pem: String,
    /// When its models take snapshots (unset: the engine's rule).
    pub snapshots: SnapshotPolicies,
}

/// A collection of models within a domain.
#[derive(Clone, Debug, PartialEq)]
pub struct CollectionRecord {
    /// Collection id (unique within the domain).
    pub id: String,
    /// Description.
    pub description: String,
    /// Creation time (epoch ms).
    pub created_ms: i64,
}

/// What the store knows about a model besides its data and log.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelMeta {
    /// The domain the model belongs to.
    pub domain: DomainKey,
    /// Model id (unique within the domain).
    pub id: String,
    /// The model's collection.
    pub collection: String,
    /// Store-internal number, unique across the store; keys the log and snapshots.
    pub number: u64,
    /// Creation time (epoch ms).
    pub created_ms: i64,
    /// Time of the last applied operation (epoch ms).
    pub modified_ms: i64,
    /// Current version (a new model is at version 1).
    pub version: u64,
    /// The last value-id prefix handed out (base-36 rendered on the wire).
    pub value_prefix: u64,
    /// Deleted when its last session closes (set by a client's auto-create data).
    pub ephemeral: bool,
}

/// One applied operation in a model's log.
#[derive(Clone, Debug, PartialEq)]
pub struct OpRecord {
    /// The version this operation produced (its context version + 1).
    pub version: u64,
    /// When it was applied (epoch ms).
    pub timestamp_ms: i64,
    /// The session that submitted it.
    pub session: Arc<str>,
    /// The user behind that session.
    pub user: Arc<str>,
    /// The submitting client's sequence number for it (none for host changes).
    pub seq: Option<u64>,
    /// The operation as applied, with what it replaced.
    pub op: AppliedOperation,
    /// What the operation did besides its changes: undo or restore (none for ordinary edits).
    pub mark: Option<OpMark>,
}

/// The history meaning of an operation that a host or the engine made.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpMark {
    /// It undoes the operations at these versions, oldest first (a redo undoes an undo).
    Undoes(Vec<u64>),
    /// It restores the model's data as of this version.
    Restores(u64),
}

/// A model's full data at one version.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// The version of this state.
    pub version: u64,
    /// When that version was reached (epoch ms).
    pub timestamp_ms: i64,
    /// The root object.
    pub data: Value,
}

/// The kind of a domain user; a user is keyed by `(user type, username)`.
///
/// The numbers are those of the protocol's `DomainUserTypeData` and of the store format.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum UserType {
    /// An application end user (created by the host, or by a JWT login).
    Normal = 0,
    /// A server user acting inside the domain (admin console).
    Convergence = 1,
    /// A user created afresh for each anonymous login.
    Anonymous = 2,
}

impl UserType {
    /// The protocol's number for this type.
    pub fn as_i32(self) -> i32 {
        self as i32
    }

    /// The type with the protocol's number `n`, if any.
    pub fn from_i32(n: i32) -> Option<UserType> {
        match n {
            0 => Some(UserType::Normal),
            1 => Some(UserType::Convergence),
            2 => Some(UserType::Anonymous),
            _ => None,
        }
    }

    /// The lower-case name used in client-side user ids (`normal:bob`).
    pub fn as_str(self) -> &'static str {
        match self {
            UserType::Normal => "normal",
            UserType::Convergence => "convergence",
            UserType::Anonymous => "anonymous",
        }
    }
}

/// A domain user.
#[derive(Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// The kind of user.
    pub user_type: UserType,
    /// Username (unique per user type within the domain; case-sensitive).
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
    /// The password as an argon2 PHC string (never the clear password); `None` when the user
    /// has no password.
    pub password_hash: Option<String>,
    /// Creation time (epoch ms).
    pub created_ms: i64,
    /// Time of the last successful login (epoch ms; 0 if never).
    pub last_login_ms: i64,
}

impl UserRecord {
    /// A profile for a user the store no longer knows (for showing old history): just the
    /// type and name.
    pub fn placeholder(user_type: UserType, username: &str) -> Self {
        UserRecord {
            user_type,
            username: username.to_string(),
            display_name: username.to_string(),
            first_name: String::new(),
            last_name: String::new(),
            email: String::new(),
            disabled: false,
            password_hash: None,
            created_ms: 0,
            last_login_ms: 0,
        }
    }
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("user_type", &self.user_type)
            .field("username", &self.username)
            .field("display_name", &self.display_name)
            .field("first_name", &self.first_name)
            .field("last_name", &self.last_name)
            .field("email", &self.email)
            .field("disabled", &self.disabled)
            .field(
                "password_hash",
                &self.password_hash.as_ref().map(|_| "<redacted>"),
            )
            .field("created_ms", &self.created_ms)
            .field("last_login_ms", &self.last_login_ms)
            .finish()
    }
}

/// A public key that verifies JWT logins to a domain (selected by the token's `kid`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JwtKeyRecord {
    /// Key id (the `kid` header of tokens signed with the matching private key).
    pub id: String,
    /// Description.
    pub description: String,
    /// The RSA public key in PEM (X.509 SubjectPublicKeyInfo, `-----BEGIN PUBLIC KEY-----`).
    pub public_key_pem: String,
    /// Only enabled keys verify logins.
    pub enabled: bool,
    /// Time of the last change (epoch ms).
    pub updated_ms: i64,
}

/// A reconnect token: lets a client log in again as the same user without credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct ReconnectTokenRecord {
    /// The token (unique within the domain).
    pub token: String,
    /// The type of the user it logs in.
    pub user_type: UserType,
    /// The username it logs in.
    pub username: String,
    /// Expiry (epoch ms); the token is refused from this instant on.
    pub expires_ms: i64,
    /// The sessions that logged in with it, oldest first (the newest few are kept).
    pub sessions: Vec<String>,
}

impl std::fmt::Debug for ReconnectTokenRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReconnectTokenRecord")
            .field("token", &"<redacted>")
            .field("user_type", &self.user_type)
            .field("username", &self.username)
            .field("expires_ms", &self.expires_ms)
            .field("sessions", &self.sessions)
            .finish()
    }
}

/// One change in a write batch. A batch is applied atomically.
#[derive(Clone, Debug)]
pub enum WriteOp {
    /// Create or replace a domain record.
    PutDomain(DomainRecord),
    /// Delete a domain with all its collections, models, logs, snapshots, users, JWT keys,
    /// reconnect tokens, groups and permission rows.
    DeleteDomain(DomainKey),
    /// Create or replace a collection.
    PutCollection {
        /// Its domain.
        domain: DomainKey,
        /// The record.
        record: CollectionRecord,
    },
    /// Delete a collection and every model in it, with their permission rows.
    DeleteCollection {
        /// Its domain.
        domain: DomainKey,
        /// Collection id.
        id: String,
    },
    /// Create a model with its initial snapshot; fails with `AlreadyExists` if the id is taken.
    CreateModel {
        /// Metadata (version normally 1).
        meta: ModelMeta,
        /// The initial state.
        snapshot: Snapshot,
    },
    /// Replace a model's metadata (version, modified time, value prefix).
    PutModelMeta(ModelMeta),
    /// Append operations to a model's log, in version order.
    AppendOps {
        /// The model's store number.
        number: u64,
        /// The records.
        ops: Vec<OpRecord>,
    },
    /// Append operations to a model's log, in version order, as encoded records (what a
    /// sequencer writes: it encodes each record where it applied the operation).
    AppendEncoded {
        /// The model's store number.
        number: u64,
        /// The records.
        ops: EncodedOps,
    },
    /// Store a snapshot (older snapshots beyond the retention limit are dropped, except the
    /// model's first).
    PutSnapshot {
        /// The model's store number.
        number: u64,
        /// The snapshot.
        snapshot: Snapshot,
    },
    /// Make these the query index entries of a model (see [`index`]); ignored when the model
    /// no longer exists.
    IndexModel {
        /// Its domain.
        domain: DomainKey,
        /// Model id.
        id: String,
        /// The model's store number.
        number: u64,
        /// Every entry of the model's current data.
        entries: std::collections::BTreeSet<index::IndexKey>,
    },
    /// Delete a model with its log, snapshots and permission rows.
    DeleteModel {
        /// Its domain.
        domain: DomainKey,
        /// Model id.
        id: String,
    },
    /// Create or replace a user.
    PutUser {
        /// Its domain.
        domain: DomainKey,
        /// The record.
        record: UserRecord,
    },
    /// Delete a user with every reconnect token that logs it in, its group memberships and
    /// the permission rows granted to it.
    DeleteUser {
        /// Its domain.
        domain: DomainKey,
        /// The user's type.
        user_type: UserType,
        /// The username.
        username: String,
    },
    /// Create or replace a JWT key.
    PutJwtKey {
        /// Its domain.
        domain: DomainKey,
        /// The record.
        record: JwtKeyRecord,
    },
    /// Delete a JWT key.
    DeleteJwtKey {
        /// Its domain.
        domain: DomainKey,
        /// Key id.
        id: String,
    },
    /// Create or replace a reconnect token.
    PutReconnectToken {
        /// Its domain.
        domain: DomainKey,
        /// The record.
        record: ReconnectTokenRecord,
    },
    /// Delete a reconnect token.
    DeleteReconnectToken {
        /// Its domain.
        domain: DomainKey,
        /// The token.
        token: String,
    },
    /// Replace what `grantee` holds on `target`; an empty list deletes the row.
    SetPermissions {
        /// Its domain.
        domain: DomainKey,
        /// What the row applies to.
        target: PermissionTarget,
        /// Who holds the permissions.
        grantee: Grantee,
        /// The permission strings (the store sorts and deduplicates them).
        permissions: Vec<String>,
    },
    /// Delete the rows of `target` whose grantee is of kind `kind`.
    ClearPermissions {
        /// Its domain.
        domain: DomainKey,
        /// What the rows apply to.
        target: PermissionTarget,
        /// Which rows.
        kind: GranteeKind,
    },
    /// Create or replace a group (its members are kept).
    PutGroup {
        /// Its domain.
        domain: DomainKey,
        /// The record.
        record: GroupRecord,
    },
    /// Delete a group with its memberships and the permission rows granted to it.
    DeleteGroup {
        /// Its domain.
        domain: DomainKey,
        /// Group id.
        id: String,
    },
    /// Make a user a member of a group (nothing if it is one already).
    AddGroupMember {
        /// Its domain.
        domain: DomainKey,
        /// Group id.
        group: String,
        /// The member's type.
        user_type: UserType,
        /// The member's username.
        username: String,
    },
    /// Remove a user from a group (nothing if it is not a member).
    RemoveGroupMember {
        /// Its domain.
        domain: DomainKey,
        /// Group id.
        group: String,
        /// The member's type.
        user_type: UserType,
        /// The member's username.
        username: String,
    },
    /// Create or replace an activity's record.
    PutActivity(ActivityRecord),
    /// Delete an activity's record with its permission rows.
    DeleteActivity {
        /// Its domain.
        domain: DomainKey,
        /// Its type.
        activity_type: String,
        /// Its id.
        id: String,
    },
    /// Create or replace a chat's record.
    PutChat(ChatRecord),
    /// Append an event to a chat's events (replacing one of the same number).
    AppendChatEvent {
        /// Its domain.
        domain: DomainKey,
        /// The chat's id.
        chat: String,
        /// The event.
        event: ChatEvent,
    },
    /// Delete a chat's record with its events and permission rows.
    DeleteChat {
        /// Its domain.
        domain: DomainKey,
        /// The chat's id.
        id: String,
    },
    /// Create or replace a server administrator.
    PutAdmin(AdminRecord),
    /// Delete a server administrator.
    DeleteAdmin {
        /// The login name.
        username: String,
    },
    /// Create or replace an API key.
    PutApiKey(ApiKeyRecord),
    /// Delete an API key.
    DeleteApiKey {
        /// Its domain.
        domain: DomainKey,
        /// Its id.
        id: String,
    },
    /// Create or replace a webhook.
    PutWebhook(WebhookRecord),
    /// Delete a webhook with its deliveries.
    DeleteWebhook {
        /// Its domain.
        domain: DomainKey,
        /// Its id.
        id: String,
    },
    /// Create or replace a delivery.
    PutDelivery(DeliveryRecord),
    /// Delete a delivery.
    DeleteDelivery {
        /// Its domain.
        domain: DomainKey,
        /// Its webhook.
        webhook: String,
        /// Its number.
        seq: u64,
    },
}

/// Sizes the store reports for benchmarks and the admin console.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StoreStats {
    /// Bytes of every file in the data directory (0 in memory).
    pub file_bytes: u64,
    /// Bytes of pages holding operation logs.
    pub log_bytes: u64,
    /// Bytes of pages holding snapshots.
    pub snapshot_bytes: u64,
    /// Number of operation records.
    pub op_count: u64,
}

/// Options for opening a store.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// Data directory (created if missing).
    pub path: PathBuf,
    /// Largest size the database may grow to, in bytes (address space, not disk, until used).
    pub max_size_bytes: u64,
    /// Snapshots kept per model besides the first one.
    pub snapshots_kept: usize,
    /// Most operations or other writes committed in one transaction.
    pub max_batch: usize,
    /// Longest time an acknowledged write waits in the write-ahead log before it is applied
    /// to the database in a larger transaction (a read that needs it has it applied at once).
    pub apply_interval: Duration,
}

/// Durable storage for domains, collections, models, operation logs and snapshots.
pub trait Store: Send + Sync + 'static {
    /// Queues a batch of writes. Batches commit atomically and in call order; `done` runs once
    /// the batch is durable or has failed (a failed batch leaves no trace).
    fn write(&self, batch: Vec<WriteOp>, done: CommitCallback);

    /// A domain by key.
    fn domain(&self, key: &DomainKey) -> StoreResult<Option<DomainRecord>>;
    /// Every domain.
    fn domains(&self) -> StoreResult<Vec<DomainRecord>>;
    /// A collection by id.
    fn collection(&self, domain: &DomainKey, id: &str) -> StoreResult<Option<CollectionRecord>>;
    /// Every collection of a domain.
    fn collections(&self, domain: &DomainKey) -> StoreResult<Vec<CollectionRecord>>;
    /// A model's metadata by id.
    fn model(&self, domain: &DomainKey, id: &str) -> StoreResult<Option<ModelMeta>>;
    /// Metadata of every model in a domain, or in one of its collections.
    fn models(&self, domain: &DomainKey, collection: Option<&str>) -> StoreResult<Vec<ModelMeta>>;
    /// Visits the query index entries in `range` (see [`index`]) in key order (a key's model
    /// ids in id order), each as its key and the model's id, until `visit` answers false.
    fn index_scan(
        &self,
        range: &index::IndexRange,
        visit: &mut dyn FnMut(&[u8], &str) -> bool,
    ) -> StoreResult<()>;
    /// Ids of the models with a query index entry in any of `ranges` (see [`index`]).
    fn index_ids(
        &self,
        ranges: &[index::IndexRange],
    ) -> StoreResult<std::collections::BTreeSet<String>> {
        let mut out = std::collections::BTreeSet::new();
        for range in ranges {
            self.index_scan(range, &mut |_, id| {
                out.insert(id.to_string());
                true
            })?;
        }
        Ok(out)
    }
    /// Log records with `first <= version <= last`, ascending.
    fn ops(&self, number: u64, first: u64, last: u64) -> StoreResult<Vec<OpRecord>>;
    /// The newest snapshot at or before `version`.
    fn snapshot_at_or_before(&self, number: u64, version: u64) -> StoreResult<Option<Snapshot>>;
    /// The version of the newest log record with a timestamp at or before `time_ms`.
    fn version_at_time(&self, number: u64, time_ms: i64) -> StoreResult<Option<u64>>;
    /// A user by type and username.
    fn user(
        &self,
        domain: &DomainKey,
        user_type: UserType,
        username: &str,
    ) -> StoreResult<Option<UserRecord>>;
    /// Every user of a domain, of every type, ordered by type then username.
    fn users(&self, domain: &DomainKey) -> StoreResult<Vec<UserRecord>>;
    /// A JWT key by id.
    fn jwt_key(&self, domain: &DomainKey, id: &str) -> StoreResult<Option<JwtKeyRecord>>;
    /// Every JWT key of a domain, ordered by id.
    fn jwt_keys(&self, domain: &DomainKey) -> StoreResult<Vec<JwtKeyRecord>>;
    /// A reconnect token (expired or not).
    fn reconnect_token(
        &self,
        domain: &DomainKey,
        token: &str,
    ) -> StoreResult<Option<ReconnectTokenRecord>>;
    /// The permission rows of `target`: the world row first, then user rows by type and
    /// username, then group rows by id.
    fn permissions(
        &self,
        domain: &DomainKey,
        target: &PermissionTarget,
    ) -> StoreResult<Vec<PermissionRow>>;
    /// What `grantee` holds on `target` (empty when it has no row).
    fn permission(
        &self,
        domain: &DomainKey,
        target: &PermissionTarget,
        grantee: &Grantee,
    ) -> StoreResult<Vec<String>>;
    /// A group by id.
    fn group(&self, domain: &DomainKey, id: &str) -> StoreResult<Option<GroupRecord>>;
    /// Every group of a domain, ordered by id.
    fn groups(&self, domain: &DomainKey) -> StoreResult<Vec<GroupRecord>>;
    /// The members of a group, ordered by type then username.
    fn group_members(&self, domain: &DomainKey, id: &str) -> StoreResult<Vec<(UserType, String)>>;
    /// The ids of the groups a user is a member of, ordered.
    fn user_groups(
        &self,
        domain: &DomainKey,
        user_type: UserType,
        username: &str,
    ) -> StoreResult<Vec<String>>;
    /// An activity by type and id.
    fn activity(
        &self,
        domain: &DomainKey,
        activity_type: &str,
        id: &str,
    ) -> StoreResult<Option<ActivityRecord>>;
    /// Every activity of a domain, ordered by type then id.
    fn activities(&self, domain: &DomainKey) -> StoreResult<Vec<ActivityRecord>>;
    /// A server administrator by login name.
    fn admin(&self, username: &str) -> StoreResult<Option<AdminRecord>>;
    /// Every server administrator, ordered by login name.
    fn admins(&self) -> StoreResult<Vec<AdminRecord>>;
    /// An API key of a domain by id.
    fn api_key(&self, domain: &DomainKey, id: &str) -> StoreResult<Option<ApiKeyRecord>>;
    /// Every API key of a domain, ordered by id.
    fn api_keys(&self, domain: &DomainKey) -> StoreResult<Vec<ApiKeyRecord>>;
    /// Every webhook of a domain (of every domain for `None`), ordered by domain then id.
    fn webhooks(&self, domain: Option<&DomainKey>) -> StoreResult<Vec<WebhookRecord>>;
    /// The deliveries of a webhook, in order.
    fn deliveries(&self, domain: &DomainKey, webhook: &str) -> StoreResult<Vec<DeliveryRecord>>;
    /// A chat by id.
    fn chat(&self, domain: &DomainKey, id: &str) -> StoreResult<Option<ChatRecord>>;
    /// Every chat of a domain, ordered by id.
    fn chats(&self, domain: &DomainKey) -> StoreResult<Vec<ChatRecord>>;
    /// The events of a chat numbered `first..=last`, ascending.
    fn chat_events(
        &self,
        domain: &DomainKey,
        chat: &str,
        first: u64,
        last: u64,
    ) -> StoreResult<Vec<ChatEvent>>;
    /// A store number no model has used.
    fn allocate_model_number(&self) -> u64;
    /// Blocks until every batch queued so far is durable.
    fn flush(&self) -> StoreResult<()>;
    /// Sizes, for benchmarks and monitoring.
    fn stats(&self) -> StoreResult<StoreStats>;
}

impl dyn Store {
    /// Queues a batch of writes (see [`Store::write`]) and waits until it is durable or has
    /// failed; a store that goes away first answers [`StoreError::Closed`].
    pub async fn commit(&self, batch: Vec<WriteOp>) -> Result<(), StoreError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.write(
            batch,
            Box::new(move |r| {
                let _ = tx.send(r);
            }),
        );
        rx.await.unwrap_or(Err(StoreError::Closed))
    }
}

/// Operation records for the store's unit tests.
#[cfg(test)]
pub(crate) mod test_records {
    use std::sync::Arc;

    use super::OpRecord;
    use crate::ot::{AppliedOp, AppliedOperation, DiscreteOp, OpKind, Undo};

    /// A record of one operation on value `2:5` at `version`, submitted by session `s1`.
    pub(crate) fn op(version: u64, kind: OpKind) -> OpRecord {
        OpRecord {
            version,
            timestamp_ms: 1_760_000_000_000 + version as i64,
            session: Arc::from("s1"),
            user: Arc::from("alice"),
            seq: Some(version),
            op: AppliedOperation::Discrete(AppliedOp {
                op: DiscreteOp::new("2:5", kind),
                undo: Undo::None,
            }),
            mark: None,
        }
    }
}

#[cfg(test)]
mod size_tests {
    use super::*;
    /// Every write of every kind is as large as the largest variant (a model's creation: its
    /// meta and first snapshot); a record kind larger than that would slow every batch (the
    /// hot path moves `AppendEncoded` writes), so it is boxed instead.
    #[test]
    fn no_record_makes_every_write_larger() {
        use std::mem::size_of;
        let creation = size_of::<ModelMeta>() + size_of::<Snapshot>();
        assert_eq!(size_of::<WriteOp>(), 224, "creation takes {creation}");
        for (name, size) in [
            ("chat", size_of::<ChatRecord>()),
            (
                "chat event",
                size_of::<ChatEvent>() + size_of::<DomainKey>() + 24,
            ),
            ("delivery", size_of::<DeliveryRecord>()),
            ("webhook", size_of::<WebhookRecord>()),
            ("API key", size_of::<ApiKeyRecord>()),
        ] {
            assert!(
                size <= creation,
                "a {name} write takes {size} bytes, more than {creation}"
            );
        }
    }
}
