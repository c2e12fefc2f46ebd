//! Chat records and events: the memory store and the LMDB store agree on what a reader sees
//! (a chat by id, a domain's chats in order, event ranges, a deletion taking the chat's events
//! and permission rows, a domain's deletion taking its chats), and LMDB keeps them across a
//! reopen and recovers them from the write-ahead log; a key LMDB cannot hold is refused.

#[path = "support/records.rs"]
mod records;
mod support;
use records::{ok, open, open_lazy};
use support::write_sync;

use tandem::store::{
    ChatEvent, ChatEventKind, ChatKind, ChatMember, ChatRecord, DomainKey, Grantee, MemoryStore,
    PermissionTarget, Store, UserId, UserType, WriteOp,
};

fn alice() -> UserId {
    UserId::normal("alice")
}

fn chat(domain: &DomainKey, id: &str, kind: ChatKind) -> ChatRecord {
    ChatRecord {
        domain: domain.clone(),
        id: id.into(),
        kind,
        private: kind == ChatKind::Direct,
        name: "Name é😀".into(),
        topic: "topic".into(),
        created_ms: 1_700_000_000_123,
        last_event_number: 0,
        last_event_ms: 1_700_000_000_123,
        members: vec![
            ChatMember {
                user: alice(),
                max_seen: -1,
            },
            ChatMember {
                user: UserId::new(UserType::Anonymous, "anon"),
                max_seen: 7,
            },
        ],
    }
}

/// One event of every kind, numbered 0 to 7.
fn every_event() -> Vec<ChatEvent> {
    let bob = UserId::normal("bob");
    let kinds = [
        ChatEventKind::Created {
            name: "n".into(),
            topic: "t".into(),
            members: vec![alice(), bob.clone()],
        },
        ChatEventKind::Message("hello\u{0} there".into()),
        ChatEventKind::UserJoined,
        ChatEventKind::UserLeft,
        ChatEventKind::UserAdded(bob.clone()),
        ChatEventKind::UserRemoved(bob),
        ChatEventKind::NameChanged("new name".into()),
        ChatEventKind::TopicChanged(String::new()),
    ];
    kinds
        .into_iter()
        .enumerate()
        .map(|(i, kind)| ChatEvent {
            number: i as u64,
            timestamp_ms: 1_700_000_000_000 + i as i64,
            user: alice(),
            kind,
        })
        .collect()
}

fn appends(domain: &DomainKey, id: &str) -> Vec<WriteOp> {
    every_event()
        .into_iter()
        .map(|event| WriteOp::AppendChatEvent {
            domain: domain.clone(),
            chat: id.into(),
            event,
        })
        .collect()
}

