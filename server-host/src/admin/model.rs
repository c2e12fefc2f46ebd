//! `tandem model undo|redo`: selective undo and redo of a model's operations (the server must
//! be stopped, as for every command on the data directory).

use std::process::ExitCode;

use clap::{Args, Subcommand};
use tandem::api::{UndoScope, UserId};

use super::{json, msg, normal, run, Scope};

#[derive(Subcommand, Debug)]
pub(crate) enum ModelCommand {
    /// Undo operations as one new operation; prints the outcome as JSON.
    Undo(UndoArgs),
    /// Redo: undo an undo; prints the outcome as JSON.
    Redo(UndoArgs),
}

#[derive(Args, Debug)]
pub(crate) struct UndoArgs {
    #[command(flatten)]
    scope: Scope,
    /// Model id.
    model: String,
    /// The operation at this version.
    #[arg(long, conflicts_with_all = ["last_of", "last_of_session", "since"])]
    version: Option<u64>,
    /// The newest operation of this (normal) user not undone yet (for a redo, the user's
    /// newest undo not redone yet).
    #[arg(long, conflicts_with_all = ["last_of_session", "since"])]
    last_of: Option<String>,
    /// The newest operation of this session not undone yet.
    #[arg(long, conflicts_with = "since")]
    last_of_session: Option<String>,
    /// Every operation of `--user` after this version.
    #[arg(long, requires = "user")]
    since: Option<u64>,
    /// The (normal) user whose operations `--since` takes.
    #[arg(long, requires = "since")]
    user: Option<String>,
    /// The (normal) user the undo is recorded for (default: the host).
    #[arg(long)]
    by: Option<String>,
}

impl UndoArgs {
    fn undo_scope(&self) -> Result<UndoScope, String> {
        if let Some(v) = self.version {
            return Ok(UndoScope::Version(v));
        }
        if let Some(u) = &self.last_of {
            return Ok(UndoScope::LastOf(normal(u)));
        }
        if let Some(s) = &self.last_of_session {
            return Ok(UndoScope::LastOfSession(s.as_str().into()));
        }
        match (self.since, &self.user) {
            (Some(version), Some(u)) => Ok(UndoScope::Since {
                user: normal(u),
                version,
            }),
            _ => Err(
                "name what to undo: --version, --last-of, --last-of-session or --since with --user"
                    .into(),
            ),
        }
    }
}

pub(crate) async fn model(cmd: ModelCommand) -> ExitCode {
    let (a, redo) = match cmd {
        ModelCommand::Undo(a) => (a, false),
        ModelCommand::Redo(a) => (a, true),
    };
    let scope = match a.undo_scope() {
        Ok(s) => s,
        Err(e) => return super::fail(e),
    };
    let by = a.by.as_deref().map_or_else(UserId::host, normal);
    run(&a.scope, |d| async move {
        let m = d.model(&a.model).map_err(msg)?;
        let out = if redo {
            m.redo_as(scope, &by).await
        } else {
            m.undo_as(scope, &by).await
        };
        json(&out.map_err(msg)?)
    })
    .await
}
