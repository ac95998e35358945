//! The `postgres` storage backend: each entity kind in its own table `(id, doc jsonb, key
//! columns…)`, filters pushed down to SQL where they mean exactly what `switchyard_core::filter`
//! says (see [`pushdown`]), a connection pool, and retries across a server restart.
//!
//! Guarantees: a call to [`Storage::apply`] is one transaction, acknowledged only after its COMMIT
//! returned (PostgreSQL's own durability then applies: with the default `synchronous_commit = on`
//! it is on the server's disk). While the server is unreachable, calls retry for `retry_for`; a
//! write is retried only if it failed before COMMIT was sent, so no write is applied twice and
//! none that was acknowledged is lost. A failure during COMMIT itself is reported as an error (the
//! outcome is then unknown to the client, as with any database).

mod pushdown;
mod schema;

use async_trait::async_trait;
use schema::Names;
use serde_json::Value;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Postgres, Row, Transaction};
use std::collections::HashSet;
use std::future::Future;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use switchyard_core::EntityKind;
use switchyard_core::filter::{Page, Query};
use switchyard_core::storage::{Snapshot, Storage, StorageError, WriteOp, document_id};
use switchyard_storage::PostgresConfig;
use switchyard_storage::config::{check_identifier, parse_duration};

/// Rows inserted per statement by `import`.
const IMPORT_CHUNK: usize = 500;

pub struct PostgresStorage {
    pool: PgPool,
    names: Names,
    retry_for: Duration,
    closed: AtomicBool,
}

/// Why one attempt failed: worth another try (the server went away before anything was
/// committed) or final.
enum Failure {
    Retry(sqlx::Error),
    Final(StorageError),
}

impl From<sqlx::Error> for Failure {
    fn from(e: sqlx::Error) -> Self {
        if transient(&e) {
            Failure::Retry(e)
        } else {
            Failure::Final(backend(e))
        }
    }
}

impl From<StorageError> for Failure {
    fn from(e: StorageError) -> Self {
        Failure::Final(e)
    }
}

/// Connection lost, server shutting down or starting, pool exhausted, or a conflict PostgreSQL
/// asks to retry (serialization failure, deadlock).
fn transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::Tls(_) => true,
        sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") // connection exception
                || code.starts_with("57P") // admin/crash shutdown, cannot connect now
                || code == "40001" // serialization failure
                || code == "40P01" // deadlock
        }),
        _ => false,
    }
}

fn backend(e: sqlx::Error) -> StorageError {
    if let sqlx::Error::Database(db) = &e
        && db.code().as_deref() == Some("22P05")
    {
        // jsonb refuses the NUL character (\u0000) inside strings.
        return StorageError::InvalidDocument(format!("PostgreSQL refused the document: {db}"));
    }
    StorageError::Backend(format!("postgres: {e}"))
}

impl PostgresStorage {
    /// Connects, creates the schema, tables and functions if missing.
    pub async fn open(config: &PostgresConfig) -> Result<Self, StorageError> {
        check_identifier("schema", &config.schema, false)?;
        check_identifier("table_prefix", &config.table_prefix, true)?;
        if config.max_connections == 0 {
            return Err(StorageError::Backend(
                "storage max_connections must be at least 1".into(),
            ));
        }
        let connect_timeout = parse_duration("connect_timeout", &config.connect_timeout)?;
        let retry_for = parse_duration("retry_for", &config.retry_for)?;
        let options = PgConnectOptions::from_str(&config.url)
            .map_err(|e| StorageError::Backend(format!("storage url: {e}")))?;
        let pool = PgPoolOptions::new()
            .max_connections(config.max_connections)
            .acquire_timeout(connect_timeout)
            // A connection left from before a server restart is found dead here, not mid-call.
            .test_before_acquire(true)
            .connect_lazy_with(options);
        let storage = PostgresStorage {
            pool,
            names: Names {
                schema: config.schema.clone(),
                prefix: config.table_prefix.clone(),
            },
            retry_for,
            closed: AtomicBool::new(false),
        };
        storage.create_schema().await?;
        Ok(storage)
    }

