//! Activities: create, delete, join (with auto-create), leave and state updates, and the
//! events of joined activities, each sent under the resource id the join gave it.
//!
//! A joined activity's events wait behind the same kind of barrier a just-opened model's do
//! (see [`open_barrier`](super::open_barrier)): rc.12 learns the resource id a few microtasks
//! after the join response arrives, and drops what it reads before.

use super::open_barrier::Held;
use super::*;
use crate::activity::{
    ActivityDelivery, ActivityError, ActivityEvent, ActivityKey, ActivityState, AutoCreate,
    JoinRequest, Joined, Participant,
};
use crate::perm::TargetPermissions;
use crate::protocol::wire::proto::activity as pa;

/// A joined activity of this connection.
pub(super) struct JoinedActivity {
    key: ActivityKey,
    /// Its events, held until the client has taken in the join response.
    barrier: Option<Held<ActivityEvent>>,
}

/// The wire's code for a refusal.
fn error_code(e: &ActivityError) -> &'static str {
    match e {
        ActivityError::NotFound => "activity_not_found",
        ActivityError::AlreadyExists => "activity_already_exists",
        ActivityError::AlreadyJoined => "activity_already_joined",
        ActivityError::NotJoined => "activity_not_joined",
        ActivityError::Unauthorized(_) => "unauthorized",
        ActivityError::InvalidType(_) => "invalid_activity_type",
        ActivityError::InvalidId(_) => "invalid_activity_id",
        ActivityError::TooDeep { .. } => "state_too_deep",
        ActivityError::TooLarge { .. } => "state_too_large",
        ActivityError::Permission(_) => "invalid_permissions",
        ActivityError::GranteeNotFound(_) => "user_not_found",
        ActivityError::Store(_) | ActivityError::Stopped => "unknown",
    }
}

pub(super) fn activity_error_body(e: &ActivityError) -> Body {
    error_body(error_code(e), e.to_string())
}

fn state_from_wire(state: &BTreeMap<String, prost_types::Value>) -> ActivityState {
    state
        .iter()
        .map(|(k, v)| (k.clone(), convert::json_from_proto(v)))
        .collect()
}

/// Generic permission rows from the wire's world list, user entries and group map.
pub(super) fn rows_from_wire(
    world: &[String],
    users: &[pc::UserPermissionsEntry],
    groups: &BTreeMap<String, pc::PermissionsList>,
) -> TargetPermissions {
    TargetPermissions {
        world: world.to_vec(),
        users: users
            .iter()
            .filter_map(|e| {
                let u = e.user.as_ref()?;
                Some((
                    UserId::new(type_from_wire(u.user_type), u.username.clone()),
                    e.permissions.clone(),
                ))
            })
            .collect(),
        groups: groups
            .iter()
            .map(|(g, p)| (g.clone(), p.values.clone()))
            .collect(),
    }
}

impl Conn {
    fn activity_key(&self, activity_type: &str, id: &str) -> ActivityKey {
        ActivityKey::new(self.domain(), activity_type, id)
    }

