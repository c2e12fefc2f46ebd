//! Chats for hosts: create and remove channels and rooms, manage members, name and topic, post
//! messages as a user or as the host, read a chat's history; every stored chat event (and seen
//! marks and removals) arrives as [`Event::ChatChanged`] on [`Domain::subscribe`].
//!
//! The host acts with every right. A message posted as a user is checked as that user's own
//! would be (the user must be a member); one posted as the host is recorded under the host
//! user, as host-side model changes are.
//!
//! [`Event::ChatChanged`]: super::Event::ChatChanged

use serde::{Deserialize, Serialize};

use super::{Domain, Result, UserId};
use crate::chat::{self, ChatKey};
use crate::perm::Actor;
use crate::store;

/// What kind of chat it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChatKind {
    /// Persistent membership, public or private.
    Channel,
    /// Membership is the sessions joined right now.
    Room,
    /// A fixed set of members, made by the server for that set.
    Direct,
}

impl From<store::ChatKind> for ChatKind {
    fn from(k: store::ChatKind) -> Self {
        match k {
            store::ChatKind::Channel => ChatKind::Channel,
            store::ChatKind::Room => ChatKind::Room,
            store::ChatKind::Direct => ChatKind::Direct,
        }
    }
}

impl From<ChatKind> for store::ChatKind {
    fn from(k: ChatKind) -> Self {
        match k {
            ChatKind::Channel => store::ChatKind::Channel,
            ChatKind::Room => store::ChatKind::Room,
            ChatKind::Direct => store::ChatKind::Direct,
        }
    }
}

/// A member of a chat and the highest event it has marked seen (-1: none).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ChatMember {
    /// The member.
    #[schema(value_type = super::rest::UserRef)]
    pub user: UserId,
    /// The highest event number it has marked seen, or -1.
    pub max_seen_event: i64,
}

/// What a chat is now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ChatInfo {
    /// Its id.
    pub id: String,
    /// Its kind.
    pub kind: ChatKind,
    /// Whether it is private (joining needs `join_chat`; members are added).
    pub private: bool,
    /// Its name.
    pub name: String,
    /// Its topic.
    pub topic: String,
    /// Creation time (epoch ms).
    pub created_ms: i64,
    /// The number of its last event (the created event is 0).
    pub last_event_number: u64,
    /// The time of its last event (epoch ms).
    pub last_event_ms: i64,
    /// Its members (for a room, the users with a joined session).
    pub members: Vec<ChatMember>,
}

impl From<chat::ChatInfo> for ChatInfo {
    fn from(i: chat::ChatInfo) -> Self {
        ChatInfo {
            id: i.id,
            kind: i.kind.into(),
            private: i.private,
            name: i.name,
            topic: i.topic,
            created_ms: i.created_ms,
            last_event_number: i.last_event_number,
            last_event_ms: i.last_event_ms,
            members: i
                .members
                .into_iter()
                .map(|m| ChatMember {
                    user: m.user,
                    max_seen_event: m.max_seen,
                })
                .collect(),
        }
    }
}

/// A channel or room to create.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewChat {
    /// Its id; the engine makes one up when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// `channel` or `room` (a direct chat is made for its member set: `direct_chat`).
    pub kind: ChatKind,
    /// Whether it is private (a room must be public).
    #[serde(default)]
    pub private: bool,
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// Its topic.
    #[serde(default)]
    pub topic: String,
    /// Its members (channels only).
    #[serde(default)]
    #[schema(value_type = Vec<super::rest::UserRef>)]
    pub members: Vec<UserId>,
}

/// What a chat event records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChatEventKind {
    /// The chat was created (event 0).
    Created {
        /// Its name.
        name: String,
        /// Its topic.
        topic: String,
        /// Its first members.
        #[schema(value_type = Vec<super::rest::UserRef>)]
        members: Vec<UserId>,
    },
    /// A message.
    Message {
        /// Its text.
        text: String,
    },
    /// The user joined.
    UserJoined,
    /// The user left.
    UserLeft,
    /// The user added another.
    UserAdded {
        /// The user added.
        #[schema(value_type = super::rest::UserRef)]
        added: UserId,
    },
    /// The user removed another.
    UserRemoved {
        /// The user removed.
        #[schema(value_type = super::rest::UserRef)]
        removed: UserId,
    },
    /// The user renamed the chat.
    NameChanged {
        /// The new name.
        name: String,
    },
    /// The user set the topic.
    TopicChanged {
        /// The new topic.
        topic: String,
    },
}

