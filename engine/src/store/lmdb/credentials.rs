//! Credentials in LMDB: administrators keyed by the escaped login name, API keys by the escaped
//! domain key and key id (a domain's keys are one prefix, ordered by id; deleting the domain
//! takes them along).

use heed::{RoTxn, RwTxn, WithoutTls};

use super::super::{codec, AdminRecord, ApiKeyRecord, DomainKey, StoreResult, WriteOp};
use super::keys::{child_key, domain_key, name_key};
use super::{db_err, Dbs};

/// An administrator by login name.
pub(super) fn admin(
    txn: &RoTxn<'_, WithoutTls>,
    dbs: &Dbs,
    username: &str,
) -> StoreResult<Option<AdminRecord>> {
    dbs.admins
        .get(txn, &name_key(username))
        .map_err(db_err)?
        .map(codec::decode_admin)
        .transpose()
}

/// Every administrator, by login name.
pub(super) fn admins(txn: &RoTxn<'_, WithoutTls>, dbs: &Dbs) -> StoreResult<Vec<AdminRecord>> {
    let mut out = Vec::new();
    for item in dbs.admins.iter(txn).map_err(db_err)? {
        let (_, bytes) = item.map_err(db_err)?;
        out.push(codec::decode_admin(bytes)?);
    }
    Ok(out)
}

/// An API key of a domain by id.
pub(super) fn api_key(
    txn: &RoTxn<'_, WithoutTls>,
    dbs: &Dbs,
    domain: &DomainKey,
    id: &str,
) -> StoreResult<Option<ApiKeyRecord>> {
    dbs.api_keys
        .get(txn, &child_key(domain, id))
        .map_err(db_err)?
        .map(codec::decode_api_key)
        .transpose()
}

/// Every API key of a domain, by id.
pub(super) fn api_keys(
    txn: &RoTxn<'_, WithoutTls>,
    dbs: &Dbs,
    domain: &DomainKey,
) -> StoreResult<Vec<ApiKeyRecord>> {
    let mut out = Vec::new();
    for item in dbs
        .api_keys
        .prefix_iter(txn, &domain_key(domain))
        .map_err(db_err)?
    {
        let (_, bytes) = item.map_err(db_err)?;
        out.push(codec::decode_api_key(bytes)?);
    }
    Ok(out)
}

/// Applies a credential write (any other write is not this module's: it does nothing).
pub(super) fn apply(txn: &mut RwTxn, dbs: &Dbs, op: &WriteOp) -> StoreResult<()> {
    let mut buf = Vec::new();
    match op {
        WriteOp::PutAdmin(r) => {
            codec::encode_admin(r, &mut buf);
            dbs.admins
                .put(txn, &name_key(&r.username), &buf)
                .map_err(db_err)?;
        }
        WriteOp::DeleteAdmin { username } => {
            dbs.admins
                .delete(txn, &name_key(username))
                .map_err(db_err)?;
        }
        WriteOp::PutApiKey(r) => {
            codec::encode_api_key(r, &mut buf);
            dbs.api_keys
                .put(txn, &child_key(&r.domain, &r.id), &buf)
                .map_err(db_err)?;
        }
        WriteOp::DeleteApiKey { domain, id } => {
            dbs.api_keys
                .delete(txn, &child_key(domain, id))
                .map_err(db_err)?;
        }
        _ => {}
    }
    Ok(())
}
