//! Entry points for the fuzz targets (`fuzz/` at the repository root) into code that is not
//! part of the public API. Not a stable interface: hidden from the documentation, and kept to
//! thin wrappers so that the targets exercise exactly what the engine runs.

use std::path::Path;
use std::sync::Arc;

use crate::auth::{AuthConfig, AuthError, AuthService};
use crate::sources::{ManualClock, SequentialIds};
use crate::store::{DomainKey, JwtKeyRecord, MemoryStore, Store, StoreError, StoreResult, WriteOp};

/// Recovers the write-ahead log in `dir` as opening the store does: reads every record above
/// `applied` and reads each one's changes as the applier does. Returns the number of changes.
pub fn recover_log(dir: &Path, applied: u64) -> StoreResult<usize> {
    let mut changes = 0;
    for (_, payload) in crate::store::recover_log(dir, applied)? {
        changes += decode_logged(&payload)?;
    }
    Ok(changes)
}

/// Reads a logged payload's changes as the applier does; returns how many there are.
pub fn decode_logged(payload: &[u8]) -> StoreResult<usize> {
    let mut writes = Vec::new();
    crate::store::batch::decode_logged(payload, &mut writes)?;
    Ok(writes.len())
}

/// An auth service over a memory store that holds one enabled JWT key, for checking tokens
/// with [`JwtChecker::verify`].
pub struct JwtChecker {
    service: AuthService,
    domain: DomainKey,
}

impl JwtChecker {
    /// A checker whose domain `demo/default` trusts `public_key_pem` under the key id `kid`,
    /// at the engine time `now_ms`.
    pub fn new(kid: &str, public_key_pem: &str, now_ms: i64) -> Result<Self, StoreError> {
        let store = Arc::new(MemoryStore::new(4));
        let domain = DomainKey::new("demo", "default");
        let (tx, rx) = std::sync::mpsc::channel();
        store.write(
            vec![WriteOp::PutJwtKey {
                domain: domain.clone(),
                record: JwtKeyRecord {
                    id: kid.to_string(),
                    description: String::new(),
                    public_key_pem: public_key_pem.to_string(),
                    enabled: true,
                    updated_ms: 0,
                },
            }],
            Box::new(move |r| {
                let _ = tx.send(r);
            }),
        );
        rx.recv().unwrap_or(Err(StoreError::Closed))?;
        let service = AuthService::new(
            store,
            Arc::new(ManualClock::new(now_ms)),
            Arc::new(SequentialIds::default()),
            AuthConfig::default(),
        );
        Ok(JwtChecker { service, domain })
    }

    /// Verifies `token` as a JWT login does; returns the subject (the username).
    pub fn verify(&self, token: &str) -> Result<String, AuthError> {
        self.service
            .verify_jwt(&self.domain, token)
            .map(|claims| claims.sub)
    }
}
