//! The model query language: parse a query's text once, then evaluate it against models.
//! Pure code: no store, no network, no clocks. The query service runs [`parse`](crate::query::parse), walks the
//! collection (narrowed with [`sargable()`](crate::query::sargable) where an index helps), keeps the models that
//! [`matches`](crate::query::matches) accepts, sorts them with [`compare`](crate::query::compare) (then by `@id`), pages them with
//! `limit`/`offset` and returns [`project`](crate::query::project) of each.
//!
//! The language is Convergence's (see `reference/convergence-server.md` §6):
//!
//! ```text
//! query      := SELECT fields FROM collection [WHERE expr] [ORDER BY order {, order}]
//!               [LIMIT n] [OFFSET n]
//! fields     := '*' | field [AS name] {, field [AS name]}
//! expr       := and {OR and};  and := term {AND term};  term := [NOT] ('(' expr ')' | cond)
//! cond       := sum (= | != | > | < | >= | <=) sum | sum IN (literal {, literal})
//!               | field LIKE string
//! sum        := prod {(+|-) prod};  prod := factor {(*|/|%) factor};  factor := value | '(' sum ')'
//! value      := string | true | false | null | number | field
//! field      := @meta | name {'.' name | '[' digits ']'}    name := `backquoted` | bare | @@bare
//! order      := field [ASC | ASCENDING | DESC | DESCENDING]
//! ```
//!
//! Keywords are case-insensitive and reserved (a field called `order` is written
//! `` `order` ``); any whitespace may separate `ORDER` and `BY`. Meta fields are `@id`,
//! `@version`, `@createdTime`, `@modifiedTime` and `@collection`; a data property whose
//! name starts with `@` is written `@@name`. Bare names are runs of characters other than
//! whitespace and `. [ ] ( ) ` ' " , = ! < > + - * / %`, not starting with a digit or `@`.
//! A collection id is any run of non-whitespace characters other than quotes and backquotes.
//! Numbers are written like `-12`, `3.5` or `1e3`; all are doubles. Escapes in strings and
//! backquoted names are described in `parser.rs`, the evaluation rules in `eval.rs`.
//!
//! Leniencies beyond the original: `IN`, `null`, parentheses on either side of `* / %`, any
//! whitespace in `ORDER BY`, and `@collection`/`@createdTime`/`@modifiedTime`. The original
//! allowed meta fields only in `WHERE` and `ORDER BY`; here a projection may name them too.
//!
//! Limits ([`MAX_QUERY_BYTES`](crate::query::MAX_QUERY_BYTES), [`MAX_DEPTH`](crate::query::MAX_DEPTH), [`MAX_FIELDS`](crate::query::MAX_FIELDS), `LIMIT`/`OFFSET` within
//! `u32`) are errors with a position, never panics: evaluation recurses only as deep as the
//! parentheses (and, for container equality and order, the model's own nesting).

mod ast;
mod error;
mod eval;
mod like;
mod limits;
mod parser;
mod sargable;

pub use ast::{
    ArithOp, CmpOp, Expr, FieldRef, Literal, MetaField, Operand, OrderKey, ProjectedField,
    Projection, Query, Segment,
};
pub use error::QueryError;
pub use eval::{compare, matches, project, ModelView};
pub use like::LikePattern;
pub use limits::{MAX_DEPTH, MAX_FIELDS, MAX_QUERY_BYTES};
pub use parser::parse;
pub use sargable::{sargable, Constraint, ConstraintOp};

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_errors;
