//! Chats in LMDB: records keyed by the escaped domain key and chat id (a domain's chats are one
//! prefix, ordered by id), events keyed by the same plus the big-endian event number (a chat's
//! events are one prefix, in number order). Deleting a chat takes its events and permission
//! rows along; deleting its domain takes every chat.

use std::ops::Bound;

use heed::{RoTxn, RwTxn, WithoutTls};

use super::super::{
    codec, ChatEvent, ChatRecord, DomainKey, PermissionTarget, StoreResult, WriteOp,
};
use super::keys::{child_key, domain_key, prefix_end, MAX_KEY_BYTES};
use super::{acl, db_err, Dbs};

/// The key of event `number` of a chat.
pub(super) fn event_key(domain: &DomainKey, chat: &str, number: u64) -> Vec<u8> {
    let mut key = child_key(domain, chat);
    key.extend_from_slice(&number.to_be_bytes());
    key
}

/// A chat by id.
pub(super) fn chat(
    txn: &RoTxn<'_, WithoutTls>,
    dbs: &Dbs,
    domain: &DomainKey,
    id: &str,
) -> StoreResult<Option<ChatRecord>> {
    let key = child_key(domain, id);
    if key.len() > MAX_KEY_BYTES {
        return Ok(None);
    }
    dbs.chats
        .get(txn, &key)
        .map_err(db_err)?
        .map(codec::decode_chat)
        .transpose()
}

/// Every chat of a domain, by id.
pub(super) fn chats(
    txn: &RoTxn<'_, WithoutTls>,
    dbs: &Dbs,
    domain: &DomainKey,
) -> StoreResult<Vec<ChatRecord>> {
    let mut out = Vec::new();
    for item in dbs
        .chats
        .prefix_iter(txn, &domain_key(domain))
        .map_err(db_err)?
    {
        let (_, bytes) = item.map_err(db_err)?;
        out.push(codec::decode_chat(bytes)?);
    }
    Ok(out)
}

/// The events of a chat numbered `first..=last`.
pub(super) fn events(
    txn: &RoTxn<'_, WithoutTls>,
    dbs: &Dbs,
    domain: &DomainKey,
    chat: &str,
    first: u64,
    last: u64,
) -> StoreResult<Vec<ChatEvent>> {
    let mut out = Vec::new();
    if first > last || child_key(domain, chat).len() + 8 > MAX_KEY_BYTES {
        return Ok(out);
    }
    let (from, to) = (
        event_key(domain, chat, first),
        event_key(domain, chat, last),
    );
    let bounds = (Bound::Included(&from[..]), Bound::Included(&to[..]));
    for item in dbs.chat_events.range(txn, &bounds).map_err(db_err)? {
        let (_, bytes) = item.map_err(db_err)?;
        out.push(codec::decode_chat_event(bytes)?);
    }
    Ok(out)
}

/// Applies a chat write (any other write is not this module's: it does nothing).
pub(super) fn apply(txn: &mut RwTxn, dbs: &Dbs, op: &WriteOp) -> StoreResult<()> {
    match op {
        WriteOp::PutChat(record) => {
            let mut buf = Vec::new();
            codec::encode_chat(record, &mut buf);
            let key = child_key(&record.domain, &record.id);
            dbs.chats.put(txn, &key, &buf).map_err(db_err)?;
        }
        WriteOp::AppendChatEvent {
            domain,
            chat,
            event,
        } => {
            let mut buf = Vec::new();
            codec::encode_chat_event(event, &mut buf);
            let key = event_key(domain, chat, event.number);
            dbs.chat_events.put(txn, &key, &buf).map_err(db_err)?;
        }
        WriteOp::DeleteChat { domain, id } => {
            let prefix = child_key(domain, id);
            dbs.chats.delete(txn, &prefix).map_err(db_err)?;
            delete_prefix(txn, dbs, &prefix)?;
            acl::drop_target_rows(txn, dbs, domain, &PermissionTarget::Chat(id.clone()))?;
        }
        _ => {}
    }
    Ok(())
}

fn delete_prefix(txn: &mut RwTxn, dbs: &Dbs, prefix: &[u8]) -> StoreResult<()> {
    let end = prefix_end(prefix);
    let bounds = (Bound::Included(prefix), Bound::Excluded(&end[..]));
    dbs.chat_events.delete_range(txn, &bounds).map_err(db_err)?;
    Ok(())
}

/// What deleting a domain takes along: every chat in it and their events.
pub(super) fn drop_domain(txn: &mut RwTxn, dbs: &Dbs, domain: &DomainKey) -> StoreResult<()> {
    let prefix = domain_key(domain);
    let end = prefix_end(&prefix);
    let bounds = (Bound::Included(&prefix[..]), Bound::Excluded(&end[..]));
    dbs.chats.delete_range(txn, &bounds).map_err(db_err)?;
    delete_prefix(txn, dbs, &prefix)
}
