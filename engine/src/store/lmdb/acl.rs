//! Permission rows, groups and memberships in LMDB: the reads of the [`Store`] trait, the
//! access-control writes, the rows and memberships other deletions take with them, and the
//! format-3 upgrade (see [`super::keys`] for the key layout).
//!
//! Deletions cascade exactly as in the memory store: a domain takes all of its rows, groups and
//! memberships; a collection its rows and those of its models; a model its rows; a user its
//! memberships and the rows granted to it; a group its memberships and the rows granted to it.
//!
//! [`Store`]: super::super::Store

use std::ops::Bound;

use heed::{RoTxn, RwTxn, WithoutTls};

use super::super::acl::COLLECTION_PERMISSIONS;
use super::super::{
    codec, DomainKey, Grantee, GroupRecord, PermissionRow, PermissionTarget, StoreResult, UserType,
    WriteOp,
};
use super::keys::{
    child_key, domain_key, grantee_kind_prefix, member_key, membership_key, permission_key,
    prefix_end, target_prefix, user_key, KeyReader, MAX_KEY_BYTES,
};
use super::{db_err, Db, Dbs};

/// Sorted, without duplicates.
fn normalized(permissions: &[String]) -> Vec<String> {
    let mut out = permissions.to_vec();
    out.sort();
    out.dedup();
    out
}

/// Deletes every key of `db` that starts with `prefix`. A prefix longer than any key LMDB
/// holds has none.
fn delete_prefix(db: Db, txn: &mut RwTxn, prefix: &[u8]) -> StoreResult<()> {
    if prefix.len() > MAX_KEY_BYTES {
        return Ok(());
    }
    let end = prefix_end(prefix);
    let bounds = (Bound::Included(prefix), Bound::Excluded(&end[..]));
    db.delete_range(txn, &bounds).map_err(db_err)?;
    Ok(())
}

