//! [`Domain`]: a handle on one domain: its settings, collections, models, users and keys.

use serde_json::Value as Json;

use super::{
    Engine, JsonValue, JwtKey, Model, ModelInfo, NewUser, Result, Subscription, User, UserId,
    UserPresence,
};
use crate::domain::DomainSettings;
use crate::model::EventFilter;
use crate::store::DomainKey;

/// A handle on one domain.
#[derive(Clone)]
pub struct Domain {
    pub(super) engine: Engine,
    pub(super) key: DomainKey,
}

impl Domain {
    pub(super) fn new(engine: Engine, key: DomainKey) -> Self {
        Domain { engine, key }
    }

    /// The namespace.
    pub fn namespace(&self) -> &str {
        &self.key.namespace
    }

    /// The domain id.
    pub fn id(&self) -> &str {
        &self.key.id
    }

    #[doc(hidden)]
    /// The domain's store key (for the wire tests).
    pub fn key(&self) -> &DomainKey {
        &self.key
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The domain's settings.
    pub fn settings(&self) -> Result<DomainSettings> {
        self.engine.check()?;
        let r = self.engine.inner.domains.get(&self.key)?;
        Ok(DomainSettings::of(&r))
    }

    /// Replaces the domain's settings.
    pub async fn set_settings(&self, settings: DomainSettings) -> Result<()> {
        self.engine.check()?;
        let record = self
            .engine
            .inner
            .domains
            .update(&self.key, settings)
            .await?;
        self.engine
            .inner
            .models
            .apply_snapshot_policies(&self.key, record.snapshots);
        Ok(())
    }

    /// Allows or refuses anonymous logins to the domain.
    pub async fn set_anonymous_auth(&self, allowed: bool) -> Result<()> {
        let settings = DomainSettings {
            anonymous_auth: allowed,
            ..self.settings()?
        };
        self.set_settings(settings).await
    }

    /// Creates a collection (no-op if it exists).
    pub async fn create_collection(&self, id: &str) -> Result<()> {
        self.engine.check()?;
        let models = &self.engine.inner.models;
        Ok(models.create_collection(&self.key, id, id).await?)
    }

    /// Ids of the domain's collections.
    pub fn collections(&self) -> Result<Vec<String>> {
        self.engine.check()?;
        let models = &self.engine.inner.models;
        Ok(models
            .collections(&self.key)?
            .into_iter()
            .map(|c| c.id)
            .collect())
    }

    /// Deletes a collection and its models.
    pub async fn delete_collection(&self, id: &str) -> Result<()> {
        self.engine.check()?;
        let models = &self.engine.inner.models;
        Ok(models.delete_collection(&self.key, id).await?)
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
    /// [`parse_json`](super::parse_json)).
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
        let models = &self.engine.inner.models;
        let info = models
            .create_model(&self.key, collection, id, data, auto)
            .await?;
        Ok(Model::new(self.clone(), info.id))
    }

    /// Metadata of the domain's models, or of one collection's.
    pub fn models(&self, collection: Option<&str>) -> Result<Vec<ModelInfo>> {
        self.engine.check()?;
        let models = &self.engine.inner.models;
        Ok(models.list_models(&self.key, collection)?)
    }

    /// A handle on an existing model.
    pub fn model(&self, id: &str) -> Result<Model> {
        self.engine.check()?;
        self.engine.inner.models.model_info(&self.key, id)?;
        Ok(Model::new(self.clone(), id.to_string()))
    }

    /// Creates a normal user (its password, if any, is stored as an argon2 hash).
    pub async fn create_user(&self, user: NewUser) -> Result<User> {
        self.engine.check()?;
        let auth = &self.engine.inner.auth;
        Ok(auth.create_user(&self.key, user).await?.into())
    }

    /// Replaces a normal user's password.
    pub async fn set_password(&self, username: &str, password: &str) -> Result<()> {
        self.engine.check()?;
        let auth = &self.engine.inner.auth;
        Ok(auth.set_password(&self.key, username, password).await?)
    }

    /// The domain's normal users, ordered by username.
    pub fn users(&self) -> Result<Vec<User>> {
        self.engine.check()?;
        let auth = &self.engine.inner.auth;
        Ok(auth.users(&self.key)?.into_iter().map(User::from).collect())
    }

    /// Deletes a normal user and revokes its reconnect tokens.
    pub async fn delete_user(&self, username: &str) -> Result<()> {
        self.engine.check()?;
        let auth = &self.engine.inner.auth;
        auth.delete_user(&self.key, username).await?;
        // Its model and collection entries went with it: sessions are resolved again.
        self.engine.inner.models.reauthorize(&self.key, |_| true);
        Ok(())
    }

    /// Adds a key that verifies JWT logins (an RSA public key in PEM, selected by the
    /// token's `kid`).
    pub async fn add_jwt_key(&self, key: JwtKey) -> Result<JwtKey> {
        self.engine.check()?;
        let auth = &self.engine.inner.auth;
        Ok(auth.add_jwt_key(&self.key, key.into()).await?.into())
    }

    /// The domain's JWT keys, ordered by id.
    pub fn jwt_keys(&self) -> Result<Vec<JwtKey>> {
        self.engine.check()?;
        let auth = &self.engine.inner.auth;
        Ok(auth
            .jwt_keys(&self.key)?
            .into_iter()
            .map(JwtKey::from)
            .collect())
    }

    /// Removes a JWT key.
    pub async fn remove_jwt_key(&self, id: &str) -> Result<()> {
        self.engine.check()?;
        Ok(self.engine.inner.auth.remove_jwt_key(&self.key, id).await?)
    }

    /// The presence of each user, in the order given: whether it has a connected session and
    /// the state its sessions share. Changes arrive as [`Event::PresenceChanged`] on
    /// [`Domain::subscribe`].
    ///
    /// [`Event::PresenceChanged`]: super::Event::PresenceChanged
    pub async fn presence(&self, users: &[UserId]) -> Result<Vec<UserPresence>> {
        self.engine.check()?;
        let presence = &self.engine.inner.services.presence;
        let found = presence.presence(&self.key, users.to_vec()).await?;
        Ok(found.into_iter().map(UserPresence::from).collect())
    }

    /// The events of this domain (its models' and its sessions').
    pub fn subscribe(&self) -> Subscription {
        self.engine.subscribe_to(EventFilter {
            domain: Some(self.key.clone()),
            model: None,
            ..EventFilter::default()
        })
    }
}
