//! The sequencer: the one task that owns an open model. It orders submissions, transforms each
//! against what its submitter had not seen, applies it, hands the record to the store, and only
//! when the store reports the batch durable does it acknowledge the submitter and send the
//! operation to the other sessions — in gap-free version order.

use super::ModelsConfig;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use tracing::{debug, warn};

mod delivery;
mod ephemeral;
mod host;
mod index;
mod perms;
mod refs;
mod snapshots;
mod undo;

use delivery::{AckRun, Delivery};
pub(crate) use undo::{UndoCommitted, UndoWork};

use super::concurrency::{ClientKey, Concurrency, NO_CLIENT};
use super::events::{EngineEvent, EventBus};
use super::{
    EventSink, ForceCloseReason, ModelData, ModelError, ModelEvent, ModelResult, OfflineCopy,
    OpenedModel, ReferenceChange, ReplayedOp, SessionInfo, SessionModel, SharedReference,
};
use crate::metrics::EngineMetrics;
use crate::ot::json::{IdGenerator, JsonValue};
use crate::ot::{update_reference_on_apply, Document, JsString, Operation, PathSegment, ValueId};
use crate::perm::Actor;
use crate::sources::Clock;
use crate::store::{
    codec::OpFields, DomainKey, EncodedOps, ModelMeta, OpMark, Snapshot, SnapshotPolicies,
    SnapshotPolicy, Store, StoreError, StoreResult, WriteOp,
};

/// The key the host's own changes use in concurrency control.
const HOST_KEY: ClientKey = 0;
/// The session name recorded for host-side changes.
pub(crate) const HOST_SESSION: &str = "host";

/// The session a host change is recorded and broadcast under: [`HOST_SESSION`] for the host
/// user, `host:<user>` for a change made on behalf of a user (an undo, `apply_as`), so that
/// clients map each such session to its user.
pub(crate) fn host_session(user: &str) -> Arc<str> {
    if user == crate::store::UserId::host().to_key() {
        Arc::from(HOST_SESSION)
    } else {
        Arc::from(format!("{HOST_SESSION}:{user}"))
    }
}
/// Most commands a sequencer handles before it flushes to the store.
const MAX_BATCH: usize = 256;
/// Command buffer an idle sequencer keeps.
const IDLE_BATCH: usize = 8;

/// A change a host makes to a model, addressed by path rather than by value id.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// Set the value at `path`: a property (added if missing) or an array element; an empty
    /// path replaces the whole data (which must be an object).
    Set {
        /// Where.
        path: Vec<PathSegment>,
        /// The new value.
        value: JsonValue,
    },
    /// Insert into the array at `path`.
    Insert {
        /// The array.
        path: Vec<PathSegment>,
        /// Position (0 ..= length).
        index: i64,
        /// The new element.
        value: JsonValue,
    },
    /// Remove the property or array element at `path`.
    Remove {
        /// Where.
        path: Vec<PathSegment>,
    },
    /// Move an element of the array at `path`.
    Move {
        /// The array.
        path: Vec<PathSegment>,
        /// Source position.
        from: i64,
        /// Destination position.
        to: i64,
    },
    /// Splice the string at `path` (positions in UTF-16 units).
    Splice {
        /// The string.
        path: Vec<PathSegment>,
        /// Start.
        index: i64,
        /// Units to delete.
        delete: i64,
        /// Text to insert (any UTF-16 code units).
        insert: JsString,
    },
    /// Add to the number at `path`.
    Add {
        /// The number.
        path: Vec<PathSegment>,
        /// Amount.
        delta: f64,
    },
    /// A raw operation addressed by value ids, applied at the current version.
    Operation(Operation),
}

