//! Permissions through the services: sessions of normal users are checked when they open,
//! submit, delete and read history; a permission change reaches open sessions at once; and
//! for random permission tables the resolution equals a naive reading of the rows.

use proptest::prelude::*;
use serde_json::json;
use tandem::api::{
    CollectionRights, Domain, Engine, EngineConfig, ModelPermissionsChange, ModelRights, NewUser,
    UserId,
};
use tandem::model::{ForceCloseReason, ModelError, ModelEvent, SessionInfo};
use tandem::ot::{Data, DiscreteOp, OpKind, Operation, ValueId};
use tandem::perm::Actor;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

const READ: ModelRights = ModelRights {
    read: true,
    write: false,
    remove: false,
    manage: false,
};

fn session(id: &str, user: &str) -> SessionInfo {
    SessionInfo {
        session: id.into(),
        user: UserId::normal(user).to_key(),
    }
}

fn actor(user: &str) -> Actor {
    Actor::User(UserId::normal(user))
}

async fn next(rx: &mut UnboundedReceiver<ModelEvent>) -> ModelEvent {
    tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv())
        .await
        .expect("an event in time")
        .expect("the channel is open")
}

fn insert(target: &ValueId, text: &str) -> Operation {
    Operation::Discrete(DiscreteOp::new(
        target.clone(),
        OpKind::StringSplice {
            index: 0,
            delete_count: 0,
            insert: text.into(),
        },
    ))
}

/// A domain with users alice, bob and carol and the model `m` in collection `c`, which
/// nobody but convergence users may use unless granted.
async fn setup(engine: &Engine) -> Domain {
    let d = engine.create_domain("p", "d").await.unwrap();
    for name in ["alice", "bob", "carol"] {
        d.create_user(NewUser {
            username: name.into(),
            password: Some("pw".into()),
            ..NewUser::default()
        })
        .await
        .unwrap();
    }
    d.create_collection("c").await.unwrap();
    d.set_collection_world("c", CollectionRights::default())
        .await
        .unwrap();
    d.create_model("c", Some("m"), &json!({"t": "x"}))
        .await
        .unwrap();
    d
}

fn grant(user: &str, rights: ModelRights) -> ModelPermissionsChange {
    ModelPermissionsChange {
        set_users: vec![(UserId::normal(user), rights)],
        ..ModelPermissionsChange::default()
    }
}

#[tokio::test]
async fn a_model_the_user_may_not_read_is_answered_like_a_missing_one() {
    let engine = Engine::open(EngineConfig::default()).unwrap();
    let d = setup(&engine).await;
    let svc = engine.model_service();
    let key = d.key();
    let (tx, _rx) = unbounded_channel();
    let denied = svc.open(key, "m", session("s1", "bob"), tx.clone()).await;
    let missing = svc.open(key, "nope", session("s1", "bob"), tx).await;
    assert!(matches!(denied, Err(ModelError::NotFound(ref id)) if id == "m"));
    assert!(matches!(missing, Err(ModelError::NotFound(_))));
    let bob = actor("bob");
    for r in [
        svc.data_at(key, "m", 1, &bob).map(|_| ()),
        svc.operations(key, "m", 1, 5, &bob).map(|_| ()),
        svc.version_at_time(key, "m", i64::MAX, &bob).map(|_| ()),
        svc.permissions(key, "m", &bob).map(|_| ()),
        svc.delete_model(key, "m", &bob).await,
        svc.set_permissions(key, "m", &bob, &grant("bob", ModelRights::ALL))
            .await,
    ] {
        assert_eq!(r, Err(ModelError::NotFound("m".into())));
    }
    // Nothing changed: bob still cannot read, and the model is still there for the host.
    assert_eq!(
        d.model("m")
            .unwrap()
            .rights_of(&UserId::normal("bob"))
            .unwrap(),
        ModelRights::NONE
    );
    assert_eq!(d.model("m").unwrap().info().unwrap().version, 1);
}

