//! Selective undo and redo of a model's operations (see `docs/history.md`).

use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;

use super::{json_body, Caller, ErrorBody, RestError};
use crate::api::{Engine, UndoOutcome, UndoScope, UserId};

/// What to undo or redo, and for whom the new operation is recorded.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct UndoBody {
    /// `{"version": 5}`, `{"last_of": {"kind": "normal", "name": "ann"}}`,
    /// `{"last_of_session": "s1"}` or `{"since": {"user": {...}, "version": 3}}`.
    scope: UndoScope,
    /// The author of the undo (default: the host user).
    #[serde(default)]
    by: Option<UserId>,
}

async fn run(
    caller: Caller,
    engine: Engine,
    (namespace, domain, id): (String, String, String),
    body: &[u8],
    redo: bool,
) -> Result<Json<UndoOutcome>, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, true)?;
    let req: UndoBody = json_body(body)?;
    let model = d.model(&id)?;
    let by = req.by.unwrap_or_else(UserId::host);
    let out = if redo {
        model.redo_as(req.scope, &by).await?
    } else {
        model.undo_as(req.scope, &by).await?
    };
    Ok(Json(out))
}

/// Undoes what the scope names as one new operation: open sessions receive it as a remote
/// operation. A conflict with later changes of others changes nothing (`"outcome": "conflict"`).
#[utoipa::path(
    post, path = "/api/v1/domains/{namespace}/{domain}/models/{id}/undo", tag = "models",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), ("id" = String, Path, example = "m1")),
    request_body(content = Object, description = "`{\"scope\": {\"version\": 5}, \"by\": {\"kind\": \"normal\", \"name\": \"ann\"}}`"),
    responses(
        (status = 200, description = "`{\"outcome\": \"undone\" | \"partial\" | \"conflict\" | \"nothing_to_undo\" | \"not_undoable\", ...}`", body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn undo(
    caller: Caller,
    State(engine): State<Engine>,
    Path(path): Path<(String, String, String)>,
    body: super::Body,
) -> Result<Json<UndoOutcome>, RestError> {
    run(caller, engine, path, &body, false).await
}

/// Redoes: undoes the undo the scope names (`last_of` takes the user's newest undo not redone).
#[utoipa::path(
    post, path = "/api/v1/domains/{namespace}/{domain}/models/{id}/redo", tag = "models",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), ("id" = String, Path, example = "m1")),
    request_body(content = Object, description = "Like the undo's body"),
    responses(
        (status = 200, description = "Like the undo's answer", body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn redo(
    caller: Caller,
    State(engine): State<Engine>,
    Path(path): Path<(String, String, String)>,
    body: super::Body,
) -> Result<Json<UndoOutcome>, RestError> {
    run(caller, engine, path, &body, true).await
}
