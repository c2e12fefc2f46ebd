//! Plain JSON to and from model values.
//!
//! Dates: plain JSON has no date type, so a date is written as
//! `{"$convergenceType": "date", "value": "2024-05-01T12:00:00.000Z"}` (the JavaScript client's
//! own convention, ISO-8601 in UTC with milliseconds). On input the engine also accepts a number
//! of milliseconds in `value`, and the original server's REST form
//! `{"$$convergence_type": "date", "date": <epoch ms>}`. Numbers are IEEE doubles; integral ones
//! are written without a fraction.

use std::collections::BTreeMap;

use serde_json::{Map, Number, Value as Json};
use thiserror::Error;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

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
    let id = ids.next_id();
    let data = match json {
        Json::Null => Data::Null,
        Json::Bool(b) => Data::Boolean(*b),
        Json::Number(n) => Data::Number(n.as_f64().unwrap_or(0.0)),
        Json::String(s) => Data::String(s.clone()),
        Json::Array(items) => Data::Array(
            items
                .iter()
                .map(|v| value_from_json(v, ids))
                .collect::<Result<_, _>>()?,
        ),
        Json::Object(map) => {
            if let Some(ms) = date_from_json(map)? {
                Data::Date(ms)
            } else {
                let mut out = BTreeMap::new();
                for (k, v) in map {
                    out.insert(k.clone(), value_from_json(v, ids)?);
                }
                Data::Object(out)
            }
        }
    };
    Ok(Value { id, data })
}

/// Converts JSON model data (an object) to a root value.
pub fn root_from_json(json: &Json, ids: &mut IdGenerator) -> Result<Value, JsonError> {
    if !json.is_object() || date_from_json(json.as_object().unwrap_or(&Map::new()))?.is_some() {
        return Err(JsonError::RootNotObject);
    }
    value_from_json(json, ids)
}

fn date_from_json(map: &Map<String, Json>) -> Result<Option<i64>, JsonError> {
    if map.len() == 2 && map.get("$convergenceType").and_then(Json::as_str) == Some("date") {
        return match map.get("value") {
            Some(Json::String(s)) => parse_iso(s).map(Some),
            Some(Json::Number(n)) => n
                .as_f64()
                .map(|f| Some(f as i64))
                .ok_or_else(|| JsonError::InvalidDate(n.to_string())),
            Some(other) => Err(JsonError::InvalidDate(other.to_string())),
            None => Ok(None),
        };
    }
    if map.len() == 2 && map.get("$$convergence_type").and_then(Json::as_str) == Some("date") {
        return match map.get("date") {
            Some(Json::Number(n)) => n
                .as_f64()
                .map(|f| Some(f as i64))
                .ok_or_else(|| JsonError::InvalidDate(n.to_string())),
            Some(other) => Err(JsonError::InvalidDate(other.to_string())),
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
    let mut m = Map::new();
    m.insert("$convergenceType".into(), Json::String("date".into()));
    m.insert("value".into(), Json::String(format_iso(ms)));
    Json::Object(m)
}

/// A number as JSON: integral values without a fraction, non-finite ones as null.
pub fn number_to_json(n: f64) -> Json {
    if n.is_finite() && n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
        Json::Number(Number::from(n as i64))
    } else {
        Number::from_f64(n).map(Json::Number).unwrap_or(Json::Null)
    }
}

/// Converts a value to plain JSON (ids dropped).
pub fn value_to_json(value: &Value) -> Json {
    match &value.data {
        Data::Null => Json::Null,
        Data::Boolean(b) => Json::Bool(*b),
        Data::Number(n) => number_to_json(*n),
        Data::String(s) => Json::String(s.clone()),
        Data::Date(ms) => date_to_json(*ms),
        Data::Array(items) => Json::Array(items.iter().map(value_to_json).collect()),
        Data::Object(map) => Json::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), value_to_json(v)))
                .collect(),
        ),
    }
}

/// Describes an operation as JSON, in the vocabulary of the transformation vectors:
/// `{"type": "StringSplice", "id": "2:0", "noOp": false, "index": 3, ...}`; a compound
/// operation is `{"type": "Compound", "ops": [...]}`.
pub fn operation_to_json(op: &crate::ot::Operation) -> Json {
    match op {
        crate::ot::Operation::Discrete(d) => discrete_to_json(d),
        crate::ot::Operation::Compound(ops) => {
            let mut m = Map::new();
            m.insert("type".into(), Json::String("Compound".into()));
            m.insert(
                "ops".into(),
                Json::Array(ops.iter().map(discrete_to_json).collect()),
            );
            Json::Object(m)
        }
    }
}

fn discrete_to_json(op: &crate::ot::DiscreteOp) -> Json {
    use crate::ot::OpKind;
    let mut m = Map::new();
    m.insert("type".into(), Json::String(op.kind.op_type().name().into()));
    m.insert("id".into(), Json::String(op.id.to_string()));
    m.insert("noOp".into(), Json::Bool(op.no_op));
    let mut put = |k: &str, v: Json| {
        m.insert(k.into(), v);
    };
    match &op.kind {
        OpKind::StringSplice {
            index,
            delete_count,
            insert,
        } => {
            put("index", Json::from(*index));
            put("deleteCount", Json::from(*delete_count));
            put("insertValue", Json::String(insert.clone()));
        }
        OpKind::StringSet { value } => put("value", Json::String(value.clone())),
        OpKind::ArrayInsert { index, value } | OpKind::ArrayReplace { index, value } => {
            put("index", Json::from(*index));
            put("value", value_to_json(value));
        }
        OpKind::ArrayRemove { index } => put("index", Json::from(*index)),
        OpKind::ArrayMove { from, to } => {
            put("fromIndex", Json::from(*from));
            put("toIndex", Json::from(*to));
        }
        OpKind::ArraySet { values } => put(
            "value",
            Json::Array(values.iter().map(value_to_json).collect()),
        ),
        OpKind::ObjectAddProperty { key, value } | OpKind::ObjectSetProperty { key, value } => {
            put("prop", Json::String(key.clone()));
            put("value", value_to_json(value));
        }
        OpKind::ObjectRemoveProperty { key } => put("prop", Json::String(key.clone())),
        OpKind::ObjectSet { values } => put(
            "value",
            Json::Object(
                values
                    .iter()
                    .map(|(k, v)| (k.clone(), value_to_json(v)))
                    .collect(),
            ),
        ),
        OpKind::NumberAdd { delta } => put("value", number_to_json(*delta)),
        OpKind::NumberSet { value } => put("value", number_to_json(*value)),
        OpKind::BooleanSet { value } => put("value", Json::Bool(*value)),
        OpKind::DateSet { value } => put("value", date_to_json(*value)),
    }
    Json::Object(m)
}
