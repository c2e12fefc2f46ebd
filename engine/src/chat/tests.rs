//! The chat service against the memory store: who receives which event, what each request
//! needs, history paging, direct chats, rooms following sessions, and a failing owner.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::*;
use crate::sources::{ManualClock, RandomIds};
use crate::store::{
    ChatEventKind, Grantee, MemoryStore, PermissionTarget, UserRecord, UserType, WriteOp,
};

struct Fixture {
    service: ChatService,
    domain: DomainKey,
}

fn user(name: &str) -> UserId {
    UserId::normal(name)
}

fn actor(name: &str) -> Actor {
    Actor::User(user(name))
}

async fn fixture() -> Fixture {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new(4));
    let domain = DomainKey::new("ns", "d");
    let mut batch = Vec::new();
    for name in ["alice", "bob", "carol"] {
        batch.push(WriteOp::PutUser {
            domain: domain.clone(),
            record: UserRecord::placeholder(UserType::Normal, name),
        });
    }
    batch.push(WriteOp::SetPermissions {
        domain: domain.clone(),
        target: PermissionTarget::Global,
        grantee: Grantee::User(UserType::Normal, "alice".into()),
        permissions: vec!["create_chat".into()],
    });
    store.commit(batch).await.expect("users");
    let service = ChatService::new(
        Handle::current(),
        store,
        Arc::new(ManualClock::new(1_000)),
        Arc::new(RandomIds),
        ChatLimits {
            max_message_bytes: 20,
            ..ChatLimits::default()
        },
        EventBus::default(),
    );
    Fixture { service, domain }
}

struct Session {
    id: String,
    rx: mpsc::UnboundedReceiver<ChatDelivery>,
    tx: ChatSink,
}

/// A connected session of `name`.
fn connect(f: &Fixture, id: &str, name: &str) -> Session {
    let (tx, rx) = mpsc::unbounded_channel();
    f.service.connect(&f.domain, id, &user(name), tx.clone());
    Session {
        id: id.into(),
        rx,
        tx,
    }
}

async fn next(s: &mut Session) -> ChatDelivery {
    tokio::time::timeout(Duration::from_secs(5), s.rx.recv())
        .await
        .expect("a push in time")
        .expect("a push")
}

async fn nothing(s: &mut Session) {
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(s.rx.try_recv().is_err(), "no push expected");
}

fn channel(id: &str, private: bool) -> NewChat {
    NewChat {
        id: Some(id.into()),
        kind: ChatKind::Channel,
        private,
        name: "General".into(),
        topic: "talk".into(),
        members: Vec::new(),
    }
}

fn event(d: &ChatDelivery) -> &ChatEvent {
    match &d.push {
        ChatPush::Event(e) => e,
        other => panic!("not an event: {other:?}"),
    }
}

#[tokio::test]
async fn members_sessions_get_events_without_opening_the_chat() {
    let f = fixture().await;
    let mut alice = connect(&f, "a1", "alice");
    let mut bob = connect(&f, "b1", "bob");
    let mut bob2 = connect(&f, "b2", "bob");
    let mut carol = connect(&f, "c1", "carol");
    let id = f
        .service
        .create(&f.domain, &actor("alice"), channel("general", false))
        .await
        .expect("create");
    let key = ChatKey::new(f.domain.clone(), id);
    let info = f
        .service
        .join(&key, &actor("bob"), &bob.id, bob.tx.clone())
        .await
        .expect("join");
    assert_eq!(info.members.len(), 2);
    assert_eq!(info.last_event_number, 1);
    for s in [&mut alice, &mut bob, &mut bob2] {
        let d = next(s).await;
        assert_eq!(event(&d).kind, ChatEventKind::UserJoined);
        assert_eq!(event(&d).user, user("bob"));
    }
    let (number, _) = f
        .service
        .publish(&key, &actor("alice"), "hi")
        .await
        .expect("publish");
    assert_eq!(number, 2);
    for s in [&mut alice, &mut bob, &mut bob2] {
        let d = next(s).await;
        assert_eq!(event(&d).kind, ChatEventKind::Message("hi".into()));
    }
    nothing(&mut carol).await;
    assert_eq!(
        f.service.publish(&key, &actor("carol"), "x").await,
        Err(ChatError::NotJoined)
    );
    assert!(matches!(
        f.service
            .publish(&key, &actor("alice"), "a message much too long")
            .await,
        Err(ChatError::TooLarge { .. })
    ));
    f.service
        .mark_seen(&key, &actor("bob"), 2)
        .await
        .expect("seen");
    let d = next(&mut alice).await;
    assert_eq!(
        d.push,
        ChatPush::MarkedSeen {
            user: user("bob"),
            number: 2
        }
    );
}

