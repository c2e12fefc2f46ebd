//! Selective undo, request to durable, by the number of operations since the undone one: for
//! each depth in TANDEM_UNDO_DEPTHS (1,1000,10000,100000), a model of an LMDB engine where Ann
//! types TANDEM_UNDO_RUNS (20) times, then Ben types `depth` more characters into the same
//! text (every later operation is on the string Ann's undo tracks); then each of Ann's
//! operations is undone in turn as the host. Prints p50 and p99 per depth. Figures go in
//! docs/PERFORMANCE.md; nothing here fails on a figure.

use std::time::{Duration, Instant};

use serde_json::json;
use tandem::api::{path, Change, Engine, EngineConfig, Model, UndoOutcome, UndoScope, UserId};

fn env_list(name: &str, default: &[u64]) -> Vec<u64> {
    std::env::var(name)
        .ok()
        .map(|v| v.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| default.to_vec())
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn typing(index: i64, text: &str) -> Vec<Change> {
    vec![Change::Splice {
        path: path(&["t"]),
        index,
        delete: 0,
        insert: text.into(),
    }]
}

/// Ben's `count` single characters at the end of the text, many in flight at once so that
/// group commit batches them.
async fn fill(m: &Model, start: i64, count: u64) -> tandem::api::Result<()> {
    let ben = UserId::normal("ben");
    let mut done = 0;
    while done < count {
        let chunk = (count - done).min(1000);
        // Each change is resolved at the head when the sequencer takes it: appending at a
        // fixed index beyond the end would fail, so each inserts at the start of Ben's run.
        let applies = (0..chunk).map(|_| m.apply_as(typing(start, "b"), &ben));
        for r in futures_util::future::join_all(applies).await {
            r?;
        }
        done += chunk;
    }
    Ok(())
}

fn main() {
    let depths = env_list("TANDEM_UNDO_DEPTHS", &[1, 1000, 10_000, 100_000]);
    let runs = env_list("TANDEM_UNDO_RUNS", &[20])[0].max(1);
    let dir = tempfile::tempdir().expect("dir");
    let engine = Engine::open(EngineConfig::with_data_dir(dir.path())).expect("engine");
    let d = engine
        .block(engine.create_domain("bench", "undo"))
        .expect("domain");
    let ann = UserId::normal("ann");
    for depth in depths {
        let m = engine
            .block(d.create_model("c", Some(&format!("m{depth}")), &json!({"t": ""})))
            .expect("model");
        let mut versions = Vec::new();
        for _ in 0..runs {
            let v = engine
                .block(m.apply_as(typing(0, "ann "), &ann))
                .expect("ann types");
            versions.push(v);
        }
        let filled = Instant::now();
        engine
            .block(fill(&m, 4 * runs as i64, depth))
            .expect("ben types");
        let fill_s = filled.elapsed().as_secs_f64();
        let head = m.info().expect("info").version;
        let mut times = Vec::with_capacity(versions.len());
        for v in versions {
            let t = Instant::now();
            let out = engine.block(m.undo(UndoScope::Version(v))).expect("undo");
            times.push(t.elapsed());
            assert!(matches!(out, UndoOutcome::Undone { .. }), "{out:?}");
        }
        times.sort();
        println!(
            "undo with {depth} later operations: p50 {:.2} ms, p99 {:.2} ms ({} undos; model at version {head} before them, filled in {fill_s:.1} s)",
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            times.len()
        );
    }
    engine.block_on(engine.shutdown());
}
