//! The write-ahead log's encoding of chat changes (kinds 40–42): a chat record, one chat
//! event, and a chat's deletion.

use super::{one_record, record, write_in, PWrite};
use crate::store::codec::{decode_chat, decode_chat_event, encode_chat, encode_chat_event};
use crate::store::{DomainKey, StoreResult, WriteOp};

pub(super) const K_PUT_CHAT: u32 = 40;
pub(super) const K_APPEND_CHAT_EVENT: u32 = 41;
pub(super) const K_DELETE_CHAT: u32 = 42;

/// The `PWrite` of a chat change; `None` for every other change.
pub(super) fn to_p(op: &WriteOp) -> Option<PWrite> {
    Some(match op {
        WriteOp::PutChat(r) => PWrite {
            records: vec![record(|b| encode_chat(r, b))],
            ..write_in(K_PUT_CHAT, &r.domain)
        },
        WriteOp::AppendChatEvent {
            domain,
            chat,
            event,
        } => PWrite {
            id: chat.clone(),
            records: vec![record(|b| encode_chat_event(event, b))],
            ..write_in(K_APPEND_CHAT_EVENT, domain)
        },
        WriteOp::DeleteChat { domain, id } => PWrite {
            id: id.clone(),
            ..write_in(K_DELETE_CHAT, domain)
        },
        _ => return None,
    })
}

/// The chat change `p` holds, when its kind is one of the three.
pub(super) fn from_p(p: &mut PWrite, domain: &DomainKey) -> Option<StoreResult<WriteOp>> {
    let op = match p.kind {
        K_PUT_CHAT => one_record(p, "chat").and_then(|r| decode_chat(&r).map(WriteOp::PutChat)),
        K_APPEND_CHAT_EVENT => one_record(p, "chat event").and_then(|r| {
            Ok(WriteOp::AppendChatEvent {
                domain: domain.clone(),
                chat: std::mem::take(&mut p.id),
                event: decode_chat_event(&r)?,
            })
        }),
        K_DELETE_CHAT => Ok(WriteOp::DeleteChat {
            domain: domain.clone(),
            id: std::mem::take(&mut p.id),
        }),
        _ => return None,
    };
    Some(op)
}
