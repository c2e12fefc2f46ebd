//! Identity and permissions on `tandem_domain` and `tandem_model` handles (the facade's
//! `api/access.rs`): users' profiles, groups, collection, model and generic permissions, the
//! domain's state and admin-key tokens. Structured values cross as JSON in the facade's serde
//! forms: a user is `{"kind": "normal" | "anonymous" | "convergence", "name": "bob"}`; model
//! rights are `{"read", "write", "remove", "manage"}` and collection rights add `"create"`
//! (booleans, absent ones false); a (user, rights) pair is a two-element array.

use std::ffi::{c_char, c_int};

use serde::de::DeserializeOwned;
use tandem::api::{
    CollectionRights, DomainState, Error, ModelPermissionsChange, PermissionChange, Target, UserId,
    UserProfile,
};

use crate::domain::dom;
use crate::model::mdl;
use crate::{
    from_json, guard, invalid, opt_text, put_string, text, to_json, TandemDomain, TandemModel,
};

/// Reads a required JSON argument as a facade type.
///
/// # Safety
/// `p` must be NULL or point to a NUL-terminated string valid for the call.
unsafe fn arg<T: DeserializeOwned>(p: *const c_char, name: &str) -> Result<T, Error> {
    // SAFETY: forwarded contract.
    from_json(unsafe { text(p, name) }?, name)
}

/// Writes `value` as JSON to `*out` when `out` is not NULL.
///
/// # Safety
/// `out` must be NULL or writable.
unsafe fn put_opt_json<T: serde::Serialize>(out: *mut *mut c_char, value: &T) -> Result<(), Error> {
    if out.is_null() {
        return Ok(());
    }
    // SAFETY: forwarded contract.
    unsafe { put_string(out, to_json(value)?) }
}

/// Writes a normal user as JSON (`{"username", "display_name", "first_name", "last_name",
/// "email", "disabled", "has_password", "created_ms", "last_login_ms"}`) to `*out_json`;
/// `TANDEM_ERR_NOT_FOUND` if there is none.
///
/// # Safety
/// `domain` must be a live handle; `username` NUL-terminated; `out_json` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_user(
    domain: *const TandemDomain,
    username: *const c_char,
    out_json: *mut *mut c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, u) = unsafe { (dom(domain)?, text(username, "username")?) };
        // SAFETY: forwarded contract.
        unsafe { put_string(out_json, to_json(&d.user(u)?)?) }
    })
}

/// Changes a normal user's profile from JSON (`{"display_name", "first_name", "last_name",
/// "email"}`; fields given replace the stored ones, absent ones stay) and writes the user as
/// JSON to `*out_user_json` (NULL if not wanted).
///
/// # Safety
/// `domain` must be a live handle; strings NUL-terminated; `out_user_json` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_update_user(
    domain: *const TandemDomain,
    username: *const c_char,
    profile_json: *const c_char,
    out_user_json: *mut *mut c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, u) = unsafe { (dom(domain)?, text(username, "username")?) };
        // SAFETY: forwarded contract.
        let profile: UserProfile = unsafe { arg(profile_json, "profile_json") }?;
        let user = d.engine().block(d.update_user(u, profile))?;
        // SAFETY: forwarded contract.
        unsafe { put_opt_json(out_user_json, &user) }
    })
}

/// Disables (`disabled` != 0) or enables a normal user: a disabled user cannot log in.
///
/// # Safety
/// `domain` must be a live handle; `username` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_set_user_disabled(
    domain: *const TandemDomain,
    username: *const c_char,
    disabled: c_int,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, u) = unsafe { (dom(domain)?, text(username, "username")?) };
        d.engine().block(d.set_user_disabled(u, disabled != 0))
    })
}

/// Creates a group (`description` NULL: empty) and writes it as JSON (`{"id",
/// "description", "members": []}`) to `*out_group_json` (NULL if not wanted).
///
/// # Safety
/// `domain` must be a live handle; `id` NUL-terminated, `description` NULL or NUL-terminated;
/// `out_group_json` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_create_group(
    domain: *const TandemDomain,
    id: *const c_char,
    description: *const c_char,
    out_group_json: *mut *mut c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, id) = unsafe { (dom(domain)?, text(id, "id")?) };
        // SAFETY: forwarded contract.
        let description = unsafe { opt_text(description, "description") }?.unwrap_or("");
        let group = d.engine().block(d.create_group(id, description))?;
        // SAFETY: forwarded contract.
        unsafe { put_opt_json(out_group_json, &group) }
    })
}

