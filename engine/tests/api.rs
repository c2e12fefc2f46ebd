//! The host facade: domains, collections, models from JSON, host-side changes, history,
//! events, errors that leave state intact, and shutdown.

use std::sync::Arc;

use serde_json::json;
use tandem::api::{
    net_config_from_json, path, Change, Engine, EngineConfig, EngineSources, ErrorCode, Event,
    NetConfig, PathSegment, UserId,
};
use tandem::model::{ModelEvent, SessionInfo};
use tandem::ot::{DiscreteOp, OpKind, Operation};
use tandem::sources::{ManualClock, SequentialIds};
use tokio::sync::mpsc;

fn engine_with_clock(clock: Arc<ManualClock>) -> Engine {
    Engine::open_with(
        EngineConfig::default(),
        EngineSources {
            clock,
            ids: Arc::new(SequentialIds::default()),
        },
    )
    .expect("engine")
}

#[tokio::test]
async fn domains_collections_and_models_round_trip_json() {
    let engine = Engine::open(EngineConfig::default()).unwrap();
    let d = engine.create_domain("acme", "docs").await.unwrap();
    assert_eq!(
        engine.domains().unwrap(),
        vec![("acme".into(), "docs".into())]
    );
    let err = engine.create_domain("acme", "docs").await.err().unwrap();
    assert_eq!(err.code, ErrorCode::AlreadyExists);
    let err = engine.create_domain("bad/ns", "x").await.err().unwrap();
    assert_eq!(err.code, ErrorCode::InvalidArgument);

    d.create_collection("notes").await.unwrap();
    let data = json!({
        "title": "Hello 😀",
        "n": 1.5,
        "count": 3,
        "tags": ["a", "b"],
        "nested": {"ok": true, "none": null},
        "due": {"$convergenceType": "date", "value": "2024-05-01T12:00:00.123Z"}
    });
    let m = d.create_model("notes", Some("n1"), &data).await.unwrap();
    assert_eq!(m.json().await.unwrap(), data);
    let info = m.info().unwrap();
    assert_eq!((info.version, info.collection.as_str()), (1, "notes"));
    // The original server's REST date form is accepted too.
    let m2 = d
        .create_model(
            "other",
            None,
            &json!({"d": {"$$convergence_type": "date", "date": 0}}),
        )
        .await
        .unwrap();
    assert_eq!(
        m2.json().await.unwrap()["d"],
        json!({"$convergenceType": "date", "value": "1970-01-01T00:00:00.000Z"})
    );
    assert_eq!(m2.id().len(), 36, "a generated id is a UUID");
    let mut collections = d.collections().unwrap();
    collections.sort();
    assert_eq!(collections, vec!["notes", "other"]);
    assert_eq!(d.models(Some("notes")).unwrap().len(), 1);
    assert_eq!(d.models(None).unwrap().len(), 2);

    let err = d
        .create_model("notes", Some("n1"), &json!({}))
        .await
        .err()
        .unwrap();
    assert_eq!(err.code, ErrorCode::AlreadyExists);
    let err = d
        .create_model("notes", Some("x"), &json!([1]))
        .await
        .err()
        .unwrap();
    assert_eq!(err.code, ErrorCode::InvalidArgument);
    let err = d
        .create_model(
            "notes",
            Some("x"),
            &json!({"d": {"$convergenceType": "date", "value": "nope"}}),
        )
        .await
        .err()
        .unwrap();
    assert_eq!(err.code, ErrorCode::InvalidArgument);
    assert_eq!(
        d.models(None).unwrap().len(),
        2,
        "failed creates leave nothing behind"
    );

    m2.delete().await.unwrap();
    assert_eq!(d.model(m2.id()).err().unwrap().code, ErrorCode::NotFound);
    d.delete_collection("notes").await.unwrap();
    assert!(d.models(None).unwrap().is_empty());
    engine.delete_domain("acme", "docs").await.unwrap();
    assert!(engine.domains().unwrap().is_empty());
    engine.shutdown().await;
}

