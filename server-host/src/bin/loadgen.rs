//! `tandem-loadgen`: a load generator that speaks the Convergence protocol itself.
//!
//! Each client connects anonymously, opens a model with auto-create (answering the server's
//! `modelAutoCreateConfigRequest`), then submits single-character string splices (inserts at
//! random valid positions, some deletes) keeping up to `--in-flight` operations unacknowledged.
//! It keeps the bookkeeping of the JavaScript client: a server-confirmed context version, and
//! the string's length, updated by its own operations (at once) and by remote operations after
//! transforming them against its in-flight operations with `tandem::ot::transform`. With
//! `--verify` it also keeps a full replica and checks at the end that every replica equals the
//! model the server serves to a fresh connection.
//!
//! For crash trials, `--ack-log FILE` records every acknowledged operation and
//! `--check-acks FILE` checks, after a restart, that each one is in its model exactly once
//! (see the `acks` module).
//!
//! It prints one line of figures: operations acknowledged in the measured window, ops/s, ack
//! latency (send to ack) p50/p99/max, the server's CPU use and resident memory (from `/proc`,
//! with `--server-pid` or `--spawn-server`) and the errors seen (force-closes, disconnects,
//! server errors). Benchmarks never fail a build: the exit status is non-zero only when the
//! run itself could not be made or a client saw an error.

use std::collections::{HashMap, VecDeque};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[path = "loadgen/acks.rs"]
mod acks;
#[path = "loadgen/activity.rs"]
mod activity;

use clap::{Parser, ValueEnum};
use futures_util::{SinkExt, StreamExt};
use tandem::ot::{transform_in_place, Data, DiscreteOp, JsString, OpKind, Operation, ValueId};
use tandem::protocol::codec::{self, decode, encode};
use tandem::protocol::convert;
use tandem::protocol::wire::proto::core as pc;
use tandem::protocol::wire::proto::model as pm;
use tandem::protocol::wire::{Body, ConvergenceMessage};
use tandem::testing::Rng;
use tokio::net::TcpStream as TokioTcpStream;
use tokio::sync::{watch, Barrier, Semaphore};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TokioTcpStream>>;

/// The key of the edited string in each model's root object.
const TEXT_KEY: &str = "text";
/// Connections being set up at once (keeps the listen backlog and the handshake burst sane).
const SETUP_CONCURRENCY: usize = 64;

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// Clients edit models (string splices).
    Edit,
    /// Clients join one activity and set their state at `--rate-per-client` (default 10/s).
    Activity,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum Models {
    /// Every client edits the same model.
    One,
    /// Each client edits a model of its own.
    PerClient,
}

/// Command line.
#[derive(Parser, Debug, Clone)]
#[command(
    name = "tandem-loadgen",
    version,
    about = "Load generator for a Tandem (Convergence protocol) server"
)]
struct Opts {
    /// WebSocket URL of the domain (default with --spawn-server: the spawned server's demo/default).
    #[arg(long)]
    url: Option<String>,
    /// What the clients do.
    #[arg(long, value_enum, default_value_t = Scenario::Edit)]
    scenario: Scenario,
    /// Number of client connections.
    #[arg(long, default_value_t = 1)]
    clients: usize,
    /// Whether the clients share one model or each edit their own.
    #[arg(long, value_enum, default_value_t = Models::One)]
    models: Models,
    /// Operations each client keeps unacknowledged.
    #[arg(long, default_value_t = 16)]
    in_flight: usize,
    /// Length of the measured window, in seconds.
    #[arg(long, default_value_t = 10.0)]
    duration_secs: f64,
    /// Size of the initial string of each model (ASCII, so bytes = UTF-16 units).
    #[arg(long, default_value_t = 1000)]
    initial_doc_bytes: usize,
    /// Open loop: each client submits at this fixed rate, in operations per second (0 = closed
    /// loop, as fast as acks allow). Operations fall due on a fixed schedule whatever the
    /// server does; one that falls due while `--in-flight` operations are unacknowledged waits,
    /// and its latency is then counted from the moment it fell due, so the wait is included.
    #[arg(long, default_value_t = 0.0)]
    rate_per_client: f64,
    /// Sample this process's CPU time and resident memory (`/proc/PID/{stat,status}`).
    #[arg(long)]
    server_pid: Option<u32>,
    /// Start `PATH serve` on a free port with a temporary data directory, measure it, stop it.
    #[arg(long, value_name = "PATH_TO_TANDEM")]
    spawn_server: Option<PathBuf>,
    /// A TOML configuration passed to the spawned server as `--config`.
    #[arg(long, requires = "spawn_server")]
    server_config: Option<PathBuf>,
    /// Keep a full replica per client and check every replica against the server's model.
    #[arg(long)]
    verify: bool,
    /// A name for this run, printed first on the figures line.
    #[arg(long, default_value = "run")]
    label: String,
    /// Seconds a client may take to connect and open its model.
    #[arg(long, default_value_t = 60.0)]
    setup_timeout_secs: f64,
    /// Seed of the operation generator (default: from the clock).
    #[arg(long)]
    seed: Option<u64>,
    /// Self-test of the error path: client 0 submits one out-of-range splice first, which the
    /// server must answer with a force-close that is reported as an error.
    #[arg(long, hide = true)]
    inject_invalid_op: bool,
    /// Crash trials: operations insert unique tokens (never delete), and each acknowledged one
    /// is recorded in this file as it is acknowledged.
    #[arg(long, value_name = "FILE")]
    ack_log: Option<PathBuf>,
    /// Crash trials: only check that every token recorded in this `--ack-log` file is in its
    /// model exactly once (waiting up to --setup-timeout-secs for the server), then exit.
    #[arg(long, value_name = "FILE", requires = "url")]
    check_acks: Option<PathBuf>,
}

