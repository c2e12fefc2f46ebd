//! A session so far behind that the in-memory history cap dropped what it had not seen (as a
//! typist does while another client's 200,000-operation burst floods it): its next submission
//! is transformed against the operations reloaded from the store, not refused.

use serde_json::json;
use tandem::api::{Engine, EngineConfig};
use tandem::model::{ModelEvent, SessionInfo};
use tandem::ot::{Data, DiscreteOp, JsString, OpKind, Operation, ValueId};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

fn session(id: &str) -> SessionInfo {
    SessionInfo {
        session: id.into(),
        user: id.into(),
    }
}

fn ins(target: &ValueId, index: i64, text: &str) -> Operation {
    Operation::Discrete(DiscreteOp::new(
        target.clone(),
        OpKind::StringSplice {
            index,
            delete_count: 0,
            insert: text.into(),
        },
    ))
}

/// The context version of the next ack on `rx` (the version it was applied at), skipping
/// everything else; panics on a force close.
async fn ack(rx: &mut UnboundedReceiver<ModelEvent>) -> u64 {
    loop {
        let event = tokio::time::timeout(std::time::Duration::from_secs(20), rx.recv())
            .await
            .expect("an event in time")
            .expect("the channel is open");
        match event {
            ModelEvent::Ack {
                version, count: 1, ..
            } => return version,
            ModelEvent::ForceClosed { message, .. } => panic!("force-closed: {message}"),
            _ => {}
        }
    }
}

#[tokio::test]
async fn a_session_behind_the_history_cap_is_transformed_from_the_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = EngineConfig::with_data_dir(dir.path());
    config.models.max_history = 50;
    let engine = Engine::open(config).expect("engine");
    let d = engine.create_domain("p", "d").await.expect("domain");
    d.create_model("c", Some("m"), &json!({"t": "0123456789"}))
        .await
        .expect("model");
    let svc = engine.model_service();
    let (atx, mut arx) = unbounded_channel();
    let (btx, mut brx) = unbounded_channel();
    let a = svc
        .open(d.key(), "m", session("burst"), atx)
        .await
        .expect("open a");
    let b = svc
        .open(d.key(), "m", session("typist"), btx)
        .await
        .expect("open b");
    let t = match &a.data.data.data {
        Data::Object(map) => map[&JsString::from("t")].id.clone(),
        other => panic!("unexpected root {other:?}"),
    };
    // The typist submits once at version 1, then falls silent while the burst goes on.
    b.handle.submit(1, 1, ins(&t, 10, "Z")).expect("submit");
    assert_eq!(ack(&mut brx).await, 1);
    // 500 operations from the burst client, each at the newest version (10 x the cap).
    let mut version = 2;
    for seq in 1..=500 {
        a.handle
            .submit(seq, version, ins(&t, 0, "a"))
            .expect("submit");
        version = ack(&mut arx).await + 1;
    }
    // The typist, still at version 2, types after its "Z" (position 11 in its view).
    b.handle.submit(2, 2, ins(&t, 11, "Y")).expect("submit");
    assert_eq!(ack(&mut brx).await, version);
    let data = svc.read(d.key(), "m").await.expect("read");
    let text = match &data.data.data {
        Data::Object(map) => match &map[&JsString::from("t")].data {
            Data::String(s) => s.to_string_lossy(),
            other => panic!("not a string: {other:?}"),
        },
        other => panic!("unexpected root {other:?}"),
    };
    assert_eq!(text, format!("{}0123456789ZY", "a".repeat(500)));
    engine.shutdown().await;
}
