//! The model's query index entries, kept with its data: a batch whose operations change what
//! the index holds carries the new entries, so the store writes them in the transaction that
//! writes the operations (see [`crate::store::index`]).

use std::collections::BTreeSet;

use super::Sequencer;
use crate::ot::{Document, OpKind, Operation};
use crate::store::index::{entries_of_document, IndexKey, INDEXED_UNITS};
use crate::store::{DomainKey, WriteOp};

/// A model's index entries as last written, and whether operations since may have changed them.
pub(super) struct ModelIndex {
    entries: BTreeSet<IndexKey>,
    dirty: bool,
}

impl ModelIndex {
    /// The entries of a loaded model (the store holds the same).
    pub(super) fn new(domain: &DomainKey, collection: &str, doc: &Document) -> Self {
        ModelIndex {
            entries: entries_of_document(domain, collection, doc),
            dirty: false,
        }
    }

    /// Notes an applied operation: everything but a text edit past the indexed prefix of a
    /// string may change the entries.
    pub(super) fn note(&mut self, op: &Operation) {
        if self.dirty {
            return;
        }
        let past_prefix = |kind: &OpKind| matches!(kind, OpKind::StringSplice { index, .. } if *index >= INDEXED_UNITS as i64);
        self.dirty = match op {
            Operation::Discrete(d) => !d.no_op && !past_prefix(&d.kind),
            Operation::Compound(ops) => ops.iter().any(|d| !d.no_op && !past_prefix(&d.kind)),
        };
    }
}

impl Sequencer {
    /// The write that brings the stored entries up to date, if the batch changed them.
    pub(super) fn index_write(&mut self) -> Option<WriteOp> {
        if !self.index.dirty {
            return None;
        }
        self.index.dirty = false;
        let entries = entries_of_document(&self.domain, &self.meta.collection, &self.doc);
        if entries == self.index.entries {
            return None;
        }
        self.index.entries = entries.clone();
        Some(WriteOp::IndexModel {
            domain: self.domain.clone(),
            id: self.meta.id.clone(),
            number: self.meta.number,
            entries,
        })
    }
}
