//! `LIKE` patterns: `%` matches any run of code points (the empty run too), `_` exactly one,
//! and a backslash makes the next code point literal (`\%`, `\_`, `\\`). Matching is
//! case-sensitive and works on code points of the UTF-16 text: a surrogate pair is one code
//! point, and so is an unpaired surrogate.

use crate::ot::{code_points, CodePoint, JsString};

/// A compiled `LIKE` pattern.
#[derive(Clone, Debug, PartialEq)]
pub struct LikePattern {
    source: JsString,
    tokens: Vec<Token>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Token {
    Literal(CodePoint),
    One,
    Run,
}

impl LikePattern {
    /// Compiles `pattern` (the string literal after `LIKE`, escapes of the literal resolved).
    pub fn new(pattern: JsString) -> Self {
        let tokens = Self::compile(pattern.units());
        LikePattern {
            source: pattern,
            tokens,
        }
    }

    fn compile(pattern: &[u16]) -> Vec<Token> {
        let mut tokens = Vec::new();
        let mut points = code_points(pattern);
        while let Some(cp) = points.next() {
            let token = match cp {
                CodePoint::Char('%') => Token::Run,
                CodePoint::Char('_') => Token::One,
                // A trailing backslash stands for itself.
                CodePoint::Char('\\') => Token::Literal(points.next().unwrap_or(cp)),
                other => Token::Literal(other),
            };
            // `%%` matches what `%` does; merging keeps matching linear in simple cases.
            if !(token == Token::Run && tokens.last() == Some(&Token::Run)) {
                tokens.push(token);
            }
        }
        tokens
    }

    /// The pattern text as written (escapes of the string literal resolved).
    pub fn source(&self) -> &JsString {
        &self.source
    }

    /// True if the whole of `text` matches the pattern.
    pub fn matches(&self, text: &[u16]) -> bool {
        let text: Vec<CodePoint> = code_points(text).collect();
        let pat = &self.tokens;
        let (mut p, mut t) = (0, 0);
        // The last `%` seen and the text position it is currently assumed to stop at.
        let mut backtrack: Option<(usize, usize)> = None;
        while t < text.len() {
            match pat.get(p) {
                Some(Token::Run) => {
                    backtrack = Some((p, t));
                    p += 1;
                }
                Some(Token::One) => {
                    p += 1;
                    t += 1;
                }
                Some(Token::Literal(c)) if *c == text[t] => {
                    p += 1;
                    t += 1;
                }
                _ => match backtrack {
                    // Let the last `%` swallow one more code point and retry after it.
                    Some((run, start)) => {
                        backtrack = Some((run, start + 1));
                        p = run + 1;
                        t = start + 1;
                    }
                    None => return false,
                },
            }
        }
        pat[p..].iter().all(|tok| *tok == Token::Run)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn like(pattern: &str, text: &str) -> bool {
        LikePattern::new(JsString::from(pattern)).matches(JsString::from(text).units())
    }

    #[test]
    fn wildcards() {
        assert!(like("abc", "abc"));
        assert!(!like("abc", "abcd"));
        assert!(!like("abc", "ABC"), "case-sensitive");
        assert!(like("a%", "a"));
        assert!(like("a%", "abc"));
        assert!(like("%c", "abc"));
        assert!(like("%b%", "abc"));
        assert!(!like("%d%", "abc"));
        assert!(like("a_c", "abc"));
        assert!(!like("a_c", "ac"));
        assert!(like("%", ""));
        assert!(!like("_", ""));
        assert!(like("", ""));
        assert!(!like("", "a"));
        assert!(like("%a%b%c%", "xxaxxbxxcxx"));
        assert!(like("a%%b", "ab"));
        assert!(like("%ab", "aab"), "backtracking past a partial match");
        assert!(!like("%a_", "ba"));
    }

    #[test]
    fn escapes() {
        assert!(like("100\\%", "100%"));
        assert!(!like("100\\%", "1000"));
        assert!(like("a\\_b", "a_b"));
        assert!(!like("a\\_b", "axb"));
        assert!(like("a\\\\b", "a\\b"));
        assert!(like("a\\", "a\\"), "a trailing backslash is literal");
        assert!(like("\\d", "d"), "any escaped character stands for itself");
    }

    #[test]
    fn code_points_not_units() {
        assert!(like("_", "😀"), "a surrogate pair is one code point");
        assert!(!like("__", "😀"));
        assert!(like("é_", "éü"));
        assert!(like("%😀%", "hi 😀 there"));
        let lone = JsString::from_units(vec![0x61, 0xD83D]);
        let p = LikePattern::new(JsString::from("a_"));
        assert!(
            p.matches(lone.units()),
            "an unpaired surrogate is one code point"
        );
        assert!(!LikePattern::new(JsString::from("a")).matches(lone.units()));
    }
}
