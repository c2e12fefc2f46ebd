//! `--scenario activity`: every client joins one activity and sets its state at a fixed rate.
//!
//! Each update carries its sequence number and the time it was sent (microseconds since the
//! run's epoch, one clock for every client in this process), so each receiver measures the
//! delay from an update to its delivery. Every client keeps its view of every other
//! participant's last state. After its window a client sends a final marker and waits for
//! every other client's marker before it leaves; then each view must hold each participant's
//! last update (a participant that left keeps its last state in the view). An update that
//! arrives out of order, or after its sender's leave, is counted. The figures line reports the
//! delays, what was delivered against what should have been, the server's CPU and memory, and
//! the views that were wrong.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tandem::protocol::codec;
use tandem::protocol::wire::proto::activity as pa;
use tandem::protocol::wire::Body;
use tokio::sync::Barrier;

use super::{
    connect, epoch, flush, measure, now_us, percentile, recv, send, Measured, ProcSample, Run, Ws,
};

/// What the run needs from the command line.
pub(crate) struct Params {
    pub run: Run,
    /// State updates per client per second.
    pub rate: f64,
}

#[derive(Default)]
struct Report {
    session: String,
    sent: i64,
    delivered: u64,
    delays_us: Vec<u32>,
    /// The last sequence number seen of each other session (kept after it left).
    seen: HashMap<String, i64>,
    /// The sessions whose leave has arrived.
    left: HashSet<String>,
    /// The sessions whose final marker has arrived.
    done_from: HashSet<String>,
    /// Updates that arrived with a sequence number not above the last one seen of that sender,
    /// or after its leave.
    out_of_order: u64,
    errors: Vec<String>,
}

fn number(v: f64) -> prost_types::Value {
    prost_types::Value {
        kind: Some(prost_types::value::Kind::NumberValue(v)),
    }
}

fn field(state: &std::collections::BTreeMap<String, prost_types::Value>, key: &str) -> Option<f64> {
    match state.get(key).and_then(|v| v.kind.as_ref()) {
        Some(prost_types::value::Kind::NumberValue(n)) => Some(*n),
        _ => None,
    }
}

async fn join(ws: &mut Ws, activity: &str, report: &mut Report) -> Result<i32, String> {
    let world = ["join", "view_state", "set_state"]
        .map(String::from)
        .to_vec();
    let request = codec::request(
        1,
        Body::ActivityJoinRequest(pa::ActivityJoinRequestMessage {
            activity_type: "loadgen".into(),
            activity_id: activity.into(),
            lurk: false,
            state: [("seq".to_string(), number(-1.0))].into_iter().collect(),
            auto_create_data: Some(pa::activity_join_request_message::AutoCreateData {
                ephemeral: true,
                world_permissions: world,
                ..Default::default()
            }),
        }),
    );
    send(ws, &request).await?;
    flush(ws).await?;
    loop {
        let msg = recv(ws).await?;
        if msg.response_id == Some(1) {
            return match msg.body {
                Some(Body::ActivityJoinResponse(r)) => {
                    for (session, s) in r.state {
                        if session != report.session {
                            report
                                .seen
                                .insert(session, field(&s.state, "seq").unwrap_or(-1.0) as i64);
                        }
                    }
                    Ok(r.resource_id)
                }
                other => Err(format!("setup: join refused: {other:?}")),
            };
        }
        note(&msg.body, report, Instant::now());
    }
}

/// Takes in an activity event.
fn note(body: &Option<Body>, report: &mut Report, _at: Instant) {
    match body {
        Some(Body::ActivitySessionJoined(j)) => {
            let seq = field(&j.state, "seq").unwrap_or(-1.0) as i64;
            report.left.remove(&j.session_id);
            report.seen.insert(j.session_id.clone(), seq);
        }
        Some(Body::ActivitySessionLeft(l)) => {
            report.left.insert(l.session_id.clone());
        }
        Some(Body::ActivityStateUpdated(u)) if u.set.contains_key("done") => {
            report.done_from.insert(u.session_id.clone());
        }
        Some(Body::ActivityStateUpdated(u)) => {
            report.delivered += 1;
            if let Some(t) = field(&u.set, "t") {
                let delay = ((now_us() as f64) - t).max(0.0);
                report.delays_us.push(delay.min(u32::MAX as f64) as u32);
            }
            if let Some(seq) = field(&u.set, "seq") {
                let seq = seq as i64;
                let before = report.seen.insert(u.session_id.clone(), seq);
                if report.left.contains(&u.session_id) || before.is_some_and(|b| b >= seq) {
                    report.out_of_order += 1;
                }
            }
        }
        Some(Body::Error(e)) => report
            .errors
            .push(format!("server error {}: {}", e.code, e.message)),
        _ => {}
    }
}

/// How long a client waits, after its window, for every other client's final marker.
const DRAIN_LIMIT: Duration = Duration::from_secs(60);

fn update(
    resource: i32,
    set: Vec<(String, prost_types::Value)>,
) -> tandem::protocol::wire::ConvergenceMessage {
    codec::normal(Body::ActivityUpdateState(pa::ActivityUpdateStateMessage {
        resource_id: resource,
        set: set.into_iter().collect(),
        complete: false,
        removed: Vec::new(),
    }))
}

