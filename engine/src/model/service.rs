//! The model service: collections and models, routing to one sequencer per open model,
//! and history read straight from the store.

use super::ModelsConfig;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot};
use tracing::{info_span, Instrument};

mod offline;
mod query;
mod query_plan;
mod undo;

use super::events::{EngineEvent, EventBus};
use super::sequencer::{Command, Registry, ResyncFrom, Sequencer};
use super::{
    Change, EventSink, ModelData, ModelError, ModelResult, ReferenceChange, ReplayedOp,
    SessionInfo, SharedReference,
};
use crate::ident::IdKind;
use crate::metrics::EngineMetrics;
use crate::ot::json::{root_from_json_value, IdGenerator, JsonValue};
use crate::ot::{Data, Document, Operation, Value, ValueId};
use crate::perm::{Actor, ModelPermissions, ModelPermissionsChange, ModelRights, Permissions};
use crate::sources::{Clock, IdSource};
use crate::store::{
    CollectionRecord, DomainKey, ModelMeta, OpRecord, Snapshot, SnapshotPolicies, Store,
    StoreError, WriteOp,
};
pub use offline::{OfflineAnswer, OfflineCopy, OfflineKnown};
pub use query::{QueryAnswer, QueryHit};
pub use undo::{SkippedPart, UndoOutcome, UndoScope};

/// A model's metadata.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ModelInfo {
    /// Model id.
    pub id: String,
    /// Collection id.
    pub collection: String,
    /// Current durable version.
    pub version: u64,
    /// Creation time (epoch ms).
    pub created_ms: i64,
    /// Last change (epoch ms).
    pub modified_ms: i64,
}

impl From<&ModelMeta> for ModelInfo {
    fn from(m: &ModelMeta) -> Self {
        ModelInfo {
            id: m.id.clone(),
            collection: m.collection.clone(),
            version: m.version,
            created_ms: m.created_ms,
            modified_ms: m.modified_ms,
        }
    }
}

type ModelKey = (DomainKey, String);

struct Inner {
    store: Arc<dyn Store>,
    bus: EventBus,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
    config: ModelsConfig,
    runtime: Handle,
    models: Mutex<HashMap<ModelKey, mpsc::UnboundedSender<Command>>>,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    closed: AtomicBool,
    metrics: Arc<EngineMetrics>,
}

impl Registry for Inner {
    fn try_retire(
        &self,
        domain: &DomainKey,
        model: &str,
        rx: &mut mpsc::UnboundedReceiver<Command>,
    ) -> bool {
        let Ok(mut models) = self.models.lock() else {
            return false;
        };
        if !rx.is_empty() {
            return false;
        }
        models.remove(&(domain.clone(), model.to_string()));
        rx.close();
        true
    }

    fn retire(&self, domain: &DomainKey, model: &str) {
        if let Ok(mut models) = self.models.lock() {
            models.remove(&(domain.clone(), model.to_string()));
        }
    }
}

/// Collections, models, and the sequencers of open models.
#[derive(Clone)]
pub struct ModelService {
    inner: Arc<Inner>,
}

/// A session's handle on a model it has open.
#[derive(Clone)]
pub struct SessionModel {
    tx: mpsc::UnboundedSender<Command>,
    session: Arc<str>,
    model: String,
}

/// What opening a model gives a session.
pub struct OpenedModel {
    /// Handle for submitting, references and closing.
    pub handle: SessionModel,
    /// The data at the version the session starts from.
    pub data: ModelData,
    /// For a resync: the committed operations after the session's version, up to
    /// `data.version`.
    pub replay: Vec<ReplayedOp>,
    /// For a resync: the version to report as caught up to, just before the first of the
    /// client's own operations in `replay`; those from there on are sent only once the client
    /// has re-sent its unacknowledged operations. `data.version` for a plain open.
    pub resync_version: u64,
    /// The value-id prefix for values this session creates (unique for this open).
    pub value_prefix: String,
    /// Sessions that have the model open, the opener included.
    pub sessions: Vec<String>,
    /// References currently shared.
    pub references: Vec<SharedReference>,
    /// What the session's user may do with the model.
    pub rights: crate::perm::ModelRights,
}

impl SessionModel {
    pub(super) fn new(
        tx: mpsc::UnboundedSender<Command>,
        session: Arc<str>,
        model: String,
    ) -> Self {
        SessionModel { tx, session, model }
    }

