//! Chats on [`Domain`] (the facade's `api/chats.rs`): create and remove channels and rooms,
//! read one or all, members, name and topic, post as a user or as the host, history. Stored
//! chat events arrive as `Event.ChatChanged` on the domain's subscription.

use tandem::api;

use crate::{run, Domain, Result, UserId};

/// What kind of chat it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ChatKind {
    /// Persistent membership, public or private.
    Channel,
    /// Membership is the sessions joined right now.
    Room,
    /// A fixed set of members, made by the server for that set.
    Direct,
}

impl From<api::ChatKind> for ChatKind {
    fn from(k: api::ChatKind) -> Self {
        match k {
            api::ChatKind::Channel => ChatKind::Channel,
            api::ChatKind::Room => ChatKind::Room,
            api::ChatKind::Direct => ChatKind::Direct,
        }
    }
}

impl From<ChatKind> for api::ChatKind {
    fn from(k: ChatKind) -> Self {
        match k {
            ChatKind::Channel => api::ChatKind::Channel,
            ChatKind::Room => api::ChatKind::Room,
            ChatKind::Direct => api::ChatKind::Direct,
        }
    }
}

/// A member of a chat and the highest event it has marked seen (-1: none).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ChatMember {
    /// The member.
    pub user: UserId,
    /// The highest event number it has marked seen, or -1.
    pub max_seen_event: i64,
}

/// What a chat is now.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
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
    /// The number of its last event (the created event is 0).
    pub last_event_number: u64,
    /// The time of its last event (epoch ms).
    pub last_event_ms: i64,
    /// Its members.
    pub members: Vec<ChatMember>,
}

impl From<api::ChatInfo> for ChatInfo {
    fn from(i: api::ChatInfo) -> Self {
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
                    user: m.user.into(),
                    max_seen_event: m.max_seen_event,
                })
                .collect(),
        }
    }
}

/// A channel or room to create.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NewChat {
    /// Its id; the engine makes one up when absent.
    #[uniffi(default = None)]
    pub id: Option<String>,
    /// Channel or room.
    pub kind: ChatKind,
    /// Whether it is private (a room must be public).
    #[uniffi(default = false)]
    pub private: bool,
    /// Its name.
    #[uniffi(default = "")]
    pub name: String,
    /// Its topic.
    #[uniffi(default = "")]
    pub topic: String,
    /// Its first members (channels only).
    #[uniffi(default = [])]
    pub members: Vec<UserId>,
}

/// What a chat event records.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum ChatEventKind {
    /// The chat was created (event 0).
    Created {
        /// Its name.
        name: String,
        /// Its topic.
        topic: String,
        /// Its first members.
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
        added: UserId,
    },
    /// The user removed another.
    UserRemoved {
        /// The user removed.
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
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ChatEvent {
    /// Its number in the chat (the created event is 0).
    pub number: u64,
    /// When it happened (epoch ms).
    pub timestamp_ms: i64,
    /// Who did it.
    pub user: UserId,
    /// What happened.
    pub kind: ChatEventKind,
}

impl From<api::ChatEvent> for ChatEvent {
    fn from(e: api::ChatEvent) -> Self {
        use api::ChatEventKind as K;
        let kind = match e.kind {
            K::Created {
                name,
                topic,
                members,
            } => ChatEventKind::Created {
                name,
                topic,
                members: members.into_iter().map(Into::into).collect(),
            },
            K::Message { text } => ChatEventKind::Message { text },
            K::UserJoined => ChatEventKind::UserJoined,
            K::UserLeft => ChatEventKind::UserLeft,
            K::UserAdded { added } => ChatEventKind::UserAdded {
                added: added.into(),
            },
            K::UserRemoved { removed } => ChatEventKind::UserRemoved {
                removed: removed.into(),
            },
            K::NameChanged { name } => ChatEventKind::NameChanged { name },
            K::TopicChanged { topic } => ChatEventKind::TopicChanged { topic },
        };
        ChatEvent {
            number: e.number,
            timestamp_ms: e.timestamp_ms,
            user: e.user.into(),
            kind,
        }
    }
}

/// What happened in a chat, as `Event.ChatChanged` reports it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum ChatChange {
    /// A stored event.
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

impl From<api::ChatChange> for ChatChange {
    fn from(c: api::ChatChange) -> Self {
        match c {
            api::ChatChange::Event { event } => ChatChange::Event {
                event: event.into(),
            },
            api::ChatChange::MarkedSeen { user, number } => ChatChange::MarkedSeen {
                user: user.into(),
                number,
            },
            api::ChatChange::Removed => ChatChange::Removed,
        }
    }
}

/// Which events of a chat to read; every field may be left out.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ChatHistoryQuery {
    /// Event kinds to keep (`message`, `user_joined`, ...); empty keeps every kind.
    #[uniffi(default = [])]
    pub kinds: Vec<String>,
    /// Keep only messages holding this text, compared without case.
    #[uniffi(default = None)]
    pub text: Option<String>,
    /// The first event to read (inclusive, in the direction read).
    #[uniffi(default = None)]
    pub start: Option<u64>,
    /// Oldest first (else newest first).
    #[uniffi(default = false)]
    pub forward: bool,
    /// Matching events to skip.
    #[uniffi(default = 0)]
    pub offset: u64,
    /// Most events to answer (0: 50; at most 1,000).
    #[uniffi(default = 0)]
    pub limit: u64,
}