#[tokio::test]
async fn each_request_needs_its_permission() {
    let f = fixture().await;
    assert_eq!(
        f.service
            .create(&f.domain, &actor("bob"), channel("c", false))
            .await,
        Err(ChatError::Unauthorized("create_chat"))
    );
    f.service
        .create(&f.domain, &actor("alice"), channel("c", false))
        .await
        .expect("create");
    assert_eq!(
        f.service
            .create(&f.domain, &actor("alice"), channel("c", false))
            .await,
        Err(ChatError::AlreadyExists)
    );
    let key = ChatKey::new(f.domain.clone(), "c");
    let bob = connect(&f, "b1", "bob");
    f.service
        .join(&key, &actor("bob"), &bob.id, bob.tx.clone())
        .await
        .expect("join");
    assert_eq!(
        f.service
            .join(&key, &actor("bob"), &bob.id, bob.tx.clone())
            .await,
        Err(ChatError::AlreadyJoined)
    );
    assert_eq!(
        f.service.set_name(&key, &actor("bob"), "x").await,
        Err(ChatError::Unauthorized("set_chat_name"))
    );
    assert_eq!(
        f.service
            .add_user(&key, &actor("bob"), &user("carol"))
            .await,
        Err(ChatError::Unauthorized("add_chat_user"))
    );
    assert_eq!(
        f.service
            .remove_user(&key, &actor("alice"), &user("alice"))
            .await,
        Err(ChatError::CantRemoveSelf)
    );
    assert_eq!(
        f.service
            .remove_user(&key, &actor("alice"), &user("carol"))
            .await,
        Err(ChatError::NotMember)
    );
    assert_eq!(
        f.service
            .add_user(&key, &actor("alice"), &user("bob"))
            .await,
        Err(ChatError::AlreadyMember)
    );
    f.service
        .add_user(&key, &actor("alice"), &user("carol"))
        .await
        .expect("add");
    f.service
        .set_topic(&key, &actor("alice"), "new")
        .await
        .expect("topic");
    f.service
        .remove_user(&key, &actor("alice"), &user("carol"))
        .await
        .expect("remove");
    f.service
        .leave(&key, &actor("bob"), &bob.id)
        .await
        .expect("leave");
    assert_eq!(
        f.service.leave(&key, &actor("bob"), &bob.id).await,
        Err(ChatError::NotJoined)
    );
    let mut rights = f
        .service
        .resolve(&key, &actor("bob"))
        .await
        .expect("resolve");
    rights.sort();
    assert_eq!(rights, vec!["leave_chat".to_string()]);
    assert_eq!(
        f.service.permissions(&key, &actor("bob")).await,
        Err(ChatError::Unauthorized("manage_chat_permissions"))
    );
    assert_eq!(
        f.service.remove(&key, &actor("bob")).await,
        Err(ChatError::Unauthorized("remove_chat"))
    );
    f.service
        .remove(&key, &actor("alice"))
        .await
        .expect("remove chat");
    assert_eq!(f.service.info(&key, &actor("alice")).await, Ok(None));
}

#[tokio::test]
async fn a_private_channel_is_hidden_from_outsiders() {
    let f = fixture().await;
    f.service
        .create(&f.domain, &actor("alice"), channel("secret", true))
        .await
        .expect("create");
    let key = ChatKey::new(f.domain.clone(), "secret");
    let bob = connect(&f, "b1", "bob");
    assert_eq!(f.service.info(&key, &actor("bob")).await, Ok(None));
    assert_eq!(
        f.service
            .join(&key, &actor("bob"), &bob.id, bob.tx.clone())
            .await,
        Err(ChatError::NotFound),
        "the same answer as for a chat that does not exist"
    );
    assert_eq!(
        f.service
            .exist(&f.domain, &actor("bob"), &["secret".into(), "none".into()])
            .await,
        Ok(vec![false, false])
    );
    f.service
        .add_user(&key, &actor("alice"), &user("bob"))
        .await
        .expect("add");
    assert!(f
        .service
        .info(&key, &actor("bob"))
        .await
        .expect("info")
        .is_some());
    let joined = f
        .service
        .joined(&f.domain, &actor("bob"))
        .await
        .expect("joined");
    assert_eq!(
        joined.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
        ["secret"]
    );
}

