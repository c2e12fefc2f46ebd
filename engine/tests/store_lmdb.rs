//! The LMDB store: record round-trips, the same behaviour as the in-memory store, format
//! version checks, single open per process, durability of acknowledged writes across SIGKILL,
//! and group commit.

mod support;
use support::write_sync;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use tandem::ot::{AppliedOp, AppliedOperation, Data, DiscreteOp, JsString, OpKind, Undo, Value};
use tandem::store::codec;
use tandem::store::{
    CollectionRecord, DomainKey, DomainRecord, EncodedOps, JwtKeyRecord, LmdbStore, ModelMeta,
    OpRecord, ReconnectTokenRecord, Snapshot, Store, StoreError, StoreOptions, StoreResult,
    UserRecord, UserType, WriteOp, FORMAT_VERSION,
};

const KEPT: usize = 2;

fn options(path: &Path) -> StoreOptions {
    StoreOptions {
        path: path.to_path_buf(),
        max_size_bytes: 1 << 30,
        snapshots_kept: KEPT,
        max_batch: 10_000,
        apply_interval: Duration::from_millis(10),
    }
}

fn open(path: &Path) -> LmdbStore {
    match LmdbStore::open(options(path)) {
        Ok(s) => s,
        Err(e) => panic!("open {}: {e}", path.display()),
    }
}

fn ok(store: &dyn Store, batch: Vec<WriteOp>) {
    write_sync(store, batch).expect("write failed");
}

// ---------------------------------------------------------------------------------------------
// Builders.
// ---------------------------------------------------------------------------------------------

fn domain(ns: &str, id: &str) -> DomainRecord {
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
    }
}

fn collection(id: &str) -> CollectionRecord {
    CollectionRecord {
        id: id.into(),
        description: format!("collection {id}"),
        created_ms: -5,
    }
}

fn meta(d: &DomainKey, id: &str, coll: &str, number: u64) -> ModelMeta {
    ModelMeta {
        domain: d.clone(),
        id: id.into(),
        collection: coll.into(),
        number,
        created_ms: 10,
        modified_ms: 20,
        version: 1,
        value_prefix: 7,
    }
}

fn snapshot(version: u64) -> Snapshot {
    Snapshot {
        version,
        timestamp_ms: version as i64 * 100,
        data: every_data(&format!("s{version}")),
    }
}

fn create(d: &DomainKey, id: &str, coll: &str, number: u64) -> WriteOp {
    WriteOp::CreateModel {
        meta: meta(d, id, coll, number),
        snapshot: snapshot(1),
    }
}

fn splice_record(version: u64, timestamp_ms: i64) -> OpRecord {
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
    }
}

fn append(number: u64, versions: std::ops::RangeInclusive<u64>) -> WriteOp {
    WriteOp::AppendOps {
        number,
        ops: versions.map(|v| splice_record(v, v as i64)).collect(),
    }
}

fn v(id: &str, data: Data) -> Value {
    Value::new(id, data)
}

