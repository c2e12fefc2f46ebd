//! A direct encoder and decoder for the operation records of string splices (nearly every
//! record a text editor writes): the same bytes as [`super::codec::encode_op`]'s prost
//! messages, written and read without building them. The decoder takes only records laid out
//! as the encoder writes them and leaves anything else to prost.

use prost::encoding::WireType;
use prost::encoding::{decode_key, decode_varint, encode_key, encode_varint, encoded_len_varint};

use super::codec::OpFields;
use super::OpRecord;
use crate::ot::{write_wtf8, wtf8_len};
use crate::ot::{AppliedOp, AppliedOperation, DiscreteOp, JsString, OpKind, Undo, ValueId};

fn zigzag(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

/// Bytes of a field's key (every tag used here is below 16).
const KEY: usize = 1;

fn varint_field_len(value: u64) -> usize {
    KEY + encoded_len_varint(value)
}

fn bytes_field_len(len: usize) -> usize {
    KEY + encoded_len_varint(len as u64) + len
}

/// The splice fields of one applied operation, if it is a splice with text undo (or none).
struct Splice<'a> {
    op: &'a AppliedOp,
    index: i64,
    delete_count: i64,
    insert: &'a [u16],
    removed: Option<&'a [u16]>,
}

impl<'a> Splice<'a> {
    fn of(op: &'a AppliedOp) -> Option<Self> {
        let OpKind::StringSplice {
            index,
            delete_count,
            insert,
        } = &op.op.kind
        else {
            return None;
        };
        let removed = match &op.undo {
            Undo::None => None,
            Undo::Text(t) => Some(t.units()),
            _ => return None,
        };
        Some(Splice {
            op,
            index: *index,
            delete_count: *delete_count,
            insert: insert.units(),
            removed,
        })
    }

    /// Length of the `PSplice` message.
    fn splice_len(&self, insert_len: usize) -> usize {
        let mut len = 0;
        if self.index != 0 {
            len += varint_field_len(zigzag(self.index));
        }
        if self.delete_count != 0 {
            len += varint_field_len(zigzag(self.delete_count));
        }
        if insert_len != 0 {
            len += bytes_field_len(insert_len);
        }
        len
    }

    /// Length of the `PAppliedOp` message, given the WTF-8 lengths of its texts.
    fn applied_len(&self, insert_len: usize, removed_len: usize) -> usize {
        let id = self.op.op.id.as_str().len();
        let mut len = 0;
        if id != 0 {
            len += bytes_field_len(id);
        }
        if self.op.op.no_op {
            len += varint_field_len(1);
        }
        len += bytes_field_len(self.splice_len(insert_len));
        if self.removed.is_some() {
            len += bytes_field_len(removed_len);
        }
        len
    }

    fn encode(&self, buf: &mut Vec<u8>) {
        let insert_len = wtf8_len(self.insert);
        let removed_len = self.removed.map_or(0, wtf8_len);
        encode_key(6, WireType::LengthDelimited, buf);
        encode_varint(self.applied_len(insert_len, removed_len) as u64, buf);
        let id = self.op.op.id.as_str();
        if !id.is_empty() {
            encode_key(1, WireType::LengthDelimited, buf);
            encode_varint(id.len() as u64, buf);
            buf.extend_from_slice(id.as_bytes());
        }
        if self.op.op.no_op {
            encode_key(2, WireType::Varint, buf);
            encode_varint(1, buf);
        }
        encode_key(3, WireType::LengthDelimited, buf);
        encode_varint(self.splice_len(insert_len) as u64, buf);
        if self.index != 0 {
            encode_key(1, WireType::Varint, buf);
            encode_varint(zigzag(self.index), buf);
        }
        if self.delete_count != 0 {
            encode_key(2, WireType::Varint, buf);
            encode_varint(zigzag(self.delete_count), buf);
        }
        if insert_len != 0 {
            encode_key(3, WireType::LengthDelimited, buf);
            encode_varint(insert_len as u64, buf);
            write_wtf8(self.insert, buf);
        }
        if let Some(removed) = self.removed {
            encode_key(4, WireType::LengthDelimited, buf);
            encode_varint(removed_len as u64, buf);
            write_wtf8(removed, buf);
        }
    }
}

/// Encodes `r` into `buf` when every operation in it is a string splice; returns false (and
/// writes nothing) otherwise.
pub(super) fn encode_splices(r: &OpFields<'_>, buf: &mut Vec<u8>) -> bool {
    if r.mark.is_some() {
        return false;
    }
    let (compound, ops) = match r.op {
        AppliedOperation::Discrete(a) => (false, std::slice::from_ref(a)),
        AppliedOperation::Compound(list) => (true, list.as_slice()),
    };
    let mut splices = [const { None }; 4];
    if ops.len() > splices.len() {
        return false;
    }
    for (slot, op) in splices.iter_mut().zip(ops) {
        match Splice::of(op) {
            Some(s) => *slot = Some(s),
            None => return false,
        }
    }
    if r.version != 0 {
        encode_key(1, WireType::Varint, buf);
        encode_varint(r.version, buf);
    }
    if r.timestamp_ms != 0 {
        encode_key(2, WireType::Varint, buf);
        encode_varint(zigzag(r.timestamp_ms), buf);
    }
    for (tag, text) in [(3, r.session), (4, r.user)] {
        if !text.is_empty() {
            encode_key(tag, WireType::LengthDelimited, buf);
            encode_varint(text.len() as u64, buf);
            buf.extend_from_slice(text.as_bytes());
        }
    }
    if compound {
        encode_key(5, WireType::Varint, buf);
        encode_varint(1, buf);
    }
    for splice in splices.iter().flatten() {
        splice.encode(buf);
    }
    if let Some(seq) = r.seq {
        encode_key(7, WireType::Varint, buf);
        encode_varint(seq, buf);
    }
    true
}

