//! Server-side concurrency control for one model: orders submissions from many sessions, each
//! with many operations in flight, and transforms each against what its session had not seen.
//!
//! For every tracked session the state keeps its last context version and its *branch*: the
//! operations of others that it had not seen when it last submitted, already transformed past
//! that submission (so expressed in the session's own frame). An incoming operation with
//! context `c` is folded through the branch entries at or after `c`, then through every later
//! operation of other sessions, the history operation always in the server position.
//!
//! With many operations in flight per session, a submission meets every operation the others
//! committed during its round trip (about a hundred with 8 sessions keeping 16 in flight each),
//! so this is the sequencer's inner loop: the branch is owned by its session and transformed
//! where it is ([`transform_in_place`]); only the operations new to the branch are copied.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use thiserror::Error;

use crate::ot::{
    transform_in_place, transform_reference, Operation, ReferenceValues, TransformError, ValueId,
};

/// A session's key inside one model's concurrency control.
pub type ClientKey = u64;

/// The key of history operations whose submitter is not known to be any tracked session.
pub const NO_CLIENT: ClientKey = ClientKey::MAX;

/// Why a submission was refused. The submitting session must be closed out of the model.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConcurrencyError {
    /// The session is not tracked (it has not opened the model).
    #[error("session is not tracking this model")]
    UnknownClient,
    /// The context version is newer than the model.
    #[error("context version {context} is ahead of the model version {version}")]
    ContextAhead {
        /// Submitted context version.
        context: u64,
        /// Current model version.
        version: u64,
    },
    /// The context version went backwards for this session.
    #[error("context version {context} is older than this session's last context {last}")]
    ContextRegressed {
        /// Submitted context version.
        context: u64,
        /// The session's previous context version.
        last: u64,
    },
    /// The history needed to transform this operation is no longer held.
    #[error("context version {context} is older than the retained history (from {base})")]
    ContextTooOld {
        /// Submitted context version.
        context: u64,
        /// Oldest context version still held.
        base: u64,
    },
    /// The operations cannot be transformed against each other.
    #[error(transparent)]
    Transform(#[from] TransformError),
    /// An earlier submission of this session was processed but not committed (it failed to
    /// transform or to apply); the session's state is spent and it must be tracked anew.
    #[error("an earlier submission of this session failed; the session must reopen the model")]
    Unsettled,
}

#[derive(Clone)]
struct Event {
    client: ClientKey,
    op: Arc<Operation>,
}

#[derive(Clone, Default)]
struct ClientState {
    context: u64,
    /// The others' operations from `context` on, in this session's frame, by version.
    branch: VecDeque<(u64, Operation)>,
    /// For a session that resynchronised: the model version when it did. Submissions with an
    /// older context are taken as made at this version (see [`Concurrency::track_resynced`]).
    floor: u64,
    /// Every operation of others before this version that the session had not seen is in
    /// `branch` (the rest before it are its own): the history it still needs starts here.
    seen: u64,
    /// Set from [`Concurrency::process`] until [`Concurrency::commit`]: the branch has
    /// already been moved past the submission. Left set when the submission fails.
    unsettled: bool,
}

/// A transformed submission, ready to apply; hand it back to [`Concurrency::commit`] once
/// the operation has been applied successfully. There is no rollback: if it is dropped
/// instead (the operation could not be applied), the session's later submissions are
/// refused with [`ConcurrencyError::Unsettled`] until it is untracked and tracked again.
pub struct Pending {
    client: ClientKey,
    /// The operation transformed to the current version.
    pub op: Operation,
}

/// The concurrency-control state of one model.
pub struct Concurrency {
    version: u64,
    base: u64,
    history: VecDeque<Event>,
    clients: HashMap<ClientKey, ClientState, foldhash::fast::RandomState>,
    max_history: usize,
    /// The client of the newest run of consecutive events by one client, and where that run
    /// started: a client transforming against history can skip its own trailing run.
    run_client: Option<ClientKey>,
    run_start: u64,
}

