//! Identity: users by id, presence answers, and the identity cache the client needs before
//! any message naming a session.

use super::*;

impl Conn {
    /// Answers a request for users by id (unknown ids are left out).
    pub(super) fn users_get(&mut self, id: i32, r: pi::GetUsersRequestMessage) {
        let domain = self.domain();
        let mut users = Vec::new();
        let mut seen = HashSet::new();
        for uid in r.user_ids {
            let t = type_from_wire(uid.user_type);
            if !seen.insert((uid.user_type, uid.username.clone())) {
                continue;
            }
            if let Ok(Some(u)) = self.services.auth.user(&domain, t, &uid.username) {
                users.push(user_data(&u));
            }
        }
        self.reply(
            id,
            Body::UserListResponse(pi::UserListMessage { user_data: users }),
        );
    }

    /// Answers a user search (normal users whose fields contain the term).
    pub(super) fn user_search(&mut self, id: i32, r: pi::SearchUsersRequestMessage) {
        use crate::auth::{UserField, UserSearch};
        let field = |n: i32| match n {
            2 => Some(UserField::Email),
            3 => Some(UserField::FirstName),
            4 => Some(UserField::LastName),
            5 => Some(UserField::DisplayName),
            1 => Some(UserField::Username),
            _ => None,
        };
        let search = UserSearch {
            fields: r.fields.iter().filter_map(|&f| field(f)).collect(),
            term: r.value,
            offset: r.offset.map_or(0, |o| o.max(0) as usize),
            limit: r.limit.filter(|l| *l > 0).map(|l| l as usize),
            order: field(r.order_field).unwrap_or(UserField::Username),
            ascending: r.ascending,
        };
        match self.services.auth.search_users(&self.domain(), &search) {
            Ok(found) => self.reply(
                id,
                Body::UserListResponse(pi::UserListMessage {
                    user_data: found.iter().map(user_data).collect(),
                }),
            ),
            Err(e) => self.reply(id, error_body("invalid_message", e.to_string())),
        }
    }

    /// Answers with groups and their members; an unknown id is `group_not_found`.
    pub(super) fn user_groups(&mut self, id: i32, r: pi::UserGroupsRequestMessage) {
        let domain = self.domain();
        let mut groups = Vec::new();
        for gid in &r.ids {
            match self.services.auth.group(&domain, gid) {
                Ok((g, members)) => groups.push(pi::UserGroupData {
                    id: g.id,
                    description: g.description,
                    members: members
                        .iter()
                        .map(|u| convert::user_id(wire_type(u.kind), &u.name))
                        .collect(),
                }),
                Err(_) => {
                    let body = error_with_detail("group_not_found", "no such group", "id", gid);
                    self.reply(id, body);
                    return;
                }
            }
        }
        if groups.is_empty() {
            self.reply(id, error_body("invalid_message", "no group ids"));
            return;
        }
        self.reply(
            id,
            Body::UserGroupsResponse(pi::UserGroupsResponseMessage { group_data: groups }),
        );
    }

    /// Answers with the groups of each user; an unknown user is `user_not_found`.
    pub(super) fn user_groups_for_users(
        &mut self,
        id: i32,
        r: pi::UserGroupsForUsersRequestMessage,
    ) {
        let domain = self.domain();
        let mut entries = Vec::new();
        for u in &r.users {
            let user = UserId::new(type_from_wire(u.user_type), &u.username);
            match self.services.auth.user_groups(&domain, &user) {
                Ok(groups) => entries.push(pi::UserGroupsEntry {
                    user: Some(u.clone()),
                    groups,
                }),
                Err(_) => {
                    let body =
                        error_with_detail("user_not_found", "no such user", "userId", &u.username);
                    self.reply(id, body);
                    return;
                }
            }
        }
        if entries.is_empty() {
            self.reply(id, error_body("invalid_message", "no users"));
            return;
        }
        self.reply(
            id,
            Body::UserGroupsForUsersResponse(pi::UserGroupsForUsersResponseMessage {
                user_groups: entries,
            }),
        );
    }

    /// Sends an identity update for sessions/users the client has not been told about yet.
    pub(super) fn ensure_identity<'a>(
        &mut self,
        sessions: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) {
        let mut update = pi::IdentityCacheUpdateMessage::default();
        for (session, user) in sessions {
            if self.known_sessions.contains(session) {
                continue;
            }
            let UserId {
                kind: user_type,
                name: username,
            } = UserId::from_key(user);
            if !self.known_users.contains(&(user_type, username.as_str())) {
                let record = self
                    .services
                    .sessions
                    .get(session)
                    .map(|s| s.user)
                    .or_else(|| {
                        self.services
                            .auth
                            .user(&self.domain(), user_type, &username)
                            .ok()
                            .flatten()
                    })
                    .unwrap_or_else(|| UserRecord::placeholder(user_type, &username));
                update.users.push(user_data(&record));
                self.known_users.insert(&(user_type, username.as_str()));
            }
            update.sessions.insert(
                session.to_string(),
                convert::user_id(wire_type(user_type), &username),
            );
            self.known_sessions.insert(session);
        }
        if !update.sessions.is_empty() || !update.users.is_empty() {
            self.send(codec::normal(Body::IdentityCacheUpdate(update)));
        }
    }

    /// Sends an identity update for users the client has not been told about yet.
    pub(super) fn ensure_users(&mut self, users: &[UserId]) {
        let mut update = pi::IdentityCacheUpdateMessage::default();
        let domain = self.domain();
        for u in users {
            if !self.known_users.insert(&(u.kind, u.name.as_str())) {
                continue;
            }
            let record = self
                .services
                .auth
                .user(&domain, u.kind, &u.name)
                .ok()
                .flatten()
                .unwrap_or_else(|| UserRecord::placeholder(u.kind, &u.name));
            update.users.push(user_data(&record));
        }
        if !update.users.is_empty() {
            self.send(codec::normal(Body::IdentityCacheUpdate(update)));
        }
    }

    /// Session ids with their users, for identity updates.
    pub(super) fn session_users(&self, sessions: &[String]) -> Vec<(String, String)> {
        sessions
            .iter()
            .map(|s| {
                let user = self
                    .services
                    .sessions
                    .get(s)
                    .map(|u| UserId::new(u.user.user_type, u.user.username).to_key())
                    .unwrap_or_else(|| UserId::host().to_key());
                (s.clone(), user)
            })
            .collect()
    }
}
