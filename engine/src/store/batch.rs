//! Write batches, the write-ahead log's payload: how a batch of [`WriteOp`]s is encoded, and
//! how the applier reads a logged batch back.
//!
//! A batch is a length-delimited protobuf message (`PBatch`) of changes (`PWrite`), each
//! holding its keys and its records encoded as in [`codec`]. The operation records of an
//! append are written straight into the batch (no intermediate message per record), and the
//! applier takes them back as byte slices ([`decode_logged`]) and stores them as they are:
//! each record is encoded once, and what the database holds is exactly what was logged.

mod chat;
mod credentials;
mod webhooks;

use prost::encoding::{decode_key, decode_varint, encode_key, encode_varint, encoded_len_varint};
use prost::encoding::{DecodeContext, WireType};
use prost::Message;

use super::codec::{
    self, corrupt, decode_activity, decode_collection, decode_domain, decode_group, decode_jwt_key,
    decode_model_meta, decode_op, decode_permissions, decode_reconnect_token, decode_snapshot,
    decode_user, encode_activity, encode_collection, encode_domain, encode_group, encode_jwt_key,
    encode_model_meta, encode_op, encode_permissions, encode_reconnect_token, encode_snapshot,
    encode_user, unreachable_encode, user_type_from_p,
};
use super::{
    DomainKey, EncodedOps, Grantee, GranteeKind, PermissionTarget, StoreError, StoreResult, WriteOp,
};

/// One change of a write batch: `kind` names the [`WriteOp`] variant, the other fields hold
/// its keys and its records (each encoded as above).
#[derive(Clone, PartialEq, Message)]
struct PWrite {
    #[prost(uint32, tag = "1")]
    kind: u32,
    #[prost(string, tag = "2")]
    namespace: String,
    #[prost(string, tag = "3")]
    domain: String,
    #[prost(string, tag = "4")]
    id: String,
    #[prost(uint64, tag = "5")]
    number: u64,
    #[prost(int32, tag = "6")]
    user_type: i32,
    #[prost(bytes = "vec", repeated, tag = "7")]
    records: Vec<Vec<u8>>,
    /// What a permission change applies to.
    #[prost(message, optional, tag = "8")]
    target: Option<PTarget>,
    /// Who a permission row grants to.
    #[prost(message, optional, tag = "9")]
    grantee: Option<PGrantee>,
    /// A group member's username (the group is `id`, the member's type `user_type`).
    #[prost(string, tag = "10")]
    username: String,
    /// Which rows a permission clearing deletes (see [`grantee_kind_to_p`]).
    #[prost(uint32, tag = "11")]
    grantee_kind: u32,
}

/// A [`PermissionTarget`]: `kind` 1 global, 2 collection, 3 model, 4 chat, 5 activity (0 is
/// no target: corrupt); `id` the id, `activity_type` an activity's type.
#[derive(Clone, PartialEq, Message)]
struct PTarget {
    #[prost(uint32, tag = "1")]
    kind: u32,
    #[prost(string, tag = "2")]
    id: String,
    #[prost(string, tag = "3")]
    activity_type: String,
}

/// A [`Grantee`]: `kind` 1 world, 2 user (`user_type`, `name`), 3 group (`name`); 0 is
/// corrupt.
#[derive(Clone, PartialEq, Message)]
struct PGrantee {
    #[prost(uint32, tag = "1")]
    kind: u32,
    #[prost(int32, tag = "2")]
    user_type: i32,
    #[prost(string, tag = "3")]
    name: String,
}

#[derive(Clone, PartialEq, Message)]
struct PBatch {
    #[prost(message, repeated, tag = "1")]
    writes: Vec<PWrite>,
}

const K_PUT_DOMAIN: u32 = 1;
const K_DELETE_DOMAIN: u32 = 2;
const K_PUT_COLLECTION: u32 = 3;
const K_DELETE_COLLECTION: u32 = 4;
const K_CREATE_MODEL: u32 = 5;
const K_PUT_MODEL_META: u32 = 6;
const K_APPEND_OPS: u32 = 7;
const K_PUT_SNAPSHOT: u32 = 8;
const K_DELETE_MODEL: u32 = 9;
const K_PUT_USER: u32 = 10;
const K_DELETE_USER: u32 = 11;
const K_PUT_JWT_KEY: u32 = 12;
const K_DELETE_JWT_KEY: u32 = 13;
const K_PUT_TOKEN: u32 = 14;
const K_DELETE_TOKEN: u32 = 15;
const K_SET_PERMISSIONS: u32 = 16;
const K_CLEAR_PERMISSIONS: u32 = 17;
const K_PUT_GROUP: u32 = 18;
const K_DELETE_GROUP: u32 = 19;
const K_ADD_GROUP_MEMBER: u32 = 20;
const K_REMOVE_GROUP_MEMBER: u32 = 21;
const K_PUT_ACTIVITY: u32 = 22;
const K_DELETE_ACTIVITY: u32 = 23;
const K_INDEX_MODEL: u32 = 24;

