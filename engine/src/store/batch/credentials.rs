//! The write-ahead log's encoding of credential changes (kinds 50–53): an administrator's
//! record and its deletion, an API key's record and its deletion.

use super::{one_record, record, write_in, PWrite};
use crate::store::codec::{decode_admin, decode_api_key, encode_admin, encode_api_key};
use crate::store::{DomainKey, StoreResult, WriteOp};

const K_PUT_ADMIN: u32 = 50;
const K_DELETE_ADMIN: u32 = 51;
const K_PUT_API_KEY: u32 = 52;
const K_DELETE_API_KEY: u32 = 53;

/// The `PWrite` of a credential change; `None` for every other change.
pub(super) fn to_p(op: &WriteOp) -> Option<PWrite> {
    let server = DomainKey::new("", "");
    Some(match op {
        WriteOp::PutAdmin(r) => PWrite {
            records: vec![record(|b| encode_admin(r, b))],
            ..write_in(K_PUT_ADMIN, &server)
        },
        WriteOp::DeleteAdmin { username } => PWrite {
            id: username.clone(),
            ..write_in(K_DELETE_ADMIN, &server)
        },
        WriteOp::PutApiKey(r) => PWrite {
            records: vec![record(|b| encode_api_key(r, b))],
            ..write_in(K_PUT_API_KEY, &r.domain)
        },
        WriteOp::DeleteApiKey { domain, id } => PWrite {
            id: id.clone(),
            ..write_in(K_DELETE_API_KEY, domain)
        },
        _ => return None,
    })
}

/// The credential change `p` holds, when its kind is one of the four.
pub(super) fn from_p(p: &mut PWrite, domain: &DomainKey) -> Option<StoreResult<WriteOp>> {
    let op = match p.kind {
        K_PUT_ADMIN => {
            one_record(p, "administrator").and_then(|r| decode_admin(&r).map(WriteOp::PutAdmin))
        }
        K_DELETE_ADMIN => Ok(WriteOp::DeleteAdmin {
            username: std::mem::take(&mut p.id),
        }),
        K_PUT_API_KEY => {
            one_record(p, "API key").and_then(|r| decode_api_key(&r).map(WriteOp::PutApiKey))
        }
        K_DELETE_API_KEY => Ok(WriteOp::DeleteApiKey {
            domain: domain.clone(),
            id: std::mem::take(&mut p.id),
        }),
        _ => return None,
    };
    Some(op)
}
