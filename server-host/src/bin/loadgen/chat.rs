//! `--scenario chat`: every client is a member of one channel; a share of them publish messages
//! at a fixed total rate.
//!
//! Client 0 creates a public channel, every client joins it, then `--chat-senders` of them
//! publish so that the channel gets `--chat-rate` messages per second in all. Each message
//! carries its sender, its sequence number and the time it was sent (one clock for every client
//! in this process), so each member measures the delay from a publish to its delivery (the
//! sender's own sessions receive it too). A publish's reply means the message is stored: its
//! latency is the persistence latency, and the replies per second the persistence rate. After
//! its window each sender publishes a final marker and every member waits for every sender's
//! marker; then the chat's history must hold every message published, each member must have
//! received every message once, and event numbers must only grow.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tandem::protocol::codec;
use tandem::protocol::wire::proto::chat as pch;
use tandem::protocol::wire::Body;
use tokio::sync::{Barrier, Semaphore};

use super::activity::server_figures;
use super::{connect, epoch, flush, measure, now_us, percentile, recv, send, Measured, Run, Ws};

/// What the run needs from the command line.
pub(crate) struct Params {
    pub run: Run,
    /// Messages per second over the whole channel.
    pub rate: f64,
    /// How many clients publish.
    pub senders: usize,
}

/// How long a member waits, after the window, for every sender's final marker.
const DRAIN_LIMIT: Duration = Duration::from_secs(120);
/// Connections being set up at once.
const SETUP_CONCURRENCY: usize = 64;

#[derive(Default)]
struct Report {
    /// Messages this client published and had acknowledged (markers not included).
    published: u64,
    acked: u64,
    ack_us: Vec<u32>,
    delivered: u64,
    delays_us: Vec<u32>,
    /// Per sender: the last sequence number received.
    seen: HashMap<usize, u64>,
    /// Messages that arrived twice, out of order, or with an event number not above the last.
    out_of_order: u64,
    /// Senders whose final marker arrived, with the count they published.
    done: HashMap<usize, u64>,
    last_event: i64,
    errors: Vec<String>,
    /// Client 0 only: the chat's stored message total, read once every marker arrived.
    stored: Option<Result<i64, String>>,
}

/// A message's text: `m <sender> <seq> <sent µs>`; a final marker: `done <sender> <count>`.
fn parse(text: &str) -> Option<(bool, usize, u64, u64)> {
    let mut it = text.split(' ');
    let kind = it.next()?;
    let sender = it.next()?.parse().ok()?;
    let n = it.next()?.parse().ok()?;
    match kind {
        "m" => Some((false, sender, n, it.next()?.parse().ok()?)),
        "done" => Some((true, sender, n, 0)),
        _ => None,
    }
}

/// Sends a request and waits for its reply, taking in the chat events that arrive meanwhile.
async fn request(
    ws: &mut Ws,
    id: i32,
    body: Body,
    report: &mut Report,
) -> Result<Option<Body>, String> {
    send(ws, &codec::request(id, body)).await?;
    flush(ws).await?;
    loop {
        let msg = recv(ws).await?;
        if msg.response_id == Some(id) {
            return Ok(msg.body);
        }
        note(&msg.body, report);
    }
}

/// Takes in a chat event.
fn note(body: &Option<Body>, report: &mut Report) {
    match body {
        Some(Body::RemoteChatMessage(m)) => {
            if m.event_number <= report.last_event {
                report.out_of_order += 1;
            }
            report.last_event = m.event_number;
            match parse(&m.message) {
                Some((true, sender, count, _)) => {
                    report.done.insert(sender, count);
                }
                Some((false, sender, seq, sent)) => {
                    report.delivered += 1;
                    let delay = now_us().saturating_sub(sent);
                    report.delays_us.push(delay.min(u32::MAX as u64) as u32);
                    let before = report.seen.insert(sender, seq);
                    if before.is_some_and(|b| b + 1 != seq) || (before.is_none() && seq != 1) {
                        report.out_of_order += 1;
                    }
                }
                None => report
                    .errors
                    .push(format!("unexpected message text {:?}", m.message)),
            }
        }
        Some(Body::Error(e)) => report
            .errors
            .push(format!("server error {}: {}", e.code, e.message)),
        _ => {}
    }
}

async fn setup(p: &Params, index: usize, chat: &str, report: &mut Report) -> Result<Ws, String> {
    let (mut ws, _session) = connect(&p.run.url, &format!("chat-{index}")).await?;
    if index == 0 {
        let create = Body::CreateChatRequest(pch::CreateChatRequestMessage {
            chat_id: Some(chat.to_string()),
            chat_type: "channel".into(),
            membership: "public".into(),
            name: "loadgen".into(),
            topic: String::new(),
            members: Vec::new(),
        });
        match request(&mut ws, 1, create, report).await? {
            Some(Body::CreateChatResponse(_)) => {}
            other => return Err(format!("setup: create refused: {other:?}")),
        }
    } else {
        let join = Body::JoinChatRequest(pch::JoinChatRequestMessage {
            chat_id: chat.to_string(),
        });
        match request(&mut ws, 1, join, report).await? {
            Some(Body::JoinChatResponse(_)) => {}
            other => return Err(format!("setup: join refused: {other:?}")),
        }
    }
    Ok(ws)
}

