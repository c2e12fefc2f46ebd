//! Plain JSON to and from model values.
//!
//! Dates: plain JSON has no date type, so a date is written as
//! `{"$convergenceType": "date", "value": "2024-05-01T12:00:00.000Z"}` (the JavaScript client's
//! own convention, ISO-8601 in UTC with milliseconds). On input the engine also accepts a number
//! of milliseconds in `value`, and the original server's REST form
//! `{"$$convergence_type": "date", "date": <epoch ms>}`. Numbers are IEEE doubles; integral ones
//! are written without a fraction.
//!
//! Text: model strings may hold unpaired surrogates, which `serde_json::Value` cannot. The
//! `*_value` / `*_text` functions here work on [`JsonValue`] and are exact (an unpaired
//! surrogate is a `\\uXXXX` escape in JSON text, in and out); the `serde_json` ones are kept
//! for hosts that want that type and replace an unpaired surrogate by U+FFFD on output.

use std::collections::BTreeMap;

use serde_json::{Number, Value as Json};
use thiserror::Error;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub use super::json_text::{parse, JsonValue, ParseError, MAX_PARSE_DEPTH};
use super::jsstring::JsString;
use super::value::{Data, Value, ValueId};

/// Why a JSON document could not become model data.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum JsonError {
    /// Model data must be a JSON object at the root.
    #[error("model data must be a JSON object")]
    RootNotObject,
    /// A date object whose value is neither an ISO-8601 string nor a number of milliseconds.
    #[error("invalid date {0:?}: expected an ISO-8601 string or epoch milliseconds")]
    InvalidDate(String),
}

/// Hands out value ids `<prefix>:<n>` with `n` counting up.
#[derive(Clone, Debug)]
pub struct IdGenerator {
    prefix: String,
    next: u64,
}

impl IdGenerator {
    /// A generator for `prefix`, starting at `first`.
    pub fn new(prefix: impl Into<String>, first: u64) -> Self {
        IdGenerator {
            prefix: prefix.into(),
            next: first,
        }
    }

    /// The next id.
    pub fn next_id(&mut self) -> ValueId {
        let id = ValueId::new(format!("{}:{}", self.prefix, self.next));
        self.next += 1;
        id
    }

    /// The counter value the next id will use.
    pub fn peek(&self) -> u64 {
        self.next
    }
}

/// Converts JSON to a value, numbering every node (parents first, then children in order).
pub fn value_from_json(json: &Json, ids: &mut IdGenerator) -> Result<Value, JsonError> {
    value_from_json_value(&JsonValue::from(json), ids)
}

/// Converts JSON model data (an object) to a root value.
pub fn root_from_json(json: &Json, ids: &mut IdGenerator) -> Result<Value, JsonError> {
    root_from_json_value(&JsonValue::from(json), ids)
}

/// Like [`value_from_json`], from JSON whose strings may hold unpaired surrogates.
pub fn value_from_json_value(json: &JsonValue, ids: &mut IdGenerator) -> Result<Value, JsonError> {
    let id = ids.next_id();
    let data = match json {
        JsonValue::Null => Data::Null,
        JsonValue::Bool(b) => Data::Boolean(*b),
        JsonValue::Number(n) => Data::Number(*n),
        JsonValue::String(s) => Data::String(s.clone()),
        JsonValue::Array(items) => Data::Array(
            items
                .iter()
                .map(|v| value_from_json_value(v, ids))
                .collect::<Result<_, _>>()?,
        ),
        JsonValue::Object(map) => {
            if let Some(ms) = date_from_json(map)? {
                Data::Date(ms)
            } else {
                let mut out = BTreeMap::new();
                for (k, v) in map {
                    out.insert(k.clone(), value_from_json_value(v, ids)?);
                }
                Data::Object(out)
            }
        }
    };
    Ok(Value { id, data })
}

/// Like [`root_from_json`], from JSON whose strings may hold unpaired surrogates.
pub fn root_from_json_value(json: &JsonValue, ids: &mut IdGenerator) -> Result<Value, JsonError> {
    match json {
        JsonValue::Object(map) if date_from_json(map)?.is_none() => {
            value_from_json_value(json, ids)
        }
        _ => Err(JsonError::RootNotObject),
    }
}

fn date_from_json(map: &BTreeMap<JsString, JsonValue>) -> Result<Option<i64>, JsonError> {
    let field = |k: &str| map.get(&JsString::from(k));
    let is_date =
        |k: &str| field(k).and_then(JsonValue::as_js_string) == Some(&JsString::from("date"));
    let millis = |v: &JsonValue| match v {
        JsonValue::Number(n) => Ok(Some(*n as i64)),
        other => Err(JsonError::InvalidDate(other.to_json_string())),
    };
    if map.len() == 2 && is_date("$convergenceType") {
        return match field("value") {
            Some(JsonValue::String(s)) => parse_iso(&s.to_string_lossy()).map(Some),
            Some(other) => millis(other),
            None => Ok(None),
        };
    }
    if map.len() == 2 && is_date("$$convergence_type") {
        return match field("date") {
            Some(other) => millis(other),
            None => Ok(None),
        };
    }
    Ok(None)
}

