//! Permission rows, groups and memberships: every scenario runs against the in-memory store
//! (the reference semantics) and the LMDB store, and the two must agree on everything a
//! reader can see. LMDB specifics: durability across a reopen, recovery from the write-ahead
//! log, the format-3 upgrade, and refusing keys LMDB cannot hold. A property test drives both
//! stores with random sequences of the access-control writes and the deletions that cascade
//! into them.

mod support;
use support::write_sync;

#[path = "support/records.rs"]
mod records;
use records::{copy_dir, ok, open, open_lazy, KEPT};

use proptest::prelude::*;
use tandem::ot::{Data, Value};
use tandem::store::{
    CollectionRecord, DomainKey, DomainRecord, DomainState, Grantee, GranteeKind, GroupRecord,
    LmdbStore, MemoryStore, ModelMeta, PermissionRow, PermissionTarget, Snapshot, Store,
    StoreError, StoreResult, UserRecord, UserType, WriteOp,
};

// ---------------------------------------------------------------------------------------------
// Builders.
// ---------------------------------------------------------------------------------------------

fn dk(ns: &str, id: &str) -> DomainKey {
    DomainKey::new(ns, id)
}

fn domain(key: &DomainKey) -> DomainRecord {
    DomainRecord {
        key: key.clone(),
        display_name: format!("Domain {key}"),
        created_ms: 1,
        anonymous_auth: false,
        collection_auto_create: true,
        state: DomainState::Online,
        reconnect_token_minutes: 60,
        default_collection_world: vec!["read".into()],
        admin_private_key_pem: String::new(),
        admin_public_key_pem: String::new(),
        snapshots: Default::default(),
    }
}

fn put_collection(d: &DomainKey, id: &str) -> WriteOp {
    WriteOp::PutCollection {
        domain: d.clone(),
        record: CollectionRecord {
            id: id.into(),
            description: String::new(),
            created_ms: 0,
        },
    }
}

fn create_model(d: &DomainKey, id: &str, collection: &str, number: u64) -> WriteOp {
    WriteOp::CreateModel {
        meta: ModelMeta {
            domain: d.clone(),
            id: id.into(),
            collection: collection.into(),
            number,
            created_ms: 0,
            modified_ms: 0,
            version: 1,
            value_prefix: 0,
            ephemeral: false,
        },
        snapshot: Snapshot {
            version: 1,
            timestamp_ms: 0,
            data: Value::new("0:0", Data::Null),
        },
    }
}

fn put_user(d: &DomainKey, user_type: UserType, name: &str) -> WriteOp {
    WriteOp::PutUser {
        domain: d.clone(),
        record: UserRecord::placeholder(user_type, name),
    }
}

fn set(d: &DomainKey, target: &PermissionTarget, grantee: &Grantee, perms: &[&str]) -> WriteOp {
    WriteOp::SetPermissions {
        domain: d.clone(),
        target: target.clone(),
        grantee: grantee.clone(),
        permissions: perms.iter().map(|p| p.to_string()).collect(),
    }
}

fn clear(d: &DomainKey, target: &PermissionTarget, kind: GranteeKind) -> WriteOp {
    WriteOp::ClearPermissions {
        domain: d.clone(),
        target: target.clone(),
        kind,
    }
}

fn put_group(d: &DomainKey, id: &str, description: &str) -> WriteOp {
    WriteOp::PutGroup {
        domain: d.clone(),
        record: GroupRecord {
            id: id.into(),
            description: description.into(),
        },
    }
}

fn add(d: &DomainKey, group: &str, user_type: UserType, name: &str) -> WriteOp {
    WriteOp::AddGroupMember {
        domain: d.clone(),
        group: group.into(),
        user_type,
        username: name.into(),
    }
}

fn remove(d: &DomainKey, group: &str, user_type: UserType, name: &str) -> WriteOp {
    WriteOp::RemoveGroupMember {
        domain: d.clone(),
        group: group.into(),
        user_type,
        username: name.into(),
    }
}

fn delete_user(d: &DomainKey, user_type: UserType, name: &str) -> WriteOp {
    WriteOp::DeleteUser {
        domain: d.clone(),
        user_type,
        username: name.into(),
    }
}

fn user(user_type: UserType, name: &str) -> Grantee {
    Grantee::User(user_type, name.into())
}

fn group(id: &str) -> Grantee {
    Grantee::Group(id.into())
}

fn coll(id: &str) -> PermissionTarget {
    PermissionTarget::Collection(id.into())
}

fn model(id: &str) -> PermissionTarget {
    PermissionTarget::Model(id.into())
}

/// Fails unless `grantee` holds exactly `perms` on `target`.
fn assert_holds(
    store: &dyn Store,
    d: &DomainKey,
    target: &PermissionTarget,
    grantee: &Grantee,
    perms: &[&str],
) {
    let held = store.permission(d, target, grantee).unwrap();
    assert_eq!(held, strings(perms), "{d} {target:?} {grantee:?}");
}

