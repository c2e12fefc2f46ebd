//! The dispatcher: owns every domain's webhook registrations, turns the engine's events into
//! durable deliveries (one per interested webhook, numbered per webhook) and hands each to its
//! webhook's delivery task once it is stored.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot};
use tracing::{error, info, warn};

use super::deliver::{Deliverer, ToDeliverer};
use super::{Command, WebhookConfig, WebhookError};
use crate::chat::ChatPush;
use crate::metrics::EngineMetrics;
use crate::model::{EngineEvent, EventSubscription, ModelService};
use crate::perm::Actor;
use crate::sources::Clock;
use crate::store::{
    ChatEventKind, DeliveryRecord, DeliveryStatus, DomainKey, Store, WebhookRecord, WriteOp,
};

/// A registered webhook and the way to its delivery task.
struct Hook {
    record: WebhookRecord,
    next_seq: u64,
    tx: mpsc::UnboundedSender<ToDeliverer>,
    task: tokio::task::JoinHandle<()>,
}

pub(super) struct Dispatcher {
    store: Arc<dyn Store>,
    models: ModelService,
    metrics: Arc<EngineMetrics>,
    clock: Arc<dyn Clock>,
    config: Arc<WebhookConfig>,
    runtime: Handle,
    /// Made with the first webhook (a server with none keeps no TLS roots in memory).
    client: Option<reqwest::Client>,
    hooks: HashMap<DomainKey, Vec<Hook>>,
}

impl Dispatcher {
    pub(super) fn new(
        store: Arc<dyn Store>,
        models: ModelService,
        metrics: Arc<EngineMetrics>,
        clock: Arc<dyn Clock>,
        config: WebhookConfig,
        runtime: Handle,
    ) -> Dispatcher {
        Dispatcher {
            store,
            models,
            metrics,
            clock,
            config: Arc::new(config),
            runtime,
            client: None,
            hooks: HashMap::new(),
        }
    }

    pub(super) async fn run(
        mut self,
        mut rx: mpsc::UnboundedReceiver<Command>,
        mut events: EventSubscription,
    ) {
        self.load();
        let mut bus_open = true;
        loop {
            tokio::select! {
                biased;
                command = rx.recv() => match command {
                    Some(Command::Shutdown { reply }) => {
                        self.shutdown(&mut events).await;
                        let _ = reply.send(());
                        return;
                    }
                    Some(c) => self.command(c).await,
                    None => return,
                },
                event = events.recv(), if bus_open => match event {
                    Some(e) => self.on_event(e).await,
                    None => bus_open = false,
                },
            }
        }
    }

    /// Starts a delivery task for every stored webhook, with its pending deliveries.
    fn load(&mut self) {
        let stored = match self.store.webhooks(None) {
            Ok(w) => w,
            Err(e) => {
                error!(error = %e, "cannot read the webhooks: none will be delivered");
                return;
            }
        };
        for record in stored {
            let deliveries = match self.store.deliveries(&record.domain, &record.id) {
                Ok(d) => d,
                Err(e) => {
                    error!(webhook = %record.id, error = %e, "cannot read a webhook's deliveries");
                    Vec::new()
                }
            };
            let pending = deliveries
                .iter()
                .filter(|d| d.status == DeliveryStatus::Pending)
                .count();
            if pending > 0 {
                info!(webhook = %record.id, domain = %record.domain, pending, "resuming webhook deliveries");
            }
            self.spawn(record, deliveries);
        }
    }

