//! Conversions between wire messages and the engine's types: data values, operations
//! (submitted, broadcast and applied-with-old-values), references, timestamps, users.

use std::collections::BTreeMap;

use prost_types::Timestamp;
use thiserror::Error;

use super::wire::proto::core::{DomainUserData, DomainUserIdData, Int32List, StringList};
use super::wire::proto::model as pm;
use crate::ot::{
    AppliedOp, AppliedOperation, Data, DiscreteOp, JsString, OpKind, Operation, ReferenceValues,
    Undo, Value, ValueId, Wtf8Error,
};

/// A wire message that does not describe a valid engine value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConvertError {
    /// A required field is absent.
    #[error("missing {0}")]
    Missing(&'static str),
    /// Model text that is not WTF-8 (see [`JsString::from_wtf8`]).
    #[error("model text is not valid WTF-8: {0}")]
    InvalidText(#[from] Wtf8Error),
}

type Result<T> = std::result::Result<T, ConvertError>;

/// Epoch milliseconds to a protobuf timestamp (positive nanos, millisecond precision).
pub fn timestamp(ms: i64) -> Timestamp {
    let seconds = ms.div_euclid(1000);
    let nanos = (ms.rem_euclid(1000) * 1_000_000) as i32;
    Timestamp { seconds, nanos }
}

/// A protobuf timestamp to epoch milliseconds.
pub fn millis(t: &Timestamp) -> i64 {
    t.seconds
        .saturating_mul(1000)
        .saturating_add(((t.nanos as f64) / 1e6).round() as i64)
}

/// Model text from the wire (WTF-8 bytes, as protobufjs writes them).
pub fn text(bytes: &[u8]) -> Result<JsString> {
    Ok(JsString::from_wtf8(bytes)?)
}

/// Object properties from their wire entries (a repeated key keeps its last value, as in a
/// protobuf map).
pub fn entries_from_wire(entries: &[pm::DataEntry]) -> Result<BTreeMap<JsString, Value>> {
    let mut map = BTreeMap::new();
    for e in entries {
        let value = e
            .value
            .as_ref()
            .ok_or(ConvertError::Missing("property value"))?;
        map.insert(text(&e.key)?, value_from_wire(value)?);
    }
    Ok(map)
}

/// Object properties as wire entries, in key order.
pub fn entries_to_wire(map: &BTreeMap<JsString, Value>) -> Vec<pm::DataEntry> {
    map.iter()
        .map(|(k, v)| pm::DataEntry {
            key: k.to_wtf8(),
            value: Some(value_to_wire(v)),
        })
        .collect()
}

fn to_i32(v: i64) -> i32 {
    i32::try_from(v).unwrap_or(if v < 0 { i32::MIN } else { i32::MAX })
}

/// A wire data value to an engine value.
pub fn value_from_wire(v: &pm::DataValue) -> Result<Value> {
    use pm::data_value::Value as W;
    let value = v
        .value
        .as_ref()
        .ok_or(ConvertError::Missing("data value"))?;
    Ok(match value {
        W::ObjectValue(o) => object_from_wire(o)?,
        W::ArrayValue(a) => Value::new(
            a.id.as_str(),
            Data::Array(
                a.children
                    .iter()
                    .map(value_from_wire)
                    .collect::<Result<_>>()?,
            ),
        ),
        W::BooleanValue(b) => Value::new(b.id.as_str(), Data::Boolean(b.value)),
        W::DoubleValue(d) => Value::new(d.id.as_str(), Data::Number(d.value)),
        W::NullValue(n) => Value::new(n.id.as_str(), Data::Null),
        W::StringValue(s) => Value::new(s.id.as_str(), Data::String(text(&s.value)?)),
        W::DateValue(d) => Value::new(
            d.id.as_str(),
            Data::Date(millis(
                d.value
                    .as_ref()
                    .ok_or(ConvertError::Missing("date value"))?,
            )),
        ),
    })
}

/// A wire object value to an engine value.
pub fn object_from_wire(o: &pm::ObjectValue) -> Result<Value> {
    Ok(Value::new(
        o.id.as_str(),
        Data::Object(entries_from_wire(&o.children)?),
    ))
}

/// An engine value to a wire data value.
pub fn value_to_wire(v: &Value) -> pm::DataValue {
    use pm::data_value::Value as W;
    let id = v.id.to_string();
    let value = match &v.data {
        Data::Object(_) => W::ObjectValue(object_to_wire(v)),
        Data::Array(items) => W::ArrayValue(pm::ArrayValue {
            id,
            children: items.iter().map(value_to_wire).collect(),
        }),
        Data::Boolean(b) => W::BooleanValue(pm::BooleanValue { id, value: *b }),
        Data::Number(n) => W::DoubleValue(pm::DoubleValue { id, value: *n }),
        Data::Null => W::NullValue(pm::NullValue { id }),
        Data::String(s) => W::StringValue(pm::StringValue {
            id,
            value: s.to_wtf8(),
        }),
        Data::Date(ms) => W::DateValue(pm::DateValue {
            id,
            value: Some(timestamp(*ms)),
        }),
    };
    pm::DataValue { value: Some(value) }
}

/// An engine object value to a wire object value (non-objects give an empty object).
pub fn object_to_wire(v: &Value) -> pm::ObjectValue {
    let children = match &v.data {
        Data::Object(map) => entries_to_wire(map),
        _ => Vec::new(),
    };
    pm::ObjectValue {
        id: v.id.to_string(),
        children,
    }
}

fn opt_value(v: &Option<pm::DataValue>) -> Result<Value> {
    value_from_wire(v.as_ref().ok_or(ConvertError::Missing("operation value"))?)
}

/// A wire discrete operation to an engine operation.
pub fn discrete_from_wire(d: &pm::DiscreteOperationData) -> Result<DiscreteOp> {
    use pm::discrete_operation_data::Operation as W;
    let op = d
        .operation
        .as_ref()
        .ok_or(ConvertError::Missing("operation"))?;
    let (id, no_op, kind) = match op {
        W::StringSpliceOperation(o) => (
            &o.id,
            o.no_op,
            OpKind::StringSplice {
                index: o.index as i64,
                delete_count: o.delete_count as i64,
                insert: text(&o.inserted_value)?,
            },
        ),
        W::StringSetOperation(o) => (
            &o.id,
            o.no_op,
            OpKind::StringSet {
                value: text(&o.value)?,
            },
        ),
        W::ArrayInsertOperation(o) => (
            &o.id,
            o.no_op,
            OpKind::ArrayInsert {
                index: o.index as i64,
                value: opt_value(&o.value)?,
            },
        ),
        W::ArrayRemoveOperation(o) => (
            &o.id,
            o.no_op,
            OpKind::ArrayRemove {
                index: o.index as i64,
            },
        ),
        W::ArrayReplaceOperation(o) => (
            &o.id,
            o.no_op,
            OpKind::ArrayReplace {
                index: o.index as i64,
                value: opt_value(&o.value)?,
            },
        ),
        W::ArrayMoveOperation(o) => (
            &o.id,
            o.no_op,
            OpKind::ArrayMove {
                from: o.from_index as i64,
                to: o.to_index as i64,
            },
        ),
        W::ArraySetOperation(o) => (
            &o.id,
            o.no_op,
            OpKind::ArraySet {
                values: o
                    .values
                    .iter()
                    .map(value_from_wire)
                    .collect::<Result<_>>()?,
            },
        ),
        W::ObjectAddPropertyOperation(o) => (
            &o.id,
            o.no_op,
            OpKind::ObjectAddProperty {
                key: text(&o.key)?,
                value: opt_value(&o.value)?,
            },
        ),
        W::ObjectSetPropertyOperation(o) => (
            &o.id,
            o.no_op,
            OpKind::ObjectSetProperty {
                key: text(&o.key)?,
                value: opt_value(&o.value)?,
            },
        ),
        W::ObjectRemovePropertyOperation(o) => (
            &o.id,
            o.no_op,
            OpKind::ObjectRemoveProperty { key: text(&o.key)? },
        ),
        W::ObjectSetOperation(o) => {
            let values = entries_from_wire(&o.values)?;
            (&o.id, o.no_op, OpKind::ObjectSet { values })
        }
        W::NumberDeltaOperation(o) => (&o.id, o.no_op, OpKind::NumberAdd { delta: o.delta }),
        W::NumberSetOperation(o) => (&o.id, o.no_op, OpKind::NumberSet { value: o.value }),
        W::BooleanSetOperation(o) => (&o.id, o.no_op, OpKind::BooleanSet { value: o.value }),
        W::DateSetOperation(o) => (
            &o.id,
            o.no_op,
            OpKind::DateSet {
                value: millis(
                    o.value
                        .as_ref()
                        .ok_or(ConvertError::Missing("date value"))?,
                ),
            },
        ),
    };
    Ok(DiscreteOp {
        id: ValueId::new(id),
        no_op,
        kind,
    })
}

/// A wire operation (discrete or compound) to an engine operation.
pub fn operation_from_wire(op: &pm::OperationData) -> Result<Operation> {
    use pm::operation_data::Operation as W;
    match op
        .operation
        .as_ref()
        .ok_or(ConvertError::Missing("operation"))?
    {
        W::DiscreteOperation(d) => Ok(Operation::Discrete(discrete_from_wire(d)?)),
        W::CompoundOperation(c) => {
            if c.operations.is_empty() {
                return Err(ConvertError::Missing("compound operation parts"));
            }
            Ok(Operation::Compound(
                c.operations
                    .iter()
                    .map(discrete_from_wire)
                    .collect::<Result<_>>()?,
            ))
        }
    }
}

/// An engine discrete operation to the wire.
pub fn discrete_to_wire(op: &DiscreteOp) -> pm::DiscreteOperationData {
    use pm::discrete_operation_data::Operation as W;
    let id = op.id.to_string();
    let no_op = op.no_op;
    let w = match &op.kind {
        OpKind::StringSplice {
            index,
            delete_count,
            insert,
        } => W::StringSpliceOperation(pm::StringSpliceOperationData {
            id,
            no_op,
            index: to_i32(*index),
            delete_count: to_i32(*delete_count),
            inserted_value: insert.to_wtf8(),
        }),
        OpKind::StringSet { value } => W::StringSetOperation(pm::StringSetOperationData {
            id,
            no_op,
            value: value.to_wtf8(),
        }),
        OpKind::ArrayInsert { index, value } => {
            W::ArrayInsertOperation(pm::ArrayInsertOperationData {
                id,
                no_op,
                index: to_i32(*index),
                value: Some(value_to_wire(value)),
            })
        }
        OpKind::ArrayRemove { index } => W::ArrayRemoveOperation(pm::ArrayRemoveOperationData {
            id,
            no_op,
            index: to_i32(*index),
        }),
        OpKind::ArrayReplace { index, value } => {
            W::ArrayReplaceOperation(pm::ArrayReplaceOperationData {
                id,
                no_op,
                index: to_i32(*index),
                value: Some(value_to_wire(value)),
            })
        }
        OpKind::ArrayMove { from, to } => W::ArrayMoveOperation(pm::ArrayMoveOperationData {
            id,
            no_op,
            from_index: to_i32(*from),
            to_index: to_i32(*to),
        }),
        OpKind::ArraySet { values } => W::ArraySetOperation(pm::ArraySetOperationData {
            id,
            no_op,
            values: values.iter().map(value_to_wire).collect(),
        }),
        OpKind::ObjectAddProperty { key, value } => {
            W::ObjectAddPropertyOperation(pm::ObjectAddPropertyOperationData {
                id,
                no_op,
                key: key.to_wtf8(),
                value: Some(value_to_wire(value)),
            })
        }
        OpKind::ObjectSetProperty { key, value } => {
            W::ObjectSetPropertyOperation(pm::ObjectSetPropertyOperationData {
                id,
                no_op,
                key: key.to_wtf8(),
                value: Some(value_to_wire(value)),
            })
        }
        OpKind::ObjectRemoveProperty { key } => {
            W::ObjectRemovePropertyOperation(pm::ObjectRemovePropertyOperationData {
                id,
                no_op,
                key: key.to_wtf8(),
            })
        }
        OpKind::ObjectSet { values } => W::ObjectSetOperation(pm::ObjectSetOperationData {
            id,
            no_op,
            values: entries_to_wire(values),
        }),
        OpKind::NumberAdd { delta } => W::NumberDeltaOperation(pm::NumberDeltaOperationData {
            id,
            no_op,
            delta: *delta,
        }),
        OpKind::NumberSet { value } => W::NumberSetOperation(pm::NumberSetOperationData {
            id,
            no_op,
            value: *value,
        }),
        OpKind::BooleanSet { value } => W::BooleanSetOperation(pm::BooleanSetOperationData {
            id,
            no_op,
            value: *value,
        }),
        OpKind::DateSet { value } => W::DateSetOperation(pm::DateSetOperationData {
            id,
            no_op,
            value: Some(timestamp(*value)),
        }),
    };
    pm::DiscreteOperationData { operation: Some(w) }
}

/// An engine operation to the wire.
pub fn operation_to_wire(op: &Operation) -> pm::OperationData {
    use pm::operation_data::Operation as W;
    pm::OperationData {
        operation: Some(match op {
            Operation::Discrete(d) => W::DiscreteOperation(discrete_to_wire(d)),
            Operation::Compound(ops) => W::CompoundOperation(pm::CompoundOperationData {
                operations: ops.iter().map(discrete_to_wire).collect(),
            }),
        }),
    }
}

fn undo_value(u: &Undo) -> Option<pm::DataValue> {
    match u {
        Undo::Value(v) => Some(value_to_wire(v)),
        _ => None,
    }
}

/// An applied operation (with what it replaced) to the wire form used by history.
pub fn applied_to_wire(op: &AppliedOperation) -> pm::AppliedOperationData {
    use pm::applied_operation_data::Operation as W;
    pm::AppliedOperationData {
        operation: Some(match op {
            AppliedOperation::Discrete(a) => W::DiscreteOperation(applied_discrete_to_wire(a)),
            AppliedOperation::Compound(ops) => {
                W::CompoundOperation(pm::AppliedCompoundOperationData {
                    operations: ops.iter().map(applied_discrete_to_wire).collect(),
                })
            }
        }),
    }
}

fn applied_discrete_to_wire(a: &AppliedOp) -> pm::AppliedDiscreteOperationData {
    use pm::applied_discrete_operation_data::Operation as W;
    let op = &a.op;
    let id = op.id.to_string();
    let no_op = op.no_op;
    let text = |u: &Undo| match u {
        Undo::Text(t) => t.to_wtf8(),
        _ => Vec::new(),
    };
    let w = match &op.kind {
        OpKind::StringSplice { index, insert, .. } => {
            W::StringSpliceOperation(pm::AppliedStringSpliceOperationData {
                id,
                no_op,
                index: to_i32(*index),
                deleted_value: text(&a.undo),
                inserted_value: insert.to_wtf8(),
            })
        }
        OpKind::StringSet { value } => W::StringSetOperation(pm::AppliedStringSetOperationData {
            id,
            no_op,
            value: value.to_wtf8(),
            old_value: text(&a.undo),
        }),
        OpKind::ArrayInsert { index, value } => {
            W::ArrayInsertOperation(pm::AppliedArrayInsertOperationData {
                id,
                no_op,
                index: to_i32(*index),
                value: Some(value_to_wire(value)),
            })
        }
        OpKind::ArrayRemove { index } => {
            W::ArrayRemoveOperation(pm::AppliedArrayRemoveOperationData {
                id,
                no_op,
                index: to_i32(*index),
                old_value: undo_value(&a.undo),
            })
        }
        OpKind::ArrayReplace { index, value } => {
            W::ArrayReplaceOperation(pm::AppliedArrayReplaceOperationData {
                id,
                no_op,
                index: to_i32(*index),
                value: Some(value_to_wire(value)),
                old_value: undo_value(&a.undo),
            })
        }
        OpKind::ArrayMove { from, to } => {
            W::ArrayMoveOperation(pm::AppliedArrayMoveOperationData {
                id,
                no_op,
                from_index: to_i32(*from),
                to_index: to_i32(*to),
            })
        }
        OpKind::ArraySet { values } => W::ArraySetOperation(pm::AppliedArraySetOperationData {
            id,
            no_op,
            values: values.iter().map(value_to_wire).collect(),
            old_values: match &a.undo {
                Undo::Values(vs) => vs.iter().map(value_to_wire).collect(),
                _ => Vec::new(),
            },
        }),
        OpKind::ObjectAddProperty { key, value } => {
            W::ObjectAddPropertyOperation(pm::AppliedObjectAddPropertyOperationData {
                id,
                no_op,
                key: key.to_wtf8(),
                value: Some(value_to_wire(value)),
            })
        }
        OpKind::ObjectSetProperty { key, value } => {
            W::ObjectSetPropertyOperation(pm::AppliedObjectSetPropertyOperationData {
                id,
                no_op,
                key: key.to_wtf8(),
                value: Some(value_to_wire(value)),
                old_value: undo_value(&a.undo),
            })
        }
        OpKind::ObjectRemoveProperty { key } => {
            W::ObjectRemovePropertyOperation(pm::AppliedObjectRemovePropertyOperationData {
                id,
                no_op,
                key: key.to_wtf8(),
                old_value: undo_value(&a.undo),
            })
        }
        OpKind::ObjectSet { values } => W::ObjectSetOperation(pm::AppliedObjectSetOperationData {
            id,
            no_op,
            values: entries_to_wire(values),
            old_values: match &a.undo {
                Undo::Map(m) => entries_to_wire(m),
                _ => Vec::new(),
            },
        }),
        OpKind::NumberAdd { delta } => {
            W::NumberDeltaOperation(pm::AppliedNumberDeltaOperationData {
                id,
                no_op,
                delta: *delta,
            })
        }
        OpKind::NumberSet { value } => W::NumberSetOperation(pm::AppliedNumberSetOperationData {
            id,
            no_op,
            value: *value,
            old_value: match a.undo {
                Undo::Number(n) => n,
                _ => 0.0,
            },
        }),
        OpKind::BooleanSet { value } => {
            W::BooleanSetOperation(pm::AppliedBooleanSetOperationData {
                id,
                no_op,
                value: *value,
                old_value: matches!(a.undo, Undo::Boolean(true)),
            })
        }
        OpKind::DateSet { value } => W::DateSetOperation(pm::AppliedDateSetOperationData {
            id,
            no_op,
            value: Some(timestamp(*value)),
            old_value: Some(timestamp(match a.undo {
                Undo::Date(d) => d,
                _ => 0,
            })),
        }),
    };
    pm::AppliedDiscreteOperationData { operation: Some(w) }
}

/// Wire reference values to the engine's.
pub fn references_from_wire(r: &pm::ReferenceValues) -> Result<ReferenceValues> {
    use pm::reference_values::Values as W;
    Ok(
        match r
            .values
            .as_ref()
            .ok_or(ConvertError::Missing("reference values"))?
        {
            W::Indices(l) => ReferenceValues::Index(l.values.iter().map(|v| *v as i64).collect()),
            W::Ranges(l) => ReferenceValues::Range(
                l.values
                    .iter()
                    .map(|r| (r.start_index as i64, r.end_index as i64))
                    .collect(),
            ),
            W::Properties(l) => {
                ReferenceValues::Property(l.values.iter().map(|k| text(k)).collect::<Result<_>>()?)
            }
            W::Elements(l) => ReferenceValues::Element(l.values.iter().map(ValueId::new).collect()),
        },
    )
}

/// Engine reference values to the wire.
pub fn references_to_wire(r: &ReferenceValues) -> pm::ReferenceValues {
    use pm::reference_values::Values as W;
    pm::ReferenceValues {
        values: Some(match r {
            ReferenceValues::Index(v) => W::Indices(Int32List {
                values: v.iter().map(|i| to_i32(*i)).collect(),
            }),
            ReferenceValues::Range(v) => W::Ranges(pm::IndexRangeList {
                values: v
                    .iter()
                    .map(|(a, b)| pm::IndexRange {
                        start_index: to_i32(*a),
                        end_index: to_i32(*b),
                    })
                    .collect(),
            }),
            ReferenceValues::Property(v) => W::Properties(pm::KeyList {
                values: v.iter().map(JsString::to_wtf8).collect(),
            }),
            ReferenceValues::Element(v) => W::Elements(StringList {
                values: v.iter().map(|id| id.to_string()).collect(),
            }),
        }),
    }
}

/// A user's wire id.
pub fn user_id(user_type: i32, username: &str) -> DomainUserIdData {
    DomainUserIdData {
        user_type,
        username: username.to_string(),
    }
}

/// A user's wire profile.
pub fn user_data(
    user_type: i32,
    username: &str,
    display_name: &str,
    first_name: &str,
    last_name: &str,
    email: &str,
) -> DomainUserData {
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
    DomainUserData {
        user_id: Some(user_id(user_type, username)),
        first_name: opt(first_name),
        last_name: opt(last_name),
        display_name: opt(display_name),
        email: opt(email),
        disabled: false,
        deleted: false,
        deleted_username: None,
    }
}

/// A `google.protobuf.Value` (presence and activity state) as JSON. NaN and infinities, which
/// JSON cannot hold, become null, as the client's own conversion makes them.
pub fn json_from_proto(v: &prost_types::Value) -> serde_json::Value {
    use prost_types::value::Kind;
    use serde_json::Value as Json;
    match &v.kind {
        None | Some(Kind::NullValue(_)) => Json::Null,
        Some(Kind::NumberValue(n)) => {
            serde_json::Number::from_f64(*n).map_or(Json::Null, Json::Number)
        }
        Some(Kind::StringValue(s)) => Json::String(s.clone()),
        Some(Kind::BoolValue(b)) => Json::Bool(*b),
        Some(Kind::StructValue(s)) => Json::Object(
            s.fields
                .iter()
                .map(|(k, v)| (k.clone(), json_from_proto(v)))
                .collect(),
        ),
        Some(Kind::ListValue(l)) => Json::Array(l.values.iter().map(json_from_proto).collect()),
    }
}

/// JSON as a `google.protobuf.Value`.
pub fn json_to_proto(v: &serde_json::Value) -> prost_types::Value {
    use prost_types::value::Kind;
    use serde_json::Value as Json;
    let kind = match v {
        Json::Null => Kind::NullValue(0),
        Json::Bool(b) => Kind::BoolValue(*b),
        Json::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or(0.0)),
        Json::String(s) => Kind::StringValue(s.clone()),
        Json::Array(items) => Kind::ListValue(prost_types::ListValue {
            values: items.iter().map(json_to_proto).collect(),
        }),
        Json::Object(map) => Kind::StructValue(prost_types::Struct {
            fields: map
                .iter()
                .map(|(k, v)| (k.clone(), json_to_proto(v)))
                .collect(),
        }),
    };
    prost_types::Value { kind: Some(kind) }
}

