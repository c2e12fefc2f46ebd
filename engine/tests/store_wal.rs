//! The LMDB store's write-ahead log: reads see acknowledged writes before the applier runs,
//! clean close and reopen, a log cut short or damaged, format upgrades, a second process,
//! and acknowledged writes surviving SIGKILL.

mod support;
use support::write_sync;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use tandem::ot::{AppliedOp, AppliedOperation, DiscreteOp, OpKind, Undo};
use tandem::store::{
    DomainKey, LmdbStore, OpRecord, Store, StoreError, StoreOptions, WriteOp, FORMAT_VERSION,
};

#[path = "support/records.rs"]
mod records;
use records::*;

// ---------------------------------------------------------------------------------------------
// The write-ahead log.
// ---------------------------------------------------------------------------------------------

/// A lazy store holding model 1 with versions `2..=last` appended one write at a time (all of
/// them only in the log, since the applier waits an hour).
fn lazy_store_with_versions(path: &Path, last: u64) -> LmdbStore {
    let store = open_lazy(path);
    ok(
        &store,
        vec![create(&DomainKey::new("ns", "d"), "m", "c", 1)],
    );
    for v in 2..=last {
        ok(&store, vec![append(1, v..=v)]);
    }
    store
}

/// Runs `f` on another thread and fails the test if it takes more than 20 s.
fn within_20s<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(20))
        .expect("the call did not return")
}

fn versions(store: &dyn Store, number: u64) -> Vec<u64> {
    store
        .ops(number, 0, u64::MAX)
        .unwrap()
        .into_iter()
        .map(|r| r.version)
        .collect()
}

#[test]
fn reads_see_acknowledged_writes_before_the_applier_runs() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(open_lazy(dir.path()));
    let d = DomainKey::new("ns", "d");
    ok(store.as_ref(), vec![create(&d, "m", "c", 1)]);
    for v in 2..=6 {
        ok(store.as_ref(), vec![append(1, v..=v)]);
        let s = store.clone();
        assert_eq!(
            within_20s(move || versions(s.as_ref(), 1)),
            (2..=v).collect::<Vec<_>>()
        );
    }
    ok(store.as_ref(), vec![WriteOp::PutDomain(domain("ns", "d"))]);
    let s = store.clone();
    let found = within_20s(move || s.domain(&DomainKey::new("ns", "d")).unwrap());
    assert_eq!(found, Some(domain("ns", "d")));
    // A model creation checks the database: it sees logged writes, too.
    ok(
        store.as_ref(),
        vec![WriteOp::DeleteModel {
            domain: d.clone(),
            id: "m".into(),
        }],
    );
    ok(store.as_ref(), vec![create(&d, "m", "c", 2)]);
    assert!(matches!(
        write_sync(store.as_ref(), vec![create(&d, "m", "c", 3)]),
        Err(StoreError::AlreadyExists(_))
    ));
}

#[test]
fn a_clean_close_applies_the_log_and_a_reopen_starts_afresh() {
    let dir = tempfile::tempdir().unwrap();
    drop(lazy_store_with_versions(dir.path(), 200));
    for _ in 0..2 {
        let store = open_lazy(dir.path());
        assert_eq!(versions(&store, 1), (2..=200).collect::<Vec<_>>());
        for r in store.ops(1, 0, u64::MAX).unwrap() {
            assert_eq!(r, splice_record(r.version, r.version as i64));
        }
    }
    // Writes after a reopen continue the log.
    {
        let store = open_lazy(dir.path());
        ok(&store, vec![append(1, 201..=201)]);
    }
    assert_eq!(
        versions(&open(dir.path()), 1),
        (2..=201).collect::<Vec<_>>()
    );
}

/// The log segment holding records in `dir` (the one with a non-zero header), and where its
/// records end.
fn used_segment(dir: &Path) -> (std::path::PathBuf, usize) {
    let mut found = None;
    for entry in std::fs::read_dir(dir.join("wal")).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        if bytes.len() >= 16 && bytes[..16].iter().any(|b| *b != 0) {
            assert!(found.is_none(), "one used segment expected");
            let end = bytes.iter().rposition(|b| *b != 0).unwrap() + 1;
            found = Some((path, end));
        }
    }
    found.expect("no used log segment")
}