/// What a sequencer is asked to do.
pub(crate) enum Command {
    Open {
        session: SessionInfo,
        sink: EventSink,
        /// For a reconnecting session: what it had seen; it receives the operations after
        /// that instead of the data.
        resync: Option<ResyncFrom>,
        reply: oneshot::Sender<ModelResult<OpenedModel>>,
    },
    Close {
        session: String,
        reply: Option<oneshot::Sender<ModelResult<()>>>,
    },
    Submit {
        session: Arc<str>,
        seq: u64,
        context: u64,
        op: Operation,
    },
    Host {
        changes: Vec<Change>,
        user: String,
        reply: oneshot::Sender<ModelResult<u64>>,
    },
    /// An undo (or redo) carried to `work.from` off the task: finished and committed here.
    Undo {
        work: UndoWork,
        reply: oneshot::Sender<ModelResult<UndoCommitted>>,
    },
    Reference {
        session: String,
        context: u64,
        target: Option<ValueId>,
        key: String,
        change: ReferenceChange,
    },
    Read {
        reply: oneshot::Sender<ModelResult<ModelData>>,
    },
    /// A copy for a client's offline storage: the data and the actor's rights (it needs read),
    /// with a new value-id prefix for a first download.
    OfflineCopy {
        actor: Actor,
        fresh_prefix: bool,
        reply: oneshot::Sender<ModelResult<OfflineCopy>>,
    },
    Delete {
        reply: oneshot::Sender<ModelResult<()>>,
    },
    /// The model's or its collection's permissions changed: resolve every session's again.
    Reauthorize,
    /// The domain's snapshot policies changed.
    Policies(Arc<SnapshotPolicies>),
    Shutdown {
        reply: oneshot::Sender<()>,
    },
    Durable {
        batch: u64,
        result: StoreResult<()>,
    },
    /// The deletion of an ephemeral model is durable (or failed).
    Deleted {
        result: StoreResult<()>,
    },
}

