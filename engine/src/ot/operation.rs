//! Operations of the protocol: the 15 discrete kinds and compound (batch) operations,
//! plus their applied form that also carries what they replaced (for history playback).

use std::collections::BTreeMap;

use super::jsstring::JsString;
use super::value::{Value, ValueId, ValueKind};

/// An operation on a model: one discrete change or an ordered batch applied as one version.
#[derive(Clone, Debug, PartialEq)]
pub enum Operation {
    /// A single change to one value.
    Discrete(DiscreteOp),
    /// Several changes applied in order, all or nothing, as one version.
    Compound(Vec<DiscreteOp>),
}

/// A change to the value named by `id`.
#[derive(Clone, Debug, PartialEq)]
pub struct DiscreteOp {
    /// The target value's id.
    pub id: ValueId,
    /// A no-op keeps its fields and takes a version but changes nothing.
    pub no_op: bool,
    /// What the change does.
    pub kind: OpKind,
}

/// The 15 discrete operation kinds. String indices count UTF-16 code units.
#[derive(Clone, Debug, PartialEq)]
pub enum OpKind {
    /// Delete `delete_count` units at `index`, then insert `insert` there.
    StringSplice {
        /// Start position.
        index: i64,
        /// Units removed.
        delete_count: i64,
        /// Text inserted.
        insert: JsString,
    },
    /// Replace the whole string.
    StringSet {
        /// New text.
        value: JsString,
    },
    /// Insert `value` before position `index`.
    ArrayInsert {
        /// Position.
        index: i64,
        /// Inserted value.
        value: Value,
    },
    /// Remove the element at `index`.
    ArrayRemove {
        /// Position.
        index: i64,
    },
    /// Replace the element at `index`.
    ArrayReplace {
        /// Position.
        index: i64,
        /// New element.
        value: Value,
    },
    /// Remove the element at `from` and insert it at `to`.
    ArrayMove {
        /// Source position.
        from: i64,
        /// Destination position.
        to: i64,
    },
    /// Replace every element.
    ArraySet {
        /// New elements.
        values: Vec<Value>,
    },
    /// Add a property that does not exist yet.
    ObjectAddProperty {
        /// Property name.
        key: JsString,
        /// Its value.
        value: Value,
    },
    /// Replace the value of an existing property.
    ObjectSetProperty {
        /// Property name.
        key: JsString,
        /// Its new value.
        value: Value,
    },
    /// Remove an existing property.
    ObjectRemoveProperty {
        /// Property name.
        key: JsString,
    },
    /// Replace every property.
    ObjectSet {
        /// New properties.
        values: BTreeMap<JsString, Value>,
    },
    /// Add `delta` to a number.
    NumberAdd {
        /// Amount added.
        delta: f64,
    },
    /// Set a number.
    NumberSet {
        /// New value.
        value: f64,
    },
    /// Set a boolean.
    BooleanSet {
        /// New value.
        value: bool,
    },
    /// Set a date (milliseconds since the Unix epoch).
    DateSet {
        /// New value.
        value: i64,
    },
}

/// The type of a discrete operation, without its fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpType {
    /// [`OpKind::StringSplice`]
    StringSplice,
    /// [`OpKind::StringSet`]
    StringSet,
    /// [`OpKind::ArrayInsert`]
    ArrayInsert,
    /// [`OpKind::ArrayRemove`]
    ArrayRemove,
    /// [`OpKind::ArrayReplace`]
    ArrayReplace,
    /// [`OpKind::ArrayMove`]
    ArrayMove,
    /// [`OpKind::ArraySet`]
    ArraySet,
    /// [`OpKind::ObjectAddProperty`]
    ObjectAddProperty,
    /// [`OpKind::ObjectSetProperty`]
    ObjectSetProperty,
    /// [`OpKind::ObjectRemoveProperty`]
    ObjectRemoveProperty,
    /// [`OpKind::ObjectSet`]
    ObjectSet,
    /// [`OpKind::NumberAdd`]
    NumberAdd,
    /// [`OpKind::NumberSet`]
    NumberSet,
    /// [`OpKind::BooleanSet`]
    BooleanSet,
    /// [`OpKind::DateSet`]
    DateSet,
}