#[tokio::test]
async fn a_reader_may_open_and_read_history_but_not_edit_delete_or_manage() {
    let engine = Engine::open(EngineConfig::default()).unwrap();
    let d = setup(&engine).await;
    let m = d.model("m").unwrap();
    m.set_permissions(grant("bob", READ)).await.unwrap();
    let svc = engine.model_service();
    let key = d.key();
    let bob = actor("bob");
    assert!(svc.data_at(key, "m", 1, &bob).is_ok());
    assert!(matches!(
        svc.delete_model(key, "m", &bob).await,
        Err(ModelError::Unauthorized(_))
    ));
    assert!(matches!(
        svc.set_permissions(key, "m", &bob, &grant("bob", ModelRights::ALL))
            .await,
        Err(ModelError::Unauthorized(_))
    ));
    let (tx, mut rx) = unbounded_channel();
    let opened = svc.open(key, "m", session("s1", "bob"), tx).await.unwrap();
    assert_eq!(opened.rights, READ);
    let t = match &opened.data.data.data {
        Data::Object(map) => map[&tandem::ot::JsString::from("t")].id.clone(),
        other => panic!("unexpected root {other:?}"),
    };
    opened.handle.submit(1, 1, insert(&t, "b")).unwrap();
    match next(&mut rx).await {
        ModelEvent::ForceClosed { reason, .. } => {
            assert_eq!(reason, ForceCloseReason::Unauthorized)
        }
        other => panic!("expected a force close, got {other:?}"),
    }
    assert_eq!(
        m.json().await.unwrap(),
        json!({"t": "x"}),
        "nothing applied"
    );
}

#[tokio::test]
async fn a_change_reaches_open_sessions_and_a_lost_read_closes_them() {
    let engine = Engine::open(EngineConfig::default()).unwrap();
    let d = setup(&engine).await;
    let m = d.model("m").unwrap();
    m.set_permissions(grant("bob", ModelRights::ALL))
        .await
        .unwrap();
    m.set_permissions(grant("alice", ModelRights::ALL))
        .await
        .unwrap();
    let svc = engine.model_service();
    let key = d.key();
    let (btx, mut brx) = unbounded_channel();
    let (atx, mut arx) = unbounded_channel();
    let bob = svc.open(key, "m", session("b1", "bob"), btx).await.unwrap();
    let alice = svc
        .open(key, "m", session("a1", "alice"), atx)
        .await
        .unwrap();
    // Alice, who manages the model, takes bob's write away.
    svc.set_permissions(key, "m", &actor("alice"), &grant("bob", READ))
        .await
        .unwrap();
    loop {
        match next(&mut brx).await {
            ModelEvent::PermissionsChanged { rights, .. } => {
                assert_eq!(rights, READ);
                break;
            }
            ModelEvent::RemoteOpened { .. } => continue,
            other => panic!("expected new rights, got {other:?}"),
        }
    }
    // Then read: bob's model is closed, alice is told he left and keeps editing.
    svc.set_permissions(key, "m", &actor("alice"), &grant("bob", ModelRights::NONE))
        .await
        .unwrap();
    match next(&mut brx).await {
        ModelEvent::ForceClosed { reason, .. } => {
            assert_eq!(reason, ForceCloseReason::PermissionsChanged)
        }
        other => panic!("expected a force close, got {other:?}"),
    }
    match next(&mut arx).await {
        ModelEvent::RemoteClosed { session, .. } => assert_eq!(session, "b1"),
        other => panic!("expected bob's departure, got {other:?}"),
    }
    drop(bob);
    let t = match &alice.data.data.data {
        Data::Object(map) => map[&tandem::ot::JsString::from("t")].id.clone(),
        other => panic!("unexpected root {other:?}"),
    };
    alice.handle.submit(1, 1, insert(&t, "a")).unwrap();
    assert!(matches!(next(&mut arx).await, ModelEvent::Ack { .. }));
    // Alice's own rights did not change, so she heard nothing about them.
    assert!(arx.try_recv().is_err());
}

