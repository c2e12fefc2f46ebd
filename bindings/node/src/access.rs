//! Identity and permissions on `NativeDomain` and `NativeModel` (the facade's
//! `api/access.rs`): users' profiles, groups, collection, model and generic permissions, the
//! domain's state and admin tokens. Inputs and outputs are plain JS objects in the facade's
//! serde forms: rights are `{ read, write, remove, manage }` (collections add `create`), a
//! user is `{ kind, name }`, a (user, rights) pair is a two-element array.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::Value;
use tandem::api::{
    CollectionRights, DomainState, ModelPermissionsChange, PermissionChange, Target, UserId,
    UserProfile,
};

use crate::{input, output, settle, unsigned, NativeDomain, NativeModel};

#[napi]
impl NativeDomain {
    /// A normal user (`User`).
    #[napi]
    pub fn user<'e>(&self, env: &'e Env, username: String) -> Result<PromiseRaw<'e, Value>> {
        settle(
            env,
            self.spawn(|d| async move { output(&d.user(&username)?) }),
        )
    }

    /// Changes a normal user's profile (`UserProfile`); resolves to the `User`.
    #[napi]
    pub fn update_user<'e>(
        &self,
        env: &'e Env,
        username: String,
        profile: Value,
    ) -> Result<PromiseRaw<'e, Value>> {
        settle(
            env,
            self.spawn(|d| async move {
                let profile: UserProfile = input(Some(profile), "user profile")?;
                output(&d.update_user(&username, profile).await?)
            }),
        )
    }

    /// Disables (or enables again) a normal user.
    #[napi]
    pub fn set_user_disabled<'e>(
        &self,
        env: &'e Env,
        username: String,
        disabled: bool,
    ) -> Result<PromiseRaw<'e, ()>> {
        settle(
            env,
            self.spawn(|d| async move { d.set_user_disabled(&username, disabled).await }),
        )
    }

    /// Creates a group; resolves to the `Group`.
    #[napi]
    pub fn create_group<'e>(
        &self,
        env: &'e Env,
        id: String,
        description: String,
    ) -> Result<PromiseRaw<'e, Value>> {
        settle(
            env,
            self.spawn(|d| async move { output(&d.create_group(&id, &description).await?) }),
        )
    }

    /// Changes a group's description.
    #[napi]
    pub fn set_group_description<'e>(
        &self,
        env: &'e Env,
        id: String,
        description: String,
    ) -> Result<PromiseRaw<'e, ()>> {
        settle(
            env,
            self.spawn(|d| async move { d.set_group_description(&id, &description).await }),
        )
    }

    /// Deletes a group.
    #[napi]
    pub fn delete_group<'e>(&self, env: &'e Env, id: String) -> Result<PromiseRaw<'e, ()>> {
        settle(
            env,
            self.spawn(|d| async move { d.delete_group(&id).await }),
        )
    }

    /// A group with its members (`Group`).
    #[napi]
    pub fn group<'e>(&self, env: &'e Env, id: String) -> Result<PromiseRaw<'e, Value>> {
        settle(env, self.spawn(|d| async move { output(&d.group(&id)?) }))
    }

    /// Every group, ordered by id.
    #[napi]
    pub fn groups<'e>(&self, env: &'e Env) -> Result<PromiseRaw<'e, Value>> {
        settle(env, self.spawn(|d| async move { output(&d.groups()?) }))
    }

    /// The presence of each user (`UserId[]`), in the order given.
    #[napi]
    pub fn presence<'e>(&self, env: &'e Env, users: Value) -> Result<PromiseRaw<'e, Value>> {
        settle(
            env,
            self.spawn(|d| async move {
                let users: Vec<UserId> = input(Some(users), "user ids")?;
                output(&d.presence(&users).await?)
            }),
        )
    }

    /// Makes a user (`UserId`) a member of a group.
    #[napi]
    pub fn add_group_member<'e>(
        &self,
        env: &'e Env,
        group: String,
        user: Value,
    ) -> Result<PromiseRaw<'e, ()>> {
        settle(
            env,
            self.spawn(|d| async move {
                let user: UserId = input(Some(user), "user id")?;
                d.add_group_member(&group, &user).await
            }),
        )
    }

    /// Removes a user (`UserId`) from a group.
    #[napi]
    pub fn remove_group_member<'e>(
        &self,
        env: &'e Env,
        group: String,
        user: Value,
    ) -> Result<PromiseRaw<'e, ()>> {
        settle(
            env,
            self.spawn(|d| async move {
                let user: UserId = input(Some(user), "user id")?;
                d.remove_group_member(&group, &user).await
            }),
        )
    }

    /// The ids of a user's groups.
    #[napi]
    pub fn user_groups<'e>(
        &self,
        env: &'e Env,
        user: Value,
    ) -> Result<PromiseRaw<'e, Vec<String>>> {
        settle(
            env,
            self.spawn(|d| async move { d.user_groups(&input(Some(user), "user id")?) }),
        )
    }

    /// A collection's world and per-user rights (`CollectionPermissions`).
    #[napi]
    pub fn collection_permissions<'e>(
        &self,
        env: &'e Env,
        id: String,
    ) -> Result<PromiseRaw<'e, Value>> {
        settle(
            env,
            self.spawn(|d| async move { output(&d.collection_permissions(&id)?) }),
        )
    }

    /// Replaces a collection's world rights (`CollectionRights`).
    #[napi]
    pub fn set_collection_world<'e>(
        &self,
        env: &'e Env,
        id: String,
        world: Value,
    ) -> Result<PromiseRaw<'e, ()>> {
        settle(
            env,
            self.spawn(|d| async move {
                let world: CollectionRights = input(Some(world), "collection rights")?;
                d.set_collection_world(&id, world).await
            }),
        )
    }

    /// Sets a user's rights on a collection (`CollectionRights`), or removes them (`null`).
    #[napi]
    pub fn set_collection_user<'e>(
        &self,
        env: &'e Env,
        id: String,
        user: Value,
        rights: Option<Value>,
    ) -> Result<PromiseRaw<'e, ()>> {
        settle(
            env,
            self.spawn(|d| async move {
                let user: UserId = input(Some(user), "user id")?;
                let rights = match rights {
                    Some(r) => Some(input::<CollectionRights>(Some(r), "collection rights")?),
                    None => None,
                };
                d.set_collection_user(&id, &user, rights).await
            }),
        )
    }

    /// Moves the domain `"online"`, into `"maintenance"` or `"offline"`.
    #[napi]
    pub fn set_state<'e>(&self, env: &'e Env, state: String) -> Result<PromiseRaw<'e, ()>> {
        settle(
            env,
            self.spawn(|d| async move {
                let state: DomainState = input(Some(Value::String(state)), "domain state")?;
                d.set_state(state).await
            }),
        )
    }

    /// A JWT that logs `username` in as a convergence user for `ttl_secs`, signed with the
    /// domain's admin key.
    #[napi]
    pub fn admin_token<'e>(
        &self,
        env: &'e Env,
        username: String,
        ttl_secs: i64,
    ) -> Result<PromiseRaw<'e, String>> {
        settle(
            env,
            self.spawn(move |d| async move {
                d.admin_token(&username, unsigned(ttl_secs, "ttlSecs")?)
                    .await
            }),
        )
    }

    /// The generic permission rows of a `Target` (`TargetPermissions`).
    #[napi]
    pub fn permissions<'e>(&self, env: &'e Env, target: Value) -> Result<PromiseRaw<'e, Value>> {
        settle(
            env,
            self.spawn(|d| async move {
                let target: Target = input(Some(target), "permission target")?;
                output(&d.permissions(&target)?)
            }),
        )
    }

    /// Adds, removes or replaces a target's rows (`PermissionChange`).
    #[napi]
    pub fn change_permissions<'e>(
        &self,
        env: &'e Env,
        target: Value,
        change: Value,
    ) -> Result<PromiseRaw<'e, ()>> {
        settle(
            env,
            self.spawn(|d| async move {
                let target: Target = input(Some(target), "permission target")?;
                let change: PermissionChange = input(Some(change), "permission change")?;
                d.change_permissions(&target, &change).await
            }),
        )
    }

    /// The permission strings a user holds on a target.
    #[napi]
    pub fn resolve_permissions<'e>(
        &self,
        env: &'e Env,
        target: Value,
        user: Value,
    ) -> Result<PromiseRaw<'e, Vec<String>>> {
        settle(
            env,
            self.spawn(|d| async move {
                let target: Target = input(Some(target), "permission target")?;
                d.resolve_permissions(&target, &input(Some(user), "user id")?)
            }),
        )
    }
}

#[napi]
impl NativeModel {
    /// The model's stored permissions (`ModelPermissions`).
    #[napi]
    pub fn permissions<'e>(&self, env: &'e Env) -> Result<PromiseRaw<'e, Value>> {
        settle(
            env,
            self.spawn(|m| async move { output(&m.permissions()?) }),
        )
    }

    /// Changes the model's permissions (`ModelPermissionsChange`).
    #[napi]
    pub fn set_permissions<'e>(&self, env: &'e Env, change: Value) -> Result<PromiseRaw<'e, ()>> {
        settle(
            env,
            self.spawn(|m| async move {
                let change: ModelPermissionsChange = input(Some(change), "permissions change")?;
                m.set_permissions(change).await
            }),
        )
    }

    /// What a user may do with the model (`ModelRights`).
    #[napi]
    pub fn rights_of<'e>(&self, env: &'e Env, user: Value) -> Result<PromiseRaw<'e, Value>> {
        settle(
            env,
            self.spawn(|m| async move { output(&m.rights_of(&input(Some(user), "user id")?)?) }),
        )
    }
}
