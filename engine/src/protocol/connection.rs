//! One connection's protocol state machine: handshake and authentication, request/response
//! correlation, resource ids of open models, the identity cache the client needs before any
//! message naming a session, and translation between frames and service calls. No business
//! rules: those live in the services.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

use super::codec::{self, Body, Envelope, MessageClass};
use super::convert::{self, timestamp};
use super::limits::SessionLimits;
use super::wire::proto::core as pc;
use super::wire::proto::identity as pi;
use super::wire::proto::model as pm;
use super::wire::proto::presence as pp;
use crate::auth::{AuthService, Credentials};
use crate::domain::DomainService;
use crate::model::{
    EngineEvent, EventBus, ForceCloseReason, ModelError, ModelEvent, ModelService, OpenedModel,
    ReferenceChange, ReplayedOp, SessionInfo, SessionModel, SharedReference,
};
use crate::ot::ValueId;
use crate::sources::{Clock, IdSource};
use crate::store::DomainKey;
use crate::store::{UserRecord, UserType};

/// WebSocket close codes the protocol asks for.
pub mod close {
    /// Normal closure.
    pub const NORMAL: u16 = 1000;
    /// A frame broke the protocol.
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// The peer stopped answering heartbeats.
    pub const HEARTBEAT_TIMEOUT: u16 = 4001;
    /// No connection request arrived in time.
    pub const HANDSHAKE_TIMEOUT: u16 = 4002;
}

/// What the listener hands the protocol.
#[derive(Debug)]
pub enum Incoming {
    /// A binary frame.
    Binary(Vec<u8>),
    /// A WebSocket-level ping or pong (counts as activity).
    Activity,
    /// The socket is gone.
    Closed,
}

/// What the protocol asks the listener to do.
#[derive(Debug, PartialEq)]
pub enum Outgoing {
    /// Send a binary frame.
    Frame(Vec<u8>),
    /// Close the socket.
    Close {
        /// WebSocket close code.
        code: u16,
        /// Reason text.
        reason: String,
    },
}

/// Who is connecting, from the listener.
#[derive(Clone, Debug)]
pub struct ConnectionInfo {
    /// Namespace from the URL.
    pub namespace: String,
    /// Domain id from the URL.
    pub domain: String,
    /// Peer address.
    pub remote: Option<SocketAddr>,
    /// The client's address as far as it is known, for per-address login limits: the peer's,
    /// or for a loopback peer (a local proxy) the first `X-Forwarded-For` entry; `None` for a
    /// local peer that forwards nothing, which is not limited per address.
    pub client_ip: Option<IpAddr>,
    /// The User-Agent header.
    pub user_agent: String,
}

impl RegistryState {
    fn release(&mut self, user: &SessionUser) {
        let key = user_of(user);
        if let Some(n) = self.per_user.get_mut(&key) {
            *n -= 1;
            if *n == 0 {
                self.per_user.remove(&key);
            }
        }
    }
}

/// Protocol timing.
#[derive(Clone, Debug)]
pub struct ProtocolConfig {
    /// Close if no connection request arrives within this time.
    pub handshake_timeout: Duration,
    /// Send a ping after this much incoming silence.
    pub ping_interval: Duration,
    /// Close if nothing arrives this long after a ping.
    pub pong_timeout: Duration,
    /// How long the client may take to answer a server request (auto-create data).
    pub client_request_timeout: Duration,
    /// When a reconnecting client resyncs while one of its earlier sessions still looks
    /// connected, how long that session has to show a sign of life before it is taken for a
    /// dead connection (closed, and its operations counted as the reconnecting client's own).
    pub liveness_probe_timeout: Duration,
    /// Per-user and per-connection limits.
    pub limits: SessionLimits,
    /// Version reported in the handshake.
    pub server_version: String,
}