fn target_to_p(target: &PermissionTarget) -> PTarget {
    let (kind, id, activity_type) = match target {
        PermissionTarget::Global => (1, "", ""),
        PermissionTarget::Collection(id) => (2, id.as_str(), ""),
        PermissionTarget::Model(id) => (3, id.as_str(), ""),
        PermissionTarget::Chat(id) => (4, id.as_str(), ""),
        PermissionTarget::Activity { kind, id } => (5, id.as_str(), kind.as_str()),
    };
    PTarget {
        kind,
        id: id.to_string(),
        activity_type: activity_type.to_string(),
    }
}

fn target_from_p(p: Option<PTarget>) -> StoreResult<PermissionTarget> {
    let p = p.ok_or_else(|| corrupt("permission change", "no target"))?;
    Ok(match p.kind {
        1 => PermissionTarget::Global,
        2 => PermissionTarget::Collection(p.id),
        3 => PermissionTarget::Model(p.id),
        4 => PermissionTarget::Chat(p.id),
        5 => PermissionTarget::Activity {
            kind: p.activity_type,
            id: p.id,
        },
        other => {
            return Err(corrupt(
                "permission change",
                format_args!("unknown target kind {other}"),
            ))
        }
    })
}

fn grantee_to_p(grantee: &Grantee) -> PGrantee {
    match grantee {
        Grantee::World => PGrantee {
            kind: 1,
            ..PGrantee::default()
        },
        Grantee::User(user_type, name) => PGrantee {
            kind: 2,
            user_type: user_type.as_i32(),
            name: name.clone(),
        },
        Grantee::Group(id) => PGrantee {
            kind: 3,
            name: id.clone(),
            ..PGrantee::default()
        },
    }
}

fn grantee_from_p(p: Option<PGrantee>) -> StoreResult<Grantee> {
    let p = p.ok_or_else(|| corrupt("permission change", "no grantee"))?;
    Ok(match p.kind {
        1 => Grantee::World,
        2 => Grantee::User(user_type_from_p(p.user_type, "permission change")?, p.name),
        3 => Grantee::Group(p.name),
        other => {
            return Err(corrupt(
                "permission change",
                format_args!("unknown grantee kind {other}"),
            ))
        }
    })
}

/// The stored number of a [`GranteeKind`] (0 is none: corrupt, so that a damaged change never
/// clears every row).
fn grantee_kind_to_p(kind: GranteeKind) -> u32 {
    match kind {
        GranteeKind::All => 1,
        GranteeKind::World => 2,
        GranteeKind::Users => 3,
        GranteeKind::Groups => 4,
    }
}

fn grantee_kind_from_p(n: u32) -> StoreResult<GranteeKind> {
    match n {
        1 => Ok(GranteeKind::All),
        2 => Ok(GranteeKind::World),
        3 => Ok(GranteeKind::Users),
        4 => Ok(GranteeKind::Groups),
        other => Err(corrupt(
            "permission clearing",
            format_args!("unknown grantee kind {other}"),
        )),
    }
}

/// The `PWrite` of one of the access-control changes; `None` for every other change.
fn acl_write_to_p(op: &WriteOp) -> Option<PWrite> {
    Some(match op {
        WriteOp::SetPermissions {
            domain,
            target,
            grantee,
            permissions,
        } => PWrite {
            target: Some(target_to_p(target)),
            grantee: Some(grantee_to_p(grantee)),
            records: vec![record(|b| encode_permissions(permissions, b))],
            ..write_in(K_SET_PERMISSIONS, domain)
        },
        WriteOp::ClearPermissions {
            domain,
            target,
            kind,
        } => PWrite {
            target: Some(target_to_p(target)),
            grantee_kind: grantee_kind_to_p(*kind),
            ..write_in(K_CLEAR_PERMISSIONS, domain)
        },
        WriteOp::PutGroup { domain, record: r } => PWrite {
            records: vec![record(|b| encode_group(r, b))],
            ..write_in(K_PUT_GROUP, domain)
        },
        WriteOp::DeleteGroup { domain, id } => PWrite {
            id: id.clone(),
            ..write_in(K_DELETE_GROUP, domain)
        },
        WriteOp::AddGroupMember {
            domain,
            group,
            user_type,
            username,
        }
        | WriteOp::RemoveGroupMember {
            domain,
            group,
            user_type,
            username,
        } => {
            let kind = if matches!(op, WriteOp::AddGroupMember { .. }) {
                K_ADD_GROUP_MEMBER
            } else {
                K_REMOVE_GROUP_MEMBER
            };
            PWrite {
                id: group.clone(),
                user_type: user_type.as_i32(),
                username: username.clone(),
                ..write_in(kind, domain)
            }
        }
        WriteOp::PutActivity(r) => PWrite {
            records: vec![record(|b| encode_activity(r, b))],
            ..write_in(K_PUT_ACTIVITY, &r.domain)
        },
        WriteOp::DeleteActivity {
            domain,
            activity_type,
            id,
        } => PWrite {
            // The activity is named as a permission target names it.
            target: Some(target_to_p(&PermissionTarget::Activity {
                kind: activity_type.clone(),
                id: id.clone(),
            })),
            ..write_in(K_DELETE_ACTIVITY, domain)
        },
        _ => return None,
    })
}

