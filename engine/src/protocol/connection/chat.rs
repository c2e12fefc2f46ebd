//! Chats: every request 500–540 translated to a [`ChatService`](crate::chat::ChatService) call
//! and answered (the service decides, here nothing but translation), and the pushes of the
//! chats this session's user is in — sent whether or not the client has looked at the chat.
//!
//! Every user a reply or push names is sent to the client's identity cache first (the client
//! fails on a user it does not know), so replies are finished on the connection's loop.

use super::*;
use crate::chat::{
    ChatDelivery, ChatError, ChatInfo, ChatKey, ChatPush, HistoryPage, HistoryQuery, NewChat,
    SearchQuery,
};
use crate::protocol::wire::proto::chat as pch;
use crate::store::{ChatEvent, ChatEventKind, ChatKind};

/// A chat reply finished on the connection's loop.
pub(super) struct ChatAnswer {
    id: i32,
    /// Users the reply names.
    users: Vec<UserId>,
    body: Body,
    /// A room this session joined (true) or left (false).
    room: Option<(String, bool)>,
}

/// The wire's code for a refusal.
fn error_code(e: &ChatError) -> &'static str {
    match e {
        ChatError::NotFound => "chat_not_found",
        ChatError::AlreadyExists => "chat_already_exists",
        ChatError::AlreadyJoined => "chat_already_joined",
        ChatError::NotJoined => "chat_not_joined",
        ChatError::AlreadyMember => "chat_already_a_member",
        ChatError::NotMember => "not_a_member",
        ChatError::CantRemoveSelf => "cant_remove_self",
        ChatError::NotSupported(_) => "not_supported",
        ChatError::Unauthorized(_) => "unauthorized",
        ChatError::Invalid(_) => "invalid_message",
        ChatError::TooLarge { .. } => "message_too_large",
        ChatError::Permission(_) => "invalid_permissions",
        ChatError::UserNotFound(_) => "user_not_found",
        ChatError::Store(_) | ChatError::Stopped => "unknown",
    }
}

pub(super) fn chat_error_body(e: &ChatError) -> Body {
    error_body(error_code(e), e.to_string())
}

fn user_to_wire(u: &UserId) -> pc::DomainUserIdData {
    convert::user_id(wire_type(u.kind), &u.name)
}

fn user_from_wire(u: &pc::DomainUserIdData) -> UserId {
    UserId::new(type_from_wire(u.user_type), u.username.clone())
}

fn info_users(info: &ChatInfo) -> impl Iterator<Item = UserId> + '_ {
    info.members.iter().map(|m| m.user.clone())
}

fn info_to_wire(info: &ChatInfo) -> pch::ChatInfoData {
    pch::ChatInfoData {
        id: info.id.clone(),
        chat_type: info.kind.as_str().to_string(),
        membership: if info.private { "private" } else { "public" }.to_string(),
        name: info.name.clone(),
        topic: info.topic.clone(),
        created_time: Some(timestamp(info.created_ms)),
        last_event_time: Some(timestamp(info.last_event_ms)),
        last_event_number: info.last_event_number as i64,
        members: info
            .members
            .iter()
            .map(|m| pch::ChatMemberData {
                user: Some(user_to_wire(&m.user)),
                max_seen_event_number: m.max_seen,
            })
            .collect(),
    }
}

/// Users an event names.
fn event_users(e: &ChatEvent) -> Vec<UserId> {
    let mut users = vec![e.user.clone()];
    match &e.kind {
        ChatEventKind::Created { members, .. } => users.extend(members.iter().cloned()),
        ChatEventKind::UserAdded(u) | ChatEventKind::UserRemoved(u) => users.push(u.clone()),
        _ => {}
    }
    users
}

