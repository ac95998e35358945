//! The layout of `switchyard.redb`: one table per entity kind, named by [`EntityKind::as_str`],
//! mapping the id to the document's JSON bytes. JSON (not a binary encoding) so the file stays
//! readable with any redb tool and survives changes to the Rust types.

use crate::table::{Changes, Tables};
use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition, TableError};
use std::fmt::Display;
use std::path::Path;
use switchyard_core::EntityKind;
use switchyard_core::storage::{StorageError, document_id};

/// The database file inside the storage directory.
pub const FILE_NAME: &str = "switchyard.redb";

pub(crate) fn definition(
    kind: EntityKind,
) -> TableDefinition<'static, &'static str, &'static [u8]> {
    TableDefinition::new(kind.as_str())
}

/// Opens (or creates) the database and reads every document into memory.
pub(crate) fn open(path: &Path) -> Result<(Database, Tables), StorageError> {
    let failed = |e: &dyn Display| StorageError::Backend(format!("{}: {e}", path.display()));
    let db = Database::create(path).map_err(|e| failed(&e))?;
    let txn = db.begin_read().map_err(|e| failed(&e))?;
    let mut tables = Tables::default();
    for kind in EntityKind::ALL {
        let table = match txn.open_table(definition(kind)) {
            Ok(table) => table,
            Err(TableError::TableDoesNotExist(_)) => continue,
            Err(e) => return Err(failed(&e)),
        };
        let mut docs = Vec::new();
        for entry in table.iter().map_err(|e| failed(&e))? {
            let (key, value) = entry.map_err(|e| failed(&e))?;
            let corrupt = |reason: &dyn Display| {
                failed(&format!("table `{kind}`, id `{}`: {reason}", key.value()))
            };
            let doc: serde_json::Value =
                serde_json::from_slice(value.value()).map_err(|e| corrupt(&e))?;
            if document_id(&doc).ok() != Some(key.value()) {
                return Err(corrupt(&"the document's `id` differs from its key"));
            }
            docs.push(doc);
        }
        tables.load(kind, docs).map_err(|e| failed(&e))?;
    }
    Ok((db, tables))
}

/// Opens the database again (after a failed write) without reading it: the caller's tables
/// already hold what is committed.
pub(crate) fn reopen(path: &Path) -> Result<Database, StorageError> {
    Database::create(path)
        .map_err(|e| StorageError::Backend(format!("reopening {}: {e}", path.display())))
}

/// Writes `changes` in one transaction that is on disk when this returns.
pub(crate) fn write(db: &Database, changes: &Changes) -> Result<(), StorageError> {
    let mut txn = db.begin_write().map_err(failed)?;
    txn.set_durability(Durability::Immediate).map_err(failed)?;
    for kind in changes.kinds() {
        let mut table = txn.open_table(definition(kind)).map_err(failed)?;
        for (id, doc) in changes.of_kind(kind) {
            match doc {
                Some(doc) => {
                    let bytes = serde_json::to_vec(doc).map_err(failed)?;
                    table.insert(id, bytes.as_slice()).map_err(failed)?;
                }
                None => {
                    table.remove(id).map_err(failed)?;
                }
            }
        }
    }
    txn.commit().map_err(failed)
}

/// Replaces the whole content with `tables` in one durable transaction.
pub(crate) fn replace(db: &Database, tables: &Tables) -> Result<(), StorageError> {
    let mut txn = db.begin_write().map_err(failed)?;
    txn.set_durability(Durability::Immediate).map_err(failed)?;
    for kind in EntityKind::ALL {
        txn.delete_table(definition(kind)).map_err(failed)?;
        let docs = tables.documents(kind);
        if docs.is_empty() {
            continue;
        }
        let mut table = txn.open_table(definition(kind)).map_err(failed)?;
        for doc in docs {
            let id = document_id(&doc)?;
            let bytes = serde_json::to_vec(&*doc).map_err(failed)?;
            table.insert(id, bytes.as_slice()).map_err(failed)?;
        }
    }
    txn.commit().map_err(failed)
}

fn failed(e: impl Display) -> StorageError {
    StorageError::Backend(format!("writing {FILE_NAME}: {e}"))
}
