//! Shared references (cursors, selections) under concurrency: sessions edit one string with
//! operations in flight while moving their references, each session following the published
//! JavaScript client's rules (rc.12) exactly, its faults included:
//!
//! * a local or remote plain insert or remove moves every reference the usual way;
//! * a reference received from the server is transformed against the recipient's own
//!   in-flight operations with `IndexTransformer.handleSplice`, whose test `index >= index`
//!   is always true, so a position *before* an in-flight splice jumps past it.
//!
//! Once everything is acknowledged, every session's view of every shared reference must equal
//! its owner's.

use std::collections::{BTreeMap, VecDeque};

use proptest::prelude::*;
use serde_json::json;
use tandem::api::{Engine, EngineConfig};
use tandem::model::{ModelEvent, ReferenceChange, SessionInfo, SessionModel};
use tandem::ot::{
    transform, Data, DiscreteOp, Document, JsString, OpKind, Operation, ReferenceValues, ValueId,
};
use tandem::store::DomainKey;
use tandem::testing::Rng;
use tokio::sync::mpsc;

/// rc.12 `IndexTransformer.handleInsert`.
fn handle_insert(p: i64, at: i64, len: i64) -> i64 {
    if p >= at {
        p + len
    } else {
        p
    }
}

/// rc.12 `IndexTransformer.handleRemove`.
fn handle_remove(p: i64, at: i64, len: i64) -> i64 {
    if p > at {
        p - (p - at).min(len)
    } else {
        p
    }
}

/// rc.12 `IndexTransformer.handleSplice`, fault included (`index >= index` is always true).
fn handle_splice(p: i64, at: i64, del: i64, ins: i64) -> i64 {
    p - (p - at).min(del) + ins
}

fn map_values(v: &ReferenceValues, f: impl Fn(i64) -> i64) -> ReferenceValues {
    match v {
        ReferenceValues::Index(v) => ReferenceValues::Index(v.iter().map(|p| f(*p)).collect()),
        ReferenceValues::Range(v) => {
            ReferenceValues::Range(v.iter().map(|(a, b)| (f(*a), f(*b))).collect())
        }
        other => other.clone(),
    }
}

/// The splices of `op` on `target`, as (index, delete count, insert length).
fn splices(op: &Operation, target: &ValueId) -> Vec<(i64, i64, i64)> {
    op.ops()
        .iter()
        .filter(|d| !d.no_op && &d.id == target)
        .filter_map(|d| match &d.kind {
            OpKind::StringSplice {
                index,
                delete_count,
                insert,
            } => Some((*index, *delete_count, insert.len_i64())),
            _ => None,
        })
        .collect()
}

/// How the client's model events move a reference for one applied splice.
fn on_applied(v: &ReferenceValues, (at, del, ins): (i64, i64, i64)) -> ReferenceValues {
    match (del, ins) {
        (0, 0) => v.clone(),
        (0, n) => map_values(v, |p| handle_insert(p, at, n)),
        (d, 0) => map_values(v, |p| handle_remove(p, at, d)),
        (d, n) => map_values(v, |p| handle_splice(p, at, d, n)),
    }
}

/// One simulated rc.12 client.
struct Site {
    name: String,
    doc: Document,
    target: ValueId,
    context: u64,
    seq: u64,
    in_flight: VecDeque<Operation>,
    handle: SessionModel,
    rx: mpsc::UnboundedReceiver<ModelEvent>,
    /// Its own references by key.
    own: BTreeMap<String, ReferenceValues>,
    /// Others' references by (session, key); `None` when cleared.
    remote: BTreeMap<(String, String), Option<ReferenceValues>>,
}

impl Site {
    fn len(&self) -> i64 {
        self.doc.string(&self.target).map_or(0, |s| s.len_i64())
    }