/// One numbered event of a chat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ChatEvent {
    /// Its number in the chat (the created event is 0).
    pub number: u64,
    /// When it happened (epoch ms).
    pub timestamp_ms: i64,
    /// Who did it (the host user for the host's own changes).
    #[schema(value_type = super::rest::UserRef)]
    pub user: UserId,
    /// What happened.
    #[serde(flatten)]
    pub kind: ChatEventKind,
}

impl From<&store::ChatEvent> for ChatEvent {
    fn from(e: &store::ChatEvent) -> Self {
        use store::ChatEventKind as K;
        let kind = match &e.kind {
            K::Created {
                name,
                topic,
                members,
            } => ChatEventKind::Created {
                name: name.clone(),
                topic: topic.clone(),
                members: members.clone(),
            },
            K::Message(text) => ChatEventKind::Message { text: text.clone() },
            K::UserJoined => ChatEventKind::UserJoined,
            K::UserLeft => ChatEventKind::UserLeft,
            K::UserAdded(u) => ChatEventKind::UserAdded { added: u.clone() },
            K::UserRemoved(u) => ChatEventKind::UserRemoved { removed: u.clone() },
            K::NameChanged(n) => ChatEventKind::NameChanged { name: n.clone() },
            K::TopicChanged(t) => ChatEventKind::TopicChanged { topic: t.clone() },
        };
        ChatEvent {
            number: e.number,
            timestamp_ms: e.timestamp_ms,
            user: e.user.clone(),
            kind,
        }
    }
}

/// What happened in a chat, as [`Event::ChatChanged`](super::Event::ChatChanged) reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum ChatChange {
    /// A stored event (a message, a join, a rename, ...).
    Event {
        /// The event.
        event: ChatEvent,
    },
    /// A member marked the chat's events seen up to `number`.
    MarkedSeen {
        /// The member.
        user: UserId,
        /// The highest event it has seen.
        number: i64,
    },
    /// The chat was removed.
    Removed,
}

impl From<&chat::ChatPush> for ChatChange {
    fn from(p: &chat::ChatPush) -> Self {
        match p {
            chat::ChatPush::Event(e) => ChatChange::Event {
                event: e.as_ref().into(),
            },
            chat::ChatPush::MarkedSeen { user, number } => ChatChange::MarkedSeen {
                user: user.clone(),
                number: *number,
            },
            chat::ChatPush::Removed => ChatChange::Removed,
        }
    }
}

/// Which events of a chat to read. In JSON every field may be left out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChatHistoryQuery {
    /// Event kinds to keep (`created`, `message`, `user_joined`, `user_left`, `user_added`,
    /// `user_removed`, `name_changed`, `topic_changed`); empty keeps every kind.
    pub kinds: Vec<String>,
    /// Keep only messages holding this text, compared without case.
    pub text: Option<String>,
    /// The first event to read (inclusive, in the direction read); none starts at the end
    /// the direction starts from.
    pub start: Option<u64>,
    /// Oldest first (else newest first).
    pub forward: bool,
    /// Matching events to skip.
    pub offset: usize,
    /// Most events to answer (0: 50; at most 1,000).
    pub limit: usize,
}

/// A page of a chat's events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChatHistory {
    /// The events, in the order read.
    pub events: Vec<ChatEvent>,
    /// How many matching events were skipped.
    pub offset: usize,
    /// How many events match in all.
    pub total: usize,
}

/// A posted message: its event number and time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PostedMessage {
    /// Its event number in the chat.
    pub number: u64,
    /// When it was stored (epoch ms).
    pub timestamp_ms: i64,
}

/// The known chat event kinds, by the names [`ChatHistoryQuery::kinds`] takes.
pub const CHAT_EVENT_KINDS: [&str; 8] = [
    "created",
    "message",
    "user_joined",
    "user_left",
    "user_added",
    "user_removed",
    "name_changed",
    "topic_changed",
];

impl Domain {
    fn chat_key(&self, id: &str) -> ChatKey {
        ChatKey::new(self.key.clone(), id)
    }

    fn chat_service(&self) -> &chat::ChatService {
        &self.engine.inner.services.chats
    }

    /// Creates a channel or room; answers its id. The host creates it with every right, and
    /// `members` are its first members.
    pub async fn create_chat(&self, chat: NewChat) -> Result<String> {
        self.engine.check()?;
        let new = chat::NewChat {
            id: chat.id,
            kind: chat.kind.into(),
            private: chat.private,
            name: chat.name,
            topic: chat.topic,
            members: chat.members,
        };
        Ok(self
            .chat_service()
            .create(&self.key, &Actor::Host, new)
            .await?)
    }

