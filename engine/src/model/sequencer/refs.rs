//! Shared references in the sequencer: reference events carried into the server's frame and
//! broadcast, and the *refreshes* that make every session's view of a reference end where its
//! owner has it.
//!
//! # Why refreshes
//!
//! The published client (rc.12) transforms a reference it receives against its own in-flight
//! operations with `IndexTransformer.handleSplice`, whose test `index >= index` is always
//! true: a position before an in-flight insert or remove jumps past it (on "0123456789", with
//! its insert of "XY" at 7 in flight, a cursor received at 6 becomes 9). No value the server
//! could send avoids that, so the server sends the reference again, in its own frame, right
//! after the acknowledgement of every operation that may have been in flight when a session
//! received it. The last such refresh reaches the session with nothing in flight, and from
//! there on plain inserts and removes move the reference exactly as they move the owner's.
//!
//! A session's operation with context version `c` may have been in flight at a reference
//! message queued at model version `v` (after every operation up to `v` in the session's
//! stream) exactly when `c <= v`: a later context means the session had already taken in a
//! version sent after the message. Contexts only grow, so an entry with `v < c` is settled for
//! good and is dropped.
//!
//! The client's own *true* splices (delete and insert at once) move the references it holds
//! with the same faulty rule; the server never applies a true splice (it applies a remove and
//! an insert), so a submitted true splice also refreshes the others' references on its target.
//! Nothing here runs for a session that holds no such entry.

use super::{Awaiting, ForceCloseReason, ModelEvent, Sequencer, SlotState};
use crate::model::concurrency::ClientKey;
use crate::model::{ReferenceChange, SharedReference};
use crate::ot::{Operation, ReferenceValues, ValueId, ValueKind};

/// A reference a session may hold wrongly: a message for it was queued at model version `at`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Stale {
    owner: ClientKey,
    target: Option<ValueId>,
    key: String,
    at: u64,
}

/// The references one session may hold wrongly (see the module docs).
#[derive(Debug, Default)]
pub(super) struct StaleRefs(Vec<Stale>);

impl StaleRefs {
    /// Notes that a message for the reference was queued at version `at`.
    fn mark(&mut self, owner: ClientKey, target: &Option<ValueId>, key: &str, at: u64) {
        match self
            .0
            .iter_mut()
            .find(|s| s.owner == owner && &s.target == target && s.key == key)
        {
            Some(s) => s.at = s.at.max(at),
            None => self.0.push(Stale {
                owner,
                target: target.clone(),
                key: key.to_string(),
                at,
            }),
        }
    }

    /// The references an operation submitted at `context` may have been in flight for; the
    /// settled ones are forgotten.
    fn due(&mut self, context: u64) -> Vec<(ClientKey, Option<ValueId>, String)> {
        self.0.retain(|s| s.at >= context);
        self.0
            .iter()
            .map(|s| (s.owner, s.target.clone(), s.key.clone()))
            .collect()
    }

    /// Forgets every reference of `owner`.
    fn forget_owner(&mut self, owner: ClientKey) {
        self.0.retain(|s| s.owner != owner);
    }
}

/// An index or range reference as its owner holds it: in the owner's frame at context version
/// `ctx` (the server's state then, plus every operation the owner submitted so far). Its
/// value in the server's frame is derived from this, never moved by the applied operations
/// themselves: where the owner's edit and another's meet at one position, only the owner's
/// order of events tells on which side its cursor lies.
#[derive(Debug, Clone)]
pub(super) struct Frame {
    owner: ClientKey,
    target: Option<ValueId>,
    key: String,
    ctx: u64,
    values: ReferenceValues,
}

/// Moves one position as rc.12 does for an edit made locally (`IndexTransformer`): inserts at
/// or before it push it on, removes pull it back, true splices use the faulty `handleSplice`.
fn local_move(p: i64, at: i64, del: i64, ins: i64) -> i64 {
    match (del, ins) {
        (0, n) => {
            if p >= at {
                p + n
            } else {
                p
            }
        }
        (d, 0) => {
            if p > at {
                p - (p - at).min(d)
            } else {
                p
            }
        }
        (d, n) => p - (p - at).min(d) + n,
    }
}

