//! Real-time models: open, resync, create, close and delete, and the model events that
//! follow an open model to the client.

use super::*;

impl Conn {
    /// Closes an open model; the answer follows once the model let the session go.
    pub(super) fn close_model(&mut self, id: i32, r: pm::CloseRealtimeModelRequestMessage) {
        let Some(res) = self.resources.get(&r.resource_id) else {
            self.reply(
                id,
                error_body("model_not_open", "no model with that resource id"),
            );
            return;
        };
        let handle = res.handle.clone();
        let tx = self.internal_tx.clone();
        let resource = r.resource_id;
        tokio::spawn(async move {
            let _ = handle.close().await;
            let _ = tx.send(Internal::Closed {
                request_id: id,
                resource,
            });
        });
    }

    /// Deletes a model (its open sessions are closed by the model).
    pub(super) fn delete_model(&mut self, id: i32, r: pm::DeleteRealtimeModelRequestMessage) {
        let domain = self.domain();
        let models = self.services.models.clone();
        let tx = self.internal_tx.clone();
        let actor = self.actor();
        tokio::spawn(async move {
            let body = match models.delete_model(&domain, &r.model_id, &actor).await {
                Ok(()) => {
                    Body::DeleteRealtimeModelResponse(pm::DeleteRealtimeModelResponseMessage {})
                }
                Err(e) => model_error_body(&e),
            };
            let _ = tx.send(Internal::Reply(codec::response(id, body)));
        });
    }

    /// Answers an open or resync of `model` that cannot be taken (already open or opening, or
    /// the connection holds its most models); true when it was refused.
    pub(super) fn refuse_open(&mut self, id: i32, model: &str) -> bool {
        if self.by_model.contains_key(model) || self.opening.contains_key(model) {
            self.reply(
                id,
                error_body("model_already_open", "the model is already open"),
            );
            return true;
        }
        let limit = self.config.limits.max_models_per_connection;
        if SessionLimits::full(limit, self.resources.len() + self.opening.len()) {
            self.reply(
                id,
                error_body(
                    "too_many_open_models",
                    format!("this connection has {limit} models open, the most it may"),
                ),
            );
            return true;
        }
        false
    }

    pub(super) fn open(&mut self, id: i32, r: pm::OpenRealtimeModelRequestMessage) {
        let model = match r.model_id.filter(|m| !m.is_empty()) {
            Some(m) => m,
            None if r.auto_create_id.is_some() => self.services.ids.uuid(),
            None => {
                self.reply(id, error_body("model_not_found", "no model id"));
                return;
            }
        };
        if self.refuse_open(id, &model) {
            return;
        }
        self.opening.insert(model.clone(), Vec::new());
        let services = self.services.clone();
        let domain = self.domain();
        let session = self.session();
        let sink = self.model_tx.clone();
        let tx = self.internal_tx.clone();
        let out = self.out.clone();
        let pending = self.pending.clone();
        let next_request = self.next_request.clone();
        let answer_timeout = self.config.client_request_timeout;
        let auto_create = r.auto_create_id;
        let actor = self.actor();
        tokio::spawn(async move {
            let models = &services.models;
            let mut result = models
                .open(&domain, &model, session.clone(), sink.clone())
                .await;
            if let (Err(ModelError::NotFound(_)), Some(auto_id)) = (&result, auto_create) {
                result = match request_creation_data(
                    answer_timeout,
                    &out,
                    &pending,
                    &next_request,
                    auto_id,
                )
                .await
                {
                    Err(e) => Err(ModelError::Invalid(e)),
                    Ok(data) => {
                        let auto = services
                            .domains
                            .get(&domain)
                            .map(|d| d.collection_auto_create)
                            .unwrap_or(false);
                        let root = match data.data.as_ref() {
                            Some(o) => convert::object_from_wire(o)
                                .map_err(|e| ModelError::Invalid(e.to_string())),
                            None => Ok(crate::ot::Value::new(
                                "@:0",
                                crate::ot::Data::Object(BTreeMap::new()),
                            )),
                        };
                        let initial = super::permissions::initial_permissions(
                            data.override_permissions,
                            data.world_permissions.as_ref(),
                            &data.user_permissions,
                        );
                        match root {
                            Err(e) => Err(e),
                            Ok(root) => match models
                                .create_model_from_value(
                                    &domain,
                                    &data.collection,
                                    Some(&model),
                                    root,
                                    auto,
                                    &actor,
                                    &initial,
                                    data.ephemeral,
                                )
                                .await
                            {
                                Ok(_) | Err(ModelError::AlreadyExists(_)) => {
                                    models.open(&domain, &model, session, sink).await
                                }
                                Err(e) => Err(e),
                            },
                        }
                    }
                };
            }
            let _ = tx.send(Internal::Opened {
                request_id: id,
                model,
                result: result.map_err(|e| {
                    let code = if matches!(e, ModelError::Invalid(_)) && auto_create.is_some() {
                        "data_request_failure"
                    } else {
                        model_error_code(&e)
                    };
                    (code.to_string(), e.to_string())
                }),
                resync: false,
            });
        });
    }