/// Fails unless a read answered nothing.
fn assert_empty<T: std::fmt::Debug>(answer: StoreResult<Vec<T>>) {
    let answer = answer.unwrap();
    assert!(answer.is_empty(), "{answer:?}");
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn row(grantee: Grantee, perms: &[&str]) -> PermissionRow {
    PermissionRow {
        grantee,
        permissions: strings(perms),
    }
}

/// Every collection permission, as the store sorts them.
const ALL_SORTED: [&str; 5] = ["create", "manage", "read", "remove", "write"];

// ---------------------------------------------------------------------------------------------
// What a reader can see.
// ---------------------------------------------------------------------------------------------

/// The identifiers a scenario may have used: what [`observe`] looks at.
struct Universe {
    domains: Vec<DomainKey>,
    ids: Vec<String>,
    users: Vec<(UserType, String)>,
}

impl Universe {
    fn of(domains: &[DomainKey], ids: &[&str], names: &[&str]) -> Self {
        let mut users = Vec::new();
        for t in [UserType::Normal, UserType::Convergence, UserType::Anonymous] {
            users.extend(names.iter().map(|n| (t, n.to_string())));
        }
        Universe {
            domains: domains.to_vec(),
            ids: ids.iter().map(|s| s.to_string()).collect(),
            users,
        }
    }

    fn targets(&self) -> Vec<PermissionTarget> {
        let mut out = vec![PermissionTarget::Global];
        for id in &self.ids {
            out.push(PermissionTarget::Collection(id.clone()));
            out.push(PermissionTarget::Model(id.clone()));
            out.push(PermissionTarget::Chat(id.clone()));
            for kind in &self.ids {
                out.push(PermissionTarget::Activity {
                    kind: kind.clone(),
                    id: id.clone(),
                });
            }
        }
        out
    }

    fn grantees(&self) -> Vec<Grantee> {
        let mut out = vec![Grantee::World];
        out.extend(self.users.iter().map(|(t, n)| Grantee::User(*t, n.clone())));
        out.extend(self.ids.iter().map(|g| Grantee::Group(g.clone())));
        out
    }
}

type Member = (UserType, String);

/// Everything the store shows about access control (and the records deletions cascade
/// from), in a comparable form: per domain, what each read answers, empty answers left out.
#[derive(Debug, Default, PartialEq)]
struct State {
    rows: Vec<(DomainKey, PermissionTarget, Vec<PermissionRow>)>,
    single: Vec<(DomainKey, PermissionTarget, Grantee, Vec<String>)>,
    groups: Vec<(DomainKey, Vec<GroupRecord>, Vec<Option<GroupRecord>>)>,
    members: Vec<(DomainKey, String, Vec<Member>)>,
    memberships: Vec<(DomainKey, Member, Vec<String>)>,
    models: Vec<(DomainKey, Vec<(String, String)>)>,
    collections: Vec<(DomainKey, Vec<String>)>,
    users: Vec<(DomainKey, Vec<Member>)>,
}

fn observe(store: &dyn Store, u: &Universe) -> State {
    let mut s = State::default();
    for d in &u.domains {
        for t in u.targets() {
            let rows = store.permissions(d, &t).unwrap();
            for r in &rows {
                assert!(!r.permissions.is_empty(), "an empty row is kept: {r:?}");
                let mut sorted = r.permissions.clone();
                sorted.sort();
                sorted.dedup();
                assert_eq!(sorted, r.permissions, "unsorted or duplicated");
            }
            if !rows.is_empty() {
                s.rows.push((d.clone(), t.clone(), rows));
            }
            for g in u.grantees() {
                let p = store.permission(d, &t, &g).unwrap();
                if !p.is_empty() {
                    s.single.push((d.clone(), t.clone(), g, p));
                }
            }
        }
        let by_id = u.ids.iter().map(|g| store.group(d, g).unwrap()).collect();
        s.groups.push((d.clone(), store.groups(d).unwrap(), by_id));
        for g in &u.ids {
            let m = store.group_members(d, g).unwrap();
            if !m.is_empty() {
                s.members.push((d.clone(), g.clone(), m));
            }
        }
        for (t, n) in &u.users {
            let g = store.user_groups(d, *t, n).unwrap();
            if !g.is_empty() {
                s.memberships.push((d.clone(), (*t, n.clone()), g));
            }
        }
        let models = store.models(d, None).unwrap();
        s.models.push((
            d.clone(),
            models.into_iter().map(|m| (m.id, m.collection)).collect(),
        ));
        let collections = store.collections(d).unwrap();
        s.collections
            .push((d.clone(), collections.into_iter().map(|c| c.id).collect()));
        let users = store.users(d).unwrap();
        s.users.push((
            d.clone(),
            users
                .into_iter()
                .map(|r| (r.user_type, r.username))
                .collect(),
        ));
    }
    s
}

/// Runs `scenario` on a memory store and on an LMDB store; both must pass its checks and end
/// up showing the same state.
macro_rules! on_both_stores {
    ($scenario:ident) => {
        mod $scenario {
            #[test]
            fn memory_and_lmdb_agree() {
                let memory = tandem::store::MemoryStore::new(super::KEPT);
                let expected = super::$scenario(&memory);
                let dir = tempfile::tempdir().unwrap();
                let lmdb = super::open(dir.path());
                assert_eq!(super::$scenario(&lmdb), expected);
            }
        }
    };
}

on_both_stores!(set_replace_and_delete_rows);
on_both_stores!(clear_permissions_per_kind);
on_both_stores!(rows_come_out_world_then_users_then_groups);
on_both_stores!(groups_and_members_both_directions);
on_both_stores!(deleting_a_domain_drops_its_rows_and_groups);
on_both_stores!(deleting_a_collection_drops_its_rows_and_its_models_rows);
on_both_stores!(deleting_a_model_drops_its_rows);
on_both_stores!(deleting_a_user_drops_its_memberships_and_rows);
on_both_stores!(deleting_a_group_drops_its_memberships_and_rows);

// ---------------------------------------------------------------------------------------------
// Scenarios.
// ---------------------------------------------------------------------------------------------

fn set_replace_and_delete_rows(store: &dyn Store) -> State {
    // "x\0" checks that keys are escaped: a row of "a/x" is not one of "a/x\0".
    let (dx, dx0) = (dk("a", "x"), dk("a", "x\u{0}"));
    let bob = user(UserType::Normal, "bob");
    ok(
        store,
        vec![
            set(&dx, &coll("c"), &bob, &["write", "read", "write", "read"]),
            set(&dx0, &coll("c"), &bob, &["manage"]),
            set(&dx, &coll("c\u{0}"), &bob, &["remove"]),
            set(
                &dx,
                &PermissionTarget::Global,
                &Grantee::World,
                &["create_chat"],
            ),
        ],
    );
    assert_holds(store, &dx, &coll("c"), &bob, &["read", "write"]);
    assert_eq!(
        store.permissions(&dx, &coll("c")).unwrap(),
        vec![row(bob.clone(), &["read", "write"])]
    );
    assert_holds(store, &dx0, &coll("c"), &bob, &["manage"]);
    // Replacing a row replaces it whole.
    ok(store, vec![set(&dx, &coll("c"), &bob, &["manage"])]);
    assert_holds(store, &dx, &coll("c"), &bob, &["manage"]);
    // An empty list deletes the row (and deleting a missing row is nothing).
    ok(
        store,
        vec![
            set(&dx, &coll("c"), &bob, &[]),
            set(&dx, &coll("nope"), &bob, &[]),
        ],
    );
    assert_empty(store.permission(&dx, &coll("c"), &bob));
    assert_empty(store.permissions(&dx, &coll("c")));
    // Other targets and domains are untouched.
    assert_holds(store, &dx, &coll("c\u{0}"), &bob, &["remove"]);
    assert_holds(store, &dx0, &coll("c"), &bob, &["manage"]);
    // A row may be granted on a target the store knows nothing about, to anyone.
    assert!(store.collection(&dx, "c").unwrap().is_none());
    observe(
        store,
        &Universe::of(&[dx, dx0], &["c", "c\u{0}", "nope"], &["bob"]),
    )
}

/// Rows of every grantee kind on `target` (and on a neighbour, which must survive).
fn rows_of_every_kind(d: &DomainKey, target: &PermissionTarget) -> Vec<WriteOp> {
    let mut out = Vec::new();
    for t in [target.clone(), model("other")] {
        out.extend([
            set(d, &t, &Grantee::World, &["read"]),
            set(d, &t, &user(UserType::Normal, "bob"), &["write"]),
            set(d, &t, &user(UserType::Anonymous, "anna"), &["read"]),
            set(d, &t, &group("editors"), &["write"]),
            set(d, &t, &group("readers"), &["read"]),
        ]);
    }
    out
}

fn clear_permissions_per_kind(store: &dyn Store) -> State {
    let d = dk("ns", "d");
    let target = PermissionTarget::Activity {
        kind: "doc".into(),
        id: "a1".into(),
    };
    let grantees_after = |store: &dyn Store| -> Vec<Grantee> {
        store
            .permissions(&d, &target)
            .unwrap()
            .into_iter()
            .map(|r| r.grantee)
            .collect()
    };
    let cases = [
        (
            GranteeKind::World,
            vec![
                user(UserType::Normal, "bob"),
                user(UserType::Anonymous, "anna"),
                group("editors"),
                group("readers"),
            ],
        ),
        (
            GranteeKind::Users,
            vec![Grantee::World, group("editors"), group("readers")],
        ),
        (
            GranteeKind::Groups,
            vec![
                Grantee::World,
                user(UserType::Normal, "bob"),
                user(UserType::Anonymous, "anna"),
            ],
        ),
        (GranteeKind::All, vec![]),
    ];
    for (kind, left) in cases {
        ok(store, rows_of_every_kind(&d, &target));
        ok(store, vec![clear(&d, &target, kind)]);
        assert_eq!(grantees_after(store), left, "{kind:?}");
        assert_eq!(store.permissions(&d, &model("other")).unwrap().len(), 5);
    }
    // Clearing a target without rows is nothing.
    ok(store, vec![clear(&d, &coll("none"), GranteeKind::All)]);
    observe(
        store,
        &Universe::of(
            &[d],
            &["other", "none", "editors", "readers", "doc", "a1"],
            &["bob", "anna"],
        ),
    )
}

fn rows_come_out_world_then_users_then_groups(store: &dyn Store) -> State {
    let d = dk("ns", "d");
    let t = PermissionTarget::Chat("room".into());
    ok(
        store,
        vec![
            set(&d, &t, &group("b"), &["x"]),
            set(&d, &t, &user(UserType::Anonymous, "a"), &["x"]),
            set(&d, &t, &user(UserType::Normal, "zed"), &["x"]),
            set(&d, &t, &group("a\u{0}"), &["x"]),
            set(&d, &t, &user(UserType::Convergence, "admin"), &["x"]),
            set(&d, &t, &user(UserType::Normal, "al"), &["x"]),
            set(&d, &t, &Grantee::World, &["x"]),
            set(&d, &t, &group("a"), &["x"]),
            set(&d, &t, &user(UserType::Normal, "al\u{0}"), &["x"]),
        ],
    );
    let order: Vec<Grantee> = store
        .permissions(&d, &t)
        .unwrap()
        .into_iter()
        .map(|r| r.grantee)
        .collect();
    assert_eq!(
        order,
        vec![
            Grantee::World,
            user(UserType::Normal, "al"),
            user(UserType::Normal, "al\u{0}"),
            user(UserType::Normal, "zed"),
            user(UserType::Convergence, "admin"),
            user(UserType::Anonymous, "a"),
            group("a"),
            group("a\u{0}"),
            group("b"),
        ]
    );
    observe(
        store,
        &Universe::of(
            &[d],
            &["room", "a", "a\u{0}", "b"],
            &["a", "al", "al\u{0}", "zed", "admin"],
        ),
    )
}

fn groups_and_members_both_directions(store: &dyn Store) -> State {
    let d = dk("ns", "d");
    ok(
        store,
        vec![
            put_group(&d, "writers", "W"),
            put_group(&d, "editors", "E"),
            add(&d, "writers", UserType::Normal, "zoe"),
            add(&d, "writers", UserType::Anonymous, "anon"),
            add(&d, "writers", UserType::Normal, "bob"),
            add(&d, "editors", UserType::Normal, "bob"),
            // Twice is once.
            add(&d, "editors", UserType::Normal, "bob"),
            // A membership of a group the store does not hold is kept, as in memory.
            add(&d, "ghosts", UserType::Normal, "bob"),
            // Removing a non-member is nothing.
            remove(&d, "editors", UserType::Normal, "zoe"),
        ],
    );
    assert_eq!(
        store.groups(&d).unwrap(),
        vec![
            GroupRecord {
                id: "editors".into(),
                description: "E".into()
            },
            GroupRecord {
                id: "writers".into(),
                description: "W".into()
            },
        ]
    );
    assert_eq!(
        store.group_members(&d, "writers").unwrap(),
        vec![
            (UserType::Normal, "bob".into()),
            (UserType::Normal, "zoe".into()),
            (UserType::Anonymous, "anon".into()),
        ]
    );
    assert_eq!(
        store.user_groups(&d, UserType::Normal, "bob").unwrap(),
        strings(&["editors", "ghosts", "writers"])
    );
    // Replacing a group keeps its members.
    ok(store, vec![put_group(&d, "writers", "W2")]);
    assert_eq!(
        store.group(&d, "writers").unwrap().unwrap().description,
        "W2"
    );
    assert_eq!(store.group_members(&d, "writers").unwrap().len(), 3);
    ok(store, vec![remove(&d, "writers", UserType::Normal, "bob")]);
    assert_eq!(
        store.user_groups(&d, UserType::Normal, "bob").unwrap(),
        strings(&["editors", "ghosts"])
    );
    assert_eq!(
        store.user_groups(&d, UserType::Anonymous, "bob").unwrap(),
        Vec::<String>::new()
    );
    observe(
        store,
        &Universe::of(
            &[d],
            &["writers", "editors", "ghosts"],
            &["bob", "zoe", "anon"],
        ),
    )
}

/// Two domains with rows, groups and members of every kind: `d` and its neighbour `d\0`.
fn populated(store: &dyn Store) -> (DomainKey, DomainKey) {
    let (d, n) = (dk("ns", "d"), dk("ns", "d\u{0}"));
    for key in [&d, &n] {
        ok(
            store,
            vec![
                WriteOp::PutDomain(domain(key)),
                put_collection(key, "c"),
                put_collection(key, "c2"),
                put_user(key, UserType::Normal, "bob"),
                put_user(key, UserType::Anonymous, "bob"),
                put_group(key, "g", "G"),
                put_group(key, "h", "H"),
                add(key, "g", UserType::Normal, "bob"),
                add(key, "h", UserType::Normal, "bob"),
                add(key, "g", UserType::Anonymous, "bob"),
                set(key, &coll("c"), &Grantee::World, &["read"]),
                set(key, &coll("c"), &user(UserType::Normal, "bob"), &["write"]),
                set(key, &coll("c"), &group("g"), &["remove"]),
                set(key, &coll("c2"), &group("h"), &["read"]),
                set(key, &model("m"), &user(UserType::Normal, "bob"), &["read"]),
                set(
                    key,
                    &model("m"),
                    &user(UserType::Anonymous, "bob"),
                    &["read"],
                ),
                set(key, &model("m2"), &group("g"), &["write"]),
                set(key, &model("free"), &Grantee::World, &["read"]),
                set(key, &PermissionTarget::Global, &group("g"), &["join"]),
            ],
        );
    }
    let mut number = 0;
    for key in [&d, &n] {
        for (id, c) in [("m", "c"), ("m2", "c2"), ("m3", "c")] {
            number += 1;
            ok(store, vec![create_model(key, id, c, number)]);
        }
    }
    (d, n)
}

fn populated_universe(domains: &[DomainKey]) -> Universe {
    Universe::of(
        domains,
        &["c", "c2", "m", "m2", "m3", "free", "g", "h"],
        &["bob"],
    )
}

fn deleting_a_domain_drops_its_rows_and_groups(store: &dyn Store) -> State {
    let (d, n) = populated(store);
    let neighbour_before = observe(store, &populated_universe(std::slice::from_ref(&n)));
    ok(store, vec![WriteOp::DeleteDomain(d.clone())]);
    assert_empty(store.groups(&d));
    assert_empty(store.permissions(&d, &coll("c")));
    assert_empty(store.permissions(&d, &model("free")));
    assert_empty(store.permissions(&d, &PermissionTarget::Global));
    assert_empty(store.user_groups(&d, UserType::Normal, "bob"));
    assert_empty(store.group_members(&d, "g"));
    // The neighbour keeps everything.
    let neighbour_after = observe(store, &populated_universe(std::slice::from_ref(&n)));
    assert_eq!(neighbour_after, neighbour_before);
    assert_eq!(store.permissions(&n, &coll("c")).unwrap().len(), 3);
    assert_eq!(store.group_members(&n, "g").unwrap().len(), 2);
    observe(store, &populated_universe(&[d, n]))
}

fn deleting_a_collection_drops_its_rows_and_its_models_rows(store: &dyn Store) -> State {
    let (d, n) = populated(store);
    ok(
        store,
        vec![WriteOp::DeleteCollection {
            domain: d.clone(),
            id: "c".into(),
        }],
    );
    assert_empty(store.permissions(&d, &coll("c")));
    // m (in c) loses its rows; m2 (in c2) and a model the store does not hold keep theirs.
    assert_empty(store.permissions(&d, &model("m")));
    assert_eq!(store.permissions(&d, &model("m2")).unwrap().len(), 1);
    assert_eq!(store.permissions(&d, &model("free")).unwrap().len(), 1);
    assert_eq!(store.permissions(&d, &coll("c2")).unwrap().len(), 1);
    assert_eq!(store.permissions(&n, &model("m")).unwrap().len(), 2);
    // Deleting a collection the store does not hold still drops rows granted on it.
    ok(
        store,
        vec![set(&d, &coll("gone"), &Grantee::World, &["read"])],
    );
    ok(
        store,
        vec![WriteOp::DeleteCollection {
            domain: d.clone(),
            id: "gone".into(),
        }],
    );
    assert_empty(store.permissions(&d, &coll("gone")));
    observe(store, &populated_universe(&[d, n]))
}

fn deleting_a_model_drops_its_rows(store: &dyn Store) -> State {
    let (d, n) = populated(store);
    ok(
        store,
        vec![
            WriteOp::DeleteModel {
                domain: d.clone(),
                id: "m".into(),
            },
            // A model the store does not hold: its rows go all the same.
            WriteOp::DeleteModel {
                domain: d.clone(),
                id: "free".into(),
            },
        ],
    );
    assert_empty(store.permissions(&d, &model("m")));
    assert_empty(store.permissions(&d, &model("free")));
    assert_eq!(store.permissions(&d, &model("m2")).unwrap().len(), 1);
    assert_eq!(store.permissions(&d, &coll("c")).unwrap().len(), 3);
    assert_eq!(store.permissions(&n, &model("free")).unwrap().len(), 1);
    observe(store, &populated_universe(&[d, n]))
}

fn deleting_a_user_drops_its_memberships_and_rows(store: &dyn Store) -> State {
    let (d, n) = populated(store);
    ok(store, vec![delete_user(&d, UserType::Normal, "bob")]);
    let bob = user(UserType::Normal, "bob");
    assert_empty(store.user_groups(&d, UserType::Normal, "bob"));
    assert_eq!(
        store.group_members(&d, "g").unwrap(),
        vec![(UserType::Anonymous, "bob".into())]
    );
    assert_empty(store.group_members(&d, "h"));
    assert_empty(store.permission(&d, &coll("c"), &bob));
    assert_empty(store.permission(&d, &model("m"), &bob));
    // The anonymous "bob" is another user; the groups themselves stay.
    assert_holds(
        store,
        &d,
        &model("m"),
        &user(UserType::Anonymous, "bob"),
        &["read"],
    );
    assert_eq!(store.groups(&d).unwrap().len(), 2);
    assert_holds(store, &n, &coll("c"), &bob, &["write"]);
    // A user the store does not hold: its memberships and rows go all the same.
    ok(
        store,
        vec![
            add(&d, "g", UserType::Convergence, "ghost"),
            set(
                &d,
                &coll("c2"),
                &user(UserType::Convergence, "ghost"),
                &["read"],
            ),
            delete_user(&d, UserType::Convergence, "ghost"),
        ],
    );
    assert_empty(store.user_groups(&d, UserType::Convergence, "ghost"));
    assert_eq!(store.permissions(&d, &coll("c2")).unwrap().len(), 1);
    observe(store, &populated_universe(&[d, n]))
}

fn deleting_a_group_drops_its_memberships_and_rows(store: &dyn Store) -> State {
    let (d, n) = populated(store);
    ok(
        store,
        vec![WriteOp::DeleteGroup {
            domain: d.clone(),
            id: "g".into(),
        }],
    );
    assert!(store.group(&d, "g").unwrap().is_none());
    assert_empty(store.group_members(&d, "g"));
    assert_eq!(
        store.user_groups(&d, UserType::Normal, "bob").unwrap(),
        strings(&["h"])
    );
    assert_empty(store.user_groups(&d, UserType::Anonymous, "bob"));
    for t in [coll("c"), model("m2"), PermissionTarget::Global] {
        assert_empty(store.permission(&d, &t, &group("g")));
    }
    assert_eq!(store.permissions(&d, &coll("c")).unwrap().len(), 2);
    assert_holds(store, &n, &coll("c"), &group("g"), &["remove"]);
    observe(store, &populated_universe(&[d, n]))
}

// ---------------------------------------------------------------------------------------------
// LMDB specifics.
// ---------------------------------------------------------------------------------------------

/// What the memory store shows after `writes` (the reference for a store reopened from disk).
fn reference(writes: &[Vec<WriteOp>], u: &Universe) -> State {
    let memory = MemoryStore::new(KEPT);
    for batch in writes {
        ok(&memory, batch.clone());
    }
    observe(&memory, u)
}

/// Batches touching every access-control write and cascade (no model creation: every one of
/// them is logged).
fn logged_writes() -> (Vec<Vec<WriteOp>>, Universe) {
    let (d, n) = (dk("ns", "d"), dk("ns", "d\u{0}"));
    let mut writes = Vec::new();
    for key in [&d, &n] {
        writes.push(vec![
            put_collection(key, "c"),
            put_group(key, "g", "G"),
            put_group(key, "h", "H"),
            add(key, "g", UserType::Normal, "bob"),
            add(key, "h", UserType::Normal, "bob"),
            add(key, "g", UserType::Anonymous, "ann"),
            set(key, &coll("c"), &Grantee::World, &["read", "read"]),
            set(key, &coll("c"), &user(UserType::Normal, "bob"), &["write"]),
            set(key, &model("m"), &group("g"), &["read"]),
            set(key, &model("m"), &group("h"), &["read"]),
        ]);
    }
    writes.push(vec![
        remove(&d, "h", UserType::Normal, "bob"),
        WriteOp::DeleteGroup {
            domain: d.clone(),
            id: "g".into(),
        },
        clear(&d, &coll("c"), GranteeKind::World),
        set(&d, &PermissionTarget::Global, &Grantee::World, &["create"]),
    ]);
    writes.push(vec![
        delete_user(&n, UserType::Normal, "bob"),
        WriteOp::DeleteModel {
            domain: n.clone(),
            id: "m".into(),
        },
    ]);
    let u = Universe::of(&[d, n], &["c", "m", "g", "h"], &["bob", "ann"]);
    (writes, u)
}

#[test]
fn rows_and_groups_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (writes, u) = logged_writes();
    {
        let store = open(dir.path());
        for batch in &writes {
            ok(&store, batch.clone());
        }
    }
    let expected = reference(&writes, &u);
    assert!(!expected.rows.is_empty() && !expected.members.is_empty());
    for _ in 0..2 {
        assert_eq!(observe(&open(dir.path()), &u), expected);
    }
}

