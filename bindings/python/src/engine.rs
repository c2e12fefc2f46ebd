//! `Engine`: opens, listens, shuts down; hands out domains.

use std::sync::Arc;

use pyo3::prelude::*;
use tandem::api::{DomainSettings, EngineConfig, ErrorCode, HostedEngine, NetConfig};

use crate::aio::{awaitable, OnCancel};
use crate::convert::input_or_default;
use crate::domain::Domain;
use crate::errors::OrRaise;
use crate::subscription::Subscription;

/// A running engine (in memory, or durable with `{"data_dir": path}`). A context manager:
/// leaving the `with` block shuts it down.
#[pyclass(frozen, module = "tandem")]
pub struct Engine {
    hosted: Arc<HostedEngine>,
}

impl Engine {
    pub(crate) fn core(&self) -> PyResult<tandem::api::Engine> {
        self.hosted.engine().or_raise()
    }

    fn handle(&self, namespace: &str, id: &str) -> Domain {
        Domain::new(self.hosted.clone(), namespace, id)
    }
}

#[pymethods]
impl Engine {
    /// Opens an engine on a runtime of its own.
    #[staticmethod]
    #[pyo3(signature = (config=None))]
    fn open(py: Python<'_>, config: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let config: EngineConfig = input_or_default(config, "engine config", ErrorCode::Config)?;
        let hosted = py.detach(|| HostedEngine::open(config)).or_raise()?;
        Ok(Engine {
            hosted: Arc::new(hosted),
        })
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<()> {
        self.shutdown(py)
    }

    /// Creates a domain.
    #[pyo3(signature = (namespace, id, settings=None))]
    fn create_domain(
        &self,
        py: Python<'_>,
        namespace: &str,
        id: &str,
        settings: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Domain> {
        let settings: DomainSettings =
            input_or_default(settings, "domain settings", ErrorCode::InvalidArgument)?;
        let core = self.core()?;
        py.detach(|| core.block(core.create_domain_with(namespace, id, settings)))
            .or_raise()?;
        Ok(self.handle(namespace, id))
    }

    /// Awaitable [`Engine::create_domain`].
    #[pyo3(signature = (namespace, id, settings=None))]
    fn create_domain_async<'py>(
        &self,
        py: Python<'py>,
        namespace: String,
        id: String,
        settings: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let settings: DomainSettings =
            input_or_default(settings, "domain settings", ErrorCode::InvalidArgument)?;
        let core = self.core()?;
        let hosted = self.hosted.clone();
        let rt = core.runtime().clone();
        awaitable(
            py,
            &rt,
            OnCancel::Finish,
            async move {
                core.create_domain_with(&namespace, &id, settings)
                    .await
                    .map(|d| (d.namespace().to_string(), d.id().to_string()))
            },
            move |py, (ns, id)| Ok(Bound::new(py, Domain::new(hosted, &ns, &id))?.into_any()),
        )
    }

    /// A handle on an existing domain (`NotFoundError` if there is none).
    fn domain(&self, namespace: &str, id: &str) -> PyResult<Domain> {
        self.core()?.domain(namespace, id).or_raise()?;
        Ok(self.handle(namespace, id))
    }

    /// Every domain as `(namespace, id)`.
    fn domains(&self) -> PyResult<Vec<(String, String)>> {
        self.core()?.domains().or_raise()
    }

    /// Deletes a domain with all its collections and models.
    fn delete_domain(&self, py: Python<'_>, namespace: &str, id: &str) -> PyResult<()> {
        let core = self.core()?;
        py.detach(|| core.block(core.delete_domain(namespace, id)))
            .or_raise()
    }

    /// Awaitable [`Engine::delete_domain`].
    fn delete_domain_async<'py>(
        &self,
        py: Python<'py>,
        namespace: String,
        id: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let core = self.core()?;
        let rt = core.runtime().clone();
        awaitable(
            py,
            &rt,
            OnCancel::Finish,
            async move { core.delete_domain(&namespace, &id).await },
            |py, ()| Ok(py.None().into_bound(py)),
        )
    }

    /// Every event of every domain.
    fn subscribe(&self) -> PyResult<Subscription> {
        let core = self.core()?;
        Ok(Subscription::new(core.subscribe(), core.runtime().clone()))
    }

    /// Starts the WebSocket/HTTP listener ("127.0.0.1:0" picks a free port); returns the bound
    /// `host:port`.
    #[pyo3(signature = (address="127.0.0.1:0", config=None))]
    fn listen(
        &self,
        py: Python<'_>,
        address: &str,
        config: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<String> {
        let config: NetConfig = input_or_default(config, "net config", ErrorCode::Config)?;
        py.detach(|| self.hosted.listen(address, config))
            .map(|a| a.to_string())
            .or_raise()
    }

    /// Stops the listener; False if none was running.
    fn stop_listening(&self, py: Python<'_>) -> PyResult<bool> {
        py.detach(|| self.hosted.stop_listening()).or_raise()
    }

    /// Stops listening, closes sessions, flushes every write and releases the engine (and its
    /// data directory). Idempotent; later calls raise `UnavailableError`.
    fn shutdown(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.hosted.shutdown()).or_raise()
    }

    /// True once the engine is shut down.
    #[getter]
    fn is_shut_down(&self) -> bool {
        self.hosted.engine().is_err()
    }

    /// The configuration the engine runs with, as a dict.
    #[getter]
    fn config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        crate::convert::output(py, self.core()?.config())
    }
}
