//! History: a model's data, its operations in a range, and its version at a time.

use super::*;

impl Conn {
    /// Answers with a model's current data, for a history view.
    pub(super) fn historical_data(&mut self, id: i32, r: pm::HistoricalDataRequestMessage) {
        let domain = self.domain();
        let models = self.services.models.clone();
        let tx = self.internal_tx.clone();
        if let Err(e) = models.readable(&domain, &r.model_id, &self.actor()) {
            self.reply(id, model_error_body(&e));
            return;
        }
        tokio::spawn(async move {
            let body = match models.read(&domain, &r.model_id).await {
                Ok(d) => Body::HistoricalDataResponse(pm::HistoricalDataResponseMessage {
                    collection_id: d.collection.clone(),
                    data: Some(convert::object_to_wire(&d.data)),
                    version: d.version as i64,
                    created_time: Some(timestamp(d.created_ms)),
                    modified_time: Some(timestamp(d.modified_ms)),
                }),
                Err(e) => model_error_body(&e),
            };
            let _ = tx.send(Internal::Reply(codec::response(id, body)));
        });
    }

    /// Answers with a range of a model's operations.
    pub(super) fn historical_operations(
        &mut self,
        id: i32,
        r: pm::HistoricalOperationRequestMessage,
    ) {
        let first = r.first.max(0) as u64;
        let last = r.last.max(0) as u64;
        match self.services.models.operations(
            &self.domain(),
            &r.model_id,
            first,
            last,
            &self.actor(),
        ) {
            Ok(ops) => {
                let pairs: Vec<(std::sync::Arc<str>, std::sync::Arc<str>)> = ops
                    .iter()
                    .map(|o| (o.session.clone(), o.user.clone()))
                    .collect();
                self.ensure_identity(pairs.iter().map(|(s, u)| (&**s, &**u)));
                let operations = ops
                    .iter()
                    .map(
                        |o| pm::historical_operations_response_message::ModelOperationData {
                            model_id: r.model_id.clone(),
                            version: o.version as i64,
                            timestamp: Some(timestamp(o.timestamp_ms)),
                            session_id: o.session.to_string(),
                            operation: Some(convert::applied_to_wire(&o.op)),
                        },
                    )
                    .collect();
                self.reply(
                    id,
                    Body::HistoricalOperationsResponse(pm::HistoricalOperationsResponseMessage {
                        operations,
                    }),
                );
            }
            Err(e) => self.reply(id, model_error_body(&e)),
        }
    }

    /// Answers with the model's version at a time.
    pub(super) fn version_at_time(&mut self, id: i32, r: pm::ModelGetVersionAtTimeRequestMessage) {
        let time = r.target_time.as_ref().map(convert::millis).unwrap_or(0);
        match self
            .services
            .models
            .version_at_time(&self.domain(), &r.model_id, time, &self.actor())
        {
            Ok(v) => self.reply(
                id,
                Body::ModelGetVersionAtTimeResponse(pm::ModelGetVersionAtTimeResponseMessage {
                    version_at_time: v as i64,
                }),
            ),
            Err(e) => self.reply(id, model_error_body(&e)),
        }
    }
}
