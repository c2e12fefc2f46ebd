//! [`Model`]: a handle on one model: its data now and in the past, changes, history, events.

use crate::perm::Actor;
use serde_json::Value as Json;

use super::{
    operation_to_json_value, value_to_json, value_to_json_text, Change, Domain, HistoryEntry,
    ModelData, ModelInfo, Result, Subscription,
};
use crate::model::{EventFilter, ModelService};
use crate::session::{SessionId, UserId};
use crate::store::OpMark;

/// A handle on one model.
#[derive(Clone)]
pub struct Model {
    pub(super) domain: Domain,
    pub(super) id: String,
}

impl Model {
    pub(super) fn new(domain: Domain, id: String) -> Self {
        Model { domain, id }
    }

    /// The model id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The domain.
    pub fn domain(&self) -> &Domain {
        &self.domain
    }

    fn svc(&self) -> Result<&ModelService> {
        self.domain.engine.check()?;
        Ok(&self.domain.engine.inner.models)
    }

    /// Metadata (collection, version, times).
    pub fn info(&self) -> Result<ModelInfo> {
        Ok(self.svc()?.model_info(&self.domain.key, &self.id)?)
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
        Ok(self.svc()?.read(&self.domain.key, &self.id).await?)
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
        Ok(self
            .svc()?
            .data_at(&self.domain.key, &self.id, version, &Actor::Host)?)
    }

    /// Applies changes as one operation (one version); returns the version it produced once
    /// it is durable. Sessions with the model open receive it like any remote operation.
    pub async fn apply(&self, changes: Vec<Change>) -> Result<u64> {
        self.apply_as(changes, &UserId::host()).await
    }

    /// Like [`Model::apply`], recording `user` as the author.
    pub async fn apply_as(&self, changes: Vec<Change>, user: &UserId) -> Result<u64> {
        let svc = self.svc()?;
        Ok(svc
            .apply(&self.domain.key, &self.id, changes, &user.to_key())
            .await?)
    }

    /// History entries with `first <= version <= last`.
    pub fn history(&self, first: u64, last: u64) -> Result<Vec<HistoryEntry>> {
        let ops = self
            .svc()?
            .operations(&self.domain.key, &self.id, first, last, &Actor::Host)?;
        Ok(ops
            .into_iter()
            .map(|r| HistoryEntry {
                version: r.version,
                timestamp_ms: r.timestamp_ms,
                session: SessionId::new(&*r.session),
                user: UserId::from_key(&r.user),
                operation: operation_to_json_value(&r.op.operation()),
                undoes: match r.mark {
                    Some(OpMark::Undoes(v)) => v,
                    _ => Vec::new(),
                },
            })
            .collect())
    }

    /// The version the model had at a wall-clock time (epoch ms).
    pub fn version_at(&self, time_ms: i64) -> Result<u64> {
        let svc = self.svc()?;
        Ok(svc.version_at_time(&self.domain.key, &self.id, time_ms, &Actor::Host)?)
    }

    /// Deletes the model; sessions that have it open are closed.
    pub async fn delete(&self) -> Result<()> {
        Ok(self
            .svc()?
            .delete_model(&self.domain.key, &self.id, &Actor::Host)
            .await?)
    }

    /// The model's events.
    pub fn subscribe(&self) -> Subscription {
        self.domain.engine.subscribe_to(EventFilter {
            domain: Some(self.domain.key.clone()),
            model: Some(self.id.clone()),
            ..EventFilter::default()
        })
    }
}
