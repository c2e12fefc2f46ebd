//! TP1 (convergence of one transformation step) for every ordered pair of operation types on
//! random trees, compound operations included:
//! `apply(apply(d, s), c') == apply(apply(d, c), s')` where `(s', c') = transform(s, c)`.
//!
//! The engine never places a true string splice (delete and insert at once) in the server
//! position (see `docs/compatibility.md`); pairs with such a server operation are checked
//! separately and may diverge only in the documented case.

use std::collections::BTreeMap;

use proptest::prelude::*;
use tandem::ot::{
    transform, transform_in_place, Data, DiscreteOp, Document, JsString, OpKind, OpType, Operation,
    Value, ValueId,
};
use tandem::testing::Rng;

const STRING: &str = "str";
const ARRAY: &str = "arr";
const OBJECT: &str = "obj";
const NUMBER: &str = "num";
const BOOLEAN: &str = "bool";
const DATE: &str = "date";
const KEYS: [&str; 5] = ["a", "b", "c", "d", "e"];
/// Pieces of text, as UTF-16 code units: letters, a surrogate pair (😀, 😁) and lone halves,
/// so that strings hold unpaired surrogates and splices cut pairs apart or join halves.
const ALPHABET: [&[u16]; 10] = [
    &[0x61],
    &[0x62],
    &[0x63],
    &[0xE9],
    &[0xD83D, 0xDE00],
    &[0xD83D, 0xDE01],
    &[0xD83D],
    &[0xDE01],
    &[0x78],
    &[0x79],
];

struct Ids {
    prefix: &'static str,
    next: u64,
}

impl Ids {
    fn id(&mut self) -> ValueId {
        self.next += 1;
        ValueId::new(format!("{}:{}", self.prefix, self.next))
    }
}

fn text(rng: &mut Rng, max: usize) -> JsString {
    let mut out = JsString::new();
    for _ in 0..rng.below(max + 1) {
        out.push_units(ALPHABET[rng.below(ALPHABET.len())]);
    }
    out
}

fn scalar(rng: &mut Rng, ids: &mut Ids) -> Value {
    let data = match rng.below(4) {
        0 => Data::Number(rng.below(100) as f64),
        1 => Data::String(text(rng, 3)),
        2 => Data::Boolean(rng.percent(50)),
        _ => Data::Null,
    };
    Value::new(ids.id(), data)
}

fn random_doc(rng: &mut Rng) -> Document {
    let mut ids = Ids {
        prefix: "0",
        next: 0,
    };
    let mut root = BTreeMap::new();
    let mut s = JsString::new();
    for _ in 0..1 + rng.below(8) {
        s.push_units(ALPHABET[rng.below(ALPHABET.len())]);
    }
    root.insert(STRING.into(), Value::new(STRING, Data::String(s)));
    let items = (0..2 + rng.below(5))
        .map(|_| scalar(rng, &mut ids))
        .collect();
    root.insert(ARRAY.into(), Value::new(ARRAY, Data::Array(items)));
    let mut props = BTreeMap::new();
    for k in KEYS.iter().take(1 + rng.below(KEYS.len() - 1)) {
        props.insert((*k).into(), scalar(rng, &mut ids));
    }
    root.insert(OBJECT.into(), Value::new(OBJECT, Data::Object(props)));
    root.insert(
        NUMBER.into(),
        Value::new(NUMBER, Data::Number(rng.below(10) as f64)),
    );
    root.insert(
        BOOLEAN.into(),
        Value::new(BOOLEAN, Data::Boolean(rng.percent(50))),
    );
    root.insert(DATE.into(), Value::new(DATE, Data::Date(1_600_000_000_000)));
    Document::new(Value::new("root", Data::Object(root))).expect("valid document")
}

/// Every code-unit position of a string: between the halves of a pair included, as a
/// JavaScript client may splice anywhere.
fn boundaries(s: &JsString) -> Vec<i64> {
    (0..=s.len_i64()).collect()
}