#[tokio::test]
async fn host_changes_apply_and_bad_ones_leave_state_intact() {
    let engine = Engine::open(EngineConfig::default()).unwrap();
    let d = engine.create_domain("acme", "docs").await.unwrap();
    let m = d
        .create_model(
            "c",
            Some("m"),
            &json!({"text": "ab", "list": [1, 2, 3], "n": 1}),
        )
        .await
        .unwrap();
    let v = m
        .apply(vec![
            Change::Splice {
                path: path(&["text"]),
                index: 1,
                delete: 0,
                insert: "😀".into(),
            },
            Change::Insert {
                path: path(&["list"]),
                index: 0,
                value: json!({"x": 1}).into(),
            },
            Change::Add {
                path: path(&["n"]),
                delta: 2.0,
            },
            Change::Set {
                path: path(&["new"]),
                value: json!("prop").into(),
            },
            Change::Set {
                path: vec![PathSegment::Key("list".into()), PathSegment::Index(1)],
                value: json!(9).into(),
            },
            Change::Move {
                path: path(&["list"]),
                from: 0,
                to: 3,
            },
            Change::Remove {
                path: vec![PathSegment::Key("list".into()), PathSegment::Index(0)],
            },
        ])
        .await
        .unwrap();
    assert_eq!(v, 2, "a batch of changes is one version");
    let expected = json!({"text": "a😀b", "list": [2, 3, {"x": 1}], "n": 3, "new": "prop"});
    assert_eq!(m.json().await.unwrap(), expected);
    // Splicing after the emoji counts UTF-16 units: index 3 is after "a😀".
    m.apply(vec![Change::Splice {
        path: path(&["text"]),
        index: 3,
        delete: 1,
        insert: "c".into(),
    }])
    .await
    .unwrap();
    assert_eq!(m.json().await.unwrap()["text"], "a😀c");

    for bad in [
        Change::Splice {
            path: path(&["text"]),
            index: 9,
            delete: 0,
            insert: "x".into(),
        },
        Change::Splice {
            path: path(&["n"]),
            index: 0,
            delete: 0,
            insert: "x".into(),
        },
        Change::Insert {
            path: path(&["list"]),
            index: 7,
            value: json!(1).into(),
        },
        Change::Remove {
            path: path(&["missing"]),
        },
        Change::Move {
            path: path(&["list"]),
            from: 0,
            to: 5,
        },
        Change::Operation(Operation::Discrete(DiscreteOp::new(
            "0:1",
            OpKind::ObjectAddProperty {
                key: "text".into(),
                value: tandem::ot::Value::new("zz", tandem::ot::Data::Null),
            },
        ))),
    ] {
        let before = m.data().await.unwrap();
        let err = m
            .apply(vec![bad.clone()])
            .await
            .err()
            .unwrap_or_else(|| panic!("{bad:?} should fail"));
        assert!(
            matches!(
                err.code,
                ErrorCode::InvalidOperation | ErrorCode::InvalidArgument
            ),
            "{bad:?}: {err:?}"
        );
        let after = m.data().await.unwrap();
        assert_eq!(before, after, "a failed change leaves the model as it was");
    }
    // A batch where the last part fails applies nothing.
    let before = m.data().await.unwrap();
    let err = m
        .apply(vec![
            Change::Add {
                path: path(&["n"]),
                delta: 1.0,
            },
            Change::Insert {
                path: path(&["list"]),
                index: 99,
                value: json!(0).into(),
            },
        ])
        .await
        .err()
        .unwrap();
    assert_eq!(err.code, ErrorCode::InvalidOperation);
    assert_eq!(m.data().await.unwrap(), before);
    engine.shutdown().await;
}