    fn apply_local(&mut self, op: Operation) {
        self.doc.apply(op.clone()).expect("local op applies");
        self.move_refs(&op);
        self.seq += 1;
        self.in_flight.push_back(op.clone());
        if std::env::var_os("TRACE").is_some() {
            eprintln!(
                "{} submit ctx {} {op:?} -> own {:?}",
                self.name, self.context, self.own
            );
        }
        self.handle
            .submit(self.seq, self.context, op)
            .expect("submit");
    }

    fn move_refs(&mut self, op: &Operation) {
        for s in splices(op, &self.target) {
            for v in self.own.values_mut() {
                *v = on_applied(v, s);
            }
            for v in self.remote.values_mut().flatten() {
                *v = on_applied(v, s);
            }
        }
    }

    /// A random insert, remove or compound of both, made locally and sent.
    fn edit(&mut self, rng: &mut Rng) {
        let parts = if rng.percent(25) { 2 } else { 1 };
        let mut len = self.len();
        let mut ops = Vec::new();
        for _ in 0..parts {
            let kind = if len > 0 && rng.percent(40) {
                let at = rng.below(len);
                let n = 1 + rng.below((len - at).min(3));
                len -= n;
                OpKind::StringSplice {
                    index: at,
                    delete_count: n,
                    insert: JsString::new(),
                }
            } else {
                let n = 1 + rng.below(3);
                let text: String = (0..n).map(|i| (b'a' + (i as u8)) as char).collect();
                len += n;
                OpKind::StringSplice {
                    index: rng.below(len - n + 1),
                    delete_count: 0,
                    insert: text.as_str().into(),
                }
            };
            ops.push(DiscreteOp::new(self.target.clone(), kind));
        }
        let op = if ops.len() == 1 {
            Operation::Discrete(ops.remove(0))
        } else {
            Operation::Compound(ops)
        };
        self.apply_local(op);
    }

    /// Moves one of its own references and sends the change.
    fn move_ref(&mut self, rng: &mut Rng, key: &str) {
        let len = self.len();
        let values = if key == "range" {
            let a = rng.below(len + 1);
            ReferenceValues::Range(vec![(a, a + rng.below(len - a + 1))])
        } else {
            ReferenceValues::Index(vec![rng.below(len + 1)])
        };
        self.set_ref(key, values);
    }

    fn set_ref(&mut self, key: &str, values: ReferenceValues) {
        let change = if self.own.contains_key(key) {
            ReferenceChange::Set(values.clone())
        } else {
            ReferenceChange::Shared(values.clone())
        };
        if std::env::var_os("TRACE").is_some() {
            eprintln!(
                "{} set ref ctx {} {key} {values:?}",
                self.name, self.context
            );
        }
        self.own.insert(key.to_string(), values);
        self.handle
            .reference(
                self.context,
                Some(self.target.clone()),
                key.to_string(),
                change,
            )
            .expect("reference");
    }

    /// rc.12 `processRemoteReferenceSet`: against every in-flight operation, in order.
    fn incoming(&self, values: ReferenceValues) -> ReferenceValues {
        let mut v = values;
        for op in &self.in_flight {
            for (at, del, ins) in splices(op, &self.target) {
                v = map_values(&v, |p| handle_splice(p, at, del, ins));
            }
        }
        v
    }

