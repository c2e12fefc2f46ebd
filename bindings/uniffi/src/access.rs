//! Identity and permissions on [`Domain`] and [`Model`] (the facade's `api/access.rs`):
//! users' profiles, groups, collection, model and generic permissions, the domain's state and
//! admin tokens, with their records and enums. Rights are records of booleans (absent ones
//! false); a (user, rights) pair is a record naming both.

use tandem::api;

use crate::{run, Domain, Model, Result, User, UserId, UserPresence};

/// What a user may do with a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct ModelRights {
    /// Open it, read its data and history, see who has it open.
    #[uniffi(default = false)]
    pub read: bool,
    /// Submit operations.
    #[uniffi(default = false)]
    pub write: bool,
    /// Delete it.
    #[uniffi(default = false)]
    pub remove: bool,
    /// Read and change its permissions.
    #[uniffi(default = false)]
    pub manage: bool,
}

impl From<ModelRights> for api::ModelRights {
    fn from(r: ModelRights) -> Self {
        let ModelRights {
            read,
            write,
            remove,
            manage,
        } = r;
        api::ModelRights {
            read,
            write,
            remove,
            manage,
        }
    }
}

impl From<api::ModelRights> for ModelRights {
    fn from(r: api::ModelRights) -> Self {
        let api::ModelRights {
            read,
            write,
            remove,
            manage,
        } = r;
        ModelRights {
            read,
            write,
            remove,
            manage,
        }
    }
}

/// What a user may do with a collection: the model rights it grants on every model in it,
/// plus creating models in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct CollectionRights {
    /// Create models in it.
    #[uniffi(default = false)]
    pub create: bool,
    /// Read its models.
    #[uniffi(default = false)]
    pub read: bool,
    /// Edit its models.
    #[uniffi(default = false)]
    pub write: bool,
    /// Delete its models.
    #[uniffi(default = false)]
    pub remove: bool,
    /// Manage its models' permissions.
    #[uniffi(default = false)]
    pub manage: bool,
}

impl From<CollectionRights> for api::CollectionRights {
    fn from(r: CollectionRights) -> Self {
        let CollectionRights {
            create,
            read,
            write,
            remove,
            manage,
        } = r;
        api::CollectionRights {
            create,
            read,
            write,
            remove,
            manage,
        }
    }
}

impl From<api::CollectionRights> for CollectionRights {
    fn from(r: api::CollectionRights) -> Self {
        let api::CollectionRights {
            create,
            read,
            write,
            remove,
            manage,
        } = r;
        CollectionRights {
            create,
            read,
            write,
            remove,
            manage,
        }
    }
}

/// A user's entry on a model.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct UserModelRights {
    /// The user.
    pub user: UserId,
    /// What it may do.
    pub rights: ModelRights,
}

/// A user's entry on a collection.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct UserCollectionRights {
    /// The user.
    pub user: UserId,
    /// What it may do.
    pub rights: CollectionRights,
}

/// A model's stored permissions.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ModelPermissions {
    /// Whether the model's world rights override its collection's.
    pub override_world: bool,
    /// The model's own world rights.
    pub world: ModelRights,
    /// Explicit user entries, ordered by user.
    pub users: Vec<UserModelRights>,
}

impl From<api::ModelPermissions> for ModelPermissions {
    fn from(p: api::ModelPermissions) -> Self {
        ModelPermissions {
            override_world: p.override_world,
            world: p.world.into(),
            users: p
                .users
                .into_iter()
                .map(|(u, r)| UserModelRights {
                    user: u.into(),
                    rights: r.into(),
                })
                .collect(),
        }
    }
}

/// A change to a model's permissions; absent parts stay as they are.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ModelPermissionsChange {
    /// New override flag.
    #[uniffi(default = None)]
    pub override_world: Option<bool>,
    /// New world rights.
    #[uniffi(default = None)]
    pub world: Option<ModelRights>,
    /// Remove every user entry before setting `set_users`.
    #[uniffi(default = false)]
    pub replace_users: bool,
    /// User entries to set.
    #[uniffi(default = [])]
    pub set_users: Vec<UserModelRights>,
    /// User entries to remove.
    #[uniffi(default = [])]
    pub remove_users: Vec<UserId>,
}

impl From<ModelPermissionsChange> for api::ModelPermissionsChange {
    fn from(c: ModelPermissionsChange) -> Self {
        api::ModelPermissionsChange {
            override_world: c.override_world,
            world: c.world.map(Into::into),
            replace_users: c.replace_users,
            set_users: c
                .set_users
                .into_iter()
                .map(|e| (e.user.into(), e.rights.into()))
                .collect(),
            remove_users: c.remove_users.into_iter().map(Into::into).collect(),
        }
    }
}

