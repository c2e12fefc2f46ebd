//! The owner task of one activity: its record, its participants (in join order) with their
//! states and resolved rights, and the events each of them is sent.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tracing::{debug, warn};

use super::{
    ActivityDelivery, ActivityError, ActivityEvent, ActivityKey, ActivityService, ActivitySink,
    ActivityState, Command, Inner, JoinRequest, Joined, Participant,
};
use crate::model::{ActivityChangeKind, EngineEvent};
use crate::perm::{Actor, TargetPermissions, ACTIVITY_PERMISSIONS};
use crate::router::hand_over;
use crate::store::{ActivityRecord, StoreError, UserId, WriteOp};

/// How long an owner without participants waits for another request before it stops.
const IDLE: Duration = Duration::from_secs(10);

/// A joined session.
struct Member {
    session: String,
    user: UserId,
    lurk: bool,
    state: ActivityState,
    rights: BTreeSet<String>,
    sink: ActivitySink,
}

impl Member {
    fn may(&self, permission: &str) -> bool {
        self.rights.contains(permission)
    }

    fn participant(&self, with_state: bool) -> Participant {
        Participant {
            session: self.session.clone(),
            user: self.user.clone(),
            state: if with_state {
                self.state.clone()
            } else {
                ActivityState::new()
            },
        }
    }
}

pub(super) struct Owner {
    key: ActivityKey,
    service: ActivityService,
    record: Option<ActivityRecord>,
    members: Vec<Member>,
}

/// The permission strings `user` holds on the activity.
pub(super) fn resolve(
    inner: &Inner,
    key: &ActivityKey,
    user: &UserId,
) -> Result<BTreeSet<String>, StoreError> {
    inner
        .perms
        .resolve(&key.domain, &key.target(), user, &ACTIVITY_PERMISSIONS)
}

/// Refuses a state whose values nest deeper than `max` (0 = no limit).
pub(super) fn check_depth(state: &ActivityState, max: usize) -> Result<(), ActivityError> {
    match crate::state_map::too_deep(state, max) {
        Some(depth) => Err(ActivityError::TooDeep { depth, max }),
        None => Ok(()),
    }
}

impl Owner {
    pub(super) fn new(key: ActivityKey, service: ActivityService) -> Self {
        Owner {
            key,
            service,
            record: None,
            members: Vec::new(),
        }
    }

    fn inner(&self) -> &Inner {
        &self.service.inner
    }