fn unzigzag(n: u64) -> i64 {
    ((n >> 1) as i64) ^ -((n & 1) as i64)
}

/// A field's key at the start of `bytes`, if its tag is above `after` (fields come in tag
/// order) and its wire type is `wire`.
fn key(bytes: &mut &[u8], after: u32, wire: WireType) -> Option<u32> {
    let mut peek = *bytes;
    let (tag, w) = decode_key(&mut peek).ok()?;
    (tag > after && w == wire).then(|| {
        *bytes = peek;
        tag
    })
}

fn delimited<'a>(bytes: &mut &'a [u8]) -> Option<&'a [u8]> {
    let len = usize::try_from(decode_varint(bytes).ok()?).ok()?;
    if len > bytes.len() {
        return None;
    }
    let (field, rest) = bytes.split_at(len);
    *bytes = rest;
    Some(field)
}

/// The tag and wire type of the field at the start of `bytes`.
fn next_tag(bytes: &[u8]) -> Option<(u32, WireType)> {
    let mut peek = bytes;
    decode_key(&mut peek).ok()
}

/// Decodes one `PAppliedOp` holding a splice.
fn decode_splice(mut bytes: &[u8]) -> Option<AppliedOp> {
    let mut id = "";
    let mut no_op = false;
    let (mut index, mut delete_count, mut insert) = (0, 0, JsString::new());
    let mut undo = Undo::None;
    let mut spliced = false;
    let mut last = 0;
    while !bytes.is_empty() {
        let (tag, wire) = next_tag(bytes)?;
        match (tag, wire) {
            (1, WireType::LengthDelimited) if last < 1 => {
                key(&mut bytes, last, wire)?;
                id = std::str::from_utf8(delimited(&mut bytes)?).ok()?;
            }
            (2, WireType::Varint) if last < 2 => {
                key(&mut bytes, last, wire)?;
                no_op = decode_varint(&mut bytes).ok()? != 0;
            }
            (3, WireType::LengthDelimited) if last < 3 => {
                key(&mut bytes, last, wire)?;
                let mut splice = delimited(&mut bytes)?;
                let mut inner = 0;
                while !splice.is_empty() {
                    let (t, w) = next_tag(splice)?;
                    key(&mut splice, inner, w)?;
                    match (t, w) {
                        (1, WireType::Varint) => index = unzigzag(decode_varint(&mut splice).ok()?),
                        (2, WireType::Varint) => {
                            delete_count = unzigzag(decode_varint(&mut splice).ok()?)
                        }
                        (3, WireType::LengthDelimited) => {
                            insert = JsString::from_wtf8(delimited(&mut splice)?).ok()?
                        }
                        _ => return None,
                    }
                    inner = t;
                }
                spliced = true;
            }
            (4, WireType::LengthDelimited) if last < 4 => {
                key(&mut bytes, last, wire)?;
                undo = Undo::Text(JsString::from_wtf8(delimited(&mut bytes)?).ok()?);
            }
            _ => return None,
        }
        last = tag;
    }
    spliced.then(|| AppliedOp {
        op: DiscreteOp {
            id: ValueId::from(id),
            no_op,
            kind: OpKind::StringSplice {
                index,
                delete_count,
                insert,
            },
        },
        undo,
    })
}

