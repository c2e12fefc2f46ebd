//! [`DbWriter`]: applies write batches to the database, for the applier thread and for
//! recovery at open.

use std::ops::Bound;
use std::path::Path;

use heed::types::DecodeIgnore;
use heed::{Env, MdbError, PutFlags, RoTxn, RwTxn, WithoutTls};

use super::super::batch::{self, LoggedWrite};
use super::super::index::entries_of;
use super::super::wal;
use super::super::{
    codec, DomainKey, OpRecord, PermissionTarget, StoreError, StoreResult, UserType, WriteOp,
};
use super::keys::{child_key, domain_key, model_range, num_key, prefix_end, range_of, user_key};
use super::{acl, index};
use super::{db_err, Dbs, APPLIED_KEY};

/// Applies write batches to the database (the applier thread's, and recovery's).
pub(super) struct DbWriter {
    pub(super) env: Env<WithoutTls>,
    pub(super) dbs: Dbs,
    pub(super) snapshots_kept: usize,
    /// Reused encoding buffer.
    pub(super) buf: Vec<u8>,
    /// The greatest key of the ops db in the current transaction, if known (`[0; 16]` when the
    /// db is empty). Keys above it are appended with `MDB_APPEND`.
    pub(super) last_op_key: Option<[u8; 16]>,
}

impl DbWriter {
    /// The last log record applied, as recorded in the database.
    fn applied(&self, txn: &RoTxn<'_, WithoutTls>) -> StoreResult<u64> {
        match self.dbs.meta.get(txn, APPLIED_KEY).map_err(db_err)? {
            None => Ok(0),
            Some(bytes) => Ok(u64::from_be_bytes(bytes.try_into().map_err(|_| {
                StoreError::Corrupt(format!(
                    "applied log record number of {} bytes",
                    bytes.len()
                ))
            })?)),
        }
    }

    /// Applies the log in `dir` beyond the database's last applied record and returns the
    /// sequence number of the last record. The owner of the directory (`clear`) then deletes
    /// the log; another process leaves it to its owner.
    pub(super) fn recover(&mut self, dir: &Path, clear: bool) -> StoreResult<u64> {
        let applied = {
            let rtxn = self.env.read_txn().map_err(db_err)?;
            self.applied(&rtxn)?
        };
        let records = wal::recover(dir, applied)?;
        let mut last = applied;
        if !records.is_empty() {
            let count = records.len();
            // Bounded transactions: a long log is applied in chunks.
            for chunk in records.chunks(256) {
                let groups: Vec<(u64, &[u8])> =
                    chunk.iter().map(|(lsn, p)| (*lsn, p.as_slice())).collect();
                self.commit_logged(&groups)?;
                last = chunk.last().map_or(last, |(lsn, _)| *lsn);
            }
            tracing::info!(
                records = count,
                last,
                "applied the write-ahead log's acknowledged writes"
            );
        }
        if clear {
            // Everything is in the database, durably: the log starts afresh.
            wal::clear(dir)?;
        }
        Ok(last)
    }

    /// Applies logged groups `(lsn, batches)` in one durable transaction that also records the
    /// last one as applied. Groups the database already holds (applied by another process
    /// reading the log) are skipped.
    pub(super) fn commit_logged(&mut self, groups: &[(u64, &[u8])]) -> StoreResult<()> {
        let env = self.env.clone();
        let mut txn = env.write_txn().map_err(db_err)?;
        self.last_op_key = None;
        let stored = self.applied(&txn)?;
        let mut last = stored;
        for (lsn, payload) in groups {
            if *lsn <= stored {
                continue;
            }
            let mut writes = Vec::new();
            batch::decode_logged(payload, &mut writes)?;
            for write in &writes {
                self.apply_logged(&mut txn, write)?;
            }
            last = *lsn;
        }
        if last == stored {
            return Ok(());
        }
        self.dbs
            .meta
            .put(&mut txn, APPLIED_KEY, &last.to_be_bytes())
            .map_err(db_err)?;
        txn.commit().map_err(db_err)
    }

