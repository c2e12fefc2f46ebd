//! Who calls: the bearer token of an administrator or an API key, and the login that gives an
//! administrator's token.

use axum::extract::{FromRequestParts, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, ToSchema};

use super::{ErrorBody, RestError};
use crate::api::{Domain, Engine, ErrorCode};

/// The caller of a request, from its `Authorization: Bearer` header.
pub(crate) enum Caller {
    /// No credentials.
    Nobody,
    /// A verified administrator.
    Admin(String),
    /// An API key's token, verified against the domain a route names.
    Key(String),
}

impl FromRequestParts<Engine> for Caller {
    type Rejection = RestError;

    async fn from_request_parts(parts: &mut Parts, engine: &Engine) -> Result<Self, RestError> {
        let Some(header) = parts.headers.get(AUTHORIZATION) else {
            return Ok(Caller::Nobody);
        };
        let unauthenticated = |m: &str| RestError::new(ErrorCode::Unauthenticated, m.to_string());
        let text = header
            .to_str()
            .map_err(|_| unauthenticated("the Authorization header is not text"))?;
        let Some(token) = text.strip_prefix("Bearer ") else {
            return Err(unauthenticated("expected Authorization: Bearer <token>"));
        };
        let token = token.trim();
        if token.starts_with("tk1.") {
            return Ok(Caller::Key(token.to_string()));
        }
        match engine.verify_admin_token(token) {
            Ok(admin) => Ok(Caller::Admin(admin.username)),
            Err(e) if e.code == ErrorCode::Unauthenticated => {
                tracing::warn!("REST request with an invalid or expired token");
                Err(unauthenticated("the token is invalid or expired"))
            }
            Err(e) => Err(e.into()),
        }
    }
}

impl Caller {
    /// Passes administrators only.
    pub(crate) fn admin(&self) -> Result<&str, RestError> {
        match self {
            Caller::Admin(name) => Ok(name),
            Caller::Nobody => Err(RestError::new(
                ErrorCode::Unauthenticated,
                "this route needs an administrator's token",
            )),
            Caller::Key(_) => Err(RestError::new(
                ErrorCode::PermissionDenied,
                "an API key does not reach this route",
            )),
        }
    }

    /// The domain a route names, if the caller reaches it (and may change it, for `write`).
    /// A key answers the same for a domain that does not exist as for one it does not reach.
    pub(crate) fn domain(
        &self,
        engine: &Engine,
        namespace: &str,
        id: &str,
        write: bool,
    ) -> Result<Domain, RestError> {
        match self {
            Caller::Admin(_) => Ok(engine.domain(namespace, id)?),
            Caller::Nobody => Err(RestError::new(
                ErrorCode::Unauthenticated,
                "this route needs an administrator's token or an API key of the domain",
            )),
            Caller::Key(token) => {
                let refused = || {
                    tracing::warn!(
                        namespace,
                        domain = id,
                        "REST request with an API key that does not reach the domain"
                    );
                    RestError::new(
                        ErrorCode::Unauthenticated,
                        "the API key is not valid for this domain",
                    )
                };
                let domain = engine.domain(namespace, id).map_err(|_| refused())?;
                let key = domain.verify_api_key(token).map_err(|_| refused())?;
                if write && key.read_only {
                    return Err(RestError::new(
                        ErrorCode::PermissionDenied,
                        "a read-only API key may not change anything",
                    ));
                }
                Ok(domain)
            }
        }
    }
}

/// An administrator's credentials.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    /// Login name.
    pub username: String,
    /// Password.
    pub password: String,
}

/// An administrator's token.
#[derive(Serialize, ToSchema)]
pub struct TokenBody {
    /// For `Authorization: Bearer`.
    pub token: String,
    /// When it stops being accepted (epoch ms).
    pub expires_ms: i64,
}

/// Logs an administrator in.
#[utoipa::path(
    post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginBody,
    responses(
        (status = 200, body = TokenBody),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)
    )
)]
pub(super) async fn login(
    State(engine): State<Engine>,
    peer: Result<
        axum::extract::ConnectInfo<std::net::SocketAddr>,
        axum::extract::rejection::ExtensionRejection,
    >,
    headers: axum::http::HeaderMap,
    body: super::Body,
) -> Result<Json<TokenBody>, RestError> {
    let body: LoginBody = super::json_body(&body)?;
    let address = peer
        .ok()
        .and_then(|p| crate::net::client_address(p.0, &headers));
    match engine
        .admin_login_from(&body.username, &body.password, address)
        .await
    {
        Ok(t) => Ok(Json(TokenBody {
            token: t.token,
            expires_ms: t.expires_ms,
        })),
        Err(e) => {
            if e.code == ErrorCode::Unauthenticated {
                tracing::warn!(reason = %e.message, "administrator login refused");
            }
            Err(e.into())
        }
    }
}

/// Declares the bearer scheme in the OpenAPI document.
pub(super) struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}