/// A collection's stored permissions.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CollectionPermissions {
    /// What everyone holds on it.
    pub world: CollectionRights,
    /// Explicit user entries, ordered by user.
    pub users: Vec<UserCollectionRights>,
}

impl From<api::CollectionPermissions> for CollectionPermissions {
    fn from(p: api::CollectionPermissions) -> Self {
        CollectionPermissions {
            world: p.world.into(),
            users: p
                .users
                .into_iter()
                .map(|(u, r)| UserCollectionRights {
                    user: u.into(),
                    rights: r.into(),
                })
                .collect(),
        }
    }
}

/// A group of users (the facade's `Group`; named so that it does not clash with SwiftUI's
/// `Group`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct UserGroup {
    /// Group id.
    pub id: String,
    /// Description.
    pub description: String,
    /// Its members.
    pub members: Vec<UserId>,
}

impl From<api::Group> for UserGroup {
    fn from(g: api::Group) -> Self {
        UserGroup {
            id: g.id,
            description: g.description,
            members: g.members.into_iter().map(Into::into).collect(),
        }
    }
}

/// A change to a user's profile; absent (`null`) fields stay as they are.
#[derive(Debug, Clone, PartialEq, Eq, Default, uniffi::Record)]
pub struct UserProfile {
    /// New display name.
    #[uniffi(default = None)]
    pub display_name: Option<String>,
    /// New first name.
    #[uniffi(default = None)]
    pub first_name: Option<String>,
    /// New last name.
    #[uniffi(default = None)]
    pub last_name: Option<String>,
    /// New e-mail address.
    #[uniffi(default = None)]
    pub email: Option<String>,
}

impl From<UserProfile> for api::UserProfile {
    fn from(p: UserProfile) -> Self {
        api::UserProfile {
            display_name: p.display_name,
            first_name: p.first_name,
            last_name: p.last_name,
            email: p.email,
        }
    }
}

/// Which logins a domain accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DomainState {
    /// Every login the domain's settings allow.
    Online,
    /// Only logins with the domain's admin key, and reconnects of convergence users.
    Maintenance,
    /// No logins; the domain answers as if it did not exist.
    Offline,
}

impl From<DomainState> for api::DomainState {
    fn from(s: DomainState) -> Self {
        match s {
            DomainState::Online => api::DomainState::Online,
            DomainState::Maintenance => api::DomainState::Maintenance,
            DomainState::Offline => api::DomainState::Offline,
        }
    }
}

impl From<api::DomainState> for DomainState {
    fn from(s: api::DomainState) -> Self {
        match s {
            api::DomainState::Online => DomainState::Online,
            api::DomainState::Maintenance => DomainState::Maintenance,
            api::DomainState::Offline => DomainState::Offline,
        }
    }
}

/// What generic permission rows apply to (the facade's `Target`; named so that it does not
/// clash with Kotlin's `kotlin.annotation.Target`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum PermissionTarget {
    /// Every chat and activity of the domain.
    Global,
    /// One chat.
    Chat {
        /// Chat id.
        id: String,
    },
    /// One activity.
    Activity {
        /// Activity type.
        activity_type: String,
        /// Activity id.
        id: String,
    },
}

impl From<PermissionTarget> for api::Target {
    fn from(t: PermissionTarget) -> Self {
        match t {
            PermissionTarget::Global => api::Target::Global,
            PermissionTarget::Chat { id } => api::Target::Chat { id },
            PermissionTarget::Activity { activity_type, id } => {
                api::Target::Activity { activity_type, id }
            }
        }
    }
}

/// A user's permission strings on a target.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct UserPermissions {
    /// The user.
    pub user: UserId,
    /// Its permission strings.
    pub permissions: Vec<String>,
}

/// A group's permission strings on a target.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct GroupPermissions {
    /// The group id.
    pub group: String,
    /// Its permission strings.
    pub permissions: Vec<String>,
}

/// A chat's, an activity's or the domain's permission rows.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TargetPermissions {
    /// What everyone holds.
    #[uniffi(default = [])]
    pub world: Vec<String>,
    /// Per-user rows, ordered by user.
    #[uniffi(default = [])]
    pub users: Vec<UserPermissions>,
    /// Per-group rows, ordered by group id.
    #[uniffi(default = [])]
    pub groups: Vec<GroupPermissions>,
}

fn user_rows(rows: Vec<UserPermissions>) -> Vec<(api::UserId, Vec<String>)> {
    rows.into_iter()
        .map(|r| (r.user.into(), r.permissions))
        .collect()
}

