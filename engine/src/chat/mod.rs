//! Chats: channels (persistent membership, public or private), rooms (membership is the
//! sessions joined right now) and direct chats (a fixed member set, got or created by that
//! set). Each chat has numbered events — created (0), messages, joins, leaves, additions,
//! removals, renames, topic changes — kept in the store with their user and time.
//!
//! One owner task per chat (see [`owner`]) holds its record and checks every request against
//! the chat's generic permission rows; connections and the host reach it by messages through
//! [`ChatService`]'s router, never by locking its state. Events of channels and direct chats
//! go to every connected session of every member, whether or not the session has looked at
//! the chat: a per-domain delivery task (see [`delivery`]) knows each user's sessions. Events
//! of rooms go to the sessions joined to the room, from its owner. The delivery task also
//! allocates direct chats' ids (`direct:<n>`), so a member set gets exactly one.

mod delivery;
mod history;
mod owner;

use std::sync::Arc;

use thiserror::Error;
use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot};
use tracing::{info_span, Instrument};

pub use history::{HistoryPage, HistoryQuery, SearchPage, SearchQuery, MAX_PAGE};

use crate::model::EventBus;
use crate::perm::{Actor, PermissionChange, PermissionError, Permissions, TargetPermissions};
use crate::router::Router;
use crate::sources::{Clock, IdSource};
use crate::store::{ChatEvent, ChatKind, ChatMember, DomainKey, Store, StoreError, UserId};

/// Which chat: its domain and id.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChatKey {
    /// Its domain.
    pub domain: DomainKey,
    /// Its id.
    pub id: String,
}

impl ChatKey {
    /// The key of chat `id` in `domain`.
    pub fn new(domain: DomainKey, id: impl Into<String>) -> Self {
        ChatKey {
            domain,
            id: id.into(),
        }
    }
}

/// What a reader is told about a chat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatInfo {
    /// Its id.
    pub id: String,
    /// Its kind.
    pub kind: ChatKind,
    /// Whether it is private.
    pub private: bool,
    /// Its name.
    pub name: String,
    /// Its topic.
    pub topic: String,
    /// Creation time (epoch ms).
    pub created_ms: i64,
    /// The number of its last event.
    pub last_event_number: u64,
    /// The time of its last event (epoch ms).
    pub last_event_ms: i64,
    /// Its members (for a room, the users with a joined session).
    pub members: Vec<ChatMember>,
}

/// A chat to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewChat {
    /// Its id; the service makes one up when absent.
    pub id: Option<String>,
    /// Channel or room (direct chats are made by [`ChatService::direct`]).
    pub kind: ChatKind,
    /// Whether it is private (a room must be public).
    pub private: bool,
    /// Its name.
    pub name: String,
    /// Its topic.
    pub topic: String,
    /// Its first members besides the creator (channels only).
    pub members: Vec<UserId>,
}

/// What a chat's members' sessions are sent.
#[derive(Clone, Debug, PartialEq)]
pub enum ChatPush {
    /// An event of the chat (never the created event).
    Event(Arc<ChatEvent>),
    /// A member marked events seen up to `number`.
    MarkedSeen {
        /// The member.
        user: UserId,
        /// The highest event it has seen.
        number: i64,
    },
    /// The chat was removed.
    Removed,
}

/// One push of one chat, as a session's sink receives it.
#[derive(Clone, Debug, PartialEq)]
pub struct ChatDelivery {
    /// The chat's id.
    pub chat: Arc<str>,
    /// What happened.
    pub push: ChatPush,
}

/// Where a session's chat pushes go.
pub type ChatSink = mpsc::UnboundedSender<ChatDelivery>;

