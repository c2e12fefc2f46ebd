//! Randomized multi-site simulation: several sessions edit one model concurrently through the
//! real sequencer, each keeping many operations in flight and following the JavaScript client's
//! concurrency rules (remote operations transformed against its in-flight ones, acks and remote
//! operations in strict version order). Afterwards every site must equal the server.

use std::collections::{BTreeMap, VecDeque};

use serde_json::json;
use tandem::api::{Engine, EngineConfig};
use tandem::model::{ModelEvent, SessionInfo, SessionModel};
use tandem::ot::{
    transform, Data, DiscreteOp, Document, JsString, OpKind, Operation, Value, ValueId, ValueKind,
};
use tandem::testing::Rng;
use tokio::sync::mpsc;

/// Text pieces as UTF-16 code units: letters, a pair, and lone surrogate halves.
const ALPHABET: [&[u16]; 9] = [
    &[0x61],
    &[0x62],
    &[0x63],
    &[0xE9],
    &[0xD83D, 0xDE00],
    &[0xD83D],
    &[0xDE01],
    &[0x78],
    &[0x20],
];

/// One simulated client, following the JavaScript client's concurrency control.
struct Site {
    name: String,
    doc: Document,
    context: u64,
    seq: u64,
    in_flight: VecDeque<(u64, Operation)>,
    prefix: String,
    counter: u64,
    handle: SessionModel,
    rx: mpsc::UnboundedReceiver<ModelEvent>,
    acked: u64,
}

impl Site {
    fn new_id(&mut self) -> ValueId {
        let id = ValueId::new(format!("{}:{}", self.prefix, self.counter));
        self.counter += 1;
        id
    }

    fn scalar(&mut self, rng: &mut Rng) -> Value {
        let data = match rng.below(5) {
            0 => Data::Number(rng.below(50) as f64),
            1 | 2 => Data::String(text(rng, 4)),
            3 => Data::Boolean(rng.percent(50)),
            _ => Data::Null,
        };
        Value::new(self.new_id(), data)
    }

    fn value(&mut self, rng: &mut Rng) -> Value {
        match rng.below(6) {
            0 => {
                let id = self.new_id();
                let items = (0..rng.below(3)).map(|_| self.scalar(rng)).collect();
                Value::new(id, Data::Array(items))
            }
            1 => {
                let id = self.new_id();
                let mut m = BTreeMap::new();
                for k in ["p", "q"] {
                    if rng.percent(60) {
                        m.insert(k.into(), self.scalar(rng));
                    }
                }
                Value::new(id, Data::Object(m))
            }
            _ => self.scalar(rng),
        }
    }

