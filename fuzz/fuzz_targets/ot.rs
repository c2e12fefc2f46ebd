//! Apply and transform of random operation pairs on random documents. The input drives a
//! generator of a document and of two operations (compound ones included), mostly valid and
//! sometimes not. When both apply to the document, transforming them either fails with a typed
//! error or gives a pair for which TP1 holds:
//! `apply(apply(d, s), c') == apply(apply(d, c), s')` (or both sides fail alike).
//!
//! As in `engine/tests/tp1.rs`, the operation in the server position never holds a true
//! string splice: the engine splits those (`Operation::without_true_splices`) before they
//! enter its history, because the published rules diverge for them (`docs/compatibility.md`).
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use tandem::ot::{
    transform, transform_in_place, Data, DiscreteOp, Document, JsString, OpKind, Operation, Value,
    ValueId,
};

/// Reads choices from the fuzz input; zeros once it is used up.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            self.byte() as usize % n
        }
    }
    fn chance(&mut self, percent: u8) -> bool {
        self.byte() % 100 < percent
    }
    /// An index, out of `0..=n` now and then (invalid operations must fail cleanly).
    fn index(&mut self, n: usize) -> i64 {
        if self.chance(5) {
            self.byte() as i64 - 64
        } else {
            self.below(n + 1) as i64
        }
    }
}

/// Code units text is made of: ASCII, a BMP letter, NUL, and both halves of 😀 (so texts hold
/// pairs, lone halves, and splits between halves, as JavaScript strings may).
const ALPHABET: [u16; 7] = [0x61, 0x62, 0xE9, 0x78, 0x0, 0xD83D, 0xDE00];
const KEYS: [&str; 5] = ["a", "b", "c", "d", "e"];
/// The values operations target (the root's children, by id).
const TARGETS: [&str; 6] = ["str", "arr", "obj", "num", "bool", "date"];

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

fn text(b: &mut Bytes, max: usize) -> JsString {
    JsString::from_units(
        (0..b.below(max + 1))
            .map(|_| ALPHABET[b.below(ALPHABET.len())])
            .collect(),
    )
}

fn value(b: &mut Bytes, ids: &mut Ids, depth: usize) -> Value {
    let data = match b.below(if depth > 0 { 7 } else { 5 }) {
        0 => Data::Number(f64::from(b.byte()) - 100.0),
        1 => Data::String(text(b, 4)),
        2 => Data::Boolean(b.chance(50)),
        3 => Data::Date(1_600_000_000_000 + i64::from(b.byte())),
        4 => Data::Null,
        5 => Data::Array((0..b.below(3)).map(|_| value(b, ids, depth - 1)).collect()),
        _ => Data::Object(
            (0..b.below(3))
                .map(|_| {
                    (
                        JsString::from(KEYS[b.below(KEYS.len())]),
                        value(b, ids, depth - 1),
                    )
                })
                .collect(),
        ),
    };
    Value::new(ids.id(), data)
}

fn document(b: &mut Bytes) -> Option<Document> {
    let mut ids = Ids {
        prefix: "0",
        next: 0,
    };
    let mut root = BTreeMap::new();
    let mut put = |key: &str, data: Data| {
        root.insert(JsString::from(key), Value::new(key, data));
    };
    put("str", Data::String(text(b, 8)));
    put(
        "arr",
        Data::Array((0..b.below(6)).map(|_| value(b, &mut ids, 2)).collect()),
    );
    let props = (0..b.below(KEYS.len()))
        .map(|i| (JsString::from(KEYS[i]), value(b, &mut ids, 2)))
        .collect();
    put("obj", Data::Object(props));
    put("num", Data::Number(f64::from(b.byte())));
    put("bool", Data::Boolean(b.chance(50)));
    put("date", Data::Date(1_600_000_000_000));
    Document::new(Value::new("root", Data::Object(root))).ok()
}

