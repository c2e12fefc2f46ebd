//! The parsed form of a query. Built only by [`super::parse`], which enforces the limits, so
//! every tree here is at most [`super::MAX_DEPTH`] parentheses deep.

use crate::ot::JsString;

use super::like::LikePattern;

/// A parsed `SELECT … FROM … [WHERE …] [ORDER BY …] [LIMIT n] [OFFSET n]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    /// What each result carries: the whole data (`*`) or the listed fields.
    pub projection: Projection,
    /// The collection id after `FROM`, exactly as written.
    pub collection: String,
    /// The `WHERE` condition; `None` selects every model of the collection.
    pub filter: Option<Expr>,
    /// The `ORDER BY` keys, most significant first (empty: the caller's default order).
    pub order: Vec<OrderKey>,
    /// `LIMIT n`.
    pub limit: Option<u32>,
    /// `OFFSET n`.
    pub offset: Option<u32>,
}

/// The `SELECT` list.
#[derive(Clone, Debug, PartialEq)]
pub enum Projection {
    /// `SELECT *`: the model's whole data.
    All,
    /// `SELECT f [AS name], …`: at most [`super::MAX_FIELDS`] fields with distinct names.
    Fields(Vec<ProjectedField>),
}

/// One entry of a `SELECT` list.
#[derive(Clone, Debug, PartialEq)]
pub struct ProjectedField {
    /// The field to read.
    pub field: FieldRef,
    /// The key it is returned under: the `AS` name, or the field's text as written
    /// (`` `odd name`.x `` keeps its backquotes; `@id` is returned as `@id`).
    pub name: JsString,
}

/// A field of a model: a meta field or a path into its data.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum FieldRef {
    /// `@id`, `@version`, …: a property of the model rather than of its data.
    Meta(MetaField),
    /// A path from the root object of the data, e.g. `address.city` or `tags[0]`.
    Path(Vec<Segment>),
}

/// The model properties a query can name with `@`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MetaField {
    /// `@id`: the model id (a string).
    Id,
    /// `@version`: the model version (a number).
    Version,
    /// `@createdTime`: creation time (a date).
    CreatedTime,
    /// `@modifiedTime`: time of the last change (a date).
    ModifiedTime,
    /// `@collection`: the collection id (a string).
    Collection,
}

impl MetaField {
    /// Every meta field, in documentation order.
    pub const ALL: [MetaField; 5] = [
        MetaField::Id,
        MetaField::Version,
        MetaField::CreatedTime,
        MetaField::ModifiedTime,
        MetaField::Collection,
    ];

    /// The name as written in a query, `@` included.
    pub fn name(self) -> &'static str {
        match self {
            MetaField::Id => "@id",
            MetaField::Version => "@version",
            MetaField::CreatedTime => "@createdTime",
            MetaField::ModifiedTime => "@modifiedTime",
            MetaField::Collection => "@collection",
        }
    }

    /// The meta field written `name` (`@` included; case-sensitive), if any.
    pub fn from_name(name: &str) -> Option<MetaField> {
        MetaField::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// One step of a data path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Segment {
    /// `.name` (or the first name): a property of an object.
    Key(JsString),
    /// `[n]`: an element of an array.
    Index(usize),
}

/// A scalar written in the query text.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer or decimal; the protocol has no integer type, so both are doubles.
    Number(f64),
    /// A quoted string, escapes resolved (see the module docs).
    String(JsString),
}

/// A condition of `WHERE`. `And`/`Or` hold two or more items (a single one is not wrapped).
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// Every item holds.
    And(Vec<Expr>),
    /// At least one item holds.
    Or(Vec<Expr>),
    /// `NOT …`.
    Not(Box<Expr>),
    /// `left op right`.
    Compare {
        /// The left operand.
        left: Operand,
        /// The comparison.
        op: CmpOp,
        /// The right operand.
        right: Operand,
    },
    /// `operand IN (v, …)`: the operand equals one of the values.
    In {
        /// The tested operand.
        operand: Operand,
        /// The candidates (at least one).
        values: Vec<Literal>,
    },
    /// `field LIKE 'pattern'`.
    Like {
        /// The tested field.
        field: FieldRef,
        /// The compiled pattern.
        pattern: LikePattern,
    },
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CmpOp {
    /// The operator that gives the same result with the operands swapped (`<` becomes `>`).
    pub fn flipped(self) -> CmpOp {
        match self {
            CmpOp::Eq => CmpOp::Eq,
            CmpOp::Ne => CmpOp::Ne,
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
        }
    }
}

/// An arithmetic operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArithOp {
    /// `+` (numbers; also concatenates two strings)
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%` (remainder with the sign of the dividend, as in JavaScript)
    Rem,
}

/// A side of a comparison.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    /// A literal.
    Literal(Literal),
    /// A field of the model.
    Field(FieldRef),
    /// `first op₁ x₁ op₂ x₂ …`, evaluated left to right. The parser builds one chain per
    /// precedence level (`+ -` chains hold `* / %` chains), so precedence is in the nesting
    /// and a long chain costs no recursion.
    Chain {
        /// The leftmost operand.
        first: Box<Operand>,
        /// The following operators and operands (at least one).
        rest: Vec<(ArithOp, Operand)>,
    },
}

/// One key of `ORDER BY`.
#[derive(Clone, Debug, PartialEq)]
pub struct OrderKey {
    /// The field compared.
    pub field: FieldRef,
    /// `DESC`/`DESCENDING`.
    pub descending: bool,
}
