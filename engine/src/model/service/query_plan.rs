//! Queries answered from the index alone: when every condition of the filter is a comparison
//! of an indexed field with a literal (ANDed), the index entries decide each condition exactly
//! — unless a string is longer than its indexed prefix, which sends the query back to the
//! general plan. The order then comes from the index too when it is `@id` or the field a
//! condition ranges over, so only the returned page's data is read.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use super::query::{hit_from, id_literals, index_path, intersect, ranges_for, Budget, QueryAnswer};
use super::{store_err, ModelService};
use crate::model::ModelResult;
use crate::perm::{Actor, Permissions};
use crate::query::{
    self, CmpOp, Constraint, ConstraintOp, Expr, FieldRef, Literal, MetaField, Operand, Query,
    Segment,
};
use crate::store::index::{
    collection_prefix, decode_value, maybe_truncated, path_prefix, IndexRange, IndexValue,
};
use crate::store::DomainKey;

/// A field the index decides exactly: a data path without array positions, or `@id`.
fn exact_field(f: &FieldRef) -> bool {
    match f {
        FieldRef::Path(p) => p.iter().all(|s| matches!(s, Segment::Key(_))),
        FieldRef::Meta(m) => *m == MetaField::Id,
    }
}

/// Whether the filter is nothing but index constraints, ANDed.
fn exact_filter(e: &Expr) -> bool {
    match e {
        Expr::And(items) => items.iter().all(exact_filter),
        Expr::Compare { left, op, right } => {
            let field = match (left, right) {
                (Operand::Field(f), Operand::Literal(_))
                | (Operand::Literal(_), Operand::Field(f)) => f,
                _ => return false,
            };
            *op != CmpOp::Ne
                && exact_field(field)
                && (*op == CmpOp::Eq || matches!(field, FieldRef::Path(_)))
        }
        Expr::In {
            operand: Operand::Field(f),
            ..
        } => exact_field(f),
        _ => false,
    }
}

/// How an indexed value compares with a literal under the query's rules (`None`: never).
fn compare(v: &IndexValue, lit: &Literal) -> Option<Ordering> {
    match (v, lit) {
        (IndexValue::Null, Literal::Null) => Some(Ordering::Equal),
        (IndexValue::Bool(a), Literal::Bool(b)) => Some(a.cmp(b)),
        (IndexValue::Number(a), Literal::Number(b)) => a.partial_cmp(b),
        (IndexValue::Date(ms), Literal::Number(b)) => (*ms as f64).partial_cmp(b),
        (IndexValue::String(a), Literal::String(b)) => Some(a.as_slice().cmp(b.units())),
        _ => None,
    }
}

fn holds(c: &Constraint, v: &IndexValue) -> bool {
    c.values.iter().any(|lit| {
        let o = compare(v, lit);
        match c.op {
            ConstraintOp::Eq | ConstraintOp::In => o == Some(Ordering::Equal),
            ConstraintOp::Lt => o == Some(Ordering::Less),
            ConstraintOp::Le => matches!(o, Some(Ordering::Less | Ordering::Equal)),
            ConstraintOp::Gt => o == Some(Ordering::Greater),
            ConstraintOp::Ge => matches!(o, Some(Ordering::Greater | Ordering::Equal)),
        }
    })
}

/// The key prefix and index ranges of a constraint on a data path.
fn scan_of(
    domain: &DomainKey,
    collection: &str,
    c: &Constraint,
) -> Option<(Vec<u8>, Vec<IndexRange>)> {
    let FieldRef::Path(path) = &c.field else {
        return None;
    };
    let prefix = path_prefix(collection_prefix(domain, collection), &index_path(path))?;
    let mut ranges = ranges_for(&prefix, c)?;
    ranges.sort_by(|a, b| a.0.cmp(&b.0));
    Some((prefix, ranges))
}

