//! Well-formed but hostile protocol traffic against a live listener: a client logged in sends
//! thousands of seeded random messages that decode fine but make no sense (operations on
//! unknown or wrong-typed values, out-of-range indices, stale and future context versions,
//! duplicate value ids, bogus references, requests for things that do not exist, resyncs from
//! impossible versions). The server must answer every request, keep the socket open, refuse
//! what is invalid without changing state, and stay consistent for everyone else: a well-behaved
//! client on another model keeps getting acks, an observer's replica built only from the
//! broadcast operations equals the stored model (now, at past versions, and after a restart).
//!
//! `HOSTILE_SEED` picks the seed (printed on failure); `HOSTILE_MESSAGES` the count.

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::json;
use tandem::api::NetConfig;
use tandem::api::{Engine, EngineConfig};
use tandem::ot::json::value_to_json;
use tandem::ot::{
    Data, DiscreteOp, Document, JsString, OpKind, Operation, ReferenceValues, Value, ValueId,
};
use tandem::protocol::codec::{self, decode};
use tandem::protocol::convert;
use tandem::protocol::wire::proto::core as pc;
use tandem::protocol::wire::proto::model as pm;
use tandem::protocol::wire::{Body, ConvergenceMessage};
use tandem::testing::Rng;
use tokio_tungstenite::tungstenite::Message;

mod support;

use support::RawSocket;

/// A plain protocol client that answers pings on the way.
struct Client {
    raw: RawSocket,
}

impl Client {
    async fn connect(addr: SocketAddr, name: &str) -> Client {
        Client {
            raw: RawSocket::connect(addr, "hostile/d", "hostile-test", name).await,
        }
    }

    async fn send(&mut self, msg: &ConvergenceMessage) {
        self.raw.send(msg).await;
    }

    async fn request(&mut self, body: Body) -> i32 {
        self.raw.request(body).await
    }

    /// The next message (pings answered on the way); an error names why the socket ended.
    async fn recv(&mut self) -> Result<ConvergenceMessage, String> {
        loop {
            let msg = self
                .raw
                .frame(Duration::from_secs(20))
                .await?
                .ok_or_else(|| "nothing received for 20 s".to_string())?;
            if let Some(Body::Ping(_)) = msg.body {
                self.send(&codec::normal(Body::Pong(pc::PongMessage {})))
                    .await;
                continue;
            }
            return Ok(msg);
        }
    }

    /// Opens `model`; returns the open response.
    async fn open(&mut self, model: &str) -> pm::OpenRealtimeModelResponseMessage {
        let id = self.raw.open_request(model).await;
        loop {
            let msg = self.recv().await.expect("open response");
            if msg.response_id == Some(id) {
                match msg.body {
                    Some(Body::OpenRealTimeModelResponse(r)) => return r,
                    other => panic!("open of {model} failed: {other:?}"),
                }
            }
        }
    }
}

fn ids_of(v: &Value, out: &mut Vec<ValueId>) {
    out.push(v.id.clone());
    match &v.data {
        Data::Object(m) => m.values().for_each(|c| ids_of(c, out)),
        Data::Array(a) => a.iter().for_each(|c| ids_of(c, out)),
        _ => {}
    }
}

/// Random text, emoji included (each emoji is two UTF-16 units).
/// Random text, lone surrogate halves included (a JavaScript client can send any code units).
fn text(r: &mut Rng) -> JsString {
    let n = r.below(4);
    let mut out = JsString::new();
    for _ in 0..n {
        match r.below(9) {
            7 => out.push_units(&[0xD83D]),
            8 => out.push_units(&[0xDE01]),
            _ => {
                let piece: &&str = r.pick(&["a", "é", "😀", "z", " ", "\u{0}", "🎉x"]);
                out.push_str(piece);
            }
        }
    }
    out
}