#[tokio::test]
async fn history_reads_past_versions_ranges_and_time() {
    let clock = Arc::new(ManualClock::new(1_000_000));
    let engine = engine_with_clock(clock.clone());
    let d = engine.create_domain("h", "d").await.unwrap();
    let m = d
        .create_model("c", Some("m"), &json!({"t": ""}))
        .await
        .unwrap();
    for (i, ch) in ["a", "b", "c", "d"].iter().enumerate() {
        clock.set(1_000_000 + 1000 * (i as i64 + 1));
        m.apply(vec![Change::Splice {
            path: path(&["t"]),
            index: i as i64,
            delete: 0,
            insert: ch.to_string().into(),
        }])
        .await
        .unwrap();
    }
    assert_eq!(m.info().unwrap().version, 5);
    assert_eq!(m.json_at(1).unwrap(), json!({"t": ""}));
    assert_eq!(m.json_at(3).unwrap(), json!({"t": "ab"}));
    assert_eq!(m.json_at(5).unwrap(), json!({"t": "abcd"}));
    assert_eq!(m.json_at(6).err().unwrap().code, ErrorCode::InvalidArgument);
    let h = m.history(3, 4).unwrap();
    assert_eq!(h.iter().map(|e| e.version).collect::<Vec<_>>(), vec![3, 4]);
    assert_eq!(h[0].operation.to_serde()["insertValue"], "b");
    assert_eq!(h[0].user, UserId::host());
    assert_eq!(h[0].session.as_str(), "host");
    assert_eq!(h[0].timestamp_ms, 1_002_000);
    assert_eq!(
        m.version_at(999_999).err().unwrap().code,
        ErrorCode::InvalidArgument
    );
    assert_eq!(m.version_at(1_000_500).unwrap(), 1);
    assert_eq!(m.version_at(1_002_000).unwrap(), 3);
    assert_eq!(m.version_at(1_002_999).unwrap(), 3);
    assert_eq!(m.version_at(9_000_000).unwrap(), 5);
    engine.shutdown().await;
}

#[tokio::test]
async fn snapshots_keep_history_exact_across_many_versions() {
    let mut config = EngineConfig::default();
    config.models.snapshot_every_ops = 7;
    config.store.snapshots_kept = 2;
    let engine = Engine::open(config).unwrap();
    let d = engine.create_domain("h", "d").await.unwrap();
    let m = d
        .create_model("c", Some("m"), &json!({"t": ""}))
        .await
        .unwrap();
    let mut expected = vec![String::new()];
    let mut text = String::new();
    for i in 0..60 {
        let ch = char::from(b'a' + (i % 26) as u8).to_string();
        m.apply(vec![Change::Splice {
            path: path(&["t"]),
            index: 0,
            delete: 0,
            insert: ch.as_str().into(),
        }])
        .await
        .unwrap();
        text.insert_str(0, &ch);
        expected.push(text.clone());
    }
    for (i, t) in expected.iter().enumerate() {
        assert_eq!(
            m.json_at(i as u64 + 1).unwrap(),
            json!({"t": t}),
            "version {}",
            i + 1
        );
    }
    engine.shutdown().await;
}

