//! Permissions: model and collection rights and their resolution order, the generic
//! permission rows of chats, activities and the domain, and who is acting.
//!
//! Every request that reaches model data (or a chat or activity) names an [`Actor`]; the
//! services resolve its rights here before they touch anything, so the wire, the facade and
//! REST get the same checks. A denial on something the actor may not read answers as if it
//! did not exist.

mod rights;
mod service;

pub use rights::{may_create, resolve, CollectionRights, ModelAcl, ModelRights};
pub use service::{
    CollectionPermissions, ModelPermissions, ModelPermissionsChange, PermissionChange,
    PermissionError, Permissions, TargetPermissions,
};

use crate::store::{UserId, UserType};

/// Who is asking.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Actor {
    /// The embedding host (or the admin console acting for it): holds every right.
    Host,
    /// A domain user (a convergence user holds every right).
    User(UserId),
}

impl Actor {
    /// The user, if the actor is one.
    pub fn user(&self) -> Option<&UserId> {
        match self {
            Actor::Host => None,
            Actor::User(u) => Some(u),
        }
    }

    /// Whether the actor holds every right (the host, a convergence user).
    pub fn is_privileged(&self) -> bool {
        match self {
            Actor::Host => true,
            Actor::User(u) => u.kind == UserType::Convergence,
        }
    }
}