#[test]
fn logged_writes_are_recovered_from_the_write_ahead_log() {
    let dir = tempfile::tempdir().unwrap();
    let (writes, u) = logged_writes();
    let crashed = tempfile::tempdir().unwrap();
    {
        // The applier waits an hour and nothing reads: the writes are only in the log when
        // the directory is copied, as after a crash.
        let store = open_lazy(dir.path());
        for batch in &writes {
            ok(&store, batch.clone());
        }
        copy_dir(dir.path(), crashed.path());
        // Reads see acknowledged writes before the applier runs.
        assert_eq!(observe(&store, &u), reference(&writes, &u));
    }
    let expected = reference(&writes, &u);
    assert_eq!(observe(&open(crashed.path()), &u), expected);
    // And again, now that the recovered writes are in the database.
    assert_eq!(observe(&open(crashed.path()), &u), expected);
}

#[test]
fn permission_and_group_keys_lmdb_cannot_hold_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let d = dk("ns", "d");
    let long = "x".repeat(300);
    let refused = [
        set(&d, &coll(&long), &user(UserType::Normal, &long), &["read"]),
        set(
            &d,
            &PermissionTarget::Activity {
                kind: long.clone(),
                id: long.clone(),
            },
            &Grantee::World,
            &["read"],
        ),
        clear(
            &d,
            &PermissionTarget::Activity {
                kind: long.clone(),
                id: long.clone(),
            },
            GranteeKind::All,
        ),
        put_group(&d, &"g".repeat(600), ""),
        WriteOp::DeleteGroup {
            domain: d.clone(),
            id: "g".repeat(600),
        },
        add(&d, &long, UserType::Normal, &long),
        remove(&d, &long, UserType::Normal, &long),
    ];
    for op in refused {
        // Refused whole: the good write in the same batch is not applied either.
        let batch = vec![set(&d, &coll("c"), &Grantee::World, &["read"]), op.clone()];
        match write_sync(&store, batch) {
            Err(StoreError::Invalid(m)) => assert!(m.contains("too long"), "{m}"),
            other => panic!("{op:?}: {other:?}"),
        }
        assert_empty(store.permissions(&d, &coll("c")));
    }
    // Just under the limit is fine, and the store goes on.
    let fits = "y".repeat(240);
    ok(
        &store,
        vec![
            set(&d, &coll(&fits), &user(UserType::Normal, &fits), &["read"]),
            add(&d, &fits, UserType::Normal, &fits),
        ],
    );
    assert_eq!(store.permissions(&d, &coll(&fits)).unwrap().len(), 1);
    assert_eq!(
        store.user_groups(&d, UserType::Normal, &fits).unwrap(),
        vec![fits.clone()]
    );
    // Reads of keys no store could hold find nothing.
    assert_empty(store.permissions(&d, &coll(&"z".repeat(600))));
    assert!(store.group(&d, &"z".repeat(600)).unwrap().is_none());
    assert_empty(store.group_members(&d, &"z".repeat(600)));
}

