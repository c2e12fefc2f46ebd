//! The store's two threads: the writer ([`Logger`]), which logs groups of writes and
//! acknowledges them, and the [`Applier`], which applies logged writes to the database.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use super::super::batch;
use super::super::wal::{self, ClosedSegments, Wal};
use super::super::{codec, CommitCallback, StoreError, StoreResult, WriteOp};
use super::writer::DbWriter;
use super::{is_direct, Request, Shared, Work, APPLY_RETRY, MAX_UNAPPLIED_BYTES, SPACE_MARGIN};

// ---------------------------------------------------------------------------------------------
// The writer thread.
// ---------------------------------------------------------------------------------------------

/// Calls a commit callback, containing a panic.
fn report(done: CommitCallback, result: StoreResult<()>) {
    if catch_unwind(AssertUnwindSafe(|| done(result))).is_err() {
        tracing::error!("a store commit callback panicked");
    }
}

/// The writer thread: logs groups of requests and acknowledges them.
pub(super) struct Logger {
    pub(super) shared: Arc<Shared>,
    /// The log; `None` in a process that does not own the directory (every write is direct).
    pub(super) wal: Option<Wal>,
    pub(super) max_batch: usize,
    /// The group being encoded.
    pub(super) buf: Vec<u8>,
    pub(super) page_size: u64,
}

impl Logger {
    pub(super) fn run(&mut self, receiver: mpsc::Receiver<Request>) {
        // `recv` fails once every sender is gone and the queue is empty.
        while let Ok(first) = receiver.recv() {
            let mut weight = first.weight();
            let mut group = vec![first];
            while weight < self.max_batch {
                match receiver.try_recv() {
                    Ok(next) => {
                        weight += next.weight();
                        group.push(next);
                    }
                    Err(_) => break,
                }
            }
            self.process(group);
        }
        self.shared.lock().closing = true;
        self.shared.changed.notify_all();
    }

    /// Logs one group and reports every outcome in call order.
    fn process(&mut self, group: Vec<Request>) {
        let mut pending: Pending = Vec::new();
        self.buf.clear();
        for request in group {
            match request {
                Request::Flush(tx) => {
                    self.log(&mut pending);
                    let _ = tx.send(());
                }
                Request::Encoded { bytes, done, .. } => {
                    let start = self.buf.len();
                    self.buf.extend_from_slice(&bytes);
                    pending.push((start..self.buf.len(), done));
                }
                Request::Write { batch, done } => {
                    if is_direct(&batch) || self.wal.is_none() {
                        self.log(&mut pending);
                        let result = self.direct(batch);
                        report(done, result);
                        continue;
                    }
                    let start = self.buf.len();
                    match codec::encode_batch(&batch, &mut self.buf) {
                        Ok(()) => pending.push((start..self.buf.len(), done)),
                        Err(e) => {
                            self.buf.truncate(start);
                            self.log(&mut pending);
                            report(done, Err(e));
                        }
                    }
                }
            }
        }
        self.log(&mut pending);
    }

    /// Whether the map surely has room for what is queued plus `bytes` more.
    fn room_for(&self, bytes: usize) -> bool {
        let info = self.shared.env.info();
        let used = (info.last_page_number as u64 + 1).saturating_mul(self.page_size);
        let unapplied = self.shared.lock().unapplied_bytes;
        let needed = 4 * (unapplied as u64 + bytes as u64) + SPACE_MARGIN;
        used.saturating_add(needed) <= info.map_size as u64
    }

