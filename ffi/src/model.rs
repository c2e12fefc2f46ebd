//! `tandem_model`: the facade's `Model` handle (data now and in the past, changes, history).

use std::ffi::{c_char, c_int};

use tandem::api::{changes_from_str, Error, HistoryEntry, UndoScope, UserId};

use crate::{
    free_handle, from_json, guard, handle, opt_text, put_handle, put_opt, put_string, text,
    to_json, TandemSubscription,
};

/// A handle on one model. It keeps the engine's memory alive until freed; after the engine
/// shuts down its calls fail with `TANDEM_ERR_UNAVAILABLE`.
pub struct TandemModel {
    model: tandem::api::Model,
}

impl TandemModel {
    pub(crate) fn new(model: tandem::api::Model) -> Self {
        TandemModel { model }
    }
}

/// Frees a model handle (the model itself stays). NULL is ignored.
///
/// # Safety
/// `model` must be NULL or a handle from this library, not freed before and not in use by
/// another thread.
#[no_mangle]
pub unsafe extern "C" fn tandem_model_free(model: *mut TandemModel) {
    // SAFETY: forwarded contract.
    unsafe { free_handle(model) }
}

/// Borrows the facade model of a handle.
///
/// # Safety
/// As [`handle`].
pub(crate) unsafe fn mdl<'a>(m: *const TandemModel) -> Result<&'a tandem::api::Model, Error> {
    // SAFETY: forwarded contract.
    Ok(&unsafe { handle(m, "model") }?.model)
}

/// Writes the model's id to `*out_id` (useful when it was generated).
///
/// # Safety
/// `model` must be a live handle; `out_id` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_model_id(
    model: *const TandemModel,
    out_id: *mut *mut c_char,
) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { put_string(out_id, mdl(model)?.id().to_string()) })
}

/// Writes the model's metadata as JSON (`{"id", "collection", "version", "created_ms",
/// "modified_ms"}`) to `*out_json`.
///
/// # Safety
/// `model` must be a live handle; `out_json` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_model_info(
    model: *const TandemModel,
    out_json: *mut *mut c_char,
) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { put_string(out_json, to_json(&mdl(model)?.info()?)?) })
}

/// Writes the model's current data as compact JSON text to `*out_json`, exactly: an unpaired
/// surrogate is written as a `\uXXXX` escape.
///
/// # Safety
/// `model` must be a live handle; `out_json` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_model_json(
    model: *const TandemModel,
    out_json: *mut *mut c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let m = unsafe { mdl(model) }?;
        let json = m.domain().engine().block(m.json_text())?;
        // SAFETY: forwarded contract.
        unsafe { put_string(out_json, json) }
    })
}

/// Writes the model's data at a past `version` (1 ..= current) as exact JSON text to
/// `*out_json`.
///
/// # Safety
/// `model` must be a live handle; `out_json` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_model_json_at(
    model: *const TandemModel,
    version: u64,
    out_json: *mut *mut c_char,
) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { put_string(out_json, mdl(model)?.json_text_at(version)?) })
}

/// Applies changes (one change object or an array of them, see the facade's change format:
/// `set`, `insert`, `remove`, `move`, `splice`, `add`) as one operation and writes the version
/// it produced, once durable, to `*out_version` (NULL if not wanted).
///
/// # Safety
/// `model` must be a live handle; `changes_json` NUL-terminated; `out_version` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_model_apply(
    model: *const TandemModel,
    changes_json: *const c_char,
    out_version: *mut u64,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (m, t) = unsafe { (mdl(model)?, text(changes_json, "changes_json")?) };
        let version = m.domain().engine().block(m.apply(changes_from_str(t)?))?;
        // SAFETY: forwarded contract.
        unsafe { put_opt(out_version, version) };
        Ok(())
    })
}

