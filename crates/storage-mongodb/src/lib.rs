//! The `mongodb` storage backend: each entity kind in its own collection `<prefix><kind>`, one
//! MongoDB document per Switchyard document, filters pushed down where MongoDB decides them
//! exactly as `switchyard_core::filter` says (see [`pushdown`]).
//!
//! Stored shape: `{_id: <id>, json: <the document as JSON text>, paths: […], values: […],
//! ambiguous: bool}`. The document travels as its JSON text so it comes back byte for byte as it
//! went in (key order, `1.0` vs `1`, integers past `i64`, keys starting with `$` or holding `.`,
//! which BSON would change or refuse); `paths`/`values`/`ambiguous` are the indexed query keys
//! ([`shadow`]).
//!
//! Guarantees without multi-document transactions (a standalone MongoDB and the wire-compatible
//! test servers have none): every write goes through one writer lock of this process, and a batch
//! of several documents is first written whole as one journal document (`<prefix>journal`; one
//! document is written atomically by any MongoDB), then applied, then its journal entry removed.
//! A batch interrupted after its journal entry was written (crash, server gone) is completed
//! before the next write, and on the next open. So a batch is all or nothing once the process or
//! the server is back; readers in the meantime may see part of it. Preconditions (`insert` of an
//! existing id, `update` of a missing one) are checked under the lock, so one Switchyard process
//! per database and prefix is assumed, as with the embedded backend.

mod pushdown;
mod shadow;

use async_trait::async_trait;
use futures::TryStreamExt;
use mongodb::bson::{Bson, Document, doc, oid::ObjectId};
use mongodb::error::{ErrorKind, WriteFailure};
use mongodb::options::ClientOptions;
use mongodb::{Client, Collection, Database, IndexModel};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use switchyard_core::EntityKind;
use switchyard_core::filter::{CompiledQuery, Page, Query};
use switchyard_core::storage::{Snapshot, Storage, StorageError, WriteOp, document_id};
use switchyard_storage::MongodbConfig;
use switchyard_storage::config::{check_identifier, parse_duration};

/// Documents per `insertMany` of an import.
const IMPORT_CHUNK: usize = 500;
/// MongoDB's duplicate key error.
const DUPLICATE_KEY: i32 = 11000;

pub struct MongodbStorage {
    client: Client,
    db: Database,
    prefix: String,
    /// Held by every write. `true` while the journal may hold a batch not yet applied in full.
    writer: tokio::sync::Mutex<bool>,
    closed: AtomicBool,
}

/// What a batch leaves for one document: its new text, or deleted.
type FinalState = (EntityKind, String, Option<String>);

fn backend(e: mongodb::error::Error) -> StorageError {
    StorageError::Backend(format!("mongodb: {e}"))
}

fn is_duplicate_key(e: &mongodb::error::Error) -> bool {
    matches!(&*e.kind, ErrorKind::Write(WriteFailure::WriteError(w)) if w.code == DUPLICATE_KEY)
}

fn stored(id: &str, json: &str, doc: &Value) -> Document {
    let shadow = shadow::of(doc);
    doc! {
        "_id": id,
        "json": json,
        pushdown::PATHS: shadow.paths,
        pushdown::VALUES: shadow.values,
        pushdown::AMBIGUOUS: shadow.ambiguous,
    }
}

fn parse_stored(d: &Document) -> Result<Value, StorageError> {
    let text = d.get_str("json").map_err(|e| {
        StorageError::Backend(format!(
            "mongodb returned a document without its `json`: {e}"
        ))
    })?;
    serde_json::from_str(text).map_err(|e| {
        StorageError::Backend(format!("mongodb returned a document that is not JSON: {e}"))
    })
}

impl MongodbStorage {
    /// Connects (waiting up to `connect_timeout` for the server), creates the indexes, and
    /// completes a batch a previous run left in the journal.
    pub async fn open(config: &MongodbConfig) -> Result<Self, StorageError> {
        check_identifier("database", &config.database, false)?;
        check_identifier("collection_prefix", &config.collection_prefix, true)?;
        let timeout = parse_duration("connect_timeout", &config.connect_timeout)?;
        let mut options = ClientOptions::parse(&config.url)
            .await
            .map_err(|e| StorageError::Backend(format!("storage url: {e}")))?;
        options.connect_timeout = Some(timeout);
        // How long a call waits for a reachable server (a restart, a failover) before failing.
        options.server_selection_timeout = Some(timeout);
        options.app_name.get_or_insert_with(|| "switchyard".into());
        let client = Client::with_options(options).map_err(backend)?;
        let storage = MongodbStorage {
            db: client.database(&config.database),
            client,
            prefix: config.collection_prefix.clone(),
            writer: tokio::sync::Mutex::new(true),
            closed: AtomicBool::new(false),
        };
        storage
            .db
            .run_command(doc! { "ping": 1 })
            .await
            .map_err(backend)?;
        for kind in EntityKind::ALL {
            let coll = storage.collection(kind);
            for key in [pushdown::PATHS, pushdown::VALUES, pushdown::AMBIGUOUS] {
                let index = IndexModel::builder().keys(doc! { key: 1 }).build();
                coll.create_index(index).await.map_err(backend)?;
            }
        }
        let mut pending = storage.writer.lock().await;
        storage.finish_journal(&mut pending).await?;
        drop(pending);
        Ok(storage)
    }

