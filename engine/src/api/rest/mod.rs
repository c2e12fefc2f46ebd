//! The REST API under `/api/v1`, over the facade: JSON in and out, errors as
//! `{"error": {"code", "message"}}` with the facade's codes, lists paged alike
//! (`offset`, `limit` → `{items, offset, total}`), and an OpenAPI 3 document generated from
//! these handlers at `/api/v1/openapi.json`.
//!
//! Authentication is `Authorization: Bearer <token>`: an administrator's token
//! (`POST /api/v1/auth/login`) reaches everything; an API key reaches its own domain's routes
//! only, and a read-only key only what reads. See `docs/operators.md`.

mod auth;
mod directory;
mod groups;
mod history;
mod models;
mod permissions;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::{Engine, Error, ErrorCode};
use auth::BearerScheme;
pub(crate) use auth::Caller;

/// Largest page a list answers.
pub const MAX_PAGE: u64 = 1000;
/// Largest offset taken (the largest integer a JavaScript number holds exactly).
pub const MAX_OFFSET: u64 = 9_007_199_254_740_991;
/// The page size when a list request names none.
pub const DEFAULT_PAGE: u64 = 100;

/// The OpenAPI document of the REST API.
#[derive(OpenApi)]
#[openapi(
    info(title = "Tandem REST API", description = "Domains, models and their contents, for operators and app servers."),
    paths(
        auth::login, list_domains, directory::create_domain, directory::delete_domain,
        history::get_settings, history::put_settings,
        directory::list_collections, directory::put_collection, directory::delete_collection,
        directory::list_users, directory::create_user, directory::delete_user,
        directory::list_jwt_keys, directory::add_jwt_key, directory::remove_jwt_key,
        permissions::get_model_permissions, permissions::change_model_permissions,
        permissions::get_collection_permissions, permissions::put_collection_world,
        groups::list_groups, groups::create_group, groups::delete_group, groups::add_member,
        groups::remove_member,
        models::list_models, models::get_model, models::create_model, models::delete_model,
        history::replace_data, history::history, history::version_at, history::query
    ),
    components(schemas(
        ErrorBody, ErrorDetail, auth::LoginBody, auth::TokenBody, DomainItem, DomainPage,
        models::ModelItem, models::ModelPage, models::ModelBody, models::NewModelBody,
        history::VersionBody, history::QueryBody, directory::NewDomainBody, directory::IdPage,
        crate::api::User, directory::UserPage, directory::NewUserBody,
        crate::api::JwtKey, directory::NewJwtKeyBody, groups::GroupItem, groups::GroupPage,
        groups::NewGroupBody
    )),
    modifiers(&BearerScheme)
)]
pub struct ApiDoc;

/// The routes of the REST API, for a listener to serve.
pub(crate) fn router(engine: Engine) -> Router {
    let api = Router::new()
        .route("/openapi.json", get(openapi))
        .route("/auth/login", post(auth::login))
        .route("/domains", get(list_domains).post(directory::create_domain))
        .route(
            "/domains/{namespace}/{domain}",
            axum::routing::delete(directory::delete_domain),
        )
        .route(
            "/domains/{namespace}/{domain}/collections",
            get(directory::list_collections),
        )
        .route(
            "/domains/{namespace}/{domain}/collections/{id}",
            put(directory::put_collection).delete(directory::delete_collection),
        )
        .route(
            "/domains/{namespace}/{domain}/users",
            get(directory::list_users).post(directory::create_user),
        )
        .route(
            "/domains/{namespace}/{domain}/users/{username}",
            axum::routing::delete(directory::delete_user),
        )
        .route(
            "/domains/{namespace}/{domain}/models/{id}/permissions",
            get(permissions::get_model_permissions).patch(permissions::change_model_permissions),
        )
        .route(
            "/domains/{namespace}/{domain}/collections/{id}/permissions",
            get(permissions::get_collection_permissions),
        )
        .route(
            "/domains/{namespace}/{domain}/collections/{id}/permissions/world",
            put(permissions::put_collection_world),
        )
        .route(
            "/domains/{namespace}/{domain}/groups",
            get(groups::list_groups).post(groups::create_group),
        )
        .route(
            "/domains/{namespace}/{domain}/groups/{id}",
            axum::routing::delete(groups::delete_group),
        )
        .route(
            "/domains/{namespace}/{domain}/groups/{id}/members/{username}",
            put(groups::add_member).delete(groups::remove_member),
        )
        .route(
            "/domains/{namespace}/{domain}/jwt-keys",
            get(directory::list_jwt_keys).post(directory::add_jwt_key),
        )
        .route(
            "/domains/{namespace}/{domain}/jwt-keys/{id}",
            axum::routing::delete(directory::remove_jwt_key),
        )
        .route(
            "/domains/{namespace}/{domain}/models",
            get(models::list_models).post(models::create_model),
        )
        .route(
            "/domains/{namespace}/{domain}/models/{id}",
            get(models::get_model).delete(models::delete_model),
        )
        .route(
            "/domains/{namespace}/{domain}/models/{id}/data",
            put(history::replace_data),
        )
        .route(
            "/domains/{namespace}/{domain}/models/{id}/history",
            get(history::history),
        )
        .route(
            "/domains/{namespace}/{domain}/models/{id}/version",
            get(history::version_at),
        )
        .route("/domains/{namespace}/{domain}/query", post(history::query))
        .route(
            "/domains/{namespace}/{domain}/settings",
            get(history::get_settings).put(history::put_settings),
        )
        .fallback(not_found)
        .with_state(engine);
    Router::new().nest("/api/v1", api)
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

async fn not_found() -> RestError {
    RestError::new(ErrorCode::NotFound, "no such route")
}

/// An error answer.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// What failed.
    pub error: ErrorDetail,
}

