//! Activities: named places (a type and an id, chosen by the app) that sessions join to share
//! a small state map each — who is looking at which slide, a shared pointer, a graph editor's
//! selection. Joins, leaves and state changes go to the other participants.
//!
//! One owner task per activity holds its participants (see [`owner`]), reached by messages
//! through [`ActivityService`]'s router: connections and the host never lock its state. An
//! activity's record (created time, ephemeral flag) and its generic permission rows are kept
//! in the store: a persistent activity survives a restart, an ephemeral one is deleted with its
//! last participant. Participation itself is not persisted: sessions end with the process.

mod owner;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value as Json;
use thiserror::Error;
use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot};
use tracing::{info_span, Instrument};

use crate::model::EventBus;
use crate::perm::{Actor, PermissionChange, PermissionError, Permissions, TargetPermissions};
use crate::router::Router;
use crate::sources::Clock;
use crate::store::{ActivityRecord, DomainKey, PermissionTarget, Store, StoreError, UserId};

/// A participant's state: keys to JSON values.
pub type ActivityState = BTreeMap<String, Json>;

/// Which activity: its domain, type and id.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ActivityKey {
    /// Its domain.
    pub domain: DomainKey,
    /// The activity's type.
    pub activity_type: String,
    /// Its id within the type.
    pub id: String,
}

impl ActivityKey {
    /// The key of activity `id` of type `activity_type` in `domain`.
    pub fn new(domain: DomainKey, activity_type: impl Into<String>, id: impl Into<String>) -> Self {
        ActivityKey {
            domain,
            activity_type: activity_type.into(),
            id: id.into(),
        }
    }

    /// Its permission rows' target.
    pub fn target(&self) -> PermissionTarget {
        PermissionTarget::Activity {
            kind: self.activity_type.clone(),
            id: self.id.clone(),
        }
    }
}

/// A joined, visible session and its state.
#[derive(Clone, Debug, PartialEq)]
pub struct Participant {
    /// The session.
    pub session: String,
    /// Its user.
    pub user: UserId,
    /// Its state (empty for a viewer without `view_state`).
    pub state: ActivityState,
}

/// What a join answers.
#[derive(Clone, Debug, PartialEq)]
pub struct Joined {
    /// Every visible participant, the joiner first unless it lurks.
    pub participants: Vec<Participant>,
    /// Whether the activity goes away with its last participant.
    pub ephemeral: bool,
    /// When it was created (epoch ms).
    pub created_ms: i64,
}

/// What an activity's participants hear about it (never about their own changes).
#[derive(Clone, Debug, PartialEq)]
pub enum ActivityEvent {
    /// A visible session joined.
    SessionJoined(Participant),
    /// A visible session left.
    SessionLeft {
        /// The session.
        session: String,
        /// Its user.
        user: UserId,
    },
    /// A participant's state changed: with `complete` it was replaced by `set`; otherwise
    /// `removed` keys went, then `set` keys were set.
    StateUpdated {
        /// The session.
        session: String,
        /// Its user.
        user: UserId,
        /// Keys set (shared by every receiver).
        set: Arc<ActivityState>,
        /// Whether `set` replaces the whole state.
        complete: bool,
        /// Keys removed.
        removed: Arc<Vec<String>>,
    },
    /// The activity was deleted; the receiver is no longer in it.
    Deleted,
    /// The receiver was removed from the activity (it lost a permission it needs).
    ForceLeave {
        /// Why.
        reason: String,
    },
    /// A state change of the receiver was refused (only to that session).
    Refused(ActivityError),
}

/// An event of one activity, as a session's sink receives it.
#[derive(Clone, Debug, PartialEq)]
pub struct ActivityDelivery {
    /// The activity's type.
    pub activity_type: String,
    /// Its id.
    pub id: String,
    /// What happened.
    pub event: ActivityEvent,
}

/// Where a session's activity events go.
pub type ActivitySink = mpsc::UnboundedSender<ActivityDelivery>;

