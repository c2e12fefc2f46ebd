//! Parsing: the shape of the AST, malformed queries with their error positions, the limits,
//! `sargable`, and a property test that no input panics.

use proptest::prelude::*;

use crate::ot::JsString;

use super::tests::models;
use super::*;

fn parsed(text: &str) -> Query {
    match parse(text) {
        Ok(q) => q,
        Err(e) => panic!("{text:?} did not parse: {e}"),
    }
}

fn key(name: &str) -> Segment {
    Segment::Key(JsString::from(name))
}

fn path(names: &[&str]) -> FieldRef {
    FieldRef::Path(names.iter().map(|n| key(n)).collect())
}

fn num(x: f64) -> Literal {
    Literal::Number(x)
}

fn string(text: &str) -> Literal {
    Literal::String(JsString::from(text))
}

fn filter(cond: &str) -> Expr {
    match parsed(&format!("SELECT * FROM c WHERE {cond}")).filter {
        Some(e) => e,
        None => panic!("no filter in {cond:?}"),
    }
}

#[test]
fn the_reference_example() {
    let q =
        parsed("SELECT * FROM notes WHERE owner = 'bob' ORDER BY @version DESC LIMIT 10 OFFSET 5");
    assert_eq!(q.projection, Projection::All);
    assert_eq!(q.collection, "notes");
    assert_eq!(
        q.filter,
        Some(Expr::Compare {
            left: Operand::Field(path(&["owner"])),
            op: CmpOp::Eq,
            right: Operand::Literal(string("bob")),
        })
    );
    assert_eq!(
        q.order,
        vec![OrderKey {
            field: FieldRef::Meta(MetaField::Version),
            descending: true,
        }]
    );
    assert_eq!((q.limit, q.offset), (Some(10), Some(5)));
}

#[test]
fn keywords_are_case_insensitive_and_collections_are_raw() {
    let q = parsed(
        "sElEcT a.b[2].`c d` As x FrOm my-coll.v2/x;(y) wHeRe a = 1 OrDeR bY a DeSc LiMiT 1",
    );
    assert_eq!(q.collection, "my-coll.v2/x;(y)");
    let Projection::Fields(fields) = &q.projection else {
        panic!("expected fields")
    };
    assert_eq!(fields[0].name, "x");
    assert_eq!(
        fields[0].field,
        FieldRef::Path(vec![key("a"), key("b"), Segment::Index(2), key("c d")])
    );
    assert!(q.order[0].descending);
    assert_eq!(q.limit, Some(1));
    assert_eq!(
        parsed("SELECT * FROM c LIMIT 4294967295").limit,
        Some(u32::MAX)
    );
    assert_eq!(parsed("SELECT * FROM c OFFSET 0").offset, Some(0));
    assert_eq!(parsed("SELECT *FROM c").collection, "c");
}

