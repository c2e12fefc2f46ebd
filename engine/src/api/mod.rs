//! The host-facing facade, the engine's one public door. Rust hosts use it directly; the C
//! ABI and every language binding wrap it, mirroring its handles: [`Engine`] → [`Domain`] →
//! [`Model`] → [`Subscription`].
//!
//! An [`Engine`] owns the store, the services and (when the host has no tokio runtime, or
//! always with [`Engine::open_owned`]) its own runtime; [`Domain`] and [`Model`] are cheap
//! handles. Every call is `async` or quick; [`Engine::block`] and [`Engine::spawn`] let hosts
//! without tokio call the async ones from a plain thread or from any executor.
//!
//! ```no_run
//! # async fn demo() -> tandem::api::Result<()> {
//! use tandem::api::{Engine, EngineConfig, Change};
//! let engine = Engine::open(EngineConfig::with_data_dir("/tmp/tandem-data"))?;
//! let domain = engine.create_domain("acme", "docs").await?;
//! let model = domain.create_model("notes", Some("n1"), &serde_json::json!({"text": "hi"})).await?;
//! model.apply(vec![Change::Splice { path: tandem::api::path(&["text"]), index: 2, delete: 0, insert: "!".into() }]).await?;
//! assert_eq!(model.json().await?["text"], "hi!");
//! engine.shutdown().await;
//! # Ok(()) }
//! ```

mod access;
mod activities;
mod chats;
mod config;
mod console;
mod domain;
mod engine;
mod error;
mod history;
mod hosted;
mod json;
mod model;
mod operators;
mod query;
pub mod rest;
mod sessions;
mod subscription;
mod types;
mod webhooks;

use serde_json::Value as Json;

pub use crate::auth::{AuthConfig, NewUser, UserProfile, ADMIN_KEY_ID};
pub use crate::domain::DomainSettings;
pub use crate::model::{ActivityChangeKind, Change, ModelData, ModelInfo};
pub use crate::net::{Listener, NetConfig};
pub use crate::ot::json::{
    operation_to_json, operation_to_json_value, parse as parse_json, value_to_json,
    value_to_json_text, value_to_json_value, JsonValue, ParseError as JsonParseError,
};
pub use crate::ot::{JsString, PathSegment};
pub use crate::perm::{
    CollectionPermissions, CollectionRights, ModelPermissions, ModelPermissionsChange, ModelRights,
    PermissionChange, Target, TargetPermissions, ACTIVITY_PERMISSIONS, CHAT_PERMISSIONS,
};
pub use crate::session::{SessionId, UserId};
pub use crate::store::DomainState;
pub use crate::store::SnapshotPolicy;
pub use crate::store::UserType;
pub use access::Group;
pub use activities::{ActivityInfo, ActivityParticipant};
pub use chats::{
    ChatChange, ChatEvent, ChatEventKind, ChatHistory, ChatHistoryQuery, ChatInfo, ChatKind,
    ChatMember, NewChat, PostedMessage, CHAT_EVENT_KINDS,
};
pub use config::{
    net_config_from_json, EngineConfig, LoginLimits, ModelsConfig, SessionLimits, StoreConfig,
    WebhookConfig,
};
pub use domain::Domain;
pub use engine::{Engine, EngineSources};
pub use error::{Error, ErrorCode, Result};
pub use history::{SkippedPart, UndoOutcome, UndoScope};
pub use hosted::HostedEngine;
pub use json::{
    change_from_json, change_from_json_value, changes_from_json, changes_from_json_value,
    changes_from_str,
};
pub use model::Model;
pub use operators::{Admin, AdminToken, ApiKey, NewApiKey};
pub use query::{QueryPage, QueryResult};
pub use sessions::ConnectedSession;
pub use subscription::{EventCallback, Pending, Subscription};
pub use types::{
    presence_state_to_json_text, Event, HistoryEntry, JwtKey, PresenceState, User, UserPresence,
};
pub use webhooks::{NewWebhook, RegisteredWebhook, Webhook, WebhookDelivery, WEBHOOK_EVENTS};

/// Builds a path from property names (use [`PathSegment::Index`] for array positions).
pub fn path(keys: &[&str]) -> Vec<PathSegment> {
    keys.iter().map(|k| PathSegment::Key((*k).into())).collect()
}

/// Parses a path given as JSON: an array of strings (properties) and non-negative integers
/// (array positions), e.g. `["items", 0, "title"]`.
pub fn path_from_json(json: &Json) -> Result<Vec<PathSegment>> {
    path_from_json_value(&JsonValue::from(json))
}

/// Like [`path_from_json`]; property names may hold unpaired surrogates.
pub fn path_from_json_value(json: &JsonValue) -> Result<Vec<PathSegment>> {
    let JsonValue::Array(items) = json else {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            "a path must be a JSON array",
        ));
    };
    items
        .iter()
        .map(|s| match s {
            JsonValue::String(k) => Ok(PathSegment::Key(k.clone())),
            JsonValue::Number(n) if *n >= 0.0 && n.fract() == 0.0 && *n < 9.0e15 => {
                Ok(PathSegment::Index(*n as usize))
            }
            JsonValue::Number(_) => Err(Error::new(
                ErrorCode::InvalidArgument,
                format!("bad path index {}", s.to_json_string()),
            )),
            other => Err(Error::new(
                ErrorCode::InvalidArgument,
                format!("bad path segment {}", other.to_json_string()),
            )),
        })
        .collect()
}
