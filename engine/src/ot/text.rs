//! The text of a live string value: UTF-16 code units in chunks, so that an edit in a large
//! document moves at most one chunk's worth of memory.
//!
//! A string value may hold any code units (see [`JsString`]), so a UTF-8 rope cannot hold it.
//! [`Text`] keeps a list of chunks of at most [`MAX_CHUNK`] units, each one byte a unit while
//! all its units are below 256 and two bytes a unit otherwise, and grown by at most a quarter
//! beyond their length, so text takes little more memory than it needs. Finding the chunk of a
//! position scans the chunk lengths from the chunk of the previous edit (edits mostly fall near
//! the one before, so the search rarely passes more than a chunk or two, however long the text:
//! from the first chunk it passed about 250 of them in a 1 MB document), and an edit memmoves
//! inside one chunk; a chunk that would overflow is split in two, and a chunk that an
//! edit leaves small is merged with its neighbour, so the chunk count stays near
//! `len / (MAX_CHUNK / 2)` or below.

use super::jsstring::JsString;

/// Largest chunk, in code units.
pub const MAX_CHUNK: usize = 4096;

/// A chunk smaller than this after an edit is merged with its neighbour when they fit.
const MIN_CHUNK: usize = MAX_CHUNK / 4;

/// The code units of one chunk: one byte each while every unit is below 256 (most text in
/// Latin scripts), two bytes each once one is not.
#[derive(Clone, Debug)]
enum Chunk {
    Narrow(Vec<u8>),
    Wide(Vec<u16>),
}

fn narrow(units: &[u16]) -> bool {
    // No early exit: the loop vectorizes, which matters for a large text loaded at once.
    units.iter().fold(0u16, |high, u| high | (u & 0xFF00)) == 0
}

/// Room for `more` elements in `v`, growing by at most a quarter beyond what is needed, so
/// that a document's text never holds much more memory than its length.
fn grow<T>(v: &mut Vec<T>, more: usize) {
    if v.len() + more > v.capacity() {
        v.reserve_exact(more.max(v.len() / 4));
    }
}

impl Chunk {
    fn new(units: &[u16]) -> Self {
        if narrow(units) {
            Chunk::Narrow(units.iter().map(|u| *u as u8).collect())
        } else {
            Chunk::Wide(units.to_vec())
        }
    }

    fn len(&self) -> usize {
        match self {
            Chunk::Narrow(v) => v.len(),
            Chunk::Wide(v) => v.len(),
        }
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn push_to(&self, out: &mut Vec<u16>) {
        match self {
            Chunk::Narrow(v) => out.extend(v.iter().map(|b| u16::from(*b))),
            Chunk::Wide(v) => out.extend_from_slice(v),
        }
    }

    /// Makes the chunk wide (if it is not) and returns its units.
    fn widen(&mut self) -> &mut Vec<u16> {
        if let Chunk::Narrow(v) = self {
            let mut w = Vec::with_capacity(v.capacity());
            w.extend(v.iter().map(|b| u16::from(*b)));
            *self = Chunk::Wide(w);
        }
        match self {
            Chunk::Wide(w) => w,
            Chunk::Narrow(_) => unreachable!("widened above"),
        }
    }

    /// Removes `take` units at `off`, appending them to `out`.
    fn drain_to(&mut self, off: usize, take: usize, out: &mut Vec<u16>) {
        match self {
            Chunk::Narrow(v) => out.extend(v.drain(off..off + take).map(u16::from)),
            Chunk::Wide(v) => out.extend(v.drain(off..off + take)),
        }
    }

    fn insert(&mut self, off: usize, units: &[u16]) {
        match self {
            Chunk::Narrow(v) if narrow(units) => {
                grow(v, units.len());
                v.splice(off..off, units.iter().map(|u| *u as u8));
            }
            _ => {
                let w = self.widen();
                grow(w, units.len());
                w.splice(off..off, units.iter().copied());
            }
        }
    }

    fn split_off(&mut self, off: usize) -> Vec<u16> {
        let mut tail = Vec::with_capacity(self.len() - off);
        let len = self.len();
        self.drain_to(off, len - off, &mut tail);
        tail
    }

    fn append(&mut self, next: &Chunk) {
        match (self, next) {
            (Chunk::Narrow(a), Chunk::Narrow(b)) => {
                grow(a, b.len());
                a.extend_from_slice(b);
            }
            (this, next) => {
                let mut units = Vec::with_capacity(next.len());
                next.push_to(&mut units);
                let w = this.widen();
                grow(w, units.len());
                w.extend_from_slice(&units);
            }
        }
    }
}

fn chunks_of(units: &[u16]) -> impl Iterator<Item = Chunk> + '_ {
    units.chunks(MAX_CHUNK / 2).map(Chunk::new)
}

/// A sequence of UTF-16 code units in chunks (see the module docs).
#[derive(Clone, Debug, Default)]
pub struct Text {
    chunks: Vec<Chunk>,
    len: usize,
    /// The chunk the last search found and the position it starts at, where the next search
    /// starts. Edits keep it true; those that merge chunks reset it to the first chunk.
    hint: (usize, usize),
}