/// Decodes a record [`encode_splices`] wrote; `None` for anything else (other kinds, other
/// layouts, damage), which [`super::codec::decode_op`] then reads through prost.
pub(super) fn decode_splices(mut bytes: &[u8]) -> Option<OpRecord> {
    let (mut version, mut timestamp_ms, mut seq) = (0, 0, None);
    let (mut session, mut user) = ("", "");
    let mut compound = false;
    let mut ops = Vec::new();
    let mut last = 0;
    while !bytes.is_empty() {
        let (tag, wire) = next_tag(bytes)?;
        // Operations repeat; every other field appears at most once, in tag order.
        let after = if tag == 6 { last.min(5) } else { last };
        key(&mut bytes, after, wire)?;
        match (tag, wire) {
            (1, WireType::Varint) => version = decode_varint(&mut bytes).ok()?,
            (2, WireType::Varint) => timestamp_ms = unzigzag(decode_varint(&mut bytes).ok()?),
            (3, WireType::LengthDelimited) => {
                session = std::str::from_utf8(delimited(&mut bytes)?).ok()?
            }
            (4, WireType::LengthDelimited) => {
                user = std::str::from_utf8(delimited(&mut bytes)?).ok()?
            }
            (5, WireType::Varint) => compound = decode_varint(&mut bytes).ok()? != 0,
            (6, WireType::LengthDelimited) => ops.push(decode_splice(delimited(&mut bytes)?)?),
            (7, WireType::Varint) => seq = Some(decode_varint(&mut bytes).ok()?),
            _ => return None,
        }
        last = tag;
    }
    let op = if compound {
        AppliedOperation::Compound(ops)
    } else {
        let one = ops.pop()?;
        if !ops.is_empty() {
            return None;
        }
        AppliedOperation::Discrete(one)
    };
    Some(OpRecord {
        version,
        timestamp_ms,
        session: session.into(),
        user: user.into(),
        seq,
        op,
        mark: None,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use proptest::prelude::*;

    use super::*;
    use crate::ot::{DiscreteOp, JsString, ValueId};
    use crate::store::codec;

    fn text() -> impl Strategy<Value = JsString> {
        // ASCII, two- and three-byte units, pairs and lone surrogates.
        let unit = prop_oneof![
            0x20u16..0x7F,
            0x80u16..0x800,
            0x800u16..0xD800,
            0xD800u16..0xE000,
            0xE000u16..=0xFFFF,
        ];
        proptest::collection::vec(unit, 0..12).prop_map(JsString::from_units)
    }

    fn splice() -> impl Strategy<Value = AppliedOp> {
        (
            "[a-z0-9:]{0,6}",
            any::<bool>(),
            prop_oneof![Just(0i64), -3i64..100_000, Just(i64::MIN), Just(i64::MAX)],
            prop_oneof![Just(0i64), 0i64..50],
            text(),
            proptest::option::of(text()),
        )
            .prop_map(
                |(id, no_op, index, delete_count, insert, removed)| AppliedOp {
                    op: DiscreteOp {
                        id: ValueId::from(id),
                        no_op,
                        kind: OpKind::StringSplice {
                            index,
                            delete_count,
                            insert,
                        },
                    },
                    undo: removed.map_or(Undo::None, Undo::Text),
                },
            )
    }

    fn record() -> impl Strategy<Value = OpRecord> {
        (
            prop_oneof![Just(0u64), any::<u64>()],
            prop_oneof![Just(0i64), any::<i64>()],
            "[a-zA-Z0-9]{0,8}",
            ".{0,6}",
            proptest::option::of(any::<u64>()),
            prop_oneof![
                splice().prop_map(AppliedOperation::Discrete),
                proptest::collection::vec(splice(), 0..5).prop_map(AppliedOperation::Compound),
            ],
        )
            .prop_map(|(version, timestamp_ms, session, user, seq, op)| OpRecord {
                version,
                timestamp_ms,
                session: Arc::from(session),
                user: Arc::from(user),
                seq,
                op,
                mark: None,
            })
    }

    proptest! {
        /// The direct encoder writes exactly the prost messages' bytes, which decode back.
        #[test]
        fn splices_encode_as_the_messages_do(r in record()) {
            let mut direct = Vec::new();
            let fast = encode_splices(&OpFields::of(&r), &mut direct);
            let mut reference = Vec::new();
            codec::encode_op_message(&OpFields::of(&r), &mut reference).unwrap();
            if fast {
                prop_assert_eq!(&direct, &reference);
            } else {
                // Only compounds of more than four splices take the general path.
                prop_assert!(direct.is_empty());
                prop_assert!(r.op.ops().len() > 4);
            }
            prop_assert_eq!(codec::decode_op(&reference).unwrap(), r.clone());
            if fast {
                prop_assert_eq!(decode_splices(&reference), Some(r));
            }
        }

        /// Whatever the bytes, the direct decoder either declines or agrees with prost.
        #[test]
        fn the_decoder_agrees_with_the_messages_or_declines(
            r in record(),
            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut bytes = Vec::new();
            codec::encode_op_message(&OpFields::of(&r), &mut bytes).unwrap();
            for (at, byte) in flips {
                if !bytes.is_empty() {
                    let i = at.index(bytes.len());
                    bytes[i] = byte;
                }
            }
            let cut = cut.index(bytes.len() + 1);
            bytes.truncate(cut);
            if let Some(fast) = decode_splices(&bytes) {
                prop_assert_eq!(Some(fast), codec::decode_op_message(&bytes).ok());
            }
        }
    }

    #[test]
    fn other_kinds_are_left_to_the_messages() {
        let r = OpRecord {
            version: 3,
            timestamp_ms: 4,
            session: Arc::from("s"),
            user: Arc::from("u"),
            seq: None,
            op: AppliedOperation::Discrete(AppliedOp {
                op: DiscreteOp {
                    id: ValueId::from("x"),
                    no_op: false,
                    kind: OpKind::NumberAdd { delta: 1.0 },
                },
                undo: Undo::None,
            }),
            mark: None,
        };
        let mut buf = Vec::new();
        assert!(!encode_splices(&OpFields::of(&r), &mut buf));
        assert!(buf.is_empty());
    }
}
