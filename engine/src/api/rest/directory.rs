//! Domains (created and deleted by administrators), a domain's collections, its users and
//! the JWT keys that verify its logins (administrators only).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{json_body, Caller, DomainItem, ErrorBody, Paging, RestError};
use crate::api::{Engine, JwtKey, NewUser, User};

/// A namespace: the domains that share its name.
#[derive(Serialize, ToSchema)]
pub struct NamespaceItem {
    /// Its name.
    pub id: String,
    /// How many domains it holds.
    pub domains: u64,
}

/// Lists the namespaces, each with its number of domains (administrators only). A namespace
/// exists while it holds a domain.
#[utoipa::path(
    get, path = "/api/v1/namespaces", tag = "domains",
    params(Paging),
    responses(
        (status = 200, body = super::Page<NamespaceItem>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn list_namespaces(
    caller: Caller,
    State(engine): State<Engine>,
    paging: Result<Query<Paging>, QueryRejection>,
) -> Result<Json<super::Page<NamespaceItem>>, RestError> {
    caller.admin()?;
    let Query(paging) = paging?;
    let mut counts = std::collections::BTreeMap::<String, u64>::new();
    for (namespace, _) in engine.domains()? {
        *counts.entry(namespace).or_default() += 1;
    }
    let items = counts
        .into_iter()
        .map(|(id, domains)| NamespaceItem { id, domains })
        .collect();
    paging.answer(items, |n| n.id.clone())
}

/// A domain to create.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDomainBody {
    /// Its namespace.
    #[schema(min_length = 1)]
    pub namespace: String,
    /// Its id.
    #[schema(min_length = 1)]
    pub id: String,
}

/// Creates a domain (administrators only).
#[utoipa::path(
    post, path = "/api/v1/domains", tag = "domains",
    request_body = NewDomainBody,
    responses(
        (status = 201, body = DomainItem),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn create_domain(
    caller: Caller,
    State(engine): State<Engine>,
    body: super::Body,
) -> Result<(StatusCode, Json<DomainItem>), RestError> {
    caller.admin()?;
    let body: NewDomainBody = json_body(&body)?;
    engine.create_domain(&body.namespace, &body.id).await?;
    Ok((
        StatusCode::CREATED,
        Json(DomainItem {
            namespace: body.namespace,
            id: body.id,
        }),
    ))
}

/// Deletes a domain with everything in it (administrators only).
#[utoipa::path(
    delete, path = "/api/v1/domains/{namespace}/{domain}", tag = "domains",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "gone")),
    responses(
        (status = 204),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn delete_domain(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain)): Path<(String, String)>,
) -> Result<StatusCode, RestError> {
    caller.admin()?;
    engine.delete_domain(&namespace, &domain).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A page of ids.
#[derive(Serialize, ToSchema)]
pub struct IdPage {
    /// The ids of this page, in order.
    pub items: Vec<String>,
    /// Items skipped.
    pub offset: u64,
    /// Items in the whole list.
    pub total: u64,
}

/// Lists a domain's collections.
#[utoipa::path(
    get, path = "/api/v1/domains/{namespace}/{domain}/collections", tag = "collections",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), Paging),
    responses(
        (status = 200, body = IdPage),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn list_collections(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain)): Path<(String, String)>,
    paging: Result<Query<Paging>, QueryRejection>,
) -> Result<Json<IdPage>, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, false)?;
    let Query(paging) = paging?;
    let (items, total) = paging.page_by(d.collections()?, |c| c.clone())?;
    Ok(Json(IdPage {
        items,
        offset: paging.offset,
        total,
    }))
}

