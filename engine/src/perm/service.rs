//! Reading and changing permission rows, and resolving an actor's rights from them.

use std::collections::BTreeSet;
use std::sync::Arc;

use thiserror::Error;

use super::rights::{may_create, resolve, CollectionRights, ModelAcl, ModelRights};
use super::Actor;
use crate::store::{
    DomainKey, Grantee, GranteeKind, PermissionTarget, Store, StoreError, UserId, WriteOp,
    OVERRIDE_MARKER,
};

/// Why a permission request failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PermissionError {
    /// A permission string that does not exist for the target kind.
    #[error("unknown permission {0:?}")]
    Unknown(String),
    /// A user or group named in the change does not exist.
    #[error("{0} not found")]
    GranteeNotFound(String),
    /// The store failed.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

/// What an actor holds through one collection (see [`Permissions::collection_access`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CollectionAccess {
    /// The host or a convergence user: every right on every model.
    All,
    /// A user whose rights the model's rows and these decide.
    User {
        /// The user as permission rows name it.
        grantee: Grantee,
        /// The user's own entry on the collection.
        collection_user: Option<CollectionRights>,
        /// The collection's world permissions.
        collection_world: CollectionRights,
    },
}

/// A model's stored permissions.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelPermissions {
    /// Whether the model's world permissions override its collection's.
    pub override_world: bool,
    /// The model's own world permissions.
    pub world: ModelRights,
    /// Explicit per-user entries, ordered by user.
    pub users: Vec<(UserId, ModelRights)>,
}

/// A change to a model's permissions; absent parts stay as they are.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelPermissionsChange {
    /// New override flag.
    pub override_world: Option<bool>,
    /// New world permissions.
    pub world: Option<ModelRights>,
    /// Remove every user entry before applying `set_users`.
    pub replace_users: bool,
    /// User entries to set.
    pub set_users: Vec<(UserId, ModelRights)>,
    /// User entries to remove.
    pub remove_users: Vec<UserId>,
}

/// A collection's stored permissions.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CollectionPermissions {
    /// What everyone holds on it.
    pub world: CollectionRights,
    /// Explicit per-user entries, ordered by user.
    pub users: Vec<(UserId, CollectionRights)>,
}

/// A chat's, an activity's or the domain's permission rows.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TargetPermissions {
    /// What everyone holds.
    pub world: Vec<String>,
    /// Per-user rows, ordered by user.
    pub users: Vec<(UserId, Vec<String>)>,
    /// Per-group rows, ordered by group id.
    pub groups: Vec<(String, Vec<String>)>,
}

/// A change to a target's generic permission rows.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum PermissionChange {
    /// Add these strings to the grantees' rows.
    Add(TargetPermissions),
    /// Remove these strings from the grantees' rows.
    Remove(TargetPermissions),
    /// Replace: the world row if given; the listed user (group) rows, after removing every
    /// user (group) row when `replace_users` (`replace_groups`).
    Set {
        /// The new world row.
        #[serde(default)]
        world: Option<Vec<String>>,
        /// User rows to set.
        #[serde(default)]
        users: Vec<(UserId, Vec<String>)>,
        /// Remove every other user row first.
        #[serde(default)]
        replace_users: bool,
        /// Group rows to set.
        #[serde(default)]
        groups: Vec<(String, Vec<String>)>,
        /// Remove every other group row first.
        #[serde(default)]
        replace_groups: bool,
    },
}

/// Permission rows of a store, and resolution over them. Changes are serialised (one at a
/// time per engine), so that a read-modify-write of a row never loses a concurrent change.
pub struct Permissions {
    store: Arc<dyn Store>,
    writes: tokio::sync::Mutex<()>,
}

fn model_target(model: &str) -> PermissionTarget {
    PermissionTarget::Model(model.to_string())
}

fn collection_target(collection: &str) -> PermissionTarget {
    PermissionTarget::Collection(collection.to_string())
}

fn user_grantee(u: &UserId) -> Grantee {
    Grantee::User(u.kind, u.name.clone())
}

