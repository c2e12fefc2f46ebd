//! [`ModelsConfig`]: how models take snapshots, keep history and stay loaded, and how large
//! they may grow. Read by the engine's configuration; used as it is by the model service and
//! each sequencer.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::ot::DocLimits;

/// Model settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelsConfig {
    /// Take a snapshot every this many operations (a document over 64 KB waits for one
    /// operation per 64 bytes of it, up to 4 times this many, so that snapshots cost less than
    /// the operations they follow).
    pub snapshot_every_ops: u64,
    /// ... or when this many seconds passed since the last one and something changed.
    pub snapshot_every_secs: u64,
    /// Operations kept in memory per model for transforming late submissions.
    pub max_history: usize,
    /// Seconds a model without sessions stays loaded.
    pub passivate_after_secs: f64,
    /// Most operations one history request may ask for (0 = no limit).
    pub max_history_range: u64,
    /// Deepest nesting of a model's values (the root object is level 1).
    pub max_depth: u32,
    /// Heaviest model, in bytes: 16 per value plus 2 per UTF-16 unit of text and keys.
    pub max_document_bytes: u64,
    /// Most models one query may examine: the candidates left by its filter and the index (or
    /// the whole collection when nothing narrows it), and every match when counting them. A
    /// query over more is refused (`query_budget_exceeded`) before it reads them (0 = no limit).
    pub query_max_models: u64,
    /// Most milliseconds one query may run; past it the query is refused
    /// (`query_budget_exceeded`) instead of answered (0 = no limit).
    pub query_timeout_ms: u64,
    /// Milliseconds between checks of the models a client keeps in offline storage (each
    /// connection checks its subscriptions when they are made, and again this often; 0 checks
    /// them only when made).
    pub offline_sync_interval_ms: u64,
}

impl Default for ModelsConfig {
    fn default() -> Self {
        ModelsConfig {
            snapshot_every_ops: 1000,
            snapshot_every_secs: 600,
            max_history: 100_000,
            passivate_after_secs: 10.0,
            max_history_range: 100_000,
            max_depth: 100,
            max_document_bytes: 64 * 1024 * 1024,
            query_max_models: 100_000,
            query_timeout_ms: 10_000,
            offline_sync_interval_ms: 300_000,
        }
    }
}

impl ModelsConfig {
    /// The size and depth limits every model is held to.
    pub fn doc_limits(&self) -> DocLimits {
        DocLimits {
            max_depth: self.max_depth,
            max_bytes: self.max_document_bytes,
        }
    }

    /// How long a model without sessions stays loaded.
    pub fn passivate_after(&self) -> Duration {
        Duration::from_secs_f64(self.passivate_after_secs.max(0.0))
    }

    /// The time-based snapshot interval in milliseconds.
    pub fn snapshot_every_ms(&self) -> i64 {
        (self.snapshot_every_secs as i64).saturating_mul(1000)
    }
}
