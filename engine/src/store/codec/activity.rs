//! Activity records (the key holds the domain, type and id; the value repeats type and id so a
//! record decodes on its own).

use prost::Message;

use super::{corrupt, put};
use crate::store::{ActivityRecord, DomainKey, StoreResult};

#[derive(Clone, PartialEq, Message)]
struct PActivity {
    #[prost(string, tag = "1")]
    namespace: String,
    #[prost(string, tag = "2")]
    domain: String,
    #[prost(string, tag = "3")]
    activity_type: String,
    #[prost(string, tag = "4")]
    id: String,
    #[prost(int64, tag = "5")]
    created_ms: i64,
    #[prost(bool, tag = "6")]
    ephemeral: bool,
}

/// Encodes an activity record.
pub fn encode_activity(r: &ActivityRecord, buf: &mut Vec<u8>) {
    put(
        &PActivity {
            namespace: r.domain.namespace.clone(),
            domain: r.domain.id.clone(),
            activity_type: r.activity_type.clone(),
            id: r.id.clone(),
            created_ms: r.created_ms,
            ephemeral: r.ephemeral,
        },
        buf,
    );
}

/// Decodes an activity record.
pub fn decode_activity(bytes: &[u8]) -> StoreResult<ActivityRecord> {
    let p = PActivity::decode(bytes).map_err(|e| corrupt("activity record", e))?;
    Ok(ActivityRecord {
        domain: DomainKey::new(p.namespace, p.domain),
        activity_type: p.activity_type,
        id: p.id,
        created_ms: p.created_ms,
        ephemeral: p.ephemeral,
    })
}
