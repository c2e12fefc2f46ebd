//! Random documents and operations for the OT property tests (`mod ot_gen;` in each), and the
//! TP1 check they share.
#![allow(dead_code)]

use std::collections::BTreeMap;

use tandem::ot::{
    transform, transform_in_place, Data, DiscreteOp, Document, JsString, OpKind, OpType, Operation,
    Value, ValueId,
};
use tandem::testing::Rng;

pub const STRING: &str = "str";
pub const ARRAY: &str = "arr";
pub const OBJECT: &str = "obj";
pub const NUMBER: &str = "num";
pub const BOOLEAN: &str = "bool";
pub const DATE: &str = "date";
pub const KEYS: [&str; 5] = ["a", "b", "c", "d", "e"];
/// Pieces of text, as UTF-16 code units: letters, a surrogate pair (😀, 😁) and lone halves,
/// so that strings hold unpaired surrogates and splices cut pairs apart or join halves.
pub const ALPHABET: [&[u16]; 10] = [
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

pub struct Ids {
    pub prefix: &'static str,
    pub next: u64,
}

impl Ids {
    pub fn id(&mut self) -> ValueId {
        self.next += 1;
        ValueId::new(format!("{}:{}", self.prefix, self.next))
    }
}

pub fn text(rng: &mut Rng, max: usize) -> JsString {
    let mut out = JsString::new();
    for _ in 0..rng.below(max + 1) {
        out.push_units(ALPHABET[rng.below(ALPHABET.len())]);
    }
    out
}

pub fn scalar(rng: &mut Rng, ids: &mut Ids) -> Value {
    let data = match rng.below(4) {
        0 => Data::Number(rng.below(100) as f64),
        1 => Data::String(text(rng, 3)),
        2 => Data::Boolean(rng.percent(50)),
        _ => Data::Null,
    };
    Value::new(ids.id(), data)
}

pub fn random_doc(rng: &mut Rng) -> Document {
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
pub fn boundaries(s: &JsString) -> Vec<i64> {
    (0..=s.len_i64()).collect()
}

/// A random valid operation of type `ty` against `doc`, or `None` if the state allows none.
pub fn random_op(rng: &mut Rng, doc: &Document, ty: OpType, ids: &mut Ids) -> Option<DiscreteOp> {
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

pub fn nonempty(n: i64) -> Option<usize> {
    (n > 0).then_some(n as usize)
}

pub const ALL: [OpType; 15] = [
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

/// A compound operation of up to `max` random parts, each valid after the ones before it.
pub fn random_compound(rng: &mut Rng, doc: &Document, max: usize, ids: &mut Ids) -> Operation {
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

/// Checks TP1 for one pair; returns a description on divergence.
pub fn tp1(doc: &Document, s: &Operation, c: &Operation) -> Result<(), String> {
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
