//! Login throttling: failed logins per user and per remote address, and anonymous logins per
//! address, each counted in a fixed window. Past a limit, further attempts are refused until
//! the window ends, whatever the credentials, so that passwords cannot be guessed at speed and
//! anonymous users cannot be minted in bulk.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::store::DomainKey;

/// Limits on login attempts (the `auth.limits` section of the engine configuration). A limit
/// of 0 turns that check off.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoginLimits {
    /// Failed logins of one username (in one domain) per window before it is locked.
    pub failed_per_user: u32,
    /// Failed logins from one remote address per window before it is locked.
    pub failed_per_address: u32,
    /// Anonymous logins from one remote address per window.
    pub anonymous_per_address: u32,
    /// The window, in seconds.
    pub window_secs: u64,
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits {
            failed_per_user: 10,
            failed_per_address: 50,
            anonymous_per_address: 60,
            window_secs: 60,
        }
    }
}

/// Entries kept before expired ones are swept (and, if all are live, all are dropped): the
/// throttle's memory stays bounded whatever an attacker sends.
const MAX_ENTRIES: usize = 100_000;

#[derive(Clone, PartialEq, Eq, Hash)]
enum Key {
    User(DomainKey, String),
    Address(IpAddr),
    Anonymous(IpAddr),
}

#[derive(Clone, Copy)]
struct Window {
    start_ms: i64,
    count: u32,
}

/// Why a login was refused before its credentials were looked at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Throttled {
    /// Too many failed logins for the user or from the address.
    Failures {
        /// Seconds until the window ends.
        retry_after_secs: u64,
    },
    /// Too many anonymous logins from the address.
    Anonymous {
        /// Seconds until the window ends.
        retry_after_secs: u64,
    },
}

/// The counters of one auth service.
pub(crate) struct LoginThrottle {
    limits: LoginLimits,
    windows: Mutex<HashMap<Key, Window>>,
}

impl LoginThrottle {
    pub(crate) fn new(limits: LoginLimits) -> Self {
        LoginThrottle {
            limits,
            windows: Mutex::new(HashMap::new()),
        }
    }

    fn window_ms(&self) -> i64 {
        i64::try_from(self.limits.window_secs.saturating_mul(1000)).unwrap_or(i64::MAX)
    }

    /// Seconds left in `key`'s window when it has reached `limit`, else `None`.
    fn blocked(&self, key: &Key, limit: u32, now_ms: i64) -> Option<u64> {
        if limit == 0 {
            return None;
        }
        let windows = self.windows.lock().ok()?;
        let w = windows.get(key)?;
        let end = w.start_ms.saturating_add(self.window_ms());
        (now_ms < end && w.count >= limit).then(|| ((end - now_ms) as u64).div_ceil(1000))
    }

    fn count(&self, key: Key, now_ms: i64) {
        let window = self.window_ms();
        let Ok(mut windows) = self.windows.lock() else {
            return;
        };
        if windows.len() >= MAX_ENTRIES {
            windows.retain(|_, w| now_ms < w.start_ms.saturating_add(window));
            if windows.len() >= MAX_ENTRIES {
                windows.clear();
            }
        }
        let w = windows.entry(key).or_insert(Window {
            start_ms: now_ms,
            count: 0,
        });
        if now_ms >= w.start_ms.saturating_add(window) {
            *w = Window {
                start_ms: now_ms,
                count: 0,
            };
        }
        w.count = w.count.saturating_add(1);
    }

    /// Refuses a login attempt when its user or address has failed too often.
    pub(crate) fn check(
        &self,
        domain: &DomainKey,
        username: Option<&str>,
        address: Option<IpAddr>,
        now_ms: i64,
    ) -> Result<(), Throttled> {
        let user = username.and_then(|u| {
            let key = Key::User(domain.clone(), u.to_string());
            self.blocked(&key, self.limits.failed_per_user, now_ms)
        });
        let addr = address
            .and_then(|a| self.blocked(&Key::Address(a), self.limits.failed_per_address, now_ms));
        match user.max(addr) {
            Some(retry_after_secs) => Err(Throttled::Failures { retry_after_secs }),
            None => Ok(()),
        }
    }

    /// Counts a failed login.
    pub(crate) fn failed(
        &self,
        domain: &DomainKey,
        username: Option<&str>,
        address: Option<IpAddr>,
        now_ms: i64,
    ) {
        if let Some(u) = username {
            self.count(Key::User(domain.clone(), u.to_string()), now_ms);
        }
        if let Some(a) = address {
            self.count(Key::Address(a), now_ms);
        }
    }

    /// Counts an anonymous login from `address`, refusing it past the limit.
    pub(crate) fn anonymous(&self, address: Option<IpAddr>, now_ms: i64) -> Result<(), Throttled> {
        let Some(a) = address else {
            return Ok(());
        };
        let key = Key::Anonymous(a);
        if let Some(retry_after_secs) =
            self.blocked(&key, self.limits.anonymous_per_address, now_ms)
        {
            return Err(Throttled::Anonymous { retry_after_secs });
        }
        self.count(key, now_ms);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(n: u8) -> Option<IpAddr> {
        Some(IpAddr::from([127, 0, 0, n]))
    }

    #[test]
    fn failures_lock_a_user_and_an_address_until_the_window_ends() {
        let t = LoginThrottle::new(LoginLimits {
            failed_per_user: 3,
            failed_per_address: 5,
            anonymous_per_address: 2,
            window_secs: 60,
        });
        let d = DomainKey::new("ns", "d");
        for i in 0..3 {
            assert_eq!(t.check(&d, Some("bob"), addr(1), i), Ok(()));
            t.failed(&d, Some("bob"), addr(1), i);
        }
        assert_eq!(
            t.check(&d, Some("bob"), addr(2), 1000),
            Err(Throttled::Failures {
                retry_after_secs: 59
            })
        );
        // Another user from the same address still gets in, until the address is locked too.
        assert_eq!(t.check(&d, Some("ann"), addr(1), 1000), Ok(()));
        t.failed(&d, Some("ann"), addr(1), 1000);
        t.failed(&d, Some("cat"), addr(1), 1000);
        assert!(t.check(&d, Some("dan"), addr(1), 1000).is_err());
        assert_eq!(t.check(&d, Some("dan"), addr(3), 1000), Ok(()));
        // The same name in another domain is another user.
        assert_eq!(
            t.check(&DomainKey::new("ns", "e"), Some("bob"), addr(3), 1000),
            Ok(())
        );
        // After the window everything is open again.
        assert_eq!(t.check(&d, Some("bob"), addr(1), 60_000), Ok(()));
    }

    #[test]
    fn anonymous_logins_are_counted_per_address() {
        let t = LoginThrottle::new(LoginLimits {
            anonymous_per_address: 2,
            ..LoginLimits::default()
        });
        assert_eq!(t.anonymous(addr(1), 0), Ok(()));
        assert_eq!(t.anonymous(addr(1), 1), Ok(()));
        assert!(matches!(
            t.anonymous(addr(1), 2),
            Err(Throttled::Anonymous { .. })
        ));
        assert_eq!(t.anonymous(addr(2), 2), Ok(()));
        assert_eq!(t.anonymous(None, 2), Ok(()), "host logins are not counted");
        assert_eq!(t.anonymous(addr(1), 60_000), Ok(()));
    }
}
