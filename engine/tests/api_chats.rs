//! Chats through the host facade: create a channel with members, post as a member, as the host
//! and (refused) as a non-member, manage members, name and topic, read history with filters
//! and paging, see every stored event on the domain's subscription, and remove the chat.

use std::time::Duration;

use tandem::api::{
    ChatChange, ChatEventKind, ChatHistoryQuery, ChatKind, Domain, Engine, EngineConfig, ErrorCode,
    Event, NewChat, NewUser, UserId,
};

async fn domain_with_users(engine: &Engine, users: &[&str]) -> Domain {
    let domain = engine.create_domain("acme", "chat").await.expect("domain");
    for u in users {
        domain
            .create_user(NewUser {
                username: (*u).into(),
                ..Default::default()
            })
            .await
            .expect("user");
    }
    domain
}

/// The chat events on `sub` until `n` arrived (or 5 s passed).
async fn chat_changes(sub: &tandem::api::Subscription, n: usize) -> Vec<(String, ChatChange)> {
    let mut out = Vec::new();
    while out.len() < n {
        match tokio::time::timeout(Duration::from_secs(5), sub.next()).await {
            Ok(Some(Event::ChatChanged {
                chat_id, change, ..
            })) => out.push((chat_id, change)),
            Ok(Some(_)) => {}
            _ => break,
        }
    }
    out
}

fn text_of(change: &ChatChange) -> Option<&str> {
    match change {
        ChatChange::Event { event } => match &event.kind {
            ChatEventKind::Message { text } => Some(text),
            _ => None,
        },
        _ => None,
    }
}

