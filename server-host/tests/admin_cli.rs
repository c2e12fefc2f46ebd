//! The admin subcommands (`tandem user|group|collection|permissions|domain ...`) run as a
//! user runs them: the built binary against a temporary data directory. Each test checks a
//! command's visible effect through another command (or, where no command shows it, through
//! the facade on the same directory), and that bad input exits with 1, says why on stderr and
//! changes nothing.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{json, Value};
use tandem::api::{ChatKind, Domain, Engine, EngineConfig, NewChat};

/// A data directory with one domain, `t/d`.
struct Cli {
    dir: tempfile::TempDir,
}

impl Cli {
    fn new() -> Cli {
        let cli = Cli {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        cli.ok(&["domain", "create"]);
        cli
    }

    /// Runs `tandem ARGS --data-dir DIR --namespace t --domain d`.
    fn run(&self, args: &[&str]) -> Output {
        self.run_in(args, "d")
    }

    fn run_in(&self, args: &[&str], domain: &str) -> Output {
        Command::new(env!("CARGO_BIN_EXE_tandem"))
            .args(args)
            .arg("--data-dir")
            .arg(self.dir.path())
            .args(["--namespace", "t", "--domain", domain])
            .env_remove("TANDEM_DATA_DIR")
            .env_remove("TANDEM_PASSWORD")
            .output()
            .expect("run tandem")
    }

    /// Runs a command that must succeed; its stdout, trimmed.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "tandem {args:?} failed ({}): {stderr}",
            out.status
        );
        stdout
    }

    /// Runs a command whose stdout must be one line of JSON.
    fn json(&self, args: &[&str]) -> Value {
        let out = self.ok(args);
        assert_eq!(out.lines().count(), 1, "tandem {args:?} printed {out:?}");
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("tandem {args:?}: {e}: {out}"))
    }

    /// Runs a command that must fail with exit code 1 and print nothing on stdout; its
    /// stderr.
    fn err(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(
            out.status.code(),
            Some(1),
            "tandem {args:?} should exit 1; stdout {:?}, stderr {stderr:?}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(out.stdout.is_empty(), "tandem {args:?} printed on stdout");
        assert!(!stderr.trim().is_empty(), "tandem {args:?} said nothing");
        stderr
    }

    /// Runs a command that must fail, and checks that its message names `what`.
    fn err_says(&self, args: &[&str], what: &str) {
        let stderr = self.err(args);
        assert!(
            stderr.contains(what),
            "tandem {args:?}: {stderr:?} should mention {what:?}"
        );
    }

    fn add_user(&self, name: &str) {
        self.ok(&["user", "add", name, "--password", "pw"]);
    }

    /// Runs `f` on the domain through the facade (no command runs meanwhile).
    fn facade<T>(&self, f: impl AsyncFnOnce(&Domain) -> T) -> T {
        facade(self.dir.path(), f)
    }
}

fn facade<T>(dir: &Path, f: impl AsyncFnOnce(&Domain) -> T) -> T {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let engine = Engine::open(EngineConfig::with_data_dir(dir)).expect("open");
        let domain = engine.domain("t", "d").expect("domain");
        let out = f(&domain).await;
        engine.shutdown().await;
        out
    })
}

#[test]
fn users_are_updated_disabled_enabled_and_deleted() {
    let cli = Cli::new();
    cli.add_user("bob");
    cli.add_user("carol");
    cli.ok(&[
        "user",
        "update",
        "bob",
        "--display-name",
        "Bob B",
        "--email",
        "b@x.org",
    ]);
    cli.ok(&["user", "update", "bob", "--first-name", "Bob"]);
    assert_eq!(cli.ok(&["user", "list"]), "bob\tBob B\ncarol");
    cli.ok(&["user", "disable", "bob"]);
    let bob = cli.facade(async |d| d.user("bob").expect("bob"));
    assert_eq!(
        (
            bob.first_name.as_str(),
            bob.email.as_str(),
            bob.last_name.as_str()
        ),
        ("Bob", "b@x.org", "")
    );
    assert!(bob.disabled);
    cli.ok(&["user", "enable", "bob"]);
    assert!(!cli.facade(async |d| d.user("bob").expect("bob").disabled));
    cli.ok(&["user", "delete", "carol"]);
    assert_eq!(cli.ok(&["user", "list"]), "bob\tBob B");

    for cmd in ["update", "disable", "enable", "delete", "groups"] {
        cli.err_says(&["user", cmd, "carol"], "not found");
    }
    cli.err(&["user", "passwd", "carol", "--password", "x"]);
    cli.err(&["user", "add", "bob", "--password", "pw"]);
    assert_eq!(cli.ok(&["user", "list"]), "bob\tBob B");
}

