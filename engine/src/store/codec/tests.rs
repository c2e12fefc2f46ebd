//! Unit tests of the record codec.

use super::*;

fn splice_record() -> OpRecord {
    OpRecord {
        version: 123_456,
        timestamp_ms: 1_760_000_000_000,
        session: "s1".into(),
        user: "alice".into(),
        seq: Some(17),
        op: AppliedOperation::Discrete(AppliedOp {
            op: DiscreteOp::new(
                "2:5",
                OpKind::StringSplice {
                    index: 42,
                    delete_count: 0,
                    insert: "a".into(),
                },
            ),
            undo: Undo::None,
        }),
        mark: None,
    }
}

#[test]
fn single_char_splice_is_small() {
    let mut buf = Vec::new();
    encode_op(&splice_record(), &mut buf).unwrap();
    assert!(buf.len() <= 40, "encoded in {} bytes", buf.len());
    assert_eq!(decode_op(&buf).unwrap(), splice_record());
    assert_eq!(decode_op_time(&buf).unwrap(), (123_456, 1_760_000_000_000));
}

#[test]
fn garbage_is_corrupt_not_panic() {
    let mut buf = Vec::new();
    encode_op(&splice_record(), &mut buf).unwrap();
    for cut in 0..buf.len() {
        let _ = decode_op(&buf[..cut]);
    }
    for i in 0..buf.len() {
        let mut b = buf.clone();
        b[i] ^= 0xff;
        let _ = decode_op(&b);
    }
    assert!(matches!(
        decode_snapshot(&[0xff, 0xff, 0xff]),
        Err(StoreError::Corrupt(_))
    ));
    // A container claiming more children than exist.
    let bad = PSnapshot {
        version: 1,
        timestamp_ms: 0,
        data: vec![PNode {
            id: "0:0".into(),
            key: Vec::new(),
            data: Some(PData::Array(u64::MAX)),
        }],
    };
    assert!(matches!(
        decode_snapshot(&bad.encode_to_vec()),
        Err(StoreError::Corrupt(_))
    ));
}

#[test]
fn deep_trees_round_trip_without_recursion_limits() {
    let mut v = Value::new("leaf", Data::Null);
    for i in 0..1000 {
        v = Value::new(format!("n{i}"), Data::Array(vec![v]));
    }
    let s = Snapshot {
        version: 1,
        timestamp_ms: 5,
        data: v,
    };
    let mut buf = Vec::new();
    encode_snapshot(&s, &mut buf).unwrap();
    assert_eq!(decode_snapshot(&buf).unwrap(), s);
}

#[test]
fn auth_records_round_trip() {
    let user = UserRecord {
        user_type: UserType::Anonymous,
        username: "a\u{0}b".into(),
        display_name: "Ann".into(),
        first_name: String::new(),
        last_name: "L".into(),
        email: "a@example.com".into(),
        disabled: true,
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        created_ms: -5,
        last_login_ms: 1_760_000_000_000,
    };
    let mut buf = Vec::new();
    encode_user(&user, &mut buf);
    assert_eq!(decode_user(&buf).unwrap(), user);
    let no_password = UserRecord {
        password_hash: None,
        ..user
    };
    buf.clear();
    encode_user(&no_password, &mut buf);
    assert_eq!(decode_user(&buf).unwrap(), no_password);

    let key = JwtKeyRecord {
        id: "k1".into(),
        description: "d".into(),
        public_key_pem: "-----BEGIN PUBLIC KEY-----".into(),
        enabled: true,
        updated_ms: 7,
    };
    buf.clear();
    encode_jwt_key(&key, &mut buf);
    assert_eq!(decode_jwt_key(&buf).unwrap(), key);

    let token = ReconnectTokenRecord {
        token: "t".repeat(32),
        user_type: UserType::Convergence,
        username: "admin".into(),
        expires_ms: 86_400_000,
        sessions: vec!["s1".into(), "s2".into()],
    };
    buf.clear();
    encode_reconnect_token(&token, &mut buf);
    assert_eq!(decode_reconnect_token(&buf).unwrap(), token);

    let bad = PUser {
        user_type: 9,
        ..PUser::default()
    };
    assert!(matches!(
        decode_user(&bad.encode_to_vec()),
        Err(StoreError::Corrupt(_))
    ));
}