// ---------------------------------------------------------------------------------------------
// Small helpers: random numbers, /proc sampling, the spawned server
// ---------------------------------------------------------------------------------------------

/// CPU time (user + system) and memory of a process.
#[derive(Clone, Copy, Debug, Default)]
struct ProcSample {
    cpu_secs: f64,
    rss_kb: u64,
    hwm_kb: u64,
}

fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|t| *t > 0.0)
        .unwrap_or(100.0)
}

fn sample_proc(pid: &str, ticks: f64) -> Option<ProcSample> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // fields[0] is field 3 (state); utime is field 14, stime field 15.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb = |key: &str| -> u64 {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    Some(ProcSample {
        cpu_secs: (utime + stime) / ticks,
        rss_kb: kb("VmRSS:"),
        hwm_kb: kb("VmHWM:"),
    })
}

/// A `tandem serve` started by the load generator; stopped (and its data removed) on drop.
struct SpawnedServer {
    child: Child,
    _dir: tempfile::TempDir,
    addr: SocketAddr,
}

impl SpawnedServer {
    fn start(path: &PathBuf, config: Option<&PathBuf>) -> Result<SpawnedServer, String> {
        let dir = tempfile::Builder::new()
            .prefix("tandem-loadgen-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary data directory: {e}"))?;
        // A free port: bind port 0, note it, release it for the server.
        let addr = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("cannot find a free port: {e}"))?;
        let log = std::fs::File::create(dir.path().join("server.log"))
            .map_err(|e| format!("cannot create the server log: {e}"))?;
        let log2 = log
            .try_clone()
            .map_err(|e| format!("cannot create the server log: {e}"))?;
        let mut cmd = std::process::Command::new(path);
        cmd.arg("serve")
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .arg("--listen")
            .arg(addr.to_string())
            .arg("--admin-password")
            .arg("loadgen-admin")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2);
        if let Some(c) = config {
            cmd.arg("--config").arg(c);
        }
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", path.display()))?;
        let mut server = SpawnedServer {
            child,
            _dir: dir,
            addr,
        };
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(server);
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                let log = std::fs::read_to_string(server._dir.path().join("server.log"))
                    .unwrap_or_default();
                return Err(format!("the server exited ({status}):\n{log}"));
            }
            if Instant::now() > until {
                return Err("the server did not listen within 30 s".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for SpawnedServer {
    fn drop(&mut self) {
        // Ask politely (SIGTERM: graceful shutdown), then insist.
        let _ = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let until = Instant::now() + Duration::from_secs(5);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// One client
// ---------------------------------------------------------------------------------------------

/// An operation sent and not yet acknowledged.
struct InFlight {
    seq: i32,
    /// Transformed against every remote operation received since it was sent, as the JS
    /// client's concurrency control does, so later remote operations transform correctly.
    op: Operation,
    sent: Instant,
    /// With `--ack-log`: the token the operation inserts.
    token: Option<String>,
}

/// A client with its model open.
struct Client {
    ws: Ws,
    resource: i32,
    string_id: ValueId,
    /// The server-confirmed version: acks and remote operations each add 1.
    context_version: i64,
    /// Length of the local string (UTF-16 units), own unacked operations included.
    len: i64,
    /// Full local copy (with `--verify`).
    replica: Option<Vec<u16>>,
    initial_len: i64,
    next_seq: i32,
    in_flight: VecDeque<InFlight>,
    window: usize,
    rng: Rng,
    /// With `--ack-log`: this client's number, model and the log of acknowledged tokens.
    acks: Option<(usize, String, Arc<acks::AckLog>)>,
}

/// What one client measured.
#[derive(Default)]
struct ClientReport {
    acked: u64,
    submitted: u64,
    remote: u64,
    latencies_us: Vec<u32>,
    errors: Vec<String>,
    model: String,
    replica: Option<Vec<u16>>,
}

/// Why a client stopped early.
fn err_kind(e: &str) -> &'static str {
    if e.starts_with("force-closed") {
        "force_close"
    } else if e.starts_with("disconnected") {
        "disconnect"
    } else if e.starts_with("server error") {
        "server_error"
    } else if e.starts_with("setup") {
        "setup"
    } else {
        "protocol"
    }
}

async fn send(ws: &mut Ws, msg: &ConvergenceMessage) -> Result<(), String> {
    ws.feed(Message::binary(encode(msg)))
        .await
        .map_err(|e| format!("disconnected: send failed: {e}"))
}

async fn flush(ws: &mut Ws) -> Result<(), String> {
    ws.flush()
        .await
        .map_err(|e| format!("disconnected: send failed: {e}"))
}

/// The next protocol message; answers protocol pings on the way.
async fn recv(ws: &mut Ws) -> Result<ConvergenceMessage, String> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Binary(bytes))) => {
                let msg = decode(&bytes).map_err(|e| format!("undecodable frame: {e}"))?;
                if let Some(Body::Ping(_)) = msg.body {
                    send(ws, &codec::normal(Body::Pong(pc::PongMessage {}))).await?;
                    flush(ws).await?;
                    continue;
                }
                return Ok(msg);
            }
            Some(Ok(Message::Close(frame))) => {
                return Err(match frame {
                    Some(f) => format!("disconnected: close {} {}", u16::from(f.code), f.reason),
                    None => "disconnected: close without code".into(),
                })
            }
            Some(Ok(Message::Text(_))) => return Err("server sent a text frame".into()),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(format!("disconnected: {e}")),
            None => return Err("disconnected: stream ended".into()),
        }
    }
}

