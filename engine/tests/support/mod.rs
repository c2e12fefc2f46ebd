//! Helpers shared by the store test files (`mod support;` in each).

use std::sync::mpsc;

use tandem::store::{Store, StoreResult, WriteOp};

/// Writes one batch and waits for its outcome.
pub fn write_sync(store: &dyn Store, batch: Vec<WriteOp>) -> StoreResult<()> {
    let (tx, rx) = mpsc::channel();
    store.write(
        batch,
        Box::new(move |r| {
            let _ = tx.send(r);
        }),
    );
    rx.recv().expect("callback dropped without being called")
}
