//! The LMDB store (heed): one data directory, a write-ahead log, one writer thread with group
//! commit and one thread applying the log to the database.
//!
//! Layout: named databases `meta` (format version, last applied log record), `domains`,
//! `collections`, `models`, `jwt_keys` and `reconnect_tokens` (keyed by the escaped domain key,
//! then the escaped id or token), `users` (keyed by the escaped domain key, the escaped
//! user-type number, then the escaped username), `ops` and `snapshots` (keyed by the big-endian
//! pair `(model number, version)`), and, for access control, `permissions`, `groups`,
//! `group_members` and `user_groups` (see [`keys`]), `activities` (keyed by the escaped
//! domain key, type and id), and `chats` and `chat_events` (see [`chats`]). Values are encoded by [`super::codec`]. The
//! write-ahead log ([`super::wal`]) lives in `wal/` inside the data directory.
//!
//! Files: [`keys`] (key layout, the key-length check), [`threads`] (the writer and the applier),
//! [`writer`] (applying writes to the database), [`acl`] (permission rows and groups),
//! [`activities`] (activity records), [`chats`] (chat records and events).
//!
//! Every write goes through one writer thread: it takes the first queued request, drains what
//! else is queued (up to `max_batch` records), appends all of it to the write-ahead log as one
//! record, syncs the log once and only then reports each request's outcome to its callback, in
//! call order. A logged batch is encoded by the caller, on its own thread, before it is queued
//! (so records are freed where they were made, and the one writer only copies bytes). An
//! acknowledgement therefore waits for a single device flush. A second thread applies logged
//! records to LMDB in larger transactions (durable LMDB commits, at most `apply_interval` after
//! they were logged) and deletes log segments the database holds. Reads
//! open their own read transaction per call; a read first waits until every write acknowledged
//! before it is applied (asking the applier to apply at once), so reads see every acknowledged
//! write. Opening the store applies what the log holds beyond the database's last applied record.
//!
//! Writes whose outcome depends on the database (model creation, which fails when the id is
//! taken) and writes that might not fit in the map any more skip the log: the applier commits
//! them directly, durably, after everything logged before them, and the writer waits for that.

mod acl;
mod activities;
mod chats;
mod credentials;
mod index;
mod keys;
mod threads;
mod webhooks;
mod writer;

use std::collections::HashSet;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Condvar, LazyLock, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use heed::types::Bytes;
use heed::{Database, DatabaseFlags, Env, EnvOpenOptions, MdbError, RoTxn, WithoutTls};

use super::batch;
use super::wal::{self, Wal};
use super::{
    codec, ActivityRecord, AdminRecord, ApiKeyRecord, ChatEvent, ChatRecord, CollectionRecord,
    CommitCallback, DeliveryRecord, DomainKey, DomainRecord, Grantee, GroupRecord, JwtKeyRecord,
    ModelMeta, OpRecord, PermissionRow, PermissionTarget, ReconnectTokenRecord, Snapshot, Store,
    StoreError, StoreOptions, StoreResult, StoreStats, UserRecord, UserType, WebhookRecord,
    WriteOp, FORMAT_VERSION,
};
use keys::{check_keys, child_key, domain_key, num_key, range_of, split_num_key, user_key};
use threads::{Applier, Logger};
use writer::DbWriter;

type Db = Database<Bytes, Bytes>;

/// Canonical paths of the data directories this process has open.
static OPEN: LazyLock<Mutex<HashSet<PathBuf>>> = LazyLock::new(|| Mutex::new(HashSet::new()));

const VERSION_KEY: &[u8] = b"format_version";
/// Key (in `meta`) of the sequence number of the last write-ahead log record applied.
const APPLIED_KEY: &[u8] = b"wal_applied";
/// Older formats this build opens (and upgrades to [`FORMAT_VERSION`] in place): format 1 has
/// no write-ahead log, and formats 1 and 2 have no permission rows (everyone could do
/// everything), so the upgrade grants everyone every permission on every collection; formats
/// before 4 have no query index, which the upgrade builds from every model's data. Their
/// records are this format's with fields missing, which decode to those fields' defaults.
const UPGRADABLE: [u32; 3] = [1, 2, 3];
/// Size at which the write-ahead log starts a new segment.
const WAL_SEGMENT_BYTES: u64 = 64 << 20;
/// Logged bytes waiting for the applier beyond which the writer waits for it.
const MAX_UNAPPLIED_BYTES: usize = 64 << 20;
/// Free map space kept besides four times the unapplied bytes before a write may be logged
/// (below that, writes are committed directly so that a full map fails them, not the applier).
const SPACE_MARGIN: u64 = 4 << 20;

/// Pause between two attempts of the applier to apply logged writes after a failure.
const APPLY_RETRY: Duration = Duration::from_millis(200);

/// Granularity of the map size (a multiple of every common OS page size).
const MAP_GRANULE: u64 = 1 << 20;