impl Concurrency {
    /// State for a model at `version`, keeping at most `max_history` operations for
    /// transformation (sessions further behind are refused with `ContextTooOld`).
    pub fn new(version: u64, max_history: usize) -> Self {
        Concurrency {
            version,
            base: version,
            history: VecDeque::new(),
            clients: HashMap::default(),
            max_history: max_history.max(1),
            run_client: None,
            run_start: version,
        }
    }

    /// The current model version (the context version of the next operation).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Number of operations currently held for transformation.
    pub fn history_len(&self) -> usize {
        self.history.len()
    }

    /// Starts tracking a session that has seen everything up to the current version.
    pub fn track(&mut self, client: ClientKey) {
        self.clients.insert(
            client,
            ClientState {
                context: self.version,
                branch: VecDeque::new(),
                floor: 0,
                seen: self.version,
                unsettled: false,
            },
        );
    }

    /// Starts tracking a session that resynchronised after a reconnect and reports having
    /// caught up to version `at` (at most the current version).
    ///
    /// `tail` holds the operations at versions `at + 1 ..=` the current version, in order,
    /// each flagged `true` when one of the client's earlier sessions submitted it: the client
    /// already has those (they are its own unacknowledged operations), so they are attributed
    /// to `client` and never transformed into its submissions; the others are. Operations the
    /// history no longer held are put back from `tail`.
    ///
    /// The client re-sends its unacknowledged operations once caught up, and their context
    /// versions can lag behind `at`: the client counts its own committed operations as
    /// acknowledgements, which advance its context but, unlike remote operations, do not
    /// rewrite the context of the operations queued behind them. Every operation between such
    /// a lagging context and `at` is one of the client's own (any other would have been
    /// transformed in and raised the context), so such a submission is taken as made at `at`.
    /// A `tail` of the wrong length is ignored and the session is taken as caught up to the
    /// current version.
    pub fn track_resynced<I>(&mut self, client: ClientKey, at: u64, tail: I)
    where
        I: IntoIterator<Item = (bool, Arc<Operation>)>,
    {
        let tail: Vec<(bool, Arc<Operation>)> = tail.into_iter().collect();
        let at = if at <= self.version && tail.len() as u64 == self.version - at {
            at
        } else {
            self.version
        };
        if at < self.base {
            let missing = (self.base - at) as usize;
            for (own, op) in tail[..missing].iter().rev() {
                self.history.push_front(Event {
                    client: if *own { client } else { NO_CLIENT },
                    op: op.clone(),
                });
            }
            self.base = at;
        }
        for (i, (own, _)) in tail.iter().enumerate() {
            if *own {
                let index = (at - self.base) as usize + i;
                if let Some(event) = self.history.get_mut(index) {
                    event.client = client;
                }
            }
        }
        self.clients.insert(
            client,
            ClientState {
                context: at,
                branch: VecDeque::new(),
                floor: at,
                seen: at,
                unsettled: false,
            },
        );
        self.recompute_run();
    }

    /// Recomputes the newest run of consecutive events by one client from the history.
    fn recompute_run(&mut self) {
        let Some(last) = self.history.back().map(|e| e.client) else {
            return;
        };
        let run = self
            .history
            .iter()
            .rev()
            .take_while(|e| e.client == last)
            .count() as u64;
        self.run_client = Some(last);
        self.run_start = self.version - run;
    }

    /// Stops tracking a session.
    pub fn untrack(&mut self, client: ClientKey) {
        self.clients.remove(&client);
        self.prune();
    }

    /// True when the session is tracked.
    pub fn is_tracked(&self, client: ClientKey) -> bool {
        self.clients.contains_key(&client)
    }

    /// Where the operations of others after `client`'s branch lie in the history: the
    /// versions `start..end` (its own operations among them are skipped). `start` is where the
    /// session's previous submission stopped (everything of others before it is in the
    /// branch), or `context` when that is later.
    fn unseen_range(
        &self,
        client: ClientKey,
        state: &ClientState,
        context: u64,
    ) -> Result<(u64, u64), ConcurrencyError> {
        let start = context.max(state.seen);
        // Events after the start of the client's own trailing run are all its own.
        let end = if self.run_client == Some(client) {
            self.run_start
        } else {
            self.version
        };
        if start < end && start < self.base {
            return Err(ConcurrencyError::ContextTooOld {
                context,
                base: self.base,
            });
        }
        Ok((start, end.max(start)))
    }

