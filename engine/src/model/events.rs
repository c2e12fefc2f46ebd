//! Engine-wide events for hosts: operations applied, sessions opening and closing models,
//! and the moment the last session leaves a model.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use crate::ot::Operation;
use crate::store::DomainKey;

/// Something that happened in the engine, as a host sees it.
#[derive(Clone, Debug, PartialEq)]
pub enum EngineEvent {
    /// An operation was applied and is durable.
    OperationApplied {
        /// Domain.
        domain: DomainKey,
        /// Model id.
        model: String,
        /// The version the operation produced.
        version: u64,
        /// Submitting session (`"host"` for host-side changes).
        session: String,
        /// Submitting user.
        user: String,
        /// When (epoch ms).
        timestamp_ms: i64,
        /// The operation as applied.
        op: Arc<Operation>,
    },
    /// A session opened a model.
    ModelOpened {
        /// Domain.
        domain: DomainKey,
        /// Model id.
        model: String,
        /// The session.
        session: String,
        /// Its user.
        user: String,
    },
    /// A session closed a model (or went away).
    ModelClosed {
        /// Domain.
        domain: DomainKey,
        /// Model id.
        model: String,
        /// The session.
        session: String,
        /// Its user.
        user: String,
    },
    /// The last session left a model: everything up to `version` is durable. This is the
    /// moment an app writes the model back to its own database.
    LastSessionLeft {
        /// Domain.
        domain: DomainKey,
        /// Model id.
        model: String,
        /// The model's version at that moment.
        version: u64,
    },
    /// A model was created (by a client, the host or the REST API).
    ModelCreated {
        /// Domain.
        domain: DomainKey,
        /// Model id.
        model: String,
        /// Its collection.
        collection: String,
    },
    /// A model was deleted (alone or with its collection).
    ModelDeleted {
        /// Domain.
        domain: DomainKey,
        /// Model id.
        model: String,
        /// Its collection.
        collection: String,
    },
    /// A user's session connected to a domain.
    UserConnected {
        /// Domain.
        domain: DomainKey,
        /// The session.
        session: String,
        /// The user.
        user: String,
    },
    /// A user's session disconnected.
    UserDisconnected {
        /// Domain.
        domain: DomainKey,
        /// The session.
        session: String,
        /// The user.
        user: String,
    },
    /// A user's presence changed: its availability or its state, as it is now.
    PresenceChanged {
        /// Domain.
        domain: DomainKey,
        /// The user.
        user: crate::store::UserId,
        /// Whether the user has a connected session.
        available: bool,
        /// The user's whole state after the change.
        state: std::collections::BTreeMap<String, serde_json::Value>,
    },
    /// A session joined or left an activity, changed its state there, or the activity was
    /// deleted.
    ActivityChanged {
        /// Domain.
        domain: DomainKey,
        /// The activity's type.
        activity_type: String,
        /// Its id.
        id: String,
        /// What happened.
        kind: ActivityChangeKind,
        /// The session (none for a deletion).
        session: Option<String>,
        /// Its user.
        user: Option<crate::store::UserId>,
        /// The session's whole state after the change.
        state: std::collections::BTreeMap<String, serde_json::Value>,
    },
    /// A chat has a new event (stored), a member marked events seen, or the chat was removed.
    ChatChanged {
        /// Domain.
        domain: DomainKey,
        /// The chat's id.
        chat: std::sync::Arc<str>,
        /// What happened.
        push: crate::chat::ChatPush,
    },
}

/// What an [`EngineEvent::ActivityChanged`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityChangeKind {
    /// A visible session joined.
    Joined,
    /// A visible session left (or was made to).
    Left,
    /// A participant's state changed.
    StateChanged,
    /// The activity was deleted.
    Deleted,
}

impl EngineEvent {
    /// The domain the event concerns.
    pub fn domain(&self) -> &DomainKey {
        match self {
            EngineEvent::OperationApplied { domain, .. }
            | EngineEvent::ModelOpened { domain, .. }
            | EngineEvent::ModelClosed { domain, .. }
            | EngineEvent::LastSessionLeft { domain, .. }
            | EngineEvent::ModelCreated { domain, .. }
            | EngineEvent::ModelDeleted { domain, .. }
            | EngineEvent::UserConnected { domain, .. }
            | EngineEvent::UserDisconnected { domain, .. }
            | EngineEvent::PresenceChanged { domain, .. }
            | EngineEvent::ActivityChanged { domain, .. }
            | EngineEvent::ChatChanged { domain, .. } => domain,
        }
    }

