//! The write-ahead log of the LMDB store: segment files in `<data dir>/wal/`.
//!
//! Segments are numbered files (`00000000000000000001.wal`, ...). A used segment starts with a
//! 16-byte header (the magic `TDMWAL01` and the log sequence number of its first record,
//! little-endian) and holds records back to back. A record is
//! `[payload length: u32][crc32 of lsn and payload: u32][lsn: u64][payload]`, little-endian;
//! sequence numbers are consecutive across segments. Every append also writes an end marker
//! (16 zero bytes) after its record, which the next append overwrites. A record is durable (and
//! its writes may be acknowledged) once [`Wal::sync`] returns after it was appended.
//!
//! A segment whose records are all in the database is reused as a later segment instead of
//! being deleted (a few are kept): its header is zeroed and synced, then it is renamed. Appends
//! to a reused segment overwrite allocated blocks, so a sync flushes data alone (no file-system
//! journal commit on the acknowledgement path); while none is free, a new segment is an empty
//! file that grows as records are appended. Sizes at which segments rotate double from
//! [`FIRST_SEGMENT_BYTES`] up to the store's maximum.
//!
//! Recovery reads the used segments in order (a segment with an all-zero header is unused, or
//! being reused, and holds nothing). The records of a segment end at its end, at all-zero
//! bytes, or at an end marker followed by no intact later record (what follows it in a reused
//! segment is older, applied records). A damaged record at the end of the newest used segment,
//! with no intact record after it, is an append cut short (never acknowledged) and ends the
//! log; damage anywhere else is corruption and fails the open.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::{StoreError, StoreResult};

const MAGIC: &[u8; 8] = b"TDMWAL01";
const HEADER: usize = 16;
const RECORD_HEADER: usize = 16;
/// Larger payloads are taken for damage (a write batch is far smaller).
const MAX_PAYLOAD: usize = 1 << 30;
const SUFFIX: &str = ".wal";
/// Size of the first segment of a freshly opened log.
pub(super) const FIRST_SEGMENT_BYTES: u64 = 1 << 20;
/// Segments whose records are all applied that are kept for reuse (the others are deleted).
const KEPT_FOR_REUSE: usize = 2;
/// The file a future segment is prepared in (zero-filled) before it is renamed into place.
const PREPARED: &str = "prepared.tmp";
/// Zeros written (and synced) at a time while a segment is prepared, and the pause after each
/// chunk, so that the log's own syncs never wait behind megabytes of them.
const PREPARE_CHUNK: usize = 256 << 10;
const PREPARE_PACE: Duration = Duration::from_millis(10);

fn io(what: impl std::fmt::Display, e: std::io::Error) -> StoreError {
    if e.kind() == std::io::ErrorKind::StorageFull {
        return StoreError::Io(format!(
            "write-ahead log: {what}: the disk is full ({e}); writes are refused until space \
             is freed, then resume"
        ));
    }
    StoreError::Io(format!("write-ahead log: {what}: {e}"))
}

fn segment_name(index: u64) -> String {
    format!("{index:020}{SUFFIX}")
}

/// The segment files in `dir`, ordered by number.
fn segments(dir: &Path) -> StoreResult<Vec<(u64, PathBuf)>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(format_args!("list {}", dir.display()), e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io(format_args!("list {}", dir.display()), e))?;
        let name = entry.file_name();
        let Some(index) = name
            .to_str()
            .and_then(|n| n.strip_suffix(SUFFIX))
            .and_then(|n| n.parse::<u64>().ok())
        else {
            continue;
        };
        out.push((index, entry.path()));
    }
    out.sort();
    Ok(out)
}

fn crc(lsn: u64, payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&lsn.to_le_bytes());
    h.update(payload);
    h.finalize()
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(b)
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(b)
}

/// Why a segment's records stopped before its end.
struct Damage {
    offset: usize,
    /// The sequence number the damaged record should have had.
    lsn: u64,
    reason: &'static str,
}

/// Whether an intact record with a sequence number at or after `lsn` starts anywhere after
/// `offset`: an append cut short is the last thing in the log, so damage followed by an intact
/// record is corruption.
fn intact_record_after(bytes: &[u8], offset: usize, lsn: u64) -> bool {
    let mut at = offset + 1;
    while at + RECORD_HEADER <= bytes.len() {
        let candidate = u64_at(bytes, at + 8);
        let len = u32_at(bytes, at) as usize;
        if candidate >= lsn
            && candidate - lsn < 1 << 32
            && bytes.len() - at - RECORD_HEADER >= len
            && crc(
                candidate,
                &bytes[at + RECORD_HEADER..at + RECORD_HEADER + len],
            ) == u32_at(bytes, at + 4)
        {
            return true;
        }
        at += 1;
    }
    false
}

