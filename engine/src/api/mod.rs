//! The host-facing facade. Rust hosts use it directly; the C ABI and every language binding
//! wrap it. An [`Engine`] owns the store, the model services and (when the host has no tokio
//! runtime) its own runtime; [`Domain`] and [`Model`] are cheap handles.
//!
//! ```no_run
//! # async fn demo() -> tandem::api::Result<()> {
//! use tandem::api::{Engine, EngineConfig, Change};
//! let engine = Engine::open(EngineConfig::with_data_dir("/tmp/tandem-data"))?;
//! let domain = engine.create_domain("acme", "docs").await?;
//! let model = domain.create_model("notes", Some("n1"), &serde_json::json!({"text": "hi"})).await?;
//! model.apply(vec![Change::Splice { path: tandem::api::path(&["text"]), index: 2, delete: 0, insert: "!".into() }]).await?;
//! assert_eq!(model.json().await?["text"], "hi!");
//! engine.shutdown().await;
//! # Ok(()) }
//! ```

mod config;
mod error;
mod hosted;
mod json;

use crate::ot::DocLimits;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value as Json;
use tokio::runtime::{Handle, Runtime};

pub use crate::auth::{AuthConfig, NewUser};
pub use crate::domain::DomainSettings;
pub use crate::model::{Change, EngineEvent, EventFilter, EventSubscription, ModelData, ModelInfo};
pub use crate::net::{Listener, NetConfig};
pub use crate::ot::json::{
    operation_to_json, operation_to_json_value, parse as parse_json, value_to_json,
    value_to_json_text, value_to_json_value, JsonValue, ParseError as JsonParseError,
};
pub use crate::ot::{JsString, PathSegment};
pub use crate::store::{JwtKeyRecord, UserRecord, UserType};
pub use config::{EngineConfig, LoginLimits, ModelsConfig, SessionLimits, StoreConfig};
pub use error::{Error, ErrorCode, Result};
pub use hosted::HostedEngine;
pub use json::{
    change_from_json, change_from_json_value, changes_from_json, changes_from_json_value,
    changes_from_str, event_to_json, event_to_json_text, event_to_json_value,
};

use crate::auth::AuthService;
use crate::domain::DomainService;
use crate::model::{EventBus, ModelService, ModelServiceConfig};
use crate::net;
use crate::protocol::connection::{ProtocolConfig, Services, SessionRegistry};
use crate::sources::{Clock, IdSource, RandomIds, SystemClock};
use crate::store::{DomainKey, LmdbStore, MemoryStore, Store, StoreOptions};
use std::net::SocketAddr;

/// The user recorded for host-side changes unless another is given.
pub const HOST_USER: &str = "tandem-host";

/// Builds a path from property names (use [`PathSegment::Index`] for array positions).
pub fn path(keys: &[&str]) -> Vec<PathSegment> {
    keys.iter().map(|k| PathSegment::Key((*k).into())).collect()
}

/// Parses a path given as JSON: an array of strings (properties) and non-negative integers
/// (array positions), e.g. `["items", 0, "title"]`.
pub fn path_from_json(json: &Json) -> Result<Vec<PathSegment>> {
    path_from_json_value(&JsonValue::from(json))
}

/// Like [`path_from_json`]; property names may hold unpaired surrogates.
pub fn path_from_json_value(json: &JsonValue) -> Result<Vec<PathSegment>> {
    let JsonValue::Array(items) = json else {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            "a path must be a JSON array",
        ));
    };
    items
        .iter()
        .map(|s| match s {
            JsonValue::String(k) => Ok(PathSegment::Key(k.clone())),
            JsonValue::Number(n) if *n >= 0.0 && n.fract() == 0.0 && *n < 9.0e15 => {
                Ok(PathSegment::Index(*n as usize))
            }
            JsonValue::Number(_) => Err(Error::new(
                ErrorCode::InvalidArgument,
                format!("bad path index {}", s.to_json_string()),
            )),
            other => Err(Error::new(
                ErrorCode::InvalidArgument,
                format!("bad path segment {}", other.to_json_string()),
            )),
        })
        .collect()
}

enum RuntimeHolder {
    Host(Handle),
    Owned(Option<Runtime>, Handle),
}

impl RuntimeHolder {
    fn handle(&self) -> &Handle {
        match self {
            RuntimeHolder::Host(h) | RuntimeHolder::Owned(_, h) => h,
        }
    }
}