/// A history entry.
fn event_to_wire(chat: &str, e: &ChatEvent) -> pch::ChatEventData {
    use pch::chat_event_data::Event;
    let (chat_id, event_number) = (chat.to_string(), e.number as i64);
    let (timestamp, user) = (Some(timestamp(e.timestamp_ms)), Some(user_to_wire(&e.user)));
    macro_rules! data {
        ($ty:ident { $($f:ident: $v:expr),* }) => {
            pch::$ty { chat_id, event_number, timestamp, user, $($f: $v),* }
        };
    }
    let event = match &e.kind {
        ChatEventKind::Created {
            name,
            topic,
            members,
        } => Event::Created(data!(ChatCreatedEventData {
            name: name.clone(),
            topic: topic.clone(),
            members: members.iter().map(user_to_wire).collect()
        })),
        ChatEventKind::Message(m) => {
            Event::Message(data!(ChatMessageEventData { message: m.clone() }))
        }
        ChatEventKind::UserJoined => Event::UserJoined(data!(ChatUserJoinedEventData {})),
        ChatEventKind::UserLeft => Event::UserLeft(data!(ChatUserLeftEventData {})),
        ChatEventKind::UserAdded(u) => Event::UserAdded(data!(ChatUserAddedEventData {
            added_user: Some(user_to_wire(u))
        })),
        ChatEventKind::UserRemoved(u) => Event::UserRemoved(data!(ChatUserRemovedEventData {
            removed_user: Some(user_to_wire(u))
        })),
        ChatEventKind::NameChanged(n) => {
            Event::NameChanged(data!(ChatNameChangedEventData { name: n.clone() }))
        }
        ChatEventKind::TopicChanged(t) => {
            Event::TopicChanged(data!(ChatTopicChangedEventData { topic: t.clone() }))
        }
    };
    pch::ChatEventData { event: Some(event) }
}

/// The push of an event (the created event has none).
fn event_push(chat: &str, e: &ChatEvent) -> Option<Body> {
    let (chat_id, event_number) = (chat.to_string(), e.number as i64);
    let (timestamp, user) = (Some(timestamp(e.timestamp_ms)), Some(user_to_wire(&e.user)));
    macro_rules! push {
        ($variant:ident, $ty:ident { $($f:ident: $v:expr),* }) => {
            Body::$variant(pch::$ty { chat_id, event_number, timestamp, user, $($f: $v),* })
        };
    }
    Some(match &e.kind {
        ChatEventKind::Created { .. } => return None,
        ChatEventKind::Message(m) => push!(
            RemoteChatMessage,
            RemoteChatMessageMessage { message: m.clone() }
        ),
        ChatEventKind::UserJoined => push!(UserJoinedChat, UserJoinedChatMessage {}),
        ChatEventKind::UserLeft => push!(UserLeftChat, UserLeftChatMessage {}),
        ChatEventKind::UserAdded(u) => push!(
            UserAddedToChat,
            UserAddedToChatMessage {
                added_user: Some(user_to_wire(u))
            }
        ),
        ChatEventKind::UserRemoved(u) => push!(
            UserRemovedFromChat,
            UserRemovedFromChatMessage {
                removed_user: Some(user_to_wire(u))
            }
        ),
        ChatEventKind::NameChanged(n) => {
            push!(ChatNameChanged, ChatNameSetMessage { name: n.clone() })
        }
        ChatEventKind::TopicChanged(t) => {
            push!(ChatTopicChanged, ChatTopicSetMessage { topic: t.clone() })
        }
    })
}

fn history_to_wire(chat: &str, page: &HistoryPage) -> (Vec<UserId>, Body) {
    let users = page.events.iter().flat_map(event_users).collect();
    let body = Body::GetChatHistoryResponse(pch::ChatHistoryResponseMessage {
        data: page.events.iter().map(|e| event_to_wire(chat, e)).collect(),
        start_index: page.offset as i64,
        total_results: page.total as i64,
    });
    (users, body)
}