impl Text {
    /// Text holding these code units.
    pub fn from_units(units: &[u16]) -> Self {
        Text {
            chunks: chunks_of(units).collect(),
            len: units.len(),
            hint: (0, 0),
        }
    }

    /// Length in code units.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The first `n` code units (all of them when the text is shorter).
    pub fn prefix(&self, n: usize) -> Vec<u16> {
        let mut out = Vec::with_capacity(n.min(self.len));
        for c in &self.chunks {
            if out.len() >= n {
                break;
            }
            c.push_to(&mut out);
        }
        out.truncate(n);
        out
    }

    /// The whole text as a string.
    pub fn to_js_string(&self) -> JsString {
        let mut out = Vec::with_capacity(self.len);
        for c in &self.chunks {
            c.push_to(&mut out);
        }
        JsString::from_units(out)
    }

    /// The chunk holding position `pos` and the offset in it; `pos == len` is the end of the
    /// last chunk. `None` for an empty text or a position beyond the end.
    fn locate(&mut self, pos: usize) -> Option<(usize, usize)> {
        if pos > self.len || self.chunks.is_empty() {
            return None;
        }
        let (mut i, mut start) = self.hint;
        if i >= self.chunks.len() {
            (i, start) = (0, 0);
        }
        while start > pos && i > 0 {
            i -= 1;
            start -= self.chunks[i].len();
        }
        while i < self.chunks.len() && pos >= start + self.chunks[i].len() {
            start += self.chunks[i].len();
            i += 1;
        }
        if i == self.chunks.len() {
            // The end of the text: the end of the last chunk.
            i -= 1;
            start -= self.chunks[i].len();
        }
        self.hint = (i, start);
        Some((i, pos - start))
    }

    /// Replaces `delete` units at `index` by `insert` and returns what was removed.
    /// The caller checks the range (`index + delete <= len`); an out-of-range request is
    /// clamped to the text.
    pub fn splice(&mut self, index: usize, delete: usize, insert: &[u16]) -> Vec<u16> {
        let index = index.min(self.len);
        let delete = delete.min(self.len - index);
        let removed = self.remove(index, delete);
        self.insert(index, insert);
        removed
    }

    fn remove(&mut self, index: usize, count: usize) -> Vec<u16> {
        let mut removed = Vec::with_capacity(count);
        let Some((mut ci, mut off)) = self.locate(index) else {
            return removed;
        };
        let mut left = count;
        while left > 0 && ci < self.chunks.len() {
            let chunk = &mut self.chunks[ci];
            let take = left.min(chunk.len() - off);
            chunk.drain_to(off, take, &mut removed);
            left -= take;
            if chunk.is_empty() {
                self.chunks.remove(ci);
            } else {
                ci += 1;
            }
            off = 0;
        }
        self.len -= removed.len();
        self.merge_around(ci.saturating_sub(1));
        removed
    }

    fn insert(&mut self, index: usize, units: &[u16]) {
        if units.is_empty() {
            return;
        }
        self.len += units.len();
        let Some((ci, off)) = self.locate(index) else {
            self.chunks.extend(chunks_of(units));
            return;
        };
        let chunk = &mut self.chunks[ci];
        if chunk.len() + units.len() <= MAX_CHUNK {
            chunk.insert(off, units);
            return;
        }
        // Split: the chunk keeps its head; the inserted units and its tail follow in new chunks.
        let tail = chunk.split_off(off);
        let mut rest = Vec::with_capacity(units.len() + tail.len());
        rest.extend_from_slice(units);
        rest.extend_from_slice(&tail);
        let new: Vec<Chunk> = chunks_of(&rest).collect();
        self.chunks.splice(ci + 1..ci + 1, new);
        if self.chunks[ci].is_empty() {
            self.chunks.remove(ci);
        }
    }