    async fn create_schema(&self) -> Result<(), StorageError> {
        let ddl = self.names.ddl();
        self.retrying(|| async {
            let mut tx = self.pool.begin().await?;
            // Two servers starting at once on one schema must not race on CREATE … IF NOT EXISTS.
            sql_query("SELECT pg_advisory_xact_lock(hashtext($1))")
                .bind(format!(
                    "switchyard:{}:{}",
                    self.names.schema, self.names.prefix
                ))
                .execute(&mut *tx)
                .await?;
            for stmt in &ddl {
                sql_query(stmt.clone()).execute(&mut *tx).await?;
            }
            commit(tx).await
        })
        .await
    }

    fn check_open(&self) -> Result<(), StorageError> {
        if self.closed.load(Ordering::Acquire) {
            Err(StorageError::Closed)
        } else {
            Ok(())
        }
    }

    /// Runs `attempt` until it succeeds, fails for good, or `retry_for` has passed.
    async fn retrying<T, F, Fut>(&self, mut attempt: F) -> Result<T, StorageError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Failure>>,
    {
        let started = Instant::now();
        let mut pause = Duration::from_millis(50);
        loop {
            self.check_open()?;
            match attempt().await {
                Ok(v) => return Ok(v),
                Err(Failure::Final(e)) => return Err(e),
                Err(Failure::Retry(e)) => {
                    if started.elapsed() + pause > self.retry_for {
                        return Err(backend(e));
                    }
                    tracing::warn!(error = %e, retry_in = ?pause, "postgres storage: retrying");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(2));
                }
            }
        }
    }

    async fn apply_once(&self, ops: &[WriteOp]) -> Result<(), Failure> {
        let mut tx = self.pool.begin().await?;
        for op in ops {
            let table = self.names.table(op.kind());
            let id = op.id()?;
            match op {
                WriteOp::Insert(kind, doc) => {
                    let n = sql_query(format!(
                        "INSERT INTO {table} (id, doc) VALUES ($1, $2::jsonb) ON CONFLICT (id) DO NOTHING"
                    ))
                    .bind(id)
                    .bind(doc.to_string())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if n == 0 {
                        return Err(Failure::Final(StorageError::AlreadyExists {
                            kind: *kind,
                            id: id.to_string(),
                        }));
                    }
                }
                WriteOp::Upsert(_, doc) => {
                    sql_query(format!(
                        "INSERT INTO {table} (id, doc) VALUES ($1, $2::jsonb) \
                         ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc"
                    ))
                    .bind(id)
                    .bind(doc.to_string())
                    .execute(&mut *tx)
                    .await?;
                }
                WriteOp::Update(kind, doc) => {
                    let n = sql_query(format!("UPDATE {table} SET doc = $2::jsonb WHERE id = $1"))
                        .bind(id)
                        .bind(doc.to_string())
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    if n == 0 {
                        return Err(Failure::Final(StorageError::NotFound {
                            kind: *kind,
                            id: id.to_string(),
                        }));
                    }
                }
                WriteOp::Delete(..) => {
                    sql_query(format!("DELETE FROM {table} WHERE id = $1"))
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        commit(tx).await
    }

    async fn find_once(
        &self,
        kind: EntityKind,
        query: &Query,
        compiled: &switchyard_core::filter::CompiledQuery,
    ) -> Result<Page<Value>, Failure> {
        let table = self.names.table(kind);
        let plan = pushdown::plan(
            &query.filters,
            &self.names.get_fn(),
            schema::key_columns(kind),
        );
        let cond = plan.where_clause();
        if plan.exact && query.sort_by.is_empty() {
            // The database answers alone: count and page in one statement from one snapshot.
            let mut sql =
                format!("SELECT doc::text, count(*) OVER () FROM {table} WHERE {cond} ORDER BY id");
            let n = plan.params.len();
            sql.push_str(&format!(" OFFSET ${}", n + 1));
            if query.limit.is_some() {
                sql.push_str(&format!(" LIMIT ${}", n + 2));
            }
            let mut q = bind_all(sql_query(sql.clone()), &plan.params)
                .bind(i64::try_from(query.offset).unwrap_or(i64::MAX));
            if let Some(limit) = query.limit {
                q = q.bind(i64::try_from(limit).unwrap_or(i64::MAX));
            }
            let rows = q.fetch_all(&self.pool).await?;
            let mut count = match rows.first() {
                Some(row) => u64::try_from(row.try_get::<i64, _>(1)?).unwrap_or(0),
                None => 0,
            };
            if rows.is_empty() && query.offset > 0 {
                // Paged past the end: the window count came with no row.
                let sql = format!("SELECT count(*) FROM {table} WHERE {cond}");
                let row = bind_all(sql_query(sql.clone()), &plan.params)
                    .fetch_one(&self.pool)
                    .await?;
                count = u64::try_from(row.try_get::<i64, _>(0)?).unwrap_or(0);
            }
            let data = rows
                .iter()
                .map(|r| parse_doc(r.try_get::<String, _>(0)?))
                .collect::<Result<Vec<_>, Failure>>()?;
            return Ok(Page {
                count,
                limit: query.limit.map(|l| l as i64).unwrap_or(-1),
                offset: query.offset,
                data,
            });
        }
        // Candidates from the pushed-down filters; core filters, sorts and pages the rest. Rows in
        // id order, as the in-memory backends hold them, so ties sort the same everywhere.
        let sql = format!("SELECT doc::text FROM {table} WHERE {cond} ORDER BY id");
        let rows = bind_all(sql_query(sql.clone()), &plan.params)
            .fetch_all(&self.pool)
            .await?;
        let docs = rows
            .iter()
            .map(|r| parse_doc(r.try_get::<String, _>(0)?))
            .collect::<Result<Vec<_>, Failure>>()?;
        Ok(compiled.apply(docs.into_iter(), |d| d))
    }

    async fn export_once(&self) -> Result<Snapshot, Failure> {
        let mut tx = self.pool.begin().await?;
        // One snapshot across every table: a backup taken while writes go on is consistent.
        sql_query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
        let mut snapshot = Snapshot::new();
        for kind in EntityKind::ALL {
            let sql = format!(
                "SELECT doc::text FROM {} ORDER BY id",
                self.names.table(kind)
            );
            let rows = sql_query(sql.clone()).fetch_all(&mut *tx).await?;
            if rows.is_empty() {
                continue;
            }
            let docs = rows
                .iter()
                .map(|r| parse_doc(r.try_get::<String, _>(0)?))
                .collect::<Result<Vec<_>, Failure>>()?;
            snapshot.insert(kind, docs);
        }
        tx.rollback().await?;
        Ok(snapshot)
    }

    async fn replace_once(
        &self,
        snapshot: &[(EntityKind, Vec<(String, String)>)],
    ) -> Result<(), Failure> {
        let mut tx = self.pool.begin().await?;
        let tables: Vec<String> = EntityKind::ALL
            .iter()
            .map(|k| self.names.table(*k))
            .collect();
        sql_query(format!("TRUNCATE {}", tables.join(", ")))
            .execute(&mut *tx)
            .await?;
        for (kind, rows) in snapshot {
            let sql = format!(
                "INSERT INTO {} (id, doc) SELECT i, d::jsonb FROM unnest($1::text[], $2::text[]) AS r(i, d)",
                self.names.table(*kind)
            );
            for chunk in rows.chunks(IMPORT_CHUNK) {
                let ids: Vec<&str> = chunk.iter().map(|(id, _)| id.as_str()).collect();
                let docs: Vec<&str> = chunk.iter().map(|(_, d)| d.as_str()).collect();
                sql_query(sql.clone())
                    .bind(ids)
                    .bind(docs)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        commit(tx).await
    }
}

/// COMMIT is the one step never retried: the server may have committed before the connection
/// broke, and a retry could then apply the write twice.
async fn commit(tx: Transaction<'static, Postgres>) -> Result<(), Failure> {
    tx.commit()
        .await
        .map_err(|e| Failure::Final(StorageError::Backend(format!("postgres COMMIT: {e}"))))
}

/// Every SQL string here is built from validated identifiers ([`check_identifier`]) and SQL text
/// of our own; values always travel as bind parameters.
fn sql_query(
    sql: impl Into<String>,
) -> sqlx::query::Query<'static, Postgres, sqlx::postgres::PgArguments> {
    sqlx::query(sqlx::AssertSqlSafe(sql.into()))
}

fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>,
    params: &'q [pushdown::Param],
) -> sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments> {
    for p in params {
        q = match p {
            pushdown::Param::TextArray(v) => q.bind(v.as_slice()),
        };
    }
    q
}

fn parse_doc(text: String) -> Result<Value, Failure> {
    serde_json::from_str(&text).map_err(|e| {
        Failure::Final(StorageError::Backend(format!(
            "postgres returned a document that is not JSON: {e}"
        )))
    })
}

#[async_trait]
impl Storage for PostgresStorage {
    fn name(&self) -> &'static str {
        "postgres"
    }

    async fn apply(&self, ops: Vec<WriteOp>) -> Result<(), StorageError> {
        self.check_open()?;
        // Refuse a bad document before opening a transaction.
        for op in &ops {
            op.id()?;
        }
        if ops.is_empty() {
            return Ok(());
        }
        self.retrying(|| self.apply_once(&ops)).await
    }

    async fn get(&self, kind: EntityKind, id: &str) -> Result<Option<Value>, StorageError> {
        self.check_open()?;
        let sql = format!(
            "SELECT doc::text FROM {} WHERE id = $1",
            self.names.table(kind)
        );
        self.retrying(|| async {
            let row = sql_query(sql.clone())
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
            match row {
                Some(r) => Ok(Some(parse_doc(r.try_get::<String, _>(0)?)?)),
                None => Ok(None),
            }
        })
        .await
    }

    async fn find(&self, kind: EntityKind, query: &Query) -> Result<Page<Value>, StorageError> {
        self.check_open()?;
        let compiled = query.compile()?;
        self.retrying(|| self.find_once(kind, query, &compiled))
            .await
    }

    async fn clear(&self) -> Result<(), StorageError> {
        self.check_open()?;
        self.retrying(|| self.replace_once(&[])).await
    }

    async fn export(&self) -> Result<Snapshot, StorageError> {
        self.check_open()?;
        self.retrying(|| self.export_once()).await
    }

    async fn import(&self, snapshot: Snapshot) -> Result<(), StorageError> {
        self.check_open()?;
        // Validate everything before touching the tables: a bad snapshot changes nothing.
        let mut rows = Vec::with_capacity(snapshot.len());
        for (kind, docs) in snapshot {
            let mut seen = HashSet::new();
            let mut kind_rows = Vec::with_capacity(docs.len());
            for doc in docs {
                let id = document_id(&doc)?.to_string();
                if !seen.insert(id.clone()) {
                    return Err(StorageError::InvalidDocument(format!(
                        "{kind} `{id}` appears more than once"
                    )));
                }
                kind_rows.push((id, doc.to_string()));
            }
            rows.push((kind, kind_rows));
        }
        self.retrying(|| self.replace_once(&rows)).await
    }

    async fn flush(&self) -> Result<(), StorageError> {
        // Every acknowledged write is already committed.
        self.check_open()
    }

    async fn close(&self) -> Result<(), StorageError> {
        if !self.closed.swap(true, Ordering::AcqRel) {
            self.pool.close().await;
        }
        Ok(())
    }
}
