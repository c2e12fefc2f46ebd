//! Query indexes: the entries a model's data puts in its collection's index, and the key ranges
//! a query scans.
//!
//! Every scalar of a model (string, number, boolean, date, null) at any depth is one entry: the
//! path to it, with array positions replaced by a wildcard (an insert at the front of an array
//! would otherwise rewrite every entry after it), and the value. Strings are indexed by their
//! first [`INDEXED_UNITS`] UTF-16 code units. A model whose path is longer than
//! [`MAX_PATH_BYTES`] encoded has no entry for it, and queries never use the index for such a
//! path. So an index scan finds a superset of the models a condition matches (array positions
//! and long strings are rechecked against the data), never fewer.
//!
//! An entry's key is the collection's digest, the encoded path, a zero byte and the encoded
//! value, so that one path's entries are one prefix and byte order is the query language's
//! order within each type: numbers by value (`-0` as `0`), strings by code units, dates by
//! time. The stores keep, per key, the ids of the models that have the entry; and per model the
//! set of its keys, so that an update replaces exactly its old entries.

use std::collections::BTreeSet;
use std::ops::Bound;

use sha2::{Digest, Sha256};

use crate::ot::{Data, Document, JsString, ScalarPrefix, Value, WalkStep};

use super::DomainKey;

/// Strings are indexed by at most this many leading UTF-16 code units.
pub const INDEXED_UNITS: usize = 64;

/// Paths longer than this, encoded, are not indexed.
pub const MAX_PATH_BYTES: usize = 256;

/// One encoded index entry (see the module docs).
pub type IndexKey = Vec<u8>;

/// A range of entry keys: from the first (inclusive) to the bound.
pub type IndexRange = (Vec<u8>, Bound<Vec<u8>>);

/// One step of an indexed path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IndexSegment {
    /// An object property.
    Key(JsString),
    /// Any array element.
    Element,
}

/// A scalar as the index orders it.
#[derive(Clone, Debug, PartialEq)]
pub enum IndexValue {
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number.
    Number(f64),
    /// A string (only its first [`INDEXED_UNITS`] code units count).
    String(Vec<u16>),
    /// A date, in epoch milliseconds.
    Date(i64),
}

const TAG_NULL: u8 = 1;
const TAG_BOOL: u8 = 2;
const TAG_NUMBER: u8 = 4;
const TAG_STRING: u8 = 5;
const TAG_DATE: u8 = 6;

/// The 8-byte digest that prefixes every entry of a collection.
pub fn collection_prefix(domain: &DomainKey, collection: &str) -> [u8; 8] {
    let mut h = Sha256::new();
    for part in [&domain.namespace, &domain.id, collection] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    let digest = h.finalize();
    let mut out = [0u8; 8];
    out.copy_from_slice(&digest[..8]);
    out
}

fn push_key(out: &mut Vec<u8>, units: &[u16]) {
    out.push(1);
    out.extend_from_slice(&(units.len() as u32).to_be_bytes());
    for u in units {
        out.extend_from_slice(&u.to_be_bytes());
    }
}

fn push_step(out: &mut Vec<u8>, step: WalkStep<'_>) {
    match step {
        WalkStep::Key(k) => push_key(out, k.units()),
        WalkStep::Element => out.push(2),
    }
}

/// The key prefix of one path's entries in a collection; `None` when the path is too long to
/// be indexed.
pub fn path_prefix(collection: [u8; 8], path: &[IndexSegment]) -> Option<Vec<u8>> {
    let mut out = collection.to_vec();
    for segment in path {
        match segment {
            IndexSegment::Key(k) => push_key(&mut out, k.units()),
            IndexSegment::Element => out.push(2),
        }
        if out.len() - 8 > MAX_PATH_BYTES {
            return None;
        }
    }
    out.push(0);
    Some(out)
}

fn step_prefix(collection: [u8; 8], path: &[WalkStep<'_>]) -> Option<Vec<u8>> {
    let mut out = collection.to_vec();
    for step in path {
        push_step(&mut out, *step);
        if out.len() - 8 > MAX_PATH_BYTES {
            return None;
        }
    }
    out.push(0);
    Some(out)
}

/// Appends a value's encoding (order-preserving within its type).
pub fn push_value(out: &mut Vec<u8>, value: &IndexValue) {
    match value {
        IndexValue::Null => out.push(TAG_NULL),
        IndexValue::Bool(b) => out.extend_from_slice(&[TAG_BOOL, u8::from(*b)]),
        IndexValue::Number(n) => {
            out.push(TAG_NUMBER);
            out.extend_from_slice(&number_bits(*n).to_be_bytes());
        }
        IndexValue::String(units) => {
            out.push(TAG_STRING);
            for u in units.iter().take(INDEXED_UNITS) {
                out.extend_from_slice(&u.to_be_bytes());
            }
        }
        IndexValue::Date(ms) => {
            out.push(TAG_DATE);
            out.extend_from_slice(&((*ms as u64) ^ (1 << 63)).to_be_bytes());
        }
    }
}

/// The value an entry's key ends with (`bytes`: what follows the path prefix); `None` if
/// malformed.
pub fn decode_value(bytes: &[u8]) -> Option<IndexValue> {
    let (&tag, rest) = bytes.split_first()?;
    let eight = |rest: &[u8]| -> Option<u64> { Some(u64::from_be_bytes(rest.try_into().ok()?)) };
    Some(match tag {
        TAG_NULL if rest.is_empty() => IndexValue::Null,
        TAG_BOOL if rest.len() == 1 => IndexValue::Bool(rest[0] != 0),
        TAG_NUMBER => {
            let bits = eight(rest)?;
            let bits = if bits >> 63 == 1 {
                bits ^ (1 << 63)
            } else {
                !bits
            };
            IndexValue::Number(f64::from_bits(bits))
        }
        TAG_STRING if rest.len() % 2 == 0 => IndexValue::String(
            rest.chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect(),
        ),
        TAG_DATE => IndexValue::Date((eight(rest)? ^ (1 << 63)) as i64),
        _ => return None,
    })
}

/// Whether an indexed value may stand for a longer one (a string cut to [`INDEXED_UNITS`]).
pub fn maybe_truncated(v: &IndexValue) -> bool {
    matches!(v, IndexValue::String(u) if u.len() >= INDEXED_UNITS)
}

/// A double's bits, transformed so that unsigned order is numeric order (`-0` as `0`).
fn number_bits(n: f64) -> u64 {
    let n = if n == 0.0 { 0.0 } else { n };
    let bits = n.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits ^ (1 << 63)
    }
}

