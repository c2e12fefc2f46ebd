//! Evaluating a parsed query against one model: [`matches`], [`compare`] and [`project`].
//!
//! Semantics (a model field read by a query is a *query value*):
//! * A path that does not lead to a value (a missing key, an index past the end, a key into
//!   an array or a scalar) is *missing*. Arithmetic that is not defined (not two numbers or,
//!   for `+`, two strings; division or remainder by zero) gives *no value*, treated like
//!   missing.
//! * `=` holds only between values of the same type that are equal (a number never equals a
//!   string; `null = null` holds; arrays and objects compare by content, value ids ignored);
//!   `!=` is exactly its negation, so it holds when either side is missing.
//! * `< <= > >=` hold only between two numbers, two strings (UTF-16 code-unit order, as
//!   JavaScript compares), two booleans (`false < true`), two dates or two nulls; never for
//!   containers, mixed types or a missing side. A date and a number compare as epoch
//!   milliseconds (dates come from models, numbers from the query).
//! * `IN (v, …)` holds when the operand `=` one of the values; `LIKE` only matches strings.
//! * `ORDER BY` uses a total order: missing < null < false < true < numbers (NaN last) <
//!   strings (code units) < dates < arrays (element by element) < objects (entry by entry).
//!   `DESC` reverses it, so missing values come last.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BTreeMap;

use crate::ot::{Data, JsString, Value, ValueId};

use super::ast::{ArithOp, CmpOp, Expr, FieldRef, Literal, MetaField, Operand, OrderKey};
use super::ast::{Projection, Query, Segment};

/// One model as a query sees it: its metadata and its data (the root object).
#[derive(Clone, Copy, Debug)]
pub struct ModelView<'a> {
    /// Collection id (`@collection`).
    pub collection: &'a str,
    /// Model id (`@id`).
    pub id: &'a str,
    /// Model version (`@version`).
    pub version: u64,
    /// Creation time, epoch milliseconds (`@createdTime`).
    pub created_ms: i64,
    /// Time of the last change, epoch milliseconds (`@modifiedTime`).
    pub modified_ms: i64,
    /// The model's data; its root is an object.
    pub data: &'a Value,
}

