//! The one error type of the query language: where the text went wrong and what was expected.

use thiserror::Error;

/// A query that cannot be parsed, or that exceeds a limit ([`super::MAX_QUERY_BYTES`],
/// [`super::MAX_DEPTH`], [`super::MAX_FIELDS`], a `LIMIT`/`OFFSET` above `u32::MAX`).
///
/// `index` counts UTF-16 code units from the start of the query text, as the JavaScript client
/// does, so the client can point at the character (the wire's `invalid_query` `{index}`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct QueryError {
    /// Position of the problem in UTF-16 code units.
    pub index: usize,
    /// What the parser would have accepted there (`"FROM"`, `"condition"`, `")"`, …); empty
    /// when the text is well formed but breaks a rule (a limit, an unknown meta field).
    pub expected: Vec<String>,
    /// A human-readable sentence ending in the position, e.g. `expected FROM at 14`.
    pub message: String,
}

impl QueryError {
    /// An error that names what was expected at `index`.
    pub(crate) fn expected(index: usize, expected: Vec<String>) -> Self {
        let message = format!("expected {} at {index}", join_alternatives(&expected));
        QueryError {
            index,
            expected,
            message,
        }
    }

    /// An error that is not about syntax: `what` is the problem, e.g. `unknown meta field @x`.
    pub(crate) fn invalid(index: usize, what: impl std::fmt::Display) -> Self {
        QueryError {
            index,
            expected: Vec::new(),
            message: format!("{what} at {index}"),
        }
    }
}

/// `a`, `a or b`, `a, b or c`.
fn join_alternatives(items: &[String]) -> String {
    match items {
        [] => "valid input".to_owned(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The UTF-16 index of byte offset `byte` in `text` (rounded down to a character boundary).
pub(crate) fn utf16_index(text: &str, byte: usize) -> usize {
    let mut end = byte.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].chars().map(char::len_utf16).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_index_counts_code_units() {
        assert_eq!(utf16_index("abc", 2), 2);
        // 'é' is 2 bytes and 1 unit, '😀' is 4 bytes and 2 units.
        assert_eq!(utf16_index("é😀x", 6), 3);
        assert_eq!(utf16_index("é😀x", 3), 1, "inside a character rounds down");
        assert_eq!(utf16_index("ab", 99), 2);
    }

    #[test]
    fn messages_list_alternatives() {
        let e = QueryError::expected(3, vec!["FROM".into()]);
        assert_eq!(e.to_string(), "expected FROM at 3");
        let e = QueryError::expected(0, vec!["a".into(), "b".into(), "c".into()]);
        assert_eq!(e.message, "expected a, b or c at 0");
        assert_eq!(QueryError::invalid(5, "too deep").message, "too deep at 5");
    }
}
