//! The last step of an undo or redo: the service carried it through the log up to a recent
//! version off this task; here it is carried through the few operations since, given fresh
//! value ids and committed as one host operation with its mark.

use std::sync::Arc;

use tokio::sync::oneshot;

use super::{ResyncFrom, Sequencer, HOST_KEY};
use crate::model::{ModelError, ModelResult};
use crate::ot::{refresh_ids, UndoBatch, UndoPlan};
use crate::store::OpMark;

/// An undo carried through the log up to version `from`.
#[derive(Clone)]
pub(crate) struct UndoWork {
    /// The undo of every target, carried to `from`.
    pub batch: UndoBatch,
    /// The version the batch has been carried to.
    pub from: u64,
    /// The user the operation is recorded for.
    pub user: String,
    /// What the operation is marked as.
    pub mark: OpMark,
}

/// What the sequencer did with an undo.
pub(crate) struct UndoCommitted {
    /// The plan (its `op` is the operation as committed, fresh ids included).
    pub plan: UndoPlan,
    /// The version it produced, once durable (none when nothing was committed).
    pub durable: Option<oneshot::Receiver<ModelResult<u64>>>,
}

impl Sequencer {
    /// Finishes an undo at the head and commits it (a conflict or nothing left commits
    /// nothing). Replies at once; the version follows once durable.
    pub(super) fn undo(
        &mut self,
        work: UndoWork,
        reply: oneshot::Sender<ModelResult<UndoCommitted>>,
    ) {
        let _ = reply.send(self.finish_undo(work));
    }

    fn finish_undo(&mut self, work: UndoWork) -> ModelResult<UndoCommitted> {
        let UndoWork {
            mut batch,
            from,
            user,
            mark,
        } = work;
        if from > self.cc.version() {
            return Err(ModelError::Invalid(format!(
                "the undo was prepared at version {from}, past the model's {}",
                self.cc.version()
            )));
        }
        let since = ResyncFrom {
            version: from,
            earlier_sessions: Vec::new(),
        };
        for r in self.operations_after(&since)? {
            batch.advance(r.version, &r.user, &r.op);
        }
        let doc = &self.doc;
        let mut plan = batch.finish(&|id| doc.contains(id), self.cc.version());
        let Some(mut op) = plan.op.take() else {
            return Ok(UndoCommitted {
                plan,
                durable: None,
            });
        };
        let mut ids = self.take_host_ids();
        refresh_ids(&mut op, &mut ids);
        self.host_ids = Some(ids);
        let mut op = op.without_true_splices();
        self.doc.noop_missing_targets(&mut op);
        let applied = self.doc.apply(op)?;
        let op = Arc::new(applied.operation());
        plan.op = Some((*op).clone());
        self.cc.commit_untracked(HOST_KEY, op.clone());
        let (tx, rx) = oneshot::channel();
        self.record(
            applied,
            Arc::from(user.as_str()),
            None,
            Some(tx),
            op,
            Some(mark),
        );
        if !self.frames.is_empty() {
            self.reconcile_frames();
        }
        Ok(UndoCommitted {
            plan,
            durable: Some(rx),
        })
    }
}