/// Model data as a `google.protobuf.Value` (query results): dates as the original server
/// wrote them, `{"$$convergence_type": "date", "date": <epoch ms>}`; an unpaired surrogate,
/// which a protobuf string cannot hold, as U+FFFD.
pub fn value_to_proto(v: &Value) -> prost_types::Value {
    use prost_types::value::Kind;
    let kind = match &v.data {
        Data::Null => Kind::NullValue(0),
        Data::Boolean(b) => Kind::BoolValue(*b),
        Data::Number(n) => Kind::NumberValue(*n),
        Data::String(s) => Kind::StringValue(s.to_string_lossy()),
        Data::Date(ms) => Kind::StructValue(prost_types::Struct {
            fields: [
                (
                    "$$convergence_type".to_string(),
                    prost_types::Value {
                        kind: Some(Kind::StringValue("date".into())),
                    },
                ),
                (
                    "date".to_string(),
                    prost_types::Value {
                        kind: Some(Kind::NumberValue(*ms as f64)),
                    },
                ),
            ]
            .into_iter()
            .collect(),
        }),
        Data::Array(items) => Kind::ListValue(prost_types::ListValue {
            values: items.iter().map(value_to_proto).collect(),
        }),
        Data::Object(_) => Kind::StructValue(object_to_struct(v)),
    };
    prost_types::Value { kind: Some(kind) }
}

/// An object value's properties as a `google.protobuf.Struct` (empty for anything else).
pub fn object_to_struct(v: &Value) -> prost_types::Struct {
    let fields = match &v.data {
        Data::Object(map) => map
            .iter()
            .map(|(k, v)| (k.to_string_lossy(), value_to_proto(v)))
            .collect(),
        _ => Default::default(),
    };
    prost_types::Struct { fields }
}
