//! Selective undo over a server-ordered log: the inverse of an applied operation, carried
//! forward through every later operation (each in the server position) to the head, with an
//! undo policy on top of the transformation rules.
//!
//! The policy (see `docs/history.md`):
//! - the inverse of a string insertion removes only the characters that operation inserted:
//!   text others typed inside them later is kept (the removal is split around it);
//! - an inverse that the transformation turns into another kind (a property set into an add,
//!   an array replace into an insert) would resurrect what someone deleted: a conflict;
//! - an inverse that replaces a whole value (string, array, object set, a scalar set, the
//!   removal of an added or replaced value) is a conflict when others changed that value (or
//!   anything inside it) since;
//! - a part that later operations made a no-op is reported as superseded, the rest is undone.
//!
//! Values re-inserted by an undo get fresh ids ([`refresh_ids`]): an operation still in flight
//! against a removed value must find nothing on the server, as it finds nothing on its client.

use std::collections::{HashMap, HashSet};

use thiserror::Error;

use super::json::IdGenerator;
use super::jsstring::JsString;
use super::operation::{AppliedOperation, DiscreteOp, OpKind, OpType, Operation, Undo};
use super::transform::transform_discrete;
use super::value::{Data, Value, ValueId};

/// Why an operation has no inverse.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum InverseError {
    /// The record lacks what the operation replaced (it cannot be inverted).
    #[error("the {kind} at part {part} does not record what it replaced")]
    MissingUndo {
        /// The operation type.
        kind: &'static str,
        /// Its index in the operation.
        part: usize,
    },
}

/// The inverse of one applied step, given what it replaced; `None` when `undo` does not fit.
pub(crate) fn inverse_kind(kind: OpKind, undo: Undo) -> Option<OpKind> {
    Some(match (kind, undo) {
        (OpKind::StringSplice { index, insert, .. }, Undo::Text(deleted)) => OpKind::StringSplice {
            index,
            delete_count: insert.len_i64(),
            insert: deleted,
        },
        (OpKind::StringSet { .. }, Undo::Text(old)) => OpKind::StringSet { value: old },
        (OpKind::ArrayInsert { index, .. }, _) => OpKind::ArrayRemove { index },
        (OpKind::ArrayRemove { index }, Undo::Value(v)) => OpKind::ArrayInsert { index, value: v },
        (OpKind::ArrayReplace { index, .. }, Undo::Value(v)) => {
            OpKind::ArrayReplace { index, value: v }
        }
        (OpKind::ArrayMove { from, to }, _) => OpKind::ArrayMove { from: to, to: from },
        (OpKind::ArraySet { .. }, Undo::Values(vs)) => OpKind::ArraySet { values: vs },
        (OpKind::ObjectAddProperty { key, .. }, _) => OpKind::ObjectRemoveProperty { key },
        (OpKind::ObjectSetProperty { key, .. }, Undo::Value(v)) => {
            OpKind::ObjectSetProperty { key, value: v }
        }
        (OpKind::ObjectRemoveProperty { key }, Undo::Value(v)) => {
            OpKind::ObjectAddProperty { key, value: v }
        }
        (OpKind::ObjectSet { .. }, Undo::Map(m)) => OpKind::ObjectSet { values: m },
        (OpKind::NumberAdd { delta }, _) => OpKind::NumberAdd { delta: -delta },
        (OpKind::NumberSet { .. }, Undo::Number(n)) => OpKind::NumberSet { value: n },
        (OpKind::BooleanSet { .. }, Undo::Boolean(b)) => OpKind::BooleanSet { value: b },
        (OpKind::DateSet { .. }, Undo::Date(d)) => OpKind::DateSet { value: d },
        _ => return None,
    })
}

