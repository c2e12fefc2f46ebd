//! The Tandem C ABI: opaque handles with `_new`/`_free` pairs, `int` status codes plus a
//! per-thread last-error message, NUL-terminated UTF-8 strings, JSON for structured data, and
//! callbacks with a `void *user_data`. Every function catches panics and reports them as
//! `TANDEM_INTERNAL`. The engine runs on its own threads; calls block until done.
//!
//! Strings returned through `char **out` parameters belong to the caller and are released with
//! [`tandem_string_free`].

use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::thread::JoinHandle;

use serde_json::Value as Json;
use tandem::api::{
    changes_from_str, event_to_json_text, parse_json, value_to_json_text, DomainSettings, Engine,
    EngineConfig, Error, ErrorCode, EventFilter, HostedEngine, JwtKeyRecord, NewUser,
};
use tandem::store::DomainKey;

/// The ABI version: bumped on every incompatible change of this header.
pub const TANDEM_ABI_VERSION: u32 = 1;

/// Success.
pub const TANDEM_OK: c_int = 0;
/// An argument is malformed (null pointer, bad UTF-8, bad JSON, bad path).
pub const TANDEM_INVALID_ARGUMENT: c_int = 1;
/// The domain, collection, model or user does not exist.
pub const TANDEM_NOT_FOUND: c_int = 2;
/// Something with that id exists already.
pub const TANDEM_ALREADY_EXISTS: c_int = 3;
/// A change does not fit the model's data.
pub const TANDEM_INVALID_OPERATION: c_int = 4;
/// A submission could not be ordered against concurrent ones.
pub const TANDEM_CONFLICT: c_int = 5;
/// Storage failed.
pub const TANDEM_STORAGE: c_int = 6;
/// The data directory has another format version.
pub const TANDEM_FORMAT_VERSION: c_int = 7;
/// The engine is shut down or unavailable.
pub const TANDEM_UNAVAILABLE: c_int = 8;
/// The configuration is invalid.
pub const TANDEM_CONFIG: c_int = 9;
/// A bug (including a caught panic).
pub const TANDEM_INTERNAL: c_int = 10;
/// Authentication failed.
pub const TANDEM_UNAUTHENTICATED: c_int = 11;

thread_local! {
    static LAST_ERROR: RefCell<(c_int, CString)> = RefCell::new((TANDEM_OK, CString::default()));
}

fn set_error(code: c_int, message: &str) {
    let text = CString::new(message.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = (code, text));
}

fn clear_error() {
    LAST_ERROR.with(|e| *e.borrow_mut() = (TANDEM_OK, CString::default()));
}

/// Runs `f`, turning errors and panics into a status code and the last-error message.
fn guard(f: impl FnOnce() -> Result<(), Error>) -> c_int {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => {
            clear_error();
            TANDEM_OK
        }
        Ok(Err(e)) => {
            let code = e.code.as_i32();
            set_error(code, &e.message);
            code
        }
        Err(_) => {
            set_error(TANDEM_INTERNAL, "internal error: the engine panicked");
            TANDEM_INTERNAL
        }
    }
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidArgument, msg)
}

/// Reads a required NUL-terminated UTF-8 string.
///
/// # Safety
/// `p` must be null or point to a NUL-terminated string valid for the call.
unsafe fn text<'a>(p: *const c_char, name: &str) -> Result<&'a str, Error> {
    if p.is_null() {
        return Err(invalid(format!("{name} must not be NULL")));
    }
    // SAFETY: non-null and, per the function contract, NUL-terminated and alive for the call.
    unsafe { CStr::from_ptr(p) }
        .to_str()
        .map_err(|_| invalid(format!("{name} is not valid UTF-8")))
}

/// Reads an optional string (NULL means absent).
///
/// # Safety
/// As [`text`].
unsafe fn opt_text<'a>(p: *const c_char, name: &str) -> Result<Option<&'a str>, Error> {
    if p.is_null() {
        Ok(None)
    } else {
        // SAFETY: forwarded contract.
        unsafe { text(p, name) }.map(Some)
    }
}

fn json(text: &str, name: &str) -> Result<Json, Error> {
    serde_json::from_str(text).map_err(|e| invalid(format!("{name} is not valid JSON: {e}")))
}

