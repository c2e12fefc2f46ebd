//! Chats as the store keeps them: one record per chat (its kind, name, topic, members and the
//! number of its last event) and its numbered events. Its permission rows are generic rows
//! with a chat target.

use super::{DomainKey, UserId};

/// What kind of chat it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChatKind {
    /// Persistent membership, public or private.
    Channel,
    /// Membership is the sessions joined right now (never stored).
    Room,
    /// A fixed set of members, private, id allocated by the server.
    Direct,
}

impl ChatKind {
    /// The wire's name of it.
    pub fn as_str(self) -> &'static str {
        match self {
            ChatKind::Channel => "channel",
            ChatKind::Room => "room",
            ChatKind::Direct => "direct",
        }
    }

    /// The kind the wire's name names.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "channel" => Some(ChatKind::Channel),
            "room" => Some(ChatKind::Room),
            "direct" => Some(ChatKind::Direct),
            _ => None,
        }
    }
}

/// A member of a chat and the highest event it has marked seen (-1: none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatMember {
    /// The member.
    pub user: UserId,
    /// The highest event number it has seen, or -1.
    pub max_seen: i64,
}

/// A chat that exists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatRecord {
    /// Its domain.
    pub domain: DomainKey,
    /// Its id.
    pub id: String,
    /// Its kind.
    pub kind: ChatKind,
    /// Whether it is private (joining needs a permission; members are added).
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
    /// Its members in the order they joined (always empty for a room).
    pub members: Vec<ChatMember>,
}

/// What a chat event records.
#[derive(Clone, Debug, PartialEq, Eq)]
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
    Message(String),
    /// The user joined.
    UserJoined,
    /// The user left.
    UserLeft,
    /// The user added this one.
    UserAdded(UserId),
    /// The user removed this one.
    UserRemoved(UserId),
    /// The user renamed the chat.
    NameChanged(String),
    /// The user set the topic.
    TopicChanged(String),
}

impl ChatEventKind {
    /// The name the history's event filter uses for it.
    pub fn filter_name(&self) -> &'static str {
        match self {
            ChatEventKind::Created { .. } => "created",
            ChatEventKind::Message(_) => "message",
            ChatEventKind::UserJoined => "user_joined",
            ChatEventKind::UserLeft => "user_left",
            ChatEventKind::UserAdded(_) => "user_added",
            ChatEventKind::UserRemoved(_) => "user_removed",
            ChatEventKind::NameChanged(_) => "name_changed",
            ChatEventKind::TopicChanged(_) => "topic_changed",
        }
    }
}

/// One numbered event of a chat.
#[derive(Clone, Debug, PartialEq, Eq)]
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
