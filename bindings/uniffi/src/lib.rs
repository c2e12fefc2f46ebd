//! UniFFI bindings (Kotlin, Swift) over the `tandem::api` facade, conversion only. The handles
//! mirror the facade: [`Engine`] → [`Domain`] → [`Model`] → [`Subscription`]. Engine calls are
//! `async` (Kotlin `suspend`, Swift `async`); each runs on the engine's own runtime through
//! `Engine::spawn`, whose future any executor can poll. Events and changes are typed; model
//! data and operations travel as exact JSON text. Errors are [`TandemError`], one variant per
//! engine error code.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tandem::api::{self, EngineConfig, HostedEngine};

mod access;
mod activities;
mod chats;
mod operators;
mod query;
mod sessions;
mod types;
mod undo;
mod webhooks;

pub use access::{
    CollectionPermissions, CollectionRights, DomainState, GroupPermissions, ModelPermissions,
    ModelPermissionsChange, ModelRights, PermissionChange, PermissionTarget, TargetPermissions,
    UserCollectionRights, UserGroup, UserModelRights, UserPermissions, UserProfile,
};
pub use activities::{ActivityInfo, ActivityParticipant};
pub use chats::{
    ChatChange, ChatEvent, ChatEventKind, ChatHistory, ChatHistoryQuery, ChatInfo, ChatKind,
    ChatMember, NewChat, PostedMessage,
};
pub use operators::{Admin, AdminToken, ApiKey, NewApiKey};
pub use sessions::ConnectedSession;
pub use types::{
    error_codes, ActivityChangeKind, Change, DomainId, DomainSettings, ErrorCodeInfo, Event,
    HistoryEntry, JwtKey, ModelInfo, NewUser, PathSegment, User, UserId, UserKind, UserPresence,
};
pub use webhooks::{NewWebhook, RegisteredWebhook, Webhook, WebhookDelivery};

uniffi::setup_scaffolding!();

/// An engine error: one variant per engine error code (`ErrorCode::ALL`), carrying the
/// engine's message. Kotlin: `TandemException.NotFound`, ...; Swift: `TandemError.NotFound`.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
pub enum TandemError {
    /// An argument is malformed (bad JSON, empty id, bad path, bad config).
    #[error("{0}")]
    InvalidArgument(String),
    /// The named domain, collection, model or user does not exist.
    #[error("{0}")]
    NotFound(String),
    /// Something with that id exists already.
    #[error("{0}")]
    AlreadyExists(String),
    /// An operation does not fit the model's data.
    #[error("{0}")]
    InvalidOperation(String),
    /// A submission could not be ordered against concurrent ones.
    #[error("{0}")]
    Conflict(String),
    /// Storage failed; nothing of the failed write was acknowledged.
    #[error("{0}")]
    Storage(String),
    /// The data directory was written with another format version.
    #[error("{0}")]
    FormatVersion(String),
    /// The engine is shut down or the model is unavailable.
    #[error("{0}")]
    Unavailable(String),
    /// The configuration is invalid.
    #[error("{0}")]
    Config(String),
    /// A bug: please report it.
    #[error("{0}")]
    Internal(String),
    /// Credentials were refused.
    #[error("{0}")]
    Unauthenticated(String),
    /// The caller may see the thing but not do this with it.
    #[error("{0}")]
    PermissionDenied(String),
}

impl From<api::Error> for TandemError {
    fn from(e: api::Error) -> Self {
        let m = e.message;
        // Exhaustive: a code added to the engine fails to compile here until it has a variant.
        match e.code {
            api::ErrorCode::InvalidArgument => TandemError::InvalidArgument(m),
            api::ErrorCode::NotFound => TandemError::NotFound(m),
            api::ErrorCode::AlreadyExists => TandemError::AlreadyExists(m),
            api::ErrorCode::InvalidOperation => TandemError::InvalidOperation(m),
            api::ErrorCode::Conflict => TandemError::Conflict(m),
            api::ErrorCode::Storage => TandemError::Storage(m),
            api::ErrorCode::FormatVersion => TandemError::FormatVersion(m),
            api::ErrorCode::Unavailable => TandemError::Unavailable(m),
            api::ErrorCode::Config => TandemError::Config(m),
            api::ErrorCode::Internal => TandemError::Internal(m),
            api::ErrorCode::Unauthenticated => TandemError::Unauthenticated(m),
            api::ErrorCode::PermissionDenied => TandemError::PermissionDenied(m),
        }
    }
}

