//! JSON whose strings are JavaScript strings: a small tree type, a parser and a writer.
//!
//! `serde_json::Value` holds Rust strings, which cannot carry an unpaired surrogate, and
//! serde_json refuses the escape `"\ud83d"` when its partner is missing. Model text can hold
//! any UTF-16 code units, so the engine's JSON forms go through [`JsonValue`] instead:
//!
//! - [`parse`] reads standard JSON (RFC 8259) and accepts any `\uXXXX` escape, paired or not;
//! - [`JsonValue::to_json_string`] writes compact JSON exactly as serde_json does (same key
//!   order, number formatting and escapes), except that an unpaired surrogate becomes a
//!   lowercase `\udXXX` escape, as JavaScript's `JSON.stringify` writes it.
//!
//! Objects keep their keys in code-point order (serde_json's default order); a repeated key
//! keeps its last value, as serde_json does.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::jsstring::{code_points, CodePoint, JsString};

/// Deepest nesting [`parse`] accepts (serde_json's default recursion limit).
pub const MAX_PARSE_DEPTH: usize = 128;

/// A JSON value whose strings and keys are [`JsString`]s.
#[derive(Clone, Debug, PartialEq)]
pub enum JsonValue {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number (always finite).
    Number(f64),
    /// A string.
    String(JsString),
    /// An array.
    Array(Vec<JsonValue>),
    /// An object.
    Object(BTreeMap<JsString, JsonValue>),
}

/// Why JSON text could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} at byte {offset}")]
pub struct ParseError {
    /// What is wrong.
    pub what: &'static str,
    /// Where (byte offset into the text).
    pub offset: usize,
}

/// Parses JSON text; unpaired surrogate escapes are kept as such.
pub fn parse(text: &str) -> Result<JsonValue, ParseError> {
    let mut p = Parser {
        b: text.as_bytes(),
        text,
        i: 0,
    };
    let v = p.value(0)?;
    p.ws();
    if p.i != p.b.len() {
        return Err(p.err("trailing characters"));
    }
    Ok(v)
}

struct Parser<'a> {
    b: &'a [u8],
    text: &'a str,
    i: usize,
}

