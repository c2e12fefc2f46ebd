//! Transformation of concurrent operations: given `s` (already ordered first, the "server"
//! operation) and `c` (the "client" operation) made against the same state, produce `(s', c')`
//! with `apply(apply(d, s), c') == apply(apply(d, c), s')`.
//!
//! The rules are the Convergence protocol's, fixed by the `otspec` vectors and by the published
//! client, which applies the same rules on its side. Ties go to the server operation.

use super::error::TransformError;
use super::jsstring::JsString;
use super::operation::{insert_len, DiscreteOp, OpKind, Operation};

type Pair = (DiscreteOp, DiscreteOp);
type Result<T> = std::result::Result<T, TransformError>;

/// Transforms two concurrent operations (discrete or compound).
pub fn transform(s: &Operation, c: &Operation) -> Result<(Operation, Operation)> {
    match (s, c) {
        (Operation::Compound(s_ops), _) => {
            let mut c_cur = c.clone();
            let mut s_out = Vec::with_capacity(s_ops.len());
            for s_op in s_ops {
                let (s2, c2) = transform(&Operation::Discrete(s_op.clone()), &c_cur)?;
                if let Operation::Discrete(d) = s2 {
                    s_out.push(d);
                }
                c_cur = c2;
            }
            Ok((Operation::Compound(s_out), c_cur))
        }
        (Operation::Discrete(s_op), Operation::Compound(c_ops)) => {
            let mut s_cur = s_op.clone();
            let mut c_out = Vec::with_capacity(c_ops.len());
            for c_op in c_ops {
                let (s2, c2) = transform_discrete(&s_cur, c_op)?;
                s_cur = s2;
                c_out.push(c2);
            }
            Ok((Operation::Discrete(s_cur), Operation::Compound(c_out)))
        }
        (Operation::Discrete(s_op), Operation::Discrete(c_op)) => {
            let (s2, c2) = transform_discrete(s_op, c_op)?;
            Ok((Operation::Discrete(s2), Operation::Discrete(c2)))
        }
    }
}

/// Transforms two concurrent discrete operations. Operations on different values, and no-ops,
/// pass through unchanged.
pub fn transform_discrete(s: &DiscreteOp, c: &DiscreteOp) -> Result<Pair> {
    if s.no_op || c.no_op || s.id != c.id {
        return Ok((s.clone(), c.clone()));
    }
    use OpKind::*;
    match (&s.kind, &c.kind) {
        (StringSplice { .. }, StringSplice { .. }) => {
            let (es, ec) = string_splice_splice(s, c);
            Ok((es.applied(s), ec.applied(c)))
        }
        (StringSplice { .. }, StringSet { .. }) => Ok((s.noop(), c.clone())),
        (StringSet { .. }, StringSplice { .. }) => Ok((s.clone(), c.noop())),
        (StringSet { value: sv }, StringSet { value: cv }) => Ok(set_set_copy(s, c, sv == cv)),

        (ArrayInsert { .. }, _)
        | (ArrayRemove { .. }, _)
        | (ArrayReplace { .. }, _)
        | (ArrayMove { .. }, _)
        | (ArraySet { .. }, _)
            if is_array(&c.kind) =>
        {
            Ok(array(s, c))
        }

        (ObjectAddProperty { .. }, _)
        | (ObjectSetProperty { .. }, _)
        | (ObjectRemoveProperty { .. }, _)
        | (ObjectSet { .. }, _)
            if is_object(&c.kind) =>
        {
            object(s, c)
        }

        (NumberAdd { .. }, NumberAdd { .. }) => Ok((s.clone(), c.clone())),
        (NumberAdd { .. }, NumberSet { .. }) => Ok((s.noop(), c.clone())),
        (NumberSet { .. }, NumberAdd { .. }) => Ok((s.clone(), c.noop())),
        (NumberSet { value: sv }, NumberSet { value: cv }) => Ok(set_set_copy(s, c, sv == cv)),
        (BooleanSet { value: sv }, BooleanSet { value: cv }) => Ok(set_set_copy(s, c, sv == cv)),
        (DateSet { value: sv }, DateSet { value: cv }) => Ok(set_set_copy(s, c, sv == cv)),
        _ => Err(TransformError::TypeMismatch {
            server: s.kind.op_type().name(),
            client: c.kind.op_type().name(),
        }),
    }
}

