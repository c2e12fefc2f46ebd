//! Webhooks on [`Domain`] (the facade's `api/webhooks.rs`): register a URL for some of the
//! domain's events, list and remove them, read each one's deliveries with their status.

use tandem::api;

use crate::{run, Domain, Result};

/// A webhook to register.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NewWebhook {
    /// Where deliveries are posted (`http://` or `https://`).
    pub url: String,
    /// The events it receives: `model.created`, `model.deleted`, `model.last_session_left`,
    /// `chat.message`.
    pub events: Vec<String>,
}

impl From<NewWebhook> for api::NewWebhook {
    fn from(w: NewWebhook) -> Self {
        api::NewWebhook {
            url: w.url,
            events: w.events,
        }
    }
}

/// A registered webhook.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Webhook {
    /// Its id.
    pub id: String,
    /// Where deliveries are posted.
    pub url: String,
    /// The events it receives.
    pub events: Vec<String>,
    /// Creation time (epoch ms).
    pub created_ms: i64,
}

impl From<api::Webhook> for Webhook {
    fn from(w: api::Webhook) -> Self {
        Webhook {
            id: w.id,
            url: w.url,
            events: w.events,
            created_ms: w.created_ms,
        }
    }
}

/// A webhook just registered, with the secret its deliveries are signed with (shown only
/// now).
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct RegisteredWebhook {
    /// The webhook.
    pub webhook: Webhook,
    /// The HMAC-SHA256 key of its signatures.
    pub secret: String,
}

impl std::fmt::Debug for RegisteredWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisteredWebhook")
            .field("webhook", &self.webhook)
            .finish_non_exhaustive()
    }
}

impl From<api::RegisteredWebhook> for RegisteredWebhook {
    fn from(r: api::RegisteredWebhook) -> Self {
        RegisteredWebhook {
            webhook: r.webhook.into(),
            secret: r.secret,
        }
    }
}

/// One event's delivery to a webhook.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct WebhookDelivery {
    /// Its id, as the `Tandem-Delivery` header gives it: `<webhook>.<number>`.
    pub id: String,
    /// Its number within the webhook (deliveries go out in this order).
    pub number: u64,
    /// The event.
    pub event: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    /// Attempts made.
    pub attempts: u32,
    /// The HTTP status of the last attempt, if the receiver answered.
    pub last_status: Option<u16>,
    /// Why the last attempt failed, if it did.
    pub last_error: Option<String>,
    /// When the event happened (epoch ms).
    pub created_ms: i64,
    /// When it was last attempted (epoch ms).
    pub last_attempt_ms: Option<i64>,
    /// The body posted (JSON text).
    pub payload: String,
}

impl From<api::WebhookDelivery> for WebhookDelivery {
    fn from(d: api::WebhookDelivery) -> Self {
        WebhookDelivery {
            id: d.id,
            number: d.number,
            event: d.event,
            status: d.status,
            attempts: d.attempts,
            last_status: d.last_status,
            last_error: d.last_error,
            created_ms: d.created_ms,
            last_attempt_ms: d.last_attempt_ms,
            payload: d.payload,
        }
    }
}

#[uniffi::export]
impl Domain {
    /// Registers a webhook for some of this domain's events; answers it with its secret.
    /// `InvalidArgument` for a bad URL or an unknown event, `InvalidOperation` when the domain
    /// has as many webhooks as the configuration allows.
    pub async fn add_webhook(&self, webhook: NewWebhook) -> Result<RegisteredWebhook> {
        let d = self.inner.clone();
        let e = d.engine().clone();
        let added = run(&e, async move { d.add_webhook(webhook.into()).await });
        Ok(added.await?.into())
    }

    /// The domain's webhooks, by id.
    pub fn webhooks(&self) -> Result<Vec<Webhook>> {
        let list = self.inner.webhooks()?;
        Ok(list.into_iter().map(Webhook::from).collect())
    }

    /// Removes a webhook with its deliveries (`NotFound` if there is none).
    pub async fn remove_webhook(&self, id: String) -> Result<()> {
        let d = self.inner.clone();
        let e = d.engine().clone();
        run(&e, async move { d.remove_webhook(&id).await }).await
    }

    /// A webhook's deliveries (the pending ones and the latest finished ones), newest first.
    pub fn webhook_deliveries(&self, id: String) -> Result<Vec<WebhookDelivery>> {
        let list = self.inner.webhook_deliveries(&id)?;
        Ok(list.into_iter().map(WebhookDelivery::from).collect())
    }
}
