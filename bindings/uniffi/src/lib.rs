//! UniFFI bindings (Kotlin, Swift): type conversion over the `tandem::api` facade, nothing
//! more. The surface is the one the Python and Node bindings have; structured data travels as
//! JSON text, errors become `TandemError` with one variant per engine `ErrorCode`, and events
//! reach the host through the `EventListener` callback interface.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tandem::api::{
    changes_from_json_value, event_to_json_text, parse_json, value_to_json_text, DomainSettings,
    Engine as CoreEngine, EngineConfig, Error, ErrorCode, EventFilter, HostedEngine, JsonValue,
    JwtKeyRecord, NewUser,
};
use tandem::store::DomainKey;

uniffi::setup_scaffolding!();

/// An engine error: one variant per stable engine code, carrying the engine's message.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
pub enum TandemError {
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    AlreadyExists(String),
    #[error("{0}")]
    InvalidOperation(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Storage(String),
    #[error("{0}")]
    FormatVersion(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Internal(String),
    #[error("{0}")]
    Unauthenticated(String),
}

impl From<Error> for TandemError {
    fn from(e: Error) -> Self {
        let m = e.message;
        match e.code {
            ErrorCode::InvalidArgument => TandemError::InvalidArgument(m),
            ErrorCode::NotFound => TandemError::NotFound(m),
            ErrorCode::AlreadyExists => TandemError::AlreadyExists(m),
            ErrorCode::InvalidOperation => TandemError::InvalidOperation(m),
            ErrorCode::Conflict => TandemError::Conflict(m),
            ErrorCode::Storage => TandemError::Storage(m),
            ErrorCode::FormatVersion => TandemError::FormatVersion(m),
            ErrorCode::Unavailable => TandemError::Unavailable(m),
            ErrorCode::Config => TandemError::Config(m),
            ErrorCode::Internal => TandemError::Internal(m),
            ErrorCode::Unauthenticated => TandemError::Unauthenticated(m),
        }
    }
}

type Result<T> = std::result::Result<T, TandemError>;

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidArgument, msg)
}

/// Parses model JSON exactly (`\uXXXX` escapes of unpaired surrogates included).
fn parse(text: &str, what: &str) -> std::result::Result<JsonValue, Error> {
    parse_json(text).map_err(|e| invalid(format!("{what} is not valid JSON: {e}")))
}

/// Receives engine events as JSON text. Called on a thread of the binding's own, never while
/// an engine lock is held.
#[uniffi::export(callback_interface)]
pub trait EventListener: Send + Sync {
    fn on_event(&self, event_json: String);
}

/// The engine. Methods take and return JSON text for structured data.
#[derive(uniffi::Object)]
pub struct Engine {
    hosted: HostedEngine,
}

impl Engine {
    fn core(&self) -> std::result::Result<CoreEngine, Error> {
        self.hosted.engine()
    }
}

#[uniffi::export]
impl Engine {
    /// Opens an engine; `config_json` is an `EngineConfig` as JSON (defaults when absent).
    #[uniffi::constructor(default(config_json = None))]
    pub fn new(config_json: Option<String>) -> Result<Arc<Self>> {
        let config = match config_json {
            Some(t) => EngineConfig::from_json(&t)?,
            None => EngineConfig::default(),
        };
        let engine = CoreEngine::open(config)?;
        Ok(Arc::new(Engine {
            hosted: HostedEngine::new(engine),
        }))
    }

    /// Starts the network listener; returns the bound address.
    #[uniffi::method(default(net_config_json = None))]
    pub fn listen(&self, address: String, net_config_json: Option<String>) -> Result<String> {
        Ok(self
            .hosted
            .listen(&address, net_config_json.as_deref())?
            .to_string())
    }

    pub fn stop_listening(&self) -> Result<()> {
        self.hosted.stop_listening()?;
        Ok(())
    }