/// A value a query computes with.
#[derive(Clone, Debug)]
enum QValue<'a> {
    Null,
    Bool(bool),
    Number(f64),
    String(Cow<'a, [u16]>),
    Date(i64),
    Array(&'a [Value]),
    Object(&'a BTreeMap<JsString, Value>),
}

impl<'a> QValue<'a> {
    fn of(data: &'a Data) -> Self {
        match data {
            Data::Null => QValue::Null,
            Data::Boolean(b) => QValue::Bool(*b),
            Data::Number(n) => QValue::Number(*n),
            Data::String(s) => QValue::String(Cow::Borrowed(s.units())),
            Data::Date(ms) => QValue::Date(*ms),
            Data::Array(items) => QValue::Array(items),
            Data::Object(map) => QValue::Object(map),
        }
    }

    fn literal(lit: &'a Literal) -> Self {
        match lit {
            Literal::Null => QValue::Null,
            Literal::Bool(b) => QValue::Bool(*b),
            Literal::Number(n) => QValue::Number(*n),
            Literal::String(s) => QValue::String(Cow::Borrowed(s.units())),
        }
    }

    /// Position of the type in the total order.
    fn rank(&self) -> u8 {
        match self {
            QValue::Null => 1,
            QValue::Bool(_) => 2,
            QValue::Number(_) => 3,
            QValue::String(_) => 4,
            QValue::Date(_) => 5,
            QValue::Array(_) => 6,
            QValue::Object(_) => 7,
        }
    }
}

/// True if the model satisfies the condition.
pub fn matches(expr: &Expr, m: &ModelView) -> bool {
    match expr {
        Expr::And(items) => items.iter().all(|e| matches(e, m)),
        Expr::Or(items) => items.iter().any(|e| matches(e, m)),
        Expr::Not(inner) => !matches(inner, m),
        Expr::Compare { left, op, right } => {
            condition(*op, eval(left, m).as_ref(), eval(right, m).as_ref())
        }
        Expr::In { operand, values } => match eval(operand, m) {
            Some(v) => values.iter().any(|lit| equal(&v, &QValue::literal(lit))),
            None => false,
        },
        Expr::Like { field, pattern } => match resolve(field, m) {
            Some(QValue::String(s)) => pattern.matches(&s),
            _ => false,
        },
    }
}

/// Compares two models by the `ORDER BY` keys (in the total order of the module docs).
/// Models equal on every key compare `Equal`: the caller breaks ties (e.g. by `@id`).
pub fn compare(order: &[OrderKey], a: &ModelView, b: &ModelView) -> Ordering {
    for key in order {
        let o = total_order(
            resolve(&key.field, a).as_ref(),
            resolve(&key.field, b).as_ref(),
        );
        let o = if key.descending { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

/// The data a result carries: for `*` the model's whole root object; for a field list each
/// listed field that the model has, under its result name (missing fields are left out).
/// Values are clones of the model's (ids kept); a meta field is a new value with an empty id
/// (`@id`/`@collection` strings, `@version` a number, the times dates).
pub fn project(q: &Query, m: &ModelView) -> BTreeMap<JsString, Value> {
    match &q.projection {
        Projection::All => match &m.data.data {
            Data::Object(map) => map.clone(),
            _ => BTreeMap::new(),
        },
        Projection::Fields(fields) => fields
            .iter()
            .filter_map(|f| Some((f.name.clone(), field_value(&f.field, m)?)))
            .collect(),
    }
}

/// The model's value at `field`, as a model value.
fn field_value(field: &FieldRef, m: &ModelView) -> Option<Value> {
    let data = match field {
        FieldRef::Path(path) => return lookup(path, m.data).cloned(),
        FieldRef::Meta(MetaField::Id) => Data::String(JsString::from(m.id)),
        FieldRef::Meta(MetaField::Collection) => Data::String(JsString::from(m.collection)),
        FieldRef::Meta(MetaField::Version) => Data::Number(m.version as f64),
        FieldRef::Meta(MetaField::CreatedTime) => Data::Date(m.created_ms),
        FieldRef::Meta(MetaField::ModifiedTime) => Data::Date(m.modified_ms),
    };
    Some(Value::new(ValueId::new(""), data))
}

/// Follows a data path from the root.
fn lookup<'a>(path: &[Segment], root: &'a Value) -> Option<&'a Value> {
    path.iter().try_fold(root, |v, seg| match (seg, &v.data) {
        (Segment::Key(k), Data::Object(map)) => map.get(k),
        (Segment::Index(i), Data::Array(items)) => items.get(*i),
        _ => None,
    })
}

/// The query value of `field` in `m`, or `None` if missing.
fn resolve<'a>(field: &FieldRef, m: &ModelView<'a>) -> Option<QValue<'a>> {
    let utf16 = |s: &str| QValue::String(Cow::Owned(s.encode_utf16().collect()));
    Some(match field {
        FieldRef::Path(path) => return lookup(path, m.data).map(|v| QValue::of(&v.data)),
        FieldRef::Meta(MetaField::Id) => utf16(m.id),
        FieldRef::Meta(MetaField::Collection) => utf16(m.collection),
        FieldRef::Meta(MetaField::Version) => QValue::Number(m.version as f64),
        FieldRef::Meta(MetaField::CreatedTime) => QValue::Date(m.created_ms),
        FieldRef::Meta(MetaField::ModifiedTime) => QValue::Date(m.modified_ms),
    })
}

/// Evaluates an operand; `None` is missing or no value.
fn eval<'a>(operand: &'a Operand, m: &ModelView<'a>) -> Option<QValue<'a>> {
    match operand {
        Operand::Literal(lit) => Some(QValue::literal(lit)),
        Operand::Field(f) => resolve(f, m),
        Operand::Chain { first, rest } => rest
            .iter()
            .try_fold(eval(first, m)?, |acc, (op, x)| arith(*op, acc, eval(x, m)?)),
    }
}

fn arith<'a>(op: ArithOp, a: QValue<'a>, b: QValue<'a>) -> Option<QValue<'a>> {
    match (op, a, b) {
        (ArithOp::Add, QValue::String(a), QValue::String(b)) => {
            let mut s = a.into_owned();
            s.extend_from_slice(&b);
            Some(QValue::String(Cow::Owned(s)))
        }
        (_, QValue::Number(a), QValue::Number(b)) => Some(QValue::Number(match op {
            ArithOp::Add => a + b,
            ArithOp::Sub => a - b,
            ArithOp::Mul => a * b,
            ArithOp::Div if b == 0.0 => return None,
            ArithOp::Div => a / b,
            ArithOp::Rem if b == 0.0 => return None,
            ArithOp::Rem => a % b,
        })),
        _ => None,
    }
}

/// A comparison in a condition (see the module docs).
fn condition(op: CmpOp, a: Option<&QValue>, b: Option<&QValue>) -> bool {
    let (a, b) = match (op, a, b) {
        (CmpOp::Ne, a, b) => return !condition(CmpOp::Eq, a, b),
        (_, Some(a), Some(b)) => (a, b),
        _ => return false,
    };
    if op == CmpOp::Eq {
        return equal(a, b);
    }
    let Some(o) = scalar_order(a, b) else {
        return false;
    };
    match op {
        CmpOp::Lt => o == Ordering::Less,
        CmpOp::Le => o != Ordering::Greater,
        CmpOp::Gt => o == Ordering::Greater,
        CmpOp::Ge => o != Ordering::Less,
        CmpOp::Eq | CmpOp::Ne => false,
    }
}

/// `=` of two present values.
fn equal(a: &QValue, b: &QValue) -> bool {
    match (a, b) {
        (QValue::Array(x), QValue::Array(y)) => {
            x.len() == y.len() && x.iter().zip(*y).all(|(x, y)| data_equal(&x.data, &y.data))
        }
        (QValue::Object(x), QValue::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(*y)
                    .all(|((kx, vx), (ky, vy))| kx == ky && data_equal(&vx.data, &vy.data))
        }
        _ => scalar_order(a, b) == Some(Ordering::Equal),
    }
}

fn data_equal(a: &Data, b: &Data) -> bool {
    equal(&QValue::of(a), &QValue::of(b))
}

/// The order of two scalars that a condition may compare; `None` if they are not comparable
/// (different types, containers, NaN).
fn scalar_order(a: &QValue, b: &QValue) -> Option<Ordering> {
    match (a, b) {
        (QValue::Null, QValue::Null) => Some(Ordering::Equal),
        (QValue::Bool(x), QValue::Bool(y)) => Some(x.cmp(y)),
        (QValue::Number(x), QValue::Number(y)) => x.partial_cmp(y),
        (QValue::String(x), QValue::String(y)) => Some(x.as_ref().cmp(y.as_ref())),
        (QValue::Date(x), QValue::Date(y)) => Some(x.cmp(y)),
        (QValue::Date(x), QValue::Number(y)) => (*x as f64).partial_cmp(y),
        (QValue::Number(x), QValue::Date(y)) => x.partial_cmp(&(*y as f64)),
        _ => None,
    }
}

/// The total order of `ORDER BY` (see the module docs); `None` is missing.
fn total_order(a: Option<&QValue>, b: Option<&QValue>) -> Ordering {
    let (a, b) = match (a, b) {
        (None, None) => return Ordering::Equal,
        (None, Some(_)) => return Ordering::Less,
        (Some(_), None) => return Ordering::Greater,
        (Some(a), Some(b)) => (a, b),
    };
    match (a, b) {
        (QValue::Number(x), QValue::Number(y)) => x
            .partial_cmp(y)
            .unwrap_or_else(|| x.is_nan().cmp(&y.is_nan())),
        (QValue::Array(x), QValue::Array(y)) => lexicographic(x.len(), y.len(), |i| {
            total_order(Some(&QValue::of(&x[i].data)), Some(&QValue::of(&y[i].data)))
        }),
        (QValue::Object(x), QValue::Object(y)) => {
            let (xs, ys): (Vec<_>, Vec<_>) = (x.iter().collect(), y.iter().collect());
            lexicographic(xs.len(), ys.len(), |i| {
                let ((kx, vx), (ky, vy)) = (xs[i], ys[i]);
                kx.units().cmp(ky.units()).then_with(|| {
                    total_order(Some(&QValue::of(&vx.data)), Some(&QValue::of(&vy.data)))
                })
            })
        }
        _ => scalar_order(a, b)
            .filter(|_| a.rank() == b.rank())
            .unwrap_or_else(|| a.rank().cmp(&b.rank())),
    }
}

/// Compares two sequences of lengths `a` and `b` whose `i`th elements compare as `item(i)`.
fn lexicographic(a: usize, b: usize, item: impl Fn(usize) -> Ordering) -> Ordering {
    (0..a.min(b))
        .map(item)
        .find(|o| *o != Ordering::Equal)
        .unwrap_or_else(|| a.cmp(&b))
}
