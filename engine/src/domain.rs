//! The domain service: namespaces and domains, and their settings.

use std::sync::Arc;

use crate::ident::{check, IdKind};
use crate::model::{ModelError, ModelResult};
use crate::sources::Clock;
use crate::store::{
    DomainKey, DomainRecord, DomainState, SnapshotPolicies, SnapshotPolicy, Store, WriteOp,
};

/// The collection permissions, in the order the wire and the docs list them.
pub const COLLECTION_PERMISSIONS: [&str; 5] = ["create", "read", "write", "remove", "manage"];

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
    /// Whether the domain accepts logins (`online`, `maintenance`, `offline`).
    pub state: DomainState,
    /// How long a reconnect token stays valid after its last use, in minutes (at least 1).
    pub reconnect_token_minutes: u32,
    /// The collection permissions everyone gets on a collection created on demand: any of
    /// `create`, `read`, `write`, `remove`, `manage`.
    pub default_collection_world: Vec<String>,
    /// When the domain's models take snapshots (unset: the engine's rule, `[engine.models]
    /// snapshot_every_ops / snapshot_every_secs`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_policy: Option<SnapshotPolicy>,
    /// Policies of single collections, by collection id, in place of the domain's.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub collection_snapshot_policies: std::collections::BTreeMap<String, SnapshotPolicy>,
}

impl Default for DomainSettings {
    fn default() -> Self {
        DomainSettings {
            display_name: String::new(),
            anonymous_auth: false,
            collection_auto_create: true,
            state: DomainState::Online,
            reconnect_token_minutes: 24 * 60,
            default_collection_world: COLLECTION_PERMISSIONS.map(String::from).to_vec(),
            snapshot_policy: None,
            collection_snapshot_policies: Default::default(),
        }
    }
}

impl DomainSettings {
    /// The settings a domain record holds.
    pub fn of(record: &DomainRecord) -> Self {
        DomainSettings {
            display_name: record.display_name.clone(),
            anonymous_auth: record.anonymous_auth,
            collection_auto_create: record.collection_auto_create,
            state: record.state,
            reconnect_token_minutes: record.reconnect_token_minutes,
            default_collection_world: record.default_collection_world.clone(),
            snapshot_policy: record.snapshots.domain,
            collection_snapshot_policies: record.snapshots.collections.clone(),
        }
    }

    /// The snapshot policies as the domain record keeps them.
    fn snapshots(&self) -> SnapshotPolicies {
        SnapshotPolicies {
            domain: self.snapshot_policy,
            collections: self.collection_snapshot_policies.clone(),
        }
    }

    fn check(&self) -> ModelResult<()> {
        if let Some(bad) = self
            .collection_snapshot_policies
            .keys()
            .find(|c| check(IdKind::Collection, c).is_err())
        {
            return Err(ModelError::Invalid(format!(
                "collection_snapshot_policies names an invalid collection id {bad:?}"
            )));
        }
        if self.reconnect_token_minutes == 0 {
            return Err(ModelError::Invalid(
                "reconnect_token_minutes must be at least 1".into(),
            ));
        }
        if let Some(bad) = self
            .default_collection_world
            .iter()
            .find(|p| !COLLECTION_PERMISSIONS.contains(&p.as_str()))
        {
            return Err(ModelError::Invalid(format!(
                "unknown collection permission {bad:?} (expected one of {})",
                COLLECTION_PERMISSIONS.join(", ")
            )));
        }
        Ok(())
    }
}

/// A fresh domain admin key pair: (PKCS#8 private PEM, SubjectPublicKeyInfo public PEM).
pub fn generate_admin_key() -> ModelResult<(String, String)> {
    use ed25519_dalek::pkcs8::{spki::der::pem::LineEnding, EncodePrivateKey, EncodePublicKey};
    let key = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
    let private = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| ModelError::Invalid(format!("admin key: {e}")))?;
    let public = key
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| ModelError::Invalid(format!("admin key: {e}")))?;
    Ok((private.to_string(), public))
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
        settings.check()?;
        if self.store.domain(key).map_err(ModelError::Store)?.is_some() {
            return Err(ModelError::AlreadyExists(format!("domain {key}")));
        }
        let (admin_private_key_pem, admin_public_key_pem) = generate_admin_key()?;
        let snapshots = settings.snapshots();
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
            state: settings.state,
            reconnect_token_minutes: settings.reconnect_token_minutes,
            default_collection_world: settings.default_collection_world,
            admin_private_key_pem,
            admin_public_key_pem,
            snapshots,
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
        settings.check()?;
        let mut record = self.get(key)?;
        record.snapshots = settings.snapshots();
        if !settings.display_name.is_empty() {
            record.display_name = settings.display_name;
        }
        record.anonymous_auth = settings.anonymous_auth;
        record.collection_auto_create = settings.collection_auto_create;
        record.state = settings.state;
        record.reconnect_token_minutes = settings.reconnect_token_minutes;
        record.default_collection_world = settings.default_collection_world;
        self.write(vec![WriteOp::PutDomain(record.clone())]).await?;
        Ok(record)
    }

    /// A domain's record, with its admin key pair generated (and stored) if it has none yet
    /// (domains created by builds before the admin key).
    pub async fn with_admin_key(&self, key: &DomainKey) -> ModelResult<DomainRecord> {
        let mut record = self.get(key)?;
        if record.admin_private_key_pem.is_empty() {
            let (private, public) = generate_admin_key()?;
            record.admin_private_key_pem = private;
            record.admin_public_key_pem = public;
            self.write(vec![WriteOp::PutDomain(record.clone())]).await?;
        }
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
