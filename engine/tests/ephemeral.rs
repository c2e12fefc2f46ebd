//! Ephemeral models (a client's auto-create data with `ephemeral` set): deleted when their last
//! session closes — the last close is answered once the model is gone — kept while any session
//! has them open, and deleted at the next start when the engine stopped with sessions on them.

use serde_json::json;
use tandem::api::{Domain, Engine, EngineConfig, ModelPermissionsChange, UserId};
use tandem::model::{ModelError, ModelEvent, SessionInfo};
use tandem::ot::{Data, DiscreteOp, OpKind, Operation, Value};
use tandem::perm::Actor;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

fn session(id: &str) -> SessionInfo {
    SessionInfo {
        session: id.into(),
        user: UserId::normal("alice").to_key(),
    }
}

fn root() -> Value {
    let mut map = std::collections::BTreeMap::new();
    map.insert("t".into(), Value::new("@:1", Data::String("draft".into())));
    Value::new("@:0", Data::Object(map))
}

async fn create(engine: &Engine, d: &Domain, id: &str, ephemeral: bool) {
    engine
        .model_service()
        .create_model_from_value(
            d.key(),
            "scratch",
            Some(id),
            root(),
            true,
            &Actor::User(UserId::normal("alice")),
            &ModelPermissionsChange::default(),
            ephemeral,
        )
        .await
        .expect("created");
}

async fn acked(rx: &mut UnboundedReceiver<ModelEvent>) {
    loop {
        let event = tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv())
            .await
            .expect("an event in time")
            .expect("open channel");
        if matches!(event, ModelEvent::Ack { .. }) {
            return;
        }
    }
}

fn exists(d: &Domain, id: &str) -> bool {
    d.models(None).expect("list").iter().any(|m| m.id == id)
}

#[tokio::test]
async fn an_ephemeral_model_goes_with_its_last_session_and_a_persistent_one_stays() {
    for dir in [None, Some(tempfile::tempdir().expect("dir"))] {
        let config = match &dir {
            Some(dir) => EngineConfig::with_data_dir(dir.path()),
            None => EngineConfig::default(),
        };
        let engine = Engine::open(config).expect("engine");
        let d = engine.create_domain("p", "d").await.expect("domain");
        create(&engine, &d, "e", true).await;
        create(&engine, &d, "kept", false).await;
        let svc = engine.model_service();

        let (atx, mut arx) = unbounded_channel();
        let (btx, _brx) = unbounded_channel();
        let a = svc
            .open(d.key(), "e", session("s1"), atx)
            .await
            .expect("open");
        let b = svc
            .open(d.key(), "e", session("s2"), btx)
            .await
            .expect("open");
        let Data::Object(map) = &a.data.data.data else {
            panic!("object root")
        };
        let t = map[&tandem::ot::JsString::from("t")].id.clone();
        a.handle
            .submit(
                1,
                1,
                Operation::Discrete(DiscreteOp::new(
                    t,
                    OpKind::StringSplice {
                        index: 0,
                        delete_count: 0,
                        insert: "my ".into(),
                    },
                )),
            )
            .expect("submitted");
        acked(&mut arx).await;

        a.handle.close().await.expect("closed");
        assert!(exists(&d, "e"), "another session still has it open");
        b.handle.close().await.expect("closed");
        assert!(!exists(&d, "e"), "gone once its last close is answered");
        assert!(engine.store().model(d.key(), "e").expect("read").is_none());
        let (tx, _rx) = unbounded_channel();
        let reopened = svc.open(d.key(), "e", session("s3"), tx).await;
        assert!(
            matches!(reopened, Err(ModelError::NotFound(_))),
            "reopening a deleted ephemeral model finds nothing"
        );
        // It can be created again under the same id (the client's auto-create does this).
        create(&engine, &d, "e", true).await;
        assert!(exists(&d, "e"));

        let (ktx, _krx) = unbounded_channel();
        let k = svc
            .open(d.key(), "kept", session("s4"), ktx)
            .await
            .expect("open");
        k.handle.close().await.expect("closed");
        assert!(
            exists(&d, "kept"),
            "a persistent model outlives its sessions"
        );
        engine.shutdown().await;
    }
}

#[tokio::test]
async fn an_ephemeral_model_left_open_at_shutdown_is_deleted_at_the_next_start() {
    let dir = tempfile::tempdir().expect("dir");
    {
        let engine = Engine::open(EngineConfig::with_data_dir(dir.path())).expect("engine");
        let d = engine.create_domain("p", "d").await.expect("domain");
        create(&engine, &d, "open-at-stop", true).await;
        create(&engine, &d, "kept", false).await;
        d.create_model("scratch", Some("plain"), &json!({"n": 1}))
            .await
            .expect("model");
        let (tx, _rx) = unbounded_channel();
        let _open = engine
            .model_service()
            .open(d.key(), "open-at-stop", session("s1"), tx)
            .await
            .expect("open");
        engine.shutdown().await;
    }
    let engine = Engine::open(EngineConfig::with_data_dir(dir.path())).expect("engine");
    let d = engine.domain("p", "d").expect("domain");
    let mut ids: Vec<String> = d
        .models(None)
        .expect("list")
        .into_iter()
        .map(|m| m.id)
        .collect();
    ids.sort();
    assert_eq!(ids, ["kept", "plain"]);
    let found = d.query("SELECT * FROM scratch").expect("query");
    assert_eq!(found.total, 2, "the index forgot it too");
    engine.shutdown().await;
}
