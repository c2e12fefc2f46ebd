//! A plain protocol client over a WebSocket, shared by the wire-level suites: it logs in
//! anonymously and sends and receives decoded messages; answering pings is the caller's choice.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tandem::protocol::codec::{self, decode, encode};
use tandem::protocol::wire::proto::core as pc;
use tandem::protocol::wire::proto::model as pm;
use tandem::protocol::wire::{Body, ConvergenceMessage};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The client's socket.
pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A logged-in raw protocol connection.
pub struct RawSocket {
    /// The socket, for reads the helpers below do not cover.
    pub ws: Ws,
    next_request: i32,
}

impl RawSocket {
    /// Connects to `/realtime/{domain}` (e.g. `"hostile/d"`) and logs in anonymously as
    /// `name`, answering pings until the login reply; panics when refused.
    pub async fn connect(addr: SocketAddr, domain: &str, client: &str, name: &str) -> RawSocket {
        let url = format!("ws://{addr}/realtime/{domain}");
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("connect");
        let mut c = RawSocket {
            ws,
            next_request: 0,
        };
        let id = c
            .request(Body::ConnectionRequest(pc::ConnectionRequestMessage {
                client: client.into(),
                client_version: "1".into(),
                auth: Some(pc::connection_request_message::Auth::Anonymous(
                    pc::connection_request_message::AnonymousAuthRequestData {
                        display_name: Some(name.into()),
                    },
                )),
            }))
            .await;
        loop {
            let msg = c
                .frame(Duration::from_secs(20))
                .await
                .expect("socket")
                .expect("login reply");
            if let Some(Body::Ping(_)) = msg.body {
                c.send(&codec::normal(Body::Pong(pc::PongMessage {}))).await;
                continue;
            }
            if msg.response_id == Some(id) {
                match msg.body {
                    Some(Body::ConnectionResponse(r)) => match r.response {
                        Some(pc::connection_response_message::Response::Success(_)) => return c,
                        other => panic!("login refused: {other:?}"),
                    },
                    other => panic!("unexpected login reply {other:?}"),
                }
            }
        }
    }

    /// Sends a message.
    pub async fn send(&mut self, msg: &ConvergenceMessage) {
        self.ws
            .send(Message::binary(encode(msg)))
            .await
            .expect("send");
    }

    /// Sends a request; returns its id.
    pub async fn request(&mut self, body: Body) -> i32 {
        let id = self.next_request;
        self.next_request += 1;
        self.send(&codec::request(id, body)).await;
        id
    }

    /// Sends an open request for `model`; returns its id.
    #[allow(dead_code)] // not every suite opens a model
    pub async fn open_request(&mut self, model: &str) -> i32 {
        self.request(Body::OpenRealTimeModelRequest(
            pm::OpenRealtimeModelRequestMessage {
                model_id: Some(model.into()),
                auto_create_id: None,
            },
        ))
        .await
    }

    /// The next protocol message within `wait`, pings included: `Ok(None)` when nothing came,
    /// an error naming why the socket ended.
    pub async fn frame(&mut self, wait: Duration) -> Result<Option<ConvergenceMessage>, String> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let Ok(next) = tokio::time::timeout_at(deadline, self.ws.next()).await else {
                return Ok(None);
            };
            match next {
                Some(Ok(Message::Binary(b))) => {
                    return decode(&b)
                        .map(Some)
                        .map_err(|e| format!("undecodable frame: {e}"))
                }
                Some(Ok(Message::Close(f))) => return Err(format!("closed by the server: {f:?}")),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(format!("socket error: {e}")),
                None => return Err("socket ended".into()),
            }
        }
    }
}
