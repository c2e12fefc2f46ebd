//! Webhooks: per domain, an operator registers URLs for engine events (a model created or
//! deleted, the last session leaving a model, a chat message). Every event a webhook wants
//! becomes a delivery in a durable outbox as it happens; one task per webhook posts its
//! deliveries in order, signed with the webhook's secret, retrying with backoff, and records
//! each attempt's outcome. A restart resumes every pending delivery.
//!
//! One dispatcher task owns the registrations and turns events into deliveries; one task per
//! webhook owns its outbox. Both are reached by messages.

mod deliver;
mod dispatch;

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot};

use crate::model::{EventBus, ModelService};
use crate::sources::Clock;
use crate::store::{DeliveryRecord, DomainKey, Store, StoreError, WebhookRecord};

/// The events a webhook may ask for.
pub const WEBHOOK_EVENTS: [&str; 4] = [
    "model.created",
    "model.deleted",
    "model.last_session_left",
    "chat.message",
];

/// Longest webhook URL taken.
pub const MAX_URL_LEN: usize = 2048;

/// How deliveries are made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    /// How long one attempt may take, in milliseconds.
    pub timeout_ms: u64,
    /// The wait after the first failed attempt, in milliseconds; it doubles after each
    /// further failure.
    pub retry_initial_ms: u64,
    /// The longest wait between attempts, in milliseconds.
    pub retry_max_ms: u64,
    /// Attempts before a delivery is given up (marked failed).
    pub max_attempts: u32,
    /// Finished deliveries kept per webhook (older ones are deleted).
    pub keep_deliveries: usize,
    /// Webhooks a domain may have.
    pub max_per_domain: usize,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            timeout_ms: 10_000,
            retry_initial_ms: 1_000,
            retry_max_ms: 600_000,
            max_attempts: 15,
            keep_deliveries: 100,
            max_per_domain: 20,
        }
    }
}

impl WebhookConfig {
    /// Why the configuration cannot work, if it cannot.
    pub fn problem(&self) -> Option<String> {
        if self.timeout_ms == 0 || self.retry_initial_ms == 0 || self.max_attempts == 0 {
            return Some(
                "webhooks: timeout_ms, retry_initial_ms and max_attempts must be positive".into(),
            );
        }
        if self.retry_max_ms < self.retry_initial_ms {
            return Some("webhooks: retry_max_ms must be at least retry_initial_ms".into());
        }
        None
    }

    /// The wait after `attempts` failed attempts.
    fn backoff(&self, attempts: u32) -> Duration {
        let shift = attempts.saturating_sub(1).min(30);
        let ms = self.retry_initial_ms.saturating_mul(1 << shift);
        Duration::from_millis(ms.min(self.retry_max_ms))
    }
}

/// Why a webhook request failed.
#[derive(Debug, Error)]
pub enum WebhookError {
    /// The request is malformed (URL, events).
    #[error("{0}")]
    Invalid(String),
    /// No such webhook.
    #[error("no webhook {0:?}")]
    NotFound(String),
    /// The domain has as many webhooks as it may.
    #[error("the domain already has {0} webhooks (the most it may have)")]
    TooMany(usize),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The engine is shutting down.
    #[error("webhooks are shut down")]
    Closed,
}

enum Command {
    Add {
        record: WebhookRecord,
        reply: oneshot::Sender<Result<(), WebhookError>>,
    },
    Remove {
        domain: DomainKey,
        id: String,
        reply: oneshot::Sender<Result<(), WebhookError>>,
    },
    DropDomain {
        domain: DomainKey,
        reply: oneshot::Sender<()>,
    },
    Shutdown {
        reply: oneshot::Sender<()>,
    },
}

/// The webhooks of every domain: registrations and their deliveries.
#[derive(Clone)]
pub struct WebhookService {
    tx: mpsc::UnboundedSender<Command>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    task: Arc<std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

impl WebhookService {
    /// Starts the dispatcher (and a delivery task per stored webhook, which resumes its
    /// pending deliveries).
    pub fn start(
        runtime: &Handle,
        store: Arc<dyn Store>,
        bus: &EventBus,
        models: ModelService,
        clock: Arc<dyn Clock>,
        config: WebhookConfig,
    ) -> WebhookService {
        let (tx, rx) = mpsc::unbounded_channel();
        let metrics = models.metrics().clone();
        let dispatcher = dispatch::Dispatcher::new(
            store.clone(),
            models,
            metrics,
            clock.clone(),
            config,
            runtime.clone(),
        );
        let events = bus.subscribe(crate::model::EventFilter {
            without_operations: true,
            ..Default::default()
        });
        let task = runtime.spawn(dispatcher.run(rx, events));
        WebhookService {
            tx,
            store,
            clock,
            task: Arc::new(std::sync::Mutex::new(Some(task))),
        }
    }

