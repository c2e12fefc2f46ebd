//! Tandem: a real-time collaboration engine that speaks the Convergence protocol.
//!
//! Layers, each using only those below it: [`api`] (the host-facing facade), the services
//! ([`model`]: one sequencer task per open model; [`auth`]: authentication and users;
//! [`domain`]), [`store`] (durable storage, LMDB by default) and [`ot`] (pure operational
//! transformation).
#![deny(missing_docs)]

pub mod api;
pub mod auth;
pub mod domain;
#[doc(hidden)]
pub mod fault;
#[doc(hidden)]
pub mod fuzzing;
pub mod ident;
pub mod model;
pub mod net;
pub mod ot;
pub mod protocol;
pub mod sources;
pub mod store;
