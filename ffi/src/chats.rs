//! Chats on `tandem_domain` handles (the facade's `api/chats.rs`): create and remove channels
//! and rooms, get or create direct chats, read one or all, manage members, name and topic, post messages as a user or as
//! the host, read history. Every stored chat event arrives as a `chat_changed` event on
//! [`tandem_domain_subscribe`](crate::tandem_domain_subscribe). Users cross as JSON
//! `{"kind": "normal", "name": "bob"}`.

use std::ffi::{c_char, c_int};

use tandem::api::{ChatHistoryQuery, NewChat, UserId};

use crate::domain::dom;
use crate::{from_json, guard, input, opt_text, put_string, text, to_json, TandemDomain};

/// Creates a channel or room from `chat_json` — `{"id"?, "kind": "channel"|"room",
/// "private"?, "name"?, "topic"?, "members"?: [user, ...]}` — and writes its id to `*out_id`.
/// `TANDEM_ERR_ALREADY_EXISTS` if the id is taken; a private room, an unknown member or a bad
/// id is `TANDEM_ERR_INVALID_ARGUMENT` or `TANDEM_ERR_NOT_FOUND`.
///
/// # Safety
/// `domain` must be a live handle; `chat_json` NUL-terminated; `out_id` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_create_chat(
    domain: *const TandemDomain,
    chat_json: *const c_char,
    out_id: *mut *mut c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, json) = unsafe { (dom(domain)?, text(chat_json, "chat_json")?) };
        let chat: NewChat = from_json(json, "chat_json")?;
        let id = d.engine().block(d.create_chat(chat))?;
        // SAFETY: forwarded contract.
        unsafe { put_string(out_id, id) }
    })
}

/// Removes a chat with its events; its members are told. `TANDEM_ERR_NOT_FOUND` if there is
/// none.
///
/// # Safety
/// `domain` must be a live handle; `id` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_remove_chat(
    domain: *const TandemDomain,
    id: *const c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, id) = unsafe { (dom(domain)?, text(id, "id")?) };
        d.engine().block(d.remove_chat(id))
    })
}

/// Writes a chat as it is now to `*out_json` — `{"id", "kind", "private", "name", "topic",
/// "created_ms", "last_event_number", "last_event_ms", "members": [{"user",
/// "max_seen_event"}]}` — or `null` when it does not exist.
///
/// # Safety
/// `domain` must be a live handle; `id` NUL-terminated; `out_json` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_chat(
    domain: *const TandemDomain,
    id: *const c_char,
    out_json: *mut *mut c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, id) = unsafe { (dom(domain)?, text(id, "id")?) };
        let found = d.engine().block(d.chat(id))?;
        // SAFETY: forwarded contract.
        unsafe { put_string(out_json, to_json(&found)?) }
    })
}

/// Writes the direct chat of exactly the users in `users_json` (a JSON array of users) to
/// `*out_json`, as `tandem_domain_chat` writes a chat; it is created when there is none, and
/// the same set always answers the same chat. No user is `TANDEM_ERR_INVALID_ARGUMENT`, an
/// unknown one `TANDEM_ERR_NOT_FOUND`.
///
/// # Safety
/// `domain` must be a live handle; `users_json` NUL-terminated; `out_json` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_direct_chat(
    domain: *const TandemDomain,
    users_json: *const c_char,
    out_json: *mut *mut c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, users) = unsafe { (dom(domain)?, text(users_json, "users_json")?) };
        let users: Vec<UserId> = from_json(users, "users_json")?;
        let chat = d.engine().block(d.direct_chat(&users))?;
        // SAFETY: forwarded contract.
        unsafe { put_string(out_json, to_json(&chat)?) }
    })
}

/// Writes every chat of the domain, as a JSON array of chats, to `*out_json`.
///
/// # Safety
/// `domain` must be a live handle; `out_json` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_chats(
    domain: *const TandemDomain,
    out_json: *mut *mut c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let d = unsafe { dom(domain) }?;
        let found = d.engine().block(d.chats())?;
        // SAFETY: forwarded contract.
        unsafe { put_string(out_json, to_json(&found)?) }
    })
}