/// Stores a string in `*out` for the caller.
///
/// # Safety
/// `out` must be null or a valid pointer to write to.
unsafe fn put_string(out: *mut *mut c_char, value: String) -> Result<(), Error> {
    if out.is_null() {
        return Err(invalid("the output pointer must not be NULL"));
    }
    let c = CString::new(value).map_err(|_| invalid("result contains a NUL byte"))?;
    // SAFETY: non-null, and the caller passes a writable location.
    unsafe { *out = c.into_raw() };
    Ok(())
}

/// An engine and, once listening, its listener.
pub struct TandemEngine {
    engine: Engine,
    hosted: HostedEngine,
}

/// A subscription delivering engine events to a callback.
pub struct TandemSubscription {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// Called with each event as JSON (valid only during the call) and the `user_data` given to
/// [`tandem_subscribe`]. Runs on an engine-owned thread; never while an engine lock is held.
pub type TandemEventCallback =
    Option<extern "C" fn(event_json: *const c_char, user_data: *mut c_void)>;

fn engine_ref<'a>(e: *const TandemEngine) -> Result<&'a TandemEngine, Error> {
    if e.is_null() {
        return Err(invalid("engine must not be NULL"));
    }
    // SAFETY: non-null engine pointers come from `tandem_engine_new` and stay valid until
    // `tandem_engine_free`, which the caller must not race with other calls.
    Ok(unsafe { &*e })
}

/// The domain named by two C strings.
///
/// # Safety
/// Both strings must be NULL or NUL-terminated (as for [`text`]).
unsafe fn domain_of(
    e: &TandemEngine,
    namespace: *const c_char,
    domain: *const c_char,
) -> Result<tandem::api::Domain, Error> {
    // SAFETY: forwarded contract.
    let (ns, id) = unsafe { (text(namespace, "namespace")?, text(domain, "domain")?) };
    e.engine.domain(ns, id)
}

/// The ABI version of this library (compare with `TANDEM_ABI_VERSION` from the header).
#[no_mangle]
pub extern "C" fn tandem_abi_version() -> u32 {
    TANDEM_ABI_VERSION
}

/// The status code of this thread's last failed call (0 after a successful one).
#[no_mangle]
pub extern "C" fn tandem_last_error_code() -> c_int {
    LAST_ERROR.with(|e| e.borrow().0)
}

/// The message of this thread's last failed call ("" after a successful one). Valid until the
/// next call on this thread; do not free.
#[no_mangle]
pub extern "C" fn tandem_last_error_message() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().1.as_ptr())
}

/// Frees a string returned by this library. NULL is ignored.
///
/// # Safety
/// `s` must be NULL or a string from this library not freed before.
#[no_mangle]
pub unsafe extern "C" fn tandem_string_free(s: *mut c_char) {
    if !s.is_null() {
        // SAFETY: per the contract, `s` came from `CString::into_raw` in this library.
        drop(unsafe { CString::from_raw(s) });
    }
}

/// Opens an engine from a JSON configuration (NULL or "{}" for defaults: in memory). Returns
/// NULL on error (see `tandem_last_error_message`).
///
/// # Safety
/// `config_json` must be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn tandem_engine_new(config_json: *const c_char) -> *mut TandemEngine {
    let mut out: *mut TandemEngine = ptr::null_mut();
    guard(|| {
        // SAFETY: forwarded contract.
        let config = match unsafe { opt_text(config_json, "config_json") }? {
            Some(t) => EngineConfig::from_json(t)?,
            None => EngineConfig::default(),
        };
        let engine = Engine::open(config)?;
        out = Box::into_raw(Box::new(TandemEngine {
            hosted: HostedEngine::new(engine.clone()),
            engine,
        }));
        Ok(())
    });
    out
}

/// Shuts down (stops listening, closes sessions, flushes) and frees an engine. NULL is ignored.
///
/// # Safety
/// `engine` must be NULL or from `tandem_engine_new`, not freed before, and not in use by
/// another thread.
#[no_mangle]
pub unsafe extern "C" fn tandem_engine_free(engine: *mut TandemEngine) {
    if engine.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: per the contract this is the only owner left.
        let boxed = unsafe { Box::from_raw(engine) };
        shutdown(&boxed);
        drop(boxed);
    }));
}

fn shutdown(e: &TandemEngine) {
    e.hosted.shutdown();
}