fn io(e: impl std::fmt::Display) -> StoreError {
    StoreError::Io(e.to_string())
}

/// Converts a heed error, making a full map explicit.
fn db_err(e: heed::Error) -> StoreError {
    match e {
        heed::Error::Mdb(MdbError::MapFull) => StoreError::Io(
            "the database is full: it reached its map size (StoreOptions::max_size_bytes); \
             raise max_size_bytes"
                .into(),
        ),
        heed::Error::Io(e) if e.kind() == std::io::ErrorKind::StorageFull => StoreError::Io(
            format!("lmdb: the disk is full ({e}); free space: the store then resumes"),
        ),
        other => StoreError::Io(format!("lmdb: {other}")),
    }
}

/// Holds a data directory's entry in [`OPEN`]; removes it when dropped.
struct Registration(PathBuf);

impl Registration {
    fn claim(path: PathBuf) -> StoreResult<Self> {
        let mut open = OPEN
            .lock()
            .map_err(|_| StoreError::Io("store registry lock poisoned".into()))?;
        if !open.insert(path.clone()) {
            return Err(StoreError::Io(format!(
                "the store at {} is already open in this process",
                path.display()
            )));
        }
        Ok(Registration(path))
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Ok(mut open) = OPEN.lock() {
            open.remove(&self.0);
        }
    }
}

/// Opens the LMDB environment in `path` (which must be registered in [`OPEN`]).
fn open_env(path: &Path, max_size_bytes: u64) -> StoreResult<Env<WithoutTls>> {
    let granules = max_size_bytes.div_ceil(MAP_GRANULE).max(1);
    let map_size = usize::try_from(granules.saturating_mul(MAP_GRANULE))
        .unwrap_or(usize::MAX - (usize::MAX % MAP_GRANULE as usize));
    let mut options = EnvOpenOptions::new().read_txn_without_tls();
    options.map_size(map_size).max_dbs(32);
    // SAFETY: LMDB memory-maps `data.mdb`; mapping is unsound only if the file is changed
    // behind LMDB's back while mapped. That cannot happen here: (1) the engine opens each data
    // directory at most once per process — the caller holds this directory's canonical path in
    // the `OPEN` registry, which refuses a second open until the first store is dropped (and
    // with it the environment closed); (2) other processes are coordinated by LMDB's own lock
    // file, since we keep the default flags (no NO_LOCK, no WRITE_MAP, no NO_SYNC); (3) the
    // directory is owned by the engine and nothing else writes its files; (4) no transaction
    // outlives the environment: read transactions live within one method call, and the writer
    // thread, the only user of write transactions, is joined before the environment closes.
    let env = unsafe { options.open(path) }.map_err(db_err)?;
    Ok(env)
}

/// The databases of one environment.
#[derive(Clone, Copy)]
struct Dbs {
    meta: Db,
    domains: Db,
    collections: Db,
    models: Db,
    ops: Db,
    snapshots: Db,
    users: Db,
    jwt_keys: Db,
    tokens: Db,
    /// Permission rows: domain, target, grantee -> permission strings.
    permissions: Db,
    /// Groups: domain, group id -> group record.
    groups: Db,
    /// Memberships by group: domain, group id, member -> nothing.
    members: Db,
    /// Memberships by member: domain, member, group id -> nothing.
    memberships: Db,
    /// Activities: domain, type, id -> activity record.
    activities: Db,
    /// Chats: domain, id -> chat record.
    chats: Db,
    /// Chat events: domain, chat id, big-endian event number -> chat event.
    chat_events: Db,
    /// Query index (dup-sorted): entry key -> ids of the models with the entry.
    query_index: Db,
    /// Query index by model: big-endian model number -> its id and entry keys.
    query_entries: Db,
    /// Server administrators: login name -> record.
    admins: Db,
    /// API keys: domain, key id -> record.
    api_keys: Db,
    /// Webhooks: domain, webhook id -> record.
    webhooks: Db,
    /// Webhook deliveries: domain, webhook id, big-endian number -> record.
    deliveries: Db,
}

/// Every named database. Databases added after format version 1 are created when a store of
/// that format is opened (adding a database does not change how existing records are encoded).
const DB_NAMES: [&str; 16] = [
    "meta",
    "domains",
    "collections",
    "models",
    "ops",
    "snapshots",
    "users",
    "jwt_keys",
    "reconnect_tokens",
    "permissions",
    "groups",
    "group_members",
    "user_groups",
    "activities",
    "chats",
    "chat_events",
];