/// The plain inverse of an applied operation: applied to the state that operation produced,
/// it gives back the state before it (re-inserted values keep their old ids; see
/// [`refresh_ids`]). Parts that were no-ops have no inverse part. `None` when nothing was
/// changed.
pub fn inverse(applied: &AppliedOperation) -> Result<Option<Operation>, InverseError> {
    let mut parts = Vec::new();
    for (i, a) in applied.ops().iter().enumerate().rev() {
        if a.op.no_op {
            continue;
        }
        let kind =
            inverse_kind(a.op.kind.clone(), a.undo.clone()).ok_or(InverseError::MissingUndo {
                kind: a.op.kind.op_type().name(),
                part: i,
            })?;
        parts.push(DiscreteOp::new(a.op.id.clone(), kind));
    }
    Ok(match parts.len() {
        0 => None,
        1 => parts.pop().map(Operation::Discrete),
        _ => Some(Operation::Compound(parts)),
    })
}

/// Gives every value the operation brings into the model a fresh id from `ids`, and retargets
/// later parts that address a value an earlier part re-created.
pub fn refresh_ids(op: &mut Operation, ids: &mut IdGenerator) {
    let mut map: HashMap<ValueId, ValueId> = HashMap::new();
    for d in op.ops_mut() {
        if let Some(new) = map.get(&d.id) {
            d.id = new.clone();
        }
        match &mut d.kind {
            OpKind::ArrayInsert { value, .. }
            | OpKind::ArrayReplace { value, .. }
            | OpKind::ObjectAddProperty { value, .. }
            | OpKind::ObjectSetProperty { value, .. } => refresh_value(value, ids, &mut map),
            OpKind::ArraySet { values } => values
                .iter_mut()
                .for_each(|v| refresh_value(v, ids, &mut map)),
            OpKind::ObjectSet { values } => values
                .values_mut()
                .for_each(|v| refresh_value(v, ids, &mut map)),
            _ => {}
        }
    }
}

fn refresh_value(v: &mut Value, ids: &mut IdGenerator, map: &mut HashMap<ValueId, ValueId>) {
    let fresh = ids.next_id();
    map.insert(std::mem::replace(&mut v.id, fresh.clone()), fresh);
    match &mut v.data {
        Data::Object(m) => m.values_mut().for_each(|c| refresh_value(c, ids, map)),
        Data::Array(items) => items.iter_mut().for_each(|c| refresh_value(c, ids, map)),
        _ => {}
    }
}

/// Why a part of an undo was left out.
#[derive(Clone, Debug, PartialEq)]
pub enum SkipReason {
    /// A later operation already replaced or removed what this part would restore.
    Superseded {
        /// The version of that operation.
        by: u64,
    },
    /// The value this part targets is no longer in the model.
    TargetGone,
}

/// A part of an undone operation that the undo leaves as it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Skipped {
    /// The version of the undone operation.
    pub version: u64,
    /// The part's index in that operation.
    pub part: usize,
    /// Why.
    pub reason: SkipReason,
}

/// What an undo carried to the head yields.
#[derive(Clone, Debug, PartialEq)]
pub struct UndoPlan {
    /// The operation to commit at the head (`None` when nothing is left to undo or when there
    /// is a conflict).
    pub op: Option<Operation>,
    /// Parts left out.
    pub skipped: Vec<Skipped>,
    /// Versions of later operations by others that the undo would overwrite (nothing is done).
    pub conflicts: Vec<u64>,
}

impl UndoPlan {
    /// The plan of `ops`: none are committed when there is a conflict.
    fn new(ops: Vec<DiscreteOp>, skipped: Vec<Skipped>, conflicts: Vec<u64>) -> Self {
        let op = if conflicts.is_empty() {
            into_operation(ops)
        } else {
            None
        };
        UndoPlan {
            op,
            skipped,
            conflicts,
        }
    }
}

/// The part of an inverse being carried forward.
#[derive(Clone, Debug)]
enum Carried {
    /// An ordinary inverse step.
    Op(DiscreteOp),
    /// Removal of the undone operation's own characters of a string: half-open ranges of
    /// code units, sorted, disjoint, none empty.
    OwnText {
        id: ValueId,
        ranges: Vec<(i64, i64)>,
    },
}

