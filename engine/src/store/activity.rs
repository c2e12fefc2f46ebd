//! Activities as the store keeps them: the record of each one that exists (its permission rows
//! are generic rows with an activity target).

use super::DomainKey;

/// An activity that exists: created explicitly, or on a join that asked for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActivityRecord {
    /// Its domain.
    pub domain: DomainKey,
    /// The activity's type (its namespace of ids, chosen by the app).
    pub activity_type: String,
    /// Its id within the type.
    pub id: String,
    /// Creation time (epoch ms).
    pub created_ms: i64,
    /// Whether it goes away with its last participant.
    pub ephemeral: bool,
}