#[test]
fn groups_and_memberships() {
    let cli = Cli::new();
    cli.add_user("bob");
    cli.add_user("carol");
    assert_eq!(cli.json(&["group", "list"]), json!([]));
    cli.ok(&["group", "create", "eds", "--description", "Editors"]);
    cli.ok(&["group", "create", "ops"]);
    cli.err(&["group", "create", "eds"]);
    cli.ok(&["group", "add-member", "eds", "bob"]);
    cli.ok(&["group", "add-member", "eds", "carol"]);
    cli.ok(&["group", "add-member", "ops", "bob"]);
    assert_eq!(
        cli.json(&["group", "list"]),
        json!([
            {"id": "eds", "description": "Editors", "members": [
                {"kind": "normal", "name": "bob"}, {"kind": "normal", "name": "carol"}]},
            {"id": "ops", "description": "", "members": [{"kind": "normal", "name": "bob"}]},
        ])
    );
    assert_eq!(cli.json(&["user", "groups", "bob"]), json!(["eds", "ops"]));
    cli.ok(&["group", "remove-member", "eds", "bob"]);
    assert_eq!(cli.json(&["user", "groups", "bob"]), json!(["ops"]));

    cli.err_says(&["group", "add-member", "eds", "zed"], "not found");
    cli.err_says(&["group", "add-member", "nope", "bob"], "not found");
    cli.err_says(&["group", "remove-member", "nope", "bob"], "not found");
    cli.err_says(&["group", "delete", "nope"], "not found");
    assert_eq!(cli.json(&["user", "groups", "carol"]), json!(["eds"]));

    cli.ok(&["group", "delete", "eds"]);
    assert_eq!(cli.json(&["user", "groups", "carol"]), json!([]));
    let ids: Vec<Value> = cli.json(&["group", "list"]).as_array().unwrap().clone();
    assert_eq!(ids.len(), 1);
    assert_eq!(ids[0]["id"], "ops");
}

fn rights(create: bool, read: bool, write: bool, remove: bool, manage: bool) -> Value {
    json!({"create": create, "read": read, "write": write, "remove": remove, "manage": manage})
}

#[test]
fn collections_and_their_permissions() {
    let cli = Cli::new();
    cli.add_user("bob");
    assert_eq!(cli.json(&["collection", "list"]), json!([]));
    cli.ok(&["collection", "create", "notes"]);
    cli.ok(&["collection", "create", "notes"]);
    cli.ok(&["collection", "create", "drafts"]);
    assert_eq!(
        cli.json(&["collection", "list"]),
        json!(["drafts", "notes"])
    );
    let none = rights(false, false, false, false, false);
    // A new collection starts with the domain's default world permissions (all five).
    let all = rights(true, true, true, true, true);
    assert_eq!(
        cli.json(&["collection", "permissions", "notes"]),
        json!({"world": all, "users": []})
    );

    cli.ok(&["collection", "set-world", "notes", "read,write"]);
    cli.ok(&["collection", "set-user", "notes", "bob", "create,manage"]);
    let bob = json!({"kind": "normal", "name": "bob"});
    let expected = json!({
        "world": rights(false, true, true, false, false),
        "users": [[bob, rights(true, false, false, false, true)]],
    });
    assert_eq!(cli.json(&["collection", "permissions", "notes"]), expected);

    // Bad permission names, unknown users and collections change nothing.
    cli.err_says(
        &["collection", "set-world", "notes", "read,fly"],
        "unknown permission \"fly\"",
    );
    cli.err_says(&["collection", "set-world", "notes", ""], "permission");
    cli.err_says(&["collection", "set-user", "notes", "bob", "Read"], "Read");
    cli.err_says(
        &["collection", "set-user", "notes", "zed", "read"],
        "not found",
    );
    assert_eq!(cli.json(&["collection", "permissions", "notes"]), expected);
    for args in [
        &["collection", "permissions", "nope"][..],
        &["collection", "set-world", "nope", "read"],
        &["collection", "set-user", "nope", "bob", "read"],
        &["collection", "delete", "nope"],
    ] {
        cli.err_says(args, "nope");
    }

    // `none` is an entry that grants nothing; `remove` deletes the entry.
    cli.ok(&["collection", "set-user", "notes", "bob", "none"]);
    cli.ok(&["collection", "set-world", "notes", "none"]);
    assert_eq!(
        cli.json(&["collection", "permissions", "notes"]),
        json!({"world": none, "users": [[bob, none]]})
    );
    cli.ok(&["collection", "set-user", "notes", "bob", "remove"]);
    assert_eq!(
        cli.json(&["collection", "permissions", "notes"])["users"],
        json!([])
    );

    cli.ok(&["collection", "delete", "notes"]);
    assert_eq!(cli.json(&["collection", "list"]), json!(["drafts"]));
}

