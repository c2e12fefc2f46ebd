//! Offline copies: what a client that keeps models in offline storage is told about one of
//! them. The check is cheap when nothing changed (the stored meta and the actor's rights); the
//! data comes from the model's sequencer, which also hands out the value-id prefix of a first
//! download from the same counter as opens, so values made offline never collide with others.

use super::{store_err, ModelService};
use crate::model::sequencer::Command;
use crate::model::{ModelData, ModelError, ModelResult};
use crate::perm::{Actor, ModelRights};
use crate::store::DomainKey;

/// What a client holds of a model in its offline storage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OfflineKnown {
    /// The version it has (0: it has no copy yet).
    pub version: u64,
    /// The rights it was last told (`None`: unknown).
    pub rights: Option<ModelRights>,
    /// Whether the actor was found to hold read on it before (by this client's connection):
    /// only then does losing read say so, instead of looking like a model that is not there.
    pub had_read: bool,
}

/// A model as a client stores it for offline use.
#[derive(Clone, Debug, PartialEq)]
pub struct OfflineCopy {
    /// The data, version, times and collection.
    pub data: ModelData,
    /// The actor's rights.
    pub rights: ModelRights,
    /// A value-id prefix no open of the model ever had, for a first download; `None` for an
    /// update of a copy the client already has.
    pub value_prefix: Option<String>,
}

/// What the client should be told about one of its offline models.
#[derive(Clone, Debug, PartialEq)]
pub enum OfflineAnswer {
    /// Its copy is current.
    Unchanged,
    /// The model is not there (deleted, or never readable by the actor: the two look alike).
    Gone,
    /// The actor lost read on a model it could read before.
    Revoked,
    /// Its first copy, with a fresh value-id prefix.
    Initial(OfflineCopy),
    /// A newer version of the data, new rights, or both.
    Updated {
        /// The current data when its version differs from the client's.
        data: Option<ModelData>,
        /// The actor's rights when they differ from what the client was told.
        rights: Option<ModelRights>,
    },
}

impl ModelService {
    /// Compares what a client holds of model `id` with the model and `actor`'s rights on it.
    pub async fn offline_check(
        &self,
        domain: &DomainKey,
        id: &str,
        actor: &Actor,
        known: &OfflineKnown,
    ) -> ModelResult<OfflineAnswer> {
        let (meta, rights) = match self.readable(domain, id, actor) {
            Ok(found) => found,
            Err(ModelError::NotFound(_)) => return self.missing(domain, id, known),
            Err(e) => return Err(e),
        };
        let wanted = |r: ModelRights| (known.rights != Some(r)).then_some(r);
        if known.version != 0 && meta.version == known.version {
            return Ok(match wanted(rights) {
                Some(r) => OfflineAnswer::Updated {
                    data: None,
                    rights: Some(r),
                },
                None => OfflineAnswer::Unchanged,
            });
        }
        let first = known.version == 0;
        let copy = match self.offline_copy(domain, id, actor, first).await {
            Ok(c) => c,
            Err(ModelError::NotFound(_)) => return self.missing(domain, id, known),
            Err(e) => return Err(e),
        };
        Ok(if first {
            OfflineAnswer::Initial(copy)
        } else {
            OfflineAnswer::Updated {
                rights: wanted(copy.rights),
                data: Some(copy.data),
            }
        })
    }

    /// The answer for a model the actor cannot read: it lost read only if it had read and the
    /// model is still there; otherwise nothing tells a missing model from a forbidden one.
    fn missing(
        &self,
        domain: &DomainKey,
        id: &str,
        known: &OfflineKnown,
    ) -> ModelResult<OfflineAnswer> {
        if !known.had_read {
            return Ok(OfflineAnswer::Gone);
        }
        let exists = self
            .inner
            .store
            .model(domain, id)
            .map_err(store_err)?
            .is_some();
        Ok(if exists {
            OfflineAnswer::Revoked
        } else {
            OfflineAnswer::Gone
        })
    }

    /// The model's current data and `actor`'s rights, resolved in the model's order of
    /// events; with `fresh_prefix`, a new value-id prefix, durable before it is answered.
    async fn offline_copy(
        &self,
        domain: &DomainKey,
        id: &str,
        actor: &Actor,
        fresh_prefix: bool,
    ) -> ModelResult<OfflineCopy> {
        self.request(domain, id, |reply| Command::OfflineCopy {
            actor: actor.clone(),
            fresh_prefix,
            reply,
        })
        .await
    }
}