/// Shuts the engine down without freeing it; later calls fail with `TANDEM_UNAVAILABLE`.
#[no_mangle]
pub extern "C" fn tandem_engine_shutdown(engine: *mut TandemEngine) -> c_int {
    guard(|| {
        shutdown(engine_ref(engine)?);
        Ok(())
    })
}

/// Starts the WebSocket/HTTP listener on `address` ("127.0.0.1:0" picks a free port) and
/// writes the bound address to `*out_address`. `net_config_json` may be NULL.
///
/// # Safety
/// String arguments must be NULL or NUL-terminated; `out_address` must be writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_engine_listen(
    engine: *mut TandemEngine,
    address: *const c_char,
    net_config_json: *const c_char,
    out_address: *mut *mut c_char,
) -> c_int {
    guard(|| {
        let e = engine_ref(engine)?;
        // SAFETY: forwarded contract.
        let addr_text = unsafe { text(address, "address") }?;
        // SAFETY: forwarded contract.
        let config = unsafe { opt_text(net_config_json, "net_config_json") }?;
        let bound = e.hosted.listen(addr_text, config)?.to_string();
        // SAFETY: forwarded contract.
        unsafe { put_string(out_address, bound) }
    })
}

/// Stops the listener (sockets are closed with 1001 "going away").
#[no_mangle]
pub extern "C" fn tandem_engine_stop_listening(engine: *mut TandemEngine) -> c_int {
    guard(|| {
        let e = engine_ref(engine)?;
        if e.hosted.stop_listening()? {
            Ok(())
        } else {
            Err(Error::new(
                ErrorCode::NotFound,
                "the engine is not listening",
            ))
        }
    })
}

/// Creates a domain. `settings_json` may be NULL or
/// `{"anonymous_auth": bool, "collection_auto_create": bool, "display_name": str}`.
///
/// # Safety
/// String arguments must be NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_create(
    engine: *mut TandemEngine,
    namespace: *const c_char,
    domain: *const c_char,
    settings_json: *const c_char,
) -> c_int {
    guard(|| {
        let e = engine_ref(engine)?;
        // SAFETY: forwarded contract.
        let (ns, id) = unsafe { (text(namespace, "namespace")?, text(domain, "domain")?) };
        let mut settings = DomainSettings::default();
        // SAFETY: forwarded contract.
        if let Some(t) = unsafe { opt_text(settings_json, "settings_json") }? {
            let j = json(t, "settings_json")?;
            if let Some(b) = j.get("anonymous_auth").and_then(Json::as_bool) {
                settings.anonymous_auth = b;
            }
            if let Some(b) = j.get("collection_auto_create").and_then(Json::as_bool) {
                settings.collection_auto_create = b;
            }
            if let Some(s) = j.get("display_name").and_then(Json::as_str) {
                settings.display_name = s.to_string();
            }
        }
        e.engine
            .block_on(e.engine.create_domain_with(ns, id, settings))?;
        Ok(())
    })
}

/// Writes the domains as a JSON array of `{"namespace", "domain"}` to `*out_json`.
///
/// # Safety
/// `out_json` must be writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_list(
    engine: *mut TandemEngine,
    out_json: *mut *mut c_char,
) -> c_int {
    guard(|| {
        let e = engine_ref(engine)?;
        let list: Vec<Json> = e
            .engine
            .domains()?
            .into_iter()
            .map(|(ns, id)| serde_json::json!({"namespace": ns, "domain": id}))
            .collect();
        // SAFETY: forwarded contract.
        unsafe { put_string(out_json, Json::Array(list).to_string()) }
    })
}

/// Allows (`allow` != 0) or refuses anonymous connections to a domain.
///
/// # Safety
/// String arguments must be NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_set_anonymous(
    engine: *mut TandemEngine,
    namespace: *const c_char,
    domain: *const c_char,
    allow: c_int,
) -> c_int {
    guard(|| {
        let e = engine_ref(engine)?;
        // SAFETY: forwarded contract.
        let d = unsafe { domain_of(e, namespace, domain) }?;
        e.engine.block_on(d.set_anonymous_auth(allow != 0))
    })
}

/// Creates a collection (no-op if it exists).
///
/// # Safety
/// String arguments must be NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn tandem_collection_create(
    engine: *mut TandemEngine,
    namespace: *const c_char,
    domain: *const c_char,
    collection: *const c_char,
) -> c_int {
    guard(|| {
        let e = engine_ref(engine)?;
        // SAFETY: forwarded contract.
        let d = unsafe { domain_of(e, namespace, domain) }?;
        // SAFETY: forwarded contract.
        let c = unsafe { text(collection, "collection") }?;
        e.engine.block_on(d.create_collection(c))
    })
}