#[test]
fn model_permissions() {
    let cli = Cli::new();
    cli.add_user("bob");
    cli.add_user("carol");
    cli.facade(async |d| {
        d.create_model("notes", Some("m1"), &json!({"text": "hi"}))
            .await
            .expect("model")
    });
    let none = json!({"read": false, "write": false, "remove": false, "manage": false});
    assert_eq!(
        cli.json(&["permissions", "model", "m1"]),
        json!({"override_world": false, "world": none, "users": []})
    );

    cli.ok(&[
        "permissions",
        "set-model",
        "m1",
        "--override",
        "true",
        "--world",
        "read",
        "--user",
        "bob=read,write",
        "--user",
        "carol=none",
    ]);
    let bob = json!({"kind": "normal", "name": "bob"});
    let carol = json!({"kind": "normal", "name": "carol"});
    let read = json!({"read": true, "write": false, "remove": false, "manage": false});
    let read_write = json!({"read": true, "write": true, "remove": false, "manage": false});
    let expected = json!({
        "override_world": true,
        "world": read,
        "users": [[bob, read_write], [carol, none]],
    });
    assert_eq!(cli.json(&["permissions", "model", "m1"]), expected);
    // What the engine resolves from them.
    let (bob_rights, carol_rights) = cli.facade(async |d| {
        let m = d.model("m1").expect("m1");
        let r = |u| {
            m.rights_of(&tandem::api::UserId::normal(u))
                .expect("rights")
        };
        (r("bob"), r("carol"))
    });
    assert!(bob_rights.write && !bob_rights.remove);
    assert!(!carol_rights.read);

    // Bad input changes nothing.
    for (args, says) in [
        (
            &["permissions", "set-model", "m1", "--world", "read,create"][..],
            "create",
        ),
        (
            &["permissions", "set-model", "m1", "--user", "bob=fly"],
            "fly",
        ),
        (
            &["permissions", "set-model", "m1", "--user", "bob"],
            "NAME=PERMS",
        ),
        (
            &["permissions", "set-model", "m1", "--user", "zed=read"],
            "not found",
        ),
        (
            &["permissions", "set-model", "m1", "--remove-user", "zed"],
            "not found",
        ),
        (
            &["permissions", "set-model", "m1", "--override", "maybe"],
            "maybe",
        ),
        (
            &["permissions", "set-model", "nope", "--world", "read"],
            "nope",
        ),
        (&["permissions", "model", "nope"], "nope"),
    ] {
        cli.err_says(args, says);
    }
    assert_eq!(cli.json(&["permissions", "model", "m1"]), expected);

    cli.ok(&[
        "permissions",
        "set-model",
        "m1",
        "--remove-user",
        "carol",
        "--override",
        "false",
    ]);
    let p = cli.json(&["permissions", "model", "m1"]);
    assert_eq!(p["override_world"], false);
    assert_eq!(p["world"], read);
    assert_eq!(p["users"], json!([[bob, read_write]]));
    cli.ok(&[
        "permissions",
        "set-model",
        "m1",
        "--replace-users",
        "--user",
        "carol=manage",
    ]);
    let manage = json!({"read": false, "write": false, "remove": false, "manage": true});
    assert_eq!(
        cli.json(&["permissions", "model", "m1"])["users"],
        json!([[carol, manage]])
    );
}

