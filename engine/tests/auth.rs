//! Authentication and user management: password, JWT, anonymous and reconnect-token logins,
//! the facade's user and key management, and persistence of users and tokens on LMDB.

use std::sync::Arc;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value as Json};
use tandem::api::{
    AuthConfig, Domain, Engine, EngineConfig, EngineSources, ErrorCode, JwtKey, NewUser, UserType,
};
use tandem::auth::{AuthError, AuthMethod, AuthService, Authenticated, Credentials};
use tandem::sources::{ManualClock, SequentialIds};
use tandem::store::DomainKey;

const A_PRIVATE: &str = include_str!("fixtures/jwt/a-private.pem");
const A_PUBLIC: &str = include_str!("fixtures/jwt/a-public.pem");
const B_PRIVATE: &str = include_str!("fixtures/jwt/b-private.pem");
const B_PUBLIC: &str = include_str!("fixtures/jwt/b-public.pem");

/// 2025-10-09T..., a round number of seconds.
const T0: i64 = 1_760_000_000_000;
const MINUTE: i64 = 60_000;

fn open(config: EngineConfig, clock: Arc<ManualClock>) -> Engine {
    Engine::open_with(
        config,
        EngineSources {
            clock,
            ids: Arc::new(SequentialIds::default()),
        },
    )
    .expect("engine")
}

async fn setup(config: EngineConfig) -> (Engine, Domain, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(T0));
    let engine = open(config, clock.clone());
    let domain = engine.create_domain("acme", "docs").await.unwrap();
    (engine, domain, clock)
}

fn auth(engine: &Engine) -> &AuthService {
    engine.auth_service()
}

async fn login(
    engine: &Engine,
    domain: &Domain,
    c: Credentials,
) -> Result<Authenticated, AuthError> {
    login_as(engine, domain, c, &next_session()).await
}