impl Drop for RuntimeHolder {
    fn drop(&mut self) {
        if let RuntimeHolder::Owned(rt, _) = self {
            if let Some(rt) = rt.take() {
                rt.shutdown_background();
            }
        }
    }
}

struct EngineInner {
    config: EngineConfig,
    store: Arc<dyn Store>,
    domains: DomainService,
    models: ModelService,
    auth: AuthService,
    bus: EventBus,
    shut: AtomicBool,
    protocol: Arc<Services>,
    runtime: RuntimeHolder,
}

/// A running engine. Cloning gives another handle to the same engine.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

/// Options for [`Engine::open_with`]: the time and id sources (tests inject exact ones).
#[derive(Clone)]
pub struct EngineSources {
    /// Wall clock.
    pub clock: Arc<dyn Clock>,
    /// Fresh ids.
    pub ids: Arc<dyn IdSource>,
}

impl Default for EngineSources {
    fn default() -> Self {
        EngineSources {
            clock: Arc::new(SystemClock),
            ids: Arc::new(RandomIds),
        }
    }
}

impl Engine {
    /// Opens an engine: on `config.data_dir` (created if missing) or in memory.
    pub fn open(config: EngineConfig) -> Result<Engine> {
        Engine::open_with(config, EngineSources::default())
    }

    /// Opens an engine with injected time and id sources.
    pub fn open_with(config: EngineConfig, sources: EngineSources) -> Result<Engine> {
        config.validate()?;
        let store: Arc<dyn Store> = match &config.data_dir {
            None => Arc::new(MemoryStore::new(config.store.snapshots_kept)),
            Some(dir) => Arc::new(LmdbStore::open(StoreOptions {
                path: dir.clone(),
                max_size_bytes: config.store.max_size_mb.saturating_mul(1024 * 1024),
                snapshots_kept: config.store.snapshots_kept,
                max_batch: config.store.max_batch,
                apply_interval: std::time::Duration::from_millis(config.store.apply_interval_ms),
            })?),
        };
        let runtime = match Handle::try_current() {
            Ok(h) => RuntimeHolder::Host(h),
            Err(_) => {
                let mut b = tokio::runtime::Builder::new_multi_thread();
                if config.worker_threads > 0 {
                    b.worker_threads(config.worker_threads);
                }
                let rt = b
                    .enable_all()
                    .thread_name("tandem")
                    .build()
                    .map_err(|e| Error::new(ErrorCode::Internal, format!("runtime: {e}")))?;
                let h = rt.handle().clone();
                RuntimeHolder::Owned(Some(rt), h)
            }
        };
        let bus = EventBus::default();
        let m = &config.models;
        let models = ModelService::new(
            store.clone(),
            bus.clone(),
            sources.clock.clone(),
            sources.ids.clone(),
            ModelServiceConfig {
                snapshot_every_ops: m.snapshot_every_ops,
                snapshot_every_ms: (m.snapshot_every_secs as i64).saturating_mul(1000),
                max_history: m.max_history,
                passivate_after: Duration::from_secs_f64(m.passivate_after_secs),
                max_history_range: m.max_history_range,
                doc_limits: DocLimits {
                    max_depth: m.max_depth,
                    max_bytes: m.max_document_bytes,
                },
            },
            runtime.handle().clone(),
        );
        let auth = AuthService::new(
            store.clone(),
            sources.clock.clone(),
            sources.ids.clone(),
            config.auth.clone(),
        );
        let domains = DomainService::new(store.clone(), sources.clock.clone());
        let protocol = Arc::new(Services {
            models: models.clone(),
            domains: domains.clone(),
            auth: auth.clone(),
            bus: bus.clone(),
            clock: sources.clock,
            ids: sources.ids,
            sessions: SessionRegistry::default(),
            config: ProtocolConfig {
                limits: config.limits.clone(),
                ..ProtocolConfig::default()
            },
        });
        Ok(Engine {
            inner: Arc::new(EngineInner {
                domains,
                protocol,
                auth,
                config,
                store,
                models,
                bus,
                shut: AtomicBool::new(false),
                runtime,
            }),
        })
    }

    /// The configuration the engine runs with.
    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    /// The tokio runtime the engine runs on (the host's or its own).
    pub fn runtime(&self) -> &Handle {
        self.inner.runtime.handle()
    }

