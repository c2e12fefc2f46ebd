//! Conformance of evaluation: a fixed set of eight small models, and tables of queries with
//! the models each must select, in which order, and what each projection returns.

use std::collections::BTreeMap;

use crate::ot::{Data, JsString, Value, ValueId};

use super::*;

/// A model's metadata and data, owned (a [`ModelView`] borrows from it).
pub(super) struct Model {
    pub(super) id: &'static str,
    pub(super) collection: &'static str,
    pub(super) version: u64,
    pub(super) created: i64,
    pub(super) modified: i64,
    pub(super) data: Value,
}

impl Model {
    pub(super) fn view(&self) -> ModelView<'_> {
        ModelView {
            collection: self.collection,
            id: self.id,
            version: self.version,
            created_ms: self.created,
            modified_ms: self.modified,
            data: &self.data,
        }
    }
}

fn v(data: Data) -> Value {
    Value::new(ValueId::new("v"), data)
}
fn s(text: &str) -> Data {
    Data::String(JsString::from(text))
}
fn n(x: f64) -> Data {
    Data::Number(x)
}
fn arr(items: Vec<Data>) -> Data {
    Data::Array(items.into_iter().map(v).collect())
}
fn obj(entries: Vec<(&str, Data)>) -> Data {
    Data::Object(
        entries
            .into_iter()
            .map(|(k, d)| (JsString::from(k), v(d)))
            .collect(),
    )
}

type Meta = (&'static str, &'static str, u64, i64, i64);

fn model(meta: Meta, entries: Vec<(&str, Data)>) -> Model {
    let (id, collection, version, created, modified) = meta;
    let mut data = v(obj(entries));
    data.id = ValueId::new(format!("{id}:root"));
    Model {
        id,
        collection,
        version,
        created,
        modified,
        data,
    }
}

/// The eight models of every table below (ids `a` to `h`).
pub(super) fn models() -> Vec<Model> {
    let lone = Data::String(JsString::from_units(vec![0x78, 0xD83D]));
    vec![
        model(
            ("a", "notes", 3, 1000, 5000),
            vec![
                ("title", s("Alpha")),
                ("n", n(1.0)),
                ("price", n(9.5)),
                ("tags", arr(vec![s("x"), s("y")])),
                ("owner", obj(vec![("name", s("bob")), ("age", n(30.0))])),
                ("done", Data::Boolean(false)),
                ("@type", s("memo")),
                ("odd name", n(7.0)),
                ("when", Data::Date(1500)),
                ("nul", Data::Null),
            ],
        ),
        model(
            ("b", "notes", 1, 2000, 2000),
            vec![
                ("title", s("beta")),
                ("n", n(2.0)),
                ("tags", arr(vec![s("y")])),
                ("owner", obj(vec![("name", s("alice")), ("age", n(25.0))])),
                ("done", Data::Boolean(true)),
                ("100%", s("yes")),
                ("when", Data::Date(3000)),
                ("s", s("100%")),
            ],
        ),
        model(
            ("c", "notes", 10, 3000, 9000),
            vec![
                ("title", s("Gamma ray")),
                ("n", n(10.0)),
                ("tags", arr(vec![])),
                ("done", Data::Boolean(true)),
                ("nul", Data::Null),
                ("s", s("50% off")),
                ("u", s("a_b")),
            ],
        ),
        model(
            ("d", "notes", 2, 4000, 4000),
            vec![
                ("title", s("😀 smile")),
                ("n", n(-3.0)),
                ("owner", obj(vec![("name", s("bob"))])),
                ("mixed", s("10")),
                ("u", s("axb")),
            ],
        ),
        model(
            ("e", "other", 5, 5000, 6000),
            vec![("title", n(5.0)), ("n", n(2.5)), ("mixed", n(10.0))],
        ),
        model(("f", "notes", 0, 6000, 6000), vec![]),
        model(
            ("g", "notes", 7, 7000, 7000),
            vec![
                ("title", lone),
                ("n", n(0.0)),
                ("mixed", Data::Boolean(true)),
            ],
        ),
        model(
            ("h", "notes", 4, 8000, 8000),
            vec![
                ("title", s("Über")),
                ("n", n(100.0)),
                ("mixed", Data::Null),
                (
                    "arr",
                    arr(vec![arr(vec![n(1.0), n(2.0)]), obj(vec![("k", n(1.0))])]),
                ),
            ],
        ),
    ]
}

fn parsed(text: &str) -> Query {
    match parse(text) {
        Ok(q) => q,
        Err(e) => panic!("{text:?} did not parse: {e} (expected {:?})", e.expected),
    }
}

