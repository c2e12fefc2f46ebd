//! The activity service against the memory store: what each participant is sent, the rights
//! each request needs, ephemeral and persistent records, and owners that stop and restart.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::sync::mpsc;

use super::*;
use crate::perm::{PermissionChange, ACTIVITY_PERMISSIONS};
use crate::sources::ManualClock;
use crate::store::{MemoryStore, UserRecord, UserType, WriteOp};

struct Fixture {
    service: ActivityService,
    store: Arc<dyn Store>,
    domain: DomainKey,
}

fn user(name: &str) -> UserId {
    UserId::normal(name)
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
    store.commit(batch).await.expect("users");
    let service = ActivityService::new(
        Handle::current(),
        store.clone(),
        Arc::new(ManualClock::new(1_000)),
        ActivityLimits {
            max_depth: 4,
            max_bytes: 100,
        },
        EventBus::default(),
    );
    Fixture {
        service,
        store,
        domain,
    }
}

struct Session {
    id: String,
    user: UserId,
    rx: mpsc::UnboundedReceiver<ActivityDelivery>,
    tx: ActivitySink,
}

fn session(id: &str, name: &str) -> Session {
    let (tx, rx) = mpsc::unbounded_channel();
    Session {
        id: id.into(),
        user: user(name),
        rx,
        tx,
    }
}

fn state(v: serde_json::Value) -> ActivityState {
    serde_json::from_value(v).expect("a state object")
}

fn auto(ephemeral: bool, world: &[&str]) -> Option<AutoCreate> {
    Some(AutoCreate {
        ephemeral,
        permissions: TargetPermissions {
            world: world.iter().map(|s| s.to_string()).collect(),
            ..TargetPermissions::default()
        },
    })
}

const OPEN: [&str; 3] = ["join", "view_state", "set_state"];

impl Fixture {
    fn key(&self, id: &str) -> ActivityKey {
        ActivityKey::new(self.domain.clone(), "board", id)
    }

    async fn join(
        &self,
        id: &str,
        s: &Session,
        lurk: bool,
        initial: serde_json::Value,
        auto_create: Option<AutoCreate>,
    ) -> Result<Joined, ActivityError> {
        let request = JoinRequest {
            session: s.id.clone(),
            user: s.user.clone(),
            lurk,
            state: state(initial),
            auto_create,
            sink: s.tx.clone(),
        };
        self.service.join(&self.key(id), request).await
    }
}

/// What `s` has been sent so far (after the owner handled everything queued).
async fn drain(f: &Fixture, id: &str, s: &mut Session) -> Vec<ActivityEvent> {
    // A round trip through the owner: everything it sent before is in the channel.
    let _ = f.service.participants(&f.key(id), &Actor::Host).await;
    let mut out = Vec::new();
    while let Ok(d) = s.rx.try_recv() {
        assert_eq!((d.activity_type.as_str(), d.id.as_str()), ("board", id));
        out.push(d.event);
    }
    out
}

fn sessions_of(joined: &Joined) -> Vec<(&str, ActivityState)> {
    joined
        .participants
        .iter()
        .map(|p| (p.session.as_str(), p.state.clone()))
        .collect()
}

