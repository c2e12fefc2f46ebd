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

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[path = "loadgen/acks.rs"]
mod acks;
#[path = "loadgen/activity.rs"]
mod activity;
#[path = "loadgen/chat.rs"]
mod chat;
#[path = "loadgen/edit.rs"]
mod edit;

use clap::{Parser, ValueEnum};
use futures_util::{SinkExt, StreamExt};
use tandem::protocol::codec::{self, decode, encode};
use tandem::protocol::wire::proto::core as pc;
use tandem::protocol::wire::{Body, ConvergenceMessage};
use tokio::net::TcpStream as TokioTcpStream;
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
    /// Clients are members of one channel; `--chat-senders` of them publish `--chat-rate`
    /// messages per second in all.
    Chat,
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
    /// Chat scenario: messages per second over the whole channel.
    #[arg(long, default_value_t = 50.0)]
    chat_rate: f64,
    /// Chat scenario: how many of the clients publish (at most --clients).
    #[arg(long, default_value_t = 50)]
    chat_senders: usize,
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

/// The run's clock: one epoch for every client in this process, so that a time written into
/// a message by one client can be compared with another client's clock.
pub(crate) fn epoch() -> Instant {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Microseconds since the run's [`epoch`].
pub(crate) fn now_us() -> u64 {
    epoch().elapsed().as_micros() as u64
}

/// What every scenario but `edit` needs from the command line.
pub(crate) struct Run {
    pub url: String,
    pub clients: usize,
    pub duration: Duration,
    pub pid: Option<String>,
    pub ticks: f64,
    pub label: String,
    pub run_id: String,
}

/// The measured window of a scenario: every client's report and the server's samples at the
/// window's ends.
pub(crate) struct Measured<R> {
    pub reports: Vec<R>,
    pub wall: f64,
    pub before: Option<ProcSample>,
    pub after: Option<ProcSample>,
}

/// Starts the window once every client is `ready`, samples the server at its ends, then
/// collects the clients' reports (`failed` stands in for a client task that panicked).
pub(crate) async fn measure<R>(
    run: &Run,
    ready: &tokio::sync::Barrier,
    tasks: Vec<tokio::task::JoinHandle<R>>,
    failed: impl Fn(String) -> R,
) -> Measured<R> {
    ready.wait().await;
    let before = run
        .pid
        .as_deref()
        .and_then(|pid| sample_proc(pid, run.ticks));
    let began = Instant::now();
    tokio::time::sleep(run.duration).await;
    let wall = began.elapsed().as_secs_f64();
    let after = run
        .pid
        .as_deref()
        .and_then(|pid| sample_proc(pid, run.ticks));
    let mut reports = Vec::with_capacity(tasks.len());
    for t in tasks {
        reports.push(match t.await {
            Ok(r) => r,
            Err(e) => failed(format!("client task failed: {e}")),
        });
    }
    Measured {
        reports,
        wall,
        before,
        after,
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
fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0
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
    if opts.clients == 0 || opts.duration_secs <= 0.0 || opts.chat_rate <= 0.0 {
        eprintln!("tandem-loadgen: --clients, --duration-secs and --chat-rate must be positive");
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
    let run_id = format!("{}-{}", now.as_millis(), std::process::id());
    let run = Run {
        url: url.clone(),
        clients: opts.clients,
        duration: Duration::from_secs_f64(opts.duration_secs),
        pid: pid.clone(),
        ticks,
        label: opts.label.clone(),
        run_id,
    };
    let ok = match opts.scenario {
        Scenario::Activity => {
            let rate = if opts.rate_per_client > 0.0 {
                opts.rate_per_client
            } else {
                10.0
            };
            activity::run(activity::Params { run, rate }).await
        }
        Scenario::Chat => {
            let senders = opts.chat_senders.clamp(1, opts.clients);
            let rate = opts.chat_rate;
            chat::run(chat::Params { run, rate, senders }).await
        }
        Scenario::Edit => edit::run(&opts, &url, pid.as_deref(), ticks, ack_log, now).await,
    };
    drop(server);
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