/// The access-control change `p` holds (of kind `p.kind`, one of the six), in `domain`.
fn acl_write_from_p(mut p: PWrite, domain: DomainKey) -> StoreResult<WriteOp> {
    Ok(match p.kind {
        K_SET_PERMISSIONS => WriteOp::SetPermissions {
            permissions: decode_permissions(&one_record(&mut p, "permission row")?)?,
            target: target_from_p(p.target)?,
            grantee: grantee_from_p(p.grantee)?,
            domain,
        },
        K_CLEAR_PERMISSIONS => WriteOp::ClearPermissions {
            target: target_from_p(p.target)?,
            kind: grantee_kind_from_p(p.grantee_kind)?,
            domain,
        },
        K_PUT_GROUP => WriteOp::PutGroup {
            record: decode_group(&one_record(&mut p, "group")?)?,
            domain,
        },
        K_DELETE_GROUP => WriteOp::DeleteGroup { domain, id: p.id },
        K_ADD_GROUP_MEMBER => WriteOp::AddGroupMember {
            user_type: user_type_from_p(p.user_type, "group member")?,
            group: p.id,
            username: p.username,
            domain,
        },
        K_REMOVE_GROUP_MEMBER => WriteOp::RemoveGroupMember {
            user_type: user_type_from_p(p.user_type, "group member")?,
            group: p.id,
            username: p.username,
            domain,
        },
        K_PUT_ACTIVITY => WriteOp::PutActivity(decode_activity(&one_record(&mut p, "activity")?)?),
        K_DELETE_ACTIVITY => match target_from_p(p.target)? {
            PermissionTarget::Activity { kind, id } => WriteOp::DeleteActivity {
                domain,
                activity_type: kind,
                id,
            },
            _ => return Err(corrupt("activity deletion", "not an activity")),
        },
        other => {
            return Err(StoreError::Corrupt(format!(
                "unknown change kind {other} in a write batch"
            )))
        }
    })
}

fn record(encode: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut buf = Vec::new();
    encode(&mut buf);
    buf
}

fn fallible_record(encode: impl FnOnce(&mut Vec<u8>) -> StoreResult<()>) -> StoreResult<Vec<u8>> {
    let mut buf = Vec::new();
    encode(&mut buf)?;
    Ok(buf)
}

fn write_in(kind: u32, domain: &DomainKey) -> PWrite {
    PWrite {
        kind,
        namespace: domain.namespace.clone(),
        domain: domain.id.clone(),
        ..PWrite::default()
    }
}

