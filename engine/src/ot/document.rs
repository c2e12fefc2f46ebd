//! The live state of a model: a value tree indexed by id, and validated application of
//! operations to it.

use std::collections::{BTreeMap, HashMap};

use foldhash::fast::RandomState;

use super::error::ApplyError;
use super::jsstring::JsString;
use super::limits::{height, own_weight, DocLimits};
use super::operation::{AppliedOp, AppliedOperation, DiscreteOp, OpKind, Operation, Undo};
use super::text::Text;
use super::value::{Data, Value, ValueId, ValueKind};

/// One element of a path from the root to a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathSegment {
    /// An object property.
    Key(JsString),
    /// An array position.
    Index(usize),
}

#[derive(Clone, Debug)]
enum Node {
    Object(BTreeMap<JsString, ValueId>),
    Array(Vec<ValueId>),
    String(Text),
    Number(f64),
    Boolean(bool),
    Date(i64),
    Null,
}

impl Node {
    fn kind(&self) -> ValueKind {
        match self {
            Node::Object(_) => ValueKind::Object,
            Node::Array(_) => ValueKind::Array,
            Node::String(_) => ValueKind::String,
            Node::Number(_) => ValueKind::Number,
            Node::Boolean(_) => ValueKind::Boolean,
            Node::Date(_) => ValueKind::Date,
            Node::Null => ValueKind::Null,
        }
    }
}

/// A model's data: the root object and every value below it, addressable by id.
#[derive(Clone, Debug)]
pub struct Document {
    nodes: HashMap<ValueId, Node, RandomState>,
    root: ValueId,
    /// The document's weight (see [`DocLimits`]).
    bytes: u64,
    /// The depth of every container; the root is at depth 1.
    depths: HashMap<ValueId, u32, RandomState>,
    limits: DocLimits,
}

impl PartialEq for Document {
    fn eq(&self, other: &Self) -> bool {
        self.to_value() == other.to_value()
    }
}

impl Document {
    /// Builds a document from a root value, which must be an object with unique ids throughout.
    pub fn new(root: Value) -> Result<Self, ApplyError> {
        if !matches!(root.data, Data::Object(_)) {
            return Err(ApplyError::RootNotObject);
        }
        let mut doc = Document {
            nodes: HashMap::default(),
            root: root.id.clone(),
            bytes: 0,
            depths: HashMap::default(),
            limits: DocLimits::default(),
        };
        doc.check_new_ids(&root)?;
        doc.insert_tree(root, 1);
        Ok(doc)
    }

    /// Sets the limits every later operation is checked against (a document loaded from the
    /// store is never refused for exceeding them: it can only stop growing).
    pub fn set_limits(&mut self, limits: DocLimits) {
        self.limits = limits;
    }

    /// The document's weight in bytes (see [`DocLimits`]).
    pub fn weight(&self) -> u64 {
        self.bytes
    }

    /// The root object's id.
    pub fn root_id(&self) -> &ValueId {
        &self.root
    }

    /// True when a value with this id is part of the model.
    pub fn contains(&self, id: &ValueId) -> bool {
        self.nodes.contains_key(id)
    }

    /// Ids of every value in the model (in no particular order).
    pub fn value_ids(&self) -> Vec<ValueId> {
        self.nodes.keys().cloned().collect()
    }

    /// The kind of the value with this id, if present.
    pub fn kind_of(&self, id: &ValueId) -> Option<ValueKind> {
        self.nodes.get(id).map(Node::kind)
    }

    /// Number of values in the model.
    pub fn value_count(&self) -> usize {
        self.nodes.len()
    }

    /// The subtree rooted at `id` as an owned value.
    pub fn value(&self, id: &ValueId) -> Option<Value> {
        let node = self.nodes.get(id)?;
        let data = match node {
            Node::Object(map) => Data::Object(
                map.iter()
                    .filter_map(|(k, child)| Some((k.clone(), self.value(child)?)))
                    .collect(),
            ),
            Node::Array(items) => Data::Array(items.iter().filter_map(|c| self.value(c)).collect()),
            Node::String(text) => Data::String(text.to_js_string()),
            Node::Number(n) => Data::Number(*n),
            Node::Boolean(b) => Data::Boolean(*b),
            Node::Date(d) => Data::Date(*d),
            Node::Null => Data::Null,
        };
        Some(Value {
            id: id.clone(),
            data,
        })
    }