    /// Checks and applies one batch in its own durable transaction; a failure leaves no trace.
    /// In a process that does not own the directory, `follow` is its log: what the owner
    /// logged and did not apply yet is applied first, in the same transaction.
    pub(super) fn commit_direct(
        &mut self,
        batch: &[WriteOp],
        follow: Option<&Path>,
    ) -> StoreResult<()> {
        let env = self.env.clone();
        let mut txn = env.write_txn().map_err(db_err)?;
        self.last_op_key = None;
        if let Some(dir) = follow {
            let stored = self.applied(&txn)?;
            let mut last = stored;
            for (lsn, payload) in wal::recover(dir, stored)? {
                let mut writes = Vec::new();
                batch::decode_logged(&payload, &mut writes)?;
                for write in &writes {
                    self.apply_logged(&mut txn, write)?;
                }
                last = lsn;
            }
            if last != stored {
                self.dbs
                    .meta
                    .put(&mut txn, APPLIED_KEY, &last.to_be_bytes())
                    .map_err(db_err)?;
            }
        }
        self.check(&txn, batch)?;
        self.apply(&mut txn, batch)?;
        let result = txn.commit().map_err(db_err);
        if let Err(e) = &result {
            tracing::error!("store commit failed: {e}");
        }
        result
    }

    /// Preconditions of one request, against the transaction's current state.
    fn check(&self, txn: &RwTxn, batch: &[WriteOp]) -> StoreResult<()> {
        for op in batch {
            if let WriteOp::CreateModel { meta, .. } = op {
                let key = child_key(&meta.domain, &meta.id);
                if self.dbs.models.get(txn, &key).map_err(db_err)?.is_some() {
                    return Err(StoreError::AlreadyExists(format!("model {}", meta.id)));
                }
            }
        }
        Ok(())
    }

    /// Stores one logged change: appended records as they were logged.
    fn apply_logged(&mut self, txn: &mut RwTxn, write: &LoggedWrite<'_>) -> StoreResult<()> {
        match write {
            LoggedWrite::AppendOps { number, records } => {
                for (version, record) in records {
                    self.append_encoded(txn, *number, *version, record)?;
                }
                Ok(())
            }
            LoggedWrite::PutSnapshot {
                number,
                version,
                record,
            } => {
                self.dbs
                    .snapshots
                    .put(txn, &num_key(*number, *version), record)
                    .map_err(db_err)?;
                self.trim_snapshots(txn, *number)
            }
            LoggedWrite::Other(op) => self.apply_one(txn, op),
        }
    }

    fn apply(&mut self, txn: &mut RwTxn, batch: &[WriteOp]) -> StoreResult<()> {
        for op in batch {
            self.apply_one(txn, op)?;
        }
        Ok(())
    }