/// Transforms two concurrent operations where they are: afterwards `s` and `c` hold what
/// [`transform`] would return for them. String splices against string splices (the common
/// case of text editing) and operations that do not touch each other are changed without
/// copying anything; other pairs are transformed by [`transform`] and assigned.
///
/// On error the operations may be partly transformed; the caller must drop them.
pub fn transform_in_place(s: &mut Operation, c: &mut Operation) -> Result<()> {
    match s {
        Operation::Compound(s_ops) => {
            for s_op in s_ops.iter_mut() {
                discrete_vs_operation_in_place(s_op, c)?;
            }
            Ok(())
        }
        Operation::Discrete(s_op) => discrete_vs_operation_in_place(s_op, c),
    }
}

fn discrete_vs_operation_in_place(s: &mut DiscreteOp, c: &mut Operation) -> Result<()> {
    match c {
        Operation::Discrete(c_op) => transform_discrete_in_place(s, c_op),
        Operation::Compound(c_ops) => {
            for c_op in c_ops.iter_mut() {
                transform_discrete_in_place(s, c_op)?;
            }
            Ok(())
        }
    }
}

/// [`transform_discrete`] in place (see [`transform_in_place`]).
pub fn transform_discrete_in_place(s: &mut DiscreteOp, c: &mut DiscreteOp) -> Result<()> {
    if s.no_op || c.no_op || s.id != c.id {
        return Ok(());
    }
    if let (OpKind::StringSplice { .. }, OpKind::StringSplice { .. }) = (&s.kind, &c.kind) {
        let (es, ec) = string_splice_splice(s, c);
        es.apply(s);
        ec.apply(c);
        return Ok(());
    }
    let (s2, c2) = transform_discrete(s, c)?;
    *s = s2;
    *c = c2;
    Ok(())
}

fn is_array(k: &OpKind) -> bool {
    matches!(
        k,
        OpKind::ArrayInsert { .. }
            | OpKind::ArrayRemove { .. }
            | OpKind::ArrayReplace { .. }
            | OpKind::ArrayMove { .. }
            | OpKind::ArraySet { .. }
    )
}

fn is_object(k: &OpKind) -> bool {
    matches!(
        k,
        OpKind::ObjectAddProperty { .. }
            | OpKind::ObjectSetProperty { .. }
            | OpKind::ObjectRemoveProperty { .. }
            | OpKind::ObjectSet { .. }
    )
}

/// Scalar set/set: equal values make both sides no-ops (the client side becomes a copy of the
/// server op, as the protocol's rule has it); otherwise the server wins.
fn set_set_copy(s: &DiscreteOp, c: &DiscreteOp, equal: bool) -> Pair {
    if equal {
        (s.noop(), s.noop())
    } else {
        (s.clone(), c.noop())
    }
}

// ---------------------------------------------------------------------------------------------
// Strings
// ---------------------------------------------------------------------------------------------

/// How two ranges `[s_start, s_end)` and `[c_start, c_end)` relate (Allen's interval relations,
/// where touching ranges "meet" rather than "precede").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RangeRelation {
    Precedes,
    PrecededBy,
    Meets,
    MetBy,
    Overlaps,
    OverlappedBy,
    Starts,
    StartedBy,
    Contains,
    ContainedBy,
    Finishes,
    FinishedBy,
    EqualTo,
}

pub(crate) fn range_relation(s_start: i64, s_end: i64, c_start: i64, c_end: i64) -> RangeRelation {
    use RangeRelation::*;
    if s_start == c_start {
        if s_end == c_end {
            EqualTo
        } else if c_end > s_end {
            Starts
        } else {
            StartedBy
        }
    } else if s_start > c_start {
        if s_start > c_end {
            PrecededBy
        } else if c_end == s_end {
            Finishes
        } else if s_end < c_end {
            ContainedBy
        } else if s_start == c_end {
            MetBy
        } else {
            OverlappedBy
        }
    } else if s_end < c_start {
        Precedes
    } else if c_end == s_end {
        FinishedBy
    } else if s_end > c_end {
        Contains
    } else if s_end == c_start {
        Meets
    } else {
        Overlaps
    }
}

/// The fields of a splice that the rules read.
#[derive(Clone, Copy)]
struct Sp {
    index: i64,
    del: i64,
    ins: i64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SpliceType {
    Insert,
    Remove,
    Splice,
    NoOp,
}

fn sp(op: &DiscreteOp) -> Sp {
    match &op.kind {
        OpKind::StringSplice {
            index,
            delete_count,
            insert,
        } => Sp {
            index: *index,
            del: *delete_count,
            ins: insert_len(insert),
        },
        _ => Sp {
            index: 0,
            del: 0,
            ins: 0,
        },
    }
}

fn splice_type(p: Sp) -> SpliceType {
    match (p.del > 0, p.ins > 0) {
        (false, true) => SpliceType::Insert,
        (true, false) => SpliceType::Remove,
        (true, true) => SpliceType::Splice,
        (false, false) => SpliceType::NoOp,
    }
}

/// How one side of a string splice/splice transformation derives from its input: the rules
/// only ever move a splice, change how much it deletes, or make it a no-op; the inserted text
/// is never changed. Keeping the result in this form lets [`transform_in_place`] change the
/// operations where they are, without copying their text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Edit {
    index: Option<i64>,
    del: Option<i64>,
    no_op: bool,
}

