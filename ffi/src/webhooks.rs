//! Webhooks on `tandem_domain` handles (the facade's `api/webhooks.rs`): register a URL for
//! some of the domain's events, list and remove them, read each one's deliveries with their
//! status. `docs/webhooks.md` says what a receiver gets and how it checks the signature.

use std::ffi::{c_char, c_int};

use tandem::api::NewWebhook;

use crate::domain::dom;
use crate::{from_json, guard, put_string, text, to_json, TandemDomain};

/// Registers a webhook from JSON (`{"url": "http://..." | "https://...", "events": [...]}`,
/// events of `model.created`, `model.deleted`, `model.last_session_left`, `chat.message`) and
/// writes it as JSON to `*out_json`: `{"id", "url", "events", "created_ms", "secret"}`, where
/// `secret`, the HMAC-SHA256 key of its signatures, is shown only here. A bad URL or an
/// unknown event is `TANDEM_ERR_INVALID_ARGUMENT`; a domain with the most webhooks its
/// configuration allows, `TANDEM_ERR_INVALID_OPERATION`.
///
/// # Safety
/// `domain` must be a live handle; `webhook_json` NUL-terminated; `out_json` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_add_webhook(
    domain: *const TandemDomain,
    webhook_json: *const c_char,
    out_json: *mut *mut c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, t) = unsafe { (dom(domain)?, text(webhook_json, "webhook_json")?) };
        let webhook: NewWebhook = from_json(t, "webhook_json")?;
        let registered = d.engine().block(d.add_webhook(webhook))?;
        // SAFETY: forwarded contract.
        unsafe { put_string(out_json, to_json(&registered)?) }
    })
}

/// Writes the domain's webhooks, by id, as a JSON array of `{"id", "url", "events",
/// "created_ms"}` to `*out_json`.
///
/// # Safety
/// `domain` must be a live handle; `out_json` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_webhooks(
    domain: *const TandemDomain,
    out_json: *mut *mut c_char,
) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { put_string(out_json, to_json(&dom(domain)?.webhooks()?)?) })
}

/// Removes a webhook with its deliveries. `TANDEM_ERR_NOT_FOUND` if the domain has none of
/// that id.
///
/// # Safety
/// `domain` must be a live handle; `id` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_remove_webhook(
    domain: *const TandemDomain,
    id: *const c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, id) = unsafe { (dom(domain)?, text(id, "id")?) };
        d.engine().block(d.remove_webhook(id))
    })
}

/// Writes a webhook's deliveries (the pending ones and the latest finished ones), newest
/// first, to `*out_json`: a JSON array of `{"id": "<webhook>.<number>", "number", "event",
/// "status": "pending" | "delivered" | "failed", "attempts", "last_status", "last_error",
/// "created_ms", "last_attempt_ms", "payload"}` (`payload` is the posted body as JSON text).
/// `TANDEM_ERR_NOT_FOUND` if the domain has no webhook of that id.
///
/// # Safety
/// `domain` must be a live handle; `id` NUL-terminated; `out_json` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_webhook_deliveries(
    domain: *const TandemDomain,
    id: *const c_char,
    out_json: *mut *mut c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, id) = unsafe { (dom(domain)?, text(id, "id")?) };
        // SAFETY: forwarded contract.
        unsafe { put_string(out_json, to_json(&d.webhook_deliveries(id)?)?) }
    })
}
