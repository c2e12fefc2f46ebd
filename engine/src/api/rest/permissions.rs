//! Permissions over REST: a model's (override flag, world rights, user entries) and a
//! collection's (world rights, user entries). A change reaches open sessions at once, as from
//! the host: new rights are told, lost read closes the model.

use axum::extract::{Path, State};
use axum::Json;

use super::{json_body, Caller, ErrorBody, RestError};
use crate::api::{
    CollectionPermissions, CollectionRights, Engine, ModelPermissions, ModelPermissionsChange,
};

/// A model's stored permissions.
#[utoipa::path(
    get, path = "/api/v1/domains/{namespace}/{domain}/models/{id}/permissions", tag = "permissions",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), ("id" = String, Path, example = "m1")),
    responses(
        (status = 200, description = "{override_world, world, users: [[user, rights]]}", body = Object),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn get_model_permissions(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain, id)): Path<(String, String, String)>,
) -> Result<Json<ModelPermissions>, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, false)?;
    Ok(Json(d.model(&id)?.permissions()?))
}

/// Changes a model's permissions (absent parts stay as they are) and answers the result.
#[utoipa::path(
    patch, path = "/api/v1/domains/{namespace}/{domain}/models/{id}/permissions", tag = "permissions",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), ("id" = String, Path, example = "m1")),
    request_body(content = Object, description = "{override_world?, world?, set_users?: [[user, rights]], remove_users?: [user], replace_users?}"),
    responses(
        (status = 200, body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn change_model_permissions(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain, id)): Path<(String, String, String)>,
    body: super::Body,
) -> Result<Json<ModelPermissions>, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, true)?;
    let change: ModelPermissionsChange = json_body(&body)?;
    let model = d.model(&id)?;
    model.set_permissions(change).await?;
    Ok(Json(model.permissions()?))
}

/// A collection's stored permissions.
#[utoipa::path(
    get, path = "/api/v1/domains/{namespace}/{domain}/collections/{id}/permissions", tag = "permissions",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), ("id" = String, Path, example = "notes")),
    responses(
        (status = 200, description = "{world, users: [[user, rights]]}", body = Object),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn get_collection_permissions(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain, id)): Path<(String, String, String)>,
) -> Result<Json<CollectionPermissions>, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, false)?;
    Ok(Json(d.collection_permissions(&id)?))
}

/// Replaces what everyone may do with a collection's models, and answers the result.
#[utoipa::path(
    put, path = "/api/v1/domains/{namespace}/{domain}/collections/{id}/permissions/world", tag = "permissions",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), ("id" = String, Path, example = "notes")),
    request_body(content = Object, description = "{create, read, write, remove, manage} (absent = false)"),
    responses(
        (status = 200, body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn put_collection_world(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain, id)): Path<(String, String, String)>,
    body: super::Body,
) -> Result<Json<CollectionPermissions>, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, true)?;
    let world: CollectionRights = json_body(&body)?;
    d.set_collection_world(&id, world).await?;
    Ok(Json(d.collection_permissions(&id)?))
}
