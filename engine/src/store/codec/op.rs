//! Log records (one operation each): their prost message, and their encoding through it or
//! through the splice fast path (`super::super::splice_codec`).

use prost::Message;

use super::{applied_from_p, applied_to_p, corrupt, put, PAppliedOp};
use crate::ot::AppliedOperation;
use crate::store::{OpMark, OpRecord, StoreError, StoreResult};

/// A log record. A discrete operation is one entry in `ops` with `compound` false.
#[derive(Clone, PartialEq, Message)]
struct POpRecord {
    #[prost(uint64, tag = "1")]
    version: u64,
    #[prost(sint64, tag = "2")]
    timestamp_ms: i64,
    #[prost(string, tag = "3")]
    session: String,
    #[prost(string, tag = "4")]
    user: String,
    #[prost(bool, tag = "5")]
    compound: bool,
    #[prost(message, repeated, tag = "6")]
    ops: Vec<PAppliedOp>,
    #[prost(uint64, optional, tag = "7")]
    seq: Option<u64>,
    #[prost(uint64, repeated, tag = "8")]
    undoes: Vec<u64>,
    #[prost(uint64, optional, tag = "9")]
    restores: Option<u64>,
}

/// The first fields of [`POpRecord`]; decoding skips the rest.
#[derive(Clone, PartialEq, Message)]
struct POpHeader {
    #[prost(uint64, tag = "1")]
    version: u64,
    #[prost(sint64, tag = "2")]
    timestamp_ms: i64,
}

/// An operation record's fields, borrowed: what [`encode_op_fields`] writes.
#[derive(Clone, Copy, Debug)]
pub struct OpFields<'a> {
    /// The version the operation produced.
    pub version: u64,
    /// When it was applied (epoch ms).
    pub timestamp_ms: i64,
    /// The session that submitted it.
    pub session: &'a str,
    /// The user behind that session.
    pub user: &'a str,
    /// The submitting client's sequence number (none for host changes).
    pub seq: Option<u64>,
    /// The operation as applied.
    pub op: &'a AppliedOperation,
    /// Its undo or restore mark.
    pub mark: Option<&'a OpMark>,
}

impl<'a> OpFields<'a> {
    /// The fields of a record.
    pub fn of(r: &'a OpRecord) -> Self {
        OpFields {
            version: r.version,
            timestamp_ms: r.timestamp_ms,
            session: &r.session,
            user: &r.user,
            seq: r.seq,
            op: &r.op,
            mark: r.mark.as_ref(),
        }
    }
}

/// Encodes a log record. Fails only for value trees deeper than [`MAX_VALUE_DEPTH`].
pub fn encode_op(r: &OpRecord, buf: &mut Vec<u8>) -> StoreResult<()> {
    encode_op_fields(&OpFields::of(r), buf)
}

/// Encodes a log record from its fields (as [`encode_op`] does the record).
pub fn encode_op_fields(r: &OpFields<'_>, buf: &mut Vec<u8>) -> StoreResult<()> {
    if crate::store::splice_codec::encode_splices(r, buf) {
        return Ok(());
    }
    encode_op_message(r, buf)
}

/// [`encode_op`] through the prost messages (every kind of operation).
pub(in crate::store) fn encode_op_message(r: &OpFields<'_>, buf: &mut Vec<u8>) -> StoreResult<()> {
    let (compound, ops) = match r.op {
        AppliedOperation::Discrete(a) => (false, vec![applied_to_p(a)?]),
        AppliedOperation::Compound(list) => (
            true,
            list.iter().map(applied_to_p).collect::<StoreResult<_>>()?,
        ),
    };
    put(
        &POpRecord {
            version: r.version,
            timestamp_ms: r.timestamp_ms,
            session: r.session.to_string(),
            user: r.user.to_string(),
            compound,
            ops,
            seq: r.seq,
            undoes: match r.mark {
                Some(OpMark::Undoes(v)) => v.clone(),
                _ => Vec::new(),
            },
            restores: match r.mark {
                Some(OpMark::Restores(v)) => Some(*v),
                _ => None,
            },
        },
        buf,
    );
    Ok(())
}

/// Decodes a log record.
pub fn decode_op(bytes: &[u8]) -> StoreResult<OpRecord> {
    if let Some(r) = crate::store::splice_codec::decode_splices(bytes) {
        return Ok(r);
    }
    decode_op_message(bytes)
}

/// [`decode_op`] through the prost messages (every kind of operation).
pub(in crate::store) fn decode_op_message(bytes: &[u8]) -> StoreResult<OpRecord> {
    let p = POpRecord::decode(bytes).map_err(|e| corrupt("operation record", e))?;
    let op = if p.compound {
        AppliedOperation::Compound(
            p.ops
                .into_iter()
                .map(applied_from_p)
                .collect::<StoreResult<_>>()?,
        )
    } else {
        if p.ops.len() != 1 {
            return Err(StoreError::Corrupt(format!(
                "discrete operation record holds {} operations",
                p.ops.len()
            )));
        }
        let mut ops = p.ops;
        let one = ops
            .pop()
            .ok_or_else(|| StoreError::Corrupt("empty operation record".into()))?;
        AppliedOperation::Discrete(applied_from_p(one)?)
    };
    Ok(OpRecord {
        version: p.version,
        timestamp_ms: p.timestamp_ms,
        session: p.session.into(),
        user: p.user.into(),
        seq: p.seq,
        op,
        mark: match (p.undoes.is_empty(), p.restores) {
            (false, _) => Some(OpMark::Undoes(p.undoes)),
            (true, Some(v)) => Some(OpMark::Restores(v)),
            (true, None) => None,
        },
    })
}

/// Decodes only the version and timestamp of a log record (cheap; used to search by time).
pub fn decode_op_time(bytes: &[u8]) -> StoreResult<(u64, i64)> {
    let p = POpHeader::decode(bytes).map_err(|e| corrupt("operation record", e))?;
    Ok((p.version, p.timestamp_ms))
}