/// Writes the domain's collection ids as a JSON array to `*out_json`.
///
/// # Safety
/// String arguments must be NUL-terminated; `out_json` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_collection_list(
    engine: *mut TandemEngine,
    namespace: *const c_char,
    domain: *const c_char,
    out_json: *mut *mut c_char,
) -> c_int {
    guard(|| {
        let e = engine_ref(engine)?;
        // SAFETY: forwarded contract.
        let d = unsafe { domain_of(e, namespace, domain) }?;
        let list = serde_json::to_string(&d.collections()?).unwrap_or_else(|_| "[]".into());
        // SAFETY: forwarded contract.
        unsafe { put_string(out_json, list) }
    })
}

/// Creates a user from `{"username", "password"?, "display_name"?, "first_name"?,
/// "last_name"?, "email"?}`.
///
/// # Safety
/// String arguments must be NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn tandem_user_create(
    engine: *mut TandemEngine,
    namespace: *const c_char,
    domain: *const c_char,
    user_json: *const c_char,
) -> c_int {
    guard(|| {
        let e = engine_ref(engine)?;
        // SAFETY: forwarded contract.
        let d = unsafe { domain_of(e, namespace, domain) }?;
        // SAFETY: forwarded contract.
        let j = json(unsafe { text(user_json, "user_json") }?, "user_json")?;
        let s = |k: &str| j.get(k).and_then(Json::as_str).unwrap_or("").to_string();
        let user = NewUser {
            username: s("username"),
            display_name: s("display_name"),
            first_name: s("first_name"),
            last_name: s("last_name"),
            email: s("email"),
            password: j.get("password").and_then(Json::as_str).map(str::to_string),
        };
        e.engine.block_on(d.create_user(user))?;
        Ok(())
    })
}

/// Writes the domain's users as a JSON array of `{"username", "display_name", ...}`.
///
/// # Safety
/// String arguments must be NUL-terminated; `out_json` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_user_list(
    engine: *mut TandemEngine,
    namespace: *const c_char,
    domain: *const c_char,
    out_json: *mut *mut c_char,
) -> c_int {
    guard(|| {
        let e = engine_ref(engine)?;
        // SAFETY: forwarded contract.
        let d = unsafe { domain_of(e, namespace, domain) }?;
        let list: Vec<Json> = d
            .users()?
            .into_iter()
            .map(|u| {
                serde_json::json!({"username": u.username, "display_name": u.display_name,
                    "first_name": u.first_name, "last_name": u.last_name, "email": u.email})
            })
            .collect();
        // SAFETY: forwarded contract.
        unsafe { put_string(out_json, Json::Array(list).to_string()) }
    })
}

/// Sets a user's password.
///
/// # Safety
/// String arguments must be NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn tandem_user_set_password(
    engine: *mut TandemEngine,
    namespace: *const c_char,
    domain: *const c_char,
    username: *const c_char,
    password: *const c_char,
) -> c_int {
    guard(|| {
        let e = engine_ref(engine)?;
        // SAFETY: forwarded contract.
        let d = unsafe { domain_of(e, namespace, domain) }?;
        // SAFETY: forwarded contract.
        let (u, p) = unsafe { (text(username, "username")?, text(password, "password")?) };
        e.engine.block_on(d.set_password(u, p))
    })
}

/// Adds a JWT verification key: `{"id", "public_key_pem", "description"?, "enabled"?}`.
///
/// # Safety
/// String arguments must be NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn tandem_jwt_key_add(
    engine: *mut TandemEngine,
    namespace: *const c_char,
    domain: *const c_char,
    key_json: *const c_char,
) -> c_int {
    guard(|| {
        let e = engine_ref(engine)?;
        // SAFETY: forwarded contract.
        let d = unsafe { domain_of(e, namespace, domain) }?;
        // SAFETY: forwarded contract.
        let j = json(unsafe { text(key_json, "key_json") }?, "key_json")?;
        let s = |k: &str| j.get(k).and_then(Json::as_str).unwrap_or("").to_string();
        let key = JwtKeyRecord {
            id: s("id"),
            description: s("description"),
            public_key_pem: s("public_key_pem"),
            enabled: j.get("enabled").and_then(Json::as_bool).unwrap_or(true),
            updated_ms: 0,
        };
        e.engine.block_on(d.add_jwt_key(key))?;
        Ok(())
    })
}