/// Where a reconnecting session resumes.
#[derive(Clone, Debug)]
pub(crate) struct ResyncFrom {
    /// The last version the client had confirmed.
    pub version: u64,
    /// The client's earlier sessions (their operations after `version` are its own).
    pub earlier_sessions: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum SlotState {
    Opening,
    Open,
    Closing,
}

struct Slot {
    key: ClientKey,
    /// The session's id (shared by its operation records).
    name: Arc<str>,
    user: Arc<str>,
    sink: EventSink,
    state: SlotState,
    /// Set once the other sessions have been told it opened (its open was delivered). The
    /// others' collaborator lists hold exactly the announced sessions: an open's session list
    /// names every announced session still present, and from then on the opener is told of
    /// each session announced or leaving, even while its own open is still being delivered.
    announced: bool,
    /// For a resynchronised session: its earlier sessions' committed operations it will
    /// re-send first, as (sequence number, context version they were committed at).
    resends: VecDeque<(u64, u64)>,
    /// The others' references it may hold wrongly (see [`refs`]).
    stale: refs::StaleRefs,
    /// What the session's user may do with the model.
    rights: crate::perm::ModelRights,
}

impl Slot {
    /// Whether it should hear of other sessions opening and closing.
    fn listening(&self) -> bool {
        matches!(self.state, SlotState::Opening | SlotState::Open)
    }
}

enum Awaiting {
    Op(Delivery),
    Open {
        session: String,
        reply: oneshot::Sender<ModelResult<OpenedModel>>,
        state: OpenedModel,
    },
    Close {
        session: String,
        reply: Option<oneshot::Sender<ModelResult<()>>>,
    },
    Broadcast {
        except: String,
        event: ModelEvent,
    },
    /// References sent again to one session (see [`refs`]).
    Refresh {
        session: String,
        events: Vec<ModelEvent>,
    },
    Read {
        reply: oneshot::Sender<ModelResult<ModelData>>,
        data: ModelData,
    },
    /// Boxed: rare, and it would make every waiting operation's slot larger.
    Offline {
        reply: oneshot::Sender<ModelResult<OfflineCopy>>,
        copy: Box<OfflineCopy>,
    },
}

/// Converts a number to base 36 (the wire form of value-id prefixes).
pub(crate) fn base36(mut n: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    if n == 0 {
        return "0".into();
    }
    let mut out = Vec::new();
    while n > 0 {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Hooks the sequencer needs from its owner.
pub(crate) trait Registry: Send + Sync + 'static {
    /// Removes the sequencer's mailbox from the registry if nothing is queued; true if removed.
    fn try_retire(
        &self,
        domain: &DomainKey,
        model: &str,
        rx: &mut mpsc::UnboundedReceiver<Command>,
    ) -> bool;
    /// Removes the sequencer's mailbox unconditionally (after deletion or failure).
    fn retire(&self, domain: &DomainKey, model: &str);
}

pub(crate) struct Sequencer {
    domain: DomainKey,
    model_id: Arc<str>,
    meta: ModelMeta,
    doc: Document,
    cc: Concurrency,
    sessions: HashMap<String, Slot, foldhash::fast::RandomState>,
    next_key: ClientKey,
    store: Arc<dyn Store>,
    bus: EventBus,
    clock: Arc<dyn Clock>,
    config: ModelsConfig,
    tx: mpsc::UnboundedSender<Command>,
    /// Operations committed and commit latency.
    metrics: Arc<EngineMetrics>,
    /// Operation records of the batch, encoded as they are applied.
    batch_ops: EncodedOps,
    /// Why the batch cannot be written (a record that could not be encoded).
    batch_failed: Option<StoreError>,
    batch_meta_dirty: bool,
    batch_snapshot: Option<Snapshot>,
    /// The query index entries of the model's data.
    index: index::ModelIndex,
    batch_id: u64,
    durable_id: u64,
    awaiting: VecDeque<(u64, Awaiting)>,
    released_version: u64,
    last_snapshot_version: u64,
    last_snapshot_ms: i64,
    last_ts: i64,
    /// The clock read once per batch of commands (a read per operation showed in profiles).
    batch_now: Option<i64>,
    /// Acknowledgements being gathered into one event while durable operations are released.
    ack_run: Option<AckRun>,
    host_ids: Option<IdGenerator>,
    references: Vec<(ClientKey, SharedReference)>,
    /// Index and range references as their owners hold them (see [`refs`]).
    frames: Vec<refs::Frame>,
    shutdown_pending: Option<oneshot::Sender<()>>,
    exit_replies: Vec<Box<dyn FnOnce() + Send>>,
    /// Set when the task ends by its own decision; a sequencer dropped without it crashed.
    clean_exit: bool,
    /// An ephemeral model's deletion after its last session.
    deletion: ephemeral::Deletion,
    /// The snapshot policy of the model's domain or collection (`None`: the engine's rule).
    policy: Option<SnapshotPolicy>,
}

impl Drop for Sequencer {
    /// A sequencer dropped without a clean exit panicked: every session still open is told,
    /// with a reason, and the model reloads from the store at its next open (the mailbox is
    /// closed with the task). Only sends here: nothing that could panic again.
    fn drop(&mut self) {
        // A task dropped by a stopping runtime is not a crash.
        if self.clean_exit || !std::thread::panicking() {
            return;
        }
        let sessions: Vec<&str> = self.sessions.keys().map(String::as_str).collect();
        tracing::error!(
            model = %self.meta.id,
            domain = %self.domain,
            ?sessions,
            "model task crashed; closing its sessions, the model reloads at its next open"
        );
        for slot in self.sessions.values() {
            let _ = slot.sink.send(ModelEvent::ForceClosed {
                model: self.model_id.clone(),
                reason: ForceCloseReason::Unknown,
                message: "internal error in the model; open it again".into(),
            });
        }
    }
}

enum Flow {
    Continue,
    Stop,
}

impl Sequencer {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        domain: DomainKey,
        meta: ModelMeta,
        doc: Document,
        snapshot: (u64, i64),
        policy: Option<SnapshotPolicy>,
        store: Arc<dyn Store>,
        bus: EventBus,
        clock: Arc<dyn Clock>,
        config: ModelsConfig,
        tx: mpsc::UnboundedSender<Command>,
        metrics: Arc<EngineMetrics>,
    ) -> Self {
        let version = meta.version;
        let index = index::ModelIndex::new(&domain, &meta.collection, &doc);
        Sequencer {
            model_id: Arc::from(meta.id.as_str()),
            cc: Concurrency::new(version, config.max_history),
            domain,
            last_ts: meta.modified_ms,
            batch_now: None,
            ack_run: None,
            meta,
            doc,
            sessions: HashMap::default(),
            next_key: 1,
            store,
            bus,
            clock,
            config,
            tx,
            batch_ops: EncodedOps::new(),
            batch_failed: None,
            batch_meta_dirty: false,
            batch_snapshot: None,
            index,
            batch_id: 1,
            durable_id: 0,
            awaiting: VecDeque::new(),
            released_version: version,
            last_snapshot_version: snapshot.0,
            last_snapshot_ms: snapshot.1,
            host_ids: None,
            references: Vec::new(),
            frames: Vec::new(),
            shutdown_pending: None,
            exit_replies: Vec::new(),
            clean_exit: false,
            deletion: ephemeral::Deletion::default(),
            policy,
            metrics,
        }
    }

    /// Runs until retired, deleted, shut down, or failed.
    pub(crate) async fn run(
        mut self,
        mut rx: mpsc::UnboundedReceiver<Command>,
        registry: Arc<dyn Registry>,
    ) {
        // Commands handled per flush: up to MAX_BATCH under load; an idle model keeps a
        // small buffer (it is most of an idle model's memory otherwise).
        let mut buf = Vec::with_capacity(IDLE_BATCH);
        loop {
            let idle = self.sessions.is_empty() && self.awaiting.is_empty();
            let n = if idle {
                match tokio::time::timeout(
                    self.config.passivate_after(),
                    rx.recv_many(&mut buf, MAX_BATCH),
                )
                .await
                {
                    Ok(n) => n,
                    Err(_) => {
                        if registry.try_retire(&self.domain, &self.meta.id, &mut rx) {
                            debug!(model = %self.meta.id, "model passivated");
                            self.clean_exit = true;
                            return;
                        }
                        continue;
                    }
                }
            } else {
                rx.recv_many(&mut buf, MAX_BATCH).await
            };
            if n == buf.capacity() && n < MAX_BATCH {
                buf.reserve(MAX_BATCH - n);
            } else if n < IDLE_BATCH && buf.capacity() > IDLE_BATCH {
                buf.shrink_to(IDLE_BATCH);
            }
            if n == 0 {
                self.clean_exit = true;
                return;
            }
            self.batch_now = None;
            for cmd in buf.drain(..) {
                match self.handle(cmd) {
                    Flow::Continue => {}
                    Flow::Stop => {
                        registry.retire(&self.domain, &self.meta.id);
                        // Answer only once this task holds nothing (the store in particular):
                        // whoever waits may close or reopen it next.
                        let replies = std::mem::take(&mut self.exit_replies);
                        self.clean_exit = true;
                        drop(self);
                        drop(registry);
                        for reply in replies {
                            reply();
                        }
                        return;
                    }
                }
            }
            self.flush();
            self.delete_if_due();
        }
    }

    fn handle(&mut self, cmd: Command) -> Flow {
        if self.deletion.writing() {
            return self.handle_while_deleting(cmd);
        }
        match cmd {
            Command::Open {
                session,
                sink,
                resync,
                reply,
            } => self.open(session, sink, resync, reply),
            Command::Close { session, reply } => self.close(session, reply),
            Command::Submit {
                session,
                seq,
                context,
                op,
            } => self.submit(&session, seq, context, op),
            Command::Host {
                changes,
                user,
                reply,
            } => self.host(changes, user, reply),
            Command::Undo { work, reply } => self.undo(work, reply),
            Command::Reference {
                session,
                context,
                target,
                key,
                change,
            } => self.reference(&session, context, target, key, change),
            Command::Read { reply } => {
                let data = self.model_data();
                self.awaiting
                    .push_back((self.batch_id, Awaiting::Read { reply, data }));
            }
            Command::OfflineCopy {
                actor,
                fresh_prefix,
                reply,
            } => self.offline_copy(&actor, fresh_prefix, reply),
            Command::Reauthorize => self.reauthorize(),
            Command::Policies(p) => self.policy = p.for_collection(&self.meta.collection),
            Command::Delete { reply } => {
                self.fail_all(ForceCloseReason::Deleted, "the model was deleted");
                self.exit_replies.push(Box::new(move || {
                    let _ = reply.send(Ok(()));
                }));
                return Flow::Stop;
            }
            Command::Shutdown { reply } => {
                self.flush();
                // Stay until every queued write is durable, then close everyone.
                self.shutdown_pending = Some(reply);
            }
            Command::Deleted { .. } => {}
            Command::Durable { batch, result } => match result {
                Ok(()) => {
                    self.durable_id = self.durable_id.max(batch);
                    self.release();
                }
                Err(e) => {
                    warn!(model = %self.meta.id, error = %e, "write failed; closing the model");
                    self.fail_all(
                        ForceCloseReason::UnexpectedCommittedVersion,
                        &format!("storage failed: {e}"),
                    );
                    return Flow::Stop;
                }
            },
        }
        if self.shutdown_pending.is_some() && self.awaiting.is_empty() && self.nothing_to_write() {
            self.fail_all(
                ForceCloseReason::ServerShutdown,
                "the server is shutting down",
            );
            if let Some(reply) = self.shutdown_pending.take() {
                self.exit_replies.push(Box::new(move || {
                    let _ = reply.send(());
                }));
            }
            return Flow::Stop;
        }
        Flow::Continue
    }
}

impl Sequencer {
    fn model_data(&self) -> ModelData {
        ModelData {
            version: self.cc.version(),
            data: self.doc.to_value(),
            created_ms: self.meta.created_ms,
            modified_ms: self.meta.modified_ms,
            collection: self.meta.collection.clone(),
        }
    }

