//! An in-memory store: same semantics as the durable one, nothing survives the process.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use super::index::{self, IndexKey, IndexRange};
use super::{
    ActivityRecord, AdminRecord, ApiKeyRecord, ChatEvent, ChatRecord, CollectionRecord,
    CommitCallback, DeliveryRecord, DomainKey, DomainRecord, Grantee, GroupRecord, JwtKeyRecord,
    ModelMeta, OpRecord, PermissionRow, PermissionTarget, ReconnectTokenRecord, Snapshot, Store,
    StoreError, StoreResult, StoreStats, UserRecord, UserType, WebhookRecord, WriteOp,
};

#[derive(Default)]
struct Data {
    domains: BTreeMap<DomainKey, DomainRecord>,
    collections: BTreeMap<(DomainKey, String), CollectionRecord>,
    models: BTreeMap<(DomainKey, String), ModelMeta>,
    ops: BTreeMap<(u64, u64), OpRecord>,
    snapshots: BTreeMap<(u64, u64), Snapshot>,
    users: BTreeMap<(DomainKey, UserType, String), UserRecord>,
    jwt_keys: BTreeMap<(DomainKey, String), JwtKeyRecord>,
    admins: BTreeMap<String, AdminRecord>,
    api_keys: BTreeMap<(DomainKey, String), ApiKeyRecord>,
    webhooks: BTreeMap<(DomainKey, String), WebhookRecord>,
    deliveries: BTreeMap<(DomainKey, String, u64), DeliveryRecord>,
    tokens: BTreeMap<(DomainKey, String), ReconnectTokenRecord>,
    permissions: BTreeMap<(DomainKey, PermissionTarget, Grantee), Vec<String>>,
    groups: BTreeMap<(DomainKey, String), GroupRecord>,
    /// (domain, group, member type, member name).
    members: BTreeSet<(DomainKey, String, UserType, String)>,
    /// (domain, type, id).
    activities: BTreeMap<(DomainKey, String, String), ActivityRecord>,
    /// (domain, id).
    chats: BTreeMap<(DomainKey, String), ChatRecord>,
    /// (domain, chat id, event number).
    chat_events: BTreeMap<(DomainKey, String, u64), ChatEvent>,
    /// Query index: entry key to the ids of the models that have it.
    index: BTreeMap<IndexKey, BTreeSet<String>>,
    /// Model number to its id and query index entries.
    entries: BTreeMap<u64, (String, BTreeSet<IndexKey>)>,
}

/// Sorted, without duplicates.
fn normalized(mut permissions: Vec<String>) -> Vec<String> {
    permissions.sort();
    permissions.dedup();
    permissions
}

/// A store that keeps everything in memory. Writes are "durable" as soon as they are applied.
pub struct MemoryStore {
    data: Mutex<Data>,
    next_number: AtomicU64,
    snapshots_kept: usize,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new(8)
    }
}

impl MemoryStore {
    /// An empty store keeping `snapshots_kept` snapshots per model besides the first.
    pub fn new(snapshots_kept: usize) -> Self {
        MemoryStore {
            data: Mutex::new(Data::default()),
            next_number: AtomicU64::new(1),
            snapshots_kept,
        }
    }

    fn lock(&self) -> StoreResult<std::sync::MutexGuard<'_, Data>> {
        self.data
            .lock()
            .map_err(|_| StoreError::Io("memory store lock poisoned".into()))
    }
}

fn check(data: &Data, op: &WriteOp) -> StoreResult<()> {
    if let WriteOp::CreateModel { meta, .. } = op {
        if data
            .models
            .contains_key(&(meta.domain.clone(), meta.id.clone()))
        {
            return Err(StoreError::AlreadyExists(format!("model {}", meta.id)));
        }
    }
    Ok(())
}

fn drop_rows(data: &mut Data, domain: &DomainKey, target: &PermissionTarget) {
    data.permissions
        .retain(|(d, t, _), _| !(d == domain && t == target));
}

fn delete_model_data(data: &mut Data, number: u64) {
    data.ops.retain(|(n, _), _| *n != number);
    data.snapshots.retain(|(n, _), _| *n != number);
    drop_index(data, number);
}