    pub(super) fn resync(&mut self, id: i32, r: pm::ModelResyncRequestMessage) {
        let model = r.model_id;
        if self.refuse_open(id, &model) {
            return;
        }
        self.opening.insert(model.clone(), Vec::new());
        let services = self.services.clone();
        let domain = self.domain();
        let session = self.session();
        let sink = self.model_tx.clone();
        let tx = self.internal_tx.clone();
        let version = r.context_version.max(0) as u64;
        let candidates: Vec<String> = self
            .auth
            .as_ref()
            .map(|a| a.earlier_sessions.clone())
            .unwrap_or_default();
        let probe_timeout = self.config.liveness_probe_timeout;
        tokio::spawn(async move {
            // An earlier session of the token that still looks connected is either this
            // client's old connection, dead without the server having heard (a network
            // change), or another client sharing the token (a duplicated tab): only the
            // latter answers a ping.
            let mut earlier = Vec::with_capacity(candidates.len());
            for s in candidates {
                if services.sessions.get(&s).is_none()
                    || !services.sessions.is_alive(&s, probe_timeout).await
                {
                    earlier.push(s);
                }
            }
            let result = services
                .models
                .resync(&domain, &model, session, sink, version, earlier)
                .await
                .map_err(|e| (model_error_code(&e).to_string(), e.to_string()));
            let _ = tx.send(Internal::Opened {
                request_id: id,
                model,
                result,
                resync: true,
            });
        });
    }

    pub(super) async fn create(&mut self, id: i32, r: pm::CreateRealtimeModelRequestMessage) {
        let Some(data) = r.data.as_ref() else {
            self.reply(id, error_body("invalid_message", "model data is required"));
            return;
        };
        let root = match convert::object_from_wire(data) {
            Ok(v) => v,
            Err(e) => {
                self.reply(id, error_body("invalid_model_creation_data", e.to_string()));
                return;
            }
        };
        let domain = self.domain();
        let auto = self
            .services
            .domains
            .get(&domain)
            .map(|d| d.collection_auto_create)
            .unwrap_or(false);
        let models = self.services.models.clone();
        let tx = self.internal_tx.clone();
        let actor = self.actor();
        let initial = super::permissions::initial_permissions(
            r.override_world_permissions,
            r.world_permissions.as_ref(),
            &r.user_permissions,
        );
        tokio::spawn(async move {
            let body = match models
                .create_model_from_value(
                    &domain,
                    &r.collection_id,
                    r.model_id.as_deref(),
                    root,
                    auto,
                    &actor,
                    &initial,
                    false,
                )
                .await
            {
                Ok(info) => {
                    Body::CreateRealTimeModelResponse(pm::CreateRealtimeModelResponseMessage {
                        model_id: info.id,
                    })
                }
                Err(e) => model_error_body(&e),
            };
            let _ = tx.send(Internal::Reply(codec::response(id, body)));
        });
    }

    /// Closes a resource on the server's initiative: the session leaves the model and the
    /// client is told with a force-close.
    pub(super) fn drop_resource(&mut self, resource: i32, reason: ForceCloseReason, message: &str) {
        if let Some(r) = self.resources.remove(&resource) {
            self.by_model.remove(&r.model);
            r.handle.close_now();
        }
        self.send(codec::normal(Body::ForceCloseRealTimeModel(
            pm::ModelForceCloseMessage {
                resource_id: resource,
                reason: message.to_string(),
                reason_code: reason as i32,
            },
        )));
    }