/// A fresh session id for a login.
fn next_session() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    format!(
        "session-{}",
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

async fn login_as(
    engine: &Engine,
    domain: &Domain,
    c: Credentials,
    session: &str,
) -> Result<Authenticated, AuthError> {
    auth(engine).authenticate(domain.key(), c, session).await
}

fn password(username: &str, password: &str) -> Credentials {
    Credentials::Password {
        username: username.into(),
        password: password.into(),
    }
}

fn new_user(username: &str, password: Option<&str>) -> NewUser {
    NewUser {
        username: username.into(),
        display_name: format!("{username} display"),
        password: password.map(str::to_string),
        ..NewUser::default()
    }
}

fn key(id: &str, pem: &str, enabled: bool) -> JwtKey {
    JwtKey {
        id: id.into(),
        description: format!("key {id}"),
        public_key_pem: pem.into(),
        enabled,
        updated_ms: 0,
    }
}

fn jwt(kid: Option<&str>, private_pem: &str, claims: &Json) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = kid.map(str::to_string);
    let key = EncodingKey::from_rsa_pem(private_pem.as_bytes()).unwrap();
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

fn now_secs(clock: &ManualClock) -> i64 {
    use tandem::sources::Clock;
    clock.now_ms() / 1000
}

fn assert_failed(r: Result<Authenticated, AuthError>, what: &str) {
    match r {
        Err(e) => {
            assert_eq!(e, AuthError::AuthenticationFailed, "{what}");
            assert_eq!(e.wire_code(), "authentication_failed", "{what}");
            assert!(!e.retry_ok(), "{what}");
        }
        Ok(a) => panic!("{what}: expected authentication_failed, got {a:?}"),
    }
}

#[tokio::test]
async fn password_login_succeeds_fails_and_respects_disabled() {
    let (engine, d, clock) = setup(EngineConfig::default()).await;
    let created = d
        .create_user(new_user("alice", Some("s3cret")))
        .await
        .unwrap();
    assert_eq!(created.id(), tandem::api::UserId::normal("alice"));
    assert!(created.has_password);
    assert_eq!(created.created_ms, T0);
    assert_eq!(created.last_login_ms, 0);

    clock.advance(5_000);
    let a = login(&engine, &d, password("alice", "s3cret"))
        .await
        .unwrap();
    assert_eq!(a.method, AuthMethod::Password);
    assert_eq!(a.user.username, "alice");
    assert_eq!(a.user.display_name, "alice display");
    assert_eq!(a.user.last_login_ms, T0 + 5_000);
    assert_eq!(a.reconnect_token.len(), 32);
    assert!(a.reconnect_token.chars().all(|c| c.is_ascii_alphanumeric()));
    let stored = auth(&engine)
        .user(d.key(), UserType::Normal, "alice")
        .unwrap()
        .unwrap();
    assert_eq!(stored.last_login_ms, T0 + 5_000);

    // A second login issues a different token.
    let b = login(&engine, &d, password("alice", "s3cret"))
        .await
        .unwrap();
    assert_ne!(a.reconnect_token, b.reconnect_token);

    assert_failed(
        login(&engine, &d, password("alice", "wrong")).await,
        "wrong password",
    );
    assert_failed(
        login(&engine, &d, password("Alice", "s3cret")).await,
        "usernames are case-sensitive",
    );
    assert_failed(
        login(&engine, &d, password("nobody", "s3cret")).await,
        "unknown user",
    );
    assert_failed(
        login(&engine, &d, password("alice", "")).await,
        "empty password",
    );

    // A user without a password cannot log in with one.
    d.create_user(new_user("nopw", None)).await.unwrap();
    assert_failed(
        login(&engine, &d, password("nopw", "")).await,
        "no password",
    );
    assert_failed(
        login(&engine, &d, password("nopw", "x")).await,
        "no password",
    );

    // Disabled users are refused, with the same error.
    auth(&engine)
        .set_user_disabled(d.key(), "alice", true)
        .await
        .unwrap();
    assert_failed(
        login(&engine, &d, password("alice", "s3cret")).await,
        "disabled user",
    );
    // ... and so are their reconnect tokens.
    assert_failed(
        login(
            &engine,
            &d,
            Credentials::Reconnect(b.reconnect_token.clone()),
        )
        .await,
        "disabled user's token",
    );
    auth(&engine)
        .set_user_disabled(d.key(), "alice", false)
        .await
        .unwrap();
    login(&engine, &d, password("alice", "s3cret"))
        .await
        .unwrap();

    // Changing the password takes effect at once.
    d.set_password("alice", "n3w").await.unwrap();
    assert_failed(
        login(&engine, &d, password("alice", "s3cret")).await,
        "old password",
    );
    login(&engine, &d, password("alice", "n3w")).await.unwrap();

    // The facade maps authentication failures to Unauthenticated.
    let err = tandem::api::Error::from(AuthError::AuthenticationFailed);
    assert_eq!(err.code, ErrorCode::Unauthenticated);
    assert_eq!(err.code.as_i32(), 11);
    engine.shutdown().await;
}

#[tokio::test]
async fn stored_password_is_an_argon2_phc_string() {
    let (engine, d, _clock) = setup(EngineConfig::default()).await;
    let user = d
        .create_user(new_user("bob", Some("hunter2")))
        .await
        .unwrap();
    assert!(user.has_password);
    let stored_hash = |name: &str| {
        engine
            .store()
            .user(d.key(), UserType::Normal, name)
            .unwrap()
            .unwrap()
            .password_hash
            .unwrap()
    };
    let hash = stored_hash("bob");
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains("hunter2"));
    let stored = engine
        .store()
        .user(d.key(), UserType::Normal, "bob")
        .unwrap()
        .unwrap();
    assert!(
        !format!("{stored:?}").contains(&hash),
        "Debug redacts the hash"
    );

    // Same password, another user: another salt, so another hash.
    d.create_user(new_user("bob2", Some("hunter2")))
        .await
        .unwrap();
    assert_ne!(stored_hash("bob2"), hash);

    d.set_password("bob", "correct horse").await.unwrap();
    let changed = engine
        .store()
        .user(d.key(), UserType::Normal, "bob")
        .unwrap()
        .unwrap()
        .password_hash
        .unwrap();
    assert!(changed.starts_with("$argon2id$"));
    assert_ne!(changed, hash);
    engine.shutdown().await;
}

