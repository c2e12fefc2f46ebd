//! Presence: which users of a domain are connected, and a state map per user that all of the
//! user's sessions share, pushed to the sessions that subscribed to the user.
//!
//! One owner task per domain holds it (see [`owner`]), reached by messages: connections and
//! the host never lock its maps. Presence is not persisted: a user whose last session leaves
//! is unavailable and its state is gone, as in the original server.

mod owner;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value as Json;
use thiserror::Error;
use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot};
use tracing::{info_span, Instrument};

use crate::model::EventBus;
use crate::router::Router;
use crate::session::UserId;
use crate::store::DomainKey;

/// A user's presence state: keys to JSON values.
pub type PresenceState = BTreeMap<String, Json>;

/// What a subscriber of a user hears about that user.
#[derive(Clone, Debug, PartialEq)]
pub enum PresenceEvent {
    /// Keys were set (only those keys; the others are unchanged).
    StateSet {
        /// Whose state.
        user: UserId,
        /// The keys set, with their new values.
        state: PresenceState,
    },
    /// Keys were removed.
    StateRemoved {
        /// Whose state.
        user: UserId,
        /// The keys removed.
        keys: Vec<String>,
    },
    /// The whole state was cleared.
    StateCleared {
        /// Whose state.
        user: UserId,
    },
    /// The user connected its first session, or closed its last.
    Availability {
        /// Who.
        user: UserId,
        /// Whether the user has a connected session now.
        available: bool,
    },
    /// A state change of the receiving session was refused (only to that session).
    Refused {
        /// Why.
        reason: PresenceError,
    },
}

/// A user's presence at one moment.
#[derive(Clone, Debug, PartialEq)]
pub struct UserPresence {
    /// Who.
    pub user: UserId,
    /// Whether the user has a connected session.
    pub available: bool,
    /// The user's state (empty while unavailable).
    pub state: PresenceState,
}

/// Where a session's (or a host subscriber's) presence events go.
pub type PresenceSink = mpsc::UnboundedSender<PresenceEvent>;

/// Why a presence request was refused.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum PresenceError {
    /// A state value nests deeper than the limit.
    #[error("a presence state value nests {depth} levels deep, more than the {max} allowed")]
    TooDeep {
        /// The value's depth.
        depth: usize,
        /// The limit.
        max: usize,
    },
    /// The user's state would grow past the limit.
    #[error("the presence state would take {bytes} bytes, more than the {max} allowed")]
    TooLarge {
        /// The state's encoded size.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// The engine is shutting down.
    #[error("the presence service has stopped")]
    Stopped,
}

/// Limits on presence state, checked before a change is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PresenceLimits {
    /// Deepest nesting of a state value (a scalar is 1; 0 = no limit).
    pub max_depth: usize,
    /// Largest state of one user, as JSON text of its keys and values (0 = no limit).
    pub max_bytes: usize,
}

/// Messages to a domain's owner task.
enum Command {
    Join {
        session: String,
        user: UserId,
        sink: PresenceSink,
        reply: oneshot::Sender<PresenceState>,
    },
    Leave {
        session: String,
    },
    Set {
        session: String,
        state: PresenceState,
    },
    Remove {
        session: String,
        keys: Vec<String>,
    },
    Clear {
        session: String,
    },
    Get {
        users: Vec<UserId>,
        reply: oneshot::Sender<Vec<UserPresence>>,
    },
    Subscribe {
        subscriber: String,
        users: Vec<UserId>,
        sink: Option<PresenceSink>,
        reply: oneshot::Sender<Vec<UserPresence>>,
    },
    Unsubscribe {
        subscriber: String,
        users: Vec<UserId>,
    },
}

/// The presence of every domain: a cheap handle to the domains' owner tasks.
#[derive(Clone)]
pub struct PresenceService {
    inner: Arc<Inner>,
}

struct Inner {
    runtime: Handle,
    limits: PresenceLimits,
    bus: EventBus,
    owners: Router<DomainKey, Command>,
}