    fn nothing_to_write(&self) -> bool {
        self.batch_ops.is_empty() && !self.batch_meta_dirty && self.batch_snapshot.is_none()
    }

    fn send(&self, session: &str, event: ModelEvent) {
        if let Some(slot) = self.sessions.get(session) {
            let _ = slot.sink.send(event);
        }
    }

    fn open(
        &mut self,
        session: SessionInfo,
        sink: EventSink,
        resync: Option<ResyncFrom>,
        reply: oneshot::Sender<ModelResult<OpenedModel>>,
    ) {
        if self.sessions.contains_key(&session.session) {
            let _ = reply.send(Err(ModelError::AlreadyOpen(session.session)));
            return;
        }
        // Resolved here, in the model's own order of events, so that a permission change
        // committed before this open is seen and one after it re-resolves this session too.
        let actor = Actor::User(crate::store::UserId::from_key(&session.user));
        let rights = match self.read_rights(&actor) {
            Ok(r) => r,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        let mut replay = Vec::new();
        let mut resync_version = self.cc.version();
        if let Some(from) = &resync {
            if from.version == 0 || from.version > self.cc.version() {
                let _ = reply.send(Err(ModelError::Invalid(format!(
                    "cannot resync from version {}: the model is at {}",
                    from.version,
                    self.cc.version()
                ))));
                return;
            }
            replay = match self.operations_after(from) {
                Ok(ops) => ops,
                Err(e) => {
                    let _ = reply.send(Err(e));
                    return;
                }
            };
            if let Some(first) = replay.iter().find(|o| o.own) {
                resync_version = first.version - 1;
            }
        }
        // Every open gets a prefix no other open of this model ever had; it is durable before
        // the session learns it.
        self.meta.value_prefix += 1;
        self.batch_meta_dirty = true;
        let key = self.next_key;
        self.next_key += 1;
        let mut resends = VecDeque::new();
        if resync.is_some() {
            let tail = replay
                .iter()
                .filter(|o| o.version > resync_version)
                .map(|o| (o.own, o.op.clone()));
            self.cc.track_resynced(key, resync_version, tail);
            resends = replay
                .iter()
                .filter(|o| o.own)
                .map(|o| (o.seq.unwrap_or_default(), o.version - 1))
                .collect();
        } else {
            self.cc.track(key);
        }
        let mut sessions: Vec<String> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.announced)
            .map(|(id, _)| id.clone())
            .collect();
        sessions.push(session.session.clone());
        let state = OpenedModel {
            handle: SessionModel::new(
                self.tx.clone(),
                Arc::from(session.session.as_str()),
                self.meta.id.clone(),
            ),
            data: self.model_data(),
            replay,
            resync_version,
            value_prefix: base36(self.meta.value_prefix),
            sessions,
            references: self.references.iter().map(|(_, r)| r.clone()).collect(),
            rights,
        };
        self.sessions.insert(
            session.session.clone(),
            Slot {
                key,
                name: Arc::from(session.session.as_str()),
                user: Arc::from(session.user.as_str()),
                sink,
                state: SlotState::Opening,
                announced: false,
                resends,
                stale: refs::StaleRefs::default(),
                rights,
            },
        );
        if resync.is_some() {
            self.mark_all_stale(&session.session);
        }
        self.awaiting.push_back((
            self.batch_id,
            Awaiting::Open {
                session: session.session,
                reply,
                state,
            },
        ));
    }