    fn handle_event(&mut self, e: ModelEvent) {
        if std::env::var_os("TRACE").is_some() {
            eprintln!("{} <- {e:?}", self.name);
        }
        match e {
            ModelEvent::Ack { version, count, .. } => {
                assert_eq!(version, self.context, "{}: ack out of order", self.name);
                for _ in 0..count {
                    self.in_flight
                        .pop_front()
                        .expect("ack without in-flight op");
                    self.context += 1;
                }
            }
            ModelEvent::Remote {
                context_version,
                op,
                ..
            } => {
                assert_eq!(context_version, self.context, "{}: remote gap", self.name);
                let mut s = (*op).clone();
                for c in self.in_flight.iter_mut() {
                    let (s2, c2) = transform(&s, c).expect("client transform");
                    s = s2;
                    *c = c2;
                }
                self.doc.apply(s.clone()).expect("remote op applies");
                self.move_refs(&s);
                self.context += 1;
            }
            ModelEvent::Reference {
                session,
                key,
                change,
                ..
            } => {
                let id = (session, key);
                match change {
                    ReferenceChange::Shared(v) => {
                        let v = self.incoming(v);
                        self.remote.insert(id, Some(v));
                    }
                    ReferenceChange::Set(v) => {
                        if self.remote.contains_key(&id) {
                            let v = self.incoming(v);
                            self.remote.insert(id, Some(v));
                        }
                    }
                    ReferenceChange::Cleared => {
                        self.remote.insert(id, None);
                    }
                    ReferenceChange::Unshared => {
                        self.remote.remove(&id);
                    }
                }
            }
            ModelEvent::ForceClosed { message, .. } => {
                panic!("{} force-closed: {message}", self.name)
            }
            _ => {}
        }
    }

    fn drain(&mut self) {
        while let Ok(e) = self.rx.try_recv() {
            self.handle_event(e);
        }
    }
}

struct World {
    engine: Engine,
    key: DomainKey,
    sites: Vec<Site>,
}

async fn world(sites: usize) -> World {
    let engine = Engine::open(EngineConfig::default()).expect("engine");
    let domain = engine.create_domain("refs", "d").await.expect("domain");
    domain
        .create_model("docs", Some("m"), &json!({"t": "0123456789"}))
        .await
        .expect("model");
    let svc = engine.model_service();
    let mut all = Vec::new();
    for i in 0..sites {
        let (tx, rx) = mpsc::unbounded_channel();
        let name = format!("s{i}");
        let opened = svc
            .open(
                domain.key(),
                "m",
                SessionInfo {
                    session: name.clone(),
                    user: format!("u{i}"),
                },
                tx,
            )
            .await
            .expect("open");
        let target = match &opened.data.data.data {
            Data::Object(map) => map[&JsString::from("t")].id.clone(),
            other => panic!("unexpected root {other:?}"),
        };
        let remote = opened
            .references
            .iter()
            .map(|r| ((r.session.clone(), r.key.clone()), r.values.clone()))
            .collect();
        all.push(Site {
            name,
            doc: Document::new(opened.data.data.clone()).expect("doc"),
            target,
            context: opened.data.version,
            seq: 0,
            in_flight: VecDeque::new(),
            handle: opened.handle,
            rx,
            own: BTreeMap::new(),
            remote,
        });
    }
    World {
        engine,
        key: domain.key().clone(),
        sites: all,
    }
}

impl World {
    /// Waits until every operation is acknowledged and delivered, then checks every view of
    /// every reference against its owner's and every text against the server's.
    async fn settle_and_check(mut self, label: &str) {
        let svc = self.engine.model_service();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            // Give the sequencer time to deliver what follows the last ack.
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            for s in self.sites.iter_mut() {
                s.drain();
            }
            let version = svc.read(&self.key, "m").await.expect("read").version;
            if self
                .sites
                .iter()
                .all(|s| s.in_flight.is_empty() && s.context == version)
            {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                for s in self.sites.iter_mut() {
                    s.drain();
                }
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{label}: no quiescence"
            );
        }
        let text = self.sites[0].doc.string(&self.sites[0].target);
        for s in &self.sites {
            assert_eq!(s.doc.string(&s.target), text, "{label}: texts differ");
        }
        for owner in &self.sites {
            for (key, mine) in &owner.own {
                for viewer in self.sites.iter().filter(|v| v.name != owner.name) {
                    let seen = viewer.remote.get(&(owner.name.clone(), key.clone()));
                    assert_eq!(
                        seen,
                        Some(&Some(mine.clone())),
                        "{label}: {}'s view of {}'s {key} (text {:?})",
                        viewer.name,
                        owner.name,
                        text.as_ref().map(|t| t.to_string_lossy()),
                    );
                }
            }
        }
        self.engine.shutdown().await;
    }
}