/// A random valid operation of type `ty` against `doc`, or `None` if the state allows none.
fn random_op(rng: &mut Rng, doc: &Document, ty: OpType, ids: &mut Ids) -> Option<DiscreteOp> {
    let id = |s: &str| ValueId::new(s);
    let kind = match ty {
        OpType::StringSplice => {
            let s = doc.string(&id(STRING))?;
            let b = boundaries(&s);
            let start = rng.below(b.len());
            let end = start + rng.below(b.len() - start);
            let insert = match rng.below(3) {
                0 => JsString::new(),
                _ => text(rng, 3),
            };
            OpKind::StringSplice {
                index: b[start],
                delete_count: b[end] - b[start],
                insert,
            }
        }
        OpType::StringSet => OpKind::StringSet {
            value: text(rng, 4),
        },
        OpType::ArrayInsert => OpKind::ArrayInsert {
            index: rng.below(doc.len_of(&id(ARRAY))? as usize + 1) as i64,
            value: scalar(rng, ids),
        },
        OpType::ArrayRemove => OpKind::ArrayRemove {
            index: rng.below(nonempty(doc.len_of(&id(ARRAY))?)?) as i64,
        },
        OpType::ArrayReplace => OpKind::ArrayReplace {
            index: rng.below(nonempty(doc.len_of(&id(ARRAY))?)?) as i64,
            value: scalar(rng, ids),
        },
        OpType::ArrayMove => {
            let n = nonempty(doc.len_of(&id(ARRAY))?)?;
            OpKind::ArrayMove {
                from: rng.below(n) as i64,
                to: rng.below(n) as i64,
            }
        }
        OpType::ArraySet => OpKind::ArraySet {
            values: (0..rng.below(3)).map(|_| scalar(rng, ids)).collect(),
        },
        OpType::ObjectAddProperty => {
            let keys = doc.keys_of(&id(OBJECT))?;
            let absent: Vec<&str> = KEYS
                .iter()
                .copied()
                .filter(|k| !keys.iter().any(|x| x == k))
                .collect();
            OpKind::ObjectAddProperty {
                key: (*absent.get(rng.below(absent.len()))?).into(),
                value: scalar(rng, ids),
            }
        }
        OpType::ObjectSetProperty => {
            let keys = doc.keys_of(&id(OBJECT))?;
            OpKind::ObjectSetProperty {
                key: keys.get(rng.below(keys.len()))?.clone(),
                value: scalar(rng, ids),
            }
        }
        OpType::ObjectRemoveProperty => {
            let keys = doc.keys_of(&id(OBJECT))?;
            OpKind::ObjectRemoveProperty {
                key: keys.get(rng.below(keys.len()))?.clone(),
            }
        }
        OpType::ObjectSet => {
            let mut values = BTreeMap::new();
            for k in KEYS {
                if rng.percent(40) {
                    values.insert(k.into(), scalar(rng, ids));
                }
            }
            OpKind::ObjectSet { values }
        }
        OpType::NumberAdd => OpKind::NumberAdd {
            delta: rng.below(5) as f64,
        },
        OpType::NumberSet => OpKind::NumberSet {
            value: rng.below(3) as f64,
        },
        OpType::BooleanSet => OpKind::BooleanSet {
            value: rng.percent(50),
        },
        OpType::DateSet => OpKind::DateSet {
            value: 1_600_000_000_000 + rng.below(3) as i64,
        },
    };
    let target = match ty.target_kind() {
        tandem::ot::ValueKind::String => STRING,
        tandem::ot::ValueKind::Array => ARRAY,
        tandem::ot::ValueKind::Object => OBJECT,
        tandem::ot::ValueKind::Number => NUMBER,
        tandem::ot::ValueKind::Boolean => BOOLEAN,
        _ => DATE,
    };
    Some(DiscreteOp::new(target, kind))
}

fn nonempty(n: i64) -> Option<usize> {
    (n > 0).then_some(n as usize)
}

const ALL: [OpType; 15] = [
    OpType::StringSplice,
    OpType::StringSet,
    OpType::ArrayInsert,
    OpType::ArrayRemove,
    OpType::ArrayReplace,
    OpType::ArrayMove,
    OpType::ArraySet,
    OpType::ObjectAddProperty,
    OpType::ObjectSetProperty,
    OpType::ObjectRemoveProperty,
    OpType::ObjectSet,
    OpType::NumberAdd,
    OpType::NumberSet,
    OpType::BooleanSet,
    OpType::DateSet,
];

/// Every ordered pair of operation types that can target the same value.
fn pairs() -> Vec<(OpType, OpType)> {
    let mut out = Vec::new();
    for s in ALL {
        for c in ALL {
            if s.target_kind() == c.target_kind() {
                out.push((s, c));
            }
        }
    }
    out
}

