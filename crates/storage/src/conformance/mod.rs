//! What every storage backend owes the rest of Switchyard, as runnable checks. A backend's
//! integration test calls [`run_all`] with a function returning a fresh, empty backend, and
//! [`persistence::survives_reopen`] if it persists; a failed check panics naming what broke.
//! The checks only use the [`Storage`] trait, so a new backend (PostgreSQL, …) reuses them as is.

pub mod concurrency;
pub mod persistence;
pub mod queries;
pub mod writes;

use serde_json::Value;
use std::future::Future;
use std::sync::Arc;
use switchyard_core::EntityKind;
use switchyard_core::filter::Query;
use switchyard_core::storage::Storage;

/// Runs every check that needs no reopening, each on its own fresh backend from `make`. Call it
/// inside a Tokio runtime (`#[tokio::test]`): the concurrency checks spawn tasks.
pub async fn run_all<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<dyn Storage>>,
{
    writes::insert_rejects_duplicates(make().await).await;
    writes::upsert_creates_and_replaces(make().await).await;
    writes::update_needs_an_existing_id(make().await).await;
    writes::get_of_a_missing_id_is_none(make().await).await;
    writes::documents_need_a_string_id(make().await).await;
    writes::apply_is_all_or_nothing(make().await).await;
    writes::later_ops_see_earlier_ops_of_a_batch(make().await).await;
    writes::delete_by_filters_counts(make().await).await;
    writes::delete_ids_removes_only_those(make().await).await;
    writes::clear_removes_everything(make().await).await;
    writes::kinds_are_kept_apart(make().await).await;
    writes::export_import_round_trip(make().await, make().await).await;
    writes::closed_storage_refuses_calls(make().await).await;
    queries::every_filter_operator(make().await).await;
    queries::invalid_queries_are_rejected(make().await).await;
    queries::sorts_by_several_keys(make().await).await;
    queries::pages_with_the_total_count(make().await).await;
    concurrency::concurrent_writers_of_distinct_ids(make().await).await;
    concurrency::concurrent_writers_of_one_id(make().await).await;
}

/// The ids `query` finds, in the order the backend returned them.
pub(crate) async fn ids(storage: &dyn Storage, kind: EntityKind, query: Query) -> Vec<String> {
    let page = storage.find(kind, &query).await.unwrap();
    page.data.iter().map(id_of).collect()
}

/// The ids `query` finds, sorted, for checks where the order is not the point.
pub(crate) async fn id_set(storage: &dyn Storage, kind: EntityKind, query: Query) -> Vec<String> {
    let mut ids = ids(storage, kind, query).await;
    ids.sort();
    ids
}

pub(crate) fn id_of(doc: &Value) -> String {
    doc["id"].as_str().unwrap_or_default().to_string()
}
