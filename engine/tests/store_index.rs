//! The query index in the stores: a model's entries are written with its creation and replaced
//! by `IndexModel` in the same batch as its operations; deleting a model, a collection or a
//! domain removes them; the memory and LMDB stores agree; LMDB keeps the index across a reopen,
//! recovers it from the write-ahead log, and builds it when it upgrades a store of format 3.

#[path = "support/records.rs"]
mod records;
mod support;
use records::{ok, open, open_lazy};

use serde_json::json;
use tandem::ot::{AppliedOp, AppliedOperation, Data, DiscreteOp, JsString, OpKind, Undo, Value};
use tandem::store::index::{
    collection_prefix, entries_of, path_prefix, value_range, IndexRange, IndexSegment, IndexValue,
    INDEXED_UNITS,
};
use tandem::store::{
    DomainKey, LmdbStore, MemoryStore, ModelMeta, OpRecord, Snapshot, Store, WriteOp,
};

fn js(s: &str) -> JsString {
    JsString::from(s)
}

/// Model data from JSON, with ids `p0`, `p1`, … (the root is `p0`).
fn data(value: &serde_json::Value, next: &mut u32, p: &str) -> Value {
    let id = format!("{p}{next}");
    *next += 1;
    let d = match value {
        serde_json::Value::Null => Data::Null,
        serde_json::Value::Bool(b) => Data::Boolean(*b),
        serde_json::Value::Number(n) => Data::Number(n.as_f64().unwrap_or(0.0)),
        serde_json::Value::String(s) => Data::String(js(s)),
        serde_json::Value::Array(items) => {
            Data::Array(items.iter().map(|v| data(v, next, p)).collect())
        }
        serde_json::Value::Object(map) => {
            Data::Object(map.iter().map(|(k, v)| (js(k), data(v, next, p))).collect())
        }
    };
    Value::new(id.as_str(), d)
}

fn meta(d: &DomainKey, id: &str, collection: &str, number: u64) -> ModelMeta {
    ModelMeta {
        domain: d.clone(),
        id: id.into(),
        collection: collection.into(),
        number,
        created_ms: 1,
        modified_ms: 1,
        version: 1,
        value_prefix: 1,
        ephemeral: false,
    }
}

fn create(d: &DomainKey, id: &str, collection: &str, number: u64, v: serde_json::Value) -> WriteOp {
    WriteOp::CreateModel {
        meta: meta(d, id, collection, number),
        snapshot: Snapshot {
            version: 1,
            timestamp_ms: 1,
            data: data(&v, &mut 0, "p"),
        },
    }
}

fn reindex(
    d: &DomainKey,
    id: &str,
    collection: &str,
    number: u64,
    v: serde_json::Value,
) -> WriteOp {
    WriteOp::IndexModel {
        domain: d.clone(),
        id: id.into(),
        number,
        entries: entries_of(d, collection, &data(&v, &mut 0, "p")),
    }
}

fn key_path(path: &[&str]) -> Vec<IndexSegment> {
    path.iter()
        .map(|k| {
            if *k == "[]" {
                IndexSegment::Element
            } else {
                IndexSegment::Key(js(k))
            }
        })
        .collect()
}

fn between(
    d: &DomainKey,
    collection: &str,
    path: &[&str],
    low: Option<IndexValue>,
    high: Option<IndexValue>,
) -> IndexRange {
    let prefix =
        path_prefix(collection_prefix(d, collection), &key_path(path)).expect("short path");
    let kind = low.clone().or(high.clone()).expect("a bound");
    value_range(&prefix, &kind, low.as_ref(), high.as_ref())
}

fn eq(d: &DomainKey, collection: &str, path: &[&str], v: IndexValue) -> IndexRange {
    between(d, collection, path, Some(v.clone()), Some(v))
}

fn ids(store: &dyn Store, ranges: &[IndexRange]) -> Vec<String> {
    store.index_ids(ranges).expect("scan").into_iter().collect()
}

fn num(n: f64) -> IndexValue {
    IndexValue::Number(n)
}

