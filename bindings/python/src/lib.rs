//! Python bindings: type conversion over the `tandem::api` facade, nothing more. Calls release
//! the GIL while the engine works; errors become `tandem.TandemError` subclasses carrying the
//! engine's stable code.

use std::sync::Mutex;

use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyModule;
use tandem::api::{
    changes_from_json_value, event_to_json_text, parse_json, value_to_json_text, DomainSettings,
    Engine as CoreEngine, EngineConfig, Error, ErrorCode, EventFilter, EventSubscription,
    HostedEngine, JsonValue, JwtKeyRecord, NewUser,
};
use tandem::store::DomainKey;

pyo3::create_exception!(
    _tandem,
    TandemError,
    PyException,
    "An engine error; `.code` is the stable numeric code."
);

fn to_py(py: Python<'_>, e: Error) -> PyErr {
    let err = TandemError::new_err((e.code.as_i32(), e.message.clone()));
    let _ = err.value(py).setattr("code", e.code.as_i32());
    let _ = err.value(py).setattr("name", e.code.as_str());
    let _ = err.value(py).setattr("message", e.message);
    err
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidArgument, msg)
}

/// Parses model JSON exactly (`\uXXXX` escapes of unpaired surrogates included).
fn parse(text: &str, what: &str) -> Result<JsonValue, Error> {
    parse_json(text).map_err(|e| invalid(format!("{what} is not valid JSON: {e}")))
}

/// The engine. Methods take and return JSON text; the Python package wraps them with dicts.
#[pyclass(module = "tandem._tandem")]
struct Engine {
    hosted: HostedEngine,
}

impl Engine {
    fn core(&self) -> Result<CoreEngine, Error> {
        self.hosted.engine()
    }
}

#[pymethods]
impl Engine {
    #[new]
    #[pyo3(signature = (config_json=None))]
    fn new(py: Python<'_>, config_json: Option<&str>) -> PyResult<Self> {
        let config = match config_json {
            Some(t) => EngineConfig::from_json(t).map_err(|e| to_py(py, e))?,
            None => EngineConfig::default(),
        };
        let engine = py
            .detach(|| CoreEngine::open(config))
            .map_err(|e| to_py(py, e))?;
        Ok(Engine {
            hosted: HostedEngine::new(engine),
        })
    }

    fn listen(
        &self,
        py: Python<'_>,
        address: &str,
        net_config_json: Option<&str>,
    ) -> PyResult<String> {
        py.detach(|| self.hosted.listen(address, net_config_json))
            .map(|a| a.to_string())
            .map_err(|e| to_py(py, e))
    }