    /// The whole tree as an owned value.
    pub fn to_value(&self) -> Value {
        self.value(&self.root).unwrap_or_else(|| Value {
            id: self.root.clone(),
            data: Data::Object(BTreeMap::new()),
        })
    }

    /// The text of a string value, if `id` names one.
    pub fn string(&self, id: &ValueId) -> Option<JsString> {
        match self.nodes.get(id)? {
            Node::String(text) => Some(text.to_js_string()),
            _ => None,
        }
    }

    /// Length in UTF-16 units of a string value, or element count of an array.
    pub fn len_of(&self, id: &ValueId) -> Option<i64> {
        match self.nodes.get(id)? {
            Node::String(text) => Some(text.len() as i64),
            Node::Array(items) => Some(items.len() as i64),
            Node::Object(map) => Some(map.len() as i64),
            _ => None,
        }
    }

    /// The keys of an object value.
    pub fn keys_of(&self, id: &ValueId) -> Option<Vec<JsString>> {
        match self.nodes.get(id)? {
            Node::Object(map) => Some(map.keys().cloned().collect()),
            _ => None,
        }
    }

    /// The id of the child at `segment` of the container `id`.
    pub fn child(&self, id: &ValueId, segment: &PathSegment) -> Option<&ValueId> {
        match (self.nodes.get(id)?, segment) {
            (Node::Object(map), PathSegment::Key(k)) => map.get(k),
            (Node::Array(items), PathSegment::Index(i)) => items.get(*i),
            _ => None,
        }
    }

    /// The id of the value at `path` from the root.
    pub fn resolve(&self, path: &[PathSegment]) -> Option<ValueId> {
        let mut id = &self.root;
        for seg in path {
            id = self.child(id, seg)?;
        }
        Some(id.clone())
    }

    /// Marks as no-op every discrete part whose target is not in the model (it was removed or
    /// replaced by an earlier operation).
    ///
    /// Values created by earlier parts of the same compound operation count as present.
    pub fn noop_missing_targets(&self, op: &mut Operation) {
        let mut created: Vec<ValueId> = Vec::new();
        for d in op.ops_mut() {
            if !d.no_op && !self.nodes.contains_key(&d.id) && !created.contains(&d.id) {
                d.no_op = true;
            }
            if !d.no_op {
                for v in d.kind.new_values() {
                    created.extend(v.ids());
                }
            }
        }
    }

    /// Applies an operation. A part whose target is gone by its turn becomes a no-op.
    /// An invalid part is an error and leaves the document exactly as it was (compound
    /// operations apply all or nothing).
    pub fn apply(&mut self, op: Operation) -> Result<AppliedOperation, ApplyError> {
        match op {
            Operation::Discrete(d) => Ok(AppliedOperation::Discrete(self.apply_discrete(d)?)),
            Operation::Compound(ops) => {
                let mut applied: Vec<AppliedOp> = Vec::with_capacity(ops.len());
                for d in ops {
                    match self.apply_discrete(d) {
                        Ok(a) => applied.push(a),
                        Err(e) => {
                            for a in applied.into_iter().rev() {
                                self.revert(a);
                            }
                            return Err(e);
                        }
                    }
                }
                Ok(AppliedOperation::Compound(applied))
            }
        }
    }

    /// Undoes an applied operation (the inverse of [`Document::apply`]).
    pub fn unapply(&mut self, applied: AppliedOperation) {
        match applied {
            AppliedOperation::Discrete(a) => self.revert(a),
            AppliedOperation::Compound(ops) => ops.into_iter().rev().for_each(|a| self.revert(a)),
        }
    }