#[derive(Clone, Debug)]
struct Part {
    /// Index of the undone operation's part this inverts.
    source: usize,
    carried: Carried,
    /// The inverse's type: a different one after a transformation is a resurrection.
    kind: OpType,
    /// Values whose change by others since makes this part a conflict.
    watched: HashSet<ValueId>,
    /// Set when a later operation made this part a no-op.
    superseded: Option<u64>,
}

/// The undo of one logged operation, carried forward one later operation at a time.
#[derive(Clone, Debug)]
pub struct Undoing {
    version: u64,
    author: String,
    parts: Vec<Part>,
    conflicts: Vec<u64>,
}

impl Undoing {
    /// Starts the undo of the operation logged at `version` by `author`.
    pub fn new(
        version: u64,
        author: &str,
        applied: &AppliedOperation,
    ) -> Result<Self, InverseError> {
        let mut parts = Vec::new();
        for (i, a) in applied.ops().iter().enumerate().rev() {
            if a.op.no_op {
                continue;
            }
            let missing = || InverseError::MissingUndo {
                kind: a.op.kind.op_type().name(),
                part: i,
            };
            let kind = inverse_kind(a.op.kind.clone(), a.undo.clone()).ok_or_else(missing)?;
            let watched = watched_by(&a.op, &kind);
            let id = a.op.id.clone();
            // A splice that inserted text: its inverse removes exactly those characters.
            if let OpKind::StringSplice {
                index,
                delete_count,
                insert,
            } = kind
            {
                if delete_count > 0 {
                    parts.push(Part {
                        source: i,
                        carried: Carried::OwnText {
                            id: id.clone(),
                            ranges: vec![(index, index + delete_count)],
                        },
                        kind: OpType::StringSplice,
                        watched: HashSet::new(),
                        superseded: None,
                    });
                }
                if !insert.is_empty() {
                    let step = OpKind::StringSplice {
                        index,
                        delete_count: 0,
                        insert,
                    };
                    parts.push(Part::op(i, DiscreteOp::new(id, step), HashSet::new()));
                }
                continue;
            }
            parts.push(Part::op(i, DiscreteOp::new(id, kind), watched));
        }
        Ok(Undoing {
            version,
            author: author.to_string(),
            parts,
            conflicts: Vec::new(),
        })
    }

    /// The version of the operation being undone.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// True when a later operation by others conflicts with this undo.
    pub fn has_conflict(&self) -> bool {
        !self.conflicts.is_empty()
    }

    /// Carries the undo past the operation logged at `version` by `author` (the next one).
    pub fn advance(&mut self, version: u64, author: &str, op: &Operation) {
        let own = author == self.author;
        self.advance_as(version, own, op, &mut Vec::new());
    }

    /// Like [`Undoing::advance`]; adds to `claims` the characters of this undo's own text that
    /// each removal in `op` took away, as offsets into that removal's text, by part of `op`.
    fn advance_as(&mut self, version: u64, own: bool, op: &Operation, claims: &mut Vec<Claim>) {
        for (index, s) in op.ops().iter().enumerate() {
            if s.no_op {
                continue;
            }
            let mut s = s.clone();
            let mut pristine = true;
            for part in self.parts.iter_mut() {
                if part.superseded.is_some() {
                    continue;
                }
                let touches = !s.no_op && part.watched.contains(&s.id);
                let brought: Vec<ValueId> = if touches && own {
                    s.kind.new_values().iter().flat_map(|v| v.ids()).collect()
                } else {
                    Vec::new()
                };
                let same_target = part.target() == &s.id;
                match part.pass(&s, version, own) {
                    Ok((next, taken)) => {
                        if pristine && !taken.is_empty() {
                            claims.push(Claim {
                                part: index,
                                offsets: taken,
                            });
                        }
                        s = next;
                    }
                    Err(()) => {
                        push_unique(&mut self.conflicts, version);
                        break;
                    }
                }
                pristine &= !same_target;
                if touches && part.superseded.is_none() {
                    if own {
                        part.watched.extend(brought);
                    } else {
                        push_unique(&mut self.conflicts, version);
                    }
                }
            }
        }
    }

