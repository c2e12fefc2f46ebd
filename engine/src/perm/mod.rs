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
    CollectionAccess, CollectionPermissions, ModelPermissions, ModelPermissionsChange,
    PermissionChange, PermissionError, Permissions, TargetPermissions,
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

/// The permission strings of chats (`create_chat` applies globally).
pub const CHAT_PERMISSIONS: [&str; 9] = [
    "create_chat",
    "remove_chat",
    "join_chat",
    "leave_chat",
    "add_chat_user",
    "remove_chat_user",
    "set_chat_name",
    "set_topic",
    "manage_chat_permissions",
];

/// The permission strings of activities.
pub const ACTIVITY_PERMISSIONS: [&str; 6] = [
    "join",
    "lurk",
    "view_state",
    "set_state",
    "remove",
    "manage",
];

/// What generic permission rows apply to, as hosts name it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Target {
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
        #[serde(rename = "type")]
        activity_type: String,
        /// Activity id.
        id: String,
    },
}

impl Target {
    /// The store's name for it.
    pub fn to_store(&self) -> crate::store::PermissionTarget {
        use crate::store::PermissionTarget as P;
        match self {
            Target::Global => P::Global,
            Target::Chat { id } => P::Chat(id.clone()),
            Target::Activity { activity_type, id } => P::Activity {
                kind: activity_type.clone(),
                id: id.clone(),
            },
        }
    }

    /// The permission strings its rows may hold.
    pub fn allowed(&self) -> Vec<&'static str> {
        match self {
            Target::Global => CHAT_PERMISSIONS
                .iter()
                .chain(ACTIVITY_PERMISSIONS.iter())
                .copied()
                .collect(),
            Target::Chat { .. } => CHAT_PERMISSIONS.to_vec(),
            Target::Activity { .. } => ACTIVITY_PERMISSIONS.to_vec(),
        }
    }
}