/// The operation unchanged.
const KEEP: Edit = Edit {
    index: None,
    del: None,
    no_op: false,
};

/// The operation made a no-op (its fields kept).
const NOOP: Edit = Edit {
    index: None,
    del: None,
    no_op: true,
};

impl Edit {
    /// Applies the edit to a string splice in place.
    fn apply(self, op: &mut DiscreteOp) {
        if self.no_op {
            op.no_op = true;
        }
        if let OpKind::StringSplice {
            index: i,
            delete_count: d,
            ..
        } = &mut op.kind
        {
            if let Some(v) = self.index {
                *i = v;
            }
            if let Some(v) = self.del {
                *d = v;
            }
        }
    }

    /// A copy of `op` with the edit applied.
    fn applied(self, op: &DiscreteOp) -> DiscreteOp {
        let mut out = op.clone();
        self.apply(&mut out);
        out
    }
}

/// A splice with a new index and/or delete count.
fn with(index: Option<i64>, del: Option<i64>) -> Edit {
    Edit {
        index,
        del,
        no_op: false,
    }
}

fn idx(index: i64) -> Edit {
    with(Some(index), None)
}

fn del(d: i64) -> Edit {
    with(None, Some(d))
}

fn string_splice_splice(s: &DiscreteOp, c: &DiscreteOp) -> (Edit, Edit) {
    use SpliceType::*;
    let (a, b) = (sp(s), sp(c));
    match (splice_type(a), splice_type(b)) {
        (NoOp, _) | (_, NoOp) => (KEEP, KEEP),
        (Insert, Insert) => {
            if a.index <= b.index {
                (KEEP, idx(b.index + a.ins))
            } else {
                (idx(a.index + b.ins), KEEP)
            }
        }
        (Insert, Remove) => {
            if a.index <= b.index {
                (KEEP, idx(b.index + a.ins))
            } else if a.index >= b.index + b.del {
                (idx(a.index - b.del), KEEP)
            } else {
                (NOOP, del(b.del + a.ins))
            }
        }
        (Insert, Splice) => {
            if a.index <= b.index {
                (KEEP, idx(b.index + a.ins))
            } else if b.index + b.del > a.index {
                (NOOP, del(b.del + a.ins))
            } else {
                (idx(a.index - b.del + b.ins), KEEP)
            }
        }
        (Remove, Insert) => {
            if b.index <= a.index {
                (idx(a.index + b.ins), KEEP)
            } else if b.index >= a.index + a.del {
                (KEEP, idx(b.index - a.del))
            } else {
                (del(a.del + b.ins), NOOP)
            }
        }
        (Remove, Remove) => remove_remove(a, b),
        (Remove, Splice) => remove_splice(a, b),
        (Splice, Insert) => {
            if b.index <= a.index {
                (idx(a.index + b.ins), KEEP)
            } else if a.index + a.del > b.index {
                (del(a.del + b.ins), NOOP)
            } else {
                (KEEP, idx(b.index - a.del + a.ins))
            }
        }
        (Splice, Remove) => splice_remove(a, b),
        (Splice, Splice) => splice_splice(s, c, a, b),
    }
}

fn relation(a: Sp, b: Sp) -> RangeRelation {
    range_relation(a.index, a.index + a.del, b.index, b.index + b.del)
}

fn remove_remove(a: Sp, b: Sp) -> (Edit, Edit) {
    use RangeRelation::*;
    match relation(a, b) {
        Precedes => (KEEP, idx(b.index - a.del)),
        PrecededBy => (idx(a.index - b.del), KEEP),
        Meets | Overlaps => {
            let overlap = a.index + a.del - b.index;
            (
                del(a.del - overlap),
                with(Some(a.index), Some(b.del - overlap)),
            )
        }
        MetBy | OverlappedBy => {
            let overlap = b.index + b.del - a.index;
            (
                with(Some(b.index), Some(a.del - overlap)),
                del(b.del - overlap),
            )
        }
        Starts | ContainedBy | Finishes => (NOOP, del(b.del - a.del)),
        StartedBy | Contains | FinishedBy => (del(a.del - b.del), NOOP),
        EqualTo => (NOOP, NOOP),
    }
}

