//! Per-session resource limits a connection enforces (the `limits` section of the engine
//! configuration). Each is answered with the protocol's error, never a silent drop; 0 turns a
//! limit off. `docs/limits.md` lists them with every other limit.

use serde::{Deserialize, Serialize};

/// Limits on what one user or connection may hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionLimits {
    /// Connections one user may have open in one domain at once; the next login is refused
    /// with `too_many_connections`.
    pub max_connections_per_user: usize,
    /// Models one connection may have open (or opening) at once; the next open is refused
    /// with `too_many_open_models`.
    pub max_models_per_connection: usize,
    /// References one session may share or set on one model; the next new key is refused
    /// with an unsolicited `too_many_references` error and not shared.
    pub max_references_per_model: usize,
    /// Largest presence state of one user, in bytes of JSON text of its keys and values; a
    /// change that would grow it further is refused with an unsolicited `state_too_large`
    /// error and not applied.
    pub max_state_bytes: usize,
    /// Deepest nesting of a presence state value (a scalar is 1); a deeper one is refused
    /// with an unsolicited `state_too_deep` error.
    pub max_state_depth: usize,
    /// Largest chat message, in bytes of UTF-8; a longer one is refused with
    /// `message_too_large`.
    pub max_chat_message_bytes: usize,
    /// Queries one connection may have running at once; the next is refused with
    /// `too_many_queries` until one of them answers.
    pub max_queries_per_connection: usize,
    /// Models one connection may subscribe for offline use; a subscription change that would
    /// hold more is refused with `too_many_offline_models` (and changes nothing).
    pub max_offline_models: usize,
}

impl Default for SessionLimits {
    fn default() -> Self {
        SessionLimits {
            max_connections_per_user: 100,
            max_models_per_connection: 1000,
            max_references_per_model: 64,
            max_state_bytes: 64 * 1024,
            max_state_depth: 32,
            max_chat_message_bytes: 64 * 1024,
            max_queries_per_connection: 4,
            max_offline_models: 1000,
        }
    }
}

impl SessionLimits {
    /// True when `count` things already held leave no room for one more under `limit`.
    pub(crate) fn full(limit: usize, count: usize) -> bool {
        limit != 0 && count >= limit
    }
}
