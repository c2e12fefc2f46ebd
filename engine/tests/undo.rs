//! Selective undo and redo through the facade: by version, by user (across a restart), by
//! user since a version; conflicts change nothing; open sessions receive the undo as an
//! ordinary remote operation, and an operation in flight across it still applies.

use serde_json::json;
use tandem::api::{
    path, Change, Engine, EngineConfig, ErrorCode, Model, UndoOutcome, UndoScope, UserId,
};
use tandem::model::{ModelEvent, SessionInfo};
use tandem::ot::{Data, DiscreteOp, JsString, OpKind, Operation};
use tokio::sync::mpsc;

fn splice(at: &str, index: i64, insert: &str) -> Vec<Change> {
    vec![Change::Splice {
        path: path(&[at]),
        index,
        delete: 0,
        insert: insert.into(),
    }]
}

async fn model(engine: &Engine, data: serde_json::Value) -> Model {
    let d = match engine.domain("e", "d") {
        Ok(d) => d,
        Err(_) => engine.create_domain("e", "d").await.unwrap(),
    };
    d.create_model("c", Some("m"), &data).await.unwrap()
}

fn user(name: &str) -> UserId {
    UserId::normal(name)
}

#[tokio::test]
async fn the_host_undoes_one_users_typing_and_keeps_what_others_typed_inside() {
    let engine = Engine::open(EngineConfig::default()).unwrap();
    let m = model(&engine, json!({"t": "hello"})).await;
    let v = m
        .apply_as(splice("t", 5, " world"), &user("ann"))
        .await
        .unwrap();
    m.apply_as(splice("t", 7, "[B]"), &user("ben"))
        .await
        .unwrap();
    assert_eq!(m.json().await.unwrap(), json!({"t": "hello w[B]orld"}));
    let out = m.undo(UndoScope::LastOf(user("ann"))).await.unwrap();
    let UndoOutcome::Undone { version, undid } = out else {
        panic!("{out:?}");
    };
    assert_eq!(undid, vec![v]);
    assert_eq!(m.json().await.unwrap(), json!({"t": "hello[B]"}));
    let entry = m.history(version, version).unwrap().pop().unwrap();
    assert_eq!(entry.undoes, vec![v]);
    assert_eq!(entry.user, UserId::host());
    // Undone already: a second undo of that version has nothing to do.
    assert_eq!(
        m.undo(UndoScope::Version(v)).await.unwrap(),
        UndoOutcome::NothingToUndo
    );
    engine.shutdown().await;
}

#[test]
fn undo_by_user_works_across_a_restart_and_redo_undoes_the_undo() {
    let dir = tempfile::tempdir().unwrap();
    let config = || EngineConfig::with_data_dir(dir.path());
    {
        let engine = Engine::open(config()).unwrap();
        engine.block_on(async {
            let m = model(&engine, json!({"t": ""})).await;
            m.apply_as(splice("t", 0, "one "), &user("ann"))
                .await
                .unwrap();
            m.apply_as(splice("t", 4, "two"), &user("ann"))
                .await
                .unwrap();
        });
        engine.block_on(engine.shutdown());
    }
    let engine = Engine::open(config()).unwrap();
    let m = engine.domain("e", "d").unwrap().model("m").unwrap();
    let ann = user("ann");
    engine.block_on(async {
        let undo = || m.undo_as(UndoScope::LastOf(ann.clone()), &ann);
        assert!(matches!(undo().await.unwrap(), UndoOutcome::Undone { .. }));
        assert_eq!(m.json().await.unwrap(), json!({"t": "one "}));
        assert!(matches!(undo().await.unwrap(), UndoOutcome::Undone { .. }));
        assert_eq!(m.json().await.unwrap(), json!({"t": ""}));
        // Her undos are not hers to undo again: nothing older is left.
        assert_eq!(undo().await.unwrap(), UndoOutcome::NothingToUndo);
        // Redo takes back her newest undo (of "one ").
        let out = m
            .redo_as(UndoScope::LastOf(ann.clone()), &ann)
            .await
            .unwrap();
        assert!(matches!(out, UndoOutcome::Undone { .. }), "{out:?}");
        assert_eq!(m.json().await.unwrap(), json!({"t": "one "}));
        // "one " is live again, so her next undo takes it back out (by undoing the redo).
        let out = undo().await.unwrap();
        assert!(
            matches!(out, UndoOutcome::Undone { ref undid, .. } if undid == &[6]),
            "{out:?}"
        );
        assert_eq!(m.json().await.unwrap(), json!({"t": ""}));
        // A redo of something that is not an undo is refused.
        let err = m.redo(UndoScope::Version(2)).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);
    });
    engine.block_on(engine.shutdown());
}