fn infos_answer(
    infos: &[ChatInfo],
    body: impl FnOnce(Vec<pch::ChatInfoData>) -> Body,
) -> (Vec<UserId>, Body) {
    let users = infos.iter().flat_map(info_users).collect();
    (users, body(infos.iter().map(info_to_wire).collect()))
}

fn kinds_from_wire(types: &[String]) -> Result<Vec<ChatKind>, ChatError> {
    types
        .iter()
        .map(|t| ChatKind::parse(t).ok_or_else(|| ChatError::Invalid(format!("chat type {t:?}"))))
        .collect()
}

fn membership_from_wire(m: &str) -> Result<Option<bool>, ChatError> {
    match m {
        "" => Ok(None),
        "public" => Ok(Some(false)),
        "private" => Ok(Some(true)),
        other => Err(ChatError::Invalid(format!("membership {other:?}"))),
    }
}

/// An answer naming no user and no room.
fn none(body: Body) -> (Vec<UserId>, Body, Option<(String, bool)>) {
    (Vec::new(), body, None)
}

/// A count from the wire (negative is 0).
fn count(n: Option<i64>) -> usize {
    usize::try_from(n.unwrap_or(0)).unwrap_or(0)
}

impl Conn {
    fn chat_key(&self, id: &str) -> ChatKey {
        ChatKey::new(self.domain(), id)
    }