    fn apply_discrete(&mut self, mut op: DiscreteOp) -> Result<AppliedOp, ApplyError> {
        if op.no_op {
            return Ok(AppliedOp {
                op,
                undo: Undo::None,
            });
        }
        if is_empty_splice(&op.kind) {
            // Deletes and inserts nothing: a no-op wherever it points (transformation leaves
            // such splices untouched, so their index may be stale).
            op.no_op = true;
            return Ok(AppliedOp {
                op,
                undo: Undo::None,
            });
        }
        let Some(node) = self.nodes.get(&op.id) else {
            op.no_op = true;
            return Ok(AppliedOp {
                op,
                undo: Undo::None,
            });
        };
        let expected = op.kind.op_type().target_kind();
        if node.kind() != expected {
            return Err(ApplyError::WrongType {
                op: op.kind.op_type().name(),
                expected,
                found: node.kind(),
            });
        }
        let depth = self.depths.get(&op.id).copied().unwrap_or(1);
        for v in op.kind.new_values() {
            self.check_new_ids(v)?;
            let reach = depth + height(v);
            if reach > self.limits.max_depth {
                return Err(ApplyError::TooDeep {
                    depth: reach,
                    max: self.limits.max_depth,
                });
            }
        }
        let before = self.bytes;
        let undo = self.mutate(&op)?;
        if self.bytes > self.limits.max_bytes && self.bytes > before {
            let bytes = self.bytes;
            self.revert(AppliedOp { op, undo });
            return Err(ApplyError::TooLarge {
                bytes,
                max: self.limits.max_bytes,
            });
        }
        Ok(AppliedOp { op, undo })
    }

    /// Validates and performs one live discrete operation whose target exists with the right type.
    fn mutate(&mut self, op: &DiscreteOp) -> Result<Undo, ApplyError> {
        let id = &op.id;
        let child = self.depths.get(id).copied().unwrap_or(1) + 1;
        let node = self
            .nodes
            .get_mut(id)
            .ok_or_else(|| ApplyError::UnknownValue(id.to_string()))?;
        let undo = match (&op.kind, node) {
            (
                OpKind::StringSplice {
                    index,
                    delete_count,
                    insert,
                },
                Node::String(text),
            ) => {
                let len = text.len() as i64;
                if *delete_count < 0 {
                    return Err(ApplyError::NegativeCount(*delete_count));
                }
                if *index < 0 || *index > len {
                    return Err(ApplyError::IndexOutOfBounds { index: *index, len });
                }
                let end = index.saturating_add(*delete_count);
                if end > len {
                    return Err(ApplyError::IndexOutOfBounds { index: end, len });
                }
                // Any code-unit position is valid, between the halves of a pair included.
                let deleted = text.splice(*index as usize, *delete_count as usize, insert.units());
                self.bytes =
                    (self.bytes + 2 * insert.len() as u64).saturating_sub(2 * deleted.len() as u64);
                Undo::Text(JsString::from_units(deleted))
            }
            (OpKind::StringSet { value }, Node::String(text)) => {
                let old = text.to_js_string();
                *text = Text::from_units(value.units());
                self.bytes =
                    (self.bytes + 2 * value.len() as u64).saturating_sub(2 * old.len() as u64);
                Undo::Text(old)
            }
            (OpKind::ArrayInsert { index, value }, Node::Array(items)) => {
                let i = check_index(*index, items.len() + 1)?;
                items.insert(i, value.id.clone());
                self.insert_tree(value.clone(), child);
                Undo::None
            }
            (OpKind::ArrayRemove { index }, Node::Array(items)) => {
                let i = check_index(*index, items.len())?;
                let old = items.remove(i);
                Undo::Value(self.detach(&old))
            }
            (OpKind::ArrayReplace { index, value }, Node::Array(items)) => {
                let i = check_index(*index, items.len())?;
                let old = std::mem::replace(&mut items[i], value.id.clone());
                let old_value = self.detach(&old);
                self.insert_tree(value.clone(), child);
                Undo::Value(old_value)
            }
            (OpKind::ArrayMove { from, to }, Node::Array(items)) => {
                let f = check_index(*from, items.len())?;
                let t = check_index(*to, items.len())?;
                let moved = items.remove(f);
                items.insert(t, moved);
                Undo::None
            }
            (OpKind::ArraySet { values }, Node::Array(items)) => {
                let old = std::mem::replace(items, values.iter().map(|v| v.id.clone()).collect());
                let old_values = old.iter().map(|c| self.detach(c)).collect();
                for v in values {
                    self.insert_tree(v.clone(), child);
                }
                Undo::Values(old_values)
            }
            (OpKind::ObjectAddProperty { key, value }, Node::Object(map)) => {
                if map.contains_key(key) {
                    return Err(ApplyError::PropertyExists(key.clone()));
                }
                map.insert(key.clone(), value.id.clone());
                self.bytes += 2 * key.len() as u64;
                self.insert_tree(value.clone(), child);
                Undo::None
            }
            (OpKind::ObjectSetProperty { key, value }, Node::Object(map)) => {
                let Some(slot) = map.get_mut(key) else {
                    return Err(ApplyError::PropertyMissing(key.clone()));
                };
                let old = std::mem::replace(slot, value.id.clone());
                let old_value = self.detach(&old);
                self.insert_tree(value.clone(), child);
                Undo::Value(old_value)
            }
            (OpKind::ObjectRemoveProperty { key }, Node::Object(map)) => {
                let Some(old) = map.remove(key) else {
                    return Err(ApplyError::PropertyMissing(key.clone()));
                };
                self.bytes = self.bytes.saturating_sub(2 * key.len() as u64);
                Undo::Value(self.detach(&old))
            }
            (OpKind::ObjectSet { values }, Node::Object(map)) => {
                let keys = |m: &BTreeMap<JsString, ValueId>| -> u64 {
                    m.keys().map(|k| 2 * k.len() as u64).sum()
                };
                let old_keys = keys(map);
                let old = std::mem::replace(
                    map,
                    values
                        .iter()
                        .map(|(k, v)| (k.clone(), v.id.clone()))
                        .collect(),
                );
                let old_values = old
                    .iter()
                    .map(|(k, c)| (k.clone(), self.detach(c)))
                    .collect();
                let new_keys: u64 = values.keys().map(|k| 2 * k.len() as u64).sum();
                self.bytes = (self.bytes + new_keys).saturating_sub(old_keys);
                for v in values.values() {
                    self.insert_tree(v.clone(), child);
                }
                Undo::Map(old_values)
            }
            (OpKind::NumberAdd { delta }, Node::Number(n)) => {
                *n += delta;
                Undo::None
            }
            (OpKind::NumberSet { value }, Node::Number(n)) => {
                Undo::Number(std::mem::replace(n, *value))
            }
            (OpKind::BooleanSet { value }, Node::Boolean(b)) => {
                Undo::Boolean(std::mem::replace(b, *value))
            }
            (OpKind::DateSet { value }, Node::Date(d)) => Undo::Date(std::mem::replace(d, *value)),
            (kind, node) => {
                return Err(ApplyError::WrongType {
                    op: kind.op_type().name(),
                    expected: kind.op_type().target_kind(),
                    found: node.kind(),
                })
            }
        };
        Ok(undo)
    }

