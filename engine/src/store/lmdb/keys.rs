//! Keys of the LMDB databases: escaped string tuples (which sort like the tuples and never
//! prefix one another), big-endian `(model number, version)` pairs, and the check that refuses
//! a write whose key LMDB cannot hold.

use std::ops::Bound;

use super::super::{DomainKey, StoreError, StoreResult, UserType, WriteOp};

// ---------------------------------------------------------------------------------------------
// Keys.
// ---------------------------------------------------------------------------------------------

/// Appends `s` so that concatenations of escaped strings sort like tuples of the strings and no
/// escaped string is a prefix of another: NUL becomes `00 01`, the terminator is `00 00`.
pub(super) fn push_escaped(out: &mut Vec<u8>, s: &str) {
    for &b in s.as_bytes() {
        if b == 0 {
            out.extend_from_slice(&[0, 1]);
        } else {
            out.push(b);
        }
    }
    out.extend_from_slice(&[0, 0]);
}

pub(super) fn domain_key(d: &DomainKey) -> Vec<u8> {
    let mut out = Vec::with_capacity(d.namespace.len() + d.id.len() + 4);
    push_escaped(&mut out, &d.namespace);
    push_escaped(&mut out, &d.id);
    out
}

pub(super) fn child_key(d: &DomainKey, id: &str) -> Vec<u8> {
    let mut out = domain_key(d);
    push_escaped(&mut out, id);
    out
}

pub(super) fn user_key(d: &DomainKey, user_type: UserType, username: &str) -> Vec<u8> {
    let mut out = domain_key(d);
    push_escaped(&mut out, &user_type.as_i32().to_string());
    push_escaped(&mut out, username);
    out
}

/// The smallest key greater than every key starting with `prefix` (`prefix` ends in `00 00`).
pub(super) fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            break;
        }
    }
    end
}

pub(super) fn num_key(number: u64, version: u64) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&number.to_be_bytes());
    k[8..].copy_from_slice(&version.to_be_bytes());
    k
}

/// Splits an `(number, version)` key; `None` for a key of another length.
pub(super) fn split_num_key(key: &[u8]) -> Option<(u64, u64)> {
    let n: [u8; 8] = key.get(..8)?.try_into().ok()?;
    let v: [u8; 8] = key.get(8..16)?.try_into().ok()?;
    (key.len() == 16).then(|| (u64::from_be_bytes(n), u64::from_be_bytes(v)))
}

pub(super) fn model_range(number: u64) -> ([u8; 16], [u8; 16]) {
    (num_key(number, 0), num_key(number, u64::MAX))
}

pub(super) fn range_of<'a>(lo: &'a [u8], hi: &'a [u8]) -> (Bound<&'a [u8]>, Bound<&'a [u8]>) {
    (Bound::Included(lo), Bound::Included(hi))
}

/// The largest key LMDB takes (its compile-time default, which heed's build keeps).
pub(super) const MAX_KEY_BYTES: usize = 511;

/// Refuses a batch with a key LMDB cannot hold, before anything is logged or acknowledged:
/// a logged write that the database cannot apply would stop every later write.
pub(super) fn check_keys(batch: &[WriteOp]) -> StoreResult<()> {
    for op in batch {
        let key = match op {
            WriteOp::PutDomain(d) => domain_key(&d.key),
            WriteOp::DeleteDomain(key) => domain_key(key),
            WriteOp::PutCollection { domain, record } => child_key(domain, &record.id),
            WriteOp::DeleteCollection { domain, id } | WriteOp::DeleteModel { domain, id } => {
                child_key(domain, id)
            }
            WriteOp::CreateModel { meta, .. } | WriteOp::PutModelMeta(meta) => {
                child_key(&meta.domain, &meta.id)
            }
            WriteOp::PutUser { domain, record } => {
                user_key(domain, record.user_type, &record.username)
            }
            WriteOp::DeleteUser {
                domain,
                user_type,
                username,
            } => user_key(domain, *user_type, username),
            WriteOp::PutJwtKey { domain, record } => child_key(domain, &record.id),
            WriteOp::DeleteJwtKey { domain, id } => child_key(domain, id),
            WriteOp::PutReconnectToken { domain, record } => child_key(domain, &record.token),
            WriteOp::DeleteReconnectToken { domain, token } => child_key(domain, token),
            WriteOp::AppendOps { .. }
            | WriteOp::AppendEncoded { .. }
            | WriteOp::PutSnapshot { .. } => continue,
            _ => continue, // STUB(acl): keys of the permission and group writes
        };
        if key.len() > MAX_KEY_BYTES {
            return Err(StoreError::Invalid(format!(
                "identifiers too long to store: the key would take {} bytes, at most {MAX_KEY_BYTES}",
                key.len()
            )));
        }
    }
    Ok(())
}
