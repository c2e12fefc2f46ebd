//! Sessions and the users behind them: typed ids shared by the services, the protocol and the
//! facade.

mod ids;

pub use ids::{SessionId, UserId};