    /// The direct chat of exactly these users, created when there is none (the same set
    /// always answers the same chat; the host is no member of it).
    pub async fn direct_chat(&self, users: &[UserId]) -> Result<ChatInfo> {
        self.engine.check()?;
        let found = self
            .chat_service()
            .direct(&self.key, &Actor::Host, users)
            .await?;
        Ok(found.into())
    }

    /// Removes a chat with its events; its members are told.
    pub async fn remove_chat(&self, id: &str) -> Result<()> {
        self.engine.check()?;
        let key = self.chat_key(id);
        Ok(self.chat_service().remove(&key, &Actor::Host).await?)
    }

    /// A chat as it is now, or `None` when it does not exist.
    pub async fn chat(&self, id: &str) -> Result<Option<ChatInfo>> {
        self.engine.check()?;
        let key = self.chat_key(id);
        let found = self.chat_service().info(&key, &Actor::Host).await?;
        Ok(found.map(Into::into))
    }

    /// Every chat of the domain, by id.
    pub async fn chats(&self) -> Result<Vec<ChatInfo>> {
        self.engine.check()?;
        let query = chat::SearchQuery {
            limit: chat::MAX_PAGE,
            ..Default::default()
        };
        let mut out = Vec::new();
        loop {
            let page = self
                .chat_service()
                .search(&self.key, &Actor::Host, &query_at(&query, out.len()))
                .await?;
            let got = page.chats.len();
            out.extend(page.chats.into_iter().map(ChatInfo::from));
            if got == 0 || out.len() >= page.total {
                return Ok(out);
            }
        }
    }

    /// Adds a user to a channel.
    pub async fn add_chat_member(&self, id: &str, user: &UserId) -> Result<()> {
        self.engine.check()?;
        let key = self.chat_key(id);
        Ok(self
            .chat_service()
            .add_user(&key, &Actor::Host, user)
            .await?)
    }

    /// Removes a user from a channel.
    pub async fn remove_chat_member(&self, id: &str, user: &UserId) -> Result<()> {
        self.engine.check()?;
        let key = self.chat_key(id);
        Ok(self
            .chat_service()
            .remove_user(&key, &Actor::Host, user)
            .await?)
    }

    /// Renames a chat.
    pub async fn set_chat_name(&self, id: &str, name: &str) -> Result<()> {
        self.engine.check()?;
        let key = self.chat_key(id);
        Ok(self
            .chat_service()
            .set_name(&key, &Actor::Host, name)
            .await?)
    }

    /// Sets a chat's topic.
    pub async fn set_chat_topic(&self, id: &str, topic: &str) -> Result<()> {
        self.engine.check()?;
        let key = self.chat_key(id);
        Ok(self
            .chat_service()
            .set_topic(&key, &Actor::Host, topic)
            .await?)
    }

    /// Posts a message: as `user` (checked as that user's own message would be: it must be a
    /// member), or as the host when `user` is `None`. Every connected session of every member
    /// receives it.
    pub async fn post_chat_message(
        &self,
        id: &str,
        user: Option<&UserId>,
        text: &str,
    ) -> Result<PostedMessage> {
        self.engine.check()?;
        let key = self.chat_key(id);
        let actor = user.map_or(Actor::Host, |u| Actor::User(u.clone()));
        let (number, timestamp_ms) = self.chat_service().publish(&key, &actor, text).await?;
        Ok(PostedMessage {
            number,
            timestamp_ms,
        })
    }

    /// A page of a chat's events.
    pub async fn chat_history(&self, id: &str, query: ChatHistoryQuery) -> Result<ChatHistory> {
        self.engine.check()?;
        if let Some(k) = query
            .kinds
            .iter()
            .find(|k| !CHAT_EVENT_KINDS.contains(&k.as_str()))
        {
            return Err(super::Error::new(
                super::ErrorCode::InvalidArgument,
                format!("unknown chat event kind {k:?}"),
            ));
        }
        let key = self.chat_key(id);
        let query = chat::HistoryQuery {
            types: query.kinds,
            text: query.text,
            start: query.start,
            forward: query.forward,
            offset: query.offset,
            limit: query.limit,
        };
        let page = self
            .chat_service()
            .history(&key, &Actor::Host, query)
            .await?;
        Ok(ChatHistory {
            events: page.events.iter().map(ChatEvent::from).collect(),
            offset: page.offset,
            total: page.total,
        })
    }
}

/// `query` from the `offset`-th match on.
fn query_at(query: &chat::SearchQuery, offset: usize) -> chat::SearchQuery {
    chat::SearchQuery {
        offset,
        ..query.clone()
    }
}
