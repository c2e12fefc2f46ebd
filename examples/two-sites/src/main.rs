//! Two simulated sites edit one durable model concurrently; the engine orders and transforms
//! their operations, and the program prints the converged text and the model's history.
//!
//! Run: `cargo run -p two-sites [data-dir]` (default: a `tandem-data` folder here).

use std::collections::VecDeque;

use serde_json::json;
use tandem::api::{Engine, EngineConfig};
use tandem::model::{ModelEvent, SessionInfo};
use tandem::ot::{transform, Data, DiscreteOp, Document, OpKind, Operation, ValueId};
use tokio::sync::mpsc;

/// A site: a local replica plus its operations still waiting for acknowledgement.
struct Site {
    name: &'static str,
    doc: Document,
    text: ValueId,
    context: u64,
    seq: u64,
    in_flight: VecDeque<Operation>,
    events: mpsc::UnboundedReceiver<ModelEvent>,
    handle: tandem::model::SessionModel,
}

impl Site {
    /// Types `insert` at `index` locally and sends it without waiting.
    fn type_text(&mut self, index: i64, insert: &str) {
        let op = Operation::Discrete(DiscreteOp::new(
            self.text.clone(),
            OpKind::StringSplice {
                index,
                delete_count: 0,
                insert: insert.into(),
            },
        ));
        self.doc.apply(op.clone()).expect("valid local edit");
        self.seq += 1;
        self.handle
            .submit(self.seq, self.context, op.clone())
            .expect("submit");
        self.in_flight.push_back(op);
    }

    /// Handles events until every own edit is acknowledged and `version` is reached.
    async fn catch_up(&mut self, version: u64) {
        while !self.in_flight.is_empty() || self.context < version {
            match self.events.recv().await {
                Some(ModelEvent::Ack { count, .. }) => {
                    for _ in 0..count {
                        self.in_flight.pop_front();
                        self.context += 1;
                    }
                }
                Some(ModelEvent::Remote { op, .. }) => {
                    let mut remote = (*op).clone();
                    for mine in self.in_flight.iter_mut() {
                        let (r, m) = transform(&remote, mine).expect("transform");
                        remote = r;
                        *mine = m;
                    }
                    self.doc.apply(remote).expect("remote edit applies");
                    self.context += 1;
                }
                Some(_) => {}
                None => return,
            }
        }
    }

    fn text(&self) -> String {
        self.doc.string(&self.text).unwrap_or_default().to_string()
    }
}

async fn open_site(engine: &Engine, name: &'static str) -> Site {
    let (tx, events) = mpsc::unbounded_channel();
    let domain = engine.domain("demo", "notes").expect("domain");
    let opened = engine
        .model_service()
        .open(
            domain.key(),
            "greeting",
            SessionInfo {
                session: name.into(),
                user: name.into(),
            },
            tx,
        )
        .await
        .expect("open");
    let text = match &opened.data.data.data {
        Data::Object(m) => m[&tandem::ot::JsString::from("text")].id.clone(),
        _ => unreachable!("the root is an object"),
    };
    Site {
        name,
        doc: Document::new(opened.data.data.clone()).expect("document"),
        text,
        context: opened.data.version,
        seq: 0,
        in_flight: VecDeque::new(),
        events,
        handle: opened.handle,
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "tandem-data".into());
    let engine = Engine::open(EngineConfig::with_data_dir(&dir))?;
    let domain = match engine.domain("demo", "notes") {
        Ok(d) => d,
        Err(_) => engine.create_domain("demo", "notes").await?,
    };
    if let Ok(old) = domain.model("greeting") {
        old.delete().await?;
    }
    domain
        .create_model("docs", Some("greeting"), &json!({"text": "Hello world"}))
        .await?;

    let mut alice = open_site(&engine, "alice").await;
    let mut bob = open_site(&engine, "bob").await;
    // Both type at the same time, neither waiting for the other.
    alice.type_text(5, ",");
    alice.type_text(12, "!");
    bob.type_text(0, "😀 ");
    bob.type_text(14, " again");
    let version = domain.model("greeting")?.data().await?.version;
    alice.catch_up(version).await;
    bob.catch_up(version).await;

    println!("{:>6}: {}", alice.name, alice.text());
    println!("{:>6}: {}", bob.name, bob.text());
    let model = domain.model("greeting")?;
    println!("{:>6}: {}", "server", model.json().await?["text"]);
    assert_eq!(alice.text(), bob.text(), "the sites converge");

    println!("\nhistory of 'greeting' (durable in {dir}):");
    for e in model.history(2, version)? {
        println!(
            "  v{:<3} {:<6} {}",
            e.version,
            e.user,
            e.operation.to_json_string()
        );
    }
    for v in 1..=version {
        println!("  at v{v}: {}", model.json_at(v)?["text"]);
    }
    alice.handle.close().await?;
    bob.handle.close().await?;
    engine.shutdown().await;
    Ok(())
}
