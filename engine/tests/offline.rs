//! Offline copies (what a client with offline storage is told of a model it keeps): a first
//! download carries a value-id prefix no open ever had, also after a restart; a current copy is
//! left alone; newer data, changed rights, a deleted model and lost read are each told apart;
//! and a model the user never could read is answered exactly like one that does not exist.

use serde_json::json;
use tandem::api::ModelPermissionsChange;
use tandem::api::{
    Change, CollectionRights, Domain, Engine, EngineConfig, ModelRights, NewUser, PathSegment,
    UserId,
};
use tandem::model::{OfflineAnswer, OfflineCopy, OfflineKnown, SessionInfo};
use tandem::perm::Actor;
use tokio::sync::mpsc::unbounded_channel;

const READ_WRITE: ModelRights = ModelRights {
    read: true,
    write: true,
    remove: false,
    manage: false,
};

fn alice() -> Actor {
    Actor::User(UserId::normal("alice"))
}

/// A domain where alice may read and write the models of `c` that do not say otherwise.
async fn setup(engine: &Engine) -> Domain {
    let d = engine.create_domain("p", "d").await.unwrap();
    d.create_user(NewUser {
        username: "alice".into(),
        password: Some("pw".into()),
        ..NewUser::default()
    })
    .await
    .unwrap();
    d.create_collection("c").await.unwrap();
    d.set_collection_world(
        "c",
        CollectionRights {
            read: true,
            write: true,
            ..CollectionRights::default()
        },
    )
    .await
    .unwrap();
    d.create_model("c", Some("m"), &json!({"t": "x", "n": 1}))
        .await
        .unwrap();
    d
}

async fn check(engine: &Engine, d: &Domain, id: &str, known: OfflineKnown) -> OfflineAnswer {
    engine
        .model_service()
        .offline_check(d.key(), id, &alice(), &known)
        .await
        .expect("checked")
}

async fn first_copy(engine: &Engine, d: &Domain, id: &str) -> OfflineCopy {
    match check(engine, d, id, OfflineKnown::default()).await {
        OfflineAnswer::Initial(copy) => copy,
        other => panic!("expected a first copy, got {other:?}"),
    }
}

async fn open_prefix(engine: &Engine, d: &Domain, session: &str) -> String {
    let (tx, _rx) = unbounded_channel();
    let info = SessionInfo {
        session: session.into(),
        user: UserId::normal("alice").to_key(),
    };
    let opened = engine
        .model_service()
        .open(d.key(), "m", info, tx)
        .await
        .expect("opened");
    let prefix = opened.value_prefix.clone();
    opened.handle.close().await.expect("closed");
    prefix
}

#[tokio::test]
async fn a_first_download_gets_a_prefix_no_open_had_even_after_a_restart() {
    let dir = tempfile::tempdir().expect("dir");
    let mut prefixes = Vec::new();
    {
        let engine = Engine::open(EngineConfig::with_data_dir(dir.path())).expect("engine");
        let d = setup(&engine).await;
        prefixes.push(open_prefix(&engine, &d, "s1").await);
        let copy = first_copy(&engine, &d, "m").await;
        assert_eq!(copy.data.version, 1);
        assert_eq!(copy.data.collection, "c");
        assert_eq!(copy.rights, READ_WRITE);
        assert_eq!(
            tandem::ot::json::value_to_json(&copy.data.data),
            json!({"t": "x", "n": 1})
        );
        prefixes.push(copy.value_prefix.expect("a prefix"));
        prefixes.push(open_prefix(&engine, &d, "s2").await);
        engine.shutdown().await;
    }
    let engine = Engine::open(EngineConfig::with_data_dir(dir.path())).expect("engine");
    let d = engine.domain("p", "d").expect("domain");
    prefixes.push(
        first_copy(&engine, &d, "m")
            .await
            .value_prefix
            .expect("a prefix"),
    );
    prefixes.push(open_prefix(&engine, &d, "s3").await);
    let mut unique = prefixes.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        prefixes.len(),
        "prefixes repeat: {prefixes:?}"
    );
    assert!(prefixes.iter().all(|p| !p.contains([':', '-', '@'])));
    engine.shutdown().await;
}