    /// Merges the chunk at `ci` with a small neighbour when the two fit in one chunk.
    fn merge_around(&mut self, ci: usize) {
        for i in [ci + 1, ci] {
            if i == 0 || i >= self.chunks.len() {
                continue;
            }
            let (a, b) = (self.chunks[i - 1].len(), self.chunks[i].len());
            if (a < MIN_CHUNK || b < MIN_CHUNK) && a + b <= MAX_CHUNK {
                let next = self.chunks.remove(i);
                self.chunks[i - 1].append(&next);
                self.hint = (0, 0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic pseudo-random numbers for the model check.
    fn lcg(state: &mut u64) -> u64 {
        *state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        *state >> 33
    }

    #[test]
    fn splices_match_a_plain_vector() {
        let mut seed = 7u64;
        let initial: Vec<u16> = (0..10_000).map(|i| (i % 0xFFFF) as u16).collect();
        let mut model = initial.clone();
        let mut text = Text::from_units(&initial);
        for round in 0..3000 {
            let len = model.len();
            let index = (lcg(&mut seed) as usize) % (len + 1);
            let delete = ((lcg(&mut seed) as usize) % 300).min(len - index);
            let n = if round % 50 == 0 {
                5000
            } else {
                (lcg(&mut seed) % 40) as usize
            };
            let insert: Vec<u16> = (0..n).map(|_| lcg(&mut seed) as u16).collect();
            let expected: Vec<u16> = model
                .splice(index..index + delete, insert.clone())
                .collect();
            assert_eq!(
                text.splice(index, delete, &insert),
                expected,
                "round {round}"
            );
            assert_eq!(text.len(), model.len());
            assert!(hint_is_true(&text), "round {round}: hint {:?}", text.hint);
            assert!(text
                .chunks
                .iter()
                .all(|c| !c.is_empty() && c.len() <= MAX_CHUNK));
            // A chunk is narrow exactly while all its units fit in a byte (or it was wide and
            // its wide units were removed since: then it may stay wide).
            assert!(text
                .chunks
                .iter()
                .all(|c| !matches!(c, Chunk::Narrow(v) if v.len() > MAX_CHUNK)));
        }
        assert_eq!(text.to_js_string().units(), &model[..]);
    }

    /// The search hint names a chunk and where it truly starts, or is past the last chunk
    /// (when the chunks after it were removed; the next search then starts at the first).
    fn hint_is_true(text: &Text) -> bool {
        let (i, start) = text.hint;
        i >= text.chunks.len() || start == text.chunks[..i].iter().map(Chunk::len).sum::<usize>()
    }

    #[test]
    fn edits_near_the_previous_one_and_jumps_match_a_plain_vector() {
        let mut seed = 11u64;
        let initial: Vec<u16> = (0..20_000).map(|i| (0x61 + i % 26) as u16).collect();
        let mut model = initial.clone();
        let mut text = Text::from_units(&initial);
        let mut cursor = 0usize;
        for round in 0..20_000 {
            let r = lcg(&mut seed) as usize;
            cursor = match r % 100 {
                // A jump anywhere, to the very start or to the very end.
                0..=2 => r / 100 % (model.len() + 1),
                3 => 0,
                4 => model.len(),
                _ => cursor.min(model.len()),
            };
            let (delete, insert): (usize, Vec<u16>) = match r / 7 % 100 {
                // Backspace, a word deleted, a block deleted (chunks merge), a paste (chunks
                // split), or typing.
                0..=14 if cursor > 0 => {
                    cursor -= 1;
                    (1, Vec::new())
                }
                15..=19 => ((r % 8).min(model.len() - cursor), Vec::new()),
                20 => ((r % 6000).min(model.len() - cursor), Vec::new()),
                21 => (0, vec![0x4E2D; 3000]),
                _ => (0, vec![(0x61 + r % 26) as u16]),
            };
            let expected: Vec<u16> = model
                .splice(cursor..cursor + delete, insert.clone())
                .collect();
            assert_eq!(
                text.splice(cursor, delete, &insert),
                expected,
                "round {round}"
            );
            assert!(hint_is_true(&text), "round {round}: hint {:?}", text.hint);
            cursor += insert.len();
        }
        assert_eq!(text.len(), model.len());
        assert!(
            model.len() > 10_000,
            "the text stayed long: {}",
            model.len()
        );
        assert_eq!(text.to_js_string().units(), &model[..]);
    }

    #[test]
    fn latin_text_is_held_one_byte_a_unit_until_a_wider_unit_arrives() {
        let ascii: Vec<u16> = "hello world".encode_utf16().collect();
        let mut t = Text::from_units(&ascii);
        assert!(matches!(t.chunks[0], Chunk::Narrow(_)));
        t.splice(5, 0, &[0xE9]); // é still fits in a byte
        assert!(matches!(t.chunks[0], Chunk::Narrow(_)));
        t.splice(0, 0, &[0xD83D]); // a lone high surrogate does not
        assert!(matches!(t.chunks[0], Chunk::Wide(_)));
        let expected: Vec<u16> = [0xD83D]
            .into_iter()
            .chain("hello\u{e9} world".encode_utf16())
            .collect();
        assert_eq!(t.to_js_string().units(), &expected[..]);
        // Mixed chunks merge into one that holds both.
        let mut big = Text::from_units(&vec![0x61; MAX_CHUNK]);
        big.splice(MAX_CHUNK / 2 + 1, 0, &[0x4E2D]);
        big.splice(0, MAX_CHUNK / 2 - 10, &[]);
        assert_eq!(big.len(), MAX_CHUNK / 2 + 11);
        let mut want = vec![0x61u16; MAX_CHUNK / 2 + 11];
        want[11] = 0x4E2D;
        assert_eq!(big.to_js_string().units(), &want[..]);
    }

    #[test]
    fn empty_text_takes_inserts_and_removes_everything() {
        let mut t = Text::default();
        assert_eq!(t.len(), 0);
        t.splice(0, 0, &[0xD83D]);
        t.splice(1, 0, &[0xDE00]);
        assert_eq!(t.to_js_string(), JsString::from("😀"));
        assert_eq!(t.splice(0, 2, &[]), vec![0xD83D, 0xDE00]);
        assert_eq!(t.len(), 0);
        assert!(t.chunks.is_empty());
    }
}