    fn stop_listening(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.hosted.stop_listening())
            .map(|_| ())
            .map_err(|e| to_py(py, e))
    }

    /// Stops listening, closes sessions, flushes, and releases the engine (and its data
    /// directory). Idempotent.
    fn shutdown(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.hosted.shutdown());
        Ok(())
    }

    fn create_domain(
        &self,
        py: Python<'_>,
        namespace: &str,
        domain: &str,
        anonymous_auth: bool,
        collection_auto_create: bool,
    ) -> PyResult<()> {
        let settings = DomainSettings {
            display_name: String::new(),
            anonymous_auth,
            collection_auto_create,
        };
        py.detach(|| {
            let core = self.core()?;
            core.block_on(core.create_domain_with(namespace, domain, settings))
                .map(|_| ())
        })
        .map_err(|e| to_py(py, e))
    }

    fn domains(&self, py: Python<'_>) -> PyResult<Vec<(String, String)>> {
        self.core()
            .and_then(|c| c.domains())
            .map_err(|e| to_py(py, e))
    }

    fn set_anonymous(
        &self,
        py: Python<'_>,
        namespace: &str,
        domain: &str,
        allow: bool,
    ) -> PyResult<()> {
        py.detach(|| {
            let core = self.core()?;
            let d = core.domain(namespace, domain)?;
            core.block_on(d.set_anonymous_auth(allow))
        })
        .map_err(|e| to_py(py, e))
    }

    fn create_collection(
        &self,
        py: Python<'_>,
        namespace: &str,
        domain: &str,
        collection: &str,
    ) -> PyResult<()> {
        py.detach(|| {
            let core = self.core()?;
            let d = core.domain(namespace, domain)?;
            core.block_on(d.create_collection(collection))
        })
        .map_err(|e| to_py(py, e))
    }

    fn collections(&self, py: Python<'_>, namespace: &str, domain: &str) -> PyResult<Vec<String>> {
        self.core()
            .and_then(|c| c.domain(namespace, domain))
            .and_then(|d| d.collections())
            .map_err(|e| to_py(py, e))
    }

    #[pyo3(signature = (namespace, domain, username, password=None, display_name=""))]
    fn create_user(
        &self,
        py: Python<'_>,
        namespace: &str,
        domain: &str,
        username: &str,
        password: Option<&str>,
        display_name: &str,
    ) -> PyResult<()> {
        py.detach(|| {
            let core = self.core()?;
            let d = core.domain(namespace, domain)?;
            core.block_on(d.create_user(NewUser {
                username: username.to_string(),
                display_name: display_name.to_string(),
                password: password.map(str::to_string),
                ..NewUser::default()
            }))
            .map(|_| ())
        })
        .map_err(|e| to_py(py, e))
    }

    fn users(&self, py: Python<'_>, namespace: &str, domain: &str) -> PyResult<Vec<String>> {
        self.core()
            .and_then(|c| c.domain(namespace, domain))
            .and_then(|d| d.users())
            .map(|u| u.into_iter().map(|u| u.username).collect())
            .map_err(|e| to_py(py, e))
    }

    fn set_password(
        &self,
        py: Python<'_>,
        namespace: &str,
        domain: &str,
        username: &str,
        password: &str,
    ) -> PyResult<()> {
        py.detach(|| {
            let core = self.core()?;
            let d = core.domain(namespace, domain)?;
            core.block_on(d.set_password(username, password))
        })
        .map_err(|e| to_py(py, e))
    }

    fn add_jwt_key(
        &self,
        py: Python<'_>,
        namespace: &str,
        domain: &str,
        key_id: &str,
        public_key_pem: &str,
    ) -> PyResult<()> {
        py.detach(|| {
            let core = self.core()?;
            let d = core.domain(namespace, domain)?;
            core.block_on(d.add_jwt_key(JwtKeyRecord {
                id: key_id.to_string(),
                description: String::new(),
                public_key_pem: public_key_pem.to_string(),
                enabled: true,
                updated_ms: 0,
            }))
            .map(|_| ())
        })
        .map_err(|e| to_py(py, e))
    }

    #[pyo3(signature = (namespace, domain, collection, data_json, model_id=None))]
    fn create_model(
        &self,
        py: Python<'_>,
        namespace: &str,
        domain: &str,
        collection: &str,
        data_json: &str,
        model_id: Option<&str>,
    ) -> PyResult<String> {
        py.detach(|| {
            let data = parse(data_json, "data")?;
            let core = self.core()?;
            let d = core.domain(namespace, domain)?;
            let m = core.block_on(d.create_model_json(collection, model_id, &data))?;
            Ok(m.id().to_string())
        })
        .map_err(|e| to_py(py, e))
    }

    #[pyo3(signature = (namespace, domain, model_id, version=None))]
    fn model_json(
        &self,
        py: Python<'_>,
        namespace: &str,
        domain: &str,
        model_id: &str,
        version: Option<u64>,
    ) -> PyResult<String> {
        py.detach(|| {
            let core = self.core()?;
            let m = core.domain(namespace, domain)?.model(model_id)?;
            let data = match version {
                Some(v) => value_to_json_text(&m.data_at(v)?.data),
                None => core.block_on(m.json_text())?,
            };
            Ok(data)
        })
        .map_err(|e| to_py(py, e))
    }

    fn apply(
        &self,
        py: Python<'_>,
        namespace: &str,
        domain: &str,
        model_id: &str,
        changes_json: &str,
    ) -> PyResult<u64> {
        py.detach(|| {
            let changes = changes_from_json_value(&parse(changes_json, "changes")?)?;
            let core = self.core()?;
            let m = core.domain(namespace, domain)?.model(model_id)?;
            core.block_on(m.apply(changes))
        })
        .map_err(|e| to_py(py, e))
    }

    fn delete_model(
        &self,
        py: Python<'_>,
        namespace: &str,
        domain: &str,
        model_id: &str,
    ) -> PyResult<()> {
        py.detach(|| {
            let core = self.core()?;
            let m = core.domain(namespace, domain)?.model(model_id)?;
            core.block_on(m.delete())
        })
        .map_err(|e| to_py(py, e))
    }

    #[pyo3(signature = (namespace=None, domain=None, model_id=None))]
    fn subscribe(
        &self,
        py: Python<'_>,
        namespace: Option<&str>,
        domain: Option<&str>,
        model_id: Option<&str>,
    ) -> PyResult<Subscription> {
        let domain = match (namespace, domain) {
            (Some(n), Some(d)) => Some(DomainKey::new(n, d)),
            (None, None) => None,
            _ => {
                return Err(to_py(
                    py,
                    invalid("give both namespace and domain, or neither"),
                ))
            }
        };
        let core = self.core().map_err(|e| to_py(py, e))?;
        let sub = core.subscribe(EventFilter {
            domain,
            model: model_id.map(str::to_string),
        });
        Ok(Subscription {
            sub: Mutex::new(Some(sub)),
        })
    }
}

/// A stream of engine events as JSON text.
#[pyclass(module = "tandem._tandem")]
struct Subscription {
    sub: Mutex<Option<EventSubscription>>,
}

#[pymethods]
impl Subscription {
    /// Waits up to `timeout` seconds for the next event; `None` on timeout or after close.
    #[pyo3(signature = (timeout=None))]
    fn next(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<String>> {
        py.detach(|| {
            let mut guard = match self.sub.lock() {
                Ok(g) => g,
                Err(_) => return Ok(None),
            };
            let Some(sub) = guard.as_mut() else {
                return Ok(None);
            };
            // Polling keeps the subscription independent of the engine's runtime, so it stays
            // safe to use (returning nothing) after the engine is shut down.
            let wait = std::time::Duration::from_secs_f64(timeout.unwrap_or(3600.0).max(0.0));
            let deadline = std::time::Instant::now() + wait;
            loop {
                if let Some(e) = sub.try_recv() {
                    return Ok(Some(event_to_json_text(&e)));
                }
                if std::time::Instant::now() >= deadline {
                    return Ok(None);
                }
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
        })
    }

    /// Ends the subscription.
    fn close(&self) {
        if let Ok(mut g) = self.sub.lock() {
            g.take();
        }
    }
}

#[pymodule]
fn _tandem(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Engine>()?;
    m.add_class::<Subscription>()?;
    m.add("TandemError", m.py().get_type::<TandemError>())?;
    Ok(())
}
