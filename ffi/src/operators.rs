//! Operators (the facade's `api/operators.rs`): the server's administrators on `tandem_engine`
//! (password logins that give an expiring token) and API keys on `tandem_domain` (each reaches
//! one domain, read-only or read-write). They cross as JSON: an administrator is
//! `{"username", "created_ms", "updated_ms"}`, a token `{"token", "expires_ms"}`, an API key
//! `{"id", "name", "read_only", "created_ms"}` (never its secret), a new API key
//! `{"key": key, "token"}`.

use std::ffi::{c_char, c_int};

use serde_json::{json, Value};
use tandem::api::{Admin, AdminToken, ApiKey, Error, NewApiKey};

use crate::domain::dom;
use crate::engine::eng;
use crate::{guard, put_string, text, to_json, TandemDomain, TandemEngine};

fn admin_json(a: &Admin) -> Value {
    json!({"username": a.username, "created_ms": a.created_ms, "updated_ms": a.updated_ms})
}

fn token_json(t: &AdminToken) -> Value {
    json!({"token": t.token, "expires_ms": t.expires_ms})
}

fn key_json(k: &ApiKey) -> Value {
    json!({"id": k.id, "name": k.name, "read_only": k.read_only, "created_ms": k.created_ms})
}

fn new_key_json(k: &NewApiKey) -> Value {
    json!({"key": key_json(&k.key), "token": k.token})
}

/// Writes `value` as JSON to `*out` when `out` is not NULL.
///
/// # Safety
/// `out` must be NULL or writable.
unsafe fn put_opt_value(out: *mut *mut c_char, value: &Value) -> Result<(), Error> {
    if out.is_null() {
        return Ok(());
    }
    // SAFETY: forwarded contract.
    unsafe { put_string(out, to_json(value)?) }
}

/// Adds a server administrator (the password is stored as an argon2 hash) and writes it as
/// JSON to `*out_admin_json` (NULL if not wanted). `TANDEM_ERR_ALREADY_EXISTS` if there is one
/// of that name; a bad name or an empty or overlong password is `TANDEM_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `engine` must be a live engine; strings NUL-terminated; `out_admin_json` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_engine_add_admin(
    engine: *const TandemEngine,
    username: *const c_char,
    password: *const c_char,
    out_admin_json: *mut *mut c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let e = unsafe { eng(engine) }?;
        // SAFETY: forwarded contract.
        let (u, p) = unsafe { (text(username, "username")?, text(password, "password")?) };
        let admin = e.block(e.add_admin(u, p))?;
        // SAFETY: forwarded contract.
        unsafe { put_opt_value(out_admin_json, &admin_json(&admin)) }
    })
}

/// Changes an administrator's password; its earlier tokens stop working.
/// `TANDEM_ERR_NOT_FOUND` if there is no such administrator.
///
/// # Safety
/// `engine` must be a live engine; strings NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn tandem_engine_set_admin_password(
    engine: *const TandemEngine,
    username: *const c_char,
    password: *const c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let e = unsafe { eng(engine) }?;
        // SAFETY: forwarded contract.
        let (u, p) = unsafe { (text(username, "username")?, text(password, "password")?) };
        e.block(e.set_admin_password(u, p))
    })
}

/// Removes an administrator; its tokens stop working. `TANDEM_ERR_NOT_FOUND` if there is none.
///
/// # Safety
/// `engine` must be a live engine; `username` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn tandem_engine_remove_admin(
    engine: *const TandemEngine,
    username: *const c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (e, u) = unsafe { (eng(engine)?, text(username, "username")?) };
        e.block(e.remove_admin(u))
    })
}

/// Writes the server's administrators, by login name, as a JSON array of `{"username",
/// "created_ms", "updated_ms"}` to `*out_json`.
///
/// # Safety
/// `engine` must be a live engine; `out_json` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_engine_admins(
    engine: *const TandemEngine,
    out_json: *mut *mut c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let e = unsafe { eng(engine) }?;
        let admins: Vec<Value> = e.admins()?.iter().map(admin_json).collect();
        // SAFETY: forwarded contract.
        unsafe { put_string(out_json, to_json(&admins)?) }
    })
}

