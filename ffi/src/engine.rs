//! `tandem_engine`: the facade's `HostedEngine` (its own runtime, at most one listener).

use std::ffi::{c_char, c_int};

use tandem::api::{
    net_config_from_json, DomainSettings, EngineConfig, Error, ErrorCode, HostedEngine,
};

use crate::{
    free_handle, guard, handle, input, opt_text, put_handle, put_string, text, to_json,
    TandemDomain, TandemSubscription,
};

/// An engine: the store, the services, a runtime of its own and at most one listener.
pub struct TandemEngine {
    hosted: HostedEngine,
}

/// The facade engine of a handle (`TANDEM_ERR_UNAVAILABLE` once it is shut down).
///
/// # Safety
/// As [`handle`].
pub(crate) unsafe fn eng(e: *const TandemEngine) -> Result<tandem::api::Engine, Error> {
    // SAFETY: forwarded contract.
    unsafe { handle(e, "engine") }?.hosted.engine()
}

/// Opens an engine from a JSON configuration (the facade's `EngineConfig`; NULL or "{}" for
/// defaults, which keep everything in memory) and stores it in `*out_engine`. Release it with
/// [`tandem_engine_free`].
///
/// # Safety
/// `config_json` must be NULL or NUL-terminated; `out_engine` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_engine_open(
    config_json: *const c_char,
    out_engine: *mut *mut TandemEngine,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let config = match unsafe { opt_text(config_json, "config_json") }? {
            Some(t) => EngineConfig::from_json(t)?,
            None => EngineConfig::default(),
        };
        let hosted = HostedEngine::open(config)?;
        // SAFETY: forwarded contract.
        unsafe { put_handle(out_engine, TandemEngine { hosted }) }
    })
}

/// Shuts the engine down (stops listening, closes sessions, flushes, ends subscriptions) and
/// frees it. The data directory is released once the domain, model and subscription handles
/// of the engine are freed too. NULL is ignored.
///
/// # Safety
/// `engine` must be NULL or from `tandem_engine_open`, not freed before, and not in use by
/// another thread.
#[no_mangle]
pub unsafe extern "C" fn tandem_engine_free(engine: *mut TandemEngine) {
    if !engine.is_null() {
        // SAFETY: forwarded contract.
        let _ = tandem_engine_shutdown(unsafe { &*engine });
        // SAFETY: forwarded contract.
        unsafe { free_handle(engine) }
    }
}

/// Shuts the engine down without freeing it; later calls on it and its handles fail with
/// `TANDEM_ERR_UNAVAILABLE`, and pending receivers of its subscriptions are woken. Idempotent.
///
/// # Safety
/// `engine` must be NULL or a live engine.
#[no_mangle]
pub unsafe extern "C" fn tandem_engine_shutdown(engine: *const TandemEngine) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { handle(engine, "engine") }?.hosted.shutdown())
}

/// Starts the WebSocket/HTTP listener on `address` ("127.0.0.1:0" picks a free port) with a
/// JSON listener configuration (the facade's `NetConfig`; NULL for defaults) and writes the
/// bound address to `*out_address` (NULL if not wanted). `TANDEM_ERR_ALREADY_EXISTS` while a
/// listener runs.
///
/// # Safety
/// `engine` must be a live engine; strings NULL or NUL-terminated; `out_address` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_engine_listen(
    engine: *const TandemEngine,
    address: *const c_char,
    net_config_json: *const c_char,
    out_address: *mut *mut c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (e, address) = unsafe { (handle(engine, "engine")?, text(address, "address")?) };
        // SAFETY: forwarded contract.
        let config = match unsafe { opt_text(net_config_json, "net_config_json") }? {
            Some(t) => net_config_from_json(t)?,
            None => Default::default(),
        };
        let bound = e.hosted.listen(address, config)?;
        if out_address.is_null() {
            return Ok(());
        }
        // SAFETY: forwarded contract.
        unsafe { put_string(out_address, bound.to_string()) }
    })
}

