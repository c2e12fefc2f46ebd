//! The sessions connected now, for identity lookups, presence, per-user limits and liveness
//! probes. Front ends (the wire protocol today) register their sessions here.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;

use crate::store::{DomainKey, UserRecord, UserType};

/// A connected session's user, as other connections show it.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionUser {
    /// The user.
    pub user: UserRecord,
    /// The domain.
    pub domain: DomainKey,
    /// When it connected (epoch ms).
    pub connected_ms: i64,
    /// The client's address, when known.
    pub address: Option<IpAddr>,
    /// The client's name and version, as it reported them.
    pub client: String,
}

/// The way to a registered session's connection, implemented by the front end that holds it.
pub trait SessionLink: Send + Sync {
    /// Asks the connection for a sign of life from its client: `reply` is answered when any
    /// frame arrives from it. False when the connection is gone.
    fn probe(&self, reply: oneshot::Sender<()>) -> bool;
    /// Closes the connection because its client showed no sign of life.
    fn close_silent(&self, reason: &'static str);
    /// Closes the connection at an operator's request; the client may reconnect.
    fn disconnect(&self);
}

type UserKey = (DomainKey, UserType, String);

#[derive(Default)]
struct RegistryState {
    sessions: HashMap<String, SessionUser>,
    links: HashMap<String, Arc<dyn SessionLink>>,
    per_user: HashMap<UserKey, usize>,
}

fn user_of(u: &SessionUser) -> UserKey {
    (u.domain.clone(), u.user.user_type, u.user.username.clone())
}

impl RegistryState {
    fn release(&mut self, user: &SessionUser) {
        let key = user_of(user);
        if let Some(n) = self.per_user.get_mut(&key) {
            *n -= 1;
            if *n == 0 {
                self.per_user.remove(&key);
            }
        }
    }
}

/// Sessions currently connected, with a count per user so that availability and the per-user
/// connection limit never scan every session.
#[derive(Default)]
pub struct SessionRegistry {
    state: Mutex<RegistryState>,
}

impl SessionRegistry {
    /// Registers a connected session (replacing an earlier one with the same id).
    pub fn insert(&self, session: &str, user: SessionUser, link: Arc<dyn SessionLink>) {
        if let Ok(mut s) = self.state.lock() {
            *s.per_user.entry(user_of(&user)).or_insert(0) += 1;
            if let Some(old) = s.sessions.insert(session.to_string(), user) {
                s.release(&old);
            }
            s.links.insert(session.to_string(), link);
        }
    }

    /// Forgets a session that disconnected.
    pub fn remove(&self, session: &str) {
        if let Ok(mut s) = self.state.lock() {
            if let Some(old) = s.sessions.remove(session) {
                s.release(&old);
            }
            s.links.remove(session);
        }
    }

    /// Whether `session` is still connected and answering: asks its connection for a sign of
    /// life within `timeout`. A session that stays silent is closed, since its network is
    /// gone. False for unknown sessions.
    pub async fn is_alive(&self, session: &str, timeout: Duration) -> bool {
        let Some(link) = self
            .state
            .lock()
            .ok()
            .and_then(|s| s.links.get(session).cloned())
        else {
            return false;
        };
        let (reply, answered) = oneshot::channel();
        if !link.probe(reply) {
            return false;
        }
        match tokio::time::timeout(timeout, answered).await {
            Ok(Ok(())) => true,
            _ => {
                link.close_silent("no sign of life while the same client reconnected");
                false
            }
        }
    }

    /// The user of a connected session.
    pub fn get(&self, session: &str) -> Option<SessionUser> {
        self.state.lock().ok()?.sessions.get(session).cloned()
    }

    /// How many sessions the user has connected in the domain.
    pub fn count_for(&self, domain: &DomainKey, user_type: UserType, username: &str) -> usize {
        let key = (domain.clone(), user_type, username.to_string());
        self.state
            .lock()
            .map(|s| s.per_user.get(&key).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    /// The sessions connected to `domain`, oldest first (then by id).
    pub fn in_domain(&self, domain: &DomainKey) -> Vec<(String, SessionUser)> {
        let Ok(s) = self.state.lock() else {
            return Vec::new();
        };
        let mut out: Vec<(String, SessionUser)> = s
            .sessions
            .iter()
            .filter(|(_, u)| u.domain == *domain)
            .map(|(id, u)| (id.clone(), u.clone()))
            .collect();
        drop(s);
        out.sort_by(|a, b| a.1.connected_ms.cmp(&b.1.connected_ms).then(a.0.cmp(&b.0)));
        out
    }

    /// Closes a session of `domain` at an operator's request; false when no such session is
    /// connected there.
    pub fn disconnect(&self, domain: &DomainKey, session: &str) -> bool {
        let link = self.state.lock().ok().and_then(|s| {
            let same_domain = s.sessions.get(session).is_some_and(|u| u.domain == *domain);
            same_domain.then(|| s.links.get(session).cloned()).flatten()
        });
        match link {
            Some(link) => {
                link.disconnect();
                true
            }
            None => false,
        }
    }

    /// How many sessions each domain has connected (domains with none left out).
    pub fn per_domain(&self) -> std::collections::BTreeMap<DomainKey, usize> {
        let mut out = std::collections::BTreeMap::new();
        if let Ok(s) = self.state.lock() {
            for u in s.sessions.values() {
                *out.entry(u.domain.clone()).or_insert(0) += 1;
            }
        }
        out
    }

    /// Number of connected sessions.
    pub fn len(&self) -> usize {
        self.state.lock().map(|s| s.sessions.len()).unwrap_or(0)
    }

    /// True when nobody is connected.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