#[test]
fn generic_permission_rows() {
    let cli = Cli::new();
    cli.add_user("bob");
    cli.add_user("carol");
    cli.ok(&["group", "create", "eds"]);
    cli.ok(&["group", "add-member", "eds", "bob"]);
    let empty = json!({"world": [], "users": [], "groups": []});
    assert_eq!(cli.json(&["permissions", "get", "global"]), empty);
    // A chat's rows go through its owner, which knows only chats that exist.
    cli.err_says(
        &["permissions", "get", "chat:room"],
        "the chat does not exist",
    );
    cli.facade(async |d| {
        let chat = NewChat {
            id: Some("room".into()),
            kind: ChatKind::Channel,
            private: false,
            name: "Room".into(),
            topic: String::new(),
            members: Vec::new(),
        };
        d.create_chat(chat).await.expect("create the chat")
    });

    cli.ok(&[
        "permissions",
        "add",
        "chat:room",
        "--world",
        "join_chat",
        "--user",
        "bob=set_topic,leave_chat",
        "--group",
        "eds=remove_chat",
    ]);
    cli.ok(&["permissions", "add", "global", "--world", "create_chat"]);
    let bob = json!({"kind": "normal", "name": "bob"});
    let room = json!({
        "world": ["join_chat"],
        "users": [[bob, ["leave_chat", "set_topic"]]],
        "groups": [["eds", ["remove_chat"]]],
    });
    assert_eq!(cli.json(&["permissions", "get", "chat:room"]), room);
    assert_eq!(
        cli.json(&["permissions", "resolve", "chat:room", "bob"]),
        json!([
            "create_chat",
            "join_chat",
            "leave_chat",
            "remove_chat",
            "set_topic"
        ])
    );
    assert_eq!(
        cli.json(&["permissions", "resolve", "chat:room", "carol"]),
        json!(["create_chat", "join_chat"])
    );

    // Bad input changes nothing.
    for (args, says) in [
        (
            &["permissions", "add", "chat:room", "--world", "join"][..],
            "join",
        ),
        (
            &["permissions", "add", "chat:room", "--user", "zed=join_chat"],
            "not found",
        ),
        (
            &[
                "permissions",
                "add",
                "chat:room",
                "--group",
                "nog=join_chat",
            ],
            "not found",
        ),
        (
            &["permissions", "remove", "chat:room", "--user", "bob=fly"],
            "fly",
        ),
        (
            &["permissions", "add", "model:m", "--world", "read"],
            "bad target",
        ),
        (&["permissions", "get", "chat:"], "bad target"),
        (&["permissions", "resolve", "chat:room", "zed"], "not found"),
    ] {
        cli.err_says(args, says);
    }
    assert_eq!(cli.json(&["permissions", "get", "chat:room"]), room);

    cli.ok(&[
        "permissions",
        "remove",
        "chat:room",
        "--user",
        "bob=set_topic",
        "--world",
        "join_chat",
    ]);
    let p = cli.json(&["permissions", "get", "chat:room"]);
    assert_eq!(p["users"], json!([[bob, ["leave_chat"]]]));
    assert_eq!(p["world"], json!([]));

    // An activity's rows go through its owner, which knows only activities that exist (the
    // CLI has no command that creates one): a missing activity is refused, reading or writing.
    cli.err_says(
        &[
            "permissions",
            "add",
            "activity:doc:a1",
            "--world",
            "join,lurk",
        ],
        "the activity does not exist",
    );
    cli.err_says(
        &["permissions", "get", "activity:doc:a1"],
        "the activity does not exist",
    );
    // Global rows apply to chats; removing the world one leaves none.
    cli.ok(&["permissions", "remove", "global", "--world", "create_chat"]);
    assert_eq!(cli.json(&["permissions", "get", "global"]), empty);
}

