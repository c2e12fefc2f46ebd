//! Sessions and the users behind them: typed ids shared by the services, the protocol and the
//! facade, the registry of connected sessions, and the services bundle front ends talk to.

mod ids;
mod registry;

use std::sync::Arc;

pub use ids::{SessionId, UserId};
pub use registry::{SessionLink, SessionRegistry, SessionUser};

use crate::activity::ActivityService;
use crate::auth::AuthService;
use crate::chat::ChatService;
use crate::domain::DomainService;
use crate::model::{EventBus, ModelService};
use crate::presence::PresenceService;
use crate::sources::{Clock, IdSource};

/// The services a front end (a wire connection) talks to.
pub struct Services {
    /// Models.
    pub models: ModelService,
    /// Domains.
    pub domains: DomainService,
    /// Authentication and users.
    pub auth: AuthService,
    /// Engine events.
    pub bus: EventBus,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Ids.
    pub ids: Arc<dyn IdSource>,
    /// Connected sessions.
    pub sessions: SessionRegistry,
    /// Who is connected, and each user's presence state.
    pub presence: PresenceService,
    /// Activities and their participants.
    pub activities: ActivityService,
    /// Chats, their members and events.
    pub chats: ChatService,
}