fn remove_splice(a: Sp, b: Sp) -> (Edit, Edit) {
    use RangeRelation::*;
    match relation(a, b) {
        Precedes => (KEEP, idx(b.index - a.del)),
        PrecededBy => (idx(a.index - b.del + b.ins), KEEP),
        Meets | Overlaps => {
            let overlap = a.index + a.del - b.index;
            (
                del(a.del - overlap),
                with(Some(a.index), Some(b.del - overlap)),
            )
        }
        MetBy | OverlappedBy => {
            let overlap = b.index + b.del - a.index;
            (
                with(Some(b.index + b.ins), Some(a.del - overlap)),
                del(b.del - overlap),
            )
        }
        Starts | Finishes | ContainedBy => (NOOP, del(b.del - a.del)),
        StartedBy => (
            with(Some(a.index + b.ins), Some(a.del - b.del)),
            with(Some(a.index), Some(0)),
        ),
        FinishedBy => (del(a.del - b.del), with(Some(a.index), Some(0))),
        Contains => (del(a.del - b.del + b.ins), NOOP),
        EqualTo => (NOOP, del(0)),
    }
}

fn splice_remove(a: Sp, b: Sp) -> (Edit, Edit) {
    use RangeRelation::*;
    match relation(a, b) {
        Precedes => (KEEP, idx(b.index - a.del + a.ins)),
        PrecededBy => (idx(a.index - b.del), KEEP),
        Meets | Overlaps => {
            let overlap = a.index + a.del - b.index;
            (
                del(a.del - overlap),
                with(Some(a.index + a.ins), Some(b.del - overlap)),
            )
        }
        MetBy | OverlappedBy => {
            let overlap = b.index + b.del - a.index;
            (
                with(Some(b.index), Some(a.del - overlap)),
                del(b.del - overlap),
            )
        }
        Starts => (del(0), with(Some(b.index + a.ins), Some(b.del - a.del))),
        Finishes => (with(Some(b.index), Some(0)), del(b.del - a.del)),
        ContainedBy => (NOOP, del(b.del - a.del + a.ins)),
        StartedBy => (del(a.del - b.del), del(0)),
        // The published rule keeps the removal's old index, which can lie past the end once the
        // splice is applied; any in-range index is equivalent for an empty splice
        // (docs/compatibility.md, case 3).
        FinishedBy | Contains => (del(a.del - b.del), with(Some(a.index), Some(0))),
        EqualTo => (del(0), NOOP),
    }
}