/// A compound operation of up to `max` random parts, each valid after the ones before it.
fn random_compound(rng: &mut Rng, doc: &Document, max: usize, ids: &mut Ids) -> Operation {
    let mut scratch = doc.clone();
    let mut ops = Vec::new();
    while ops.len() < 1 + rng.below(max) {
        let ty = ALL[rng.below(ALL.len())];
        if let Some(op) = random_op(rng, &scratch, ty, ids) {
            scratch
                .apply(Operation::Discrete(op.clone()))
                .expect("generated op is valid");
            ops.push(op);
        }
    }
    Operation::Compound(ops)
}

fn server_has_true_splice(s: &Operation) -> bool {
    s.ops().iter().any(|op| !op.no_op && op.is_true_splice())
}

/// Checks TP1 for one pair; returns a description on divergence.
fn tp1(doc: &Document, s: &Operation, c: &Operation) -> Result<(), String> {
    let (s2, c2) = transform(s, c).map_err(|e| format!("transform failed: {e}"))?;
    let (mut s3, mut c3) = (s.clone(), c.clone());
    transform_in_place(&mut s3, &mut c3).map_err(|e| format!("in-place transform failed: {e}"))?;
    if (&s3, &c3) != (&s2, &c2) {
        return Err(format!(
            "in-place transform differs:\n s = {s:?}\n c = {c:?}\n copying = {s2:?} / {c2:?}\n in place = {s3:?} / {c3:?}"
        ));
    }
    let mut left = doc.clone();
    left.apply(s.clone())
        .map_err(|e| format!("apply s failed: {e}"))?;
    left.apply(c2.clone())
        .map_err(|e| format!("apply c' failed: {e} (c' = {c2:?})"))?;
    let mut right = doc.clone();
    right
        .apply(c.clone())
        .map_err(|e| format!("apply c failed: {e}"))?;
    right
        .apply(s2.clone())
        .map_err(|e| format!("apply s' failed: {e} (s' = {s2:?})"))?;
    if left != right {
        return Err(format!(
            "diverged:\n s  = {s:?}\n c  = {c:?}\n s' = {s2:?}\n c' = {c2:?}\n left  = {:?}\n right = {:?}",
            left.to_value(),
            right.to_value()
        ));
    }
    Ok(())
}

fn check_pair(seed: u64, pair: (OpType, OpType)) -> Result<(), String> {
    let mut rng = Rng::new(seed);
    let doc = random_doc(&mut rng);
    let mut sid = Ids {
        prefix: "s",
        next: 0,
    };
    let mut cid = Ids {
        prefix: "c",
        next: 0,
    };
    let (Some(s), Some(c)) = (
        random_op(&mut rng, &doc, pair.0, &mut sid),
        random_op(&mut rng, &doc, pair.1, &mut cid),
    ) else {
        return Ok(());
    };
    let (s, c) = (Operation::Discrete(s), Operation::Discrete(c));
    if server_has_true_splice(&s) {
        return Ok(());
    }
    tp1(&doc, &s, &c)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn tp1_holds_for_every_pair_of_discrete_types(pair in 0..pairs().len(), seed in any::<u64>()) {
        let p = pairs()[pair];
        if let Err(e) = check_pair(seed, p) {
            return Err(TestCaseError::fail(format!("{:?} vs {:?}: {e}", p.0, p.1)));
        }
    }

    #[test]
    fn tp1_holds_for_compound_operations(seed in any::<u64>()) {
        let mut rng = Rng::new(seed);
        let doc = random_doc(&mut rng);
        let mut sid = Ids { prefix: "s", next: 0 };
        let mut cid = Ids { prefix: "c", next: 0 };
        let s = random_compound(&mut rng, &doc, 4, &mut sid).without_true_splices();
        let c = random_compound(&mut rng, &doc, 4, &mut cid);
        prop_assert!(!server_has_true_splice(&s));
        if let Err(e) = tp1(&doc, &s, &c) {
            return Err(TestCaseError::fail(e));
        }
    }
}

/// Every ordered pair is exercised many times, deterministically (the proptest above samples).
#[test]
fn tp1_sweep_covers_every_pair() {
    let all = pairs();
    assert_eq!(all.len(), 2 * 2 + 5 * 5 + 4 * 4 + 2 * 2 + 1 + 1);
    for (i, pair) in all.iter().enumerate() {
        for n in 0..400u64 {
            let seed = (i as u64 + 1) * 1_000_003 + n * 7919;
            if let Err(e) = check_pair(seed, *pair) {
                panic!("{:?} vs {:?} (seed {seed}): {e}", pair.0, pair.1);
            }
        }
    }
}