    /// The operations after `from.version` up to the current version: the durable ones from
    /// the store, the others from what awaits durability.
    /// Puts back the operations a session lagging far behind needs but the history cap
    /// dropped (from the store, and those not yet durable from the queue of writes awaiting
    /// it), so that its submission (or reference) at `context` can still be transformed.
    /// Does nothing when nothing is missing or they cannot all be found.
    fn fill_history(&mut self, session: &str, key: ClientKey, context: u64) {
        let Some((from, base)) = self.cc.missing(key, context) else {
            return;
        };
        let client = |s: &str| if s == session { key } else { NO_CLIENT };
        let mut ops = Vec::with_capacity((base - from) as usize);
        // History versions are context versions; a record carries the version it produced.
        let stored = base.min(self.released_version);
        if from < stored {
            match self.store.ops(self.meta.number, from + 1, stored) {
                Ok(records) => ops.extend(
                    records
                        .into_iter()
                        .map(|r| (client(&r.session), Arc::new(r.op.into_operation()))),
                ),
                Err(e) => {
                    warn!(model = %self.meta.id, session, "cannot reload history for a lagging session: {e}");
                    return;
                }
            }
        }
        for (_, item) in &self.awaiting {
            if let Awaiting::Op(Delivery {
                context: c,
                submitter,
                op,
                ..
            }) = item
            {
                if *c >= from.max(stored) && *c < base {
                    let who = submitter.as_ref().map_or(NO_CLIENT, |(s, _)| client(s));
                    ops.push((who, op.clone()));
                }
            }
        }
        if self.cc.restore(from, ops) {
            debug!(model = %self.meta.id, session, from, base, "history reloaded for a lagging session");
        } else {
            warn!(model = %self.meta.id, session, from, base, "could not gather the history a lagging session needs");
        }
    }