/// Reads one used segment's records into `out` (all of them, whatever their sequence numbers).
/// The records end at the first all-zero tail.
fn read_segment(bytes: &[u8], out: &mut Vec<(u64, Vec<u8>)>) -> Result<(), Damage> {
    let first_lsn = header_lsn(bytes).ok_or(Damage {
        offset: 0,
        lsn: 0,
        reason: "bad segment header",
    })?;
    let mut at = HEADER;
    let mut expected = first_lsn;
    while at < bytes.len() {
        let damage = |reason| Damage {
            offset: at,
            lsn: expected,
            reason,
        };
        let head = &bytes[at..bytes.len().min(at + RECORD_HEADER)];
        if head.iter().all(|b| *b == 0) {
            // An end marker (or zeros): what follows is older records of a reused segment, or
            // nothing, unless an intact record of this log follows (then it is damage).
            if intact_record_after(bytes, at, expected) {
                return Err(damage("zeros before an intact record"));
            }
            return Ok(());
        }
        if bytes.len() - at < RECORD_HEADER {
            return Err(damage("short record header"));
        }
        let len = u32_at(bytes, at) as usize;
        let sum = u32_at(bytes, at + 4);
        let lsn = u64_at(bytes, at + 8);
        if len > MAX_PAYLOAD || bytes.len() - at - RECORD_HEADER < len {
            return Err(damage("short record"));
        }
        let payload = &bytes[at + RECORD_HEADER..at + RECORD_HEADER + len];
        if crc(lsn, payload) != sum {
            return Err(damage("checksum mismatch"));
        }
        if lsn != expected {
            return Err(damage("sequence number out of order"));
        }
        out.push((lsn, payload.to_vec()));
        expected = expected
            .checked_add(1)
            .ok_or_else(|| damage("sequence number past the last one"))?;
        at += RECORD_HEADER + len;
    }
    Ok(())
}

/// The first sequence number in a segment's header, if it has a valid one.
fn header_lsn(bytes: &[u8]) -> Option<u64> {
    (bytes.len() >= HEADER && &bytes[..8] == MAGIC).then(|| u64_at(bytes, 8))
}

/// A segment's first bytes (up to a header's worth).
fn read_head(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(HEADER);
    File::open(path).and_then(|f| f.take(HEADER as u64).read_to_end(&mut head))?;
    Ok(head)
}

/// A segment's header bytes; `None` when it no longer exists.
fn read_all_head(path: &Path) -> StoreResult<Option<Vec<u8>>> {
    match read_head(path) {
        Ok(head) => Ok(Some(head)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(format_args!("read {}", path.display()), e)),
    }
}

/// A segment's bytes; `None` when it no longer exists (its owner deleted it after applying
/// all of it, while another process was reading the log).
fn read_all(path: &Path) -> StoreResult<Option<Vec<u8>>> {
    let mut bytes = Vec::new();
    match File::open(path).and_then(|mut f| f.read_to_end(&mut bytes)) {
        Ok(_) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(format_args!("read {}", path.display()), e)),
    }
}

/// Every record of the log in `dir` with a sequence number above `applied`, in order.
///
/// Fails with [`StoreError::Corrupt`] when a segment other than the newest used one is
/// damaged, when damage is followed by an intact record, or when the records after `applied`
/// do not follow it without a gap.
pub(super) fn recover(dir: &Path, applied: u64) -> StoreResult<Vec<(u64, Vec<u8>)>> {
    let mut list = Vec::new();
    for (_, path) in segments(dir)? {
        let Some(head) = read_all_head(&path)? else {
            continue;
        };
        // An all-zero header: never used, or being reused (its records are all applied).
        if !head.iter().all(|b| *b == 0) {
            list.push((header_lsn(&head), path));
        }
    }
    let mut records = Vec::new();
    let last = list.len().saturating_sub(1);
    for (i, (first_lsn, path)) in list.iter().enumerate() {
        let next_first = list.get(i + 1).and_then(|(lsn, _)| *lsn);
        if first_lsn.is_some() && next_first.is_some_and(|next| next <= applied.saturating_add(1)) {
            // Every record of this segment is already in the database.
            continue;
        }
        let Some(bytes) = read_all(path)? else {
            continue;
        };
        let mut found = Vec::new();
        if let Err(d) = read_segment(&bytes, &mut found) {
            if i != last || intact_record_after(&bytes, d.offset, d.lsn) {
                return Err(StoreError::Corrupt(format!(
                    "write-ahead log segment {} is damaged at byte {} ({})",
                    path.display(),
                    d.offset,
                    d.reason
                )));
            }
            tracing::warn!(
                segment = %path.display(),
                offset = d.offset,
                reason = d.reason,
                "the write-ahead log ends in an incomplete record (an append cut short); \
                 ignoring it"
            );
        }
        records.extend(found.into_iter().filter(|(lsn, _)| *lsn > applied));
    }
    let mut expected = applied;
    for (lsn, _) in &records {
        match expected.checked_add(1) {
            Some(next) if next == *lsn => expected = next,
            next => {
                return Err(StoreError::Corrupt(format!(
                    "the write-ahead log misses record {} (found {lsn} next)",
                    next.map_or_else(|| "after the last number".into(), |n| n.to_string())
                )))
            }
        }
    }
    Ok(records)
}