/// A random value with ids from `prefix`; sometimes reusing an existing id (a duplicate).
fn value(r: &mut Rng, prefix: &str, counter: &mut u64, known: &[ValueId], depth: u32) -> Value {
    *counter += 1;
    let id = if !known.is_empty() && r.chance(0.05) {
        r.pick(known).clone()
    } else {
        ValueId::new(format!("{prefix}:{counter}"))
    };
    let data = match r.below(if depth == 0 { 5 } else { 7 }) {
        0 => Data::String(text(r)),
        1 => Data::Number(*r.pick(&[0.0, 1.5, -7.0, 1e300, f64::MAX])),
        2 => Data::Boolean(r.chance(0.5)),
        3 => Data::Null,
        4 => Data::Date(r.int(-1_000_000, 2_000_000_000_000)),
        5 => Data::Array(
            (0..r.below(3))
                .map(|_| value(r, prefix, counter, known, depth - 1))
                .collect(),
        ),
        _ => Data::Object(
            (0..r.below(3))
                .map(|i| {
                    (
                        JsString::from(format!("k{i}")),
                        value(r, prefix, counter, known, depth - 1),
                    )
                })
                .collect(),
        ),
    };
    Value::new(id, data)
}

fn index(r: &mut Rng) -> i64 {
    match r.below(10) {
        0 => -1,
        1 => i64::from(i32::MAX),
        2 => r.int(20, 200),
        _ => r.int(0, 6),
    }
}

fn discrete(r: &mut Rng, known: &[ValueId], prefix: &str, counter: &mut u64) -> DiscreteOp {
    let target = if r.chance(0.85) && !known.is_empty() {
        r.pick(known).clone()
    } else {
        ValueId::new(*r.pick(&["nope", "", "0:999999", "🙃"]))
    };
    let key = |r: &mut Rng| JsString::from(*r.pick(&["k0", "k1", "t", "", "new"]));
    let kind = match r.below(17) {
        0 => OpKind::StringSplice {
            index: index(r),
            delete_count: r.int(-1, 3),
            insert: text(r),
        },
        1 => OpKind::StringSet { value: text(r) },
        2 => OpKind::ArrayInsert {
            index: index(r),
            value: value(r, prefix, counter, known, 2),
        },
        3 => OpKind::ArrayRemove { index: index(r) },
        4 => OpKind::ArrayReplace {
            index: index(r),
            value: value(r, prefix, counter, known, 1),
        },
        5 => OpKind::ArrayMove {
            from: index(r),
            to: index(r),
        },
        6 => OpKind::ArraySet {
            values: (0..r.below(3))
                .map(|_| value(r, prefix, counter, known, 1))
                .collect(),
        },
        7 => OpKind::ObjectAddProperty {
            key: key(r),
            value: value(r, prefix, counter, known, 2),
        },
        8 => OpKind::ObjectSetProperty {
            key: key(r),
            value: value(r, prefix, counter, known, 1),
        },
        9 => OpKind::ObjectRemoveProperty { key: key(r) },
        10 => OpKind::ObjectSet {
            values: (0..r.below(3))
                .map(|_| (key(r), value(r, prefix, counter, known, 1)))
                .collect::<BTreeMap<_, _>>(),
        },
        11 => OpKind::NumberAdd {
            delta: *r.pick(&[1.0, -2.5, f64::MAX, 0.0]),
        },
        12 => OpKind::NumberSet {
            value: *r.pick(&[3.0, -1.0, 1e-300]),
        },
        13 => OpKind::StringSplice {
            index: 1,
            delete_count: 1,
            insert: JsString::new(),
        },
        14 => OpKind::BooleanSet {
            value: r.chance(0.5),
        },
        15 => OpKind::DateSet {
            value: r.int(i64::MIN / 2, i64::MAX / 2),
        },
        _ => OpKind::ArrayRemove { index: 0 },
    };
    DiscreteOp::new(target, kind)
}

fn references(r: &mut Rng, known: &[ValueId]) -> ReferenceValues {
    match r.below(4) {
        0 => ReferenceValues::Index((0..r.below(3)).map(|_| index(r)).collect()),
        1 => ReferenceValues::Range((0..r.below(3)).map(|_| (index(r), index(r))).collect()),
        2 => ReferenceValues::Property(vec!["t".into(), "zz".into()]),
        _ => ReferenceValues::Element(
            (0..r.below(3))
                .map(|_| {
                    if known.is_empty() || r.chance(0.3) {
                        ValueId::new("ghost")
                    } else {
                        r.pick(known).clone()
                    }
                })
                .collect(),
        ),
    }
}