#[test]
fn domain_config_and_admin_token() {
    let cli = Cli::new();
    // `domain create` gives the default settings.
    let defaults = json!({
        "display_name": "d",
        "anonymous_auth": false,
        "collection_auto_create": true,
        "state": "online",
        "reconnect_token_minutes": 1440,
        "default_collection_world": ["create", "read", "write", "remove", "manage"],
    });
    assert_eq!(cli.json(&["domain", "config"]), defaults);

    let changed = cli.json(&[
        "domain",
        "config",
        "--set",
        "state=maintenance",
        "anonymous_auth=true",
        "--set",
        "display_name=Docs = team",
        "--set",
        "default_collection_world=read,write",
        "--set",
        "reconnect_token_minutes=5",
        "--set",
        "collection_auto_create=false",
    ]);
    let expected = json!({
        "display_name": "Docs = team",
        "anonymous_auth": true,
        "collection_auto_create": false,
        "state": "maintenance",
        "reconnect_token_minutes": 5,
        "default_collection_world": ["read", "write"],
    });
    assert_eq!(changed, expected);
    assert_eq!(cli.json(&["domain", "config"]), expected);

    // A bad setting anywhere in the list changes nothing.
    for (set, says) in [
        ("colour=red", "unknown setting"),
        ("state=closed", "closed"),
        ("anonymous_auth=yes", "yes"),
        ("reconnect_token_minutes=0", "reconnect_token_minutes"),
        ("default_collection_world=fly", "fly"),
        ("state", "KEY=VALUE"),
    ] {
        cli.err_says(&["domain", "config", "--set", "state=online", set], says);
    }
    cli.ok(&["domain", "config", "--set", "default_collection_world=none"]);
    let now = cli.json(&["domain", "config"]);
    assert_eq!(now["state"], "maintenance");
    assert_eq!(now["default_collection_world"], json!([]));

    for args in [
        &["domain", "admin-token"][..],
        &[
            "domain",
            "admin-token",
            "--username",
            "ops",
            "--ttl-secs",
            "60",
        ],
    ] {
        let token = cli.ok(args);
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3, "{token}");
        assert!(parts.iter().all(|p| !p.is_empty()), "{token}");
        // base64url of `{"`: the header is a JSON object.
        assert!(parts[0].starts_with("eyJ"), "{token}");
    }
    cli.err_says(&["domain", "admin-token", "--ttl-secs", "0"], "lifetime");
}

#[test]
fn an_unknown_domain_or_directory_fails() {
    let cli = Cli::new();
    for args in [
        &["user", "list"][..],
        &["group", "list"],
        &["collection", "list"],
        &["domain", "config"],
        &["permissions", "get", "global"],
    ] {
        let out = cli.run_in(args, "nope");
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("not found"));
    }
    // A malformed command line exits with 1 too.
    cli.err(&["group", "create"]);
    cli.err(&["collection", "frobnicate"]);
}

#[test]
fn model_undo_and_redo() {
    let cli = Cli::new();
    cli.facade(async |d| {
        let m = d
            .create_model("c", Some("m"), &json!({"t": "ab"}))
            .await
            .unwrap();
        let splice = |i: i64, s: &str| {
            vec![tandem::api::Change::Splice {
                path: tandem::api::path(&["t"]),
                index: i,
                delete: 0,
                insert: s.into(),
            }]
        };
        m.apply_as(splice(2, "c"), &tandem::api::UserId::normal("ann"))
            .await
            .unwrap();
        m.apply_as(splice(0, ">"), &tandem::api::UserId::normal("ben"))
            .await
            .unwrap();
    });
    let out = cli.json(&["model", "undo", "m", "--last-of", "ann", "--by", "ben"]);
    assert_eq!(
        out,
        json!({"outcome": "undone", "version": 4, "undid": [2]})
    );
    let dump = cli.ok(&["dump", "m"]);
    assert_eq!(dump, r#"{"t":">ab"}"#);
    let out = cli.json(&["model", "redo", "m", "--version", "4"]);
    assert_eq!(out["outcome"], "undone");
    assert_eq!(cli.ok(&["dump", "m"]), r#"{"t":">abc"}"#);
    let out = cli.json(&["model", "undo", "m", "--since", "1", "--user", "nobody"]);
    assert_eq!(out, json!({"outcome": "nothing_to_undo"}));
    cli.err_says(&["model", "undo", "m"], "--version");
    cli.err_says(&["model", "undo", "m", "--version", "99"], "version 99");
}
