//! Text to [`Query`]: the pest grammar (`grammar.pest`) recognises the text, and the functions
//! here turn its parse tree into the AST, resolving escapes and checking what the grammar
//! cannot (meta field names, limits, duplicate result names).
//!
//! Escapes: in a quoted string, `\'` (in `'…'`), `\"` (in `"…"`) and `\\` stand for the
//! character; any other backslash is kept with the character after it, so `'100\%'` reaches
//! `LIKE` as `100\%`. Backquoted names resolve `` \` `` and `\\` the same way.

use pest::error::{ErrorVariant, InputLocation};
use pest::iterators::{Pair, Pairs};
use pest::Parser as _;
use pest_derive::Parser;

use crate::ot::JsString;

use super::ast::{
    ArithOp, CmpOp, Expr, FieldRef, Literal, MetaField, Operand, OrderKey, ProjectedField,
    Projection, Query, Segment,
};
use super::error::{utf16_index, QueryError};
use super::like::LikePattern;
use super::limits::{pre_scan, MAX_FIELDS};

#[derive(Parser)]
#[grammar = "query/grammar.pest"]
struct QueryGrammar;

/// Parses a query. Never panics; any text that is not a query, or that breaks a limit, gives
/// a [`QueryError`] whose `index` (UTF-16 code units) points at the problem.
pub fn parse(text: &str) -> Result<Query, QueryError> {
    pre_scan(text)?;
    let mut pairs = QueryGrammar::parse(Rule::query, text).map_err(|e| syntax_error(text, &e))?;
    let b = Builder { text };
    let query = b.next(&mut pairs, 0)?;
    b.query(query)
}

/// Converts pest's error (a byte position and the rules tried there) into a [`QueryError`].
fn syntax_error(text: &str, e: &pest::error::Error<Rule>) -> QueryError {
    let byte = match e.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((start, _)) => start,
    };
    let index = utf16_index(text, byte);
    if let Some(quote) = unterminated(text, byte) {
        let what = if quote == '`' { "name" } else { "string" };
        return QueryError {
            index,
            expected: vec![format!("closing {quote}")],
            message: format!("unterminated {what} at {index}"),
        };
    }
    match &e.variant {
        ErrorVariant::ParsingError { positives, .. } if !positives.is_empty() => {
            let mut expected: Vec<String> = Vec::new();
            for name in positives.iter().map(|r| describe(*r)) {
                if !expected.iter().any(|e| e == name) {
                    expected.push(name.to_owned());
                }
            }
            QueryError::expected(index, expected)
        }
        ErrorVariant::ParsingError { .. } => QueryError::invalid(index, "unexpected input"),
        ErrorVariant::CustomError { message } => QueryError::invalid(index, message),
    }
}

/// The quote at `byte`, if it opens a string or name that never closes.
fn unterminated(text: &str, byte: usize) -> Option<char> {
    let mut chars = text.get(byte..)?.chars();
    let quote = chars.next().filter(|c| matches!(c, '\'' | '"' | '`'))?;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            c if c == quote => return None,
            _ => {}
        }
    }
    Some(quote)
}

