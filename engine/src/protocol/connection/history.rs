//! History: a model's data, its operations in a range, and its version at a time.

use super::*;
use crate::ot::{AppliedOp, AppliedOperation, Data, DiscreteOp, Document, OpKind, Operation, Undo};

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
                let applied = match readable_by_the_client(
                    &self.services.models,
                    &self.domain(),
                    &r.model_id,
                    &self.actor(),
                    &ops,
                ) {
                    Ok(a) => a,
                    Err(e) => return self.reply(id, model_error_body(&e)),
                };
                let pairs: Vec<(std::sync::Arc<str>, std::sync::Arc<str>)> = ops
                    .iter()
                    .map(|o| (o.session.clone(), o.user.clone()))
                    .collect();
                self.ensure_identity(pairs.iter().map(|(s, u)| (&**s, &**u)));
                let operations = ops
                    .iter()
                    .zip(&applied)
                    .map(
                        |(o, a)| pm::historical_operations_response_message::ModelOperationData {
                            model_id: r.model_id.clone(),
                            version: o.version as i64,
                            timestamp: Some(timestamp(o.timestamp_ms)),
                            session_id: o.session.to_string(),
                            operation: Some(convert::applied_to_wire(a)),
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

/// The operations as the client can play them. rc.12 cannot read an applied
/// `objectRemovePropertyOperation` (it reads the fields of a set-property there and fails), so a
/// removal is sent as the equivalent object set: the object's properties before it as the old
/// values and after it as the new ones, every value with its id. That needs the object as it
/// was, so the data is rebuilt from the nearest snapshot up to the first removal and followed
/// through the range.
fn readable_by_the_client(
    models: &crate::model::ModelService,
    domain: &DomainKey,
    model: &str,
    actor: &Actor,
    ops: &[crate::store::OpRecord],
) -> Result<Vec<AppliedOperation>, ModelError> {
    let removes = |o: &crate::store::OpRecord| {
        o.op.ops()
            .iter()
            .any(|a| !a.op.no_op && matches!(a.op.kind, OpKind::ObjectRemoveProperty { .. }))
    };
    let Some(first) = ops.iter().position(removes) else {
        return Ok(ops.iter().map(|o| o.op.clone()).collect());
    };
    let before = models.data_at(domain, model, ops[first].version - 1, actor)?;
    let mut doc = Document::new(before.data)?;
    let mut out: Vec<AppliedOperation> = ops[..first].iter().map(|o| o.op.clone()).collect();
    for o in &ops[first..] {
        let mut parts = Vec::with_capacity(o.op.ops().len());
        for a in o.op.ops() {
            parts.push(as_object_set(&doc, a));
            if !a.op.no_op {
                doc.apply(Operation::Discrete(a.op.clone()))?;
            }
        }
        out.push(match &o.op {
            AppliedOperation::Discrete(_) => parts
                .pop()
                .map_or_else(|| o.op.clone(), AppliedOperation::Discrete),
            AppliedOperation::Compound(_) => AppliedOperation::Compound(parts),
        });
    }
    Ok(out)
}

/// A property removal as the object set with the same effect on `doc` (other ops unchanged).
fn as_object_set(doc: &Document, a: &AppliedOp) -> AppliedOp {
    let OpKind::ObjectRemoveProperty { key } = &a.op.kind else {
        return a.clone();
    };
    let Some(Data::Object(old)) = (!a.op.no_op)
        .then(|| doc.value(&a.op.id))
        .flatten()
        .map(|v| v.data)
    else {
        return a.clone();
    };
    let mut values = old.clone();
    values.remove(key);
    AppliedOp {
        op: DiscreteOp::new(a.op.id.clone(), OpKind::ObjectSet { values }),
        undo: Undo::Map(old),
    }
}
