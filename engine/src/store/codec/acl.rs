//! Records of access control: groups, and the value of a permission row (its permission
//! strings; who holds them on what is in the row's key).

use prost::Message;

use super::{corrupt, put};
use crate::store::{GroupRecord, StoreResult};

/// A list of strings: a permission row's value, and a domain's default collection world
/// permissions (a message, so that an empty list is told apart from an absent one).
#[derive(Clone, PartialEq, Message)]
pub(super) struct PStrings {
    #[prost(string, repeated, tag = "1")]
    pub(super) values: Vec<String>,
}

#[derive(Clone, PartialEq, Message)]
struct PGroup {
    #[prost(string, tag = "1")]
    id: String,
    #[prost(string, tag = "2")]
    description: String,
}

/// Encodes a group record.
pub fn encode_group(r: &GroupRecord, buf: &mut Vec<u8>) {
    put(
        &PGroup {
            id: r.id.clone(),
            description: r.description.clone(),
        },
        buf,
    );
}

/// Decodes a group record.
pub fn decode_group(bytes: &[u8]) -> StoreResult<GroupRecord> {
    let p = PGroup::decode(bytes).map_err(|e| corrupt("group record", e))?;
    Ok(GroupRecord {
        id: p.id,
        description: p.description,
    })
}

/// Encodes the value of a permission row: its permission strings, as given.
pub fn encode_permissions(permissions: &[String], buf: &mut Vec<u8>) {
    put(
        &PStrings {
            values: permissions.to_vec(),
        },
        buf,
    );
}

/// Decodes the value of a permission row.
pub fn decode_permissions(bytes: &[u8]) -> StoreResult<Vec<String>> {
    let p = PStrings::decode(bytes).map_err(|e| corrupt("permission row", e))?;
    Ok(p.values)
}
