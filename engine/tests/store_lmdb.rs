//! The LMDB store: record round-trips, the same behaviour as the in-memory store, format
//! version checks, single open per process, durability of acknowledged writes across SIGKILL,
//! and group commit.

mod support;
use support::write_sync;

use std::collections::BTreeMap;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use proptest::prelude::*;
use tandem::ot::{AppliedOp, AppliedOperation, Data, DiscreteOp, JsString, OpKind, Undo, Value};
use tandem::store::codec;
use tandem::store::{
    DomainKey, EncodedOps, JwtKeyRecord, LmdbStore, ModelMeta, OpRecord, ReconnectTokenRecord,
    Snapshot, Store, StoreError, StoreOptions, StoreResult, UserRecord, UserType, WriteOp,
    FORMAT_VERSION,
};

#[path = "support/records.rs"]
mod records;
use records::*;

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
        mark: None,
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
                    mark: None,
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
