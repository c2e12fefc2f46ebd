//! Listeners: the realtime WebSocket endpoint (`/realtime/{namespace}/{domain}`, or any path
//! ending in those two segments), `/health`, `/metrics` and optional static files. No business
//! rules here: routing, upgrade, frame and rate limits, graceful close.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tracing::{debug, info, info_span, warn, Instrument};

use crate::protocol::connection::{Connection, ConnectionInfo, Outgoing, ProtocolConfig};
use crate::session::Services;

/// WebSocket close codes the server uses.
pub mod close_code {
    /// Normal closure.
    pub const NORMAL: u16 = 1000;
    /// The server is going away (shutdown).
    pub const GOING_AWAY: u16 = 1001;
    /// A frame broke the protocol (undecodable, wrong message before authentication, ...).
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// A text frame arrived; the protocol uses binary frames only.
    pub const UNSUPPORTED_DATA: u16 = 1003;
    /// Too many messages too fast.
    pub const POLICY_VIOLATION: u16 = 1008;
    /// A frame exceeded the size limit.
    pub const TOO_BIG: u16 = 1009;
    /// The server failed internally (a crashed connection task).
    pub const INTERNAL_ERROR: u16 = 1011;
}

/// How long a socket the server closes waits for the peer's Close before it is dropped.
const CLOSE_DRAIN: Duration = Duration::from_secs(2);

/// Listener settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetConfig {
    /// Largest WebSocket message accepted, in bytes.
    pub max_frame_bytes: usize,
    /// Messages per second a connection may send on average.
    pub rate_limit_per_sec: u32,
    /// Messages a connection may send at once above the average rate. Beyond it the socket is
    /// read no faster than `rate_limit_per_sec` (the client is slowed, not refused).
    pub rate_burst: u32,
    /// How long a connection may keep sending faster than its rate, slowed down, before it
    /// is closed with 1008, in milliseconds.
    pub rate_limit_max_throttle_ms: u64,
    /// How long the peer may take none of its output (no batch of frames written) before it
    /// is taken as not reading and the connection is closed (1008), in milliseconds. A slow but
    /// steady reader is bounded by `max_queued_messages` instead.
    pub write_timeout_ms: u64,
    /// Messages waiting for a connection (model events and frames) before it is closed as too
    /// slow to keep up (1008).
    pub max_queued_messages: usize,
    /// WebSocket connections open at once; further upgrades are answered 503 (0 = no limit).
    pub max_connections: u64,
    /// Directory served as static files on non-WebSocket GET requests (e.g. a demo page).
    pub static_dir: Option<PathBuf>,
    /// Largest REST request body, in bytes (a larger one is answered 413).
    pub max_rest_body_bytes: usize,
    /// When set, `/metrics` answers only requests with `Authorization: Bearer <this>` (the
    /// figures name every domain that has sessions); 401 otherwise.
    pub metrics_token: Option<String>,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig {
            max_frame_bytes: 4 * 1024 * 1024,
            rate_limit_per_sec: 20_000,
            rate_burst: 40_000,
            rate_limit_max_throttle_ms: 30_000,
            write_timeout_ms: 30_000,
            max_queued_messages: 250_000,
            max_connections: 10_000,
            static_dir: None,
            max_rest_body_bytes: 16 * 1024 * 1024,
            metrics_token: None,
        }
    }
}

/// Counters exposed on `/metrics`.
#[derive(Default)]
pub struct Metrics {
    connections_open: AtomicU64,
    connections_total: AtomicU64,
    frames_in: AtomicU64,
    frames_out: AtomicU64,
}

struct NetState {
    services: Arc<Services>,
    protocol: Arc<ProtocolConfig>,
    config: NetConfig,
    metrics: Arc<Metrics>,
    shutdown: watch::Receiver<bool>,
}

/// A running listener.
pub struct Listener {
    local_addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    metrics: Arc<Metrics>,
}

impl Listener {
    /// The address it listens on (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Connections currently open.
    pub fn open_connections(&self) -> u64 {
        self.metrics.connections_open.load(Ordering::Relaxed)
    }

    /// Stops accepting, closes every socket with 1001 "going away" and waits for them to end.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.metrics.connections_open.load(Ordering::Relaxed) > 0 && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let _ = self.task.await;
    }
}