#[tokio::test]
async fn joins_states_and_leaves_reach_the_others_in_order() {
    let f = fixture().await;
    let mut a = session("s-a", "alice");
    let mut b = session("s-b", "bob");
    let joined = f
        .join("b1", &a, false, json!({"c": 1}), auto(true, &OPEN))
        .await
        .expect("alice joins, creating it");
    assert!(joined.ephemeral);
    assert_eq!(joined.created_ms, 1_000);
    assert_eq!(sessions_of(&joined), vec![("s-a", state(json!({"c": 1})))]);
    let joined = f
        .join("b1", &b, false, json!({"p": [1]}), None)
        .await
        .expect("bob joins");
    assert_eq!(
        sessions_of(&joined),
        vec![
            ("s-b", state(json!({"p": [1]}))),
            ("s-a", state(json!({"c": 1})))
        ]
    );
    let key = f.key("b1");
    f.service
        .update_state(&key, "s-b", state(json!({"x": 2})), false, vec!["p".into()])
        .expect("valid");
    f.service
        .update_state(&key, "s-b", state(json!({"y": 3})), true, vec![])
        .expect("valid");
    f.service.leave(&key, "s-b").await.expect("bob leaves");
    let seen = drain(&f, "b1", &mut a).await;
    assert_eq!(
        seen,
        vec![
            ActivityEvent::SessionJoined(Participant {
                session: "s-b".into(),
                user: user("bob"),
                state: state(json!({"p": [1]})),
            }),
            ActivityEvent::StateUpdated {
                session: "s-b".into(),
                user: user("bob"),
                set: Arc::new(state(json!({"x": 2}))),
                complete: false,
                removed: Arc::new(vec!["p".into()]),
            },
            ActivityEvent::StateUpdated {
                session: "s-b".into(),
                user: user("bob"),
                set: Arc::new(state(json!({"y": 3}))),
                complete: true,
                removed: Arc::new(vec![]),
            },
            ActivityEvent::SessionLeft {
                session: "s-b".into(),
                user: user("bob"),
            },
        ]
    );
    assert!(drain(&f, "b1", &mut b).await.is_empty(), "nothing echoed");
    assert_eq!(
        f.service.leave(&key, "s-b").await,
        Err(ActivityError::NotJoined)
    );
    assert_eq!(
        f.join("b1", &a, false, json!({}), None).await,
        Err(ActivityError::AlreadyJoined)
    );
}

#[tokio::test]
async fn the_auto_creator_holds_every_right_and_the_world_exactly_what_was_asked() {
    let f = fixture().await;
    let a = session("s-a", "alice");
    f.join("g", &a, false, json!({}), auto(false, &["view_state"]))
        .await
        .expect("created");
    let key = f.key("g");
    let mut held = f.service.resolve(&key, &user("alice")).expect("rights");
    held.sort();
    let mut all: Vec<String> = ACTIVITY_PERMISSIONS.iter().map(|s| s.to_string()).collect();
    all.sort();
    assert_eq!(held, all);
    assert_eq!(
        f.service.resolve(&key, &user("bob")).expect("rights"),
        vec!["view_state".to_string()]
    );
    let b = session("s-b", "bob");
    assert_eq!(
        f.join("g", &b, false, json!({}), auto(false, &OPEN)).await,
        Err(ActivityError::Unauthorized("join")),
        "an existing activity is not re-created by a join asking for it"
    );
    assert_eq!(
        f.service.delete(&key, &Actor::User(user("bob"))).await,
        Err(ActivityError::Unauthorized("remove"))
    );
    assert_eq!(
        f.service.permissions(&key, &Actor::User(user("bob"))),
        Err(ActivityError::Unauthorized("manage"))
    );
}

#[tokio::test]
async fn state_needs_set_state_and_stays_within_the_limits() {
    let f = fixture().await;
    let mut a = session("s-a", "alice");
    let mut b = session("s-b", "bob");
    f.join(
        "s",
        &a,
        false,
        json!({}),
        auto(true, &["join", "view_state"]),
    )
    .await
    .expect("created");
    let joined = f
        .join("s", &b, false, json!({"k": 1}), None)
        .await
        .expect("bob joins");
    assert_eq!(
        joined.participants[0].state,
        state(json!({})),
        "not recorded"
    );
    let key = f.key("s");
    f.service
        .update_state(&key, "s-b", state(json!({"k": 2})), false, vec![])
        .expect("queued");
    f.service
        .update_state(
            &key,
            "s-a",
            state(json!({"big": "x".repeat(200)})),
            false,
            vec![],
        )
        .expect("queued");
    assert_eq!(
        f.service
            .update_state(&key, "s-a", state(json!({"d": [[[[1]]]]})), false, vec![]),
        Err(ActivityError::TooDeep { depth: 5, max: 4 })
    );
    f.service
        .update_state(&key, "s-a", state(json!({"ok": true})), false, vec![])
        .expect("queued");
    let at_b = drain(&f, "s", &mut b).await;
    assert_eq!(
        at_b.len(),
        2,
        "alice's join was before bob's; then only the valid change"
    );
    assert!(
        matches!(&at_b[1], ActivityEvent::StateUpdated { set, .. } if **set == state(json!({"ok": true})))
    );
    assert_eq!(
        at_b[0],
        ActivityEvent::Refused(ActivityError::Unauthorized("set_state"))
    );
    let at_a = drain(&f, "s", &mut a).await;
    assert!(matches!(&at_a[0], ActivityEvent::SessionJoined(_)));
    assert!(matches!(
        at_a[1],
        ActivityEvent::Refused(ActivityError::TooLarge { .. })
    ));
    assert_eq!(at_a.len(), 2);
}