/// Connects and authenticates anonymously as `name`; returns the socket and the session id.
async fn connect(url: &str, name: &str) -> Result<(Ws, String), String> {
    // tungstenite zero-fills its whole read buffer (128 KiB by default) before every read;
    // with small frames that memset would dominate the load generator's own CPU.
    let config = WebSocketConfig::default().read_buffer_size(8 * 1024);
    // No Nagle: operations are small frames that must leave at once.
    let (ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), true)
        .await
        .map_err(|e| format!("setup: connect {url}: {e}"))?;
    let mut ws = ws;
    let hello = codec::request(
        0,
        Body::ConnectionRequest(pc::ConnectionRequestMessage {
            client: "tandem-loadgen".into(),
            client_version: env!("CARGO_PKG_VERSION").into(),
            auth: Some(pc::connection_request_message::Auth::Anonymous(
                pc::connection_request_message::AnonymousAuthRequestData {
                    display_name: Some(name.into()),
                },
            )),
        }),
    );
    send(&mut ws, &hello).await?;
    flush(&mut ws).await?;
    loop {
        let msg = recv(&mut ws).await.map_err(|e| format!("setup: {e}"))?;
        match (msg.response_id, msg.body) {
            (Some(0), Some(Body::ConnectionResponse(r))) => match r.response {
                Some(pc::connection_response_message::Response::Success(ok)) => {
                    return Ok((ws, ok.session_id))
                }
                Some(pc::connection_response_message::Response::Failure(f)) => {
                    return Err(format!(
                        "setup: connection refused: {} {}",
                        f.code, f.details
                    ))
                }
                None => return Err("setup: empty connection response".into()),
            },
            (Some(0), Some(Body::Error(e))) => {
                return Err(format!("setup: connection error {}: {}", e.code, e.message))
            }
            _ => {}
        }
    }
}

/// Connects, authenticates anonymously and opens `model_id` with auto-create.
async fn connect_and_open(
    url: &str,
    model_id: &str,
    initial: &str,
    name: &str,
) -> Result<(Ws, pm::OpenRealtimeModelResponseMessage), String> {
    let (mut ws, _) = connect(url, name).await?;
    let open = codec::request(
        1,
        Body::OpenRealTimeModelRequest(pm::OpenRealtimeModelRequestMessage {
            model_id: Some(model_id.into()),
            auto_create_id: Some(0),
        }),
    );
    send(&mut ws, &open).await?;
    flush(&mut ws).await?;
    loop {
        let msg = recv(&mut ws).await.map_err(|e| format!("setup: {e}"))?;
        match (msg.request_id, msg.response_id, msg.body) {
            (Some(id), _, Some(Body::ModelAutoCreateConfigRequest(_))) => {
                let text = pm::DataValue {
                    value: Some(pm::data_value::Value::StringValue(pm::StringValue {
                        id: "@:1".into(),
                        value: initial.into(),
                    })),
                };
                let data = pm::ObjectValue {
                    id: "@:0".into(),
                    children: vec![pm::DataEntry {
                        key: TEXT_KEY.into(),
                        value: Some(text),
                    }],
                };
                let answer = codec::response(
                    id,
                    Body::ModelAutoCreateConfigResponse(pm::AutoCreateModelConfigResponseMessage {
                        collection: "loadgen".into(),
                        data: Some(data),
                        ..Default::default()
                    }),
                );
                send(&mut ws, &answer).await?;
                flush(&mut ws).await?;
            }
            (_, Some(1), Some(Body::OpenRealTimeModelResponse(r))) => return Ok((ws, r)),
            (_, Some(1), Some(Body::Error(e))) => {
                return Err(format!("setup: open failed {}: {}", e.code, e.message))
            }
            (_, _, Some(Body::Error(e))) => {
                return Err(format!("setup: server error {}: {}", e.code, e.message))
            }
            _ => {}
        }
    }
}