    /// Runs a future to completion on the engine's runtime, blocking the calling thread.
    /// For hosts without an async runtime; must not be called from inside one.
    pub fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.runtime().block_on(f)
    }

    /// The model services (for the protocol layer and advanced hosts).
    pub fn model_service(&self) -> &ModelService {
        &self.inner.models
    }

    /// The domain service.
    pub fn domain_service(&self) -> &DomainService {
        &self.inner.domains
    }

    /// The auth service (authentication, users, JWT keys).
    pub fn auth_service(&self) -> &AuthService {
        &self.inner.auth
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    fn check(&self) -> Result<()> {
        if self.inner.shut.load(Ordering::SeqCst) {
            return Err(Error::new(
                ErrorCode::Unavailable,
                "the engine is shut down",
            ));
        }
        Ok(())
    }

    /// Creates a domain with default settings.
    pub async fn create_domain(&self, namespace: &str, id: &str) -> Result<Domain> {
        self.create_domain_with(namespace, id, DomainSettings::default())
            .await
    }

    /// Creates a domain with the given settings.
    pub async fn create_domain_with(
        &self,
        namespace: &str,
        id: &str,
        settings: DomainSettings,
    ) -> Result<Domain> {
        self.check()?;
        let key = DomainKey::new(namespace, id);
        self.inner.domains.create(&key, settings).await?;
        Ok(Domain {
            engine: self.clone(),
            key,
        })
    }

    /// A handle on an existing domain.
    pub fn domain(&self, namespace: &str, id: &str) -> Result<Domain> {
        self.check()?;
        let key = DomainKey::new(namespace, id);
        self.inner.domains.get(&key)?;
        Ok(Domain {
            engine: self.clone(),
            key,
        })
    }

    /// Every domain as `(namespace, id)`.
    pub fn domains(&self) -> Result<Vec<(String, String)>> {
        self.check()?;
        Ok(self
            .inner
            .domains
            .list()?
            .into_iter()
            .map(|d| (d.key.namespace, d.key.id))
            .collect())
    }

    /// Deletes a domain with all its collections and models.
    pub async fn delete_domain(&self, namespace: &str, id: &str) -> Result<()> {
        self.check()?;
        let key = DomainKey::new(namespace, id);
        self.inner.domains.get(&key)?;
        for m in self.inner.models.list_models(&key, None)? {
            self.inner.models.delete_model(&key, &m.id).await?;
        }
        Ok(self.inner.domains.delete(&key).await?)
    }

    /// Starts the WebSocket and HTTP listeners on `addr` (port 0 picks a free port). The
    /// Convergence client connects to `ws://{addr}/realtime/{namespace}/{domain}`.
    pub async fn serve(&self, addr: SocketAddr, config: NetConfig) -> Result<Listener> {
        self.check()?;
        net::listen(addr, self.inner.protocol.clone(), config)
            .await
            .map_err(|e| {
                Error::new(
                    ErrorCode::Unavailable,
                    format!("cannot listen on {addr}: {e}"),
                )
            })
    }

    /// Sessions currently connected over the wire.
    pub fn connected_sessions(&self) -> usize {
        self.inner.protocol.sessions.len()
    }

    /// Subscribes to engine events matching `filter`.
    pub fn subscribe(&self, filter: EventFilter) -> EventSubscription {
        self.inner.bus.subscribe(filter)
    }

    /// Stops the engine: closes every model's sessions, flushes every write, ends event
    /// subscriptions. Later calls fail with `Unavailable`. Idempotent.
    pub async fn shutdown(&self) {
        if self.inner.shut.swap(true, Ordering::SeqCst) {
            return;
        }
        self.inner.models.shutdown().await;
        let store = self.inner.store.clone();
        let _ = tokio::task::spawn_blocking(move || store.flush()).await;
        self.inner.bus.close();
    }

    /// True once [`Engine::shutdown`] ran.
    pub fn is_shut_down(&self) -> bool {
        self.inner.shut.load(Ordering::SeqCst)
    }
}

/// A handle on one domain.
#[derive(Clone)]
pub struct Domain {
    engine: Engine,
    key: DomainKey,
}

impl Domain {
    /// The namespace.
    pub fn namespace(&self) -> &str {
        &self.key.namespace
    }

    /// The domain id.
    pub fn id(&self) -> &str {
        &self.key.id
    }