/// What failed, with the facade's code.
#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable code: `invalid_argument`, `not_found`, `already_exists`, `unauthenticated`,
    /// `permission_denied`, ...
    pub code: String,
    /// For people.
    pub message: String,
}

/// A failed request: its status follows from its code.
#[derive(Debug)]
pub(crate) struct RestError(Error);

impl RestError {
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> RestError {
        RestError(Error::new(code, message))
    }
}

impl From<Error> for RestError {
    fn from(e: Error) -> Self {
        RestError(e)
    }
}

impl From<JsonRejection> for RestError {
    fn from(e: JsonRejection) -> Self {
        RestError::new(ErrorCode::InvalidArgument, e.body_text())
    }
}

impl From<QueryRejection> for RestError {
    fn from(e: QueryRejection) -> Self {
        RestError::new(ErrorCode::InvalidArgument, e.body_text())
    }
}

/// A request body as text (a body that is not UTF-8 is refused as JSON would be).
pub(crate) fn body_text(body: &[u8]) -> Result<&str, RestError> {
    std::str::from_utf8(body).map_err(|e| {
        RestError::new(
            ErrorCode::InvalidArgument,
            format!("the body is not UTF-8 text: {e}"),
        )
    })
}

/// A JSON request body of type `T` (whatever its `Content-Type` says, so `curl -d` works),
/// unknown fields and wrong types refused with the field named.
pub(crate) fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, RestError> {
    serde_json::from_str(body_text(body)?)
        .map_err(|e| RestError::new(ErrorCode::InvalidArgument, format!("invalid body: {e}")))
}

fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::InvalidArgument | ErrorCode::Config => StatusCode::BAD_REQUEST,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::AlreadyExists | ErrorCode::Conflict | ErrorCode::InvalidOperation => {
            StatusCode::CONFLICT
        }
        ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorCode::PermissionDenied => StatusCode::FORBIDDEN,
        ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Storage | ErrorCode::FormatVersion | ErrorCode::Internal => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        let status = status_of(self.0.code);
        if status.is_server_error() {
            tracing::error!(code = ?self.0.code, message = %self.0.message, "REST request failed");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.0.code.as_str().to_string(),
                message: self.0.message,
            },
        };
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

/// Paging of every list.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// Items to skip (default 0).
    #[serde(default)]
    #[param(maximum = 9007199254740991_u64)]
    pub offset: u64,
    /// Items to answer (1 to 1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u64>,
}

impl Paging {
    /// The page of `items`, or an error for a limit out of range.
    pub(crate) fn page<T>(&self, items: Vec<T>) -> Result<(Vec<T>, u64), RestError> {
        let limit = self.limit.unwrap_or(DEFAULT_PAGE);
        if self.offset > MAX_OFFSET {
            return Err(RestError::new(
                ErrorCode::InvalidArgument,
                format!("offset must be at most {MAX_OFFSET}"),
            ));
        }
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(RestError::new(
                ErrorCode::InvalidArgument,
                format!("limit must be between 1 and {MAX_PAGE}"),
            ));
        }
        let total = items.len() as u64;
        let page = items
            .into_iter()
            .skip(usize::try_from(self.offset).unwrap_or(usize::MAX))
            .take(limit as usize)
            .collect();
        Ok((page, total))
    }
}

/// A domain.
#[derive(Serialize, ToSchema)]
pub struct DomainItem {
    /// Its namespace.
    pub namespace: String,
    /// Its id.
    pub id: String,
}

/// A page of domains.
#[derive(Serialize, ToSchema)]
pub struct DomainPage {
    /// The domains of this page.
    pub items: Vec<DomainItem>,
    /// Items skipped.
    pub offset: u64,
    /// Items in the whole list.
    pub total: u64,
}

/// Lists the domains (administrators only).
#[utoipa::path(
    get, path = "/api/v1/domains", tag = "domains",
    params(Paging),
    responses(
        (status = 200, body = DomainPage),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
async fn list_domains(
    caller: Caller,
    axum::extract::State(engine): axum::extract::State<Engine>,
    paging: Result<axum::extract::Query<Paging>, QueryRejection>,
) -> Result<Json<DomainPage>, RestError> {
    caller.admin()?;
    let paging = paging?;
    let domains = engine
        .domains()?
        .into_iter()
        .map(|(namespace, id)| DomainItem { namespace, id })
        .collect();
    let (items, total) = paging.page(domains)?;
    Ok(Json(DomainPage {
        items,
        offset: paging.offset,
        total,
    }))
}
