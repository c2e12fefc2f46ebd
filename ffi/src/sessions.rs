//! The sessions connected to a `tandem_domain` (the facade's `api/sessions.rs`), for
//! operators: who is connected, from where, and a way to disconnect one (its client
//! reconnects with a new session, as after a network drop).

use std::ffi::{c_char, c_int};

use crate::domain::dom;
use crate::{guard, put_string, text, to_json, TandemDomain};

/// Writes the sessions connected to the domain now, oldest first, to `*out_json`: a JSON array
/// of `{"id", "user": {"kind", "name"}, "connected_ms", "address", "client"}` (`address` is
/// null when unknown; `client` is the name and version the client reported).
///
/// # Safety
/// `domain` must be a live handle; `out_json` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_sessions(
    domain: *const TandemDomain,
    out_json: *mut *mut c_char,
) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { put_string(out_json, to_json(&dom(domain)?.sessions()?)?) })
}

/// Disconnects a session of the domain: its socket is closed and its client reconnects with a
/// new session. `TANDEM_ERR_NOT_FOUND` if no such session is connected to this domain.
///
/// # Safety
/// `domain` must be a live handle; `id` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_disconnect_session(
    domain: *const TandemDomain,
    id: *const c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, id) = unsafe { (dom(domain)?, text(id, "id")?) };
        d.disconnect_session(id)
    })
}