    fn operations_after(&self, from: &ResyncFrom) -> ModelResult<Vec<ReplayedOp>> {
        let own = |session: &str| from.earlier_sessions.iter().any(|s| s == session);
        let mut out = Vec::new();
        if from.version < self.released_version {
            for r in self
                .store
                .ops(self.meta.number, from.version + 1, self.released_version)?
            {
                out.push(ReplayedOp {
                    own: own(&r.session),
                    version: r.version,
                    timestamp_ms: r.timestamp_ms,
                    op: Arc::new(r.op.into_operation()),
                    seq: r.seq,
                    session: r.session.to_string(),
                    user: r.user.to_string(),
                });
            }
        }
        for (_, item) in &self.awaiting {
            if let Awaiting::Op(Delivery {
                context,
                submitter,
                user,
                timestamp_ms,
                op,
                ..
            }) = item
            {
                if *context < from.version {
                    continue;
                }
                let (session, seq) = match submitter {
                    Some((s, seq)) => (s.to_string(), Some(*seq)),
                    None => (host_session(user).to_string(), None),
                };
                out.push(ReplayedOp {
                    own: own(&session),
                    version: context + 1,
                    timestamp_ms: *timestamp_ms,
                    session,
                    user: user.to_string(),
                    seq,
                    op: op.clone(),
                });
            }
        }
        let contiguous = out
            .iter()
            .enumerate()
            .all(|(i, o)| o.version == from.version + 1 + i as u64);
        if !contiguous || out.len() as u64 != self.cc.version() - from.version {
            return Err(ModelError::Unavailable(format!(
                "the operations after version {} could not be gathered",
                from.version
            )));
        }
        Ok(out)
    }

    fn close(&mut self, session: String, reply: Option<oneshot::Sender<ModelResult<()>>>) {
        let Some(slot) = self.sessions.get_mut(&session) else {
            if let Some(r) = reply {
                let _ = r.send(Err(ModelError::NotOpen(session)));
            }
            return;
        };
        if slot.state == SlotState::Closing {
            if let Some(r) = reply {
                let _ = r.send(Err(ModelError::NotOpen(session)));
            }
            return;
        }
        slot.state = SlotState::Closing;
        let key = slot.key;
        self.cc.untrack(key);
        self.references.retain(|(k, _)| *k != key);
        self.forget_stale_of(key);
        self.awaiting
            .push_back((self.batch_id, Awaiting::Close { session, reply }));
    }