fn drop_index(data: &mut Data, number: u64) {
    let Some((id, old)) = data.entries.remove(&number) else {
        return;
    };
    for key in old {
        if let Some(ids) = data.index.get_mut(&key) {
            ids.remove(&id);
            if ids.is_empty() {
                data.index.remove(&key);
            }
        }
    }
}

fn put_index(data: &mut Data, number: u64, id: &str, entries: BTreeSet<IndexKey>) {
    drop_index(data, number);
    for key in &entries {
        data.index
            .entry(key.clone())
            .or_default()
            .insert(id.to_string());
    }
    data.entries.insert(number, (id.to_string(), entries));
}

fn apply(data: &mut Data, op: WriteOp, kept: usize) {
    match op {
        WriteOp::PutDomain(d) => {
            data.domains.insert(d.key.clone(), d);
        }
        WriteOp::DeleteDomain(key) => {
            data.domains.remove(&key);
            data.collections.retain(|(d, _), _| *d != key);
            let numbers: Vec<u64> = data
                .models
                .iter()
                .filter(|((d, _), _)| *d == key)
                .map(|(_, m)| m.number)
                .collect();
            data.models.retain(|(d, _), _| *d != key);
            for n in numbers {
                delete_model_data(data, n);
            }
            data.users.retain(|(d, _, _), _| *d != key);
            data.jwt_keys.retain(|(d, _), _| *d != key);
            data.api_keys.retain(|(d, _), _| *d != key);
            data.webhooks.retain(|(d, _), _| *d != key);
            data.deliveries.retain(|(d, ..), _| *d != key);
            data.tokens.retain(|(d, _), _| *d != key);
            data.permissions.retain(|(d, _, _), _| *d != key);
            data.groups.retain(|(d, _), _| *d != key);
            data.members.retain(|(d, ..)| *d != key);
            data.activities.retain(|(d, ..), _| *d != key);
            data.chats.retain(|(d, _), _| *d != key);
            data.chat_events.retain(|(d, ..), _| *d != key);
        }
        WriteOp::PutCollection { domain, record } => {
            data.collections.insert((domain, record.id.clone()), record);
        }
        WriteOp::DeleteCollection { domain, id } => {
            data.collections.remove(&(domain.clone(), id.clone()));
            drop_rows(data, &domain, &PermissionTarget::Collection(id.clone()));
            let doomed: Vec<(u64, String)> = data
                .models
                .iter()
                .filter(|((d, _), m)| *d == domain && m.collection == id)
                .map(|(_, m)| (m.number, m.id.clone()))
                .collect();
            let mut numbers = Vec::new();
            for (number, model) in doomed {
                drop_rows(data, &domain, &PermissionTarget::Model(model));
                numbers.push(number);
            }
            data.models
                .retain(|(d, _), m| !(*d == domain && m.collection == id));
            for n in numbers {
                delete_model_data(data, n);
            }
        }
        WriteOp::CreateModel { meta, snapshot } => {
            let entries = index::entries_of(&meta.domain, &meta.collection, &snapshot.data);
            put_index(data, meta.number, &meta.id, entries);
            data.snapshots
                .insert((meta.number, snapshot.version), snapshot);
            data.models
                .insert((meta.domain.clone(), meta.id.clone()), meta);
        }
        WriteOp::PutModelMeta(meta) => {
            let key = (meta.domain.clone(), meta.id.clone());
            // Metadata of a deleted model is not resurrected.
            if data.models.contains_key(&key) {
                data.models.insert(key, meta);
            }
        }
        WriteOp::AppendOps { number, ops } => {
            for r in ops {
                data.ops.insert((number, r.version), r);
            }
        }
        // `write` decodes these into `AppendOps` before anything is checked or applied.
        WriteOp::AppendEncoded { .. } => {}
        WriteOp::PutSnapshot { number, snapshot } => {
            data.snapshots.insert((number, snapshot.version), snapshot);
            let versions: Vec<u64> = data
                .snapshots
                .range((number, 0)..=(number, u64::MAX))
                .map(|((_, v), _)| *v)
                .collect();
            if versions.len() > kept + 1 {
                for v in &versions[1..versions.len() - kept] {
                    data.snapshots.remove(&(number, *v));
                }
            }
        }
        WriteOp::IndexModel {
            domain,
            id,
            number,
            entries,
        } => {
            if data.models.contains_key(&(domain, id.clone())) {
                put_index(data, number, &id, entries);
            }
        }
        WriteOp::DeleteModel { domain, id } => {
            drop_rows(data, &domain, &PermissionTarget::Model(id.clone()));
            if let Some(meta) = data.models.remove(&(domain, id)) {
                delete_model_data(data, meta.number);
            }
        }
        WriteOp::PutUser { domain, record } => {
            data.users
                .insert((domain, record.user_type, record.username.clone()), record);
        }
        WriteOp::DeleteUser {
            domain,
            user_type,
            username,
        } => {
            data.tokens.retain(|(d, _), t| {
                !(*d == domain && t.user_type == user_type && t.username == username)
            });
            data.members
                .retain(|(d, _, t, n)| !(*d == domain && *t == user_type && *n == username));
            let grantee = Grantee::User(user_type, username.clone());
            data.permissions
                .retain(|(d, _, g), _| !(*d == domain && *g == grantee));
            data.users.remove(&(domain, user_type, username));
        }
        WriteOp::PutJwtKey { domain, record } => {
            data.jwt_keys.insert((domain, record.id.clone()), record);
        }
        WriteOp::DeleteJwtKey { domain, id } => {
            data.jwt_keys.remove(&(domain, id));
        }
        WriteOp::PutReconnectToken { domain, record } => {
            data.tokens.insert((domain, record.token.clone()), record);
        }
        WriteOp::DeleteReconnectToken { domain, token } => {
            data.tokens.remove(&(domain, token));
        }
        WriteOp::SetPermissions {
            domain,
            target,
            grantee,
            permissions,
        } => {
            let key = (domain, target, grantee);
            if permissions.is_empty() {
                data.permissions.remove(&key);
            } else {
                data.permissions.insert(key, normalized(permissions));
            }
        }
        WriteOp::ClearPermissions {
            domain,
            target,
            kind,
        } => {
            data.permissions
                .retain(|(d, t, g), _| !(*d == domain && *t == target && kind.matches(g)));
        }
        WriteOp::PutGroup { domain, record } => {
            data.groups.insert((domain, record.id.clone()), record);
        }
        WriteOp::PutActivity(record) => {
            let key = (
                record.domain.clone(),
                record.activity_type.clone(),
                record.id.clone(),
            );
            data.activities.insert(key, record);
        }
        WriteOp::PutAdmin(record) => {
            data.admins.insert(record.username.clone(), record);
        }
        WriteOp::DeleteAdmin { username } => {
            data.admins.remove(&username);
        }
        WriteOp::PutApiKey(record) => {
            data.api_keys
                .insert((record.domain.clone(), record.id.clone()), record);
        }
        WriteOp::DeleteApiKey { domain, id } => {
            data.api_keys.remove(&(domain, id));
        }
        WriteOp::PutWebhook(record) => {
            data.webhooks
                .insert((record.domain.clone(), record.id.clone()), record);
        }
        WriteOp::DeleteWebhook { domain, id } => {
            data.deliveries
                .retain(|(d, w, _), _| !(*d == domain && *w == id));
            data.webhooks.remove(&(domain, id));
        }
        WriteOp::PutDelivery(record) => {
            let key = (record.domain.clone(), record.webhook.clone(), record.seq);
            data.deliveries.insert(key, record);
        }
        WriteOp::DeleteDelivery {
            domain,
            webhook,
            seq,
        } => {
            data.deliveries.remove(&(domain, webhook, seq));
        }
        WriteOp::PutChat(record) => {
            data.chats
                .insert((record.domain.clone(), record.id.clone()), record);
        }
        WriteOp::AppendChatEvent {
            domain,
            chat,
            event,
        } => {
            data.chat_events.insert((domain, chat, event.number), event);
        }
        WriteOp::DeleteChat { domain, id } => {
            drop_rows(data, &domain, &PermissionTarget::Chat(id.clone()));
            data.chat_events
                .retain(|(d, c, _), _| !(*d == domain && *c == id));
            data.chats.remove(&(domain, id));
        }
        WriteOp::DeleteActivity {
            domain,
            activity_type,
            id,
        } => {
            let target = PermissionTarget::Activity {
                kind: activity_type.clone(),
                id: id.clone(),
            };
            drop_rows(data, &domain, &target);
            data.activities.remove(&(domain, activity_type, id));
        }
        WriteOp::DeleteGroup { domain, id } => {
            data.members
                .retain(|(d, g, ..)| !(*d == domain && *g == id));
            let grantee = Grantee::Group(id.clone());
            data.permissions
                .retain(|(d, _, g), _| !(*d == domain && *g == grantee));
            data.groups.remove(&(domain, id));
        }
        WriteOp::AddGroupMember {
            domain,
            group,
            user_type,
            username,
        } => {
            data.members.insert((domain, group, user_type, username));
        }
        WriteOp::RemoveGroupMember {
            domain,
            group,
            user_type,
            username,
        } => {
            data.members.remove(&(domain, group, user_type, username));
        }
    }
}