#[tokio::test]
async fn jwt_login_creates_then_updates_the_user() {
    let (engine, d, clock) = setup(EngineConfig::default()).await;
    let added = d.add_jwt_key(key("k1", A_PUBLIC, true)).await.unwrap();
    assert_eq!(added.updated_ms, T0);
    assert_eq!(d.jwt_keys().unwrap(), vec![added]);

    let exp = now_secs(&clock) + 600;
    let token = jwt(
        Some("k1"),
        A_PRIVATE,
        &json!({
            "sub": "carol", "aud": "Convergence", "exp": exp,
            "firstName": "Carol", "lastName": "King", "displayName": "CK",
            "email": "carol@example.com"
        }),
    );
    let a = login(&engine, &d, Credentials::Jwt(token)).await.unwrap();
    assert_eq!(a.method, AuthMethod::Jwt);
    assert_eq!(a.user.user_type, UserType::Normal);
    assert_eq!(a.user.username, "carol");
    assert_eq!(
        (
            a.user.first_name.as_str(),
            a.user.last_name.as_str(),
            a.user.display_name.as_str(),
            a.user.email.as_str()
        ),
        ("Carol", "King", "CK", "carol@example.com")
    );
    assert_eq!(a.user.created_ms, T0);
    assert_eq!(a.user.last_login_ms, T0);
    assert_eq!(a.user.password_hash, None);
    assert_eq!(a.reconnect_token.len(), 32);
    assert_eq!(d.users().unwrap().len(), 1);

    // A second login writes the claims present and leaves the others.
    clock.advance(MINUTE);
    let token = jwt(
        Some("k1"),
        A_PRIVATE,
        &json!({"sub": "carol", "aud": ["Convergence", "other"], "exp": exp, "displayName": "Carol K."}),
    );
    let b = login(&engine, &d, Credentials::Jwt(token)).await.unwrap();
    assert_eq!(b.user.display_name, "Carol K.");
    assert_eq!(b.user.first_name, "Carol");
    assert_eq!(b.user.email, "carol@example.com");
    assert_eq!(b.user.created_ms, T0);
    assert_eq!(b.user.last_login_ms, T0 + MINUTE);
    let stored = auth(&engine)
        .user(d.key(), UserType::Normal, "carol")
        .unwrap()
        .unwrap();
    assert_eq!(stored, b.user);

    // An existing password user logs in by JWT too, keeping the password.
    d.create_user(new_user("dave", Some("pw"))).await.unwrap();
    let token = jwt(
        Some("k1"),
        A_PRIVATE,
        &json!({"sub": "dave", "aud": "Convergence", "exp": exp, "email": "d@x"}),
    );
    let c = login(&engine, &d, Credentials::Jwt(token)).await.unwrap();
    assert_eq!(c.user.email, "d@x");
    assert_eq!(c.user.display_name, "dave display");
    login(&engine, &d, password("dave", "pw")).await.unwrap();
    engine.shutdown().await;
}