/// Bytes of every segment in `dir`.
pub(super) fn bytes(dir: &Path) -> u64 {
    segments(dir)
        .unwrap_or_default()
        .iter()
        .filter_map(|(_, path)| std::fs::metadata(path).ok())
        .map(|m| m.len())
        .sum()
}

/// Deletes every segment in `dir`.
pub(super) fn clear(dir: &Path) -> StoreResult<()> {
    for (_, path) in segments(dir)? {
        std::fs::remove_file(&path)
            .map_err(|e| io(format_args!("remove {}", path.display()), e))?;
    }
    Ok(())
}

fn sync_dir(dir: &Path) -> StoreResult<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io(format_args!("sync {}", dir.display()), e))
}

/// Creates segment `index` in `dir`: an empty file, durable with its directory entry.
fn create_segment(dir: &Path, index: u64) -> StoreResult<File> {
    let path = dir.join(segment_name(index));
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| io(format_args!("create {}", path.display()), e))?;
    // The new file's directory entry must be durable before records in it are.
    sync_dir(dir)?;
    Ok(file)
}

/// Fills a fresh log's first segment with zeros, so that its appends overwrite allocated blocks
/// (a sync then flushes data only; appends that grow the file also commit the file system's
/// journal, which showed as the slowest acknowledgements of a freshly started server). Best
/// effort: on a full disk the segment stays empty and grows as records are appended.
fn zero_fill(file: &File, capacity: u64) {
    let Ok(len) = usize::try_from(capacity) else {
        return;
    };
    let filled = file
        .write_all_at(&vec![0u8; len], 0)
        .and_then(|()| file.sync_data());
    if filled.is_err() {
        let _ = file.set_len(0);
    }
}

/// Fills [`PREPARED`] in `dir` with `capacity` zeros, a paced chunk at a time, and syncs it;
/// stops early (failing) once `abandon` is set.
fn prepare(dir: &Path, capacity: u64, abandon: &AtomicBool) -> StoreResult<()> {
    let path = dir.join(PREPARED);
    let _ = std::fs::remove_file(&path);
    let filled = (|| {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| io(format_args!("create {}", path.display()), e))?;
        let zeros = vec![0u8; PREPARE_CHUNK];
        let mut at = 0;
        while at < capacity {
            if abandon.load(Ordering::Relaxed) {
                return Err(StoreError::Closed);
            }
            let n = zeros.len().min((capacity - at) as usize);
            file.write_all_at(&zeros[..n], at)
                .and_then(|()| file.sync_data())
                .map_err(|e| io(format_args!("prepare {}", path.display()), e))?;
            at += n as u64;
            std::thread::sleep(PREPARE_PACE);
        }
        file.sync_all()
            .map_err(|e| io(format_args!("sync {}", path.display()), e))
    })();
    if filled.is_err() {
        // It holds space a full disk needs back.
        let _ = std::fs::remove_file(&path);
    }
    filled
}

/// Whether a segment file of `len` bytes is worth reusing for a segment of `capacity` (an
/// appended segment ends up to a record short of its capacity).
fn large_enough(len: u64, capacity: u64) -> bool {
    len.saturating_mul(4) >= capacity.saturating_mul(3)
}

/// Makes the applied segment at `from` segment `index`: zeroes its header (durably, so that a
/// crash leaves a segment recovery skips), then renames it.
fn reuse_segment(dir: &Path, from: &Path, index: u64) -> StoreResult<File> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(from)
        .map_err(|e| io(format_args!("open {}", from.display()), e))?;
    file.write_all_at(&[0u8; HEADER], 0)
        .and_then(|()| file.sync_data())
        .map_err(|e| io(format_args!("clear the header of {}", from.display()), e))?;
    let path = dir.join(segment_name(index));
    std::fs::rename(from, &path).map_err(|e| {
        io(
            format_args!("rename {} to {}", from.display(), path.display()),
            e,
        )
    })?;
    sync_dir(dir)?;
    Ok(file)
}

/// A segment whose records are all written; reusable once they are all in the database.
#[derive(Debug)]
pub(super) struct ClosedSegment {
    path: PathBuf,
    last_lsn: u64,
}

/// The log's closed segments and the applied ones kept for reuse.
#[derive(Debug, Default)]
pub(super) struct Segments {
    closed: Vec<ClosedSegment>,
    reusable: Vec<PathBuf>,
}

/// Closed segments, shared between the log's writer and whoever applies its records.
pub(super) type ClosedSegments = Arc<Mutex<Segments>>;

/// Keeps for reuse (up to [`KEPT_FOR_REUSE`]) or deletes the closed segments whose records are
/// all at or below `applied`.
pub(super) fn release(closed: &ClosedSegments, applied: u64) {
    let doomed: Vec<PathBuf> = match closed.lock() {
        Ok(mut segments) => {
            let (done, keep) = segments
                .closed
                .drain(..)
                .partition(|s| s.last_lsn <= applied);
            segments.closed = keep;
            let mut doomed = Vec::new();
            for segment in done {
                if segments.reusable.len() < KEPT_FOR_REUSE {
                    segments.reusable.push(segment.path);
                } else {
                    doomed.push(segment.path);
                }
            }
            doomed
        }
        Err(_) => return,
    };
    for path in doomed {
        if let Err(e) = std::fs::remove_file(&path) {
            tracing::warn!(segment = %path.display(), "could not remove a write-ahead log segment: {e}");
        }
    }
}