/// Like [`tandem_model_apply`], recording as the author the user given as JSON
/// (`{"kind": "normal" | "anonymous" | "convergence", "name": "bob"}`).
///
/// # Safety
/// `model` must be a live handle; strings NUL-terminated; `out_version` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_model_apply_as(
    model: *const TandemModel,
    changes_json: *const c_char,
    user_json: *const c_char,
    out_version: *mut u64,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (m, t) = unsafe { (mdl(model)?, text(changes_json, "changes_json")?) };
        // SAFETY: forwarded contract.
        let user: UserId = from_json(unsafe { text(user_json, "user_json") }?, "user_json")?;
        let changes = changes_from_str(t)?;
        let version = m.domain().engine().block(m.apply_as(changes, &user))?;
        // SAFETY: forwarded contract.
        unsafe { put_opt(out_version, version) };
        Ok(())
    })
}

/// Undoes (`redo` = 0) or redoes (`redo` != 0) what `scope_json` names as one new operation,
/// recorded for the user `by_json` (NULL: the host), and writes the outcome as JSON to
/// `*out_json`: `{"outcome": "undone", "version", "undid"}`, `"partial"` (with `"skipped"`),
/// `{"outcome": "conflict", "versions"}`, `"nothing_to_undo"` or `"not_undoable"`. Scopes:
/// `{"version": 5}`, `{"last_of": {"kind", "name"}}`, `{"last_of_session": "s1"}`,
/// `{"since": {"user": {"kind", "name"}, "version": 3}}`.
///
/// # Safety
/// `model` must be a live handle; `scope_json` NUL-terminated; `by_json` NULL or
/// NUL-terminated; `out_json` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_model_undo(
    model: *const TandemModel,
    scope_json: *const c_char,
    by_json: *const c_char,
    redo: c_int,
    out_json: *mut *mut c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (m, scope, by) = unsafe {
            (
                mdl(model)?,
                text(scope_json, "scope_json")?,
                opt_text(by_json, "by_json")?,
            )
        };
        let scope: UndoScope = from_json(scope, "scope_json")?;
        let by = match by {
            Some(t) => from_json::<UserId>(t, "by_json")?,
            None => UserId::host(),
        };
        let out = if redo != 0 {
            m.domain().engine().block(m.redo_as(scope, &by))?
        } else {
            m.domain().engine().block(m.undo_as(scope, &by))?
        };
        // SAFETY: forwarded contract.
        unsafe { put_string(out_json, to_json(&out)?) }
    })
}

/// Writes the history entries with `first <= version <= last` to `*out_json`: a JSON array of
/// `{"version", "timestamp_ms", "session", "user": {"kind", "name"}, "operation"}`, with
/// `"undoes": [versions]` on an undo or redo.
///
/// # Safety
/// `model` must be a live handle; `out_json` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_model_history(
    model: *const TandemModel,
    first: u64,
    last: u64,
    out_json: *mut *mut c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let entries = unsafe { mdl(model) }?.history(first, last)?;
        let list: Vec<String> = entries.iter().map(HistoryEntry::to_json_text).collect();
        // SAFETY: forwarded contract.
        unsafe { put_string(out_json, format!("[{}]", list.join(","))) }
    })
}

/// Writes the version the model had at a wall-clock time (epoch ms) to `*out_version`.
///
/// # Safety
/// `model` must be a live handle; `out_version` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_model_version_at(
    model: *const TandemModel,
    time_ms: i64,
    out_version: *mut u64,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let m = unsafe { mdl(model) }?;
        if out_version.is_null() {
            return Err(crate::invalid("out_version must not be NULL"));
        }
        // SAFETY: forwarded contract.
        unsafe { put_opt(out_version, m.version_at(time_ms)?) };
        Ok(())
    })
}

/// Deletes the model; sessions that have it open are closed. The handle stays to be freed.
///
/// # Safety
/// `model` must be a live handle.
#[no_mangle]
pub unsafe extern "C" fn tandem_model_delete(model: *const TandemModel) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let m = unsafe { mdl(model) }?;
        m.domain().engine().block(m.delete())
    })
}

/// Subscribes to the model's events; stores the subscription in `*out_sub`.
///
/// # Safety
/// `model` must be a live handle; `out_sub` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_model_subscribe(
    model: *const TandemModel,
    out_sub: *mut *mut TandemSubscription,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let m = unsafe { mdl(model) }?;
        let sub = TandemSubscription::new(m.subscribe(), m.domain().engine().clone());
        // SAFETY: forwarded contract.
        unsafe { put_handle(out_sub, sub) }
    })
}
