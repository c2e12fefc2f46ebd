//! Generic permissions: the permission rows of a chat or an activity read, changed and
//! resolved by the client (`resolvePermissionsForConnectedSessionRequest`,
//! `add`/`remove`/`set`/`getPermissionsRequest`). The target's service checks the rights.

use super::activities::{activity_error_body, rows_from_wire};
use super::*;
use crate::activity::ActivityKey;
use crate::perm::{PermissionChange, TargetPermissions};

/// What a request names.
enum Named {
    Activity(ActivityKey),
    Chat(String),
}

fn users_to_wire(rows: &TargetPermissions) -> Vec<pc::UserPermissionsEntry> {
    rows.users
        .iter()
        .map(|(u, p)| pc::UserPermissionsEntry {
            user: Some(convert::user_id(wire_type(u.kind), &u.name)),
            permissions: p.clone(),
        })
        .collect()
}

fn groups_to_wire(rows: &TargetPermissions) -> BTreeMap<String, pc::PermissionsList> {
    rows.groups
        .iter()
        .map(|(g, p)| (g.clone(), pc::PermissionsList { values: p.clone() }))
        .collect()
}

/// The reply to `getPermissionsRequest`: every row of the target.
pub(super) fn rows_to_wire(rows: &TargetPermissions) -> Body {
    Body::GetPermissionsResponse(pc::GetPermissionsResponseMessage {
        user: users_to_wire(rows),
        group: groups_to_wire(rows),
        world: rows.world.clone(),
    })
}

impl Conn {
    fn named(&self, id: i32, target: Option<&pc::PermissionTarget>) -> Option<Named> {
        use pc::permission_target::TargetType;
        match target.and_then(|t| t.target_type.as_ref()) {
            Some(TargetType::Activity(a)) => Some(Named::Activity(ActivityKey::new(
                self.domain(),
                a.r#type.clone(),
                a.id.clone(),
            ))),
            Some(TargetType::Chat(c)) => Some(Named::Chat(c.id.clone())),
            None => {
                self.reply(
                    id,
                    error_body("invalid_message", "the request names no chat or activity"),
                );
                None
            }
        }
    }

    /// `resolvePermissionsForConnectedSessionRequest`: what this session's user holds.
    pub(super) fn resolve_permissions(
        &mut self,
        id: i32,
        r: pc::ResolvePermissionsForConnectedSessionRequestMessage,
    ) {
        let user = UserId::from_key(&self.session().user);
        let body = match self.named(id, r.target.as_ref()) {
            None => return,
            Some(Named::Activity(key)) => {
                let service = &self.services.activities;
                match service.exists(&key).and_then(|found| match found {
                    true => service.resolve(&key, &user),
                    false => Err(crate::activity::ActivityError::NotFound),
                }) {
                    Ok(permissions) => Body::ResolvePermissionsForConnectedSessionResponse(
                        pc::ResolvePermissionsForConnectedSessionResponseMessage { permissions },
                    ),
                    Err(e) => activity_error_body(&e),
                }
            }
            Some(Named::Chat(chat)) => {
                self.chat_resolve_permissions(id, &chat);
                return;
            }
        };
        self.reply(id, body);
    }

    /// `getPermissionsRequest`: every row of the target (needs the target's manage right).
    pub(super) fn get_permissions(&mut self, id: i32, r: pc::GetPermissionsRequestMessage) {
        let rows = match self.named(id, r.target.as_ref()) {
            None => return,
            Some(Named::Activity(key)) => self
                .services
                .activities
                .permissions(&key, &self.actor())
                .map_err(|e| Box::new(activity_error_body(&e))),
            Some(Named::Chat(chat)) => {
                self.chat_get_permissions(id, &chat);
                return;
            }
        };
        let body = match rows {
            Ok(rows) => {
                let users: Vec<UserId> = rows.users.iter().map(|(u, _)| u.clone()).collect();
                self.ensure_users(&users);
                rows_to_wire(&rows)
            }
            Err(body) => *body,
        };
        self.reply(id, body);
    }

    /// `addPermissionsRequest`, `removePermissionsRequest` and `setPermissionsRequest`.
    pub(super) fn change_permissions(&mut self, id: i32, body: Body) {
        let (target, change) = match body {
            Body::AddPermissionsRequest(r) => (
                r.target,
                PermissionChange::Add(rows_from_wire(&r.world, &r.user, &r.group)),
            ),
            Body::RemovePermissionsRequest(r) => (
                r.target,
                PermissionChange::Remove(rows_from_wire(&r.world, &r.user, &r.group)),
            ),
            Body::SetPermissionsRequest(r) => {
                let users = r.user.unwrap_or_default();
                let groups = r.group.unwrap_or_default();
                let rows = rows_from_wire(&[], &users.permissions, &groups.permissions);
                (
                    r.target,
                    PermissionChange::Set {
                        world: r.world.map(|w| w.permissions),
                        users: rows.users,
                        replace_users: users.replace_all,
                        groups: rows.groups,
                        // The original used the user flag for groups too; each has its own.
                        replace_groups: groups.replace_all,
                    },
                )
            }
            _ => return,
        };
        match self.named(id, target.as_ref()) {
            None => {}
            Some(Named::Activity(key)) => {
                let service = self.services.activities.clone();
                let actor = self.actor();
                let tx = self.internal_tx.clone();
                tokio::spawn(async move {
                    let body = match service.change_permissions(&key, &actor, &change).await {
                        Ok(()) => Body::Ok(pc::OkResponse {}),
                        Err(e) => activity_error_body(&e),
                    };
                    let _ = tx.send(Internal::Reply(codec::response(id, body)));
                });
            }
            Some(Named::Chat(chat)) => self.chat_change_permissions(id, chat, change),
        }
    }
}
