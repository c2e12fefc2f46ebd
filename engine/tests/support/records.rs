//! Record builders and LMDB helpers shared by the store test files; each file uses a subset.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use tandem::ot::{AppliedOp, AppliedOperation, Data, DiscreteOp, JsString, OpKind, Undo, Value};
use tandem::store::{
    CollectionRecord, DomainKey, DomainRecord, LmdbStore, ModelMeta, OpRecord, Snapshot, Store,
    StoreOptions, WriteOp,
};

use super::support::write_sync;

pub const KEPT: usize = 2;

pub fn options(path: &Path) -> StoreOptions {
    StoreOptions {
        path: path.to_path_buf(),
        max_size_bytes: 1 << 30,
        snapshots_kept: KEPT,
        max_batch: 10_000,
        apply_interval: Duration::from_millis(10),
    }
}

pub fn open(path: &Path) -> LmdbStore {
    match LmdbStore::open(options(path)) {
        Ok(s) => s,
        Err(e) => panic!("open {}: {e}", path.display()),
    }
}

pub fn ok(store: &dyn Store, batch: Vec<WriteOp>) {
    write_sync(store, batch).expect("write failed");
}

// ---------------------------------------------------------------------------------------------
// Builders.
// ---------------------------------------------------------------------------------------------

pub fn domain(ns: &str, id: &str) -> DomainRecord {
    DomainRecord {
        key: DomainKey::new(ns, id),
        display_name: format!("Domain {ns}/{id} ✓"),
        created_ms: 1_700_000_000_000,
        anonymous_auth: true,
        collection_auto_create: id.len() % 2 == 0,
        state: tandem::store::DomainState::Maintenance,
        reconnect_token_minutes: 90,
        default_collection_world: vec!["read".into()],
        admin_private_key_pem: format!("private {id}"),
        admin_public_key_pem: format!("public {id}"),
        snapshots: Default::default(),
    }
}

pub fn collection(id: &str) -> CollectionRecord {
    CollectionRecord {
        id: id.into(),
        description: format!("collection {id}"),
        created_ms: -5,
    }
}

pub fn meta(d: &DomainKey, id: &str, coll: &str, number: u64) -> ModelMeta {
    ModelMeta {
        domain: d.clone(),
        id: id.into(),
        collection: coll.into(),
        number,
        created_ms: 10,
        modified_ms: 20,
        version: 1,
        value_prefix: 7,
        ephemeral: false,
    }
}

pub fn snapshot(version: u64) -> Snapshot {
    Snapshot {
        version,
        timestamp_ms: version as i64 * 100,
        data: every_data(&format!("s{version}")),
    }
}

pub fn create(d: &DomainKey, id: &str, coll: &str, number: u64) -> WriteOp {
    WriteOp::CreateModel {
        meta: meta(d, id, coll, number),
        snapshot: snapshot(1),
    }
}

pub fn splice_record(version: u64, timestamp_ms: i64) -> OpRecord {
    OpRecord {
        version,
        timestamp_ms,
        session: "s1".into(),
        user: "alice".into(),
        seq: Some(version),
        op: AppliedOperation::Discrete(AppliedOp {
            op: DiscreteOp::new(
                "2:5",
                OpKind::StringSplice {
                    index: version as i64,
                    delete_count: 0,
                    insert: "a".into(),
                },
            ),
            undo: Undo::None,
        }),
        mark: None,
    }
}

pub fn append(number: u64, versions: std::ops::RangeInclusive<u64>) -> WriteOp {
    WriteOp::AppendOps {
        number,
        ops: versions.map(|v| splice_record(v, v as i64)).collect(),
    }
}

pub fn v(id: &str, data: Data) -> Value {
    Value::new(id, data)
}

/// A tree holding every kind of data, non-BMP text and awkward numbers.
pub fn every_data(p: &str) -> Value {
    let mut nested = BTreeMap::new();
    nested.insert("deep".into(), v(&format!("{p}:6"), Data::Null));
    nested.insert(
        JsString::new(),
        v(&format!("{p}:7"), Data::String(JsString::new())),
    );
    let mut root = BTreeMap::new();
    root.insert(
        "s".into(),
        v(&format!("{p}:1"), Data::String("héllo 😀".into())),
    );
    root.insert("n".into(), v(&format!("{p}:2"), Data::Number(3.5)));
    // Unpaired surrogates, in a value and in a key, as a JavaScript client may send them.
    root.insert(
        JsString::from_units(vec![0x6B, 0xDC00]),
        v(
            &format!("{p}:ls"),
            Data::String(JsString::from_units(vec![
                0xD83D, 0x61, 0xDE01, 0xDE00, 0xD83D,
            ])),
        ),
    );
    root.insert("i".into(), v(&format!("{p}:3"), Data::Number(-42.0)));
    root.insert(
        "big".into(),
        v(&format!("{p}:b"), Data::Number(9_007_199_254_740_993.0)),
    );
    root.insert("neg0".into(), v(&format!("{p}:z"), Data::Number(-0.0)));
    root.insert("t".into(), v(&format!("{p}:4"), Data::Boolean(true)));
    root.insert("f".into(), v(&format!("{p}:f"), Data::Boolean(false)));
    root.insert("d".into(), v(&format!("{p}:5"), Data::Date(-1)));
    root.insert("nul\u{0}key 😀".into(), v(&format!("{p}:8"), Data::Null));
    root.insert(
        "a".into(),
        v(
            &format!("{p}:9"),
            Data::Array(vec![
                v(&format!("{p}:a1"), Data::Number(1e300)),
                v(&format!("{p}:a2"), Data::Object(BTreeMap::new())),
                v(&format!("{p}:a3"), Data::Array(Vec::new())),
                v(&format!("{p}:a4"), Data::Object(nested)),
            ]),
        ),
    );
    v(&format!("{p}:0"), Data::Object(root))
}

