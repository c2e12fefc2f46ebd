//! Keys of the LMDB databases: escaped string tuples (which sort like the tuples and never
//! prefix one another), big-endian `(model number, version)` pairs, and the check that refuses
//! a write whose key LMDB cannot hold.
//!
//! Access control: a permission row is keyed by the domain, its target (a tag, then the
//! target's ids) and its grantee (a tag — `0` world, `1` user, `2` group — then the user's
//! type number and name, or the group id), so the rows of one target are one prefix and come
//! out world first, then users by (type, username), then groups by id: the order of
//! [`Grantee`]'s `Ord`. Group members are keyed by domain, group, member type and name, and the
//! same memberships by domain, member type and name, group, so that both directions are
//! prefix scans.

use std::ops::Bound;

use super::super::{
    DomainKey, Grantee, GranteeKind, PermissionTarget, StoreError, StoreResult, UserType, WriteOp,
};

// ---------------------------------------------------------------------------------------------
// Keys.
// ---------------------------------------------------------------------------------------------

/// Appends `s` so that concatenations of escaped strings sort like tuples of the strings and no
/// escaped string is a prefix of another: NUL becomes `00 01`, the terminator is `00 00`.
fn push_escaped(out: &mut Vec<u8>, s: &str) {
    for &b in s.as_bytes() {
        if b == 0 {
            out.extend_from_slice(&[0, 1]);
        } else {
            out.push(b);
        }
    }
    out.extend_from_slice(&[0, 0]);
}

/// The key of a server-level record named `name` (an administrator).
pub(super) fn name_key(name: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(name.len() + 2);
    push_escaped(&mut out, name);
    out
}

pub(super) fn domain_key(d: &DomainKey) -> Vec<u8> {
    let mut out = Vec::with_capacity(d.namespace.len() + d.id.len() + 4);
    push_escaped(&mut out, &d.namespace);
    push_escaped(&mut out, &d.id);
    out
}

pub(super) fn child_key(d: &DomainKey, id: &str) -> Vec<u8> {
    let mut out = domain_key(d);
    push_escaped(&mut out, id);
    out
}

/// The key of an activity: its domain, type and id.
pub(super) fn activity_key(d: &DomainKey, activity_type: &str, id: &str) -> Vec<u8> {
    let mut out = child_key(d, activity_type);
    push_escaped(&mut out, id);
    out
}

pub(super) fn user_key(d: &DomainKey, user_type: UserType, username: &str) -> Vec<u8> {
    let mut out = domain_key(d);
    push_user(&mut out, user_type, username);
    out
}

fn push_user(out: &mut Vec<u8>, user_type: UserType, username: &str) {
    push_escaped(out, &user_type.as_i32().to_string());
    push_escaped(out, username);
}

/// The key of a domain's permission rows on `target`, which every one of them starts with.
pub(super) fn target_prefix(d: &DomainKey, target: &PermissionTarget) -> Vec<u8> {
    let mut out = domain_key(d);
    match target {
        PermissionTarget::Global => push_escaped(&mut out, "0"),
        PermissionTarget::Collection(id) => {
            push_escaped(&mut out, "1");
            push_escaped(&mut out, id);
        }
        PermissionTarget::Model(id) => {
            push_escaped(&mut out, "2");
            push_escaped(&mut out, id);
        }
        PermissionTarget::Chat(id) => {
            push_escaped(&mut out, "3");
            push_escaped(&mut out, id);
        }
        PermissionTarget::Activity { kind, id } => {
            push_escaped(&mut out, "4");
            push_escaped(&mut out, kind);
            push_escaped(&mut out, id);
        }
    }
    out
}

/// The key of the permission row of `grantee` on `target`.
pub(super) fn permission_key(
    d: &DomainKey,
    target: &PermissionTarget,
    grantee: &Grantee,
) -> Vec<u8> {
    let mut out = target_prefix(d, target);
    match grantee {
        Grantee::World => push_escaped(&mut out, "0"),
        Grantee::User(user_type, username) => {
            push_escaped(&mut out, "1");
            push_user(&mut out, *user_type, username);
        }
        Grantee::Group(id) => {
            push_escaped(&mut out, "2");
            push_escaped(&mut out, id);
        }
    }
    out
}