#[tokio::test]
async fn events_report_operations_sessions_and_the_last_session_leaving() {
    let engine = Engine::open(EngineConfig::default()).unwrap();
    let d = engine.create_domain("e", "d").await.unwrap();
    let m = d
        .create_model("c", Some("m"), &json!({"t": "x"}))
        .await
        .unwrap();
    let events = m.subscribe();
    let elsewhere = d
        .create_model("c", Some("other"), &json!({}))
        .await
        .unwrap()
        .subscribe();
    let svc = engine.model_service();
    let (tx1, mut rx1) = mpsc::unbounded_channel();
    let (tx2, mut rx2) = mpsc::unbounded_channel();
    let s1 = svc
        .open(
            d.key(),
            "m",
            SessionInfo {
                session: "s1".into(),
                user: "alice".into(),
            },
            tx1,
        )
        .await
        .unwrap();
    let s2 = svc
        .open(
            d.key(),
            "m",
            SessionInfo {
                session: "s2".into(),
                user: "bob".into(),
            },
            tx2,
        )
        .await
        .unwrap();
    assert_ne!(
        s1.value_prefix, s2.value_prefix,
        "every open gets its own prefix"
    );
    assert_eq!(s2.sessions.len(), 2);
    assert!(
        matches!(rx1.recv().await, Some(ModelEvent::RemoteOpened { ref session, .. }) if session == "s2")
    );

    let string_id = match &s1.data.data.data {
        tandem::ot::Data::Object(map) => map[&tandem::ot::JsString::from("t")].id.clone(),
        _ => unreachable!(),
    };
    s1.handle
        .submit(
            1,
            1,
            Operation::Discrete(DiscreteOp::new(
                string_id.clone(),
                OpKind::StringSplice {
                    index: 1,
                    delete_count: 0,
                    insert: "y".into(),
                },
            )),
        )
        .unwrap();
    assert!(matches!(
        rx1.recv().await,
        Some(ModelEvent::Ack {
            seq: 1,
            version: 1,
            ..
        })
    ));
    match rx2.recv().await {
        Some(ModelEvent::Remote {
            session,
            context_version,
            ..
        }) => {
            assert_eq!((&*session, context_version), ("s1", 1));
        }
        other => panic!("unexpected {other:?}"),
    }
    // A host change reaches both sessions as a remote operation.
    m.apply(vec![Change::Splice {
        path: path(&["t"]),
        index: 0,
        delete: 0,
        insert: "h".into(),
    }])
    .await
    .unwrap();
    assert!(matches!(
        rx1.recv().await,
        Some(ModelEvent::Remote {
            context_version: 2,
            ..
        })
    ));
    assert!(matches!(
        rx2.recv().await,
        Some(ModelEvent::Remote {
            context_version: 2,
            ..
        })
    ));

    s1.handle.close().await.unwrap();
    assert!(
        matches!(rx2.recv().await, Some(ModelEvent::RemoteClosed { ref session, .. }) if session == "s1")
    );
    s2.handle.close().await.unwrap();

    let mut seen = Vec::new();
    while let Some(e) = events.next().await {
        let last = matches!(e, Event::LastSessionLeft { .. });
        seen.push(e);
        if last {
            break;
        }
    }
    let kinds: Vec<&str> = seen
        .iter()
        .map(|e| match e {
            Event::ModelOpened { .. } => "opened",
            Event::OperationApplied { .. } => "op",
            Event::ModelClosed { .. } => "closed",
            Event::LastSessionLeft { .. } => "last",
            _ => "other",
        })
        .collect();
    assert_eq!(
        kinds,
        vec!["opened", "opened", "op", "op", "closed", "closed", "last"]
    );
    match seen.last() {
        Some(Event::LastSessionLeft { version, .. }) => assert_eq!(*version, 3),
        other => panic!("{other:?}"),
    }
    match &seen[2] {
        Event::OperationApplied {
            version,
            user,
            session,
            ..
        } => {
            assert_eq!(
                (*version, user.name.as_str(), session.as_str()),
                (2, "alice", "s1")
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(m.json().await.unwrap(), json!({"t": "hxy"}));
    assert!(
        elsewhere.try_next().is_none(),
        "another model's subscription saw nothing"
    );
    elsewhere.close();
    assert!(elsewhere.next().await.is_none());
    engine.shutdown().await;
}

#[tokio::test]
async fn an_invalid_submission_closes_only_that_session() {
    let engine = Engine::open(EngineConfig::default()).unwrap();
    let d = engine.create_domain("e", "d").await.unwrap();
    let m = d
        .create_model("c", Some("m"), &json!({"t": "x"}))
        .await
        .unwrap();
    let svc = engine.model_service();
    let (tx1, mut rx1) = mpsc::unbounded_channel();
    let (tx2, mut rx2) = mpsc::unbounded_channel();
    let s1 = svc
        .open(
            d.key(),
            "m",
            SessionInfo {
                session: "s1".into(),
                user: "a".into(),
            },
            tx1,
        )
        .await
        .unwrap();
    let _s2 = svc
        .open(
            d.key(),
            "m",
            SessionInfo {
                session: "s2".into(),
                user: "b".into(),
            },
            tx2,
        )
        .await
        .unwrap();
    let _ = rx1.recv().await; // s2 opened
    let root = s1.data.data.id.clone();
    s1.handle
        .submit(
            1,
            1,
            Operation::Discrete(DiscreteOp::new(
                root,
                OpKind::StringSplice {
                    index: 0,
                    delete_count: 0,
                    insert: "x".into(),
                },
            )),
        )
        .unwrap();
    assert!(matches!(
        rx1.recv().await,
        Some(ModelEvent::ForceClosed { .. })
    ));
    assert!(
        matches!(rx2.recv().await, Some(ModelEvent::RemoteClosed { ref session, .. }) if session == "s1")
    );
    assert_eq!(m.json().await.unwrap(), json!({"t": "x"}));
    assert_eq!(m.info().unwrap().version, 1);
    engine.shutdown().await;
}

#[tokio::test]
async fn shutdown_closes_sessions_and_refuses_later_calls() {
    let engine = Engine::open(EngineConfig::default()).unwrap();
    let d = engine.create_domain("e", "d").await.unwrap();
    let m = d.create_model("c", Some("m"), &json!({})).await.unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let _s = engine
        .model_service()
        .open(
            d.key(),
            "m",
            SessionInfo {
                session: "s".into(),
                user: "u".into(),
            },
            tx,
        )
        .await
        .unwrap();
    engine.shutdown().await;
    assert!(matches!(
        rx.recv().await,
        Some(ModelEvent::ForceClosed {
            reason: tandem::model::ForceCloseReason::ServerShutdown,
            ..
        })
    ));
    assert_eq!(m.info().err().unwrap().code, ErrorCode::Unavailable);
    assert_eq!(
        engine.create_domain("x", "y").await.err().unwrap().code,
        ErrorCode::Unavailable
    );
    engine.shutdown().await; // idempotent
}

#[test]
fn config_from_json_has_working_defaults_and_clear_errors() {
    let c = EngineConfig::from_json("{}").unwrap();
    assert_eq!(c, EngineConfig::default());
    let c =
        EngineConfig::from_json(r#"{"data_dir": "/tmp/x", "models": {"snapshot_every_ops": 10}}"#)
            .unwrap();
    assert_eq!(c.models.snapshot_every_ops, 10);
    let e = EngineConfig::from_json(r#"{"data_dri": "/tmp/x"}"#)
        .err()
        .unwrap();
    assert_eq!(e.code, ErrorCode::Config);
    assert!(e.message.contains("data_dri"), "{}", e.message);
    let e = EngineConfig::from_json(r#"{"models": {"snapshot_every_ops": 0}}"#)
        .err()
        .unwrap();
    assert_eq!(e.code, ErrorCode::Config);
    let c = EngineConfig::from_json(r#"{"store": {"apply_interval_ms": 0}}"#).unwrap();
    assert_eq!(c.store.apply_interval_ms, 0);
    let e = EngineConfig::from_json(r#"{"store": {"apply_interval_ms": 3600000}}"#)
        .err()
        .unwrap();
    assert_eq!(e.code, ErrorCode::Config);
    assert!(e.message.contains("apply_interval_ms"), "{}", e.message);
}

#[test]
fn an_engine_without_a_host_runtime_runs_its_own() {
    let engine = Engine::open(EngineConfig::default()).unwrap();
    let d = engine.block_on(engine.create_domain("a", "b")).unwrap();
    let m = engine
        .block_on(d.create_model("c", Some("m"), &json!({"k": [1]})))
        .unwrap();
    assert_eq!(engine.block_on(m.json()).unwrap(), json!({"k": [1]}));
    engine.block_on(engine.shutdown());
}

#[test]
fn durable_data_survives_reopen_and_foreign_formats_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    {
        let engine = Engine::open(EngineConfig::with_data_dir(dir.path())).unwrap();
        // A second engine on the same directory in one process is refused clearly.
        let err = Engine::open(EngineConfig::with_data_dir(dir.path()))
            .err()
            .unwrap();
        assert_eq!(err.code, ErrorCode::Storage);
        assert!(err.message.contains("already open"), "{}", err.message);
        let d = engine.block_on(engine.create_domain("p", "d")).unwrap();
        let m = engine
            .block_on(d.create_model("c", Some("m"), &json!({"t": "a"})))
            .unwrap();
        engine
            .block_on(m.apply(vec![Change::Splice {
                path: path(&["t"]),
                index: 1,
                delete: 0,
                insert: "b".into(),
            }]))
            .unwrap();
        engine.block_on(engine.shutdown());
    }
    {
        let engine = Engine::open(EngineConfig::with_data_dir(dir.path())).unwrap();
        let m = engine.domain("p", "d").unwrap().model("m").unwrap();
        assert_eq!(engine.block_on(m.json()).unwrap(), json!({"t": "ab"}));
        assert_eq!(m.info().unwrap().version, 2);
        engine.block_on(engine.shutdown());
    }
    tandem::store::LmdbStore::set_format_version_for_tests(dir.path(), 999).unwrap();
    let err = Engine::open(EngineConfig::with_data_dir(dir.path()))
        .err()
        .unwrap();
    assert_eq!(err.code, ErrorCode::FormatVersion);
    assert!(err.message.contains("format version"), "{}", err.message);
}

#[tokio::test]
async fn snapshots_are_taken_by_operation_count_and_by_time() {
    let clock = Arc::new(ManualClock::new(10_000_000));
    let mut config = EngineConfig::default();
    config.models.snapshot_every_ops = 5;
    config.models.snapshot_every_secs = 60;
    let engine = Engine::open_with(
        config,
        EngineSources {
            clock: clock.clone(),
            ids: Arc::new(SequentialIds::default()),
        },
    )
    .unwrap();
    let d = engine.create_domain("s", "d").await.unwrap();
    let m = d
        .create_model("c", Some("m"), &json!({"n": 0}))
        .await
        .unwrap();
    let number = engine.store().model(d.key(), "m").unwrap().unwrap().number;
    let latest = || {
        engine
            .store()
            .snapshot_at_or_before(number, u64::MAX)
            .unwrap()
            .unwrap()
            .version
    };
    let add = || {
        m.apply(vec![Change::Add {
            path: path(&["n"]),
            delta: 1.0,
        }])
    };
    add().await.unwrap(); // v2
    assert_eq!(latest(), 1, "no snapshot before the policy says so");
    clock.advance(61_000);
    add().await.unwrap(); // v3: a minute passed since the last snapshot
    assert_eq!(latest(), 3, "time-based snapshot");
    for _ in 0..4 {
        add().await.unwrap(); // v4..v7
    }
    assert_eq!(latest(), 3);
    add().await.unwrap(); // v8: five ops since v3
    assert_eq!(latest(), 8, "count-based snapshot");
    let snap = engine
        .store()
        .snapshot_at_or_before(number, 8)
        .unwrap()
        .unwrap();
    assert_eq!(tandem::api::value_to_json(&snap.data), json!({"n": 7}));
    engine.shutdown().await;
}

#[test]
fn a_hosted_engine_listens_once_stops_and_releases_on_shutdown() {
    use tandem::api::HostedEngine;
    let dir = tempfile::tempdir().unwrap();
    let hosted = HostedEngine::open(EngineConfig::with_data_dir(dir.path())).unwrap();
    assert_eq!(
        hosted
            .listen("not an address", NetConfig::default())
            .unwrap_err()
            .code,
        ErrorCode::InvalidArgument
    );
    assert_eq!(
        net_config_from_json("{\"max_frame_bytes\": \"big\"}")
            .unwrap_err()
            .code,
        ErrorCode::Config
    );
    assert!(!hosted.stop_listening().unwrap(), "nothing to stop yet");
    let bound = hosted.listen("127.0.0.1:0", NetConfig::default()).unwrap();
    assert_ne!(bound.port(), 0);
    assert!(std::net::TcpStream::connect(bound).is_ok(), "it accepts");
    assert_eq!(
        hosted
            .listen("127.0.0.1:0", NetConfig::default())
            .unwrap_err()
            .code,
        ErrorCode::AlreadyExists
    );
    assert!(hosted.stop_listening().unwrap());
    hosted.listen("127.0.0.1:0", NetConfig::default()).unwrap();
    hosted.shutdown().unwrap();
    hosted.shutdown().unwrap();
    assert_eq!(
        hosted.engine().err().map(|e| e.code),
        Some(ErrorCode::Unavailable)
    );
    assert_eq!(
        hosted
            .listen("127.0.0.1:0", NetConfig::default())
            .unwrap_err()
            .code,
        ErrorCode::Unavailable
    );
    // Released: the data directory can be opened again in this process.
    let again = Engine::open(EngineConfig::with_data_dir(dir.path())).unwrap();
    again.block_on(again.shutdown());
}

#[test]
fn a_hosted_subscription_waits_wakes_on_close_and_feeds_a_callback_thread() {
    use std::time::{Duration, Instant};
    use tandem::api::HostedEngine;
    let hosted = HostedEngine::open(EngineConfig::default()).unwrap();
    let engine = hosted.engine().unwrap();
    let d = engine.block(engine.create_domain("h", "d")).unwrap();
    let m = engine
        .block(d.create_model("c", Some("m"), &json!({"n": 1})))
        .unwrap();

    // A receive with a timeout ends empty-handed when nothing happens.
    let sub = m.subscribe();
    let t0 = Instant::now();
    assert!(sub
        .next_blocking(Some(Duration::from_millis(50)))
        .unwrap()
        .is_none());
    assert!(t0.elapsed() >= Duration::from_millis(50));

    // Work started with spawn completes on a thread that runs no runtime at all.
    let (mm, change) = (
        m.clone(),
        Change::Add {
            path: path(&["n"]),
            delta: 1.0,
        },
    );
    let version = engine
        .spawn(async move { mm.apply(vec![change]).await })
        .wait()
        .unwrap();
    assert_eq!(version, 2);
    match sub.next_blocking(Some(Duration::from_secs(5))).unwrap() {
        Some(Event::OperationApplied { version, user, .. }) => {
            assert_eq!((version, user), (2, UserId::host()))
        }
        other => panic!("{other:?}"),
    }

    // A reader blocked without a timeout is woken by close from another thread.
    let reader = {
        let sub = sub.clone();
        std::thread::spawn(move || sub.next_blocking(None).unwrap())
    };
    std::thread::sleep(Duration::from_millis(50));
    sub.close();
    assert!(reader.join().unwrap().is_none());
    assert!(
        sub.next_blocking(None).unwrap().is_none(),
        "closed stays closed"
    );

    // Callbacks run on the engine's callback thread, in order.
    let (tx, rx) = std::sync::mpsc::channel();
    m.subscribe()
        .on_event(move |e| {
            let thread = std::thread::current().name().map(str::to_string);
            let _ = tx.send((e, thread));
        })
        .unwrap();
    for _ in 0..3 {
        engine
            .block(m.apply(vec![Change::Add {
                path: path(&["n"]),
                delta: 1.0,
            }]))
            .unwrap();
    }
    let got: Vec<(u64, Option<String>)> = (0..3)
        .map(|_| match rx.recv_timeout(Duration::from_secs(5)).unwrap() {
            (Event::OperationApplied { version, .. }, t) => (version, t),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        got,
        (3..6)
            .map(|v| (v, Some("tandem-callbacks".to_string())))
            .collect::<Vec<_>>()
    );

    // Cancelled, a callback gets nothing more and the events stay for other readers.
    let sub = m.subscribe();
    let (tx, rx) = std::sync::mpsc::channel();
    let cb = sub
        .on_event(move |e| {
            let _ = tx.send(e);
        })
        .unwrap();
    engine
        .block(m.apply(vec![Change::Add {
            path: path(&["n"]),
            delta: 1.0,
        }]))
        .unwrap();
    assert!(rx.recv_timeout(Duration::from_secs(5)).is_ok());
    cb.cancel();
    cb.cancel();
    engine
        .block(m.apply(vec![Change::Add {
            path: path(&["n"]),
            delta: 1.0,
        }]))
        .unwrap();
    assert!(matches!(
        sub.next_blocking(Some(Duration::from_secs(5))).unwrap(),
        Some(Event::OperationApplied { version: 7, .. })
    ));
    assert!(rx.try_recv().is_err(), "nothing after cancel");
    let h = m.history(7, 7).unwrap();
    assert!(h[0].to_json_text().contains("\"version\":7"));

    // Inside a runtime, blocking calls are refused rather than panicking.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let refused = rt.block_on(async { engine.block(m.delete()).unwrap_err().code });
    assert_eq!(refused, ErrorCode::InvalidArgument);
    assert!(rt
        .block_on(async { m.subscribe().next_blocking(None) })
        .is_err());

    // Shutdown ends subscriptions.
    let last = m.subscribe();
    hosted.shutdown().unwrap();
    assert!(last.next_blocking(None).unwrap().is_none());
}