    /// Reverses one applied discrete operation. Only called with operations this document
    /// applied, in reverse order, so every step is valid.
    fn revert(&mut self, applied: AppliedOp) {
        let AppliedOp { op, undo } = applied;
        if op.no_op {
            return;
        }
        let inverse = super::undo::inverse_kind(op.kind, undo);
        if let Some(kind) = inverse {
            let inv = DiscreteOp::new(op.id, kind);
            // The inverse of a valid step is valid on the state that step produced.
            let _ = self.mutate(&inv);
        }
    }

    /// Fails when any id in `value` already names a value of this document, or repeats.
    fn check_new_ids(&self, value: &Value) -> Result<(), ApplyError> {
        let mut seen = std::collections::HashSet::new();
        let mut dup: Option<ValueId> = None;
        value.visit(&mut |v| {
            if dup.is_none() && (self.nodes.contains_key(&v.id) || !seen.insert(v.id.clone())) {
                dup = Some(v.id.clone());
            }
        });
        match dup {
            Some(id) => Err(ApplyError::DuplicateId(id.to_string())),
            None => Ok(()),
        }
    }

    /// Indexes a subtree whose root lies at `depth`.
    fn insert_tree(&mut self, value: Value, depth: u32) {
        self.bytes = self.bytes.saturating_add(own_weight(&value.data));
        let node = match value.data {
            Data::Object(map) => {
                self.depths.insert(value.id.clone(), depth);
                let mut children = BTreeMap::new();
                for (k, v) in map {
                    children.insert(k, v.id.clone());
                    self.insert_tree(v, depth + 1);
                }
                Node::Object(children)
            }
            Data::Array(items) => {
                self.depths.insert(value.id.clone(), depth);
                let mut children = Vec::with_capacity(items.len());
                for v in items {
                    children.push(v.id.clone());
                    self.insert_tree(v, depth + 1);
                }
                Node::Array(children)
            }
            Data::String(s) => Node::String(Text::from_units(s.units())),
            Data::Number(n) => Node::Number(n),
            Data::Boolean(b) => Node::Boolean(b),
            Data::Date(d) => Node::Date(d),
            Data::Null => Node::Null,
        };
        self.nodes.insert(value.id, node);
    }

