//! One connection's protocol state machine: handshake and authentication, request/response
//! correlation, resource ids of open models, the identity cache the client needs before any
//! message naming a session, and translation between frames and service calls. No business
//! rules: those live in the services.
//!
//! This module holds the connection's own state machine (frames in, requests dispatched,
//! internal wake-ups); each area's requests are handled in a file of its own beside it:
//! `handshake`, `identity`, `models`, `permissions` (a model's), `references`, `history`,
//! `presence`, `activities`, `chat` and `generic_permissions` (a chat's or an activity's). A new area
//! adds a file there, not lines here.

mod activities;
mod chat;
mod generic_permissions;
mod handshake;
mod heartbeat;
mod history;
mod identity;
mod known;
mod models;
mod offline;
mod open_barrier;
mod permissions;
mod presence;
mod query;
mod references;

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
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
use crate::auth::Credentials;
use crate::model::{
    EngineEvent, ForceCloseReason, ModelError, ModelEvent, OpenedModel, ReferenceChange,
    ReplayedOp, SessionInfo, SessionModel, SharedReference,
};
use crate::ot::ValueId;
use crate::perm::{Actor, ModelRights};
use crate::session::{Services, SessionLink, SessionUser, UserId};
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
    /// An operator disconnected the session (the client reconnects with a new one).
    pub const DISCONNECTED: u16 = 4003;
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

/// Protocol timing.
#[derive(Clone, Debug)]
pub struct ProtocolConfig {
    /// Close if no connection request arrives within this time.
    pub handshake_timeout: Duration,
    /// Send a ping after this much incoming silence.
    pub ping_interval: Duration,
    /// Close if nothing arrives this long after a ping (plus the grace below).
    pub pong_timeout: Duration,
    /// Extra time a ping's answer may take per frame queued ahead of it that the client has
    /// not provably read yet (a busy client reads the ping only after its backlog).
    pub pong_grace_per_frame: Duration,
    /// The most extra time a ping's answer gets for the frames ahead of it.
    pub pong_grace_max: Duration,
    /// How long the client may take to answer a server request (auto-create data).
    pub client_request_timeout: Duration,
    /// When a reconnecting client resyncs while one of its earlier sessions still looks
    /// connected, how long that session has to show a sign of life before it is taken for a
    /// dead connection (closed, and its operations counted as the reconnecting client's own).
    pub liveness_probe_timeout: Duration,
    /// How often the models a client keeps offline are checked for changes (0: only when
    /// subscribed).
    pub offline_sync_interval: Duration,
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
            pong_grace_per_frame: heartbeat::DEFAULT_GRACE_PER_FRAME,
            pong_grace_max: heartbeat::DEFAULT_GRACE_MAX,
            client_request_timeout: Duration::from_secs(15),
            liveness_probe_timeout: Duration::from_secs(2),
            offline_sync_interval: Duration::from_secs(300),
            limits: SessionLimits::default(),
            server_version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// A connection as the session registry reaches it.
struct ConnLink(mpsc::UnboundedSender<Internal>);

impl SessionLink for ConnLink {
    fn probe(&self, reply: oneshot::Sender<()>) -> bool {
        self.0.send(Internal::Probe(reply)).is_ok()
    }

    fn close_silent(&self, reason: &'static str) {
        let _ = self
            .0
            .send(Internal::Close(close::HEARTBEAT_TIMEOUT, reason));
    }