impl Parser<'_> {
    fn err(&self, what: &'static str) -> ParseError {
        ParseError {
            what,
            offset: self.i,
        }
    }

    fn ws(&mut self) {
        while matches!(self.b.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn literal(&mut self, word: &str, v: JsonValue) -> Result<JsonValue, ParseError> {
        if self.b[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(v)
        } else {
            Err(self.err("expected a value"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<JsonValue, ParseError> {
        self.ws();
        match self.b.get(self.i) {
            None => Err(self.err("unexpected end of input")),
            Some(b'n') => self.literal("null", JsonValue::Null),
            Some(b't') => self.literal("true", JsonValue::Bool(true)),
            Some(b'f') => self.literal("false", JsonValue::Bool(false)),
            Some(b'"') => Ok(JsonValue::String(self.string()?)),
            Some(b'[') => self.array(depth + 1),
            Some(b'{') => self.object(depth + 1),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.err("expected a value")),
        }
    }

    fn array(&mut self, depth: usize) -> Result<JsonValue, ParseError> {
        if depth > MAX_PARSE_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        self.i += 1;
        let mut items = Vec::new();
        self.ws();
        if self.eat(b']') {
            return Ok(JsonValue::Array(items));
        }
        loop {
            items.push(self.value(depth)?);
            self.ws();
            if self.eat(b']') {
                return Ok(JsonValue::Array(items));
            }
            if !self.eat(b',') {
                return Err(self.err("expected ',' or ']'"));
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<JsonValue, ParseError> {
        if depth > MAX_PARSE_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        self.i += 1;
        let mut map = BTreeMap::new();
        self.ws();
        if self.eat(b'}') {
            return Ok(JsonValue::Object(map));
        }
        loop {
            self.ws();
            if self.b.get(self.i) != Some(&b'"') {
                return Err(self.err("expected a property name"));
            }
            let key = self.string()?;
            self.ws();
            if !self.eat(b':') {
                return Err(self.err("expected ':'"));
            }
            let v = self.value(depth)?;
            map.insert(key, v);
            self.ws();
            if self.eat(b'}') {
                return Ok(JsonValue::Object(map));
            }
            if !self.eat(b',') {
                return Err(self.err("expected ',' or '}'"));
            }
        }
    }

    fn number(&mut self) -> Result<JsonValue, ParseError> {
        let start = self.i;
        self.eat(b'-');
        let digits = |p: &mut Self| {
            let s = p.i;
            while matches!(p.b.get(p.i), Some(b'0'..=b'9')) {
                p.i += 1;
            }
            p.i - s
        };
        let int_start = self.i;
        let n = digits(self);
        if n == 0 || (n > 1 && self.b[int_start] == b'0') {
            return Err(self.err("invalid number"));
        }
        if self.eat(b'.') && digits(self) == 0 {
            return Err(self.err("invalid number"));
        }
        if self.eat(b'e') || self.eat(b'E') {
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            if digits(self) == 0 {
                return Err(self.err("invalid number"));
            }
        }
        let f: f64 = self.text[start..self.i]
            .parse()
            .map_err(|_| self.err("invalid number"))?;
        if !f.is_finite() {
            return Err(ParseError {
                what: "number out of range",
                offset: start,
            });
        }
        Ok(JsonValue::Number(f))
    }

    fn hex4(&mut self) -> Result<u16, ParseError> {
        let h = self
            .text
            .get(self.i..self.i + 4)
            .filter(|h| h.bytes().all(|c| c.is_ascii_hexdigit()))
            .ok_or_else(|| self.err("invalid \\u escape"))?;
        let u = u16::from_str_radix(h, 16).map_err(|_| self.err("invalid \\u escape"))?;
        self.i += 4;
        Ok(u)
    }

    fn string(&mut self) -> Result<JsString, ParseError> {
        self.i += 1; // the opening quote
        let mut out: Vec<u16> = Vec::new();
        loop {
            // Copy the run of plain characters at once.
            let run = self.i;
            while let Some(&c) = self.b.get(self.i) {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                self.i += 1;
            }
            out.extend(self.text[run..self.i].encode_utf16());
            match self.b.get(self.i) {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(JsString::from_units(out));
                }
                Some(b'\\') => {
                    self.i += 1;
                    let c = self
                        .b
                        .get(self.i)
                        .copied()
                        .ok_or_else(|| self.err("unterminated string"))?;
                    self.i += 1;
                    let unit = match c {
                        b'"' => 0x22,
                        b'\\' => 0x5C,
                        b'/' => 0x2F,
                        b'b' => 0x08,
                        b'f' => 0x0C,
                        b'n' => 0x0A,
                        b'r' => 0x0D,
                        b't' => 0x09,
                        b'u' => self.hex4()?,
                        _ => {
                            self.i -= 1;
                            return Err(self.err("invalid escape"));
                        }
                    };
                    out.push(unit);
                }
                Some(_) => return Err(self.err("control character in string")),
            }
        }
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `s` as a quoted JSON string: serde_json's escapes, and `\udXXX` for an unpaired
/// surrogate.
pub fn write_json_string(s: &JsString, out: &mut String) {
    out.push('"');
    for cp in code_points(s.units()) {
        match cp {
            CodePoint::Char('"') => out.push_str("\\\""),
            CodePoint::Char('\\') => out.push_str("\\\\"),
            CodePoint::Char('\n') => out.push_str("\\n"),
            CodePoint::Char('\r') => out.push_str("\\r"),
            CodePoint::Char('\t') => out.push_str("\\t"),
            CodePoint::Char('\u{08}') => out.push_str("\\b"),
            CodePoint::Char('\u{0C}') => out.push_str("\\f"),
            CodePoint::Char(c) if (c as u32) < 0x20 => push_u_escape(c as u16, out),
            CodePoint::Char(c) => out.push(c),
            CodePoint::Lone(u) => push_u_escape(u, out),
        }
    }
    out.push('"');
}

fn push_u_escape(u: u16, out: &mut String) {
    out.push_str("\\u");
    for shift in [12, 8, 4, 0] {
        out.push(char::from(HEX[usize::from((u >> shift) & 0xF)]));
    }
}

fn write_number(n: f64, out: &mut String) {
    // The same text serde_json writes for the engine's numbers (see `number_to_json`).
    out.push_str(&super::json::number_to_json(n).to_string());
}

impl JsonValue {
    /// Compact JSON text (see the module docs).
    pub fn to_json_string(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    /// Appends compact JSON text to `out`.
    pub fn write(&self, out: &mut String) {
        match self {
            JsonValue::Null => out.push_str("null"),
            JsonValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            JsonValue::Number(n) => write_number(*n, out),
            JsonValue::String(s) => write_json_string(s, out),
            JsonValue::Array(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write(out);
                }
                out.push(']');
            }
            JsonValue::Object(map) => {
                out.push('{');
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_json_string(k, out);
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
        }
    }

    /// As a `serde_json::Value`. Lossy: an unpaired surrogate becomes U+FFFD.
    pub fn to_serde(&self) -> Json {
        match self {
            JsonValue::Null => Json::Null,
            JsonValue::Bool(b) => Json::Bool(*b),
            JsonValue::Number(n) => super::json::number_to_json(*n),
            JsonValue::String(s) => Json::String(s.to_string_lossy()),
            JsonValue::Array(items) => Json::Array(items.iter().map(JsonValue::to_serde).collect()),
            JsonValue::Object(map) => Json::Object(
                map.iter()
                    .map(|(k, v)| (k.to_string_lossy(), v.to_serde()))
                    .collect(),
            ),
        }
    }

    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&JsonValue> {
        match self {
            JsonValue::Object(map) => map.get(&JsString::from(key)),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_js_string(&self) -> Option<&JsString> {
        match self {
            JsonValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number, if this is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            JsonValue::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The number, if this is an integer in `i64` range.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            JsonValue::Number(n) if n.fract() == 0.0 && n.abs() < 9.2e18 => Some(*n as i64),
            _ => None,
        }
    }

    /// True for an object.
    pub fn is_object(&self) -> bool {
        matches!(self, JsonValue::Object(_))
    }
}

/// Exact: every Rust string is a JavaScript string. Numbers become doubles.
impl From<&Json> for JsonValue {
    fn from(json: &Json) -> Self {
        match json {
            Json::Null => JsonValue::Null,
            Json::Bool(b) => JsonValue::Bool(*b),
            Json::Number(n) => JsonValue::Number(n.as_f64().unwrap_or(0.0)),
            Json::String(s) => JsonValue::String(JsString::from(s.as_str())),
            Json::Array(items) => JsonValue::Array(items.iter().map(JsonValue::from).collect()),
            Json::Object(map) => JsonValue::Object(
                map.iter()
                    .map(|(k, v)| (JsString::from(k.as_str()), JsonValue::from(v)))
                    .collect(),
            ),
        }
    }
}

impl From<Json> for JsonValue {
    fn from(json: Json) -> Self {
        JsonValue::from(&json)
    }
}

/// Serialized as the equivalent `serde_json::Value` (an unpaired surrogate becomes U+FFFD);
/// [`JsonValue::to_json_string`] is the exact form.
impl serde::Serialize for JsonValue {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serde::Serialize::serialize(&self.to_serde(), s)
    }
}

/// Read from any serde format (whose strings are well-formed; [`parse`] also reads unpaired
/// surrogate escapes).
impl<'de> serde::Deserialize<'de> for JsonValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <Json as serde::Deserialize>::deserialize(d).map(JsonValue::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lone_surrogate_escapes_round_trip() {
        let text = r#"{"a":"x\ud83dy","b":["\ude01","\ud83d\ude00"],"\udfff":1}"#;
        let v = parse(text).unwrap();
        let a = v.get("a").and_then(JsonValue::as_js_string).unwrap();
        assert_eq!(a.units(), &[0x78, 0xD83D, 0x79]);
        // A valid pair written as two escapes is the character itself on output.
        assert_eq!(
            v.to_json_string(),
            r#"{"a":"x\ud83dy","b":["\ude01","😀"],"\udfff":1}"#
        );
        assert_eq!(parse(&v.to_json_string()).unwrap(), v);
    }

    #[test]
    fn output_matches_serde_json_for_ordinary_json() {
        let samples = [
            r#"{"z":[1,2.5,-0.001,1e21,12345678901234567890],"a":{"b":null,"c":true}}"#,
            r#"["\"\\\/\b\f\n\r\t\u0001\u001f\u007f é😀 \u2028", 3.0, -7, 0.1]"#,
            r#"{"é":1,"e":2,"😀":3,"\uffff":4,"":5}"#,
            "[]",
            "{}",
            " \"plain\" ",
        ];
        for s in samples {
            let ours = parse(s).unwrap();
            let theirs: Json = serde_json::from_str(s).unwrap();
            assert_eq!(ours, JsonValue::from(&theirs), "{s}");
            assert_eq!(
                ours.to_json_string(),
                JsonValue::from(&theirs).to_serde().to_string(),
                "{s}"
            );
        }
    }

    #[test]
    fn invalid_json_is_refused_with_a_position() {
        for (s, offset) in [
            ("", 0),
            ("{", 1),
            ("[1,]", 3),
            ("01", 2),
            ("1.", 2),
            ("\"\\x\"", 2),
            ("\"\\u12\"", 3),
            ("\"a\nb\"", 2),
            ("tru", 0),
            ("{\"a\" 1}", 5),
            ("1 2", 2),
            ("1e400", 0),
            ("\"abc", 4),
        ] {
            let e = parse(s).unwrap_err();
            assert_eq!(e.offset, offset, "{s:?}: {e}");
        }
        let deep = "[".repeat(MAX_PARSE_DEPTH + 1) + &"]".repeat(MAX_PARSE_DEPTH + 1);
        assert_eq!(parse(&deep).unwrap_err().what, "nested too deeply");
        let ok = "[".repeat(MAX_PARSE_DEPTH) + &"]".repeat(MAX_PARSE_DEPTH);
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn lossy_serde_view_replaces_lone_surrogates() {
        let v = parse(r#"{"k\udc00":"\ud800"}"#).unwrap();
        assert_eq!(v.to_serde(), serde_json::json!({"k\u{FFFD}": "\u{FFFD}"}));
    }
}