/// Why a chat request was refused.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum ChatError {
    /// No such chat (or the actor may not know of it).
    #[error("the chat does not exist")]
    NotFound,
    /// Creation of a chat that exists.
    #[error("the chat already exists")]
    AlreadyExists,
    /// The actor is a member already.
    #[error("the chat has already been joined")]
    AlreadyJoined,
    /// The actor is not a member.
    #[error("the chat has not been joined")]
    NotJoined,
    /// The user to add is a member already.
    #[error("the user is already a member of the chat")]
    AlreadyMember,
    /// The user to remove is not a member.
    #[error("the user is not a member of the chat")]
    NotMember,
    /// A member tried to remove itself (it leaves instead).
    #[error("a member cannot remove itself; leave the chat instead")]
    CantRemoveSelf,
    /// The request does not apply to this kind of chat.
    #[error("not supported: {0}")]
    NotSupported(&'static str),
    /// The actor lacks the permission.
    #[error("not permitted: {0}")]
    Unauthorized(&'static str),
    /// A malformed id, name, topic, type or membership.
    #[error("invalid: {0}")]
    Invalid(String),
    /// A message, name, topic or member list over its limit.
    #[error("{what} is {size} long, more than the {max} allowed")]
    TooLarge {
        /// What is too large.
        what: &'static str,
        /// Its size (bytes, or members).
        size: usize,
        /// The limit.
        max: usize,
    },
    /// A permission change named an unknown string.
    #[error("{0}")]
    Permission(String),
    /// A user (or group) named does not exist.
    #[error("{0} not found")]
    UserNotFound(String),
    /// The store failed.
    #[error("storage: {0}")]
    Store(String),
    /// The chat's owner stopped (it failed, or the engine is shutting down).
    #[error("the chat service has stopped")]
    Stopped,
}

impl From<StoreError> for ChatError {
    fn from(e: StoreError) -> Self {
        ChatError::Store(e.to_string())
    }
}

impl From<PermissionError> for ChatError {
    fn from(e: PermissionError) -> Self {
        match e {
            PermissionError::Store(s) => s.into(),
            PermissionError::GranteeNotFound(g) => ChatError::UserNotFound(g),
            PermissionError::Unknown(_) => ChatError::Permission(e.to_string()),
        }
    }
}

/// Limits checked before a chat request is taken (0 = no limit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChatLimits {
    /// Largest message, in bytes of UTF-8.
    pub max_message_bytes: usize,
    /// Longest name, in bytes of UTF-8.
    pub max_name_bytes: usize,
    /// Longest topic, in bytes of UTF-8.
    pub max_topic_bytes: usize,
    /// Most members of a channel or direct chat.
    pub max_members: usize,
}

impl Default for ChatLimits {
    fn default() -> Self {
        ChatLimits {
            max_message_bytes: 64 * 1024,
            max_name_bytes: 1024,
            max_topic_bytes: 4096,
            max_members: 1000,
        }
    }
}

impl ChatLimits {
    fn check(&self, what: &'static str, size: usize, max: usize) -> Result<(), ChatError> {
        if max > 0 && size > max {
            return Err(ChatError::TooLarge { what, size, max });
        }
        Ok(())
    }
}

/// Messages to a chat's owner task.
enum Command {
    Create {
        actor: Actor,
        chat: NewChat,
        reply: oneshot::Sender<Result<(), ChatError>>,
    },
    Remove {
        actor: Actor,
        reply: oneshot::Sender<Result<(), ChatError>>,
    },
    Info {
        actor: Actor,
        /// Only if the actor is a member (for the joined chats).
        joined_only: bool,
        reply: oneshot::Sender<Result<Option<ChatInfo>, ChatError>>,
    },
    Join {
        actor: Actor,
        session: String,
        sink: ChatSink,
        reply: oneshot::Sender<Result<ChatInfo, ChatError>>,
    },
    Leave {
        actor: Actor,
        session: String,
        reply: Option<oneshot::Sender<Result<(), ChatError>>>,
    },
    Member {
        actor: Actor,
        user: UserId,
        add: bool,
        reply: oneshot::Sender<Result<(), ChatError>>,
    },
    Rename {
        actor: Actor,
        text: String,
        topic: bool,
        reply: oneshot::Sender<Result<(), ChatError>>,
    },
    MarkSeen {
        actor: Actor,
        number: i64,
        reply: oneshot::Sender<Result<(), ChatError>>,
    },
    Publish {
        actor: Actor,
        text: String,
        reply: oneshot::Sender<Result<(u64, i64), ChatError>>,
    },
    History {
        actor: Actor,
        query: HistoryQuery,
        reply: oneshot::Sender<Result<HistoryPage, ChatError>>,
    },
    Resolve {
        actor: Actor,
        reply: oneshot::Sender<Result<Vec<String>, ChatError>>,
    },
    Permissions {
        actor: Actor,
        reply: oneshot::Sender<Result<TargetPermissions, ChatError>>,
    },
    ChangePermissions {
        actor: Actor,
        change: PermissionChange,
        reply: oneshot::Sender<Result<(), ChatError>>,
    },
}

