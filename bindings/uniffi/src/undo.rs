//! Selective undo and redo of a [`Model`]'s operations (the facade's `api/history.rs`).

use tandem::api;

use crate::{run, Model, Result, UserId};

/// Which operations an undo or redo takes.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum UndoScope {
    /// The operation at this version (for a redo: the undo at this version).
    Version {
        /// The version.
        version: u64,
    },
    /// The user's newest operation not undone yet (for a redo: the user's newest undo not
    /// redone yet), across sessions, reconnects and restarts.
    LastOf {
        /// Whose.
        user: UserId,
    },
    /// The session's newest operation not undone yet.
    LastOfSession {
        /// The session id.
        session: String,
    },
    /// Every operation of the user after `version` not undone yet, undone together.
    Since {
        /// Whose.
        user: UserId,
        /// Operations after this version.
        version: u64,
    },
}

impl From<UndoScope> for api::UndoScope {
    fn from(s: UndoScope) -> Self {
        match s {
            UndoScope::Version { version } => api::UndoScope::Version(version),
            UndoScope::LastOf { user } => api::UndoScope::LastOf(user.into()),
            UndoScope::LastOfSession { session } => {
                api::UndoScope::LastOfSession(session.as_str().into())
            }
            UndoScope::Since { user, version } => api::UndoScope::Since {
                user: user.into(),
                version,
            },
        }
    }
}

/// A part of an undone operation that the undo left as it was.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SkippedPart {
    /// The undone operation's version.
    pub version: u64,
    /// The part's index in it.
    pub part: u64,
    /// The later operation that superseded it; none when its target is gone.
    pub superseded_by: Option<u64>,
}

/// What an undo or redo did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum UndoOutcome {
    /// Every part was undone, as one new operation.
    Undone {
        /// The new operation's version.
        version: u64,
        /// The versions it undoes.
        undid: Vec<u64>,
    },
    /// Some parts were undone; the others were superseded or their target is gone.
    Partial {
        /// The new operation's version.
        version: u64,
        /// The versions it undoes.
        undid: Vec<u64>,
        /// The parts left as they were.
        skipped: Vec<SkippedPart>,
    },
    /// Later operations of others would be overwritten: nothing was changed.
    Conflict {
        /// Their versions.
        versions: Vec<u64>,
    },
    /// Nothing with an effect left to undo.
    NothingToUndo,
    /// The history of the operations is no longer kept.
    NotUndoable {
        /// Why.
        reason: String,
    },
}

impl From<api::UndoOutcome> for UndoOutcome {
    fn from(o: api::UndoOutcome) -> Self {
        match o {
            api::UndoOutcome::Undone { version, undid } => UndoOutcome::Undone { version, undid },
            api::UndoOutcome::Partial {
                version,
                undid,
                skipped,
            } => UndoOutcome::Partial {
                version,
                undid,
                skipped: skipped
                    .into_iter()
                    .map(|s| SkippedPart {
                        version: s.version,
                        part: s.part as u64,
                        superseded_by: s.superseded_by,
                    })
                    .collect(),
            },
            api::UndoOutcome::Conflict { versions } => UndoOutcome::Conflict { versions },
            api::UndoOutcome::NothingToUndo => UndoOutcome::NothingToUndo,
            api::UndoOutcome::NotUndoable { reason } => UndoOutcome::NotUndoable { reason },
        }
    }
}

#[uniffi::export]
impl Model {
    /// Undoes what `scope` names as one new operation by `by` (the host when null).
    pub async fn undo(&self, scope: UndoScope, by: Option<UserId>) -> Result<UndoOutcome> {
        self.undo_or_redo(scope, by, false).await
    }

    /// Redoes: undoes the undo `scope` names.
    pub async fn redo(&self, scope: UndoScope, by: Option<UserId>) -> Result<UndoOutcome> {
        self.undo_or_redo(scope, by, true).await
    }
}

impl Model {
    async fn undo_or_redo(
        &self,
        scope: UndoScope,
        by: Option<UserId>,
        redo: bool,
    ) -> Result<UndoOutcome> {
        let m = self.inner.clone();
        let e = m.domain().engine().clone();
        let by = by.map_or_else(api::UserId::host, api::UserId::from);
        let scope = api::UndoScope::from(scope);
        let out = run(&e, async move {
            if redo {
                m.redo_as(scope, &by).await
            } else {
                m.undo_as(scope, &by).await
            }
        })
        .await?;
        Ok(out.into())
    }
}
