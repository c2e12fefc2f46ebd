//! The admin subcommands that work on a data directory: users, groups, collections,
//! permissions and domain settings. Each opens the engine on the directory, makes one facade
//! call (or a few), shuts the engine down and prints the answer: a line for a change, one line
//! of JSON for a query. A failure prints its message on stderr and exits with 1.
//!
//! Arguments are parsed and checked before the engine is opened, so a malformed one changes
//! nothing. Users named on the command line are normal users.

pub(crate) mod domain;
pub(crate) mod groups;
pub(crate) mod users;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;
use tandem::api::{Domain, Engine, EngineConfig, UserId};

/// `--data-dir`.
#[derive(Args, Debug, Clone)]
pub(crate) struct DataArgs {
    /// Data directory of the embedded store.
    #[arg(long, env = "TANDEM_DATA_DIR", default_value = "tandem-data")]
    pub data_dir: PathBuf,
}

/// `--namespace` and `--domain`.
#[derive(Args, Debug)]
pub(crate) struct DomainArgs {
    /// Namespace.
    #[arg(long, default_value = "demo")]
    pub namespace: String,
    /// Domain id.
    #[arg(long, default_value = "default")]
    pub domain: String,
}

/// The data directory and domain every domain-level subcommand takes.
#[derive(Args, Debug)]
pub(crate) struct Scope {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub domain: DomainArgs,
}

/// What a command's failure prints (after `tandem: `).
pub(crate) type CmdResult<T> = Result<T, String>;

/// Prints `tandem: msg` on stderr; the exit code of a failed command.
pub(crate) fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("tandem: {msg}");
    ExitCode::FAILURE
}

/// Opens the engine on a data directory.
pub(crate) fn open(dir: &Path) -> CmdResult<Engine> {
    Engine::open(EngineConfig::with_data_dir(dir)).map_err(|e| format!("{}: {e}", dir.display()))
}

/// Runs `f` on the scope's domain and prints what it returns (nothing if it is empty). The
/// engine is shut down before anything is printed, so a printed answer is durable.
pub(crate) async fn run<F, Fut>(scope: &Scope, f: F) -> ExitCode
where
    F: FnOnce(Domain) -> Fut,
    Fut: Future<Output = CmdResult<String>>,
{
    let engine = match open(&scope.data.data_dir) {
        Ok(e) => e,
        Err(e) => return fail(e),
    };
    let result = match engine.domain(&scope.domain.namespace, &scope.domain.domain) {
        Ok(d) => f(d).await,
        Err(e) => Err(e.to_string()),
    };
    engine.shutdown().await;
    match result {
        Ok(out) => {
            if !out.is_empty() {
                println!("{out}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

/// A value as one line of JSON.
pub(crate) fn json<T: Serialize>(value: &T) -> CmdResult<String> {
    serde_json::to_string(value).map_err(|e| format!("cannot write JSON: {e}"))
}

/// Turns a facade error into the message printed.
pub(crate) fn msg(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The permissions of a collection entry.
pub(crate) const COLLECTION_PERMS: [&str; 5] = ["create", "read", "write", "remove", "manage"];

/// Parses PERMS: a comma list of names from `allowed`, or `none` for the empty set. The
/// result is in the order given, without repeats.
pub(crate) fn parse_perms(text: &str, allowed: &[&str]) -> CmdResult<Vec<String>> {
    let expected = || format!("expected a comma list of {} or none", allowed.join(", "));
    let text = text.trim();
    if text == "none" {
        return Ok(Vec::new());
    }
    if text.is_empty() {
        return Err(format!("empty permission list: {}", expected()));
    }
    let mut out: Vec<String> = Vec::new();
    for p in text.split(',').map(str::trim) {
        if p.is_empty() {
            return Err(format!("empty permission name in {text:?}: {}", expected()));
        }
        if !allowed.contains(&p) {
            return Err(format!("unknown permission {p:?}: {}", expected()));
        }
        if !out.iter().any(|q| q == p) {
            out.push(p.to_string());
        }
    }
    Ok(out)
}

/// A normal user named on the command line.
pub(crate) fn normal(username: &str) -> UserId {
    UserId::normal(username)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perms_parse_lists_and_none() {
        let p = parse_perms("read, write,read", &COLLECTION_PERMS).unwrap();
        assert_eq!(p, ["read", "write"]);
        assert!(parse_perms("none", &COLLECTION_PERMS).unwrap().is_empty());
        assert!(parse_perms("", &COLLECTION_PERMS).is_err());
        assert!(parse_perms("read,,write", &COLLECTION_PERMS).is_err());
        let e = parse_perms("read,fly", &COLLECTION_PERMS).unwrap_err();
        assert!(e.contains("unknown permission \"fly\""), "{e}");
        assert!(parse_perms("create", &COLLECTION_PERMS).is_ok());
    }
}
