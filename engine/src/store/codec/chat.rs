//! Chat records and chat events (a record's key holds the domain and id; the value repeats
//! them so a record decodes on its own).

use prost::Message;

use super::{corrupt, put, user_type_from_p};
use crate::store::{
    ChatEvent, ChatEventKind, ChatKind, ChatMember, ChatRecord, DomainKey, StoreResult, UserId,
};

#[derive(Clone, PartialEq, Message)]
struct PUser {
    #[prost(int32, tag = "1")]
    user_type: i32,
    #[prost(string, tag = "2")]
    name: String,
}

#[derive(Clone, PartialEq, Message)]
struct PMember {
    #[prost(message, optional, tag = "1")]
    user: Option<PUser>,
    #[prost(sint64, tag = "2")]
    max_seen: i64,
}

#[derive(Clone, PartialEq, Message)]
struct PChat {
    #[prost(string, tag = "1")]
    namespace: String,
    #[prost(string, tag = "2")]
    domain: String,
    #[prost(string, tag = "3")]
    id: String,
    /// 1 channel, 2 room, 3 direct.
    #[prost(uint32, tag = "4")]
    kind: u32,
    #[prost(bool, tag = "5")]
    private: bool,
    #[prost(string, tag = "6")]
    name: String,
    #[prost(string, tag = "7")]
    topic: String,
    #[prost(sint64, tag = "8")]
    created_ms: i64,
    #[prost(uint64, tag = "9")]
    last_event_number: u64,
    #[prost(sint64, tag = "10")]
    last_event_ms: i64,
    #[prost(message, repeated, tag = "11")]
    members: Vec<PMember>,
}

#[derive(Clone, PartialEq, Message)]
struct PChatEvent {
    #[prost(uint64, tag = "1")]
    number: u64,
    #[prost(sint64, tag = "2")]
    timestamp_ms: i64,
    #[prost(message, optional, tag = "3")]
    user: Option<PUser>,
    /// 1 created, 2 message, 3 joined, 4 left, 5 added, 6 removed, 7 name, 8 topic.
    #[prost(uint32, tag = "4")]
    kind: u32,
    /// The message, the new name or the new topic (the created event's name).
    #[prost(string, tag = "5")]
    text: String,
    /// The created event's topic.
    #[prost(string, tag = "6")]
    topic: String,
    /// The created event's members.
    #[prost(message, repeated, tag = "7")]
    members: Vec<PUser>,
    /// The added or removed user.
    #[prost(message, optional, tag = "8")]
    other: Option<PUser>,
}

fn user_to_p(u: &UserId) -> PUser {
    PUser {
        user_type: u.kind.as_i32(),
        name: u.name.clone(),
    }
}

fn user_from_p(p: Option<PUser>, what: &str) -> StoreResult<UserId> {
    let p = p.ok_or_else(|| corrupt(what, "no user"))?;
    Ok(UserId::new(user_type_from_p(p.user_type, what)?, p.name))
}

fn kind_to_p(k: ChatKind) -> u32 {
    match k {
        ChatKind::Channel => 1,
        ChatKind::Room => 2,
        ChatKind::Direct => 3,
    }
}

/// Encodes a chat record.
pub fn encode_chat(r: &ChatRecord, buf: &mut Vec<u8>) {
    put(
        &PChat {
            namespace: r.domain.namespace.clone(),
            domain: r.domain.id.clone(),
            id: r.id.clone(),
            kind: kind_to_p(r.kind),
            private: r.private,
            name: r.name.clone(),
            topic: r.topic.clone(),
            created_ms: r.created_ms,
            last_event_number: r.last_event_number,
            last_event_ms: r.last_event_ms,
            members: r
                .members
                .iter()
                .map(|m| PMember {
                    user: Some(user_to_p(&m.user)),
                    max_seen: m.max_seen,
                })
                .collect(),
        },
        buf,
    );
}

/// Decodes a chat record.
pub fn decode_chat(bytes: &[u8]) -> StoreResult<ChatRecord> {
    let p = PChat::decode(bytes).map_err(|e| corrupt("chat record", e))?;
    let kind = match p.kind {
        1 => ChatKind::Channel,
        2 => ChatKind::Room,
        3 => ChatKind::Direct,
        other => return Err(corrupt("chat record", format_args!("unknown kind {other}"))),
    };
    let members = p
        .members
        .into_iter()
        .map(|m| {
            Ok(ChatMember {
                user: user_from_p(m.user, "chat member")?,
                max_seen: m.max_seen,
            })
        })
        .collect::<StoreResult<_>>()?;
    Ok(ChatRecord {
        domain: DomainKey::new(p.namespace, p.domain),
        id: p.id,
        kind,
        private: p.private,
        name: p.name,
        topic: p.topic,
        created_ms: p.created_ms,
        last_event_number: p.last_event_number,
        last_event_ms: p.last_event_ms,
        members,
    })
}

/// Encodes a chat event.
pub fn encode_chat_event(e: &ChatEvent, buf: &mut Vec<u8>) {
    let mut p = PChatEvent {
        number: e.number,
        timestamp_ms: e.timestamp_ms,
        user: Some(user_to_p(&e.user)),
        ..PChatEvent::default()
    };
    match &e.kind {
        ChatEventKind::Created {
            name,
            topic,
            members,
        } => {
            p.kind = 1;
            p.text = name.clone();
            p.topic = topic.clone();
            p.members = members.iter().map(user_to_p).collect();
        }
        ChatEventKind::Message(m) => (p.kind, p.text) = (2, m.clone()),
        ChatEventKind::UserJoined => p.kind = 3,
        ChatEventKind::UserLeft => p.kind = 4,
        ChatEventKind::UserAdded(u) => (p.kind, p.other) = (5, Some(user_to_p(u))),
        ChatEventKind::UserRemoved(u) => (p.kind, p.other) = (6, Some(user_to_p(u))),
        ChatEventKind::NameChanged(n) => (p.kind, p.text) = (7, n.clone()),
        ChatEventKind::TopicChanged(t) => (p.kind, p.text) = (8, t.clone()),
    }
    put(&p, buf);
}

/// Decodes a chat event.
pub fn decode_chat_event(bytes: &[u8]) -> StoreResult<ChatEvent> {
    let p = PChatEvent::decode(bytes).map_err(|e| corrupt("chat event", e))?;
    let kind = match p.kind {
        1 => ChatEventKind::Created {
            name: p.text,
            topic: p.topic,
            members: p
                .members
                .into_iter()
                .map(|u| user_from_p(Some(u), "chat event member"))
                .collect::<StoreResult<_>>()?,
        },
        2 => ChatEventKind::Message(p.text),
        3 => ChatEventKind::UserJoined,
        4 => ChatEventKind::UserLeft,
        5 => ChatEventKind::UserAdded(user_from_p(p.other, "chat event")?),
        6 => ChatEventKind::UserRemoved(user_from_p(p.other, "chat event")?),
        7 => ChatEventKind::NameChanged(p.text),
        8 => ChatEventKind::TopicChanged(p.text),
        other => return Err(corrupt("chat event", format_args!("unknown kind {other}"))),
    };
    Ok(ChatEvent {
        number: p.number,
        timestamp_ms: p.timestamp_ms,
        user: user_from_p(p.user, "chat event")?,
        kind,
    })
}
