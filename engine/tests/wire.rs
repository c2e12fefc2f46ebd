//! The wire codec against the real client and the protocol reference: frames recorded from
//! `@convergence/convergence@1.0.0-rc.12` (see `tests/wire-capture/`), the reference's
//! byte-level examples, wrapper presence, map entries with empty values, oneof defaults, and
//! garbage input.

use std::collections::{BTreeMap, HashMap};

use proptest::prelude::*;
use prost::Message;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{value::Kind, DescriptorProto, FileDescriptorSet, Timestamp, Value};
use tandem::protocol::codec::{
    body_name, check_ids, decode, encode, message_class, normal, request, response, Body,
    CodecError, Envelope, MessageClass,
};
use tandem::protocol::wire::proto::{activity, core, identity, model, presence};
use tandem::protocol::wire::FILE_DESCRIPTOR_SET;

const CLIENT_FRAMES: &str = include_str!("fixtures/client_frames.txt");

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(s.len() % 2 == 0, "odd hex: {s}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn client_frames() -> Vec<(&'static str, Vec<u8>)> {
    CLIENT_FRAMES
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let (name, bytes) = line.split_once(' ').expect("`name hex` line");
            (name, hex(bytes))
        })
        .collect()
}

fn cached_client_frames() -> &'static [(&'static str, Vec<u8>)] {
    static FRAMES: std::sync::OnceLock<Vec<(&'static str, Vec<u8>)>> = std::sync::OnceLock::new();
    FRAMES.get_or_init(client_frames)
}

fn frame<'a>(frames: &'a [(&str, Vec<u8>)], name: &str) -> &'a [u8] {
    &frames
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("fixture {name} missing"))
        .1
}

fn body(msg: &Envelope) -> &Body {
    msg.body.as_ref().expect("body")
}

// ---------------------------------------------------------------------------------------------
// A hand-written protobuf reader, independent of prost, to check bytes on the wire.
// ---------------------------------------------------------------------------------------------

/// A field on the wire: number and, for length-delimited fields, the payload.
#[derive(Debug)]
struct RawField<'a> {
    number: u64,
    payload: Option<&'a [u8]>,
}

fn read_varint(input: &mut &[u8]) -> u64 {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = input[0];
        *input = &input[1..];
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return value;
        }
    }
    panic!("varint too long")
}

fn raw_fields(mut input: &[u8]) -> Vec<RawField<'_>> {
    let mut out = Vec::new();
    while !input.is_empty() {
        let key = read_varint(&mut input);
        let payload = match key & 7 {
            0 => {
                read_varint(&mut input);
                None
            }
            1 => {
                input = &input[8..];
                None
            }
            2 => {
                let len = read_varint(&mut input) as usize;
                let (payload, rest) = input.split_at(len);
                input = rest;
                Some(payload)
            }
            5 => {
                input = &input[4..];
                None
            }
            t => panic!("unexpected wire type {t}"),
        };
        out.push(RawField {
            number: key >> 3,
            payload,
        });
    }
    out
}

/// The payloads of every field `number` of a message.
fn payloads(message: &[u8], number: u64) -> Vec<&[u8]> {
    raw_fields(message)
        .into_iter()
        .filter(|f| f.number == number)
        .map(|f| f.payload.expect("length-delimited"))
        .collect()
}

