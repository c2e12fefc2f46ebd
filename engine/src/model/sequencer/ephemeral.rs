//! Ephemeral models (created from a client's auto-create data with `ephemeral` set): the
//! sequencer deletes the model once its last session has closed and everything before is
//! durable. The last close is answered only when the model is gone, so a client that awaits
//! its close finds no model afterwards. Commands that arrive during the deletion find the model
//! gone (an open answers `model_not_found`, as for any deleted model).

use tracing::{debug, warn};

use super::{Command, Flow, Sequencer};
use crate::model::ModelError;
use crate::store::{StoreResult, WriteOp};

/// Where an ephemeral model is in its deletion.
#[derive(Default)]
pub(super) struct Deletion {
    /// The last session left: delete when nothing else waits.
    due: bool,
    /// The delete is written; the task stops when it is durable.
    writing: bool,
    /// Close replies held until the deletion is durable.
    held: Vec<tokio::sync::oneshot::Sender<crate::model::ModelResult<()>>>,
}

impl Deletion {
    /// The last session left the model: an ephemeral one is deleted when nothing waits.
    pub(super) fn note_last_left(&mut self, ephemeral: bool) {
        self.due |= ephemeral;
    }

    /// Whether the delete is being written.
    pub(super) fn writing(&self) -> bool {
        self.writing
    }
}

impl Sequencer {
    /// A session's close is done: when it was the last one of an ephemeral model, its reply
    /// waits for the deletion (`None` returned); otherwise the reply is handed back to send.
    pub(super) fn last_close(
        &mut self,
        reply: Option<tokio::sync::oneshot::Sender<crate::model::ModelResult<()>>>,
    ) -> Option<tokio::sync::oneshot::Sender<crate::model::ModelResult<()>>> {
        if !self.meta.ephemeral || !self.sessions.is_empty() {
            return reply;
        }
        self.deletion.held.extend(reply);
        None
    }

    /// Starts deleting an ephemeral model nobody has open once nothing waits on it; a session
    /// that opened it meanwhile cancels the deletion (and releases held close replies).
    pub(super) fn delete_if_due(&mut self) {
        if !self.deletion.due || self.deletion.writing {
            return;
        }
        if !self.sessions.is_empty() {
            self.deletion.due = false;
            for r in self.deletion.held.drain(..) {
                let _ = r.send(Ok(()));
            }
            return;
        }
        if !self.awaiting.is_empty() || !self.nothing_to_write() {
            return;
        }
        self.deletion.writing = true;
        debug!(model = %self.meta.id, "last session left an ephemeral model: deleting it");
        let tx = self.tx.clone();
        self.store.write(
            vec![WriteOp::DeleteModel {
                domain: self.domain.clone(),
                id: self.meta.id.clone(),
            }],
            Box::new(move |result| {
                let _ = tx.send(Command::Deleted { result });
            }),
        );
    }

    /// Handles a command while the model is being deleted.
    pub(super) fn handle_while_deleting(&mut self, cmd: Command) -> Flow {
        let gone = || ModelError::NotFound(self.meta.id.clone());
        match cmd {
            Command::Deleted { result } => return self.deleted(result),
            Command::Open { reply, .. } => {
                let _ = reply.send(Err(gone()));
            }
            Command::Host { reply, .. } => {
                let _ = reply.send(Err(gone()));
            }
            Command::Read { reply } => {
                let _ = reply.send(Err(gone()));
            }
            Command::Undo { reply, .. } => {
                let _ = reply.send(Err(gone()));
            }
            Command::OfflineCopy { reply, .. } => {
                let _ = reply.send(Err(gone()));
            }
            Command::Close { session, reply } => {
                if let Some(r) = reply {
                    let _ = r.send(Err(ModelError::NotOpen(session)));
                }
            }
            Command::Delete { reply } => {
                self.exit_replies.push(Box::new(move || {
                    let _ = reply.send(Ok(()));
                }));
            }
            Command::Shutdown { reply } => {
                self.exit_replies.push(Box::new(move || {
                    let _ = reply.send(());
                }));
            }
            Command::Durable { batch, result } => {
                if result.is_ok() {
                    self.durable_id = self.durable_id.max(batch);
                }
            }
            Command::Submit { .. }
            | Command::Reference { .. }
            | Command::Reauthorize
            | Command::Policies(_) => {}
        }
        Flow::Continue
    }

    fn deleted(&mut self, result: StoreResult<()>) -> Flow {
        match result {
            Ok(()) => debug!(model = %self.meta.id, "ephemeral model deleted"),
            // Kept in the store, still marked ephemeral: the next start deletes it.
            Err(e) => {
                warn!(model = %self.meta.id, error = %e, "deleting an ephemeral model failed")
            }
        }
        for r in self.deletion.held.drain(..) {
            self.exit_replies.push(Box::new(move || {
                let _ = r.send(Ok(()));
            }));
        }
        Flow::Stop
    }
}