/// A random operation against `doc` (valid most of the time).
fn discrete(b: &mut Bytes, doc: &Document, ids: &mut Ids) -> DiscreteOp {
    let target = TARGETS[b.below(TARGETS.len())];
    let id = ValueId::new(target);
    let len = doc.len_of(&id).unwrap_or(0).max(0) as usize;
    let kind = match target {
        "str" if b.chance(80) => {
            let index = b.index(len);
            let rest = (len as i64 - index).max(0) as usize;
            OpKind::StringSplice {
                index,
                delete_count: b.index(rest),
                insert: text(b, 3),
            }
        }
        "str" => OpKind::StringSet { value: text(b, 4) },
        "arr" => match b.below(5) {
            0 => OpKind::ArrayInsert {
                index: b.index(len),
                value: value(b, ids, 1),
            },
            1 => OpKind::ArrayRemove {
                index: b.index(len.saturating_sub(1)),
            },
            2 => OpKind::ArrayReplace {
                index: b.index(len.saturating_sub(1)),
                value: value(b, ids, 1),
            },
            3 => OpKind::ArrayMove {
                from: b.index(len.saturating_sub(1)),
                to: b.index(len.saturating_sub(1)),
            },
            _ => OpKind::ArraySet {
                values: (0..b.below(3)).map(|_| value(b, ids, 1)).collect(),
            },
        },
        "obj" => {
            let key = JsString::from(KEYS[b.below(KEYS.len())]);
            match b.below(4) {
                0 => OpKind::ObjectAddProperty {
                    key,
                    value: value(b, ids, 1),
                },
                1 => OpKind::ObjectSetProperty {
                    key,
                    value: value(b, ids, 1),
                },
                2 => OpKind::ObjectRemoveProperty { key },
                _ => OpKind::ObjectSet {
                    values: (0..b.below(3))
                        .map(|_| (JsString::from(KEYS[b.below(KEYS.len())]), value(b, ids, 1)))
                        .collect(),
                },
            }
        }
        "num" if b.chance(50) => OpKind::NumberAdd {
            delta: f64::from(b.byte()) - 128.0,
        },
        "num" => OpKind::NumberSet {
            value: f64::from(b.byte()),
        },
        "bool" => OpKind::BooleanSet {
            value: b.chance(50),
        },
        _ => OpKind::DateSet {
            value: 1_600_000_000_000 + i64::from(b.byte()),
        },
    };
    DiscreteOp::new(id, kind)
}

/// A discrete operation, or a compound one whose parts each apply after the ones before.
fn operation(b: &mut Bytes, doc: &Document, ids: &mut Ids) -> Operation {
    if !b.chance(30) {
        return Operation::Discrete(discrete(b, doc, ids));
    }
    let mut scratch = doc.clone();
    let mut parts = Vec::new();
    for _ in 0..1 + b.below(3) {
        let op = discrete(b, &scratch, ids);
        if scratch.apply(Operation::Discrete(op.clone())).is_ok() || b.chance(10) {
            parts.push(op);
        }
    }
    Operation::Compound(parts)
}

fn applied(doc: &Document, first: &Operation, second: &Operation) -> Result<Value, String> {
    let mut d = doc.clone();
    d.apply(first.clone()).map_err(|e| e.to_string())?;
    d.apply(second.clone()).map_err(|e| e.to_string())?;
    Ok(d.to_value())
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    let Some(doc) = document(&mut b) else { return };
    let mut sid = Ids {
        prefix: "s",
        next: 0,
    };
    let mut cid = Ids {
        prefix: "c",
        next: 0,
    };
    let s = operation(&mut b, &doc, &mut sid).without_true_splices();
    let c = operation(&mut b, &doc, &mut cid);
    let valid = doc.clone().apply(s.clone()).is_ok() && doc.clone().apply(c.clone()).is_ok();
    let copied = transform(&s, &c);
    let (mut s_in, mut c_in) = (s.clone(), c.clone());
    let in_place = transform_in_place(&mut s_in, &mut c_in);
    if !valid {
        return;
    }
    let Ok((s2, c2)) = copied else {
        assert!(in_place.is_err(), "only the in-place transform succeeded");
        return;
    };
    assert!(in_place.is_ok(), "only the copying transform succeeded");
    assert_eq!(
        (&s_in, &c_in),
        (&s2, &c2),
        "in-place and copying transforms differ"
    );
    let left = applied(&doc, &s, &c2);
    let right = applied(&doc, &c, &s2);
    match (&left, &right) {
        (Ok(l), Ok(r)) => assert_eq!(
            format!("{l:?}"),
            format!("{r:?}"),
            "TP1 fails:\n s = {s:?}\n c = {c:?}\n s' = {s2:?}\n c' = {c2:?}"
        ),
        (Err(_), Err(_)) => {}
        _ => panic!(
            "one side applies and the other fails: {left:?} / {right:?}\n s = {s:?}\n c = {c:?}\n s' = {s2:?}\n c' = {c2:?}"
        ),
    }
});