/// Adds (`add` true) or removes the user given as JSON to or from a channel.
/// `TANDEM_ERR_ALREADY_EXISTS` for a member added again, `TANDEM_ERR_NOT_FOUND` for a
/// non-member removed.
///
/// # Safety
/// `domain` must be a live handle; `id` and `user_json` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_change_chat_member(
    domain: *const TandemDomain,
    id: *const c_char,
    user_json: *const c_char,
    add: bool,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, id, user) =
            unsafe { (dom(domain)?, text(id, "id")?, text(user_json, "user_json")?) };
        let user: UserId = from_json(user, "user_json")?;
        if add {
            d.engine().block(d.add_chat_member(id, &user))
        } else {
            d.engine().block(d.remove_chat_member(id, &user))
        }
    })
}

/// Sets a chat's name (`topic` false) or its topic.
///
/// # Safety
/// `domain` must be a live handle; `id` and `value` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_set_chat_text(
    domain: *const TandemDomain,
    id: *const c_char,
    value: *const c_char,
    topic: bool,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, id, value) = unsafe { (dom(domain)?, text(id, "id")?, text(value, "value")?) };
        if topic {
            d.engine().block(d.set_chat_topic(id, value))
        } else {
            d.engine().block(d.set_chat_name(id, value))
        }
    })
}

/// Posts `message` to a chat as the user given as JSON (NULL: as the host) and writes
/// `{"number", "timestamp_ms"}` to `*out_json` (NULL: not written). A user who is no member
/// is refused as if the chat did not exist (`TANDEM_ERR_NOT_FOUND`).
///
/// # Safety
/// `domain` must be a live handle; `id` and `message` NUL-terminated; `user_json` NULL or
/// NUL-terminated; `out_json` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_post_chat_message(
    domain: *const TandemDomain,
    id: *const c_char,
    user_json: *const c_char,
    message: *const c_char,
    out_json: *mut *mut c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, id, user, message) = unsafe {
            (
                dom(domain)?,
                text(id, "id")?,
                opt_text(user_json, "user_json")?,
                text(message, "message")?,
            )
        };
        let user: Option<UserId> = user.map(|u| from_json(u, "user_json")).transpose()?;
        let posted = d
            .engine()
            .block(d.post_chat_message(id, user.as_ref(), message))?;
        if out_json.is_null() {
            return Ok(());
        }
        // SAFETY: non-null, and the caller passes a writable location.
        unsafe { put_string(out_json, to_json(&posted)?) }
    })
}