    /// The domain's key.
    pub fn key(&self) -> &DomainKey {
        &self.key
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The domain's settings.
    pub fn settings(&self) -> Result<DomainSettings> {
        let r = self.engine.inner.domains.get(&self.key)?;
        Ok(DomainSettings {
            display_name: r.display_name,
            anonymous_auth: r.anonymous_auth,
            collection_auto_create: r.collection_auto_create,
        })
    }

    /// Replaces the domain's settings.
    pub async fn set_settings(&self, settings: DomainSettings) -> Result<()> {
        self.engine.check()?;
        self.engine
            .inner
            .domains
            .update(&self.key, settings)
            .await?;
        Ok(())
    }

    /// Creates a collection (no-op if it exists).
    pub async fn create_collection(&self, id: &str) -> Result<()> {
        self.engine.check()?;
        Ok(self
            .engine
            .inner
            .models
            .create_collection(&self.key, id, id)
            .await?)
    }

    /// Ids of the domain's collections.
    pub fn collections(&self) -> Result<Vec<String>> {
        self.engine.check()?;
        Ok(self
            .engine
            .inner
            .models
            .collections(&self.key)?
            .into_iter()
            .map(|c| c.id)
            .collect())
    }

    /// Deletes a collection and its models.
    pub async fn delete_collection(&self, id: &str) -> Result<()> {
        self.engine.check()?;
        Ok(self
            .engine
            .inner
            .models
            .delete_collection(&self.key, id)
            .await?)
    }

    /// Creates a model from JSON data (an object) in `collection`, with the given id or a new
    /// UUID. The collection is created when the domain allows it.
    pub async fn create_model(
        &self,
        collection: &str,
        id: Option<&str>,
        data: &Json,
    ) -> Result<Model> {
        self.create_model_json(collection, id, &JsonValue::from(data))
            .await
    }

    /// Like [`Domain::create_model`], from JSON whose text may hold unpaired surrogates (see
    /// [`parse_json`]).
    pub async fn create_model_json(
        &self,
        collection: &str,
        id: Option<&str>,
        data: &JsonValue,
    ) -> Result<Model> {
        self.engine.check()?;
        let auto = self
            .engine
            .inner
            .domains
            .get(&self.key)?
            .collection_auto_create;
        let info = self
            .engine
            .inner
            .models
            .create_model(&self.key, collection, id, data, auto)
            .await?;
        Ok(Model {
            domain: self.clone(),
            id: info.id,
        })
    }

    /// Metadata of the domain's models, or of one collection's.
    pub fn models(&self, collection: Option<&str>) -> Result<Vec<ModelInfo>> {
        self.engine.check()?;
        Ok(self
            .engine
            .inner
            .models
            .list_models(&self.key, collection)?)
    }

    /// A handle on an existing model.
    pub fn model(&self, id: &str) -> Result<Model> {
        self.engine.check()?;
        self.engine.inner.models.model_info(&self.key, id)?;
        Ok(Model {
            domain: self.clone(),
            id: id.to_string(),
        })
    }

    /// Allows or refuses anonymous logins to the domain.
    pub async fn set_anonymous_auth(&self, allowed: bool) -> Result<()> {
        self.engine.check()?;
        let settings = DomainSettings {
            anonymous_auth: allowed,
            ..self.settings()?
        };
        self.engine
            .inner
            .domains
            .update(&self.key, settings)
            .await?;
        Ok(())
    }

    /// Creates a normal user (its password, if any, is stored as an argon2 hash).
    pub async fn create_user(&self, user: NewUser) -> Result<UserRecord> {
        self.engine.check()?;
        Ok(self.engine.inner.auth.create_user(&self.key, user).await?)
    }

    /// Replaces a normal user's password.
    pub async fn set_password(&self, username: &str, password: &str) -> Result<()> {
        self.engine.check()?;
        Ok(self
            .engine
            .inner
            .auth
            .set_password(&self.key, username, password)
            .await?)
    }

    /// The domain's normal users, ordered by username.
    pub fn users(&self) -> Result<Vec<UserRecord>> {
        self.engine.check()?;
        Ok(self.engine.inner.auth.users(&self.key)?)
    }

    /// Deletes a normal user and revokes its reconnect tokens.
    pub async fn delete_user(&self, username: &str) -> Result<()> {
        self.engine.check()?;
        Ok(self
            .engine
            .inner
            .auth
            .delete_user(&self.key, username)
            .await?)
    }

    /// Adds a key that verifies JWT logins (an RSA public key in PEM, selected by the
    /// token's `kid`).
    pub async fn add_jwt_key(&self, key: JwtKeyRecord) -> Result<JwtKeyRecord> {
        self.engine.check()?;
        Ok(self.engine.inner.auth.add_jwt_key(&self.key, key).await?)
    }

    /// The domain's JWT keys, ordered by id.
    pub fn jwt_keys(&self) -> Result<Vec<JwtKeyRecord>> {
        self.engine.check()?;
        Ok(self.engine.inner.auth.jwt_keys(&self.key)?)
    }

    /// Removes a JWT key.
    pub async fn remove_jwt_key(&self, id: &str) -> Result<()> {
        self.engine.check()?;
        Ok(self.engine.inner.auth.remove_jwt_key(&self.key, id).await?)
    }
}

/// One entry of a model's history.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryEntry {
    /// The version the operation produced.
    pub version: u64,
    /// When it was applied (epoch ms).
    pub timestamp_ms: i64,
    /// The submitting session.
    pub session: String,
    /// The submitting user.
    pub user: String,
    /// The operation as JSON (see [`operation_to_json`]).
    pub operation: Json,
}