/// The ids of the models matching `SELECT * FROM notes WHERE <cond>`, space-separated.
fn selected(cond: &str) -> String {
    let q = parsed(&format!("SELECT * FROM notes WHERE {cond}"));
    let Some(filter) = &q.filter else {
        panic!("{cond:?} has no filter")
    };
    let all = models();
    let hits: Vec<&str> = all
        .iter()
        .filter(|m| matches(filter, &m.view()))
        .map(|m| m.id)
        .collect();
    // Every constraint sargable() derives must hold for every selected model.
    for c in sargable(filter) {
        let check = match c.op {
            ConstraintOp::In => Expr::In {
                operand: Operand::Field(c.field.clone()),
                values: c.values.clone(),
            },
            op => Expr::Compare {
                left: Operand::Field(c.field.clone()),
                op: match op {
                    ConstraintOp::Eq => CmpOp::Eq,
                    ConstraintOp::Lt => CmpOp::Lt,
                    ConstraintOp::Le => CmpOp::Le,
                    ConstraintOp::Gt => CmpOp::Gt,
                    _ => CmpOp::Ge,
                },
                right: Operand::Literal(c.values[0].clone()),
            },
        };
        for m in all.iter().filter(|m| hits.contains(&m.id)) {
            assert!(
                matches(&check, &m.view()),
                "{cond:?}: {c:?} fails on {}",
                m.id
            );
        }
    }
    hits.join(" ")
}

/// The ids of all models ordered by `ORDER BY <keys>` and then by id.
fn ordered(keys: &str) -> String {
    let q = parsed(&format!("SELECT * FROM notes ORDER BY {keys}"));
    let all = models();
    let mut views: Vec<ModelView> = all.iter().map(Model::view).collect();
    views.sort_by(|a, b| compare(&q.order, a, b).then_with(|| a.id.cmp(b.id)));
    views.iter().map(|m| m.id).collect::<Vec<_>>().join(" ")
}

