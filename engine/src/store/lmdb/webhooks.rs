//! Webhooks in LMDB: records keyed by the escaped domain key and webhook id, deliveries by the
//! same plus the big-endian delivery number (a webhook's deliveries are one prefix, in order).
//! Deleting a webhook takes its deliveries along; deleting its domain takes every webhook.

use std::ops::Bound;

use heed::{RoTxn, RwTxn, WithoutTls};

use super::super::{codec, DeliveryRecord, DomainKey, StoreResult, WebhookRecord, WriteOp};
use super::keys::{child_key, domain_key, prefix_end};
use super::{db_err, Dbs};

/// The key of delivery `seq` of a webhook.
pub(super) fn delivery_key(domain: &DomainKey, webhook: &str, seq: u64) -> Vec<u8> {
    let mut key = child_key(domain, webhook);
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

/// Every webhook of a domain (of every domain for `None`), by domain then id.
pub(super) fn webhooks(
    txn: &RoTxn<'_, WithoutTls>,
    dbs: &Dbs,
    domain: Option<&DomainKey>,
) -> StoreResult<Vec<WebhookRecord>> {
    let mut out = Vec::new();
    let Some(domain) = domain else {
        // LMDB takes no empty key: every domain's are read by a plain iteration.
        for item in dbs.webhooks.iter(txn).map_err(db_err)? {
            out.push(codec::decode_webhook(item.map_err(db_err)?.1)?);
        }
        return Ok(out);
    };
    for item in dbs
        .webhooks
        .prefix_iter(txn, &domain_key(domain))
        .map_err(db_err)?
    {
        out.push(codec::decode_webhook(item.map_err(db_err)?.1)?);
    }
    Ok(out)
}

/// The deliveries of a webhook, in order.
pub(super) fn deliveries(
    txn: &RoTxn<'_, WithoutTls>,
    dbs: &Dbs,
    domain: &DomainKey,
    webhook: &str,
) -> StoreResult<Vec<DeliveryRecord>> {
    let mut out = Vec::new();
    let prefix = child_key(domain, webhook);
    for item in dbs.deliveries.prefix_iter(txn, &prefix).map_err(db_err)? {
        let (key, bytes) = item.map_err(db_err)?;
        // Another webhook's id may extend this one's escaped id: only exact prefixes count.
        if key.len() == prefix.len() + 8 {
            out.push(codec::decode_delivery(bytes)?);
        }
    }
    Ok(out)
}

/// Applies a webhook write (any other write is not this module's: it does nothing).
pub(super) fn apply(txn: &mut RwTxn, dbs: &Dbs, op: &WriteOp) -> StoreResult<()> {
    let mut buf = Vec::new();
    match op {
        WriteOp::PutWebhook(r) => {
            codec::encode_webhook(r, &mut buf);
            dbs.webhooks
                .put(txn, &child_key(&r.domain, &r.id), &buf)
                .map_err(db_err)?;
        }
        WriteOp::DeleteWebhook { domain, id } => {
            dbs.webhooks
                .delete(txn, &child_key(domain, id))
                .map_err(db_err)?;
            let (from, to) = (
                delivery_key(domain, id, 0),
                delivery_key(domain, id, u64::MAX),
            );
            let bounds = (Bound::Included(&from[..]), Bound::Included(&to[..]));
            dbs.deliveries.delete_range(txn, &bounds).map_err(db_err)?;
        }
        WriteOp::PutDelivery(r) => {
            codec::encode_delivery(r, &mut buf);
            dbs.deliveries
                .put(txn, &delivery_key(&r.domain, &r.webhook, r.seq), &buf)
                .map_err(db_err)?;
        }
        WriteOp::DeleteDelivery {
            domain,
            webhook,
            seq,
        } => {
            dbs.deliveries
                .delete(txn, &delivery_key(domain, webhook, *seq))
                .map_err(db_err)?;
        }
        _ => {}
    }
    Ok(())
}

/// What deleting a domain takes along: every webhook in it and their deliveries.
pub(super) fn drop_domain(txn: &mut RwTxn, dbs: &Dbs, domain: &DomainKey) -> StoreResult<()> {
    let prefix = domain_key(domain);
    let end = prefix_end(&prefix);
    let bounds = (Bound::Included(&prefix[..]), Bound::Excluded(&end[..]));
    dbs.webhooks.delete_range(txn, &bounds).map_err(db_err)?;
    dbs.deliveries.delete_range(txn, &bounds).map_err(db_err)?;
    Ok(())
}
