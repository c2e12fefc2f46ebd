//! `--scenario edit`: clients edit models with single-character string splices, keeping up to
//! `--in-flight` operations unacknowledged, as the JavaScript client's concurrency control does.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tandem::ot::{transform_in_place, Data, DiscreteOp, JsString, OpKind, Operation, ValueId};
use tandem::protocol::codec;
use tandem::protocol::convert;
use tandem::protocol::wire::proto::model as pm;
use tandem::protocol::wire::{Body, ConvergenceMessage};
use tandem::testing::Rng;
use tokio::sync::{watch, Barrier, Semaphore};

use super::{
    acks, connect, flush, percentile, recv, sample_proc, send, Models, Opts, ProcSample, Ws,
    SETUP_CONCURRENCY, TEXT_KEY,
};

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

pub(crate) async fn connect_and_open(
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
pub(crate) fn text_of(
    r: &pm::OpenRealtimeModelResponseMessage,
) -> Result<(ValueId, JsString), String> {
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

fn initial_text(n: usize) -> String {
    const WORDS: &[u8] = b"the quick brown fox jumps over the lazy dog ";
    (0..n).map(|i| WORDS[i % WORDS.len()] as char).collect()
}

/// Runs the scenario and prints its figures line; false when a client saw an error or the
/// replicas failed verification.
pub(crate) async fn run(
    opts: &Opts,
    url: &str,
    pid: Option<&str>,
    ticks: f64,
    ack_log: Option<Arc<acks::AckLog>>,
    now: Duration,
) -> bool {
    let seed = opts.seed.unwrap_or(now.as_nanos() as u64);
    let (start_tx, start_rx) = watch::channel(None);
    let shared = Arc::new(Shared {
        opts: opts.clone(),
        url: url.to_string(),
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
    let server_before = pid.and_then(|p| sample_proc(p, ticks));
    let self_before = sample_proc("self", ticks);
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(opts.duration_secs);
    let _ = start_tx.send(Some((start, deadline)));
    tokio::time::sleep_until(deadline.into()).await;
    let wall = start.elapsed().as_secs_f64();
    let server_after = pid.and_then(|p| sample_proc(p, ticks));
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
        Some(verify(url, &reports).await)
    } else {
        None
    };
    let window = Window {
        wall,
        setup_secs,
        seed,
        server: [
            server_before,
            server_after,
            pid.and_then(|p| sample_proc(p, ticks)),
        ],
        own: [self_before, self_after],
    };
    report(opts, &reports, &window, verified)
}

/// The measured window: its length, and the processes' samples at its ends.
struct Window {
    wall: f64,
    setup_secs: f64,
    seed: u64,
    /// The server before and after the window, and after verification.
    server: [Option<ProcSample>; 3],
    /// The load generator before and after the window.
    own: [Option<ProcSample>; 2],
}

/// Prints the figures line and the errors; false when a client saw an error or verification
/// failed.
fn report(
    opts: &Opts,
    reports: &[ClientReport],
    window: &Window,
    verified: Option<Result<usize, String>>,
) -> bool {
    let Window {
        wall,
        setup_secs,
        seed,
        server: [server_before, server_after, final_server],
        own: [self_before, self_after],
    } = *window;
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
    for r in reports {
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
    for r in reports {
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
    !failed
}