fn write_to_p(op: &WriteOp) -> StoreResult<PWrite> {
    if let Some(p) = acl_write_to_p(op)
        .or_else(|| chat::to_p(op))
        .or_else(|| credentials::to_p(op))
        .or_else(|| webhooks::to_p(op))
    {
        return Ok(p);
    }
    Ok(match op {
        WriteOp::SetPermissions { .. }
        | WriteOp::ClearPermissions { .. }
        | WriteOp::PutGroup { .. }
        | WriteOp::DeleteGroup { .. }
        | WriteOp::AddGroupMember { .. }
        | WriteOp::RemoveGroupMember { .. }
        | WriteOp::PutActivity(_)
        | WriteOp::DeleteActivity { .. }
        | WriteOp::PutChat(_)
        | WriteOp::AppendChatEvent { .. }
        | WriteOp::DeleteChat { .. }
        | WriteOp::PutAdmin(_)
        | WriteOp::DeleteAdmin { .. }
        | WriteOp::PutApiKey(_)
        | WriteOp::DeleteApiKey { .. }
        | WriteOp::PutWebhook(_)
        | WriteOp::DeleteWebhook { .. }
        | WriteOp::PutDelivery(_)
        | WriteOp::DeleteDelivery { .. } => {
            return Err(StoreError::Invalid(
                "access-control change without an encoding".into(),
            ))
        }
        WriteOp::PutDomain(r) => PWrite {
            records: vec![record(|b| encode_domain(r, b))],
            ..write_in(K_PUT_DOMAIN, &r.key)
        },
        WriteOp::DeleteDomain(key) => write_in(K_DELETE_DOMAIN, key),
        WriteOp::PutCollection { domain, record: r } => PWrite {
            records: vec![record(|b| encode_collection(r, b))],
            ..write_in(K_PUT_COLLECTION, domain)
        },
        WriteOp::DeleteCollection { domain, id } => PWrite {
            id: id.clone(),
            ..write_in(K_DELETE_COLLECTION, domain)
        },
        WriteOp::CreateModel { meta, snapshot } => PWrite {
            records: vec![
                record(|b| encode_model_meta(meta, b)),
                fallible_record(|b| encode_snapshot(snapshot, b))?,
            ],
            ..write_in(K_CREATE_MODEL, &meta.domain)
        },
        WriteOp::PutModelMeta(meta) => PWrite {
            records: vec![record(|b| encode_model_meta(meta, b))],
            ..write_in(K_PUT_MODEL_META, &meta.domain)
        },
        WriteOp::AppendOps { number, ops } => PWrite {
            kind: K_APPEND_OPS,
            number: *number,
            records: ops
                .iter()
                .map(|r| fallible_record(|b| encode_op(r, b)))
                .collect::<StoreResult<_>>()?,
            ..PWrite::default()
        },
        WriteOp::AppendEncoded { number, ops } => PWrite {
            kind: K_APPEND_OPS,
            number: *number,
            records: ops.iter().map(|(_, r)| r.to_vec()).collect(),
            ..PWrite::default()
        },
        WriteOp::PutSnapshot { number, snapshot } => PWrite {
            kind: K_PUT_SNAPSHOT,
            number: *number,
            records: vec![fallible_record(|b| encode_snapshot(snapshot, b))?],
            ..PWrite::default()
        },
        WriteOp::DeleteModel { domain, id } => PWrite {
            id: id.clone(),
            ..write_in(K_DELETE_MODEL, domain)
        },
        WriteOp::IndexModel {
            domain,
            id,
            number,
            entries,
        } => PWrite {
            id: id.clone(),
            number: *number,
            records: entries.iter().cloned().collect(),
            ..write_in(K_INDEX_MODEL, domain)
        },
        WriteOp::PutUser { domain, record: r } => PWrite {
            records: vec![record(|b| encode_user(r, b))],
            ..write_in(K_PUT_USER, domain)
        },
        WriteOp::DeleteUser {
            domain,
            user_type,
            username,
        } => PWrite {
            id: username.clone(),
            user_type: user_type.as_i32(),
            ..write_in(K_DELETE_USER, domain)
        },
        WriteOp::PutJwtKey { domain, record: r } => PWrite {
            records: vec![record(|b| encode_jwt_key(r, b))],
            ..write_in(K_PUT_JWT_KEY, domain)
        },
        WriteOp::DeleteJwtKey { domain, id } => PWrite {
            id: id.clone(),
            ..write_in(K_DELETE_JWT_KEY, domain)
        },
        WriteOp::PutReconnectToken { domain, record: r } => PWrite {
            records: vec![record(|b| encode_reconnect_token(r, b))],
            ..write_in(K_PUT_TOKEN, domain)
        },
        WriteOp::DeleteReconnectToken { domain, token } => PWrite {
            id: token.clone(),
            ..write_in(K_DELETE_TOKEN, domain)
        },
    })
}

fn one_record(p: &mut PWrite, what: &str) -> StoreResult<Vec<u8>> {
    if p.records.len() != 1 {
        return Err(StoreError::Corrupt(format!(
            "{what} change holds {} records",
            p.records.len()
        )));
    }
    Ok(p.records.pop().unwrap_or_default())
}

