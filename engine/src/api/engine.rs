//! [`Engine`]: the store, the services and the runtime they run on.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::runtime::{Handle, Runtime};
use tokio::sync::oneshot;

use super::subscription::{Callbacks, Pending, Subscription};
use super::{Domain, DomainSettings, EngineConfig, Error, ErrorCode, Listener, NetConfig, Result};
use crate::activity::{ActivityLimits, ActivityService};
use crate::auth::AuthService;
use crate::chat::{ChatLimits, ChatService};
use crate::domain::DomainService;
use crate::model::{EventBus, EventFilter, ModelService};
use crate::net;
use crate::presence::{PresenceLimits, PresenceService};
use crate::protocol::connection::ProtocolConfig;
use crate::session::{Services, SessionRegistry};
use crate::sources::{Clock, IdSource, RandomIds, SystemClock};
use crate::store::{DomainKey, LmdbStore, MemoryStore, Store, StoreOptions};
use crate::webhook::WebhookService;

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

    fn owned(worker_threads: usize) -> Result<RuntimeHolder> {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        if worker_threads > 0 {
            b.worker_threads(worker_threads);
        }
        let rt = b
            .enable_all()
            .thread_name("tandem")
            .build()
            .map_err(|e| Error::new(ErrorCode::Internal, format!("runtime: {e}")))?;
        let h = rt.handle().clone();
        Ok(RuntimeHolder::Owned(Some(rt), h))
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

pub(super) struct EngineInner {
    config: EngineConfig,
    pub(super) store: Arc<dyn Store>,
    pub(super) domains: DomainService,
    pub(super) models: ModelService,
    pub(super) auth: AuthService,
    bus: EventBus,
    pub(super) webhooks: WebhookService,
    shut: AtomicBool,
    pub(super) services: Arc<Services>,
    protocol: Arc<ProtocolConfig>,
    callbacks: Arc<Callbacks>,
    runtime: RuntimeHolder,
}

/// A running engine. Cloning gives another handle to the same engine.
#[derive(Clone)]
pub struct Engine {
    pub(super) inner: Arc<EngineInner>,
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

fn open_store(config: &EngineConfig) -> Result<Arc<dyn Store>> {
    Ok(match &config.data_dir {
        None => Arc::new(MemoryStore::new(config.store.snapshots_kept)),
        Some(dir) => Arc::new(LmdbStore::open(StoreOptions {
            path: dir.clone(),
            max_size_bytes: config.store.max_size_mb.saturating_mul(1024 * 1024),
            snapshots_kept: config.store.snapshots_kept,
            max_batch: config.store.max_batch,
            apply_interval: Duration::from_millis(config.store.apply_interval_ms),
        })?),
    })
}

impl Engine {
    /// Opens an engine: on `config.data_dir` (created if missing) or in memory. It runs on
    /// the caller's tokio runtime when there is one, else on a runtime of its own.
    pub fn open(config: EngineConfig) -> Result<Engine> {
        Engine::open_with(config, EngineSources::default())
    }

    /// Opens an engine with injected time and id sources.
    pub fn open_with(config: EngineConfig, sources: EngineSources) -> Result<Engine> {
        let runtime = match Handle::try_current() {
            Ok(h) => RuntimeHolder::Host(h),
            Err(_) => RuntimeHolder::owned(config.worker_threads)?,
        };
        Engine::start(config, sources, runtime)
    }

    /// Opens an engine on a runtime of its own, whatever the calling thread runs: for hosts
    /// that call in from threads of their own (C, Python, Node, Kotlin, Swift).
    pub fn open_owned(config: EngineConfig) -> Result<Engine> {
        let runtime = RuntimeHolder::owned(config.worker_threads)?;
        Engine::start(config, EngineSources::default(), runtime)
    }

    fn start(
        config: EngineConfig,
        sources: EngineSources,
        runtime: RuntimeHolder,
    ) -> Result<Engine> {
        config.validate()?;
        let store = open_store(&config)?;
        let bus = EventBus::default();
        let models = ModelService::new(
            store.clone(),
            bus.clone(),
            sources.clock.clone(),
            sources.ids.clone(),
            config.models.clone(),
            runtime.handle().clone(),
        );
        match models.delete_leftover_ephemeral() {
            Ok(0) => {}
            Ok(n) => tracing::info!(models = n, "deleted ephemeral models left by the last run"),
            Err(e) => tracing::warn!(error = %e, "could not delete leftover ephemeral models"),
        }
        let auth = AuthService::new(
            store.clone(),
            sources.clock.clone(),
            sources.ids.clone(),
            config.auth.clone(),
        );
        let domains = DomainService::new(store.clone(), sources.clock.clone());
        let services = Arc::new(Services {
            models: models.clone(),
            domains: domains.clone(),
            auth: auth.clone(),
            bus: bus.clone(),
            clock: sources.clock.clone(),
            ids: sources.ids.clone(),
            sessions: SessionRegistry::default(),
            presence: PresenceService::new(
                runtime.handle().clone(),
                PresenceLimits {
                    max_depth: config.limits.max_state_depth,
                    max_bytes: config.limits.max_state_bytes,
                },
                bus.clone(),
            ),
            activities: ActivityService::new(
                runtime.handle().clone(),
                store.clone(),
                sources.clock.clone(),
                ActivityLimits {
                    max_depth: config.limits.max_state_depth,
                    max_bytes: config.limits.max_state_bytes,
                },
                bus.clone(),
            ),
            chats: ChatService::new(
                runtime.handle().clone(),
                store.clone(),
                sources.clock.clone(),
                sources.ids.clone(),
                ChatLimits {
                    max_message_bytes: config.limits.max_chat_message_bytes,
                    ..ChatLimits::default()
                },
                bus.clone(),
            ),
        });
        let webhooks = WebhookService::start(
            runtime.handle(),
            store.clone(),
            &bus,
            models.clone(),
            sources.clock.clone(),
            config.webhooks.clone(),
        );
        let protocol = Arc::new(ProtocolConfig {
            limits: config.limits.clone(),
            offline_sync_interval: Duration::from_millis(config.models.offline_sync_interval_ms),
            ..ProtocolConfig::default()
        });
        Ok(Engine {
            inner: Arc::new(EngineInner {
                domains,
                services,
                protocol,
                auth,
                config,
                store,
                models,
                bus,
                webhooks,
                shut: AtomicBool::new(false),
                callbacks: Arc::default(),
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

    /// Like [`Engine::block_on`] for a facade call, refused (not a panic) when the calling
    /// thread runs an async runtime.
    pub fn block<T>(&self, f: impl Future<Output = Result<T>>) -> Result<T> {
        if Handle::try_current().is_ok() {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                "a blocking call was made inside an async runtime; await the call instead",
            ));
        }
        self.runtime().block_on(f)
    }

    /// Starts a facade call on the engine's runtime and returns a future that any executor
    /// can await (or [`Pending::wait`] on a plain thread).
    pub fn spawn<T, F>(&self, f: F) -> Pending<T>
    where
        T: Send + 'static,
        F: Future<Output = Result<T>> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.runtime().spawn(async move {
            let _ = tx.send(f.await);
        });
        Pending::new(rx)
    }

    #[doc(hidden)]
    /// The model services (for the wire tests and the benchmarks).
    pub fn model_service(&self) -> &ModelService {
        &self.inner.models
    }

    #[doc(hidden)]
    /// The domain service.
    pub fn domain_service(&self) -> &DomainService {
        &self.inner.domains
    }

    #[doc(hidden)]
    /// The auth service (authentication, users, JWT keys).
    pub fn auth_service(&self) -> &AuthService {
        &self.inner.auth
    }

    #[doc(hidden)]
    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    pub(super) fn check(&self) -> Result<()> {
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
        Ok(Domain::new(self.clone(), key))
    }

    /// A handle on an existing domain.
    pub fn domain(&self, namespace: &str, id: &str) -> Result<Domain> {
        self.check()?;
        let key = DomainKey::new(namespace, id);
        self.inner.domains.get(&key)?;
        Ok(Domain::new(self.clone(), key))
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
        // Its webhooks go first: deleting its models makes no deliveries.
        self.inner.webhooks.drop_domain(&key).await;
        for m in self.inner.models.list_models(&key, None)? {
            self.inner
                .models
                .delete_model(&key, &m.id, &crate::perm::Actor::Host)
                .await?;
        }
        Ok(self.inner.domains.delete(&key).await?)
    }

    /// Starts the WebSocket and HTTP listeners on `addr` (port 0 picks a free port). The
    /// Convergence client connects to `ws://{addr}/realtime/{namespace}/{domain}`.
    pub async fn serve(&self, addr: SocketAddr, config: NetConfig) -> Result<Listener> {
        self.check()?;
        let routes = super::rest::router(self.clone(), config.max_rest_body_bytes)
            .merge(super::console::router());
        net::listen(
            addr,
            self.inner.services.clone(),
            self.inner.protocol.clone(),
            config,
            routes,
        )
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
        self.inner.services.sessions.len()
    }

    /// Every event of every domain.
    pub fn subscribe(&self) -> Subscription {
        self.subscribe_to(EventFilter::default())
    }

    pub(super) fn subscribe_to(&self, filter: EventFilter) -> Subscription {
        Subscription::new(
            self.inner.bus.subscribe(filter),
            self.runtime().clone(),
            self.inner.callbacks.clone(),
        )
    }

    /// Stops the engine: closes every model's sessions, flushes every write, ends event
    /// subscriptions. Later calls fail with `Unavailable`. Idempotent.
    pub async fn shutdown(&self) {
        if self.inner.shut.swap(true, Ordering::SeqCst) {
            return;
        }
        self.inner.models.shutdown().await;
        // The owners of chats, activities and presence hold the store: end them before the
        // flush, so that a shut-down engine's data directory can be opened again at once.
        let services = &self.inner.services;
        services.chats.shutdown().await;
        services.activities.shutdown().await;
        services.presence.shutdown().await;
        // After the models: the last sessions leaving them are recorded for the webhooks.
        self.inner.webhooks.shutdown().await;
        let store = self.inner.store.clone();
        let _ = tokio::task::spawn_blocking(move || store.flush()).await;
        self.inner.bus.close();
    }

    /// True once [`Engine::shutdown`] ran.
    pub fn is_shut_down(&self) -> bool {
        self.inner.shut.load(Ordering::SeqCst)
    }
}
