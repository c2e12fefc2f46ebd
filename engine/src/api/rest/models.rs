//! A domain's models: listed with paging and a collection filter, read as JSON (current or at
//! a version), created and deleted. Model text is JavaScript text: an unpaired surrogate comes
//! out as a `\uXXXX` escape, exactly as stored.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Caller, ErrorBody, Paging, RestError};
use crate::api::{parse_json, Engine, ErrorCode, JsonValue, ModelInfo};

/// A model as listed.
#[derive(Serialize, ToSchema)]
pub struct ModelItem {
    /// Its id.
    pub id: String,
    /// Its collection.
    pub collection: String,
    /// Its current version.
    pub version: u64,
    /// Creation time (epoch ms).
    pub created_ms: i64,
    /// Last change (epoch ms).
    pub modified_ms: i64,
}

impl From<ModelInfo> for ModelItem {
    fn from(m: ModelInfo) -> Self {
        ModelItem {
            id: m.id,
            collection: m.collection,
            version: m.version,
            created_ms: m.created_ms,
            modified_ms: m.modified_ms,
        }
    }
}

/// A page of models.
#[derive(Serialize, ToSchema)]
pub struct ModelPage {
    /// The models of this page, by id.
    pub items: Vec<ModelItem>,
    /// Items skipped.
    pub offset: u64,
    /// Items in the whole list.
    pub total: u64,
}

/// A model with its data.
#[derive(Serialize, ToSchema)]
pub struct ModelBody {
    /// Its id.
    pub id: String,
    /// Its collection.
    pub collection: String,
    /// The version of `data`.
    pub version: u64,
    /// Creation time (epoch ms).
    pub created_ms: i64,
    /// Time of the last change at or before `version` (epoch ms).
    pub modified_ms: i64,
    /// The data (a JSON object).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// A model to create.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the body, which is parsed as JavaScript text
pub struct NewModelBody {
    /// Its collection (created if the domain allows it).
    pub collection: String,
    /// Its id (a new UUID when absent).
    pub id: Option<String>,
    /// Its data (a JSON object).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// The collection filter of the model list.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this collection's models.
    pub collection: Option<String>,
    /// Items to skip (default 0).
    #[serde(default)]
    #[param(maximum = 9007199254740991_u64)]
    pub offset: u64,
    /// Items to answer (1 to 1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u64>,
    /// Only models whose id contains this text (ignoring case).
    #[param(max_length = 256)]
    pub filter: Option<String>,
}

/// Which version to read.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// A past version (1 ..= current); the current data when absent.
    pub version: Option<u64>,
}

/// Lists a domain's models.
#[utoipa::path(
    get, path = "/api/v1/domains/{namespace}/{domain}/models", tag = "models",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), ListQuery),
    responses(
        (status = 200, body = ModelPage),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn list_models(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain)): Path<(String, String)>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<ModelPage>, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, false)?;
    let Query(q) = query?;
    let paging = Paging {
        offset: q.offset,
        limit: q.limit,
        filter: q.filter,
    };
    let mut models = d.models(q.collection.as_deref())?;
    models.sort_by(|a, b| a.id.cmp(&b.id));
    let (items, total) = paging.page_by(models, |m| m.id.clone())?;
    Ok(Json(ModelPage {
        items: items.into_iter().map(ModelItem::from).collect(),
        offset: paging.offset,
        total,
    }))
}

/// Reads a model's data, current or at a version.
#[utoipa::path(
    get, path = "/api/v1/domains/{namespace}/{domain}/models/{id}", tag = "models",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), ("id" = String, Path, example = "m1"), VersionQuery),
    responses(
        (status = 200, body = ModelBody),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn get_model(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain, id)): Path<(String, String, String)>,
    query: Result<Query<VersionQuery>, QueryRejection>,
) -> Result<Response, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, false)?;
    let Query(q) = query?;
    let model = d.model(&id)?;
    let data = match q.version {
        Some(v) => model.data_at(v)?,
        None => model.data().await?,
    };
    Ok(model_response(StatusCode::OK, &id, &data))
}

/// The answer for a model: its meta fields and its data as exact JSON text.
pub(super) fn model_response(
    status: StatusCode,
    id: &str,
    data: &crate::api::ModelData,
) -> Response {
    let meta = serde_json::json!({
        "id": id,
        "collection": data.collection,
        "version": data.version,
        "created_ms": data.created_ms,
        "modified_ms": data.modified_ms,
    })
    .to_string();
    let text = crate::ot::json::value_to_json_text(&data.data);
    // `meta` is an object: its closing brace gives way to the data.
    let body = format!("{},\"data\":{text}}}", &meta[..meta.len() - 1]);
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Creates a model.
#[utoipa::path(
    post, path = "/api/v1/domains/{namespace}/{domain}/models", tag = "models",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d")),
    request_body = NewModelBody,
    responses(
        (status = 201, body = ModelBody),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn create_model(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain)): Path<(String, String)>,
    body: super::Body,
) -> Result<Response, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, true)?;
    let body = NewModel::parse(super::body_text(&body)?)?;
    let model = d
        .create_model_json(&body.collection, body.id.as_deref(), &body.data)
        .await?;
    let data = model.data().await?;
    Ok(model_response(StatusCode::CREATED, model.id(), &data))
}

/// A creation body, parsed as JavaScript text (its data may hold unpaired surrogates, which
/// serde cannot read).
struct NewModel {
    collection: String,
    id: Option<String>,
    data: JsonValue,
}

impl NewModel {
    fn parse(text: &str) -> Result<NewModel, RestError> {
        let bad = |m: String| RestError::new(ErrorCode::InvalidArgument, m);
        let value = parse_json(text).map_err(|e| bad(format!("the body is not JSON: {e}")))?;
        let JsonValue::Object(fields) = value else {
            return Err(bad("the body is a JSON object".into()));
        };
        let mut collection = None;
        let mut id = None;
        let mut data = None;
        for (key, value) in fields {
            let text = |what: &str| {
                value
                    .as_js_string()
                    .and_then(|s| s.as_string())
                    .ok_or_else(|| bad(format!("{what} is a string")))
            };
            match key.as_string().as_deref() {
                Some("collection") => collection = Some(text("collection")?),
                Some("id") if value == JsonValue::Null => {}
                Some("id") => id = Some(text("id")?),
                Some("data") if value.is_object() => data = Some(value),
                Some("data") => return Err(bad("data is a JSON object".into())),
                _ => {
                    return Err(bad(format!(
                        "unknown field {:?}: expected collection, id, data",
                        key.to_string_lossy()
                    )))
                }
            }
        }
        Ok(NewModel {
            collection: collection.ok_or_else(|| bad("missing field collection".into()))?,
            id,
            data: data.ok_or_else(|| bad("missing field data".into()))?,
        })
    }
}

/// Deletes a model (its open sessions are closed).
#[utoipa::path(
    delete, path = "/api/v1/domains/{namespace}/{domain}/models/{id}", tag = "models",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), ("id" = String, Path, example = "m1")),
    responses(
        (status = 204),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn delete_model(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain, id)): Path<(String, String, String)>,
) -> Result<StatusCode, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, true)?;
    d.model(&id)?.delete().await?;
    Ok(StatusCode::NO_CONTENT)
}