/// The keys of `db` that start with `prefix`, each with what follows the prefix.
fn keys_with_prefix(
    db: Db,
    txn: &RoTxn<'_, WithoutTls>,
    prefix: &[u8],
) -> StoreResult<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    if prefix.len() > MAX_KEY_BYTES {
        return Ok(out);
    }
    for item in db
        .remap_data_type::<heed::types::DecodeIgnore>()
        .prefix_iter(txn, prefix)
        .map_err(db_err)?
    {
        let (key, ()) = item.map_err(db_err)?;
        out.push(key.to_vec());
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Reads.
// ---------------------------------------------------------------------------------------------

/// The rows of `target`: world first, then users by (type, username), then groups by id.
pub(super) fn permissions(
    txn: &RoTxn<'_, WithoutTls>,
    dbs: &Dbs,
    domain: &DomainKey,
    target: &PermissionTarget,
) -> StoreResult<Vec<PermissionRow>> {
    let prefix = target_prefix(domain, target);
    let mut out = Vec::new();
    if prefix.len() > MAX_KEY_BYTES {
        return Ok(out);
    }
    for item in dbs.permissions.prefix_iter(txn, &prefix).map_err(db_err)? {
        let (key, bytes) = item.map_err(db_err)?;
        let mut reader = KeyReader::new(&key[prefix.len()..]);
        let grantee = reader.grantee()?;
        reader.end()?;
        out.push(PermissionRow {
            grantee,
            permissions: codec::decode_permissions(bytes)?,
        });
    }
    Ok(out)
}

/// What `grantee` holds on `target` (empty without a row).
pub(super) fn permission(
    txn: &RoTxn<'_, WithoutTls>,
    dbs: &Dbs,
    domain: &DomainKey,
    target: &PermissionTarget,
    grantee: &Grantee,
) -> StoreResult<Vec<String>> {
    let key = permission_key(domain, target, grantee);
    if key.len() > MAX_KEY_BYTES {
        return Ok(Vec::new());
    }
    match dbs.permissions.get(txn, &key).map_err(db_err)? {
        Some(bytes) => codec::decode_permissions(bytes),
        None => Ok(Vec::new()),
    }
}

/// A group by id.
pub(super) fn group(
    txn: &RoTxn<'_, WithoutTls>,
    dbs: &Dbs,
    domain: &DomainKey,
    id: &str,
) -> StoreResult<Option<GroupRecord>> {
    let key = child_key(domain, id);
    if key.len() > MAX_KEY_BYTES {
        return Ok(None);
    }
    dbs.groups
        .get(txn, &key)
        .map_err(db_err)?
        .map(codec::decode_group)
        .transpose()
}

/// Every group of a domain, by id.
pub(super) fn groups(
    txn: &RoTxn<'_, WithoutTls>,
    dbs: &Dbs,
    domain: &DomainKey,
) -> StoreResult<Vec<GroupRecord>> {
    let mut out = Vec::new();
    for item in dbs
        .groups
        .prefix_iter(txn, &domain_key(domain))
        .map_err(db_err)?
    {
        let (_, bytes) = item.map_err(db_err)?;
        out.push(codec::decode_group(bytes)?);
    }
    Ok(out)
}

/// The members of a group, by (type, username).
pub(super) fn group_members(
    txn: &RoTxn<'_, WithoutTls>,
    dbs: &Dbs,
    domain: &DomainKey,
    id: &str,
) -> StoreResult<Vec<(UserType, String)>> {
    let prefix = child_key(domain, id);
    keys_with_prefix(dbs.members, txn, &prefix)?
        .iter()
        .map(|key| {
            let mut reader = KeyReader::new(&key[prefix.len()..]);
            let member = reader.user()?;
            reader.end()?;
            Ok(member)
        })
        .collect()
}

/// The ids of a user's groups, ordered.
pub(super) fn user_groups(
    txn: &RoTxn<'_, WithoutTls>,
    dbs: &Dbs,
    domain: &DomainKey,
    user_type: UserType,
    username: &str,
) -> StoreResult<Vec<String>> {
    let prefix = user_key(domain, user_type, username);
    keys_with_prefix(dbs.memberships, txn, &prefix)?
        .iter()
        .map(|key| {
            let mut reader = KeyReader::new(&key[prefix.len()..]);
            let group = reader.string()?;
            reader.end()?;
            Ok(group)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Writes.
// ---------------------------------------------------------------------------------------------

/// Applies one of the access-control writes (any other write is not this module's: it does
/// nothing).
pub(super) fn apply(txn: &mut RwTxn, dbs: &Dbs, op: &WriteOp) -> StoreResult<()> {
    match op {
        WriteOp::SetPermissions {
            domain,
            target,
            grantee,
            permissions,
        } => {
            let key = permission_key(domain, target, grantee);
            if permissions.is_empty() {
                dbs.permissions.delete(txn, &key).map_err(db_err)?;
            } else {
                let mut buf = Vec::new();
                codec::encode_permissions(&normalized(permissions), &mut buf);
                dbs.permissions.put(txn, &key, &buf).map_err(db_err)?;
            }
        }
        WriteOp::ClearPermissions {
            domain,
            target,
            kind,
        } => delete_prefix(
            dbs.permissions,
            txn,
            &grantee_kind_prefix(domain, target, *kind),
        )?,
        WriteOp::PutGroup { domain, record } => {
            let mut buf = Vec::new();
            codec::encode_group(record, &mut buf);
            dbs.groups
                .put(txn, &child_key(domain, &record.id), &buf)
                .map_err(db_err)?;
        }
        WriteOp::DeleteGroup { domain, id } => delete_group(txn, dbs, domain, id)?,
        WriteOp::AddGroupMember {
            domain,
            group,
            user_type,
            username,
        } => {
            let member = member_key(domain, group, *user_type, username);
            dbs.members.put(txn, &member, &[]).map_err(db_err)?;
            let membership = membership_key(domain, *user_type, username, group);
            dbs.memberships.put(txn, &membership, &[]).map_err(db_err)?;
        }
        WriteOp::RemoveGroupMember {
            domain,
            group,
            user_type,
            username,
        } => {
            let member = member_key(domain, group, *user_type, username);
            dbs.members.delete(txn, &member).map_err(db_err)?;
            let membership = membership_key(domain, *user_type, username, group);
            dbs.memberships.delete(txn, &membership).map_err(db_err)?;
        }
        _ => {}
    }
    Ok(())
}

/// Deletes a group with its memberships and the rows granted to it.
fn delete_group(txn: &mut RwTxn, dbs: &Dbs, domain: &DomainKey, id: &str) -> StoreResult<()> {
    let prefix = child_key(domain, id);
    for key in keys_with_prefix(dbs.members, txn, &prefix)? {
        let mut reader = KeyReader::new(&key[prefix.len()..]);
        let (user_type, username) = reader.user()?;
        reader.end()?;
        let membership = membership_key(domain, user_type, &username, id);
        dbs.memberships.delete(txn, &membership).map_err(db_err)?;
        dbs.members.delete(txn, &key).map_err(db_err)?;
    }
    drop_grantee_rows(txn, dbs, domain, &Grantee::Group(id.to_string()))?;
    dbs.groups.delete(txn, &prefix).map_err(db_err)?;
    Ok(())
}

/// What deleting a user takes along: its memberships and the rows granted to it.
pub(super) fn drop_user(
    txn: &mut RwTxn,
    dbs: &Dbs,
    domain: &DomainKey,
    user_type: UserType,
    username: &str,
) -> StoreResult<()> {
    let prefix = user_key(domain, user_type, username);
    for key in keys_with_prefix(dbs.memberships, txn, &prefix)? {
        let mut reader = KeyReader::new(&key[prefix.len()..]);
        let group = reader.string()?;
        reader.end()?;
        let member = member_key(domain, &group, user_type, username);
        dbs.members.delete(txn, &member).map_err(db_err)?;
        dbs.memberships.delete(txn, &key).map_err(db_err)?;
    }
    let grantee = Grantee::User(user_type, username.to_string());
    drop_grantee_rows(txn, dbs, domain, &grantee)
}

/// Deletes the rows granted to `grantee` on every target of the domain.
fn drop_grantee_rows(
    txn: &mut RwTxn,
    dbs: &Dbs,
    domain: &DomainKey,
    grantee: &Grantee,
) -> StoreResult<()> {
    let prefix = domain_key(domain);
    let mut doomed = Vec::new();
    for key in keys_with_prefix(dbs.permissions, txn, &prefix)? {
        let mut reader = KeyReader::new(&key[prefix.len()..]);
        reader.target()?;
        if reader.grantee()? == *grantee {
            doomed.push(key);
        }
    }
    for key in doomed {
        dbs.permissions.delete(txn, &key).map_err(db_err)?;
    }
    Ok(())
}

/// Deletes every row of `target`.
pub(super) fn drop_target_rows(
    txn: &mut RwTxn,
    dbs: &Dbs,
    domain: &DomainKey,
    target: &PermissionTarget,
) -> StoreResult<()> {
    delete_prefix(dbs.permissions, txn, &target_prefix(domain, target))
}

/// What deleting a domain takes along: every row, group and membership in it.
pub(super) fn drop_domain(txn: &mut RwTxn, dbs: &Dbs, domain: &DomainKey) -> StoreResult<()> {
    let prefix = domain_key(domain);
    for db in [dbs.permissions, dbs.groups, dbs.members, dbs.memberships] {
        delete_prefix(db, txn, &prefix)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The format-3 upgrade.
// ---------------------------------------------------------------------------------------------

/// Grants everyone every collection permission on every collection, as builds before
/// permissions did, so that upgrading locks nobody out. Returns how many rows it wrote.
pub(super) fn grant_world_on_every_collection(txn: &mut RwTxn, dbs: &Dbs) -> StoreResult<usize> {
    let mut rows = Vec::new();
    for item in dbs
        .collections
        .remap_data_type::<heed::types::DecodeIgnore>()
        .iter(txn)
        .map_err(db_err)?
    {
        let (key, ()) = item.map_err(db_err)?;
        let mut reader = KeyReader::new(key);
        let domain = DomainKey::new(reader.string()?, reader.string()?);
        let id = reader.string()?;
        reader.end()?;
        let target = PermissionTarget::Collection(id);
        rows.push(permission_key(&domain, &target, &Grantee::World));
    }
    let all: Vec<String> = COLLECTION_PERMISSIONS.map(String::from).to_vec();
    let mut value = Vec::new();
    codec::encode_permissions(&normalized(&all), &mut value);
    let mut written = 0;
    for key in rows {
        if key.len() > MAX_KEY_BYTES {
            tracing::warn!(
                "a collection's id is too long for its permission row; the upgrade leaves it \
                 without world permissions"
            );
            continue;
        }
        dbs.permissions.put(txn, &key, &value).map_err(db_err)?;
        written += 1;
    }
    Ok(written)
}
