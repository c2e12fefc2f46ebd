//! A domain's user groups and their members (members are named by username: normal users).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{json_body, Caller, ErrorBody, Paging, RestError};
use crate::api::{Engine, Group, UserId, UserType};

/// A group.
#[derive(Serialize, ToSchema)]
pub struct GroupItem {
    /// Its id.
    pub id: String,
    /// Its description.
    pub description: String,
    /// Its members' usernames (normal users) or `type:name` for others.
    pub members: Vec<String>,
}

impl From<Group> for GroupItem {
    fn from(g: Group) -> Self {
        GroupItem {
            id: g.id,
            description: g.description,
            members: g.members.iter().map(member_name).collect(),
        }
    }
}

fn member_name(u: &UserId) -> String {
    match u.kind {
        UserType::Normal => u.name.clone(),
        UserType::Anonymous => format!("anonymous:{}", u.name),
        UserType::Convergence => format!("convergence:{}", u.name),
    }
}

/// A page of groups.
#[derive(Serialize, ToSchema)]
pub struct GroupPage {
    /// The groups of this page, by id.
    pub items: Vec<GroupItem>,
    /// Items skipped.
    pub offset: u64,
    /// Items in the whole list.
    pub total: u64,
}

/// A group to create.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGroupBody {
    /// Its id.
    #[schema(min_length = 1)]
    pub id: String,
    /// Its description.
    #[serde(default)]
    pub description: String,
    /// Usernames of its first members.
    #[serde(default)]
    pub members: Vec<String>,
}

/// Lists a domain's groups.
#[utoipa::path(
    get, path = "/api/v1/domains/{namespace}/{domain}/groups", tag = "groups",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), Paging),
    responses(
        (status = 200, body = GroupPage),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn list_groups(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain)): Path<(String, String)>,
    paging: Result<Query<Paging>, QueryRejection>,
) -> Result<Json<GroupPage>, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, false)?;
    let Query(paging) = paging?;
    let (items, total) = paging.page_by(d.groups()?, |g| format!("{} {}", g.id, g.description))?;
    Ok(Json(GroupPage {
        items: items.into_iter().map(GroupItem::from).collect(),
        offset: paging.offset,
        total,
    }))
}

/// Creates a group with its first members.
#[utoipa::path(
    post, path = "/api/v1/domains/{namespace}/{domain}/groups", tag = "groups",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d")),
    request_body = NewGroupBody,
    responses(
        (status = 201, body = GroupItem),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn create_group(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain)): Path<(String, String)>,
    body: super::Body,
) -> Result<(StatusCode, Json<GroupItem>), RestError> {
    let d = caller.domain(&engine, &namespace, &domain, true)?;
    let body: NewGroupBody = json_body(&body)?;
    // Members first: an unknown one refuses the whole request before anything is created.
    for m in &body.members {
        d.user(m)?;
    }
    d.create_group(&body.id, &body.description).await?;
    for m in &body.members {
        d.add_group_member(&body.id, &UserId::normal(m)).await?;
    }
    Ok((
        StatusCode::CREATED,
        Json(GroupItem::from(d.group(&body.id)?)),
    ))
}

/// Deletes a group (its permission rows go too).
#[utoipa::path(
    delete, path = "/api/v1/domains/{namespace}/{domain}/groups/{id}", tag = "groups",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), ("id" = String, Path, example = "editors")),
    responses(
        (status = 204),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn delete_group(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain, id)): Path<(String, String, String)>,
) -> Result<StatusCode, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, true)?;
    d.delete_group(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds a normal user to a group.
#[utoipa::path(
    put, path = "/api/v1/domains/{namespace}/{domain}/groups/{id}/members/{username}", tag = "groups",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), ("id" = String, Path, example = "editors"), ("username" = String, Path, example = "alice")),
    responses(
        (status = 204),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn add_member(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain, id, username)): Path<(String, String, String, String)>,
) -> Result<StatusCode, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, true)?;
    d.add_group_member(&id, &UserId::normal(&username)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a normal user from a group.
#[utoipa::path(
    delete, path = "/api/v1/domains/{namespace}/{domain}/groups/{id}/members/{username}", tag = "groups",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), ("id" = String, Path, example = "editors"), ("username" = String, Path, example = "alice")),
    responses(
        (status = 204),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn remove_member(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain, id, username)): Path<(String, String, String, String)>,
) -> Result<StatusCode, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, true)?;
    d.remove_group_member(&id, &UserId::normal(&username))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
