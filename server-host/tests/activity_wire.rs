//! Activities on the wire, where the real client cannot go: the join response is followed by a
//! ping and the activity's events wait for the pong (or a message naming the resource);
//! joining twice, leaving or updating an unknown resource each get the protocol's answer.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tandem::api::{Engine, EngineConfig, NetConfig};
use tandem::protocol::codec;
use tandem::protocol::wire::proto::activity as pa;
use tandem::protocol::wire::proto::core as pc;
use tandem::protocol::wire::{Body, ConvergenceMessage};

mod support;

use support::RawSocket;

struct Raw {
    raw: RawSocket,
}

impl Raw {
    async fn connect(addr: SocketAddr, name: &str) -> Raw {
        Raw {
            raw: RawSocket::connect(addr, "acts/d", "activity-test", name).await,
        }
    }

    async fn send(&mut self, body: Body) {
        self.raw.send(&codec::normal(body)).await;
    }

    async fn next(&mut self, wait: Duration) -> Option<ConvergenceMessage> {
        self.raw.frame(wait).await.expect("socket")
    }

    /// Sends a request and returns its reply and the message after it (pings included).
    async fn request(&mut self, body: Body) -> (Body, Option<ConvergenceMessage>) {
        let id = self.raw.request(body).await;
        loop {
            let msg = self.next(Duration::from_secs(10)).await.expect("a reply");
            if msg.response_id == Some(id) {
                let after = self.next(Duration::from_millis(300)).await;
                return (msg.body.expect("a body"), after);
            }
        }
    }

    async fn join(&mut self, id: &str, auto: bool) -> (Body, Option<ConvergenceMessage>) {
        let world = ["join", "view_state", "set_state"]
            .map(String::from)
            .to_vec();
        self.request(Body::ActivityJoinRequest(pa::ActivityJoinRequestMessage {
            activity_type: "board".into(),
            activity_id: id.into(),
            lurk: false,
            state: Default::default(),
            auto_create_data: auto.then(|| pa::activity_join_request_message::AutoCreateData {
                ephemeral: true,
                world_permissions: world,
                ..Default::default()
            }),
        }))
        .await
    }

    /// Waits up to `wait` for a session-joined event, skipping everything else.
    async fn joined_event(&mut self, wait: Duration) -> Option<pa::ActivitySessionJoinedMessage> {
        let deadline = Instant::now() + wait;
        while let Some(msg) = self
            .next(deadline.saturating_duration_since(Instant::now()))
            .await
        {
            if let Some(Body::ActivitySessionJoined(j)) = msg.body {
                return Some(j);
            }
        }
        None
    }
}

fn resource(body: &Body) -> i32 {
    match body {
        Body::ActivityJoinResponse(r) => r.resource_id,
        other => panic!("join failed: {other:?}"),
    }
}

fn error_code(body: &Body) -> &str {
    match body {
        Body::Error(e) => &e.code,
        other => panic!("not an error: {other:?}"),
    }
}

#[test]
fn a_joined_activitys_events_wait_for_the_pong_and_bad_requests_are_answered() {
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = Engine::open(EngineConfig::with_data_dir(dir.path())).expect("engine");
    engine.block_on(async {
        let d = engine.create_domain("acts", "d").await.expect("domain");
        d.set_anonymous_auth(true).await.expect("anonymous");
        let listener = engine
            .serve("127.0.0.1:0".parse().expect("addr"), NetConfig::default())
            .await
            .expect("listen");
        let addr = listener.local_addr();

        let mut a = Raw::connect(addr, "first").await;
        let (reply, after) = a.join("b1", true).await;
        let ra = resource(&reply);
        assert!(
            matches!(after.and_then(|m| m.body), Some(Body::Ping(_))),
            "a ping follows the join response"
        );
        a.send(Body::Pong(pc::PongMessage {})).await;

        // b joins and does not answer its ping: a session joining meanwhile is held back.
        let mut b = Raw::connect(addr, "second").await;
        let (reply, _) = b.join("b1", false).await;
        let rb = resource(&reply);
        assert!(
            a.joined_event(Duration::from_secs(5)).await.is_some(),
            "a sees b"
        );
        let mut c = Raw::connect(addr, "third").await;
        let (reply, _) = c.join("b1", false).await;
        resource(&reply);
        c.send(Body::Pong(pc::PongMessage {})).await;
        assert!(
            b.joined_event(Duration::from_millis(500)).await.is_none(),
            "an event reached b before its pong"
        );
        // Naming the resource lifts the barrier as the pong would.
        b.send(Body::ActivityUpdateState(pa::ActivityUpdateStateMessage {
            resource_id: rb,
            ..Default::default()
        }))
        .await;
        let held = b
            .joined_event(Duration::from_secs(5))
            .await
            .expect("the held join");
        assert_eq!(held.resource_id, rb);

        // The same session joining again, an unknown resource leaving, a missing activity.
        let (again, _) = a.join("b1", true).await;
        assert_eq!(error_code(&again), "activity_already_joined");
        let (leave, _) = a
            .request(Body::ActivityLeaveRequest(
                pa::ActivityLeaveRequestMessage {
                    resource_id: ra + 100,
                },
            ))
            .await;
        assert_eq!(error_code(&leave), "no_such_resource_id");
        let (missing, _) = a.join("nowhere", false).await;
        assert_eq!(error_code(&missing), "activity_not_found");
        let (left, _) = a
            .request(Body::ActivityLeaveRequest(
                pa::ActivityLeaveRequestMessage { resource_id: ra },
            ))
            .await;
        assert!(matches!(left, Body::Ok(_)), "{left:?}");
    });
}