impl TandemError {
    /// The engine code this error stands for.
    pub fn code(&self) -> api::ErrorCode {
        match self {
            TandemError::InvalidArgument(_) => api::ErrorCode::InvalidArgument,
            TandemError::NotFound(_) => api::ErrorCode::NotFound,
            TandemError::AlreadyExists(_) => api::ErrorCode::AlreadyExists,
            TandemError::InvalidOperation(_) => api::ErrorCode::InvalidOperation,
            TandemError::Conflict(_) => api::ErrorCode::Conflict,
            TandemError::Storage(_) => api::ErrorCode::Storage,
            TandemError::FormatVersion(_) => api::ErrorCode::FormatVersion,
            TandemError::Unavailable(_) => api::ErrorCode::Unavailable,
            TandemError::Config(_) => api::ErrorCode::Config,
            TandemError::Internal(_) => api::ErrorCode::Internal,
            TandemError::Unauthenticated(_) => api::ErrorCode::Unauthenticated,
            TandemError::PermissionDenied(_) => api::ErrorCode::PermissionDenied,
        }
    }
}

type Result<T> = std::result::Result<T, TandemError>;

/// Runs a facade call on the engine's runtime; the returned future needs no tokio context.
async fn run<T, F>(engine: &api::Engine, f: F) -> Result<T>
where
    T: Send + 'static,
    F: Future<Output = api::Result<T>> + Send + 'static,
{
    Ok(engine.spawn(f).await?)
}

/// Receives events on the engine's callback thread (see [`Subscription::on_event`]).
#[uniffi::export(with_foreign)]
pub trait EventListener: Send + Sync {
    /// Called once per event, in order, never on the caller's thread nor under an engine lock.
    fn on_event(&self, event: Event);
}

/// A running engine on a runtime of its own. Releasing it (Kotlin `close()`) shuts it down.
#[derive(uniffi::Object)]
pub struct Engine {
    hosted: HostedEngine,
}

impl Engine {
    fn core(&self) -> Result<api::Engine> {
        Ok(self.hosted.engine()?)
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.hosted.shutdown();
    }
}

#[uniffi::export]
impl Engine {
    /// Opens an engine: on `data_dir` (created if missing) or in memory when it is `null`.
    /// `config_json` is an `EngineConfig` as JSON (unknown fields are errors); `data_dir`
    /// overrides its `data_dir`.
    #[uniffi::constructor(default(data_dir = None, config_json = None))]
    pub fn new(data_dir: Option<String>, config_json: Option<String>) -> Result<Arc<Self>> {
        let mut config = match config_json {
            Some(t) => EngineConfig::from_json(&t)?,
            None => EngineConfig::default(),
        };
        if let Some(dir) = data_dir {
            config.data_dir = Some(dir.into());
        }
        Ok(Arc::new(Engine {
            hosted: HostedEngine::open(config)?,
        }))
    }

    /// Creates a domain (default settings when `null`).
    #[uniffi::method(default(settings = None))]
    pub async fn create_domain(
        &self,
        namespace: String,
        id: String,
        settings: Option<DomainSettings>,
    ) -> Result<Arc<Domain>> {
        let e = self.core()?;
        let settings = settings.map(Into::into).unwrap_or_default();
        let c = e.clone();
        let d = run(&e, async move {
            c.create_domain_with(&namespace, &id, settings).await
        });
        Ok(Arc::new(Domain { inner: d.await? }))
    }

    /// A handle on an existing domain (`NotFound` otherwise).
    pub fn domain(&self, namespace: String, id: String) -> Result<Arc<Domain>> {
        let inner = self.core()?.domain(&namespace, &id)?;
        Ok(Arc::new(Domain { inner }))
    }