/// What a reader sees after the scenario's writes.
fn scenario(store: &dyn Store) -> Vec<String> {
    let d = DomainKey::new("ns", "d");
    let other = DomainKey::new("ns", "other");
    let mut batch = vec![
        WriteOp::PutChat(chat(&d, "b", ChatKind::Channel)),
        WriteOp::PutChat(chat(&d, "a\u{0}x", ChatKind::Room)),
        WriteOp::PutChat(chat(&d, "direct:1", ChatKind::Direct)),
        WriteOp::PutChat(chat(&other, "b", ChatKind::Channel)),
        WriteOp::SetPermissions {
            domain: d.clone(),
            target: PermissionTarget::Chat("b".into()),
            grantee: Grantee::World,
            permissions: vec!["join_chat".into()],
        },
    ];
    batch.extend(appends(&d, "b"));
    batch.extend(appends(&d, "b2"));
    batch.extend(appends(&other, "b"));
    ok(store, batch);
    let mut seen = Vec::new();
    let list = |store: &dyn Store, key: &DomainKey| -> Vec<String> {
        store
            .chats(key)
            .expect("list")
            .iter()
            .map(|r| format!("{:?}/{:?}/{}", r.id, r.kind, r.members.len()))
            .collect()
    };
    seen.extend(list(store, &d));
    assert_eq!(
        store.chat(&d, "b").expect("read"),
        Some(chat(&d, "b", ChatKind::Channel))
    );
    assert_eq!(
        store.chat_events(&d, "b", 0, u64::MAX).expect("events"),
        every_event()
    );
    let middle = store.chat_events(&d, "b", 2, 4).expect("events");
    seen.push(format!(
        "{:?}",
        middle.iter().map(|e| e.number).collect::<Vec<_>>()
    ));
    assert!(store.chat_events(&d, "b", 5, 4).expect("events").is_empty());
    ok(
        store,
        vec![WriteOp::DeleteChat {
            domain: d.clone(),
            id: "b".into(),
        }],
    );
    assert_eq!(store.chat(&d, "b").expect("read"), None);
    assert!(store
        .chat_events(&d, "b", 0, u64::MAX)
        .expect("events")
        .is_empty());
    assert!(store
        .permissions(&d, &PermissionTarget::Chat("b".into()))
        .expect("rows")
        .is_empty());
    assert_eq!(
        store
            .chat_events(&d, "b2", 0, u64::MAX)
            .expect("events")
            .len(),
        8,
        "a chat whose id starts with the deleted one's keeps its events"
    );
    assert_eq!(
        store
            .chat_events(&other, "b", 0, 100)
            .expect("events")
            .len(),
        8
    );
    seen.extend(list(store, &d));
    ok(store, vec![WriteOp::DeleteDomain(d.clone())]);
    assert!(store.chats(&d).expect("list").is_empty());
    assert!(store
        .chat_events(&d, "b2", 0, u64::MAX)
        .expect("events")
        .is_empty());
    seen.extend(list(store, &other));
    seen
}

#[test]
fn memory_and_lmdb_agree() {
    let memory = scenario(&MemoryStore::new(2));
    let dir = tempfile::tempdir().expect("dir");
    let lmdb = scenario(&open(dir.path()));
    assert_eq!(memory, lmdb);
    let expected = [
        r#""a\0x"/Room/2"#,
        r#""b"/Channel/2"#,
        r#""direct:1"/Direct/2"#,
        "[2, 3, 4]",
        r#""a\0x"/Room/2"#,
        r#""direct:1"/Direct/2"#,
        r#""b"/Channel/2"#,
    ];
    assert_eq!(memory, expected);
}

#[test]
fn lmdb_keeps_chats_across_a_reopen_and_recovers_them_from_the_log() {
    let dir = tempfile::tempdir().expect("dir");
    let d = DomainKey::new("ns", "d");
    {
        let store = open(dir.path());
        let mut batch = vec![WriteOp::PutChat(chat(&d, "kept", ChatKind::Channel))];
        batch.extend(appends(&d, "kept"));
        ok(&store, batch);
    }
    {
        // An applier that never runs before the store closes: the writes are only in the log.
        let store = open_lazy(dir.path());
        let mut batch = vec![WriteOp::PutChat(chat(&d, "logged", ChatKind::Direct))];
        batch.extend(appends(&d, "logged"));
        ok(&store, batch);
    }
    let store = open(dir.path());
    for (id, kind) in [("kept", ChatKind::Channel), ("logged", ChatKind::Direct)] {
        assert_eq!(store.chat(&d, id).expect("read"), Some(chat(&d, id, kind)));
        assert_eq!(
            store.chat_events(&d, id, 0, u64::MAX).expect("events"),
            every_event()
        );
    }
}

#[test]
fn lmdb_refuses_a_chat_key_it_cannot_hold() {
    let dir = tempfile::tempdir().expect("dir");
    let store = open(dir.path());
    let d = DomainKey::new("ns", "d");
    let long = "x".repeat(600);
    let refused = write_sync(
        &store,
        vec![WriteOp::PutChat(chat(&d, &long, ChatKind::Room))],
    );
    assert!(refused.is_err());
    assert_eq!(store.chat(&d, &long).expect("read"), None);
    assert!(store
        .chat_events(&d, &long, 0, 10)
        .expect("events")
        .is_empty());
}
