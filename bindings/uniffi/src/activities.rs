//! Activities on [`Domain`] (the facade's `api/activities.rs`): create and delete them, list
//! them, ask whether one exists, read who is in one. Joins, leaves and state changes arrive as
//! [`Event::ActivityChanged`](crate::Event::ActivityChanged) on the domain's subscription.

use tandem::api;

use crate::{run, Domain, Result, TargetPermissions, UserId};

/// A visible participant of an activity: a session that joined it, with its state there.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ActivityParticipant {
    /// The session.
    pub session: String,
    /// Its user.
    pub user: UserId,
    /// Its state in the activity as JSON text (an object).
    pub state_json: String,
}

impl From<api::ActivityParticipant> for ActivityParticipant {
    fn from(p: api::ActivityParticipant) -> Self {
        ActivityParticipant {
            session: p.session.to_string(),
            state_json: api::presence_state_to_json_text(&p.state),
            user: p.user.into(),
        }
    }
}

/// An activity as listed.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
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

impl From<api::ActivityInfo> for ActivityInfo {
    fn from(a: api::ActivityInfo) -> Self {
        ActivityInfo {
            activity_type: a.activity_type,
            id: a.id,
            created_ms: a.created_ms,
            ephemeral: a.ephemeral,
        }
    }
}

#[uniffi::export]
impl Domain {
    /// The domain's stored activities, ordered by type then id.
    pub fn activities(&self) -> Result<Vec<ActivityInfo>> {
        let list = self.inner.activities()?;
        Ok(list.into_iter().map(ActivityInfo::from).collect())
    }

    /// Creates a persistent activity with exactly these permission rows (the strings `join`,
    /// `lurk`, `view_state`, `set_state`, `remove`, `manage`): `AlreadyExists` if it exists,
    /// `InvalidArgument` for an unknown string or a bad type or id.
    pub async fn create_activity(
        &self,
        activity_type: String,
        id: String,
        permissions: TargetPermissions,
    ) -> Result<()> {
        let d = self.inner.clone();
        let e = d.engine().clone();
        let rows = api::TargetPermissions::from(permissions);
        run(&e, async move {
            d.create_activity(&activity_type, &id, rows).await
        })
        .await
    }

    /// Deletes an activity; its participants are told and leave. `NotFound` if there is none.
    pub async fn delete_activity(&self, activity_type: String, id: String) -> Result<()> {
        let d = self.inner.clone();
        let e = d.engine().clone();
        run(
            &e,
            async move { d.delete_activity(&activity_type, &id).await },
        )
        .await
    }

    /// Whether an activity exists.
    pub fn activity_exists(&self, activity_type: String, id: String) -> Result<bool> {
        Ok(self.inner.activity_exists(&activity_type, &id)?)
    }

    /// The visible participants of an activity, in the order they joined. `NotFound` if there
    /// is no such activity.
    pub async fn activity_participants(
        &self,
        activity_type: String,
        id: String,
    ) -> Result<Vec<ActivityParticipant>> {
        let d = self.inner.clone();
        let e = d.engine().clone();
        let found = run(&e, async move {
            d.activity_participants(&activity_type, &id).await
        })
        .await?;
        Ok(found.into_iter().map(ActivityParticipant::from).collect())
    }
}