impl OpType {
    /// The kind of value this operation type applies to.
    pub fn target_kind(self) -> ValueKind {
        match self {
            OpType::StringSplice | OpType::StringSet => ValueKind::String,
            OpType::ArrayInsert
            | OpType::ArrayRemove
            | OpType::ArrayReplace
            | OpType::ArrayMove
            | OpType::ArraySet => ValueKind::Array,
            OpType::ObjectAddProperty
            | OpType::ObjectSetProperty
            | OpType::ObjectRemoveProperty
            | OpType::ObjectSet => ValueKind::Object,
            OpType::NumberAdd | OpType::NumberSet => ValueKind::Number,
            OpType::BooleanSet => ValueKind::Boolean,
            OpType::DateSet => ValueKind::Date,
        }
    }

    /// The name used by the transformation vectors (server vocabulary).
    pub fn name(self) -> &'static str {
        match self {
            OpType::StringSplice => "StringSplice",
            OpType::StringSet => "StringSet",
            OpType::ArrayInsert => "ArrayInsert",
            OpType::ArrayRemove => "ArrayRemove",
            OpType::ArrayReplace => "ArrayReplace",
            OpType::ArrayMove => "ArrayMove",
            OpType::ArraySet => "ArraySet",
            OpType::ObjectAddProperty => "ObjectAddProperty",
            OpType::ObjectSetProperty => "ObjectSetProperty",
            OpType::ObjectRemoveProperty => "ObjectRemoveProperty",
            OpType::ObjectSet => "ObjectSet",
            OpType::NumberAdd => "NumberAdd",
            OpType::NumberSet => "NumberSet",
            OpType::BooleanSet => "BooleanSet",
            OpType::DateSet => "DateSet",
        }
    }
}

impl OpKind {
    /// The operation's type.
    pub fn op_type(&self) -> OpType {
        match self {
            OpKind::StringSplice { .. } => OpType::StringSplice,
            OpKind::StringSet { .. } => OpType::StringSet,
            OpKind::ArrayInsert { .. } => OpType::ArrayInsert,
            OpKind::ArrayRemove { .. } => OpType::ArrayRemove,
            OpKind::ArrayReplace { .. } => OpType::ArrayReplace,
            OpKind::ArrayMove { .. } => OpType::ArrayMove,
            OpKind::ArraySet { .. } => OpType::ArraySet,
            OpKind::ObjectAddProperty { .. } => OpType::ObjectAddProperty,
            OpKind::ObjectSetProperty { .. } => OpType::ObjectSetProperty,
            OpKind::ObjectRemoveProperty { .. } => OpType::ObjectRemoveProperty,
            OpKind::ObjectSet { .. } => OpType::ObjectSet,
            OpKind::NumberAdd { .. } => OpType::NumberAdd,
            OpKind::NumberSet { .. } => OpType::NumberSet,
            OpKind::BooleanSet { .. } => OpType::BooleanSet,
            OpKind::DateSet { .. } => OpType::DateSet,
        }
    }

    /// Values this operation brings into the model (inserted or set), if any.
    pub fn new_values(&self) -> Vec<&Value> {
        match self {
            OpKind::ArrayInsert { value, .. }
            | OpKind::ArrayReplace { value, .. }
            | OpKind::ObjectAddProperty { value, .. }
            | OpKind::ObjectSetProperty { value, .. } => vec![value],
            OpKind::ArraySet { values } => values.iter().collect(),
            OpKind::ObjectSet { values } => values.values().collect(),
            _ => Vec::new(),
        }
    }
}

impl DiscreteOp {
    /// A live (not no-op) operation on `id`.
    pub fn new(id: impl Into<ValueId>, kind: OpKind) -> Self {
        DiscreteOp {
            id: id.into(),
            no_op: false,
            kind,
        }
    }

    /// A copy marked as no-op.
    pub fn noop(&self) -> Self {
        DiscreteOp {
            no_op: true,
            ..self.clone()
        }
    }

    /// True when this is a string splice that both deletes and inserts text.
    pub fn is_true_splice(&self) -> bool {
        matches!(&self.kind, OpKind::StringSplice { delete_count, insert, .. }
            if *delete_count > 0 && !insert.is_empty())
    }
}

impl Operation {
    /// The discrete operations in order (one for a discrete operation).
    pub fn ops(&self) -> &[DiscreteOp] {
        match self {
            Operation::Discrete(op) => std::slice::from_ref(op),
            Operation::Compound(ops) => ops,
        }
    }

    /// Mutable access to the discrete operations in order.
    pub fn ops_mut(&mut self) -> &mut [DiscreteOp] {
        match self {
            Operation::Discrete(op) => std::slice::from_mut(op),
            Operation::Compound(ops) => ops,
        }
    }