// ---------------------------------------------------------------------------------------------
// The format-3 upgrade.
// ---------------------------------------------------------------------------------------------

/// Two domains with collections (one holding a model), written by this build.
fn old_contents(store: &dyn Store) -> (DomainKey, DomainKey) {
    let (d, e) = (dk("ns", "d"), dk("other", "e\u{0}"));
    ok(
        store,
        vec![
            WriteOp::PutDomain(domain(&d)),
            WriteOp::PutDomain(domain(&e)),
            put_collection(&d, "c1"),
            put_collection(&d, "c2 😀"),
            put_collection(&e, "c1"),
            create_model(&d, "m", "c1", 1),
        ],
    );
    (d, e)
}

fn assert_everyone_may_do_everything(store: &dyn Store, d: &DomainKey, collection: &str) {
    assert_eq!(
        store.permissions(d, &coll(collection)).unwrap(),
        vec![row(Grantee::World, &ALL_SORTED)],
        "{d}: {collection}"
    );
}

#[test]
fn older_formats_are_upgraded_with_world_rows_on_every_collection() {
    for from in [1, 2] {
        let dir = tempfile::tempdir().unwrap();
        let (d, e) = old_contents(&open(dir.path()));
        LmdbStore::set_format_version_for_tests(dir.path(), from).unwrap();
        {
            let store = open(dir.path());
            assert_everyone_may_do_everything(&store, &d, "c1");
            assert_everyone_may_do_everything(&store, &d, "c2 😀");
            assert_everyone_may_do_everything(&store, &e, "c1");
            // Only collections get rows.
            assert_empty(store.permissions(&d, &model("m")));
            assert_empty(store.permissions(&d, &PermissionTarget::Global));
            // A row changed after the upgrade stays changed: the upgrade ran once.
            ok(
                &store,
                vec![set(&d, &coll("c1"), &Grantee::World, &["read"])],
            );
        }
        let store = open(dir.path());
        assert_eq!(
            store.permissions(&d, &coll("c1")).unwrap(),
            vec![row(Grantee::World, &["read"])],
            "from format {from}"
        );
        assert_everyone_may_do_everything(&store, &e, "c1");
    }
}