fn text(s: &str) -> IndexValue {
    IndexValue::String(s.encode_utf16().collect())
}

/// What a reader sees through the index after a sequence of writes; the same for both stores.
fn scenario(store: &dyn Store) -> Vec<Vec<String>> {
    let d = DomainKey::new("ns", "d");
    let other = DomainKey::new("ns", "other");
    let long = "x".repeat(INDEXED_UNITS + 10);
    ok(
        store,
        vec![
            create(
                &d,
                "m1",
                "c",
                1,
                json!({"a": 5, "s": "hello", "tags": ["x", "y"], "nested": {"b": true}, "n": null}),
            ),
            create(
                &d,
                "m2",
                "c",
                2,
                json!({"a": 7, "s": "help", "neg": -3.5, "long": long}),
            ),
            create(&d, "m3", "other", 3, json!({"a": 5})),
            create(&other, "m4", "c", 4, json!({"a": 5})),
        ],
    );
    let mut seen = Vec::new();
    let mut look = |ranges: Vec<IndexRange>| seen.push(ids(store, &ranges));
    look(vec![eq(&d, "c", &["a"], num(5.0))]);
    look(vec![between(
        &d,
        "c",
        &["a"],
        Some(num(5.0)),
        Some(num(7.0)),
    )]);
    look(vec![between(&d, "c", &["a"], Some(num(6.0)), None)]);
    look(vec![between(&d, "c", &["neg"], None, Some(num(0.0)))]);
    look(vec![between(&d, "c", &["s"], Some(text("help")), None)]);
    look(vec![between(&d, "c", &["s"], None, Some(text("hell")))]);
    look(vec![eq(&d, "c", &["tags", "[]"], text("y"))]);
    look(vec![eq(&d, "c", &["nested", "b"], IndexValue::Bool(true))]);
    look(vec![between(
        &d,
        "c",
        &["nested", "b"],
        Some(IndexValue::Bool(false)),
        None,
    )]);
    look(vec![eq(&d, "c", &["n"], IndexValue::Null)]);
    // A long string is found by its indexed prefix (the caller rechecks the data).
    look(vec![eq(&d, "c", &["long"], text(&format!("{long}zzz")))]);
    look(vec![
        eq(&d, "c", &["a"], num(5.0)),
        eq(&d, "c", &["a"], num(7.0)),
    ]);
    // The data changed: the old entries are gone, the new ones found.
    ok(
        store,
        vec![reindex(&d, "m1", "c", 1, json!({"a": 6, "s": "hello"}))],
    );
    look(vec![eq(&d, "c", &["a"], num(5.0))]);
    look(vec![eq(&d, "c", &["a"], num(6.0))]);
    look(vec![eq(&d, "c", &["tags", "[]"], text("y"))]);
    // A deleted model's late entries are not written.
    ok(
        store,
        vec![
            WriteOp::DeleteModel {
                domain: d.clone(),
                id: "m2".into(),
            },
            reindex(&d, "m2", "c", 2, json!({"a": 7})),
        ],
    );
    look(vec![eq(&d, "c", &["a"], num(7.0))]);
    ok(
        store,
        vec![WriteOp::DeleteCollection {
            domain: d.clone(),
            id: "c".into(),
        }],
    );
    look(vec![eq(&d, "c", &["a"], num(6.0))]);
    look(vec![eq(&d, "other", &["a"], num(5.0))]);
    ok(store, vec![WriteOp::DeleteDomain(other.clone())]);
    look(vec![eq(&other, "c", &["a"], num(5.0))]);
    seen
}

#[test]
fn memory_and_lmdb_agree_on_what_the_index_finds() {
    let memory = scenario(&MemoryStore::new(2));
    let dir = tempfile::tempdir().expect("dir");
    let lmdb = scenario(&open(dir.path()));
    assert_eq!(memory, lmdb);
    let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let expected = vec![
        s(&["m1"]),
        s(&["m1", "m2"]),
        s(&["m2"]),
        s(&["m2"]),
        s(&["m2"]),
        s(&["m1"]),
        s(&["m1"]),
        s(&["m1"]),
        s(&["m1"]),
        s(&["m1"]),
        s(&["m2"]),
        s(&["m1", "m2"]),
        s(&[]),
        s(&["m1"]),
        s(&[]),
        s(&[]),
        s(&[]),
        s(&["m3"]),
        s(&[]),
    ];
    assert_eq!(memory, expected);
}

