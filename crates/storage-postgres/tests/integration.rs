//! The PostgreSQL backend against a real server: the conformance suite, reconnecting after the
//! server dropped every connection, and pushed-down filters against core's in-memory answers.
//!
//! Server: `SWITCHYARD_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`.
//! Each backend made here lives in its own schema `sytest_<pid>_<n>`, dropped at the end.
//! Without a server the tests print `SKIPPED: …` and pass, except under `CI=true`, where they fail.

#[path = "integration/conformance.rs"]
mod conformance;
#[path = "integration/pushdown.rs"]
mod pushdown;
#[path = "integration/reconnect.rs"]
mod reconnect;

use sqlx::postgres::PgPoolOptions;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use switchyard_core::storage::Storage;
use switchyard_storage::PostgresConfig;
use switchyard_storage_postgres::PostgresStorage;

pub fn url() -> String {
    std::env::var("SWITCHYARD_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// Schemas made by this test process; dropped by [`Server::cleanup`].
pub struct Server {
    admin: sqlx::PgPool,
    schemas: parking_lot::Mutex<Vec<String>>,
    next: AtomicUsize,
}

static NEXT_SERVER: AtomicUsize = AtomicUsize::new(0);

impl Server {
    /// `None` (after printing why) when no server answers and this is not CI.
    pub async fn connect(test: &str) -> Option<Server> {
        let admin = PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(5))
            .connect(&url())
            .await;
        match admin {
            Ok(admin) => Some(Server {
                admin,
                schemas: Default::default(),
                next: AtomicUsize::new(NEXT_SERVER.fetch_add(1, Ordering::Relaxed) * 1000),
            }),
            Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
                panic!("{test}: PostgreSQL at {} is required in CI: {e}", url())
            }
            Err(e) => {
                println!("SKIPPED: {test}: no PostgreSQL at {} ({e})", url());
                None
            }
        }
    }

    pub fn config(&self, schema: &str) -> PostgresConfig {
        PostgresConfig {
            url: url(),
            schema: schema.into(),
            retry_for: "20s".into(),
            ..PostgresConfig::default()
        }
    }

    pub fn fresh_schema(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let schema = format!("sytest_{}_{n}", std::process::id());
        self.schemas.lock().push(schema.clone());
        schema
    }

    pub async fn fresh(&self) -> Arc<dyn Storage> {
        let schema = self.fresh_schema();
        Arc::new(PostgresStorage::open(&self.config(&schema)).await.unwrap())
    }

    pub fn admin(&self) -> &sqlx::PgPool {
        &self.admin
    }

    pub async fn cleanup(self) {
        let schemas = std::mem::take(&mut *self.schemas.lock());
        for schema in schemas {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
            )))
            .execute(&self.admin)
            .await
            .unwrap();
        }
    }
}
