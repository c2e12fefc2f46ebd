//! `NativeEngine`: the hosted engine (its own runtime, at most one listener).

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::Value;
use tandem::api::{net_config_from_json, DomainSettings, EngineConfig, HostedEngine};

use crate::{input, js_error, settle, Blocking, NativeDomain, NativeSubscription};

/// An engine on a runtime of its own.
#[napi]
pub struct NativeEngine {
    hosted: Arc<HostedEngine>,
}

impl NativeEngine {
    pub(crate) fn engine(&self) -> tandem::api::Result<tandem::api::Engine> {
        self.hosted.engine()
    }
}

#[napi]
impl NativeEngine {
    /// Opens an engine: in memory, or on `config.data_dir` (see `EngineConfig`).
    #[napi(ts_return_type = "Promise<NativeEngine>")]
    pub fn open(config: Option<Value>) -> AsyncTask<Blocking<NativeEngine>> {
        Blocking::new(move || {
            let text = config.map(|c| c.to_string());
            let config = match text {
                Some(t) => EngineConfig::from_json(&t)?,
                None => EngineConfig::default(),
            };
            let hosted = Arc::new(HostedEngine::open(config)?);
            Ok(NativeEngine { hosted })
        })
    }

    /// Creates a domain (settings as `DomainSettings`).
    #[napi(ts_return_type = "Promise<NativeDomain>")]
    pub fn create_domain<'e>(
        &self,
        env: &'e Env,
        namespace: String,
        id: String,
        settings: Option<Value>,
    ) -> Result<PromiseRaw<'e, NativeDomain>> {
        let engine = self.engine();
        settle(env, async move {
            let settings: DomainSettings = input(settings, "domain settings")?;
            let e = engine?;
            let work = e.clone();
            let d = e
                .spawn(async move { work.create_domain_with(&namespace, &id, settings).await })
                .await?;
            Ok(NativeDomain::from(d))
        })
    }

    /// A handle on an existing domain.
    #[napi(ts_return_type = "Promise<NativeDomain>")]
    pub fn domain<'e>(
        &self,
        env: &'e Env,
        namespace: String,
        id: String,
    ) -> Result<PromiseRaw<'e, NativeDomain>> {
        let engine = self.engine();
        settle(env, async move {
            let e = engine?;
            let work = e.clone();
            let d = e.spawn(async move { work.domain(&namespace, &id) }).await?;
            Ok(NativeDomain::from(d))
        })
    }

    /// Every domain as `[namespace, id]`.
    #[napi(ts_return_type = "Promise<Array<[string, string]>>")]
    pub fn domains<'e>(&self, env: &'e Env) -> Result<PromiseRaw<'e, Vec<Vec<String>>>> {
        let engine = self.engine();
        settle(env, async move {
            let e = engine?;
            let work = e.clone();
            let list = e.spawn(async move { work.domains() }).await?;
            Ok(list.into_iter().map(|(n, d)| vec![n, d]).collect())
        })
    }

    /// Deletes a domain with all its collections and models.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn delete_domain<'e>(
        &self,
        env: &'e Env,
        namespace: String,
        id: String,
    ) -> Result<PromiseRaw<'e, ()>> {
        let engine = self.engine();
        settle(env, async move {
            let e = engine?;
            let work = e.clone();
            e.spawn(async move { work.delete_domain(&namespace, &id).await })
                .await
        })
    }

    /// Every event of every domain.
    #[napi]
    pub fn subscribe(&self, env: &Env) -> Result<NativeSubscription> {
        let engine = self.engine().map_err(|e| js_error(env, e))?;
        Ok(NativeSubscription::from(engine.subscribe()))
    }

    /// Starts the WebSocket/HTTP listener (`NetConfig` as an object); resolves to the bound
    /// `host:port`.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn listen(&self, address: String, config: Option<Value>) -> AsyncTask<Blocking<String>> {
        let hosted = self.hosted.clone();
        Blocking::new(move || {
            let config = net_config_from_json(
                &config
                    .unwrap_or_else(|| Value::Object(Default::default()))
                    .to_string(),
            )?;
            Ok(hosted.listen(&address, config)?.to_string())
        })
    }

    /// Stops the listener; resolves to false if none was running.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn stop_listening(&self) -> AsyncTask<Blocking<bool>> {
        let hosted = self.hosted.clone();
        Blocking::new(move || hosted.stop_listening())
    }

    /// Stops listening, closes sessions, flushes and releases the engine. Idempotent.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn shutdown(&self) -> AsyncTask<Blocking<()>> {
        let hosted = self.hosted.clone();
        Blocking::new(move || hosted.shutdown())
    }
}
