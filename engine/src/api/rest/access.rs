//! Who may do what, beyond models' own permissions: one user's profile, password and disabled
//! flag; a user's entry on a collection; and the generic permission rows of the domain, of a
//! chat and of an activity (the strings of `CHAT_PERMISSIONS` and `ACTIVITY_PERMISSIONS`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use super::{json_body, Caller, ErrorBody, RestError};
use crate::api::{
    CollectionPermissions, CollectionRights, Domain, Engine, PermissionChange, Target,
    TargetPermissions, User, UserId, UserProfile,
};

/// Reads a normal user.
#[utoipa::path(
    get, path = "/api/v1/domains/{namespace}/{domain}/users/{username}", tag = "users",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), ("username" = String, Path, example = "alice")),
    responses(
        (status = 200, body = User),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn get_user(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain, username)): Path<(String, String, String)>,
) -> Result<Json<User>, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, false)?;
    Ok(Json(d.user(&username)?))
}

/// A change to a user: its profile fields and whether it is disabled (absent ones stay).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserChangeBody {
    /// New display name.
    pub display_name: Option<String>,
    /// New first name.
    pub first_name: Option<String>,
    /// New last name.
    pub last_name: Option<String>,
    /// New e-mail address.
    pub email: Option<String>,
    /// Disabled users cannot log in (their sessions are closed).
    pub disabled: Option<bool>,
}

/// Changes a normal user and answers it.
#[utoipa::path(
    patch, path = "/api/v1/domains/{namespace}/{domain}/users/{username}", tag = "users",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), ("username" = String, Path, example = "alice")),
    request_body = UserChangeBody,
    responses(
        (status = 200, body = User),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn change_user(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain, username)): Path<(String, String, String)>,
    body: super::Body,
) -> Result<Json<User>, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, true)?;
    let body: UserChangeBody = json_body(&body)?;
    d.user(&username)?;
    let profile = UserProfile {
        display_name: body.display_name,
        first_name: body.first_name,
        last_name: body.last_name,
        email: body.email,
    };
    d.update_user(&username, profile).await?;
    if let Some(disabled) = body.disabled {
        d.set_user_disabled(&username, disabled).await?;
    }
    Ok(Json(d.user(&username)?))
}

/// A new password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    /// The password (stored as an argon2 hash).
    pub password: String,
}

/// Replaces a normal user's password.
#[utoipa::path(
    put, path = "/api/v1/domains/{namespace}/{domain}/users/{username}/password", tag = "users",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), ("username" = String, Path, example = "alice")),
    request_body = PasswordBody,
    responses(
        (status = 204),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn set_password(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain, username)): Path<(String, String, String)>,
    body: super::Body,
) -> Result<StatusCode, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, true)?;
    let body: PasswordBody = json_body(&body)?;
    d.set_password(&username, &body.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sets a normal user's entry on a collection, and answers the collection's permissions.
#[utoipa::path(
    put, path = "/api/v1/domains/{namespace}/{domain}/collections/{id}/permissions/users/{username}", tag = "permissions",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), ("id" = String, Path, example = "notes"), ("username" = String, Path, example = "alice")),
    request_body(content = Object, description = "{create, read, write, remove, manage} (absent = false)"),
    responses(
        (status = 200, body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn put_collection_user(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain, id, username)): Path<(String, String, String, String)>,
    body: super::Body,
) -> Result<Json<CollectionPermissions>, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, true)?;
    let rights: CollectionRights = json_body(&body)?;
    d.user(&username)?;
    d.set_collection_user(&id, &UserId::normal(&username), Some(rights))
        .await?;
    Ok(Json(d.collection_permissions(&id)?))
}

/// Removes a normal user's entry from a collection, and answers the collection's permissions.
#[utoipa::path(
    delete, path = "/api/v1/domains/{namespace}/{domain}/collections/{id}/permissions/users/{username}", tag = "permissions",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), ("id" = String, Path, example = "notes"), ("username" = String, Path, example = "alice")),
    responses(
        (status = 200, body = Object),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn delete_collection_user(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain, id, username)): Path<(String, String, String, String)>,
) -> Result<Json<CollectionPermissions>, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, true)?;
    d.set_collection_user(&id, &UserId::normal(&username), None)
        .await?;
    Ok(Json(d.collection_permissions(&id)?))
}

