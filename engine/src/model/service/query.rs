//! Model queries (`SELECT … FROM collection …`, see [`crate::query`]): the candidates come from
//! the query index (every constraint the filter implies narrows them; a filter that implies
//! none reads the collection's list), each candidate is checked against its current data and
//! the actor's read right, and the matches are ordered, counted, paged and projected.
//!
//! The index finds a superset of the matches (array positions and long strings are not exact in
//! it), and every candidate is rechecked on data read with its version, so each model in an
//! answer is as it was at one version: an edit racing with the query gives the old or the new
//! data, never a mix.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use super::{store_err, ModelService};
use crate::model::{ModelError, ModelResult};
use crate::ot::{Data, Value};
use crate::perm::{Actor, Permissions};
use crate::query::{
    self, Constraint, ConstraintOp, FieldRef, Literal, MetaField, ModelView, Segment,
};
use crate::store::index::{
    collection_prefix, path_prefix, value_range, IndexRange, IndexSegment, IndexValue,
};
use crate::store::{DomainKey, ModelMeta};

/// One model a query found.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryHit {
    /// Its collection.
    pub collection: String,
    /// Its id.
    pub id: String,
    /// Creation time (epoch ms).
    pub created_ms: i64,
    /// Time of its last change (epoch ms).
    pub modified_ms: i64,
    /// Its version.
    pub version: u64,
    /// Its data (`SELECT *`) or the selected fields it has, by their names.
    pub data: Value,
}

/// What a query answers: one page of the matches, in order, and how many there are in all.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryAnswer {
    /// The page.
    pub models: Vec<QueryHit>,
    /// How many matches the page skipped (the query's `OFFSET`).
    pub offset: u64,
    /// Every match the actor may read.
    pub total: u64,
}

/// A candidate that matched: its metadata and, when it was needed, its data at that version.
struct Found {
    meta: ModelMeta,
    data: Option<Value>,
}

/// What one query may still spend: models examined and time (see
/// [`crate::model::ModelsConfig::query_max_models`] and `query_timeout_ms`).
pub(super) struct Budget {
    max_models: u64,
    examined: u64,
    timeout_ms: u64,
    deadline: Option<Instant>,
    ticks: u32,
}

impl Budget {
    pub(super) fn new(max_models: u64, timeout_ms: u64) -> Budget {
        Budget {
            max_models,
            examined: 0,
            timeout_ms,
            deadline: (timeout_ms > 0).then(|| Instant::now() + Duration::from_millis(timeout_ms)),
            ticks: 0,
        }
    }

    /// Counts `n` more models to examine; refused when that goes over the limit.
    pub(super) fn examine(&mut self, n: usize) -> ModelResult<()> {
        self.examined = self.examined.saturating_add(n as u64);
        if self.max_models > 0 && self.examined > self.max_models {
            return Err(ModelError::QueryBudget(format!(
                "it would examine more than {} models",
                self.max_models
            )));
        }
        self.check_time()
    }

    /// Refused when the query has run out of time.
    pub(super) fn check_time(&mut self) -> ModelResult<()> {
        if self.out_of_time() {
            return Err(self.timeout());
        }
        Ok(())
    }

    /// Whether the query has run out of time (the clock is read every 64 calls).
    pub(super) fn out_of_time(&mut self) -> bool {
        self.ticks = self.ticks.wrapping_add(1);
        self.deadline
            .is_some_and(|d| self.ticks % 64 == 1 && Instant::now() > d)
    }

    /// The refusal of a query that ran out of time.
    pub(super) fn timeout(&self) -> ModelError {
        ModelError::QueryBudget(format!("it ran longer than {} ms", self.timeout_ms))
    }
}

fn empty_root() -> Value {
    Value::new("0:0", Data::Object(Default::default()))
}

pub(super) fn view<'a>(meta: &'a ModelMeta, data: &'a Value) -> ModelView<'a> {
    ModelView {
        collection: &meta.collection,
        id: &meta.id,
        version: meta.version,
        created_ms: meta.created_ms,
        modified_ms: meta.modified_ms,
        data,
    }
}