/// The open log: appends records to its current segment.
pub(super) struct Wal {
    dir: PathBuf,
    file: File,
    index: u64,
    /// Where the next record goes.
    pos: u64,
    capacity: u64,
    max_capacity: u64,
    first_lsn: u64,
    next_lsn: u64,
    /// Where the records made durable by the last successful sync end, and the sequence
    /// number that follows them.
    synced: (u64, u64),
    /// How far writes since that sync reached (what a repair overwrites).
    written_end: u64,
    /// An append, sync or rotation failed: the segment may end in a partial or unsynced
    /// record, and [`Wal::repair`] must run before the next append.
    broken: bool,
    closed: ClosedSegments,
    /// A segment being zero-filled in the background, used once ready (see [`prepare`]).
    spare: Option<JoinHandle<StoreResult<()>>>,
    /// Tells the preparation that the log is closing.
    abandon: Arc<AtomicBool>,
    buf: Vec<u8>,
}

impl Wal {
    /// Starts a log in `dir` (created if missing, and holding no segment) whose first record
    /// will be `next_lsn`; segments grow up to `max_segment_bytes`.
    pub(super) fn create(dir: &Path, next_lsn: u64, max_segment_bytes: u64) -> StoreResult<Wal> {
        std::fs::create_dir_all(dir)
            .map_err(|e| io(format_args!("create {}", dir.display()), e))?;
        let max_capacity = max_segment_bytes.max(HEADER as u64 + 1);
        let capacity = FIRST_SEGMENT_BYTES.min(max_capacity);
        let _ = std::fs::remove_file(dir.join(PREPARED));
        let file = create_segment(dir, 1)?;
        zero_fill(&file, capacity);
        let mut wal = Wal {
            dir: dir.to_path_buf(),
            file,
            index: 1,
            pos: 0,
            capacity,
            max_capacity,
            first_lsn: next_lsn,
            next_lsn,
            synced: (HEADER as u64, next_lsn),
            written_end: 0,
            broken: false,
            closed: ClosedSegments::default(),
            spare: None,
            abandon: Arc::new(AtomicBool::new(false)),
            buf: Vec::new(),
        };
        wal.start_segment()?;
        Ok(wal)
    }

    /// The current segment's header followed by an end marker.
    fn header(&self) -> [u8; HEADER + RECORD_HEADER] {
        let mut header = [0u8; HEADER + RECORD_HEADER];
        header[..8].copy_from_slice(MAGIC);
        header[8..HEADER].copy_from_slice(&self.first_lsn.to_le_bytes());
        header
    }

    /// Writes the current segment's header (made durable by the next sync).
    fn start_segment(&mut self) -> StoreResult<()> {
        // The header, and an end marker in case the segment is a reused one.
        self.file
            .write_all_at(&self.header(), 0)
            .map_err(|e| io("write a segment header", e))?;
        self.pos = HEADER as u64;
        self.synced = (self.pos, self.next_lsn);
        self.written_end = (HEADER + RECORD_HEADER) as u64;
        Ok(())
    }

    /// Brings the log back to its last durable record after a failure (a full disk, say):
    /// overwrites whatever was written after it with zeros (no new space needed: those bytes
    /// were written before), rewrites the segment's header and syncs. Records after that point
    /// were never acknowledged; their sequence numbers are used again. Recovery then sees a
    /// segment that ends cleanly, whatever the failed append left.
    fn repair(&mut self) -> StoreResult<()> {
        let (pos, next_lsn) = self.synced;
        let len = self
            .file
            .metadata()
            .map_err(|e| io("repair: inspect the segment", e))?
            .len();
        // Zeros from the last durable record on (at least an end marker's worth, in case the
        // segment is a reused one with older bytes after it).
        let end = self.written_end.max(pos + RECORD_HEADER as u64).min(len);
        let zeros = vec![0u8; 64 << 10];
        let mut at = pos;
        while at < end {
            let n = zeros.len().min((end - at) as usize);
            self.file
                .write_all_at(&zeros[..n], at)
                .map_err(|e| io("repair: clear a failed append", e))?;
            at += n as u64;
        }
        self.next_lsn = next_lsn;
        // The header again (the failed write may have been a new segment's), not the end
        // marker of a fresh segment: records before `pos` are durable.
        self.file
            .write_all_at(&self.header()[..HEADER], 0)
            .map_err(|e| io("repair: write the segment header", e))?;
        self.pos = pos;
        self.synced = (pos, next_lsn);
        self.written_end = pos;
        self.sync()?;
        self.broken = false;
        tracing::info!(
            next = next_lsn,
            "the write-ahead log works again after a failure"
        );
        Ok(())
    }

