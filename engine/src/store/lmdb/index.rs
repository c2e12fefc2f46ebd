//! The query index in LMDB: `query_index` (dup-sorted: entry key to the ids of the models that
//! have the entry) and `query_entries` (model number to the model's id and its entry keys, so
//! that an update or a deletion removes exactly the model's old entries). Both change in the
//! transaction that changes the model.

use std::collections::BTreeSet;
use std::ops::Bound;

use heed::{RoTxn, RwTxn, WithoutTls};

use super::super::index::{
    decode_entries, encode_entries, entries_of_document, range_is_empty, IndexKey, IndexRange,
};
use super::super::{codec, StoreError, StoreResult};
use super::keys::{model_range, num_key, range_of, split_num_key};
use super::{db_err, Dbs};
use crate::ot::Document;

fn corrupt(number: u64) -> StoreError {
    StoreError::Corrupt(format!("query index record of model {number} is malformed"))
}

/// The id and entries recorded for model `number`.
fn recorded(
    txn: &RoTxn<'_, WithoutTls>,
    dbs: &Dbs,
    number: u64,
) -> StoreResult<Option<(String, BTreeSet<IndexKey>)>> {
    let Some(bytes) = dbs
        .query_entries
        .get(txn, &number.to_be_bytes())
        .map_err(db_err)?
    else {
        return Ok(None);
    };
    let (len, rest) = bytes
        .split_first_chunk::<2>()
        .ok_or_else(|| corrupt(number))?;
    let len = u16::from_be_bytes(*len) as usize;
    if rest.len() < len {
        return Err(corrupt(number));
    }
    let id = std::str::from_utf8(&rest[..len])
        .map_err(|_| corrupt(number))?
        .to_string();
    let entries = decode_entries(&rest[len..]).ok_or_else(|| corrupt(number))?;
    Ok(Some((id, entries)))
}

/// Makes `entries` the index entries of model `number` (id `id`).
pub(super) fn put(
    txn: &mut RwTxn,
    dbs: &Dbs,
    number: u64,
    id: &str,
    entries: &BTreeSet<IndexKey>,
) -> StoreResult<()> {
    let old = recorded(txn, dbs, number)?
        .map(|(_, e)| e)
        .unwrap_or_default();
    for key in old.difference(entries) {
        dbs.query_index
            .delete_one_duplicate(txn, key, id.as_bytes())
            .map_err(db_err)?;
    }
    for key in entries.difference(&old) {
        dbs.query_index
            .put(txn, key, id.as_bytes())
            .map_err(db_err)?;
    }
    let mut record = Vec::with_capacity(2 + id.len());
    record.extend_from_slice(&(id.len() as u16).to_be_bytes());
    record.extend_from_slice(id.as_bytes());
    record.extend_from_slice(&encode_entries(entries));
    dbs.query_entries
        .put(txn, &number.to_be_bytes(), &record)
        .map_err(db_err)
}

/// Removes every index entry of model `number`.
pub(super) fn drop_model(txn: &mut RwTxn, dbs: &Dbs, number: u64) -> StoreResult<()> {
    let Some((id, entries)) = recorded(txn, dbs, number)? else {
        return Ok(());
    };
    for key in &entries {
        dbs.query_index
            .delete_one_duplicate(txn, key, id.as_bytes())
            .map_err(db_err)?;
    }
    dbs.query_entries
        .delete(txn, &number.to_be_bytes())
        .map_err(db_err)?;
    Ok(())
}

/// Visits the entries in `range` in key order (a key's ids in id order) until `visit`
/// answers false.
pub(super) fn scan(
    txn: &RoTxn<'_, WithoutTls>,
    dbs: &Dbs,
    range: &IndexRange,
    visit: &mut dyn FnMut(&[u8], &str) -> bool,
) -> StoreResult<()> {
    if range_is_empty(range) {
        return Ok(());
    }
    let (low, high) = range;
    let bounds = (
        Bound::Included(&low[..]),
        match high {
            Bound::Included(h) => Bound::Included(&h[..]),
            Bound::Excluded(h) => Bound::Excluded(&h[..]),
            Bound::Unbounded => Bound::Unbounded,
        },
    );
    for item in dbs.query_index.range(txn, &bounds).map_err(db_err)? {
        let (key, id) = item.map_err(db_err)?;
        let id = std::str::from_utf8(id)
            .map_err(|_| StoreError::Corrupt("query index entry names no model".into()))?;
        if !visit(key, id) {
            break;
        }
    }
    Ok(())
}

/// Builds the index entries of every model (the upgrade from a format without the index):
/// each model's data is rebuilt from its newest snapshot and the log after it. Returns the
/// number of models indexed (a model whose data cannot be rebuilt is logged and left out).
pub(super) fn backfill(txn: &mut RwTxn, dbs: &Dbs) -> StoreResult<usize> {
    let mut metas = Vec::new();
    for item in dbs.models.iter(txn).map_err(db_err)? {
        let (_, bytes) = item.map_err(db_err)?;
        metas.push(codec::decode_model_meta(bytes)?);
    }
    let mut indexed = 0;
    for meta in &metas {
        match current_data(txn, dbs, meta.number) {
            Ok(doc) => {
                let entries = entries_of_document(&meta.domain, &meta.collection, &doc);
                put(txn, dbs, meta.number, &meta.id, &entries)?;
                indexed += 1;
            }
            // One model that cannot be rebuilt (it cannot be opened either) must not keep the
            // store from opening: it stays out of query answers.
            Err(StoreError::Corrupt(why)) => tracing::error!(
                domain = %meta.domain,
                model = %meta.id,
                "not indexed for queries: {why}"
            ),
            Err(e) => return Err(e),
        }
    }
    Ok(indexed)
}

/// A model's current data, from its newest snapshot and the log after it.
fn current_data(txn: &RoTxn<'_, WithoutTls>, dbs: &Dbs, number: u64) -> StoreResult<Document> {
    let (_, hi) = model_range(number);
    let (_, bytes) = dbs
        .snapshots
        .get_lower_than_or_equal_to(txn, &hi)
        .map_err(db_err)?
        .filter(|(k, _)| split_num_key(k).is_some_and(|(n, _)| n == number))
        .ok_or_else(|| StoreError::Corrupt(format!("model number {number} has no snapshot")))?;
    let snapshot = codec::decode_snapshot(bytes)?;
    let rebuild = |e: crate::ot::ApplyError| {
        StoreError::Corrupt(format!("model number {number} cannot be rebuilt: {e}"))
    };
    let mut doc = Document::new(snapshot.data).map_err(rebuild)?;
    let from = num_key(number, snapshot.version.saturating_add(1));
    for item in dbs.ops.range(txn, &range_of(&from, &hi)).map_err(db_err)? {
        let (_, bytes) = item.map_err(db_err)?;
        let record = codec::decode_op(bytes)?;
        doc.apply(record.op.into_operation()).map_err(rebuild)?;
    }
    Ok(doc)
}