    /// The model id.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The session id.
    pub fn session(&self) -> &str {
        &self.session
    }

    /// Submits an operation made at `context_version`; the ack (or a force-close) arrives on
    /// the session's event sink.
    pub fn submit(&self, seq: u64, context_version: u64, op: Operation) -> ModelResult<()> {
        self.tx
            .send(Command::Submit {
                session: self.session.clone(),
                seq,
                context: context_version,
                op,
            })
            .map_err(|_| ModelError::Unavailable("the model is closed".into()))
    }

    /// Shares, sets, clears or unshares a reference made at `context_version`.
    pub fn reference(
        &self,
        context_version: u64,
        target: Option<ValueId>,
        key: String,
        change: ReferenceChange,
    ) -> ModelResult<()> {
        self.tx
            .send(Command::Reference {
                session: self.session.to_string(),
                context: context_version,
                target,
                key,
                change,
            })
            .map_err(|_| ModelError::Unavailable("the model is closed".into()))
    }

    /// Closes the model for this session once its earlier submissions are acknowledged.
    pub async fn close(&self) -> ModelResult<()> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command::Close {
                session: self.session.to_string(),
                reply: Some(reply),
            })
            .map_err(|_| ModelError::Unavailable("the model is closed".into()))?;
        rx.await
            .unwrap_or_else(|_| Err(ModelError::Unavailable("the model is closed".into())))
    }

    /// Closes without waiting (the session went away).
    pub fn close_now(&self) {
        let _ = self.tx.send(Command::Close {
            session: self.session.to_string(),
            reply: None,
        });
    }
}

fn store_err(e: StoreError) -> ModelError {
    ModelError::Store(e)
}

fn perm_err(e: crate::perm::PermissionError) -> ModelError {
    match e {
        crate::perm::PermissionError::Store(s) => ModelError::Store(s),
        crate::perm::PermissionError::GranteeNotFound(g) => ModelError::GranteeNotFound(g),
        other => ModelError::Invalid(other.to_string()),
    }
}

impl ModelService {
    /// A service over `store`, spawning sequencers on `runtime`.
    pub fn new(
        store: Arc<dyn Store>,
        bus: EventBus,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdSource>,
        config: ModelsConfig,
        runtime: Handle,
    ) -> Self {
        ModelService {
            inner: Arc::new(Inner {
                store,
                bus,
                clock,
                ids,
                config,
                runtime,
                models: Mutex::new(HashMap::new()),
                tasks: Mutex::new(Vec::new()),
                closed: AtomicBool::new(false),
                metrics: Arc::default(),
            }),
        }
    }

    /// The engine's counters (operations committed and commit latency are counted here).
    pub fn metrics(&self) -> &Arc<EngineMetrics> {
        &self.inner.metrics
    }

    /// Deletes the ephemeral models a previous run left behind (it stopped while sessions had
    /// them open, or their deletion failed): no session survives a restart, so none is open.
    /// Called once at start, before any session can open one; returns how many it deleted.
    pub fn delete_leftover_ephemeral(&self) -> ModelResult<usize> {
        let store = &self.inner.store;
        let mut batch = Vec::new();
        for d in store.domains().map_err(store_err)? {
            for m in store.models(&d.key, None).map_err(store_err)? {
                if m.ephemeral {
                    batch.push(WriteOp::DeleteModel {
                        domain: m.domain,
                        id: m.id,
                    });
                }
            }
        }
        let n = batch.len();
        if n > 0 {
            let (tx, rx) = std::sync::mpsc::channel();
            store.write(
                batch,
                Box::new(move |r| {
                    let _ = tx.send(r);
                }),
            );
            rx.recv()
                .map_err(|_| ModelError::Store(StoreError::Closed))?
                .map_err(store_err)?;
        }
        Ok(n)
    }

