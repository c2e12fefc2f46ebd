//! Releasing what is durable: acknowledgements to submitters, operations to everyone else, and
//! the other answers that waited for the store, in order.
//!
//! The acknowledgements of consecutive operations of one session are sent as one event (a
//! run): one wake-up of the session's connection per durable batch instead of one per
//! operation, which profiles showed as the largest cost of a pipelining client.

use std::sync::Arc;

use tokio::sync::oneshot;

use super::{host_session, Awaiting, Sequencer, SlotState};
use crate::model::events::EngineEvent;
use crate::model::{EncodedOnce, ModelError, ModelEvent, ModelResult};
use crate::ot::Operation;

/// An applied operation waiting until it is durable.
pub(super) struct Delivery {
    /// The version it was applied at.
    pub(super) context: u64,
    /// Submitting session and its sequence number (`None` for the host's changes).
    pub(super) submitter: Option<(Arc<str>, u64)>,
    pub(super) user: Arc<str>,
    pub(super) timestamp_ms: i64,
    pub(super) op: Arc<Operation>,
    /// The host's wait for the new version.
    pub(super) host_reply: Option<oneshot::Sender<ModelResult<u64>>>,
}

/// Acknowledgements of operations `seq ..` of one session, applied at versions `version ..`
/// one after another, at the same time.
pub(super) struct AckRun {
    session: Arc<str>,
    seq: u64,
    version: u64,
    timestamp_ms: i64,
    count: u64,
}

impl AckRun {
    /// Whether the acknowledgement of `seq` at `version` continues this run.
    fn continues(&self, session: &Arc<str>, seq: u64, version: u64, timestamp_ms: i64) -> bool {
        (Arc::ptr_eq(&self.session, session) || self.session == *session)
            && self.seq + self.count == seq
            && self.version + self.count == version
            && self.timestamp_ms == timestamp_ms
    }
}

impl Sequencer {
    /// Delivers everything whose writes are durable, in order.
    pub(super) fn release(&mut self) {
        while let Some((tag, _)) = self.awaiting.front() {
            if *tag > self.durable_id {
                break;
            }
            let Some((_, item)) = self.awaiting.pop_front() else {
                break;
            };
            self.deliver(item);
        }
        self.send_acks();
    }

    /// Sends the acknowledgements gathered so far.
    fn send_acks(&mut self) {
        if let Some(run) = self.ack_run.take() {
            self.send(
                &run.session,
                ModelEvent::Ack {
                    model: self.model_id.clone(),
                    seq: run.seq,
                    version: run.version,
                    timestamp_ms: run.timestamp_ms,
                    count: run.count,
                },
            );
        }
    }

    /// Acknowledges a durable operation to its submitter and sends it to everyone else.
    fn deliver_op(&mut self, d: Delivery) {
        let Delivery {
            context,
            submitter,
            user,
            timestamp_ms,
            op,
            host_reply,
        } = d;
        self.released_version = context + 1;
        match &submitter {
            Some((session, seq)) => {
                let continues = self
                    .ack_run
                    .as_ref()
                    .is_some_and(|run| run.continues(session, *seq, context, timestamp_ms));
                match &mut self.ack_run {
                    Some(run) if continues => run.count += 1,
                    _ => {
                        // Whatever else the earlier run's session receives comes after it.
                        self.send_acks();
                        self.ack_run = Some(AckRun {
                            session: session.clone(),
                            seq: *seq,
                            version: context,
                            timestamp_ms,
                            count: 1,
                        });
                    }
                }
            }
            None => self.send_acks(),
        }
        let submitter_session = submitter.as_ref().map(|(s, _)| &**s);
        let session_name = || match &submitter {
            Some((s, _)) => s.clone(),
            None => host_session(&user),
        };
        // Shared by every recipient's event, made only when there is one.
        let mut shared: Option<(Arc<str>, EncodedOnce)> = None;
        for (id, slot) in &self.sessions {
            if slot.state == SlotState::Open && Some(id.as_str()) != submitter_session {
                let (session, encoded) =
                    shared.get_or_insert_with(|| (session_name(), EncodedOnce::default()));
                let _ = slot.sink.send(ModelEvent::Remote {
                    model: self.model_id.clone(),
                    session: session.clone(),
                    user: user.clone(),
                    context_version: context,
                    timestamp_ms,
                    op: op.clone(),
                    encoded: encoded.clone(),
                });
            }
        }
        if let Some(reply) = host_reply {
            let _ = reply.send(Ok(context + 1));
        }
        if self.bus.has_operation_subscribers() {
            self.bus.publish(EngineEvent::OperationApplied {
                domain: self.domain.clone(),
                model: self.model_id.to_string(),
                version: context + 1,
                session: session_name().to_string(),
                user: user.to_string(),
                timestamp_ms,
                op,
            });
        }
    }