    fn spawn(&mut self, record: WebhookRecord, deliveries: Vec<DeliveryRecord>) {
        if self.client.is_none() {
            self.client = reqwest::Client::builder()
                .timeout(Duration::from_millis(self.config.timeout_ms))
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("tandem-webhooks/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| error!(error = %e, "no HTTP client: webhook deliveries will fail"))
                .ok();
        }
        let next_seq = deliveries.last().map_or(1, |d| d.seq + 1);
        let (tx, rx) = mpsc::unbounded_channel();
        let deliverer = Deliverer::new(
            record.clone(),
            deliveries,
            self.store.clone(),
            self.clock.clone(),
            self.config.clone(),
            self.client.clone(),
            self.metrics.clone(),
        );
        let task = self.runtime.spawn(deliverer.run(rx));
        self.hooks
            .entry(record.domain.clone())
            .or_default()
            .push(Hook {
                record,
                next_seq,
                tx,
                task,
            });
    }

    async fn command(&mut self, command: Command) {
        match command {
            Command::Add { record, reply } => {
                let _ = reply.send(self.add(record).await);
            }
            Command::Remove { domain, id, reply } => {
                let _ = reply.send(self.remove(&domain, &id).await);
            }
            Command::DropDomain { domain, reply } => {
                for hook in self.hooks.remove(&domain).unwrap_or_default() {
                    stop(hook).await;
                }
                let _ = reply.send(());
            }
            Command::Shutdown { reply } => {
                let _ = reply.send(());
            }
        }
    }

    async fn add(&mut self, record: WebhookRecord) -> Result<(), WebhookError> {
        let count = self.hooks.get(&record.domain).map_or(0, Vec::len);
        if count >= self.config.max_per_domain {
            return Err(WebhookError::TooMany(count));
        }
        self.store
            .commit(vec![WriteOp::PutWebhook(record.clone())])
            .await?;
        info!(webhook = %record.id, domain = %record.domain, url = %record.url, "webhook registered");
        self.spawn(record, Vec::new());
        Ok(())
    }

    async fn remove(&mut self, domain: &DomainKey, id: &str) -> Result<(), WebhookError> {
        let hooks = self.hooks.entry(domain.clone()).or_default();
        let Some(at) = hooks.iter().position(|h| h.record.id == id) else {
            return Err(WebhookError::NotFound(id.to_string()));
        };
        let hook = hooks.remove(at);
        stop(hook).await;
        self.store
            .commit(vec![WriteOp::DeleteWebhook {
                domain: domain.clone(),
                id: id.to_string(),
            }])
            .await?;
        info!(webhook = id, domain = %domain, "webhook removed");
        Ok(())
    }

    /// Records every event already published, then stops the delivery tasks.
    async fn shutdown(&mut self, events: &mut EventSubscription) {
        while let Some(e) = events.try_recv() {
            self.on_event(e).await;
        }
        for (_, hooks) in self.hooks.drain() {
            for hook in hooks {
                stop(hook).await;
            }
        }
    }

    /// Stores a delivery of `event` for every webhook of its domain that wants it, then hands
    /// each to its webhook's task.
    async fn on_event(&mut self, event: EngineEvent) {
        let Some(name) = event_name(&event) else {
            return;
        };
        let domain = event.domain().clone();
        let wanted = |h: &Hook| h.record.events.iter().any(|e| e == name);
        if !self
            .hooks
            .get(&domain)
            .is_some_and(|h| h.iter().any(wanted))
        {
            return;
        }
        let data = self.event_data(&event);
        let now = self.clock.now_ms();
        let mut batch = Vec::new();
        let mut made = Vec::new();
        for (i, hook) in self
            .hooks
            .get_mut(&domain)
            .into_iter()
            .flatten()
            .enumerate()
        {
            if !wanted(hook) {
                continue;
            }
            let seq = hook.next_seq;
            hook.next_seq += 1;
            let record = DeliveryRecord {
                domain: domain.clone(),
                webhook: hook.record.id.clone(),
                seq,
                event: name.to_string(),
                payload: payload(&hook.record.id, seq, name, &domain, now, &data),
                status: DeliveryStatus::Pending,
                attempts: 0,
                last_status: None,
                last_error: None,
                created_ms: now,
                last_attempt_ms: None,
            };
            batch.push(WriteOp::PutDelivery(record.clone()));
            made.push((i, record));
        }
        if let Err(e) = self.store.commit(batch).await {
            error!(event = name, domain = %domain, error = %e, "webhook deliveries could not be stored: lost");
            return;
        }
        let hooks = self.hooks.get(&domain).map(Vec::as_slice).unwrap_or(&[]);
        for (i, record) in made {
            if let Some(hook) = hooks.get(i) {
                if hook.tx.send(ToDeliverer::New(record)).is_err() {
                    warn!(webhook = %hook.record.id, "a webhook's delivery task is gone");
                }
            }
        }
    }

    /// The `data` of an event's delivery, as JSON text.
    fn event_data(&self, event: &EngineEvent) -> String {
        match event {
            EngineEvent::ModelCreated {
                model, collection, ..
            }
            | EngineEvent::ModelDeleted {
                model, collection, ..
            } => serde_json::json!({ "model": model, "collection": collection }).to_string(),
            EngineEvent::LastSessionLeft {
                domain,
                model,
                version,
            } => {
                // The model may be gone already (an ephemeral one goes with its last session).
                let found = self.models.data_at(domain, model, *version, &Actor::Host);
                let (collection, data) = match &found {
                    Ok(d) => (
                        serde_json::Value::from(d.collection.clone()),
                        crate::ot::json::value_to_json_text(&d.data),
                    ),
                    Err(_) => (serde_json::Value::Null, "null".to_string()),
                };
                let meta = serde_json::json!({
                    "model": model, "collection": collection, "version": version,
                })
                .to_string();
                // `meta` is an object: its closing brace gives way to the data.
                format!("{},\"data\":{data}}}", &meta[..meta.len() - 1])
            }
            EngineEvent::ChatChanged {
                chat,
                push: ChatPush::Event(e),
                ..
            } => {
                let text = match &e.kind {
                    ChatEventKind::Message(t) => t.as_str(),
                    _ => "",
                };
                serde_json::json!({
                    "chat": chat.as_ref(), "number": e.number, "timestamp_ms": e.timestamp_ms,
                    "user": e.user, "text": text,
                })
                .to_string()
            }
            _ => "null".to_string(),
        }
    }
}

/// The webhook event an engine event is, if any.
fn event_name(event: &EngineEvent) -> Option<&'static str> {
    Some(match event {
        EngineEvent::ModelCreated { .. } => "model.created",
        EngineEvent::ModelDeleted { .. } => "model.deleted",
        EngineEvent::LastSessionLeft { .. } => "model.last_session_left",
        EngineEvent::ChatChanged {
            push: ChatPush::Event(e),
            ..
        } if matches!(e.kind, ChatEventKind::Message(_)) => "chat.message",
        _ => return None,
    })
}

/// The body of a delivery.
fn payload(
    webhook: &str,
    seq: u64,
    event: &str,
    domain: &DomainKey,
    now: i64,
    data: &str,
) -> String {
    let head = serde_json::json!({
        "id": format!("{webhook}.{seq}"),
        "event": event,
        "namespace": domain.namespace,
        "domain": domain.id,
        "time_ms": now,
    })
    .to_string();
    format!("{},\"data\":{data}}}", &head[..head.len() - 1])
}

/// Stops a webhook's delivery task and waits for it to end (and let go of the store).
async fn stop(hook: Hook) {
    let (reply, done) = oneshot::channel();
    if hook.tx.send(ToDeliverer::Stop(reply)).is_ok() {
        let _ = done.await;
    }
    let _ = hook.task.await;
}
