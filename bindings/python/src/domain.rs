//! `Domain`: settings, collections, models, users, JWT keys, groups and permissions of one
//! domain. Rights and permission rows are dicts in the facade's serde forms, with (user,
//! rights) pairs as tuples.

use std::future::Future;
use std::sync::Arc;

use pyo3::prelude::*;
use tandem::api::{
    CollectionRights, DomainSettings, DomainState, ErrorCode, HostedEngine, JwtKey, NewUser,
    PermissionChange, Target, TargetPermissions, UserId, UserProfile,
};

use crate::aio::{awaitable, OnCancel};
use crate::convert::{input, input_or_default, output, output_pairs, outputs, to_json};
use crate::errors::{raise, OrRaise};
use crate::model::Model;
use crate::subscription::Subscription;

/// A handle on one domain. It holds no engine resources: after the engine's shutdown its
/// calls raise `UnavailableError` and the data directory is released.
#[pyclass(frozen, module = "tandem")]
#[derive(Clone)]
pub struct Domain {
    hosted: Arc<HostedEngine>,
    namespace: String,
    id: String,
}

pub(crate) fn none(py: Python<'_>, _: ()) -> PyResult<Bound<'_, PyAny>> {
    Ok(py.None().into_bound(py))
}

fn arg<T: serde::de::DeserializeOwned>(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<T> {
    input(obj, what, ErrorCode::InvalidArgument)
}

/// A user's collection rights, `None` to remove the entry.
fn opt_rights(rights: Option<&Bound<'_, PyAny>>) -> PyResult<Option<CollectionRights>> {
    rights
        .filter(|r| !r.is_none())
        .map(|r| arg(r, "collection rights"))
        .transpose()
}

/// An activity's permission rows, none for `None`.
fn activity_rows(rows: Option<&Bound<'_, PyAny>>) -> PyResult<TargetPermissions> {
    input_or_default(rows, "activity permissions", ErrorCode::InvalidArgument)
}

/// A domain state from its name (`"online"`, `"maintenance"`, `"offline"`).
fn state(name: &str) -> PyResult<DomainState> {
    serde_json::from_value(name.into()).map_err(|e| {
        raise(tandem::api::Error::new(
            ErrorCode::InvalidArgument,
            format!("invalid domain state: {e}"),
        ))
    })
}

impl Domain {
    /// A handle on the domain `namespace`/`id` of `hosted`.
    pub fn new(hosted: Arc<HostedEngine>, namespace: &str, id: &str) -> Self {
        Domain {
            hosted,
            namespace: namespace.to_string(),
            id: id.to_string(),
        }
    }

    /// The facade's handle.
    pub fn get(&self) -> PyResult<tandem::api::Domain> {
        self.hosted
            .engine()
            .or_raise()?
            .domain(&self.namespace, &self.id)
            .or_raise()
    }

    /// Runs `f(domain)` on the calling thread with the GIL released.
    pub(crate) fn block<T: Send>(
        &self,
        py: Python<'_>,
        f: impl AsyncFnOnce(&tandem::api::Domain) -> tandem::api::Result<T> + Send,
    ) -> PyResult<T> {
        let d = self.get()?;
        py.detach(|| d.engine().block(f(&d))).or_raise()
    }

    /// Starts `f(domain)` on the engine and returns an asyncio future of its converted result.
    pub(crate) fn spawn<'py, T, F>(
        &self,
        py: Python<'py>,
        f: impl FnOnce(tandem::api::Domain) -> F,
        convert: impl for<'a> FnOnce(Python<'a>, T) -> PyResult<Bound<'a, PyAny>> + Send + 'static,
    ) -> PyResult<Bound<'py, PyAny>>
    where
        T: Send + 'static,
        F: Future<Output = tandem::api::Result<T>> + Send + 'static,
    {
        let d = self.get()?;
        let rt = d.engine().runtime().clone();
        awaitable(py, &rt, OnCancel::Finish, f(d), convert)
    }

    fn model_handle(&self, id: &str) -> Model {
        Model::new(self.clone(), id)
    }
}

#[pymethods]
impl Domain {
    /// The namespace.
    #[getter]
    fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The domain id.
    #[getter]
    fn id(&self) -> &str {
        &self.id
    }