/// Case 1 of the issue: A inserts "ab" at 0 and puts its cursor at 6; B concurrently inserts
/// "XY" at 5. B's insert is still in flight when A's cursor reaches it.
#[tokio::test]
async fn a_cursor_set_behind_an_own_insert_meets_a_concurrent_insert() {
    let mut w = world(2).await;
    let (a, b) = (0, 1);
    let t = w.sites[a].target.clone();
    w.sites[a].set_ref("c", ReferenceValues::Index(vec![0]));
    w.settle_and_check_partial().await;
    w.sites[a].apply_local(ins(&t, 0, "ab"));
    w.sites[a].set_ref("c", ReferenceValues::Index(vec![6]));
    w.sites[b].apply_local(ins(&t, 5, "XY"));
    w.settle_and_check("case 1").await;
}

/// Case 2 of the issue: A removes 3 at 0 and puts its cursor at 3; B concurrently removes 2
/// at 7.
#[tokio::test]
async fn a_cursor_set_behind_an_own_remove_meets_a_concurrent_remove() {
    let mut w = world(2).await;
    let (a, b) = (0, 1);
    let t = w.sites[a].target.clone();
    w.sites[a].set_ref("c", ReferenceValues::Index(vec![0]));
    w.settle_and_check_partial().await;
    w.sites[a].apply_local(rem(&t, 0, 3));
    w.sites[a].set_ref("c", ReferenceValues::Index(vec![3]));
    w.sites[b].apply_local(rem(&t, 7, 2));
    w.settle_and_check("case 2").await;
}

fn ins(t: &ValueId, index: i64, text: &str) -> Operation {
    Operation::Discrete(DiscreteOp::new(
        t.clone(),
        OpKind::StringSplice {
            index,
            delete_count: 0,
            insert: text.into(),
        },
    ))
}

fn rem(t: &ValueId, index: i64, n: i64) -> Operation {
    Operation::Discrete(DiscreteOp::new(
        t.clone(),
        OpKind::StringSplice {
            index,
            delete_count: n,
            insert: JsString::new(),
        },
    ))
}

impl World {
    /// Lets every event so far reach every site.
    async fn settle_and_check_partial(&mut self) {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        for s in self.sites.iter_mut() {
            s.drain();
        }
    }
}

/// Random edits and reference moves on two or three sites with operations in flight.
async fn random_run(seed: u64, sites: usize, steps: usize) {
    let mut w = world(sites).await;
    let mut rng = Rng::new(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    for s in w.sites.iter_mut() {
        s.move_ref(&mut rng, "cursor");
        s.move_ref(&mut rng, "range");
    }
    for _ in 0..steps {
        let i = rng.below(sites as i64) as usize;
        let site = &mut w.sites[i];
        match rng.below(10) {
            0..=3 => site.edit(&mut rng),
            4 | 5 => site.move_ref(&mut rng, "cursor"),
            6 => site.move_ref(&mut rng, "range"),
            _ => site.drain(),
        }
        if rng.percent(30) {
            tokio::task::yield_now().await;
        }
    }
    w.settle_and_check(&format!("seed {seed}, {sites} sites"))
        .await;
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    /// Every view of every reference equals its owner's once all is acknowledged.
    #[test]
    fn every_view_of_a_reference_ends_where_its_owner_has_it(seed in any::<u64>(), sites in 2usize..=3) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(random_run(seed, sites, 60));
    }
}

/// Many short two-site runs (`STEPS`, `FROM` set the length and the first seed; `TRACE`
/// prints every event): `cargo test --test references many_short_runs -- --ignored`.
#[tokio::test]
#[ignore]
async fn many_short_runs() {
    let steps: usize = std::env::var("STEPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(8);
    let from: u64 = std::env::var("FROM")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    for seed in from..3000u64 {
        let r = tokio::spawn(random_run(seed, 2, steps)).await;
        if r.is_err() {
            panic!("first failing seed {seed}");
        }
    }
}
