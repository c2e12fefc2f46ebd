//! Webhooks on `Domain` (the facade's `api/webhooks.rs`): register a URL for some of the
//! domain's events, list and remove them, read each one's deliveries with their status. The
//! waiting calls have awaitable `_async` twins; inputs and outputs are dicts in the facade's
//! serde forms.

use pyo3::prelude::*;
use tandem::api::{ErrorCode, NewWebhook};

use crate::convert::{input, output, outputs};
use crate::domain::{none, Domain};
use crate::errors::OrRaise;

fn new_webhook(webhook: &Bound<'_, PyAny>) -> PyResult<NewWebhook> {
    input(webhook, "webhook", ErrorCode::InvalidArgument)
}

#[pymethods]
impl Domain {
    /// Registers a webhook from a dict (`url`: `http://` or `https://`, `events`: some of
    /// `model.created`, `model.deleted`, `model.last_session_left`, `chat.message`); returns it
    /// (`id`, `url`, `events`, `created_ms`) with its `secret`, the key of its signatures,
    /// shown only here.
    fn add_webhook<'py>(
        &self,
        py: Python<'py>,
        webhook: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let webhook = new_webhook(webhook)?;
        let added = self.block(py, async move |d| d.add_webhook(webhook).await)?;
        output(py, &added)
    }

    /// Awaitable [`Domain::add_webhook`].
    fn add_webhook_async<'py>(
        &self,
        py: Python<'py>,
        webhook: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let webhook = new_webhook(webhook)?;
        self.spawn(
            py,
            move |d| async move { d.add_webhook(webhook).await },
            |py, added| output(py, &added),
        )
    }

    /// The domain's webhooks, by id.
    fn webhooks<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        outputs(py, &self.get()?.webhooks().or_raise()?)
    }

    /// Removes a webhook with its deliveries (`NotFoundError` if there is none).
    fn remove_webhook(&self, py: Python<'_>, id: &str) -> PyResult<()> {
        self.block(py, async move |d| d.remove_webhook(id).await)
    }

    /// Awaitable [`Domain::remove_webhook`].
    fn remove_webhook_async<'py>(
        &self,
        py: Python<'py>,
        id: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.spawn(
            py,
            move |d| async move { d.remove_webhook(&id).await },
            none,
        )
    }

    /// A webhook's deliveries (the pending ones and the latest finished ones), newest first:
    /// dicts with `id` (`<webhook>.<number>`), `number`, `event`, `status` (`"pending"`,
    /// `"delivered"` or `"failed"`), `attempts`, `last_status`, `last_error`, `created_ms`,
    /// `last_attempt_ms` and `payload` (the posted body as JSON text).
    fn webhook_deliveries<'py>(&self, py: Python<'py>, id: &str) -> PyResult<Bound<'py, PyAny>> {
        outputs(py, &self.get()?.webhook_deliveries(id).or_raise()?)
    }
}