    pub(super) async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Command>) {
        if let Err(e) = self.load().await {
            warn!(error = %e, "activity record unreadable");
        }
        loop {
            let owners = &self.inner().owners;
            let idle = self.members.is_empty();
            let Some(command) = owners.next(&self.key, &mut rx, idle, IDLE).await else {
                break;
            };
            self.handle(command).await;
        }
        // Requests sent while this owner was stopping go to its successor.
        hand_over(&mut rx, |command| self.service.send(&self.key, command));
    }

    /// Reads the record. An ephemeral one found here outlived its participants (the process
    /// stopped while they were in it): it is deleted.
    async fn load(&mut self) -> Result<(), ActivityError> {
        let key = &self.key;
        let record = self
            .inner()
            .store
            .activity(&key.domain, &key.activity_type, &key.id)?;
        match record {
            Some(r) if r.ephemeral => self.delete_record().await?,
            other => self.record = other,
        }
        Ok(())
    }

    async fn delete_record(&mut self) -> Result<(), ActivityError> {
        let key = &self.key;
        self.inner()
            .store
            .commit(vec![WriteOp::DeleteActivity {
                domain: key.domain.clone(),
                activity_type: key.activity_type.clone(),
                id: key.id.clone(),
            }])
            .await?;
        self.record = None;
        Ok(())
    }

    async fn handle(&mut self, command: Command) {
        match command {
            Command::Join { request, reply } => {
                let result = self.join(request).await;
                let _ = reply.send(result);
            }
            Command::Leave { session, reply } => {
                let result = self.leave(&session).await;
                if let Some(reply) = reply {
                    let _ = reply.send(result);
                }
            }
            Command::Update {
                session,
                set,
                complete,
                removed,
            } => self.update(&session, set, complete, removed),
            Command::Create {
                actor,
                permissions,
                reply,
            } => {
                let result = self.create(&actor, permissions, false, None).await;
                let _ = reply.send(result);
            }
            Command::Delete { actor, reply } => {
                let result = self.delete(&actor).await;
                let _ = reply.send(result);
            }
            Command::Participants { actor, reply } => {
                let result = self.participants(&actor);
                let _ = reply.send(result);
            }
            Command::Reevaluate => self.reevaluate(),
        }
    }

    fn rights(&self, actor: &Actor) -> Result<BTreeSet<String>, ActivityError> {
        match actor {
            Actor::Host => Ok(ACTIVITY_PERMISSIONS.iter().map(|s| s.to_string()).collect()),
            Actor::User(u) => Ok(resolve(self.inner(), &self.key, u)?),
        }
    }

    /// Creates the record and its permission rows: exactly `permissions`, plus — for a
    /// creating user on a join — the creator's own row.
    async fn create(
        &mut self,
        actor: &Actor,
        permissions: TargetPermissions,
        ephemeral: bool,
        joiner: Option<(&UserId, bool)>,
    ) -> Result<(), ActivityError> {
        if self.record.is_some() {
            return Err(ActivityError::AlreadyExists);
        }
        let mut rows = permissions;
        if let Some((user, lurk)) = joiner {
            if !Actor::User(user.clone()).is_privileged() {
                creator_row(&mut rows, user, lurk);
            }
        }
        let key = &self.key;
        let record = ActivityRecord {
            domain: key.domain.clone(),
            activity_type: key.activity_type.clone(),
            id: key.id.clone(),
            created_ms: self.inner().clock.now_ms(),
            ephemeral,
        };
        let mut batch = vec![WriteOp::PutActivity(record.clone())];
        batch.extend(self.inner().perms.initial_target_writes(
            &key.domain,
            &key.target(),
            &rows,
            &ACTIVITY_PERMISSIONS,
        )?);
        self.inner().store.commit(batch).await?;
        debug!(?actor, ephemeral, "activity created");
        self.record = Some(record);
        Ok(())
    }

    async fn join(&mut self, request: JoinRequest) -> Result<Joined, ActivityError> {
        if self.members.iter().any(|m| m.session == request.session) {
            return Err(ActivityError::AlreadyJoined);
        }
        // Refused before anything is created: a refused join leaves no activity behind.
        if !request.lurk {
            self.check_size(&request.state)?;
        }
        if self.record.is_none() {
            let Some(auto) = request.auto_create.clone() else {
                return Err(ActivityError::NotFound);
            };
            let actor = Actor::User(request.user.clone());
            let joiner = Some((&request.user, request.lurk));
            self.create(&actor, auto.permissions, auto.ephemeral, joiner)
                .await?;
        }
        let (ephemeral, created_ms) = match &self.record {
            Some(r) => (r.ephemeral, r.created_ms),
            None => return Err(ActivityError::NotFound),
        };
        let rights = resolve(self.inner(), &self.key, &request.user)?;
        if !rights.contains("join") {
            return Err(ActivityError::Unauthorized("join"));
        }
        if request.lurk && !rights.contains("lurk") {
            return Err(ActivityError::Unauthorized("lurk"));
        }
        let mut state = ActivityState::new();
        if !request.lurk && rights.contains("set_state") {
            state = request.state;
        }
        let member = Member {
            session: request.session,
            user: request.user,
            lurk: request.lurk,
            state,
            rights,
            sink: request.sink,
        };
        let sees = member.may("view_state");
        let mut participants = Vec::new();
        if !member.lurk {
            participants.push(member.participant(true));
            self.broadcast(&member.session, |to| {
                Some(ActivityEvent::SessionJoined(
                    member.participant(to.may("view_state")),
                ))
            });
            self.publish(ActivityChangeKind::Joined, Some(&member));
        }
        participants.extend(
            self.members
                .iter()
                .filter(|m| !m.lurk)
                .map(|m| m.participant(sees)),
        );
        self.members.push(member);
        Ok(Joined {
            participants,
            ephemeral,
            created_ms,
        })
    }

    fn check_size(&self, state: &ActivityState) -> Result<(), ActivityError> {
        let max = self.inner().limits.max_bytes;
        let bytes = crate::state_map::state_bytes(state);
        if max > 0 && bytes > max {
            return Err(ActivityError::TooLarge { bytes, max });
        }
        Ok(())
    }

    /// Removes a member, telling the others; the last one leaving an ephemeral activity
    /// deletes it.
    async fn leave(&mut self, session: &str) -> Result<(), ActivityError> {
        let Some(i) = self.members.iter().position(|m| m.session == session) else {
            return Err(ActivityError::NotJoined);
        };
        let member = self.members.remove(i);
        self.announce_left(&member);
        if self.members.is_empty() && self.record.as_ref().is_some_and(|r| r.ephemeral) {
            self.delete_record().await?;
            self.publish(ActivityChangeKind::Deleted, None);
        }
        Ok(())
    }

    fn announce_left(&self, member: &Member) {
        if member.lurk {
            return;
        }
        self.broadcast(&member.session, |_| {
            Some(ActivityEvent::SessionLeft {
                session: member.session.clone(),
                user: member.user.clone(),
            })
        });
        self.publish(ActivityChangeKind::Left, Some(member));
    }

    fn update(&mut self, session: &str, set: ActivityState, complete: bool, removed: Vec<String>) {
        let Some(i) = self.members.iter().position(|m| m.session == session) else {
            return;
        };
        let member = &self.members[i];
        let refusal = if member.lurk || !member.may("set_state") {
            Some(ActivityError::Unauthorized("set_state"))
        } else {
            let mut next = if complete {
                ActivityState::new()
            } else {
                member.state.clone()
            };
            for k in &removed {
                next.remove(k);
            }
            next.extend(set.iter().map(|(k, v)| (k.clone(), v.clone())));
            match self.check_size(&next) {
                Ok(()) => {
                    self.members[i].state = next;
                    None
                }
                Err(e) => Some(e),
            }
        };
        let member = &self.members[i];
        if let Some(reason) = refusal {
            self.deliver(&member.sink, ActivityEvent::Refused(reason));
            return;
        }
        let (set, removed) = (Arc::new(set), Arc::new(removed));
        self.broadcast(session, |to| {
            to.may("view_state").then(|| ActivityEvent::StateUpdated {
                session: member.session.clone(),
                user: member.user.clone(),
                set: set.clone(),
                complete,
                removed: removed.clone(),
            })
        });
        self.publish(ActivityChangeKind::StateChanged, Some(member));
    }

    async fn delete(&mut self, actor: &Actor) -> Result<(), ActivityError> {
        if self.record.is_none() {
            return Err(ActivityError::NotFound);
        }
        if !self.rights(actor)?.contains("remove") {
            return Err(ActivityError::Unauthorized("remove"));
        }
        self.delete_record().await?;
        for m in self.members.drain(..) {
            let _ = m.sink.send(ActivityDelivery {
                activity_type: self.key.activity_type.clone(),
                id: self.key.id.clone(),
                event: ActivityEvent::Deleted,
            });
        }
        self.publish(ActivityChangeKind::Deleted, None);
        Ok(())
    }

    fn participants(&self, actor: &Actor) -> Result<Vec<Participant>, ActivityError> {
        if self.record.is_none() {
            return Err(ActivityError::NotFound);
        }
        if !self.rights(actor)?.contains("view_state") {
            return Err(ActivityError::Unauthorized("view_state"));
        }
        Ok(self
            .members
            .iter()
            .filter(|m| !m.lurk)
            .map(|m| m.participant(true))
            .collect())
    }

    /// Re-resolves every member's rights; those who lost `join`, `view_state` or (lurking)
    /// `lurk` are made to leave.
    fn reevaluate(&mut self) {
        let mut kept = Vec::with_capacity(self.members.len());
        let mut gone = Vec::new();
        for mut m in std::mem::take(&mut self.members) {
            match resolve(self.inner(), &self.key, &m.user) {
                Ok(rights) => m.rights = rights,
                Err(e) => warn!(error = %e, "rights of a participant unreadable"),
            }
            let lost = ["join", "view_state"]
                .into_iter()
                .chain(m.lurk.then_some("lurk"))
                .find(|p| !m.may(p));
            match lost {
                Some(p) => gone.push((m, p)),
                None => kept.push(m),
            }
        }
        self.members = kept;
        for (m, lost) in gone {
            self.deliver(
                &m.sink,
                ActivityEvent::ForceLeave {
                    reason: format!("the {lost} permission was revoked"),
                },
            );
            self.announce_left(&m);
        }
    }

    fn deliver(&self, sink: &ActivitySink, event: ActivityEvent) {
        let _ = sink.send(ActivityDelivery {
            activity_type: self.key.activity_type.clone(),
            id: self.key.id.clone(),
            event,
        });
    }

    /// Sends every member but `from` what `event` makes of it for them.
    fn broadcast(&self, from: &str, event: impl Fn(&Member) -> Option<ActivityEvent>) {
        for to in self.members.iter().filter(|m| m.session != from) {
            if let Some(e) = event(to) {
                self.deliver(&to.sink, e);
            }
        }
    }

    fn publish(&self, kind: ActivityChangeKind, member: Option<&Member>) {
        let bus = &self.inner().bus;
        if !bus.has_subscribers() {
            return;
        }
        bus.publish(EngineEvent::ActivityChanged {
            domain: self.key.domain.clone(),
            activity_type: self.key.activity_type.clone(),
            id: self.key.id.clone(),
            kind,
            session: member.map(|m| m.session.clone()),
            user: member.map(|m| m.user.clone()),
            state: member.map(|m| m.state.clone()).unwrap_or_default(),
        });
    }
}

impl Drop for Owner {
    /// An owner that panicked tells its participants they are out, so none waits on it.
    fn drop(&mut self) {
        if std::thread::panicking() {
            for m in &self.members {
                self.deliver(
                    &m.sink,
                    ActivityEvent::ForceLeave {
                        reason: "the activity failed".into(),
                    },
                );
            }
        }
    }
}

/// Adds the auto-creating user's row: the permissions the request gave it plus `join` (and
/// `lurk` when lurking), or every permission when the request named none for it.
fn creator_row(rows: &mut TargetPermissions, user: &UserId, lurk: bool) {
    match rows.users.iter_mut().find(|(u, _)| u == user) {
        Some((_, held)) => {
            let mut add = vec!["join"];
            if lurk {
                add.push("lurk");
            }
            for p in add {
                if !held.iter().any(|h| h == p) {
                    held.push(p.to_string());
                }
            }
        }
        None => rows.users.push((
            user.clone(),
            ACTIVITY_PERMISSIONS.iter().map(|s| s.to_string()).collect(),
        )),
    }
}