fn group_rows(rows: Vec<GroupPermissions>) -> Vec<(String, Vec<String>)> {
    rows.into_iter().map(|r| (r.group, r.permissions)).collect()
}

impl From<TargetPermissions> for api::TargetPermissions {
    fn from(p: TargetPermissions) -> Self {
        api::TargetPermissions {
            world: p.world,
            users: user_rows(p.users),
            groups: group_rows(p.groups),
        }
    }
}

impl From<api::TargetPermissions> for TargetPermissions {
    fn from(p: api::TargetPermissions) -> Self {
        TargetPermissions {
            world: p.world,
            users: p
                .users
                .into_iter()
                .map(|(u, permissions)| UserPermissions {
                    user: u.into(),
                    permissions,
                })
                .collect(),
            groups: p
                .groups
                .into_iter()
                .map(|(group, permissions)| GroupPermissions { group, permissions })
                .collect(),
        }
    }
}

/// A change to a target's generic permission rows.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum PermissionChange {
    /// Adds these strings to the grantees' rows.
    Add {
        /// The strings per grantee.
        rows: TargetPermissions,
    },
    /// Removes these strings from the grantees' rows.
    Remove {
        /// The strings per grantee.
        rows: TargetPermissions,
    },
    /// Replaces the world row if given, and the listed user (group) rows, after removing
    /// every user (group) row when `replace_users` (`replace_groups`).
    Set {
        /// The new world row.
        world: Option<Vec<String>>,
        /// User rows to set.
        users: Vec<UserPermissions>,
        /// Remove every other user row first.
        replace_users: bool,
        /// Group rows to set.
        groups: Vec<GroupPermissions>,
        /// Remove every other group row first.
        replace_groups: bool,
    },
}

impl From<PermissionChange> for api::PermissionChange {
    fn from(c: PermissionChange) -> Self {
        match c {
            PermissionChange::Add { rows } => api::PermissionChange::Add(rows.into()),
            PermissionChange::Remove { rows } => api::PermissionChange::Remove(rows.into()),
            PermissionChange::Set {
                world,
                users,
                replace_users,
                groups,
                replace_groups,
            } => api::PermissionChange::Set {
                world,
                users: user_rows(users),
                replace_users,
                groups: group_rows(groups),
                replace_groups,
            },
        }
    }
}

#[uniffi::export]
impl Domain {
    /// A normal user (`NotFound` otherwise).
    pub fn user(&self, username: String) -> Result<User> {
        Ok(self.inner.user(&username)?.into())
    }

    /// Changes a normal user's profile (fields given replace the stored ones).
    pub async fn update_user(&self, username: String, profile: UserProfile) -> Result<User> {
        let d = self.inner.clone();
        let e = d.engine().clone();
        let user = run(
            &e,
            async move { d.update_user(&username, profile.into()).await },
        );
        Ok(user.await?.into())
    }

    /// Disables (or enables again) a normal user: a disabled user cannot log in.
    pub async fn set_user_disabled(&self, username: String, disabled: bool) -> Result<()> {
        let d = self.inner.clone();
        let e = d.engine().clone();
        run(
            &e,
            async move { d.set_user_disabled(&username, disabled).await },
        )
        .await
    }

    /// Creates a group.
    #[uniffi::method(default(description = ""))]
    pub async fn create_group(&self, id: String, description: String) -> Result<UserGroup> {
        let d = self.inner.clone();
        let e = d.engine().clone();
        let group = run(&e, async move { d.create_group(&id, &description).await });
        Ok(group.await?.into())
    }

    /// Changes a group's description.
    pub async fn set_group_description(&self, id: String, description: String) -> Result<()> {
        let d = self.inner.clone();
        let e = d.engine().clone();
        run(&e, async move {
            d.set_group_description(&id, &description).await
        })
        .await
    }

    /// Deletes a group (its memberships and the permissions granted to it go too).
    pub async fn delete_group(&self, id: String) -> Result<()> {
        let d = self.inner.clone();
        let e = d.engine().clone();
        run(&e, async move { d.delete_group(&id).await }).await
    }

    /// A group with its members.
    pub fn group(&self, id: String) -> Result<UserGroup> {
        Ok(self.inner.group(&id)?.into())
    }

    /// Every group, ordered by id, with its members.
    pub fn groups(&self) -> Result<Vec<UserGroup>> {
        Ok(self
            .inner
            .groups()?
            .into_iter()
            .map(UserGroup::from)
            .collect())
    }

    /// Makes a user a member of a group (both must exist).
    pub async fn add_group_member(&self, group: String, user: UserId) -> Result<()> {
        let d = self.inner.clone();
        let e = d.engine().clone();
        let user = api::UserId::from(user);
        run(&e, async move { d.add_group_member(&group, &user).await }).await
    }