    /// Starts zero-filling a future segment in the background, unless one is being prepared
    /// or an applied segment is free for reuse.
    fn prepare_next(&mut self) {
        if self.spare.is_some() {
            return;
        }
        let capacity = self.capacity.saturating_mul(2).min(self.max_capacity);
        let free = self.closed.lock().is_ok_and(|s| {
            s.reusable
                .iter()
                .any(|p| std::fs::metadata(p).is_ok_and(|m| large_enough(m.len(), capacity)))
        });
        if free {
            return;
        }
        let (dir, abandon) = (self.dir.clone(), self.abandon.clone());
        match std::thread::Builder::new()
            .name("tandem-wal-prepare".into())
            .spawn(move || prepare(&dir, capacity, &abandon))
        {
            Ok(handle) => self.spare = Some(handle),
            Err(e) => tracing::warn!("could not start preparing a log segment: {e}"),
        }
    }

    /// The prepared segment as segment `index`, if its preparation is finished.
    fn take_prepared(&mut self, index: u64) -> Option<File> {
        if !self.spare.as_ref()?.is_finished() {
            return None;
        }
        let prepared = self.spare.take()?.join();
        let from = self.dir.join(PREPARED);
        if !matches!(prepared, Ok(Ok(()))) {
            let _ = std::fs::remove_file(&from);
            return None;
        }
        let to = self.dir.join(segment_name(index));
        let renamed = std::fs::rename(&from, &to)
            .map_err(|e| io(format_args!("rename {}", from.display()), e))
            .and_then(|()| sync_dir(&self.dir))
            .and_then(|()| {
                OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(&to)
                    .map_err(|e| io(format_args!("open {}", to.display()), e))
            });
        match renamed {
            Ok(file) => Some(file),
            Err(e) => {
                tracing::warn!("could not use the prepared log segment: {e}");
                let _ = std::fs::remove_file(&from);
                let _ = std::fs::remove_file(&to);
                None
            }
        }
    }

    /// The next segment: a reused one when one is free, else the prepared one when ready,
    /// else a new empty file.
    fn next_segment(&mut self) -> StoreResult<File> {
        let index = self.index + 1;
        let capacity = self.capacity.saturating_mul(2).min(self.max_capacity);
        // Only a segment about as large as the next one saves most appends a journal commit;
        // smaller ones (from before the segments reached their full size) go.
        let reusable = loop {
            let Some(from) = self.closed.lock().ok().and_then(|mut s| s.reusable.pop()) else {
                break None;
            };
            if std::fs::metadata(&from).is_ok_and(|m| large_enough(m.len(), capacity)) {
                break Some(from);
            }
            let _ = std::fs::remove_file(&from);
        };
        if let Some(from) = reusable {
            match reuse_segment(&self.dir, &from, index) {
                Ok(file) => return Ok(file),
                Err(e) => {
                    tracing::warn!("could not reuse a write-ahead log segment: {e}");
                    // Whatever state it is in, its records are all applied.
                    let _ = std::fs::remove_file(&from);
                    let _ = std::fs::remove_file(self.dir.join(segment_name(index)));
                }
            }
        }
        if let Some(file) = self.take_prepared(index) {
            return Ok(file);
        }
        create_segment(&self.dir, index)
    }

    /// The closed segments, for [`release`].
    pub(super) fn closed_segments(&self) -> ClosedSegments {
        self.closed.clone()
    }

    /// Appends a record (durable only after [`Wal::sync`]) and returns its sequence number.
    /// After a failure of an append or a sync, the records since the last successful sync are
    /// dropped (they must not have been acknowledged) and the next append first repairs the
    /// log, failing again while that is impossible (the disk is still full).
    pub(super) fn append(&mut self, payload: &[u8]) -> StoreResult<u64> {
        if self.broken {
            self.repair()?;
        }
        let appended = self.append_record(payload);
        if appended.is_err() {
            self.broken = true;
        }
        appended
    }

    fn append_record(&mut self, payload: &[u8]) -> StoreResult<u64> {
        let len = u32::try_from(payload.len())
            .ok()
            .filter(|l| (*l as usize) <= MAX_PAYLOAD)
            .ok_or_else(|| {
                StoreError::Io(format!(
                    "write-ahead log: a record of {} bytes is too large",
                    payload.len()
                ))
            })?;
        let size = (RECORD_HEADER + payload.len()) as u64;
        if self.pos + size > self.capacity && self.next_lsn > self.first_lsn {
            self.rotate()?;
        }
        let lsn = self.next_lsn;
        self.buf.clear();
        self.buf.extend_from_slice(&len.to_le_bytes());
        self.buf.extend_from_slice(&crc(lsn, payload).to_le_bytes());
        self.buf.extend_from_slice(&lsn.to_le_bytes());
        self.buf.extend_from_slice(payload);
        self.buf.extend_from_slice(&[0u8; RECORD_HEADER]);
        self.written_end = self.written_end.max(self.pos + size + RECORD_HEADER as u64);
        self.file
            .write_all_at(&self.buf, self.pos)
            .map_err(|e| io("append", e))?;
        self.pos += size;
        self.next_lsn += 1;
        if self.pos >= self.capacity / 2 {
            self.prepare_next();
        }
        Ok(lsn)
    }

