//! JavaScript strings: any sequence of UTF-16 code units, unpaired surrogates included.
//!
//! The protocol's strings come from JavaScript, where a string is a sequence of 16-bit code
//! units and nothing forces a surrogate to have its partner (a textarea diff that turns 😀
//! into 😁 splices one code unit and inserts a lone low surrogate). [`JsString`] holds such a
//! sequence exactly. Indices and lengths count code units, as in JavaScript.
//!
//! Bytes: a `JsString` travels (on the wire and in the store) as **WTF-8**, the generalized
//! UTF-8 that the client's protobuf library (protobufjs) writes: a valid surrogate pair is the
//! 4-byte UTF-8 sequence of its code point, an unpaired surrogate the 3-byte sequence of its
//! own value (`"\u{DE01}"` lone is `ED B8 81`). For a string without unpaired surrogates WTF-8
//! is plain UTF-8, so data written before this type existed reads back unchanged.
//!
//! Decoding ([`JsString::from_wtf8`]) accepts every sequence protobufjs writes, and also two
//! 3-byte surrogates in a row (which protobufjs reads as the pair they form). Anything else
//! that is not UTF-8 (a stray continuation byte, a truncated or overlong sequence, a code point
//! above U+10FFFF) is refused with [`Wtf8Error`] rather than guessed at: protobufjs never
//! produces such bytes, and refusing keeps every replica equal to what the server stored.

use std::cmp::Ordering;
use std::fmt::{self, Write as _};

use thiserror::Error;

/// Bytes that are not WTF-8 (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid WTF-8 at byte {offset}")]
pub struct Wtf8Error {
    /// Offset of the first byte of the malformed sequence.
    pub offset: usize,
}

/// A JavaScript string: UTF-16 code units, unpaired surrogates allowed.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct JsString(Vec<u16>);

/// True for a high (leading) surrogate code unit.
pub fn is_high_surrogate(u: u16) -> bool {
    (0xD800..0xDC00).contains(&u)
}

/// True for a low (trailing) surrogate code unit.
pub fn is_low_surrogate(u: u16) -> bool {
    (0xDC00..0xE000).contains(&u)
}

/// One decoded element of a code-unit sequence: a Unicode scalar, or a lone surrogate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodePoint {
    /// A Unicode scalar value (one unit, or a valid surrogate pair).
    Char(char),
    /// A surrogate code unit without its partner.
    Lone(u16),
}

/// Iterates the code points of `units`, pairing surrogates where they pair.
pub fn code_points(units: &[u16]) -> impl Iterator<Item = CodePoint> + '_ {
    char::decode_utf16(units.iter().copied()).map(|r| match r {
        Ok(c) => CodePoint::Char(c),
        Err(e) => CodePoint::Lone(e.unpaired_surrogate()),
    })
}

impl JsString {
    /// The empty string.
    pub fn new() -> Self {
        JsString(Vec::new())
    }

    /// Wraps a sequence of code units.
    pub fn from_units(units: Vec<u16>) -> Self {
        JsString(units)
    }

    /// A copy of a slice of code units.
    pub fn from_slice(units: &[u16]) -> Self {
        JsString(units.to_vec())
    }

    /// The code units.
    pub fn units(&self) -> &[u16] {
        &self.0
    }

    /// The code units, owned.
    pub fn into_units(self) -> Vec<u16> {
        self.0
    }

    /// Length in UTF-16 code units.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Length in UTF-16 code units, as the protocol's signed index type.
    pub fn len_i64(&self) -> i64 {
        self.0.len() as i64
    }

    /// True for the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Appends code units.
    pub fn push_units(&mut self, units: &[u16]) {
        self.0.extend_from_slice(units);
    }

    /// Appends a Rust string.
    pub fn push_str(&mut self, s: &str) {
        self.0.extend(s.encode_utf16());
    }

    /// True when every surrogate has its partner (the string is valid Unicode).
    pub fn is_well_formed(&self) -> bool {
        code_points(&self.0).all(|c| matches!(c, CodePoint::Char(_)))
    }

    /// The string as Rust text, or `None` when it holds an unpaired surrogate.
    pub fn as_string(&self) -> Option<String> {
        String::from_utf16(&self.0).ok()
    }

    /// The string as Rust text, each unpaired surrogate replaced by U+FFFD.
    pub fn to_string_lossy(&self) -> String {
        String::from_utf16_lossy(&self.0)
    }