/// A text edit as a format-3 writer logged it: no index change with it.
fn edit(number: u64, version: u64) -> WriteOp {
    WriteOp::AppendOps {
        number,
        ops: vec![OpRecord {
            version,
            timestamp_ms: 2,
            session: "s".into(),
            user: "u".into(),
            seq: None,
            op: AppliedOperation::Discrete(AppliedOp {
                op: DiscreteOp::new(
                    "p1",
                    OpKind::StringSplice {
                        index: 0,
                        delete_count: 1,
                        insert: js("j"),
                    },
                ),
                undo: Undo::None,
            }),
            mark: None,
        }],
    }
}

#[test]
fn lmdb_keeps_the_index_across_a_reopen_recovers_it_from_the_log_and_builds_it_on_upgrade() {
    let dir = tempfile::tempdir().expect("dir");
    let d = DomainKey::new("ns", "d");
    {
        let store = open(dir.path());
        ok(
            &store,
            vec![create(&d, "kept", "c", 1, json!({"s": "hello"}))],
        );
    }
    {
        // An applier that never runs before the store closes: the writes are only in the log.
        let store = open_lazy(dir.path());
        ok(
            &store,
            vec![
                create(&d, "logged", "c", 2, json!({"s": "hello"})),
                reindex(&d, "kept", "c", 1, json!({"s": "hi"})),
            ],
        );
    }
    {
        let store = open(dir.path());
        assert_eq!(
            ids(&store, &[eq(&d, "c", &["s"], text("hello"))]),
            ["logged"]
        );
        assert_eq!(ids(&store, &[eq(&d, "c", &["s"], text("hi"))]), ["kept"]);
        // Operations without their index change, as a store of format 3 holds them.
        ok(&store, vec![edit(2, 2)]);
        assert_eq!(
            ids(&store, &[eq(&d, "c", &["s"], text("jello"))]),
            Vec::<String>::new()
        );
    }
    LmdbStore::set_format_version_for_tests(dir.path(), 3).expect("downgrade");
    let store = open(dir.path());
    // Rebuilt from the data: "logged" was edited; "kept" still holds "hello" (its "hi" entry
    // above was written without its data changing).
    assert_eq!(
        ids(&store, &[eq(&d, "c", &["s"], text("jello"))]),
        ["logged"]
    );
    assert_eq!(ids(&store, &[eq(&d, "c", &["s"], text("hello"))]), ["kept"]);
    assert_eq!(
        ids(&store, &[eq(&d, "c", &["s"], text("hi"))]),
        Vec::<String>::new()
    );
}

#[test]
fn numbers_sort_by_value_and_negative_zero_is_zero() {
    let d = DomainKey::new("ns", "d");
    let store = MemoryStore::new(2);
    let values = [-1e300, -2.5, -0.0, 0.5, 3.0, 1e300];
    ok(
        &store,
        values
            .iter()
            .enumerate()
            .map(|(i, n)| create(&d, &format!("m{i}"), "c", i as u64 + 1, json!({ "n": n })))
            .collect(),
    );
    assert_eq!(ids(&store, &[eq(&d, "c", &["n"], num(0.0))]), ["m2"]);
    assert_eq!(
        ids(
            &store,
            &[between(&d, "c", &["n"], Some(num(-3.0)), Some(num(1.0)))]
        ),
        ["m1", "m2", "m3"]
    );
    assert_eq!(
        ids(&store, &[between(&d, "c", &["n"], None, Some(num(-3.0)))]),
        ["m0"]
    );
    assert_eq!(
        ids(&store, &[between(&d, "c", &["n"], Some(num(2.0)), None)]),
        ["m4", "m5"]
    );
}