/// Checks the format version (writing it into a new environment) and opens every database.
/// Returns the databases and, for a store of an older format, that format (which
/// [`finish_upgrade`] replaces once the log is applied).
fn init_dbs(env: &Env<WithoutTls>) -> StoreResult<(Dbs, Option<u32>)> {
    let mut wtxn = env.write_txn().map_err(db_err)?;
    let main: Option<Db> = env.open_database(&wtxn, None).map_err(db_err)?;
    let fresh = match main {
        Some(db) => db.is_empty(&wtxn).map_err(db_err)?,
        None => true,
    };
    let missing = StoreError::FormatVersion {
        found: 0,
        expected: FORMAT_VERSION,
    };
    let mut older = None;
    if !fresh {
        let meta: Db = env
            .open_database(&wtxn, Some("meta"))
            .map_err(db_err)?
            .ok_or_else(|| missing.clone())?;
        let found = match meta.get(&wtxn, VERSION_KEY).map_err(db_err)? {
            None => return Err(missing),
            Some(bytes) => u32::from_be_bytes(bytes.try_into().map_err(|_| {
                StoreError::Corrupt(format!("format version record of {} bytes", bytes.len()))
            })?),
        };
        if found != FORMAT_VERSION && !UPGRADABLE.contains(&found) {
            return Err(StoreError::FormatVersion {
                found,
                expected: FORMAT_VERSION,
            });
        }
        older = (found != FORMAT_VERSION).then_some(found);
    }
    let mut dbs = Vec::with_capacity(DB_NAMES.len());
    for name in DB_NAMES {
        let db: Db = env.create_database(&mut wtxn, Some(name)).map_err(db_err)?;
        dbs.push(db);
    }
    let dbs = Dbs {
        meta: dbs[0],
        domains: dbs[1],
        collections: dbs[2],
        models: dbs[3],
        ops: dbs[4],
        snapshots: dbs[5],
        users: dbs[6],
        jwt_keys: dbs[7],
        tokens: dbs[8],
        permissions: dbs[9],
        groups: dbs[10],
        members: dbs[11],
        memberships: dbs[12],
        activities: dbs[13],
        chats: dbs[14],
        chat_events: dbs[15],
        query_index: env
            .database_options()
            .types::<Bytes, Bytes>()
            .name("query_index")
            .flags(DatabaseFlags::DUP_SORT)
            .create(&mut wtxn)
            .map_err(db_err)?,
        query_entries: env
            .create_database(&mut wtxn, Some("query_entries"))
            .map_err(db_err)?,
        admins: env
            .create_database(&mut wtxn, Some("admins"))
            .map_err(db_err)?,
        api_keys: env
            .create_database(&mut wtxn, Some("api_keys"))
            .map_err(db_err)?,
        webhooks: env
            .create_database(&mut wtxn, Some("webhooks"))
            .map_err(db_err)?,
        deliveries: env
            .create_database(&mut wtxn, Some("webhook_deliveries"))
            .map_err(db_err)?,
    };
    if fresh {
        dbs.meta
            .put(&mut wtxn, VERSION_KEY, &FORMAT_VERSION.to_be_bytes())
            .map_err(db_err)?;
    }
    wtxn.commit().map_err(db_err)?;
    Ok((dbs, older))
}