/// Binds `addr` and serves until [`Listener::stop`], with `routes` (the REST API) beside the
/// realtime endpoint.
pub async fn listen(
    addr: SocketAddr,
    services: Arc<Services>,
    protocol: Arc<ProtocolConfig>,
    config: NetConfig,
    routes: Router,
) -> std::io::Result<Listener> {
    let listener = TcpListener::bind(addr).await?;
    let local_addr = listener.local_addr()?;
    // Small frames both ways: without NODELAY, Nagle and the peer's delayed ACK add ~40 ms.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp: &mut tokio::net::TcpStream| {
        let _ = tcp.set_nodelay(true);
    });
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let metrics = Arc::new(Metrics::default());
    let state = Arc::new(NetState {
        services,
        protocol,
        config,
        metrics: metrics.clone(),
        shutdown: shutdown_rx.clone(),
    });
    let app = Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics_handler))
        .fallback(get(realtime_or_static))
        .with_state(state)
        .merge(routes);
    let mut stop = shutdown_rx;
    let task = tokio::spawn(async move {
        let server = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stop.wait_for(|s| *s).await;
        });
        if let Err(e) = server.await {
            tracing::error!(error = %e, "listener failed");
        }
    });
    info!(%local_addr, "listening");
    Ok(Listener {
        local_addr,
        shutdown: shutdown_tx,
        task,
        metrics,
    })
}

async fn health() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"status":"ok"}"#,
    )
}

async fn metrics_handler(State(state): State<Arc<NetState>>, headers: HeaderMap) -> Response {
    if let Some(token) = state.config.metrics_token.as_deref() {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if given.map(str::trim) != Some(token) {
            warn!("/metrics request without the metrics token");
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "the metrics token is required\n",
            )
                .into_response();
        }
    }
    let m = &state.metrics;
    let mut body = format!(
        "# TYPE tandem_connections_open gauge\ntandem_connections_open {}\n\
         # TYPE tandem_connections_total counter\ntandem_connections_total {}\n\
         # TYPE tandem_frames_in_total counter\ntandem_frames_in_total {}\n\
         # TYPE tandem_frames_out_total counter\ntandem_frames_out_total {}\n\
         # TYPE tandem_models_loaded gauge\ntandem_models_loaded {}\n",
        m.connections_open.load(Ordering::Relaxed),
        m.connections_total.load(Ordering::Relaxed),
        m.frames_in.load(Ordering::Relaxed),
        m.frames_out.load(Ordering::Relaxed),
        state.services.models.loaded_models(),
    );
    body.push_str(
        "# HELP tandem_sessions Sessions connected, by domain.\n# TYPE tandem_sessions gauge\n",
    );
    for (domain, n) in state.services.sessions.per_domain() {
        body.push_str(&format!(
            "tandem_sessions{{namespace=\"{}\",domain=\"{}\"}} {n}\n",
            crate::metrics::escape(&domain.namespace),
            crate::metrics::escape(&domain.id)
        ));
    }
    state.services.models.metrics().render(&mut body);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

/// The last two non-empty path segments: `(namespace, domain)`.
fn realtime_target(path: &str) -> Option<(String, String)> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if segs.len() < 2 {
        return None;
    }
    Some((
        percent_decode(segs[segs.len() - 2])?,
        percent_decode(segs[segs.len() - 1])?,
    ))
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 3 <= bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

async fn realtime_or_static(
    State(state): State<Arc<NetState>>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    uri: Uri,
    headers: HeaderMap,
    req: axum::extract::Request,
) -> Response {
    let (mut parts, body) = req.into_parts();
    let upgrade = WebSocketUpgrade::from_request_parts(&mut parts, &state).await;
    let req = axum::extract::Request::from_parts(parts, body);
    match upgrade {
        Ok(ws) => {
            let max = state.config.max_connections;
            if max != 0 && state.metrics.connections_open.load(Ordering::Relaxed) >= max {
                warn!(%remote, max, "connection refused: the server has its most connections open");
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "too many connections; try again later",
                )
                    .into_response();
            }
            let Some((namespace, domain)) = realtime_target(uri.path()) else {
                return (
                    StatusCode::NOT_FOUND,
                    "realtime path must end in /{namespace}/{domain}",
                )
                    .into_response();
            };
            let user_agent = headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let client_ip = client_address(remote, &headers);
            let max = state.config.max_frame_bytes;
            // A small read buffer: the WebSocket codec keeps (and zero-fills) a buffer of this
            // size per connection; larger frames still work. The write buffer stays at its
            // 128 KiB default: 16 KiB saved 22 MB at 1,000 chat connections but cost pipelined
            // throughput about a tenth (docs/PERFORMANCE.md, "Chat memory").
            ws.max_message_size(max)
                .max_frame_size(max)
                .read_buffer_size(8 * 1024)
                .on_upgrade(move |socket| {
                    let info = ConnectionInfo {
                        namespace,
                        domain,
                        remote: Some(remote),
                        client_ip,
                        user_agent,
                    };
                    let span = info_span!("connection", %remote, ns = %info.namespace, domain = %info.domain);
                    handle_socket(state, socket, info).instrument(span)
                })
        }
        Err(_) => match &state.config.static_dir {
            Some(dir) => {
                use tower::ServiceExt;
                match tower_http::services::ServeDir::new(dir)
                    .append_index_html_on_directories(true)
                    .oneshot(req)
                    .await
                {
                    Ok(r) => r.into_response(),
                    Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
                }
            }
            None => (StatusCode::NOT_FOUND, "not found").into_response(),
        },
    }
}

