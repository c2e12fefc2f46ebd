#![allow(dead_code)] // each test file uses a part of it
//! An HTTP/1.1 client for the REST test files (`mod http;` in each), and a server with an
//! administrator and two domains to call.

use std::net::SocketAddr;

use serde_json::Value;
use tandem::api::{Engine, EngineConfig, NetConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A listener's REST API.
pub struct Api {
    pub addr: SocketAddr,
}

/// An answer: its status, its body as JSON (`Null` when it is not JSON) and as text.
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub text: String,
}

impl Api {
    /// Sends one HTTP/1.1 request and reads the whole answer.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> Answer {
        let mut s = TcpStream::connect(self.addr).await.expect("connect");
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n");
        if let Some(t) = token {
            req.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        if let Some(b) = body {
            req.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                b.len()
            ));
        }
        req.push_str("\r\n");
        req.push_str(body.unwrap_or(""));
        s.write_all(req.as_bytes()).await.expect("write");
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).await.expect("read");
        let raw = String::from_utf8(raw).expect("utf-8 answer");
        let (head, rest) = raw.split_once("\r\n\r\n").expect("a head");
        let status = head[9..12].parse().expect("status");
        let text = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(rest)
        } else {
            rest.to_string()
        };
        let body = tandem::api::parse_json(&text)
            .map(|v| v.to_serde())
            .unwrap_or(Value::Null);
        Answer { status, body, text }
    }

    /// A GET.
    pub async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        self.call("GET", path, token, None).await
    }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
    out
}

/// Asserts a refusal: the status and the JSON error code, with a message.
pub fn refused(a: &Answer, status: u16, code: &str) {
    assert_eq!(a.status, status, "{}", a.text);
    assert_eq!(a.body["error"]["code"], code, "{}", a.text);
    assert!(a.body["error"]["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
}

/// An engine with administrator `root` (`root pw`) and domains `t/a` and `t/b`, serving.
pub async fn setup() -> (Engine, tandem::api::Listener, Api) {
    let engine = Engine::open(EngineConfig::default()).unwrap();
    engine.add_admin("root", "root pw").await.unwrap();
    engine.create_domain("t", "a").await.unwrap();
    engine.create_domain("t", "b").await.unwrap();
    let listener = engine
        .serve("127.0.0.1:0".parse().unwrap(), NetConfig::default())
        .await
        .unwrap();
    let api = Api {
        addr: listener.local_addr(),
    };
    (engine, listener, api)
}

/// Logs `root` in; answers the token.
pub async fn login(api: &Api) -> String {
    let a = api
        .call(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(r#"{"username":"root","password":"root pw"}"#),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert!(a.body["expires_ms"].as_i64().unwrap() > 0);
    a.body["token"].as_str().unwrap().to_string()
}
