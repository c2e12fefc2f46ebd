//! `tandem domain ...`: creating and listing domains, a domain's settings and admin tokens.

use std::process::ExitCode;

use clap::{ArgAction, Args, Subcommand};
use tandem::api::{DomainSettings, DomainState, SnapshotPolicy};

use super::{
    fail, json, msg, open, parse_perms, run, CmdResult, DataArgs, Scope, COLLECTION_PERMS,
};

#[derive(Subcommand, Debug)]
pub(crate) enum DomainCommand {
    /// Create a domain.
    Create {
        #[command(flatten)]
        scope: Scope,
        /// Allow anonymous connections.
        #[arg(long)]
        anonymous: bool,
    },
    /// List domains.
    List {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Print a domain's settings as JSON, after applying any `--set`.
    Config(ConfigArgs),
    /// Print a token that logs a convergence user (every permission) in, signed with the
    /// domain's admin key.
    AdminToken(TokenArgs),
}

#[derive(Args, Debug)]
pub(crate) struct ConfigArgs {
    #[command(flatten)]
    scope: Scope,
    /// Change a setting: display_name, anonymous_auth (true|false), collection_auto_create
    /// (true|false), state (online|maintenance|offline), reconnect_token_minutes (a number
    /// of minutes, at least 1), default_collection_world (PERMS: comma list of create, read,
    /// write, remove, manage; or none), snapshot_policy (JSON of the policy's fields, the
    /// missing ones at their defaults; or none for the engine's rule),
    /// collection_snapshot_policy.COLLECTION (the same, for one collection).
    #[arg(long = "set", value_name = "KEY=VALUE", num_args = 1.., action = ArgAction::Append)]
    set: Vec<String>,
}

#[derive(Args, Debug)]
pub(crate) struct TokenArgs {
    #[command(flatten)]
    scope: Scope,
    /// The convergence user the token logs in.
    #[arg(long, default_value = "admin")]
    username: String,
    /// How long the token is valid, in seconds.
    #[arg(long, default_value_t = 600)]
    ttl_secs: u64,
}

/// One `--set KEY=VALUE`, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Setting {
    DisplayName(String),
    AnonymousAuth(bool),
    CollectionAutoCreate(bool),
    State(DomainState),
    ReconnectTokenMinutes(u32),
    DefaultCollectionWorld(Vec<String>),
    SnapshotPolicy(Option<SnapshotPolicy>),
    CollectionSnapshotPolicy(String, Option<SnapshotPolicy>),
}

const KEYS: &str = "display_name, anonymous_auth, collection_auto_create, state, \
                    reconnect_token_minutes, default_collection_world, snapshot_policy, \
                    collection_snapshot_policy.COLLECTION";

fn parse_policy(key: &str, value: &str) -> CmdResult<Option<SnapshotPolicy>> {
    if value == "none" {
        return Ok(None);
    }
    serde_json::from_str(value).map(Some).map_err(|e| {
        format!(
            "{key} must be none or a JSON object of enabled, trigger_by_version, \
             max_version_interval, limited_by_version, min_version_interval, trigger_by_time, \
             max_time_interval_ms, limited_by_time, min_time_interval_ms: {e}"
        )
    })
}

fn parse_bool(key: &str, value: &str) -> CmdResult<bool> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("{key} must be true or false, not {value:?}")),
    }
}

fn parse_setting(text: &str) -> CmdResult<Setting> {
    let Some((key, value)) = text.split_once('=') else {
        return Err(format!("expected KEY=VALUE, got {text:?} (keys: {KEYS})"));
    };
    Ok(match key {
        "display_name" => Setting::DisplayName(value.to_string()),
        "anonymous_auth" => Setting::AnonymousAuth(parse_bool(key, value)?),
        "collection_auto_create" => Setting::CollectionAutoCreate(parse_bool(key, value)?),
        "state" => Setting::State(match value {
            "online" => DomainState::Online,
            "maintenance" => DomainState::Maintenance,
            "offline" => DomainState::Offline,
            _ => {
                return Err(format!(
                    "state must be online, maintenance or offline, not {value:?}"
                ))
            }
        }),
        "reconnect_token_minutes" => match value.parse::<u32>() {
            Ok(m) if m >= 1 => Setting::ReconnectTokenMinutes(m),
            _ => {
                return Err(format!(
                    "reconnect_token_minutes must be a whole number of minutes, at least 1, \
                     not {value:?}"
                ))
            }
        },
        "default_collection_world" => {
            Setting::DefaultCollectionWorld(parse_perms(value, &COLLECTION_PERMS)?)
        }
        "snapshot_policy" => Setting::SnapshotPolicy(parse_policy(key, value)?),
        _ => match key.strip_prefix("collection_snapshot_policy.") {
            Some(c) if !c.is_empty() => {
                Setting::CollectionSnapshotPolicy(c.to_string(), parse_policy(key, value)?)
            }
            _ => return Err(format!("unknown setting {key:?} (keys: {KEYS})")),
        },
    })
}