/// Stops the listener (sockets close with 1001 "going away"); `TANDEM_ERR_NOT_FOUND` if none
/// was running.
///
/// # Safety
/// `engine` must be NULL or a live engine.
#[no_mangle]
pub unsafe extern "C" fn tandem_engine_stop_listening(engine: *const TandemEngine) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        match unsafe { handle(engine, "engine") }?
            .hosted
            .stop_listening()?
        {
            true => Ok(()),
            false => Err(Error::new(
                ErrorCode::NotFound,
                "the engine is not listening",
            )),
        }
    })
}

/// Creates a domain with JSON settings (the facade's `DomainSettings`:
/// `{"display_name", "anonymous_auth", "collection_auto_create"}`, each optional; NULL for
/// defaults) and stores a handle on it in `*out_domain` (NULL if not wanted).
///
/// # Safety
/// `engine` must be a live engine; strings NULL or NUL-terminated; `out_domain` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_engine_create_domain(
    engine: *const TandemEngine,
    namespace: *const c_char,
    id: *const c_char,
    settings_json: *const c_char,
    out_domain: *mut *mut TandemDomain,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let e = unsafe { handle(engine, "engine") }?.hosted.engine()?;
        // SAFETY: forwarded contract.
        let (ns, id) = unsafe { (text(namespace, "namespace")?, text(id, "id")?) };
        // SAFETY: forwarded contract.
        let settings: DomainSettings = unsafe { input(settings_json, "settings_json") }?;
        let domain = e.block(e.create_domain_with(ns, id, settings))?;
        if out_domain.is_null() {
            return Ok(());
        }
        // SAFETY: forwarded contract.
        unsafe { put_handle(out_domain, TandemDomain::new(domain)) }
    })
}

/// Stores a handle on an existing domain in `*out_domain`; `TANDEM_ERR_NOT_FOUND` if there is
/// none.
///
/// # Safety
/// `engine` must be a live engine; strings NUL-terminated; `out_domain` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_engine_domain(
    engine: *const TandemEngine,
    namespace: *const c_char,
    id: *const c_char,
    out_domain: *mut *mut TandemDomain,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let e = unsafe { handle(engine, "engine") }?.hosted.engine()?;
        // SAFETY: forwarded contract.
        let (ns, id) = unsafe { (text(namespace, "namespace")?, text(id, "id")?) };
        let domain = e.domain(ns, id)?;
        // SAFETY: forwarded contract.
        unsafe { put_handle(out_domain, TandemDomain::new(domain)) }
    })
}

/// Writes every domain to `*out_json` as a JSON array of `[namespace, id]` pairs.
///
/// # Safety
/// `engine` must be a live engine; `out_json` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_engine_domains(
    engine: *const TandemEngine,
    out_json: *mut *mut c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let e = unsafe { handle(engine, "engine") }?.hosted.engine()?;
        // SAFETY: forwarded contract.
        unsafe { put_string(out_json, to_json(&e.domains()?)?) }
    })
}

/// Deletes a domain with all its collections and models.
///
/// # Safety
/// `engine` must be a live engine; strings NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn tandem_engine_delete_domain(
    engine: *const TandemEngine,
    namespace: *const c_char,
    id: *const c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let e = unsafe { handle(engine, "engine") }?.hosted.engine()?;
        // SAFETY: forwarded contract.
        let (ns, id) = unsafe { (text(namespace, "namespace")?, text(id, "id")?) };
        e.block(e.delete_domain(ns, id))
    })
}

/// Subscribes to every event of every domain; stores the subscription in `*out_sub`.
///
/// # Safety
/// `engine` must be a live engine; `out_sub` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_engine_subscribe(
    engine: *const TandemEngine,
    out_sub: *mut *mut TandemSubscription,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let e = unsafe { handle(engine, "engine") }?.hosted.engine()?;
        let sub = TandemSubscription::new(e.subscribe(), e);
        // SAFETY: forwarded contract.
        unsafe { put_handle(out_sub, sub) }
    })
}
