//! Activity records: the memory store and the LMDB store agree on what a reader sees (by type
//! and id, a domain's list in order, deletions taking the activity's permission rows and a
//! domain's deletion taking its activities), and LMDB keeps them across a reopen and recovers
//! them from the write-ahead log; a key LMDB cannot hold is refused.

#[path = "support/records.rs"]
mod records;
mod support;
use records::{ok, open, open_lazy};
use support::write_sync;

use tandem::store::{
    ActivityRecord, DomainKey, Grantee, MemoryStore, PermissionTarget, Store, WriteOp,
};

fn record(domain: &DomainKey, kind: &str, id: &str, ephemeral: bool) -> ActivityRecord {
    ActivityRecord {
        domain: domain.clone(),
        activity_type: kind.into(),
        id: id.into(),
        created_ms: 1_700_000_000_123,
        ephemeral,
    }
}

fn target(kind: &str, id: &str) -> PermissionTarget {
    PermissionTarget::Activity {
        kind: kind.into(),
        id: id.into(),
    }
}

/// What a reader sees after the scenario's writes.
fn scenario(store: &dyn Store) -> Vec<String> {
    let d = DomainKey::new("ns", "d");
    let other = DomainKey::new("ns", "other");
    ok(
        store,
        vec![
            WriteOp::PutActivity(record(&d, "board", "b\u{0}2", false)),
            WriteOp::PutActivity(record(&d, "board", "b1", true)),
            WriteOp::PutActivity(record(&d, "a-type", "z", false)),
            WriteOp::PutActivity(record(&other, "board", "b1", false)),
            WriteOp::SetPermissions {
                domain: d.clone(),
                target: target("board", "b1"),
                grantee: Grantee::World,
                permissions: vec!["join".into()],
            },
            WriteOp::SetPermissions {
                domain: d.clone(),
                target: target("board", "b\u{0}2"),
                grantee: Grantee::World,
                permissions: vec!["lurk".into()],
            },
        ],
    );
    let mut seen = Vec::new();
    let list = |store: &dyn Store, key: &DomainKey| -> Vec<String> {
        store
            .activities(key)
            .expect("list")
            .iter()
            .map(|r| format!("{}/{:?}/{}", r.activity_type, r.id, r.ephemeral))
            .collect()
    };
    seen.extend(list(store, &d));
    ok(
        store,
        vec![WriteOp::DeleteActivity {
            domain: d.clone(),
            activity_type: "board".into(),
            id: "b1".into(),
        }],
    );
    assert_eq!(store.activity(&d, "board", "b1").expect("read"), None);
    assert!(store
        .permissions(&d, &target("board", "b1"))
        .expect("rows")
        .is_empty());
    assert_eq!(
        store
            .permissions(&d, &target("board", "b\u{0}2"))
            .expect("rows")
            .len(),
        1,
        "another activity's rows stay"
    );
    assert_eq!(
        store.activity(&other, "board", "b1").expect("read"),
        Some(record(&other, "board", "b1", false)),
        "the same type and id in another domain stays"
    );
    seen.extend(list(store, &d));
    ok(store, vec![WriteOp::DeleteDomain(d.clone())]);
    assert!(store.activities(&d).expect("list").is_empty());
    seen.extend(list(store, &other));
    seen
}

#[test]
fn memory_and_lmdb_agree() {
    let memory = scenario(&MemoryStore::new(2));
    let dir = tempfile::tempdir().expect("dir");
    let lmdb = scenario(&open(dir.path()));
    assert_eq!(memory, lmdb);
    // By type, then id (an embedded NUL sorts before any other character).
    let expected = [
        r#"a-type/"z"/false"#,
        r#"board/"b\02"/false"#,
        r#"board/"b1"/true"#,
        r#"a-type/"z"/false"#,
        r#"board/"b\02"/false"#,
        r#"board/"b1"/false"#,
    ];
    assert_eq!(memory, expected);
}

#[test]
fn lmdb_keeps_activities_across_a_reopen_and_recovers_them_from_the_log() {
    let dir = tempfile::tempdir().expect("dir");
    let d = DomainKey::new("ns", "d");
    {
        let store = open(dir.path());
        ok(
            &store,
            vec![WriteOp::PutActivity(record(&d, "deck", "kept", false))],
        );
    }
    {
        // An applier that never runs before the store closes: the record is only in the log.
        let store = open_lazy(dir.path());
        ok(
            &store,
            vec![WriteOp::PutActivity(record(&d, "deck", "logged", true))],
        );
    }
    let store = open(dir.path());
    assert_eq!(
        store.activity(&d, "deck", "kept").expect("read"),
        Some(record(&d, "deck", "kept", false))
    );
    assert_eq!(
        store.activity(&d, "deck", "logged").expect("read"),
        Some(record(&d, "deck", "logged", true))
    );
}

#[test]
fn lmdb_refuses_an_activity_key_it_cannot_hold() {
    let dir = tempfile::tempdir().expect("dir");
    let store = open(dir.path());
    let d = DomainKey::new("ns", "d");
    let long = "x".repeat(600);
    let refused = write_sync(
        &store,
        vec![WriteOp::PutActivity(record(&d, "t", &long, false))],
    );
    assert!(refused.is_err());
    assert_eq!(store.activity(&d, "t", &long).expect("read"), None);
}
