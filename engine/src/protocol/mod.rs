//! The wire protocol: Tandem's protobuf schema of the Convergence protocol ([`wire`]) and the
//! frame codec ([`codec`]).
//!
//! This layer translates between WebSocket frames and typed messages; it holds no business
//! rules. One binary frame carries exactly one [`wire::ConvergenceMessage`].

pub mod codec;
pub mod connection;
pub mod convert;
pub mod limits;
pub mod wire;
