//! `tandem permissions ...`: a model's permissions, and the generic permission rows of the
//! domain (`global`), a chat (`chat:<id>`) or an activity (`activity:<type>:<id>`).

use std::process::ExitCode;

use clap::{ArgAction, Args, Subcommand};
use tandem::api::{ModelPermissionsChange, ModelRights, PermissionChange, TargetPermissions};

use super::{
    fail, json, msg, normal, parse_grant, parse_perms, parse_target, run, CmdResult, Scope,
    MODEL_PERMS,
};

#[derive(Subcommand, Debug)]
pub(crate) enum PermissionsCommand {
    /// Print a model's stored permissions as JSON.
    Model(ModelArgs),
    /// Change a model's permissions (parts not named stay as they are).
    SetModel(SetModelArgs),
    /// Print a target's permission rows as JSON.
    Get(TargetArgs),
    /// Add permissions to a target's rows.
    Add(ChangeArgs),
    /// Remove permissions from a target's rows.
    Remove(ChangeArgs),
    /// Print the permissions a user holds on a target as a JSON array.
    Resolve(ResolveArgs),
}

#[derive(Args, Debug)]
pub(crate) struct ModelArgs {
    #[command(flatten)]
    scope: Scope,
    /// Model id.
    model_id: String,
}

#[derive(Args, Debug)]
pub(crate) struct SetModelArgs {
    #[command(flatten)]
    scope: Scope,
    /// Model id.
    model_id: String,
    /// Whether the model's world permissions override its collection's.
    #[arg(long = "override", action = ArgAction::Set, value_name = "true|false")]
    override_world: Option<bool>,
    /// The model's world permissions: comma list of read, write, remove, manage; or none.
    #[arg(long, value_name = "PERMS")]
    world: Option<String>,
    /// Set a user's entry (repeatable).
    #[arg(long = "user", value_name = "NAME=PERMS")]
    users: Vec<String>,
    /// Remove a user's entry (repeatable).
    #[arg(long = "remove-user", value_name = "NAME")]
    remove_users: Vec<String>,
    /// Remove every user entry before setting the `--user` ones.
    #[arg(long)]
    replace_users: bool,
}

#[derive(Args, Debug)]
pub(crate) struct TargetArgs {
    #[command(flatten)]
    scope: Scope,
    /// global, chat:<id> or activity:<type>:<id>.
    target: String,
}

#[derive(Args, Debug)]
pub(crate) struct ChangeArgs {
    #[command(flatten)]
    scope: Scope,
    /// global, chat:<id> or activity:<type>:<id>.
    target: String,
    /// Permissions of everyone.
    #[arg(long, value_name = "PERMS")]
    world: Option<String>,
    /// Permissions of a user (repeatable).
    #[arg(long = "user", value_name = "NAME=PERMS")]
    users: Vec<String>,
    /// Permissions of a group (repeatable).
    #[arg(long = "group", value_name = "ID=PERMS")]
    groups: Vec<String>,
}

#[derive(Args, Debug)]
pub(crate) struct ResolveArgs {
    #[command(flatten)]
    scope: Scope,
    /// global, chat:<id> or activity:<type>:<id>.
    target: String,
    /// Username.
    username: String,
}

pub(crate) async fn permissions(cmd: PermissionsCommand) -> ExitCode {
    match cmd {
        PermissionsCommand::Model(a) => {
            run(&a.scope, |d| async move {
                let model = d.model(&a.model_id).map_err(msg)?;
                json(&model.permissions().map_err(msg)?)
            })
            .await
        }
        PermissionsCommand::SetModel(a) => set_model(a).await,
        PermissionsCommand::Get(a) => {
            let target = match parse_target(&a.target) {
                Ok(t) => t,
                Err(e) => return fail(e),
            };
            run(&a.scope, |d| async move {
                json(&d.permissions(&target).map_err(msg)?)
            })
            .await
        }
        PermissionsCommand::Add(a) => change(a, false).await,
        PermissionsCommand::Remove(a) => change(a, true).await,
        PermissionsCommand::Resolve(a) => resolve(a).await,
    }
}

fn model_rights(text: &str) -> CmdResult<ModelRights> {
    Ok(ModelRights::from_strings(&parse_perms(text, &MODEL_PERMS)?))
}

fn model_change(a: &SetModelArgs) -> CmdResult<ModelPermissionsChange> {
    let world = a.world.as_deref().map(model_rights).transpose()?;
    let mut set_users = Vec::new();
    for u in &a.users {
        let (name, perms) = parse_grant(u, &MODEL_PERMS)?;
        set_users.push((normal(&name), ModelRights::from_strings(&perms)));
    }
    Ok(ModelPermissionsChange {
        override_world: a.override_world,
        world,
        replace_users: a.replace_users,
        set_users,
        remove_users: a.remove_users.iter().map(|n| normal(n)).collect(),
    })
}

async fn set_model(a: SetModelArgs) -> ExitCode {
    let change = match model_change(&a) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    run(&a.scope, |d| async move {
        let model = d.model(&a.model_id).map_err(msg)?;
        model.set_permissions(change).await.map_err(msg)?;
        Ok(format!("permissions of model {} changed", a.model_id))
    })
    .await
}

/// The rows named by `--world`, `--user` and `--group`, checked against the target's
/// permission names.
fn target_rows(a: &ChangeArgs, allowed: &[&str]) -> CmdResult<TargetPermissions> {
    let world = match &a.world {
        Some(w) => parse_perms(w, allowed)?,
        None => Vec::new(),
    };
    let mut users = Vec::new();
    for u in &a.users {
        let (name, perms) = parse_grant(u, allowed)?;
        users.push((normal(&name), perms));
    }
    let groups = a
        .groups
        .iter()
        .map(|g| parse_grant(g, allowed))
        .collect::<CmdResult<Vec<_>>>()?;
    Ok(TargetPermissions {
        world,
        users,
        groups,
    })
}

async fn change(a: ChangeArgs, remove: bool) -> ExitCode {
    let parsed = parse_target(&a.target).and_then(|t| {
        let rows = target_rows(&a, &t.allowed())?;
        Ok((t, rows))
    });
    let (target, rows) = match parsed {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let change = if remove {
        PermissionChange::Remove(rows)
    } else {
        PermissionChange::Add(rows)
    };
    run(&a.scope, |d| async move {
        d.change_permissions(&target, &change).await.map_err(msg)?;
        let done = if remove { "removed from" } else { "added to" };
        Ok(format!("permissions {done} {}", a.target))
    })
    .await
}

async fn resolve(a: ResolveArgs) -> ExitCode {
    let target = match parse_target(&a.target) {
        Ok(t) => t,
        Err(e) => return fail(e),
    };
    run(&a.scope, |d| async move {
        // Resolution itself does not ask whether the user exists.
        d.user(&a.username).map_err(msg)?;
        let user = normal(&a.username);
        json(&d.resolve_permissions(&target, &user).map_err(msg)?)
    })
    .await
}
