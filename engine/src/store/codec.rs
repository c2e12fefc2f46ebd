//! Binary encoding of store records.
//!
//! Every record is encoded as a protobuf message (through `prost` derive macros on the private
//! structs below): varints everywhere, zig-zag for signed numbers, default values omitted. The
//! schema exists only here; it is the on-disk format of [`FORMAT_VERSION`](super::FORMAT_VERSION),
//! so any incompatible change to it must bump that version.
//!
//! Value trees are stored flat, as a pre-order list of nodes where a container node carries its
//! child count. Decoding therefore never recurses (a corrupt record cannot exhaust the stack,
//! and protobuf's nesting limit does not cap the depth of a document); trees nested deeper than
//! [`MAX_VALUE_DEPTH`] are refused on encode and reported as corrupt on decode.
//!
//! This module is public so that tests, benchmarks and tools can measure and check the format;
//! the engine itself only reaches it through the store.

use std::collections::BTreeMap;

use prost::Message;

use super::acl::{COLLECTION_PERMISSIONS, DEFAULT_RECONNECT_TOKEN_MINUTES};
use super::{
    CollectionRecord, DomainKey, DomainRecord, DomainState, JwtKeyRecord, ModelMeta, OpMark,
    OpRecord, ReconnectTokenRecord, Snapshot, SnapshotPolicies, SnapshotPolicy, StoreError,
    StoreResult, UserRecord, UserType,
};
use crate::ot::{
    AppliedOp, AppliedOperation, Data, DiscreteOp, JsString, OpKind, Undo, Value, ValueId,
};
use acl::PStrings;
pub use acl::{decode_group, decode_permissions, encode_group, encode_permissions};
pub use activity::{decode_activity, encode_activity};
pub use chat::{decode_chat, decode_chat_event, encode_chat, encode_chat_event};
pub use credentials::{decode_admin, decode_api_key, encode_admin, encode_api_key};
pub use webhooks::{decode_delivery, decode_webhook, encode_delivery, encode_webhook};

mod acl;
mod activity;
mod chat;
mod credentials;
mod webhooks;

/// Deepest value tree the codec stores (the root is at depth 1).
pub const MAX_VALUE_DEPTH: usize = 4096;

// ---------------------------------------------------------------------------------------------
// Wire structs (private; field tags are the on-disk format).
// ---------------------------------------------------------------------------------------------

#[derive(Clone, PartialEq, Message)]
struct PDomain {
    #[prost(string, tag = "1")]
    namespace: String,
    #[prost(string, tag = "2")]
    id: String,
    #[prost(string, tag = "3")]
    display_name: String,
    #[prost(sint64, tag = "4")]
    created_ms: i64,
    #[prost(bool, tag = "5")]
    anonymous_auth: bool,
    #[prost(bool, tag = "6")]
    collection_auto_create: bool,
    /// The [`DomainState`] number (see [`state_to_p`]); 0, online, is also what a record
    /// written before the field existed holds.
    #[prost(uint32, tag = "7")]
    state: u32,
    /// Absent in records written before the field existed (they decode to
    /// [`DEFAULT_RECONNECT_TOKEN_MINUTES`]).
    #[prost(uint32, optional, tag = "8")]
    reconnect_token_minutes: Option<u32>,
    /// Absent in records written before the field existed (they decode to every collection
    /// permission); present and empty when everyone gets nothing.
    #[prost(message, optional, tag = "9")]
    default_collection_world: Option<PStrings>,
    #[prost(string, tag = "10")]
    admin_private_key_pem: String,
    #[prost(string, tag = "11")]
    admin_public_key_pem: String,
    /// Absent: the engine's rule.
    #[prost(message, optional, tag = "12")]
    snapshot_policy: Option<PSnapshotPolicy>,
    #[prost(map = "string, message", tag = "13")]
    collection_snapshot_policies: std::collections::HashMap<String, PSnapshotPolicy>,
}

#[derive(Clone, Copy, PartialEq, Message)]
struct PSnapshotPolicy {
    #[prost(bool, tag = "1")]
    enabled: bool,
    #[prost(bool, tag = "2")]
    trigger_by_version: bool,
    #[prost(uint64, tag = "3")]
    max_version_interval: u64,
    #[prost(bool, tag = "4")]
    limited_by_version: bool,
    #[prost(uint64, tag = "5")]
    min_version_interval: u64,
    #[prost(bool, tag = "6")]
    trigger_by_time: bool,
    #[prost(uint64, tag = "7")]
    max_time_interval_ms: u64,
    #[prost(bool, tag = "8")]
    limited_by_time: bool,
    #[prost(uint64, tag = "9")]
    min_time_interval_ms: u64,
}

