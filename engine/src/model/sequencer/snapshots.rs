//! When the sequencer takes a snapshot. Without a domain or collection policy, the engine's
//! rule: every `snapshot_every_ops` operations (more for a large document, so that snapshots
//! cost at most [`SNAPSHOT_BYTES_PER_OP`] per operation, up to [`MAX_SNAPSHOT_STRETCH`] times
//! as many), or at a flush `snapshot_every_secs` after the last one. With a policy, its rule
//! ([`crate::store::SnapshotPolicy::due`]) — and, whatever it says, at the engine's ceiling of
//! `MAX_SNAPSHOT_STRETCH × snapshot_every_ops` operations, which bounds what a cold open or a
//! history read replays even under a disabled policy.

use super::Sequencer;
use crate::store::Snapshot;

/// Snapshot bytes written per operation that a larger document's snapshot interval keeps to.
const SNAPSHOT_BYTES_PER_OP: u64 = 64;
/// How far past `snapshot_every_ops` a large document's snapshot interval may stretch.
const MAX_SNAPSHOT_STRETCH: u64 = 4;

impl Sequencer {
    /// Whether the operation that produced `version` at `now` is followed by a snapshot.
    pub(super) fn snapshot_due_at_op(&self, version: u64, now: i64) -> bool {
        let since = version.saturating_sub(self.last_snapshot_version);
        match &self.policy {
            None => since >= self.snapshot_interval(),
            Some(p) => p.due(since, now - self.last_snapshot_ms) || since >= self.ceiling(),
        }
    }

    /// Whether a batch written at `now` carries a snapshot (the time-based rules).
    pub(super) fn snapshot_due_at_flush(&self, now: i64) -> bool {
        let since = self.cc.version().saturating_sub(self.last_snapshot_version);
        let elapsed = now - self.last_snapshot_ms;
        match &self.policy {
            None => since > 0 && elapsed >= self.config.snapshot_every_ms(),
            Some(p) => p.due(since, elapsed),
        }
    }

    /// The most operations between two snapshots, whatever the policy.
    fn ceiling(&self) -> u64 {
        self.config
            .snapshot_every_ops
            .max(1)
            .saturating_mul(MAX_SNAPSHOT_STRETCH)
    }

    /// Operations between two snapshots under the engine's rule.
    fn snapshot_interval(&self) -> u64 {
        let every = self.config.snapshot_every_ops.max(1);
        (self.doc.weight() / SNAPSHOT_BYTES_PER_OP).clamp(every, self.ceiling())
    }

    pub(super) fn take_snapshot(&mut self, now: i64) {
        self.batch_snapshot = Some(Snapshot {
            version: self.cc.version(),
            timestamp_ms: now,
            data: self.doc.to_value(),
        });
        self.last_snapshot_version = self.cc.version();
        self.last_snapshot_ms = now;
    }
}