/// The entries of the map at `path` (message fields to descend into, then the map field),
/// starting from the frame, as (key, whether field 2 is present).
fn map_entries(frame: &[u8], path: &[u64]) -> Vec<(String, bool)> {
    let (&map_field, parents) = path.split_last().unwrap();
    let mut message = frame;
    for &number in parents {
        let found = payloads(message, number);
        assert_eq!(found.len(), 1, "field {number} on the path {path:?}");
        message = found[0];
    }
    payloads(message, map_field)
        .into_iter()
        .map(|entry| {
            let fields = raw_fields(entry);
            let key = fields
                .iter()
                .find(|f| f.number == 1)
                .map(|f| String::from_utf8(f.payload.unwrap().to_vec()).unwrap())
                .unwrap_or_default();
            (key, fields.iter().any(|f| f.number == 2))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Real client frames
// ---------------------------------------------------------------------------------------------

#[test]
fn every_recorded_client_frame_decodes_to_its_body_and_round_trips() {
    let frames = client_frames();
    assert!(frames.len() >= 100, "fixture has {} frames", frames.len());
    let mut identical = Vec::new();
    for (name, bytes) in &frames {
        let expected_body = name.split('.').next().unwrap();
        let msg = decode(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(body_name(body(&msg)), expected_body, "{name}");
        // The client's ids always fit the body's class.
        let class = check_ids(&msg).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_ne!(class, MessageClass::ResponseOrNormal, "{name}");

        let encoded = encode(&msg);
        assert_eq!(decode(&encoded).unwrap(), msg, "{name}: re-encoded differs");
        if encoded == *bytes {
            identical.push(*name);
        } else {
            // The client spells out default scalars and wrapper contents and writes maps in
            // insertion order; the canonical form leaves the former out and sorts the
            // latter, so it is never longer.
            assert!(
                encoded.len() <= bytes.len(),
                "{name}: canonical form is longer\n client {}\n ours   {}",
                to_hex(bytes),
                to_hex(&encoded)
            );
        }
    }
    // 55 of the 119 recorded frames are already canonical.
    assert!(
        identical.len() >= 50,
        "only {} frames byte-identical",
        identical.len()
    );
}

/// Our encoding of each client frame is exactly the client's bytes in canonical form: the
/// same fields, minus the default scalars the client spells out, with map entries in key
/// order. The canonical form is computed from the client bytes with the compiled schema and a
/// hand-written walker, independently of prost.
#[test]
fn re_encoded_client_frames_are_the_client_bytes_in_canonical_form() {
    let schema = Schema::load();
    for (name, bytes) in &client_frames() {
        let expected = schema.canonical(bytes, ".convergence.ConvergenceMessage");
        let ours = encode(&decode(bytes).unwrap());
        assert_eq!(
            to_hex(&ours),
            to_hex(&expected),
            "{name}\n client {}",
            to_hex(bytes)
        );
    }
}

#[test]
fn client_frames_carry_the_expected_content() {
    let frames = client_frames();

    // Anonymous without a display name: exactly the reference's example.
    let rq0 = frame(&frames, "connectionRequest.anonymous_no_name");
    assert_eq!(
        to_hex(rq0),
        "0a0208003a1b0a0a4a617661536372697074120b312e302e302d72632e31322a00"
    );

    // The string splice with an emoji: UTF-16 indexes, UTF-8 text.
    let msg = decode(frame(&frames, "operationSubmission.string_splice_emoji")).unwrap();
    let Body::OperationSubmission(sub) = body(&msg) else {
        panic!("not a submission")
    };
    assert_eq!(msg.request_id, None);
    let Some(model::operation_data::Operation::DiscreteOperation(op)) =
        sub.operation.as_ref().and_then(|o| o.operation.clone())
    else {
        panic!("not discrete")
    };
    let Some(model::discrete_operation_data::Operation::StringSpliceOperation(splice)) =
        op.operation
    else {
        panic!("not a splice")
    };
    assert_eq!((splice.index, splice.delete_count), (1, 2));
    assert_eq!(splice.inserted_value, "😀é".as_bytes());

    // A batch arrives as one compound operation.
    let msg = decode(frame(&frames, "operationSubmission.compound")).unwrap();
    let Body::OperationSubmission(sub) = body(&msg) else {
        panic!("not a submission")
    };
    let Some(model::operation_data::Operation::CompoundOperation(c)) =
        sub.operation.as_ref().and_then(|o| o.operation.clone())
    else {
        panic!("not compound")
    };
    assert_eq!(c.operations.len(), 3);

    // Model-level references: valueId is a present but empty wrapper.
    let msg = decode(frame(&frames, "shareReference.reference_element")).unwrap();
    let Body::ShareReference(share) = body(&msg) else {
        panic!("not a share")
    };
    assert_eq!(share.value_id.as_deref(), Some(""));

    // The auto-create id 0 is a present wrapper.
    let msg = decode(frame(&frames, "openRealTimeModelRequest.open_auto_create")).unwrap();
    let Body::OpenRealTimeModelRequest(open) = body(&msg) else {
        panic!("not an open")
    };
    assert_eq!(open.auto_create_id, Some(0));
    assert_eq!(open.model_id.as_deref(), Some("m1"));

    // The client's reply to the server's auto-create request is a response.
    let msg = decode(frame(
        &frames,
        "modelAutoCreateConfigResponse.open_auto_create",
    ))
    .unwrap();
    assert_eq!((msg.request_id, msg.response_id), (None, Some(0)));
    assert_eq!(message_class(body(&msg)), MessageClass::Response);

    // Reconnect-token authentication.
    let msg = decode(frame(&frames, "connectionRequest.reconnect")).unwrap();
    let Body::ConnectionRequest(conn) = body(&msg) else {
        panic!("not a connection request")
    };
    assert_eq!(msg.request_id, Some(0));
    assert!(matches!(
        conn.auth,
        Some(core::connection_request_message::Auth::Reconnect(_))
    ));

    // Chat search: the client's bug sends limit and offset as empty wrappers.
    let msg = decode(frame(&frames, "chatsSearchRequest.chat_search")).unwrap();
    let Body::ChatsSearchRequest(search) = body(&msg) else {
        panic!("not a chat search")
    };
    assert_eq!((search.offset, search.limit), (Some(0), Some(0)));

    // A group with an empty permission list: the client writes the entry's value, and so do we.
    let add = frame(&frames, "addPermissionsRequest.activity_permissions.3");
    let entries = map_entries(add, &[603, 4]);
    assert!(entries.contains(&("empty".to_owned(), true)), "{entries:?}");
    assert_eq!(encode(&decode(add).unwrap()), add);
}

/// The compiled schema, for the canonical-form check.
struct Schema(HashMap<String, DescriptorProto>);

impl Schema {
    fn load() -> Self {
        fn add(prefix: &str, msg: &DescriptorProto, out: &mut HashMap<String, DescriptorProto>) {
            let name = format!("{prefix}.{}", msg.name());
            for nested in &msg.nested_type {
                add(&name, nested, out);
            }
            out.insert(name, msg.clone());
        }
        let fds = FileDescriptorSet::decode(FILE_DESCRIPTOR_SET).unwrap();
        let mut types = HashMap::new();
        for file in &fds.file {
            for msg in &file.message_type {
                add(&format!(".{}", file.package()), msg, &mut types);
            }
        }
        assert!(
            types.contains_key(".google.protobuf.Value"),
            "imports missing"
        );
        Schema(types)
    }

    /// The canonical (proto3, prost-style) form of `bytes` as a message of `type_name`.
    fn canonical(&self, bytes: &[u8], type_name: &str) -> Vec<u8> {
        let msg = &self.0[type_name];
        // (field number, encoded field) in field-number order; map entries sorted by key.
        let mut out: Vec<(i32, Vec<u8>, Vec<u8>)> = Vec::new();
        let mut input = bytes;
        while !input.is_empty() {
            let start = input;
            let key = read_varint(&mut input);
            let number = (key >> 3) as i32;
            let field = msg
                .field
                .iter()
                .find(|f| f.number() == number)
                .unwrap_or_else(|| panic!("{type_name} has no field {number}"));
            let (raw, payload): (&[u8], Option<&[u8]>) = match key & 7 {
                0 => {
                    let v = read_varint(&mut input);
                    (
                        &start[..start.len() - input.len()],
                        (v != 0).then_some(&[][..]),
                    )
                }
                1 | 5 => {
                    let n = if key & 7 == 1 { 8 } else { 4 };
                    let zero = input[..n].iter().all(|b| *b == 0);
                    input = &input[n..];
                    (
                        &start[..start.len() - input.len()],
                        (!zero).then_some(&[][..]),
                    )
                }
                2 => {
                    let len = read_varint(&mut input) as usize;
                    let payload = &input[..len];
                    input = &input[len..];
                    (&start[..start.len() - input.len()], Some(payload))
                }
                t => panic!("wire type {t}"),
            };
            let is_message = field.r#type() == Type::Message;
            let repeated = field.label() == Label::Repeated;
            if is_message {
                let inner = self.canonical(payload.unwrap(), field.type_name());
                let entry = &self.0[field.type_name()];
                let sort_key = if entry.options.as_ref().is_some_and(|o| o.map_entry()) {
                    // The map key is the entry's field 1 (a string in this schema).
                    payloads(&inner, 1)
                        .first()
                        .map(|k| k.to_vec())
                        .unwrap_or_default()
                } else {
                    Vec::new()
                };
                let mut encoded = Vec::new();
                push_len(&mut encoded, key as usize);
                push_len(&mut encoded, inner.len());
                encoded.extend_from_slice(&inner);
                out.push((number, sort_key, encoded));
            } else {
                // Implicit presence: a default scalar outside a oneof is not written.
                let written_anyway = field.oneof_index.is_some() || repeated;
                let is_default = match payload {
                    None => true,
                    Some(p) => key & 7 == 2 && p.is_empty(),
                };
                if written_anyway || !is_default {
                    out.push((number, Vec::new(), raw.to_vec()));
                }
            }
        }
        // Stable: repeated fields keep their order; map entries go in key order.
        out.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        out.into_iter().flat_map(|(_, _, bytes)| bytes).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// The reference's byte-level examples (Appendix B)
// ---------------------------------------------------------------------------------------------

/// Examples already in canonical form come back byte for byte.
#[test]
fn appendix_b_canonical_examples_round_trip_exactly() {
    let ping = hex("2a 00");
    let msg = decode(&ping).unwrap();
    assert_eq!(msg, normal(Body::Ping(core::PingMessage {})));
    assert_eq!(encode(&msg), ping);

    let ok = hex("12 00 1a 00");
    let msg = decode(&ok).unwrap();
    assert_eq!(msg, response(0, Body::Ok(core::OkResponse {})));
    assert_eq!(encode(&msg), ok);
}

/// Examples written by the client decode to exactly the message they describe. Re-encoded,
/// they differ only by the default values the client spells out (a wrapper's inner 0, a
/// `resourceId` of 0, `noOp: false`, ...), which the canonical form leaves out; both forms
/// decode to the same message, in prost and in the client.
#[test]
fn appendix_b_client_examples_decode_exactly_and_re_encode_canonically() {
    let cases: Vec<(&str, &str, Envelope, &str)> = vec![
        (
            "rq0 anonymous connectionRequest",
            "0a 02 08 00 3a 1b 0a 0a 4a 61 76 61 53 63 72 69 70 74 12 0b 31 2e 30 2e 30 2d 72 63 2e 31 32 2a 00",
            request(
                0,
                Body::ConnectionRequest(core::ConnectionRequestMessage {
                    client: "JavaScript".into(),
                    client_version: "1.0.0-rc.12".into(),
                    auth: Some(core::connection_request_message::Auth::Anonymous(
                        core::connection_request_message::AnonymousAuthRequestData {
                            display_name: None,
                        },
                    )),
                }),
            ),
            // requestId 0: `0a 02 08 00` becomes the empty wrapper `0a 00`.
            "0a 00 3a 1b 0a 0a 4a 61 76 61 53 63 72 69 70 74 12 0b 31 2e 30 2e 30 2d 72 63 2e 31 32 2a 00",
        ),
        (
            "rq3 openRealTimeModelRequest",
            "0a 02 08 03 a2 06 0a 0a 04 0a 02 6d 31 12 02 08 00",
            request(
                3,
                Body::OpenRealTimeModelRequest(model::OpenRealtimeModelRequestMessage {
                    model_id: Some("m1".into()),
                    auto_create_id: Some(0),
                }),
            ),
            // autoCreateId 0: `12 02 08 00` becomes `12 00`.
            "0a 02 08 03 a2 06 08 0a 04 0a 02 6d 31 12 00",
        ),
        (
            "model-level shareReference",
            "a2 07 10 08 00 12 00 1a 01 6b 22 05 22 03 0a 01 61 28 05",
            normal(Body::ShareReference(model::ShareReferenceMessage {
                resource_id: 0,
                value_id: Some(String::new()),
                key: "k".into(),
                references: Some(model::ReferenceValues {
                    values: Some(model::reference_values::Values::Elements(
                        core::StringList {
                            values: vec!["a".into()],
                        },
                    )),
                }),
                version: 5,
            })),
            // resourceId 0 (`08 00`) is left out; the empty valueId wrapper stays.
            "a2 07 0e 12 00 1a 01 6b 22 05 22 03 0a 01 61 28 05",
        ),
        (
            "operationSubmission with a splice",
            "92 07 1a 08 00 10 01 18 01 22 12 0a 10 0a 0e 0a 03 32 3a 30 10 00 18 00 20 00 2a 01 78",
            normal(Body::OperationSubmission(model::OperationSubmissionMessage {
                resource_id: 0,
                sequence_number: 1,
                context_version: 1,
                operation: Some(model::OperationData {
                    operation: Some(model::operation_data::Operation::DiscreteOperation(
                        model::DiscreteOperationData {
                            operation: Some(
                                model::discrete_operation_data::Operation::StringSpliceOperation(
                                    model::StringSpliceOperationData {
                                        id: "2:0".into(),
                                        no_op: false,
                                        index: 0,
                                        delete_count: 0,
                                        inserted_value: "x".into(),
                                    },
                                ),
                            ),
                        },
                    )),
                }),
            })),
            // resourceId 0, noOp false, index 0 and deleteCount 0 are left out.
            "92 07 12 10 01 18 01 22 0c 0a 0a 0a 08 0a 03 32 3a 30 2a 01 78",
        ),
    ];
    for (what, client, expected, canonical) in cases {
        let msg = decode(&hex(client)).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(msg, expected, "{what}");
        let encoded = encode(&msg);
        assert_eq!(to_hex(&encoded), to_hex(&hex(canonical)), "{what}");
        assert_eq!(decode(&encoded).unwrap(), expected, "{what}");
    }
}

// ---------------------------------------------------------------------------------------------
// Ids: presence, not value
// ---------------------------------------------------------------------------------------------

#[test]
fn request_id_zero_is_a_present_wrapper() {
    // `0a 02 08 00` and `0a 00` are both request 0; no wrapper is no request.
    for bytes in ["0a 02 08 00 a2 06 00", "0a 00 a2 06 00"] {
        let msg = decode(&hex(bytes)).unwrap();
        assert_eq!(msg.request_id, Some(0), "{bytes}");
        assert_eq!(msg.response_id, None);
        assert_eq!(check_ids(&msg), Ok(MessageClass::Request));
    }
    let msg = decode(&hex("a2 06 00")).unwrap();
    assert_eq!(msg.request_id, None);
    assert!(matches!(
        check_ids(&msg),
        Err(CodecError::IdsMismatch {
            body: "openRealTimeModelRequest",
            class: MessageClass::Request,
            ..
        })
    ));
}

#[test]
fn response_id_empty_wrapper_is_response_zero() {
    let msg = decode(&hex("12 00 42 00")).unwrap();
    assert_eq!(msg.response_id, Some(0));
    assert_eq!(msg.request_id, None);
    assert!(matches!(body(&msg), Body::ConnectionResponse(_)));
    assert_eq!(check_ids(&msg), Ok(MessageClass::Response));
    // And the server's reply to request 0 is written that way.
    let reply = response(
        0,
        Body::ConnectionResponse(core::ConnectionResponseMessage::default()),
    );
    assert_eq!(to_hex(&encode(&reply)), "12004200");
}

#[test]
fn id_rules_per_class() {
    let ping = normal(Body::Ping(core::PingMessage {}));
    assert_eq!(check_ids(&ping), Ok(MessageClass::Normal));
    let mut with_id = ping.clone();
    with_id.request_id = Some(1);
    assert!(check_ids(&with_id).is_err());

    let error = Body::Error(core::ErrorMessage::default());
    assert_eq!(
        check_ids(&response(4, error.clone())),
        Ok(MessageClass::ResponseOrNormal)
    );
    assert_eq!(
        check_ids(&normal(error.clone())),
        Ok(MessageClass::ResponseOrNormal)
    );
    assert!(check_ids(&request(4, error)).is_err());

    let auto_create =
        Body::ModelAutoCreateConfigRequest(model::AutoCreateModelConfigRequestMessage {
            auto_create_id: 0,
        });
    assert_eq!(message_class(&auto_create), MessageClass::Request);
    let mut both = request(0, auto_create);
    both.response_id = Some(0);
    assert!(check_ids(&both).is_err());
}

// ---------------------------------------------------------------------------------------------
// Map entries with empty message values
// ---------------------------------------------------------------------------------------------

fn number(n: f64) -> Value {
    Value {
        kind: Some(Kind::NumberValue(n)),
    }
}

fn permissions(values: &[&str]) -> core::PermissionsList {
    core::PermissionsList {
        values: values.iter().map(|s| s.to_string()).collect(),
    }
}

fn groups() -> BTreeMap<String, core::PermissionsList> {
    BTreeMap::from([
        ("editors".to_owned(), permissions(&["join"])),
        ("nobody".to_owned(), permissions(&[])),
    ])
}

#[test]
fn empty_map_values_are_written() {
    let states = BTreeMap::from([
        ("s1".to_owned(), activity::ActivityStateData::default()),
        (
            "s2".to_owned(),
            activity::ActivityStateData {
                state: BTreeMap::from([("cursor".to_owned(), number(3.0))]),
            },
        ),
    ]);
    let target = Some(core::PermissionTarget {
        target_type: Some(core::permission_target::TargetType::Chat(
            core::permission_target::Chat { id: "c".into() },
        )),
    });
    let cases: Vec<(Envelope, &[u64], usize)> = vec![
        (
            response(
                1,
                Body::ActivityJoinResponse(activity::ActivityJoinResponseMessage {
                    resource_id: 0,
                    state: states.clone(),
                    ephemeral: false,
                    created: Some(Timestamp::default()),
                }),
            ),
            &[307, 2],
            2,
        ),
        (
            response(
                2,
                Body::ActivityParticipantsResponse(activity::ActivityParticipantsResponseMessage {
                    state: states,
                }),
            ),
            &[301, 1],
            2,
        ),
        (
            response(
                3,
                Body::GetPermissionsResponse(core::GetPermissionsResponseMessage {
                    user: vec![],
                    group: groups(),
                    world: vec![],
                }),
            ),
            &[610, 2],
            2,
        ),
        (
            normal(Body::IdentityCacheUpdate(
                identity::IdentityCacheUpdateMessage {
                    sessions: BTreeMap::from([(
                        "s0".to_owned(),
                        core::DomainUserIdData::default(),
                    )]),
                    users: vec![],
                },
            )),
            &[200, 1],
            1,
        ),
        (
            request(
                4,
                Body::ActivityCreateRequest(activity::ActivityCreateRequestMessage {
                    activity_type: "doc".into(),
                    group_permissions: groups(),
                    ..Default::default()
                }),
            ),
            &[302, 5],
            2,
        ),
        (
            request(
                5,
                Body::ActivityJoinRequest(activity::ActivityJoinRequestMessage {
                    activity_type: "doc".into(),
                    auto_create_data: Some(
                        activity::activity_join_request_message::AutoCreateData {
                            group_permissions: groups(),
                            ..Default::default()
                        },
                    ),
                    ..Default::default()
                }),
            ),
            &[306, 5, 5],
            2,
        ),
        (
            request(
                6,
                Body::AddPermissionsRequest(core::AddPermissionsRequestMessage {
                    target: target.clone(),
                    group: groups(),
                    ..Default::default()
                }),
            ),
            &[603, 4],
            2,
        ),
        (
            request(
                7,
                Body::RemovePermissionsRequest(core::RemovePermissionsRequestMessage {
                    target: target.clone(),
                    group: groups(),
                    ..Default::default()
                }),
            ),
            &[605, 4],
            2,
        ),
        (
            request(
                8,
                Body::SetPermissionsRequest(core::SetPermissionsRequestMessage {
                    target,
                    group: Some(core::set_permissions_request_message::SetGroup {
                        permissions: groups(),
                        replace_all: true,
                    }),
                    ..Default::default()
                }),
            ),
            &[607, 4, 1],
            2,
        ),
    ];
    for (msg, path, count) in cases {
        let bytes = encode(&msg);
        let entries = map_entries(&bytes, path);
        assert_eq!(entries.len(), count, "{path:?}: {entries:?}");
        for (key, has_value) in &entries {
            assert!(
                has_value,
                "{path:?}: entry {key:?} has no value\n{}",
                to_hex(&bytes)
            );
        }
        assert_eq!(decode(&bytes).unwrap(), msg, "{path:?}");
        // prost alone drops the empty value; the codec is what writes it.
        let plain = msg.encode_to_vec();
        assert!(
            map_entries(&plain, path).iter().any(|(_, has)| !has),
            "{path:?}: the case has no empty value to fix"
        );
    }
}

#[test]
fn activity_join_response_bytes() {
    let msg = response(
        1,
        Body::ActivityJoinResponse(activity::ActivityJoinResponseMessage {
            resource_id: 0,
            state: BTreeMap::from([("a".to_owned(), activity::ActivityStateData::default())]),
            ephemeral: false,
            created: Some(Timestamp::default()),
        }),
    );
    // responseId 1; body 307; state entry {key "a", value {}}; created {}.
    assert_eq!(
        to_hex(&encode(&msg)),
        to_hex(&hex("12 02 08 01 9a 13 09 12 05 0a 01 61 12 00 2a 00"))
    );
}

#[test]
fn value_maps_are_left_alone() {
    // Maps of DataValue and g.Value never hold a default value; the codec does not touch them.
    let msg = normal(Body::PresenceSetState(presence::PresenceSetStateMessage {
        state: BTreeMap::from([("k".to_owned(), number(1.0))]),
    }));
    assert_eq!(encode(&msg), msg.encode_to_vec());
}

// ---------------------------------------------------------------------------------------------
// Oneof members with default content are written
// ---------------------------------------------------------------------------------------------

#[test]
fn oneof_defaults_are_written() {
    assert_eq!(
        to_hex(&encode(&response(0, Body::Ok(core::OkResponse {})))),
        "12001a00"
    );
    assert_eq!(
        to_hex(&encode(&normal(Body::Pong(core::PongMessage {})))),
        "3200"
    );
    // presenceSetState {state: {"k": null}}: Value{nullValue: 0} is `08 00`.
    let null = Value {
        kind: Some(Kind::NullValue(0)),
    };
    let msg = normal(Body::PresenceSetState(presence::PresenceSetStateMessage {
        state: BTreeMap::from([("k".to_owned(), null)]),
    }));
    assert_eq!(
        to_hex(&encode(&msg)),
        to_hex(&hex("82 19 09 0a 07 0a 01 6b 12 02 08 00"))
    );
    assert_eq!(decode(&encode(&msg)).unwrap(), msg);
    // Value{numberValue: 0} is `11` and eight zero bytes.
    let msg = normal(Body::PresenceSetState(presence::PresenceSetStateMessage {
        state: BTreeMap::from([("k".to_owned(), number(0.0))]),
    }));
    assert_eq!(
        to_hex(&encode(&msg)),
        to_hex(&hex(
            "82 19 10 0a 0e 0a 01 6b 12 09 11 00 00 00 00 00 00 00 00"
        ))
    );
    // An offline update with `deleted: false` still says which action it is.
    let msg = normal(Body::ModelOfflineUpdated(
        model::OfflineModelUpdatedMessage {
            model_id: String::new(),
            action: Some(model::offline_model_updated_message::Action::Deleted(false)),
        },
    ));
    assert_eq!(to_hex(&encode(&msg)), "d208021000");
}

// ---------------------------------------------------------------------------------------------
// Garbage
// ---------------------------------------------------------------------------------------------

#[test]
fn garbage_is_an_error() {
    for bytes in [
        "ff",             // truncated varint key
        "0a 05 08",       // length beyond the frame
        "0f",             // wire type 7
        "3a 05 00",       // body length beyond the frame
        "0a 02 08",       // truncated wrapper
        "3a 02 0a ff",    // truncated inner length
        "3a 03 0a 01 ff", // invalid UTF-8 in a string
        "00",             // field number 0
    ] {
        assert!(
            matches!(decode(&hex(bytes)), Err(CodecError::Malformed(_))),
            "{bytes}"
        );
    }
    assert_eq!(
        decode(&[]),
        Err(CodecError::NoBody {
            request_id: None,
            response_id: None
        })
    );
    // An unknown body (field 1001) keeps the request id so it can still be answered.
    assert_eq!(
        decode(&hex("0a 02 08 07 ca 3e 00")),
        Err(CodecError::NoBody {
            request_id: Some(7),
            response_id: None
        })
    );
}

#[test]
fn deep_nesting_is_refused_without_overflowing_the_stack() {
    // A DataValue of arrays nested 2 000 deep (prost refuses beyond 100) in an arrayInsert.
    let mut value: Vec<u8> = Vec::new();
    for _ in 0..2_000 {
        // DataValue{arrayValue: ArrayValue{children: [value]}}
        let mut array = vec![0x12];
        push_len(&mut array, value.len());
        array.extend_from_slice(&value);
        let mut data_value = vec![0x12];
        push_len(&mut data_value, array.len());
        data_value.extend_from_slice(&array);
        value = data_value;
    }
    let mut insert = vec![0x22];
    push_len(&mut insert, value.len());
    insert.extend_from_slice(&value);
    let mut discrete = vec![0x1a];
    push_len(&mut discrete, insert.len());
    discrete.extend_from_slice(&insert);
    let mut operation = vec![0x0a];
    push_len(&mut operation, discrete.len());
    operation.extend_from_slice(&discrete);
    let mut submission = vec![0x22];
    push_len(&mut submission, operation.len());
    submission.extend_from_slice(&operation);
    let mut frame = vec![0x92, 0x07];
    push_len(&mut frame, submission.len());
    frame.extend_from_slice(&submission);
    assert!(matches!(decode(&frame), Err(CodecError::Malformed(_))));
}

fn push_len(out: &mut Vec<u8>, mut len: usize) {
    loop {
        let byte = (len & 0x7f) as u8;
        len >>= 7;
        if len == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Random bytes never panic; whatever decodes re-encodes to the same message.
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(msg) = decode(&bytes) {
            prop_assert_eq!(decode(&encode(&msg)).unwrap(), msg);
        }
    }

    /// Mutations of real client frames (flipped, cut, spliced bytes) never panic either.
    #[test]
    fn mutated_client_frames_never_panic(
        index in any::<prop::sample::Index>(),
        position in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        cut in any::<prop::sample::Index>(),
    ) {
        let frames = cached_client_frames();
        let mut bytes = index.get(frames).1.clone();
        let at = position.index(bytes.len());
        bytes[at] = byte;
        bytes.truncate(cut.index(bytes.len() + 1).max(1));
        if let Ok(msg) = decode(&bytes) {
            prop_assert_eq!(decode(&encode(&msg)).unwrap(), msg);
        }
    }
}