/// Upgrades a store of format `from` (its log applied) to [`FORMAT_VERSION`] in one durable
/// transaction: before format 3, everyone gets every collection permission on every existing
/// collection; before format 4, every model's query index entries are built; then the version
/// is written. Until that commits the store stays of its older format, so an
/// interrupted upgrade runs again at the next open.
fn finish_upgrade(env: &Env<WithoutTls>, dbs: &Dbs, from: u32) -> StoreResult<()> {
    let mut wtxn = env.write_txn().map_err(db_err)?;
    let rows = if from < 3 {
        acl::grant_world_on_every_collection(&mut wtxn, dbs)?
    } else {
        0
    };
    let indexed = index::backfill(&mut wtxn, dbs)?;
    dbs.meta
        .put(&mut wtxn, VERSION_KEY, &FORMAT_VERSION.to_be_bytes())
        .map_err(db_err)?;
    wtxn.commit().map_err(db_err)?;
    tracing::info!(
        from,
        to = FORMAT_VERSION,
        collections = rows,
        models = indexed,
        "upgraded the store's format: query indexes built; before format 3, everyone keeps \
         every permission on existing collections"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The store.
// ---------------------------------------------------------------------------------------------

struct Shared {
    env: Env<WithoutTls>,
    dbs: Dbs,
    commits: AtomicU64,
    progress: Mutex<Progress>,
    /// Signalled whenever [`Progress`] changes.
    changed: Condvar,
}

/// Where the writer and the applier stand, and the applier's queue.
#[derive(Default)]
struct Progress {
    /// Newest log record that is durable (its writes are acknowledged).
    logged: u64,
    /// Newest log record applied to the database.
    applied: u64,
    /// Work for the applier, in order.
    queue: VecDeque<Work>,
    /// Encoded bytes of the logged work not applied yet.
    unapplied_bytes: usize,
    /// When the oldest queued work arrived.
    since: Option<Instant>,
    /// Somebody waits for the applier: apply now.
    urgent: bool,
    /// The writer has stopped: apply what is queued and stop.
    closing: bool,
    /// The applier could not apply logged writes (a full disk, say): it keeps them queued and
    /// retries every [`APPLY_RETRY`]; until it succeeds no write is accepted and reads fail.
    failure: Option<StoreError>,
}

/// What the applier does.
enum Work {
    /// Writes that are durable in the log (record `lsn`, whose payload this is).
    Logged { lsn: u64, payload: Vec<u8> },
    /// A write committed directly (not logged): its outcome goes back to the writer.
    Direct {
        batch: Vec<WriteOp>,
        reply: mpsc::SyncSender<StoreResult<()>>,
    },
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Progress> {
        // A panic while holding the lock cannot leave `Progress` inconsistent (each update is a
        // few plain assignments), so a poisoned lock is taken over.
        self.progress.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn wait<'a>(&self, guard: MutexGuard<'a, Progress>) -> MutexGuard<'a, Progress> {
        self.changed.wait(guard).unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until every write acknowledged so far is in the database.
    fn caught_up(&self) -> StoreResult<()> {
        let mut p = self.lock();
        let target = p.logged;
        if p.applied >= target {
            return Ok(());
        }
        p.urgent = true;
        self.changed.notify_all();
        while p.applied < target {
            if let Some(e) = &p.failure {
                return Err(e.clone());
            }
            p = self.wait(p);
        }
        Ok(())
    }
}

enum Request {
    Write {
        batch: Vec<WriteOp>,
        done: CommitCallback,
    },
    /// A batch the caller encoded for the log ([`batch::encode_batch`]), of `weight`.
    Encoded {
        bytes: Vec<u8>,
        weight: usize,
        done: CommitCallback,
    },
    Flush(mpsc::SyncSender<()>),
}

/// How much a batch counts against `max_batch`.
fn weight_of(batch: &[WriteOp]) -> usize {
    batch
        .iter()
        .map(|op| match op {
            WriteOp::AppendOps { ops, .. } => ops.len().max(1),
            WriteOp::AppendEncoded { ops, .. } => ops.len().max(1),
            _ => 1,
        })
        .sum::<usize>()
        .max(1)
}

impl Request {
    /// How much this request counts against `max_batch`.
    fn weight(&self) -> usize {
        match self {
            Request::Write { batch, .. } => weight_of(batch),
            Request::Encoded { weight, .. } => *weight,
            Request::Flush(_) => 0,
        }
    }
}

/// Whether a batch must skip the log: its outcome depends on the database.
fn is_direct(batch: &[WriteOp]) -> bool {
    batch
        .iter()
        .any(|op| matches!(op, WriteOp::CreateModel { .. }))
}

/// The durable default store.
///
/// Commit callbacks run on the store's writer thread, in call order, after the transaction
/// holding their batch is durable. They should return quickly and must not wait on the store
/// (for example by calling [`Store::flush`]), since the writer cannot make progress meanwhile.
/// A panicking callback is caught and logged.
pub struct LmdbStore {
    sender: Option<mpsc::Sender<Request>>,
    /// Whether this process owns the directory's log (else every write is direct).
    logs: bool,
    writer: Option<JoinHandle<()>>,
    applier: Option<JoinHandle<()>>,
    shared: Arc<Shared>,
    next_number: AtomicU64,
    path: PathBuf,
    /// Holds the directory's lock (when this process owns it) until the store is dropped.
    _lock: std::fs::File,
    // Declared last so that it is dropped after the environment is closed.
    _registration: Registration,
}

impl LmdbStore {
    /// Opens (creating if needed) the store in `options.path`.
    ///
    /// Fails with [`StoreError::FormatVersion`] when the directory holds a store of another
    /// format (or one without a format version), and with [`StoreError::Io`] when the directory
    /// is already open in this process.
    pub fn open(options: StoreOptions) -> StoreResult<Self> {
        std::fs::create_dir_all(&options.path)
            .map_err(|e| StoreError::Io(format!("create {}: {e}", options.path.display())))?;
        let path = std::fs::canonicalize(&options.path)
            .map_err(|e| StoreError::Io(format!("resolve {}: {e}", options.path.display())))?;
        let registration = Registration::claim(path.clone())?;
        let env = open_env(&path, options.max_size_bytes)?;
        let (dbs, older) = init_dbs(&env)?;
        let mut applier = DbWriter {
            env: env.clone(),
            dbs,
            snapshots_kept: options.snapshots_kept,
            buf: Vec::with_capacity(256),
            last_op_key: None,
        };
        let wal_dir = path.join("wal");
        std::fs::create_dir_all(&wal_dir)
            .map_err(|e| StoreError::Io(format!("create {}: {e}", wal_dir.display())))?;
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(wal_dir.join("LOCK"))
            .map_err(|e| StoreError::Io(format!("open the data directory's lock: {e}")))?;
        // One process owns the directory (and its log); others (for example `tandem user add`
        // or `tandem dump` next to a running server) apply the owner's log and write directly.
        let owner =
            match rustix::fs::flock(&lock, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => true,
                Err(e) if e == rustix::io::Errno::WOULDBLOCK => false,
                Err(e) => {
                    return Err(StoreError::Io(format!(
                        "lock the data directory {}: {e}",
                        path.display()
                    )))
                }
            };
        // The log of an older build may hold collections: they get their rows too.
        let last_lsn = applier.recover(&wal_dir, owner)?;
        if let Some(from) = older {
            finish_upgrade(&env, &dbs, from)?;
        }

        let next_number = {
            let rtxn = env.read_txn().map_err(db_err)?;
            let mut max = 0;
            // Every model has its first snapshot until it is deleted, so the last snapshot key
            // (and the last log key) carry the largest model number in use.
            for db in [dbs.snapshots, dbs.ops] {
                if let Some((key, _)) = db.last(&rtxn).map_err(db_err)? {
                    let (n, _) = split_num_key(key)
                        .ok_or_else(|| StoreError::Corrupt("malformed log key".into()))?;
                    max = max.max(n);
                }
            }
            max.saturating_add(1)
        };

        let page_size = u64::from(env.stat().page_size);
        let shared = Arc::new(Shared {
            env,
            dbs,
            commits: AtomicU64::new(0),
            progress: Mutex::new(Progress::default()),
            changed: Condvar::new(),
        });
        let wal = if owner {
            Some(Wal::create(&wal_dir, last_lsn + 1, WAL_SEGMENT_BYTES)?)
        } else {
            None
        };
        {
            let mut p = shared.lock();
            p.logged = last_lsn;
            p.applied = last_lsn;
        }
        let applier = Applier {
            closed: wal.as_ref().map(Wal::closed_segments).unwrap_or_default(),
            interval: options.apply_interval,
            follow: (!owner).then(|| wal_dir.clone()),
            db: applier,
            retry_at: None,
        };
        let mut logger = Logger {
            shared: shared.clone(),
            wal,
            max_batch: options.max_batch.max(1),
            buf: Vec::with_capacity(4096),
            page_size,
        };
        let applier_handle = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("tandem-store-applier".into())
                .spawn(move || applier.run(&shared))
                .map_err(|e| StoreError::Io(format!("spawn the store applier thread: {e}")))?
        };
        let (sender, receiver) = mpsc::channel();
        let handle = match std::thread::Builder::new()
            .name("tandem-store-writer".into())
            .spawn(move || logger.run(receiver))
        {
            Ok(h) => h,
            Err(e) => {
                shared.lock().closing = true;
                shared.changed.notify_all();
                let _ = applier_handle.join();
                return Err(StoreError::Io(format!(
                    "spawn the store writer thread: {e}"
                )));
            }
        };
        Ok(LmdbStore {
            sender: Some(sender),
            logs: owner,
            writer: Some(handle),
            applier: Some(applier_handle),
            shared,
            next_number: AtomicU64::new(next_number),
            path,
            _lock: lock,
            _registration: registration,
        })
    }

    /// The canonical path of the data directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of durable group writes (write-ahead log syncs and direct commits) since the
    /// store was opened (for tests and monitoring of group commit).
    pub fn commit_count(&self) -> u64 {
        self.shared.commits.load(Ordering::Relaxed)
    }

    /// Overwrites the stored format version of the (closed) store in `path`. For tests of the
    /// version check only.
    #[doc(hidden)]
    pub fn set_format_version_for_tests(path: &Path, version: u32) -> StoreResult<()> {
        let path = std::fs::canonicalize(path).map_err(io)?;
        let _registration = Registration::claim(path.clone())?;
        let env = open_env(&path, MAP_GRANULE)?;
        let mut wtxn = env.write_txn().map_err(db_err)?;
        let meta: Db = env
            .create_database(&mut wtxn, Some("meta"))
            .map_err(db_err)?;
        meta.put(&mut wtxn, VERSION_KEY, &version.to_be_bytes())
            .map_err(db_err)?;
        wtxn.commit().map_err(db_err)?;
        Ok(())
    }

    fn read_txn(&self) -> StoreResult<RoTxn<'_, WithoutTls>> {
        self.shared.caught_up()?;
        self.shared.env.read_txn().map_err(db_err)
    }

    fn dbs(&self) -> &Dbs {
        &self.shared.dbs
    }
}