    /// Stops listening, closes sessions, flushes, and releases the engine (and its data
    /// directory). Idempotent; later calls fail with `Unavailable`.
    pub fn shutdown(&self) {
        self.hosted.shutdown();
    }

    #[uniffi::method(default(anonymous_auth = false, collection_auto_create = true))]
    pub fn create_domain(
        &self,
        namespace: String,
        domain: String,
        anonymous_auth: bool,
        collection_auto_create: bool,
    ) -> Result<()> {
        let settings = DomainSettings {
            display_name: String::new(),
            anonymous_auth,
            collection_auto_create,
        };
        let core = self.core()?;
        core.block_on(core.create_domain_with(&namespace, &domain, settings))?;
        Ok(())
    }

    /// Every domain as a `[namespace, domain]` pair.
    pub fn domains(&self) -> Result<Vec<Vec<String>>> {
        Ok(self
            .core()?
            .domains()?
            .into_iter()
            .map(|(n, d)| vec![n, d])
            .collect())
    }

    pub fn set_anonymous(&self, namespace: String, domain: String, allow: bool) -> Result<()> {
        let core = self.core()?;
        let d = core.domain(&namespace, &domain)?;
        Ok(core.block_on(d.set_anonymous_auth(allow))?)
    }

    pub fn create_collection(
        &self,
        namespace: String,
        domain: String,
        collection: String,
    ) -> Result<()> {
        let core = self.core()?;
        let d = core.domain(&namespace, &domain)?;
        Ok(core.block_on(d.create_collection(&collection))?)
    }

    pub fn collections(&self, namespace: String, domain: String) -> Result<Vec<String>> {
        Ok(self.core()?.domain(&namespace, &domain)?.collections()?)
    }

    #[uniffi::method(default(password = None, display_name = ""))]
    pub fn create_user(
        &self,
        namespace: String,
        domain: String,
        username: String,
        password: Option<String>,
        display_name: String,
    ) -> Result<()> {
        let core = self.core()?;
        let d = core.domain(&namespace, &domain)?;
        core.block_on(d.create_user(NewUser {
            username,
            display_name,
            password,
            ..NewUser::default()
        }))?;
        Ok(())
    }

    pub fn users(&self, namespace: String, domain: String) -> Result<Vec<String>> {
        Ok(self
            .core()?
            .domain(&namespace, &domain)?
            .users()?
            .into_iter()
            .map(|u| u.username)
            .collect())
    }

    pub fn set_password(
        &self,
        namespace: String,
        domain: String,
        username: String,
        password: String,
    ) -> Result<()> {
        let core = self.core()?;
        let d = core.domain(&namespace, &domain)?;
        Ok(core.block_on(d.set_password(&username, &password))?)
    }

    pub fn add_jwt_key(
        &self,
        namespace: String,
        domain: String,
        key_id: String,
        public_key_pem: String,
    ) -> Result<()> {
        let core = self.core()?;
        let d = core.domain(&namespace, &domain)?;
        core.block_on(d.add_jwt_key(JwtKeyRecord {
            id: key_id,
            description: String::new(),
            public_key_pem,
            enabled: true,
            updated_ms: 0,
        }))?;
        Ok(())
    }

    /// Creates a model from JSON data; returns its id.
    #[uniffi::method(default(model_id = None))]
    pub fn create_model(
        &self,
        namespace: String,
        domain: String,
        collection: String,
        data_json: String,
        model_id: Option<String>,
    ) -> Result<String> {
        let data = parse(&data_json, "data")?;
        let core = self.core()?;
        let d = core.domain(&namespace, &domain)?;
        let m = core.block_on(d.create_model_json(&collection, model_id.as_deref(), &data))?;
        Ok(m.id().to_string())
    }

