//! Selective undo and redo: which logged operations a scope names, their undo carried through
//! the log off the sequencer's task (a blocking read), then finished and committed by the
//! sequencer (see `ot::UndoBatch` for the policy).

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::{store_err, ModelService};
use crate::model::sequencer::{Command, UndoCommitted, UndoWork};
use crate::model::{ModelError, ModelResult};
use crate::ot::{SkipReason, UndoBatch};
use crate::store::{DomainKey, ModelMeta, OpMark, OpRecord, Store};

/// How many records a backward search for a user's last operation reads at a time.
const PAGE: u64 = 1024;

/// Which logged operations an undo (or redo) takes.
#[derive(Clone, Debug, PartialEq)]
pub enum UndoScope {
    /// The operation at this version.
    Version(u64),
    /// The newest operation of this user (by its store key) not undone yet; for a redo, its
    /// newest undo not redone yet.
    LastOfUser(String),
    /// Like `LastOfUser`, for one session.
    LastOfSession(String),
    /// Every operation of this user (by its store key) after this version not undone yet.
    UserSince {
        /// The user's store key.
        user: String,
        /// Operations after this version.
        since: u64,
    },
}

/// A part of an undone operation that the undo left as it was.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SkippedPart {
    /// The undone operation's version.
    pub version: u64,
    /// The part's index in it.
    pub part: usize,
    /// The later operation that already replaced or removed what the part would restore;
    /// none when the part's target is gone from the model.
    pub superseded_by: Option<u64>,
}

/// What an undo or redo did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum UndoOutcome {
    /// Every part was undone, as one new operation.
    Undone {
        /// The version of the new operation.
        version: u64,
        /// The versions it undoes.
        undid: Vec<u64>,
    },
    /// Some parts were undone; the others were superseded or their target is gone.
    Partial {
        /// The version of the new operation.
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
    /// The scope names no operation with an effect left to undo.
    NothingToUndo,
    /// The operation's history is no longer kept.
    NotUndoable {
        /// Why.
        reason: String,
    },
}

enum Prepared {
    Done(UndoOutcome),
    Work { batch: UndoBatch, targets: Vec<u64> },
}

impl ModelService {
    /// Undoes (or, with `redo`, redoes) what `scope` names as one new operation recorded for
    /// `user` (a store key) and marked with the versions it undoes. Sessions with the model
    /// open receive it like any remote operation.
    pub async fn undo(
        &self,
        domain: &DomainKey,
        id: &str,
        scope: UndoScope,
        redo: bool,
        user: &str,
    ) -> ModelResult<UndoOutcome> {
        let meta = self.meta(domain, id)?;
        let from = meta.version;
        let store = self.inner.store.clone();
        let prepared = tokio::task::spawn_blocking(move || prepare(&*store, &meta, &scope, redo))
            .await
            .map_err(|e| ModelError::Unavailable(format!("undo failed: {e}")))??;
        let (batch, targets) = match prepared {
            Prepared::Done(outcome) => return Ok(outcome),
            Prepared::Work { batch, targets } => (batch, targets),
        };
        let work = UndoWork {
            batch,
            from,
            user: user.to_string(),
            mark: OpMark::Undoes(targets.clone()),
        };
        let committed: UndoCommitted = self
            .request(domain, id, |reply| Command::Undo {
                work: work.clone(),
                reply,
            })
            .await?;
        outcome(committed, targets).await
    }
}

async fn outcome(committed: UndoCommitted, undid: Vec<u64>) -> ModelResult<UndoOutcome> {
    let plan = committed.plan;
    if !plan.conflicts.is_empty() {
        return Ok(UndoOutcome::Conflict {
            versions: plan.conflicts,
        });
    }
    let Some(durable) = committed.durable else {
        return Ok(UndoOutcome::NothingToUndo);
    };
    let version = durable.await.map_err(|_| {
        ModelError::Unavailable("the model closed before the undo was durable".into())
    })??;
    let skipped: Vec<SkippedPart> = plan
        .skipped
        .into_iter()
        .map(|s| SkippedPart {
            version: s.version,
            part: s.part,
            superseded_by: match s.reason {
                SkipReason::Superseded { by } => Some(by),
                SkipReason::TargetGone => None,
            },
        })
        .collect();
    Ok(if skipped.is_empty() {
        UndoOutcome::Undone { version, undid }
    } else {
        UndoOutcome::Partial {
            version,
            undid,
            skipped,
        }
    })
}

