//! Acting on a model's history: selective undo and redo (see `docs/history.md`).

use serde::{Deserialize, Serialize};

use super::{Model, Result};
use crate::model::UndoScope as Scope;
use crate::session::{SessionId, UserId};

pub use crate::model::{SkippedPart, UndoOutcome};

/// Which operations an undo or redo takes. Its JSON form (for the C ABI and the bindings) is
/// `{"version": 5}`, `{"last_of": {"kind": "normal", "name": "ann"}}`,
/// `{"last_of_session": "s1"}` or `{"since": {"user": {...}, "version": 3}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum UndoScope {
    /// The operation at this version (for a redo: the undo at this version).
    Version(u64),
    /// The user's newest operation not undone yet (for a redo: the user's newest undo not
    /// redone yet). Works across the user's sessions, reconnects and restarts.
    LastOf(UserId),
    /// Like [`UndoScope::LastOf`], for one session.
    LastOfSession(SessionId),
    /// Every operation of the user after `version` not undone yet, undone together.
    Since {
        /// Whose operations.
        user: UserId,
        /// Operations after this version.
        version: u64,
    },
}

impl UndoScope {
    fn into_service(self) -> Scope {
        match self {
            UndoScope::Version(v) => Scope::Version(v),
            UndoScope::LastOf(u) => Scope::LastOfUser(u.to_key()),
            UndoScope::LastOfSession(s) => Scope::LastOfSession(s.as_str().to_string()),
            UndoScope::Since { user, version } => Scope::UserSince {
                user: user.to_key(),
                since: version,
            },
        }
    }
}

impl Model {
    /// Undoes what `scope` names as one new operation, recorded for the host user and marked
    /// with the versions it undoes. Only those operations' own changes are taken back; see
    /// [`UndoOutcome`] for conflicts and superseded parts.
    pub async fn undo(&self, scope: UndoScope) -> Result<UndoOutcome> {
        self.undo_as(scope, &UserId::host()).await
    }

    /// Like [`Model::undo`], recording `by` as the author.
    pub async fn undo_as(&self, scope: UndoScope, by: &UserId) -> Result<UndoOutcome> {
        self.undo_or_redo(scope, false, by).await
    }

    /// Redoes: undoes the undo that `scope` names ([`UndoScope::LastOf`] takes the user's
    /// newest undo not redone yet).
    pub async fn redo(&self, scope: UndoScope) -> Result<UndoOutcome> {
        self.redo_as(scope, &UserId::host()).await
    }

    /// Like [`Model::redo`], recording `by` as the author.
    pub async fn redo_as(&self, scope: UndoScope, by: &UserId) -> Result<UndoOutcome> {
        self.undo_or_redo(scope, true, by).await
    }

    async fn undo_or_redo(&self, scope: UndoScope, redo: bool, by: &UserId) -> Result<UndoOutcome> {
        self.domain.engine.check()?;
        let svc = &self.domain.engine.inner.models;
        Ok(svc
            .undo(
                &self.domain.key,
                &self.id,
                scope.into_service(),
                redo,
                &by.to_key(),
            )
            .await?)
    }
}
