//! Webhooks as a receiver sees them: every wanted event delivered once acknowledged, in the
//! order it happened, signed with the webhook's secret over the timestamp and body; a failing
//! receiver gets the same delivery again after a backoff while later ones wait; a delivery
//! that keeps failing is given up; pending deliveries survive a restart; and the REST routes
//! that manage them.

mod http;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use tandem::api::{Engine, EngineConfig, NewChat, NewWebhook, WebhookConfig};

/// What the receiver got, and the statuses it answers with next (200 once they run out).
#[derive(Default)]
struct Inbox {
    got: Vec<(HeaderMap, String)>,
    answers: Vec<u16>,
}

type Shared = Arc<Mutex<Inbox>>;

async fn receive(State(inbox): State<Shared>, headers: HeaderMap, body: String) -> StatusCode {
    let mut inbox = inbox.lock().unwrap();
    inbox.got.push((headers, body));
    let code = if inbox.answers.is_empty() {
        200
    } else {
        inbox.answers.remove(0)
    };
    StatusCode::from_u16(code).unwrap()
}

/// A receiver on `addr` (port 0: any).
async fn receiver(addr: SocketAddr) -> (Shared, SocketAddr, tokio::task::JoinHandle<()>) {
    let inbox = Shared::default();
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(inbox.clone());
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let local = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (inbox, local, task)
}

