//! An engine as a foreign host holds it (C, Python, Kotlin/Swift): one listener at most,
//! released on shutdown, every call blocking.

use std::net::SocketAddr;
use std::sync::Mutex;

use super::{Engine, Error, ErrorCode, Result};
use crate::net::{Listener, NetConfig};

/// An engine and its listener, for hosts that call in from threads of their own (never from
/// inside an async runtime).
pub struct HostedEngine {
    /// `None` after shutdown: the engine (and its data directory) is released.
    engine: Mutex<Option<Engine>>,
    listener: Mutex<Option<Listener>>,
}

impl HostedEngine {
    /// Holds `engine`, not listening yet.
    pub fn new(engine: Engine) -> Self {
        HostedEngine {
            engine: Mutex::new(Some(engine)),
            listener: Mutex::new(None),
        }
    }

    /// The engine; `Unavailable` after [`HostedEngine::shutdown`].
    pub fn engine(&self) -> Result<Engine> {
        self.engine
            .lock()
            .ok()
            .and_then(|e| e.clone())
            .ok_or_else(|| Error::new(ErrorCode::Unavailable, "the engine is shut down"))
    }

    /// Starts the WebSocket/HTTP listener on `address` ("127.0.0.1:0" picks a free port) with
    /// a [`NetConfig`] given as JSON (defaults when `None`); returns the bound address.
    /// `AlreadyExists` while a listener runs.
    pub fn listen(&self, address: &str, net_config_json: Option<&str>) -> Result<SocketAddr> {
        let addr: SocketAddr = address.parse().map_err(|_| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!("bad address {address:?}"),
            )
        })?;
        let config = match net_config_json {
            Some(t) => serde_json::from_str::<NetConfig>(t)
                .map_err(|e| Error::new(ErrorCode::Config, format!("invalid net config: {e}")))?,
            None => NetConfig::default(),
        };
        let mut slot = self
            .listener
            .lock()
            .map_err(|_| Error::new(ErrorCode::Internal, "listener lock poisoned"))?;
        if slot.is_some() {
            return Err(Error::new(
                ErrorCode::AlreadyExists,
                "the engine is already listening",
            ));
        }
        let engine = self.engine()?;
        let listener = engine.block_on(engine.serve(addr, config))?;
        let bound = listener.local_addr();
        *slot = Some(listener);
        Ok(bound)
    }

    /// Stops the listener (sockets close with 1001 "going away"); false if none was running.
    pub fn stop_listening(&self) -> Result<bool> {
        let engine = self.engine()?;
        let listener = self.listener.lock().ok().and_then(|mut l| l.take());
        Ok(match listener {
            Some(l) => {
                engine.block_on(l.stop());
                true
            }
            None => false,
        })
    }

    /// Stops listening, closes sessions, flushes, and releases the engine (and its data
    /// directory). Idempotent.
    pub fn shutdown(&self) {
        let listener = self.listener.lock().ok().and_then(|mut l| l.take());
        let engine = self.engine.lock().ok().and_then(|mut e| e.take());
        if let Some(engine) = engine {
            engine.block_on(async {
                if let Some(l) = listener {
                    l.stop().await;
                }
                engine.shutdown().await;
            });
        }
    }
}