fn splice_splice(s: &DiscreteOp, c: &DiscreteOp, a: Sp, b: Sp) -> (Edit, Edit) {
    use RangeRelation::*;
    match relation(a, b) {
        Precedes => (KEEP, idx(b.index - a.del + a.ins)),
        // The published rule shifts by the server's own inserted length here, which diverges;
        // the engine uses the client's inserted length (docs/compatibility.md, case 1).
        PrecededBy => (idx(a.index - b.del + b.ins), KEEP),
        Meets | Overlaps => {
            let overlap = a.index + a.del - b.index;
            (
                del(a.del - overlap),
                with(Some(a.index + a.ins), Some(b.del - overlap)),
            )
        }
        MetBy | OverlappedBy => {
            let overlap = b.index + b.del - a.index;
            (
                with(Some(b.index + b.ins), Some(a.del - overlap)),
                del(b.del - overlap),
            )
        }
        Starts => (del(0), with(Some(b.index + a.ins), Some(b.del - a.del))),
        ContainedBy => (NOOP, del(b.del - a.del + a.ins)),
        Finishes => (with(Some(b.index + b.ins), Some(0)), del(b.del - a.del)),
        StartedBy => (with(Some(a.index + b.ins), Some(a.del - b.del)), del(0)),
        Contains => (del(a.del - b.del + b.ins), NOOP),
        FinishedBy => (del(a.del - b.del), with(Some(a.index + a.ins), Some(0))),
        // The vectors (S-PP) fix this case: equal text cancels out, otherwise the server's
        // replacement wins. The engine never puts a true splice in the server position, so
        // this rule is never used on live traffic (docs/compatibility.md).
        EqualTo => {
            let same_text = match (&s.kind, &c.kind) {
                (
                    OpKind::StringSplice { insert: si, .. },
                    OpKind::StringSplice { insert: ci, .. },
                ) => si == ci,
                _ => false,
            };
            if same_text {
                (NOOP, NOOP)
            } else {
                (KEEP, NOOP)
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Arrays
// ---------------------------------------------------------------------------------------------

/// Where an index lies relative to the range `[min(from,to), max(from,to)]` of a move.
#[derive(Clone, Copy, PartialEq, Eq)]
enum RangeIndex {
    Before,
    Start,
    Within,
    End,
    After,
}

fn range_index(start: i64, end: i64, index: i64) -> RangeIndex {
    if index < start {
        RangeIndex::Before
    } else if index > end {
        RangeIndex::After
    } else if index == start {
        RangeIndex::Start
    } else if index == end {
        RangeIndex::End
    } else {
        RangeIndex::Within
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum MoveDir {
    Forward,
    Backward,
    Identity,
}

#[derive(Clone, Copy)]
struct Mv {
    from: i64,
    to: i64,
}

impl Mv {
    fn dir(self) -> MoveDir {
        match self.from.cmp(&self.to) {
            std::cmp::Ordering::Less => MoveDir::Forward,
            std::cmp::Ordering::Greater => MoveDir::Backward,
            std::cmp::Ordering::Equal => MoveDir::Identity,
        }
    }
    fn min(self) -> i64 {
        self.from.min(self.to)
    }
    fn max(self) -> i64 {
        self.from.max(self.to)
    }
    fn rel(self, index: i64) -> RangeIndex {
        range_index(self.min(), self.max(), index)
    }
}

fn mv(op: &DiscreteOp) -> Mv {
    match op.kind {
        OpKind::ArrayMove { from, to } => Mv { from, to },
        _ => Mv { from: 0, to: 0 },
    }
}

fn index_of(op: &DiscreteOp) -> i64 {
    match op.kind {
        OpKind::ArrayInsert { index, .. }
        | OpKind::ArrayRemove { index }
        | OpKind::ArrayReplace { index, .. } => index,
        _ => 0,
    }
}

fn at(op: &DiscreteOp, index: i64) -> DiscreteOp {
    let mut out = op.clone();
    if let OpKind::ArrayInsert { index: i, .. }
    | OpKind::ArrayRemove { index: i }
    | OpKind::ArrayReplace { index: i, .. } = &mut out.kind
    {
        *i = index;
    }
    out
}

fn moved(op: &DiscreteOp, from: i64, to: i64) -> DiscreteOp {
    let mut out = op.clone();
    if let OpKind::ArrayMove { from: f, to: t } = &mut out.kind {
        *f = from;
        *t = to;
    }
    out
}

/// A replace turned into an insert of the same value at the same index (the replacement
/// survives a concurrent removal of its element).
fn replace_as_insert(op: &DiscreteOp) -> DiscreteOp {
    match &op.kind {
        OpKind::ArrayReplace { index, value } => DiscreteOp {
            id: op.id.clone(),
            no_op: op.no_op,
            kind: OpKind::ArrayInsert {
                index: *index,
                value: value.clone(),
            },
        },
        _ => op.clone(),
    }
}

fn array(s: &DiscreteOp, c: &DiscreteOp) -> Pair {
    use OpKind::*;
    match (&s.kind, &c.kind) {
        (ArraySet { values: sv }, ArraySet { values: cv }) => {
            if sv == cv {
                (s.noop(), c.noop())
            } else {
                (s.clone(), c.noop())
            }
        }
        (ArraySet { .. }, _) => (s.clone(), c.noop()),
        (_, ArraySet { .. }) => (s.noop(), c.clone()),
        (ArrayMove { .. }, ArrayMove { .. }) => move_move(s, c),
        (ArrayMove { .. }, _) => move_vs_index(s, c),
        (_, ArrayMove { .. }) => index_vs_move(s, c),
        _ => index_index(s, c),
    }
}

/// Insert / remove / replace against each other.
fn index_index(s: &DiscreteOp, c: &DiscreteOp) -> Pair {
    use OpKind::*;
    let (si, ci) = (index_of(s), index_of(c));
    match (&s.kind, &c.kind) {
        (ArrayInsert { .. }, ArrayInsert { .. }) | (ArrayInsert { .. }, ArrayRemove { .. }) => {
            if si <= ci {
                (s.clone(), at(c, ci + 1))
            } else if matches!(c.kind, ArrayInsert { .. }) {
                (at(s, si + 1), c.clone())
            } else {
                (at(s, si - 1), c.clone())
            }
        }
        (ArrayInsert { .. }, ArrayReplace { .. }) => {
            if si <= ci {
                (s.clone(), at(c, ci + 1))
            } else {
                (s.clone(), c.clone())
            }
        }
        (ArrayRemove { .. }, ArrayInsert { .. }) => {
            if si < ci {
                (s.clone(), at(c, ci - 1))
            } else {
                (at(s, si + 1), c.clone())
            }
        }
        (ArrayRemove { .. }, ArrayRemove { .. }) => {
            if si == ci {
                (s.noop(), c.noop())
            } else if si < ci {
                (s.clone(), at(c, ci - 1))
            } else {
                (at(s, si - 1), c.clone())
            }
        }
        (ArrayRemove { .. }, ArrayReplace { .. }) => {
            if si < ci {
                (s.clone(), at(c, ci - 1))
            } else if si == ci {
                (s.noop(), replace_as_insert(c))
            } else {
                (s.clone(), c.clone())
            }
        }
        (ArrayReplace { .. }, ArrayInsert { .. }) => {
            if si < ci {
                (s.clone(), c.clone())
            } else {
                (at(s, si + 1), c.clone())
            }
        }
        (ArrayReplace { .. }, ArrayRemove { .. }) => {
            if si < ci {
                (s.clone(), c.clone())
            } else if si == ci {
                (replace_as_insert(s), c.noop())
            } else {
                (at(s, si - 1), c.clone())
            }
        }
        (ArrayReplace { value: sv, .. }, ArrayReplace { value: cv, .. }) => {
            if si != ci {
                (s.clone(), c.clone())
            } else if sv != cv {
                (s.clone(), c.noop())
            } else {
                (s.noop(), c.noop())
            }
        }
        _ => (s.clone(), c.clone()),
    }
}

/// Insert / remove / replace (server) against a move (client).
fn index_vs_move(s: &DiscreteOp, c: &DiscreteOp) -> Pair {
    use RangeIndex::*;
    let m = mv(c);
    let si = index_of(s);
    let r = m.rel(si);
    match (&s.kind, m.dir()) {
        (OpKind::ArrayInsert { .. }, MoveDir::Forward) => match r {
            Before | Start => (s.clone(), moved(c, m.from + 1, m.to + 1)),
            Within | End => (at(s, si - 1), moved(c, m.from, m.to + 1)),
            After => (s.clone(), c.clone()),
        },
        (OpKind::ArrayInsert { .. }, MoveDir::Backward) => match r {
            Before | Start => (s.clone(), moved(c, m.from + 1, m.to + 1)),
            Within | End => (at(s, si + 1), moved(c, m.from + 1, m.to)),
            After => (s.clone(), c.clone()),
        },
        (OpKind::ArrayInsert { .. }, MoveDir::Identity) => match r {
            After => (s.clone(), c.clone()),
            _ => (s.clone(), moved(c, m.from + 1, m.to + 1)),
        },
        (OpKind::ArrayRemove { .. }, MoveDir::Forward) => match r {
            Before => (s.clone(), moved(c, m.from - 1, m.to - 1)),
            Start => (at(s, m.to), c.noop()),
            Within | End => (at(s, si - 1), moved(c, m.from, m.to - 1)),
            After => (s.clone(), c.clone()),
        },
        (OpKind::ArrayRemove { .. }, MoveDir::Backward) => match r {
            Before => (s.clone(), moved(c, m.from - 1, m.to - 1)),
            Start | Within => (at(s, si + 1), moved(c, m.from - 1, m.to)),
            End => (at(s, m.to), c.noop()),
            After => (s.clone(), c.clone()),
        },
        (OpKind::ArrayRemove { .. }, MoveDir::Identity) => match r {
            Before => (s.clone(), moved(c, m.from - 1, m.to - 1)),
            Start | Within | End => (s.clone(), c.noop()),
            After => (s.clone(), c.clone()),
        },
        (OpKind::ArrayReplace { .. }, MoveDir::Forward) => match r {
            Before | After => (s.clone(), c.clone()),
            Start => (at(s, m.to), c.clone()),
            Within | End => (at(s, si - 1), c.clone()),
        },
        (OpKind::ArrayReplace { .. }, MoveDir::Backward) => match r {
            Before | After => (s.clone(), c.clone()),
            End => (at(s, m.to), c.clone()),
            Within | Start => (at(s, si + 1), c.clone()),
        },
        _ => (s.clone(), c.clone()),
    }
}

/// A move (server) against insert / remove / replace (client).
fn move_vs_index(s: &DiscreteOp, c: &DiscreteOp) -> Pair {
    use RangeIndex::*;
    let m = mv(s);
    let ci = index_of(c);
    let r = m.rel(ci);
    match (&c.kind, m.dir()) {
        (OpKind::ArrayInsert { .. }, MoveDir::Forward) => match r {
            Before | Start => (moved(s, m.from + 1, m.to + 1), c.clone()),
            Within | End => (moved(s, m.from, m.to + 1), at(c, ci - 1)),
            After => (s.clone(), c.clone()),
        },
        (OpKind::ArrayInsert { .. }, MoveDir::Backward) => match r {
            Before | Start => (moved(s, m.from + 1, m.to + 1), c.clone()),
            Within | End => (moved(s, m.from + 1, m.to), at(c, ci + 1)),
            After => (s.clone(), c.clone()),
        },
        (OpKind::ArrayInsert { .. }, MoveDir::Identity) => match r {
            After => (s.clone(), c.clone()),
            _ => (moved(s, m.from + 1, m.to + 1), c.clone()),
        },
        (OpKind::ArrayRemove { .. }, MoveDir::Forward) => match r {
            Before => (moved(s, m.from - 1, m.to - 1), c.clone()),
            Start => (s.noop(), at(c, m.to)),
            Within | End => (moved(s, m.from, m.to - 1), at(c, ci - 1)),
            After => (s.clone(), c.clone()),
        },
        (OpKind::ArrayRemove { .. }, MoveDir::Backward) => match r {
            Before => (moved(s, m.from - 1, m.to - 1), c.clone()),
            Start | Within => (moved(s, m.from - 1, m.to), at(c, ci + 1)),
            End => (s.noop(), at(c, m.to)),
            After => (s.clone(), c.clone()),
        },
        (OpKind::ArrayRemove { .. }, MoveDir::Identity) => match r {
            Before => (moved(s, m.from - 1, m.to - 1), c.clone()),
            Start | Within | End => (s.noop(), c.clone()),
            After => (s.clone(), c.clone()),
        },
        (OpKind::ArrayReplace { .. }, MoveDir::Forward) => match r {
            Before | After => (s.clone(), c.clone()),
            Start => (s.clone(), at(c, m.to)),
            Within | End => (s.clone(), at(c, ci - 1)),
        },
        (OpKind::ArrayReplace { .. }, MoveDir::Backward) => match r {
            Before | After => (s.clone(), c.clone()),
            End => (s.clone(), at(c, m.to)),
            Start | Within => (s.clone(), at(c, ci + 1)),
        },
        _ => (s.clone(), c.clone()),
    }
}

fn move_move(s: &DiscreteOp, c: &DiscreteOp) -> Pair {
    use MoveDir::*;
    use RangeRelation::*;
    let (a, b) = (mv(s), mv(c));
    let rel = || range_relation(a.min(), a.max(), b.min(), b.max());
    let keep = || (s.clone(), c.clone());
    match (a.dir(), b.dir()) {
        (Forward, Forward) => match rel() {
            Precedes | PrecededBy => keep(),
            Meets | Overlaps => (moved(s, a.from, a.to - 1), moved(c, b.from - 1, b.to)),
            MetBy | OverlappedBy => (moved(s, a.from - 1, a.to), moved(c, b.from, b.to - 1)),
            Starts | StartedBy => (moved(s, b.to, a.to), c.noop()),
            Contains | FinishedBy => (s.clone(), moved(c, b.from - 1, b.to - 1)),
            ContainedBy => (moved(s, a.from - 1, a.to - 1), c.clone()),
            Finishes => (moved(s, a.from - 1, a.to), moved(c, b.from, b.to - 1)),
            EqualTo => (s.noop(), c.noop()),
        },
        (Forward, Backward) => match rel() {
            Precedes | PrecededBy => keep(),
            Meets | Overlaps => (moved(s, a.from, a.to + 1), moved(c, b.from, b.to - 1)),
            MetBy => (moved(s, b.to, a.to), c.noop()),
            OverlappedBy | StartedBy | Finishes | EqualTo => {
                (moved(s, a.from + 1, a.to), moved(c, b.from - 1, b.to))
            }
            Starts | ContainedBy => (moved(s, a.from + 1, a.to + 1), c.clone()),
            Contains | FinishedBy => (s.clone(), moved(c, b.from - 1, b.to - 1)),
        },
        (Forward, Identity) => match a.rel(b.from) {
            RangeIndex::Before | RangeIndex::After => keep(),
            RangeIndex::Start => (s.clone(), moved(c, a.to, a.to)),
            RangeIndex::Within | RangeIndex::End => (s.clone(), moved(c, b.from - 1, b.to - 1)),
        },
        (Backward, Forward) => match rel() {
            Precedes | PrecededBy => keep(),
            Meets => (moved(s, b.to, a.to), c.noop()),
            MetBy | OverlappedBy => (moved(s, a.from, a.to - 1), moved(c, b.from, b.to + 1)),
            Overlaps | Starts | FinishedBy | EqualTo => {
                (moved(s, a.from - 1, a.to), moved(c, b.from + 1, b.to))
            }
            StartedBy | Contains => (s.clone(), moved(c, b.from + 1, b.to + 1)),
            ContainedBy | Finishes => (moved(s, a.from - 1, a.to - 1), c.clone()),
        },
        (Backward, Backward) => match rel() {
            Precedes | PrecededBy => keep(),
            Meets | Overlaps => (moved(s, a.from + 1, a.to), moved(c, b.from, b.to + 1)),
            MetBy | OverlappedBy => (moved(s, a.from, a.to + 1), moved(c, b.from + 1, b.to)),
            Starts | ContainedBy => (moved(s, a.from + 1, a.to + 1), c.clone()),
            StartedBy | Contains => (s.clone(), moved(c, b.from + 1, b.to + 1)),
            Finishes | FinishedBy => (moved(s, b.to, a.to), c.noop()),
            EqualTo => (s.noop(), c.noop()),
        },
        (Backward, Identity) => match a.rel(b.from) {
            RangeIndex::Before | RangeIndex::After => keep(),
            RangeIndex::Start | RangeIndex::Within => (s.clone(), moved(c, b.from + 1, b.to + 1)),
            RangeIndex::End => (s.clone(), moved(c, a.to, a.to)),
        },
        (Identity, Forward) => match b.rel(a.from) {
            RangeIndex::Before | RangeIndex::After => keep(),
            RangeIndex::Start => (moved(s, b.to, b.to), c.clone()),
            RangeIndex::Within | RangeIndex::End => (moved(s, a.from - 1, a.to - 1), c.clone()),
        },
        (Identity, Backward) => match b.rel(a.from) {
            RangeIndex::Before | RangeIndex::After => keep(),
            RangeIndex::Start | RangeIndex::Within => (moved(s, a.from + 1, a.to + 1), c.clone()),
            RangeIndex::End => (moved(s, b.to, b.to), c.clone()),
        },
        (Identity, Identity) => keep(),
    }
}

// ---------------------------------------------------------------------------------------------
// Objects
// ---------------------------------------------------------------------------------------------

fn key_of(op: &DiscreteOp) -> Option<&JsString> {
    match &op.kind {
        OpKind::ObjectAddProperty { key, .. }
        | OpKind::ObjectSetProperty { key, .. }
        | OpKind::ObjectRemoveProperty { key } => Some(key),
        _ => None,
    }
}

fn object(s: &DiscreteOp, c: &DiscreteOp) -> Result<Pair> {
    use OpKind::*;
    match (&s.kind, &c.kind) {
        (ObjectSet { values: sv }, ObjectSet { values: cv }) => {
            return Ok(if sv == cv {
                (s.noop(), c.noop())
            } else {
                (s.clone(), c.noop())
            })
        }
        (ObjectSet { .. }, _) => return Ok((s.clone(), c.noop())),
        (_, ObjectSet { .. }) => return Ok((s.noop(), c.clone())),
        _ => {}
    }
    let (Some(sk), Some(ck)) = (key_of(s), key_of(c)) else {
        return Ok((s.clone(), c.clone()));
    };
    if sk != ck {
        return Ok((s.clone(), c.clone()));
    }
    let impossible = || {
        Err(TransformError::ImpossiblePair {
            server: s.kind.op_type().name(),
            client: c.kind.op_type().name(),
            key: sk.to_string(),
        })
    };
    match (&s.kind, &c.kind) {
        (ObjectAddProperty { value: sv, .. }, ObjectAddProperty { value: cv, .. }) => {
            Ok(if sv != cv {
                (
                    DiscreteOp {
                        id: s.id.clone(),
                        no_op: s.no_op,
                        kind: ObjectSetProperty {
                            key: sk.clone(),
                            value: sv.clone(),
                        },
                    },
                    c.noop(),
                )
            } else {
                (s.noop(), c.noop())
            })
        }
        (ObjectSetProperty { value: sv, .. }, ObjectSetProperty { value: cv, .. }) => {
            Ok(if sv != cv {
                (s.clone(), c.noop())
            } else {
                (s.noop(), c.noop())
            })
        }
        (ObjectRemoveProperty { .. }, ObjectRemoveProperty { .. }) => Ok((s.noop(), c.noop())),
        (ObjectRemoveProperty { .. }, ObjectSetProperty { value, .. }) => Ok((
            s.noop(),
            DiscreteOp {
                id: c.id.clone(),
                no_op: c.no_op,
                kind: ObjectAddProperty {
                    key: ck.clone(),
                    value: value.clone(),
                },
            },
        )),
        (ObjectSetProperty { value, .. }, ObjectRemoveProperty { .. }) => Ok((
            DiscreteOp {
                id: s.id.clone(),
                no_op: s.no_op,
                kind: ObjectAddProperty {
                    key: sk.clone(),
                    value: value.clone(),
                },
            },
            c.noop(),
        )),
        _ => impossible(),
    }
}
