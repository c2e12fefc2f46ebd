//! A model's data replaced as one operation, its history (operations in a range, the version
//! at a time), model queries in the query language, and the domain's settings.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::models::model_response;
use super::{Caller, ErrorBody, RestError, MAX_PAGE};
use crate::api::{parse_json, Change, DomainSettings, Engine, ErrorCode, JsonValue};

/// Replaces a model's data. It is one operation of the model: open sessions receive it and its
/// history shows it, authored by the host.
#[utoipa::path(
    put, path = "/api/v1/domains/{namespace}/{domain}/models/{id}/data", tag = "models",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), ("id" = String, Path, example = "m1")),
    request_body(content = Object, description = "The new data (a JSON object)"),
    responses(
        (status = 200, body = super::models::ModelBody),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn replace_data(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain, id)): Path<(String, String, String)>,
    body: super::Body,
) -> Result<Response, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, true)?;
    let value = parse_json(super::body_text(&body)?).map_err(|e| {
        RestError::new(
            ErrorCode::InvalidArgument,
            format!("the body is not JSON: {e}"),
        )
    })?;
    if !matches!(value, JsonValue::Object(_)) {
        return Err(RestError::new(
            ErrorCode::InvalidArgument,
            "a model's data is a JSON object",
        ));
    }
    let model = d.model(&id)?;
    model
        .apply(vec![Change::Set {
            path: Vec::new(),
            value,
        }])
        .await?;
    let data = model.data().await?;
    Ok(model_response(StatusCode::OK, &id, &data))
}

/// The range of the history request.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// First version (default 1).
    pub first: Option<u64>,
    /// Last version (default: first + 99, at most the current version).
    pub last: Option<u64>,
}

/// A model's operations with `first <= version <= last`, each with its version, time, session,
/// user and the operation as JSON (at most 1000 per request).
#[utoipa::path(
    get, path = "/api/v1/domains/{namespace}/{domain}/models/{id}/history", tag = "models",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), ("id" = String, Path, example = "m1"), HistoryQuery),
    responses(
        (status = 200, description = "The operations, ascending", body = [Object]),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn history(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain, id)): Path<(String, String, String)>,
    query: Result<Query<HistoryQuery>, QueryRejection>,
) -> Result<Response, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, false)?;
    let Query(q) = query?;
    let model = d.model(&id)?;
    let current = model.info()?.version;
    let first = q.first.unwrap_or(1).max(1);
    let last = q
        .last
        .unwrap_or_else(|| first.saturating_add(99))
        .min(current);
    if last >= first && last - first >= MAX_PAGE {
        return Err(RestError::new(
            ErrorCode::InvalidArgument,
            format!("at most {MAX_PAGE} operations per request"),
        ));
    }
    let entries = if last < first {
        Vec::new()
    } else {
        model.history(first, last)?
    };
    let texts: Vec<String> = entries.iter().map(|e| e.to_json_text()).collect();
    let body = format!("[{}]", texts.join(","));
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response())
}

/// The time of the version request.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TimeQuery {
    /// Wall-clock time (epoch ms).
    pub time_ms: i64,
}

/// A version number.
#[derive(Serialize, ToSchema)]
pub struct VersionBody {
    /// The version the model had at the time.
    pub version: u64,
}

/// The version a model had at a time (an error before its creation).
#[utoipa::path(
    get, path = "/api/v1/domains/{namespace}/{domain}/models/{id}/version", tag = "models",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), ("id" = String, Path, example = "m1"), TimeQuery),
    responses(
        (status = 200, body = VersionBody),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn version_at(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain, id)): Path<(String, String, String)>,
    query: Result<Query<TimeQuery>, QueryRejection>,
) -> Result<Json<VersionBody>, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, false)?;
    let Query(q) = query?;
    let version = d.model(&id)?.version_at(q.time_ms)?;
    Ok(Json(VersionBody { version }))
}

/// A model query.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryBody {
    /// `SELECT … FROM collection WHERE … ORDER BY … LIMIT … OFFSET …` (see docs/queries.md).
    pub query: String,
}

/// Runs a model query over the domain's models (all of them: the caller acts for the host).
#[utoipa::path(
    post, path = "/api/v1/domains/{namespace}/{domain}/query", tag = "models",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d")),
    request_body = QueryBody,
    responses(
        (status = 200, description = "{models, offset, total}", body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn query(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain)): Path<(String, String)>,
    body: super::Body,
) -> Result<Json<crate::api::QueryPage>, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, false)?;
    let body: QueryBody = super::json_body(&body)?;
    let page = tokio::task::spawn_blocking(move || d.query(&body.query))
        .await
        .map_err(|e| RestError::new(ErrorCode::Internal, format!("query task: {e}")))??;
    Ok(Json(page))
}

/// The domain's settings.
#[utoipa::path(
    get, path = "/api/v1/domains/{namespace}/{domain}/settings", tag = "domains",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d")),
    responses(
        (status = 200, body = Object),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn get_settings(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain)): Path<(String, String)>,
) -> Result<Json<DomainSettings>, RestError> {
    caller.admin()?;
    let d = caller.domain(&engine, &namespace, &domain, false)?;
    Ok(Json(d.settings()?))
}

/// Replaces the domain's settings (fields left out take their defaults).
#[utoipa::path(
    put, path = "/api/v1/domains/{namespace}/{domain}/settings", tag = "domains",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d")),
    request_body = Object,
    responses(
        (status = 200, body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn put_settings(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain)): Path<(String, String)>,
    body: super::Body,
) -> Result<Json<DomainSettings>, RestError> {
    caller.admin()?;
    let d = caller.domain(&engine, &namespace, &domain, true)?;
    let settings: DomainSettings = super::json_body(&body)?;
    d.set_settings(settings).await?;
    Ok(Json(d.settings()?))
}
