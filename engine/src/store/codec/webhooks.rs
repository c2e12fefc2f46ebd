//! Webhook and delivery records (each repeats its domain, so that it decodes on its own).

use prost::Message;

use super::{corrupt, put};
use crate::store::{DeliveryRecord, DeliveryStatus, DomainKey, StoreResult, WebhookRecord};

#[derive(Clone, PartialEq, Message)]
struct PWebhook {
    #[prost(string, tag = "1")]
    namespace: String,
    #[prost(string, tag = "2")]
    domain: String,
    #[prost(string, tag = "3")]
    id: String,
    #[prost(string, tag = "4")]
    url: String,
    #[prost(string, repeated, tag = "5")]
    events: Vec<String>,
    #[prost(string, tag = "6")]
    secret: String,
    #[prost(sint64, tag = "7")]
    created_ms: i64,
}

#[derive(Clone, PartialEq, Message)]
struct PDelivery {
    #[prost(string, tag = "1")]
    namespace: String,
    #[prost(string, tag = "2")]
    domain: String,
    #[prost(string, tag = "3")]
    webhook: String,
    #[prost(uint64, tag = "4")]
    seq: u64,
    #[prost(string, tag = "5")]
    event: String,
    #[prost(string, tag = "6")]
    payload: String,
    /// 0 pending, 1 delivered, 2 failed.
    #[prost(uint32, tag = "7")]
    status: u32,
    #[prost(uint32, tag = "8")]
    attempts: u32,
    #[prost(uint32, optional, tag = "9")]
    last_status: Option<u32>,
    #[prost(string, optional, tag = "10")]
    last_error: Option<String>,
    #[prost(sint64, tag = "11")]
    created_ms: i64,
    #[prost(sint64, optional, tag = "12")]
    last_attempt_ms: Option<i64>,
}

/// Encodes a webhook record.
pub fn encode_webhook(r: &WebhookRecord, buf: &mut Vec<u8>) {
    put(
        &PWebhook {
            namespace: r.domain.namespace.clone(),
            domain: r.domain.id.clone(),
            id: r.id.clone(),
            url: r.url.clone(),
            events: r.events.clone(),
            secret: r.secret.clone(),
            created_ms: r.created_ms,
        },
        buf,
    );
}

/// Decodes a webhook record.
pub fn decode_webhook(bytes: &[u8]) -> StoreResult<WebhookRecord> {
    let p = PWebhook::decode(bytes).map_err(|e| corrupt("webhook record", e))?;
    Ok(WebhookRecord {
        domain: DomainKey::new(p.namespace, p.domain),
        id: p.id,
        url: p.url,
        events: p.events,
        secret: p.secret,
        created_ms: p.created_ms,
    })
}

/// Encodes a delivery record.
pub fn encode_delivery(r: &DeliveryRecord, buf: &mut Vec<u8>) {
    put(
        &PDelivery {
            namespace: r.domain.namespace.clone(),
            domain: r.domain.id.clone(),
            webhook: r.webhook.clone(),
            seq: r.seq,
            event: r.event.clone(),
            payload: r.payload.clone(),
            status: match r.status {
                DeliveryStatus::Pending => 0,
                DeliveryStatus::Delivered => 1,
                DeliveryStatus::Failed => 2,
            },
            attempts: r.attempts,
            last_status: r.last_status.map(u32::from),
            last_error: r.last_error.clone(),
            created_ms: r.created_ms,
            last_attempt_ms: r.last_attempt_ms,
        },
        buf,
    );
}

/// Decodes a delivery record.
pub fn decode_delivery(bytes: &[u8]) -> StoreResult<DeliveryRecord> {
    let p = PDelivery::decode(bytes).map_err(|e| corrupt("delivery record", e))?;
    let status = match p.status {
        0 => DeliveryStatus::Pending,
        1 => DeliveryStatus::Delivered,
        2 => DeliveryStatus::Failed,
        n => return Err(corrupt("delivery record", format!("status {n}"))),
    };
    Ok(DeliveryRecord {
        domain: DomainKey::new(p.namespace, p.domain),
        webhook: p.webhook,
        seq: p.seq,
        event: p.event,
        payload: p.payload,
        status,
        attempts: p.attempts,
        last_status: p.last_status.and_then(|s| u16::try_from(s).ok()),
        last_error: p.last_error,
        created_ms: p.created_ms,
        last_attempt_ms: p.last_attempt_ms,
    })
}