#[tokio::test]
async fn a_conflict_leaves_the_data_unchanged() {
    let engine = Engine::open(EngineConfig::default()).unwrap();
    let m = model(&engine, json!({"o": {"k": 1}})).await;
    let set = vec![Change::Set {
        path: path(&["o", "k"]),
        value: json!(2).into(),
    }];
    let v = m.apply_as(set, &user("ann")).await.unwrap();
    let remove = vec![Change::Remove {
        path: path(&["o", "k"]),
    }];
    let by = m.apply_as(remove, &user("ben")).await.unwrap();
    let out = m.undo(UndoScope::Version(v)).await.unwrap();
    assert_eq!(out, UndoOutcome::Conflict { versions: vec![by] });
    assert_eq!(m.json().await.unwrap(), json!({"o": {}}));
    assert_eq!(m.info().unwrap().version, by);
    engine.shutdown().await;
}

#[tokio::test]
async fn everything_an_agent_did_since_a_version_is_undone_as_one_operation() {
    let engine = Engine::open(EngineConfig::default()).unwrap();
    let m = model(&engine, json!({"t": "base", "n": 1})).await;
    let bot = user("bot");
    let since = m.apply_as(splice("t", 4, "."), &user("ann")).await.unwrap();
    m.apply_as(splice("t", 0, "<bot>"), &bot).await.unwrap();
    m.apply_as(splice("t", 0, "ann:"), &user("ann"))
        .await
        .unwrap();
    let add = vec![Change::Add {
        path: path(&["n"]),
        delta: 10.0,
    }];
    m.apply_as(add, &bot).await.unwrap();
    m.apply_as(splice("t", 14, "</bot>"), &bot).await.unwrap();
    assert_eq!(
        m.json().await.unwrap(),
        json!({"t": "ann:<bot>base.</bot>", "n": 11})
    );
    let before = m.info().unwrap().version;
    let out = m
        .undo(UndoScope::Since {
            user: bot,
            version: since,
        })
        .await
        .unwrap();
    let UndoOutcome::Undone { version, undid } = out else {
        panic!("{out:?}");
    };
    assert_eq!((version, undid.len()), (before + 1, 3));
    assert_eq!(m.json().await.unwrap(), json!({"t": "ann:base.", "n": 1}));
    engine.shutdown().await;
}

#[tokio::test]
async fn sessions_receive_the_undo_as_a_remote_operation_and_in_flight_work_survives() {
    let engine = Engine::open(EngineConfig::default()).unwrap();
    let m = model(&engine, json!({"t": "abc"})).await;
    let d = m.domain().clone();
    let svc = engine.model_service();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let ben = svc
        .open(
            d.key(),
            "m",
            SessionInfo {
                session: "s-ben".into(),
                user: "ben".into(),
            },
            tx,
        )
        .await
        .unwrap();
    let text_id = match &ben.data.data.data {
        Data::Object(map) => map[&JsString::from("t")].id.clone(),
        _ => unreachable!(),
    };
    let v = m
        .apply_as(splice("t", 3, "XYZ"), &user("ann"))
        .await
        .unwrap();
    assert!(matches!(rx.recv().await, Some(ModelEvent::Remote { .. })));
    // Ben types at the end having seen Ann's text, and the undo commits before his op arrives.
    let out = m.undo(UndoScope::Version(v)).await.unwrap();
    assert!(matches!(out, UndoOutcome::Undone { .. }), "{out:?}");
    match rx.recv().await {
        Some(ModelEvent::Remote { session, user, .. }) => {
            assert_eq!((&*session, &*user), ("host", "tandem-host"));
        }
        other => panic!("expected the undo as a remote operation, got {other:?}"),
    }
    let op = Operation::Discrete(DiscreteOp::new(
        text_id,
        OpKind::StringSplice {
            index: 6,
            delete_count: 0,
            insert: "!".into(),
        },
    ));
    ben.handle.submit(1, v, op).unwrap();
    assert!(matches!(
        rx.recv().await,
        Some(ModelEvent::Ack { seq: 1, .. })
    ));
    assert_eq!(m.json().await.unwrap(), json!({"t": "abc!"}));
    ben.handle.close().await.unwrap();
    engine.shutdown().await;
}

#[tokio::test]
async fn an_undo_by_a_user_is_recorded_under_a_session_of_that_user() {
    let engine = Engine::open(EngineConfig::default()).unwrap();
    let m = model(&engine, json!({"t": "abc"})).await;
    let ann = user("ann");
    let v = m.apply_as(splice("t", 0, "x"), &ann).await.unwrap();
    let out = m.undo_as(UndoScope::Version(v), &ann).await.unwrap();
    let UndoOutcome::Undone { version, .. } = out else {
        panic!("{out:?}");
    };
    let entry = m.history(version, version).unwrap().pop().unwrap();
    assert_eq!(entry.user, ann);
    assert_eq!(entry.session.as_str(), format!("host:{}", ann.to_key()));
    engine.shutdown().await;
}

#[tokio::test]
async fn scopes_that_name_nothing_say_so() {
    let engine = Engine::open(EngineConfig::default()).unwrap();
    let m = model(&engine, json!({"t": "abc"})).await;
    assert_eq!(
        m.undo(UndoScope::LastOf(user("nobody"))).await.unwrap(),
        UndoOutcome::NothingToUndo
    );
    let err = m.undo(UndoScope::Version(99)).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidArgument);
    let err = m.undo(UndoScope::Version(1)).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidArgument);
    engine.shutdown().await;
}