impl std::fmt::Debug for LmdbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LmdbStore")
            .field("path", &self.path)
            .field("commits", &self.commit_count())
            .finish_non_exhaustive()
    }
}

impl Drop for LmdbStore {
    fn drop(&mut self) {
        // Closing the channel lets the writer drain what is queued, then exit.
        drop(self.sender.take());
        if let Some(handle) = self.writer.take() {
            if handle.join().is_err() {
                tracing::error!("the store writer thread panicked");
            }
        }
        // The writer is gone: the applier applies what is queued, then stops.
        self.shared.lock().closing = true;
        self.shared.changed.notify_all();
        if let Some(handle) = self.applier.take() {
            if handle.join().is_err() {
                tracing::error!("the store applier thread panicked");
            }
        }
    }
}

impl Store for LmdbStore {
    fn write(&self, batch: Vec<WriteOp>, done: CommitCallback) {
        let Some(sender) = &self.sender else {
            return done(Err(StoreError::Closed));
        };
        if let Err(e) = check_keys(&batch) {
            tracing::warn!("write refused before logging: {e}");
            return done(Err(e));
        }
        let request = if self.logs && !is_direct(&batch) {
            // Encoded here, on the caller's thread: the records were made here and are freed
            // here, and the writer only copies bytes (profiles showed the writer thread spend a
            // third of its time freeing records another thread had allocated).
            let weight = weight_of(&batch);
            let mut bytes = Vec::new();
            if let Err(e) = batch::encode_batch(&batch, &mut bytes) {
                return done(Err(e));
            }
            drop(batch);
            Request::Encoded {
                bytes,
                weight,
                done,
            }
        } else {
            Request::Write { batch, done }
        };
        match sender.send(request) {
            Ok(()) => {}
            Err(mpsc::SendError(Request::Write { done, .. }))
            | Err(mpsc::SendError(Request::Encoded { done, .. })) => done(Err(StoreError::Closed)),
            Err(mpsc::SendError(Request::Flush(_))) => {}
        }
    }