#[test]
fn a_fresh_store_gets_no_rows() {
    let dir = tempfile::tempdir().unwrap();
    let (d, e) = old_contents(&open(dir.path()));
    let store = open(dir.path());
    for (key, c) in [(&d, "c1"), (&d, "c2 😀"), (&e, "c1")] {
        assert_empty(store.permissions(key, &coll(c)));
    }
}

#[test]
fn the_upgrade_covers_collections_only_in_an_older_builds_log() {
    let dir = tempfile::tempdir().unwrap();
    let d = dk("ns", "d");
    let crashed = tempfile::tempdir().unwrap();
    {
        let store = open_lazy(dir.path());
        ok(
            &store,
            vec![WriteOp::PutDomain(domain(&d)), put_collection(&d, "logged")],
        );
        copy_dir(dir.path(), crashed.path());
    }
    // The copy's database does not hold the collection yet; its log does.
    LmdbStore::set_format_version_for_tests(crashed.path(), 2).unwrap();
    let store = open(crashed.path());
    assert!(store.collection(&d, "logged").unwrap().is_some());
    assert_everyone_may_do_everything(&store, &d, "logged");
}

// ---------------------------------------------------------------------------------------------
// Random sequences.
// ---------------------------------------------------------------------------------------------

const IDS: [&str; 3] = ["a", "a\u{0}", "b"];
const NAMES: [&str; 2] = ["bob", "bob\u{0}"];