/// Creates a model from JSON data (an object) in `collection`; `model_id` NULL generates a
/// UUID. The model id is written to `*out_model_id` (may be NULL if not wanted).
///
/// # Safety
/// String arguments must be NULL (where allowed) or NUL-terminated; `out_model_id` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_model_create(
    engine: *mut TandemEngine,
    namespace: *const c_char,
    domain: *const c_char,
    collection: *const c_char,
    model_id: *const c_char,
    data_json: *const c_char,
    out_model_id: *mut *mut c_char,
) -> c_int {
    guard(|| {
        let e = engine_ref(engine)?;
        // SAFETY: forwarded contract.
        let d = unsafe { domain_of(e, namespace, domain) }?;
        // SAFETY: forwarded contract.
        let c = unsafe { text(collection, "collection") }?;
        // SAFETY: forwarded contract.
        let id = unsafe { opt_text(model_id, "model_id") }?;
        // SAFETY: forwarded contract.
        let data = parse_json(unsafe { text(data_json, "data_json") }?)
            .map_err(|e| invalid(format!("data_json is not valid JSON: {e}")))?;
        let m = e.engine.block_on(d.create_model_json(c, id, &data))?;
        if !out_model_id.is_null() {
            // SAFETY: checked non-null; writable per the contract.
            unsafe { put_string(out_model_id, m.id().to_string()) }?;
        }
        Ok(())
    })
}

/// Writes a model's data as JSON to `*out_json`: the current data when `version` < 1,
/// otherwise the data at that version.
///
/// # Safety
/// String arguments must be NUL-terminated; `out_json` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_model_json(
    engine: *mut TandemEngine,
    namespace: *const c_char,
    domain: *const c_char,
    model_id: *const c_char,
    version: i64,
    out_json: *mut *mut c_char,
) -> c_int {
    guard(|| {
        let e = engine_ref(engine)?;
        // SAFETY: forwarded contract.
        let d = unsafe { domain_of(e, namespace, domain) }?;
        // SAFETY: forwarded contract.
        let m = d.model(unsafe { text(model_id, "model_id") }?)?;
        let data = if version < 1 {
            e.engine.block_on(m.json_text())?
        } else {
            value_to_json_text(&m.data_at(version as u64)?.data)
        };
        // SAFETY: forwarded contract.
        unsafe { put_string(out_json, data) }
    })
}

/// Applies changes (one change object or an array, see the facade's JSON change format) as one
/// operation and writes the version it produced to `*out_version` (may be NULL).
///
/// # Safety
/// String arguments must be NUL-terminated; `out_version` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_model_apply(
    engine: *mut TandemEngine,
    namespace: *const c_char,
    domain: *const c_char,
    model_id: *const c_char,
    changes_json: *const c_char,
    out_version: *mut u64,
) -> c_int {
    guard(|| {
        let e = engine_ref(engine)?;
        // SAFETY: forwarded contract.
        let d = unsafe { domain_of(e, namespace, domain) }?;
        // SAFETY: forwarded contract.
        let m = d.model(unsafe { text(model_id, "model_id") }?)?;
        // SAFETY: forwarded contract.
        let changes = changes_from_str(unsafe { text(changes_json, "changes_json") }?)?;
        let v = e.engine.block_on(m.apply(changes))?;
        if !out_version.is_null() {
            // SAFETY: checked non-null; writable per the contract.
            unsafe { *out_version = v };
        }
        Ok(())
    })
}

/// Deletes a model (sessions that have it open are closed).
///
/// # Safety
/// String arguments must be NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn tandem_model_delete(
    engine: *mut TandemEngine,
    namespace: *const c_char,
    domain: *const c_char,
    model_id: *const c_char,
) -> c_int {
    guard(|| {
        let e = engine_ref(engine)?;
        // SAFETY: forwarded contract.
        let d = unsafe { domain_of(e, namespace, domain) }?;
        // SAFETY: forwarded contract.
        let m = d.model(unsafe { text(model_id, "model_id") }?)?;
        e.engine.block_on(m.delete())
    })
}