    /// Every domain.
    pub fn domains(&self) -> Result<Vec<DomainId>> {
        let list = self.core()?.domains()?;
        Ok(list
            .into_iter()
            .map(|(namespace, id)| DomainId { namespace, id })
            .collect())
    }

    /// Deletes a domain with all its collections and models.
    pub async fn delete_domain(&self, namespace: String, id: String) -> Result<()> {
        let e = self.core()?;
        let c = e.clone();
        run(&e, async move { c.delete_domain(&namespace, &id).await }).await
    }

    /// Every event of every domain.
    pub fn subscribe(&self) -> Result<Arc<Subscription>> {
        Ok(Subscription::new(self.core()?.subscribe()))
    }

    /// Starts the WebSocket/HTTP listener ("127.0.0.1:0" picks a free port); returns the bound
    /// address. `net_config_json` is a `NetConfig` as JSON. Blocks while it binds.
    #[uniffi::method(default(net_config_json = None))]
    pub fn listen(&self, address: String, net_config_json: Option<String>) -> Result<String> {
        let config = match net_config_json {
            Some(t) => api::net_config_from_json(&t)?,
            None => api::NetConfig::default(),
        };
        Ok(self.hosted.listen(&address, config)?.to_string())
    }

    /// Stops the listener; false if none was running. Blocks until its sockets are closed.
    pub fn stop_listening(&self) -> Result<bool> {
        Ok(self.hosted.stop_listening()?)
    }

    /// Stops listening, closes sessions, flushes, and releases the engine (and its data
    /// directory). Idempotent; later calls fail with `Unavailable`. Blocks until done.
    pub fn shutdown(&self) -> Result<()> {
        Ok(self.hosted.shutdown()?)
    }
}

/// A handle on one domain.
#[derive(uniffi::Object)]
pub struct Domain {
    inner: api::Domain,
}

#[uniffi::export]
impl Domain {
    /// The namespace.
    pub fn namespace(&self) -> String {
        self.inner.namespace().to_string()
    }

    /// The domain id.
    pub fn id(&self) -> String {
        self.inner.id().to_string()
    }

    /// The domain's settings.
    pub fn settings(&self) -> Result<DomainSettings> {
        Ok(self.inner.settings()?.into())
    }

    /// Replaces the domain's settings.
    pub async fn set_settings(&self, settings: DomainSettings) -> Result<()> {
        let d = self.inner.clone();
        let e = d.engine().clone();
        run(&e, async move { d.set_settings(settings.into()).await }).await
    }

    /// Allows or refuses anonymous logins.
    pub async fn set_anonymous_auth(&self, allowed: bool) -> Result<()> {
        let d = self.inner.clone();
        let e = d.engine().clone();
        run(&e, async move { d.set_anonymous_auth(allowed).await }).await
    }

    /// Creates a collection (no-op if it exists).
    pub async fn create_collection(&self, id: String) -> Result<()> {
        let d = self.inner.clone();
        let e = d.engine().clone();
        run(&e, async move { d.create_collection(&id).await }).await
    }

    /// Ids of the domain's collections.
    pub fn collections(&self) -> Result<Vec<String>> {
        Ok(self.inner.collections()?)
    }

    /// Deletes a collection and its models.
    pub async fn delete_collection(&self, id: String) -> Result<()> {
        let d = self.inner.clone();
        let e = d.engine().clone();
        run(&e, async move { d.delete_collection(&id).await }).await
    }

    /// Creates a model in `collection` from JSON text (an object; `\uXXXX` escapes of
    /// unpaired surrogates are kept), with the given id or a new UUID.
    #[uniffi::method(default(id = None))]
    pub async fn create_model(
        &self,
        collection: String,
        data_json: String,
        id: Option<String>,
    ) -> Result<Arc<Model>> {
        let data = types::parse(&data_json, "the data")?;
        let d = self.inner.clone();
        let e = d.engine().clone();
        let m = run(&e, async move {
            d.create_model_json(&collection, id.as_deref(), &data).await
        });
        Ok(Arc::new(Model { inner: m.await? }))
    }

