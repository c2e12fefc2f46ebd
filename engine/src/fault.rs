//! Fault injection for tests: a panic on demand inside a model's sequencer, a chat's owner or a
//! connection's task, to check that a crash is contained (its sessions are closed with a reason and the
//! model reloads from the store). Inert until [`enable`] is called; the check on the hot path
//! is one relaxed atomic load.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::ot::{OpKind, Operation};

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Text that, inserted by a string operation, panics the model's sequencer that applies it.
pub const PANIC_IN_SEQUENCER: &str = "\u{1F4A5}panic-in-sequencer";

/// Text that, inserted by a string operation, panics the connection task that receives it.
pub const PANIC_IN_CONNECTION: &str = "\u{1F4A5}panic-in-connection";

/// A chat message of exactly this text panics the chat's owner task that takes it.
pub const PANIC_IN_CHAT: &str = "\u{1F4A5}panic-in-chat";

/// Arms the markers: from now on an operation inserting one of them panics where it says.
pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

/// Panics when faults are enabled and `op` inserts `marker`.
pub(crate) fn check(op: &Operation, marker: &str) {
    if ENABLED.load(Ordering::Relaxed) && inserts(op, marker) {
        panic!("injected fault: {marker}");
    }
}

/// Panics when faults are enabled and `text` is `marker`.
pub(crate) fn check_text(text: &str, marker: &str) {
    if ENABLED.load(Ordering::Relaxed) && text == marker {
        panic!("injected fault: {marker}");
    }
}

fn inserts(op: &Operation, marker: &str) -> bool {
    match op {
        Operation::Compound(ops) => ops
            .iter()
            .any(|d| matches!(&d.kind, OpKind::StringSplice { insert, .. } if insert == marker)),
        Operation::Discrete(d) => {
            matches!(&d.kind, OpKind::StringSplice { insert, .. } if insert == marker)
        }
    }
}