    /// The inverse as it applies at the head, with what was left out. A part whose target is
    /// neither `present` at the head nor in `created` (values earlier parts bring in) is left
    /// out as [`SkipReason::TargetGone`]; what the kept parts bring in is added to `created`.
    pub fn finish(
        self,
        present: &dyn Fn(&ValueId) -> bool,
        created: &mut HashSet<ValueId>,
    ) -> UndoPlan {
        let mut skipped = Vec::new();
        let mut ops: Vec<DiscreteOp> = Vec::new();
        for part in self.parts {
            if let Some(by) = part.superseded {
                skipped.push(Skipped {
                    version: self.version,
                    part: part.source,
                    reason: SkipReason::Superseded { by },
                });
                continue;
            }
            let steps = part.carried.into_steps();
            let Some(first) = steps.first() else {
                continue;
            };
            if !present(&first.id) && !created.contains(&first.id) {
                skipped.push(Skipped {
                    version: self.version,
                    part: part.source,
                    reason: SkipReason::TargetGone,
                });
                continue;
            }
            for step in &steps {
                for v in step.kind.new_values() {
                    created.extend(v.ids());
                }
            }
            ops.extend(steps);
        }
        UndoPlan::new(ops, skipped, self.conflicts)
    }
}

fn into_operation(mut ops: Vec<DiscreteOp>) -> Option<Operation> {
    match ops.len() {
        0 => None,
        1 => ops.pop().map(Operation::Discrete),
        _ => Some(Operation::Compound(ops)),
    }
}

impl Part {
    fn op(source: usize, op: DiscreteOp, watched: HashSet<ValueId>) -> Self {
        Part {
            source,
            kind: op.kind.op_type(),
            carried: Carried::Op(op),
            watched,
            superseded: None,
        }
    }

    /// Transforms this part past `s` (the server side) and returns `s` as it applies after
    /// this part. `Err` when the pair cannot be transformed or the part turned into another
    /// kind (a resurrection).
    fn pass(
        &mut self,
        s: &DiscreteOp,
        version: u64,
        own: bool,
    ) -> Result<(DiscreteOp, Vec<(i64, i64)>), ()> {
        match &mut self.carried {
            Carried::OwnText { id, ranges } => {
                if &s.id != id {
                    return Ok((s.clone(), Vec::new()));
                }
                let (s2, taken) = pass_own_text(ranges, s);
                if ranges.is_empty() {
                    self.superseded = Some(version);
                }
                Ok((s2, taken))
            }
            Carried::Op(p) => {
                let (s2, p2) = transform_discrete(s, p).map_err(|_| ())?;
                if p2.no_op {
                    self.superseded = Some(version);
                } else if p2.kind.op_type() != self.kind {
                    if !own {
                        return Err(());
                    }
                    self.kind = p2.kind.op_type();
                }
                *p = p2;
                Ok((s2, Vec::new()))
            }
        }
    }

    /// The value this part changes.
    fn target(&self) -> &ValueId {
        match &self.carried {
            Carried::Op(op) => &op.id,
            Carried::OwnText { id, .. } => id,
        }
    }
}

impl Carried {
    fn into_steps(self) -> Vec<DiscreteOp> {
        match self {
            Carried::Op(op) => vec![op],
            // Last range first, so that each removal leaves the earlier positions as they are.
            Carried::OwnText { id, ranges } => ranges
                .into_iter()
                .rev()
                .map(|(a, b)| {
                    DiscreteOp::new(
                        id.clone(),
                        OpKind::StringSplice {
                            index: a,
                            delete_count: b - a,
                            insert: Default::default(),
                        },
                    )
                })
                .collect(),
        }
    }
}