    fn deliver(&mut self, item: Awaiting) {
        let item = match item {
            Awaiting::Op(d) => return self.deliver_op(d),
            other => other,
        };
        self.send_acks();
        let model = self.model_id.clone();
        match item {
            Awaiting::Op(_) => {}
            Awaiting::Open {
                session,
                reply,
                state,
            } => {
                let Some(slot) = self.sessions.get_mut(&session) else {
                    let _ = reply.send(Err(ModelError::NotOpen(session)));
                    return;
                };
                if slot.state != SlotState::Opening {
                    let _ = reply.send(Err(ModelError::NotOpen(session)));
                    return;
                }
                let user = slot.user.to_string();
                if reply.send(Ok(state)).is_err() {
                    // The opener went away before the answer: undo the open.
                    if let Some(slot) = self.sessions.remove(&session) {
                        self.cc.untrack(slot.key);
                    }
                    return;
                }
                if let Some(slot) = self.sessions.get_mut(&session) {
                    slot.state = SlotState::Open;
                    slot.announced = true;
                }
                // Sessions whose own open is still being delivered too: their session lists
                // were made before this one was announced (their connection holds the event
                // until it has sent their open response).
                for (id, other) in &self.sessions {
                    if other.listening() && *id != session {
                        let _ = other.sink.send(ModelEvent::RemoteOpened {
                            model: model.clone(),
                            session: session.clone(),
                            user: user.clone(),
                        });
                    }
                }
                self.bus.publish(EngineEvent::ModelOpened {
                    domain: self.domain.clone(),
                    model: model.to_string(),
                    session,
                    user,
                });
            }
            Awaiting::Close { session, reply } => {
                let Some(slot) = self.sessions.remove(&session) else {
                    if let Some(r) = reply {
                        let _ = r.send(Ok(()));
                    }
                    return;
                };
                if let Some(r) = self.last_close(reply) {
                    let _ = r.send(Ok(()));
                }
                for (id, other) in &self.sessions {
                    if slot.announced && other.listening() && *id != session {
                        let _ = other.sink.send(ModelEvent::RemoteClosed {
                            model: model.clone(),
                            session: session.clone(),
                        });
                    }
                }
                self.bus.publish(EngineEvent::ModelClosed {
                    domain: self.domain.clone(),
                    model: model.to_string(),
                    session,
                    user: slot.user.to_string(),
                });
                self.after_session_left();
            }
            Awaiting::Broadcast { except, event } => {
                for (id, slot) in &self.sessions {
                    if slot.state == SlotState::Open && *id != except {
                        let _ = slot.sink.send(event.clone());
                    }
                }
            }
            Awaiting::Refresh { session, events } => {
                if let Some(slot) = self.sessions.get(&session) {
                    if slot.state == SlotState::Open {
                        for event in events {
                            let _ = slot.sink.send(event);
                        }
                    }
                }
            }
            Awaiting::Read { reply, data } => {
                let _ = reply.send(Ok(data));
            }
            Awaiting::Offline { reply, copy } => {
                let _ = reply.send(Ok(*copy));
            }
        }
    }
}
