//! A domain's webhooks: register, list, remove, and each one's deliveries with their status.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;

use super::{json_body, Caller, ErrorBody, Page, Paging, RestError};
use crate::api::{Engine, NewWebhook, RegisteredWebhook, Webhook, WebhookDelivery};

/// Lists a domain's webhooks; `filter` matches the id and URL.
#[utoipa::path(
    get, path = "/api/v1/domains/{namespace}/{domain}/webhooks", tag = "webhooks",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), Paging),
    responses(
        (status = 200, body = Page<Webhook>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn list_webhooks(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain)): Path<(String, String)>,
    paging: Result<Query<Paging>, QueryRejection>,
) -> Result<Json<Page<Webhook>>, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, false)?;
    let Query(paging) = paging?;
    paging.answer(d.webhooks()?, |w| format!("{} {}", w.id, w.url))
}

/// Registers a webhook; the answer holds the secret its deliveries are signed with, which is
/// not shown again.
#[utoipa::path(
    post, path = "/api/v1/domains/{namespace}/{domain}/webhooks", tag = "webhooks",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d")),
    request_body = NewWebhook,
    responses(
        (status = 201, body = RegisteredWebhook),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn add_webhook(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain)): Path<(String, String)>,
    body: super::Body,
) -> Result<(StatusCode, Json<RegisteredWebhook>), RestError> {
    let d = caller.domain(&engine, &namespace, &domain, true)?;
    let body: NewWebhook = json_body(&body)?;
    Ok((StatusCode::CREATED, Json(d.add_webhook(body).await?)))
}

/// Removes a webhook with its deliveries.
#[utoipa::path(
    delete, path = "/api/v1/domains/{namespace}/{domain}/webhooks/{id}", tag = "webhooks",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), ("id" = String, Path, example = "0123456789abcdef")),
    responses(
        (status = 204),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn remove_webhook(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain, id)): Path<(String, String, String)>,
) -> Result<StatusCode, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, true)?;
    d.remove_webhook(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A webhook's deliveries, newest first; `filter` matches the event name and status.
#[utoipa::path(
    get, path = "/api/v1/domains/{namespace}/{domain}/webhooks/{id}/deliveries", tag = "webhooks",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), ("id" = String, Path, example = "0123456789abcdef"), Paging),
    responses(
        (status = 200, body = Page<WebhookDelivery>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn deliveries(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain, id)): Path<(String, String, String)>,
    paging: Result<Query<Paging>, QueryRejection>,
) -> Result<Json<Page<WebhookDelivery>>, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, false)?;
    let Query(paging) = paging?;
    paging.answer(d.webhook_deliveries(&id)?, |w| {
        format!("{} {}", w.event, w.status)
    })
}
