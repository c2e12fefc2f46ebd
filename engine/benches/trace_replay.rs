//! Trace replay benchmark: replays a real editing trace (one string splice per edit) through the
//! sequencer and the durable store, pipelined like the JavaScript client (many operations in
//! flight, each sent at the last acknowledged version), and prints figures:
//! ops/s, bytes on disk, the time to open the finished model cold, and its resident memory.
//!
//! Run: `cargo bench -p tandem --bench trace_replay` (release build). Options through env vars:
//! `TANDEM_TRACES_DIR` (default `../shared/traces`), `TANDEM_TRACE` (default
//! `automerge-paper.json.gz`), `TANDEM_WINDOW` (ops in flight, default 4096),
//! `TANDEM_BIG_REPEAT` (trace repetitions for the large-history cold open, default 4 ≈ 1M ops;
//! 0 skips it), `TANDEM_DOC_BYTES` (text placed after the trace's for the large-document
//! replay of as many operations, default 1 MiB; 0 skips it).

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{json, Value as Json};
use tandem::api::{Engine, EngineConfig};
use tandem::model::{ModelEvent, SessionInfo};
use tandem::ot::{DiscreteOp, OpKind, Operation, ValueId};
use tokio::sync::mpsc;

/// Counts live heap bytes, to measure a model's resident size.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: delegates to the system allocator and only adds bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

struct Trace {
    name: String,
    patches: Vec<(i64, i64, tandem::ot::JsString)>,
    end: String,
}

fn traces_dir() -> PathBuf {
    std::env::var("TANDEM_TRACES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/traces"))
}

fn load_trace(name: &str) -> Option<Trace> {
    let path = traces_dir().join(name);
    let file = std::fs::File::open(&path).ok()?;
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .ok()?;
    let json: Json = serde_json::from_str(&text).ok()?;
    let mut patches = Vec::new();
    for txn in json["txns"].as_array()? {
        for p in txn["patches"].as_array()? {
            let p = p.as_array()?;
            patches.push((
                p.first()?.as_i64()?,
                p.get(1)?.as_i64()?,
                p.get(2)?.as_str()?.into(),
            ));
        }
    }
    Some(Trace {
        name: name.to_string(),
        patches,
        end: json["endContent"].as_str()?.to_string(),
    })
}

struct Replay {
    ops: usize,
    elapsed: Duration,
}

/// Replays `patches` `repeat` times into model `id`, whose text starts as the trace's start
/// (empty) followed by `tail`, keeping up to `window` ops in flight.
async fn replay(
    engine: &Engine,
    id: &str,
    trace: &Trace,
    repeat: usize,
    window: usize,
    tail: &str,
) -> Replay {
    let domain = engine.domain("bench", "d").expect("domain");
    domain
        .create_model("traces", Some(id), &json!({ "text": tail }))
        .await
        .expect("model");
    let svc = engine.model_service();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let opened = svc
        .open(
            domain.key(),
            id,
            SessionInfo {
                session: "bench".into(),
                user: "bench".into(),
            },
            tx,
        )
        .await
        .expect("open");
    let text_id: ValueId = match &opened.data.data.data {
        tandem::ot::Data::Object(m) => m[&tandem::ot::JsString::from("text")].id.clone(),
        _ => unreachable!(),
    };
    let total = trace.patches.len() * repeat;
    let start = Instant::now();
    let mut sent = 0usize;
    let mut acked = 0usize;
    let mut context = opened.data.version;
    let mut patches = trace.patches.iter().cycle();
    while acked < total {
        while sent < total && sent - acked < window {
            let Some((pos, del, ins)) = patches.next() else {
                break;
            };
            sent += 1;
            let op = Operation::Discrete(DiscreteOp::new(
                text_id.clone(),
                OpKind::StringSplice {
                    index: *pos,
                    delete_count: *del,
                    insert: ins.clone(),
                },
            ));
            opened
                .handle
                .submit(sent as u64, context, op)
                .expect("submit");
        }
        match rx.recv().await {
            Some(ModelEvent::Ack { count, .. }) => {
                acked += count as usize;
                context += count;
                while let Ok(ModelEvent::Ack { count, .. }) = rx.try_recv() {
                    acked += count as usize;
                    context += count;
                }
            }
            Some(ModelEvent::ForceClosed { message, .. }) => panic!("force-closed: {message}"),
            Some(_) => {}
            None => panic!("event stream ended"),
        }
    }
    let elapsed = start.elapsed();
    opened.handle.close().await.expect("close");
    Replay {
        ops: total,
        elapsed,
    }
}

