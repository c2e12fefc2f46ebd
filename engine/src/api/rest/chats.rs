//! A domain's chats (list, read, create, delete, their events, posting a message as the host)
//! and activities (list, participants, delete).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{json_body, Caller, ErrorBody, Page, Paging, RestError};
use crate::api::{
    ActivityInfo, ActivityParticipant, ChatEvent, ChatHistoryQuery, ChatInfo, Engine, ErrorCode,
    NewChat, PostedMessage,
};

/// Lists a domain's chats; `filter` matches the id, name and topic.
#[utoipa::path(
    get, path = "/api/v1/domains/{namespace}/{domain}/chats", tag = "chats",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), Paging),
    responses(
        (status = 200, body = Page<ChatInfo>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn list_chats(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain)): Path<(String, String)>,
    paging: Result<Query<Paging>, QueryRejection>,
) -> Result<Json<Page<ChatInfo>>, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, false)?;
    let Query(paging) = paging?;
    paging.answer(d.chats().await?, |c| {
        format!("{} {} {}", c.id, c.name, c.topic)
    })
}

/// Creates a channel or a room (the host creates it with every right).
#[utoipa::path(
    post, path = "/api/v1/domains/{namespace}/{domain}/chats", tag = "chats",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d")),
    request_body = NewChat,
    responses(
        (status = 201, body = ChatInfo),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn create_chat(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain)): Path<(String, String)>,
    body: super::Body,
) -> Result<(StatusCode, Json<ChatInfo>), RestError> {
    let d = caller.domain(&engine, &namespace, &domain, true)?;
    let chat: NewChat = json_body(&body)?;
    let id = d.create_chat(chat).await?;
    let info = d
        .chat(&id)
        .await?
        .ok_or_else(|| RestError::new(ErrorCode::NotFound, "the chat was removed meanwhile"))?;
    Ok((StatusCode::CREATED, Json(info)))
}

/// Reads a chat.
#[utoipa::path(
    get, path = "/api/v1/domains/{namespace}/{domain}/chats/{id}", tag = "chats",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), ("id" = String, Path, example = "general")),
    responses(
        (status = 200, body = ChatInfo),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn get_chat(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain, id)): Path<(String, String, String)>,
) -> Result<Json<ChatInfo>, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, false)?;
    d.chat(&id)
        .await?
        .map(Json)
        .ok_or_else(|| RestError::new(ErrorCode::NotFound, format!("no chat {id:?}")))
}

/// Removes a chat with its events; its members are told.
#[utoipa::path(
    delete, path = "/api/v1/domains/{namespace}/{domain}/chats/{id}", tag = "chats",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), ("id" = String, Path, example = "general")),
    responses(
        (status = 204),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn delete_chat(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain, id)): Path<(String, String, String)>,
) -> Result<StatusCode, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, true)?;
    d.remove_chat(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reads a chat's events, newest first; `filter` keeps the messages holding that text.
#[utoipa::path(
    get, path = "/api/v1/domains/{namespace}/{domain}/chats/{id}/events", tag = "chats",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), ("id" = String, Path, example = "general"), Paging),
    responses(
        (status = 200, body = Page<ChatEvent>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn chat_events(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain, id)): Path<(String, String, String)>,
    paging: Result<Query<Paging>, QueryRejection>,
) -> Result<Json<Page<ChatEvent>>, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, false)?;
    let Query(paging) = paging?;
    let limit = paging.limit()?;
    let history = d
        .chat_history(
            &id,
            ChatHistoryQuery {
                text: paging.filter.clone().filter(|f| !f.is_empty()),
                offset: usize::try_from(paging.offset).unwrap_or(usize::MAX),
                limit: limit as usize,
                ..ChatHistoryQuery::default()
            },
        )
        .await?;
    Ok(Json(Page {
        items: history.events,
        offset: paging.offset,
        total: history.total as u64,
    }))
}

/// A message to post.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessageBody {
    /// Its text.
    pub text: String,
}

/// Posts a message to a chat as the host; every connected member receives it.
#[utoipa::path(
    post, path = "/api/v1/domains/{namespace}/{domain}/chats/{id}/messages", tag = "chats",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), ("id" = String, Path, example = "general")),
    request_body = NewMessageBody,
    responses(
        (status = 201, body = PostedMessage),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn post_message(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain, id)): Path<(String, String, String)>,
    body: super::Body,
) -> Result<(StatusCode, Json<PostedMessage>), RestError> {
    let d = caller.domain(&engine, &namespace, &domain, true)?;
    let body: NewMessageBody = json_body(&body)?;
    let posted = d.post_chat_message(&id, None, &body.text).await?;
    Ok((StatusCode::CREATED, Json(posted)))
}

/// Lists a domain's activities; `filter` matches the type and id.
#[utoipa::path(
    get, path = "/api/v1/domains/{namespace}/{domain}/activities", tag = "activities",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), Paging),
    responses(
        (status = 200, body = Page<ActivityInfo>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn list_activities(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain)): Path<(String, String)>,
    paging: Result<Query<Paging>, QueryRejection>,
) -> Result<Json<Page<ActivityInfo>>, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, false)?;
    let Query(paging) = paging?;
    paging.answer(d.activities()?, |a| format!("{} {}", a.activity_type, a.id))
}

/// An activity and who is in it.
#[derive(Serialize, ToSchema)]
pub struct ActivityBody {
    /// Its type.
    pub activity_type: String,
    /// Its id.
    pub id: String,
    /// Its visible participants, in the order they joined.
    pub participants: Vec<ActivityParticipant>,
}

/// Reads an activity's participants.
#[utoipa::path(
    get, path = "/api/v1/domains/{namespace}/{domain}/activities/{type}/{id}", tag = "activities",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), ("type" = String, Path, example = "doc"), ("id" = String, Path, example = "a1")),
    responses(
        (status = 200, body = ActivityBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn get_activity(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain, activity_type, id)): Path<(String, String, String, String)>,
) -> Result<Json<ActivityBody>, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, false)?;
    let participants = d.activity_participants(&activity_type, &id).await?;
    Ok(Json(ActivityBody {
        activity_type,
        id,
        participants,
    }))
}

/// Deletes an activity; its participants are told and leave.
#[utoipa::path(
    delete, path = "/api/v1/domains/{namespace}/{domain}/activities/{type}/{id}", tag = "activities",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), ("type" = String, Path, example = "doc"), ("id" = String, Path, example = "a1")),
    responses(
        (status = 204),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn delete_activity(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain, activity_type, id)): Path<(String, String, String, String)>,
) -> Result<StatusCode, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, true)?;
    d.delete_activity(&activity_type, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
