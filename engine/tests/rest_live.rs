//! The REST routes for what happens now: a domain's event stream (server-sent events), chats
//! and activities, the filter every list takes, oversize bodies, the sessions list of a domain
//! nobody is connected to, and `/metrics` counting requests by route.

mod http;

use std::time::Duration;

use http::{login, refused, setup};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads the stream into `seen` until it holds `needle` (at most 10 s).
async fn read_until(s: &mut TcpStream, seen: &mut String, needle: &str) {
    let mut buf = [0u8; 4096];
    let found = tokio::time::timeout(Duration::from_secs(10), async {
        while !seen.contains(needle) {
            let n = s.read(&mut buf).await.unwrap();
            assert!(n > 0, "the stream ended: {seen}");
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    })
    .await;
    assert!(found.is_ok(), "no {needle:?} in {seen}");
}

#[tokio::test]
async fn the_event_stream_shows_a_domains_events_as_they_happen() {
    let (engine, _listener, api) = setup().await;
    let token = login(&api).await;
    let mut s = TcpStream::connect(api.addr).await.unwrap();
    let req = format!(
        "GET /api/v1/domains/t/a/events HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {token}\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut seen = String::new();
    read_until(&mut s, &mut seen, "event: ready").await;
    assert!(seen.starts_with("HTTP/1.1 200"), "{seen}");
    assert!(seen
        .to_ascii_lowercase()
        .contains("content-type: text/event-stream"));
    let a = engine.domain("t", "a").unwrap();
    a.create_model("notes", Some("n1"), &json!({"x": 1}))
        .await
        .unwrap();
    a.model("n1")
        .unwrap()
        .apply(vec![tandem::api::Change::Set {
            path: vec![tandem::api::PathSegment::Key("x".into())],
            value: tandem::api::JsonValue::from(&json!(2)),
        }])
        .await
        .unwrap();
    // Another domain's events do not show.
    engine
        .domain("t", "b")
        .unwrap()
        .create_model("notes", Some("elsewhere"), &json!({}))
        .await
        .unwrap();
    read_until(&mut s, &mut seen, "\"type\":\"operation_applied\"").await;
    assert!(seen.contains("\"type\":\"model_created\""), "{seen}");
    assert!(seen.contains("\"model\":\"n1\""), "{seen}");
    assert!(!seen.contains("elsewhere"), "{seen}");

    // Without credentials, or with another domain's key, there is no stream.
    refused(
        &api.get("/api/v1/domains/t/a/events", None).await,
        401,
        "unauthenticated",
    );
    let b_key = engine
        .domain("t", "b")
        .unwrap()
        .create_api_key("b", true)
        .await
        .unwrap()
        .token;
    refused(
        &api.get("/api/v1/domains/t/a/events", Some(&b_key)).await,
        401,
        "unauthenticated",
    );
    refused(
        &api.get("/api/v1/domains/t/a/events?model=n1&x=1", Some(&token))
            .await,
        400,
        "invalid_argument",
    );
}

#[tokio::test]
async fn chats_activities_and_sessions() {
    let (engine, _listener, api) = setup().await;
    let token = login(&api).await;
    let a = engine.domain("t", "a").unwrap();
    let reader = a.create_api_key("dash", true).await.unwrap().token;
    let chats = "/api/v1/domains/t/a/chats";

    let made = api
        .call(
            "POST",
            chats,
            Some(&token),
            Some(r#"{"id":"general","kind":"channel","name":"General","topic":"all"}"#),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.text);
    assert_eq!(made.body["name"], "General");
    refused(
        &api.call("POST", chats, Some(&reader), Some(r#"{"kind":"room"}"#))
            .await,
        403,
        "permission_denied",
    );
    refused(
        &api.call("POST", chats, Some(&token), Some(r#"{"kind":"nonsense"}"#))
            .await,
        400,
        "invalid_argument",
    );
    for text in ["one", "two", "three"] {
        let posted = api
            .call(
                "POST",
                &format!("{chats}/general/messages"),
                Some(&token),
                Some(&json!({ "text": text }).to_string()),
            )
            .await;
        assert_eq!(posted.status, 201, "{}", posted.text);
    }
    let page = api
        .get(&format!("{chats}/general/events?limit=2"), Some(&reader))
        .await;
    assert_eq!(page.status, 200, "{}", page.text);
    // Newest first: three messages and the created event.
    assert_eq!(page.body["total"], 4);
    let texts: Vec<&str> = page.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["three", "two"]);
    let found = api
        .get(&format!("{chats}/general/events?filter=TW"), Some(&reader))
        .await;
    assert_eq!(found.body["total"], 1, "{}", found.text);
    assert_eq!(found.body["items"][0]["kind"], "message");
    let listed = api.get(&format!("{chats}?filter=gen"), Some(&reader)).await;
    assert_eq!(listed.body["total"], 1, "{}", listed.text);
    assert_eq!(listed.body["items"][0]["last_event_number"], 3);
    assert_eq!(
        api.get(&format!("{chats}?filter=zzz"), Some(&reader))
            .await
            .body["total"],
        0
    );
    refused(
        &api.get(&format!("{chats}/nope"), Some(&reader)).await,
        404,
        "not_found",
    );
    refused(
        &api.get(&format!("{chats}/nope/events"), Some(&reader))
            .await,
        404,
        "not_found",
    );
    refused(
        &api.call(
            "POST",
            &format!("{chats}/general/messages"),
            Some(&token),
            Some("{}"),
        )
        .await,
        400,
        "invalid_argument",
    );
    let gone = api
        .call("DELETE", &format!("{chats}/general"), Some(&token), None)
        .await;
    assert_eq!(gone.status, 204, "{}", gone.text);
    refused(
        &api.get(&format!("{chats}/general"), Some(&reader)).await,
        404,
        "not_found",
    );

    // Activities: listed, their (empty) participants, deleted.
    a.create_activity("doc", "a1", Default::default())
        .await
        .unwrap();
    a.create_activity("doc", "b2", Default::default())
        .await
        .unwrap();
    let acts = "/api/v1/domains/t/a/activities";
    let listed = api.get(&format!("{acts}?filter=b2"), Some(&reader)).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(listed.body["total"], 1);
    assert_eq!(listed.body["items"][0]["activity_type"], "doc");
    let one = api.get(&format!("{acts}/doc/a1"), Some(&reader)).await;
    assert_eq!(one.status, 200, "{}", one.text);
    assert_eq!(one.body["participants"], json!([]));
    refused(
        &api.call("DELETE", &format!("{acts}/doc/a1"), Some(&reader), None)
            .await,
        403,
        "permission_denied",
    );
    let gone = api
        .call("DELETE", &format!("{acts}/doc/a1"), Some(&token), None)
        .await;
    assert_eq!(gone.status, 204, "{}", gone.text);
    assert_eq!(api.get(acts, Some(&reader)).await.body["total"], 1);

    // Nobody is connected: an empty list, and no session to disconnect.
    let sessions = api.get("/api/v1/domains/t/a/sessions", Some(&reader)).await;
    assert_eq!(sessions.status, 200, "{}", sessions.text);
    assert_eq!(sessions.body, json!({"items": [], "offset": 0, "total": 0}));
    refused(
        &api.call(
            "DELETE",
            "/api/v1/domains/t/a/sessions/s1",
            Some(&token),
            None,
        )
        .await,
        404,
        "not_found",
    );
    refused(
        &api.call(
            "DELETE",
            "/api/v1/domains/t/a/sessions/s1",
            Some(&reader),
            None,
        )
        .await,
        403,
        "permission_denied",
    );
}

#[tokio::test]
async fn filters_oversize_bodies_and_metrics() {
    let (engine, _listener, api) = setup().await;
    let token = login(&api).await;
    let a = engine.domain("t", "a").unwrap();
    for id in ["alpha", "beta", "Alphabet"] {
        a.create_model("c", Some(id), &json!({})).await.unwrap();
    }
    let models = api
        .get(
            "/api/v1/domains/t/a/models?filter=ALPHA&limit=1",
            Some(&token),
        )
        .await;
    assert_eq!(models.status, 200, "{}", models.text);
    assert_eq!(models.body["total"], 2);
    assert_eq!(models.body["items"][0]["id"], "Alphabet");
    let domains = api.get("/api/v1/domains?filter=t/b", Some(&token)).await;
    assert_eq!(domains.body["total"], 1, "{}", domains.text);
    engine.create_domain("u", "x").await.unwrap();
    let namespaces = api.get("/api/v1/namespaces", Some(&token)).await;
    assert_eq!(
        namespaces.body,
        json!({"items": [{"id": "t", "domains": 2}, {"id": "u", "domains": 1}], "offset": 0, "total": 2})
    );
    let key = a.create_api_key("k", true).await.unwrap().token;
    refused(
        &api.get("/api/v1/namespaces", Some(&key)).await,
        403,
        "permission_denied",
    );
    refused(
        &api.get("/api/v1/namespaces", None).await,
        401,
        "unauthenticated",
    );
    refused(
        &api.get(
            &format!("/api/v1/domains?filter={}", "x".repeat(257)),
            Some(&token),
        )
        .await,
        400,
        "invalid_argument",
    );

    // A body over the listener's limit is refused before it is read whole.
    let big = format!(
        r#"{{"collection":"c","data":{{"s":"{}"}}}}"#,
        "x".repeat(17 << 20)
    );
    let answer = api
        .call(
            "POST",
            "/api/v1/domains/t/a/models",
            Some(&token),
            Some(&big),
        )
        .await;
    refused(&answer, 413, "invalid_argument");

    let metrics = api.get("/metrics", None).await.text;
    for line in [
        "tandem_rest_requests_total{method=\"GET\",route=\"/api/v1/domains/{namespace}/{domain}/models\",status=\"200\"} 1",
        "tandem_rest_requests_total{method=\"POST\",route=\"/api/v1/domains/{namespace}/{domain}/models\",status=\"413\"} 1",
        "tandem_rest_requests_total{method=\"POST\",route=\"/api/v1/auth/login\",status=\"200\"} 1",
        "# TYPE tandem_commit_latency_seconds histogram",
        "# TYPE tandem_operations_committed_total counter",
        "# TYPE tandem_sessions gauge",
        "tandem_webhook_deliveries_total 0",
    ] {
        assert!(metrics.contains(line), "no {line:?} in\n{metrics}");
    }
}

#[tokio::test]
async fn a_metrics_token_keeps_the_figures_from_anyone_without_it() {
    let engine = tandem::api::Engine::open(tandem::api::EngineConfig::default()).unwrap();
    let listener = engine
        .serve(
            "127.0.0.1:0".parse().unwrap(),
            tandem::api::NetConfig {
                metrics_token: Some("scrape-secret".into()),
                ..tandem::api::NetConfig::default()
            },
        )
        .await
        .unwrap();
    let api = http::Api {
        addr: listener.local_addr(),
    };
    assert_eq!(api.get("/metrics", None).await.status, 401);
    assert_eq!(api.get("/metrics", Some("wrong")).await.status, 401);
    let ok = api.get("/metrics", Some("scrape-secret")).await;
    assert_eq!(ok.status, 200);
    assert!(ok.text.contains("tandem_connections_open"), "{}", ok.text);
    // Health stays open.
    assert_eq!(api.get("/health", None).await.status, 200);
}

#[tokio::test]
async fn users_and_permissions_at_every_level() {
    let (engine, _listener, api) = setup().await;
    let token = login(&api).await;
    let a = engine.domain("t", "a").unwrap();
    let reader = a.create_api_key("dash", true).await.unwrap().token;
    let base = "/api/v1/domains/t/a";
    let made = api
        .call(
            "POST",
            &format!("{base}/users"),
            Some(&token),
            Some(r#"{"username":"alice","password":"pw-1"}"#),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.text);

    let changed = api
        .call(
            "PATCH",
            &format!("{base}/users/alice"),
            Some(&token),
            Some(r#"{"display_name":"Alice A.","disabled":true}"#),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(changed.body["display_name"], "Alice A.");
    assert_eq!(changed.body["disabled"], true);
    let read = api.get(&format!("{base}/users/alice"), Some(&reader)).await;
    assert_eq!(read.body["display_name"], "Alice A.");
    refused(
        &api.call(
            "PATCH",
            &format!("{base}/users/alice"),
            Some(&reader),
            Some("{}"),
        )
        .await,
        403,
        "permission_denied",
    );
    refused(
        &api.call(
            "PATCH",
            &format!("{base}/users/nobody"),
            Some(&token),
            Some("{}"),
        )
        .await,
        404,
        "not_found",
    );
    refused(
        &api.call(
            "PATCH",
            &format!("{base}/users/alice"),
            Some(&token),
            Some(r#"{"role":"x"}"#),
        )
        .await,
        400,
        "invalid_argument",
    );
    let pw = api
        .call(
            "PUT",
            &format!("{base}/users/alice/password"),
            Some(&token),
            Some(r#"{"password":"pw-2"}"#),
        )
        .await;
    assert_eq!(pw.status, 204, "{}", pw.text);
    refused(
        &api.call(
            "PUT",
            &format!("{base}/users/alice/password"),
            Some(&token),
            Some(r#"{}"#),
        )
        .await,
        400,
        "invalid_argument",
    );

    // A user's entry on a collection, set and removed.
    a.create_collection("notes").await.unwrap();
    let entry = api
        .call(
            "PUT",
            &format!("{base}/collections/notes/permissions/users/alice"),
            Some(&token),
            Some(r#"{"read":true,"write":true}"#),
        )
        .await;
    assert_eq!(entry.status, 200, "{}", entry.text);
    assert_eq!(entry.body["users"][0][0]["name"], "alice");
    assert_eq!(entry.body["users"][0][1]["write"], true);
    assert_eq!(entry.body["users"][0][1]["manage"], false);
    refused(
        &api.call(
            "PUT",
            &format!("{base}/collections/notes/permissions/users/nobody"),
            Some(&token),
            Some("{}"),
        )
        .await,
        404,
        "not_found",
    );
    let removed = api
        .call(
            "DELETE",
            &format!("{base}/collections/notes/permissions/users/alice"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(removed.status, 200, "{}", removed.text);
    assert_eq!(removed.body["users"], json!([]));

    // Generic rows: the domain's, a chat's, an activity's.
    let domain_rows = api
        .call(
            "PATCH",
            &format!("{base}/permissions"),
            Some(&token),
            Some(r#"{"add":{"world":["join_chat"],"groups":[]}}"#),
        )
        .await;
    assert_eq!(domain_rows.status, 200, "{}", domain_rows.text);
    assert_eq!(domain_rows.body["world"], json!(["join_chat"]));
    assert_eq!(
        api.get(&format!("{base}/permissions"), Some(&reader))
            .await
            .body["world"],
        json!(["join_chat"])
    );
    refused(
        &api.call(
            "PATCH",
            &format!("{base}/permissions"),
            Some(&token),
            Some(r#"{"add":{"world":["fly"]}}"#),
        )
        .await,
        400,
        "invalid_argument",
    );
    refused(
        &api.call(
            "PATCH",
            &format!("{base}/permissions"),
            Some(&reader),
            Some(r#"{"add":{}}"#),
        )
        .await,
        403,
        "permission_denied",
    );
    a.create_chat(tandem::api::NewChat {
        id: Some("room1".into()),
        kind: tandem::api::ChatKind::Channel,
        private: true,
        name: String::new(),
        topic: String::new(),
        members: vec![],
    })
    .await
    .unwrap();
    let chat_rows = api
        .call(
            "PATCH",
            &format!("{base}/chats/room1/permissions"),
            Some(&token),
            Some(r#"{"set":{"users":[[{"kind":"normal","name":"alice"},["join_chat","leave_chat"]]]}}"#),
        )
        .await;
    assert_eq!(chat_rows.status, 200, "{}", chat_rows.text);
    assert_eq!(
        chat_rows.body["users"][0][1],
        json!(["join_chat", "leave_chat"])
    );
    refused(
        &api.get(&format!("{base}/chats/nope/permissions"), Some(&reader))
            .await,
        404,
        "not_found",
    );
    a.create_activity("doc", "a1", Default::default())
        .await
        .unwrap();
    let act_rows = api
        .call(
            "PATCH",
            &format!("{base}/activities/doc/a1/permissions"),
            Some(&token),
            Some(r#"{"add":{"world":["join","view_state"]}}"#),
        )
        .await;
    assert_eq!(act_rows.status, 200, "{}", act_rows.text);
    let read = api
        .get(
            &format!("{base}/activities/doc/a1/permissions"),
            Some(&reader),
        )
        .await;
    assert_eq!(read.body["world"], json!(["join", "view_state"]));
    refused(
        &api.get(
            &format!("{base}/activities/doc/nope/permissions"),
            Some(&reader),
        )
        .await,
        404,
        "not_found",
    );
}
