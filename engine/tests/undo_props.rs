//! Selective undo on random logs of three users: the undo is always valid at the head and
//! converges with any concurrent operation (TP1, the undo in the server position); when no
//! later operation touched what the undone one touched, the undo equals replaying the log
//! without it (ids aside); an undo followed by its redo gives back the data.

use std::collections::HashSet;

use proptest::prelude::*;
use tandem::ot::json::{value_to_json, IdGenerator};
use tandem::ot::{
    refresh_ids, AppliedOperation, Document, Operation, UndoBatch, UndoPlan, ValueId,
};
use tandem::testing::Rng;

mod ot_gen;
use ot_gen::*;

const USERS: [&str; 3] = ["ann", "ben", "cat"];

struct Entry {
    version: u64,
    user: &'static str,
    applied: AppliedOperation,
}

/// A random operation valid at `doc` (a compound one time in five).
fn random_operation(rng: &mut Rng, doc: &Document, ids: &mut Ids) -> Operation {
    if rng.percent(20) {
        return random_compound(rng, doc, 3, ids);
    }
    loop {
        let ty = ALL[rng.below(ALL.len())];
        if let Some(op) = random_op(rng, doc, ty, ids) {
            return Operation::Discrete(op);
        }
    }
}

/// Undoes `targets` of `log` at the head `doc` (by `undoer`); returns the plan with the
/// operation as it would be committed (fresh ids, no true splices).
fn undo(log: &[Entry], targets: &[u64], doc: &Document, ids: &mut IdGenerator) -> UndoPlan {
    let mut batch = UndoBatch::new();
    for e in log {
        batch.advance(e.version, e.user, &e.applied.operation());
        if targets.contains(&e.version) {
            batch
                .start(e.version, e.user, &e.applied)
                .expect("invertible");
        }
    }
    let head = log.last().map_or(1, |e| e.version);
    let mut plan = batch.finish(&|id| doc.contains(id), head);
    if let Some(op) = plan.op.take() {
        let mut op = op;
        refresh_ids(&mut op, ids);
        let mut op = op.without_true_splices();
        doc.noop_missing_targets(&mut op);
        plan.op = Some(op);
    }
    plan
}

fn touched(op: &Operation) -> HashSet<ValueId> {
    let mut out = HashSet::new();
    for d in op.ops().iter().filter(|d| !d.no_op) {
        out.insert(d.id.clone());
        for v in d.kind.new_values() {
            out.extend(v.ids());
        }
    }
    out
}

fn check(seed: u64) -> Result<(), String> {
    let mut rng = Rng::new(seed);
    let start = random_doc(&mut rng);
    let mut doc = start.clone();
    let mut gen = Ids {
        prefix: "g",
        next: 0,
    };
    let mut log: Vec<Entry> = Vec::new();
    for i in 0..2 + rng.below(12) {
        let op = random_operation(&mut rng, &doc, &mut gen).without_true_splices();
        let applied = doc
            .apply(op)
            .map_err(|e| format!("generated op invalid: {e}"))?;
        log.push(Entry {
            version: i as u64 + 2,
            user: USERS[rng.below(USERS.len())],
            applied,
        });
    }
    let k = log[rng.below(log.len())].version;
    let mut ids = IdGenerator::new("u", 0);
    let plan = undo(&log, &[k], &doc, &mut ids);
    let Some(undo_op) = plan.op.clone() else {
        return Ok(());
    };
    // The undo applies at the head.
    let mut after = doc.clone();
    let undo_applied = after
        .apply(undo_op.clone())
        .map_err(|e| format!("undo of v{k} does not apply at the head: {e}\n plan = {plan:?}"))?;
    // It converges with an operation a client made concurrently at the head.
    let concurrent = random_operation(&mut rng, &doc, &mut gen);
    tp1(&doc, &undo_op, &concurrent)
        .map_err(|e| format!("undo of v{k} vs a concurrent op: {e}"))?;
    // Nothing later touched what k touched: the undo equals the log replayed without k.
    let k_entry = &log[(k - 2) as usize];
    let targets = touched(&k_entry.applied.operation());
    let untouched = log
        .iter()
        .filter(|e| e.version > k)
        .all(|e| touched(&e.applied.operation()).is_disjoint(&targets));
    if untouched {
        let mut replay = start.clone();
        for e in log.iter().filter(|e| e.version != k) {
            replay
                .apply(e.applied.operation())
                .map_err(|e| format!("replay without v{k} failed: {e}"))?;
        }
        if value_to_json(&replay.to_value()) != value_to_json(&after.to_value()) {
            return Err(format!(
                "undo of v{k} differs from the log without it:\n undo   = {:?}\n replay = {:?}",
                value_to_json(&after.to_value()),
                value_to_json(&replay.to_value())
            ));
        }
    }
    // Redo right after: the data is back.
    let mut with_undo: Vec<Entry> = log;
    let undo_version = with_undo.len() as u64 + 2;
    with_undo.push(Entry {
        version: undo_version,
        user: "host",
        applied: undo_applied,
    });
    let redo = undo(&with_undo, &[undo_version], &after, &mut ids);
    if !redo.conflicts.is_empty() {
        return Err(format!("redo right after the undo conflicts: {redo:?}"));
    }
    let mut redone = after.clone();
    if let Some(op) = redo.op {
        redone
            .apply(op)
            .map_err(|e| format!("redo does not apply: {e}"))?;
    }
    if value_to_json(&redone.to_value()) != value_to_json(&doc.to_value()) {
        return Err(format!(
            "undo then redo of v{k} changed the data:\n before = {:?}\n after  = {:?}",
            value_to_json(&doc.to_value()),
            value_to_json(&redone.to_value())
        ));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn undo_converges_matches_the_log_without_it_and_redoes(seed in any::<u64>()) {
        check(seed).map_err(TestCaseError::fail)?;
    }
}
