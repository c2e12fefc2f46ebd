//! Activity records in LMDB: keyed by the escaped domain key, type and id, so a domain's
//! activities are one prefix, ordered by type then id. Deleting an activity takes its
//! permission rows along; deleting its domain takes every activity.

use heed::{RoTxn, RwTxn, WithoutTls};

use super::super::{codec, ActivityRecord, DomainKey, PermissionTarget, StoreResult, WriteOp};
use super::keys::{activity_key, domain_key, MAX_KEY_BYTES};
use super::{acl, db_err, Dbs};

/// An activity by type and id.
pub(super) fn activity(
    txn: &RoTxn<'_, WithoutTls>,
    dbs: &Dbs,
    domain: &DomainKey,
    activity_type: &str,
    id: &str,
) -> StoreResult<Option<ActivityRecord>> {
    let key = activity_key(domain, activity_type, id);
    if key.len() > MAX_KEY_BYTES {
        return Ok(None);
    }
    dbs.activities
        .get(txn, &key)
        .map_err(db_err)?
        .map(codec::decode_activity)
        .transpose()
}

/// Every activity of a domain, by type then id.
pub(super) fn activities(
    txn: &RoTxn<'_, WithoutTls>,
    dbs: &Dbs,
    domain: &DomainKey,
) -> StoreResult<Vec<ActivityRecord>> {
    let mut out = Vec::new();
    for item in dbs
        .activities
        .prefix_iter(txn, &domain_key(domain))
        .map_err(db_err)?
    {
        let (_, bytes) = item.map_err(db_err)?;
        out.push(codec::decode_activity(bytes)?);
    }
    Ok(out)
}

/// Applies an activity write (any other write is not this module's: it does nothing).
pub(super) fn apply(txn: &mut RwTxn, dbs: &Dbs, op: &WriteOp) -> StoreResult<()> {
    match op {
        WriteOp::PutActivity(record) => {
            let mut buf = Vec::new();
            codec::encode_activity(record, &mut buf);
            let key = activity_key(&record.domain, &record.activity_type, &record.id);
            dbs.activities.put(txn, &key, &buf).map_err(db_err)?;
        }
        WriteOp::DeleteActivity {
            domain,
            activity_type,
            id,
        } => {
            let key = activity_key(domain, activity_type, id);
            dbs.activities.delete(txn, &key).map_err(db_err)?;
            let target = PermissionTarget::Activity {
                kind: activity_type.clone(),
                id: id.clone(),
            };
            acl::drop_target_rows(txn, dbs, domain, &target)?;
        }
        _ => {}
    }
    Ok(())
}

/// What deleting a domain takes along: every activity in it.
pub(super) fn drop_domain(txn: &mut RwTxn, dbs: &Dbs, domain: &DomainKey) -> StoreResult<()> {
    let prefix = domain_key(domain);
    let end = super::keys::prefix_end(&prefix);
    let bounds = (
        std::ops::Bound::Included(&prefix[..]),
        std::ops::Bound::Excluded(&end[..]),
    );
    dbs.activities.delete_range(txn, &bounds).map_err(db_err)?;
    Ok(())
}
