//! `tandem admin ...` (the server's administrators, who log in to the REST API and the admin
//! console) and `tandem api-key ...` (keys that reach one domain's REST routes).

use std::future::Future;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde::Serialize;
use tandem::api::Engine;

use super::{fail, json, msg, open, run, CmdResult, DataArgs, Scope};

#[derive(Subcommand, Debug)]
pub(crate) enum AdminCommand {
    /// Add a server administrator.
    Add(AdminPasswordArgs),
    /// Set an administrator's password (its earlier logins end).
    Passwd(AdminPasswordArgs),
    /// List the administrators as JSON.
    List(DataArgs),
    /// Remove an administrator (its logins end).
    Remove(AdminNameArgs),
}

#[derive(Args, Debug)]
pub(crate) struct AdminPasswordArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Login name.
    username: String,
    /// Password (read from TANDEM_PASSWORD when not given).
    #[arg(long, env = "TANDEM_PASSWORD")]
    password: String,
}

#[derive(Args, Debug)]
pub(crate) struct AdminNameArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Login name.
    username: String,
}

#[derive(Subcommand, Debug)]
pub(crate) enum ApiKeyCommand {
    /// Create an API key for a domain and print its token (shown this once).
    Create(CreateKeyArgs),
    /// List a domain's API keys as JSON (never their secrets).
    List(Scope),
    /// Revoke one of a domain's API keys.
    Revoke(RevokeKeyArgs),
}

#[derive(Args, Debug)]
pub(crate) struct CreateKeyArgs {
    #[command(flatten)]
    scope: Scope,
    /// What the key is for.
    #[arg(long, default_value = "")]
    name: String,
    /// The key may read but change nothing.
    #[arg(long)]
    read_only: bool,
}

#[derive(Args, Debug)]
pub(crate) struct RevokeKeyArgs {
    #[command(flatten)]
    scope: Scope,
    /// The key's id (as `list` prints it).
    id: String,
}

#[derive(Serialize)]
struct AdminJson {
    username: String,
    created_ms: i64,
    updated_ms: i64,
}

#[derive(Serialize)]
struct KeyJson {
    id: String,
    name: String,
    read_only: bool,
    created_ms: i64,
}

/// Runs `f` on an engine over the data directory and prints what it returns; the engine is
/// shut down first, so a printed answer is durable.
async fn run_engine<F, Fut>(data: &DataArgs, f: F) -> ExitCode
where
    F: FnOnce(Engine) -> Fut,
    Fut: Future<Output = CmdResult<String>>,
{
    let engine = match open(&data.data_dir) {
        Ok(e) => e,
        Err(e) => return fail(e),
    };
    let result = f(engine.clone()).await;
    engine.shutdown().await;
    match result {
        Ok(out) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

pub(crate) async fn admin(cmd: AdminCommand) -> ExitCode {
    match cmd {
        AdminCommand::Add(a) => {
            run_engine(&a.data, |e| async move {
                e.add_admin(&a.username, &a.password).await.map_err(msg)?;
                Ok(format!("administrator {} added", a.username))
            })
            .await
        }
        AdminCommand::Passwd(a) => {
            run_engine(&a.data, |e| async move {
                e.set_admin_password(&a.username, &a.password)
                    .await
                    .map_err(msg)?;
                Ok(format!("password of administrator {} set", a.username))
            })
            .await
        }
        AdminCommand::List(data) => {
            run_engine(&data, |e| async move {
                let admins: Vec<AdminJson> = e
                    .admins()
                    .map_err(msg)?
                    .into_iter()
                    .map(|a| AdminJson {
                        username: a.username,
                        created_ms: a.created_ms,
                        updated_ms: a.updated_ms,
                    })
                    .collect();
                json(&admins)
            })
            .await
        }
        AdminCommand::Remove(a) => {
            run_engine(&a.data, |e| async move {
                e.remove_admin(&a.username).await.map_err(msg)?;
                Ok(format!("administrator {} removed", a.username))
            })
            .await
        }
    }
}

pub(crate) async fn api_key(cmd: ApiKeyCommand) -> ExitCode {
    match cmd {
        ApiKeyCommand::Create(a) => {
            run(&a.scope, |d| async move {
                let key = d.create_api_key(&a.name, a.read_only).await.map_err(msg)?;
                Ok(key.token)
            })
            .await
        }
        ApiKeyCommand::List(scope) => {
            run(&scope, |d| async move {
                let keys: Vec<KeyJson> = d
                    .api_keys()
                    .map_err(msg)?
                    .into_iter()
                    .map(|k| KeyJson {
                        id: k.id,
                        name: k.name,
                        read_only: k.read_only,
                        created_ms: k.created_ms,
                    })
                    .collect();
                json(&keys)
            })
            .await
        }
        ApiKeyCommand::Revoke(a) => {
            run(&a.scope, |d| async move {
                d.revoke_api_key(&a.id).await.map_err(msg)?;
                Ok(format!("API key {} revoked", a.id))
            })
            .await
        }
    }
}