    fn force_close(&mut self, session: &str, reason: ForceCloseReason, message: String) {
        let Some(slot) = self.sessions.remove(session) else {
            return;
        };
        self.cc.untrack(slot.key);
        self.references.retain(|(k, _)| *k != slot.key);
        self.forget_stale_of(slot.key);
        let _ = slot.sink.send(ModelEvent::ForceClosed {
            model: self.model_id.clone(),
            reason,
            message,
        });
        for (id, other) in &self.sessions {
            if slot.announced && other.listening() && id != session {
                let _ = other.sink.send(ModelEvent::RemoteClosed {
                    model: self.model_id.clone(),
                    session: session.to_string(),
                });
            }
        }
        self.bus.publish(EngineEvent::ModelClosed {
            domain: self.domain.clone(),
            model: self.model_id.to_string(),
            session: session.to_string(),
            user: slot.user.to_string(),
        });
        self.after_session_left();
    }

    fn after_session_left(&mut self) {
        if self.sessions.is_empty() {
            self.deletion.note_last_left(self.meta.ephemeral);
            self.bus.publish(EngineEvent::LastSessionLeft {
                domain: self.domain.clone(),
                model: self.model_id.to_string(),
                version: self.released_version,
            });
        }
    }

    fn next_timestamp(&mut self) -> i64 {
        let now = match self.batch_now {
            Some(now) => now,
            None => *self.batch_now.insert(self.clock.now_ms()),
        };
        self.last_ts = self.last_ts.max(now);
        self.last_ts
    }