    fn collection(&self, kind: EntityKind) -> Collection<Document> {
        self.db
            .collection(&format!("{}{}", self.prefix, kind.as_str()))
    }

    fn journal(&self) -> Collection<Document> {
        self.db.collection(&format!("{}journal", self.prefix))
    }

    fn check_open(&self) -> Result<(), StorageError> {
        if self.closed.load(Ordering::Acquire) {
            Err(StorageError::Closed)
        } else {
            Ok(())
        }
    }

    /// Applies every batch left in the journal (oldest first), then removes it. Applying a final
    /// state twice is harmless, so an entry is removed only after all its writes returned.
    async fn finish_journal(&self, pending: &mut bool) -> Result<(), StorageError> {
        if !*pending {
            return Ok(());
        }
        let entries: Vec<Document> = self
            .journal()
            .find(doc! {})
            .sort(doc! { "_id": 1 })
            .await
            .map_err(backend)?
            .try_collect()
            .await
            .map_err(backend)?;
        for entry in entries {
            let states = journal_states(&entry)?;
            if !states.is_empty() {
                tracing::info!(
                    documents = states.len(),
                    "mongodb storage: completing a batch from the journal"
                );
            }
            self.write_states(&states).await?;
            self.journal()
                .delete_one(doc! { "_id": entry.get("_id").cloned().unwrap_or(Bson::Null) })
                .await
                .map_err(backend)?;
        }
        *pending = false;
        Ok(())
    }

    async fn write_states(&self, states: &[FinalState]) -> Result<(), StorageError> {
        for (kind, id, json) in states {
            let coll = self.collection(*kind);
            match json {
                Some(json) => {
                    let doc: Value = serde_json::from_str(json).map_err(|e| {
                        StorageError::Backend(format!(
                            "journal holds a document that is not JSON: {e}"
                        ))
                    })?;
                    coll.replace_one(doc! { "_id": id.as_str() }, stored(id, json, &doc))
                        .upsert(true)
                        .await
                        .map_err(backend)?;
                }
                None => {
                    coll.delete_one(doc! { "_id": id.as_str() })
                        .await
                        .map_err(backend)?;
                }
            }
        }
        Ok(())
    }

    async fn exists(&self, kind: EntityKind, id: &str) -> Result<bool, StorageError> {
        let found = self
            .collection(kind)
            .find_one(doc! { "_id": id })
            .projection(doc! { "_id": 1 })
            .await
            .map_err(backend)?;
        Ok(found.is_some())
    }

    /// One op alone is one document write, atomic in MongoDB itself.
    async fn apply_one(&self, op: &WriteOp) -> Result<(), StorageError> {
        let kind = op.kind();
        let coll = self.collection(kind);
        let id = op.id()?;
        match op {
            WriteOp::Insert(_, doc) => {
                match coll.insert_one(stored(id, &doc.to_string(), doc)).await {
                    Err(e) if is_duplicate_key(&e) => Err(StorageError::AlreadyExists {
                        kind,
                        id: id.to_string(),
                    }),
                    other => other.map(drop).map_err(backend),
                }
            }
            WriteOp::Upsert(_, doc) => coll
                .replace_one(doc! { "_id": id }, stored(id, &doc.to_string(), doc))
                .upsert(true)
                .await
                .map(drop)
                .map_err(backend),
            WriteOp::Update(_, doc) => {
                let result = coll
                    .replace_one(doc! { "_id": id }, stored(id, &doc.to_string(), doc))
                    .await
                    .map_err(backend)?;
                if result.matched_count == 0 {
                    return Err(StorageError::NotFound {
                        kind,
                        id: id.to_string(),
                    });
                }
                Ok(())
            }
            WriteOp::Delete(..) => coll
                .delete_one(doc! { "_id": id })
                .await
                .map(drop)
                .map_err(backend),
        }
    }