/// An owner's answer on its way.
type Pending<T> = oneshot::Receiver<Result<T, ChatError>>;

/// The answer of a request on one chat. The request reaches the chat's owner when the method
/// is called, not when this is first polled, so one caller's requests keep their order.
pub type Answer<T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, ChatError>> + Send>>;

/// Waits for an answer (or gives a refusal made before the request was sent).
fn wait<T: Send + 'static>(pending: Result<Pending<T>, ChatError>) -> Answer<T> {
    Box::pin(async move {
        match pending {
            Ok(rx) => rx.await.unwrap_or(Err(ChatError::Stopped)),
            Err(e) => Err(e),
        }
    })
}

/// The chats of every domain: a cheap handle to their owner tasks.
#[derive(Clone)]
pub struct ChatService {
    inner: Arc<Inner>,
}

struct Inner {
    runtime: Handle,
    store: Arc<dyn Store>,
    perms: Arc<Permissions>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
    limits: ChatLimits,
    bus: EventBus,
    owners: Router<ChatKey, Command>,
    deliveries: Router<DomainKey, delivery::Command>,
}

impl ChatService {
    /// A service whose owner tasks run on `runtime` and keep chats in `store`.
    pub fn new(
        runtime: Handle,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdSource>,
        limits: ChatLimits,
        bus: EventBus,
    ) -> Self {
        ChatService {
            inner: Arc::new(Inner {
                runtime,
                perms: Arc::new(Permissions::new(store.clone())),
                store,
                clock,
                ids,
                limits,
                bus,
                owners: Router::new(),
                deliveries: Router::new(),
            }),
        }
    }

    fn send(&self, key: &ChatKey, command: Command) {
        self.inner.owners.send(key, command, |rx| {
            let span = info_span!("chat", domain = %key.domain, id = %key.id);
            let owner = owner::Owner::new(key.clone(), self.clone());
            self.inner.runtime.spawn(owner.run(rx).instrument(span))
        });
    }

    fn send_delivery(&self, domain: &DomainKey, command: delivery::Command) {
        self.inner.deliveries.send(domain, command, |rx| {
            let span = info_span!("chat_delivery", domain = %domain);
            let task = delivery::Delivery::new(domain.clone(), self.clone());
            self.inner.runtime.spawn(task.run(rx).instrument(span))
        });
    }

    /// Sends a command to the chat's owner now (so that one caller's requests reach it in
    /// the order they were made); the answer comes through the returned receiver.
    fn ask<T>(
        &self,
        key: &ChatKey,
        command: impl FnOnce(oneshot::Sender<Result<T, ChatError>>) -> Command,
    ) -> Result<Pending<T>, ChatError> {
        check_id(&key.id)?;
        let (reply, rx) = oneshot::channel();
        self.send(key, command(reply));
        Ok(rx)
    }

    /// Ends every chat owner and delivery task, waiting for each (engine shutdown).
    pub async fn shutdown(&self) {
        self.inner.owners.shutdown().await;
        self.inner.deliveries.shutdown().await;
    }

    /// A session of `user` connected: the events of its user's channels and direct chats go
    /// to `sink` from now on.
    pub fn connect(&self, domain: &DomainKey, session: &str, user: &UserId, sink: ChatSink) {
        self.send_delivery(
            domain,
            delivery::Command::Connect {
                session: session.to_string(),
                user: user.clone(),
                sink,
            },
        );
    }

    /// A session ended (its rooms are left with [`ChatService::leave_now`]).
    pub fn disconnect(&self, domain: &DomainKey, session: &str) {
        self.send_delivery(
            domain,
            delivery::Command::Disconnect {
                session: session.to_string(),
            },
        );
    }