/// A tree holding every kind of data, non-BMP text and awkward numbers.
fn every_data(p: &str) -> Value {
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

fn applied(id: &str, kind: OpKind, undo: Undo) -> AppliedOp {
    AppliedOp {
        op: DiscreteOp::new(id, kind),
        undo,
    }
}

/// One compound operation with all 15 kinds (one of them a no-op) and every undo kind.
fn every_kind() -> AppliedOperation {
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

// ---------------------------------------------------------------------------------------------
// Round trips.
// ---------------------------------------------------------------------------------------------

#[test]
fn every_kind_covers_all_fifteen_op_types() {
    let types: std::collections::HashSet<_> = every_kind()
        .ops()
        .iter()
        .map(|a| a.op.kind.op_type())
        .collect();
    assert_eq!(types.len(), 15);
}

#[test]
fn codec_round_trips_every_record_type() {
    let mut buf = Vec::new();
    let d = domain("ns", "dom");
    codec::encode_domain(&d, &mut buf);
    assert_eq!(codec::decode_domain(&buf).unwrap(), d);

    buf.clear();
    let c = collection("c 😀");
    codec::encode_collection(&c, &mut buf);
    assert_eq!(codec::decode_collection(&buf).unwrap(), c);

    buf.clear();
    let m = meta(&d.key, "model", "c", u64::MAX);
    codec::encode_model_meta(&m, &mut buf);
    assert_eq!(codec::decode_model_meta(&buf).unwrap(), m);

    buf.clear();
    let s = snapshot(3);
    codec::encode_snapshot(&s, &mut buf).unwrap();
    assert_eq!(codec::decode_snapshot(&buf).unwrap(), s);

    buf.clear();
    let r = OpRecord {
        op: every_kind(),
        ..splice_record(9, -3)
    };
    codec::encode_op(&r, &mut buf).unwrap();
    assert_eq!(codec::decode_op(&buf).unwrap(), r);
}

#[test]
fn write_batches_round_trip_through_the_log_codec() {
    let d = DomainKey::new("ns 😀", "dom");
    let user = UserRecord {
        user_type: UserType::Anonymous,
        username: "u".into(),
        display_name: "U".into(),
        first_name: "F".into(),
        last_name: "L".into(),
        email: "u@example.com".into(),
        disabled: true,
        password_hash: Some("$argon2id$...".into()),
        created_ms: -5,
        last_login_ms: 7,
    };
    let every: Vec<WriteOp> = vec![
        WriteOp::PutDomain(domain("ns", "dom")),
        WriteOp::DeleteDomain(d.clone()),
        WriteOp::PutCollection {
            domain: d.clone(),
            record: collection("c"),
        },
        WriteOp::DeleteCollection {
            domain: d.clone(),
            id: "c".into(),
        },
        create(&d, "m", "c", 4),
        WriteOp::PutModelMeta(meta(&d, "m", "c", 4)),
        WriteOp::AppendOps {
            number: 4,
            ops: vec![
                splice_record(2, 1),
                OpRecord {
                    op: every_kind(),
                    ..splice_record(3, 2)
                },
            ],
        },
        WriteOp::PutSnapshot {
            number: 4,
            snapshot: snapshot(3),
        },
        WriteOp::DeleteModel {
            domain: d.clone(),
            id: "m".into(),
        },
        WriteOp::PutUser {
            domain: d.clone(),
            record: user,
        },
        WriteOp::DeleteUser {
            domain: d.clone(),
            user_type: UserType::Convergence,
            username: "u".into(),
        },
        WriteOp::PutJwtKey {
            domain: d.clone(),
            record: JwtKeyRecord {
                id: "k".into(),
                description: "key".into(),
                public_key_pem: "-----BEGIN PUBLIC KEY-----".into(),
                enabled: true,
                updated_ms: 3,
            },
        },
        WriteOp::DeleteJwtKey {
            domain: d.clone(),
            id: "k".into(),
        },
        WriteOp::PutReconnectToken {
            domain: d.clone(),
            record: ReconnectTokenRecord {
                token: "t".into(),
                user_type: UserType::Normal,
                username: "u".into(),
                expires_ms: 99,
                sessions: vec!["s1".into(), "s2".into()],
            },
        },
        WriteOp::DeleteReconnectToken {
            domain: d.clone(),
            token: "t".into(),
        },
    ];
    let mut buf = Vec::new();
    codec::encode_batch(&every, &mut buf).unwrap();
    codec::encode_batch(&[], &mut buf).unwrap();
    codec::encode_batch(&every[..2], &mut buf).unwrap();
    let back = codec::decode_batches(&buf).unwrap();
    assert_eq!(back.len(), 3);
    // `WriteOp` has no equality; its debug form shows every field (password hashes and
    // tokens redacted, so those are compared through their records' own encodings above).
    assert_eq!(format!("{:?}", back[0]), format!("{every:?}"));
    assert!(back[1].is_empty());
    assert_eq!(format!("{:?}", back[2]), format!("{:?}", &every[..2]));
    // Cut or damaged batches are errors, never panics.
    for cut in 0..buf.len() {
        let _ = codec::decode_batches(&buf[..cut]);
    }
    for i in 0..buf.len() {
        let mut b = buf.clone();
        b[i] ^= 0x5a;
        let _ = codec::decode_batches(&b);
    }
}

#[test]
fn single_character_splice_encodes_in_about_40_bytes() {
    let mut buf = Vec::new();
    // Version and client sequence number in the millions.
    codec::encode_op(&splice_record(1_000_000, 1_760_000_000_000), &mut buf).unwrap();
    println!("single-character splice record: {} bytes", buf.len());
    assert!(buf.len() <= 44, "{} bytes", buf.len());
}

#[test]
fn every_record_type_round_trips_through_lmdb() {
    let dir = tempfile::tempdir().unwrap();
    let d = domain("ns", "dom");
    let c = collection("c 😀");
    let m = meta(&d.key, "model 😀", &c.id, 1);
    let s1 = snapshot(1);
    let s2 = Snapshot {
        version: 3,
        timestamp_ms: 33,
        data: v("root", Data::Object(BTreeMap::new())),
    };
    let r2 = splice_record(2, 20);
    let r3 = OpRecord {
        version: 3,
        timestamp_ms: 30,
        session: "session 😀".into(),
        user: "".into(),
        seq: None,
        op: every_kind(),
    };
    {
        let store = open(dir.path());
        ok(
            &store,
            vec![
                WriteOp::PutDomain(d.clone()),
                WriteOp::PutCollection {
                    domain: d.key.clone(),
                    record: c.clone(),
                },
                WriteOp::CreateModel {
                    meta: m.clone(),
                    snapshot: s1.clone(),
                },
                WriteOp::AppendOps {
                    number: 1,
                    ops: vec![r2.clone(), r3.clone()],
                },
                WriteOp::PutSnapshot {
                    number: 1,
                    snapshot: s2.clone(),
                },
            ],
        );
    }
    // Read back after reopening: everything came from disk.
    let store = open(dir.path());
    assert_eq!(store.domain(&d.key).unwrap(), Some(d.clone()));
    assert_eq!(store.domains().unwrap(), vec![d.clone()]);
    assert_eq!(store.collection(&d.key, &c.id).unwrap(), Some(c.clone()));
    assert_eq!(store.collections(&d.key).unwrap(), vec![c.clone()]);
    assert_eq!(store.model(&d.key, &m.id).unwrap(), Some(m.clone()));
    assert_eq!(store.models(&d.key, None).unwrap(), vec![m.clone()]);
    assert_eq!(store.ops(1, 0, u64::MAX).unwrap(), vec![r2, r3]);
    assert_eq!(store.snapshot_at_or_before(1, 2).unwrap(), Some(s1));
    assert_eq!(store.snapshot_at_or_before(1, 3).unwrap(), Some(s2));
    assert_eq!(store.allocate_model_number(), 2);
    let stats = store.stats().unwrap();
    assert_eq!(stats.op_count, 2);
    assert!(stats.log_bytes > 0 && stats.snapshot_bytes > 0 && stats.file_bytes > 0);
}

// ---------------------------------------------------------------------------------------------
// Behaviour shared with the in-memory store.
// ---------------------------------------------------------------------------------------------

macro_rules! on_both_stores {
    ($check:ident) => {
        mod $check {
            #[test]
            fn memory() {
                super::$check(&tandem::store::MemoryStore::new(super::KEPT));
            }

            #[test]
            fn lmdb() {
                let dir = tempfile::tempdir().unwrap();
                let store = super::open(dir.path());
                super::$check(&store);
            }
        }
    };
}

on_both_stores!(domains_collections_models_and_cascades);
on_both_stores!(duplicate_create_fails_alone);
on_both_stores!(op_ranges);
on_both_stores!(snapshots_with_retention);
on_both_stores!(version_at_time);

fn ids(models: Vec<ModelMeta>) -> Vec<String> {
    models.into_iter().map(|m| m.id).collect()
}

fn domains_collections_models_and_cascades(store: &dyn Store) {
    // "x\0" checks that keys are escaped: deleting "a/x" must not touch "a/x\0".
    let (dx, dx0, dy, db) = (
        domain("a", "x"),
        domain("a", "x\u{0}"),
        domain("a", "y"),
        domain("b", "x"),
    );
    ok(
        store,
        vec![
            WriteOp::PutDomain(dy.clone()),
            WriteOp::PutDomain(db.clone()),
            WriteOp::PutDomain(dx0.clone()),
            WriteOp::PutDomain(dx.clone()),
        ],
    );
    assert_eq!(
        store.domains().unwrap(),
        vec![dx.clone(), dx0.clone(), dy.clone(), db.clone()]
    );
    assert_eq!(store.domain(&dx.key).unwrap(), Some(dx.clone()));
    assert_eq!(store.domain(&DomainKey::new("a", "z")).unwrap(), None);

    // Replace a domain.
    let mut dx2 = dx.clone();
    dx2.display_name = "renamed".into();
    ok(store, vec![WriteOp::PutDomain(dx2.clone())]);
    assert_eq!(store.domain(&dx.key).unwrap(), Some(dx2));

    let (x, x0, y) = (dx.key.clone(), dx0.key.clone(), dy.key.clone());
    let mut batch = Vec::new();
    for (d, c) in [(&x, "c2"), (&x, "c1"), (&x0, "c1"), (&y, "c1")] {
        batch.push(WriteOp::PutCollection {
            domain: d.clone(),
            record: collection(c),
        });
    }
    ok(store, batch);
    assert_eq!(
        store.collections(&x).unwrap(),
        vec![collection("c1"), collection("c2")]
    );
    assert_eq!(store.collection(&x, "c2").unwrap(), Some(collection("c2")));
    assert_eq!(store.collection(&x, "c3").unwrap(), None);

    let n: Vec<u64> = (0..6).map(|_| store.allocate_model_number()).collect();
    assert!(n.windows(2).all(|w| w[0] < w[1]));
    ok(
        store,
        vec![
            create(&x, "m2", "c1", n[1]),
            create(&x, "m1", "c1", n[0]),
            create(&x, "m3", "c2", n[2]),
            create(&x0, "m1", "c1", n[3]),
            create(&y, "m1", "c1", n[4]),
        ],
    );
    for &num in &n[..5] {
        ok(store, vec![append(num, 2..=4)]);
    }
    assert_eq!(ids(store.models(&x, None).unwrap()), ["m1", "m2", "m3"]);
    assert_eq!(ids(store.models(&x, Some("c1")).unwrap()), ["m1", "m2"]);
    assert_eq!(
        ids(store.models(&x, Some("c9")).unwrap()),
        Vec::<String>::new()
    );
    assert_eq!(
        store.model(&x, "m1").unwrap(),
        Some(meta(&x, "m1", "c1", n[0]))
    );

    // Metadata updates.
    let mut m1 = meta(&x, "m1", "c1", n[0]);
    m1.version = 4;
    m1.modified_ms = 99;
    ok(store, vec![WriteOp::PutModelMeta(m1.clone())]);
    assert_eq!(store.model(&x, "m1").unwrap(), Some(m1));

    // Delete a model: its log and snapshots go too, and it is not resurrected.
    ok(
        store,
        vec![WriteOp::DeleteModel {
            domain: x.clone(),
            id: "m2".into(),
        }],
    );
    assert_eq!(store.model(&x, "m2").unwrap(), None);
    assert!(store.ops(n[1], 0, u64::MAX).unwrap().is_empty());
    assert_eq!(store.snapshot_at_or_before(n[1], u64::MAX).unwrap(), None);
    ok(
        store,
        vec![WriteOp::PutModelMeta(meta(&x, "m2", "c1", n[1]))],
    );
    assert_eq!(store.model(&x, "m2").unwrap(), None);
    // Deleting a missing model is fine.
    ok(
        store,
        vec![WriteOp::DeleteModel {
            domain: x.clone(),
            id: "nope".into(),
        }],
    );

    // Delete a collection: its models go, others stay.
    ok(
        store,
        vec![WriteOp::DeleteCollection {
            domain: x.clone(),
            id: "c1".into(),
        }],
    );
    assert_eq!(store.collection(&x, "c1").unwrap(), None);
    assert_eq!(ids(store.models(&x, None).unwrap()), ["m3"]);
    assert!(store.ops(n[0], 0, u64::MAX).unwrap().is_empty());
    assert_eq!(store.snapshot_at_or_before(n[0], u64::MAX).unwrap(), None);
    assert_eq!(store.ops(n[2], 0, u64::MAX).unwrap().len(), 3);
    assert_eq!(ids(store.models(&x0, None).unwrap()), ["m1"]);
    assert_eq!(store.collection(&x0, "c1").unwrap(), Some(collection("c1")));

    // Delete a domain: everything in it goes; other domains stay.
    ok(store, vec![WriteOp::DeleteDomain(x.clone())]);
    assert_eq!(store.domain(&x).unwrap(), None);
    assert!(store.collections(&x).unwrap().is_empty());
    assert!(store.models(&x, None).unwrap().is_empty());
    assert!(store.ops(n[2], 0, u64::MAX).unwrap().is_empty());
    assert_eq!(store.snapshot_at_or_before(n[2], u64::MAX).unwrap(), None);
    assert_eq!(
        store.domains().unwrap(),
        vec![dx0.clone(), dy.clone(), db.clone()]
    );
    for (d, num) in [(&x0, n[3]), (&y, n[4])] {
        assert_eq!(store.collections(d).unwrap(), vec![collection("c1")]);
        assert_eq!(ids(store.models(d, None).unwrap()), ["m1"]);
        assert_eq!(store.ops(num, 0, u64::MAX).unwrap().len(), 3);
        assert_eq!(
            store.snapshot_at_or_before(num, 1).unwrap(),
            Some(snapshot(1))
        );
    }
    store.flush().unwrap();
    assert_eq!(store.stats().unwrap().op_count, 6);
}

fn duplicate_create_fails_alone(store: &dyn Store) {
    let d = DomainKey::new("ns", "d");
    let (n1, n2, n3) = (
        store.allocate_model_number(),
        store.allocate_model_number(),
        store.allocate_model_number(),
    );
    // Queued back to back: on the LMDB store these usually share one transaction.
    let (tx, rx) = mpsc::channel();
    let batches = vec![
        vec![
            WriteOp::PutCollection {
                domain: d.clone(),
                record: collection("c"),
            },
            create(&d, "m1", "c", n1),
        ],
        // Duplicates m1, created by the request just before it.
        vec![
            WriteOp::PutDomain(domain("ns", "other")),
            append(n1, 2..=3),
            create(&d, "m1", "c", n2),
        ],
        vec![create(&d, "m2", "c", n3), append(n3, 2..=2)],
    ];
    for (i, batch) in batches.into_iter().enumerate() {
        let tx = tx.clone();
        store.write(
            batch,
            Box::new(move |r| {
                let _ = tx.send((i, r));
            }),
        );
    }
    drop(tx);
    let mut results: Vec<(usize, StoreResult<()>)> = rx.iter().collect();
    results.sort_by_key(|(i, _)| *i);
    assert_eq!(results.len(), 3);
    assert_eq!(results[0].1, Ok(()));
    assert!(
        matches!(&results[1].1, Err(StoreError::AlreadyExists(m)) if m.contains("m1")),
        "{:?}",
        results[1].1
    );
    assert_eq!(results[2].1, Ok(()));
    // Nothing of the failed request is visible.
    assert_eq!(store.domain(&DomainKey::new("ns", "other")).unwrap(), None);
    assert!(store.ops(n1, 0, u64::MAX).unwrap().is_empty());
    assert_eq!(store.snapshot_at_or_before(n2, u64::MAX).unwrap(), None);
    assert_eq!(
        store.model(&d, "m1").unwrap(),
        Some(meta(&d, "m1", "c", n1))
    );
    assert_eq!(ids(store.models(&d, None).unwrap()), ["m1", "m2"]);
    assert_eq!(store.ops(n3, 0, u64::MAX).unwrap().len(), 1);

    // Against a model committed earlier, too.
    assert!(matches!(
        write_sync(store, vec![create(&d, "m2", "c", n1)]),
        Err(StoreError::AlreadyExists(_))
    ));
    assert_eq!(
        store.model(&d, "m2").unwrap(),
        Some(meta(&d, "m2", "c", n3))
    );
}

fn op_ranges(store: &dyn Store) {
    let d = DomainKey::new("ns", "d");
    let (a, b) = (store.allocate_model_number(), store.allocate_model_number());
    ok(
        store,
        vec![create(&d, "a", "c", a), create(&d, "b", "c", b)],
    );
    ok(store, vec![append(a, 2..=10)]);
    ok(store, vec![append(b, 2..=3), append(a, 11..=21)]);
    let versions = |recs: Vec<OpRecord>| recs.into_iter().map(|r| r.version).collect::<Vec<_>>();
    assert_eq!(versions(store.ops(a, 5, 9).unwrap()), [5, 6, 7, 8, 9]);
    assert_eq!(
        versions(store.ops(a, 0, u64::MAX).unwrap()),
        (2..=21).collect::<Vec<_>>()
    );
    assert_eq!(versions(store.ops(a, 20, 100).unwrap()), [20, 21]);
    assert_eq!(versions(store.ops(a, 7, 7).unwrap()), [7]);
    assert!(store.ops(a, 9, 5).unwrap().is_empty());
    assert!(store.ops(a, 22, 30).unwrap().is_empty());
    assert_eq!(versions(store.ops(b, 0, u64::MAX).unwrap()), [2, 3]);
    assert!(store.ops(b + 1000, 0, u64::MAX).unwrap().is_empty());
    assert_eq!(store.ops(a, 4, 4).unwrap(), vec![splice_record(4, 4)]);
    // Re-appending an existing version replaces it.
    let replaced = OpRecord {
        user: "bob".into(),
        ..splice_record(4, 4)
    };
    ok(
        store,
        vec![WriteOp::AppendOps {
            number: a,
            ops: vec![replaced.clone()],
        }],
    );
    assert_eq!(store.ops(a, 4, 4).unwrap(), vec![replaced]);
    assert_eq!(store.ops(a, 0, u64::MAX).unwrap().len(), 20);
    // Records encoded where they were made (as a model's sequencer writes them) are stored
    // and read back alike.
    let encoded = vec![
        OpRecord {
            op: every_kind(),
            ..splice_record(22, 22)
        },
        splice_record(23, 23),
    ];
    ok(
        store,
        vec![WriteOp::AppendEncoded {
            number: a,
            ops: EncodedOps::from_records(&encoded).unwrap(),
        }],
    );
    assert_eq!(store.ops(a, 22, 23).unwrap(), encoded);
    assert_eq!(store.ops(a, 0, u64::MAX).unwrap().len(), 22);
}

fn snapshots_with_retention(store: &dyn Store) {
    let d = DomainKey::new("ns", "d");
    let (a, b) = (store.allocate_model_number(), store.allocate_model_number());
    ok(
        store,
        vec![create(&d, "a", "c", a), create(&d, "b", "c", b)],
    );
    for version in [10, 20, 30, 40] {
        ok(
            store,
            vec![WriteOp::PutSnapshot {
                number: a,
                snapshot: snapshot(version),
            }],
        );
    }
    // The first snapshot and the newest KEPT (= 2) remain.
    let at = |n: u64, version: u64| {
        store
            .snapshot_at_or_before(n, version)
            .unwrap()
            .map(|s| s.version)
    };
    assert_eq!(at(a, 0), None);
    assert_eq!(at(a, 1), Some(1));
    assert_eq!(at(a, 15), Some(1));
    assert_eq!(at(a, 25), Some(1));
    assert_eq!(at(a, 30), Some(30));
    assert_eq!(at(a, 39), Some(30));
    assert_eq!(at(a, u64::MAX), Some(40));
    assert_eq!(at(b, u64::MAX), Some(1));
    assert_eq!(at(b + 1000, u64::MAX), None);
    assert_eq!(
        store.snapshot_at_or_before(a, 45).unwrap(),
        Some(snapshot(40))
    );
}

fn version_at_time(store: &dyn Store) {
    let d = DomainKey::new("ns", "d");
    let (a, b) = (store.allocate_model_number(), store.allocate_model_number());
    ok(
        store,
        vec![create(&d, "a", "c", a), create(&d, "b", "c", b)],
    );
    assert_eq!(store.version_at_time(a, i64::MAX).unwrap(), None);
    // Timestamps repeat and jump; they never decrease.
    let time = |v: u64| 1000 + (v as i64 / 3) * 10 + if v > 500 { 100_000 } else { 0 };
    let ops: Vec<OpRecord> = (2..=1001).map(|v| splice_record(v, time(v))).collect();
    ok(store, vec![WriteOp::AppendOps { number: a, ops }]);
    ok(store, vec![append(b, 2..=5)]);
    let expected = |t: i64| (2..=1001u64).filter(|&v| time(v) <= t).max();
    for t in (990..=1000 + 170 * 10).step_by(5).chain([
        i64::MIN,
        1000 + 166 * 10 + 50_000,
        time(501),
        time(1001) - 1,
        time(1001),
        i64::MAX,
    ]) {
        assert_eq!(store.version_at_time(a, t).unwrap(), expected(t), "t = {t}");
    }
    assert_eq!(store.version_at_time(b, 3).unwrap(), Some(3));
    assert_eq!(store.version_at_time(b, 1).unwrap(), None);
    assert_eq!(store.version_at_time(b + 1000, 5).unwrap(), None);
}

// ---------------------------------------------------------------------------------------------
// Codec property test.
// ---------------------------------------------------------------------------------------------

fn arb_id() -> impl Strategy<Value = String> {
    "[0-9a-z]{1,3}:[0-9a-z]{1,3}"
}

fn arb_number() -> impl Strategy<Value = f64> {
    prop_oneof![
        (-1000i64..1000).prop_map(|i| i as f64),
        any::<f64>().prop_filter("NaN is not equal to itself", |f| !f.is_nan()),
    ]
}

/// Any UTF-16 code units, biased towards surrogates (paired, reversed or alone).
fn arb_text(max: usize) -> impl Strategy<Value = JsString> {
    let unit = prop_oneof![
        3 => any::<u16>(),
        2 => 0xD800u16..0xE000,
        1 => Just(0x61u16),
    ];
    prop::collection::vec(unit, 0..=max).prop_map(JsString::from_units)
}

fn arb_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        arb_text(8).prop_map(Data::String),
        arb_number().prop_map(Data::Number),
        any::<bool>().prop_map(Data::Boolean),
        any::<i64>().prop_map(Data::Date),
        Just(Data::Null),
    ];
    (arb_id(), leaf)
        .prop_map(|(id, data)| Value::new(id, data))
        .prop_recursive(4, 32, 5, |inner| {
            prop_oneof![
                (arb_id(), prop::collection::vec(inner.clone(), 0..5))
                    .prop_map(|(id, items)| Value::new(id, Data::Array(items))),
                (
                    arb_id(),
                    prop::collection::btree_map(arb_text(4), inner, 0..5)
                )
                    .prop_map(|(id, map)| Value::new(id, Data::Object(map))),
            ]
        })
}