    /// The model's data as JSON text, current or at `version`.
    #[uniffi::method(default(version = None))]
    pub fn model_json(
        &self,
        namespace: String,
        domain: String,
        model_id: String,
        version: Option<u64>,
    ) -> Result<String> {
        let core = self.core()?;
        let m = core.domain(&namespace, &domain)?.model(&model_id)?;
        let data = match version {
            Some(v) => value_to_json_text(&m.data_at(v)?.data),
            None => core.block_on(m.json_text())?,
        };
        Ok(data)
    }

    /// Applies changes (JSON, the facade's change form); returns the new version.
    pub fn apply(
        &self,
        namespace: String,
        domain: String,
        model_id: String,
        changes_json: String,
    ) -> Result<u64> {
        let changes = changes_from_json_value(&parse(&changes_json, "changes")?)?;
        let core = self.core()?;
        let m = core.domain(&namespace, &domain)?.model(&model_id)?;
        Ok(core.block_on(m.apply(changes))?)
    }

    pub fn delete_model(&self, namespace: String, domain: String, model_id: String) -> Result<()> {
        let core = self.core()?;
        let m = core.domain(&namespace, &domain)?.model(&model_id)?;
        Ok(core.block_on(m.delete())?)
    }

    /// Subscribes to events (all, one domain's, or one model's); each event is delivered to
    /// `listener` as JSON text until the subscription is closed or the engine shut down.
    #[uniffi::method(default(namespace = None, domain = None, model_id = None))]
    pub fn subscribe(
        &self,
        namespace: Option<String>,
        domain: Option<String>,
        model_id: Option<String>,
        listener: Box<dyn EventListener>,
    ) -> Result<Arc<Subscription>> {
        let domain = match (namespace, domain) {
            (Some(n), Some(d)) => Some(DomainKey::new(n, d)),
            (None, None) => None,
            _ => return Err(invalid("give both namespace and domain, or neither").into()),
        };
        let core = self.core()?;
        let mut sub = core.subscribe(EventFilter {
            domain,
            model: model_id,
        });
        let closed = Arc::new(AtomicBool::new(false));
        let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        // The engine's runtime only forwards; the host's code runs on a thread of its own, so
        // a slow listener never stalls the runtime. Both end when the subscription is closed
        // or the runtime goes away with the engine.
        core.runtime().spawn(async move {
            loop {
                tokio::select! {
                    e = sub.recv() => match e {
                        Some(e) => {
                            if tx.send(event_to_json_text(&e)).is_err() {
                                break;
                            }
                        }
                        None => break,
                    },
                    _ = &mut stop_rx => break,
                }
            }
        });
        let closed_flag = closed.clone();
        std::thread::Builder::new()
            .name("tandem-events".into())
            .spawn(move || {
                while let Ok(event) = rx.recv() {
                    if closed_flag.load(Ordering::SeqCst) {
                        break;
                    }
                    listener.on_event(event);
                }
            })
            .map_err(|e| Error::new(ErrorCode::Internal, format!("event thread: {e}")))?;
        Ok(Arc::new(Subscription {
            closed,
            stop: Mutex::new(Some(stop_tx)),
        }))
    }
}

/// An event subscription; `unsubscribe()` ends it, and so does releasing it.
///
/// The Python and Node bindings call this `close()`. UniFFI's Kotlin objects are
/// `AutoCloseable` with a generated `close()` that releases the handle, and a second exported
/// `close` would not compile (uniffi-rs issue 2377). So Kotlin's `close()` ends the
/// subscription through `Drop`, and `unsubscribe()` is the explicit call in both languages.
#[derive(uniffi::Object)]
pub struct Subscription {
    closed: Arc<AtomicBool>,
    stop: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
}

#[uniffi::export]
impl Subscription {
    /// Ends the subscription; no event is delivered after it returns (one already being
    /// delivered may finish). Idempotent.
    pub fn unsubscribe(&self) {
        self.closed.store(true, Ordering::SeqCst);
        if let Ok(mut s) = self.stop.lock() {
            if let Some(tx) = s.take() {
                let _ = tx.send(());
            }
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.unsubscribe();
    }
}
