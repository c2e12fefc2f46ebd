//! Node.js bindings: type conversion over the `tandem::api` facade, nothing more. Async
//! methods return Promises; errors are JS `Error`s whose `code` is the engine's stable error
//! name (`"not_found"`, ...); events reach JS through a thread-safe function or `next()`.

use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use serde_json::Value as Json;
use tandem::api::{
    changes_from_json, event_to_json, value_to_json, DomainSettings, Engine as CoreEngine,
    EngineConfig, Error as CoreError, ErrorCode, EventFilter, EventSubscription, JwtKeyRecord,
    Listener, NetConfig, NewUser,
};
use tandem::store::DomainKey;

/// Engine errors cross as `TANDEM:<number>:<name>:<message>`; `tandem.js` turns that into a
/// JS `Error` with `code` (the name) and `errno` (the number).
fn js(e: CoreError) -> Error {
    Error::new(
        Status::GenericFailure,
        format!(
            "TANDEM:{}:{}:{}",
            e.code.as_i32(),
            e.code.as_str(),
            e.message
        ),
    )
}

fn invalid(msg: impl Into<String>) -> CoreError {
    CoreError::new(ErrorCode::InvalidArgument, msg)
}

struct Shared {
    engine: Mutex<Option<CoreEngine>>,
    listener: tokio::sync::Mutex<Option<Listener>>,
}

impl Shared {
    fn core(&self) -> std::result::Result<CoreEngine, CoreError> {
        self.engine
            .lock()
            .ok()
            .and_then(|e| e.clone())
            .ok_or_else(|| CoreError::new(ErrorCode::Unavailable, "the engine is shut down"))
    }
}

/// Options of `createDomain`.
#[napi(object)]
pub struct DomainOptions {
    /// Allow anonymous connections.
    pub anonymous_auth: Option<bool>,
    /// Create missing collections automatically.
    pub collection_auto_create: Option<bool>,
}

/// A new user.
#[napi(object)]
pub struct UserInput {
    /// Username.
    pub username: String,
    /// Password (optional).
    pub password: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
}

/// The Tandem engine.
#[napi]
pub struct Engine {
    shared: Arc<Shared>,
}

#[napi]
impl Engine {
    /// Opens an engine: in memory by default, durable with `{ data_dir: path }`.
    #[napi(constructor)]
    pub fn new(config: Option<Json>) -> Result<Self> {
        let config = match config {
            Some(c) => EngineConfig::from_json(&c.to_string()).map_err(js)?,
            None => EngineConfig::default(),
        };
        let engine = CoreEngine::open(config).map_err(js)?;
        Ok(Engine {
            shared: Arc::new(Shared {
                engine: Mutex::new(Some(engine)),
                listener: tokio::sync::Mutex::new(None),
            }),
        })
    }

    /// Starts the WebSocket/HTTP listener; resolves to the bound `host:port`.
    #[napi]
    pub async fn listen(&self, address: String, net_config: Option<Json>) -> Result<String> {
        let shared = self.shared.clone();
        let core = shared.core().map_err(js)?;
        let addr = address
            .parse()
            .map_err(|_| js(invalid(format!("bad address {address:?}"))))?;
        let config = match net_config {
            Some(c) => serde_json::from_value::<NetConfig>(c).map_err(|e| {
                js(CoreError::new(
                    ErrorCode::Config,
                    format!("invalid net config: {e}"),
                ))
            })?,
            None => NetConfig::default(),
        };
        let mut slot = shared.listener.lock().await;
        if slot.is_some() {
            return Err(js(CoreError::new(
                ErrorCode::AlreadyExists,
                "the engine is already listening",
            )));
        }
        let c = core.clone();
        let l = run(&core, async move { c.serve(addr, config).await }).await?;
        let bound = l.local_addr().to_string();
        *slot = Some(l);
        Ok(bound)
    }

    /// Stops the listener.
    #[napi]
    pub async fn stop_listening(&self) -> Result<()> {
        let shared = self.shared.clone();
        let core = shared.core().map_err(js)?;
        let l = shared.listener.lock().await.take();
        if let Some(l) = l {
            run(&core, async move {
                l.stop().await;
                Ok(())
            })
            .await?;
        }
        Ok(())
    }

    /// Stops listening, closes sessions, flushes, and releases the engine. Idempotent.
    #[napi]
    pub async fn shutdown(&self) -> Result<()> {
        let shared = self.shared.clone();
        let l = shared.listener.lock().await.take();
        let core = shared.engine.lock().ok().and_then(|mut e| e.take());
        if let Some(core) = core {
            let c2 = core.clone();
            run(&core, async move {
                if let Some(l) = l {
                    l.stop().await;
                }
                c2.shutdown().await;
                Ok(())
            })
            .await?;
            drop(core);
        }
        Ok(())
    }

