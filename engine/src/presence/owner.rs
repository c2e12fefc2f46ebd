//! The owner task of one domain's presence: who is connected, each user's state, and who
//! subscribed to whom.

use std::collections::{HashMap, HashSet};

use tokio::sync::mpsc;

use super::{
    Command, PresenceError, PresenceEvent, PresenceLimits, PresenceSink, PresenceState,
    UserPresence,
};
use crate::model::{EngineEvent, EventBus};
use crate::session::UserId;
use crate::store::DomainKey;

/// A connected user.
struct Present {
    sessions: HashSet<String>,
    state: PresenceState,
}

/// A session, or a host subscriber (no user).
struct Member {
    user: Option<UserId>,
    sink: PresenceSink,
    subscriptions: HashSet<UserId>,
}

pub(super) struct Owner {
    limits: PresenceLimits,
    /// Where changes are published for hosts (none in unit tests).
    bus: Option<(DomainKey, EventBus)>,
    users: HashMap<UserId, Present>,
    members: HashMap<String, Member>,
    subscribers: HashMap<UserId, HashSet<String>>,
}

impl Owner {
    pub(super) fn new(limits: PresenceLimits) -> Self {
        Owner {
            limits,
            bus: None,
            users: HashMap::new(),
            members: HashMap::new(),
            subscribers: HashMap::new(),
        }
    }

    /// The owner of `domain`'s presence, publishing changes on `bus`.
    pub(super) fn publishing(mut self, domain: DomainKey, bus: EventBus) -> Self {
        self.bus = Some((domain, bus));
        self
    }

    /// Tells the host subscribers of the bus what `user`'s presence is now.
    fn publish(&self, user: &UserId) {
        let Some((domain, bus)) = &self.bus else {
            return;
        };
        if !bus.has_subscribers() {
            return;
        }
        let present = self.users.get(user);
        bus.publish(EngineEvent::PresenceChanged {
            domain: domain.clone(),
            user: user.clone(),
            available: present.is_some(),
            state: present.map(|p| p.state.clone()).unwrap_or_default(),
        });
    }