#[tokio::test]
async fn a_host_runs_a_channel_and_sees_every_event() {
    let engine = Engine::open(EngineConfig::default()).expect("engine");
    let domain = domain_with_users(&engine, &["alice", "bob"]).await;
    let alice = UserId::normal("alice");
    let bob = UserId::normal("bob");
    let sub = domain.subscribe();

    let id = domain
        .create_chat(NewChat {
            id: Some("general".into()),
            kind: ChatKind::Channel,
            private: true,
            name: "General".into(),
            topic: "Anything".into(),
            members: vec![alice.clone()],
        })
        .await
        .expect("created");
    assert_eq!(id, "general");
    let info = domain.chat("general").await.expect("read").expect("exists");
    assert_eq!(info.kind, ChatKind::Channel);
    assert!(info.private);
    assert_eq!(info.name, "General");
    assert!(info.members.iter().any(|m| m.user == alice));
    assert_eq!(domain.chat("nope").await.expect("read"), None);

    let first = domain
        .post_chat_message("general", Some(&alice), "hello from alice")
        .await
        .expect("a member posts");
    let second = domain
        .post_chat_message("general", None, "hello from the host")
        .await
        .expect("the host posts");
    assert_eq!(
        second.number,
        first.number + 1,
        "event numbers follow each other"
    );
    let refused = domain
        .post_chat_message("general", Some(&bob), "let me in")
        .await
        .expect_err("bob is no member");
    // A private chat bob may not join does not exist for him: the refusal leaks nothing.
    assert_eq!(refused.code, ErrorCode::NotFound);

    domain
        .add_chat_member("general", &bob)
        .await
        .expect("added");
    domain
        .post_chat_message("general", Some(&bob), "thanks")
        .await
        .expect("now bob posts");
    let again = domain
        .add_chat_member("general", &bob)
        .await
        .expect_err("twice");
    assert_eq!(again.code, ErrorCode::AlreadyExists);
    domain
        .set_chat_name("general", "Lobby")
        .await
        .expect("renamed");
    domain
        .set_chat_topic("general", "News")
        .await
        .expect("topic");
    domain
        .remove_chat_member("general", &bob)
        .await
        .expect("removed");

    let changes = chat_changes(&sub, 7).await;
    let texts: Vec<&str> = changes.iter().filter_map(|(_, c)| text_of(c)).collect();
    assert_eq!(
        texts,
        ["hello from alice", "hello from the host", "thanks"],
        "every posted message reached the subscription, the refused one did not"
    );
    assert!(changes.iter().all(|(chat, _)| chat == "general"));
    let kinds: Vec<String> = changes
        .iter()
        .filter_map(|(_, c)| match c {
            ChatChange::Event { event } => Some(format!("{:?}", event.kind)),
            _ => None,
        })
        .collect();
    assert!(kinds.iter().any(|k| k.starts_with("UserAdded")));
    assert!(kinds.iter().any(|k| k.contains("Lobby")));
    assert!(kinds.iter().any(|k| k.contains("News")));
    assert!(kinds.iter().any(|k| k.starts_with("UserRemoved")));
    if let Some((_, ChatChange::Event { event })) = changes
        .iter()
        .find(|(_, c)| text_of(c) == Some("hello from the host"))
    {
        assert_eq!(
            event.user,
            UserId::host(),
            "the host posts as the host user"
        );
    }

    let info = domain.chat("general").await.expect("read").expect("exists");
    assert_eq!(info.name, "Lobby");
    assert_eq!(info.topic, "News");
    assert!(!info.members.iter().any(|m| m.user == bob));
    assert_eq!(domain.chats().await.expect("list").len(), 1);

    let messages = domain
        .chat_history(
            "general",
            ChatHistoryQuery {
                kinds: vec!["message".into()],
                forward: true,
                ..Default::default()
            },
        )
        .await
        .expect("history");
    assert_eq!(messages.total, 3);
    let texts: Vec<String> = messages
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            ChatEventKind::Message { text } => Some(text.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(texts, ["hello from alice", "hello from the host", "thanks"]);
    let newest = domain
        .chat_history(
            "general",
            ChatHistoryQuery {
                limit: 1,
                ..Default::default()
            },
        )
        .await
        .expect("history");
    assert_eq!(newest.events.len(), 1);
    assert_eq!(
        newest.events[0].number, info.last_event_number,
        "newest first"
    );
    let found = domain
        .chat_history(
            "general",
            ChatHistoryQuery {
                text: Some("HOST".into()),
                ..Default::default()
            },
        )
        .await
        .expect("search");
    assert_eq!(found.total, 1, "the text filter ignores case");
    let bad = domain
        .chat_history(
            "general",
            ChatHistoryQuery {
                kinds: vec!["gossip".into()],
                ..Default::default()
            },
        )
        .await
        .expect_err("unknown kind");
    assert_eq!(bad.code, ErrorCode::InvalidArgument);

    domain.remove_chat("general").await.expect("removed");
    let removed = chat_changes(&sub, 1).await;
    assert!(matches!(removed.as_slice(), [(_, ChatChange::Removed)]));
    assert_eq!(domain.chat("general").await.expect("read"), None);
    let gone = domain
        .post_chat_message("general", None, "anyone?")
        .await
        .expect_err("removed");
    assert_eq!(gone.code, ErrorCode::NotFound);
    engine.shutdown().await;
}

#[tokio::test]
async fn chat_events_serialize_for_the_bindings() {
    let engine = Engine::open(EngineConfig::default()).expect("engine");
    let domain = domain_with_users(&engine, &["alice"]).await;
    let sub = domain.subscribe();
    domain
        .create_chat(NewChat {
            id: Some("room1".into()),
            kind: ChatKind::Room,
            private: false,
            name: "Room".into(),
            topic: String::new(),
            members: Vec::new(),
        })
        .await
        .expect("a room");
    let private_room = domain
        .create_chat(NewChat {
            id: Some("room2".into()),
            kind: ChatKind::Room,
            private: true,
            name: "Room".into(),
            topic: String::new(),
            members: Vec::new(),
        })
        .await
        .expect_err("a room must be public");
    assert_eq!(private_room.code, ErrorCode::InvalidArgument);
    let posted = domain
        .post_chat_message("room1", None, "ping")
        .await
        .expect("the host posts to a room");
    let changes = chat_changes(&sub, 1).await;
    let Some((_, change)) = changes.into_iter().find(|(_, c)| text_of(c).is_some()) else {
        panic!("no message event");
    };
    let event = Event::ChatChanged {
        namespace: "acme".into(),
        domain: "chat".into(),
        chat_id: "room1".into(),
        change,
    };
    let json: serde_json::Value = serde_json::from_str(&event.to_json_text()).expect("json");
    assert_eq!(json["type"], "chat_changed");
    assert_eq!(json["chat_id"], "room1");
    assert_eq!(json["change"], "event");
    assert_eq!(json["event"]["kind"], "message");
    assert_eq!(json["event"]["text"], "ping");
    assert_eq!(json["event"]["number"], posted.number);
    engine.shutdown().await;
}

#[tokio::test]
async fn a_host_gets_or_creates_the_direct_chat_of_a_member_set() {
    let engine = Engine::open(EngineConfig::default()).expect("engine");
    let domain = domain_with_users(&engine, &["alice", "bob"]).await;
    let (alice, bob) = (UserId::normal("alice"), UserId::normal("bob"));
    let first = domain
        .direct_chat(&[alice.clone(), bob.clone()])
        .await
        .expect("made");
    assert_eq!((first.kind, first.private), (ChatKind::Direct, true));
    let members: Vec<UserId> = first.members.iter().map(|m| m.user.clone()).collect();
    assert_eq!(
        members,
        [alice.clone(), bob.clone()],
        "the host is no member"
    );
    let again = domain
        .direct_chat(&[bob.clone(), alice.clone(), bob.clone()])
        .await
        .expect("found");
    assert_eq!(again.id, first.id, "the same set answers the same chat");
    let solo = domain
        .direct_chat(std::slice::from_ref(&alice))
        .await
        .expect("one member");
    assert_ne!(solo.id, first.id);

    domain
        .post_chat_message(&first.id, Some(&bob), "hi alice")
        .await
        .expect("a member posts");
    domain
        .post_chat_message(&first.id, None, "from the host")
        .await
        .expect("the host posts");
    let page = domain
        .chat_history(
            &first.id,
            ChatHistoryQuery {
                forward: true,
                ..Default::default()
            },
        )
        .await
        .expect("history");
    let texts: Vec<Option<&str>> = page
        .events
        .iter()
        .map(|e| match &e.kind {
            ChatEventKind::Message { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(texts, [None, Some("hi alice"), Some("from the host")]);
    assert!(matches!(page.events[0].kind, ChatEventKind::Created { .. }));
    assert_eq!(page.events[1].user, bob);

    for (users, code) in [
        (vec![], ErrorCode::InvalidArgument),
        (
            vec![alice.clone(), UserId::normal("ghost")],
            ErrorCode::NotFound,
        ),
    ] {
        let err = domain.direct_chat(&users).await.expect_err("refused");
        assert_eq!(err.code, code, "{users:?}");
    }
    assert_eq!(
        domain.chats().await.expect("chats").len(),
        2,
        "nothing made by a refusal"
    );
    engine.shutdown().await;
}
