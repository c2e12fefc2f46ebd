//! Permissions: a model's permissions read and changed by the client, and the initial
//! permissions a creation asks for.

use super::*;
use crate::perm::ModelPermissionsChange;

/// The change a creation (or auto-creation) asks for: its world permissions (overriding the
/// collection's when `override_world`) and user entries.
pub(super) fn initial_permissions(
    override_world: bool,
    world: Option<&pm::ModelPermissionsData>,
    users: &[pm::UserModelPermissionsData],
) -> ModelPermissionsChange {
    ModelPermissionsChange {
        override_world: Some(override_world),
        world: world.map(rights_from_wire),
        replace_users: false,
        set_users: user_entries(users),
        remove_users: Vec::new(),
    }
}

fn user_entries(users: &[pm::UserModelPermissionsData]) -> Vec<(UserId, ModelRights)> {
    users
        .iter()
        .filter_map(|e| {
            let u = e.user.as_ref()?;
            let rights = e
                .permissions
                .as_ref()
                .map(rights_from_wire)
                .unwrap_or_default();
            Some((
                UserId::new(type_from_wire(u.user_type), &u.username),
                rights,
            ))
        })
        .collect()
}

impl Conn {
    /// Answers with a model's permissions (the session needs read).
    pub(super) fn model_permissions(&mut self, id: i32, r: pm::GetModelPermissionsRequestMessage) {
        let domain = self.domain();
        match self
            .services
            .models
            .permissions(&domain, &r.model_id, &self.actor())
        {
            Ok(p) => {
                let mut users = Vec::new();
                let mut wire_users = Vec::new();
                for (u, rights) in &p.users {
                    users.push(u.clone());
                    wire_users.push(pm::UserModelPermissionsData {
                        user: Some(convert::user_id(wire_type(u.kind), &u.name)),
                        permissions: Some(rights_to_wire(*rights)),
                    });
                }
                self.ensure_users(&users);
                self.reply(
                    id,
                    Body::GetModelPermissionsResponse(pm::GetModelPermissionsResponseMessage {
                        overrides_collection: p.override_world,
                        world_permissions: Some(rights_to_wire(p.world)),
                        user_permissions: wire_users,
                    }),
                );
            }
            Err(e) => self.reply(id, model_error_body(&e)),
        }
    }

    /// Changes a model's permissions (the session needs manage).
    pub(super) fn set_model_permissions(
        &mut self,
        id: i32,
        r: pm::SetModelPermissionsRequestMessage,
    ) {
        let change = ModelPermissionsChange {
            override_world: r.override_collection,
            world: r.world_permissions.as_ref().map(rights_from_wire),
            replace_users: r.remove_all_user_permissions_before_set,
            set_users: user_entries(&r.set_user_permissions),
            remove_users: r
                .removed_user_permissions
                .iter()
                .map(|u| UserId::new(type_from_wire(u.user_type), &u.username))
                .collect(),
        };
        let domain = self.domain();
        let models = self.services.models.clone();
        let tx = self.internal_tx.clone();
        let actor = self.actor();
        tokio::spawn(async move {
            let body = match models
                .set_permissions(&domain, &r.model_id, &actor, &change)
                .await
            {
                Ok(()) => {
                    Body::SetModelPermissionsResponse(pm::SetModelPermissionsResponseMessage {})
                }
                Err(e) => model_error_body(&e),
            };
            let _ = tx.send(Internal::Reply(codec::response(id, body)));
        });
    }
}