#[test]
fn literals_and_escapes() {
    let right = |cond: &str| match filter(cond) {
        Expr::Compare {
            right: Operand::Literal(l),
            ..
        } => l,
        other => panic!("{cond:?} gave {other:?}"),
    };
    assert_eq!(right(r"a = 'it\'s'"), string("it's"));
    assert_eq!(right(r#"a = "say \"hi\"""#), string("say \"hi\""));
    assert_eq!(right(r#"a = "it's""#), string("it's"));
    assert_eq!(right(r"a = 'a\\b'"), string("a\\b"));
    assert_eq!(
        right(r"a = '100\%'"),
        string("100\\%"),
        "other escapes are kept"
    );
    assert_eq!(right("a = 'é😀'"), string("é😀"));
    assert_eq!(right("a = ''"), string(""));
    assert_eq!(right("a = -2.5"), num(-2.5));
    assert_eq!(right("a = 1e3"), num(1000.0));
    assert_eq!(
        right("a = 12345678901234567890"),
        num(12345678901234567890.0)
    );
    assert_eq!(right("a = TRUE"), Literal::Bool(true));
    assert_eq!(right("a = false"), Literal::Bool(false));
    assert_eq!(right("a = Null"), Literal::Null);
    let Expr::Compare {
        left: Operand::Field(f),
        ..
    } = filter(r"`a\`b\\` = 1")
    else {
        panic!("expected a field")
    };
    assert_eq!(f, path(&["a`b\\"]));
    let Expr::Compare {
        left: Operand::Field(f),
        ..
    } = filter("@@x.y = 1")
    else {
        panic!("expected a field")
    };
    assert_eq!(f, path(&["@x", "y"]));
    assert_eq!(
        filter("trueish = 1"),
        filter("`trueish` = 1"),
        "a keyword prefix does not make a keyword"
    );
}

#[test]
fn every_meta_field_parses() {
    for meta in MetaField::ALL {
        let e = filter(&format!("{} = 1", meta.name()));
        let Expr::Compare { left, .. } = e else {
            panic!("expected a comparison")
        };
        assert_eq!(left, Operand::Field(FieldRef::Meta(meta)));
        assert_eq!(MetaField::from_name(meta.name()), Some(meta));
    }
}

#[test]
fn arithmetic_precedence_is_in_the_nesting() {
    let Expr::Compare { left, .. } = filter("a + b * 2 - c = 1") else {
        panic!("expected a comparison")
    };
    let field = |n: &str| Operand::Field(path(&[n]));
    assert_eq!(
        left,
        Operand::Chain {
            first: Box::new(field("a")),
            rest: vec![
                (
                    ArithOp::Add,
                    Operand::Chain {
                        first: Box::new(field("b")),
                        rest: vec![(ArithOp::Mul, Operand::Literal(num(2.0)))],
                    }
                ),
                (ArithOp::Sub, field("c")),
            ],
        }
    );
}

#[test]
fn and_binds_tighter_than_or() {
    let e = filter("a = 1 OR b = 2 AND c = 3");
    let Expr::Or(items) = e else {
        panic!("expected OR")
    };
    assert_eq!(items.len(), 2);
    assert!(matches!(&items[1], Expr::And(inner) if inner.len() == 2));
    assert!(matches!(filter("NOT (a = 1)"), Expr::Not(_)));
}

/// Malformed queries: the UTF-16 index of the error and one thing it must say it expected
/// (or, for errors that are not about syntax, a part of the message).
const MALFORMED: &[(&str, usize, &str)] = &[
    ("", 0, "SELECT"),
    ("SELEC * FROM n", 0, "SELECT"),
    ("SELECT * notes", 9, "FROM"),
    ("SELECT * FROMnotes", 9, "FROM"),
    ("SELECT FROM notes", 7, "'*' or a field"),
    ("SELECT a, FROM n", 10, "field"),
    ("SELECT a AS FROM n", 12, "name"),
    ("SELECT *, a FROM n", 8, "FROM"),
    ("SELECT order FROM n", 7, "'*' or a field"),
    ("SELECT * FROM", 13, "collection"),
    ("SELECT * FROM n WHERE", 21, "condition"),
    ("SELECT * FROM n WHERE a == 1", 25, "expression"),
    ("SELECT * FROM n WHERE a ~ 1", 24, "comparison operator"),
    ("SELECT * FROM n WHERE a = 'abc", 26, "closing '"),
    ("SELECT * FROM n WHERE a = \"abc\\\"", 26, "closing \""),
    ("SELECT * FROM n WHERE `abc = 1", 22, "closing `"),
    ("SELECT * FROM n WHERE (a = 1", 28, "')'"),
    ("SELECT * FROM n WHERE a = (1 + 2", 32, "')'"),
    ("SELECT * FROM n WHERE a = 1 AND", 31, "condition"),
    ("SELECT * FROM n WHERE a", 23, "comparison operator"),
    (
        "SELECT * FROM n WHERE a + 1 ORDER BY a",
        27,
        "comparison operator",
    ),
    ("SELECT * FROM n WHERE NOT a", 27, "comparison operator"),
    (
        "SELECT * FROM n WHERE a = 1 AND (b)",
        34,
        "comparison operator",
    ),
    (
        "SELECT * FROM n WHERE (a = 1) + 2 = 3",
        23,
        "a condition cannot be used as a value",
    ),
    (
        "SELECT * FROM n WHERE a = (b = 1)",
        27,
        "a condition cannot be used as a value",
    ),
    ("SELECT * FROM n WHERE NOT", 25, "condition"),
    ("SELECT * FROM n WHERE a LIKE 5", 29, "string"),
    ("SELECT * FROM n WHERE a IN ()", 28, "literal"),
    ("SELECT * FROM n WHERE a IN (1, b)", 31, "literal"),
    ("SELECT * FROM n WHERE a[x] = 1", 24, "number"),
    ("SELECT * FROM n WHERE a = 1 b", 28, "end of query"),
    ("SELECT * FROM n LIMIT 5 xyz", 24, "end of query"),
    ("SELECT * FROM n LIMIT x", 22, "number"),
    ("SELECT * FROM n LIMIT -1", 22, "number"),
    (
        "SELECT * FROM n LIMIT 4294967296",
        22,
        "larger than 4294967295",
    ),
    (
        "SELECT * FROM n OFFSET 99999999999999999999",
        23,
        "larger than",
    ),
    ("SELECT * FROM n OFFSET 2 LIMIT 3", 25, "end of query"),
    ("SELECT * FROM n ORDER BY", 24, "field"),
    ("SELECT * FROM n ORDER a", 22, "BY"),
    ("SELECT * FROM n ORDER BY a UP", 27, "ASC or DESC"),
    ("SELECT @foo FROM n", 7, "unknown meta field @foo"),
    (
        "SELECT * FROM n WHERE @nope = 1",
        22,
        "unknown meta field @nope",
    ),
    ("SELECT * FROM n ORDER BY @ID", 25, "unknown meta field @ID"),
    (
        "SELECT * FROM n WHERE a[99999999999999999999999] = 1",
        24,
        "array index too large",
    ),
    ("SELECT a, b AS a FROM n", 10, "duplicate result name a"),
    // UTF-16 positions: 'é' is one code unit, '😀' two.
    ("SELECT * FROM n WHERE é = 'x' AND (b", 36, "')'"),
    ("SELECT * FROM n WHERE `😀` = 'x' OR", 35, "condition"),
];

#[test]
fn malformed_queries_report_where_and_what() {
    let mut failures = Vec::new();
    for (text, index, what) in MALFORMED {
        match parse(text) {
            Ok(q) => failures.push(format!("{text:?} parsed: {q:?}")),
            Err(e) => {
                let said = e.expected.iter().any(|x| x == what) || e.message.contains(what);
                if e.index != *index || !said || !e.message.ends_with(&format!("at {index}")) {
                    failures.push(format!("{text:?}: want {what:?} at {index}, got {e:?}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn error_messages_read_well() {
    let e = parse("SELECT * notes").err();
    assert_eq!(e.map(|e| e.message), Some("expected FROM at 9".to_owned()));
    let e = parse("SELECT * FROM n WHERE a = 'abc").err();
    assert_eq!(
        e.map(|e| e.to_string()),
        Some("unterminated string at 26".to_owned())
    );
}

#[test]
fn field_limit() {
    let fields = |n: usize| {
        (0..n)
            .map(|i| format!("f{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let q = parsed(&format!("SELECT {} FROM c", fields(MAX_FIELDS)));
    assert!(matches!(q.projection, Projection::Fields(f) if f.len() == MAX_FIELDS));
    let text = format!("SELECT {} FROM c", fields(MAX_FIELDS + 1));
    let e = parse(&text).err();
    let at = text.find(&format!("f{MAX_FIELDS}")).unwrap_or(0);
    assert_eq!(e.map(|e| e.index), Some(at));
}

#[test]
fn depth_limit() {
    let nested = |d: usize| {
        format!(
            "SELECT * FROM c WHERE {}a = 1{}",
            "(".repeat(d),
            ")".repeat(d)
        )
    };
    assert!(parse(&nested(MAX_DEPTH)).is_ok());
    let e = parse(&nested(MAX_DEPTH + 1)).err();
    assert_eq!(e.map(|e| e.index), Some(22 + MAX_DEPTH));
    let arith = format!(
        "SELECT * FROM c WHERE {}1{} = 1",
        "(".repeat(MAX_DEPTH),
        ")".repeat(MAX_DEPTH)
    );
    assert!(parse(&arith).is_ok());
    // Far past the limit, in every shape: an error, never a stack overflow.
    for open in ["(", "NOT (", "a = (", "(1 + "] {
        let text = format!("SELECT * FROM c WHERE {}", open.repeat(12_000));
        assert!(parse(&text).is_err());
    }
    let in_string = format!("SELECT * FROM c WHERE a = '{}'", "(".repeat(1000));
    assert!(
        parse(&in_string).is_ok(),
        "parentheses inside strings do not nest"
    );
}

#[test]
fn length_limit() {
    let head = "SELECT * FROM c WHERE a = '";
    let fill = MAX_QUERY_BYTES - head.len() - 1;
    let text = format!("{head}{}'", "x".repeat(fill));
    assert!(parse(&text).is_ok());
    let text = format!("{head}{}'", "x".repeat(fill + 1));
    assert_eq!(parse(&text).err().map(|e| e.index), Some(MAX_QUERY_BYTES));
}

#[test]
fn sargable_constraints() {
    let c =
        |field: FieldRef, op: ConstraintOp, values: Vec<Literal>| Constraint { field, op, values };
    let e = filter(
        "a = 1 AND 5 < b AND c IN (1, 'x') AND d != 3 AND (e = 1 OR f = 2) AND NOT g = 1 \
         AND h + 1 = 2 AND i = j AND (k >= 'x' AND null <= l) AND m LIKE 'x%' AND 2 > @version",
    );
    assert_eq!(
        sargable(&e),
        vec![
            c(path(&["a"]), ConstraintOp::Eq, vec![num(1.0)]),
            c(path(&["b"]), ConstraintOp::Gt, vec![num(5.0)]),
            c(path(&["c"]), ConstraintOp::In, vec![num(1.0), string("x")]),
            c(path(&["k"]), ConstraintOp::Ge, vec![string("x")]),
            c(path(&["l"]), ConstraintOp::Ge, vec![Literal::Null]),
            c(
                FieldRef::Meta(MetaField::Version),
                ConstraintOp::Lt,
                vec![num(2.0)]
            ),
        ]
    );
    assert_eq!(sargable(&filter("a = 1 OR b = 2")), vec![]);
    assert_eq!(sargable(&filter("NOT a = 1")), vec![]);
    assert_eq!(
        sargable(&filter("a <= 3")),
        vec![c(path(&["a"]), ConstraintOp::Le, vec![num(3.0)])]
    );
    assert_eq!(
        sargable(&filter("(@id = 'x')")),
        vec![c(
            FieldRef::Meta(MetaField::Id),
            ConstraintOp::Eq,
            vec![string("x")]
        )]
    );
    assert_eq!(sargable(&filter("1 = 1")), vec![]);
}

/// Fragments that make random text look like queries, so the property test reaches deep.
const FRAGMENTS: &[&str] = &[
    "SELECT ",
    "* ",
    "FROM ",
    "c ",
    "WHERE ",
    "ORDER BY ",
    "LIMIT ",
    "OFFSET ",
    "AND ",
    "OR ",
    "NOT ",
    "LIKE ",
    "IN ",
    "AS ",
    "DESC ",
    "(",
    ")",
    "'",
    "\"",
    "`",
    "\\",
    ", ",
    "= ",
    "!= ",
    "< ",
    ">= ",
    "+ ",
    "- ",
    "* ",
    "/ ",
    "% ",
    "a",
    ".b",
    "[0]",
    "[",
    "]",
    "@id ",
    "@x ",
    "@@y ",
    "1 ",
    "-2.5 ",
    "1e400 ",
    "true ",
    "null ",
    "'%_\\%' ",
    "😀",
    "\u{FFFF}",
    " ",
];

fn query_like() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 0..40).prop_map(|parts| parts.concat())
}

/// Runs every evaluation entry point of a parsed query over the test models.
fn exercise(q: &Query) {
    let all = models();
    for m in &all {
        if let Some(f) = &q.filter {
            let _ = matches(f, &m.view());
            let _ = sargable(f);
        }
        let _ = project(q, &m.view());
        let _ = compare(&q.order, &m.view(), &all[0].view());
    }
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        if let Err(e) = parse(&text) {
            prop_assert!(e.index <= text.encode_utf16().count());
        }
    }

    #[test]
    fn query_like_text_never_panics(body in query_like()) {
        for text in [format!("SELECT * FROM c WHERE {body}"), format!("SELECT {body}"), body] {
            match parse(&text) {
                Ok(q) => exercise(&q),
                Err(e) => {
                    prop_assert!(e.index <= text.encode_utf16().count());
                    let suffix = format!("at {}", e.index);
                    prop_assert!(e.message.ends_with(&suffix));
                }
            }
        }
    }
}

/// Shapes that once made parsing cost depth × length (each parenthesis tried first as a
/// condition, then re-parsed as arithmetic); the grammar now parses each level once. Checked
/// by outcome here; in a debug build each takes well under a second.
#[test]
fn worst_case_shapes_parse() {
    let (open, close) = ("(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    let long_sum = " + a".repeat(12_000);
    let ok = [
        format!("SELECT * FROM c WHERE {open}a{long_sum}{close} = 1"),
        format!("SELECT * FROM c WHERE a IN ({}1)", "1, ".repeat(15_000)),
        format!("SELECT * FROM c WHERE {}a = 1", "a = 1 OR ".repeat(7_000)),
    ];
    for text in &ok {
        assert!(parse(text).is_ok(), "{} bytes", text.len());
    }
    let bad = [
        format!("SELECT * FROM c WHERE {open}a{long_sum}{close}"),
        format!("SELECT * FROM c WHERE {open}{}", "a".repeat(60_000)),
        format!("SELECT * FROM c WHERE {}", "NOT (".repeat(MAX_DEPTH)),
        format!("SELECT {} FROM c", "a.".repeat(30_000)),
    ];
    for text in &bad {
        assert!(parse(text).is_err(), "{} bytes", text.len());
    }
}
