//! `EngineConfig`: the one configuration type, read from TOML by the server-host, from JSON by
//! the C ABI and from native objects by the bindings. Every field has a default that works.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::error::{Error, ErrorCode, Result};
pub use crate::auth::{AuthConfig, LoginLimits};
pub use crate::model::ModelsConfig;
pub use crate::protocol::limits::SessionLimits;
pub use crate::webhook::WebhookConfig;

/// Engine configuration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineConfig {
    /// Data directory for the embedded store; `None` keeps everything in memory (nothing
    /// survives the process).
    pub data_dir: Option<PathBuf>,
    /// Storage settings.
    pub store: StoreConfig,
    /// Model settings.
    pub models: ModelsConfig,
    /// Worker threads of the engine's own runtime, used when the host has none (0 = one per core).
    pub worker_threads: usize,
    /// Authentication settings.
    pub auth: AuthConfig,
    /// Per-user and per-connection limits.
    pub limits: SessionLimits,
    /// Webhook deliveries.
    pub webhooks: WebhookConfig,
}

/// Storage settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// Largest size the database may grow to, in MiB (reserved address space, not disk).
    pub max_size_mb: u64,
    /// Snapshots kept per model besides its first.
    pub snapshots_kept: usize,
    /// Most write requests committed in one transaction.
    pub max_batch: usize,
    /// Longest time, in milliseconds, an acknowledged write waits in the write-ahead log before
    /// it is applied to the database with others (fewer, larger database commits; a read that
    /// needs it has it applied at once). 0 applies at once.
    pub apply_interval_ms: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            max_size_mb: 64 * 1024,
            snapshots_kept: 8,
            max_batch: 4096,
            apply_interval_ms: 10,
        }
    }
}

impl EngineConfig {
    /// A configuration storing data in `dir`, defaults elsewhere.
    pub fn with_data_dir(dir: impl Into<PathBuf>) -> Self {
        EngineConfig {
            data_dir: Some(dir.into()),
            ..EngineConfig::default()
        }
    }

    /// Parses a configuration from JSON (unknown fields are errors).
    pub fn from_json(json: &str) -> Result<Self> {
        let c: EngineConfig = serde_json::from_str(json)
            .map_err(|e| Error::new(ErrorCode::Config, format!("invalid engine config: {e}")))?;
        c.validate()?;
        Ok(c)
    }

    /// Checks values that parse but make no sense.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(Error::new(ErrorCode::Config, m.to_string()));
        if self.store.max_size_mb == 0 {
            return bad("store.max_size_mb must be positive");
        }
        if self.store.max_batch == 0 {
            return bad("store.max_batch must be positive");
        }
        if self.store.apply_interval_ms > 60_000 {
            return bad("store.apply_interval_ms must be at most 60000");
        }
        if self.models.snapshot_every_ops == 0 {
            return bad("models.snapshot_every_ops must be positive");
        }
        if !(2..=1000).contains(&self.models.max_depth) {
            return bad("models.max_depth must be between 2 and 1000");
        }
        if self.models.max_document_bytes == 0 {
            return bad("models.max_document_bytes must be positive");
        }
        if self.models.max_history == 0 {
            return bad("models.max_history must be positive");
        }
        if !self.models.passivate_after_secs.is_finite() || self.models.passivate_after_secs < 0.0 {
            return bad("models.passivate_after_secs must be a non-negative number");
        }
        if self.auth.reconnect_token_minutes == 0 {
            return bad("auth.reconnect_token_minutes must be positive");
        }
        if let Some(problem) = self.webhooks.problem() {
            return bad(&problem);
        }
        Ok(())
    }
}

/// Reads a listener configuration from JSON (unknown fields are errors; missing ones take
/// their defaults).
pub fn net_config_from_json(json: &str) -> Result<crate::net::NetConfig> {
    serde_json::from_str(json)
        .map_err(|e| Error::new(ErrorCode::Config, format!("invalid net config: {e}")))
}