fn arb_map() -> impl Strategy<Value = BTreeMap<JsString, Value>> {
    prop::collection::btree_map(arb_text(4), arb_value(), 0..4)
}

fn arb_kind() -> impl Strategy<Value = OpKind> {
    prop_oneof![
        (any::<i64>(), any::<i64>(), arb_text(6)).prop_map(|(index, delete_count, insert)| {
            OpKind::StringSplice {
                index,
                delete_count,
                insert,
            }
        }),
        arb_text(6).prop_map(|value| OpKind::StringSet { value }),
        (any::<i64>(), arb_value()).prop_map(|(index, value)| OpKind::ArrayInsert { index, value }),
        any::<i64>().prop_map(|index| OpKind::ArrayRemove { index }),
        (any::<i64>(), arb_value())
            .prop_map(|(index, value)| OpKind::ArrayReplace { index, value }),
        (any::<i64>(), any::<i64>()).prop_map(|(from, to)| OpKind::ArrayMove { from, to }),
        prop::collection::vec(arb_value(), 0..4).prop_map(|values| OpKind::ArraySet { values }),
        (arb_text(4), arb_value())
            .prop_map(|(key, value)| OpKind::ObjectAddProperty { key, value }),
        (arb_text(4), arb_value())
            .prop_map(|(key, value)| OpKind::ObjectSetProperty { key, value }),
        arb_text(4).prop_map(|key| OpKind::ObjectRemoveProperty { key }),
        arb_map().prop_map(|values| OpKind::ObjectSet { values }),
        arb_number().prop_map(|delta| OpKind::NumberAdd { delta }),
        arb_number().prop_map(|value| OpKind::NumberSet { value }),
        any::<bool>().prop_map(|value| OpKind::BooleanSet { value }),
        any::<i64>().prop_map(|value| OpKind::DateSet { value }),
    ]
}