    fn domain(&self, key: &DomainKey) -> StoreResult<Option<DomainRecord>> {
        let rtxn = self.read_txn()?;
        self.dbs()
            .domains
            .get(&rtxn, &domain_key(key))
            .map_err(db_err)?
            .map(codec::decode_domain)
            .transpose()
    }

    fn domains(&self) -> StoreResult<Vec<DomainRecord>> {
        let rtxn = self.read_txn()?;
        let mut out = Vec::new();
        for item in self.dbs().domains.iter(&rtxn).map_err(db_err)? {
            let (_, bytes) = item.map_err(db_err)?;
            out.push(codec::decode_domain(bytes)?);
        }
        Ok(out)
    }

    fn collection(&self, domain: &DomainKey, id: &str) -> StoreResult<Option<CollectionRecord>> {
        let rtxn = self.read_txn()?;
        self.dbs()
            .collections
            .get(&rtxn, &child_key(domain, id))
            .map_err(db_err)?
            .map(codec::decode_collection)
            .transpose()
    }

    fn collections(&self, domain: &DomainKey) -> StoreResult<Vec<CollectionRecord>> {
        let rtxn = self.read_txn()?;
        let prefix = domain_key(domain);
        let mut out = Vec::new();
        for item in self
            .dbs()
            .collections
            .prefix_iter(&rtxn, &prefix)
            .map_err(db_err)?
        {
            let (_, bytes) = item.map_err(db_err)?;
            out.push(codec::decode_collection(bytes)?);
        }
        Ok(out)
    }

    fn model(&self, domain: &DomainKey, id: &str) -> StoreResult<Option<ModelMeta>> {
        let rtxn = self.read_txn()?;
        self.dbs()
            .models
            .get(&rtxn, &child_key(domain, id))
            .map_err(db_err)?
            .map(codec::decode_model_meta)
            .transpose()
    }

    fn models(&self, domain: &DomainKey, collection: Option<&str>) -> StoreResult<Vec<ModelMeta>> {
        let rtxn = self.read_txn()?;
        let prefix = domain_key(domain);
        let mut out = Vec::new();
        for item in self
            .dbs()
            .models
            .prefix_iter(&rtxn, &prefix)
            .map_err(db_err)?
        {
            let (_, bytes) = item.map_err(db_err)?;
            let meta = codec::decode_model_meta(bytes)?;
            if collection.is_none_or(|c| meta.collection == c) {
                out.push(meta);
            }
        }
        Ok(out)
    }

    fn ops(&self, number: u64, first: u64, last: u64) -> StoreResult<Vec<OpRecord>> {
        if first > last {
            return Ok(Vec::new());
        }
        let rtxn = self.read_txn()?;
        let (lo, hi) = (num_key(number, first), num_key(number, last));
        let iter = self
            .dbs()
            .ops
            .range(&rtxn, &range_of(&lo, &hi))
            .map_err(db_err)?;
        let mut out = Vec::with_capacity(usize::try_from(last - first).unwrap_or(0).min(4096));
        for item in iter {
            let (_, bytes) = item.map_err(db_err)?;
            out.push(codec::decode_op(bytes)?);
        }
        Ok(out)
    }

    fn index_scan(
        &self,
        range: &super::index::IndexRange,
        visit: &mut dyn FnMut(&[u8], &str) -> bool,
    ) -> StoreResult<()> {
        let rtxn = self.read_txn()?;
        index::scan(&rtxn, self.dbs(), range, visit)
    }