    /// Creates a channel or room (needs the global `create_chat`); answers its id. The
    /// creator is its first member and holds every chat permission on it.
    pub fn create(&self, domain: &DomainKey, actor: &Actor, chat: NewChat) -> Answer<String> {
        let sent = self.send_create(domain, actor, chat);
        Box::pin(async move {
            let (id, pending) = sent?;
            wait(Ok(pending)).await?;
            Ok(id)
        })
    }

    fn send_create(
        &self,
        domain: &DomainKey,
        actor: &Actor,
        mut chat: NewChat,
    ) -> Result<(String, Pending<()>), ChatError> {
        if chat.kind == ChatKind::Direct {
            return Err(ChatError::NotSupported("direct chats are got, not created"));
        }
        if chat.kind == ChatKind::Room && chat.private {
            return Err(ChatError::Invalid("a room must be public".into()));
        }
        let id = match chat.id.take() {
            Some(id) => {
                if id.starts_with(owner::DIRECT_PREFIX) {
                    return Err(ChatError::Invalid(format!(
                        "chat ids starting with {:?} are the server's",
                        owner::DIRECT_PREFIX
                    )));
                }
                id
            }
            None => self.inner.ids.uuid(),
        };
        self.check_texts(&chat.name, &chat.topic)?;
        for u in &chat.members {
            check_user_id(u)?;
        }
        let limits = self.inner.limits;
        limits.check(
            "the member list",
            chat.members.len() + 1,
            limits.max_members,
        )?;
        let key = ChatKey::new(domain.clone(), id.clone());
        let actor = actor.clone();
        let pending = self.ask(&key, |reply| Command::Create { actor, chat, reply })?;
        Ok((id, pending))
    }

    fn check_texts(&self, name: &str, topic: &str) -> Result<(), ChatError> {
        let l = self.inner.limits;
        l.check("the name", name.len(), l.max_name_bytes)?;
        l.check("the topic", topic.len(), l.max_topic_bytes)
    }

    /// Removes a chat (needs `remove_chat`); its members are told.
    pub fn remove(&self, key: &ChatKey, actor: &Actor) -> Answer<()> {
        let actor = actor.clone();
        wait(self.ask(key, |reply| Command::Remove { actor, reply }))
    }

    /// A chat's info, or `None` when it does not exist or the actor may not see it (it is
    /// private, the actor is no member and lacks `join_chat`).
    pub async fn info(&self, key: &ChatKey, actor: &Actor) -> Result<Option<ChatInfo>, ChatError> {
        if check_id(&key.id).is_err() {
            return Ok(None);
        }
        let actor = actor.clone();
        wait(self.ask(key, |reply| Command::Info {
            actor,
            joined_only: false,
            reply,
        }))
        .await
    }

    /// The info of each of `ids` the actor may see, in order (the others are left out).
    pub async fn chats(
        &self,
        domain: &DomainKey,
        actor: &Actor,
        ids: &[String],
    ) -> Result<Vec<ChatInfo>, ChatError> {
        check_count(ids.len())?;
        let mut out = Vec::new();
        for id in ids {
            if let Some(info) = self.info(&ChatKey::new(domain.clone(), id), actor).await? {
                out.push(info);
            }
        }
        Ok(out)
    }

