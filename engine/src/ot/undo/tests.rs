//! Inverses of every kind, and one case per hard case of the undo policy (`docs/history.md`).

use serde_json::json;

use super::*;
use crate::ot::json::{root_from_json, value_from_json, value_to_json};
use crate::ot::{Document, JsString, PathSegment};

/// A model with its log: every operation applied at the head, as the sequencer does.
struct Log {
    doc: Document,
    entries: Vec<(u64, String, AppliedOperation)>,
    ids: IdGenerator,
}

impl Log {
    fn new(data: serde_json::Value) -> Self {
        let mut ids = IdGenerator::new("0", 0);
        let root = root_from_json(&data, &mut ids).expect("root");
        Log {
            doc: Document::new(root).expect("doc"),
            entries: Vec::new(),
            ids: IdGenerator::new("1", 0),
        }
    }

    fn id(&self, path: &[&str]) -> ValueId {
        let segs: Vec<PathSegment> = path
            .iter()
            .map(|p| match p.parse::<usize>() {
                Ok(i) => PathSegment::Index(i),
                Err(_) => PathSegment::Key(JsString::from(*p)),
            })
            .collect();
        self.doc.resolve(&segs).expect("path")
    }

    fn value(&mut self, v: serde_json::Value) -> Value {
        value_from_json(&v, &mut self.ids).expect("value")
    }

    /// Applies `kind` at `path` by `author`; returns the new version.
    fn op(&mut self, author: &str, path: &[&str], kind: OpKind) -> u64 {
        let op = Operation::Discrete(DiscreteOp::new(self.id(path), kind));
        self.apply(author, op)
    }

    fn apply(&mut self, author: &str, op: Operation) -> u64 {
        let applied = self.doc.apply(op).expect("apply");
        let version = self.entries.len() as u64 + 1;
        self.entries.push((version, author.to_string(), applied));
        version
    }

    /// Undoes `versions` by `undoer`, commits the result; returns the plan.
    fn undo(&mut self, undoer: &str, versions: &[u64]) -> UndoPlan {
        let mut batch = UndoBatch::new();
        for (v, author, applied) in &self.entries {
            batch.advance(*v, author, &applied.operation());
            if versions.contains(v) {
                batch.start(*v, author, applied).expect("invertible");
            }
        }
        let head = self.entries.len() as u64;
        let doc = &self.doc;
        let mut plan = batch.finish(&|id| doc.contains(id), head);
        if let Some(op) = plan.op.as_mut() {
            refresh_ids(op, &mut self.ids);
            self.apply(undoer, op.clone());
        }
        plan
    }

    fn json(&self) -> serde_json::Value {
        value_to_json(&self.doc.to_value())
    }
}

/// Makes an operation kind (its values take ids from the log).
type MakeKind = Box<dyn Fn(&mut Log) -> OpKind>;

fn splice(index: i64, delete_count: i64, insert: &str) -> OpKind {
    OpKind::StringSplice {
        index,
        delete_count,
        insert: JsString::from(insert),
    }
}

fn key(k: &str) -> JsString {
    JsString::from(k)
}

