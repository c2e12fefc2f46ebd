//! `tandem admin ...` and `tandem api-key ...` as an operator runs them: the built binary on a
//! temporary data directory, each change checked through another command or through the
//! facade on the same directory (a login, a key's verification), and bad input exiting with 1
//! and saying why.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use tandem::api::{Engine, EngineConfig};

fn tandem(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env_remove("TANDEM_DATA_DIR")
        .env_remove("TANDEM_PASSWORD")
        .output()
        .expect("run tandem")
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = tandem(dir, args);
    assert!(
        out.status.success(),
        "tandem {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn fails_saying(dir: &Path, args: &[&str], what: &str) {
    let out = tandem(dir, args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "tandem {args:?}: {stderr}");
    assert!(out.stdout.is_empty());
    assert!(
        stderr.contains(what),
        "tandem {args:?}: {stderr:?} should say {what:?}"
    );
}

fn with_engine<T>(dir: &Path, f: impl AsyncFnOnce(&Engine) -> T) -> T {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let engine = Engine::open(EngineConfig::with_data_dir(dir)).expect("open");
        let out = f(&engine).await;
        engine.shutdown().await;
        out
    })
}

const SCOPE: [&str; 4] = ["--namespace", "t", "--domain", "d"];

fn scoped<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut v = args.to_vec();
    v.extend(SCOPE);
    v
}

#[test]
fn administrators_are_added_listed_given_passwords_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["admin", "add", "root", "--password", "first pw"]);
    fails_saying(
        d,
        &["admin", "add", "root", "--password", "x"],
        "already exists",
    );
    fails_saying(d, &["admin", "add", "", "--password", "x"], "invalid");
    ok(d, &["admin", "add", "ops", "--password", "ops pw"]);
    let listed: Value = serde_json::from_str(&ok(d, &["admin", "list"])).unwrap();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ops", "root"]);
    assert!(!listed.to_string().contains("argon2"), "no hash is printed");

    ok(d, &["admin", "passwd", "root", "--password", "second pw"]);
    fails_saying(
        d,
        &["admin", "passwd", "nobody", "--password", "x"],
        "not found",
    );
    ok(d, &["admin", "remove", "ops"]);
    fails_saying(d, &["admin", "remove", "ops"], "not found");
    with_engine(d, async |e| {
        assert!(e.admin_login("root", "first pw").await.is_err());
        let login = e.admin_login("root", "second pw").await.expect("login");
        assert_eq!(e.verify_admin_token(&login.token).unwrap().username, "root");
        assert!(e.admin_login("ops", "ops pw").await.is_err());
    });
}

#[test]
fn api_keys_are_created_listed_and_revoked_per_domain() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &scoped(&["domain", "create"]));
    fails_saying(
        d,
        &["api-key", "create", "--namespace", "t", "--domain", "nope"],
        "not found",
    );
    let token = ok(
        d,
        &scoped(&["api-key", "create", "--name", "dashboard", "--read-only"]),
    );
    assert!(token.starts_with("tk1."), "{token}");
    let listed: Value = serde_json::from_str(&ok(d, &scoped(&["api-key", "list"]))).unwrap();
    let keys = listed.as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["name"], "dashboard");
    assert_eq!(keys[0]["read_only"], true);
    let id = keys[0]["id"].as_str().unwrap().to_string();
    assert!(token.contains(&id));
    assert!(
        !listed
            .to_string()
            .contains(token.rsplit('.').next().unwrap()),
        "no secret listed"
    );
    with_engine(d, async |e| {
        let key = e
            .domain("t", "d")
            .unwrap()
            .verify_api_key(&token)
            .expect("valid");
        assert!(key.read_only);
    });

    ok(d, &scoped(&["api-key", "revoke", &id]));
    fails_saying(d, &scoped(&["api-key", "revoke", &id]), "not found");
    with_engine(d, async |e| {
        assert!(e.domain("t", "d").unwrap().verify_api_key(&token).is_err());
    });
}
