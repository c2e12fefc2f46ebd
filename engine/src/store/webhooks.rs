//! Webhooks: URLs an operator registers per domain for engine events, and the durable outbox
//! of their deliveries (each kept with its status until it is pruned).

use super::DomainKey;

/// A registered webhook.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookRecord {
    /// Its domain.
    pub domain: DomainKey,
    /// Its id (unique within the domain).
    pub id: String,
    /// Where deliveries are posted.
    pub url: String,
    /// The events it receives (`model.created`, `model.deleted`, `model.last_session_left`,
    /// `chat.message`).
    pub events: Vec<String>,
    /// The key deliveries are signed with (HMAC-SHA256).
    pub secret: String,
    /// Creation time (epoch ms).
    pub created_ms: i64,
}

impl std::fmt::Debug for WebhookRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookRecord")
            .field("domain", &self.domain)
            .field("id", &self.id)
            .field("url", &self.url)
            .field("events", &self.events)
            .field("created_ms", &self.created_ms)
            .finish_non_exhaustive()
    }
}

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Not delivered yet (waiting for its turn or for its next attempt).
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Every attempt failed; it is not tried again.
    Failed,
}

/// One event for one webhook, from the moment it happened until it is delivered or given up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryRecord {
    /// Its domain.
    pub domain: DomainKey,
    /// Its webhook.
    pub webhook: String,
    /// Its number within the webhook (deliveries go out in this order).
    pub seq: u64,
    /// The event's name.
    pub event: String,
    /// The body posted (JSON text).
    pub payload: String,
    /// Where it stands.
    pub status: DeliveryStatus,
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
}
