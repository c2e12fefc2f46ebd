//! Strings are JavaScript strings: unpaired surrogates go through the facade, JSON text in and
//! out, history, snapshots and the write-ahead log, and come back equal after a restart.

use tandem::api::{
    changes_from_str, parse_json, path, Change, Engine, EngineConfig, JsString, JsonValue,
    PathSegment,
};

/// `{"t": "a😀b", "k\udc00": "\ud83d"}`: a pair in the text, lone surrogates in a key and value.
const DATA: &str = r#"{"t":"a\ud83d\ude00b","k\udc00":"\ud83d"}"#;

fn config(dir: &std::path::Path) -> EngineConfig {
    let mut config = EngineConfig::with_data_dir(dir);
    // A snapshot after every operation, so both snapshots and the log are exercised.
    config.models.snapshot_every_ops = 2;
    config
}

fn units(json: &JsonValue, key: &str) -> Vec<u16> {
    json.get(key)
        .and_then(JsonValue::as_js_string)
        .map(|s| s.units().to_vec())
        .unwrap_or_default()
}

#[tokio::test]
async fn lone_surrogates_survive_facade_json_history_and_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let expected = {
        let engine = Engine::open(config(dir.path())).expect("engine");
        let d = engine.create_domain("acme", "docs").await.expect("domain");
        let data = parse_json(DATA).expect("json with lone surrogates");
        let m = d
            .create_model_json("notes", Some("n1"), &data)
            .await
            .expect("model");
        assert_eq!(
            m.json_text().await.expect("json"),
            r#"{"k\udc00":"\ud83d","t":"a😀b"}"#
        );

        // 😀 -> 😁 as a textarea diff makes it: one code unit replaced by a lone low surrogate.
        let diff = changes_from_str(
            r#"{"op":"splice","path":["t"],"index":2,"delete":1,"insert":"\ude01"}"#,
        )
        .expect("change");
        m.apply(diff).await.expect("splice inside a pair");
        assert_eq!(
            m.json_text().await.expect("json"),
            r#"{"k\udc00":"\ud83d","t":"a😁b"}"#
        );
        // Remove the high half, then insert between what is left and its neighbour.
        m.apply(vec![Change::Splice {
            path: path(&["t"]),
            index: 1,
            delete: 1,
            insert: JsString::new(),
        }])
        .await
        .expect("remove one half");
        m.apply(vec![Change::Splice {
            path: path(&["t"]),
            index: 1,
            delete: 0,
            insert: JsString::from_units(vec![0xD83D, 0x78]),
        }])
        .await
        .expect("insert a high half");
        let key = PathSegment::Key(JsString::from_units(vec![0x6B, 0xDC00]));
        m.apply(vec![Change::Splice {
            path: vec![key],
            index: 1,
            delete: 0,
            insert: JsString::from_units(vec![0xDE00]),
        }])
        .await
        .expect("complete a pair in the keyed value");
        let text = m.json_text().await.expect("json");
        assert_eq!(text, r#"{"k\udc00":"😀","t":"a\ud83dx\ude01b"}"#);
        let exact = parse_json(&text).expect("own output parses");
        assert_eq!(units(&exact, "t"), [0x61, 0xD83D, 0x78, 0xDE01, 0x62]);
        // The serde_json view is lossy by necessity.
        assert_eq!(m.json().await.expect("json")["t"], "a\u{FFFD}x\u{FFFD}b");
        // History plays back exactly.
        assert_eq!(
            m.json_text_at(2).expect("v2"),
            r#"{"k\udc00":"\ud83d","t":"a😁b"}"#
        );
        assert_eq!(
            m.json_text_at(3).expect("v3"),
            r#"{"k\udc00":"\ud83d","t":"a\ude01b"}"#
        );
        engine.shutdown().await;
        text
    };
    let engine = Engine::open(config(dir.path())).expect("reopen");
    let m = engine
        .domain("acme", "docs")
        .and_then(|d| d.model("n1"))
        .expect("model");
    assert_eq!(m.json_text().await.expect("json"), expected);
    assert_eq!(
        m.json_text_at(3).expect("v3"),
        r#"{"k\udc00":"\ud83d","t":"a\ude01b"}"#
    );
    engine.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Wire: the bytes protobufjs (the client's protobuf library) reads and writes.
// ---------------------------------------------------------------------------------------------

mod wire {
    use prost::Message;
    use tandem::ot::{Data, DiscreteOp, JsString, OpKind, Operation, ReferenceValues};
    use tandem::protocol::codec::{decode, encode, normal, Body};
    use tandem::protocol::convert::{self, ConvertError};
    use tandem::protocol::wire::proto::model as pm;

    fn splice(insert: &[u16]) -> Operation {
        Operation::Discrete(DiscreteOp::new(
            "s",
            OpKind::StringSplice {
                index: 2,
                delete_count: 1,
                insert: JsString::from_slice(insert),
            },
        ))
    }

    #[test]
    fn a_lone_low_surrogate_is_written_as_protobufjs_writes_it() {
        let wire = convert::operation_to_wire(&splice(&[0xDE01]));
        let Some(pm::operation_data::Operation::DiscreteOperation(d)) = wire.operation else {
            panic!("discrete")
        };
        let Some(pm::discrete_operation_data::Operation::StringSpliceOperation(s)) = d.operation
        else {
            panic!("splice")
        };
        // id "s", index 2, deleteCount 1, insertedValue "\uDE01" = ED B8 81.
        assert_eq!(
            s.encode_to_vec(),
            [0x0A, 0x01, 0x73, 0x18, 0x02, 0x20, 0x01, 0x2A, 0x03, 0xED, 0xB8, 0x81]
        );
        // A pair and a lone high surrogate.
        let op = splice(&[0xD83D, 0xDE00, 0xD83D]);
        let back = convert::operation_from_wire(&convert::operation_to_wire(&op)).expect("back");
        assert_eq!(back, op);
    }

    #[test]
    fn frames_with_lone_surrogates_in_text_and_keys_decode_and_re_encode_exactly() {
        // An object with a lone-surrogate key holding a lone-surrogate string, as a client's
        // create request carries it (the map entry is field 2 of ObjectValue).
        let data = pm::ObjectValue {
            id: "0:0".into(),
            children: vec![pm::DataEntry {
                key: vec![0x6B, 0xED, 0xB0, 0x80], // "k\uDC00"
                value: Some(pm::DataValue {
                    value: Some(pm::data_value::Value::StringValue(pm::StringValue {
                        id: "0:1".into(),
                        // "\uD83D" then "\uDE00" as two 3-byte sequences: protobufjs reads the
                        // pair 😀 from them; then a lone "\uD83D".
                        value: vec![0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80, 0xED, 0xA0, 0xBD],
                    })),
                }),
            }],
        };
        let frame = encode(&normal(Body::CreateRealTimeModelRequest(
            pm::CreateRealtimeModelRequestMessage {
                collection_id: "c".into(),
                data: Some(data),
                ..Default::default()
            },
        )));
        let Some(Body::CreateRealTimeModelRequest(req)) = decode(&frame).expect("frame").body
        else {
            panic!("create")
        };
        let value = convert::object_from_wire(req.data.as_ref().expect("data")).expect("value");
        let Data::Object(map) = &value.data else {
            panic!("object")
        };
        let key = JsString::from_units(vec![0x6B, 0xDC00]);
        assert_eq!(
            map[&key].data,
            Data::String(JsString::from_units(vec![0xD83D, 0xDE00, 0xD83D]))
        );
        // On the way out the pair is one 4-byte sequence, the lone half three bytes.
        let out = convert::object_to_wire(&value);
        let Some(pm::data_value::Value::StringValue(s)) =
            out.children[0].value.as_ref().and_then(|v| v.value.clone())
        else {
            panic!("string")
        };
        assert_eq!(s.value, [0xF0, 0x9F, 0x98, 0x80, 0xED, 0xA0, 0xBD]);
        assert_eq!(out.children[0].key, [0x6B, 0xED, 0xB0, 0x80]);
    }

    #[test]
    fn malformed_text_is_refused_cleanly() {
        for bad in [
            &[0x80][..],
            &[0xC0, 0xAF],
            &[0xED, 0xA0],
            &[0xF5, 0x80, 0x80, 0x80],
        ] {
            let wire = pm::OperationData {
                operation: Some(pm::operation_data::Operation::DiscreteOperation(
                    pm::DiscreteOperationData {
                        operation: Some(
                            pm::discrete_operation_data::Operation::StringSetOperation(
                                pm::StringSetOperationData {
                                    id: "s".into(),
                                    no_op: false,
                                    value: bad.to_vec(),
                                },
                            ),
                        ),
                    },
                )),
            };
            assert!(matches!(
                convert::operation_from_wire(&wire),
                Err(ConvertError::InvalidText(_))
            ));
        }
        let refs = pm::ReferenceValues {
            values: Some(pm::reference_values::Values::Properties(pm::KeyList {
                values: vec![vec![0xED, 0xB8, 0x81]],
            })),
        };
        assert_eq!(
            convert::references_from_wire(&refs).expect("refs"),
            ReferenceValues::Property(vec![JsString::from_units(vec![0xDE01])])
        );
    }
}