impl ModelService {
    /// Runs a query as `actor`: only models it may read are counted and returned.
    pub fn query(&self, domain: &DomainKey, text: &str, actor: &Actor) -> ModelResult<QueryAnswer> {
        let q = query::parse(text).map_err(|e| ModelError::Query {
            index: e.index,
            message: e.to_string(),
        })?;
        let config = &self.inner.config;
        let mut budget = Budget::new(config.query_max_models, config.query_timeout_ms);
        if let Some(answer) = self.query_from_index(domain, &q, actor, &mut budget)? {
            return Ok(answer);
        }
        let needs_data = q.filter.as_ref().is_some_and(reads_data)
            || q.order.iter().any(|k| matches!(k.field, FieldRef::Path(_)));
        let perms = Permissions::new(self.inner.store.clone());
        let access = perms
            .collection_access(domain, &q.collection, actor)
            .map_err(store_err)?;
        let empty = empty_root();
        let mut found = Vec::new();
        let candidates = self.candidates(domain, &q, &mut budget)?;
        budget.examine(candidates.len())?;
        for id in candidates {
            budget.check_time()?;
            let Some(found_one) = self.candidate(domain, &id, &q.collection, needs_data)? else {
                continue;
            };
            let data = found_one.data.as_ref().unwrap_or(&empty);
            if !q
                .filter
                .as_ref()
                .is_none_or(|f| query::matches(f, &view(&found_one.meta, data)))
            {
                continue;
            }
            let rights = perms
                .model_rights_in(domain, &id, &access)
                .map_err(store_err)?;
            if rights.read {
                found.push(found_one);
            }
        }
        found.sort_by(|a, b| {
            let (da, db) = (
                a.data.as_ref().unwrap_or(&empty),
                b.data.as_ref().unwrap_or(&empty),
            );
            query::compare(&q.order, &view(&a.meta, da), &view(&b.meta, db))
                .then_with(|| a.meta.id.cmp(&b.meta.id))
        });
        let total = found.len() as u64;
        let offset = q.offset.unwrap_or(0) as usize;
        let limit = q.limit.map_or(usize::MAX, |l| l as usize);
        let mut models = Vec::new();
        for f in found.into_iter().skip(offset).take(limit) {
            models.push(self.hit(domain, &q, f)?);
        }
        Ok(QueryAnswer {
            models,
            offset: offset as u64,
            total,
        })
    }