/// The edited string in an open response: its id and text.
fn text_of(r: &pm::OpenRealtimeModelResponseMessage) -> Result<(ValueId, JsString), String> {
    let root = r.data.as_ref().ok_or("setup: open response without data")?;
    let root = convert::object_from_wire(root).map_err(|e| format!("setup: bad data: {e}"))?;
    let Data::Object(children) = root.data else {
        return Err("setup: the root is not an object".into());
    };
    match children.get(&JsString::from(TEXT_KEY)) {
        Some(v) => match &v.data {
            Data::String(s) => Ok((v.id.clone(), s.clone())),
            _ => Err(format!("setup: '{TEXT_KEY}' is not a string")),
        },
        None => Err(format!("setup: the model has no '{TEXT_KEY}' string")),
    }
}

impl Client {
    async fn open(
        opts: &Opts,
        url: &str,
        model_id: &str,
        initial: &str,
        index: usize,
        seed: u64,
    ) -> Result<Client, String> {
        let (ws, r) = connect_and_open(url, model_id, initial, &format!("loadgen-{index}")).await?;
        let (string_id, text) = text_of(&r)?;
        Ok(Client {
            ws,
            resource: r.resource_id,
            string_id,
            context_version: r.version,
            len: text.len_i64(),
            replica: opts.verify.then(|| text.units().to_vec()),
            initial_len: opts.initial_doc_bytes as i64,
            next_seq: 1,
            in_flight: VecDeque::new(),
            window: opts.in_flight.max(1),
            rng: Rng::new(seed ^ (index as u64).wrapping_mul(0x2545_F491_4F6C_DD1D)),
            acks: None,
        })
    }