fn write_from_p(mut p: PWrite) -> StoreResult<WriteOp> {
    let domain = DomainKey {
        namespace: std::mem::take(&mut p.namespace),
        id: std::mem::take(&mut p.domain),
    };
    Ok(match p.kind {
        K_PUT_DOMAIN => WriteOp::PutDomain(decode_domain(&one_record(&mut p, "domain")?)?),
        K_DELETE_DOMAIN => WriteOp::DeleteDomain(domain),
        K_PUT_COLLECTION => WriteOp::PutCollection {
            record: decode_collection(&one_record(&mut p, "collection")?)?,
            domain,
        },
        K_DELETE_COLLECTION => WriteOp::DeleteCollection { domain, id: p.id },
        K_CREATE_MODEL => {
            if p.records.len() != 2 {
                return Err(StoreError::Corrupt(format!(
                    "model creation holds {} records",
                    p.records.len()
                )));
            }
            WriteOp::CreateModel {
                meta: decode_model_meta(&p.records[0])?,
                snapshot: decode_snapshot(&p.records[1])?,
            }
        }
        K_PUT_MODEL_META => {
            WriteOp::PutModelMeta(decode_model_meta(&one_record(&mut p, "model metadata")?)?)
        }
        K_APPEND_OPS => WriteOp::AppendOps {
            number: p.number,
            ops: p
                .records
                .iter()
                .map(|r| decode_op(r))
                .collect::<StoreResult<_>>()?,
        },
        K_PUT_SNAPSHOT => WriteOp::PutSnapshot {
            number: p.number,
            snapshot: decode_snapshot(&one_record(&mut p, "snapshot")?)?,
        },
        K_DELETE_MODEL => WriteOp::DeleteModel { domain, id: p.id },
        K_INDEX_MODEL => WriteOp::IndexModel {
            domain,
            id: p.id,
            number: p.number,
            entries: p.records.into_iter().collect(),
        },
        K_PUT_USER => WriteOp::PutUser {
            record: decode_user(&one_record(&mut p, "user")?)?,
            domain,
        },
        K_DELETE_USER => WriteOp::DeleteUser {
            user_type: user_type_from_p(p.user_type, "user deletion")?,
            username: p.id,
            domain,
        },
        K_PUT_JWT_KEY => WriteOp::PutJwtKey {
            record: decode_jwt_key(&one_record(&mut p, "JWT key")?)?,
            domain,
        },
        K_DELETE_JWT_KEY => WriteOp::DeleteJwtKey { domain, id: p.id },
        K_PUT_TOKEN => WriteOp::PutReconnectToken {
            record: decode_reconnect_token(&one_record(&mut p, "reconnect token")?)?,
            domain,
        },
        K_DELETE_TOKEN => WriteOp::DeleteReconnectToken {
            domain,
            token: p.id,
        },
        _ => {
            if let Some(op) = chat::from_p(&mut p, &domain) {
                return op;
            }
            if let Some(op) = credentials::from_p(&mut p, &domain) {
                return op;
            }
            if let Some(op) = webhooks::from_p(&mut p, &domain) {
                return op;
            }
            return acl_write_from_p(p, domain);
        }
    })
}

/// Tag of `PBatch.writes` and of `PWrite.kind`.
const TAG_WRITES: u32 = 1;
const TAG_KIND: u32 = 1;
/// Tag of `PWrite.number`.
const TAG_NUMBER: u32 = 5;
/// Tag of `PWrite.records`.
const TAG_RECORDS: u32 = 7;

/// Appends an append of `records` to model `number` as one length-delimited `writes` entry
/// (the bytes `PWrite` would give, without building it).
fn append_change(number: u64, records: &EncodedOps, body: &mut Vec<u8>) {
    let mut len = 1 + encoded_len_varint(u64::from(K_APPEND_OPS));
    if number != 0 {
        len += 1 + encoded_len_varint(number);
    }
    for (_, r) in records.iter() {
        len += 1 + encoded_len_varint(r.len() as u64) + r.len();
    }
    body.reserve(len + 10);
    encode_key(TAG_WRITES, WireType::LengthDelimited, body);
    encode_varint(len as u64, body);
    encode_key(TAG_KIND, WireType::Varint, body);
    encode_varint(u64::from(K_APPEND_OPS), body);
    if number != 0 {
        encode_key(TAG_NUMBER, WireType::Varint, body);
        encode_varint(number, body);
    }
    for (_, r) in records.iter() {
        encode_key(TAG_RECORDS, WireType::LengthDelimited, body);
        encode_varint(r.len() as u64, body);
        body.extend_from_slice(r);
    }
}

/// Appends one write batch to `buf`, length-delimited, so that several batches can follow each
/// other in one buffer. Fails (leaving `buf` as it was) only for value trees deeper than
/// [`codec::MAX_VALUE_DEPTH`].
pub fn encode_batch(batch: &[WriteOp], buf: &mut Vec<u8>) -> StoreResult<()> {
    // The batch's body: each change as a length-delimited `writes` entry.
    let mut body = Vec::new();
    for op in batch {
        match op {
            WriteOp::AppendOps { number, ops } => {
                append_change(*number, &EncodedOps::from_records(ops)?, &mut body)
            }
            WriteOp::AppendEncoded { number, ops } => append_change(*number, ops, &mut body),
            other => {
                let p = write_to_p(other)?;
                encode_key(TAG_WRITES, WireType::LengthDelimited, &mut body);
                encode_varint(p.encoded_len() as u64, &mut body);
                if p.encode(&mut body).is_err() {
                    unreachable_encode();
                }
            }
        }
    }
    buf.reserve(body.len() + 10);
    encode_varint(body.len() as u64, buf);
    buf.extend_from_slice(&body);
    Ok(())
}

/// Decodes every batch [`encode_batch`] appended to a buffer, in order.
pub fn decode_batches(mut bytes: &[u8]) -> StoreResult<Vec<Vec<WriteOp>>> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let p =
            PBatch::decode_length_delimited(&mut bytes).map_err(|e| corrupt("write batch", e))?;
        out.push(
            p.writes
                .into_iter()
                .map(write_from_p)
                .collect::<StoreResult<_>>()?,
        );
    }
    Ok(out)
}

