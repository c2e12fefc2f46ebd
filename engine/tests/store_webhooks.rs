//! Webhooks and their deliveries in the store: the memory store and the LMDB store agree on
//! what a reader sees (in order, after replacement and deletion; a webhook's deletion takes
//! its deliveries and no other webhook's, a domain's deletion takes its webhooks), and LMDB
//! keeps them across a reopen and recovers them from the write-ahead log.

#[path = "support/records.rs"]
mod records;
mod support;
use records::{ok, open, open_lazy};

use tandem::store::{
    DeliveryRecord, DeliveryStatus, DomainKey, MemoryStore, Store, WebhookRecord, WriteOp,
};

fn hook(domain: &DomainKey, id: &str) -> WebhookRecord {
    WebhookRecord {
        domain: domain.clone(),
        id: id.into(),
        url: format!("http://127.0.0.1:9/{id}"),
        events: vec!["chat.message".into(), "model.created".into()],
        secret: format!("{id:0>64}"),
        created_ms: 1_700_000_000_000,
    }
}

fn delivery(domain: &DomainKey, webhook: &str, seq: u64, status: DeliveryStatus) -> DeliveryRecord {
    DeliveryRecord {
        domain: domain.clone(),
        webhook: webhook.into(),
        seq,
        event: "model.created".into(),
        payload: format!(r#"{{"n":{seq},"t":"a\ud800b é"}}"#),
        status,
        attempts: seq as u32,
        last_status: (seq > 1).then_some(500),
        last_error: (seq > 1).then(|| "the receiver answered 500".to_string()),
        created_ms: -1,
        last_attempt_ms: (seq > 1).then_some(1_700_000_000_100),
    }
}

fn seen(store: &dyn Store, d: &DomainKey, webhook: &str) -> String {
    let hooks: Vec<String> = store
        .webhooks(Some(d))
        .unwrap()
        .into_iter()
        .map(|w| w.id)
        .collect();
    let deliveries: Vec<String> = store
        .deliveries(d, webhook)
        .unwrap()
        .into_iter()
        .map(|r| format!("{}:{:?}", r.seq, r.status))
        .collect();
    format!("{} | {}", hooks.join(","), deliveries.join(","))
}

fn scenario(store: &dyn Store) -> Vec<String> {
    let a = DomainKey::new("ns", "a");
    let b = DomainKey::new("ns", "b");
    let mut out = Vec::new();
    ok(
        store,
        vec![
            WriteOp::PutWebhook(hook(&a, "w2")),
            WriteOp::PutWebhook(hook(&a, "w1")),
            WriteOp::PutWebhook(hook(&b, "w1")),
            WriteOp::PutDelivery(delivery(&a, "w1", 2, DeliveryStatus::Pending)),
            WriteOp::PutDelivery(delivery(&a, "w1", 1, DeliveryStatus::Delivered)),
            WriteOp::PutDelivery(delivery(&a, "w1", 300, DeliveryStatus::Failed)),
            WriteOp::PutDelivery(delivery(&a, "w2", 1, DeliveryStatus::Pending)),
            WriteOp::PutDelivery(delivery(&b, "w1", 1, DeliveryStatus::Pending)),
        ],
    );
    out.push(seen(store, &a, "w1"));
    out.push(seen(store, &a, "w2"));
    out.push(format!(
        "{}",
        store.deliveries(&a, "w1").unwrap()[1] == delivery(&a, "w1", 2, DeliveryStatus::Pending)
    ));
    out.push(format!("{}", store.webhooks(None).unwrap().len()));
    ok(
        store,
        vec![
            WriteOp::PutDelivery(delivery(&a, "w1", 2, DeliveryStatus::Delivered)),
            WriteOp::DeleteDelivery {
                domain: a.clone(),
                webhook: "w1".into(),
                seq: 1,
            },
            WriteOp::DeleteWebhook {
                domain: a.clone(),
                id: "w2".into(),
            },
        ],
    );
    out.push(seen(store, &a, "w1"));
    out.push(seen(store, &a, "w2"));
    ok(store, vec![WriteOp::DeleteDomain(a.clone())]);
    out.push(seen(store, &a, "w1"));
    out.push(seen(store, &b, "w1"));
    out
}

#[test]
fn memory_and_lmdb_agree() {
    let memory = scenario(&MemoryStore::new(2));
    let dir = tempfile::tempdir().expect("dir");
    let lmdb = scenario(&open(dir.path()));
    assert_eq!(memory, lmdb);
    let expected = [
        "w1,w2 | 1:Delivered,2:Pending,300:Failed",
        "w1,w2 | 1:Pending",
        "true",
        "3",
        "w1 | 2:Delivered,300:Failed",
        "w1 | ",
        " | ",
        "w1 | 1:Pending",
    ];
    assert_eq!(memory, expected);
}

#[test]
fn lmdb_keeps_webhooks_across_a_reopen_and_recovers_them_from_the_log() {
    let dir = tempfile::tempdir().expect("dir");
    let d = DomainKey::new("ns", "d");
    {
        let store = open(dir.path());
        ok(
            &store,
            vec![
                WriteOp::PutWebhook(hook(&d, "kept")),
                WriteOp::PutDelivery(delivery(&d, "kept", 1, DeliveryStatus::Delivered)),
            ],
        );
    }
    {
        // An applier that never runs before the store closes: the writes are only in the log.
        let store = open_lazy(dir.path());
        ok(
            &store,
            vec![
                WriteOp::PutWebhook(hook(&d, "logged")),
                WriteOp::PutDelivery(delivery(&d, "kept", 2, DeliveryStatus::Pending)),
            ],
        );
    }
    let store = open(dir.path());
    assert_eq!(
        store.webhooks(None).unwrap(),
        [hook(&d, "kept"), hook(&d, "logged")]
    );
    assert_eq!(
        store.deliveries(&d, "kept").unwrap(),
        [
            delivery(&d, "kept", 1, DeliveryStatus::Delivered),
            delivery(&d, "kept", 2, DeliveryStatus::Pending)
        ]
    );
}