fn publish(id: i32, chat: &str, text: String) -> tandem::protocol::wire::ConvergenceMessage {
    codec::request(
        id,
        Body::PublishChatMessageRequest(pch::PublishChatRequestMessage {
            chat_id: chat.to_string(),
            message: text,
        }),
    )
}

/// One member: publishes on its schedule when it is a sender, takes in every message, and
/// leaves once every sender's final marker has arrived.
async fn client(
    p: Arc<Params>,
    chat: Arc<str>,
    ws: Option<Ws>,
    ready: Arc<Barrier>,
    index: usize,
) -> Report {
    let mut report = Report::default();
    let Some(mut ws) = ws else {
        ready.wait().await;
        return report;
    };
    ready.wait().await;
    let start = Instant::now();
    let deadline = start + p.run.duration;
    let sender = index < p.senders;
    let period = Duration::from_secs_f64(p.senders as f64 / p.rate);
    let mut next = start + period.mul_f64(index as f64 / p.senders.max(1) as f64);
    // Publishes awaiting their reply: when sent, and whether it is the final marker.
    let mut pending: HashMap<i32, (Instant, bool)> = HashMap::new();
    let mut next_id = 10;
    let mut marked = !sender;
    loop {
        if marked && pending.is_empty() && report.done.len() >= p.senders {
            break;
        }
        let sending = sender && next < deadline;
        let wake = if sending {
            next
        } else {
            deadline + DRAIN_LIMIT
        };
        tokio::select! {
            msg = recv(&mut ws) => match msg {
                Ok(m) => {
                    if let Some((sent, marker)) = m.response_id.and_then(|id| pending.remove(&id)) {
                        match m.body {
                            Some(Body::PublishChatMessageResponse(_)) if marker => {}
                            Some(Body::PublishChatMessageResponse(_)) => {
                                report.acked += 1;
                                report.ack_us.push(sent.elapsed().as_micros().min(u32::MAX as u128) as u32);
                            }
                            other => report.errors.push(format!("publish refused: {other:?}")),
                        }
                    } else {
                        note(&m.body, &mut report);
                    }
                }
                Err(e) => {
                    report.errors.push(e);
                    break;
                }
            },
            _ = tokio::time::sleep_until(wake.into()) => {
                if !sending {
                    report.errors.push(format!(
                        "drain: {} of {} final markers after {DRAIN_LIMIT:?}",
                        report.done.len(),
                        p.senders
                    ));
                    break;
                }
                report.published += 1;
                next_id += 1;
                pending.insert(next_id, (Instant::now(), false));
                let text = format!("m {index} {} {}", report.published, now_us());
                if let Err(e) = async { send(&mut ws, &publish(next_id, &chat, text)).await?; flush(&mut ws).await }.await {
                    report.errors.push(e);
                    break;
                }
                next += period;
            }
            // The window is over: one final marker tells the members this sender's count.
            _ = std::future::ready(()), if sender && !sending && !marked => {
                marked = true;
                next_id += 1;
                pending.insert(next_id, (Instant::now(), true));
                let text = format!("done {index} {}", report.published);
                if let Err(e) = async { send(&mut ws, &publish(next_id, &chat, text)).await?; flush(&mut ws).await }.await {
                    report.errors.push(e);
                    break;
                }
            }
        }
    }
    // Every marker has arrived, so every message is stored: client 0 reads the total.
    if index == 0 && report.errors.is_empty() {
        let mut scratch = Report::default();
        report.stored = Some(history_total(&mut ws, &chat, &mut scratch).await);
    }
    let _ = ws.close(None).await;
    report
}

/// The chat's total of message events, from its history, asked on a member's socket (a
/// fresh member might not fit under the member limit).
async fn history_total(ws: &mut Ws, chat: &str, report: &mut Report) -> Result<i64, String> {
    let history = Body::GetChatHistoryRequest(pch::ChatHistoryRequestMessage {
        chat_id: chat.to_string(),
        limit: Some(1),
        event_filter: vec!["message".into()],
        ..Default::default()
    });
    match request(ws, 2, history, report).await? {
        Some(Body::GetChatHistoryResponse(r)) => Ok(r.total_results),
        other => Err(format!("history refused: {other:?}")),
    }
}

