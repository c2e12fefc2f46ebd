//! The Tandem C ABI (version 2), a thin layer over the engine facade `tandem::api`. It mirrors
//! the facade's handles: `tandem_engine` → `tandem_domain` → `tandem_model` →
//! `tandem_subscription`, each released with its `_free`.
//!
//! Conventions:
//! - Every function returns `TANDEM_OK` (0) or one of the `TANDEM_ERR_*` codes, which follow the
//!   facade's `ErrorCode::ALL` one-to-one; the calling thread's last error (code and message)
//!   is kept for `tandem_last_error_code` / `tandem_last_error_message`. Panics are caught and
//!   reported as `TANDEM_ERR_INTERNAL`.
//! - Strings are NUL-terminated UTF-8; structured data crosses as JSON text. JSON text is read
//!   and written exactly: a `\uXXXX` escape of an unpaired surrogate survives a round trip.
//! - Strings returned through `char **` belong to the caller: release them with
//!   [`tandem_string_free`]. Handles returned through `T **` are released with their `_free`.
//! - Calls block the calling thread until done (the engine runs on threads of its own); they
//!   may be made from any thread, including the engine's callback thread.

use std::cell::RefCell;
use std::ffi::{c_char, c_int, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use tandem::api::{Error, ErrorCode};

mod access;
mod activities;
mod chats;
mod domain;
mod engine;
mod model;
mod operators;
mod query;
mod sessions;
mod subscription;
mod webhooks;

pub use access::*;
pub use activities::*;
pub use chats::*;
pub use domain::*;
pub use engine::*;
pub use model::*;
pub use operators::*;
pub use sessions::*;
pub use subscription::*;
pub use webhooks::*;

/// The ABI version: bumped on every incompatible change of this header. Version 2 replaced
/// the flat calls (engine plus namespace, domain and model strings) by domain and model
/// handles, and the event poll thread by a blocking receive and a callback on the engine's
/// callback thread.
pub const TANDEM_ABI_VERSION: u32 = 2;

/// Success.
pub const TANDEM_OK: c_int = 0;
/// An argument is malformed (NULL pointer, bad UTF-8, bad JSON, empty id, bad path).
pub const TANDEM_ERR_INVALID_ARGUMENT: c_int = 1;
/// The named domain, collection, model, user or key does not exist.
pub const TANDEM_ERR_NOT_FOUND: c_int = 2;
/// Something with that id exists already.
pub const TANDEM_ERR_ALREADY_EXISTS: c_int = 3;
/// A change does not fit the model's data (bad index, wrong type, ...).
pub const TANDEM_ERR_INVALID_OPERATION: c_int = 4;
/// A submission could not be ordered against concurrent ones.
pub const TANDEM_ERR_CONFLICT: c_int = 5;
/// Storage failed; nothing of the failed write was acknowledged.
pub const TANDEM_ERR_STORAGE: c_int = 6;
/// The data directory was written with another format version.
pub const TANDEM_ERR_FORMAT_VERSION: c_int = 7;
/// The engine is shut down, the model is unavailable, or a subscription has ended.
pub const TANDEM_ERR_UNAVAILABLE: c_int = 8;
/// The configuration is invalid.
pub const TANDEM_ERR_CONFIG: c_int = 9;
/// A bug (including a caught panic): please report it.
pub const TANDEM_ERR_INTERNAL: c_int = 10;
/// Credentials were refused.
pub const TANDEM_ERR_UNAUTHENTICATED: c_int = 11;
/// The caller may see the thing but not do this with it.
pub const TANDEM_ERR_PERMISSION_DENIED: c_int = 12;

thread_local! {
    static LAST_ERROR: RefCell<(c_int, CString)> = RefCell::new((TANDEM_OK, CString::default()));
}

fn set_error(code: c_int, message: &str) {
    let text = CString::new(message.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = (code, text));
}

/// Runs `f`, turning errors and panics into a status code and the last error.
pub(crate) fn guard(f: impl FnOnce() -> Result<(), Error>) -> c_int {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => {
            set_error(TANDEM_OK, "");
            TANDEM_OK
        }
        Ok(Err(e)) => {
            let code = e.code.as_i32();
            set_error(code, &e.message);
            code
        }
        Err(_) => {
            set_error(TANDEM_ERR_INTERNAL, "internal error: the engine panicked");
            TANDEM_ERR_INTERNAL
        }
    }
}

