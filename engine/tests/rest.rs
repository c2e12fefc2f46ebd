//! The REST API over a real listener, as an HTTP client sees it: an administrator's login and
//! token, API keys that reach their own domain only (read-only ones only what reads), paging
//! and its edges, model JSON current and at a version (exact JavaScript text), creation and
//! deletion, and malformed requests — each refusal with its status and a JSON error code.
//! The OpenAPI document names every route.

mod http;

use http::{login, refused, setup};
use serde_json::json;

#[tokio::test]
async fn login_and_the_domain_list_with_its_paging_edges() {
    let (engine, listener, api) = setup().await;
    let wrong = api
        .call(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(r#"{"username":"root","password":"x"}"#),
        )
        .await;
    refused(&wrong, 401, "unauthenticated");
    let unknown = api
        .call(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(r#"{"username":"nobody","password":"x"}"#),
        )
        .await;
    assert_eq!(
        unknown.text, wrong.text,
        "an unknown name answers like a wrong password"
    );
    for bad in [
        "{",
        "[]",
        r#"{"username":"root"}"#,
        r#"{"username":"root","password":"root pw","x":1}"#,
        r#"{"username":1,"password":"p"}"#,
    ] {
        refused(
            &api.call("POST", "/api/v1/auth/login", None, Some(bad))
                .await,
            400,
            "invalid_argument",
        );
    }
    let token = login(&api).await;

    refused(
        &api.get("/api/v1/domains", None).await,
        401,
        "unauthenticated",
    );
    refused(
        &api.get("/api/v1/domains", Some("ta1.00.1.00")).await,
        401,
        "unauthenticated",
    );
    let key = engine
        .domain("t", "a")
        .unwrap()
        .create_api_key("k", false)
        .await
        .unwrap();
    refused(
        &api.get("/api/v1/domains", Some(&key.token)).await,
        403,
        "permission_denied",
    );

    let all = api.get("/api/v1/domains", Some(&token)).await;
    assert_eq!(all.status, 200, "{}", all.text);
    assert_eq!(all.body["total"], 2);
    assert_eq!(
        all.body["items"],
        json!([{"namespace": "t", "id": "a"}, {"namespace": "t", "id": "b"}])
    );
    let second = api
        .get("/api/v1/domains?offset=1&limit=1", Some(&token))
        .await;
    assert_eq!(second.body["items"], json!([{"namespace": "t", "id": "b"}]));
    assert_eq!(
        (second.body["offset"].clone(), second.body["total"].clone()),
        (json!(1), json!(2))
    );
    let past = api.get("/api/v1/domains?offset=5", Some(&token)).await;
    assert_eq!(
        (
            past.status,
            past.body["items"].clone(),
            past.body["total"].clone()
        ),
        (200, json!([]), json!(2))
    );
    for q in ["limit=0", "limit=1001", "offset=-1", "limit=x", "sort=id"] {
        refused(
            &api.get(&format!("/api/v1/domains?{q}"), Some(&token)).await,
            400,
            "invalid_argument",
        );
    }
    refused(
        &api.get("/api/v1/nowhere", Some(&token)).await,
        404,
        "not_found",
    );

    let doc = api.get("/api/v1/openapi.json", None).await;
    assert_eq!(doc.status, 200);
    let paths = doc.body["paths"].as_object().expect("paths");
    for p in [
        "/api/v1/auth/login",
        "/api/v1/domains",
        "/api/v1/domains/{namespace}/{domain}/models",
        "/api/v1/domains/{namespace}/{domain}/models/{id}",
    ] {
        assert!(
            paths.contains_key(p),
            "{p} missing from the OpenAPI document"
        );
    }
    listener.stop().await;
    engine.shutdown().await;
}

#[tokio::test]
async fn models_through_keys_of_their_domain_and_the_administrator() {
    let (engine, listener, api) = setup().await;
    let token = login(&api).await;
    let a = engine.domain("t", "a").unwrap();
    let writer = a.create_api_key("sync", false).await.unwrap().token;
    let reader = a.create_api_key("dash", true).await.unwrap().token;
    let other = engine
        .domain("t", "b")
        .unwrap()
        .create_api_key("b", false)
        .await
        .unwrap()
        .token;
    let models = "/api/v1/domains/t/a/models";

    let made = api
        .call(
            "POST",
            models,
            Some(&writer),
            Some(r#"{"collection":"notes","id":"n1","data":{"t":"a\ud800b","n":[1,2]}}"#),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.text);
    assert_eq!(made.body["version"], 1);
    // The lone surrogate comes back exactly as it was stored, escaped.
    assert!(made.text.contains(r#""t":"a\ud800b""#), "{}", made.text);
    let dup = api
        .call(
            "POST",
            models,
            Some(&token),
            Some(r#"{"collection":"notes","id":"n1","data":{}}"#),
        )
        .await;
    refused(&dup, 409, "already_exists");
    refused(
        &api.call(
            "POST",
            models,
            Some(&reader),
            Some(r#"{"collection":"notes","data":{}}"#),
        )
        .await,
        403,
        "permission_denied",
    );
    refused(
        &api.call(
            "POST",
            models,
            Some(&writer),
            Some(r#"{"collection":"notes","data":[1]}"#),
        )
        .await,
        400,
        "invalid_argument",
    );
    refused(
        &api.call(
            "POST",
            models,
            Some(&writer),
            Some(r#"{"collection":"notes","data":{},"extra":true}"#),
        )
        .await,
        400,
        "invalid_argument",
    );
    let generated = api
        .call(
            "POST",
            models,
            Some(&token),
            Some(r#"{"collection":"other","data":{"x":1}}"#),
        )
        .await;
    assert_eq!(generated.status, 201, "{}", generated.text);
    let generated_id = generated.body["id"].as_str().unwrap().to_string();

    // Another domain's key, an unknown domain and no key at all.
    refused(&api.get(models, Some(&other)).await, 401, "unauthenticated");
    let nowhere = api.get("/api/v1/domains/t/nope/models", Some(&other)).await;
    refused(&nowhere, 401, "unauthenticated");
    assert_eq!(
        nowhere.body["error"]["message"],
        api.get(models, Some(&other)).await.body["error"]["message"],
        "a key learns nothing about domains it does not reach"
    );
    refused(&api.get(models, None).await, 401, "unauthenticated");
    refused(
        &api.get("/api/v1/domains/t/nope/models", Some(&token)).await,
        404,
        "not_found",
    );

    let listed = api.get(models, Some(&reader)).await;
    assert_eq!(listed.body["total"], 2, "{}", listed.text);
    let notes = api
        .get(&format!("{models}?collection=notes"), Some(&reader))
        .await;
    assert_eq!(notes.body["items"][0]["id"], "n1");
    assert_eq!(notes.body["total"], 1);

    a.model("n1")
        .unwrap()
        .apply(vec![tandem::api::Change::Set {
            path: vec![tandem::api::PathSegment::Key("n".into())],
            value: json!("changed").into(),
        }])
        .await
        .unwrap();
    let now = api.get(&format!("{models}/n1"), Some(&reader)).await;
    assert_eq!(
        (now.body["version"].clone(), now.body["data"]["n"].clone()),
        (json!(2), json!("changed"))
    );
    let then = api
        .get(&format!("{models}/n1?version=1"), Some(&reader))
        .await;
    assert_eq!(then.body["data"]["n"], json!([1, 2]));
    for v in ["0", "3"] {
        let a = api
            .get(&format!("{models}/n1?version={v}"), Some(&reader))
            .await;
        assert!(
            a.status == 400 || a.status == 404,
            "version {v}: {}",
            a.text
        );
        assert!(a.body["error"]["code"].is_string());
    }
    refused(
        &api.get(&format!("{models}/missing"), Some(&reader)).await,
        404,
        "not_found",
    );

    refused(
        &api.call("DELETE", &format!("{models}/n1"), Some(&reader), None)
            .await,
        403,
        "permission_denied",
    );
    assert_eq!(
        api.call("DELETE", &format!("{models}/n1"), Some(&writer), None)
            .await
            .status,
        204
    );
    refused(
        &api.get(&format!("{models}/n1"), Some(&token)).await,
        404,
        "not_found",
    );
    assert_eq!(
        api.call(
            "DELETE",
            &format!("{models}/{generated_id}"),
            Some(&token),
            None
        )
        .await
        .status,
        204
    );
    refused(
        &api.call("DELETE", &format!("{models}/n1"), Some(&token), None)
            .await,
        404,
        "not_found",
    );
    listener.stop().await;
    engine.shutdown().await;
}

#[tokio::test]
async fn replace_history_version_query_and_settings() {
    let (engine, listener, api) = setup().await;
    let token = login(&api).await;
    let a = engine.domain("t", "a").unwrap();
    let reader = a.create_api_key("dash", true).await.unwrap().token;
    let writer = a.create_api_key("sync", false).await.unwrap().token;
    a.create_model("notes", Some("n"), &json!({"title": "draft", "n": 1}))
        .await
        .unwrap();
    let base = "/api/v1/domains/t/a/models/n";

    refused(
        &api.call("PUT", &format!("{base}/data"), Some(&reader), Some("{}"))
            .await,
        403,
        "permission_denied",
    );
    refused(
        &api.call("PUT", &format!("{base}/data"), Some(&writer), Some("[1]"))
            .await,
        400,
        "invalid_argument",
    );
    refused(
        &api.call("PUT", &format!("{base}/data"), Some(&writer), Some("{"))
            .await,
        400,
        "invalid_argument",
    );
    refused(
        &api.call(
            "PUT",
            "/api/v1/domains/t/a/models/none/data",
            Some(&writer),
            Some("{}"),
        )
        .await,
        404,
        "not_found",
    );
    let replaced = api
        .call(
            "PUT",
            &format!("{base}/data"),
            Some(&writer),
            Some(r#"{"title":"final","tags":["x"]}"#),
        )
        .await;
    assert_eq!(replaced.status, 200, "{}", replaced.text);
    assert_eq!(replaced.body["version"], 2);
    assert_eq!(
        replaced.body["data"],
        json!({"title": "final", "tags": ["x"]})
    );

    // The replacement is an operation in the history, and the old data is still readable.
    let history = api.get(&format!("{base}/history"), Some(&reader)).await;
    assert_eq!(history.status, 200, "{}", history.text);
    let ops = history.body.as_array().expect("a list");
    assert_eq!(ops.len(), 1, "{}", history.text);
    assert_eq!(ops[0]["version"], 2);
    let empty = api
        .get(&format!("{base}/history?first=5"), Some(&reader))
        .await;
    assert_eq!(empty.body, json!([]));
    // A range past the current version ends at it.
    let clamped = api
        .get(&format!("{base}/history?first=1&last=5000"), Some(&reader))
        .await;
    assert_eq!(
        clamped.body.as_array().map(Vec::len),
        Some(1),
        "{}",
        clamped.text
    );
    refused(
        &api.get(&format!("{base}/history?first=x"), Some(&reader))
            .await,
        400,
        "invalid_argument",
    );
    let old = api.get(&format!("{base}?version=1"), Some(&reader)).await;
    assert_eq!(old.body["data"], json!({"title": "draft", "n": 1}));

    let created = old.body["created_ms"].as_i64().unwrap();
    let v = api
        .get(
            &format!("{base}/version?time_ms={}", created),
            Some(&reader),
        )
        .await;
    assert_eq!(v.body["version"], 1, "{}", v.text);
    let before = api
        .get(
            &format!("{base}/version?time_ms={}", created - 1000),
            Some(&reader),
        )
        .await;
    assert!(
        before.status >= 400 && before.status < 500,
        "{}",
        before.text
    );
    refused(
        &api.get(&format!("{base}/version"), Some(&reader)).await,
        400,
        "invalid_argument",
    );

    let q = api
        .call(
            "POST",
            "/api/v1/domains/t/a/query",
            Some(&reader),
            Some(r#"{"query":"SELECT * FROM notes WHERE title = 'final'"}"#),
        )
        .await;
    assert_eq!(q.status, 200, "{}", q.text);
    assert_eq!(q.body["total"], 1);
    assert_eq!(q.body["models"][0]["id"], "n");
    let bad = api
        .call(
            "POST",
            "/api/v1/domains/t/a/query",
            Some(&reader),
            Some(r#"{"query":"SELECT FROM"}"#),
        )
        .await;
    refused(&bad, 400, "invalid_argument");

    // Settings: administrators only.
    let settings = "/api/v1/domains/t/a/settings";
    refused(
        &api.get(settings, Some(&writer)).await,
        403,
        "permission_denied",
    );
    let mut s = api.get(settings, Some(&token)).await.body;
    assert_eq!(s["anonymous_auth"], false);
    s["anonymous_auth"] = json!(true);
    let put = api
        .call("PUT", settings, Some(&token), Some(&s.to_string()))
        .await;
    assert_eq!(put.status, 200, "{}", put.text);
    assert_eq!(put.body["anonymous_auth"], true);
    assert!(
        engine
            .domain("t", "a")
            .unwrap()
            .settings()
            .unwrap()
            .anonymous_auth
    );
    refused(
        &api.call("PUT", settings, Some(&token), Some(r#"{"nope":1}"#))
            .await,
        400,
        "invalid_argument",
    );
    listener.stop().await;
    engine.shutdown().await;
}

#[tokio::test]
async fn domains_collections_and_users() {
    let (engine, listener, api) = setup().await;
    let token = login(&api).await;
    let key = engine
        .domain("t", "a")
        .unwrap()
        .create_api_key("k", false)
        .await
        .unwrap()
        .token;
    let ro = engine
        .domain("t", "a")
        .unwrap()
        .create_api_key("r", true)
        .await
        .unwrap()
        .token;

    // Domains: administrators only.
    refused(
        &api.call(
            "POST",
            "/api/v1/domains",
            Some(&key),
            Some(r#"{"namespace":"t","id":"c"}"#),
        )
        .await,
        403,
        "permission_denied",
    );
    let made = api
        .call(
            "POST",
            "/api/v1/domains",
            Some(&token),
            Some(r#"{"namespace":"t","id":"c"}"#),
        )
        .await;
    assert_eq!(
        (made.status, made.body.clone()),
        (201, json!({"namespace": "t", "id": "c"}))
    );
    refused(
        &api.call(
            "POST",
            "/api/v1/domains",
            Some(&token),
            Some(r#"{"namespace":"t","id":"c"}"#),
        )
        .await,
        409,
        "already_exists",
    );
    refused(
        &api.call(
            "POST",
            "/api/v1/domains",
            Some(&token),
            Some(r#"{"namespace":"t"}"#),
        )
        .await,
        400,
        "invalid_argument",
    );
    refused(
        &api.call("DELETE", "/api/v1/domains/t/c", Some(&key), None)
            .await,
        403,
        "permission_denied",
    );
    assert_eq!(
        api.call("DELETE", "/api/v1/domains/t/c", Some(&token), None)
            .await
            .status,
        204
    );
    refused(
        &api.call("DELETE", "/api/v1/domains/t/c", Some(&token), None)
            .await,
        404,
        "not_found",
    );

    // Collections of the key's own domain.
    let cols = "/api/v1/domains/t/a/collections";
    assert_eq!(
        api.call("PUT", &format!("{cols}/notes"), Some(&key), None)
            .await
            .status,
        204
    );
    assert_eq!(
        api.call("PUT", &format!("{cols}/notes"), Some(&key), None)
            .await
            .status,
        204,
        "idempotent"
    );
    assert_eq!(
        api.call("PUT", &format!("{cols}/zeta"), Some(&token), None)
            .await
            .status,
        204
    );
    refused(
        &api.call("PUT", &format!("{cols}/x"), Some(&ro), None).await,
        403,
        "permission_denied",
    );
    let listed = api.get(&format!("{cols}?limit=1"), Some(&ro)).await;
    assert_eq!(
        (listed.body["items"].clone(), listed.body["total"].clone()),
        (json!(["notes"]), json!(2))
    );
    assert_eq!(
        api.call("DELETE", &format!("{cols}/zeta"), Some(&key), None)
            .await
            .status,
        204
    );
    refused(
        &api.call("DELETE", &format!("{cols}/zeta"), Some(&key), None)
            .await,
        404,
        "not_found",
    );
    refused(
        &api.get("/api/v1/domains/t/b/collections", Some(&key)).await,
        401,
        "unauthenticated",
    );

    // Users.
    let users = "/api/v1/domains/t/a/users";
    let u = api
        .call(
            "POST",
            users,
            Some(&key),
            Some(r#"{"username":"carol","display_name":"Carol","password":"pw"}"#),
        )
        .await;
    assert_eq!(u.status, 201, "{}", u.text);
    assert_eq!(
        (u.body["username"].clone(), u.body["has_password"].clone()),
        (json!("carol"), json!(true))
    );
    assert!(
        !u.text.contains("argon2") && !u.text.contains("\"pw\""),
        "{}",
        u.text
    );
    refused(
        &api.call("POST", users, Some(&key), Some(r#"{"username":"carol"}"#))
            .await,
        409,
        "already_exists",
    );
    refused(
        &api.call(
            "POST",
            users,
            Some(&key),
            Some(r#"{"username":"dave","role":"x"}"#),
        )
        .await,
        400,
        "invalid_argument",
    );
    refused(
        &api.call("POST", users, Some(&ro), Some(r#"{"username":"erin"}"#))
            .await,
        403,
        "permission_denied",
    );
    let listed = api.get(users, Some(&ro)).await;
    assert_eq!(listed.body["total"], 1);
    assert_eq!(listed.body["items"][0]["display_name"], "Carol");
    assert_eq!(
        api.call("DELETE", &format!("{users}/carol"), Some(&key), None)
            .await
            .status,
        204
    );
    refused(
        &api.call("DELETE", &format!("{users}/carol"), Some(&key), None)
            .await,
        404,
        "not_found",
    );
    listener.stop().await;
    engine.shutdown().await;
}

#[tokio::test]
async fn jwt_keys_for_administrators_only() {
    let (engine, listener, api) = setup().await;
    let token = login(&api).await;
    let key = engine
        .domain("t", "a")
        .unwrap()
        .create_api_key("k", false)
        .await
        .unwrap()
        .token;
    let keys = "/api/v1/domains/t/a/jwt-keys";
    let pem = include_str!("fixtures/jwt/a-public.pem");
    let body = json!({"id": "k1", "public_key_pem": pem, "enabled": true}).to_string();
    refused(
        &api.call("POST", keys, Some(&key), Some(&body)).await,
        403,
        "permission_denied",
    );
    refused(&api.get(keys, Some(&key)).await, 403, "permission_denied");
    let added = api.call("POST", keys, Some(&token), Some(&body)).await;
    assert_eq!(added.status, 201, "{}", added.text);
    assert_eq!(
        (added.body["id"].clone(), added.body["enabled"].clone()),
        (json!("k1"), json!(true))
    );
    refused(
        &api.call("POST", keys, Some(&token), Some(&body)).await,
        409,
        "already_exists",
    );
    let bad = json!({"id": "k2", "public_key_pem": "not a key"}).to_string();
    refused(
        &api.call("POST", keys, Some(&token), Some(&bad)).await,
        400,
        "invalid_argument",
    );
    let listed = api.get(keys, Some(&token)).await;
    assert_eq!(listed.body["total"], 1, "{}", listed.text);
    assert_eq!(listed.body["items"][0]["id"], "k1");
    let none = api
        .get(&format!("{keys}?filter=zz&limit=5"), Some(&token))
        .await;
    assert_eq!(none.body, json!({"items": [], "offset": 0, "total": 0}));
    assert_eq!(
        api.call("DELETE", &format!("{keys}/k1"), Some(&token), None)
            .await
            .status,
        204
    );
    refused(
        &api.call("DELETE", &format!("{keys}/k1"), Some(&token), None)
            .await,
        404,
        "not_found",
    );
    listener.stop().await;
    engine.shutdown().await;
}

#[tokio::test]
async fn model_and_collection_permissions() {
    let (engine, listener, api) = setup().await;
    let a = engine.domain("t", "a").unwrap();
    let key = a.create_api_key("k", false).await.unwrap().token;
    let ro = a.create_api_key("r", true).await.unwrap().token;
    a.create_model("notes", Some("m"), &json!({"x": 1}))
        .await
        .unwrap();
    let perms = "/api/v1/domains/t/a/models/m/permissions";

    let before = api.get(perms, Some(&ro)).await;
    assert_eq!(before.status, 200, "{}", before.text);
    assert_eq!(before.body["override_world"], false);
    refused(
        &api.call(
            "PATCH",
            perms,
            Some(&ro),
            Some(r#"{"override_world":true}"#),
        )
        .await,
        403,
        "permission_denied",
    );
    let changed = api
        .call(
            "PATCH",
            perms,
            Some(&key),
            Some(r#"{"override_world":true,"world":{"read":true}}"#),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(changed.body["override_world"], true);
    assert_eq!(changed.body["world"]["read"], true);
    assert_eq!(changed.body["world"]["write"], false);
    assert!(a.model("m").unwrap().permissions().unwrap().override_world);
    refused(
        &api.call("PATCH", perms, Some(&key), Some(r#"{"overide":true}"#))
            .await,
        400,
        "invalid_argument",
    );
    refused(
        &api.get("/api/v1/domains/t/a/models/none/permissions", Some(&key))
            .await,
        404,
        "not_found",
    );

    let cperms = "/api/v1/domains/t/a/collections/notes/permissions";
    assert_eq!(api.get(cperms, Some(&ro)).await.status, 200);
    let world = api
        .call(
            "PUT",
            &format!("{cperms}/world"),
            Some(&key),
            Some(r#"{"read":true,"create":true}"#),
        )
        .await;
    assert_eq!(world.status, 200, "{}", world.text);
    assert_eq!(
        (
            world.body["world"]["read"].clone(),
            world.body["world"]["create"].clone(),
            world.body["world"]["write"].clone()
        ),
        (json!(true), json!(true), json!(false))
    );
    refused(
        &api.get(
            "/api/v1/domains/t/a/collections/none/permissions",
            Some(&key),
        )
        .await,
        404,
        "not_found",
    );
    listener.stop().await;
    engine.shutdown().await;
}

#[tokio::test]
async fn groups_and_members() {
    let (engine, listener, api) = setup().await;
    let a = engine.domain("t", "a").unwrap();
    let key = a.create_api_key("k", false).await.unwrap().token;
    let ro = a.create_api_key("r", true).await.unwrap().token;
    for name in ["alice", "bob"] {
        a.create_user(tandem::api::NewUser {
            username: name.into(),
            ..tandem::api::NewUser::default()
        })
        .await
        .unwrap();
    }
    let groups = "/api/v1/domains/t/a/groups";
    refused(
        &api.call(
            "POST",
            groups,
            Some(&key),
            Some(r#"{"id":"eds","members":["alice","nobody"]}"#),
        )
        .await,
        404,
        "not_found",
    );
    assert!(
        a.groups().unwrap().is_empty(),
        "an unknown member creates nothing"
    );
    let made = api
        .call(
            "POST",
            groups,
            Some(&key),
            Some(r#"{"id":"eds","description":"Editors","members":["alice"]}"#),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.text);
    assert_eq!(
        made.body,
        json!({"id": "eds", "description": "Editors", "members": ["alice"]})
    );
    refused(
        &api.call("POST", groups, Some(&key), Some(r#"{"id":"eds"}"#))
            .await,
        409,
        "already_exists",
    );
    refused(
        &api.call("POST", groups, Some(&ro), Some(r#"{"id":"x"}"#))
            .await,
        403,
        "permission_denied",
    );
    assert_eq!(
        api.call(
            "PUT",
            &format!("{groups}/eds/members/bob"),
            Some(&key),
            None
        )
        .await
        .status,
        204
    );
    refused(
        &api.call(
            "PUT",
            &format!("{groups}/eds/members/nobody"),
            Some(&key),
            None,
        )
        .await,
        404,
        "not_found",
    );
    let listed = api.get(groups, Some(&ro)).await;
    assert_eq!(listed.body["items"][0]["members"], json!(["alice", "bob"]));
    assert_eq!(
        api.call(
            "DELETE",
            &format!("{groups}/eds/members/alice"),
            Some(&key),
            None
        )
        .await
        .status,
        204
    );
    assert_eq!(
        a.group("eds").unwrap().members,
        [tandem::api::UserId::normal("bob")]
    );
    assert_eq!(
        api.call("DELETE", &format!("{groups}/eds"), Some(&key), None)
            .await
            .status,
        204
    );
    refused(
        &api.call("DELETE", &format!("{groups}/eds"), Some(&key), None)
            .await,
        404,
        "not_found",
    );
    listener.stop().await;
    engine.shutdown().await;
}