fn arb_undo() -> impl Strategy<Value = Undo> {
    prop_oneof![
        Just(Undo::None),
        arb_text(6).prop_map(Undo::Text),
        arb_value().prop_map(Undo::Value),
        prop::collection::vec(arb_value(), 0..4).prop_map(Undo::Values),
        arb_map().prop_map(Undo::Map),
        arb_number().prop_map(Undo::Number),
        any::<bool>().prop_map(Undo::Boolean),
        any::<i64>().prop_map(Undo::Date),
    ]
}

fn arb_applied() -> impl Strategy<Value = AppliedOp> {
    (arb_id(), any::<bool>(), arb_kind(), arb_undo()).prop_map(|(id, no_op, kind, undo)| {
        AppliedOp {
            op: DiscreteOp {
                id: id.into(),
                no_op,
                kind,
            },
            undo,
        }
    })
}

fn arb_record() -> impl Strategy<Value = OpRecord> {
    (
        any::<u64>(),
        any::<i64>(),
        ".{0,6}",
        ".{0,6}",
        any::<bool>(),
        prop::collection::vec(arb_applied(), 1..5),
        any::<Option<u64>>(),
    )
        .prop_map(
            |(version, timestamp_ms, session, user, compound, mut ops, seq)| {
                let op = if compound {
                    AppliedOperation::Compound(ops)
                } else {
                    AppliedOperation::Discrete(ops.remove(0))
                };
                OpRecord {
                    version,
                    timestamp_ms,
                    session: session.into(),
                    user: user.into(),
                    seq,
                    op,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn codec_round_trips_random_op_records(record in arb_record()) {
        let mut buf = Vec::new();
        codec::encode_op(&record, &mut buf).unwrap();
        prop_assert_eq!(codec::decode_op(&buf).unwrap(), record.clone());
        prop_assert_eq!(
            codec::decode_op_time(&buf).unwrap(),
            (record.version, record.timestamp_ms)
        );
    }

    #[test]
    fn encoded_appends_log_as_record_appends_do(
        records in prop::collection::vec(arb_record(), 0..4),
        number in any::<u64>(),
    ) {
        let encoded = EncodedOps::from_records(&records).unwrap();
        prop_assert_eq!(encoded.len(), records.len());
        prop_assert_eq!(encoded.decode().unwrap(), records.clone());
        let (mut direct, mut from_records) = (Vec::new(), Vec::new());
        codec::encode_batch(&[WriteOp::AppendEncoded { number, ops: encoded }], &mut direct)
            .unwrap();
        codec::encode_batch(&[WriteOp::AppendOps { number, ops: records }], &mut from_records)
            .unwrap();
        prop_assert_eq!(direct, from_records);
    }

    #[test]
    fn codec_round_trips_random_snapshots(data in arb_value(), version in any::<u64>()) {
        let s = Snapshot { version, timestamp_ms: -7, data };
        let mut buf = Vec::new();
        codec::encode_snapshot(&s, &mut buf).unwrap();
        prop_assert_eq!(codec::decode_snapshot(&buf).unwrap(), s);
    }

    #[test]
    fn decoding_random_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = codec::decode_op(&bytes);
        let _ = codec::decode_snapshot(&bytes);
        let _ = codec::decode_domain(&bytes);
        let _ = codec::decode_collection(&bytes);
        let _ = codec::decode_model_meta(&bytes);
    }
}

// ---------------------------------------------------------------------------------------------
// LMDB specifics.
// ---------------------------------------------------------------------------------------------

#[test]
fn other_format_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path()));
    LmdbStore::set_format_version_for_tests(dir.path(), 999).unwrap();
    match LmdbStore::open(options(dir.path())) {
        Err(e) => assert_eq!(
            e,
            StoreError::FormatVersion {
                found: 999,
                expected: FORMAT_VERSION
            }
        ),
        Ok(_) => panic!("opened a store of format version 999"),
    }
    // The refused open released the directory: fixing the version makes it usable again.
    LmdbStore::set_format_version_for_tests(dir.path(), FORMAT_VERSION).unwrap();
    drop(open(dir.path()));
}