/// Moves reference values on `target` past the owner's own operation, as the owner did.
fn owner_moves(
    values: ReferenceValues,
    op: &Operation,
    target: &Option<ValueId>,
) -> ReferenceValues {
    let mut values = values;
    for d in op.ops() {
        if d.no_op || Some(&d.id) != target.as_ref() {
            continue;
        }
        let crate::ot::OpKind::StringSplice {
            index,
            delete_count,
            insert,
        } = &d.kind
        else {
            continue;
        };
        let (at, del, ins) = (*index, *delete_count, insert.len_i64());
        values = match values {
            ReferenceValues::Index(v) => {
                ReferenceValues::Index(v.into_iter().map(|p| local_move(p, at, del, ins)).collect())
            }
            ReferenceValues::Range(v) => ReferenceValues::Range(
                v.into_iter()
                    .map(|(a, b)| (local_move(a, at, del, ins), local_move(b, at, del, ins)))
                    .collect(),
            ),
            other => other,
        };
    }
    values
}

/// Whether a reference event with these values fits the kind of value it is on.
fn fits(values: &ReferenceValues, target: Option<&ValueId>, kind: Option<ValueKind>) -> bool {
    match (values, kind) {
        (ReferenceValues::Index(v), Some(ValueKind::String)) => v.iter().all(|i| *i >= 0),
        (ReferenceValues::Range(v), Some(ValueKind::String)) => {
            v.iter().all(|(a, b)| *a >= 0 && *b >= 0)
        }
        (ReferenceValues::Property(_), Some(ValueKind::Object)) => true,
        (ReferenceValues::Element(_), None) => target.is_none(),
        _ => false,
    }
}

impl Sequencer {
    /// Takes in a reference event of `session`, made at `context`, and queues its broadcast.
    pub(super) fn reference(
        &mut self,
        session: &str,
        context: u64,
        target: Option<ValueId>,
        key: String,
        change: ReferenceChange,
    ) {
        let Some(slot) = self.sessions.get(session) else {
            return;
        };
        if slot.state != SlotState::Open {
            return;
        }
        let owner = slot.key;
        if let Some(t) = &target {
            if !self.doc.contains(t) {
                return; // The value is gone: the event is moot.
            }
        }
        let position = self
            .references
            .iter()
            .position(|(k, r)| *k == owner && r.target == target && r.key == key);
        // rc.12 sends `setReference` only for references it holds shared, but does not share
        // them again after a resync (its `reShare` skips references it still marks shared): a
        // set of a reference this session never shared is taken as sharing it.
        let change = match (change, position) {
            (ReferenceChange::Set(v), None) => ReferenceChange::Shared(v),
            (change, _) => change,
        };
        let transformed = match &change {
            ReferenceChange::Shared(v) | ReferenceChange::Set(v) => {
                match self.carry_in(session, owner, context, target.as_ref(), v.clone()) {
                    Some(t) => t,
                    None => return,
                }
            }
            _ => None,
        };
        if position.is_some() || matches!(change, ReferenceChange::Shared(_)) {
            self.note_frame(owner, &target, &key, context, &change);
        }
        let Some(event_change) =
            self.store_reference(session, owner, &target, &key, change, position, transformed)
        else {
            return;
        };
        if matches!(event_change, ReferenceChange::Unshared) {
            for slot in self.sessions.values_mut() {
                slot.stale
                    .0
                    .retain(|s| !(s.owner == owner && s.target == target && s.key == key));
            }
        }
        if matches!(
            event_change,
            ReferenceChange::Set(_) | ReferenceChange::Shared(_)
        ) {
            let at = self.cc.version();
            for slot in self.sessions.values_mut().filter(|s| s.key != owner) {
                slot.stale.mark(owner, &target, &key, at);
            }
        }
        let event = ModelEvent::Reference {
            model: self.model_id.clone(),
            session: session.to_string(),
            target,
            key,
            change: event_change,
        };
        self.awaiting.push_back((
            self.batch_id,
            Awaiting::Broadcast {
                except: session.to_string(),
                event,
            },
        ));
    }