/// The prefix of the rows of `target` whose grantee is of `kind`.
pub(super) fn grantee_kind_prefix(
    d: &DomainKey,
    target: &PermissionTarget,
    kind: GranteeKind,
) -> Vec<u8> {
    let mut out = target_prefix(d, target);
    match kind {
        GranteeKind::All => {}
        GranteeKind::World => push_escaped(&mut out, "0"),
        GranteeKind::Users => push_escaped(&mut out, "1"),
        GranteeKind::Groups => push_escaped(&mut out, "2"),
    }
    out
}

/// The key of a membership in the `group_members` database (group, then member).
pub(super) fn member_key(
    d: &DomainKey,
    group: &str,
    user_type: UserType,
    username: &str,
) -> Vec<u8> {
    let mut out = child_key(d, group);
    push_user(&mut out, user_type, username);
    out
}

/// The key of a membership in the `user_groups` database (member, then group).
pub(super) fn membership_key(
    d: &DomainKey,
    user_type: UserType,
    username: &str,
    group: &str,
) -> Vec<u8> {
    let mut out = user_key(d, user_type, username);
    push_escaped(&mut out, group);
    out
}

/// Reads the escaped strings of a key back, one at a time.
pub(super) struct KeyReader<'a> {
    rest: &'a [u8],
}

fn bad_key(what: &str) -> StoreError {
    StoreError::Corrupt(format!("malformed key: {what}"))
}

impl<'a> KeyReader<'a> {
    /// Reads `key`, or what of it follows a prefix already known.
    pub(super) fn new(key: &'a [u8]) -> Self {
        KeyReader { rest: key }
    }

    /// The next escaped string.
    pub(super) fn string(&mut self) -> StoreResult<String> {
        let mut out = Vec::new();
        let mut bytes = self.rest.iter().copied().enumerate();
        while let Some((i, b)) = bytes.next() {
            if b != 0 {
                out.push(b);
                continue;
            }
            match bytes.next() {
                Some((_, 0)) => {
                    self.rest = &self.rest[i + 2..];
                    return String::from_utf8(out).map_err(|_| bad_key("not UTF-8"));
                }
                Some((_, 1)) => out.push(0),
                _ => return Err(bad_key("bad escape")),
            }
        }
        Err(bad_key("unterminated string"))
    }

    /// The next user (type number, then name).
    pub(super) fn user(&mut self) -> StoreResult<(UserType, String)> {
        let n = self.string()?;
        let user_type = n
            .parse()
            .ok()
            .and_then(UserType::from_i32)
            .ok_or_else(|| bad_key("unknown user type"))?;
        Ok((user_type, self.string()?))
    }

    /// The next permission target.
    pub(super) fn target(&mut self) -> StoreResult<PermissionTarget> {
        Ok(match self.string()?.as_str() {
            "0" => PermissionTarget::Global,
            "1" => PermissionTarget::Collection(self.string()?),
            "2" => PermissionTarget::Model(self.string()?),
            "3" => PermissionTarget::Chat(self.string()?),
            "4" => PermissionTarget::Activity {
                kind: self.string()?,
                id: self.string()?,
            },
            _ => return Err(bad_key("unknown permission target")),
        })
    }

    /// The next grantee.
    pub(super) fn grantee(&mut self) -> StoreResult<Grantee> {
        Ok(match self.string()?.as_str() {
            "0" => Grantee::World,
            "1" => {
                let (user_type, username) = self.user()?;
                Grantee::User(user_type, username)
            }
            "2" => Grantee::Group(self.string()?),
            _ => return Err(bad_key("unknown grantee")),
        })
    }

    /// Fails unless the whole key was read.
    pub(super) fn end(&self) -> StoreResult<()> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(bad_key("trailing bytes"))
        }
    }
}

/// The smallest key greater than every key starting with `prefix` (`prefix` ends in `00 00`).
pub(super) fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            break;
        }
    }
    end
}

pub(super) fn num_key(number: u64, version: u64) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&number.to_be_bytes());
    k[8..].copy_from_slice(&version.to_be_bytes());
    k
}

/// Splits an `(number, version)` key; `None` for a key of another length.
pub(super) fn split_num_key(key: &[u8]) -> Option<(u64, u64)> {
    let n: [u8; 8] = key.get(..8)?.try_into().ok()?;
    let v: [u8; 8] = key.get(8..16)?.try_into().ok()?;
    (key.len() == 16).then(|| (u64::from_be_bytes(n), u64::from_be_bytes(v)))
}

pub(super) fn model_range(number: u64) -> ([u8; 16], [u8; 16]) {
    (num_key(number, 0), num_key(number, u64::MAX))
}

