//! `TandemError` and one subclass per [`ErrorCode`], made from `ErrorCode::ALL` when the module
//! loads: `NotFoundError`, `InvalidArgumentError`, ... each with `.code` and `.name`.

use std::ffi::CString;

use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyType};
use tandem::api::{Error, ErrorCode};

pyo3::create_exception!(
    tandem,
    TandemError,
    PyException,
    "An engine error: `.code` is the stable number, `.name` its snake_case name, `.message` the detail."
);

static CLASSES: PyOnceLock<Vec<(ErrorCode, Py<PyType>)>> = PyOnceLock::new();

/// Creates the subclasses and adds them (and `ERRORS`, code -> class) to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let base = py.get_type::<TandemError>();
    base.setattr("code", 0)?;
    base.setattr("name", "error")?;
    m.add("TandemError", &base)?;
    let by_code = PyDict::new(py);
    let mut classes = Vec::new();
    for code in ErrorCode::ALL {
        let name = format!("{}Error", code.class_name());
        let qualified = CString::new(format!("tandem.{name}"))?;
        let doc = CString::new(format!(
            "The engine's `{}` error (code {}).",
            code.as_str(),
            code.as_i32()
        ))?;
        let class = PyErr::new_type(py, &qualified, Some(&doc), Some(&base), None)?;
        let bound = class.bind(py);
        bound.setattr("code", code.as_i32())?;
        bound.setattr("name", code.as_str())?;
        m.add(name.as_str(), bound)?;
        by_code.set_item(code.as_i32(), bound)?;
        classes.push((code, class));
    }
    m.add("ERRORS", by_code)?;
    let _ = CLASSES.set(py, classes);
    Ok(())
}

/// The Python exception for an engine error.
pub fn raise(e: Error) -> PyErr {
    Python::attach(|py| {
        let class = CLASSES
            .get(py)
            .and_then(|all| all.iter().find(|(c, _)| *c == e.code))
            .map(|(_, class)| class.bind(py).clone())
            .unwrap_or_else(|| py.get_type::<TandemError>());
        let err = PyErr::from_type(class, (e.message.clone(),));
        let value = err.value(py);
        let _ = value.setattr("code", e.code.as_i32());
        let _ = value.setattr("name", e.code.as_str());
        let _ = value.setattr("message", e.message);
        err
    })
}

/// `Result<T, Error>` into `PyResult<T>`.
pub trait OrRaise<T> {
    /// Raises the matching exception on error.
    fn or_raise(self) -> PyResult<T>;
}

impl<T> OrRaise<T> for Result<T, Error> {
    fn or_raise(self) -> PyResult<T> {
        self.map_err(raise)
    }
}
