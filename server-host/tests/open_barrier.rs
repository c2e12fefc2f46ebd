//! A just-opened model's first events wait until the client has taken in the open response.
//!
//! rc.12 registers a model a few microtasks after the open response arrives, so a
//! `remoteOperation` read in the same network read as that response is dropped (Node's `ws`
//! hands every message of one read to the client in one task). The server pings right behind
//! the open response and sends the model's events only once the pong is back, or once the
//! client has named the resource, or after two seconds for a client that never answers pings.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::json;
use tandem::api::{path, Change, Engine, EngineConfig, Model, NetConfig};
use tandem::protocol::codec;
use tandem::protocol::wire::proto::core as pc;
use tandem::protocol::wire::proto::model as pm;
use tandem::protocol::wire::{Body, ConvergenceMessage};

mod support;

use support::RawSocket;

/// A raw protocol client that answers nothing by itself: pings are the test's to answer.
struct Raw {
    raw: RawSocket,
}

impl Raw {
    async fn connect(addr: SocketAddr, name: &str) -> Raw {
        Raw {
            raw: RawSocket::connect(addr, "barrier/d", "barrier-test", name).await,
        }
    }

    async fn send(&mut self, body: Body) {
        self.raw.send(&codec::normal(body)).await;
    }

    /// The next protocol message within `wait`, pings included; None when nothing came.
    async fn next(&mut self, wait: Duration) -> Option<ConvergenceMessage> {
        self.raw.frame(wait).await.expect("socket")
    }

    /// Opens `model`, returns its resource id and the message that follows the response.
    async fn open(&mut self, model: &str) -> (i32, Option<ConvergenceMessage>) {
        let id = self.raw.open_request(model).await;
        loop {
            let msg = self
                .next(Duration::from_secs(10))
                .await
                .expect("open reply");
            if msg.response_id == Some(id) {
                let Some(Body::OpenRealTimeModelResponse(r)) = msg.body else {
                    panic!("open failed: {msg:?}");
                };
                let after = self.next(Duration::from_secs(1)).await;
                return (r.resource_id, after);
            }
        }
    }

    /// Waits up to `wait` for a remote operation on `resource`, skipping everything else.
    async fn remote_op(&mut self, resource: i32, wait: Duration) -> Option<i64> {
        let deadline = Instant::now() + wait;
        while let Some(msg) = self
            .next(deadline.saturating_duration_since(Instant::now()))
            .await
        {
            if let Some(Body::RemoteOperation(r)) = msg.body {
                if r.resource_id == resource {
                    return Some(r.context_version);
                }
            }
        }
        None
    }
}

/// A host edit; returns the context version its remote operation carries.
async fn push(model: &Model, n: u64) -> i64 {
    let version = model
        .apply(vec![Change::Insert {
            path: path(&["log"]),
            index: 0,
            value: json!(n).into(),
        }])
        .await
        .expect("host edit");
    version as i64 - 1
}

fn is_ping(msg: &Option<ConvergenceMessage>) -> bool {
    matches!(
        msg.as_ref().and_then(|m| m.body.as_ref()),
        Some(Body::Ping(_))
    )
}

#[test]
fn a_just_opened_models_events_wait_for_the_clients_pong() {
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = Engine::open(EngineConfig::with_data_dir(dir.path())).expect("engine");
    engine.block_on(async {
        let d = engine.create_domain("barrier", "d").await.expect("domain");
        d.set_anonymous_auth(true).await.expect("anonymous");
        let m = d
            .create_model("c", Some("m"), &json!({"log": []}))
            .await
            .expect("model");
        let listener = engine
            .serve("127.0.0.1:0".parse().expect("addr"), NetConfig::default())
            .await
            .expect("listen");
        let addr = listener.local_addr();

        // Answers the ping: the edit made meanwhile follows the pong, not before it.
        let mut c = Raw::connect(addr, "ponger").await;
        let (resource, after) = c.open("m").await;
        assert!(
            is_ping(&after),
            "a ping follows the open response: {after:?}"
        );
        let v1 = push(&m, 1).await;
        assert_eq!(
            c.remote_op(resource, Duration::from_millis(500)).await,
            None,
            "an operation reached the client before its pong"
        );
        c.send(Body::Pong(pc::PongMessage {})).await;
        assert_eq!(
            c.remote_op(resource, Duration::from_secs(5)).await,
            Some(v1),
            "the held operation follows the pong"
        );
        let v2 = push(&m, 2).await;
        assert_eq!(
            c.remote_op(resource, Duration::from_secs(5)).await,
            Some(v2),
            "later operations flow at once"
        );

        // Names the resource (a reference) instead: that lifts the barrier too.
        let mut r = Raw::connect(addr, "referrer").await;
        let (resource, after) = r.open("m").await;
        assert!(is_ping(&after), "{after:?}");
        let v3 = push(&m, 3).await;
        r.send(Body::ClearReference(pm::ClearReferenceMessage {
            resource_id: resource,
            value_id: None,
            key: "cursor".into(),
        }))
        .await;
        assert_eq!(
            r.remote_op(resource, Duration::from_secs(5)).await,
            Some(v3),
            "a message naming the resource lifts the barrier"
        );

        // Never answers pings: the events come anyway, late.
        let mut s = Raw::connect(addr, "silent").await;
        let (resource, after) = s.open("m").await;
        assert!(is_ping(&after), "{after:?}");
        let started = Instant::now();
        let v4 = push(&m, 4).await;
        assert_eq!(
            s.remote_op(resource, Duration::from_secs(6)).await,
            Some(v4),
            "a client that never answers pings still gets the operation"
        );
        assert!(
            started.elapsed() >= Duration::from_millis(1500),
            "held for the overdue time, got it after {:?}",
            started.elapsed()
        );
        listener.stop().await;
    });
    engine.block_on(engine.shutdown());
}
