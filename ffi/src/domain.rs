//! `tandem_domain`: the facade's `Domain` handle (settings, collections, models, users, keys).

use std::ffi::{c_char, c_int};

use tandem::api::{parse_json, DomainSettings, JwtKey, NewUser};

use crate::{
    free_handle, from_json, guard, handle, invalid, opt_text, put_handle, put_string, text,
    to_json, TandemModel, TandemSubscription,
};

/// A handle on one domain. It keeps the engine's memory alive until freed; after the engine
/// shuts down its calls fail with `TANDEM_ERR_UNAVAILABLE`.
pub struct TandemDomain {
    pub(crate) domain: tandem::api::Domain,
}

impl TandemDomain {
    pub(crate) fn new(domain: tandem::api::Domain) -> Self {
        TandemDomain { domain }
    }
}

/// Frees a domain handle (the domain itself stays). NULL is ignored.
///
/// # Safety
/// `domain` must be NULL or a handle from this library, not freed before and not in use by
/// another thread.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_free(domain: *mut TandemDomain) {
    // SAFETY: forwarded contract.
    unsafe { free_handle(domain) }
}

/// Borrows the facade domain of a handle.
///
/// # Safety
/// As [`handle`].
pub(crate) unsafe fn dom<'a>(
    d: *const TandemDomain,
) -> Result<&'a tandem::api::Domain, tandem::api::Error> {
    // SAFETY: forwarded contract.
    Ok(&unsafe { handle(d, "domain") }?.domain)
}

/// Writes the domain's settings as JSON (`{"display_name", "anonymous_auth",
/// "collection_auto_create", "state": "online" | "maintenance" | "offline",
/// "reconnect_token_minutes", "default_collection_world": ["create", "read", ...]}`) to
/// `*out_json`.
///
/// # Safety
/// `domain` must be a live handle; `out_json` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_settings(
    domain: *const TandemDomain,
    out_json: *mut *mut c_char,
) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { put_string(out_json, to_json(&dom(domain)?.settings()?)?) })
}

/// Replaces the domain's settings with JSON ones (missing fields take their defaults). An
/// unknown permission in `default_collection_world`, or a `reconnect_token_minutes` of 0, is
/// `TANDEM_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `domain` must be a live handle; `settings_json` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_set_settings(
    domain: *const TandemDomain,
    settings_json: *const c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, t) = unsafe { (dom(domain)?, text(settings_json, "settings_json")?) };
        let settings: DomainSettings = from_json(t, "settings_json")?;
        d.engine().block(d.set_settings(settings))
    })
}

/// Allows (`allowed` != 0) or refuses anonymous logins to the domain.
///
/// # Safety
/// `domain` must be a live handle.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_set_anonymous_auth(
    domain: *const TandemDomain,
    allowed: c_int,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let d = unsafe { dom(domain) }?;
        d.engine().block(d.set_anonymous_auth(allowed != 0))
    })
}

/// Creates a collection (no-op if it exists).
///
/// # Safety
/// `domain` must be a live handle; `id` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_create_collection(
    domain: *const TandemDomain,
    id: *const c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, id) = unsafe { (dom(domain)?, text(id, "id")?) };
        d.engine().block(d.create_collection(id))
    })
}

/// Writes the ids of the domain's collections as a JSON array to `*out_json`.
///
/// # Safety
/// `domain` must be a live handle; `out_json` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_collections(
    domain: *const TandemDomain,
    out_json: *mut *mut c_char,
) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { put_string(out_json, to_json(&dom(domain)?.collections()?)?) })
}

/// Deletes a collection and its models.
///
/// # Safety
/// `domain` must be a live handle; `id` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_delete_collection(
    domain: *const TandemDomain,
    id: *const c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, id) = unsafe { (dom(domain)?, text(id, "id")?) };
        d.engine().block(d.delete_collection(id))
    })
}

/// Creates a model in `collection` from JSON data (an object; `\uXXXX` escapes of unpaired
/// surrogates are kept), with the id `model_id` or a new UUID when it is NULL, and stores a
/// handle on it in `*out_model` (NULL if not wanted).
///
/// # Safety
/// `domain` must be a live handle; strings NULL (where allowed) or NUL-terminated;
/// `out_model` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_create_model(
    domain: *const TandemDomain,
    collection: *const c_char,
    model_id: *const c_char,
    data_json: *const c_char,
    out_model: *mut *mut TandemModel,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, c) = unsafe { (dom(domain)?, text(collection, "collection")?) };
        // SAFETY: forwarded contract.
        let (id, data) = unsafe {
            (
                opt_text(model_id, "model_id")?,
                text(data_json, "data_json")?,
            )
        };
        let data = parse_json(data).map_err(|e| invalid(format!("data_json: {e}")))?;
        let model = d.engine().block(d.create_model_json(c, id, &data))?;
        if out_model.is_null() {
            return Ok(());
        }
        // SAFETY: forwarded contract.
        unsafe { put_handle(out_model, TandemModel::new(model)) }
    })
}

