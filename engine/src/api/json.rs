//! The facade's JSON forms, shared by every binding: changes a host applies and the events it
//! receives.
//!
//! A change is an object with an `"op"` and a `"path"` (an array of property names and array
//! positions, see [`path_from_json`](super::path_from_json)):
//!
//! | op | fields | effect |
//! |---|---|---|
//! | `set` | `path`, `value` | set a property (added if missing) or array element; `[]` replaces the data |
//! | `insert` | `path` (array), `index`, `value` | insert into an array |
//! | `remove` | `path` | remove a property or array element |
//! | `move` | `path` (array), `from`, `to` | move an array element |
//! | `splice` | `path` (string), `index`, `delete`, `insert` | edit text (UTF-16 positions) |
//! | `add` | `path` (number), `delta` | add to a number |

use serde_json::Value as Json;

use super::error::{Error, ErrorCode, Result};
use super::path_from_json_value;
use crate::model::Change;
use crate::ot::json::{parse, JsonValue};
use crate::ot::JsString;

fn bad(msg: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidArgument, msg)
}

fn int_field(obj: &JsonValue, name: &str) -> Result<i64> {
    obj.get(name)
        .and_then(JsonValue::as_i64)
        .ok_or_else(|| bad(format!("change needs an integer \"{name}\"")))
}

/// Parses one change.
pub fn change_from_json(json: &Json) -> Result<Change> {
    change_from_json_value(&JsonValue::from(json))
}

/// Parses one change from JSON whose strings may hold unpaired surrogates.
pub fn change_from_json_value(json: &JsonValue) -> Result<Change> {
    let op = json
        .get("op")
        .and_then(JsonValue::as_js_string)
        .and_then(JsString::as_string)
        .ok_or_else(|| bad("a change needs a string \"op\""))?;
    let no_path = JsonValue::Array(Vec::new());
    let path = path_from_json_value(json.get("path").unwrap_or(&no_path))?;
    let value = || {
        json.get("value")
            .cloned()
            .ok_or_else(|| bad(format!("\"{op}\" needs a \"value\"")))
    };
    Ok(match op.as_str() {
        "set" => Change::Set {
            path,
            value: value()?,
        },
        "insert" => Change::Insert {
            path,
            index: int_field(json, "index")?,
            value: value()?,
        },
        "remove" => Change::Remove { path },
        "move" => Change::Move {
            path,
            from: int_field(json, "from")?,
            to: int_field(json, "to")?,
        },
        "splice" => Change::Splice {
            path,
            index: int_field(json, "index")?,
            delete: json.get("delete").and_then(JsonValue::as_i64).unwrap_or(0),
            insert: json
                .get("insert")
                .and_then(JsonValue::as_js_string)
                .cloned()
                .unwrap_or_default(),
        },
        "add" => Change::Add {
            path,
            delta: json
                .get("delta")
                .and_then(JsonValue::as_f64)
                .ok_or_else(|| bad("\"add\" needs a number \"delta\""))?,
        },
        other => return Err(bad(format!("unknown change op \"{other}\""))),
    })
}

/// Parses a change or an array of changes.
pub fn changes_from_json(json: &Json) -> Result<Vec<Change>> {
    changes_from_json_value(&JsonValue::from(json))
}

/// Parses a change or an array of changes from JSON whose strings may hold unpaired
/// surrogates.
pub fn changes_from_json_value(json: &JsonValue) -> Result<Vec<Change>> {
    match json {
        JsonValue::Array(items) => items.iter().map(change_from_json_value).collect(),
        JsonValue::Object(_) => Ok(vec![change_from_json_value(json)?]),
        _ => Err(bad("changes must be a JSON object or array")),
    }
}

/// Parses changes from JSON text. `\uXXXX` escapes of unpaired surrogates are accepted, so a
/// splice can insert any UTF-16 code units.
pub fn changes_from_str(text: &str) -> Result<Vec<Change>> {
    let json = parse(text).map_err(|e| bad(format!("changes are not valid JSON: {e}")))?;
    changes_from_json_value(&json)
}

/// A change read from any serde format: the same object as [`change_from_json`] reads.
impl<'de> serde::Deserialize<'de> for Change {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let json = <JsonValue as serde::Deserialize>::deserialize(d)?;
        change_from_json_value(&json).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_parse_and_bad_ones_are_clear_errors() {
        let c = changes_from_str(
            r#"[{"op":"splice","path":["t"],"index":1,"insert":"x"},
                {"op":"set","path":["a",0],"value":{"k":1}},
                {"op":"add","path":["n"],"delta":2}]"#,
        )
        .unwrap();
        assert_eq!(c.len(), 3);
        for (text, needle) in [
            ("nope", "valid JSON"),
            (r#"{"op":"splice","path":["t",-1],"index":0}"#, "path index"),
            (r#"{"op":"fly"}"#, "unknown change op"),
            (r#"{"op":"insert","path":["a"],"value":1}"#, "index"),
            (r#"{"op":"set","path":[true]}"#, "path"),
            ("3", "object or array"),
        ] {
            let e = changes_from_str(text).err().unwrap();
            assert_eq!(e.code, ErrorCode::InvalidArgument);
            assert!(e.message.contains(needle), "{text}: {}", e.message);
        }
    }
}

#[cfg(test)]
mod surrogate_tests {
    use super::*;
    use crate::ot::PathSegment;

    #[test]
    fn changes_carry_unpaired_surrogates_from_json_text() {
        let c = changes_from_str(
            r#"[{"op":"splice","path":["t\ud800"],"index":1,"insert":"\ude01"},
                {"op":"set","path":["k"],"value":{"\udc00":"\ud83d"}}]"#,
        )
        .unwrap();
        match &c[0] {
            Change::Splice { path, insert, .. } => {
                assert_eq!(
                    path,
                    &[PathSegment::Key(JsString::from_units(vec![0x74, 0xD800]))]
                );
                assert_eq!(insert.units(), &[0xDE01]);
            }
            other => panic!("{other:?}"),
        }
        match &c[1] {
            Change::Set { value, .. } => {
                assert_eq!(value.to_json_string(), r#"{"\udc00":"\ud83d"}"#)
            }
            other => panic!("{other:?}"),
        }
    }
}
