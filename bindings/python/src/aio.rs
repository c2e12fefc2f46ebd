//! Engine futures as asyncio futures: the work runs on the engine's runtime; its result is
//! handed to the caller's event loop with `loop.call_soon_threadsafe`. Nothing polls.

use std::future::Future;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use tokio::runtime::Handle;
use tokio::task::AbortHandle;

use crate::errors::raise;

static RESOLVE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Settles `future` on its loop's thread, unless it was cancelled meanwhile.
#[pyfunction]
fn _resolve(future: &Bound<'_, PyAny>, ok: bool, value: &Bound<'_, PyAny>) -> PyResult<()> {
    if future.call_method0("done")?.is_truthy()? {
        return Ok(());
    }
    let method = if ok { "set_result" } else { "set_exception" };
    future.call_method1(method, (value,))?;
    Ok(())
}

/// Aborts the engine task behind an asyncio future that was cancelled.
#[pyclass(frozen)]
struct AbortOnCancel(AbortHandle);

#[pymethods]
impl AbortOnCancel {
    fn __call__(&self, future: &Bound<'_, PyAny>) -> PyResult<()> {
        if future.call_method0("cancelled")?.is_truthy()? {
            self.0.abort();
        }
        Ok(())
    }
}

/// Keeps the settling function that every awaitable hands to its loop.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let f = wrap_pyfunction!(_resolve, m)?;
    let _ = RESOLVE.set(m.py(), f.into_any().unbind());
    Ok(())
}

/// Whether cancelling the asyncio future also stops the engine's work (only for reads:
/// a change once started is carried out).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum OnCancel {
    /// The work goes on to its end; its result is dropped.
    Finish,
    /// The work is aborted.
    Abort,
}

/// Starts `work` on `runtime` and returns an asyncio future of the running loop that gets its
/// result, converted by `convert` (under the GIL, on a blocking-pool thread).
pub fn awaitable<'py, T, F, C>(
    py: Python<'py>,
    runtime: &Handle,
    on_cancel: OnCancel,
    work: F,
    convert: C,
) -> PyResult<Bound<'py, PyAny>>
where
    T: Send + 'static,
    F: Future<Output = Result<T, tandem::api::Error>> + Send + 'static,
    C: for<'a> FnOnce(Python<'a>, T) -> PyResult<Bound<'a, PyAny>> + Send + 'static,
{
    let event_loop = py.import("asyncio")?.call_method0("get_running_loop")?;
    let future = event_loop.call_method0("create_future")?;
    let target = (event_loop.unbind(), future.clone().unbind());
    let task = runtime.spawn(async move {
        let result = work.await;
        let _ = tokio::task::spawn_blocking(move || {
            Python::attach(|py| {
                let (ok, value) = match result.map_err(raise).and_then(|v| convert(py, v)) {
                    Ok(v) => (true, v.unbind()),
                    Err(e) => (false, e.into_value(py).into_any()),
                };
                let (event_loop, future) = target;
                if let Some(resolve) = RESOLVE.get(py) {
                    // Fails only when the loop is closed: nobody waits any more.
                    let _ = event_loop.call_method1(
                        py,
                        "call_soon_threadsafe",
                        (resolve, future, ok, value),
                    );
                }
            })
        })
        .await;
    });
    if on_cancel == OnCancel::Abort {
        let abort = Bound::new(py, AbortOnCancel(task.abort_handle()))?;
        future.call_method1("add_done_callback", (abort,))?;
    }
    Ok(future)
}
