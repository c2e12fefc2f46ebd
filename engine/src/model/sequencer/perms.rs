//! The rights of each session on the model: resolved when it opens, checked on every
//! submission, and resolved again whenever the model's (or its collection's) permissions
//! change — a session whose rights changed is told, one that lost read is closed.

use std::sync::Arc;

use tokio::sync::oneshot;

use super::{base36, Awaiting, Sequencer};
use crate::model::{ForceCloseReason, ModelError, ModelEvent, ModelResult, OfflineCopy};
use crate::perm::{Actor, ModelRights, Permissions};
use crate::store::{StoreError, UserId};

impl Sequencer {
    /// The rights of the user recorded as `user` on this model.
    pub(super) fn rights_of(&self, user: &str) -> Result<ModelRights, StoreError> {
        let actor = Actor::User(UserId::from_key(user));
        Permissions::new(self.store.clone()).model_rights(
            &self.domain,
            &self.meta.id,
            &self.meta.collection,
            &actor,
        )
    }

    /// `actor`'s rights, resolved in the model's own order of events, if they include read;
    /// otherwise the model is not found, as for a model that does not exist.
    pub(super) fn read_rights(&self, actor: &Actor) -> ModelResult<ModelRights> {
        let rights = Permissions::new(self.store.clone())
            .model_rights(&self.domain, &self.meta.id, &self.meta.collection, actor)
            .map_err(ModelError::Store)?;
        if !rights.read {
            return Err(ModelError::NotFound(self.meta.id.clone()));
        }
        Ok(rights)
    }

    /// Answers with a copy for `actor`'s offline storage once everything before is durable
    /// (with a new value-id prefix, made durable with it, for a first download).
    pub(super) fn offline_copy(
        &mut self,
        actor: &Actor,
        fresh_prefix: bool,
        reply: oneshot::Sender<ModelResult<OfflineCopy>>,
    ) {
        let rights = match self.read_rights(actor) {
            Ok(r) => r,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        let value_prefix = fresh_prefix.then(|| {
            self.meta.value_prefix += 1;
            self.batch_meta_dirty = true;
            base36(self.meta.value_prefix)
        });
        let copy = Box::new(OfflineCopy {
            data: self.model_data(),
            rights,
            value_prefix,
        });
        self.awaiting
            .push_back((self.batch_id, Awaiting::Offline { reply, copy }));
    }

    /// Resolves every session's rights again, after a permission change.
    pub(super) fn reauthorize(&mut self) {
        let sessions: Vec<(String, Arc<str>, ModelRights)> = self
            .sessions
            .iter()
            .map(|(id, s)| (id.clone(), s.user.clone(), s.rights))
            .collect();
        for (session, user, before) in sessions {
            let rights = match self.rights_of(&user) {
                Ok(r) => r,
                Err(e) => {
                    self.force_close(
                        &session,
                        ForceCloseReason::PermissionError,
                        format!("permissions could not be read: {e}"),
                    );
                    continue;
                }
            };
            if rights == before {
                continue;
            }
            if !rights.read {
                self.force_close(
                    &session,
                    ForceCloseReason::PermissionsChanged,
                    "permissions changed: read access was revoked".into(),
                );
                continue;
            }
            if let Some(slot) = self.sessions.get_mut(&session) {
                slot.rights = rights;
                let _ = slot.sink.send(ModelEvent::PermissionsChanged {
                    model: self.model_id.clone(),
                    rights,
                });
            }
        }
    }
}