    /// Metadata of the domain's models, or of one collection's.
    #[uniffi::method(default(collection = None))]
    pub fn models(&self, collection: Option<String>) -> Result<Vec<ModelInfo>> {
        let list = self.inner.models(collection.as_deref())?;
        Ok(list.into_iter().map(ModelInfo::from).collect())
    }

    /// A handle on an existing model (`NotFound` otherwise).
    pub fn model(&self, id: String) -> Result<Arc<Model>> {
        Ok(Arc::new(Model {
            inner: self.inner.model(&id)?,
        }))
    }

    /// Creates a normal user.
    pub async fn create_user(&self, user: NewUser) -> Result<User> {
        let d = self.inner.clone();
        let e = d.engine().clone();
        Ok(run(&e, async move { d.create_user(user.into()).await })
            .await?
            .into())
    }

    /// Replaces a normal user's password.
    pub async fn set_password(&self, username: String, password: String) -> Result<()> {
        let d = self.inner.clone();
        let e = d.engine().clone();
        run(
            &e,
            async move { d.set_password(&username, &password).await },
        )
        .await
    }

    /// The domain's normal users, ordered by username.
    pub fn users(&self) -> Result<Vec<User>> {
        Ok(self.inner.users()?.into_iter().map(User::from).collect())
    }

    /// Deletes a normal user and revokes its reconnect tokens.
    pub async fn delete_user(&self, username: String) -> Result<()> {
        let d = self.inner.clone();
        let e = d.engine().clone();
        run(&e, async move { d.delete_user(&username).await }).await
    }

    /// Adds a key that verifies JWT logins.
    pub async fn add_jwt_key(&self, key: JwtKey) -> Result<JwtKey> {
        let d = self.inner.clone();
        let e = d.engine().clone();
        Ok(run(&e, async move { d.add_jwt_key(key.into()).await })
            .await?
            .into())
    }

    /// The domain's JWT keys, ordered by id.
    pub fn jwt_keys(&self) -> Result<Vec<JwtKey>> {
        Ok(self
            .inner
            .jwt_keys()?
            .into_iter()
            .map(JwtKey::from)
            .collect())
    }

    /// Removes a JWT key.
    pub async fn remove_jwt_key(&self, id: String) -> Result<()> {
        let d = self.inner.clone();
        let e = d.engine().clone();
        run(&e, async move { d.remove_jwt_key(&id).await }).await
    }

    /// The domain's events (its models' and its sessions').
    pub fn subscribe(&self) -> Arc<Subscription> {
        Subscription::new(self.inner.subscribe())
    }
}

/// A handle on one model.
#[derive(uniffi::Object)]
pub struct Model {
    inner: api::Model,
}

#[uniffi::export]
impl Model {
    /// The model id.
    pub fn id(&self) -> String {
        self.inner.id().to_string()
    }

    /// Metadata (collection, version, times).
    pub fn info(&self) -> Result<ModelInfo> {
        Ok(self.inner.info()?.into())
    }

    /// The current data as compact, exact JSON text (an unpaired surrogate is a `\uXXXX`
    /// escape).
    pub async fn json(&self) -> Result<String> {
        let m = self.inner.clone();
        let e = m.domain().engine().clone();
        run(&e, async move { m.json_text().await }).await
    }

    /// The data as exact JSON text at a past version (1 ..= current).
    pub fn json_at(&self, version: u64) -> Result<String> {
        Ok(self.inner.json_text_at(version)?)
    }

    /// Applies changes as one operation; returns the version it produced once durable.
    pub async fn apply(&self, changes: Vec<Change>) -> Result<u64> {
        let changes = types::changes(changes)?;
        let m = self.inner.clone();
        let e = m.domain().engine().clone();
        run(&e, async move { m.apply(changes).await }).await
    }

    /// Like [`Model::apply`], recording `user` as the author.
    pub async fn apply_as(&self, changes: Vec<Change>, user: UserId) -> Result<u64> {
        let changes = types::changes(changes)?;
        let m = self.inner.clone();
        let e = m.domain().engine().clone();
        let user = api::UserId::from(user);
        run(&e, async move { m.apply_as(changes, &user).await }).await
    }