/// Stores a handle on an existing model in `*out_model`; `TANDEM_ERR_NOT_FOUND` if there is
/// none.
///
/// # Safety
/// `domain` must be a live handle; `id` NUL-terminated; `out_model` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_model(
    domain: *const TandemDomain,
    id: *const c_char,
    out_model: *mut *mut TandemModel,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, id) = unsafe { (dom(domain)?, text(id, "id")?) };
        let model = d.model(id)?;
        // SAFETY: forwarded contract.
        unsafe { put_handle(out_model, TandemModel::new(model)) }
    })
}

/// Writes the metadata of the domain's models (or of one collection's, when `collection` is
/// not NULL) to `*out_json`: a JSON array of `{"id", "collection", "version", "created_ms",
/// "modified_ms"}`.
///
/// # Safety
/// `domain` must be a live handle; `collection` NULL or NUL-terminated; `out_json` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_models(
    domain: *const TandemDomain,
    collection: *const c_char,
    out_json: *mut *mut c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, c) = unsafe { (dom(domain)?, opt_text(collection, "collection")?) };
        // SAFETY: forwarded contract.
        unsafe { put_string(out_json, to_json(&d.models(c)?)?) }
    })
}

/// Creates a normal user from JSON (the facade's `NewUser`: `{"username", "password",
/// "display_name", "first_name", "last_name", "email"}`, all but `username` optional) and
/// writes the created user as JSON to `*out_user_json` (NULL if not wanted).
///
/// # Safety
/// `domain` must be a live handle; `user_json` NUL-terminated; `out_user_json` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_create_user(
    domain: *const TandemDomain,
    user_json: *const c_char,
    out_user_json: *mut *mut c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, t) = unsafe { (dom(domain)?, text(user_json, "user_json")?) };
        let user: NewUser = from_json(t, "user_json")?;
        let created = d.engine().block(d.create_user(user))?;
        if out_user_json.is_null() {
            return Ok(());
        }
        // SAFETY: forwarded contract.
        unsafe { put_string(out_user_json, to_json(&created)?) }
    })
}

/// Writes the domain's normal users, ordered by username, to `*out_json`: a JSON array of
/// `{"username", "display_name", "first_name", "last_name", "email", "disabled",
/// "has_password", "created_ms", "last_login_ms"}`.
///
/// # Safety
/// `domain` must be a live handle; `out_json` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_users(
    domain: *const TandemDomain,
    out_json: *mut *mut c_char,
) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { put_string(out_json, to_json(&dom(domain)?.users()?)?) })
}

/// Replaces a normal user's password.
///
/// # Safety
/// `domain` must be a live handle; strings NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_set_password(
    domain: *const TandemDomain,
    username: *const c_char,
    password: *const c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let d = unsafe { dom(domain) }?;
        // SAFETY: forwarded contract.
        let (u, p) = unsafe { (text(username, "username")?, text(password, "password")?) };
        d.engine().block(d.set_password(u, p))
    })
}

/// Deletes a normal user and revokes its reconnect tokens.
///
/// # Safety
/// `domain` must be a live handle; `username` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_delete_user(
    domain: *const TandemDomain,
    username: *const c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, u) = unsafe { (dom(domain)?, text(username, "username")?) };
        d.engine().block(d.delete_user(u))
    })
}

/// Adds a key that verifies JWT logins, from JSON (the facade's `JwtKey`: `{"id",
/// "public_key_pem", "description", "enabled"}`, the last two optional), and writes the stored
/// key as JSON to `*out_key_json` (NULL if not wanted).
///
/// # Safety
/// `domain` must be a live handle; `key_json` NUL-terminated; `out_key_json` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_add_jwt_key(
    domain: *const TandemDomain,
    key_json: *const c_char,
    out_key_json: *mut *mut c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, t) = unsafe { (dom(domain)?, text(key_json, "key_json")?) };
        let key: JwtKey = from_json(t, "key_json")?;
        let stored = d.engine().block(d.add_jwt_key(key))?;
        if out_key_json.is_null() {
            return Ok(());
        }
        // SAFETY: forwarded contract.
        unsafe { put_string(out_key_json, to_json(&stored)?) }
    })
}

/// Writes the domain's JWT keys, ordered by id, as a JSON array to `*out_json`.
///
/// # Safety
/// `domain` must be a live handle; `out_json` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_jwt_keys(
    domain: *const TandemDomain,
    out_json: *mut *mut c_char,
) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { put_string(out_json, to_json(&dom(domain)?.jwt_keys()?)?) })
}

/// Removes a JWT key.
///
/// # Safety
/// `domain` must be a live handle; `id` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_remove_jwt_key(
    domain: *const TandemDomain,
    id: *const c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, id) = unsafe { (dom(domain)?, text(id, "id")?) };
        d.engine().block(d.remove_jwt_key(id))
    })
}

/// Subscribes to the domain's events (its models' and its sessions'); stores the subscription
/// in `*out_sub`.
///
/// # Safety
/// `domain` must be a live handle; `out_sub` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_subscribe(
    domain: *const TandemDomain,
    out_sub: *mut *mut TandemSubscription,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let d = unsafe { dom(domain) }?;
        let sub = TandemSubscription::new(d.subscribe(), d.engine().clone());
        // SAFETY: forwarded contract.
        unsafe { put_handle(out_sub, sub) }
    })
}