    fn apply_one(&mut self, txn: &mut RwTxn, op: &WriteOp) -> StoreResult<()> {
        let dbs = self.dbs;
        match op {
            WriteOp::PutDomain(d) => {
                self.buf.clear();
                codec::encode_domain(d, &mut self.buf);
                dbs.domains
                    .put(txn, &domain_key(&d.key), &self.buf)
                    .map_err(db_err)?;
            }
            WriteOp::DeleteDomain(key) => self.delete_domain(txn, key)?,
            WriteOp::PutCollection { domain, record } => {
                self.buf.clear();
                codec::encode_collection(record, &mut self.buf);
                dbs.collections
                    .put(txn, &child_key(domain, &record.id), &self.buf)
                    .map_err(db_err)?;
            }
            WriteOp::DeleteCollection { domain, id } => self.delete_collection(txn, domain, id)?,
            WriteOp::CreateModel { meta, snapshot } => {
                self.buf.clear();
                codec::encode_snapshot(snapshot, &mut self.buf)?;
                dbs.snapshots
                    .put(txn, &num_key(meta.number, snapshot.version), &self.buf)
                    .map_err(db_err)?;
                self.buf.clear();
                codec::encode_model_meta(meta, &mut self.buf);
                dbs.models
                    .put(txn, &child_key(&meta.domain, &meta.id), &self.buf)
                    .map_err(db_err)?;
                let entries = entries_of(&meta.domain, &meta.collection, &snapshot.data);
                index::put(txn, &dbs, meta.number, &meta.id, &entries)?;
            }
            WriteOp::IndexModel {
                domain,
                id,
                number,
                entries,
            } => {
                // The entries of a deleted model are not resurrected.
                if dbs
                    .models
                    .get(txn, &child_key(domain, id))
                    .map_err(db_err)?
                    .is_some()
                {
                    index::put(txn, &dbs, *number, id, entries)?;
                }
            }
            WriteOp::PutModelMeta(meta) => {
                let key = child_key(&meta.domain, &meta.id);
                // Metadata of a deleted model is not resurrected.
                if dbs.models.get(txn, &key).map_err(db_err)?.is_some() {
                    self.buf.clear();
                    codec::encode_model_meta(meta, &mut self.buf);
                    dbs.models.put(txn, &key, &self.buf).map_err(db_err)?;
                }
            }
            WriteOp::AppendOps { number, ops } => {
                for record in ops {
                    self.append_op(txn, *number, record)?;
                }
            }
            WriteOp::AppendEncoded { number, ops } => {
                for (version, record) in ops.iter() {
                    self.append_encoded(txn, *number, version, record)?;
                }
            }
            WriteOp::PutSnapshot { number, snapshot } => {
                self.buf.clear();
                codec::encode_snapshot(snapshot, &mut self.buf)?;
                dbs.snapshots
                    .put(txn, &num_key(*number, snapshot.version), &self.buf)
                    .map_err(db_err)?;
                self.trim_snapshots(txn, *number)?;
            }
            WriteOp::DeleteModel { domain, id } => self.delete_model(txn, domain, id)?,
            WriteOp::PutUser { domain, record } => {
                self.buf.clear();
                codec::encode_user(record, &mut self.buf);
                dbs.users
                    .put(
                        txn,
                        &user_key(domain, record.user_type, &record.username),
                        &self.buf,
                    )
                    .map_err(db_err)?;
            }
            WriteOp::DeleteUser {
                domain,
                user_type,
                username,
            } => self.delete_user(txn, domain, *user_type, username)?,
            WriteOp::PutJwtKey { domain, record } => {
                self.buf.clear();
                codec::encode_jwt_key(record, &mut self.buf);
                dbs.jwt_keys
                    .put(txn, &child_key(domain, &record.id), &self.buf)
                    .map_err(db_err)?;
            }
            WriteOp::DeleteJwtKey { domain, id } => {
                dbs.jwt_keys
                    .delete(txn, &child_key(domain, id))
                    .map_err(db_err)?;
            }
            WriteOp::PutReconnectToken { domain, record } => {
                self.buf.clear();
                codec::encode_reconnect_token(record, &mut self.buf);
                dbs.tokens
                    .put(txn, &child_key(domain, &record.token), &self.buf)
                    .map_err(db_err)?;
            }
            WriteOp::DeleteReconnectToken { domain, token } => {
                dbs.tokens
                    .delete(txn, &child_key(domain, token))
                    .map_err(db_err)?;
            }
            WriteOp::SetPermissions { .. }
            | WriteOp::ClearPermissions { .. }
            | WriteOp::PutGroup { .. }
            | WriteOp::DeleteGroup { .. }
            | WriteOp::AddGroupMember { .. }
            | WriteOp::RemoveGroupMember { .. } => acl::apply(txn, &dbs, op)?,
            WriteOp::PutActivity(_) | WriteOp::DeleteActivity { .. } => {
                super::activities::apply(txn, &dbs, op)?
            }
            WriteOp::PutChat(_) | WriteOp::AppendChatEvent { .. } | WriteOp::DeleteChat { .. } => {
                super::chats::apply(txn, &dbs, op)?
            }
            WriteOp::PutAdmin(_)
            | WriteOp::DeleteAdmin { .. }
            | WriteOp::PutApiKey(_)
            | WriteOp::DeleteApiKey { .. } => super::credentials::apply(txn, &dbs, op)?,
            WriteOp::PutWebhook(_)
            | WriteOp::DeleteWebhook { .. }
            | WriteOp::PutDelivery(_)
            | WriteOp::DeleteDelivery { .. } => super::webhooks::apply(txn, &dbs, op)?,
        }
        Ok(())
    }

