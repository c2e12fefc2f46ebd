//! User groups and their members, the `groups` claim of a JWT, and the user search the
//! client's identity service offers.

use serde::{Deserialize, Serialize};

use super::{check_username, AuthError, AuthResult, AuthService};
use crate::ident::{self, IdKind};
use crate::store::{DomainKey, GroupRecord, UserId, UserRecord, UserType, WriteOp};

/// A user field the search looks in or orders by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserField {
    /// The username.
    Username,
    /// The e-mail address.
    Email,
    /// The first name.
    FirstName,
    /// The last name.
    LastName,
    /// The display name.
    DisplayName,
}

impl UserField {
    fn of(self, u: &UserRecord) -> &str {
        match self {
            UserField::Username => &u.username,
            UserField::Email => &u.email,
            UserField::FirstName => &u.first_name,
            UserField::LastName => &u.last_name,
            UserField::DisplayName => &u.display_name,
        }
    }
}

/// A search for normal users whose fields contain a term.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserSearch {
    /// Where to look (at least one field).
    pub fields: Vec<UserField>,
    /// What to look for (case-insensitive substring).
    pub term: String,
    /// How many matches to skip.
    pub offset: usize,
    /// How many to return at most (`None`: all).
    pub limit: Option<usize>,
    /// The field to order by.
    pub order: UserField,
    /// Ascending order (else descending).
    pub ascending: bool,
}

fn check_group_id(id: &str) -> AuthResult<()> {
    ident::check(IdKind::Group, id).map_err(|e| AuthError::Invalid(e.to_string()))
}

impl AuthService {
    /// Creates a group.
    pub async fn create_group(
        &self,
        domain: &DomainKey,
        id: &str,
        description: &str,
    ) -> AuthResult<GroupRecord> {
        self.domain(domain)?;
        check_group_id(id)?;
        let _guard = self.lock.lock().await;
        if self.store.group(domain, id)?.is_some() {
            return Err(AuthError::GroupExists(id.to_string()));
        }
        let record = GroupRecord {
            id: id.to_string(),
            description: description.to_string(),
        };
        self.write(vec![WriteOp::PutGroup {
            domain: domain.clone(),
            record: record.clone(),
        }])
        .await?;
        Ok(record)
    }

    /// Changes a group's description.
    pub async fn set_group_description(
        &self,
        domain: &DomainKey,
        id: &str,
        description: &str,
    ) -> AuthResult<()> {
        let _guard = self.lock.lock().await;
        self.require_group(domain, id)?;
        self.write(vec![WriteOp::PutGroup {
            domain: domain.clone(),
            record: GroupRecord {
                id: id.to_string(),
                description: description.to_string(),
            },
        }])
        .await
    }

    /// Deletes a group with its memberships and the permissions granted to it.
    pub async fn delete_group(&self, domain: &DomainKey, id: &str) -> AuthResult<()> {
        let _guard = self.lock.lock().await;
        self.require_group(domain, id)?;
        self.write(vec![WriteOp::DeleteGroup {
            domain: domain.clone(),
            id: id.to_string(),
        }])
        .await
    }

    fn require_group(&self, domain: &DomainKey, id: &str) -> AuthResult<GroupRecord> {
        self.domain(domain)?;
        self.store
            .group(domain, id)?
            .ok_or_else(|| AuthError::GroupNotFound(id.to_string()))
    }

    fn require_user(&self, domain: &DomainKey, user: &UserId) -> AuthResult<UserRecord> {
        self.store
            .user(domain, user.kind, &user.name)?
            .ok_or_else(|| AuthError::UserNotFound(user.to_string()))
    }

    /// A group and its members.
    pub fn group(&self, domain: &DomainKey, id: &str) -> AuthResult<(GroupRecord, Vec<UserId>)> {
        let record = self.require_group(domain, id)?;
        let members = self
            .store
            .group_members(domain, id)?
            .into_iter()
            .map(|(t, n)| UserId::new(t, n))
            .collect();
        Ok((record, members))
    }