/// The client's address for per-address limits: a remote peer's own; for a loopback peer (a
/// proxy on this host) the first `X-Forwarded-For` entry, or `None` when it forwards none.
pub(crate) fn client_address(peer: SocketAddr, headers: &HeaderMap) -> Option<std::net::IpAddr> {
    if !peer.ip().is_loopback() {
        return Some(peer.ip());
    }
    headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .and_then(|first| first.trim().parse().ok())
}

/// A token bucket limiting a connection's incoming message rate.
struct RateLimit {
    tokens: f64,
    per_sec: f64,
    burst: f64,
    last: Instant,
}

impl RateLimit {
    fn new(per_sec: u32, burst: u32) -> Self {
        RateLimit {
            tokens: burst as f64,
            per_sec: per_sec as f64,
            burst: burst as f64,
            last: Instant::now(),
        }
    }

    fn allow(&mut self) -> bool {
        self.refill();
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    fn refill(&mut self) {
        let now = Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.last).as_secs_f64() * self.per_sec)
            .min(self.burst);
        self.last = now;
    }

    /// How long until the next message is allowed.
    fn wait(&self) -> Duration {
        if self.per_sec <= 0.0 {
            return Duration::from_secs(1);
        }
        Duration::from_secs_f64(((1.0 - self.tokens) / self.per_sec).clamp(0.0, 1.0))
    }
}

/// Slows a connection that sends faster than its rate: waits for the next token, and tells
/// when it has been over its rate for longer than `max` without a break.
struct Throttle {
    limit: RateLimit,
    since: Option<Instant>,
    max: Duration,
}

impl Throttle {
    fn new(config: &NetConfig) -> Self {
        Throttle {
            limit: RateLimit::new(config.rate_limit_per_sec, config.rate_burst),
            since: None,
            max: Duration::from_millis(config.rate_limit_max_throttle_ms),
        }
    }

    /// Waits until one more message may be handled; false when the connection has been over
    /// its rate for too long and must be closed.
    async fn admit(&mut self) -> bool {
        if self.limit.allow() {
            self.since = None;
            return true;
        }
        let since = *self.since.get_or_insert_with(Instant::now);
        loop {
            if since.elapsed() > self.max {
                return false;
            }
            tokio::time::sleep(self.limit.wait()).await;
            if self.limit.allow() {
                return true;
            }
        }
    }
}