/// A handle on one model.
#[derive(Clone)]
pub struct Model {
    domain: Domain,
    id: String,
}

impl Model {
    /// The model id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The domain.
    pub fn domain(&self) -> &Domain {
        &self.domain
    }

    fn svc(&self) -> &ModelService {
        &self.domain.engine.inner.models
    }

    /// Metadata (collection, version, times).
    pub fn info(&self) -> Result<ModelInfo> {
        self.domain.engine.check()?;
        Ok(self.svc().model_info(&self.domain.key, &self.id)?)
    }

    /// The current data as JSON. An unpaired surrogate in the text becomes U+FFFD here, as a
    /// Rust string cannot hold it; [`Model::json_text`] is exact.
    pub async fn json(&self) -> Result<Json> {
        Ok(value_to_json(&self.data().await?.data))
    }

    /// The current data as compact JSON text, exactly: an unpaired surrogate is written as a
    /// `\uXXXX` escape (see [`value_to_json_text`]).
    pub async fn json_text(&self) -> Result<String> {
        Ok(value_to_json_text(&self.data().await?.data))
    }

    /// The current data with ids and version.
    pub async fn data(&self) -> Result<ModelData> {
        self.domain.engine.check()?;
        Ok(self.svc().read(&self.domain.key, &self.id).await?)
    }

    /// The data as JSON at a past version (1 ..= current).
    pub fn json_at(&self, version: u64) -> Result<Json> {
        Ok(value_to_json(&self.data_at(version)?.data))
    }

    /// The data as exact JSON text at a past version (see [`Model::json_text`]).
    pub fn json_text_at(&self, version: u64) -> Result<String> {
        Ok(value_to_json_text(&self.data_at(version)?.data))
    }

    /// The data with ids at a past version.
    pub fn data_at(&self, version: u64) -> Result<ModelData> {
        self.domain.engine.check()?;
        Ok(self.svc().data_at(&self.domain.key, &self.id, version)?)
    }

    /// Applies changes as one operation (one version); returns the version it produced once
    /// it is durable. Sessions with the model open receive it like any remote operation.
    pub async fn apply(&self, changes: Vec<Change>) -> Result<u64> {
        self.apply_as(changes, HOST_USER).await
    }

    /// Like [`Model::apply`], recording `user` as the author.
    pub async fn apply_as(&self, changes: Vec<Change>, user: &str) -> Result<u64> {
        self.domain.engine.check()?;
        Ok(self
            .svc()
            .apply(&self.domain.key, &self.id, changes, user)
            .await?)
    }

    /// History entries with `first <= version <= last`.
    pub fn history(&self, first: u64, last: u64) -> Result<Vec<HistoryEntry>> {
        self.domain.engine.check()?;
        Ok(self
            .svc()
            .operations(&self.domain.key, &self.id, first, last)?
            .into_iter()
            .map(|r| HistoryEntry {
                version: r.version,
                timestamp_ms: r.timestamp_ms,
                session: r.session.to_string(),
                user: r.user.to_string(),
                operation: operation_to_json(&r.op.operation()),
            })
            .collect())
    }

    /// The version the model had at a wall-clock time (epoch ms).
    pub fn version_at(&self, time_ms: i64) -> Result<u64> {
        self.domain.engine.check()?;
        Ok(self
            .svc()
            .version_at_time(&self.domain.key, &self.id, time_ms)?)
    }

    /// Deletes the model; sessions that have it open are closed.
    pub async fn delete(&self) -> Result<()> {
        self.domain.engine.check()?;
        Ok(self.svc().delete_model(&self.domain.key, &self.id).await?)
    }
}