#[test]
fn every_kind_applied_then_inverted_gives_back_the_data() {
    let start = json!({"s": "hello", "a": [1, {"x": 2}, 3], "o": {"k": [true], "n": 1},
        "n": 4.5, "b": false, "d": {"$convergenceType": "date", "value": "2024-01-02T03:04:05.000Z"}});
    let cases: Vec<(&[&str], MakeKind)> = vec![
        (&["s"][..], Box::new(|_| splice(1, 0, "XY"))),
        (&["s"][..], Box::new(|_| splice(1, 3, ""))),
        (&["s"][..], Box::new(|_| splice(1, 2, "ZZZ"))),
        (
            &["s"][..],
            Box::new(|_| OpKind::StringSet { value: key("new") }),
        ),
        (
            &["a"][..],
            Box::new(|l| OpKind::ArrayInsert {
                index: 1,
                value: l.value(json!({"y": [1]})),
            }),
        ),
        (&["a"][..], Box::new(|_| OpKind::ArrayRemove { index: 1 })),
        (
            &["a"][..],
            Box::new(|l| OpKind::ArrayReplace {
                index: 1,
                value: l.value(json!("r")),
            }),
        ),
        (
            &["a"][..],
            Box::new(|_| OpKind::ArrayMove { from: 0, to: 2 }),
        ),
        (
            &["a"][..],
            Box::new(|l| OpKind::ArraySet {
                values: vec![l.value(json!(9))],
            }),
        ),
        (
            &["o"][..],
            Box::new(|l| OpKind::ObjectAddProperty {
                key: key("z"),
                value: l.value(json!([1, 2])),
            }),
        ),
        (
            &["o"][..],
            Box::new(|l| OpKind::ObjectSetProperty {
                key: key("k"),
                value: l.value(json!({"q": 1})),
            }),
        ),
        (
            &["o"][..],
            Box::new(|_| OpKind::ObjectRemoveProperty { key: key("k") }),
        ),
        (
            &["o"][..],
            Box::new(|l| {
                let v = l.value(json!({"only": "this"}));
                let Data::Object(values) = v.data else {
                    unreachable!()
                };
                OpKind::ObjectSet { values }
            }),
        ),
        (&["n"][..], Box::new(|_| OpKind::NumberAdd { delta: 2.0 })),
        (&["n"][..], Box::new(|_| OpKind::NumberSet { value: -1.0 })),
        (&["b"][..], Box::new(|_| OpKind::BooleanSet { value: true })),
        (&["d"][..], Box::new(|_| OpKind::DateSet { value: 0 })),
    ];
    for (path, make) in cases {
        let mut log = Log::new(start.clone());
        let kind = make(&mut log);
        let name = kind.op_type().name();
        let v = log.op("ann", path, kind);
        assert_ne!(log.json(), start, "{name} changed nothing");
        let plan = log.undo("ann", &[v]);
        assert!(
            plan.conflicts.is_empty() && plan.skipped.is_empty(),
            "{name}: {plan:?}"
        );
        assert_eq!(log.json(), start, "{name} undone");
    }
}

#[test]
fn a_compound_is_inverted_in_reverse_order() {
    let start = json!({"o": {}, "s": "ab"});
    let mut log = Log::new(start.clone());
    let o = log.id(&["o"]);
    let s = log.id(&["s"]);
    let v = log.value(json!({"x": 1}));
    let inner = ValueId::new("1:0");
    let op = Operation::Compound(vec![
        DiscreteOp::new(
            o.clone(),
            OpKind::ObjectAddProperty {
                key: key("a"),
                value: v,
            },
        ),
        DiscreteOp::new(
            inner,
            OpKind::ObjectSetProperty {
                key: key("x"),
                value: log.value(json!(2)),
            },
        ),
        DiscreteOp::new(s, splice(2, 0, "cd")),
    ]);
    let version = log.apply("ann", op);
    assert_eq!(log.json(), json!({"o": {"a": {"x": 2}}, "s": "abcd"}));
    log.undo("ann", &[version]);
    assert_eq!(log.json(), start);
}

#[test]
fn reinserted_values_get_fresh_ids() {
    let mut log = Log::new(json!({"a": [{"x": 1}]}));
    let old = log.id(&["a", "0"]);
    let v = log.op("ann", &["a"], OpKind::ArrayRemove { index: 0 });
    log.undo("ann", &[v]);
    let now = log.id(&["a", "0"]);
    assert_ne!(now, old);
    assert_eq!(log.json(), json!({"a": [{"x": 1}]}));
    // An operation still in flight against the old element finds nothing.
    assert!(!log.doc.contains(&old));
}

