//! Conformance with the protocol's transformation vectors (`../shared/otspec`, 267 cases).
//!
//! Every case transforms its input pair and must produce exactly the output pair (including
//! the fields of operations that became no-ops), or fail where the case says `error: true`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value as Json;
use tandem::ot::json::{value_from_json, IdGenerator};
use tandem::ot::{transform_discrete, transform_discrete_in_place, DiscreteOp, OpKind, Value};

fn otspec_dir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("TANDEM_OTSPEC_DIR") {
        return Some(PathBuf::from(dir));
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/otspec");
    dir.is_dir().then_some(dir)
}

/// Values get ids from a fresh generator each, so equal JSON gives equal values.
fn val(json: &Json) -> Value {
    value_from_json(json, &mut IdGenerator::new("v", 0)).expect("vector values are valid JSON data")
}

fn int(op: &Json, field: &str) -> i64 {
    op[field]
        .as_i64()
        .unwrap_or_else(|| panic!("field {field} missing in {op}"))
}

fn parse_op(op: &Json) -> DiscreteOp {
    let ty = op["type"].as_str().expect("type");
    let kind = match ty {
        "StringSplice" => OpKind::StringSplice {
            index: int(op, "index"),
            delete_count: int(op, "deleteCount"),
            insert: op["insertValue"].as_str().expect("insertValue").into(),
        },
        "StringSet" => OpKind::StringSet {
            value: op["value"].as_str().expect("value").into(),
        },
        "ArrayInsert" => OpKind::ArrayInsert {
            index: int(op, "index"),
            value: val(&op["value"]),
        },
        "ArrayRemove" => OpKind::ArrayRemove {
            index: int(op, "index"),
        },
        "ArrayReplace" => OpKind::ArrayReplace {
            index: int(op, "index"),
            value: val(&op["value"]),
        },
        "ArrayMove" => OpKind::ArrayMove {
            from: int(op, "fromIndex"),
            to: int(op, "toIndex"),
        },
        "ArraySet" => OpKind::ArraySet {
            values: op["value"]
                .as_array()
                .expect("array value")
                .iter()
                .map(val)
                .collect(),
        },
        "ObjectAddProperty" => OpKind::ObjectAddProperty {
            key: op["prop"].as_str().expect("prop").into(),
            value: val(&op["value"]),
        },
        "ObjectSetProperty" => OpKind::ObjectSetProperty {
            key: op["prop"].as_str().expect("prop").into(),
            value: val(&op["value"]),
        },
        "ObjectRemoveProperty" => OpKind::ObjectRemoveProperty {
            key: op["prop"].as_str().expect("prop").into(),
        },
        "ObjectSet" => OpKind::ObjectSet {
            values: op["value"]
                .as_object()
                .expect("object value")
                .iter()
                .map(|(k, v)| (k.as_str().into(), val(v)))
                .collect::<BTreeMap<_, _>>(),
        },
        "NumberAdd" | "NumberDelta" => OpKind::NumberAdd {
            delta: op["value"].as_f64().expect("value"),
        },
        "NumberSet" => OpKind::NumberSet {
            value: op["value"].as_f64().expect("value"),
        },
        "BooleanSet" => OpKind::BooleanSet {
            value: op["value"].as_bool().expect("value"),
        },
        "DateSet" => OpKind::DateSet {
            value: int(op, "value"),
        },
        other => panic!("unknown op type {other}"),
    };
    DiscreteOp {
        id: "vid".into(),
        no_op: op["noOp"].as_bool().unwrap_or(false),
        kind,
    }
}

#[test]
fn every_otspec_case_transforms_exactly() {
    let Some(dir) = otspec_dir() else {
        eprintln!(
            "SKIPPED: otspec vectors not found at ../shared/otspec (set TANDEM_OTSPEC_DIR); \
             the 267 conformance cases did not run"
        );
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read otspec dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut cases = 0;
    let mut failures = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read vector file");
        let spec: Json = serde_json::from_str(&text).expect("vector file is JSON");
        for case in spec["cases"].as_array().expect("cases") {
            cases += 1;
            let id = case["id"].as_str().unwrap_or("?");
            let s = parse_op(&case["input"]["serverOp"]);
            let c = parse_op(&case["input"]["clientOp"]);
            let result = transform_discrete(&s, &c);
            if case["error"].as_bool() == Some(true) {
                if result.is_ok() {
                    failures.push(format!(
                        "{id} ({}): expected an error, got {result:?}",
                        file.display()
                    ));
                }
                continue;
            }
            let want = (
                parse_op(&case["output"]["serverOp"]),
                parse_op(&case["output"]["clientOp"]),
            );
            // The in-place form must agree with the copying one on every vector.
            let (mut s_in_place, mut c_in_place) = (s.clone(), c.clone());
            match transform_discrete_in_place(&mut s_in_place, &mut c_in_place) {
                Ok(()) if (s_in_place.clone(), c_in_place.clone()) == want => {}
                other => failures.push(format!(
                    "{id} ({}) in place: expected {want:?}, got {other:?} ({s_in_place:?}, {c_in_place:?})",
                    file.display()
                )),
            }
            match result {
                Ok(got) if got == want => {}
                other => failures.push(format!(
                    "{id} ({}): expected {want:?}, got {other:?}",
                    file.display()
                )),
            }
        }
    }
    assert_eq!(
        files.len(),
        56,
        "expected 56 vector files in {}",
        dir.display()
    );
    assert_eq!(cases, 267, "expected 267 vector cases");
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
