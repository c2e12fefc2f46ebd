//! Records of access control and identity grouping: permission rows (who holds which
//! permission strings on what), user groups and their members, and a domain's availability.

/// Who a permission row grants to.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Grantee {
    /// Everyone in the domain.
    World,
    /// One user, by type and username.
    User(super::UserType, String),
    /// Every member of a group, by group id.
    Group(String),
}

/// What a permission row applies to.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PermissionTarget {
    /// Every chat and activity of the domain (and domain-wide rights such as creating chats).
    Global,
    /// A collection (its rows also apply to its models, as the resolution order says).
    Collection(String),
    /// A model.
    Model(String),
    /// A chat.
    Chat(String),
    /// An activity, by type and id.
    Activity {
        /// Activity type.
        kind: String,
        /// Activity id.
        id: String,
    },
}

/// The collection permissions, in the order the wire and the docs list them: what a domain
/// record written before domains had `default_collection_world` decodes to, and what the
/// format upgrade grants everyone on every collection that existed before permissions did.
pub(crate) const COLLECTION_PERMISSIONS: [&str; 5] =
    ["create", "read", "write", "remove", "manage"];

/// The reconnect-token lifetime (minutes) of a domain record written before the setting
/// existed.
pub(crate) const DEFAULT_RECONNECT_TOKEN_MINUTES: u32 = 24 * 60;

/// The permission string a model's world row holds when the model's world permissions
/// override its collection's (never shown to clients as a permission).
pub const OVERRIDE_MARKER: &str = "override";

/// One row: `grantee` holds `permissions` on the row's target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PermissionRow {
    /// Who holds them.
    pub grantee: Grantee,
    /// The permission strings, sorted, without duplicates, never empty.
    pub permissions: Vec<String>,
}

/// Which rows of a target [`super::WriteOp::ClearPermissions`] deletes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GranteeKind {
    /// Every row.
    All,
    /// The world row.
    World,
    /// Every user row.
    Users,
    /// Every group row.
    Groups,
}

impl GranteeKind {
    /// Whether `grantee` is of this kind.
    pub fn matches(self, grantee: &Grantee) -> bool {
        matches!(
            (self, grantee),
            (GranteeKind::All, _)
                | (GranteeKind::World, Grantee::World)
                | (GranteeKind::Users, Grantee::User(..))
                | (GranteeKind::Groups, Grantee::Group(_))
        )
    }
}

/// A group of users.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupRecord {
    /// Group id (unique within the domain).
    pub id: String,
    /// Description.
    pub description: String,
}

/// Whether a domain accepts logins.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DomainState {
    /// Every login the domain's settings allow.
    #[default]
    Online,
    /// Only logins with the domain's admin key, and reconnects of convergence users.
    Maintenance,
    /// No logins; the domain answers as if it did not exist.
    Offline,
}

impl DomainState {
    /// The lower-case name (`online`, `maintenance`, `offline`).
    pub fn as_str(self) -> &'static str {
        match self {
            DomainState::Online => "online",
            DomainState::Maintenance => "maintenance",
            DomainState::Offline => "offline",
        }
    }
}