async fn client(p: Arc<Params>, ready: Arc<Barrier>, index: usize) -> Report {
    let mut report = Report::default();
    let (mut ws, resource) = match setup(&p, index, &mut report).await {
        Ok(x) => x,
        Err(e) => {
            report.errors.push(e);
            ready.wait().await;
            return report;
        }
    };
    ready.wait().await;
    let start = Instant::now();
    let deadline = start + p.run.duration;
    let period = Duration::from_secs_f64(1.0 / p.rate);
    // Spread the clients over one period so their updates do not all fall due together.
    let mut next = start + period.mul_f64(index as f64 / p.run.clients as f64);
    let others = p.run.clients - 1;
    let mut marked = false;
    loop {
        if marked && report.done_from.len() >= others {
            break;
        }
        let sending = next < deadline;
        let wake = if sending {
            next
        } else {
            deadline + DRAIN_LIMIT
        };
        tokio::select! {
            msg = recv(&mut ws) => match msg {
                Ok(m) => note(&m.body, &mut report, Instant::now()),
                Err(e) => {
                    report.errors.push(e);
                    break;
                }
            },
            _ = tokio::time::sleep_until(wake.into()), if sending || marked => {
                if !sending {
                    report.errors.push(format!(
                        "drain: {} of {others} final markers after {DRAIN_LIMIT:?}",
                        report.done_from.len()
                    ));
                    break;
                }
                report.sent += 1;
                let set = vec![
                    ("seq".to_string(), number(report.sent as f64)),
                    ("t".to_string(), number(now_us() as f64)),
                ];
                if let Err(e) = async { send(&mut ws, &update(resource, set)).await?; flush(&mut ws).await }.await {
                    report.errors.push(e);
                    break;
                }
                next += period;
            }
            // The window is over: one final marker tells the others this client's last update.
            _ = std::future::ready(()), if !sending && !marked => {
                marked = true;
                let set = vec![("done".to_string(), number(report.sent as f64))];
                if let Err(e) = async { send(&mut ws, &update(resource, set)).await?; flush(&mut ws).await }.await {
                    report.errors.push(e);
                    break;
                }
            }
        }
    }
    let _ = ws.close(None).await;
    report
}

async fn setup(p: &Params, index: usize, report: &mut Report) -> Result<(Ws, i32), String> {
    let (mut ws, session) = connect(&p.run.url, &format!("activity-{index}")).await?;
    report.session = session;
    let resource = join(&mut ws, &p.run.run_id, report).await?;
    Ok((ws, resource))
}

/// Runs the scenario and prints its figures line; false when a client saw an error or a view
/// ended wrong.
pub(crate) async fn run(p: Params) -> bool {
    let p = Arc::new(p);
    epoch();
    let ready = Arc::new(Barrier::new(p.run.clients + 1));
    let tasks: Vec<_> = (0..p.run.clients)
        .map(|i| tokio::spawn(client(p.clone(), ready.clone(), i)))
        .collect();
    let Measured {
        reports,
        wall,
        before,
        after,
    } = measure(&p.run, &ready, tasks, |e| Report {
        errors: vec![e],
        ..Report::default()
    })
    .await;
    let last: HashMap<&str, i64> = reports
        .iter()
        .map(|r| (r.session.as_str(), r.sent))
        .collect();
    let mut wrong = 0usize;
    for r in &reports {
        for (session, sent) in &last {
            if *session == r.session {
                continue;
            }
            if r.seen.get(*session) != Some(sent) {
                wrong += 1;
            }
        }
    }
    let sent: i64 = reports.iter().map(|r| r.sent).sum();
    let delivered: u64 = reports.iter().map(|r| r.delivered).sum();
    let expected = sent as u64 * (p.run.clients as u64 - 1);
    let mut delays: Vec<u32> = reports
        .iter()
        .flat_map(|r| r.delays_us.iter().copied())
        .collect();
    delays.sort_unstable();
    let errors: usize = reports.iter().map(|r| r.errors.len()).sum();
    let out_of_order: u64 = reports.iter().map(|r| r.out_of_order).sum();
    let mut line = format!(
        "{}: scenario=activity clients={} rate={}/s dur={wall:.1}s updates={sent} delivered={delivered}/{expected} \
         delay_p50={:.2}ms delay_p99={:.2}ms delay_max={:.2}ms",
        p.run.label,
        p.run.clients,
        p.rate,
        percentile(&delays, 50.0),
        percentile(&delays, 99.0),
        delays.last().copied().unwrap_or(0) as f64 / 1000.0,
    );
    line += &server_figures(before, after, wall);
    line += &format!(" wrong_views={wrong} out_of_order={out_of_order} errors={errors}");
    println!("{line}");
    for e in reports.iter().flat_map(|r| r.errors.iter()).take(10) {
        eprintln!("  error: {e}");
    }
    errors == 0 && wrong == 0 && out_of_order == 0
}

/// The server's CPU share and memory over the window, as the figures line shows them.
pub(crate) fn server_figures(
    before: Option<ProcSample>,
    after: Option<ProcSample>,
    wall: f64,
) -> String {
    match (before, after) {
        (Some(b), Some(a)) => format!(
            " server_cpu={:.0}% rss={:.1}MB peak_rss={:.1}MB",
            (a.cpu_secs - b.cpu_secs) / wall * 100.0,
            a.rss_kb as f64 / 1024.0,
            a.hwm_kb as f64 / 1024.0
        ),
        _ => " server_cpu=n/a rss=n/a".into(),
    }
}