    /// Deletes a domain with everything in it.
    fn delete_domain(&mut self, txn: &mut RwTxn, key: &DomainKey) -> StoreResult<()> {
        let dbs = self.dbs;
        let prefix = domain_key(key);
        let end = prefix_end(&prefix);
        let bounds = (Bound::Included(&prefix[..]), Bound::Excluded(&end[..]));
        dbs.domains.delete(txn, &prefix).map_err(db_err)?;
        dbs.collections.delete_range(txn, &bounds).map_err(db_err)?;
        let mut numbers = Vec::new();
        for item in dbs.models.prefix_iter(txn, &prefix).map_err(db_err)? {
            let (_, bytes) = item.map_err(db_err)?;
            numbers.push(codec::decode_model_meta(bytes)?.number);
        }
        dbs.models.delete_range(txn, &bounds).map_err(db_err)?;
        for n in numbers {
            self.delete_model_data(txn, n)?;
        }
        dbs.users.delete_range(txn, &bounds).map_err(db_err)?;
        dbs.jwt_keys.delete_range(txn, &bounds).map_err(db_err)?;
        dbs.api_keys.delete_range(txn, &bounds).map_err(db_err)?;
        dbs.tokens.delete_range(txn, &bounds).map_err(db_err)?;
        acl::drop_domain(txn, &dbs, key)?;
        super::activities::drop_domain(txn, &dbs, key)?;
        super::webhooks::drop_domain(txn, &dbs, key)?;
        super::chats::drop_domain(txn, &dbs, key)
    }

    /// Deletes a collection and its models, with their permission rows.
    fn delete_collection(
        &mut self,
        txn: &mut RwTxn,
        domain: &DomainKey,
        id: &str,
    ) -> StoreResult<()> {
        let dbs = self.dbs;
        dbs.collections
            .delete(txn, &child_key(domain, id))
            .map_err(db_err)?;
        let prefix = domain_key(domain);
        let mut doomed = Vec::new();
        for item in dbs.models.prefix_iter(txn, &prefix).map_err(db_err)? {
            let (key, bytes) = item.map_err(db_err)?;
            let meta = codec::decode_model_meta(bytes)?;
            if meta.collection == id {
                doomed.push((key.to_vec(), meta.number, meta.id));
            }
        }
        let collection = PermissionTarget::Collection(id.to_string());
        acl::drop_target_rows(txn, &dbs, domain, &collection)?;
        for (key, n, model) in doomed {
            acl::drop_target_rows(txn, &dbs, domain, &PermissionTarget::Model(model))?;
            dbs.models.delete(txn, &key).map_err(db_err)?;
            self.delete_model_data(txn, n)?;
        }
        Ok(())
    }

    /// Deletes a model with its log, snapshots and permission rows (the rows even when the
    /// model does not exist, as the memory store does).
    fn delete_model(&mut self, txn: &mut RwTxn, domain: &DomainKey, id: &str) -> StoreResult<()> {
        let dbs = self.dbs;
        acl::drop_target_rows(txn, &dbs, domain, &PermissionTarget::Model(id.to_string()))?;
        let key = child_key(domain, id);
        let meta = match dbs.models.get(txn, &key).map_err(db_err)? {
            Some(bytes) => codec::decode_model_meta(bytes)?,
            None => return Ok(()),
        };
        dbs.models.delete(txn, &key).map_err(db_err)?;
        self.delete_model_data(txn, meta.number)
    }