impl Store for MemoryStore {
    fn write(&self, batch: Vec<WriteOp>, done: CommitCallback) {
        let result = (|| {
            let batch = batch
                .into_iter()
                .map(|op| match op {
                    WriteOp::AppendEncoded { number, ops } => Ok(WriteOp::AppendOps {
                        number,
                        ops: ops.decode()?,
                    }),
                    other => Ok(other),
                })
                .collect::<StoreResult<Vec<_>>>()?;
            let mut data = self.lock()?;
            for op in &batch {
                check(&data, op)?;
            }
            for op in batch {
                apply(&mut data, op, self.snapshots_kept);
            }
            Ok(())
        })();
        done(result);
    }

    fn domain(&self, key: &DomainKey) -> StoreResult<Option<DomainRecord>> {
        Ok(self.lock()?.domains.get(key).cloned())
    }

    fn domains(&self) -> StoreResult<Vec<DomainRecord>> {
        Ok(self.lock()?.domains.values().cloned().collect())
    }

    fn collection(&self, domain: &DomainKey, id: &str) -> StoreResult<Option<CollectionRecord>> {
        Ok(self
            .lock()?
            .collections
            .get(&(domain.clone(), id.to_string()))
            .cloned())
    }

    fn collections(&self, domain: &DomainKey) -> StoreResult<Vec<CollectionRecord>> {
        Ok(self
            .lock()?
            .collections
            .iter()
            .filter(|((d, _), _)| d == domain)
            .map(|(_, c)| c.clone())
            .collect())
    }

