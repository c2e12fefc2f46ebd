//! Operators: administrators log in with their password and get a token that expires, that a
//! new password or a removal ends, and that a restart ends (it is signed with a secret of the
//! running engine); a wrong name and a wrong password fail alike. API keys reach their own
//! domain only, keep read-only apart, and stop working when revoked or when their domain is
//! deleted (a domain created again under the same name does not inherit them).

use std::sync::Arc;

use tandem::api::{Engine, EngineConfig, EngineSources, ErrorCode};
use tandem::sources::{ManualClock, SequentialIds};

fn engine(clock: Arc<ManualClock>, dir: &std::path::Path) -> Engine {
    let mut config = EngineConfig::with_data_dir(dir);
    config.auth.admin_token_minutes = 30;
    Engine::open_with(
        config,
        EngineSources {
            clock,
            ids: Arc::new(SequentialIds::default()),
        },
    )
    .unwrap()
}

#[tokio::test]
async fn an_admin_token_lasts_until_expiry_a_password_change_a_removal_or_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(1_000_000));
    let e = engine(clock.clone(), dir.path());
    let root = e.add_admin("root", "s3cret pw").await.unwrap();
    assert_eq!(root.username, "root");
    assert_eq!(
        e.add_admin("root", "other").await.unwrap_err().code,
        ErrorCode::AlreadyExists
    );
    assert_eq!(
        e.add_admin("", "pw").await.unwrap_err().code,
        ErrorCode::InvalidArgument
    );
    assert_eq!(
        e.add_admin("x", "").await.unwrap_err().code,
        ErrorCode::InvalidArgument
    );

    // A wrong password and an unknown name fail alike.
    let wrong = e.admin_login("root", "nope").await.unwrap_err();
    let unknown = e.admin_login("nobody", "s3cret pw").await.unwrap_err();
    assert_eq!(wrong.code, ErrorCode::Unauthenticated);
    assert_eq!((wrong.code, wrong.message), (unknown.code, unknown.message));

    let login = e.admin_login("root", "s3cret pw").await.unwrap();
    assert_eq!(login.expires_ms, 1_000_000 + 30 * 60_000);
    assert_eq!(e.verify_admin_token(&login.token).unwrap().username, "root");
    // Altered tokens are refused: another name, a later expiry, a flipped signature, garbage.
    let parts: Vec<&str> = login.token.split('.').collect();
    let forged = [
        format!("ta1.{}.{}.{}", "626f62", parts[2], parts[3]),
        format!("ta1.{}.{}.{}", parts[1], login.expires_ms + 1, parts[3]),
        format!("{}x", login.token),
        "ta1...".to_string(),
        String::new(),
        "tk1.0011223344556677.00".to_string(),
    ];
    for f in &forged {
        let err = e.verify_admin_token(f).unwrap_err();
        assert_eq!(err.code, ErrorCode::Unauthenticated, "{f}");
    }

    clock.advance(30 * 60_000 - 1);
    assert!(e.verify_admin_token(&login.token).is_ok());
    clock.advance(1);
    assert_eq!(
        e.verify_admin_token(&login.token).unwrap_err().code,
        ErrorCode::Unauthenticated,
        "expired"
    );

    let login = e.admin_login("root", "s3cret pw").await.unwrap();
    e.set_admin_password("root", "new pw").await.unwrap();
    assert!(
        e.verify_admin_token(&login.token).is_err(),
        "a new password ends old tokens"
    );
    assert!(e.admin_login("root", "s3cret pw").await.is_err());
    let login = e.admin_login("root", "new pw").await.unwrap();
    assert!(e.verify_admin_token(&login.token).is_ok());

    e.add_admin("ops", "ops pw").await.unwrap();
    let ops = e.admin_login("ops", "ops pw").await.unwrap();
    e.remove_admin("ops").await.unwrap();
    assert!(
        e.verify_admin_token(&ops.token).is_err(),
        "a removal ends its tokens"
    );
    assert_eq!(
        e.remove_admin("ops").await.unwrap_err().code,
        ErrorCode::NotFound
    );
    let names: Vec<String> = e
        .admins()
        .unwrap()
        .into_iter()
        .map(|a| a.username)
        .collect();
    assert_eq!(names, ["root"]);
    e.shutdown().await;
    drop(e);

    // After a restart the administrator is still there, its old token is not.
    let e = engine(clock, dir.path());
    assert!(e.verify_admin_token(&login.token).is_err());
    let login = e.admin_login("root", "new pw").await.unwrap();
    assert!(e.verify_admin_token(&login.token).is_ok());
    e.shutdown().await;
}