fn quick() -> WebhookConfig {
    WebhookConfig {
        retry_initial_ms: 50,
        retry_max_ms: 200,
        timeout_ms: 2_000,
        ..WebhookConfig::default()
    }
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// Checks a delivery's signature as a receiver would: HMAC-SHA256 of `<timestamp>.<body>`.
fn verify(secret: &str, headers: &HeaderMap, body: &str) -> bool {
    let ts = header(headers, "tandem-timestamp");
    let Some(sig) = header(headers, "tandem-signature").strip_prefix("v1=") else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{ts}.{body}").as_bytes());
    let want: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    want == sig
}

/// Waits until `f` holds for the inbox (at most 10 s).
async fn until(inbox: &Shared, what: &str, f: impl Fn(&Inbox) -> bool) {
    for _ in 0..500 {
        if f(&inbox.lock().unwrap()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

fn bodies(inbox: &Inbox) -> Vec<Value> {
    inbox
        .got
        .iter()
        .map(|(_, b)| serde_json::from_str(b).unwrap())
        .collect()
}

#[tokio::test]
async fn deliveries_are_signed_ordered_and_retried() {
    let (inbox, addr, _task) = receiver("127.0.0.1:0".parse().unwrap()).await;
    // The first delivery fails twice: the ones after it wait for it.
    inbox.lock().unwrap().answers = vec![500, 503];
    let engine = Engine::open(EngineConfig {
        webhooks: quick(),
        ..EngineConfig::default()
    })
    .unwrap();
    let d = engine.create_domain("t", "d").await.unwrap();
    let hook = d
        .add_webhook(NewWebhook {
            url: format!("http://{addr}/hook"),
            events: vec![
                "model.created".into(),
                "model.deleted".into(),
                "chat.message".into(),
            ],
        })
        .await
        .unwrap();
    assert_eq!(hook.secret.len(), 64);
    d.create_model("notes", Some("n1"), &serde_json::json!({"a": 1}))
        .await
        .unwrap();
    let chat = d
        .create_chat(NewChat {
            id: Some("general".into()),
            kind: tandem::api::ChatKind::Channel,
            private: false,
            name: "General".into(),
            topic: String::new(),
            members: vec![],
        })
        .await
        .unwrap();
    d.post_chat_message(&chat, None, "hello").await.unwrap();
    d.model("n1").unwrap().delete().await.unwrap();

    until(&inbox, "five attempts", |i| i.got.len() == 5).await;
    let got: Vec<(HeaderMap, String)> = inbox.lock().unwrap().got.clone();
    let b = bodies(&inbox.lock().unwrap());
    // Two failed attempts of the first, then every delivery in order, each once.
    let ids: Vec<&str> = b.iter().map(|v| v["id"].as_str().unwrap()).collect();
    let first = format!("{}.1", hook.webhook.id);
    assert_eq!(ids[..3], [first.as_str(); 3]);
    let events: Vec<&str> = b[2..]
        .iter()
        .map(|v| v["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["model.created", "chat.message", "model.deleted"]);
    assert_eq!(b[2]["data"]["model"], "n1");
    assert_eq!(b[2]["data"]["collection"], "notes");
    assert_eq!(b[3]["data"]["text"], "hello");
    assert_eq!(b[3]["data"]["chat"], "general");
    assert_eq!(
        (b[2]["namespace"].as_str(), b[2]["domain"].as_str()),
        (Some("t"), Some("d"))
    );
    for (h, body) in &got {
        assert!(verify(&hook.secret, h, body), "bad signature on {body}");
        assert_eq!(header(h, "content-type"), "application/json");
        assert_eq!(
            header(h, "tandem-delivery"),
            serde_json::from_str::<Value>(body).unwrap()["id"]
        );
        assert!(!verify("another secret", h, body));
    }

    // The outbox shows each outcome, newest first.
    let mut deliveries = d.webhook_deliveries(&hook.webhook.id).unwrap();
    for _ in 0..100 {
        if deliveries.iter().all(|x| x.status == "delivered") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        deliveries = d.webhook_deliveries(&hook.webhook.id).unwrap();
    }
    let summary: Vec<(u64, &str, u32, Option<u16>)> = deliveries
        .iter()
        .map(|x| (x.number, x.status.as_str(), x.attempts, x.last_status))
        .collect();
    assert_eq!(
        summary,
        [
            (3, "delivered", 1, Some(200)),
            (2, "delivered", 1, Some(200)),
            (1, "delivered", 3, Some(200)),
        ]
    );
    engine.shutdown().await;
}

#[tokio::test]
async fn a_delivery_that_keeps_failing_is_given_up_and_the_next_goes_out() {
    let (inbox, addr, _task) = receiver("127.0.0.1:0".parse().unwrap()).await;
    inbox.lock().unwrap().answers = vec![500, 500, 500];
    let engine = Engine::open(EngineConfig {
        webhooks: WebhookConfig {
            max_attempts: 3,
            ..quick()
        },
        ..EngineConfig::default()
    })
    .unwrap();
    let d = engine.create_domain("t", "d").await.unwrap();
    let hook = d
        .add_webhook(NewWebhook {
            url: format!("http://{addr}/hook"),
            events: vec!["model.created".into()],
        })
        .await
        .unwrap();
    for id in ["m1", "m2"] {
        d.create_model("c", Some(id), &serde_json::json!({}))
            .await
            .unwrap();
    }
    until(&inbox, "three attempts and the second delivery", |i| {
        i.got.len() == 4
    })
    .await;
    let b = bodies(&inbox.lock().unwrap());
    assert_eq!(b[3]["data"]["model"], "m2");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let deliveries = d.webhook_deliveries(&hook.webhook.id).unwrap();
    assert_eq!(deliveries[1].status, "failed");
    assert_eq!(deliveries[1].attempts, 3);
    assert_eq!(deliveries[1].last_status, Some(500));
    assert!(deliveries[1].last_error.as_deref().unwrap().contains("500"));
    assert_eq!(deliveries[0].status, "delivered");

    // A removed webhook gets nothing more, and its deliveries are gone.
    d.remove_webhook(&hook.webhook.id).await.unwrap();
    d.create_model("c", Some("m3"), &serde_json::json!({}))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(inbox.lock().unwrap().got.len(), 4);
    let gone = d.webhook_deliveries(&hook.webhook.id).unwrap_err();
    assert_eq!(gone.code, tandem::api::ErrorCode::NotFound);
    engine.shutdown().await;
}

#[tokio::test]
async fn pending_deliveries_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    // A port nobody listens on yet: every attempt before the restart is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let config = EngineConfig {
        webhooks: WebhookConfig {
            retry_initial_ms: 100,
            retry_max_ms: 100,
            ..quick()
        },
        ..EngineConfig::with_data_dir(dir.path())
    };
    let engine = Engine::open(config.clone()).unwrap();
    let d = engine.create_domain("t", "d").await.unwrap();
    let hook = d
        .add_webhook(NewWebhook {
            url: format!("http://{port}/hook"),
            events: vec!["model.created".into()],
        })
        .await
        .unwrap();
    for id in ["a", "b", "c"] {
        d.create_model("c", Some(id), &serde_json::json!({}))
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(250)).await;
    let before = d.webhook_deliveries(&hook.webhook.id).unwrap();
    assert_eq!(before.len(), 3);
    assert!(before.iter().all(|x| x.status == "pending"));
    assert!(before[2].attempts >= 1, "{before:?}");
    assert!(before[2].last_error.as_deref().unwrap().contains("connect"));
    engine.shutdown().await;
    drop((d, engine));

    let (inbox, _, _task) = receiver(port).await;
    let engine = Engine::open(config).unwrap();
    until(&inbox, "the three deliveries", |i| i.got.len() == 3).await;
    let b = bodies(&inbox.lock().unwrap());
    let models: Vec<&str> = b
        .iter()
        .map(|v| v["data"]["model"].as_str().unwrap())
        .collect();
    assert_eq!(models, ["a", "b", "c"]);
    // Numbering goes on after the restart.
    let d = engine.domain("t", "d").unwrap();
    d.create_model("c", Some("d"), &serde_json::json!({}))
        .await
        .unwrap();
    until(&inbox, "the fourth delivery", |i| i.got.len() == 4).await;
    let b = bodies(&inbox.lock().unwrap());
    assert_eq!(b[3]["id"], format!("{}.4", hook.webhook.id));
    engine.shutdown().await;
}

#[tokio::test]
async fn registrations_are_checked() {
    let engine = Engine::open(EngineConfig {
        webhooks: WebhookConfig {
            max_per_domain: 2,
            ..quick()
        },
        ..EngineConfig::default()
    })
    .unwrap();
    let d = engine.create_domain("t", "d").await.unwrap();
    let new = |url: &str, events: &[&str]| NewWebhook {
        url: url.into(),
        events: events.iter().map(|e| e.to_string()).collect(),
    };
    for (url, events) in [
        ("ftp://x/", &["model.created"][..]),
        ("not a url", &["model.created"][..]),
        ("http://127.0.0.1:9/", &[][..]),
        ("http://127.0.0.1:9/", &["model.exploded"][..]),
    ] {
        let e = d.add_webhook(new(url, events)).await.unwrap_err();
        assert_eq!(
            e.code,
            tandem::api::ErrorCode::InvalidArgument,
            "{url} {events:?}"
        );
    }
    d.add_webhook(new("http://127.0.0.1:9/a", &["chat.message"]))
        .await
        .unwrap();
    d.add_webhook(new(
        "https://example.com/b",
        &["model.deleted", "model.deleted"],
    ))
    .await
    .unwrap();
    let full = d
        .add_webhook(new("http://127.0.0.1:9/c", &["chat.message"]))
        .await
        .unwrap_err();
    assert_eq!(full.code, tandem::api::ErrorCode::InvalidOperation);
    let listed = d.webhooks().unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().any(|w| w.events == ["model.deleted"]));
    // Another domain has none; a deleted domain's are gone with it.
    let other = engine.create_domain("t", "e").await.unwrap();
    assert!(other.webhooks().unwrap().is_empty());
    engine.delete_domain("t", "d").await.unwrap();
    let again = engine.create_domain("t", "d").await.unwrap();
    assert!(again.webhooks().unwrap().is_empty());
    engine.shutdown().await;
}

#[tokio::test]
async fn webhook_routes() {
    let (engine, _listener, api) = http::setup().await;
    let token = http::login(&api).await;
    let a = engine.domain("t", "a").unwrap();
    let reader = a.create_api_key("dash", true).await.unwrap().token;
    let writer = a.create_api_key("ops", false).await.unwrap().token;
    let path = "/api/v1/domains/t/a/webhooks";
    let body = r#"{"url":"http://127.0.0.1:9/x","events":["model.created"]}"#;

    let made = api.call("POST", path, Some(&writer), Some(body)).await;
    assert_eq!(made.status, 201, "{}", made.text);
    let id = made.body["id"].as_str().unwrap().to_string();
    assert_eq!(made.body["secret"].as_str().unwrap().len(), 64);
    http::refused(
        &api.call("POST", path, Some(&reader), Some(body)).await,
        403,
        "permission_denied",
    );
    http::refused(
        &api.call("POST", path, None, Some(body)).await,
        401,
        "unauthenticated",
    );
    http::refused(
        &api.call(
            "POST",
            path,
            Some(&token),
            Some(r#"{"url":"x","events":["model.created"]}"#),
        )
        .await,
        400,
        "invalid_argument",
    );
    http::refused(
        &api.call(
            "POST",
            path,
            Some(&token),
            Some(r#"{"url":"http://h/","events":[],"x":1}"#),
        )
        .await,
        400,
        "invalid_argument",
    );
    let listed = api.get(path, Some(&reader)).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(listed.body["total"], 1);
    assert_eq!(listed.body["items"][0]["id"], id.as_str());
    // The secret is shown once only.
    assert!(listed.body["items"][0].get("secret").is_none());
    let filtered = api
        .get(&format!("{path}?filter=nothing-like-it"), Some(&reader))
        .await;
    assert_eq!(filtered.body["total"], 0);

    a.create_model("c", Some("m"), &serde_json::json!({}))
        .await
        .unwrap();
    let deliveries = api
        .get(&format!("{path}/{id}/deliveries?limit=10"), Some(&reader))
        .await;
    assert_eq!(deliveries.status, 200, "{}", deliveries.text);
    assert_eq!(deliveries.body["total"], 1);
    assert_eq!(deliveries.body["items"][0]["event"], "model.created");
    http::refused(
        &api.get(&format!("{path}/nope/deliveries"), Some(&reader))
            .await,
        404,
        "not_found",
    );
    http::refused(
        &api.call("DELETE", &format!("{path}/{id}"), Some(&reader), None)
            .await,
        403,
        "permission_denied",
    );
    let gone = api
        .call("DELETE", &format!("{path}/{id}"), Some(&writer), None)
        .await;
    assert_eq!(gone.status, 204, "{}", gone.text);
    http::refused(
        &api.call("DELETE", &format!("{path}/{id}"), Some(&writer), None)
            .await,
        404,
        "not_found",
    );
    // Another domain's key does not reach these routes.
    let b_key = engine
        .domain("t", "b")
        .unwrap()
        .create_api_key("b", false)
        .await
        .unwrap()
        .token;
    http::refused(&api.get(path, Some(&b_key)).await, 401, "unauthenticated");
    engine.shutdown().await;
}