    fn submit(&mut self, session: &str, seq: u64, context: u64, mut op: Operation) {
        crate::fault::check(&op, crate::fault::PANIC_IN_SEQUENCER);
        let Some(slot) = self.sessions.get(session) else {
            debug!(model = %self.meta.id, session, "submission for a model the session does not have open");
            return;
        };
        if slot.state != SlotState::Open {
            return;
        }
        if !slot.rights.write {
            self.force_close(
                session,
                ForceCloseReason::Unauthorized,
                format!("operation seq {seq} refused: no write permission on the model"),
            );
            return;
        }
        let (key, user, name) = (slot.key, slot.user.clone(), slot.name.clone());
        if let Some(&(expected, committed_at)) = slot.resends.front() {
            // A reconnected client first re-sends what its earlier sessions got committed.
            let result = if seq == expected {
                self.cc
                    .replay_own(key, context, op, committed_at)
                    .map_err(|e| e.to_string())
            } else {
                Err(format!(
                    "expected the re-sent operation seq {expected} (committed at version {}), got seq {seq}",
                    committed_at + 1
                ))
            };
            match result {
                Ok(()) => {
                    if let Some(slot) = self.sessions.get_mut(session) {
                        slot.resends.pop_front();
                    }
                }
                Err(e) => self.force_close(
                    session,
                    ForceCloseReason::ErrorApplyingOperation,
                    format!("re-sent operation seq {seq} rejected: {e}"),
                ),
            }
            return;
        }
        let due = self.refresh_due(session, context, &op);
        if !self.frames.is_empty() {
            self.advance_frames(key, context, &op);
        }
        self.doc.noop_missing_targets(&mut op);
        self.fill_history(session, key, context);
        let mut pending = match self.cc.process(key, context, op) {
            Ok(p) => p,
            Err(e) => {
                self.force_close(
                    session,
                    ForceCloseReason::ErrorApplyingOperation,
                    format!("operation seq {seq} rejected: {e}"),
                );
                return;
            }
        };
        let to_apply = std::mem::replace(&mut pending.op, Operation::Compound(Vec::new()))
            .without_true_splices();
        let applied = match self.doc.apply(to_apply) {
            Ok(a) => a,
            Err(e) => {
                self.force_close(
                    session,
                    ForceCloseReason::ErrorApplyingOperation,
                    format!("error applying operation seq {seq}: {e}"),
                );
                return;
            }
        };
        let op = Arc::new(applied.operation());
        self.cc.commit(pending, op.clone());
        self.record(applied, user, Some((name, seq)), None, op, None);
        if !self.frames.is_empty() {
            self.reconcile_frames();
        }
        if !due.is_empty() {
            self.queue_refresh(session, due);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        applied: crate::ot::AppliedOperation,
        user: Arc<str>,
        submitter: Option<(Arc<str>, u64)>,
        host_reply: Option<oneshot::Sender<ModelResult<u64>>>,
        op: Arc<Operation>,
        mark: Option<OpMark>,
    ) {
        let timestamp_ms = self.next_timestamp();
        let version = self.cc.version();
        self.index.note(&op);
        for (_, r) in self.references.iter_mut() {
            if let Some(values) = r.values.take() {
                r.values = update_reference_on_apply(&applied, r.target.as_ref(), values);
            }
        }
        let host;
        let (session, seq) = match &submitter {
            Some((session, seq)) => (&**session, Some(*seq)),
            None => {
                host = host_session(&user);
                (&*host, None)
            }
        };
        let fields = OpFields {
            version,
            timestamp_ms,
            session,
            user: &user,
            seq,
            op: &applied,
            mark: mark.as_ref(),
        };
        if let Err(e) = self.batch_ops.push(&fields) {
            // Validation at the door makes this unreachable; if not, the batch fails like a
            // failed write (nothing of it is acknowledged) and the model closes.
            self.batch_failed.get_or_insert(e);
        }
        self.meta.version = version;
        self.meta.modified_ms = timestamp_ms;
        self.batch_meta_dirty = true;
        if self.snapshot_due_at_op(version, timestamp_ms) {
            self.take_snapshot(timestamp_ms);
        }
        self.awaiting.push_back((
            self.batch_id,
            Awaiting::Op(Delivery {
                context: version - 1,
                submitter,
                user,
                timestamp_ms,
                op,
                host_reply,
            }),
        ));
    }

    /// Sends everything written since the last flush to the store as one batch.
    fn flush(&mut self) {
        if !self.nothing_to_write() {
            let now = self.clock.now_ms();
            if self.batch_snapshot.is_none() && self.snapshot_due_at_flush(now) {
                self.take_snapshot(now);
            }
        }
        if self.nothing_to_write() {
            // Whatever waits on this batch only depends on earlier ones.
            let prev = self.batch_id - 1;
            for (tag, _) in self.awaiting.iter_mut().rev() {
                if *tag != self.batch_id {
                    break;
                }
                *tag = prev;
            }
            self.release();
            return;
        }
        let number = self.meta.number;
        let mut writes = Vec::with_capacity(3);
        let ops = self.batch_ops.len() as u64;
        if !self.batch_ops.is_empty() {
            writes.push(WriteOp::AppendEncoded {
                number,
                ops: std::mem::take(&mut self.batch_ops),
            });
        }
        if let Some(snapshot) = self.batch_snapshot.take() {
            writes.push(WriteOp::PutSnapshot { number, snapshot });
        }
        writes.extend(self.index_write());
        writes.push(WriteOp::PutModelMeta(self.meta.clone()));
        self.batch_meta_dirty = false;
        let batch = self.batch_id;
        self.batch_id += 1;
        if let Some(e) = self.batch_failed.take() {
            let _ = self.tx.send(Command::Durable {
                batch,
                result: Err(e),
            });
            return;
        }
        let tx = self.tx.clone();
        let metrics = self.metrics.clone();
        let queued = std::time::Instant::now();
        self.store.write(
            writes,
            Box::new(move |result| {
                if result.is_ok() {
                    metrics.commit_latency.observe(queued.elapsed());
                    metrics.ops_committed.fetch_add(ops, Ordering::Relaxed);
                }
                let _ = tx.send(Command::Durable { batch, result });
            }),
        );
    }

    /// Closes every session and fails everything still waiting.
    fn fail_all(&mut self, reason: ForceCloseReason, message: &str) {
        for (_, item) in self.awaiting.drain(..) {
            match item {
                Awaiting::Op(Delivery {
                    host_reply: Some(r),
                    ..
                }) => {
                    let _ = r.send(Err(ModelError::Unavailable(message.to_string())));
                }
                Awaiting::Open { reply, .. } => {
                    let _ = reply.send(Err(ModelError::Unavailable(message.to_string())));
                }
                Awaiting::Close { reply: Some(r), .. } => {
                    let _ = r.send(Ok(()));
                }
                Awaiting::Read { reply, .. } => {
                    let _ = reply.send(Err(ModelError::Unavailable(message.to_string())));
                }
                Awaiting::Offline { reply, .. } => {
                    let _ = reply.send(Err(ModelError::Unavailable(message.to_string())));
                }
                _ => {}
            }
        }
        let sessions: Vec<String> = self.sessions.keys().cloned().collect();
        for s in sessions {
            self.force_close(&s, reason, message.to_string());
        }
    }
}