/// Everything the hostile client saw go wrong, for the assertions.
#[derive(Default)]
struct HostileReport {
    requests: HashSet<i32>,
    errors: usize,
    force_closed: usize,
    acks: usize,
}

async fn hostile(addr: SocketAddr, seed: u64, count: usize) -> Result<HostileReport, String> {
    let mut r = Rng::new(seed);
    let mut c = Client::connect(addr, "mallory").await;
    let opened = c.open("m").await;
    let mut resource = opened.resource_id;
    let prefix = opened.value_id_prefix.clone();
    let root = convert::object_from_wire(opened.data.as_ref().ok_or("no data")?)
        .map_err(|e| e.to_string())?;
    let mut known = Vec::new();
    ids_of(&root, &mut known);
    let mut version = opened.version;
    let mut seq = 0i32;
    let mut counter = 0u64;
    let mut report = HostileReport::default();
    let mut open = true;
    for _ in 0..count {
        let roll = r.below(100);
        if !open && roll < 60 {
            // Closed out of the model by a refused operation: open it again (the answer is
            // taken in by `note`, like that of any random open of "m").
            let id = c
                .request(Body::OpenRealTimeModelRequest(
                    pm::OpenRealtimeModelRequestMessage {
                        model_id: Some("m".into()),
                        auto_create_id: None,
                    },
                ))
                .await;
            report.requests.insert(id);
            open = true;
            continue;
        }
        match roll {
            0..=49 => {
                let op = if r.chance(0.8) {
                    Operation::Discrete(discrete(&mut r, &known, &prefix, &mut counter))
                } else {
                    Operation::Compound(
                        (0..r.below(5))
                            .map(|_| discrete(&mut r, &known, &prefix, &mut counter))
                            .collect(),
                    )
                };
                let parts: Vec<&DiscreteOp> = match &op {
                    Operation::Discrete(d) => vec![d],
                    Operation::Compound(ops) => ops.iter().collect(),
                };
                for v in parts.iter().flat_map(|d| d.kind.new_values()) {
                    ids_of(v, &mut known);
                }
                seq += 1;
                let context = match r.below(10) {
                    0 => version.saturating_add(r.int(1, 5)),
                    1 => -1,
                    2 => i64::MAX,
                    3 => version.saturating_sub(r.int(1, 3)),
                    _ => version,
                };
                c.send(&codec::normal(Body::OperationSubmission(
                    pm::OperationSubmissionMessage {
                        resource_id: if r.chance(0.95) {
                            resource
                        } else {
                            r.int(-2, 9) as i32
                        },
                        sequence_number: if r.chance(0.9) {
                            seq
                        } else {
                            r.int(-5, 5) as i32
                        },
                        context_version: context,
                        operation: Some(convert::operation_to_wire(&op)),
                    },
                )))
                .await;
            }
            50..=64 => {
                let value_id = if r.chance(0.7) {
                    Some(r.pick(&known).to_string())
                } else if r.chance(0.5) {
                    None
                } else {
                    Some("ghost".into())
                };
                let key = r.pick(&["cursor", "sel", ""]).to_string();
                let res = if r.chance(0.9) { resource } else { 77 };
                let refs = Some(convert::references_to_wire(&references(&mut r, &known)));
                let body = match r.below(4) {
                    0 => Body::ShareReference(pm::ShareReferenceMessage {
                        resource_id: res,
                        value_id,
                        key,
                        references: refs,
                        version: version + r.int(-2, 2),
                    }),
                    1 => Body::SetReference(pm::SetReferenceMessage {
                        resource_id: res,
                        value_id,
                        key,
                        references: refs,
                        version: version + r.int(-2, 2),
                    }),
                    2 => Body::ClearReference(pm::ClearReferenceMessage {
                        resource_id: res,
                        value_id,
                        key,
                    }),
                    _ => Body::UnshareReference(pm::UnshareReferenceMessage {
                        resource_id: res,
                        value_id,
                        key,
                    }),
                };
                c.send(&codec::normal(body)).await;
            }
            _ => {
                let model = r.pick(&["m", "missing", "", "x/y", "steady"]).to_string();
                let body = match r.below(11) {
                    0 => Body::OpenRealTimeModelRequest(pm::OpenRealtimeModelRequestMessage {
                        model_id: Some(model),
                        auto_create_id: None,
                    }),
                    1 => Body::CloseRealTimeModelRequest(pm::CloseRealtimeModelRequestMessage {
                        resource_id: r.int(-1, 5) as i32,
                    }),
                    2 => Body::ModelResyncRequest(pm::ModelResyncRequestMessage {
                        model_id: model,
                        context_version: *r.pick(&[0, -1, version + 10, i64::MAX, 1]),
                    }),
                    3 => Body::DeleteRealtimeModelRequest(pm::DeleteRealtimeModelRequestMessage {
                        model_id: r.pick(&["missing", "", "scratch"]).to_string(),
                    }),
                    4 => Body::HistoricalDataRequest(pm::HistoricalDataRequestMessage {
                        model_id: model,
                    }),
                    5 => Body::HistoricalOperationsRequest(pm::HistoricalOperationRequestMessage {
                        model_id: model,
                        first: *r.pick(&[0, 1, -5, version, i64::MAX]),
                        last: *r.pick(&[0, 2, -1, version + 100, i64::MAX]),
                    }),
                    6 => Body::ModelGetVersionAtTimeRequest(
                        pm::ModelGetVersionAtTimeRequestMessage {
                            model_id: model,
                            target_time: Some(convert::timestamp(*r.pick(&[
                                0,
                                -1,
                                i64::MAX / 2,
                                1_700_000_000_000,
                            ]))),
                        },
                    ),
                    7 => Body::ServerTimeRequest(pc::GetServerTimeRequestMessage {}),
                    8 => Body::CreateRealTimeModelRequest(pm::CreateRealtimeModelRequestMessage {
                        collection_id: r.pick(&["c", "", "scratch"]).to_string(),
                        model_id: Some(r.pick(&["scratch", "m", ""]).to_string()),
                        data: Some(convert::object_to_wire(&Value::new(
                            "0:root",
                            Data::Object(BTreeMap::from([(
                                JsString::from("v"),
                                value(&mut r, "0", &mut counter, &[], 2),
                            )])),
                        ))),
                        ..Default::default()
                    }),
                    9 => Body::GetModelPermissionsRequest(pm::GetModelPermissionsRequestMessage {
                        model_id: model,
                    }),
                    _ => Body::ModelsQueryRequest(pm::ModelsQueryRequestMessage {
                        query: r.pick(&["SELECT FROM c", "garbage", ""]).to_string(),
                    }),
                };
                let id = c.request(body).await;
                report.requests.insert(id);
            }
        }
        // Read whatever has arrived, without waiting.
        while let Ok(Some(frame)) =
            tokio::time::timeout(Duration::from_millis(0), c.raw.ws.next()).await
        {
            let msg = match frame {
                Ok(Message::Binary(b)) => decode(&b).map_err(|e| e.to_string())?,
                Ok(Message::Close(f)) => return Err(format!("socket closed by the server: {f:?}")),
                Ok(_) => continue,
                Err(e) => return Err(format!("socket error: {e}")),
            };
            note(
                &mut report,
                &msg,
                &mut resource,
                &mut version,
                &mut open,
                &mut c,
            )
            .await;
        }
    }
    // Every request gets an answer.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !report.requests.is_empty() {
        if tokio::time::Instant::now() > deadline {
            return Err(format!("requests never answered: {:?}", report.requests));
        }
        let msg = c.recv().await?;
        note(
            &mut report,
            &msg,
            &mut resource,
            &mut version,
            &mut open,
            &mut c,
        )
        .await;
    }
    Ok(report)
}