#[test]
fn a_directory_opens_once_per_process() {
    let dir = tempfile::tempdir().unwrap();
    let first = open(dir.path());
    for path in [dir.path().to_path_buf(), dir.path().join(".")] {
        match LmdbStore::open(options(&path)) {
            Err(StoreError::Io(msg)) => assert!(msg.contains("already open"), "{msg}"),
            Err(e) => panic!("unexpected error {e}"),
            Ok(_) => panic!("opened the same directory twice"),
        }
    }
    drop(first);
    drop(open(dir.path()));
}

#[test]
fn model_numbers_continue_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let d = DomainKey::new("ns", "d");
    {
        let store = open(dir.path());
        assert_eq!(store.allocate_model_number(), 1);
        let n = store.allocate_model_number();
        ok(&store, vec![create(&d, "m", "c", n), append(n, 2..=3)]);
    }
    let store = open(dir.path());
    assert_eq!(store.allocate_model_number(), 3);
}

#[test]
fn a_full_map_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let store = LmdbStore::open(StoreOptions {
        max_size_bytes: 1 << 20,
        ..options(dir.path())
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let big = OpRecord {
        session: "x".repeat(64 * 1024).into(),
        ..splice_record(0, 0)
    };
    let mut error = None;
    for version in 2..100 {
        let r = write_sync(
            &store,
            vec![WriteOp::AppendOps {
                number: 1,
                ops: vec![OpRecord {
                    version,
                    ..big.clone()
                }],
            }],
        );
        if let Err(e) = r {
            error = Some((version, e));
            break;
        }
    }
    let (failed_at, error) = error.expect("a 1 MiB map never filled up");
    assert!(
        matches!(&error, StoreError::Io(m) if m.contains("full")),
        "{error:?}"
    );
    // What was acknowledged is there, the failed write is not, and the store still works.
    assert_eq!(
        store.ops(1, 0, u64::MAX).unwrap().len() as u64,
        failed_at - 2
    );
    ok(&store, vec![WriteOp::PutDomain(domain("a", "b"))]);
}

#[test]
fn group_commit_batches_back_to_back_writes() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let d = DomainKey::new("ns", "d");
    ok(&store, vec![create(&d, "m", "c", 1)]);
    let before = store.commit_count();
    let acked = Arc::new(AtomicUsize::new(0));
    for version in 2..10_002 {
        let acked = acked.clone();
        store.write(
            vec![append(1, version..=version)],
            Box::new(move |r| {
                r.expect("write failed");
                acked.fetch_add(1, Ordering::Relaxed);
            }),
        );
    }
    store.flush().unwrap();
    assert_eq!(acked.load(Ordering::Relaxed), 10_000);
    let commits = store.commit_count() - before;
    println!("10000 single-record writes took {commits} commits");
    assert!(commits < 1_000, "{commits} commits");
    assert_eq!(store.ops(1, 0, u64::MAX).unwrap().len(), 10_000);
}