pub(crate) fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidArgument, msg)
}

/// Reads a required NUL-terminated UTF-8 string.
///
/// # Safety
/// `p` must be NULL or point to a NUL-terminated string valid for the call.
pub(crate) unsafe fn text<'a>(p: *const c_char, name: &str) -> Result<&'a str, Error> {
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
pub(crate) unsafe fn opt_text<'a>(p: *const c_char, name: &str) -> Result<Option<&'a str>, Error> {
    if p.is_null() {
        Ok(None)
    } else {
        // SAFETY: forwarded contract.
        unsafe { text(p, name) }.map(Some)
    }
}

/// Reads a serde input type from JSON text (NULL: its defaults).
///
/// # Safety
/// As [`text`].
pub(crate) unsafe fn input<T: serde::de::DeserializeOwned + Default>(
    p: *const c_char,
    name: &str,
) -> Result<T, Error> {
    // SAFETY: forwarded contract.
    match unsafe { opt_text(p, name) }? {
        None => Ok(T::default()),
        Some(t) => from_json(t, name),
    }
}

/// Reads a serde input type from JSON text.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(t: &str, name: &str) -> Result<T, Error> {
    serde_json::from_str(t).map_err(|e| invalid(format!("{name}: {e}")))
}

/// Serializes an output type to JSON text.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, Error> {
    serde_json::to_string(value)
        .map_err(|e| Error::new(ErrorCode::Internal, format!("cannot write JSON: {e}")))
}

/// Stores a string in `*out` for the caller.
///
/// # Safety
/// `out` must be NULL or a valid pointer to write to.
pub(crate) unsafe fn put_string(out: *mut *mut c_char, value: String) -> Result<(), Error> {
    if out.is_null() {
        return Err(invalid("the output pointer must not be NULL"));
    }
    let c = CString::new(value).map_err(|_| invalid("the result contains a NUL byte"))?;
    // SAFETY: non-null, and the caller passes a writable location.
    unsafe { *out = c.into_raw() };
    Ok(())
}

/// Stores a value in `*out` when `out` is not NULL.
///
/// # Safety
/// `out` must be NULL or a valid pointer to write to.
pub(crate) unsafe fn put_opt<T>(out: *mut T, value: T) {
    if !out.is_null() {
        // SAFETY: non-null, and the caller passes a writable location.
        unsafe { *out = value };
    }
}

/// Stores a new handle in `*out` (required, so that it cannot leak).
///
/// # Safety
/// `out` must be NULL or a valid pointer to write to.
pub(crate) unsafe fn put_handle<T>(out: *mut *mut T, value: T) -> Result<(), Error> {
    if out.is_null() {
        return Err(invalid("the output handle pointer must not be NULL"));
    }
    // SAFETY: non-null, and the caller passes a writable location.
    unsafe { *out = Box::into_raw(Box::new(value)) };
    Ok(())
}

/// Borrows a handle.
///
/// # Safety
/// `p` must be NULL or a live handle of this type from this library.
pub(crate) unsafe fn handle<'a, T>(p: *const T, name: &str) -> Result<&'a T, Error> {
    if p.is_null() {
        return Err(invalid(format!("{name} must not be NULL")));
    }
    // SAFETY: non-null handles come from `put_handle` and stay valid until their `_free`,
    // which the caller must not race with other calls on the same handle.
    Ok(unsafe { &*p })
}