    /// Decodes WTF-8 (see the module docs for what is accepted).
    pub fn from_wtf8(bytes: &[u8]) -> Result<Self, Wtf8Error> {
        // Fast path: ASCII and valid UTF-8 are the common case.
        if let Ok(s) = std::str::from_utf8(bytes) {
            return Ok(JsString::from(s));
        }
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let (cp, used) = decode_one(&bytes[i..]).ok_or(Wtf8Error { offset: i })?;
            push_code_point(&mut out, cp);
            i += used;
        }
        Ok(JsString(out))
    }

    /// Encodes as WTF-8: pairs as 4-byte UTF-8, unpaired surrogates as 3 bytes each.
    pub fn to_wtf8(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.0.len() + self.0.len() / 2);
        write_wtf8(&self.0, &mut out);
        out
    }
}

/// The length of the WTF-8 encoding of `units` (see [`write_wtf8`]).
pub fn wtf8_len(units: &[u16]) -> usize {
    let mut len = 0;
    let mut i = 0;
    while i < units.len() {
        let u = units[i];
        len += match u {
            0..=0x7F => 1,
            0x80..=0x7FF => 2,
            _ if is_high_surrogate(u) && units.get(i + 1).is_some_and(|&l| is_low_surrogate(l)) => {
                i += 1;
                4
            }
            _ => 3,
        };
        i += 1;
    }
    len
}

/// Appends the WTF-8 encoding of `units` to `out`.
pub fn write_wtf8(units: &[u16], out: &mut Vec<u8>) {
    // ASCII (checked without an early exit, so that the loop vectorizes).
    if units.iter().fold(0u16, |high, &u| high | (u & 0xFF80)) == 0 {
        out.extend(units.iter().map(|&u| u as u8));
        return;
    }
    let mut buf = [0u8; 4];
    for cp in code_points(units) {
        match cp {
            CodePoint::Char(c) => out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes()),
            CodePoint::Lone(u) => out.extend_from_slice(&[
                0xE0 | (u >> 12) as u8,
                0x80 | ((u >> 6) & 0x3F) as u8,
                0x80 | (u & 0x3F) as u8,
            ]),
        }
    }
}

fn push_code_point(out: &mut Vec<u16>, cp: u32) {
    if cp >= 0x1_0000 {
        let v = cp - 0x1_0000;
        out.push(0xD800 | (v >> 10) as u16);
        out.push(0xDC00 | (v & 0x3FF) as u16);
    } else {
        out.push(cp as u16);
    }
}

/// Decodes one generalized-UTF-8 sequence at the start of `b`: the code point (surrogates
/// allowed) and the bytes it used, or `None` when the bytes are malformed.
fn decode_one(b: &[u8]) -> Option<(u32, usize)> {
    let lead = *b.first()?;
    let (len, min, init) = match lead {
        0x00..=0x7F => return Some((u32::from(lead), 1)),
        0xC2..=0xDF => (2, 0x80, u32::from(lead & 0x1F)),
        0xE0..=0xEF => (3, 0x800, u32::from(lead & 0x0F)),
        0xF0..=0xF4 => (4, 0x1_0000, u32::from(lead & 0x07)),
        _ => return None,
    };
    let rest = b.get(1..len)?;
    let mut cp = init;
    for &c in rest {
        if c & 0xC0 != 0x80 {
            return None;
        }
        cp = (cp << 6) | u32::from(c & 0x3F);
    }
    if cp < min || cp > 0x10_FFFF {
        return None;
    }
    Some((cp, len))
}

/// Code-point order (the order of the equivalent UTF-8 bytes for valid strings): units at or
/// above U+E000 sort before surrogates, which stand for code points above U+FFFF.
fn order_key(u: u16) -> u32 {
    match u {
        0xD800..=0xDFFF => u32::from(u) + 0x2000,
        0xE000..=0xFFFF => u32::from(u) - 0x800,
        _ => u32::from(u),
    }
}

impl Ord for JsString {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0
            .iter()
            .map(|&u| order_key(u))
            .cmp(other.0.iter().map(|&u| order_key(u)))
    }
}