impl From<SnapshotPolicy> for PSnapshotPolicy {
    fn from(p: SnapshotPolicy) -> Self {
        PSnapshotPolicy {
            enabled: p.enabled,
            trigger_by_version: p.trigger_by_version,
            max_version_interval: p.max_version_interval,
            limited_by_version: p.limited_by_version,
            min_version_interval: p.min_version_interval,
            trigger_by_time: p.trigger_by_time,
            max_time_interval_ms: p.max_time_interval_ms,
            limited_by_time: p.limited_by_time,
            min_time_interval_ms: p.min_time_interval_ms,
        }
    }
}

impl From<PSnapshotPolicy> for SnapshotPolicy {
    fn from(p: PSnapshotPolicy) -> Self {
        SnapshotPolicy {
            enabled: p.enabled,
            trigger_by_version: p.trigger_by_version,
            max_version_interval: p.max_version_interval,
            limited_by_version: p.limited_by_version,
            min_version_interval: p.min_version_interval,
            trigger_by_time: p.trigger_by_time,
            max_time_interval_ms: p.max_time_interval_ms,
            limited_by_time: p.limited_by_time,
            min_time_interval_ms: p.min_time_interval_ms,
        }
    }
}

#[derive(Clone, PartialEq, Message)]
struct PCollection {
    #[prost(string, tag = "1")]
    id: String,
    #[prost(string, tag = "2")]
    description: String,
    #[prost(sint64, tag = "3")]
    created_ms: i64,
}

#[derive(Clone, PartialEq, Message)]
struct PModelMeta {
    #[prost(string, tag = "1")]
    namespace: String,
    #[prost(string, tag = "2")]
    domain: String,
    #[prost(string, tag = "3")]
    id: String,
    #[prost(string, tag = "4")]
    collection: String,
    #[prost(uint64, tag = "5")]
    number: u64,
    #[prost(sint64, tag = "6")]
    created_ms: i64,
    #[prost(sint64, tag = "7")]
    modified_ms: i64,
    #[prost(uint64, tag = "8")]
    version: u64,
    #[prost(uint64, tag = "9")]
    value_prefix: u64,
    #[prost(bool, tag = "10")]
    ephemeral: bool,
}

/// One node of a flattened value tree (pre-order). `key` is set for children of objects (and
/// for the entries of an object-set / undo map forest).
#[derive(Clone, PartialEq, Message)]
struct PNode {
    #[prost(string, tag = "1")]
    id: String,
    /// A property name, WTF-8 (see `JsString`); plain UTF-8 unless it holds a lone surrogate.
    #[prost(bytes = "vec", tag = "2")]
    key: Vec<u8>,
    #[prost(oneof = "PData", tags = "3, 4, 5, 6, 7, 8, 9, 10")]
    data: Option<PData>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
enum PData {
    /// An object with this many children following.
    #[prost(uint64, tag = "3")]
    Object(u64),
    /// An array with this many children following.
    #[prost(uint64, tag = "4")]
    Array(u64),
    /// Text as WTF-8.
    #[prost(bytes, tag = "5")]
    String(Vec<u8>),
    /// A number that is an exact integer (stored as a zig-zag varint).
    #[prost(sint64, tag = "6")]
    Int(i64),
    /// Any other number.
    #[prost(double, tag = "7")]
    Double(f64),
    #[prost(bool, tag = "8")]
    Boolean(bool),
    #[prost(sint64, tag = "9")]
    Date(i64),
    #[prost(bool, tag = "10")]
    Null(bool),
}

/// Zero or more value trees, flattened one after the other.
#[derive(Clone, PartialEq, Message)]
struct PForest {
    #[prost(message, repeated, tag = "1")]
    nodes: Vec<PNode>,
}

#[derive(Clone, PartialEq, Message)]
struct PSplice {
    #[prost(sint64, tag = "1")]
    index: i64,
    #[prost(sint64, tag = "2")]
    delete_count: i64,
    #[prost(bytes = "vec", tag = "3")]
    insert: Vec<u8>,
}

#[derive(Clone, PartialEq, Message)]
struct PIndexValue {
    #[prost(sint64, tag = "1")]
    index: i64,
    #[prost(message, repeated, tag = "2")]
    value: Vec<PNode>,
}

#[derive(Clone, PartialEq, Message)]
struct PMove {
    #[prost(sint64, tag = "1")]
    from: i64,
    #[prost(sint64, tag = "2")]
    to: i64,
}

#[derive(Clone, PartialEq, Message)]
struct PKeyValue {
    #[prost(bytes = "vec", tag = "1")]
    key: Vec<u8>,
    #[prost(message, repeated, tag = "2")]
    value: Vec<PNode>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
enum PKind {
    #[prost(message, tag = "3")]
    StringSplice(PSplice),
    #[prost(bytes, tag = "5")]
    StringSet(Vec<u8>),
    #[prost(message, tag = "6")]
    ArrayInsert(PIndexValue),
    #[prost(sint64, tag = "7")]
    ArrayRemove(i64),
    #[prost(message, tag = "8")]
    ArrayReplace(PIndexValue),
    #[prost(message, tag = "9")]
    ArrayMove(PMove),
    #[prost(message, tag = "10")]
    ArraySet(PForest),
    #[prost(message, tag = "11")]
    ObjectAddProperty(PKeyValue),
    #[prost(message, tag = "12")]
    ObjectSetProperty(PKeyValue),
    #[prost(bytes, tag = "13")]
    ObjectRemoveProperty(Vec<u8>),
    #[prost(message, tag = "14")]
    ObjectSet(PForest),
    #[prost(double, tag = "15")]
    NumberAdd(f64),
    #[prost(double, tag = "16")]
    NumberSet(f64),
    #[prost(bool, tag = "17")]
    BooleanSet(bool),
    #[prost(sint64, tag = "18")]
    DateSet(i64),
}

#[derive(Clone, PartialEq, prost::Oneof)]
enum PUndo {
    #[prost(bytes, tag = "4")]
    Text(Vec<u8>),
    #[prost(message, tag = "19")]
    Value(PForest),
    #[prost(message, tag = "20")]
    Values(PForest),
    #[prost(message, tag = "21")]
    Map(PForest),
    #[prost(double, tag = "22")]
    Number(f64),
    #[prost(bool, tag = "23")]
    Boolean(bool),
    #[prost(sint64, tag = "24")]
    Date(i64),
}

/// An applied discrete operation. `Undo::None` is the absent `undo`.
#[derive(Clone, PartialEq, Message)]
struct PAppliedOp {
    #[prost(string, tag = "1")]
    id: String,
    #[prost(bool, tag = "2")]
    no_op: bool,
    #[prost(
        oneof = "PKind",
        tags = "3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18"
    )]
    kind: Option<PKind>,
    #[prost(oneof = "PUndo", tags = "4, 19, 20, 21, 22, 23, 24")]
    undo: Option<PUndo>,
}

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

