//! What an index planner may use from a filter: the constraints every matching model meets.
//!
//! [`sargable`] collects comparisons `field op literal` (or `literal op field`, the operator
//! flipped) and `field IN (…)` from the top-level conjunction of the filter (nested ANDs
//! included). An `OR`, a `NOT`, a `!=`, an arithmetic operand or a comparison between two
//! fields contributes nothing. Each constraint is implied by the filter, so using them as a
//! pre-filter never loses a model; the full filter must still be applied to the candidates.
//!
//! A constraint holds under the query's own comparison rules (see `eval.rs`): `Eq 5` is
//! met by the number 5 *and* by the date 5 ms after the epoch; `Lt 'b'` only by strings; an
//! `Eq null` only by a present null. A planner whose index orders values differently must
//! map these rules onto its own order.

use super::ast::{CmpOp, Expr, FieldRef, Literal, Operand};

/// The relation a [`Constraint`] requires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConstraintOp {
    /// The field equals the one value.
    Eq,
    /// The field is less than the one value.
    Lt,
    /// The field is less than or equal to the one value.
    Le,
    /// The field is greater than the one value.
    Gt,
    /// The field is greater than or equal to the one value.
    Ge,
    /// The field equals one of the values.
    In,
}

/// A condition on one field that every model matching the filter satisfies.
#[derive(Clone, Debug, PartialEq)]
pub struct Constraint {
    /// The constrained field.
    pub field: FieldRef,
    /// The relation.
    pub op: ConstraintOp,
    /// One value, or the candidates of `In`.
    pub values: Vec<Literal>,
}

/// The constraints implied by `filter`, in the order they are written (see the module docs).
pub fn sargable(filter: &Expr) -> Vec<Constraint> {
    let mut out = Vec::new();
    collect(filter, &mut out);
    out
}

fn collect(e: &Expr, out: &mut Vec<Constraint>) {
    match e {
        Expr::And(items) => items.iter().for_each(|item| collect(item, out)),
        Expr::Compare { left, op, right } => {
            let found = match (left, right) {
                (Operand::Field(f), Operand::Literal(l)) => Some((f, *op, l)),
                (Operand::Literal(l), Operand::Field(f)) => Some((f, op.flipped(), l)),
                _ => None,
            };
            let Some((field, op, value)) = found else {
                return;
            };
            let op = match op {
                CmpOp::Eq => ConstraintOp::Eq,
                CmpOp::Lt => ConstraintOp::Lt,
                CmpOp::Le => ConstraintOp::Le,
                CmpOp::Gt => ConstraintOp::Gt,
                CmpOp::Ge => ConstraintOp::Ge,
                CmpOp::Ne => return,
            };
            out.push(Constraint {
                field: field.clone(),
                op,
                values: vec![value.clone()],
            });
        }
        Expr::In {
            operand: Operand::Field(field),
            values,
        } => out.push(Constraint {
            field: field.clone(),
            op: ConstraintOp::In,
            values: values.clone(),
        }),
        Expr::In { .. } | Expr::Or(_) | Expr::Not(_) | Expr::Like { .. } => {}
    }
}