/// Changes a group's description.
///
/// # Safety
/// `domain` must be a live handle; strings NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_set_group_description(
    domain: *const TandemDomain,
    id: *const c_char,
    description: *const c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, id) = unsafe { (dom(domain)?, text(id, "id")?) };
        // SAFETY: forwarded contract.
        let description = unsafe { text(description, "description") }?;
        d.engine().block(d.set_group_description(id, description))
    })
}

/// Deletes a group (its memberships and the permissions granted to it go too).
///
/// # Safety
/// `domain` must be a live handle; `id` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_delete_group(
    domain: *const TandemDomain,
    id: *const c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, id) = unsafe { (dom(domain)?, text(id, "id")?) };
        d.engine().block(d.delete_group(id))
    })
}

/// Writes a group with its members as JSON (`{"id", "description", "members": [user, ...]}`)
/// to `*out_json`.
///
/// # Safety
/// `domain` must be a live handle; `id` NUL-terminated; `out_json` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_group(
    domain: *const TandemDomain,
    id: *const c_char,
    out_json: *mut *mut c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, id) = unsafe { (dom(domain)?, text(id, "id")?) };
        // SAFETY: forwarded contract.
        unsafe { put_string(out_json, to_json(&d.group(id)?)?) }
    })
}

/// Writes every group, ordered by id and with its members, as a JSON array to `*out_json`.
///
/// # Safety
/// `domain` must be a live handle; `out_json` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_groups(
    domain: *const TandemDomain,
    out_json: *mut *mut c_char,
) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { put_string(out_json, to_json(&dom(domain)?.groups()?)?) })
}

/// Makes the user given as JSON a member of a group (both must exist).
///
/// # Safety
/// `domain` must be a live handle; strings NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_add_group_member(
    domain: *const TandemDomain,
    group: *const c_char,
    user_json: *const c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, g) = unsafe { (dom(domain)?, text(group, "group")?) };
        // SAFETY: forwarded contract.
        let user: UserId = unsafe { arg(user_json, "user_json") }?;
        d.engine().block(d.add_group_member(g, &user))
    })
}

/// Removes the user given as JSON from a group.
///
/// # Safety
/// `domain` must be a live handle; strings NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_remove_group_member(
    domain: *const TandemDomain,
    group: *const c_char,
    user_json: *const c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, g) = unsafe { (dom(domain)?, text(group, "group")?) };
        // SAFETY: forwarded contract.
        let user: UserId = unsafe { arg(user_json, "user_json") }?;
        d.engine().block(d.remove_group_member(g, &user))
    })
}

/// Writes the ids of the groups the user given as JSON is a member of, as a JSON array, to
/// `*out_json`.
///
/// # Safety
/// `domain` must be a live handle; `user_json` NUL-terminated; `out_json` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_user_groups(
    domain: *const TandemDomain,
    user_json: *const c_char,
    out_json: *mut *mut c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, user) = unsafe { (dom(domain)?, arg::<UserId>(user_json, "user_json")?) };
        // SAFETY: forwarded contract.
        unsafe { put_string(out_json, to_json(&d.user_groups(&user)?)?) }
    })
}

/// Writes a collection's permissions as JSON (`{"world": rights, "users": [[user, rights],
/// ...]}`) to `*out_json`.
///
/// # Safety
/// `domain` must be a live handle; `collection` NUL-terminated; `out_json` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_collection_permissions(
    domain: *const TandemDomain,
    collection: *const c_char,
    out_json: *mut *mut c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, c) = unsafe { (dom(domain)?, text(collection, "collection")?) };
        // SAFETY: forwarded contract.
        unsafe { put_string(out_json, to_json(&d.collection_permissions(c)?)?) }
    })
}

/// Replaces what everyone may do with a collection's models (and whether they may create
/// models in it) with the collection rights given as JSON; open models are re-checked.
///
/// # Safety
/// `domain` must be a live handle; strings NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_set_collection_world(
    domain: *const TandemDomain,
    collection: *const c_char,
    rights_json: *const c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, c) = unsafe { (dom(domain)?, text(collection, "collection")?) };
        // SAFETY: forwarded contract.
        let rights: CollectionRights = unsafe { arg(rights_json, "rights_json") }?;
        d.engine().block(d.set_collection_world(c, rights))
    })
}

