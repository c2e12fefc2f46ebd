//! Tandem: a real-time collaboration engine that speaks the Convergence protocol.
//!
//! Hosts use [`api`], the engine's one public door; [`ot`] is the pure operational
//! transformation it is built on. Inside, each layer uses only those below it: the facade,
//! the network listeners and the wire protocol; the services (models with one sequencer task
//! each, authentication, domains, sessions); the store (LMDB by default); and `ot`.
#![deny(missing_docs)]

pub mod api;
pub mod ot;

// What follows is the engine's inside. The modules that the wire and store test suites, the
// benchmarks, the fuzz targets and the load generator reach into stay public but hidden;
// hosts use `api`.
pub(crate) mod activity;
#[doc(hidden)]
pub mod auth;
pub(crate) mod chat;
pub(crate) mod domain;
#[doc(hidden)]
pub mod fault;
#[doc(hidden)]
pub mod fuzzing;
pub(crate) mod ident;
pub(crate) mod metrics;
#[doc(hidden)]
pub mod model;
pub(crate) mod net;
#[doc(hidden)]
pub mod perm;
pub(crate) mod presence;
#[doc(hidden)]
pub mod protocol;
/// The model query language (`SELECT … FROM … WHERE …`): parsing and evaluation, pure.
#[doc(hidden)]
pub mod query;
pub(crate) mod router;
pub(crate) mod session;
#[doc(hidden)]
pub mod sources;
pub(crate) mod state_map;
#[doc(hidden)]
pub mod store;
#[doc(hidden)]
pub mod testing;
pub(crate) mod webhook;