/// Opens many small models, one session each, and prints the heap each idle one holds.
async fn idle_models(engine: &Engine) {
    const N: usize = 1000;
    let domain = engine.domain("bench", "d").expect("domain");
    let svc = engine.model_service();
    for i in 0..N {
        domain
            .create_model(
                "idle",
                Some(&format!("idle-{i}")),
                &json!({"text": "hello"}),
            )
            .await
            .expect("model");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = LIVE.load(Ordering::Relaxed);
    let mut open = Vec::with_capacity(N);
    for i in 0..N {
        let (tx, rx) = mpsc::unbounded_channel();
        let opened = svc
            .open(
                domain.key(),
                &format!("idle-{i}"),
                SessionInfo {
                    session: format!("idle-session-{i}"),
                    user: "bench".into(),
                },
                tx,
            )
            .await
            .expect("open");
        open.push((opened.handle, rx));
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let each = (LIVE.load(Ordering::Relaxed) - before) as f64 / N as f64;
    println!(
        "idle open model (a short text, one session): {each:.0} bytes of heap each ({N} open)"
    );
    for (handle, _) in open {
        handle.close().await.expect("close");
    }
}

/// CPU time (user + system, in clock ticks) of this process's threads, summed by name.
fn thread_cpu() -> std::collections::BTreeMap<String, u64> {
    let mut out = std::collections::BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        // `pid (name) state ...`: utime and stime are the 12th and 13th fields after the name.
        let Some((name, rest)) = stat.split_once(" (").and_then(|(_, r)| r.rsplit_once(") "))
        else {
            continue;
        };
        let fields: Vec<&str> = rest.split(' ').collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<u64>().ok())
                .unwrap_or(0)
        };
        *out.entry(name.to_string()).or_insert(0) += ticks(11) + ticks(12);
    }
    out
}

/// Prints the CPU each thread (by name) used since `before`, per operation.
fn print_cpu(before: &std::collections::BTreeMap<String, u64>, ops: usize) {
    let after = thread_cpu();
    let tick_us = 1e6 / 100.0;
    let parts: Vec<String> = after
        .iter()
        .map(|(name, t)| (name, t.saturating_sub(*before.get(name).unwrap_or(&0))))
        .filter(|(_, t)| *t > 0)
        .map(|(name, t)| format!("{name} {:.2}", t as f64 * tick_us / ops as f64))
        .collect();
    println!("  cpu µs/op by thread: {}", parts.join(", "));
}

fn mib(b: u64) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

