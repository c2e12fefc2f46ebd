//! Model queries on a domain handle.

use pyo3::prelude::*;

use crate::chats::opt_user;
use crate::convert::output;
use crate::domain::Domain;
use crate::errors::OrRaise;

#[pymethods]
impl Domain {
    /// Runs a model query (`SELECT … FROM collection [WHERE …] [ORDER BY …] [LIMIT n]
    /// [OFFSET n]`); returns `{"models", "offset", "total"}`. With `user`, only the models
    /// it may read count. A malformed query raises `InvalidArgumentError` naming the position.
    #[pyo3(signature = (query, user=None))]
    fn query<'py>(
        &self,
        py: Python<'py>,
        query: &str,
        user: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let user = opt_user(user)?;
        let d = self.get()?;
        let page = py
            .detach(|| match &user {
                Some(u) => d.query_as(u, query),
                None => d.query(query),
            })
            .or_raise()?;
        output(py, &page)
    }

    /// Awaitable [`Domain::query`] (the query runs on the engine's runtime).
    #[pyo3(signature = (query, user=None))]
    fn query_async<'py>(
        &self,
        py: Python<'py>,
        query: String,
        user: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let user = opt_user(user)?;
        self.spawn(
            py,
            move |d| async move {
                tokio::task::spawn_blocking(move || match &user {
                    Some(u) => d.query_as(u, &query),
                    None => d.query(&query),
                })
                .await
                .unwrap_or_else(|e| {
                    Err(tandem::api::Error::new(
                        tandem::api::ErrorCode::Internal,
                        format!("query task failed: {e}"),
                    ))
                })
            },
            |py, p| output(py, &p),
        )
    }
}
