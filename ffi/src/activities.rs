//! Activities on `tandem_domain` handles (the facade's `api/activities.rs`): create and delete
//! them, list them, ask whether one exists, read who is in one. Joins, leaves and state changes arrive
//! as `activity_changed` events on [`tandem_domain_subscribe`](crate::tandem_domain_subscribe).
//! Permission rows cross as JSON in the facade's form: `{"world": [...], "users": [[user,
//! [...]], ...], "groups": [[id, [...]], ...]}` with the strings `join`, `lurk`,
//! `view_state`, `set_state`, `remove`, `manage`.

use std::ffi::{c_char, c_int};

use tandem::api::TargetPermissions;

use crate::domain::dom;
use crate::{guard, input, invalid, put_string, text, to_json, TandemDomain};

/// Creates a persistent activity of `activity_type` and `id` with exactly the permission rows
/// of `permissions_json` (NULL: no rows). `TANDEM_ERR_ALREADY_EXISTS` if it exists; an
/// unknown permission string or a bad type or id is `TANDEM_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `domain` must be a live handle; `activity_type` and `id` NUL-terminated;
/// `permissions_json` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_create_activity(
    domain: *const TandemDomain,
    activity_type: *const c_char,
    id: *const c_char,
    permissions_json: *const c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, t, id) = unsafe {
            (
                dom(domain)?,
                text(activity_type, "activity_type")?,
                text(id, "id")?,
            )
        };
        // SAFETY: forwarded contract.
        let rows: TargetPermissions = unsafe { input(permissions_json, "permissions_json") }?;
        d.engine().block(d.create_activity(t, id, rows))
    })
}

/// Deletes an activity; its participants are told and leave. `TANDEM_ERR_NOT_FOUND` if there
/// is none.
///
/// # Safety
/// `domain` must be a live handle; `activity_type` and `id` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_delete_activity(
    domain: *const TandemDomain,
    activity_type: *const c_char,
    id: *const c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, t, id) = unsafe {
            (
                dom(domain)?,
                text(activity_type, "activity_type")?,
                text(id, "id")?,
            )
        };
        d.engine().block(d.delete_activity(t, id))
    })
}

/// Stores in `*out_exists` whether the activity exists.
///
/// # Safety
/// `domain` must be a live handle; `activity_type` and `id` NUL-terminated; `out_exists`
/// writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_activity_exists(
    domain: *const TandemDomain,
    activity_type: *const c_char,
    id: *const c_char,
    out_exists: *mut bool,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, t, id) = unsafe {
            (
                dom(domain)?,
                text(activity_type, "activity_type")?,
                text(id, "id")?,
            )
        };
        if out_exists.is_null() {
            return Err(invalid("out_exists must not be NULL"));
        }
        let exists = d.activity_exists(t, id)?;
        // SAFETY: non-null, and the caller passes a writable location.
        unsafe { *out_exists = exists };
        Ok(())
    })
}

/// Writes the visible participants of an activity, in the order they joined, to `*out_json`:
/// a JSON array of `{"session", "user": {"kind", "name"}, "state": {key: value, ...}}`.
/// `TANDEM_ERR_NOT_FOUND` if there is no such activity.
///
/// # Safety
/// `domain` must be a live handle; `activity_type` and `id` NUL-terminated; `out_json`
/// writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_activity_participants(
    domain: *const TandemDomain,
    activity_type: *const c_char,
    id: *const c_char,
    out_json: *mut *mut c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, t, id) = unsafe {
            (
                dom(domain)?,
                text(activity_type, "activity_type")?,
                text(id, "id")?,
            )
        };
        let found = d.engine().block(d.activity_participants(t, id))?;
        // SAFETY: forwarded contract.
        unsafe { put_string(out_json, to_json(&found)?) }
    })
}

/// Writes the domain's stored activities, ordered by type then id, to `*out_json`: a JSON
/// array of `{"activity_type", "id", "created_ms", "ephemeral"}`.
///
/// # Safety
/// `domain` must be a live handle; `out_json` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_activities(
    domain: *const TandemDomain,
    out_json: *mut *mut c_char,
) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { put_string(out_json, to_json(&dom(domain)?.activities()?)?) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        tandem_domain_free, tandem_engine_create_domain, tandem_engine_free, tandem_engine_open,
        tandem_string_free, TandemEngine, TANDEM_ERR_ALREADY_EXISTS, TANDEM_ERR_INVALID_ARGUMENT,
        TANDEM_ERR_NOT_FOUND, TANDEM_OK,
    };
    use std::ffi::{CStr, CString};

    #[test]
    fn activities_are_created_found_listed_and_deleted() {
        let mut e: *mut TandemEngine = std::ptr::null_mut();
        let mut d: *mut TandemDomain = std::ptr::null_mut();
        let c = |s: &str| CString::new(s).unwrap();
        let (ns, dm, ty, id) = (c("a"), c("b"), c("doc"), c("a1"));
        // SAFETY: valid pointers and strings; every handle and string is freed below.
        unsafe {
            assert_eq!(tandem_engine_open(std::ptr::null(), &mut e), TANDEM_OK);
            let rc =
                tandem_engine_create_domain(e, ns.as_ptr(), dm.as_ptr(), std::ptr::null(), &mut d);
            assert_eq!(rc, TANDEM_OK);
            let mut exists = true;
            let rc = tandem_domain_activity_exists(d, ty.as_ptr(), id.as_ptr(), &mut exists);
            assert_eq!((rc, exists), (TANDEM_OK, false));
            let rows = c(r#"{"world": ["join"]}"#);
            let rc = tandem_domain_create_activity(d, ty.as_ptr(), id.as_ptr(), rows.as_ptr());
            assert_eq!(rc, TANDEM_OK);
            let rc = tandem_domain_create_activity(d, ty.as_ptr(), id.as_ptr(), std::ptr::null());
            assert_eq!(rc, TANDEM_ERR_ALREADY_EXISTS);
            let bad = c(r#"{"world": ["fly"]}"#);
            let other = c("a2");
            let rc = tandem_domain_create_activity(d, ty.as_ptr(), other.as_ptr(), bad.as_ptr());
            assert_eq!(rc, TANDEM_ERR_INVALID_ARGUMENT);
            let rc = tandem_domain_activity_exists(d, ty.as_ptr(), id.as_ptr(), &mut exists);
            assert_eq!((rc, exists), (TANDEM_OK, true));
            let rc =
                tandem_domain_activity_exists(d, ty.as_ptr(), id.as_ptr(), std::ptr::null_mut());
            assert_eq!(rc, TANDEM_ERR_INVALID_ARGUMENT);
            let mut out: *mut c_char = std::ptr::null_mut();
            let rc = tandem_domain_activity_participants(d, ty.as_ptr(), id.as_ptr(), &mut out);
            assert_eq!(rc, TANDEM_OK);
            assert_eq!(CStr::from_ptr(out).to_str().unwrap(), "[]");
            tandem_string_free(out);
            assert_eq!(
                tandem_domain_delete_activity(d, ty.as_ptr(), id.as_ptr()),
                TANDEM_OK
            );
            assert_eq!(
                tandem_domain_delete_activity(d, ty.as_ptr(), id.as_ptr()),
                TANDEM_ERR_NOT_FOUND
            );
            let mut out: *mut c_char = std::ptr::null_mut();
            let rc = tandem_domain_activity_participants(d, ty.as_ptr(), id.as_ptr(), &mut out);
            assert_eq!((rc, out.is_null()), (TANDEM_ERR_NOT_FOUND, true));
            tandem_domain_free(d);
            tandem_engine_free(e);
        }
    }
}
