//! Administrator and API key records (an API key's value repeats its domain and id so that it
//! decodes on its own).

use prost::Message;

use super::{corrupt, put};
use crate::store::{AdminRecord, ApiKeyRecord, DomainKey, StoreResult};

#[derive(Clone, PartialEq, Message)]
struct PAdmin {
    #[prost(string, tag = "1")]
    username: String,
    #[prost(string, tag = "2")]
    password_hash: String,
    #[prost(sint64, tag = "3")]
    created_ms: i64,
    #[prost(sint64, tag = "4")]
    updated_ms: i64,
}

#[derive(Clone, PartialEq, Message)]
struct PApiKey {
    #[prost(string, tag = "1")]
    namespace: String,
    #[prost(string, tag = "2")]
    domain: String,
    #[prost(string, tag = "3")]
    id: String,
    #[prost(string, tag = "4")]
    name: String,
    #[prost(string, tag = "5")]
    secret_hash: String,
    #[prost(bool, tag = "6")]
    read_only: bool,
    #[prost(sint64, tag = "7")]
    created_ms: i64,
}

/// Encodes an administrator record.
pub fn encode_admin(r: &AdminRecord, buf: &mut Vec<u8>) {
    put(
        &PAdmin {
            username: r.username.clone(),
            password_hash: r.password_hash.clone(),
            created_ms: r.created_ms,
            updated_ms: r.updated_ms,
        },
        buf,
    );
}

/// Decodes an administrator record.
pub fn decode_admin(bytes: &[u8]) -> StoreResult<AdminRecord> {
    let p = PAdmin::decode(bytes).map_err(|e| corrupt("administrator record", e))?;
    Ok(AdminRecord {
        username: p.username,
        password_hash: p.password_hash,
        created_ms: p.created_ms,
        updated_ms: p.updated_ms,
    })
}

/// Encodes an API key record.
pub fn encode_api_key(r: &ApiKeyRecord, buf: &mut Vec<u8>) {
    put(
        &PApiKey {
            namespace: r.domain.namespace.clone(),
            domain: r.domain.id.clone(),
            id: r.id.clone(),
            name: r.name.clone(),
            secret_hash: r.secret_hash.clone(),
            read_only: r.read_only,
            created_ms: r.created_ms,
        },
        buf,
    );
}

/// Decodes an API key record.
pub fn decode_api_key(bytes: &[u8]) -> StoreResult<ApiKeyRecord> {
    let p = PApiKey::decode(bytes).map_err(|e| corrupt("API key record", e))?;
    Ok(ApiKeyRecord {
        domain: DomainKey::new(p.namespace, p.domain),
        id: p.id,
        name: p.name,
        secret_hash: p.secret_hash,
        read_only: p.read_only,
        created_ms: p.created_ms,
    })
}