    /// Deletes a user with its reconnect tokens, group memberships and permission rows.
    fn delete_user(
        &mut self,
        txn: &mut RwTxn,
        domain: &DomainKey,
        user_type: UserType,
        username: &str,
    ) -> StoreResult<()> {
        let dbs = self.dbs;
        dbs.users
            .delete(txn, &user_key(domain, user_type, username))
            .map_err(db_err)?;
        let mut doomed = Vec::new();
        for item in dbs
            .tokens
            .prefix_iter(txn, &domain_key(domain))
            .map_err(db_err)?
        {
            let (key, bytes) = item.map_err(db_err)?;
            let t = codec::decode_reconnect_token(bytes)?;
            if t.user_type == user_type && t.username == username {
                doomed.push(key.to_vec());
            }
        }
        for key in doomed {
            dbs.tokens.delete(txn, &key).map_err(db_err)?;
        }
        acl::drop_user(txn, &dbs, domain, user_type, username)
    }

    fn append_op(&mut self, txn: &mut RwTxn, number: u64, record: &OpRecord) -> StoreResult<()> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        let result = codec::encode_op(record, &mut buf)
            .and_then(|()| self.append_encoded(txn, number, record.version, &buf));
        self.buf = buf;
        result
    }

    /// Stores an encoded operation record of model `number` at `version`.
    fn append_encoded(
        &mut self,
        txn: &mut RwTxn,
        number: u64,
        version: u64,
        record: &[u8],
    ) -> StoreResult<()> {
        let ops = self.dbs.ops;
        let key = num_key(number, version);
        let last = match self.last_op_key {
            Some(k) => k,
            None => {
                let k = match ops.last(txn).map_err(db_err)? {
                    Some((k, _)) => k.try_into().unwrap_or([0xff; 16]),
                    None => [0; 16],
                };
                self.last_op_key = Some(k);
                k
            }
        };
        if key > last {
            // Appending keeps pages full for sequential writes.
            match ops.put_with_flags(txn, PutFlags::APPEND, &key, record) {
                Ok(()) => {}
                Err(heed::Error::Mdb(MdbError::KeyExist)) => {
                    ops.put(txn, &key, record).map_err(db_err)?
                }
                Err(e) => return Err(db_err(e)),
            }
            self.last_op_key = Some(key);
        } else {
            ops.put(txn, &key, record).map_err(db_err)?;
        }
        Ok(())
    }

    /// Keeps a model's first snapshot and its newest `snapshots_kept`.
    fn trim_snapshots(&mut self, txn: &mut RwTxn, number: u64) -> StoreResult<()> {
        let db = self.dbs.snapshots;
        let (lo, hi) = model_range(number);
        let mut keys = Vec::new();
        for item in db
            .remap_data_type::<DecodeIgnore>()
            .range(txn, &range_of(&lo, &hi))
            .map_err(db_err)?
        {
            let (k, ()) = item.map_err(db_err)?;
            keys.push(k.to_vec());
        }
        if keys.len() > self.snapshots_kept + 1 {
            for k in &keys[1..keys.len() - self.snapshots_kept] {
                db.delete(txn, k).map_err(db_err)?;
            }
        }
        Ok(())
    }

    fn delete_model_data(&mut self, txn: &mut RwTxn, number: u64) -> StoreResult<()> {
        let (lo, hi) = model_range(number);
        let dbs = self.dbs;
        dbs.ops
            .delete_range(txn, &range_of(&lo, &hi))
            .map_err(db_err)?;
        dbs.snapshots
            .delete_range(txn, &range_of(&lo, &hi))
            .map_err(db_err)?;
        self.last_op_key = None;
        index::drop_model(txn, &dbs, number)
    }
}
