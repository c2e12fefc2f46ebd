//! Webhooks for hosts and operators: register a URL for a domain's events, list and remove
//! them, and read each one's deliveries with their status. See `docs/webhooks.md` for what a
//! receiver gets and how it checks the signature.

use serde::{Deserialize, Serialize};

use super::{Domain, Result};
use crate::store::{DeliveryRecord, DeliveryStatus, WebhookRecord};
pub use crate::webhook::WEBHOOK_EVENTS;

/// A webhook to register.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// Where deliveries are posted (`http://` or `https://`).
    pub url: String,
    /// The events it receives: `model.created`, `model.deleted`, `model.last_session_left`,
    /// `chat.message`.
    pub events: Vec<String>,
}

/// A registered webhook.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
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

impl From<WebhookRecord> for Webhook {
    fn from(r: WebhookRecord) -> Self {
        Webhook {
            id: r.id,
            url: r.url,
            events: r.events,
            created_ms: r.created_ms,
        }
    }
}

/// A webhook just registered, with the secret its deliveries are signed with (shown only
/// now).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RegisteredWebhook {
    /// The webhook.
    #[serde(flatten)]
    pub webhook: Webhook,
    /// The HMAC-SHA256 key of its signatures.
    pub secret: String,
}

/// One event's delivery to a webhook.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
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
    /// The body posted (JSON text); of a finished delivery, only its first 4 KiB.
    pub payload: String,
}

impl From<DeliveryRecord> for WebhookDelivery {
    fn from(d: DeliveryRecord) -> Self {
        WebhookDelivery {
            id: format!("{}.{}", d.webhook, d.seq),
            number: d.seq,
            event: d.event,
            status: match d.status {
                DeliveryStatus::Pending => "pending",
                DeliveryStatus::Delivered => "delivered",
                DeliveryStatus::Failed => "failed",
            }
            .to_string(),
            attempts: d.attempts,
            last_status: d.last_status,
            last_error: d.last_error,
            created_ms: d.created_ms,
            last_attempt_ms: d.last_attempt_ms,
            payload: d.payload,
        }
    }
}

impl Domain {
    /// Registers a webhook for some of this domain's events; answers it with its secret.
    pub async fn add_webhook(&self, webhook: NewWebhook) -> Result<RegisteredWebhook> {
        self.engine.check()?;
        let service = &self.engine.inner.webhooks;
        let r = service.add(&self.key, &webhook.url, webhook.events).await?;
        let secret = r.secret.clone();
        Ok(RegisteredWebhook {
            webhook: r.into(),
            secret,
        })
    }

    /// The domain's webhooks, by id.
    pub fn webhooks(&self) -> Result<Vec<Webhook>> {
        self.engine.check()?;
        let found = self.engine.inner.webhooks.list(&self.key)?;
        Ok(found.into_iter().map(Webhook::from).collect())
    }

    /// Removes a webhook with its deliveries.
    pub async fn remove_webhook(&self, id: &str) -> Result<()> {
        self.engine.check()?;
        Ok(self.engine.inner.webhooks.remove(&self.key, id).await?)
    }

    /// A webhook's deliveries (the pending ones and the latest finished ones), newest first.
    pub fn webhook_deliveries(&self, id: &str) -> Result<Vec<WebhookDelivery>> {
        self.engine.check()?;
        let found = self.engine.inner.webhooks.deliveries(&self.key, id)?;
        Ok(found.into_iter().map(WebhookDelivery::from).collect())
    }
}