    /// Every group of a domain.
    pub fn groups(&self, domain: &DomainKey) -> AuthResult<Vec<GroupRecord>> {
        self.domain(domain)?;
        Ok(self.store.groups(domain)?)
    }

    /// Adds (or with `member == false` removes) a user to (from) a group.
    pub async fn set_member(
        &self,
        domain: &DomainKey,
        group: &str,
        user: &UserId,
        member: bool,
    ) -> AuthResult<()> {
        let _guard = self.lock.lock().await;
        self.require_group(domain, group)?;
        self.require_user(domain, user)?;
        let (domain, group, user_type, username) = (
            domain.clone(),
            group.to_string(),
            user.kind,
            user.name.clone(),
        );
        self.write(vec![if member {
            WriteOp::AddGroupMember {
                domain,
                group,
                user_type,
                username,
            }
        } else {
            WriteOp::RemoveGroupMember {
                domain,
                group,
                user_type,
                username,
            }
        }])
        .await
    }

    /// The groups a user is a member of.
    pub fn user_groups(&self, domain: &DomainKey, user: &UserId) -> AuthResult<Vec<String>> {
        self.domain(domain)?;
        self.require_user(domain, user)?;
        Ok(self.store.user_groups(domain, user.kind, &user.name)?)
    }

    /// The writes that make `user` a member of exactly the existing groups among `groups`
    /// (a JWT's `groups` claim; unknown ids are ignored).
    pub(super) fn membership_writes(
        &self,
        domain: &DomainKey,
        user: &UserRecord,
        groups: &[String],
    ) -> AuthResult<Vec<WriteOp>> {
        let current = self
            .store
            .user_groups(domain, user.user_type, &user.username)?;
        let mut wanted = Vec::new();
        for g in groups {
            if check_group_id(g).is_ok() && self.store.group(domain, g)?.is_some() {
                wanted.push(g.clone());
            }
        }
        let mut batch = Vec::new();
        for g in &current {
            if !wanted.contains(g) {
                batch.push(WriteOp::RemoveGroupMember {
                    domain: domain.clone(),
                    group: g.clone(),
                    user_type: user.user_type,
                    username: user.username.clone(),
                });
            }
        }
        for g in wanted {
            if !current.contains(&g) {
                batch.push(WriteOp::AddGroupMember {
                    domain: domain.clone(),
                    group: g,
                    user_type: user.user_type,
                    username: user.username.clone(),
                });
            }
        }
        Ok(batch)
    }

    /// Normal users with `search.term` in one of `search.fields`, ordered and paged.
    pub fn search_users(
        &self,
        domain: &DomainKey,
        search: &UserSearch,
    ) -> AuthResult<Vec<UserRecord>> {
        self.domain(domain)?;
        if search.fields.is_empty() {
            return Err(AuthError::Invalid(
                "a user search needs at least one field".into(),
            ));
        }
        let term = search.term.to_lowercase();
        let mut found: Vec<UserRecord> = self
            .store
            .users(domain)?
            .into_iter()
            .filter(|u| u.user_type == UserType::Normal)
            .filter(|u| {
                search
                    .fields
                    .iter()
                    .any(|f| f.of(u).to_lowercase().contains(&term))
            })
            .collect();
        found.sort_by(|a, b| {
            let o = search
                .order
                .of(a)
                .cmp(search.order.of(b))
                .then_with(|| a.username.cmp(&b.username));
            if search.ascending {
                o
            } else {
                o.reverse()
            }
        });
        Ok(found
            .into_iter()
            .skip(search.offset)
            .take(search.limit.unwrap_or(usize::MAX))
            .collect())
    }

    /// A user by id (any type).
    pub fn user_by_id(&self, domain: &DomainKey, user: &UserId) -> AuthResult<UserRecord> {
        check_username(&user.name)?;
        self.require_user(domain, user)
    }
}