#[tokio::test]
async fn a_copy_is_told_what_changed_and_only_that() {
    let engine = Engine::open(EngineConfig::default()).unwrap();
    let d = setup(&engine).await;
    let copy = first_copy(&engine, &d, "m").await;
    let known = OfflineKnown {
        version: copy.data.version,
        rights: Some(copy.rights),
        had_read: true,
    };
    assert_eq!(
        check(&engine, &d, "m", known).await,
        OfflineAnswer::Unchanged
    );
    // Rights never told (the client's bug drops them): told, data left alone.
    let untold = OfflineKnown {
        rights: None,
        ..known
    };
    assert_eq!(
        check(&engine, &d, "m", untold).await,
        OfflineAnswer::Updated {
            data: None,
            rights: Some(READ_WRITE)
        }
    );

    let m = d.model("m").unwrap();
    m.apply(vec![Change::Set {
        path: vec![PathSegment::Key("n".into())],
        value: json!(2).into(),
    }])
    .await
    .unwrap();
    match check(&engine, &d, "m", known).await {
        OfflineAnswer::Updated { data, rights } => {
            let data = data.expect("the new data");
            assert_eq!(data.version, 2);
            assert_eq!(
                tandem::ot::json::value_to_json(&data.data),
                json!({"t": "x", "n": 2})
            );
            assert_eq!(rights, None, "the rights did not change");
        }
        other => panic!("expected an update, got {other:?}"),
    }
    // A version the model never had (a copy from elsewhere) is replaced too.
    let ahead = OfflineKnown {
        version: 99,
        ..known
    };
    assert!(matches!(
        check(&engine, &d, "m", ahead).await,
        OfflineAnswer::Updated { data: Some(_), .. }
    ));

    // Fewer rights, still readable: only the rights.
    let now = OfflineKnown {
        version: 2,
        ..known
    };
    m.set_permissions(ModelPermissionsChange {
        set_users: vec![(
            UserId::normal("alice"),
            ModelRights {
                read: true,
                ..ModelRights::default()
            },
        )],
        ..ModelPermissionsChange::default()
    })
    .await
    .unwrap();
    match check(&engine, &d, "m", now).await {
        OfflineAnswer::Updated {
            data: None,
            rights: Some(r),
        } => assert!(r.read && !r.write),
        other => panic!("expected new rights, got {other:?}"),
    }
}

#[tokio::test]
async fn lost_read_deleted_and_never_readable_are_told_apart_only_when_that_leaks_nothing() {
    let engine = Engine::open(EngineConfig::default()).unwrap();
    let d = setup(&engine).await;
    let had = OfflineKnown {
        version: 1,
        rights: Some(READ_WRITE),
        had_read: true,
    };
    let never = OfflineKnown {
        had_read: false,
        ..had
    };
    let m = d.model("m").unwrap();
    m.set_permissions(ModelPermissionsChange {
        set_users: vec![(UserId::normal("alice"), ModelRights::default())],
        ..ModelPermissionsChange::default()
    })
    .await
    .unwrap();
    assert_eq!(check(&engine, &d, "m", had).await, OfflineAnswer::Revoked);
    // Without read seen before, the answer is the one for a model that does not exist.
    assert_eq!(check(&engine, &d, "m", never).await, OfflineAnswer::Gone);
    assert_eq!(check(&engine, &d, "nope", never).await, OfflineAnswer::Gone);
    assert_eq!(check(&engine, &d, "nope", had).await, OfflineAnswer::Gone);
    // A first download of a forbidden model hands out nothing.
    assert_eq!(
        check(&engine, &d, "m", OfflineKnown::default()).await,
        OfflineAnswer::Gone
    );

    m.delete().await.unwrap();
    assert_eq!(check(&engine, &d, "m", had).await, OfflineAnswer::Gone);
}