impl Default for ProtocolConfig {
    fn default() -> Self {
        ProtocolConfig {
            handshake_timeout: Duration::from_secs(10),
            ping_interval: Duration::from_secs(10),
            pong_timeout: Duration::from_secs(10),
            client_request_timeout: Duration::from_secs(15),
            liveness_probe_timeout: Duration::from_secs(2),
            limits: SessionLimits::default(),
            server_version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// A connected session's user, as other connections show it.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionUser {
    /// The user.
    pub user: UserRecord,
    /// The domain.
    pub domain: DomainKey,
}

/// Sessions currently connected (for identity lookups and presence), with a count per user so
/// that availability and the per-user connection limit never scan every session.
#[derive(Default)]
pub struct SessionRegistry {
    state: Mutex<RegistryState>,
}

type UserKey = (DomainKey, UserType, String);

#[derive(Default)]
struct RegistryState {
    sessions: HashMap<String, SessionUser>,
    /// Each connected session's connection, for liveness probes.
    connections: HashMap<String, mpsc::UnboundedSender<Internal>>,
    per_user: HashMap<UserKey, usize>,
}

fn user_of(u: &SessionUser) -> UserKey {
    (u.domain.clone(), u.user.user_type, u.user.username.clone())
}

impl SessionRegistry {
    fn insert(&self, session: &str, user: SessionUser, conn: mpsc::UnboundedSender<Internal>) {
        if let Ok(mut s) = self.state.lock() {
            *s.per_user.entry(user_of(&user)).or_insert(0) += 1;
            if let Some(old) = s.sessions.insert(session.to_string(), user) {
                s.release(&old);
            }
            s.connections.insert(session.to_string(), conn);
        }
    }
    fn remove(&self, session: &str) {
        if let Ok(mut s) = self.state.lock() {
            if let Some(old) = s.sessions.remove(session) {
                s.release(&old);
            }
            s.connections.remove(session);
        }
    }
    /// Whether `session` is still connected and answering: asks its connection for a sign of
    /// life (any frame from its client, prompted by a ping) within `timeout`. A session that
    /// stays silent is closed, since its network is gone. False for unknown sessions.
    async fn is_alive(&self, session: &str, timeout: Duration) -> bool {
        let Some(conn) = self
            .state
            .lock()
            .ok()
            .and_then(|s| s.connections.get(session).cloned())
        else {
            return false;
        };
        let (reply, answered) = oneshot::channel();
        if conn.send(Internal::Probe(reply)).is_err() {
            return false;
        }
        match tokio::time::timeout(timeout, answered).await {
            Ok(Ok(())) => true,
            _ => {
                let _ = conn.send(Internal::Close(
                    close::HEARTBEAT_TIMEOUT,
                    "no sign of life while the same client reconnected",
                ));
                false
            }
        }
    }
    /// The user of a connected session.
    pub fn get(&self, session: &str) -> Option<SessionUser> {
        self.state.lock().ok()?.sessions.get(session).cloned()
    }
    /// True while the user has at least one connected session in the domain.
    pub fn is_available(&self, domain: &DomainKey, user_type: UserType, username: &str) -> bool {
        self.count_for(domain, user_type, username) > 0
    }
    /// How many sessions the user has connected in the domain.
    pub fn count_for(&self, domain: &DomainKey, user_type: UserType, username: &str) -> usize {
        let key = (domain.clone(), user_type, username.to_string());
        self.state
            .lock()
            .map(|s| s.per_user.get(&key).copied().unwrap_or(0))
            .unwrap_or(0)
    }
    /// Number of connected sessions.
    pub fn len(&self) -> usize {
        self.state.lock().map(|s| s.sessions.len()).unwrap_or(0)
    }
    /// True when nobody is connected.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The services a connection talks to.
pub struct Services {
    /// Models.
    pub models: ModelService,
    /// Domains.
    pub domains: DomainService,
    /// Authentication and users.
    pub auth: AuthService,
    /// Engine events.
    pub bus: EventBus,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Ids.
    pub ids: Arc<dyn IdSource>,
    /// Connected sessions.
    pub sessions: SessionRegistry,
    /// Timing.
    pub config: ProtocolConfig,
}

/// Wire user-type numbers.
fn wire_type(t: UserType) -> i32 {
    match t {
        UserType::Normal => 0,
        UserType::Convergence => 1,
        UserType::Anonymous => 2,
    }
}

fn type_from_wire(t: i32) -> UserType {
    match t {
        1 => UserType::Convergence,
        2 => UserType::Anonymous,
        _ => UserType::Normal,
    }
}

/// The user id string the engine records with operations: `normal:bob`, `anonymous:x`, ...
pub fn user_key(t: UserType, username: &str) -> String {
    let p = match t {
        UserType::Normal => "normal",
        UserType::Convergence => "convergence",
        UserType::Anonymous => "anonymous",
    };
    format!("{p}:{username}")
}

/// Parses a recorded user id; ids without a known prefix are engine-side (host) users.
pub fn parse_user_key(key: &str) -> (UserType, String) {
    for (p, t) in [
        ("normal:", UserType::Normal),
        ("convergence:", UserType::Convergence),
        ("anonymous:", UserType::Anonymous),
    ] {
        if let Some(rest) = key.strip_prefix(p) {
            return (t, rest.to_string());
        }
    }
    (UserType::Convergence, key.to_string())
}

fn user_data(u: &UserRecord) -> pc::DomainUserData {
    convert::user_data(
        wire_type(u.user_type),
        &u.username,
        &u.display_name,
        &u.first_name,
        &u.last_name,
        &u.email,
    )
}

fn all_permissions() -> pm::ModelPermissionsData {
    pm::ModelPermissionsData {
        read: true,
        write: true,
        remove: true,
        manage: true,
    }
}

fn error_body(code: &str, message: impl Into<String>) -> Body {
    Body::Error(pc::ErrorMessage {
        code: code.to_string(),
        message: message.into(),
        details: BTreeMap::new(),
    })
}

fn model_error_code(e: &ModelError) -> &'static str {
    match e {
        ModelError::NotFound(_) => "model_not_found",
        ModelError::AlreadyExists(_) => "model_already_exists",
        ModelError::CollectionNotFound(_) => "collection_does_not_exist",
        ModelError::AlreadyOpen(_) => "model_already_open",
        ModelError::NotOpen(_) => "model_not_open",
        ModelError::Json(_) | ModelError::Invalid(_) | ModelError::Apply(_) => {
            "invalid_model_creation_data"
        }
        _ => "unknown",
    }
}

/// Results of work done off the connection loop.
enum Internal {
    Opened {
        request_id: i32,
        model: String,
        result: Result<OpenedModel, (String, String)>,
        resync: bool,
    },
    Closed {
        request_id: i32,
        resource: i32,
    },
    Reply(Envelope),
    /// Another connection asks whether this one's client is still there: answer on the
    /// next frame from it.
    Probe(oneshot::Sender<()>),
    /// Close the connection.
    Close(u16, &'static str),
}

struct Resource {
    model: String,
    handle: SessionModel,
    resyncing: bool,
    sessions: Vec<String>,
    references: Vec<SharedReference>,
    /// This session's own references on the model (value id, key), for the limit.
    own_references: HashSet<(String, String)>,
    /// For a resync whose replay reached the client's own committed operations: those and
    /// everything after them, sent once the client has caught up to the version before them
    /// and re-sent its unacknowledged operations (see [`Conn::release_held`]).
    held: Option<VecDeque<Held>>,
}

impl Resource {
    /// Keeps the lists of collaborators and their references that `modelResyncServerComplete`
    /// sends up to date; true for the events that concern them.
    fn note_collaborators(&mut self, event: &ModelEvent) -> bool {
        match event {
            ModelEvent::RemoteOpened { session, .. } => {
                if !self.sessions.contains(session) {
                    self.sessions.push(session.clone());
                }
            }
            ModelEvent::RemoteClosed { session, .. } => {
                self.sessions.retain(|s| s != session);
                self.references.retain(|x| x.session != *session);
            }
            ModelEvent::Reference {
                session,
                target,
                key,
                change,
                ..
            } => {
                let same = |x: &SharedReference| {
                    x.session == *session && x.target == *target && x.key == *key
                };
                match change {
                    ReferenceChange::Shared(v) | ReferenceChange::Set(v) => {
                        match self.references.iter_mut().find(|x| same(x)) {
                            Some(x) => x.values = Some(v.clone()),
                            None => self.references.push(SharedReference {
                                session: session.clone(),
                                target: target.clone(),
                                key: key.clone(),
                                values: Some(v.clone()),
                            }),
                        }
                    }
                    ReferenceChange::Cleared => {
                        if let Some(x) = self.references.iter_mut().find(|x| same(x)) {
                            x.values = None;
                        }
                    }
                    ReferenceChange::Unshared => self.references.retain(|x| !same(x)),
                }
            }
            _ => return false,
        }
        true
    }
}

/// Most events a resynchronising resource holds back before it gives up on the client.
const MAX_HELD: usize = 100_000;

/// What a resynchronising resource holds back from the client.
enum Held {
    /// A committed operation from the replay.
    Replayed(ReplayedOp),
    /// A live event that arrived meanwhile.
    Event(ModelEvent),
}

struct Authenticated {
    domain: DomainKey,
    session: SessionInfo,
    /// The client's earlier sessions (same reconnect token), oldest first.
    earlier_sessions: Vec<String>,
}

struct Conn {
    services: Arc<Services>,
    info: ConnectionInfo,
    out: mpsc::UnboundedSender<Outgoing>,
    auth: Option<Authenticated>,
    resources: HashMap<i32, Resource>,
    by_model: HashMap<String, i32>,
    opening: HashMap<String, Vec<ModelEvent>>,
    next_resource: i32,
    next_request: Arc<AtomicI32>,
    pending: Arc<Mutex<HashMap<i32, oneshot::Sender<Envelope>>>>,
    known_sessions: HashSet<String>,
    known_users: HashSet<(UserType, String)>,
    model_tx: mpsc::UnboundedSender<ModelEvent>,
    internal_tx: mpsc::UnboundedSender<Internal>,
    last_in: Instant,
    ping_sent: Option<Instant>,
    probes: Vec<oneshot::Sender<()>>,
    closing: bool,
}

/// Frames, model events and background results a [`Connection`] handles per wakeup before
/// its driver gets a chance to write what they produced (one write for the whole batch).
const EVENTS_PER_WAKEUP: usize = 256;

/// One connection's protocol state machine, driven by whoever owns the socket (the listener's
/// per-connection task): it hands over frames from the client ([`Connection::frame`]) and waits
/// on [`Connection::wakeup`] for everything else (model events, results of background work, the
/// heartbeat timer). Frames to send, and a close request, go to the `out` channel given to
/// [`Connection::new`]; the driver drains it without a task switch in between.
pub struct Connection {
    conn: Conn,
    model_rx: mpsc::UnboundedReceiver<ModelEvent>,
    internal_rx: mpsc::UnboundedReceiver<Internal>,
    tick: tokio::time::Interval,
    started: Instant,
}

/// Something a [`Connection`] was woken for, to pass to [`Connection::handle`].
pub struct Wakeup(WakeupKind);

enum WakeupKind {
    Model(ModelEvent),
    Internal(Internal),
    Tick,
}

impl Connection {
    /// A connection that has not yet received its handshake.
    pub fn new(
        services: Arc<Services>,
        info: ConnectionInfo,
        out: mpsc::UnboundedSender<Outgoing>,
    ) -> Self {
        let (model_tx, model_rx) = mpsc::unbounded_channel();
        let (internal_tx, internal_rx) = mpsc::unbounded_channel();
        let conn = Conn {
            services,
            info,
            out,
            auth: None,
            resources: HashMap::new(),
            by_model: HashMap::new(),
            opening: HashMap::new(),
            next_resource: 0,
            next_request: Arc::new(AtomicI32::new(0)),
            pending: Arc::new(Mutex::new(HashMap::new())),
            known_sessions: HashSet::new(),
            known_users: HashSet::new(),
            model_tx,
            internal_tx,
            last_in: Instant::now(),
            ping_sent: None,
            probes: Vec::new(),
            closing: false,
        };
        Connection {
            conn,
            model_rx,
            internal_rx,
            tick: tokio::time::interval(Duration::from_millis(500)),
            started: Instant::now(),
        }
    }

    /// Handles a binary frame from the client.
    pub async fn frame(&mut self, bytes: &[u8]) {
        self.conn.heard_from_client();
        self.conn.handle_frame(bytes).await;
    }

    /// Notes a sign of life from the client that carries no frame (a WebSocket ping or pong).
    pub fn activity(&mut self) {
        self.conn.heard_from_client();
    }

    /// Waits for the next model event, background result or heartbeat tick. Cancel safe: a
    /// wakeup that is not returned is not lost.
    pub async fn wakeup(&mut self) -> Wakeup {
        tokio::select! {
            Some(event) = self.model_rx.recv() => Wakeup(WakeupKind::Model(event)),
            Some(internal) = self.internal_rx.recv() => Wakeup(WakeupKind::Internal(internal)),
            _ = self.tick.tick() => Wakeup(WakeupKind::Tick),
        }
    }

    /// Handles what [`Connection::wakeup`] returned, with the model events already queued
    /// behind it (up to a batch), so their frames go out together.
    pub fn handle(&mut self, wakeup: Wakeup) {
        match wakeup.0 {
            WakeupKind::Model(event) => {
                self.conn.handle_model_event(event);
                for _ in 1..EVENTS_PER_WAKEUP {
                    match self.model_rx.try_recv() {
                        Ok(event) => self.conn.handle_model_event(event),
                        Err(_) => break,
                    }
                }
            }
            WakeupKind::Internal(internal) => {
                // Anything the models sent before this result was produced goes out first.
                while let Ok(event) = self.model_rx.try_recv() {
                    self.conn.handle_model_event(event);
                }
                self.conn.handle_internal(internal);
            }
            WakeupKind::Tick => {
                let conn = &mut self.conn;
                let cfg = &conn.services.config;
                if conn.auth.is_none() && self.started.elapsed() > cfg.handshake_timeout {
                    conn.close(close::HANDSHAKE_TIMEOUT, "no connection request");
                } else if let Some(sent) = conn.ping_sent {
                    if sent.elapsed() > cfg.pong_timeout {
                        conn.close(close::HEARTBEAT_TIMEOUT, "heartbeat pong timeout");
                    }
                } else if conn.last_in.elapsed() > cfg.ping_interval {
                    conn.ping_sent = Some(Instant::now());
                    conn.send(codec::normal(Body::Ping(pc::PingMessage {})));
                }
            }
        }
    }

    /// True once the protocol asked to close the connection (the close is in `out`).
    pub fn is_closing(&self) -> bool {
        self.conn.closing
    }

    /// Model events waiting to be turned into frames: with the frames waiting in `out`, what a
    /// slow reader has let pile up.
    pub fn backlog(&self) -> usize {
        self.model_rx.len()
    }

    /// Ends the connection: closes its models and announces the session's departure.
    pub fn shutdown(mut self) {
        self.conn.shutdown();
    }

    /// The session id once logged in.
    pub fn session_id(&self) -> Option<&str> {
        self.conn.auth.as_ref().map(|a| a.session.session.as_str())
    }
}

/// Runs one connection fed through channels until the socket closes or the protocol closes
/// it (a transport that does not drive a [`Connection`] itself).
pub async fn run_connection(
    services: Arc<Services>,
    info: ConnectionInfo,
    mut incoming: mpsc::Receiver<Incoming>,
    out: mpsc::UnboundedSender<Outgoing>,
) {
    let mut conn = Connection::new(services, info, out);
    while !conn.is_closing() {
        tokio::select! {
            frame = incoming.recv() => match frame {
                Some(Incoming::Binary(bytes)) => conn.frame(&bytes).await,
                Some(Incoming::Activity) => conn.activity(),
                Some(Incoming::Closed) | None => break,
            },
            wakeup = conn.wakeup() => conn.handle(wakeup),
        }
    }
    conn.shutdown();
}

impl Conn {
    fn heard_from_client(&mut self) {
        self.last_in = Instant::now();
        self.ping_sent = None;
        for probe in self.probes.drain(..) {
            let _ = probe.send(());
        }
    }

    fn send(&self, msg: Envelope) {
        let _ = self.out.send(Outgoing::Frame(codec::encode(&msg)));
    }

    fn reply(&self, request_id: i32, body: Body) {
        self.send(codec::response(request_id, body));
    }

    fn close(&mut self, code: u16, reason: &str) {
        debug!(code, reason, "closing connection");
        let _ = self.out.send(Outgoing::Close {
            code,
            reason: reason.to_string(),
        });
        self.closing = true;
    }

    fn shutdown(&mut self) {
        for (_, r) in self.resources.drain() {
            r.handle.close_now();
        }
        if let Some(a) = self.auth.take() {
            self.services.sessions.remove(&a.session.session);
            self.services.bus.publish(EngineEvent::UserDisconnected {
                domain: a.domain,
                session: a.session.session,
                user: a.session.user,
            });
        }
    }

    async fn handle_frame(&mut self, bytes: &[u8]) {
        let msg = match codec::decode(bytes) {
            Ok(m) => m,
            Err(codec::CodecError::NoBody {
                request_id: Some(id),
                ..
            }) if self.auth.is_some() => {
                self.reply(id, error_body("not_supported", "unknown message"));
                return;
            }
            Err(e) => {
                warn!(error = %e, "undecodable frame");
                self.close(close::PROTOCOL_ERROR, "undecodable frame");
                return;
            }
        };
        let class = match codec::check_ids(&msg) {
            Ok(c) => c,
            Err(e) => {
                warn!(error = %e, "ids do not fit the message");
                self.close(
                    close::PROTOCOL_ERROR,
                    "request/response ids do not fit the message",
                );
                return;
            }
        };
        let Some(body) = msg.body else { return };
        match body {
            Body::Ping(_) => {
                self.send(codec::normal(Body::Pong(pc::PongMessage {})));
                return;
            }
            Body::Pong(_) => return,
            _ => {}
        }
        if self.auth.is_none() {
            match (body, msg.request_id) {
                (Body::ConnectionRequest(req), Some(id)) => self.connect(id, req).await,
                _ => self.close(
                    close::PROTOCOL_ERROR,
                    "the first message must be a connection request",
                ),
            }
            return;
        }
        match class {
            MessageClass::Request => {
                let id = msg.request_id.unwrap_or(0);
                self.handle_request(id, body).await;
            }
            MessageClass::Response | MessageClass::ResponseOrNormal => {
                if let Some(id) = msg.response_id {
                    let waiter = self.pending.lock().ok().and_then(|mut p| p.remove(&id));
                    if let Some(w) = waiter {
                        let _ = w.send(codec::response(id, body));
                    }
                }
            }
            MessageClass::Normal => self.handle_normal(body),
        }
    }

    async fn connect(&mut self, request_id: i32, req: pc::ConnectionRequestMessage) {
        use pc::connection_request_message::Auth;
        use pc::connection_response_message::{Response, ServerData};
        let domain = DomainKey::new(&self.info.namespace, &self.info.domain);
        let credentials = match req.auth {
            Some(Auth::Password(p)) => Credentials::Password {
                username: p.username,
                password: p.password,
            },
            Some(Auth::Jwt(j)) => Credentials::Jwt(j.jwt),
            Some(Auth::Anonymous(a)) => Credentials::Anonymous {
                display_name: a.display_name,
            },
            Some(Auth::Reconnect(r)) => Credentials::Reconnect(r.token),
            None => {
                self.fail_connect(
                    request_id,
                    "invalid_auth_method",
                    "no authentication method",
                    false,
                );
                return;
            }
        };
        let server = Some(ServerData {
            version: self.services.config.server_version.clone(),
        });
        let session = format!(
            "{}-{}",
            self.services.clock.now_ms(),
            &self.services.ids.uuid()[..8]
        );
        match self
            .services
            .auth
            .authenticate_from(&domain, credentials, &session, self.info.client_ip)
            .await
        {
            Ok(a) => {
                let user = a.user;
                let limit = self.services.config.limits.max_connections_per_user;
                let open =
                    self.services
                        .sessions
                        .count_for(&domain, user.user_type, &user.username);
                if SessionLimits::full(limit, open) {
                    warn!(user = %user.username, open, "login refused: too many connections for one user");
                    self.fail_connect(
                        request_id,
                        "too_many_connections",
                        &format!("this user already has {open} connections (at most {limit})"),
                        false,
                    );
                    return;
                }
                let info = SessionInfo {
                    session: session.clone(),
                    user: user_key(user.user_type, &user.username),
                };
                self.services.sessions.insert(
                    &session,
                    SessionUser {
                        user: user.clone(),
                        domain: domain.clone(),
                    },
                    self.internal_tx.clone(),
                );
                self.known_users
                    .insert((user.user_type, user.username.clone()));
                self.known_sessions.insert(session.clone());
                info!(session = %session, user = %info.user, client = %req.client_version, "connected");
                let body = Body::ConnectionResponse(pc::ConnectionResponseMessage {
                    server,
                    response: Some(Response::Success(
                        pc::connection_response_message::ConnectionSuccessData {
                            namespace: domain.namespace.clone(),
                            domain_id: domain.id.clone(),
                            user: Some(user_data(&user)),
                            session_id: session.clone(),
                            reconnect_token: a.reconnect_token,
                            presence_state: BTreeMap::new(),
                        },
                    )),
                });
                self.reply(request_id, body);
                self.services.bus.publish(EngineEvent::UserConnected {
                    domain: domain.clone(),
                    session: session.clone(),
                    user: info.user.clone(),
                });
                self.auth = Some(Authenticated {
                    domain,
                    session: info,
                    earlier_sessions: a.earlier_sessions,
                });
            }
            Err(e) => {
                debug!(error = %e, "authentication failed");
                self.fail_connect(request_id, e.wire_code(), &e.to_string(), e.retry_ok());
            }
        }
    }

    fn fail_connect(&mut self, request_id: i32, code: &str, details: &str, retry_ok: bool) {
        use pc::connection_response_message::{ConnectionFailureData, Response, ServerData};
        self.reply(
            request_id,
            Body::ConnectionResponse(pc::ConnectionResponseMessage {
                server: Some(ServerData {
                    version: self.services.config.server_version.clone(),
                }),
                response: Some(Response::Failure(ConnectionFailureData {
                    code: code.to_string(),
                    details: details.to_string(),
                    retry_ok,
                })),
            }),
        );
        self.close(close::NORMAL, "authentication failed");
    }

    fn domain(&self) -> DomainKey {
        self.auth
            .as_ref()
            .map(|a| a.domain.clone())
            .unwrap_or_else(|| DomainKey::new("", ""))
    }

    fn session(&self) -> SessionInfo {
        self.auth
            .as_ref()
            .map(|a| a.session.clone())
            .unwrap_or(SessionInfo {
                session: String::new(),
                user: String::new(),
            })
    }

    /// Sends an identity update for sessions/users the client has not been told about yet.
    fn ensure_identity<'a>(&mut self, sessions: impl IntoIterator<Item = (&'a str, &'a str)>) {
        let mut update = pi::IdentityCacheUpdateMessage::default();
        for (session, user) in sessions {
            if self.known_sessions.contains(session) {
                continue;
            }
            let (user_type, username) = parse_user_key(user);
            if !self.known_users.contains(&(user_type, username.clone())) {
                let record = self
                    .services
                    .sessions
                    .get(session)
                    .map(|s| s.user)
                    .or_else(|| {
                        self.services
                            .auth
                            .user(&self.domain(), user_type, &username)
                            .ok()
                            .flatten()
                    })
                    .unwrap_or_else(|| UserRecord::placeholder(user_type, &username));
                update.users.push(user_data(&record));
                self.known_users.insert((user_type, username.clone()));
            }
            update.sessions.insert(
                session.to_string(),
                convert::user_id(wire_type(user_type), &username),
            );
            self.known_sessions.insert(session.to_string());
        }
        if !update.sessions.is_empty() || !update.users.is_empty() {
            self.send(codec::normal(Body::IdentityCacheUpdate(update)));
        }
    }

    /// Session ids with their users, for identity updates.
    fn session_users(&self, sessions: &[String]) -> Vec<(String, String)> {
        sessions
            .iter()
            .map(|s| {
                let user = self
                    .services
                    .sessions
                    .get(s)
                    .map(|u| user_key(u.user.user_type, &u.user.username))
                    .unwrap_or_else(|| crate::api::HOST_USER.to_string());
                (s.clone(), user)
            })
            .collect()
    }

    async fn handle_request(&mut self, id: i32, body: Body) {
        match body {
            Body::ServerTimeRequest(_) => self.reply(
                id,
                Body::ServerTimeResponse(pc::GetServerTimeResponseMessage {
                    server_time: Some(timestamp(self.services.clock.now_ms())),
                }),
            ),
            Body::PresenceSubscribeRequest(r) => {
                let presences = self.presences(&r.users);
                self.reply(
                    id,
                    Body::PresenceSubscribeResponse(pp::SubscribePresenceResponseMessage {
                        user_presences: presences,
                    }),
                );
            }
            Body::PresenceRequest(r) => {
                let presences = self.presences(&r.users);
                self.reply(
                    id,
                    Body::PresenceResponse(pp::PresenceResponseMessage {
                        user_presences: presences,
                    }),
                );
            }
            Body::UsersGetRequest(r) => {
                let domain = self.domain();
                let mut users = Vec::new();
                let mut seen = HashSet::new();
                for uid in r.user_ids {
                    let t = type_from_wire(uid.user_type);
                    if !seen.insert((uid.user_type, uid.username.clone())) {
                        continue;
                    }
                    if let Ok(Some(u)) = self.services.auth.user(&domain, t, &uid.username) {
                        users.push(user_data(&u));
                    }
                }
                self.reply(
                    id,
                    Body::UserListResponse(pi::UserListMessage { user_data: users }),
                );
            }
            Body::OpenRealTimeModelRequest(r) => self.open(id, r),
            Body::ModelResyncRequest(r) => self.resync(id, r),
            Body::CloseRealTimeModelRequest(r) => {
                let Some(res) = self.resources.get(&r.resource_id) else {
                    self.reply(
                        id,
                        error_body("model_not_open", "no model with that resource id"),
                    );
                    return;
                };
                let handle = res.handle.clone();
                let tx = self.internal_tx.clone();
                let resource = r.resource_id;
                tokio::spawn(async move {
                    let _ = handle.close().await;
                    let _ = tx.send(Internal::Closed {
                        request_id: id,
                        resource,
                    });
                });
            }
            Body::CreateRealTimeModelRequest(r) => self.create(id, r).await,
            Body::DeleteRealtimeModelRequest(r) => {
                let domain = self.domain();
                let models = self.services.models.clone();
                let tx = self.internal_tx.clone();
                tokio::spawn(async move {
                    let body = match models.delete_model(&domain, &r.model_id).await {
                        Ok(()) => Body::DeleteRealtimeModelResponse(
                            pm::DeleteRealtimeModelResponseMessage {},
                        ),
                        Err(e) => error_body(model_error_code(&e), e.to_string()),
                    };
                    let _ = tx.send(Internal::Reply(codec::response(id, body)));
                });
            }
            Body::GetModelPermissionsRequest(r) => {
                match self.services.models.model_info(&self.domain(), &r.model_id) {
                    Ok(_) => self.reply(
                        id,
                        Body::GetModelPermissionsResponse(pm::GetModelPermissionsResponseMessage {
                            overrides_collection: false,
                            world_permissions: Some(all_permissions()),
                            user_permissions: Vec::new(),
                        }),
                    ),
                    Err(e) => self.reply(id, error_body(model_error_code(&e), e.to_string())),
                }
            }
            Body::HistoricalDataRequest(r) => {
                let domain = self.domain();
                let models = self.services.models.clone();
                let tx = self.internal_tx.clone();
                tokio::spawn(async move {
                    let body = match models.read(&domain, &r.model_id).await {
                        Ok(d) => Body::HistoricalDataResponse(pm::HistoricalDataResponseMessage {
                            collection_id: d.collection.clone(),
                            data: Some(convert::object_to_wire(&d.data)),
                            version: d.version as i64,
                            created_time: Some(timestamp(d.created_ms)),
                            modified_time: Some(timestamp(d.modified_ms)),
                        }),
                        Err(e) => error_body(model_error_code(&e), e.to_string()),
                    };
                    let _ = tx.send(Internal::Reply(codec::response(id, body)));
                });
            }
            Body::HistoricalOperationsRequest(r) => {
                let first = r.first.max(0) as u64;
                let last = r.last.max(0) as u64;
                match self
                    .services
                    .models
                    .operations(&self.domain(), &r.model_id, first, last)
                {
                    Ok(ops) => {
                        let pairs: Vec<(std::sync::Arc<str>, std::sync::Arc<str>)> = ops
                            .iter()
                            .map(|o| (o.session.clone(), o.user.clone()))
                            .collect();
                        self.ensure_identity(pairs.iter().map(|(s, u)| (&**s, &**u)));
                        let operations = ops
                            .iter()
                            .map(|o| {
                                pm::historical_operations_response_message::ModelOperationData {
                                    model_id: r.model_id.clone(),
                                    version: o.version as i64,
                                    timestamp: Some(timestamp(o.timestamp_ms)),
                                    session_id: o.session.to_string(),
                                    operation: Some(convert::applied_to_wire(&o.op)),
                                }
                            })
                            .collect();
                        self.reply(
                            id,
                            Body::HistoricalOperationsResponse(
                                pm::HistoricalOperationsResponseMessage { operations },
                            ),
                        );
                    }
                    Err(e) => self.reply(id, error_body(model_error_code(&e), e.to_string())),
                }
            }
            Body::ModelGetVersionAtTimeRequest(r) => {
                let time = r.target_time.as_ref().map(convert::millis).unwrap_or(0);
                match self
                    .services
                    .models
                    .version_at_time(&self.domain(), &r.model_id, time)
                {
                    Ok(v) => self.reply(
                        id,
                        Body::ModelGetVersionAtTimeResponse(
                            pm::ModelGetVersionAtTimeResponseMessage {
                                version_at_time: v as i64,
                            },
                        ),
                    ),
                    Err(e) => self.reply(id, error_body(model_error_code(&e), e.to_string())),
                }
            }
            other => {
                debug!(body = codec::body_name(&other), "request not supported yet");
                self.reply(
                    id,
                    error_body(
                        "not_supported",
                        format!(
                            "{} is not supported by this server yet",
                            codec::body_name(&other)
                        ),
                    ),
                );
            }
        }
    }

    fn presences(&self, users: &[pc::DomainUserIdData]) -> Vec<pp::UserPresenceData> {
        let domain = self.domain();
        users
            .iter()
            .map(|u| pp::UserPresenceData {
                user: Some(u.clone()),
                available: self.services.sessions.is_available(
                    &domain,
                    type_from_wire(u.user_type),
                    &u.username,
                ),
                state: BTreeMap::new(),
            })
            .collect()
    }

    /// Answers an open or resync of `model` that cannot be taken (already open or opening, or
    /// the connection holds its most models); true when it was refused.
    fn refuse_open(&mut self, id: i32, model: &str) -> bool {
        if self.by_model.contains_key(model) || self.opening.contains_key(model) {
            self.reply(
                id,
                error_body("model_already_open", "the model is already open"),
            );
            return true;
        }
        let limit = self.services.config.limits.max_models_per_connection;
        if SessionLimits::full(limit, self.resources.len() + self.opening.len()) {
            self.reply(
                id,
                error_body(
                    "too_many_open_models",
                    format!("this connection has {limit} models open, the most it may"),
                ),
            );
            return true;
        }
        false
    }

    fn open(&mut self, id: i32, r: pm::OpenRealtimeModelRequestMessage) {
        let model = match r.model_id.filter(|m| !m.is_empty()) {
            Some(m) => m,
            None if r.auto_create_id.is_some() => self.services.ids.uuid(),
            None => {
                self.reply(id, error_body("model_not_found", "no model id"));
                return;
            }
        };
        if self.refuse_open(id, &model) {
            return;
        }
        self.opening.insert(model.clone(), Vec::new());
        let services = self.services.clone();
        let domain = self.domain();
        let session = self.session();
        let sink = self.model_tx.clone();
        let tx = self.internal_tx.clone();
        let out = self.out.clone();
        let pending = self.pending.clone();
        let next_request = self.next_request.clone();
        let auto_create = r.auto_create_id;
        tokio::spawn(async move {
            let models = &services.models;
            let mut result = models
                .open(&domain, &model, session.clone(), sink.clone())
                .await;
            if let (Err(ModelError::NotFound(_)), Some(auto_id)) = (&result, auto_create) {
                result =
                    match request_creation_data(&services, &out, &pending, &next_request, auto_id)
                        .await
                    {
                        Err(e) => Err(ModelError::Invalid(e)),
                        Ok(data) => {
                            let auto = services
                                .domains
                                .get(&domain)
                                .map(|d| d.collection_auto_create)
                                .unwrap_or(false);
                            let root = match data.data.as_ref() {
                                Some(o) => convert::object_from_wire(o)
                                    .map_err(|e| ModelError::Invalid(e.to_string())),
                                None => Ok(crate::ot::Value::new(
                                    "@:0",
                                    crate::ot::Data::Object(BTreeMap::new()),
                                )),
                            };
                            match root {
                                Err(e) => Err(e),
                                Ok(root) => match models
                                    .create_model_from_value(
                                        &domain,
                                        &data.collection,
                                        Some(&model),
                                        root,
                                        auto,
                                    )
                                    .await
                                {
                                    Ok(_) | Err(ModelError::AlreadyExists(_)) => {
                                        models.open(&domain, &model, session, sink).await
                                    }
                                    Err(e) => Err(e),
                                },
                            }
                        }
                    };
            }
            let _ = tx.send(Internal::Opened {
                request_id: id,
                model,
                result: result.map_err(|e| {
                    let code = if matches!(e, ModelError::Invalid(_)) && auto_create.is_some() {
                        "data_request_failure"
                    } else {
                        model_error_code(&e)
                    };
                    (code.to_string(), e.to_string())
                }),
                resync: false,
            });
        });
    }

    fn resync(&mut self, id: i32, r: pm::ModelResyncRequestMessage) {
        let model = r.model_id;
        if self.refuse_open(id, &model) {
            return;
        }
        self.opening.insert(model.clone(), Vec::new());
        let services = self.services.clone();
        let domain = self.domain();
        let session = self.session();
        let sink = self.model_tx.clone();
        let tx = self.internal_tx.clone();
        let version = r.context_version.max(0) as u64;
        let candidates: Vec<String> = self
            .auth
            .as_ref()
            .map(|a| a.earlier_sessions.clone())
            .unwrap_or_default();
        let probe_timeout = self.services.config.liveness_probe_timeout;
        tokio::spawn(async move {
            // An earlier session of the token that still looks connected is either this
            // client's old connection, dead without the server having heard (a network
            // change), or another client sharing the token (a duplicated tab): only the
            // latter answers a ping.
            let mut earlier = Vec::with_capacity(candidates.len());
            for s in candidates {
                if services.sessions.get(&s).is_none()
                    || !services.sessions.is_alive(&s, probe_timeout).await
                {
                    earlier.push(s);
                }
            }
            let result = services
                .models
                .resync(&domain, &model, session, sink, version, earlier)
                .await
                .map_err(|e| (model_error_code(&e).to_string(), e.to_string()));
            let _ = tx.send(Internal::Opened {
                request_id: id,
                model,
                result,
                resync: true,
            });
        });
    }

    async fn create(&mut self, id: i32, r: pm::CreateRealtimeModelRequestMessage) {
        let Some(data) = r.data.as_ref() else {
            self.reply(id, error_body("invalid_message", "model data is required"));
            return;
        };
        let root = match convert::object_from_wire(data) {
            Ok(v) => v,
            Err(e) => {
                self.reply(id, error_body("invalid_model_creation_data", e.to_string()));
                return;
            }
        };
        let domain = self.domain();
        let auto = self
            .services
            .domains
            .get(&domain)
            .map(|d| d.collection_auto_create)
            .unwrap_or(false);
        let models = self.services.models.clone();
        let tx = self.internal_tx.clone();
        tokio::spawn(async move {
            let body = match models
                .create_model_from_value(
                    &domain,
                    &r.collection_id,
                    r.model_id.as_deref(),
                    root,
                    auto,
                )
                .await
            {
                Ok(info) => {
                    Body::CreateRealTimeModelResponse(pm::CreateRealtimeModelResponseMessage {
                        model_id: info.id,
                    })
                }
                Err(e) => error_body(model_error_code(&e), e.to_string()),
            };
            let _ = tx.send(Internal::Reply(codec::response(id, body)));
        });
    }

    fn handle_internal(&mut self, internal: Internal) {
        match internal {
            Internal::Reply(msg) => self.send(msg),
            Internal::Probe(reply) => {
                self.probes.push(reply);
                if self.ping_sent.is_none() {
                    self.ping_sent = Some(Instant::now());
                }
                self.send(codec::normal(Body::Ping(pc::PingMessage {})));
            }
            Internal::Close(code, reason) => self.close(code, reason),
            Internal::Closed {
                request_id,
                resource,
            } => {
                if let Some(r) = self.resources.remove(&resource) {
                    self.by_model.remove(&r.model);
                }
                self.reply(
                    request_id,
                    Body::CloseRealTimeModelResponse(pm::CloseRealTimeModelResponseMessage {}),
                );
            }
            Internal::Opened {
                request_id,
                model,
                result,
                resync,
            } => {
                let buffered = self.opening.remove(&model).unwrap_or_default();
                let opened = match result {
                    Ok(o) => o,
                    Err((code, message)) => {
                        self.reply(request_id, error_body(&code, message));
                        return;
                    }
                };
                if self.closing {
                    opened.handle.close_now();
                    return;
                }
                let resource = self.next_resource;
                self.next_resource += 1;
                let mut sessions = opened.sessions.clone();
                if !sessions.contains(&self.session().session) {
                    sessions.push(self.session().session);
                }
                let pairs = self.session_users(&sessions);
                self.ensure_identity(pairs.iter().map(|(s, u)| (s.as_str(), u.as_str())));
                let data = &opened.data;
                let mut held = None;
                if resync {
                    let replay_ids: Vec<(String, String)> = opened
                        .replay
                        .iter()
                        .map(|o| (o.session.clone(), o.user.clone()))
                        .collect();
                    self.ensure_identity(replay_ids.iter().map(|(s, u)| (s.as_str(), u.as_str())));
                    // The client counts a replayed operation of its own as the ack of its oldest
                    // unacknowledged one, but rc.12 builds that ack without the sequence number
                    // and then refuses it. So the replay stops before the first of its own: the
                    // client is told it caught up there, re-sends its unacknowledged operations,
                    // and only then gets the rest, its own ones as real acks.
                    let caught_up = opened.resync_version;
                    self.reply(
                        request_id,
                        Body::ModelResyncResponse(pm::ModelResyncResponseMessage {
                            resource_id: resource,
                            current_version: caught_up as i64,
                            permissions: Some(all_permissions()),
                        }),
                    );
                    let mut later = VecDeque::new();
                    for op in opened.replay {
                        if op.version <= caught_up {
                            self.send_replayed(resource, &op);
                        } else {
                            later.push_back(Held::Replayed(op));
                        }
                    }
                    if !later.is_empty() {
                        held = Some(later);
                    }
                } else {
                    let references =
                        self.references_to_wire(resource, &opened.references, &sessions);
                    self.reply(
                        request_id,
                        Body::OpenRealTimeModelResponse(pm::OpenRealtimeModelResponseMessage {
                            resource_id: resource,
                            model_id: model.clone(),
                            collection: data.collection.clone(),
                            value_id_prefix: opened.value_prefix.clone(),
                            version: data.version as i64,
                            created_time: Some(timestamp(data.created_ms)),
                            modified_time: Some(timestamp(data.modified_ms)),
                            data: Some(convert::object_to_wire(&data.data)),
                            connected_clients: sessions.clone(),
                            resyncing_clients: Vec::new(),
                            references,
                            permissions: Some(all_permissions()),
                        }),
                    );
                }
                self.by_model.insert(model.clone(), resource);
                self.resources.insert(
                    resource,
                    Resource {
                        model,
                        handle: opened.handle,
                        resyncing: resync,
                        sessions,
                        references: opened.references,
                        own_references: HashSet::new(),
                        held,
                    },
                );
                for event in buffered {
                    self.handle_model_event(event);
                }
            }
        }
    }

    fn references_to_wire(
        &self,
        _resource: i32,
        refs: &[SharedReference],
        sessions: &[String],
    ) -> Vec<pm::ReferenceData> {
        refs.iter()
            .filter(|r| sessions.contains(&r.session))
            .filter_map(|r| {
                Some(pm::ReferenceData {
                    session_id: r.session.clone(),
                    value_id: r.target.as_ref().map(|t| t.to_string()),
                    key: r.key.clone(),
                    reference: Some(convert::references_to_wire(r.values.as_ref()?)),
                })
            })
            .collect()
    }

    fn handle_normal(&mut self, body: Body) {
        match body {
            Body::OperationSubmission(s) => {
                self.release_held(s.resource_id);
                let Some(res) = self.resources.get(&s.resource_id) else {
                    self.unknown_resource(s.resource_id);
                    return;
                };
                let op = match s.operation.as_ref().map(convert::operation_from_wire) {
                    Some(Ok(op)) => op,
                    Some(Err(e)) => {
                        self.send(codec::normal(error_body(
                            "invalid_operation",
                            e.to_string(),
                        )));
                        return;
                    }
                    None => {
                        self.send(codec::normal(error_body(
                            "invalid_operation",
                            "missing operation",
                        )));
                        return;
                    }
                };
                crate::fault::check(&op, crate::fault::PANIC_IN_CONNECTION);
                let _ = res.handle.submit(
                    s.sequence_number.max(0) as u64,
                    s.context_version.max(0) as u64,
                    op,
                );
            }
            Body::ShareReference(m) => self.reference(
                m.resource_id,
                m.value_id,
                m.key,
                m.version,
                m.references,
                true,
            ),
            Body::SetReference(m) => self.reference(
                m.resource_id,
                m.value_id,
                m.key,
                m.version,
                m.references,
                false,
            ),
            Body::ClearReference(m) => self.reference_change(
                m.resource_id,
                m.value_id,
                m.key,
                0,
                ReferenceChange::Cleared,
            ),
            Body::UnshareReference(m) => self.reference_change(
                m.resource_id,
                m.value_id,
                m.key,
                0,
                ReferenceChange::Unshared,
            ),
            Body::ModelResyncClientComplete(m) => {
                self.release_held(m.resource_id);
                let Some(res) = self.resources.get_mut(&m.resource_id) else {
                    self.unknown_resource(m.resource_id);
                    return;
                };
                res.resyncing = false;
                if !m.open {
                    let r = self.resources.remove(&m.resource_id);
                    if let Some(r) = r {
                        self.by_model.remove(&r.model);
                        r.handle.close_now();
                    }
                    self.send(codec::normal(Body::ModelResyncServerComplete(
                        pm::ModelResyncServerCompleteMessage {
                            resource_id: m.resource_id,
                            ..Default::default()
                        },
                    )));
                    return;
                }
                let sessions = res.sessions.clone();
                let refs = res.references.clone();
                let references = self.references_to_wire(m.resource_id, &refs, &sessions);
                self.send(codec::normal(Body::ModelResyncServerComplete(
                    pm::ModelResyncServerCompleteMessage {
                        resource_id: m.resource_id,
                        connected_clients: sessions,
                        resyncing_clients: Vec::new(),
                        references,
                    },
                )));
            }
            // Presence state changes and other one-way messages this server does not handle
            // yet are ignored (the client expects no answer).
            other => debug!(body = codec::body_name(&other), "normal message ignored"),
        }
    }

    /// Closes a resource on the server's initiative: the session leaves the model and the
    /// client is told with a force-close.
    fn drop_resource(&mut self, resource: i32, reason: ForceCloseReason, message: &str) {
        if let Some(r) = self.resources.remove(&resource) {
            self.by_model.remove(&r.model);
            r.handle.close_now();
        }
        self.send(codec::normal(Body::ForceCloseRealTimeModel(
            pm::ModelForceCloseMessage {
                resource_id: resource,
                reason: message.to_string(),
                reason_code: reason as i32,
            },
        )));
    }

    /// Sends a replayed operation: an ack when it is one of the client's own (it still waits
    /// for it), otherwise a remote operation.
    fn send_replayed(&mut self, resource: i32, op: &ReplayedOp) {
        let context_version = op.version.saturating_sub(1);
        if op.own {
            self.send(codec::normal(Body::OperationAck(
                pm::OperationAcknowledgementMessage {
                    resource_id: resource,
                    sequence_number: op.seq.unwrap_or_default() as i32,
                    version: context_version as i64,
                    timestamp: Some(timestamp(op.timestamp_ms)),
                },
            )));
        } else {
            self.send(codec::normal(Body::RemoteOperation(
                pm::RemoteOperationMessage {
                    resource_id: resource,
                    session_id: op.session.clone(),
                    context_version: context_version as i64,
                    timestamp: Some(timestamp(op.timestamp_ms)),
                    operation: Some(convert::operation_to_wire(&op.op)),
                },
            )));
        }
    }

    /// Sends what a resynchronising resource held back. Called on the client's first message
    /// for the resource after the resync response (a re-sent operation or the completion):
    /// the client sends it only once it has caught up, so it can take acks again.
    fn release_held(&mut self, resource: i32) {
        let Some(held) = self
            .resources
            .get_mut(&resource)
            .and_then(|r| r.held.take())
        else {
            return;
        };
        for item in held {
            match item {
                Held::Replayed(op) => self.send_replayed(resource, &op),
                Held::Event(event) => self.handle_model_event(event),
            }
        }
    }

    fn unknown_resource(&self, resource: i32) {
        let mut details = BTreeMap::new();
        details.insert(
            "resourceId".to_string(),
            prost_types::Value {
                kind: Some(prost_types::value::Kind::NumberValue(resource as f64)),
            },
        );
        self.send(codec::normal(Body::Error(pc::ErrorMessage {
            code: "unknown_resource_id".into(),
            message: format!("no model is open with resource id {resource}"),
            details,
        })));
    }

    fn reference(
        &mut self,
        resource: i32,
        value_id: Option<String>,
        key: String,
        version: i64,
        values: Option<pm::ReferenceValues>,
        share: bool,
    ) {
        let values = match values.as_ref().map(convert::references_from_wire) {
            Some(Ok(v)) => v,
            _ => {
                self.send(codec::normal(error_body(
                    "invalid_message",
                    "reference values missing",
                )));
                return;
            }
        };
        let change = if share {
            ReferenceChange::Shared(values)
        } else {
            ReferenceChange::Set(values)
        };
        self.reference_change(resource, value_id, key, version, change);
    }

    fn reference_change(
        &mut self,
        resource: i32,
        value_id: Option<String>,
        key: String,
        version: i64,
        change: ReferenceChange,
    ) {
        let limit = self.services.config.limits.max_references_per_model;
        let Some(res) = self.resources.get_mut(&resource) else {
            self.unknown_resource(resource);
            return;
        };
        let slot = (value_id.clone().unwrap_or_default(), key.clone());
        match change {
            ReferenceChange::Shared(_) | ReferenceChange::Set(_) => {
                if !res.own_references.contains(&slot) {
                    if SessionLimits::full(limit, res.own_references.len()) {
                        self.send(codec::normal(error_body(
                            "too_many_references",
                            format!("at most {limit} references per model and session"),
                        )));
                        return;
                    }
                    res.own_references.insert(slot);
                }
            }
            ReferenceChange::Unshared => {
                res.own_references.remove(&slot);
            }
            ReferenceChange::Cleared => {}
        }
        let Some(res) = self.resources.get(&resource) else {
            return;
        };
        // A present but empty valueId means a model-level reference.
        let target = value_id.filter(|v| !v.is_empty()).map(ValueId::new);
        let _ = res
            .handle
            .reference(version.max(0) as u64, target, key, change);
    }

    /// While a resource resynchronises, the client knows no collaborator: it forgot them all
    /// when it went offline and learns the current list from `modelResyncServerComplete`. A
    /// `remoteClientOpenedModel` in that window would be listed twice (and rc.12 then throws on
    /// the next close or disconnect), and a `remoteClientClosedModel` or reference event for
    /// a session it does not know makes rc.12 throw at once. So those events only update the
    /// lists sent with the completion. Returns true when the event was absorbed.
    fn hold_while_resyncing(&mut self, resource: i32, event: &ModelEvent) -> bool {
        let Some(r) = self.resources.get_mut(&resource) else {
            return false;
        };
        r.note_collaborators(event) && r.resyncing
    }

    fn handle_model_event(&mut self, event: ModelEvent) {
        let model = match &event {
            ModelEvent::Ack { model, .. }
            | ModelEvent::Remote { model, .. }
            | ModelEvent::RemoteOpened { model, .. }
            | ModelEvent::RemoteClosed { model, .. }
            | ModelEvent::Reference { model, .. }
            | ModelEvent::ForceClosed { model, .. } => model.clone(),
        };
        if let Some(buffer) = self.opening.get_mut(&*model) {
            buffer.push(event);
            return;
        }
        let Some(&resource) = self.by_model.get(&*model) else {
            return;
        };
        if self.hold_while_resyncing(resource, &event) {
            return;
        }
        if let Some(held) = self
            .resources
            .get_mut(&resource)
            .and_then(|r| r.held.as_mut())
        {
            if matches!(event, ModelEvent::Ack { .. } | ModelEvent::Remote { .. }) {
                held.push_back(Held::Event(event));
                if held.len() > MAX_HELD {
                    // A client that never finishes its resync must not grow this forever.
                    self.drop_resource(
                        resource,
                        ForceCloseReason::Unknown,
                        "the resynchronisation was not completed",
                    );
                }
                return;
            }
        }
        match event {
            ModelEvent::Ack {
                seq,
                version,
                timestamp_ms,
                count,
                ..
            } => {
                for i in 0..count {
                    self.send(codec::normal(Body::OperationAck(
                        pm::OperationAcknowledgementMessage {
                            resource_id: resource,
                            sequence_number: (seq + i) as i32,
                            version: (version + i) as i64,
                            timestamp: Some(timestamp(timestamp_ms)),
                        },
                    )));
                }
            }
            ModelEvent::Remote {
                session,
                user,
                context_version,
                timestamp_ms,
                op,
                encoded,
                ..
            } => {
                self.ensure_identity([(&*session, &*user)]);
                // Encoded once for all the model's sessions; only the resource id is ours.
                let shared = encoded.get_or_init(|| {
                    codec::remote_operation_shared(pm::RemoteOperationMessage {
                        resource_id: 0,
                        session_id: session.to_string(),
                        context_version: context_version as i64,
                        timestamp: Some(timestamp(timestamp_ms)),
                        operation: Some(convert::operation_to_wire(&op)),
                    })
                });
                let frame = codec::remote_operation_frame(resource, shared);
                let _ = self.out.send(Outgoing::Frame(frame));
            }
            ModelEvent::RemoteOpened { session, user, .. } => {
                self.ensure_identity([(session.as_str(), user.as_str())]);
                self.send(codec::normal(Body::RemoteClientOpenedModel(
                    pm::RemoteClientOpenedMessage {
                        resource_id: resource,
                        session_id: session,
                    },
                )));
            }
            ModelEvent::RemoteClosed { session, .. } => {
                self.send(codec::normal(Body::RemoteClientClosedModel(
                    pm::RemoteClientClosedMessage {
                        resource_id: resource,
                        session_id: session,
                    },
                )));
            }
            ModelEvent::Reference {
                session,
                target,
                key,
                change,
                ..
            } => {
                let value_id = target.map(|t| t.to_string());
                let body = match change {
                    ReferenceChange::Shared(v) => {
                        Body::ReferenceShared(pm::RemoteReferenceSharedMessage {
                            resource_id: resource,
                            value_id,
                            key,
                            references: Some(convert::references_to_wire(&v)),
                            session_id: session,
                        })
                    }
                    ReferenceChange::Set(v) => Body::ReferenceSet(pm::RemoteReferenceSetMessage {
                        resource_id: resource,
                        value_id,
                        key,
                        references: Some(convert::references_to_wire(&v)),
                        session_id: session,
                    }),
                    ReferenceChange::Cleared => {
                        Body::ReferenceCleared(pm::RemoteReferenceClearedMessage {
                            resource_id: resource,
                            value_id,
                            key,
                            session_id: session,
                        })
                    }
                    ReferenceChange::Unshared => {
                        Body::ReferenceUnshared(pm::RemoteReferenceUnsharedMessage {
                            resource_id: resource,
                            value_id,
                            key,
                            session_id: session,
                        })
                    }
                };
                self.send(codec::normal(body));
            }
            ModelEvent::ForceClosed {
                reason, message, ..
            } => self.drop_resource(resource, reason, &message),
        }
    }
}

/// Asks the client for a model's creation data (the auto-create exchange).
async fn request_creation_data(
    services: &Services,
    out: &mpsc::UnboundedSender<Outgoing>,
    pending: &Mutex<HashMap<i32, oneshot::Sender<Envelope>>>,
    next_request: &AtomicI32,
    auto_create_id: i32,
) -> Result<pm::AutoCreateModelConfigResponseMessage, String> {
    let id = next_request.fetch_add(1, Ordering::SeqCst);
    let (tx, rx) = oneshot::channel();
    if let Ok(mut p) = pending.lock() {
        p.insert(id, tx);
    }
    let msg = codec::request(
        id,
        Body::ModelAutoCreateConfigRequest(pm::AutoCreateModelConfigRequestMessage {
            auto_create_id,
        }),
    );
    let _ = out.send(Outgoing::Frame(codec::encode(&msg)));
    let answer = tokio::time::timeout(services.config.client_request_timeout, rx).await;
    if let Ok(mut p) = pending.lock() {
        p.remove(&id);
    }
    match answer {
        Ok(Ok(Envelope {
            body: Some(Body::ModelAutoCreateConfigResponse(data)),
            ..
        })) => Ok(data),
        Ok(Ok(_)) => Err("the client did not supply creation data".into()),
        Ok(Err(_)) => Err("the connection closed".into()),
        Err(_) => Err("the client did not answer the creation data request in time".into()),
    }
}