fn check_table(table: &[(&str, &str)]) {
    let mut failures = Vec::new();
    for (cond, want) in table {
        let got = selected(cond);
        if got != *want {
            failures.push(format!("{cond:?}: want [{want}], got [{got}]"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

const ALL: &str = "a b c d e f g h";

#[test]
fn comparisons() {
    check_table(&[
        ("n = 1", "a"),
        ("n = 1.0", "a"),
        ("n = 1e0", "a"),
        ("n != 1", "b c d e f g h"),
        ("n > 2", "c e h"),
        ("n >= 2", "b c e h"),
        ("n < 1", "d g"),
        ("n <= 1", "a d g"),
        ("1 = n", "a"),
        ("2 < n", "c e h"),
        ("n = -3", "d"),
        ("n = n", "a b c d e g h"),
        ("title = 'Alpha'", "a"),
        ("title = \"Alpha\"", "a"),
        ("title = 'alpha'", ""),
        ("title = 5", "e"),
        ("title = '5'", ""),
        ("title != '5'", ALL),
        ("title > 'B'", "b c d g h"),
        ("title < 'b'", "a c"),
        // Code-unit order: the surrogate 0xD83D of 😀 sorts before U+FF5E.
        ("title < '～'", "a b c d g h"),
        ("done = true", "b c"),
        ("done = false", "a"),
        ("done < true", "a"),
        ("done > false", "b c"),
        ("done >= false", "a b c"),
        ("nul = null", "a c"),
        ("nul <= null", "a c"),
        ("nul != null", "b d e f g h"),
        ("missing = null", ""),
        ("missing != 1", ALL),
        ("missing < 1", ""),
        ("mixed = 10", "e"),
        ("mixed = '10'", "d"),
        ("mixed > 5", "e"),
        ("mixed = true", "g"),
        ("mixed = null", "h"),
        ("n > 'a'", ""),
        ("done > 0", ""),
    ]);
}

#[test]
fn dates_and_meta_fields() {
    check_table(&[
        ("when > 2000", "b"),
        ("when < 2000", "a"),
        ("when = 1500", "a"),
        ("when != 1500", "b c d e f g h"),
        ("when > 'x'", ""),
        ("@createdTime >= 5000", "e f g h"),
        ("@modifiedTime = 9000", "c"),
        ("@createdTime = @modifiedTime", "b d f g h"),
        ("@modifiedTime - @createdTime > 0", ""),
        ("@id = 'c'", "c"),
        ("@id IN ('a', 'h', 'zz')", "a h"),
        ("@id > 'f'", "g h"),
        ("@version > 3", "c e g h"),
        ("@version = 0", "f"),
        ("@version * 2 = 20", "c"),
        ("@collection = 'other'", "e"),
        ("@collection != 'notes'", "e"),
        ("@@type = 'memo'", "a"),
        ("`@type` = 'memo'", "a"),
        ("`odd name` = 7", "a"),
        ("`100%` = 'yes'", "b"),
    ]);
}

#[test]
fn paths_and_containers() {
    check_table(&[
        ("owner.name = 'bob'", "a d"),
        ("owner.age > 26", "a"),
        ("owner.`name` = 'alice'", "b"),
        ("tags[0] = 'y'", "b"),
        ("tags[1] = 'y'", "a"),
        ("tags[5] = 'y'", ""),
        ("arr[0][1] = 2", "h"),
        ("arr[1].k = 1", "h"),
        ("arr.k = 1", ""),
        ("n.x = 1", ""),
        ("owner[0] = 1", ""),
        ("tags = tags", "a b c"),
        ("owner = owner", "a b d"),
        ("tags < tags", ""),
        ("tags <= tags", ""),
        ("tags = 'x'", ""),
        ("tags[0] = tags[1]", ""),
    ]);
}

#[test]
fn arithmetic() {
    check_table(&[
        ("n + 1 = 2", "a"),
        ("n-1 = 0", "a"),
        ("n - -3 = 0", "d"),
        ("n * 2 + 1 = 21", "c"),
        ("1 + n * 2 = 21", "c"),
        ("(1 + n) * 2 = 22", "c"),
        ("2 * (n + 1) = 4", "a"),
        ("n - 2 - 3 = 5", "c"),
        ("n / 4 = 2.5", "c"),
        ("100 / n / 5 = 2", "c"),
        ("n % 3 = 1", "a c h"),
        ("n % 3 = 0", "d g"),
        ("n / 0 = 1", ""),
        ("n / 0 != 1", ALL),
        ("n % 0 = 0", ""),
        ("title + '!' = 'Alpha!'", "a"),
        ("'<' + title + \">\" = '<beta>'", "b"),
        ("title + 1 = 6", "e"),
        ("title + 1 = 'Alpha1'", ""),
        ("title - 'a' = 'Alph'", ""),
        ("n * 2 > n", "a b c e h"),
        ("done + 1 = 2", ""),
        ("when + 1 = 1501", ""),
        ("(((n))) = 1", "a"),
    ]);
}

#[test]
fn logic_and_precedence() {
    check_table(&[
        ("n = 1 OR n = 2 AND done = false", "a"),
        ("(n = 1 OR n = 2) AND done = true", "b"),
        ("n = 2 AND done = true OR n = 1", "a b"),
        ("NOT n = 1", "b c d e f g h"),
        ("NOT (n = 1 OR n = 2)", "c d e f g h"),
        ("NOT n > 0 AND n > -5", "d g"),
        ("n > 0 and n < 5 or title = 5", "a b e"),
        ("n > 0 AND (n < 5 OR title = 5)", "a b e"),
        ("((n = 1))", "a"),
        ("NOT (NOT (n = 1))", "a"),
        ("NOT missing = 1", ALL),
        ("n = 1 OR n = 2 OR n = 10", "a b c"),
        ("n > 0 AND n < 50 AND done = true", "b c"),
        ("(n = 1) OR (n = 100)", "a h"),
    ]);
}

#[test]
fn in_lists() {
    check_table(&[
        ("n IN (1, 2, 100)", "a b h"),
        ("n IN (1)", "a"),
        ("title IN ('Alpha', 5)", "a e"),
        ("nul IN (null)", "a c"),
        ("NOT n IN (1)", "b c d e f g h"),
        ("n + 1 IN (2, 3)", "a b"),
        ("done in (true, 'true')", "b c"),
        ("mixed IN ('10', 10)", "d e"),
        ("missing IN (null)", ""),
    ]);
}

#[test]
fn like_patterns() {
    check_table(&[
        ("title LIKE 'A%'", "a"),
        ("title LIKE '%a'", "a b"),
        ("title LIKE '%a%'", "a b c"),
        ("title LIKE '_eta'", "b"),
        ("title LIKE 'gamma%'", ""),
        ("title like 'Gamma_ray'", "c"),
        ("s LIKE '100\\%'", "b"),
        ("s LIKE '%\\%%'", "b c"),
        ("s LIKE '50\\% off'", "c"),
        ("s LIKE '50\\%'", ""),
        ("u LIKE 'a\\_b'", "c"),
        ("u LIKE 'a_b'", "c d"),
        ("title LIKE '😀%'", "d"),
        ("title LIKE '_ smile'", "d"),
        ("title LIKE '__ smile'", ""),
        ("title LIKE 'x_'", "g"),
        ("title LIKE 'x'", ""),
        ("title LIKE 'Ü%'", "h"),
        ("title LIKE \"%\"", "a b c d g h"),
        ("n LIKE '%'", ""),
        ("missing LIKE '%'", ""),
        ("@id LIKE '_'", ALL),
        ("@collection LIKE 'not%'", "a b c d f g h"),
        ("NOT title LIKE 'A%'", "b c d e f g h"),
        ("`100%` LIKE 'y%' AND n = 2", "b"),
    ]);
}

#[test]
fn ordering() {
    let table = [
        ("n", "f d g a b e c h"),
        ("n ASC", "f d g a b e c h"),
        ("n DESC", "h c e b a g d f"),
        ("n descending", "h c e b a g d f"),
        ("title", "f e a c b g h d"),
        ("mixed", "a b c f h g e d"),
        ("mixed DESC", "d e g h a b c f"),
        ("done DESC, @id DESC", "c b a h g f e d"),
        ("@version", "f b d a h e g c"),
        ("@createdTime DESC", "h g f e d c b a"),
        ("@modifiedTime, @id DESC", "b d a f e g h c"),
        ("@collection DESC", "e a b c d f g h"),
        ("tags", "d e f g h c a b"),
        ("when ASC", "c d e f g h a b"),
        ("nul DESCENDING, n ASCENDING", "a c f d g b e h"),
        ("owner", "c e f g h b a d"),
        ("owner.name, n DESC", "h c e g f b a d"),
        ("`odd name` DESC", "a b c d e f g h"),
        ("arr", "a b c d e f g h"),
    ];
    let mut failures = Vec::new();
    for (keys, want) in table {
        let got = ordered(keys);
        if got != want {
            failures.push(format!("{keys:?}: want [{want}], got [{got}]"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn order_by_accepts_any_whitespace() {
    let q = parsed("SELECT * FROM notes ORDER \n\t BY n DESC");
    assert_eq!(q.order.len(), 1);
    assert!(q.order[0].descending);
    let q = parsed("SELECT * FROM notes order   by n");
    assert!(!q.order[0].descending);
}

fn projection(text: &str, id: &str) -> BTreeMap<String, Data> {
    let q = parsed(text);
    let all = models();
    let Some(m) = all.iter().find(|m| m.id == id) else {
        panic!("no model {id}")
    };
    project(&q, &m.view())
        .into_iter()
        .map(|(k, v)| (k.to_string_lossy(), v.data))
        .collect()
}

fn expect(entries: Vec<(&str, Data)>) -> BTreeMap<String, Data> {
    entries
        .into_iter()
        .map(|(k, d)| (k.to_owned(), d))
        .collect()
}

#[test]
fn projections() {
    let text = "SELECT title, n AS num, owner.name, missing, @id, @version AS v, tags[1], \
                @createdTime, @collection AS c FROM notes";
    assert_eq!(
        projection(text, "a"),
        expect(vec![
            ("title", s("Alpha")),
            ("num", n(1.0)),
            ("owner.name", s("bob")),
            ("@id", s("a")),
            ("v", n(3.0)),
            ("tags[1]", s("y")),
            ("@createdTime", Data::Date(1000)),
            ("c", s("notes")),
        ])
    );
    assert_eq!(
        projection(text, "f"),
        expect(vec![
            ("@id", s("f")),
            ("v", n(0.0)),
            ("@createdTime", Data::Date(6000)),
            ("c", s("notes")),
        ]),
        "fields missing from the model are left out"
    );
    assert_eq!(
        projection(
            "SELECT `odd name`, @@type, owner AS `the owner` FROM notes",
            "a"
        ),
        expect(vec![
            ("`odd name`", n(7.0)),
            ("@@type", s("memo")),
            ("the owner", obj(vec![("name", s("bob")), ("age", n(30.0))])),
        ])
    );
    assert_eq!(
        projection("SELECT @modifiedTime AS m FROM notes", "c"),
        expect(vec![("m", Data::Date(9000))])
    );
}

#[test]
fn select_star_returns_the_data_with_ids() {
    let all = models();
    let q = parsed("SELECT * FROM notes");
    for m in &all {
        let got = project(&q, &m.view());
        let Data::Object(want) = &m.data.data else {
            panic!("root is not an object")
        };
        assert_eq!(&got, want, "model {}", m.id);
    }
    let q = parsed("SELECT title FROM notes");
    let got = project(&q, &all[0].view());
    let Data::Object(root) = &all[0].data.data else {
        panic!("root is not an object")
    };
    assert_eq!(
        got.get(&JsString::from("title")),
        root.get(&JsString::from("title"))
    );
}

#[test]
fn long_chains_evaluate_without_deep_recursion() {
    let ands = vec!["n = 1"; 3000].join(" AND ");
    assert_eq!(selected(&ands), "a");
    let ors = vec!["n = 7"; 3000].join(" OR ") + " OR n = 2";
    assert_eq!(selected(&ors), "b");
    let sum = format!("n{} = 3001", " + 1".repeat(3000));
    assert_eq!(selected(&sum), "a");
    let nested = format!("{}n{} = 1", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    assert_eq!(selected(&nested), "a");
}