    fn disconnect(&self) {
        let _ = self.0.send(Internal::Close(
            close::DISCONNECTED,
            "disconnected by an operator",
        ));
    }
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

fn rights_to_wire(r: ModelRights) -> pm::ModelPermissionsData {
    pm::ModelPermissionsData {
        read: r.read,
        write: r.write,
        remove: r.remove,
        manage: r.manage,
    }
}

fn rights_from_wire(r: &pm::ModelPermissionsData) -> ModelRights {
    ModelRights {
        read: r.read,
        write: r.write,
        remove: r.remove,
        manage: r.manage,
    }
}

fn error_with_detail(code: &str, message: &str, key: &str, value: &str) -> Body {
    let mut details = BTreeMap::new();
    details.insert(
        key.to_string(),
        prost_types::Value {
            kind: Some(prost_types::value::Kind::StringValue(value.to_string())),
        },
    );
    Body::Error(pc::ErrorMessage {
        code: code.to_string(),
        message: message.to_string(),
        details,
    })
}

fn error_body(code: &str, message: impl Into<String>) -> Body {
    Body::Error(pc::ErrorMessage {
        code: code.to_string(),
        message: message.into(),
        details: BTreeMap::new(),
    })
}

/// The error a failed model request answers: a missing (or unreadable) model carries its id
/// in the details, as the protocol has it.
fn model_error_body(e: &ModelError) -> Body {
    match e {
        ModelError::NotFound(id) => error_with_detail("model_not_found", &e.to_string(), "id", id),
        ModelError::Query { index, .. } => {
            error_with_detail("invalid_query", &e.to_string(), "index", &index.to_string())
        }
        _ => error_body(model_error_code(e), e.to_string()),
    }
}

fn model_error_code(e: &ModelError) -> &'static str {
    match e {
        ModelError::NotFound(_) => "model_not_found",
        ModelError::AlreadyExists(_) => "model_already_exists",
        ModelError::CollectionNotFound(_) => "collection_does_not_exist",
        ModelError::AlreadyOpen(_) => "model_already_open",
        ModelError::NotOpen(_) => "model_not_open",
        ModelError::Unauthorized(_) => "unauthorized",
        ModelError::GranteeNotFound(_) => "user_not_found",
        ModelError::QueryBudget(_) => "query_budget_exceeded",
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
    /// An activity join was answered.
    ActivityJoined {
        id: i32,
        key: crate::activity::ActivityKey,
        result: Result<crate::activity::Joined, crate::activity::ActivityError>,
    },
    /// An activity's participants were answered.
    ActivityParticipants {
        id: i32,
        result: Result<Vec<crate::activity::Participant>, crate::activity::ActivityError>,
    },
    /// A chat request was answered.
    Chat(Box<chat::ChatAnswer>),
    /// One offline model was checked.
    Offline(Box<offline::Checked>),
    /// A check of offline models ended.
    OfflineDone,
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
    /// For a model just opened: its events, held until the client has taken in the open
    /// response (see [`open_barrier`]).
    barrier: Option<open_barrier::OpenBarrier>,
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
    config: Arc<ProtocolConfig>,
    info: ConnectionInfo,
    out: mpsc::UnboundedSender<Outgoing>,
    auth: Option<Authenticated>,
    resources: HashMap<i32, Resource>,
    by_model: HashMap<String, i32>,
    opening: HashMap<String, Vec<ModelEvent>>,
    next_resource: i32,
    next_request: Arc<AtomicI32>,
    pending: Arc<Mutex<HashMap<i32, oneshot::Sender<Envelope>>>>,
    known_sessions: known::Known,
    known_users: known::Known,
    model_tx: mpsc::UnboundedSender<ModelEvent>,
    internal_tx: mpsc::UnboundedSender<Internal>,
    presence_tx: crate::presence::PresenceSink,
    heartbeat: heartbeat::Heartbeat,
    /// Frames queued for the client so far (written by this task only).
    queued: AtomicU64,
    /// Resources whose events wait behind an open barrier, oldest first (may name closed ones).
    barriers: Vec<i32>,
    probes: Vec<oneshot::Sender<()>>,
    closing: bool,
    /// Joined activities by resource id.
    activities: HashMap<i32, activities::JoinedActivity>,
    /// Resource ids of joined activities by (type, id).
    by_activity: HashMap<(String, String), i32>,
    /// Activities being joined, with the events that arrived meanwhile.
    activity_joining: HashMap<(String, String), Vec<crate::activity::ActivityEvent>>,
    activity_tx: crate::activity::ActivitySink,
    /// Where this session's chat pushes arrive.
    chat_tx: crate::chat::ChatSink,
    /// Rooms this session has joined (left when the connection ends).
    chat_rooms: HashSet<String>,
    /// Queries running for this connection (each decrements it when it answers).
    queries: Arc<std::sync::atomic::AtomicUsize>,
    /// Models the client keeps in offline storage.
    offline: offline::Offline,
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
    presence_rx: mpsc::UnboundedReceiver<crate::presence::PresenceEvent>,
    activity_rx: mpsc::UnboundedReceiver<crate::activity::ActivityDelivery>,
    chat_rx: mpsc::UnboundedReceiver<crate::chat::ChatDelivery>,
    tick: tokio::time::Interval,
    started: Instant,
}

/// Something a [`Connection`] was woken for, to pass to [`Connection::handle`].
pub struct Wakeup(WakeupKind);

enum WakeupKind {
    Model(ModelEvent),
    Internal(Internal),
    Presence(crate::presence::PresenceEvent),
    Activity(crate::activity::ActivityDelivery),
    Chat(crate::chat::ChatDelivery),
    Tick,
}

impl Connection {
    /// A connection that has not yet received its handshake.
    pub fn new(
        services: Arc<Services>,
        config: Arc<ProtocolConfig>,
        info: ConnectionInfo,
        out: mpsc::UnboundedSender<Outgoing>,
    ) -> Self {
        let (model_tx, model_rx) = mpsc::unbounded_channel();
        let (internal_tx, internal_rx) = mpsc::unbounded_channel();
        let (presence_tx, presence_rx) = mpsc::unbounded_channel();
        let (activity_tx, activity_rx) = mpsc::unbounded_channel();
        let (chat_tx, chat_rx) = mpsc::unbounded_channel();
        let conn = Conn {
            services,
            config,
            info,
            out,
            auth: None,
            resources: HashMap::new(),
            by_model: HashMap::new(),
            opening: HashMap::new(),
            next_resource: 0,
            next_request: Arc::new(AtomicI32::new(0)),
            pending: Arc::new(Mutex::new(HashMap::new())),
            known_sessions: known::Known::default(),
            known_users: known::Known::default(),
            model_tx,
            internal_tx,
            presence_tx,
            heartbeat: heartbeat::Heartbeat::new(Instant::now()),
            queued: AtomicU64::new(0),
            barriers: Vec::new(),
            probes: Vec::new(),
            closing: false,
            activities: HashMap::new(),
            by_activity: HashMap::new(),
            activity_joining: HashMap::new(),
            activity_tx,
            chat_tx,
            chat_rooms: HashSet::new(),
            queries: Arc::default(),
            offline: offline::Offline::default(),
        };
        Connection {
            conn,
            model_rx,
            internal_rx,
            presence_rx,
            activity_rx,
            chat_rx,
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
            Some(event) = self.presence_rx.recv() => Wakeup(WakeupKind::Presence(event)),
            Some(d) = self.activity_rx.recv() => Wakeup(WakeupKind::Activity(d)),
            Some(d) = self.chat_rx.recv() => Wakeup(WakeupKind::Chat(d)),
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
                // So do the activities' events (a join's answer follows those sent before it).
                while let Ok(d) = self.activity_rx.try_recv() {
                    self.conn.handle_activity_delivery(d);
                }
                // And the chats' (a join's answer follows the pushes sent before it).
                while let Ok(d) = self.chat_rx.try_recv() {
                    self.conn.handle_chat_delivery(d);
                }
                self.conn.handle_internal(internal);
            }
            WakeupKind::Presence(event) => self.conn.handle_presence_event(event),
            WakeupKind::Activity(d) => {
                self.conn.handle_activity_delivery(d);
                for _ in 1..EVENTS_PER_WAKEUP {
                    match self.activity_rx.try_recv() {
                        Ok(d) => self.conn.handle_activity_delivery(d),
                        Err(_) => break,
                    }
                }
            }
            WakeupKind::Chat(d) => {
                self.conn.handle_chat_delivery(d);
                for _ in 1..EVENTS_PER_WAKEUP {
                    match self.chat_rx.try_recv() {
                        Ok(d) => self.conn.handle_chat_delivery(d),
                        Err(_) => break,
                    }
                }
            }
            WakeupKind::Tick => {
                let conn = &mut self.conn;
                let cfg = &conn.config;
                if conn.auth.is_none() && self.started.elapsed() > cfg.handshake_timeout {
                    conn.close(close::HANDSHAKE_TIMEOUT, "no connection request");
                } else {
                    match conn.heartbeat.check(Instant::now(), cfg) {
                        heartbeat::Beat::Fine => {}
                        heartbeat::Beat::PingNow => conn.heartbeat_ping(),
                        heartbeat::Beat::Dead => {
                            conn.close(close::HEARTBEAT_TIMEOUT, "heartbeat pong timeout")
                        }
                    }
                }
                conn.lift_overdue_barriers();
                conn.lift_activity_barriers();
                if conn.auth.is_some() {
                    conn.offline_tick(Instant::now());
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

impl Conn {
    fn heard_from_client(&mut self) {
        self.heartbeat.heard(Instant::now());
        for probe in self.probes.drain(..) {
            let _ = probe.send(());
        }
    }

    fn send(&self, msg: Envelope) {
        self.send_frame(codec::encode(&msg));
    }

    /// Queues an encoded frame for the client, counted for the heartbeat.
    fn send_frame(&self, frame: Vec<u8>) {
        // Only this task writes the count, so a plain load and store suffice.
        let queued = self.queued.load(Ordering::Relaxed);
        self.queued.store(queued + 1, Ordering::Relaxed);
        let _ = self.out.send(Outgoing::Frame(frame));
    }

    /// Pings the client after its silence, with the pong deadline running.
    fn heartbeat_ping(&mut self) {
        let queued = self.queued.load(Ordering::Relaxed);
        self.heartbeat.arm(Instant::now(), queued, &self.config);
        self.send_ping();
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
        self.leave_activities();
        self.chat_disconnected();
        if let Some(a) = self.auth.take() {
            self.services.presence.leave(&a.domain, &a.session.session);
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
            Body::Pong(_) => {
                self.pong_received();
                return;
            }
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

    fn domain(&self) -> DomainKey {
        self.auth
            .as_ref()
            .map(|a| a.domain.clone())
            .unwrap_or_else(|| DomainKey::new("", ""))
    }

    /// Who the connection acts as (its logged-in user).
    fn actor(&self) -> Actor {
        Actor::User(UserId::from_key(&self.session().user))
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

    async fn handle_request(&mut self, id: i32, body: Body) {
        match body {
            Body::ServerTimeRequest(_) => self.reply(
                id,
                Body::ServerTimeResponse(pc::GetServerTimeResponseMessage {
                    server_time: Some(timestamp(self.services.clock.now_ms())),
                }),
            ),
            Body::PresenceSubscribeRequest(r) => self.presence_request(id, &r.users, true),
            Body::PresenceRequest(r) => self.presence_request(id, &r.users, false),
            Body::UsersGetRequest(r) => self.users_get(id, r),
            Body::UserSearchRequest(r) => self.user_search(id, r),
            Body::UserGroupsRequest(r) => self.user_groups(id, r),
            Body::UserGroupsForUsersRequest(r) => self.user_groups_for_users(id, r),
            Body::OpenRealTimeModelRequest(r) => self.open(id, r),
            Body::ModelResyncRequest(r) => self.resync(id, r),
            Body::CloseRealTimeModelRequest(r) => self.close_model(id, r),
            Body::CreateRealTimeModelRequest(r) => self.create(id, r).await,
            Body::DeleteRealtimeModelRequest(r) => self.delete_model(id, r),
            Body::GetModelPermissionsRequest(r) => self.model_permissions(id, r),
            Body::SetModelPermissionsRequest(r) => self.set_model_permissions(id, r),
            Body::ActivityCreateRequest(r) => self.activity_create(id, r),
            Body::ActivityDeleteRequest(r) => self.activity_delete(id, r),
            Body::ActivityJoinRequest(r) => self.activity_join(id, r),
            Body::ActivityLeaveRequest(r) => self.activity_leave(id, r),
            Body::ActivityParticipantsRequest(r) => self.activity_participants(id, r),
            Body::ResolvePermissionsForConnectedSessionRequest(r) => {
                self.resolve_permissions(id, r)
            }
            Body::GetPermissionsRequest(r) => self.get_permissions(id, r),
            body @ (Body::AddPermissionsRequest(_)
            | Body::RemovePermissionsRequest(_)
            | Body::SetPermissionsRequest(_)) => self.change_permissions(id, body),
            Body::HistoricalDataRequest(r) => self.historical_data(id, r),
            Body::HistoricalOperationsRequest(r) => self.historical_operations(id, r),
            Body::ModelGetVersionAtTimeRequest(r) => self.version_at_time(id, r),
            Body::ModelsQueryRequest(r) => self.models_query(id, r),
            Body::ModelOfflineSubscriptionChange(r) => self.offline_subscription(id, r),
            other => {
                let Some(other) = self.chat_request(id, other) else {
                    return;
                };
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

    fn handle_internal(&mut self, internal: Internal) {
        match internal {
            Internal::Reply(msg) => self.send(msg),
            Internal::Probe(reply) => {
                self.probes.push(reply);
                self.heartbeat_ping();
            }
            Internal::Close(code, reason) => self.close(code, reason),
            Internal::ActivityJoined { id, key, result } => self.activity_joined(id, key, result),
            Internal::ActivityParticipants { id, result } => {
                self.activity_participants_answered(id, result)
            }
            Internal::Chat(answer) => self.chat_answered(answer),
            Internal::Offline(checked) => self.offline_checked(*checked),
            Internal::OfflineDone => self.offline_done(),
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
                        let body = if code == "model_not_found" {
                            error_with_detail(&code, &message, "id", &model)
                        } else {
                            error_body(&code, message)
                        };
                        self.reply(request_id, body);
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
                let mut barrier = None;
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
                            permissions: Some(rights_to_wire(opened.rights)),
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
                            permissions: Some(rights_to_wire(opened.rights)),
                        }),
                    );
                    barrier = Some(self.open_barrier(resource));
                }
                self.offline_opened(&model);
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
                        barrier,
                    },
                );
                for event in buffered {
                    self.handle_model_event(event);
                }
            }
        }
    }

    fn handle_normal(&mut self, body: Body) {
        match body {
            Body::OperationSubmission(s) => {
                self.lift_barrier(s.resource_id);
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
            Body::ActivityUpdateState(m) => self.activity_update(m),
            body @ (Body::PresenceSetState(_)
            | Body::PresenceRemoveState(_)
            | Body::PresenceClearState(_)
            | Body::PresenceUnsubscribe(_)) => self.presence_change(body),
            other => debug!(body = codec::body_name(&other), "normal message ignored"),
        }
    }
}