    fn model(&self, domain: &DomainKey, id: &str) -> StoreResult<Option<ModelMeta>> {
        Ok(self
            .lock()?
            .models
            .get(&(domain.clone(), id.to_string()))
            .cloned())
    }

    fn models(&self, domain: &DomainKey, collection: Option<&str>) -> StoreResult<Vec<ModelMeta>> {
        Ok(self
            .lock()?
            .models
            .iter()
            .filter(|((d, _), m)| d == domain && collection.is_none_or(|c| m.collection == c))
            .map(|(_, m)| m.clone())
            .collect())
    }

    fn index_scan(
        &self,
        range: &IndexRange,
        visit: &mut dyn FnMut(&[u8], &str) -> bool,
    ) -> StoreResult<()> {
        if index::range_is_empty(range) {
            return Ok(());
        }
        // Copied out first: `visit` may call back into the store.
        let found: Vec<(IndexKey, String)> = {
            let data = self.lock()?;
            let bounds = (std::ops::Bound::Included(range.0.clone()), range.1.clone());
            data.index
                .range(bounds)
                .flat_map(|(k, ids)| ids.iter().map(move |id| (k.clone(), id.clone())))
                .collect()
        };
        for (k, id) in &found {
            if !visit(k, id) {
                break;
            }
        }
        Ok(())
    }