#[test]
fn a_log_cut_short_loses_only_its_last_record_and_damage_fails_the_open() {
    let dir = tempfile::tempdir().unwrap();
    let store = lazy_store_with_versions(dir.path(), 11);
    // The applier is idle (an hour's interval): the copies hold the database without the
    // appends and the log with all of them, as after a crash.
    let intact = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), intact.path());
    let torn = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), torn.path());
    let damaged = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), damaged.path());
    drop(store);

    assert_eq!(
        versions(&open(intact.path()), 1),
        (2..=11).collect::<Vec<_>>()
    );

    // The last append only partly reached the disk: it was never acknowledged.
    let (path, end) = used_segment(torn.path());
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[end - 6..end].fill(0);
    std::fs::write(&path, &bytes).unwrap();
    assert_eq!(
        versions(&open(torn.path()), 1),
        (2..=10).collect::<Vec<_>>()
    );

    // A flipped bit in an earlier record, with intact records after it, is corruption: the
    // open fails and says so instead of dropping acknowledged writes.
    let (path, _) = used_segment(damaged.path());
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[16 + 16 + 2] ^= 0x10;
    std::fs::write(&path, &bytes).unwrap();
    match LmdbStore::open(options(damaged.path())) {
        Err(StoreError::Corrupt(m)) => assert!(m.contains("write-ahead log"), "{m}"),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("opened a store with a damaged log"),
    }
}

#[test]
fn format_1_directories_open_and_are_upgraded() {
    let dir = tempfile::tempdir().unwrap();
    let d = DomainKey::new("ns", "d");
    {
        let store = open(dir.path());
        ok(&store, vec![create(&d, "m", "c", 1), append(1, 2..=4)]);
    }
    LmdbStore::set_format_version_for_tests(dir.path(), 1).unwrap();
    assert_eq!(FORMAT_VERSION, 4);
    for _ in 0..2 {
        let store = open(dir.path());
        assert_eq!(versions(&store, 1), [2, 3, 4]);
    }
}

const FOLLOWER_DIR_VAR: &str = "TANDEM_STORE_FOLLOWER_DIR";

/// Run by [`a_second_process_sees_the_owners_log_and_writes_in_order`] in a child process;
/// does nothing otherwise.
#[test]
#[ignore = "child process of a_second_process_sees_the_owners_log_and_writes_in_order"]
fn follower_child() {
    let Ok(dir) = std::env::var(FOLLOWER_DIR_VAR) else {
        return;
    };
    let store = open(Path::new(&dir));
    println!("SEEN {:?}", versions(&store, 1));
    ok(&store, vec![append(1, 21..=21)]);
    println!("WROTE");
}

#[test]
fn a_second_process_sees_the_owners_log_and_writes_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = lazy_store_with_versions(dir.path(), 20);
    // Versions 2..=20 are only in this process's log; another process (like `tandem dump`
    // next to a running server) applies them when it opens the directory.
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "follower_child", "--nocapture", "--ignored"])
        .env(FOLLOWER_DIR_VAR, dir.path())
        .output()
        .expect("run the follower child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let seen = format!("SEEN {:?}", (2..=20).collect::<Vec<u64>>());
    assert!(stdout.contains(&seen), "{stdout}");
    assert!(stdout.contains("WROTE"), "{stdout}");
    // The other process's write follows ours, and ours continue after it.
    assert_eq!(versions(&store, 1), (2..=21).collect::<Vec<_>>());
    ok(&store, vec![append(1, 22..=22)]);
    assert_eq!(versions(&store, 1), (2..=22).collect::<Vec<_>>());
    drop(store);
    assert_eq!(versions(&open(dir.path()), 1), (2..=22).collect::<Vec<_>>());
}

// ---------------------------------------------------------------------------------------------
// Crash test: acknowledged writes survive SIGKILL.
// ---------------------------------------------------------------------------------------------

const CRASH_DIR_VAR: &str = "TANDEM_STORE_CRASH_DIR";
/// The crash child's apply interval in milliseconds (default: the tests' usual 10).
const CRASH_APPLY_VAR: &str = "TANDEM_STORE_CRASH_APPLY_MS";
const CRASH_CHILD: &str = "crash_child_writer";

/// The record the crash child writes for `version` (content derivable from the version).
fn crash_record(version: u64) -> OpRecord {
    OpRecord {
        version,
        timestamp_ms: 1_700_000_000_000 + version as i64,
        session: format!("s{}", version % 7).into(),
        user: "crash".into(),
        seq: Some(version),
        op: AppliedOperation::Discrete(AppliedOp {
            op: DiscreteOp::new(
                "0:1",
                OpKind::StringSplice {
                    index: version as i64,
                    delete_count: 0,
                    insert: format!("v{version}").into(),
                },
            ),
            undo: Undo::None,
        }),
        mark: None,
    }
}