    /// Checks reference values sent by `owner` at `context` and carries them into the current
    /// version. `None` when the session was closed for a bad event; `Some(None)` when a later
    /// operation cleared the reference.
    fn carry_in(
        &mut self,
        session: &str,
        owner: ClientKey,
        context: u64,
        target: Option<&ValueId>,
        values: ReferenceValues,
    ) -> Option<Option<ReferenceValues>> {
        if !fits(&values, target, target.and_then(|t| self.doc.kind_of(t))) {
            self.force_close(
                session,
                ForceCloseReason::InvalidReferenceEvent,
                "reference type does not fit its value".into(),
            );
            return None;
        }
        self.fill_history(session, owner, context);
        match self.cc.transform_reference(owner, context, target, values) {
            Ok(Some(ReferenceValues::Element(ids))) => Some(Some(ReferenceValues::Element(
                ids.into_iter().filter(|id| self.doc.contains(id)).collect(),
            ))),
            Ok(other) => Some(other),
            Err(e) => {
                self.force_close(
                    session,
                    ForceCloseReason::InvalidReferenceEvent,
                    format!("reference rejected: {e}"),
                );
                None
            }
        }
    }

    /// Records a reference change; returns the change to broadcast, if any.
    #[allow(clippy::too_many_arguments)]
    fn store_reference(
        &mut self,
        session: &str,
        owner: ClientKey,
        target: &Option<ValueId>,
        key: &str,
        change: ReferenceChange,
        position: Option<usize>,
        transformed: Option<ReferenceValues>,
    ) -> Option<ReferenceChange> {
        match (change, position) {
            (ReferenceChange::Shared(_), Some(_)) => None,
            (ReferenceChange::Shared(_), None) => {
                self.references.push((
                    owner,
                    SharedReference {
                        session: session.to_string(),
                        target: target.clone(),
                        key: key.to_string(),
                        values: transformed.clone(),
                    },
                ));
                transformed.map(ReferenceChange::Shared)
            }
            (ReferenceChange::Set(_), Some(i)) => {
                let v = transformed?;
                self.references[i].1.values = Some(v.clone());
                Some(ReferenceChange::Set(v))
            }
            (ReferenceChange::Cleared, Some(i)) => {
                self.references[i].1.values = None;
                Some(ReferenceChange::Cleared)
            }
            (ReferenceChange::Unshared, Some(i)) => {
                self.references.remove(i);
                Some(ReferenceChange::Unshared)
            }
            (_, None) => None,
        }
    }

    /// The references to send `session` again after the acknowledgement of its operation `op`,
    /// submitted at `context` (see the module docs). Empty, without allocating, for a session
    /// that holds no possibly wrong reference and sent no true splice.
    pub(super) fn refresh_due(
        &mut self,
        session: &str,
        context: u64,
        op: &Operation,
    ) -> Vec<(ClientKey, Option<ValueId>, String)> {
        if self.references.is_empty() {
            return Vec::new();
        }
        let Some(slot) = self.sessions.get_mut(session) else {
            return Vec::new();
        };
        let mut due = if slot.stale.0.is_empty() {
            Vec::new()
        } else {
            slot.stale.due(context)
        };
        let own = slot.key;
        for d in op.ops() {
            if d.no_op || !matches!(d.kind, crate::ot::OpKind::StringSplice { .. }) {
                continue;
            }
            for (k, r) in &self.references {
                let id = (*k, r.target.clone(), r.key.clone());
                if *k != own && r.target.as_ref() == Some(&d.id) && !due.contains(&id) {
                    due.push(id);
                }
            }
        }
        due
    }

    /// Queues, right behind the acknowledgement just queued, the current values of `due` for
    /// `session`, and notes them as sent at the current version.
    pub(super) fn queue_refresh(
        &mut self,
        session: &str,
        due: Vec<(ClientKey, Option<ValueId>, String)>,
    ) {
        let at = self.cc.version();
        let mut events = Vec::with_capacity(due.len());
        for (owner, target, key) in due {
            let Some((_, r)) = self
                .references
                .iter()
                .find(|(k, r)| *k == owner && r.target == target && r.key == key)
            else {
                continue;
            };
            let Some(values) = r.values.clone() else {
                continue;
            };
            events.push(ModelEvent::Reference {
                model: self.model_id.clone(),
                session: r.session.clone(),
                target: target.clone(),
                key: key.clone(),
                change: ReferenceChange::Set(values),
            });
            if let Some(slot) = self.sessions.get_mut(session) {
                slot.stale.mark(owner, &target, &key, at);
            }
        }
        if !events.is_empty() {
            self.awaiting.push_back((
                self.batch_id,
                Awaiting::Refresh {
                    session: session.to_string(),
                    events,
                },
            ));
        }
    }

