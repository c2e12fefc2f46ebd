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
        assert_eq!(m.json_text().await.expect("json"), r#"{"k\udc00":"\ud83d","t":"a😀b"}"#);

        // 😀 -> 😁 as a textarea diff makes it: one code unit replaced by a lone low surrogate.
        let diff = changes_from_str(
            r#"{"op":"splice","path":["t"],"index":2,"delete":1,"insert":"\ude01"}"#,
        )
        .expect("change");
        m.apply(diff).await.expect("splice inside a pair");
        assert_eq!(m.json_text().await.expect("json"), r#"{"k\udc00":"\ud83d","t":"a😁b"}"#);
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
        assert_eq!(m.json_text_at(2).expect("v2"), r#"{"k\udc00":"\ud83d","t":"a😁b"}"#);
        assert_eq!(m.json_text_at(3).expect("v3"), r#"{"k\udc00":"\ud83d","t":"a\ude01b"}"#);
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