/// What a join that may create the activity asks for.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AutoCreate {
    /// Whether it goes away with its last participant.
    pub ephemeral: bool,
    /// Its permission rows (the creator's own row is added to them).
    pub permissions: TargetPermissions,
}

/// A join request.
#[derive(Clone, Debug)]
pub struct JoinRequest {
    /// The joining session.
    pub session: String,
    /// Its user.
    pub user: UserId,
    /// Join invisibly, without state.
    pub lurk: bool,
    /// The initial state.
    pub state: ActivityState,
    /// Create the activity if it does not exist.
    pub auto_create: Option<AutoCreate>,
    /// Where the session's events about the activity go.
    pub sink: ActivitySink,
}

/// Why an activity request was refused.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum ActivityError {
    /// No such activity (or the actor may not know of it).
    #[error("the activity does not exist")]
    NotFound,
    /// Creation of an activity that exists.
    #[error("the activity already exists")]
    AlreadyExists,
    /// The session is in the activity already.
    #[error("the session has already joined the activity")]
    AlreadyJoined,
    /// The session is not in the activity.
    #[error("the session has not joined the activity")]
    NotJoined,
    /// The actor lacks the permission.
    #[error("not permitted: {0}")]
    Unauthorized(&'static str),
    /// An empty or overlong activity type, or one holding control characters.
    #[error("invalid activity type: {0}")]
    InvalidType(String),
    /// An empty or overlong activity id.
    #[error("invalid activity id: {0}")]
    InvalidId(String),
    /// A state value nests deeper than the limit.
    #[error("an activity state value nests {depth} levels deep, more than the {max} allowed")]
    TooDeep {
        /// The value's depth.
        depth: usize,
        /// The limit.
        max: usize,
    },
    /// A participant's state would grow past the limit.
    #[error("the activity state would take {bytes} bytes, more than the {max} allowed")]
    TooLarge {
        /// The state's encoded size.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// A permission change named an unknown string, user or group.
    #[error("{0}")]
    Permission(String),
    /// A user or group named in the permissions does not exist.
    #[error("{0} not found")]
    GranteeNotFound(String),
    /// The store failed.
    #[error("storage: {0}")]
    Store(String),
    /// The engine is shutting down.
    #[error("the activity service has stopped")]
    Stopped,
}

impl From<StoreError> for ActivityError {
    fn from(e: StoreError) -> Self {
        ActivityError::Store(e.to_string())
    }
}

impl From<PermissionError> for ActivityError {
    fn from(e: PermissionError) -> Self {
        match e {
            PermissionError::Store(s) => s.into(),
            PermissionError::GranteeNotFound(g) => ActivityError::GranteeNotFound(g),
            PermissionError::Unknown(_) => ActivityError::Permission(e.to_string()),
        }
    }
}

/// Limits checked before an activity request is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActivityLimits {
    /// Deepest nesting of a state value (a scalar is 1; 0 = no limit).
    pub max_depth: usize,
    /// Largest state of one participant, as JSON text of its keys and values (0 = no limit).
    pub max_bytes: usize,
}

/// Messages to an activity's owner task.
enum Command {
    Join {
        request: JoinRequest,
        reply: oneshot::Sender<Result<Joined, ActivityError>>,
    },
    Leave {
        session: String,
        reply: Option<oneshot::Sender<Result<(), ActivityError>>>,
    },
    Update {
        session: String,
        set: ActivityState,
        complete: bool,
        removed: Vec<String>,
    },
    Create {
        actor: Actor,
        permissions: TargetPermissions,
        reply: oneshot::Sender<Result<(), ActivityError>>,
    },
    Delete {
        actor: Actor,
        reply: oneshot::Sender<Result<(), ActivityError>>,
    },
    Participants {
        actor: Actor,
        reply: oneshot::Sender<Result<Vec<Participant>, ActivityError>>,
    },
    /// Its permission rows changed: re-resolve every participant's rights.
    Reevaluate,
}