/// How an error message names what a rule accepts.
fn describe(rule: Rule) -> &'static str {
    match rule {
        Rule::EOI => "end of query",
        Rule::kw_select => "SELECT",
        Rule::kw_from => "FROM",
        Rule::kw_where => "WHERE",
        Rule::kw_order | Rule::order_clause => "ORDER BY",
        Rule::kw_by => "BY",
        Rule::kw_limit | Rule::limit_clause => "LIMIT",
        Rule::kw_offset | Rule::offset_clause => "OFFSET",
        Rule::kw_and => "AND",
        Rule::kw_or => "OR",
        Rule::kw_not => "NOT",
        Rule::kw_like => "LIKE",
        Rule::kw_in | Rule::in_list => "IN",
        Rule::kw_as => "AS",
        Rule::kw_asc | Rule::kw_desc | Rule::direction => "ASC or DESC",
        Rule::fields => "'*' or a field",
        Rule::star => "'*'",
        Rule::collection => "collection",
        Rule::where_clause => "WHERE",
        Rule::expr | Rule::and_expr | Rule::term | Rule::cond | Rule::like_cond => "condition",
        Rule::sum | Rule::prod => "expression",
        Rule::value => "value",
        Rule::literal => "literal",
        Rule::number | Rule::count | Rule::digits => "number",
        Rule::string | Rule::sq_text | Rule::dq_text => "string",
        Rule::cmp_op => "comparison operator",
        Rule::add_op | Rule::mul_op => "arithmetic operator",
        Rule::lparen => "'('",
        Rule::rparen => "')'",
        Rule::comma => "','",
        Rule::dot_name => "'.'",
        Rule::index => "'['",
        Rule::name
        | Rule::backquoted
        | Rule::bq_text
        | Rule::bare_name
        | Rule::bare_chars
        | Rule::keyword => "name",
        Rule::projected
        | Rule::order_key
        | Rule::field
        | Rule::meta_field
        | Rule::data_path
        | Rule::at_name => "field",
        Rule::query => "query",
        Rule::kw_true | Rule::kw_false | Rule::kw_null => "literal",
        // Silent rules; pest never reports them.
        Rule::WHITESPACE | Rule::factor | Rule::bare_char | Rule::special => "input",
    }
}

/// Builds the AST from the parse tree of `text`.
struct Builder<'t> {
    text: &'t str,
}

type Res<T> = Result<T, QueryError>;

impl<'t> Builder<'t> {
    /// The byte offset where `pair` starts (converted to UTF-16 only for an error: the
    /// conversion is linear in the text, and a long query has many pairs).
    fn at(&self, pair: &Pair<'t, Rule>) -> usize {
        pair.as_span().start()
    }

    /// An error that is not about syntax at byte offset `byte`.
    fn invalid(&self, byte: usize, what: impl std::fmt::Display) -> QueryError {
        QueryError::invalid(utf16_index(self.text, byte), what)
    }

    /// The next pair; its absence means the tree does not have the grammar's shape.
    fn next(&self, pairs: &mut Pairs<'t, Rule>, at: usize) -> Res<Pair<'t, Rule>> {
        pairs
            .next()
            .ok_or_else(|| self.invalid(at, "internal error: unexpected parse tree"))
    }

    /// The first inner pair of `pair`.
    fn first(&self, pair: Pair<'t, Rule>) -> Res<Pair<'t, Rule>> {
        let at = self.at(&pair);
        self.next(&mut pair.into_inner(), at)
    }

    fn query(&self, pair: Pair<'t, Rule>) -> Res<Query> {
        let mut q = Query {
            projection: Projection::All,
            collection: String::new(),
            filter: None,
            order: Vec::new(),
            limit: None,
            offset: None,
        };
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::fields => q.projection = self.fields(part)?,
                Rule::collection => q.collection = part.as_str().to_owned(),
                Rule::where_clause => {
                    let mut inner = part.into_inner().filter(|p| p.as_rule() == Rule::expr);
                    if let Some(e) = inner.next() {
                        q.filter = Some(self.filter(e)?);
                    }
                }
                Rule::order_clause => q.order = self.order(part)?,
                Rule::limit_clause => q.limit = Some(self.count(part)?),
                Rule::offset_clause => q.offset = Some(self.count(part)?),
                _ => {}
            }
        }
        Ok(q)
    }