    pub(super) async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Command>) {
        while let Some(command) = rx.recv().await {
            self.handle(command);
        }
    }

    fn handle(&mut self, command: Command) {
        match command {
            Command::Join {
                session,
                user,
                sink,
                reply,
            } => {
                let state = self.join(session, user, sink);
                let _ = reply.send(state);
            }
            Command::Leave { session } => self.leave(&session),
            Command::Set { session, state } => self.set(&session, state),
            Command::Remove { session, keys } => {
                self.change(&session, |present, user| {
                    let keys: Vec<String> = keys
                        .into_iter()
                        .filter(|k| present.state.remove(k).is_some())
                        .collect();
                    (!keys.is_empty()).then_some(PresenceEvent::StateRemoved { user, keys })
                });
            }
            Command::Clear { session } => {
                self.change(&session, |present, user| {
                    present.state.clear();
                    Some(PresenceEvent::StateCleared { user })
                });
            }
            Command::Get { users, reply } => {
                let _ = reply.send(self.presences(&users));
            }
            Command::Subscribe {
                subscriber,
                users,
                sink,
                reply,
            } => {
                let presences = self.subscribe(subscriber, &users, sink);
                let _ = reply.send(presences);
            }
            Command::Unsubscribe { subscriber, users } => {
                if let Some(m) = self.members.get_mut(&subscriber) {
                    for u in &users {
                        m.subscriptions.remove(u);
                    }
                }
                for u in &users {
                    self.unsubscribe_one(&subscriber, u);
                }
            }
        }
    }

    fn join(&mut self, session: String, user: UserId, sink: PresenceSink) -> PresenceState {
        let present = self.users.entry(user.clone()).or_insert_with(|| Present {
            sessions: HashSet::new(),
            state: PresenceState::new(),
        });
        let first = present.sessions.is_empty();
        present.sessions.insert(session.clone());
        let state = present.state.clone();
        if first {
            self.publish(&user);
            self.tell_subscribers(
                &user,
                Some(&session),
                PresenceEvent::Availability {
                    user: user.clone(),
                    available: true,
                },
            );
        }
        // A session follows its own user: changes made by the user's other sessions.
        self.subscribers
            .entry(user.clone())
            .or_default()
            .insert(session.clone());
        self.members.insert(
            session,
            Member {
                subscriptions: HashSet::from([user.clone()]),
                user: Some(user),
                sink,
            },
        );
        state
    }

    fn leave(&mut self, session: &str) {
        let Some(member) = self.members.remove(session) else {
            return;
        };
        for u in &member.subscriptions {
            self.unsubscribe_one(session, u);
        }
        let Some(user) = member.user else { return };
        let Some(present) = self.users.get_mut(&user) else {
            return;
        };
        present.sessions.remove(session);
        if !present.sessions.is_empty() {
            return;
        }
        let had_state = !present.state.is_empty();
        self.users.remove(&user);
        self.publish(&user);
        if had_state {
            self.tell_subscribers(
                &user,
                None,
                PresenceEvent::StateCleared { user: user.clone() },
            );
        }
        self.tell_subscribers(
            &user,
            None,
            PresenceEvent::Availability {
                user: user.clone(),
                available: false,
            },
        );
    }

    fn set(&mut self, session: &str, state: PresenceState) {
        let max = self.limits.max_bytes;
        let Some(user) = self.members.get(session).and_then(|m| m.user.clone()) else {
            return;
        };
        let Some(present) = self.users.get(&user) else {
            return;
        };
        if max != 0 {
            let mut merged = present.state.clone();
            merged.extend(state.iter().map(|(k, v)| (k.clone(), v.clone())));
            let bytes = crate::state_map::state_bytes(&merged);
            if bytes > max {
                self.tell(
                    session,
                    PresenceEvent::Refused {
                        reason: PresenceError::TooLarge { bytes, max },
                    },
                );
                return;
            }
        }
        if state.is_empty() {
            return;
        }
        self.change(session, |present, user| {
            present
                .state
                .extend(state.iter().map(|(k, v)| (k.clone(), v.clone())));
            Some(PresenceEvent::StateSet { user, state })
        });
    }

    /// Applies a change to the session's user's state and tells the user's subscribers (the
    /// session itself already knows).
    fn change(
        &mut self,
        session: &str,
        apply: impl FnOnce(&mut Present, UserId) -> Option<PresenceEvent>,
    ) {
        let Some(user) = self.members.get(session).and_then(|m| m.user.clone()) else {
            return;
        };
        let Some(present) = self.users.get_mut(&user) else {
            return;
        };
        if let Some(event) = apply(present, user.clone()) {
            self.publish(&user);
            self.tell_subscribers(&user, Some(session), event);
        }
    }

    fn presences(&self, users: &[UserId]) -> Vec<UserPresence> {
        users
            .iter()
            .map(|u| match self.users.get(u) {
                Some(p) => UserPresence {
                    user: u.clone(),
                    available: true,
                    state: p.state.clone(),
                },
                None => UserPresence {
                    user: u.clone(),
                    available: false,
                    state: PresenceState::new(),
                },
            })
            .collect()
    }

    fn subscribe(
        &mut self,
        subscriber: String,
        users: &[UserId],
        sink: Option<PresenceSink>,
    ) -> Vec<UserPresence> {
        if let Some(sink) = sink {
            self.members.entry(subscriber.clone()).or_insert(Member {
                user: None,
                sink,
                subscriptions: HashSet::new(),
            });
        }
        if let Some(m) = self.members.get_mut(&subscriber) {
            for u in users {
                m.subscriptions.insert(u.clone());
                self.subscribers
                    .entry(u.clone())
                    .or_default()
                    .insert(subscriber.clone());
            }
        }
        self.presences(users)
    }

    fn unsubscribe_one(&mut self, subscriber: &str, user: &UserId) {
        if let Some(set) = self.subscribers.get_mut(user) {
            set.remove(subscriber);
            if set.is_empty() {
                self.subscribers.remove(user);
            }
        }
    }

    fn tell(&self, member: &str, event: PresenceEvent) {
        if let Some(m) = self.members.get(member) {
            let _ = m.sink.send(event);
        }
    }

    fn tell_subscribers(&self, user: &UserId, except: Option<&str>, event: PresenceEvent) {
        let Some(subscribers) = self.subscribers.get(user) else {
            return;
        };
        for s in subscribers {
            if Some(s.as_str()) != except {
                self.tell(s, event.clone());
            }
        }
    }
}