/// The activities of every domain: a cheap handle to their owner tasks.
#[derive(Clone)]
pub struct ActivityService {
    inner: Arc<Inner>,
}

struct Inner {
    runtime: Handle,
    store: Arc<dyn Store>,
    perms: Arc<Permissions>,
    clock: Arc<dyn Clock>,
    limits: ActivityLimits,
    bus: EventBus,
    owners: Router<ActivityKey, Command>,
}

impl ActivityService {
    /// A service whose owner tasks run on `runtime`, keep records in `store` and publish
    /// changes on `bus`.
    pub fn new(
        runtime: Handle,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        limits: ActivityLimits,
        bus: EventBus,
    ) -> Self {
        ActivityService {
            inner: Arc::new(Inner {
                runtime,
                perms: Arc::new(Permissions::new(store.clone())),
                store,
                clock,
                limits,
                bus,
                owners: Router::new(),
            }),
        }
    }

    /// Ends every activity owner, waiting for each (engine shutdown).
    pub async fn shutdown(&self) {
        self.inner.owners.shutdown().await;
    }

    /// Sends `command` to the activity's owner, starting one when it has none (or its owner
    /// just stopped: the command then goes to a fresh one).
    fn send(&self, key: &ActivityKey, command: Command) {
        self.inner.owners.send(key, command, |rx| {
            let span = info_span!("activity", domain = %key.domain,
                activity_type = %key.activity_type, id = %key.id);
            let owner = owner::Owner::new(key.clone(), self.clone());
            self.inner.runtime.spawn(owner.run(rx).instrument(span))
        });
    }

    async fn ask<T>(
        &self,
        key: &ActivityKey,
        command: impl FnOnce(oneshot::Sender<Result<T, ActivityError>>) -> Command,
    ) -> Result<T, ActivityError> {
        let (reply, rx) = oneshot::channel();
        self.send(key, command(reply));
        rx.await.unwrap_or(Err(ActivityError::Stopped))
    }

    /// Joins a session to an activity (creating it first when asked to and it is missing).
    /// Answers the visible participants, the joiner's own entry among them unless it lurks.
    pub async fn join(
        &self,
        key: &ActivityKey,
        request: JoinRequest,
    ) -> Result<Joined, ActivityError> {
        check_key(key)?;
        owner::check_depth(&request.state, self.inner.limits.max_depth)?;
        self.ask(key, |reply| Command::Join { request, reply })
            .await
    }

    /// Takes a session out of an activity (announced to the others unless it lurked).
    pub async fn leave(&self, key: &ActivityKey, session: &str) -> Result<(), ActivityError> {
        self.ask(key, |reply| Command::Leave {
            session: session.to_string(),
            reply: Some(reply),
        })
        .await
    }

    /// Takes a session out of an activity without waiting (its connection ended).
    pub fn leave_now(&self, key: &ActivityKey, session: &str) {
        self.send(
            key,
            Command::Leave {
                session: session.to_string(),
                reply: None,
            },
        );
    }

    /// Changes a participant's state: with `complete` it becomes `set`; otherwise `removed`
    /// keys go, then `set` keys are set. A refusal reaches the session as
    /// [`ActivityEvent::Refused`]; a value nested too deep is refused here.
    pub fn update_state(
        &self,
        key: &ActivityKey,
        session: &str,
        set: ActivityState,
        complete: bool,
        removed: Vec<String>,
    ) -> Result<(), ActivityError> {
        owner::check_depth(&set, self.inner.limits.max_depth)?;
        self.send(
            key,
            Command::Update {
                session: session.to_string(),
                set,
                complete,
                removed,
            },
        );
        Ok(())
    }

    /// Creates a persistent activity with exactly these permission rows.
    pub async fn create(
        &self,
        key: &ActivityKey,
        actor: &Actor,
        permissions: TargetPermissions,
    ) -> Result<(), ActivityError> {
        check_key(key)?;
        let actor = actor.clone();
        self.ask(key, |reply| Command::Create {
            actor,
            permissions,
            reply,
        })
        .await
    }

