//! One webhook's delivery task: posts its pending deliveries one at a time, in order, signed
//! with the webhook's secret; a failed attempt is retried after a backoff (later deliveries
//! wait their turn), and every attempt's outcome is stored.
//!
//! Each request carries `Tandem-Event`, `Tandem-Delivery` (`<webhook>.<number>`, the same on
//! every attempt, for receivers to drop repeats), `Tandem-Timestamp` (epoch ms of the attempt)
//! and `Tandem-Signature: v1=<hex HMAC-SHA256 of "<timestamp>.<body>" keyed by the secret>`.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::sync::{mpsc, oneshot};
use tracing::{info_span, warn, Instrument};

use super::WebhookConfig;
use crate::metrics::EngineMetrics;
use crate::sources::Clock;
use crate::store::{DeliveryRecord, DeliveryStatus, Store, WebhookRecord, WriteOp};

/// Messages to a delivery task.
pub(super) enum ToDeliverer {
    /// A new delivery, already stored.
    New(DeliveryRecord),
    /// Stop (the webhook was removed or the engine shuts down).
    Stop(oneshot::Sender<()>),
}

/// What an attempt got.
struct Outcome {
    status: Option<u16>,
    error: Option<String>,
}

pub(super) struct Deliverer {
    webhook: WebhookRecord,
    queue: VecDeque<DeliveryRecord>,
    finished: VecDeque<u64>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    config: Arc<WebhookConfig>,
    client: Option<reqwest::Client>,
    metrics: Arc<EngineMetrics>,
}

impl Deliverer {
    pub(super) fn new(
        webhook: WebhookRecord,
        deliveries: Vec<DeliveryRecord>,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        config: Arc<WebhookConfig>,
        client: Option<reqwest::Client>,
        metrics: Arc<EngineMetrics>,
    ) -> Deliverer {
        let (queue, finished): (Vec<_>, Vec<_>) = deliveries
            .into_iter()
            .partition(|d| d.status == DeliveryStatus::Pending);
        Deliverer {
            webhook,
            queue: queue.into(),
            finished: finished.into_iter().map(|d| d.seq).collect(),
            store,
            clock,
            config,
            client,
            metrics,
        }
    }

    pub(super) async fn run(mut self, mut rx: mpsc::UnboundedReceiver<ToDeliverer>) {
        let span = info_span!("webhook", id = %self.webhook.id, domain = %self.webhook.domain);
        async move {
            loop {
                let Some(head) = self.queue.front().cloned() else {
                    match rx.recv().await {
                        Some(ToDeliverer::New(d)) => self.queue.push_back(d),
                        Some(ToDeliverer::Stop(done)) => return stopped(done),
                        None => return,
                    }
                    continue;
                };
                let wait = self.wait_before(&head);
                let mut arrived = Vec::new();
                let outcome = {
                    let attempt = async {
                        tokio::time::sleep(wait).await;
                        self.attempt(&head).await
                    };
                    tokio::pin!(attempt);
                    loop {
                        tokio::select! {
                            o = &mut attempt => break Some(Ok(o)),
                            m = rx.recv() => match m {
                                Some(ToDeliverer::New(d)) => arrived.push(d),
                                Some(ToDeliverer::Stop(done)) => break Some(Err(done)),
                                None => break None,
                            },
                        }
                    }
                };
                self.queue.extend(arrived);
                match outcome {
                    Some(Ok((outcome, at))) => self.record(head, outcome, at).await,
                    Some(Err(done)) => return stopped(done),
                    None => return,
                }
            }
        }
        .instrument(span)
        .await
    }

    /// How long to wait before attempting `d` again after its failures.
    fn wait_before(&self, d: &DeliveryRecord) -> Duration {
        let Some(last) = d.last_attempt_ms.filter(|_| d.attempts > 0) else {
            return Duration::ZERO;
        };
        let elapsed = u64::try_from(self.clock.now_ms() - last).unwrap_or(0);
        self.config
            .backoff(d.attempts)
            .saturating_sub(Duration::from_millis(elapsed))
    }