#[derive(Clone, PartialEq, Message)]
struct PSnapshot {
    #[prost(uint64, tag = "1")]
    version: u64,
    #[prost(sint64, tag = "2")]
    timestamp_ms: i64,
    #[prost(message, repeated, tag = "3")]
    data: Vec<PNode>,
}

#[derive(Clone, PartialEq, Message)]
struct PUser {
    /// The protocol's `DomainUserTypeData` number.
    #[prost(int32, tag = "1")]
    user_type: i32,
    #[prost(string, tag = "2")]
    username: String,
    #[prost(string, tag = "3")]
    display_name: String,
    #[prost(string, tag = "4")]
    first_name: String,
    #[prost(string, tag = "5")]
    last_name: String,
    #[prost(string, tag = "6")]
    email: String,
    #[prost(bool, tag = "7")]
    disabled: bool,
    /// Argon2 PHC string.
    #[prost(string, optional, tag = "8")]
    password_hash: Option<String>,
    #[prost(sint64, tag = "9")]
    created_ms: i64,
    #[prost(sint64, tag = "10")]
    last_login_ms: i64,
}

#[derive(Clone, PartialEq, Message)]
struct PJwtKey {
    #[prost(string, tag = "1")]
    id: String,
    #[prost(string, tag = "2")]
    description: String,
    #[prost(string, tag = "3")]
    public_key_pem: String,
    #[prost(bool, tag = "4")]
    enabled: bool,
    #[prost(sint64, tag = "5")]
    updated_ms: i64,
}

