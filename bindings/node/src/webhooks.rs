//! Webhooks on `NativeDomain` (the facade's `api/webhooks.rs`): register a URL for some of the
//! domain's events, list and remove them, read each one's deliveries with their status. Inputs
//! and outputs are plain JS objects in the facade's serde forms (`NewWebhook`,
//! `RegisteredWebhook`, `Webhook`, `WebhookDelivery`).

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::Value;
use tandem::api::NewWebhook;

use crate::{input, output, settle, NativeDomain};

#[napi]
impl NativeDomain {
    /// Registers a webhook (`NewWebhook`: `{ url, events }`); resolves to the
    /// `RegisteredWebhook`, whose `secret` (the key of its signatures) is shown only there.
    #[napi]
    pub fn add_webhook<'e>(&self, env: &'e Env, webhook: Value) -> Result<PromiseRaw<'e, Value>> {
        settle(
            env,
            self.spawn(|d| async move {
                let webhook: NewWebhook = input(Some(webhook), "webhook")?;
                output(&d.add_webhook(webhook).await?)
            }),
        )
    }

    /// The domain's webhooks (`Webhook[]`), by id.
    #[napi]
    pub fn webhooks<'e>(&self, env: &'e Env) -> Result<PromiseRaw<'e, Value>> {
        settle(env, self.spawn(|d| async move { output(&d.webhooks()?) }))
    }

    /// Removes a webhook with its deliveries.
    #[napi]
    pub fn remove_webhook<'e>(&self, env: &'e Env, id: String) -> Result<PromiseRaw<'e, ()>> {
        settle(
            env,
            self.spawn(|d| async move { d.remove_webhook(&id).await }),
        )
    }

    /// A webhook's deliveries (`WebhookDelivery[]`: the pending ones and the latest finished
    /// ones), newest first.
    #[napi]
    pub fn webhook_deliveries<'e>(
        &self,
        env: &'e Env,
        id: String,
    ) -> Result<PromiseRaw<'e, Value>> {
        settle(
            env,
            self.spawn(|d| async move { output(&d.webhook_deliveries(&id)?) }),
        )
    }
}
