//! An application server that embeds Tandem through `tandem::api` alone: it opens an engine,
//! creates a domain and a model, serves the Convergence protocol, writes to the model as the
//! host, follows the model's events, and checks its own listener with one HTTP request.
//!
//! Run: `cargo run -p rust-host [data-dir]` (in memory without one); `--serve` keeps serving
//! until Ctrl-C instead of exiting after the check.

use std::net::SocketAddr;

use serde_json::json;
use tandem::api::{
    path, Change, DomainSettings, Engine, EngineConfig, Error, ErrorCode, Event, NetConfig,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let serve = args.iter().any(|a| a == "--serve");
    let config = match args.iter().find(|a| !a.starts_with("--")) {
        Some(dir) => EngineConfig::with_data_dir(dir),
        None => EngineConfig::default(),
    };
    let engine = Engine::open(config)?;
    let settings = DomainSettings {
        anonymous_auth: true,
        ..DomainSettings::default()
    };
    let domain = match engine.create_domain_with("acme", "docs", settings).await {
        Ok(d) => d,
        Err(e) if e.code == ErrorCode::AlreadyExists => engine.domain("acme", "docs")?,
        Err(e) => return Err(e),
    };
    let model = match domain.model("welcome") {
        Ok(m) => m,
        Err(_) => {
            let data = json!({"text": "Hello"});
            domain.create_model("notes", Some("welcome"), &data).await?
        }
    };
    let events = model.subscribe();
    let listener = engine
        .serve(SocketAddr::from(([127, 0, 0, 1], 0)), NetConfig::default())
        .await?;
    let addr = listener.local_addr();
    println!("clients connect to ws://{addr}/realtime/acme/docs");

    // The host edits like any client: open sessions receive it as a remote operation.
    let end = model.json().await?["text"]
        .as_str()
        .map_or(0, |t| t.encode_utf16().count()) as i64;
    let version = model
        .apply(vec![Change::Splice {
            path: path(&["text"]),
            index: end,
            delete: 0,
            insert: ", world".into(),
        }])
        .await?;
    if let Some(Event::OperationApplied {
        version: v, user, ..
    }) = events.next().await
    {
        println!("event: version {v} by {user}");
        assert_eq!(v, version);
    }

    let health = get(addr, "/health").await?;
    println!("GET /health -> {health}");
    if !health.contains("\"ok\"") {
        return Err(Error::new(
            ErrorCode::Unavailable,
            "the listener is not healthy",
        ));
    }
    println!("model: {}", model.json_text().await?);

    if serve {
        let _ = tokio::signal::ctrl_c().await;
    }
    listener.stop().await;
    engine.shutdown().await;
    Ok(())
}

/// One HTTP/1.0 GET; returns the body.
async fn get(addr: SocketAddr, route: &str) -> Result<String, Error> {
    let io = |e: std::io::Error| Error::new(ErrorCode::Unavailable, e.to_string());
    let mut s = tokio::net::TcpStream::connect(addr).await.map_err(io)?;
    let request = format!("GET {route} HTTP/1.0\r\nHost: {addr}\r\n\r\n");
    s.write_all(request.as_bytes()).await.map_err(io)?;
    let mut response = String::new();
    s.read_to_string(&mut response).await.map_err(io)?;
    Ok(response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default())
}