fn domain_record() -> DomainRecord {
    DomainRecord {
        key: DomainKey {
            namespace: "ns".into(),
            id: "d\u{0}😀".into(),
        },
        display_name: "D".into(),
        created_ms: -3,
        anonymous_auth: true,
        collection_auto_create: false,
        state: DomainState::Maintenance,
        reconnect_token_minutes: 7,
        default_collection_world: vec!["read".into(), "create".into()],
        admin_private_key_pem: "-----BEGIN PRIVATE KEY-----".into(),
        admin_public_key_pem: "-----BEGIN PUBLIC KEY-----".into(),
        snapshots: crate::store::SnapshotPolicies {
            domain: Some(crate::store::SnapshotPolicy {
                limited_by_time: true,
                min_time_interval_ms: 5,
                ..Default::default()
            }),
            collections: [(
                "c".to_string(),
                crate::store::SnapshotPolicy {
                    enabled: false,
                    max_version_interval: 7,
                    ..Default::default()
                },
            )]
            .into(),
        },
    }
}

#[test]
fn domain_records_round_trip_with_every_field() {
    let mut buf = Vec::new();
    for record in [
        domain_record(),
        // An empty list (nobody gets anything) is not the absent list of an older record.
        DomainRecord {
            state: DomainState::Offline,
            reconnect_token_minutes: 0,
            default_collection_world: Vec::new(),
            admin_private_key_pem: String::new(),
            admin_public_key_pem: String::new(),
            ..domain_record()
        },
        DomainRecord {
            state: DomainState::Online,
            ..domain_record()
        },
    ] {
        buf.clear();
        encode_domain(&record, &mut buf);
        assert_eq!(decode_domain(&buf).unwrap(), record);
    }
}

/// The domain record as builds before format version 3 wrote it.
#[derive(Clone, PartialEq, Message)]
struct PDomainV2 {
    #[prost(string, tag = "1")]
    namespace: String,
    #[prost(string, tag = "2")]
    id: String,
    #[prost(string, tag = "3")]
    display_name: String,
    #[prost(sint64, tag = "4")]
    created_ms: i64,
    #[prost(bool, tag = "5")]
    anonymous_auth: bool,
    #[prost(bool, tag = "6")]
    collection_auto_create: bool,
}

#[test]
fn an_older_domain_record_decodes_with_the_defaults() {
    let old = PDomainV2 {
        namespace: "ns".into(),
        id: "d".into(),
        display_name: "Old".into(),
        created_ms: 5,
        anonymous_auth: true,
        collection_auto_create: true,
    };
    let r = decode_domain(&old.encode_to_vec()).unwrap();
    assert_eq!(
        r,
        DomainRecord {
            key: DomainKey {
                namespace: "ns".into(),
                id: "d".into(),
            },
            display_name: "Old".into(),
            created_ms: 5,
            anonymous_auth: true,
            collection_auto_create: true,
            state: DomainState::Online,
            reconnect_token_minutes: 1440,
            default_collection_world: ["create", "read", "write", "remove", "manage"]
                .map(String::from)
                .to_vec(),
            admin_private_key_pem: String::new(),
            admin_public_key_pem: String::new(),
            snapshots: Default::default(),
        }
    );
    // And the new fields are not lost on the way back.
    let mut buf = Vec::new();
    encode_domain(&r, &mut buf);
    assert_eq!(decode_domain(&buf).unwrap(), r);
}

#[test]
fn an_unknown_domain_state_is_corrupt() {
    let bad = PDomain {
        state: 3,
        ..PDomain::default()
    };
    assert!(matches!(
        decode_domain(&bad.encode_to_vec()),
        Err(StoreError::Corrupt(_))
    ));
}

#[test]
fn groups_and_permission_rows_round_trip() {
    let group = crate::store::GroupRecord {
        id: "g\u{0}😀".into(),
        description: "editors".into(),
    };
    let mut buf = Vec::new();
    encode_group(&group, &mut buf);
    assert_eq!(decode_group(&buf).unwrap(), group);
    for list in [
        vec![],
        vec!["read".to_string()],
        vec!["a".into(), "".into()],
    ] {
        buf.clear();
        encode_permissions(&list, &mut buf);
        assert_eq!(decode_permissions(&buf).unwrap(), list);
    }
    assert!(matches!(
        decode_group(&[0xff, 0xff]),
        Err(StoreError::Corrupt(_))
    ));
    assert!(matches!(
        decode_permissions(&[0x0a, 0x05]),
        Err(StoreError::Corrupt(_))
    ));
}