fn arb_domain() -> impl Strategy<Value = DomainKey> {
    prop_oneof![Just(dk("ns", "d")), Just(dk("ns", "d\u{0}"))]
}

fn arb_id() -> impl Strategy<Value = String> {
    prop::sample::select(IDS.to_vec()).prop_map(String::from)
}

fn arb_user_type() -> impl Strategy<Value = UserType> {
    prop_oneof![
        Just(UserType::Normal),
        Just(UserType::Convergence),
        Just(UserType::Anonymous)
    ]
}

fn arb_name() -> impl Strategy<Value = String> {
    prop::sample::select(NAMES.to_vec()).prop_map(String::from)
}

fn arb_target() -> impl Strategy<Value = PermissionTarget> {
    prop_oneof![
        Just(PermissionTarget::Global),
        arb_id().prop_map(PermissionTarget::Collection),
        arb_id().prop_map(PermissionTarget::Model),
        arb_id().prop_map(PermissionTarget::Chat),
        (arb_id(), arb_id()).prop_map(|(kind, id)| PermissionTarget::Activity { kind, id }),
    ]
}

fn arb_grantee() -> impl Strategy<Value = Grantee> {
    prop_oneof![
        Just(Grantee::World),
        (arb_user_type(), arb_name()).prop_map(|(t, n)| Grantee::User(t, n)),
        arb_id().prop_map(Grantee::Group),
    ]
}