    /// Makes every appended record durable. After a failure, see [`Wal::append`].
    pub(super) fn sync(&mut self) -> StoreResult<()> {
        match self.file.sync_data() {
            Ok(()) => {
                self.synced = (self.pos, self.next_lsn);
                Ok(())
            }
            Err(e) => {
                self.broken = true;
                Err(io("sync", e))
            }
        }
    }

    /// Closes the current segment (its records are synced) and moves to the next one.
    fn rotate(&mut self) -> StoreResult<()> {
        self.sync()?;
        let file = self.next_segment()?;
        if let Ok(mut segments) = self.closed.lock() {
            segments.closed.push(ClosedSegment {
                path: self.dir.join(segment_name(self.index)),
                last_lsn: self.next_lsn - 1,
            });
        }
        self.file = file;
        self.index += 1;
        self.capacity = self.capacity.saturating_mul(2).min(self.max_capacity);
        self.first_lsn = self.next_lsn;
        self.start_segment()
    }
}

impl Drop for Wal {
    fn drop(&mut self) {
        self.abandon.store(true, Ordering::Relaxed);
        if let Some(spare) = self.spare.take() {
            let _ = spare.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, first: u64, payloads: &[&[u8]], segment_bytes: u64) -> ClosedSegments {
        let mut wal = Wal::create(dir, first, segment_bytes).unwrap();
        for p in payloads {
            wal.append(p).unwrap();
        }
        wal.sync().unwrap();
        wal.closed_segments()
    }

    /// The newest segment holding records (a prepared, unused one may follow it).
    fn newest_used(dir: &Path) -> PathBuf {
        segments(dir)
            .unwrap()
            .into_iter()
            .rev()
            .map(|(_, path)| path)
            .find(|path| header_lsn(&read_head(path).unwrap()).is_some())
            .unwrap()
    }

    /// Where the records of a segment end (the start of its zero tail).
    fn records_end(bytes: &[u8]) -> usize {
        bytes.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1)
    }