    /// The final state of every document a batch touches, in first-touched order, after checking
    /// each op's precondition against the state before it (earlier ops of the batch included).
    async fn resolve(&self, ops: &[WriteOp]) -> Result<Vec<FinalState>, StorageError> {
        let mut order: Vec<(EntityKind, String)> = Vec::new();
        let mut state: HashMap<(EntityKind, String), Option<String>> = HashMap::new();
        for op in ops {
            let key = (op.kind(), op.id()?.to_string());
            let present = match state.get(&key) {
                Some(s) => s.is_some(),
                None => {
                    let present = self.exists(key.0, &key.1).await?;
                    order.push(key.clone());
                    present
                }
            };
            let new = match op {
                WriteOp::Insert(kind, _) if present => {
                    return Err(StorageError::AlreadyExists {
                        kind: *kind,
                        id: key.1,
                    });
                }
                WriteOp::Update(kind, _) if !present => {
                    return Err(StorageError::NotFound {
                        kind: *kind,
                        id: key.1,
                    });
                }
                WriteOp::Insert(_, doc) | WriteOp::Upsert(_, doc) | WriteOp::Update(_, doc) => {
                    Some(doc.to_string())
                }
                WriteOp::Delete(..) => None,
            };
            state.insert(key, new);
        }
        Ok(order
            .into_iter()
            .map(|key| {
                let json = state.remove(&key).flatten();
                (key.0, key.1, json)
            })
            .collect())
    }

    async fn apply_batch(&self, ops: &[WriteOp], pending: &mut bool) -> Result<(), StorageError> {
        let states = self.resolve(ops).await?;
        let entry_id = ObjectId::new();
        let writes: Vec<Document> = states
            .iter()
            .map(|(kind, id, json)| {
                doc! {
                    "kind": kind.as_str(),
                    "id": id.as_str(),
                    "json": json.as_deref().map_or(Bson::Null, Bson::from),
                }
            })
            .collect();
        self.journal()
            .insert_one(doc! { "_id": entry_id, "writes": writes })
            .await
            .map_err(backend)?;
        // From here the batch is decided: whatever fails now is completed from the journal.
        *pending = true;
        self.write_states(&states).await.map_err(|e| {
            StorageError::Backend(format!(
                "{e} (the batch is journaled and will be completed before the next write)"
            ))
        })?;
        self.journal()
            .delete_one(doc! { "_id": entry_id })
            .await
            .map_err(backend)?;
        *pending = false;
        Ok(())
    }

    async fn any_ambiguous(&self, coll: &Collection<Document>) -> Result<bool, StorageError> {
        let found = coll
            .find_one(doc! { pushdown::AMBIGUOUS: true })
            .projection(doc! { "_id": 1 })
            .await
            .map_err(backend)?;
        Ok(found.is_some())
    }

    async fn fetch(
        &self,
        coll: &Collection<Document>,
        filter: Document,
        offset: u64,
        limit: Option<u64>,
    ) -> Result<Vec<Value>, StorageError> {
        let mut find = coll
            .find(filter)
            .projection(doc! { "json": 1 })
            // Id order, as the other backends hold them, so ties sort the same everywhere.
            .sort(doc! { "_id": 1 });
        if offset > 0 {
            find = find.skip(offset);
        }
        if let Some(limit) = limit {
            find = find.limit(i64::try_from(limit).unwrap_or(i64::MAX));
        }
        let docs: Vec<Document> = find
            .await
            .map_err(backend)?
            .try_collect()
            .await
            .map_err(backend)?;
        docs.iter().map(parse_stored).collect()
    }

    async fn find_in(
        &self,
        kind: EntityKind,
        query: &Query,
        compiled: &CompiledQuery,
    ) -> Result<Page<Value>, StorageError> {
        let coll = self.collection(kind);
        let plan = pushdown::plan(&query.filters);
        if plan.exact && query.sort_by.is_empty() && !self.any_ambiguous(&coll).await? {
            // MongoDB answers alone: the count and one page.
            let filter = plan.all_conditions();
            let count = coll
                .count_documents(filter.clone())
                .await
                .map_err(backend)?;
            let data = if query.limit == Some(0) {
                // MongoDB reads a limit of 0 as "no limit".
                Vec::new()
            } else {
                self.fetch(&coll, filter, query.offset, query.limit).await?
            };
            return Ok(Page {
                count,
                limit: query.limit.map(|l| l as i64).unwrap_or(-1),
                offset: query.offset,
                data,
            });
        }
        // Candidates from the pushed-down filters; core filters, sorts and pages the rest.
        let docs = self.fetch(&coll, plan.candidates(), 0, None).await?;
        Ok(compiled.apply(docs.into_iter(), |d| d))
    }