/// Frees a handle made by `put_handle`. NULL is ignored.
///
/// # Safety
/// `p` must be NULL or a handle of this type from this library, not freed before and not in
/// use by another thread.
pub(crate) unsafe fn free_handle<T>(p: *mut T) {
    if !p.is_null() {
        let _ = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: per the contract this is the only owner left.
            drop(unsafe { Box::from_raw(p) })
        }));
    }
}

/// The ABI version of this library (compare with `TANDEM_ABI_VERSION` from the header).
#[no_mangle]
pub extern "C" fn tandem_abi_version() -> u32 {
    TANDEM_ABI_VERSION
}

/// The status code of this thread's last call (`TANDEM_OK` after a successful one).
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

/// The stable name of a status code: "ok" for `TANDEM_OK`, "not_found" for
/// `TANDEM_ERR_NOT_FOUND`, ... (the facade's `ErrorCode::as_str`); NULL for a number that is no
/// code. A static string: do not free.
#[no_mangle]
pub extern "C" fn tandem_error_name(code: c_int) -> *const c_char {
    match code {
        TANDEM_OK => c"ok".as_ptr(),
        n => ErrorCode::from_i32(n).map_or(std::ptr::null(), |c| error_name_c(c).as_ptr()),
    }
}

/// The code's name as a static C string, built once from `ErrorCode::as_str`.
fn error_name_c(code: ErrorCode) -> &'static CStr {
    static NAMES: std::sync::OnceLock<Vec<(ErrorCode, CString)>> = std::sync::OnceLock::new();
    NAMES
        .get_or_init(|| {
            ErrorCode::ALL
                .iter()
                .map(|c| (*c, CString::new(c.as_str()).unwrap_or_default()))
                .collect()
        })
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(c"internal", |(_, name)| name.as_c_str())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn generated_header() -> Vec<u8> {
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
        generated
    }

    #[test]
    fn header_is_up_to_date() {
        let generated = generated_header();
        let path = format!("{}/../include/tandem.h", env!("CARGO_MANIFEST_DIR"));
        if std::env::var("TANDEM_UPDATE_HEADER").is_ok() {
            std::fs::write(&path, &generated).expect("write header");
        }
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "include/tandem.h is stale: run `TANDEM_UPDATE_HEADER=1 cargo test -p tandem-ffi` and commit it"
        );
    }

    /// Every code of the facade's table has a `TANDEM_ERR_*` constant in the header with the
    /// same number and name, and the header has no other: adding a code without its constant
    /// (or the reverse) fails here.
    #[test]
    fn error_constants_follow_the_facade_table_one_to_one() {
        let header = String::from_utf8(generated_header()).expect("UTF-8 header");
        let mut in_header: Vec<(String, i32)> = header
            .lines()
            .filter_map(|l| l.strip_prefix("#define TANDEM_ERR_"))
            .map(|rest| {
                let (name, value) = rest.split_once(' ').expect("#define NAME VALUE");
                (name.to_string(), value.trim().parse().expect("a number"))
            })
            .collect();
        in_header.sort_by_key(|(_, n)| *n);
        let from_table: Vec<(String, i32)> = ErrorCode::ALL
            .iter()
            .map(|c| (c.as_str().to_ascii_uppercase(), c.as_i32()))
            .collect();
        assert_eq!(in_header, from_table);
        assert!(header.contains("#define TANDEM_OK 0"));
    }

    #[test]
    fn error_names_come_from_the_table() {
        let name = |n| {
            let p = tandem_error_name(n);
            // SAFETY: non-null results are static NUL-terminated strings.
            (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_str().unwrap_or("?"))
        };
        assert_eq!(name(TANDEM_OK), Some("ok"));
        for c in ErrorCode::ALL {
            assert_eq!(name(c.as_i32()), Some(c.as_str()));
        }
        assert_eq!(name(0x7fff), None);
        assert_eq!(name(-1), None);
    }
}
