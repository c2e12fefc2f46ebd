//! Size and nesting limits of a model: checked on create, on every operation (a refused one
//! leaves the model as it was) and on host-side changes, and the running weight always equals
//! the weight of the whole tree.

use serde_json::json;
use tandem::api::{path, Change, Engine, EngineConfig, ErrorCode};
use tandem::ot::{
    weight, ApplyError, Data, DiscreteOp, DocLimits, Document, OpKind, Operation, Value,
};

fn v(id: &str, data: Data) -> Value {
    Value::new(id, data)
}

fn root() -> Value {
    v(
        "r",
        Data::Object(
            [
                ("text".into(), v("t", Data::String("hello".into()))),
                ("list".into(), v("l", Data::Array(vec![]))),
            ]
            .into_iter()
            .collect(),
        ),
    )
}

/// A chain of `n` nested arrays with ids `{prefix}0..`.
fn nested(prefix: &str, n: usize) -> Value {
    let mut value = v(&format!("{prefix}{n}"), Data::Null);
    for i in (0..n).rev() {
        value = v(&format!("{prefix}{i}"), Data::Array(vec![value]));
    }
    value
}

fn op(id: &str, kind: OpKind) -> Operation {
    Operation::Discrete(DiscreteOp::new(id, kind))
}

#[test]
fn an_operation_past_the_depth_limit_is_refused_and_changes_nothing() {
    let mut doc = Document::new(root()).expect("doc");
    doc.set_limits(DocLimits {
        max_depth: 6,
        max_bytes: 1 << 20,
    });
    let before = doc.to_value();
    // The list is at depth 2: a chain of 4 arrays + a leaf reaches depth 7.
    let err = doc
        .apply(op(
            "l",
            OpKind::ArrayInsert {
                index: 0,
                value: nested("a", 4),
            },
        ))
        .expect_err("too deep");
    assert_eq!(err, ApplyError::TooDeep { depth: 7, max: 6 });
    assert_eq!(doc.to_value(), before);
    // One level less fits, and so does a leaf inside its innermost array.
    doc.apply(op(
        "l",
        OpKind::ArrayInsert {
            index: 0,
            value: nested("b", 3),
        },
    ))
    .expect("depth 6 fits");
    assert!(doc
        .apply(op(
            "b3",
            OpKind::ArraySet {
                values: vec![v("x", Data::Null)]
            }
        ))
        .is_err());
}

#[test]
fn an_operation_past_the_size_limit_is_refused_and_a_compound_is_undone_whole() {
    let mut doc = Document::new(root()).expect("doc");
    let start = doc.weight();
    assert_eq!(start, weight(&doc.to_value()));
    doc.set_limits(DocLimits {
        max_depth: 100,
        max_bytes: start + 60,
    });
    let before = doc.to_value();
    let big = Operation::Compound(vec![
        DiscreteOp::new(
            "t",
            OpKind::StringSplice {
                index: 0,
                delete_count: 0,
                insert: "x".repeat(20).as_str().into(),
            },
        ),
        DiscreteOp::new(
            "t",
            OpKind::StringSplice {
                index: 0,
                delete_count: 0,
                insert: "y".repeat(20).as_str().into(),
            },
        ),
    ]);
    assert!(matches!(doc.apply(big), Err(ApplyError::TooLarge { .. })));
    assert_eq!(doc.to_value(), before);
    assert_eq!(doc.weight(), start);
    // Shrinking is always allowed, also for a document over a lowered limit.
    doc.set_limits(DocLimits {
        max_depth: 100,
        max_bytes: 1,
    });
    doc.apply(op(
        "t",
        OpKind::StringSplice {
            index: 0,
            delete_count: 5,
            insert: "".into(),
        },
    ))
    .expect("removing text");
    assert_eq!(doc.weight(), start - 10);
}

#[test]
fn the_running_weight_follows_every_kind_of_change() {
    let mut doc = Document::new(root()).expect("doc");
    let steps = vec![
        op(
            "t",
            OpKind::StringSplice {
                index: 2,
                delete_count: 2,
                insert: "😀😀😀".into(),
            },
        ),
        op(
            "t",
            OpKind::StringSet {
                value: "abc".into(),
            },
        ),
        op(
            "l",
            OpKind::ArrayInsert {
                index: 0,
                value: nested("n", 3),
            },
        ),
        op(
            "r",
            OpKind::ObjectAddProperty {
                key: "longer key".into(),
                value: v("k", Data::String("value".into())),
            },
        ),
        op(
            "r",
            OpKind::ObjectSetProperty {
                key: "longer key".into(),
                value: v("k2", Data::Number(1.0)),
            },
        ),
        op("l", OpKind::ArrayRemove { index: 0 }),
        op(
            "r",
            OpKind::ObjectRemoveProperty {
                key: "longer key".into(),
            },
        ),
        op(
            "r",
            OpKind::ObjectSet {
                values: [("only".into(), v("o", Data::String("x".into())))]
                    .into_iter()
                    .collect(),
            },
        ),
    ];
    for (i, step) in steps.into_iter().enumerate() {
        doc.apply(step).expect("apply");
        assert_eq!(doc.weight(), weight(&doc.to_value()), "after step {i}");
    }
}

#[tokio::test]
async fn creates_and_host_changes_are_checked_against_the_configured_limits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = EngineConfig::with_data_dir(dir.path());
    config.models.max_depth = 4;
    config.models.max_document_bytes = 2000;
    let engine = Engine::open(config).expect("engine");
    let domain = engine.create_domain("ns", "d").await.expect("domain");
    let deep = json!({"a": {"b": {"c": {"d": 1}}}});
    let e = match domain.create_model("c", Some("deep"), &deep).await {
        Ok(_) => panic!("a model 5 levels deep was created"),
        Err(e) => e,
    };
    assert_eq!(e.code, ErrorCode::InvalidOperation, "{}", e.message);
    assert!(e.message.contains("at most 4"), "{}", e.message);
    let model = domain
        .create_model("c", Some("m"), &json!({"a": {"b": "x"}, "text": ""}))
        .await
        .expect("3 levels fit");
    let e = match model
        .apply(vec![Change::Set {
            path: path(&["a", "b"]),
            value: json!({"c": {"d": 1}}).into(),
        }])
        .await
    {
        Ok(_) => panic!("a host change past the depth limit was applied"),
        Err(e) => e,
    };
    assert_eq!(e.code, ErrorCode::InvalidOperation, "{}", e.message);
    let e = match model
        .apply(vec![Change::Splice {
            path: path(&["text"]),
            index: 0,
            delete: 0,
            insert: "z".repeat(2000).as_str().into(),
        }])
        .await
    {
        Ok(_) => panic!("a host change past the size limit was applied"),
        Err(e) => e,
    };
    assert!(e.message.contains("at most 2000"), "{}", e.message);
    model
        .apply(vec![Change::Splice {
            path: path(&["text"]),
            index: 0,
            delete: 0,
            insert: "small".into(),
        }])
        .await
        .expect("a small change");
    assert_eq!(
        model.json().await.expect("json"),
        json!({"a": {"b": "x"}, "text": "small"})
    );
    engine.shutdown().await;
}