/// Writes a page of a chat's events to `*out_json`: `{"events": [{"number", "timestamp_ms",
/// "user", "kind", ...}], "offset", "total"}`. `query_json` (NULL: newest first, 50) is
/// `{"kinds"?, "text"?, "start"?, "forward"?, "offset"?, "limit"?}`.
///
/// # Safety
/// `domain` must be a live handle; `id` NUL-terminated; `query_json` NULL or NUL-terminated;
/// `out_json` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_chat_history(
    domain: *const TandemDomain,
    id: *const c_char,
    query_json: *const c_char,
    out_json: *mut *mut c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, id) = unsafe { (dom(domain)?, text(id, "id")?) };
        // SAFETY: forwarded contract.
        let query: ChatHistoryQuery = unsafe { input(query_json, "query_json") }?;
        let page = d.engine().block(d.chat_history(id, query))?;
        // SAFETY: forwarded contract.
        unsafe { put_string(out_json, to_json(&page)?) }
    })
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

    /// Takes a string the library wrote and frees it.
    unsafe fn take(p: *mut c_char) -> String {
        // SAFETY: `p` was written by the library and is freed once, here.
        unsafe {
            let s = CStr::from_ptr(p).to_str().unwrap().to_string();
            tandem_string_free(p);
            s
        }
    }

    #[test]
    fn a_channel_is_created_posted_to_read_and_removed() {
        let mut e: *mut TandemEngine = std::ptr::null_mut();
        let mut d: *mut TandemDomain = std::ptr::null_mut();
        let c = |s: &str| CString::new(s).unwrap();
        let (ns, dm, id) = (c("a"), c("b"), c("general"));
        let null = std::ptr::null();
        // SAFETY: valid pointers and strings; every handle and string is freed below.
        unsafe {
            assert_eq!(tandem_engine_open(null, &mut e), TANDEM_OK);
            let rc = tandem_engine_create_domain(e, ns.as_ptr(), dm.as_ptr(), null, &mut d);
            assert_eq!(rc, TANDEM_OK);
            let spec = c(r#"{"id": "general", "kind": "channel", "name": "General"}"#);
            let mut out: *mut c_char = std::ptr::null_mut();
            assert_eq!(
                tandem_domain_create_chat(d, spec.as_ptr(), &mut out),
                TANDEM_OK
            );
            assert_eq!(take(out), "general");
            let mut out: *mut c_char = std::ptr::null_mut();
            let rc = tandem_domain_create_chat(d, spec.as_ptr(), &mut out);
            assert_eq!((rc, out.is_null()), (TANDEM_ERR_ALREADY_EXISTS, true));
            let room = c(r#"{"kind": "room", "private": true}"#);
            let rc = tandem_domain_create_chat(d, room.as_ptr(), &mut out);
            assert_eq!(rc, TANDEM_ERR_INVALID_ARGUMENT);
            let typo = c(r#"{"kind": "channel", "nmae": "x"}"#);
            let rc = tandem_domain_create_chat(d, typo.as_ptr(), &mut out);
            assert_eq!(
                rc, TANDEM_ERR_INVALID_ARGUMENT,
                "unknown fields are refused"
            );

            let hello = c("hello");
            let rc =
                tandem_domain_post_chat_message(d, id.as_ptr(), null, hello.as_ptr(), &mut out);
            assert_eq!(rc, TANDEM_OK);
            let posted: serde_json::Value = serde_json::from_str(&take(out)).unwrap();
            assert_eq!(posted["number"], 1);
            let stranger = c(r#"{"kind": "normal", "name": "nobody"}"#);
            let rc = tandem_domain_post_chat_message(
                d,
                id.as_ptr(),
                stranger.as_ptr(),
                hello.as_ptr(),
                std::ptr::null_mut(),
            );
            assert_eq!(rc, TANDEM_ERR_NOT_FOUND, "no member, no chat");
            let topic = c("News");
            assert_eq!(
                tandem_domain_set_chat_text(d, id.as_ptr(), topic.as_ptr(), true),
                TANDEM_OK
            );

            let query = c(r#"{"kinds": ["message"]}"#);
            let rc = tandem_domain_chat_history(d, id.as_ptr(), query.as_ptr(), &mut out);
            assert_eq!(rc, TANDEM_OK);
            let page: serde_json::Value = serde_json::from_str(&take(out)).unwrap();
            assert_eq!(page["total"], 1);
            assert_eq!(page["events"][0]["kind"], "message");
            assert_eq!(page["events"][0]["text"], "hello");
            let rc = tandem_domain_chat(d, id.as_ptr(), &mut out);
            assert_eq!(rc, TANDEM_OK);
            let info: serde_json::Value = serde_json::from_str(&take(out)).unwrap();
            assert_eq!(
                (info["topic"].as_str(), info["kind"].as_str()),
                (Some("News"), Some("channel"))
            );
            assert_eq!(tandem_domain_chats(d, &mut out), TANDEM_OK);
            let all: serde_json::Value = serde_json::from_str(&take(out)).unwrap();
            assert_eq!(all.as_array().map(Vec::len), Some(1));

            assert_eq!(tandem_domain_remove_chat(d, id.as_ptr()), TANDEM_OK);
            assert_eq!(
                tandem_domain_remove_chat(d, id.as_ptr()),
                TANDEM_ERR_NOT_FOUND
            );
            assert_eq!(tandem_domain_chat(d, id.as_ptr(), &mut out), TANDEM_OK);
            assert_eq!(take(out), "null");
            tandem_domain_free(d);
            tandem_engine_free(e);
        }
    }
}
