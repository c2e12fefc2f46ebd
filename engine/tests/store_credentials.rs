//! Administrators and API keys in the store: the memory store and the LMDB store agree on what
//! a reader sees (by name or id, in order, after replacement and deletion), a domain's deletion
//! takes its API keys and no other domain's, and LMDB keeps them across a reopen and recovers
//! them from the write-ahead log.

#[path = "support/records.rs"]
mod records;
mod support;
use records::{ok, open, open_lazy};

use tandem::store::{AdminRecord, ApiKeyRecord, DomainKey, MemoryStore, Store, WriteOp};

fn admin(name: &str, hash: &str) -> AdminRecord {
    AdminRecord {
        username: name.into(),
        password_hash: hash.into(),
        created_ms: 1_700_000_000_000,
        updated_ms: 1_700_000_000_500,
    }
}

fn key(domain: &DomainKey, id: &str, read_only: bool) -> ApiKeyRecord {
    ApiKeyRecord {
        domain: domain.clone(),
        id: id.into(),
        name: format!("key {id} é"),
        secret_hash: format!("{id:0>64}"),
        read_only,
        created_ms: -3,
    }
}

/// What a reader sees after a sequence of writes, as text to compare stores by.
fn scenario(store: &dyn Store) -> Vec<String> {
    let a = DomainKey::new("ns", "a");
    let b = DomainKey::new("ns", "b");
    let mut seen = Vec::new();
    ok(
        store,
        vec![
            WriteOp::PutAdmin(admin("root", "h1")),
            WriteOp::PutAdmin(admin("ops\u{0}x", "h2")),
            WriteOp::PutApiKey(key(&a, "k2", true)),
            WriteOp::PutApiKey(key(&a, "k1", false)),
            WriteOp::PutApiKey(key(&b, "k1", true)),
        ],
    );
    let names = |s: &dyn Store| {
        s.admins()
            .unwrap()
            .iter()
            .map(|r| r.username.clone())
            .collect::<Vec<_>>()
            .join(",")
    };
    let ids = |s: &dyn Store, d: &DomainKey| {
        s.api_keys(d)
            .unwrap()
            .iter()
            .map(|r| format!("{}:{}", r.id, r.read_only))
            .collect::<Vec<_>>()
            .join(",")
    };
    seen.push(names(store));
    seen.push(ids(store, &a));
    seen.push(ids(store, &b));
    seen.push(format!(
        "{:?}",
        store.admin("root").unwrap().map(|r| r.password_hash)
    ));
    seen.push(format!(
        "{:?}",
        store.api_key(&a, "k1").unwrap() == Some(key(&a, "k1", false))
    ));
    // Replace, delete, and drop a whole domain.
    ok(
        store,
        vec![
            WriteOp::PutAdmin(admin("root", "h3")),
            WriteOp::DeleteAdmin {
                username: "ops\u{0}x".into(),
            },
            WriteOp::DeleteApiKey {
                domain: a.clone(),
                id: "k2".into(),
            },
        ],
    );
    seen.push(names(store));
    seen.push(format!(
        "{:?}",
        store.admin("root").unwrap().map(|r| r.password_hash)
    ));
    seen.push(ids(store, &a));
    ok(store, vec![WriteOp::DeleteDomain(a.clone())]);
    seen.push(ids(store, &a));
    seen.push(ids(store, &b));
    seen.push(format!("{:?}", store.api_key(&a, "k1").unwrap()));
    seen
}

#[test]
fn memory_and_lmdb_agree() {
    let memory = scenario(&MemoryStore::new(2));
    let dir = tempfile::tempdir().expect("dir");
    let lmdb = scenario(&open(dir.path()));
    assert_eq!(memory, lmdb);
    let expected = [
        "ops\u{0}x,root",
        "k1:false,k2:true",
        "k1:true",
        "Some(\"h1\")",
        "true",
        "root",
        "Some(\"h3\")",
        "k1:false",
        "",
        "k1:true",
        "None",
    ];
    assert_eq!(memory, expected);
}

#[test]
fn lmdb_keeps_credentials_across_a_reopen_and_recovers_them_from_the_log() {
    let dir = tempfile::tempdir().expect("dir");
    let d = DomainKey::new("ns", "d");
    {
        let store = open(dir.path());
        ok(
            &store,
            vec![
                WriteOp::PutAdmin(admin("kept", "h")),
                WriteOp::PutApiKey(key(&d, "kept", true)),
            ],
        );
    }
    {
        // An applier that never runs before the store closes: the writes are only in the log.
        let store = open_lazy(dir.path());
        ok(
            &store,
            vec![
                WriteOp::PutAdmin(admin("logged", "h")),
                WriteOp::PutApiKey(key(&d, "logged", false)),
            ],
        );
    }
    let store = open(dir.path());
    let admins: Vec<String> = store
        .admins()
        .unwrap()
        .into_iter()
        .map(|r| r.username)
        .collect();
    assert_eq!(admins, ["kept", "logged"]);
    assert_eq!(
        store.api_keys(&d).unwrap(),
        [key(&d, "kept", true), key(&d, "logged", false)]
    );
}