    /// Deletes an activity (needs `remove`): its participants are told and leave.
    pub async fn delete(&self, key: &ActivityKey, actor: &Actor) -> Result<(), ActivityError> {
        let actor = actor.clone();
        self.ask(key, |reply| Command::Delete { actor, reply })
            .await
    }

    /// The visible participants of an activity and their states (states need `view_state`).
    pub async fn participants(
        &self,
        key: &ActivityKey,
        actor: &Actor,
    ) -> Result<Vec<Participant>, ActivityError> {
        let actor = actor.clone();
        self.ask(key, |reply| Command::Participants { actor, reply })
            .await
    }

    /// Every stored activity of a domain, ordered by type then id.
    pub fn list(&self, domain: &DomainKey) -> Result<Vec<ActivityRecord>, ActivityError> {
        Ok(self.inner.store.activities(domain)?)
    }

    /// Whether an activity exists.
    pub fn exists(&self, key: &ActivityKey) -> Result<bool, ActivityError> {
        Ok(self
            .inner
            .store
            .activity(&key.domain, &key.activity_type, &key.id)?
            .is_some())
    }

    /// The permission strings `user` holds on an activity.
    pub fn resolve(&self, key: &ActivityKey, user: &UserId) -> Result<Vec<String>, ActivityError> {
        Ok(owner::resolve(&self.inner, key, user)?
            .into_iter()
            .collect())
    }

    /// Changes an activity's permission rows (needs `manage` unless the actor is the host);
    /// participants who lost what they need are made to leave.
    pub async fn change_permissions(
        &self,
        key: &ActivityKey,
        actor: &Actor,
        change: &PermissionChange,
    ) -> Result<(), ActivityError> {
        self.check_manage(key, actor)?;
        self.inner
            .perms
            .change_target(
                &key.domain,
                &key.target(),
                change,
                &crate::perm::ACTIVITY_PERMISSIONS,
            )
            .await?;
        self.permissions_changed(key);
        Ok(())
    }

    /// An activity's permission rows (needs `manage` unless the actor is the host).
    pub fn permissions(
        &self,
        key: &ActivityKey,
        actor: &Actor,
    ) -> Result<TargetPermissions, ActivityError> {
        self.check_manage(key, actor)?;
        Ok(self
            .inner
            .perms
            .target_permissions(&key.domain, &key.target())?)
    }

    fn check_manage(&self, key: &ActivityKey, actor: &Actor) -> Result<(), ActivityError> {
        if !self.exists(key)? {
            return Err(ActivityError::NotFound);
        }
        if let Actor::User(u) = actor {
            let held = owner::resolve(&self.inner, key, u)?;
            if !held.contains("manage") {
                return Err(ActivityError::Unauthorized("manage"));
            }
        }
        Ok(())
    }

    /// Rows of `key` changed outside the service: its participants' rights are re-resolved.
    pub fn permissions_changed(&self, key: &ActivityKey) {
        if self.inner.owners.is_running(key) {
            self.send(key, Command::Reevaluate);
        }
    }

    /// Global rows of `domain` changed: every running activity of it re-resolves.
    pub fn domain_permissions_changed(&self, domain: &DomainKey) {
        for key in self.inner.owners.running(|k| k.domain == *domain) {
            self.send(&key, Command::Reevaluate);
        }
    }
}

/// Refuses an empty or overlong type or id, or one holding control characters.
fn check_key(key: &ActivityKey) -> Result<(), ActivityError> {
    use crate::ident::{check, IdKind};
    check(IdKind::ActivityType, &key.activity_type)
        .map_err(|e| ActivityError::InvalidType(e.to_string()))?;
    check(IdKind::Activity, &key.id).map_err(|e| ActivityError::InvalidId(e.to_string()))
}

#[cfg(test)]
mod tests;