#[tokio::test]
async fn bad_jwts_fail_with_authentication_failed() {
    let (engine, d, clock) = setup(EngineConfig::default()).await;
    d.add_jwt_key(key("k1", A_PUBLIC, true)).await.unwrap();
    d.add_jwt_key(key("off", B_PUBLIC, false)).await.unwrap();
    let now = now_secs(&clock);
    let good = json!({"sub": "eve", "aud": "Convergence", "exp": now + 600});
    let with = |patch: Json| {
        let mut c = good.clone();
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        c
    };

    let cases: Vec<(&str, String)> = vec![
        ("unknown kid", jwt(Some("nope"), A_PRIVATE, &good)),
        ("no kid", jwt(None, A_PRIVATE, &good)),
        ("disabled key", jwt(Some("off"), B_PRIVATE, &good)),
        ("signed with another key", jwt(Some("k1"), B_PRIVATE, &good)),
        (
            "expired beyond the leeway",
            jwt(Some("k1"), A_PRIVATE, &with(json!({"exp": now - 31}))),
        ),
        (
            "not yet valid beyond the leeway",
            jwt(Some("k1"), A_PRIVATE, &with(json!({"nbf": now + 31}))),
        ),
        (
            "wrong audience",
            jwt(Some("k1"), A_PRIVATE, &with(json!({"aud": "Other"}))),
        ),
        (
            "no audience",
            jwt(Some("k1"), A_PRIVATE, &with(json!({"aud": null}))),
        ),
        (
            "missing sub",
            jwt(Some("k1"), A_PRIVATE, &with(json!({"sub": null}))),
        ),
        (
            "empty sub",
            jwt(Some("k1"), A_PRIVATE, &with(json!({"sub": ""}))),
        ),
        (
            "missing exp",
            jwt(Some("k1"), A_PRIVATE, &with(json!({"exp": null}))),
        ),
        ("garbage", "not.a.jwt".to_string()),
        ("empty", String::new()),
    ];
    for (what, token) in cases {
        assert_failed(login(&engine, &d, Credentials::Jwt(token)).await, what);
    }

    // A payload with another signature's token fails the signature check.
    let token = jwt(Some("k1"), A_PRIVATE, &good);
    let other = jwt(Some("k1"), B_PRIVATE, &with(json!({"sub": "mallory"})));
    let (head_payload, _) = other.rsplit_once('.').unwrap();
    let (_, signature) = token.rsplit_once('.').unwrap();
    let forged = format!("{head_payload}.{signature}");
    assert_failed(
        login(&engine, &d, Credentials::Jwt(forged)).await,
        "tampered payload",
    );
    assert!(d.users().unwrap().is_empty(), "no user was created");

    // Within the leeway, both ways.
    let edge = with(json!({"exp": now - 30, "nbf": now + 30}));
    login(
        &engine,
        &d,
        Credentials::Jwt(jwt(Some("k1"), A_PRIVATE, &edge)),
    )
    .await
    .unwrap();

    // Expiry is judged by the engine's clock.
    let token = jwt(Some("k1"), A_PRIVATE, &good);
    clock.advance(631_000);
    assert_failed(
        login(&engine, &d, Credentials::Jwt(token.clone())).await,
        "expired by the clock",
    );

    // Disabling a key stops it; removing it too.
    clock.set(T0);
    login(&engine, &d, Credentials::Jwt(token.clone()))
        .await
        .unwrap();
    auth(&engine)
        .set_jwt_key_enabled(d.key(), "k1", false)
        .await
        .unwrap();
    assert_failed(
        login(&engine, &d, Credentials::Jwt(token.clone())).await,
        "key disabled later",
    );
    auth(&engine)
        .set_jwt_key_enabled(d.key(), "k1", true)
        .await
        .unwrap();
    d.remove_jwt_key("k1").await.unwrap();
    assert_failed(
        login(&engine, &d, Credentials::Jwt(token)).await,
        "key removed",
    );
    engine.shutdown().await;
}