/// Parses an ISO-8601 / RFC 3339 instant to epoch milliseconds.
pub fn parse_iso(s: &str) -> Result<i64, JsonError> {
    let t = OffsetDateTime::parse(s, &Rfc3339).map_err(|_| JsonError::InvalidDate(s.into()))?;
    Ok((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// Formats epoch milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ`, as JavaScript's `toISOString`.
pub fn format_iso(ms: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let (y, mo, d) = (t.year(), u8::from(t.month()), t.day());
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// A date in the engine's JSON convention.
pub fn date_to_json(ms: i64) -> Json {
    date_to_json_value(ms).to_serde()
}

fn date_to_json_value(ms: i64) -> JsonValue {
    let mut m = BTreeMap::new();
    m.insert("$convergenceType".into(), JsonValue::String("date".into()));
    m.insert("value".into(), JsonValue::String(format_iso(ms).into()));
    JsonValue::Object(m)
}

/// A number as JSON: integral values without a fraction, non-finite ones as null.
pub fn number_to_json(n: f64) -> Json {
    if n.is_finite() && n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
        Json::Number(Number::from(n as i64))
    } else {
        Number::from_f64(n).map(Json::Number).unwrap_or(Json::Null)
    }
}

/// Converts a value to plain JSON (ids dropped). Lossy for text holding an unpaired
/// surrogate (it becomes U+FFFD); [`value_to_json_value`] and [`value_to_json_text`] are exact.
pub fn value_to_json(value: &Value) -> Json {
    value_to_json_value(value).to_serde()
}

/// Converts a value to JSON exactly (ids dropped).
pub fn value_to_json_value(value: &Value) -> JsonValue {
    match &value.data {
        Data::Null => JsonValue::Null,
        Data::Boolean(b) => JsonValue::Bool(*b),
        Data::Number(n) if n.is_finite() => JsonValue::Number(*n),
        Data::Number(_) => JsonValue::Null,
        Data::String(s) => JsonValue::String(s.clone()),
        Data::Date(ms) => date_to_json_value(*ms),
        Data::Array(items) => JsonValue::Array(items.iter().map(value_to_json_value).collect()),
        Data::Object(map) => JsonValue::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), value_to_json_value(v)))
                .collect(),
        ),
    }
}

/// A value as compact JSON text; an unpaired surrogate is written as a `\uXXXX` escape.
pub fn value_to_json_text(value: &Value) -> String {
    value_to_json_value(value).to_json_string()
}

/// Describes an operation as JSON, in the vocabulary of the transformation vectors:
/// `{"type": "StringSplice", "id": "2:0", "noOp": false, "index": 3, ...}`; a compound
/// operation is `{"type": "Compound", "ops": [...]}`. Lossy like [`value_to_json`];
/// [`operation_to_json_value`] is exact.
pub fn operation_to_json(op: &crate::ot::Operation) -> Json {
    operation_to_json_value(op).to_serde()
}

/// Like [`operation_to_json`], exactly.
pub fn operation_to_json_value(op: &crate::ot::Operation) -> JsonValue {
    match op {
        crate::ot::Operation::Discrete(d) => discrete_to_json(d),
        crate::ot::Operation::Compound(ops) => {
            let mut m = BTreeMap::new();
            m.insert("type".into(), JsonValue::String("Compound".into()));
            m.insert(
                "ops".into(),
                JsonValue::Array(ops.iter().map(discrete_to_json).collect()),
            );
            JsonValue::Object(m)
        }
    }
}

fn int(n: i64) -> JsonValue {
    JsonValue::Number(n as f64)
}

fn num(n: f64) -> JsonValue {
    if n.is_finite() {
        JsonValue::Number(n)
    } else {
        JsonValue::Null
    }
}

fn discrete_to_json(op: &crate::ot::DiscreteOp) -> JsonValue {
    use crate::ot::OpKind;
    let mut m: BTreeMap<JsString, JsonValue> = BTreeMap::new();
    let text = |s: &str| JsonValue::String(s.into());
    m.insert("type".into(), text(op.kind.op_type().name()));
    m.insert("id".into(), text(op.id.as_str()));
    m.insert("noOp".into(), JsonValue::Bool(op.no_op));
    let mut put = |k: &str, v: JsonValue| {
        m.insert(k.into(), v);
    };
    match &op.kind {
        OpKind::StringSplice {
            index,
            delete_count,
            insert,
        } => {
            put("index", int(*index));
            put("deleteCount", int(*delete_count));
            put("insertValue", JsonValue::String(insert.clone()));
        }
        OpKind::StringSet { value } => put("value", JsonValue::String(value.clone())),
        OpKind::ArrayInsert { index, value } | OpKind::ArrayReplace { index, value } => {
            put("index", int(*index));
            put("value", value_to_json_value(value));
        }
        OpKind::ArrayRemove { index } => put("index", int(*index)),
        OpKind::ArrayMove { from, to } => {
            put("fromIndex", int(*from));
            put("toIndex", int(*to));
        }
        OpKind::ArraySet { values } => put(
            "value",
            JsonValue::Array(values.iter().map(value_to_json_value).collect()),
        ),
        OpKind::ObjectAddProperty { key, value } | OpKind::ObjectSetProperty { key, value } => {
            put("prop", JsonValue::String(key.clone()));
            put("value", value_to_json_value(value));
        }
        OpKind::ObjectRemoveProperty { key } => put("prop", JsonValue::String(key.clone())),
        OpKind::ObjectSet { values } => put(
            "value",
            JsonValue::Object(
                values
                    .iter()
                    .map(|(k, v)| (k.clone(), value_to_json_value(v)))
                    .collect(),
            ),
        ),
        OpKind::NumberAdd { delta } => put("value", num(*delta)),
        OpKind::NumberSet { value } => put("value", num(*value)),
        OpKind::BooleanSet { value } => put("value", JsonValue::Bool(*value)),
        OpKind::DateSet { value } => put("value", date_to_json_value(*value)),
    }
    JsonValue::Object(m)
}