    /// Removes a subtree from the index and returns it as an owned value.
    fn detach(&mut self, id: &ValueId) -> Value {
        let node = self.nodes.remove(id).unwrap_or(Node::Null);
        self.depths.remove(id);
        let data = match node {
            Node::Object(map) => Data::Object(
                map.into_iter()
                    .map(|(k, c)| {
                        let v = self.detach(&c);
                        (k, v)
                    })
                    .collect(),
            ),
            Node::Array(items) => Data::Array(items.iter().map(|c| self.detach(c)).collect()),
            Node::String(text) => Data::String(text.to_js_string()),
            Node::Number(n) => Data::Number(n),
            Node::Boolean(b) => Data::Boolean(b),
            Node::Date(d) => Data::Date(d),
            Node::Null => Data::Null,
        };
        self.bytes = self.bytes.saturating_sub(own_weight(&data));
        Value {
            id: id.clone(),
            data,
        }
    }
}

fn is_empty_splice(kind: &OpKind) -> bool {
    matches!(kind, OpKind::StringSplice { delete_count: 0, insert, .. } if insert.is_empty())
}

fn check_index(index: i64, bound: usize) -> Result<usize, ApplyError> {
    if index < 0 || index as u64 >= bound as u64 {
        return Err(ApplyError::IndexOutOfBounds {
            index,
            len: bound.saturating_sub(1) as i64,
        });
    }
    Ok(index as usize)
}

/// One step of [`Document::walk_scalars`]' path.
#[derive(Clone, Copy, Debug)]
pub enum WalkStep<'a> {
    /// Into an object property.
    Key(&'a JsString),
    /// Into an array element.
    Element,
}

/// A scalar as [`Document::walk_scalars`] reports it; strings by their leading code units.
#[derive(Clone, Debug, PartialEq)]
pub enum ScalarPrefix {
    /// At most the requested number of leading code units of a string.
    String(Vec<u16>),
    /// A number.
    Number(f64),
    /// A boolean.
    Boolean(bool),
    /// A date (epoch ms).
    Date(i64),
    /// Null.
    Null,
}

impl Document {
    /// Calls `visit` with the path to every scalar below the root and the scalar (strings cut
    /// to `units` code units), depth first.
    pub fn walk_scalars(&self, units: usize, visit: &mut dyn FnMut(&[WalkStep<'_>], ScalarPrefix)) {
        let mut path = Vec::new();
        self.walk_from(&self.root, units, &mut path, visit);
    }

    fn walk_from<'a>(
        &'a self,
        id: &ValueId,
        units: usize,
        path: &mut Vec<WalkStep<'a>>,
        visit: &mut dyn FnMut(&[WalkStep<'_>], ScalarPrefix),
    ) {
        let Some(node) = self.nodes.get(id) else {
            return;
        };
        let scalar = match node {
            Node::Object(map) => {
                for (k, child) in map {
                    path.push(WalkStep::Key(k));
                    self.walk_from(child, units, path, visit);
                    path.pop();
                }
                return;
            }
            Node::Array(items) => {
                for child in items {
                    path.push(WalkStep::Element);
                    self.walk_from(child, units, path, visit);
                    path.pop();
                }
                return;
            }
            Node::String(text) => ScalarPrefix::String(text.prefix(units)),
            Node::Number(n) => ScalarPrefix::Number(*n),
            Node::Boolean(b) => ScalarPrefix::Boolean(*b),
            Node::Date(d) => ScalarPrefix::Date(*d),
            Node::Null => ScalarPrefix::Null,
        };
        visit(path, scalar);
    }
}
