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
    transform, Data, DiscreteOp, Document, JsString, OpKind, OpType, Operation, Value, ValueId,
};
use tandem::testing::Rng;

mod ot_gen;
use ot_gen::*;

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

fn server_has_true_splice(s: &Operation) -> bool {
    s.ops().iter().any(|op| !op.no_op && op.is_true_splice())
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