#[tokio::test]
async fn anonymous_login_only_where_allowed() {
    let (engine, d, _clock) = setup(EngineConfig::default()).await;
    let err = login(
        &engine,
        &d,
        Credentials::Anonymous {
            display_name: Some("Guest".into()),
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err, AuthError::AnonymousAuthDisabled);
    assert_eq!(err.wire_code(), "anonymous_auth_disabled");
    assert!(!err.retry_ok());
    assert_eq!(
        tandem::api::Error::from(err).code,
        ErrorCode::Unauthenticated
    );

    d.set_anonymous_auth(true).await.unwrap();
    assert!(d.settings().unwrap().anonymous_auth);
    let a = login(
        &engine,
        &d,
        Credentials::Anonymous {
            display_name: Some("Guest".into()),
        },
    )
    .await
    .unwrap();
    let b = login(&engine, &d, Credentials::Anonymous { display_name: None })
        .await
        .unwrap();
    assert_eq!(a.method, AuthMethod::Anonymous);
    assert_eq!(a.user.user_type, UserType::Anonymous);
    assert_eq!(a.user.display_name, "Guest");
    assert_eq!(b.user.display_name, "");
    assert!(!a.user.username.is_empty());
    assert_ne!(a.user.username, b.user.username);
    assert_eq!(a.user.last_login_ms, T0);
    let stored = auth(&engine)
        .user(d.key(), UserType::Anonymous, &a.user.username)
        .unwrap()
        .unwrap();
    assert_eq!(stored, a.user);
    // Anonymous users are not listed with the normal ones.
    assert!(d.users().unwrap().is_empty());

    d.set_anonymous_auth(false).await.unwrap();
    let err = login(&engine, &d, Credentials::Anonymous { display_name: None })
        .await
        .unwrap_err();
    assert_eq!(err, AuthError::AnonymousAuthDisabled);

    // An unknown domain.
    let err = auth(&engine)
        .authenticate(
            &DomainKey::new("acme", "missing"),
            Credentials::Anonymous { display_name: None },
            "s-missing",
        )
        .await
        .unwrap_err();
    assert_eq!(err.wire_code(), "domain_not_found");
    assert!(!err.retry_ok());
    engine.shutdown().await;
}

#[tokio::test]
async fn a_reconnect_login_names_the_earlier_sessions_of_its_token() {
    let (engine, d, _clock) = setup(EngineConfig::default()).await;
    d.create_user(new_user("alice", Some("pw"))).await.unwrap();
    let first = login_as(&engine, &d, password("alice", "pw"), "s-a")
        .await
        .unwrap();
    assert!(first.earlier_sessions.is_empty());
    let token = first.reconnect_token.clone();
    let second = login_as(&engine, &d, Credentials::Reconnect(token.clone()), "s-b")
        .await
        .unwrap();
    assert_eq!(second.earlier_sessions, ["s-a"]);
    let third = login_as(&engine, &d, Credentials::Reconnect(token.clone()), "s-c")
        .await
        .unwrap();
    assert_eq!(third.earlier_sessions, ["s-a", "s-b"]);
    // Another login of the same user has its own token and lineage.
    let other = login_as(&engine, &d, password("alice", "pw"), "s-x")
        .await
        .unwrap();
    let other_again = login_as(
        &engine,
        &d,
        Credentials::Reconnect(other.reconnect_token),
        "s-y",
    )
    .await
    .unwrap();
    assert_eq!(other_again.earlier_sessions, ["s-x"]);
    // Only the newest sessions are remembered.
    for n in 0..40 {
        login_as(
            &engine,
            &d,
            Credentials::Reconnect(token.clone()),
            &format!("s-{n}"),
        )
        .await
        .unwrap();
    }
    let last = login_as(&engine, &d, Credentials::Reconnect(token), "s-last")
        .await
        .unwrap();
    assert_eq!(
        last.earlier_sessions.len(),
        tandem::auth::TOKEN_SESSIONS_KEPT
    );
    assert_eq!(
        last.earlier_sessions.last().map(String::as_str),
        Some("s-39")
    );
    engine.shutdown().await;
}

#[tokio::test]
async fn reconnect_tokens_work_for_every_user_type_and_slide() {
    let mut config = EngineConfig::default();
    config.auth.reconnect_token_minutes = 10;
    let (engine, d, clock) = setup(config).await;
    d.set_anonymous_auth(true).await.unwrap();
    d.add_jwt_key(key("k1", A_PUBLIC, true)).await.unwrap();
    d.create_user(new_user("alice", Some("pw"))).await.unwrap();

    let by_password = login(&engine, &d, password("alice", "pw")).await.unwrap();
    let by_anonymous = login(&engine, &d, Credentials::Anonymous { display_name: None })
        .await
        .unwrap();
    let claims = json!({"sub": "jwt-user", "aud": "Convergence", "exp": now_secs(&clock) + 60});
    let by_jwt = login(
        &engine,
        &d,
        Credentials::Jwt(jwt(Some("k1"), A_PRIVATE, &claims)),
    )
    .await
    .unwrap();

    for first in [&by_password, &by_anonymous, &by_jwt] {
        let token = first.reconnect_token.clone();
        let stored = engine
            .store()
            .reconnect_token(d.key(), &token)
            .unwrap()
            .unwrap();
        assert_eq!(stored.expires_ms, T0 + 10 * MINUTE);
        assert_eq!(
            (stored.user_type, stored.username.as_str()),
            (first.user.user_type, first.user.username.as_str())
        );
        let again = login(&engine, &d, Credentials::Reconnect(token.clone()))
            .await
            .unwrap();
        assert_eq!(again.method, AuthMethod::Reconnect);
        assert_eq!(again.reconnect_token, token, "the same token comes back");
        assert_eq!(again.user, first.user);
    }

    // Sliding: each use extends the lifetime from the time of use.
    let token = by_password.reconnect_token.clone();
    clock.advance(9 * MINUTE);
    login(&engine, &d, Credentials::Reconnect(token.clone()))
        .await
        .unwrap();
    let stored = engine
        .store()
        .reconnect_token(d.key(), &token)
        .unwrap()
        .unwrap();
    assert_eq!(stored.expires_ms, T0 + 19 * MINUTE);
    clock.advance(9 * MINUTE);
    login(&engine, &d, Credentials::Reconnect(token.clone()))
        .await
        .unwrap();
    // A reconnect login is not recorded as a new login.
    let alice = auth(&engine)
        .user(d.key(), UserType::Normal, "alice")
        .unwrap()
        .unwrap();
    assert_eq!(alice.last_login_ms, T0);

    // The anonymous token was last used at T0: it expires at T0 + 10 min exactly.
    clock.set(T0 + 10 * MINUTE - 1);
    login(
        &engine,
        &d,
        Credentials::Reconnect(by_jwt.reconnect_token.clone()),
    )
    .await
    .unwrap();
    clock.set(T0 + 10 * MINUTE);
    assert_failed(
        login(
            &engine,
            &d,
            Credentials::Reconnect(by_anonymous.reconnect_token.clone()),
        )
        .await,
        "expired token",
    );
    // An expired token is forgotten.
    assert!(engine
        .store()
        .reconnect_token(d.key(), &by_anonymous.reconnect_token)
        .unwrap()
        .is_none());

    assert_failed(
        login(&engine, &d, Credentials::Reconnect("x".repeat(32))).await,
        "unknown token",
    );
    assert_failed(
        login(&engine, &d, Credentials::Reconnect(String::new())).await,
        "empty token",
    );

    // Deleting a user revokes its tokens.
    d.delete_user("alice").await.unwrap();
    assert_failed(
        login(&engine, &d, Credentials::Reconnect(token.clone())).await,
        "deleted user",
    );
    assert!(engine
        .store()
        .reconnect_token(d.key(), &token)
        .unwrap()
        .is_none());

    // A token of one domain does not open another.
    let other = engine.create_domain("acme", "other").await.unwrap();
    assert_failed(
        login(
            &engine,
            &other,
            Credentials::Reconnect(by_jwt.reconnect_token.clone()),
        )
        .await,
        "token of another domain",
    );
    engine.shutdown().await;
}

#[tokio::test]
async fn default_token_lifetime_is_a_day() {
    let (engine, d, clock) = setup(EngineConfig::default()).await;
    assert_eq!(auth(&engine).config(), &AuthConfig::default());
    d.create_user(new_user("alice", Some("pw"))).await.unwrap();
    let a = login(&engine, &d, password("alice", "pw")).await.unwrap();
    clock.advance(1440 * MINUTE - 1);
    login(
        &engine,
        &d,
        Credentials::Reconnect(a.reconnect_token.clone()),
    )
    .await
    .unwrap();
    clock.advance(1440 * MINUTE);
    assert_failed(
        login(&engine, &d, Credentials::Reconnect(a.reconnect_token)).await,
        "a day after the last use",
    );

    // The config section parses with defaults and validates.
    let c = EngineConfig::from_json(r#"{"auth": {"reconnect_token_minutes": 5}}"#).unwrap();
    assert_eq!(c.auth.reconnect_token_minutes, 5);
    assert_eq!(c.auth.jwt_leeway_secs, 30);
    let err = EngineConfig::from_json(r#"{"auth": {"reconnect_token_minutes": 0}}"#).unwrap_err();
    assert_eq!(err.code, ErrorCode::Config);
    engine.shutdown().await;
}

#[tokio::test]
async fn user_and_key_management_errors_leave_state_intact() {
    let (engine, d, _clock) = setup(EngineConfig::default()).await;
    let alice = d.create_user(new_user("alice", Some("pw"))).await.unwrap();

    let err = d
        .create_user(new_user("alice", Some("other")))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::AlreadyExists);
    let err = d.create_user(new_user("", Some("pw"))).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidArgument);
    let err = d.create_user(new_user("bob", Some(""))).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidArgument);
    let err = d.set_password("alice", "").await.unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidArgument);
    let err = d.set_password("nobody", "pw").await.unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound);
    let err = d.delete_user("nobody").await.unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound);
    // Case matters: "Alice" is another user.
    d.create_user(new_user("Alice", None)).await.unwrap();
    let names: Vec<String> = d.users().unwrap().into_iter().map(|u| u.username).collect();
    assert_eq!(names, vec!["Alice".to_string(), "alice".to_string()]);
    assert_eq!(
        auth(&engine)
            .user(d.key(), UserType::Normal, "alice")
            .unwrap()
            .map(tandem::api::User::from),
        Some(alice)
    );
    login(&engine, &d, password("alice", "pw")).await.unwrap();

    // Keys: bad PEM, duplicate id, empty id, unknown id.
    let err = d
        .add_jwt_key(key("bad", "not a key", true))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidArgument);
    assert!(err.message.contains("PEM"), "{}", err.message);
    let err = d
        .add_jwt_key(key("priv", A_PRIVATE, true))
        .await
        .unwrap_err();
    assert_eq!(
        err.code,
        ErrorCode::InvalidArgument,
        "a private key is refused"
    );
    let err = d.add_jwt_key(key("", A_PUBLIC, true)).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidArgument);
    let k1 = d.add_jwt_key(key("k1", A_PUBLIC, true)).await.unwrap();
    let err = d.add_jwt_key(key("k1", B_PUBLIC, true)).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::AlreadyExists);
    let err = d.remove_jwt_key("nope").await.unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound);
    assert_eq!(d.jwt_keys().unwrap(), vec![k1]);

    // Deleting users and keys.
    d.delete_user("Alice").await.unwrap();
    assert_eq!(d.users().unwrap().len(), 1);
    d.remove_jwt_key("k1").await.unwrap();
    assert!(d.jwt_keys().unwrap().is_empty());

    // Deleting the domain deletes its users, keys and tokens.
    d.add_jwt_key(key("k2", B_PUBLIC, true)).await.unwrap();
    let token = login(&engine, &d, password("alice", "pw"))
        .await
        .unwrap()
        .reconnect_token;
    engine.delete_domain("acme", "docs").await.unwrap();
    let key = DomainKey::new("acme", "docs");
    assert!(engine.store().users(&key).unwrap().is_empty());
    assert!(engine.store().jwt_keys(&key).unwrap().is_empty());
    assert!(engine
        .store()
        .reconnect_token(&key, &token)
        .unwrap()
        .is_none());
    let d = engine.create_domain("acme", "docs").await.unwrap();
    assert!(d.users().unwrap().is_empty());
    let err = auth(&engine)
        .create_user(&DomainKey::new("acme", "missing"), new_user("x", None))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::DomainNotFound(_)));
    engine.shutdown().await;
}

