//! Snapshot policies per domain and per collection (the original's rule), applied to models
//! loaded before and after a change, and the bound they put on history reads: the data at
//! every version is rebuilt from the nearest snapshot with no more operations than the
//! policy's interval (or the engine's ceiling under a disabled policy), and equals what the
//! model held at that version.

use std::sync::Arc;

use serde_json::{json, Value as Json};
use tandem::api::{
    path, Change, Domain, DomainSettings, Engine, EngineConfig, EngineSources, Model,
    SnapshotPolicy,
};
use tandem::sources::{ManualClock, SequentialIds};

struct Setup {
    engine: Engine,
    clock: Arc<ManualClock>,
    d: Domain,
    _dir: tempfile::TempDir,
}

async fn setup(snapshot_every_ops: u64) -> Setup {
    let dir = tempfile::tempdir().expect("dir");
    let clock = Arc::new(ManualClock::new(10_000_000));
    let mut config = EngineConfig::with_data_dir(dir.path());
    config.models.snapshot_every_ops = snapshot_every_ops;
    let engine = Engine::open_with(
        config,
        EngineSources {
            clock: clock.clone(),
            ids: Arc::new(SequentialIds::default()),
        },
    )
    .expect("engine");
    let d = engine.create_domain("s", "d").await.expect("domain");
    Setup {
        engine,
        clock,
        d,
        _dir: dir,
    }
}

fn by_versions(max: u64) -> SnapshotPolicy {
    SnapshotPolicy {
        trigger_by_time: false,
        max_version_interval: max,
        ..SnapshotPolicy::default()
    }
}

impl Setup {
    fn snapshot_versions(&self, id: &str) -> Vec<u64> {
        let store = self.engine.store();
        let number = store
            .model(self.d.key(), id)
            .expect("read")
            .expect("model")
            .number;
        let head = store
            .model(self.d.key(), id)
            .expect("read")
            .expect("model")
            .version;
        let mut out: Vec<u64> = (1..=head)
            .filter_map(|v| {
                store
                    .snapshot_at_or_before(number, v)
                    .expect("read")
                    .map(|s| s.version)
            })
            .collect();
        out.dedup();
        out
    }

    async fn set(&self, f: impl FnOnce(&mut DomainSettings)) {
        let mut s = self.d.settings().expect("settings");
        f(&mut s);
        self.d.set_settings(s).await.expect("set");
    }
}

/// Applies `n` adds to `n`, returning the JSON after each version (index 0 = version 1).
async fn edit(m: &Model, n: usize, seen: &mut Vec<Json>) {
    if seen.is_empty() {
        seen.push(m.json().await.expect("json"));
    }
    for _ in 0..n {
        m.apply(vec![Change::Add {
            path: path(&["n"]),
            delta: 1.0,
        }])
        .await
        .expect("applied");
        seen.push(m.json().await.expect("json"));
    }
}

fn assert_history(m: &Model, seen: &[Json]) {
    for (i, expected) in seen.iter().enumerate() {
        let v = i as u64 + 1;
        assert_eq!(&m.json_at(v).expect("data at"), expected, "version {v}");
    }
}

#[tokio::test]
async fn a_collection_policy_overrides_the_domains_and_bounds_history_reads() {
    let s = setup(1000).await;
    s.set(|d| {
        d.snapshot_policy = Some(by_versions(5));
        d.collection_snapshot_policies
            .insert("fine".into(), by_versions(2));
    })
    .await;
    let plain =
        s.d.create_model("plain", Some("p"), &json!({"n": 0}))
            .await
            .expect("model");
    let fine =
        s.d.create_model("fine", Some("f"), &json!({"n": 0}))
            .await
            .expect("model");
    let (mut seen_p, mut seen_f) = (Vec::new(), Vec::new());
    edit(&plain, 13, &mut seen_p).await;
    edit(&fine, 13, &mut seen_f).await;
    // More than 5 (or 2) versions since the last snapshot take one.
    assert_eq!(s.snapshot_versions("p"), [1, 7, 13]);
    assert_eq!(s.snapshot_versions("f"), [1, 4, 7, 10, 13]);
    assert_history(&plain, &seen_p);
    assert_history(&fine, &seen_f);
    s.engine.shutdown().await;
}

#[tokio::test]
async fn a_changed_policy_reaches_a_loaded_model_and_time_triggers_too() {
    let s = setup(1000).await;
    let m =
        s.d.create_model("c", Some("m"), &json!({"n": 0}))
            .await
            .expect("model");
    let mut seen = Vec::new();
    edit(&m, 3, &mut seen).await; // v2..v4 under the engine's rule: no snapshot
    assert_eq!(s.snapshot_versions("m"), [1]);
    s.set(|d| {
        d.snapshot_policy = Some(SnapshotPolicy {
            trigger_by_version: false,
            max_time_interval_ms: 1000,
            limited_by_version: true,
            min_version_interval: 2,
            ..SnapshotPolicy::default()
        })
    })
    .await;
    s.clock.advance(1001);
    edit(&m, 1, &mut seen).await; // v5: 4 versions and over a second since v1
    assert_eq!(s.snapshot_versions("m"), [1, 5]);
    s.clock.advance(5000);
    edit(&m, 1, &mut seen).await; // v6: only one version since v5
    assert_eq!(s.snapshot_versions("m"), [1, 5]);
    edit(&m, 1, &mut seen).await; // v7: two versions, time long past
    assert_eq!(s.snapshot_versions("m"), [1, 5, 7]);
    // Back to the engine's rule.
    s.set(|d| d.snapshot_policy = None).await;
    s.clock.advance(5000);
    edit(&m, 1, &mut seen).await;
    assert_eq!(s.snapshot_versions("m"), [1, 5, 7]);
    assert_history(&m, &seen);
    s.engine.shutdown().await;
}

#[tokio::test]
async fn a_disabled_policy_still_snapshots_at_the_engines_ceiling() {
    // Ceiling: 4 × snapshot_every_ops = 8 operations.
    let s = setup(2).await;
    s.set(|d| {
        d.snapshot_policy = Some(SnapshotPolicy {
            enabled: false,
            ..SnapshotPolicy::default()
        })
    })
    .await;
    let m =
        s.d.create_model("c", Some("m"), &json!({"n": 0}))
            .await
            .expect("model");
    let mut seen = Vec::new();
    edit(&m, 20, &mut seen).await;
    assert_eq!(s.snapshot_versions("m"), [1, 9, 17]);
    assert_history(&m, &seen);
    // The policy survives a restart of the store (kept with the domain record).
    let settings = s.d.settings().expect("settings");
    assert_eq!(settings.snapshot_policy.map(|p| p.enabled), Some(false));
    s.engine.shutdown().await;
}

#[tokio::test]
async fn a_policy_naming_an_invalid_collection_is_refused() {
    let s = setup(1000).await;
    let mut settings = s.d.settings().expect("settings");
    settings
        .collection_snapshot_policies
        .insert(String::new(), SnapshotPolicy::default());
    let e = s.d.set_settings(settings).await.expect_err("empty id");
    assert!(e.to_string().contains("invalid collection id"), "{e}");
    s.engine.shutdown().await;
}