/// Reads the log, picks the targets and carries their undo to the model's durable version.
fn prepare(
    store: &dyn Store,
    meta: &ModelMeta,
    scope: &UndoScope,
    redo: bool,
) -> ModelResult<Prepared> {
    let head = meta.version;
    let records = match scope {
        UndoScope::Version(v) => {
            if *v < 2 || *v > head {
                return Err(ModelError::Invalid(format!(
                    "version {v} is outside the model's operations 2..={head}"
                )));
            }
            read(store, meta.number, *v, head)?
        }
        UndoScope::UserSince { since, .. } => {
            if *since >= head {
                return Ok(Prepared::Done(UndoOutcome::NothingToUndo));
            }
            read(store, meta.number, since.saturating_add(1).max(2), head)?
        }
        UndoScope::LastOfUser(_) | UndoScope::LastOfSession(_) => {
            match search_back(store, meta.number, head, scope, redo)? {
                Some(records) => records,
                None => return Ok(Prepared::Done(UndoOutcome::NothingToUndo)),
            }
        }
    };
    let Some(records) = records else {
        return Ok(Prepared::Done(UndoOutcome::NotUndoable {
            reason: "the history of these operations is no longer kept".into(),
        }));
    };
    let undone = undone_in(&records);
    let undoers = undoers_in(&records);
    let mut targets: Vec<u64> = records
        .iter()
        .filter(|r| is_target(r, scope, redo, &undone))
        .map(|r| effective(r.version, &undoers, &undone))
        .collect();
    targets.sort_unstable();
    targets.dedup();
    if let (UndoScope::Version(v), true) = (scope, redo) {
        if !matches!(
            records.first().and_then(|r| r.mark.as_ref()),
            Some(OpMark::Undoes(_))
        ) {
            return Err(ModelError::Invalid(format!(
                "version {v} is not an undo: there is nothing to redo"
            )));
        }
    }
    if targets.is_empty() {
        return Ok(Prepared::Done(UndoOutcome::NothingToUndo));
    }
    let mut batch = UndoBatch::new();
    for r in records.iter().skip_while(|r| r.version < targets[0]) {
        batch.advance(r.version, &r.user, &r.op.operation());
        if targets.binary_search(&r.version).is_ok() {
            batch
                .start(r.version, &r.user, &r.op)
                .map_err(|e| ModelError::Invalid(format!("version {}: {e}", r.version)))?;
        }
    }
    Ok(Prepared::Work { batch, targets })
}

/// Records `first..=last`; `None` when some of them are no longer kept.
fn read(
    store: &dyn Store,
    number: u64,
    first: u64,
    last: u64,
) -> ModelResult<Option<Vec<OpRecord>>> {
    let records = store.ops(number, first, last).map_err(store_err)?;
    let contiguous = records.len() as u64 == last + 1 - first
        && records
            .iter()
            .enumerate()
            .all(|(i, r)| r.version == first + i as u64);
    Ok(contiguous.then_some(records))
}

/// Reads back from the head a page at a time until the newest operation the scope names;
/// returns the records from it to the head.
fn search_back(
    store: &dyn Store,
    number: u64,
    head: u64,
    scope: &UndoScope,
    redo: bool,
) -> ModelResult<Option<Option<Vec<OpRecord>>>> {
    let mut records: Vec<OpRecord> = Vec::new();
    let mut last = head;
    while last >= 2 {
        let first = last.saturating_sub(PAGE - 1).max(2);
        let Some(mut page) = read(store, number, first, last)? else {
            return Ok(Some(None));
        };
        page.append(&mut records);
        records = page;
        let undone = undone_in(&records);
        if let Some(i) = records
            .iter()
            .rposition(|r| is_target(r, scope, redo, &undone))
        {
            records.drain(..i);
            return Ok(Some(Some(records)));
        }
        last = first - 1;
    }
    Ok(None)
}

/// Versions undone by a live undo among `records` (an undo that a later one undid is not
/// live: its targets count as done again).
fn undone_in(records: &[OpRecord]) -> HashSet<u64> {
    let mut undone = HashSet::new();
    for r in records.iter().rev() {
        if undone.contains(&r.version) {
            continue;
        }
        if let Some(OpMark::Undoes(versions)) = &r.mark {
            undone.extend(versions.iter().copied());
        }
    }
    undone
}

/// For each version, the undos among `records` that name it.
fn undoers_in(records: &[OpRecord]) -> HashMap<u64, Vec<u64>> {
    let mut out: HashMap<u64, Vec<u64>> = HashMap::new();
    for r in records {
        if let Some(OpMark::Undoes(versions)) = &r.mark {
            for v in versions {
                out.entry(*v).or_default().push(r.version);
            }
        }
    }
    out
}

/// The operation that now carries the effect of live operation `v`: `v` itself, or, when an
/// undo of it was undone (redone), that redo (followed further along the chain). Undoing `v`
/// again means undoing that redo: its characters are the ones in the model now.
fn effective(v: u64, undoers: &HashMap<u64, Vec<u64>>, undone: &HashSet<u64>) -> u64 {
    let mut current = v;
    loop {
        let dead_undo = undoers
            .get(&current)
            .and_then(|us| us.iter().find(|u| undone.contains(u)));
        let redo = dead_undo.and_then(|u| {
            undoers
                .get(u)
                .and_then(|rs| rs.iter().find(|r| !undone.contains(r)))
        });
        match redo {
            Some(r) if *r > current => current = *r,
            _ => return current,
        }
    }
}

/// Whether the scope takes this record: not undone already, with an effect, and (for the
/// user and session scopes) an ordinary operation for an undo or an undo for a redo.
fn is_target(r: &OpRecord, scope: &UndoScope, redo: bool, undone: &HashSet<u64>) -> bool {
    if undone.contains(&r.version) || r.op.ops().iter().all(|a| a.op.no_op) {
        return false;
    }
    let is_undo = matches!(r.mark, Some(OpMark::Undoes(_)));
    let kind_fits = is_undo == redo;
    match scope {
        UndoScope::Version(v) => r.version == *v,
        UndoScope::LastOfUser(user) => kind_fits && *r.user == **user,
        UndoScope::LastOfSession(session) => kind_fits && *r.session == **session,
        UndoScope::UserSince { user, .. } => kind_fits && *r.user == **user,
    }
}
