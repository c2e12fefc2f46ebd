//! `Subscription`: events as dicts, read by iteration, `async for`, or a callback.

use std::time::Duration;

use pyo3::exceptions::{PyStopAsyncIteration, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use tandem::api::Event;
use tokio::runtime::Handle;

use crate::aio::{awaitable, OnCancel};
use crate::convert::event;
use crate::errors::OrRaise;

/// A stream of events, in the order they happened. `for event in sub` blocks (the GIL
/// released) until the next one; `async for` awaits it; `close()`, also from another thread,
/// ends both. A context manager that closes on exit.
#[pyclass(frozen, module = "tandem")]
pub struct Subscription {
    sub: tandem::api::Subscription,
    runtime: Handle,
}

fn optional_event(py: Python<'_>, e: Option<Event>) -> PyResult<Bound<'_, PyAny>> {
    match e {
        Some(e) => event(py, &e),
        None => Ok(py.None().into_bound(py)),
    }
}

fn next_event(py: Python<'_>, e: Option<Event>) -> PyResult<Bound<'_, PyAny>> {
    match e {
        Some(e) => event(py, &e),
        None => Err(PyStopAsyncIteration::new_err(())),
    }
}

impl Subscription {
    /// Wraps a facade subscription; `runtime` runs its awaitable reads.
    pub fn new(sub: tandem::api::Subscription, runtime: Handle) -> Self {
        Subscription { sub, runtime }
    }

    fn wait(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<Event>> {
        let timeout = match timeout {
            Some(t) if !(t.is_finite() && t >= 0.0) => {
                return Err(PyValueError::new_err(
                    "timeout must be a non-negative number",
                ))
            }
            t => t.map(Duration::from_secs_f64),
        };
        py.detach(|| self.sub.next_blocking(timeout)).or_raise()
    }
}

#[pymethods]
impl Subscription {
    /// The next event, waiting at most `timeout` seconds (forever when None); None on
    /// timeout or once the subscription is closed or the engine shut down.
    #[pyo3(signature = (timeout=None))]
    fn next<'py>(&self, py: Python<'py>, timeout: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        let e = self.wait(py, timeout)?;
        optional_event(py, e)
    }

    /// Awaitable [`Subscription::next`] without a timeout (use `asyncio.wait_for`).
    /// Cancelling it loses no event.
    fn next_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let sub = self.sub.clone();
        awaitable(
            py,
            &self.runtime,
            OnCancel::Abort,
            async move { Ok(sub.next().await) },
            optional_event,
        )
    }

    /// The next event if one is waiting, else None.
    fn try_next<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        optional_event(py, self.sub.try_next())
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        match self.wait(py, None)? {
            Some(e) => event(py, &e).map(Some),
            None => Ok(None),
        }
    }

    fn __aiter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __anext__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let sub = self.sub.clone();
        awaitable(
            py,
            &self.runtime,
            OnCancel::Abort,
            async move { Ok(sub.next().await) },
            next_event,
        )
    }

    /// Calls `callback(event)` for every event on the engine's callback thread (one thread
    /// for all callbacks), until the subscription ends. An exception in the callback is
    /// reported with `sys.unraisablehook` and delivery goes on.
    fn on_event(&self, callback: Py<PyAny>) -> PyResult<()> {
        self.sub
            .on_event(move |e| {
                Python::attach(|py| {
                    if let Err(err) = event(py, &e).and_then(|v| callback.call1(py, (v,))) {
                        err.write_unraisable(py, Some(callback.bind(py)));
                    }
                })
            })
            .map(|_| ())
            .or_raise()
    }

    /// Ends the subscription: a reader waiting now (in any thread or task) gets its end.
    fn close(&self) {
        self.sub.close();
    }

    /// True once closed.
    #[getter]
    fn closed(&self) -> bool {
        self.sub.is_closed()
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, _exc: &Bound<'_, PyTuple>) {
        self.sub.close();
    }
}
