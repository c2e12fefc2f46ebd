//! An engine as a foreign host holds it (C, Python, Node, Kotlin/Swift): on a runtime of its
//! own, with at most one listener, released on shutdown.

use std::net::SocketAddr;
use std::sync::Mutex;

use super::{Engine, EngineConfig, Error, ErrorCode, Listener, NetConfig, Result};

/// An engine and its listener, for hosts that call in from threads of their own. Blocking
/// calls go through [`Engine::block`], async ones through [`Engine::spawn`].
pub struct HostedEngine {
    /// `None` after shutdown: the engine (and its data directory) is released.
    engine: Mutex<Option<Engine>>,
    listener: Mutex<Option<Listener>>,
}

impl HostedEngine {
    /// Opens an engine on a runtime of its own (see [`Engine::open_owned`]).
    pub fn open(config: EngineConfig) -> Result<Self> {
        Ok(HostedEngine {
            engine: Mutex::new(Some(Engine::open_owned(config)?)),
            listener: Mutex::new(None),
        })
    }

    /// The engine; `Unavailable` after [`HostedEngine::shutdown`].
    pub fn engine(&self) -> Result<Engine> {
        self.engine
            .lock()
            .ok()
            .and_then(|e| e.clone())
            .ok_or_else(|| Error::new(ErrorCode::Unavailable, "the engine is shut down"))
    }

    /// Starts the WebSocket/HTTP listener on `address` ("127.0.0.1:0" picks a free port);
    /// returns the bound address. `AlreadyExists` while a listener runs.
    pub fn listen(&self, address: &str, config: NetConfig) -> Result<SocketAddr> {
        let addr: SocketAddr = address.parse().map_err(|_| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!("bad address {address:?}"),
            )
        })?;
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
        let listener = engine.block(engine.serve(addr, config))?;
        let bound = listener.local_addr();
        *slot = Some(listener);
        Ok(bound)
    }

    /// Stops the listener (sockets close with 1001 "going away"); false if none was running.
    pub fn stop_listening(&self) -> Result<bool> {
        let engine = self.engine()?;
        let listener = self.listener.lock().ok().and_then(|mut l| l.take());
        match listener {
            Some(l) => engine.block(async {
                l.stop().await;
                Ok(true)
            }),
            None => Ok(false),
        }
    }

    /// Stops listening, closes sessions, flushes, and releases the engine (and its data
    /// directory). Idempotent. Pending receivers of subscriptions get their end.
    pub fn shutdown(&self) -> Result<()> {
        let listener = self.listener.lock().ok().and_then(|mut l| l.take());
        let engine = self.engine.lock().ok().and_then(|mut e| e.take());
        match engine {
            Some(engine) => engine.block(async {
                if let Some(l) = listener {
                    l.stop().await;
                }
                engine.shutdown().await;
                Ok(())
            }),
            None => Ok(()),
        }
    }
}
