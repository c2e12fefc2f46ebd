//! Model queries over a large collection: TANDEM_QUERY_MODELS (100,000) models of note-like
//! JSON in one collection of an LMDB engine, then each query run TANDEM_QUERY_RUNS (200) times
//! as the host: a selective equality, a range with ORDER BY and LIMIT 20 (on the range's field,
//! then on another field, which reads every match's data), and a query that matches nothing. Prints p50 and p99 latency per query. Figures go in docs/PERFORMANCE.md;
//! nothing here fails on a figure.

use std::time::{Duration, Instant};

use serde_json::json;
use tandem::api::{Engine, EngineConfig};

const CITIES: [&str; 8] = [
    "Lyon", "Oslo", "Lima", "Pune", "Kyiv", "Graz", "Cork", "Nara",
];

fn note(n: u64) -> serde_json::Value {
    json!({
        "title": format!("Note {n}"),
        "owner": format!("user{}", n % 5000),
        "stars": n % 100,
        "price": (n % 997) as f64 * 1.25,
        "done": n % 3 == 0,
        "tags": [format!("t{}", n % 17), format!("t{}", n % 29)],
        "address": {"city": CITIES[(n % 8) as usize], "zip": format!("{:05}", n % 90_000)},
        "text": format!("Lorem ipsum dolor sit amet {n}, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua."),
    })
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn main() {
    let models = env_u64("TANDEM_QUERY_MODELS", 100_000);
    let runs = env_u64("TANDEM_QUERY_RUNS", 200) as usize;
    let dir = tempfile::tempdir().expect("dir");
    let engine = Engine::open(EngineConfig::with_data_dir(dir.path())).expect("engine");
    let d = engine
        .block(engine.create_domain("bench", "q"))
        .expect("domain");
    engine
        .block(d.create_collection("notes"))
        .expect("collection");
    let started = Instant::now();
    let mut n = 0;
    while n < models {
        let chunk: Vec<u64> = (n..(n + 500).min(models)).collect();
        n += chunk.len() as u64;
        engine
            .block(async {
                let creates = chunk.iter().map(|i| {
                    let d = d.clone();
                    let data = note(*i);
                    async move {
                        d.create_model("notes", Some(&format!("m{i:06}")), &data)
                            .await
                    }
                });
                for r in futures_util::future::join_all(creates).await {
                    r?;
                }
                Ok::<_, tandem::api::Error>(())
            })
            .expect("create");
    }
    println!(
        "created {models} models in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let queries = [
        ("equality", "SELECT * FROM notes WHERE owner = 'user42'"),
        (
            "range_order_limit",
            "SELECT * FROM notes WHERE stars >= 97 ORDER BY stars DESC LIMIT 20",
        ),
        (
            "range_order_other_field",
            "SELECT * FROM notes WHERE stars >= 97 ORDER BY price DESC LIMIT 20",
        ),
        (
            "no_match",
            "SELECT * FROM notes WHERE address.city = 'Atlantis'",
        ),
    ];
    for (name, text) in queries {
        let mut times = Vec::with_capacity(runs);
        let mut total = 0;
        for _ in 0..runs {
            let t = Instant::now();
            let page = d.query(text).expect("query");
            times.push(t.elapsed());
            total = page.total;
        }
        times.sort();
        println!(
            "query {name}: {total} matches, p50 {:.3} ms, p99 {:.3} ms",
            percentile(&times, 0.5),
            percentile(&times, 0.99)
        );
    }
    let _ = engine.block(async {
        engine.shutdown().await;
        Ok::<_, tandem::api::Error>(())
    });
}