pub(super) fn range_of<'a>(lo: &'a [u8], hi: &'a [u8]) -> (Bound<&'a [u8]>, Bound<&'a [u8]>) {
    (Bound::Included(lo), Bound::Included(hi))
}

/// The largest key LMDB takes (its compile-time default, which heed's build keeps).
pub(super) const MAX_KEY_BYTES: usize = 511;

/// Refuses a batch with a key LMDB cannot hold, before anything is logged or acknowledged:
/// a logged write that the database cannot apply would stop every later write.
pub(super) fn check_keys(batch: &[WriteOp]) -> StoreResult<()> {
    for op in batch {
        let key = match op {
            WriteOp::PutDomain(d) => domain_key(&d.key),
            WriteOp::DeleteDomain(key) => domain_key(key),
            WriteOp::PutCollection { domain, record } => child_key(domain, &record.id),
            WriteOp::DeleteCollection { domain, id }
            | WriteOp::DeleteModel { domain, id }
            | WriteOp::IndexModel { domain, id, .. } => child_key(domain, id),
            WriteOp::CreateModel { meta, .. } | WriteOp::PutModelMeta(meta) => {
                child_key(&meta.domain, &meta.id)
            }
            WriteOp::PutUser { domain, record } => {
                user_key(domain, record.user_type, &record.username)
            }
            WriteOp::DeleteUser {
                domain,
                user_type,
                username,
            } => user_key(domain, *user_type, username),
            WriteOp::PutJwtKey { domain, record } => child_key(domain, &record.id),
            WriteOp::DeleteJwtKey { domain, id } => child_key(domain, id),
            WriteOp::PutReconnectToken { domain, record } => child_key(domain, &record.token),
            WriteOp::DeleteReconnectToken { domain, token } => child_key(domain, token),
            WriteOp::AppendOps { .. }
            | WriteOp::AppendEncoded { .. }
            | WriteOp::PutSnapshot { .. } => continue,
            WriteOp::SetPermissions {
                domain,
                target,
                grantee,
                ..
            } => permission_key(domain, target, grantee),
            // The world row's key is the longest one a clearing uses.
            WriteOp::ClearPermissions { domain, target, .. } => {
                grantee_kind_prefix(domain, target, GranteeKind::World)
            }
            WriteOp::PutGroup { domain, record } => child_key(domain, &record.id),
            WriteOp::DeleteGroup { domain, id } => child_key(domain, id),
            // Both membership keys have the same parts, so the same length.
            WriteOp::AddGroupMember {
                domain,
                group,
                user_type,
                username,
            }
            | WriteOp::RemoveGroupMember {
                domain,
                group,
                user_type,
                username,
            } => member_key(domain, group, *user_type, username),
            WriteOp::PutActivity(r) => activity_key(&r.domain, &r.activity_type, &r.id),
            WriteOp::DeleteActivity {
                domain,
                activity_type,
                id,
            } => activity_key(domain, activity_type, id),
            WriteOp::PutChat(r) => child_key(&r.domain, &r.id),
            WriteOp::AppendChatEvent { domain, chat, .. } => {
                let mut key = child_key(domain, chat);
                key.extend_from_slice(&[0; 8]);
                key
            }
            WriteOp::DeleteChat { domain, id } => child_key(domain, id),
            WriteOp::PutAdmin(r) => name_key(&r.username),
            WriteOp::DeleteAdmin { username } => name_key(username),
            WriteOp::PutApiKey(r) => child_key(&r.domain, &r.id),
            WriteOp::DeleteApiKey { domain, id } => child_key(domain, id),
            WriteOp::PutWebhook(r) => child_key(&r.domain, &r.id),
            WriteOp::DeleteWebhook { domain, id } => child_key(domain, id),
            WriteOp::PutDelivery(r) => {
                let mut key = child_key(&r.domain, &r.webhook);
                key.extend_from_slice(&[0; 8]);
                key
            }
            WriteOp::DeleteDelivery {
                domain, webhook, ..
            } => {
                let mut key = child_key(domain, webhook);
                key.extend_from_slice(&[0; 8]);
                key
            }
        };
        if key.len() > MAX_KEY_BYTES {
            return Err(StoreError::Invalid(format!(
                "identifiers too long to store: the key would take {} bytes, at most {MAX_KEY_BYTES}",
                key.len()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn awkward() -> Vec<String> {
        [
            "",
            "a",
            "a\u{0}",
            "a\u{0}\u{0}",
            "\u{0}",
            "a\u{1}",
            "ab",
            "é😀",
            "\u{ff}",
        ]
        .map(String::from)
        .to_vec()
    }

    fn grantees() -> Vec<Grantee> {
        let mut out = vec![Grantee::World];
        for t in [UserType::Normal, UserType::Convergence, UserType::Anonymous] {
            out.extend(awkward().into_iter().map(|n| Grantee::User(t, n)));
        }
        out.extend(awkward().into_iter().map(Grantee::Group));
        out
    }

    fn targets() -> Vec<PermissionTarget> {
        let mut out = vec![PermissionTarget::Global];
        for id in awkward() {
            out.push(PermissionTarget::Collection(id.clone()));
            out.push(PermissionTarget::Model(id.clone()));
            out.push(PermissionTarget::Chat(id.clone()));
            out.push(PermissionTarget::Activity {
                kind: id.clone(),
                id: "x".into(),
            });
            out.push(PermissionTarget::Activity {
                kind: "x".into(),
                id,
            });
        }
        out
    }

    #[test]
    fn permission_keys_read_back_and_sort_like_their_grantees() {
        let d = DomainKey::new("ns\u{0}", "d");
        for target in targets() {
            let prefix = target_prefix(&d, &target);
            let mut keyed: Vec<(Vec<u8>, Grantee)> = grantees()
                .into_iter()
                .map(|g| (permission_key(&d, &target, &g), g))
                .collect();
            for (key, grantee) in &keyed {
                assert!(key.starts_with(&prefix));
                let mut reader = KeyReader::new(&key[domain_key(&d).len()..]);
                assert_eq!(reader.target().unwrap(), target);
                assert_eq!(&reader.grantee().unwrap(), grantee);
                reader.end().unwrap();
            }
            keyed.sort();
            let by_key: Vec<Grantee> = keyed.into_iter().map(|(_, g)| g).collect();
            let mut by_ord = grantees();
            by_ord.sort();
            assert_eq!(by_key, by_ord, "{target:?}");
        }
    }

    #[test]
    fn one_target_prefix_never_holds_another_targets_rows() {
        let d = DomainKey::new("ns", "d");
        let all = targets();
        for a in &all {
            for b in &all {
                if a == b {
                    continue;
                }
                let pa = target_prefix(&d, a);
                for g in grantees() {
                    assert!(!permission_key(&d, b, &g).starts_with(&pa), "{a:?} {b:?}");
                }
            }
        }
    }

    #[test]
    fn grantee_kind_prefixes_select_their_kind() {
        let d = DomainKey::new("ns", "d");
        let target = PermissionTarget::Model("m".into());
        for kind in [
            GranteeKind::All,
            GranteeKind::World,
            GranteeKind::Users,
            GranteeKind::Groups,
        ] {
            let prefix = grantee_kind_prefix(&d, &target, kind);
            for g in grantees() {
                assert_eq!(
                    permission_key(&d, &target, &g).starts_with(&prefix),
                    kind.matches(&g),
                    "{kind:?} {g:?}"
                );
            }
        }
    }

    #[test]
    fn membership_keys_read_back() {
        let d = DomainKey::new("ns", "d");
        for group in awkward() {
            for g in grantees() {
                let Grantee::User(t, name) = g else { continue };
                let key = member_key(&d, &group, t, &name);
                let mut reader = KeyReader::new(&key[child_key(&d, &group).len()..]);
                assert_eq!(reader.user().unwrap(), (t, name.clone()));
                reader.end().unwrap();
                let key = membership_key(&d, t, &name, &group);
                let mut reader = KeyReader::new(&key[user_key(&d, t, &name).len()..]);
                assert_eq!(reader.string().unwrap(), group);
                reader.end().unwrap();
            }
        }
    }

    #[test]
    fn malformed_keys_are_corrupt_not_a_panic() {
        for bad in [
            &b""[..],
            b"abc",
            b"a\x00",
            b"a\x00\x02",
            b"\xff\x00\x00",
            b"9\x00\x00",
        ] {
            let mut reader = KeyReader::new(bad);
            assert!(matches!(reader.target(), Err(StoreError::Corrupt(_))));
            let mut reader = KeyReader::new(bad);
            assert!(matches!(reader.grantee(), Err(StoreError::Corrupt(_))));
        }
        let mut reader = KeyReader::new(b"7\x00\x00bob\x00\x00");
        assert!(matches!(reader.user(), Err(StoreError::Corrupt(_))));
        assert!(KeyReader::new(b"x").end().is_err());
    }
}