impl Permissions {
    /// Rows kept in `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Permissions {
            store,
            writes: tokio::sync::Mutex::new(()),
        }
    }

    fn row(
        &self,
        domain: &DomainKey,
        target: &PermissionTarget,
        grantee: &Grantee,
    ) -> Result<Option<Vec<String>>, StoreError> {
        let row = self.store.permission(domain, target, grantee)?;
        Ok((!row.is_empty()).then_some(row))
    }

    /// What decides `user`'s rights on `model` (in `collection`).
    pub fn model_acl(
        &self,
        domain: &DomainKey,
        model: &str,
        collection: &str,
        user: &UserId,
    ) -> Result<ModelAcl, StoreError> {
        let convergence = Actor::User(user.clone()).is_privileged();
        if convergence {
            return Ok(ModelAcl {
                convergence,
                ..ModelAcl::default()
            });
        }
        let grantee = user_grantee(user);
        let model_user = self
            .row(domain, &model_target(model), &grantee)?
            .map(|r| ModelRights::from_strings(&r));
        let collection_user = self
            .row(domain, &collection_target(collection), &grantee)?
            .map(|r| CollectionRights::from_strings(&r));
        let world = self
            .store
            .permission(domain, &model_target(model), &Grantee::World)?;
        Ok(ModelAcl {
            convergence,
            model_user,
            collection_user,
            override_world: world.iter().any(|p| p == OVERRIDE_MARKER),
            model_world: ModelRights::from_strings(&world),
            collection_world: self.collection_world(domain, collection)?,
        })
    }

    /// What `actor` holds through `collection`, read once to resolve its rights on many of
    /// the collection's models with [`Permissions::model_rights_in`].
    pub fn collection_access(
        &self,
        domain: &DomainKey,
        collection: &str,
        actor: &Actor,
    ) -> Result<CollectionAccess, StoreError> {
        let user = match actor {
            Actor::User(u) if !actor.is_privileged() => u.clone(),
            _ => return Ok(CollectionAccess::All),
        };
        let collection_user = self
            .row(domain, &collection_target(collection), &user_grantee(&user))?
            .map(|r| CollectionRights::from_strings(&r));
        Ok(CollectionAccess::User {
            grantee: user_grantee(&user),
            collection_user,
            collection_world: self.collection_world(domain, collection)?,
        })
    }

    /// The rights on `model`, one of the models of the collection `access` was read for: the
    /// same as [`Permissions::model_rights`], with at most two reads.
    pub fn model_rights_in(
        &self,
        domain: &DomainKey,
        model: &str,
        access: &CollectionAccess,
    ) -> Result<ModelRights, StoreError> {
        let CollectionAccess::User {
            grantee,
            collection_user,
            collection_world,
        } = access
        else {
            return Ok(ModelRights::ALL);
        };
        let target = model_target(model);
        if let Some(own) = self.row(domain, &target, grantee)? {
            return Ok(ModelRights::from_strings(&own));
        }
        if let Some(c) = collection_user {
            return Ok(c.model());
        }
        let world = self.store.permission(domain, &target, &Grantee::World)?;
        Ok(if world.iter().any(|p| p == OVERRIDE_MARKER) {
            ModelRights::from_strings(&world)
        } else {
            collection_world.model()
        })
    }

    /// `actor`'s rights on `model` (in `collection`).
    pub fn model_rights(
        &self,
        domain: &DomainKey,
        model: &str,
        collection: &str,
        actor: &Actor,
    ) -> Result<ModelRights, StoreError> {
        match actor {
            Actor::Host => Ok(ModelRights::ALL),
            Actor::User(u) => Ok(resolve(&self.model_acl(domain, model, collection, u)?)),
        }
    }

    /// What everyone holds on a collection.
    pub fn collection_world(
        &self,
        domain: &DomainKey,
        collection: &str,
    ) -> Result<CollectionRights, StoreError> {
        let row = self
            .store
            .permission(domain, &collection_target(collection), &Grantee::World)?;
        Ok(CollectionRights::from_strings(&row))
    }

    /// Whether `actor` may create a model in the existing `collection`.
    pub fn may_create(
        &self,
        domain: &DomainKey,
        collection: &str,
        actor: &Actor,
    ) -> Result<bool, StoreError> {
        let Actor::User(u) = actor else {
            return Ok(true);
        };
        let own = self
            .row(domain, &collection_target(collection), &user_grantee(u))?
            .map(|r| CollectionRights::from_strings(&r));
        Ok(may_create(
            actor.is_privileged(),
            own,
            self.collection_world(domain, collection)?,
        ))
    }

    /// A model's stored permissions.
    pub fn model_permissions(
        &self,
        domain: &DomainKey,
        model: &str,
    ) -> Result<ModelPermissions, StoreError> {
        let mut out = ModelPermissions::default();
        for row in self.store.permissions(domain, &model_target(model))? {
            match row.grantee {
                Grantee::World => {
                    out.override_world = row.permissions.iter().any(|p| p == OVERRIDE_MARKER);
                    out.world = ModelRights::from_strings(&row.permissions);
                }
                Grantee::User(kind, name) => out.users.push((
                    UserId::new(kind, name),
                    ModelRights::from_strings(&row.permissions),
                )),
                Grantee::Group(_) => {}
            }
        }
        Ok(out)
    }

    /// A collection's stored permissions.
    pub fn collection_permissions(
        &self,
        domain: &DomainKey,
        collection: &str,
    ) -> Result<CollectionPermissions, StoreError> {
        let mut out = CollectionPermissions::default();
        for row in self
            .store
            .permissions(domain, &collection_target(collection))?
        {
            let rights = CollectionRights::from_strings(&row.permissions);
            match row.grantee {
                Grantee::World => out.world = rights,
                Grantee::User(kind, name) => out.users.push((UserId::new(kind, name), rights)),
                Grantee::Group(_) => {}
            }
        }
        Ok(out)
    }

    /// Refuses grantees that do not exist.
    fn check_users<'a>(
        &self,
        domain: &DomainKey,
        users: impl IntoIterator<Item = &'a UserId>,
    ) -> Result<(), PermissionError> {
        for u in users {
            if self.store.user(domain, u.kind, &u.name)?.is_none() {
                return Err(PermissionError::GranteeNotFound(format!("user {u}")));
            }
        }
        Ok(())
    }

    async fn commit(&self, batch: Vec<WriteOp>) -> Result<(), PermissionError> {
        if batch.is_empty() {
            return Ok(());
        }
        self.store
            .commit(batch)
            .await
            .map_err(PermissionError::Store)
    }

    /// Applies a change to a model's permissions (every user named must exist).
    pub async fn change_model(
        &self,
        domain: &DomainKey,
        model: &str,
        change: &ModelPermissionsChange,
    ) -> Result<(), PermissionError> {
        self.check_users(
            domain,
            change
                .set_users
                .iter()
                .map(|(u, _)| u)
                .chain(&change.remove_users),
        )?;
        let _serial = self.writes.lock().await;
        let target = model_target(model);
        let mut batch = Vec::new();
        if change.override_world.is_some() || change.world.is_some() {
            let current = self.model_permissions(domain, model)?;
            let over = change.override_world.unwrap_or(current.override_world);
            let mut row = change.world.unwrap_or(current.world).to_strings();
            if over {
                row.push(OVERRIDE_MARKER.into());
            }
            batch.push(WriteOp::SetPermissions {
                domain: domain.clone(),
                target: target.clone(),
                grantee: Grantee::World,
                permissions: row,
            });
        }
        if change.replace_users {
            batch.push(WriteOp::ClearPermissions {
                domain: domain.clone(),
                target: target.clone(),
                kind: GranteeKind::Users,
            });
        }
        for u in &change.remove_users {
            batch.push(set_row(domain, &target, user_grantee(u), Vec::new()));
        }
        for (u, rights) in &change.set_users {
            // An entry with no right is still an entry: it denies what the world would give.
            let mut row = rights.to_strings();
            if row.is_empty() {
                row.push(NO_RIGHTS.into());
            }
            batch.push(set_row(domain, &target, user_grantee(u), row));
        }
        self.commit(batch).await
    }

    /// Replaces a collection's world permissions and sets or removes user entries (`None`
    /// removes one).
    pub async fn change_collection(
        &self,
        domain: &DomainKey,
        collection: &str,
        world: Option<CollectionRights>,
        users: &[(UserId, Option<CollectionRights>)],
    ) -> Result<(), PermissionError> {
        self.check_users(domain, users.iter().map(|(u, _)| u))?;
        let _serial = self.writes.lock().await;
        let target = collection_target(collection);
        let mut batch = Vec::new();
        if let Some(w) = world {
            let mut row = w.to_strings();
            if row.is_empty() {
                row.push(NO_RIGHTS.into());
            }
            batch.push(set_row(domain, &target, Grantee::World, row));
        }
        for (u, rights) in users {
            let row = match rights {
                None => Vec::new(),
                Some(r) if r.to_strings().is_empty() => vec![NO_RIGHTS.to_string()],
                Some(r) => r.to_strings(),
            };
            batch.push(set_row(domain, &target, user_grantee(u), row));
        }
        self.commit(batch).await
    }

    /// The rows written for a new model: the creator's entry with every right, and the
    /// initial world and user entries the creation asked for.
    pub fn creation_rows(
        domain: &DomainKey,
        model: &str,
        creator: &Actor,
        initial: &ModelPermissionsChange,
    ) -> Vec<WriteOp> {
        let target = model_target(model);
        let mut batch = Vec::new();
        if initial.override_world.unwrap_or(false) || initial.world.is_some() {
            let mut row = initial.world.unwrap_or_default().to_strings();
            if initial.override_world.unwrap_or(false) {
                row.push(OVERRIDE_MARKER.into());
            }
            batch.push(set_row(domain, &target, Grantee::World, row));
        }
        for (u, rights) in &initial.set_users {
            let mut row = rights.to_strings();
            if row.is_empty() {
                row.push(NO_RIGHTS.into());
            }
            batch.push(set_row(domain, &target, user_grantee(u), row));
        }
        if let Actor::User(u) = creator {
            if !creator.is_privileged() {
                batch.push(set_row(
                    domain,
                    &target,
                    user_grantee(u),
                    ModelRights::ALL.to_strings(),
                ));
            }
        }
        batch
    }

    /// The row written for a collection created on demand: its world permissions.
    pub fn collection_creation_row(
        domain: &DomainKey,
        collection: &str,
        world: &[String],
    ) -> WriteOp {
        let mut row = CollectionRights::from_strings(world).to_strings();
        if row.is_empty() {
            row.push(NO_RIGHTS.into());
        }
        set_row(domain, &collection_target(collection), Grantee::World, row)
    }

    /// The permission strings `user` holds on `target`: rows of the target and global rows,
    /// granted to everyone, to the user or to a group it is a member of. Convergence users
    /// hold every string in `all`.
    pub fn resolve(
        &self,
        domain: &DomainKey,
        target: &PermissionTarget,
        user: &UserId,
        all: &[&str],
    ) -> Result<BTreeSet<String>, StoreError> {
        if Actor::User(user.clone()).is_privileged() {
            return Ok(all.iter().map(|s| s.to_string()).collect());
        }
        let groups: BTreeSet<String> = self
            .store
            .user_groups(domain, user.kind, &user.name)?
            .into_iter()
            .collect();
        let grantee = user_grantee(user);
        let mut out = BTreeSet::new();
        for t in [target, &PermissionTarget::Global] {
            for row in self.store.permissions(domain, t)? {
                let applies = match &row.grantee {
                    Grantee::World => true,
                    g @ Grantee::User(..) => *g == grantee,
                    Grantee::Group(id) => groups.contains(id),
                };
                if applies {
                    // Global rows may hold strings of other target kinds (`create_chat`).
                    out.extend(
                        row.permissions
                            .into_iter()
                            .filter(|p| all.contains(&p.as_str())),
                    );
                }
            }
            if *target == PermissionTarget::Global {
                break;
            }
        }
        Ok(out)
    }

    /// A target's rows.
    pub fn target_permissions(
        &self,
        domain: &DomainKey,
        target: &PermissionTarget,
    ) -> Result<TargetPermissions, StoreError> {
        let mut out = TargetPermissions::default();
        for row in self.store.permissions(domain, target)? {
            match row.grantee {
                Grantee::World => out.world = row.permissions,
                Grantee::User(kind, name) => {
                    out.users.push((UserId::new(kind, name), row.permissions))
                }
                Grantee::Group(id) => out.groups.push((id, row.permissions)),
            }
        }
        Ok(out)
    }

    /// Applies a change to a target's generic rows. Every string must be in `allowed`, every
    /// user and group must exist.
    pub async fn change_target(
        &self,
        domain: &DomainKey,
        target: &PermissionTarget,
        change: &PermissionChange,
        allowed: &[&str],
    ) -> Result<(), PermissionError> {
        let (world, users, groups) = match change {
            PermissionChange::Add(p) | PermissionChange::Remove(p) => {
                (Some(&p.world), &p.users, &p.groups)
            }
            PermissionChange::Set {
                world,
                users,
                groups,
                ..
            } => (world.as_ref(), users, groups),
        };
        self.check_rows(domain, world, users, groups, allowed)?;
        let _serial = self.writes.lock().await;
        let batch = self.target_writes(domain, target, change)?;
        self.commit(batch).await
    }

    /// Refuses strings not in `allowed` and users or groups that do not exist.
    fn check_rows(
        &self,
        domain: &DomainKey,
        world: Option<&Vec<String>>,
        users: &[(UserId, Vec<String>)],
        groups: &[(String, Vec<String>)],
        allowed: &[&str],
    ) -> Result<(), PermissionError> {
        let strings = world
            .into_iter()
            .flatten()
            .chain(users.iter().flat_map(|(_, p)| p))
            .chain(groups.iter().flat_map(|(_, p)| p));
        for s in strings {
            if !allowed.contains(&s.as_str()) {
                return Err(PermissionError::Unknown(s.clone()));
            }
        }
        self.check_users(domain, users.iter().map(|(u, _)| u))?;
        for (g, _) in groups {
            if self.store.group(domain, g)?.is_none() {
                return Err(PermissionError::GranteeNotFound(format!("group {g:?}")));
            }
        }
        Ok(())
    }

    /// The writes that give a new target exactly `rows`, replacing whatever rows it had
    /// (checked as a change is).
    pub fn initial_target_writes(
        &self,
        domain: &DomainKey,
        target: &PermissionTarget,
        rows: &TargetPermissions,
        allowed: &[&str],
    ) -> Result<Vec<WriteOp>, PermissionError> {
        self.check_rows(
            domain,
            Some(&rows.world),
            &rows.users,
            &rows.groups,
            allowed,
        )?;
        let mut batch = vec![WriteOp::ClearPermissions {
            domain: domain.clone(),
            target: target.clone(),
            kind: GranteeKind::All,
        }];
        if !rows.world.is_empty() {
            batch.push(set_row(domain, target, Grantee::World, rows.world.clone()));
        }
        for (u, p) in &rows.users {
            batch.push(set_row(domain, target, user_grantee(u), p.clone()));
        }
        for (g, p) in &rows.groups {
            batch.push(set_row(
                domain,
                target,
                Grantee::Group(g.clone()),
                p.clone(),
            ));
        }
        Ok(batch)
    }

    fn target_writes(
        &self,
        domain: &DomainKey,
        target: &PermissionTarget,
        change: &PermissionChange,
    ) -> Result<Vec<WriteOp>, StoreError> {
        let mut batch = Vec::new();
        let mut edit = |grantee: Grantee, add: &[String], remove: bool| -> Result<(), StoreError> {
            let mut row: BTreeSet<String> = self
                .store
                .permission(domain, target, &grantee)?
                .into_iter()
                .collect();
            for p in add {
                if remove {
                    row.remove(p);
                } else {
                    row.insert(p.clone());
                }
            }
            batch.push(set_row(domain, target, grantee, row.into_iter().collect()));
            Ok(())
        };
        match change {
            PermissionChange::Add(p) | PermissionChange::Remove(p) => {
                let remove = matches!(change, PermissionChange::Remove(_));
                if !p.world.is_empty() {
                    edit(Grantee::World, &p.world, remove)?;
                }
                for (u, s) in &p.users {
                    edit(user_grantee(u), s, remove)?;
                }
                for (g, s) in &p.groups {
                    edit(Grantee::Group(g.clone()), s, remove)?;
                }
            }
            PermissionChange::Set {
                world,
                users,
                replace_users,
                groups,
                replace_groups,
            } => {
                if let Some(w) = world {
                    batch.push(set_row(domain, target, Grantee::World, w.clone()));
                }
                for (replace, kind) in [
                    (*replace_users, GranteeKind::Users),
                    (*replace_groups, GranteeKind::Groups),
                ] {
                    if replace {
                        batch.push(WriteOp::ClearPermissions {
                            domain: domain.clone(),
                            target: target.clone(),
                            kind,
                        });
                    }
                }
                for (u, s) in users {
                    batch.push(set_row(domain, target, user_grantee(u), s.clone()));
                }
                for (g, s) in groups {
                    batch.push(set_row(
                        domain,
                        target,
                        Grantee::Group(g.clone()),
                        s.clone(),
                    ));
                }
            }
        }
        Ok(batch)
    }
}

/// The string an entry holds when it grants nothing (so that the entry exists and denies).
const NO_RIGHTS: &str = "none";

fn set_row(
    domain: &DomainKey,
    target: &PermissionTarget,
    grantee: Grantee,
    permissions: Vec<String>,
) -> WriteOp {
    WriteOp::SetPermissions {
        domain: domain.clone(),
        target: target.clone(),
        grantee,
        permissions,
    }
}
