//! Identity and permissions on a domain handle: users' profiles, groups and memberships,
//! collection, model and generic permissions, the domain's state, and admin tokens.

use serde::{Deserialize, Serialize};

use super::{Domain, Model, Result, User, UserId};
use crate::activity::ActivityKey;
use crate::auth::UserProfile;
use crate::chat::{ChatError, ChatKey};
use crate::perm::{
    Actor, CollectionPermissions, CollectionRights, ModelPermissions, ModelPermissionsChange,
    ModelRights, PermissionChange, Permissions, Target, TargetPermissions,
};
use crate::store::DomainState;

/// A group of users.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// Group id.
    pub id: String,
    /// Description.
    pub description: String,
    /// Its members.
    pub members: Vec<UserId>,
}

impl Domain {
    fn perms(&self) -> Permissions {
        Permissions::new(self.engine.inner.store.clone())
    }

    /// A normal user.
    pub fn user(&self, username: &str) -> Result<User> {
        self.engine.check()?;
        let auth = &self.engine.inner.auth;
        Ok(auth
            .user_by_id(&self.key, &UserId::normal(username))?
            .into())
    }

    /// Changes a normal user's profile (fields given replace the stored ones).
    pub async fn update_user(&self, username: &str, profile: UserProfile) -> Result<User> {
        self.engine.check()?;
        let auth = &self.engine.inner.auth;
        Ok(auth
            .update_profile(&self.key, username, profile)
            .await?
            .into())
    }

    /// Disables (or enables again) a normal user: a disabled user cannot log in.
    pub async fn set_user_disabled(&self, username: &str, disabled: bool) -> Result<()> {
        self.engine.check()?;
        let auth = &self.engine.inner.auth;
        auth.set_user_disabled(&self.key, username, disabled)
            .await?;
        Ok(())
    }

    /// Creates a group.
    pub async fn create_group(&self, id: &str, description: &str) -> Result<Group> {
        self.engine.check()?;
        let auth = &self.engine.inner.auth;
        let g = auth.create_group(&self.key, id, description).await?;
        Ok(Group {
            id: g.id,
            description: g.description,
            members: Vec::new(),
        })
    }

    /// Changes a group's description.
    pub async fn set_group_description(&self, id: &str, description: &str) -> Result<()> {
        self.engine.check()?;
        let auth = &self.engine.inner.auth;
        Ok(auth
            .set_group_description(&self.key, id, description)
            .await?)
    }

    /// Deletes a group (its memberships and the permissions granted to it go too).
    pub async fn delete_group(&self, id: &str) -> Result<()> {
        self.engine.check()?;
        Ok(self.engine.inner.auth.delete_group(&self.key, id).await?)
    }

    /// A group with its members.
    pub fn group(&self, id: &str) -> Result<Group> {
        self.engine.check()?;
        let (g, members) = self.engine.inner.auth.group(&self.key, id)?;
        Ok(Group {
            id: g.id,
            description: g.description,
            members,
        })
    }

    /// Every group, ordered by id, with its members.
    pub fn groups(&self) -> Result<Vec<Group>> {
        self.engine.check()?;
        let auth = &self.engine.inner.auth;
        auth.groups(&self.key)?
            .iter()
            .map(|g| self.group(&g.id))
            .collect()
    }

    /// Makes a user a member of a group (both must exist).
    pub async fn add_group_member(&self, group: &str, user: &UserId) -> Result<()> {
        self.engine.check()?;
        let auth = &self.engine.inner.auth;
        Ok(auth.set_member(&self.key, group, user, true).await?)
    }

    /// Removes a user from a group.
    pub async fn remove_group_member(&self, group: &str, user: &UserId) -> Result<()> {
        self.engine.check()?;
        let auth = &self.engine.inner.auth;
        Ok(auth.set_member(&self.key, group, user, false).await?)
    }

    /// The ids of the groups a user is a member of.
    pub fn user_groups(&self, user: &UserId) -> Result<Vec<String>> {
        self.engine.check()?;
        Ok(self.engine.inner.auth.user_groups(&self.key, user)?)
    }

    fn require_collection(&self, id: &str) -> Result<()> {
        let store = &self.engine.inner.store;
        match store.collection(&self.key, id)? {
            Some(_) => Ok(()),
            None => Err(crate::model::ModelError::CollectionNotFound(id.to_string()).into()),
        }
    }

    /// A collection's world and per-user permissions.
    pub fn collection_permissions(&self, id: &str) -> Result<CollectionPermissions> {
        self.engine.check()?;
        self.require_collection(id)?;
        Ok(self.perms().collection_permissions(&self.key, id)?)
    }

    /// Replaces what everyone may do with a collection's models (and whether they may create
    /// models in it); open models are re-checked at once.
    pub async fn set_collection_world(&self, id: &str, world: CollectionRights) -> Result<()> {
        self.set_collection_permissions(id, Some(world), &[]).await
    }

    /// Sets (or with `None` removes) a user's entry on a collection.
    pub async fn set_collection_user(
        &self,
        id: &str,
        user: &UserId,
        rights: Option<CollectionRights>,
    ) -> Result<()> {
        self.set_collection_permissions(id, None, &[(user.clone(), rights)])
            .await
    }