#[tokio::test]
async fn users_keys_and_tokens_survive_a_restart_on_lmdb() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let (token, anon_token, anon_name) = {
        let engine = open(EngineConfig::with_data_dir(dir.path()), clock.clone());
        let d = engine
            .create_domain_with(
                "acme",
                "docs",
                tandem::api::DomainSettings {
                    anonymous_auth: true,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        d.create_user(new_user("alice", Some("pw"))).await.unwrap();
        d.add_jwt_key(key("k1", A_PUBLIC, true)).await.unwrap();
        let a = login(&engine, &d, password("alice", "pw")).await.unwrap();
        let b = login(
            &engine,
            &d,
            Credentials::Anonymous {
                display_name: Some("G".into()),
            },
        )
        .await
        .unwrap();
        engine.shutdown().await;
        (a.reconnect_token, b.reconnect_token, b.user.username)
    };

    clock.advance(MINUTE);
    let engine = open(EngineConfig::with_data_dir(dir.path()), clock.clone());
    let d = engine.domain("acme", "docs").unwrap();
    let users = d.users().unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].last_login_ms, T0);
    assert!(users[0].has_password);
    assert_eq!(d.jwt_keys().unwrap().len(), 1);

    let a = login(&engine, &d, Credentials::Reconnect(token.clone()))
        .await
        .unwrap();
    assert_eq!(a.user.username, "alice");
    assert_eq!(a.reconnect_token, token);
    let b = login(&engine, &d, Credentials::Reconnect(anon_token))
        .await
        .unwrap();
    assert_eq!(b.user.user_type, UserType::Anonymous);
    assert_eq!(b.user.username, anon_name);
    assert_eq!(b.user.display_name, "G");
    login(&engine, &d, password("alice", "pw")).await.unwrap();
    let claims = json!({"sub": "carol", "aud": "Convergence", "exp": now_secs(&clock) + 60});
    login(
        &engine,
        &d,
        Credentials::Jwt(jwt(Some("k1"), A_PRIVATE, &claims)),
    )
    .await
    .unwrap();
    // The token slid forward and the slide is durable too.
    assert_eq!(
        engine
            .store()
            .reconnect_token(d.key(), &token)
            .unwrap()
            .unwrap()
            .expires_ms,
        T0 + MINUTE + 1440 * MINUTE
    );
    engine.shutdown().await;
}
