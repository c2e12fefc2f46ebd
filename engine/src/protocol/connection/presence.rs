//! Presence: the session's own user's state, presence of other users, subscriptions, and the
//! changes pushed to this session about the users it follows.

use super::*;
use crate::presence::{PresenceError, PresenceEvent, PresenceState, UserPresence};

/// A wire state map as JSON values.
fn state_from_wire(state: &BTreeMap<String, prost_types::Value>) -> PresenceState {
    state
        .iter()
        .map(|(k, v)| (k.clone(), convert::json_from_proto(v)))
        .collect()
}

/// A state as the wire's map.
pub(super) fn state_to_wire(state: &PresenceState) -> BTreeMap<String, prost_types::Value> {
    state
        .iter()
        .map(|(k, v)| (k.clone(), convert::json_to_proto(v)))
        .collect()
}

fn user_to_wire(u: &UserId) -> pc::DomainUserIdData {
    convert::user_id(wire_type(u.kind), &u.name)
}

fn presence_to_wire(p: &UserPresence) -> pp::UserPresenceData {
    pp::UserPresenceData {
        user: Some(user_to_wire(&p.user)),
        available: p.available,
        state: state_to_wire(&p.state),
    }
}

impl Conn {
    /// Answers `presenceRequest` and `presenceSubscribeRequest`: every user named must exist
    /// (else `user_not_found`); the users' identities go out before the answer.
    pub(super) fn presence_request(
        &mut self,
        id: i32,
        users: &[pc::DomainUserIdData],
        subscribe: bool,
    ) {
        let domain = self.domain();
        let mut ids = Vec::with_capacity(users.len());
        for u in users {
            let kind = type_from_wire(u.user_type);
            match self.services.auth.user(&domain, kind, &u.username) {
                Ok(Some(_)) => ids.push(UserId::new(kind, u.username.clone())),
                _ => {
                    self.reply(
                        id,
                        error_with_detail(
                            "user_not_found",
                            &format!("no user {:?} of that type", u.username),
                            "username",
                            &u.username,
                        ),
                    );
                    return;
                }
            }
        }
        self.ensure_users(&ids);
        let presence = self.services.presence.clone();
        let tx = self.internal_tx.clone();
        let session = self.session().session;
        tokio::spawn(async move {
            let answer = if subscribe {
                presence.subscribe(&domain, &session, ids, None).await
            } else {
                presence.presence(&domain, ids).await
            };
            let body = match answer {
                Ok(found) => {
                    let user_presences = found.iter().map(presence_to_wire).collect();
                    if subscribe {
                        Body::PresenceSubscribeResponse(pp::SubscribePresenceResponseMessage {
                            user_presences,
                        })
                    } else {
                        Body::PresenceResponse(pp::PresenceResponseMessage { user_presences })
                    }
                }
                Err(e) => error_body("unknown", e.to_string()),
            };
            let _ = tx.send(Internal::Reply(codec::response(id, body)));
        });
    }

    /// Handles the session's presence changes (one-way messages).
    pub(super) fn presence_change(&mut self, body: Body) {
        let domain = self.domain();
        let session = self.session().session;
        let presence = &self.services.presence;
        match body {
            Body::PresenceSetState(m) => {
                if let Err(e) = presence.set_state(&domain, &session, state_from_wire(&m.state)) {
                    self.presence_refused(&e);
                }
            }
            Body::PresenceRemoveState(m) => presence.remove_state(&domain, &session, m.keys),
            Body::PresenceClearState(_) => presence.clear_state(&domain, &session),
            Body::PresenceUnsubscribe(m) => {
                let users = m
                    .users
                    .iter()
                    .map(|u| UserId::new(type_from_wire(u.user_type), u.username.clone()))
                    .collect();
                presence.unsubscribe(&domain, &session, users);
            }
            _ => {}
        }
    }

    fn presence_refused(&self, e: &PresenceError) {
        let code = match e {
            PresenceError::TooDeep { .. } => "state_too_deep",
            PresenceError::TooLarge { .. } => "state_too_large",
            PresenceError::Stopped => "unknown",
        };
        warn!(error = %e, "presence change refused");
        self.send(codec::normal(error_body(code, e.to_string())));
    }

    /// Sends a presence change about a followed user (its identity first).
    pub(super) fn handle_presence_event(&mut self, event: PresenceEvent) {
        let body = match event {
            PresenceEvent::StateSet { user, state } => {
                self.ensure_users(std::slice::from_ref(&user));
                Body::PresenceStateSet(pp::PresenceStateSetMessage {
                    user: Some(user_to_wire(&user)),
                    state: state_to_wire(&state),
                })
            }
            PresenceEvent::StateRemoved { user, keys } => {
                self.ensure_users(std::slice::from_ref(&user));
                Body::PresenceStateRemoved(pp::PresenceStateRemovedMessage {
                    user: Some(user_to_wire(&user)),
                    keys,
                })
            }
            PresenceEvent::StateCleared { user } => {
                self.ensure_users(std::slice::from_ref(&user));
                Body::PresenceStateCleared(pp::PresenceStateClearedMessage {
                    user: Some(user_to_wire(&user)),
                })
            }
            PresenceEvent::Availability { user, available } => {
                self.ensure_users(std::slice::from_ref(&user));
                Body::PresenceAvailabilityChanged(pp::PresenceAvailabilityChangedMessage {
                    user: Some(user_to_wire(&user)),
                    available,
                })
            }
            PresenceEvent::Refused { reason } => {
                self.presence_refused(&reason);
                return;
            }
        };
        self.send(codec::normal(body));
    }
}
