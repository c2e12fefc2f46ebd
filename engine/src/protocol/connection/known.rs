//! The sessions and users a client has been told about (its identity cache), kept as 128-bit
//! keyed digests: a connection that knows 1,000 users holds about 35 KB instead of about 100 KB
//! of strings and their table, which is most of a member's cost in a 1,000-member channel.

use std::collections::HashSet;
use std::hash::{BuildHasher, Hash, RandomState};
use std::sync::OnceLock;

/// Two independently keyed hashers, random per process: an id counts as told only when both
/// 64-bit digests match one already told, which nobody can arrange without the keys.
fn keys() -> &'static (RandomState, RandomState) {
    static KEYS: OnceLock<(RandomState, RandomState)> = OnceLock::new();
    KEYS.get_or_init(|| (RandomState::new(), RandomState::new()))
}

fn digest<T: Hash + ?Sized>(id: &T) -> u128 {
    let (a, b) = keys();
    (u128::from(a.hash_one(id)) << 64) | u128::from(b.hash_one(id))
}

/// A set of ids the client has been told about.
#[derive(Default)]
pub(super) struct Known {
    told: HashSet<u128>,
}

impl Known {
    /// Whether the client has been told about `id`.
    pub(super) fn contains<T: Hash + ?Sized>(&self, id: &T) -> bool {
        self.told.contains(&digest(id))
    }

    /// Notes that the client has been told about `id`; false if it had been already.
    pub(super) fn insert<T: Hash + ?Sized>(&mut self, id: &T) -> bool {
        self.told.insert(digest(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_known_once_told_and_borrowed_forms_match_owned_ones() {
        let mut k = Known::default();
        assert!(!k.contains(&(1u8, "bob")));
        assert!(k.insert(&(1u8, String::from("bob"))));
        assert!(
            k.contains(&(1u8, "bob")),
            "a &str finds what a String put in"
        );
        assert!(!k.insert(&(1u8, "bob")), "told twice");
        assert!(!k.contains(&(2u8, "bob")), "the kind is part of the id");
        assert!(!k.contains("bob"));
        for i in 0..10_000 {
            assert!(k.insert(&(1u8, format!("user-{i}"))), "no two ids collide");
        }
    }
}