    fn snapshot_at_or_before(&self, number: u64, version: u64) -> StoreResult<Option<Snapshot>> {
        let rtxn = self.read_txn()?;
        let key = num_key(number, version);
        match self
            .dbs()
            .snapshots
            .get_lower_than_or_equal_to(&rtxn, &key)
            .map_err(db_err)?
        {
            Some((k, bytes)) if split_num_key(k).is_some_and(|(n, _)| n == number) => {
                codec::decode_snapshot(bytes).map(Some)
            }
            _ => Ok(None),
        }
    }

    fn version_at_time(&self, number: u64, time_ms: i64) -> StoreResult<Option<u64>> {
        let rtxn = self.read_txn()?;
        let db = self.dbs().ops;
        // The first record at or after `(number, version)` within the model: its version and
        // timestamp.
        let seek = |version: u64| -> StoreResult<Option<(u64, i64)>> {
            match db
                .get_greater_than_or_equal_to(&rtxn, &num_key(number, version))
                .map_err(db_err)?
            {
                Some((k, bytes)) => match split_num_key(k) {
                    Some((n, v)) if n == number => Ok(Some((v, codec::decode_op_time(bytes)?.1))),
                    _ => Ok(None),
                },
                None => Ok(None),
            }
        };
        let Some((first, first_time)) = seek(0)? else {
            return Ok(None);
        };
        if first_time > time_ms {
            return Ok(None);
        }
        let (last, last_time) = match db
            .get_lower_than_or_equal_to(&rtxn, &num_key(number, u64::MAX))
            .map_err(db_err)?
        {
            Some((k, bytes)) => match split_num_key(k) {
                Some((n, v)) if n == number => (v, codec::decode_op_time(bytes)?.1),
                _ => return Ok(None),
            },
            None => return Ok(None),
        };
        if last_time <= time_ms {
            return Ok(Some(last));
        }
        // Timestamps do not decrease with the version, so "the first record at or after v is
        // at or before time_ms" holds for v up to the answer and fails after it. Invariant:
        // it holds at `good` and fails at `bad`; `good` is always a stored version.
        let (mut good, mut bad) = (first, last);
        while bad - good > 1 {
            let mid = good + (bad - good) / 2;
            match seek(mid)? {
                Some((_, t)) if t <= time_ms => good = mid,
                _ => bad = mid,
            }
        }
        Ok(Some(good))
    }

    fn user(
        &self,
        domain: &DomainKey,
        user_type: UserType,
        username: &str,
    ) -> StoreResult<Option<UserRecord>> {
        let rtxn = self.read_txn()?;
        self.dbs()
            .users
            .get(&rtxn, &user_key(domain, user_type, username))
            .map_err(db_err)?
            .map(codec::decode_user)
            .transpose()
    }

    fn users(&self, domain: &DomainKey) -> StoreResult<Vec<UserRecord>> {
        let rtxn = self.read_txn()?;
        let prefix = domain_key(domain);
        let mut out = Vec::new();
        for item in self
            .dbs()
            .users
            .prefix_iter(&rtxn, &prefix)
            .map_err(db_err)?
        {
            let (_, bytes) = item.map_err(db_err)?;
            out.push(codec::decode_user(bytes)?);
        }
        Ok(out)
    }

    fn jwt_key(&self, domain: &DomainKey, id: &str) -> StoreResult<Option<JwtKeyRecord>> {
        let rtxn = self.read_txn()?;
        self.dbs()
            .jwt_keys
            .get(&rtxn, &child_key(domain, id))
            .map_err(db_err)?
            .map(codec::decode_jwt_key)
            .transpose()
    }

    fn jwt_keys(&self, domain: &DomainKey) -> StoreResult<Vec<JwtKeyRecord>> {
        let rtxn = self.read_txn()?;
        let prefix = domain_key(domain);
        let mut out = Vec::new();
        for item in self
            .dbs()
            .jwt_keys
            .prefix_iter(&rtxn, &prefix)
            .map_err(db_err)?
        {
            let (_, bytes) = item.map_err(db_err)?;
            out.push(codec::decode_jwt_key(bytes)?);
        }
        Ok(out)
    }

    fn reconnect_token(
        &self,
        domain: &DomainKey,
        token: &str,
    ) -> StoreResult<Option<ReconnectTokenRecord>> {
        let rtxn = self.read_txn()?;
        self.dbs()
            .tokens
            .get(&rtxn, &child_key(domain, token))
            .map_err(db_err)?
            .map(codec::decode_reconnect_token)
            .transpose()
    }

    fn permissions(
        &self,
        domain: &DomainKey,
        target: &PermissionTarget,
    ) -> StoreResult<Vec<PermissionRow>> {
        let rtxn = self.read_txn()?;
        acl::permissions(&rtxn, self.dbs(), domain, target)
    }

    fn permission(
        &self,
        domain: &DomainKey,
        target: &PermissionTarget,
        grantee: &Grantee,
    ) -> StoreResult<Vec<String>> {
        let rtxn = self.read_txn()?;
        acl::permission(&rtxn, self.dbs(), domain, target, grantee)
    }