#[tokio::test]
async fn an_oversize_initial_state_creates_nothing() {
    let f = fixture().await;
    let a = session("s-a", "alice");
    let big = json!({"big": "x".repeat(200)});
    assert!(matches!(
        f.join("big", &a, false, big, auto(true, &OPEN)).await,
        Err(ActivityError::TooLarge { .. })
    ));
    assert!(!f.service.exists(&f.key("big")).expect("read"));
}

#[tokio::test]
async fn lurkers_are_invisible_and_need_lurk() {
    let f = fixture().await;
    let mut a = session("s-a", "alice");
    let c = session("s-c", "carol");
    f.join(
        "l",
        &a,
        false,
        json!({"v": 1}),
        auto(true, &["join", "view_state"]),
    )
    .await
    .expect("created");
    assert_eq!(
        f.join("l", &c, true, json!({}), None).await,
        Err(ActivityError::Unauthorized("lurk"))
    );
    let change = PermissionChange::Add(TargetPermissions {
        world: vec!["lurk".into()],
        ..TargetPermissions::default()
    });
    f.service
        .change_permissions(&f.key("l"), &Actor::Host, &change)
        .await
        .expect("granted");
    let joined = f
        .join("l", &c, true, json!({"ignored": 1}), None)
        .await
        .expect("carol lurks");
    assert_eq!(sessions_of(&joined), vec![("s-a", state(json!({"v": 1})))]);
    f.service.leave(&f.key("l"), "s-c").await.expect("left");
    assert!(
        drain(&f, "l", &mut a).await.is_empty(),
        "alice heard nothing"
    );
}

#[tokio::test]
async fn ephemeral_records_go_with_the_last_participant_persistent_ones_stay() {
    let f = fixture().await;
    let a = session("s-a", "alice");
    f.join("e", &a, false, json!({}), auto(true, &OPEN))
        .await
        .expect("ephemeral");
    f.join("p", &a, false, json!({}), auto(false, &OPEN))
        .await
        .expect("persistent");
    assert!(f.service.exists(&f.key("e")).expect("read"));
    f.service.leave(&f.key("e"), "s-a").await.expect("left");
    f.service.leave(&f.key("p"), "s-a").await.expect("left");
    assert!(!f.service.exists(&f.key("e")).expect("read"));
    assert!(f
        .store
        .permissions(&f.domain, &f.key("e").target())
        .expect("rows")
        .is_empty());
    assert!(f.service.exists(&f.key("p")).expect("read"));
    assert_eq!(
        f.join("e", &a, false, json!({}), None).await,
        Err(ActivityError::NotFound)
    );
}

#[tokio::test]
async fn a_stale_ephemeral_record_is_deleted_when_its_owner_starts() {
    let f = fixture().await;
    f.store
        .commit(vec![WriteOp::PutActivity(ActivityRecord {
            domain: f.domain.clone(),
            activity_type: "board".into(),
            id: "stale".into(),
            created_ms: 5,
            ephemeral: true,
        })])
        .await
        .expect("written");
    let a = session("s-a", "alice");
    assert_eq!(
        f.join("stale", &a, false, json!({}), None).await,
        Err(ActivityError::NotFound)
    );
    assert!(!f.service.exists(&f.key("stale")).expect("read"));
}