#[test]
fn a_failed_create_fails_alone_among_queued_writes() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let d = DomainKey::new("ns", "d");
    ok(&store, vec![create(&d, "m", "c", 1)]);
    // Hold the writer inside a callback while three more requests queue up behind it.
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (held_tx, held_rx) = mpsc::channel::<()>();
    let (tx, rx) = mpsc::channel();
    store.write(
        vec![append(1, 2..=2)],
        Box::new(move |r| {
            r.unwrap();
            held_tx.send(()).unwrap();
            let _ = release_rx.recv_timeout(Duration::from_secs(10));
        }),
    );
    held_rx.recv().unwrap();
    let batches = vec![
        vec![append(1, 3..=3)],
        vec![append(1, 4..=4), create(&d, "m", "c", 2)],
        vec![append(1, 4..=5)],
    ];
    for (i, batch) in batches.into_iter().enumerate() {
        let tx = tx.clone();
        store.write(
            batch,
            Box::new(move |r| {
                let _ = tx.send((i, r));
            }),
        );
    }
    std::thread::sleep(Duration::from_millis(50));
    release_tx.send(()).unwrap();
    store.flush().unwrap();
    let results: Vec<_> = rx.try_iter().collect();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0], (0, Ok(())));
    assert!(matches!(results[1], (1, Err(StoreError::AlreadyExists(_)))));
    assert_eq!(results[2], (2, Ok(())));
    let versions: Vec<u64> = store
        .ops(1, 0, u64::MAX)
        .unwrap()
        .into_iter()
        .map(|r| r.version)
        .collect();
    assert_eq!(versions, [2, 3, 4, 5]);
    assert_eq!(store.snapshot_at_or_before(2, u64::MAX).unwrap(), None);
}

// ---------------------------------------------------------------------------------------------
// The write-ahead log.
// ---------------------------------------------------------------------------------------------

/// A store whose applier waits an hour: acknowledged writes stay in the log unless a read or
/// a direct write needs them applied.
fn open_lazy(path: &Path) -> LmdbStore {
    LmdbStore::open(StoreOptions {
        apply_interval: Duration::from_secs(3600),
        ..options(path)
    })
    .unwrap_or_else(|e| panic!("open {}: {e}", path.display()))
}

/// A lazy store holding model 1 with versions `2..=last` appended one write at a time (all of
/// them only in the log, since the applier waits an hour).
fn lazy_store_with_versions(path: &Path, last: u64) -> LmdbStore {
    let store = open_lazy(path);
    ok(
        &store,
        vec![create(&DomainKey::new("ns", "d"), "m", "c", 1)],
    );
    for v in 2..=last {
        ok(&store, vec![append(1, v..=v)]);
    }
    store
}

/// Runs `f` on another thread and fails the test if it takes more than 20 s.
fn within_20s<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(20))
        .expect("the call did not return")
}

fn versions(store: &dyn Store, number: u64) -> Vec<u64> {
    store
        .ops(number, 0, u64::MAX)
        .unwrap()
        .into_iter()
        .map(|r| r.version)
        .collect()
}