/// A page of a chat's events.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ChatHistory {
    /// The events, in the order read.
    pub events: Vec<ChatEvent>,
    /// How many matching events were skipped.
    pub offset: u64,
    /// How many events match in all.
    pub total: u64,
}

/// A posted message: its event number and time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct PostedMessage {
    /// Its event number in the chat.
    pub number: u64,
    /// When it was stored (epoch ms).
    pub timestamp_ms: i64,
}

#[uniffi::export]
impl Domain {
    /// Creates a channel or room; answers its id.
    pub async fn create_chat(&self, chat: NewChat) -> Result<String> {
        let d = self.inner.clone();
        let e = d.engine().clone();
        let new = api::NewChat {
            id: chat.id,
            kind: chat.kind.into(),
            private: chat.private,
            name: chat.name,
            topic: chat.topic,
            members: chat.members.into_iter().map(Into::into).collect(),
        };
        run(&e, async move { d.create_chat(new).await }).await
    }

    /// The direct chat of exactly these users, created when there is none (the same set
    /// always answers the same chat; the host is no member).
    pub async fn direct_chat(&self, users: Vec<UserId>) -> Result<ChatInfo> {
        let d = self.inner.clone();
        let e = d.engine().clone();
        let users: Vec<api::UserId> = users.into_iter().map(Into::into).collect();
        let found = run(&e, async move { d.direct_chat(&users).await }).await?;
        Ok(found.into())
    }

    /// Removes a chat with its events; its members are told.
    pub async fn remove_chat(&self, id: String) -> Result<()> {
        let d = self.inner.clone();
        let e = d.engine().clone();
        run(&e, async move { d.remove_chat(&id).await }).await
    }

    /// A chat as it is now, or null when it does not exist.
    pub async fn chat(&self, id: String) -> Result<Option<ChatInfo>> {
        let d = self.inner.clone();
        let e = d.engine().clone();
        let found = run(&e, async move { d.chat(&id).await }).await?;
        Ok(found.map(Into::into))
    }

    /// Every chat of the domain, by id.
    pub async fn chats(&self) -> Result<Vec<ChatInfo>> {
        let d = self.inner.clone();
        let e = d.engine().clone();
        let found = run(&e, async move { d.chats().await }).await?;
        Ok(found.into_iter().map(Into::into).collect())
    }

    /// Adds a user to a channel.
    pub async fn add_chat_member(&self, id: String, user: UserId) -> Result<()> {
        let d = self.inner.clone();
        let e = d.engine().clone();
        let user: api::UserId = user.into();
        run(&e, async move { d.add_chat_member(&id, &user).await }).await
    }

    /// Removes a user from a channel.
    pub async fn remove_chat_member(&self, id: String, user: UserId) -> Result<()> {
        let d = self.inner.clone();
        let e = d.engine().clone();
        let user: api::UserId = user.into();
        run(&e, async move { d.remove_chat_member(&id, &user).await }).await
    }

    /// Renames a chat.
    pub async fn set_chat_name(&self, id: String, name: String) -> Result<()> {
        let d = self.inner.clone();
        let e = d.engine().clone();
        run(&e, async move { d.set_chat_name(&id, &name).await }).await
    }

    /// Sets a chat's topic.
    pub async fn set_chat_topic(&self, id: String, topic: String) -> Result<()> {
        let d = self.inner.clone();
        let e = d.engine().clone();
        run(&e, async move { d.set_chat_topic(&id, &topic).await }).await
    }

    /// Posts a message as `user` (it must be a member), or as the host when `user` is null.
    #[uniffi::method(default(user = None))]
    pub async fn post_chat_message(
        &self,
        id: String,
        text: String,
        user: Option<UserId>,
    ) -> Result<PostedMessage> {
        let d = self.inner.clone();
        let e = d.engine().clone();
        let user: Option<api::UserId> = user.map(Into::into);
        let posted = run(&e, async move {
            d.post_chat_message(&id, user.as_ref(), &text).await
        })
        .await?;
        Ok(PostedMessage {
            number: posted.number,
            timestamp_ms: posted.timestamp_ms,
        })
    }

    /// A page of a chat's events.
    pub async fn chat_history(&self, id: String, query: ChatHistoryQuery) -> Result<ChatHistory> {
        let d = self.inner.clone();
        let e = d.engine().clone();
        let query = api::ChatHistoryQuery {
            kinds: query.kinds,
            text: query.text,
            start: query.start,
            forward: query.forward,
            offset: usize::try_from(query.offset).unwrap_or(usize::MAX),
            limit: usize::try_from(query.limit).unwrap_or(usize::MAX),
        };
        let page = run(&e, async move { d.chat_history(&id, query).await }).await?;
        Ok(ChatHistory {
            events: page.events.into_iter().map(Into::into).collect(),
            offset: page.offset as u64,
            total: page.total as u64,
        })
    }
}