fn apply(settings: &mut DomainSettings, setting: Setting) {
    match setting {
        Setting::DisplayName(v) => settings.display_name = v,
        Setting::AnonymousAuth(v) => settings.anonymous_auth = v,
        Setting::CollectionAutoCreate(v) => settings.collection_auto_create = v,
        Setting::State(v) => settings.state = v,
        Setting::ReconnectTokenMinutes(v) => settings.reconnect_token_minutes = v,
        Setting::DefaultCollectionWorld(v) => settings.default_collection_world = v,
        Setting::SnapshotPolicy(v) => settings.snapshot_policy = v,
        Setting::CollectionSnapshotPolicy(c, Some(p)) => {
            settings.collection_snapshot_policies.insert(c, p);
        }
        Setting::CollectionSnapshotPolicy(c, None) => {
            settings.collection_snapshot_policies.remove(&c);
        }
    }
}

pub(crate) async fn domain(cmd: DomainCommand) -> ExitCode {
    match cmd {
        DomainCommand::Create { scope, anonymous } => create(scope, anonymous).await,
        DomainCommand::List { data } => list(data).await,
        DomainCommand::Config(a) => config(a).await,
        DomainCommand::AdminToken(a) => {
            run(&a.scope, |d| async move {
                d.admin_token(&a.username, a.ttl_secs).await.map_err(msg)
            })
            .await
        }
    }
}

async fn create(scope: Scope, anonymous: bool) -> ExitCode {
    let engine = match open(&scope.data.data_dir) {
        Ok(e) => e,
        Err(e) => return fail(e),
    };
    let (namespace, id) = (&scope.domain.namespace, &scope.domain.domain);
    let result = engine
        .create_domain_with(
            namespace,
            id,
            DomainSettings {
                display_name: String::new(),
                anonymous_auth: anonymous,
                collection_auto_create: true,
                ..DomainSettings::default()
            },
        )
        .await;
    engine.shutdown().await;
    match result {
        Ok(_) => {
            println!("domain {namespace}/{id} created");
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

async fn list(data: DataArgs) -> ExitCode {
    let engine = match open(&data.data_dir) {
        Ok(e) => e,
        Err(e) => return fail(e),
    };
    let result = engine.domains();
    engine.shutdown().await;
    match result {
        Ok(list) => {
            for (ns, id) in list {
                println!("{ns}/{id}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

async fn config(a: ConfigArgs) -> ExitCode {
    let settings: CmdResult<Vec<Setting>> = a.set.iter().map(|s| parse_setting(s)).collect();
    let settings = match settings {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    run(&a.scope, |d| async move {
        if !settings.is_empty() {
            let mut current = d.settings().map_err(msg)?;
            for s in settings {
                apply(&mut current, s);
            }
            d.set_settings(current).await.map_err(msg)?;
        }
        json(&d.settings().map_err(msg)?)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse() {
        assert_eq!(
            parse_setting("display_name=A = B").unwrap(),
            Setting::DisplayName("A = B".into())
        );
        assert_eq!(
            parse_setting("state=maintenance").unwrap(),
            Setting::State(DomainState::Maintenance)
        );
        assert_eq!(
            parse_setting("default_collection_world=read,create").unwrap(),
            Setting::DefaultCollectionWorld(vec!["read".into(), "create".into()])
        );
        assert_eq!(
            parse_setting("default_collection_world=none").unwrap(),
            Setting::DefaultCollectionWorld(Vec::new())
        );
        assert_eq!(
            parse_setting(
                r#"snapshot_policy={"max_version_interval": 5, "trigger_by_time": false}"#
            )
            .unwrap(),
            Setting::SnapshotPolicy(Some(SnapshotPolicy {
                max_version_interval: 5,
                trigger_by_time: false,
                ..SnapshotPolicy::default()
            }))
        );
        assert_eq!(
            parse_setting("collection_snapshot_policy.notes=none").unwrap(),
            Setting::CollectionSnapshotPolicy("notes".into(), None)
        );
        for bad in [
            r#"snapshot_policy={"every": 5}"#,
            "snapshot_policy=5",
            "collection_snapshot_policy.={}",
            "state=closed",
            "anonymous_auth=yes",
            "reconnect_token_minutes=0",
            "reconnect_token_minutes=-1",
            "default_collection_world=fly",
            "colour=red",
            "state",
        ] {
            assert!(parse_setting(bad).is_err(), "{bad}");
        }
    }
}