impl ModelService {
    /// Answers the query from the index when it can (see the module docs); `None` when the
    /// general plan must.
    pub(super) fn query_from_index(
        &self,
        domain: &DomainKey,
        q: &Query,
        actor: &Actor,
        budget: &mut Budget,
    ) -> ModelResult<Option<QueryAnswer>> {
        let Some(filter) = q.filter.as_ref().filter(|f| exact_filter(f)) else {
            return Ok(None);
        };
        let constraints = query::sargable(filter);
        let order = match q.order.as_slice() {
            [] => None,
            [k] if k.field == FieldRef::Meta(MetaField::Id) => None,
            [k] => match constraints
                .iter()
                .position(|c| c.field == k.field && c.op != ConstraintOp::In)
            {
                Some(i) => Some((i, k.descending)),
                None => return Ok(None),
            },
            _ => return Ok(None),
        };
        let Some(matches) = self.exact_matches(domain, &q.collection, &constraints, budget)? else {
            return Ok(None);
        };
        budget.examine(matches.len())?;
        let perms = Permissions::new(self.inner.store.clone());
        let access = perms
            .collection_access(domain, &q.collection, actor)
            .map_err(store_err)?;
        let mut readable = BTreeSet::new();
        for id in matches {
            budget.check_time()?;
            let Some(meta) = self.inner.store.model(domain, &id).map_err(store_err)? else {
                continue;
            };
            if meta.collection == q.collection
                && perms
                    .model_rights_in(domain, &id, &access)
                    .map_err(store_err)?
                    .read
            {
                readable.insert(id);
            }
        }
        let total = readable.len() as u64;
        let offset = q.offset.unwrap_or(0) as usize;
        let limit = q.limit.map_or(usize::MAX, |l| l as usize);
        let wanted = offset.saturating_add(limit);
        let ordered: Vec<String> = match order {
            None if q.order.first().is_some_and(|k| k.descending) => {
                readable.into_iter().rev().take(wanted).collect()
            }
            None => readable.into_iter().take(wanted).collect(),
            Some((i, descending)) => match scan_of(domain, &q.collection, &constraints[i]) {
                Some((_, ranges)) => {
                    self.in_index_order(&ranges, descending, &readable, wanted, budget)?
                }
                None => readable.into_iter().take(wanted).collect(),
            },
        };
        let mut models = Vec::new();
        for id in ordered.into_iter().skip(offset) {
            match self.load(domain, &id) {
                Ok((meta, doc, _)) => {
                    let data = doc.to_value();
                    // Changed since the index was read: answered only if it still matches.
                    let view = super::query::view(&meta, &data);
                    if query::matches(filter, &view) {
                        models.push(hit_from(q, meta, data));
                    }
                }
                Err(crate::model::ModelError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(Some(QueryAnswer {
            models,
            offset: offset as u64,
            total,
        }))
    }

    /// The models meeting every constraint, decided on the index entries; `None` when an entry
    /// cannot decide (a string longer than its indexed prefix, a path too long to index).
    fn exact_matches(
        &self,
        domain: &DomainKey,
        collection: &str,
        constraints: &[Constraint],
        budget: &mut Budget,
    ) -> ModelResult<Option<BTreeSet<String>>> {
        let mut sets: Vec<BTreeSet<String>> = Vec::new();
        for c in constraints {
            if c.field == FieldRef::Meta(MetaField::Id) {
                sets.push(id_literals(c));
                continue;
            }
            let Some((prefix, ranges)) = scan_of(domain, collection, c) else {
                return Ok(None);
            };
            let mut found = BTreeSet::new();
            let mut undecided = false;
            let mut late = false;
            for range in &ranges {
                self.inner
                    .store
                    .index_scan(range, &mut |key, id| {
                        match key.get(prefix.len()..).and_then(decode_value) {
                            Some(v) if maybe_truncated(&v) => {
                                undecided = true;
                                return false;
                            }
                            Some(v) if holds(c, &v) => {
                                found.insert(id.to_string());
                            }
                            Some(_) => {}
                            None => undecided = true,
                        }
                        late = budget.out_of_time();
                        !undecided && !late
                    })
                    .map_err(store_err)?;
                if late {
                    return Err(budget.timeout());
                }
            }
            if undecided {
                return Ok(None);
            }
            sets.push(found);
        }
        Ok(Some(intersect(sets)))
    }

    /// The first `wanted` of `ids` in the order of the index `ranges` of the field a condition
    /// constrains (every one of them has an entry in them), ties by `@id`. Scanned forward (a
    /// descending order stops only at the ranges' end).
    fn in_index_order(
        &self,
        ranges: &[IndexRange],
        descending: bool,
        ids: &BTreeSet<String>,
        wanted: usize,
        budget: &mut Budget,
    ) -> ModelResult<Vec<String>> {
        // Runs of equal values, in ascending order, each run's ids in id order.
        let mut runs: Vec<Vec<String>> = Vec::new();
        let mut last_key: Vec<u8> = Vec::new();
        let mut taken = 0;
        let mut late = false;
        for range in ranges {
            if !descending && taken >= wanted {
                break;
            }
            self.inner
                .store
                .index_scan(range, &mut |key, id| {
                    late = budget.out_of_time();
                    if late {
                        return false;
                    }
                    if !ids.contains(id) {
                        return true;
                    }
                    if runs.is_empty() || key != last_key.as_slice() {
                        if !descending && taken >= wanted {
                            return false;
                        }
                        last_key = key.to_vec();
                        runs.push(Vec::new());
                    }
                    if let Some(run) = runs.last_mut() {
                        run.push(id.to_string());
                    }
                    taken += 1;
                    true
                })
                .map_err(store_err)?;
            if late {
                return Err(budget.timeout());
            }
        }
        if descending {
            runs.reverse();
        }
        let mut out: Vec<String> = runs.into_iter().flatten().collect();
        out.truncate(wanted);
        Ok(out)
    }
}