/// Creates a collection (nothing happens if it exists).
#[utoipa::path(
    put, path = "/api/v1/domains/{namespace}/{domain}/collections/{id}", tag = "collections",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), ("id" = String, Path, example = "notes")),
    responses(
        (status = 204),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn put_collection(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain, id)): Path<(String, String, String)>,
) -> Result<StatusCode, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, true)?;
    d.create_collection(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes a collection with its models.
#[utoipa::path(
    delete, path = "/api/v1/domains/{namespace}/{domain}/collections/{id}", tag = "collections",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), ("id" = String, Path, example = "old")),
    responses(
        (status = 204),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn delete_collection(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain, id)): Path<(String, String, String)>,
) -> Result<StatusCode, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, true)?;
    d.delete_collection(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A page of users.
#[derive(Serialize, ToSchema)]
pub struct UserPage {
    /// The users of this page, by username.
    pub items: Vec<User>,
    /// Items skipped.
    pub offset: u64,
    /// Items in the whole list.
    pub total: u64,
}

/// A user to create (only `username` is required).
#[derive(ToSchema)]
#[allow(dead_code)] // documents the body, which the facade's `NewUser` reads
pub struct NewUserBody {
    /// Username.
    #[schema(min_length = 1)]
    pub username: String,
    /// Display name.
    pub display_name: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Password (none: the user cannot log in with one).
    pub password: Option<String>,
}

/// Lists a domain's normal users.
#[utoipa::path(
    get, path = "/api/v1/domains/{namespace}/{domain}/users", tag = "users",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), Paging),
    responses(
        (status = 200, body = UserPage),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn list_users(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain)): Path<(String, String)>,
    paging: Result<Query<Paging>, QueryRejection>,
) -> Result<Json<UserPage>, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, false)?;
    let Query(paging) = paging?;
    let (items, total) =
        paging.page_by(d.users()?, |u| format!("{} {}", u.username, u.display_name))?;
    Ok(Json(UserPage {
        items,
        offset: paging.offset,
        total,
    }))
}

/// Creates a normal user.
#[utoipa::path(
    post, path = "/api/v1/domains/{namespace}/{domain}/users", tag = "users",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d")),
    request_body = NewUserBody,
    responses(
        (status = 201, body = User),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn create_user(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain)): Path<(String, String)>,
    body: super::Body,
) -> Result<(StatusCode, Json<User>), RestError> {
    let d = caller.domain(&engine, &namespace, &domain, true)?;
    let user: NewUser = json_body(&body)?;
    let made = d.create_user(user).await?;
    Ok((StatusCode::CREATED, Json(made)))
}

/// Deletes a normal user (its permission entries and memberships go too).
#[utoipa::path(
    delete, path = "/api/v1/domains/{namespace}/{domain}/users/{username}", tag = "users",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), ("username" = String, Path, example = "nobody")),
    responses(
        (status = 204),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn delete_user(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain, username)): Path<(String, String, String)>,
) -> Result<StatusCode, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, true)?;
    d.delete_user(&username).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A JWT key to add (`id` and `public_key_pem` are required).
#[derive(ToSchema)]
#[allow(dead_code)] // documents the body, which the facade's `JwtKey` reads
pub struct NewJwtKeyBody {
    /// Key id.
    #[schema(min_length = 1)]
    pub id: String,
    /// Description.
    pub description: Option<String>,
    /// The RSA public key in PEM (`-----BEGIN PUBLIC KEY-----`).
    pub public_key_pem: String,
    /// Whether it verifies logins (default false).
    pub enabled: Option<bool>,
}

/// Lists the domain's JWT keys (administrators only); `filter` matches the id and description.
#[utoipa::path(
    get, path = "/api/v1/domains/{namespace}/{domain}/jwt-keys", tag = "jwt-keys",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), Paging),
    responses(
        (status = 200, body = super::Page<JwtKey>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn list_jwt_keys(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain)): Path<(String, String)>,
    paging: Result<Query<Paging>, QueryRejection>,
) -> Result<Json<super::Page<JwtKey>>, RestError> {
    caller.admin()?;
    let d = caller.domain(&engine, &namespace, &domain, false)?;
    let Query(paging) = paging?;
    paging.answer(d.jwt_keys()?, |k| format!("{} {}", k.id, k.description))
}

/// Adds a JWT key (administrators only).
#[utoipa::path(
    post, path = "/api/v1/domains/{namespace}/{domain}/jwt-keys", tag = "jwt-keys",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d")),
    request_body = NewJwtKeyBody,
    responses(
        (status = 201, body = JwtKey),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn add_jwt_key(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain)): Path<(String, String)>,
    body: super::Body,
) -> Result<(StatusCode, Json<JwtKey>), RestError> {
    caller.admin()?;
    let d = caller.domain(&engine, &namespace, &domain, true)?;
    let key: JwtKey = json_body(&body)?;
    let added = d.add_jwt_key(key).await?;
    Ok((StatusCode::CREATED, Json(added)))
}

/// Removes a JWT key (administrators only).
#[utoipa::path(
    delete, path = "/api/v1/domains/{namespace}/{domain}/jwt-keys/{id}", tag = "jwt-keys",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), ("id" = String, Path, example = "k1")),
    responses(
        (status = 204),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn remove_jwt_key(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain, id)): Path<(String, String, String)>,
) -> Result<StatusCode, RestError> {
    caller.admin()?;
    let d = caller.domain(&engine, &namespace, &domain, true)?;
    d.remove_jwt_key(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}