    /// A random valid discrete operation against `doc`.
    fn random_discrete(&mut self, rng: &mut Rng, doc: &Document) -> Option<DiscreteOp> {
        let mut ids = doc.value_ids();
        ids.sort();
        let target = ids[rng.below(ids.len())].clone();
        let kind = match doc.kind_of(&target)? {
            ValueKind::String => {
                let s = doc.string(&target)?;
                let b = boundaries(&s);
                if rng.percent(10) {
                    OpKind::StringSet {
                        value: text(rng, 5),
                    }
                } else {
                    let start = rng.below(b.len());
                    let end = start + rng.below((b.len() - start).min(4));
                    let insert = if rng.percent(30) {
                        JsString::new()
                    } else {
                        text(rng, 3)
                    };
                    OpKind::StringSplice {
                        index: b[start],
                        delete_count: b[end] - b[start],
                        insert,
                    }
                }
            }
            ValueKind::Array => {
                let n = doc.len_of(&target)? as usize;
                match rng.below(if n == 0 { 1 } else { 10 }) {
                    0..=2 => OpKind::ArrayInsert {
                        index: rng.below(n + 1) as i64,
                        value: self.value(rng),
                    },
                    3 | 4 => OpKind::ArrayRemove {
                        index: rng.below(n) as i64,
                    },
                    5 | 6 => OpKind::ArrayReplace {
                        index: rng.below(n) as i64,
                        value: self.value(rng),
                    },
                    7 | 8 => OpKind::ArrayMove {
                        from: rng.below(n) as i64,
                        to: rng.below(n) as i64,
                    },
                    _ => OpKind::ArraySet {
                        values: (0..rng.below(3)).map(|_| self.scalar(rng)).collect(),
                    },
                }
            }
            ValueKind::Object => {
                let keys = doc.keys_of(&target)?;
                let all = ["k1", "k2", "k3", "k4"];
                let absent: Vec<&str> = all
                    .iter()
                    .copied()
                    .filter(|k| !keys.iter().any(|x| x == k))
                    .collect();
                let root = &target == doc.root_id();
                match rng.below(8) {
                    0..=2 if !absent.is_empty() => OpKind::ObjectAddProperty {
                        key: absent[rng.below(absent.len())].into(),
                        value: self.value(rng),
                    },
                    3 | 4 if !keys.is_empty() && !root => OpKind::ObjectSetProperty {
                        key: keys[rng.below(keys.len())].clone(),
                        value: self.value(rng),
                    },
                    5 if !keys.is_empty() && !root => OpKind::ObjectRemoveProperty {
                        key: keys[rng.below(keys.len())].clone(),
                    },
                    6 if !root && rng.percent(30) => {
                        let mut m = BTreeMap::new();
                        m.insert("k1".into(), self.scalar(rng));
                        OpKind::ObjectSet { values: m }
                    }
                    _ => return None,
                }
            }
            ValueKind::Number => {
                if rng.percent(70) {
                    OpKind::NumberAdd {
                        delta: rng.below(5) as f64,
                    }
                } else {
                    OpKind::NumberSet {
                        value: rng.below(5) as f64,
                    }
                }
            }
            ValueKind::Boolean => OpKind::BooleanSet {
                value: rng.percent(50),
            },
            ValueKind::Date => OpKind::DateSet {
                value: 1_700_000_000_000 + rng.below(1000) as i64,
            },
            ValueKind::Null => return None,
        };
        Some(DiscreteOp::new(target, kind))
    }

    /// Makes a local edit (discrete or compound), applies it locally and sends it.
    fn edit(&mut self, rng: &mut Rng) {
        let compound = rng.percent(20);
        let parts = if compound { 1 + rng.below(3) } else { 1 };
        let mut scratch = self.doc.clone();
        let mut ops = Vec::new();
        let mut tries = 0;
        while ops.len() < parts && tries < 20 {
            tries += 1;
            if let Some(op) = self.random_discrete(rng, &scratch) {
                if scratch.apply(Operation::Discrete(op.clone())).is_ok() {
                    ops.push(op);
                }
            }
        }
        if ops.is_empty() {
            return;
        }
        let op = if compound {
            Operation::Compound(ops)
        } else {
            Operation::Discrete(ops.remove(0))
        };
        self.doc.apply(op.clone()).expect("local op applies");
        self.seq += 1;
        self.in_flight.push_back((self.seq, op.clone()));
        self.handle
            .submit(self.seq, self.context, op)
            .expect("submit");
    }

    fn handle_event(&mut self, e: ModelEvent) {
        match e {
            ModelEvent::Ack {
                seq,
                version,
                count,
                ..
            } => {
                assert_eq!(version, self.context, "{}: ack out of order", self.name);
                assert!(count >= 1, "{}: an empty ack", self.name);
                for i in 0..count {
                    let (s, _) = self
                        .in_flight
                        .pop_front()
                        .expect("ack without in-flight op");
                    assert_eq!(s, seq + i, "{}: ack for the wrong op", self.name);
                    self.context += 1;
                    self.acked += 1;
                }
            }
            ModelEvent::Remote {
                context_version,
                op,
                ..
            } => {
                assert_eq!(
                    context_version, self.context,
                    "{}: remote op gap",
                    self.name
                );
                let mut s = (*op).clone();
                for (_, c) in self.in_flight.iter_mut() {
                    let (s2, c2) = transform(&s, c).expect("client transform");
                    s = s2;
                    *c = c2;
                }
                self.doc.apply(s).expect("remote op applies on the client");
                self.context += 1;
            }
            ModelEvent::ForceClosed { message, .. } => {
                panic!("{} force-closed: {message}", self.name)
            }
            _ => {}
        }
    }

