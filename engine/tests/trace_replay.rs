//! Replays real editing traces (`../shared/traces`) through the durable engine, pipelined with
//! many operations in flight, and checks the final text equals the trace's `endContent` —
//! also after reopening the store cold.

use std::io::Read;
use std::path::PathBuf;

use serde_json::{json, Value as Json};
use tandem::api::{Engine, EngineConfig};
use tandem::model::{ModelEvent, SessionInfo};
use tandem::ot::{Data, DiscreteOp, OpKind, Operation};
use tokio::sync::mpsc;

/// `(position, deleted, inserted)` edits of a trace.
type Patches = Vec<(i64, i64, String)>;

fn load(name: &str) -> Option<(Patches, String)> {
    let dir = std::env::var("TANDEM_TRACES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/traces"));
    let file = std::fs::File::open(dir.join(name)).ok()?;
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .ok()?;
    let json: Json = serde_json::from_str(&text).ok()?;
    let mut patches = Vec::new();
    for txn in json["txns"].as_array()? {
        for p in txn["patches"].as_array()? {
            patches.push((p[0].as_i64()?, p[1].as_i64()?, p[2].as_str()?.to_string()));
        }
    }
    Some((patches, json["endContent"].as_str()?.to_string()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_traces_replay_to_their_end_content() {
    let mut ran = 0;
    for name in ["clownschool_flat.json.gz", "friendsforever_flat.json.gz"] {
        let Some((patches, end)) = load(name) else {
            eprintln!(
                "SKIPPED {name}: traces not found at ../shared/traces (set TANDEM_TRACES_DIR)"
            );
            continue;
        };
        ran += 1;
        let dir = tempfile::tempdir().unwrap();
        let mut config = EngineConfig::with_data_dir(dir.path());
        config.models.snapshot_every_ops = 997;
        {
            let engine = Engine::open(config.clone()).unwrap();
            let domain = engine.create_domain("t", "d").await.unwrap();
            domain
                .create_model("c", Some("m"), &json!({"text": ""}))
                .await
                .unwrap();
            let (tx, mut rx) = mpsc::unbounded_channel();
            let opened = engine
                .model_service()
                .open(
                    domain.key(),
                    "m",
                    SessionInfo {
                        session: "s".into(),
                        user: "u".into(),
                    },
                    tx,
                )
                .await
                .unwrap();
            let text_id = match &opened.data.data.data {
                Data::Object(m) => m[&tandem::ot::JsString::from("text")].id.clone(),
                _ => unreachable!(),
            };
            let (mut sent, mut acked, mut context) = (0usize, 0usize, opened.data.version);
            while acked < patches.len() {
                while sent < patches.len() && sent - acked < 512 {
                    let (pos, del, ins) = &patches[sent];
                    sent += 1;
                    let op = Operation::Discrete(DiscreteOp::new(
                        text_id.clone(),
                        OpKind::StringSplice {
                            index: *pos,
                            delete_count: *del,
                            insert: ins.as_str().into(),
                        },
                    ));
                    opened.handle.submit(sent as u64, context, op).unwrap();
                }
                match rx.recv().await {
                    Some(ModelEvent::Ack { count, .. }) => {
                        acked += count as usize;
                        context += count;
                    }
                    Some(ModelEvent::ForceClosed { message, .. }) => panic!("{name}: {message}"),
                    _ => {}
                }
            }
            let model = domain.model("m").unwrap();
            assert_eq!(
                model.json().await.unwrap()["text"].as_str(),
                Some(end.as_str()),
                "{name}"
            );
            assert_eq!(model.info().unwrap().version, 1 + patches.len() as u64);
            opened.handle.close().await.unwrap();
            engine.shutdown().await;
        }
        let engine = Engine::open(config).unwrap();
        let model = engine.domain("t", "d").unwrap().model("m").unwrap();
        assert_eq!(
            model.json().await.unwrap()["text"].as_str(),
            Some(end.as_str()),
            "{name} after reopen"
        );
        let mid = 1 + patches.len() as u64 / 2;
        let mut text = String::new();
        for (pos, del, ins) in &patches[..(mid - 1) as usize] {
            let start = text
                .char_indices()
                .nth(*pos as usize)
                .map(|(i, _)| i)
                .unwrap_or(text.len());
            let stop = text[start..]
                .char_indices()
                .nth(*del as usize)
                .map(|(i, _)| start + i)
                .unwrap_or(text.len());
            text.replace_range(start..stop, ins);
        }
        assert_eq!(
            model.json_at(mid).unwrap()["text"].as_str(),
            Some(text.as_str()),
            "{name} at v{mid}"
        );
        engine.shutdown().await;
    }
    if ran == 0 {
        eprintln!("SKIPPED: no trace replayed");
    }
}