    /// Creates a domain.
    #[napi]
    pub async fn create_domain(
        &self,
        namespace: String,
        domain: String,
        options: Option<DomainOptions>,
    ) -> Result<()> {
        let core = self.shared.core().map_err(js)?;
        let settings = DomainSettings {
            display_name: String::new(),
            anonymous_auth: options
                .as_ref()
                .and_then(|o| o.anonymous_auth)
                .unwrap_or(false),
            collection_auto_create: options
                .as_ref()
                .and_then(|o| o.collection_auto_create)
                .unwrap_or(true),
        };
        let c = core.clone();
        run(&core, async move {
            c.create_domain_with(&namespace, &domain, settings)
                .await
                .map(|_| ())
        })
        .await
    }

    /// The domains as `[namespace, domain]` pairs.
    #[napi]
    pub fn domains(&self) -> Result<Vec<Vec<String>>> {
        let core = self.shared.core().map_err(js)?;
        Ok(core
            .domains()
            .map_err(js)?
            .into_iter()
            .map(|(n, d)| vec![n, d])
            .collect())
    }

    /// Allows or refuses anonymous connections to a domain.
    #[napi]
    pub async fn set_anonymous(
        &self,
        namespace: String,
        domain: String,
        allow: bool,
    ) -> Result<()> {
        let core = self.shared.core().map_err(js)?;
        let d = core.domain(&namespace, &domain).map_err(js)?;
        run(&core, async move { d.set_anonymous_auth(allow).await }).await
    }

    /// Creates a collection.
    #[napi]
    pub async fn create_collection(
        &self,
        namespace: String,
        domain: String,
        collection: String,
    ) -> Result<()> {
        let core = self.shared.core().map_err(js)?;
        let d = core.domain(&namespace, &domain).map_err(js)?;
        run(&core, async move { d.create_collection(&collection).await }).await
    }

    /// The ids of a domain's collections.
    #[napi]
    pub fn collections(&self, namespace: String, domain: String) -> Result<Vec<String>> {
        let core = self.shared.core().map_err(js)?;
        core.domain(&namespace, &domain)
            .and_then(|d| d.collections())
            .map_err(js)
    }

    /// Creates a user.
    #[napi]
    pub async fn create_user(
        &self,
        namespace: String,
        domain: String,
        user: UserInput,
    ) -> Result<()> {
        let core = self.shared.core().map_err(js)?;
        let d = core.domain(&namespace, &domain).map_err(js)?;
        run(&core, async move {
            d.create_user(NewUser {
                username: user.username,
                password: user.password,
                display_name: user.display_name.unwrap_or_default(),
                ..NewUser::default()
            })
            .await
            .map(|_| ())
        })
        .await
    }

    /// The usernames of a domain's users.
    #[napi]
    pub fn users(&self, namespace: String, domain: String) -> Result<Vec<String>> {
        let core = self.shared.core().map_err(js)?;
        let d = core.domain(&namespace, &domain).map_err(js)?;
        Ok(d.users()
            .map_err(js)?
            .into_iter()
            .map(|u| u.username)
            .collect())
    }

    /// Sets a user's password.
    #[napi]
    pub async fn set_password(
        &self,
        namespace: String,
        domain: String,
        username: String,
        password: String,
    ) -> Result<()> {
        let core = self.shared.core().map_err(js)?;
        let d = core.domain(&namespace, &domain).map_err(js)?;
        run(
            &core,
            async move { d.set_password(&username, &password).await },
        )
        .await
    }

    /// Adds a JWT verification key (RSA public key, PEM) under `keyId`.
    #[napi]
    pub async fn add_jwt_key(
        &self,
        namespace: String,
        domain: String,
        key_id: String,
        public_key_pem: String,
    ) -> Result<()> {
        let core = self.shared.core().map_err(js)?;
        let d = core.domain(&namespace, &domain).map_err(js)?;
        run(&core, async move {
            d.add_jwt_key(JwtKeyRecord {
                id: key_id,
                description: String::new(),
                public_key_pem,
                enabled: true,
                updated_ms: 0,
            })
            .await
            .map(|_| ())
        })
        .await
    }

    /// Creates a model from an object; resolves to its id (a UUID when none is given).
    #[napi]
    pub async fn create_model(
        &self,
        namespace: String,
        domain: String,
        collection: String,
        data: Json,
        model_id: Option<String>,
    ) -> Result<String> {
        let core = self.shared.core().map_err(js)?;
        let d = core.domain(&namespace, &domain).map_err(js)?;
        run(&core, async move {
            let m = d
                .create_model(&collection, model_id.as_deref(), &data)
                .await?;
            Ok(m.id().to_string())
        })
        .await
    }

