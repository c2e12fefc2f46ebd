//! The REST API under `/api/v1`, over the facade: JSON in and out, errors as
//! `{"error": {"code", "message"}}` with the facade's codes, lists paged alike
//! (`offset`, `limit` → `{items, offset, total}`), and an OpenAPI 3 document generated from
//! these handlers at `/api/v1/openapi.json`.
//!
//! Authentication is `Authorization: Bearer <token>`: an administrator's token
//! (`POST /api/v1/auth/login`) reaches everything; an API key reaches its own domain's routes
//! only, and a read-only key only what reads. See `docs/operators.md`.

mod access;
mod auth;
mod chats;
mod directory;
mod groups;
mod history;
mod models;
mod permissions;
mod sessions;
mod undo;
mod webhooks;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::State;
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
        auth::login, list_domains, directory::list_namespaces, directory::create_domain, directory::delete_domain,
        history::get_settings, history::put_settings,
        directory::list_collections, directory::put_collection, directory::delete_collection,
        directory::list_users, directory::create_user, directory::delete_user,
        directory::list_jwt_keys, directory::add_jwt_key, directory::remove_jwt_key,
        permissions::get_model_permissions, permissions::change_model_permissions,
        permissions::get_collection_permissions, permissions::put_collection_world,
        groups::list_groups, groups::create_group, groups::delete_group, groups::add_member,
        groups::remove_member,
        models::list_models, models::get_model, models::create_model, models::delete_model,
        history::replace_data, history::history, history::version_at, history::query,
        undo::undo, undo::redo,
        sessions::list_sessions, sessions::disconnect_session, sessions::events,
        chats::list_chats, chats::create_chat, chats::get_chat, chats::delete_chat,
        chats::chat_events, chats::post_message, chats::list_activities, chats::get_activity,
        chats::delete_activity, webhooks::list_webhooks, webhooks::add_webhook,
        webhooks::remove_webhook, webhooks::deliveries, access::get_user, access::change_user,
        access::set_password, access::put_collection_user, access::delete_collection_user,
        access::get_domain_permissions, access::change_domain_permissions,
        access::get_chat_permissions, access::change_chat_permissions,
        access::get_activity_permissions, access::change_activity_permissions
    ),
    components(schemas(
        ErrorBody, ErrorDetail, auth::LoginBody, auth::TokenBody, DomainItem, DomainPage,
        models::ModelItem, models::ModelPage, models::ModelBody, models::NewModelBody,
        history::VersionBody, history::QueryBody, directory::NewDomainBody, directory::IdPage,
        crate::api::User, directory::UserPage, directory::NewUserBody,
        crate::api::JwtKey, directory::NewJwtKeyBody, groups::GroupItem, groups::GroupPage,
        groups::NewGroupBody, directory::NamespaceItem, UserRef, crate::api::ConnectedSession, crate::api::ChatInfo,
        crate::api::ChatMember, crate::api::ChatKind, crate::api::ChatEvent,
        crate::api::ChatEventKind, crate::api::NewChat, crate::api::PostedMessage,
        crate::api::ActivityInfo, crate::api::ActivityParticipant, chats::NewMessageBody,
        chats::ActivityBody, crate::api::NewWebhook, crate::api::Webhook,
        crate::api::RegisteredWebhook, crate::api::WebhookDelivery, access::UserChangeBody,
        access::PasswordBody
    )),
    modifiers(&BearerScheme)
)]
pub struct ApiDoc;

/// The routes of the REST API, for a listener to serve, taking bodies up to `max_body` bytes.
pub(crate) fn router(engine: Engine, max_body: usize) -> Router {
    let api = Router::new()
        .route("/openapi.json", get(openapi))
        .route("/auth/login", post(auth::login))
        .route("/domains", get(list_domains).post(directory::create_domain))
        .route("/namespaces", get(directory::list_namespaces))
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
            get(access::get_user)
                .patch(access::change_user)
                .delete(directory::delete_user),
        )
        .route(
            "/domains/{namespace}/{domain}/users/{username}/password",
            put(access::set_password),
        )
        .route(
            "/domains/{namespace}/{domain}/collections/{id}/permissions/users/{username}",
            put(access::put_collection_user).delete(access::delete_collection_user),
        )
        .route(
            "/domains/{namespace}/{domain}/permissions",
            get(access::get_domain_permissions).patch(access::change_domain_permissions),
        )
        .route(
            "/domains/{namespace}/{domain}/chats/{id}/permissions",
            get(access::get_chat_permissions).patch(access::change_chat_permissions),
        )
        .route(
            "/domains/{namespace}/{domain}/activities/{type}/{id}/permissions",
            get(access::get_activity_permissions).patch(access::change_activity_permissions),
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
        .route(
            "/domains/{namespace}/{domain}/models/{id}/undo",
            post(undo::undo),
        )
        .route(
            "/domains/{namespace}/{domain}/models/{id}/redo",
            post(undo::redo),
        )
        .route("/domains/{namespace}/{domain}/query", post(history::query))
        .route(
            "/domains/{namespace}/{domain}/sessions",
            get(sessions::list_sessions),
        )
        .route(
            "/domains/{namespace}/{domain}/sessions/{id}",
            axum::routing::delete(sessions::disconnect_session),
        )
        .route(
            "/domains/{namespace}/{domain}/events",
            get(sessions::events),
        )
        .route(
            "/domains/{namespace}/{domain}/chats",
            get(chats::list_chats).post(chats::create_chat),
        )
        .route(
            "/domains/{namespace}/{domain}/chats/{id}",
            get(chats::get_chat).delete(chats::delete_chat),
        )
        .route(
            "/domains/{namespace}/{domain}/chats/{id}/events",
            get(chats::chat_events),
        )
        .route(
            "/domains/{namespace}/{domain}/chats/{id}/messages",
            post(chats::post_message),
        )
        .route(
            "/domains/{namespace}/{domain}/webhooks",
            get(webhooks::list_webhooks).post(webhooks::add_webhook),
        )
        .route(
            "/domains/{namespace}/{domain}/webhooks/{id}",
            axum::routing::delete(webhooks::remove_webhook),
        )
        .route(
            "/domains/{namespace}/{domain}/webhooks/{id}/deliveries",
            get(webhooks::deliveries),
        )
        .route(
            "/domains/{namespace}/{domain}/activities",
            get(chats::list_activities),
        )
        .route(
            "/domains/{namespace}/{domain}/activities/{type}/{id}",
            get(chats::get_activity).delete(chats::delete_activity),
        )
        .route(
            "/domains/{namespace}/{domain}/settings",
            get(history::get_settings).put(history::put_settings),
        )
        .fallback(not_found)
        .layer(axum::extract::DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn_with_state(
            engine.clone(),
            count_request,
        ))
        .with_state(engine);
    Router::new().nest("/api/v1", api)
}

