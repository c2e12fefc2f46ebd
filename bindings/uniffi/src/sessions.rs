//! The sessions connected to a [`Domain`] (the facade's `api/sessions.rs`), for operators: who
//! is connected, from where, and a way to disconnect one (its client reconnects with a new
//! session, as after a network drop).

use tandem::api;

use crate::{Domain, Result, UserId};

/// A session connected to a domain now.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ConnectedSession {
    /// The session id.
    pub id: String,
    /// Its user.
    pub user: UserId,
    /// When it connected (epoch ms).
    pub connected_ms: i64,
    /// The client's address, when known.
    pub address: Option<String>,
    /// The client's name and version, as it reported them.
    pub client: String,
}

impl From<api::ConnectedSession> for ConnectedSession {
    fn from(s: api::ConnectedSession) -> Self {
        ConnectedSession {
            id: s.id.to_string(),
            user: s.user.into(),
            connected_ms: s.connected_ms,
            address: s.address,
            client: s.client,
        }
    }
}

#[uniffi::export]
impl Domain {
    /// The sessions connected to this domain now, oldest first.
    pub fn sessions(&self) -> Result<Vec<ConnectedSession>> {
        let list = self.inner.sessions()?;
        Ok(list.into_iter().map(ConnectedSession::from).collect())
    }

    /// Disconnects a session of this domain: its socket is closed, and its client reconnects
    /// with a new session. `NotFound` when no such session is connected to this domain.
    pub fn disconnect_session(&self, id: String) -> Result<()> {
        Ok(self.inner.disconnect_session(&id)?)
    }
}
