//! Model queries: `modelsQueryRequest` answered off the connection loop (a query reads many
//! models) with `modelsQueryResponse`, or `invalid_query` with the failing position. A
//! connection runs a bounded number of queries at once (`too_many_queries` beyond it).

use std::sync::atomic::AtomicUsize;

use super::*;

/// One running query of a connection: counted while it lives.
struct Running(Arc<AtomicUsize>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Conn {
    /// Runs a query as the connection's user and answers when it is done.
    pub(super) fn models_query(&mut self, id: i32, r: pm::ModelsQueryRequestMessage) {
        let limit = self.config.limits.max_queries_per_connection;
        if SessionLimits::full(limit, self.queries.load(Ordering::Acquire)) {
            warn!(limit, "query refused: too many running on this connection");
            let message = format!("at most {limit} queries may run at once on a connection");
            self.send(codec::response(id, error_body("too_many_queries", message)));
            return;
        }
        self.queries.fetch_add(1, Ordering::AcqRel);
        let running = Running(self.queries.clone());
        let domain = self.domain();
        let actor = self.actor();
        let models = self.services.models.clone();
        let tx = self.internal_tx.clone();
        tokio::task::spawn_blocking(move || {
            let body = match models.query(&domain, &r.query, &actor) {
                Ok(answer) => Body::ModelsQueryResponse(pm::ModelsQueryResponseMessage {
                    models: answer
                        .models
                        .iter()
                        .map(|m| pm::models_query_response_message::ModelResult {
                            collection_id: m.collection.clone(),
                            model_id: m.id.clone(),
                            created_time: Some(timestamp(m.created_ms)),
                            modified_time: Some(timestamp(m.modified_ms)),
                            version: m.version as i64,
                            data: Some(convert::object_to_struct(&m.data)),
                        })
                        .collect(),
                    offset: answer.offset as i64,
                    total_results: answer.total as i64,
                }),
                Err(e) => model_error_body(&e),
            };
            drop(running);
            let _ = tx.send(Internal::Reply(codec::response(id, body)));
        });
    }
}