/// Runs the scenario and prints its figures line; false when a client saw an error or a
/// message was lost, duplicated or reordered.
pub(crate) async fn run(p: Params) -> bool {
    let p = Arc::new(p);
    epoch();
    let chat: Arc<str> = format!("loadgen-{}", p.run.run_id).into();
    let setup_began = Instant::now();
    let mut setup_errors = Vec::new();
    // Client 0 creates the channel before the others join it.
    let first = setup(&p, 0, &chat, &mut Report::default()).await;
    let mut sockets: Vec<Option<Ws>> = vec![match first {
        Ok(ws) => Some(ws),
        Err(e) => {
            setup_errors.push(e);
            None
        }
    }];
    let limit = Arc::new(Semaphore::new(SETUP_CONCURRENCY));
    let joins: Vec<_> = (1..p.run.clients)
        .map(|i| {
            let (p, chat, limit) = (p.clone(), chat.clone(), limit.clone());
            tokio::spawn(async move {
                let _permit = limit.acquire().await;
                setup(&p, i, &chat, &mut Report::default()).await
            })
        })
        .collect();
    for j in joins {
        match j.await {
            Ok(Ok(ws)) => sockets.push(Some(ws)),
            Ok(Err(e)) => {
                setup_errors.push(e);
                sockets.push(None);
            }
            Err(e) => {
                setup_errors.push(format!("setup task failed: {e}"));
                sockets.push(None);
            }
        }
    }
    let setup_secs = setup_began.elapsed().as_secs_f64();
    if !setup_errors.is_empty() {
        println!(
            "{}: scenario=chat setup failed for {} of {} clients",
            p.run.label,
            setup_errors.len(),
            p.run.clients
        );
        for e in setup_errors.iter().take(10) {
            eprintln!("  error: {e}");
        }
        return false;
    }
    let ready = Arc::new(Barrier::new(p.run.clients + 1));
    let tasks: Vec<_> = sockets
        .into_iter()
        .enumerate()
        .map(|(i, ws)| tokio::spawn(client(p.clone(), chat.clone(), ws, ready.clone(), i)))
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
    let stored = reports
        .first()
        .and_then(|r| r.stored.clone())
        .unwrap_or_else(|| Err("client 0 did not read the history".into()));
    figures(
        &p,
        &reports,
        wall,
        setup_secs,
        stored,
        server_figures(before, after, wall),
    )
}

/// Prints the figures line and the first errors; false when something was wrong.
fn figures(
    p: &Params,
    reports: &[Report],
    wall: f64,
    setup_secs: f64,
    stored: Result<i64, String>,
    server: String,
) -> bool {
    let published: u64 = reports.iter().map(|r| r.published).sum();
    let acked: u64 = reports.iter().map(|r| r.acked).sum();
    let delivered: u64 = reports.iter().map(|r| r.delivered).sum();
    let expected = published * p.run.clients as u64;
    let out_of_order: u64 = reports.iter().map(|r| r.out_of_order).sum();
    let mut errors: Vec<&String> = reports.iter().flat_map(|r| r.errors.iter()).collect();
    // Every member must end with every sender's last sequence number.
    let counts: HashMap<usize, u64> = reports
        .iter()
        .enumerate()
        .filter(|(i, _)| *i < p.senders)
        .map(|(i, r)| (i, r.published))
        .collect();
    let wrong = reports
        .iter()
        .filter(|r| {
            counts
                .iter()
                .any(|(s, n)| *n > 0 && r.seen.get(s) != Some(n))
        })
        .count();
    let mut ack: Vec<u32> = reports
        .iter()
        .flat_map(|r| r.ack_us.iter().copied())
        .collect();
    ack.sort_unstable();
    let mut delays: Vec<u32> = reports
        .iter()
        .flat_map(|r| r.delays_us.iter().copied())
        .collect();
    delays.sort_unstable();
    // The history holds every message and each sender's marker.
    let history_ok = match &stored {
        Ok(n) => *n as u64 == published + p.senders as u64,
        Err(_) => false,
    };
    let stored_text = match &stored {
        Ok(n) => n.to_string(),
        Err(e) => {
            errors.push(e);
            "error".into()
        }
    };
    let mut line = format!(
        "{}: scenario=chat members={} senders={} rate={}/s dur={wall:.1}s setup={setup_secs:.1}s \
         published={published} acked={acked} persisted/s={:.0} ack_p50={:.2}ms ack_p99={:.2}ms \
         delivered={delivered}/{expected} delay_p50={:.2}ms delay_p99={:.2}ms delay_max={:.2}ms \
         history={stored_text}",
        p.run.label,
        p.run.clients,
        p.senders,
        p.rate,
        acked as f64 / wall,
        percentile(&ack, 50.0),
        percentile(&ack, 99.0),
        percentile(&delays, 50.0),
        percentile(&delays, 99.0),
        delays.last().copied().unwrap_or(0) as f64 / 1000.0,
    );
    line += &server;
    line += &format!(
        " wrong_members={wrong} out_of_order={out_of_order} errors={}",
        errors.len()
    );
    println!("{line}");
    for e in errors.iter().take(10) {
        eprintln!("  error: {e}");
    }
    errors.is_empty()
        && wrong == 0
        && out_of_order == 0
        && delivered == expected
        && acked == published
        && history_ok
}