#[test]
fn reads_see_acknowledged_writes_before_the_applier_runs() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(open_lazy(dir.path()));
    let d = DomainKey::new("ns", "d");
    ok(store.as_ref(), vec![create(&d, "m", "c", 1)]);
    for v in 2..=6 {
        ok(store.as_ref(), vec![append(1, v..=v)]);
        let s = store.clone();
        assert_eq!(
            within_20s(move || versions(s.as_ref(), 1)),
            (2..=v).collect::<Vec<_>>()
        );
    }
    ok(store.as_ref(), vec![WriteOp::PutDomain(domain("ns", "d"))]);
    let s = store.clone();
    let found = within_20s(move || s.domain(&DomainKey::new("ns", "d")).unwrap());
    assert_eq!(found, Some(domain("ns", "d")));
    // A model creation checks the database: it sees logged writes, too.
    ok(
        store.as_ref(),
        vec![WriteOp::DeleteModel {
            domain: d.clone(),
            id: "m".into(),
        }],
    );
    ok(store.as_ref(), vec![create(&d, "m", "c", 2)]);
    assert!(matches!(
        write_sync(store.as_ref(), vec![create(&d, "m", "c", 3)]),
        Err(StoreError::AlreadyExists(_))
    ));
}

#[test]
fn a_clean_close_applies_the_log_and_a_reopen_starts_afresh() {
    let dir = tempfile::tempdir().unwrap();
    drop(lazy_store_with_versions(dir.path(), 200));
    for _ in 0..2 {
        let store = open_lazy(dir.path());
        assert_eq!(versions(&store, 1), (2..=200).collect::<Vec<_>>());
        for r in store.ops(1, 0, u64::MAX).unwrap() {
            assert_eq!(r, splice_record(r.version, r.version as i64));
        }
    }
    // Writes after a reopen continue the log.
    {
        let store = open_lazy(dir.path());
        ok(&store, vec![append(1, 201..=201)]);
    }
    assert_eq!(
        versions(&open(dir.path()), 1),
        (2..=201).collect::<Vec<_>>()
    );
}

/// Copies a data directory (database and log) as a crash would leave it.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.join("wal")).unwrap();
    for name in ["data.mdb", "lock.mdb"] {
        std::fs::copy(from.join(name), to.join(name)).unwrap();
    }
    for entry in std::fs::read_dir(from.join("wal")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join("wal").join(entry.file_name())).unwrap();
    }
}

/// The log segment holding records in `dir` (the one with a non-zero header), and where its
/// records end.
fn used_segment(dir: &Path) -> (std::path::PathBuf, usize) {
    let mut found = None;
    for entry in std::fs::read_dir(dir.join("wal")).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        if bytes.len() >= 16 && bytes[..16].iter().any(|b| *b != 0) {
            assert!(found.is_none(), "one used segment expected");
            let end = bytes.iter().rposition(|b| *b != 0).unwrap() + 1;
            found = Some((path, end));
        }
    }
    found.expect("no used log segment")
}

#[test]
fn a_log_cut_short_loses_only_its_last_record_and_damage_fails_the_open() {
    let dir = tempfile::tempdir().unwrap();
    let store = lazy_store_with_versions(dir.path(), 11);
    // The applier is idle (an hour's interval): the copies hold the database without the
    // appends and the log with all of them, as after a crash.
    let intact = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), intact.path());
    let torn = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), torn.path());
    let damaged = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), damaged.path());
    drop(store);

    assert_eq!(
        versions(&open(intact.path()), 1),
        (2..=11).collect::<Vec<_>>()
    );

    // The last append only partly reached the disk: it was never acknowledged.
    let (path, end) = used_segment(torn.path());
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[end - 6..end].fill(0);
    std::fs::write(&path, &bytes).unwrap();
    assert_eq!(
        versions(&open(torn.path()), 1),
        (2..=10).collect::<Vec<_>>()
    );

    // A flipped bit in an earlier record, with intact records after it, is corruption: the
    // open fails and says so instead of dropping acknowledged writes.
    let (path, _) = used_segment(damaged.path());
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[16 + 16 + 2] ^= 0x10;
    std::fs::write(&path, &bytes).unwrap();
    match LmdbStore::open(options(damaged.path())) {
        Err(StoreError::Corrupt(m)) => assert!(m.contains("write-ahead log"), "{m}"),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("opened a store with a damaged log"),
    }
}

#[test]
fn format_1_directories_open_and_are_upgraded() {
    let dir = tempfile::tempdir().unwrap();
    let d = DomainKey::new("ns", "d");
    {
        let store = open(dir.path());
        ok(&store, vec![create(&d, "m", "c", 1), append(1, 2..=4)]);
    }
    LmdbStore::set_format_version_for_tests(dir.path(), 1).unwrap();
    assert_eq!(FORMAT_VERSION, 3);
    for _ in 0..2 {
        let store = open(dir.path());
        assert_eq!(versions(&store, 1), [2, 3, 4]);
    }
}

const FOLLOWER_DIR_VAR: &str = "TANDEM_STORE_FOLLOWER_DIR";

/// Run by [`a_second_process_sees_the_owners_log_and_writes_in_order`] in a child process;
/// does nothing otherwise.
#[test]
#[ignore = "child process of a_second_process_sees_the_owners_log_and_writes_in_order"]
fn follower_child() {
    let Ok(dir) = std::env::var(FOLLOWER_DIR_VAR) else {
        return;
    };
    let store = open(Path::new(&dir));
    println!("SEEN {:?}", versions(&store, 1));
    ok(&store, vec![append(1, 21..=21)]);
    println!("WROTE");
}

#[test]
fn a_second_process_sees_the_owners_log_and_writes_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = lazy_store_with_versions(dir.path(), 20);
    // Versions 2..=20 are only in this process's log; another process (like `tandem dump`
    // next to a running server) applies them when it opens the directory.
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "follower_child", "--nocapture", "--ignored"])
        .env(FOLLOWER_DIR_VAR, dir.path())
        .output()
        .expect("run the follower child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let seen = format!("SEEN {:?}", (2..=20).collect::<Vec<u64>>());
    assert!(stdout.contains(&seen), "{stdout}");
    assert!(stdout.contains("WROTE"), "{stdout}");
    // The other process's write follows ours, and ours continue after it.
    assert_eq!(versions(&store, 1), (2..=21).collect::<Vec<_>>());
    ok(&store, vec![append(1, 22..=22)]);
    assert_eq!(versions(&store, 1), (2..=22).collect::<Vec<_>>());
    drop(store);
    assert_eq!(versions(&open(dir.path()), 1), (2..=22).collect::<Vec<_>>());
}