    /// Makes the encoded `pending` requests durable in the log, hands them to the applier and
    /// reports them.
    fn log(&mut self, pending: &mut Pending) {
        if pending.is_empty() {
            return;
        }
        let group = std::mem::take(pending);
        let bytes = self.buf.len();
        if let Some(e) = self.shared.lock().failure.clone() {
            self.buf.clear();
            for (_, done) in group {
                report(done, Err(e.clone()));
            }
            return;
        }
        let logging = self.wal.is_some() && self.room_for(bytes);
        let Some(wal) = self.wal.as_mut().filter(|_| logging) else {
            // The map may not hold them: each is committed directly (and fails alone).
            let buf = std::mem::take(&mut self.buf);
            for (range, done) in group {
                let result = match batch::decode_batches(&buf[range]) {
                    Ok(batches) => batches.into_iter().try_for_each(|batch| self.direct(batch)),
                    Err(e) => Err(e),
                };
                report(done, result);
            }
            self.buf = buf;
            self.buf.clear();
            return;
        };
        let logged = wal
            .append(&self.buf)
            .and_then(|lsn| wal.sync().map(|()| lsn));
        // The applier stores the logged bytes themselves.
        let payload = std::mem::replace(&mut self.buf, Vec::with_capacity(bytes));
        let lsn = match logged {
            Ok(lsn) => lsn,
            Err(e) => {
                // Nothing of this group is acknowledged; the log repairs its tail before the
                // next append (and refuses writes while it cannot, on a full disk say).
                tracing::error!("the write-ahead log failed, the writes are refused: {e}");
                for (_, done) in group {
                    report(done, Err(e.clone()));
                }
                return;
            }
        };
        self.shared.commits.fetch_add(1, Ordering::Relaxed);
        {
            let mut p = self.shared.lock();
            p.logged = lsn;
            p.queue.push_back(Work::Logged { lsn, payload });
            p.unapplied_bytes += bytes;
            p.since.get_or_insert_with(Instant::now);
        }
        self.shared.changed.notify_all();
        for (_, done) in group {
            report(done, Ok(()));
        }
        // Bounded memory: wait while the applier is far behind.
        let mut p = self.shared.lock();
        while p.unapplied_bytes > MAX_UNAPPLIED_BYTES && p.failure.is_none() {
            p.urgent = true;
            self.shared.changed.notify_all();
            p = self.shared.wait(p);
        }
    }

    /// Has the applier commit `batch` directly, after everything logged so far.
    fn direct(&mut self, batch: Vec<WriteOp>) -> StoreResult<()> {
        let (reply, outcome) = mpsc::sync_channel(1);
        {
            let mut p = self.shared.lock();
            if let Some(e) = &p.failure {
                return Err(e.clone());
            }
            p.queue.push_back(Work::Direct { batch, reply });
            p.urgent = true;
        }
        self.shared.changed.notify_all();
        let result = outcome.recv().unwrap_or(Err(StoreError::Closed));
        if result.is_ok() {
            self.shared.commits.fetch_add(1, Ordering::Relaxed);
        }
        result
    }
}

/// Requests encoded into the writer's buffer: where each one's bytes are, and its callback.
type Pending = Vec<(std::ops::Range<usize>, CommitCallback)>;

/// Logged writes waiting to be applied: `(lsn, payload)`.
type Run = Vec<(u64, Vec<u8>)>;

/// The applier thread: applies logged writes to the database and commits direct writes.
///
/// When applying fails (a full disk, say), the logged writes stay queued (and in the log),
/// [`Progress::failure`](super::Progress::failure) refuses new writes, and the applier tries again every
/// [`APPLY_RETRY`]; once it succeeds, the store takes writes again.
pub(super) struct Applier {
    pub(super) db: DbWriter,
    pub(super) closed: ClosedSegments,
    pub(super) interval: Duration,
    /// The log of the directory's owner, when this process is not it.
    pub(super) follow: Option<PathBuf>,
    /// After a failure: when to try again.
    pub(super) retry_at: Option<Instant>,
}

impl Applier {
    pub(super) fn run(mut self, shared: &Shared) {
        loop {
            let work: Vec<Work> = {
                let mut p = shared.lock();
                loop {
                    if p.queue.is_empty() {
                        if p.closing {
                            return;
                        }
                        p = shared.wait(p);
                        continue;
                    }
                    let now = Instant::now();
                    let due = match self.retry_at.filter(|_| p.failure.is_some()) {
                        Some(retry) if p.closing || now >= retry => break,
                        Some(retry) => retry,
                        None if p.urgent || p.closing => break,
                        None => p.since.unwrap_or(now) + self.interval,
                    };
                    if now >= due {
                        break;
                    }
                    p = shared
                        .changed
                        .wait_timeout(p, due - now)
                        .map(|(guard, _)| guard)
                        .unwrap_or_else(|e| e.into_inner().0);
                }
                p.urgent = false;
                p.since = None;
                p.queue.drain(..).collect()
            };
            self.process(shared, work);
        }
    }