    fn ops(&self, number: u64, first: u64, last: u64) -> StoreResult<Vec<OpRecord>> {
        if first > last {
            return Ok(Vec::new());
        }
        Ok(self
            .lock()?
            .ops
            .range((number, first)..=(number, last))
            .map(|(_, r)| r.clone())
            .collect())
    }

    fn snapshot_at_or_before(&self, number: u64, version: u64) -> StoreResult<Option<Snapshot>> {
        Ok(self
            .lock()?
            .snapshots
            .range((number, 0)..=(number, version))
            .next_back()
            .map(|(_, s)| s.clone()))
    }

    fn version_at_time(&self, number: u64, time_ms: i64) -> StoreResult<Option<u64>> {
        Ok(self
            .lock()?
            .ops
            .range((number, 0)..=(number, u64::MAX))
            .take_while(|(_, r)| r.timestamp_ms <= time_ms)
            .last()
            .map(|((_, v), _)| *v))
    }

    fn user(
        &self,
        domain: &DomainKey,
        user_type: UserType,
        username: &str,
    ) -> StoreResult<Option<UserRecord>> {
        Ok(self
            .lock()?
            .users
            .get(&(domain.clone(), user_type, username.to_string()))
            .cloned())
    }

    fn users(&self, domain: &DomainKey) -> StoreResult<Vec<UserRecord>> {
        Ok(self
            .lock()?
            .users
            .iter()
            .filter(|((d, _, _), _)| d == domain)
            .map(|(_, u)| u.clone())
            .collect())
    }

    fn admin(&self, username: &str) -> StoreResult<Option<AdminRecord>> {
        Ok(self.lock()?.admins.get(username).cloned())
    }

    fn admins(&self) -> StoreResult<Vec<AdminRecord>> {
        Ok(self.lock()?.admins.values().cloned().collect())
    }

    fn api_key(&self, domain: &DomainKey, id: &str) -> StoreResult<Option<ApiKeyRecord>> {
        Ok(self
            .lock()?
            .api_keys
            .get(&(domain.clone(), id.to_string()))
            .cloned())
    }

    fn api_keys(&self, domain: &DomainKey) -> StoreResult<Vec<ApiKeyRecord>> {
        Ok(self
            .lock()?
            .api_keys
            .iter()
            .filter(|((d, _), _)| d == domain)
            .map(|(_, k)| k.clone())
            .collect())
    }

    fn webhooks(&self, domain: Option<&DomainKey>) -> StoreResult<Vec<WebhookRecord>> {
        Ok(self
            .lock()?
            .webhooks
            .iter()
            .filter(|((d, _), _)| domain.is_none_or(|k| k == d))
            .map(|(_, w)| w.clone())
            .collect())
    }

    fn deliveries(&self, domain: &DomainKey, webhook: &str) -> StoreResult<Vec<DeliveryRecord>> {
        Ok(self
            .lock()?
            .deliveries
            .iter()
            .filter(|((d, w, _), _)| d == domain && w == webhook)
            .map(|(_, r)| r.clone())
            .collect())
    }

    fn jwt_key(&self, domain: &DomainKey, id: &str) -> StoreResult<Option<JwtKeyRecord>> {
        Ok(self
            .lock()?
            .jwt_keys
            .get(&(domain.clone(), id.to_string()))
            .cloned())
    }

    fn jwt_keys(&self, domain: &DomainKey) -> StoreResult<Vec<JwtKeyRecord>> {
        Ok(self
            .lock()?
            .jwt_keys
            .iter()
            .filter(|((d, _), _)| d == domain)
            .map(|(_, k)| k.clone())
            .collect())
    }

    fn reconnect_token(
        &self,
        domain: &DomainKey,
        token: &str,
    ) -> StoreResult<Option<ReconnectTokenRecord>> {
        Ok(self
            .lock()?
            .tokens
            .get(&(domain.clone(), token.to_string()))
            .cloned())
    }