    /// Removes a user from a group.
    pub async fn remove_group_member(&self, group: String, user: UserId) -> Result<()> {
        let d = self.inner.clone();
        let e = d.engine().clone();
        let user = api::UserId::from(user);
        run(
            &e,
            async move { d.remove_group_member(&group, &user).await },
        )
        .await
    }

    /// The presence of each user, in the order given.
    pub async fn presence(&self, users: Vec<UserId>) -> Result<Vec<UserPresence>> {
        let d = self.inner.clone();
        let e = d.engine().clone();
        let users: Vec<api::UserId> = users.into_iter().map(api::UserId::from).collect();
        let found = run(&e, async move { d.presence(&users).await }).await?;
        Ok(found.into_iter().map(UserPresence::from).collect())
    }

    /// The ids of the groups a user is a member of.
    pub fn user_groups(&self, user: UserId) -> Result<Vec<String>> {
        Ok(self.inner.user_groups(&user.into())?)
    }

    /// A collection's world and per-user rights.
    pub fn collection_permissions(&self, id: String) -> Result<CollectionPermissions> {
        Ok(self.inner.collection_permissions(&id)?.into())
    }

    /// Replaces what everyone may do with a collection's models (and whether they may create
    /// models in it); open models are re-checked at once.
    pub async fn set_collection_world(&self, id: String, world: CollectionRights) -> Result<()> {
        let d = self.inner.clone();
        let e = d.engine().clone();
        run(&e, async move {
            d.set_collection_world(&id, world.into()).await
        })
        .await
    }

    /// Sets a user's rights on a collection, or removes its entry when `rights` is `null`.
    pub async fn set_collection_user(
        &self,
        id: String,
        user: UserId,
        rights: Option<CollectionRights>,
    ) -> Result<()> {
        let d = self.inner.clone();
        let e = d.engine().clone();
        let (user, rights) = (api::UserId::from(user), rights.map(Into::into));
        run(&e, async move {
            d.set_collection_user(&id, &user, rights).await
        })
        .await
    }

    /// Moves the domain online, into maintenance (only admin-key logins) or offline.
    pub async fn set_state(&self, state: DomainState) -> Result<()> {
        let d = self.inner.clone();
        let e = d.engine().clone();
        run(&e, async move { d.set_state(state.into()).await }).await
    }

    /// A JWT that logs `username` in as a convergence user (every permission) for
    /// `ttl_secs`, signed with the domain's admin key (`kid` `ConvergenceAdminKey`).
    pub async fn admin_token(&self, username: String, ttl_secs: u64) -> Result<String> {
        let d = self.inner.clone();
        let e = d.engine().clone();
        run(&e, async move { d.admin_token(&username, ttl_secs).await }).await
    }

    /// The generic permission rows of a chat, an activity or the whole domain.
    pub fn permissions(&self, target: PermissionTarget) -> Result<TargetPermissions> {
        Ok(self.inner.permissions(&target.into())?.into())
    }

    /// Adds, removes or replaces generic permission rows (`InvalidArgument` for a string the
    /// target kind does not know, `NotFound` for an unknown user or group).
    pub async fn change_permissions(
        &self,
        target: PermissionTarget,
        change: PermissionChange,
    ) -> Result<()> {
        let d = self.inner.clone();
        let e = d.engine().clone();
        let (target, change) = (
            api::Target::from(target),
            api::PermissionChange::from(change),
        );
        run(
            &e,
            async move { d.change_permissions(&target, &change).await },
        )
        .await
    }

    /// The permission strings `user` holds on `target` (its own rows, its groups', the world
    /// row and global rows), sorted.
    pub fn resolve_permissions(
        &self,
        target: PermissionTarget,
        user: UserId,
    ) -> Result<Vec<String>> {
        Ok(self
            .inner
            .resolve_permissions(&target.into(), &user.into())?)
    }
}

#[uniffi::export]
impl Model {
    /// The model's stored permissions: its override flag, its own world rights and its
    /// explicit user entries.
    pub fn permissions(&self) -> Result<ModelPermissions> {
        Ok(self.inner.permissions()?.into())
    }

    /// Changes the model's permissions; sessions that have it open get their new rights at
    /// once, and are closed if they lost read.
    pub async fn set_permissions(&self, change: ModelPermissionsChange) -> Result<()> {
        let m = self.inner.clone();
        let e = m.domain().engine().clone();
        run(&e, async move { m.set_permissions(change.into()).await }).await
    }

    /// What `user` may do with the model, resolved as the engine checks it.
    pub fn rights_of(&self, user: UserId) -> Result<ModelRights> {
        Ok(self.inner.rights_of(&user.into())?.into())
    }
}
