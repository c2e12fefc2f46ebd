//! JWT parsing and verification as a JWT login does it. Half the inputs are taken as a whole
//! token (arbitrary bytes); the other half as a header and claims that are signed with the
//! trusted key first, so that the claim checks (`exp`, `nbf`, `aud`, `sub`) are reached.
//! Either way the result is a typed error or a username.
#![no_main]

use std::sync::OnceLock;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use libfuzzer_sys::fuzz_target;
use serde_json::Value as Json;
use tandem::fuzzing::JwtChecker;

const PUBLIC: &str = include_str!("../../engine/tests/fixtures/jwt/a-public.pem");
const PRIVATE: &str = include_str!("../../engine/tests/fixtures/jwt/a-private.pem");

fn checker() -> &'static (JwtChecker, EncodingKey) {
    static CHECKER: OnceLock<(JwtChecker, EncodingKey)> = OnceLock::new();
    CHECKER.get_or_init(|| {
        let checker = JwtChecker::new("a", PUBLIC, 1_700_000_000_000).expect("checker");
        let key = EncodingKey::from_rsa_pem(PRIVATE.as_bytes()).expect("private key");
        (checker, key)
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let (checker, key) = checker();
    if mode % 2 == 0 {
        let _ = checker.verify(text);
        return;
    }
    // `kid|claims`: sign the claims (any JSON object) under the given key id.
    let (kid, claims) = text.split_once('|').unwrap_or(("a", text));
    let Ok(claims) = serde_json::from_str::<Json>(claims) else {
        return;
    };
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_string());
    if let Ok(token) = jsonwebtoken::encode(&header, &claims, key) {
        if let Ok(sub) = checker.verify(&token) {
            assert!(!sub.is_empty(), "an empty subject was accepted");
        }
    }
});