    fn process(&mut self, shared: &Shared, work: Vec<Work>) {
        let mut run: Run = Vec::new();
        let mut work = work.into_iter();
        while let Some(item) = work.next() {
            match item {
                Work::Logged { lsn, payload } => run.push((lsn, payload)),
                Work::Direct { batch, reply } => {
                    if let Err(e) = self.apply_logged(shared, &mut run) {
                        let _ = reply.send(Err(e));
                        return self.keep(shared, run, work);
                    }
                    let result = self.db.commit_direct(&batch, self.follow.as_deref());
                    let _ = reply.send(result);
                }
            }
        }
        if self.apply_logged(shared, &mut run).is_err() {
            self.keep(shared, run, work);
        }
    }

    /// After a failure to apply `run`: puts it and the logged work of `rest` back at the front
    /// of the queue for the next attempt, and refuses the direct writes of `rest`. A closing
    /// store leaves them to the next open (they are in the log).
    fn keep(&mut self, shared: &Shared, mut run: Run, rest: impl Iterator<Item = Work>) {
        let failure = shared.lock().failure.clone().unwrap_or(StoreError::Closed);
        for item in rest {
            match item {
                Work::Logged { lsn, payload } => run.push((lsn, payload)),
                Work::Direct { reply, .. } => {
                    let _ = reply.send(Err(failure.clone()));
                }
            }
        }
        let mut p = shared.lock();
        if p.closing {
            let first = run.first().map_or(0, |(lsn, _)| *lsn);
            let last = run.last().map_or(0, |(lsn, _)| *lsn);
            tracing::error!(
                records = run.len(),
                first_record = first,
                last_record = last,
                "the store closes with acknowledged writes it could not apply (log records \
                 {first}..={last}); they stay in the write-ahead log (wal/ in the data \
                 directory) and are applied when the store is opened again: free disk space \
                 or fix the device first, and keep wal/ with the data directory"
            );
            return;
        }
        for (lsn, payload) in run.into_iter().rev() {
            p.queue.push_front(Work::Logged { lsn, payload });
        }
        self.retry_at = Some(Instant::now() + APPLY_RETRY);
    }

    /// Applies logged work in one transaction and records how far the database is; `run` is
    /// emptied when that worked, kept when it failed.
    fn apply_logged(&mut self, shared: &Shared, run: &mut Run) -> StoreResult<()> {
        let Some(last) = run.last().map(|(lsn, _)| *lsn) else {
            return Ok(());
        };
        let bytes: usize = run.iter().map(|(_, p)| p.len()).sum();
        let groups: Vec<(u64, &[u8])> = run.iter().map(|(lsn, p)| (*lsn, p.as_slice())).collect();
        let result = self.db.commit_logged(&groups);
        let mut p = shared.lock();
        match &result {
            Ok(()) => {
                p.applied = last;
                p.unapplied_bytes = p.unapplied_bytes.saturating_sub(bytes);
                if p.failure.take().is_some() {
                    tracing::info!("the store applies its logged writes again and takes writes");
                }
                self.retry_at = None;
            }
            Err(e) => {
                if p.failure.is_none() {
                    let first = run.first().map_or(0, |(lsn, _)| *lsn);
                    tracing::error!(
                        first_record = first,
                        last_record = last,
                        "applying acknowledged writes (log records {first}..={last}) to the \
                         database failed; the store refuses writes and retries (the writes are \
                         kept in the write-ahead log): {e}"
                    );
                }
                p.failure = Some(StoreError::Io(format!(
                    "the store cannot apply acknowledged writes to its database ({e}); it \
                     refuses writes until it can (they are kept in the write-ahead log)"
                )));
            }
        }
        let failure = p.failure.clone();
        drop(p);
        shared.changed.notify_all();
        if result.is_ok() {
            run.clear();
            // Only segments the database now holds may go; after a failure they are what the
            // next attempt (or the next open) applies.
            wal::release(&self.closed, last);
        }
        failure.map_or(Ok(()), Err)
    }
}
