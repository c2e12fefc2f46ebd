//! When a model takes snapshots: a domain's policy, and per-collection overrides, kept with the
//! domain record. The rule is the original server's (`ModelSnapshotCalculator`): with `dv` the
//! versions and `dt` the milliseconds since the last snapshot, a snapshot is taken iff the
//! policy is enabled, `dv ≥ min_version_interval` (if limited by version), `dt ≥
//! min_time_interval_ms` (if limited by time), and `dv > max_version_interval` (if triggered by
//! version) or `dt > max_time_interval_ms` (if triggered by time).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One snapshot policy (the original's nine settings).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SnapshotPolicy {
    /// Whether snapshots are taken by this policy at all.
    pub enabled: bool,
    /// Take one when more than `max_version_interval` versions passed since the last.
    pub trigger_by_version: bool,
    /// See `trigger_by_version`.
    pub max_version_interval: u64,
    /// Never take one before `min_version_interval` versions passed.
    pub limited_by_version: bool,
    /// See `limited_by_version`.
    pub min_version_interval: u64,
    /// Take one when more than `max_time_interval_ms` passed since the last (and something
    /// changed).
    pub trigger_by_time: bool,
    /// See `trigger_by_time`.
    pub max_time_interval_ms: u64,
    /// Never take one before `min_time_interval_ms` passed.
    pub limited_by_time: bool,
    /// See `limited_by_time`.
    pub min_time_interval_ms: u64,
}

impl Default for SnapshotPolicy {
    /// Every 1,000 versions or 10 minutes, whichever comes first.
    fn default() -> Self {
        SnapshotPolicy {
            enabled: true,
            trigger_by_version: true,
            max_version_interval: 1000,
            limited_by_version: false,
            min_version_interval: 0,
            trigger_by_time: true,
            max_time_interval_ms: 600_000,
            limited_by_time: false,
            min_time_interval_ms: 0,
        }
    }
}

impl SnapshotPolicy {
    /// Whether a snapshot is due `versions` versions and `elapsed_ms` after the last one.
    pub fn due(&self, versions: u64, elapsed_ms: i64) -> bool {
        let elapsed = u64::try_from(elapsed_ms).unwrap_or(0);
        self.enabled
            && versions > 0
            && (!self.limited_by_version || versions >= self.min_version_interval)
            && (!self.limited_by_time || elapsed >= self.min_time_interval_ms)
            && ((self.trigger_by_version && versions > self.max_version_interval)
                || (self.trigger_by_time && elapsed > self.max_time_interval_ms))
    }

    /// The most versions a history read replays from a snapshot under this policy alone
    /// (`None`: not bounded by versions).
    pub fn version_bound(&self) -> Option<u64> {
        (self.enabled && self.trigger_by_version).then_some(self.max_version_interval)
    }
}

/// A domain's snapshot policies: its own and the collections' overrides. Where neither is
/// set, the engine's rule applies (`[engine.models] snapshot_every_ops / snapshot_every_secs`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SnapshotPolicies {
    /// The domain's policy.
    pub domain: Option<SnapshotPolicy>,
    /// Per-collection overrides, by collection id.
    pub collections: BTreeMap<String, SnapshotPolicy>,
}

impl SnapshotPolicies {
    /// The policy for a model of `collection`: its override, else the domain's.
    pub fn for_collection(&self, collection: &str) -> Option<SnapshotPolicy> {
        self.collections.get(collection).copied().or(self.domain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_is_the_originals() {
        let by_version = SnapshotPolicy {
            trigger_by_time: false,
            max_version_interval: 10,
            ..SnapshotPolicy::default()
        };
        assert!(!by_version.due(10, 1_000_000));
        assert!(by_version.due(11, 0));
        assert!(!SnapshotPolicy {
            enabled: false,
            ..by_version
        }
        .due(1000, 0));

        let by_time = SnapshotPolicy {
            trigger_by_version: false,
            max_time_interval_ms: 500,
            limited_by_version: true,
            min_version_interval: 3,
            ..SnapshotPolicy::default()
        };
        assert!(!by_time.due(5, 500));
        assert!(by_time.due(5, 501));
        assert!(!by_time.due(2, 10_000), "limited by version");
        assert!(!by_time.due(0, 10_000), "nothing changed");

        let limited = SnapshotPolicy {
            limited_by_time: true,
            min_time_interval_ms: 1000,
            max_version_interval: 1,
            ..SnapshotPolicy::default()
        };
        assert!(!limited.due(50, 999));
        assert!(limited.due(50, 1000));
        assert_eq!(limited.version_bound(), Some(1));
        assert_eq!(by_time.version_bound(), None);
    }

    #[test]
    fn a_collection_override_wins_over_the_domain() {
        let mut p = SnapshotPolicies::default();
        assert_eq!(p.for_collection("c"), None);
        let domain = SnapshotPolicy::default();
        let special = SnapshotPolicy {
            max_version_interval: 5,
            ..domain
        };
        p.domain = Some(domain);
        p.collections.insert("c".into(), special);
        assert_eq!(p.for_collection("c"), Some(special));
        assert_eq!(p.for_collection("d"), Some(domain));
    }
}