fn arb_kind() -> impl Strategy<Value = GranteeKind> {
    prop_oneof![
        Just(GranteeKind::All),
        Just(GranteeKind::World),
        Just(GranteeKind::Users),
        Just(GranteeKind::Groups),
    ]
}

fn arb_permissions() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(
        prop::sample::select(vec!["read", "write", "manage", ""]).prop_map(String::from),
        0..4,
    )
}

/// One write; model creations carry a placeholder number that [`numbered`] replaces.
fn arb_write() -> impl Strategy<Value = WriteOp> {
    prop_oneof![
        6 => (arb_domain(), arb_target(), arb_grantee(), arb_permissions()).prop_map(
            |(domain, target, grantee, permissions)| WriteOp::SetPermissions {
                domain,
                target,
                grantee,
                permissions,
            }
        ),
        2 => (arb_domain(), arb_target(), arb_kind())
            .prop_map(|(domain, target, kind)| WriteOp::ClearPermissions { domain, target, kind }),
        2 => (arb_domain(), arb_id(), prop::sample::select(vec!["", "x"])).prop_map(
            |(d, id, description)| put_group(&d, &id, description)
        ),
        1 => (arb_domain(), arb_id())
            .prop_map(|(domain, id)| WriteOp::DeleteGroup { domain, id }),
        3 => (arb_domain(), arb_id(), arb_user_type(), arb_name())
            .prop_map(|(d, g, t, n)| add(&d, &g, t, &n)),
        1 => (arb_domain(), arb_id(), arb_user_type(), arb_name())
            .prop_map(|(d, g, t, n)| remove(&d, &g, t, &n)),
        1 => (arb_domain(), arb_user_type(), arb_name()).prop_map(|(d, t, n)| put_user(&d, t, &n)),
        1 => (arb_domain(), arb_user_type(), arb_name())
            .prop_map(|(d, t, n)| delete_user(&d, t, &n)),
        1 => (arb_domain(), arb_id()).prop_map(|(d, id)| put_collection(&d, &id)),
        1 => (arb_domain(), arb_id())
            .prop_map(|(domain, id)| WriteOp::DeleteCollection { domain, id }),
        1 => (arb_domain(), arb_id(), arb_id())
            .prop_map(|(d, id, c)| create_model(&d, &id, &c, 0)),
        1 => (arb_domain(), arb_id()).prop_map(|(domain, id)| WriteOp::DeleteModel { domain, id }),
        1 => arb_domain().prop_map(WriteOp::DeleteDomain),
    ]
}