    async fn replace_all(
        &self,
        rows: Vec<(EntityKind, Vec<Document>)>,
    ) -> Result<(), StorageError> {
        let mut pending = self.writer.lock().await;
        self.check_open()?;
        for kind in EntityKind::ALL {
            self.collection(kind)
                .delete_many(doc! {})
                .await
                .map_err(backend)?;
        }
        // Whatever the journal held is replaced as well.
        self.journal().delete_many(doc! {}).await.map_err(backend)?;
        *pending = false;
        for (kind, docs) in rows {
            let coll = self.collection(kind);
            for chunk in docs.chunks(IMPORT_CHUNK) {
                coll.insert_many(chunk.to_vec()).await.map_err(backend)?;
            }
        }
        Ok(())
    }
}

fn journal_states(entry: &Document) -> Result<Vec<FinalState>, StorageError> {
    let bad = |why: &str| StorageError::Backend(format!("mongodb journal entry is damaged: {why}"));
    let writes = entry.get_array("writes").map_err(|_| bad("no `writes`"))?;
    writes
        .iter()
        .map(|w| {
            let w = w
                .as_document()
                .ok_or_else(|| bad("a write is not a document"))?;
            let kind = w
                .get_str("kind")
                .ok()
                .and_then(|k| k.parse::<EntityKind>().ok())
                .ok_or_else(|| bad("unknown kind"))?;
            let id = w.get_str("id").map_err(|_| bad("no id"))?.to_string();
            let json = match w.get("json") {
                Some(Bson::String(s)) => Some(s.clone()),
                Some(Bson::Null) | None => None,
                Some(_) => return Err(bad("`json` is neither text nor null")),
            };
            Ok((kind, id, json))
        })
        .collect()
}

#[async_trait]
impl Storage for MongodbStorage {
    fn name(&self) -> &'static str {
        "mongodb"
    }

    async fn apply(&self, ops: Vec<WriteOp>) -> Result<(), StorageError> {
        self.check_open()?;
        // Refuse a bad document before writing anything.
        for op in &ops {
            op.id()?;
        }
        if ops.is_empty() {
            return Ok(());
        }
        let mut pending = self.writer.lock().await;
        self.check_open()?;
        self.finish_journal(&mut pending).await?;
        match ops.as_slice() {
            [op] => self.apply_one(op).await,
            _ => self.apply_batch(&ops, &mut pending).await,
        }
    }

    async fn get(&self, kind: EntityKind, id: &str) -> Result<Option<Value>, StorageError> {
        self.check_open()?;
        let found = self
            .collection(kind)
            .find_one(doc! { "_id": id })
            .projection(doc! { "json": 1 })
            .await
            .map_err(backend)?;
        found.as_ref().map(parse_stored).transpose()
    }

    async fn find(&self, kind: EntityKind, query: &Query) -> Result<Page<Value>, StorageError> {
        self.check_open()?;
        let compiled = query.compile()?;
        self.find_in(kind, query, &compiled).await
    }

    async fn clear(&self) -> Result<(), StorageError> {
        self.check_open()?;
        self.replace_all(Vec::new()).await
    }

    async fn export(&self) -> Result<Snapshot, StorageError> {
        self.check_open()?;
        // No batch of this process is half applied while the collections are read.
        let mut pending = self.writer.lock().await;
        self.check_open()?;
        self.finish_journal(&mut pending).await?;
        let mut snapshot = Snapshot::new();
        for kind in EntityKind::ALL {
            let docs = self.fetch(&self.collection(kind), doc! {}, 0, None).await?;
            if !docs.is_empty() {
                snapshot.insert(kind, docs);
            }
        }
        Ok(snapshot)
    }

    async fn import(&self, snapshot: Snapshot) -> Result<(), StorageError> {
        self.check_open()?;
        // Validate everything before touching the collections: a bad snapshot changes nothing.
        let mut rows = Vec::with_capacity(snapshot.len());
        for (kind, docs) in snapshot {
            let mut seen = HashSet::new();
            let mut kind_rows = Vec::with_capacity(docs.len());
            for doc in docs {
                let id = document_id(&doc)?;
                if !seen.insert(id.to_string()) {
                    return Err(StorageError::InvalidDocument(format!(
                        "{kind} `{id}` appears more than once"
                    )));
                }
                kind_rows.push(stored(id, &doc.to_string(), &doc));
            }
            rows.push((kind, kind_rows));
        }
        self.replace_all(rows).await
    }

    async fn flush(&self) -> Result<(), StorageError> {
        // Every acknowledged write was acknowledged by the server.
        self.check_open()
    }

    async fn close(&self) -> Result<(), StorageError> {
        if !self.closed.swap(true, Ordering::AcqRel) {
            // Waits for a write in progress, then closes the connections.
            let _writer = self.writer.lock().await;
            self.client.clone().shutdown().immediate(true).await;
        }
        Ok(())
    }
}