    /// Sends a replayed operation: an ack when it is one of the client's own (it still waits
    /// for it), otherwise a remote operation.
    pub(super) fn send_replayed(&mut self, resource: i32, op: &ReplayedOp) {
        let context_version = op.version.saturating_sub(1);
        if op.own {
            self.send(codec::normal(Body::OperationAck(
                pm::OperationAcknowledgementMessage {
                    resource_id: resource,
                    sequence_number: op.seq.unwrap_or_default() as i32,
                    version: context_version as i64,
                    timestamp: Some(timestamp(op.timestamp_ms)),
                },
            )));
        } else {
            self.send(codec::normal(Body::RemoteOperation(
                pm::RemoteOperationMessage {
                    resource_id: resource,
                    session_id: op.session.clone(),
                    context_version: context_version as i64,
                    timestamp: Some(timestamp(op.timestamp_ms)),
                    operation: Some(convert::operation_to_wire(&op.op)),
                },
            )));
        }
    }

    /// Sends what a resynchronising resource held back. Called on the client's first message
    /// for the resource after the resync response (a re-sent operation or the completion):
    /// the client sends it only once it has caught up, so it can take acks again.
    pub(super) fn release_held(&mut self, resource: i32) {
        let Some(held) = self
            .resources
            .get_mut(&resource)
            .and_then(|r| r.held.take())
        else {
            return;
        };
        for item in held {
            match item {
                Held::Replayed(op) => self.send_replayed(resource, &op),
                Held::Event(event) => self.handle_model_event(event),
            }
        }
    }

    pub(super) fn unknown_resource(&self, resource: i32) {
        let mut details = BTreeMap::new();
        details.insert(
            "resourceId".to_string(),
            prost_types::Value {
                kind: Some(prost_types::value::Kind::NumberValue(resource as f64)),
            },
        );
        self.send(codec::normal(Body::Error(pc::ErrorMessage {
            code: "unknown_resource_id".into(),
            message: format!("no model is open with resource id {resource}"),
            details,
        })));
    }

    /// While a resource resynchronises, the client knows no collaborator: it forgot them all
    /// when it went offline and learns the current list from `modelResyncServerComplete`. A
    /// `remoteClientOpenedModel` in that window would be listed twice (and rc.12 then throws on
    /// the next close or disconnect), and a `remoteClientClosedModel` or reference event for
    /// a session it does not know makes rc.12 throw at once. So those events only update the
    /// lists sent with the completion. Returns true when the event was absorbed.
    pub(super) fn hold_while_resyncing(&mut self, resource: i32, event: &ModelEvent) -> bool {
        let Some(r) = self.resources.get_mut(&resource) else {
            return false;
        };
        r.note_collaborators(event) && r.resyncing
    }

