//! Who is connected to a domain (and disconnecting one of them), and the domain's events as a
//! stream of server-sent events, for live views such as the admin console's.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::Json;
use futures_util::Stream;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{Caller, ErrorBody, Page, Paging, RestError};
use crate::api::{ConnectedSession, Engine, Subscription};

/// Lists the sessions connected to a domain, oldest first; `filter` matches the session id,
/// the username and the address.
#[utoipa::path(
    get, path = "/api/v1/domains/{namespace}/{domain}/sessions", tag = "sessions",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), Paging),
    responses(
        (status = 200, body = Page<ConnectedSession>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn list_sessions(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain)): Path<(String, String)>,
    paging: Result<Query<Paging>, QueryRejection>,
) -> Result<Json<Page<ConnectedSession>>, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, false)?;
    let Query(paging) = paging?;
    paging.answer(d.sessions()?, |s| {
        format!(
            "{} {} {}",
            s.id.as_str(),
            s.user.name,
            s.address.as_deref().unwrap_or("")
        )
    })
}

/// Disconnects a session: its socket closes and its client reconnects with a new session, as
/// after a network drop.
#[utoipa::path(
    delete, path = "/api/v1/domains/{namespace}/{domain}/sessions/{id}", tag = "sessions",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), ("id" = String, Path, example = "s1")),
    responses(
        (status = 204),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn disconnect_session(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain, id)): Path<(String, String, String)>,
) -> Result<StatusCode, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, true)?;
    d.disconnect_session(&id)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Which events to stream.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Only this model's events (every event of the domain when absent).
    pub model: Option<String>,
}

/// Streams the domain's events (or one model's) as server-sent events: each `data:` line is
/// one event's JSON, with its `"type"` (`operation_applied`, `model_opened`, `model_closed`,
/// `last_session_left`, `model_created`, `model_deleted`, `user_connected`,
/// `user_disconnected`, `presence_changed`, `activity_changed`, `chat_changed`). The stream
/// starts with a `ready` event and is kept alive with comments.
#[utoipa::path(
    get, path = "/api/v1/domains/{namespace}/{domain}/events", tag = "events",
    params(("namespace" = String, Path, example = "t"), ("domain" = String, Path, example = "d"), EventsQuery),
    responses(
        (status = 200, content_type = "text/event-stream", body = String),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(super) async fn events(
    caller: Caller,
    State(engine): State<Engine>,
    Path((namespace, domain)): Path<(String, String)>,
    query: Result<Query<EventsQuery>, QueryRejection>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, RestError> {
    let d = caller.domain(&engine, &namespace, &domain, false)?;
    let Query(q) = query?;
    let subscription = match q.model.as_deref() {
        Some(model) => d.model(model)?.subscribe(),
        None => d.subscribe(),
    };
    // Events wait for a client that does not read in a bounded queue; when it is full the
    // stream ends with an `overflow` event (the client reconnects and reads the state again).
    let (tx, rx) = tokio::sync::mpsc::channel(STREAM_QUEUE);
    tokio::spawn(forward(subscription, tx));
    let ready =
        futures_util::stream::once(async { Ok(SseEvent::default().event("ready").data("{}")) });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        let event = rx.recv().await?;
        Some((Ok(event), rx))
    });
    Ok(Sse::new(futures_util::StreamExt::chain(ready, stream))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// Events queued for one stream's client.
const STREAM_QUEUE: usize = 4096;

/// Moves a subscription's events into a stream's bounded queue until the client goes away or
/// falls a whole queue behind.
async fn forward(subscription: Subscription, tx: tokio::sync::mpsc::Sender<SseEvent>) {
    use tokio::sync::mpsc::error::TrySendError;
    loop {
        let event = tokio::select! {
            e = subscription.next() => e,
            _ = tx.closed() => None,
        };
        let Some(event) = event else { break };
        match tx.try_send(SseEvent::default().data(event.to_json_text())) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                tracing::warn!("an event stream's client fell too far behind: stream ended");
                let overflow = SseEvent::default().event("overflow").data("{}");
                let _ = tx.send(overflow).await;
                break;
            }
            Err(TrySendError::Closed(_)) => break,
        }
    }
    subscription.close();
}

#[cfg(test)]
mod tests {
    use super::forward;
    use crate::api::{Engine, EngineConfig};

    #[tokio::test]
    async fn a_stream_whose_client_falls_a_queue_behind_ends_with_an_overflow() {
        let engine = Engine::open(EngineConfig::default()).unwrap();
        let d = engine.create_domain("t", "d").await.unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::channel(2);
        let task = tokio::spawn(forward(d.subscribe(), tx));
        for id in ["a", "b", "c", "d", "e"] {
            d.create_model("c", Some(id), &serde_json::json!({}))
                .await
                .unwrap();
        }
        // Two events fit; the third finds the queue full: the overflow follows, then the end.
        let mut got = Vec::new();
        while let Some(e) = rx.recv().await {
            got.push(format!("{e:?}"));
        }
        task.await.unwrap();
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(got[0].contains("model_created"), "{got:?}");
        assert!(got[2].contains("overflow"), "{got:?}");
        engine.shutdown().await;
    }
}
