//! `tandem group ...`: a domain's groups and their members.

use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::{json, msg, normal, run, Scope};

#[derive(Subcommand, Debug)]
pub(crate) enum GroupCommand {
    /// Create a group.
    Create(CreateArgs),
    /// Delete a group (its memberships and the permissions granted to it go too).
    Delete(IdArgs),
    /// Make a user a member of a group.
    AddMember(MemberArgs),
    /// Remove a user from a group.
    RemoveMember(MemberArgs),
    /// Print every group with its members as a JSON array.
    List(Scope),
}

#[derive(Args, Debug)]
pub(crate) struct CreateArgs {
    #[command(flatten)]
    scope: Scope,
    /// Group id.
    id: String,
    /// Description.
    #[arg(long, default_value = "")]
    description: String,
}

#[derive(Args, Debug)]
pub(crate) struct IdArgs {
    #[command(flatten)]
    scope: Scope,
    /// Group id.
    id: String,
}

#[derive(Args, Debug)]
pub(crate) struct MemberArgs {
    #[command(flatten)]
    scope: Scope,
    /// Group id.
    id: String,
    /// Username.
    username: String,
}

pub(crate) async fn group(cmd: GroupCommand) -> ExitCode {
    match cmd {
        GroupCommand::Create(a) => {
            run(&a.scope, |d| async move {
                d.create_group(&a.id, &a.description).await.map_err(msg)?;
                Ok(format!("group {} created", a.id))
            })
            .await
        }
        GroupCommand::Delete(a) => {
            run(&a.scope, |d| async move {
                d.delete_group(&a.id).await.map_err(msg)?;
                Ok(format!("group {} deleted", a.id))
            })
            .await
        }
        GroupCommand::AddMember(a) => {
            run(&a.scope, |d| async move {
                d.add_group_member(&a.id, &normal(&a.username))
                    .await
                    .map_err(msg)?;
                Ok(format!("{} added to group {}", a.username, a.id))
            })
            .await
        }
        GroupCommand::RemoveMember(a) => {
            run(&a.scope, |d| async move {
                d.remove_group_member(&a.id, &normal(&a.username))
                    .await
                    .map_err(msg)?;
                Ok(format!("{} removed from group {}", a.username, a.id))
            })
            .await
        }
        GroupCommand::List(scope) => {
            run(&scope, |d| async move { json(&d.groups().map_err(msg)?) }).await
        }
    }
}