impl PresenceService {
    /// A service whose owner tasks run on `runtime` and publish changes on `bus`.
    pub fn new(runtime: Handle, limits: PresenceLimits, bus: EventBus) -> Self {
        PresenceService {
            inner: Arc::new(Inner {
                runtime,
                limits,
                bus,
                owners: Router::new(),
            }),
        }
    }

    /// Ends every domain's presence owner, waiting for each (engine shutdown).
    pub async fn shutdown(&self) {
        self.inner.owners.shutdown().await;
    }

    fn send(&self, domain: &DomainKey, command: Command) {
        self.inner.owners.send(domain, command, |rx| {
            let span = info_span!("presence", domain = %domain);
            let owner = owner::Owner::new(self.inner.limits)
                .publishing(domain.clone(), self.inner.bus.clone());
            self.inner.runtime.spawn(owner.run(rx).instrument(span))
        });
    }

    /// A session of `user` connected: the user is available while it has one. Events about
    /// the users it subscribes to (its own user from the start) go to `sink`. Answers the
    /// user's current state.
    pub async fn join(
        &self,
        domain: &DomainKey,
        session: &str,
        user: UserId,
        sink: PresenceSink,
    ) -> Result<PresenceState, PresenceError> {
        let (reply, rx) = oneshot::channel();
        self.send(
            domain,
            Command::Join {
                session: session.to_string(),
                user,
                sink,
                reply,
            },
        );
        rx.await.map_err(|_| PresenceError::Stopped)
    }

    /// A session left: its subscriptions end, and its user becomes unavailable (and loses
    /// its state) when this was its last session.
    pub fn leave(&self, domain: &DomainKey, session: &str) {
        self.send(
            domain,
            Command::Leave {
                session: session.to_string(),
            },
        );
    }

    /// Sets keys of the session's user's state. A value nested too deep is refused here; a
    /// state that would grow too large is refused by a [`PresenceEvent::Refused`] to the
    /// session.
    pub fn set_state(
        &self,
        domain: &DomainKey,
        session: &str,
        state: PresenceState,
    ) -> Result<(), PresenceError> {
        owner::check_depth(&state, self.inner.limits.max_depth)?;
        self.send(
            domain,
            Command::Set {
                session: session.to_string(),
                state,
            },
        );
        Ok(())
    }

    /// Removes keys from the session's user's state.
    pub fn remove_state(&self, domain: &DomainKey, session: &str, keys: Vec<String>) {
        self.send(
            domain,
            Command::Remove {
                session: session.to_string(),
                keys,
            },
        );
    }

    /// Clears the session's user's state.
    pub fn clear_state(&self, domain: &DomainKey, session: &str) {
        self.send(
            domain,
            Command::Clear {
                session: session.to_string(),
            },
        );
    }

    /// The presence of each user, in the order asked.
    pub async fn presence(
        &self,
        domain: &DomainKey,
        users: Vec<UserId>,
    ) -> Result<Vec<UserPresence>, PresenceError> {
        let (reply, rx) = oneshot::channel();
        self.send(domain, Command::Get { users, reply });
        rx.await.map_err(|_| PresenceError::Stopped)
    }

    /// Subscribes `subscriber` (a joined session, or a host subscriber with its own `sink`)
    /// to `users`; answers their presence now.
    pub async fn subscribe(
        &self,
        domain: &DomainKey,
        subscriber: &str,
        users: Vec<UserId>,
        sink: Option<PresenceSink>,
    ) -> Result<Vec<UserPresence>, PresenceError> {
        let (reply, rx) = oneshot::channel();
        self.send(
            domain,
            Command::Subscribe {
                subscriber: subscriber.to_string(),
                users,
                sink,
                reply,
            },
        );
        rx.await.map_err(|_| PresenceError::Stopped)
    }

    /// Ends `subscriber`'s subscriptions to `users`.
    pub fn unsubscribe(&self, domain: &DomainKey, subscriber: &str, users: Vec<UserId>) {
        self.send(
            domain,
            Command::Unsubscribe {
                subscriber: subscriber.to_string(),
                users,
            },
        );
    }
}