/// Gives every model creation a number of its own.
fn numbered(batches: Vec<Vec<WriteOp>>) -> Vec<Vec<WriteOp>> {
    let mut next = 0;
    batches
        .into_iter()
        .map(|batch| {
            batch
                .into_iter()
                .map(|op| match op {
                    WriteOp::CreateModel { mut meta, snapshot } => {
                        next += 1;
                        meta.number = next;
                        WriteOp::CreateModel { meta, snapshot }
                    }
                    other => other,
                })
                .collect()
        })
        .collect()
}

/// The outcome of a write, as far as the two stores must agree on it.
fn outcome(r: StoreResult<()>) -> Result<(), String> {
    r.map_err(|e| match e {
        StoreError::AlreadyExists(_) => "already exists".to_string(),
        other => other.to_string(),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_access_control_writes_leave_both_stores_showing_the_same(
        batches in prop::collection::vec(prop::collection::vec(arb_write(), 1..4), 1..24)
    ) {
        let batches = numbered(batches);
        let memory = MemoryStore::new(KEPT);
        let dir = tempfile::tempdir().unwrap();
        let lmdb = open(dir.path());
        let u = Universe::of(&[dk("ns", "d"), dk("ns", "d\u{0}")], &IDS, &NAMES);
        for batch in &batches {
            let m = outcome(write_sync(&memory, batch.clone()));
            let l = outcome(write_sync(&lmdb, batch.clone()));
            prop_assert_eq!(m, l, "{:?}", batch);
        }
        let expected = observe(&memory, &u);
        prop_assert_eq!(&observe(&lmdb, &u), &expected);
        drop(lmdb);
        prop_assert_eq!(&observe(&open(dir.path()), &u), &expected);
    }
}
