//! Chats on the wire: events reach a member's session without the chat being opened (its
//! users sent to the identity cache first), every request 500–540 gets an answer, refusals
//! carry the protocol's codes, and a failing chat owner answers with an error.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tandem::api::{Engine, EngineConfig, NetConfig, PermissionChange, Target, TargetPermissions};
use tandem::protocol::codec;
use tandem::protocol::wire::proto::chat as pch;
use tandem::protocol::wire::proto::core as pc;
use tandem::protocol::wire::{Body, ConvergenceMessage};

mod support;

use support::RawSocket;

struct Raw {
    raw: RawSocket,
    /// Usernames the identity cache was sent.
    known: Vec<String>,
    /// Messages that arrived while a request waited for its reply.
    backlog: std::collections::VecDeque<ConvergenceMessage>,
}

impl Raw {
    async fn connect(addr: SocketAddr, name: &str) -> Raw {
        Raw {
            raw: RawSocket::connect(addr, "chats/d", "chat-test", name).await,
            known: Vec::new(),
            backlog: Default::default(),
        }
    }

    /// The next message, pongs sent for pings, identity updates noted.
    async fn next(&mut self, wait: Duration) -> Option<ConvergenceMessage> {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let msg = self.raw.frame(left).await.expect("socket")?;
            match &msg.body {
                Some(Body::Ping(_)) => {
                    self.raw
                        .send(&codec::normal(Body::Pong(pc::PongMessage {})))
                        .await;
                }
                Some(Body::IdentityCacheUpdate(u)) => {
                    self.known.extend(
                        u.users
                            .iter()
                            .filter_map(|d| d.user_id.as_ref().map(|id| id.username.clone())),
                    );
                }
                _ => return Some(msg),
            }
        }
    }

    async fn request(&mut self, body: Body) -> Body {
        let id = self.raw.request(body).await;
        loop {
            let msg = self.next(Duration::from_secs(10)).await.expect("a reply");
            if msg.response_id == Some(id) {
                return msg.body.expect("a body");
            }
            self.backlog.push_back(msg);
        }
    }

    /// Waits for the next push that `pick` takes, skipping others.
    async fn push<T>(&mut self, pick: impl Fn(Body) -> Option<T>) -> Option<T> {
        while let Some(msg) = self.backlog.pop_front() {
            if let Some(t) = msg.body.and_then(&pick) {
                return Some(t);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while let Some(msg) = self
            .next(deadline.saturating_duration_since(Instant::now()))
            .await
        {
            if let Some(t) = msg.body.and_then(&pick) {
                return Some(t);
            }
        }
        None
    }
}

fn code(body: &Body) -> &str {
    match body {
        Body::Error(e) => &e.code,
        other => panic!("not an error: {other:?}"),
    }
}

fn create(id: &str, chat_type: &str, membership: &str) -> Body {
    Body::CreateChatRequest(pch::CreateChatRequestMessage {
        chat_id: Some(id.into()),
        chat_type: chat_type.into(),
        membership: membership.into(),
        name: "General".into(),
        topic: "talk".into(),
        members: Vec::new(),
    })
}

fn join(id: &str) -> Body {
    Body::JoinChatRequest(pch::JoinChatRequestMessage { chat_id: id.into() })
}

fn publish(id: &str, text: &str) -> Body {
    Body::PublishChatMessageRequest(pch::PublishChatRequestMessage {
        chat_id: id.into(),
        message: text.into(),
    })
}

/// One request of every chat kind, on chat `id` (which the sender has not joined).
fn every_request(id: &str) -> Vec<Body> {
    let chat_id = || id.to_string();
    let user = || {
        Some(pc::DomainUserIdData {
            user_type: 0,
            username: "nobody".into(),
        })
    };
    vec![
        create("", "", ""),
        Body::RemoveChatRequest(pch::RemoveChatRequestMessage { chat_id: chat_id() }),
        Body::GetChatsRequest(pch::GetChatsRequestMessage {
            chat_ids: vec![chat_id()],
        }),
        Body::ChatsExistRequest(pch::ChatsExistRequestMessage {
            chat_ids: vec![chat_id()],
        }),
        Body::GetDirectChatsRequest(pch::GetDirectChatsRequestMessage {
            user_lists: vec![pc::DomainUserIdList {
                values: vec![user().unwrap()],
            }],
        }),
        Body::GetJoinedChatsRequest(pch::GetJoinedChatsRequestMessage {}),
        Body::ChatsSearchRequest(pch::ChatsSearchRequestMessage {
            types: vec!["bogus".into()],
            ..Default::default()
        }),
        join(""),
        Body::LeaveChatRequest(pch::LeaveChatRequestMessage { chat_id: chat_id() }),
        Body::AddUserToChatRequest(pch::AddUserToChatRequestMessage {
            chat_id: chat_id(),
            user_to_add: None,
        }),
        Body::RemoveUserFromChatRequest(pch::RemoveUserFromChatRequestMessage {
            chat_id: chat_id(),
            user_to_remove: user(),
        }),
        Body::SetChatNameRequest(pch::SetChatNameRequestMessage {
            chat_id: chat_id(),
            name: "x".into(),
        }),
        Body::SetChatTopicRequest(pch::SetChatTopicRequestMessage {
            chat_id: chat_id(),
            topic: "x".into(),
        }),
        Body::MarkChatEventsSeenRequest(pch::MarkChatEventsSeenRequestMessage {
            chat_id: chat_id(),
            event_number: 1,
        }),
        publish(id, "x"),
        Body::GetChatHistoryRequest(pch::ChatHistoryRequestMessage {
            chat_id: chat_id(),
            ..Default::default()
        }),
    ]
}

#[test]
fn chat_events_reach_members_unopened_and_every_request_is_answered() {
    tandem::fault::enable();
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = Engine::open(EngineConfig::with_data_dir(dir.path())).expect("engine");
    engine.block_on(async {
        let d = engine.create_domain("chats", "d").await.expect("domain");
        d.set_anonymous_auth(true).await.expect("anonymous");
        let everyone = PermissionChange::Add(TargetPermissions {
            world: vec!["create_chat".into()],
            ..Default::default()
        });
        d.change_permissions(&Target::Global, &everyone)
            .await
            .expect("grant");
        let listener = engine
            .serve("127.0.0.1:0".parse().expect("addr"), NetConfig::default())
            .await
            .expect("listen");
        let addr = listener.local_addr();
        let mut a = Raw::connect(addr, "Alice").await;
        let mut b = Raw::connect(addr, "Bob").await;

        let reply = a.request(create("general", "channel", "public")).await;
        assert!(
            matches!(reply, Body::CreateChatResponse(ref r) if r.chat_id == "general"),
            "{reply:?}"
        );
        assert_eq!(
            code(&a.request(create("general", "channel", "public")).await),
            "chat_already_exists"
        );
        let Body::JoinChatResponse(joined) = b.request(join("general")).await else {
            panic!("join failed")
        };
        let info = joined.chat_info.expect("info");
        assert_eq!((info.members.len(), info.last_event_number), (2, 1));
        for m in &info.members {
            let name = &m.user.as_ref().expect("user").username;
            assert!(
                b.known.contains(name),
                "{name} was sent to the identity cache first"
            );
        }
        assert!(info.created_time.is_some() && info.last_event_time.is_some());
        let bob = a
            .push(|body| match body {
                Body::UserJoinedChat(j) => j.user,
                _ => None,
            })
            .await
            .expect("alice hears bob join without opening the chat");
        assert!(a.known.contains(&bob.username));

        let Body::PublishChatMessageResponse(sent) = b.request(publish("general", "hello")).await
        else {
            panic!("publish failed")
        };
        assert_eq!(sent.event_number, 2);
        assert!(sent.timestamp.is_some());
        for s in [&mut a, &mut b] {
            let m = s
                .push(|body| match body {
                    Body::RemoteChatMessage(m) => Some(m),
                    _ => None,
                })
                .await
                .expect("the message reaches both, the sender too");
            assert_eq!((m.message.as_str(), m.event_number), ("hello", 2));
        }

        assert_eq!(
            code(
                &b.request(Body::SetChatNameRequest(pch::SetChatNameRequestMessage {
                    chat_id: "general".into(),
                    name: "mine".into(),
                }))
                .await
            ),
            "unauthorized"
        );
        assert_eq!(
            code(
                &a.request(Body::AddUserToChatRequest(
                    pch::AddUserToChatRequestMessage {
                        chat_id: "general".into(),
                        user_to_add: Some(bob.clone()),
                    }
                ))
                .await
            ),
            "chat_already_a_member"
        );
        assert_eq!(
            code(&b.request(join("general")).await),
            "chat_already_joined"
        );
        assert_eq!(code(&b.request(join("nowhere")).await), "chat_not_found");
        let long = "x".repeat(64 * 1024 + 1);
        assert_eq!(
            code(&b.request(publish("general", &long)).await),
            "message_too_large"
        );

        let Body::GetChatHistoryResponse(h) = a
            .request(Body::GetChatHistoryRequest(
                pch::ChatHistoryRequestMessage {
                    chat_id: "general".into(),
                    forward: Some(true),
                    event_filter: vec!["message".into(), "user_joined".into()],
                    ..Default::default()
                },
            ))
            .await
        else {
            panic!("history failed")
        };
        assert_eq!(h.total_results, 2);
        assert_eq!(h.data.len(), 2);

        // Every request gets an answer, whatever it holds.
        let mut c = Raw::connect(addr, "Carol").await;
        let requests = every_request("general");
        assert_eq!(requests.len(), 16, "every chat request kind");
        for body in requests {
            let name = codec::body_name(&body);
            let reply = c.request(body).await;
            eprintln!("{name}: {}", codec::body_name(&reply));
        }

        // A failing owner: the request is answered with an error, the next one works.
        let reply = a
            .request(publish("general", tandem::fault::PANIC_IN_CHAT))
            .await;
        assert_eq!(code(&reply), "unknown");
        let reply = a.request(publish("general", "after")).await;
        assert!(
            matches!(reply, Body::PublishChatMessageResponse(_)),
            "{reply:?}"
        );
    });
}
