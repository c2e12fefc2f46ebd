//! The owner task of one chat: its record, the sessions joined to it when it is a room, and
//! every request on it, checked against its permission rows (reference §4.3, with the
//! original's bugs fixed: creating needs `create_chat`, marking seen needs only membership,
//! resolving one's own permissions needs no manage right).
//!
//! A chat the actor may not see (it does not exist, or it is private and the actor is neither
//! a member nor holds `join_chat`) answers [`ChatError::NotFound`] to every request, so a
//! denial tells nothing about it.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tracing::{debug, warn};

use super::{
    ChatDelivery, ChatError, ChatInfo, ChatKey, ChatPush, ChatService, ChatSink, Command,
    HistoryPage, HistoryQuery, Inner, NewChat,
};
use crate::model::EngineEvent;
use crate::perm::{Actor, PermissionChange, TargetPermissions, CHAT_PERMISSIONS};
use crate::router::hand_over;
use crate::store::{
    ChatEvent, ChatEventKind, ChatKind, ChatMember, ChatRecord, Grantee, PermissionTarget, UserId,
    WriteOp,
};

/// The prefix of direct chats' ids (the server's alone).
pub(super) const DIRECT_PREFIX: &str = "direct:";

/// How long an owner without joined room sessions waits for another request before it stops.
const IDLE: Duration = Duration::from_secs(60);

/// The permission a joining or added member gets.
const MEMBER_PERMISSION: &str = "leave_chat";

/// A session joined to a room.
struct RoomSession {
    session: String,
    user: UserId,
    sink: ChatSink,
}

pub(super) struct Owner {
    key: ChatKey,
    target: PermissionTarget,
    service: ChatService,
    record: Option<ChatRecord>,
    room: Vec<RoomSession>,
}

type Rights = BTreeSet<String>;

impl Owner {
    pub(super) fn new(key: ChatKey, service: ChatService) -> Self {
        Owner {
            target: PermissionTarget::Chat(key.id.clone()),
            key,
            service,
            record: None,
            room: Vec::new(),
        }
    }

    fn inner(&self) -> &Inner {
        &self.service.inner
    }