#[tokio::test]
async fn an_api_key_reaches_its_own_domain_until_revoked_or_the_domain_goes() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(Arc::new(ManualClock::new(5)), dir.path());
    let a = e.create_domain("ns", "a").await.unwrap();
    let b = e.create_domain("ns", "b").await.unwrap();
    let reader = a.create_api_key("dashboard", true).await.unwrap();
    let writer = a.create_api_key("sync job", false).await.unwrap();
    assert_ne!(reader.token, writer.token);
    assert!(reader.key.read_only && !writer.key.read_only);
    assert_eq!(a.verify_api_key(&reader.token).unwrap(), reader.key);
    assert_eq!(a.verify_api_key(&writer.token).unwrap(), writer.key);
    assert_eq!(
        b.verify_api_key(&reader.token).unwrap_err().code,
        ErrorCode::Unauthenticated,
        "another domain's key"
    );
    // The right id with another secret, and malformed tokens.
    let id = &reader.key.id;
    for bad in [
        format!("tk1.{id}.{}", "0".repeat(64)),
        format!("tk1.{id}"),
        format!("{}.", reader.token),
        "tk1..".to_string(),
    ] {
        assert_eq!(
            a.verify_api_key(&bad).unwrap_err().code,
            ErrorCode::Unauthenticated,
            "{bad}"
        );
    }
    let mut listed = a.api_keys().unwrap();
    listed.sort_by(|x, y| x.name.cmp(&y.name));
    assert_eq!(listed, [reader.key.clone(), writer.key.clone()]);
    assert!(b.api_keys().unwrap().is_empty());
    assert_eq!(
        a.create_api_key(&"n".repeat(201), true)
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidArgument
    );

    a.revoke_api_key(&reader.key.id).await.unwrap();
    assert!(a.verify_api_key(&reader.token).is_err());
    assert_eq!(
        a.revoke_api_key(&reader.key.id).await.unwrap_err().code,
        ErrorCode::NotFound
    );
    e.shutdown().await;
    drop((a, b, e));

    // Kept across a restart; gone with its domain, also when the domain is created again.
    let e = engine(Arc::new(ManualClock::new(5)), dir.path());
    let a = e.domain("ns", "a").unwrap();
    assert!(a.verify_api_key(&writer.token).is_ok());
    e.delete_domain("ns", "a").await.unwrap();
    let a = e.create_domain("ns", "a").await.unwrap();
    assert!(a.verify_api_key(&writer.token).is_err());
    assert!(a.api_keys().unwrap().is_empty());
    e.shutdown().await;
}

#[tokio::test]
async fn repeated_failed_admin_logins_are_throttled_per_name() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(1_000_000));
    let e = engine(clock.clone(), dir.path());
    e.add_admin("root", "right").await.unwrap();
    let limit = EngineConfig::default().auth.limits.failed_per_user;
    for _ in 0..limit {
        let err = e.admin_login("root", "wrong").await.unwrap_err();
        assert_eq!(err.code, ErrorCode::Unauthenticated);
    }
    let throttled = e.admin_login("root", "right").await.unwrap_err();
    assert_eq!(throttled.code, ErrorCode::Unauthenticated);
    assert!(
        throttled.message.contains("too many"),
        "{}",
        throttled.message
    );
    clock.advance(
        i64::try_from(EngineConfig::default().auth.limits.window_secs).unwrap() * 1000 + 1,
    );
    assert!(e.admin_login("root", "right").await.is_ok());
    e.shutdown().await;
}