    /// Versions `from..base` that a submission (or reference) of `client` at `context` needs
    /// but the history no longer holds (the cap dropped them while the client lagged far
    /// behind); `None` when the history holds all it needs.
    pub fn missing(&self, client: ClientKey, context: u64) -> Option<(u64, u64)> {
        let state = self.clients.get(&client)?;
        let start = context.max(state.floor).max(state.seen);
        let end = if self.run_client == Some(client) {
            self.run_start
        } else {
            self.version
        };
        (start < end && start < self.base).then_some((start, self.base))
    }

    /// Puts back history the cap had dropped: `ops` are the operations at context versions
    /// `from..base`, in order, each with the client that submitted it ([`NO_CLIENT`] for
    /// others). They go again at the next prune. False (and nothing changed) for a range of
    /// the wrong length.
    pub fn restore(&mut self, from: u64, ops: Vec<(ClientKey, Arc<Operation>)>) -> bool {
        if from >= self.base || ops.len() as u64 != self.base - from {
            return false;
        }
        for (client, op) in ops.into_iter().rev() {
            self.history.push_front(Event { client, op });
        }
        self.base = from;
        true
    }

    /// The part of the history `unseen_range` names, as an offset and a length.
    fn history_span(
        &self,
        client: ClientKey,
        state: &ClientState,
        context: u64,
    ) -> Result<(usize, usize), ConcurrencyError> {
        let (start, end) = self.unseen_range(client, state, context)?;
        let take = (end - start) as usize;
        if take == 0 {
            return Ok((0, 0));
        }
        Ok(((start - self.base) as usize, take))
    }

