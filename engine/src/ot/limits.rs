//! Size and nesting limits of a document, so that no accepted document can later fail a
//! snapshot or grow without bound. A document's *weight* approximates its memory: 16 bytes per
//! value plus two per UTF-16 code unit of its strings and property keys.

use super::error::ApplyError;
use super::value::{Data, Value};

/// Bytes counted for every value besides its text.
pub const VALUE_WEIGHT: u64 = 16;

/// The limits a document enforces on every operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DocLimits {
    /// Deepest nesting: the root object is at depth 1, its properties at 2, and so on.
    pub max_depth: u32,
    /// Heaviest document, in weight bytes.
    pub max_bytes: u64,
}

impl Default for DocLimits {
    fn default() -> Self {
        DocLimits {
            max_depth: 100,
            max_bytes: 64 * 1024 * 1024,
        }
    }
}

impl DocLimits {
    /// Checks a whole new document (a model being created) against the limits.
    pub fn check_root(&self, root: &Value) -> Result<(), ApplyError> {
        let depth = height(root);
        if depth > self.max_depth {
            return Err(ApplyError::TooDeep {
                depth,
                max: self.max_depth,
            });
        }
        let bytes = weight(root);
        if bytes > self.max_bytes {
            return Err(ApplyError::TooLarge {
                bytes,
                max: self.max_bytes,
            });
        }
        Ok(())
    }
}

/// Levels in `value`: 1 for a leaf or an empty container.
pub fn height(value: &Value) -> u32 {
    let mut deepest = 1;
    let mut stack = vec![(value, 1u32)];
    while let Some((v, d)) = stack.pop() {
        deepest = deepest.max(d);
        match &v.data {
            Data::Object(map) => stack.extend(map.values().map(|c| (c, d + 1))),
            Data::Array(items) => stack.extend(items.iter().map(|c| (c, d + 1))),
            _ => {}
        }
    }
    deepest
}

/// The weight of `value` and everything below it.
pub fn weight(value: &Value) -> u64 {
    let mut total = 0u64;
    value.visit(&mut |v| {
        total = total.saturating_add(own_weight(&v.data));
    });
    total
}

/// The weight of one value without its children (its keys and text included).
pub(crate) fn own_weight(data: &Data) -> u64 {
    VALUE_WEIGHT
        + match data {
            Data::Object(map) => map.keys().map(|k| 2 * k.len() as u64).sum(),
            Data::String(s) => 2 * s.len() as u64,
            _ => 0,
        }
}