    /// True when every discrete part is a no-op.
    pub fn is_noop(&self) -> bool {
        self.ops().iter().all(|op| op.no_op)
    }

    /// Rewrites every string splice that both deletes and inserts into a removal followed by an
    /// insertion, as one compound operation.
    ///
    /// The result has the same effect. The engine records and broadcasts only this form, so an
    /// operation in the server position of a transformation is never a true splice — the only
    /// position where the published client's splice rules fail to converge
    /// (see `docs/compatibility.md`).
    pub fn without_true_splices(self) -> Operation {
        if !self.ops().iter().any(|op| !op.no_op && op.is_true_splice()) {
            return self;
        }
        let mut out = Vec::with_capacity(self.ops().len() + 1);
        let ops = match self {
            Operation::Discrete(op) => vec![op],
            Operation::Compound(ops) => ops,
        };
        for op in ops {
            if op.no_op || !op.is_true_splice() {
                out.push(op);
                continue;
            }
            if let OpKind::StringSplice {
                index,
                delete_count,
                insert,
            } = op.kind
            {
                out.push(DiscreteOp::new(
                    op.id.clone(),
                    OpKind::StringSplice {
                        index,
                        delete_count,
                        insert: JsString::new(),
                    },
                ));
                out.push(DiscreteOp::new(
                    op.id,
                    OpKind::StringSplice {
                        index,
                        delete_count: 0,
                        insert,
                    },
                ));
            }
        }
        Operation::Compound(out)
    }
}

/// What an applied discrete operation replaced, so that history can be played backwards.
#[derive(Clone, Debug, PartialEq)]
pub enum Undo {
    /// Nothing was replaced (insertions, moves, deltas, no-ops).
    None,
    /// The text removed by a splice, or the previous value of a string set.
    Text(JsString),
    /// A removed or replaced element or property value.
    Value(Value),
    /// The previous elements of an array set.
    Values(Vec<Value>),
    /// The previous properties of an object set.
    Map(BTreeMap<JsString, Value>),
    /// The previous value of a number set.
    Number(f64),
    /// The previous value of a boolean set.
    Boolean(bool),
    /// The previous value of a date set.
    Date(i64),
}

/// A discrete operation as it was applied, with what it replaced.
#[derive(Clone, Debug, PartialEq)]
pub struct AppliedOp {
    /// The operation as applied (no-op when its target was gone).
    pub op: DiscreteOp,
    /// What it replaced.
    pub undo: Undo,
}

/// An operation as it was applied: what the log records for every version.
#[derive(Clone, Debug, PartialEq)]
pub enum AppliedOperation {
    /// A discrete operation.
    Discrete(AppliedOp),
    /// A compound operation.
    Compound(Vec<AppliedOp>),
}

impl AppliedOperation {
    /// The applied discrete operations in order.
    pub fn ops(&self) -> &[AppliedOp] {
        match self {
            AppliedOperation::Discrete(op) => std::slice::from_ref(op),
            AppliedOperation::Compound(ops) => ops,
        }
    }

    /// The forward operation (without undo information).
    pub fn operation(&self) -> Operation {
        match self {
            AppliedOperation::Discrete(a) => Operation::Discrete(a.op.clone()),
            AppliedOperation::Compound(ops) => {
                Operation::Compound(ops.iter().map(|a| a.op.clone()).collect())
            }
        }
    }

    /// The forward operation, consuming the undo information.
    pub fn into_operation(self) -> Operation {
        match self {
            AppliedOperation::Discrete(a) => Operation::Discrete(a.op),
            AppliedOperation::Compound(ops) => {
                Operation::Compound(ops.into_iter().map(|a| a.op).collect())
            }
        }
    }

    /// Ids of every value this operation detached from the model.
    pub fn detached_ids(&self) -> Vec<ValueId> {
        let mut out = Vec::new();
        for a in self.ops() {
            if a.op.no_op {
                continue;
            }
            match &a.undo {
                Undo::Value(v) => out.extend(v.ids()),
                Undo::Values(vs) => vs.iter().for_each(|v| out.extend(v.ids())),
                Undo::Map(m) => m.values().for_each(|v| out.extend(v.ids())),
                _ => {}
            }
        }
        out
    }
}

/// Length of a splice's inserted text in UTF-16 units.
pub(crate) fn insert_len(insert: &JsString) -> i64 {
    insert.len_i64()
}
