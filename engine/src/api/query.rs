//! Model queries on a domain handle: the query language of the Convergence client's
//! `models().query()` (see [`crate::query`]), as the host or as a user.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::{value_to_json, Domain, Result, UserId};
use crate::model::QueryAnswer;
use crate::perm::Actor;

/// One model a query found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueryResult {
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
    pub data: Json,
}

/// One page of a query's matches, in order, and how many matches there are in all.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueryPage {
    /// The page.
    pub models: Vec<QueryResult>,
    /// How many matches precede the page (the query's `OFFSET`).
    pub offset: u64,
    /// Every match.
    pub total: u64,
}

impl From<QueryAnswer> for QueryPage {
    fn from(a: QueryAnswer) -> Self {
        QueryPage {
            models: a
                .models
                .into_iter()
                .map(|m| QueryResult {
                    data: value_to_json(&m.data),
                    collection: m.collection,
                    id: m.id,
                    created_ms: m.created_ms,
                    modified_ms: m.modified_ms,
                    version: m.version,
                })
                .collect(),
            offset: a.offset,
            total: a.total,
        }
    }
}

impl Domain {
    /// Runs a model query (`SELECT … FROM collection [WHERE …] [ORDER BY …] [LIMIT n]
    /// [OFFSET n]`) over every model. A malformed query fails with `InvalidArgument`, its
    /// message naming the position and what was expected.
    pub fn query(&self, query: &str) -> Result<QueryPage> {
        self.run_query(query, &Actor::Host)
    }

    /// Runs a model query as `user`: only the models it may read are counted and returned.
    pub fn query_as(&self, user: &UserId, query: &str) -> Result<QueryPage> {
        self.run_query(query, &Actor::User(user.clone()))
    }

    fn run_query(&self, query: &str, actor: &Actor) -> Result<QueryPage> {
        self.engine.check()?;
        let models = &self.engine.inner.models;
        Ok(models.query(&self.key, query, actor)?.into())
    }
}
