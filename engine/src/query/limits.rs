//! The limits on a query, checked before and while parsing so that no input can make the
//! parser or the evaluator recurse without bound, run for long, or panic.
//!
//! The nesting pre-scan is exact, not a guess: it lexes quotes and backquotes the way the
//! grammar does (a backslash escapes the next character in both; a collection id or a bare
//! name never contains a quote or a backquote), so every parenthesis the parser can enter is
//! one the scan counted. Parentheses inside a collection id or an `IN (…)` list are counted
//! too, although the parser does not recurse on them: the scan can only over-count there.

use super::error::{utf16_index, QueryError};

/// Longest query text, in bytes of UTF-8.
pub const MAX_QUERY_BYTES: usize = 64 * 1024;
/// Deepest nesting of parentheses.
pub const MAX_DEPTH: usize = 64;
/// Most fields in a `SELECT` list.
pub const MAX_FIELDS: usize = 100;

/// Checks the length and the parenthesis nesting of `text`.
pub(crate) fn pre_scan(text: &str) -> Result<(), QueryError> {
    if text.len() > MAX_QUERY_BYTES {
        return Err(QueryError::invalid(
            utf16_index(text, MAX_QUERY_BYTES),
            format_args!("query longer than {MAX_QUERY_BYTES} bytes"),
        ));
    }
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut chars = text.char_indices();
    while let Some((at, c)) = chars.next() {
        match (quote, c) {
            (Some(_), '\\') => {
                chars.next();
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"' | '`') => quote = Some(c),
            (None, '(') => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(QueryError::invalid(
                        utf16_index(text, at),
                        format_args!("parentheses nested deeper than {MAX_DEPTH}"),
                    ));
                }
            }
            (None, ')') => depth = depth.saturating_sub(1),
            (None, _) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_counts_only_parentheses_outside_quotes() {
        let ok = format!("{}a{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(pre_scan(&ok).is_ok());
        let deep = format!("x {}a", "(".repeat(MAX_DEPTH + 1));
        assert_eq!(pre_scan(&deep).map_err(|e| e.index), Err(2 + MAX_DEPTH));
        let quoted = format!(
            "'{}' \"{}\" `{}`",
            "(".repeat(99),
            "(".repeat(99),
            "(".repeat(99)
        );
        assert!(pre_scan(&quoted).is_ok());
        let escaped = format!("'\\'{}'", "(".repeat(99));
        assert!(
            pre_scan(&escaped).is_ok(),
            "an escaped quote does not end the string"
        );
        let sequential = "(a)".repeat(200);
        assert!(pre_scan(&sequential).is_ok(), "siblings do not nest");
    }

    #[test]
    fn length_limit() {
        assert!(pre_scan(&"a".repeat(MAX_QUERY_BYTES)).is_ok());
        let e = pre_scan(&"é".repeat(MAX_QUERY_BYTES / 2 + 1)).err();
        assert_eq!(e.map(|e| e.index), Some(MAX_QUERY_BYTES / 2));
    }
}