/// Run by [`acknowledged_writes_survive_sigkill`] in a child process; does nothing otherwise.
#[test]
#[ignore = "child process of acknowledged_writes_survive_sigkill"]
fn crash_child_writer() {
    let Ok(dir) = std::env::var(CRASH_DIR_VAR) else {
        return;
    };
    let apply_ms = std::env::var(CRASH_APPLY_VAR)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let store = Arc::new(
        LmdbStore::open(StoreOptions {
            apply_interval: Duration::from_millis(apply_ms),
            ..options(Path::new(&dir))
        })
        .unwrap(),
    );
    let number = store.allocate_model_number();
    let d = DomainKey::new("ns", "d");
    ok(store.as_ref(), vec![create(&d, "m", "c", number)]);
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "READY {number}").unwrap();
        out.flush().unwrap();
    }
    // Versions are taken and written under one lock, so call order is version order.
    let next = Arc::new(Mutex::new(2u64));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (store, next, in_flight) = (store.clone(), next.clone(), in_flight.clone());
            std::thread::spawn(move || loop {
                while in_flight.load(Ordering::Acquire) >= 256 {
                    std::thread::sleep(Duration::from_micros(200));
                }
                let mut guard = next.lock().unwrap();
                let version = *guard;
                *guard += 1;
                in_flight.fetch_add(1, Ordering::AcqRel);
                let in_flight = in_flight.clone();
                store.write(
                    vec![WriteOp::AppendOps {
                        number,
                        ops: vec![crash_record(version)],
                    }],
                    Box::new(move |r| {
                        if r.is_ok() {
                            let mut out = std::io::stdout().lock();
                            let _ = writeln!(out, "ACK {version}");
                            let _ = out.flush();
                        }
                        in_flight.fetch_sub(1, Ordering::AcqRel);
                    }),
                );
                drop(guard);
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    sigkill_a_writer_and_check(10);
}

/// With an apply interval of an hour nothing the child logs reaches the database before the
/// kill: every acknowledged write comes back from the write-ahead log alone.
#[test]
fn acknowledged_writes_only_in_the_log_survive_sigkill() {
    sigkill_a_writer_and_check(3_600_000);
}

fn sigkill_a_writer_and_check(apply_ms: u64) {
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", CRASH_CHILD, "--nocapture", "--ignored"])
        .env(CRASH_DIR_VAR, dir.path())
        .env(CRASH_APPLY_VAR, apply_ms.to_string())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn the crash child");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut number = None;
    let mut acked = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    let parse = |line: &str, number: &mut Option<u64>, acked: &mut Vec<u64>| {
        if let Some(v) = line.strip_prefix("ACK ") {
            acked.push(v.trim().parse::<u64>().unwrap());
        } else if let Some(n) = line.strip_prefix("READY ") {
            *number = Some(n.trim().parse().unwrap());
        }
    };
    while acked.len() < 2_000 {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => parse(&line, &mut number, &mut acked),
            Err(_) => {
                let _ = child.kill();
                panic!("the child stopped after {} acks", acked.len());
            }
        }
    }
    child.kill().expect("SIGKILL the child");
    child.wait().unwrap();
    // Acks already in the pipe were printed before the kill.
    for line in rx.iter() {
        parse(&line, &mut number, &mut acked);
    }
    reader.join().unwrap();
    let number = number.expect("the child never reported its model");

    let store = open(dir.path());
    let log = store.ops(number, 0, u64::MAX).unwrap();
    let max = log.last().map_or(1, |r| r.version);
    println!(
        "{} acks seen, log holds versions 2..={max} after SIGKILL",
        acked.len()
    );
    let versions: Vec<u64> = log.iter().map(|r| r.version).collect();
    assert_eq!(versions, (2..=max).collect::<Vec<_>>(), "the log has gaps");
    for r in &log {
        assert_eq!(*r, crash_record(r.version));
    }
    for v in acked {
        assert!(
            v <= max,
            "acknowledged version {v} lost (log ends at {max})"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Throughput (prints figures; run with `--ignored --nocapture`, ideally `--release`).
// ---------------------------------------------------------------------------------------------

#[test]
#[ignore = "benchmark; prints figures"]
fn append_throughput() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let d = DomainKey::new("ns", "d");
    ok(&store, vec![create(&d, "m", "c", 1)]);
    const N: u64 = 1_000_000;
    let ops: Vec<OpRecord> = (2..N + 2)
        .map(|v| splice_record(v, 1_760_000_000_000 + v as i64))
        .collect();
    let start = Instant::now();
    ok(&store, vec![WriteOp::AppendOps { number: 1, ops }]);
    let elapsed = start.elapsed();
    let stats = store.stats().unwrap();
    println!(
        "{N} op records in one transaction: {:.0} records/s; {:.1} log bytes/op, {:.1} file bytes/op",
        N as f64 / elapsed.as_secs_f64(),
        stats.log_bytes as f64 / N as f64,
        stats.file_bytes as f64 / N as f64
    );
    let start = Instant::now();
    for t in 0..1000 {
        store
            .version_at_time(1, 1_760_000_000_000 + t * 997)
            .unwrap();
    }
    println!(
        "version_at_time on a 1M-op log: {:?} per call",
        start.elapsed() / 1000
    );
}