    fn fields(&self, pair: Pair<'t, Rule>) -> Res<Projection> {
        let mut out: Vec<ProjectedField> = Vec::new();
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::star => return Ok(Projection::All),
                Rule::projected => {
                    let at = self.at(&part);
                    if out.len() == MAX_FIELDS {
                        let msg = format!("more than {MAX_FIELDS} fields selected");
                        return Err(self.invalid(at, msg));
                    }
                    let field = self.projected(part)?;
                    if out.iter().any(|f| f.name == field.name) {
                        let msg = format!("duplicate result name {}", field.name);
                        return Err(self.invalid(at, msg));
                    }
                    out.push(field);
                }
                _ => {}
            }
        }
        Ok(Projection::Fields(out))
    }

    fn projected(&self, pair: Pair<'t, Rule>) -> Res<ProjectedField> {
        let at = self.at(&pair);
        let mut inner = pair.into_inner();
        let field_pair = self.next(&mut inner, at)?;
        let written = JsString::from(field_pair.as_str());
        let field = self.field(field_pair)?;
        let name = match inner.find(|p| p.as_rule() == Rule::name) {
            Some(n) => self.name(n)?,
            None => written,
        };
        Ok(ProjectedField { field, name })
    }

    fn field(&self, pair: Pair<'t, Rule>) -> Res<FieldRef> {
        let inner = self.first(pair)?;
        if inner.as_rule() == Rule::meta_field {
            return MetaField::from_name(inner.as_str())
                .map(FieldRef::Meta)
                .ok_or_else(|| {
                    let msg = format!("unknown meta field {}", inner.as_str());
                    self.invalid(self.at(&inner), msg)
                });
        }
        let mut path = Vec::new();
        for part in inner.into_inner() {
            let segment = match part.as_rule() {
                // `@@name` is the data property `@name`.
                Rule::at_name => Segment::Key(JsString::from(&part.as_str()[1..])),
                Rule::name => Segment::Key(self.name(part)?),
                Rule::dot_name => Segment::Key(self.name(self.first(part)?)?),
                Rule::index => {
                    let digits = self.first(part)?;
                    let i = digits
                        .as_str()
                        .parse::<usize>()
                        .map_err(|_| self.invalid(self.at(&digits), "array index too large"))?;
                    Segment::Index(i)
                }
                _ => continue,
            };
            path.push(segment);
        }
        Ok(FieldRef::Path(path))
    }

    /// A bare or backquoted name.
    fn name(&self, pair: Pair<'t, Rule>) -> Res<JsString> {
        let inner = self.first(pair)?;
        match inner.as_rule() {
            Rule::backquoted => Ok(unescape(self.first(inner)?.as_str(), '`')),
            _ => Ok(JsString::from(inner.as_str())),
        }
    }

    fn string(&self, pair: Pair<'t, Rule>) -> Res<JsString> {
        let quote = if pair.as_str().starts_with('"') {
            '"'
        } else {
            '\''
        };
        Ok(unescape(self.first(pair)?.as_str(), quote))
    }

    fn literal(&self, pair: Pair<'t, Rule>) -> Res<Literal> {
        let inner = self.first(pair)?;
        Ok(match inner.as_rule() {
            Rule::string => Literal::String(self.string(inner)?),
            Rule::kw_true => Literal::Bool(true),
            Rule::kw_false => Literal::Bool(false),
            Rule::kw_null => Literal::Null,
            _ => {
                let n = inner.as_str().parse::<f64>();
                Literal::Number(n.map_err(|_| self.invalid(self.at(&inner), "bad number"))?)
            }
        })
    }

    fn count(&self, pair: Pair<'t, Rule>) -> Res<u32> {
        let at = self.at(&pair);
        let number = pair
            .into_inner()
            .find(|p| p.as_rule() == Rule::count)
            .ok_or_else(|| self.invalid(at, "internal error: missing count"))?;
        number.as_str().parse::<u32>().map_err(|_| {
            let msg = format!("number larger than {}", u32::MAX);
            self.invalid(self.at(&number), msg)
        })
    }

    fn order(&self, pair: Pair<'t, Rule>) -> Res<Vec<OrderKey>> {
        let mut keys = Vec::new();
        for key in pair.into_inner().filter(|p| p.as_rule() == Rule::order_key) {
            let at = self.at(&key);
            let mut inner = key.into_inner();
            let field = self.field(self.next(&mut inner, at)?)?;
            let descending = match inner.next() {
                Some(dir) => self.first(dir)?.as_rule() == Rule::kw_desc,
                None => false,
            };
            keys.push(OrderKey { field, descending });
        }
        Ok(keys)
    }

    /// The `WHERE` condition.
    fn filter(&self, pair: Pair<'t, Rule>) -> Res<Expr> {
        self.node(pair)?.into_cond(self)
    }

    /// Any rule of the condition and arithmetic grammar, as a condition or an operand.
    fn node(&self, pair: Pair<'t, Rule>) -> Res<Node> {
        let (start, end) = span(&pair);
        let item = match pair.as_rule() {
            Rule::expr | Rule::and_expr => return self.logic(pair),
            Rule::term => return self.term(pair),
            Rule::cond => return self.cond(pair),
            Rule::sum | Rule::prod => return self.chain(pair),
            Rule::like_cond => Item::Cond(self.like(pair)?),
            Rule::value => {
                let inner = self.first(pair)?;
                Item::Value(match inner.as_rule() {
                    Rule::field => Operand::Field(self.field(inner)?),
                    _ => Operand::Literal(self.literal(inner)?),
                })
            }
            _ => return Err(self.invalid(start, "internal error: unexpected rule")),
        };
        Ok(Node { item, start, end })
    }

    /// `expr` (OR of ANDs) or `and_expr` (AND of terms); one item is passed through as is.
    fn logic(&self, pair: Pair<'t, Rule>) -> Res<Node> {
        let (start, end) = span(&pair);
        let is_or = pair.as_rule() == Rule::expr;
        let mut nodes = Vec::new();
        for part in pair.into_inner() {
            if matches!(part.as_rule(), Rule::and_expr | Rule::term) {
                nodes.push(self.node(part)?);
            }
        }
        if nodes.len() == 1 {
            return nodes
                .pop()
                .ok_or_else(|| self.invalid(start, "internal error: empty expression"));
        }
        let items = nodes
            .into_iter()
            .map(|n| n.into_cond(self))
            .collect::<Res<Vec<_>>>()?;
        let item = Item::Cond(if is_or {
            Expr::Or(items)
        } else {
            Expr::And(items)
        });
        Ok(Node { item, start, end })
    }

    fn term(&self, pair: Pair<'t, Rule>) -> Res<Node> {
        let (start, end) = span(&pair);
        let mut negate = false;
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::kw_not => negate = true,
                Rule::cond if negate => {
                    let inner = self.node(part)?.into_cond(self)?;
                    let item = Item::Cond(Expr::Not(Box::new(inner)));
                    return Ok(Node { item, start, end });
                }
                Rule::cond => return self.node(part),
                _ => {}
            }
        }
        Err(self.invalid(start, "internal error: empty term"))
    }

    /// A comparison, `IN`, `LIKE`, or (passed through) a lone operand.
    fn cond(&self, pair: Pair<'t, Rule>) -> Res<Node> {
        let (start, end) = span(&pair);
        let mut inner = pair.into_inner();
        let left = self.node(self.next(&mut inner, start)?)?;
        let Some(op_or_list) = inner.next() else {
            return Ok(left);
        };
        let left = left.into_operand(self)?;
        let expr = if op_or_list.as_rule() == Rule::in_list {
            let values = op_or_list
                .into_inner()
                .filter(|p| p.as_rule() == Rule::literal)
                .map(|p| self.literal(p))
                .collect::<Res<Vec<_>>>()?;
            Expr::In {
                operand: left,
                values,
            }
        } else {
            let op = match op_or_list.as_str() {
                "=" => CmpOp::Eq,
                "!=" => CmpOp::Ne,
                "<" => CmpOp::Lt,
                "<=" => CmpOp::Le,
                ">" => CmpOp::Gt,
                _ => CmpOp::Ge,
            };
            let right = self
                .node(self.next(&mut inner, start)?)?
                .into_operand(self)?;
            Expr::Compare { left, op, right }
        };
        Ok(Node {
            item: Item::Cond(expr),
            start,
            end,
        })
    }

    fn like(&self, pair: Pair<'t, Rule>) -> Res<Expr> {
        let at = self.at(&pair);
        let mut inner = pair.into_inner();
        let field = self.field(self.next(&mut inner, at)?)?;
        let string = inner
            .find(|p| p.as_rule() == Rule::string)
            .ok_or_else(|| self.invalid(at, "internal error: LIKE without pattern"))?;
        let pattern = LikePattern::new(self.string(string)?);
        Ok(Expr::Like { field, pattern })
    }

    /// A `sum` or `prod`: its operands joined by operators; one operand is passed through.
    fn chain(&self, pair: Pair<'t, Rule>) -> Res<Node> {
        let (start, end) = span(&pair);
        let mut nodes = Vec::new();
        let mut ops = Vec::new();
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::add_op | Rule::mul_op => ops.push(arith_op(part.as_str())),
                Rule::sum | Rule::prod | Rule::value | Rule::expr => nodes.push(self.node(part)?),
                _ => {}
            }
        }
        if nodes.len() == 1 {
            return nodes
                .pop()
                .ok_or_else(|| self.invalid(start, "internal error: empty chain"));
        }
        let mut operands = nodes.into_iter().map(|n| n.into_operand(self));
        let first = operands
            .next()
            .ok_or_else(|| self.invalid(start, "internal error: empty chain"))??;
        let rest = ops
            .into_iter()
            .zip(operands)
            .map(|(op, x)| Ok((op, x?)))
            .collect::<Res<Vec<_>>>()?;
        let item = Item::Value(Operand::Chain {
            first: Box::new(first),
            rest,
        });
        Ok(Node { item, start, end })
    }
}