    fn activity(
        &self,
        domain: &DomainKey,
        activity_type: &str,
        id: &str,
    ) -> StoreResult<Option<ActivityRecord>> {
        let rtxn = self.read_txn()?;
        activities::activity(&rtxn, self.dbs(), domain, activity_type, id)
    }

    fn admin(&self, username: &str) -> StoreResult<Option<AdminRecord>> {
        let rtxn = self.read_txn()?;
        credentials::admin(&rtxn, self.dbs(), username)
    }

    fn admins(&self) -> StoreResult<Vec<AdminRecord>> {
        let rtxn = self.read_txn()?;
        credentials::admins(&rtxn, self.dbs())
    }

    fn api_key(&self, domain: &DomainKey, id: &str) -> StoreResult<Option<ApiKeyRecord>> {
        let rtxn = self.read_txn()?;
        credentials::api_key(&rtxn, self.dbs(), domain, id)
    }

    fn api_keys(&self, domain: &DomainKey) -> StoreResult<Vec<ApiKeyRecord>> {
        let rtxn = self.read_txn()?;
        credentials::api_keys(&rtxn, self.dbs(), domain)
    }

    fn webhooks(&self, domain: Option<&DomainKey>) -> StoreResult<Vec<WebhookRecord>> {
        let rtxn = self.read_txn()?;
        webhooks::webhooks(&rtxn, self.dbs(), domain)
    }

    fn deliveries(&self, domain: &DomainKey, webhook: &str) -> StoreResult<Vec<DeliveryRecord>> {
        let rtxn = self.read_txn()?;
        webhooks::deliveries(&rtxn, self.dbs(), domain, webhook)
    }

    fn chat(&self, domain: &DomainKey, id: &str) -> StoreResult<Option<ChatRecord>> {
        let rtxn = self.read_txn()?;
        chats::chat(&rtxn, self.dbs(), domain, id)
    }

    fn chats(&self, domain: &DomainKey) -> StoreResult<Vec<ChatRecord>> {
        let rtxn = self.read_txn()?;
        chats::chats(&rtxn, self.dbs(), domain)
    }

    fn chat_events(
        &self,
        domain: &DomainKey,
        chat: &str,
        first: u64,
        last: u64,
    ) -> StoreResult<Vec<ChatEvent>> {
        let rtxn = self.read_txn()?;
        chats::events(&rtxn, self.dbs(), domain, chat, first, last)
    }

    fn activities(&self, domain: &DomainKey) -> StoreResult<Vec<ActivityRecord>> {
        let rtxn = self.read_txn()?;
        activities::activities(&rtxn, self.dbs(), domain)
    }

    fn group(&self, domain: &DomainKey, id: &str) -> StoreResult<Option<GroupRecord>> {
        let rtxn = self.read_txn()?;
        acl::group(&rtxn, self.dbs(), domain, id)
    }

    fn groups(&self, domain: &DomainKey) -> StoreResult<Vec<GroupRecord>> {
        let rtxn = self.read_txn()?;
        acl::groups(&rtxn, self.dbs(), domain)
    }

    fn group_members(&self, domain: &DomainKey, id: &str) -> StoreResult<Vec<(UserType, String)>> {
        let rtxn = self.read_txn()?;
        acl::group_members(&rtxn, self.dbs(), domain, id)
    }

    fn user_groups(
        &self,
        domain: &DomainKey,
        user_type: UserType,
        username: &str,
    ) -> StoreResult<Vec<String>> {
        let rtxn = self.read_txn()?;
        acl::user_groups(&rtxn, self.dbs(), domain, user_type, username)
    }

    fn allocate_model_number(&self) -> u64 {
        self.next_number.fetch_add(1, Ordering::Relaxed)
    }

    fn flush(&self) -> StoreResult<()> {
        let sender = self.sender.as_ref().ok_or(StoreError::Closed)?;
        let (tx, rx) = mpsc::sync_channel(1);
        sender
            .send(Request::Flush(tx))
            .map_err(|_| StoreError::Closed)?;
        rx.recv().map_err(|_| StoreError::Closed)
    }

    fn stats(&self) -> StoreResult<StoreStats> {
        let rtxn = self.read_txn()?;
        let pages = |db: Db| -> StoreResult<(u64, u64)> {
            let s = db.stat(&rtxn).map_err(db_err)?;
            let pages = (s.branch_pages + s.leaf_pages + s.overflow_pages) as u64;
            Ok((pages * u64::from(s.page_size), s.entries as u64))
        };
        let (log_bytes, op_count) = pages(self.dbs().ops)?;
        let (snapshot_bytes, _) = pages(self.dbs().snapshots)?;
        let file_bytes = ["data.mdb", "lock.mdb"]
            .iter()
            .filter_map(|f| std::fs::metadata(self.path.join(f)).ok())
            .map(|m| m.len())
            .sum::<u64>()
            + wal::bytes(&self.path.join("wal"));
        Ok(StoreStats {
            file_bytes,
            log_bytes,
            snapshot_bytes,
            op_count,
        })
    }
}