fn main() {
    let name = std::env::var("TANDEM_TRACE").unwrap_or_else(|_| "automerge-paper.json.gz".into());
    let Some(trace) = load_trace(&name) else {
        println!(
            "trace {name} not found in {}: put the editing traces (shared/traces, see its README) there \
             or set TANDEM_TRACES_DIR; nothing measured",
            traces_dir().display()
        );
        return;
    };
    let window: usize = std::env::var("TANDEM_WINDOW")
        .ok()
        .and_then(|w| w.parse().ok())
        .unwrap_or(4096);
    let big_repeat: usize = std::env::var("TANDEM_BIG_REPEAT")
        .ok()
        .and_then(|w| w.parse().ok())
        .unwrap_or(4);
    let doc_bytes: usize = std::env::var("TANDEM_DOC_BYTES")
        .ok()
        .and_then(|w| w.parse().ok())
        .unwrap_or(1 << 20);
    let dir = tempfile::tempdir().expect("temp dir");
    let memory = std::env::var("TANDEM_BENCH_MEMORY").is_ok();
    let mut config = if memory {
        EngineConfig::default()
    } else {
        EngineConfig::with_data_dir(dir.path())
    };
    config.models.passivate_after_secs = 0.2;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "trace: {} ({} edits, window {window} ops in flight)",
        trace.name,
        trace.patches.len()
    );
    runtime.block_on(async {
        let engine = Engine::open(config.clone()).expect("engine");
        engine.create_domain("bench", "d").await.expect("domain");
        let cpu = thread_cpu();
        let r = replay(&engine, "paper", &trace, 1, window, "").await;
        let text = engine
            .domain("bench", "d")
            .unwrap()
            .model("paper")
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            text["text"].as_str(),
            Some(trace.end.as_str()),
            "final text differs from endContent"
        );
        let ops_s = r.ops as f64 / r.elapsed.as_secs_f64();
        println!(
            "replay: {} ops in {:.3} s = {:.0} ops/s (durable, fsync'd group commit)",
            r.ops,
            r.elapsed.as_secs_f64(),
            ops_s
        );
        print_cpu(&cpu, r.ops);
        let stats = engine.store().stats().expect("stats");
        println!(
            "disk: {:.2} MiB in files, log {:.2} MiB = {:.1} bytes/op, snapshots {:.2} MiB",
            mib(stats.file_bytes),
            mib(stats.log_bytes),
            stats.log_bytes as f64 / stats.op_count.max(1) as f64,
            mib(stats.snapshot_bytes)
        );
        if big_repeat > 0 {
            let cpu = thread_cpu();
            let r = replay(&engine, "big", &trace, big_repeat, window, "").await;
            println!(
                "large history: {} ops in {:.3} s = {:.0} ops/s",
                r.ops,
                r.elapsed.as_secs_f64(),
                r.ops as f64 / r.elapsed.as_secs_f64()
            );
            print_cpu(&cpu, r.ops);
        }
        if doc_bytes > 0 && big_repeat > 0 {
            // The trace's edits all fall before the tail, so it replays as it did.
            let mut tail = String::with_capacity(doc_bytes + trace.end.len());
            while tail.len() < doc_bytes {
                tail.push_str(&trace.end);
            }
            tail.truncate(doc_bytes);
            let before = engine.store().stats().expect("stats");
            let r = replay(&engine, "large-doc", &trace, big_repeat, window, &tail).await;
            let after = engine.store().stats().expect("stats");
            let per_op = |a: u64, b: u64| a.saturating_sub(b) as f64 / r.ops as f64;
            println!(
                "large document ({:.2} MiB of text to start): {} ops in {:.3} s = {:.0} ops/s; \
                 log {:.1} bytes/op, snapshots {:.1} bytes/op, files {:.1} bytes/op",
                mib(doc_bytes as u64),
                r.ops,
                r.elapsed.as_secs_f64(),
                r.ops as f64 / r.elapsed.as_secs_f64(),
                per_op(after.log_bytes, before.log_bytes),
                per_op(after.snapshot_bytes, before.snapshot_bytes),
                per_op(after.file_bytes, before.file_bytes),
            );
        }
        engine.shutdown().await;
    });
    if memory {
        println!("(in-memory store: nothing durable, cold opens skipped)");
        return;
    }
    // Cold opens: a fresh engine on the same directory loads snapshot + log tail.
    runtime.block_on(async {
        let engine = Engine::open(config.clone()).expect("engine");
        let domain = engine.domain("bench", "d").expect("domain");
        for id in ["paper", "big", "large-doc"] {
            if domain.model(id).is_err() {
                continue;
            }
            let version = domain.model(id).unwrap().info().unwrap().version;
            let before = LIVE.load(Ordering::Relaxed);
            let t = Instant::now();
            let data = engine
                .model_service()
                .read(domain.key(), id)
                .await
                .expect("read");
            let open = t.elapsed();
            drop(data);
            tokio::time::sleep(Duration::from_millis(20)).await;
            let resident = LIVE.load(Ordering::Relaxed) - before;
            println!(
                "cold open of '{id}' ({} ops in history): {:.2} ms; resident model {:.0} KiB",
                version - 1,
                open.as_secs_f64() * 1000.0,
                resident as f64 / 1024.0
            );
        }
        idle_models(&engine).await;
        engine.shutdown().await;
    });
    println!(
        "machine: {} cores, {}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(
                |c| c.lines().find(|l| l.starts_with("model name")).map(|l| l
                    .split(':')
                    .nth(1)
                    .unwrap_or("")
                    .trim()
                    .to_string())
            )
            .unwrap_or_default()
    );
}
