//! `tandem user ...`: a domain's normal users.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use tandem::api::{NewUser, UserProfile};

use super::{json, msg, normal, run, Scope};

#[derive(Subcommand, Debug)]
pub(crate) enum UserCommand {
    /// Add a user with a password.
    Add(PasswordArgs),
    /// Set a user's password.
    Passwd(PasswordArgs),
    /// List a domain's users (username and display name, tab-separated).
    List(Scope),
    /// Change a user's profile (only the fields given).
    Update(UpdateArgs),
    /// Disable a user: it can no longer log in.
    Disable(NameArgs),
    /// Enable a disabled user again.
    Enable(NameArgs),
    /// Delete a user (its permission entries and memberships go too).
    Delete(NameArgs),
    /// Print the ids of a user's groups as a JSON array.
    Groups(NameArgs),
}

#[derive(Args, Debug)]
pub(crate) struct PasswordArgs {
    #[command(flatten)]
    scope: Scope,
    /// Username.
    username: String,
    /// Password (read from TANDEM_PASSWORD when not given).
    #[arg(long, env = "TANDEM_PASSWORD")]
    password: String,
    /// Display name.
    #[arg(long, default_value = "")]
    display_name: String,
}

#[derive(Args, Debug)]
pub(crate) struct NameArgs {
    #[command(flatten)]
    scope: Scope,
    /// Username.
    username: String,
}

#[derive(Args, Debug)]
pub(crate) struct UpdateArgs {
    #[command(flatten)]
    scope: Scope,
    /// Username.
    username: String,
    /// New display name.
    #[arg(long)]
    display_name: Option<String>,
    /// New first name.
    #[arg(long)]
    first_name: Option<String>,
    /// New last name.
    #[arg(long)]
    last_name: Option<String>,
    /// New e-mail address.
    #[arg(long)]
    email: Option<String>,
}

pub(crate) async fn user(cmd: UserCommand) -> ExitCode {
    match cmd {
        UserCommand::Add(a) => {
            let new = NewUser {
                username: a.username.clone(),
                display_name: a.display_name,
                password: Some(a.password),
                ..NewUser::default()
            };
            run(&a.scope, |d| async move {
                d.create_user(new).await.map_err(msg)?;
                Ok(format!("user {} added", a.username))
            })
            .await
        }
        UserCommand::Passwd(a) => {
            run(&a.scope, |d| async move {
                d.set_password(&a.username, &a.password)
                    .await
                    .map_err(msg)?;
                Ok(format!("password of {} set", a.username))
            })
            .await
        }
        UserCommand::List(scope) => {
            run(&scope, |d| async move {
                let users = d.users().map_err(msg)?;
                let lines: Vec<String> = users
                    .iter()
                    .map(|u| format!("{}\t{}", u.username, u.display_name))
                    .collect();
                Ok(lines.join("\n"))
            })
            .await
        }
        UserCommand::Update(a) => update(a).await,
        UserCommand::Disable(a) => set_disabled(a, true).await,
        UserCommand::Enable(a) => set_disabled(a, false).await,
        UserCommand::Delete(a) => {
            run(&a.scope, |d| async move {
                d.delete_user(&a.username).await.map_err(msg)?;
                Ok(format!("user {} deleted", a.username))
            })
            .await
        }
        UserCommand::Groups(a) => {
            run(&a.scope, |d| async move {
                json(&d.user_groups(&normal(&a.username)).map_err(msg)?)
            })
            .await
        }
    }
}

async fn update(a: UpdateArgs) -> ExitCode {
    let profile = UserProfile {
        display_name: a.display_name,
        first_name: a.first_name,
        last_name: a.last_name,
        email: a.email,
    };
    run(&a.scope, |d| async move {
        d.update_user(&a.username, profile).await.map_err(msg)?;
        Ok(format!("user {} updated", a.username))
    })
    .await
}

async fn set_disabled(a: NameArgs, disabled: bool) -> ExitCode {
    run(&a.scope, |d| async move {
        d.set_user_disabled(&a.username, disabled)
            .await
            .map_err(msg)?;
        let state = if disabled { "disabled" } else { "enabled" };
        Ok(format!("user {} {state}", a.username))
    })
    .await
}
