//! The domain service: namespaces and domains, and their settings.

use std::sync::Arc;

use crate::ident::{check, IdKind};
use crate::model::{ModelError, ModelResult};
use crate::sources::Clock;
use crate::store::{DomainKey, DomainRecord, Store, WriteOp};

/// Settings of a domain.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DomainSettings {
    /// Human-readable name.
    pub display_name: String,
    /// Whether anonymous users may connect.
    pub anonymous_auth: bool,
    /// Whether creating a model in a missing collection creates the collection.
    pub collection_auto_create: bool,
}

impl Default for DomainSettings {
    fn default() -> Self {
        DomainSettings {
            display_name: String::new(),
            anonymous_auth: false,
            collection_auto_create: true,
        }
    }
}

/// Creates, lists and deletes domains.
#[derive(Clone)]
pub struct DomainService {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl DomainService {
    /// A service over `store`.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        DomainService { store, clock }
    }

    async fn write(&self, batch: Vec<WriteOp>) -> ModelResult<()> {
        self.store.commit(batch).await.map_err(ModelError::Store)
    }

    /// Creates a domain; fails if it exists.
    pub async fn create(
        &self,
        key: &DomainKey,
        settings: DomainSettings,
    ) -> ModelResult<DomainRecord> {
        check(IdKind::Namespace, &key.namespace)
            .and_then(|()| check(IdKind::Domain, &key.id))
            .map_err(|e| ModelError::Invalid(format!("invalid domain {key}: {e}")))?;
        if self.store.domain(key).map_err(ModelError::Store)?.is_some() {
            return Err(ModelError::AlreadyExists(format!("domain {key}")));
        }
        let record = DomainRecord {
            key: key.clone(),
            display_name: if settings.display_name.is_empty() {
                key.id.clone()
            } else {
                settings.display_name
            },
            created_ms: self.clock.now_ms(),
            anonymous_auth: settings.anonymous_auth,
            collection_auto_create: settings.collection_auto_create,
        };
        self.write(vec![WriteOp::PutDomain(record.clone())]).await?;
        Ok(record)
    }

    /// Replaces a domain's settings.
    pub async fn update(
        &self,
        key: &DomainKey,
        settings: DomainSettings,
    ) -> ModelResult<DomainRecord> {
        let mut record = self.get(key)?;
        if !settings.display_name.is_empty() {
            record.display_name = settings.display_name;
        }
        record.anonymous_auth = settings.anonymous_auth;
        record.collection_auto_create = settings.collection_auto_create;
        self.write(vec![WriteOp::PutDomain(record.clone())]).await?;
        Ok(record)
    }

    /// A domain's record.
    pub fn get(&self, key: &DomainKey) -> ModelResult<DomainRecord> {
        self.store
            .domain(key)
            .map_err(ModelError::Store)?
            .ok_or_else(|| ModelError::DomainNotFound(key.to_string()))
    }

    /// Every domain.
    pub fn list(&self) -> ModelResult<Vec<DomainRecord>> {
        self.store.domains().map_err(ModelError::Store)
    }

    /// Deletes a domain with everything in it (callers close its models first).
    pub async fn delete(&self, key: &DomainKey) -> ModelResult<()> {
        self.get(key)?;
        self.write(vec![WriteOp::DeleteDomain(key.clone())]).await
    }
}
