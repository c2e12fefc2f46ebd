//! Model queries on [`Domain`] (the facade's `api/query.rs`).

use tandem::api;

use crate::{run, Domain, Result, UserId};

/// One model a query found.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
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
    /// Its data (`SELECT *`) or the selected fields it has, as JSON text.
    pub data_json: String,
}

/// One page of a query's matches and how many there are in all.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct QueryPage {
    /// The page.
    pub models: Vec<QueryResult>,
    /// How many matches precede the page (the query's `OFFSET`).
    pub offset: u64,
    /// Every match.
    pub total: u64,
}

impl From<api::QueryPage> for QueryPage {
    fn from(p: api::QueryPage) -> Self {
        QueryPage {
            models: p
                .models
                .into_iter()
                .map(|m| QueryResult {
                    data_json: m.data.to_string(),
                    collection: m.collection,
                    id: m.id,
                    created_ms: m.created_ms,
                    modified_ms: m.modified_ms,
                    version: m.version,
                })
                .collect(),
            offset: p.offset,
            total: p.total,
        }
    }
}

#[uniffi::export]
impl Domain {
    /// Runs a model query (`SELECT … FROM collection [WHERE …] [ORDER BY …] [LIMIT n]
    /// [OFFSET n]`); with `user`, only the models it may read count.
    pub async fn query(&self, query: String, user: Option<UserId>) -> Result<QueryPage> {
        let d = self.inner.clone();
        let e = d.engine().clone();
        let user: Option<api::UserId> = user.map(Into::into);
        let page = run(&e, async move {
            match &user {
                Some(u) => d.query_as(u, &query),
                None => d.query(&query),
            }
        })
        .await?;
        Ok(page.into())
    }
}
