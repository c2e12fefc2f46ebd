//! Python bindings: type conversion over the `tandem::api` facade, nothing more. The classes
//! mirror its handles (`Engine` → `Domain` → `Model` → `Subscription`); every call that is
//! async in the facade exists twice, `name(...)` (blocking, the GIL released) and
//! `name_async(...)` (an asyncio awaitable). Errors are `TandemError` subclasses made from
//! `ErrorCode::ALL`.

mod aio;
mod chats;
mod convert;
mod domain;
mod engine;
mod errors;
mod model;
mod operators;
mod query;
mod sessions;
mod subscription;
mod webhooks;

use pyo3::prelude::*;

#[pymodule]
fn _tandem(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    aio::register(m)?;
    m.add_class::<engine::Engine>()?;
    m.add_class::<domain::Domain>()?;
    m.add_class::<model::Model>()?;
    m.add_class::<subscription::Subscription>()?;
    Ok(())
}
