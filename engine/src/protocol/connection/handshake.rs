//! The handshake: the connection request, authentication and its answer.

use super::*;

impl Conn {
    pub(super) async fn connect(&mut self, request_id: i32, req: pc::ConnectionRequestMessage) {
        use pc::connection_request_message::Auth;
        use pc::connection_response_message::{Response, ServerData};
        let domain = DomainKey::new(&self.info.namespace, &self.info.domain);
        let credentials = match req.auth {
            Some(Auth::Password(p)) => Credentials::Password {
                username: p.username,
                password: p.password,
            },
            Some(Auth::Jwt(j)) => Credentials::Jwt(j.jwt),
            Some(Auth::Anonymous(a)) => Credentials::Anonymous {
                display_name: a.display_name,
            },
            Some(Auth::Reconnect(r)) => Credentials::Reconnect(r.token),
            None => {
                self.fail_connect(
                    request_id,
                    "invalid_auth_method",
                    "no authentication method",
                    false,
                );
                return;
            }
        };
        let server = Some(ServerData {
            version: self.config.server_version.clone(),
        });
        let session = format!(
            "{}-{}",
            self.services.clock.now_ms(),
            &self.services.ids.uuid()[..8]
        );
        match self
            .services
            .auth
            .authenticate_from(&domain, credentials, &session, self.info.client_ip)
            .await
        {
            Ok(a) => {
                let user = a.user;
                let limit = self.config.limits.max_connections_per_user;
                let open =
                    self.services
                        .sessions
                        .count_for(&domain, user.user_type, &user.username);
                if SessionLimits::full(limit, open) {
                    warn!(user = %user.username, open, "login refused: too many connections for one user");
                    self.fail_connect(
                        request_id,
                        "too_many_connections",
                        &format!("this user already has {open} connections (at most {limit})"),
                        false,
                    );
                    return;
                }
                let info = SessionInfo {
                    session: session.clone(),
                    user: UserId::new(user.user_type, user.username.clone()).to_key(),
                };
                self.services.sessions.insert(
                    &session,
                    SessionUser {
                        user: user.clone(),
                        domain: domain.clone(),
                        connected_ms: self.services.clock.now_ms(),
                        address: self.info.client_ip,
                        client: req.client_version.clone(),
                    },
                    Arc::new(ConnLink(self.internal_tx.clone())),
                );
                // The client's identity cache holds neither its own user nor its own session
                // (an activity's participants name them): they are sent like any other the
                // first time.
                let presence_state = self
                    .services
                    .presence
                    .join(
                        &domain,
                        &session,
                        UserId::new(user.user_type, user.username.clone()),
                        self.presence_tx.clone(),
                    )
                    .await
                    .unwrap_or_default();
                info!(session = %session, user = %info.user, client = %req.client_version, "connected");
                let body = Body::ConnectionResponse(pc::ConnectionResponseMessage {
                    server,
                    response: Some(Response::Success(
                        pc::connection_response_message::ConnectionSuccessData {
                            namespace: domain.namespace.clone(),
                            domain_id: domain.id.clone(),
                            user: Some(user_data(&user)),
                            session_id: session.clone(),
                            reconnect_token: a.reconnect_token,
                            presence_state: presence::state_to_wire(&presence_state),
                        },
                    )),
                });
                self.reply(request_id, body);
                self.services.bus.publish(EngineEvent::UserConnected {
                    domain: domain.clone(),
                    session: session.clone(),
                    user: info.user.clone(),
                });
                self.auth = Some(Authenticated {
                    domain,
                    session: info,
                    earlier_sessions: a.earlier_sessions,
                });
                self.chat_connected();
            }
            Err(e) => {
                debug!(error = %e, "authentication failed");
                self.fail_connect(request_id, e.wire_code(), &e.to_string(), e.retry_ok());
            }
        }
    }

    pub(super) fn fail_connect(
        &mut self,
        request_id: i32,
        code: &str,
        details: &str,
        retry_ok: bool,
    ) {
        use pc::connection_response_message::{ConnectionFailureData, Response, ServerData};
        self.reply(
            request_id,
            Body::ConnectionResponse(pc::ConnectionResponseMessage {
                server: Some(ServerData {
                    version: self.config.server_version.clone(),
                }),
                response: Some(Response::Failure(ConnectionFailureData {
                    code: code.to_string(),
                    details: details.to_string(),
                    retry_ok,
                })),
            }),
        );
        self.close(close::NORMAL, "authentication failed");
    }
}
