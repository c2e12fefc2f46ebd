//! Model queries through the facade, on the memory and the LMDB store: conditions served from
//! the index and rechecked against the data, ordering, paging with the total, projections and
//! meta fields, the index following edits, permission filtering by the read flag, malformed
//! queries, and queries racing with edits.

use serde_json::{json, Value as Json};
use tandem::api::{
    change_from_json, CollectionRights, Domain, Engine, EngineConfig, ErrorCode,
    ModelPermissionsChange, ModelRights, NewUser, QueryPage, UserId,
};

async fn engines() -> Vec<(Engine, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().expect("dir");
    vec![
        (
            Engine::open(EngineConfig::default()).expect("memory engine"),
            None,
        ),
        (
            Engine::open(EngineConfig::with_data_dir(dir.path())).expect("lmdb engine"),
            Some(dir),
        ),
    ]
}

const NOTES: [(&str, &str); 6] = [
    (
        "n1",
        r#"{"owner": "bob", "title": "Groceries", "stars": 3, "tags": ["home", "food"], "done": false}"#,
    ),
    (
        "n2",
        r#"{"owner": "alice", "title": "Taxes", "stars": 5, "tags": ["money"], "done": true}"#,
    ),
    (
        "n3",
        r#"{"owner": "bob", "title": "Garden", "stars": 1, "tags": [], "done": true, "extra": {"depth": 2}}"#,
    ),
    (
        "n4",
        r#"{"owner": "carol", "title": "Trip", "stars": 4.5, "tags": ["travel", "home"]}"#,
    ),
    (
        "n5",
        r#"{"owner": "bob", "title": "Books", "stars": 5, "done": false}"#,
    ),
    ("n6", r#"{"owner": null, "title": "Orphan", "stars": -2}"#),
];

async fn setup(engine: &Engine) -> Domain {
    let d = engine.create_domain("p", "d").await.expect("domain");
    d.create_collection("notes").await.expect("collection");
    d.create_collection("other").await.expect("collection");
    for (id, data) in NOTES {
        let data: Json = serde_json::from_str(data).expect("json");
        d.create_model("notes", Some(id), &data)
            .await
            .expect("model");
    }
    d.create_model("other", Some("o1"), &json!({"owner": "bob", "stars": 5}))
        .await
        .expect("model");
    d
}

fn ids(page: &QueryPage) -> Vec<&str> {
    page.models.iter().map(|m| m.id.as_str()).collect()
}

fn q(d: &Domain, text: &str) -> QueryPage {
    d.query(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[tokio::test]
async fn conditions_orders_pages_and_projections() {
    for (engine, _dir) in engines().await {
        let d = setup(&engine).await;
        let cases: &[(&str, &[&str])] = &[
            (
                "SELECT * FROM notes WHERE owner = 'bob'",
                &["n1", "n3", "n5"],
            ),
            (
                "SELECT * FROM notes WHERE owner = 'bob' AND stars >= 3",
                &["n1", "n5"],
            ),
            (
                "SELECT * FROM notes WHERE stars > 4 ORDER BY stars DESC, @id",
                &["n2", "n5", "n4"],
            ),
            ("SELECT * FROM notes WHERE stars < 0", &["n6"]),
            ("SELECT * FROM notes WHERE tags[0] = 'home'", &["n1"]),
            ("SELECT * FROM notes WHERE tags[1] = 'home'", &["n4"]),
            ("SELECT * FROM notes WHERE done = true", &["n2", "n3"]),
            ("SELECT * FROM notes WHERE owner = null", &["n6"]),
            (
                "SELECT * FROM notes WHERE owner IN ('alice', 'carol')",
                &["n2", "n4"],
            ),
            ("SELECT * FROM notes WHERE title LIKE 'G%'", &["n1", "n3"]),
            (
                "SELECT * FROM notes WHERE NOT done = true ORDER BY @id",
                &["n1", "n4", "n5", "n6"],
            ),
            (
                "SELECT * FROM notes WHERE owner = 'bob' OR stars = 4.5",
                &["n1", "n3", "n4", "n5"],
            ),
            ("SELECT * FROM notes WHERE extra.depth = 2", &["n3"]),
            ("SELECT * FROM notes WHERE @id = 'n4'", &["n4"]),
            ("SELECT * FROM notes WHERE stars * 2 = 10", &["n2", "n5"]),
            ("SELECT * FROM notes WHERE owner = 'nobody'", &[]),
            ("SELECT * FROM nothing", &[]),
            (
                "SELECT * FROM notes ORDER BY title",
                &["n5", "n3", "n1", "n6", "n2", "n4"],
            ),
        ];
        for (text, expected) in cases {
            let page = q(&d, text);
            assert_eq!(ids(&page), *expected, "{text}");
            assert_eq!(page.total as usize, expected.len(), "{text}");
        }

        let page = q(
            &d,
            "SELECT * FROM notes ORDER BY stars DESC, @id LIMIT 2 OFFSET 1",
        );
        assert_eq!(ids(&page), ["n5", "n4"]);
        assert_eq!((page.offset, page.total), (1, 6));
        let page = q(&d, "SELECT * FROM notes ORDER BY @id OFFSET 10");
        assert!(page.models.is_empty());
        assert_eq!(page.total, 6);

        let page = q(
            &d,
            "SELECT title AS name, tags[0], @version FROM notes WHERE owner = 'alice'",
        );
        assert_eq!(
            page.models[0].data,
            json!({"name": "Taxes", "tags[0]": "money", "@version": 1})
        );
        assert_eq!(page.models[0].collection, "notes");
        assert_eq!(page.models[0].version, 1);
        let page = q(&d, "SELECT * FROM notes WHERE @id = 'n6'");
        assert_eq!(
            page.models[0].data,
            json!({"owner": null, "title": "Orphan", "stars": -2})
        );
    }
}

#[tokio::test]
async fn the_index_follows_edits_and_deletions() {
    for (engine, _dir) in engines().await {
        let d = setup(&engine).await;
        let n1 = d.model("n1").expect("n1");
        let set = |path: Json, value: Json| {
            change_from_json(&json!({"op": "set", "path": path, "value": value})).expect("change")
        };
        n1.apply(vec![set(json!(["owner"]), json!("dave"))])
            .await
            .expect("edit");
        assert_eq!(
            ids(&q(&d, "SELECT * FROM notes WHERE owner = 'bob'")),
            ["n3", "n5"]
        );
        let page = q(&d, "SELECT * FROM notes WHERE owner = 'dave'");
        assert_eq!(ids(&page), ["n1"]);
        assert_eq!(page.models[0].version, 2);
        n1.apply(vec![change_from_json(
            &json!({"op": "insert", "path": ["tags"], "index": 0, "value": "new"}),
        )
        .expect("change")])
            .await
            .expect("insert");
        assert_eq!(
            ids(&q(&d, "SELECT * FROM notes WHERE tags[0] = 'new'")),
            ["n1"]
        );
        assert_eq!(
            ids(&q(&d, "SELECT * FROM notes WHERE tags[0] = 'home'")),
            Vec::<&str>::new()
        );
        assert_eq!(
            ids(&q(&d, "SELECT * FROM notes WHERE tags[1] = 'home'")),
            ["n1", "n4"]
        );
        n1.apply(vec![set(json!([]), json!({"stars": 9}))])
            .await
            .expect("replace");
        assert_eq!(ids(&q(&d, "SELECT * FROM notes WHERE stars = 9")), ["n1"]);
        assert_eq!(
            ids(&q(&d, "SELECT * FROM notes WHERE owner = 'dave'")),
            Vec::<&str>::new()
        );
        d.model("n5").expect("n5").delete().await.expect("delete");
        assert_eq!(
            ids(&q(&d, "SELECT * FROM notes WHERE owner = 'bob'")),
            ["n3"]
        );
        // A long text edited past its indexed prefix is still found by its full value.
        let long = "x".repeat(100);
        d.create_model("notes", Some("long"), &json!({"text": long}))
            .await
            .expect("model");
        let m = d.model("long").expect("long");
        m.apply(vec![change_from_json(
            &json!({"op": "splice", "path": ["text"], "index": 90, "delete": 1, "insert": "y"}),
        )
        .expect("change")])
            .await
            .expect("splice");
        let edited = format!("{}y{}", "x".repeat(90), "x".repeat(9));
        assert_eq!(
            ids(&q(
                &d,
                &format!("SELECT * FROM notes WHERE text = '{edited}'")
            )),
            ["long"]
        );
        assert_eq!(
            ids(&q(
                &d,
                &format!("SELECT * FROM notes WHERE text = '{long}'")
            )),
            Vec::<&str>::new()
        );
    }
}

#[tokio::test]
async fn a_user_sees_only_what_it_may_read() {
    for (engine, _dir) in engines().await {
        let d = setup(&engine).await;
        for name in ["alice", "bob"] {
            d.create_user(NewUser {
                username: name.into(),
                password: Some("pw".into()),
                ..NewUser::default()
            })
            .await
            .expect("user");
        }
        d.set_collection_world("notes", CollectionRights::default())
            .await
            .expect("world");
        let read = ModelRights {
            read: true,
            write: false,
            remove: false,
            manage: false,
        };
        let none = ModelRights {
            read: false,
            write: false,
            remove: false,
            manage: false,
        };
        let grant = |user: &str, rights: ModelRights| ModelPermissionsChange {
            set_users: vec![(UserId::normal(user), rights)],
            ..ModelPermissionsChange::default()
        };
        d.model("n1")
            .unwrap()
            .set_permissions(grant("bob", read))
            .await
            .expect("grant");
        // An entry without read: the original counted any entry as readable.
        d.model("n3")
            .unwrap()
            .set_permissions(grant("bob", none))
            .await
            .expect("entry");
        d.model("n2")
            .unwrap()
            .set_permissions(grant("alice", read))
            .await
            .expect("grant");
        let bob = UserId::normal("bob");
        let page = d
            .query_as(&bob, "SELECT * FROM notes WHERE owner = 'bob'")
            .expect("query");
        assert_eq!(ids(&page), ["n1"]);
        assert_eq!(page.total, 1);
        let page = d
            .query_as(&bob, "SELECT * FROM notes ORDER BY @id")
            .expect("query");
        assert_eq!(ids(&page), ["n1"]);
        let page = d
            .query_as(&UserId::normal("alice"), "SELECT * FROM notes")
            .expect("query");
        assert_eq!(ids(&page), ["n2"]);
        // The host sees everything.
        assert_eq!(q(&d, "SELECT * FROM notes WHERE owner = 'bob'").total, 3);
    }
}

#[tokio::test]
async fn malformed_queries_fail_with_their_position() {
    let (engine, _) = engines().await.remove(0);
    let d = setup(&engine).await;
    for (text, index) in [
        ("SELECT * notes", 9),
        ("SELECT * FROM notes WHERE", 25),
        ("SELECT * FROM notes WHERE stars >", 33),
        ("SELECT * FROM notes LIMIT x", 26),
    ] {
        let e = d.query(text).expect_err(text);
        assert_eq!(e.code, ErrorCode::InvalidArgument, "{text}");
        assert!(
            e.message.contains(&index.to_string()),
            "{text}: {}",
            e.message
        );
    }
}

#[tokio::test]
async fn a_query_racing_with_edits_sees_each_model_at_one_version() {
    let (engine, _dir) = engines().await.remove(1);
    let d = engine.create_domain("p", "d").await.expect("domain");
    d.create_collection("c").await.expect("collection");
    for i in 0..20 {
        d.create_model("c", Some(&format!("m{i}")), &json!({"a": 0, "b": 0}))
            .await
            .expect("model");
    }
    let writer = {
        let d = d.clone();
        tokio::spawn(async move {
            for round in 1..=30 {
                for i in 0..20 {
                    let m = d.model(&format!("m{i}")).expect("model");
                    // a and b change together in one operation.
                    m.apply(vec![change_from_json(
                        &json!({"op": "set", "path": [], "value": {"a": round, "b": round}}),
                    )
                    .expect("change")])
                        .await
                        .expect("edit");
                }
            }
        })
    };
    let mut checked = 0;
    while !writer.is_finished() {
        let page = q(&d, "SELECT * FROM c WHERE a >= 0");
        for m in &page.models {
            assert_eq!(
                m.data["a"], m.data["b"],
                "{} mixes two versions: {}",
                m.id, m.data
            );
            assert_eq!(
                m.version as i64,
                1 + m.data["a"].as_i64().unwrap_or(-1),
                "{}",
                m.id
            );
        }
        assert_eq!(page.total, 20);
        checked += 1;
        tokio::task::yield_now().await;
    }
    writer.await.expect("writer");
    assert!(checked > 0);
    let page = q(&d, "SELECT * FROM c WHERE a = 30");
    assert_eq!(page.total, 20);
}

/// The plan that decides on index entries alone and the general one (forced by a condition
/// the index cannot decide, `@id != ''`, which every model meets) answer alike.
#[tokio::test]
async fn the_index_only_plan_answers_as_the_general_one() {
    for (engine, _dir) in engines().await {
        let d = setup(&engine).await;
        let long = "y".repeat(80);
        d.create_model(
            "notes",
            Some("n7"),
            &json!({"owner": long, "stars": 5, "title": "Long"}),
        )
        .await
        .expect("model");
        d.create_model(
            "notes",
            Some("n8"),
            &json!({"owner": format!("{long}z"), "stars": 3.0}),
        )
        .await
        .expect("model");
        for filter in [
            "stars >= 3",
            "stars > 3 AND stars <= 5",
            "stars = 5",
            "owner = 'bob' AND stars < 4",
            "owner IN ('alice', 'carol', 'nobody')",
            "title = 'Taxes' AND @id = 'n2'",
            "@id IN ('n1', 'n3', 'n9')",
            "done = false",
            "owner = null",
            "stars < 100 AND stars > -100",
        ] {
            for order in [
                "",
                " ORDER BY stars",
                " ORDER BY stars DESC",
                " ORDER BY @id DESC",
            ] {
                for page in ["", " LIMIT 2", " LIMIT 2 OFFSET 1", " OFFSET 3"] {
                    let fast = format!("SELECT * FROM notes WHERE {filter}{order}{page}");
                    let general =
                        format!("SELECT * FROM notes WHERE {filter} AND @id != ''{order}{page}");
                    let (a, b) = (q(&d, &fast), q(&d, &general));
                    assert_eq!(ids(&a), ids(&b), "{fast}");
                    assert_eq!((a.total, a.offset), (b.total, b.offset), "{fast}");
                    assert_eq!(a.models, b.models, "{fast}");
                }
            }
        }
        let long_query = format!("SELECT * FROM notes WHERE owner = '{long}z'");
        assert_eq!(ids(&q(&d, &long_query)), ["n8"]);
        let page = q(
            &d,
            "SELECT * FROM notes WHERE stars >= 3 ORDER BY stars DESC LIMIT 4",
        );
        assert_eq!(ids(&page), ["n2", "n5", "n7", "n4"]);
        assert_eq!(page.total, 6);
    }
}

#[tokio::test]
async fn a_query_over_its_budget_is_refused_and_a_narrow_one_is_answered() {
    let mut config = EngineConfig::default();
    config.models.query_max_models = 4;
    let engine = Engine::open(config).expect("engine");
    let d = setup(&engine).await;
    // Nothing narrows these: every one of the six notes would be examined.
    for text in [
        "SELECT * FROM notes",
        "SELECT * FROM notes WHERE title LIKE 'G%'",
        "SELECT * FROM notes WHERE stars > 0 OR owner = 'bob'",
    ] {
        let e = d.query(text).expect_err(text);
        assert_eq!(e.code, ErrorCode::InvalidArgument, "{text}");
        assert!(e.to_string().contains("more than 4 models"), "{text}: {e}");
    }
    // Narrowed by the index to three (general plan) or decided on it (index plan).
    assert_eq!(
        ids(&q(
            &d,
            "SELECT * FROM notes WHERE owner = 'bob' AND title LIKE 'G%'"
        )),
        ["n1", "n3"]
    );
    assert_eq!(
        ids(&q(
            &d,
            "SELECT * FROM notes WHERE owner = 'bob' ORDER BY @id"
        )),
        ["n1", "n3", "n5"]
    );
    // A selective condition over many matches is still refused when the matches are too many.
    let e = d
        .query("SELECT * FROM notes WHERE stars > -10")
        .expect_err("six matches");
    assert!(e.to_string().contains("more than 4 models"), "{e}");
}