/// A parsed piece of the condition grammar, which only its context makes a condition
/// (`WHERE`, `AND`, `OR`, `NOT`) or an operand (arithmetic, comparison). `start` and `end`
/// are byte offsets.
struct Node {
    item: Item,
    start: usize,
    end: usize,
}

enum Item {
    Cond(Expr),
    Value(Operand),
}

impl Node {
    /// This piece as a condition: an operand alone is not one.
    fn into_cond(self, b: &Builder) -> Res<Expr> {
        match self.item {
            Item::Cond(e) => Ok(e),
            Item::Value(_) => {
                let expected = ["comparison operator", "arithmetic operator", "LIKE", "IN"];
                let expected = expected.iter().map(|s| (*s).to_owned()).collect();
                Err(QueryError::expected(
                    utf16_index(b.text, self.end),
                    expected,
                ))
            }
        }
    }

    /// This piece as an operand: a condition cannot be one.
    fn into_operand(self, b: &Builder) -> Res<Operand> {
        match self.item {
            Item::Value(v) => Ok(v),
            Item::Cond(_) => Err(b.invalid(self.start, "a condition cannot be used as a value")),
        }
    }
}

/// The byte range of `pair`, without the whitespace that pest leaves at its end.
fn span(pair: &Pair<'_, Rule>) -> (usize, usize) {
    let start = pair.as_span().start();
    (start, start + pair.as_str().trim_end().len())
}

fn arith_op(text: &str) -> ArithOp {
    match text {
        "+" => ArithOp::Add,
        "-" => ArithOp::Sub,
        "*" => ArithOp::Mul,
        "/" => ArithOp::Div,
        _ => ArithOp::Rem,
    }
}

/// Resolves `\<quote>` and `\\`; keeps every other backslash with its character.
fn unescape(text: &str, quote: char) -> JsString {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(e) if e == quote || e == '\\' => out.push(e),
            Some(e) => {
                out.push('\\');
                out.push(e);
            }
            None => out.push('\\'),
        }
    }
    JsString::from(out)
}