    /// Applies an operation to the local length (and replica); fails if it does not fit.
    fn apply(&mut self, op: &Operation) -> Result<(), String> {
        for d in op.ops() {
            if d.no_op || d.id != self.string_id {
                continue;
            }
            match &d.kind {
                OpKind::StringSplice {
                    index,
                    delete_count,
                    insert,
                } => {
                    let (index, del) = (*index, *delete_count);
                    if index < 0 || del < 0 || index + del > self.len {
                        return Err(format!(
                            "local copy diverged: splice at {index} deleting {del} on length {}",
                            self.len
                        ));
                    }
                    self.len += insert.len_i64() - del;
                    if let Some(r) = &mut self.replica {
                        let (i, n) = (index as usize, del as usize);
                        r.splice(i..i + n, insert.units().iter().copied());
                    }
                }
                OpKind::StringSet { value } => {
                    self.len = value.len_i64();
                    if let Some(r) = &mut self.replica {
                        *r = value.units().to_vec();
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Makes, applies locally and sends one operation; its latency counts from `since`.
    async fn submit_one(
        &mut self,
        report: &mut ClientReport,
        since: Instant,
    ) -> Result<(), String> {
        // Hover around the initial size: more deletes once the string has grown past it.
        let delete_ratio = if self.len >= self.initial_len.max(1) {
            0.5
        } else {
            0.2
        };
        let token = self
            .acks
            .as_ref()
            .map(|(index, _, _)| acks::token(*index, self.next_seq));
        let kind = if let Some(t) = &token {
            OpKind::StringSplice {
                index: self.len,
                delete_count: 0,
                insert: t.as_str().into(),
            }
        } else if self.len > 0 && self.rng.unit() < delete_ratio {
            OpKind::StringSplice {
                index: self.rng.below(self.len as u64) as i64,
                delete_count: 1,
                insert: JsString::new(),
            }
        } else {
            let letter = (b'a' + self.rng.below(26) as u8) as char;
            OpKind::StringSplice {
                index: self.rng.below(self.len as u64 + 1) as i64,
                delete_count: 0,
                insert: letter.to_string().into(),
            }
        };
        let op = Operation::Discrete(DiscreteOp::new(self.string_id.clone(), kind));
        self.apply(&op)?;
        let seq = self.next_seq;
        self.next_seq += 1;
        let msg = codec::normal(Body::OperationSubmission(pm::OperationSubmissionMessage {
            resource_id: self.resource,
            sequence_number: seq,
            context_version: self.context_version,
            operation: Some(convert::operation_to_wire(&op)),
        }));
        self.in_flight.push_back(InFlight {
            seq,
            op,
            sent: since,
            token,
        });
        report.submitted += 1;
        send(&mut self.ws, &msg).await
    }

    async fn fill(&mut self, report: &mut ClientReport) -> Result<(), String> {
        let mut sent = false;
        while self.in_flight.len() < self.window {
            self.submit_one(report, Instant::now()).await?;
            sent = true;
        }
        if sent {
            flush(&mut self.ws).await?;
        }
        Ok(())
    }

    /// Handles one incoming message. Acks before `count_until` are counted and timed.
    fn handle(
        &mut self,
        msg: ConvergenceMessage,
        report: &mut ClientReport,
        count_until: Instant,
    ) -> Result<(), String> {
        match msg.body {
            Some(Body::OperationAck(a)) if a.resource_id == self.resource => {
                let Some(f) = self.in_flight.pop_front() else {
                    return Err(format!(
                        "ack for seq {} with nothing in flight",
                        a.sequence_number
                    ));
                };
                if a.sequence_number != f.seq || a.version != self.context_version {
                    return Err(format!(
                        "ack out of order: seq {} version {}, expected seq {} version {}",
                        a.sequence_number, a.version, f.seq, self.context_version
                    ));
                }
                self.context_version += 1;
                if let (Some((_, model, log)), Some(t)) = (&self.acks, &f.token) {
                    log.record(model, t)?;
                }
                let now = Instant::now();
                if now <= count_until {
                    report.acked += 1;
                    let us = now.duration_since(f.sent).as_micros();
                    report.latencies_us.push(us.min(u32::MAX as u128) as u32);
                }
            }
            Some(Body::RemoteOperation(r)) if r.resource_id == self.resource => {
                if r.context_version != self.context_version {
                    return Err(format!(
                        "remote operation at version {}, expected {}",
                        r.context_version, self.context_version
                    ));
                }
                let wire = r.operation.ok_or("remote operation without operation")?;
                let mut op = convert::operation_from_wire(&wire)
                    .map_err(|e| format!("bad remote operation: {e}"))?;
                for f in self.in_flight.iter_mut() {
                    transform_in_place(&mut op, &mut f.op)
                        .map_err(|e| format!("transform failed: {e}"))?;
                }
                self.apply(&op)?;
                self.context_version += 1;
                report.remote += 1;
            }
            Some(Body::ForceCloseRealTimeModel(f)) => {
                return Err(format!(
                    "force-closed: {} (code {})",
                    f.reason, f.reason_code
                ))
            }
            Some(Body::Error(e)) => {
                return Err(format!("server error {}: {}", e.code, e.message));
            }
            _ => {}
        }
        Ok(())
    }

    /// Submits until `deadline`.
    async fn run(
        &mut self,
        start: Instant,
        deadline: Instant,
        rate: f64,
        inject_invalid: bool,
        report: &mut ClientReport,
    ) -> Result<(), String> {
        // Open loop: when the next operation falls due, and whether operations due now wait
        // for room in the window (their latency then counts from when they fell due).
        let period = (rate > 0.0).then(|| Duration::from_secs_f64(1.0 / rate));
        // A random phase, so that clients do not submit in lockstep.
        let mut next_due = period.map(|p| start + p.mul_f64(self.rng.unit()));
        let mut capped = false;
        if inject_invalid {
            // Not applied locally: the server must refuse it.
            let op = Operation::Discrete(DiscreteOp::new(
                self.string_id.clone(),
                OpKind::StringSplice {
                    index: self.len + 100,
                    delete_count: 0,
                    insert: "x".into(),
                },
            ));
            let msg = codec::normal(Body::OperationSubmission(pm::OperationSubmissionMessage {
                resource_id: self.resource,
                sequence_number: self.next_seq,
                context_version: self.context_version,
                operation: Some(convert::operation_to_wire(&op)),
            }));
            self.next_seq += 1;
            self.in_flight.push_back(InFlight {
                seq: self.next_seq - 1,
                op: Operation::Compound(Vec::new()),
                sent: Instant::now(),
                token: None,
            });
            send(&mut self.ws, &msg).await?;
        }
        if period.is_none() {
            self.fill(report).await?;
        }
        let end = tokio::time::sleep_until(deadline.into());
        tokio::pin!(end);
        loop {
            if let (Some(p), Some(due)) = (period, next_due.as_mut()) {
                let now = Instant::now();
                let mut sent = false;
                while *due <= now {
                    if self.in_flight.len() >= self.window {
                        capped = true;
                        break;
                    }
                    // Only the window's wait counts, not this task's timer resolution.
                    let since = if capped { *due } else { now };
                    self.submit_one(report, since).await?;
                    *due += p;
                    sent = true;
                }
                if *due > now {
                    capped = false;
                }
                if sent {
                    flush(&mut self.ws).await?;
                }
            }
            let room = self.in_flight.len() < self.window;
            tokio::select! {
                _ = &mut end => return Ok(()),
                _ = sleep_until(next_due.filter(|_| room)) => {}
                msg = recv(&mut self.ws) => {
                    self.handle(msg?, report, deadline)?;
                    if period.is_none() {
                        self.fill(report).await?;
                    }
                }
            }
        }
    }

    /// Reads until `done` holds (or the timeout passes).
    async fn read_until(
        &mut self,
        report: &mut ClientReport,
        timeout: Duration,
        done: impl Fn(&Client) -> bool,
    ) -> Result<(), String> {
        let until = Instant::now() + timeout;
        while !done(self) {
            let msg = tokio::time::timeout_at(until.into(), recv(&mut self.ws))
                .await
                .map_err(|_| "timed out waiting for the last acks and remote operations")??;
            // Nothing read after the window is counted.
            self.handle(msg, report, Instant::now() - Duration::from_secs(3600))?;
        }
        Ok(())
    }
}

/// Sleeps until `t`; forever without one.
async fn sleep_until(t: Option<Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t.into()).await,
        None => std::future::pending().await,
    }
}

/// What the clients share.
struct Shared {
    opts: Opts,
    url: String,
    initial: String,
    run_id: String,
    seed: u64,
    setup: Semaphore,
    ready: Barrier,
    start: watch::Receiver<Option<(Instant, Instant)>>,
    drained: Barrier,
    /// With `--verify`: the last version each model reached, as seen by its clients.
    final_versions: Mutex<HashMap<String, i64>>,
    /// With `--ack-log`.
    ack_log: Option<Arc<acks::AckLog>>,
}

fn model_for(shared: &Shared, index: usize) -> String {
    match shared.opts.models {
        Models::One => format!("loadgen-{}-shared", shared.run_id),
        Models::PerClient => format!("loadgen-{}-{index}", shared.run_id),
    }
}

async fn client_task(shared: Arc<Shared>, index: usize) -> ClientReport {
    let opts = &shared.opts;
    let model = model_for(&shared, index);
    let mut report = ClientReport {
        model: model.clone(),
        ..Default::default()
    };
    let opened = {
        let _permit = shared.setup.acquire().await;
        let timeout = Duration::from_secs_f64(opts.setup_timeout_secs);
        match tokio::time::timeout(
            timeout,
            Client::open(
                opts,
                &shared.url,
                &model,
                &shared.initial,
                index,
                shared.seed,
            ),
        )
        .await
        {
            Ok(r) => r,
            Err(_) => Err("setup: timed out".into()),
        }
    };
    shared.ready.wait().await;
    let mut rx = shared.start.clone();
    let (start, deadline) = match rx.wait_for(|s| s.is_some()).await {
        Ok(s) => s.expect("checked"),
        Err(_) => {
            report.errors.push("setup: the run was abandoned".into());
            return report;
        }
    };
    let mut client = match opened {
        Ok(mut c) => {
            c.acks = shared
                .ack_log
                .clone()
                .map(|log| (index, model.clone(), log));
            Some(c)
        }
        Err(e) => {
            report.errors.push(e);
            None
        }
    };
    if let Some(c) = &mut client {
        if let Err(e) = c
            .run(
                start,
                deadline,
                opts.rate_per_client,
                opts.inject_invalid_op && index == 0,
                &mut report,
            )
            .await
        {
            report.errors.push(e);
            client = None;
        }
    }
    if opts.verify {
        // Let every own operation be acked, agree on each model's final version, catch up.
        if let Some(c) = &mut client {
            let drained = c
                .read_until(&mut report, Duration::from_secs(20), |c| {
                    c.in_flight.is_empty()
                })
                .await;
            match drained {
                Ok(()) => {
                    let mut v = shared.final_versions.lock().expect("not poisoned");
                    let e = v.entry(model.clone()).or_insert(0);
                    *e = (*e).max(c.context_version);
                }
                Err(e) => {
                    report.errors.push(e);
                    client = None;
                }
            }
        }
        shared.drained.wait().await;
        if let Some(c) = &mut client {
            let target = shared.final_versions.lock().expect("not poisoned")[&model];
            match c
                .read_until(&mut report, Duration::from_secs(20), |c| {
                    c.context_version >= target
                })
                .await
            {
                Ok(()) => report.replica = c.replica.take(),
                Err(e) => report.errors.push(e),
            }
        }
    }
    if let Some(mut c) = client {
        let _ = tokio::time::timeout(Duration::from_secs(2), c.ws.close(None)).await;
    }
    report
}

/// Opens each model from a fresh connection and compares it with the clients' replicas.
async fn verify(url: &str, reports: &[ClientReport]) -> Result<usize, String> {
    let mut by_model: HashMap<&str, Vec<&Vec<u16>>> = HashMap::new();
    for r in reports {
        if let Some(rep) = &r.replica {
            by_model.entry(&r.model).or_default().push(rep);
        }
    }
    let mut checked = 0;
    for (model, replicas) in &by_model {
        let (mut ws, r) = connect_and_open(url, model, "", "loadgen-verify").await?;
        let (_, text) = text_of(&r)?;
        let server: Vec<u16> = text.units().to_vec();
        for (i, rep) in replicas.iter().enumerate() {
            if **rep != server {
                return Err(format!(
                    "model {model}: replica {i} ({} units) differs from the server's ({} units)",
                    rep.len(),
                    server.len()
                ));
            }
        }
        let _ = ws.close(None).await;
        checked += 1;
    }
    Ok(checked)
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0
}

fn initial_text(n: usize) -> String {
    const WORDS: &[u8] = b"the quick brown fox jumps over the lazy dog ";
    (0..n).map(|i| WORDS[i % WORDS.len()] as char).collect()
}

#[tokio::main]
async fn main() -> ExitCode {
    let opts = Opts::parse();
    if let (Some(path), Some(url)) = (&opts.check_acks, &opts.url) {
        let timeout = Duration::from_secs_f64(opts.setup_timeout_secs);
        return match acks::check(url, path, timeout).await {
            Ok(c) => {
                println!(
                    "check-acks acked={} lost={} duplicated={} models={} first_open_ms={:.1}",
                    c.acked,
                    c.lost,
                    c.duplicated,
                    c.models,
                    c.first_open.as_secs_f64() * 1000.0
                );
                ExitCode::from(u8::from(c.lost + c.duplicated > 0))
            }
            Err(e) => {
                eprintln!("tandem-loadgen: check-acks: {e}");
                ExitCode::from(2)
            }
        };
    }
    let ack_log = match opts.ack_log.as_deref().map(acks::AckLog::create) {
        Some(Ok(log)) => Some(Arc::new(log)),
        Some(Err(e)) => {
            eprintln!("tandem-loadgen: {e}");
            return ExitCode::from(2);
        }
        None => None,
    };
    if opts.clients == 0 || opts.duration_secs <= 0.0 {
        eprintln!("tandem-loadgen: --clients and --duration-secs must be positive");
        return ExitCode::from(2);
    }
    let server = match &opts.spawn_server {
        Some(path) => match SpawnedServer::start(path, opts.server_config.as_ref()) {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!("tandem-loadgen: {e}");
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    let url = match (&opts.url, &server) {
        (Some(u), _) => u.clone(),
        (None, Some(s)) => format!("ws://{}/realtime/demo/default", s.addr),
        (None, None) => {
            eprintln!("tandem-loadgen: give --url or --spawn-server");
            return ExitCode::from(2);
        }
    };
    let pid = server
        .as_ref()
        .map(|s| s.pid())
        .or(opts.server_pid)
        .map(|p| p.to_string());
    let ticks = clock_ticks();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    if opts.scenario == Scenario::Activity {
        let rate = if opts.rate_per_client > 0.0 {
            opts.rate_per_client
        } else {
            10.0
        };
        let ok = activity::run(activity::Params {
            url,
            clients: opts.clients,
            rate,
            duration: Duration::from_secs_f64(opts.duration_secs),
            pid,
            ticks,
            label: opts.label.clone(),
            run_id: format!("{}-{}", now.as_millis(), std::process::id()),
        })
        .await;
        drop(server);
        return if ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    let seed = opts.seed.unwrap_or(now.as_nanos() as u64);
    let (start_tx, start_rx) = watch::channel(None);
    let shared = Arc::new(Shared {
        opts: opts.clone(),
        url: url.clone(),
        initial: initial_text(opts.initial_doc_bytes),
        run_id: format!("{}-{}", now.as_millis(), std::process::id()),
        seed,
        setup: Semaphore::new(SETUP_CONCURRENCY),
        ready: Barrier::new(opts.clients + 1),
        start: start_rx,
        drained: Barrier::new(opts.clients),
        final_versions: Mutex::new(HashMap::new()),
        ack_log,
    });
    let setup_began = Instant::now();
    let tasks: Vec<_> = (0..opts.clients)
        .map(|i| tokio::spawn(client_task(shared.clone(), i)))
        .collect();
    shared.ready.wait().await;
    let setup_secs = setup_began.elapsed().as_secs_f64();
    let server_before = pid.as_deref().and_then(|p| sample_proc(p, ticks));
    let self_before = sample_proc("self", ticks);
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(opts.duration_secs);
    let _ = start_tx.send(Some((start, deadline)));
    tokio::time::sleep_until(deadline.into()).await;
    let wall = start.elapsed().as_secs_f64();
    let server_after = pid.as_deref().and_then(|p| sample_proc(p, ticks));
    let self_after = sample_proc("self", ticks);

    let mut reports = Vec::with_capacity(tasks.len());
    for t in tasks {
        match t.await {
            Ok(r) => reports.push(r),
            Err(e) => reports.push(ClientReport {
                errors: vec![format!("client task failed: {e}")],
                ..Default::default()
            }),
        }
    }
    let verified = if opts.verify {
        Some(verify(&url, &reports).await)
    } else {
        None
    };
    let final_server = pid.as_deref().and_then(|p| sample_proc(p, ticks));
    drop(server);

    let acked: u64 = reports.iter().map(|r| r.acked).sum();
    let submitted: u64 = reports.iter().map(|r| r.submitted).sum();
    let remote: u64 = reports.iter().map(|r| r.remote).sum();
    let mut lat: Vec<u32> = reports
        .iter()
        .flat_map(|r| r.latencies_us.iter().copied())
        .collect();
    lat.sort_unstable();
    let mut kinds: HashMap<&str, usize> = HashMap::new();
    let mut errors = 0;
    for r in &reports {
        for e in &r.errors {
            errors += 1;
            *kinds.entry(err_kind(e)).or_default() += 1;
        }
    }
    let mut line = format!(
        "{label}: clients={clients} models={models} in_flight={inf} doc={doc}B rate={rate} \
         dur={wall:.1}s ops={acked} ops/s={ops_s:.0} p50={p50:.2}ms p99={p99:.2}ms max={max:.2}ms",
        label = opts.label,
        clients = opts.clients,
        models = match opts.models {
            Models::One => "one",
            Models::PerClient => "per-client",
        },
        inf = opts.in_flight,
        doc = opts.initial_doc_bytes,
        rate = if opts.rate_per_client > 0.0 {
            format!("{}/s", opts.rate_per_client)
        } else {
            "max".into()
        },
        ops_s = acked as f64 / wall,
        p50 = percentile(&lat, 50.0),
        p99 = percentile(&lat, 99.0),
        max = lat.last().copied().unwrap_or(0) as f64 / 1000.0,
    );
    match (server_before, server_after) {
        (Some(b), Some(a)) => {
            let cpu = a.cpu_secs - b.cpu_secs;
            let per_op = if acked > 0 {
                cpu * 1e6 / acked as f64
            } else {
                0.0
            };
            let end = final_server.unwrap_or(a);
            line += &format!(
                " server_cpu={:.0}% cpu/op={per_op:.0}us rss={:.1}MB peak_rss={:.1}MB",
                cpu / wall * 100.0,
                a.rss_kb as f64 / 1024.0,
                end.hwm_kb.max(a.hwm_kb) as f64 / 1024.0,
            );
        }
        _ => line += " server_cpu=n/a rss=n/a",
    }
    if let (Some(b), Some(a)) = (self_before, self_after) {
        line += &format!(
            " loadgen_cpu={:.0}%",
            (a.cpu_secs - b.cpu_secs) / wall * 100.0
        );
    }
    line += &format!(" errors={errors}");
    if errors > 0 {
        let mut k: Vec<_> = kinds.into_iter().collect();
        k.sort();
        let k: Vec<String> = k.into_iter().map(|(k, n)| format!("{k}:{n}")).collect();
        line += &format!("({})", k.join(","));
    }
    let mut failed = errors > 0;
    match &verified {
        Some(Ok(n)) => line += &format!(" verify=ok({n} models)"),
        Some(Err(_)) => {
            line += " verify=FAILED";
            failed = true;
        }
        None => {}
    }
    println!("{line}");
    eprintln!(
        "  setup {setup_secs:.1}s; submitted {submitted}, remote operations applied {remote}, seed {seed}"
    );
    if let Some(Err(e)) = &verified {
        eprintln!("  verify: {e}");
    }
    let mut shown = 0;
    for r in &reports {
        for e in &r.errors {
            if shown < 10 {
                eprintln!("  error ({}): {e}", r.model);
            }
            shown += 1;
        }
    }
    if shown > 10 {
        eprintln!("  ... and {} more errors", shown - 10);
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