#[test]
fn undo_of_an_insert_others_typed_into_removes_only_its_own_characters() {
    let mut log = Log::new(json!({"s": "hello"}));
    let v = log.op("ann", &["s"], splice(5, 0, " world"));
    // Ben types inside Ann's text, and before it.
    log.op("ben", &["s"], splice(7, 0, "[B]"));
    log.op("ben", &["s"], splice(0, 0, ">"));
    assert_eq!(log.json(), json!({"s": ">hello w[B]orld"}));
    let plan = log.undo("host", &[v]);
    assert_eq!(plan.conflicts, Vec::<u64>::new());
    assert_eq!(log.json(), json!({"s": ">hello[B]"}));
}

#[test]
fn undo_of_an_insert_partly_removed_since_removes_what_is_left() {
    let mut log = Log::new(json!({"s": "abc"}));
    let v = log.op("ann", &["s"], splice(3, 0, "12345"));
    log.op("ben", &["s"], splice(2, 3, ""));
    assert_eq!(log.json(), json!({"s": "ab345"}));
    log.undo("ann", &[v]);
    assert_eq!(log.json(), json!({"s": "ab"}));
}

#[test]
fn undo_of_an_insert_removed_entirely_since_is_superseded() {
    let mut log = Log::new(json!({"s": "abc"}));
    let v = log.op("ann", &["s"], splice(1, 0, "XY"));
    let by = log.op("ben", &["s"], splice(0, 4, ""));
    let plan = log.undo("ann", &[v]);
    assert_eq!(plan.op, None);
    assert_eq!(plan.skipped[0].reason, SkipReason::Superseded { by });
    assert_eq!(log.json(), json!({"s": "c"}));
}

#[test]
fn undo_of_a_removal_reinserts_where_the_text_now_is() {
    let mut log = Log::new(json!({"s": "hello world"}));
    let v = log.op("ann", &["s"], splice(5, 6, ""));
    log.op("ben", &["s"], splice(0, 0, "Oh, "));
    log.undo("ann", &[v]);
    assert_eq!(log.json(), json!({"s": "Oh, hello world"}));
}

#[test]
fn a_container_removed_later_leaves_nothing_to_undo() {
    let mut log = Log::new(json!({"o": {"a": {"x": 1}}}));
    let v = log.op(
        "ann",
        &["o", "a"],
        OpKind::ObjectSetProperty {
            key: key("x"),
            value: Value::new("1:9", Data::Number(2.0)),
        },
    );
    log.op(
        "ben",
        &["o"],
        OpKind::ObjectRemoveProperty { key: key("a") },
    );
    let plan = log.undo("ann", &[v]);
    assert_eq!(plan.op, None);
    assert_eq!(plan.skipped[0].reason, SkipReason::TargetGone);
    assert_eq!(log.json(), json!({"o": {}}));
}

#[test]
fn resurrecting_a_property_others_removed_is_a_conflict() {
    let mut log = Log::new(json!({"o": {"k": 1}}));
    let v = log.op(
        "ann",
        &["o"],
        OpKind::ObjectSetProperty {
            key: key("k"),
            value: Value::new("1:9", Data::Number(2.0)),
        },
    );
    let by = log.op(
        "ben",
        &["o"],
        OpKind::ObjectRemoveProperty { key: key("k") },
    );
    let plan = log.undo("ann", &[v]);
    assert_eq!(plan.conflicts, vec![by]);
    assert_eq!(plan.op, None);
    assert_eq!(log.json(), json!({"o": {}}));
}

#[test]
fn resurrecting_an_element_others_removed_is_a_conflict() {
    let mut log = Log::new(json!({"a": [1, 2]}));
    let v = log.op(
        "ann",
        &["a"],
        OpKind::ArrayReplace {
            index: 1,
            value: Value::new("1:9", Data::Number(5.0)),
        },
    );
    let by = log.op("ben", &["a"], OpKind::ArrayRemove { index: 1 });
    let plan = log.undo("ann", &[v]);
    assert_eq!(plan.conflicts, vec![by]);
}