    /// Whether each of `ids` exists and the actor may see it, in order.
    pub async fn exist(
        &self,
        domain: &DomainKey,
        actor: &Actor,
        ids: &[String],
    ) -> Result<Vec<bool>, ChatError> {
        check_count(ids.len())?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let key = ChatKey::new(domain.clone(), id);
            out.push(self.info(&key, actor).await?.is_some());
        }
        Ok(out)
    }

    /// The direct chat of `users` plus the actor's user (the host is no member), created
    /// when there is none.
    pub async fn direct(
        &self,
        domain: &DomainKey,
        actor: &Actor,
        users: &[UserId],
    ) -> Result<ChatInfo, ChatError> {
        let mut members: std::collections::BTreeSet<UserId> = users.iter().cloned().collect();
        if let Some(me) = actor.user() {
            members.insert(me.clone());
        }
        if members.is_empty() {
            return Err(ChatError::Invalid("a direct chat needs a member".into()));
        }
        let limits = self.inner.limits;
        limits.check("the member list", members.len(), limits.max_members)?;
        for u in &members {
            check_user_id(u)?;
            if self.inner.store.user(domain, u.kind, &u.name)?.is_none() {
                return Err(ChatError::UserNotFound(format!("user {:?}", u.name)));
            }
        }
        let (reply, rx) = oneshot::channel();
        self.send_delivery(
            domain,
            delivery::Command::Direct {
                creator: actor.clone(),
                members,
                reply,
            },
        );
        let id = rx.await.unwrap_or(Err(ChatError::Stopped))?;
        self.info(&ChatKey::new(domain.clone(), id), actor)
            .await?
            .ok_or(ChatError::NotFound)
    }

    /// The chats the actor's user is a member of: channels and direct chats by id, then the
    /// rooms it has a session in.
    pub async fn joined(
        &self,
        domain: &DomainKey,
        actor: &Actor,
    ) -> Result<Vec<ChatInfo>, ChatError> {
        let Some(me) = actor.user() else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for r in self.inner.store.chats(domain)? {
            if r.kind != ChatKind::Room && r.members.iter().any(|m| m.user == *me) {
                if let Some(info) = self
                    .info(&ChatKey::new(domain.clone(), &r.id), actor)
                    .await?
                {
                    out.push(info);
                }
            }
        }
        for key in self.inner.owners.running(|k| k.domain == *domain) {
            let actor = actor.clone();
            let found = wait(self.ask(&key, |reply| Command::Info {
                actor,
                joined_only: true,
                reply,
            }))
            .await?;
            if let Some(info) = found.filter(|i| i.kind == ChatKind::Room) {
                out.push(info);
            }
        }
        Ok(out)
    }

    /// The chats of a domain the actor may see that match `query`.
    pub async fn search(
        &self,
        domain: &DomainKey,
        actor: &Actor,
        query: &SearchQuery,
    ) -> Result<SearchPage, ChatError> {
        let mut matching = Vec::new();
        for r in self.inner.store.chats(domain)? {
            if !query.matches(&r) {
                continue;
            }
            if let Some(info) = self
                .info(&ChatKey::new(domain.clone(), &r.id), actor)
                .await?
            {
                matching.push(info);
            }
        }
        Ok(query.page(matching))
    }

    /// Joins the actor to a channel or room (a private channel needs `join_chat`); `session`
    /// and `sink` are the joining session (a room's events go to its joined sessions).
    pub fn join(
        &self,
        key: &ChatKey,
        actor: &Actor,
        session: &str,
        sink: ChatSink,
    ) -> Answer<ChatInfo> {
        let (actor, session) = (actor.clone(), session.to_string());
        wait(self.ask(key, |reply| Command::Join {
            actor,
            session,
            sink,
            reply,
        }))
    }

    /// Takes the actor out of a chat (needs `leave_chat`); in a room, takes `session` out,
    /// and the user with it when it was the user's last.
    pub fn leave(&self, key: &ChatKey, actor: &Actor, session: &str) -> Answer<()> {
        let (actor, session) = (actor.clone(), session.to_string());
        wait(self.ask(key, |reply| Command::Leave {
            actor,
            session,
            reply: Some(reply),
        }))
    }

    /// Takes a session out of a room without waiting (its connection ended).
    pub fn leave_now(&self, key: &ChatKey, actor: &Actor, session: &str) {
        self.send(
            key,
            Command::Leave {
                actor: actor.clone(),
                session: session.to_string(),
                reply: None,
            },
        );
    }

    /// Adds a user to a channel (needs `add_chat_user` and membership).
    pub fn add_user(&self, key: &ChatKey, actor: &Actor, user: &UserId) -> Answer<()> {
        self.member_change(key, actor, user, true)
    }

    /// Removes a user from a channel (needs `remove_chat_user` and membership).
    pub fn remove_user(&self, key: &ChatKey, actor: &Actor, user: &UserId) -> Answer<()> {
        self.member_change(key, actor, user, false)
    }

    fn member_change(&self, key: &ChatKey, actor: &Actor, user: &UserId, add: bool) -> Answer<()> {
        let (actor, user) = (actor.clone(), user.clone());
        wait(check_user_id(&user).and_then(|()| {
            self.ask(key, |reply| Command::Member {
                actor,
                user,
                add,
                reply,
            })
        }))
    }

    /// Renames a chat (needs `set_chat_name` and membership).
    pub fn set_name(&self, key: &ChatKey, actor: &Actor, name: &str) -> Answer<()> {
        let checked = self.check_texts(name, "");
        self.rename(key, actor, name, false, checked)
    }

    /// Sets a chat's topic (needs `set_topic` and membership).
    pub fn set_topic(&self, key: &ChatKey, actor: &Actor, topic: &str) -> Answer<()> {
        let checked = self.check_texts("", topic);
        self.rename(key, actor, topic, true, checked)
    }

    fn rename(
        &self,
        key: &ChatKey,
        actor: &Actor,
        text: &str,
        topic: bool,
        checked: Result<(), ChatError>,
    ) -> Answer<()> {
        let (actor, text) = (actor.clone(), text.to_string());
        wait(checked.and_then(|()| {
            self.ask(key, |reply| Command::Rename {
                actor,
                text,
                topic,
                reply,
            })
        }))
    }

    /// Records that the actor has seen the chat's events up to `number` (membership needed).
    pub fn mark_seen(&self, key: &ChatKey, actor: &Actor, number: i64) -> Answer<()> {
        let actor = actor.clone();
        wait(self.ask(key, |reply| Command::MarkSeen {
            actor,
            number,
            reply,
        }))
    }

    /// Publishes a message (membership needed); answers its event number and time.
    pub fn publish(&self, key: &ChatKey, actor: &Actor, text: &str) -> Answer<(u64, i64)> {
        let l = self.inner.limits;
        let (actor, text) = (actor.clone(), text.to_string());
        wait(
            l.check("the message", text.len(), l.max_message_bytes)
                .and_then(|()| self.ask(key, |reply| Command::Publish { actor, text, reply })),
        )
    }

    /// A page of the chat's events (membership needed).
    pub fn history(
        &self,
        key: &ChatKey,
        actor: &Actor,
        query: HistoryQuery,
    ) -> Answer<HistoryPage> {
        let actor = actor.clone();
        wait(self.ask(key, |reply| Command::History {
            actor,
            query,
            reply,
        }))
    }

    /// The chat permissions the actor holds on a chat it may see.
    pub fn resolve(&self, key: &ChatKey, actor: &Actor) -> Answer<Vec<String>> {
        let actor = actor.clone();
        wait(self.ask(key, |reply| Command::Resolve { actor, reply }))
    }

    /// A chat's permission rows (needs `manage_chat_permissions`).
    pub fn permissions(&self, key: &ChatKey, actor: &Actor) -> Answer<TargetPermissions> {
        let actor = actor.clone();
        wait(self.ask(key, |reply| Command::Permissions { actor, reply }))
    }

    /// Changes a chat's permission rows (needs `manage_chat_permissions`).
    pub fn change_permissions(
        &self,
        key: &ChatKey,
        actor: &Actor,
        change: PermissionChange,
    ) -> Answer<()> {
        let actor = actor.clone();
        wait(self.ask(key, |reply| Command::ChangePermissions {
            actor,
            change,
            reply,
        }))
    }
}

/// The most chat ids (or member lists) one request may name.
pub const MAX_IDS_PER_REQUEST: usize = history::MAX_PAGE;

/// Refuses more than [`MAX_IDS_PER_REQUEST`] ids in one request.
fn check_count(n: usize) -> Result<(), ChatError> {
    ChatLimits::default().check("the list of chats", n, MAX_IDS_PER_REQUEST)
}

/// Refuses a username that cannot be one (empty, overlong, control characters).
fn check_user_id(user: &UserId) -> Result<(), ChatError> {
    crate::ident::check(crate::ident::IdKind::User, &user.name)
        .map_err(|e| ChatError::Invalid(e.to_string()))
}

/// Refuses an empty or overlong chat id, or one holding control characters.
fn check_id(id: &str) -> Result<(), ChatError> {
    crate::ident::check(crate::ident::IdKind::Chat, id)
        .map_err(|e| ChatError::Invalid(e.to_string()))
}

#[cfg(test)]
mod tests;
