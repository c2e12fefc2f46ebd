//! References (shared cursors and selections) and how operations move them.

use super::jsstring::JsString;
use super::operation::{insert_len, AppliedOperation, OpKind, Operation};
use super::value::ValueId;

/// The values of a reference: where a participant's cursor, selection or focus is.
#[derive(Clone, Debug, PartialEq)]
pub enum ReferenceValues {
    /// Positions in a string (UTF-16 units).
    Index(Vec<i64>),
    /// `(start, end)` ranges in a string (UTF-16 units).
    Range(Vec<(i64, i64)>),
    /// Property names of an object.
    Property(Vec<JsString>),
    /// Ids of values anywhere in the model (model-level reference).
    Element(Vec<ValueId>),
}

/// Moves one position across a splice at `at` that deletes `del` and inserts `ins` units:
/// positions at or after the splice point shift; positions inside the deleted range collapse
/// to its start, then follow the inserted text.
fn shift(pos: i64, at: i64, del: i64, ins: i64) -> i64 {
    if pos >= at {
        pos - (pos - at).min(del) + ins
    } else {
        pos
    }
}

/// Transforms reference values held on `target` (`None` for a model-level reference) across
/// an operation ordered before them. Returns `None` when the operation clears the reference
/// (a whole-string set).
pub fn transform_reference(
    op: &Operation,
    target: Option<&ValueId>,
    values: ReferenceValues,
) -> Option<ReferenceValues> {
    let mut values = values;
    for d in op.ops() {
        if d.no_op || Some(&d.id) != target {
            continue;
        }
        values = match (&d.kind, values) {
            (
                OpKind::StringSplice {
                    index,
                    delete_count,
                    insert,
                },
                ReferenceValues::Index(v),
            ) => {
                let n = insert_len(insert);
                ReferenceValues::Index(
                    v.into_iter()
                        .map(|p| shift(p, *index, *delete_count, n))
                        .collect(),
                )
            }
            (
                OpKind::StringSplice {
                    index,
                    delete_count,
                    insert,
                },
                ReferenceValues::Range(v),
            ) => {
                let n = insert_len(insert);
                ReferenceValues::Range(
                    v.into_iter()
                        .map(|(a, b)| {
                            (
                                shift(a, *index, *delete_count, n),
                                shift(b, *index, *delete_count, n),
                            )
                        })
                        .collect(),
                )
            }
            (OpKind::StringSet { .. }, ReferenceValues::Index(_) | ReferenceValues::Range(_)) => {
                return None
            }
            (OpKind::ObjectRemoveProperty { key }, ReferenceValues::Property(v)) => {
                ReferenceValues::Property(v.into_iter().filter(|k| k != key).collect())
            }
            (OpKind::ObjectSet { values: map }, ReferenceValues::Property(v)) => {
                ReferenceValues::Property(v.into_iter().filter(|k| map.contains_key(k)).collect())
            }
            (_, other) => other,
        };
    }
    Some(values)
}

/// Updates reference values after an operation was applied to the model: like
/// [`transform_reference`], and element references also lose every value the operation
/// detached.
pub fn update_reference_on_apply(
    applied: &AppliedOperation,
    target: Option<&ValueId>,
    values: ReferenceValues,
) -> Option<ReferenceValues> {
    let values = transform_reference(&applied.operation(), target, values)?;
    match values {
        ReferenceValues::Element(ids) => {
            let gone = applied.detached_ids();
            if gone.is_empty() {
                return Some(ReferenceValues::Element(ids));
            }
            Some(ReferenceValues::Element(
                ids.into_iter().filter(|id| !gone.contains(id)).collect(),
            ))
        }
        other => Some(other),
    }
}