#[tokio::test]
async fn deletion_tells_every_participant_and_revocation_forces_out() {
    let f = fixture().await;
    let mut a = session("s-a", "alice");
    let mut b = session("s-b", "bob");
    f.join("d", &a, false, json!({}), auto(false, &OPEN))
        .await
        .expect("created");
    f.join("d", &b, false, json!({}), None)
        .await
        .expect("joined");
    let key = f.key("d");
    let revoke = PermissionChange::Set {
        world: Some(vec!["join".into()]),
        users: vec![],
        replace_users: false,
        groups: vec![],
        replace_groups: false,
    };
    assert_eq!(
        f.service
            .change_permissions(&key, &Actor::User(user("bob")), &revoke)
            .await,
        Err(ActivityError::Unauthorized("manage"))
    );
    f.service
        .change_permissions(&key, &Actor::User(user("alice")), &revoke)
        .await
        .expect("alice manages");
    let at_b = drain(&f, "d", &mut b).await;
    assert!(
        matches!(&at_b[..], [ActivityEvent::ForceLeave { reason }] if reason.contains("view_state"))
    );
    let at_a = drain(&f, "d", &mut a).await;
    assert!(matches!(
        &at_a[..],
        [
            ActivityEvent::SessionJoined(_),
            ActivityEvent::SessionLeft { .. }
        ]
    ));
    f.service
        .delete(&key, &Actor::User(user("alice")))
        .await
        .expect("alice removes");
    assert_eq!(drain(&f, "d", &mut a).await, vec![ActivityEvent::Deleted]);
    assert!(!f.service.exists(&key).expect("read"));
}

#[tokio::test]
async fn deleted_participants_hear_it() {
    let f = fixture().await;
    let mut a = session("s-a", "alice");
    f.join("x", &a, false, json!({}), auto(false, &OPEN))
        .await
        .expect("created");
    f.service
        .delete(&f.key("x"), &Actor::Host)
        .await
        .expect("host deletes");
    assert_eq!(a.rx.try_recv().map(|d| d.event), Ok(ActivityEvent::Deleted));
    assert_eq!(
        f.service.participants(&f.key("x"), &Actor::Host).await,
        Err(ActivityError::NotFound)
    );
}

#[tokio::test(start_paused = true)]
async fn an_idle_owner_stops_and_the_next_request_starts_a_fresh_one() {
    let f = fixture().await;
    let a = session("s-a", "alice");
    f.join("i", &a, false, json!({}), auto(false, &OPEN))
        .await
        .expect("created");
    f.service.leave(&f.key("i"), "s-a").await.expect("left");
    tokio::time::sleep(Duration::from_secs(30)).await;
    let running = f.service.inner.owners.running(|_| true).len();
    assert_eq!(running, 0, "the idle owner stopped");
    let joined = f
        .join("i", &a, false, json!({"again": true}), None)
        .await
        .expect("a fresh owner reads the record");
    assert_eq!(joined.created_ms, 1_000);
    assert!(!joined.ephemeral);
}

#[tokio::test]
async fn invalid_ids_are_refused_before_anything_is_stored() {
    let f = fixture().await;
    let a = session("s-a", "alice");
    let long = "x".repeat(129);
    let request = |id: &str, t: &str| {
        (
            ActivityKey::new(f.domain.clone(), t, id),
            JoinRequest {
                session: a.id.clone(),
                user: a.user.clone(),
                lurk: false,
                state: ActivityState::new(),
                auto_create: auto(false, &OPEN),
                sink: a.tx.clone(),
            },
        )
    };
    let (k, r) = request(&long, "board");
    assert!(matches!(
        f.service.join(&k, r).await,
        Err(ActivityError::InvalidId(_))
    ));
    let (k, r) = request("ok", "");
    assert!(matches!(
        f.service.join(&k, r).await,
        Err(ActivityError::InvalidType(_))
    ));
    assert!(f.store.activities(&f.domain).expect("read").is_empty());
    let bad = TargetPermissions {
        world: vec!["fly".into()],
        ..TargetPermissions::default()
    };
    assert!(matches!(
        f.service.create(&f.key("c"), &Actor::Host, bad).await,
        Err(ActivityError::Permission(_))
    ));
    let ghost = TargetPermissions {
        users: vec![(user("nobody"), vec!["join".into()])],
        ..TargetPermissions::default()
    };
    assert!(matches!(
        f.service.create(&f.key("c"), &Actor::Host, ghost).await,
        Err(ActivityError::GranteeNotFound(_))
    ));
    assert!(f.store.activities(&f.domain).expect("read").is_empty());
}