impl PartialOrd for JsString {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl From<&str> for JsString {
    fn from(s: &str) -> Self {
        if s.is_ascii() {
            return JsString(s.bytes().map(u16::from).collect());
        }
        JsString(s.encode_utf16().collect())
    }
}

impl From<String> for JsString {
    fn from(s: String) -> Self {
        JsString::from(s.as_str())
    }
}

impl From<&String> for JsString {
    fn from(s: &String) -> Self {
        JsString::from(s.as_str())
    }
}

impl From<Vec<u16>> for JsString {
    fn from(units: Vec<u16>) -> Self {
        JsString(units)
    }
}

impl PartialEq<str> for JsString {
    fn eq(&self, other: &str) -> bool {
        self.0.iter().copied().eq(other.encode_utf16())
    }
}

impl PartialEq<&str> for JsString {
    fn eq(&self, other: &&str) -> bool {
        self == *other
    }
}

impl PartialEq<JsString> for &str {
    fn eq(&self, other: &JsString) -> bool {
        other == *self
    }
}

/// Lossy: an unpaired surrogate shows as U+FFFD.
impl fmt::Display for JsString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for cp in code_points(&self.0) {
            match cp {
                CodePoint::Char(c) => f.write_char(c)?,
                CodePoint::Lone(_) => f.write_char(char::REPLACEMENT_CHARACTER)?,
            }
        }
        Ok(())
    }
}

/// Like a Rust string's debug form; an unpaired surrogate shows as `\u{dXXX}`.
impl fmt::Debug for JsString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        for cp in code_points(&self.0) {
            match cp {
                CodePoint::Char(c) => {
                    for e in c.escape_debug() {
                        f.write_char(e)?;
                    }
                }
                CodePoint::Lone(u) => write!(f, "\\u{{{u:x}}}")?,
            }
        }
        f.write_char('"')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn js(units: &[u16]) -> JsString {
        JsString::from_slice(units)
    }

    #[test]
    fn wtf8_is_what_protobufjs_writes() {
        // A lone low surrogate: 3 bytes of its own value.
        assert_eq!(js(&[0xDE01]).to_wtf8(), [0xED, 0xB8, 0x81]);
        // A lone high surrogate.
        assert_eq!(js(&[0xD83D]).to_wtf8(), [0xED, 0xA0, 0xBD]);
        // A valid pair: 4-byte UTF-8 of the code point.
        assert_eq!(js(&[0xD83D, 0xDE00]).to_wtf8(), "😀".as_bytes());
        // Low then high: two lone surrogates.
        assert_eq!(
            js(&[0xDE00, 0xD83D]).to_wtf8(),
            [0xED, 0xB8, 0x80, 0xED, 0xA0, 0xBD]
        );
        assert_eq!(js(&[0x61, 0xE9, 0x20AC]).to_wtf8(), "aé€".as_bytes());
    }

    #[test]
    fn wtf8_round_trips_any_units() {
        let samples: &[&[u16]] = &[
            &[],
            &[0xD83D],
            &[0xDE01],
            &[0xD83D, 0xDE00, 0xDE01, 0x41],
            &[0xD800, 0xD800, 0xDFFF, 0xDFFF],
            &[0xFFFF, 0xE000, 0xD7FF, 0x7F, 0x80, 0x7FF, 0x800],
        ];
        for s in samples {
            let j = js(s);
            assert_eq!(JsString::from_wtf8(&j.to_wtf8()).unwrap(), j, "{s:x?}");
        }
    }

    #[test]
    fn two_encoded_halves_read_as_the_pair() {
        let bytes = [0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80];
        assert_eq!(JsString::from_wtf8(&bytes).unwrap(), JsString::from("😀"));
    }

    #[test]
    fn malformed_bytes_are_refused_with_their_offset() {
        for (bytes, offset) in [
            (&[0x61, 0x80][..], 1),
            (&[0xC0, 0x80], 0),
            (&[0xE0, 0x80, 0x80], 0),
            (&[0x61, 0xED, 0xA0], 1),
            (&[0xF4, 0x90, 0x80, 0x80], 0),
            (&[0xFF], 0),
            (&[0xE2, 0x28, 0xA1], 0),
        ] {
            assert_eq!(JsString::from_wtf8(bytes), Err(Wtf8Error { offset }));
        }
    }

    #[test]
    fn order_is_code_point_order() {
        let mut v = vec![
            JsString::from("\u{FFFF}"),
            JsString::from("😀"),
            JsString::from("a"),
            JsString::from("\u{E000}"),
        ];
        v.sort();
        let mut s = vec!["\u{FFFF}", "😀", "a", "\u{E000}"];
        s.sort();
        assert_eq!(v, s.into_iter().map(JsString::from).collect::<Vec<_>>());
    }

    #[test]
    fn display_and_debug() {
        let j = js(&[0x61, 0xDE01, 0x22]);
        assert_eq!(j.to_string(), "a\u{FFFD}\"");
        assert_eq!(format!("{j:?}"), "\"a\\u{de01}\\\"\"");
        assert!(!j.is_well_formed());
        assert_eq!(j.as_string(), None);
        assert_eq!(JsString::from("é😀").as_string().as_deref(), Some("é😀"));
    }
}