    async fn ask<T>(
        &self,
        command: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, WebhookError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(command(reply))
            .map_err(|_| WebhookError::Closed)?;
        rx.await.map_err(|_| WebhookError::Closed)
    }

    /// Registers a webhook for `events` at `url`; answers it with its new secret.
    pub async fn add(
        &self,
        domain: &DomainKey,
        url: &str,
        events: Vec<String>,
    ) -> Result<WebhookRecord, WebhookError> {
        check_url(url)?;
        let events = check_events(events)?;
        let record = WebhookRecord {
            domain: domain.clone(),
            id: crate::auth::random_hex(8),
            url: url.to_string(),
            events,
            secret: crate::auth::random_hex(32),
            created_ms: self.clock.now_ms(),
        };
        let r = record.clone();
        self.ask(|reply| Command::Add { record: r, reply })
            .await??;
        Ok(record)
    }

    /// Removes a webhook with its deliveries (a delivery under way is abandoned).
    pub async fn remove(&self, domain: &DomainKey, id: &str) -> Result<(), WebhookError> {
        let (domain, id) = (domain.clone(), id.to_string());
        self.ask(|reply| Command::Remove { domain, id, reply })
            .await?
    }

    /// Forgets a domain's webhooks before the domain is deleted (its events from then on
    /// make no deliveries).
    pub async fn drop_domain(&self, domain: &DomainKey) {
        let domain = domain.clone();
        let _ = self
            .ask(|reply| Command::DropDomain { domain, reply })
            .await;
    }

    /// The webhooks of a domain, by id.
    pub fn list(&self, domain: &DomainKey) -> Result<Vec<WebhookRecord>, WebhookError> {
        Ok(self.store.webhooks(Some(domain))?)
    }

    /// A webhook's deliveries, newest first.
    pub fn deliveries(
        &self,
        domain: &DomainKey,
        id: &str,
    ) -> Result<Vec<DeliveryRecord>, WebhookError> {
        if !self.list(domain)?.iter().any(|w| w.id == id) {
            return Err(WebhookError::NotFound(id.to_string()));
        }
        let mut out = self.store.deliveries(domain, id)?;
        out.reverse();
        Ok(out)
    }

    /// Records the events already published, then stops every delivery task (a delivery
    /// under way is attempted again on the next start).
    pub async fn shutdown(&self) {
        let _ = self.ask(|reply| Command::Shutdown { reply }).await;
        let task = self.task.lock().ok().and_then(|mut t| t.take());
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

fn check_url(url: &str) -> Result<(), WebhookError> {
    if url.len() > MAX_URL_LEN {
        return Err(WebhookError::Invalid(format!(
            "the URL is longer than {MAX_URL_LEN} bytes"
        )));
    }
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| WebhookError::Invalid(format!("invalid URL {url:?}: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(WebhookError::Invalid(format!(
            "the URL must be http:// or https:// with a host, not {url:?}"
        )));
    }
    Ok(())
}

fn check_events(mut events: Vec<String>) -> Result<Vec<String>, WebhookError> {
    if events.is_empty() {
        return Err(WebhookError::Invalid(
            "a webhook needs at least one event".into(),
        ));
    }
    if let Some(e) = events
        .iter()
        .find(|e| !WEBHOOK_EVENTS.contains(&e.as_str()))
    {
        return Err(WebhookError::Invalid(format!(
            "unknown event {e:?} (known: {})",
            WEBHOOK_EVENTS.join(", ")
        )));
    }
    events.sort();
    events.dedup();
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_events_are_checked() {
        assert!(check_url("http://127.0.0.1:9/hook").is_ok());
        assert!(check_url("https://example.com/a?b=c").is_ok());
        for bad in [
            "",
            "ftp://x/",
            "127.0.0.1:80",
            "http://",
            "javascript:alert(1)",
        ] {
            assert!(check_url(bad).is_err(), "{bad:?} was taken");
        }
        assert!(check_url(&format!("http://h/{}", "a".repeat(MAX_URL_LEN))).is_err());
        assert!(check_events(vec![]).is_err());
        assert!(check_events(vec!["model.exploded".into()]).is_err());
        assert_eq!(
            check_events(vec![
                "chat.message".into(),
                "model.created".into(),
                "chat.message".into()
            ])
            .unwrap(),
            vec!["chat.message".to_string(), "model.created".to_string()]
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let c = WebhookConfig {
            retry_initial_ms: 100,
            retry_max_ms: 1_000,
            ..WebhookConfig::default()
        };
        let waits: Vec<u64> = (1..=6).map(|a| c.backoff(a).as_millis() as u64).collect();
        assert_eq!(waits, vec![100, 200, 400, 800, 1_000, 1_000]);
        assert_eq!(c.backoff(u32::MAX), Duration::from_millis(1_000));
    }
}