#[tokio::test]
async fn history_filters_and_pages() {
    let f = fixture().await;
    f.service
        .create(&f.domain, &actor("alice"), channel("h", false))
        .await
        .expect("create");
    let key = ChatKey::new(f.domain.clone(), "h");
    for text in ["one", "Two", "three", "two more"] {
        f.service
            .publish(&key, &actor("alice"), text)
            .await
            .expect("publish");
    }
    f.service
        .set_topic(&key, &actor("alice"), "t")
        .await
        .expect("topic");
    let all = f
        .service
        .history(&key, &actor("alice"), HistoryQuery::default())
        .await
        .expect("history");
    assert_eq!(all.total, 6);
    assert_eq!(
        all.events.iter().map(|e| e.number).collect::<Vec<_>>(),
        [5, 4, 3, 2, 1, 0]
    );
    let q = HistoryQuery {
        types: vec!["message".into()],
        forward: true,
        offset: 1,
        limit: 2,
        ..HistoryQuery::default()
    };
    let page = f
        .service
        .history(&key, &actor("alice"), q)
        .await
        .expect("history");
    assert_eq!(page.total, 4);
    assert_eq!(
        page.events.iter().map(|e| e.number).collect::<Vec<_>>(),
        [2, 3]
    );
    let q = HistoryQuery {
        text: Some("TWO".into()),
        start: Some(3),
        ..HistoryQuery::default()
    };
    let page = f
        .service
        .history(&key, &actor("alice"), q)
        .await
        .expect("history");
    assert_eq!(
        page.events.iter().map(|e| e.number).collect::<Vec<_>>(),
        [2]
    );
    assert_eq!(
        f.service
            .history(&key, &actor("bob"), HistoryQuery::default())
            .await,
        Err(ChatError::NotJoined)
    );
}

#[tokio::test]
async fn a_direct_chat_is_got_or_created_by_its_member_set() {
    let f = fixture().await;
    let mut bob = connect(&f, "b1", "bob");
    let first = f
        .service
        .direct(&f.domain, &actor("alice"), &[user("bob")])
        .await
        .expect("direct");
    assert_eq!(first.id, "direct:1");
    assert_eq!(first.kind, ChatKind::Direct);
    let again = f
        .service
        .direct(&f.domain, &actor("bob"), &[user("alice"), user("bob")])
        .await
        .expect("direct");
    assert_eq!(again.id, first.id);
    let other = f
        .service
        .direct(&f.domain, &actor("bob"), &[user("carol")])
        .await
        .expect("direct");
    assert_eq!(other.id, "direct:2");
    let key = ChatKey::new(f.domain.clone(), first.id);
    f.service
        .publish(&key, &actor("alice"), "psst")
        .await
        .expect("publish");
    assert_eq!(
        event(&next(&mut bob).await).kind,
        ChatEventKind::Message("psst".into())
    );
    assert!(matches!(
        f.service
            .join(&key, &actor("carol"), "c1", bob.tx.clone())
            .await,
        Err(ChatError::NotFound)
    ));
    assert!(matches!(
        f.service
            .direct(&f.domain, &actor("alice"), &[user("nobody")])
            .await,
        Err(ChatError::UserNotFound(_))
    ));
}

