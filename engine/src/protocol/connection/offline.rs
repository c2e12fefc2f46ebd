//! Offline subscriptions of a client with offline storage: `modelOfflineSubscriptionChange`
//! sets which models it keeps (with the version and rights it has), and the connection pushes
//! `modelOfflineUpdated` for those not open on it: a first copy with a fresh value-id prefix,
//! newer data or rights, `deleted`, or `permissionRevoked`. New subscriptions are checked at
//! once, all of them every `offline_sync_interval`. One check runs at a time per connection,
//! off its loop, a model after the other.

use super::*;
use crate::model::{OfflineAnswer, OfflineKnown};
use pm::offline_model_updated_message::{
    Action, ModelUpdateData, OfflineModelInitialData, OfflineModelUpdateData,
};

/// The connection's offline subscriptions.
#[derive(Default)]
pub(super) struct Offline {
    /// Subscribed models and what the client holds of each.
    models: HashMap<String, OfflineKnown>,
    /// A check is running.
    running: bool,
    /// Models to check once the running check ends.
    queued: Vec<String>,
    /// When all of them are checked next.
    next_sweep: Option<Instant>,
}

/// One model's check, back on the connection.
pub(super) struct Checked {
    model: String,
    /// What the client held when the check started.
    known: OfflineKnown,
    answer: OfflineAnswer,
}

/// Tells the connection a check ended, however it ends.
struct Ending(mpsc::UnboundedSender<Internal>);

impl Drop for Ending {
    fn drop(&mut self) {
        let _ = self.0.send(Internal::OfflineDone);
    }
}

impl Conn {
    /// Changes the offline subscriptions and checks the new ones.
    pub(super) fn offline_subscription(
        &mut self,
        id: i32,
        r: pm::ModelOfflineSubscriptionChangeRequestMessage,
    ) {
        let mut models = if r.all {
            HashMap::new()
        } else {
            self.offline.models.clone()
        };
        for gone in &r.unsubscribe {
            models.remove(gone);
        }
        let limit = self.config.limits.max_offline_models;
        let mut fresh = Vec::with_capacity(r.subscribe.len());
        let mut refused = 0;
        // No model has such an id: the client hears what it hears of any missing model.
        let mut invalid = Vec::new();
        for m in &r.subscribe {
            if let Err(e) = crate::ident::check(crate::ident::IdKind::Model, &m.model_id) {
                debug!(error = %e, "offline subscription of an invalid model id");
                invalid.push(m.model_id.clone());
                continue;
            }
            if limit != 0 && models.len() >= limit && !models.contains_key(&m.model_id) {
                refused += 1;
                continue;
            }
            let before = self.offline.models.get(&m.model_id);
            let known = OfflineKnown {
                version: m.current_version.max(0) as u64,
                rights: m.current_permissions.as_ref().map(rights_from_wire),
                had_read: before.is_some_and(|k| k.had_read)
                    || self.by_model.contains_key(&m.model_id),
            };
            models.insert(m.model_id.clone(), known);
            fresh.push(m.model_id.clone());
        }
        self.offline.models = models;
        if refused == 0 {
            self.reply(id, Body::Ok(pc::OkResponse {}));
        } else {
            warn!(
                limit,
                refused, "offline subscriptions past the limit refused"
            );
            let message = format!(
                "at most {limit} models may be subscribed for offline use: {refused} were not"
            );
            self.reply(id, error_body("too_many_offline_models", message));
        }
        for model in invalid {
            self.send_offline_update(model, Action::Deleted(true));
        }
        if self.offline.next_sweep.is_none() && !self.config.offline_sync_interval.is_zero() {
            self.offline.next_sweep = Some(Instant::now() + self.config.offline_sync_interval);
        }
        self.check_offline(fresh);
    }

    /// Checks all subscribed models when their time has come.
    pub(super) fn offline_tick(&mut self, now: Instant) {
        let Some(due) = self.offline.next_sweep else {
            return;
        };
        if now < due || self.offline.running || self.offline.models.is_empty() {
            return;
        }
        self.offline.next_sweep = Some(now + self.config.offline_sync_interval);
        let all = self.offline.models.keys().cloned().collect();
        self.check_offline(all);
    }

