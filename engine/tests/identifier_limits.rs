//! Identifiers that become part of store keys: a write the database could not hold is refused
//! before it is logged (so it can never stop the store), and the facade refuses identifiers
//! over their documented maxima with a clear error.

mod support;
use support::write_sync;

use std::time::Duration;

use tandem::api::{Engine, EngineConfig, ErrorCode, NewUser};
use tandem::store::{
    DomainKey, DomainRecord, LmdbStore, Store, StoreError, StoreOptions, UserRecord, UserType,
    WriteOp,
};

fn user(name: &str) -> WriteOp {
    WriteOp::PutUser {
        domain: DomainKey::new("ns", "d"),
        record: UserRecord {
            user_type: UserType::Normal,
            username: name.into(),
            display_name: String::new(),
            first_name: String::new(),
            last_name: String::new(),
            email: String::new(),
            disabled: false,
            password_hash: None,
            created_ms: 0,
            last_login_ms: 0,
        },
    }
}

fn open(path: &std::path::Path) -> LmdbStore {
    LmdbStore::open(StoreOptions {
        path: path.to_path_buf(),
        max_size_bytes: 1 << 28,
        snapshots_kept: 2,
        max_batch: 1000,
        apply_interval: Duration::from_millis(10),
    })
    .expect("open")
}

#[test]
fn a_key_lmdb_cannot_hold_is_refused_before_logging_and_the_store_goes_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let store = open(dir.path());
        write_sync(
            &store,
            vec![WriteOp::PutDomain(DomainRecord {
                key: DomainKey::new("ns", "d"),
                display_name: "d".into(),
                created_ms: 0,
                anonymous_auth: true,
                collection_auto_create: true,
                state: tandem::store::DomainState::Online,
                reconnect_token_minutes: 1440,
                default_collection_world: Vec::new(),
                admin_private_key_pem: String::new(),
                admin_public_key_pem: String::new(),
                snapshots: Default::default(),
            })],
        )
        .expect("domain");
        let refused = write_sync(&store, vec![user(&"x".repeat(600))]);
        assert!(
            matches!(refused, Err(StoreError::Invalid(_))),
            "{refused:?}"
        );
        // Every later write in every domain still works, and reads see them.
        write_sync(&store, vec![user("after")]).expect("a later write");
        store.flush().expect("flush");
        assert!(store
            .user(&DomainKey::new("ns", "d"), UserType::Normal, "after")
            .expect("read")
            .is_some());
    }
    // Nothing of the refused write is in the log: the directory opens and holds the rest.
    let store = open(dir.path());
    let users = store.users(&DomainKey::new("ns", "d")).expect("users");
    assert_eq!(
        users
            .iter()
            .map(|u| u.username.as_str())
            .collect::<Vec<_>>(),
        ["after"]
    );
}

/// The error of a call that must fail.
fn refused<T>(r: Result<T, tandem::api::Error>, what: &str) -> tandem::api::Error {
    match r {
        Ok(_) => panic!("{what}"),
        Err(e) => e,
    }
}

#[tokio::test]
async fn the_facade_refuses_identifiers_over_their_maxima() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Engine::open(EngineConfig::with_data_dir(dir.path())).expect("engine");
    let e = refused(
        engine.create_domain("ns", &"d".repeat(65)).await,
        "a 65-byte domain id is refused",
    );
    assert_eq!(e.code, ErrorCode::InvalidArgument);
    assert!(e.message.contains("at most 64 bytes"), "{}", e.message);

    let domain = engine.create_domain("ns", "d").await.expect("domain");
    let e = refused(
        domain
            .create_user(NewUser {
                username: "u".repeat(129),
                ..NewUser::default()
            })
            .await,
        "a 129-byte username is refused",
    );
    assert_eq!(e.code, ErrorCode::InvalidArgument);
    assert!(e.message.contains("at most 128 bytes"), "{}", e.message);

    let data = serde_json::json!({"a": 1});
    let e = refused(
        domain.create_model(&"c".repeat(129), None, &data).await,
        "a 129-byte collection id is refused",
    );
    assert_eq!(e.code, ErrorCode::InvalidArgument);
    let e = refused(
        domain
            .create_model("c", Some(&"m".repeat(129)), &data)
            .await,
        "a 129-byte model id is refused",
    );
    assert_eq!(e.code, ErrorCode::InvalidArgument);
    assert!(e.message.contains("model id"), "{}", e.message);
    let e = refused(
        domain.create_model("c", Some("a\u{0}b"), &data).await,
        "a control character is refused",
    );
    assert_eq!(e.code, ErrorCode::InvalidArgument);
    // At the limit everything works.
    let model = domain
        .create_model(&"c".repeat(128), Some(&"m".repeat(128)), &data)
        .await
        .expect("128-byte ids are fine");
    assert_eq!(model.id(), "m".repeat(128));
    engine.shutdown().await;
}