/// One change of a logged batch, as the applier stores it.
#[derive(Debug)]
pub enum LoggedWrite<'a> {
    /// Operation records of model `number` (encoded as [`codec::encode_op`]), each with its
    /// version.
    AppendOps {
        /// The model's number.
        number: u64,
        /// `(version, record)` in log order.
        records: Vec<(u64, &'a [u8])>,
    },
    /// A snapshot record of model `number` at `version` (encoded as
    /// [`codec::encode_snapshot`]).
    PutSnapshot {
        /// The model's number.
        number: u64,
        /// The snapshot's version.
        version: u64,
        /// The record.
        record: &'a [u8],
    },
    /// Any other change, decoded.
    Other(WriteOp),
}

fn framing(e: impl std::fmt::Display) -> StoreError {
    corrupt("write batch", e)
}

/// A length-delimited field's bytes at the start of `bytes` (which it then starts after).
fn delimited<'a>(bytes: &mut &'a [u8]) -> StoreResult<&'a [u8]> {
    let len = usize::try_from(decode_varint(bytes).map_err(framing)?)
        .map_err(|_| framing("length out of range"))?;
    if len > bytes.len() {
        return Err(framing("a field runs past the end"));
    }
    let (field, rest) = bytes.split_at(len);
    *bytes = rest;
    Ok(field)
}

/// Reads every batch [`encode_batch`] appended to `bytes` into `out`, in order: appends of
/// operation records as slices of `bytes`, every other change decoded.
pub fn decode_logged<'a>(mut bytes: &'a [u8], out: &mut Vec<LoggedWrite<'a>>) -> StoreResult<()> {
    while !bytes.is_empty() {
        let mut batch = delimited(&mut bytes)?;
        while !batch.is_empty() {
            let (tag, wire) = decode_key(&mut batch).map_err(framing)?;
            if tag != TAG_WRITES || wire != WireType::LengthDelimited {
                prost::encoding::skip_field(wire, tag, &mut batch, DecodeContext::default())
                    .map_err(framing)?;
                continue;
            }
            let write = delimited(&mut batch)?;
            out.push(decode_write(write)?);
        }
    }
    Ok(())
}