    #[test]
    fn a_small_log_writes_one_segment() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), 1, &[b"one", b"two"], 1 << 30);
        let list = segments(dir.path()).unwrap();
        assert_eq!(list.len(), 1);
        // The first segment is allocated (zero-filled) in full when the log is created; the
        // header and two records are at its start, then zeros (the end marker among them).
        let bytes = std::fs::read(&list[0].1).unwrap();
        assert_eq!(bytes.len() as u64, FIRST_SEGMENT_BYTES);
        assert_eq!(records_end(&bytes), HEADER + 2 * RECORD_HEADER + 6);
        assert_eq!(recover(dir.path(), 0).unwrap().len(), 2);
    }

    #[test]
    fn a_segment_prepared_in_time_is_used_and_one_not_ready_is_not_waited_for() {
        let dir = tempfile::tempdir().unwrap();
        let half = vec![1u8; FIRST_SEGMENT_BYTES as usize / 2];
        let mut wal = Wal::create(dir.path(), 1, 1 << 30).unwrap();
        wal.append(&half).unwrap();
        // Past half of the first segment, the next one is being prepared.
        let spare = wal.spare.as_ref().expect("preparing");
        while !spare.is_finished() {
            std::thread::sleep(Duration::from_millis(5));
        }
        wal.append(&half).unwrap();
        assert_eq!(wal.index, 2, "rotated");
        let len = |i: u64| {
            std::fs::metadata(dir.path().join(segment_name(i)))
                .unwrap()
                .len()
        };
        assert_eq!(len(2), 2 * FIRST_SEGMENT_BYTES, "the zero-filled segment");
        assert!(!dir.path().join(PREPARED).exists());
        // The next preparation (4 MiB, paced) is not ready when the log rotates again: a
        // new empty segment takes its place at once.
        wal.append(&vec![2u8; 2 * FIRST_SEGMENT_BYTES as usize])
            .unwrap();
        wal.append(b"after").unwrap();
        wal.sync().unwrap();
        assert_eq!(wal.index, 3);
        let records = 2 * RECORD_HEADER as u64 + 2 * FIRST_SEGMENT_BYTES + 5;
        assert_eq!(
            len(3),
            HEADER as u64 + records + RECORD_HEADER as u64,
            "grows by appending"
        );
        drop(wal);
        assert_eq!(recover(dir.path(), 0).unwrap().len(), 4);
    }

    #[test]
    fn applied_segments_are_reused_and_their_old_records_never_come_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = Wal::create(dir.path(), 1, 1000).unwrap();
        let closed = wal.closed_segments();
        let payload = |i: u64| vec![i as u8; 40 + (i % 7) as usize];
        let mut lsn = 0;
        let mut sizes_before = Vec::new();
        for round in 0..6u64 {
            for _ in 0..60 {
                lsn = wal.append(&payload(lsn + 1)).unwrap();
            }
            wal.sync().unwrap();
            if round == 2 {
                sizes_before = segments(dir.path()).unwrap();
            }
            // Everything but the current segment is applied.
            release(&closed, lsn);
        }
        assert!(!sizes_before.is_empty());
        // Only the reusable segments and the current one remain, and some were reused: the
        // segment numbers advanced past files whose first bytes once held older records.
        let list = segments(dir.path()).unwrap();
        assert!(list.len() <= KEPT_FOR_REUSE + 2, "{list:?}");
        let got = recover(dir.path(), 0).unwrap_err();
        assert!(
            matches!(got, StoreError::Corrupt(_)),
            "records 1.. are gone"
        );
        let applied = wal.first_lsn - 1;
        assert!(lsn - applied > 5);
        let tail = recover(dir.path(), applied).unwrap();
        let lsns: Vec<u64> = tail.iter().map(|r| r.0).collect();
        assert_eq!(lsns, ((applied + 1)..=lsn).collect::<Vec<_>>());
        for (n, p) in &tail {
            assert_eq!(p, &payload(*n));
        }
        drop(wal);
        // A crash halfway through reusing a segment (header zeroed, not renamed yet) leaves a
        // segment that holds nothing among the others.
        let reusable = closed.lock().unwrap().reusable.first().cloned();
        if let Some(path) = reusable {
            let file = OpenOptions::new().write(true).open(&path).unwrap();
            file.write_all_at(&[0u8; HEADER], 0).unwrap();
        }
        assert_eq!(recover(dir.path(), applied).unwrap().len(), tail.len());
    }

    #[test]
    fn a_torn_append_to_a_reused_segment_ends_the_log_there() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = Wal::create(dir.path(), 1, 300).unwrap();
        let closed = wal.closed_segments();
        for i in 0..40u8 {
            wal.append(&[i; 50]).unwrap();
        }
        wal.sync().unwrap();
        release(&closed, 40);
        // The next rotation reuses a segment full of older records.
        let mut last = 0;
        for i in 0..8u8 {
            last = wal.append(&[100 + i; 30]).unwrap();
        }
        wal.sync().unwrap();
        let current = dir.path().join(segment_name(wal.index));
        let first = wal.first_lsn;
        drop(wal);
        let full = std::fs::read(&current).unwrap();
        let end = HEADER + (last - first + 1) as usize * (RECORD_HEADER + 30);
        assert!(
            full.len() > end + RECORD_HEADER,
            "a reused segment holds older bytes"
        );
        assert_eq!(recover(dir.path(), 40).unwrap().len(), 8);
        // Cut the last record anywhere, older bytes after the cut: the log ends before it.
        for cut in (end - 30 - RECORD_HEADER)..end {
            let mut torn = full.clone();
            torn[cut..end + RECORD_HEADER].fill(0x55 ^ cut as u8);
            std::fs::write(&current, &torn).unwrap();
            assert_eq!(recover(dir.path(), 40).unwrap().len(), 7, "cut at {cut}");
        }
    }

    /// Found by the full-disk test: the repair after a failed append rewrote a fresh
    /// segment's end marker over the segment's first durable record.
    #[test]
    fn repairing_after_a_failed_append_keeps_every_durable_record() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = Wal::create(dir.path(), 1, 1 << 20).unwrap();
        for p in [&b"one"[..], b"two", b"three"] {
            wal.append(p).unwrap();
        }
        wal.sync().unwrap();
        // An append that failed halfway (the disk filled up, say) left bytes after them.
        let pos = wal.pos;
        wal.file.write_all_at(&[0xAB; 40], pos).unwrap();
        wal.written_end = pos + 40;
        wal.broken = true;
        wal.append(b"four").unwrap();
        wal.sync().unwrap();
        drop(wal);
        let got: Vec<Vec<u8>> = recover(dir.path(), 0)
            .unwrap()
            .into_iter()
            .map(|r| r.1)
            .collect();
        assert_eq!(got, [&b"one"[..], b"two", b"three", b"four"]);
    }

    #[test]
    fn a_record_larger_than_a_segment_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let big = vec![7u8; 3 * FIRST_SEGMENT_BYTES as usize];
        write(dir.path(), 1, &[b"a", &big, b"b"], 1 << 30);
        let got = recover(dir.path(), 0).unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(got[1].1, big);
    }

    #[test]
    fn records_come_back_in_order_across_segments() {
        let dir = tempfile::tempdir().unwrap();
        let payloads: Vec<Vec<u8>> = (0..50u8).map(|i| vec![i; i as usize * 7]).collect();
        let refs: Vec<&[u8]> = payloads.iter().map(|p| p.as_slice()).collect();
        let closed = write(dir.path(), 1, &refs, 200);
        assert!(closed.lock().unwrap().closed.len() > 5, "the log rotated");
        let got = recover(dir.path(), 0).unwrap();
        assert_eq!(got.len(), 50);
        for (i, (lsn, payload)) in got.iter().enumerate() {
            assert_eq!(*lsn, i as u64 + 1);
            assert_eq!(payload, &payloads[i]);
        }
        // Records already applied are skipped, whole segments included.
        let tail = recover(dir.path(), 30).unwrap();
        assert_eq!(tail.first().map(|r| r.0), Some(31));
        assert_eq!(tail.len(), 20);
        // Releasing deletes only segments entirely at or below the applied number.
        release(&closed, 30);
        assert_eq!(recover(dir.path(), 30).unwrap().len(), 20);
        assert!(recover(dir.path(), 0).is_err(), "records 1.. are gone");
    }

    #[test]
    fn a_torn_tail_ends_the_log() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), 1, &[b"one", b"two", b"three"], 1 << 20);
        let path = newest_used(dir.path());
        let full = std::fs::read(&path).unwrap();
        let n = records_end(&full);
        // Every cut inside the last record leaves the first two, whether the file ends there
        // or the rest of the record never replaced the zeros.
        for cut in (n - 20)..n {
            std::fs::write(&path, &full[..cut]).unwrap();
            assert_eq!(recover(dir.path(), 0).unwrap().len(), 2, "cut at {cut}");
            let mut zeroed = full.clone();
            zeroed[cut..n].fill(0);
            std::fs::write(&path, &zeroed).unwrap();
            assert_eq!(recover(dir.path(), 0).unwrap().len(), 2, "zeros from {cut}");
        }
        // A flipped bit in the last record is damage at the tail, too.
        let mut flipped = full.clone();
        flipped[n - 1] ^= 1;
        std::fs::write(&path, &flipped).unwrap();
        assert_eq!(recover(dir.path(), 0).unwrap().len(), 2);
        // So is a last record whose header never reached the disk (zeros).
        let mut zeroed = full.clone();
        let last_start = n - (RECORD_HEADER + 5);
        zeroed[last_start..last_start + RECORD_HEADER].fill(0);
        std::fs::write(&path, &zeroed).unwrap();
        assert_eq!(recover(dir.path(), 0).unwrap().len(), 2);
    }

    #[test]
    fn damage_followed_by_an_intact_record_is_corruption() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), 1, &[b"one", b"two", b"three"], 1 << 20);
        let path = newest_used(dir.path());
        let mut bytes = std::fs::read(&path).unwrap();
        // Flip a bit in the first record's payload: records 2 and 3 are intact after it.
        bytes[HEADER + RECORD_HEADER] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        match recover(dir.path(), 0) {
            Err(StoreError::Corrupt(m)) => assert!(m.contains("damaged"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn damage_before_the_newest_segment_is_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let payloads: Vec<Vec<u8>> = (0..20u8).map(|i| vec![i; 40]).collect();
        let refs: Vec<&[u8]> = payloads.iter().map(|p| p.as_slice()).collect();
        write(dir.path(), 1, &refs, 150);
        let list = segments(dir.path()).unwrap();
        assert!(list.len() > 2);
        let mut bytes = std::fs::read(&list[0].1).unwrap();
        let n = records_end(&bytes);
        bytes[n - 3] ^= 0x40;
        std::fs::write(&list[0].1, &bytes).unwrap();
        match recover(dir.path(), 0) {
            Err(StoreError::Corrupt(m)) => assert!(m.contains("damaged"), "{m}"),
            other => panic!("{other:?}"),
        }
        // Once the damaged segment's records are applied, it no longer matters.
        let second_first = header_lsn(&read_head(&list[1].1).unwrap()).unwrap();
        assert!(recover(dir.path(), second_first - 1).is_ok());
    }

    /// Found by the `wal` fuzz target: an applied number near `u64::MAX` (a damaged database)
    /// overflowed while checking the records that follow it.
    #[test]
    fn sequence_numbers_at_the_end_of_the_range_are_errors_not_panics() {
        let dir = tempfile::tempdir().unwrap();
        assert!(recover(dir.path(), u64::MAX - 1).unwrap().is_empty());
        assert!(recover(dir.path(), u64::MAX).unwrap().is_empty());
        // A segment whose only record carries the last sequence number, then another one.
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&u64::MAX.to_le_bytes());
        for payload in [&b"a"[..], b"b"] {
            bytes.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            bytes.extend_from_slice(&crc(u64::MAX, payload).to_le_bytes());
            bytes.extend_from_slice(&u64::MAX.to_le_bytes());
            bytes.extend_from_slice(payload);
        }
        std::fs::write(dir.path().join(segment_name(1)), &bytes).unwrap();
        for applied in [0, u64::MAX - 1, u64::MAX] {
            assert!(recover(dir.path(), applied).is_err(), "applied {applied}");
        }
    }

    #[test]
    fn a_gap_after_the_applied_number_is_corruption() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), 10, &[b"a", b"b"], 1 << 20);
        match recover(dir.path(), 5) {
            Err(StoreError::Corrupt(m)) => assert!(m.contains("misses record 6"), "{m}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(recover(dir.path(), 9).unwrap().len(), 2);
        clear(dir.path()).unwrap();
        assert!(recover(dir.path(), 9).unwrap().is_empty());
    }
}