    /// Posts `d` once; answers the outcome and when the attempt was made.
    async fn attempt(&self, d: &DeliveryRecord) -> (Outcome, i64) {
        let now = self.clock.now_ms();
        let Some(client) = &self.client else {
            let error = Some("no HTTP client".to_string());
            return (
                Outcome {
                    status: None,
                    error,
                },
                now,
            );
        };
        let request = client
            .post(&self.webhook.url)
            .header("Content-Type", "application/json")
            .header("Tandem-Event", &d.event)
            .header("Tandem-Delivery", format!("{}.{}", d.webhook, d.seq))
            .header("Tandem-Timestamp", now.to_string())
            .header(
                "Tandem-Signature",
                signature(&self.webhook.secret, now, &d.payload),
            )
            .body(d.payload.clone());
        let outcome = match request.send().await {
            Ok(r) if r.status().is_success() => Outcome {
                status: Some(r.status().as_u16()),
                error: None,
            },
            Ok(r) => Outcome {
                status: Some(r.status().as_u16()),
                error: Some(format!("the receiver answered {}", r.status())),
            },
            Err(e) => Outcome {
                status: None,
                error: Some(describe(&e)),
            },
        };
        (outcome, now)
    }

    /// Stores the outcome of an attempt on the head delivery (and deletes the oldest finished
    /// deliveries beyond the number kept).
    async fn record(&mut self, mut d: DeliveryRecord, outcome: Outcome, at: i64) {
        d.attempts = d.attempts.saturating_add(1);
        d.last_attempt_ms = Some(at);
        d.last_status = outcome.status;
        d.status = match &outcome.error {
            None => DeliveryStatus::Delivered,
            Some(_) if d.attempts >= self.config.max_attempts => DeliveryStatus::Failed,
            Some(_) => DeliveryStatus::Pending,
        };
        let counter = match (&outcome.error, d.status) {
            (None, _) => &self.metrics.webhook_delivered,
            (Some(_), DeliveryStatus::Failed) => {
                self.metrics
                    .webhook_given_up
                    .fetch_add(1, Ordering::Relaxed);
                &self.metrics.webhook_failed_attempts
            }
            (Some(_), _) => &self.metrics.webhook_failed_attempts,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        if let Some(e) = &outcome.error {
            warn!(delivery = d.seq, attempts = d.attempts, error = %e, "webhook delivery failed");
        }
        d.last_error = outcome.error;
        if d.status != DeliveryStatus::Pending {
            // Only a start is kept of a finished delivery's body (a model's JSON can be large).
            shorten(&mut d.payload, KEPT_PAYLOAD_BYTES);
        }
        let mut batch = vec![WriteOp::PutDelivery(d.clone())];
        if d.status != DeliveryStatus::Pending {
            self.finished.push_back(d.seq);
            while self.finished.len() > self.config.keep_deliveries {
                if let Some(seq) = self.finished.pop_front() {
                    batch.push(WriteOp::DeleteDelivery {
                        domain: d.domain.clone(),
                        webhook: d.webhook.clone(),
                        seq,
                    });
                }
            }
        }
        if let Err(e) = self.store.commit(batch).await {
            warn!(delivery = d.seq, error = %e, "a webhook delivery's outcome could not be stored");
        }
        if d.status == DeliveryStatus::Pending {
            if let Some(front) = self.queue.front_mut() {
                *front = d;
            }
        } else {
            self.queue.pop_front();
        }
    }
}

/// How much of a finished delivery's body is kept, in bytes.
const KEPT_PAYLOAD_BYTES: usize = 4096;

/// Cuts `text` to at most `max` bytes (at a character boundary), marking the cut with `…`.
fn shorten(text: &mut String, max: usize) {
    if text.len() <= max {
        return;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push('…');
}

fn stopped(done: oneshot::Sender<()>) {
    let _ = done.send(());
}

/// `v1=` and the hex HMAC-SHA256 of `"<timestamp>.<body>"` keyed by `secret`.
pub(crate) fn signature(secret: &str, timestamp_ms: i64, body: &str) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        // HMAC takes a key of any length.
        Err(_) => return String::new(),
    };
    mac.update(timestamp_ms.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("v1={}", crate::auth::hex(&mac.finalize().into_bytes()))
}

/// A request error in a line, with its cause (a refused connection, a timeout, ...).
fn describe(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        "could not connect".to_string()
    } else {
        "request failed".to_string()
    };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::{shorten, signature};

    #[test]
    fn finished_bodies_are_shortened_at_a_character_boundary() {
        let mut s = "aé".repeat(3);
        shorten(&mut s, 4);
        assert_eq!(s, "aéa…");
        let mut short = "abc".to_string();
        shorten(&mut short, 4);
        assert_eq!(short, "abc");
    }

    #[test]
    fn signature_is_the_hmac_of_timestamp_and_body() {
        // HMAC-SHA256("key", "1.{}") computed independently (Python's hmac module).
        assert_eq!(
            signature("key", 1, "{}"),
            "v1=1ba6b8171186efc613e8bcc0cbdab2748f24984d7c5a84faa2637afa0e40d224"
        );
    }
}
