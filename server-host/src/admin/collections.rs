//! `tandem collection ...`: a domain's collections and their permissions.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use tandem::api::CollectionRights;

use super::{json, msg, normal, parse_perms, run, CmdResult, Scope, COLLECTION_PERMS};

#[derive(Subcommand, Debug)]
pub(crate) enum CollectionCommand {
    /// Create a collection (nothing happens if it exists).
    Create(IdArgs),
    /// Delete a collection and its models.
    Delete(IdArgs),
    /// Print the ids of the domain's collections as a JSON array.
    List(Scope),
    /// Print a collection's world and per-user permissions as JSON.
    Permissions(IdArgs),
    /// Replace what everyone may do with a collection's models.
    SetWorld(WorldArgs),
    /// Set a user's entry on a collection, or remove it with `remove`.
    SetUser(UserArgs),
}

#[derive(Args, Debug)]
pub(crate) struct IdArgs {
    #[command(flatten)]
    scope: Scope,
    /// Collection id.
    id: String,
}

#[derive(Args, Debug)]
pub(crate) struct WorldArgs {
    #[command(flatten)]
    scope: Scope,
    /// Collection id.
    id: String,
    /// Comma list of create, read, write, remove, manage; or none.
    perms: String,
}

#[derive(Args, Debug)]
pub(crate) struct UserArgs {
    #[command(flatten)]
    scope: Scope,
    /// Collection id.
    id: String,
    /// Username.
    username: String,
    /// Comma list of create, read, write, remove, manage; none (an entry that denies); or
    /// remove (the word alone) to delete the entry.
    perms: String,
}

/// PERMS as collection rights.
fn rights(text: &str) -> CmdResult<CollectionRights> {
    Ok(CollectionRights::from_strings(&parse_perms(
        text,
        &COLLECTION_PERMS,
    )?))
}

pub(crate) async fn collection(cmd: CollectionCommand) -> ExitCode {
    match cmd {
        CollectionCommand::Create(a) => {
            run(&a.scope, |d| async move {
                d.create_collection(&a.id).await.map_err(msg)?;
                Ok(format!("collection {} created", a.id))
            })
            .await
        }
        CollectionCommand::Delete(a) => {
            run(&a.scope, |d| async move {
                d.delete_collection(&a.id).await.map_err(msg)?;
                Ok(format!("collection {} deleted", a.id))
            })
            .await
        }
        CollectionCommand::List(scope) => {
            run(
                &scope,
                |d| async move { json(&d.collections().map_err(msg)?) },
            )
            .await
        }
        CollectionCommand::Permissions(a) => {
            run(&a.scope, |d| async move {
                json(&d.collection_permissions(&a.id).map_err(msg)?)
            })
            .await
        }
        CollectionCommand::SetWorld(a) => set_world(a).await,
        CollectionCommand::SetUser(a) => set_user(a).await,
    }
}

async fn set_world(a: WorldArgs) -> ExitCode {
    let world = match rights(&a.perms) {
        Ok(r) => r,
        Err(e) => return super::fail(e),
    };
    run(&a.scope, |d| async move {
        d.set_collection_world(&a.id, world).await.map_err(msg)?;
        Ok(format!("world permissions of collection {} set", a.id))
    })
    .await
}

async fn set_user(a: UserArgs) -> ExitCode {
    let entry = if a.perms.trim() == "remove" {
        None
    } else {
        match rights(&a.perms) {
            Ok(r) => Some(r),
            Err(e) => return super::fail(e),
        }
    };
    run(&a.scope, |d| async move {
        d.set_collection_user(&a.id, &normal(&a.username), entry)
            .await
            .map_err(msg)?;
        let done = if entry.is_some() { "set" } else { "removed" };
        Ok(format!(
            "entry of {} on collection {} {done}",
            a.username, a.id
        ))
    })
    .await
}
