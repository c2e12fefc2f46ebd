//! The sessions connected to a domain, on `Domain` (the facade's `api/sessions.rs`): who is
//! connected, from where, and a way to disconnect one (its client reconnects with a new
//! session, as after a network drop). Both calls are quick, so they have no `_async` twin.

use pyo3::prelude::*;

use crate::convert::outputs;
use crate::domain::Domain;
use crate::errors::OrRaise;

#[pymethods]
impl Domain {
    /// The sessions connected to this domain now, oldest first: `{"id", "user",
    /// "connected_ms", "address", "client"}` dicts (`address` is None when unknown).
    fn sessions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        outputs(py, &self.get()?.sessions().or_raise()?)
    }

    /// Disconnects a session of this domain (`NotFoundError` when no such session is
    /// connected to it).
    fn disconnect_session(&self, id: &str) -> PyResult<()> {
        self.get()?.disconnect_session(id).or_raise()
    }
}
