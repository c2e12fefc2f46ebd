//! Activities for hosts: create and delete them, read who is in one; joins, leaves and state
//! changes arrive as [`Event::ActivityChanged`] on [`Domain::subscribe`].
//!
//! [`Event::ActivityChanged`]: super::Event::ActivityChanged

use serde::Serialize;

use super::{Domain, PresenceState, Result, SessionId, UserId};
use crate::activity::ActivityKey;
use crate::perm::{Actor, TargetPermissions};

/// A participant of an activity: a session that joined it visibly, with its state there.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ActivityParticipant {
    /// The session.
    #[schema(value_type = String)]
    pub session: SessionId,
    /// Its user.
    #[schema(value_type = super::rest::UserRef)]
    pub user: UserId,
    /// Its state in the activity.
    #[schema(value_type = Object)]
    pub state: PresenceState,
}

/// An activity as listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ActivityInfo {
    /// Its type.
    pub activity_type: String,
    /// Its id within the type.
    pub id: String,
    /// Creation time (epoch ms).
    pub created_ms: i64,
    /// Whether it goes away with its last participant.
    pub ephemeral: bool,
}

impl Domain {
    /// The domain's stored activities, ordered by type then id.
    pub fn activities(&self) -> Result<Vec<ActivityInfo>> {
        self.engine.check()?;
        let service = &self.engine.inner.services.activities;
        Ok(service
            .list(&self.key)?
            .into_iter()
            .map(|r| ActivityInfo {
                activity_type: r.activity_type,
                id: r.id,
                created_ms: r.created_ms,
                ephemeral: r.ephemeral,
            })
            .collect())
    }

    fn activity(&self, activity_type: &str, id: &str) -> ActivityKey {
        ActivityKey::new(self.key.clone(), activity_type, id)
    }

    /// Creates a persistent activity with exactly these permission rows (world, users,
    /// groups; the strings are `join`, `lurk`, `view_state`, `set_state`, `remove`, `manage`).
    pub async fn create_activity(
        &self,
        activity_type: &str,
        id: &str,
        permissions: TargetPermissions,
    ) -> Result<()> {
        self.engine.check()?;
        let key = self.activity(activity_type, id);
        let service = &self.engine.inner.services.activities;
        Ok(service.create(&key, &Actor::Host, permissions).await?)
    }

    /// Deletes an activity; its participants are told and leave.
    pub async fn delete_activity(&self, activity_type: &str, id: &str) -> Result<()> {
        self.engine.check()?;
        let key = self.activity(activity_type, id);
        let service = &self.engine.inner.services.activities;
        Ok(service.delete(&key, &Actor::Host).await?)
    }

    /// Whether an activity exists.
    pub fn activity_exists(&self, activity_type: &str, id: &str) -> Result<bool> {
        self.engine.check()?;
        let key = self.activity(activity_type, id);
        Ok(self.engine.inner.services.activities.exists(&key)?)
    }

    /// The visible participants of an activity, in the order they joined, with their states.
    pub async fn activity_participants(
        &self,
        activity_type: &str,
        id: &str,
    ) -> Result<Vec<ActivityParticipant>> {
        self.engine.check()?;
        let key = self.activity(activity_type, id);
        let service = &self.engine.inner.services.activities;
        let found = service.participants(&key, &Actor::Host).await?;
        Ok(found
            .into_iter()
            .map(|p| ActivityParticipant {
                session: SessionId::new(p.session),
                user: p.user,
                state: p.state,
            })
            .collect())
    }
}