#[test]
fn a_set_all_with_others_changes_inside_is_a_conflict() {
    let mut log = Log::new(json!({"a": [1, 2]}));
    let v = log.op(
        "ann",
        &["a"],
        OpKind::ArraySet {
            values: vec![Value::new("1:9", Data::Number(7.0))],
        },
    );
    let by = log.op(
        "ben",
        &["a"],
        OpKind::ArrayInsert {
            index: 0,
            value: Value::new("2:0", Data::Number(0.0)),
        },
    );
    let plan = log.undo("ann", &[v]);
    assert_eq!(plan.conflicts, vec![by]);
    assert_eq!(log.json(), json!({"a": [0, 7]}));
    // The same change by Ann herself does not block her undo.
    let mut log = Log::new(json!({"a": [1, 2]}));
    let v = log.op(
        "ann",
        &["a"],
        OpKind::ArraySet {
            values: vec![Value::new("1:9", Data::Number(7.0))],
        },
    );
    log.op(
        "ann",
        &["a"],
        OpKind::ArrayInsert {
            index: 0,
            value: Value::new("2:0", Data::Number(0.0)),
        },
    );
    assert!(log.undo("ann", &[v]).conflicts.is_empty());
    assert_eq!(log.json(), json!({"a": [1, 2]}));
}

#[test]
fn a_string_set_with_others_typing_since_is_a_conflict() {
    let mut log = Log::new(json!({"s": "old"}));
    let v = log.op("ann", &["s"], OpKind::StringSet { value: key("new") });
    let by = log.op("ben", &["s"], splice(3, 0, "!"));
    assert_eq!(log.undo("ann", &[v]).conflicts, vec![by]);
    assert_eq!(log.json(), json!({"s": "new!"}));
}

#[test]
fn a_compound_with_one_conflicting_part_undoes_nothing() {
    let mut log = Log::new(json!({"n": 1, "s": "ab"}));
    let n = log.id(&["n"]);
    let s = log.id(&["s"]);
    let v = log.apply(
        "ann",
        Operation::Compound(vec![
            DiscreteOp::new(n, OpKind::NumberSet { value: 5.0 }),
            DiscreteOp::new(s, splice(2, 0, "c")),
        ]),
    );
    let by = log.op("ben", &["n"], OpKind::NumberAdd { delta: 1.0 });
    let plan = log.undo("ann", &[v]);
    assert_eq!(plan.conflicts, vec![by]);
    assert_eq!(plan.op, None);
    assert_eq!(log.json(), json!({"n": 6, "s": "abc"}));
}

#[test]
fn a_number_add_undone_keeps_others_adds() {
    let mut log = Log::new(json!({"n": 10}));
    let v = log.op("ann", &["n"], OpKind::NumberAdd { delta: 5.0 });
    log.op("ben", &["n"], OpKind::NumberAdd { delta: 3.0 });
    log.undo("ann", &[v]);
    assert_eq!(log.json(), json!({"n": 13}));
}

#[test]
fn a_set_others_set_again_since_is_superseded() {
    let mut log = Log::new(json!({"n": 1}));
    let v = log.op("ann", &["n"], OpKind::NumberSet { value: 5.0 });
    let by = log.op("ben", &["n"], OpKind::NumberSet { value: 7.0 });
    let plan = log.undo("ann", &[v]);
    assert_eq!(plan.op, None);
    assert_eq!(plan.skipped[0].reason, SkipReason::Superseded { by });
    assert_eq!(log.json(), json!({"n": 7}));
}

#[test]
fn removing_an_added_value_others_edited_inside_is_a_conflict() {
    let mut log = Log::new(json!({"o": {}}));
    let value = log.value(json!({"x": 1}));
    let v = log.op(
        "ann",
        &["o"],
        OpKind::ObjectAddProperty {
            key: key("a"),
            value,
        },
    );
    let by = log.op(
        "ben",
        &["o", "a"],
        OpKind::ObjectSetProperty {
            key: key("x"),
            value: Value::new("2:0", Data::Number(2.0)),
        },
    );
    assert_eq!(log.undo("ann", &[v]).conflicts, vec![by]);
    assert_eq!(log.json(), json!({"o": {"a": {"x": 2}}}));
}

