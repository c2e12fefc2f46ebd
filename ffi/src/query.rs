//! Model queries on `tandem_domain` handles (the facade's `api/query.rs`).

use std::ffi::{c_char, c_int};

use tandem::api::UserId;

use crate::domain::dom;
use crate::{from_json, guard, opt_text, put_string, text, to_json, TandemDomain};

/// Runs a model query (`SELECT … FROM collection [WHERE …] [ORDER BY …] [LIMIT n]
/// [OFFSET n]`) and writes `{"models": [{"collection", "id", "created_ms", "modified_ms",
/// "version", "data"}], "offset", "total"}` to `*out_json`. With `user_json` (a user as JSON;
/// NULL: as the host) only the models that user may read count. A malformed query is
/// `TANDEM_ERR_INVALID_ARGUMENT`, its message naming the position.
///
/// # Safety
/// `domain` must be a live handle; `query` NUL-terminated; `user_json` NULL or
/// NUL-terminated; `out_json` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_query(
    domain: *const TandemDomain,
    query: *const c_char,
    user_json: *const c_char,
    out_json: *mut *mut c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, query, user) = unsafe {
            (
                dom(domain)?,
                text(query, "query")?,
                opt_text(user_json, "user_json")?,
            )
        };
        let user: Option<UserId> = user.map(|u| from_json(u, "user_json")).transpose()?;
        let page = match &user {
            Some(u) => d.query_as(u, query)?,
            None => d.query(query)?,
        };
        // SAFETY: forwarded contract.
        unsafe { put_string(out_json, to_json(&page)?) }
    })
}
