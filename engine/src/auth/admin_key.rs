//! The domain admin key: a per-domain Ed25519 key pair. A JWT signed with its private half and
//! `kid` [`ADMIN_KEY_ID`] logs in a convergence user, who holds every permission; the facade
//! mints such tokens for the admin console and REST.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::json;

use super::{failed, AuthError, AuthResult, AuthService, JwtClaims, JWT_AUDIENCE};
use crate::store::{DomainKey, DomainRecord, WriteOp};

/// The `kid` of tokens signed with a domain's admin key.
pub const ADMIN_KEY_ID: &str = "ConvergenceAdminKey";

/// The issuer written into minted admin tokens.
const ISSUER: &str = "Tandem";

impl AuthService {
    /// The domain's record with its admin key pair, generated and stored if it has none yet.
    pub(super) async fn with_admin_key(&self, domain: &DomainKey) -> AuthResult<DomainRecord> {
        let record = self.domain(domain)?;
        if !record.admin_private_key_pem.is_empty() {
            return Ok(record);
        }
        let _guard = self.lock.lock().await;
        let mut record = self.domain(domain)?;
        if record.admin_private_key_pem.is_empty() {
            let (private, public) = crate::domain::generate_admin_key()
                .map_err(|e| AuthError::Internal(e.to_string()))?;
            record.admin_private_key_pem = private;
            record.admin_public_key_pem = public;
            self.write(vec![WriteOp::PutDomain(record.clone())]).await?;
        }
        Ok(record)
    }

    /// A token that logs `username` in as a convergence user of `domain` for `ttl_secs`.
    pub async fn mint_admin_token(
        &self,
        domain: &DomainKey,
        username: &str,
        ttl_secs: u64,
    ) -> AuthResult<String> {
        super::check_username(username)?;
        if ttl_secs == 0 {
            return Err(AuthError::Invalid(
                "the token lifetime must be positive".into(),
            ));
        }
        let record = self.with_admin_key(domain).await?;
        let key = EncodingKey::from_ed_pem(record.admin_private_key_pem.as_bytes())
            .map_err(|e| AuthError::Internal(format!("admin key: {e}")))?;
        let now = self.clock.now_ms().div_euclid(1000);
        let ttl = i64::try_from(ttl_secs).unwrap_or(i64::MAX);
        let claims = json!({
            "sub": username,
            "aud": JWT_AUDIENCE,
            "iss": ISSUER,
            "iat": now,
            "nbf": now.saturating_sub(60),
            "exp": now.saturating_add(ttl),
            "jti": self.ids.uuid(),
        });
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(ADMIN_KEY_ID.to_string());
        jsonwebtoken::encode(&header, &claims, &key)
            .map_err(|e| AuthError::Internal(format!("signing the admin token: {e}")))
    }

    /// Verifies a token signed with the domain's admin key.
    pub(super) fn verify_admin_jwt(
        &self,
        record: &DomainRecord,
        token: &str,
    ) -> AuthResult<JwtClaims> {
        if record.admin_public_key_pem.is_empty() {
            return Err(failed("the domain has no admin key yet"));
        }
        let decoding = DecodingKey::from_ed_pem(record.admin_public_key_pem.as_bytes())
            .map_err(|_| failed("stored admin key does not parse"))?;
        let validation = Validation::new(Algorithm::EdDSA);
        self.validate_jwt(token, &decoding, validation)
    }
}