#[tokio::test]
async fn a_room_follows_its_sessions() {
    let f = fixture().await;
    let room = NewChat {
        kind: ChatKind::Room,
        ..channel("room", false)
    };
    f.service
        .create(&f.domain, &actor("alice"), room)
        .await
        .expect("create");
    let key = ChatKey::new(f.domain.clone(), "room");
    let mut a1 = connect(&f, "a1", "alice");
    let b1 = connect(&f, "b1", "bob");
    let b2 = connect(&f, "b2", "bob");
    f.service
        .join(&key, &actor("alice"), &a1.id, a1.tx.clone())
        .await
        .expect("join");
    assert_eq!(event(&next(&mut a1).await).kind, ChatEventKind::UserJoined);
    f.service
        .join(&key, &actor("bob"), &b1.id, b1.tx.clone())
        .await
        .expect("join");
    let info = f
        .service
        .join(&key, &actor("bob"), &b2.id, b2.tx.clone())
        .await
        .expect("join");
    assert_eq!(
        info.members.len(),
        2,
        "a user with two sessions is a member once"
    );
    assert_eq!(event(&next(&mut a1).await).user, user("bob"));
    f.service.leave_now(&key, &actor("bob"), &b1.id);
    f.service
        .publish(&key, &actor("bob"), "still")
        .await
        .expect("bob is still in");
    assert_eq!(
        event(&next(&mut a1).await).kind,
        ChatEventKind::Message("still".into())
    );
    f.service.leave_now(&key, &actor("bob"), &b2.id);
    let d = next(&mut a1).await;
    assert_eq!(
        (event(&d).kind.clone(), event(&d).user.clone()),
        (ChatEventKind::UserLeft, user("bob"))
    );
    assert_eq!(
        f.service
            .add_user(&key, &actor("alice"), &user("carol"))
            .await,
        Err(ChatError::NotSupported(
            "members are added to and removed from channels only"
        ))
    );
}

#[tokio::test]
async fn a_failing_owner_answers_an_error_and_a_fresh_one_takes_over() {
    crate::fault::enable();
    let f = fixture().await;
    f.service
        .create(&f.domain, &actor("alice"), channel("p", false))
        .await
        .expect("create");
    let key = ChatKey::new(f.domain.clone(), "p");
    assert_eq!(
        f.service
            .publish(&key, &actor("alice"), crate::fault::PANIC_IN_CHAT)
            .await,
        Err(ChatError::Stopped)
    );
    let (n, _) = f
        .service
        .publish(&key, &actor("alice"), "after")
        .await
        .expect("publish");
    assert_eq!(n, 1, "the next owner reloads the chat from the store");
}

#[tokio::test]
async fn malformed_ids_and_oversized_lists_are_refused_at_the_door() {
    let f = fixture().await;
    f.service
        .create(&f.domain, &actor("alice"), channel("c", false))
        .await
        .expect("create");
    let key = ChatKey::new(f.domain.clone(), "c");
    assert!(matches!(
        f.service
            .add_user(&key, &actor("alice"), &user(&"x".repeat(500)))
            .await,
        Err(ChatError::Invalid(_))
    ));
    assert!(matches!(
        f.service
            .join(
                &ChatKey::new(f.domain.clone(), "a\u{0}b"),
                &actor("bob"),
                "s",
                mpsc::unbounded_channel().0
            )
            .await,
        Err(ChatError::Invalid(_))
    ));
    let ids: Vec<String> = (0..=MAX_IDS_PER_REQUEST).map(|i| i.to_string()).collect();
    assert!(matches!(
        f.service.exist(&f.domain, &actor("bob"), &ids).await,
        Err(ChatError::TooLarge { .. })
    ));
    let long = NewChat {
        name: "n".repeat(2000),
        ..channel("long", false)
    };
    assert!(matches!(
        f.service.create(&f.domain, &actor("alice"), long).await,
        Err(ChatError::TooLarge { .. })
    ));
}

#[tokio::test]
async fn one_callers_requests_reach_the_owner_in_the_order_they_were_made() {
    let f = fixture().await;
    f.service
        .create(&f.domain, &actor("alice"), channel("o", false))
        .await
        .expect("create");
    let key = ChatKey::new(f.domain.clone(), "o");
    // Made one after the other, awaited in reverse (as a connection's tasks may run).
    let answers: Vec<_> = (0..20)
        .map(|i| f.service.publish(&key, &actor("alice"), &format!("m{i}")))
        .collect();
    let mut numbers = Vec::new();
    for a in answers.into_iter().rev() {
        numbers.push(a.await.expect("publish").0);
    }
    numbers.reverse();
    assert_eq!(numbers, (1..=20).collect::<Vec<u64>>());
}