/// The values whose change by others since the undone step makes its inverse a conflict: the
/// value a whole-value inverse replaces (and what the step put there), or the value the
/// inverse removes.
fn watched_by(step: &DiscreteOp, inverse: &OpKind) -> HashSet<ValueId> {
    let mut out = HashSet::new();
    match inverse {
        OpKind::StringSet { .. }
        | OpKind::ArraySet { .. }
        | OpKind::ObjectSet { .. }
        | OpKind::NumberSet { .. }
        | OpKind::BooleanSet { .. }
        | OpKind::DateSet { .. } => {
            out.insert(step.id.clone());
        }
        OpKind::ArrayRemove { .. }
        | OpKind::ArrayReplace { .. }
        | OpKind::ObjectRemoveProperty { .. }
        | OpKind::ObjectSetProperty { .. } => {}
        _ => return out,
    }
    for v in step.kind.new_values() {
        out.extend(v.ids());
    }
    out
}

fn push_unique(list: &mut Vec<u64>, v: u64) {
    if !list.contains(&v) {
        list.push(v);
    }
}

/// Moves own-character ranges past `s` (an operation on the same string) and returns `s` as it
/// applies once those ranges are removed: text `s` inserts inside a range stays (the range is
/// split around it), text `s` removes leaves the ranges.
fn pass_own_text(ranges: &mut Vec<(i64, i64)>, s: &DiscreteOp) -> (DiscreteOp, Vec<(i64, i64)>) {
    let (q, d, insert) = match &s.kind {
        OpKind::StringSplice {
            index,
            delete_count,
            insert,
        } => (*index, (*delete_count).max(0), insert),
        _ => {
            // A whole-string set replaces the characters this undo would remove.
            ranges.clear();
            return (s.clone(), Vec::new());
        }
    };
    let taken: Vec<(i64, i64)> = ranges
        .iter()
        .filter_map(|&(a, b)| {
            let (lo, hi) = (a.max(q), b.min(q + d));
            (lo < hi).then_some((lo - q, hi - q))
        })
        .collect();
    let removed_before = |x: i64, ranges: &[(i64, i64)]| -> i64 {
        ranges.iter().map(|&(a, b)| (b.min(x) - a).max(0)).sum()
    };
    let overlap = |lo: i64, hi: i64, ranges: &[(i64, i64)]| -> i64 {
        ranges
            .iter()
            .map(|&(a, b)| (b.min(hi) - a.max(lo)).max(0))
            .sum()
    };
    let s2 = DiscreteOp::new(
        s.id.clone(),
        OpKind::StringSplice {
            index: q - removed_before(q, ranges),
            delete_count: d - overlap(q, q + d, ranges),
            insert: insert.clone(),
        },
    );
    // The removal `s` makes, then its insertion at `q`.
    let map = |x: i64| {
        if x <= q {
            x
        } else if x < q + d {
            q
        } else {
            x - d
        }
    };
    let m = insert.len_i64();
    let mut next = Vec::with_capacity(ranges.len() + 1);
    for &(a, b) in ranges.iter() {
        let (a, b) = (map(a), map(b));
        if a == b {
            continue;
        }
        if m == 0 || q >= b {
            next.push((a, b));
        } else if q <= a {
            next.push((a + m, b + m));
        } else {
            next.push((a, q));
            next.push((q + m, b + m));
        }
    }
    // Neighbouring ranges merge.
    let mut merged: Vec<(i64, i64)> = Vec::with_capacity(next.len());
    for (a, b) in next {
        match merged.last_mut() {
            Some(last) if last.1 == a => last.1 = b,
            _ => merged.push((a, b)),
        }
    }
    *ranges = merged;
    (s2, taken)
}

/// Characters of an older undo's own text that a removal took away: offsets into the text
/// removed by part `part` of the removing operation.
#[derive(Clone, Debug)]
struct Claim {
    part: usize,
    offsets: Vec<(i64, i64)>,
}

