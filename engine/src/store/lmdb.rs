//! The LMDB store (heed): one data directory, one writer thread with group commit.

use super::{
    CollectionRecord, CommitCallback, DomainKey, DomainRecord, ModelMeta, OpRecord, Snapshot,
    Store, StoreError, StoreOptions, StoreResult, StoreStats, WriteOp,
};

/// The durable default store.
pub struct LmdbStore {
    _options: StoreOptions,
}

impl LmdbStore {
    /// Opens (creating if needed) the store in `options.path`.
    pub fn open(options: StoreOptions) -> StoreResult<Self> {
        let _ = options;
        Err(StoreError::Io("LMDB store not implemented yet".into()))
    }
}

impl Store for LmdbStore {
    fn write(&self, _batch: Vec<WriteOp>, done: CommitCallback) {
        done(Err(StoreError::Closed))
    }
    fn domain(&self, _key: &DomainKey) -> StoreResult<Option<DomainRecord>> {
        Err(StoreError::Closed)
    }
    fn domains(&self) -> StoreResult<Vec<DomainRecord>> {
        Err(StoreError::Closed)
    }
    fn collection(&self, _d: &DomainKey, _id: &str) -> StoreResult<Option<CollectionRecord>> {
        Err(StoreError::Closed)
    }
    fn collections(&self, _d: &DomainKey) -> StoreResult<Vec<CollectionRecord>> {
        Err(StoreError::Closed)
    }
    fn model(&self, _d: &DomainKey, _id: &str) -> StoreResult<Option<ModelMeta>> {
        Err(StoreError::Closed)
    }
    fn models(&self, _d: &DomainKey, _c: Option<&str>) -> StoreResult<Vec<ModelMeta>> {
        Err(StoreError::Closed)
    }
    fn ops(&self, _n: u64, _f: u64, _l: u64) -> StoreResult<Vec<OpRecord>> {
        Err(StoreError::Closed)
    }
    fn snapshot_at_or_before(&self, _n: u64, _v: u64) -> StoreResult<Option<Snapshot>> {
        Err(StoreError::Closed)
    }
    fn version_at_time(&self, _n: u64, _t: i64) -> StoreResult<Option<u64>> {
        Err(StoreError::Closed)
    }
    fn allocate_model_number(&self) -> u64 {
        0
    }
    fn flush(&self) -> StoreResult<()> {
        Err(StoreError::Closed)
    }
    fn stats(&self) -> StoreResult<StoreStats> {
        Err(StoreError::Closed)
    }
}