    /// Like [`Model::apply`], with the changes as JSON text (a change object or an array of
    /// them, the facade's JSON form; unpaired surrogates as `\uXXXX` escapes are kept).
    pub async fn apply_json(&self, changes_json: String) -> Result<u64> {
        let changes = api::changes_from_str(&changes_json)?;
        let m = self.inner.clone();
        let e = m.domain().engine().clone();
        run(&e, async move { m.apply(changes).await }).await
    }

    /// History entries with `first <= version <= last`.
    pub fn history(&self, first: u64, last: u64) -> Result<Vec<HistoryEntry>> {
        let entries = self.inner.history(first, last)?;
        Ok(entries.into_iter().map(HistoryEntry::from).collect())
    }

    /// The version the model had at a wall-clock time (epoch ms).
    pub fn version_at(&self, time_ms: i64) -> Result<u64> {
        Ok(self.inner.version_at(time_ms)?)
    }

    /// Deletes the model; sessions that have it open are closed.
    pub async fn delete(&self) -> Result<()> {
        let m = self.inner.clone();
        let e = m.domain().engine().clone();
        run(&e, async move { m.delete().await }).await
    }

    /// The model's events.
    pub fn subscribe(&self) -> Arc<Subscription> {
        Subscription::new(self.inner.subscribe())
    }
}

/// A stream of events in the order they happened; ends (`next()` gives `null`) once
/// unsubscribed or when the engine shuts down. Kotlin's `events()` makes it a `Flow`, Swift's
/// `events` an `AsyncSequence`.
///
/// The end is `unsubscribe()`: UniFFI gives every Kotlin object a `close()` that releases the
/// handle, so an exported `close` would clash with it. Releasing the handle ends the
/// subscription too.
#[derive(uniffi::Object)]
pub struct Subscription {
    inner: api::Subscription,
}

impl Subscription {
    fn new(inner: api::Subscription) -> Arc<Self> {
        Arc::new(Subscription { inner })
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.inner.close();
    }
}

#[uniffi::export]
impl Subscription {
    /// The next event; `null` once the subscription ended. Cancelling the wait loses no event
    /// (the facade's `next` needs no runtime and is cancel-safe, so it is polled directly).
    pub async fn next(&self) -> Option<Event> {
        self.inner.next().await.map(Event::from)
    }

    /// The next event if one is waiting.
    pub fn try_next(&self) -> Option<Event> {
        self.inner.try_next().map(Event::from)
    }

    /// Waits on the calling thread for the next event, at most `timeout_ms` (forever when
    /// `null`); `null` when the time passed or the subscription ended (also when
    /// `unsubscribe()` is called from another thread meanwhile).
    #[uniffi::method(default(timeout_ms = None))]
    pub fn next_blocking(&self, timeout_ms: Option<u64>) -> Result<Option<Event>> {
        let timeout = timeout_ms.map(Duration::from_millis);
        Ok(self.inner.next_blocking(timeout)?.map(Event::from))
    }

    /// Ends the subscription: a waiting `next()` gets `null`, and so does every later one.
    pub fn unsubscribe(&self) {
        self.inner.close();
    }

    /// True once the subscription was ended with `unsubscribe()`.
    pub fn is_unsubscribed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Delivers every event to `listener`, one at a time, on the engine's callback thread,
    /// until the subscription ends.
    pub fn on_event(&self, listener: Arc<dyn EventListener>) -> Result<()> {
        self.inner
            .on_event(move |e| listener.on_event(Event::from(e)))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_engine_code_has_its_own_variant_named_after_it() {
        let codes = error_codes();
        assert_eq!(codes.len(), api::ErrorCode::ALL.len());
        for code in api::ErrorCode::ALL {
            let e = TandemError::from(api::Error::new(code, "why"));
            assert_eq!(e.code(), code);
            assert_eq!(e.to_string(), "why");
            let variant = format!("{e:?}");
            assert!(
                variant.starts_with(&format!("{}(", code.class_name())),
                "{variant} is not named {}",
                code.class_name()
            );
        }
    }
}
