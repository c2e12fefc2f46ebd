//! Resynchronisation after a reconnect when the client's acknowledgements were lost: its
//! committed operations are replayed as its own (with their sequence numbers), its re-sent
//! copies are taken in without being applied twice, and what it sends next is transformed
//! against what others did meanwhile — also after an engine restart.

use serde_json::json;
use tandem::api::{Engine, EngineConfig};
use tandem::model::{ForceCloseReason, ModelEvent, OpenedModel, SessionInfo};
use tandem::ot::{Data, DiscreteOp, OpKind, Operation, ValueId};
use tandem::store::DomainKey;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

fn session(id: &str, user: &str) -> SessionInfo {
    SessionInfo {
        session: id.into(),
        user: user.into(),
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

async fn next(rx: &mut UnboundedReceiver<ModelEvent>) -> ModelEvent {
    tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv())
        .await
        .expect("an event in time")
        .expect("the channel is open")
}

async fn ack(rx: &mut UnboundedReceiver<ModelEvent>) -> (u64, u64) {
    match next(rx).await {
        ModelEvent::Ack {
            seq,
            version,
            count: 1,
            ..
        } => (seq, version),
        other => panic!("expected one ack, got {other:?}"),
    }
}

/// The next `n` acknowledgements `(seq, version)`, however they are grouped into events.
async fn acks(rx: &mut UnboundedReceiver<ModelEvent>, n: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    while (out.len() as u64) < n {
        match next(rx).await {
            ModelEvent::Ack {
                seq,
                version,
                count,
                ..
            } => out.extend((0..count).map(|i| (seq + i, version + i))),
            other => panic!("expected an ack, got {other:?}"),
        }
    }
    out
}

fn text_id(opened: &OpenedModel) -> ValueId {
    match &opened.data.data.data {
        Data::Object(map) => map[&tandem::ot::JsString::from("t")].id.clone(),
        other => panic!("unexpected root {other:?}"),
    }
}

/// On "0123456789" at version 1: bob inserts "xx" at 8 (version 2); alice, at version 1,
/// sends "a" at 0, "b" at 1 and "c" at 3; the server commits a (3), bob's "yy" made after
/// "xx" (4), then b (5); alice's connection dies before any ack reaches her, and c never
/// arrived. Returns the domain key and the string's id.
async fn lose_alices_acks(engine: &Engine) -> (DomainKey, ValueId) {
    let d = engine.create_domain("p", "d").await.unwrap();
    d.create_model("c", Some("m"), &json!({"t": "0123456789"}))
        .await
        .unwrap();
    let svc = engine.model_service();
    let (atx, arx) = unbounded_channel();
    let (btx, mut brx) = unbounded_channel();
    let alice = svc
        .open(d.key(), "m", session("alice-1", "alice"), atx)
        .await
        .unwrap();
    let bob = svc
        .open(d.key(), "m", session("bob-1", "bob"), btx)
        .await
        .unwrap();
    let t = text_id(&alice);
    bob.handle.submit(1, 1, ins(&t, 8, "xx")).unwrap();
    assert_eq!(ack(&mut brx).await, (1, 1));
    alice.handle.submit(1, 1, ins(&t, 0, "a")).unwrap();
    // Wait for the commit of a before bob's next operation, so that the order is fixed.
    loop {
        if let ModelEvent::Remote { session, .. } = next(&mut brx).await {
            if &*session == "alice-1" {
                break;
            }
        }
    }
    bob.handle.submit(2, 2, ins(&t, 2, "yy")).unwrap();
    assert_eq!(ack(&mut brx).await, (2, 3));
    alice.handle.submit(2, 1, ins(&t, 1, "b")).unwrap();
    // Her events (acks included) are never read: the connection is gone.
    loop {
        if let ModelEvent::Remote { session, .. } = next(&mut brx).await {
            if &*session == "alice-1" {
                break;
            }
        }
    }
    drop(arx);
    alice.handle.close().await.unwrap();
    bob.handle.close().await.unwrap();
    (d.key().clone(), t)
}

/// Alice reconnects as `alice-2` and resyncs from version 1 knowing `alice-1` was hers.
async fn resync_alice(engine: &Engine, key: &DomainKey, t: &ValueId) {
    let svc = engine.model_service();
    let (tx, mut rx) = unbounded_channel();
    let opened = svc
        .resync(
            key,
            "m",
            session("alice-2", "alice"),
            tx,
            1,
            vec!["alice-1".into()],
        )
        .await
        .unwrap();
    // She is told she caught up just before her own first operation.
    assert_eq!(opened.resync_version, 2);
    assert_eq!(opened.data.version, 5);
    let replay: Vec<(u64, &str, Option<u64>, bool)> = opened
        .replay
        .iter()
        .map(|o| (o.version, o.session.as_str(), o.seq, o.own))
        .collect();
    assert_eq!(
        replay,
        [
            (2, "bob-1", Some(1), false),
            (3, "alice-1", Some(1), true),
            (4, "bob-1", Some(2), false),
            (5, "alice-1", Some(2), true),
        ]
    );
    // She replays "xx" (moves nothing of hers) and re-sends a, b and c at context 2, then
    // types "d" after "c".
    opened.handle.submit(1, 2, ins(t, 0, "a")).unwrap();
    opened.handle.submit(2, 2, ins(t, 1, "b")).unwrap();
    opened.handle.submit(3, 2, ins(t, 3, "c")).unwrap();
    opened.handle.submit(4, 2, ins(t, 4, "d")).unwrap();
    // Only c and d are new: acked at versions 5 and 6 (context versions).
    assert_eq!(acks(&mut rx, 2).await, [(3, 5), (4, 6)]);
    let m = engine.domain("p", "d").unwrap().model("m").unwrap();
    // "ab" + "0" + "cd" + "1" + "yy" + "234567" + "xx" + "89": a and b once, c and d where
    // she typed them.
    assert_eq!(m.json().await.unwrap(), json!({"t": "ab0cd1yy234567xx89"}));

    // A client whose first re-sent operation is not its committed one is closed out of the
    // model instead of being guessed at.
    let (tx3, mut rx3) = unbounded_channel();
    let third = svc
        .resync(
            key,
            "m",
            session("alice-3", "alice"),
            tx3,
            1,
            vec!["alice-1".into()],
        )
        .await
        .unwrap();
    assert_eq!(third.resync_version, 2);
    third.handle.submit(7, 2, ins(t, 0, "q")).unwrap();
    loop {
        match next(&mut rx3).await {
            ModelEvent::ForceClosed { reason, .. } => {
                assert_eq!(reason, ForceCloseReason::ErrorApplyingOperation);
                break;
            }
            ModelEvent::Remote { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(m.json().await.unwrap(), json!({"t": "ab0cd1yy234567xx89"}));
}

#[tokio::test]
async fn lost_acks_are_replayed_as_own_operations_and_resends_are_not_applied_twice() {
    let engine = Engine::open(EngineConfig::default()).unwrap();
    let (key, t) = lose_alices_acks(&engine).await;
    resync_alice(&engine, &key, &t).await;
    engine.shutdown().await;
}

#[test]
fn the_same_holds_after_an_engine_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (key, t) = {
        let engine = Engine::open(EngineConfig::with_data_dir(dir.path())).unwrap();
        let out = engine.block_on(lose_alices_acks(&engine));
        engine.block_on(engine.shutdown());
        out
    };
    let engine = Engine::open(EngineConfig::with_data_dir(dir.path())).unwrap();
    engine.block_on(resync_alice(&engine, &key, &t));
    engine.block_on(engine.shutdown());
}