/// Counts a request for `/metrics` by its route template (`unmatched` for no route).
async fn count_request(
    State(engine): State<Engine>,
    route: Option<axum::extract::MatchedPath>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let method = req.method().as_str().to_string();
    let response = next.run(req).await;
    let route = route.as_ref().map_or("unmatched", |r| r.as_str());
    engine
        .inner
        .models
        .metrics()
        .rest_request(&method, route, response.status().as_u16());
    response
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

/// A failed request: its status follows from its code (or is given, for an oversize body).
#[derive(Debug)]
pub(crate) struct RestError(Error, Option<StatusCode>);

impl RestError {
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> RestError {
        RestError(Error::new(code, message), None)
    }
}

impl From<Error> for RestError {
    fn from(e: Error) -> Self {
        RestError(e, None)
    }
}

/// A request body, read whole up to the listener's `max_rest_body_bytes` (beyond it, 413 with
/// the usual JSON error).
pub(crate) struct Body(axum::body::Bytes);

impl std::ops::Deref for Body {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl<S: Send + Sync> axum::extract::FromRequest<S> for Body {
    type Rejection = RestError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, RestError> {
        match axum::body::Bytes::from_request(req, state).await {
            Ok(b) => Ok(Body(b)),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(RestError(
                Error::new(ErrorCode::InvalidArgument, "the request body is too large"),
                Some(StatusCode::PAYLOAD_TOO_LARGE),
            )),
            Err(e) => Err(RestError::new(ErrorCode::InvalidArgument, e.body_text())),
        }
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
        let status = self.1.unwrap_or_else(|| status_of(self.0.code));
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

/// Paging and filtering of every list.
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
    /// Only items whose id or name contains this text (ignoring case).
    #[param(max_length = 256)]
    pub filter: Option<String>,
}

/// Longest `filter` taken.
pub const MAX_FILTER: usize = 256;

impl Paging {
    /// The page of the `items` whose `text` contains the filter (every item without one).
    pub(crate) fn page_by<T, S: AsRef<str>>(
        &self,
        items: Vec<T>,
        text: impl Fn(&T) -> S,
    ) -> Result<(Vec<T>, u64), RestError> {
        let limit = self.limit()?;
        let needle = self
            .filter
            .as_deref()
            .filter(|f| !f.is_empty())
            .map(str::to_lowercase);
        let items: Vec<T> = match needle {
            Some(n) => items
                .into_iter()
                .filter(|i| text(i).as_ref().to_lowercase().contains(&n))
                .collect(),
            None => items,
        };
        let total = items.len() as u64;
        let page = items
            .into_iter()
            .skip(usize::try_from(self.offset).unwrap_or(usize::MAX))
            .take(limit as usize)
            .collect();
        Ok((page, total))
    }

    /// The page size, once the offset, limit and filter are checked.
    pub(crate) fn limit(&self) -> Result<u64, RestError> {
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
        if self
            .filter
            .as_ref()
            .is_some_and(|f| f.chars().count() > MAX_FILTER)
        {
            return Err(RestError::new(
                ErrorCode::InvalidArgument,
                format!("filter must be at most {MAX_FILTER} characters"),
            ));
        }
        Ok(limit)
    }

    /// The answer to a list request: the page of `items` whose `text` contains the filter.
    pub(crate) fn answer<T, S: AsRef<str>>(
        &self,
        items: Vec<T>,
        text: impl Fn(&T) -> S,
    ) -> Result<Json<Page<T>>, RestError> {
        let (items, total) = self.page_by(items, text)?;
        Ok(Json(Page {
            items,
            offset: self.offset,
            total,
        }))
    }
}

/// A page of a list.
#[derive(Serialize, ToSchema)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Items skipped.
    pub offset: u64,
    /// Items in the whole (filtered) list.
    pub total: u64,
}

/// A user, as REST names one.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)] // documents how a user id is written
pub struct UserRef {
    /// `normal`, `anonymous` or `convergence`.
    pub kind: String,
    /// Its username.
    pub name: String,
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
    let (items, total) = paging.page_by(domains, |d| format!("{}/{}", d.namespace, d.id))?;
    Ok(Json(DomainPage {
        items,
        offset: paging.offset,
        total,
    }))
}