async fn note(
    report: &mut HostileReport,
    msg: &ConvergenceMessage,
    resource: &mut i32,
    version: &mut i64,
    open: &mut bool,
    c: &mut Client,
) {
    if let Some(id) = msg.response_id {
        report.requests.remove(&id);
    }
    match &msg.body {
        Some(Body::Ping(_)) => {
            c.send(&codec::normal(Body::Pong(pc::PongMessage {}))).await;
        }
        Some(Body::Error(_)) => report.errors += 1,
        Some(Body::OpenRealTimeModelResponse(r)) if r.model_id == "m" => {
            *resource = r.resource_id;
            *version = r.version;
            *open = true;
        }
        Some(Body::OperationAck(a)) if a.resource_id == *resource => {
            report.acks += 1;
            *version = a.version + 1;
        }
        Some(Body::RemoteOperation(o)) if o.resource_id == *resource => {
            *version = o.context_version + 1;
        }
        Some(Body::ForceCloseRealTimeModel(f)) if f.resource_id == *resource => {
            report.force_closed += 1;
            *open = false;
        }
        _ => {}
    }
}

/// Submits `count` inserts to its own model one at a time, each acknowledged in time.
async fn steady(addr: SocketAddr, count: usize) -> Result<usize, String> {
    let mut c = Client::connect(addr, "steady").await;
    let opened = c.open("steady").await;
    let root = convert::object_from_wire(opened.data.as_ref().ok_or("no data")?)
        .map_err(|e| e.to_string())?;
    let Data::Object(map) = &root.data else {
        return Err("root is not an object".into());
    };
    let list = map[&JsString::from("list")].id.clone();
    let mut version = opened.version;
    for i in 0..count {
        let op = Operation::Discrete(DiscreteOp::new(
            list.clone(),
            OpKind::ArrayInsert {
                index: i as i64,
                value: Value::new(
                    format!("{}:{i}", opened.value_id_prefix),
                    Data::Number(i as f64),
                ),
            },
        ));
        c.send(&codec::normal(Body::OperationSubmission(
            pm::OperationSubmissionMessage {
                resource_id: opened.resource_id,
                sequence_number: i as i32 + 1,
                context_version: version,
                operation: Some(convert::operation_to_wire(&op)),
            },
        )))
        .await;
        loop {
            let msg = c.recv().await?;
            match msg.body {
                Some(Body::OperationAck(a)) => {
                    version = a.version + 1;
                    break;
                }
                Some(Body::ForceCloseRealTimeModel(f)) => {
                    return Err(format!("steady client force-closed: {}", f.reason))
                }
                _ => {}
            }
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    Ok(count)
}

/// Follows model `m` from the broadcast operations alone; returns its replica and the
/// replica's JSON at some versions.
async fn observer(
    addr: SocketAddr,
    stop: tokio::sync::watch::Receiver<bool>,
    at: tokio::sync::watch::Sender<u64>,
) -> Result<(Document, u64, Vec<(u64, serde_json::Value)>), String> {
    let mut c = Client::connect(addr, "observer").await;
    let opened = c.open("m").await;
    let root = convert::object_from_wire(opened.data.as_ref().ok_or("no data")?)
        .map_err(|e| e.to_string())?;
    let mut doc = Document::new(root).map_err(|e| e.to_string())?;
    let mut version = opened.version as u64;
    let _ = at.send(version);
    let mut samples = vec![(version, value_to_json(&doc.to_value()))];
    let mut stop = stop;
    loop {
        let msg = tokio::select! {
            m = c.recv() => m?,
            _ = stop.changed() => break,
        };
        if let Some(Body::RemoteOperation(o)) = msg.body {
            if o.context_version as u64 != version {
                return Err(format!(
                    "gap: remote operation at {} while at {version}",
                    o.context_version
                ));
            }
            let op = convert::operation_from_wire(o.operation.as_ref().ok_or("no operation")?)
                .map_err(|e| e.to_string())?;
            doc.apply(op)
                .map_err(|e| format!("broadcast operation does not apply at {version}: {e}"))?;
            version += 1;
            let _ = at.send(version);
            if version % 25 == 0 {
                samples.push((version, value_to_json(&doc.to_value())));
            }
        }
    }
    Ok((doc, version, samples))
}

#[test]
fn hostile_but_well_formed_traffic_is_refused_without_harm() {
    let seed: u64 = std::env::var("HOSTILE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(7)
        });
    let count: usize = std::env::var("HOSTILE_MESSAGES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3000);
    println!("HOSTILE_SEED={seed} HOSTILE_MESSAGES={count}");
    let dir = tempfile::tempdir().expect("temp dir");
    let initial =
        json!({"t": "hello 😀", "a": [1, "two", {"k0": 3}], "o": {"k0": 1, "t": "x"}, "n": 5});
    let (final_json, final_version) = {
        let engine = Engine::open(EngineConfig::with_data_dir(dir.path())).expect("engine");
        let result = engine.block_on(async {
            let d = engine.create_domain("hostile", "d").await.expect("domain");
            d.set_anonymous_auth(true).await.expect("anonymous");
            let m = d.create_model("c", Some("m"), &initial).await.expect("m");
            d.create_model("c", Some("steady"), &json!({"list": []}))
                .await
                .expect("steady");
            let config = NetConfig {
                rate_limit_per_sec: 1_000_000,
                rate_burst: 1_000_000,
                ..NetConfig::default()
            };
            let listener = engine
                .serve("127.0.0.1:0".parse().expect("addr"), config)
                .await
                .expect("listen");
            let addr = listener.local_addr();
            let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
            let (at_tx, mut at_rx) = tokio::sync::watch::channel(0u64);
            let watcher = tokio::spawn(observer(addr, stop_rx, at_tx));
            tokio::time::sleep(Duration::from_millis(200)).await;
            let (bad, good) = tokio::join!(hostile(addr, seed, count), steady(addr, 300));
            let bad = bad.unwrap_or_else(|e| panic!("hostile client (seed {seed}): {e}"));
            assert_eq!(
                good.unwrap_or_else(|e| panic!("steady client (seed {seed}): {e}")),
                300
            );
            println!(
                "hostile: {} errors, {} force-closes, {} acked operations",
                bad.errors, bad.force_closed, bad.acks
            );
            assert!(bad.errors > 0, "hostile traffic was refused somewhere");
            // Submissions still in flight settle, then the observer catches up.
            let mut server_version = m.info().expect("info").version;
            loop {
                tokio::time::sleep(Duration::from_millis(300)).await;
                let now = m.info().expect("info").version;
                if now == server_version {
                    break;
                }
                server_version = now;
            }
            let caught_up = tokio::time::timeout(
                Duration::from_secs(20),
                at_rx.wait_for(|v| *v >= server_version),
            )
            .await;
            assert!(
                matches!(caught_up, Ok(Ok(_))),
                "the observer did not reach version {server_version} (seed {seed})"
            );
            stop_tx.send(true).expect("stop observer");
            let (doc, version, samples) = watcher
                .await
                .expect("observer task")
                .unwrap_or_else(|e| panic!("observer (seed {seed}): {e}"));
            assert_eq!(version, server_version, "observer saw every version");
            let stored = m.json().await.expect("json");
            assert_eq!(
                value_to_json(&doc.to_value()),
                stored,
                "replica from broadcasts != stored model (seed {seed})"
            );
            // History at past versions is what was broadcast then.
            for (v, expected) in &samples {
                assert_eq!(&m.json_at(*v).expect("json_at"), expected, "version {v}");
            }
            let steady_model = d
                .model("steady")
                .expect("steady")
                .json()
                .await
                .expect("json");
            assert_eq!(steady_model["list"].as_array().map(Vec::len), Some(300));
            listener.stop().await;
            (stored, server_version)
        });
        engine.block_on(engine.shutdown());
        result
    };
    // Durable: the same after a restart.
    let engine = Engine::open(EngineConfig::with_data_dir(dir.path())).expect("reopen");
    let m = engine
        .domain("hostile", "d")
        .expect("d")
        .model("m")
        .expect("m");
    assert_eq!(m.info().expect("info").version, final_version);
    assert_eq!(engine.block_on(m.json()).expect("json"), final_json);
    engine.block_on(engine.shutdown());
}