/// The undo of several logged operations as one operation: each carried to the head, the
/// newest applied first and the older ones carried past it.
///
/// When an operation of the batch removed text an older one of the batch inserted, its undo
/// does not put those characters back (the older one's undo would take them out again, and
/// they would otherwise come back as new text no undo removes).
#[derive(Clone, Debug, Default)]
pub struct UndoBatch {
    undoings: Vec<Undoing>,
    /// The claims made by the last operation advanced over, and its version.
    claims: (u64, Vec<Claim>),
}

impl UndoBatch {
    /// An empty batch.
    pub fn new() -> Self {
        UndoBatch::default()
    }

    /// Adds the undo of the operation at `version` (later than every version passed so far).
    pub fn start(
        &mut self,
        version: u64,
        author: &str,
        applied: &AppliedOperation,
    ) -> Result<(), InverseError> {
        let claims: &[Claim] = if self.claims.0 == version {
            &self.claims.1
        } else {
            &[]
        };
        let applied = without_claimed(applied, claims);
        self.undoings.push(Undoing::new(version, author, &applied)?);
        Ok(())
    }

    /// Carries every started undo past the operation logged at `version` by `author`.
    pub fn advance(&mut self, version: u64, author: &str, op: &Operation) {
        let mut claims = Vec::new();
        for u in self.undoings.iter_mut().filter(|u| u.version < version) {
            let own = author == u.author;
            u.advance_as(version, own, op, &mut claims);
        }
        self.claims = (version, claims);
    }

    /// True when no undo was started.
    pub fn is_empty(&self) -> bool {
        self.undoings.is_empty()
    }

    /// Versions of the operations being undone, oldest first.
    pub fn versions(&self) -> Vec<u64> {
        self.undoings.iter().map(|u| u.version).collect()
    }

    /// The combined inverse at the head (`head` is the model's version). A conflict in any
    /// part makes the whole batch a conflict (nothing is undone).
    pub fn finish(self, present: &dyn Fn(&ValueId) -> bool, head: u64) -> UndoPlan {
        let mut rest = self.undoings;
        let mut ops = Vec::new();
        let mut skipped = Vec::new();
        let mut conflicts = Vec::new();
        let mut created = HashSet::new();
        while let Some(newest) = rest.pop() {
            let plan = newest.finish(present, &mut created);
            skipped.extend(plan.skipped);
            for c in plan.conflicts {
                push_unique(&mut conflicts, c);
            }
            if let Some(op) = plan.op {
                for older in rest.iter_mut() {
                    older.advance_as(head + 1, true, &op, &mut Vec::new());
                }
                ops.extend(op.ops().iter().cloned());
            }
        }
        conflicts.sort_unstable();
        UndoPlan::new(ops, skipped, conflicts)
    }
}

/// `applied` with the claimed characters cut out of what its removals recorded, so that its
/// undo re-inserts only the others.
fn without_claimed(applied: &AppliedOperation, claims: &[Claim]) -> AppliedOperation {
    let mut out = applied.clone();
    let parts = match &mut out {
        AppliedOperation::Discrete(a) => std::slice::from_mut(a),
        AppliedOperation::Compound(list) => list.as_mut_slice(),
    };
    for claim in claims {
        let Some(a) = parts.get_mut(claim.part) else {
            continue;
        };
        if let Undo::Text(removed) = &mut a.undo {
            if !matches!(a.op.kind, OpKind::StringSplice { .. }) {
                continue;
            }
            let units = removed.units();
            let kept: Vec<u16> = units
                .iter()
                .enumerate()
                .filter(|(i, _)| {
                    let i = *i as i64;
                    !claim.offsets.iter().any(|&(lo, hi)| i >= lo && i < hi)
                })
                .map(|(_, u)| *u)
                .collect();
            *removed = JsString::from_units(kept);
        }
    }
    out
}

#[cfg(test)]
mod tests;