/// The keys of a type's entries at a path (`prefix`) whose value lies between `low` and `high`,
/// both inclusive and of `kind`'s type (`None`: that side is open). Strings compare by their
/// indexed prefix, so a string bound stands for every string sharing it.
pub fn value_range(
    prefix: &[u8],
    kind: &IndexValue,
    low: Option<&IndexValue>,
    high: Option<&IndexValue>,
) -> IndexRange {
    let encode = |v: &IndexValue| {
        let mut k = prefix.to_vec();
        push_value(&mut k, v);
        k
    };
    let tag = encode(kind)[prefix.len()];
    let lower = low.map(encode).unwrap_or_else(|| {
        let mut k = prefix.to_vec();
        k.push(tag);
        k
    });
    let upper = match high {
        Some(v @ IndexValue::String(_)) => Bound::Excluded(prefix_end(&encode(v))),
        Some(v) => Bound::Included(encode(v)),
        None => {
            let mut k = prefix.to_vec();
            k.push(tag + 1);
            Bound::Excluded(k)
        }
    };
    (lower, upper)
}

/// Whether a range holds no key at all (its end is at or before its start).
pub fn range_is_empty((low, high): &IndexRange) -> bool {
    match high {
        Bound::Included(h) => h < low,
        Bound::Excluded(h) => h <= low,
        Bound::Unbounded => false,
    }
}

/// The smallest key greater than every key starting with `prefix`.
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return end;
        }
    }
    vec![u8::MAX; prefix.len() + 1]
}

fn scalar_value(scalar: ScalarPrefix) -> IndexValue {
    match scalar {
        ScalarPrefix::String(units) => IndexValue::String(units),
        ScalarPrefix::Number(n) => IndexValue::Number(n),
        ScalarPrefix::Boolean(b) => IndexValue::Bool(b),
        ScalarPrefix::Date(d) => IndexValue::Date(d),
        ScalarPrefix::Null => IndexValue::Null,
    }
}

/// The entries of a model of `collection` whose data is `doc`.
pub fn entries_of_document(
    domain: &DomainKey,
    collection: &str,
    doc: &Document,
) -> BTreeSet<IndexKey> {
    let prefix = collection_prefix(domain, collection);
    let mut out = BTreeSet::new();
    doc.walk_scalars(INDEXED_UNITS, &mut |path, scalar| {
        if let Some(mut key) = step_prefix(prefix, path) {
            push_value(&mut key, &scalar_value(scalar));
            out.insert(key);
        }
    });
    out
}

fn value_entries<'a>(
    prefix: [u8; 8],
    value: &'a Value,
    path: &mut Vec<WalkStep<'a>>,
    out: &mut BTreeSet<IndexKey>,
) {
    let scalar = match &value.data {
        Data::Object(map) => {
            for (k, child) in map {
                path.push(WalkStep::Key(k));
                value_entries(prefix, child, path, out);
                path.pop();
            }
            return;
        }
        Data::Array(items) => {
            for child in items {
                path.push(WalkStep::Element);
                value_entries(prefix, child, path, out);
                path.pop();
            }
            return;
        }
        Data::String(s) => {
            let units = s.units();
            IndexValue::String(units[..units.len().min(INDEXED_UNITS)].to_vec())
        }
        Data::Number(n) => IndexValue::Number(*n),
        Data::Boolean(b) => IndexValue::Bool(*b),
        Data::Date(d) => IndexValue::Date(*d),
        Data::Null => IndexValue::Null,
    };
    if let Some(mut key) = step_prefix(prefix, path) {
        push_value(&mut key, &scalar);
        out.insert(key);
    }
}

/// The entries of a model of `collection` whose data is `root`.
pub fn entries_of(domain: &DomainKey, collection: &str, root: &Value) -> BTreeSet<IndexKey> {
    let mut out = BTreeSet::new();
    value_entries(
        collection_prefix(domain, collection),
        root,
        &mut Vec::new(),
        &mut out,
    );
    out
}

/// Encodes a model's entry set (what the per-model record holds).
pub fn encode_entries(entries: &BTreeSet<IndexKey>) -> Vec<u8> {
    let mut out = Vec::with_capacity(entries.iter().map(|e| e.len() + 2).sum());
    for e in entries {
        out.extend_from_slice(&(e.len() as u16).to_be_bytes());
        out.extend_from_slice(e);
    }
    out
}

/// Decodes what [`encode_entries`] wrote; `None` if it is malformed.
pub fn decode_entries(mut bytes: &[u8]) -> Option<BTreeSet<IndexKey>> {
    let mut out = BTreeSet::new();
    while !bytes.is_empty() {
        let (len, rest) = bytes.split_first_chunk::<2>()?;
        let len = u16::from_be_bytes(*len) as usize;
        if rest.len() < len {
            return None;
        }
        out.insert(rest[..len].to_vec());
        bytes = &rest[len..];
    }
    Some(out)
}