    /// Answers a request whose work is done by the activity service off the loop.
    fn activity_reply<T: Send + 'static>(
        &self,
        id: i32,
        work: impl std::future::Future<Output = Result<T, ActivityError>> + Send + 'static,
        body: impl FnOnce(T) -> Body + Send + 'static,
    ) {
        let tx = self.internal_tx.clone();
        tokio::spawn(async move {
            let body = match work.await {
                Ok(v) => body(v),
                Err(e) => activity_error_body(&e),
            };
            let _ = tx.send(Internal::Reply(codec::response(id, body)));
        });
    }

    /// `activityCreateRequest`: a persistent activity with exactly the given permissions.
    pub(super) fn activity_create(&mut self, id: i32, r: pa::ActivityCreateRequestMessage) {
        let key = self.activity_key(&r.activity_type, &r.activity_id);
        let rows = rows_from_wire(
            &r.world_permissions,
            &r.user_permissions,
            &r.group_permissions,
        );
        let service = self.services.activities.clone();
        let actor = self.actor();
        self.activity_reply(
            id,
            async move { service.create(&key, &actor, rows).await },
            |()| ok_body(),
        );
    }

    /// `activityDeleteRequest` (needs `remove`).
    pub(super) fn activity_delete(&mut self, id: i32, r: pa::ActivityDeleteRequestMessage) {
        let key = self.activity_key(&r.activity_type, &r.activity_id);
        let service = self.services.activities.clone();
        let actor = self.actor();
        self.activity_reply(
            id,
            async move { service.delete(&key, &actor).await },
            |()| ok_body(),
        );
    }

    /// `activityParticipantsRequest`: the participants and their states, without joining.
    pub(super) fn activity_participants(
        &mut self,
        id: i32,
        r: pa::ActivityParticipantsRequestMessage,
    ) {
        let key = self.activity_key(&r.activity_type, &r.activity_id);
        let service = self.services.activities.clone();
        let actor = self.actor();
        let tx = self.internal_tx.clone();
        tokio::spawn(async move {
            let result = service.participants(&key, &actor).await;
            let _ = tx.send(Internal::ActivityParticipants { id, result });
        });
    }

    pub(super) fn activity_participants_answered(
        &mut self,
        id: i32,
        result: Result<Vec<Participant>, ActivityError>,
    ) {
        match result {
            Ok(participants) => {
                self.ensure_participants(&participants);
                self.reply(
                    id,
                    Body::ActivityParticipantsResponse(pa::ActivityParticipantsResponseMessage {
                        state: states_to_wire(&participants),
                    }),
                );
            }
            Err(e) => self.reply(id, activity_error_body(&e)),
        }
    }

    /// `activityJoinRequest`: joins (creating the activity when asked to); the answer and the
    /// activity's first events come back as [`Internal::ActivityJoined`].
    pub(super) fn activity_join(&mut self, id: i32, r: pa::ActivityJoinRequestMessage) {
        let key = self.activity_key(&r.activity_type, &r.activity_id);
        let pair = (key.activity_type.clone(), key.id.clone());
        if self.by_activity.contains_key(&pair) || self.activity_joining.contains_key(&pair) {
            self.reply(id, activity_error_body(&ActivityError::AlreadyJoined));
            return;
        }
        let session = self.session();
        let request = JoinRequest {
            session: session.session.clone(),
            user: UserId::from_key(&session.user),
            lurk: r.lurk,
            state: state_from_wire(&r.state),
            auto_create: r.auto_create_data.map(|a| AutoCreate {
                ephemeral: a.ephemeral,
                permissions: rows_from_wire(
                    &a.world_permissions,
                    &a.user_permissions,
                    &a.group_permissions,
                ),
            }),
            sink: self.activity_tx.clone(),
        };
        self.activity_joining.insert(pair, Vec::new());
        let service = self.services.activities.clone();
        let tx = self.internal_tx.clone();
        tokio::spawn(async move {
            let result = service.join(&key, request).await;
            let joined = result.is_ok();
            let sent = tx.send(Internal::ActivityJoined {
                id,
                key: key.clone(),
                result,
            });
            if sent.is_err() && joined {
                // The connection ended while the join was under way.
                service.leave_now(&key, &session.session);
            }
        });
    }

    pub(super) fn activity_joined(
        &mut self,
        id: i32,
        key: ActivityKey,
        result: Result<Joined, ActivityError>,
    ) {
        let pair = (key.activity_type.clone(), key.id.clone());
        let buffered = self.activity_joining.remove(&pair).unwrap_or_default();
        let joined = match result {
            Ok(j) => j,
            Err(e) => {
                self.reply(id, activity_error_body(&e));
                return;
            }
        };
        if self.closing {
            self.services
                .activities
                .leave_now(&key, &self.session().session);
            return;
        }
        let resource = self.next_resource;
        self.next_resource += 1;
        self.ensure_participants(&joined.participants);
        self.reply(
            id,
            Body::ActivityJoinResponse(pa::ActivityJoinResponseMessage {
                resource_id: resource,
                state: states_to_wire(&joined.participants),
                ephemeral: joined.ephemeral,
                created: Some(timestamp(joined.created_ms)),
            }),
        );
        let barrier = self.ping_barrier(buffered.into());
        self.by_activity.insert(pair, resource);
        self.activities.insert(
            resource,
            JoinedActivity {
                key,
                barrier: Some(barrier),
            },
        );
    }

    /// `activityLeaveRequest`.
    pub(super) fn activity_leave(&mut self, id: i32, r: pa::ActivityLeaveRequestMessage) {
        let Some(joined) = self.activities.remove(&r.resource_id) else {
            self.reply(
                id,
                error_body("no_such_resource_id", "no activity has that resource id"),
            );
            return;
        };
        let key = joined.key;
        self.by_activity
            .remove(&(key.activity_type.clone(), key.id.clone()));
        let service = self.services.activities.clone();
        let session = self.session().session;
        self.activity_reply(
            id,
            async move { service.leave(&key, &session).await },
            |()| ok_body(),
        );
    }

    /// `activityUpdateState` (a one-way message).
    pub(super) fn activity_update(&mut self, m: pa::ActivityUpdateStateMessage) {
        self.lift_activity_barrier(m.resource_id);
        let Some(joined) = self.activities.get(&m.resource_id) else {
            self.unknown_resource(m.resource_id);
            return;
        };
        let result = self.services.activities.update_state(
            &joined.key,
            &self.session().session,
            state_from_wire(&m.set),
            m.complete,
            m.removed,
        );
        if let Err(e) = result {
            self.activity_refused(&e);
        }
    }

    fn activity_refused(&self, e: &ActivityError) {
        warn!(error = %e, "activity state change refused");
        self.send(codec::normal(activity_error_body(e)));
    }

    /// Leaves every joined activity (the connection ends).
    pub(super) fn leave_activities(&mut self) {
        let session = self.session().session;
        for (_, joined) in self.activities.drain() {
            self.services.activities.leave_now(&joined.key, &session);
        }
        self.by_activity.clear();
    }

    /// Sends an event of a joined activity, or holds it while the activity is being joined
    /// or waits behind its barrier.
    pub(super) fn handle_activity_delivery(&mut self, d: ActivityDelivery) {
        let pair = (d.activity_type, d.id);
        if let Some(buffer) = self.activity_joining.get_mut(&pair) {
            buffer.push(d.event);
            return;
        }
        let Some(&resource) = self.by_activity.get(&pair) else {
            return;
        };
        if let Some(barrier) = self
            .activities
            .get_mut(&resource)
            .and_then(|j| j.barrier.as_mut())
        {
            barrier.push(d.event);
            return;
        }
        self.send_activity_event(resource, d.event);
    }

    fn send_activity_event(&mut self, resource: i32, event: ActivityEvent) {
        let body = match event {
            ActivityEvent::SessionJoined(p) => {
                self.ensure_participants(std::slice::from_ref(&p));
                Body::ActivitySessionJoined(pa::ActivitySessionJoinedMessage {
                    resource_id: resource,
                    session_id: p.session,
                    state: super::presence::state_to_wire(&p.state),
                })
            }
            ActivityEvent::SessionLeft { session, .. } => {
                Body::ActivitySessionLeft(pa::ActivitySessionLeftMessage {
                    resource_id: resource,
                    session_id: session,
                })
            }
            ActivityEvent::StateUpdated {
                session,
                user,
                set,
                complete,
                removed,
            } => {
                self.ensure_identity([(session.as_str(), user.to_key().as_str())]);
                Body::ActivityStateUpdated(pa::ActivityStateUpdatedMessage {
                    resource_id: resource,
                    session_id: session,
                    set: super::presence::state_to_wire(&set),
                    complete,
                    removed: removed.to_vec(),
                })
            }
            ActivityEvent::Deleted => {
                self.forget_activity(resource);
                Body::ActivityDeleted(pa::ActivityDeletedMessage {
                    resource_id: resource,
                })
            }
            ActivityEvent::ForceLeave { reason } => {
                self.forget_activity(resource);
                Body::ActivityForceLeave(pa::ActivityForceLeaveMessage {
                    resource_id: resource,
                    reason,
                })
            }
            ActivityEvent::Refused(e) => {
                self.activity_refused(&e);
                return;
            }
        };
        self.send(codec::normal(body));
    }

    fn forget_activity(&mut self, resource: i32) {
        if let Some(j) = self.activities.remove(&resource) {
            self.by_activity.remove(&(j.key.activity_type, j.key.id));
        }
    }

    /// The identities of participants, before a message names them.
    fn ensure_participants(&mut self, participants: &[Participant]) {
        let pairs: Vec<(String, String)> = participants
            .iter()
            .map(|p| (p.session.clone(), p.user.to_key()))
            .collect();
        self.ensure_identity(pairs.iter().map(|(s, u)| (s.as_str(), u.as_str())));
    }

    /// The client named the activity's resource: it has taken in the join response.
    pub(super) fn lift_activity_barrier(&mut self, resource: i32) {
        let Some(barrier) = self
            .activities
            .get_mut(&resource)
            .and_then(|j| j.barrier.take())
        else {
            return;
        };
        for event in barrier.into_events() {
            if !self.activities.contains_key(&resource) {
                break;
            }
            self.send_activity_event(resource, event);
        }
    }

    /// Lifts the barriers a pong answered (`pongs` so far) or that waited too long.
    pub(super) fn lift_activity_barriers(&mut self) {
        let pongs = self.heartbeat.pongs();
        let due: Vec<i32> = self
            .activities
            .iter()
            .filter(|(_, j)| j.barrier.as_ref().is_some_and(|b| b.due(pongs)))
            .map(|(&r, _)| r)
            .collect();
        for resource in due {
            self.lift_activity_barrier(resource);
        }
    }
}

fn ok_body() -> Body {
    Body::Ok(pc::OkResponse {})
}

/// Participants as the wire's map of session to state (each entry with its value).
fn states_to_wire(participants: &[Participant]) -> BTreeMap<String, pa::ActivityStateData> {
    participants
        .iter()
        .map(|p| {
            (
                p.session.clone(),
                pa::ActivityStateData {
                    state: super::presence::state_to_wire(&p.state),
                },
            )
        })
        .collect()
}
