//! Changes a host makes to a model, addressed by path: resolved against the document into one
//! operation (each change against the state the previous ones produce) and applied by the
//! sequencer like any other operation.

use std::sync::Arc;

use tokio::sync::oneshot;

use super::{base36, Change, Sequencer, HOST_KEY};
use crate::model::{ModelError, ModelResult};
use crate::ot::json::{root_from_json_value, value_from_json_value, IdGenerator};
use crate::ot::{Data, DiscreteOp, Document, OpKind, Operation, PathSegment, ValueId, ValueKind};

impl Sequencer {
    /// Applies a host's changes as one operation; replies with the new version.
    pub(super) fn host(
        &mut self,
        changes: Vec<Change>,
        user: String,
        reply: oneshot::Sender<ModelResult<u64>>,
    ) {
        let mut ids = self.take_host_ids();
        let result = resolve_all(&self.doc, changes, &mut ids);
        self.host_ids = Some(ids);
        let op = match result {
            Ok(Some(op)) => op,
            Ok(None) => {
                let _ = reply.send(Ok(self.cc.version()));
                return;
            }
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        let mut op = op.without_true_splices();
        self.doc.noop_missing_targets(&mut op);
        let applied = match self.doc.apply(op) {
            Ok(a) => a,
            Err(e) => {
                let _ = reply.send(Err(e.into()));
                return;
            }
        };
        let op = Arc::new(applied.operation());
        self.cc.commit_untracked(HOST_KEY, op.clone());
        self.record(
            applied,
            Arc::from(user.as_str()),
            None,
            Some(reply),
            op,
            None,
        );
        if !self.frames.is_empty() {
            self.reconcile_frames();
        }
    }

    /// The generator of ids for values the host (or an undo) brings in: a prefix of its own,
    /// taken the first time. Put it back in `host_ids` after use.
    pub(super) fn take_host_ids(&mut self) -> IdGenerator {
        if self.host_ids.is_none() {
            self.meta.value_prefix += 1;
            self.batch_meta_dirty = true;
            self.host_ids = Some(IdGenerator::new(base36(self.meta.value_prefix), 0));
        }
        self.host_ids
            .take()
            .unwrap_or_else(|| IdGenerator::new(base36(self.meta.value_prefix), 0))
    }
}

fn show_path(path: &[PathSegment]) -> String {
    let mut out = String::from("$");
    for seg in path {
        match seg {
            PathSegment::Key(k) => {
                out.push('.');
                out.push_str(&k.to_string());
            }
            PathSegment::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

fn resolve(doc: &Document, change: Change, ids: &mut IdGenerator) -> ModelResult<Operation> {
    let find = |path: &[PathSegment]| {
        doc.resolve(path)
            .ok_or_else(|| ModelError::Invalid(format!("no value at path {}", show_path(path))))
    };
    let expect = |id: &ValueId, kind: ValueKind, path: &[PathSegment]| {
        if doc.kind_of(id) == Some(kind) {
            Ok(())
        } else {
            Err(ModelError::Invalid(format!(
                "the value at {} is not a {kind}",
                show_path(path)
            )))
        }
    };
    let kind = match change {
        Change::Operation(op) => return Ok(op),
        Change::Set { path, value } => {
            if path.is_empty() {
                let root = root_from_json_value(&value, ids)?;
                let Data::Object(values) = root.data else {
                    return Err(ModelError::Invalid("model data must be an object".into()));
                };
                return Ok(Operation::Discrete(DiscreteOp::new(
                    doc.root_id().clone(),
                    OpKind::ObjectSet { values },
                )));
            }
            let (parent_path, last) = path.split_at(path.len() - 1);
            let parent = find(parent_path)?;
            let v = value_from_json_value(&value, ids)?;
            match (&last[0], doc.kind_of(&parent)) {
                (PathSegment::Key(k), Some(ValueKind::Object)) => {
                    let exists = doc.child(&parent, &last[0]).is_some();
                    let kind = if exists {
                        OpKind::ObjectSetProperty {
                            key: k.clone(),
                            value: v,
                        }
                    } else {
                        OpKind::ObjectAddProperty {
                            key: k.clone(),
                            value: v,
                        }
                    };
                    return Ok(Operation::Discrete(DiscreteOp::new(parent, kind)));
                }
                (PathSegment::Index(i), Some(ValueKind::Array)) => {
                    return Ok(Operation::Discrete(DiscreteOp::new(
                        parent,
                        OpKind::ArrayReplace {
                            index: *i as i64,
                            value: v,
                        },
                    )));
                }
                _ => {
                    return Err(ModelError::Invalid(format!(
                        "no container for path {}",
                        show_path(&path)
                    )))
                }
            }
        }
        Change::Insert { path, index, value } => {
            let id = find(&path)?;
            expect(&id, ValueKind::Array, &path)?;
            let v = value_from_json_value(&value, ids)?;
            (id, OpKind::ArrayInsert { index, value: v })
        }
        Change::Remove { path } => {
            if path.is_empty() {
                return Err(ModelError::Invalid("the root cannot be removed".into()));
            }
            find(&path)?;
            let (parent_path, last) = path.split_at(path.len() - 1);
            let parent = find(parent_path)?;
            match &last[0] {
                PathSegment::Key(k) => (parent, OpKind::ObjectRemoveProperty { key: k.clone() }),
                PathSegment::Index(i) => (parent, OpKind::ArrayRemove { index: *i as i64 }),
            }
        }
        Change::Move { path, from, to } => {
            let id = find(&path)?;
            expect(&id, ValueKind::Array, &path)?;
            (id, OpKind::ArrayMove { from, to })
        }
        Change::Splice {
            path,
            index,
            delete,
            insert,
        } => {
            let id = find(&path)?;
            expect(&id, ValueKind::String, &path)?;
            (
                id,
                OpKind::StringSplice {
                    index,
                    delete_count: delete,
                    insert,
                },
            )
        }
        Change::Add { path, delta } => {
            let id = find(&path)?;
            expect(&id, ValueKind::Number, &path)?;
            (id, OpKind::NumberAdd { delta })
        }
    };
    Ok(Operation::Discrete(DiscreteOp::new(kind.0, kind.1)))
}

/// Resolves host changes (each against the state the previous ones produce) into one operation.
fn resolve_all(
    doc: &Document,
    changes: Vec<Change>,
    ids: &mut IdGenerator,
) -> ModelResult<Option<Operation>> {
    let single = changes.len() == 1;
    let mut scratch: Option<Document> = None;
    let mut parts = Vec::new();
    for change in changes {
        let op = resolve(scratch.as_ref().unwrap_or(doc), change, ids)?;
        if !single {
            let mut next = scratch.take().unwrap_or_else(|| doc.clone());
            next.apply(op.clone())?;
            scratch = Some(next);
        }
        parts.extend(op.ops().iter().cloned());
    }
    Ok(match parts.len() {
        0 => None,
        1 => parts.pop().map(Operation::Discrete),
        _ => Some(Operation::Compound(parts)),
    })
}