#[derive(Clone, PartialEq, Message)]
struct PReconnectToken {
    #[prost(string, tag = "1")]
    token: String,
    #[prost(int32, tag = "2")]
    user_type: i32,
    #[prost(string, tag = "3")]
    username: String,
    #[prost(sint64, tag = "4")]
    expires_ms: i64,
    #[prost(string, repeated, tag = "5")]
    sessions: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// Helpers.
// ---------------------------------------------------------------------------------------------

pub(super) fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

/// Model text from its stored WTF-8 bytes.
fn text(bytes: &[u8], what: &str) -> StoreResult<JsString> {
    JsString::from_wtf8(bytes).map_err(|e| corrupt(what, e))
}

fn put(msg: &impl Message, buf: &mut Vec<u8>) {
    buf.reserve(msg.encoded_len());
    // A Vec grows as needed, so encoding into it cannot run out of space.
    if msg.encode(buf).is_err() {
        unreachable_encode();
    }
}

#[cold]
pub(super) fn unreachable_encode() {
    tracing::error!("prost reported insufficient capacity while encoding into a Vec");
}

fn too_deep() -> StoreError {
    StoreError::Corrupt(format!(
        "value tree nested deeper than {MAX_VALUE_DEPTH} levels cannot be stored"
    ))
}

/// Largest magnitude at which every integer is exactly representable as an f64.
const EXACT_INT: f64 = 9_007_199_254_740_992.0; // 2^53

fn number_to_data(n: f64) -> PData {
    if n.fract() == 0.0 && n.abs() <= EXACT_INT && !(n == 0.0 && n.is_sign_negative()) {
        PData::Int(n as i64)
    } else {
        PData::Double(n)
    }
}

/// Appends `value` (with `key`) to `out` in pre-order.
fn flatten(key: &[u8], value: &Value, depth: usize, out: &mut Vec<PNode>) -> StoreResult<()> {
    if depth > MAX_VALUE_DEPTH {
        return Err(too_deep());
    }
    let data = match &value.data {
        Data::Object(map) => PData::Object(map.len() as u64),
        Data::Array(items) => PData::Array(items.len() as u64),
        Data::String(s) => PData::String(s.to_wtf8()),
        Data::Number(n) => number_to_data(*n),
        Data::Boolean(b) => PData::Boolean(*b),
        Data::Date(d) => PData::Date(*d),
        Data::Null => PData::Null(true),
    };
    out.push(PNode {
        id: value.id.as_str().to_owned(),
        key: key.to_vec(),
        data: Some(data),
    });
    match &value.data {
        Data::Object(map) => {
            for (k, v) in map {
                flatten(&k.to_wtf8(), v, depth + 1, out)?;
            }
        }
        Data::Array(items) => {
            for v in items {
                flatten(b"", v, depth + 1, out)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn flatten_one(value: &Value) -> StoreResult<Vec<PNode>> {
    let mut out = Vec::new();
    flatten(b"", value, 1, &mut out)?;
    Ok(out)
}

fn flatten_list(values: &[Value]) -> StoreResult<Vec<PNode>> {
    let mut out = Vec::new();
    for v in values {
        flatten(b"", v, 1, &mut out)?;
    }
    Ok(out)
}

fn flatten_map(values: &BTreeMap<JsString, Value>) -> StoreResult<Vec<PNode>> {
    let mut out = Vec::new();
    for (k, v) in values {
        flatten(&k.to_wtf8(), v, 1, &mut out)?;
    }
    Ok(out)
}

enum Container {
    Object(BTreeMap<JsString, Value>),
    Array(Vec<Value>),
}

struct Frame {
    key: JsString,
    id: ValueId,
    container: Container,
    remaining: u64,
}

/// Rebuilds the trees of a flattened forest, without recursion. Returns `(key, value)` per root.
fn unflatten(nodes: Vec<PNode>) -> StoreResult<Vec<(JsString, Value)>> {
    let total = nodes.len();
    let mut roots = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    for (i, node) in nodes.into_iter().enumerate() {
        let left = (total - i - 1) as u64;
        let id = ValueId::from(node.id);
        let key = text(&node.key, "property name")?;
        let data = match node.data {
            Some(PData::Object(n)) | Some(PData::Array(n)) if n > left => {
                return Err(StoreError::Corrupt(
                    "value tree: container has more children than nodes remain".into(),
                ))
            }
            Some(PData::Object(n)) if n > 0 => {
                push_frame(&mut stack, key, id, Container::Object(BTreeMap::new()), n)?;
                continue;
            }
            Some(PData::Array(n)) if n > 0 => {
                // `n <= left`, so this allocation is bounded by the record's size.
                let items = Vec::with_capacity(n as usize);
                push_frame(&mut stack, key, id, Container::Array(items), n)?;
                continue;
            }
            Some(PData::Object(_)) => Data::Object(BTreeMap::new()),
            Some(PData::Array(_)) => Data::Array(Vec::new()),
            Some(PData::String(s)) => Data::String(text(&s, "string value")?),
            Some(PData::Int(n)) => Data::Number(n as f64),
            Some(PData::Double(n)) => Data::Number(n),
            Some(PData::Boolean(b)) => Data::Boolean(b),
            Some(PData::Date(d)) => Data::Date(d),
            Some(PData::Null(_)) => Data::Null,
            None => return Err(StoreError::Corrupt("value tree: node without data".into())),
        };
        let mut done = (key, Value { id, data });
        // Attach the finished value to its parent, closing every container it completes.
        loop {
            let Some(top) = stack.last_mut() else {
                roots.push(done);
                break;
            };
            match &mut top.container {
                Container::Object(map) => {
                    map.insert(done.0, done.1);
                }
                Container::Array(items) => items.push(done.1),
            }
            top.remaining -= 1;
            if top.remaining > 0 {
                break;
            }
            let Some(frame) = stack.pop() else { break };
            let data = match frame.container {
                Container::Object(map) => Data::Object(map),
                Container::Array(items) => Data::Array(items),
            };
            done = (frame.key, Value { id: frame.id, data });
        }
    }
    if !stack.is_empty() {
        return Err(StoreError::Corrupt("value tree is truncated".into()));
    }
    Ok(roots)
}

fn push_frame(
    stack: &mut Vec<Frame>,
    key: JsString,
    id: ValueId,
    container: Container,
    remaining: u64,
) -> StoreResult<()> {
    if stack.len() + 1 >= MAX_VALUE_DEPTH {
        return Err(StoreError::Corrupt(format!(
            "value tree nested deeper than {MAX_VALUE_DEPTH} levels"
        )));
    }
    stack.push(Frame {
        key,
        id,
        container,
        remaining,
    });
    Ok(())
}

fn unflatten_one(nodes: Vec<PNode>) -> StoreResult<Value> {
    let mut roots = unflatten(nodes)?;
    if roots.len() != 1 {
        return Err(StoreError::Corrupt(format!(
            "expected one value tree, found {}",
            roots.len()
        )));
    }
    roots
        .pop()
        .map(|(_, v)| v)
        .ok_or_else(|| StoreError::Corrupt("missing value tree".into()))
}

fn unflatten_list(nodes: Vec<PNode>) -> StoreResult<Vec<Value>> {
    Ok(unflatten(nodes)?.into_iter().map(|(_, v)| v).collect())
}

fn unflatten_map(nodes: Vec<PNode>) -> StoreResult<BTreeMap<JsString, Value>> {
    Ok(unflatten(nodes)?.into_iter().collect())
}

// ---------------------------------------------------------------------------------------------
// Operations.
// ---------------------------------------------------------------------------------------------

fn kind_to_p(kind: &OpKind) -> StoreResult<PKind> {
    Ok(match kind {
        OpKind::StringSplice {
            index,
            delete_count,
            insert,
        } => PKind::StringSplice(PSplice {
            index: *index,
            delete_count: *delete_count,
            insert: insert.to_wtf8(),
        }),
        OpKind::StringSet { value } => PKind::StringSet(value.to_wtf8()),
        OpKind::ArrayInsert { index, value } => PKind::ArrayInsert(PIndexValue {
            index: *index,
            value: flatten_one(value)?,
        }),
        OpKind::ArrayRemove { index } => PKind::ArrayRemove(*index),
        OpKind::ArrayReplace { index, value } => PKind::ArrayReplace(PIndexValue {
            index: *index,
            value: flatten_one(value)?,
        }),
        OpKind::ArrayMove { from, to } => PKind::ArrayMove(PMove {
            from: *from,
            to: *to,
        }),
        OpKind::ArraySet { values } => PKind::ArraySet(PForest {
            nodes: flatten_list(values)?,
        }),
        OpKind::ObjectAddProperty { key, value } => PKind::ObjectAddProperty(PKeyValue {
            key: key.to_wtf8(),
            value: flatten_one(value)?,
        }),
        OpKind::ObjectSetProperty { key, value } => PKind::ObjectSetProperty(PKeyValue {
            key: key.to_wtf8(),
            value: flatten_one(value)?,
        }),
        OpKind::ObjectRemoveProperty { key } => PKind::ObjectRemoveProperty(key.to_wtf8()),
        OpKind::ObjectSet { values } => PKind::ObjectSet(PForest {
            nodes: flatten_map(values)?,
        }),
        OpKind::NumberAdd { delta } => PKind::NumberAdd(*delta),
        OpKind::NumberSet { value } => PKind::NumberSet(*value),
        OpKind::BooleanSet { value } => PKind::BooleanSet(*value),
        OpKind::DateSet { value } => PKind::DateSet(*value),
    })
}

fn kind_from_p(kind: PKind) -> StoreResult<OpKind> {
    Ok(match kind {
        PKind::StringSplice(s) => OpKind::StringSplice {
            index: s.index,
            delete_count: s.delete_count,
            insert: text(&s.insert, "inserted text")?,
        },
        PKind::StringSet(value) => OpKind::StringSet {
            value: text(&value, "string set")?,
        },
        PKind::ArrayInsert(p) => OpKind::ArrayInsert {
            index: p.index,
            value: unflatten_one(p.value)?,
        },
        PKind::ArrayRemove(index) => OpKind::ArrayRemove { index },
        PKind::ArrayReplace(p) => OpKind::ArrayReplace {
            index: p.index,
            value: unflatten_one(p.value)?,
        },
        PKind::ArrayMove(m) => OpKind::ArrayMove {
            from: m.from,
            to: m.to,
        },
        PKind::ArraySet(f) => OpKind::ArraySet {
            values: unflatten_list(f.nodes)?,
        },
        PKind::ObjectAddProperty(p) => OpKind::ObjectAddProperty {
            key: text(&p.key, "property name")?,
            value: unflatten_one(p.value)?,
        },
        PKind::ObjectSetProperty(p) => OpKind::ObjectSetProperty {
            key: text(&p.key, "property name")?,
            value: unflatten_one(p.value)?,
        },
        PKind::ObjectRemoveProperty(key) => OpKind::ObjectRemoveProperty {
            key: text(&key, "property name")?,
        },
        PKind::ObjectSet(f) => OpKind::ObjectSet {
            values: unflatten_map(f.nodes)?,
        },
        PKind::NumberAdd(delta) => OpKind::NumberAdd { delta },
        PKind::NumberSet(value) => OpKind::NumberSet { value },
        PKind::BooleanSet(value) => OpKind::BooleanSet { value },
        PKind::DateSet(value) => OpKind::DateSet { value },
    })
}

fn undo_to_p(undo: &Undo) -> StoreResult<Option<PUndo>> {
    Ok(match undo {
        Undo::None => None,
        Undo::Text(t) => Some(PUndo::Text(t.to_wtf8())),
        Undo::Value(v) => Some(PUndo::Value(PForest {
            nodes: flatten_one(v)?,
        })),
        Undo::Values(vs) => Some(PUndo::Values(PForest {
            nodes: flatten_list(vs)?,
        })),
        Undo::Map(m) => Some(PUndo::Map(PForest {
            nodes: flatten_map(m)?,
        })),
        Undo::Number(n) => Some(PUndo::Number(*n)),
        Undo::Boolean(b) => Some(PUndo::Boolean(*b)),
        Undo::Date(d) => Some(PUndo::Date(*d)),
    })
}

fn undo_from_p(undo: Option<PUndo>) -> StoreResult<Undo> {
    Ok(match undo {
        None => Undo::None,
        Some(PUndo::Text(t)) => Undo::Text(text(&t, "undo text")?),
        Some(PUndo::Value(f)) => Undo::Value(unflatten_one(f.nodes)?),
        Some(PUndo::Values(f)) => Undo::Values(unflatten_list(f.nodes)?),
        Some(PUndo::Map(f)) => Undo::Map(unflatten_map(f.nodes)?),
        Some(PUndo::Number(n)) => Undo::Number(n),
        Some(PUndo::Boolean(b)) => Undo::Boolean(b),
        Some(PUndo::Date(d)) => Undo::Date(d),
    })
}

fn applied_to_p(a: &AppliedOp) -> StoreResult<PAppliedOp> {
    Ok(PAppliedOp {
        id: a.op.id.as_str().to_owned(),
        no_op: a.op.no_op,
        kind: Some(kind_to_p(&a.op.kind)?),
        undo: undo_to_p(&a.undo)?,
    })
}

fn applied_from_p(p: PAppliedOp) -> StoreResult<AppliedOp> {
    let kind = p
        .kind
        .ok_or_else(|| StoreError::Corrupt("operation without a kind".into()))?;
    Ok(AppliedOp {
        op: DiscreteOp {
            id: ValueId::from(p.id),
            no_op: p.no_op,
            kind: kind_from_p(kind)?,
        },
        undo: undo_from_p(p.undo)?,
    })
}

// ---------------------------------------------------------------------------------------------
// Public encode / decode functions. Encoders append to `buf`.
// ---------------------------------------------------------------------------------------------

/// The stored number of a domain state.
fn state_to_p(state: DomainState) -> u32 {
    match state {
        DomainState::Online => 0,
        DomainState::Maintenance => 1,
        DomainState::Offline => 2,
    }
}

fn state_from_p(n: u32) -> StoreResult<DomainState> {
    match n {
        0 => Ok(DomainState::Online),
        1 => Ok(DomainState::Maintenance),
        2 => Ok(DomainState::Offline),
        other => Err(corrupt(
            "domain record",
            format_args!("unknown domain state {other}"),
        )),
    }
}

/// Encodes a domain record.
pub fn encode_domain(r: &DomainRecord, buf: &mut Vec<u8>) {
    put(
        &PDomain {
            namespace: r.key.namespace.clone(),
            id: r.key.id.clone(),
            display_name: r.display_name.clone(),
            created_ms: r.created_ms,
            anonymous_auth: r.anonymous_auth,
            collection_auto_create: r.collection_auto_create,
            state: state_to_p(r.state),
            reconnect_token_minutes: Some(r.reconnect_token_minutes),
            default_collection_world: Some(PStrings {
                values: r.default_collection_world.clone(),
            }),
            admin_private_key_pem: r.admin_private_key_pem.clone(),
            admin_public_key_pem: r.admin_public_key_pem.clone(),
            snapshot_policy: r.snapshots.domain.map(PSnapshotPolicy::from),
            collection_snapshot_policies: r
                .snapshots
                .collections
                .iter()
                .map(|(c, p)| (c.clone(), PSnapshotPolicy::from(*p)))
                .collect(),
        },
        buf,
    );
}

/// Decodes a domain record. A record written before a field existed gets that field's
/// default: online, 1440 minutes (a day) for reconnect tokens, every collection permission for
/// everyone, no admin key.
pub fn decode_domain(bytes: &[u8]) -> StoreResult<DomainRecord> {
    let p = PDomain::decode(bytes).map_err(|e| corrupt("domain record", e))?;
    Ok(DomainRecord {
        key: DomainKey {
            namespace: p.namespace,
            id: p.id,
        },
        display_name: p.display_name,
        created_ms: p.created_ms,
        anonymous_auth: p.anonymous_auth,
        collection_auto_create: p.collection_auto_create,
        state: state_from_p(p.state)?,
        reconnect_token_minutes: p
            .reconnect_token_minutes
            .unwrap_or(DEFAULT_RECONNECT_TOKEN_MINUTES),
        default_collection_world: match p.default_collection_world {
            Some(list) => list.values,
            None => COLLECTION_PERMISSIONS.map(String::from).to_vec(),
        },
        admin_private_key_pem: p.admin_private_key_pem,
        admin_public_key_pem: p.admin_public_key_pem,
        snapshots: SnapshotPolicies {
            domain: p.snapshot_policy.map(SnapshotPolicy::from),
            collections: p
                .collection_snapshot_policies
                .into_iter()
                .map(|(c, p)| (c, SnapshotPolicy::from(p)))
                .collect(),
        },
    })
}

/// Encodes a collection record.
pub fn encode_collection(r: &CollectionRecord, buf: &mut Vec<u8>) {
    put(
        &PCollection {
            id: r.id.clone(),
            description: r.description.clone(),
            created_ms: r.created_ms,
        },
        buf,
    );
}

/// Decodes a collection record.
pub fn decode_collection(bytes: &[u8]) -> StoreResult<CollectionRecord> {
    let p = PCollection::decode(bytes).map_err(|e| corrupt("collection record", e))?;
    Ok(CollectionRecord {
        id: p.id,
        description: p.description,
        created_ms: p.created_ms,
    })
}

/// Encodes model metadata.
pub fn encode_model_meta(m: &ModelMeta, buf: &mut Vec<u8>) {
    put(
        &PModelMeta {
            namespace: m.domain.namespace.clone(),
            domain: m.domain.id.clone(),
            id: m.id.clone(),
            collection: m.collection.clone(),
            number: m.number,
            created_ms: m.created_ms,
            modified_ms: m.modified_ms,
            version: m.version,
            value_prefix: m.value_prefix,
            ephemeral: m.ephemeral,
        },
        buf,
    );
}

/// Decodes model metadata.
pub fn decode_model_meta(bytes: &[u8]) -> StoreResult<ModelMeta> {
    let p = PModelMeta::decode(bytes).map_err(|e| corrupt("model record", e))?;
    Ok(ModelMeta {
        domain: DomainKey {
            namespace: p.namespace,
            id: p.domain,
        },
        id: p.id,
        collection: p.collection,
        number: p.number,
        created_ms: p.created_ms,
        modified_ms: p.modified_ms,
        version: p.version,
        value_prefix: p.value_prefix,
        ephemeral: p.ephemeral,
    })
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
    if super::splice_codec::encode_splices(r, buf) {
        return Ok(());
    }
    encode_op_message(r, buf)
}

/// [`encode_op`] through the prost messages (every kind of operation).
pub(super) fn encode_op_message(r: &OpFields<'_>, buf: &mut Vec<u8>) -> StoreResult<()> {
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
    if let Some(r) = super::splice_codec::decode_splices(bytes) {
        return Ok(r);
    }
    decode_op_message(bytes)
}

/// [`decode_op`] through the prost messages (every kind of operation).
pub(super) fn decode_op_message(bytes: &[u8]) -> StoreResult<OpRecord> {
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

/// The first field of [`PSnapshot`]; decoding skips the rest.
#[derive(Clone, PartialEq, Message)]
struct PSnapshotHeader {
    #[prost(uint64, tag = "1")]
    version: u64,
}

/// Decodes only the version of a snapshot record.
pub fn decode_snapshot_version(bytes: &[u8]) -> StoreResult<u64> {
    let p = PSnapshotHeader::decode(bytes).map_err(|e| corrupt("snapshot", e))?;
    Ok(p.version)
}

/// Decodes only the version and timestamp of a log record (cheap; used to search by time).
pub fn decode_op_time(bytes: &[u8]) -> StoreResult<(u64, i64)> {
    let p = POpHeader::decode(bytes).map_err(|e| corrupt("operation record", e))?;
    Ok((p.version, p.timestamp_ms))
}

/// Encodes a snapshot. Fails only for value trees deeper than [`MAX_VALUE_DEPTH`].
pub fn encode_snapshot(s: &Snapshot, buf: &mut Vec<u8>) -> StoreResult<()> {
    put(
        &PSnapshot {
            version: s.version,
            timestamp_ms: s.timestamp_ms,
            data: flatten_one(&s.data)?,
        },
        buf,
    );
    Ok(())
}

/// Decodes a snapshot.
pub fn decode_snapshot(bytes: &[u8]) -> StoreResult<Snapshot> {
    let p = PSnapshot::decode(bytes).map_err(|e| corrupt("snapshot", e))?;
    Ok(Snapshot {
        version: p.version,
        timestamp_ms: p.timestamp_ms,
        data: unflatten_one(p.data)?,
    })
}

pub(super) fn user_type_from_p(n: i32, what: &str) -> StoreResult<UserType> {
    UserType::from_i32(n).ok_or_else(|| corrupt(what, format_args!("unknown user type {n}")))
}

/// Encodes a user record.
pub fn encode_user(r: &UserRecord, buf: &mut Vec<u8>) {
    put(
        &PUser {
            user_type: r.user_type.as_i32(),
            username: r.username.clone(),
            display_name: r.display_name.clone(),
            first_name: r.first_name.clone(),
            last_name: r.last_name.clone(),
            email: r.email.clone(),
            disabled: r.disabled,
            password_hash: r.password_hash.clone(),
            created_ms: r.created_ms,
            last_login_ms: r.last_login_ms,
        },
        buf,
    );
}

/// Decodes a user record.
pub fn decode_user(bytes: &[u8]) -> StoreResult<UserRecord> {
    let p = PUser::decode(bytes).map_err(|e| corrupt("user record", e))?;
    Ok(UserRecord {
        user_type: user_type_from_p(p.user_type, "user record")?,
        username: p.username,
        display_name: p.display_name,
        first_name: p.first_name,
        last_name: p.last_name,
        email: p.email,
        disabled: p.disabled,
        password_hash: p.password_hash,
        created_ms: p.created_ms,
        last_login_ms: p.last_login_ms,
    })
}

/// Encodes a JWT key record.
pub fn encode_jwt_key(r: &JwtKeyRecord, buf: &mut Vec<u8>) {
    put(
        &PJwtKey {
            id: r.id.clone(),
            description: r.description.clone(),
            public_key_pem: r.public_key_pem.clone(),
            enabled: r.enabled,
            updated_ms: r.updated_ms,
        },
        buf,
    );
}

/// Decodes a JWT key record.
pub fn decode_jwt_key(bytes: &[u8]) -> StoreResult<JwtKeyRecord> {
    let p = PJwtKey::decode(bytes).map_err(|e| corrupt("JWT key record", e))?;
    Ok(JwtKeyRecord {
        id: p.id,
        description: p.description,
        public_key_pem: p.public_key_pem,
        enabled: p.enabled,
        updated_ms: p.updated_ms,
    })
}

/// Encodes a reconnect token record.
pub fn encode_reconnect_token(r: &ReconnectTokenRecord, buf: &mut Vec<u8>) {
    put(
        &PReconnectToken {
            token: r.token.clone(),
            user_type: r.user_type.as_i32(),
            username: r.username.clone(),
            expires_ms: r.expires_ms,
            sessions: r.sessions.clone(),
        },
        buf,
    );
}

/// Decodes a reconnect token record.
pub fn decode_reconnect_token(bytes: &[u8]) -> StoreResult<ReconnectTokenRecord> {
    let p = PReconnectToken::decode(bytes).map_err(|e| corrupt("reconnect token record", e))?;
    Ok(ReconnectTokenRecord {
        token: p.token,
        user_type: user_type_from_p(p.user_type, "reconnect token record")?,
        username: p.username,
        expires_ms: p.expires_ms,
        sessions: p.sessions,
    })
}

pub use super::batch::{decode_batches, encode_batch};

#[cfg(test)]
mod tests;