    /// The store behind this service.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    async fn write(&self, batch: Vec<WriteOp>) -> ModelResult<()> {
        let (tx, rx) = oneshot::channel();
        self.inner.store.write(
            batch,
            Box::new(move |r| {
                let _ = tx.send(r);
            }),
        );
        rx.await
            .map_err(|_| ModelError::Store(StoreError::Closed))?
            .map_err(store_err)
    }

    fn check_open(&self) -> ModelResult<()> {
        if self.inner.closed.load(Ordering::SeqCst) {
            return Err(ModelError::Unavailable("the engine is shut down".into()));
        }
        Ok(())
    }

    fn meta(&self, domain: &DomainKey, id: &str) -> ModelResult<ModelMeta> {
        self.inner
            .store
            .model(domain, id)
            .map_err(store_err)?
            .ok_or_else(|| ModelError::NotFound(id.to_string()))
    }

    /// Creates a collection (no-op if it exists).
    pub async fn create_collection(
        &self,
        domain: &DomainKey,
        id: &str,
        description: &str,
    ) -> ModelResult<()> {
        self.check_open()?;
        let record = self
            .inner
            .store
            .domain(domain)
            .map_err(store_err)?
            .ok_or_else(|| ModelError::DomainNotFound(domain.to_string()))?;
        check_id(IdKind::Collection, id)?;
        if self
            .inner
            .store
            .collection(domain, id)
            .map_err(store_err)?
            .is_some()
        {
            return Ok(());
        }
        // Everyone gets the domain's default world permissions on it, as on a collection
        // created on demand; the host narrows them with the collection's permissions.
        self.write(vec![
            WriteOp::PutCollection {
                domain: domain.clone(),
                record: CollectionRecord {
                    id: id.to_string(),
                    description: description.to_string(),
                    created_ms: self.inner.clock.now_ms(),
                },
            },
            Permissions::collection_creation_row(domain, id, &record.default_collection_world),
        ])
        .await
    }

    /// Every collection of a domain.
    pub fn collections(&self, domain: &DomainKey) -> ModelResult<Vec<CollectionRecord>> {
        self.inner.store.collections(domain).map_err(store_err)
    }

    /// Deletes a collection and all its models.
    pub async fn delete_collection(&self, domain: &DomainKey, id: &str) -> ModelResult<()> {
        self.check_open()?;
        if self
            .inner
            .store
            .collection(domain, id)
            .map_err(store_err)?
            .is_none()
        {
            return Err(ModelError::CollectionNotFound(id.to_string()));
        }
        let models = self
            .inner
            .store
            .models(domain, Some(id))
            .map_err(store_err)?;
        for m in &models {
            self.stop_sequencer(domain, &m.id).await;
        }
        self.write(vec![WriteOp::DeleteCollection {
            domain: domain.clone(),
            id: id.to_string(),
        }])
        .await?;
        for m in models {
            self.inner.bus.publish(EngineEvent::ModelDeleted {
                domain: domain.clone(),
                model: m.id,
                collection: id.to_string(),
            });
        }
        Ok(())
    }

    /// Creates a model from plain JSON data (an object) for the host. Values get ids `0:1`,
    /// `0:2`, ….
    pub async fn create_model(
        &self,
        domain: &DomainKey,
        collection: &str,
        id: Option<&str>,
        data: &JsonValue,
        auto_create_collection: bool,
    ) -> ModelResult<ModelInfo> {
        let root = root_from_json_value(data, &mut IdGenerator::new("0", 1))?;
        let initial = ModelPermissionsChange::default();
        self.create_model_from_value(
            domain,
            collection,
            id,
            root,
            auto_create_collection,
            &Actor::Host,
            &initial,
            false,
        )
        .await
    }

    /// Creates a model from data that already carries value ids (e.g. a client's `@:n` ids).
    /// In an existing collection the creator needs `create` on it; a missing one is created
    /// (with the domain's default world permissions) only if `auto_create_collection`. The
    /// creator gets every right on the model; `initial` sets its first world and user entries.
    /// An `ephemeral` model is deleted when its last session closes.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_model_from_value(
        &self,
        domain: &DomainKey,
        collection: &str,
        id: Option<&str>,
        root: Value,
        auto_create_collection: bool,
        creator: &Actor,
        initial: &ModelPermissionsChange,
        ephemeral: bool,
    ) -> ModelResult<ModelInfo> {
        self.check_open()?;
        let domain_record = self
            .inner
            .store
            .domain(domain)
            .map_err(store_err)?
            .ok_or_else(|| ModelError::DomainNotFound(domain.to_string()))?;
        check_id(IdKind::Collection, collection)?;
        if let Some(id) = id.filter(|id| !id.is_empty()) {
            check_id(IdKind::Model, id)?;
        }
        if !matches!(root.data, Data::Object(_)) {
            return Err(ModelError::Invalid("model data must be an object".into()));
        }
        // Validates ids (unique, root object), size and depth.
        Document::new(root.clone())?;
        self.inner.config.doc_limits().check_root(&root)?;
        let id = match id {
            Some(id) if !id.is_empty() => id.to_string(),
            _ => self.inner.ids.uuid(),
        };
        let now = self.inner.clock.now_ms();
        let mut batch = Vec::new();
        let perms = Permissions::new(self.inner.store.clone());
        if self
            .inner
            .store
            .collection(domain, collection)
            .map_err(store_err)?
            .is_none()
        {
            if !auto_create_collection {
                return Err(ModelError::CollectionNotFound(collection.to_string()));
            }
            batch.push(WriteOp::PutCollection {
                domain: domain.clone(),
                record: CollectionRecord {
                    id: collection.to_string(),
                    description: collection.to_string(),
                    created_ms: now,
                },
            });
            batch.push(Permissions::collection_creation_row(
                domain,
                collection,
                &domain_record.default_collection_world,
            ));
        } else if !perms
            .may_create(domain, collection, creator)
            .map_err(store_err)?
        {
            return Err(ModelError::Unauthorized(format!(
                "no permission to create models in collection {collection:?}"
            )));
        }
        let meta = ModelMeta {
            domain: domain.clone(),
            id: id.clone(),
            collection: collection.to_string(),
            number: self.inner.store.allocate_model_number(),
            created_ms: now,
            modified_ms: now,
            version: 1,
            value_prefix: 1,
            ephemeral,
        };
        batch.push(WriteOp::CreateModel {
            meta: meta.clone(),
            snapshot: Snapshot {
                version: 1,
                timestamp_ms: now,
                data: root,
            },
        });
        batch.extend(Permissions::creation_rows(domain, &id, creator, initial));
        match self.write(batch).await {
            Ok(()) => {
                self.inner.bus.publish(EngineEvent::ModelCreated {
                    domain: domain.clone(),
                    model: id,
                    collection: meta.collection.clone(),
                });
                Ok(ModelInfo::from(&meta))
            }
            Err(ModelError::Store(StoreError::AlreadyExists(_))) => {
                Err(ModelError::AlreadyExists(format!("model {id:?}")))
            }
            Err(e) => Err(e),
        }
    }

    /// A model's metadata.
    pub fn model_info(&self, domain: &DomainKey, id: &str) -> ModelResult<ModelInfo> {
        Ok(ModelInfo::from(&self.meta(domain, id)?))
    }

    /// Metadata of the models of a domain, or of one collection.
    pub fn list_models(
        &self,
        domain: &DomainKey,
        collection: Option<&str>,
    ) -> ModelResult<Vec<ModelInfo>> {
        Ok(self
            .inner
            .store
            .models(domain, collection)
            .map_err(store_err)?
            .iter()
            .map(ModelInfo::from)
            .collect())
    }

    /// `actor`'s rights on a model; a model it may not read is [`ModelError::NotFound`].
    pub fn readable(
        &self,
        domain: &DomainKey,
        id: &str,
        actor: &Actor,
    ) -> ModelResult<(ModelMeta, ModelRights)> {
        let meta = self.meta(domain, id)?;
        let rights = Permissions::new(self.inner.store.clone())
            .model_rights(domain, id, &meta.collection, actor)
            .map_err(store_err)?;
        if !rights.read {
            return Err(ModelError::NotFound(id.to_string()));
        }
        Ok((meta, rights))
    }

    /// A model's stored permissions as `actor` may see them (it needs read): the world
    /// permissions that apply (the model's if it overrides its collection's, else the
    /// collection's), and the explicit user entries with the actor's own resolved rights.
    pub fn permissions(
        &self,
        domain: &DomainKey,
        id: &str,
        actor: &Actor,
    ) -> ModelResult<ModelPermissions> {
        let (meta, rights) = self.readable(domain, id, actor)?;
        let perms = Permissions::new(self.inner.store.clone());
        let mut out = perms.model_permissions(domain, id).map_err(store_err)?;
        if !out.override_world {
            out.world = perms
                .collection_world(domain, &meta.collection)
                .map_err(store_err)?
                .model();
        }
        if let Some(user) = actor.user() {
            out.users.retain(|(u, _)| u != user);
            out.users.push((user.clone(), rights));
            out.users.sort_by(|a, b| a.0.cmp(&b.0));
        }
        Ok(out)
    }

    /// Changes a model's permissions (`actor` needs manage); sessions that have it open are
    /// resolved again: told their new rights, or closed if they lost read.
    pub async fn set_permissions(
        &self,
        domain: &DomainKey,
        id: &str,
        actor: &Actor,
        change: &ModelPermissionsChange,
    ) -> ModelResult<()> {
        self.check_open()?;
        let (_, rights) = self.readable(domain, id, actor)?;
        if !rights.manage {
            return Err(ModelError::Unauthorized(format!(
                "no permission to manage the permissions of model {id:?}"
            )));
        }
        Permissions::new(self.inner.store.clone())
            .change_model(domain, id, change)
            .await
            .map_err(perm_err)?;
        self.reauthorize(domain, |model| model == id);
        Ok(())
    }

    /// Tells the open models of `domain` accepted by `which` that permissions changed.
    pub fn reauthorize(&self, domain: &DomainKey, which: impl Fn(&str) -> bool) {
        let Ok(models) = self.inner.models.lock() else {
            return;
        };
        for ((d, model), tx) in models.iter() {
            if d == domain && which(model) {
                let _ = tx.send(Command::Reauthorize);
            }
        }
    }

    /// Hands a domain's new snapshot policies to its loaded models (models loaded later read
    /// them from the domain record).
    pub fn apply_snapshot_policies(&self, domain: &DomainKey, policies: SnapshotPolicies) {
        let policies = Arc::new(policies);
        let Ok(models) = self.inner.models.lock() else {
            return;
        };
        for ((d, _), tx) in models.iter() {
            if d == domain {
                let _ = tx.send(Command::Policies(policies.clone()));
            }
        }
    }

    /// Tells the open models of a collection that permissions changed.
    pub fn reauthorize_collection(&self, domain: &DomainKey, collection: &str) {
        let models: std::collections::HashSet<String> = self
            .inner
            .store
            .models(domain, Some(collection))
            .map(|ms| ms.into_iter().map(|m| m.id).collect())
            .unwrap_or_default();
        self.reauthorize(domain, |m| models.contains(m));
    }

    /// Deletes a model (`actor` needs remove): sessions that have it open are closed (reason
    /// "deleted").
    pub async fn delete_model(
        &self,
        domain: &DomainKey,
        id: &str,
        actor: &Actor,
    ) -> ModelResult<()> {
        self.check_open()?;
        let (meta, rights) = self.readable(domain, id, actor)?;
        if !rights.remove {
            return Err(ModelError::Unauthorized(format!(
                "no permission to delete model {id:?}"
            )));
        }
        self.stop_sequencer(domain, id).await;
        self.write(vec![WriteOp::DeleteModel {
            domain: domain.clone(),
            id: id.to_string(),
        }])
        .await?;
        self.inner.bus.publish(EngineEvent::ModelDeleted {
            domain: domain.clone(),
            model: id.to_string(),
            collection: meta.collection,
        });
        Ok(())
    }

    async fn stop_sequencer(&self, domain: &DomainKey, id: &str) {
        let tx = self
            .inner
            .models
            .lock()
            .ok()
            .and_then(|mut m| m.remove(&(domain.clone(), id.to_string())));
        if let Some(tx) = tx {
            let (reply, rx) = oneshot::channel();
            if tx.send(Command::Delete { reply }).is_ok() {
                let _ = rx.await;
            }
        }
    }

    /// Loads a model into a new sequencer, or returns the running one's mailbox.
    fn mailbox(&self, domain: &DomainKey, id: &str) -> ModelResult<mpsc::UnboundedSender<Command>> {
        self.check_open()?;
        let key = (domain.clone(), id.to_string());
        let mut models = self
            .inner
            .models
            .lock()
            .map_err(|_| ModelError::Unavailable("model registry poisoned".into()))?;
        if let Some(tx) = models.get(&key) {
            if !tx.is_closed() {
                return Ok(tx.clone());
            }
        }
        let (meta, mut doc, snapshot) = self.load(domain, id)?;
        doc.set_limits(self.inner.config.doc_limits());
        let policy = self
            .inner
            .store
            .domain(domain)
            .map_err(store_err)?
            .and_then(|d| d.snapshots.for_collection(&meta.collection));
        let (tx, rx) = mpsc::unbounded_channel();
        let seq = Sequencer::new(
            domain.clone(),
            meta,
            doc,
            snapshot,
            policy,
            self.inner.store.clone(),
            self.inner.bus.clone(),
            self.inner.clock.clone(),
            self.inner.config.clone(),
            tx.clone(),
            self.inner.metrics.clone(),
        );
        let registry: Arc<dyn Registry> = self.inner.clone();
        let span = info_span!("model", domain = %domain, model = %id);
        let task = self
            .inner
            .runtime
            .spawn(seq.run(rx, registry).instrument(span));
        if let Ok(mut tasks) = self.inner.tasks.lock() {
            tasks.retain(|t| !t.is_finished());
            tasks.push(task);
        }
        models.insert(key, tx.clone());
        Ok(tx)
    }

    /// Rebuilds a model from its newest snapshot and the log after it.
    fn load(&self, domain: &DomainKey, id: &str) -> ModelResult<(ModelMeta, Document, (u64, i64))> {
        let mut meta = self.meta(domain, id)?;
        let store = &self.inner.store;
        let snapshot = store
            .snapshot_at_or_before(meta.number, u64::MAX)
            .map_err(store_err)?
            .ok_or_else(|| {
                ModelError::Store(StoreError::Corrupt(format!("model {id} has no snapshot")))
            })?;
        let snap = (snapshot.version, snapshot.timestamp_ms);
        let mut doc = Document::new(snapshot.data)?;
        let tail = store
            .ops(meta.number, snapshot.version + 1, u64::MAX)
            .map_err(store_err)?;
        for r in tail {
            doc.apply(r.op.into_operation())?;
            meta.version = meta.version.max(r.version);
            meta.modified_ms = meta.modified_ms.max(r.timestamp_ms);
        }
        Ok((meta, doc, snap))
    }

    /// Sends a request to a model's sequencer, reloading it if it retired in between.
    async fn request<T>(
        &self,
        domain: &DomainKey,
        id: &str,
        make: impl Fn(oneshot::Sender<ModelResult<T>>) -> Command,
    ) -> ModelResult<T> {
        for _ in 0..5 {
            let tx = self.mailbox(domain, id)?;
            let (reply, rx) = oneshot::channel();
            if tx.send(make(reply)).is_err() {
                self.inner.retire(domain, id);
                continue;
            }
            match rx.await {
                Ok(r) => return r,
                Err(_) => continue,
            }
        }
        Err(ModelError::Unavailable(format!(
            "model {id} could not be loaded"
        )))
    }

    /// The model's current data (everything in it is durable).
    pub async fn read(&self, domain: &DomainKey, id: &str) -> ModelResult<ModelData> {
        self.request(domain, id, |reply| Command::Read { reply })
            .await
    }

    /// Applies host changes as one operation at the current version; returns the version it
    /// produced once durable.
    pub async fn apply(
        &self,
        domain: &DomainKey,
        id: &str,
        changes: Vec<Change>,
        user: &str,
    ) -> ModelResult<u64> {
        self.request(domain, id, |reply| Command::Host {
            changes: changes.clone(),
            user: user.to_string(),
            reply,
        })
        .await
    }

    /// Opens a model for a session. Events for the session arrive on `sink`.
    pub async fn open(
        &self,
        domain: &DomainKey,
        id: &str,
        session: SessionInfo,
        sink: EventSink,
    ) -> ModelResult<OpenedModel> {
        self.open_at(domain, id, session, sink, None).await
    }

    /// Re-attaches a reconnecting session that had seen `version`: instead of data it gets
    /// the operations after that version (in [`OpenedModel::replay`]) and then follows live.
    /// `earlier_sessions` are the client's previous sessions: their operations in the replay
    /// are the client's own unacknowledged ones, and its first submissions must be those
    /// again (they are taken in without being applied twice).
    pub async fn resync(
        &self,
        domain: &DomainKey,
        id: &str,
        session: SessionInfo,
        sink: EventSink,
        version: u64,
        earlier_sessions: Vec<String>,
    ) -> ModelResult<OpenedModel> {
        let from = ResyncFrom {
            version,
            earlier_sessions,
        };
        self.open_at(domain, id, session, sink, Some(from)).await
    }

    async fn open_at(
        &self,
        domain: &DomainKey,
        id: &str,
        session: SessionInfo,
        sink: EventSink,
        resync: Option<ResyncFrom>,
    ) -> ModelResult<OpenedModel> {
        for _ in 0..5 {
            let tx = self.mailbox(domain, id)?;
            let (reply, rx) = oneshot::channel();
            let cmd = Command::Open {
                session: session.clone(),
                sink: sink.clone(),
                resync: resync.clone(),
                reply,
            };
            if tx.send(cmd).is_err() {
                self.inner.retire(domain, id);
                continue;
            }
            match rx.await {
                Ok(r) => return r,
                Err(_) => continue,
            }
        }
        Err(ModelError::Unavailable(format!(
            "model {id} could not be loaded"
        )))
    }

    /// The model's data at `version` (1 ..= current), rebuilt from snapshots and the log
    /// (`actor` needs read).
    pub fn data_at(
        &self,
        domain: &DomainKey,
        id: &str,
        version: u64,
        actor: &Actor,
    ) -> ModelResult<ModelData> {
        let (meta, _) = self.readable(domain, id, actor)?;
        if version == 0 || version > meta.version {
            return Err(ModelError::Invalid(format!(
                "version {version} is outside 1..={}",
                meta.version
            )));
        }
        let store = &self.inner.store;
        let snapshot = store
            .snapshot_at_or_before(meta.number, version)
            .map_err(store_err)?
            .ok_or_else(|| {
                ModelError::Store(StoreError::Corrupt(format!("model {id} has no snapshot")))
            })?;
        let mut modified = snapshot.timestamp_ms;
        let mut doc = Document::new(snapshot.data)?;
        for r in store
            .ops(meta.number, snapshot.version + 1, version)
            .map_err(store_err)?
        {
            doc.apply(r.op.into_operation())?;
            modified = r.timestamp_ms;
        }
        Ok(ModelData {
            version,
            data: doc.to_value(),
            created_ms: meta.created_ms,
            modified_ms: modified,
            collection: meta.collection,
        })
    }

    /// Log records with `first <= version <= last` (versions are the ones each produced;
    /// `actor` needs read).
    pub fn operations(
        &self,
        domain: &DomainKey,
        id: &str,
        first: u64,
        last: u64,
        actor: &Actor,
    ) -> ModelResult<Vec<OpRecord>> {
        let (meta, _) = self.readable(domain, id, actor)?;
        let max = self.inner.config.max_history_range;
        let wanted = last
            .min(meta.version)
            .saturating_sub(first)
            .saturating_add(1);
        if max != 0 && last >= first && wanted > max {
            return Err(ModelError::Invalid(format!(
                "a history request may cover at most {max} operations; this one asks for {wanted}: ask in pages"
            )));
        }
        self.inner
            .store
            .ops(meta.number, first, last)
            .map_err(store_err)
    }

    /// The model's version at a wall-clock time: that of the last operation at or before it,
    /// or 1 if none but the model existed. Before creation is an error (`actor` needs read).
    pub fn version_at_time(
        &self,
        domain: &DomainKey,
        id: &str,
        time_ms: i64,
        actor: &Actor,
    ) -> ModelResult<u64> {
        let (meta, _) = self.readable(domain, id, actor)?;
        if time_ms < meta.created_ms {
            return Err(ModelError::Invalid(format!(
                "model {id} did not exist at {time_ms}"
            )));
        }
        Ok(self
            .inner
            .store
            .version_at_time(meta.number, time_ms)
            .map_err(store_err)?
            .unwrap_or(1))
    }

    /// Flushes and stops every sequencer: sessions are closed with "server shutdown".
    pub async fn shutdown(&self) {
        self.inner.closed.store(true, Ordering::SeqCst);
        let senders: Vec<_> = self
            .inner
            .models
            .lock()
            .map(|mut m| m.drain().map(|(_, tx)| tx).collect())
            .unwrap_or_default();
        for tx in senders {
            let (reply, rx) = oneshot::channel();
            if tx.send(Command::Shutdown { reply }).is_ok() {
                let _ = rx.await;
            }
        }
        // Models that were retiring on their own finish too: nothing holds the store after.
        let tasks: Vec<_> = self
            .inner
            .tasks
            .lock()
            .map(|mut t| t.drain(..).collect())
            .unwrap_or_default();
        for t in tasks {
            let _ = t.await;
        }
        let store = self.inner.store.clone();
        let _ = tokio::task::spawn_blocking(move || store.flush()).await;
    }

    /// Number of models currently loaded.
    pub fn loaded_models(&self) -> usize {
        self.inner.models.lock().map(|m| m.len()).unwrap_or(0)
    }
}

/// Checks an identifier at the door (see [`crate::ident`]).
fn check_id(kind: IdKind, id: &str) -> ModelResult<()> {
    crate::ident::check(kind, id).map_err(|e| ModelError::Invalid(e.to_string()))
}