/// With a true splice in the server position the published rules diverge; after the engine's
/// two fixes only the vector-mandated equal-range case remains. The engine never lets such an
/// operation into the server position, which this test documents.
#[test]
fn server_side_true_splices_diverge_only_in_the_documented_case() {
    let mut bad = std::collections::BTreeSet::new();
    for n in 0..20_000u64 {
        let mut rng = Rng::new(n * 2_654_435_761 + 1);
        let doc = random_doc(&mut rng);
        let mut sid = Ids {
            prefix: "s",
            next: 0,
        };
        let mut cid = Ids {
            prefix: "c",
            next: 0,
        };
        let (Some(s), Some(c)) = (
            random_op(&mut rng, &doc, OpType::StringSplice, &mut sid),
            random_op(&mut rng, &doc, OpType::StringSplice, &mut cid),
        ) else {
            continue;
        };
        if !s.is_true_splice() {
            continue;
        }
        let (sp, cp) = (splice_parts(&s), splice_parts(&c));
        if tp1(&doc, &Operation::Discrete(s), &Operation::Discrete(c)).is_err() {
            let equal_range = sp.0 == cp.0 && sp.1 == cp.1;
            bad.insert((equal_range, sp.2 != cp.2));
        }
    }
    // Only equal ranges with different inserted text (vector S-PP-1's rule) diverge, and they do.
    assert!(
        bad.contains(&(true, true)),
        "the documented divergent case was not generated"
    );
    assert!(
        bad.iter()
            .all(|(equal_range, different_text)| *equal_range && *different_text),
        "unexpected divergent cases: {bad:?}"
    );
}

fn splice_parts(op: &DiscreteOp) -> (i64, i64, JsString) {
    match &op.kind {
        OpKind::StringSplice {
            index,
            delete_count,
            insert,
        } => (*index, *delete_count, insert.clone()),
        _ => (0, 0, JsString::new()),
    }
}

#[test]
fn splitting_true_splices_keeps_the_effect() {
    let mut rng = Rng::new(99);
    for _ in 0..500 {
        let doc = random_doc(&mut rng);
        let mut ids = Ids {
            prefix: "s",
            next: 0,
        };
        let op = random_compound(&mut rng, &doc, 4, &mut ids);
        let mut a = doc.clone();
        a.apply(op.clone()).expect("valid");
        let mut b = doc.clone();
        let split = op.without_true_splices();
        assert!(!server_has_true_splice(&split));
        b.apply(split).expect("valid");
        assert_eq!(a, b);
    }
    assert_eq!(JsString::from("😀").len(), 2);
}

/// The cases a textarea binding produces: 😀 -> 😁 shares the high surrogate, so the splice
/// replaces one code unit by a lone low surrogate; removing one half; inserting between halves.
#[test]
fn splices_inside_surrogate_pairs_apply_and_converge() {
    let doc = || {
        let mut root = BTreeMap::new();
        root.insert(
            JsString::from(STRING),
            Value::new(STRING, Data::String(JsString::from("a😀b"))),
        );
        Document::new(Value::new("root", Data::Object(root))).expect("valid")
    };
    let splice = |index, delete_count, insert: &[u16]| {
        Operation::Discrete(DiscreteOp::new(
            STRING,
            OpKind::StringSplice {
                index,
                delete_count,
                insert: JsString::from_slice(insert),
            },
        ))
    };
    let text = |d: &Document| d.string(&ValueId::new(STRING)).expect("string");
    let diff = splice(2, 1, &[0xDE01]);
    let mut d = doc();
    d.apply(diff.clone()).expect("splits a pair");
    assert_eq!(text(&d), JsString::from("a😁b"));
    let mut d = doc();
    d.apply(splice(1, 1, &[])).expect("removes a high half");
    assert_eq!(text(&d).units(), &[0x61, 0xDE00, 0x62]);
    let mut d = doc();
    d.apply(splice(2, 0, &[0x78]))
        .expect("inserts between halves");
    assert_eq!(text(&d).units(), &[0x61, 0xD83D, 0x78, 0xDE00, 0x62]);
    // Concurrent: the diff against a removal of the other half, both ways round (the server
    // side in the form the engine records, without true splices).
    for (s, c) in [
        (splice(1, 1, &[]), diff.clone()),
        (diff.clone(), splice(1, 1, &[])),
    ] {
        let s = s.without_true_splices();
        let (s2, c2) = transform(&s, &c).expect("transforms");
        let mut left = doc();
        left.apply(s).expect("s");
        left.apply(c2).expect("c'");
        let mut right = doc();
        right.apply(c).expect("c");
        right.apply(s2).expect("s'");
        assert_eq!(left, right);
    }
}
