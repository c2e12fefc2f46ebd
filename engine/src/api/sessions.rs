//! The sessions connected to a domain, for operators: who is connected, from where, and a way
//! to disconnect one (its client reconnects with a new session, as after a network drop).

use serde::Serialize;

use super::{Domain, Error, ErrorCode, Result, SessionId, UserId};

/// A session connected to a domain now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ConnectedSession {
    /// The session id.
    #[schema(value_type = String)]
    pub id: SessionId,
    /// Its user.
    #[schema(value_type = super::rest::UserRef)]
    pub user: UserId,
    /// When it connected (epoch ms).
    pub connected_ms: i64,
    /// The client's address, when known.
    pub address: Option<String>,
    /// The client's name and version, as it reported them.
    pub client: String,
}

impl Domain {
    /// The sessions connected to this domain, oldest first.
    pub fn sessions(&self) -> Result<Vec<ConnectedSession>> {
        self.engine.check()?;
        let registry = &self.engine.inner.services.sessions;
        Ok(registry
            .in_domain(&self.key)
            .into_iter()
            .map(|(id, s)| ConnectedSession {
                id: SessionId::new(id),
                user: UserId::new(s.user.user_type, s.user.username),
                connected_ms: s.connected_ms,
                address: s.address.map(|a| a.to_string()),
                client: s.client,
            })
            .collect())
    }

    /// Disconnects a session of this domain: its socket is closed, and its client reconnects
    /// (with a new session) as it does after a network drop. `not_found` when no such session
    /// is connected to this domain.
    pub fn disconnect_session(&self, id: &str) -> Result<()> {
        self.engine.check()?;
        if self
            .engine
            .inner
            .services
            .sessions
            .disconnect(&self.key, id)
        {
            tracing::info!(session = id, domain = %self.key, "session disconnected by an operator");
            Ok(())
        } else {
            Err(Error::new(
                ErrorCode::NotFound,
                format!("no session {id:?} is connected to this domain"),
            ))
        }
    }
}