    /// The model's data (at `version` when given).
    #[napi]
    pub async fn model_json(
        &self,
        namespace: String,
        domain: String,
        model_id: String,
        version: Option<i64>,
    ) -> Result<Json> {
        let core = self.shared.core().map_err(js)?;
        let m = core
            .domain(&namespace, &domain)
            .and_then(|d| d.model(&model_id))
            .map_err(js)?;
        run(&core, async move {
            match version {
                Some(v) if v >= 1 => Ok(value_to_json(&m.data_at(v as u64)?.data)),
                Some(v) => Err(invalid(format!("version {v} must be at least 1"))),
                None => m.json().await,
            }
        })
        .await
    }

    /// Applies changes (an object or an array) as one operation; resolves to the version.
    #[napi]
    pub async fn apply(
        &self,
        namespace: String,
        domain: String,
        model_id: String,
        changes: Json,
    ) -> Result<i64> {
        let core = self.shared.core().map_err(js)?;
        let changes = changes_from_json(&changes).map_err(js)?;
        let m = core
            .domain(&namespace, &domain)
            .and_then(|d| d.model(&model_id))
            .map_err(js)?;
        run(
            &core,
            async move { m.apply(changes).await.map(|v| v as i64) },
        )
        .await
    }

    /// Deletes a model.
    #[napi]
    pub async fn delete_model(
        &self,
        namespace: String,
        domain: String,
        model_id: String,
    ) -> Result<()> {
        let core = self.shared.core().map_err(js)?;
        let m = core
            .domain(&namespace, &domain)
            .and_then(|d| d.model(&model_id))
            .map_err(js)?;
        run(&core, async move { m.delete().await }).await
    }

    /// Subscribes to events (all, one domain's, or one model's). With a callback, each event
    /// is delivered to it; otherwise read them with `next()` or `for await`.
    #[napi]
    pub fn subscribe(
        &self,
        namespace: Option<String>,
        domain: Option<String>,
        model_id: Option<String>,
        callback: Option<ThreadsafeFunction<Json>>,
    ) -> Result<Subscription> {
        let core = self.shared.core().map_err(js)?;
        let filter = EventFilter {
            domain: match (namespace, domain) {
                (Some(n), Some(d)) => Some(DomainKey::new(n, d)),
                (None, None) => None,
                _ => return Err(js(invalid("give both namespace and domain, or neither"))),
            },
            model: model_id,
        };
        let mut sub = core.subscribe(filter);
        match callback {
            Some(tsfn) => {
                let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
                core.runtime().spawn(async move {
                    loop {
                        tokio::select! {
                            e = sub.recv() => match e {
                                Some(e) => {
                                    tsfn.call(Ok(event_to_json(&e)), ThreadsafeFunctionCallMode::NonBlocking);
                                }
                                None => break,
                            },
                            _ = &mut stop_rx => break,
                        }
                    }
                });
                Ok(Subscription {
                    inner: Arc::new(tokio::sync::Mutex::new(None)),
                    stop: Mutex::new(Some(stop_tx)),
                })
            }
            None => Ok(Subscription {
                inner: Arc::new(tokio::sync::Mutex::new(Some(sub))),
                stop: Mutex::new(None),
            }),
        }
    }
}

/// Runs engine work on the engine's runtime and converts the error.
async fn run<T: Send + 'static>(
    core: &CoreEngine,
    fut: impl std::future::Future<Output = std::result::Result<T, CoreError>> + Send + 'static,
) -> Result<T> {
    core.runtime()
        .spawn(fut)
        .await
        .map_err(|e| {
            js(CoreError::new(
                ErrorCode::Internal,
                format!("engine task failed: {e}"),
            ))
        })?
        .map_err(js)
}

/// Engine events.
#[napi]
pub struct Subscription {
    inner: Arc<tokio::sync::Mutex<Option<EventSubscription>>>,
    stop: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
}

#[napi]
impl Subscription {
    /// The next event, or `null` after `timeoutMs` or once closed.
    #[napi]
    pub async fn next(&self, timeout_ms: Option<u32>) -> Result<Option<Json>> {
        let inner = self.inner.clone();
        let mut guard = inner.lock().await;
        let Some(sub) = guard.as_mut() else {
            return Ok(None);
        };
        let wait = std::time::Duration::from_millis(timeout_ms.unwrap_or(u32::MAX) as u64);
        Ok(tokio::time::timeout(wait, sub.recv())
            .await
            .ok()
            .flatten()
            .map(|e| event_to_json(&e)))
    }

    /// Ends the subscription.
    #[napi]
    pub fn close(&self) {
        if let Ok(mut s) = self.stop.lock() {
            if let Some(tx) = s.take() {
                let _ = tx.send(());
            }
        }
        if let Ok(mut g) = self.inner.try_lock() {
            g.take();
        }
    }
}