    /// The server operations a session had not seen at `context`, in its own frame, each with
    /// its context version.
    fn path<'a>(
        &'a self,
        client: ClientKey,
        state: &'a ClientState,
        context: u64,
    ) -> Result<impl Iterator<Item = (u64, &'a Operation)> + 'a, ConcurrencyError> {
        let (skip, take) = self.history_span(client, state, context)?;
        let first = self.base + skip as u64;
        let branch = state
            .branch
            .iter()
            .filter(move |(v, _)| *v >= context)
            .map(|(v, op)| (*v, op));
        let history = self
            .history
            .range(skip..skip + take)
            .enumerate()
            .filter(move |(_, e)| e.client != client)
            .map(move |(i, e)| (first + i as u64, &*e.op));
        Ok(branch.chain(history))
    }

    /// Takes in a re-sent operation of a resynchronised client that is already committed at
    /// context version `committed_at` (one of the operations flagged as its own when it was
    /// tracked): nothing is applied, but the session's record of what it has not seen is
    /// brought to where it was after that operation, so that its later submissions are
    /// transformed exactly as if the connection had never dropped.
    pub fn replay_own(
        &mut self,
        client: ClientKey,
        context: u64,
        op: Operation,
        committed_at: u64,
    ) -> Result<(), ConcurrencyError> {
        if committed_at >= self.version {
            return Err(ConcurrencyError::ContextAhead {
                context: committed_at,
                version: self.version,
            });
        }
        self.move_past(client, context, op, Some(committed_at))?;
        if let Some(state) = self.clients.get_mut(&client) {
            state.unsettled = false;
        }
        Ok(())
    }

    /// Transforms a submission from `client`, made at `context`, to the current version.
    ///
    /// The session's branch moves past the submission at once (see [`Pending`]).
    pub fn process(
        &mut self,
        client: ClientKey,
        context: u64,
        op: Operation,
    ) -> Result<Pending, ConcurrencyError> {
        let op = self.move_past(client, context, op, None)?;
        Ok(Pending { client, op })
    }

    /// Transforms `op`, made by `client` at `context`, past what it had not seen of the
    /// operations before context version `until` (the current version when `None`), and moves
    /// the session's branch past it. Leaves the session unsettled until the caller settles it.
    fn move_past(
        &mut self,
        client: ClientKey,
        context: u64,
        op: Operation,
        until: Option<u64>,
    ) -> Result<Operation, ConcurrencyError> {
        let limit = until.unwrap_or(self.version);
        let state = self
            .clients
            .get(&client)
            .ok_or(ConcurrencyError::UnknownClient)?;
        if state.unsettled {
            return Err(ConcurrencyError::Unsettled);
        }
        if context > limit {
            return Err(ConcurrencyError::ContextAhead {
                context,
                version: limit,
            });
        }
        // A resynchronised client's own operations of its previous connection fill the gap.
        let context = context.max(state.floor);
        if context < state.context || context > limit {
            return Err(ConcurrencyError::ContextRegressed {
                context,
                last: state.context,
            });
        }
        let (start, end) = self.unseen_range(client, state, context)?;
        let end = end.min(limit).max(start);
        let take = (end - start) as usize;
        // `start >= base` whenever anything is taken (`unseen_range` checks it).
        let skip = if take == 0 {
            0
        } else {
            (start - self.base) as usize
        };
        let Some(state) = self.clients.get_mut(&client) else {
            return Err(ConcurrencyError::UnknownClient);
        };
        state.unsettled = true;
        state.context = context;
        // Everything of others before `limit` is now in the branch; the rest are its own.
        state.seen = state.seen.max(limit);
        // What the client had seen is no longer needed; the rest moves past the submission.
        let seen = state.branch.partition_point(|(v, _)| *v < context);
        state.branch.drain(..seen);
        let mut op = op;
        for (_, s) in state.branch.iter_mut() {
            transform_in_place(s, &mut op)?;
        }
        for (i, e) in self.history.range(skip..skip + take).enumerate() {
            if e.client != client {
                let mut s = Operation::clone(&e.op);
                transform_in_place(&mut s, &mut op)?;
                state.branch.push_back((start + i as u64, s));
            }
        }
        Ok(op)
    }

    /// Records an applied submission as the next version. `applied` is the operation exactly
    /// as applied and sent to the other sessions.
    pub fn commit(&mut self, pending: Pending, applied: Arc<Operation>) {
        if let Some(state) = self.clients.get_mut(&pending.client) {
            state.unsettled = false;
        }
        self.note_run(pending.client);
        self.history.push_back(Event {
            client: pending.client,
            op: applied,
        });
        self.version += 1;
        self.prune();
    }

    /// Records an operation from a participant that is not tracked (for example a host-side
    /// change made at the current version).
    pub fn commit_untracked(&mut self, client: ClientKey, applied: Arc<Operation>) {
        self.note_run(client);
        self.history.push_back(Event {
            client,
            op: applied,
        });
        self.version += 1;
        self.prune();
    }

    /// Transforms reference values that `client` set at `context` on `target` to the current
    /// version. `None` means a later operation cleared the reference.
    pub fn transform_reference(
        &self,
        client: ClientKey,
        context: u64,
        target: Option<&ValueId>,
        values: ReferenceValues,
    ) -> Result<Option<ReferenceValues>, ConcurrencyError> {
        self.carry_reference(client, context, u64::MAX, target, values)
    }

    /// Moves reference values that `client` holds in its own frame at `context` past the
    /// operations of others it had seen by context `until` (as it moved them on receipt):
    /// the values are then in its frame at `until`, before its submission made there.
    pub fn advance_reference(
        &self,
        client: ClientKey,
        context: u64,
        until: u64,
        target: Option<&ValueId>,
        values: ReferenceValues,
    ) -> Result<Option<ReferenceValues>, ConcurrencyError> {
        self.carry_reference(client, context, until, target, values)
    }

    fn carry_reference(
        &self,
        client: ClientKey,
        context: u64,
        until: u64,
        target: Option<&ValueId>,
        values: ReferenceValues,
    ) -> Result<Option<ReferenceValues>, ConcurrencyError> {
        let state = self
            .clients
            .get(&client)
            .ok_or(ConcurrencyError::UnknownClient)?;
        if context > self.version {
            return Err(ConcurrencyError::ContextAhead {
                context,
                version: self.version,
            });
        }
        let mut values = values;
        for (v, s) in self.path(client, state, context.max(state.context))? {
            if v >= until {
                continue;
            }
            match transform_reference(s, target, values) {
                Some(v) => values = v,
                None => return Ok(None),
            }
        }
        Ok(Some(values))
    }

    fn note_run(&mut self, client: ClientKey) {
        if self.run_client != Some(client) {
            self.run_client = Some(client);
            self.run_start = self.version;
        }
    }

    fn prune(&mut self) {
        let min = self
            .clients
            .values()
            .map(|c| c.context.max(c.seen))
            .min()
            .unwrap_or(self.version);
        while self.base < min && !self.history.is_empty() {
            self.history.pop_front();
            self.base += 1;
        }
        while self.history.len() > self.max_history {
            self.history.pop_front();
            self.base += 1;
        }
        if self.history.is_empty() {
            self.base = self.version;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ot::{DiscreteOp, OpKind};

    fn ins(index: i64, text: &str) -> Operation {
        Operation::Discrete(DiscreteOp::new(
            "t",
            OpKind::StringSplice {
                index,
                delete_count: 0,
                insert: text.into(),
            },
        ))
    }

    fn commit(cc: &mut Concurrency, client: ClientKey, context: u64, op: Operation) -> Operation {
        let p = cc.process(client, context, op).expect("process");
        let out = p.op.clone();
        cc.commit(p, Arc::new(out.clone()));
        out
    }

    #[test]
    fn refuses_unknown_clients_and_bad_context_versions() {
        let mut cc = Concurrency::new(5, 10);
        assert_eq!(
            cc.process(1, 5, ins(0, "a")).err(),
            Some(ConcurrencyError::UnknownClient)
        );
        cc.track(1);
        assert!(matches!(
            cc.process(1, 6, ins(0, "a")).err(),
            Some(ConcurrencyError::ContextAhead {
                context: 6,
                version: 5
            })
        ));
        commit(&mut cc, 1, 5, ins(0, "a"));
        commit(&mut cc, 1, 6, ins(0, "b"));
        assert!(matches!(
            cc.process(1, 5, ins(0, "c")).err(),
            Some(ConcurrencyError::ContextRegressed {
                context: 5,
                last: 6
            })
        ));
    }

    #[test]
    fn transforms_only_against_operations_the_client_had_not_seen() {
        let mut cc = Concurrency::new(1, 100);
        cc.track(1);
        cc.track(2);
        // Client 2 inserts "xx" at 0; client 1, unaware, inserts at 3 twice in a row.
        commit(&mut cc, 2, 1, ins(0, "xx"));
        assert_eq!(commit(&mut cc, 1, 1, ins(3, "a")), ins(5, "a"));
        // Its second op was made after its first (same context): shifted by "xx" only.
        assert_eq!(commit(&mut cc, 1, 1, ins(4, "b")), ins(6, "b"));
        // Having seen everything, nothing is transformed.
        assert_eq!(commit(&mut cc, 1, 4, ins(0, "c")), ins(0, "c"));
        assert_eq!(cc.version(), 5);
    }

    /// The history of the resync tests: on "0123456789" at version 1, client 2 inserts "xx"
    /// at 8 (version 2); client 1, having seen only version 1, typed "a" at 0, "b" at 1 and
    /// "c" at 3 (all at context 1); the server commits a (version 3), then client 2's "yy"
    /// made after "xx" (version 4), then b (version 5); then client 1's connection drops
    /// with a, b and c unacknowledged. Returns the committed a, yy and b.
    fn drop_with_three_in_flight(cc: &mut Concurrency) -> (Operation, Operation, Operation) {
        cc.track(1);
        cc.track(2);
        commit(cc, 2, 1, ins(8, "xx"));
        let a = commit(cc, 1, 1, ins(0, "a"));
        assert_eq!(a, ins(0, "a"));
        let yy = commit(cc, 2, 2, ins(2, "yy"));
        assert_eq!(yy, ins(3, "yy"), "shifted by a");
        let b = commit(cc, 1, 1, ins(1, "b"));
        assert_eq!(b, ins(1, "b"));
        cc.untrack(1);
        (a, yy, b)
    }

    /// The reconnected client (key 3) resyncs from version 1 and is told it caught up at 2
    /// (before its own first operation); it replays "xx" (which moves nothing of its own) and
    /// re-sends a and b (already committed) and c, all at context 2.
    fn resend_after_resync(cc: &mut Concurrency, tail: Vec<(bool, Arc<Operation>)>) {
        cc.track_resynced(3, 2, tail);
        cc.replay_own(3, 2, ins(0, "a"), 2).expect("a is taken in");
        cc.replay_own(3, 2, ins(1, "b"), 4).expect("b is taken in");
        // c ("ab0c1…" on the client) lands after "0" in "ab01yy234567xx89": transformed
        // past yy as the server saw it after b, never past a or b themselves.
        assert_eq!(commit(cc, 3, 2, ins(3, "c")), ins(3, "c"));
        // The client's next operation, made after c, is not transformed past c.
        assert_eq!(commit(cc, 3, 2, ins(4, "d")), ins(4, "d"));
        assert_eq!(cc.version(), 7);
    }

    #[test]
    fn a_resynchronised_client_skips_its_earlier_sessions_operations() {
        let mut cc = Concurrency::new(1, 100);
        let (a, yy, b) = drop_with_three_in_flight(&mut cc);
        let tail = vec![
            (true, Arc::new(a)),
            (false, Arc::new(yy)),
            (true, Arc::new(b)),
        ];
        resend_after_resync(&mut cc, tail);
        // A normally opened session still may not go backwards.
        cc.track(4);
        assert!(matches!(
            cc.process(4, 1, ins(0, "e")).err(),
            Some(ConcurrencyError::ContextRegressed { .. })
        ));
    }

    #[test]
    fn a_resync_after_a_restart_puts_the_missing_history_back() {
        let mut before = Concurrency::new(1, 100);
        let (a, yy, b) = drop_with_three_in_flight(&mut before);
        // After a restart the state starts empty at the last version.
        let mut cc = Concurrency::new(5, 100);
        cc.track(2);
        let tail = vec![
            (true, Arc::new(a)),
            (false, Arc::new(yy)),
            (true, Arc::new(b)),
        ];
        resend_after_resync(&mut cc, tail);
        // A tail that does not match the history is ignored: caught up to the current version.
        let mut other = Concurrency::new(5, 100);
        other.track_resynced(1, 2, vec![(true, Arc::new(ins(0, "z")))]);
        assert!(matches!(
            other.process(1, 4, ins(0, "q")).map(|p| p.op),
            Ok(op) if op == ins(0, "q")
        ));
    }

    #[test]
    fn a_resent_operation_must_fit_what_was_committed() {
        let mut cc = Concurrency::new(1, 100);
        let (a, yy, b) = drop_with_three_in_flight(&mut cc);
        cc.track_resynced(
            3,
            2,
            vec![
                (true, Arc::new(a)),
                (false, Arc::new(yy)),
                (true, Arc::new(b)),
            ],
        );
        assert!(
            cc.replay_own(3, 2, ins(0, "a"), 5).is_err(),
            "version 6 does not exist"
        );
        assert!(
            cc.replay_own(9, 2, ins(0, "a"), 2).is_err(),
            "unknown session"
        );
    }

    #[test]
    fn a_submission_that_is_not_committed_spends_the_session() {
        let mut cc = Concurrency::new(1, 100);
        cc.track(1);
        cc.track(2);
        commit(&mut cc, 2, 1, ins(0, "xx"));
        // Processed, then dropped (as when the operation fails to apply).
        drop(cc.process(1, 1, ins(0, "a")).expect("process"));
        assert_eq!(
            cc.process(1, 2, ins(0, "b")).err(),
            Some(ConcurrencyError::Unsettled)
        );
        // Tracked anew, the session submits again; the others are unaffected.
        cc.untrack(1);
        cc.track(1);
        assert_eq!(commit(&mut cc, 1, 2, ins(0, "b")), ins(0, "b"));
        assert_eq!(commit(&mut cc, 2, 2, ins(0, "c")), ins(1, "c"));
    }

    #[test]
    fn history_is_pruned_to_what_tracked_clients_may_still_need() {
        let mut cc = Concurrency::new(1, 1000);
        cc.track(1);
        for v in 1..=50 {
            commit(&mut cc, 1, v, ins(0, "a"));
        }
        assert!(
            cc.history_len() <= 1,
            "a client that saw everything needs no history"
        );
        let mut capped = Concurrency::new(1, 8);
        capped.track(1);
        capped.track(2);
        for _ in 0..20 {
            let v = capped.version();
            commit(&mut capped, 2, v, ins(0, "a"));
        }
        assert!(capped.history_len() <= 8);
        assert!(matches!(
            capped.process(1, 1, ins(0, "z")).err(),
            Some(ConcurrencyError::ContextTooOld { .. })
        ));
    }

    /// A client that submits a long burst at one context version (as the client does in a
    /// synchronous loop) while another edits: the history is capped far below the burst, and
    /// every submission still transforms exactly (a model of both replicas agrees).
    #[test]
    fn a_burst_at_one_context_outlasts_the_history_cap() {
        let mut cc = Concurrency::new(1, 8);
        cc.track(1);
        cc.track(2);
        let mut server = String::from("0123456789");
        let splice = |text: &mut String, op: &Operation| {
            if let Operation::Discrete(d) = op {
                if let OpKind::StringSplice { index, insert, .. } = &d.kind {
                    text.insert_str(*index as usize, &insert.to_string_lossy());
                }
            }
        };
        // Client 2 edits once first, so client 1's burst is concurrent with it.
        let first = commit(&mut cc, 2, 1, ins(0, "b"));
        splice(&mut server, &first);
        for i in 0..200 {
            // Client 1 types at its own end, still at context 1.
            let op = commit(&mut cc, 1, 1, ins(10 + i, "a"));
            splice(&mut server, &op);
            if i % 50 == 49 {
                let v = cc.version();
                let op = commit(&mut cc, 2, v, ins(0, "b"));
                splice(&mut server, &op);
            }
        }
        assert!(cc.history_len() <= 8);
        assert_eq!(
            server,
            format!("{}0123456789{}", "b".repeat(5), "a".repeat(200))
        );
    }

    /// A client so far behind that the cap dropped what it needs: the dropped operations are
    /// put back (as the sequencer does from the store) and its submission transforms exactly.
    #[test]
    fn history_dropped_by_the_cap_can_be_put_back() {
        let mut cc = Concurrency::new(1, 4);
        cc.track(1);
        cc.track(2);
        let mut all = Vec::new();
        for _ in 0..10 {
            let v = cc.version();
            all.push(commit(&mut cc, 2, v, ins(0, "b")));
        }
        assert_eq!(cc.missing(1, 1), Some((1, 7)));
        assert!(
            cc.process(1, 1, ins(0, "a")).is_err(),
            "without the dropped history it is refused"
        );
        // The same history again, this time with the dropped part put back.
        let mut lag = Concurrency::new(1, 4);
        lag.track(1);
        lag.track(2);
        for op in &all {
            let v = lag.version();
            let p = lag.process(2, v, op.clone()).expect("process");
            let out = p.op.clone();
            lag.commit(p, Arc::new(out));
        }
        let (from, base) = lag.missing(1, 1).expect("missing");
        let ops: Vec<_> = all[(from - 1) as usize..(base - 1) as usize]
            .iter()
            .map(|o| (NO_CLIENT, Arc::new(o.clone())))
            .collect();
        assert!(lag.restore(from, ops));
        assert_eq!(lag.missing(1, 1), None);
        // Inserted at 3 before ten "b"s arrived at 0: lands at 13.
        assert_eq!(
            lag.process(1, 1, ins(3, "a")).map(|p| p.op).ok(),
            Some(ins(13, "a"))
        );
    }
}