/// Sets a user's entry on a collection to the collection rights given as JSON, or removes it
/// when `rights_json` is NULL.
///
/// # Safety
/// `domain` must be a live handle; `collection` and `user_json` NUL-terminated, `rights_json`
/// NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_set_collection_user(
    domain: *const TandemDomain,
    collection: *const c_char,
    user_json: *const c_char,
    rights_json: *const c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, c) = unsafe { (dom(domain)?, text(collection, "collection")?) };
        // SAFETY: forwarded contract.
        let user: UserId = unsafe { arg(user_json, "user_json") }?;
        // SAFETY: forwarded contract.
        let rights: Option<CollectionRights> =
            match unsafe { opt_text(rights_json, "rights_json") }? {
                Some(t) => Some(from_json(t, "rights_json")?),
                None => None,
            };
        d.engine().block(d.set_collection_user(c, &user, rights))
    })
}

/// Moves the domain `"online"`, into `"maintenance"` (only admin-key logins) or
/// `"offline"`.
///
/// # Safety
/// `domain` must be a live handle; `state` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_set_state(
    domain: *const TandemDomain,
    state: *const c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, s) = unsafe { (dom(domain)?, text(state, "state")?) };
        let state: DomainState = serde_json::from_value(s.into()).map_err(|_| {
            invalid(format!(
                "unknown domain state {s:?} (online, maintenance, offline)"
            ))
        })?;
        d.engine().block(d.set_state(state))
    })
}

/// Writes a token that logs `username` in as a convergence user (every permission) for
/// `ttl_secs`, signed with the domain's admin key (`kid` `ConvergenceAdminKey`), to
/// `*out_token`.
///
/// # Safety
/// `domain` must be a live handle; `username` NUL-terminated; `out_token` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_admin_token(
    domain: *const TandemDomain,
    username: *const c_char,
    ttl_secs: u64,
    out_token: *mut *mut c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, u) = unsafe { (dom(domain)?, text(username, "username")?) };
        let token = d.engine().block(d.admin_token(u, ttl_secs))?;
        // SAFETY: forwarded contract.
        unsafe { put_string(out_token, token) }
    })
}

/// Writes the generic permission rows of a target as JSON (`{"world": [...], "users":
/// [[user, [...]], ...], "groups": [[id, [...]], ...]}`) to `*out_json`. A target is
/// `{"kind": "global"}`, `{"kind": "chat", "id"}` or `{"kind": "activity", "type", "id"}`.
///
/// # Safety
/// `domain` must be a live handle; `target_json` NUL-terminated; `out_json` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_permissions(
    domain: *const TandemDomain,
    target_json: *const c_char,
    out_json: *mut *mut c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, t) = unsafe { (dom(domain)?, arg::<Target>(target_json, "target_json")?) };
        // SAFETY: forwarded contract.
        unsafe { put_string(out_json, to_json(&d.permissions(&t)?)?) }
    })
}

/// Adds, removes or replaces a target's generic permission rows. `change_json` is
/// `{"add": rows}`, `{"remove": rows}` (rows as [`tandem_domain_permissions`] writes them) or
/// `{"set": {"world", "users", "replace_users", "groups", "replace_groups"}}`; a string the
/// target kind does not know is `TANDEM_ERR_INVALID_ARGUMENT`, an unknown user or group
/// `TANDEM_ERR_NOT_FOUND`.
///
/// # Safety
/// `domain` must be a live handle; strings NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_change_permissions(
    domain: *const TandemDomain,
    target_json: *const c_char,
    change_json: *const c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, t) = unsafe { (dom(domain)?, arg::<Target>(target_json, "target_json")?) };
        // SAFETY: forwarded contract.
        let change: PermissionChange = unsafe { arg(change_json, "change_json") }?;
        d.engine().block(d.change_permissions(&t, &change))
    })
}

/// Writes the permission strings the user given as JSON holds on a target (its own rows, its
/// groups', the world row and global rows), as a sorted JSON array, to `*out_json`.
///
/// # Safety
/// `domain` must be a live handle; strings NUL-terminated; `out_json` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_resolve_permissions(
    domain: *const TandemDomain,
    target_json: *const c_char,
    user_json: *const c_char,
    out_json: *mut *mut c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, t) = unsafe { (dom(domain)?, arg::<Target>(target_json, "target_json")?) };
        // SAFETY: forwarded contract.
        let user: UserId = unsafe { arg(user_json, "user_json") }?;
        // SAFETY: forwarded contract.
        unsafe { put_string(out_json, to_json(&d.resolve_permissions(&t, &user)?)?) }
    })
}

