//! The layout of `switchyard.redb`: one table per entity kind, named by [`EntityKind::as_str`],
//! mapping the id to the document's JSON bytes. JSON (not a binary encoding) so the file stays
//! readable with any redb tool and survives changes to the Rust types. Beside them,
//! `switchyard.irregular` lists the (kind, id) of irregular documents (see [`super::query`]) and
//! `switchyard.meta` the layout version.

use super::query::{self, Irregular};
use crate::table::{Changes, Tables};
use redb::{
    Builder, Database, Durability, ReadableDatabase, ReadableTable, TableDefinition, TableError,
};
use std::fmt::Display;
use std::path::Path;
use switchyard_core::EntityKind;
use switchyard_core::storage::{StorageError, document_id};

/// The database file inside the storage directory.
pub const FILE_NAME: &str = "switchyard.redb";

/// redb's own cache of file pages. Reads it misses come from the operating system's page cache;
/// the parsed documents that matter are in [`super::cache`].
const PAGE_CACHE: usize = 4 << 20;

const IRREGULAR: TableDefinition<'static, (&'static str, &'static str), ()> =
    TableDefinition::new("switchyard.irregular");
const META: TableDefinition<'static, &'static str, u64> = TableDefinition::new("switchyard.meta");
/// Version 2: the irregular table is complete. Files without it (written before) are scanned
/// once at open.
const LAYOUT: u64 = 2;

pub(crate) fn definition(
    kind: EntityKind,
) -> TableDefinition<'static, &'static str, &'static [u8]> {
    TableDefinition::new(kind.as_str())
}

fn open_failed(path: &Path, e: &dyn Display) -> StorageError {
    StorageError::Backend(format!("{}: {e}", path.display()))
}

/// Opens (or creates) the database and reads the irregular ids; documents stay in the file.
pub(crate) fn open(path: &Path) -> Result<(Database, Irregular), StorageError> {
    let failed = |e: &dyn Display| open_failed(path, e);
    let db = Builder::new()
        .set_cache_size(PAGE_CACHE)
        .create(path)
        .map_err(|e| failed(&e))?;
    let txn = db.begin_read().map_err(|e| failed(&e))?;
    let layout = match txn.open_table(META) {
        Ok(meta) => meta
            .get("layout")
            .map_err(|e| failed(&e))?
            .map(|v| v.value()),
        Err(TableError::TableDoesNotExist(_)) => None,
        Err(e) => return Err(failed(&e)),
    };
    let irregular = match layout {
        Some(LAYOUT) => {
            let mut irregular = Irregular::default();
            match txn.open_table(IRREGULAR) {
                Ok(table) => {
                    for entry in table.iter().map_err(|e| failed(&e))? {
                        let (key, _) = entry.map_err(|e| failed(&e))?;
                        let (kind, id) = key.value();
                        let kind = kind.parse::<EntityKind>().map_err(|e| failed(&e))?;
                        irregular.insert(kind, id);
                    }
                }
                Err(TableError::TableDoesNotExist(_)) => {}
                Err(e) => return Err(failed(&e)),
            }
            irregular
        }
        Some(other) => {
            return Err(failed(&format!(
                "layout version {other} is newer than this switchyard knows ({LAYOUT})"
            )));
        }
        None => {
            let irregular = scan(&txn, path)?;
            drop(txn);
            upgrade(&db, &irregular).map_err(|e| failed(&e))?;
            tracing::info!(path = %path.display(), "storage file upgraded (irregular ids indexed)");
            irregular
        }
    };
    Ok((db, irregular))
}

/// Reads every document once (a file from before layout 2): checks it and finds the irregular.
fn scan(txn: &redb::ReadTransaction, path: &Path) -> Result<Irregular, StorageError> {
    let failed = |e: &dyn Display| open_failed(path, e);
    let mut irregular = Irregular::default();
    for kind in EntityKind::ALL {
        let Some(table) = query::open_table(txn, kind)? else {
            continue;
        };
        for entry in table.iter().map_err(|e| failed(&e))? {
            let (key, value) = entry.map_err(|e| failed(&e))?;
            let id = key.value();
            let doc = query::parse(kind, id, value.value())?;
            if document_id(&doc).ok() != Some(id) {
                return Err(failed(&format!(
                    "table `{kind}`, id `{id}`: the document's `id` differs from its key"
                )));
            }
            if !query::is_regular(kind, id, &doc) {
                irregular.insert(kind, id);
            }
        }
    }
    Ok(irregular)
}

