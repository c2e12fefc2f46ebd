//! Activities on `NativeDomain` (the facade's `api/activities.rs`): create and delete them,
//! list them, ask whether one exists, read who is in one. Joins, leaves and state changes
//! arrive as `activity_changed` events on the domain's subscription. Permission rows are plain
//! JS objects in the facade's form (`TargetPermissions`: `{ world, users, groups }`).

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::Value;
use tandem::api::TargetPermissions;

use crate::{input, output, settle, NativeDomain};

#[napi]
impl NativeDomain {
    /// Creates a persistent activity with exactly these permission rows (none when absent).
    #[napi]
    pub fn create_activity<'e>(
        &self,
        env: &'e Env,
        activity_type: String,
        id: String,
        permissions: Option<Value>,
    ) -> Result<PromiseRaw<'e, ()>> {
        settle(
            env,
            self.spawn(|d| async move {
                let rows: TargetPermissions = input(permissions, "activity permissions")?;
                d.create_activity(&activity_type, &id, rows).await
            }),
        )
    }

    /// Deletes an activity; its participants are told and leave.
    #[napi]
    pub fn delete_activity<'e>(
        &self,
        env: &'e Env,
        activity_type: String,
        id: String,
    ) -> Result<PromiseRaw<'e, ()>> {
        settle(
            env,
            self.spawn(|d| async move { d.delete_activity(&activity_type, &id).await }),
        )
    }

    /// Whether an activity exists.
    #[napi]
    pub fn activity_exists<'e>(
        &self,
        env: &'e Env,
        activity_type: String,
        id: String,
    ) -> Result<PromiseRaw<'e, bool>> {
        settle(
            env,
            self.spawn(|d| async move { d.activity_exists(&activity_type, &id) }),
        )
    }

    /// The visible participants of an activity in join order (`ActivityParticipant[]`).
    #[napi]
    pub fn activity_participants<'e>(
        &self,
        env: &'e Env,
        activity_type: String,
        id: String,
    ) -> Result<PromiseRaw<'e, Value>> {
        settle(
            env,
            self.spawn(
                |d| async move { output(&d.activity_participants(&activity_type, &id).await?) },
            ),
        )
    }

    /// The domain's stored activities (`ActivityInfo[]`), ordered by type then id.
    #[napi]
    pub fn activities<'e>(&self, env: &'e Env) -> Result<PromiseRaw<'e, Value>> {
        settle(env, self.spawn(|d| async move { output(&d.activities()?) }))
    }
}