/// Writes the model's stored permissions as JSON (`{"override_world", "world": rights,
/// "users": [[user, rights], ...]}`) to `*out_json`.
///
/// # Safety
/// `model` must be a live handle; `out_json` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_model_permissions(
    model: *const TandemModel,
    out_json: *mut *mut c_char,
) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { put_string(out_json, to_json(&mdl(model)?.permissions()?)?) })
}

/// Changes the model's permissions from JSON (`{"override_world", "world": rights,
/// "replace_users", "set_users": [[user, rights], ...], "remove_users": [user, ...]}`; absent
/// parts stay as they are). Sessions with the model open get their new rights at once and are
/// closed if they lost read.
///
/// # Safety
/// `model` must be a live handle; `change_json` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn tandem_model_set_permissions(
    model: *const TandemModel,
    change_json: *const c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let m = unsafe { mdl(model) }?;
        // SAFETY: forwarded contract.
        let change: ModelPermissionsChange = unsafe { arg(change_json, "change_json") }?;
        m.domain().engine().block(m.set_permissions(change))
    })
}

/// Writes what the user given as JSON may do with the model, resolved as the engine checks
/// it, as model rights JSON to `*out_json`.
///
/// # Safety
/// `model` must be a live handle; `user_json` NUL-terminated; `out_json` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_model_rights_of(
    model: *const TandemModel,
    user_json: *const c_char,
    out_json: *mut *mut c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (m, user) = unsafe { (mdl(model)?, arg::<UserId>(user_json, "user_json")?) };
        // SAFETY: forwarded contract.
        unsafe { put_string(out_json, to_json(&m.rights_of(&user)?)?) }
    })
}

/// Writes the presence of the users given as a JSON array of user ids, as a JSON array of
/// `{"user", "available", "state"}` in the same order, to `*out_json`.
///
/// # Safety
/// `domain` must be a live handle; `users_json` NUL-terminated; `out_json` writable.
#[no_mangle]
pub unsafe extern "C" fn tandem_domain_presence(
    domain: *const TandemDomain,
    users_json: *const c_char,
    out_json: *mut *mut c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (d, users) = unsafe { (dom(domain)?, arg::<Vec<UserId>>(users_json, "users_json")?) };
        let found = d.engine().block(d.presence(&users))?;
        // SAFETY: forwarded contract.
        unsafe { put_string(out_json, to_json(&found)?) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        tandem_domain_free, tandem_engine_create_domain, tandem_engine_free, tandem_engine_open,
        tandem_string_free, TandemEngine, TANDEM_ERR_INVALID_ARGUMENT, TANDEM_OK,
    };
    use std::ffi::{CStr, CString};

    #[test]
    fn a_bad_state_name_is_an_invalid_argument_and_a_good_one_works() {
        let mut e: *mut TandemEngine = std::ptr::null_mut();
        let mut d: *mut TandemDomain = std::ptr::null_mut();
        let (ns, id) = (CString::new("a").unwrap(), CString::new("b").unwrap());
        // SAFETY: valid pointers and strings; every handle is freed below.
        unsafe {
            assert_eq!(tandem_engine_open(std::ptr::null(), &mut e), TANDEM_OK);
            let rc =
                tandem_engine_create_domain(e, ns.as_ptr(), id.as_ptr(), std::ptr::null(), &mut d);
            assert_eq!(rc, TANDEM_OK);
            let asleep = CString::new("asleep").unwrap();
            assert_eq!(
                tandem_domain_set_state(d, asleep.as_ptr()),
                TANDEM_ERR_INVALID_ARGUMENT
            );
            let maintenance = CString::new("maintenance").unwrap();
            assert_eq!(tandem_domain_set_state(d, maintenance.as_ptr()), TANDEM_OK);
            let mut out: *mut c_char = std::ptr::null_mut();
            assert_eq!(crate::tandem_domain_settings(d, &mut out), TANDEM_OK);
            let text = CStr::from_ptr(out).to_str().unwrap().to_string();
            assert!(text.contains("\"state\":\"maintenance\""), "{text}");
            tandem_string_free(out);
            tandem_domain_free(d);
            tandem_engine_free(e);
        }
    }
}
