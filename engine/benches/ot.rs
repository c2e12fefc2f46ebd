//! Criterion benchmarks of the pure OT core: transformation and application.

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use tandem::model::concurrency::Concurrency;
use tandem::ot::{transform, Data, DiscreteOp, Document, OpKind, Operation, Value};

fn splice(index: i64, delete: i64, insert: &str) -> Operation {
    Operation::Discrete(DiscreteOp::new(
        "t",
        OpKind::StringSplice {
            index,
            delete_count: delete,
            insert: insert.into(),
        },
    ))
}

fn doc_with_text(len: usize) -> Document {
    let mut root = BTreeMap::new();
    root.insert(
        "text".into(),
        Value::new("t", Data::String("x".repeat(len).into())),
    );
    Document::new(Value::new("root", Data::Object(root))).expect("doc")
}

fn benches(c: &mut Criterion) {
    c.bench_function("transform splice insert vs remove", |b| {
        let s = splice(10, 0, "abc");
        let cl = splice(5, 20, "");
        b.iter(|| transform(black_box(&s), black_box(&cl)))
    });
    c.bench_function("transform array move vs move", |b| {
        let s = Operation::Discrete(DiscreteOp::new("a", OpKind::ArrayMove { from: 2, to: 9 }));
        let cl = Operation::Discrete(DiscreteOp::new("a", OpKind::ArrayMove { from: 7, to: 1 }));
        b.iter(|| transform(black_box(&s), black_box(&cl)))
    });
    c.bench_function("transform compound(4) vs compound(4)", |b| {
        let part = |i| {
            DiscreteOp::new(
                "t",
                OpKind::StringSplice {
                    index: i,
                    delete_count: 0,
                    insert: "z".into(),
                },
            )
        };
        let s = Operation::Compound((0..4).map(part).collect());
        let cl = Operation::Compound((2..6).map(part).collect());
        b.iter(|| transform(black_box(&s), black_box(&cl)))
    });
    c.bench_function("apply one-char insert into 100 KB text", |b| {
        let mut doc = doc_with_text(100_000);
        let mut i = 0i64;
        b.iter(|| {
            i = (i + 7919) % 100_000;
            doc.apply(splice(i, 0, "y")).expect("apply");
            doc.apply(splice(i, 1, "")).expect("apply");
        })
    });
    c.bench_function("concurrency: transform against 16 foreign ops", |b| {
        let mut cc = Concurrency::new(1, 1000);
        cc.track(1);
        cc.track(2);
        for i in 0..16 {
            let p = cc.process(2, 1 + i, splice(0, 0, "q")).expect("process");
            let op = std::sync::Arc::new(p.op.clone());
            cc.commit(p, op);
        }
        b.iter(|| cc.process(1, 1, splice(3, 0, "w")).expect("process"))
    });
}

criterion_group!(ot, benches);
criterion_main!(ot);