    /// Starts a check of `ids` (those still subscribed and not open here), or queues them
    /// behind the running one.
    fn check_offline(&mut self, ids: Vec<String>) {
        if self.offline.running {
            for id in ids {
                if !self.offline.queued.contains(&id) {
                    self.offline.queued.push(id);
                }
            }
            return;
        }
        let work: Vec<(String, OfflineKnown)> = ids
            .into_iter()
            .filter(|id| !self.by_model.contains_key(id))
            .filter_map(|id| self.offline.models.get(&id).map(|k| (id, *k)))
            .collect();
        if work.is_empty() {
            return;
        }
        self.offline.running = true;
        let domain = self.domain();
        let actor = self.actor();
        let models = self.services.models.clone();
        let tx = self.internal_tx.clone();
        tokio::spawn(async move {
            let _ending = Ending(tx.clone());
            for (model, known) in work {
                if tx.is_closed() {
                    return;
                }
                match models.offline_check(&domain, &model, &actor, &known).await {
                    Ok(answer) => {
                        let checked = Checked {
                            model,
                            known,
                            answer,
                        };
                        let _ = tx.send(Internal::Offline(Box::new(checked)));
                    }
                    // Tried again at the next sweep.
                    Err(e) => debug!(model = %model, error = %e, "offline check failed"),
                }
            }
        });
    }

    /// A check ended: runs the queued one, if any.
    pub(super) fn offline_done(&mut self) {
        self.offline.running = false;
        let queued = std::mem::take(&mut self.offline.queued);
        self.check_offline(queued);
    }

    /// Tells the client what one check found, unless its subscription changed meanwhile or
    /// the model is open here now (the client follows it live then).
    pub(super) fn offline_checked(&mut self, c: Checked) {
        if self.by_model.contains_key(&c.model) {
            return;
        }
        let Some(known) = self.offline.models.get_mut(&c.model) else {
            return;
        };
        if *known != c.known {
            return;
        }
        let update = |d: &crate::model::ModelData| ModelUpdateData {
            version: d.version as i64,
            created_time: Some(timestamp(d.created_ms)),
            modified_time: Some(timestamp(d.modified_ms)),
            data: Some(convert::object_to_wire(&d.data)),
        };
        let action = match c.answer {
            OfflineAnswer::Unchanged => {
                known.had_read = true;
                return;
            }
            OfflineAnswer::Gone => {
                self.offline.models.remove(&c.model);
                Action::Deleted(true)
            }
            OfflineAnswer::Revoked => {
                self.offline.models.remove(&c.model);
                Action::PermissionRevoked(true)
            }
            OfflineAnswer::Initial(copy) => {
                *known = OfflineKnown {
                    version: copy.data.version,
                    rights: Some(copy.rights),
                    had_read: true,
                };
                Action::Initial(OfflineModelInitialData {
                    collection: copy.data.collection.clone(),
                    value_id_prefix: copy.value_prefix.unwrap_or_default(),
                    model: Some(update(&copy.data)),
                    permissions: Some(rights_to_wire(copy.rights)),
                })
            }
            OfflineAnswer::Updated { data, rights } => {
                known.had_read = true;
                if let Some(d) = &data {
                    known.version = d.version;
                }
                if rights.is_some() {
                    known.rights = rights;
                }
                Action::Updated(OfflineModelUpdateData {
                    model: data.as_ref().map(update),
                    permissions: rights.map(rights_to_wire),
                })
            }
        };
        self.send_offline_update(c.model, action);
    }

    fn send_offline_update(&self, model: String, action: Action) {
        self.send(codec::normal(Body::ModelOfflineUpdated(
            pm::OfflineModelUpdatedMessage {
                model_id: model,
                action: Some(action),
            },
        )));
    }

    /// A model opened on this connection: its subscription, if any, knows the user could read it.
    pub(super) fn offline_opened(&mut self, model: &str) {
        if let Some(known) = self.offline.models.get_mut(model) {
            known.had_read = true;
        }
    }
}
