//! The admin subcommands that work on a data directory: users, groups, collections,
//! permissions and domain settings. Each opens the engine on the directory, makes one facade
//! call (or a few), shuts the engine down and prints the answer: a line for a change, one line
//! of JSON for a query. A failure prints its message on stderr and exits with 1.
//!
//! Arguments are parsed and checked before the engine is opened, so a malformed one changes
//! nothing. Users named on the command line are normal users.

pub(crate) mod collections;
pub(crate) mod domain;
pub(crate) mod groups;
pub(crate) mod model;
pub(crate) mod operators;
pub(crate) mod permissions;
pub(crate) mod users;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;
use tandem::api::{Domain, Engine, EngineConfig, Target, UserId};

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

/// The permissions of a model entry.
pub(crate) const MODEL_PERMS: [&str; 4] = ["read", "write", "remove", "manage"];
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

/// Parses `NAME=PERMS` (the last `=` separates them, as no permission holds one).
pub(crate) fn parse_grant(text: &str, allowed: &[&str]) -> CmdResult<(String, Vec<String>)> {
    match text.rsplit_once('=') {
        Some((name, perms)) if !name.is_empty() => {
            Ok((name.to_string(), parse_perms(perms, allowed)?))
        }
        _ => Err(format!("expected NAME=PERMS, got {text:?}")),
    }
}

/// Parses TARGET: `global`, `chat:<id>` or `activity:<type>:<id>`.
pub(crate) fn parse_target(text: &str) -> CmdResult<Target> {
    let bad = || format!("bad target {text:?}: expected global, chat:<id> or activity:<type>:<id>");
    if text == "global" {
        return Ok(Target::Global);
    }
    if let Some(id) = text.strip_prefix("chat:") {
        if id.is_empty() {
            return Err(bad());
        }
        return Ok(Target::Chat { id: id.to_string() });
    }
    if let Some(rest) = text.strip_prefix("activity:") {
        return match rest.split_once(':') {
            Some((kind, id)) if !kind.is_empty() && !id.is_empty() => Ok(Target::Activity {
                activity_type: kind.to_string(),
                id: id.to_string(),
            }),
            _ => Err(bad()),
        };
    }
    Err(bad())
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
        let p = parse_perms("read, write,read", &MODEL_PERMS).unwrap();
        assert_eq!(p, ["read", "write"]);
        assert!(parse_perms("none", &MODEL_PERMS).unwrap().is_empty());
        assert!(parse_perms("", &MODEL_PERMS).is_err());
        assert!(parse_perms("read,,write", &MODEL_PERMS).is_err());
        let e = parse_perms("read,fly", &MODEL_PERMS).unwrap_err();
        assert!(e.contains("unknown permission \"fly\""), "{e}");
        assert!(parse_perms("create", &MODEL_PERMS).is_err());
        assert!(parse_perms("create", &COLLECTION_PERMS).is_ok());
    }

    #[test]
    fn grants_split_at_the_last_equals_sign() {
        let (name, perms) = parse_grant("a=b=read", &MODEL_PERMS).unwrap();
        assert_eq!((name.as_str(), perms), ("a=b", vec!["read".to_string()]));
        assert!(parse_grant("bob", &MODEL_PERMS).is_err());
        assert!(parse_grant("=read", &MODEL_PERMS).is_err());
    }

    #[test]
    fn targets_parse() {
        assert_eq!(parse_target("global").unwrap(), Target::Global);
        assert_eq!(
            parse_target("chat:room").unwrap(),
            Target::Chat { id: "room".into() }
        );
        assert_eq!(
            parse_target("activity:doc:a:b").unwrap(),
            Target::Activity {
                activity_type: "doc".into(),
                id: "a:b".into()
            }
        );
        for bad in [
            "",
            "chat:",
            "activity:doc",
            "activity::x",
            "model:x",
            "Global",
        ] {
            assert!(parse_target(bad).is_err(), "{bad}");
        }
    }
}
