//! Python values <-> the facade's JSON values, natively (no JSON text). Strings go through
//! UTF-16 with `surrogatepass`, so a lone surrogate in a Python `str` survives exactly.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tandem::api::{Error, ErrorCode, Event, JsString, JsonValue};

use crate::errors::raise;

fn invalid(msg: impl Into<String>) -> PyErr {
    raise(Error::new(ErrorCode::InvalidArgument, msg))
}

/// A Python `str` as UTF-16 code units, lone surrogates included.
pub fn js_string(s: &Bound<'_, PyString>) -> PyResult<JsString> {
    if let Ok(text) = s.to_cow() {
        return Ok(JsString::from(&*text));
    }
    let bytes = s.call_method1("encode", ("utf-16-le", "surrogatepass"))?;
    let bytes = bytes.cast::<PyBytes>()?.as_bytes();
    let units = bytes
        .chunks_exact(2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .collect();
    Ok(JsString::from_units(units))
}

/// UTF-16 code units as a Python `str`, lone surrogates included.
pub fn py_string<'py>(py: Python<'py>, s: &JsString) -> PyResult<Bound<'py, PyAny>> {
    if let Some(text) = s.as_string() {
        return Ok(PyString::new(py, &text).into_any());
    }
    let bytes: Vec<u8> = s.units().iter().flat_map(|u| u.to_le_bytes()).collect();
    PyBytes::new(py, &bytes).call_method1("decode", ("utf-16-le", "surrogatepass"))
}

/// A Python value (dict, list, tuple, str, int, float, bool, None, os.PathLike) as JSON.
pub fn to_json(obj: &Bound<'_, PyAny>) -> PyResult<JsonValue> {
    if obj.is_none() {
        Ok(JsonValue::Null)
    } else if let Ok(b) = obj.cast::<PyBool>() {
        Ok(JsonValue::Bool(b.is_true()))
    } else if obj.is_instance_of::<PyInt>() || obj.is_instance_of::<PyFloat>() {
        let n: f64 = obj.extract()?;
        if !n.is_finite() {
            return Err(invalid(format!("{n} is not a JSON number")));
        }
        Ok(JsonValue::Number(n))
    } else if let Ok(s) = obj.cast::<PyString>() {
        Ok(JsonValue::String(js_string(s)?))
    } else if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = std::collections::BTreeMap::new();
        for (k, v) in d.iter() {
            let key = k
                .cast::<PyString>()
                .map_err(|_| invalid(format!("a key must be a str, not {}", k.get_type())))?;
            map.insert(js_string(key)?, to_json(&v)?);
        }
        Ok(JsonValue::Object(map))
    } else if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        obj.try_iter()?
            .map(|item| to_json(&item?))
            .collect::<PyResult<_>>()
            .map(JsonValue::Array)
    } else if obj.hasattr("__fspath__")? {
        to_json(&obj.call_method0("__fspath__")?)
    } else {
        Err(invalid(format!("{} is not a JSON value", obj.get_type())))
    }
}

/// JSON as a Python value: numbers without a fraction become `int`.
pub fn to_py<'py>(py: Python<'py>, json: &JsonValue) -> PyResult<Bound<'py, PyAny>> {
    Ok(match json {
        JsonValue::Null => py.None().into_bound(py),
        JsonValue::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        JsonValue::Number(n) if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 => {
            (*n as i64).into_pyobject(py)?.into_any()
        }
        JsonValue::Number(n) => PyFloat::new(py, *n).into_any(),
        JsonValue::String(s) => py_string(py, s)?,
        JsonValue::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_py(py, item)?)?;
            }
            list.into_any()
        }
        JsonValue::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(py_string(py, k)?, to_py(py, v)?)?;
            }
            dict.into_any()
        }
    })
}

/// A facade input type (config, user, key, settings, user id) from a Python dict; `code` is
/// the error code for a value that does not fit.
pub fn input<T: DeserializeOwned>(
    obj: &Bound<'_, PyAny>,
    what: &str,
    code: ErrorCode,
) -> PyResult<T> {
    serde_json::from_value(to_json(obj)?.to_serde())
        .map_err(|e| raise(Error::new(code, format!("invalid {what}: {e}"))))
}

/// Like [`input`], `T::default()` for `None`.
pub fn input_or_default<T: DeserializeOwned + Default>(
    obj: Option<&Bound<'_, PyAny>>,
    what: &str,
    code: ErrorCode,
) -> PyResult<T> {
    match obj {
        Some(o) if !o.is_none() => input(o, what, code),
        _ => Ok(T::default()),
    }
}

/// A facade output type (user, key, model info, history entry) as a Python dict.
pub fn output<'py, T: Serialize>(py: Python<'py>, value: &T) -> PyResult<Bound<'py, PyAny>> {
    let json = serde_json::to_value(value)
        .map_err(|e| raise(Error::new(ErrorCode::Internal, e.to_string())))?;
    to_py(py, &JsonValue::from(json))
}

/// Like [`output`], with the two-element lists under `keys` (the facade's (user, rights)
/// pairs) as tuples.
pub fn output_pairs<'py, T: Serialize>(
    py: Python<'py>,
    value: &T,
    keys: &[&str],
) -> PyResult<Bound<'py, PyAny>> {
    let dict = output(py, value)?;
    for key in keys {
        let pairs = PyList::empty(py);
        for pair in dict.get_item(key)?.try_iter()? {
            pairs.append(PyTuple::new(py, pair?.cast::<PyList>()?.iter())?)?;
        }
        dict.set_item(key, pairs)?;
    }
    Ok(dict)
}

/// Many outputs as a list of dicts.
pub fn outputs<'py, T: Serialize>(py: Python<'py>, values: &[T]) -> PyResult<Bound<'py, PyAny>> {
    let list = PyList::empty(py);
    for v in values {
        list.append(output(py, v)?)?;
    }
    Ok(list.into_any())
}

/// An event as a dict with its `"type"`; the operation keeps its text exactly.
pub fn event<'py>(py: Python<'py>, e: &Event) -> PyResult<Bound<'py, PyAny>> {
    let dict = output(py, e)?;
    if let Event::OperationApplied { operation, .. } = e {
        dict.set_item("operation", to_py(py, operation)?)?;
    }
    Ok(dict)
}