    /// The model the event concerns, if any.
    pub fn model(&self) -> Option<&str> {
        match self {
            EngineEvent::OperationApplied { model, .. }
            | EngineEvent::ModelOpened { model, .. }
            | EngineEvent::ModelClosed { model, .. }
            | EngineEvent::LastSessionLeft { model, .. }
            | EngineEvent::ModelCreated { model, .. }
            | EngineEvent::ModelDeleted { model, .. } => Some(model),
            _ => None,
        }
    }
}

/// Which events a subscription receives.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Only this domain (all when `None`).
    pub domain: Option<DomainKey>,
    /// Only this model (all when `None`).
    pub model: Option<String>,
    /// Leave out [`EngineEvent::OperationApplied`] (the engine then builds none for this
    /// subscriber).
    pub without_operations: bool,
}

impl EventFilter {
    fn matches(&self, e: &EngineEvent) -> bool {
        self.domain.as_ref().is_none_or(|d| d == e.domain())
            && self.model.as_deref().is_none_or(|m| e.model() == Some(m))
            && !(self.without_operations && matches!(e, EngineEvent::OperationApplied { .. }))
    }
}

struct Subscriber {
    filter: EventFilter,
    tx: mpsc::UnboundedSender<EngineEvent>,
}

/// Fans engine events out to subscribers. Slow subscribers never block the engine; a
/// subscription that is dropped is forgotten.
#[derive(Clone, Default)]
pub struct EventBus {
    subscribers: Arc<Mutex<Vec<Subscriber>>>,
    /// How many subscribers the list holds (read without the lock).
    count: Arc<AtomicUsize>,
    /// How many of them take operations (read on every operation, without the lock).
    op_count: Arc<AtomicUsize>,
}

/// A stream of engine events.
pub struct EventSubscription {
    rx: mpsc::UnboundedReceiver<EngineEvent>,
}

impl EventSubscription {
    /// The next event; `None` once the engine has shut down.
    pub async fn recv(&mut self) -> Option<EngineEvent> {
        self.rx.recv().await
    }

    /// The next event if one is waiting.
    pub fn try_recv(&mut self) -> Option<EngineEvent> {
        self.rx.try_recv().ok()
    }

    /// Waits for the next event without an async runtime; `None` once the engine has shut down.
    pub fn blocking_recv(&mut self) -> Option<EngineEvent> {
        self.rx.blocking_recv()
    }
}

impl EventBus {
    /// Subscribes to the events matching `filter`.
    pub fn subscribe(&self, filter: EventFilter) -> EventSubscription {
        let (tx, rx) = mpsc::unbounded_channel();
        if let Ok(mut subs) = self.subscribers.lock() {
            subs.push(Subscriber { filter, tx });
            self.recount(&subs);
        }
        EventSubscription { rx }
    }

    fn recount(&self, subs: &[Subscriber]) {
        self.count.store(subs.len(), Ordering::Release);
        let ops = subs.iter().filter(|s| !s.filter.without_operations).count();
        self.op_count.store(ops, Ordering::Release);
    }

    /// True when anyone listens (lets callers skip building events).
    pub fn has_subscribers(&self) -> bool {
        self.count.load(Ordering::Acquire) > 0
    }

    /// True when anyone listens to applied operations (lets the sequencer skip building
    /// them).
    pub fn has_operation_subscribers(&self) -> bool {
        self.op_count.load(Ordering::Acquire) > 0
    }

    /// Delivers an event to every matching subscriber.
    pub fn publish(&self, event: EngineEvent) {
        if let Ok(mut subs) = self.subscribers.lock() {
            subs.retain(|s| {
                if s.filter.matches(&event) {
                    s.tx.send(event.clone()).is_ok()
                } else {
                    !s.tx.is_closed()
                }
            });
            self.recount(&subs);
        }
    }

    /// Ends every subscription (their `recv` returns `None`).
    pub fn close(&self) {
        if let Ok(mut subs) = self.subscribers.lock() {
            subs.clear();
            self.recount(&subs);
        }
    }
}