/// One `PWrite`: an append as slices, anything else through prost.
fn decode_write(write: &[u8]) -> StoreResult<LoggedWrite<'_>> {
    let mut kind = 0u64;
    let mut number = 0u64;
    let mut records = Vec::new();
    let mut rest = write;
    while !rest.is_empty() {
        let (tag, wire) = decode_key(&mut rest).map_err(framing)?;
        match (tag, wire) {
            (TAG_KIND, WireType::Varint) => kind = decode_varint(&mut rest).map_err(framing)?,
            (TAG_NUMBER, WireType::Varint) => number = decode_varint(&mut rest).map_err(framing)?,
            (TAG_RECORDS, WireType::LengthDelimited) => records.push(delimited(&mut rest)?),
            _ => prost::encoding::skip_field(wire, tag, &mut rest, DecodeContext::default())
                .map_err(framing)?,
        }
    }
    if kind == u64::from(K_PUT_SNAPSHOT) && records.len() == 1 {
        let record = records[0];
        let version = codec::decode_snapshot_version(record)?;
        return Ok(LoggedWrite::PutSnapshot {
            number,
            version,
            record,
        });
    }
    if kind != u64::from(K_APPEND_OPS) {
        let p = PWrite::decode(write).map_err(framing)?;
        return Ok(LoggedWrite::Other(write_from_p(p)?));
    }
    let records = records
        .into_iter()
        .map(|r| Ok((codec::decode_op_time(r)?.0, r)))
        .collect::<StoreResult<_>>()?;
    Ok(LoggedWrite::AppendOps { number, records })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ot::{Data, OpKind, Value};
    use crate::store::test_records::op;
    use crate::store::{ModelMeta, Snapshot};

    fn batch(number: u64) -> Vec<WriteOp> {
        let domain = DomainKey {
            namespace: "ns".into(),
            id: "d".into(),
        };
        vec![
            WriteOp::AppendOps {
                number,
                ops: vec![
                    op(
                        2,
                        OpKind::StringSplice {
                            index: 3,
                            delete_count: 1,
                            insert: "é😀".into(),
                        },
                    ),
                    op(3, OpKind::NumberAdd { delta: 2.5 }),
                ],
            },
            WriteOp::PutSnapshot {
                number,
                snapshot: Snapshot {
                    version: 3,
                    timestamp_ms: 9,
                    data: Value {
                        id: "0:0".into(),
                        data: Data::Object(
                            [(
                                "text".into(),
                                Value {
                                    id: "0:1".into(),
                                    data: Data::String("abc".into()),
                                },
                            )]
                            .into(),
                        ),
                    },
                },
            },
            WriteOp::PutModelMeta(ModelMeta {
                domain,
                id: "m".into(),
                collection: "c".into(),
                number,
                created_ms: 1,
                modified_ms: 2,
                version: 3,
                value_prefix: 4,
                ephemeral: false,
            }),
        ]
    }

    /// Every access-control change, with every kind of target, grantee and clearing.
    fn acl_batch() -> Vec<WriteOp> {
        use crate::store::{GroupRecord, UserType};
        let domain = DomainKey::new("ns", "d\u{0}");
        let targets = [
            PermissionTarget::Global,
            PermissionTarget::Collection("c".into()),
            PermissionTarget::Model("m 😀".into()),
            PermissionTarget::Chat(String::new()),
            PermissionTarget::Activity {
                kind: "doc".into(),
                id: "a1".into(),
            },
        ];
        let grantees = [
            Grantee::World,
            Grantee::User(UserType::Anonymous, "bob".into()),
            Grantee::User(UserType::Normal, String::new()),
            Grantee::Group("g".into()),
        ];
        let kinds = [
            GranteeKind::All,
            GranteeKind::World,
            GranteeKind::Users,
            GranteeKind::Groups,
        ];
        let mut out = Vec::new();
        for (i, target) in targets.iter().enumerate() {
            for (j, grantee) in grantees.iter().enumerate() {
                out.push(WriteOp::SetPermissions {
                    domain: domain.clone(),
                    target: target.clone(),
                    grantee: grantee.clone(),
                    permissions: ["write", "read", "read"][..(i + j) % 4]
                        .iter()
                        .map(|p| p.to_string())
                        .collect(),
                });
            }
            out.push(WriteOp::ClearPermissions {
                domain: domain.clone(),
                target: target.clone(),
                kind: kinds[i % kinds.len()],
            });
        }
        out.push(WriteOp::ClearPermissions {
            domain: domain.clone(),
            target: PermissionTarget::Global,
            kind: GranteeKind::Groups,
        });
        out.extend([
            WriteOp::PutGroup {
                domain: domain.clone(),
                record: GroupRecord {
                    id: "g".into(),
                    description: "editors ✓".into(),
                },
            },
            WriteOp::AddGroupMember {
                domain: domain.clone(),
                group: "g".into(),
                user_type: UserType::Convergence,
                username: "admin".into(),
            },
            WriteOp::RemoveGroupMember {
                domain: domain.clone(),
                group: "g".into(),
                user_type: UserType::Normal,
                username: "bob".into(),
            },
            WriteOp::PutActivity(crate::store::ActivityRecord {
                domain: domain.clone(),
                activity_type: "board".into(),
                id: "b\u{0}1".into(),
                created_ms: -5,
                ephemeral: true,
            }),
            WriteOp::DeleteActivity {
                domain: domain.clone(),
                activity_type: "board".into(),
                id: "b1".into(),
            },
            WriteOp::PutChat(crate::store::ChatRecord {
                domain: domain.clone(),
                id: "direct:1".into(),
                kind: crate::store::ChatKind::Direct,
                private: true,
                name: "n".into(),
                topic: "t".into(),
                created_ms: 3,
                last_event_number: 2,
                last_event_ms: 4,
                members: vec![crate::store::ChatMember {
                    user: crate::store::UserId::normal("bob"),
                    max_seen: 1,
                }],
            }),
            WriteOp::AppendChatEvent {
                domain: domain.clone(),
                chat: "direct:1".into(),
                event: crate::store::ChatEvent {
                    number: 2,
                    timestamp_ms: 4,
                    user: crate::store::UserId::normal("bob"),
                    kind: crate::store::ChatEventKind::UserAdded(crate::store::UserId::normal(
                        "eve",
                    )),
                },
            },
            WriteOp::DeleteChat {
                domain: domain.clone(),
                id: "direct:1".into(),
            },
            WriteOp::DeleteGroup {
                domain,
                id: "g".into(),
            },
        ]);
        out
    }

    /// What the batch's prost messages encode to.
    fn reference(batch: &[WriteOp]) -> Vec<u8> {
        let p = PBatch {
            writes: batch.iter().map(|w| write_to_p(w).unwrap()).collect(),
        };
        p.encode_length_delimited_to_vec()
    }

    #[test]
    fn batches_encode_as_their_messages_and_decode_back() {
        for number in [0, 7, u64::MAX] {
            let b = batch(number);
            let mut buf = Vec::new();
            encode_batch(&b, &mut buf).unwrap();
            assert_eq!(buf, reference(&b), "model number {number}");
            encode_batch(&b, &mut buf).unwrap();
            let again = decode_batches(&buf).unwrap();
            assert_eq!(format!("{again:?}"), format!("{:?}", vec![b.clone(), b]));
        }
    }

    #[test]
    fn access_control_changes_encode_as_their_messages_and_decode_back() {
        let b = acl_batch();
        let mut buf = Vec::new();
        encode_batch(&b, &mut buf).unwrap();
        assert_eq!(buf, reference(&b));
        let mut mixed = batch(7);
        mixed.extend(acl_batch());
        encode_batch(&mixed, &mut buf).unwrap();
        let again = decode_batches(&buf).unwrap();
        assert_eq!(
            format!("{again:?}"),
            format!("{:?}", vec![b.clone(), mixed])
        );
        // The applier reads them back as decoded changes.
        let mut out = Vec::new();
        decode_logged(&buf, &mut out).unwrap();
        assert_eq!(out.len(), 2 * b.len() + 3);
        for (logged, op) in out.iter().zip(&b) {
            match logged {
                LoggedWrite::Other(w) => assert_eq!(format!("{w:?}"), format!("{op:?}")),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn access_control_changes_without_a_target_or_a_kind_are_corrupt() {
        let in_domain = |kind| write_in(kind, &DomainKey::new("ns", "d"));
        let target = Some(target_to_p(&PermissionTarget::Global));
        let bad = [
            // No target.
            PWrite {
                grantee_kind: 1,
                ..in_domain(K_CLEAR_PERMISSIONS)
            },
            // No clearing kind: never "clear everything" by default.
            PWrite {
                target: target.clone(),
                ..in_domain(K_CLEAR_PERMISSIONS)
            },
            PWrite {
                target: Some(PTarget {
                    kind: 9,
                    ..PTarget::default()
                }),
                grantee_kind: 1,
                ..in_domain(K_CLEAR_PERMISSIONS)
            },
            // No grantee.
            PWrite {
                target: target.clone(),
                records: vec![Vec::new()],
                ..in_domain(K_SET_PERMISSIONS)
            },
            PWrite {
                target,
                grantee: Some(PGrantee::default()),
                records: vec![Vec::new()],
                ..in_domain(K_SET_PERMISSIONS)
            },
            PWrite {
                user_type: 7,
                ..in_domain(K_ADD_GROUP_MEMBER)
            },
            in_domain(K_PUT_GROUP),
            in_domain(99),
        ];
        for p in bad {
            let bytes = PBatch {
                writes: vec![p.clone()],
            }
            .encode_length_delimited_to_vec();
            assert!(
                matches!(decode_batches(&bytes), Err(StoreError::Corrupt(_))),
                "{p:?}"
            );
            assert!(matches!(
                decode_logged(&bytes, &mut Vec::new()),
                Err(StoreError::Corrupt(_))
            ));
        }
    }

    #[test]
    fn logged_appends_are_the_encoded_records_themselves() {
        let b = batch(7);
        let mut buf = Vec::new();
        encode_batch(&b, &mut buf).unwrap();
        let mut out = Vec::new();
        decode_logged(&buf, &mut out).unwrap();
        assert_eq!(out.len(), 3);
        let WriteOp::AppendOps { ops, .. } = &b[0] else {
            unreachable!()
        };
        match &out[0] {
            LoggedWrite::AppendOps { number, records } => {
                assert_eq!(*number, 7);
                assert_eq!(records.len(), 2);
                for ((version, bytes), r) in records.iter().zip(ops) {
                    let mut expected = Vec::new();
                    encode_op(r, &mut expected).unwrap();
                    assert_eq!(*version, r.version);
                    assert_eq!(*bytes, &expected[..]);
                }
            }
            other => panic!("{other:?}"),
        }
        match &out[1] {
            LoggedWrite::PutSnapshot {
                number,
                version,
                record,
            } => {
                assert_eq!((*number, *version), (7, 3));
                let WriteOp::PutSnapshot { snapshot, .. } = &b[1] else {
                    unreachable!()
                };
                assert_eq!(&decode_snapshot(record).unwrap(), snapshot);
            }
            other => panic!("{other:?}"),
        }
        match &out[2] {
            LoggedWrite::Other(w) => assert_eq!(format!("{w:?}"), format!("{:?}", b[2])),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn damaged_framing_is_corrupt_not_a_panic() {
        let mut buf = Vec::new();
        encode_batch(&batch(7), &mut buf).unwrap();
        encode_batch(&acl_batch(), &mut buf).unwrap();
        for cut in 0..buf.len() {
            let mut out = Vec::new();
            let _ = decode_logged(&buf[..cut], &mut out);
            let mut flipped = buf.clone();
            flipped[cut] ^= 0xFF;
            let _ = decode_logged(&flipped, &mut out);
        }
        assert!(decode_logged(&[0xFF; 11], &mut Vec::new()).is_err());
    }
}