fn read_rows(d: &Domain, target: &Target) -> Result<Json<TargetPermissions>, RestError> {
    Ok(Json(d.permissions(target)?))
}

async fn change_rows(
    d: &Domain,
    target: &Target,
    body: &[u8],
) -> Result<Json<TargetPermissions>, RestError> {
    let change: PermissionChange = json_body(body)?;
    d.change_permissions(target, &change).await?;
    Ok(Json(d.permissions(target)?))
}

/// The domain's permission rows (what everyone, a user or a group holds on every chat and
/// activity of the domain).
#[utoipa::path(
    get, path = "/api/v1/domains/{namespace}/{domain}/permissions", tag = "permissions",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d")),
    responses(
        (status = 200, description = "{world: [..], users: [[user, [..]]], groups: [[group, [..]]]}", body = Object),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn get_domain_permissions(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain)): Path<(String, String)>,
) -> Result<Json<TargetPermissions>, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, false)?;
    read_rows(&d, &Target::Global)
}

/// Changes the domain's permission rows and answers them.
#[utoipa::path(
    patch, path = "/api/v1/domains/{namespace}/{domain}/permissions", tag = "permissions",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d")),
    request_body(content = Object, description = "{\"add\": {world?, users?, groups?}} or {\"remove\": {..}} or {\"set\": {world?, users?, replace_users?, groups?, replace_groups?}}"),
    responses(
        (status = 200, body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn change_domain_permissions(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain)): Path<(String, String)>,
    body: super::Body,
) -> Result<Json<TargetPermissions>, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, true)?;
    change_rows(&d, &Target::Global, &body).await
}

/// A chat's permission rows.
#[utoipa::path(
    get, path = "/api/v1/domains/{namespace}/{domain}/chats/{id}/permissions", tag = "permissions",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), ("id" = String, Path, example = "general")),
    responses(
        (status = 200, body = Object),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn get_chat_permissions(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain, id)): Path<(String, String, String)>,
) -> Result<Json<TargetPermissions>, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, false)?;
    read_rows(&d, &Target::Chat { id })
}

/// Changes a chat's permission rows (its members are judged by them at once).
#[utoipa::path(
    patch, path = "/api/v1/domains/{namespace}/{domain}/chats/{id}/permissions", tag = "permissions",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), ("id" = String, Path, example = "general")),
    request_body(content = Object, description = "{\"add\": {world?, users?, groups?}} or {\"remove\": {..}} or {\"set\": {world?, users?, replace_users?, groups?, replace_groups?}}"),
    responses(
        (status = 200, body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn change_chat_permissions(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain, id)): Path<(String, String, String)>,
    body: super::Body,
) -> Result<Json<TargetPermissions>, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, true)?;
    change_rows(&d, &Target::Chat { id }, &body).await
}

/// An activity's permission rows.
#[utoipa::path(
    get, path = "/api/v1/domains/{namespace}/{domain}/activities/{type}/{id}/permissions", tag = "permissions",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), ("type" = String, Path, example = "doc"), ("id" = String, Path, example = "a1")),
    responses(
        (status = 200, body = Object),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn get_activity_permissions(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain, activity_type, id)): Path<(String, String, String, String)>,
) -> Result<Json<TargetPermissions>, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, false)?;
    read_rows(&d, &Target::Activity { activity_type, id })
}

/// Changes an activity's permission rows (its participants are judged by them at once).
#[utoipa::path(
    patch, path = "/api/v1/domains/{namespace}/{domain}/activities/{type}/{id}/permissions", tag = "permissions",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), ("type" = String, Path, example = "doc"), ("id" = String, Path, example = "a1")),
    request_body(content = Object, description = "{\"add\": {world?, users?, groups?}} or {\"remove\": {..}} or {\"set\": {world?, users?, replace_users?, groups?, replace_groups?}}"),
    responses(
        (status = 200, body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn change_activity_permissions(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain, activity_type, id)): Path<(String, String, String, String)>,
    body: super::Body,
) -> Result<Json<TargetPermissions>, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, true)?;
    change_rows(&d, &Target::Activity { activity_type, id }, &body).await
}
