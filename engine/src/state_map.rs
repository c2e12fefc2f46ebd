//! Limits of the JSON state maps that presence and activities keep per user or session: their
//! size as JSON text and how deep their values nest, measured the same way by both.

use std::collections::BTreeMap;

use serde_json::Value as Json;

/// The size of a state as JSON text of its keys and values.
pub(crate) fn state_bytes(state: &BTreeMap<String, Json>) -> usize {
    state
        .iter()
        .map(|(k, v)| k.len() + serde_json::to_string(v).map_or(0, |s| s.len()))
        .sum()
}

/// The depth of the first value nesting deeper than `max` (0 = no limit), if one does.
pub(crate) fn too_deep(state: &BTreeMap<String, Json>, max: usize) -> Option<usize> {
    if max == 0 {
        return None;
    }
    state.values().map(|v| depth(v, max + 1)).find(|&d| d > max)
}

/// How deep `v` nests (a scalar is 1), counted no further than `stop`.
fn depth(v: &Json, stop: usize) -> usize {
    if stop == 0 {
        return 0;
    }
    match v {
        Json::Array(items) => 1 + items.iter().map(|i| depth(i, stop - 1)).max().unwrap_or(0),
        Json::Object(map) => 1 + map.values().map(|i| depth(i, stop - 1)).max().unwrap_or(0),
        _ => 1,
    }
}