    pub(super) fn handle_model_event(&mut self, event: ModelEvent) {
        let model = match &event {
            ModelEvent::Ack { model, .. }
            | ModelEvent::Remote { model, .. }
            | ModelEvent::RemoteOpened { model, .. }
            | ModelEvent::RemoteClosed { model, .. }
            | ModelEvent::Reference { model, .. }
            | ModelEvent::PermissionsChanged { model, .. }
            | ModelEvent::ForceClosed { model, .. } => model.clone(),
        };
        if let Some(buffer) = self.opening.get_mut(&*model) {
            buffer.push(event);
            return;
        }
        let Some(&resource) = self.by_model.get(&*model) else {
            return;
        };
        let Some(event) = self.hold_until_pong(resource, event) else {
            return;
        };
        if self.hold_while_resyncing(resource, &event) {
            return;
        }
        if let Some(held) = self
            .resources
            .get_mut(&resource)
            .and_then(|r| r.held.as_mut())
        {
            if matches!(event, ModelEvent::Ack { .. } | ModelEvent::Remote { .. }) {
                held.push_back(Held::Event(event));
                if held.len() > MAX_HELD {
                    // A client that never finishes its resync must not grow this forever.
                    self.drop_resource(
                        resource,
                        ForceCloseReason::Unknown,
                        "the resynchronisation was not completed",
                    );
                }
                return;
            }
        }
        match event {
            ModelEvent::Ack {
                seq,
                version,
                timestamp_ms,
                count,
                ..
            } => {
                for i in 0..count {
                    self.send(codec::normal(Body::OperationAck(
                        pm::OperationAcknowledgementMessage {
                            resource_id: resource,
                            sequence_number: (seq + i) as i32,
                            version: (version + i) as i64,
                            timestamp: Some(timestamp(timestamp_ms)),
                        },
                    )));
                }
            }
            ModelEvent::Remote {
                session,
                user,
                context_version,
                timestamp_ms,
                op,
                encoded,
                ..
            } => {
                self.ensure_identity([(&*session, &*user)]);
                // Encoded once for all the model's sessions; only the resource id is ours.
                let shared = encoded.get_or_init(|| {
                    codec::remote_operation_shared(pm::RemoteOperationMessage {
                        resource_id: 0,
                        session_id: session.to_string(),
                        context_version: context_version as i64,
                        timestamp: Some(timestamp(timestamp_ms)),
                        operation: Some(convert::operation_to_wire(&op)),
                    })
                });
                let frame = codec::remote_operation_frame(resource, shared);
                self.send_frame(frame);
            }
            ModelEvent::RemoteOpened { session, user, .. } => {
                self.ensure_identity([(session.as_str(), user.as_str())]);
                self.send(codec::normal(Body::RemoteClientOpenedModel(
                    pm::RemoteClientOpenedMessage {
                        resource_id: resource,
                        session_id: session,
                    },
                )));
            }
            ModelEvent::RemoteClosed { session, .. } => {
                self.send(codec::normal(Body::RemoteClientClosedModel(
                    pm::RemoteClientClosedMessage {
                        resource_id: resource,
                        session_id: session,
                    },
                )));
            }
            ModelEvent::Reference {
                session,
                target,
                key,
                change,
                ..
            } => {
                let value_id = target.map(|t| t.to_string());
                let body = match change {
                    ReferenceChange::Shared(v) => {
                        Body::ReferenceShared(pm::RemoteReferenceSharedMessage {
                            resource_id: resource,
                            value_id,
                            key,
                            references: Some(convert::references_to_wire(&v)),
                            session_id: session,
                        })
                    }
                    ReferenceChange::Set(v) => Body::ReferenceSet(pm::RemoteReferenceSetMessage {
                        resource_id: resource,
                        value_id,
                        key,
                        references: Some(convert::references_to_wire(&v)),
                        session_id: session,
                    }),
                    ReferenceChange::Cleared => {
                        Body::ReferenceCleared(pm::RemoteReferenceClearedMessage {
                            resource_id: resource,
                            value_id,
                            key,
                            session_id: session,
                        })
                    }
                    ReferenceChange::Unshared => {
                        Body::ReferenceUnshared(pm::RemoteReferenceUnsharedMessage {
                            resource_id: resource,
                            value_id,
                            key,
                            session_id: session,
                        })
                    }
                };
                self.send(codec::normal(body));
            }
            ModelEvent::PermissionsChanged { rights, .. } => {
                self.send(codec::normal(Body::ModelPermissionsChanged(
                    pm::ModelPermissionsChangedMessage {
                        resource_id: resource,
                        permissions: Some(rights_to_wire(rights)),
                    },
                )));
            }
            ModelEvent::ForceClosed {
                reason, message, ..
            } => self.drop_resource(resource, reason, &message),
        }
    }
}

/// Asks the client for a model's creation data (the auto-create exchange).
pub(super) async fn request_creation_data(
    answer_timeout: Duration,
    out: &mpsc::UnboundedSender<Outgoing>,
    pending: &Mutex<HashMap<i32, oneshot::Sender<Envelope>>>,
    next_request: &AtomicI32,
    auto_create_id: i32,
) -> Result<pm::AutoCreateModelConfigResponseMessage, String> {
    let id = next_request.fetch_add(1, Ordering::SeqCst);
    let (tx, rx) = oneshot::channel();
    if let Ok(mut p) = pending.lock() {
        p.insert(id, tx);
    }
    let msg = codec::request(
        id,
        Body::ModelAutoCreateConfigRequest(pm::AutoCreateModelConfigRequestMessage {
            auto_create_id,
        }),
    );
    let _ = out.send(Outgoing::Frame(codec::encode(&msg)));
    let answer = tokio::time::timeout(answer_timeout, rx).await;
    if let Ok(mut p) = pending.lock() {
        p.remove(&id);
    }
    match answer {
        Ok(Ok(Envelope {
            body: Some(Body::ModelAutoCreateConfigResponse(data)),
            ..
        })) => Ok(data),
        Ok(Ok(_)) => Err("the client did not supply creation data".into()),
        Ok(Err(_)) => Err("the connection closed".into()),
        Err(_) => Err("the client did not answer the creation data request in time".into()),
    }
}