fn upgrade(db: &Database, irregular: &Irregular) -> Result<(), StorageError> {
    let mut txn = db.begin_write().map_err(failed)?;
    txn.set_durability(Durability::Immediate).map_err(failed)?;
    {
        let mut table = txn.open_table(IRREGULAR).map_err(failed)?;
        for (kind, id) in irregular.iter() {
            table.insert((kind.as_str(), id), ()).map_err(failed)?;
        }
        let mut meta = txn.open_table(META).map_err(failed)?;
        meta.insert("layout", LAYOUT).map_err(failed)?;
    }
    txn.commit().map_err(failed)
}

/// Opens the database again (after a failed write) without reading it: what is committed did
/// not change, and the in-memory irregular ids still cover it.
pub(crate) fn reopen(path: &Path) -> Result<Database, StorageError> {
    Builder::new()
        .set_cache_size(PAGE_CACHE)
        .create(path)
        .map_err(|e| StorageError::Backend(format!("reopening {}: {e}", path.display())))
}

/// Writes `changes`, and the irregular ids that `added` and `removed` change, in one transaction
/// that is on disk when this returns. Returns each written document's encoded size, in
/// `changes.iter()` order (0 for a delete).
pub(crate) fn write(
    db: &Database,
    changes: &Changes,
    added: &[(EntityKind, String)],
    removed: &[(EntityKind, String)],
) -> Result<Vec<usize>, StorageError> {
    let mut sizes = Vec::new();
    let mut txn = db.begin_write().map_err(failed)?;
    txn.set_durability(Durability::Immediate).map_err(failed)?;
    for kind in changes.kinds() {
        let mut table = txn.open_table(definition(kind)).map_err(failed)?;
        for (id, doc) in changes.of_kind(kind) {
            match doc {
                Some(doc) => {
                    let bytes = serde_json::to_vec(doc).map_err(failed)?;
                    table.insert(id, bytes.as_slice()).map_err(failed)?;
                    sizes.push(bytes.len());
                }
                None => {
                    table.remove(id).map_err(failed)?;
                    sizes.push(0);
                }
            }
        }
    }
    if !added.is_empty() || !removed.is_empty() {
        let mut table = txn.open_table(IRREGULAR).map_err(failed)?;
        for (kind, id) in added {
            table
                .insert((kind.as_str(), id.as_str()), ())
                .map_err(failed)?;
        }
        for (kind, id) in removed {
            table.remove((kind.as_str(), id.as_str())).map_err(failed)?;
        }
    }
    txn.commit().map_err(failed)?;
    Ok(sizes)
}

/// Replaces the whole content with `tables` (whose irregular ids are `irregular`) in one
/// durable transaction.
pub(crate) fn replace(
    db: &Database,
    tables: &Tables,
    irregular: &Irregular,
) -> Result<(), StorageError> {
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
    txn.delete_table(IRREGULAR).map_err(failed)?;
    {
        let mut table = txn.open_table(IRREGULAR).map_err(failed)?;
        for (kind, id) in irregular.iter() {
            table.insert((kind.as_str(), id), ()).map_err(failed)?;
        }
        let mut meta = txn.open_table(META).map_err(failed)?;
        meta.insert("layout", LAYOUT).map_err(failed)?;
    }
    txn.commit().map_err(failed)
}

/// The irregular ids of `tables`.
pub(crate) fn irregular_of(tables: &Tables) -> Irregular {
    let mut irregular = Irregular::default();
    for kind in EntityKind::ALL {
        if query::parts(kind) == 0 {
            continue;
        }
        for doc in tables.documents(kind) {
            if let Ok(id) = document_id(&doc)
                && !query::is_regular(kind, id, &doc)
            {
                irregular.insert(kind, id);
            }
        }
    }
    irregular
}

fn failed(e: impl Display) -> StorageError {
    StorageError::Backend(format!("writing {FILE_NAME}: {e}"))
}