    /// Runs `work` off the loop and finishes its answer on it.
    fn chat_answer<T: Send + 'static>(
        &self,
        id: i32,
        work: impl std::future::Future<Output = Result<T, ChatError>> + Send + 'static,
        answer: impl FnOnce(T) -> (Vec<UserId>, Body, Option<(String, bool)>) + Send + 'static,
    ) {
        let tx = self.internal_tx.clone();
        tokio::spawn(async move {
            let (users, body, room) = match work.await {
                Ok(v) => answer(v),
                Err(e) => (Vec::new(), chat_error_body(&e), None),
            };
            let _ = tx.send(Internal::Chat(Box::new(ChatAnswer {
                id,
                users,
                body,
                room,
            })));
        });
    }

    /// Finishes a chat reply: its users to the identity cache, then the reply.
    pub(super) fn chat_answered(&mut self, a: Box<ChatAnswer>) {
        match a.room {
            Some((room, true)) => {
                self.chat_rooms.insert(room);
            }
            Some((room, false)) => {
                self.chat_rooms.remove(&room);
            }
            None => {}
        }
        self.ensure_users(&a.users);
        self.reply(a.id, a.body);
    }

    /// Registers this session for its user's chat pushes (once logged in).
    pub(super) fn chat_connected(&self) {
        if let Some(a) = &self.auth {
            let user = UserId::from_key(&a.session.user);
            let sink = self.chat_tx.clone();
            self.services
                .chats
                .connect(&a.domain, &a.session.session, &user, sink);
        }
    }

    /// Leaves this session's rooms and stops its pushes (the connection ended).
    pub(super) fn chat_disconnected(&mut self) {
        let Some(a) = &self.auth else { return };
        let actor = Actor::User(UserId::from_key(&a.session.user));
        for room in self.chat_rooms.drain() {
            let key = ChatKey::new(a.domain.clone(), room);
            self.services
                .chats
                .leave_now(&key, &actor, &a.session.session);
        }
        self.services
            .chats
            .disconnect(&a.domain, &a.session.session);
    }

    /// A push of one of the user's chats.
    pub(super) fn handle_chat_delivery(&mut self, d: ChatDelivery) {
        let body = match &d.push {
            ChatPush::Event(e) => {
                let Some(body) = event_push(&d.chat, e) else {
                    return;
                };
                self.ensure_users(&event_users(e));
                body
            }
            ChatPush::MarkedSeen { user, number } => {
                self.ensure_users(std::slice::from_ref(user));
                Body::ChatEventsMarkedSeen(pch::ChatEventsMarkedSeenMessage {
                    chat_id: d.chat.to_string(),
                    user: Some(user_to_wire(user)),
                    event_number: *number,
                })
            }
            ChatPush::Removed => {
                self.chat_rooms.remove(&*d.chat);
                Body::ChatRemoved(pch::ChatRemovedMessage {
                    chat_id: d.chat.to_string(),
                })
            }
        };
        self.send(codec::normal(body));
    }

    /// Handles a chat request (500–540); gives `body` back when it is not one.
    pub(super) fn chat_request(&mut self, id: i32, body: Body) -> Option<Body> {
        let service = self.services.chats.clone();
        let actor = self.actor();
        let domain = self.domain();
        match body {
            Body::CreateChatRequest(r) => {
                let chat = match self.new_chat(r) {
                    Ok(c) => c,
                    Err(e) => {
                        self.reply(id, chat_error_body(&e));
                        return None;
                    }
                };
                self.chat_answer(id, service.create(&domain, &actor, chat), move |chat_id| {
                    none(Body::CreateChatResponse(pch::CreateChatResponseMessage {
                        chat_id,
                    }))
                });
            }
            Body::RemoveChatRequest(r) => {
                let key = self.chat_key(&r.chat_id);
                self.chat_answer(id, service.remove(&key, &actor), move |()| {
                    none(Body::RemoveChatResponse(pch::RemoveChatResponseMessage {}))
                });
            }
            Body::GetChatsRequest(r) => {
                self.chat_answer(
                    id,
                    async move { service.chats(&domain, &actor, &r.chat_ids).await },
                    |infos| {
                        let (users, body) = infos_answer(&infos, |chat_info| {
                            Body::GetChatsResponse(pch::GetChatsResponseMessage { chat_info })
                        });
                        (users, body, None)
                    },
                );
            }
            Body::ChatsExistRequest(r) => {
                self.chat_answer(
                    id,
                    async move { service.exist(&domain, &actor, &r.chat_ids).await },
                    |exists| {
                        none(Body::ChatsExistResponse(pch::ChatsExistResponseMessage {
                            exists,
                        }))
                    },
                );
            }
            other => return self.chat_list_request(id, other),
        }
        None
    }

    /// The requests answering lists of chats: direct chats, joined chats, search.
    fn chat_list_request(&mut self, id: i32, body: Body) -> Option<Body> {
        let service = self.services.chats.clone();
        let actor = self.actor();
        let domain = self.domain();
        match body {
            Body::GetDirectChatsRequest(r) => {
                let lists: Vec<Vec<UserId>> = r
                    .user_lists
                    .iter()
                    .map(|l| l.values.iter().map(user_from_wire).collect())
                    .collect();
                let work = async move {
                    if lists.len() > crate::chat::MAX_IDS_PER_REQUEST {
                        return Err(ChatError::TooLarge {
                            what: "the list of member lists",
                            size: lists.len(),
                            max: crate::chat::MAX_IDS_PER_REQUEST,
                        });
                    }
                    let mut out = Vec::with_capacity(lists.len());
                    for users in &lists {
                        out.push(service.direct(&domain, &actor, users).await?);
                    }
                    Ok(out)
                };
                self.chat_answer(id, work, |infos| {
                    let (users, body) = infos_answer(&infos, |chat_info| {
                        Body::GetDirectChatsResponse(pch::GetDirectChatsResponseMessage {
                            chat_info,
                        })
                    });
                    (users, body, None)
                });
            }
            Body::GetJoinedChatsRequest(_) => {
                self.chat_answer(
                    id,
                    async move { service.joined(&domain, &actor).await },
                    |infos| {
                        let (users, body) = infos_answer(&infos, |chat_info| {
                            Body::GetJoinedChatsResponse(pch::GetJoinedChatsResponseMessage {
                                chat_info,
                            })
                        });
                        (users, body, None)
                    },
                );
            }
            Body::ChatsSearchRequest(r) => {
                let query = match kinds_from_wire(&r.types)
                    .and_then(|kinds| Ok((kinds, membership_from_wire(&r.membership)?)))
                {
                    Ok((kinds, private)) => SearchQuery {
                        term: r.search_term,
                        fields: r.search_fields,
                        kinds,
                        private,
                        offset: count(r.offset),
                        limit: count(r.limit),
                    },
                    Err(e) => {
                        self.reply(id, chat_error_body(&e));
                        return None;
                    }
                };
                self.chat_answer(
                    id,
                    async move { service.search(&domain, &actor, &query).await },
                    |page| {
                        let users = page.chats.iter().flat_map(info_users).collect();
                        let body = Body::ChatsSearchResponse(pch::ChatsSearchResponseMessage {
                            data: page.chats.iter().map(info_to_wire).collect(),
                            start_index: page.offset as i64,
                            total_results: page.total as i64,
                        });
                        (users, body, None)
                    },
                );
            }
            other => return self.chat_member_request(id, other),
        }
        None
    }

    fn new_chat(&self, r: pch::CreateChatRequestMessage) -> Result<NewChat, ChatError> {
        let kind = match ChatKind::parse(&r.chat_type) {
            Some(k @ (ChatKind::Channel | ChatKind::Room)) => k,
            _ => return Err(ChatError::Invalid(format!("chat type {:?}", r.chat_type))),
        };
        let private = membership_from_wire(&r.membership)?.unwrap_or(false);
        Ok(NewChat {
            id: r.chat_id,
            kind,
            private,
            name: r.name,
            topic: r.topic,
            members: r.members.iter().map(user_from_wire).collect(),
        })
    }

    /// The requests on one chat by one of its members (or one who would be).
    fn chat_member_request(&mut self, id: i32, body: Body) -> Option<Body> {
        let service = self.services.chats.clone();
        let actor = self.actor();
        let session = self.session().session;
        match body {
            Body::JoinChatRequest(r) => {
                let key = self.chat_key(&r.chat_id);
                let sink = self.chat_tx.clone();
                let work = service.join(&key, &actor, &session, sink);
                self.chat_answer(id, work, |info| {
                    let users = info_users(&info).collect();
                    let room = (info.kind == ChatKind::Room).then(|| (info.id.clone(), true));
                    let body = Body::JoinChatResponse(pch::JoinChatResponseMessage {
                        chat_info: Some(info_to_wire(&info)),
                    });
                    (users, body, room)
                });
            }
            Body::LeaveChatRequest(r) => {
                let key = self.chat_key(&r.chat_id);
                let room = r.chat_id.clone();
                let work = service.leave(&key, &actor, &session);
                self.chat_answer(id, work, move |()| {
                    let body = Body::LeaveChatResponse(pch::LeaveChatResponseMessage {});
                    (Vec::new(), body, Some((room, false)))
                });
            }
            Body::AddUserToChatRequest(r) => {
                let key = self.chat_key(&r.chat_id);
                let Some(user) = r.user_to_add.as_ref().map(user_from_wire) else {
                    self.reply(id, error_body("invalid_message", "no user to add"));
                    return None;
                };
                let work = service.add_user(&key, &actor, &user);
                self.chat_answer(id, work, move |()| {
                    none(Body::AddUserToChatResponse(
                        pch::AddUserToChatResponseMessage {},
                    ))
                });
            }
            Body::RemoveUserFromChatRequest(r) => {
                let key = self.chat_key(&r.chat_id);
                let Some(user) = r.user_to_remove.as_ref().map(user_from_wire) else {
                    self.reply(id, error_body("invalid_message", "no user to remove"));
                    return None;
                };
                let work = service.remove_user(&key, &actor, &user);
                self.chat_answer(id, work, move |()| {
                    none(Body::RemoveUserFromChatResponse(
                        pch::RemoveUserFromChatResponseMessage {},
                    ))
                });
            }
            other => return self.chat_event_request(id, other),
        }
        None
    }

    /// The requests that add an event to a chat or read them, by its members.
    fn chat_event_request(&mut self, id: i32, body: Body) -> Option<Body> {
        let service = self.services.chats.clone();
        let actor = self.actor();
        match body {
            Body::SetChatNameRequest(r) => {
                let key = self.chat_key(&r.chat_id);
                let work = service.set_name(&key, &actor, &r.name);
                self.chat_answer(id, work, move |()| {
                    none(Body::SetChatNameResponse(
                        pch::SetChatNameResponseMessage {},
                    ))
                });
            }
            Body::SetChatTopicRequest(r) => {
                let key = self.chat_key(&r.chat_id);
                let work = service.set_topic(&key, &actor, &r.topic);
                self.chat_answer(id, work, move |()| {
                    none(Body::SetChatTopicResponse(
                        pch::SetChatTopicResponseMessage {},
                    ))
                });
            }
            Body::MarkChatEventsSeenRequest(r) => {
                let key = self.chat_key(&r.chat_id);
                let work = service.mark_seen(&key, &actor, r.event_number);
                self.chat_answer(id, work, move |()| {
                    none(Body::MarkChatEventsSeenResponse(
                        pch::MarkChatEventsSeenResponseMessage {},
                    ))
                });
            }
            Body::PublishChatMessageRequest(r) => {
                let key = self.chat_key(&r.chat_id);
                let work = service.publish(&key, &actor, &r.message);
                self.chat_answer(id, work, move |(number, ms)| {
                    none(Body::PublishChatMessageResponse(
                        pch::PublishChatResponseMessage {
                            event_number: number as i64,
                            timestamp: Some(timestamp(ms)),
                        },
                    ))
                });
            }
            Body::GetChatHistoryRequest(r) => {
                let key = self.chat_key(&r.chat_id);
                let chat = r.chat_id.clone();
                let query = HistoryQuery {
                    types: r.event_filter,
                    text: None,
                    start: r.start_event.and_then(|n| u64::try_from(n).ok()),
                    forward: r.forward.unwrap_or(false),
                    offset: count(r.offset),
                    limit: count(r.limit),
                };
                let work = service.history(&key, &actor, query);
                self.chat_answer(id, work, move |page| {
                    let (users, body) = history_to_wire(&chat, &page);
                    (users, body, None)
                });
            }
            other => return Some(other),
        }
        None
    }

    /// `resolvePermissionsForConnectedSessionRequest` on a chat.
    pub(super) fn chat_resolve_permissions(&self, id: i32, chat: &str) {
        let key = self.chat_key(chat);
        let service = self.services.chats.clone();
        let actor = self.actor();
        self.chat_answer(id, service.resolve(&key, &actor), |permissions| {
            let body = Body::ResolvePermissionsForConnectedSessionResponse(
                pc::ResolvePermissionsForConnectedSessionResponseMessage { permissions },
            );
            (Vec::new(), body, None)
        });
    }

    /// `getPermissionsRequest` on a chat.
    pub(super) fn chat_get_permissions(&self, id: i32, chat: &str) {
        let key = self.chat_key(chat);
        let service = self.services.chats.clone();
        let actor = self.actor();
        self.chat_answer(id, service.permissions(&key, &actor), |rows| {
            let users = rows.users.iter().map(|(u, _)| u.clone()).collect();
            let body = super::generic_permissions::rows_to_wire(&rows);
            (users, body, None)
        });
    }

    /// `add`/`remove`/`setPermissionsRequest` on a chat.
    pub(super) fn chat_change_permissions(
        &self,
        id: i32,
        chat: String,
        change: crate::perm::PermissionChange,
    ) {
        let key = self.chat_key(&chat);
        let service = self.services.chats.clone();
        let actor = self.actor();
        let work = service.change_permissions(&key, &actor, change);
        self.chat_answer(id, work, |()| {
            (Vec::new(), Body::Ok(pc::OkResponse {}), None)
        });
    }
}