#[tokio::test]
async fn creating_needs_create_on_an_existing_collection_and_the_creator_gets_every_right() {
    let engine = Engine::open(EngineConfig::default()).unwrap();
    let d = setup(&engine).await;
    let svc = engine.model_service();
    let key = d.key();
    let root = || tandem::ot::Value::new("@:0", Data::Object(Default::default()));
    let initial = ModelPermissionsChange::default();
    let refused = svc
        .create_model_from_value(
            key,
            "c",
            Some("n"),
            root(),
            true,
            &actor("bob"),
            &initial,
            false,
        )
        .await;
    assert!(matches!(refused, Err(ModelError::Unauthorized(_))));
    d.set_collection_user(
        "c",
        &UserId::normal("bob"),
        Some(CollectionRights {
            create: true,
            ..CollectionRights::default()
        }),
    )
    .await
    .unwrap();
    svc.create_model_from_value(
        key,
        "c",
        Some("n"),
        root(),
        true,
        &actor("bob"),
        &initial,
        false,
    )
    .await
    .unwrap();
    let n = d.model("n").unwrap();
    assert_eq!(
        n.rights_of(&UserId::normal("bob")).unwrap(),
        ModelRights::ALL
    );
    assert_eq!(
        n.rights_of(&UserId::normal("carol")).unwrap(),
        ModelRights::NONE
    );
    // A collection created on demand gets the domain's default world permissions (all).
    svc.create_model_from_value(
        key,
        "fresh",
        Some("f"),
        root(),
        true,
        &actor("carol"),
        &initial,
        false,
    )
    .await
    .unwrap();
    assert_eq!(
        d.model("f")
            .unwrap()
            .rights_of(&UserId::normal("alice"))
            .unwrap(),
        ModelRights::ALL
    );
}

fn rights() -> impl Strategy<Value = ModelRights> {
    (0u8..16).prop_map(|b| ModelRights {
        read: b & 1 != 0,
        write: b & 2 != 0,
        remove: b & 4 != 0,
        manage: b & 8 != 0,
    })
}

/// One random permission table: per user an optional model entry and collection entry,
/// the model's override flag and world, the collection's world.
#[derive(Clone, Debug)]
struct Table {
    model_users: Vec<Option<ModelRights>>,
    collection_users: Vec<Option<ModelRights>>,
    override_world: bool,
    model_world: ModelRights,
    collection_world: ModelRights,
}

fn table() -> impl Strategy<Value = Table> {
    (
        proptest::collection::vec(proptest::option::of(rights()), 3),
        proptest::collection::vec(proptest::option::of(rights()), 3),
        any::<bool>(),
        rights(),
        rights(),
    )
        .prop_map(|(mu, cu, o, mw, cw)| Table {
            model_users: mu,
            collection_users: cu,
            override_world: o,
            model_world: mw,
            collection_world: cw,
        })
}

fn coll(r: ModelRights) -> CollectionRights {
    CollectionRights {
        create: false,
        read: r.read,
        write: r.write,
        remove: r.remove,
        manage: r.manage,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn stored_tables_resolve_like_the_naive_reading(t in table()) {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let engine = Engine::open(EngineConfig::default()).unwrap();
            let d = setup(&engine).await;
            let users = ["alice", "bob", "carol"];
            let m = d.model("m").unwrap();
            let mut change = ModelPermissionsChange {
                override_world: Some(t.override_world),
                world: Some(t.model_world),
                ..ModelPermissionsChange::default()
            };
            for (u, r) in users.iter().zip(&t.model_users) {
                if let Some(r) = r {
                    change.set_users.push((UserId::normal(*u), *r));
                }
            }
            m.set_permissions(change).await.unwrap();
            d.set_collection_world("c", coll(t.collection_world)).await.unwrap();
            for (u, r) in users.iter().zip(&t.collection_users) {
                d.set_collection_user("c", &UserId::normal(*u), r.map(coll)).await.unwrap();
            }
            for (i, u) in users.iter().enumerate() {
                let naive = t.model_users[i]
                    .or(t.collection_users[i])
                    .unwrap_or(if t.override_world { t.model_world } else { t.collection_world });
                let got = m.rights_of(&UserId::normal(*u)).unwrap();
                assert_eq!(got, naive, "{u} in {t:?}");
                // The resolution queries use, with the collection's part read once.
                let perms = tandem::perm::Permissions::new(engine.model_service().store().clone());
                let actor = Actor::User(UserId::normal(*u));
                let access = perms.collection_access(d.key(), "c", &actor).unwrap();
                assert_eq!(perms.model_rights_in(d.key(), "m", &access).unwrap(), naive, "{u} in {t:?}");
            }
            // Convergence users hold everything whatever the table says.
            let admin = UserId::new(tandem::api::UserType::Convergence, "admin");
            assert_eq!(m.rights_of(&admin).unwrap(), ModelRights::ALL);
            let perms = tandem::perm::Permissions::new(engine.model_service().store().clone());
            let access = perms.collection_access(d.key(), "c", &Actor::User(admin)).unwrap();
            assert_eq!(perms.model_rights_in(d.key(), "m", &access).unwrap(), ModelRights::ALL);
        });
    }
}