// ---------------------------------------------------------------------------------------------
// Crash test: acknowledged writes survive SIGKILL.
// ---------------------------------------------------------------------------------------------

const CRASH_DIR_VAR: &str = "TANDEM_STORE_CRASH_DIR";
/// The crash child's apply interval in milliseconds (default: the tests' usual 10).
const CRASH_APPLY_VAR: &str = "TANDEM_STORE_CRASH_APPLY_MS";
const CRASH_CHILD: &str = "crash_child_writer";

/// The record the crash child writes for `version` (content derivable from the version).
fn crash_record(version: u64) -> OpRecord {
    OpRecord {
        version,
        timestamp_ms: 1_700_000_000_000 + version as i64,
        session: format!("s{}", version % 7).into(),
        user: "crash".into(),
        seq: Some(version),
        op: AppliedOperation::Discrete(AppliedOp {
            op: DiscreteOp::new(
                "0:1",
                OpKind::StringSplice {
                    index: version as i64,
                    delete_count: 0,
                    insert: format!("v{version}").into(),
                },
            ),
            undo: Undo::None,
        }),
    }
}

/// Run by [`acknowledged_writes_survive_sigkill`] in a child process; does nothing otherwise.
#[test]
#[ignore = "child process of acknowledged_writes_survive_sigkill"]
fn crash_child_writer() {
    let Ok(dir) = std::env::var(CRASH_DIR_VAR) else {
        return;
    };
    let apply_ms = std::env::var(CRASH_APPLY_VAR)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let store = Arc::new(
        LmdbStore::open(StoreOptions {
            apply_interval: Duration::from_millis(apply_ms),
            ..options(Path::new(&dir))
        })
        .unwrap(),
    );
    let number = store.allocate_model_number();
    let d = DomainKey::new("ns", "d");
    ok(store.as_ref(), vec![create(&d, "m", "c", number)]);
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "READY {number}").unwrap();
        out.flush().unwrap();
    }
    // Versions are taken and written under one lock, so call order is version order.
    let next = Arc::new(Mutex::new(2u64));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (store, next, in_flight) = (store.clone(), next.clone(), in_flight.clone());
            std::thread::spawn(move || loop {
                while in_flight.load(Ordering::Acquire) >= 256 {
                    std::thread::sleep(Duration::from_micros(200));
                }
                let mut guard = next.lock().unwrap();
                let version = *guard;
                *guard += 1;
                in_flight.fetch_add(1, Ordering::AcqRel);
                let in_flight = in_flight.clone();
                store.write(
                    vec![WriteOp::AppendOps {
                        number,
                        ops: vec![crash_record(version)],
                    }],
                    Box::new(move |r| {
                        if r.is_ok() {
                            let mut out = std::io::stdout().lock();
                            let _ = writeln!(out, "ACK {version}");
                            let _ = out.flush();
                        }
                        in_flight.fetch_sub(1, Ordering::AcqRel);
                    }),
                );
                drop(guard);
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    sigkill_a_writer_and_check(10);
}

/// With an apply interval of an hour nothing the child logs reaches the database before the
/// kill: every acknowledged write comes back from the write-ahead log alone.
#[test]
fn acknowledged_writes_only_in_the_log_survive_sigkill() {
    sigkill_a_writer_and_check(3_600_000);
}

fn sigkill_a_writer_and_check(apply_ms: u64) {
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", CRASH_CHILD, "--nocapture", "--ignored"])
        .env(CRASH_DIR_VAR, dir.path())
        .env(CRASH_APPLY_VAR, apply_ms.to_string())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn the crash child");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut number = None;
    let mut acked = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    let parse = |line: &str, number: &mut Option<u64>, acked: &mut Vec<u64>| {
        if let Some(v) = line.strip_prefix("ACK ") {
            acked.push(v.trim().parse::<u64>().unwrap());
        } else if let Some(n) = line.strip_prefix("READY ") {
            *number = Some(n.trim().parse().unwrap());
        }
    };
    while acked.len() < 2_000 {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => parse(&line, &mut number, &mut acked),
            Err(_) => {
                let _ = child.kill();
                panic!("the child stopped after {} acks", acked.len());
            }
        }
    }
    child.kill().expect("SIGKILL the child");
    child.wait().unwrap();
    // Acks already in the pipe were printed before the kill.
    for line in rx.iter() {
        parse(&line, &mut number, &mut acked);
    }
    reader.join().unwrap();
    let number = number.expect("the child never reported its model");

    let store = open(dir.path());
    let log = store.ops(number, 0, u64::MAX).unwrap();
    let max = log.last().map_or(1, |r| r.version);
    println!(
        "{} acks seen, log holds versions 2..={max} after SIGKILL",
        acked.len()
    );
    let versions: Vec<u64> = log.iter().map(|r| r.version).collect();
    assert_eq!(versions, (2..=max).collect::<Vec<_>>(), "the log has gaps");
    for r in &log {
        assert_eq!(*r, crash_record(r.version));
    }
    for v in acked {
        assert!(
            v <= max,
            "acknowledged version {v} lost (log ends at {max})"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Throughput (prints figures; run with `--ignored --nocapture`, ideally `--release`).
// ---------------------------------------------------------------------------------------------

#[test]
#[ignore = "benchmark; prints figures"]
fn append_throughput() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let d = DomainKey::new("ns", "d");
    ok(&store, vec![create(&d, "m", "c", 1)]);
    const N: u64 = 1_000_000;
    let ops: Vec<OpRecord> = (2..N + 2)
        .map(|v| splice_record(v, 1_760_000_000_000 + v as i64))
        .collect();
    let start = Instant::now();
    ok(&store, vec![WriteOp::AppendOps { number: 1, ops }]);
    let elapsed = start.elapsed();
    let stats = store.stats().unwrap();
    println!(
        "{N} op records in one transaction: {:.0} records/s; {:.1} log bytes/op, {:.1} file bytes/op",
        N as f64 / elapsed.as_secs_f64(),
        stats.log_bytes as f64 / N as f64,
        stats.file_bytes as f64 / N as f64
    );
    let start = Instant::now();
    for t in 0..1000 {
        store
            .version_at_time(1, 1_760_000_000_000 + t * 997)
            .unwrap();
    }
    println!(
        "version_at_time on a 1M-op log: {:?} per call",
        start.elapsed() / 1000
    );
}