/// Subscribes `callback` to engine events (all, or those of one domain / model when
/// `namespace`+`domain` / `model_id` are given). Events arrive as JSON (see the facade's
/// event format) on an engine thread. Release with [`tandem_subscription_free`] (not from
/// inside the callback).
///
/// # Safety
/// String arguments must be NULL or NUL-terminated; `out` writable; `user_data` is passed
/// through untouched and must stay valid until the subscription is freed.
#[no_mangle]
pub unsafe extern "C" fn tandem_subscribe(
    engine: *mut TandemEngine,
    namespace: *const c_char,
    domain: *const c_char,
    model_id: *const c_char,
    callback: TandemEventCallback,
    user_data: *mut c_void,
    out: *mut *mut TandemSubscription,
) -> c_int {
    guard(|| {
        let e = engine_ref(engine)?;
        let cb = callback.ok_or_else(|| invalid("callback must not be NULL"))?;
        if out.is_null() {
            return Err(invalid("the output pointer must not be NULL"));
        }
        // SAFETY: forwarded contract.
        let (ns, dom, model) = unsafe {
            (
                opt_text(namespace, "namespace")?,
                opt_text(domain, "domain")?,
                opt_text(model_id, "model_id")?,
            )
        };
        let filter = EventFilter {
            domain: match (ns, dom) {
                (Some(n), Some(d)) => Some(DomainKey::new(n, d)),
                (None, None) => None,
                _ => return Err(invalid("give both namespace and domain, or neither")),
            },
            model: model.map(str::to_string),
        };
        let mut sub = e.engine.subscribe(filter);
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        let handle = e.engine.runtime().clone();
        let data = UserData(user_data);
        let thread = std::thread::Builder::new()
            .name("tandem-events".into())
            .spawn(move || {
                let data = data;
                loop {
                    if !matches!(
                        stop_rx.try_recv(),
                        Err(std::sync::mpsc::TryRecvError::Empty)
                    ) {
                        break;
                    }
                    let next = handle.block_on(async {
                        tokio::time::timeout(std::time::Duration::from_millis(50), sub.recv())
                            .await
                            .ok()
                    });
                    match next {
                        Some(Some(event)) => {
                            let text = CString::new(event_to_json_text(&event)).unwrap_or_default();
                            let _ = catch_unwind(AssertUnwindSafe(|| cb(text.as_ptr(), data.0)));
                        }
                        Some(None) => break,
                        None => continue,
                    }
                }
            })
            .map_err(|err| {
                Error::new(ErrorCode::Internal, format!("cannot start thread: {err}"))
            })?;
        let s = Box::new(TandemSubscription {
            stop: Some(stop_tx),
            thread: Some(thread),
        });
        // SAFETY: checked non-null; writable per the contract.
        unsafe { *out = Box::into_raw(s) };
        Ok(())
    })
}

struct UserData(*mut c_void);
// SAFETY: the pointer is only handed back to the host's callback; the host promises (see
// `tandem_subscribe`) that it may be used from the engine's event thread.
unsafe impl Send for UserData {}

/// Stops a subscription and frees it; after return the callback is not called again.
/// NULL is ignored.
///
/// # Safety
/// `sub` must be NULL or from `tandem_subscribe`, not freed before; not called from inside the
/// subscription's own callback.
#[no_mangle]
pub unsafe extern "C" fn tandem_subscription_free(sub: *mut TandemSubscription) {
    if sub.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: per the contract this is the only owner.
        let mut s = unsafe { Box::from_raw(sub) };
        if let Some(stop) = s.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = s.thread.take() {
            let _ = t.join();
        }
    }));
}

#[cfg(test)]
mod tests {
    #[test]
    fn header_is_up_to_date() {
        let crate_dir = env!("CARGO_MANIFEST_DIR");
        let config = cbindgen::Config::from_file(format!("{crate_dir}/cbindgen.toml"))
            .expect("cbindgen.toml");
        let mut generated = Vec::new();
        cbindgen::Builder::new()
            .with_crate(crate_dir)
            .with_config(config)
            .generate()
            .expect("header generation")
            .write(&mut generated);
        let path = format!("{crate_dir}/../include/tandem.h");
        if std::env::var("TANDEM_UPDATE_HEADER").is_ok() {
            std::fs::write(&path, &generated).expect("write header");
        }
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "include/tandem.h is stale: run `TANDEM_UPDATE_HEADER=1 cargo test -p tandem-ffi` and commit it"
        );
    }
}