fn close_message(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

/// Finishes the closing handshake after the server sent its Close frame: reads and drops what
/// the peer still sends until its Close arrives (or [`CLOSE_DRAIN`] passes). Dropping a socket
/// with unread data makes the kernel answer with a reset, and the peer then loses the close
/// frame and sees 1006 instead of the code it was sent. When the stream cannot be read any more
/// (after an oversized or malformed frame), waiting is all that is left: it gives the peer time
/// to read the close frame before the reset.
async fn linger(ws_rx: &mut futures_util::stream::SplitStream<WebSocket>, read_broken: bool) {
    let _ = tokio::time::timeout(CLOSE_DRAIN, async {
        if !read_broken {
            loop {
                match ws_rx.next().await {
                    Some(Ok(Message::Close(_))) | None => return,
                    Some(Ok(_)) => {}
                    Some(Err(_)) => break,
                }
            }
        }
        std::future::pending::<()>().await
    })
    .await;
}

/// Why [`write_queued`] stopped.
enum Written {
    /// Everything queued is written and flushed.
    Done,
    /// The protocol asked to close the socket (frames queued before the request are written).
    Close(u16, String),
    /// The socket failed.
    Failed,
    /// One batch could not be written within the write timeout: the peer takes nothing.
    Stalled,
}

/// Writes every frame queued in `out` and flushes, one flush (one write syscall) per batch of
/// up to 256 frames. `stall` bounds each batch, not the whole backlog: a peer that reads
/// slowly but steadily keeps its connection (the backlog limit bounds how far it may fall
/// behind); one that takes nothing for `stall` is [`Written::Stalled`].
async fn write_queued(
    ws_tx: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    out: &mut mpsc::UnboundedReceiver<Outgoing>,
    metrics: &Metrics,
    stall: Duration,
) -> Written {
    loop {
        let mut fed = 0;
        let mut close = None;
        let batch = async {
            while fed < 256 {
                match out.try_recv() {
                    Ok(Outgoing::Frame(bytes)) => {
                        metrics.frames_out.fetch_add(1, Ordering::Relaxed);
                        ws_tx.feed(Message::Binary(bytes.into())).await?;
                        fed += 1;
                    }
                    Ok(Outgoing::Close { code, reason }) => {
                        close = Some((code, reason));
                        break;
                    }
                    Err(_) => break,
                }
            }
            if fed > 0 {
                ws_tx.flush().await?;
            }
            Ok::<(), axum::Error>(())
        };
        match tokio::time::timeout(stall, batch).await {
            Err(_) => return Written::Stalled,
            Ok(Err(_)) => return Written::Failed,
            Ok(Ok(())) => {}
        }
        if let Some((code, reason)) = close {
            return Written::Close(code, reason);
        }
        if fed < 256 {
            return Written::Done;
        }
    }
}

/// How a connection's drive loop ended.
#[derive(Default)]
struct Ending {
    /// The close frame to send, if any.
    close: Option<(u16, String)>,
    /// A read failed: the stream cannot be read any further.
    read_broken: bool,
    /// A write failed or timed out: nothing more can be sent.
    write_broken: bool,
}

/// The socket halves and output queue of one connection.
struct Socket {
    tx: futures_util::stream::SplitSink<WebSocket, Message>,
    rx: futures_util::stream::SplitStream<WebSocket>,
    out: mpsc::UnboundedReceiver<Outgoing>,
}

/// One task per connection: reads the client's frames and hands them to the protocol state
/// machine, handles its model events and timers, and writes the frames they produce, all
/// without a task switch in between. A panic in the protocol is contained here: the
/// connection's model sessions are closed and the socket is closed with 1011.
async fn handle_socket(state: Arc<NetState>, socket: WebSocket, info: ConnectionInfo) {
    use futures_util::FutureExt;
    use std::panic::AssertUnwindSafe;

    let metrics = state.metrics.clone();
    metrics.connections_open.fetch_add(1, Ordering::Relaxed);
    metrics.connections_total.fetch_add(1, Ordering::Relaxed);
    let (tx, rx) = socket.split();
    let (out_tx, out) = mpsc::unbounded_channel::<Outgoing>();
    let mut sock = Socket { tx, rx, out };
    let mut conn = Connection::new(state.services.clone(), state.protocol.clone(), info, out_tx);
    let mut end = Ending::default();
    let driven = AssertUnwindSafe(drive(&state, &mut conn, &mut sock, &mut end))
        .catch_unwind()
        .await;
    if driven.is_err() {
        tracing::error!(
            session = conn.session_id().unwrap_or("-"),
            "connection task crashed; closing its model sessions and the socket"
        );
        end.close = Some((close_code::INTERNAL_ERROR, "internal server error".into()));
    }
    // Close the session's models, then send the frames still queued.
    if std::panic::catch_unwind(AssertUnwindSafe(|| conn.shutdown())).is_err() {
        tracing::error!("closing a crashed connection's models failed");
    }
    if !end.write_broken {
        let _ = tokio::time::timeout(CLOSE_DRAIN, async {
            while let Ok(out) = sock.out.try_recv() {
                if let Outgoing::Frame(bytes) = out {
                    let _ = sock.tx.feed(Message::Binary(bytes.into())).await;
                }
            }
            let _ = sock.tx.flush().await;
        })
        .await;
    }
    if let Some((code, reason)) = end.close {
        let sent = tokio::time::timeout(CLOSE_DRAIN, sock.tx.send(close_message(code, &reason)));
        if matches!(sent.await, Ok(Ok(()))) && !end.write_broken {
            linger(&mut sock.rx, end.read_broken).await;
        }
    }
    let _ = tokio::time::timeout(CLOSE_DRAIN, sock.tx.close()).await;
    metrics.connections_open.fetch_sub(1, Ordering::Relaxed);
}

/// The connection's loop: write what is queued (within the write timeout), check the backlog,
/// then wait for a frame, a wakeup or shutdown. Returns with `end` saying why it stopped.
async fn drive(state: &NetState, conn: &mut Connection, sock: &mut Socket, end: &mut Ending) {
    let metrics = &state.metrics;
    let write_timeout = Duration::from_millis(state.config.write_timeout_ms.max(1));
    let mut throttle = Throttle::new(&state.config);
    let mut shutdown = state.shutdown.clone();
    let stop = async move {
        let _ = shutdown.wait_for(|s| *s).await;
    };
    tokio::pin!(stop);
    loop {
        // A peer that does not read must not hold up shutdown: once it starts, a write gets
        // `CLOSE_DRAIN` more to finish.
        let mut down = state.shutdown.clone();
        let abandon = async move {
            let _ = down.wait_for(|s| *s).await;
            tokio::time::sleep(CLOSE_DRAIN).await;
        };
        let written = tokio::select! {
            w = write_queued(&mut sock.tx, &mut sock.out, metrics, write_timeout) => w,
            _ = abandon => {
                end.write_broken = true;
                end.close = Some((close_code::GOING_AWAY, "server shutting down".into()));
                return;
            }
        };
        match written {
            Written::Done => {}
            Written::Close(code, reason) => {
                end.close = Some((code, reason));
                return;
            }
            Written::Failed => {
                end.write_broken = true;
                return;
            }
            Written::Stalled => {
                warn!(
                    session = conn.session_id().unwrap_or("-"),
                    timeout_ms = state.config.write_timeout_ms,
                    "client does not read its output; closing the connection"
                );
                end.write_broken = true;
                end.close = Some((close_code::POLICY_VIOLATION, "client not reading".into()));
                return;
            }
        }
        if conn.is_closing() {
            // The protocol is done; its close request (if any) was handled above.
            end.close = Some((close_code::NORMAL, String::new()));
            return;
        }
        if conn.backlog() + sock.out.len() > state.config.max_queued_messages {
            // The peer does not read fast enough; dropping frames would break the protocol's
            // ordering, so the connection goes (the client resyncs).
            warn!(
                session = conn.session_id().unwrap_or("-"),
                "client too slow to keep up; closing the connection"
            );
            end.close = Some((
                close_code::POLICY_VIOLATION,
                "client too slow to keep up".into(),
            ));
            return;
        }
        tokio::select! {
            incoming = sock.rx.next() => match incoming {
                Some(Ok(Message::Binary(bytes))) => {
                    metrics.frames_in.fetch_add(1, Ordering::Relaxed);
                    if !throttle.admit().await {
                        warn!(session = conn.session_id().unwrap_or("-"), "message rate limit exceeded for too long; closing");
                        end.close = Some((close_code::POLICY_VIOLATION, "message rate limit exceeded".into()));
                        return;
                    }
                    conn.frame(&bytes).await;
                }
                Some(Ok(Message::Text(_))) => {
                    end.close = Some((close_code::UNSUPPORTED_DATA, "binary frames only".into()));
                    return;
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {
                    // Pongs to pings are sent by the WebSocket layer itself.
                    conn.activity();
                }
                Some(Ok(Message::Close(_))) | None => return,
                Some(Err(e)) => {
                    end.read_broken = true;
                    let text = e.to_string();
                    debug!(error = %text, "websocket error");
                    let code = if text.contains("too long") || text.contains("limit") || text.contains("too big") {
                        close_code::TOO_BIG
                    } else {
                        close_code::PROTOCOL_ERROR
                    };
                    end.close = Some((code, "invalid frame".into()));
                    return;
                }
            },
            wakeup = conn.wakeup() => conn.handle(wakeup),
            _ = &mut stop => {
                end.close = Some((close_code::GOING_AWAY, "server shutting down".into()));
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn realtime_target_takes_the_last_two_segments() {
        assert_eq!(
            realtime_target("/realtime/acme/docs"),
            Some(("acme".into(), "docs".into()))
        );
        assert_eq!(
            realtime_target("/api/realtime/convergence/default"),
            Some(("convergence".into(), "default".into()))
        );
        assert_eq!(
            realtime_target("/a%20b/c"),
            Some(("a b".into(), "c".into()))
        );
        assert_eq!(realtime_target("/only"), None);
    }

    #[test]
    fn rate_limit_allows_bursts_then_refuses() {
        let mut r = RateLimit::new(10, 5);
        assert!((0..5).all(|_| r.allow()));
        assert!(!r.allow());
    }
}