/// The size of a state as JSON text of its keys and values.
/// Refuses a state whose values nest deeper than `max` (0 = no limit).
pub(super) fn check_depth(state: &PresenceState, max: usize) -> Result<(), PresenceError> {
    match crate::state_map::too_deep(state, max) {
        Some(depth) => Err(PresenceError::TooDeep { depth, max }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::Json;
    use super::*;
    use serde_json::json;

    fn limits() -> PresenceLimits {
        PresenceLimits {
            max_depth: 4,
            max_bytes: 100,
        }
    }

    fn state(v: Json) -> PresenceState {
        serde_json::from_value(v).expect("state")
    }

    #[test]
    fn availability_follows_the_first_and_last_session_and_state_is_shared_then_discarded() {
        let mut o = Owner::new(limits());
        let (watch_tx, mut watch) = mpsc::unbounded_channel();
        let bob = UserId::normal("bob");
        o.subscribe("host".into(), std::slice::from_ref(&bob), Some(watch_tx));
        let (s1_tx, mut s1) = mpsc::unbounded_channel();
        let (s2_tx, mut s2) = mpsc::unbounded_channel();
        assert!(o.join("s1".into(), bob.clone(), s1_tx).is_empty());
        assert_eq!(
            watch.try_recv(),
            Ok(PresenceEvent::Availability {
                user: bob.clone(),
                available: true
            })
        );
        o.set("s1", state(json!({"status": "busy"})));
        // The second session starts with the user's state and hears the first one's changes.
        assert_eq!(
            o.join("s2".into(), bob.clone(), s2_tx),
            state(json!({"status": "busy"}))
        );
        o.set("s1", state(json!({"mood": 1})));
        let set = PresenceEvent::StateSet {
            user: bob.clone(),
            state: state(json!({"mood": 1})),
        };
        assert_eq!(s2.try_recv(), Ok(set.clone()));
        assert!(s1.try_recv().is_err(), "the sender is not echoed");
        assert!(matches!(
            watch.try_recv(),
            Ok(PresenceEvent::StateSet { .. })
        ));
        assert_eq!(watch.try_recv(), Ok(set));
        o.leave("s1");
        assert!(watch.try_recv().is_err(), "still available through s2");
        o.leave("s2");
        assert_eq!(
            watch.try_recv(),
            Ok(PresenceEvent::StateCleared { user: bob.clone() })
        );
        assert_eq!(
            watch.try_recv(),
            Ok(PresenceEvent::Availability {
                user: bob.clone(),
                available: false
            })
        );
        assert_eq!(
            o.presences(std::slice::from_ref(&bob)),
            vec![UserPresence {
                user: bob,
                available: false,
                state: PresenceState::new()
            }]
        );
    }

    #[test]
    fn limits_refuse_deep_values_and_large_states_without_changing_anything() {
        let mut o = Owner::new(limits());
        let (tx, mut rx) = mpsc::unbounded_channel();
        let bob = UserId::normal("bob");
        o.join("s".into(), bob.clone(), tx);
        assert!(check_depth(&state(json!({"a": [[[1]]]})), 4).is_ok());
        assert_eq!(
            check_depth(&state(json!({"a": [[[[1]]]]})), 4),
            Err(PresenceError::TooDeep { depth: 5, max: 4 })
        );
        o.set("s", state(json!({"big": "x".repeat(200)})));
        assert!(matches!(
            rx.try_recv(),
            Ok(PresenceEvent::Refused {
                reason: PresenceError::TooLarge { .. }
            })
        ));
        assert!(o.presences(&[bob])[0].state.is_empty());
    }
}