    pub(super) async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Command>) {
        if let Err(e) = self.load() {
            warn!(error = %e, "chat record unreadable");
        }
        loop {
            let owners = &self.inner().owners;
            let idle = self.room.is_empty();
            let Some(command) = owners.next(&self.key, &mut rx, idle, IDLE).await else {
                break;
            };
            self.handle(command).await;
        }
        // Requests sent while this owner was stopping go to its successor.
        hand_over(&mut rx, |command| self.service.send(&self.key, command));
    }

    /// Reads the record, and the number of its last event (messages do not rewrite the
    /// record). A room starts without members: membership is its sessions.
    fn load(&mut self) -> Result<(), ChatError> {
        let store = &self.inner().store;
        let Some(mut record) = store.chat(&self.key.domain, &self.key.id)? else {
            return Ok(());
        };
        let later = store.chat_events(
            &self.key.domain,
            &self.key.id,
            record.last_event_number + 1,
            u64::MAX,
        )?;
        if let Some(last) = later.last() {
            record.last_event_number = last.number;
            record.last_event_ms = last.timestamp_ms;
        }
        if record.kind == ChatKind::Room {
            record.members.clear();
        }
        self.record = Some(record);
        Ok(())
    }

    async fn handle(&mut self, command: Command) {
        match command {
            Command::Create { actor, chat, reply } => {
                let _ = reply.send(self.create(&actor, chat).await);
            }
            Command::Remove { actor, reply } => {
                let _ = reply.send(self.remove(&actor).await);
            }
            Command::Info {
                actor,
                joined_only,
                reply,
            } => {
                let _ = reply.send(self.info(&actor, joined_only));
            }
            Command::Join {
                actor,
                session,
                sink,
                reply,
            } => {
                let _ = reply.send(self.join(&actor, session, sink).await);
            }
            Command::Leave {
                actor,
                session,
                reply,
            } => {
                let result = self.leave(&actor, &session, reply.is_none()).await;
                if let Some(reply) = reply {
                    let _ = reply.send(result);
                }
            }
            Command::Member {
                actor,
                user,
                add,
                reply,
            } => {
                let _ = reply.send(self.member(&actor, user, add).await);
            }
            Command::Rename {
                actor,
                text,
                topic,
                reply,
            } => {
                let _ = reply.send(self.rename(&actor, text, topic).await);
            }
            Command::MarkSeen {
                actor,
                number,
                reply,
            } => {
                let _ = reply.send(self.mark_seen(&actor, number).await);
            }
            Command::Publish { actor, text, reply } => {
                let _ = reply.send(self.publish(&actor, text).await);
            }
            Command::History {
                actor,
                query,
                reply,
            } => {
                let _ = reply.send(self.history(&actor, query));
            }
            other => self.handle_permissions(other).await,
        }
    }

    async fn handle_permissions(&mut self, command: Command) {
        match command {
            Command::Resolve { actor, reply } => {
                let _ = reply.send(self.seen_by(&actor).map(|(_, r)| r.into_iter().collect()));
            }
            Command::Permissions { actor, reply } => {
                let result = self.manage(&actor).and_then(|()| {
                    Ok(self
                        .inner()
                        .perms
                        .target_permissions(&self.key.domain, &self.target)?)
                });
                let _ = reply.send(result);
            }
            Command::ChangePermissions {
                actor,
                change,
                reply,
            } => {
                let _ = reply.send(self.change_permissions(&actor, change).await);
            }
            _ => {}
        }
    }

    fn rights(&self, actor: &Actor) -> Result<Rights, ChatError> {
        match actor {
            Actor::User(u) if !actor.is_privileged() => Ok(self.inner().perms.resolve(
                &self.key.domain,
                &self.target,
                u,
                &CHAT_PERMISSIONS,
            )?),
            _ => Ok(CHAT_PERMISSIONS.iter().map(|s| s.to_string()).collect()),
        }
    }

    fn is_member(&self, actor: &Actor) -> bool {
        match (actor.user(), &self.record) {
            (Some(u), Some(r)) => r.members.iter().any(|m| m.user == *u),
            _ => false,
        }
    }

    /// The record and the actor's rights, when the actor may see the chat.
    fn seen_by(&self, actor: &Actor) -> Result<(&ChatRecord, Rights), ChatError> {
        let Some(record) = &self.record else {
            return Err(ChatError::NotFound);
        };
        let rights = self.rights(actor)?;
        let visible = !record.private
            || actor.is_privileged()
            || self.is_member(actor)
            || rights.contains("join_chat");
        if !visible {
            return Err(ChatError::NotFound);
        }
        Ok((record, rights))
    }

    /// Like [`Owner::seen_by`], and the actor must be a member (the host always is).
    fn member_rights(&self, actor: &Actor) -> Result<(ChatRecord, Rights), ChatError> {
        let (record, rights) = self.seen_by(actor)?;
        if !self.is_member(actor) && actor.user().is_some() {
            return Err(ChatError::NotJoined);
        }
        Ok((record.clone(), rights))
    }

    fn require(rights: &Rights, permission: &'static str) -> Result<(), ChatError> {
        if rights.contains(permission) {
            Ok(())
        } else {
            Err(ChatError::Unauthorized(permission))
        }
    }

    fn manage(&self, actor: &Actor) -> Result<(), ChatError> {
        let (_, rights) = self.seen_by(actor)?;
        Self::require(&rights, "manage_chat_permissions")
    }

    fn info_of(&self, record: &ChatRecord) -> ChatInfo {
        ChatInfo {
            id: record.id.clone(),
            kind: record.kind,
            private: record.private,
            name: record.name.clone(),
            topic: record.topic.clone(),
            created_ms: record.created_ms,
            last_event_number: record.last_event_number,
            last_event_ms: record.last_event_ms,
            members: record.members.clone(),
        }
    }

    fn info(&self, actor: &Actor, joined_only: bool) -> Result<Option<ChatInfo>, ChatError> {
        if joined_only && !self.is_member(actor) {
            return Ok(None);
        }
        match self.seen_by(actor) {
            Ok((record, _)) => Ok(Some(self.info_of(record))),
            Err(ChatError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A user row holding `permissions` besides what the user holds on the chat already.
    fn grant(&self, user: &UserId, permissions: &[&str]) -> Result<WriteOp, ChatError> {
        let grantee = Grantee::User(user.kind, user.name.clone());
        let mut row: BTreeSet<String> = self
            .inner()
            .store
            .permission(&self.key.domain, &self.target, &grantee)?
            .into_iter()
            .collect();
        row.extend(permissions.iter().map(|s| s.to_string()));
        Ok(WriteOp::SetPermissions {
            domain: self.key.domain.clone(),
            target: self.target.clone(),
            grantee,
            permissions: row.into_iter().collect(),
        })
    }

    fn check_user(&self, user: &UserId) -> Result<(), ChatError> {
        let found = self
            .inner()
            .store
            .user(&self.key.domain, user.kind, &user.name)?;
        match found {
            Some(_) => Ok(()),
            None => Err(ChatError::UserNotFound(format!("user {:?}", user.name))),
        }
    }

    async fn create(&mut self, actor: &Actor, chat: NewChat) -> Result<(), ChatError> {
        if self.record.is_some() {
            return Err(ChatError::AlreadyExists);
        }
        let creator = actor.user().cloned().unwrap_or_else(UserId::host);
        if chat.kind != ChatKind::Direct && !actor.is_privileged() {
            let global = self.inner().perms.resolve(
                &self.key.domain,
                &PermissionTarget::Global,
                &creator,
                &CHAT_PERMISSIONS,
            )?;
            Self::require(&global, "create_chat")?;
        }
        let mut members: Vec<UserId> = Vec::new();
        if actor.user().is_some() && chat.kind != ChatKind::Room {
            members.push(creator.clone());
        }
        for u in chat.members {
            if !members.contains(&u) && chat.kind != ChatKind::Room {
                self.check_user(&u)?;
                members.push(u);
            }
        }
        let mut rows = TargetPermissions::default();
        if !actor.is_privileged() && chat.kind != ChatKind::Direct {
            let all = CHAT_PERMISSIONS.iter().filter(|p| **p != "create_chat");
            rows.users
                .push((creator.clone(), all.map(|s| s.to_string()).collect()));
        }
        for u in members.iter().filter(|u| **u != creator) {
            if chat.kind == ChatKind::Channel {
                rows.users.push((u.clone(), vec![MEMBER_PERMISSION.into()]));
            }
        }
        let now = self.inner().clock.now_ms();
        let record = ChatRecord {
            domain: self.key.domain.clone(),
            id: self.key.id.clone(),
            kind: chat.kind,
            private: chat.private,
            name: chat.name.clone(),
            topic: chat.topic.clone(),
            created_ms: now,
            last_event_number: 0,
            last_event_ms: now,
            members: members
                .iter()
                .map(|u| ChatMember {
                    user: u.clone(),
                    max_seen: -1,
                })
                .collect(),
        };
        let event = ChatEvent {
            number: 0,
            timestamp_ms: now,
            user: creator,
            kind: ChatEventKind::Created {
                name: chat.name,
                topic: chat.topic,
                members,
            },
        };
        let mut batch = self.inner().perms.initial_target_writes(
            &self.key.domain,
            &self.target,
            &rows,
            &CHAT_PERMISSIONS,
        )?;
        batch.push(WriteOp::PutChat(record.clone()));
        batch.push(WriteOp::AppendChatEvent {
            domain: self.key.domain.clone(),
            chat: self.key.id.clone(),
            event,
        });
        self.inner().store.commit(batch).await?;
        debug!(kind = chat.kind.as_str(), "chat created");
        self.record = Some(record);
        Ok(())
    }

    async fn remove(&mut self, actor: &Actor) -> Result<(), ChatError> {
        let (record, rights) = self.seen_by(actor)?;
        Self::require(&rights, "remove_chat")?;
        let users: Vec<UserId> = record.members.iter().map(|m| m.user.clone()).collect();
        self.inner()
            .store
            .commit(vec![WriteOp::DeleteChat {
                domain: self.key.domain.clone(),
                id: self.key.id.clone(),
            }])
            .await?;
        self.push(&users, ChatPush::Removed);
        self.record = None;
        self.room.clear();
        Ok(())
    }

    /// Writes `record` (a copy of the current one, changed) with a new event of `kind` by
    /// `user` and the `extra` writes; then tells the members, and `also` besides.
    async fn commit_event(
        &mut self,
        mut record: ChatRecord,
        user: &UserId,
        kind: ChatEventKind,
        extra: Vec<WriteOp>,
        also: Option<&UserId>,
    ) -> Result<Arc<ChatEvent>, ChatError> {
        let now = self.inner().clock.now_ms();
        record.last_event_number += 1;
        record.last_event_ms = now;
        let event = ChatEvent {
            number: record.last_event_number,
            timestamp_ms: now,
            user: user.clone(),
            kind,
        };
        let mut batch = extra;
        // A message leaves the record as it was: loading catches up from the events.
        if !matches!(event.kind, ChatEventKind::Message(_)) {
            let mut stored = record.clone();
            if stored.kind == ChatKind::Room {
                stored.members.clear();
            }
            batch.push(WriteOp::PutChat(stored));
        }
        batch.push(WriteOp::AppendChatEvent {
            domain: self.key.domain.clone(),
            chat: self.key.id.clone(),
            event: event.clone(),
        });
        self.inner().store.commit(batch).await?;
        let mut users: Vec<UserId> = record.members.iter().map(|m| m.user.clone()).collect();
        users.extend(also.cloned());
        self.record = Some(record);
        let event = Arc::new(event);
        self.push(&users, ChatPush::Event(event.clone()));
        Ok(event)
    }

    /// Sends `push` to the sessions of `users`: through the domain's delivery task for a
    /// channel or direct chat, to the joined sessions for a room.
    fn push(&self, users: &[UserId], push: ChatPush) {
        let delivery = ChatDelivery {
            chat: Arc::from(self.key.id.as_str()),
            push,
        };
        let bus = &self.inner().bus;
        if bus.has_subscribers() {
            bus.publish(EngineEvent::ChatChanged {
                domain: self.key.domain.clone(),
                chat: delivery.chat.clone(),
                push: delivery.push.clone(),
            });
        }
        let room = self
            .record
            .as_ref()
            .is_some_and(|r| r.kind == ChatKind::Room);
        if room {
            for s in &self.room {
                let _ = s.sink.send(delivery.clone());
            }
            return;
        }
        self.service.send_delivery(
            &self.key.domain,
            super::delivery::Command::Deliver {
                users: users.to_vec(),
                delivery,
            },
        );
    }

    async fn flush_deliveries(&self) {
        let (done, rx) = tokio::sync::oneshot::channel();
        self.service
            .send_delivery(&self.key.domain, super::delivery::Command::Flush(done));
        let _ = rx.await;
    }

    async fn join(
        &mut self,
        actor: &Actor,
        session: String,
        sink: ChatSink,
    ) -> Result<ChatInfo, ChatError> {
        let (record, rights) = self.seen_by(actor)?;
        let mut record = record.clone();
        let Some(user) = actor.user().cloned() else {
            return Err(ChatError::NotSupported("the host does not join chats"));
        };
        match record.kind {
            ChatKind::Direct => return Err(ChatError::NotSupported("direct chats are not joined")),
            ChatKind::Channel if self.is_member(actor) => return Err(ChatError::AlreadyJoined),
            ChatKind::Channel if record.private && !rights.contains("join_chat") => {
                return Err(ChatError::Unauthorized("join_chat"))
            }
            _ => {}
        }
        if record.kind == ChatKind::Room {
            if self.room.iter().any(|s| s.session == session) {
                return Err(ChatError::AlreadyJoined);
            }
            let first = !self.is_member(actor);
            self.room.push(RoomSession {
                session,
                user: user.clone(),
                sink,
            });
            if first {
                record.members.push(ChatMember {
                    user: user.clone(),
                    max_seen: -1,
                });
                if let Err(e) = self
                    .commit_event(record, &user, ChatEventKind::UserJoined, Vec::new(), None)
                    .await
                {
                    self.room.pop();
                    return Err(e);
                }
            }
        } else {
            if self.is_member(actor) {
                return Err(ChatError::AlreadyJoined);
            }
            self.check_members(&record, 1)?;
            record.members.push(ChatMember {
                user: user.clone(),
                max_seen: -1,
            });
            let grant = vec![self.grant(&user, &[MEMBER_PERMISSION])?];
            self.commit_event(record, &user, ChatEventKind::UserJoined, grant, None)
                .await?;
            // The joiner's sessions get their own join before the answer: rc.12 adds the
            // member a second time when the event follows.
            self.flush_deliveries().await;
        }
        match &self.record {
            Some(r) => Ok(self.info_of(r)),
            None => Err(ChatError::NotFound),
        }
    }

    fn check_members(&self, record: &ChatRecord, more: usize) -> Result<(), ChatError> {
        let limits = self.inner().limits;
        limits.check(
            "the member list",
            record.members.len() + more,
            limits.max_members,
        )
    }

    /// A member leaves; `gone` when its session ended (a room's session, no checks).
    async fn leave(&mut self, actor: &Actor, session: &str, gone: bool) -> Result<(), ChatError> {
        let room = self
            .record
            .as_ref()
            .is_some_and(|r| r.kind == ChatKind::Room);
        if gone && !room {
            return Ok(());
        }
        let (mut record, rights) = self.member_rights(actor)?;
        let Some(user) = actor.user().cloned() else {
            return Err(ChatError::NotJoined);
        };
        match record.kind {
            ChatKind::Direct => return Err(ChatError::NotSupported("direct chats are not left")),
            ChatKind::Channel => Self::require(&rights, MEMBER_PERMISSION)?,
            ChatKind::Room => {
                if !self.room.iter().any(|s| s.session == session) {
                    return Err(ChatError::NotJoined);
                }
                self.room.retain(|s| s.session != session);
                if self.room.iter().any(|s| s.user == user) {
                    return Ok(());
                }
            }
        }
        record.members.retain(|m| m.user != user);
        self.commit_event(
            record,
            &user,
            ChatEventKind::UserLeft,
            Vec::new(),
            Some(&user),
        )
        .await?;
        Ok(())
    }

    async fn member(&mut self, actor: &Actor, user: UserId, add: bool) -> Result<(), ChatError> {
        let (mut record, rights) = self.member_rights(actor)?;
        if record.kind != ChatKind::Channel {
            return Err(ChatError::NotSupported(
                "members are added to and removed from channels only",
            ));
        }
        let me = actor.user().cloned().unwrap_or_else(UserId::host);
        let present = record.members.iter().any(|m| m.user == user);
        if add {
            Self::require(&rights, "add_chat_user")?;
            if present {
                return Err(ChatError::AlreadyMember);
            }
            self.check_user(&user)?;
            self.check_members(&record, 1)?;
            record.members.push(ChatMember {
                user: user.clone(),
                max_seen: -1,
            });
            let grant = vec![self.grant(&user, &[MEMBER_PERMISSION])?];
            let kind = ChatEventKind::UserAdded(user);
            self.commit_event(record, &me, kind, grant, None).await?;
        } else {
            Self::require(&rights, "remove_chat_user")?;
            if user == me {
                return Err(ChatError::CantRemoveSelf);
            }
            if !present {
                return Err(ChatError::NotMember);
            }
            record.members.retain(|m| m.user != user);
            let kind = ChatEventKind::UserRemoved(user.clone());
            self.commit_event(record, &me, kind, Vec::new(), Some(&user))
                .await?;
        }
        Ok(())
    }

    async fn rename(&mut self, actor: &Actor, text: String, topic: bool) -> Result<(), ChatError> {
        let (mut record, rights) = self.member_rights(actor)?;
        let me = actor.user().cloned().unwrap_or_else(UserId::host);
        let kind = if topic {
            Self::require(&rights, "set_topic")?;
            record.topic = text.clone();
            ChatEventKind::TopicChanged(text)
        } else {
            Self::require(&rights, "set_chat_name")?;
            record.name = text.clone();
            ChatEventKind::NameChanged(text)
        };
        self.commit_event(record, &me, kind, Vec::new(), None)
            .await?;
        Ok(())
    }

    async fn mark_seen(&mut self, actor: &Actor, number: i64) -> Result<(), ChatError> {
        let (mut record, _) = self.member_rights(actor)?;
        let Some(user) = actor.user().cloned() else {
            return Err(ChatError::NotJoined);
        };
        let number = number.clamp(-1, record.last_event_number as i64);
        if let Some(m) = record.members.iter_mut().find(|m| m.user == user) {
            m.max_seen = number;
        }
        if record.kind != ChatKind::Room {
            self.inner()
                .store
                .commit(vec![WriteOp::PutChat(record.clone())])
                .await?;
        }
        let users: Vec<UserId> = record.members.iter().map(|m| m.user.clone()).collect();
        self.record = Some(record);
        self.push(&users, ChatPush::MarkedSeen { user, number });
        Ok(())
    }

    async fn publish(&mut self, actor: &Actor, text: String) -> Result<(u64, i64), ChatError> {
        let (record, _) = self.member_rights(actor)?;
        crate::fault::check_text(&text, crate::fault::PANIC_IN_CHAT);
        let me = actor.user().cloned().unwrap_or_else(UserId::host);
        let event = self
            .commit_event(record, &me, ChatEventKind::Message(text), Vec::new(), None)
            .await?;
        Ok((event.number, event.timestamp_ms))
    }

    fn history(&self, actor: &Actor, query: HistoryQuery) -> Result<HistoryPage, ChatError> {
        let (record, _) = self.member_rights(actor)?;
        let events = self.inner().store.chat_events(
            &self.key.domain,
            &self.key.id,
            0,
            record.last_event_number,
        )?;
        Ok(query.page(events))
    }

    async fn change_permissions(
        &mut self,
        actor: &Actor,
        change: PermissionChange,
    ) -> Result<(), ChatError> {
        self.manage(actor)?;
        self.inner()
            .perms
            .change_target(&self.key.domain, &self.target, &change, &CHAT_PERMISSIONS)
            .await?;
        Ok(())
    }
}