#[test]
fn an_element_insert_undone_removes_that_element_wherever_it_went() {
    let mut log = Log::new(json!({"a": ["p", "q"]}));
    let v = log.op(
        "ann",
        &["a"],
        OpKind::ArrayInsert {
            index: 1,
            value: Value::new("1:9", Data::String(key("ann"))),
        },
    );
    log.op(
        "ben",
        &["a"],
        OpKind::ArrayInsert {
            index: 0,
            value: Value::new("2:0", Data::String(key("ben"))),
        },
    );
    log.op("ben", &["a"], OpKind::ArrayMove { from: 2, to: 0 });
    assert_eq!(log.json(), json!({"a": ["ann", "ben", "p", "q"]}));
    log.undo("host", &[v]);
    assert_eq!(log.json(), json!({"a": ["ben", "p", "q"]}));
}

#[test]
fn redo_is_the_undo_of_the_undo() {
    let mut log = Log::new(json!({"s": "ab", "o": {"k": [1]}}));
    let v1 = log.op("ann", &["s"], splice(1, 0, "XYZ"));
    let v2 = log.op(
        "ann",
        &["o"],
        OpKind::ObjectRemoveProperty { key: key("k") },
    );
    log.op("ben", &["s"], splice(0, 0, "_"));
    let after = log.json();
    log.undo("ann", &[v1, v2]);
    assert_eq!(log.json(), json!({"s": "_ab", "o": {"k": [1]}}));
    let undo = log.entries.len() as u64;
    log.undo("ann", &[undo]);
    assert_eq!(log.json(), after);
}

#[test]
fn several_operations_undone_together_newest_first() {
    let mut log = Log::new(json!({"s": ""}));
    let v1 = log.op("bot", &["s"], splice(0, 0, "abc"));
    log.op("ann", &["s"], splice(3, 0, "!"));
    let v2 = log.op("bot", &["s"], splice(1, 0, "12"));
    let v3 = log.op("bot", &["s"], splice(0, 1, ""));
    assert_eq!(log.json(), json!({"s": "12bc!"}));
    let plan = log.undo("host", &[v1, v2, v3]);
    assert!(plan.conflicts.is_empty(), "{plan:?}");
    assert_eq!(log.json(), json!({"s": "!"}));
}

#[test]
fn own_later_edits_inside_own_insert_are_kept_by_a_selective_undo() {
    let mut log = Log::new(json!({"s": ""}));
    let v = log.op("ann", &["s"], splice(0, 0, "abc"));
    log.op("ann", &["s"], splice(1, 0, "-"));
    log.undo("ann", &[v]);
    assert_eq!(log.json(), json!({"s": "-"}));
}

#[test]
fn a_no_op_has_nothing_to_undo() {
    let mut log = Log::new(json!({"n": 1}));
    let n = log.id(&["n"]);
    let v = log.apply(
        "ann",
        Operation::Discrete(DiscreteOp::new(n, OpKind::NumberAdd { delta: 1.0 }).noop()),
    );
    let plan = log.undo("ann", &[v]);
    assert_eq!(
        plan,
        UndoPlan {
            op: None,
            skipped: vec![],
            conflicts: vec![]
        }
    );
}

#[test]
fn a_record_without_what_it_replaced_has_no_inverse() {
    let applied = AppliedOperation::Discrete(crate::ot::AppliedOp {
        op: DiscreteOp::new("x", OpKind::NumberSet { value: 1.0 }),
        undo: Undo::None,
    });
    assert!(matches!(
        inverse(&applied),
        Err(InverseError::MissingUndo { part: 0, .. })
    ));
    assert!(Undoing::new(1, "ann", &applied).is_err());
}