    async fn set_collection_permissions(
        &self,
        id: &str,
        world: Option<CollectionRights>,
        users: &[(UserId, Option<CollectionRights>)],
    ) -> Result<()> {
        self.engine.check()?;
        self.require_collection(id)?;
        self.perms()
            .change_collection(&self.key, id, world, users)
            .await
            .map_err(perm_error)?;
        self.engine
            .inner
            .models
            .reauthorize_collection(&self.key, id);
        Ok(())
    }

    /// Moves the domain online, into maintenance (only admin-key logins) or offline.
    pub async fn set_state(&self, state: DomainState) -> Result<()> {
        let mut settings = self.settings()?;
        settings.state = state;
        self.set_settings(settings).await
    }

    /// A token that logs `username` in as a convergence user (every permission) for
    /// `ttl_secs`, signed with the domain's admin key (`kid` `ConvergenceAdminKey`).
    pub async fn admin_token(&self, username: &str, ttl_secs: u64) -> Result<String> {
        self.engine.check()?;
        let auth = &self.engine.inner.auth;
        Ok(auth.mint_admin_token(&self.key, username, ttl_secs).await?)
    }

    /// The generic permission rows of a chat, an activity or the whole domain; a chat or an
    /// activity that does not exist is `NotFound`, as [`Domain::change_permissions`] answers.
    pub fn permissions(&self, target: &Target) -> Result<TargetPermissions> {
        self.engine.check()?;
        match target {
            Target::Activity { activity_type, id } => {
                let key = ActivityKey::new(self.key.clone(), activity_type, id);
                let activities = &self.engine.inner.services.activities;
                return Ok(activities.permissions(&key, &Actor::Host)?);
            }
            Target::Chat { id } => {
                if self.engine.inner.store.chat(&self.key, id)?.is_none() {
                    return Err(ChatError::NotFound.into());
                }
            }
            Target::Global => {}
        }
        Ok(self
            .perms()
            .target_permissions(&self.key, &target.to_store())?)
    }

    /// Adds, removes or replaces generic permission rows; a chat's or an activity's go
    /// through its owner (and are `NotFound` when it does not exist), so its members and
    /// participants are judged by the new rows at once.
    pub async fn change_permissions(
        &self,
        target: &Target,
        change: &PermissionChange,
    ) -> Result<()> {
        self.engine.check()?;
        let services = &self.engine.inner.services;
        match target {
            Target::Activity { activity_type, id } => {
                let key = ActivityKey::new(self.key.clone(), activity_type, id);
                return Ok(services
                    .activities
                    .change_permissions(&key, &Actor::Host, change)
                    .await?);
            }
            Target::Chat { id } => {
                let key = ChatKey::new(self.key.clone(), id);
                return Ok(services
                    .chats
                    .change_permissions(&key, &Actor::Host, change.clone())
                    .await?);
            }
            Target::Global => {}
        }
        let activities = &services.activities;
        self.perms()
            .change_target(&self.key, &target.to_store(), change, &target.allowed())
            .await
            .map_err(perm_error)?;
        if *target == Target::Global {
            activities.domain_permissions_changed(&self.key);
        }
        Ok(())
    }

    /// The permission strings `user` holds on `target` (its own rows, its groups', the world
    /// row, and global rows).
    pub fn resolve_permissions(&self, target: &Target, user: &UserId) -> Result<Vec<String>> {
        self.engine.check()?;
        Ok(self
            .perms()
            .resolve(&self.key, &target.to_store(), user, &target.allowed())?
            .into_iter()
            .collect())
    }
}

impl Model {
    /// The model's stored permissions: its override flag, its own world permissions and its
    /// explicit user entries.
    pub fn permissions(&self) -> Result<ModelPermissions> {
        self.domain.engine.check()?;
        self.info()?;
        Ok(self
            .domain
            .perms()
            .model_permissions(&self.domain.key, &self.id)?)
    }

    /// Changes the model's permissions; sessions that have it open are told their new rights
    /// at once, and closed if they lost read.
    pub async fn set_permissions(&self, change: ModelPermissionsChange) -> Result<()> {
        self.domain.engine.check()?;
        let models = &self.domain.engine.inner.models;
        Ok(models
            .set_permissions(&self.domain.key, &self.id, &Actor::Host, &change)
            .await?)
    }

    /// What `user` may do with the model, resolved as the engine checks it.
    pub fn rights_of(&self, user: &UserId) -> Result<ModelRights> {
        self.domain.engine.check()?;
        let info = self.info()?;
        Ok(self.domain.perms().model_rights(
            &self.domain.key,
            &self.id,
            &info.collection,
            &Actor::User(user.clone()),
        )?)
    }
}

fn perm_error(e: crate::perm::PermissionError) -> super::Error {
    use super::ErrorCode;
    use crate::perm::PermissionError as P;
    match e {
        P::Store(s) => s.into(),
        P::GranteeNotFound(m) => super::Error::new(ErrorCode::NotFound, format!("{m} not found")),
        P::Unknown(_) => super::Error::new(ErrorCode::InvalidArgument, e.to_string()),
    }
}