    /// A resynchronised session takes the references in its completion without moving them
    /// past its in-flight operations: they are refreshed after its next acknowledgements.
    pub(super) fn mark_all_stale(&mut self, session: &str) {
        let at = self.cc.version();
        let Some(slot) = self.sessions.get_mut(session) else {
            return;
        };
        for (owner, r) in &self.references {
            if *owner != slot.key && r.values.is_some() {
                slot.stale.mark(*owner, &r.target, &r.key, at);
            }
        }
    }

    /// Forgets every entry about references of `owner` (its session left).
    pub(super) fn forget_stale_of(&mut self, owner: ClientKey) {
        for slot in self.sessions.values_mut() {
            slot.stale.forget_owner(owner);
        }
        self.frames.retain(|f| f.owner != owner);
    }

    /// Records (or drops) the owner's frame of a reference after a reference event.
    fn note_frame(
        &mut self,
        owner: ClientKey,
        target: &Option<ValueId>,
        key: &str,
        context: u64,
        change: &ReferenceChange,
    ) {
        self.frames
            .retain(|f| !(f.owner == owner && &f.target == target && f.key == key));
        if let ReferenceChange::Set(v) | ReferenceChange::Shared(v) = change {
            if matches!(v, ReferenceValues::Index(_) | ReferenceValues::Range(_)) {
                self.frames.push(Frame {
                    owner,
                    target: target.clone(),
                    key: key.to_string(),
                    ctx: context,
                    values: v.clone(),
                });
            }
        }
    }

    /// Before `owner`'s operation made at `context` is transformed: moves its references past
    /// what it had received by then, then past the operation itself, as the owner did.
    pub(super) fn advance_frames(&mut self, owner: ClientKey, context: u64, op: &Operation) {
        let mut i = 0;
        while i < self.frames.len() {
            if self.frames[i].owner != owner {
                i += 1;
                continue;
            }
            let f = &self.frames[i];
            let moved = self.cc.advance_reference(
                owner,
                f.ctx,
                context,
                f.target.as_ref(),
                f.values.clone(),
            );
            match moved {
                Ok(Some(v)) => {
                    let target = self.frames[i].target.clone();
                    let f = &mut self.frames[i];
                    f.values = owner_moves(v, op, &target);
                    f.ctx = f.ctx.max(context);
                    i += 1;
                }
                _ => {
                    self.frames.remove(i);
                }
            }
        }
    }

    /// After an operation was applied: where a reference's value as its owner holds it is not
    /// where the applied operation moved it for everyone else, everyone else is told.
    pub(super) fn reconcile_frames(&mut self) {
        let at = self.cc.version();
        for f in &self.frames {
            let Ok(Some(truth)) =
                self.cc
                    .transform_reference(f.owner, f.ctx, f.target.as_ref(), f.values.clone())
            else {
                continue;
            };
            let Some((_, r)) = self
                .references
                .iter_mut()
                .find(|(k, r)| *k == f.owner && r.target == f.target && r.key == f.key)
            else {
                continue;
            };
            if r.values.as_ref() == Some(&truth) {
                continue;
            }
            r.values = Some(truth.clone());
            let session = r.session.clone();
            for slot in self.sessions.values_mut().filter(|s| s.key != f.owner) {
                slot.stale.mark(f.owner, &f.target, &f.key, at);
            }
            self.awaiting.push_back((
                self.batch_id,
                Awaiting::Broadcast {
                    except: session.clone(),
                    event: ModelEvent::Reference {
                        model: self.model_id.clone(),
                        session,
                        target: f.target.clone(),
                        key: f.key.clone(),
                        change: ReferenceChange::Set(truth),
                    },
                },
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_settle_once_a_later_context_arrives() {
        let mut s = StaleRefs::default();
        let t = Some(ValueId::new("t"));
        s.mark(1, &t, "c", 4);
        s.mark(1, &t, "c", 3);
        s.mark(2, &t, "c", 2);
        assert_eq!(
            s.due(3).len(),
            1,
            "only the one queued at 4 is due at context 3"
        );
        assert_eq!(s.due(5).len(), 0);
        assert!(s.0.is_empty());
    }
}