    /// A candidate of the query's collection, with its data if `needs_data`; `None` when it is
    /// gone or in another collection.
    fn candidate(
        &self,
        domain: &DomainKey,
        id: &str,
        collection: &str,
        needs_data: bool,
    ) -> ModelResult<Option<Found>> {
        let meta = match self.inner.store.model(domain, id).map_err(store_err)? {
            Some(m) if m.collection == collection => m,
            _ => return Ok(None),
        };
        if !needs_data {
            return Ok(Some(Found { meta, data: None }));
        }
        match self.load(domain, id) {
            Ok((meta, doc, _)) if meta.collection == collection => Ok(Some(Found {
                meta,
                data: Some(doc.to_value()),
            })),
            Ok(_) | Err(ModelError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A match as the answer carries it: its data loaded if it was not, then projected.
    fn hit(&self, domain: &DomainKey, q: &query::Query, f: Found) -> ModelResult<QueryHit> {
        let (meta, data) = match f.data {
            Some(d) => (f.meta, d),
            None => match self.load(domain, &f.meta.id) {
                Ok((meta, doc, _)) => (meta, doc.to_value()),
                // Deleted since it matched: answered as it was.
                Err(ModelError::NotFound(_)) => (f.meta, empty_root()),
                Err(e) => return Err(e),
            },
        };
        Ok(hit_from(q, meta, data))
    }

    /// The ids of the models that may match: those every index-backed constraint admits, or
    /// every model of the collection when the filter implies none.
    fn candidates(
        &self,
        domain: &DomainKey,
        q: &query::Query,
        budget: &mut Budget,
    ) -> ModelResult<Vec<String>> {
        let store = &self.inner.store;
        let mut sets: Vec<BTreeSet<String>> = Vec::new();
        if let Some(filter) = &q.filter {
            let prefix = collection_prefix(domain, &q.collection);
            for c in query::sargable(filter) {
                match &c.field {
                    FieldRef::Meta(MetaField::Id)
                        if matches!(c.op, ConstraintOp::Eq | ConstraintOp::In) =>
                    {
                        sets.push(id_literals(&c));
                    }
                    FieldRef::Path(path) => {
                        let Some(p) = path_prefix(prefix, &index_path(path)) else {
                            continue;
                        };
                        if let Some(ranges) = ranges_for(&p, &c) {
                            sets.push(index_ids(store.as_ref(), &ranges, budget)?);
                        }
                    }
                    FieldRef::Meta(_) => {}
                }
            }
        }
        if sets.is_empty() {
            return Ok(store
                .models(domain, Some(&q.collection))
                .map_err(store_err)?
                .into_iter()
                .map(|m| m.id)
                .collect());
        }
        Ok(intersect(sets).into_iter().collect())
    }
}

/// The ids of the models with an entry in one of the ranges, scanned within the budget's time.
fn index_ids(
    store: &dyn crate::store::Store,
    ranges: &[IndexRange],
    budget: &mut Budget,
) -> ModelResult<BTreeSet<String>> {
    let mut ids = BTreeSet::new();
    let mut late = false;
    for range in ranges {
        store
            .index_scan(range, &mut |_, id| {
                if !ids.contains(id) {
                    ids.insert(id.to_string());
                }
                late = budget.out_of_time();
                !late
            })
            .map_err(store_err)?;
        if late {
            return Err(budget.timeout());
        }
    }
    Ok(ids)
}

/// The model ids an `@id` constraint names.
pub(super) fn id_literals(c: &Constraint) -> BTreeSet<String> {
    c.values
        .iter()
        .filter_map(|v| match v {
            Literal::String(s) => s.as_string(),
            _ => None,
        })
        .collect()
}

/// A query path as the index addresses it (array positions as the wildcard).
pub(super) fn index_path(path: &[Segment]) -> Vec<IndexSegment> {
    path.iter()
        .map(|s| match s {
            Segment::Key(k) => IndexSegment::Key(k.clone()),
            Segment::Index(_) => IndexSegment::Element,
        })
        .collect()
}

/// The ids in every set (none for no sets).
pub(super) fn intersect(mut sets: Vec<BTreeSet<String>>) -> BTreeSet<String> {
    sets.sort_by_key(BTreeSet::len);
    let mut sets = sets.into_iter();
    let mut ids = sets.next().unwrap_or_default();
    for s in sets {
        ids.retain(|id| s.contains(id));
    }
    ids
}

fn index_value(v: &Literal) -> IndexValue {
    match v {
        Literal::Null => IndexValue::Null,
        Literal::Bool(b) => IndexValue::Bool(*b),
        Literal::Number(n) => IndexValue::Number(*n),
        Literal::String(s) => IndexValue::String(s.units().to_vec()),
    }
}

/// The index ranges holding every value at `prefix`'s path that can satisfy the constraint
/// (`None`: the constraint cannot use the index). A number also matches dates (compared by
/// epoch milliseconds), so number constraints scan every date too.
pub(super) fn ranges_for(prefix: &[u8], c: &Constraint) -> Option<Vec<IndexRange>> {
    let mut out = Vec::new();
    for v in &c.values {
        let iv = index_value(v);
        let (low, high) = match c.op {
            ConstraintOp::Eq | ConstraintOp::In => (Some(&iv), Some(&iv)),
            ConstraintOp::Lt | ConstraintOp::Le => (None, Some(&iv)),
            ConstraintOp::Gt | ConstraintOp::Ge => (Some(&iv), None),
        };
        out.push(value_range(prefix, &iv, low, high));
        if matches!(v, Literal::Number(_)) {
            out.push(value_range(prefix, &IndexValue::Date(0), None, None));
        }
    }
    (!out.is_empty()).then_some(out)
}

/// A match as an answer carries it: its metadata and its data projected.
pub(super) fn hit_from(q: &query::Query, meta: ModelMeta, data: Value) -> QueryHit {
    let fields = query::project(q, &view(&meta, &data));
    QueryHit {
        data: Value::new(data.id.clone(), Data::Object(fields)),
        collection: meta.collection,
        id: meta.id,
        created_ms: meta.created_ms,
        modified_ms: meta.modified_ms,
        version: meta.version,
    }
}

/// Whether a condition reads the model's data (not only its meta fields).
fn reads_data(e: &query::Expr) -> bool {
    fn operand(o: &query::Operand) -> bool {
        match o {
            query::Operand::Literal(_) => false,
            query::Operand::Field(f) => matches!(f, FieldRef::Path(_)),
            query::Operand::Chain { first, rest } => {
                operand(first) || rest.iter().any(|(_, o)| operand(o))
            }
        }
    }
    match e {
        query::Expr::And(items) | query::Expr::Or(items) => items.iter().any(reads_data),
        query::Expr::Not(inner) => reads_data(inner),
        query::Expr::Compare { left, right, .. } => operand(left) || operand(right),
        query::Expr::In { operand: o, .. } => operand(o),
        query::Expr::Like { field, .. } => matches!(field, FieldRef::Path(_)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_counts_models_and_time() {
        let mut b = Budget::new(10, 0);
        assert!(b.examine(10).is_ok());
        assert!(matches!(b.examine(1), Err(ModelError::QueryBudget(_))));

        let mut unlimited = Budget::new(0, 0);
        assert!(unlimited.examine(usize::MAX).is_ok());
        assert!(!unlimited.out_of_time());

        let mut b = Budget::new(0, 1);
        std::thread::sleep(Duration::from_millis(5));
        let e = b.check_time().expect_err("past its deadline");
        assert!(e.to_string().contains("longer than 1 ms"), "{e}");
    }
}