    fn permissions(
        &self,
        domain: &DomainKey,
        target: &PermissionTarget,
    ) -> StoreResult<Vec<PermissionRow>> {
        Ok(self
            .lock()?
            .permissions
            .iter()
            .filter(|((d, t, _), _)| d == domain && t == target)
            .map(|((_, _, g), p)| PermissionRow {
                grantee: g.clone(),
                permissions: p.clone(),
            })
            .collect())
    }

    fn permission(
        &self,
        domain: &DomainKey,
        target: &PermissionTarget,
        grantee: &Grantee,
    ) -> StoreResult<Vec<String>> {
        let key = (domain.clone(), target.clone(), grantee.clone());
        Ok(self
            .lock()?
            .permissions
            .get(&key)
            .cloned()
            .unwrap_or_default())
    }

    fn activity(
        &self,
        domain: &DomainKey,
        activity_type: &str,
        id: &str,
    ) -> StoreResult<Option<ActivityRecord>> {
        let key = (domain.clone(), activity_type.to_string(), id.to_string());
        Ok(self.lock()?.activities.get(&key).cloned())
    }

    fn chat(&self, domain: &DomainKey, id: &str) -> StoreResult<Option<ChatRecord>> {
        let key = (domain.clone(), id.to_string());
        Ok(self.lock()?.chats.get(&key).cloned())
    }

    fn chats(&self, domain: &DomainKey) -> StoreResult<Vec<ChatRecord>> {
        Ok(self
            .lock()?
            .chats
            .iter()
            .filter(|((d, _), _)| d == domain)
            .map(|(_, c)| c.clone())
            .collect())
    }

    fn chat_events(
        &self,
        domain: &DomainKey,
        chat: &str,
        first: u64,
        last: u64,
    ) -> StoreResult<Vec<ChatEvent>> {
        if first > last {
            return Ok(Vec::new());
        }
        let from = (domain.clone(), chat.to_string(), first);
        let to = (domain.clone(), chat.to_string(), last);
        Ok(self
            .lock()?
            .chat_events
            .range(from..=to)
            .map(|(_, e)| e.clone())
            .collect())
    }

    fn activities(&self, domain: &DomainKey) -> StoreResult<Vec<ActivityRecord>> {
        Ok(self
            .lock()?
            .activities
            .iter()
            .filter(|((d, ..), _)| d == domain)
            .map(|(_, a)| a.clone())
            .collect())
    }

    fn group(&self, domain: &DomainKey, id: &str) -> StoreResult<Option<GroupRecord>> {
        Ok(self
            .lock()?
            .groups
            .get(&(domain.clone(), id.to_string()))
            .cloned())
    }

    fn groups(&self, domain: &DomainKey) -> StoreResult<Vec<GroupRecord>> {
        Ok(self
            .lock()?
            .groups
            .iter()
            .filter(|((d, _), _)| d == domain)
            .map(|(_, g)| g.clone())
            .collect())
    }

    fn group_members(&self, domain: &DomainKey, id: &str) -> StoreResult<Vec<(UserType, String)>> {
        Ok(self
            .lock()?
            .members
            .iter()
            .filter(|(d, g, ..)| d == domain && g == id)
            .map(|(_, _, t, n)| (*t, n.clone()))
            .collect())
    }

    fn user_groups(
        &self,
        domain: &DomainKey,
        user_type: UserType,
        username: &str,
    ) -> StoreResult<Vec<String>> {
        Ok(self
            .lock()?
            .members
            .iter()
            .filter(|(d, _, t, n)| d == domain && *t == user_type && n == username)
            .map(|(_, g, ..)| g.clone())
            .collect())
    }

    fn allocate_model_number(&self) -> u64 {
        self.next_number.fetch_add(1, Ordering::Relaxed)
    }

    fn flush(&self) -> StoreResult<()> {
        Ok(())
    }

    fn stats(&self) -> StoreResult<StoreStats> {
        let data = self.lock()?;
        Ok(StoreStats {
            op_count: data.ops.len() as u64,
            ..StoreStats::default()
        })
    }
}
