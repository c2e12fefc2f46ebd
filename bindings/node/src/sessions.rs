//! The sessions connected to a domain, on `NativeDomain` (the facade's `api/sessions.rs`):
//! who is connected, from where, and a way to disconnect one (its client reconnects with a new
//! session, as after a network drop).

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::Value;

use crate::{output, settle, NativeDomain};

#[napi]
impl NativeDomain {
    /// The sessions connected to this domain now (`ConnectedSession[]`), oldest first.
    #[napi]
    pub fn sessions<'e>(&self, env: &'e Env) -> Result<PromiseRaw<'e, Value>> {
        settle(env, self.spawn(|d| async move { output(&d.sessions()?) }))
    }

    /// Disconnects a session of this domain (`not_found` when no such session is connected).
    #[napi]
    pub fn disconnect_session<'e>(&self, env: &'e Env, id: String) -> Result<PromiseRaw<'e, ()>> {
        settle(
            env,
            self.spawn(|d| async move { d.disconnect_session(&id) }),
        )
    }
}