/// Logs an administrator in and writes its bearer token as JSON (`{"token", "expires_ms"}`)
/// to `*out_token_json`. A wrong name or password alike is `TANDEM_ERR_UNAUTHENTICATED`.
///
/// # Safety
/// `engine` must be a live engine; strings NUL-terminated; `out_token_json` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_engine_admin_login(
    engine: *const TandemEngine,
    username: *const c_char,
    password: *const c_char,
    out_token_json: *mut *mut c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let e = unsafe { eng(engine) }?;
        // SAFETY: forwarded contract.
        let (u, p) = unsafe { (text(username, "username")?, text(password, "password")?) };
        let token = e.block(e.admin_login(u, p))?;
        // SAFETY: forwarded contract.
        unsafe { put_string(out_token_json, to_json(&token_json(&token))?) }
    })
}

/// Writes the administrator whose token this is as JSON (`{"username", "created_ms",
/// "updated_ms"}`) to `*out_admin_json` (NULL if not wanted). An expired, altered or foreign
/// token, or one issued before the administrator changed, is `TANDEM_ERR_UNAUTHENTICATED`.
///
/// # Safety
/// `engine` must be a live engine; `token` NUL-terminated; `out_admin_json` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_engine_verify_admin_token(
    engine: *const TandemEngine,
    token: *const c_char,
    out_admin_json: *mut *mut c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (e, t) = unsafe { (eng(engine)?, text(token, "token")?) };
        let admin = e.verify_admin_token(t)?;
        // SAFETY: forwarded contract.
        unsafe { put_opt_value(out_admin_json, &admin_json(&admin)) }
    })
}

/// Creates an API key for the domain, read-only when `read_only` != 0, and writes it as JSON
/// (`{"key": {"id", "name", "read_only", "created_ms"}, "token"}`) to `*out_json`: the token
/// for the `Authorization: Bearer` header is shown only there.
///
/// # Safety
/// `domain` must be a live handle; `name` NUL-terminated; `out_json` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_create_api_key(
    domain: *const TandemDomain,
    name: *const c_char,
    read_only: c_int,
    out_json: *mut *mut c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, n) = unsafe { (dom(domain)?, text(name, "name")?) };
        let key = d.engine().block(d.create_api_key(n, read_only != 0))?;
        // SAFETY: forwarded contract.
        unsafe { put_string(out_json, to_json(&new_key_json(&key))?) }
    })
}

/// Writes the domain's API keys, by id, as a JSON array of `{"id", "name", "read_only",
/// "created_ms"}` (never their secrets) to `*out_json`.
///
/// # Safety
/// `domain` must be a live handle; `out_json` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_api_keys(
    domain: *const TandemDomain,
    out_json: *mut *mut c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let keys: Vec<Value> = unsafe { dom(domain) }?
            .api_keys()?
            .iter()
            .map(key_json)
            .collect();
        // SAFETY: forwarded contract.
        unsafe { put_string(out_json, to_json(&keys)?) }
    })
}

/// Revokes one of the domain's API keys. `TANDEM_ERR_NOT_FOUND` if it has none of that id.
///
/// # Safety
/// `domain` must be a live handle; `id` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_revoke_api_key(
    domain: *const TandemDomain,
    id: *const c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, id) = unsafe { (dom(domain)?, text(id, "id")?) };
        d.engine().block(d.revoke_api_key(id))
    })
}

/// Writes the key of the domain that `token` is, as JSON (`{"id", "name", "read_only",
/// "created_ms"}`), to `*out_key_json` (NULL if not wanted). A token that is no key of this
/// domain (also one of another domain, or a revoked one) is `TANDEM_ERR_UNAUTHENTICATED`.
///
/// # Safety
/// `domain` must be a live handle; `token` NUL-terminated; `out_key_json` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_verify_api_key(
    domain: *const TandemDomain,
    token: *const c_char,
    out_key_json: *mut *mut c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, t) = unsafe { (dom(domain)?, text(token, "token")?) };
        let key = d.verify_api_key(t)?;
        // SAFETY: forwarded contract.
        unsafe { put_opt_value(out_key_json, &key_json(&key)) }
    })
}