    fn __repr__(&self) -> String {
        format!("Domain({:?}, {:?})", self.namespace, self.id)
    }

    /// The domain's settings as a dict.
    fn settings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        output(py, &self.get()?.settings().or_raise()?)
    }

    /// Replaces the domain's settings (missing fields take their defaults).
    fn set_settings(&self, py: Python<'_>, settings: &Bound<'_, PyAny>) -> PyResult<()> {
        let s: DomainSettings = input(settings, "domain settings", ErrorCode::InvalidArgument)?;
        self.block(py, async move |d| d.set_settings(s).await)
    }

    /// Awaitable [`Domain::set_settings`].
    fn set_settings_async<'py>(
        &self,
        py: Python<'py>,
        settings: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let s: DomainSettings = input(settings, "domain settings", ErrorCode::InvalidArgument)?;
        self.spawn(py, move |d| async move { d.set_settings(s).await }, none)
    }

    /// Allows or refuses anonymous logins.
    fn set_anonymous_auth(&self, py: Python<'_>, allowed: bool) -> PyResult<()> {
        self.block(py, async move |d| d.set_anonymous_auth(allowed).await)
    }

    /// Awaitable [`Domain::set_anonymous_auth`].
    fn set_anonymous_auth_async<'py>(
        &self,
        py: Python<'py>,
        allowed: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.spawn(
            py,
            move |d| async move { d.set_anonymous_auth(allowed).await },
            none,
        )
    }

    /// Creates a collection (no-op if it exists).
    fn create_collection(&self, py: Python<'_>, id: &str) -> PyResult<()> {
        self.block(py, async move |d| d.create_collection(id).await)
    }

    /// Awaitable [`Domain::create_collection`].
    fn create_collection_async<'py>(
        &self,
        py: Python<'py>,
        id: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.spawn(
            py,
            move |d| async move { d.create_collection(&id).await },
            none,
        )
    }

    /// Ids of the domain's collections.
    fn collections(&self) -> PyResult<Vec<String>> {
        self.get()?.collections().or_raise()
    }

    /// Deletes a collection and its models.
    fn delete_collection(&self, py: Python<'_>, id: &str) -> PyResult<()> {
        self.block(py, async move |d| d.delete_collection(id).await)
    }

    /// Awaitable [`Domain::delete_collection`].
    fn delete_collection_async<'py>(
        &self,
        py: Python<'py>,
        id: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.spawn(
            py,
            move |d| async move { d.delete_collection(&id).await },
            none,
        )
    }

    /// Creates a model from a dict in `collection`, with the given id or a new UUID.
    #[pyo3(signature = (collection, data, id=None))]
    fn create_model(
        &self,
        py: Python<'_>,
        collection: &str,
        data: &Bound<'_, PyAny>,
        id: Option<&str>,
    ) -> PyResult<Model> {
        let data = to_json(data)?;
        let m = self.block(py, async move |d| {
            d.create_model_json(collection, id, &data).await
        })?;
        Ok(self.model_handle(m.id()))
    }

    /// Awaitable [`Domain::create_model`].
    #[pyo3(signature = (collection, data, id=None))]
    fn create_model_async<'py>(
        &self,
        py: Python<'py>,
        collection: String,
        data: &Bound<'py, PyAny>,
        id: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let data = to_json(data)?;
        let this = self.clone();
        self.spawn(
            py,
            move |d| async move {
                let m = d
                    .create_model_json(&collection, id.as_deref(), &data)
                    .await?;
                Ok(m.id().to_string())
            },
            move |py, id| Ok(Bound::new(py, this.model_handle(&id))?.into_any()),
        )
    }

    /// Metadata of the domain's models, or of one collection's.
    #[pyo3(signature = (collection=None))]
    fn models<'py>(
        &self,
        py: Python<'py>,
        collection: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        outputs(py, &self.get()?.models(collection).or_raise()?)
    }

    /// A handle on an existing model (`NotFoundError` if there is none).
    fn model(&self, id: &str) -> PyResult<Model> {
        self.get()?.model(id).or_raise()?;
        Ok(self.model_handle(id))
    }

    /// Creates a normal user from a dict (`username`, optional `password`, `display_name`,
    /// `first_name`, `last_name`, `email`); returns the user.
    fn create_user<'py>(
        &self,
        py: Python<'py>,
        user: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let user: NewUser = input(user, "user", ErrorCode::InvalidArgument)?;
        output(
            py,
            &self.block(py, async move |d| d.create_user(user).await)?,
        )
    }

    /// Awaitable [`Domain::create_user`].
    fn create_user_async<'py>(
        &self,
        py: Python<'py>,
        user: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let user: NewUser = input(user, "user", ErrorCode::InvalidArgument)?;
        self.spawn(
            py,
            move |d| async move { d.create_user(user).await },
            |py, u| output(py, &u),
        )
    }

    /// Replaces a normal user's password.
    fn set_password(&self, py: Python<'_>, username: &str, password: &str) -> PyResult<()> {
        self.block(py, async move |d| d.set_password(username, password).await)
    }

    /// Awaitable [`Domain::set_password`].
    fn set_password_async<'py>(
        &self,
        py: Python<'py>,
        username: String,
        password: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.spawn(
            py,
            move |d| async move { d.set_password(&username, &password).await },
            none,
        )
    }

    /// The domain's normal users, ordered by username.
    fn users<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        outputs(py, &self.get()?.users().or_raise()?)
    }

    /// Deletes a normal user and revokes its reconnect tokens.
    fn delete_user(&self, py: Python<'_>, username: &str) -> PyResult<()> {
        self.block(py, async move |d| d.delete_user(username).await)
    }

    /// Awaitable [`Domain::delete_user`].
    fn delete_user_async<'py>(
        &self,
        py: Python<'py>,
        username: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.spawn(
            py,
            move |d| async move { d.delete_user(&username).await },
            none,
        )
    }

    /// Adds a key verifying JWT logins (`id`, `public_key_pem`, optional `description`,
    /// `enabled`); returns the stored key.
    fn add_jwt_key<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let key: JwtKey = input(key, "JWT key", ErrorCode::InvalidArgument)?;
        output(
            py,
            &self.block(py, async move |d| d.add_jwt_key(key).await)?,
        )
    }

    /// Awaitable [`Domain::add_jwt_key`].
    fn add_jwt_key_async<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let key: JwtKey = input(key, "JWT key", ErrorCode::InvalidArgument)?;
        self.spawn(
            py,
            move |d| async move { d.add_jwt_key(key).await },
            |py, k| output(py, &k),
        )
    }

    /// The domain's JWT keys, ordered by id.
    fn jwt_keys<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        outputs(py, &self.get()?.jwt_keys().or_raise()?)
    }

    /// Removes a JWT key.
    fn remove_jwt_key(&self, py: Python<'_>, id: &str) -> PyResult<()> {
        self.block(py, async move |d| d.remove_jwt_key(id).await)
    }

    /// Awaitable [`Domain::remove_jwt_key`].
    fn remove_jwt_key_async<'py>(
        &self,
        py: Python<'py>,
        id: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.spawn(
            py,
            move |d| async move { d.remove_jwt_key(&id).await },
            none,
        )
    }

    /// A normal user (`NotFoundError` if there is none).
    fn user<'py>(&self, py: Python<'py>, username: &str) -> PyResult<Bound<'py, PyAny>> {
        output(py, &self.get()?.user(username).or_raise()?)
    }

    /// Changes a normal user's profile (`display_name`, `first_name`, `last_name`, `email`;
    /// keys given replace the stored values); returns the user.
    fn update_user<'py>(
        &self,
        py: Python<'py>,
        username: &str,
        profile: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let profile: UserProfile = arg(profile, "user profile")?;
        let user = self.block(py, async move |d| d.update_user(username, profile).await)?;
        output(py, &user)
    }

    /// Awaitable [`Domain::update_user`].
    fn update_user_async<'py>(
        &self,
        py: Python<'py>,
        username: String,
        profile: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let profile: UserProfile = arg(profile, "user profile")?;
        self.spawn(
            py,
            move |d| async move { d.update_user(&username, profile).await },
            |py, u| output(py, &u),
        )
    }

    /// Disables (or enables again) a normal user: a disabled user cannot log in.
    fn set_user_disabled(&self, py: Python<'_>, username: &str, disabled: bool) -> PyResult<()> {
        self.block(py, async move |d| {
            d.set_user_disabled(username, disabled).await
        })
    }

    /// Awaitable [`Domain::set_user_disabled`].
    fn set_user_disabled_async<'py>(
        &self,
        py: Python<'py>,
        username: String,
        disabled: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.spawn(
            py,
            move |d| async move { d.set_user_disabled(&username, disabled).await },
            none,
        )
    }

    /// Creates a group; returns it (`id`, `description`, `members`).
    #[pyo3(signature = (id, description=""))]
    fn create_group<'py>(
        &self,
        py: Python<'py>,
        id: &str,
        description: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let group = self.block(py, async move |d| d.create_group(id, description).await)?;
        output(py, &group)
    }

    /// Awaitable [`Domain::create_group`].
    #[pyo3(signature = (id, description=String::new()))]
    fn create_group_async<'py>(
        &self,
        py: Python<'py>,
        id: String,
        description: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.spawn(
            py,
            move |d| async move { d.create_group(&id, &description).await },
            |py, g| output(py, &g),
        )
    }

    /// Changes a group's description.
    fn set_group_description(&self, py: Python<'_>, id: &str, description: &str) -> PyResult<()> {
        self.block(py, async move |d| {
            d.set_group_description(id, description).await
        })
    }

    /// Awaitable [`Domain::set_group_description`].
    fn set_group_description_async<'py>(
        &self,
        py: Python<'py>,
        id: String,
        description: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.spawn(
            py,
            move |d| async move { d.set_group_description(&id, &description).await },
            none,
        )
    }

    /// Deletes a group (its memberships and the permissions granted to it go too).
    fn delete_group(&self, py: Python<'_>, id: &str) -> PyResult<()> {
        self.block(py, async move |d| d.delete_group(id).await)
    }

    /// Awaitable [`Domain::delete_group`].
    fn delete_group_async<'py>(&self, py: Python<'py>, id: String) -> PyResult<Bound<'py, PyAny>> {
        self.spawn(py, move |d| async move { d.delete_group(&id).await }, none)
    }

    /// A group with its members.
    fn group<'py>(&self, py: Python<'py>, id: &str) -> PyResult<Bound<'py, PyAny>> {
        output(py, &self.get()?.group(id).or_raise()?)
    }

    /// Every group, ordered by id, with its members.
    fn groups<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        outputs(py, &self.get()?.groups().or_raise()?)
    }

    /// The presence of each user (a list of `{"kind", "name"}`), in the order given:
    /// `{"user", "available", "state"}` dicts.
    fn presence<'py>(
        &self,
        py: Python<'py>,
        users: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let users: Vec<UserId> = arg(users, "user ids")?;
        let found = self.block(py, async move |d| d.presence(&users).await)?;
        outputs(py, &found)
    }

    /// Awaitable [`Domain::presence`].
    fn presence_async<'py>(
        &self,
        py: Python<'py>,
        users: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let users: Vec<UserId> = arg(users, "user ids")?;
        self.spawn(
            py,
            move |d| async move { d.presence(&users).await },
            |py, found| outputs(py, &found),
        )
    }

    /// Makes a user (`{"kind": "normal", "name": "bob"}`) a member of a group.
    fn add_group_member(
        &self,
        py: Python<'_>,
        group: &str,
        user: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let user: UserId = arg(user, "user id")?;
        self.block(py, async move |d| d.add_group_member(group, &user).await)
    }

    /// Awaitable [`Domain::add_group_member`].
    fn add_group_member_async<'py>(
        &self,
        py: Python<'py>,
        group: String,
        user: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let user: UserId = arg(user, "user id")?;
        self.spawn(
            py,
            move |d| async move { d.add_group_member(&group, &user).await },
            none,
        )
    }

    /// Removes a user from a group.
    fn remove_group_member(
        &self,
        py: Python<'_>,
        group: &str,
        user: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let user: UserId = arg(user, "user id")?;
        self.block(py, async move |d| d.remove_group_member(group, &user).await)
    }

    /// Awaitable [`Domain::remove_group_member`].
    fn remove_group_member_async<'py>(
        &self,
        py: Python<'py>,
        group: String,
        user: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let user: UserId = arg(user, "user id")?;
        self.spawn(
            py,
            move |d| async move { d.remove_group_member(&group, &user).await },
            none,
        )
    }

    /// The ids of the groups a user is a member of.
    fn user_groups(&self, user: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
        let user: UserId = arg(user, "user id")?;
        self.get()?.user_groups(&user).or_raise()
    }

    /// A collection's `world` rights and its `users` as (user, rights) tuples.
    fn collection_permissions<'py>(
        &self,
        py: Python<'py>,
        id: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let perms = self.get()?.collection_permissions(id).or_raise()?;
        output_pairs(py, &perms, &["users"])
    }

    /// Replaces what everyone may do with a collection's models (`{"create", "read",
    /// "write", "remove", "manage"}`, absent keys false).
    fn set_collection_world(
        &self,
        py: Python<'_>,
        id: &str,
        world: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let world: CollectionRights = arg(world, "collection rights")?;
        self.block(py, async move |d| d.set_collection_world(id, world).await)
    }

    /// Awaitable [`Domain::set_collection_world`].
    fn set_collection_world_async<'py>(
        &self,
        py: Python<'py>,
        id: String,
        world: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let world: CollectionRights = arg(world, "collection rights")?;
        self.spawn(
            py,
            move |d| async move { d.set_collection_world(&id, world).await },
            none,
        )
    }

    /// Sets a user's rights on a collection, or removes its entry when `rights` is `None`.
    fn set_collection_user(
        &self,
        py: Python<'_>,
        id: &str,
        user: &Bound<'_, PyAny>,
        rights: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let (user, rights): (UserId, _) = (arg(user, "user id")?, opt_rights(rights)?);
        self.block(py, async move |d| {
            d.set_collection_user(id, &user, rights).await
        })
    }

    /// Awaitable [`Domain::set_collection_user`].
    fn set_collection_user_async<'py>(
        &self,
        py: Python<'py>,
        id: String,
        user: &Bound<'py, PyAny>,
        rights: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (user, rights): (UserId, _) = (arg(user, "user id")?, opt_rights(rights)?);
        self.spawn(
            py,
            move |d| async move { d.set_collection_user(&id, &user, rights).await },
            none,
        )
    }

    /// Moves the domain `"online"`, into `"maintenance"` (only admin-key logins) or
    /// `"offline"`.
    fn set_state(&self, py: Python<'_>, state: &str) -> PyResult<()> {
        let s = self::state(state)?;
        self.block(py, async move |d| d.set_state(s).await)
    }

    /// Awaitable [`Domain::set_state`].
    fn set_state_async<'py>(&self, py: Python<'py>, state: &str) -> PyResult<Bound<'py, PyAny>> {
        let s = self::state(state)?;
        self.spawn(py, move |d| async move { d.set_state(s).await }, none)
    }

    /// A JWT that logs `username` in as a convergence user (every permission) for
    /// `ttl_secs`, signed with the domain's admin key.
    fn admin_token(&self, py: Python<'_>, username: &str, ttl_secs: u64) -> PyResult<String> {
        self.block(py, async move |d| d.admin_token(username, ttl_secs).await)
    }

    /// Awaitable [`Domain::admin_token`].
    fn admin_token_async<'py>(
        &self,
        py: Python<'py>,
        username: String,
        ttl_secs: u64,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.spawn(
            py,
            move |d| async move { d.admin_token(&username, ttl_secs).await },
            |py, token| Ok(pyo3::types::PyString::new(py, &token).into_any()),
        )
    }

    /// The generic permission rows of a target (`{"kind": "global"}`, `{"kind": "chat",
    /// "id": ...}` or `{"kind": "activity", "type": ..., "id": ...}`): `world`, and `users`
    /// and `groups` as tuples.
    fn permissions<'py>(
        &self,
        py: Python<'py>,
        target: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let target: Target = arg(target, "permission target")?;
        let rows = self.get()?.permissions(&target).or_raise()?;
        output_pairs(py, &rows, &["users", "groups"])
    }

    /// Adds, removes or replaces a target's rows: `{"add": rows}`, `{"remove": rows}` or
    /// `{"set": {"world", "users", "replace_users", "groups", "replace_groups"}}`.
    fn change_permissions(
        &self,
        py: Python<'_>,
        target: &Bound<'_, PyAny>,
        change: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let target: Target = arg(target, "permission target")?;
        let change: PermissionChange = arg(change, "permission change")?;
        self.block(py, async move |d| {
            d.change_permissions(&target, &change).await
        })
    }

    /// Awaitable [`Domain::change_permissions`].
    fn change_permissions_async<'py>(
        &self,
        py: Python<'py>,
        target: &Bound<'py, PyAny>,
        change: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let target: Target = arg(target, "permission target")?;
        let change: PermissionChange = arg(change, "permission change")?;
        self.spawn(
            py,
            move |d| async move { d.change_permissions(&target, &change).await },
            none,
        )
    }

    /// The permission strings a user holds on a target (its rows, its groups', the world
    /// row and global rows), sorted.
    fn resolve_permissions(
        &self,
        target: &Bound<'_, PyAny>,
        user: &Bound<'_, PyAny>,
    ) -> PyResult<Vec<String>> {
        let (target, user): (Target, UserId) =
            (arg(target, "permission target")?, arg(user, "user id")?);
        self.get()?.resolve_permissions(&target, &user).or_raise()
    }

    /// Creates a persistent activity with exactly these permission rows (`{"world",
    /// "users", "groups"}` of `join`, `lurk`, `view_state`, `set_state`, `remove`, `manage`;
    /// none when `None`). `AlreadyExistsError` if it exists.
    #[pyo3(signature = (activity_type, id, permissions=None))]
    fn create_activity(
        &self,
        py: Python<'_>,
        activity_type: &str,
        id: &str,
        permissions: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let rows: TargetPermissions = activity_rows(permissions)?;
        self.block(py, async move |d| {
            d.create_activity(activity_type, id, rows).await
        })
    }

    /// Awaitable [`Domain::create_activity`].
    #[pyo3(signature = (activity_type, id, permissions=None))]
    fn create_activity_async<'py>(
        &self,
        py: Python<'py>,
        activity_type: String,
        id: String,
        permissions: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let rows: TargetPermissions = activity_rows(permissions)?;
        self.spawn(
            py,
            move |d| async move { d.create_activity(&activity_type, &id, rows).await },
            none,
        )
    }

    /// Deletes an activity; its participants are told and leave. `NotFoundError` if there is
    /// none.
    fn delete_activity(&self, py: Python<'_>, activity_type: &str, id: &str) -> PyResult<()> {
        self.block(py, async move |d| {
            d.delete_activity(activity_type, id).await
        })
    }

    /// Awaitable [`Domain::delete_activity`].
    fn delete_activity_async<'py>(
        &self,
        py: Python<'py>,
        activity_type: String,
        id: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.spawn(
            py,
            move |d| async move { d.delete_activity(&activity_type, &id).await },
            none,
        )
    }

    /// Whether an activity exists.
    fn activity_exists(&self, activity_type: &str, id: &str) -> PyResult<bool> {
        self.get()?.activity_exists(activity_type, id).or_raise()
    }

    /// The visible participants of an activity, in the order they joined: `{"session",
    /// "user", "state"}` dicts. Joins, leaves and state changes arrive as `activity_changed`
    /// events. `NotFoundError` if there is no such activity.
    fn activity_participants<'py>(
        &self,
        py: Python<'py>,
        activity_type: &str,
        id: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let found = self.block(py, async move |d| {
            d.activity_participants(activity_type, id).await
        })?;
        outputs(py, &found)
    }

    /// Awaitable [`Domain::activity_participants`].
    fn activity_participants_async<'py>(
        &self,
        py: Python<'py>,
        activity_type: String,
        id: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.spawn(
            py,
            move |d| async move { d.activity_participants(&activity_type, &id).await },
            |py, found| outputs(py, &found),
        )
    }

    /// The domain's stored activities, ordered by type then id: `{"activity_type", "id",
    /// "created_ms", "ephemeral"}` dicts.
    fn activities<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        outputs(py, &self.get()?.activities().or_raise()?)
    }

    /// The events of this domain (its models' and its sessions').
    fn subscribe(&self) -> PyResult<Subscription> {
        let d = self.get()?;
        Ok(Subscription::new(
            d.subscribe(),
            d.engine().runtime().clone(),
        ))
    }
}