    fn drain(&mut self) -> usize {
        let mut n = 0;
        while let Ok(e) = self.rx.try_recv() {
            self.handle_event(e);
            n += 1;
        }
        n
    }
}

fn text(rng: &mut Rng, max: usize) -> JsString {
    let mut out = JsString::new();
    for _ in 0..1 + rng.below(max) {
        out.push_units(ALPHABET[rng.below(ALPHABET.len())]);
    }
    out
}

/// Every code-unit position (splitting pairs is allowed, as in JavaScript).
fn boundaries(s: &JsString) -> Vec<i64> {
    (0..=s.len_i64()).collect()
}

async fn simulate(seed: u64, sites: usize, edits_per_site: usize) {
    let engine = Engine::open(EngineConfig::default()).expect("engine");
    let domain = engine.create_domain("sim", "d").await.expect("domain");
    let model = domain
        .create_model(
            "docs",
            Some("m"),
            &json!({"text": "hello 😀 world", "list": [1, "two", [3]], "obj": {"k1": "v"}, "n": 0, "flag": true,
                    "when": {"$convergenceType": "date", "value": "2024-01-01T00:00:00.000Z"}}),
        )
        .await
        .expect("model");
    let svc = engine.model_service();
    let mut rng = Rng::new(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut all = Vec::new();
    for i in 0..sites {
        let (tx, rx) = mpsc::unbounded_channel();
        let opened = svc
            .open(
                domain.key(),
                "m",
                SessionInfo {
                    session: format!("s{i}"),
                    user: format!("u{i}"),
                },
                tx,
            )
            .await
            .expect("open");
        all.push(Site {
            name: format!("s{i}"),
            doc: Document::new(opened.data.data.clone()).expect("doc"),
            context: opened.data.version,
            seq: 0,
            in_flight: VecDeque::new(),
            prefix: opened.value_prefix.clone(),
            counter: 0,
            handle: opened.handle,
            rx,
            acked: 0,
        });
    }
    let total = sites * edits_per_site;
    let mut made = 0;
    while made < total {
        let i = rng.below(sites);
        let site = &mut all[i];
        if rng.percent(70) {
            for _ in 0..1 + rng.below(4) {
                site.edit(&mut rng);
                made += 1;
            }
        } else {
            site.drain();
        }
        if rng.percent(30) {
            tokio::task::yield_now().await;
        }
    }
    // Quiesce: everything acknowledged and delivered.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        for s in all.iter_mut() {
            s.drain();
        }
        let version = svc.read(domain.key(), "m").await.expect("read").version;
        if all
            .iter()
            .all(|s| s.in_flight.is_empty() && s.context == version)
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "simulation did not settle"
        );
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let server = svc.read(domain.key(), "m").await.expect("read");
    for s in &all {
        assert_eq!(
            s.doc.to_value(),
            server.data,
            "seed {seed}: site {} diverged from the server",
            s.name
        );
    }
    let acked: u64 = all.iter().map(|s| s.acked).sum();
    assert_eq!(
        server.version,
        1 + acked,
        "every submission took one version"
    );
    // The durable log replays to the same state.
    assert_eq!(model.info().expect("info").version, server.version);
    let replayed = svc
        .data_at(
            domain.key(),
            "m",
            server.version,
            &tandem::perm::Actor::Host,
        )
        .expect("history");
    assert_eq!(
        replayed.data, server.data,
        "log replay differs from the live model"
    );
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_to_five_sites_converge_with_many_ops_in_flight() {
    for seed in 1..=20u64 {
        simulate(seed, 3 + (seed as usize % 3), 150).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_run_two_sites() {
    simulate(4242, 2, 1500).await;
}
