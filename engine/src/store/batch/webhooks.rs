//! The write-ahead log's encoding of webhook changes (kinds 54–57): a webhook's record and its
//! deletion, a delivery's record and its deletion.

use super::{one_record, record, write_in, PWrite};
use crate::store::codec::{decode_delivery, decode_webhook, encode_delivery, encode_webhook};
use crate::store::{DomainKey, StoreResult, WriteOp};

const K_PUT_WEBHOOK: u32 = 54;
const K_DELETE_WEBHOOK: u32 = 55;
const K_PUT_DELIVERY: u32 = 56;
const K_DELETE_DELIVERY: u32 = 57;

/// The `PWrite` of a webhook change; `None` for every other change.
pub(super) fn to_p(op: &WriteOp) -> Option<PWrite> {
    Some(match op {
        WriteOp::PutWebhook(r) => PWrite {
            records: vec![record(|b| encode_webhook(r, b))],
            ..write_in(K_PUT_WEBHOOK, &r.domain)
        },
        WriteOp::DeleteWebhook { domain, id } => PWrite {
            id: id.clone(),
            ..write_in(K_DELETE_WEBHOOK, domain)
        },
        WriteOp::PutDelivery(r) => PWrite {
            records: vec![record(|b| encode_delivery(r, b))],
            ..write_in(K_PUT_DELIVERY, &r.domain)
        },
        WriteOp::DeleteDelivery {
            domain,
            webhook,
            seq,
        } => PWrite {
            id: webhook.clone(),
            number: *seq,
            ..write_in(K_DELETE_DELIVERY, domain)
        },
        _ => return None,
    })
}

/// The webhook change `p` holds, when its kind is one of the four.
pub(super) fn from_p(p: &mut PWrite, domain: &DomainKey) -> Option<StoreResult<WriteOp>> {
    let op = match p.kind {
        K_PUT_WEBHOOK => {
            one_record(p, "webhook").and_then(|r| decode_webhook(&r).map(WriteOp::PutWebhook))
        }
        K_DELETE_WEBHOOK => Ok(WriteOp::DeleteWebhook {
            domain: domain.clone(),
            id: std::mem::take(&mut p.id),
        }),
        K_PUT_DELIVERY => {
            one_record(p, "delivery").and_then(|r| decode_delivery(&r).map(WriteOp::PutDelivery))
        }
        K_DELETE_DELIVERY => Ok(WriteOp::DeleteDelivery {
            domain: domain.clone(),
            webhook: std::mem::take(&mut p.id),
            seq: p.number,
        }),
        _ => return None,
    };
    Some(op)
}
