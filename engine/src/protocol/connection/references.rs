//! References (cursors, selections) shared on open models.

use super::*;

impl Conn {
    pub(super) fn references_to_wire(
        &self,
        _resource: i32,
        refs: &[SharedReference],
        sessions: &[String],
    ) -> Vec<pm::ReferenceData> {
        refs.iter()
            .filter(|r| sessions.contains(&r.session))
            .filter_map(|r| {
                Some(pm::ReferenceData {
                    session_id: r.session.clone(),
                    value_id: r.target.as_ref().map(|t| t.to_string()),
                    key: r.key.clone(),
                    reference: Some(convert::references_to_wire(r.values.as_ref()?)),
                })
            })
            .collect()
    }

    pub(super) fn reference(
        &mut self,
        resource: i32,
        value_id: Option<String>,
        key: String,
        version: i64,
        values: Option<pm::ReferenceValues>,
        share: bool,
    ) {
        self.lift_barrier(resource);
        let values = match values.as_ref().map(convert::references_from_wire) {
            Some(Ok(v)) => v,
            _ => {
                self.send(codec::normal(error_body(
                    "invalid_message",
                    "reference values missing",
                )));
                return;
            }
        };
        let change = if share {
            ReferenceChange::Shared(values)
        } else {
            ReferenceChange::Set(values)
        };
        self.reference_change(resource, value_id, key, version, change);
    }

    pub(super) fn reference_change(
        &mut self,
        resource: i32,
        value_id: Option<String>,
        key: String,
        version: i64,
        change: ReferenceChange,
    ) {
        self.lift_barrier(resource);
        let limit = self.config.limits.max_references_per_model;
        let Some(res) = self.resources.get_mut(&resource) else {
            self.unknown_resource(resource);
            return;
        };
        let slot = (value_id.clone().unwrap_or_default(), key.clone());
        match change {
            ReferenceChange::Shared(_) | ReferenceChange::Set(_) => {
                if !res.own_references.contains(&slot) {
                    if SessionLimits::full(limit, res.own_references.len()) {
                        self.send(codec::normal(error_body(
                            "too_many_references",
                            format!("at most {limit} references per model and session"),
                        )));
                        return;
                    }
                    res.own_references.insert(slot);
                }
            }
            ReferenceChange::Unshared => {
                res.own_references.remove(&slot);
            }
            ReferenceChange::Cleared => {}
        }
        let Some(res) = self.resources.get(&resource) else {
            return;
        };
        // A present but empty valueId means a model-level reference.
        let target = value_id.filter(|v| !v.is_empty()).map(ValueId::new);
        let _ = res
            .handle
            .reference(version.max(0) as u64, target, key, change);
    }
}