pub fn applied(id: &str, kind: OpKind, undo: Undo) -> AppliedOp {
    AppliedOp {
        op: DiscreteOp::new(id, kind),
        undo,
    }
}

/// One compound operation with all 15 kinds (one of them a no-op) and every undo kind.
pub fn every_kind() -> AppliedOperation {
    let map: BTreeMap<JsString, Value> = [
        ("x".into(), every_data("m1")),
        ("😀".into(), v("m2", Data::Date(i64::MAX))),
    ]
    .into_iter()
    .collect();
    let list = vec![every_data("l1"), v("l2", Data::Null)];
    AppliedOperation::Compound(vec![
        applied(
            "1:1",
            OpKind::StringSplice {
                index: 1,
                delete_count: 2,
                insert: "😀é".into(),
            },
            Undo::Text("él".into()),
        ),
        applied(
            "1:1",
            OpKind::StringSet {
                value: "héllo 😀".into(),
            },
            Undo::Text(JsString::new()),
        ),
        applied(
            "1:2",
            OpKind::ArrayInsert {
                index: 0,
                value: every_data("ai"),
            },
            Undo::None,
        ),
        applied(
            "1:2",
            OpKind::ArrayRemove { index: 2 },
            Undo::Value(every_data("ar")),
        ),
        applied(
            "1:2",
            OpKind::ArrayReplace {
                index: 1,
                value: v("rp", Data::Boolean(false)),
            },
            Undo::Value(v("old", Data::Number(-1.25))),
        ),
        AppliedOp {
            op: DiscreteOp::new("1:2", OpKind::ArrayMove { from: 0, to: 3 }).noop(),
            undo: Undo::None,
        },
        applied(
            "1:2",
            OpKind::ArraySet {
                values: list.clone(),
            },
            Undo::Values(list),
        ),
        applied(
            "1:3",
            OpKind::ObjectAddProperty {
                key: "k é".into(),
                value: every_data("oa"),
            },
            Undo::None,
        ),
        applied(
            "1:3",
            OpKind::ObjectSetProperty {
                key: "k".into(),
                value: v("os", Data::String("😀".into())),
            },
            Undo::Value(v("os0", Data::Null)),
        ),
        applied(
            "1:3",
            OpKind::ObjectRemoveProperty { key: "k".into() },
            Undo::Value(v("or", Data::Date(0))),
        ),
        applied(
            "1:3",
            OpKind::ObjectSet {
                values: map.clone(),
            },
            Undo::Map(map),
        ),
        applied("1:4", OpKind::NumberAdd { delta: -0.5 }, Undo::None),
        applied(
            "1:4",
            OpKind::NumberSet { value: 1e-7 },
            Undo::Number(f64::MAX),
        ),
        applied(
            "1:5",
            OpKind::BooleanSet { value: false },
            Undo::Boolean(true),
        ),
        applied(
            "1:6",
            OpKind::DateSet { value: i64::MIN },
            Undo::Date(i64::MAX),
        ),
    ])
}

/// A store whose applier waits an hour: acknowledged writes stay in the log unless a read or
/// a direct write needs them applied.
pub fn open_lazy(path: &Path) -> LmdbStore {
    LmdbStore::open(StoreOptions {
        apply_interval: Duration::from_secs(3600),
        ..options(path)
    })
    .unwrap_or_else(|e| panic!("open {}: {e}", path.display()))
}

/// Copies a data directory (database and log) as a crash would leave it.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.join("wal")).unwrap();
    for name in ["data.mdb", "lock.mdb"] {
        std::fs::copy(from.join(name), to.join(name)).unwrap();
    }
    for entry in std::fs::read_dir(from.join("wal")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join("wal").join(entry.file_name())).unwrap();
    }
}
